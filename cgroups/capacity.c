/* SPDX-License-Identifier: Apache-2.0 */
#include "capacity.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <string.h>
#include <sys/statvfs.h>

#include "cgroup.h"
#include "convert.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/macros.h"

#define SMALL_FILE_MAX (64 * 1024)
#define MEMINFO_MAX (256 * 1024)

void kl_cg_node_config_init(struct kl_cg_node_config *cfg) {
        *cfg = (struct kl_cg_node_config){
                .cgroup_root = "/",
                .cgroups_per_qos = true,
                .eviction_memory_available = {.bytes = 100 * 1024 * 1024, .percent = -1},
                .eviction_nodefs_available = {.bytes = -1, .percent = 10},
                .enforce_pods = true,
                .max_pods = 110,
                .pod_pids_limit = -1,
                .cfs_period_us = KL_CG_DEFAULT_CFS_PERIOD_US,
                .cfs_quota = true,
        };
        kl_cg_cpuset_zero(&cfg->reserved_cpus);
}

int kl_cg_parse_meminfo_total(const char *buf, size_t len, int64_t *ret_bytes) {
        static const char key[] = "MemTotal:";
        size_t i = 0;

        while (i < len) {
                const char *line = buf + i;
                const char *nl = memchr(line, '\n', len - i);
                size_t n = nl ? (size_t) (nl - line) : len - i;

                i += n + (nl ? 1 : 0);
                if (n < sizeof(key) - 1 || memcmp(line, key, sizeof(key) - 1) != 0)
                        continue;

                size_t j = sizeof(key) - 1;
                int64_t kb = 0;
                bool digits = false;

                while (j < n && line[j] == ' ')
                        j++;
                while (j < n && line[j] >= '0' && line[j] <= '9') {
                        if (kb > (INT64_MAX / 1024 - 9) / 10)
                                return -ERANGE;
                        kb = kb * 10 + (line[j] - '0');
                        digits = true;
                        j++;
                }
                while (j < n && line[j] == ' ')
                        j++;
                if (!digits || n - j != 2 || memcmp(line + j, "kB", 2) != 0)
                        return -EINVAL;
                *ret_bytes = kb * 1024;
                return 0;
        }
        return -ENOENT;
}

static int read_int_file(const char *path, int64_t *ret) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r;

        r = kl_read_file_at(AT_FDCWD, path, SMALL_FILE_MAX, 0, &buf, &len);
        if (r < 0)
                return r;
        r = kl_cg_parse_max(buf, len, ret);
        if (r < 0)
                return r;
        return *ret < 0 ? -EINVAL : 0; /* "max" is not a valid count here */
}

static int read_cpulist_file(int dirfd, const char *path, struct kl_cg_cpuset *ret) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r;

        r = kl_read_file_at(dirfd, path, SMALL_FILE_MAX, 0, &buf, &len);
        if (r < 0)
                return r;
        return kl_cg_cpuset_parse(buf, len, ret);
}

static int read_cpus(const struct kl_cg *cg, const struct kl_cg_capacity_sources *src, struct kl_cg_cpuset *ret,
                     struct kl_error *reterr) {
        const char *online = src->cpu_online ? src->cpu_online : "/sys/devices/system/cpu/online";
        int r;

        if (cg && cg->v2 && cg->mount_fd >= 0) {
                /* cgroupRoot may not exist yet: walk up to the mount root. */
                _cleanup_free_ char *p = kl_cg_path(cg, "");
                if (!p)
                        return kl_error_set(reterr, ENOMEM, "out of memory");
                for (;;) {
                        _cleanup_free_ char *f = NULL;
                        char *slash;

                        if (asprintf(&f, "%s%scpuset.cpus.effective", p, *p ? "/" : "") < 0)
                                return kl_error_set(reterr, ENOMEM, "out of memory");
                        r = read_cpulist_file(cg->mount_fd, f, ret);
                        if (r >= 0 && !kl_cg_cpuset_empty(ret)) {
                                log_debug("CPUs from %s/%s", cg->mount_path, f);
                                return 0;
                        }
                        if (!*p)
                                break;
                        slash = strrchr(p, '/');
                        if (slash)
                                *slash = '\0';
                        else
                                p[0] = '\0';
                }
        }
        if (!src->no_affinity) {
                cpu_set_t mask;
                if (sched_getaffinity(0, sizeof(mask), &mask) >= 0) {
                        kl_cg_cpuset_zero(ret);
                        for (unsigned c = 0; c < CPU_SETSIZE && c < KL_CG_CPUSET_MAX; c++)
                                if (CPU_ISSET(c, &mask))
                                        kl_cg_cpuset_add(ret, c);
                        if (!kl_cg_cpuset_empty(ret))
                                return 0;
                }
        }
        r = read_cpulist_file(AT_FDCWD, online, ret);
        if (r < 0)
                return kl_error_set(reterr, r, "read online CPUs from %s: %s", online, strerror(-r));
        if (kl_cg_cpuset_empty(ret))
                return kl_error_set(reterr, EINVAL, "no online CPUs in %s", online);
        return 0;
}

int kl_cg_capacity_read(const struct kl_cg *cg, const struct kl_cg_capacity_sources *src, struct kl_cg_capacity *ret,
                        struct kl_error *reterr) {
        static const struct kl_cg_capacity_sources defaults = {0};
        const char *meminfo, *pid_max, *threads_max;
        _cleanup_free_ char *buf = NULL;
        struct kl_cg_capacity cap = {.ephemeral_storage = -1};
        int64_t a, b;
        size_t len;
        int r;

        if (!src)
                src = &defaults;
        meminfo = src->meminfo ? src->meminfo : "/proc/meminfo";
        pid_max = src->pid_max ? src->pid_max : "/proc/sys/kernel/pid_max";
        threads_max = src->threads_max ? src->threads_max : "/proc/sys/kernel/threads-max";

        r = read_cpus(cg, src, &cap.cpus, reterr);
        if (r < 0)
                return r;
        cap.cpu_milli = (int64_t) kl_cg_cpuset_count(&cap.cpus) * KL_CG_MILLI_PER_CPU;

        r = kl_read_file_at(AT_FDCWD, meminfo, MEMINFO_MAX, 0, &buf, &len);
        if (r < 0)
                return kl_error_set(reterr, r, "read %s: %s", meminfo, strerror(-r));
        r = kl_cg_parse_meminfo_total(buf, len, &cap.memory);
        if (r < 0)
                return kl_error_set(reterr, r, "%s: no valid MemTotal line", meminfo);

        r = read_int_file(pid_max, &a);
        if (r < 0)
                return kl_error_set(reterr, r, "read %s: %s", pid_max, strerror(-r));
        r = read_int_file(threads_max, &b);
        if (r < 0)
                return kl_error_set(reterr, r, "read %s: %s", threads_max, strerror(-r));
        cap.pids = MIN(a, b);

        if (src->nodefs) {
                struct statvfs sv;
                if (statvfs(src->nodefs, &sv) < 0)
                        return kl_error_set(reterr, errno, "statvfs %s: %m", src->nodefs);
                cap.ephemeral_storage = (int64_t) ((uint64_t) sv.f_blocks * sv.f_frsize);
        }
        *ret = cap;
        return 0;
}

int64_t kl_cg_threshold_bytes(const struct kl_cg_threshold *t, int64_t capacity) {
        if (t->bytes >= 0)
                return t->bytes;
        if (t->percent > 0 && capacity > 0) {
                /* Upstream keeps the percentage as a float32 fraction. */
                float frac = t->percent / 100.0f;
                return (int64_t) ((double) capacity * (double) frac);
        }
        return 0;
}

void kl_cg_effective_reserved(const struct kl_cg_node_config *cfg, struct kl_cg_reserved *ret) {
        struct kl_cg_reserved r = {
                .cpu_milli = MAX(cfg->system_reserved.cpu_milli, 0) + MAX(cfg->kube_reserved.cpu_milli, 0),
                .memory = MAX(cfg->system_reserved.memory, 0) + MAX(cfg->kube_reserved.memory, 0),
                .pids = MAX(cfg->system_reserved.pids, 0) + MAX(cfg->kube_reserved.pids, 0),
                .ephemeral_storage =
                        MAX(cfg->system_reserved.ephemeral_storage, 0) + MAX(cfg->kube_reserved.ephemeral_storage, 0),
        };
        unsigned n = kl_cg_cpuset_count(&cfg->reserved_cpus);

        if (n > 0)
                r.cpu_milli = (int64_t) n * KL_CG_MILLI_PER_CPU;
        *ret = r;
}

static int64_t sub0(int64_t a, int64_t b) {
        return a > b ? a - b : 0;
}

int kl_cg_node_allocatable(const struct kl_cg_node_config *cfg, const struct kl_cg_capacity *cap,
                           struct kl_cg_allocatable *ret, struct kl_error *reterr) {
        struct kl_cg_reserved res;
        int64_t ev_mem, ev_fs = 0;

        kl_cg_effective_reserved(cfg, &res);
        ev_mem = kl_cg_threshold_bytes(&cfg->eviction_memory_available, cap->memory);
        if (cap->ephemeral_storage >= 0)
                ev_fs = kl_cg_threshold_bytes(&cfg->eviction_nodefs_available, cap->ephemeral_storage);

        if (res.cpu_milli > cap->cpu_milli)
                return kl_error_set(reterr, EINVAL,
                                    "invalid node allocatable configuration: %" PRId64
                                    "m CPU reserved but the capacity is %" PRId64 "m",
                                    res.cpu_milli, cap->cpu_milli);
        if (res.memory + ev_mem > cap->memory)
                return kl_error_set(reterr, EINVAL,
                                    "invalid node allocatable configuration: %" PRId64
                                    " bytes of memory reserved (reserved %" PRId64 " + eviction threshold %" PRId64
                                    ") but the capacity is %" PRId64,
                                    res.memory + ev_mem, res.memory, ev_mem, cap->memory);
        if (cap->ephemeral_storage >= 0 && res.ephemeral_storage + ev_fs > cap->ephemeral_storage)
                return kl_error_set(reterr, EINVAL,
                                    "invalid node allocatable configuration: %" PRId64
                                    " bytes of ephemeral-storage reserved but the capacity is %" PRId64,
                                    res.ephemeral_storage + ev_fs, cap->ephemeral_storage);
        if (cfg->max_pods < 0)
                return kl_error_set(reterr, EINVAL, "invalid maxPods %" PRId64, cfg->max_pods);

        *ret = (struct kl_cg_allocatable){
                .cpu_milli = sub0(cap->cpu_milli, res.cpu_milli),
                .memory = sub0(cap->memory, res.memory + ev_mem),
                .pods = cfg->max_pods,
                .ephemeral_storage =
                        cap->ephemeral_storage < 0 ? -1 : sub0(cap->ephemeral_storage, res.ephemeral_storage + ev_fs),
        };
        return 0;
}

void kl_cg_kubepods_limits(const struct kl_cg_node_config *cfg, const struct kl_cg_capacity *cap,
                           struct kl_cg_kubepods_limits *ret) {
        struct kl_cg_reserved res = {0};

        /* Upstream always writes the kubepods values (the default cpu weight
         * would starve pods); the reservations only apply when enforced. */
        if (cfg->enforce_pods)
                kl_cg_effective_reserved(cfg, &res);
        *ret = (struct kl_cg_kubepods_limits){
                .cpu_milli = sub0(cap->cpu_milli, res.cpu_milli),
                .memory = sub0(cap->memory, res.memory),
                .pids = sub0(cap->pids, res.pids),
        };
}
