/* SPDX-License-Identifier: Apache-2.0 */
/* Reading the eviction signals: /proc, cgroupfs and statvfs, every path
 * injectable, and directory usage. The parsers are exposed for the fuzz
 * targets. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kubelet-lite/eviction/eviction.h"

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

/* Shared with watch.c. */
int kl__eviction_parse_digits(const char **p, const char *end, uint64_t *ret);
int kl__eviction_read_file(const char *path, char **ret, size_t *ret_len);
