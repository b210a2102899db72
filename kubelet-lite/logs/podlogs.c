/* SPDX-License-Identifier: Apache-2.0 */
#include "podlogs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <zlib.h>

#include "kubelet-lite/apiserver/apiconn.h"
#include "kubelet-lite/event.h"
#include "lib/macros.h"

#define MAX_FILES 32
#define LINE_MAX_LEN (64 * 1024)
#define READ_CHUNK 16384

static bool parse_i64(const char *s, int64_t *ret) {
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno || end == s || *end)
                return false;
        *ret = v;
        return true;
}

int kl_podlogs_parse_query(const char *query, struct kl_podlogs_opts *ret, char *container, size_t container_size,
                           char *errbuf, size_t errsize) {
        struct kl_podlogs_opts o = {.tail_lines = -1};
        char v[128];
        int64_t n;

        container[0] = '\0';
        (void) kl_api_query_get(query, "container", container, container_size);
        static const struct {
                const char *key;
                bool *dst;
        } bools[] = {{"follow", NULL}, {"previous", NULL}, {"timestamps", NULL}};
        bool *dsts[] = {&o.follow, &o.previous, &o.timestamps};
        for (size_t i = 0; i < ELEMENTSOF(bools); i++)
                if (kl_api_query_get(query, bools[i].key, v, sizeof(v))) {
                        if (streq(v, "true") || streq(v, "1") || streq(v, ""))
                                *dsts[i] = true;
                        else if (!streq(v, "false") && !streq(v, "0")) {
                                snprintf(errbuf, errsize, "%s: invalid boolean '%s'", bools[i].key, v);
                                return -EINVAL;
                        }
                }
        static const char *const ints[] = {"tailLines", "sinceSeconds", "limitBytes"};
        int64_t *idst[] = {&o.tail_lines, &o.since_seconds, &o.limit_bytes};
        for (size_t i = 0; i < ELEMENTSOF(ints); i++)
                if (kl_api_query_get(query, ints[i], v, sizeof(v))) {
                        /* validation as upstream's ValidatePodLogOptions */
                        if (!parse_i64(v, &n) || n < 0 || (i > 0 && n < 1)) {
                                snprintf(errbuf, errsize, "%s: must be %s", ints[i],
                                         i == 0 ? "greater than or equal to 0" : "greater than 0");
                                return -EINVAL;
                        }
                        *idst[i] = n;
                }
        if (kl_api_query_get(query, "sinceTime", v, sizeof(v))) {
                if (o.since_seconds > 0) {
                        snprintf(errbuf, errsize, "at most one of sinceTime or sinceSeconds may be specified");
                        return -EINVAL;
                }
                if (kl_podlogs_parse_time(v, strlen(v), &o.since_nsec) < 0) {
                        snprintf(errbuf, errsize, "sinceTime: invalid time '%s'", v);
                        return -EINVAL;
                }
        }
        if (o.since_seconds > 0) {
                int64_t now = kl_realtime_nsec();
                o.since_nsec = now - o.since_seconds * 1000000000LL;
        }
        *ret = o;
        return 0;
}

static int digits(const char *s, size_t n, int *ret) {
        int v = 0;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EBADMSG;
                v = v * 10 + (s[i] - '0');
        }
        *ret = v;
        return 0;
}

int kl_podlogs_parse_time(const char *s, size_t len, int64_t *ret) {
        int Y, M, D, h, m, sec;
        int64_t frac = 0;
        size_t i = 19;
        if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
                return -EBADMSG;
        if (digits(s, 4, &Y) < 0 || digits(s + 5, 2, &M) < 0 || digits(s + 8, 2, &D) < 0 || digits(s + 11, 2, &h) < 0 ||
            digits(s + 14, 2, &m) < 0 || digits(s + 17, 2, &sec) < 0)
                return -EBADMSG;
        if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
                return -EBADMSG;
        if (s[i] == '.') {
                int nd = 0;
                for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, nd++)
                        if (nd < 9)
                                frac = frac * 10 + (s[i] - '0');
                if (nd == 0)
                        return -EBADMSG;
                for (; nd < 9; nd++)
                        frac *= 10;
        }
        int64_t off = 0;
        if (i < len && (s[i] == 'Z' || s[i] == 'z'))
                i++;
        else if (i + 6 == len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
                int oh, om;
                if (digits(s + i + 1, 2, &oh) < 0 || digits(s + i + 4, 2, &om) < 0 || oh > 23 || om > 59)
                        return -EBADMSG;
                off = (s[i] == '+' ? 1 : -1) * (int64_t) (oh * 3600 + om * 60);
                i += 6;
        } else
                return -EBADMSG;
        if (i != len)
                return -EBADMSG;
        struct tm tm = {.tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D, .tm_hour = h, .tm_min = m, .tm_sec = sec};
        int64_t t = (int64_t) timegm(&tm) - off;
        *ret = t * 1000000000LL + frac;
        return 0;
}

int kl_podlogs_parse_line(const char *s, size_t len, struct kl_podlogs_line *ret) {
        const char *sp1 = memchr(s, ' ', len);
        if (!sp1)
                return -EBADMSG;
        size_t tl = (size_t) (sp1 - s), rest = len - tl - 1;
        const char *st = sp1 + 1;
        const char *sp2 = memchr(st, ' ', rest);
        if (!sp2)
                return -EBADMSG;
        size_t sl = (size_t) (sp2 - st);
        bool err;
        if (sl == 6 && memcmp(st, "stdout", 6) == 0)
                err = false;
        else if (sl == 6 && memcmp(st, "stderr", 6) == 0)
                err = true;
        else
                return -EBADMSG;
        const char *tag = sp2 + 1;
        size_t tagrest = len - (size_t) (tag - s);
        /* The tag: "P" or "F", maybe more ':'-separated fields later; then a space. */
        const char *sp3 = memchr(tag, ' ', tagrest);
        size_t tagl = sp3 ? (size_t) (sp3 - tag) : tagrest;
        if (tagl == 0)
                return -EBADMSG;
        struct kl_podlogs_line l = {.ts = s, .ts_len = tl, .stderr_stream = err, .partial = tag[0] == 'P'};
        if (kl_podlogs_parse_time(s, tl, &l.nsec) < 0)
                return -EBADMSG;
        l.content = sp3 ? sp3 + 1 : tag + tagl;
        l.content_len = len - (size_t) (l.content - s);
        *ret = l;
        return 0;
}

/* ---- files ----------------------------------------------------------------- */

struct kl_podlogs {
        struct kl_podlogs_opts o;
        char dir[4096];
        unsigned instance;
        char *files[MAX_FILES];
        size_t n_files, idx;
        gzFile gz;
        ino_t live_ino;
        bool live;       /* gz reads the live <n>.log */
        int64_t skip;    /* lines still to skip for tailLines */
        int64_t written; /* bytes, for limitBytes */
        char *line;
        size_t line_len;
        bool done;
};

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Instances: <n>.log and <n>.log.* names; the newest and the one before. */
static int find_instances(const char *dir, long *ret_cur, long *ret_prev) {
        DIR *d = opendir(dir);
        long cur = -1, prev = -1;
        if (!d)
                return -errno;
        for (struct dirent *de; (de = readdir(d));) {
                char *end;
                if (de->d_name[0] < '0' || de->d_name[0] > '9')
                        continue;
                long n = strtol(de->d_name, &end, 10);
                if (strncmp(end, ".log", 4) != 0 || (end[4] != '\0' && end[4] != '.') || n < 0)
                        continue;
                if (n > cur) {
                        if (cur >= 0)
                                prev = cur;
                        cur = n;
                } else if (n < cur && n > prev)
                        prev = n;
        }
        closedir(d);
        *ret_cur = cur;
        *ret_prev = prev;
        return 0;
}

static int list_files(struct kl_podlogs *l) {
        char base[32];
        DIR *d = opendir(l->dir);
        if (!d)
                return -errno;
        snprintf(base, sizeof(base), "%u.log.", l->instance);
        for (struct dirent *de; (de = readdir(d)) && l->n_files < MAX_FILES - 1;) {
                size_t bl = strlen(base), nl = strlen(de->d_name);
                /* rotated: <n>.log.<stamp> or <n>.log.<stamp>.gz, never the .tmp of one in progress */
                if (strncmp(de->d_name, base, bl) != 0 || (nl > 4 && streq(de->d_name + nl - 4, ".tmp")))
                        continue;
                if (!(l->files[l->n_files] = strdup(de->d_name))) {
                        closedir(d);
                        return -ENOMEM;
                }
                l->n_files++;
        }
        closedir(d);
        /* the stamp sorts by time; a .gz and its source never both remain */
        qsort(l->files, l->n_files, sizeof(char *), cmp_str);
        char live[32];
        snprintf(live, sizeof(live), "%u.log", l->instance);
        if (!(l->files[l->n_files++] = strdup(live)))
                return -ENOMEM;
        return 0;
}

static int open_file(struct kl_podlogs *l, size_t i) {
        char p[4096 + 64];
        if (l->gz) {
                gzclose(l->gz);
                l->gz = NULL;
        }
        snprintf(p, sizeof(p), "%s/%s", l->dir, l->files[i]);
        int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                close(fd);
                return -EINVAL;
        }
        l->live = i == l->n_files - 1;
        l->live_ino = st.st_ino;
        l->gz = gzdopen(fd, "rb"); /* plain files are read through as they are */
        if (!l->gz) {
                close(fd);
                return -ENOMEM;
        }
        return 0;
}

/* Calls fn for each complete line of the current file; returns 1 if stopped by fn. */
typedef int (*line_fn)(struct kl_podlogs *l, const char *s, size_t n, void *ud);

/* Reads up to one chunk and feeds lines; returns 0 at EOF, 1 when bytes were read, <0 error. */
static int feed(struct kl_podlogs *l, line_fn fn, void *ud) {
        char buf[READ_CHUNK];
        int n = gzread(l->gz, buf, sizeof(buf));
        if (n < 0)
                return -EIO;
        if (n == 0) {
                gzclearerr(l->gz); /* keep reading a file that grows */
                return 0;
        }
        for (int i = 0; i < n;) {
                char *nl = memchr(buf + i, '\n', (size_t) (n - i));
                size_t take = nl ? (size_t) (nl - (buf + i)) : (size_t) (n - i);
                size_t room = LINE_MAX_LEN - l->line_len;
                memcpy(l->line + l->line_len, buf + i, MIN(take, room));
                l->line_len += MIN(take, room);
                i += (int) take;
                if (nl) {
                        i++;
                        int r = fn(l, l->line, l->line_len, ud);
                        l->line_len = 0;
                        if (r != 0)
                                return r < 0 ? r : 2;
                }
        }
        return 1;
}

static bool line_selected(struct kl_podlogs *l, const char *s, size_t n, struct kl_podlogs_line *pl) {
        if (kl_podlogs_parse_line(s, n, pl) < 0)
                return false; /* as upstream: a malformed line is skipped */
        return l->o.since_nsec <= 0 || pl->nsec >= l->o.since_nsec;
}

static int count_line(struct kl_podlogs *l, const char *s, size_t n, void *ud) {
        struct kl_podlogs_line pl;
        if (line_selected(l, s, n, &pl) && !pl.partial)
                (*(int64_t *) ud)++;
        return 0;
}

struct emit_ctx {
        struct kl_buf *out;
        size_t max;
};

static int emit_line(struct kl_podlogs *l, const char *s, size_t n, void *ud) {
        struct emit_ctx *e = ud;
        struct kl_podlogs_line pl;
        if (!line_selected(l, s, n, &pl))
                return 0;
        if (l->skip > 0) {
                if (!pl.partial)
                        l->skip--;
                return 0;
        }
        size_t start = e->out->len;
        if (l->o.timestamps) {
                kl_buf_append(e->out, pl.ts, pl.ts_len);
                kl_buf_puts(e->out, " ");
        }
        kl_buf_append(e->out, pl.content, pl.content_len);
        if (!pl.partial)
                kl_buf_puts(e->out, "\n");
        size_t added = e->out->len - start;
        if (l->o.limit_bytes > 0 && l->written + (int64_t) added >= l->o.limit_bytes) {
                e->out->len = start + (size_t) (l->o.limit_bytes - l->written);
                l->written = l->o.limit_bytes;
                l->done = true;
                return 1;
        }
        l->written += (int64_t) added;
        return 0; /* the rest of the chunk is kept: the caller checks the size */
}

int kl_podlogs_open(const char *dir, const struct kl_podlogs_opts *o, struct kl_podlogs **ret) {
        long cur, prev;
        int r = find_instances(dir, &cur, &prev);
        if (r < 0)
                return r;
        long want = o->previous ? prev : cur;
        if (want < 0)
                return -ENOENT;
        struct kl_podlogs *l = calloc(1, sizeof(*l));
        if (!l || !(l->line = malloc(LINE_MAX_LEN))) {
                free(l);
                return -ENOMEM;
        }
        l->o = *o;
        if (o->previous)
                l->o.follow = false; /* a previous instance does not grow */
        l->instance = (unsigned) want;
        snprintf(l->dir, sizeof(l->dir), "%s", dir);
        if ((r = list_files(l)) < 0)
                goto fail;
        if (o->tail_lines >= 0) {
                /* A first pass counts the lines, so the second skips all but the tail. */
                int64_t total = 0;
                for (size_t i = 0; i < l->n_files; i++) {
                        if (open_file(l, i) < 0)
                                continue;
                        while ((r = feed(l, count_line, &total)) > 0)
                                ;
                        l->line_len = 0;
                }
                l->skip = total > o->tail_lines ? total - o->tail_lines : 0;
        }
        l->idx = 0;
        while (l->idx < l->n_files && open_file(l, l->idx) < 0)
                l->idx++;
        *ret = l;
        return 0;
fail:
        kl_podlogs_free(l);
        return r;
}

struct kl_podlogs *kl_podlogs_free(struct kl_podlogs *l) {
        if (!l)
                return NULL;
        if (l->gz)
                gzclose(l->gz);
        for (size_t i = 0; i < l->n_files; i++)
                free(l->files[i]);
        free(l->line);
        free(l);
        return NULL;
}

/* Following the live file at its end: it may have been rotated (reopen the
 * new <n>.log), or a newer instance may have started (stop). */
static int follow_check(struct kl_podlogs *l) {
        char p[4096 + 64];
        struct stat st;
        long cur, prev;
        snprintf(p, sizeof(p), "%s/%u.log", l->dir, l->instance);
        if (stat(p, &st) == 0 && st.st_ino != l->live_ino)
                return open_file(l, l->n_files - 1) < 0 ? 0 : 1;
        if (find_instances(l->dir, &cur, &prev) == 0 && cur > (long) l->instance)
                return 2;
        return 0;
}

int kl_podlogs_read(struct kl_podlogs *l, struct kl_buf *out, size_t max) {
        struct emit_ctx e = {.out = out, .max = out->len + max};
        for (;;) {
                if (l->done)
                        return 2;
                if (l->idx >= l->n_files || !l->gz)
                        return 2;
                int r = feed(l, emit_line, &e);
                if (r < 0)
                        return r;
                if (l->done)
                        return 2;
                if (r == 1) {
                        if (out->len >= e.max)
                                return 1;
                        continue;
                }
                /* end of this file */
                if (!l->live) {
                        l->line_len = 0;
                        l->idx++;
                        while (l->idx < l->n_files && open_file(l, l->idx) < 0)
                                l->idx++;
                        continue;
                }
                if (!l->o.follow)
                        return 2;
                r = follow_check(l);
                if (r == 2)
                        return 2;
                if (r == 1)
                        continue;
                return 0;
        }
}
