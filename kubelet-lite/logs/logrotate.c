/* SPDX-License-Identifier: Apache-2.0 */
#include "logrotate.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <zlib.h>

#include "lib/fileio.h"
#include "lib/log.h"

#define STAMP_LEN 15 /* YYYYMMDD-HHMMSS, upstream's "20060102-150405" */
/* Longest suffix we add to a log name: ".YYYYMMDD-HHMMSS.gz.tmp" */
#define SUFFIX_MAX (1 + STAMP_LEN + 7)
#define CHUNK (64 * 1024)

enum kind {
        K_PLAIN,
        K_GZ,
        K_GZ_TMP,
        K_TMP
};
static const char *const kind_suffix[] = {"", ".gz", ".gz.tmp", ".tmp"};

struct entry {
        char stamp[STAMP_LEN + 1];
        unsigned kinds; /* 1 << enum kind */
};

/* The one compression in progress. */
struct job {
        char dir[PATH_MAX], base[NAME_MAX + 1], stamp[STAMP_LEN + 1], src[NAME_MAX + 1];
        int dfd, src_fd, tmp_fd;
        z_stream zs;
        unsigned char *in, *out;
};

struct kl_logrotate {
        struct kl_logrotate_options o;
        struct job *job;
        /* What the last check renamed, for kl_logrotate_finish(). */
        bool pending;
        char pending_dir[PATH_MAX], pending_base[NAME_MAX + 1], pending_rotated[NAME_MAX + 1];
};

/* Split an absolute or relative file path into its directory and base name. */
static int split_path(const char *path, char dir[static PATH_MAX], char base[static NAME_MAX + 1]) {
        const char *slash = path ? strrchr(path, '/') : NULL;
        const char *b = slash ? slash + 1 : path;
        size_t dlen = slash ? (size_t) (slash - path) : 1;

        if (!path || !*b || streq(b, ".") || streq(b, ".."))
                return -EINVAL;
        if (strlen(b) + SUFFIX_MAX > NAME_MAX || dlen >= PATH_MAX)
                return -ENAMETOOLONG;
        if (!slash)
                memcpy(dir, ".", 2);
        else if (dlen == 0)
                memcpy(dir, "/", 2);
        else {
                memcpy(dir, path, dlen);
                dir[dlen] = '\0';
        }
        strcpy(base, b);
        return 0;
}

/* "<base>.<stamp><suffix>": the stamp and which file it is, or -1 when the
 * name is not one of ours. */
static int parse_name(const char *name, const char *base, char stamp[static STAMP_LEN + 1]) {
        size_t blen = strlen(base);
        const char *s;

        if (strncmp(name, base, blen) != 0 || name[blen] != '.')
                return -1;
        s = name + blen + 1;
        for (int i = 0; i < STAMP_LEN; i++)
                if (i == 8 ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
                        return -1;
        for (int k = K_PLAIN; k <= K_TMP; k++)
                if (streq(s + STAMP_LEN, kind_suffix[k])) {
                        memcpy(stamp, s, STAMP_LEN);
                        stamp[STAMP_LEN] = '\0';
                        return k;
                }
        return -1;
}

/* split_path() made sure that every name fits. */
static const char *make_name(char out[static NAME_MAX + 1], const char *base, const char *stamp, enum kind k) {
        int n = snprintf(out, NAME_MAX + 1, "%s.%s%s", base, stamp, kind_suffix[k]);
        assert(n > 0 && n <= NAME_MAX);
        return out;
}

static int entry_cmp(const void *a, const void *b) {
        return strcmp(((const struct entry *) a)->stamp, ((const struct entry *) b)->stamp);
}

/* The rotated files of base in dfd, one entry per stamp, oldest first. */
static int scan(int dfd, const char *base, struct entry **ret, size_t *ret_n) {
        _cleanup_free_ struct entry *v = NULL;
        size_t n = 0, cap = 0, m = 0;
        DIR *d;
        int fd, r = 0;

        fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                r = -errno;
                safe_close(fd);
                return r;
        }
        for (struct dirent *de; (de = readdir(d));) {
                char stamp[STAMP_LEN + 1];
                int k = parse_name(de->d_name, base, stamp);
                if (k < 0)
                        continue;
                if (n == cap) {
                        struct entry *nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));
                        if (!nv) {
                                r = -ENOMEM;
                                break;
                        }
                        v = nv;
                }
                memcpy(v[n].stamp, stamp, sizeof(stamp));
                v[n++].kinds = 1u << k;
        }
        closedir(d);
        if (r < 0)
                return r;
        if (n)
                qsort(v, n, sizeof(*v), entry_cmp);
        for (size_t i = 0; i < n; i++) /* merge the files of one stamp */
                if (m > 0 && streq(v[m - 1].stamp, v[i].stamp))
                        v[m - 1].kinds |= v[i].kinds;
                else
                        v[m++] = v[i];
        *ret = TAKE_PTR(v);
        *ret_n = m;
        return 0;
}

/* rename without replacing an existing target */
static int rename_noreplace(int dfd, const char *from, const char *to) {
#ifdef SYS_renameat2
        if (syscall(SYS_renameat2, dfd, from, dfd, to, 1 /* RENAME_NOREPLACE */) >= 0)
                return 0;
        if (errno != ENOSYS && errno != EINVAL)
                return -errno;
#endif
        /* The file system cannot do it atomically; we are the only writer of these names. */
        if (faccessat(dfd, to, F_OK, AT_SYMLINK_NOFOLLOW) >= 0)
                return -EEXIST;
        return renameat(dfd, from, dfd, to) < 0 ? -errno : 0;
}

static bool job_is(const struct job *j, const char *dir, const char *base) {
        return j && streq(j->dir, dir) && streq(j->base, base);
}

static void job_abort(struct kl_logrotate *lr) {
        struct job *j = lr->job;
        char tmp[NAME_MAX + 1];

        if (!j)
                return;
        (void) unlinkat(j->dfd, make_name(tmp, j->base, j->stamp, K_GZ_TMP), 0);
        deflateEnd(&j->zs);
        safe_close(j->tmp_fd);
        safe_close(j->src_fd);
        safe_close(j->dfd);
        free(j->in);
        free(j->out);
        free(j);
        lr->job = NULL;
}

static int job_start(struct kl_logrotate *lr, int dfd, const char *dir, const char *base, const char *stamp) {
        _cleanup_free_ struct job *j = NULL;
        char tmp[NAME_MAX + 1];
        struct stat st;
        int r;

        j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        j->dfd = j->src_fd = j->tmp_fd = -EBADF;
        strcpy(j->dir, dir); /* both checked by split_path() */
        strcpy(j->base, base);
        memcpy(j->stamp, stamp, sizeof(j->stamp));
        make_name(j->src, base, stamp, K_PLAIN);
        make_name(tmp, base, stamp, K_GZ_TMP);
        j->in = malloc(CHUNK);
        j->out = malloc(CHUNK);
        if (!j->in || !j->out)
                goto nomem;
        /* windowBits 15 + 16: a gzip wrapper instead of zlib's */
        r = deflateInit2(&j->zs, lr->o.compress_level ? lr->o.compress_level : Z_DEFAULT_COMPRESSION, Z_DEFLATED,
                         15 + 16, 8, Z_DEFAULT_STRATEGY);
        if (r != Z_OK)
                goto nomem;
        j->dfd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        if (j->dfd < 0)
                goto fail_errno;
        j->src_fd = openat(dfd, j->src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (j->src_fd < 0 || fstat(j->src_fd, &st) < 0)
                goto fail_errno;
        if (!S_ISREG(st.st_mode)) {
                errno = EINVAL;
                goto fail_errno;
        }
        j->tmp_fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, st.st_mode & 07777);
        if (j->tmp_fd < 0)
                goto fail_errno;
        lr->job = TAKE_PTR(j);
        return 0;
fail_errno:
        r = -errno;
        lr->job = TAKE_PTR(j);
        job_abort(lr);
        return r;
nomem:
        free(j->in);
        free(j->out);
        return -ENOMEM;
}

/* Write what deflate produced; flush selects Z_NO_FLUSH or Z_FINISH. */
static int job_deflate(struct job *j, int flush) {
        int zr;

        do {
                j->zs.next_out = j->out;
                j->zs.avail_out = CHUNK;
                zr = deflate(&j->zs, flush);
                if (zr == Z_STREAM_ERROR)
                        return -EIO;
                int r = kl_write_all(j->tmp_fd, j->out, CHUNK - j->zs.avail_out);
                if (r < 0)
                        return r;
        } while (j->zs.avail_out == 0 || (flush == Z_FINISH && zr != Z_STREAM_END));
        return 0;
}

/* The source is complete: publish the .gz and drop the source. On failure
 * the job is left for the caller to abort. */
static int job_complete(struct kl_logrotate *lr) {
        struct job *j = lr->job;
        char tmp[NAME_MAX + 1], gz[NAME_MAX + 1];
        int r;

        make_name(tmp, j->base, j->stamp, K_GZ_TMP);
        make_name(gz, j->base, j->stamp, K_GZ);
        r = job_deflate(j, Z_FINISH);
        if (r >= 0 && fsync(j->tmp_fd) < 0)
                r = -errno;
        if (r >= 0)
                r = rename_noreplace(j->dfd, tmp, gz);
        /* A .gz that already exists holds this file, compressed by a run that
         * crashed before removing the source: keep it, drop ours. */
        if (r == -EEXIST)
                r = 0;
        if (r < 0)
                return r;
        if (unlinkat(j->dfd, j->src, 0) < 0 && errno != ENOENT)
                return -errno;
        (void) fsync(j->dfd);
        log_debug("logrotate: compressed '%s/%s'", j->dir, j->src);
        return 0;
}

static int job_run(struct kl_logrotate *lr, uint64_t budget, struct kl_error *reterr) {
        struct job *j = lr->job;
        struct stat a, b;
        int r;

        if (!j)
                return 0;
        /* Removed underneath (pod deleted, or replaced)? Then give up on it. */
        if (fstatat(j->dfd, j->src, &a, AT_SYMLINK_NOFOLLOW) < 0 || fstat(j->src_fd, &b) < 0 || a.st_ino != b.st_ino ||
            a.st_dev != b.st_dev) {
                job_abort(lr);
                return 0;
        }
        while (budget > 0) {
                ssize_t n = read(j->src_fd, j->in, MIN((uint64_t) CHUNK, budget));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = -errno;
                        goto fail;
                }
                if (n == 0) {
                        r = job_complete(lr);
                        if (r < 0)
                                goto fail;
                        job_abort(lr); /* frees, and drops our .tmp if an existing .gz won */
                        return 0;
                }
                budget -= (uint64_t) n;
                j->zs.next_in = j->in;
                j->zs.avail_in = (uInt) n;
                r = job_deflate(j, Z_NO_FLUSH);
                if (r < 0)
                        goto fail;
        }
        return 1;
fail:
        kl_error_set(reterr, r, "compress '%s/%s': %s", lr->job->dir, lr->job->src, strerror(-r));
        job_abort(lr);
        return r;
}

int kl_logrotate_step(struct kl_logrotate *lr, struct kl_error *reterr) {
        if (!lr)
                return -EINVAL;
        return job_run(lr, lr->o.compress_budget, reterr);
}

/* Delete leftovers and files beyond the limit; keep at most 'keep' rotated
 * files. Returns the oldest stamp still waiting for compression in
 * ret_plain ("" when none). */
static int housekeep(struct kl_logrotate *lr, int dfd, const char *dir, const char *base, size_t keep,
                     char ret_plain[static STAMP_LEN + 1], struct kl_error *reterr) {
        _cleanup_free_ struct entry *v = NULL;
        size_t n = 0, in_use = 0;
        char name[NAME_MAX + 1];
        int r;

        ret_plain[0] = '\0';
        r = scan(dfd, base, &v, &n);
        if (r < 0)
                return kl_error_set(reterr, r, "list '%s': %s", dir, strerror(-r));
        for (size_t i = 0; i < n; i++) {
                struct entry *e = &v[i];
                bool ours = false;

                ours = job_is(lr->job, dir, base) && streq(lr->job->stamp, e->stamp);
                /* leftovers of a crash: temp files not being written, and sources already compressed */
                if (!ours && (e->kinds & (1u << K_GZ_TMP))) {
                        make_name(name, base, e->stamp, K_GZ_TMP);
                        (void) unlinkat(dfd, name, 0);
                }
                if (e->kinds & (1u << K_TMP)) {
                        make_name(name, base, e->stamp, K_TMP);
                        (void) unlinkat(dfd, name, 0);
                }
                if ((e->kinds & (1u << K_GZ)) && (e->kinds & (1u << K_PLAIN))) {
                        make_name(name, base, e->stamp, K_PLAIN);
                        if (unlinkat(dfd, name, 0) >= 0 || errno == ENOENT)
                                e->kinds &= ~(1u << K_PLAIN);
                }
                e->kinds &= (1u << K_PLAIN) | (1u << K_GZ);
                if (e->kinds)
                        in_use++;
        }
        /* the oldest go first, so `kubectl logs` readers of newer files are not disturbed */
        for (size_t i = 0; i < n && in_use > keep; i++) {
                if (!v[i].kinds)
                        continue;
                if (job_is(lr->job, dir, base) && streq(lr->job->stamp, v[i].stamp))
                        job_abort(lr);
                for (int k = K_PLAIN; k <= K_GZ; k++) {
                        make_name(name, base, v[i].stamp, k);
                        if ((v[i].kinds & (1u << k)) && unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
                                return kl_error_set(reterr, errno, "remove '%s/%s': %m", dir, name);
                }
                v[i].kinds = 0;
                in_use--;
        }
        for (size_t i = 0; i < n; i++)
                if (v[i].kinds == (1u << K_PLAIN)) {
                        memcpy(ret_plain, v[i].stamp, STAMP_LEN + 1);
                        break;
                }
        return 0;
}

/* Housekeeping, then compress within the budget (starting a job on the
 * oldest uncompressed file of this log when idle and allowed). */
static int maintain(struct kl_logrotate *lr, int dfd, const char *dir, const char *base, bool may_compress,
                    struct kl_error *reterr) {
        char plain[STAMP_LEN + 1], name[NAME_MAX + 1];
        int r;

        r = housekeep(lr, dfd, dir, base, (size_t) lr->o.max_files - 1, plain, reterr);
        if (r < 0)
                return r;
        if (!lr->job && may_compress && plain[0]) {
                make_name(name, base, plain, K_PLAIN);
                r = job_start(lr, dfd, dir, base, plain);
                if (r < 0)
                        return kl_error_set(reterr, r, "compress '%s/%s': %s", dir, name, strerror(-r));
        }
        r = job_run(lr, lr->o.compress_budget, reterr);
        return r < 0 ? r : 0;
}

static int open_dir(const char *dir) {
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int kl_logrotate_check(struct kl_logrotate *lr, const char *log_path, bool *ret_need_reopen, struct kl_error *reterr) {
        char dir[PATH_MAX], base[NAME_MAX + 1], stamp[STAMP_LEN + 1], rotated[NAME_MAX + 1], gz[NAME_MAX + 1];
        _cleanup_close_ int dfd = -EBADF;
        struct stat st;
        struct tm tm;
        time_t now;
        int r;

        if (!lr || !ret_need_reopen)
                return -EINVAL;
        r = split_path(log_path, dir, base);
        if (r < 0)
                return kl_error_set(reterr, r, "log '%s': bad path", strempty(log_path));
        dfd = open_dir(dir);
        if (dfd < 0)
                return kl_error_set(reterr, dfd, "log '%s': open directory: %s", log_path, strerror(-dfd));

        if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno != ENOENT)
                        return kl_error_set(reterr, errno, "log '%s': %m", log_path);
                /* The newest rotated file may still be the runtime's: do not compress. */
                r = maintain(lr, dfd, dir, base, false, reterr);
                if (r < 0)
                        return r;
                *ret_need_reopen = true;
                return 0;
        }
        if (!S_ISREG(st.st_mode))
                return kl_error_set(reterr, EINVAL, "log '%s': not a regular file", log_path);
        r = maintain(lr, dfd, dir, base, true, reterr);
        if (r < 0)
                return r;
        if (lr->o.max_size < 0 || st.st_size < lr->o.max_size) {
                *ret_need_reopen = false;
                return 0;
        }

        now = lr->o.now ? lr->o.now() : time(NULL);
        if (!gmtime_r(&now, &tm) || strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm) != STAMP_LEN)
                return kl_error_set(reterr, EINVAL, "log '%s': bad clock", log_path);
        make_name(rotated, base, stamp, K_PLAIN);
        make_name(gz, base, stamp, K_GZ);
        /* Rotated within this second already: try again on the next pass. */
        if (faccessat(dfd, gz, F_OK, AT_SYMLINK_NOFOLLOW) >= 0) {
                *ret_need_reopen = false;
                return 0;
        }
        r = rename_noreplace(dfd, base, rotated);
        if (r == -EEXIST) {
                *ret_need_reopen = false;
                return 0;
        }
        if (r < 0)
                return kl_error_set(reterr, r, "log '%s': rename to '%s': %s", log_path, rotated, strerror(-r));
        log_debug("logrotate: rotated '%s' (%lld bytes) to '%s'", log_path, (long long) st.st_size, rotated);
        lr->pending = true;
        snprintf(lr->pending_dir, sizeof(lr->pending_dir), "%s", dir);
        snprintf(lr->pending_base, sizeof(lr->pending_base), "%s", base);
        snprintf(lr->pending_rotated, sizeof(lr->pending_rotated), "%s", rotated);
        *ret_need_reopen = true;
        return 0;
}

int kl_logrotate_finish(struct kl_logrotate *lr, const char *log_path, bool reopen_ok, struct kl_error *reterr) {
        char dir[PATH_MAX], base[NAME_MAX + 1];
        _cleanup_close_ int dfd = -EBADF;
        bool mine;
        int r;

        if (!lr)
                return -EINVAL;
        r = split_path(log_path, dir, base);
        if (r < 0)
                return kl_error_set(reterr, r, "log '%s': bad path", strempty(log_path));
        mine = lr->pending && streq(lr->pending_dir, dir) && streq(lr->pending_base, base);
        if (mine)
                lr->pending = false;
        dfd = open_dir(dir);
        if (dfd < 0)
                return kl_error_set(reterr, dfd, "log '%s': open directory: %s", log_path, strerror(-dfd));
        if (!reopen_ok) {
                if (!mine)
                        return 0;
                /* The runtime still writes to the rotated file: give it its name back. If the
                 * runtime recreated the log after all, keep both; the rotated one is complete. */
                r = rename_noreplace(dfd, lr->pending_rotated, base);
                if (r < 0 && r != -EEXIST)
                        return kl_error_set(reterr, r, "log '%s': rename '%s' back: %s", log_path, lr->pending_rotated,
                                            strerror(-r));
                return 0;
        }
        return maintain(lr, dfd, dir, base, true, reterr);
}

int kl_logrotate_remove(struct kl_logrotate *lr, const char *log_path) {
        char dir[PATH_MAX], base[NAME_MAX + 1], stamp[STAMP_LEN + 1];
        _cleanup_close_ int dfd = -EBADF;
        int fd, r;
        DIR *d;

        if (!lr)
                return -EINVAL;
        r = split_path(log_path, dir, base);
        if (r < 0)
                return r;
        if (job_is(lr->job, dir, base))
                job_abort(lr);
        if (lr->pending && streq(lr->pending_dir, dir) && streq(lr->pending_base, base))
                lr->pending = false;
        dfd = open_dir(dir);
        if (dfd == -ENOENT)
                return 0;
        if (dfd < 0)
                return dfd;
        fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                r = -errno;
                safe_close(fd);
                return r;
        }
        for (struct dirent *de; (de = readdir(d));)
                if ((streq(de->d_name, base) || parse_name(de->d_name, base, stamp) >= 0) &&
                    unlinkat(dfd, de->d_name, 0) < 0 && errno != ENOENT && r == 0)
                        r = -errno;
        closedir(d);
        return r;
}

int kl_logrotate_remove_all(struct kl_logrotate *lr, const char *pod_log_dir) {
        size_t n;

        if (!lr || !pod_log_dir || pod_log_dir[0] != '/')
                return -EINVAL;
        n = strlen(pod_log_dir);
        while (n > 1 && pod_log_dir[n - 1] == '/')
                n--;
        if (n <= 1)
                return -EINVAL;
        if (lr->job && strncmp(lr->job->dir, pod_log_dir, n) == 0 &&
            (lr->job->dir[n] == '\0' || lr->job->dir[n] == '/'))
                job_abort(lr);
        if (lr->pending && strncmp(lr->pending_dir, pod_log_dir, n) == 0 &&
            (lr->pending_dir[n] == '\0' || lr->pending_dir[n] == '/'))
                lr->pending = false;
        return kl_rm_rf_at(AT_FDCWD, pod_log_dir);
}

int kl_logrotate_new(const struct kl_logrotate_options *opts, struct kl_logrotate **ret) {
        struct kl_logrotate *lr;
        struct kl_logrotate_options o = opts ? *opts : (struct kl_logrotate_options){};

        if (o.max_size == 0)
                o.max_size = KL_LOGROTATE_MAX_SIZE_DEFAULT;
        if (o.max_files == 0)
                o.max_files = KL_LOGROTATE_MAX_FILES_DEFAULT;
        if (o.compress_budget == 0)
                o.compress_budget = KL_LOGROTATE_BUDGET_DEFAULT;
        if (o.max_files < 2 || o.compress_level < 0 || o.compress_level > 9 || !ret)
                return -EINVAL;
        lr = calloc(1, sizeof(*lr));
        if (!lr)
                return -ENOMEM;
        lr->o = o;
        *ret = lr;
        return 0;
}

struct kl_logrotate *kl_logrotate_free(struct kl_logrotate *lr) {
        if (!lr)
                return NULL;
        job_abort(lr);
        free(lr);
        return NULL;
}
