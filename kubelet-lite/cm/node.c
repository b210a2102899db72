/* SPDX-License-Identifier: Apache-2.0 */
#include "node.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admission.h"
#include "cgroups/capacity.h"
#include "cgroups/cgroup.h"
#include "cgroups/stats.h"
#include "cgroups/tree.h"
#include "cpumanager.h"
#include "devicemanager.h"
#include "lib/log.h"
#include "lib/macros.h"

/* Pods that currently have a cgroup, for the QoS totals. */
struct pod_entry {
        char *uid;
        char *cgroup;
        struct kl_pod *pod;
        struct pod_entry *next;
};

struct kl_node {
        const struct kl_config *cfg;
        struct kl_cg_node_config cgcfg;
        struct kl_cg *cg;
        struct kl_cg_capacity cap;
        struct kl_cg_allocatable alloc;
        struct kl_cpumanager *cpum;
        struct kl_dm *dm; /* not owned; may be NULL */
        struct pod_entry *pods;
        char cpuset_buf[256];
        char *kubepods_path;
        bool shared_pool_changed;
};

static void reserved_from_config(const struct kl_config_resources *in, struct kl_cg_reserved *out) {
        out->cpu_milli = in->cpu_milli > 0 ? in->cpu_milli : 0;
        out->memory = in->memory > 0 ? in->memory : 0;
        out->pids = in->pid > 0 ? in->pid : 0;
        out->ephemeral_storage = in->ephemeral > 0 ? in->ephemeral : 0;
}

static void threshold_from_config(const struct kl_config_threshold *in, struct kl_cg_threshold *out) {
        if (!in->set)
                *out = (struct kl_cg_threshold){.bytes = -1, .percent = -1};
        else if (in->quantity >= 0)
                *out = (struct kl_cg_threshold){.bytes = in->quantity, .percent = -1};
        else
                *out = (struct kl_cg_threshold){.bytes = -1, .percent = (float) in->percent};
}

int kl_node_new(const struct kl_config *cfg, struct kl_node **ret, struct kl_error *reterr) {
        struct kl_node *n = calloc(1, sizeof(*n));
        int r;

        if (!n)
                return kl_error_set(reterr, ENOMEM, "out of memory");
        n->cfg = cfg;
        kl_cg_node_config_init(&n->cgcfg);
        n->cgcfg.cgroup_root = cfg->cgroup_root;
        n->cgcfg.cgroups_per_qos = cfg->cgroups_per_qos;
        reserved_from_config(&cfg->system_reserved, &n->cgcfg.system_reserved);
        reserved_from_config(&cfg->kube_reserved, &n->cgcfg.kube_reserved);
        threshold_from_config(&cfg->eviction_hard.memory_available, &n->cgcfg.eviction_memory_available);
        threshold_from_config(&cfg->eviction_hard.nodefs_available, &n->cgcfg.eviction_nodefs_available);
        n->cgcfg.enforce_pods = cfg->enforce_node_allocatable_pods;
        n->cgcfg.max_pods = cfg->max_pods;
        n->cgcfg.pod_pids_limit = cfg->pod_pids_limit;
        n->cgcfg.cfs_period_us = (int64_t) cfg->cpu_cfs_quota_period_usec;
        if (cfg->reserved_system_cpus && cfg->reserved_system_cpus[0] &&
            kl_cg_cpuset_parse(cfg->reserved_system_cpus, strlen(cfg->reserved_system_cpus), &n->cgcfg.reserved_cpus) <
                    0) {
                kl_node_free(n);
                return kl_error_set(reterr, EINVAL, "reservedSystemCPUs: invalid cpu list '%s'",
                                    cfg->reserved_system_cpus);
        }

        r = kl_cg_open(NULL, &n->cgcfg, 0, &n->cg, reterr);
        if (r < 0)
                goto fail;
        struct kl_cg_capacity_sources src = {.nodefs = cfg->root_dir};
        r = kl_cg_capacity_read(n->cg, &src, &n->cap, reterr);
        if (r < 0)
                goto fail;
        r = kl_cg_node_allocatable(&n->cgcfg, &n->cap, &n->alloc, reterr);
        if (r < 0)
                goto fail;
        if (cfg->cgroups_per_qos) {
                r = kl_cg_setup(n->cg, &n->cap, reterr);
                if (r < 0)
                        goto fail;
        }
        if (streq(cfg->cpu_manager_policy, "static")) {
                struct kl_cg_cpuset reserved = n->cgcfg.reserved_cpus;
                if (kl_cg_cpuset_empty(&reserved) &&
                    kl_cpumanager_reserved_from_milli(
                            &n->cap.cpus, n->cgcfg.system_reserved.cpu_milli + n->cgcfg.kube_reserved.cpu_milli,
                            &reserved) < 0) {
                        r = kl_error_set(reterr, EINVAL, "cpuManagerPolicy static needs reserved CPUs");
                        goto fail;
                }
                _cleanup_close_ int dfd = open(cfg->root_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd < 0) {
                        r = kl_error_set(reterr, errno, "open %s: %m", cfg->root_dir);
                        goto fail;
                }
                r = kl_cpumanager_new(dfd, &n->cap.cpus, &reserved, &n->cpum, reterr);
                if (r < 0)
                        goto fail;
        }
        log_info("node: capacity cpu=%lldm memory=%lld pods=%lld; allocatable cpu=%lldm memory=%lld pods=%lld; "
                 "cgroup v2=%s cgroupsPerQOS=%s cpuManagerPolicy=%s",
                 (long long) n->cap.cpu_milli, (long long) n->cap.memory, (long long) n->cgcfg.max_pods,
                 (long long) n->alloc.cpu_milli, (long long) n->alloc.memory, (long long) n->alloc.pods,
                 n->cg->v2 ? "yes" : "no", cfg->cgroups_per_qos ? "true" : "false", cfg->cpu_manager_policy);
        *ret = n;
        return 0;
fail:
        kl_node_free(n);
        return r;
}

static struct pod_entry *pod_entry_free(struct pod_entry *e) {
        if (!e)
                return NULL;
        free(e->uid);
        free(e->cgroup);
        kl_pod_free(e->pod);
        free(e);
        return NULL;
}

struct kl_node *kl_node_free(struct kl_node *n) {
        if (!n)
                return NULL;
        while (n->pods) {
                struct pod_entry *e = n->pods;
                n->pods = e->next;
                pod_entry_free(e);
        }
        kl_cpumanager_free(n->cpum);
        free(n->kubepods_path);
        kl_cg_free(n->cg);
        free(n);
        return NULL;
}

void kl_node_get_info(const struct kl_node *n, struct kl_node_info *ret) {
        *ret = (struct kl_node_info){
                .cpu_capacity_milli = n->cap.cpu_milli,
                .memory_capacity = n->cap.memory,
                .pods_capacity = n->cgcfg.max_pods,
                .pids_capacity = n->cap.pids,
                .cpu_allocatable_milli = n->alloc.cpu_milli,
                .memory_allocatable = n->alloc.memory,
                .pods_allocatable = n->alloc.pods,
                .cgroup_v2 = n->cg->v2,
        };
}

int kl_node_admit(struct kl_node *n, const struct kl_pod *pod, const struct kl_pod *const *admitted, size_t n_admitted,
                  char **ret_reason, char **ret_message) {
        struct kl_admission_result res = {};

        *ret_reason = NULL;
        *ret_message = NULL;
        if (kl_admission_check(&n->alloc, admitted, n_admitted, pod, &res)) {
                char reason[KL_DEVSTATE_REASON_MAX], message[KL_DEVSTATE_MESSAGE_MAX];
                /* then the devices, as upstream's device manager does after
                 * the predicate admit handler */
                if (!n->dm || kl_dm_admit(n->dm, pod, admitted, n_admitted, reason, message))
                        return 0;
                *ret_reason = strdup(reason);
                *ret_message = strdup(message);
        } else {
                *ret_reason = strdup(res.reason);
                *ret_message = strdup(res.message);
        }
        if (!*ret_reason || !*ret_message) {
                *ret_reason = mfree(*ret_reason);
                *ret_message = mfree(*ret_message);
                return -ENOMEM;
        }
        return 0;
}

static struct pod_entry *find_entry(struct kl_node *n, const char *uid) {
        for (struct pod_entry *e = n->pods; e; e = e->next)
                if (streq(e->uid, uid))
                        return e;
        return NULL;
}

static void update_qos(struct kl_node *n) {
        size_t k = 0, total = 0;
        struct kl_cg_qos_totals t;
        struct kl_error err = {};

        if (!n->cfg->cgroups_per_qos)
                return;
        for (struct pod_entry *e = n->pods; e; e = e->next)
                total++;
        _cleanup_free_ const struct kl_pod **pods = calloc(total + 1, sizeof(*pods));
        if (!pods) {
                log_warning("updating QoS cgroups: out of memory, ignoring");
                return;
        }
        for (struct pod_entry *e = n->pods; e; e = e->next)
                pods[k++] = e->pod;
        kl_admission_qos_totals(pods, k, &t);
        if (kl_cg_qos_update(n->cg, &t, &err) < 0)
                log_warning("updating QoS cgroups: %s, ignoring", kl_error_str(&err));
}

int kl_node_pod_start(struct kl_node *n, const struct kl_pod *pod, char **ret_parent, struct kl_error *reterr) {
        struct pod_entry *e = find_entry(n, pod->uid);
        int r;

        if (!e) {
                e = calloc(1, sizeof(*e));
                if (!e || !(e->uid = strdup(pod->uid)) || !(e->pod = kl_pod_dup(pod))) {
                        pod_entry_free(e);
                        return kl_error_set(reterr, ENOMEM, "out of memory");
                }
                e->next = n->pods;
                n->pods = e;
        }
        if (n->cpum) {
                r = kl_cpumanager_allocate(n->cpum, pod, reterr);
                if (r < 0)
                        return r;
                if (r > 0)
                        n->shared_pool_changed = true;
        }
        if (!n->cfg->cgroups_per_qos) {
                *ret_parent = strdup("");
                return *ret_parent ? 0 : kl_error_set(reterr, ENOMEM, "out of memory");
        }
        enum kl_cg_qos qos;
        struct kl_cg_pod_limits lim;
        kl_admission_pod_limits(pod, &qos, &lim);
        char *parent = NULL;
        r = kl_cg_pod_create(n->cg, qos, pod->uid, &lim, &parent, reterr);
        if (r < 0)
                return r;
        free(e->cgroup);
        e->cgroup = strdup(parent);
        update_qos(n);
        *ret_parent = parent;
        return 0;
}

void kl_node_set_devices(struct kl_node *n, struct kl_dm *dm) {
        n->dm = dm;
}

struct kl_dm *kl_node_devices(struct kl_node *n) {
        return n ? n->dm : NULL;
}

bool kl_node_extended_resource(const struct kl_node *n, size_t i, const char **ret_name, int64_t *ret_capacity,
                               int64_t *ret_allocatable) {
        return n->dm && kl_devstate_capacity(kl_dm_state(n->dm), i, ret_name, ret_capacity, ret_allocatable);
}

int kl_node_pod_stop(struct kl_node *n, const char *uid, struct kl_error *reterr) {
        int r = 0;

        kl_dm_pod_removed(n->dm, uid);
        if (n->cpum && kl_cpumanager_release(n->cpum, uid, NULL) > 0)
                n->shared_pool_changed = true;
        if (n->cfg->cgroups_per_qos)
                r = kl_cg_pod_remove(n->cg, uid, reterr);
        for (struct pod_entry **p = &n->pods; *p; p = &(*p)->next)
                if (streq((*p)->uid, uid)) {
                        struct pod_entry *e = *p;
                        *p = e->next;
                        pod_entry_free(e);
                        break;
                }
        update_qos(n);
        return r;
}

int kl_node_cleanup_orphans(struct kl_node *n, char *const *keep) {
        size_t k = 0;
        struct kl_error err = {};
        unsigned busy = 0;
        int r = 0;

        while (keep && keep[k])
                k++;
        kl_dm_retain(n->dm, (const char *const *) keep, k);
        if (n->cpum && kl_cpumanager_retain_only(n->cpum, (const char *const *) keep, k, &err) < 0)
                log_warning("cpu manager: %s, ignoring", kl_error_str(&err));
        if (n->cfg->cgroups_per_qos) {
                r = kl_cg_cleanup_orphans(n->cg, (const char *const *) keep, k, &busy, &err);
                if (r < 0)
                        log_warning("removing orphaned pod cgroups: %s, ignoring", kl_error_str(&err));
                else if (r > 0)
                        log_info("removed %d orphaned pod cgroup(s)", r);
                if (busy > 0)
                        log_warning("%u orphaned pod cgroup(s) still have processes, left in place", busy);
        }
        return r;
}

const char *kl_node_container_cpuset(struct kl_node *n, const struct kl_pod *pod, const struct kl_container *c) {
        struct kl_cg_cpuset set;
        if (!n->cpum)
                return NULL;
        /* Exclusive CPUs for qualifying containers; everyone else gets the shared pool. */
        if (kl_cpumanager_container_cpus(n->cpum, pod->uid, c->name, &set) < 0)
                return NULL;
        if (kl_cg_cpuset_format(&set, n->cpuset_buf, sizeof(n->cpuset_buf)) < 0)
                return NULL;
        return n->cpuset_buf;
}

const char *kl_node_pod_cgroup(struct kl_node *n, const char *uid) {
        struct pod_entry *e = find_entry(n, uid);
        return e ? e->cgroup : NULL;
}

int kl_node_stats(struct kl_node *n, const char *uid, const char *container_id, struct kl_cg_stats *ret) {
        struct pod_entry *e = find_entry(n, uid);
        char path[512];

        if (!n->cfg->cgroups_per_qos || !n->cg->v2 || !e || !e->cgroup)
                return -ENODATA;
        if (container_id)
                snprintf(path, sizeof(path), "%s/%s", e->cgroup, container_id);
        else
                snprintf(path, sizeof(path), "%s", e->cgroup);
        return kl_cg_stats_read(n->cg, path, ret, NULL);
}

const char *kl_node_pod_cgroup_root(struct kl_node *n) {
        if (!n->cfg->cgroups_per_qos || !n->cg->v2)
                return NULL;
        if (!n->kubepods_path) {
                _cleanup_free_ char *rel = kl_cg_path(n->cg, "kubepods");
                if (!rel)
                        return NULL;
                size_t len = strlen(n->cg->mount_path) + strlen(rel) + 2;
                n->kubepods_path = malloc(len);
                if (n->kubepods_path)
                        snprintf(n->kubepods_path, len, "%s/%s", n->cg->mount_path, rel);
        }
        return n->kubepods_path;
}

bool kl_node_take_shared_pool_changed(struct kl_node *n) {
        bool c = n->shared_pool_changed;
        n->shared_pool_changed = false;
        return c;
}
