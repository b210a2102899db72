/* SPDX-License-Identifier: Apache-2.0 */
/* Eviction for the pod manager: node pressure signals on a timer and on
 * PSI / memory.events wake-ups, one pod evicted per check, ranked as upstream
 * ranks them. Unlike upstream, static pods are evicted (critical ones are
 * not), and an evicted pod is admitted again once the pressure has been gone
 * for evictionPressureTransitionPeriod. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "cgroups/stats.h"
#include "kubelet-lite/eviction/eviction.h"
#include "kubelet-lite/eviction/signals.h"
#include "kubelet-lite/eviction/watch.h"
#include "lib/log.h"
#include "lib/macros.h"
#include "kubelet-lite/server/metrics.h"
#include "kubelet-lite/cm/node.h"
#include "kubelet-lite/pod/worker.h"

#define EVICTION_PERIOD_USEC (10 * KL_USEC_PER_SEC) /* upstream's monitoring interval */
#define EVICTION_MIN_GAP_USEC (1 * KL_USEC_PER_SEC) /* wake-ups from PSI/memory.events: at most this often */
#define DU_MAX_ENTRIES 100000
#define DU_MAX_USEC (200 * KL_USEC_PER_MSEC)

static void evict_check(struct kl_pm *pm);

static int64_t dir_usage(const char *path, enum kl_eviction_resource res) {
        struct kl_eviction_du du = {};
        if (kl_eviction_dir_usage(AT_FDCWD, path, DU_MAX_ENTRIES, DU_MAX_USEC, &du) < 0)
                return 0;
        return res == KL_EVICTION_RESOURCE_INODES ? (int64_t) du.inodes : (int64_t) du.bytes;
}

/* What one pod uses of the resource under pressure, from its cgroup (memory,
 * pids) or its directories (logs and emptyDirs for disk). */
static void pod_usage(struct kl_pm *pm, struct kl__worker *w, enum kl_eviction_resource res,
                      struct kl_eviction_pod *p) {
        kl_eviction_pod_from_spec(w->pod, res, p);
        if (res == KL_EVICTION_RESOURCE_MEMORY || res == KL_EVICTION_RESOURCE_PIDS) {
                struct kl_cg_stats st = {};
                if (kl_node_stats(pm->node, w->uid, NULL, &st) < 0)
                        return; /* have_stats stays false: upstream ranks those first */
                if (res == KL_EVICTION_RESOURCE_MEMORY && (st.have & KL_CG_STATS_MEMORY)) {
                        p->usage = (int64_t) st.memory_working_set;
                        p->have_stats = true;
                } else if (res == KL_EVICTION_RESOURCE_PIDS && (st.have & KL_CG_STATS_PIDS)) {
                        p->usage = (int64_t) st.pids_current;
                        p->have_stats = true;
                }
                return;
        }
        char path[4096];
        int64_t u = 0;
        snprintf(path, sizeof(path), "%s/%s_%s_%s", pm->cfg->pod_logs_dir, w->namespace, w->full_name, w->uid);
        u += dir_usage(path, res);
        snprintf(path, sizeof(path), "%s/pods/%s/volumes/kubernetes.io~empty-dir", pm->cfg->root_dir, w->uid);
        u += dir_usage(path, res);
        p->usage = u;
        p->have_stats = true;
}

static void evict_one(struct kl_pm *pm, const struct kl_eviction_decision *d) {
        size_t n = 0, cap = 0;

        for (struct kl__worker *w = pm->workers; w; w = w->next)
                cap++;
        _cleanup_free_ struct kl__worker **cand = calloc(cap + 1, sizeof(*cand));
        _cleanup_free_ struct kl_eviction_pod *pods = calloc(cap + 1, sizeof(*pods));
        _cleanup_free_ size_t *order = calloc(cap + 1, sizeof(*order));
        if (!cand || !pods || !order) {
                log_error("eviction: out of memory ranking pods, will retry");
                return;
        }
        for (struct kl__worker *w = pm->workers; w; w = w->next) {
                if (!w->pod || !w->desired || !w->admitted || w->evicted || w->terminating ||
                    w->sandbox_state != RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY)
                        continue;
                cand[n] = w;
                pod_usage(pm, w, d->resource, &pods[n]);
                n++;
        }
        int k = kl_eviction_rank(pods, n, d->resource, order);
        if (k <= 0) {
                log_warning("node is under %s pressure (%s), but no pod may be evicted",
                            kl_eviction_resource_to_string(d->resource), kl_eviction_signal_to_string(d->signal));
                return;
        }
        struct kl__worker *w = cand[order[0]];
        struct kl_eviction_container c = {
                .name = w->pod->n_containers ? w->pod->containers[0].name : "",
                .have_usage = pods[order[0]].have_stats,
                .usage = pods[order[0]].usage,
                .request = pods[order[0]].request,
        };
        char msg[KL_EVICTION_MESSAGE_MAX];
        kl_eviction_message(d, &c, 1, msg, sizeof(msg));
        log_warning("pod '%s': evicted: %s", w->full_name, msg);
        kl__event(pm, w, NULL, "Warning", "Evicted", "%s", msg);
        w->grace_seconds = kl_eviction_grace_period(pm->ev, d, w->pod->termination_grace_period_seconds);
        if (pm->km)
                kl_metric_inc(pm->km->evictions, kl_eviction_signal_to_string(d->signal));
        pm->evicting = true;
        kl__stop_failed(pm, w, kl_eviction_signal_condition(d->signal), KL_EVICTION_REASON, msg);
}

/* Called from the sync loop for an evicted worker: stop it, keep its status. */
void kl__evicted_sync(struct kl_pm *pm, struct kl__worker *w) {
        if (w->evict_done) {
                if (w->evicted_for >= 0 && pm->ev &&
                    kl_eviction_may_readmit(pm->ev, w->evicted_for, kl_pod_qos_class(w->pod) == KL_QOS_BEST_EFFORT)) {
                        log_info("pod '%s': the %s is gone, admitting it again", w->full_name,
                                 kl_eviction_condition_to_string(w->evicted_for));
                        w->evicted = false;
                        w->admitted = false;
                        w->phase = KL_PHASE_PENDING;
                        w->phase_reason = mfree(w->phase_reason);
                        w->phase_message = mfree(w->phase_message);
                        w->grace_seconds = w->pod->termination_grace_period_seconds;
                }
                return;
        }
        if (!kl__terminate_pod(pm, w))
                return;
        /* Gone from the runtime; the worker stays to show Failed/Evicted. */
        w->evict_done = true;
        w->terminating = false;
        w->stops_pending = 0;
        w->sandbox_id = mfree(w->sandbox_id);
        w->sandbox_state = -1;
        w->pod_ip = mfree(w->pod_ip);
        w->start_nsec = 0;
        for (size_t i = 0; i < w->n_cs; i++)
                w->cs[i].state = -1;
        pm->evicting = false;
}

static void evict_check(struct kl_pm *pm) {
        struct kl_eviction_observation obs = {};
        struct kl_eviction_decision d = {};
        struct kl_eviction_sources src = {
                .root_dir = pm->cfg->root_dir,
                .pod_logs_dir = pm->cfg->pod_logs_dir,
        };
        uint64_t now = kl_now_usec();

        pm->evict_last_check = now;
        if (kl_eviction_read_signals(&src, &obs) < 0)
                return;
        int r = kl_eviction_observe(pm->ev, &obs, now, &d);
        if (r < 0)
                return;
        for (int c = 0; c < _KL_EVICTION_CONDITION_MAX; c++) {
                if (pm->km)
                        kl_metric_set(pm->km->node_condition, d.condition[c] ? 1 : 0,
                                      kl_eviction_condition_to_string(c));
                if (d.condition_changed[c])
                        log_warning("node condition %s is now %s", kl_eviction_condition_to_string(c),
                                    d.condition[c] ? "True" : "False");
                pm->node_conditions[c] = d.condition[c];
        }
        if (r > 0 && d.evict && !pm->evicting)
                evict_one(pm, &d);
        uint64_t next = now + EVICTION_PERIOD_USEC;
        if (d.next_check_usec > now && d.next_check_usec < next)
                next = d.next_check_usec;
        kl_event_timer_set(pm->evict_timer, next);
}

static void on_evict_timer(struct kl_event_timer *t, uint64_t now, void *userdata) {
        evict_check(userdata);
}

static void on_evict_io(struct kl_event_io *io, int fd, uint32_t revents, void *userdata) {
        struct kl_pm *pm = userdata;
        int r = kl_eviction_watch_drain(pm->evict_watch, fd, revents);
        if (r & KL_EVICTION_WATCH_LOST) {
                log_warning("eviction: lost a pressure watch (%s), relying on the timer",
                            kl_eviction_watch_describe(pm->evict_watch));
                kl_event_io_free(io);
                if (io == pm->evict_psi_io)
                        pm->evict_psi_io = NULL;
                else
                        pm->evict_events_io = NULL;
                return;
        }
        if (r & (KL_EVICTION_WATCH_PSI | KL_EVICTION_WATCH_MEMORY_EVENTS)) {
                uint64_t now = kl_now_usec();
                uint64_t at = MAX(now, pm->evict_last_check + EVICTION_MIN_GAP_USEC);
                if (at < kl_event_timer_deadline(pm->evict_timer))
                        kl_event_timer_set(pm->evict_timer, at);
        }
}

int kl__eviction_setup(struct kl_pm *pm) {
        struct kl_eviction_config cfg;
        int r;

        kl_eviction_config_from_kubelet(pm->cfg, &cfg);
        pm->ev = kl_eviction_new(&cfg);
        if (!pm->ev)
                return -ENOMEM;
        r = kl_event_add_timer(pm->loop, kl_now_usec() + KL_USEC_PER_SEC, on_evict_timer, pm, &pm->evict_timer);
        if (r < 0)
                return r;

        char events[512];
        const char *cg = kl_node_pod_cgroup_root(pm->node);
        struct kl_eviction_watch_config wc = {};
        if (cg) {
                snprintf(events, sizeof(events), "%s/memory.events", cg);
                wc.memory_events = events;
        }
        if (kl_eviction_watch_open(&wc, &pm->evict_watch) >= 0) {
                int fd = kl_eviction_watch_psi_fd(pm->evict_watch);
                if (fd >= 0)
                        (void) kl_event_add_io(pm->loop, fd, EPOLLPRI, on_evict_io, pm, &pm->evict_psi_io);
                fd = kl_eviction_watch_events_fd(pm->evict_watch);
                if (fd >= 0)
                        (void) kl_event_add_io(pm->loop, fd, EPOLLIN, on_evict_io, pm, &pm->evict_events_io);
                log_info("eviction: checking every %llus, and on %s",
                         (unsigned long long) (EVICTION_PERIOD_USEC / KL_USEC_PER_SEC),
                         kl_eviction_watch_describe(pm->evict_watch));
        }
        return 0;
}

void kl__eviction_free(struct kl_pm *pm) {
        kl_event_io_free(pm->evict_psi_io);
        kl_event_io_free(pm->evict_events_io);
        kl_eviction_watch_free(pm->evict_watch);
        kl_event_timer_free(pm->evict_timer);
        kl_eviction_free(pm->ev);
}

bool kl_pm_node_condition(const struct kl_pm *pm, int condition) {
        return condition >= 0 && condition < _KL_EVICTION_CONDITION_MAX && pm->node_conditions[condition];
}
