/* SPDX-License-Identifier: Apache-2.0 */
/* Resource usage of one cgroup (a pod's, or a container's below it), from
 * the cgroup v2 interface files, and the parsers for those files. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

struct kl_cg;

/* Which groups of fields were read (a controller may be absent in a cgroup). */
enum {
        KL_CG_STATS_MEMORY = 1 << 0, /* memory.current, memory.max, memory.stat */
        KL_CG_STATS_EVENTS = 1 << 1, /* memory.events */
        KL_CG_STATS_CPU = 1 << 2,    /* cpu.stat */
        KL_CG_STATS_PIDS = 1 << 3,   /* pids.current, pids.max */
};

struct kl_cg_stats {
        unsigned have; /* KL_CG_STATS_* */
        uint64_t memory_current;
        int64_t memory_max; /* -1: "max" */
        uint64_t memory_anon, memory_file, memory_inactive_file;
        /* memory_current - inactive_file, floored at 0: what upstream (cadvisor)
         * calls the working set and what eviction and `kubectl top` use. */
        uint64_t memory_working_set;
        uint64_t memory_events_max, oom, oom_kill;
        uint64_t cpu_usage_usec, cpu_user_usec, cpu_system_usec;
        uint64_t cpu_nr_periods, cpu_nr_throttled, cpu_throttled_usec;
        uint64_t pids_current;
        int64_t pids_max; /* -1: "max" */
};

/* Look key up in a flat-keyed file ("key value\n" lines: cpu.stat,
 * memory.stat, memory.events, cgroup.events). The key must match a whole
 * first token. 0 found, -ENOENT absent, -EINVAL / -ERANGE for a bad value.
 * buf need not be NUL-terminated. */
int kl_cg_kv_get(const char *buf, size_t len, const char *key, uint64_t *ret);

/* Fill the parts of *st that come from each file's content (set
 * st->memory_current first: the working set is derived from it); any buffer may be
 * NULL (that group stays unset). Unknown or malformed lines are skipped; a
 * missing key reads as 0. */
void kl_cg_stats_parse(const char *memory_stat, size_t memory_stat_len, const char *memory_events,
                       size_t memory_events_len, const char *cpu_stat, size_t cpu_stat_len, struct kl_cg_stats *st);

/* Read the stats of cgroup 'path' (relative to the mount, e.g.
 * "/kubepods/burstable/pod<uid>/<container-id>"). Files of absent controllers
 * are skipped (see st.have); -ENOENT when the cgroup itself does not exist,
 * -EOPNOTSUPP when the hierarchy is not cgroup v2. */
int kl_cg_stats_read(const struct kl_cg *cg, const char *path, struct kl_cg_stats *ret, struct kl_error *reterr);
