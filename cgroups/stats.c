/* SPDX-License-Identifier: Apache-2.0 */
#include "stats.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "cgroup.h"
#include "convert.h"
#include "lib/macros.h"

static int parse_u64(const char *s, size_t n, uint64_t *ret) {
        uint64_t v = 0;

        if (n == 0)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                unsigned d;
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                d = (unsigned) (s[i] - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
        }
        *ret = v;
        return 0;
}

int kl_cg_kv_get(const char *buf, size_t len, const char *key, uint64_t *ret) {
        size_t klen = strlen(key);
        size_t i = 0;

        if (!buf || klen == 0)
                return -ENOENT;
        while (i < len) {
                const char *line = buf + i;
                const char *nl = memchr(line, '\n', len - i);
                size_t n = nl ? (size_t) (nl - line) : len - i;

                i += n + (nl ? 1 : 0);
                if (n > klen && memcmp(line, key, klen) == 0 && line[klen] == ' ') {
                        const char *v = line + klen + 1;
                        size_t vn = n - klen - 1;
                        /* tolerate a '\r' or spaces at the end of the value */
                        while (vn > 0 && (v[vn - 1] == ' ' || v[vn - 1] == '\r'))
                                vn--;
                        return parse_u64(v, vn, ret);
                }
        }
        return -ENOENT;
}

static uint64_t get0(const char *buf, size_t len, const char *key) {
        uint64_t v;
        return kl_cg_kv_get(buf, len, key, &v) >= 0 ? v : 0;
}

void kl_cg_stats_parse(const char *memory_stat, size_t memory_stat_len, const char *memory_events,
                       size_t memory_events_len, const char *cpu_stat, size_t cpu_stat_len, struct kl_cg_stats *st) {
        if (memory_stat) {
                st->memory_anon = get0(memory_stat, memory_stat_len, "anon");
                st->memory_file = get0(memory_stat, memory_stat_len, "file");
                st->memory_inactive_file = get0(memory_stat, memory_stat_len, "inactive_file");
                st->memory_working_set = st->memory_current > st->memory_inactive_file
                                                 ? st->memory_current - st->memory_inactive_file
                                                 : 0;
        }
        if (memory_events) {
                st->have |= KL_CG_STATS_EVENTS;
                st->memory_events_max = get0(memory_events, memory_events_len, "max");
                st->oom = get0(memory_events, memory_events_len, "oom");
                st->oom_kill = get0(memory_events, memory_events_len, "oom_kill");
        }
        if (cpu_stat) {
                st->have |= KL_CG_STATS_CPU;
                st->cpu_usage_usec = get0(cpu_stat, cpu_stat_len, "usage_usec");
                st->cpu_user_usec = get0(cpu_stat, cpu_stat_len, "user_usec");
                st->cpu_system_usec = get0(cpu_stat, cpu_stat_len, "system_usec");
                st->cpu_nr_periods = get0(cpu_stat, cpu_stat_len, "nr_periods");
                st->cpu_nr_throttled = get0(cpu_stat, cpu_stat_len, "nr_throttled");
                st->cpu_throttled_usec = get0(cpu_stat, cpu_stat_len, "throttled_usec");
        }
}

/* Read a file that may legitimately be missing (controller not enabled). */
static int read_opt(const struct kl_cg *cg, const char *dir, const char *file, char **ret, size_t *ret_len) {
        int r = kl_cg_read(cg, dir, file, ret, ret_len);
        if (r == -ENOENT) {
                *ret = NULL;
                *ret_len = 0;
                return 0;
        }
        return r;
}

int kl_cg_stats_read(const struct kl_cg *cg, const char *path, struct kl_cg_stats *ret, struct kl_error *reterr) {
        _cleanup_free_ char *cur = NULL, *max = NULL, *mstat = NULL, *mev = NULL, *cstat = NULL, *pcur = NULL,
                            *pmax = NULL;
        size_t cur_n, max_n, mstat_n, mev_n, cstat_n, pcur_n, pmax_n;
        struct kl_cg_stats st = {.memory_max = -1, .pids_max = -1};
        struct stat sb;
        const char *rel = path;
        int r;

        if (!cg->v2 || cg->mount_fd < 0)
                return kl_error_set(reterr, EOPNOTSUPP, "cgroup stats need cgroup v2");
        if (!kl_cg_path_valid(path))
                return kl_error_set(reterr, EINVAL, "invalid cgroup path '%s'", strempty(path));
        while (*rel == '/')
                rel++;
        /* Check existence first for a clear ENOENT. */
        if (fstatat(cg->mount_fd, rel, &sb, AT_SYMLINK_NOFOLLOW) < 0)
                return kl_error_set(reterr, errno, "cgroup %s: %m", path);
        if (!S_ISDIR(sb.st_mode))
                return kl_error_set(reterr, ENOTDIR, "cgroup %s is not a directory", path);

        if ((r = read_opt(cg, rel, "memory.current", &cur, &cur_n)) < 0 ||
            (r = read_opt(cg, rel, "memory.max", &max, &max_n)) < 0 ||
            (r = read_opt(cg, rel, "memory.stat", &mstat, &mstat_n)) < 0 ||
            (r = read_opt(cg, rel, "memory.events", &mev, &mev_n)) < 0 ||
            (r = read_opt(cg, rel, "cpu.stat", &cstat, &cstat_n)) < 0 ||
            (r = read_opt(cg, rel, "pids.current", &pcur, &pcur_n)) < 0 ||
            (r = read_opt(cg, rel, "pids.max", &pmax, &pmax_n)) < 0)
                return kl_error_set(reterr, r, "read stats of cgroup %s: %s", path, strerror(-r));

        if (cur) {
                int64_t v;
                if (kl_cg_parse_max(cur, cur_n, &v) >= 0 && v >= 0) {
                        st.memory_current = (uint64_t) v;
                        st.memory_working_set = st.memory_current; /* until memory.stat says more */
                        st.have |= KL_CG_STATS_MEMORY;
                }
                if (max)
                        (void) kl_cg_parse_max(max, max_n, &st.memory_max);
        }
        kl_cg_stats_parse(mstat, mstat_n, mev, mev_n, cstat, cstat_n, &st);
        if (pcur) {
                int64_t v;
                if (kl_cg_parse_max(pcur, pcur_n, &v) >= 0 && v >= 0) {
                        st.pids_current = (uint64_t) v;
                        st.have |= KL_CG_STATS_PIDS;
                }
                if (pmax)
                        (void) kl_cg_parse_max(pmax, pmax_n, &st.pids_max);
        }
        *ret = st;
        return 0;
}
