/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by test-handler and test-prober: real sockets on 127.0.0.1 served
 * from the same kl_event loop the code under test runs in, and a helper that
 * runs that loop until a condition holds.
 *
 * HTTP paths: /ok 200 "ok"; /fail 500; /health answers srv->health_status;
 * /start answers srv->start_status; /slow never answers; /redirect 302;
 * /big 200 with 20000 bytes; /echo 200 with the request head as body;
 * /nolength 200 without Content-Length (body ends at close); /nocontent 204
 * and the connection stays open; /continue a 100 then a 200 with
 * Content-Length, connection left open; /garbage a non-HTTP line. Anything
 * else 404. kl_event_run() can only run once per loop (kl_event_exit is
 * final), so every test makes its own loop. */
#pragma once

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kubelet-lite/event.h"
#include "lib/macros.h"
#include "tests/lib/tests.h"

#define SRV_MAX_CONNS 64

struct srv_conn {
        struct srv *srv;
        int fd;
        struct kl_event_io *io;
        char req[4096];
        size_t len;
        bool answered;
};

struct srv {
        struct kl_event *loop;
        int lfd, port;
        struct kl_event_io *lio;
        struct srv_conn *conns[SRV_MAX_CONNS];
        int accepted, requests, closed_by_peer;
        int hits_ok, hits_health, hits_start, hits_slow;
        int health_status, start_status;
        char last_request[4096];
};

static inline void srv_conn_close(struct srv_conn *c) {
        struct srv *s = c->srv;

        for (int i = 0; i < SRV_MAX_CONNS; i++)
                if (s->conns[i] == c)
                        s->conns[i] = NULL;
        kl_event_io_free(c->io);
        close(c->fd);
        free(c);
}

static inline void srv_send(struct srv_conn *c, const char *data, size_t n) {
        while (n > 0) {
                ssize_t w = send(c->fd, data, n, MSG_NOSIGNAL);
                if (w <= 0)
                        return;
                data += w;
                n -= (size_t) w;
        }
}

static inline void srv_reply(struct srv_conn *c, int status, const char *body) {
        char head[256];
        int n = snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                         status, strlen(body));
        srv_send(c, head, (size_t) n);
        srv_send(c, body, strlen(body));
}

/* Returns false when the connection stays open. */
static inline bool srv_answer(struct srv_conn *c) {
        struct srv *s = c->srv;
        char path[256] = "";

        s->requests++;
        snprintf(s->last_request, sizeof(s->last_request), "%s", c->req);
        if (sscanf(c->req, "GET %255s ", path) != 1)
                snprintf(path, sizeof(path), "?");
        if (streq(path, "/ok")) {
                s->hits_ok++;
                srv_reply(c, 200, "ok");
        } else if (streq(path, "/fail"))
                srv_reply(c, 500, "boom");
        else if (streq(path, "/health")) {
                s->hits_health++;
                srv_reply(c, s->health_status, "health");
        } else if (streq(path, "/start")) {
                s->hits_start++;
                srv_reply(c, s->start_status, "start");
        } else if (streq(path, "/slow")) {
                s->hits_slow++;
                return false;
        } else if (streq(path, "/redirect")) {
                const char *r = "HTTP/1.1 302 Found\r\nLocation: http://192.0.2.1/\r\nContent-Length: 5\r\n\r\nmoved";
                srv_send(c, r, strlen(r));
        } else if (streq(path, "/big")) {
                static char big[20000];
                char head[128];
                int n = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", sizeof(big));
                memset(big, 'a', sizeof(big));
                srv_send(c, head, (size_t) n);
                srv_send(c, big, sizeof(big));
        } else if (streq(path, "/echo"))
                srv_reply(c, 200, c->req);
        else if (streq(path, "/nolength")) {
                const char *r = "HTTP/1.0 200 OK\r\n\r\nxyz";
                srv_send(c, r, strlen(r));
        } else if (streq(path, "/nocontent")) {
                const char *r = "HTTP/1.1 204 No Content\r\n\r\n";
                srv_send(c, r, strlen(r));
                return false;
        } else if (streq(path, "/continue")) {
                const char *r = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
                srv_send(c, r, strlen(r));
                return false;
        } else if (streq(path, "/garbage")) {
                const char *r = "SSH-2.0-OpenSSH_9.2\r\n";
                srv_send(c, r, strlen(r));
        } else
                srv_reply(c, 404, "not found");
        return true;
}

static inline void srv_on_conn(struct kl_event_io *io, int fd, uint32_t revents, void *userdata) {
        struct srv_conn *c = userdata;
        ssize_t n;

        n = recv(fd, c->req + c->len, sizeof(c->req) - 1 - c->len, MSG_DONTWAIT);
        if (n < 0 && errno == EAGAIN)
                return;
        if (n <= 0) {
                c->srv->closed_by_peer++;
                srv_conn_close(c);
                return;
        }
        c->len += (size_t) n;
        c->req[c->len] = '\0';
        if (c->answered || !strstr(c->req, "\r\n\r\n"))
                return;
        c->answered = true;
        if (srv_answer(c))
                srv_conn_close(c);
}

static inline void srv_on_accept(struct kl_event_io *io, int fd, uint32_t revents, void *userdata) {
        struct srv *s = userdata;

        for (;;) {
                int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                struct srv_conn *c;
                int slot = -1;

                if (cfd < 0)
                        return;
                for (int i = 0; i < SRV_MAX_CONNS && slot < 0; i++)
                        if (!s->conns[i])
                                slot = i;
                c = calloc(1, sizeof(*c));
                if (slot < 0 || !c) {
                        free(c);
                        close(cfd);
                        continue;
                }
                s->accepted++;
                c->srv = s;
                c->fd = cfd;
                s->conns[slot] = c;
                if (kl_event_add_io(s->loop, cfd, EPOLLIN, srv_on_conn, c, &c->io) < 0)
                        srv_conn_close(c);
        }
}

/* A listening socket on 127.0.0.1 (port 0: any); returns the fd, sets *port. */
static inline int listen_local(int backlog, int *port) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof(a);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(bind(fd, (struct sockaddr *) &a, sizeof(a)) < 0 ? -errno : 0);
        ASSERT_OK(listen(fd, backlog) < 0 ? -errno : 0);
        ASSERT_OK(getsockname(fd, (struct sockaddr *) &a, &len) < 0 ? -errno : 0);
        *port = ntohs(a.sin_port);
        return fd;
}

/* A port nothing listens on. */
static inline int closed_port(void) {
        int port, fd = listen_local(1, &port);
        close(fd);
        return port;
}

static inline void srv_start(struct srv *s, struct kl_event *loop) {
        memset(s, 0, sizeof(*s));
        s->loop = loop;
        s->health_status = 200;
        s->start_status = 200;
        s->lfd = listen_local(64, &s->port);
        ASSERT_OK(kl_event_add_io(loop, s->lfd, EPOLLIN, srv_on_accept, s, &s->lio));
}

static inline void srv_stop(struct srv *s) {
        for (int i = 0; i < SRV_MAX_CONNS; i++)
                if (s->conns[i])
                        srv_conn_close(s->conns[i]);
        if (s->lio)
                kl_event_io_free(s->lio);
        s->lio = NULL;
        if (s->lfd >= 0)
                close(s->lfd);
        s->lfd = -1;
}

static inline int srv_open_conns(const struct srv *s) {
        int n = 0;
        for (int i = 0; i < SRV_MAX_CONNS; i++)
                n += s->conns[i] != NULL;
        return n;
}

/* ---- running the loop ----------------------------------------------------- */

struct waiter {
        struct kl_event *loop;
        bool (*cond)(void *arg);
        void *arg;
        uint64_t end;
        bool timed_out;
};

static inline void waiter_tick(struct kl_event_timer *t, uint64_t now, void *userdata) {
        struct waiter *w = userdata;

        if (w->cond && w->cond(w->arg)) {
                kl_event_exit(w->loop, 0);
                return;
        }
        if (now >= w->end) {
                w->timed_out = !!w->cond;
                kl_event_exit(w->loop, 0);
                return;
        }
        kl_event_timer_set(t, MIN(now + 2 * KL_USEC_PER_MSEC, w->end));
}

/* Run the loop (once: see above) until cond(arg) holds, checked every 2 ms, or
 * timeout_ms passes. cond NULL: just run for timeout_ms. Returns true when cond
 * held (or was NULL). */
static inline bool run_loop(struct kl_event *loop, bool (*cond)(void *), void *arg, unsigned timeout_ms) {
        struct waiter w = {.loop = loop, .cond = cond, .arg = arg};
        struct kl_event_timer *t;

        w.end = kl_now_usec() + (uint64_t) timeout_ms * KL_USEC_PER_MSEC;
        ASSERT_OK(kl_event_add_timer(loop, kl_now_usec(), waiter_tick, &w, &t));
        ASSERT_OK(kl_event_run(loop));
        kl_event_timer_free(t);
        return !w.timed_out;
}

static inline double ms_since(uint64_t start_usec) {
        return (double) (kl_now_usec() - start_usec) / 1000.0;
}
