/* SPDX-License-Identifier: Apache-2.0 */
/* Node-pressure eviction, after upstream kubelet's eviction manager
 * (pkg/kubelet/eviction): signals, hard and soft thresholds, the
 * MemoryPressure / DiskPressure / PIDPressure node conditions, ranking of the
 * pods to evict, and upstream's eviction and admission messages.
 *
 * The decision part (kl_eviction_observe, _rank, _admit, _message) is pure:
 * plain numbers in, decisions out, no I/O and no clock (the caller passes
 * CLOCK_MONOTONIC time). The I/O part reads the signals from /proc, cgroupfs
 * and statvfs (every path injectable), sums directory usage, and opens the
 * fast-path watchers (PSI trigger, inotify on cgroup v2 memory.events) whose
 * fds go into the daemon's epoll loop. docs/EVICTION.md has the details and
 * the calls the daemon makes, and when. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kubelet-lite/config.h"
#include "lib/macros.h"
#include "manifests/pod.h"

/* Indexed like the fields of struct kl_config_eviction and
 * kl_config.eviction_soft_grace_usec[]. */
enum kl_eviction_signal {
        KL_EVICTION_MEMORY_AVAILABLE,   /* "memory.available" */
        KL_EVICTION_NODEFS_AVAILABLE,   /* "nodefs.available" */
        KL_EVICTION_NODEFS_INODES_FREE, /* "nodefs.inodesFree" */
        KL_EVICTION_PID_AVAILABLE,      /* "pid.available" */
        _KL_EVICTION_SIGNAL_MAX,
};

enum kl_eviction_condition {
        KL_EVICTION_MEMORY_PRESSURE, /* "MemoryPressure": memory.available */
        KL_EVICTION_DISK_PRESSURE,   /* "DiskPressure": nodefs.* */
        KL_EVICTION_PID_PRESSURE,    /* "PIDPressure": pid.available */
        _KL_EVICTION_CONDITION_MAX,
};

/* The resource a signal starves, named as upstream names it in messages. */
enum kl_eviction_resource {
        KL_EVICTION_RESOURCE_MEMORY,            /* "memory" */
        KL_EVICTION_RESOURCE_EPHEMERAL_STORAGE, /* "ephemeral-storage" */
        KL_EVICTION_RESOURCE_INODES,            /* "inodes" */
        KL_EVICTION_RESOURCE_PIDS,              /* "pids" */
        _KL_EVICTION_RESOURCE_MAX,
};

const char *kl_eviction_signal_to_string(enum kl_eviction_signal s);
const char *kl_eviction_condition_to_string(enum kl_eviction_condition c);
const char *kl_eviction_resource_to_string(enum kl_eviction_resource r);
enum kl_eviction_condition kl_eviction_signal_condition(enum kl_eviction_signal s);
enum kl_eviction_resource kl_eviction_signal_resource(enum kl_eviction_signal s);

/* ---- configuration ------------------------------------------------------ */

/* "signal < quantity" or "signal < percent% of capacity". */
struct kl_eviction_threshold {
        bool set;
        int64_t quantity; /* bytes, inodes or pids; -1 when percent is used */
        float percent;    /* (0, 100) */
};

/* Node-level reclaim before evicting a pod for disk pressure, as upstream's
 * reclaimNodeLevelResources (pkg/kubelet/eviction/eviction_manager.go) with
 * buildSignalToNodeReclaimFuncs (helpers.go: for nodefs signals, without a
 * separate imagefs, delete unused images). Called from kl_eviction_observe()
 * when an eviction for nodefs.available or nodefs.inodesFree is due; it may
 * only start work (the daemon's image GC is asynchronous) and returns:
 *   > 0  reclaim is running: do not evict now, observe again soon
 *        (next_check_usec is set to 1 s from now);
 *   0    nothing (more) can be reclaimed, or a reclaim has finished since the
 *        last call and this observation already saw its effect: evict.
 * signal is an enum kl_eviction_signal. */
typedef int (*kl_eviction_reclaim_t)(int signal, void *userdata);

struct kl_eviction_config {
        struct kl_eviction_threshold hard[_KL_EVICTION_SIGNAL_MAX]; /* evictionHard */
        struct kl_eviction_threshold soft[_KL_EVICTION_SIGNAL_MAX]; /* evictionSoft */
        uint64_t soft_grace_usec[_KL_EVICTION_SIGNAL_MAX];          /* evictionSoftGracePeriod */
        uint64_t pressure_transition_usec;                          /* evictionPressureTransitionPeriod, default 5m */
        int64_t max_pod_grace_period_sec;                           /* evictionMaxPodGracePeriod, default 0 */
        kl_eviction_reclaim_t reclaim;                              /* NULL: none */
        void *reclaim_userdata;
};

/* Upstream's Linux defaults: hard memory.available<100Mi, nodefs.available<10%,
 * nodefs.inodesFree<5%; no soft thresholds; transition period 5m. */
void kl_eviction_config_init(struct kl_eviction_config *cfg);

/* From KubeletConfiguration as config.c parsed it (the reclaim hook too:
 * kl_config.node_reclaim, set by the daemon). As upstream, thresholds of
 * 0% and 100% (and a quantity of 0) are ignored. A soft threshold whose grace
 * period is 0 acts at once, as upstream's "0s" does (upstream refuses a soft
 * threshold without any grace period; config.c cannot tell "0s" from absent). */
void kl_eviction_config_from_kubelet(const struct kl_config *c, struct kl_eviction_config *ret);

/* What a threshold stands for against capacity: the quantity, or
 * percent as a float32 fraction times capacity, truncated (as upstream's
 * GetThresholdQuantity). 0 when unset. */
int64_t kl_eviction_threshold_quantity(const struct kl_eviction_threshold *t, int64_t capacity);

/* ---- observations and decisions ---------------------------------------- */

struct kl_eviction_value {
        bool have;
        int64_t available; /* may be negative (over-committed) */
        int64_t capacity;
};

/* PSI averages in hundredths of a percent ("avg10=1.25" -> 125). */
struct kl_eviction_psi_line {
        bool have;
        uint32_t avg10, avg60, avg300;
        uint64_t total_usec;
};
struct kl_eviction_psi {
        struct kl_eviction_psi_line some, full;
};

struct kl_eviction_observation {
        struct kl_eviction_value signal[_KL_EVICTION_SIGNAL_MAX];
        /* A second filesystem for nodefs.available and nodefs.inodesFree:
         * podLogsDir when it is not on the root dir's filesystem. Thresholds
         * are checked against both; the first two entries only are used. */
        struct kl_eviction_value logs_fs[_KL_EVICTION_SIGNAL_MAX];
        /* Filled by kl_eviction_read_signals, for logs and metrics: */
        int signal_error[_KL_EVICTION_SIGNAL_MAX]; /* -errno when a signal could not be read */
        int64_t memory_working_set;                /* bytes, -1 unknown */
        const char *memory_source;                 /* static string: where the working set came from */
        int64_t processes;                         /* tasks on the node, -1 unknown */
        struct kl_eviction_psi psi_memory;         /* /proc/pressure/memory, when present */
};

struct kl_eviction_decision {
        /* Thresholds (hard or soft) met by this observation, grace ignored. */
        bool met[_KL_EVICTION_SIGNAL_MAX];
        /* Node conditions: set while a threshold of the group is met and for
         * evictionPressureTransitionPeriod after the last time it was. */
        bool condition[_KL_EVICTION_CONDITION_MAX];
        bool condition_changed[_KL_EVICTION_CONDITION_MAX]; /* by this call */
        /* Evict one pod now (hard threshold met, or soft one met for its whole
         * grace period). Memory goes first, then nodefs.available,
         * nodefs.inodesFree, pid.available; hard before soft. */
        bool evict;
        enum kl_eviction_signal signal; /* the threshold driving the eviction */
        enum kl_eviction_resource resource;
        bool hard;
        bool threshold_percent;     /* the threshold was a percentage */
        int64_t threshold_quantity; /* what it stood for */
        int64_t available;          /* observed (the worse filesystem for nodefs.*) */
        /* CLOCK_MONOTONIC usec when a soft threshold that is met now will have
         * met its grace period, or when to look again while a node-level
         * reclaim runs; 0 when none is pending. Arm a timer for it. */
        uint64_t next_check_usec;
        /* A disk eviction was due but held back: the reclaim hook is running. */
        bool reclaiming;
};

struct kl_eviction;

/* NULL on OOM. The configuration is copied. */
struct kl_eviction *kl_eviction_new(const struct kl_eviction_config *cfg);
struct kl_eviction *kl_eviction_free(struct kl_eviction *ev);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct kl_eviction *, kl_eviction_free)

/* Evaluate an observation at now_usec (CLOCK_MONOTONIC) and update the
 * state: when each threshold was first met, when each condition was last
 * observed. A signal without an observation (have false) meets nothing and
 * restarts its soft grace period, as upstream. Returns 1 when a pod should
 * be evicted now, 0 otherwise, -EINVAL for bad arguments. */
int kl_eviction_observe(struct kl_eviction *ev, const struct kl_eviction_observation *obs, uint64_t now_usec,
                        struct kl_eviction_decision *ret);

/* The conditions as of the last kl_eviction_observe(). */
bool kl_eviction_has_condition(const struct kl_eviction *ev, enum kl_eviction_condition c);

/* The grace period to stop the chosen pod with: 1 s for a hard threshold
 * (upstream's immediateEvictionGracePeriodSeconds); for a soft one,
 * min(pod_grace_sec, evictionMaxPodGracePeriod) when that is > 0, else 0. */
int64_t kl_eviction_grace_period(const struct kl_eviction *ev, const struct kl_eviction_decision *d,
                                 int64_t pod_grace_sec);

/* Admission under pressure, as upstream's eviction admit handler: with no
 * condition every pod may start; a critical pod always; under MemoryPressure
 * alone every pod but BestEffort ones; under any other condition none. On
 * rejection the reason is "Evicted" and ret_message (may be NULL) gets
 * upstream's "The node had condition: [MemoryPressure DiskPressure]. ". */
bool kl_eviction_admit(const struct kl_eviction *ev, bool critical, bool best_effort, char *ret_message, size_t size);

/* Re-admission of a pod evicted for a condition (phase Failed, reason
 * Evicted): only once that condition has cleared, i.e. its signal has been
 * clear for the transition period, and kl_eviction_admit() agrees. */
bool kl_eviction_may_readmit(const struct kl_eviction *ev, enum kl_eviction_condition evicted_for, bool best_effort);

/* ---- ranking ------------------------------------------------------------ */

/* What ranking needs of one pod. */
struct kl_eviction_pod {
        bool have_stats; /* false: usage unknown; upstream ranks such pods first */
        int64_t usage;   /* memory: working set bytes; ephemeral-storage: bytes (logs +
                          * emptyDir + writable layer); inodes: inodes; pids: processes */
        int64_t request; /* memory or ephemeral-storage request in bytes, 0 when none;
                          * 0 for inodes and pids (pods cannot request those) */
        int32_t priority;
        bool critical; /* never evicted */
};

/* Upstream's pod priority: spec.priority, else the built-in priority of a
 * system-node-critical (2000001000) or system-cluster-critical (2000000000)
 * priorityClassName (static pods are never resolved by an API server), else 0. */
int32_t kl_eviction_pod_priority(const struct kl_pod *p);

/* Critical pods are never evicted: priorityClassName system-node-critical or
 * system-cluster-critical, or priority >= 2000000000. Unlike upstream,
 * being a static pod does not make a pod critical. */
bool kl_eviction_pod_is_critical(const struct kl_pod *p);

/* Fill request (the pod's effective request, as upstream's
 * GetResourceRequestQuantity), priority and critical for resource res; the
 * caller then sets usage and have_stats. */
void kl_eviction_pod_from_spec(const struct kl_pod *p, enum kl_eviction_resource res, struct kl_eviction_pod *ret);

/* Order pods for eviction, first to evict first, as upstream ranks them:
 *   memory:                 usage > request first, then lower priority, then
 *                           larger usage - request (BestEffort pods have no
 *                           request, so they go first);
 *   ephemeral-storage, inodes: the same with disk usage and requests;
 *   pids:                   lower priority, then more processes.
 * Pods without stats come first at each step, as upstream. Ties keep the
 * input order. Critical pods are left out. ret_order needs room for n
 * indexes; returns how many were written (>= 0), or -EINVAL / -ENOMEM. */
int kl_eviction_rank(const struct kl_eviction_pod *pods, size_t n, enum kl_eviction_resource res, size_t *ret_order);

/* ---- messages ----------------------------------------------------------- */

#define KL_EVICTION_REASON "Evicted"
#define KL_EVICTION_MESSAGE_MAX 1024

/* A number as upstream's resource.Quantity.String() prints it.
 *   binary (BinarySI: bytes): below 1024 as decimal; from 1024 on with the
 *          largest exact Ki, Mi, ... suffix, else plain digits
 *          (52428800 -> "50Mi", 2722654248 -> "2722654248", 1000 -> "1k");
 *   decimal (DecimalSI: inodes, pids): the largest exact k, M, G, ... suffix,
 *          else plain digits (1000 -> "1k", 1500 -> "1500"). */
void kl_eviction_format_quantity(int64_t v, bool binary, char *buf, size_t size);

/* One container of the evicted pod, for the message. */
struct kl_eviction_container {
        const char *name;
        bool have_usage;
        int64_t usage;   /* working set bytes (memory), rootfs + logs bytes (ephemeral-storage) */
        int64_t request; /* the container's request for the resource, <= 0 none */
};

/* Upstream's eviction message, e.g.
 *   "The node was low on resource: memory. Threshold quantity: 100Mi,
 *    available: 51200Ki. Container c was using 300Mi, request is 0, has larger
 *    consumption of memory. "
 * (one line, with upstream's trailing space). Containers are listed when
 * their usage exceeds their request, for memory and ephemeral-storage only.
 * Returns the length, truncated to size - 1 (KL_EVICTION_MESSAGE_MAX fits
 * a handful of containers). */
int kl_eviction_message(const struct kl_eviction_decision *d, const struct kl_eviction_container *c, size_t n,
                        char *buf, size_t size);
