/* SPDX-License-Identifier: Apache-2.0 */
#include "admission.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int64_t pos(int64_t v) {
        return v > 0 ? v : 0;
}

void kl_admission_pod_request(const struct kl_pod *pod, struct kl_admission_request *ret) {
        struct kl_resources eff;

        kl_pod_effective_resources(pod, &eff);
        *ret = (struct kl_admission_request){
                .cpu_milli = pos(eff.cpu_request_milli),
                .memory = pos(eff.memory_request),
                .ephemeral_storage = pos(eff.ephemeral_request),
        };
}

void kl_admission_usage_add(struct kl_admission_usage *u, const struct kl_admission_request *req) {
        u->cpu_milli += req->cpu_milli;
        u->memory += req->memory;
        u->ephemeral_storage += req->ephemeral_storage;
        u->pods++;
}

static bool reject(struct kl_admission_result *ret, const char *resource, int64_t requested, int64_t used,
                   int64_t capacity) {
        ret->admitted = false;
        snprintf(ret->reason, sizeof(ret->reason), "OutOf%s", resource);
        /* Upstream's InsufficientResourceError text; "capacity" is in fact
         * the allocatable amount, as upstream. */
        snprintf(ret->message, sizeof(ret->message),
                 "Node didn't have enough resource: %s, requested: %" PRId64 ", used: %" PRId64 ", capacity: %" PRId64,
                 resource, requested, used, capacity);
        return false;
}

bool kl_admission_fits(const struct kl_cg_allocatable *alloc, const struct kl_admission_usage *used,
                       const struct kl_admission_request *req, struct kl_admission_result *ret) {
        *ret = (struct kl_admission_result){.admitted = true};

        if (used->pods + 1 > alloc->pods)
                return reject(ret, "pods", 1, used->pods, alloc->pods);
        if (req->cpu_milli == 0 && req->memory == 0 && req->ephemeral_storage == 0)
                return true;
        if (req->cpu_milli > 0 && req->cpu_milli > alloc->cpu_milli - used->cpu_milli)
                return reject(ret, "cpu", req->cpu_milli, used->cpu_milli, alloc->cpu_milli);
        if (req->memory > 0 && req->memory > alloc->memory - used->memory)
                return reject(ret, "memory", req->memory, used->memory, alloc->memory);
        if (alloc->ephemeral_storage >= 0 && req->ephemeral_storage > 0 &&
            req->ephemeral_storage > alloc->ephemeral_storage - used->ephemeral_storage)
                return reject(ret, "ephemeral-storage", req->ephemeral_storage, used->ephemeral_storage,
                              alloc->ephemeral_storage);
        return true;
}

bool kl_admission_check(const struct kl_cg_allocatable *alloc, const struct kl_pod *const *admitted, size_t n_admitted,
                        const struct kl_pod *pod, struct kl_admission_result *ret) {
        struct kl_admission_usage used = {0};
        struct kl_admission_request req;

        for (size_t i = 0; i < n_admitted; i++) {
                kl_admission_pod_request(admitted[i], &req);
                kl_admission_usage_add(&used, &req);
        }
        kl_admission_pod_request(pod, &req);
        return kl_admission_fits(alloc, &used, &req, ret);
}

void kl_admission_run(const struct kl_cg_allocatable *alloc, const struct kl_pod *const *pods,
                      const bool *already_admitted, size_t n, struct kl_admission_result *results) {
        struct kl_admission_usage used = {0};
        struct kl_admission_request req;

        for (size_t i = 0; i < n; i++) {
                if (!already_admitted || !already_admitted[i])
                        continue;
                kl_admission_pod_request(pods[i], &req);
                kl_admission_usage_add(&used, &req);
                results[i] = (struct kl_admission_result){.admitted = true};
        }
        for (size_t i = 0; i < n; i++) {
                if (already_admitted && already_admitted[i])
                        continue;
                kl_admission_pod_request(pods[i], &req);
                if (kl_admission_fits(alloc, &used, &req, &results[i]))
                        kl_admission_usage_add(&used, &req);
        }
}

enum kl_cg_qos kl_admission_cg_qos(enum kl_qos_class c) {
        switch (c) {
        case KL_QOS_GUARANTEED: return KL_CG_QOS_GUARANTEED;
        case KL_QOS_BURSTABLE: return KL_CG_QOS_BURSTABLE;
        default: return KL_CG_QOS_BEST_EFFORT;
        }
}

static void limits_declared(const struct kl_container *cs, size_t n, bool *cpu, bool *mem) {
        for (size_t i = 0; i < n; i++) {
                if (cs[i].resources.cpu_limit_milli <= 0)
                        *cpu = false;
                if (cs[i].resources.memory_limit <= 0)
                        *mem = false;
        }
}

void kl_admission_pod_limits(const struct kl_pod *pod, enum kl_cg_qos *ret_qos, struct kl_cg_pod_limits *ret) {
        enum kl_cg_qos qos = kl_admission_cg_qos(kl_pod_qos_class(pod));
        struct kl_cg_pod_limits lim = {.cpu_limit_milli = -1, .memory_limit = -1};
        bool cpu_declared = true, mem_declared = true;
        struct kl_resources eff;

        kl_pod_effective_resources(pod, &eff);
        limits_declared(pod->containers, pod->n_containers, &cpu_declared, &mem_declared);
        limits_declared(pod->init_containers, pod->n_init_containers, &cpu_declared, &mem_declared);

        switch (qos) {
        case KL_CG_QOS_GUARANTEED:
                lim.cpu_request_milli = pos(eff.cpu_request_milli);
                lim.cpu_limit_milli = eff.cpu_limit_milli > 0 ? eff.cpu_limit_milli : -1;
                lim.memory_limit = eff.memory_limit > 0 ? eff.memory_limit : -1;
                lim.memory_min = pos(eff.memory_request);
                break;
        case KL_CG_QOS_BURSTABLE:
                lim.cpu_request_milli = pos(eff.cpu_request_milli);
                if (cpu_declared && eff.cpu_limit_milli > 0)
                        lim.cpu_limit_milli = eff.cpu_limit_milli;
                if (mem_declared && eff.memory_limit > 0)
                        lim.memory_limit = eff.memory_limit;
                break;
        case KL_CG_QOS_BEST_EFFORT: break;
        }
        *ret_qos = qos;
        *ret = lim;
}

void kl_admission_qos_totals(const struct kl_pod *const *pods, size_t n, struct kl_cg_qos_totals *ret) {
        struct kl_cg_qos_totals t = {0};

        for (size_t i = 0; i < n; i++) {
                struct kl_cg_pod_limits lim;
                enum kl_cg_qos qos;

                kl_admission_pod_limits(pods[i], &qos, &lim);
                if (qos == KL_CG_QOS_BURSTABLE)
                        t.burstable_cpu_request_milli += lim.cpu_request_milli;
                t.memory_min += lim.memory_min;
        }
        *ret = t;
}

void kl_admission_container_resources(const struct kl_container *c, const struct kl_cg_node_config *cfg,
                                      struct kl_cg_container_resources *ret) {
        kl_cg_container_resources(c->resources.cpu_request_milli, c->resources.cpu_limit_milli,
                                  c->resources.memory_limit, cfg->cfs_period_us, cfg->cfs_quota, ret);
}
