/* SPDX-License-Identifier: Apache-2.0 */
/* Image preloading for devices that must run offline from their first boot.
 *
 * CRI has no call to import an image, so the archives are handed to
 * containerd's own client, ctr, in the k8s.io namespace that the CRI plugin
 * uses. One import runs at a time, as a child process watched through the
 * daemon's SIGCHLD; a stamp file under root-dir remembers what was imported
 * (name, size, mtime), so a reboot does not import the same archives again. */
#include "preload.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/macros.h"
#include "lib/strbuf.h"
#include "kubelet-lite/event.h"
#include "manifests/strv.h"

#define STAMP_FILE "preloaded-images"
#define STAMP_MAX (256 * 1024)
#define MAX_ARCHIVES 256

struct kl_preload {
        char *dir, *root_dir, *address, *ctr;
        char **todo; /* archive names still to import */
        size_t n_todo, next;
        pid_t pid;
        char *current;
        uint64_t current_t0;  /* CLOCK_MONOTONIC usec the import started */
        int64_t current_size; /* bytes of the archive */
        double last_seconds;  /* of the last import collected */
        bool last_ok;
        struct kl_buf stamp; /* lines "name size mtime" of what is imported */
        unsigned imported, failed;
        char **refs; /* image refs the archives name: never garbage-collected */
};

/* The image refs an OCI archive names: the org.opencontainers.image.ref.name
 * annotations of its index.json, read from the (uncompressed) tar by
 * skipping from header to header; the blobs are never read. */
#define TAR_BLOCK 512
#define INDEX_MAX (64 * 1024)
#define REF_ANNOTATION "\"org.opencontainers.image.ref.name\""

static int64_t tar_octal(const char *f, size_t n) {
        int64_t v = 0;
        for (size_t i = 0; i < n && f[i]; i++) {
                if (f[i] == ' ')
                        continue;
                if (f[i] < '0' || f[i] > '7')
                        return -1;
                v = v * 8 + (f[i] - '0');
        }
        return v;
}

static void refs_from_index(const char *json, char ***refs) {
        for (const char *p = strstr(json, REF_ANNOTATION); p; p = strstr(p, REF_ANNOTATION)) {
                p += strlen(REF_ANNOTATION);
                while (*p == ' ' || *p == ':' || *p == '\n' || *p == '\t')
                        p++;
                if (*p != '"')
                        continue;
                const char *e = strchr(++p, '"');
                if (!e || e - p > 400)
                        continue;
                char ref[512];
                memcpy(ref, p, (size_t) (e - p));
                ref[e - p] = '\0';
                if (ref[0] && !kl__strv_contains(*refs, ref))
                        (void) kl__strv_push(refs, ref);
                p = e;
        }
}

static void archive_refs(int dfd, const char *name, char ***refs) {
        _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        char h[TAR_BLOCK];
        off_t off = 0;

        for (int i = 0; fd >= 0 && i < 100000; i++) {
                if (pread(fd, h, sizeof(h), off) != (ssize_t) sizeof(h) || !h[0])
                        return;
                int64_t size = tar_octal(h + 124, 12);
                if (size < 0)
                        return;
                char entry[101];
                memcpy(entry, h, 100);
                entry[100] = '\0';
                const char *base = strncmp(entry, "./", 2) == 0 ? entry + 2 : entry;
                if ((h[156] == '0' || h[156] == '\0') && streq(base, "index.json") && size < INDEX_MAX) {
                        _cleanup_free_ char *json = malloc((size_t) size + 1);
                        if (!json || pread(fd, json, (size_t) size, off + TAR_BLOCK) != (ssize_t) size)
                                return;
                        json[size] = '\0';
                        refs_from_index(json, refs);
                        return;
                }
                off += TAR_BLOCK + (size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
        }
}

static char *socket_from_endpoint(const char *endpoint) {
        if (strncmp(endpoint, "unix://", 7) == 0)
                endpoint += 7;
        return strdup(endpoint);
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int kl_preload_new(const char *dir, const char *root_dir, const char *endpoint, const char *ctr_path,
                   struct kl_preload **ret) {
        struct kl_preload *p = calloc(1, sizeof(*p));
        _cleanup_free_ char *old = NULL;
        DIR *d;

        if (!p)
                return -ENOMEM;
        p->dir = strdup(dir);
        p->root_dir = strdup(root_dir);
        p->address = socket_from_endpoint(endpoint);
        p->ctr = strdup(ctr_path ? ctr_path : "ctr");
        p->todo = calloc(MAX_ARCHIVES, sizeof(char *));
        if (!p->dir || !p->root_dir || !p->address || !p->ctr || !p->todo) {
                kl_preload_free(p);
                return -ENOMEM;
        }

        /* What an earlier boot imported. */
        int dfd = open(root_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
                (void) kl_read_file_at(dfd, STAMP_FILE, STAMP_MAX, 1, &old, NULL);
                safe_close(dfd);
        }

        d = opendir(dir);
        if (!d) {
                int r = errno == ENOENT ? 0 : -errno;
                *ret = p; /* nothing to preload */
                return r;
        }
        struct dirent *de;
        while ((de = readdir(d)) && p->n_todo < MAX_ARCHIVES) {
                size_t n = strlen(de->d_name);
                struct stat st;
                char line[512];
                if (de->d_name[0] == '.' || n < 5 || strcmp(de->d_name + n - 4, ".tar") != 0)
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
                        continue;
                archive_refs(dirfd(d), de->d_name, &p->refs);
                snprintf(line, sizeof(line), "%s %lld %lld\n", de->d_name, (long long) st.st_size,
                         (long long) st.st_mtime);
                if (old && strstr(old, line) && (strstr(old, line) == old || strstr(old, line)[-1] == '\n')) {
                        kl_buf_puts(&p->stamp, line); /* already imported and unchanged */
                        continue;
                }
                p->todo[p->n_todo++] = strdup(de->d_name);
        }
        closedir(d);
        qsort(p->todo, p->n_todo, sizeof(char *), cmp_str);
        *ret = p;
        return 0;
}

struct kl_preload *kl_preload_free(struct kl_preload *p) {
        if (!p)
                return NULL;
        if (p->pid > 0) {
                /* Let a running import finish on its own; containerd keeps what it wrote. */
                log_debug("preload: leaving import of '%s' (pid %d) running", strempty(p->current), (int) p->pid);
        }
        for (size_t i = 0; p->todo && i < p->n_todo; i++)
                free(p->todo[i]);
        free(p->todo);
        free(p->dir);
        free(p->root_dir);
        free(p->address);
        free(p->ctr);
        free(p->current);
        kl_buf_free_contents(&p->stamp);
        kl__strv_free(p->refs);
        free(p);
        return NULL;
}

static int spawn(struct kl_preload *p, const char *name) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", p->dir, name);
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL); /* the daemon blocks everything */
                signal(SIGPIPE, SIG_DFL);
                int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (devnull >= 0) {
                        dup2(devnull, STDIN_FILENO);
                        dup2(devnull, STDOUT_FILENO);
                }
                execlp(p->ctr, p->ctr, "--address", p->address, "--namespace", "k8s.io", "images", "import", path,
                       (char *) NULL);
                fprintf(stderr, "preload: exec %s: %m\n", p->ctr);
                _exit(127);
        }
        struct stat st;
        p->pid = pid;
        free(p->current);
        p->current = strdup(name);
        p->current_t0 = kl_now_usec();
        p->current_size = stat(path, &st) == 0 ? (int64_t) st.st_size : -1;
        log_info("preloading images from '%s' (%lld bytes; archive %zu of %zu)", path, (long long) p->current_size,
                 p->next, p->n_todo);
        return 0;
}

int kl_preload_step(struct kl_preload *p) {
        while (p->pid <= 0 && p->next < p->n_todo) {
                const char *name = p->todo[p->next++];
                int r = spawn(p, name);
                if (r >= 0)
                        return 1;
                log_warning_errno(r, "preload: could not run '%s' for '%s', skipping", p->ctr, name);
                p->failed++;
        }
        return p->pid > 0 ? 1 : 0;
}

static void save_stamp(struct kl_preload *p) {
        int dfd = open(p->root_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return;
        (void) kl_write_file_atomic_at(dfd, STAMP_FILE, p->stamp.data ? p->stamp.data : "", p->stamp.len, 0644);
        safe_close(dfd);
}

int kl_preload_reap(struct kl_preload *p) {
        int status;

        if (p->pid <= 0)
                return 0;
        pid_t r;
        do
                r = waitpid(p->pid, &status, WNOHANG);
        while (r < 0 && errno == EINTR);
        if (r <= 0)
                return 0;
        p->pid = 0;
        double secs = (double) (kl_now_usec() - p->current_t0) / 1e6;
        p->last_seconds = secs;
        p->last_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                struct stat st;
                char path[4096], line[512];
                snprintf(path, sizeof(path), "%s/%s", p->dir, p->current);
                if (stat(path, &st) == 0) {
                        snprintf(line, sizeof(line), "%s %lld %lld\n", p->current, (long long) st.st_size,
                                 (long long) st.st_mtime);
                        kl_buf_puts(&p->stamp, line);
                }
                p->imported++;
                log_info("preloaded the images of '%s' (%lld bytes in %.3fs)", p->current, (long long) p->current_size,
                         secs);
        } else {
                p->failed++;
                log_warning("preload: importing '%s' failed (%s %d) after %.3fs, skipping", p->current,
                            WIFEXITED(status) ? "exit status" : "signal",
                            WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), secs);
        }
        if (p->next >= p->n_todo)
                save_stamp(p);
        return 1;
}

bool kl_preload_done(const struct kl_preload *p) {
        return p->pid <= 0 && p->next >= p->n_todo;
}

unsigned kl_preload_imported(const struct kl_preload *p) {
        return p->imported;
}

void kl_preload_last(const struct kl_preload *p, struct kl_preload_result *ret) {
        *ret = (struct kl_preload_result){
                .name = p->current, .size = p->current_size, .seconds = p->last_seconds, .ok = p->last_ok};
}

char *const *kl_preload_refs(const struct kl_preload *p) {
        return p ? p->refs : NULL;
}
