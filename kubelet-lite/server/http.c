/* SPDX-License-Identifier: Apache-2.0 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "lib/log.h"
#include "lib/macros.h"

#define METHOD_MAX 16
#define REQ_BUF_INITIAL 1024
#define LINGER_MAX_BYTES (64 * 1024)
#define ACCEPT_BATCH 64
#define ACCEPT_BACKOFF_USEC (100 * KL_USEC_PER_MSEC)

/* ---- request parsing ------------------------------------------------------ */

/* RFC 9110 token characters. */
static bool is_tchar(unsigned char c) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
                return true;
        return c != '\0' && strchr("!#$%&'*+-.^_`|~", c);
}

/* The line ending at buf[i]: its length (CRLF 2, LF 1), 0 when more bytes are needed, or -EBADMSG. */
static int line_end(const unsigned char *b, size_t len, size_t i) {
        if (i >= len)
                return 0;
        if (b[i] == '\n')
                return 1;
        if (b[i] != '\r')
                return -EBADMSG;
        if (i + 1 >= len)
                return 0;
        return b[i + 1] == '\n' ? 2 : -EBADMSG;
}

struct reqline {
        bool head;
        int minor;
        size_t target, target_len; /* offset and length in the buffer */
};

/* "METHOD SP origin-form SP HTTP/1.x" and a line end. Returns the line's length. */
static int parse_request_line(const unsigned char *b, size_t len, struct reqline *ret) {
        bool in_query = false;
        size_t i = 0, t0;
        int r;

        while (i < len && is_tchar(b[i]))
                if (++i > METHOD_MAX)
                        return -EBADMSG;
        if (i == len)
                return 0;
        if (i == 0 || b[i] != ' ')
                return -EBADMSG;
        bool head = i == 4 && memcmp(b, "HEAD", 4) == 0;
        if (!head && !(i == 3 && memcmp(b, "GET", 3) == 0))
                return -EOPNOTSUPP;

        t0 = ++i;
        for (; i < len && b[i] > 0x20 && b[i] < 0x7f; i++) {
                if (i - t0 >= KL_HTTP_MAX_TARGET)
                        return -ENAMETOOLONG;
                if (i == t0 && b[i] != '/') /* origin-form only: no "*", no absolute URI */
                        return -EBADMSG;
                if (b[i] == '?')
                        in_query = true;
                else if (b[i] == '%' && !in_query) {
                        /* The path gets decoded: escapes must be whole, and never %00. */
                        if ((i + 1 < len && kl_unhexchar(b[i + 1]) < 0) || (i + 2 < len && kl_unhexchar(b[i + 2]) < 0))
                                return -EBADMSG;
                        if (i + 2 < len && b[i + 1] == '0' && b[i + 2] == '0')
                                return -EBADMSG;
                }
        }
        if (i == len)
                return 0;
        if (b[i] != ' ' || i == t0)
                return -EBADMSG;
        size_t tlen = i - t0;

        i++;
        for (size_t k = 0; k < 8; k++, i++) {
                if (i == len)
                        return 0;
                bool ok = k < 5    ? b[i] == (unsigned char) "HTTP/"[k]
                          : k == 6 ? b[i] == '.'
                                   : b[i] >= '0' && b[i] <= '9';
                if (!ok)
                        return -EBADMSG;
        }
        if (b[i - 3] != '1')
                return -EPROTONOSUPPORT;
        r = line_end(b, len, i);
        if (r <= 0)
                return r;
        *ret = (struct reqline){.head = head, .minor = b[i - 1] - '0', .target = t0, .target_len = tlen};
        return (int) (i + (size_t) r);
}

/* Header lines from *pos up to the empty line. Returns the length of the
 * whole head, or 0 with *pos at the first line not complete yet. */
static int parse_headers(const unsigned char *b, size_t len, size_t *pos) {
        size_t i = *pos;
        int r;

        for (;;) {
                if (i == len)
                        return 0;
                if (b[i] == '\r' || b[i] == '\n') { /* the empty line */
                        r = line_end(b, len, i);
                        return r <= 0 ? r : (int) (i + (size_t) r);
                }
                /* field-name ":" field-value; a leading space would be obsolete line folding */
                if (!is_tchar(b[i]))
                        return -EBADMSG;
                while (i < len && is_tchar(b[i]))
                        i++;
                if (i == len)
                        return 0;
                if (b[i] != ':')
                        return -EBADMSG;
                for (i++; i < len && (b[i] == '\t' || (b[i] >= 0x20 && b[i] != 0x7f)); i++)
                        ;
                r = line_end(b, len, i);
                if (r <= 0)
                        return r;
                i += (size_t) r;
                *pos = i;
        }
}

static void fill_request(const unsigned char *b, const struct reqline *rl, struct kl_http_request *ret) {
        const unsigned char *t = b + rl->target;
        const unsigned char *q = memchr(t, '?', rl->target_len);
        size_t plen = q ? (size_t) (q - t) : rl->target_len;
        size_t qlen = q ? rl->target_len - plen - 1 : 0;
        char *w = ret->path;

        for (size_t i = 0; i < plen; i++) {
                if (t[i] == '%') { /* validated while parsing */
                        *w++ = (char) (kl_unhexchar(t[i + 1]) * 16 + kl_unhexchar(t[i + 2]));
                        i += 2;
                } else
                        *w++ = (char) t[i];
        }
        *w = '\0';
        if (qlen > 0)
                memcpy(ret->query, q + 1, qlen);
        ret->query[qlen] = '\0';
        ret->head = rl->head;
        ret->minor = rl->minor;
}

int kl_http_parse_request_resume(const char *buf, size_t len, size_t *state, struct kl_http_request *ret) {
        const unsigned char *b = (const unsigned char *) buf;
        struct reqline rl;
        size_t pos;
        int r;

        if (len > INT_MAX / 2) /* lengths are returned as int; a head is never this long */
                len = INT_MAX / 2;
        if (*state == 0) {
                r = parse_request_line(b, len, &rl);
                if (r <= 0)
                        return r;
                *state = (size_t) r;
        }
        pos = *state;
        r = parse_headers(b, len, &pos);
        *state = pos;
        if (r <= 0)
                return r;
        /* Complete. The request line was validated on an earlier call maybe: read its fields again. */
        if (parse_request_line(b, len, &rl) <= 0)
                return -EBADMSG;
        fill_request(b, &rl, ret);
        return r;
}

int kl_http_parse_request(const char *buf, size_t len, struct kl_http_request *ret) {
        size_t state = 0;
        return kl_http_parse_request_resume(buf, len, &state, ret);
}

int kl_http_status_from_error(int r) {
        switch (r) {
        case -EOPNOTSUPP: return 405;
        case -ENAMETOOLONG: return 414;
        case -EPROTONOSUPPORT: return 505;
        default: return 400;
        }
}

/* ---- connections ---------------------------------------------------------- */

enum conn_state {
        CONN_READING,   /* waiting for the request head */
        CONN_WRITING,   /* sending the response */
        CONN_LINGERING, /* response sent, write side shut: dropping what the client still sends */
};

struct conn {
        struct kl_http_server *srv;
        int fd;
        enum conn_state state;
        bool rejected; /* over the connection cap: answered 503 without reading */
        struct kl_event_io *io;
        struct kl_event_timer *timer;
        char *req; /* grows up to KL_HTTP_MAX_REQUEST, freed once answered */
        size_t req_len, req_cap, parse_state;
        char *out;
        size_t out_len, out_off, drained;
        struct conn *prev, *next;
};

struct kl_http_server {
        struct kl_event *loop;
        int fd;
        int port;
        struct kl_event_io *io;
        struct kl_event_timer *backoff; /* accepting paused after EMFILE */
        kl_http_handler_fn fn;
        void *userdata;
        struct conn *conns;
        unsigned n_serving, n_rejecting;
        uint64_t header_usec, write_usec, linger_usec;
};

static void conn_free(struct conn *c) {
        if (!c)
                return;
        kl_event_io_free(c->io);
        kl_event_timer_free(c->timer);
        safe_close(c->fd);
        free(c->req);
        free(c->out);
        if (c->prev)
                c->prev->next = c->next;
        else
                c->srv->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        if (c->rejected)
                c->srv->n_rejecting--;
        else
                c->srv->n_serving--;
        free(c);
}

/* Close with a reset: the kernel drops unsent data instead of keeping an
 * orphaned socket around for a client that does not read. */
static void conn_abort(struct conn *c) {
        struct linger l = {.l_onoff = 1, .l_linger = 0};
        (void) setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
        conn_free(c);
}

static const char *status_text(int status) {
        switch (status) {
        case 200: return "OK";
        case 201: return "Created";
        case 202: return "Accepted";
        case 204: return "No Content";
        case 301: return "Moved Permanently";
        case 302: return "Found";
        case 304: return "Not Modified";
        case 307: return "Temporary Redirect";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 406: return "Not Acceptable";
        case 408: return "Request Timeout";
        case 409: return "Conflict";
        case 410: return "Gone";
        case 413: return "Content Too Large";
        case 414: return "URI Too Long";
        case 429: return "Too Many Requests";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        case 504: return "Gateway Timeout";
        case 505: return "HTTP Version Not Supported";
        default: return "Unknown";
        }
}

static void conn_write(struct conn *c);
static void conn_drain(struct conn *c);

static void conn_respond(struct conn *c, int status, const char *ctype, const char *body, size_t len, bool head) {
        struct kl_buf b = {};

        kl_buf_printf(&b,
                      "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                      "Connection: close\r\nCache-Control: no-cache, private\r\n"
                      "X-Content-Type-Options: nosniff\r\n%s\r\n",
                      status, status_text(status), ctype ? ctype : "text/plain; charset=utf-8", len,
                      status == 405 ? "Allow: GET, HEAD\r\n" : "");
        if (!head)
                kl_buf_append(&b, body, len);
        c->req = mfree(c->req); /* answered: the request buffer is not needed any more */
        c->out = kl_buf_steal(&b, &c->out_len);
        c->out_off = 0;
        if (!c->out)
                return conn_abort(c);
        c->state = CONN_WRITING;
        (void) kl_event_io_set_events(c->io, EPOLLOUT);
        kl_event_timer_set(c->timer, kl_now_usec() + c->srv->write_usec);
        conn_write(c);
}

static void conn_error(struct conn *c, int status) {
        char body[64];
        int n = snprintf(body, sizeof(body), "%s\n", status_text(status));
        conn_respond(c, status, NULL, body, (size_t) n, false);
}

static void conn_handle_request(struct conn *c, const struct kl_http_request *req) {
        struct kl_http_response resp = {.status = 200};

        c->srv->fn(req->path, req->query, &resp, c->srv->userdata);
        if (resp.body.oom || resp.status < 100 || resp.status > 599) {
                kl_buf_free_contents(&resp.body);
                return conn_error(c, 500);
        }
        conn_respond(c, resp.status, resp.content_type, resp.body.data ? resp.body.data : "", resp.body.len, req->head);
        kl_buf_free_contents(&resp.body);
}

static void conn_read(struct conn *c) {
        for (;;) {
                if (c->req_len == c->req_cap) {
                        if (c->req_cap >= KL_HTTP_MAX_REQUEST)
                                return conn_error(c, 431);
                        size_t ncap = c->req_cap ? MIN(c->req_cap * 2, (size_t) KL_HTTP_MAX_REQUEST) : REQ_BUF_INITIAL;
                        char *n = realloc(c->req, ncap);
                        if (!n)
                                return conn_abort(c);
                        c->req = n;
                        c->req_cap = ncap;
                }
                ssize_t n = read(c->fd, c->req + c->req_len, c->req_cap - c->req_len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return;
                        return conn_free(c);
                }
                if (n == 0) /* gone before the request was complete: nobody to answer */
                        return conn_free(c);
                const char *fresh = c->req + c->req_len;
                c->req_len += (size_t) n;
                /* Parse the first bytes (garbage such as a TLS hello is answered at once),
                 * then only when a line is complete or a NUL shows up: a client sending a
                 * byte at a time must not cost a parse per byte. A head that does not fit
                 * is 431, however its request line looks. */
                bool first = c->req_len == (size_t) n;
                if (!first && !memchr(fresh, '\n', (size_t) n) && !memchr(fresh, '\0', (size_t) n)) {
                        if (c->req_len >= KL_HTTP_MAX_REQUEST)
                                return conn_error(c, 431);
                        continue;
                }
                struct kl_http_request req;
                int r = kl_http_parse_request_resume(c->req, c->req_len, &c->parse_state, &req);
                if (r < 0)
                        return conn_error(c, kl_http_status_from_error(r));
                if (r > 0)
                        return conn_handle_request(c, &req);
        }
}

static void conn_linger(struct conn *c) {
        c->out = mfree(c->out);
        (void) shutdown(c->fd, SHUT_WR);
        c->state = CONN_LINGERING;
        (void) kl_event_io_set_events(c->io, EPOLLIN | EPOLLRDHUP);
        kl_event_timer_set(c->timer, kl_now_usec() + c->srv->linger_usec);
        conn_drain(c);
}

static void conn_write(struct conn *c) {
        while (c->out_off < c->out_len) {
                ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return;
                        return conn_abort(c);
                }
                c->out_off += (size_t) n;
        }
        conn_linger(c);
}

/* Closing a socket with unread input makes the kernel send a reset, which
 * can destroy the response before the client has read it. So read and drop
 * what comes until the client closes, for a bounded time and amount. */
static void conn_drain(struct conn *c) {
        char scratch[4096];
        for (;;) {
                ssize_t n = read(c->fd, scratch, sizeof(scratch));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return;
                        return conn_free(c);
                }
                if (n == 0)
                        return conn_free(c);
                c->drained += (size_t) n;
                if (c->drained > LINGER_MAX_BYTES)
                        return conn_abort(c);
        }
}

static void conn_io(struct kl_event_io *io, int fd, uint32_t revents, void *userdata) {
        struct conn *c = userdata;
        switch (c->state) {
        case CONN_READING: conn_read(c); break;
        case CONN_WRITING: conn_write(c); break;
        case CONN_LINGERING: conn_drain(c); break;
        }
}

static void conn_timeout(struct kl_event_timer *t, uint64_t now, void *userdata) {
        struct conn *c = userdata;
        switch (c->state) {
        case CONN_READING:
                /* A slow client gets told, then the usual write and linger limits apply.
                 * One that never sent a byte is just closed. */
                if (c->req_len > 0)
                        return conn_error(c, 408);
                return conn_free(c);
        case CONN_WRITING: /* a client that does not read */ return conn_abort(c);
        case CONN_LINGERING: return conn_free(c);
        }
}

static struct conn *conn_new(struct kl_http_server *s, int cfd, bool rejected) {
        struct conn *c = calloc(1, sizeof(*c));
        if (!c) {
                safe_close(cfd);
                return NULL;
        }
        c->srv = s;
        c->fd = cfd;
        c->rejected = rejected;
        c->next = s->conns;
        if (s->conns)
                s->conns->prev = c;
        s->conns = c;
        if (rejected)
                s->n_rejecting++;
        else
                s->n_serving++;
        if (kl_event_add_io(s->loop, cfd, EPOLLIN | EPOLLRDHUP, conn_io, c, &c->io) < 0 ||
            kl_event_add_timer(s->loop, kl_now_usec() + s->header_usec, conn_timeout, c, &c->timer) < 0) {
                conn_free(c);
                return NULL;
        }
        return c;
}

/* At the connection cap, make room for a new connection: close the oldest
 * one that has been answered and only lingers, else the oldest one still
 * waiting for its request head. Idle or slow clients so cannot lock out a
 * liveness probe, which sends its request at once and is answered at once
 * (nginx reuses idle keep-alive connections the same way). */
static bool evict_one(struct kl_http_server *s) {
        struct conn *tail = NULL, *victim = NULL;
        for (struct conn *c = s->conns; c; c = c->next)
                tail = c;
        for (enum conn_state want = CONN_LINGERING;; want = CONN_READING) {
                for (struct conn *c = tail; c && !victim; c = c->prev)
                        if (!c->rejected && c->state == want)
                                victim = c;
                if (victim || want == CONN_READING)
                        break;
        }
        if (!victim)
                return false;
        log_debug("http: port %d: at %u connections, closing the oldest idle one", s->port, s->n_serving);
        if (victim->state == CONN_LINGERING)
                conn_free(victim); /* answered: a FIN, so the answer is not lost to a reset */
        else
                conn_abort(victim);
        return true;
}

static void on_accept_backoff(struct kl_event_timer *t, uint64_t now, void *userdata) {
        struct kl_http_server *s = userdata;
        (void) kl_event_io_set_events(s->io, EPOLLIN);
}

static void server_accept(struct kl_event_io *io, int fd, uint32_t revents, void *userdata) {
        struct kl_http_server *s = userdata;

        /* Bounded per wake-up so a connection flood cannot starve the sync loop. */
        for (int i = 0; i < ACCEPT_BATCH; i++) {
                int cfd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (cfd < 0) {
                        if (errno == EINTR || errno == ECONNABORTED)
                                continue;
                        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                                /* The pending connection stays in the backlog and the listening
                                 * socket stays readable: without a pause this would spin. */
                                log_debug("http: accept: %s, pausing for %llu ms", strerror(errno),
                                          (unsigned long long) (ACCEPT_BACKOFF_USEC / KL_USEC_PER_MSEC));
                                (void) kl_event_io_set_events(s->io, 0);
                                kl_event_timer_set(s->backoff, kl_now_usec() + ACCEPT_BACKOFF_USEC);
                        }
                        return;
                }
                if (s->n_serving < KL_HTTP_MAX_CONNECTIONS || evict_one(s)) {
                        (void) conn_new(s, cfd, false);
                        continue;
                }
                if (s->n_rejecting < KL_HTTP_MAX_REJECTING) {
                        struct conn *c = conn_new(s, cfd, true);
                        if (c)
                                conn_error(c, 503);
                        continue;
                }
                /* Beyond both caps: best effort, never wait. Reading what has arrived
                 * first makes a reset (and a lost 503) less likely. */
                static const char msg[] = "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n"
                                          "Content-Length: 0\r\n\r\n";
                char scratch[1024];
                (void) !recv(cfd, scratch, sizeof(scratch), MSG_DONTWAIT);
                (void) !send(cfd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
                (void) shutdown(cfd, SHUT_WR);
                safe_close(cfd);
        }
}

int kl_http_server_new(struct kl_event *e, const char *addr, int port, kl_http_handler_fn fn, void *userdata,
                       struct kl_http_server **ret) {
        struct sockaddr_storage ss = {};
        socklen_t sl;
        _cleanup_close_ int fd = -EBADF;
        int one = 1, r;

        if (port < 0 || port > 65535 || !fn)
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
        /* A deep backlog: a burst waits there instead of being refused. */
        if (bind(fd, (struct sockaddr *) &ss, sl) < 0 || listen(fd, SOMAXCONN) < 0)
                return -errno;
        if (getsockname(fd, (struct sockaddr *) &ss, &sl) < 0)
                return -errno;

        struct kl_http_server *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->loop = e;
        s->fd = -EBADF;
        s->fn = fn;
        s->userdata = userdata;
        s->header_usec = KL_HTTP_HEADER_TIMEOUT_USEC;
        s->write_usec = KL_HTTP_WRITE_TIMEOUT_USEC;
        s->linger_usec = KL_HTTP_LINGER_USEC;
        s->port = ntohs(ss.ss_family == AF_INET ? in4->sin_port : in6->sin6_port);
        r = kl_event_add_timer(e, KL_USEC_INFINITY, on_accept_backoff, s, &s->backoff);
        if (r >= 0)
                r = kl_event_add_io(e, fd, EPOLLIN, server_accept, s, &s->io);
        if (r < 0) {
                kl_event_timer_free(s->backoff);
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
        kl_event_timer_free(s->backoff);
        safe_close(s->fd);
        free(s);
        return NULL;
}

int kl_http_server_port(const struct kl_http_server *s) {
        return s->port;
}

unsigned kl_http_server_connections(const struct kl_http_server *s) {
        return s->n_serving + s->n_rejecting;
}

void kl_http_server_set_timeouts(struct kl_http_server *s, uint64_t header_usec, uint64_t write_usec,
                                 uint64_t linger_usec) {
        if (header_usec > 0)
                s->header_usec = header_usec;
        if (write_usec > 0)
                s->write_usec = write_usec;
        if (linger_usec > 0)
                s->linger_usec = linger_usec;
}
