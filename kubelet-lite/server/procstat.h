/* SPDX-License-Identifier: Apache-2.0 */
/* Resource usage of a process (normally kubelet-lite itself) from /proc:
 * CPU time and start time from /proc/PID/stat, RSS from /proc/PID/statm,
 * the memory breakdown from /proc/PID/smaps_rollup, and the open fd count.
 * It feeds the process_* metrics and the benchmarks.
 *
 * The parsers take a buffer (which need not be NUL-terminated) and never
 * touch the file system, so they can be unit tested and fuzzed.
 * kl_procstat_read() does the file reading. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What kl_procstat_read() should read (and, in ret->have, what it read). */
enum {
        KL_PROCSTAT_STAT = 1 << 0,  /* /proc/PID/stat, plus btime from /proc/stat */
        KL_PROCSTAT_STATM = 1 << 1, /* /proc/PID/statm */
        KL_PROCSTAT_SMAPS = 1 << 2, /* /proc/PID/smaps_rollup (walks page tables: not free) */
        KL_PROCSTAT_FDS = 1 << 3,   /* /proc/PID/fd */
        KL_PROCSTAT_ALL = 0xf,
};

struct kl_procstat {
        unsigned have; /* KL_PROCSTAT_* that were read */

        /* /proc/PID/stat. Times are in clock ticks (sysconf(_SC_CLK_TCK)). */
        char state; /* 'R', 'S', ... */
        uint64_t utime_ticks, stime_ticks;
        uint64_t start_ticks; /* since boot */
        uint64_t num_threads;
        uint64_t vsize_bytes;
        uint64_t rss_pages;        /* field 24; statm is preferred */
        double cpu_seconds;        /* (utime + stime) / CLK_TCK */
        double start_time_seconds; /* unix time; 0 when btime is unknown */

        /* /proc/PID/statm, in bytes. */
        uint64_t statm_size_bytes, statm_resident_bytes, statm_shared_bytes;

        /* /proc/PID/smaps_rollup, in bytes. */
        uint64_t rss_bytes, pss_bytes;
        uint64_t private_bytes; /* Private_Clean + Private_Dirty: what exiting would free */
        uint64_t anonymous_bytes;
        uint64_t swap_bytes;

        /* /proc/PID/fd: open descriptors (for self, not counting the one used to count). */
        uint64_t open_fds;
};

/* Parse /proc/PID/stat. The command name may hold spaces and ')': fields are
 * counted from the last ')'. Fills state, the tick fields, num_threads,
 * vsize_bytes, rss_pages and cpu_seconds (clk_tck > 0).
 * -EINVAL when the line is malformed or truncated. */
int kl_procstat_parse_stat(const char *buf, size_t len, long clk_tck, struct kl_procstat *st);

/* Parse /proc/PID/statm ("size resident shared text lib data dt", in pages).
 * Fills the statm_* fields. -EINVAL when malformed, -ERANGE on overflow. */
int kl_procstat_parse_statm(const char *buf, size_t len, long page_size, struct kl_procstat *st);

/* Parse /proc/PID/smaps_rollup (or a whole smaps: the "Key: N kB" lines are
 * summed). Fills rss, pss, private, anonymous and swap bytes; unknown lines
 * are skipped. -EINVAL when no Rss line was found. */
int kl_procstat_parse_smaps(const char *buf, size_t len, struct kl_procstat *st);

/* Find "btime N" (boot time, unix seconds) in /proc/stat. -ENOENT when absent. */
int kl_procstat_parse_btime(const char *buf, size_t len, uint64_t *ret);

/* Read the parts of process pid (0: this process) selected by 'what' into *ret
 * (zeroed first). Parts that cannot be read are left out of ret->have (for
 * example smaps_rollup on a kernel older than 4.14); the call fails only
 * when none of them could be read, with the first error (-ENOENT: no such
 * process). Costs a few syscalls per part; SMAPS walks the page tables. */
int kl_procstat_read(pid_t pid, unsigned what, struct kl_procstat *ret);

/* Count the entries of /proc/PID/fd (pid 0: this process, minus the
 * descriptor used for counting). */
int kl_procstat_count_fds(pid_t pid, uint64_t *ret);
