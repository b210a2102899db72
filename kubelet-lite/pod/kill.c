/* SPDX-License-Identifier: Apache-2.0 */
/* Stopping containers and pods like upstream kubelet: preStop hooks within the
 * grace period, then StopContainer with what is left of it (at least 2 s);
 * postStart hooks; and the probe results that restart containers. Everything
 * long runs asynchronously in the event loop. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "kubelet-lite/pod/spec.h"
#include "kubelet-lite/prober/handler.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/macros.h"
#include "kubelet-lite/logs/loglinks.h"
#include "kubelet-lite/cm/node.h"
#include "kubelet-lite/pod/worker.h"
#include "kubelet-lite/prober/prober.h"
#include "runtime/cri.h"

#define MIN_GRACE_SECONDS 2

enum {
        HOOK_NONE = 0,
        HOOK_POST_START,
        HOOK_PRE_STOP
};

static void stop_done(int r, const struct kl_error *err, ProtobufCMessage *reply, void *userdata);

struct stop_req {
        struct kl_pm *pm;
        char *uid;
        char *id;
};

static int64_t remaining_seconds(uint64_t deadline) {
        uint64_t now = kl_now_usec();
        int64_t s = deadline > now ? (int64_t) ((deadline - now + KL_USEC_PER_SEC / 2) / KL_USEC_PER_SEC) : 0;
        return MAX(s, MIN_GRACE_SECONDS);
}

static int stop_container_async(struct kl_pm *pm, struct kl__worker *w, const char *id, int64_t grace) {
        struct stop_req *req = calloc(1, sizeof(*req));
        if (!req)
                return -ENOMEM;
        req->pm = pm;
        req->uid = strdup(w->uid);
        req->id = strdup(id);
        int r = req->uid && req->id ? kl_cri_stop_container_async(pm->cri, id, grace, stop_done, req) : -ENOMEM;
        if (r < 0) {
                free(req->uid);
                free(req->id);
                free(req);
                return r;
        }
        w->stops_pending++;
        return 0;
}

static void stop_done(int r, const struct kl_error *err, ProtobufCMessage *reply, void *userdata) {
        struct stop_req *req = userdata;
        struct kl__worker *w = kl__find_worker(req->pm, req->uid);

        if (r < 0 && r != -ENOENT)
                log_warning("StopContainer %.12s: %s", req->id, kl_error_str(err));
        if (w) {
                if (w->stops_pending > 0)
                        w->stops_pending--;
                for (size_t i = 0; i < w->n_cs; i++)
                        if (streq_ptr(w->cs[i].id, req->id))
                                w->cs[i].stopping = false;
                if (r >= 0 || r == -ENOENT)
                        kl__touch(req->pm, w); /* a relist from before the stop would show it running */
        }
        /* A failure is retried at the next periodic relist, not at once. */
        if (r >= 0 || r == -ENOENT)
                kl__kick(req->pm);
        free(req->uid);
        free(req->id);
        free(req);
}

static const char *default_host(struct kl_pm *pm, struct kl__worker *w) {
        if (w->pod && w->pod->host_network)
                return "127.0.0.1";
        return w->pod_ip ? w->pod_ip : "127.0.0.1";
}

static void hook_done(enum kl_handler_result result, const char *message, void *userdata) {
        struct kl__cstat *cs = userdata;
        struct kl__worker *w = cs->w;
        struct kl_pm *pm = w->pm;
        int kind = cs->hook_kind;

        cs->hook = NULL;
        cs->hook_kind = HOOK_NONE;
        if (kind == HOOK_POST_START) {
                if (result == KL_HANDLER_SUCCESS) {
                        cs->poststart_done = true;
                } else {
                        char msg[512];
                        snprintf(msg, sizeof(msg), "PostStartHook failed: %s", message);
                        log_warning("pod '%s': container '%s': %s, killing it", w->full_name, cs->spec->name, msg);
                        kl__event(pm, w, cs, "Warning", "FailedPostStartHook", "%s", msg);
                        kl__set_waiting(cs, "PostStartHookError", msg);
                        if (cs->id)
                                kl__kill_container(pm, w, cs, cs->id,
                                                   kl_now_usec() +
                                                           (uint64_t) MAX(w->grace_seconds, 0) * KL_USEC_PER_SEC,
                                                   "postStart hook failed");
                }
        } else if (kind == HOOK_PRE_STOP) {
                if (result != KL_HANDLER_SUCCESS) {
                        log_warning("pod '%s': container '%s': preStop hook failed: %s", w->full_name, cs->spec->name,
                                    message);
                        kl__event(pm, w, cs, "Warning", "FailedPreStopHook", "PreStopHook failed: %s", message);
                }
                if (w->stops_pending > 0)
                        w->stops_pending--; /* the hook's own slot */
                if (cs->hook_container_id) {
                        int64_t grace = remaining_seconds(cs->kill_deadline);
                        if (stop_container_async(pm, w, cs->hook_container_id, grace) < 0)
                                log_warning("pod '%s': could not stop container '%s'", w->full_name, cs->spec->name);
                }
        }
        cs->hook_container_id = mfree(cs->hook_container_id);
        kl__kick(pm);
}

void kl__cancel_hook(struct kl__cstat *cs) {
        if (!cs->hook)
                return;
        kl_handler_cancel(cs->hook);
        cs->hook = NULL;
        if (cs->hook_kind == HOOK_PRE_STOP && cs->w->stops_pending > 0)
                cs->w->stops_pending--;
        cs->hook_kind = HOOK_NONE;
        cs->hook_container_id = mfree(cs->hook_container_id);
}

static int run_hook(struct kl_pm *pm, struct kl__worker *w, struct kl__cstat *cs, const struct kl_handler *h, int kind,
                    const char *id, uint64_t deadline) {
        uint64_t now = kl_now_usec();
        struct kl_handler_params p = {
                .loop = pm->loop,
                .cri = pm->cri,
                .container_id = id,
                .container = cs->spec,
                .default_host = default_host(pm, w),
                .timeout_usec = deadline > now ? deadline - now : KL_USEC_PER_SEC,
                .lifecycle = true,
        };
        kl__cancel_hook(cs);
        cs->hook_container_id = strdup(id);
        int r = kl_handler_run(h, &p, hook_done, cs, &cs->hook);
        if (r < 0) {
                cs->hook_container_id = mfree(cs->hook_container_id);
                return r;
        }
        cs->hook_kind = kind;
        return 0;
}

/* Whether kl__kill_container would start something for this container. */
static bool kill_needed(const struct kl__cstat *cs, const char *id) {
        return !cs || !(cs->stopping || (cs->hook_kind == HOOK_PRE_STOP && streq_ptr(cs->hook_container_id, id)));
}

/* Stop one container: its preStop hook first (within the deadline), then
 * StopContainer with the rest of the grace period, at least 2 s. cs may be
 * NULL (a container of an orphaned pod, or an old attempt). */
void kl__kill_container(struct kl_pm *pm, struct kl__worker *w, struct kl__cstat *cs, const char *id, uint64_t deadline,
                        const char *why) {
        if (cs) {
                if (!kill_needed(cs, id))
                        return;
                if (pm->prober)
                        kl_prober_remove_container(pm->prober, id);
                if (cs->hook_kind == HOOK_POST_START)
                        kl__cancel_hook(cs);
                cs->stopping = true;
                cs->kill_deadline = deadline;
                log_info("pod '%s': stopping container '%s' (%s), grace %llds", w->full_name, cs->spec->name, why,
                         (long long) remaining_seconds(deadline));
                kl__event(pm, w, cs, "Normal", "Killing", "Stopping container %s", cs->spec->name);
                if (cs->spec->pre_stop.kind != KL_HANDLER_NONE &&
                    run_hook(pm, w, cs, &cs->spec->pre_stop, HOOK_PRE_STOP, id, deadline) >= 0) {
                        w->stops_pending++; /* released when the hook is done */
                        return;
                }
        }
        if (stop_container_async(pm, w, id, remaining_seconds(deadline)) < 0)
                log_warning("pod '%s': could not stop container %.12s", w->full_name, id);
}

void kl__post_start(struct kl_pm *pm, struct kl__worker *w, struct kl__cstat *cs) {
        cs->poststart_done = cs->spec->post_start.kind == KL_HANDLER_NONE;
        if (cs->poststart_done)
                return;
        uint64_t deadline = kl_now_usec() + (uint64_t) MAX(w->grace_seconds, 2) * KL_USEC_PER_SEC;
        if (run_hook(pm, w, cs, &cs->spec->post_start, HOOK_POST_START, cs->id, deadline) < 0) {
                log_warning("pod '%s': container '%s': could not run the postStart hook", w->full_name, cs->spec->name);
                cs->poststart_done = true;
        }
}

/* Keep the prober in step with what runs: probe the current container of
 * each app container and sidecar, forget the ones that are gone. */
void kl__probes_observe(struct kl_pm *pm, struct kl__worker *w, struct kl__cstat *cs) {
        bool running = kl__cs_running(cs) && cs->id && !cs->stopping;
        if (!pm->prober || (cs->init && !cs->sidecar))
                return;
        if (cs->probed_id && (!running || !streq(cs->probed_id, cs->id))) {
                kl_prober_remove_container(pm->prober, cs->probed_id);
                cs->probed_id = mfree(cs->probed_id);
        }
        if (running && !cs->probed_id && cs->started_at > 0) {
                if (kl_prober_add_container(pm->prober, w->uid, cs->spec, cs->id, default_host(pm, w),
                                            cs->started_at) >= 0)
                        cs->probed_id = strdup(cs->id);
        }
}

void kl__probe_result(void *userdata, const char *pod_uid, const char *container_name, const char *container_id,
                      enum kl_probe_kind kind, bool success, const char *message) {
        struct kl_pm *pm = userdata;
        struct kl__worker *w = kl__find_worker(pm, pod_uid);

        if (!w || w->terminating)
                return;
        for (size_t i = 0; i < w->n_cs; i++) {
                struct kl__cstat *cs = &w->cs[i];
                if (!streq_ptr(cs->id, container_id))
                        continue;
                if (!success) {
                        /* upstream's prober: "Liveness probe failed: <output>" */
                        kl__event(pm, w, cs, "Warning", "Unhealthy", "%s probe failed: %s",
                                  kl_probe_kind_to_string(kind), strempty(message));
                }
                if (!success && (kind == KL_PROBE_LIVENESS || kind == KL_PROBE_STARTUP)) {
                        const struct kl_probe *p = kind == KL_PROBE_LIVENESS ? &cs->spec->liveness : &cs->spec->startup;
                        int64_t grace = p->termination_grace_period_seconds >= 0 ? p->termination_grace_period_seconds
                                                                                 : w->grace_seconds;
                        log_warning("pod '%s': container '%s' failed %s probe, will be restarted: %s", w->full_name,
                                    container_name, kl_probe_kind_to_string(kind), message);
                        kl__kill_container(
                                pm, w, cs, cs->id, kl_now_usec() + (uint64_t) MAX(grace, 0) * KL_USEC_PER_SEC,
                                kind == KL_PROBE_LIVENESS ? "liveness probe failed" : "startup probe failed");
                } else
                        log_info("pod '%s': container '%s': %s probe %s%s%s", w->full_name, container_name,
                                 kl_probe_kind_to_string(kind), success ? "succeeded" : "failed",
                                 message && *message ? ": " : "", message ? message : "");
        }
        kl__kick(pm);
}

static void unmount_below(const char *dir) {
        DIR *d = opendir(dir);
        struct dirent *de;
        if (!d)
                return;
        while ((de = readdir(d))) {
                char p[4096];
                if (de->d_name[0] == '.')
                        continue;
                if (snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) >= (int) sizeof(p))
                        continue;
                if (umount2(p, UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT)
                        (void) umount2(p, MNT_DETACH | UMOUNT_NOFOLLOW);
        }
        closedir(d);
}

/* An orphan's grace period comes from its containers' CRI annotations. */
static int64_t orphan_grace(struct kl_pm *pm, struct kl__worker *w) {
        const Runtime__V1__Container *const *cts;
        size_t n = kl__uid_containers(pm, w->uid, &cts);
        for (size_t k = 0; k < n; k++) {
                const char *g = kl__container_annotation(cts[k], KL_ANN_POD_GRACE);
                if (g)
                        return atoll(g);
        }
        return KL_DEFAULT_TERMINATION_GRACE_SECONDS;
}

/* ---- removing sandboxes and containers, asynchronously ---------------------------- */

enum {
        RM_TEARDOWN = 0,
        RM_GC = 1
};

/* A removal call is over; changed: it removed something (a failure changed
 * nothing, and touching the pod then would hide the next relist from it). */
static void rm_release(struct kl_pm *pm, struct kl__worker *w, int kind, bool changed) {
        if (w) {
                unsigned *n = kind == RM_GC ? &w->gc_pending : &w->teardown_pending;
                if (*n > 0)
                        (*n)--;
                if (changed)
                        kl__touch(pm, w);
        }
        /* A failure waits for the periodic relist: retrying at once would
         * spin as fast as the runtime answers. */
        if (changed)
                kl__kick(pm);
}

static void sandbox_removed(int r, const struct kl_error *err, ProtobufCMessage *reply, void *userdata) {
        struct kl__req *req = userdata;
        struct kl__worker *w = kl__req_worker(req);

        if (r < 0 && r != -ENOENT)
                log_warning("pod '%s': RemovePodSandbox %.12s: %s, will retry", w ? w->full_name : "?", req->id,
                            kl_error_str(err));
        else if (w && req->attempt == RM_GC)
                log_info("pod '%s': removed old sandbox %.12s", w->full_name, req->id);
        rm_release(req->pm, w, (int) req->attempt, r >= 0 || r == -ENOENT);
        kl__req_free(req);
}

static void sandbox_stopped(int r, const struct kl_error *err, ProtobufCMessage *reply, void *userdata) {
        struct kl__req *req = userdata;
        struct kl__worker *w = kl__req_worker(req);

        if (r < 0 && r != -ENOENT) {
                log_warning("pod '%s': StopPodSandbox %.12s: %s, will retry", w ? w->full_name : "?", req->id,
                            kl_error_str(err));
        } else if (kl_cri_remove_pod_sandbox_async(req->pm->cri, req->id, sandbox_removed, req) >= 0)
                return; /* RemovePodSandbox removes the sandbox's containers too */
        rm_release(req->pm, w, (int) req->attempt, r >= 0 || r == -ENOENT);
        kl__req_free(req);
}

/* StopPodSandbox, then RemovePodSandbox, when pm->pacer has room: removing
 * 200 pods at once runs a few at a time. */
static bool remove_sandbox(struct kl_pm *pm, struct kl__worker *w, const char *id, int kind) {
        uint64_t ticket = kl_pacer_take(&pm->pacer, kl_now_usec());
        if (!ticket)
                return false; /* a completion kicks the next sync */
        struct kl__req *req = kl__req_new(pm, w->uid, id);
        if (!req) {
                kl_pacer_put(&pm->pacer, ticket);
                return false;
        }
        req->ticket = ticket;
        req->attempt = (uint32_t) kind;
        if (kl_cri_stop_pod_sandbox_async(pm->cri, id, sandbox_stopped, req) < 0) {
                kl__req_free(req);
                return false;
        }
        if (kind == RM_GC)
                w->gc_pending++;
        else
                w->teardown_pending++;
        return true;
}

void kl__gc_remove_sandbox(struct kl_pm *pm, struct kl__worker *w, const char *id) {
        (void) remove_sandbox(pm, w, id, RM_GC);
}

static void container_removed(int r, const struct kl_error *err, ProtobufCMessage *reply, void *userdata) {
        struct kl__req *req = userdata;
        struct kl__worker *w = kl__req_worker(req);

        if (r < 0 && r != -ENOENT)
                log_warning("pod '%s': RemoveContainer %.12s: %s, will retry", w ? w->full_name : "?", req->id,
                            kl_error_str(err));
        else if (w && req->index < w->n_cs) {
                /* An old attempt: its log file and termination message go with it. */
                char path[4096];
                snprintf(path, sizeof(path), "%s/pods/%s/containers/%s/%u-termination-log", req->pm->cfg->root_dir,
                         w->uid, w->cs[req->index].spec->name, req->attempt);
                (void) unlink(path);
                if (req->path)
                        (void) unlink(req->path);
                if (req->pm->cfg->container_log_links_dir && req->pm->cfg->container_log_links_dir[0])
                        (void) kl_loglinks_remove(req->pm->cfg->container_log_links_dir, w->full_name, w->namespace,
                                                  w->cs[req->index].spec->name, req->id);
                log_debug("pod '%s': removed old container '%s' attempt %u", w->full_name, w->cs[req->index].spec->name,
                          req->attempt);
        }
        rm_release(req->pm, w, RM_GC, r >= 0 || r == -ENOENT);
        kl__req_free(req);
}

/* RemoveContainer of an old attempt (cs_index, attempt) of w; log_path (may be
 * NULL) is unlinked once it is gone. */
void kl__gc_remove_container(struct kl_pm *pm, struct kl__worker *w, const char *id, size_t cs_index, uint32_t attempt,
                             const char *log_path) {
        uint64_t ticket = kl_pacer_take(&pm->pacer, kl_now_usec());
        if (!ticket)
                return; /* the next sync asks again */
        struct kl__req *req = kl__req_new(pm, w->uid, id);
        if (!req) {
                kl_pacer_put(&pm->pacer, ticket);
                return;
        }
        req->ticket = ticket;
        req->index = cs_index;
        req->attempt = attempt;
        if (log_path && !(req->path = strdup(log_path))) {
                kl__req_free(req);
                return;
        }
        if (kl_cri_remove_container_async(pm->cri, id, container_removed, req) < 0) {
                kl__req_free(req);
                return;
        }
        w->gc_pending++;
}

/* uids, names and namespaces of pods found in the runtime come from labels
 * anyone can set: only plain names become part of a path we remove. */
static bool safe_component(const char *s) {
        if (!s || !s[0] || streq(s, ".") || streq(s, ".."))
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-' ||
                      *s == '_' || *s == '.'))
                        return false;
        return true;
}

/* Stop a pod for good and show it Failed with reason and message: eviction
 * (for: the condition; it is admitted again once that is gone) and
 * activeDeadlineSeconds (for: -1). */
void kl__stop_failed(struct kl_pm *pm, struct kl__worker *w, int evicted_for, const char *reason, const char *msg) {
        w->evicted = true;
        w->evicted_for = evicted_for;
        w->evict_done = false;
        w->phase = KL_PHASE_FAILED;
        kl__set_str(&w->phase_reason, reason);
        kl__set_str(&w->phase_message, msg);
        kl__kick(pm);
}

/* Drive a pod's termination: stop containers with the grace period, then the
 * sandbox, then remove everything. Returns true when the pod is gone. */
bool kl__terminate_pod(struct kl_pm *pm, struct kl__worker *w) {
        struct kl_error err = {};
        uint64_t now = kl_now_usec();

        if (!w->terminating) {
                w->terminating = true;
                w->deletion_nsec = kl_realtime_nsec();
                int64_t grace = w->grace_seconds;
                if (!w->pod)
                        grace = orphan_grace(pm, w);
                if (pm->prober)
                        kl_prober_remove_pod(pm->prober, w->uid);
                w->terminate_deadline = now + (uint64_t) MAX(grace, 0) * KL_USEC_PER_SEC;
                log_info("pod '%s' uid=%s: stopping (grace %llds)", w->full_name, w->uid, (long long) grace);
        }
        if (w->stops_pending == 0 && w->kill_ticket) {
                kl_pacer_put(&pm->pacer, w->kill_ticket); /* the last round's stops are done */
                w->kill_ticket = 0;
                kl__kick(pm); /* pods passed over in this reconcile may have it */
        }
        if (w->stops_pending > 0 || w->op || w->teardown_pending > 0 || w->gc_pending > 0 || !kl__fresh(pm, w))
                return false; /* wait for stops, a start step, removals, and a relist that saw them */

        bool any_running = false;
        const Runtime__V1__Container *const *cts;
        const Runtime__V1__PodSandbox *const *sbs;
        size_t n_cts = kl__uid_containers(pm, w->uid, &cts), n_sbs = kl__uid_sandboxes(pm, w->uid, &sbs);
        for (size_t k = 0; k < n_cts; k++) {
                const Runtime__V1__Container *c = cts[k];
                if (c->state != RUNTIME__V1__CONTAINER_STATE__CONTAINER_RUNNING)
                        continue;
                any_running = true;
                struct kl__cstat *cs = NULL;
                for (size_t i = 0; i < w->n_cs; i++)
                        if (streq_ptr(w->cs[i].id, c->id))
                                cs = &w->cs[i];
                /* All containers of the pod are stopped together, in one
                 * round that takes one pacer slot; the pod waits for one.
                 * An eviction frees memory or disk the node is short of: it
                 * does not wait. */
                if (!w->evicted && !w->kill_ticket && kill_needed(cs, c->id) &&
                    !(w->kill_ticket = kl_pacer_take(&pm->pacer, now)))
                        continue;
                kl__kill_container(pm, w, cs, c->id, w->terminate_deadline, "pod is being removed");
        }
        if (any_running || w->stops_pending > 0)
                return false;

        /* All containers stopped: the sandboxes go (with their containers),
         * then what is left; each step waits for a relist that saw the last. */
        bool any = n_sbs > 0;
        for (size_t i = 0; i < n_sbs; i++)
                (void) remove_sandbox(pm, w, sbs[i]->id, RM_TEARDOWN);
        for (size_t k = 0; !any && k < n_cts; k++) {
                any = true;
                kl__gc_remove_container(pm, w, cts[k]->id, SIZE_MAX, 0, NULL);
        }
        if (any)
                return false;
        /* The local cleanup below is file system work on the loop: a few
         * pods per iteration, so that removing 200 pods at once does not
         * hold up /healthz; the rest follow at the next one. */
        if (pm->cleanups_left == 0) {
                kl__kick(pm);
                return false;
        }
        pm->cleanups_left--;

        if (kl_node_pod_stop(pm->node, w->uid, &err) < 0)
                log_warning("pod '%s': removing cgroup: %s, ignoring", w->full_name, kl_error_str(&err));

        if (!safe_component(w->uid) || !safe_component(w->namespace) || !safe_component(w->full_name)) {
                log_warning("pod '%s' uid=%s: not removing its directories: its labels are not plain names",
                            w->full_name, w->uid);
                return true;
        }
        char path[4096];
        /* Memory-backed emptyDirs are tmpfs mounts: unmount before removing. */
        snprintf(path, sizeof(path), "%s/pods/%s/volumes/kubernetes.io~empty-dir", pm->cfg->root_dir, w->uid);
        unmount_below(path);
        snprintf(path, sizeof(path), "%s/pods/%s", pm->cfg->root_dir, w->uid);
        (void) kl_rm_rf_at(AT_FDCWD, path);
        snprintf(path, sizeof(path), "%s/%s_%s_%s", pm->cfg->pod_logs_dir, w->namespace, w->full_name, w->uid);
        (void) kl_rm_rf_at(AT_FDCWD, path);
        if (pm->cfg->container_log_links_dir && pm->cfg->container_log_links_dir[0])
                (void) kl_loglinks_remove_pod(pm->cfg->container_log_links_dir, w->full_name, w->namespace, path);
        log_info("pod '%s' uid=%s: removed", w->full_name, w->uid);
        return true;
}
