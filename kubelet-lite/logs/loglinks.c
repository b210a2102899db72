/* SPDX-License-Identifier: Apache-2.0 */
#include "loglinks.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fileio.h"
#include "lib/macros.h"

/* upstream's logSymlink: "<pod>_<ns>_<container>-<id>", cut so that the name
 * with ".log" fits in 255 bytes. */
static int link_path(const char *dir, const char *pod, const char *ns, const char *container, const char *id, char *buf,
                     size_t n) {
        char name[NAME_MAX + 1];
        int k = snprintf(name, sizeof(name) - 4, "%s_%s_%s-%s", pod, ns, container, id);
        if (k < 0)
                return -EINVAL;
        if (strchr(name, '/'))
                return -EINVAL;
        k = snprintf(buf, n, "%s/%s.log", dir, name);
        return k < 0 || (size_t) k >= n ? -ENAMETOOLONG : 0;
}

int kl_loglinks_add(const char *dir, const char *pod, const char *ns, const char *container, const char *id,
                    const char *target) {
        char path[PATH_MAX];
        int r = link_path(dir, pod, ns, container, id, path, sizeof(path));
        if (r < 0)
                return r;
        if ((r = kl_mkdir_p(dir, 0755)) < 0)
                return r;
        if (symlink(target, path) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int kl_loglinks_remove(const char *dir, const char *pod, const char *ns, const char *container, const char *id) {
        char path[PATH_MAX];
        int r = link_path(dir, pod, ns, container, id, path, sizeof(path));
        if (r < 0)
                return r;
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

/* The links in dir whose target is under prefix_dir (and, when name_prefix
 * is given, whose name starts with it); only dangling ones when
 * only_dangling. */
static int remove_links(const char *dir, const char *name_prefix, const char *prefix_dir, bool only_dangling) {
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        size_t ll = strlen(prefix_dir), nl = name_prefix ? strlen(name_prefix) : 0;
        int removed = 0;

        if (dfd < 0)
                return errno == ENOENT ? 0 : -errno;
        int fd2 = dup(dfd);
        DIR *d = fd2 >= 0 ? fdopendir(fd2) : NULL;
        if (!d) {
                safe_close(fd2);
                return -errno;
        }
        for (struct dirent *de; (de = readdir(d));) {
                char target[PATH_MAX];
                struct stat st;
                if ((de->d_type != DT_LNK && de->d_type != DT_UNKNOWN) ||
                    (name_prefix && strncmp(de->d_name, name_prefix, nl) != 0))
                        continue;
                ssize_t n = readlinkat(dfd, de->d_name, target, sizeof(target) - 1);
                if (n < 0)
                        continue;
                target[n] = 0;
                /* only ours: links into podLogsDir */
                if (strncmp(target, prefix_dir, ll) != 0 || target[ll] != '/')
                        continue;
                if (only_dangling && (stat(target, &st) == 0 || errno != ENOENT))
                        continue;
                if (unlinkat(dfd, de->d_name, 0) == 0)
                        removed++;
        }
        closedir(d);
        return removed;
}

int kl_loglinks_remove_pod(const char *dir, const char *pod, const char *ns, const char *pod_log_dir) {
        char prefix[NAME_MAX + 1];
        int k = snprintf(prefix, sizeof(prefix), "%s_%s_", pod, ns);
        if (k < 0 || (size_t) k >= sizeof(prefix))
                return -ENAMETOOLONG;
        return remove_links(dir, prefix, pod_log_dir, false);
}

int kl_loglinks_gc(const char *dir, const char *logs_dir) {
        return remove_links(dir, NULL, logs_dir, true);
}
