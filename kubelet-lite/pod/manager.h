/* SPDX-License-Identifier: Apache-2.0 */
/* The pod manager: turns the desired pods (from the manifest source) into
 * sandboxes and containers through CRI, and reports their status.
 *
 * It works like upstream's pod workers plus PLEG, on one thread: a periodic
 * relist (ListPodSandbox + ListContainers) refreshes what the runtime has;
 * each pod is then reconciled (computePodActions). Every CRI call is
 * asynchronous with a deadline and completes in the loop, so a slow, hung or
 * vanished runtime never blocks it (relist.c). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "kubelet-lite/config.h"
#include "kubelet-lite/event.h"
#include "lib/strbuf.h"
#include "manifests/source.h"

struct kl_cri;
struct kl_pm;
struct kl_node;
struct kl_metrics;
struct kl_kubelet_metrics;

struct kl_pm_params {
        struct kl_event *loop;
        struct kl_cri *cri;
        const struct kl_config *cfg;
        struct kl_node *node; /* cgroups, admission, cpu manager; owned by the daemon */
        const char *host_ip;
        struct kl_metrics *metrics;       /* may be NULL */
        struct kl_kubelet_metrics *km;    /* the kubelet metrics registered in it */
        struct kl_recorder *recorder;     /* pod events; may be NULL */
        struct kl_metrics *probe_metrics; /* /metrics/probes; may be NULL */
};

int kl_pm_new(const struct kl_pm_params *p, struct kl_pm **ret);
struct kl_pm *kl_pm_free(struct kl_pm *pm);

/* Replace the desired state with the source's entries (sorted by file). */
void kl_pm_set_desired(struct kl_pm *pm, const struct kl_source_entry *entries, size_t n);

/* While images are being preloaded, no new sandbox is started: the sandbox
 * (pause) image itself may be among them. */
void kl_pm_set_images_pending(struct kl_pm *pm, bool pending);

/* Relist and reconcile soon (coalesced). */
void kl_pm_kick(struct kl_pm *pm);

/* CLOCK_MONOTONIC usec of the last completed sync, for /healthz/syncloop. */
uint64_t kl_pm_last_sync(const struct kl_pm *pm);
bool kl_pm_runtime_ok(const struct kl_pm *pm);
/* Why the runtime is not ok; NULL when it is. */
const char *kl_pm_runtime_error(const struct kl_pm *pm);
/* "containerd://1.6.20" once the runtime told us (asked after a relist); NULL before. */
const char *kl_pm_runtime_version(const struct kl_pm *pm);

/* A read-only view of the pods for modules outside pod/ (node status, stats,
 * metrics, the API facade). Valid until the loop runs again.
 *   struct kl_pod_iter it = {};
 *   struct kl_pod_view p;
 *   while (kl_pm_next_pod(pm, &it, &p)) ... */
struct kl_pod_view {
        const char *uid, *name, *namespace, *file;
        const struct kl_pod *spec; /* NULL for a pod found in the runtime without a manifest */
        bool desired;              /* its manifest wants it (false: being removed) */
        bool sandbox_ready;
        int64_t start_nsec;         /* status.startTime, 0 before */
        const char *phase;          /* "Pending", "Running", ... */
        const char *reason;         /* rejection or eviction reason, or NULL */
        const char *manifest_error; /* its file is invalid now (the pod is its last good state) */
        size_t n_containers;        /* init containers first, then app containers */
        const void *priv;
};

struct kl_container_view {
        const char *name;
        const char *id; /* the runtime's id of its current container, NULL: none */
        bool init, sidecar, running, ready;
        int64_t started_at; /* unix nsec, 0: unknown */
        uint32_t restarts;
};

struct kl_pod_iter {
        const void *next;
        bool started;
};

bool kl_pm_next_pod(const struct kl_pm *pm, struct kl_pod_iter *it, struct kl_pod_view *ret);
void kl_pm_pod_container(const struct kl_pod_view *p, size_t i, struct kl_container_view *ret);

/* A v1 PodList of the static pods, shaped like upstream's /pods. */
void kl_pm_render_pods(struct kl_pm *pm, struct kl_json *j);

/* Node pressure conditions (enum kl_eviction_condition: MemoryPressure,
 * DiskPressure, PIDPressure) as the eviction manager last saw them. */
bool kl_pm_node_condition(const struct kl_pm *pm, int condition);

/* Counts for metrics and logs. */
unsigned kl_pm_running_pods(const struct kl_pm *pm);
