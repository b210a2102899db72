/* SPDX-License-Identifier: Apache-2.0 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "lib/log.h"
#include "lib/macros.h"

struct conn {
        struct kl_http_server *srv;
        int fd;
        struct kl_event_io *io;
        struct kl_event_timer *timer;
        char req[KL_HTTP_MAX_REQUEST];
        size_t req_len;
        char *out;
        size_t out_len, out_off;
        struct conn *prev, *next;
};

struct kl_http_server {
        struct kl_event *loop;
        int fd;
        int port;
        struct kl_event_io *io;
        kl_http_handler_fn fn;
        void *userdata;
        struct conn *conns;
        unsigned n_conns;
};

static void conn_free(struct conn *c) {
        if (!c)
                return;
        kl_event_io_free(c->io);
        kl_event_timer_free(c->timer);
        safe_close(c->fd);
        free(c->out);
        if (c->prev)
                c->prev->next = c->next;
        else
                c->srv->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        c->srv->n_conns--;
        free(c);
}

static const char *status_text(int status) {
        switch (status) {
        case 200: return "OK";
        case 400: return "Bad Request";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 408: return "Request Timeout";
        case 414: return "URI Too Long";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 503: return "Service Unavailable";
        default: return "Unknown";
        }
}

static void conn_write(struct conn *c);

static void conn_respond(struct conn *c, int status, const char *ctype, const char *body, size_t len,
                         bool head) {
        struct kl_buf b = {};
        kl_buf_printf(&b,
                      "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                      "Connection: close\r\nCache-Control: no-cache, private\r\n"
                      "X-Content-Type-Options: nosniff\r\n\r\n",
                      status, status_text(status), ctype ? ctype : "text/plain; charset=utf-8", len);
        if (!head)
                kl_buf_append(&b, body, len);
        c->out = kl_buf_steal(&b, &c->out_len);
        c->out_off = 0;
        if (!c->out) {
                conn_free(c);
                return;
        }
        /* Stop reading; wait for writability. */
        (void) kl_event_io_set_events(c->io, EPOLLOUT);
        kl_event_timer_set(c->timer, kl_now_usec() + KL_HTTP_WRITE_TIMEOUT_USEC);
        conn_write(c);
}

static void conn_error(struct conn *c, int status) {
        const char *t = status_text(status);
        char body[64];
        int n = snprintf(body, sizeof(body), "%s\n", t);
        conn_respond(c, status, NULL, body, (size_t) n, false);
}

static int hexval(char ch) {
        if (ch >= '0' && ch <= '9')
                return ch - '0';
        if (ch >= 'a' && ch <= 'f')
                return ch - 'a' + 10;
        if (ch >= 'A' && ch <= 'F')
                return ch - 'A' + 10;
        return -1;
}

/* Percent-decode in place; rejects NUL and malformed escapes. */
static int url_decode(char *s) {
        char *w = s;
        for (char *r = s; *r; r++) {
                if (*r == '%') {
                        int hi = hexval(r[1]), lo = hi >= 0 ? hexval(r[2]) : -1;
                        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                                return -EINVAL;
                        *w++ = (char) (hi * 16 + lo);
                        r += 2;
                } else
                        *w++ = *r;
        }
        *w = '\0';
        return 0;
}

static void conn_handle_request(struct conn *c) {
        char *line_end = memmem(c->req, c->req_len, "\r\n", 2);
        char method[8], target[2048], version[16];
        bool head;

        if (!line_end)
                return conn_error(c, 400);
        *line_end = '\0';
        /* Exactly "METHOD SP target SP HTTP/1.x" */
        if (sscanf(c->req, "%7s %2047s %15s", method, target, version) != 3 ||
            strncmp(version, "HTTP/1.", 7) != 0 || target[0] != '/')
                return conn_error(c, 400);
        head = streq(method, "HEAD");
        if (!head && !streq(method, "GET"))
                return conn_error(c, 405);

        char *query = strchr(target, '?');
        if (query)
                *query++ = '\0';
        if (url_decode(target) < 0)
                return conn_error(c, 400);

        struct kl_http_response resp = {.status = 200};
        c->srv->fn(target, query ? query : "", &resp, c->srv->userdata);
        if (resp.body.oom) {
                kl_buf_free_contents(&resp.body);
                return conn_error(c, 500);
        }
        conn_respond(c, resp.status, resp.content_type, resp.body.data ? resp.body.data : "",
                     resp.body.len, head);
        kl_buf_free_contents(&resp.body);
}

static void conn_read(struct conn *c) {
        for (;;) {
                size_t room = sizeof(c->req) - 1 - c->req_len;
                if (room == 0)
                        return conn_error(c, 431);
                ssize_t n = read(c->fd, c->req + c->req_len, room);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return;
                        return conn_free(c);
                }
                if (n == 0)
                        return conn_free(c);
                c->req_len += (size_t) n;
                c->req[c->req_len] = '\0';
                if (memchr(c->req, '\0', c->req_len))
                        return conn_error(c, 400);
                if (memmem(c->req, c->req_len, "\r\n\r\n", 4) || memmem(c->req, c->req_len, "\n\n", 2))
                        return conn_handle_request(c);
        }
}

static void conn_write(struct conn *c) {
        while (c->out_off < c->out_len) {
                ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return;
                        return conn_free(c);
                }
                c->out_off += (size_t) n;
        }
        shutdown(c->fd, SHUT_WR);
        conn_free(c);
}

static void conn_io(struct kl_event_io *io, int fd, uint32_t revents, void *userdata) {
        struct conn *c = userdata;
        if (c->out) {
                if (revents & (EPOLLOUT | EPOLLERR | EPOLLHUP))
                        conn_write(c);
                return;
        }
        if (revents & (EPOLLIN | EPOLLERR | EPOLLHUP))
                conn_read(c);
}

static void conn_timeout(struct kl_event_timer *t, uint64_t now, void *userdata) {
        struct conn *c = userdata;
        if (!c->out && c->req_len > 0) {
                /* A slow client: tell it, but never wait on it. */
                static const char msg[] = "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n";
                (void) !send(c->fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        }
        conn_free(c);
}

static void server_accept(struct kl_event_io *io, int fd, uint32_t revents, void *userdata) {
        struct kl_http_server *s = userdata;

        /* Bounded per wake-up so a connection flood cannot starve the sync loop. */
        for (int i = 0; i < 64; i++) {
                int cfd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (cfd < 0) {
                        if (errno == EINTR || errno == ECONNABORTED)
                                continue;
                        return; /* EAGAIN, or EMFILE: the listen backlog holds them */
                }
                if (s->n_conns >= KL_HTTP_MAX_CONNECTIONS) {
                        static const char msg[] =
                                "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n";
                        (void) !send(cfd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
                        safe_close(cfd);
                        continue;
                }
                struct conn *c = calloc(1, sizeof(*c));
                if (!c) {
                        safe_close(cfd);
                        continue;
                }
                c->srv = s;
                c->fd = cfd;
                c->next = s->conns;
                if (s->conns)
                        s->conns->prev = c;
                s->conns = c;
                s->n_conns++;
                if (kl_event_add_io(s->loop, cfd, EPOLLIN | EPOLLRDHUP, conn_io, c, &c->io) < 0 ||
                    kl_event_add_timer(s->loop, kl_now_usec() + KL_HTTP_HEADER_TIMEOUT_USEC, conn_timeout, c,
                                       &c->timer) < 0) {
                        conn_free(c);
                        continue;
                }
        }
}

int kl_http_server_new(struct kl_event *e, const char *addr, int port, kl_http_handler_fn fn,
                       void *userdata, struct kl_http_server **ret) {
        struct sockaddr_storage ss = {};
        socklen_t sl;
        _cleanup_close_ int fd = -EBADF;
        int one = 1, r;

        if (port < 0 || port > 65535)
                return -EINVAL;
        if (!addr || streq(addr, "localhost"))
                addr = "127.0.0.1";
        struct sockaddr_in *in4 = (struct sockaddr_in *) &ss;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &ss;
        if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
                in4->sin_family = AF_INET;
                in4->sin_port = htons((uint16_t) port);
                sl = sizeof(*in4);
        } else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
                in6->sin6_family = AF_INET6;
                in6->sin6_port = htons((uint16_t) port);
                sl = sizeof(*in6);
        } else
                return -EINVAL;

        fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, (struct sockaddr *) &ss, sl) < 0 || listen(fd, 128) < 0)
                return -errno;
        if (getsockname(fd, (struct sockaddr *) &ss, &sl) < 0)
                return -errno;

        struct kl_http_server *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->loop = e;
        s->fn = fn;
        s->userdata = userdata;
        s->port = ntohs(ss.ss_family == AF_INET ? in4->sin_port : in6->sin6_port);
        r = kl_event_add_io(e, fd, EPOLLIN, server_accept, s, &s->io);
        if (r < 0) {
                free(s);
                return r;
        }
        s->fd = TAKE_FD(fd);
        *ret = s;
        return 0;
}

struct kl_http_server *kl_http_server_free(struct kl_http_server *s) {
        if (!s)
                return NULL;
        while (s->conns)
                conn_free(s->conns);
        kl_event_io_free(s->io);
        safe_close(s->fd);
        free(s);
        return NULL;
}

int kl_http_server_port(const struct kl_http_server *s) {
        return s->port;
}

unsigned kl_http_server_connections(const struct kl_http_server *s) {
        return s->n_conns;
}
