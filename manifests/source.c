/* SPDX-License-Identifier: Apache-2.0 */
#include "manifests/source.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "lib/log.h"
#include "lib/macros.h"
#include "manifests/identity.h"
#include "manifests/strv.h"

#define DIR_MASK                                                                                                \
        (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ATTRIB | \
         IN_CREATE | IN_MODIFY | IN_ONLYDIR)
#define PARENT_MASK (IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

struct pods {
        struct kl_pod **v;
        size_t n;
};

struct file {
        char *name;
        bool parsed; /* parsed at least once: it has an entry */

        /* the fingerprint of the content parsed last */
        bool have_fp;
        dev_t dev;
        ino_t ino;
        off_t size;
        struct timespec mtime, ctime;

        /* inotify state since the last parse */
        bool dirty;   /* an event named it: reparse whatever the fingerprint says */
        bool writing; /* written to and not closed yet */
        uint64_t last_write;
        bool early;          /* due at once as complete: its parse had no quiet time */
        uint64_t hold_until; /* an early parse was invalid: its error waits until then */

        /* the last parse: pods when valid, else the errors */
        struct pods cur;
        bool cur_valid;
        bool cur_accepted; /* cur is what the entry shows */
        char *cur_error;
        char **warnings;
        /* pods of the last accepted parse, when cur is not accepted */
        struct pods good;

        /* what the entry shows */
        char *error;
        char *reported_error; /* error at the previous sync, for error_is_new */
        bool error_is_new;
        const struct pods *shown;
};

struct kl_source {
        char *dir;
        char *node_name;
        struct kl_manifest_opts opts;
        int fd;
        int wd;
        dev_t dir_dev; /* what wd watches */
        ino_t dir_ino;
        int parent_wd;
        char *parent_path;
        bool dir_present;

        bool pending; /* a debounced change waits */
        uint64_t pending_at;
        uint64_t next_rescan;
        uint64_t next_listing; /* when the directory is read whole again */
        uint64_t write_wait;   /* a deferred file is read at this time anyway */
        bool full_rescan;      /* events were lost: reparse everything */

        struct file **files; /* sorted by name */
        size_t n_files;
        struct kl_source_entry *entries;
        size_t n_entries;
        uint8_t digest[32]; /* of what the entries showed at the last sync */

        /* names logged as ignored at the previous scan, sorted: each is
         * logged once while it stays (40,000 editor swap files must not make
         * a rescan quadratic, nor flood the log) */
        char **ignored;
        size_t n_ignored;

        char **suffixes;    /* manifestSuffixes; NULL: .yaml, .yml, .json */
        char **skipped_new; /* "'NAME': REASON" skipped for the first time by the last scan */
        size_t n_skipped_new, n_skipped_more;
        uint64_t now; /* of the sync in progress */
};

static char *mfree_str(char *p) {
        free(p);
        return NULL;
}

/* ---- names ------------------------------------------------------------------ */

static bool has_suffix(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && streq(s + a - b, suffix);
}

static bool suffix_ok(const char *name, char *const *suffixes) {
        if (!suffixes)
                return has_suffix(name, ".yaml") || has_suffix(name, ".yml") || has_suffix(name, ".json");
        for (char *const *p = suffixes; *p; p++)
                if (streq(*p, "*") || has_suffix(name, *p))
                        return true;
        return false;
}

const char *kl_source_ignore_reason(const char *name) {
        return kl_source_ignore_reason_with(name, NULL);
}

const char *kl_source_ignore_reason_with(const char *name, char *const *suffixes) {
        for (const char *c = name; *c; c++)
                if ((unsigned char) *c < 0x20 || *c == 0x7f)
                        return "control characters in the name";
        if (name[0] == '.')
                return "hidden file";
        if (has_suffix(name, "~") || has_suffix(name, ".swp") || has_suffix(name, ".swx") || streq(name, "4913") ||
            (name[0] == '#' && has_suffix(name, "#")))
                return "editor temporary file";
        if (has_suffix(name, ".bak") || has_suffix(name, ".tmp"))
                return "backup or temporary file";
        const char *ext = strrchr(name, '.');
        if (ext && (strncmp(ext, ".dpkg-", 6) == 0 || strncmp(ext, ".rpm", 4) == 0))
                return "package manager file";
        if (!suffix_ok(name, suffixes))
                return suffixes ? "its suffix is not in manifestSuffixes" : "not a .yaml, .yml or .json file";
        return NULL;
}

/* ---- files ------------------------------------------------------------------ */

static void pods_free(struct pods *p) {
        for (size_t i = 0; i < p->n; i++)
                kl_pod_free(p->v[i]);
        free(p->v);
        *p = (struct pods){0};
}

static struct file *file_free(struct file *f) {
        if (!f)
                return NULL;
        free(f->name);
        pods_free(&f->cur);
        pods_free(&f->good);
        free(f->cur_error);
        kl__strv_free(f->warnings);
        free(f->error);
        free(f->reported_error);
        free(f);
        return NULL;
}

static int file_cmp(const void *a, const void *b) {
        return strcmp((*(struct file *const *) a)->name, (*(struct file *const *) b)->name);
}

static struct file *find_file(struct kl_source *s, const char *name) {
        struct file key = {.name = (char *) name}, *kp = &key, **f;
        if (s->n_files == 0)
                return NULL;
        f = bsearch(&kp, s->files, s->n_files, sizeof(*s->files), file_cmp);
        return f ? *f : NULL;
}

static struct file *add_file(struct kl_source *s, const char *name) {
        struct file *f, **v;

        v = realloc(s->files, (s->n_files + 1) * sizeof(*v));
        if (!v)
                return NULL;
        s->files = v;
        f = calloc(1, sizeof(*f));
        if (!f || !(f->name = strdup(name)))
                return file_free(f);
        s->files[s->n_files++] = f;
        qsort(s->files, s->n_files, sizeof(*s->files), file_cmp);
        return f;
}

static void drop_files(struct kl_source *s, const bool *keep) {
        size_t k = 0;
        for (size_t i = 0; i < s->n_files; i++) {
                if (keep && keep[i])
                        s->files[k++] = s->files[i];
                else {
                        if (s->files[i]->parsed)
                                log_debug("manifest '%s/%s' is gone", s->dir, s->files[i]->name);
                        file_free(s->files[i]);
                }
        }
        s->n_files = k;
}

/* ---- watches ------------------------------------------------------------------ */

static void schedule(struct kl_source *s, uint64_t at) {
        if (!s->pending || at > s->pending_at)
                s->pending_at = at; /* every event restarts the quiet time */
        s->pending = true;
}

/* A complete file: due now, whatever else waits for its quiet time (files
 * still being written are deferred by the scan itself). */
static void schedule_now(struct kl_source *s, uint64_t now) {
        if (!s->pending || now < s->pending_at)
                s->pending_at = now;
        s->pending = true;
}

static void drop_parent_watch(struct kl_source *s) {
        if (s->parent_wd >= 0)
                (void) inotify_rm_watch(s->fd, s->parent_wd);
        s->parent_wd = -1;
        s->parent_path = mfree_str(s->parent_path);
}

/* While the directory is missing, watch its nearest existing ancestor for
 * the creation of the next path component. */
static void watch_parent(struct kl_source *s) {
        _cleanup_free_ char *p = strdup(s->dir);
        if (!p)
                return;
        for (;;) {
                char *slash = strrchr(p, '/');
                if (!slash)
                        return;
                if (slash == p)
                        slash[1] = '\0';
                else
                        *slash = '\0';
                if (s->parent_path && streq(s->parent_path, p) && s->parent_wd >= 0)
                        return; /* already there */
                int wd = inotify_add_watch(s->fd, p, PARENT_MASK);
                if (wd >= 0) {
                        drop_parent_watch(s);
                        s->parent_wd = wd;
                        s->parent_path = TAKE_PTR(p);
                        log_debug("manifest directory '%s' is missing, watching '%s'", s->dir, s->parent_path);
                        return;
                }
                if ((errno != ENOENT && errno != ENOTDIR) || streq(p, "/"))
                        return; /* the periodic rescan retries */
        }
}

/* Returns true when the directory is watched. */
static bool ensure_watch(struct kl_source *s) {
        struct stat st;

        /* the path may now lead elsewhere (a symlink switched, the directory
         * replaced between two events): watch what it is now */
        if (s->wd >= 0 && (stat(s->dir, &st) < 0 || st.st_dev != s->dir_dev || st.st_ino != s->dir_ino)) {
                (void) inotify_rm_watch(s->fd, s->wd);
                s->wd = -1;
        }
        if (s->wd >= 0)
                return true;
        s->wd = inotify_add_watch(s->fd, s->dir, DIR_MASK);
        if (s->wd < 0 || stat(s->dir, &st) < 0) {
                log_debug_errno(errno, "cannot watch manifest directory '%s'", s->dir);
                if (s->wd >= 0)
                        (void) inotify_rm_watch(s->fd, s->wd);
                s->wd = -1;
                watch_parent(s);
                return false;
        }
        s->dir_dev = st.st_dev;
        s->dir_ino = st.st_ino;
        drop_parent_watch(s);
        return true;
}

/* ---- events ------------------------------------------------------------------- */

static void on_dir_event(struct kl_source *s, const struct inotify_event *ev, uint64_t now, bool *relevant) {
        if (ev->mask & IN_IGNORED) {
                s->wd = -1;
                schedule(s, now);
                *relevant = true;
                return;
        }
        if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
                (void) inotify_rm_watch(s->fd, s->wd);
                s->wd = -1;
                schedule(s, now);
                *relevant = true;
                return;
        }
        if (ev->len == 0 || (ev->mask & IN_ISDIR))
                return;

        struct file *f = find_file(s, ev->name);
        if (!f) {
                if (kl_source_ignore_reason_with(ev->name, s->suffixes) || (ev->mask & (IN_DELETE | IN_MOVED_FROM)))
                        return;
                f = add_file(s, ev->name);
                if (!f) {
                        s->full_rescan = true; /* lost track: start over */
                        schedule(s, now);
                        *relevant = true;
                        return;
                }
        }
        f->dirty = true;
        /* A file that arrives complete (renamed in, closed after writing, a
         * hard link or symlink made) or is deleted is read at once; only
         * files still being written, attribute changes and files renamed away
         * (often the first half of a replace) wait for the quiet time. */
        bool complete = false;
        if (ev->mask & IN_MODIFY) {
                f->writing = true;
                f->last_write = now;
        } else if (ev->mask & IN_CREATE) {
                /* a fresh empty file is about to be written; links and
                 * symlinks are complete as they are */
                struct stat st;
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "%s/%s", s->dir, ev->name) >= 0 && lstat(path, &st) == 0) {
                        if (S_ISREG(st.st_mode) && st.st_nlink == 1 && st.st_size == 0) {
                                f->writing = true;
                                f->last_write = now;
                        } else
                                complete = true;
                }
        } else if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) {
                f->writing = false;
                complete = true;
        } else if (ev->mask & IN_DELETE) {
                /* unlinked: a removal, acted on at once (an editor's save
                 * renames the old file away instead, IN_MOVED_FROM, and that
                 * waits for the quiet time in case it comes back) */
                f->writing = false;
                complete = true;
        } else if (ev->mask & IN_MOVED_FROM)
                f->writing = false;
        f->early = complete;
        if (complete)
                schedule_now(s, now);
        else
                schedule(s, now + s->opts.debounce_usec);
        *relevant = true;
}

int kl_source_handle_events(struct kl_source *s, uint64_t now_usec) {
        /* room for many events per read; at least one maximal event */
        _Alignas(struct inotify_event) char buf[64 * 1024];
        bool relevant = false;

        _Static_assert(sizeof(buf) >= sizeof(struct inotify_event) + NAME_MAX + 1, "buffer too small");
        for (;;) {
                ssize_t n = read(s->fd, buf, sizeof(buf));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                break;
                        return -errno;
                }
                if (n == 0)
                        break;
                for (char *p = buf; p < buf + n;) {
                        const struct inotify_event *ev = (const struct inotify_event *) p;
                        p += sizeof(*ev) + ev->len;
                        if (ev->mask & IN_Q_OVERFLOW) {
                                log_debug("inotify queue overflow for '%s', rescanning", s->dir);
                                s->full_rescan = true;
                                schedule(s, now_usec);
                                relevant = true;
                        } else if (ev->wd == s->wd && s->wd >= 0)
                                on_dir_event(s, ev, now_usec, &relevant);
                        else if (ev->wd == s->parent_wd && s->parent_wd >= 0) {
                                if (ev->mask & IN_IGNORED)
                                        s->parent_wd = -1;
                                schedule(s, now_usec + s->opts.debounce_usec);
                                relevant = true;
                        }
                }
        }
        return relevant ? 1 : 0;
}

uint64_t kl_source_next_deadline(struct kl_source *s) {
        uint64_t t = s->next_rescan;
        if (s->pending)
                t = MIN(t, s->pending_at);
        if (s->write_wait)
                t = MIN(t, s->write_wait);
        return t;
}

int kl_source_fd(struct kl_source *s) {
        return s->fd;
}

/* ---- scanning ------------------------------------------------------------------- */

static bool fp_equal(const struct file *f, const struct stat *st) {
        return f->have_fp && f->dev == st->st_dev && f->ino == st->st_ino && f->size == st->st_size &&
               f->mtime.tv_sec == st->st_mtim.tv_sec && f->mtime.tv_nsec == st->st_mtim.tv_nsec &&
               f->ctime.tv_sec == st->st_ctim.tv_sec && f->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

static int parse_file(struct kl_source *s, int dfd, struct file *f) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct kl_manifest m;
        struct stat st;
        int r;

        if (asprintf(&path, "%s/%s", s->dir, f->name) < 0)
                return -ENOMEM;
        fd = openat(dfd, f->name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0 && errno == ENOENT)
                return -ENOENT; /* gone since readdir */
        if (fd < 0 || fstat(fd, &st) < 0) {
                r = kl_manifest_parse_file(dfd, f->name, path, s->node_name, &s->opts, &m);
                st = (struct stat){0};
        } else
                r = kl_manifest_parse_fd(fd, path, s->node_name, &s->opts, &m);
        if (r == -ENOMEM)
                return r;
        log_debug("parsed manifest '%s': %zu pods, %s", path, m.n_pods, m.errors ? "invalid" : "valid");

        /* an accepted previous parse becomes the fallback */
        if (f->cur_accepted) {
                pods_free(&f->good);
                f->good = f->cur;
                f->cur = (struct pods){0};
        }
        pods_free(&f->cur);
        f->cur_accepted = false;
        f->cur_error = mfree_str(f->cur_error);
        kl__strv_free(f->warnings);
        f->warnings = TAKE_PTR(m.warnings);
        f->cur_valid = !m.errors;
        if (m.errors) {
                f->cur_error = kl__strv_join(m.errors, "\n");
                if (!f->cur_error) {
                        kl_manifest_done(&m);
                        return -ENOMEM;
                }
        } else {
                f->cur.v = TAKE_PTR(m.pods);
                f->cur.n = m.n_pods;
                m.n_pods = 0;
        }
        kl_manifest_done(&m);

        f->have_fp = true;
        f->dev = st.st_dev;
        f->ino = st.st_ino;
        f->size = st.st_size;
        f->mtime = st.st_mtim;
        f->ctime = st.st_ctim;
        f->parsed = true;
        f->dirty = false;
        return 0;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static bool sorted_contains(char *const *v, size_t n, const char *name) {
        return n > 0 && bsearch(&name, v, n, sizeof(char *), cmp_str);
}

/* Names skipped by one scan, as an array with its length: pushing onto a
 * strv walks it each time. */
struct names {
        char **v;
        size_t n, cap;
};

static void names_done(struct names *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i]);
        free(l->v);
        *l = (struct names){};
}

static int names_push(struct names *l, const char *name) {
        if (l->n + 1 >= l->cap) {
                size_t cap = MAX(l->cap * 2, (size_t) 16);
                char **v = realloc(l->v, cap * sizeof(char *));
                if (!v)
                        return -ENOMEM;
                l->v = v;
                l->cap = cap;
        }
        if (!(l->v[l->n] = strdup(name)))
                return -ENOMEM;
        l->v[++l->n] = NULL;
        return 0;
}

/* Once per name while it stays in the directory, with the reason, for the
 * daemon to log (kl_source_skipped): a file that is not read should never be
 * a mystery. */
static void log_ignored(struct kl_source *s, const char *name, const char *why, struct names *seen, struct names *fresh,
                        size_t *more) {
        if (!sorted_contains(s->ignored, s->n_ignored, name)) {
                char safe[NAME_MAX + 1], line[NAME_MAX + 128];
                snprintf(safe, sizeof(safe), "%s", name);
                for (char *c = safe; *c; c++)
                        if ((unsigned char) *c < 0x20 || *c == 0x7f)
                                *c = '?'; /* one log line per name */
                log_debug("ignoring '%s/%s': %s", s->dir, safe, why);
                snprintf(line, sizeof(line), "'%s': %s", safe, why);
                if (fresh->n < KL_SOURCE_SKIPPED_MAX)
                        (void) names_push(fresh, line);
                else
                        (*more)++;
        }
        (void) names_push(seen, name);
}

/* listing: read the directory whole (at start, periodically, after lost
 * events); otherwise inotify has told us every name that changed and only
 * the known files are looked at, however many ignored names the directory
 * holds. */
static int scan(struct kl_source *s, uint64_t now, bool force, bool listing) {
        _cleanup_(names_done) struct names ignored = {}, present = {}, fresh = {};
        size_t more = 0;
        _cleanup_free_ bool *keep = NULL;
        _cleanup_close_ int dfd = -EBADF;
        DIR *d;
        int r = 0;

        dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        if (!listing)
                goto changed;
        int dfd2 = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        if (dfd2 < 0)
                return -errno;
        d = fdopendir(dfd2);
        if (!d) {
                r = -errno;
                safe_close(dfd2);
                return r;
        }

        /* Pass 1: learn the names present. */
        for (struct dirent *de; (errno = 0, de = readdir(d));) {
                const char *why = kl_source_ignore_reason_with(de->d_name, s->suffixes);
                struct stat st;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (why) {
                        log_ignored(s, de->d_name, why, &ignored, &fresh, &more);
                        continue;
                }
                if (fstatat(dfd, de->d_name, &st, 0) < 0) {
                        log_ignored(s, de->d_name, errno == ENOENT ? "dangling symlink" : strerror(errno), &ignored,
                                    &fresh, &more);
                        continue;
                }
                if (S_ISDIR(st.st_mode)) {
                        log_ignored(s, de->d_name, "a directory", &ignored, &fresh, &more);
                        continue;
                }
                if (!S_ISREG(st.st_mode)) {
                        log_ignored(s, de->d_name, "not a regular file", &ignored, &fresh, &more);
                        continue;
                }
                if (names_push(&present, de->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
        }
        if (errno != 0 && r == 0)
                r = -errno;
        closedir(d);
        if (r < 0)
                return r;
        kl__strv_free(s->ignored);
        if (ignored.n > 0)
                qsort(ignored.v, ignored.n, sizeof(char *), cmp_str);
        s->ignored = TAKE_PTR(ignored.v);
        s->n_ignored = ignored.n;
        ignored = (struct names){};
        kl__strv_free(s->skipped_new);
        s->skipped_new = TAKE_PTR(fresh.v);
        s->n_skipped_new = fresh.n;
        s->n_skipped_more = more;
        fresh = (struct names){};

        if (present.n > 0)
                qsort(present.v, present.n, sizeof(char *), cmp_str);
        for (size_t i = 0; i < present.n; i++)
                if (!find_file(s, present.v[i]) && !add_file(s, present.v[i]))
                        return -ENOMEM;

        /* Pass 2: parse what changed, drop what is gone. */
changed:
        keep = calloc(s->n_files + 1, sizeof(bool));
        if (!keep)
                return -ENOMEM;
        s->write_wait = 0;
        for (size_t i = 0; i < s->n_files; i++) {
                struct file *f = s->files[i];
                struct stat st;

                if (listing && !sorted_contains(present.v, present.n, f->name))
                        continue; /* an event named it, but it is not (or no longer) there */
                if (fstatat(dfd, f->name, &st, 0) < 0 || !S_ISREG(st.st_mode))
                        continue;
                keep[i] = true;
                if (f->writing && now < f->last_write + s->opts.max_write_wait_usec && !force) {
                        /* still open for writing: wait for IN_CLOSE_WRITE, a while */
                        uint64_t t = f->last_write + s->opts.max_write_wait_usec;
                        s->write_wait = s->write_wait ? MIN(s->write_wait, t) : t;
                        continue;
                }
                if (f->parsed && !f->dirty && !force && !s->full_rescan && fp_equal(f, &st))
                        continue;
                f->writing = false;
                r = parse_file(s, dfd, f);
                if (r == -ENOMEM)
                        return r;
                /* Read at once as complete, but invalid: maybe a file written
                 * in several opens (echo >> three times). Its error waits
                 * for the quiet time; a further change reads it again. */
                f->hold_until = 0;
                if (f->early && !force && !f->cur_valid) {
                        f->hold_until = now + s->opts.debounce_usec;
                        schedule(s, f->hold_until);
                }
                f->early = false;
                if (r < 0)
                        keep[i] = false; /* vanished between readdir and open */
        }
        drop_files(s, keep);
        return 0;
}

/* ---- resolving entries ------------------------------------------------------------- */

static const struct kl_pod *find_claim(struct kl_source *s, size_t before, const struct kl_pod *p,
                                       const struct file **ret_file) {
        for (size_t i = 0; i < before; i++) {
                const struct pods *sh = s->files[i]->shown;
                for (size_t k = 0; sh && k < sh->n; k++)
                        if (streq_ptr(sh->v[k]->name, p->name) && streq_ptr(sh->v[k]->namespace, p->namespace)) {
                                *ret_file = s->files[i];
                                return sh->v[k];
                        }
        }
        return NULL;
}

/* First conflict of a set of pods with files before index i, as an error
 * message, or NULL. */
static char *conflict(struct kl_source *s, size_t i, const struct pods *pods, bool *oom) {
        for (size_t k = 0; k < pods->n; k++) {
                const struct file *other = NULL;
                const struct kl_pod *q = find_claim(s, i, pods->v[k], &other);
                char *msg;
                if (!q)
                        continue;
                if (asprintf(&msg,
                             "%s/%s:%u:%u: metadata.name: pod \"%s/%s\" is already defined in %s/%s:%u:%u "
                             "(the first file in sorted order wins)",
                             s->dir, s->files[i]->name, pods->v[k]->pos.line, pods->v[k]->pos.col,
                             pods->v[k]->namespace, pods->v[k]->name, s->dir, other->name, q->pos.line,
                             q->pos.col) < 0) {
                        *oom = true;
                        return NULL;
                }
                return msg;
        }
        return NULL;
}

static int resolve(struct kl_source *s) {
        bool oom = false;

        for (size_t i = 0; i < s->n_files; i++) {
                struct file *f = s->files[i];
                char *err = NULL;

                f->shown = NULL;
                free(f->error);
                f->error = NULL;
                if (!f->parsed)
                        continue;
                if (f->cur_valid) {
                        err = conflict(s, i, &f->cur, &oom);
                        if (!err && !oom) {
                                f->cur_accepted = true;
                                f->shown = &f->cur;
                                pods_free(&f->good); /* superseded */
                                continue;
                        }
                        f->cur_accepted = false;
                } else if (f->cur_error && !(err = strdup(f->cur_error)))
                        oom = true;
                if (err && f->hold_until > s->now) {
                        free(err);
                        err = NULL;
                }
                f->error = err;
                /* keep the last good pods unless they clash with an earlier file */
                if (f->good.n > 0) {
                        char *c = conflict(s, i, &f->good, &oom);
                        if (c)
                                free(c);
                        else
                                f->shown = &f->good;
                }
        }
        return oom ? -ENOMEM : 0;
}

static int build_entries(struct kl_source *s, bool *ret_changed) {
        struct kl_source_entry *e;
        struct kl_sha256 h;
        uint8_t digest[32];
        size_t n = 0;

        e = calloc(s->n_files + 1, sizeof(*e));
        if (!e)
                return -ENOMEM;
        kl_sha256_init(&h);
        for (size_t i = 0; i < s->n_files; i++) {
                struct file *f = s->files[i];
                if (!f->parsed)
                        continue;
                f->error_is_new = f->error && !streq_ptr(f->error, f->reported_error);
                free(f->reported_error);
                f->reported_error = f->error ? strdup(f->error) : NULL;
                e[n] = (struct kl_source_entry){
                        .file = f->name,
                        .pods = f->shown ? f->shown->v : NULL,
                        .n_pods = f->shown ? f->shown->n : 0,
                        .error = f->error,
                        .warnings = f->warnings,
                        .error_is_new = f->error_is_new,
                };
                kl_sha256_update(&h, f->name, strlen(f->name) + 1);
                kl_sha256_update(&h, strempty(f->error), strlen(strempty(f->error)) + 1);
                for (char **w = f->warnings; w && *w; w++)
                        kl_sha256_update(&h, *w, strlen(*w) + 1);
                kl_sha256_update(&h, "\n", 1);
                for (size_t k = 0; k < e[n].n_pods; k++)
                        kl_sha256_update(&h, strempty(e[n].pods[k]->uid), strlen(strempty(e[n].pods[k]->uid)) + 1);
                kl_sha256_update(&h, "\n", 1);
                n++;
        }
        kl_sha256_final(&h, digest);
        free(s->entries);
        s->entries = e;
        s->n_entries = n;
        *ret_changed = memcmp(digest, s->digest, sizeof(digest)) != 0;
        memcpy(s->digest, digest, sizeof(digest));
        return 0;
}

int kl_source_sync(struct kl_source *s, uint64_t now_usec, bool force, bool *ret_changed) {
        bool due = force || now_usec >= kl_source_next_deadline(s);
        int r;

        *ret_changed = false;
        if (!due)
                return 0;
        s->skipped_new = kl__strv_free(s->skipped_new);
        s->n_skipped_new = s->n_skipped_more = 0;
        s->now = now_usec;

        s->pending = false;
        s->next_rescan = now_usec + s->opts.rescan_usec;
        bool watched = s->wd >= 0; /* a watch made now may have missed changes */
        if (!ensure_watch(s)) {
                if (s->dir_present)
                        log_debug("manifest directory '%s' is gone, dropping its pods", s->dir);
                s->dir_present = false;
                s->write_wait = 0;
                drop_files(s, NULL);
        } else {
                bool listing = force || s->full_rescan || !s->dir_present || !watched || now_usec >= s->next_listing;
                r = scan(s, now_usec, force, listing);
                if (listing && r >= 0)
                        s->next_listing = now_usec + s->opts.rescan_usec;
                if (r == -ENOENT || r == -ENOTDIR) {
                        /* removed between the watch and the scan: the watch reports it */
                        drop_files(s, NULL);
                        s->dir_present = false;
                } else if (r < 0) {
                        schedule(s, now_usec + s->opts.rescan_usec);
                        return r;
                } else
                        s->dir_present = true;
                s->full_rescan = false;
        }
        r = resolve(s);
        if (r < 0)
                return r;
        return build_entries(s, ret_changed);
}

const struct kl_source_entry *kl_source_entries(struct kl_source *s, size_t *ret_n) {
        *ret_n = s->n_entries;
        return s->entries;
}

/* Drop "." components, repeated and trailing slashes, in place; ".." stays
 * (resolving it would need the file system, and symlinks make it ambiguous). */
static void normalize_path(char *p) {
        char *w = p;
        for (const char *r = p; *r;) {
                if (*r == '/') {
                        r++;
                        continue;
                }
                size_t n = strcspn(r, "/");
                if (!(n == 1 && r[0] == '.')) {
                        *w++ = '/';
                        memmove(w, r, n);
                        w += n;
                }
                r += n;
        }
        if (w == p)
                *w++ = '/';
        *w = '\0';
}

int kl_source_absolute_path(const char *path, char **ret) {
        char *p;

        if (path[0] == '/')
                p = strdup(path);
        else {
                _cleanup_free_ char *cwd = getcwd(NULL, 0);
                if (!cwd)
                        return -errno;
                if (asprintf(&p, "%s/%s", cwd, path) < 0)
                        p = NULL;
        }
        if (!p)
                return -ENOMEM;
        normalize_path(p);
        *ret = p;
        return 0;
}

/* ---- life cycle --------------------------------------------------------------------- */

int kl_source_new(const char *dir, const char *node_name, const struct kl_manifest_opts *opts, struct kl_source **ret) {
        _cleanup_(kl_source_freep) struct kl_source *s = NULL;
        int r;

        if (!dir || !*dir || !node_name)
                return -EINVAL;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->fd = -EBADF;
        s->wd = s->parent_wd = -1;
        if (opts)
                s->opts = *opts;
        else
                kl_manifest_opts_default(&s->opts);
        if (s->opts.rescan_usec == 0) {
                /* 0 would rescan in a busy loop; upstream's zero means its default */
                struct kl_manifest_opts def;
                kl_manifest_opts_default(&def);
                s->opts.rescan_usec = def.rescan_usec;
        }

        r = kl_source_absolute_path(dir, &s->dir);
        if (r < 0)
                return r;
        s->node_name = strdup(node_name);
        if (!s->node_name)
                return -ENOMEM;

        /* "changed" is relative to no entries at all */
        bool unused;
        if (build_entries(s, &unused) < 0)
                return -ENOMEM;

        s->fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (s->fd < 0)
                return -errno;
        (void) ensure_watch(s);
        /* the first sync is due at once */
        s->pending = true;
        s->pending_at = 0;
        *ret = TAKE_PTR(s);
        return 0;
}

struct kl_source *kl_source_free(struct kl_source *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_files; i++)
                file_free(s->files[i]);
        free(s->files);
        free(s->entries);
        safe_close(s->fd);
        free(s->dir);
        free(s->node_name);
        free(s->parent_path);
        kl__strv_free(s->ignored);
        kl__strv_free(s->suffixes);
        kl__strv_free(s->skipped_new);
        free(s);
        return NULL;
}

char *const *kl_source_skipped(struct kl_source *s, size_t *ret_n, size_t *ret_more) {
        *ret_n = s->n_skipped_new;
        *ret_more = s->n_skipped_more;
        return s->skipped_new;
}

int kl_source_set_suffixes(struct kl_source *s, char *const *suffixes) {
        char **n = NULL;
        if (suffixes && kl__strv_dup(suffixes, &n) < 0)
                return -ENOMEM;
        kl__strv_free(s->suffixes);
        s->suffixes = n;
        /* names skipped before may be read now, and the other way round */
        s->full_rescan = true;
        kl__strv_free(s->ignored);
        s->ignored = NULL;
        s->n_ignored = 0;
        schedule_now(s, 0);
        return 0;
}
