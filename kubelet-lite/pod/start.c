/* SPDX-License-Identifier: Apache-2.0 */
/* Starting pods for the pod manager: host directories and volumes, the
 * sandbox with its cgroup, containers (journaled so that a crash mid-start
 * is told apart from a failed container), and CrashLoopBackOff. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "kubelet-lite/pod/spec.h"
#include "lib/arena.h"
#include "lib/fileio.h"
#include "lib/duration.h"
#include "lib/log.h"
#include "lib/macros.h"
#include "kubelet-lite/logs/loglinks.h"
#include "kubelet-lite/server/metrics.h"
#include "kubelet-lite/cm/devicemanager.h"
#include "kubelet-lite/cm/node.h"
#include "kubelet-lite/pod/volumes.h"
#include "kubelet-lite/pod/worker.h"
#include "runtime/cri.h"

/* ---- starting things ------------------------------------------------------ */

void kl__fill_ctx(struct kl_pm *pm, struct kl__worker *w, struct kl_spec_ctx *ctx) {
        struct kl_node_info ni = {};
        /* resourceFieldRef of an unset limit: node allocatable, as upstream's
         * MergeContainerResourceLimits */
        kl_node_get_info(pm->node, &ni);
        *ctx = (struct kl_spec_ctx){
                .alloc_cpu_milli = ni.cpu_allocatable_milli,
                .alloc_memory = ni.memory_allocatable,
                .root_dir = pm->cfg->root_dir,
                .pod_logs_dir = pm->cfg->pod_logs_dir,
                .cgroup_parent = w->cgroup_parent ? w->cgroup_parent : "",
                .node_name = pm->cfg->node_name,
                .host_ip = pm->host_ip,
                .pod_ip = w->pod_ip,
                .seen_nsec = w->seen_nsec,
                .cfs_period_us = (int64_t) pm->cfg->cpu_cfs_quota_period_usec,
        };
}

/* One start step in flight per pod: RunPodSandbox, or CreateContainer then
 * StartContainer. The loop keeps serving while containerd works (seconds on a
 * slow board); the worker waits for the step before doing anything else. */
struct kl__op {
        struct kl_pm *pm;
        char *uid;
        size_t cs_index; /* container steps */
        uint32_t attempt;
        bool resume; /* StartContainer of a container left created */
        char *container_id;
        char journal[4096];
        uint64_t t0;
        uint64_t ticket; /* pm->pacer */
        bool dead;       /* the pod manager went away; just free on completion */
        struct kl__op *prev, *next;
};

static struct kl__op *op_new(struct kl_pm *pm, struct kl__worker *w) {
        struct kl__op *op = calloc(1, sizeof(*op));
        if (!op)
                return NULL;
        op->pm = pm;
        op->uid = strdup(w->uid);
        if (!op->uid) {
                free(op);
                return NULL;
        }
        op->t0 = kl_now_usec();
        op->ticket = kl_pacer_take(&pm->pacer, op->t0); /* may_start saw room */
        op->next = pm->ops;
        if (pm->ops)
                pm->ops->prev = op;
        pm->ops = op;
        w->op = op;
        return op;
}

static void op_free(struct kl__op *op) {
        if (!op->dead) {
                /* No kick here: the completions that changed something kick
                 * (and so hand the slot on); a failure waits for the periodic
                 * relist, as rm_release explains. */
                kl_pacer_put(&op->pm->pacer, op->ticket);
                if (op->prev)
                        op->prev->next = op->next;
                else
                        op->pm->ops = op->next;
                if (op->next)
                        op->next->prev = op->prev;
        }
        free(op->uid);
        free(op->container_id);
        free(op);
}

/* At pod manager shutdown: pending calls are cancelled by the CRI client
 * without callbacks, so their ops are freed here. */
void kl__ops_free(struct kl_pm *pm) {
        while (pm->ops) {
                struct kl__op *op = pm->ops;
                pm->ops = op->next;
                op->dead = true;
                free(op->uid);
                free(op->container_id);
                free(op);
        }
}

/* The worker the op belongs to; NULL when it is gone (op freed then). */
static struct kl__worker *op_worker(struct kl__op *op) {
        struct kl__worker *w = kl__find_worker(op->pm, op->uid);
        if (!w || w->op != op)
                return NULL;
        w->op = NULL;
        return w;
}

#define SANDBOX_RETRY_USEC (10 * KL_USEC_PER_SEC)
/* a call that failed because the runtime is still busy with the container */
#define REDO_RETRY_USEC KL_USEC_PER_SEC
/* an interrupted start whose removal keeps failing is given up after this many tries */
#define REDO_MAX_FAILURES 5

static void sandbox_done(int r, const struct kl_error *err, ProtobufCMessage *reply, void *userdata) {
        struct kl__op *op = userdata;
        struct kl_pm *pm = op->pm;
        struct kl__worker *w = op_worker(op);
        const Runtime__V1__RunPodSandboxResponse *resp = (const Runtime__V1__RunPodSandboxResponse *) reply;

        if (!w) {
                op_free(op);
                return;
        }
        if (r < 0 || !resp->pod_sandbox_id || !resp->pod_sandbox_id[0]) {
                const char *msg = r < 0 ? kl_error_str(err) : "RunPodSandbox: no sandbox id in the reply";
                if (kl__set_str(&w->sandbox_error, msg) > 0)
                        log_error("pod '%s': creating sandbox failed: %s", w->full_name, msg);
                kl__event(pm, w, NULL, "Warning", "FailedCreatePodSandBox", "Failed to create pod sandbox: %s", msg);
                /* upstream's pod worker retries a failed sync after backOffPeriod
                 * (10 s, pkg/kubelet/kubelet.go), not at once */
                w->sandbox_retry_at = kl_now_usec() + SANDBOX_RETRY_USEC;
                if (pm->km)
                        kl_metric_inc(pm->km->started_pods_errors);
        } else {
                log_info("pod '%s': sandbox %.12s started in %llu ms", w->full_name, resp->pod_sandbox_id,
                         (unsigned long long) ((kl_now_usec() - op->t0) / 1000));
                if (pm->km)
                        kl_metric_inc(pm->km->started_pods);
                kl__set_str(&w->sandbox_id, resp->pod_sandbox_id);
                w->sandbox_state = RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY;
                w->sandbox_attempt = op->attempt;
                w->sandbox_error = mfree(w->sandbox_error);
                w->pod_ip = mfree(w->pod_ip);
                if (w->start_nsec == 0)
                        w->start_nsec = kl_realtime_nsec();
                /* New sandbox: containers from an old one are gone with it. */
                for (size_t i = 0; i < w->n_cs; i++)
                        w->cs[i].state = -1;
                kl__touch(pm, w);
                kl__fetch_pod_ip(pm, w);
        }
        op_free(op);
        kl__kick(pm);
}

#define NETWORK_CHECK_USEC KL_USEC_PER_SEC

static void status_done(int r, const struct kl_error *err, ProtobufCMessage *reply, void *userdata) {
        struct kl_pm *pm = userdata;
        const Runtime__V1__StatusResponse *st = (const Runtime__V1__StatusResponse *) reply;

        pm->net_pending = false;
        pm->net_checked = kl_now_usec();
        pm->net_ready = 1;
        if (r < 0) {
                log_debug("CRI Status: %s", kl_error_str(err));
                pm->net_ready = -1;
        } else if (st->status)
                for (size_t i = 0; i < st->status->n_conditions; i++) {
                        const Runtime__V1__RuntimeCondition *c = st->status->conditions[i];
                        if (streq(c->type, "NetworkReady") && !c->status)
                                pm->net_ready = 0;
                }
        if (r >= 0)
                kl__kick(pm); /* a failure is asked again at the next periodic relist */
}

/* Whether the runtime's pod network is ready (CRI Status, NetworkReady):
 * asked only when a pod-network sandbox is about to start, not on every
 * relist, and at most once a second. 1 yes, 0 no, -1 not known yet (asked). */
static int network_ready(struct kl_pm *pm) {
        if (kl_now_usec() - pm->net_checked < NETWORK_CHECK_USEC)
                return pm->net_ready;
        if (!pm->net_pending && kl_cri_status_async(pm->cri, status_done, pm) >= 0)
                pm->net_pending = true;
        return pm->net_ready == 0 ? 0 : -1;
}

int kl__start_sandbox(struct kl_pm *pm, struct kl__worker *w) {
        struct kl_error err = {};
        struct kl_arena a = {};
        struct kl_spec_ctx ctx;
        _cleanup_free_ char *parent = NULL;
        int r;

        int net = w->pod->host_network ? 1 : network_ready(pm);
        if (net < 0)
                return -EAGAIN; /* asked; its answer kicks a sync */
        if (net == 0) {
                /* Upstream refuses too; calling RunPodSandbox now would leak a
                 * NOTREADY sandbox and a netns (FACTS). */
                if (kl__set_str(&w->sandbox_error,
                                "NetworkNotReady: container runtime network not ready: cni plugin not initialized "
                                "(no CNI config); only hostNetwork pods can run") > 0)
                        log_error("pod '%s': %s", w->full_name, w->sandbox_error);
                return -ENETDOWN;
        }
        kl__fill_ctx(pm, w, &ctx);
        r = kl_podvolumes_prepare(w->pod, &ctx, &err);
        if (r < 0) {
                kl__event(pm, w, NULL, "Warning", "FailedMount", "%s", kl_error_str(&err));
                goto fail;
        }
        r = kl_node_pod_start(pm->node, w->pod, &parent, &err);
        if (r < 0)
                goto fail;
        kl__set_str(&w->cgroup_parent, parent);

        kl__fill_ctx(pm, w, &ctx);
        uint32_t attempt = w->sandbox_state >= 0 ? w->sandbox_attempt + 1 : 0;
        Runtime__V1__PodSandboxConfig *cfg = kl_spec_sandbox(&a, w->pod, &ctx, attempt);
        struct kl__op *op = cfg ? op_new(pm, w) : NULL;
        if (!op) {
                r = kl_error_set(&err, ENOMEM, "out of memory");
                goto fail;
        }
        op->attempt = attempt;
        r = kl_cri_run_pod_sandbox_async(pm->cri, cfg, NULL, sandbox_done, op);
        if (r < 0) {
                w->op = NULL;
                op_free(op);
                kl_error_set(&err, r, "RunPodSandbox: %s", strerror(-r));
                goto fail;
        }
        kl_arena_free(&a);
        return 0;
fail:
        kl_arena_free(&a);
        if (kl__set_str(&w->sandbox_error, kl_error_str(&err)) > 0)
                log_error("pod '%s': creating sandbox failed: %s", w->full_name, kl_error_str(&err));
        return r;
}

/* A start in progress is journaled: <root>/pods/<uid>/containers/<name>/<attempt>-starting
 * exists from just before CreateContainer until StartContainer has returned.
 * After a crash it tells an interrupted start from a container that failed. */
void kl__journal_path(struct kl_pm *pm, struct kl__worker *w, const char *name, uint32_t attempt, char *buf, size_t n) {
        snprintf(buf, n, "%s/pods/%s/containers/%s/%u-starting", pm->cfg->root_dir, w->uid, name, attempt);
}

bool kl__journal_exists(struct kl_pm *pm, struct kl__worker *w, const char *name, uint32_t attempt) {
        char path[4096];
        kl__journal_path(pm, w, name, attempt, path, sizeof(path));
        return access(path, F_OK) == 0;
}

static void container_failed(struct kl_pm *pm, struct kl__worker *w, struct kl__cstat *cs, const char *msg, int err) {
        kl__set_waiting(cs, "CreateContainerError", msg);
        kl__event(pm, w, cs, "Warning", "Failed", "Error: %s", msg);
        if (pm->km)
                kl_metric_inc(pm->km->started_containers_errors, cs->init ? "init_container" : "container",
                              err == ENOENT ? "NotFound" : "Unknown");
        log_error("pod '%s': container '%s': %s", w->full_name, cs->spec->name, msg);
        cs->restart_granted = false;
        /* Treat a failed start like a crash for backoff purposes. */
        cs->backoff_usec = cs->backoff_usec ? MIN(cs->backoff_usec * 2, pm->cfg->crashloop_max_usec)
                                            : pm->cfg->crashloop_initial_usec;
        cs->backoff_until = kl_now_usec() + cs->backoff_usec;
}

static void start_done(int r, const struct kl_error *err, ProtobufCMessage *reply, void *userdata) {
        struct kl__op *op = userdata;
        struct kl_pm *pm = op->pm;
        struct kl__worker *w = op_worker(op);

        (void) unlink(op->journal);
        if (!w) {
                op_free(op);
                return;
        }
        struct kl__cstat *cs = &w->cs[op->cs_index];
        if (r < 0 && op->resume && strstr(kl_error_str(err), "starting state")) {
                /* A StartContainer from before our restart is still being
                 * served (containerd takes a second or two to fail one whose
                 * caller was killed). Nothing changed, so no touch and no
                 * kick: asking again at once spun a thousand calls a second
                 * against the runtime. Ask again after a while. */
                log_debug("pod '%s': container '%s' is still starting", w->full_name, cs->spec->name);
                cs->redo_retry_at = kl_now_usec() + REDO_RETRY_USEC;
                op_free(op);
                return;
        }
        kl__touch(pm, w);
        if (r < 0) {
                if (op->resume)
                        log_warning("pod '%s': container '%s': StartContainer of created container: %s", w->full_name,
                                    cs->spec->name, kl_error_str(err));
                /* The removal of what this step created takes the step's own
                 * slot: with the pacer full it would otherwise be dropped, and
                 * the next relist would adopt the failed container. */
                kl_pacer_put(&pm->pacer, op->ticket);
                op->ticket = 0;
                kl__gc_remove_container(pm, w, op->container_id, SIZE_MAX, 0, NULL);
                if (op->resume)
                        cs->state = -1;
                else
                        container_failed(pm, w, cs, kl_error_str(err), err->err);
        } else {
                log_info("pod '%s': container '%s' started (restart %u) id=%.12s in %llu ms", w->full_name,
                         cs->spec->name, op->attempt, op->container_id,
                         (unsigned long long) ((kl_now_usec() - op->t0) / 1000));
                if (pm->km)
                        kl_metric_inc(pm->km->started_containers, cs->init ? "init_container" : "container");
                kl__event(pm, w, cs, "Normal", "Started", "Started container %s", cs->spec->name);
                kl__set_str(&cs->id, op->container_id);
                cs->state = RUNTIME__V1__CONTAINER_STATE__CONTAINER_RUNNING;
                cs->status_state = -1; /* fetch details on the next relist */
                cs->attempt = op->attempt;
                cs->restart_granted = false;
                kl__set_waiting(cs, NULL, NULL);
                kl__post_start(pm, w, cs);
        }
        op_free(op);
        kl__kick(pm);
}

/* upstream's legacy /var/log/containers link, made once the container exists
 * (kubeGenericRuntimeManager.startContainer). */
static void add_log_link(struct kl_pm *pm, struct kl__worker *w, struct kl__cstat *cs, uint32_t attempt,
                         const char *id) {
        const char *dir = pm->cfg->container_log_links_dir;
        char target[4096];
        if (!dir || !dir[0] || !id)
                return;
        snprintf(target, sizeof(target), "%s/%s_%s_%s/%s/%u.log", pm->cfg->pod_logs_dir, w->namespace, w->full_name,
                 w->uid, cs->spec->name, attempt);
        int r = kl_loglinks_add(dir, w->full_name, w->namespace, cs->spec->name, id, target);
        if (r < 0)
                log_warning("pod '%s': container '%s': log link in '%s': %s, ignoring", w->full_name, cs->spec->name,
                            dir, strerror(-r));
}

static void create_done(int r, const struct kl_error *err, ProtobufCMessage *reply, void *userdata) {
        struct kl__op *op = userdata;
        struct kl_pm *pm = op->pm;
        const Runtime__V1__CreateContainerResponse *resp = (const Runtime__V1__CreateContainerResponse *) reply;
        struct kl__worker *w = kl__find_worker(pm, op->uid);

        if (!w || w->op != op) {
                (void) unlink(op->journal);
                op_free(op);
                return;
        }
        struct kl__cstat *cs = &w->cs[op->cs_index];
        if (r < 0 || !resp->container_id || !resp->container_id[0]) {
                w->op = NULL;
                kl__touch(pm, w);
                (void) unlink(op->journal);
                container_failed(pm, w, cs, r < 0 ? kl_error_str(err) : "CreateContainer: no container id",
                                 r < 0 ? err->err : EIO);
                op_free(op);
                kl__kick(pm);
                return;
        }
        op->container_id = strdup(resp->container_id);
        kl__event(pm, w, cs, "Normal", "Created", "Created container %s", cs->spec->name);
        add_log_link(pm, w, cs, op->attempt, op->container_id);
        int k = op->container_id ? kl_cri_start_container_async(pm->cri, op->container_id, start_done, op) : -ENOMEM;
        if (k < 0) {
                struct kl_error e = {};
                kl_error_set(&e, k, "StartContainer: %s", strerror(-k));
                start_done(k, &e, NULL, op);
        }
}

int kl__start_container(struct kl_pm *pm, struct kl__worker *w, struct kl__cstat *cs, uint32_t attempt) {
        struct kl_error err = {};
        struct kl_arena a = {};
        struct kl_spec_ctx ctx;
        char tlog[4096];
        struct kl__op *op = NULL;
        int r;

        if (w->op)
                return 0; /* one start step at a time */
        if (!kl__ensure_image(pm, w, cs))
                return 0;
        /* Devices: the plugin's Allocate answer first (async: its completion
         * kicks a sync), as upstream's allocateContainerResources. */
        r = kl_dm_container_ready(kl_node_devices(pm->node), w->uid, cs->spec->name, &err);
        if (r == 0)
                return 0;
        if (r < 0)
                goto fail;

        kl__fill_ctx(pm, w, &ctx);
        if (!cs->init || cs->sidecar)
                ctx.cpuset = kl_node_container_cpuset(pm->node, w->pod, cs->spec);

        /* The termination log lives on the host so it survives the container. */
        int n = snprintf(tlog, sizeof(tlog), "%s/pods/%s/containers/%s", pm->cfg->root_dir, w->uid, cs->spec->name);
        if (n < 0 || (size_t) n >= sizeof(tlog) - 32) {
                r = kl_error_set(&err, ENAMETOOLONG, "container directory path too long");
                goto fail;
        }
        r = kl_mkdir_p(tlog, 0755);
        if (r < 0) {
                r = kl_error_set(&err, r, "creating '%s': %s", tlog, strerror(-r));
                goto fail;
        }
        snprintf(tlog + n, sizeof(tlog) - (size_t) n, "/%u-termination-log", attempt);
        int fd = open(tlog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0666);
        if (fd < 0) {
                r = kl_error_set(&err, errno, "creating '%s': %m", tlog);
                goto fail;
        }
        safe_close(fd);

        const char *kind = cs->sidecar ? "sidecar" : cs->init ? "init" : "app";
        Runtime__V1__PodSandboxConfig *sbc = kl_spec_sandbox(&a, w->pod, &ctx, w->sandbox_attempt);
        Runtime__V1__ContainerConfig *cc = kl_spec_container(&a, w->pod, cs->spec, kind, &ctx, attempt, tlog, &err);
        if (!sbc || !cc) {
                r = -(err.err ? err.err : ENOMEM);
                goto fail;
        }
        /* upstream's GetDeviceRunContainerOptions */
        r = kl_dm_container_config(kl_node_devices(pm->node), &a, w->uid, cs->spec->name, cc, &err);
        if (r < 0)
                goto fail;
        op = op_new(pm, w);
        if (!op) {
                r = kl_error_set(&err, ENOMEM, "out of memory");
                goto fail;
        }
        op->cs_index = (size_t) (cs - w->cs);
        op->attempt = attempt;
        kl__journal_path(pm, w, cs->spec->name, attempt, op->journal, sizeof(op->journal));
        safe_close(open(op->journal, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
        r = kl_cri_create_container_async(pm->cri, w->sandbox_id, cc, sbc, create_done, op);
        if (r < 0) {
                (void) unlink(op->journal);
                w->op = NULL;
                op_free(op);
                kl_error_set(&err, r, "CreateContainer: %s", strerror(-r));
                goto fail;
        }
        kl_arena_free(&a);
        return 0;
fail:
        kl_arena_free(&a);
        container_failed(pm, w, cs, kl_error_str(&err), err.err);
        return r;
}

/* CrashLoopBackOff as upstream: the first restart is immediate; later ones
 * wait 10s, 20s, ... up to 300s after the container finished. A container
 * that ran for crashloop_reset resets the backoff. Returns true to restart now. */
bool kl__backoff_allows(struct kl_pm *pm, struct kl__worker *w, struct kl__cstat *cs) {
        uint64_t now = kl_now_usec();
        int64_t ran_nsec = cs->finished_at - cs->started_at;

        if (cs->backoff_until > now) {
                char msg[512], backoff[32];
                /* upstream's "back-off %s restarting failed container=%s pod=%s"
                 * (kuberuntime doBackOff): a Go duration, "5m0s" at the cap */
                kl_format_duration(cs->backoff_usec, backoff, sizeof(backoff));
                snprintf(msg, sizeof(msg), "back-off %s restarting failed container=%s pod=%s_%s(%s)", backoff,
                         cs->spec->name, w->full_name, w->namespace, w->uid);
                kl__set_waiting(cs, "CrashLoopBackOff", msg);
                kl__event(pm, w, cs, "Warning", "BackOff", "Back-off restarting failed container %s in pod %s_%s(%s)",
                          cs->spec->name, w->full_name, w->namespace, w->uid);
                return false;
        }
        if (ran_nsec > 0 && (uint64_t) ran_nsec / 1000 >= pm->cfg->crashloop_reset_usec)
                cs->backoff_usec = 0;
        if (cs->backoff_usec == 0)
                cs->backoff_usec = pm->cfg->crashloop_initial_usec; /* this restart is free */
        else {
                cs->backoff_usec = MIN(cs->backoff_usec * 2, pm->cfg->crashloop_max_usec);
        }
        /* The window runs from this restart; the next crash must wait it out. */
        cs->backoff_until = 0;
        return true;
}

/* After an exit, arm the window that the next restart must wait for. */
void kl__note_exit(struct kl_pm *pm, struct kl__cstat *cs) {
        if (cs->backoff_usec > 0 && cs->backoff_until == 0) {
                /* relative to when it finished, as upstream */
                int64_t fin = cs->finished_at;
                int64_t now_rt = kl_realtime_nsec();
                uint64_t since = fin > 0 && now_rt > fin ? (uint64_t) (now_rt - fin) / 1000 : 0;
                uint64_t wait = cs->backoff_usec > since ? cs->backoff_usec - since : 0;
                cs->backoff_until = kl_now_usec() + wait;
        }
}

bool kl__should_restart(const struct kl__worker *w, const struct kl__cstat *cs) {
        if (cs->sidecar)
                return true;
        enum kl_restart_policy p = w->pod->restart_policy;
        if (p == KL_RESTART_ALWAYS)
                return !cs->init || cs->exit_code != 0;
        if (p == KL_RESTART_ON_FAILURE)
                return cs->exit_code != 0;
        return false;
}

void kl__resume_created(struct kl_pm *pm, struct kl__worker *w, struct kl__cstat *cs) {
        if (w->op || !cs->id || cs->redo_retry_at > kl_now_usec())
                return;
        struct kl__op *op = op_new(pm, w);
        if (!op)
                return;
        op->cs_index = (size_t) (cs - w->cs);
        op->attempt = cs->attempt;
        op->resume = true;
        op->container_id = strdup(cs->id);
        if (!op->container_id || kl_cri_start_container_async(pm->cri, op->container_id, start_done, op) < 0) {
                w->op = NULL;
                op_free(op);
                return;
        }
        log_info("pod '%s': container '%s': starting a container left created", w->full_name, cs->spec->name);
}

static void interrupted_removed(int r, const struct kl_error *err, ProtobufCMessage *reply, void *userdata) {
        struct kl__req *req = userdata;
        struct kl__worker *w = kl__req_worker(req);

        if (w && w->op == NULL && req->index < w->n_cs) {
                struct kl__cstat *cs = &w->cs[req->index];
                w->gc_pending--;
                if (r < 0 && r != -ENOENT && ++cs->redo_failures >= REDO_MAX_FAILURES) {
                        /* containerd 1.6 can keep a task for a container whose
                         * StartContainer lost its caller ("failed to get task
                         * pid: context canceled") while its CRI status says
                         * exited: RemoveContainer then fails ("cannot delete
                         * running task") for good. Stop redoing the start in
                         * place and let the exit be handled as upstream
                         * does (computePodActions: a new attempt, counted as
                         * a restart); container GC keeps trying the old one. */
                        char path[4096];
                        kl__journal_path(req->pm, w, cs->spec->name, req->attempt, path, sizeof(path));
                        (void) unlink(path);
                        log_warning("pod '%s': container '%s': the runtime keeps a task for the interrupted start "
                                    "(%s); starting a new attempt instead, which counts as a restart",
                                    w->full_name, cs->spec->name, kl_error_str(err));
                        kl__touch(req->pm, w);
                        kl__kick(req->pm);
                } else if (r < 0 && r != -ENOENT) {
                        /* Nothing changed, so no touch: what we know may be
                         * stale (a start from before our restart may still be
                         * running it), and the next relist must be able to
                         * say so. Try again after a while, not at once. */
                        log_warning("pod '%s': container '%s': RemoveContainer: %s, will retry", w->full_name,
                                    cs->spec->name, kl_error_str(err));
                        cs->redo_retry_at = kl_now_usec() + REDO_RETRY_USEC;
                } else if (streq_ptr(cs->id, req->id)) {
                        kl__touch(req->pm, w);
                        char path[4096];
                        kl__journal_path(req->pm, w, cs->spec->name, req->attempt, path, sizeof(path));
                        (void) unlink(path);
                        kl__cstat_clear_runtime(cs);
                        kl__start_container(req->pm, w, cs, req->attempt);
                }
        } else if (w && w->gc_pending > 0)
                w->gc_pending--;
        if (r >= 0 || r == -ENOENT)
                kl__kick(req->pm);
        kl__req_free(req);
}

void kl__redo_interrupted(struct kl_pm *pm, struct kl__worker *w, struct kl__cstat *cs) {
        if (w->gc_pending > 0 || cs->redo_retry_at > kl_now_usec())
                return; /* already at it, or it failed a moment ago */
        struct kl__req *req = kl__req_new(pm, w->uid, cs->id);
        if (!req)
                return;
        req->index = (size_t) (cs - w->cs);
        req->attempt = cs->attempt;
        if (kl_cri_remove_container_async(pm->cri, cs->id, interrupted_removed, req) < 0) {
                kl__req_free(req);
                return;
        }
        w->gc_pending++;
        log_info("pod '%s': container '%s': start was interrupted by a restart of kubelet-lite, starting it again",
                 w->full_name, cs->spec->name);
}
