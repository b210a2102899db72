/* SPDX-License-Identifier: Apache-2.0 */
/* cpuManagerPolicy "static": exclusive CPUs for the containers of Guaranteed
 * pods that request a whole number of CPUs.
 *
 *  - assignable = online CPUs - reserved CPUs (reservedSystemCPUs);
 *  - a pod's exclusive CPUs are taken from what no other pod holds, lowest
 *    CPU ids first (topology-unaware: no NUMA, socket or SMT sibling
 *    awareness; fine for the few-core boards this is for);
 *  - the shared pool, the cpuset of every other container, is all CPUs -
 *    reserved - assigned; should that ever be empty it falls back to
 *    all CPUs - assigned (the reserved ones), so shared containers always
 *    have somewhere to run;
 *  - the assignments live in <root-dir>/cpu_manager_state, upstream's JSON
 *    layout ({"policyName":"static","defaultCpuSet":"...","entries":
 *    {"<pod uid>":{"<container>":"2-3"}},"checksum":N}), written atomically
 *    on every change and loaded at start, so containers keep their CPUs
 *    across restarts. The checksum is our own (FNV-1a 32 over the file
 *    without it), so upstream's files are not interchangeable.
 * See docs/CGROUPS.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "cgroups/cpuset.h"
#include "lib/error.h"
#include "lib/macros.h"
#include "manifests/pod.h"

#define KL_CPUMANAGER_STATE_FILE "cpu_manager_state"
#define KL_CPUMANAGER_STATE_MAX (1024 * 1024)

struct kl_cpumanager;

/* Load or start the state. state_dirfd (duplicated; -1 for no persistence,
 * as tests and fuzzing use) is the directory of KL_CPUMANAGER_STATE_FILE.
 * reserved must be a non-empty subset of online, as upstream requires a CPU
 * reservation for the static policy. A state file of another policy, with a
 * bad checksum, or assigning CPUs outside online - reserved is an error:
 * the operator should drain the node and delete the file. */
int kl_cpumanager_new(int state_dirfd, const struct kl_cg_cpuset *online, const struct kl_cg_cpuset *reserved,
                      struct kl_cpumanager **ret, struct kl_error *reterr);
/* Same, from a state file's content (no persistence). */
int kl_cpumanager_new_from_state(const char *buf, size_t len, const struct kl_cg_cpuset *online,
                                 const struct kl_cg_cpuset *reserved, struct kl_cpumanager **ret,
                                 struct kl_error *reterr);
struct kl_cpumanager *kl_cpumanager_free(struct kl_cpumanager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct kl_cpumanager *, kl_cpumanager_free)
#define _cleanup_cpumanager_ _cleanup_(kl_cpumanager_freep)

/* How many exclusive CPUs container c of pod gets: its CPU request in whole
 * CPUs when the pod is Guaranteed and the request is an integer; else 0. */
unsigned kl_cpumanager_container_wants(const struct kl_pod *pod, const struct kl_container *c);

/* Give the pod's qualifying containers their CPUs (idempotent: a pod that
 * holds CPUs keeps them). App containers and sidecars each get their own
 * CPUs; a regular init container reuses CPUs of the pod that no sidecar
 * running beside it holds. Returns 1 when CPUs were assigned (the shared
 * pool shrank: update the shared containers), 0 when nothing changed,
 * -ENOSPC with a message when too few CPUs are free, or a write error (the
 * assignment is then undone). */
int kl_cpumanager_allocate(struct kl_cpumanager *m, const struct kl_pod *pod, struct kl_error *reterr);

/* Give back a pod's CPUs. 1 when it held some (the shared pool grew), 0 if not. */
int kl_cpumanager_release(struct kl_cpumanager *m, const char *pod_uid, struct kl_error *reterr);

/* At start: release every pod not in uids[0..n). Returns how many pods were released. */
int kl_cpumanager_retain_only(struct kl_cpumanager *m, const char *const *uids, size_t n, struct kl_error *reterr);

/* The cpuset for a container: 1 and its exclusive CPUs, or 0 and the shared pool. */
int kl_cpumanager_container_cpus(const struct kl_cpumanager *m, const char *pod_uid, const char *container,
                                 struct kl_cg_cpuset *ret);
void kl_cpumanager_shared_pool(const struct kl_cpumanager *m, struct kl_cg_cpuset *ret);
/* CPUs held by any pod. */
void kl_cpumanager_assigned(const struct kl_cpumanager *m, struct kl_cg_cpuset *ret);

/* The state file's content (malloc'd, NUL-terminated). */
int kl_cpumanager_format_state(const struct kl_cpumanager *m, char **ret, size_t *ret_len);

/* Without reservedSystemCPUs upstream reserves ceil(milli / 1000) CPUs,
 * lowest ids first; this picks them. -ENOSPC if online has too few. */
int kl_cpumanager_reserved_from_milli(const struct kl_cg_cpuset *online, int64_t milli, struct kl_cg_cpuset *ret);
