/* SPDX-License-Identifier: Apache-2.0 */
#include "apiconn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "kubelet-lite/server/http.h"
#include "lib/log.h"
#include "lib/macros.h"
#include "lib/strbuf.h"

#define LINGER_USEC (2 * KL_USEC_PER_SEC)
#define LINGER_MAX_BYTES (64 * 1024)
#define DRAIN_LOW_MARK (64 * 1024)

enum conn_state {
        C_READING,
        C_HANDLING, /* the handler answers later */
        C_WRITING,  /* whole response or stream */
        C_LINGERING,
};

struct kl_api_conn {
        struct kl_api_server *srv;
        int fd;
        SSL *ssl;                    /* NULL on a plain connection */
        bool handshaken, want_write; /* TLS: handshake done; OpenSSL waits for the socket to be writable */
        enum conn_state state;
        bool streaming, ended;
        struct kl_event_io *io;
        struct kl_event_timer *timer;
        char *in;
        size_t in_len, head_len;
        char *out;
        size_t out_len, out_off, out_cap, drained;
        uint64_t last_progress;
        kl_api_drain_fn drain;
        void *drain_ud;
        kl_api_close_fn on_close;
        void *close_ud;
        struct kl_api_conn *prev, *next;
};

struct kl_api_server {
        struct kl_event *loop;
        int fd, port;
        struct kl_event_io *io;
        SSL_CTX *ssl_ctx;
        kl_api_handler_fn fn;
        void *userdata;
        struct kl_api_conn *conns;
        unsigned n;
};

static bool is_tchar(unsigned char c) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
                return true;
        return c != '\0' && strchr("!#$%&'*+-.^_`|~", c);
}

static void header_value(const char *head, size_t len, const char *name, char *out, size_t size) {
        size_t nl = strlen(name);
        const char *p = memchr(head, '\n', len); /* skip the request line */
        out[0] = '\0';
        while (p && (size_t) (p + 1 - head) < len) {
                const char *line = p + 1, *end = memchr(line, '\n', len - (size_t) (line - head));
                if (!end)
                        break;
                if ((size_t) (end - line) > nl && strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
                        const char *v = line + nl + 1, *e = end;
                        while (v < e && (*v == ' ' || *v == '\t'))
                                v++;
                        while (e > v && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
                                e--;
                        size_t l = MIN((size_t) (e - v), size - 1);
                        memcpy(out, v, l);
                        out[l] = '\0';
                        return;
                }
                p = end;
        }
}

int kl_api_parse_request(const char *buf, size_t len, struct kl_api_req *ret) {
        size_t m = 0;
        while (m < len && m < sizeof(ret->method) && is_tchar((unsigned char) buf[m]))
                m++;
        if (m == len)
                return 0;
        if (m == 0 || m >= sizeof(ret->method) || buf[m] != ' ')
                return -EBADMSG;
        /* Validate with http.c's parser, the method swapped for GET. */
        _cleanup_free_ char *copy = malloc(len - m + 3);
        if (!copy)
                return -ENOMEM;
        memcpy(copy, "GET", 3);
        memcpy(copy + 3, buf + m, len - m);
        struct kl_http_request hr;
        int r = kl_http_parse_request(copy, len - m + 3, &hr);
        if (r <= 0)
                return r;
        size_t head_len = (size_t) r - 3 + m;
        memset(ret, 0, sizeof(*ret));
        memcpy(ret->method, buf, m);
        snprintf(ret->path, sizeof(ret->path), "%s", hr.path);
        snprintf(ret->query, sizeof(ret->query), "%s", hr.query);
        header_value(buf, head_len, "authorization", ret->authorization, sizeof(ret->authorization));
        header_value(buf, head_len, "accept", ret->accept, sizeof(ret->accept));
        header_value(buf, head_len, "upgrade", ret->upgrade, sizeof(ret->upgrade));
        header_value(buf, head_len, "connection", ret->connection, sizeof(ret->connection));
        ret->head = buf;
        ret->head_len = head_len;
        return (int) head_len;
}

/* ---- connections ---------------------------------------------------------- */

static void conn_free(struct kl_api_conn *c, bool notify) {
        if (!c)
                return;
        if (notify && c->on_close) {
                kl_api_close_fn fn = c->on_close;
                c->on_close = NULL;
                fn(c, c->close_ud);
        }
        kl_event_io_free(c->io);
        kl_event_timer_free(c->timer);
        SSL_free(c->ssl);
        safe_close(c->fd);
        free(c->in);
        free(c->out);
        if (c->prev)
                c->prev->next = c->next;
        else
                c->srv->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        c->srv->n--;
        free(c);
}

static void conn_abort(struct kl_api_conn *c) {
        struct linger l = {.l_onoff = 1, .l_linger = 0};
        (void) setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
        conn_free(c, true);
}

/* recv/send through TLS when there is TLS: n > 0, 0 at EOF, or -1 with
 * errno (EAGAIN when the socket is not ready; OpenSSL needing to write while
 * reading sets *want_write). */
ssize_t kl_api_io_recv(int fd, void *ssl, void *buf, size_t n, bool *want_write) {
        if (!ssl)
                return recv(fd, buf, n, 0);
        ERR_clear_error();
        int r = SSL_read(ssl, buf, (int) MIN(n, (size_t) INT_MAX));
        if (r > 0)
                return r;
        switch (SSL_get_error(ssl, r)) {
        case SSL_ERROR_WANT_READ: errno = EAGAIN; return -1;
        case SSL_ERROR_WANT_WRITE:
                if (want_write)
                        *want_write = true;
                errno = EAGAIN;
                return -1;
        case SSL_ERROR_ZERO_RETURN: return 0;
        case SSL_ERROR_SYSCALL:
                if (errno == 0 || r == 0)
                        return 0; /* EOF without close_notify */
                return -1;
        default: errno = EPROTO; return -1;
        }
}

ssize_t kl_api_io_send(int fd, void *ssl, const void *buf, size_t n, bool *want_write) {
        if (!ssl)
                return send(fd, buf, n, MSG_NOSIGNAL);
        ERR_clear_error();
        int r = SSL_write(ssl, buf, (int) MIN(n, (size_t) INT_MAX));
        if (r > 0)
                return r;
        switch (SSL_get_error(ssl, r)) {
        case SSL_ERROR_WANT_READ: errno = EAGAIN; return -1;
        case SSL_ERROR_WANT_WRITE:
                if (want_write)
                        *want_write = true;
                errno = EAGAIN;
                return -1;
        default:
                if (errno == 0 || errno == EAGAIN)
                        errno = EPIPE;
                return -1;
        }
}

static const char *status_text(int s) {
        switch (s) {
        case 101: return "Switching Protocols";
        case 200: return "OK";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 406: return "Not Acceptable";
        case 408: return "Request Timeout";
        case 413: return "Content Too Large";
        case 414: return "URI Too Long";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        case 505: return "HTTP Version Not Supported";
        default: return "Unknown";
        }
}

static int out_append(struct kl_api_conn *c, const void *p, size_t n) {
        if (c->out_off > 0 && c->out_off == c->out_len)
                c->out_off = c->out_len = 0;
        if (c->out_len + n > c->out_cap) {
                if (c->out_off > 0) { /* compact first */
                        memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
                        c->out_len -= c->out_off;
                        c->out_off = 0;
                }
                if (c->out_len + n > c->out_cap) {
                        size_t nc = MAX(c->out_cap * 2, c->out_len + n);
                        char *o = realloc(c->out, nc);
                        if (!o)
                                return -ENOMEM;
                        c->out = o;
                        c->out_cap = nc;
                }
        }
        memcpy(c->out + c->out_len, p, n);
        c->out_len += n;
        return 0;
}

static void conn_drain_input(struct kl_api_conn *c) {
        char scratch[4096];
        for (;;) {
                ssize_t n = read(c->fd, scratch, sizeof(scratch));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return;
                        return conn_free(c, true);
                }
                if (n == 0)
                        return conn_free(c, true);
                c->drained += (size_t) n;
                if (c->drained > LINGER_MAX_BYTES)
                        return conn_abort(c);
        }
}

static void conn_linger(struct kl_api_conn *c) {
        if (c->ssl && c->handshaken)
                (void) SSL_shutdown(c->ssl); /* best effort close_notify; never waited for */
        (void) shutdown(c->fd, SHUT_WR);
        c->state = C_LINGERING;
        (void) kl_event_io_set_events(c->io, EPOLLIN | EPOLLRDHUP);
        kl_event_timer_set(c->timer, kl_now_usec() + LINGER_USEC);
        conn_drain_input(c);
}

/* Returns false when c was freed. */
static bool conn_flush(struct kl_api_conn *c) {
        c->want_write = false;
        while (c->out_off < c->out_len) {
                ssize_t n = kl_api_io_send(c->fd, c->ssl, c->out + c->out_off, c->out_len - c->out_off, NULL);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                break;
                        conn_abort(c);
                        return false;
                }
                c->out_off += (size_t) n;
                c->last_progress = kl_now_usec();
        }
        bool empty = c->out_off == c->out_len;
        if (empty && (!c->streaming || c->ended)) {
                conn_linger(c);
                return false;
        }
        uint32_t ev = EPOLLRDHUP | (c->streaming ? EPOLLIN : 0) | (empty ? 0 : EPOLLOUT);
        (void) kl_event_io_set_events(c->io, ev);
        kl_event_timer_set(c->timer, empty ? KL_USEC_INFINITY : c->last_progress + KL_API_WRITE_TIMEOUT_USEC);
        if (c->streaming && c->drain && kl_api_conn_pending(c) < DRAIN_LOW_MARK)
                c->drain(c, c->drain_ud);
        return true;
}

static void start_writing(struct kl_api_conn *c) {
        c->in = mfree(c->in);
        c->state = C_WRITING;
        c->last_progress = kl_now_usec();
        (void) conn_flush(c);
}

static void write_head(struct kl_api_conn *c, int status, const char *ctype, const char *extra) {
        char h[512];
        int n = snprintf(h, sizeof(h),
                         "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nCache-Control: no-cache, private\r\n"
                         "X-Content-Type-Options: nosniff\r\nConnection: close\r\n%s",
                         status, status_text(status), ctype ? ctype : "text/plain; charset=utf-8", extra);
        (void) out_append(c, h, (size_t) n);
}

void kl_api_conn_respond(struct kl_api_conn *c, int status, const char *ctype, const char *body, size_t len) {
        char extra[128];
        snprintf(extra, sizeof(extra), "%sContent-Length: %zu\r\n\r\n",
                 status == 405   ? "Allow: GET, HEAD\r\n"
                 : status == 401 ? "WWW-Authenticate: Bearer\r\n"
                                 : "",
                 len);
        write_head(c, status, ctype, extra);
        if (out_append(c, body, len) < 0)
                return conn_abort(c);
        c->streaming = false;
        start_writing(c);
}

int kl_api_conn_stream_begin(struct kl_api_conn *c, int status, const char *ctype, kl_api_drain_fn drain,
                             void *userdata) {
        write_head(c, status, ctype, "Transfer-Encoding: chunked\r\n\r\n");
        c->streaming = true;
        c->drain = drain;
        c->drain_ud = userdata;
        c->in = mfree(c->in);
        c->state = C_WRITING;
        c->last_progress = kl_now_usec();
        (void) kl_event_io_set_events(c->io, EPOLLIN | EPOLLRDHUP | EPOLLOUT);
        return 0;
}

int kl_api_conn_write(struct kl_api_conn *c, const void *data, size_t len) {
        char h[24];
        if (len == 0)
                return 0;
        if (kl_api_conn_pending(c) + len > KL_API_STREAM_BUF_MAX)
                return -ENOBUFS;
        int n = snprintf(h, sizeof(h), "%zx\r\n", len);
        if (out_append(c, h, (size_t) n) < 0 || out_append(c, data, len) < 0 || out_append(c, "\r\n", 2) < 0)
                return -ENOMEM;
        (void) kl_event_io_set_events(c->io, EPOLLIN | EPOLLRDHUP | EPOLLOUT);
        if (kl_event_timer_deadline(c->timer) == KL_USEC_INFINITY)
                kl_event_timer_set(c->timer, kl_now_usec() + KL_API_WRITE_TIMEOUT_USEC);
        return 0;
}

size_t kl_api_conn_pending(const struct kl_api_conn *c) {
        return c->out_len - c->out_off;
}

void kl_api_conn_end(struct kl_api_conn *c) {
        if (c->ended)
                return;
        (void) out_append(c, "0\r\n\r\n", 5);
        c->ended = true;
        c->drain = NULL;
        (void) kl_event_io_set_events(c->io, EPOLLIN | EPOLLRDHUP | EPOLLOUT);
        kl_event_timer_set(c->timer, kl_now_usec() + KL_API_WRITE_TIMEOUT_USEC);
}

void kl_api_conn_on_close(struct kl_api_conn *c, kl_api_close_fn fn, void *userdata) {
        c->on_close = fn;
        c->close_ud = userdata;
}

int kl_api_conn_take_fd(struct kl_api_conn *c, void **ret_ssl, char **ret_extra, size_t *ret_extra_len) {
        int fd = c->fd;
        *ret_ssl = c->ssl;
        *ret_extra = NULL;
        *ret_extra_len = 0;
        if (c->in && c->in_len > c->head_len) {
                *ret_extra_len = c->in_len - c->head_len;
                *ret_extra = malloc(*ret_extra_len);
                if (!*ret_extra)
                        return -ENOMEM;
                memcpy(*ret_extra, c->in + c->head_len, *ret_extra_len);
        }
        c->fd = -EBADF;
        c->ssl = NULL;
        conn_free(c, false);
        return fd;
}

struct kl_event *kl_api_conn_loop(const struct kl_api_conn *c) {
        return c->srv->loop;
}

static void conn_error(struct kl_api_conn *c, int status) {
        char body[64];
        int n = snprintf(body, sizeof(body), "%s\n", status_text(status));
        kl_api_conn_respond(c, status, NULL, body, (size_t) n);
}

/* TLS: returns true once the handshake is done; false while it waits (or c was freed). */
static bool conn_handshake(struct kl_api_conn *c) {
        if (!c->ssl || c->handshaken)
                return true;
        ERR_clear_error();
        int r = SSL_accept(c->ssl);
        if (r == 1) {
                c->handshaken = true;
                (void) kl_event_io_set_events(c->io, EPOLLIN | EPOLLRDHUP);
                return true;
        }
        int e = SSL_get_error(c->ssl, r);
        if (e == SSL_ERROR_WANT_READ)
                (void) kl_event_io_set_events(c->io, EPOLLIN | EPOLLRDHUP);
        else if (e == SSL_ERROR_WANT_WRITE)
                (void) kl_event_io_set_events(c->io, EPOLLOUT | EPOLLRDHUP);
        else /* not TLS, or a bad hello: nothing sensible to answer in */
                conn_abort(c);
        return false;
}

static void conn_read(struct kl_api_conn *c) {
        if (!conn_handshake(c))
                return;
        if (!c->in && !(c->in = malloc(KL_API_MAX_HEAD)))
                return conn_abort(c);
        for (;;) {
                if (c->in_len == KL_API_MAX_HEAD)
                        return conn_error(c, 431);
                bool ww = false;
                ssize_t n = kl_api_io_recv(c->fd, c->ssl, c->in + c->in_len, KL_API_MAX_HEAD - c->in_len, &ww);
                if (ww)
                        (void) kl_event_io_set_events(c->io, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return;
                        return conn_free(c, true);
                }
                if (n == 0)
                        return conn_free(c, true);
                c->in_len += (size_t) n;
                if (!memchr(c->in + c->in_len - n, '\n', (size_t) n) && c->in_len != (size_t) n)
                        continue;
                struct kl_api_req req;
                int r = kl_api_parse_request(c->in, c->in_len, &req);
                if (r < 0)
                        return conn_error(c, r == -EOPNOTSUPP ? 400 : kl_http_status_from_error(r));
                if (r == 0)
                        continue;
                c->head_len = (size_t) r;
                c->state = C_HANDLING;
                /* Input is not read while the handler works; a close shows as RDHUP. */
                (void) kl_event_io_set_events(c->io, EPOLLRDHUP);
                kl_event_timer_set(c->timer, kl_now_usec() + KL_API_WRITE_TIMEOUT_USEC);
                c->srv->fn(c, &req, c->srv->userdata);
                return;
        }
}

static void conn_io(struct kl_event_io *io, int fd, uint32_t revents, void *userdata) {
        struct kl_api_conn *c = userdata;
        switch (c->state) {
        case C_READING: return conn_read(c);
        case C_HANDLING:
                if (revents & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
                        return conn_free(c, true);
                return;
        case C_WRITING:
                if (c->streaming && (revents & EPOLLIN)) {
                        /* A streaming client sends nothing more; EOF means it is gone. */
                        char scratch[512];
                        bool ww = false;
                        ssize_t n = kl_api_io_recv(fd, c->ssl, scratch, sizeof(scratch), &ww);
                        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                                return conn_free(c, true);
                }
                if (revents & (EPOLLHUP | EPOLLERR))
                        return conn_free(c, true);
                (void) conn_flush(c);
                return;
        case C_LINGERING: return conn_drain_input(c);
        }
}

static void conn_timeout(struct kl_event_timer *t, uint64_t now, void *userdata) {
        struct kl_api_conn *c = userdata;
        switch (c->state) {
        case C_READING:
                if (c->in_len > 0)
                        return conn_error(c, 408);
                return conn_free(c, true);
        case C_HANDLING: return conn_error(c, 503);
        case C_WRITING: return conn_abort(c); /* not reading */
        case C_LINGERING: return conn_free(c, true);
        }
}

static void server_accept(struct kl_event_io *io, int fd, uint32_t revents, void *userdata) {
        struct kl_api_server *s = userdata;
        for (int i = 0; i < 64; i++) {
                int cfd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (cfd < 0)
                        return;
                if (s->n >= KL_API_MAX_CONNECTIONS) {
                        /* Make room: the oldest connection still waiting for its head goes. */
                        struct kl_api_conn *victim = NULL;
                        for (struct kl_api_conn *c = s->conns; c; c = c->next)
                                if (c->state == C_READING || c->state == C_LINGERING)
                                        victim = c;
                        if (!victim) {
                                safe_close(cfd);
                                continue;
                        }
                        conn_abort(victim);
                }
                struct kl_api_conn *c = calloc(1, sizeof(*c));
                if (!c) {
                        safe_close(cfd);
                        continue;
                }
                c->srv = s;
                c->fd = cfd;
                if (s->ssl_ctx && (!(c->ssl = SSL_new(s->ssl_ctx)) || SSL_set_fd(c->ssl, cfd) != 1)) {
                        SSL_free(c->ssl);
                        safe_close(cfd);
                        free(c);
                        continue;
                }
                if (c->ssl)
                        SSL_set_accept_state(c->ssl);
                c->next = s->conns;
                if (s->conns)
                        s->conns->prev = c;
                s->conns = c;
                s->n++;
                if (kl_event_add_io(s->loop, cfd, EPOLLIN | EPOLLRDHUP, conn_io, c, &c->io) < 0 ||
                    kl_event_add_timer(s->loop, kl_now_usec() + KL_API_HEADER_TIMEOUT_USEC, conn_timeout, c,
                                       &c->timer) < 0)
                        conn_free(c, false);
        }
}

int kl_api_server_new(struct kl_event *e, const char *addr, int port, void *ssl_ctx, kl_api_handler_fn fn,
                      void *userdata, struct kl_api_server **ret) {
        struct sockaddr_storage ss = {};
        struct sockaddr_in *in4 = (struct sockaddr_in *) &ss;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &ss;
        socklen_t sl;
        _cleanup_close_ int fd = -EBADF;
        int one = 1, r;

        if (port < 0 || port > 65535 || !fn)
                return -EINVAL;
        if (!addr || streq(addr, "localhost"))
                addr = "127.0.0.1";
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
        if (bind(fd, (struct sockaddr *) &ss, sl) < 0 || listen(fd, SOMAXCONN) < 0 ||
            getsockname(fd, (struct sockaddr *) &ss, &sl) < 0)
                return -errno;
        struct kl_api_server *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        *s = (struct kl_api_server){.loop = e, .fd = -EBADF, .ssl_ctx = ssl_ctx, .fn = fn, .userdata = userdata};
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

struct kl_api_server *kl_api_server_free(struct kl_api_server *s) {
        if (!s)
                return NULL;
        while (s->conns)
                conn_free(s->conns, true);
        kl_event_io_free(s->io);
        safe_close(s->fd);
        free(s);
        return NULL;
}

int kl_api_server_port(const struct kl_api_server *s) {
        return s->port;
}

unsigned kl_api_server_connections(const struct kl_api_server *s) {
        return s->n;
}

bool kl_api_query_get(const char *query, const char *key, char *buf, size_t size) {
        size_t kl = strlen(key);
        const char *p = query;
        while (p && *p) {
                const char *end = strchr(p, '&');
                size_t l = end ? (size_t) (end - p) : strlen(p);
                if (l >= kl && strncmp(p, key, kl) == 0 && (l == kl || p[kl] == '=')) {
                        const char *v = l == kl ? p + l : p + kl + 1;
                        size_t o = 0;
                        for (; v < p + l; v++) {
                                char c = *v;
                                if (c == '+')
                                        c = ' ';
                                else if (c == '%') {
                                        if (v + 2 >= p + l || kl_unhexchar(v[1]) < 0 || kl_unhexchar(v[2]) < 0)
                                                return false;
                                        c = (char) (kl_unhexchar(v[1]) * 16 + kl_unhexchar(v[2]));
                                        v += 2;
                                        if (c == '\0')
                                                return false;
                                }
                                if (o + 1 >= size)
                                        return false;
                                buf[o++] = c;
                        }
                        buf[o] = '\0';
                        return true;
                }
                p = end ? end + 1 : NULL;
        }
        return false;
}

static const char *reason_for(int code) {
        switch (code) {
        case 400: return "BadRequest";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "NotFound";
        case 405: return "MethodNotAllowed";
        case 406: return "NotAcceptable";
        case 500: return "InternalError";
        case 502: return "InternalError";
        case 503: return "ServiceUnavailable";
        default: return "Unknown";
        }
}

void kl_api_respond_status(struct kl_api_conn *c, int code, const char *kind, const char *name, const char *fmt, ...) {
        struct kl_buf b = {};
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        kl_buf_puts(&b,
                    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":");
        kl_json_escape(&b, msg);
        kl_buf_printf(&b, ",\"reason\":\"%s\"", reason_for(code));
        if (name) {
                kl_buf_puts(&b, ",\"details\":{\"name\":");
                kl_json_escape(&b, name);
                kl_buf_puts(&b, ",\"kind\":");
                kl_json_escape(&b, kind ? kind : "");
                kl_buf_puts(&b, "}");
        }
        kl_buf_printf(&b, ",\"code\":%d}", code);
        if (b.oom)
                kl_api_conn_respond(c, 500, NULL, "out of memory\n", 14);
        else
                kl_api_conn_respond(c, code, "application/json", b.data, b.len);
        kl_buf_free_contents(&b);
}

size_t kl_api_io_pending(void *ssl) {
        return ssl ? (size_t) SSL_pending(ssl) : 0;
}

void kl_api_io_free(void *ssl) {
        if (ssl) {
                (void) SSL_shutdown(ssl);
                SSL_free(ssl);
        }
}
