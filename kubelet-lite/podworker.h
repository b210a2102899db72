/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to the pod manager (podmanager.c, podstatus.c): one worker per pod. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "manifests/pod.h"
#include "podmanager.h"
#include "prober.h"
#include "runtime/api.pb-c.h"

enum kl_phase {
        KL_PHASE_PENDING = 0,
        KL_PHASE_RUNNING,
        KL_PHASE_SUCCEEDED,
        KL_PHASE_FAILED,
};

struct kl__worker;
struct kl_handler_call;
struct kl_eviction;
struct kl_eviction_watch;
struct kl_prober;

/* What we know of one container of the spec. */
struct kl__cstat {
        struct kl__worker *w;
        const struct kl_container *spec; /* points into worker->pod */
        bool init, sidecar;

        /* latest runtime container for this name (from relist) */
        char *id;
        int state; /* Runtime__V1__ContainerState, or -1: none */
        uint32_t attempt;
        /* details from ContainerStatus, refreshed when (id, state) changes */
        int status_state;
        int32_t exit_code;
        int64_t started_at, finished_at; /* unix nsec */
        char *reason, *message, *image_ref, *image;

        /* the previous attempt's termination (lastState) */
        bool have_last;
        int32_t last_exit_code;
        int64_t last_started_at, last_finished_at;
        char *last_reason, *last_message, *last_id;

        /* restart backoff (CrashLoopBackOff) */
        uint64_t backoff_usec;  /* current window, 0 before the first restart */
        uint64_t backoff_until; /* monotonic usec */
        /* image pulls */
        bool pull_pending; /* waiting for an async PullImage */
        bool pull_done;    /* a pull finished and this start may use it */
        uint64_t pull_backoff_usec, pull_retry_at;

        char *waiting_reason, *waiting_message; /* when not running */
        bool stopping;                          /* being stopped (preStop hook or StopContainer in flight) */
        uint64_t kill_deadline;                 /* monotonic usec: end of its grace period */
        bool ready, started;

        /* lifecycle hooks */
        struct kl_handler_call *hook;
        int hook_kind;
        char *hook_container_id;
        bool poststart_done;

        char *probed_id; /* the container id the prober watches */
};

struct kl__op;

struct kl__worker {
        struct kl_pm *pm;
        struct kl__op *op; /* a start step in flight (podstart.c) */
        char *uid;
        char *full_name;
        char *namespace;
        struct kl_pod *pod; /* desired spec; NULL for an orphan being removed */
        char *file;
        unsigned order; /* manifest order, for admission */
        bool desired;   /* still in the source */
        bool admitted;
        char *reject_reason, *reject_message;
        char *manifest_error; /* the file is currently invalid; this pod is its last good state */

        char *sandbox_id;
        int sandbox_state; /* -1: none */
        uint32_t sandbox_attempt;
        char *pod_ip;
        char *cgroup_parent;
        char *sandbox_error; /* why the sandbox could not be created */

        int64_t seen_nsec;
        int64_t start_nsec; /* status.startTime */
        uint64_t created_usec;
        bool start_observed; /* pod start duration recorded */

        struct kl__cstat *cs; /* init containers first, then app containers */
        size_t n_cs;

        bool terminating;
        uint64_t terminate_deadline; /* monotonic usec */
        int64_t grace_seconds;       /* for orphans: from CRI annotations */
        unsigned stops_pending;

        enum kl_phase phase;
        char *phase_reason, *phase_message;

        /* eviction: stopped for node pressure, shown as Failed/Evicted, and
         * admitted again once the pressure has gone (podevict.c) */
        bool evicted, evict_done;
        int evicted_for; /* enum kl_eviction_condition; -1: stopped for good (activeDeadlineSeconds) */

        struct kl__worker *next;
};

struct kl__desired {
        struct kl_pod *pod;
        char *file;
        char *error; /* the file is currently invalid; pod is its last good state */
};

struct kl_pm {
        struct kl_event *loop;
        struct kl_cri *cri;
        const struct kl_config *cfg;
        struct kl_node *node;
        char *host_ip;

        struct kl__worker *workers;  /* in manifest order, then orphans */
        bool have_desired;           /* the source has been read at least once */
        struct kl__desired *desired; /* what the manifests want, in manifest order */
        size_t n_desired;
        struct kl_event_timer *sync_timer;
        struct kl_event_io *cri_io;

        Runtime__V1__ListPodSandboxResponse *sandboxes;
        Runtime__V1__ListContainersResponse *containers;
        bool runtime_ok;
        char *runtime_error;
        uint64_t last_sync;
        bool orphans_cleaned;
        bool images_pending;           /* imagePreloadDir imports still running */
        struct kl_kubelet_metrics *km; /* NULL without metrics */
        struct kl_prober *prober;
        struct kl__op *ops; /* start steps in flight */
        struct kl_eviction *ev;
        struct kl_eviction_watch *evict_watch;
        struct kl_event_timer *evict_timer;
        struct kl_event_io *evict_psi_io, *evict_events_io;
        bool evicting; /* an evicted pod is still being stopped */
        uint64_t evict_last_check;
        bool node_conditions[4]; /* by enum kl_eviction_condition */
        struct kl_logrotate *logrotate;
        struct kl_event_timer *log_timer;
        uint64_t log_next_check; /* pod cgroups without a pod removed once at start */
};

/* podmanager.c */
int kl__set_str(char **dst, const char *src);
const char *kl__sandbox_label(const Runtime__V1__PodSandbox *s, const char *key);
const char *kl__container_label(const Runtime__V1__Container *c, const char *key);
const char *kl__container_annotation(const Runtime__V1__Container *c, const char *key);
void kl__set_waiting(struct kl__cstat *cs, const char *reason, const char *message);
struct kl__worker *kl__find_worker(struct kl_pm *pm, const char *uid);
const Runtime__V1__PodSandbox *kl__pod_sandbox(struct kl_pm *pm, const char *uid);
bool kl__cs_running(const struct kl__cstat *cs);
bool kl__cs_exited(const struct kl__cstat *cs);

/* podstart.c */
struct kl_spec_ctx;
void kl__fill_ctx(struct kl_pm *pm, struct kl__worker *w, struct kl_spec_ctx *ctx);
int kl__start_sandbox(struct kl_pm *pm, struct kl__worker *w);
void kl__journal_path(struct kl_pm *pm, struct kl__worker *w, const char *name, uint32_t attempt, char *buf, size_t n);
bool kl__journal_exists(struct kl_pm *pm, struct kl__worker *w, const char *name, uint32_t attempt);
int kl__start_container(struct kl_pm *pm, struct kl__worker *w, struct kl__cstat *cs, uint32_t attempt);
void kl__ops_free(struct kl_pm *pm);
bool kl__backoff_allows(struct kl_pm *pm, struct kl__worker *w, struct kl__cstat *cs);
void kl__note_exit(struct kl_pm *pm, struct kl__cstat *cs);
bool kl__should_restart(const struct kl__worker *w, const struct kl__cstat *cs);

/* podimage.c: whether the image may be used now; starts a pull when needed. */
bool kl__ensure_image(struct kl_pm *pm, struct kl__worker *w, struct kl__cstat *cs);

/* podkill.c */
void kl__kill_container(struct kl_pm *pm, struct kl__worker *w, struct kl__cstat *cs, const char *id, uint64_t deadline,
                        const char *why);
bool kl__terminate_pod(struct kl_pm *pm, struct kl__worker *w);
void kl__post_start(struct kl_pm *pm, struct kl__worker *w, struct kl__cstat *cs);
void kl__cancel_hook(struct kl__cstat *cs);
void kl__probes_observe(struct kl_pm *pm, struct kl__worker *w, struct kl__cstat *cs);
void kl__probe_result(void *userdata, const char *pod_uid, const char *container_name, const char *container_id,
                      enum kl_probe_kind kind, bool success, const char *message);

/* podevict.c */
int kl__eviction_setup(struct kl_pm *pm);
void kl__eviction_free(struct kl_pm *pm);
void kl__evicted_sync(struct kl_pm *pm, struct kl__worker *w);

/* podstatus.c */
const char *kl__phase_to_string(enum kl_phase p);
