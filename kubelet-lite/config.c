/* SPDX-License-Identifier: Apache-2.0 */
#include "kubelet-lite/config.h"

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
        c->container_log_links_dir = strdup(KL_DEFAULT_CONTAINER_LOG_LINKS_DIR);
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
        c->container_log_monitor_interval_usec = 10 * 1000000ULL;
        c->image_pull_fallback_to_local = true;
        c->image_preload_dir = strdup("/var/lib/kubelet-lite/images");
        /* upstream's SetDefaults_KubeletConfiguration */
        c->image_gc_high_threshold_percent = 85;
        c->image_gc_low_threshold_percent = 80;
        c->image_minimum_gc_age_usec = 2 * 60 * 1000000ULL;
        c->image_maximum_gc_age_usec = 0;
        c->api_facade_address = strdup("127.0.0.1");
        c->api_facade_port = 10250;
}

void kl_config_done(struct kl_config *c) {
        free(c->config_path);
        free(c->static_pod_path);
        free(c->container_runtime_endpoint);
        free(c->root_dir);
        free(c->pod_logs_dir);
        free(c->container_log_links_dir);
        free(c->hostname_override);
        free(c->node_name);
        free(c->healthz_bind_address);
        free(c->address);
        free(c->cgroup_root);
        free(c->reserved_system_cpus);
        free(c->cpu_manager_policy);
        free(c->image_preload_dir);
        for (char **p = c->manifest_suffixes; p && *p; p++)
                free(*p);
        free(c->manifest_suffixes);
        for (char **p = c->allowed_unsafe_sysctls; p && *p; p++)
                free(*p);
        free(c->allowed_unsafe_sysctls);
        free(c->api_facade_address);
        *c = (struct kl_config){};
}

/* Go's time.ParseDuration without the sign: one or more "<number><unit>",
 * number decimal with an optional fraction, unit ns, us, µs, μs, ms, s, m or h.
 * Computed in integer nanoseconds, as Go does, then rounded to microseconds. */
int kl_parse_duration(const char *s, uint64_t *ret_usec) {
        static const struct {
                const char *name;
                uint64_t nsec;
        } units[] = {
                {"ns", 1},
                {"us", 1000},
                {"\xc2\xb5s", 1000}, /* U+00B5 micro sign */
                {"\xce\xbcs", 1000}, /* U+03BC greek mu */
                {"ms", 1000000},
                {"s", UINT64_C(1000000000)},
                {"m", UINT64_C(60000000000)},
                {"h", UINT64_C(3600000000000)},
        };
        /* Go's limit: durations are int64 nanoseconds. */
        const uint64_t max_nsec = INT64_MAX;
        uint64_t total = 0;
        const char *p = s;

        if (!s || !*s)
                return -EINVAL;
        if (*p == '+')
                p++;
        if (streq(p, "0")) {
                *ret_usec = 0;
                return 0;
        }
        if (!*p)
                return -EINVAL;
        while (*p) {
                uint64_t whole = 0, frac = 0, scale = 1;
                bool digits = false;

                for (; *p >= '0' && *p <= '9'; p++, digits = true) {
                        if (whole > (max_nsec - (uint64_t) (*p - '0')) / 10)
                                return -ERANGE;
                        whole = whole * 10 + (uint64_t) (*p - '0');
                }
                if (*p == '.')
                        for (p++; *p >= '0' && *p <= '9'; p++, digits = true)
                                if (scale < UINT64_C(1000000000000000000)) { /* further digits cannot matter */
                                        frac = frac * 10 + (uint64_t) (*p - '0');
                                        scale *= 10;
                                }
                if (!digits)
                        return -EINVAL;
                size_t u = 0, ulen = 0;
                for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                        size_t l = strlen(units[i].name);
                        /* longest match: "ms" before "m" */
                        if (strncmp(p, units[i].name, l) == 0 && l > ulen) {
                                u = i;
                                ulen = l;
                        }
                }
                if (ulen == 0)
                        return -EINVAL;
                p += ulen;
                uint64_t unit = units[u].nsec;
                if (whole > max_nsec / unit)
                        return -ERANGE;
                uint64_t v = whole * unit;
                /* frac/scale of a unit, in floating point as Go does (no 128-bit integers on armhf) */
                v += (uint64_t) ((double) frac * ((double) unit / (double) scale));
                if (v > max_nsec || total > max_nsec - v)
                        return -ERANGE;
                total += v;
        }
        *ret_usec = (total + 500) / 1000;
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
