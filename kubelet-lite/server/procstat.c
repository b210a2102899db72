/* SPDX-License-Identifier: Apache-2.0 */
#include "procstat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/fileio.h"
#include "lib/macros.h"

/* /proc files we read are small; smaps_rollup is ~1 KiB, stat ~300 bytes. */
#define PROC_FILE_MAX (64 * 1024)
/* /proc/stat grows with the CPU count (a line per CPU); btime comes after them. */
#define PROC_STAT_MAX (1024 * 1024)

static bool is_space(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

/* Parse an unsigned decimal at *p (no sign, no leading blanks), advance *p. */
static int parse_u64(const char **p, const char *end, uint64_t *ret) {
        const char *s = *p;
        uint64_t v = 0;

        if (s >= end || !is_digit(*s))
                return -EINVAL;
        for (; s < end && is_digit(*s); s++) {
                unsigned d = (unsigned) (*s - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
        }
        *p = s;
        *ret = v;
        return 0;
}

static const char *skip_spaces(const char *p, const char *end) {
        while (p < end && is_space(*p))
                p++;
        return p;
}

static const char *skip_token(const char *p, const char *end) {
        while (p < end && !is_space(*p))
                p++;
        return p;
}

static int mul_overflow_u64(uint64_t a, uint64_t b, uint64_t *ret) {
        return __builtin_mul_overflow(a, b, ret) ? -ERANGE : 0;
}

int kl_procstat_parse_stat(const char *buf, size_t len, long clk_tck, struct kl_procstat *st) {
        const char *end = buf + len, *p = NULL;
        /* Field numbers as in proc(5); field 3 (state) is the first after ')'. */
        enum {
                F_UTIME = 14,
                F_STIME = 15,
                F_THREADS = 20,
                F_START = 22,
                F_VSIZE = 23,
                F_RSS = 24
        };
        uint64_t utime = 0, stime = 0, threads = 0, start = 0, vsize = 0, rss = 0;
        char state;

        for (const char *q = buf; q < end; q++)
                if (*q == ')')
                        p = q + 1;
        if (!p)
                return -EINVAL;

        p = skip_spaces(p, end);
        if (p >= end || is_space(*p))
                return -EINVAL;
        state = *p;
        p = skip_token(p, end);
        for (int field = 4; field <= F_RSS; field++) {
                uint64_t *dst = field == F_UTIME     ? &utime
                                : field == F_STIME   ? &stime
                                : field == F_THREADS ? &threads
                                : field == F_START   ? &start
                                : field == F_VSIZE   ? &vsize
                                : field == F_RSS     ? &rss
                                                     : NULL;
                const char *q = skip_spaces(p, end);
                if (q == p || q >= end)
                        return -EINVAL;
                if (dst) {
                        int r = parse_u64(&q, end, dst);
                        if (r < 0)
                                return r;
                        if (q < end && !is_space(*q))
                                return -EINVAL;
                } else
                        q = skip_token(q, end);
                p = q;
        }

        st->state = state;
        st->utime_ticks = utime;
        st->stime_ticks = stime;
        st->num_threads = threads;
        st->start_ticks = start;
        st->vsize_bytes = vsize;
        st->rss_pages = rss;
        st->cpu_seconds = clk_tck > 0 ? ((double) utime + (double) stime) / (double) clk_tck : 0;
        return 0;
}

int kl_procstat_parse_statm(const char *buf, size_t len, long page_size, struct kl_procstat *st) {
        const char *p = buf, *end = buf + len;
        uint64_t v[3];
        int r;

        if (page_size <= 0)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(v); i++) {
                p = skip_spaces(p, end);
                r = parse_u64(&p, end, &v[i]);
                if (r < 0)
                        return r;
                if (p < end && !is_space(*p))
                        return -EINVAL;
                r = mul_overflow_u64(v[i], (uint64_t) page_size, &v[i]);
                if (r < 0)
                        return r;
        }
        st->statm_size_bytes = v[0];
        st->statm_resident_bytes = v[1];
        st->statm_shared_bytes = v[2];
        return 0;
}

int kl_procstat_parse_smaps(const char *buf, size_t len, struct kl_procstat *st) {
        static const struct {
                const char *key;
                size_t field; /* offset into the sums below */
        } keys[] = {
                {"Rss", 0}, {"Pss", 1}, {"Private_Clean", 2}, {"Private_Dirty", 2}, {"Anonymous", 3}, {"Swap", 4},
        };
        uint64_t sum[5] = {};
        bool have_rss = false;
        const char *p = buf, *end = buf + len;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                const char *eol = nl ? nl : end;
                const char *colon = memchr(p, ':', (size_t) (eol - p));

                for (size_t i = 0; colon && i < ELEMENTSOF(keys); i++) {
                        size_t klen = strlen(keys[i].key);
                        uint64_t v;
                        const char *q;

                        if ((size_t) (colon - p) != klen || memcmp(p, keys[i].key, klen) != 0)
                                continue;
                        q = skip_spaces(colon + 1, eol);
                        /* A malformed value skips the line rather than failing the file. */
                        if (parse_u64(&q, eol, &v) < 0)
                                break;
                        q = skip_spaces(q, eol);
                        if (eol - q < 2 || memcmp(q, "kB", 2) != 0 || mul_overflow_u64(v, 1024, &v) < 0)
                                break;
                        if (__builtin_add_overflow(sum[keys[i].field], v, &sum[keys[i].field]))
                                return -ERANGE;
                        if (keys[i].field == 0)
                                have_rss = true;
                        break;
                }
                p = nl ? nl + 1 : end;
        }
        if (!have_rss)
                return -EINVAL;
        st->rss_bytes = sum[0];
        st->pss_bytes = sum[1];
        st->private_bytes = sum[2];
        st->anonymous_bytes = sum[3];
        st->swap_bytes = sum[4];
        return 0;
}

int kl_procstat_parse_btime(const char *buf, size_t len, uint64_t *ret) {
        const char *p = buf, *end = buf + len;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                const char *eol = nl ? nl : end;

                if (eol - p > 6 && memcmp(p, "btime", 5) == 0 && is_space(p[5])) {
                        const char *q = skip_spaces(p + 5, eol);
                        uint64_t v;
                        int r = parse_u64(&q, eol, &v);
                        if (r < 0)
                                return r;
                        if (q != eol && !is_space(*q))
                                return -EINVAL;
                        *ret = v;
                        return 0;
                }
                p = nl ? nl + 1 : end;
        }
        return -ENOENT;
}

static int proc_path(pid_t pid, const char *file, char *buf, size_t size) {
        int n;

        if (pid < 0)
                return -EINVAL;
        n = pid == 0 ? snprintf(buf, size, "/proc/self/%s", file)
                     : snprintf(buf, size, "/proc/%ld/%s", (long) pid, file);
        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

static int read_proc(pid_t pid, const char *file, size_t max, char **ret, size_t *ret_len) {
        char path[64];
        int r = proc_path(pid, file, path, sizeof(path));

        if (r < 0)
                return r;
        return kl_read_file_at(AT_FDCWD, path, max, 0, ret, ret_len);
}

int kl_procstat_count_fds(pid_t pid, uint64_t *ret) {
        char path[64];
        DIR *d;
        uint64_t n = 0;
        int fd, r;

        r = proc_path(pid, "fd", path, sizeof(path));
        if (r < 0)
                return r;
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                r = -errno;
                safe_close(fd);
                return r;
        }
        errno = 0;
        for (struct dirent *de; (de = readdir(d));)
                if (de->d_name[0] != '.')
                        n++;
        r = errno > 0 ? -errno : 0;
        closedir(d);
        if (r < 0)
                return r;
        /* Our own directory descriptor shows up in /proc/self/fd. */
        if (pid == 0 && n > 0)
                n--;
        *ret = n;
        return 0;
}

static int read_stat(pid_t pid, struct kl_procstat *st) {
        _cleanup_free_ char *buf = NULL, *sys = NULL;
        size_t len, slen;
        long tck = sysconf(_SC_CLK_TCK);
        uint64_t btime;
        int r;

        r = read_proc(pid, "stat", PROC_FILE_MAX, &buf, &len);
        if (r < 0)
                return r;
        r = kl_procstat_parse_stat(buf, len, tck, st);
        if (r < 0)
                return r;
        /* Start time: boot time plus the start offset. Not fatal when missing. */
        if (tck > 0 && kl_read_file_at(AT_FDCWD, "/proc/stat", PROC_STAT_MAX, 0, &sys, &slen) >= 0 &&
            kl_procstat_parse_btime(sys, slen, &btime) >= 0)
                st->start_time_seconds = (double) btime + (double) st->start_ticks / (double) tck;
        return 0;
}

int kl_procstat_read(pid_t pid, unsigned what, struct kl_procstat *ret) {
        struct kl_procstat st = {};
        int first_error = 0, r;

        if (pid < 0)
                return -EINVAL;
        if (what & KL_PROCSTAT_STAT) {
                r = read_stat(pid, &st);
                if (r >= 0)
                        st.have |= KL_PROCSTAT_STAT;
                else if (!first_error)
                        first_error = r;
        }
        if (what & KL_PROCSTAT_STATM) {
                _cleanup_free_ char *buf = NULL;
                size_t len;

                r = read_proc(pid, "statm", PROC_FILE_MAX, &buf, &len);
                if (r >= 0)
                        r = kl_procstat_parse_statm(buf, len, sysconf(_SC_PAGESIZE), &st);
                if (r >= 0)
                        st.have |= KL_PROCSTAT_STATM;
                else if (!first_error)
                        first_error = r;
        }
        if (what & KL_PROCSTAT_SMAPS) {
                _cleanup_free_ char *buf = NULL;
                size_t len;

                r = read_proc(pid, "smaps_rollup", PROC_FILE_MAX, &buf, &len);
                if (r >= 0)
                        r = kl_procstat_parse_smaps(buf, len, &st);
                if (r >= 0)
                        st.have |= KL_PROCSTAT_SMAPS;
                else if (!first_error)
                        first_error = r;
        }
        if (what & KL_PROCSTAT_FDS) {
                r = kl_procstat_count_fds(pid, &st.open_fds);
                if (r >= 0)
                        st.have |= KL_PROCSTAT_FDS;
                else if (!first_error)
                        first_error = r;
        }
        if (st.have == 0 && what != 0)
                return first_error ? first_error : -EINVAL;
        *ret = st;
        return 0;
}
