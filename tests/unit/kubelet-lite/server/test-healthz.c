/* SPDX-License-Identifier: Apache-2.0 */
/* The healthz thread against real sockets on 127.0.0.1: the test's own
 * thread runs no loop at all (as the daemon's loop when it is busy), and
 * the answers still come, from what was last published. */
#include "kubelet-lite/server/healthz.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/macros.h"
#include "tests/lib/tests.h"

#define SEC KL_USEC_PER_SEC

/* One blocking GET; the status line and body into buf ("" on failure). */
static void get(int port, const char *path, char *buf, size_t n) {
        char req[256];
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t) port)};
        struct timeval tv = {.tv_sec = 5};
        size_t got = 0;

        buf[0] = 0;
        inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
        if (connect(fd, (struct sockaddr *) &a, sizeof(a)) == 0 && write(fd, req, strlen(req)) == (ssize_t) strlen(req))
                for (ssize_t k; got + 1 < n && (k = read(fd, buf + got, n - 1 - got)) > 0;)
                        got += (size_t) k;
        buf[got] = 0;
        close(fd);
}

static bool starts(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

static const char *body(const char *resp) {
        const char *b = strstr(resp, "\r\n\r\n");
        return b ? b + 4 : "";
}

static void block_signals(void) {
        sigset_t all;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, NULL);
}

TEST(answers_without_the_callers_loop) {
        struct kl_healthz *h = NULL;
        char r[4096];

        block_signals();
        ASSERT_OK(kl_healthz_start("127.0.0.1", 0, 60 * SEC, &h));
        int port = kl_healthz_port(h);
        ASSERT_TRUE(port > 0);

        get(port, "/healthz", r, sizeof(r));
        ASSERT_TRUE(starts(r, "HTTP/1.1 200 "));
        ASSERT_STREQ(body(r), "ok");
        get(port, "/healthz/ping", r, sizeof(r));
        ASSERT_STREQ(body(r), "ok");
        get(port, "/nope", r, sizeof(r));
        ASSERT_TRUE(starts(r, "HTTP/1.1 404 "));

        /* nothing published yet: no sync */
        get(port, "/healthz/syncloop", r, sizeof(r));
        ASSERT_TRUE(starts(r, "HTTP/1.1 500 "));
        ASSERT_CONTAINS(body(r), "no successful sync for more than 60s");

        kl_healthz_publish(h, kl_now_usec(), NULL);
        get(port, "/healthz/syncloop", r, sizeof(r));
        ASSERT_TRUE(starts(r, "HTTP/1.1 200 "));
        ASSERT_STREQ(body(r), "ok");

        kl_healthz_publish(h, kl_now_usec(), "ListPodSandbox: rpc error UNAVAILABLE: connection refused");
        get(port, "/healthz/syncloop", r, sizeof(r));
        ASSERT_TRUE(starts(r, "HTTP/1.1 500 "));
        ASSERT_CONTAINS(body(r), "container runtime is down: ListPodSandbox: rpc error UNAVAILABLE");
        get(port, "/healthz", r, sizeof(r));
        ASSERT_STREQ(body(r), "ok"); /* plain /healthz is not about the runtime */

        /* a loop that stopped publishing: its last sync grows old */
        kl_healthz_publish(h, kl_now_usec() - 61 * SEC, NULL);
        get(port, "/healthz/syncloop", r, sizeof(r));
        ASSERT_TRUE(starts(r, "HTTP/1.1 500 "));
        ASSERT_CONTAINS(body(r), "no successful sync");

        /* the same protocol handling as every port (http.c) */
        get(port, "/healthz?verbose=1", r, sizeof(r));
        ASSERT_TRUE(starts(r, "HTTP/1.1 200 "));

        h = kl_healthz_stop(h);
        ASSERT_TRUE(h == NULL);
        get(port, "/healthz", r, sizeof(r));
        ASSERT_STREQ(r, ""); /* stopped: nobody listens */
}

TEST(a_long_runtime_error_is_cut_not_overflowed) {
        struct kl_healthz *h = NULL;
        char r[4096], longmsg[2000];

        block_signals();
        memset(longmsg, 'e', sizeof(longmsg) - 1);
        longmsg[sizeof(longmsg) - 1] = 0;
        ASSERT_OK(kl_healthz_start("127.0.0.1", 0, 60 * SEC, &h));
        kl_healthz_publish(h, kl_now_usec(), longmsg);
        get(kl_healthz_port(h), "/healthz/syncloop", r, sizeof(r));
        ASSERT_TRUE(starts(r, "HTTP/1.1 500 "));
        ASSERT_TRUE(strlen(body(r)) < 600);
        kl_healthz_stop(h);
}

TEST(bind_error_is_returned) {
        struct kl_healthz *h = NULL, *h2 = NULL;
        block_signals();
        ASSERT_OK(kl_healthz_start("127.0.0.1", 0, SEC, &h));
        ASSERT_ERR(kl_healthz_start("127.0.0.1", kl_healthz_port(h), SEC, &h2), EADDRINUSE);
        ASSERT_ERR(kl_healthz_start("not-an-address", 0, SEC, &h2), EINVAL);
        kl_healthz_stop(h);
}

TEST_MAIN()
