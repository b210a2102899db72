/* SPDX-License-Identifier: Apache-2.0 */
#include "sysctl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/macros.h"

enum ns {
        NS_UNKNOWN,
        NS_IPC,
        NS_NET
};

static bool startswith(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* upstream's SafeSysctlAllowlist() as of v1.30 */
static const char *const safe[] = {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
};

/* "net/ipv4/ip_forward" is "net.ipv4.ip_forward" (upstream's
 * convertSysctlVariableToDotsSeparator: '/' and '.' swap when the first
 * separator is a '/'). */
static void normalize(const char *in, char *out, size_t n) {
        size_t k = strcspn(in, "./");
        bool slashes = in[k] == '/';
        size_t i = 0;
        for (; in[i] && i + 1 < n; i++)
                out[i] = !slashes ? in[i] : in[i] == '/' ? '.' : in[i] == '.' ? '/' : in[i];
        out[i] = 0;
}

/* upstream's NamespacedBy (pkg/kubelet/sysctl/namespace.go) */
static enum ns namespaced_by(const char *s) {
        if (startswith(s, "kernel.shm") || startswith(s, "kernel.msg") || streq(s, "kernel.sem") ||
            startswith(s, "fs.mqueue."))
                return NS_IPC;
        if (startswith(s, "net."))
                return NS_NET;
        return NS_UNKNOWN;
}

int kl_sysctl_check_config(char *const *allowed_unsafe, struct kl_error *reterr) {
        for (size_t i = 0; allowed_unsafe && allowed_unsafe[i]; i++) {
                char name[256];
                normalize(allowed_unsafe[i], name, sizeof(name));
                size_t len = strlen(name);
                if (len > 0 && name[len - 1] == '*')
                        name[len - 1] = 0;
                if (namespaced_by(name) == NS_UNKNOWN)
                        return kl_error_set(reterr, EINVAL,
                                            "allowedUnsafeSysctls: '%s' is not known to be namespaced (only "
                                            "kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.* and net.* are)",
                                            allowed_unsafe[i]);
        }
        return 0;
}

static bool allowed(const char *name, char *const *allowed_unsafe) {
        for (size_t i = 0; i < ELEMENTSOF(safe); i++)
                if (streq(name, safe[i]))
                        return true;
        for (size_t i = 0; allowed_unsafe && allowed_unsafe[i]; i++) {
                char p[256];
                normalize(allowed_unsafe[i], p, sizeof(p));
                size_t len = strlen(p);
                if (len > 0 && p[len - 1] == '*' ? strncmp(name, p, len - 1) == 0 : streq(name, p))
                        return true;
        }
        return false;
}

bool kl_sysctl_admit(const struct kl_pod *pod, char *const *allowed_unsafe, char *ret_message, size_t n) {
        const struct kl_pod_security_context *sc = &pod->security_context;

        for (size_t i = 0; i < sc->n_sysctls; i++) {
                char name[256];
                normalize(sc->sysctls[i].key, name, sizeof(name));
                enum ns ns = namespaced_by(name);
                if (!allowed(name, allowed_unsafe) || ns == NS_UNKNOWN) {
                        snprintf(ret_message, n, "forbidden sysctl: \"%s\" not allowlisted", name);
                        return false;
                }
                if ((ns == NS_NET && pod->host_network) || (ns == NS_IPC && pod->host_ipc)) {
                        snprintf(ret_message, n, "forbidden sysctl: \"%s\" not allowed with host %s enabled", name,
                                 ns == NS_NET ? "net" : "ipc");
                        return false;
                }
        }
        return true;
}
