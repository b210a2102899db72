/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to the pod package (kubelet-lite/pod/): one worker per pod.
 * Calls go downward only, in this order from the bottom: worker.c,
 * volumes.c, spec.c, relist.c (PLEG), image.c, kill.c (stops, hooks, probe
 * results, removals), start.c, sync.c, evict.c, status.c, manager.c. The
 * relist reports to the manager through pm->relisted, as upstream's PLEG
 * hands events to the sync loop. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "lib/pacer.h"
#include "manifests/pod.h"
#include "kubelet-lite/pod/manager.h"
#include "kubelet-lite/prober/prober.h"
#include "runtime/api.pb-c.h"

enum kl_phase {
        KL_PHASE_PENDING = 0,
        KL_PHASE_RUNNING,
        KL_PHASE_SUCCEEDED,
        KL_PHASE_FAILED,
};

/* Pod conditions whose lastTransitionTime we keep. */
enum kl__cond_type {
        KL__COND_READY_TO_START = 0, /* PodReadyToStartContainers */
        KL__COND_INITIALIZED,
        KL__COND_READY,
        KL__COND_CONTAINERS_READY,
        KL__COND_MAX
};

struct kl__cond {
        bool status;
        int64_t since; /* realtime nsec of the last transition; 0: never evaluated */
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
        uint64_t log_round; /* pm->log_round when its log was last checked for rotation */
        /* details from ContainerStatus, fetched (asynchronously) when (id, state) changes */
        bool status_pending, last_pending;
        int status_state; /* the state the details below are of; -1: not fetched */
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
        bool restart_granted;   /* the back-off let this exit restart; the start (async) is under way */
        uint64_t redo_retry_at; /* the runtime was still busy with a left-over start (RemoveContainer or
                                 * StartContainer failed): not again before */
        unsigned redo_failures; /* RemoveContainer of an interrupted start failed this many times in a row */
        /* image pulls */
        bool image_pending; /* ImageStatus in flight */
        bool image_known;   /* image_present answers for the next start */
        bool image_present;
        bool fallback_logged;
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
        struct kl__op *op; /* a start step in flight (start.c) */
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
        char *sandbox_error;       /* why the sandbox could not be created */
        uint64_t sandbox_retry_at; /* monotonic usec: no RunPodSandbox before, after one failed */

        uint64_t local_seq;                    /* pm->relist_seq when we last changed it ourselves */
        bool ip_pending;                       /* PodSandboxStatus in flight */
        unsigned teardown_pending, gc_pending; /* StopPodSandbox/Remove* in flight */

        int64_t seen_nsec;
        int64_t start_nsec;    /* status.startTime */
        int64_t deletion_nsec; /* metadata.deletionTimestamp: when it began terminating */
        uint64_t created_usec;
        bool start_observed; /* pod start duration recorded */

        struct kl__cstat *cs; /* init containers first, then app containers */
        size_t n_cs;

        bool terminating;
        bool wanted_again;           /* its manifest came back while it was stopping */
        uint64_t terminate_deadline; /* monotonic usec */
        int64_t grace_seconds;       /* for orphans: from CRI annotations */
        unsigned stops_pending;
        uint64_t kill_ticket; /* pm->pacer ticket of its stop round; 0: none */

        enum kl_phase phase;
        char *phase_reason, *phase_message;
        struct kl__cond cond[KL__COND_MAX];

        /* eviction: stopped for node pressure, shown as Failed/Evicted, and
         * admitted again once the pressure has gone (evict.c) */
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

        /* The last relist (relist.c), and the one in flight. */
        Runtime__V1__ListPodSandboxResponse *sandboxes;
        Runtime__V1__ListContainersResponse *containers;
        /* The same, indexed by pod uid label (kl__snapshot_set): every pod
         * looks up its own sandboxes and containers instead of scanning all
         * of them (200 pods x 400 containers of label strcmp were the top
         * of the daemon's profile during 200-pod churn). */
        const char **sb_uid; /* sorted; items without the label are left out */
        const Runtime__V1__PodSandbox **sb_by_uid;
        size_t n_sb_by_uid;
        const char **ct_uid;
        const Runtime__V1__Container **ct_by_uid;
        size_t n_ct_by_uid;
        uint64_t snapshot_seq;                          /* relist_seq of the one above */
        void (*relisted)(struct kl_pm *pm, bool fresh); /* the manager's reaction; fresh: it worked */
        uint64_t relist_seq;                            /* of the latest relist started */
        bool relisting, relist_again;                   /* one at a time; another one wanted */
        uint64_t relist_started;                        /* monotonic usec */
        Runtime__V1__ListPodSandboxResponse *relist_sb; /* first half of the one in flight */
        bool runtime_ok;
        char *runtime_error;
        char *runtime_version; /* "containerd://1.6.20", once known */
        bool version_pending;
        int net_ready; /* NetworkReady from CRI Status: -1 unknown, 0, 1 */
        bool net_pending;
        uint64_t net_checked; /* monotonic usec */
        /* Runtime work in flight (start steps, stop rounds, sandbox and
         * container removals): a few per CPU. Each step forks runc and
         * works a shim; 200 at once leave 30-90 runnable tasks, and every
         * other process on the device (a liveness check of our own /healthz
         * among them) then waits tens of ms for a CPU, while all of it takes
         * longer in total than a few at a time. A step older than
         * PACER_AGE_USEC stops counting: it is waiting (a grace period, a
         * slow runtime), not working. */
        struct kl_pacer pacer;
        unsigned cleanups_left;        /* pods whose local cleanup may still run in this reconcile */
        unsigned starts_left;          /* start steps that may still begin in this reconcile */
        struct kl__req *reqs;          /* small async requests in flight */
        struct kl_recorder *recorder;  /* events; NULL: none */
        struct kl_metric *probe_total; /* prober_probe_total; NULL: none */
        uint64_t last_relist_start;    /* for kubelet_pleg_relist_interval_seconds */
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
        uint64_t log_next_check;
        uint64_t log_round;
        /* rotation checks: one round per containerLogMonitorInterval */ /* pod cgroups without a pod removed once at start */
};

/* An async CRI request on behalf of one container or pod, found again by uid
 * when it completes (the worker may be gone by then). */
struct kl__req {
        struct kl_pm *pm;
        char *uid;
        char *id;     /* the container or sandbox it is about */
        size_t index; /* into w->cs */
        uint32_t attempt;
        char *path;      /* log file to finish, ... */
        uint64_t ticket; /* pm->pacer; put when the request is freed */
        struct kl__req *prev, *next;
};

/* worker.c: the bottom of the package; nothing in it calls up. */
void kl__cstat_clear_runtime(struct kl__cstat *cs);
/* Relist and reconcile at the next loop iteration (coalesced). */
void kl__kick(struct kl_pm *pm);
struct kl__req *kl__req_new(struct kl_pm *pm, const char *uid, const char *id);
void kl__req_free(struct kl__req *r);
/* The worker of a completed request, NULL when it has gone. */
struct kl__worker *kl__req_worker(const struct kl__req *r);
/* We changed what we know of w's runtime state ourselves: a relist that was
 * asked for before now must not overwrite it. */
void kl__touch(struct kl_pm *pm, struct kl__worker *w);
/* The last relist was asked for after the last change of ours to w. */
bool kl__fresh(const struct kl_pm *pm, const struct kl__worker *w);
int kl__set_str(char **dst, const char *src);
/* An event about pod w, or its container cs (may be NULL). */
void kl__event(struct kl_pm *pm, const struct kl__worker *w, const struct kl__cstat *cs, const char *type,
               const char *reason, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Install a relist's answers (either may be NULL), freeing the previous ones,
 * and index them by pod uid. -ENOMEM: nothing changed (the caller still owns
 * sb and containers). */
int kl__snapshot_set(struct kl_pm *pm, Runtime__V1__ListPodSandboxResponse *sb,
                     Runtime__V1__ListContainersResponse *containers);
/* Free the last relist's answers and their index. */
void kl__snapshot_clear(struct kl_pm *pm);
/* The last relist's sandboxes (containers) of pod uid: *ret points at n of
 * them, in relist order; the pointers live until the next relist. */
size_t kl__uid_sandboxes(const struct kl_pm *pm, const char *uid, const Runtime__V1__PodSandbox *const **ret);
size_t kl__uid_containers(const struct kl_pm *pm, const char *uid, const Runtime__V1__Container *const **ret);
/* The distinct pod uids of the last relist's sandboxes, in sorted order: call
 * with i = 0, then with the returned next index, until it returns SIZE_MAX. */
size_t kl__uid_next_sandbox_pod(const struct kl_pm *pm, size_t i, const char **ret_uid);
const char *kl__sandbox_label(const Runtime__V1__PodSandbox *s, const char *key);
const char *kl__container_label(const Runtime__V1__Container *c, const char *key);
const char *kl__container_annotation(const Runtime__V1__Container *c, const char *key);
void kl__set_waiting(struct kl__cstat *cs, const char *reason, const char *message);
struct kl__worker *kl__find_worker(struct kl_pm *pm, const char *uid);
bool kl__cs_running(const struct kl__cstat *cs);
bool kl__cs_exited(const struct kl__cstat *cs);

/* sync.c: reconcile one admitted pod (computePodActions, SyncPod). */
void kl__sync_pod(struct kl_pm *pm, struct kl__worker *w);

/* relist.c */
void kl__relist_request(struct kl_pm *pm);
void kl__relist_check_stuck(struct kl_pm *pm, uint64_t now);
void kl__worker_observe(struct kl_pm *pm, struct kl__worker *w);
void kl__fetch_pod_ip(struct kl_pm *pm, struct kl__worker *w);
const Runtime__V1__PodSandbox *kl__pod_sandbox(struct kl_pm *pm, const char *uid);

/* start.c */
/* A container created but never started (we were killed in between). */
void kl__resume_created(struct kl_pm *pm, struct kl__worker *w, struct kl__cstat *cs);
/* A start of ours cut short by a restart: remove it, start the attempt again. */
void kl__redo_interrupted(struct kl_pm *pm, struct kl__worker *w, struct kl__cstat *cs);
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

/* image.c: whether the image may be used now; starts a pull when needed. */
bool kl__ensure_image(struct kl_pm *pm, struct kl__worker *w, struct kl__cstat *cs);

/* kill.c */
void kl__kill_container(struct kl_pm *pm, struct kl__worker *w, struct kl__cstat *cs, const char *id, uint64_t deadline,
                        const char *why);
bool kl__terminate_pod(struct kl_pm *pm, struct kl__worker *w);
void kl__stop_failed(struct kl_pm *pm, struct kl__worker *w, int evicted_for, const char *reason, const char *msg);
/* Removing old sandboxes and containers of a pod, asynchronously. */
void kl__gc_remove_sandbox(struct kl_pm *pm, struct kl__worker *w, const char *id);
void kl__gc_remove_container(struct kl_pm *pm, struct kl__worker *w, const char *id, size_t cs_index, uint32_t attempt,
                             const char *log_path);
void kl__post_start(struct kl_pm *pm, struct kl__worker *w, struct kl__cstat *cs);
void kl__cancel_hook(struct kl__cstat *cs);
void kl__probes_observe(struct kl_pm *pm, struct kl__worker *w, struct kl__cstat *cs);
void kl__probe_result(void *userdata, const char *pod_uid, const char *container_name, const char *container_id,
                      enum kl_probe_kind kind, bool success, const char *message);

/* evict.c */
int kl__eviction_setup(struct kl_pm *pm);
void kl__eviction_free(struct kl_pm *pm);
void kl__evicted_sync(struct kl_pm *pm, struct kl__worker *w);

/* status.c */
const char *kl__phase_to_string(enum kl_phase p);
/* Re-evaluate the pod conditions, keeping the time of each transition. */
void kl__update_conditions(struct kl__worker *w);
