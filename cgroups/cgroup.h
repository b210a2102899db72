/* SPDX-License-Identifier: Apache-2.0 */
/* Access to the cgroup v2 filesystem: detection, a handle on the mount, and
 * capped reads / single writes of interface files through openat() on the
 * mount's directory fd. Every path here is relative to the cgroup mount
 * ("kubepods/burstable" or "/kubepods/burstable", a leading '/' is ignored)
 * and must not contain ".." or empty components.
 *
 * KL_CG_FAKE turns the handle into a tiny cgroupfs emulator over an ordinary
 * directory, for unit tests: no statfs magic check; mkdir creates the
 * interface files the kernel would (cgroup.controllers from the parent's
 * cgroup.subtree_control, an empty cgroup.subtree_control, cgroup.events
 * "populated 0"); writes create missing files and "+ctrl -ctrl" writes to
 * cgroup.subtree_control are applied like the kernel does; rmdir first removes
 * the regular files. Nothing else differs, so the tree logic runs unchanged. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "capacity.h"
#include "lib/error.h"
#include "lib/macros.h"

#define KL_CG_MOUNT_DEFAULT "/sys/fs/cgroup"

enum {
        KL_CG_FAKE = 1 << 0,
};

/* Controllers we manage, as a bitmask. */
enum {
        KL_CG_CTRL_CPU = 1 << 0,
        KL_CG_CTRL_CPUSET = 1 << 1,
        KL_CG_CTRL_MEMORY = 1 << 2,
        KL_CG_CTRL_PIDS = 1 << 3,
};
#define KL_CG_CTRL_ALL (KL_CG_CTRL_CPU | KL_CG_CTRL_CPUSET | KL_CG_CTRL_MEMORY | KL_CG_CTRL_PIDS)

struct kl_cg {
        int mount_fd;                 /* directory fd of the mount; -EBADF when unusable */
        char *mount_path;             /* e.g. "/sys/fs/cgroup" */
        char *root;                   /* cgroupRoot normalised: "/" or "/a/b" (no trailing slash) */
        bool v2;                      /* the mount is a cgroup v2 hierarchy */
        unsigned flags;               /* KL_CG_FAKE */
        unsigned controllers;         /* KL_CG_CTRL_* available at the mount root */
        struct kl_cg_node_config cfg; /* cfg.cgroup_root points into this struct */
};

/* 0 when a cgroup v2 hierarchy is mounted at mount_path (NULL: default).
 * -EMEDIUMTYPE with "cgroup v2 is not mounted at /sys/fs/cgroup (found cgroup
 * v1); set cgroupsPerQOS: false to run pods under the runtime's cgroups" for
 * v1 and hybrid hosts, -ENOENT / -ENOTDIR / other errors with a message
 * otherwise. With KL_CG_FAKE only checks that mount_path is a directory. */
int kl_cg_detect(const char *mount_path, unsigned flags, struct kl_error *reterr);

/* Open the hierarchy for a node configuration. With cfg->cgroups_per_qos a v2
 * hierarchy is required (the detect error is returned otherwise); without,
 * the handle still opens (v2 false on v1 hosts) and the pod functions turn
 * into no-ops. cgroup_root is validated (absolute, no "..", no empty parts).
 * mount_path NULL means KL_CG_MOUNT_DEFAULT. */
int kl_cg_open(const char *mount_path, const struct kl_cg_node_config *cfg, unsigned flags, struct kl_cg **ret,
               struct kl_error *reterr);
struct kl_cg *kl_cg_free(struct kl_cg *cg);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct kl_cg *, kl_cg_free)
#define _cleanup_cg_ _cleanup_(kl_cg_freep)

/* A non-empty relative cgroup path without "", "." or ".." components (a
 * leading '/' is allowed)? */
bool kl_cg_path_valid(const char *path);

/* Join a relative cgroup path: cgroupRoot "/a" + "kubepods" -> "a/kubepods".
 * Returns a malloc'd string or NULL on OOM. */
char *kl_cg_path(const struct kl_cg *cg, const char *rel);

/* Read dir/file (capped at 64 KiB) into a NUL-terminated malloc'd buffer. */
int kl_cg_read(const struct kl_cg *cg, const char *dir, const char *file, char **ret, size_t *ret_len);
/* One write() of value to dir/file, as cgroupfs expects; the kernel's errno
 * (EINVAL, EBUSY, ENOENT for an absent controller...) is returned. */
int kl_cg_write(const struct kl_cg *cg, const char *dir, const char *file, const char *value);
/* mkdir one level; 1 when created, 0 when it existed. */
int kl_cg_mkdir(const struct kl_cg *cg, const char *dir);
/* Remove dir and every cgroup below it, deepest first. A populated cgroup
 * (cgroup.events "populated 1", or rmdir's EBUSY) stops the walk with
 * -EBUSY; processes are never killed. 1 when removed, 0 when absent. */
int kl_cg_rmdir_tree(const struct kl_cg *cg, const char *dir);
/* Is dir populated (processes in it or below)? 1 yes, 0 no, <0 error. */
int kl_cg_populated(const struct kl_cg *cg, const char *dir);

/* Parse a controller list ("cpu memory pids") into KL_CG_CTRL_* bits;
 * unknown names are ignored. */
unsigned kl_cg_controllers_parse(const char *s);
/* Controllers listed in dir/cgroup.controllers (or 'file'). */
int kl_cg_controllers_read(const struct kl_cg *cg, const char *dir, const char *file, unsigned *ret);
/* Enable the wanted controllers in dir/cgroup.subtree_control, restricted to
 * those in dir/cgroup.controllers. Returns the mask actually enabled;
 * -errno (with a message) when writing fails for one in 'required'. */
int kl_cg_enable_controllers(const struct kl_cg *cg, const char *dir, unsigned wanted, unsigned required,
                             struct kl_error *reterr);
