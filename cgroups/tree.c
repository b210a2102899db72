/* SPDX-License-Identifier: Apache-2.0 */
#include "tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include "convert.h"
#include "lib/log.h"
#include "lib/macros.h"

#define UID_MAX_LEN 64
#define REQUIRED_CTRLS (KL_CG_CTRL_CPU | KL_CG_CTRL_MEMORY)

static const char *const qos_dirs[] = {
        [KL_CG_QOS_GUARANTEED] = "",
        [KL_CG_QOS_BURSTABLE] = "burstable",
        [KL_CG_QOS_BEST_EFFORT] = "besteffort",
};

const char *kl_cg_qos_dir(enum kl_cg_qos qos) {
        return (unsigned) qos < ELEMENTSOF(qos_dirs) ? qos_dirs[qos] : NULL;
}

static bool uid_valid(const char *uid) {
        size_t n = uid ? strlen(uid) : 0;

        if (n == 0 || n > UID_MAX_LEN)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = uid[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '_'))
                        return false;
        }
        return true;
}

/* Relative path of kubepods[/sub] under cgroupRoot. */
static char *kubepods_path(const struct kl_cg *cg, const char *sub) {
        _cleanup_free_ char *rel = NULL;

        if (sub && *sub) {
                if (asprintf(&rel, "kubepods/%s", sub) < 0)
                        return NULL;
        } else if (!(rel = strdup("kubepods")))
                return NULL;
        return kl_cg_path(cg, rel);
}

static int write_val(const struct kl_cg *cg, const char *dir, unsigned mask, unsigned bit, const char *file,
                     const char *value, struct kl_error *reterr) {
        int r;

        if (!(mask & bit))
                return 0;
        r = kl_cg_write(cg, dir, file, value);
        if (r < 0)
                return kl_error_set(reterr, r, "write '%s' to %s/%s/%s: %s", value, cg->mount_path, dir, file,
                                    strerror(-r));
        return 0;
}

static int write_weight(const struct kl_cg *cg, const char *dir, unsigned mask, int64_t milli,
                        struct kl_error *reterr) {
        char buf[32];

        snprintf(buf, sizeof(buf), "%" PRIu64, kl_cg_shares_to_weight(kl_cg_milli_to_shares(milli)));
        return write_val(cg, dir, mask, KL_CG_CTRL_CPU, "cpu.weight", buf, reterr);
}

static int write_max(const struct kl_cg *cg, const char *dir, unsigned mask, unsigned bit, const char *file, int64_t v,
                     struct kl_error *reterr) {
        char buf[32];

        kl_cg_format_max(v, buf, sizeof(buf));
        return write_val(cg, dir, mask, bit, file, buf, reterr);
}

/* mkdir + enable controllers for the cgroups below; returns the controllers
 * usable in dir itself (its cgroup.controllers). */
static int make_level(const struct kl_cg *cg, const char *dir, bool mk, struct kl_error *reterr) {
        unsigned mine = 0;
        int r;

        if (mk) {
                r = kl_cg_mkdir(cg, dir);
                if (r < 0)
                        return kl_error_set(reterr, r, "create cgroup %s/%s: %s", cg->mount_path, dir, strerror(-r));
        }
        r = kl_cg_controllers_read(cg, dir, NULL, &mine);
        if (r < 0)
                return kl_error_set(reterr, r, "read %s/%s/cgroup.controllers: %s", cg->mount_path, dir, strerror(-r));
        r = kl_cg_enable_controllers(cg, dir, KL_CG_CTRL_ALL, REQUIRED_CTRLS, reterr);
        if (r < 0)
                return r;
        return (int) mine;
}

int kl_cg_setup(const struct kl_cg *cg, const struct kl_cg_capacity *cap, struct kl_error *reterr) {
        _cleanup_free_ char *root = NULL, *kp = NULL, *bu = NULL, *be = NULL;
        struct kl_cg_kubepods_limits kpl;
        int mask, r;

        if (!cg->cfg.cgroups_per_qos)
                return 0;
        if (!cg->v2 || cg->mount_fd < 0)
                return kl_error_set(reterr, EOPNOTSUPP, "cgroupsPerQOS needs cgroup v2");

        /* From the mount root down to cgroupRoot, each level delegates. */
        r = make_level(cg, "", false, reterr);
        if (r < 0)
                return r;
        root = strdup(cg->root + 1);
        if (!root)
                return kl_error_set(reterr, ENOMEM, "out of memory");
        for (char *s = root; *s;) {
                char *e = strchrnul(s, '/');
                char saved = *e;

                *e = '\0';
                r = make_level(cg, root, true, reterr);
                *e = saved;
                if (r < 0)
                        return r;
                s = saved ? e + 1 : e;
        }

        kp = kubepods_path(cg, NULL);
        bu = kubepods_path(cg, "burstable");
        be = kubepods_path(cg, "besteffort");
        if (!kp || !bu || !be)
                return kl_error_set(reterr, ENOMEM, "out of memory");

        mask = make_level(cg, kp, true, reterr);
        if (mask < 0)
                return mask;
        kl_cg_kubepods_limits(&cg->cfg, cap, &kpl);
        if ((r = write_weight(cg, kp, (unsigned) mask, kpl.cpu_milli, reterr)) < 0 ||
            (r = write_max(cg, kp, (unsigned) mask, KL_CG_CTRL_MEMORY, "memory.max", kpl.memory, reterr)) < 0 ||
            (r = write_max(cg, kp, (unsigned) mask, KL_CG_CTRL_PIDS, "pids.max", kpl.pids, reterr)) < 0)
                return r;

        mask = make_level(cg, be, true, reterr);
        if (mask < 0)
                return mask;
        r = write_weight(cg, be, (unsigned) mask, 0, reterr);
        if (r < 0)
                return r;

        /* burstable's weight follows its pods (kl_cg_qos_update); only give
         * a fresh one the weight of "no requests". */
        r = kl_cg_mkdir(cg, bu);
        if (r < 0)
                return kl_error_set(reterr, r, "create cgroup %s/%s: %s", cg->mount_path, bu, strerror(-r));
        mask = make_level(cg, bu, false, reterr);
        if (mask < 0)
                return mask;
        if (r > 0) {
                r = write_weight(cg, bu, (unsigned) mask, 0, reterr);
                if (r < 0)
                        return r;
        }
        log_debug("cgroup tree ready under %s%s", cg->mount_path, cg->root);
        return 0;
}

static char *pod_rel_path(const struct kl_cg *cg, enum kl_cg_qos qos, const char *uid) {
        _cleanup_free_ char *sub = NULL;
        const char *q = kl_cg_qos_dir(qos);

        if (!q)
                return NULL;
        if (asprintf(&sub, "%s%spod%s", q, *q ? "/" : "", uid) < 0)
                return NULL;
        return kubepods_path(cg, sub);
}

int kl_cg_pod_path(const struct kl_cg *cg, enum kl_cg_qos qos, const char *uid, char **ret, struct kl_error *reterr) {
        _cleanup_free_ char *rel = NULL;
        char *p;

        if (!cg->cfg.cgroups_per_qos) {
                p = strdup("");
                if (!p)
                        return kl_error_set(reterr, ENOMEM, "out of memory");
                *ret = p;
                return 0;
        }
        if (!uid_valid(uid))
                return kl_error_set(reterr, EINVAL, "invalid pod uid '%s' for a cgroup name", strempty(uid));
        if (!kl_cg_qos_dir(qos))
                return kl_error_set(reterr, EINVAL, "invalid QoS class %d", (int) qos);
        rel = pod_rel_path(cg, qos, uid);
        if (!rel || asprintf(&p, "/%s", rel) < 0)
                return kl_error_set(reterr, ENOMEM, "out of memory");
        *ret = p;
        return 0;
}

int kl_cg_pod_create(const struct kl_cg *cg, enum kl_cg_qos qos, const char *uid, const struct kl_cg_pod_limits *lim,
                     char **ret_cgroup_parent, struct kl_error *reterr) {
        _cleanup_free_ char *parent = NULL;
        const char *dir;
        char buf[64];
        int created, mask, r;

        r = kl_cg_pod_path(cg, qos, uid, &parent, reterr);
        if (r < 0)
                return r;
        if (!cg->cfg.cgroups_per_qos) {
                *ret_cgroup_parent = TAKE_PTR(parent);
                return 0;
        }
        dir = parent + 1;

        created = kl_cg_mkdir(cg, dir);
        if (created == -ENOENT)
                return kl_error_set(reterr, ENOENT,
                                    "create pod cgroup %s%s: parent missing "
                                    "(the kubepods tree was not set up)",
                                    cg->mount_path, parent);
        if (created < 0)
                return kl_error_set(reterr, created, "create pod cgroup %s%s: %s", cg->mount_path, parent,
                                    strerror(-created));

        mask = make_level(cg, dir, false, reterr);
        r = mask;
        if (r >= 0)
                r = write_weight(cg, dir, (unsigned) mask, lim->cpu_request_milli, reterr);
        if (r >= 0) {
                int64_t quota =
                        cg->cfg.cfs_quota ? kl_cg_milli_to_quota(lim->cpu_limit_milli, cg->cfg.cfs_period_us) : 0;
                kl_cg_format_cpu_max(quota, cg->cfg.cfs_period_us, buf, sizeof(buf));
                r = write_val(cg, dir, (unsigned) mask, KL_CG_CTRL_CPU, "cpu.max", buf, reterr);
        }
        if (r >= 0)
                r = write_max(cg, dir, (unsigned) mask, KL_CG_CTRL_MEMORY, "memory.max", lim->memory_limit, reterr);
        if (r >= 0)
                r = write_max(cg, dir, (unsigned) mask, KL_CG_CTRL_MEMORY, "memory.min", MAX(lim->memory_min, 0),
                              reterr);
        if (r >= 0)
                r = write_max(cg, dir, (unsigned) mask, KL_CG_CTRL_PIDS, "pids.max",
                              cg->cfg.pod_pids_limit > 0 ? cg->cfg.pod_pids_limit : -1, reterr);
        if (r < 0) {
                if (created > 0)
                        (void) kl_cg_rmdir_tree(cg, dir);
                return kl_error_prefix(reterr, "pod cgroup %s", parent);
        }
        log_debug("pod cgroup %s ready (%s)", parent, created > 0 ? "created" : "updated");
        *ret_cgroup_parent = TAKE_PTR(parent);
        return 0;
}

int kl_cg_pod_remove(const struct kl_cg *cg, const char *uid, struct kl_error *reterr) {
        int removed = 0;

        if (!cg->cfg.cgroups_per_qos)
                return 0;
        if (!uid_valid(uid))
                return kl_error_set(reterr, EINVAL, "invalid pod uid '%s' for a cgroup name", strempty(uid));
        for (unsigned q = 0; q < ELEMENTSOF(qos_dirs); q++) {
                _cleanup_free_ char *p = pod_rel_path(cg, (enum kl_cg_qos) q, uid);
                int r;

                if (!p)
                        return kl_error_set(reterr, ENOMEM, "out of memory");
                r = kl_cg_rmdir_tree(cg, p);
                if (r == -EBUSY)
                        return kl_error_set(reterr, EBUSY, "remove pod cgroup %s/%s: still populated", cg->mount_path,
                                            p);
                if (r < 0)
                        return kl_error_set(reterr, r, "remove pod cgroup %s/%s: %s", cg->mount_path, p, strerror(-r));
                if (r > 0)
                        removed = 1;
        }
        return removed;
}

void kl_cg_strv_free(char **v) {
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

static int list_dir(const struct kl_cg *cg, const char *dir, char ***v, size_t *n) {
        _cleanup_close_ int fd = -EBADF;
        struct dirent *de;
        DIR *d;
        int r = 0;

        fd = openat(cg->mount_fd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        d = fdopendir(fd);
        if (!d)
                return -errno;
        fd = -EBADF;
        while ((de = readdir(d))) {
                struct stat st;
                char **nv;

                if (strncmp(de->d_name, "pod", 3) != 0 || !uid_valid(de->d_name + 3))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                nv = realloc(*v, (*n + 2) * sizeof(char *));
                if (!nv) {
                        r = -ENOMEM;
                        break;
                }
                *v = nv;
                nv[*n] = strdup(de->d_name + 3);
                if (!nv[*n]) {
                        r = -ENOMEM;
                        break;
                }
                nv[++(*n)] = NULL;
        }
        closedir(d);
        return r;
}

int kl_cg_pod_list(const struct kl_cg *cg, char ***ret_uids, struct kl_error *reterr) {
        char **v = NULL;
        size_t n = 0;

        if (cg->cfg.cgroups_per_qos && cg->mount_fd >= 0)
                for (unsigned q = 0; q < ELEMENTSOF(qos_dirs); q++) {
                        _cleanup_free_ char *p = kubepods_path(cg, qos_dirs[q]);
                        int r;

                        if (!p) {
                                kl_cg_strv_free(v);
                                return kl_error_set(reterr, ENOMEM, "out of memory");
                        }
                        r = list_dir(cg, p, &v, &n);
                        if (r < 0) {
                                kl_cg_strv_free(v);
                                return kl_error_set(reterr, r, "list %s/%s: %s", cg->mount_path, p, strerror(-r));
                        }
                }
        if (!v) {
                v = calloc(1, sizeof(char *));
                if (!v)
                        return kl_error_set(reterr, ENOMEM, "out of memory");
        }
        *ret_uids = v;
        return (int) n;
}

int kl_cg_cleanup_orphans(const struct kl_cg *cg, const char *const *keep, size_t n_keep, unsigned *ret_busy,
                          struct kl_error *reterr) {
        char **uids = NULL;
        unsigned busy = 0;
        int removed = 0, r;

        r = kl_cg_pod_list(cg, &uids, reterr);
        if (r < 0)
                return r;
        for (size_t i = 0; uids[i]; i++) {
                bool wanted = false;

                for (size_t j = 0; j < n_keep && !wanted; j++)
                        wanted = keep[j] && streq(keep[j], uids[i]);
                if (wanted)
                        continue;
                r = kl_cg_pod_remove(cg, uids[i], reterr);
                if (r == -EBUSY) {
                        busy++;
                        continue;
                }
                if (r < 0) {
                        kl_cg_strv_free(uids);
                        return r;
                }
                removed += r;
        }
        kl_cg_strv_free(uids);
        if (ret_busy)
                *ret_busy = busy;
        return removed;
}

int kl_cg_qos_update(const struct kl_cg *cg, const struct kl_cg_qos_totals *t, struct kl_error *reterr) {
        _cleanup_free_ char *kp = NULL, *bu = NULL;
        unsigned kmask = 0, bmask = 0;
        int r;

        if (!cg->cfg.cgroups_per_qos)
                return 0;
        kp = kubepods_path(cg, NULL);
        bu = kubepods_path(cg, "burstable");
        if (!kp || !bu)
                return kl_error_set(reterr, ENOMEM, "out of memory");
        if ((r = kl_cg_controllers_read(cg, kp, NULL, &kmask)) < 0 ||
            (r = kl_cg_controllers_read(cg, bu, NULL, &bmask)) < 0)
                return kl_error_set(reterr, r, "read controllers under %s/%s: %s", cg->mount_path, kp, strerror(-r));
        r = write_weight(cg, bu, bmask, t->burstable_cpu_request_milli, reterr);
        if (r >= 0)
                r = write_max(cg, kp, kmask, KL_CG_CTRL_MEMORY, "memory.min", MAX(t->memory_min, 0), reterr);
        return r;
}
