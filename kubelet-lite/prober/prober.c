/* SPDX-License-Identifier: Apache-2.0 */
#include "prober.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "kubelet-lite/prober/handler.h"
#include "lib/log.h"
#include "lib/macros.h"
#include "lib/strbuf.h"
#include "runtime/health.h"

/* Upstream retries a probe that errored this many times in all. */
#define PROBE_MAX_ATTEMPTS 3

enum {
        STATE_UNKNOWN = -1,
        STATE_FAILURE = 0,
        STATE_SUCCESS = 1,
};

struct ctr;

struct worker {
        struct ctr *ctr;
        enum kl_probe_kind kind;
        const struct kl_probe *spec;
        struct kl_handler handler; /* the spec's, with $(VAR) expanded in exec commands */
        char **expanded_cmd;
        uint64_t period, timeout; /* usec */
        int success_threshold, failure_threshold;

        struct kl_event_timer *timer;
        uint64_t next_tick;
        struct kl_handler_call *call;
        int attempts;

        /* grpc probes: a channel of their own, its completions on the loop */
        struct kl_health *health;
        struct kl_event_io *health_io;
        bool health_inflight;

        int last_result; /* of the last counted run: KL_HANDLER_SUCCESS/FAILURE, -1 none */
        int run;         /* how many times in a row */
        int state;       /* what the owner was told (or the initial state) */
        bool on_hold;
        char *last_error;
};

struct ctr {
        struct ctr *next;
        struct kl_prober *pr;
        char *uid, *name, *id, *host;
        const struct kl_container *spec;
        uint64_t started; /* CLOCK_MONOTONIC usec */
        bool removed;
        struct worker *w[_KL_PROBE_KIND_MAX];
};

struct kl_prober {
        struct kl_event *loop;
        struct kl_cri *cri;
        kl_probe_result_fn fn;
        kl_probe_run_fn run_fn;
        void *userdata;
        struct ctr *ctrs;
        struct ctr *graveyard; /* removed during a callback, freed after it */
        unsigned in_callback;
        uint64_t created;
        uint64_t second;
        uint64_t rng;
};

const char *kl_probe_kind_to_string(enum kl_probe_kind k) {
        switch (k) {
        case KL_PROBE_LIVENESS: return "Liveness";
        case KL_PROBE_READINESS: return "Readiness";
        case KL_PROBE_STARTUP: return "Startup";
        default: return "Unknown";
        }
}

static uint64_t rng_next(struct kl_prober *pr) {
        /* xorshift64: only spreads first probes, nothing depends on it */
        pr->rng ^= pr->rng << 13;
        pr->rng ^= pr->rng >> 7;
        pr->rng ^= pr->rng << 17;
        return pr->rng;
}

/* ---- $(VAR) expansion of exec commands ------------------------------------------
 * As upstream's ExpandContainerCommandOnlyStatic: $(NAME) becomes the value of
 * the container's env NAME (the last one wins; one set from a fieldRef counts as
 * ""), an unknown $(NAME) stays as written, $$ is a literal $. */

static const char *env_lookup(const struct kl_container *c, const char *name, size_t len) {
        const char *v = NULL;

        for (size_t i = 0; c && i < c->n_env; i++)
                if (c->env[i].name && strlen(c->env[i].name) == len && memcmp(c->env[i].name, name, len) == 0)
                        v = strempty(c->env[i].value);
        return v;
}

static char *expand_one(const struct kl_container *c, const char *s) {
        struct kl_buf b = {};

        while (*s) {
                if (s[0] != '$' || s[1] == '\0') {
                        kl_buf_append(&b, s++, 1);
                        continue;
                }
                if (s[1] == '$') {
                        kl_buf_append(&b, "$", 1);
                        s += 2;
                        continue;
                }
                if (s[1] == '(') {
                        const char *close = strchr(s + 2, ')');
                        if (close) {
                                const char *v = env_lookup(c, s + 2, (size_t) (close - s - 2));
                                if (v)
                                        kl_buf_puts(&b, v);
                                else
                                        kl_buf_append(&b, s, (size_t) (close - s) + 1);
                                s = close + 1;
                                continue;
                        }
                }
                kl_buf_append(&b, s, 2);
                s += 2;
        }
        kl_buf_append(&b, "", 0);
        return kl_buf_steal(&b, NULL);
}

static void strv_free(char **v) {
        for (char **p = v; p && *p; p++)
                free(*p);
        free(v);
}

static char **expand_command(const struct kl_container *c, char **cmd) {
        size_t n = 0;
        char **v;

        while (cmd && cmd[n])
                n++;
        v = calloc(n + 1, sizeof(char *));
        if (!v)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (!(v[i] = expand_one(c, cmd[i]))) {
                        strv_free(v);
                        return NULL;
                }
        return v;
}

/* ---- workers ---------------------------------------------------------------------- */

static bool ctr_started(const struct ctr *c) {
        const struct worker *s = c->w[KL_PROBE_STARTUP];
        return !s || s->state == STATE_SUCCESS;
}

static void worker_free(struct worker *w) {
        if (!w)
                return;
        kl_event_io_free(w->health_io);
        kl_health_free(w->health);
        kl_handler_cancel(w->call);
        kl_event_timer_free(w->timer);
        strv_free(w->expanded_cmd);
        free(w->last_error);
        free(w);
}

static void ctr_free(struct ctr *c) {
        for (int k = 0; k < _KL_PROBE_KIND_MAX; k++)
                worker_free(c->w[k]);
        free(c->uid);
        free(c->name);
        free(c->id);
        free(c->host);
        free(c);
}

static void worker_run(struct worker *w);

static void report(struct worker *w, bool success, const char *message) {
        struct ctr *c = w->ctr;
        struct kl_prober *pr = c->pr;

        log_debug("prober: %s probe of container '%s' (%s) in pod %s now %s: %s", kl_probe_kind_to_string(w->kind),
                  c->name, c->id, c->uid, success ? "succeeds" : "fails", message);
        if (!pr->fn)
                return;
        pr->in_callback++;
        pr->fn(pr->userdata, c->uid, c->name, c->id, w->kind, success, message);
        pr->in_callback--;
        if (pr->in_callback == 0)
                while (pr->graveyard) {
                        struct ctr *g = pr->graveyard;
                        pr->graveyard = g->next;
                        ctr_free(g);
                }
}

static void on_done(enum kl_handler_result result, const char *message, void *userdata) {
        struct worker *w = userdata;
        struct ctr *c = w->ctr;
        bool success, changed;

        w->call = NULL;
        if (result == KL_HANDLER_ERROR) {
                if (++w->attempts < PROBE_MAX_ATTEMPTS) {
                        worker_run(w);
                        return;
                }
                if (c->pr->run_fn)
                        c->pr->run_fn(c->pr->userdata, c->uid, c->name, w->kind, "unknown");
                /* Thrown away, as upstream: an error is neither success nor failure. */
                if (!streq_ptr(w->last_error, message)) {
                        log_info("%s probe errored for container '%s' in pod %s: %s, ignoring",
                                 kl_probe_kind_to_string(w->kind), c->name, c->uid, message);
                        free(w->last_error);
                        w->last_error = strdup(message);
                }
                return;
        }
        w->attempts = 0;
        w->last_error = mfree(w->last_error);
        if (c->pr->run_fn)
                c->pr->run_fn(c->pr->userdata, c->uid, c->name, w->kind,
                              result == KL_HANDLER_SUCCESS ? "successful" : "failed");
        if (result == KL_HANDLER_FAILURE)
                log_debug("prober: %s probe failed for container '%s' in pod %s: %s", kl_probe_kind_to_string(w->kind),
                          c->name, c->uid, message);

        if (w->last_result == (int) result)
                w->run++;
        else {
                w->last_result = (int) result;
                w->run = 1;
        }
        if ((result == KL_HANDLER_FAILURE && w->run < w->failure_threshold) ||
            (result == KL_HANDLER_SUCCESS && w->run < w->success_threshold))
                return;

        success = result == KL_HANDLER_SUCCESS;
        changed = w->state != (success ? STATE_SUCCESS : STATE_FAILURE);
        w->state = success ? STATE_SUCCESS : STATE_FAILURE;
        if (!success && (w->kind == KL_PROBE_LIVENESS || w->kind == KL_PROBE_STARTUP)) {
                /* The container will be restarted: stop until it is replaced. */
                w->on_hold = true;
                w->run = 0;
        }
        if (success && w->kind == KL_PROBE_STARTUP && changed) {
                /* Started: readiness answers at once (upstream triggers it when
                 * the status changes), liveness keeps its own ticks. */
                struct worker *r = c->w[KL_PROBE_READINESS];
                uint64_t now = kl_now_usec();
                if (r && !r->call && !r->health_inflight &&
                    now >= c->started + (uint64_t) MAX(r->spec->initial_delay_seconds, 0) * c->pr->second) {
                        r->next_tick = now;
                        kl_event_timer_set(r->timer, now);
                }
        }
        if (changed)
                report(w, success, message); /* last: the callback may remove c */
}

static void on_health(bool healthy, const char *message, void *userdata) {
        struct worker *w = userdata;
        w->health_inflight = false;
        on_done(healthy ? KL_HANDLER_SUCCESS : KL_HANDLER_FAILURE, message, w);
}

static void on_health_io(struct kl_event_io *io, int fd, uint32_t revents, void *userdata) {
        struct worker *w = userdata;
        /* the callback may remove the container, and with it w and its channel:
         * a removal inside a callback only goes to the graveyard (see report) */
        (void) kl_health_dispatch(w->health);
}

/* upstream's prober.runProbe for ProbeHandler.GRPC: host is the pod IP (or
 * 127.0.0.1 for hostNetwork), the service as given, timeoutSeconds as the
 * deadline of connect and call together (pkg/probe/grpc Probe). */
static int worker_run_grpc(struct worker *w) {
        struct ctr *c = w->ctr;
        struct kl_error err = {};
        int r;

        if (!w->health) {
                r = kl_health_new(c->host ? c->host : "127.0.0.1", w->handler.port, &w->health, &err);
                if (r < 0)
                        return r;
                r = kl_event_add_io(c->pr->loop, kl_health_fd(w->health), EPOLLIN, on_health_io, w, &w->health_io);
                if (r < 0) {
                        w->health = kl_health_free(w->health);
                        return r;
                }
        }
        r = kl_health_check_async(w->health, strempty(w->handler.path), (int64_t) (w->timeout / KL_USEC_PER_MSEC),
                                  on_health, w, &err);
        if (r >= 0)
                w->health_inflight = true;
        return r;
}

static void worker_run(struct worker *w) {
        struct ctr *c = w->ctr;
        struct kl_handler_params p = {
                .loop = c->pr->loop,
                .cri = c->pr->cri,
                .container_id = c->id,
                .container = c->spec,
                .default_host = c->host,
                .timeout_usec = w->timeout,
        };
        int r;

        if (w->handler.kind == KL_HANDLER_GRPC)
                r = worker_run_grpc(w);
        else
                r = kl_handler_run(&w->handler, &p, on_done, w, &w->call);
        if (r < 0) {
                w->call = NULL;
                w->attempts = PROBE_MAX_ATTEMPTS; /* no point retrying */
                if (!w->last_error)
                        log_info("%s probe of container '%s' in pod %s cannot run: %s, ignoring",
                                 kl_probe_kind_to_string(w->kind), c->name, c->uid,
                                 r == -EINVAL ? "invalid probe or no container runtime" : strerror(-r));
                free(w->last_error);
                w->last_error = strdup("cannot run");
        }
}

static bool worker_should_run(const struct worker *w) {
        if (w->on_hold)
                return false;
        if (w->kind == KL_PROBE_STARTUP)
                return !ctr_started(w->ctr); /* done once started */
        return ctr_started(w->ctr);
}

static void on_tick(struct kl_event_timer *t, uint64_t now, void *userdata) {
        struct worker *w = userdata;

        /* next_tick is when this tick was due; skip ticks we are late for */
        w->next_tick += w->period;
        if (w->next_tick <= now)
                w->next_tick = now + w->period;
        kl_event_timer_set(t, w->next_tick);
        if (w->call || w->health_inflight || !worker_should_run(w))
                return;
        w->attempts = 0;
        worker_run(w);
}

static int worker_new(struct ctr *c, enum kl_probe_kind kind, const struct kl_probe *spec, struct worker **ret) {
        struct kl_prober *pr = c->pr;
        struct worker *w;
        uint64_t now = kl_now_usec(), first;
        int r;

        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->ctr = c;
        w->kind = kind;
        w->spec = spec;
        w->handler = spec->handler;
        if (spec->handler.kind == KL_HANDLER_EXEC) {
                w->expanded_cmd = expand_command(c->spec, spec->handler.exec_command);
                if (!w->expanded_cmd) {
                        free(w);
                        return -ENOMEM;
                }
                w->handler.exec_command = w->expanded_cmd;
        }
        /* The parser applies upstream's defaults; stay sane if it did not. */
        w->period = (uint64_t) MAX(spec->period_seconds, 1) * pr->second;
        w->timeout = (uint64_t) MAX(spec->timeout_seconds, 1) * pr->second;
        w->success_threshold = kind == KL_PROBE_READINESS ? MAX(spec->success_threshold, 1) : 1;
        w->failure_threshold = MAX(spec->failure_threshold, 1);
        w->last_result = -1;
        w->state = kind == KL_PROBE_LIVENESS    ? STATE_SUCCESS
                   : kind == KL_PROBE_READINESS ? STATE_FAILURE
                                                : STATE_UNKNOWN;

        first = c->started + (uint64_t) MAX(spec->initial_delay_seconds, 0) * pr->second;
        if (c->started < pr->created && now - pr->created < w->period)
                first = MAX(first, now + rng_next(pr) % w->period);
        w->next_tick = MAX(first, now);
        r = kl_event_add_timer(pr->loop, w->next_tick, on_tick, w, &w->timer);
        if (r < 0) {
                worker_free(w);
                return r;
        }
        *ret = w;
        return 0;
}

/* ---- public API ------------------------------------------------------------------- */

void kl_prober_set_run_observer(struct kl_prober *pr, kl_probe_run_fn fn) {
        pr->run_fn = fn;
}

int kl_prober_new(struct kl_event *loop, struct kl_cri *cri, kl_probe_result_fn fn, void *userdata,
                  struct kl_prober **ret) {
        struct kl_prober *pr;

        if (!loop || !ret)
                return -EINVAL;
        pr = calloc(1, sizeof(*pr));
        if (!pr)
                return -ENOMEM;
        pr->loop = loop;
        pr->cri = cri;
        pr->fn = fn;
        pr->userdata = userdata;
        pr->created = kl_now_usec();
        pr->second = KL_USEC_PER_SEC;
        pr->rng = pr->created ^ ((uint64_t) getpid() << 32) ^ UINT64_C(0x9e3779b97f4a7c15);
        if (pr->rng == 0)
                pr->rng = 1;
        *ret = pr;
        return 0;
}

struct kl_prober *kl_prober_free(struct kl_prober *pr) {
        if (!pr)
                return NULL;
        while (pr->ctrs) {
                struct ctr *c = pr->ctrs;
                pr->ctrs = c->next;
                ctr_free(c);
        }
        while (pr->graveyard) {
                struct ctr *c = pr->graveyard;
                pr->graveyard = c->next;
                ctr_free(c);
        }
        free(pr);
        return NULL;
}

void kl__prober_set_second(struct kl_prober *pr, uint64_t usec) {
        if (pr && usec > 0)
                pr->second = usec;
}

static struct ctr *find_ctr(struct kl_prober *pr, const char *id) {
        for (struct ctr *c = pr->ctrs; c; c = c->next)
                if (streq(c->id, id))
                        return c;
        return NULL;
}

/* Unlink c, stop its probes; free it now or, inside a callback, after it. */
static void ctr_remove(struct kl_prober *pr, struct ctr *c) {
        for (struct ctr **p = &pr->ctrs; *p; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        break;
                }
        if (pr->in_callback == 0) {
                ctr_free(c);
                return;
        }
        c->removed = true;
        for (int k = 0; k < _KL_PROBE_KIND_MAX; k++)
                if (c->w[k]) {
                        kl_handler_cancel(c->w[k]->call);
                        c->w[k]->call = NULL;
                        kl_health_cancel(c->w[k]->health);
                        c->w[k]->health_inflight = false;
                        kl_event_timer_set(c->w[k]->timer, KL_USEC_INFINITY);
                }
        c->next = pr->graveyard;
        pr->graveyard = c;
}

int kl_prober_add_container(struct kl_prober *pr, const char *pod_uid, const struct kl_container *spec,
                            const char *container_id, const char *default_host, int64_t started_at_ns) {
        const struct kl_probe *probes[_KL_PROBE_KIND_MAX];
        uint64_t now = kl_now_usec();
        struct ctr *c;
        int r;

        if (!pr || !pod_uid || !spec || !spec->name || !container_id || !container_id[0])
                return -EINVAL;
        if (find_ctr(pr, container_id))
                return -EEXIST;
        for (struct ctr *o = pr->ctrs; o; o = o->next)
                if (streq(o->uid, pod_uid) && streq(o->name, spec->name)) {
                        ctr_remove(pr, o);
                        break;
                }

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->pr = pr;
        c->spec = spec;
        c->uid = strdup(pod_uid);
        c->name = strdup(spec->name);
        c->id = strdup(container_id);
        c->host = default_host ? strdup(default_host) : NULL;
        if (!c->uid || !c->name || !c->id || (default_host && !c->host)) {
                ctr_free(c);
                return -ENOMEM;
        }
        c->started = now;
        if (started_at_ns > 0) {
                int64_t ago = kl_realtime_nsec() - started_at_ns;
                if (ago > 0)
                        c->started = now - MIN(now, (uint64_t) ago / 1000);
        }

        probes[KL_PROBE_LIVENESS] = &spec->liveness;
        probes[KL_PROBE_READINESS] = &spec->readiness;
        probes[KL_PROBE_STARTUP] = &spec->startup;
        for (int k = 0; k < _KL_PROBE_KIND_MAX; k++) {
                const struct kl_probe *p = probes[k];
                if (!p->set || (p->handler.kind != KL_HANDLER_EXEC && p->handler.kind != KL_HANDLER_HTTP_GET &&
                                p->handler.kind != KL_HANDLER_TCP_SOCKET && p->handler.kind != KL_HANDLER_GRPC))
                        continue;
                r = worker_new(c, (enum kl_probe_kind) k, p, &c->w[k]);
                if (r < 0) {
                        ctr_free(c);
                        return r;
                }
        }
        c->next = pr->ctrs;
        pr->ctrs = c;
        log_debug("prober: probing container '%s' (%s) of pod %s:%s%s%s", c->name, c->id, c->uid,
                  c->w[KL_PROBE_LIVENESS] ? " liveness" : "", c->w[KL_PROBE_READINESS] ? " readiness" : "",
                  c->w[KL_PROBE_STARTUP] ? " startup" : "");
        return 0;
}

void kl_prober_remove_container(struct kl_prober *pr, const char *container_id) {
        struct ctr *c;

        if (!pr || !container_id)
                return;
        c = find_ctr(pr, container_id);
        if (c)
                ctr_remove(pr, c);
}

void kl_prober_remove_pod(struct kl_prober *pr, const char *pod_uid) {
        if (!pr || !pod_uid)
                return;
        for (struct ctr *c = pr->ctrs, *next; c; c = next) {
                next = c->next;
                if (streq(c->uid, pod_uid))
                        ctr_remove(pr, c);
        }
}

int kl_prober_get(struct kl_prober *pr, const char *container_id, enum kl_probe_kind kind, bool *ret) {
        struct ctr *c;
        const struct worker *w;

        if (!pr || !container_id || !ret || kind < 0 || kind >= _KL_PROBE_KIND_MAX)
                return -EINVAL;
        c = find_ctr(pr, container_id);
        if (!c)
                return -ENOENT;
        w = c->w[kind];
        switch (kind) {
        case KL_PROBE_STARTUP: *ret = ctr_started(c); break;
        case KL_PROBE_READINESS: *ret = ctr_started(c) && (!w || w->state == STATE_SUCCESS); break;
        default: *ret = !w || w->state != STATE_FAILURE; break;
        }
        return 0;
}
