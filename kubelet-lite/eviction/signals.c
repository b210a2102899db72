/* SPDX-License-Identifier: Apache-2.0 */
/* Reading the eviction signals (upstream's summary provider and
 * memory threshold notifier inputs): /proc, cgroupfs, statvfs and directory
 * usage, every path injectable. */
#include "kubelet-lite/eviction/signals.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "cgroups/stats.h"
#include "lib/fileio.h"
#include "lib/macros.h"

#define FILE_MAX (64 * 1024)
#define USEC_PER_SEC UINT64_C(1000000)

static uint64_t add_sat(uint64_t a, uint64_t b) {
        return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* ---- parsers ------------------------------------------------------------ */

static bool is_space(char ch) {
        return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* Digits at *p (at least one) into *ret; advances *p. */
int kl__eviction_parse_digits(const char **p, const char *end, uint64_t *ret) {
        const char *s = *p;
        uint64_t v = 0;

        if (s >= end || *s < '0' || *s > '9')
                return -EINVAL;
        for (; s < end && *s >= '0' && *s <= '9'; s++) {
                if (v > (UINT64_MAX - (uint64_t) (*s - '0')) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t) (*s - '0');
        }
        *p = s;
        *ret = v;
        return 0;
}

int kl_eviction_parse_u64(const char *buf, size_t len, uint64_t *ret) {
        const char *p = buf, *end = buf + len;
        uint64_t v;
        int r;

        while (p < end && is_space(*p))
                p++;
        r = kl__eviction_parse_digits(&p, end, &v);
        if (r < 0)
                return r;
        for (; p < end; p++)
                if (!is_space(*p))
                        return -EINVAL;
        *ret = v;
        return 0;
}

int kl_eviction_parse_loadavg_tasks(const char *buf, size_t len, int64_t *ret) {
        /* "0.10 0.20 0.30 2/3518 3715089": upstream wants five fields and takes
         * the total after the slash in the fourth. */
        const char *p = buf, *end = buf + len, *field[5] = {};
        const char *fend[5] = {};
        size_t nf = 0;
        uint64_t running, total;

        while (p < end) {
                while (p < end && is_space(*p))
                        p++;
                if (p >= end)
                        break;
                if (nf < 5)
                        field[nf] = p;
                while (p < end && !is_space(*p))
                        p++;
                if (nf < 5)
                        fend[nf] = p;
                nf++;
        }
        if (nf < 5)
                return -EINVAL;
        p = field[3];
        if (kl__eviction_parse_digits(&p, fend[3], &running) < 0 || p >= fend[3] || *p != '/')
                return -EINVAL;
        p++;
        int r = kl__eviction_parse_digits(&p, fend[3], &total);
        if (r < 0)
                return r;
        if (p != fend[3])
                return -EINVAL;
        if (total > INT64_MAX)
                return -ERANGE;
        *ret = (int64_t) total;
        return 0;
}

int kl_eviction_parse_meminfo(const char *buf, size_t len, const char *key, int64_t *ret_bytes) {
        const char *p = buf, *end = buf + len;
        size_t klen = strlen(key);

        while (p < end) {
                const char *eol = memchr(p, '\n', (size_t) (end - p));
                if (!eol)
                        eol = end;
                if ((size_t) (eol - p) > klen && memcmp(p, key, klen) == 0 && p[klen] == ':') {
                        const char *s = p + klen + 1;
                        uint64_t v;
                        int r;
                        while (s < eol && (*s == ' ' || *s == '\t'))
                                s++;
                        r = kl__eviction_parse_digits(&s, eol, &v);
                        if (r < 0)
                                return r;
                        while (s < eol && (*s == ' ' || *s == '\t'))
                                s++;
                        if (eol - s >= 2 && s[0] == 'k' && s[1] == 'B') {
                                if (v > UINT64_MAX / 1024)
                                        return -ERANGE;
                                v *= 1024;
                                s += 2;
                        }
                        while (s < eol && is_space(*s))
                                s++;
                        if (s != eol)
                                return -EINVAL;
                        if (v > INT64_MAX)
                                return -ERANGE;
                        *ret_bytes = (int64_t) v;
                        return 0;
                }
                p = eol + 1;
        }
        return -ENOENT;
}

/* "12.34" -> 1234 (hundredths; further digits are dropped) */
static int parse_hundredths(const char *s, const char *end, uint32_t *ret) {
        uint64_t ip, frac = 0;
        int r = kl__eviction_parse_digits(&s, end, &ip);
        if (r < 0)
                return r;
        if (s < end && *s == '.') {
                int i = 0;
                s++;
                if (s >= end || *s < '0' || *s > '9')
                        return -EINVAL;
                for (; s < end && *s >= '0' && *s <= '9'; s++, i++)
                        if (i < 2)
                                frac = frac * 10 + (uint64_t) (*s - '0');
                if (i == 1)
                        frac *= 10;
        }
        if (s != end)
                return -EINVAL;
        if (ip >= UINT32_MAX / 100)
                return -ERANGE;
        *ret = (uint32_t) (ip * 100 + frac);
        return 0;
}

static int parse_psi_line(const char *p, const char *eol, struct kl_eviction_psi_line *ret) {
        struct kl_eviction_psi_line l = {.have = true};
        unsigned seen = 0;

        while (p < eol) {
                const char *t, *eq;
                while (p < eol && is_space(*p))
                        p++;
                if (p >= eol)
                        break;
                t = p;
                while (p < eol && !is_space(*p))
                        p++;
                eq = memchr(t, '=', (size_t) (p - t));
                if (!eq)
                        return -EINVAL;
                size_t kl = (size_t) (eq - t);
                int r = 0;
                if (kl == 5 && memcmp(t, "avg10", 5) == 0)
                        r = parse_hundredths(eq + 1, p, &l.avg10), seen |= 1;
                else if (kl == 5 && memcmp(t, "avg60", 5) == 0)
                        r = parse_hundredths(eq + 1, p, &l.avg60), seen |= 2;
                else if (kl == 6 && memcmp(t, "avg300", 6) == 0)
                        r = parse_hundredths(eq + 1, p, &l.avg300), seen |= 4;
                else if (kl == 5 && memcmp(t, "total", 5) == 0) {
                        const char *s = eq + 1;
                        r = kl__eviction_parse_digits(&s, p, &l.total_usec);
                        if (r == 0 && s != p)
                                r = -EINVAL;
                        seen |= 8;
                }
                if (r < 0)
                        return r;
        }
        if (seen != 15)
                return -EINVAL;
        *ret = l;
        return 0;
}

int kl_eviction_parse_psi(const char *buf, size_t len, struct kl_eviction_psi *ret) {
        const char *p = buf, *end = buf + len;
        struct kl_eviction_psi psi = {};

        while (p < end) {
                const char *eol = memchr(p, '\n', (size_t) (end - p));
                struct kl_eviction_psi_line *l = NULL;
                if (!eol)
                        eol = end;
                if (eol - p >= 5 && memcmp(p, "some ", 5) == 0)
                        l = &psi.some;
                else if (eol - p >= 5 && memcmp(p, "full ", 5) == 0)
                        l = &psi.full;
                if (l && !l->have) {
                        int r = parse_psi_line(p + 5, eol, l);
                        if (r < 0)
                                return r;
                }
                p = eol + 1;
        }
        if (!psi.some.have)
                return -EINVAL;
        *ret = psi;
        return 0;
}

/* ---- reading the signals ------------------------------------------------ */

int kl__eviction_read_file(const char *path, char **ret, size_t *ret_len) {
        return kl_read_file_at(AT_FDCWD, path, FILE_MAX, 0, ret, ret_len);
}

static int read_u64_file(const char *path, uint64_t *ret) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = kl__eviction_read_file(path, &buf, &len);
        if (r < 0)
                return r;
        return kl_eviction_parse_u64(buf, len, ret);
}

static int join(char *buf, size_t size, const char *dir, const char *file) {
        int n = snprintf(buf, size, "%s/%s", dir, file);
        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

/* The working set of the memory cgroup at dir, as cadvisor computes it. */
static int cgroup_working_set(const char *dir, uint64_t *ret, const char **ret_source) {
        _cleanup_free_ char *stat = NULL;
        char path[PATH_MAX];
        const char *inactive_key, *source;
        uint64_t usage, inactive = 0, anon, file;
        size_t len;
        int r;

        if ((r = join(path, sizeof(path), dir, "memory.stat")) < 0 ||
            (r = kl__eviction_read_file(path, &stat, &len)) < 0)
                return r;
        if (join(path, sizeof(path), dir, "memory.current") == 0 && read_u64_file(path, &usage) == 0) {
                inactive_key = "inactive_file";
                source = "memory.current - inactive_file";
        } else if (join(path, sizeof(path), dir, "memory.usage_in_bytes") == 0 && read_u64_file(path, &usage) == 0) {
                inactive_key = "total_inactive_file";
                source = "cgroup v1 memory.usage_in_bytes - total_inactive_file";
        } else if (kl_cg_kv_get(stat, len, "anon", &anon) == 0 && kl_cg_kv_get(stat, len, "file", &file) == 0) {
                /* the v2 root has no memory.current: runc sums anon and file */
                usage = add_sat(anon, file);
                inactive_key = "inactive_file";
                source = "cgroup v2 root memory.stat anon + file - inactive_file";
        } else
                return -ENODATA;
        (void) kl_cg_kv_get(stat, len, inactive_key, &inactive); /* absent: working set = usage */
        *ret = usage > inactive ? usage - inactive : 0;
        *ret_source = source;
        return 0;
}

static int read_memory(const struct kl_eviction_sources *src, struct kl_eviction_observation *o) {
        static const char *const defaults[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/memory"};
        _cleanup_free_ char *meminfo = NULL;
        const char *source = NULL;
        int64_t total, avail;
        uint64_t ws = 0;
        size_t len;
        int r;

        r = kl__eviction_read_file(src->meminfo ? src->meminfo : "/proc/meminfo", &meminfo, &len);
        if (r < 0)
                return r;
        r = kl_eviction_parse_meminfo(meminfo, len, "MemTotal", &total);
        if (r < 0)
                return r;
        if (!src->memory_cgroup) {
                for (size_t i = 0; i < ELEMENTSOF(defaults) && !source; i++)
                        (void) cgroup_working_set(defaults[i], &ws, &source);
        } else if (src->memory_cgroup[0])
                (void) cgroup_working_set(src->memory_cgroup, &ws, &source);
        if (!source) {
                r = kl_eviction_parse_meminfo(meminfo, len, "MemAvailable", &avail);
                if (r < 0)
                        return r;
                ws = total > avail ? (uint64_t) (total - avail) : 0;
                source = "/proc/meminfo MemTotal - MemAvailable";
        }
        if (ws > INT64_MAX)
                ws = INT64_MAX;
        o->signal[KL_EVICTION_MEMORY_AVAILABLE] = (struct kl_eviction_value){true, total - (int64_t) ws, total};
        o->memory_working_set = (int64_t) ws;
        o->memory_source = source;
        return 0;
}

static int64_t mul_clamp(uint64_t a, uint64_t b) {
        if (b && a > (uint64_t) INT64_MAX / b)
                return INT64_MAX;
        return (int64_t) (a * b);
}

int kl_eviction_fs_stats(const char *path, struct kl_eviction_fs_stats *ret) {
        struct statvfs sv;
        struct stat st;

        if (stat(path, &st) < 0 || statvfs(path, &sv) < 0)
                return -errno;
        uint64_t frsize = sv.f_frsize ? sv.f_frsize : sv.f_bsize;
        *ret = (struct kl_eviction_fs_stats){
                .dev = (uint64_t) st.st_dev,
                .capacity_bytes = mul_clamp(sv.f_blocks, frsize),
                .available_bytes = mul_clamp(sv.f_bavail, frsize),
                .inodes = mul_clamp(sv.f_files, 1),
                .inodes_free = mul_clamp(sv.f_ffree, 1),
        };
        return 0;
}

static void fs_values(const struct kl_eviction_fs_stats *fs, struct kl_eviction_value *v) {
        v[KL_EVICTION_NODEFS_AVAILABLE] = (struct kl_eviction_value){true, fs->available_bytes, fs->capacity_bytes};
        /* some filesystems (btrfs) report no inode counts: no signal then */
        if (fs->inodes > 0)
                v[KL_EVICTION_NODEFS_INODES_FREE] = (struct kl_eviction_value){true, fs->inodes_free, fs->inodes};
}

static int read_fs(const struct kl_eviction_sources *src, struct kl_eviction_observation *o) {
        int (*fn)(const char *, struct kl_eviction_fs_stats *) = src->fs_stats ? src->fs_stats : kl_eviction_fs_stats;
        struct kl_eviction_fs_stats root, logs;
        int r = fn(src->root_dir, &root);

        if (r < 0)
                return r;
        fs_values(&root, o->signal);
        if (!o->signal[KL_EVICTION_NODEFS_INODES_FREE].have)
                o->signal_error[KL_EVICTION_NODEFS_INODES_FREE] = -ENODATA;
        if (src->pod_logs_dir && fn(src->pod_logs_dir, &logs) == 0 && logs.dev != root.dev)
                fs_values(&logs, o->logs_fs);
        return 0;
}

static int read_pids(const struct kl_eviction_sources *src, struct kl_eviction_observation *o) {
        const char *files[] = {src->pid_max ? src->pid_max : "/proc/sys/kernel/pid_max",
                               src->threads_max ? src->threads_max : "/proc/sys/kernel/threads-max"};
        _cleanup_free_ char *buf = NULL;
        int64_t cap = -1, tasks = -1;
        size_t len;
        int r = -ENOENT;

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                uint64_t v;
                r = read_u64_file(files[i], &v);
                if (r == 0 && v <= INT64_MAX && (cap < 0 || (int64_t) v < cap))
                        cap = (int64_t) v;
        }
        if (cap < 0)
                return r < 0 ? r : -ERANGE;
        r = kl__eviction_read_file(src->loadavg ? src->loadavg : "/proc/loadavg", &buf, &len);
        if (r == 0)
                r = kl_eviction_parse_loadavg_tasks(buf, len, &tasks);
        if (r < 0) {
                struct sysinfo si;
                /* upstream's fallback; it truncates counts above 65535 */
                if (src->loadavg || sysinfo(&si) < 0)
                        return r;
                tasks = si.procs;
        }
        o->signal[KL_EVICTION_PID_AVAILABLE] = (struct kl_eviction_value){true, cap - tasks, cap};
        o->processes = tasks;
        return 0;
}

int kl_eviction_read_signals(const struct kl_eviction_sources *src, struct kl_eviction_observation *ret) {
        static const struct kl_eviction_sources none = {};
        struct kl_eviction_observation o = {.memory_working_set = -1, .processes = -1};
        _cleanup_free_ char *psi = NULL;
        const char *psi_path;
        size_t len;
        int r, first = 0, n = 0;

        if (!ret)
                return -EINVAL;
        if (!src)
                src = &none;
        r = read_memory(src, &o);
        o.signal_error[KL_EVICTION_MEMORY_AVAILABLE] = r;
        if (src->root_dir) {
                r = read_fs(src, &o);
                if (r < 0)
                        o.signal_error[KL_EVICTION_NODEFS_AVAILABLE] = o.signal_error[KL_EVICTION_NODEFS_INODES_FREE] =
                                r;
        }
        o.signal_error[KL_EVICTION_PID_AVAILABLE] = read_pids(src, &o);
        psi_path = src->psi_memory ? src->psi_memory : "/proc/pressure/memory";
        if (psi_path[0] && kl__eviction_read_file(psi_path, &psi, &len) == 0)
                (void) kl_eviction_parse_psi(psi, len, &o.psi_memory);

        for (int s = 0; s < _KL_EVICTION_SIGNAL_MAX; s++) {
                n += o.signal[s].have;
                if (!first && o.signal_error[s] < 0)
                        first = o.signal_error[s];
        }
        *ret = o;
        return n > 0 ? 0 : first < 0 ? first : -ENODATA;
}

/* ---- directory usage ---------------------------------------------------- */

#define DU_MAX_DEPTH 64

struct du {
        uint64_t max_entries, deadline, entries;
        dev_t dev;
        bool stopped;
        int64_t bytes, inodes;
};

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

static void du_count(struct du *x, const struct stat *st) {
        x->bytes = (int64_t) MIN((uint64_t) x->bytes + (uint64_t) st->st_blocks * 512, (uint64_t) INT64_MAX);
        x->inodes++;
}

/* Takes ownership of fd. */
static void du_walk(struct du *x, int fd, unsigned depth) {
        DIR *d = fdopendir(fd);
        struct dirent *de;

        if (!d) {
                safe_close(fd);
                return;
        }
        while (!x->stopped && (de = readdir(d))) {
                struct stat st;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                x->entries++;
                if ((x->max_entries && x->entries > x->max_entries) ||
                    (x->deadline && x->entries % 64 == 0 && now_usec() >= x->deadline)) {
                        x->stopped = true;
                        break;
                }
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != x->dev)
                        continue; /* gone meanwhile, or a mount point: not ours */
                du_count(x, &st);
                if (S_ISDIR(st.st_mode)) {
                        if (depth >= DU_MAX_DEPTH) {
                                x->stopped = true;
                                break;
                        }
                        int sub = openat(dirfd(d), de->d_name,
                                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
                        if (sub >= 0)
                                du_walk(x, sub, depth + 1);
                }
        }
        closedir(d);
}

int kl_eviction_dir_usage(int dirfd, const char *path, uint64_t max_entries, uint64_t max_usec,
                          struct kl_eviction_du *ret) {
        struct du x = {.max_entries = max_entries};
        struct stat st;
        int fd;

        if (!path || !ret)
                return -EINVAL;
        fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0) {
                int r = -errno;
                safe_close(fd);
                return r;
        }
        if (max_usec)
                x.deadline = add_sat(now_usec(), max_usec);
        x.dev = st.st_dev;
        du_count(&x, &st);
        du_walk(&x, fd, 1);
        *ret = (struct kl_eviction_du){x.bytes, x.inodes};
        return x.stopped ? 1 : 0;
}
