/* SPDX-License-Identifier: Apache-2.0 */
/* kubelet-lite/handler and kubelet-lite/prober against a real containerd: a
 * hostNetwork sandbox with a testbox container serving `/kltest http-ok PORT`,
 * exec handlers through ExecSync (success, failure with output, timeout,
 * unknown container, cancel with a late completion), an httpGet handler on
 * 127.0.0.1:PORT, and the prober driving startup (with $(VAR) expansion),
 * readiness and liveness probes through their transitions.
 * Run: tests/lib/with-containerd build/tests/integration/prober/test-exec */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "kubelet-lite/event.h"
#include "kubelet-lite/prober/handler.h"
#include "kubelet-lite/prober/prober.h"
#include "tests/integration/runtime/cri-util.h"

#define CTR_NAME "probe-box"

static struct test_pod pod;
static struct test_ctr ctr;
static int http_port;
static char port_arg[16];

/* A port nothing listens on now (the container binds it right after). */
static int free_port(void) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof(a);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port;

        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(bind(fd, (struct sockaddr *) &a, sizeof(a)) < 0 ? -errno : 0);
        ASSERT_OK(getsockname(fd, (struct sockaddr *) &a, &len) < 0 ? -errno : 0);
        port = ntohs(a.sin_port);
        close(fd);
        return port;
}

static bool port_open(int port) {
        struct sockaddr_in a = {
                .sin_family = AF_INET, .sin_port = htons((uint16_t) port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        bool ok = fd >= 0 && connect(fd, (struct sockaddr *) &a, sizeof(a)) == 0;

        if (fd >= 0)
                close(fd);
        return ok;
}

/* The sandbox and container, made once and shared by every test. */
static void setup(void) {
        const char *args[] = {"http-ok", port_arg, NULL};

        if (ctr.id)
                return;
        require_image(PAUSE_IMAGE);
        require_image(TESTBOX_IMAGE);
        http_port = free_port();
        snprintf(port_arg, sizeof(port_arg), "%d", http_port);
        test_pod_init(&pod, "prober");
        test_pod_run(&pod);
        test_ctr_init(&ctr, CTR_NAME, args);
        test_ctr_start(&pod, &ctr);
        for (int i = 0; i < 100 && !port_open(http_port); i++)
                usleep(50 * 1000);
        ASSERT_TRUE(port_open(http_port));
        printf("  sandbox %.12s, container %.12s serving http-ok on 127.0.0.1:%d\n", pod.id, ctr.id, http_port);
}

/* ---- a loop with the CRI's completions dispatched in it ----------------------- */

struct lp {
        struct kl_event *loop;
        struct kl_event_io *cri_io;
};

static void on_cri(struct kl_event_io *io, int fd, uint32_t revents, void *userdata) {
        (void) kl_cri_dispatch(userdata);
}

static void lp_init(struct lp *l) {
        ASSERT_OK(kl_event_new(&l->loop));
        ASSERT_OK(kl_event_add_io(l->loop, kl_cri_event_fd(cri()), EPOLLIN, on_cri, cri(), &l->cri_io));
}

static void lp_done(struct lp *l) {
        kl_event_io_free(l->cri_io);
        l->loop = kl_event_free(l->loop);
}

struct waiter {
        struct kl_event *loop;
        bool (*cond)(void *);
        void *arg;
        uint64_t end;
        bool ok;
};

static void waiter_tick(struct kl_event_timer *t, uint64_t now, void *userdata) {
        struct waiter *w = userdata;

        if (w->cond(w->arg) || now >= w->end) {
                w->ok = w->cond(w->arg);
                kl_event_exit(w->loop, 0);
                return;
        }
        kl_event_timer_set(t, now + 5 * KL_USEC_PER_MSEC);
}

/* kl_event_run runs once per loop: one wait per lp. */
static bool lp_run(struct lp *l, bool (*cond)(void *), void *arg, unsigned timeout_ms) {
        struct waiter w = {.loop = l->loop, .cond = cond, .arg = arg};
        struct kl_event_timer *t;

        w.end = kl_now_usec() + (uint64_t) timeout_ms * KL_USEC_PER_MSEC;
        ASSERT_OK(kl_event_add_timer(l->loop, kl_now_usec(), waiter_tick, &w, &t));
        ASSERT_OK(kl_event_run(l->loop));
        kl_event_timer_free(t);
        return w.ok;
}

/* ---- handler ------------------------------------------------------------------ */

struct res {
        int calls;
        enum kl_handler_result result;
        char msg[KL_HANDLER_OUTPUT_MAX + 512];
        uint64_t start, at;
};

static void record(enum kl_handler_result result, const char *message, void *userdata) {
        struct res *r = userdata;

        r->calls++;
        r->result = result;
        r->at = kl_now_usec();
        snprintf(r->msg, sizeof(r->msg), "%s", message);
}

static bool called(void *arg) {
        return ((struct res *) arg)->calls > 0;
}

/* Run one handler in a fresh loop and wait for it. */
static void run_handler(struct kl_handler *h, const char *container_id, uint64_t timeout_usec, struct res *r) {
        struct kl_handler_params p = {
                .cri = cri(),
                .container_id = container_id,
                .default_host = "127.0.0.1",
                .timeout_usec = timeout_usec,
        };
        struct lp l;

        lp_init(&l);
        p.loop = l.loop;
        memset(r, 0, sizeof(*r));
        r->start = kl_now_usec();
        ASSERT_OK(kl_handler_run(h, &p, record, r, NULL));
        ASSERT_TRUE(lp_run(&l, called, r, 30000));
        ASSERT_EQ(r->calls, 1);
        lp_done(&l);
}

static void run_exec(char **cmd, const char *container_id, uint64_t timeout_usec, struct res *r) {
        struct kl_handler h = {.kind = KL_HANDLER_EXEC, .exec_command = cmd};
        run_handler(&h, container_id, timeout_usec, r);
}

TEST(exec_success_and_failure) {
        char *echo[] = {(char *) "echo", (char *) "hi", NULL};
        char *fail[] = {(char *) "sh", (char *) "-c", (char *) "echo out; echo err >&2; exit 3", NULL};
        char *missing[] = {(char *) "/no/such/binary", NULL};
        struct res r;

        setup();
        run_exec(echo, ctr.id, 5 * KL_USEC_PER_SEC, &r);
        ASSERT_EQ(r.result, KL_HANDLER_SUCCESS);
        ASSERT_STREQ(r.msg, "hi\n");
        printf("  exec 'echo hi' -> success \"hi\\n\" in %.0f ms\n", (double) (r.at - r.start) / 1000.0);

        run_exec(fail, ctr.id, 5 * KL_USEC_PER_SEC, &r);
        ASSERT_EQ(r.result, KL_HANDLER_FAILURE);
        ASSERT_STREQ(r.msg, "command 'sh -c echo out; echo err >&2; exit 3' exited with 3: out\nerr\n");
        printf("  exec exit 3 -> failure with stdout and stderr in the message\n");

        run_exec(missing, ctr.id, 5 * KL_USEC_PER_SEC, &r);
        printf("  exec of a missing binary -> %s '%s'\n", kl_handler_result_to_string(r.result), r.msg);
        ASSERT_NE(r.result, KL_HANDLER_SUCCESS);
}

TEST(exec_output_capped) {
        char *big[] = {(char *) "sh", (char *) "-c", (char *) "head -c 30000 /dev/zero | tr '\\0' a", NULL};
        struct res r;

        setup();
        run_exec(big, ctr.id, 5 * KL_USEC_PER_SEC, &r);
        ASSERT_EQ(r.result, KL_HANDLER_SUCCESS);
        ASSERT_EQ(strlen(r.msg), KL_HANDLER_OUTPUT_MAX);
        printf("  30000 bytes of output -> message of %zu bytes\n", strlen(r.msg));
}

TEST(exec_timeout) {
        char *slow[] = {(char *) "sleep", (char *) "5", NULL};
        struct res r;
        double ms;

        setup();
        run_exec(slow, ctr.id, 1 * KL_USEC_PER_SEC, &r);
        ms = (double) (r.at - r.start) / 1000.0;
        printf("  exec 'sleep 5' with a 1 s timeout -> %s after %.0f ms: '%s'\n", kl_handler_result_to_string(r.result),
               ms, r.msg);
        ASSERT_EQ(r.result, KL_HANDLER_FAILURE);
        ASSERT_STREQ(r.msg, "command 'sleep 5' timed out");
        ASSERT_GE(ms, 900);
        ASSERT_LE(ms, 2500);
}

TEST(exec_unknown_container_is_error) {
        char *cmd[] = {(char *) "true", NULL};
        struct res r;

        setup();
        run_exec(cmd, "0000000000000000000000000000000000000000000000000000000000000000", 5 * KL_USEC_PER_SEC, &r);
        ASSERT_EQ(r.result, KL_HANDLER_ERROR);
        ASSERT_CONTAINS(r.msg, "ExecSync");
        printf("  exec in an unknown container -> error '%s'\n", r.msg);
}

static bool cri_idle(void *arg) {
        return kl_cri_n_pending(cri()) == 0;
}

TEST(exec_cancel_then_late_completion) {
        char *cmd[] = {(char *) "sleep", (char *) "1", NULL};
        struct kl_handler h = {.kind = KL_HANDLER_EXEC, .exec_command = cmd};
        struct kl_handler_params p = {.cri = cri(), .timeout_usec = 5 * KL_USEC_PER_SEC};
        struct kl_handler_call *call;
        struct res r = {};
        struct lp l;
        uint64_t start = kl_now_usec();

        setup();
        p.container_id = ctr.id;
        lp_init(&l);
        p.loop = l.loop;
        ASSERT_OK(kl_handler_run(&h, &p, record, &r, &call));
        ASSERT_EQ(kl_cri_n_pending(cri()), 1);
        kl_handler_cancel(call);
        ASSERT_TRUE(lp_run(&l, cri_idle, NULL, 10000));
        ASSERT_EQ(r.calls, 0);
        ASSERT_GE(kl_now_usec() - start, 900 * KL_USEC_PER_MSEC); /* the exec really ran */
        printf("  cancelled 'sleep 1': ExecSync completed after %.0f ms and was dropped, no callback\n",
               (double) (kl_now_usec() - start) / 1000.0);
        lp_done(&l);
}

TEST(http_get_against_container) {
        struct kl_handler h = {.kind = KL_HANDLER_HTTP_GET, .path = (char *) "/healthz"};
        struct res r;

        setup();
        h.port = http_port;
        run_handler(&h, ctr.id, 2 * KL_USEC_PER_SEC, &r);
        ASSERT_EQ(r.result, KL_HANDLER_SUCCESS);
        ASSERT_STREQ(r.msg, "ok");
        h.path = (char *) "/nope";
        run_handler(&h, ctr.id, 2 * KL_USEC_PER_SEC, &r);
        ASSERT_EQ(r.result, KL_HANDLER_FAILURE);
        ASSERT_STREQ(r.msg, "HTTP probe failed with statuscode: 404");
        printf("  httpGet 127.0.0.1:%d/healthz -> success 'ok'; /nope -> '%s'\n", http_port, r.msg);
}

/* ---- prober --------------------------------------------------------------------- */

struct ev {
        enum kl_probe_kind kind;
        bool success;
        char msg[256];
        uint64_t at;
};

struct story {
        struct kl_prober *pr;
        struct kl_handler_params p;
        struct ev ev[16];
        int n;
        uint64_t t0;
        struct res side; /* the exec that breaks the container next */
};

static void on_probe(void *userdata, const char *uid, const char *name, const char *id, enum kl_probe_kind kind,
                     bool success, const char *message) {
        static char *make_unhealthy[] = {(char *) "touch", (char *) "/tmp/unhealthy", NULL};
        static char *make_dead[] = {(char *) "touch", (char *) "/tmp/dead", NULL};
        static struct kl_handler h = {.kind = KL_HANDLER_EXEC};
        struct story *s = userdata;
        struct ev *e;

        if (s->n >= (int) ELEMENTSOF(s->ev))
                return;
        e = &s->ev[s->n++];
        e->kind = kind;
        e->success = success;
        e->at = kl_now_usec();
        snprintf(e->msg, sizeof(e->msg), "%s", message);
        printf("  +%5.0f ms  %s %s for %s/%s: '%s'\n", (double) (e->at - s->t0) / 1000.0, kl_probe_kind_to_string(kind),
               success ? "true" : "false", uid, name, message);
        ASSERT_STREQ(name, CTR_NAME);
        ASSERT_STREQ(id, ctr.id);

        /* Ready: make http-ok answer 500. Not ready: make liveness fail. */
        if (kind == KL_PROBE_READINESS) {
                h.exec_command = success ? make_unhealthy : make_dead;
                ASSERT_OK(kl_handler_run(&h, &s->p, record, &s->side, NULL));
        }
}

static bool liveness_failed(void *arg) {
        struct story *s = arg;
        for (int i = 0; i < s->n; i++)
                if (s->ev[i].kind == KL_PROBE_LIVENESS || (s->ev[i].kind == KL_PROBE_STARTUP && !s->ev[i].success))
                        return true;
        return false;
}

TEST(prober_story) {
        char *startup_cmd[] = {(char *) "sh", (char *) "-c", (char *) "test \"$(KL_TEST)\" = " CTR_NAME, NULL};
        char *liveness_cmd[] = {(char *) "sh", (char *) "-c", (char *) "test ! -e /tmp/dead", NULL};
        struct kl_env env[] = {{.name = (char *) "KL_TEST", .value = (char *) CTR_NAME}};
        struct kl_container spec = {.name = (char *) CTR_NAME, .env = env, .n_env = 1};
        struct story s = {};
        struct lp l;
        bool v;

        setup();
        spec.startup = (struct kl_probe){.set = true,
                                         .handler = {.kind = KL_HANDLER_EXEC, .exec_command = startup_cmd},
                                         .timeout_seconds = 2,
                                         .period_seconds = 1,
                                         .success_threshold = 1,
                                         .failure_threshold = 3};
        spec.readiness =
                (struct kl_probe){.set = true,
                                  .handler = {.kind = KL_HANDLER_HTTP_GET, .path = (char *) "/", .port = http_port},
                                  .timeout_seconds = 1,
                                  .period_seconds = 1,
                                  .success_threshold = 1,
                                  .failure_threshold = 2};
        spec.liveness = (struct kl_probe){.set = true,
                                          .handler = {.kind = KL_HANDLER_EXEC, .exec_command = liveness_cmd},
                                          .timeout_seconds = 2,
                                          .period_seconds = 1,
                                          .success_threshold = 1,
                                          .failure_threshold = 2};
        lp_init(&l);
        s.p = (struct kl_handler_params){
                .loop = l.loop, .cri = cri(), .container_id = ctr.id, .timeout_usec = 5 * KL_USEC_PER_SEC};
        ASSERT_OK(kl_prober_new(l.loop, cri(), on_probe, &s, &s.pr));
        s.t0 = kl_now_usec();
        ASSERT_OK(kl_prober_add_container(s.pr, pod.uid, &spec, ctr.id, "127.0.0.1", 0));
        ASSERT_OK(kl_prober_get(s.pr, ctr.id, KL_PROBE_STARTUP, &v));
        ASSERT_FALSE(v);
        ASSERT_TRUE(lp_run(&l, liveness_failed, &s, 30000));

        ASSERT_EQ(s.n, 4);
        ASSERT_EQ(s.ev[0].kind, KL_PROBE_STARTUP); /* $(KL_TEST) was expanded */
        ASSERT_TRUE(s.ev[0].success);
        ASSERT_EQ(s.ev[1].kind, KL_PROBE_READINESS);
        ASSERT_TRUE(s.ev[1].success);
        ASSERT_STREQ(s.ev[1].msg, "ok");
        ASSERT_EQ(s.ev[2].kind, KL_PROBE_READINESS);
        ASSERT_FALSE(s.ev[2].success);
        ASSERT_STREQ(s.ev[2].msg, "HTTP probe failed with statuscode: 500");
        ASSERT_EQ(s.ev[3].kind, KL_PROBE_LIVENESS);
        ASSERT_FALSE(s.ev[3].success);
        ASSERT_STREQ(s.ev[3].msg, "command 'sh -c test ! -e /tmp/dead' exited with 1: ");
        ASSERT_OK(kl_prober_get(s.pr, ctr.id, KL_PROBE_LIVENESS, &v));
        ASSERT_FALSE(v);
        ASSERT_OK(kl_prober_get(s.pr, ctr.id, KL_PROBE_READINESS, &v));
        ASSERT_FALSE(v);
        printf("  startup ($(KL_TEST) expanded) -> ready -> not ready (500) -> liveness failed (restart signal)\n");
        s.pr = kl_prober_free(s.pr);
        lp_done(&l);
}

TEST(remove_pod) {
        setup();
        ASSERT_OK(kl_cri_stop_container(cri(), ctr.id, 5, NULL));
        test_pod_destroy(&pod);
        free(ctr.id);
        ctr.id = NULL;
}

TEST_MAIN()
