/* SPDX-License-Identifier: Apache-2.0 */
/* The pod cgroup tree, as upstream kubelet lays it out with the cgroupfs
 * driver and cgroupsPerQOS:
 *
 *   <cgroupRoot>/kubepods/                      node allocatable for pods
 *                        pod<uid>/              Guaranteed pods
 *                        burstable/pod<uid>/    Burstable pods
 *                        besteffort/pod<uid>/   BestEffort pods
 *
 * containerd then puts each container at <pod cgroup>/<container-id>.
 * With cgroupsPerQOS false every function here is a no-op and pods get an
 * empty cgroup_parent (the runtime's default). See docs/CGROUPS.md. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "capacity.h"
#include "cgroup.h"
#include "lib/error.h"

enum kl_cg_qos {
        KL_CG_QOS_GUARANTEED = 0,
        KL_CG_QOS_BURSTABLE,
        KL_CG_QOS_BEST_EFFORT,
};

/* The pod cgroup's values; the caller applies upstream's QoS rules (see
 * kl_admission_pod_limits), this module writes exactly these. */
struct kl_cg_pod_limits {
        int64_t cpu_request_milli; /* -> cpu.weight via shares; <= 0 gives shares 2 */
        int64_t cpu_limit_milli;   /* -> cpu.max quota over cpuCFSQuotaPeriod; -1: "max" */
        int64_t memory_limit;      /* -> memory.max; -1: "max" */
        int64_t memory_min;        /* -> memory.min; 0: none */
};

/* Running totals the QoS level cgroups follow. */
struct kl_cg_qos_totals {
        int64_t burstable_cpu_request_milli; /* sum over Burstable pods -> burstable cpu.weight */
        int64_t memory_min;                  /* sum of the pods' memory.min -> kubepods memory.min */
};

/* Create (or update) cgroupRoot, kubepods, kubepods/burstable and
 * kubepods/besteffort, enable +cpu +memory +pids +cpuset down the path, and
 * write kubepods' cpu.weight / memory.max / pids.max from
 * kl_cg_kubepods_limits(). cpu and memory are required controllers. */
int kl_cg_setup(const struct kl_cg *cg, const struct kl_cg_capacity *cap, struct kl_error *reterr);

/* The pod cgroup path relative to the mount, as CRI's cgroup_parent wants it:
 * "/kubepods/burstable/pod<uid>" (prefixed by cgroupRoot). "" without
 * cgroupsPerQOS. uid must be 1-64 characters of [A-Za-z0-9_-]. */
int kl_cg_pod_path(const struct kl_cg *cg, enum kl_cg_qos qos, const char *uid, char **ret, struct kl_error *reterr);

/* mkdir the pod cgroup (or reuse it), enable controllers in it for the
 * container cgroups below, then write cpu.weight, cpu.max, memory.max,
 * memory.min and pids.max (podPidsLimit). *ret_cgroup_parent as
 * kl_cg_pod_path(). */
int kl_cg_pod_create(const struct kl_cg *cg, enum kl_cg_qos qos, const char *uid, const struct kl_cg_pod_limits *lim,
                     char **ret_cgroup_parent, struct kl_error *reterr);

/* Remove the pod's cgroup wherever it is (any QoS class), with the container
 * cgroups containerd left below it. 1 removed, 0 not there, -EBUSY while
 * processes remain (nothing is killed). */
int kl_cg_pod_remove(const struct kl_cg *cg, const char *uid, struct kl_error *reterr);

/* UIDs of all pod cgroups under kubepods (all QoS classes), as a
 * NULL-terminated malloc'd array of malloc'd strings; returns the count. */
int kl_cg_pod_list(const struct kl_cg *cg, char ***ret_uids, struct kl_error *reterr);
void kl_cg_strv_free(char **v);

/* Remove every pod cgroup whose uid is not in keep[0..n_keep). Returns the
 * number removed; populated ones are left and counted in *ret_busy. */
int kl_cg_cleanup_orphans(const struct kl_cg *cg, const char *const *keep, size_t n_keep, unsigned *ret_busy,
                          struct kl_error *reterr);

/* Follow pods coming and going: burstable cpu.weight from the sum of the
 * Burstable pods' CPU requests (shares 2 when none), kubepods memory.min from
 * the sum of the pods' memory.min (cgroup v2 caps a child's protection at
 * its parent's). */
int kl_cg_qos_update(const struct kl_cg *cg, const struct kl_cg_qos_totals *t, struct kl_error *reterr);

const char *kl_cg_qos_dir(enum kl_cg_qos qos); /* "", "burstable", "besteffort" */
