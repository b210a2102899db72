/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/macros.h"

static void threshold_unset(struct kl_config_threshold *t) {
        *t = (struct kl_config_threshold){.set = false, .quantity = -1};
}

static void resources_unset(struct kl_config_resources *r) {
        *r = (struct kl_config_resources){-1, -1, -1, -1};
}

void kl_config_init(struct kl_config *c) {
        *c = (struct kl_config){};
        c->static_pod_path = strdup(KL_DEFAULT_MANIFEST_DIR);
        c->file_check_frequency_usec = 20 * 1000000ULL;
        c->container_runtime_endpoint = strdup(KL_DEFAULT_ENDPOINT);
        c->runtime_request_timeout_usec = 2 * 60 * 1000000ULL;
        c->root_dir = strdup(KL_DEFAULT_ROOT_DIR);
        c->pod_logs_dir = strdup(KL_DEFAULT_POD_LOGS_DIR);
        c->healthz_bind_address = strdup("127.0.0.1");
        c->healthz_port = 10248;
        c->address = strdup("127.0.0.1");
        c->read_only_port = 0;
        c->syncloop_stuck_usec = 2 * 60 * 1000000ULL;
        c->cgroups_per_qos = true;
        c->cgroup_root = strdup("/");
        resources_unset(&c->system_reserved);
        resources_unset(&c->kube_reserved);
        /* upstream's evictionHard defaults (Linux): memory.available<100Mi,
         * nodefs.available<10%, nodefs.inodesFree<5% */
        threshold_unset(&c->eviction_hard.memory_available);
        threshold_unset(&c->eviction_hard.nodefs_available);
        threshold_unset(&c->eviction_hard.nodefs_inodes_free);
        threshold_unset(&c->eviction_hard.pid_available);
        c->eviction_hard.memory_available = (struct kl_config_threshold){true, 100 * 1024 * 1024, 0};
        c->eviction_hard.nodefs_available = (struct kl_config_threshold){true, -1, 10};
        c->eviction_hard.nodefs_inodes_free = (struct kl_config_threshold){true, -1, 5};
        threshold_unset(&c->eviction_soft.memory_available);
        threshold_unset(&c->eviction_soft.nodefs_available);
        threshold_unset(&c->eviction_soft.nodefs_inodes_free);
        threshold_unset(&c->eviction_soft.pid_available);
        c->eviction_pressure_transition_usec = 5 * 60 * 1000000ULL;
        c->enforce_node_allocatable_pods = true;
        c->max_pods = 110;
        c->pod_pids_limit = -1;
        c->cpu_cfs_quota_period_usec = 100000;
        c->cpu_manager_policy = strdup("none");
        c->crashloop_initial_usec = 10 * 1000000ULL;
        c->crashloop_max_usec = 300 * 1000000ULL;
        c->crashloop_reset_usec = 600 * 1000000ULL;
        c->container_log_max_size = 10 * 1024 * 1024;
        c->container_log_max_files = 5;
        c->image_pull_fallback_to_local = true;
        c->image_preload_dir = strdup("/var/lib/kubelet-lite/images");
}

void kl_config_done(struct kl_config *c) {
        free(c->config_path);
        free(c->static_pod_path);
        free(c->container_runtime_endpoint);
        free(c->root_dir);
        free(c->pod_logs_dir);
        free(c->hostname_override);
        free(c->node_name);
        free(c->healthz_bind_address);
        free(c->address);
        free(c->cgroup_root);
        free(c->reserved_system_cpus);
        free(c->cpu_manager_policy);
        free(c->image_preload_dir);
        *c = (struct kl_config){};
}

int kl_parse_duration(const char *s, uint64_t *ret_usec) {
        uint64_t total = 0;
        const char *p = s;

        if (!s || !*s)
                return -EINVAL;
        if (streq(s, "0")) {
                *ret_usec = 0;
                return 0;
        }
        while (*p) {
                char *end;
                errno = 0;
                double v = strtod(p, &end);
                if (errno || end == p || v < 0)
                        return -EINVAL;
                p = end;
                double mult;
                if (strncmp(p, "ns", 2) == 0)
                        mult = 0.001, p += 2;
                else if (strncmp(p, "us", 2) == 0 || strncmp(p, "µs", 3) == 0)
                        mult = 1, p += (*p == 'u' ? 2 : 3);
                else if (strncmp(p, "ms", 2) == 0)
                        mult = 1000, p += 2;
                else if (*p == 's')
                        mult = 1e6, p += 1;
                else if (*p == 'm')
                        mult = 60e6, p += 1;
                else if (*p == 'h')
                        mult = 3600e6, p += 1;
                else
                        return -EINVAL;
                double add = v * mult;
                if (add > 1e15)
                        return -ERANGE;
                total += (uint64_t) (add + 0.5);
        }
        *ret_usec = total;
        return 0;
}

int kl_config_finalize(struct kl_config *c, struct kl_error *reterr) {
        char host[256];
        const char *n = c->hostname_override;

        if (!n || !*n) {
                if (gethostname(host, sizeof(host) - 1) < 0)
                        return kl_error_set(reterr, errno, "gethostname: %m");
                host[sizeof(host) - 1] = '\0';
                n = host;
        }
        free(c->node_name);
        c->node_name = strdup(n);
        if (!c->node_name)
                return kl_error_set(reterr, ENOMEM, "out of memory");
        for (char *p = c->node_name; *p; p++)
                *p = (char) tolower((unsigned char) *p);
        if (c->healthz_port < 0 || c->healthz_port > 65535)
                return kl_error_set(reterr, EINVAL, "healthzPort %d out of range", c->healthz_port);
        if (c->read_only_port < 0 || c->read_only_port > 65535)
                return kl_error_set(reterr, EINVAL, "readOnlyPort %d out of range", c->read_only_port);
        if (!streq(c->cpu_manager_policy, "none") && !streq(c->cpu_manager_policy, "static"))
                return kl_error_set(reterr, EINVAL, "cpuManagerPolicy '%s' is not one of none, static",
                                    c->cpu_manager_policy);
        if (c->max_pods <= 0)
                return kl_error_set(reterr, EINVAL, "maxPods must be positive");
        return 0;
}
