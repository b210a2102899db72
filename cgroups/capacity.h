/* SPDX-License-Identifier: Apache-2.0 */
/* Node capacity, the node-level resource configuration, and node allocatable.
 *
 *   allocatable = capacity - systemReserved - kubeReserved - hard eviction
 *                 threshold   (memory.available for memory, nodefs.available
 *                 for ephemeral-storage; never below 0)
 *   kubepods    = capacity - systemReserved - kubeReserved   (no eviction),
 *                 when enforceNodeAllocatable contains "pods"; else capacity.
 * as upstream kubelet (pkg/kubelet/cm/node_container_manager_linux.go). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpuset.h"
#include "lib/error.h"

/* Amounts reserved for the system or for kubelet-lite itself; 0 = none. */
struct kl_cg_reserved {
        int64_t cpu_milli;
        int64_t memory; /* bytes */
        int64_t pids;
        int64_t ephemeral_storage; /* bytes */
};

/* An eviction threshold "memory.available<100Mi" or "nodefs.available<10%". */
struct kl_cg_threshold {
        int64_t bytes; /* absolute amount; -1 when unset or a percentage */
        float percent; /* 0..100 when given as a percentage, -1 otherwise */
};

/* Filled by the daemon from KubeletConfiguration; kl_cg_node_config_init()
 * sets upstream's defaults. cgroup_root is borrowed (kl_cg_open copies it). */
struct kl_cg_node_config {
        const char *cgroup_root; /* cgroupRoot, default "/" */
        bool cgroups_per_qos;    /* cgroupsPerQOS, default true */
        struct kl_cg_reserved system_reserved, kube_reserved;
        struct kl_cg_threshold eviction_memory_available; /* default 100Mi */
        struct kl_cg_threshold eviction_nodefs_available; /* default 10% */
        bool enforce_pods;                                /* enforceNodeAllocatable has "pods" (default) */
        struct kl_cg_cpuset reserved_cpus;                /* reservedSystemCPUs, default empty */
        int64_t max_pods;                                 /* maxPods, default 110 */
        int64_t pod_pids_limit;                           /* podPidsLimit, -1 (default) = unlimited */
        int64_t cfs_period_us;                            /* cpuCFSQuotaPeriod, default 100000 (100ms) */
        bool cfs_quota;                                   /* cpuCFSQuota, default true */
};

void kl_cg_node_config_init(struct kl_cg_node_config *cfg);

struct kl_cg_capacity {
        struct kl_cg_cpuset cpus;  /* the CPUs pods may use */
        int64_t cpu_milli;         /* count(cpus) * 1000 */
        int64_t memory;            /* MemTotal, bytes */
        int64_t pids;              /* min(pid_max, threads-max) */
        int64_t ephemeral_storage; /* size of the filesystem holding nodefs, -1 unknown */
};

/* Where capacity comes from; any NULL path means the real default. Tests
 * point these at files in a temp dir. */
struct kl_cg_capacity_sources {
        const char *meminfo;     /* /proc/meminfo */
        const char *pid_max;     /* /proc/sys/kernel/pid_max */
        const char *threads_max; /* /proc/sys/kernel/threads-max */
        const char *cpu_online;  /* /sys/devices/system/cpu/online */
        const char *nodefs;      /* a path on the node filesystem (root-dir); NULL: unknown */
        bool no_affinity;        /* do not consult sched_getaffinity() */
};

struct kl_cg;

/* Read the node capacity. CPUs: cpuset.cpus.effective of cgroupRoot (or the
 * mount root) when cg is a cgroup v2 hierarchy, else sched_getaffinity(),
 * else the online CPU list. src may be NULL. */
int kl_cg_capacity_read(const struct kl_cg *cg, const struct kl_cg_capacity_sources *src, struct kl_cg_capacity *ret,
                        struct kl_error *reterr);

/* Bytes a threshold stands for against capacity (percentages as upstream:
 * a float32 fraction times capacity, truncated). 0 when unset. */
int64_t kl_cg_threshold_bytes(const struct kl_cg_threshold *t, int64_t capacity);

/* systemReserved + kubeReserved as upstream applies them: when
 * reservedSystemCPUs is set, it replaces both CPU reservations with
 * count(reservedSystemCPUs) * 1000 milliCPU. */
void kl_cg_effective_reserved(const struct kl_cg_node_config *cfg, struct kl_cg_reserved *ret);

struct kl_cg_allocatable {
        int64_t cpu_milli;
        int64_t memory;
        int64_t pods;              /* maxPods */
        int64_t ephemeral_storage; /* -1 when capacity is unknown */
};

/* Node allocatable for admission. Fails with -EINVAL and a message when the
 * reservations exceed the capacity (upstream refuses to start then). */
int kl_cg_node_allocatable(const struct kl_cg_node_config *cfg, const struct kl_cg_capacity *cap,
                           struct kl_cg_allocatable *ret, struct kl_error *reterr);

/* What the kubepods cgroup gets. */
struct kl_cg_kubepods_limits {
        int64_t cpu_milli; /* -> cpu.weight */
        int64_t memory;    /* -> memory.max */
        int64_t pids;      /* -> pids.max */
};

void kl_cg_kubepods_limits(const struct kl_cg_node_config *cfg, const struct kl_cg_capacity *cap,
                           struct kl_cg_kubepods_limits *ret);

/* Parsers for the capacity sources, exposed for tests and fuzzing. */
int kl_cg_parse_meminfo_total(const char *buf, size_t len, int64_t *ret_bytes);
