/* SPDX-License-Identifier: Apache-2.0 */
/* Reconciling one pod against what the runtime has, as upstream's
 * computePodActions and SyncPod (pkg/kubelet/kuberuntime): the sandbox, init
 * containers in order, app containers, restarts with back-off, the phase,
 * and the garbage of old attempts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kubelet-lite/pod/spec.h"
#include "kubelet-lite/pod/worker.h"
#include "kubelet-lite/prober/prober.h"
#include "lib/log.h"
#include "lib/macros.h"
#include "runtime/cri.h"

/* ---- reconcile one pod ------------------------------------------------------ */
/* started and ready, from the hooks and the probes. */
static void observe_started(struct kl_pm *pm, struct kl__worker *w, struct kl__cstat *cs) {
        bool running = kl__cs_running(cs) && !cs->stopping;
        bool probe_started = true, probe_ready = true;

        kl__probes_observe(pm, w, cs);
        if (pm->prober && cs->probed_id) {
                (void) kl_prober_get(pm->prober, cs->probed_id, KL_PROBE_STARTUP, &probe_started);
                (void) kl_prober_get(pm->prober, cs->probed_id, KL_PROBE_READINESS, &probe_ready);
        } else if (running && (cs->spec->startup.set || cs->spec->readiness.set)) {
                probe_started = !cs->spec->startup.set;
                probe_ready = false; /* not probed yet */
        }
        cs->started = running && cs->poststart_done && probe_started;
        cs->ready = cs->started && probe_ready;
}

/* A start step (directories, a CRI config, the call) costs a few ms of file
 * system and encoding work on the loop: a few per iteration, so that 200
 * pods arriving at once do not hold up /healthz; the rest follow at the next
 * iteration. A step already in flight for the pod does not count. The
 * runtime's side of it waits for room in pm->pacer; a step's completion
 * kicks the next sync. */
static bool may_start(struct kl_pm *pm, struct kl__worker *w) {
        if (w->op)
                return true; /* kl__start_* returns at once */
        if (kl_pacer_full(&pm->pacer, kl_now_usec()))
                return false;
        if (pm->starts_left == 0) {
                kl__kick(pm);
                return false;
        }
        pm->starts_left--;
        return true;
}

/* Start, restart or leave alone one container. Returns true when the
 * containers after it may start, as upstream's computeInitContainerActions
 * (pkg/kubelet/kuberuntime/kuberuntime_container.go): an init container only
 * once it has exited 0, a sidecar (restartable init container) once it is
 * started (postStart done, startup probe passed), an app container always. */
static bool sync_container(struct kl_pm *pm, struct kl__worker *w, struct kl__cstat *cs) {
        if (cs->stopping)
                return false;
        if (cs->state == RUNTIME__V1__CONTAINER_STATE__CONTAINER_CREATED) {
                /* Created but never started (we were killed in between):
                 * start it rather than make a new attempt. */
                kl__resume_created(pm, w, cs);
                return false;
        }
        if (kl__cs_running(cs)) {
                if (!cs->init)
                        return true;
                if (!cs->sidecar)
                        return false; /* still running: the next one waits for its exit */
                observe_started(pm, w, cs);
                return cs->started;
        }
        if (cs->state < 0) {
                /* A start that failed (CreateContainer or StartContainer
                 * error, the container then removed) waits out its back-off
                 * too, as upstream's RunContainerError does. */
                if (cs->backoff_until > kl_now_usec() || !may_start(pm, w))
                        return false;
                kl__start_container(pm, w, cs, 0);
                return false;
        }
        /* exited */
        if (cs->status_state != RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED)
                return false; /* details not fetched yet */
        if (cs->started_at == 0 && kl__journal_exists(pm, w, cs->spec->name, cs->attempt)) {
                /* Our own start was cut short (kubelet-lite was killed mid-start):
                 * not a crash of the container, so no restart is counted. */
                kl__redo_interrupted(pm, w, cs);
                return false;
        }
        if (cs->init && !cs->sidecar && cs->exit_code == 0)
                return true;
        if (!kl__should_restart(w, cs))
                return false;
        /* Once per exit: the start may take several syncs (an ImageStatus
         * answer, another start step of the pod), and asking the back-off
         * again would arm and double its window for the same exit. */
        if (!cs->restart_granted) {
                kl__note_exit(pm, cs);
                if (!kl__backoff_allows(pm, w, cs))
                        return false;
                cs->restart_granted = true;
        }
        if (!may_start(pm, w))
                return false;
        kl__start_container(pm, w, cs, cs->attempt + 1);
        return false;
}

static void compute_phase(struct kl__worker *w) {
        size_t n_init = w->pod->n_init_containers;
        bool init_done = true, init_failed = false;
        unsigned running = 0, succeeded = 0, failed = 0, waiting = 0;

        for (size_t i = 0; i < n_init; i++) {
                const struct kl__cstat *cs = &w->cs[i];
                if (cs->sidecar)
                        continue;
                if (!(kl__cs_exited(cs) && cs->exit_code == 0))
                        init_done = false;
                if (kl__cs_exited(cs) && cs->exit_code != 0 && w->pod->restart_policy == KL_RESTART_NEVER)
                        init_failed = true;
        }
        for (size_t i = n_init; i < w->n_cs; i++) {
                const struct kl__cstat *cs = &w->cs[i];
                if (kl__cs_running(cs))
                        running++;
                else if (kl__cs_exited(cs) && cs->status_state == RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED) {
                        if (cs->exit_code == 0)
                                succeeded++;
                        else
                                failed++;
                } else
                        waiting++;
        }
        size_t n_app = w->n_cs - n_init;
        enum kl_phase p;
        if (init_failed)
                p = KL_PHASE_FAILED;
        else if (!init_done || waiting > 0)
                p = KL_PHASE_PENDING;
        else if (running > 0)
                p = KL_PHASE_RUNNING;
        else if (succeeded + failed == n_app && n_app > 0) {
                if (w->pod->restart_policy == KL_RESTART_ALWAYS)
                        p = KL_PHASE_RUNNING; /* restarting */
                else if (failed == 0)
                        p = KL_PHASE_SUCCEEDED;
                else if (w->pod->restart_policy == KL_RESTART_NEVER)
                        p = KL_PHASE_FAILED;
                else
                        p = KL_PHASE_RUNNING;
        } else
                p = KL_PHASE_PENDING;
        w->phase = p;
}

/* Garbage: sandboxes of this pod other than the current one (left NOTREADY by
 * a crash or a sandbox restart) and exited containers older than the previous
 * attempt, with their log files. The previous attempt stays for lastState. */
static void gc_pod(struct kl_pm *pm, struct kl__worker *w) {
        if (w->gc_pending > 0 || !kl__fresh(pm, w))
                return; /* the last round is still going, or the relist predates it */
        const Runtime__V1__PodSandbox *const *sbs;
        const Runtime__V1__Container *const *cts;
        size_t n_sbs = kl__uid_sandboxes(pm, w->uid, &sbs), n_cts = kl__uid_containers(pm, w->uid, &cts);
        for (size_t i = 0; i < n_sbs; i++) {
                const Runtime__V1__PodSandbox *s = sbs[i];
                if (!streq_ptr(s->id, w->sandbox_id) && s->state == RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_NOTREADY)
                        kl__gc_remove_sandbox(pm, w, s->id);
        }
        for (size_t k = 0; k < n_cts; k++) {
                const Runtime__V1__Container *c = cts[k];
                if (c->state == RUNTIME__V1__CONTAINER_STATE__CONTAINER_RUNNING || !c->metadata)
                        continue;
                const char *name = kl__container_label(c, KL_LABEL_CONTAINER_NAME);
                for (size_t i = 0; i < w->n_cs; i++) {
                        const struct kl__cstat *cs = &w->cs[i];
                        if (!streq_ptr(name, cs->spec->name) || cs->state < 0 ||
                            c->metadata->attempt + 1 >= cs->attempt)
                                continue;
                        char path[4096];
                        snprintf(path, sizeof(path), "%s/%s_%s_%s/%s/%u.log", pm->cfg->pod_logs_dir, w->namespace,
                                 w->full_name, w->uid, cs->spec->name, c->metadata->attempt);
                        kl__gc_remove_container(pm, w, c->id, i, c->metadata->attempt, path);
                        break;
                }
        }
}

/* activeDeadlineSeconds, as upstream: once the pod has been active that long
 * it is stopped and stays Failed with reason DeadlineExceeded. It reuses the
 * eviction path (stop everything, keep the status), without re-admission. */
static bool deadline_exceeded(struct kl_pm *pm, struct kl__worker *w) {
        int64_t d = w->pod->active_deadline_seconds;
        if (d < 0 || w->start_nsec <= 0 || w->phase == KL_PHASE_SUCCEEDED)
                return false;
        int64_t active = (kl_realtime_nsec() - w->start_nsec) / 1000000000;
        if (active < d)
                return false;
        char msg[128];
        snprintf(msg, sizeof(msg), "Pod was active on the node longer than the specified deadline");
        log_warning("pod '%s': %s (%llds), stopping it", w->full_name, msg, (long long) d);
        kl__event(pm, w, NULL, "Normal", "DeadlineExceeded", "%s", msg);
        kl__stop_failed(pm, w, -1, "DeadlineExceeded", msg);
        return true;
}

void kl__sync_pod(struct kl_pm *pm, struct kl__worker *w) {
        if (deadline_exceeded(pm, w))
                return;
        if (w->op) {
                /* A start step is in flight; its completion kicks a sync. */
                compute_phase(w);
                return;
        }
        /* A finished pod with a non-Always policy stays finished. */
        if (w->phase == KL_PHASE_SUCCEEDED || w->phase == KL_PHASE_FAILED)
                if (w->pod->restart_policy != KL_RESTART_ALWAYS && !w->reject_reason)
                        return;

        if (w->sandbox_state != RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY && pm->images_pending) {
                kl__set_str(&w->sandbox_error, "waiting for the images of imagePreloadDir to be imported");
                compute_phase(w);
                return;
        }
        if (w->sandbox_state != RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY && w->sandbox_retry_at > kl_now_usec()) {
                compute_phase(w); /* the last RunPodSandbox failed: wait before the next */
                return;
        }
        if (w->sandbox_state != RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY) {
                /* The sandbox died: start over like upstream; gc_pod stops and
                 * removes the old one. */
                if (!may_start(pm, w)) {
                        compute_phase(w);
                        return;
                }
                if (w->sandbox_state >= 0)
                        log_warning("pod '%s': sandbox %.12s is not ready, recreating", w->full_name,
                                    strempty(w->sandbox_id));
                (void) kl__start_sandbox(pm, w); /* asynchronous: its completion kicks a sync */
                compute_phase(w);
                return;
        }

        if (!w->pod_ip) {
                /* Containers see the pod IP (status.podIP env); as upstream,
                 * they start once the sandbox has one. */
                kl__fetch_pod_ip(pm, w);
                if (!w->pod_ip) {
                        compute_phase(w);
                        return;
                }
        }

        /* init containers, in order; sidecars keep running */
        for (size_t i = 0; i < w->pod->n_init_containers; i++)
                if (!sync_container(pm, w, &w->cs[i])) {
                        compute_phase(w);
                        return;
                }
        for (size_t i = w->pod->n_init_containers; i < w->n_cs; i++)
                sync_container(pm, w, &w->cs[i]);

        for (size_t i = 0; i < w->n_cs; i++)
                observe_started(pm, w, &w->cs[i]);
        compute_phase(w);
        gc_pod(pm, w);
}
