/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the KubeletConfiguration reader (YAML tree, then our keys) and the
 * duration parser. Errors must name the file; a loaded config must satisfy
 * the ranges the reader enforces; warnings name the file too; nothing leaks. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kubelet-lite/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_threshold(const struct kl_config_threshold *t) {
        if (!t->set)
                return;
        if (t->quantity < -1)
                abort();
        if (t->quantity == -1 && !(t->percent >= 0 && t->percent <= 100))
                abort();
}

static void check_duration(const uint8_t *data, size_t size) {
        char s[64], s2[70];
        uint64_t a, b;

        if (size >= sizeof(s) || memchr(data, '\0', size))
                return;
        memcpy(s, data, size);
        s[size] = '\0';
        int r = kl_parse_duration(s, &a);
        if (r < 0 && r != -EINVAL && r != -ERANGE)
                abort();
        if (r < 0)
                return;
        /* A zero term changes nothing. */
        snprintf(s2, sizeof(s2), "%s0s", s);
        if (s[0] != '+' && strcmp(s, "0") != 0) {
                if (kl_parse_duration(s2, &b) < 0 || b != a)
                        abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct kl_config c;
        struct kl_error err = {};
        char **warnings = NULL;

        check_duration(data, size);

        kl_config_init(&c);
        int r = kl_config_load_buffer(&c, "fuzz.yaml", (const char *) data, size, &warnings, &err);
        if (r < 0) {
                if (err.err != -r || strncmp(err.msg, "fuzz.yaml", 9) != 0)
                        abort();
        } else {
                if (c.healthz_port < 0 || c.healthz_port > 65535 || c.read_only_port < 0 || c.read_only_port > 65535)
                        abort();
                if (c.max_pods < 1 || c.container_log_max_files < 2 || c.container_log_max_size <= 0)
                        abort();
                if (c.pod_pids_limit < -1)
                        abort();
                if (!c.static_pod_path || !c.container_runtime_endpoint || !c.cpu_manager_policy)
                        abort();
                /* zero means the default: nothing may spin or time out at once */
                if (!c.static_pod_path[0] || !c.container_runtime_endpoint[0] || c.file_check_frequency_usec == 0 ||
                    c.runtime_request_timeout_usec == 0 || c.container_log_monitor_interval_usec < 1000000)
                        abort();
                for (char **p = c.manifest_suffixes; p && *p; p++)
                        if (!**p || strchr(*p, '/'))
                                abort();
                check_threshold(&c.eviction_hard.memory_available);
                check_threshold(&c.eviction_hard.nodefs_available);
                check_threshold(&c.eviction_hard.nodefs_inodes_free);
                check_threshold(&c.eviction_hard.pid_available);
                check_threshold(&c.eviction_soft.memory_available);
                check_threshold(&c.eviction_soft.nodefs_available);
                check_threshold(&c.eviction_soft.nodefs_inodes_free);
                check_threshold(&c.eviction_soft.pid_available);
                struct kl_error ferr = {};
                (void) kl_config_finalize(&c, &ferr);
        }
        for (char **w = warnings; w && *w; w++) {
                if (strncmp(*w, "fuzz.yaml:", 10) != 0)
                        abort();
                free(*w);
        }
        free(warnings);
        kl_config_done(&c);
        return 0;
}
