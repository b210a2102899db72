/* SPDX-License-Identifier: Apache-2.0 */
#include "manifests/names.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "lib/macros.h"

static bool lower_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool alnum(char c) {
        return lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* One DNS-1123 label of length n starting at s, of any length: upstream's
 * IsDNS1123Subdomain checks only the whole name's length (253), not each
 * label's, so a 100-character pod name without dots is valid. */
static bool label_ok(const char *s, size_t n) {
        if (n == 0)
                return false;
        if (!lower_alnum(s[0]) || !lower_alnum(s[n - 1]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!lower_alnum(s[i]) && s[i] != '-')
                        return false;
        return true;
}

const char *kl_check_dns1123_label(const char *s) {
        size_t n = strlen(s);
        if (n == 0)
                return "must not be empty";
        if (n > KL_DNS1123_LABEL_MAX)
                return "must be no more than 63 characters";
        if (!label_ok(s, n))
                return "a lowercase RFC 1123 label must consist of lower case alphanumeric "
                       "characters or '-', and must start and end with an alphanumeric character";
        return NULL;
}

const char *kl_check_dns1123_subdomain(const char *s) {
        size_t n = strlen(s);
        if (n == 0)
                return "must not be empty";
        if (n > KL_DNS1123_SUBDOMAIN_MAX)
                return "must be no more than 253 characters";
        for (const char *p = s;;) {
                const char *dot = strchr(p, '.');
                size_t k = dot ? (size_t) (dot - p) : strlen(p);
                if (!label_ok(p, k))
                        return "a lowercase RFC 1123 subdomain must consist of lower case "
                               "alphanumeric characters, '-' or '.', and must start and end with "
                               "an alphanumeric character";
                if (!dot)
                        break;
                p = dot + 1;
        }
        return NULL;
}

const char *kl_check_port_name(const char *s) {
        size_t n = strlen(s);
        bool letter = false;

        if (n == 0)
                return "must not be empty";
        if (n > 15)
                return "must be no more than 15 characters";
        for (size_t i = 0; i < n; i++) {
                if (!lower_alnum(s[i]) && s[i] != '-')
                        return "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)";
                if (s[i] >= 'a' && s[i] <= 'z')
                        letter = true;
        }
        if (strstr(s, "--"))
                return "must not contain consecutive hyphens";
        if (!letter)
                return "must contain at least one letter (a-z)";
        if (s[0] == '-' || s[n - 1] == '-')
                return "must not begin or end with a hyphen";
        return NULL;
}

static bool name_part_ok(const char *s, size_t n) {
        if (n == 0 || n > 63)
                return false;
        if (!alnum(s[0]) || !alnum(s[n - 1]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
                        return false;
        return true;
}

const char *kl_check_qualified_name(const char *s) {
        const char *slash = strchr(s, '/'), *name = s;

        if (slash) {
                char prefix[KL_DNS1123_SUBDOMAIN_MAX + 1];
                size_t k = (size_t) (slash - s);
                if (k == 0)
                        return "prefix part must not be empty";
                if (k > KL_DNS1123_SUBDOMAIN_MAX)
                        return "prefix part must be no more than 253 characters";
                memcpy(prefix, s, k);
                prefix[k] = '\0';
                if (kl_check_dns1123_subdomain(prefix))
                        return "prefix part must be a lowercase RFC 1123 subdomain";
                name = slash + 1;
        }
        if (strlen(name) > 63)
                return "name part must be no more than 63 characters";
        if (!name_part_ok(name, strlen(name)))
                return "name part must consist of alphanumeric characters, '-', '_' or '.', and "
                       "must start and end with an alphanumeric character";
        return NULL;
}

bool kl_is_extended_resource_name(const char *s) {
        char quota[KL_DNS1123_SUBDOMAIN_MAX + 80];

        if (!strchr(s, '/') || strstr(s, "kubernetes.io/") || strncmp(s, "requests.", 9) == 0)
                return false;
        if ((size_t) snprintf(quota, sizeof(quota), "requests.%s", s) >= sizeof(quota))
                return false;
        return kl_check_qualified_name(quota) == NULL;
}

const char *kl_check_label_value(const char *s) {
        size_t n = strlen(s);
        if (n == 0)
                return NULL;
        if (n > 63)
                return "must be no more than 63 characters";
        if (!name_part_ok(s, n))
                return "a valid label must be an empty string or consist of alphanumeric "
                       "characters, '-', '_' or '.', and must start and end with an alphanumeric "
                       "character";
        return NULL;
}

const char *kl_check_env_name(const char *s) {
        if (!*s)
                return "must not be empty";
        for (const char *p = s; *p; p++)
                if (*p < 32 || *p > 126 || *p == '=')
                        return "must consist only of printable ASCII characters other than '='";
        return NULL;
}

const char *kl_check_http_header_name(const char *s) {
        static const char tchar[] = "!#$%&'*+-.^_`|~";
        if (!*s)
                return "must not be empty";
        for (const char *p = s; *p; p++)
                if (!alnum(*p) && !strchr(tchar, *p))
                        return "must be a valid HTTP header name";
        return NULL;
}

const char *kl_check_sysctl_name(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n > 253)
                return "must be 1 to 253 characters";
        /* upstream: ([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])? */
        for (const char *p = s;;) {
                size_t k = strcspn(p, "./");
                if (k == 0 || !lower_alnum(p[0]) || !lower_alnum(p[k - 1]))
                        return "must be a valid sysctl name like 'net.ipv4.ip_forward'";
                for (size_t i = 0; i < k; i++)
                        if (!lower_alnum(p[i]) && p[i] != '-' && p[i] != '_')
                                return "must be a valid sysctl name like 'net.ipv4.ip_forward'";
                if (!p[k])
                        break;
                p += k + 1;
        }
        return NULL;
}

bool kl_capability_known(const char *s) {
        static const char *const caps[] = {
                "ALL",
                "AUDIT_CONTROL",
                "AUDIT_READ",
                "AUDIT_WRITE",
                "BLOCK_SUSPEND",
                "BPF",
                "CHECKPOINT_RESTORE",
                "CHOWN",
                "DAC_OVERRIDE",
                "DAC_READ_SEARCH",
                "FOWNER",
                "FSETID",
                "IPC_LOCK",
                "IPC_OWNER",
                "KILL",
                "LEASE",
                "LINUX_IMMUTABLE",
                "MAC_ADMIN",
                "MAC_OVERRIDE",
                "MKNOD",
                "NET_ADMIN",
                "NET_BIND_SERVICE",
                "NET_BROADCAST",
                "NET_RAW",
                "PERFMON",
                "SETFCAP",
                "SETGID",
                "SETPCAP",
                "SETUID",
                "SYSLOG",
                "SYS_ADMIN",
                "SYS_BOOT",
                "SYS_CHROOT",
                "SYS_MODULE",
                "SYS_NICE",
                "SYS_PACCT",
                "SYS_PTRACE",
                "SYS_RAWIO",
                "SYS_RESOURCE",
                "SYS_TIME",
                "SYS_TTY_CONFIG",
                "WAKE_ALARM",
        };
        for (size_t i = 0; i < ELEMENTSOF(caps); i++)
                if (streq(s, caps[i]))
                        return true;
        return false;
}

bool kl_is_ip_address(const char *s) {
        unsigned char buf[16];
        return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

bool kl_path_has_dotdot(const char *s) {
        for (const char *p = s;;) {
                size_t k = strcspn(p, "/");
                if (k == 2 && p[0] == '.' && p[1] == '.')
                        return true;
                if (!p[k])
                        return false;
                p += k + 1;
        }
}

bool kl_path_is_absolute_clean(const char *s) {
        return s[0] == '/' && !kl_path_has_dotdot(s);
}
