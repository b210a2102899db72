/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP server against real sockets on 127.0.0.1: the event loop runs in
 * the test process, clients run in a forked child and report back through a
 * pipe. Timeouts are shortened with kl_http_server_set_timeouts. */
#include "kubelet-lite/server/http.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "lib/macros.h"
#include "tests/lib/tests.h"

#define MSEC KL_USEC_PER_MSEC
#define BIG_BODY (16u << 20)

static struct kl_event *loop;
static struct kl_http_server *srv;
static int port;
static unsigned handled;

static void handler(const char *path, const char *query, struct kl_http_response *resp, void *userdata) {
        handled++;
        if (streq(path, "/big")) {
                char *chunk = malloc(1 << 20);
                memset(chunk, 'x', 1 << 20);
                for (unsigned i = 0; i < BIG_BODY >> 20; i++)
                        kl_buf_append(&resp->body, chunk, 1 << 20);
                free(chunk);
                return;
        }
        if (streq(path, "/missing")) {
                resp->status = 404;
                kl_buf_puts(&resp->body, "404 page not found\n");
                return;
        }
        if (streq(path, "/json")) {
                resp->content_type = "application/json";
                kl_buf_puts(&resp->body, "{}");
                return;
        }
        if (streq(path, "/weird-status")) {
                resp->status = 42;
                return;
        }
        kl_buf_printf(&resp->body, "path=[%s] query=[%s]\n", path, query);
}

static void server_start(uint64_t header_usec, uint64_t write_usec, uint64_t linger_usec) {
        signal(SIGPIPE, SIG_IGN);
        ASSERT_OK(kl_event_new(&loop));
        ASSERT_OK(kl_http_server_new(loop, "127.0.0.1", 0, handler, NULL, &srv));
        kl_http_server_set_timeouts(srv, header_usec, write_usec, linger_usec);
        port = kl_http_server_port(srv);
        ASSERT_TRUE(port > 0);
        handled = 0;
}

static void server_stop(void) {
        srv = kl_http_server_free(srv);
        loop = kl_event_free(loop);
}

/* ---- running clients in a child ---- */

struct collect {
        char *buf;
        size_t len, cap;
};

static void on_pipe(struct kl_event_io *io, int fd, uint32_t revents, void *userdata) {
        struct collect *c = userdata;
        for (;;) {
                if (c->cap - c->len < 65536) {
                        c->cap = c->cap * 2 + 65536;
                        c->buf = realloc(c->buf, c->cap);
                }
                ssize_t n = read(fd, c->buf + c->len, c->cap - c->len - 1);
                if (n > 0) {
                        c->len += (size_t) n;
                        continue;
                }
                if (n < 0 && errno == EAGAIN)
                        return;
                c->buf[c->len] = '\0';
                kl_event_exit(loop, 0); /* EOF: the child is done */
                return;
        }
}

static void on_watchdog(struct kl_event_timer *t, uint64_t now, void *userdata) {
        kl_event_exit(loop, 99);
}

typedef void (*client_fn)(FILE *out, void *arg);

/* Fork a client, run the loop until it finishes, return what it printed. */
static char *run_client(client_fn fn, void *arg) {
        struct collect c = {};
        struct kl_event_io *io;
        struct kl_event_timer *wd;
        int p[2], status;

        ASSERT_OK(pipe2(p, O_CLOEXEC));
        fflush(NULL);
        pid_t pid = fork();
        ASSERT_OK(pid);
        if (pid == 0) {
                close(p[0]);
                FILE *f = fdopen(p[1], "w");
                fn(f, arg);
                fclose(f);
                _exit(0);
        }
        close(p[1]);
        ASSERT_OK(fcntl(p[0], F_SETFL, O_NONBLOCK));
        ASSERT_OK(kl_event_add_io(loop, p[0], EPOLLIN, on_pipe, &c, &io));
        ASSERT_OK(kl_event_add_timer(loop, kl_now_usec() + 60 * KL_USEC_PER_SEC, on_watchdog, NULL, &wd));
        int r = kl_event_run(loop);
        kl_event_io_free(io);
        kl_event_timer_free(wd);
        close(p[0]);
        if (r == 99)
                kill(pid, SIGKILL);
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_EQ(r, 0);
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        if (!c.buf)
                c.buf = calloc(1, 1);
        return c.buf;
}

static void on_settle(struct kl_event_timer *t, uint64_t now, void *userdata) {
        if (kl_http_server_connections(srv) == 0 || now >= *(uint64_t *) userdata)
                kl_event_exit(loop, 0);
        else
                kl_event_timer_set(t, now + 5 * MSEC);
}

/* Run the loop until the server has no connections left, at most max_usec. Returns the time taken. */
static uint64_t settle(uint64_t max_usec) {
        struct kl_event_timer *t;
        uint64_t start = kl_now_usec(), end = start + max_usec;
        ASSERT_OK(kl_event_add_timer(loop, start, on_settle, &end, &t));
        kl_event_run(loop);
        kl_event_timer_free(t);
        return kl_now_usec() - start;
}

static int tcp_connect(int rcvbuf) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t) port)};
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
        struct timeval tv = {.tv_sec = 20};
        if (fd < 0)
                _exit(10);
        if (rcvbuf > 0)
                (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                _exit(11);
        return fd;
}

static void send_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return; /* the server may close early (431, 400): reading tells */
                }
                p += k;
                n -= (size_t) k;
        }
}

/* Read until EOF or error; the error (errno) goes to *ret_err. */
static size_t read_all(int fd, FILE *out, int *ret_err) {
        char buf[65536];
        size_t total = 0;
        *ret_err = 0;
        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        *ret_err = errno;
                        break;
                }
                if (n == 0)
                        break;
                if (out)
                        fwrite(buf, 1, (size_t) n, out);
                total += (size_t) n;
        }
        return total;
}

struct raw {
        const char *data;
        size_t len;
};

static void client_raw(FILE *out, void *arg) {
        struct raw *r = arg;
        int fd = tcp_connect(0), err;
        send_all(fd, r->data, r->len);
        read_all(fd, out, &err);
        if (err)
                fprintf(out, "\n<read error: %s>", strerror(err));
        close(fd);
}

static char *request_n(const char *data, size_t len) {
        struct raw r = {data, len};
        return run_client(client_raw, &r);
}

static char *request(const char *data) {
        return request_n(data, strlen(data));
}

static int status_of(const char *resp) {
        int st = 0;
        if (sscanf(resp, "HTTP/1.1 %d ", &st) != 1)
                return -1;
        return st;
}

static const char *body_of(const char *resp) {
        const char *p = strstr(resp, "\r\n\r\n");
        return p ? p + 4 : NULL;
}

/* ---- the parser on its own ---- */

TEST(parse_request_fields) {
        struct kl_http_request r;
        const char *s = "GET /a%20b%2Fc/%7e?x=%20&y=1?z HTTP/1.1\r\nHost: example\r\nX-Empty:\r\n\r\nBODY";
        int n = kl_http_parse_request(s, strlen(s), &r);
        ASSERT_EQ(n, (int) strlen(s) - 4);
        ASSERT_FALSE(r.head);
        ASSERT_EQ(r.minor, 1);
        ASSERT_STREQ(r.path, "/a b/c/~");
        ASSERT_STREQ(r.query, "x=%20&y=1?z");

        s = "HEAD /p? HTTP/1.0\n\n";
        ASSERT_EQ(kl_http_parse_request(s, strlen(s), &r), (int) strlen(s));
        ASSERT_TRUE(r.head);
        ASSERT_EQ(r.minor, 0);
        ASSERT_STREQ(r.path, "/p");
        ASSERT_STREQ(r.query, "");
        printf("  path percent-decoded, query split at the first '?' and left raw, LF-only lines accepted\n");
}

TEST(parse_every_prefix_is_incomplete) {
        struct kl_http_request r;
        const char *s = "GET /x?y HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n";
        size_t n = strlen(s);
        for (size_t i = 0; i < n; i++)
                ASSERT_EQ(kl_http_parse_request(s, i, &r), 0);
        ASSERT_EQ(kl_http_parse_request(s, n, &r), (int) n);
        /* Resumed on a growing buffer, byte by byte: same answer. */
        size_t state = 0;
        for (size_t i = 0; i < n; i++)
                ASSERT_EQ(kl_http_parse_request_resume(s, i, &state, &r), 0);
        ASSERT_EQ(kl_http_parse_request_resume(s, n, &state, &r), (int) n);
        ASSERT_STREQ(r.path, "/x");
        ASSERT_STREQ(r.query, "y");
}

TEST(parse_errors) {
        struct {
                const char *req;
                int err;
        } cases[] = {
                {"POST / HTTP/1.1\r\n\r\n", EOPNOTSUPP},
                {"PUT /x HTTP/1.1\r\n\r\n", EOPNOTSUPP},
                {"DELETE /x HTTP/1.1\r\n\r\n", EOPNOTSUPP},
                {"get / HTTP/1.1\r\n\r\n", EOPNOTSUPP}, /* methods are case-sensitive */
                {"POST ", EOPNOTSUPP},                  /* known as soon as the method is */
                {"GET / HTTP/2.0\r\n\r\n", EPROTONOSUPPORT},
                {"GET / HTTP/0.9\r\n\r\n", EPROTONOSUPPORT},
                {"GARBAGE\r\n\r\n", EBADMSG},
                {"GET\r\n\r\n", EBADMSG},
                {"GET  / HTTP/1.1\r\n\r\n", EBADMSG},
                {"GET / HTTP/1.1 extra\r\n\r\n", EBADMSG},
                {"GET / HTTP/1.1\r\r\n", EBADMSG},
                {"GET http://x/ HTTP/1.1\r\n\r\n", EBADMSG},
                {"GET * HTTP/1.1\r\n\r\n", EBADMSG},
                {"GET / FTP/1.0\r\n\r\n", EBADMSG},
                {"GET / HTTP/1.x\r\n\r\n", EBADMSG},
                {"GET /%zz HTTP/1.1\r\n\r\n", EBADMSG},
                {"GET /%4 HTTP/1.1\r\n\r\n", EBADMSG},
                {"GET /%00 HTTP/1.1\r\n\r\n", EBADMSG},
                {"GET /\x80 HTTP/1.1\r\n\r\n", EBADMSG},
                {"GET /a\tb HTTP/1.1\r\n\r\n", EBADMSG},
                {"GET / HTTP/1.1\r\nNoColon\r\n\r\n", EBADMSG},
                {"GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", EBADMSG},
                {"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", EBADMSG},
                {"GET / HTTP/1.1\r\n: empty-name\r\n\r\n", EBADMSG},
                {"GET / HTTP/1.1\r\nA: b\x01\r\n\r\n", EBADMSG},
                {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", EBADMSG}, /* TLS ClientHello */
                {"AVERYLONGMETHODNAMEXX", EBADMSG},
        };
        struct kl_http_request r;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int got = kl_http_parse_request(cases[i].req, strlen(cases[i].req), &r);
                if (got != -cases[i].err)
                        printf("  case %zu '%s': got %d\n", i, cases[i].req, got);
                ASSERT_EQ(got, -cases[i].err);
        }
        /* NUL bytes anywhere in the head. */
        const char nul[] = "GET /a\0b HTTP/1.1\r\n\r\n", nulh[] = "GET / HTTP/1.1\r\nA: \0\r\n\r\n";
        ASSERT_ERR(kl_http_parse_request(nul, sizeof(nul) - 1, &r), EBADMSG);
        ASSERT_ERR(kl_http_parse_request(nulh, sizeof(nulh) - 1, &r), EBADMSG);
        printf("  %zu malformed heads and 2 with NUL bytes rejected with the right error\n", ELEMENTSOF(cases));
}

TEST(parse_target_length_limit) {
        struct kl_http_request r;
        char *s = malloc(KL_HTTP_MAX_TARGET + 64);
        int n = snprintf(s, 64, "GET /");
        memset(s + n, 'a', KL_HTTP_MAX_TARGET - 1);
        strcpy(s + n + KL_HTTP_MAX_TARGET - 1, " HTTP/1.1\r\n\r\n");
        ASSERT_EQ(kl_http_parse_request(s, strlen(s), &r), (int) strlen(s));
        ASSERT_EQ(strlen(r.path), KL_HTTP_MAX_TARGET);
        memset(s + n, 'a', KL_HTTP_MAX_TARGET);
        strcpy(s + n + KL_HTTP_MAX_TARGET, " HTTP/1.1\r\n\r\n");
        ASSERT_ERR(kl_http_parse_request(s, strlen(s), &r), ENAMETOOLONG);
        free(s);
        ASSERT_EQ(kl_http_status_from_error(-ENAMETOOLONG), 414);
        ASSERT_EQ(kl_http_status_from_error(-EOPNOTSUPP), 405);
        ASSERT_EQ(kl_http_status_from_error(-EPROTONOSUPPORT), 505);
        ASSERT_EQ(kl_http_status_from_error(-EBADMSG), 400);
}

/* ---- the server ---- */

TEST(get_ok) {
        server_start(0, 0, 0);
        char *resp = request("GET /hello?who=me HTTP/1.1\r\nHost: x\r\n\r\n");
        ASSERT_EQ(status_of(resp), 200);
        ASSERT_CONTAINS(resp, "\r\nContent-Type: text/plain; charset=utf-8\r\n");
        ASSERT_CONTAINS(resp, "\r\nContent-Length: 29\r\n");
        ASSERT_CONTAINS(resp, "\r\nConnection: close\r\n");
        ASSERT_CONTAINS(resp, "\r\nX-Content-Type-Options: nosniff\r\n");
        ASSERT_STREQ(body_of(resp), "path=[/hello] query=[who=me]\n");
        free(resp);
        resp = request("GET /json HTTP/1.0\n\n");
        ASSERT_EQ(status_of(resp), 200);
        ASSERT_CONTAINS(resp, "Content-Type: application/json\r\n");
        ASSERT_STREQ(body_of(resp), "{}");
        free(resp);
        ASSERT_TRUE(settle(2 * KL_USEC_PER_SEC) < 2 * KL_USEC_PER_SEC);
        ASSERT_EQ(kl_http_server_connections(srv), 0);
        server_stop();
}

TEST(head_has_length_but_no_body) {
        server_start(0, 0, 0);
        char *resp = request("HEAD /hello HTTP/1.1\r\n\r\n");
        ASSERT_EQ(status_of(resp), 200);
        ASSERT_CONTAINS(resp, "\r\nContent-Length: 23\r\n"); /* "path=[/hello] query=[]\n" */
        ASSERT_STREQ(body_of(resp), "");
        free(resp);
        server_stop();
}

TEST(other_methods_get_405_with_allow) {
        const char *reqs[] = {"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", "PUT /x HTTP/1.1\r\n\r\n",
                              "DELETE /x HTTP/1.1\r\n\r\n", "OPTIONS * HTTP/1.1\r\n\r\n"};
        server_start(0, 0, 0);
        for (size_t i = 0; i < ELEMENTSOF(reqs); i++) {
                char *resp = request(reqs[i]);
                ASSERT_EQ(status_of(resp), 405);
                ASSERT_CONTAINS(resp, "\r\nAllow: GET, HEAD\r\n");
                free(resp);
        }
        ASSERT_EQ(handled, 0);
        server_stop();
        printf("  POST (with a body), PUT, DELETE, OPTIONS: 405 with Allow, the handler never called\n");
}

TEST(request_line_over_cap_431) {
        server_start(0, 0, 0);
        size_t n = KL_HTTP_MAX_REQUEST + 1000;
        char *big = malloc(n + 32);
        memcpy(big, "GET /", 5);
        memset(big + 5, 'a', n - 5);
        strcpy(big + n, " HTTP/1.1\r\n\r\n");
        char *resp = request(big);
        ASSERT_EQ(status_of(resp), 431);
        ASSERT_FALSE(strstr(resp, "read error")); /* answered, not reset */
        free(resp);
        /* Many headers: the head as a whole is capped too. */
        struct kl_buf b = {};
        kl_buf_puts(&b, "GET / HTTP/1.1\r\n");
        for (int i = 0; i < 200; i++)
                kl_buf_printf(&b, "X-Header-%03d: %060d\r\n", i, i);
        kl_buf_puts(&b, "\r\n");
        resp = request(b.data);
        ASSERT_EQ(status_of(resp), 431);
        free(resp);
        kl_buf_free_contents(&b);
        free(big);
        ASSERT_EQ(handled, 0);
        server_stop();
}

TEST(long_target_414) {
        server_start(0, 0, 0);
        char big[KL_HTTP_MAX_TARGET + 64];
        memcpy(big, "GET /", 5);
        memset(big + 5, 'b', KL_HTTP_MAX_TARGET);
        strcpy(big + 5 + KL_HTTP_MAX_TARGET, " HTTP/1.1\r\n\r\n");
        char *resp = request(big);
        ASSERT_EQ(status_of(resp), 414);
        free(resp);
        server_stop();
}

TEST(nul_byte_400) {
        static const char req[] = "GET /a\0b HTTP/1.1\r\n\r\n";
        server_start(0, 0, 0);
        char *resp = request_n(req, sizeof(req) - 1);
        ASSERT_EQ(status_of(resp), 400);
        free(resp);
        /* A NUL with no newline yet is caught right away, not at the header timeout. */
        static const char req2[] = "GET /\0";
        uint64_t t0 = kl_now_usec();
        resp = request_n(req2, sizeof(req2) - 1);
        ASSERT_EQ(status_of(resp), 400);
        ASSERT_TRUE(kl_now_usec() - t0 < KL_HTTP_HEADER_TIMEOUT_USEC / 2);
        free(resp);
        server_stop();
}

TEST(malformed_request_lines_400) {
        const char *reqs[] = {
                "GARBAGE\r\n\r\n",
                "GET\r\n\r\n",
                "GET  / HTTP/1.1\r\n\r\n",
                "GET / HTTP/1.1 x\r\n\r\n",
                "GET http://evil/ HTTP/1.1\r\n\r\n",
                "GET /%zz HTTP/1.1\r\n\r\n",
                "GET /%00 HTTP/1.1\r\n\r\n",
                "GET / HTTP/1.1\r\nno colon\r\n\r\n",
                "GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",
                "\x16\x03\x01\x02\xa5\x01", /* the start of a TLS hello: no newline, answered at once */
        };
        server_start(0, 0, 0);
        uint64_t t0 = kl_now_usec();
        for (size_t i = 0; i < ELEMENTSOF(reqs); i++) {
                char *resp = request(reqs[i]);
                ASSERT_EQ(status_of(resp), 400);
                free(resp);
        }
        ASSERT_TRUE(kl_now_usec() - t0 < KL_HTTP_HEADER_TIMEOUT_USEC / 2); /* none waited for a timeout */
        char *resp = request("GET / HTTP/2.0\r\n\r\n");
        ASSERT_EQ(status_of(resp), 505);
        free(resp);
        ASSERT_EQ(handled, 0);
        server_stop();
        printf("  %zu malformed requests: 400 each; HTTP/2.0: 505\n", ELEMENTSOF(reqs));
}

TEST(percent_decoding_and_query_split) {
        server_start(0, 0, 0);
        char *resp = request("GET /a%20b%2fc%3F?q=%41+b&x=1?y HTTP/1.1\r\n\r\n");
        ASSERT_EQ(status_of(resp), 200);
        ASSERT_STREQ(body_of(resp), "path=[/a b/c?] query=[q=%41+b&x=1?y]\n");
        free(resp);
        server_stop();
}

TEST(handler_404_and_bad_status_500) {
        server_start(0, 0, 0);
        char *resp = request("GET /missing HTTP/1.1\r\n\r\n");
        ASSERT_EQ(status_of(resp), 404);
        ASSERT_STREQ(body_of(resp), "404 page not found\n");
        free(resp);
        resp = request("GET /weird-status HTTP/1.1\r\n\r\n");
        ASSERT_EQ(status_of(resp), 500);
        free(resp);
        server_stop();
}

struct slow {
        const char *msg;
        int interval_ms;
};

/* Send msg a byte at a time until the server answers or closes. */
static void client_slow(FILE *out, void *arg) {
        struct slow *s = arg;
        int fd = tcp_connect(0), err;
        uint64_t t0 = kl_now_usec();
        size_t sent = 0;
        for (;;) {
                struct pollfd p = {.fd = fd, .events = POLLIN};
                if (poll(&p, 1, s->interval_ms) > 0)
                        break;
                if (kl_now_usec() - t0 > 10 * KL_USEC_PER_SEC)
                        break;
                if (s->msg[sent])
                        send_all(fd, s->msg + sent++, 1);
        }
        fprintf(out, "elapsed_ms=%llu sent=%zu\n", (unsigned long long) ((kl_now_usec() - t0) / 1000), sent);
        read_all(fd, out, &err);
        close(fd);
}

TEST(slowloris_cut_off_by_header_timeout) {
        server_start(1000 * MSEC, 0, 0);
        struct slow s = {"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n\r\n", 200};
        char *out = run_client(client_slow, &s);
        unsigned long long ms = 0;
        size_t sent = 0;
        ASSERT_EQ(sscanf(out, "elapsed_ms=%llu sent=%zu", &ms, &sent), 2);
        printf("  a byte every 200 ms: cut off after %llu ms and %zu bytes\n", ms, sent);
        ASSERT_CONTAINS(out, "HTTP/1.1 408 Request Timeout\r\n");
        ASSERT_TRUE(ms >= 900 && ms < 3000);
        ASSERT_TRUE(sent < strlen(s.msg));
        ASSERT_TRUE(settle(KL_USEC_PER_SEC) < KL_USEC_PER_SEC);
        free(out);
        server_stop();
}

TEST(byte_at_a_time_but_in_time_is_served) {
        server_start(5 * KL_USEC_PER_SEC, 0, 0);
        struct slow s = {"GET /slow?x HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\r\n", 2};
        char *out = run_client(client_slow, &s);
        ASSERT_CONTAINS(out, "HTTP/1.1 200 OK\r\n");
        ASSERT_CONTAINS(out, "path=[/slow] query=[x]\n");
        free(out);
        server_stop();
}

static void client_idle(FILE *out, void *arg) {
        int fd = tcp_connect(0), err;
        uint64_t t0 = kl_now_usec();
        size_t n = read_all(fd, NULL, &err);
        fprintf(out, "elapsed_ms=%llu bytes=%zu err=%d\n", (unsigned long long) ((kl_now_usec() - t0) / 1000), n, err);
        close(fd);
}

TEST(idle_connection_closed_silently) {
        server_start(300 * MSEC, 0, 0);
        char *out = run_client(client_idle, NULL);
        unsigned long long ms;
        size_t bytes;
        int err;
        ASSERT_EQ(sscanf(out, "elapsed_ms=%llu bytes=%zu err=%d", &ms, &bytes, &err), 3);
        ASSERT_EQ(bytes, 0);
        ASSERT_EQ(err, 0);
        ASSERT_TRUE(ms >= 250 && ms < 2000);
        free(out);
        server_stop();
}

static void raise_nofile(rlim_t want);

/* 300 connections that never send a request, then a probe. */
static void client_idle_crowd(FILE *out, void *arg) {
        int fds[KL_HTTP_MAX_CONNECTIONS + 44], err;
        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                fds[i] = tcp_connect(0);
        usleep(300 * 1000); /* the server has accepted them all by now */
        int fd = tcp_connect(0);
        static const char req[] = "GET /healthz HTTP/1.1\r\n\r\n";
        send_all(fd, req, sizeof(req) - 1);
        read_all(fd, out, &err);
        close(fd);
        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                close(fds[i]);
}

TEST(idle_crowd_cannot_lock_out_a_probe) {
        raise_nofile(1024);
        server_start(10 * KL_USEC_PER_SEC, 0, 0);
        char *out = run_client(client_idle_crowd, NULL);
        printf("  after %d idle connections a probe got: %.40s\n", KL_HTTP_MAX_CONNECTIONS + 44, out);
        ASSERT_EQ(status_of(out), 200);
        free(out);
        server_stop();
}

static void client_never_reads(FILE *out, void *arg) {
        int fd = tcp_connect(4096), err;
        static const char req[] = "GET /big HTTP/1.1\r\n\r\n";
        send_all(fd, req, sizeof(req) - 1);
        usleep(1500 * 1000); /* well past the server's write timeout */
        size_t n = read_all(fd, NULL, &err);
        fprintf(out, "bytes=%zu err=%d\n", n, err);
        close(fd);
}

TEST(client_that_never_reads_hits_write_timeout) {
        server_start(0, 300 * MSEC, 0);
        uint64_t t0 = kl_now_usec();
        char *out = run_client(client_never_reads, NULL);
        size_t bytes;
        int err;
        ASSERT_EQ(sscanf(out, "bytes=%zu err=%d", &bytes, &err), 2);
        printf("  a %u-byte response to a client that does not read: %zu bytes delivered, then %s\n", BIG_BODY, bytes,
               err ? strerror(err) : "EOF");
        ASSERT_TRUE(bytes < BIG_BODY);
        ASSERT_EQ(err, ECONNRESET); /* aborted: the kernel does not keep the unsent megabytes around */
        ASSERT_EQ(kl_http_server_connections(srv), 0);
        ASSERT_TRUE(kl_now_usec() - t0 < 5 * KL_USEC_PER_SEC);
        free(out);
        server_stop();
}

static void reset(int fd) {
        struct linger l = {.l_onoff = 1, .l_linger = 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
        close(fd);
}

static void client_resets(FILE *out, void *arg) {
        /* While the server reads the request. */
        int fd = tcp_connect(0), err;
        send_all(fd, "GET / HT", 8);
        usleep(50 * 1000);
        reset(fd);
        /* While the server writes the response. */
        fd = tcp_connect(4096);
        send_all(fd, "GET /big HTTP/1.1\r\n\r\n", 21);
        char buf[1000];
        ssize_t n = read(fd, buf, sizeof(buf));
        reset(fd);
        /* Right after connecting. */
        fd = tcp_connect(0);
        reset(fd);
        /* And the server still answers. */
        fd = tcp_connect(0);
        send_all(fd, "GET /after HTTP/1.1\r\n\r\n", 23);
        read_all(fd, out, &err);
        close(fd);
        fprintf(out, "\nread=%zd\n", n);
}

TEST(abrupt_resets) {
        server_start(10 * KL_USEC_PER_SEC, 10 * KL_USEC_PER_SEC, 0);
        char *out = run_client(client_resets, NULL);
        ASSERT_CONTAINS(out, "HTTP/1.1 200 OK\r\n");
        ASSERT_CONTAINS(out, "path=[/after]");
        ASSERT_CONTAINS(out, "read=1000");
        /* The timeouts are 10 s: only noticing the resets frees the connections this fast. */
        uint64_t took = settle(3 * KL_USEC_PER_SEC);
        ASSERT_EQ(kl_http_server_connections(srv), 0);
        printf("  resets while reading, while writing 16 MiB, right after accept: all freed within %llu ms\n",
               (unsigned long long) (took / 1000));
        free(out);
        server_stop();
}

/* ---- a flood ---- */

#define FLOOD 1000

static void client_flood(FILE *out, void *arg) {
        static int fds[FLOOD];
        static char bufs[FLOOD][512];
        static size_t lens[FLOOD];
        static const char req[] = "GET /flood HTTP/1.1\r\nHost: x\r\n\r\n";
        int n200 = 0, n503 = 0, nother = 0, nerr = 0, open_fds = 0;
        uint64_t t0 = kl_now_usec();

        /* All connect and send before anything is read, so that the first ones
         * still hold their slots while the rest arrive. */
        for (int i = 0; i < FLOOD; i++) {
                fds[i] = tcp_connect(0);
                send_all(fds[i], req, sizeof(req) - 1);
        }
        uint64_t t_connected = kl_now_usec();
        int ep = epoll_create1(EPOLL_CLOEXEC);
        for (int i = 0; i < FLOOD; i++) {
                struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t) i};
                fcntl(fds[i], F_SETFL, O_NONBLOCK);
                epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
                open_fds++;
        }
        while (open_fds > 0 && kl_now_usec() - t0 < 30 * KL_USEC_PER_SEC) {
                struct epoll_event evs[64];
                int k = epoll_wait(ep, evs, 64, 1000);
                for (int j = 0; j < k; j++) {
                        int i = (int) evs[j].data.u32;
                        for (;;) {
                                ssize_t r = read(fds[i], bufs[i] + lens[i], sizeof(bufs[i]) - 1 - lens[i]);
                                if (r > 0) {
                                        lens[i] += (size_t) r;
                                        if (lens[i] < sizeof(bufs[i]) - 1)
                                                continue;
                                }
                                if (r < 0 && errno == EAGAIN)
                                        break;
                                if (r < 0)
                                        nerr++;
                                bufs[i][lens[i]] = '\0';
                                int st = status_of(bufs[i]);
                                if (r >= 0 && st == 200)
                                        n200++;
                                else if (r >= 0 && st == 503)
                                        n503++;
                                else if (r >= 0)
                                        nother++;
                                close(fds[i]);
                                open_fds--;
                                break;
                        }
                }
        }
        fprintf(out, "ok=%d unavailable=%d other=%d errors=%d unanswered=%d connect_ms=%llu total_ms=%llu\n", n200,
                n503, nother, nerr, open_fds, (unsigned long long) ((t_connected - t0) / 1000),
                (unsigned long long) ((kl_now_usec() - t0) / 1000));
}

struct ticker {
        uint64_t period, deadline, worst;
        unsigned ticks;
        struct kl_event_timer *t;
};

static void on_tick(struct kl_event_timer *t, uint64_t now, void *userdata) {
        struct ticker *k = userdata;
        if (now - k->deadline > k->worst)
                k->worst = now - k->deadline;
        k->ticks++;
        k->deadline = now + k->period;
        kl_event_timer_set(t, k->deadline);
}

static void raise_nofile(rlim_t want) {
        struct rlimit rl;
        ASSERT_OK(getrlimit(RLIMIT_NOFILE, &rl));
        if (rl.rlim_cur < want) {
                rl.rlim_cur = MIN(want, rl.rlim_max);
                ASSERT_OK(setrlimit(RLIMIT_NOFILE, &rl));
        }
        if (rl.rlim_cur < want)
                SKIP("RLIMIT_NOFILE hard limit %llu is below %llu", (unsigned long long) rl.rlim_max,
                     (unsigned long long) want);
}

TEST(flood_of_1000_connections) {
        raise_nofile(4 * FLOOD);
        /* Long linger: the first connections keep their slots while the flood arrives. */
        server_start(10 * KL_USEC_PER_SEC, 10 * KL_USEC_PER_SEC, 10 * KL_USEC_PER_SEC);
        struct ticker k = {.period = 10 * MSEC};
        k.deadline = kl_now_usec() + k.period;
        ASSERT_OK(kl_event_add_timer(loop, k.deadline, on_tick, &k, &k.t));

        char *out = run_client(client_flood, NULL);
        int ok, unavailable, other, errors, unanswered;
        unsigned long long connect_ms, total_ms;
        ASSERT_EQ(sscanf(out, "ok=%d unavailable=%d other=%d errors=%d unanswered=%d connect_ms=%llu total_ms=%llu",
                         &ok, &unavailable, &other, &errors, &unanswered, &connect_ms, &total_ms),
                  7);
        printf("  %s", out);
        printf("  a 10 ms timer in the same loop ticked %u times, worst lateness %.1f ms\n", k.ticks, k.worst / 1000.0);
        ASSERT_EQ(ok + unavailable, FLOOD); /* every client got an answer: no resets, none lost */
        ASSERT_GE(ok, KL_HTTP_MAX_CONNECTIONS);
        ASSERT_EQ(handled, (unsigned) ok);
        ASSERT_LE(k.worst, 200 * MSEC); /* a flood does not stall the sync loop */
        ASSERT_TRUE(k.ticks > 0);

        /* Still serving afterwards, and every connection is let go. */
        free(out);
        out = request("GET /after HTTP/1.1\r\n\r\n");
        ASSERT_EQ(status_of(out), 200);
        settle(5 * KL_USEC_PER_SEC);
        ASSERT_EQ(kl_http_server_connections(srv), 0);
        free(out);
        kl_event_timer_free(k.t);
        server_stop();
}

struct many_serial {
        int n;
};

static void client_many_serial(FILE *out, void *arg) {
        struct many_serial *m = arg;
        /* The parent lowered the limit for itself; the child needs fds. */
        struct rlimit rl;
        getrlimit(RLIMIT_NOFILE, &rl);
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        int fds[64], ok = 0, err;
        for (int i = 0; i < m->n; i++) {
                fds[i] = tcp_connect(0);
                send_all(fds[i], "GET / HTTP/1.1\r\n\r\n", 18);
        }
        usleep(500 * 1000); /* the server is out of fds meanwhile */
        for (int i = 0; i < m->n; i++) {
                char buf[512] = {};
                FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");
                read_all(fds[i], f, &err);
                fclose(f);
                if (status_of(buf) == 200)
                        ok++;
                close(fds[i]);
        }
        fprintf(out, "ok=%d\n", ok);
}

TEST(out_of_fds_pauses_accept_instead_of_spinning) {
        struct rlimit saved, low;
        server_start(0, 0, 0);
        ASSERT_OK(getrlimit(RLIMIT_NOFILE, &saved));
        int probe = dup(0);
        ASSERT_OK(probe);
        close(probe);
        low = saved;
        low.rlim_cur = (rlim_t) probe + 2 /* the client pipe */ + 2 /* connections */;
        ASSERT_OK(setrlimit(RLIMIT_NOFILE, &low));
        uint64_t it0 = kl_event_iterations(loop);
        struct many_serial m = {.n = 20};
        char *out = run_client(client_many_serial, &m);
        uint64_t iterations = kl_event_iterations(loop) - it0;
        ASSERT_OK(setrlimit(RLIMIT_NOFILE, &saved));
        printf("  20 connections with room for 2 fds, 0.5 s out of fds: %.*s, %llu loop iterations\n",
               (int) strcspn(out, "\n"), out, (unsigned long long) iterations);
        ASSERT_STREQ(out, "ok=20\n");
        /* Spinning on EMFILE would be a wake-up per accept attempt: hundreds of thousands. */
        ASSERT_LE(iterations, 1000);
        free(out);
        server_stop();
}

TEST(bind_errors) {
        struct kl_event *e;
        struct kl_http_server *s = NULL, *s2 = NULL;
        ASSERT_OK(kl_event_new(&e));
        ASSERT_ERR(kl_http_server_new(e, "not-an-address", 0, handler, NULL, &s), EINVAL);
        ASSERT_ERR(kl_http_server_new(e, "127.0.0.1", 70000, handler, NULL, &s), EINVAL);
        ASSERT_OK(kl_http_server_new(e, "localhost", 0, handler, NULL, &s));
        ASSERT_ERR(kl_http_server_new(e, "127.0.0.1", kl_http_server_port(s), handler, NULL, &s2), EADDRINUSE);
        kl_http_server_free(s);
        if (kl_http_server_new(e, "::1", 0, handler, NULL, &s) >= 0) {
                ASSERT_TRUE(kl_http_server_port(s) > 0);
                kl_http_server_free(s);
        }
        kl_event_free(e);
}

TEST_MAIN()
