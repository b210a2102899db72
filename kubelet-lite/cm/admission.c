/* SPDX-License-Identifier: Apache-2.0 */
#include "admission.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/macros.h"

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

/* The containers whose ports count: app containers and sidecars. */
static const struct kl_port *port_at(const struct kl_pod *pod, size_t ci, size_t pi) {
        size_t n_app = pod->n_containers;
        const struct kl_container *c = ci < n_app ? &pod->containers[ci] : &pod->init_containers[ci - n_app];
        if (ci >= n_app && c->restart_policy != KL_RESTART_ALWAYS)
                return NULL;
        return pi < c->n_ports ? &c->ports[pi] : NULL;
}

static size_t n_ports_of(const struct kl_pod *pod, size_t ci) {
        size_t n_app = pod->n_containers;
        return ci < n_app ? pod->containers[ci].n_ports : pod->init_containers[ci - n_app].n_ports;
}

static bool ip_overlaps(const char *a, const char *b) {
        bool any_a = !a || !a[0] || streq(a, "0.0.0.0"), any_b = !b || !b[0] || streq(b, "0.0.0.0");
        return any_a || any_b || streq(a, b);
}

static const char *proto(const struct kl_port *p) {
        return p->protocol && p->protocol[0] ? p->protocol : "TCP";
}

/* A host port of pod that one of other's already uses, as the scheduler's
 * NodePorts filter (HostPortInfo.CheckConflict): same protocol and port, and
 * host IPs equal or either one 0.0.0.0. */
static const struct kl_port *host_port_conflict(const struct kl_pod *pod, const struct kl_pod *other) {
        for (size_t ci = 0; ci < pod->n_containers + pod->n_init_containers; ci++)
                for (size_t pi = 0; pi < n_ports_of(pod, ci); pi++) {
                        const struct kl_port *p = port_at(pod, ci, pi);
                        if (!p || p->host_port <= 0)
                                continue;
                        for (size_t cj = 0; cj < other->n_containers + other->n_init_containers; cj++)
                                for (size_t pj = 0; pj < n_ports_of(other, cj); pj++) {
                                        const struct kl_port *q = port_at(other, cj, pj);
                                        if (q && q->host_port == p->host_port && streq(proto(q), proto(p)) &&
                                            ip_overlaps(q->host_ip, p->host_ip))
                                                return p;
                                }
                }
        return NULL;
}

/* The previous version of a static pod (same full name, another uid) is
 * still stopping: the new one starts only once it is gone, so what it holds
 * is not counted against its successor. */
static bool predecessor(const struct kl_pod *pod, const struct kl_pod *other) {
        return pod->full_name && other->full_name && streq(pod->full_name, other->full_name) &&
               streq_ptr(pod->namespace, other->namespace) && !streq_ptr(pod->uid, other->uid);
}

bool kl_admission_check(const struct kl_cg_allocatable *alloc, const struct kl_pod *const *admitted, size_t n_admitted,
                        const struct kl_pod *pod, struct kl_admission_result *ret) {
        struct kl_admission_usage used = {0};
        struct kl_admission_request req;

        for (size_t i = 0; i < n_admitted; i++) {
                if (predecessor(pod, admitted[i]))
                        continue;
                kl_admission_pod_request(admitted[i], &req);
                kl_admission_usage_add(&used, &req);
        }
        kl_admission_pod_request(pod, &req);
        if (!kl_admission_fits(alloc, &used, &req, ret))
                return false;
        /* upstream's generalFilter (pkg/kubelet/lifecycle/predicate.go): after
         * the resources, NodePorts; its admit handler reports a predicate
         * failure with the predicate's name as the reason. */
        for (size_t i = 0; i < n_admitted; i++) {
                const struct kl_port *p = predecessor(pod, admitted[i]) ? NULL : host_port_conflict(pod, admitted[i]);
                if (!p)
                        continue;
                *ret = (struct kl_admission_result){.admitted = false};
                snprintf(ret->reason, sizeof(ret->reason), "NodePorts");
                snprintf(ret->message, sizeof(ret->message),
                         "Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports "
                         "(host port %d/%s is used by pod '%s')",
                         p->host_port, proto(p), admitted[i]->full_name ? admitted[i]->full_name : "?");
                return false;
        }
        return true;
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
