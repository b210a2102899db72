/* SPDX-License-Identifier: Apache-2.0 */
/* The node: capacity and allocatable, admission, the cgroup tree and the CPU
 * manager, behind one small interface for the pod manager. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "kubelet-lite/config.h"
#include "lib/error.h"
#include "manifests/pod.h"

struct kl_node;

struct kl_node_info {
        int64_t cpu_capacity_milli, memory_capacity, pods_capacity, pids_capacity;
        int64_t cpu_allocatable_milli, memory_allocatable, pods_allocatable;
        bool cgroup_v2;
};

struct kl_dm;
/* The device manager (may be NULL): extended resources in admission and
 * capacity, devices given back when a pod stops. Not owned. */
void kl_node_set_devices(struct kl_node *n, struct kl_dm *dm);
struct kl_dm *kl_node_devices(struct kl_node *n);
/* Extended resources, in name order: false past the end. */
bool kl_node_extended_resource(const struct kl_node *n, size_t i, const char **ret_name, int64_t *ret_capacity,
                               int64_t *ret_allocatable);

int kl_node_new(const struct kl_config *cfg, struct kl_node **ret, struct kl_error *reterr);
struct kl_node *kl_node_free(struct kl_node *n);
void kl_node_get_info(const struct kl_node *n, struct kl_node_info *ret);

/* Decide whether pod fits next to the already admitted pods. On rejection
 * returns 0 with *ret_reason ("OutOfmemory"...) and *ret_message set. */
int kl_node_admit(struct kl_node *n, const struct kl_pod *pod, const struct kl_pod *const *admitted, size_t n_admitted,
                  char **ret_reason, char **ret_message);

/* Create (or update) the pod's cgroup. *ret_parent is the CRI cgroup_parent,
 * "" when cgroupsPerQOS is off. */
int kl_node_pod_start(struct kl_node *n, const struct kl_pod *pod, char **ret_parent, struct kl_error *reterr);
/* Remove the pod's cgroup and release its exclusive CPUs. */
int kl_node_pod_stop(struct kl_node *n, const char *uid, struct kl_error *reterr);
/* Remove pod cgroups whose uid is not in keep (NULL-terminated). */
int kl_node_cleanup_orphans(struct kl_node *n, char *const *keep);
/* Exclusive cpuset for a container of a Guaranteed pod under the static
 * policy, or NULL. Allocates on first call for that container. */
const char *kl_node_container_cpuset(struct kl_node *n, const struct kl_pod *pod, const struct kl_container *c);
struct kl_cg_stats;
/* cgroup stats of a pod (container_id NULL) or of one of its containers
 * (<pod cgroup>/<container id>, as containerd's cgroupfs driver places them).
 * -ENODATA when pods have no cgroups of ours (cgroupsPerQOS off). */
int kl_node_stats(struct kl_node *n, const char *uid, const char *container_id, struct kl_cg_stats *ret);

/* Absolute path of the kubepods cgroup (cgroup v2 with cgroupsPerQOS), or NULL. */
const char *kl_node_pod_cgroup_root(struct kl_node *n);

/* True once after exclusive CPUs were taken from or given back to the shared
 * pool: containers on the shared pool need their cpuset updated. */
bool kl_node_take_shared_pool_changed(struct kl_node *n);

/* The pod cgroup path relative to the cgroup mount, or NULL. */
const char *kl_node_pod_cgroup(struct kl_node *n, const char *uid);
