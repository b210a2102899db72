/* SPDX-License-Identifier: Apache-2.0 */
#include "kubelet-lite/pod/manager.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/stat.h>

#include "kubelet-lite/pod/spec.h"
#include "lib/arena.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/macros.h"
#include "kubelet-lite/server/metrics.h"
#include "kubelet-lite/cm/node.h"
#include "kubelet-lite/eviction/eviction.h"
#include "kubelet-lite/eviction/signals.h"
#include "kubelet-lite/eviction/watch.h"
#include "kubelet-lite/logs/logrotate.h"
#include "kubelet-lite/logs/loglinks.h"
#include "kubelet-lite/pod/worker.h"
#include "kubelet-lite/recorder.h"
#include "kubelet-lite/cm/sysctl.h"
#include "kubelet-lite/prober/prober.h"
#include "cgroups/stats.h"
#include "runtime/cri.h"

#define RELIST_PERIOD_USEC (1 * KL_USEC_PER_SEC)
#define CLEANUPS_PER_RECONCILE 8
#define STARTS_PER_RECONCILE 8
#define PACER_AGE_USEC (2 * KL_USEC_PER_SEC)

/* Runtime steps in flight (worker.h, pm->pacer): 4 per online CPU, since a
 * step spends much of its time waiting (containerd's fsyncs, a shim coming
 * up). Measured on 2 cores (docs/PERFORMANCE.md): with 200 pods started then
 * removed, unbounded, 30-90 tasks are runnable and a default-priority
 * liveness check waits 29-38 ms (p99); at 4 in flight 5-7 ms, at 8 8-14 ms,
 * and all 200 are up sooner at either. 50 pods at once took a median 0.60x
 * the sequential time at 4 in flight (11 runs), 0.53x at 8 (9 runs); at 2
 * the CPUs idle between steps and it is 0.8x. */
static unsigned runtime_concurrency(void) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        return 4 * (unsigned) MAX(n, 1L);
}

/* ---- workers ----------------------------------------------------------- */

static void cstat_done(struct kl__cstat *cs) {
        kl__cancel_hook(cs);
        free(cs->probed_id);
        kl__cstat_clear_runtime(cs);
        free(cs->last_reason);
        free(cs->last_message);
        free(cs->last_id);
        free(cs->waiting_reason);
        free(cs->waiting_message);
}

static struct kl__worker *worker_free(struct kl__worker *w) {
        if (!w)
                return NULL;
        if (w->kill_ticket)
                kl_pacer_put(&w->pm->pacer, w->kill_ticket);
        for (size_t i = 0; i < w->n_cs; i++)
                cstat_done(&w->cs[i]);
        free(w->cs);
        kl_pod_free(w->pod);
        free(w->uid);
        free(w->full_name);
        free(w->namespace);
        free(w->file);
        free(w->reject_reason);
        free(w->reject_message);
        free(w->manifest_error);
        free(w->sandbox_id);
        free(w->pod_ip);
        free(w->cgroup_parent);
        free(w->sandbox_error);
        free(w->phase_reason);
        free(w->phase_message);
        free(w);
        return NULL;
}

static void unlink_worker(struct kl_pm *pm, struct kl__worker *w) {
        for (struct kl__worker **p = &pm->workers; *p; p = &(*p)->next)
                if (*p == w) {
                        *p = w->next;
                        return;
                }
}

static struct kl__worker *worker_new(struct kl_pm *pm, const char *uid, const char *full_name, const char *ns) {
        struct kl__worker *w = calloc(1, sizeof(*w));
        if (!w)
                return NULL;
        w->pm = pm;
        w->uid = strdup(uid);
        w->full_name = strdup(full_name ? full_name : "");
        w->namespace = strdup(ns ? ns : "");
        w->sandbox_state = -1;
        w->grace_seconds = KL_DEFAULT_TERMINATION_GRACE_SECONDS;
        w->created_usec = kl_now_usec();
        if (!w->uid || !w->full_name || !w->namespace)
                return worker_free(w);
        return w;
}

/* Give an adopted or new worker its spec, and a status slot per container. */
static int worker_set_pod(struct kl__worker *w, const struct kl_pod *pod) {
        struct kl_pod *dup = kl_pod_dup(pod);
        if (!dup)
                return -ENOMEM;
        size_t n = dup->n_init_containers + dup->n_containers;
        struct kl__cstat *cs = calloc(n ? n : 1, sizeof(*cs));
        if (!cs) {
                kl_pod_free(dup);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                bool init = i < dup->n_init_containers;
                cs[i].spec = init ? &dup->init_containers[i] : &dup->containers[i - dup->n_init_containers];
                cs[i].init = init;
                cs[i].sidecar = init && cs[i].spec->restart_policy == KL_RESTART_ALWAYS;
                cs[i].state = -1;
                cs[i].status_state = -1;
                cs[i].w = w;
        }
        w->pod = dup;
        w->cs = cs;
        w->n_cs = n;
        w->grace_seconds = dup->termination_grace_period_seconds;
        return 0;
}

/* ---- desired state ------------------------------------------------------ */

static void desired_clear(struct kl_pm *pm) {
        for (size_t i = 0; i < pm->n_desired; i++) {
                kl_pod_free(pm->desired[i].pod);
                free(pm->desired[i].file);
                free(pm->desired[i].error);
        }
        pm->desired = mfree(pm->desired);
        pm->n_desired = 0;
}

/* Take a copy of what the manifests want; pm_sync applies it (level-triggered,
 * so a pod wanted again while its old self is still stopping comes back). */
void kl_pm_set_desired(struct kl_pm *pm, const struct kl_source_entry *entries, size_t n) {
        size_t total = 0, k = 0;

        for (size_t i = 0; i < n; i++) {
                total += entries[i].n_pods;
                if (entries[i].error && entries[i].error_is_new && entries[i].n_pods == 0 && pm->recorder) {
                        /* No pod to hang it on: the node carries it. */
                        struct kl_event_object o = {.kind = "Node", .name = pm->cfg->node_name};
                        kl_recorder_record(pm->recorder, &o, "Warning", "InvalidManifest",
                                           "manifest '%s' is invalid, no pod started: %s", entries[i].file,
                                           entries[i].error);
                }
        }
        struct kl__desired *d = calloc(total ? total : 1, sizeof(*d));
        if (!d) {
                log_error("out of memory taking the manifests, keeping the previous state");
                return;
        }
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < entries[i].n_pods; j++) {
                        d[k].pod = kl_pod_dup(entries[i].pods[j]);
                        d[k].file = strdup(entries[i].file);
                        d[k].error = entries[i].error ? strdup(entries[i].error) : NULL;
                        if (!d[k].pod || !d[k].file || (entries[i].error && !d[k].error)) {
                                log_error("out of memory taking the manifests, keeping the previous state");
                                desired_clear(&(struct kl_pm){.desired = d, .n_desired = k + 1});
                                return;
                        }
                        k++;
                }
        desired_clear(pm);
        pm->desired = d;
        pm->n_desired = k;
        pm->have_desired = true;
        kl_pm_kick(pm);
}

static void apply_desired(struct kl_pm *pm) {
        unsigned order = 0;

        for (struct kl__worker *w = pm->workers; w; w = w->next)
                w->desired = false;

        for (size_t i = 0; i < pm->n_desired; i++) {
                const struct kl__desired *e = &pm->desired[i];
                const struct kl_pod *pod = e->pod;
                struct kl__worker *w = kl__find_worker(pm, pod->uid);
                if (!w) {
                        w = worker_new(pm, pod->uid, pod->full_name, pod->namespace);
                        if (!w || worker_set_pod(w, pod) < 0) {
                                log_error("pod '%s': out of memory, ignoring", pod->full_name);
                                worker_free(w);
                                continue;
                        }
                        w->seen_nsec = kl_realtime_nsec();
                        w->next = pm->workers;
                        pm->workers = w;
                        log_info("pod '%s' uid=%s: added from '%s'", pod->full_name, pod->uid, e->file);
                } else if (!w->pod && !w->terminating) {
                        /* An orphan found by relist that the manifests still want: adopt. */
                        if (worker_set_pod(w, pod) < 0)
                                continue;
                        w->seen_nsec = kl_realtime_nsec();
                        log_info("pod '%s' uid=%s: adopted running pod", pod->full_name, pod->uid);
                }
                if (w->terminating && !w->evicted) {
                        w->wanted_again = true;
                        continue; /* wanted again: it comes back once it has stopped */
                }
                w->desired = true;
                w->order = order++;
                kl__set_str(&w->file, e->file);
                if (kl__set_str(&w->manifest_error, e->error) > 0 && e->error) {
                        log_warning("pod '%s': manifest '%s' is invalid, keeping the running pod: %s", w->full_name,
                                    e->file, e->error);
                        kl__event(pm, w, NULL, "Warning", "InvalidManifest",
                                  "manifest '%s' is invalid, keeping the running pod: %s", e->file, e->error);
                }
        }

        /* Keep the worker list in manifest order; orphans at the end. */
        struct kl__worker *sorted = NULL, **tail = &sorted;
        for (unsigned k = 0; k < order; k++)
                for (struct kl__worker **p = &pm->workers; *p; p = &(*p)->next)
                        if ((*p)->desired && (*p)->order == k) {
                                struct kl__worker *w = *p;
                                *p = w->next;
                                w->next = NULL;
                                *tail = w;
                                tail = &w->next;
                                break;
                        }
        *tail = pm->workers;
        pm->workers = sorted;
}

/* ---- removing pods ------------------------------------------------------------ */

/* ---- the sync loop -------------------------------------------------------------- */

/* A pod being removed is listed until its sandbox is gone: not ready, and
 * once nothing runs any more terminal, as upstream's getPhase with
 * podIsTerminal (pkg/kubelet/kubelet_pods.go). */
static void terminating_status(struct kl__worker *w) {
        bool running = false, failed = false;
        for (size_t i = 0; i < w->n_cs; i++) {
                struct kl__cstat *cs = &w->cs[i];
                cs->ready = false;
                cs->started = kl__cs_running(cs);
                if (kl__cs_running(cs))
                        running = true;
                else if (!cs->init && (cs->state < 0 || cs->exit_code != 0))
                        failed = true;
        }
        if (!running && w->phase != KL_PHASE_SUCCEEDED && w->phase != KL_PHASE_FAILED)
                w->phase = failed ? KL_PHASE_FAILED : KL_PHASE_SUCCEEDED;
        kl__update_conditions(w);
}

static bool fullname_terminating(struct kl_pm *pm, const struct kl__worker *self) {
        for (struct kl__worker *w = pm->workers; w; w = w->next)
                if (w != self && w->terminating && streq(w->full_name, self->full_name) &&
                    streq(w->namespace, self->namespace))
                        return true;
        return false;
}

static void adopt_orphans(struct kl_pm *pm) {
        const char *uid;
        for (size_t i = 0; (i = kl__uid_next_sandbox_pod(pm, i, &uid)) != SIZE_MAX;) {
                const Runtime__V1__PodSandbox *const *sbs;
                if (kl__find_worker(pm, uid) || kl__uid_sandboxes(pm, uid, &sbs) == 0)
                        continue;
                const Runtime__V1__PodSandbox *s = sbs[0];
                struct kl__worker *w = worker_new(pm, uid, kl__sandbox_label(s, KL_LABEL_POD_NAME),
                                                  kl__sandbox_label(s, KL_LABEL_POD_NAMESPACE));
                if (!w)
                        continue;
                /* Append: orphans go last. */
                struct kl__worker **p = &pm->workers;
                while (*p)
                        p = &(*p)->next;
                *p = w;
                log_info("pod '%s' uid=%s: found in the runtime without a manifest, removing", w->full_name, uid);
        }
}

static void admit_pods(struct kl_pm *pm) {
        size_t n_admitted = 0, n = 0;

        for (struct kl__worker *w = pm->workers; w; w = w->next)
                n++;
        _cleanup_free_ const struct kl_pod **admitted = calloc(n ? n : 1, sizeof(*admitted));
        if (!admitted) {
                log_error("admitting pods: out of memory, will retry");
                return;
        }
        /* Pods already running keep their place, and so do pods still
         * terminating (upstream admits against GetActivePods, which keeps
         * them until their containers are gone); newcomers in manifest order. */
        for (struct kl__worker *w = pm->workers; w; w = w->next)
                if (w->pod && w->admitted && (w->desired || w->terminating))
                        admitted[n_admitted++] = w->pod;

        for (struct kl__worker *w = pm->workers; w; w = w->next) {
                if (!w->pod || !w->desired || w->admitted || w->evicted)
                        continue;
                /* A pod already running in the runtime (adopted) is admitted as is. */
                bool running = kl__pod_sandbox(pm, w->uid) != NULL;
                _cleanup_free_ char *reason = NULL, *message = NULL;
                char pmsg[256];
                if (!running && pm->ev &&
                    !kl_eviction_admit(pm->ev, kl_eviction_pod_is_critical(w->pod),
                                       kl_pod_qos_class(w->pod) == KL_QOS_BEST_EFFORT, pmsg, sizeof(pmsg))) {
                        reason = strdup("Evicted");
                        message = strdup(pmsg);
                }
                char smsg[256];
                if (!running && !reason &&
                    !kl_sysctl_admit(w->pod, pm->cfg->allowed_unsafe_sysctls, smsg, sizeof(smsg))) {
                        /* upstream's sysctl admit handler (pkg/kubelet/sysctl/allowlist.go) */
                        reason = strdup(KL_SYSCTL_REASON);
                        message = strdup(smsg);
                }
                if (!running &&
                    (reason ||
                     (kl_node_admit(pm->node, w->pod, admitted, n_admitted, &reason, &message) >= 0 && reason))) {
                        if (!streq_ptr(w->reject_reason, reason) || !streq_ptr(w->reject_message, message)) {
                                log_warning("pod '%s': rejected: %s: %s (will be admitted when resources free up, "
                                            "in manifest order)",
                                            w->full_name, reason, message);
                                /* upstream: Warning event with the admission failure's reason */
                                kl__event(pm, w, NULL, "Warning", reason, "%s", strempty(message));
                        }
                        kl__set_str(&w->reject_reason, reason);
                        kl__set_str(&w->reject_message, message);
                        w->phase = KL_PHASE_FAILED;
                        continue;
                }
                if (w->reject_reason)
                        log_info("pod '%s': admitted now that resources are free (was %s)", w->full_name,
                                 w->reject_reason);
                w->reject_reason = mfree(w->reject_reason);
                w->reject_message = mfree(w->reject_message);
                w->admitted = true;
                w->phase = KL_PHASE_PENDING;
                admitted[n_admitted++] = w->pod;
        }
}

static void cpuset_updated(int r, const struct kl_error *err, ProtobufCMessage *reply, void *userdata) {
        struct kl__req *req = userdata;
        if (r < 0)
                log_warning("container %.12s: updating its cpuset to %s: %s, ignoring", req->id, req->path,
                            kl_error_str(err));
        else
                log_debug("container %.12s: cpuset now %s", req->id, req->path);
        kl__req_free(req);
}

/* The static CPU manager moved CPUs in or out of the shared pool: running
 * containers that use the pool follow it (UpdateContainerResources), as
 * upstream's CPU manager reconcile loop does. */
static void update_shared_cpusets(struct kl_pm *pm) {
        for (struct kl__worker *w = pm->workers; w; w = w->next)
                for (size_t i = 0; w->pod && i < w->n_cs; i++) {
                        struct kl__cstat *cs = &w->cs[i];
                        if (!cs->id || !kl__cs_running(cs))
                                continue;
                        const char *set = kl_node_container_cpuset(pm->node, w->pod, cs->spec);
                        if (!set)
                                continue;
                        struct kl_arena a = {};
                        struct kl_spec_ctx ctx;
                        struct kl_error err = {};
                        kl__fill_ctx(pm, w, &ctx);
                        ctx.cpuset = set;
                        Runtime__V1__ContainerConfig *cc =
                                kl_spec_container(&a, w->pod, cs->spec, "app", &ctx, cs->attempt, NULL, &err);
                        struct kl__req *req = cc ? kl__req_new(pm, w->uid, cs->id) : NULL;
                        if (req && (req->path = strdup(set)) &&
                            kl_cri_update_container_resources_async(pm->cri, cs->id, cc->linux->resources,
                                                                    cpuset_updated, req) >= 0)
                                req = NULL;
                        else
                                log_warning("pod '%s': container '%s': could not update its cpuset to %s, ignoring",
                                            w->full_name, cs->spec->name, set);
                        kl__req_free(req);
                        kl_arena_free(&a);
                }
}

/* After each relist (fresh) or failed relist: apply the manifests, observe,
 * terminate, admit and reconcile every pod. Nothing here waits for the
 * runtime: every CRI call it makes completes later in the loop. */
static void reconcile(struct kl_pm *pm, bool fresh) {
        pm->last_sync = kl_now_usec(); /* a relist finished, well or not: the loop is fine */
        if (!fresh || !pm->have_desired)
                return;
        apply_desired(pm);
        adopt_orphans(pm);
        if (!pm->orphans_cleaned) {
                /* Keep the cgroups of every pod the runtime still has or the manifests want. */
                size_t n = 0, k = 0;
                for (struct kl__worker *w = pm->workers; w; w = w->next)
                        n++;
                _cleanup_free_ char **keep = calloc(n + 1, sizeof(char *));
                if (keep) {
                        for (struct kl__worker *w = pm->workers; w; w = w->next)
                                keep[k++] = w->uid;
                        (void) kl_node_cleanup_orphans(pm->node, keep);
                        pm->orphans_cleaned = true;
                }
        }

        /* Undesired pods terminate; finished ones are freed. */
        pm->cleanups_left = CLEANUPS_PER_RECONCILE;
        pm->starts_left = STARTS_PER_RECONCILE;
        for (struct kl__worker *w = pm->workers, *next; w; w = next) {
                next = w->next;
                if (kl__fresh(pm, w))
                        kl__worker_observe(pm, w);
                if (w->desired)
                        continue;
                if (w->pod)
                        terminating_status(w);
                if (w->reject_reason && !w->terminating && !kl__pod_sandbox(pm, w->uid)) {
                        unlink_worker(pm, w);
                        worker_free(w);
                        continue;
                }
                if (kl__terminate_pod(pm, w)) {
                        if (w->wanted_again && pm->km)
                                kl_metric_inc(pm->km->restarted_pods, "true");
                        unlink_worker(pm, w);
                        worker_free(w);
                }
        }

        admit_pods(pm);

        for (struct kl__worker *w = pm->workers; w; w = w->next) {
                if (!w->desired || !w->pod)
                        continue;
                if (w->evicted) {
                        kl__evicted_sync(pm, w);
                        continue;
                }
                if (!w->admitted)
                        continue;
                if (fullname_terminating(pm, w)) {
                        log_debug("pod '%s' uid=%s waits for the previous version to stop", w->full_name, w->uid);
                        continue;
                }
                uint64_t t0 = kl_now_usec();
                kl__sync_pod(pm, w);
                kl__update_conditions(w);
                if (pm->km)
                        kl_metric_observe(pm->km->pod_worker_duration, (double) (kl_now_usec() - t0) / 1e6, "sync");
                if (pm->km && !w->start_observed && w->phase == KL_PHASE_RUNNING) {
                        /* upstream: from the pod being seen to all its containers running */
                        w->start_observed = true;
                        kl_metric_observe(pm->km->pod_start_duration,
                                          (double) (kl_realtime_nsec() - w->seen_nsec) / 1e9);
                }
        }
        if (kl_node_take_shared_pool_changed(pm->node))
                update_shared_cpusets(pm);
        pm->last_sync = kl_now_usec();
}

/* ---- timers and plumbing ---------------------------------------------------------- */

static void on_sync_timer(struct kl_event_timer *t, uint64_t now, void *userdata) {
        struct kl_pm *pm = userdata;
        kl__relist_check_stuck(pm, now);
        kl__relist_request(pm);
        /* Earliest of: the relist period, a pending backoff expiry. */
        uint64_t next = kl_now_usec() + RELIST_PERIOD_USEC; /* deadlines are checked each relist too */
        for (struct kl__worker *w = pm->workers; w; w = w->next)
                for (size_t i = 0; i < w->n_cs; i++) {
                        uint64_t u = w->cs[i].backoff_until;
                        if (u > now && u < next)
                                next = u;
                        u = w->cs[i].pull_retry_at;
                        if (u > now && u < next)
                                next = u;
                }
        kl_event_timer_set(t, next);
}

void kl_pm_set_images_pending(struct kl_pm *pm, bool pending) {
        pm->images_pending = pending;
        kl_pm_kick(pm);
}

void kl_pm_kick(struct kl_pm *pm) {
        kl__kick(pm);
}

#define LOG_STEP_PERIOD_USEC (100 * KL_USEC_PER_MSEC)

static bool reopen_pending(struct kl_pm *pm, const char *path) {
        for (struct kl__req *r = pm->reqs; r; r = r->next)
                if (streq_ptr(r->path, path))
                        return true;
        return false;
}

/* The runtime writes to a new file now: the rotated one can be compressed. */
static void log_reopened(int r, const struct kl_error *err, ProtobufCMessage *reply, void *userdata) {
        struct kl__req *req = userdata;
        struct kl_error e = {};
        if (r < 0)
                log_warning("container %.12s: ReopenContainerLog: %s, ignoring", req->id, kl_error_str(err));
        if (kl_logrotate_finish(req->pm->logrotate, req->path, r >= 0, &e) < 0)
                log_warning("log rotation of '%s': %s, ignoring", req->path, kl_error_str(&e));
        else if (r >= 0)
                log_debug("rotated the log '%s'", req->path);
        kl__req_free(req);
}

/* One look at a log is a directory open and scan: at most this many per
 * timer run, the rest 100 ms later, so that 200 containers do not hold the
 * loop for the whole round (165 ms on a busy disk). */
#define LOG_CHECKS_PER_STEP 16

/* Container log rotation: every 10 s look at each running container's log,
 * in slices; compression of rotated files runs in slices too. */
static void on_log_timer(struct kl_event_timer *t, uint64_t now, void *userdata) {
        struct kl_pm *pm = userdata;
        struct kl_error err = {};
        bool round_left = false;
        if (now >= pm->log_next_check) {
                pm->log_next_check = now + pm->cfg->container_log_monitor_interval_usec;
                pm->log_round++;
                /* links whose log files are gone, as upstream's container GC */
                if (pm->cfg->container_log_links_dir && pm->cfg->container_log_links_dir[0])
                        (void) kl_loglinks_gc(pm->cfg->container_log_links_dir, pm->cfg->pod_logs_dir);
        }
        unsigned checks = 0;
        for (struct kl__worker *w = pm->workers; w; w = w->next)
                for (size_t i = 0; i < w->n_cs; i++) {
                        struct kl__cstat *cs = &w->cs[i];
                        char path[4096];
                        bool reopen = false;
                        if (!cs->id || !kl__cs_running(cs) || cs->log_round == pm->log_round)
                                continue;
                        if (checks == LOG_CHECKS_PER_STEP) {
                                round_left = true;
                                goto step;
                        }
                        checks++;
                        cs->log_round = pm->log_round;
                        snprintf(path, sizeof(path), "%s/%s_%s_%s/%s/%u.log", pm->cfg->pod_logs_dir, w->namespace,
                                 w->full_name, w->uid, cs->spec->name, cs->attempt);
                        if (reopen_pending(pm, path))
                                continue;
                        if (kl_logrotate_check(pm->logrotate, path, &reopen, &err) < 0) {
                                log_debug("log rotation of '%s': %s", path, kl_error_str(&err));
                                continue;
                        }
                        if (!reopen)
                                continue;
                        struct kl__req *req = kl__req_new(pm, w->uid, cs->id);
                        if (req && (req->path = strdup(path)) &&
                            kl_cri_reopen_container_log_async(pm->cri, cs->id, log_reopened, req) >= 0)
                                continue;
                        kl__req_free(req);
                        if (kl_logrotate_finish(pm->logrotate, path, false, &err) < 0)
                                log_warning("log rotation of '%s': %s, ignoring", path, kl_error_str(&err));
                }
step:;
        int more = kl_logrotate_step(pm->logrotate, &err);
        if (more < 0)
                log_warning("compressing rotated logs: %s, ignoring", kl_error_str(&err));
        kl_event_timer_set(t, more > 0 || round_left ? now + LOG_STEP_PERIOD_USEC : pm->log_next_check);
}

/* prober_probe_total, as upstream's prober (pkg/kubelet/prober/worker.go). */
static void on_probe_run(void *userdata, const char *pod_uid, const char *container_name, enum kl_probe_kind kind,
                         const char *result) {
        struct kl_pm *pm = userdata;
        const struct kl__worker *w = kl__find_worker(pm, pod_uid);
        if (w)
                kl_metric_inc(pm->probe_total, kl_probe_kind_to_string(kind), result, container_name, w->full_name,
                              w->namespace, w->uid);
}

/* Every CRI call, as upstream's instrumentedRuntimeService: count, errors
 * and duration by operation type. */
static void on_cri_op(const char *op, int r, uint64_t usec, void *userdata) {
        struct kl_pm *pm = userdata;
        kl_metric_inc(pm->km->runtime_operations, op);
        kl_metric_observe(pm->km->runtime_operations_duration, (double) usec / 1e6, op);
        if (r < 0)
                kl_metric_inc(pm->km->runtime_operations_errors, op);
}

static void on_cri_event(struct kl_event_io *io, int fd, uint32_t revents, void *userdata) {
        struct kl_pm *pm = userdata;
        (void) kl_cri_dispatch(pm->cri);
}

/* Refreshed at every /metrics render: pod and container counts, and the
 * per-container cgroup usage (cgroup v2 with cgroupsPerQOS only). */
static void collect_metrics(struct kl_metrics *m, void *userdata) {
        struct kl_pm *pm = userdata;
        struct kl_kubelet_metrics *km = pm->km;
        unsigned running = 0, exited = 0, created = 0, unknown = 0;

        kl_metric_set(km->running_pods, kl_pm_running_pods(pm));
        kl_metric_set(km->node_condition, pm->runtime_ok ? 1 : 0, "Ready");
        kl_metric_reset(km->container_cpu_usage);
        kl_metric_reset(km->container_memory_working_set);
        for (struct kl__worker *w = pm->workers; w; w = w->next)
                for (size_t i = 0; i < w->n_cs; i++) {
                        const struct kl__cstat *cs = &w->cs[i];
                        switch (cs->state) {
                        case RUNTIME__V1__CONTAINER_STATE__CONTAINER_RUNNING: running++; break;
                        case RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED: exited++; break;
                        case RUNTIME__V1__CONTAINER_STATE__CONTAINER_CREATED: created++; break;
                        case RUNTIME__V1__CONTAINER_STATE__CONTAINER_UNKNOWN: unknown++; break;
                        default: break;
                        }
                        struct kl_cg_stats st = {};
                        if (!cs->id || cs->state != RUNTIME__V1__CONTAINER_STATE__CONTAINER_RUNNING ||
                            kl_node_stats(pm->node, w->uid, cs->id, &st) < 0)
                                continue;
                        if (st.have & KL_CG_STATS_CPU)
                                kl_metric_set(km->container_cpu_usage, (double) st.cpu_usage_usec / 1e6, w->namespace,
                                              w->full_name, cs->spec->name);
                        if (st.have & KL_CG_STATS_MEMORY)
                                kl_metric_set(km->container_memory_working_set, (double) st.memory_working_set,
                                              w->namespace, w->full_name, cs->spec->name);
                }
        kl_metric_set(km->running_containers, running, "running");
        kl_metric_set(km->running_containers, exited, "exited");
        kl_metric_set(km->running_containers, created, "created");
        kl_metric_set(km->running_containers, unknown, "unknown");
}

int kl_pm_new(const struct kl_pm_params *p, struct kl_pm **ret) {
        struct kl_pm *pm = calloc(1, sizeof(*pm));
        int r;

        if (!pm)
                return -ENOMEM;
        pm->loop = p->loop;
        pm->cri = p->cri;
        pm->cfg = p->cfg;
        pm->node = p->node;
        pm->host_ip = strdup(p->host_ip ? p->host_ip : "127.0.0.1");
        pm->km = p->km;
        pm->recorder = p->recorder;
        pm->relisted = reconcile;
        kl_pacer_init(&pm->pacer, runtime_concurrency(), PACER_AGE_USEC);
        r = kl_prober_new(pm->loop, pm->cri, kl__probe_result, pm, &pm->prober);
        if (r < 0) {
                kl_pm_free(pm);
                return r;
        }
        if (p->metrics && p->km) {
                (void) kl_metrics_add_collector(p->metrics, collect_metrics, pm);
                kl_cri_set_observer(pm->cri, on_cri_op, pm);
                kl_metric_set(pm->km->node_name, 1, pm->cfg->node_name);
        }
        if (p->probe_metrics && kl_metrics_register_probes(p->probe_metrics, &pm->probe_total) >= 0)
                kl_prober_set_run_observer(pm->prober, on_probe_run);
        pm->net_ready = -1;
        struct kl_logrotate_options lo = {
                .max_size = p->cfg->container_log_max_size,
                .max_files = p->cfg->container_log_max_files,
        };
        r = kl__eviction_setup(pm);
        if (r < 0) {
                kl_pm_free(pm);
                return r;
        }
        r = kl_logrotate_new(&lo, &pm->logrotate);
        if (r >= 0)
                r = kl_event_add_timer(pm->loop, kl_now_usec() + p->cfg->container_log_monitor_interval_usec,
                                       on_log_timer, pm, &pm->log_timer);
        if (r < 0) {
                kl_pm_free(pm);
                return r;
        }
        r = kl_event_add_timer(pm->loop, kl_now_usec(), on_sync_timer, pm, &pm->sync_timer);
        if (r >= 0)
                r = kl_event_add_io(pm->loop, kl_cri_event_fd(pm->cri), EPOLLIN, on_cri_event, pm, &pm->cri_io);
        if (r < 0 || !pm->host_ip) {
                kl_pm_free(pm);
                return r < 0 ? r : -ENOMEM;
        }
        *ret = pm;
        return 0;
}

struct kl_pm *kl_pm_free(struct kl_pm *pm) {
        if (!pm)
                return NULL;
        /* No callback of ours may run after this. */
        kl_cri_cancel_pending(pm->cri);
        kl_cri_set_observer(pm->cri, NULL, NULL);
        while (pm->reqs)
                kl__req_free(pm->reqs);
        while (pm->workers) {
                struct kl__worker *w = pm->workers;
                pm->workers = w->next;
                worker_free(w);
        }
        desired_clear(pm);
        kl__ops_free(pm);
        kl__eviction_free(pm);
        kl_prober_free(pm->prober);
        kl_event_timer_free(pm->log_timer);
        kl_logrotate_free(pm->logrotate);
        kl_event_timer_free(pm->sync_timer);
        kl_event_io_free(pm->cri_io);
        kl__snapshot_clear(pm);
        kl_cri_response_free(pm->relist_sb);
        free(pm->runtime_error);
        free(pm->runtime_version);
        free(pm->host_ip);
        free(pm);
        return NULL;
}

uint64_t kl_pm_last_sync(const struct kl_pm *pm) {
        return pm->last_sync;
}

bool kl_pm_runtime_ok(const struct kl_pm *pm) {
        return pm->runtime_ok;
}

const char *kl_pm_runtime_error(const struct kl_pm *pm) {
        return pm->runtime_ok ? NULL : pm->runtime_error ? pm->runtime_error : "container runtime status unknown";
}

const char *kl_pm_runtime_version(const struct kl_pm *pm) {
        return pm->runtime_version;
}

unsigned kl_pm_running_pods(const struct kl_pm *pm) {
        unsigned n = 0;
        for (const struct kl__worker *w = pm->workers; w; w = w->next)
                if (w->sandbox_state == RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY)
                        n++;
        return n;
}
