/* SPDX-License-Identifier: Apache-2.0 */
#include "cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "lib/fileio.h"
#include "lib/log.h"
#include "stats.h"

#define CG_READ_MAX (64 * 1024)
#define CG_TREE_DEPTH_MAX 32
#define V1_HINT "set cgroupsPerQOS: false to run pods under the runtime's cgroups"

static const struct {
        const char *name;
        unsigned bit;
} controllers[] = {
        /* The kernel lists controllers in this order. */
        {"cpuset", KL_CG_CTRL_CPUSET},
        {"cpu", KL_CG_CTRL_CPU},
        {"memory", KL_CG_CTRL_MEMORY},
        {"pids", KL_CG_CTRL_PIDS},
};

/* "a/b/c" with no empty, "." or ".." components; a leading '/' is skipped.
 * Returns the path without the slash, or NULL when invalid. */
static const char *rel_path(const char *p) {
        const char *s;

        if (!p)
                return NULL;
        while (*p == '/')
                p++;
        if (strlen(p) >= PATH_MAX)
                return NULL;
        s = p;
        while (*s) {
                const char *e = strchrnul(s, '/');
                size_t n = (size_t) (e - s);
                if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
                        return NULL;
                s = *e ? e + 1 : e;
                if (*e && !*s) /* trailing slash */
                        return NULL;
        }
        return p;
}

bool kl_cg_path_valid(const char *path) {
        const char *p = rel_path(path);
        return p && *p;
}

static int join(const char *dir, const char *file, char *buf, size_t n) {
        const char *d = rel_path(dir);
        int k;

        if (!d)
                return -EINVAL;
        if (file && (strchr(file, '/') || !*file || streq(file, ".") || streq(file, "..")))
                return -EINVAL;
        if (!file)
                k = snprintf(buf, n, "%s", *d ? d : ".");
        else if (*d)
                k = snprintf(buf, n, "%s/%s", d, file);
        else
                k = snprintf(buf, n, "%s", file);
        if (k < 0 || (size_t) k >= n)
                return -ENAMETOOLONG;
        return 0;
}

int kl_cg_detect(const char *mount_path, unsigned flags, struct kl_error *reterr) {
        struct statfs sfs;
        struct stat st;

        if (!mount_path)
                mount_path = KL_CG_MOUNT_DEFAULT;
        if (flags & KL_CG_FAKE) {
                if (stat(mount_path, &st) < 0)
                        return kl_error_set(reterr, errno, "fake cgroup root '%s': %m", mount_path);
                if (!S_ISDIR(st.st_mode))
                        return kl_error_set(reterr, ENOTDIR, "fake cgroup root '%s' is not a directory", mount_path);
                return 0;
        }
        if (statfs(mount_path, &sfs) < 0) {
                int e = errno;
                return kl_error_set(reterr, e, "cgroup v2 is not mounted at %s (%s: %s); " V1_HINT, mount_path,
                                    mount_path, strerror(e));
        }
        if ((unsigned long) sfs.f_type == CGROUP2_SUPER_MAGIC)
                return 0;
        /* A v1 host has a tmpfs there with one mount per controller below;
         * "hybrid" adds a controller-less v2 mount at unified/. Both are v1 to us. */
        if ((unsigned long) sfs.f_type == TMPFS_MAGIC || (unsigned long) sfs.f_type == CGROUP_SUPER_MAGIC)
                return kl_error_set(reterr, EMEDIUMTYPE, "cgroup v2 is not mounted at %s (found cgroup v1); " V1_HINT,
                                    mount_path);
        return kl_error_set(reterr, EMEDIUMTYPE,
                            "cgroup v2 is not mounted at %s (found filesystem type 0x%lx); " V1_HINT, mount_path,
                            (unsigned long) sfs.f_type);
}

static int normalise_root(const char *in, char **ret) {
        char buf[PATH_MAX];
        size_t n = 0;
        const char *s = in ? in : "/";

        if (s[0] != '/')
                return -EINVAL;
        while (*s) {
                const char *e;
                size_t len;

                while (*s == '/')
                        s++;
                if (!*s)
                        break;
                e = strchrnul(s, '/');
                len = (size_t) (e - s);
                if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
                        return -EINVAL;
                if (n + 1 + len + 1 > sizeof(buf))
                        return -ENAMETOOLONG;
                buf[n++] = '/';
                memcpy(buf + n, s, len);
                n += len;
                s = e;
        }
        if (n == 0)
                buf[n++] = '/';
        buf[n] = '\0';
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

int kl_cg_open(const char *mount_path, const struct kl_cg_node_config *cfg, unsigned flags, struct kl_cg **ret,
               struct kl_error *reterr) {
        _cleanup_cg_ struct kl_cg *cg = NULL;
        int r;

        if (!mount_path)
                mount_path = KL_CG_MOUNT_DEFAULT;
        cg = calloc(1, sizeof(*cg));
        if (!cg)
                return kl_error_set(reterr, ENOMEM, "out of memory");
        cg->mount_fd = -EBADF;
        cg->flags = flags;
        cg->cfg = *cfg;
        cg->mount_path = strdup(mount_path);
        if (!cg->mount_path)
                return kl_error_set(reterr, ENOMEM, "out of memory");
        r = normalise_root(cfg->cgroup_root, &cg->root);
        if (r < 0)
                return kl_error_set(reterr, r,
                                    "invalid cgroupRoot '%s': must be an absolute path "
                                    "without '.' or '..' components",
                                    strempty(cfg->cgroup_root));
        cg->cfg.cgroup_root = cg->root;

        if (cfg->cgroups_per_qos) {
                r = kl_cg_detect(mount_path, flags, reterr);
                if (r < 0)
                        return r;
                cg->v2 = true;
        } else
                cg->v2 = kl_cg_detect(mount_path, flags, NULL) >= 0;

        if (cg->v2) {
                char *buf = NULL;

                cg->mount_fd = open(mount_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (cg->mount_fd < 0)
                        return kl_error_set(reterr, errno, "open %s: %m", mount_path);
                r = kl_cg_read(cg, "", "cgroup.controllers", &buf, NULL);
                if (r >= 0) {
                        cg->controllers = kl_cg_controllers_parse(buf);
                        free(buf);
                } else if (cfg->cgroups_per_qos)
                        return kl_error_set(reterr, r, "read %s/cgroup.controllers: %s", mount_path, strerror(-r));
        }
        log_debug("cgroup hierarchy %s: v2=%d controllers=0x%x root=%s", mount_path, cg->v2, cg->controllers, cg->root);
        *ret = TAKE_PTR(cg);
        return 0;
}

struct kl_cg *kl_cg_free(struct kl_cg *cg) {
        if (!cg)
                return NULL;
        safe_close(cg->mount_fd);
        free(cg->mount_path);
        free(cg->root);
        free(cg);
        return NULL;
}

char *kl_cg_path(const struct kl_cg *cg, const char *rel) {
        const char *root = cg->root + 1;
        char *p = NULL;

        while (rel && *rel == '/')
                rel++;
        if (!rel || !*rel)
                return strdup(root);
        if (!*root)
                return strdup(rel);
        if (asprintf(&p, "%s/%s", root, rel) < 0)
                return NULL;
        return p;
}

int kl_cg_read(const struct kl_cg *cg, const char *dir, const char *file, char **ret, size_t *ret_len) {
        char path[PATH_MAX];
        int r;

        if (cg->mount_fd < 0)
                return -EBADF;
        r = join(dir, file, path, sizeof(path));
        if (r < 0)
                return r;
        return kl_read_file_at(cg->mount_fd, path, CG_READ_MAX, 1, ret, ret_len);
}

static int write_once(int fd, const char *value) {
        size_t len = strlen(value);
        ssize_t k;

        do
                k = write(fd, value, len);
        while (k < 0 && errno == EINTR);
        if (k < 0)
                return -errno;
        if ((size_t) k != len)
                return -EIO;
        return 0;
}

/* The kernel's handling of "+a -b" writes to cgroup.subtree_control. */
static int fake_subtree_write(const struct kl_cg *cg, const char *dir, const char *value) {
        _cleanup_free_ char *avail_s = NULL, *cur_s = NULL;
        unsigned avail = 0, cur = 0;
        char buf[128] = "";
        const char *s = value;

        if (kl_cg_read(cg, dir, "cgroup.controllers", &avail_s, NULL) >= 0)
                avail = kl_cg_controllers_parse(avail_s);
        if (kl_cg_read(cg, dir, "cgroup.subtree_control", &cur_s, NULL) >= 0)
                cur = kl_cg_controllers_parse(cur_s);
        while (*s) {
                size_t n;
                unsigned bit = 0;
                char sign;

                s += strspn(s, " \n\t");
                if (!*s)
                        break;
                n = strcspn(s, " \n\t");
                sign = s[0];
                if (sign != '+' && sign != '-')
                        return -EINVAL;
                for (size_t i = 0; i < ELEMENTSOF(controllers); i++)
                        if (strlen(controllers[i].name) == n - 1 && strncmp(controllers[i].name, s + 1, n - 1) == 0)
                                bit = controllers[i].bit;
                if (!bit)
                        return -EINVAL;
                if (!(avail & bit))
                        return -ENOENT;
                if (sign == '+')
                        cur |= bit;
                else
                        cur &= ~bit;
                s += n;
        }
        for (size_t i = 0; i < ELEMENTSOF(controllers); i++)
                if (cur & controllers[i].bit) {
                        if (buf[0])
                                strcat(buf, " ");
                        strcat(buf, controllers[i].name);
                }
        strcat(buf, "\n");

        char path[PATH_MAX];
        _cleanup_close_ int dfd = -EBADF;
        int r = join(dir, NULL, path, sizeof(path));
        if (r < 0)
                return r;
        dfd = openat(cg->mount_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        return kl_write_file_atomic_at(dfd, "cgroup.subtree_control", buf, strlen(buf), 0644);
}

int kl_cg_write(const struct kl_cg *cg, const char *dir, const char *file, const char *value) {
        _cleanup_close_ int fd = -EBADF;
        char path[PATH_MAX];
        int flags = O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY;
        int r;

        if (cg->mount_fd < 0)
                return -EBADF;
        r = join(dir, file, path, sizeof(path));
        if (r < 0)
                return r;
        if (cg->flags & KL_CG_FAKE) {
                if (streq(file, "cgroup.subtree_control"))
                        return fake_subtree_write(cg, dir, value);
                flags |= O_CREAT | O_TRUNC;
        }
        fd = openat(cg->mount_fd, path, flags, 0644);
        if (fd < 0)
                return -errno;
        r = write_once(fd, value);
        log_debug("cgroup write %s = '%s': %s", path, value, r < 0 ? strerror(-r) : "ok");
        return r;
}

static int fake_populate(const struct kl_cg *cg, const char *dir) {
        _cleanup_free_ char *parent = NULL, *sub = NULL;
        char *slash;
        int r;

        parent = strdup(rel_path(dir));
        if (!parent)
                return -ENOMEM;
        slash = strrchr(parent, '/');
        if (slash)
                *slash = '\0';
        else
                parent[0] = '\0';
        if (kl_cg_read(cg, parent, "cgroup.subtree_control", &sub, NULL) < 0) {
                sub = strdup("");
                if (!sub)
                        return -ENOMEM;
        }
        r = kl_cg_write(cg, dir, "cgroup.controllers", sub);
        if (r >= 0)
                r = kl_cg_write(cg, dir, "cgroup.subtree_control", "");
        if (r >= 0)
                r = kl_cg_write(cg, dir, "cgroup.events", "populated 0\nfrozen 0\n");
        if (r >= 0)
                r = kl_cg_write(cg, dir, "cgroup.procs", "");
        return r;
}

int kl_cg_mkdir(const struct kl_cg *cg, const char *dir) {
        char path[PATH_MAX];
        int r;

        if (cg->mount_fd < 0)
                return -EBADF;
        r = join(dir, NULL, path, sizeof(path));
        if (r < 0)
                return r;
        if (mkdirat(cg->mount_fd, path, 0755) < 0)
                return errno == EEXIST ? 0 : -errno;
        if (cg->flags & KL_CG_FAKE) {
                r = fake_populate(cg, dir);
                if (r < 0)
                        return r;
        }
        return 1;
}

int kl_cg_populated(const struct kl_cg *cg, const char *dir) {
        _cleanup_free_ char *buf = NULL;
        uint64_t v;
        size_t len;
        int r;

        r = kl_cg_read(cg, dir, "cgroup.events", &buf, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = kl_cg_kv_get(buf, len, "populated", &v);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        return v != 0;
}

static int rmdir_tree(const struct kl_cg *cg, const char *path, unsigned depth) {
        _cleanup_close_ int fd = -EBADF;
        DIR *d;
        struct dirent *de;
        char **subdirs = NULL, **files = NULL;
        size_t n_sub = 0, n_files = 0;
        int r;

        if (depth > CG_TREE_DEPTH_MAX)
                return -ELOOP;
        fd = openat(cg->mount_fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        r = kl_cg_populated(cg, path);
        if (r > 0)
                return -EBUSY;

        d = fdopendir(fd);
        if (!d)
                return -errno;
        fd = -EBADF; /* owned by d now */
        r = 0;
        while (r >= 0 && (errno = 0, de = readdir(d))) {
                struct stat st;
                char ***list;
                size_t *n;
                char **nl;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (S_ISDIR(st.st_mode)) {
                        list = &subdirs;
                        n = &n_sub;
                } else if (cg->flags & KL_CG_FAKE) {
                        list = &files;
                        n = &n_files;
                } else
                        continue;
                nl = realloc(*list, (*n + 1) * sizeof(char *));
                if (!nl) {
                        r = -ENOMEM;
                        break;
                }
                *list = nl;
                if (asprintf(&nl[*n], "%s/%s", path, de->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                (*n)++;
        }
        closedir(d);

        for (size_t i = 0; r >= 0 && i < n_sub; i++) {
                int k = rmdir_tree(cg, subdirs[i], depth + 1);
                if (k < 0)
                        r = k;
        }
        for (size_t i = 0; r >= 0 && i < n_files; i++)
                if (unlinkat(cg->mount_fd, files[i], 0) < 0 && errno != ENOENT)
                        r = -errno;
        for (size_t i = 0; i < n_sub; i++)
                free(subdirs[i]);
        for (size_t i = 0; i < n_files; i++)
                free(files[i]);
        free(subdirs);
        free(files);
        if (r < 0)
                return r;
        if (unlinkat(cg->mount_fd, path, AT_REMOVEDIR) < 0) {
                if (errno == ENOENT)
                        return 0;
                return -errno;
        }
        log_debug("removed cgroup %s", path);
        return 1;
}

int kl_cg_rmdir_tree(const struct kl_cg *cg, const char *dir) {
        char path[PATH_MAX];
        int r;

        if (cg->mount_fd < 0)
                return -EBADF;
        r = join(dir, NULL, path, sizeof(path));
        if (r < 0)
                return r;
        if (streq(path, "."))
                return -EINVAL; /* never the mount itself */
        return rmdir_tree(cg, path, 0);
}

unsigned kl_cg_controllers_parse(const char *s) {
        unsigned mask = 0;

        while (s && *s) {
                size_t n;

                s += strspn(s, " \n\t");
                n = strcspn(s, " \n\t");
                for (size_t i = 0; i < ELEMENTSOF(controllers); i++)
                        if (n == strlen(controllers[i].name) && strncmp(s, controllers[i].name, n) == 0)
                                mask |= controllers[i].bit;
                s += n;
        }
        return mask;
}

int kl_cg_controllers_read(const struct kl_cg *cg, const char *dir, const char *file, unsigned *ret) {
        _cleanup_free_ char *buf = NULL;
        int r;

        r = kl_cg_read(cg, dir, file ? file : "cgroup.controllers", &buf, NULL);
        if (r < 0)
                return r;
        *ret = kl_cg_controllers_parse(buf);
        return 0;
}

/* "mount" + "/dir" for messages, without a dangling slash for the mount root. */
#define SEP(dir) (rel_path(dir) && *rel_path(dir) ? "/" : ""), (rel_path(dir) ? rel_path(dir) : "")

static const char *ctrl_name(unsigned bit) {
        for (size_t i = 0; i < ELEMENTSOF(controllers); i++)
                if (controllers[i].bit == bit)
                        return controllers[i].name;
        return "?";
}

int kl_cg_enable_controllers(const struct kl_cg *cg, const char *dir, unsigned wanted, unsigned required,
                             struct kl_error *reterr) {
        unsigned avail = 0, cur = 0, todo;
        char buf[128] = "";
        int r;

        r = kl_cg_controllers_read(cg, dir, NULL, &avail);
        if (r < 0)
                return kl_error_set(reterr, r, "read %s%s%s/cgroup.controllers: %s", cg->mount_path, SEP(dir),
                                    strerror(-r));
        for (size_t i = 0; i < ELEMENTSOF(controllers); i++)
                if ((required & controllers[i].bit) && !(avail & controllers[i].bit))
                        return kl_error_set(reterr, ENOENT, "cgroup controller '%s' is not available in %s%s%s",
                                            controllers[i].name, cg->mount_path, SEP(dir));
        wanted &= avail;
        (void) kl_cg_controllers_read(cg, dir, "cgroup.subtree_control", &cur);
        todo = wanted & ~cur;
        if (!todo)
                return (int) wanted;

        for (size_t i = 0; i < ELEMENTSOF(controllers); i++)
                if (todo & controllers[i].bit) {
                        if (buf[0])
                                strcat(buf, " ");
                        strcat(buf, "+");
                        strcat(buf, controllers[i].name);
                }
        r = kl_cg_write(cg, dir, "cgroup.subtree_control", buf);
        if (r >= 0)
                return (int) wanted;

        /* One at a time, to learn which one the kernel refuses (cpu fails
         * with EINVAL while realtime tasks sit in the subtree, for one). */
        for (size_t i = 0; i < ELEMENTSOF(controllers); i++) {
                unsigned bit = controllers[i].bit;
                if (!(todo & bit))
                        continue;
                snprintf(buf, sizeof(buf), "+%s", controllers[i].name);
                r = kl_cg_write(cg, dir, "cgroup.subtree_control", buf);
                if (r >= 0)
                        continue;
                if (required & bit)
                        return kl_error_set(reterr, r, "enable controller '%s' in %s%s%s: %s%s", ctrl_name(bit),
                                            cg->mount_path, SEP(dir), strerror(-r),
                                            r == -EBUSY ? " (a cgroup holding processes cannot pass "
                                                          "controllers down: is kubelet-lite itself "
                                                          "running inside cgroupRoot?)"
                                                        : "");
                log_debug("cannot enable optional controller %s in %s: %s, ignoring", controllers[i].name,
                          rel_path(dir), strerror(-r));
                wanted &= ~bit;
        }
        return (int) wanted;
}
