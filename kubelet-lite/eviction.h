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

struct kl_eviction_config {
        struct kl_eviction_threshold hard[_KL_EVICTION_SIGNAL_MAX]; /* evictionHard */
        struct kl_eviction_threshold soft[_KL_EVICTION_SIGNAL_MAX]; /* evictionSoft */
        uint64_t soft_grace_usec[_KL_EVICTION_SIGNAL_MAX];          /* evictionSoftGracePeriod */
        uint64_t pressure_transition_usec;                          /* evictionPressureTransitionPeriod, default 5m */
        int64_t max_pod_grace_period_sec;                           /* evictionMaxPodGracePeriod, default 0 */
};

/* Upstream's Linux defaults: hard memory.available<100Mi, nodefs.available<10%,
 * nodefs.inodesFree<5%; no soft thresholds; transition period 5m. */
void kl_eviction_config_init(struct kl_eviction_config *cfg);

/* From KubeletConfiguration as config.c parsed it. As upstream, thresholds of
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
         * met its grace period; 0 when none is pending. Arm a timer for it. */
        uint64_t next_check_usec;
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

/* ---- reading the signals ------------------------------------------------ */

struct kl_eviction_fs_stats {
        uint64_t dev;                            /* st_dev of the path, to tell filesystems apart */
        int64_t capacity_bytes, available_bytes; /* f_blocks, f_bavail times f_frsize */
        int64_t inodes, inodes_free;             /* f_files, f_ffree */
};

/* stat() + statvfs() of path. */
int kl_eviction_fs_stats(const char *path, struct kl_eviction_fs_stats *ret);

/* Where the signals come from. NULL means the real default. */
struct kl_eviction_sources {
        const char *meminfo; /* /proc/meminfo: MemTotal is the memory capacity */
        /* Directory of the node's root memory cgroup. NULL: /sys/fs/cgroup
         * (cgroup v2), then /sys/fs/cgroup/memory (v1); "" skips cgroups and
         * uses /proc/meminfo's MemAvailable (not upstream). */
        const char *memory_cgroup;
        const char *root_dir;     /* nodefs: kubelet-lite's root dir; NULL: no nodefs signals */
        const char *pod_logs_dir; /* checked too when on another filesystem; NULL: none */
        const char *pid_max;      /* /proc/sys/kernel/pid_max */
        const char *threads_max;  /* /proc/sys/kernel/threads-max */
        const char *loadavg;      /* /proc/loadavg; when the default cannot be read, sysinfo() */
        const char *psi_memory;   /* /proc/pressure/memory; "" skips it */
        int (*fs_stats)(const char *path, struct kl_eviction_fs_stats *ret); /* NULL: kl_eviction_fs_stats */
};

/* Read every signal into *ret (zeroed first):
 *   memory.available  = MemTotal - working set of the root cgroup, where the
 *                       working set is usage - inactive_file and usage is
 *                       memory.current, or anon + file of the v2 root's
 *                       memory.stat (the root has no memory.current), or v1's
 *                       memory.usage_in_bytes (then total_inactive_file);
 *   nodefs.available  = f_bavail * f_frsize of root_dir (capacity f_blocks * f_frsize);
 *   nodefs.inodesFree = f_ffree (capacity f_files; skipped when f_files is 0);
 *   pid.available     = min(pid_max, threads-max) - tasks (/proc/loadavg's
 *                       4th field, "running/total").
 * A signal that cannot be read is left out (have false, signal_error set).
 * Returns 0 when at least one signal was read, else the first error. */
int kl_eviction_read_signals(const struct kl_eviction_sources *src, struct kl_eviction_observation *ret);

/* Parsers, exposed for tests and fuzzing; buffers need not be NUL-terminated.
 * -EINVAL for malformed input, -ERANGE on overflow, -ENOENT for an absent key. */
int kl_eviction_parse_psi(const char *buf, size_t len, struct kl_eviction_psi *ret);
int kl_eviction_parse_loadavg_tasks(const char *buf, size_t len, int64_t *ret);
int kl_eviction_parse_meminfo(const char *buf, size_t len, const char *key, int64_t *ret_bytes);
int kl_eviction_parse_u64(const char *buf, size_t len, uint64_t *ret); /* one number, then whitespace */

/* Disk usage of a directory tree (a pod's log dir, an emptyDir): the sum of
 * st_blocks * 512 and the number of inodes, the directory included, without
 * following symlinks or crossing into other filesystems. Bounded: it stops
 * after max_entries entries or max_usec of CLOCK_MONOTONIC time (0: no limit)
 * and then reports what it counted so far as a lower bound. Returns 0 when
 * complete, 1 when stopped early, -errno when dirfd/path cannot be opened. */
struct kl_eviction_du {
        int64_t bytes;
        int64_t inodes;
};
int kl_eviction_dir_usage(int dirfd, const char *path, uint64_t max_entries, uint64_t max_usec,
                          struct kl_eviction_du *ret);

/* ---- fast path: PSI trigger and cgroup v2 memory.events ----------------- */

struct kl_eviction_watch_config {
        /* A PSI file: /proc/pressure/memory (NULL) or kubepods' memory.pressure;
         * "" disables PSI. */
        const char *psi_path;
        /* NULL: "some 150000 1000000" (150 ms stalled in 1 s). Without
         * CAP_SYS_RESOURCE the kernel only takes windows in multiples of 2 s:
         * the window is then raised to the next multiple and the stall time
         * scaled with it ("some 300000 2000000"). */
        const char *psi_trigger;
        /* kubepods' memory.events on cgroup v2; NULL: none. */
        const char *memory_events;
};

enum {
        KL_EVICTION_WATCH_PSI = 1 << 0,           /* the PSI trigger is armed / fired */
        KL_EVICTION_WATCH_MEMORY_EVENTS = 1 << 1, /* memory.events is watched / high, max, oom or oom_kill grew */
        KL_EVICTION_WATCH_LOST = 1 << 2,          /* the fd given to drain broke: remove it from the loop */
};

struct kl_eviction_watch;

/* Open what is available; what is not (no PSI, psi=0, cgroup v1, a missing
 * file) is left out and described by kl_eviction_watch_describe(). Fails
 * only with -ENOMEM or -EINVAL (a malformed psi_trigger). */
int kl_eviction_watch_open(const struct kl_eviction_watch_config *cfg, struct kl_eviction_watch **ret);
struct kl_eviction_watch *kl_eviction_watch_free(struct kl_eviction_watch *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct kl_eviction_watch *, kl_eviction_watch_free)

/* Add to epoll: the PSI fd with EPOLLPRI, the inotify fd with EPOLLIN.
 * -EBADF when that source is not active. */
int kl_eviction_watch_psi_fd(const struct kl_eviction_watch *w);
int kl_eviction_watch_events_fd(const struct kl_eviction_watch *w);
unsigned kl_eviction_watch_active(const struct kl_eviction_watch *w); /* KL_EVICTION_WATCH_* */
/* One line for the log: what is watched and why something is not. */
const char *kl_eviction_watch_describe(const struct kl_eviction_watch *w);

/* Call when fd (one of the two above) is ready, with epoll's revents.
 * Consumes the event (reads inotify, re-adds a watch after IN_IGNORED) and
 * returns what it meant: KL_EVICTION_WATCH_PSI or _MEMORY_EVENTS mean "check
 * now"; 0 that nothing relevant changed (memory.events "low" only);
 * _LOST (with the fd left open until kl_eviction_watch_free) that the
 * source is gone and the fd must leave the loop. */
int kl_eviction_watch_drain(struct kl_eviction_watch *w, int fd, uint32_t revents);
