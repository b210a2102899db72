/* SPDX-License-Identifier: Apache-2.0 */
#include "streamproxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "lib/log.h"
#include "lib/macros.h"
#include "lib/strbuf.h"
#include "runtime/cristream.h"

#define CRI_TIMEOUT_MS 10000
#define MAX_CMD 64

struct session {
        struct kl_streamproxy *p;
        struct kl_api_conn *c; /* while waiting for the runtime; NULL once the client is gone */
        char *head;            /* the client's request head, replayed upstream */
        size_t head_len;
        char method[16];
        /* proxying: side 0 is the client, side 1 the runtime */
        int fd[2];
        void *ssl;       /* the client's TLS, when it has TLS */
        bool want_write; /* TLS on the client side needs it writable */
        struct kl_event_io *io[2];
        char *buf[2]; /* read from side i, to be written to the other */
        size_t len[2], off[2];
        bool eof[2], shut[2], connecting;
        bool upgraded;     /* the runtime answered 101: bytes pass through from now on */
        int64_t body_left; /* a refusal's body still to pass on */
        struct kl_event_timer *idle;
        struct session *prev, *next;
};

struct kl_streamproxy {
        struct kl_event *loop;
        char *endpoint;
        struct kl_cristream *cri;
        struct kl_event_io *cri_io;
        struct session *sessions;
        unsigned n;
};

static void session_free(struct session *s) {
        if (s->c)
                kl_api_conn_on_close(s->c, NULL, NULL);
        kl_api_io_free(s->ssl);
        for (int i = 0; i < 2; i++) {
                kl_event_io_free(s->io[i]);
                if (s->fd[i] >= 0)
                        close(s->fd[i]);
                free(s->buf[i]);
        }
        kl_event_timer_free(s->idle);
        free(s->head);
        if (s->prev)
                s->prev->next = s->next;
        else
                s->p->sessions = s->next;
        if (s->next)
                s->next->prev = s->prev;
        s->p->n--;
        free(s);
}

static void on_client_gone(struct kl_api_conn *c, void *userdata) {
        struct session *s = userdata;
        s->c = NULL; /* the runtime's answer will find nobody; it frees the session then */
}

static void fail(struct session *s, int code, const char *fmt, ...) _printf_(3, 4);
static void fail(struct session *s, int code, const char *fmt, ...) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        struct kl_api_conn *c = s->c;
        if (c) {
                kl_api_conn_on_close(c, NULL, NULL);
                s->c = NULL;
                kl_api_respond_status(c, code, NULL, NULL, "%s", msg);
        }
        session_free(s);
}

int kl_streamproxy_parse_url(const char *url, char *host, size_t hsize, int *port, char *path, size_t psize) {
        if (strncmp(url, "http://", 7) != 0)
                return -EPROTONOSUPPORT;
        const char *h = url + 7, *hend, *p;
        if (*h == '[') {
                hend = strchr(h, ']');
                if (!hend || hend[1] != ':')
                        return -EINVAL;
                h++;
                p = hend + 2;
        } else {
                hend = strchr(h, ':');
                if (!hend)
                        return -EINVAL;
                p = hend + 1;
        }
        if ((size_t) (hend - h) >= hsize)
                return -EINVAL;
        memcpy(host, h, (size_t) (hend - h));
        host[hend - h] = '\0';
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v <= 0 || v > 65535 || (*end != '/' && *end != '\0'))
                return -EINVAL;
        *port = (int) v;
        if (snprintf(path, psize, "%s", *end ? end : "/") >= (int) psize)
                return -EINVAL;
        for (const char *c = path; *c; c++)
                if ((unsigned char) *c <= 0x20 || *c == 0x7f)
                        return -EINVAL;
        return 0;
}

/* ---- splicing ---------------------------------------------------------------------------- */

static void pump(struct session *s);

static void on_io(struct kl_event_io *io, int fd, uint32_t revents, void *userdata) {
        struct session *s = userdata;
        if (s->connecting && fd == s->fd[1] && (revents & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
                int err = 0;
                socklen_t l = sizeof(err);
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0 || err != 0) {
                        log_debug("facade: connecting to the runtime's streaming server: %s", strerror(err));
                        return session_free(s);
                }
                s->connecting = false;
        }
        pump(s);
}

static void on_idle(struct kl_event_timer *t, uint64_t now, void *userdata) {
        session_free(userdata);
}

/* The runtime's answer to the replayed upgrade. A 101 switches to a plain
 * byte copy; anything else (such as a 403 for a WebSocket subprotocol it
 * does not speak) is passed on with its body and the session ends, so the
 * client sees the refusal and falls back to SPDY, as upstream's
 * UpgradeAwareHandler.tryUpgrade does. */
static int check_response(struct session *s) {
        if (s->body_left > 0) {
                size_t fresh = s->len[1] - s->off[1];
                if ((int64_t) fresh >= s->body_left) {
                        s->len[1] = s->off[1] + (size_t) s->body_left;
                        s->body_left = 0;
                        s->eof[1] = true;
                }
                return 0;
        }
        char *b = s->buf[1] + s->off[1], *end = memmem(b, s->len[1] - s->off[1], "\r\n\r\n", 4);
        if (!end)
                return s->len[1] == KL_STREAMPROXY_BUF ? -E2BIG : 0;
        size_t hl = (size_t) (end + 4 - b), have = s->len[1] - s->off[1] - hl;
        if (hl > 12 && strncmp(b, "HTTP/1.", 7) == 0 && strncmp(b + 9, "101", 3) == 0) {
                s->upgraded = true;
                return 0;
        }
        int64_t cl = 0;
        for (char *h = b; h && h < end; h = memchr(h, '\n', (size_t) (end - h))) {
                h++;
                if (strncasecmp(h, "content-length:", 15) == 0)
                        cl = strtoll(h + 15, NULL, 10);
        }
        if (cl < 0)
                cl = 0;
        if ((int64_t) have >= cl) {
                s->len[1] = s->off[1] + hl + (size_t) cl;
                s->eof[1] = true;
        } else
                s->body_left = cl - (int64_t) have;
        log_debug("facade: the runtime refused the upgrade: %.*s", (int) strcspn(b, "\r\n"), b);
        return 0;
}

/* Copy what can move without blocking; arm each side for what it waits for. */
static void pump(struct session *s) {
        bool progress = false;
        s->want_write = false;
        for (int i = 0; i < 2 && !s->connecting; i++) {
                int o = 1 - i;
                /* write what side o sent to side i */
                while (s->off[o] < s->len[o]) {
                        ssize_t n = kl_api_io_send(s->fd[i], i == 0 ? s->ssl : NULL, s->buf[o] + s->off[o],
                                                   s->len[o] - s->off[o], &s->want_write);
                        if (n < 0) {
                                if (errno == EINTR)
                                        continue;
                                if (errno == EAGAIN)
                                        break;
                                return session_free(s);
                        }
                        s->off[o] += (size_t) n;
                        progress = true;
                }
                if (s->off[o] == s->len[o])
                        s->off[o] = s->len[o] = 0;
                if (s->eof[o] && s->len[o] == 0 && !s->shut[i]) {
                        if (i == 0 && s->ssl)
                                (void) SSL_shutdown(s->ssl);
                        (void) shutdown(s->fd[i], SHUT_WR);
                        s->shut[i] = true;
                }
        }
        for (int i = 0; i < 2; i++) {
                if (s->eof[i] || (i == 1 && s->connecting))
                        continue;
                while (s->len[i] < KL_STREAMPROXY_BUF) {
                        ssize_t n = kl_api_io_recv(s->fd[i], i == 0 ? s->ssl : NULL, s->buf[i] + s->len[i],
                                                   KL_STREAMPROXY_BUF - s->len[i], &s->want_write);
                        if (n < 0) {
                                if (errno == EINTR)
                                        continue;
                                if (errno == EAGAIN)
                                        break;
                                return session_free(s);
                        }
                        if (n == 0) {
                                s->eof[i] = true;
                                break;
                        }
                        s->len[i] += (size_t) n;
                        progress = true;
                        if (i == 1 && !s->upgraded && check_response(s) < 0)
                                return session_free(s);
                }
        }
        /* Done when both directions have ended and nothing is left to write. */
        if (s->eof[0] && s->eof[1] && s->len[0] == 0 && s->len[1] == 0)
                return session_free(s);
        /* The runtime ended its side: the session is over once what it sent is out. */
        if (s->eof[1] && s->len[1] == 0 && s->shut[0])
                return session_free(s);
        /* TLS may hold decrypted bytes that epoll will never report. */
        if (progress && !s->eof[0] && s->len[0] < KL_STREAMPROXY_BUF && kl_api_io_pending(s->ssl) > 0)
                return pump(s);
        for (int i = 0; i < 2; i++) {
                int o = 1 - i;
                uint32_t ev = 0;
                if (i == 1 && s->connecting)
                        ev = EPOLLOUT;
                else {
                        if (!s->eof[i] && s->len[i] < KL_STREAMPROXY_BUF)
                                ev |= EPOLLIN;
                        if (s->len[o] > s->off[o] || (i == 0 && s->want_write))
                                ev |= EPOLLOUT;
                }
                (void) kl_event_io_set_events(s->io[i], ev);
        }
        kl_event_timer_set(s->idle, kl_now_usec() + KL_STREAMPROXY_IDLE_USEC);
}

/* Connect to the URL, queue the replayed head, and start splicing. */
static void start_proxy(struct session *s, const char *url) {
        char host[128], path[2048];
        int port, r;
        struct sockaddr_storage ss = {};
        struct sockaddr_in *in4 = (struct sockaddr_in *) &ss;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &ss;
        socklen_t sl;

        if (kl_streamproxy_parse_url(url, host, sizeof(host), &port, path, sizeof(path)) < 0)
                return fail(s, 500, "the runtime returned an unusable streaming URL");
        if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
                in4->sin_family = AF_INET;
                in4->sin_port = htons((uint16_t) port);
                sl = sizeof(*in4);
        } else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
                in6->sin6_family = AF_INET6;
                in6->sin6_port = htons((uint16_t) port);
                sl = sizeof(*in6);
        } else
                return fail(s, 500, "the runtime's streaming URL has no address literal");

        struct kl_buf b = {};
        kl_buf_printf(&b, "%s %s HTTP/1.1\r\nHost: %s%s%s:%d\r\n", s->method, path, strchr(host, ':') ? "[" : "", host,
                      strchr(host, ':') ? "]" : "", port);
        /* The client's headers, but for the request line, Host and our token. */
        const char *p = memchr(s->head, '\n', s->head_len);
        while (p && (size_t) (p + 1 - s->head) < s->head_len) {
                const char *line = p + 1, *end = memchr(line, '\n', s->head_len - (size_t) (line - s->head));
                if (!end || line[0] == '\r' || line[0] == '\n')
                        break;
                if (strncasecmp(line, "host:", 5) != 0 && strncasecmp(line, "authorization:", 14) != 0) {
                        size_t l = (size_t) (end - line);
                        if (l > 0 && line[l - 1] == '\r')
                                l--;
                        kl_buf_append(&b, line, l);
                        kl_buf_puts(&b, "\r\n");
                }
                p = end;
        }
        kl_buf_puts(&b, "\r\n");
        if (b.oom || b.len > KL_STREAMPROXY_BUF) {
                kl_buf_free_contents(&b);
                return fail(s, 500, "out of memory");
        }
        int ufd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (ufd < 0) {
                kl_buf_free_contents(&b);
                return fail(s, 503, "socket: %s", strerror(errno));
        }
        r = connect(ufd, (struct sockaddr *) &ss, sl);
        if (r < 0 && errno != EINPROGRESS) {
                int e = errno;
                close(ufd);
                kl_buf_free_contents(&b);
                return fail(s, 502, "connecting to the runtime's streaming server: %s", strerror(e));
        }
        s->connecting = r < 0;
        /* From here on the client socket is ours. */
        char *extra;
        size_t extra_len;
        struct kl_api_conn *c = s->c;
        kl_api_conn_on_close(c, NULL, NULL);
        s->c = NULL;
        s->fd[0] = kl_api_conn_take_fd(c, &s->ssl, &extra, &extra_len);
        s->fd[1] = ufd;
        s->buf[0] = malloc(KL_STREAMPROXY_BUF);
        s->buf[1] = malloc(KL_STREAMPROXY_BUF);
        if (s->fd[0] < 0 || !s->buf[0] || !s->buf[1] || extra_len + b.len > KL_STREAMPROXY_BUF) {
                free(extra);
                kl_buf_free_contents(&b);
                return session_free(s);
        }
        /* toward the runtime: the head, then whatever the client already sent */
        memcpy(s->buf[0], b.data, b.len);
        if (extra_len)
                memcpy(s->buf[0] + b.len, extra, extra_len);
        s->len[0] = b.len + extra_len;
        free(extra);
        kl_buf_free_contents(&b);
        s->head = mfree(s->head);
        if (kl_event_add_io(s->p->loop, s->fd[0], 0, on_io, s, &s->io[0]) < 0 ||
            kl_event_add_io(s->p->loop, s->fd[1], EPOLLOUT, on_io, s, &s->io[1]) < 0 ||
            kl_event_add_timer(s->p->loop, kl_now_usec() + KL_STREAMPROXY_IDLE_USEC, on_idle, s, &s->idle) < 0)
                return session_free(s);
        pump(s);
}

static void on_url(int r, const struct kl_error *err, const char *url, void *userdata) {
        struct session *s = userdata;
        if (!s->c) /* the client left meanwhile */
                return session_free(s);
        if (r < 0)
                return fail(s, r == -ENOENT ? 404 : 500, "%s", err ? kl_error_str(err) : strerror(-r));
        start_proxy(s, url);
}

static void on_cri_io(struct kl_event_io *io, int fd, uint32_t revents, void *userdata) {
        struct kl_streamproxy *p = userdata;
        (void) kl_cristream_dispatch(p->cri);
}

/* ---- requests ----------------------------------------------------------------------------- */

static bool qbool(const char *query, const char *key) {
        char v[16];
        return kl_api_query_get(query, key, v, sizeof(v)) && (streq(v, "true") || streq(v, "1"));
}

/* Every value of a repeated query key ("command=a&command=b"). */
static int query_all(const char *query, const char *key, char **out, size_t max, char *store, size_t ssize) {
        size_t n = 0, used = 0, kl = strlen(key);
        for (const char *p = query; p && *p;) {
                const char *amp = strchr(p, '&');
                size_t l = amp ? (size_t) (amp - p) : strlen(p);
                if (l > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
                        char term[2048];
                        if (n == max || l >= sizeof(term) - 1)
                                return -E2BIG;
                        /* decode the one term through the common helper */
                        snprintf(term, sizeof(term), "%.*s", (int) l, p);
                        char *v = store + used;
                        if (!kl_api_query_get(term, key, v, ssize - used))
                                return -EINVAL;
                        out[n++] = v;
                        used += strlen(v) + 1;
                }
                p = amp ? amp + 1 : NULL;
        }
        return (int) n;
}

void kl_streamproxy_handle(struct kl_streamproxy *p, struct kl_api_conn *c, const struct kl_api_req *req,
                           const char *ns, const char *name, const char *verb, const struct kl_jsonq *q, int items) {
        char v[256], want[256] = "", uid[128] = "", cid[256] = "", names[512] = "";
        int pod = -1, r;
        struct kl_error err = {};

        if (!req->upgrade[0])
                return kl_api_respond_status(c, 400, NULL, NULL,
                                             "Upgrade request required: exec, attach and port-forward need SPDY or "
                                             "WebSocket");
        for (int it = items >= 0 ? q->nodes[items].child : -1; it >= 0; it = q->nodes[it].next)
                if (streq(kl_jsonq_path_str(q, it, "metadata.name", v, sizeof(v)), name) &&
                    streq(kl_jsonq_path_str(q, it, "metadata.namespace", v, sizeof(v)), ns))
                        pod = it;
        if (pod < 0) {
                snprintf(v, sizeof(v), "pods \"%s\" not found", name);
                return kl_api_respond_status(c, 404, "pods", name, "%s", v);
        }
        kl_jsonq_path_str(q, pod, "metadata.uid", uid, sizeof(uid));
        if (!streq(verb, "portforward")) {
                (void) kl_api_query_get(req->query, "container", want, sizeof(want));
                int cs = kl_jsonq_path(q, pod, "status.containerStatuses"), n = 0;
                for (int k = cs >= 0 ? q->nodes[cs].child : -1; k >= 0; k = q->nodes[k].next) {
                        kl_jsonq_path_str(q, k, "name", v, sizeof(v));
                        snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", n ? " " : "", v);
                        if ((want[0] && streq(v, want)) || (!want[0] && n == 0)) {
                                kl_jsonq_path_str(q, k, "containerID", cid, sizeof(cid));
                                if (kl_jsonq_path(q, k, "state.running") < 0)
                                        cid[0] = '\0';
                        }
                        n++;
                }
                if (!want[0] && n > 1)
                        snprintf(want, sizeof(want), "%.*s", (int) strcspn(names, " "), names);
                if (!cid[0]) {
                        snprintf(v, sizeof(v), "container %s is not running in pod %s", want[0] ? want : "", name);
                        return kl_api_respond_status(c, 400, NULL, NULL, "%s", v);
                }
        }
        if (p->n >= KL_STREAMPROXY_MAX)
                return kl_api_respond_status(c, 503, NULL, NULL, "too many exec, attach or port-forward sessions");
        if (!p->cri) {
                /* The streaming channel is only opened once somebody uses it. */
                r = kl_cristream_new(p->endpoint, &p->cri, &err);
                if (r >= 0 && (r = kl_event_add_io(p->loop, kl_cristream_event_fd(p->cri), EPOLLIN, on_cri_io, p,
                                                   &p->cri_io)) < 0)
                        p->cri = kl_cristream_free(p->cri);
                if (r < 0)
                        return kl_api_respond_status(c, 503, NULL, NULL, "cannot reach the container runtime");
        }
        struct session *s = calloc(1, sizeof(*s));
        if (!s || !(s->head = malloc(req->head_len))) {
                free(s);
                return kl_api_respond_status(c, 500, NULL, NULL, "out of memory");
        }
        memcpy(s->head, req->head, req->head_len);
        s->head_len = req->head_len;
        snprintf(s->method, sizeof(s->method), "%s", req->method);
        s->p = p;
        s->c = c;
        s->fd[0] = s->fd[1] = -EBADF;
        s->next = p->sessions;
        if (p->sessions)
                p->sessions->prev = s;
        p->sessions = s;
        p->n++;
        kl_api_conn_on_close(c, on_client_gone, s);

        const char *id = strstr(cid, "://") ? strstr(cid, "://") + 3 : cid;
        bool tty = qbool(req->query, "tty"), in = qbool(req->query, "stdin"), out = qbool(req->query, "stdout"),
             er = qbool(req->query, "stderr");
        if (streq(verb, "exec")) {
                char *cmd[MAX_CMD], store[4096];
                int n = query_all(req->query, "command", cmd, MAX_CMD, store, sizeof(store));
                if (n <= 0)
                        return fail(s, 400, "%s",
                                    n == 0 ? "you must specify at least one command for the container"
                                           : "invalid command");
                r = kl_cristream_exec(p->cri, id, cmd, (size_t) n, tty, in, out, er, CRI_TIMEOUT_MS, on_url, s, &err);
        } else if (streq(verb, "attach"))
                r = kl_cristream_attach(p->cri, id, tty, in, out, er, CRI_TIMEOUT_MS, on_url, s, &err);
        else {
                int32_t ports[16];
                char *pv[16], store[512];
                int n = query_all(req->query, "port", pv, 16, store, sizeof(store));
                for (int i = 0; i < n; i++) {
                        long port = strtol(pv[i], NULL, 10);
                        if (port <= 0 || port > 65535)
                                return fail(s, 400, "invalid port '%s'", pv[i]);
                        ports[i] = (int32_t) port;
                }
                r = kl_cristream_port_forward(p->cri, uid, ports, n > 0 ? (size_t) n : 0, CRI_TIMEOUT_MS, on_url, s,
                                              &err);
        }
        if (r < 0)
                fail(s, 503, "%s", kl_error_str(&err));
}

int kl_streamproxy_new(struct kl_event *loop, const char *cri_endpoint, struct kl_streamproxy **ret) {
        struct kl_streamproxy *p = calloc(1, sizeof(*p));
        if (!p || !(p->endpoint = strdup(cri_endpoint))) {
                free(p);
                return -ENOMEM;
        }
        p->loop = loop;
        *ret = p;
        return 0;
}

struct kl_streamproxy *kl_streamproxy_free(struct kl_streamproxy *p) {
        if (!p)
                return NULL;
        kl_event_io_free(p->cri_io);
        kl_cristream_free(p->cri); /* drops pending callbacks */
        while (p->sessions)
                session_free(p->sessions);
        free(p->endpoint);
        free(p);
        return NULL;
}

unsigned kl_streamproxy_sessions(const struct kl_streamproxy *p) {
        return p->n;
}
