/* SPDX-License-Identifier: Apache-2.0 */
/* kubelet-lite/prober with real HTTP and TCP probes against a server on
 * 127.0.0.1 in the same event loop. A probe "second" is 100 ms here
 * (kl__prober_set_second), so periods, delays and timeouts run 10x faster. */
#include "kubelet-lite/prober/prober.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/kubelet-lite/prober/probe-server.h"

#define SEC (100 * KL_USEC_PER_MSEC)

struct ev {
        char uid[64], name[64], id[64];
        enum kl_probe_kind kind;
        bool success;
        char msg[512];
        uint64_t at;
        int hits_health, hits_ok, hits_start, hits_slow;
};

struct t {
        struct kl_event *loop;
        struct srv srv;
        struct kl_prober *pr;
        struct ev ev[32];
        int n;
        uint64_t t0;
        void (*hook)(struct t *t, const struct ev *e);
        int get_rc_in_cb;
        /* condition state */
        uint64_t settle_usec;
        int want_events;
};

static void on_result(void *userdata, const char *uid, const char *name, const char *id, enum kl_probe_kind kind,
                      bool success, const char *message) {
        struct t *t = userdata;
        struct ev *e;

        if (t->n >= (int) ELEMENTSOF(t->ev))
                return;
        e = &t->ev[t->n++];
        snprintf(e->uid, sizeof(e->uid), "%s", uid);
        snprintf(e->name, sizeof(e->name), "%s", name);
        snprintf(e->id, sizeof(e->id), "%s", id);
        e->kind = kind;
        e->success = success;
        snprintf(e->msg, sizeof(e->msg), "%s", message);
        e->at = kl_now_usec();
        e->hits_health = t->srv.hits_health;
        e->hits_ok = t->srv.hits_ok;
        e->hits_start = t->srv.hits_start;
        e->hits_slow = t->srv.hits_slow;
        printf("  +%4.0f ms  %s %s of %s/%s: '%.80s'\n", (double) (e->at - t->t0) / 1000.0,
               kl_probe_kind_to_string(kind), success ? "true" : "false", uid, name, message);
        if (t->hook)
                t->hook(t, e);
}

static void t_init(struct t *t, struct kl_cri *cri) {
        memset(t, 0, sizeof(*t));
        ASSERT_OK(kl_event_new(&t->loop));
        srv_start(&t->srv, t->loop);
        ASSERT_OK(kl_prober_new(t->loop, cri, on_result, t, &t->pr));
        kl__prober_set_second(t->pr, SEC);
        t->t0 = kl_now_usec();
}

static void t_done(struct t *t) {
        t->pr = kl_prober_free(t->pr);
        srv_stop(&t->srv);
        t->loop = kl_event_free(t->loop);
}

/* want_events events, then settle_usec more. */
static bool events_settled(void *arg) {
        struct t *t = arg;
        return t->n >= t->want_events && kl_now_usec() >= t->ev[t->n - 1].at + t->settle_usec;
}

static bool t_run(struct t *t, int want_events, unsigned settle_ms, unsigned timeout_ms) {
        t->want_events = want_events;
        t->settle_usec = (uint64_t) settle_ms * KL_USEC_PER_MSEC;
        if (want_events == 0) {
                run_loop(t->loop, NULL, NULL, settle_ms);
                return true;
        }
        return run_loop(t->loop, events_settled, t, timeout_ms);
}

static struct kl_probe http_probe(int port, const char *path, int period, int success, int failure) {
        struct kl_probe p = {
                .set = true,
                .handler = {.kind = KL_HANDLER_HTTP_GET, .path = (char *) path, .port = port},
                .initial_delay_seconds = 0,
                .timeout_seconds = 1,
                .period_seconds = period,
                .success_threshold = success,
                .failure_threshold = failure,
        };
        return p;
}

static bool get(struct t *t, const char *id, enum kl_probe_kind kind) {
        bool v = false;
        ASSERT_OK(kl_prober_get(t->pr, id, kind, &v));
        return v;
}

TEST(readiness_starts_not_ready_then_ready) {
        struct kl_container c = {.name = (char *) "web"};
        struct t t;

        t_init(&t, NULL);
        c.readiness = http_probe(t.srv.port, "/health", 1, 1, 3);
        ASSERT_OK(kl_prober_add_container(t.pr, "uid-1", &c, "ctr-1", "127.0.0.1", 0));
        ASSERT_FALSE(get(&t, "ctr-1", KL_PROBE_READINESS));
        ASSERT_TRUE(get(&t, "ctr-1", KL_PROBE_STARTUP));
        ASSERT_TRUE(get(&t, "ctr-1", KL_PROBE_LIVENESS));
        ASSERT_TRUE(t_run(&t, 1, 350, 3000));
        ASSERT_EQ(t.n, 1);
        ASSERT_EQ(t.ev[0].kind, KL_PROBE_READINESS);
        ASSERT_TRUE(t.ev[0].success);
        ASSERT_STREQ(t.ev[0].uid, "uid-1");
        ASSERT_STREQ(t.ev[0].name, "web");
        ASSERT_STREQ(t.ev[0].id, "ctr-1");
        ASSERT_STREQ(t.ev[0].msg, "health");
        ASSERT_EQ(t.ev[0].hits_health, 1);
        ASSERT_LE(t.ev[0].at - t.t0, 3 * SEC); /* at once: no initial delay, no jitter */
        ASSERT_TRUE(get(&t, "ctr-1", KL_PROBE_READINESS));
        /* periodic: about 3 more runs in 350 ms, no more events */
        ASSERT_GE(t.srv.hits_health, 2);
        ASSERT_LE(t.srv.hits_health, 6);
        printf("  not ready until the first success, then ready; %d runs, one event\n", t.srv.hits_health);
        t_done(&t);
}

TEST(readiness_success_threshold) {
        struct kl_container c = {.name = (char *) "web"};
        struct t t;

        t_init(&t, NULL);
        c.readiness = http_probe(t.srv.port, "/health", 1, 3, 3);
        ASSERT_OK(kl_prober_add_container(t.pr, "uid-1", &c, "ctr-1", "127.0.0.1", 0));
        ASSERT_TRUE(t_run(&t, 1, 0, 3000));
        ASSERT_TRUE(t.ev[0].success);
        ASSERT_EQ(t.ev[0].hits_health, 3);
        ASSERT_GE(t.ev[0].at - t.t0, 2 * SEC - SEC / 5);
        printf("  successThreshold 3 -> ready after run 3 (%.0f ms)\n", (double) (t.ev[0].at - t.t0) / 1000.0);
        t_done(&t);
}

TEST(liveness_failure_threshold_then_on_hold) {
        struct kl_container c = {.name = (char *) "app"};
        struct t t;

        t_init(&t, NULL);
        t.srv.health_status = 500;
        c.liveness = http_probe(t.srv.port, "/health", 1, 1, 3);
        ASSERT_OK(kl_prober_add_container(t.pr, "uid-1", &c, "ctr-1", "127.0.0.1", 0));
        ASSERT_TRUE(t_run(&t, 1, 600, 3000));
        ASSERT_EQ(t.n, 1);
        ASSERT_EQ(t.ev[0].kind, KL_PROBE_LIVENESS);
        ASSERT_FALSE(t.ev[0].success);
        ASSERT_STREQ(t.ev[0].msg, "HTTP probe failed with statuscode: 500");
        ASSERT_EQ(t.ev[0].hits_health, 3);
        ASSERT_EQ(t.srv.hits_health, 3); /* on hold: no more runs */
        ASSERT_FALSE(get(&t, "ctr-1", KL_PROBE_LIVENESS));
        ASSERT_TRUE(get(&t, "ctr-1", KL_PROBE_READINESS)); /* no readiness probe */
        printf("  3 failures -> restart signal, then no more runs for 600 ms\n");
        t_done(&t);
}

static void flip_health(struct t *t, const struct ev *e) {
        if (e->kind == KL_PROBE_READINESS)
                t->srv.health_status = e->success ? 503 : 200;
}

TEST(readiness_flaps_with_thresholds) {
        struct kl_container c = {.name = (char *) "web"};
        struct t t;

        t_init(&t, NULL);
        t.hook = flip_health;
        c.readiness = http_probe(t.srv.port, "/health", 1, 2, 2);
        ASSERT_OK(kl_prober_add_container(t.pr, "uid-1", &c, "ctr-1", "127.0.0.1", 0));
        ASSERT_TRUE(t_run(&t, 3, 0, 5000));
        ASSERT_TRUE(t.ev[0].success);
        ASSERT_FALSE(t.ev[1].success);
        ASSERT_TRUE(t.ev[2].success);
        ASSERT_EQ(t.ev[0].hits_health, 2);
        ASSERT_EQ(t.ev[1].hits_health, 4);
        ASSERT_EQ(t.ev[2].hits_health, 6);
        ASSERT_STREQ(t.ev[1].msg, "HTTP probe failed with statuscode: 503");
        printf("  ready after 2 successes, not ready after 2 failures, ready again after 2 successes\n");
        t_done(&t);
}

TEST(initial_delay) {
        struct kl_container c = {.name = (char *) "web"};
        struct t t;

        t_init(&t, NULL);
        c.readiness = http_probe(t.srv.port, "/health", 1, 1, 3);
        c.readiness.initial_delay_seconds = 5;
        ASSERT_OK(kl_prober_add_container(t.pr, "uid-1", &c, "ctr-1", "127.0.0.1", 0));
        ASSERT_TRUE(t_run(&t, 1, 0, 3000));
        ASSERT_EQ(t.ev[0].hits_health, 1);
        ASSERT_GE(t.ev[0].at - t.t0, 5 * SEC);
        ASSERT_LE(t.ev[0].at - t.t0, 7 * SEC);
        printf("  initialDelaySeconds 5 -> first run after %.0f ms\n", (double) (t.ev[0].at - t.t0) / 1000.0);
        t_done(&t);
}

TEST(initial_delay_counts_from_container_start) {
        struct kl_container c = {.name = (char *) "web"};
        struct t t;

        t_init(&t, NULL);
        c.readiness = http_probe(t.srv.port, "/health", 5, 1, 3);
        c.readiness.initial_delay_seconds = 50; /* 5 s, long passed */
        ASSERT_OK(kl_prober_add_container(t.pr, "uid-1", &c, "ctr-1", "127.0.0.1",
                                          kl_realtime_nsec() - INT64_C(3600) * 1000000000));
        ASSERT_TRUE(t_run(&t, 1, 0, 5000));
        /* adopted after a restart: no delay left, at most one period (500 ms) of jitter */
        ASSERT_LE(t.ev[0].at - t.t0, 5 * SEC + 3 * SEC);
        printf("  container started an hour ago, delay 5 s: first run after %.0f ms (jitter < 1 period)\n",
               (double) (t.ev[0].at - t.t0) / 1000.0);
        t_done(&t);
}

TEST(timeout_is_failure) {
        struct kl_container c = {.name = (char *) "app"};
        struct t t;

        t_init(&t, NULL);
        c.liveness = http_probe(t.srv.port, "/slow", 2, 1, 2);
        ASSERT_OK(kl_prober_add_container(t.pr, "uid-1", &c, "ctr-1", "127.0.0.1", 0));
        ASSERT_TRUE(t_run(&t, 1, 0, 3000));
        ASSERT_FALSE(t.ev[0].success);
        ASSERT_CONTAINS(t.ev[0].msg, "Client.Timeout exceeded while awaiting headers");
        ASSERT_EQ(t.ev[0].hits_slow, 2);
        /* 2 runs, 200 ms apart, each given 100 ms */
        ASSERT_GE(t.ev[0].at - t.t0, 3 * SEC - SEC / 5);
        printf("  timeoutSeconds 1 against /slow, failureThreshold 2 -> liveness false after %.0f ms\n",
               (double) (t.ev[0].at - t.t0) / 1000.0);
        t_done(&t);
}

static void start_ok(struct kl_event_timer *timer, uint64_t now, void *userdata) {
        struct t *t = userdata;

        ASSERT_EQ(t->srv.hits_ok, 0);     /* readiness did not run */
        ASSERT_EQ(t->srv.hits_health, 0); /* liveness did not run */
        ASSERT_FALSE(get(t, "ctr-1", KL_PROBE_STARTUP));
        ASSERT_FALSE(get(t, "ctr-1", KL_PROBE_READINESS));
        printf("  +%4.0f ms  startup failed %d times (threshold 30), liveness and readiness never ran; now /start answers 200\n",
               (double) (now - t->t0) / 1000.0, t->srv.hits_start);
        t->srv.start_status = 200;
}

TEST(startup_gates_liveness_and_readiness) {
        struct kl_container c = {.name = (char *) "slowstart"};
        struct kl_event_timer *timer;
        struct t t;

        t_init(&t, NULL);
        t.srv.start_status = 500;
        c.startup = http_probe(t.srv.port, "/start", 1, 1, 30);
        c.readiness = http_probe(t.srv.port, "/ok", 10, 1, 3); /* long period: runs at once only if triggered */
        c.liveness = http_probe(t.srv.port, "/health", 1, 1, 3);
        ASSERT_OK(kl_prober_add_container(t.pr, "uid-1", &c, "ctr-1", "127.0.0.1", 0));
        ASSERT_OK(kl_event_add_timer(t.loop, t.t0 + 550 * KL_USEC_PER_MSEC, start_ok, &t, &timer));
        ASSERT_TRUE(t_run(&t, 2, 500, 5000));
        ASSERT_EQ(t.n, 2);
        ASSERT_EQ(t.ev[0].kind, KL_PROBE_STARTUP);
        ASSERT_TRUE(t.ev[0].success);
        ASSERT_GE(t.ev[0].hits_start, 4);
        ASSERT_EQ(t.ev[1].kind, KL_PROBE_READINESS);
        ASSERT_TRUE(t.ev[1].success);
        ASSERT_LE(t.ev[1].at - t.ev[0].at, 5 * SEC);     /* triggered, not after its 1 s period */
        ASSERT_EQ(t.srv.hits_start, t.ev[0].hits_start); /* startup stopped */
        ASSERT_GE(t.srv.hits_health, 3);                 /* liveness runs */
        ASSERT_TRUE(get(&t, "ctr-1", KL_PROBE_STARTUP));
        ASSERT_TRUE(get(&t, "ctr-1", KL_PROBE_READINESS));
        ASSERT_TRUE(get(&t, "ctr-1", KL_PROBE_LIVENESS));
        printf("  startup success -> readiness at once (+%.0f ms), liveness running (%d runs), startup stopped\n",
               (double) (t.ev[1].at - t.ev[0].at) / 1000.0, t.srv.hits_health);
        kl_event_timer_free(timer);
        t_done(&t);
}

TEST(startup_failure_is_restart_signal) {
        struct kl_container c = {.name = (char *) "never"};
        struct t t;

        t_init(&t, NULL);
        t.srv.start_status = 500;
        c.startup = http_probe(t.srv.port, "/start", 1, 1, 3);
        c.readiness = http_probe(t.srv.port, "/ok", 1, 1, 3);
        c.liveness = http_probe(t.srv.port, "/ok", 1, 1, 3);
        ASSERT_OK(kl_prober_add_container(t.pr, "uid-1", &c, "ctr-1", "127.0.0.1", 0));
        ASSERT_TRUE(t_run(&t, 1, 500, 3000));
        ASSERT_EQ(t.n, 1);
        ASSERT_EQ(t.ev[0].kind, KL_PROBE_STARTUP);
        ASSERT_FALSE(t.ev[0].success);
        ASSERT_EQ(t.ev[0].hits_start, 3);
        ASSERT_EQ(t.srv.hits_start, 3);
        ASSERT_EQ(t.srv.hits_ok, 0);
        ASSERT_FALSE(get(&t, "ctr-1", KL_PROBE_STARTUP));
        ASSERT_FALSE(get(&t, "ctr-1", KL_PROBE_READINESS));
        printf("  startup failed 3 times -> restart signal; liveness and readiness never ran\n");
        t_done(&t);
}

TEST(errors_are_thrown_away) {
        struct kl_container c = {.name = (char *) "tls"};
        struct kl_container d = {.name = (char *) "named"};
        struct kl_container x = {.name = (char *) "exec"};
        char *cmd[] = {(char *) "true", NULL};
        struct t t;

        t_init(&t, NULL); /* no runtime: exec probes error */
        c.readiness = http_probe(t.srv.port, "/ok", 1, 1, 1);
        c.readiness.handler.scheme = (char *) "HTTPS";
        c.liveness = c.readiness;
        d.liveness = http_probe(0, "/ok", 1, 1, 1);
        d.liveness.handler.port_name = (char *) "http";
        x.readiness = http_probe(0, NULL, 1, 1, 1);
        x.readiness.handler.kind = KL_HANDLER_EXEC;
        x.readiness.handler.exec_command = cmd;
        ASSERT_OK(kl_prober_add_container(t.pr, "uid-1", &c, "ctr-1", "127.0.0.1", 0));
        ASSERT_OK(kl_prober_add_container(t.pr, "uid-1", &d, "ctr-2", "127.0.0.1", 0));
        ASSERT_OK(kl_prober_add_container(t.pr, "uid-1", &x, "ctr-3", "127.0.0.1", 0));
        ASSERT_TRUE(t_run(&t, 0, 600, 0));
        ASSERT_EQ(t.n, 0);
        ASSERT_EQ(t.srv.accepted, 0);
        ASSERT_FALSE(get(&t, "ctr-1", KL_PROBE_READINESS));
        ASSERT_TRUE(get(&t, "ctr-1", KL_PROBE_LIVENESS));
        ASSERT_TRUE(get(&t, "ctr-2", KL_PROBE_LIVENESS));
        ASSERT_FALSE(get(&t, "ctr-3", KL_PROBE_READINESS));
        printf("  https, unknown named port, exec without runtime: no event, states unchanged\n");
        t_done(&t);
}

TEST(tcp_probe) {
        struct kl_container c = {.name = (char *) "db"};
        struct t t;

        t_init(&t, NULL);
        c.readiness = http_probe(t.srv.port, NULL, 1, 1, 1);
        c.readiness.handler.kind = KL_HANDLER_TCP_SOCKET;
        c.liveness = http_probe(closed_port(), NULL, 1, 1, 2);
        c.liveness.handler.kind = KL_HANDLER_TCP_SOCKET;
        ASSERT_OK(kl_prober_add_container(t.pr, "uid-1", &c, "ctr-1", "127.0.0.1", 0));
        ASSERT_TRUE(t_run(&t, 2, 0, 3000));
        ASSERT_EQ(t.ev[0].kind, KL_PROBE_READINESS);
        ASSERT_TRUE(t.ev[0].success);
        ASSERT_EQ(t.ev[1].kind, KL_PROBE_LIVENESS);
        ASSERT_FALSE(t.ev[1].success);
        ASSERT_CONTAINS(t.ev[1].msg, "connect: connection refused");
        t_done(&t);
}

static bool slow_hit(void *arg) {
        struct t *t = arg;
        if (t->srv.hits_slow == 1 && kl_prober_get(t->pr, "ctr-1", KL_PROBE_READINESS, &(bool){0}) == 0)
                kl_prober_remove_container(t->pr, "ctr-1");
        return t->srv.closed_by_peer > 0;
}

TEST(remove_cancels_in_flight) {
        struct kl_container c = {.name = (char *) "web"};
        struct t t;
        bool v;

        t_init(&t, NULL);
        c.readiness = http_probe(t.srv.port, "/slow", 1, 1, 1);
        c.readiness.timeout_seconds = 5;
        ASSERT_OK(kl_prober_add_container(t.pr, "uid-1", &c, "ctr-1", "127.0.0.1", 0));
        ASSERT_TRUE(run_loop(t.loop, slow_hit, &t, 3000));
        ASSERT_EQ(t.n, 0);
        ASSERT_EQ(t.srv.hits_slow, 1);
        ASSERT_ERR(kl_prober_get(t.pr, "ctr-1", KL_PROBE_READINESS, &v), ENOENT);
        printf("  removed with a run in flight: the connection closed, no event\n");
        t_done(&t);
}

static void remove_in_cb(struct t *t, const struct ev *e) {
        bool v;
        kl_prober_remove_container(t->pr, e->id);
        kl_prober_remove_pod(t->pr, e->uid);
        t->get_rc_in_cb = kl_prober_get(t->pr, e->id, KL_PROBE_READINESS, &v);
}

TEST(remove_from_callback) {
        struct kl_container a = {.name = (char *) "a"}, b = {.name = (char *) "b"};
        struct t t;

        t_init(&t, NULL);
        t.hook = remove_in_cb;
        a.readiness = http_probe(t.srv.port, "/health", 1, 1, 1);
        b.readiness = http_probe(t.srv.port, "/slow", 1, 1, 1);
        b.readiness.timeout_seconds = 5;
        ASSERT_OK(kl_prober_add_container(t.pr, "uid-1", &a, "ctr-a", "127.0.0.1", 0));
        ASSERT_OK(kl_prober_add_container(t.pr, "uid-1", &b, "ctr-b", "127.0.0.1", 0));
        ASSERT_TRUE(t_run(&t, 1, 400, 3000));
        ASSERT_EQ(t.n, 1);
        ASSERT_EQ(t.get_rc_in_cb, -ENOENT);
        ASSERT_EQ(t.srv.hits_health, 1);
        ASSERT_EQ(srv_open_conns(&t.srv), 0); /* b's slow run was cancelled too */
        printf("  the callback removed its own container and the pod: no more runs, no crash\n");
        t_done(&t);
}

TEST(api) {
        struct kl_container c = {.name = (char *) "plain"}, c2 = {.name = (char *) "other"};
        struct kl_prober *pr;
        struct kl_event *loop;
        bool v = false;

        ASSERT_OK(kl_event_new(&loop));
        ASSERT_ERR(kl_prober_new(NULL, NULL, NULL, NULL, &pr), EINVAL);
        ASSERT_OK(kl_prober_new(loop, NULL, NULL, NULL, &pr));
        ASSERT_ERR(kl_prober_add_container(pr, NULL, &c, "id", NULL, 0), EINVAL);
        ASSERT_ERR(kl_prober_add_container(pr, "u", NULL, "id", NULL, 0), EINVAL);
        ASSERT_ERR(kl_prober_add_container(pr, "u", &c, "", NULL, 0), EINVAL);
        ASSERT_ERR(kl_prober_get(pr, "id", KL_PROBE_READINESS, &v), ENOENT);

        /* no probes: started, ready, live */
        ASSERT_OK(kl_prober_add_container(pr, "u", &c, "id1", NULL, 0));
        ASSERT_ERR(kl_prober_add_container(pr, "u", &c, "id1", NULL, 0), EEXIST);
        for (int k = 0; k < _KL_PROBE_KIND_MAX; k++) {
                v = false;
                ASSERT_OK(kl_prober_get(pr, "id1", (enum kl_probe_kind) k, &v));
                ASSERT_TRUE(v);
        }
        ASSERT_ERR(kl_prober_get(pr, "id1", _KL_PROBE_KIND_MAX, &v), EINVAL);

        /* same pod and name, new id: replaces */
        ASSERT_OK(kl_prober_add_container(pr, "u", &c, "id2", NULL, 0));
        ASSERT_ERR(kl_prober_get(pr, "id1", KL_PROBE_READINESS, &v), ENOENT);
        ASSERT_OK(kl_prober_get(pr, "id2", KL_PROBE_READINESS, &v));
        ASSERT_OK(kl_prober_add_container(pr, "u", &c2, "id3", NULL, 0));
        ASSERT_OK(kl_prober_add_container(pr, "w", &c, "id4", NULL, 0));
        kl_prober_remove_pod(pr, "u");
        ASSERT_ERR(kl_prober_get(pr, "id2", KL_PROBE_READINESS, &v), ENOENT);
        ASSERT_ERR(kl_prober_get(pr, "id3", KL_PROBE_READINESS, &v), ENOENT);
        ASSERT_OK(kl_prober_get(pr, "id4", KL_PROBE_READINESS, &v));
        kl_prober_remove_container(pr, "id4");
        kl_prober_remove_container(pr, "nope");
        ASSERT_ERR(kl_prober_get(pr, "id4", KL_PROBE_READINESS, &v), ENOENT);

        ASSERT_STREQ(kl_probe_kind_to_string(KL_PROBE_LIVENESS), "Liveness");
        ASSERT_STREQ(kl_probe_kind_to_string(KL_PROBE_READINESS), "Readiness");
        ASSERT_STREQ(kl_probe_kind_to_string(KL_PROBE_STARTUP), "Startup");
        ASSERT_NULL(kl_prober_free(pr));
        ASSERT_NULL(kl_prober_free(NULL));
        kl_event_free(loop);
}

TEST(free_with_runs_in_flight) {
        struct kl_container c = {.name = (char *) "web"};
        struct t t;

        t_init(&t, NULL);
        c.readiness = http_probe(t.srv.port, "/slow", 1, 1, 1);
        c.readiness.timeout_seconds = 5;
        c.liveness = c.readiness;
        ASSERT_OK(kl_prober_add_container(t.pr, "uid-1", &c, "ctr-1", "127.0.0.1", 0));
        ASSERT_TRUE(t_run(&t, 0, 150, 0));
        ASSERT_EQ(t.srv.hits_slow, 2);
        t.pr = kl_prober_free(t.pr);
        ASSERT_EQ(t.n, 0);
        t_done(&t);
}

/* grpc probes: runtime/health through the prober, on the same loop. */
static struct kl_probe grpc_probe(int port, const char *service, int period, int failure) {
        struct kl_probe p = http_probe(port, service, period, 1, failure);
        p.handler.kind = KL_HANDLER_GRPC;
        return p;
}

TEST(grpc_no_server_is_failure_after_the_timeout) {
        struct kl_container c = {.name = (char *) "g"};
        struct t t;

        t_init(&t, NULL);
        c.liveness = grpc_probe(closed_port(), "svc", 2, 2);
        ASSERT_OK(kl_prober_add_container(t.pr, "uid-1", &c, "ctr-1", "127.0.0.1", 0));
        ASSERT_TRUE(t_run(&t, 1, 0, 5000));
        ASSERT_EQ(t.ev[0].kind, KL_PROBE_LIVENESS);
        ASSERT_FALSE(t.ev[0].success);
        /* pkg/probe/grpc: a connection never made within the timeout is a failure */
        ASSERT_STREQ(t.ev[0].msg, "timeout: health rpc did not complete within 100ms");
        ASSERT_GE(t.ev[0].at - t.t0, 2 * SEC + SEC / 2);
        t_done(&t);
}

TEST(grpc_remove_with_check_in_flight) {
        struct kl_container c = {.name = (char *) "g"};
        struct t t;

        t_init(&t, NULL);
        c.readiness = grpc_probe(closed_port(), NULL, 1, 1);
        ASSERT_OK(kl_prober_add_container(t.pr, "uid-1", &c, "ctr-1", "127.0.0.1", 0));
        ASSERT_TRUE(t_run(&t, 0, 50, 0)); /* the first check is in flight */
        kl_prober_remove_container(t.pr, "ctr-1");
        ASSERT_TRUE(t_run(&t, 0, 300, 0));
        ASSERT_EQ(t.n, 0); /* cancelled: no callback */
        t_done(&t);
}

/* Against kltest's grpc-health server (busybox-image/testbox.c), when built. */
TEST(grpc_serving_and_not_serving) {
        char kltest[256], flag[] = "/tmp/kl-test-grpc-XXXXXX", port_s[16];
        struct kl_container c = {.name = (char *) "g"};
        struct t t;

        snprintf(kltest, sizeof(kltest), "%s/image-build/%s/kltest", getenv("BUILD") ? getenv("BUILD") : "build",
#if defined(__x86_64__)
                 "amd64"
#elif defined(__aarch64__)
                 "arm64"
#else
                 "arm"
#endif
        );
        if (access(kltest, X_OK) < 0)
                SKIP("no kltest binary (make images)");
        int fd = mkstemp(flag);
        ASSERT_TRUE(fd >= 0);
        close(fd);
        ASSERT_OK(unlink(flag)); /* SERVING while it does not exist */
        int port = closed_port();
        snprintf(port_s, sizeof(port_s), "%d", port);
        pid_t pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
                dup2(null, STDOUT_FILENO);
                execl(kltest, "kltest", "grpc-health", port_s, flag, (char *) NULL);
                _exit(127);
        }

        t_init(&t, NULL);
        c.readiness = grpc_probe(port, "kltest.Svc", 1, 1);
        ASSERT_OK(kl_prober_add_container(t.pr, "uid-1", &c, "ctr-1", "127.0.0.1", 0));
        ASSERT_TRUE(t_run(&t, 1, 0, 5000));
        ASSERT_TRUE(t.ev[0].success);
        ASSERT_STREQ(t.ev[0].msg, "service healthy");
        fd = open(flag, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        ASSERT_TRUE(fd >= 0);
        close(fd);
        ASSERT_TRUE(t_run(&t, 2, 0, 5000));
        ASSERT_FALSE(t.ev[1].success);
        ASSERT_STREQ(t.ev[1].msg, "service unhealthy (responded with \"NOT_SERVING\")");
        ASSERT_OK(unlink(flag));
        ASSERT_TRUE(t_run(&t, 3, 0, 5000));
        ASSERT_TRUE(t.ev[2].success);
        t_done(&t);
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
}

TEST_MAIN()
