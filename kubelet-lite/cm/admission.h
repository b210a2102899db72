/* SPDX-License-Identifier: Apache-2.0 */
/* Pod admission against node allocatable, as upstream kubelet's predicate
 * admit handler with the scheduler's NodeResourcesFit: a pod is admitted when
 * the pod count stays within maxPods and its effective requests fit in what
 * the already admitted pods leave free. Also the pod-level resource math the
 * daemon hands to cgroups/ (pod cgroup values, QoS totals, container
 * resources). Pure functions of their inputs: no I/O. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgroups/capacity.h"
#include "cgroups/convert.h"
#include "cgroups/tree.h"
#include "manifests/pod.h"

#define KL_ADMISSION_REASON_MAX 48
#define KL_ADMISSION_MESSAGE_MAX 256

struct kl_admission_result {
        bool admitted;
        /* Upstream's reasons: "OutOfpods", "OutOfcpu", "OutOfmemory",
         * "OutOfephemeral-storage"; "" when admitted. */
        char reason[KL_ADMISSION_REASON_MAX];
        /* e.g. "Node didn't have enough resource: memory, requested: 268435456,
         * used: 402653184, capacity: 536870912" */
        char message[KL_ADMISSION_MESSAGE_MAX];
};

/* What a pod asks for at admission (kl_pod_effective_resources: max of the
 * app containers' sum and each init container), absent amounts as 0. */
struct kl_admission_request {
        int64_t cpu_milli;
        int64_t memory;
        int64_t ephemeral_storage;
};

/* Sum over admitted pods. */
struct kl_admission_usage {
        int64_t cpu_milli;
        int64_t memory;
        int64_t ephemeral_storage;
        int64_t pods;
};

void kl_admission_pod_request(const struct kl_pod *pod, struct kl_admission_request *ret);
void kl_admission_usage_add(struct kl_admission_usage *u, const struct kl_admission_request *req);

/* The numbers core. Checks, in upstream's order, pods, cpu, memory,
 * ephemeral-storage (skipped when alloc->ephemeral_storage < 0) and reports
 * the first failure. A pod requesting nothing only needs a pod slot. */
bool kl_admission_fits(const struct kl_cg_allocatable *alloc, const struct kl_admission_usage *used,
                       const struct kl_admission_request *req, struct kl_admission_result *ret);

/* Would pod fit next to the admitted ones? */
bool kl_admission_check(const struct kl_cg_allocatable *alloc, const struct kl_pod *const *admitted, size_t n_admitted,
                        const struct kl_pod *pod, struct kl_admission_result *ret);

/* Decide a whole set in one go. Pods with already_admitted[i] set (may be
 * NULL: none) stay admitted and count first, whatever they use: admission
 * never takes back a running pod. The others are then tried in array
 * (manifest) order against what is left; a rejected pod uses nothing, so a
 * later, smaller pod may still fit. Call again when pods go away: a pod
 * rejected earlier is admitted once it fits. results[i] for every pod. */
void kl_admission_run(const struct kl_cg_allocatable *alloc, const struct kl_pod *const *pods,
                      const bool *already_admitted, size_t n, struct kl_admission_result *results);

enum kl_cg_qos kl_admission_cg_qos(enum kl_qos_class c);

/* The pod cgroup values by upstream's QoS rules (ResourceConfigForPod):
 *  Guaranteed: cpu.weight from requests, cpu.max and memory.max from limits,
 *              memory.min = memory requests (upstream only with MemoryQoS);
 *  Burstable:  cpu.weight from requests; cpu.max only when every container
 *              (init ones included) has a CPU limit, memory.max only when
 *              every one has a memory limit;
 *  BestEffort: cpu.weight of 2 shares, nothing else. */
void kl_admission_pod_limits(const struct kl_pod *pod, enum kl_cg_qos *ret_qos, struct kl_cg_pod_limits *ret);

/* Running totals for kl_cg_qos_update() over the pods that have cgroups. */
void kl_admission_qos_totals(const struct kl_pod *const *pods, size_t n, struct kl_cg_qos_totals *ret);

/* CRI LinuxContainerResources numbers for one container. */
void kl_admission_container_resources(const struct kl_container *c, const struct kl_cg_node_config *cfg,
                                      struct kl_cg_container_resources *ret);
