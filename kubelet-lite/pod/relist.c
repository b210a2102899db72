/* SPDX-License-Identifier: Apache-2.0 */
/* What the runtime has, as upstream's PLEG relist (pkg/kubelet/pleg/generic.go
 * GenericPLEG.Relist): ListPodSandbox then ListContainers, asynchronously and
 * never two at once; then, per pod, the details of the containers that changed
 * (ContainerStatus) and the pod IP (PodSandboxStatus), asynchronously too, so
 * a slow, hung or vanished runtime never blocks the event loop.
 *
 * A snapshot is only as new as the moment it was asked for: a pod that we
 * changed ourselves after that (a container just started, a sandbox just
 * stopped) keeps what it knows until a later relist (kl__fresh). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kubelet-lite/pod/spec.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/macros.h"
#include "kubelet-lite/server/metrics.h"
#include "kubelet-lite/pod/worker.h"
#include "runtime/cri.h"

#define TERMINATION_LOG_MAX 4096
/* A relist in flight for this long means the runtime is not answering. */
#define RELIST_SLOW_USEC (10 * KL_USEC_PER_SEC)

static void relist_start(struct kl_pm *pm);

/* The relist's deadline: the runtime request timeout, but short enough that a
 * hung runtime fails a relist well within syncLoopStuckThreshold. */
static int64_t relist_timeout_ms(const struct kl_pm *pm) {
        uint64_t t = pm->cfg->runtime_request_timeout_usec;
        uint64_t cap = pm->cfg->syncloop_stuck_usec / 2;
        if (cap >= KL_USEC_PER_SEC && (t == 0 || cap < t))
                t = cap;
        return (int64_t) (t / 1000);
}

static void runtime_failed(struct kl_pm *pm, const char *msg) {
        if (pm->runtime_ok || !pm->runtime_error)
                log_error("container runtime is not responding, will retry: %s", msg);
        pm->runtime_ok = false;
        kl__set_str(&pm->runtime_error, msg);
}

static void version_done(int r, const struct kl_error *err, ProtobufCMessage *reply, void *userdata) {
        struct kl_pm *pm = userdata;
        const Runtime__V1__VersionResponse *v = (const Runtime__V1__VersionResponse *) reply;

        pm->version_pending = false;
        if (r < 0 || !v->runtime_name || !v->runtime_name[0])
                return;
        free(pm->runtime_version);
        if (asprintf(&pm->runtime_version, "%s://%s", v->runtime_name, strempty(v->runtime_version)) < 0)
                pm->runtime_version = NULL;
}

static void relist_end(struct kl_pm *pm, int r, const struct kl_error *err,
                       Runtime__V1__ListContainersResponse *containers) {
        Runtime__V1__ListPodSandboxResponse *sb = TAKE_PTR(pm->relist_sb);

        pm->relisting = false;
        if (r >= 0 && kl__snapshot_set(pm, sb, containers) < 0) {
                /* Acting on the old snapshot could duplicate what exists: not fresh. */
                log_error("relist: out of memory indexing its answer");
                kl_cri_response_free(sb);
                kl_cri_response_free(containers);
                pm->relisted(pm, false);
                return;
        }
        if (r < 0) {
                kl_cri_response_free(sb);
                runtime_failed(pm, err ? kl_error_str(err) : strerror(-r));
        } else {
                if (!pm->runtime_ok && pm->runtime_error)
                        log_info("container runtime is back");
                pm->runtime_ok = true;
                pm->runtime_error = mfree(pm->runtime_error);
                pm->snapshot_seq = pm->relist_seq;
                if (pm->km) {
                        /* upstream's PLEG metrics (pkg/kubelet/pleg/generic.go) */
                        uint64_t now = kl_now_usec();
                        kl_metric_observe(pm->km->pleg_relist_duration, (double) (now - pm->relist_started) / 1e6);
                        kl_metric_set(pm->km->pleg_last_seen, (double) kl_realtime_nsec() / 1e9);
                }
                if (!pm->runtime_version && !pm->version_pending &&
                    kl_cri_version_async(pm->cri, version_done, pm) >= 0)
                        pm->version_pending = true;
        }
        pm->relisted(pm, r >= 0);
        if (pm->relist_again) {
                pm->relist_again = false;
                relist_start(pm);
        }
}

static void containers_done(int r, const struct kl_error *err, ProtobufCMessage *reply, void *userdata) {
        struct kl_pm *pm = userdata;
        relist_end(pm, r, err, r < 0 ? NULL : kl_cri_take_reply(pm->cri, reply));
}

static void sandboxes_done(int r, const struct kl_error *err, ProtobufCMessage *reply, void *userdata) {
        struct kl_pm *pm = userdata;
        struct kl_error e = {};

        if (r < 0) {
                relist_end(pm, r, err, NULL);
                return;
        }
        pm->relist_sb = kl_cri_take_reply(pm->cri, reply);
        r = kl_cri_list_containers_async(pm->cri, relist_timeout_ms(pm), containers_done, pm);
        if (r < 0) {
                kl_error_set(&e, r, "ListContainers: %s", strerror(-r));
                relist_end(pm, r, &e, NULL);
        }
}

static void relist_start(struct kl_pm *pm) {
        struct kl_error e = {};

        pm->relist_seq++;
        pm->relisting = true;
        pm->relist_started = kl_now_usec();
        if (pm->km && pm->last_relist_start > 0)
                kl_metric_observe(pm->km->pleg_relist_interval,
                                  (double) (pm->relist_started - pm->last_relist_start) / 1e6);
        pm->last_relist_start = pm->relist_started;
        int r = kl_cri_list_pod_sandbox_async(pm->cri, relist_timeout_ms(pm), sandboxes_done, pm);
        if (r < 0) {
                kl_error_set(&e, r, "ListPodSandbox: %s", strerror(-r));
                relist_end(pm, r, &e, NULL);
        }
}

/* Relist now, or right after the one in flight (whose answer may predate
 * whatever asked for this one). */
void kl__relist_request(struct kl_pm *pm) {
        if (pm->relisting)
                pm->relist_again = true;
        else
                relist_start(pm);
}

/* A relist that takes this long is a runtime that does not answer: say so
 * (node Ready, /healthz/syncloop) without waiting for its deadline. */
void kl__relist_check_stuck(struct kl_pm *pm, uint64_t now) {
        char msg[160];

        if (!pm->relisting || now < pm->relist_started || now - pm->relist_started < RELIST_SLOW_USEC)
                return;
        snprintf(msg, sizeof(msg), "ListPodSandbox/ListContainers: no answer from the container runtime for %llus",
                 (unsigned long long) ((now - pm->relist_started) / KL_USEC_PER_SEC));
        if (pm->runtime_ok || !pm->runtime_error)
                log_error("container runtime is not responding: %s", msg);
        pm->runtime_ok = false;
        kl__set_str(&pm->runtime_error, msg);
}

/* Newest sandbox of a pod uid (READY preferred), or NULL. */
const Runtime__V1__PodSandbox *kl__pod_sandbox(struct kl_pm *pm, const char *uid) {
        const Runtime__V1__PodSandbox *best = NULL;
        const Runtime__V1__PodSandbox *const *sbs;
        size_t n = kl__uid_sandboxes(pm, uid, &sbs);
        for (size_t i = 0; i < n; i++) {
                const Runtime__V1__PodSandbox *s = sbs[i];
                if (!best ||
                    (s->state == RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY &&
                     best->state != RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY) ||
                    (s->state == best->state && s->created_at > best->created_at))
                        best = s;
        }
        return best;
}

/* ---- pod IP ------------------------------------------------------------------ */

static void sandbox_status_done(int r, const struct kl_error *err, ProtobufCMessage *reply, void *userdata) {
        struct kl__req *req = userdata;
        struct kl__worker *w = kl__req_worker(req);
        const Runtime__V1__PodSandboxStatusResponse *st = (const Runtime__V1__PodSandboxStatusResponse *) reply;

        if (w) {
                w->ip_pending = false;
                if (r < 0)
                        log_debug("pod '%s': PodSandboxStatus: %s", w->full_name, kl_error_str(err));
                else if (streq_ptr(w->sandbox_id, req->id) && st->status && st->status->network &&
                         st->status->network->ip && st->status->network->ip[0]) {
                        kl__set_str(&w->pod_ip, st->status->network->ip);
                        kl__kick(req->pm);
                }
        }
        kl__req_free(req);
}

/* hostNetwork pods have the node's IP; others ask the runtime. */
void kl__fetch_pod_ip(struct kl_pm *pm, struct kl__worker *w) {
        if (w->pod_ip || !w->sandbox_id || w->sandbox_state != RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY)
                return;
        if (w->pod && w->pod->host_network) {
                kl__set_str(&w->pod_ip, pm->host_ip);
                return;
        }
        if (w->ip_pending)
                return;
        struct kl__req *req = kl__req_new(pm, w->uid, w->sandbox_id);
        if (!req)
                return;
        if (kl_cri_pod_sandbox_status_async(pm->cri, w->sandbox_id, sandbox_status_done, req) < 0) {
                kl__req_free(req);
                return;
        }
        w->ip_pending = true;
}

/* ---- container details -------------------------------------------------------- */

/* Read the container's termination message from the host file we mounted. */
static char *read_termination_message(struct kl_pm *pm, struct kl__worker *w, const char *name, uint32_t attempt) {
        char path[4096];
        char *buf = NULL;
        snprintf(path, sizeof(path), "%s/pods/%s/containers/%s/%u-termination-log", pm->cfg->root_dir, w->uid, name,
                 attempt);
        if (kl_read_file_at(AT_FDCWD, path, TERMINATION_LOG_MAX, 1, &buf, NULL) < 0 || !buf[0])
                return mfree(buf);
        return buf;
}

/* The container of a completed request, if it is still the one asked about. */
static struct kl__cstat *req_cstat(const struct kl__req *req, struct kl__worker **ret_w) {
        struct kl__worker *w = kl__req_worker(req);
        if (!w || req->index >= w->n_cs)
                return NULL;
        *ret_w = w;
        return &w->cs[req->index];
}

static void status_done(int r, const struct kl_error *err, ProtobufCMessage *reply, void *userdata) {
        struct kl__req *req = userdata;
        struct kl_pm *pm = req->pm;
        struct kl__worker *w = NULL;
        struct kl__cstat *cs = req_cstat(req, &w);
        const Runtime__V1__ContainerStatusResponse *st = (const Runtime__V1__ContainerStatusResponse *) reply;

        if (!cs)
                goto out;
        cs->status_pending = false;
        if (r < 0 || !st->status) {
                log_debug("pod '%s': ContainerStatus %.12s: %s", w->full_name, req->id,
                          r < 0 ? kl_error_str(err) : "no status");
                goto out;
        }
        if (!streq_ptr(cs->id, req->id))
                goto out; /* a newer container took its place meanwhile */
        const Runtime__V1__ContainerStatus *s = st->status;
        /* The status is newer than the relist that asked for it. */
        cs->state = s->state;
        cs->status_state = s->state;
        cs->exit_code = s->exit_code;
        cs->started_at = s->started_at;
        cs->finished_at = s->finished_at;
        kl__set_str(&cs->reason, s->reason && s->reason[0] ? s->reason : NULL);
        kl__set_str(&cs->image_ref, s->image_ref);
        kl__set_str(&cs->image, s->image ? s->image->image : NULL);
        cs->message = mfree(cs->message);
        if (s->state == RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED) {
                cs->message = read_termination_message(pm, w, cs->spec->name, cs->attempt);
                log_info("pod '%s': container '%s' exited with code %d (%s), restart count %u", w->full_name,
                         cs->spec->name, s->exit_code,
                         s->reason && s->reason[0] ? s->reason
                         : s->exit_code == 0       ? "Completed"
                                                   : "Error",
                         cs->attempt);
        }
        if (!cs->message && s->message && s->message[0])
                cs->message = strdup(s->message);
        if (s->state == RUNTIME__V1__CONTAINER_STATE__CONTAINER_RUNNING) {
                kl__set_waiting(cs, NULL, NULL);
                if (!cs->hook)
                        cs->poststart_done = true; /* adopted, or our hook is done */
        }
        kl__touch(pm, w);
        kl__kick(pm);
out:
        kl__req_free(req);
}

static void last_status_done(int r, const struct kl_error *err, ProtobufCMessage *reply, void *userdata) {
        struct kl__req *req = userdata;
        struct kl__worker *w = NULL;
        struct kl__cstat *cs = req_cstat(req, &w);
        const Runtime__V1__ContainerStatusResponse *st = (const Runtime__V1__ContainerStatusResponse *) reply;

        if (!cs)
                goto out;
        cs->last_pending = false;
        if (r < 0 || !st->status || st->status->state != RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED)
                goto out;
        kl__set_str(&cs->last_id, req->id);
        cs->have_last = true;
        cs->last_exit_code = st->status->exit_code;
        cs->last_started_at = st->status->started_at;
        cs->last_finished_at = st->status->finished_at;
        kl__set_str(&cs->last_reason, st->status->reason);
        free(cs->last_message);
        cs->last_message = read_termination_message(req->pm, w, cs->spec->name, req->attempt);
out:
        kl__req_free(req);
}

static void fetch_status(struct kl_pm *pm, struct kl__worker *w, struct kl__cstat *cs, const char *id, uint32_t attempt,
                         bool last) {
        struct kl__req *req = kl__req_new(pm, w->uid, id);
        if (!req)
                return;
        req->index = (size_t) (cs - w->cs);
        req->attempt = attempt;
        if (kl_cri_container_status_async(pm->cri, id, last ? last_status_done : status_done, req) < 0) {
                kl__req_free(req);
                return;
        }
        if (last)
                cs->last_pending = true;
        else
                cs->status_pending = true;
}

/* Refresh a worker's view of its sandbox and containers from the relist. */
void kl__worker_observe(struct kl_pm *pm, struct kl__worker *w) {
        const Runtime__V1__PodSandbox *sb = kl__pod_sandbox(pm, w->uid);
        if (sb) {
                if (kl__set_str(&w->sandbox_id, sb->id) > 0)
                        w->pod_ip = mfree(w->pod_ip);
                w->sandbox_state = sb->state;
                w->sandbox_attempt = sb->metadata ? sb->metadata->attempt : 0;
                kl__fetch_pod_ip(pm, w);
                if (w->start_nsec == 0)
                        w->start_nsec = sb->created_at;
        } else {
                w->sandbox_id = mfree(w->sandbox_id);
                w->sandbox_state = -1;
                w->pod_ip = mfree(w->pod_ip);
        }

        const Runtime__V1__Container *const *cts;
        size_t n_cts = kl__uid_containers(pm, w->uid, &cts);
        for (size_t i = 0; i < w->n_cs; i++) {
                struct kl__cstat *cs = &w->cs[i];
                const Runtime__V1__Container *latest = NULL, *prev = NULL;
                for (size_t k = 0; k < n_cts; k++) {
                        const Runtime__V1__Container *c = cts[k];
                        if (!c->metadata || !streq_ptr(kl__container_label(c, KL_LABEL_CONTAINER_NAME), cs->spec->name))
                                continue;
                        uint32_t a = c->metadata->attempt;
                        if (!latest || a > latest->metadata->attempt) {
                                prev = latest;
                                latest = c;
                        } else if (!prev || a > prev->metadata->attempt)
                                prev = c;
                }
                if (!latest) {
                        if (cs->id)
                                kl__cstat_clear_runtime(cs);
                        continue;
                }
                if (!streq_ptr(cs->id, latest->id)) {
                        kl__cstat_clear_runtime(cs);
                        kl__set_str(&cs->id, latest->id);
                }
                cs->state = latest->state;
                cs->attempt = latest->metadata->attempt;
                if (cs->status_state != cs->state && !cs->status_pending)
                        fetch_status(pm, w, cs, latest->id, cs->attempt, false);
                /* lastState: the previous attempt, if the runtime still has it. */
                if (prev && !streq_ptr(cs->last_id, prev->id) && !cs->last_pending)
                        fetch_status(pm, w, cs, prev->id, prev->metadata->attempt, true);
        }
}
