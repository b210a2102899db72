/* SPDX-License-Identifier: Apache-2.0 */
#include "fileio.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "macros.h"

int kl_read_file_at(int dirfd, const char *path, size_t max, int nofollow, char **ret_buf, size_t *ret_len) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, cap = 0;
        struct stat st;

        /* O_NONBLOCK: opening a FIFO planted where a file was expected must not hang the caller. */
        fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (nofollow ? O_NOFOLLOW : 0));
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if (fcntl(fd, F_SETFL, 0) < 0)
                return -errno;
        if (max > SIZE_MAX - 2)
                max = SIZE_MAX - 2;

        for (;;) {
                if (len == cap) {
                        size_t ncap = cap ? (cap > SIZE_MAX / 4 ? SIZE_MAX - 1 : cap * 2) : 4096;
                        if (ncap > max + 1)
                                ncap = max + 1; /* one byte more than allowed tells "too big" from "exactly max" */
                        if (ncap <= len)
                                return -EFBIG;
                        char *n = realloc(buf, ncap + 1);
                        if (!n)
                                return -ENOMEM;
                        buf = n;
                        cap = ncap;
                }
                ssize_t k = read(fd, buf + len, cap - len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                len += (size_t) k;
                if (len > max)
                        return -EFBIG;
        }
        if (!buf) {
                buf = malloc(1);
                if (!buf)
                        return -ENOMEM;
        }
        buf[len] = '\0';
        *ret_buf = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = len;
        return 0;
}

int kl_write_all(int fd, const void *data, size_t len) {
        const char *p = data;
        while (len > 0) {
                ssize_t k = write(fd, p, len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += k;
                len -= (size_t) k;
        }
        return 0;
}

int kl_write_file_replace_at(int dirfd, const char *name, const void *data, size_t len, int mode, bool durable) {
        char tmp[PATH_MAX];
        const char *slash = strrchr(name, '/');
        size_t dlen = slash ? (size_t) (slash - name) + 1 : 0; /* "dir/" part, kept in the temp name */
        const char *base = name + dlen;
        _cleanup_close_ int fd = -EBADF, dfd = -EBADF;
        int r;

        if (!*base)
                return -EINVAL;
        if (strlen(base) + 1 + 1 + 16 + 4 > NAME_MAX || dlen + NAME_MAX + 1 > sizeof(tmp))
                return -ENAMETOOLONG;
        /* A random name with O_EXCL: never reuse (or follow) something that is already there. */
        for (int attempt = 0;; attempt++) {
                static unsigned counter;
                uint64_t rnd;
                /* Early at boot the entropy pool may not be ready: the name only has to be unused. */
                if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd)) {
                        struct timespec ts;
                        clock_gettime(CLOCK_MONOTONIC, &ts);
                        rnd = ((uint64_t) getpid() << 40) ^ ((uint64_t) ++counter << 20) ^ (uint64_t) ts.tv_nsec;
                }
                snprintf(tmp, sizeof(tmp), "%.*s.%s.%016llx.tmp", (int) dlen, name, base, (unsigned long long) rnd);
                fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
                if (fd >= 0)
                        break;
                if (errno != EEXIST || attempt >= 16)
                        return -errno;
        }
        r = kl_write_all(fd, data, len);
        if (r >= 0 && durable && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && renameat(dirfd, tmp, dirfd, name) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlinkat(dirfd, tmp, 0);
                return r;
        }
        if (!durable)
                return 0;
        /* Make the rename itself durable. */
        if (dlen > 0) {
                snprintf(tmp, sizeof(tmp), "%.*s", (int) dlen, name);
                dfd = openat(dirfd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        } else if (dirfd == AT_FDCWD)
                dfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0)
                (void) fsync(dfd);
        else if (dlen == 0 && dirfd != AT_FDCWD)
                (void) fsync(dirfd);
        return 0;
}

int kl_write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, int mode) {
        return kl_write_file_replace_at(dirfd, name, data, len, mode, true);
}

int kl_mkdir_p(const char *path, int mode) {
        char buf[PATH_MAX];
        size_t n = strlen(path);
        struct stat st;

        if (n == 0 || n >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, path, n + 1);
        for (char *p = buf + 1; *p; p++) {
                if (*p != '/' || p[-1] == '/')
                        continue;
                *p = '\0';
                if (mkdir(buf, mode) < 0 && errno != EEXIST)
                        return -errno;
                *p = '/';
        }
        if (mkdir(buf, mode) < 0 && errno != EEXIST)
                return -errno;
        /* EEXIST also means "a file is in the way". */
        if (stat(buf, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        return 0;
}

/* Remove the contents of the directory fd; never leaves the file system it is on
 * (a bind mount inside a pod directory must not take host files with it). */
static int rm_rf_children(int fd, dev_t dev) {
        DIR *d = fdopendir(fd);
        int r = 0;

        if (!d) {
                r = -errno;
                safe_close(fd);
                return r;
        }
        for (struct dirent *de; (errno = 0, de = readdir(d));) {
                struct stat st;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno != ENOENT && r == 0)
                                r = -errno;
                        continue;
                }
                if (S_ISDIR(st.st_mode)) {
                        if (st.st_dev != dev) {
                                if (r == 0)
                                        r = -EXDEV;
                                continue;
                        }
                        int cfd = openat(dirfd(d), de->d_name,
                                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
                        if (cfd < 0) {
                                if (errno != ENOENT && r == 0)
                                        r = -errno;
                                continue;
                        }
                        int q = rm_rf_children(cfd, dev);
                        if (q < 0 && r == 0)
                                r = q;
                        if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
                                r = -errno;
                } else if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT && r == 0)
                        r = -errno;
        }
        /* readdir() ending on an error (EOVERFLOW for a 32-bit build without
         * _FILE_OFFSET_BITS=64 on ext4) must not pass for an empty directory. */
        if (errno != 0 && r == 0)
                r = -errno;
        closedir(d);
        return r;
}

int kl_rm_rf_at(int dfd, const char *name) {
        struct stat st;
        int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0) {
                if (errno == ENOENT)
                        return 0;
                /* Not a directory, or a symlink (to one): remove the entry itself. */
                return unlinkat(dfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
        }
        if (fstat(fd, &st) < 0) {
                int r = -errno;
                safe_close(fd);
                return r;
        }
        int r = rm_rf_children(fd, st.st_dev);
        if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return r < 0 ? r : -errno;
        return r;
}
