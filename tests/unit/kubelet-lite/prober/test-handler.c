/* SPDX-License-Identifier: Apache-2.0 */
/* kubelet-lite/handler against real sockets on 127.0.0.1: an HTTP server and
 * TCP listeners served from the same event loop, closed ports, timeouts,
 * cancellation, and exec against a runtime that is not there. */
#include "kubelet-lite/prober/handler.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include "runtime/cri.h"
#include "tests/unit/kubelet-lite/prober/probe-server.h"

struct result {
        int calls;
        enum kl_handler_result result;
        char msg[KL_HANDLER_OUTPUT_MAX + 512];
        uint64_t at;
};

static void record(enum kl_handler_result result, const char *message, void *userdata) {
        struct result *r = userdata;

        r->calls++;
        r->result = result;
        r->at = kl_now_usec();
        snprintf(r->msg, sizeof(r->msg), "%s", message);
}

static bool called(void *arg) {
        return ((struct result *) arg)->calls > 0;
}

struct env {
        struct kl_event *loop;
        struct srv srv;
        struct kl_handler h;
        struct kl_handler_params p;
        struct result res;
        char url[128];
};

static void env_init(struct env *e, enum kl_handler_kind kind, const char *path) {
        memset(e, 0, sizeof(*e));
        ASSERT_OK(kl_event_new(&e->loop));
        srv_start(&e->srv, e->loop);
        e->h.kind = kind;
        e->h.path = (char *) path;
        e->h.port = e->srv.port;
        e->p.loop = e->loop;
        e->p.default_host = "127.0.0.1";
        e->p.timeout_usec = 2 * KL_USEC_PER_SEC;
        snprintf(e->url, sizeof(e->url), "http://127.0.0.1:%d%s", e->srv.port, path ? path : "/");
}

static void env_done(struct env *e) {
        srv_stop(&e->srv);
        e->loop = kl_event_free(e->loop);
}

/* Run h once, wait for the callback. */
static void run_once(struct env *e) {
        ASSERT_OK(kl_handler_run(&e->h, &e->p, record, &e->res, NULL));
        ASSERT_EQ(e->res.calls, 0); /* never from inside kl_handler_run */
        ASSERT_TRUE(run_loop(e->loop, called, &e->res, 5000));
        ASSERT_EQ(e->res.calls, 1);
}

/* ---- httpGet ----------------------------------------------------------------- */

TEST(http_200_is_success_with_upstream_request) {
        struct env e;
        char want[128];

        env_init(&e, KL_HANDLER_HTTP_GET, "/ok");
        run_once(&e);
        ASSERT_EQ(e.res.result, KL_HANDLER_SUCCESS);
        ASSERT_STREQ(e.res.msg, "ok");
        ASSERT_CONTAINS(e.srv.last_request, "GET /ok HTTP/1.1\r\n");
        snprintf(want, sizeof(want), "\r\nHost: 127.0.0.1:%d\r\n", e.srv.port);
        ASSERT_CONTAINS(e.srv.last_request, want);
        ASSERT_CONTAINS(e.srv.last_request, "\r\nUser-Agent: kube-probe/1.25\r\n");
        ASSERT_CONTAINS(e.srv.last_request, "\r\nAccept: */*\r\n");
        ASSERT_CONTAINS(e.srv.last_request, "\r\nConnection: close\r\n\r\n");
        printf("  GET /ok -> success 'ok'; request had Host, User-Agent kube-probe/1.25, Accept */*, Connection: close\n");
        env_done(&e);
}

TEST(http_500_is_failure_without_body) {
        struct env e;

        env_init(&e, KL_HANDLER_HTTP_GET, "/fail");
        run_once(&e);
        ASSERT_EQ(e.res.result, KL_HANDLER_FAILURE);
        ASSERT_STREQ(e.res.msg, "HTTP probe failed with statuscode: 500");
        printf("  GET /fail -> failure '%s'\n", e.res.msg);
        env_done(&e);
}

TEST(http_404_is_failure) {
        struct env e;

        env_init(&e, KL_HANDLER_HTTP_GET, "/nothing-here");
        run_once(&e);
        ASSERT_EQ(e.res.result, KL_HANDLER_FAILURE);
        ASSERT_STREQ(e.res.msg, "HTTP probe failed with statuscode: 404");
        env_done(&e);
}

TEST(http_redirect_not_followed_is_success) {
        struct env e;

        env_init(&e, KL_HANDLER_HTTP_GET, "/redirect");
        run_once(&e);
        ASSERT_EQ(e.res.result, KL_HANDLER_SUCCESS);
        ASSERT_STREQ(e.res.msg, "Probe terminated redirects, Response body: moved");
        ASSERT_EQ(e.srv.requests, 1);
        printf("  302 -> success, not followed: '%s'\n", e.res.msg);
        env_done(&e);
}

TEST(http_custom_headers_override_defaults) {
        struct kl_kv hdrs[] = {
                {(char *) "X-Custom", (char *) "one"},      {(char *) "host", (char *) "example.com"},
                {(char *) "User-Agent", (char *) "mine/2"}, {(char *) "Accept", (char *) ""},
                {(char *) "X-Custom", (char *) "two"},
        };
        struct env e;

        env_init(&e, KL_HANDLER_HTTP_GET, "/echo");
        e.h.http_headers = hdrs;
        e.h.n_http_headers = ELEMENTSOF(hdrs);
        run_once(&e);
        ASSERT_EQ(e.res.result, KL_HANDLER_SUCCESS);
        ASSERT_CONTAINS(e.srv.last_request, "\r\nHost: example.com\r\n");
        ASSERT_CONTAINS(e.srv.last_request, "\r\nUser-Agent: mine/2\r\n");
        ASSERT_CONTAINS(e.srv.last_request, "\r\nX-Custom: one\r\n");
        ASSERT_CONTAINS(e.srv.last_request, "\r\nX-Custom: two\r\n");
        ASSERT_NULL(strstr(e.srv.last_request, "kube-probe"));
        ASSERT_NULL(strstr(e.srv.last_request, "Accept"));
        ASSERT_NULL(strstr(e.srv.last_request, "127.0.0.1"));
        /* the body echoes the head back */
        ASSERT_CONTAINS(e.res.msg, "GET /echo HTTP/1.1");
        printf("  Host, User-Agent overridden, empty Accept dropped, repeated X-Custom kept\n");
        env_done(&e);
}

TEST(http_invalid_header_is_error) {
        struct kl_kv hdrs[] = {{(char *) "X-Evil", (char *) "a\r\nInjected: 1"}};
        struct env e;

        env_init(&e, KL_HANDLER_HTTP_GET, "/ok");
        e.h.http_headers = hdrs;
        e.h.n_http_headers = 1;
        run_once(&e);
        ASSERT_EQ(e.res.result, KL_HANDLER_ERROR);
        ASSERT_STREQ(e.res.msg, "invalid HTTP header 'X-Evil'");
        ASSERT_EQ(e.srv.accepted, 0);
        env_done(&e);
}

TEST(http_path_default_relative_and_escaped) {
        struct env e;

        env_init(&e, KL_HANDLER_HTTP_GET, NULL);
        run_once(&e);
        ASSERT_CONTAINS(e.srv.last_request, "GET / HTTP/1.1\r\n");
        env_done(&e);

        env_init(&e, KL_HANDLER_HTTP_GET, "echo");
        run_once(&e);
        ASSERT_EQ(e.res.result, KL_HANDLER_SUCCESS);
        ASSERT_CONTAINS(e.srv.last_request, "GET /echo HTTP/1.1\r\n");
        env_done(&e);

        env_init(&e, KL_HANDLER_HTTP_GET, "/a b\r\nX: y?q=1");
        run_once(&e);
        ASSERT_CONTAINS(e.srv.last_request, "GET /a%20b%0D%0AX:%20y?q=1 HTTP/1.1\r\n");
        ASSERT_EQ(e.res.result, KL_HANDLER_FAILURE); /* 404 */
        printf("  no path -> '/', 'echo' -> '/echo', spaces and CR LF escaped\n");
        env_done(&e);
}

TEST(http_timeout_while_awaiting_headers) {
        struct env e;
        uint64_t start = kl_now_usec();
        char want[256];

        env_init(&e, KL_HANDLER_HTTP_GET, "/slow");
        e.p.timeout_usec = 300 * KL_USEC_PER_MSEC;
        run_once(&e);
        ASSERT_EQ(e.res.result, KL_HANDLER_FAILURE);
        snprintf(want, sizeof(want),
                 "Get \"%s\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)", e.url);
        ASSERT_STREQ(e.res.msg, want);
        ASSERT_GE(e.res.at - start, 300 * KL_USEC_PER_MSEC);
        ASSERT_LE(e.res.at - start, 1500 * KL_USEC_PER_MSEC);
        ASSERT_EQ(e.srv.hits_slow, 1);
        printf("  /slow with 300 ms -> failure after %.0f ms: '%s'\n", (double) (e.res.at - start) / 1000.0, e.res.msg);
        env_done(&e);
}

TEST(http_body_capped_at_10k) {
        struct env e;

        env_init(&e, KL_HANDLER_HTTP_GET, "/big");
        run_once(&e);
        ASSERT_EQ(e.res.result, KL_HANDLER_SUCCESS);
        ASSERT_EQ(strlen(e.res.msg), KL_HANDLER_OUTPUT_MAX);
        printf("  20000-byte body -> message of %zu bytes\n", strlen(e.res.msg));
        env_done(&e);
}

TEST(http_framing_variants) {
        struct env e;

        env_init(&e, KL_HANDLER_HTTP_GET, "/nolength");
        run_once(&e);
        ASSERT_EQ(e.res.result, KL_HANDLER_SUCCESS);
        ASSERT_STREQ(e.res.msg, "xyz");
        env_done(&e);

        /* 204 has no body: done without waiting for the close */
        env_init(&e, KL_HANDLER_HTTP_GET, "/nocontent");
        e.p.timeout_usec = 3 * KL_USEC_PER_SEC;
        run_once(&e);
        ASSERT_EQ(e.res.result, KL_HANDLER_SUCCESS);
        env_done(&e);

        /* 100 Continue is skipped; Content-Length ends the body */
        env_init(&e, KL_HANDLER_HTTP_GET, "/continue");
        e.p.timeout_usec = 3 * KL_USEC_PER_SEC;
        run_once(&e);
        ASSERT_EQ(e.res.result, KL_HANDLER_SUCCESS);
        ASSERT_STREQ(e.res.msg, "ok");
        env_done(&e);

        env_init(&e, KL_HANDLER_HTTP_GET, "/garbage");
        run_once(&e);
        ASSERT_EQ(e.res.result, KL_HANDLER_FAILURE);
        ASSERT_CONTAINS(e.res.msg, "malformed HTTP response \"SSH-2.0-OpenSSH_9.2\"");
        printf("  no Content-Length, 204 kept open, 100 then 200 kept open, garbage -> '%s'\n", e.res.msg);
        env_done(&e);
}

TEST(http_connection_refused) {
        struct env e;
        char want[256];
        int port = closed_port();

        env_init(&e, KL_HANDLER_HTTP_GET, "/healthz");
        e.h.port = port;
        run_once(&e);
        ASSERT_EQ(e.res.result, KL_HANDLER_FAILURE);
        snprintf(want, sizeof(want),
                 "Get \"http://127.0.0.1:%d/healthz\": dial tcp 127.0.0.1:%d: connect: connection refused", port, port);
        ASSERT_STREQ(e.res.msg, want);
        printf("  %s\n", e.res.msg);
        env_done(&e);
}

TEST(http_https_is_error) {
        struct env e;

        env_init(&e, KL_HANDLER_HTTP_GET, "/ok");
        e.h.scheme = (char *) "HTTPS";
        run_once(&e);
        ASSERT_EQ(e.res.result, KL_HANDLER_ERROR);
        ASSERT_STREQ(e.res.msg, "https probes are not supported");
        ASSERT_EQ(e.srv.accepted, 0);
        env_done(&e);
}

TEST(http_named_port_and_hosts) {
        struct kl_port ports[] = {{.name = (char *) "metrics", .container_port = 1},
                                  {.name = (char *) "web", .container_port = 0}};
        struct kl_container ctr = {.name = (char *) "c", .ports = ports, .n_ports = 2};
        struct env e;

        env_init(&e, KL_HANDLER_HTTP_GET, "/ok");
        ports[1].container_port = e.srv.port;
        e.h.port = 0;
        e.h.port_name = (char *) "web";
        e.p.container = &ctr;
        run_once(&e);
        ASSERT_EQ(e.res.result, KL_HANDLER_SUCCESS);
        env_done(&e);

        env_init(&e, KL_HANDLER_HTTP_GET, "/ok");
        e.h.port = 0;
        e.h.port_name = (char *) "nope";
        e.p.container = &ctr;
        run_once(&e);
        ASSERT_EQ(e.res.result, KL_HANDLER_ERROR);
        ASSERT_STREQ(e.res.msg, "port \"nope\" not found");
        env_done(&e);

        /* the handler's host wins over the default host */
        env_init(&e, KL_HANDLER_HTTP_GET, "/ok");
        e.h.host = (char *) "127.0.0.1";
        e.p.default_host = "192.0.2.1";
        run_once(&e);
        ASSERT_EQ(e.res.result, KL_HANDLER_SUCCESS);
        env_done(&e);

        env_init(&e, KL_HANDLER_HTTP_GET, "/ok");
        e.h.host = (char *) "localhost";
        run_once(&e);
        ASSERT_EQ(e.res.result, KL_HANDLER_ERROR);
        ASSERT_STREQ(e.res.msg, "host 'localhost' is not an IP address (host names are not supported)");
        env_done(&e);

        env_init(&e, KL_HANDLER_HTTP_GET, "/ok");
        e.p.default_host = NULL;
        run_once(&e);
        ASSERT_EQ(e.res.result, KL_HANDLER_ERROR);
        printf("  named port 'web' -> success; 'nope' -> error; handler host wins; 'localhost' and no host -> error\n");
        env_done(&e);
}

TEST(http_ipv6_loopback) {
        struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
        socklen_t len = sizeof(a);
        struct env e;
        int fd;

        fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *) &a, sizeof(a)) < 0 || listen(fd, 4) < 0) {
                if (fd >= 0)
                        close(fd);
                SKIP("no IPv6 loopback here");
        }
        ASSERT_OK(getsockname(fd, (struct sockaddr *) &a, &len));
        env_init(&e, KL_HANDLER_TCP_SOCKET, NULL);
        e.h.port = ntohs(a.sin6_port);
        e.h.host = (char *) "[::1]";
        run_once(&e);
        ASSERT_EQ(e.res.result, KL_HANDLER_SUCCESS);
        printf("  tcpSocket to [::1]:%d -> success\n", e.h.port);
        close(fd);
        env_done(&e);
}

TEST(lifecycle_http_any_status_succeeds) {
        struct env e;

        env_init(&e, KL_HANDLER_HTTP_GET, "/fail");
        e.p.lifecycle = true;
        run_once(&e);
        ASSERT_EQ(e.res.result, KL_HANDLER_SUCCESS);
        ASSERT_CONTAINS(e.srv.last_request, "\r\nUser-Agent: kube-lifecycle/1.25\r\n");
        printf("  lifecycle hook: 500 -> success, User-Agent kube-lifecycle/1.25\n");
        env_done(&e);
}

/* ---- tcpSocket ------------------------------------------------------------------ */

TEST(tcp_listener_success_and_refused) {
        struct env e;
        char want[128];
        int port = closed_port();

        env_init(&e, KL_HANDLER_TCP_SOCKET, NULL);
        run_once(&e);
        ASSERT_EQ(e.res.result, KL_HANDLER_SUCCESS);
        ASSERT_STREQ(e.res.msg, "");
        env_done(&e);

        env_init(&e, KL_HANDLER_TCP_SOCKET, NULL);
        e.h.port = port;
        run_once(&e);
        ASSERT_EQ(e.res.result, KL_HANDLER_FAILURE);
        snprintf(want, sizeof(want), "dial tcp 127.0.0.1:%d: connect: connection refused", port);
        ASSERT_STREQ(e.res.msg, want);
        printf("  listener -> success; closed port -> '%s'\n", e.res.msg);
        env_done(&e);
}

/* A listener whose accept queue is full drops SYNs, so connect hangs. */
TEST(tcp_connect_timeout) {
        int port, lfd = listen_local(0, &port), fillers[8], n = 0;
        struct env e;
        char want[128];
        uint64_t start;

        for (int i = 0; i < 8; i++) {
                struct sockaddr_in a = {.sin_family = AF_INET,
                                        .sin_port = htons((uint16_t) port),
                                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
                fillers[n] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
                (void) connect(fillers[n], (struct sockaddr *) &a, sizeof(a));
                n++;
        }
        usleep(50 * 1000);
        env_init(&e, KL_HANDLER_TCP_SOCKET, NULL);
        e.h.port = port;
        e.p.timeout_usec = 300 * KL_USEC_PER_MSEC;
        start = kl_now_usec();
        run_once(&e);
        for (int i = 0; i < n; i++)
                close(fillers[i]);
        close(lfd);
        if (e.res.result == KL_HANDLER_SUCCESS)
                SKIP("the kernel accepted the connection despite a full backlog");
        ASSERT_EQ(e.res.result, KL_HANDLER_FAILURE);
        snprintf(want, sizeof(want), "dial tcp 127.0.0.1:%d: i/o timeout", port);
        ASSERT_STREQ(e.res.msg, want);
        ASSERT_GE(e.res.at - start, 300 * KL_USEC_PER_MSEC);
        printf("  full backlog -> '%s' after %.0f ms\n", e.res.msg, (double) (e.res.at - start) / 1000.0);
        env_done(&e);
}

/* ---- sleep ------------------------------------------------------------------------ */

TEST(sleep_handler) {
        struct env e;
        uint64_t start;

        env_init(&e, KL_HANDLER_SLEEP, NULL);
        e.h.sleep_seconds = 1;
        e.p.timeout_usec = 0;
        start = kl_now_usec();
        run_once(&e);
        ASSERT_EQ(e.res.result, KL_HANDLER_SUCCESS);
        ASSERT_GE(e.res.at - start, KL_USEC_PER_SEC);
        ASSERT_LE(e.res.at - start, 1500 * KL_USEC_PER_MSEC);
        env_done(&e);

        env_init(&e, KL_HANDLER_SLEEP, NULL);
        e.h.sleep_seconds = 5;
        e.p.timeout_usec = 200 * KL_USEC_PER_MSEC;
        start = kl_now_usec();
        run_once(&e);
        ASSERT_EQ(e.res.result, KL_HANDLER_FAILURE);
        ASSERT_STREQ(e.res.msg, "container terminated before sleep hook finished");
        ASSERT_LE(e.res.at - start, 1000 * KL_USEC_PER_MSEC);
        printf("  sleep 1 -> success after 1 s; sleep 5 with a 200 ms timeout -> '%s'\n", e.res.msg);
        env_done(&e);
}

/* ---- cancel ------------------------------------------------------------------------ */

static bool srv_has_closed(void *arg) {
        return ((struct srv *) arg)->closed_by_peer > 0;
}

static struct kl_handler_call *victim;
static void cancel_victim(struct kl_event_timer *t, uint64_t now, void *userdata) {
        kl_handler_cancel(victim);
}

TEST(cancel_in_flight_http) {
        struct kl_handler_call *call = NULL;
        struct kl_event_timer *t;
        struct env e;

        /* cancelled outside the loop, after it connected and sent */
        env_init(&e, KL_HANDLER_HTTP_GET, "/slow");
        e.p.timeout_usec = 200 * KL_USEC_PER_MSEC;
        ASSERT_OK(kl_handler_run(&e.h, &e.p, record, &e.res, &call));
        ASSERT_NOT_NULL(call);
        ASSERT_TRUE(run_loop(e.loop, NULL, NULL, 100));
        ASSERT_EQ(e.srv.hits_slow, 1);
        kl_handler_cancel(call);
        env_done(&e);
        ASSERT_EQ(e.res.calls, 0);

        /* cancelled from a timer inside the loop: the server sees the
         * connection go, and the timeout never fires */
        env_init(&e, KL_HANDLER_HTTP_GET, "/slow");
        e.p.timeout_usec = 200 * KL_USEC_PER_MSEC;
        ASSERT_OK(kl_handler_run(&e.h, &e.p, record, &e.res, &victim));
        ASSERT_OK(kl_event_add_timer(e.loop, kl_now_usec() + 50 * KL_USEC_PER_MSEC, cancel_victim, NULL, &t));
        ASSERT_TRUE(run_loop(e.loop, srv_has_closed, &e.srv, 1000));
        /* run past the timeout: no callback */
        kl_event_timer_free(t);
        ASSERT_EQ(e.srv.closed_by_peer, 1);
        ASSERT_EQ(e.res.calls, 0);
        env_done(&e);

        env_init(&e, KL_HANDLER_HTTP_GET, "/slow");
        e.p.timeout_usec = 100 * KL_USEC_PER_MSEC;
        ASSERT_OK(kl_handler_run(&e.h, &e.p, record, &e.res, &victim));
        ASSERT_OK(kl_event_add_timer(e.loop, kl_now_usec() + 50 * KL_USEC_PER_MSEC, cancel_victim, NULL, &t));
        run_loop(e.loop, NULL, NULL, 400);
        kl_event_timer_free(t);
        ASSERT_EQ(e.res.calls, 0);
        printf("  cancelled /slow: no callback, server saw the close, timeout never fired\n");
        env_done(&e);
}

TEST(cancel_before_deferred_result) {
        struct kl_handler_call *call = NULL;
        struct env e;

        /* refused at once: the result waits for the loop; cancel drops it */
        env_init(&e, KL_HANDLER_TCP_SOCKET, NULL);
        e.h.port = closed_port();
        ASSERT_OK(kl_handler_run(&e.h, &e.p, record, &e.res, &call));
        kl_handler_cancel(call);
        run_loop(e.loop, NULL, NULL, 100);
        ASSERT_EQ(e.res.calls, 0);
        env_done(&e);

        env_init(&e, KL_HANDLER_SLEEP, NULL);
        e.h.sleep_seconds = 0;
        ASSERT_OK(kl_handler_run(&e.h, &e.p, record, &e.res, &call));
        kl_handler_cancel(call);
        run_loop(e.loop, NULL, NULL, 100);
        ASSERT_EQ(e.res.calls, 0);
        kl_handler_cancel(NULL);
        printf("  cancel before the loop delivered: no callback\n");
        env_done(&e);
}

static struct kl_handler_call *self_call;
static void cancel_self(enum kl_handler_result result, const char *message, void *userdata) {
        kl_handler_cancel(self_call); /* no-op from inside the callback */
        record(result, message, userdata);
}

TEST(cancel_from_own_callback_is_noop) {
        struct env e;

        env_init(&e, KL_HANDLER_HTTP_GET, "/ok");
        ASSERT_OK(kl_handler_run(&e.h, &e.p, cancel_self, &e.res, &self_call));
        ASSERT_TRUE(run_loop(e.loop, called, &e.res, 2000));
        ASSERT_EQ(e.res.calls, 1);
        ASSERT_EQ(e.res.result, KL_HANDLER_SUCCESS);
        env_done(&e);
}

static struct result many[40];
static bool all_called(void *arg) {
        for (size_t i = 0; i < ELEMENTSOF(many); i++)
                if (many[i].calls == 0)
                        return false;
        return true;
}

TEST(many_concurrent_calls) {
        struct kl_handler h500;
        struct env e;
        int ok = 0, fail = 0;

        memset(many, 0, sizeof(many));
        env_init(&e, KL_HANDLER_HTTP_GET, "/ok");
        h500 = e.h;
        h500.path = (char *) "/fail";
        for (size_t i = 0; i < ELEMENTSOF(many); i++)
                ASSERT_OK(kl_handler_run(i % 2 ? &h500 : &e.h, &e.p, record, &many[i], NULL));
        ASSERT_TRUE(run_loop(e.loop, all_called, NULL, 5000));
        for (size_t i = 0; i < ELEMENTSOF(many); i++) {
                ASSERT_EQ(many[i].calls, 1);
                ASSERT_EQ(many[i].result, i % 2 ? KL_HANDLER_FAILURE : KL_HANDLER_SUCCESS);
                ok += many[i].result == KL_HANDLER_SUCCESS;
                fail += many[i].result == KL_HANDLER_FAILURE;
        }
        ASSERT_EQ(e.srv.requests, (int) ELEMENTSOF(many));
        printf("  %zu calls at once: %d success, %d failure, one callback each\n", ELEMENTSOF(many), ok, fail);
        env_done(&e);
}

/* ---- exec without a runtime --------------------------------------------------------- */

static void on_cri(struct kl_event_io *io, int fd, uint32_t revents, void *userdata) {
        (void) kl_cri_dispatch(userdata);
}

static bool cri_idle(void *arg) {
        return kl_cri_n_pending(arg) == 0;
}

TEST(exec_runtime_down_is_error_and_cancel_survives_late_completion) {
        char *cmd[] = {(char *) "true", NULL};
        struct kl_cri *cri = NULL;
        struct kl_handler_call *call;
        struct kl_error err = {};
        struct kl_event_io *cio;
        struct env e;
        sigset_t mask;
        uint64_t start;

        /* grpc starts threads: keep signals on this one */
        sigfillset(&mask);
        pthread_sigmask(SIG_BLOCK, &mask, NULL);
        ASSERT_OK(kl_cri_new("unix:///nonexistent/kl-test.sock", 3000, &cri, &err));

        /* Async CRI calls wait for a connection until their deadline; one
         * second after the exec's timeout the handler calls it an error. */
        env_init(&e, KL_HANDLER_EXEC, NULL);
        e.h.exec_command = cmd;
        e.p.cri = cri;
        e.p.container_id = "0123456789ab";
        e.p.timeout_usec = 300 * KL_USEC_PER_MSEC;
        ASSERT_OK(kl_event_add_io(e.loop, kl_cri_event_fd(cri), EPOLLIN, on_cri, cri, &cio));
        start = kl_now_usec();
        ASSERT_OK(kl_handler_run(&e.h, &e.p, record, &e.res, NULL));
        ASSERT_TRUE(run_loop(e.loop, cri_idle, cri, 8000));
        ASSERT_EQ(e.res.calls, 1);
        ASSERT_EQ(e.res.result, KL_HANDLER_ERROR);
        ASSERT_CONTAINS(e.res.msg, "ExecSync: no answer from the container runtime within 2.0s");
        ASSERT_GE(e.res.at - start, 2 * KL_USEC_PER_SEC);
        printf("  exec (300 ms, rounded up to 1 s) with the runtime down -> error after %.1f s: '%s'; "
               "late completion dropped\n",
               (double) (e.res.at - start) / 1e6, e.res.msg);
        kl_event_io_free(cio);
        env_done(&e);

        /* Cancel at once; the runtime's completion comes later and must be dropped. */
        env_init(&e, KL_HANDLER_EXEC, NULL);
        e.h.exec_command = cmd;
        e.p.cri = cri;
        e.p.container_id = "0123456789ab";
        e.p.timeout_usec = 0; /* the rpc deadline is the client's default, 3 s here */
        ASSERT_OK(kl_event_add_io(e.loop, kl_cri_event_fd(cri), EPOLLIN, on_cri, cri, &cio));
        ASSERT_OK(kl_handler_run(&e.h, &e.p, record, &e.res, &call));
        ASSERT_EQ(kl_cri_n_pending(cri), 1);
        kl_handler_cancel(call);
        ASSERT_TRUE(run_loop(e.loop, cri_idle, cri, 8000));
        ASSERT_EQ(e.res.calls, 0);
        printf("  cancelled exec: the runtime's late completion was dropped, no callback\n");
        kl_event_io_free(cio);
        env_done(&e);

        kl_cri_free(cri);
}

/* ---- arguments ------------------------------------------------------------------------ */

TEST(invalid_arguments) {
        struct kl_handler h = {.kind = KL_HANDLER_EXEC};
        struct kl_handler_params p = {};
        struct result res = {};
        struct kl_event *loop;
        char *cmd[] = {(char *) "true", NULL};

        ASSERT_OK(kl_event_new(&loop));
        p.loop = loop;
        ASSERT_ERR(kl_handler_run(NULL, &p, record, &res, NULL), EINVAL);
        ASSERT_ERR(kl_handler_run(&h, NULL, record, &res, NULL), EINVAL);
        ASSERT_ERR(kl_handler_run(&h, &p, NULL, &res, NULL), EINVAL);
        ASSERT_ERR(kl_handler_run(&h, &p, record, &res, NULL), EINVAL); /* no command, no cri */
        h.exec_command = cmd;
        ASSERT_ERR(kl_handler_run(&h, &p, record, &res, NULL), EINVAL); /* no cri */
        h.kind = KL_HANDLER_NONE;
        ASSERT_ERR(kl_handler_run(&h, &p, record, &res, NULL), EINVAL);
        ASSERT_EQ(res.calls, 0);
        kl_event_free(loop);

        ASSERT_STREQ(kl_handler_result_to_string(KL_HANDLER_SUCCESS), "success");
        ASSERT_STREQ(kl_handler_result_to_string(KL_HANDLER_FAILURE), "failure");
        ASSERT_STREQ(kl_handler_result_to_string(KL_HANDLER_ERROR), "error");
}

TEST(resolve_port) {
        struct kl_port ports[] = {{.name = (char *) "http", .container_port = 8080},
                                  {.name = NULL, .container_port = 9090}};
        struct kl_container c = {.ports = ports, .n_ports = 2};
        struct kl_handler h = {.port = 80};

        ASSERT_EQ(kl_handler_resolve_port(&h, &c), 80);
        ASSERT_EQ(kl_handler_resolve_port(&h, NULL), 80);
        h.port = 0;
        ASSERT_ERR(kl_handler_resolve_port(&h, &c), EINVAL);
        h.port = 65536;
        ASSERT_ERR(kl_handler_resolve_port(&h, &c), EINVAL);
        h.port_name = (char *) "http";
        ASSERT_EQ(kl_handler_resolve_port(&h, &c), 8080);
        h.port_name = (char *) "grpc";
        ASSERT_ERR(kl_handler_resolve_port(&h, &c), ENOENT);
        ASSERT_ERR(kl_handler_resolve_port(&h, NULL), ENOENT);
}

TEST_MAIN()
