/* SPDX-License-Identifier: Apache-2.0 */
#include "handler.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "lib/log.h"
#include "lib/macros.h"
#include "lib/strbuf.h"
#include "runtime/cri.h"

/* How long after an exec's timeout the runtime has to report it. */
#define EXEC_ANSWER_SLACK_USEC (1000 * KL_USEC_PER_MSEC)

/* Longest status or header line we accept. */
#define HTTP_LINE_MAX 8192

enum call_state {
        ST_CONNECTING,
        ST_SENDING,
        ST_READING,
        ST_EXEC,
        ST_SLEEP,
        ST_DONE,
};

enum http_phase {
        HP_STATUS,
        HP_HEADERS,
        HP_BODY,
};

/* Outlives its call when an exec is cancelled or timed out: the runtime's
 * completion finds call == NULL and only frees the token. */
struct exec_token {
        struct kl_handler_call *call;
};

struct kl_handler_call {
        struct kl_event *loop;
        enum kl_handler_kind kind;
        bool lifecycle;
        kl_handler_done_fn fn;
        void *userdata;

        struct kl_event_timer *timer; /* timeout, then delivery of the result */
        uint64_t started, sleep_end;
        enum call_state state;
        bool delivering;
        enum kl_handler_result result;
        char *message;

        /* tcpSocket, httpGet */
        int fd;
        struct kl_event_io *io;
        char *dial; /* "dial tcp 127.0.0.1:80" */
        char *url;  /* "http://127.0.0.1:80/healthz" */
        char *req;
        size_t req_len, req_sent;
        enum http_phase phase;
        char line[HTTP_LINE_MAX];
        size_t line_len;
        bool got_bytes;
        int status;
        int64_t content_length; /* -1: until EOF */
        uint64_t body_seen;
        struct kl_buf body;

        /* exec */
        struct exec_token *token;
        char *cmdline;
};

const char *kl_handler_result_to_string(enum kl_handler_result r) {
        switch (r) {
        case KL_HANDLER_SUCCESS: return "success";
        case KL_HANDLER_FAILURE: return "failure";
        case KL_HANDLER_ERROR: return "error";
        }
        return "unknown";
}

static char *strdup_vprintf(const char *fmt, va_list ap) {
        char *s = NULL;

        if (vasprintf(&s, fmt, ap) < 0)
                return NULL;
        return s;
}

static char *strdup_printf(const char *fmt, ...) _printf_(1, 2);
static char *strdup_printf(const char *fmt, ...) {
        va_list ap;
        char *s;

        va_start(ap, fmt);
        s = strdup_vprintf(fmt, ap);
        va_end(ap);
        return s;
}

/* strerror() the way Go prints errnos: "connection refused". */
static const char *errno_text(int err, char *buf, size_t size) {
        snprintf(buf, size, "%s", strerror(abs(err)));
        if (buf[0])
                buf[0] = (char) tolower((unsigned char) buf[0]);
        return buf;
}

/* Release everything that talks to the outside: fd, watch, runtime token. */
static void call_release(struct kl_handler_call *c) {
        if (c->io) {
                kl_event_io_free(c->io);
                c->io = NULL;
        }
        c->fd = safe_close(c->fd);
        if (c->token) {
                c->token->call = NULL; /* the runtime's completion frees it */
                c->token = NULL;
        }
}

static void call_free(struct kl_handler_call *c) {
        call_release(c);
        kl_event_timer_free(c->timer);
        free(c->message);
        free(c->dial);
        free(c->url);
        free(c->req);
        free(c->cmdline);
        kl_buf_free_contents(&c->body);
        free(c);
}

static void deliver(struct kl_handler_call *c) {
        c->delivering = true;
        c->fn(c->result, c->message ? c->message : "", c->userdata);
        call_free(c);
}

/* Record the result; the callback runs from the timer on the next loop pass,
 * so it never runs inside kl_handler_run() or inside someone else's dispatch. */
static void finish_msg(struct kl_handler_call *c, enum kl_handler_result result, char *message) {
        if (c->state == ST_DONE) {
                free(message);
                return;
        }
        c->state = ST_DONE;
        c->result = result;
        c->message = message;
        call_release(c);
        kl_event_timer_set(c->timer, 0);
}

static void finish(struct kl_handler_call *c, enum kl_handler_result result, const char *fmt, ...) _printf_(3, 4);
static void finish(struct kl_handler_call *c, enum kl_handler_result result, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        finish_msg(c, result, strdup_vprintf(fmt, ap));
        va_end(ap);
}

static void on_timer(struct kl_event_timer *t, uint64_t now, void *userdata) {
        struct kl_handler_call *c = userdata;

        if (c->state == ST_DONE) {
                deliver(c);
                return;
        }
        switch (c->state) {
        case ST_SLEEP:
                if (now >= c->sleep_end)
                        finish(c, KL_HANDLER_SUCCESS, "%s", "");
                else
                        finish(c, KL_HANDLER_FAILURE, "container terminated before sleep hook finished");
                break;
        case ST_EXEC:
                /* The runtime ends a command at the timeout and says so
                 * (DEADLINE_EXCEEDED, a FAILURE). No answer at all means the
                 * runtime is down or stuck: not the container's fault. */
                finish(c, KL_HANDLER_ERROR, "ExecSync: no answer from the container runtime within %.1fs",
                       (double) (now - c->started) / (double) KL_USEC_PER_SEC);
                break;
        case ST_CONNECTING:
                if (c->kind == KL_HANDLER_TCP_SOCKET) {
                        finish(c, KL_HANDLER_FAILURE, "%s: i/o timeout", c->dial);
                        break;
                }
                __attribute__((fallthrough));
        case ST_SENDING:
        case ST_READING:
                if (c->phase == HP_BODY)
                        finish(c, KL_HANDLER_FAILURE,
                               "Get \"%s\": context deadline exceeded (Client.Timeout or context "
                               "cancellation while reading body)",
                               c->url);
                else
                        finish(c, KL_HANDLER_FAILURE,
                               "Get \"%s\": context deadline exceeded (Client.Timeout exceeded "
                               "while awaiting headers)",
                               c->url);
                break;
        case ST_DONE: break;
        }
        /* finish() re-armed the timer for "now"; deliver without another pass. */
        if (c->state == ST_DONE) {
                kl_event_timer_set(t, KL_USEC_INFINITY);
                deliver(c);
        }
}

/* ---- exec ---------------------------------------------------------------------- */

static void on_exec_done(int r, const struct kl_error *err, ProtobufCMessage *reply, void *userdata) {
        struct exec_token *tok = userdata;
        struct kl_handler_call *c = tok->call;
        char ebuf[64];

        free(tok);
        if (!c)
                return; /* cancelled or timed out meanwhile */
        c->token = NULL;
        if (r == -ETIMEDOUT) {
                finish(c, KL_HANDLER_FAILURE, "command '%s' timed out", strempty(c->cmdline));
                return;
        }
        if (r < 0 || !reply) {
                finish(c, KL_HANDLER_ERROR, "%s",
                       err && err->msg[0] ? err->msg : errno_text(r < 0 ? r : EIO, ebuf, sizeof(ebuf)));
                return;
        }

        const Runtime__V1__ExecSyncResponse *x = (const Runtime__V1__ExecSyncResponse *) reply;
        struct kl_buf out = {};
        size_t n = MIN(x->stdout.len, (size_t) KL_HANDLER_OUTPUT_MAX);

        if (n > 0)
                kl_buf_append(&out, x->stdout.data, n);
        if (x->stderr.len > 0 && n < KL_HANDLER_OUTPUT_MAX)
                kl_buf_append(&out, x->stderr.data, MIN(x->stderr.len, (size_t) KL_HANDLER_OUTPUT_MAX - n));
        kl_buf_append(&out, "", 0); /* data is never NULL below */
        if (out.oom) {
                kl_buf_free_contents(&out);
                finish(c, KL_HANDLER_ERROR, "out of memory");
                return;
        }
        if (x->exit_code == 0)
                finish_msg(c, KL_HANDLER_SUCCESS, kl_buf_steal(&out, NULL));
        else
                finish(c, KL_HANDLER_FAILURE, "command '%s' exited with %d: %s", strempty(c->cmdline), x->exit_code,
                       out.data ? out.data : "");
        kl_buf_free_contents(&out);
}

static int start_exec(struct kl_handler_call *c, const struct kl_handler *h, const struct kl_handler_params *p) {
        struct kl_buf cmd = {};
        int64_t timeout_s;
        int r;

        for (char **a = h->exec_command; a && *a; a++) {
                if (a != h->exec_command)
                        kl_buf_puts(&cmd, " ");
                kl_buf_puts(&cmd, *a);
        }
        kl_buf_append(&cmd, "", 0);
        c->cmdline = kl_buf_steal(&cmd, NULL);
        if (!c->cmdline)
                return -ENOMEM;

        c->token = calloc(1, sizeof(*c->token));
        if (!c->token)
                return -ENOMEM;
        c->token->call = c;
        c->state = ST_EXEC;
        /* The runtime kills the command at timeout_s and answers
         * DEADLINE_EXCEEDED. Async calls wait for a connection until the rpc
         * deadline, so a runtime that is down would look like a command that
         * timed out: our timer gives the runtime EXEC_ANSWER_SLACK_USEC more
         * and then calls it an error instead. */
        timeout_s = p->timeout_usec ? (int64_t) ((p->timeout_usec + KL_USEC_PER_SEC - 1) / KL_USEC_PER_SEC) : 0;
        if (timeout_s > 0)
                kl_event_timer_set(c->timer,
                                   c->started + (uint64_t) timeout_s * KL_USEC_PER_SEC + EXEC_ANSWER_SLACK_USEC);
        r = kl_cri_exec_sync_async(p->cri, p->container_id, h->exec_command, timeout_s, on_exec_done, c->token);
        if (r < 0) {
                char ebuf[64];
                c->token = mfree(c->token);
                finish(c, KL_HANDLER_ERROR, "ExecSync: %s", errno_text(r, ebuf, sizeof(ebuf)));
        }
        return 0;
}

/* ---- ports and hosts ------------------------------------------------------------- */

int kl_handler_resolve_port(const struct kl_handler *h, const struct kl_container *container) {
        if (h->port_name && h->port_name[0]) {
                for (size_t i = 0; container && i < container->n_ports; i++)
                        if (streq_ptr(container->ports[i].name, h->port_name)) {
                                int port = container->ports[i].container_port;
                                return port > 0 && port < 65536 ? port : -EINVAL;
                        }
                return -ENOENT;
        }
        return h->port > 0 && h->port < 65536 ? h->port : -EINVAL;
}

struct target {
        union {
                struct sockaddr sa;
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
        };
        socklen_t len;
        char hostport[INET6_ADDRSTRLEN + 16]; /* "1.2.3.4:80", "[::1]:80" */
};

/* Only IP literals: resolving a name would block the loop. */
static int parse_target(const char *host, int port, struct target *t) {
        char buf[INET6_ADDRSTRLEN + 2];
        size_t n = strlen(host);

        if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
                if (n - 2 >= sizeof(buf))
                        return -EINVAL;
                memcpy(buf, host + 1, n - 2);
                buf[n - 2] = '\0';
        } else {
                if (n >= sizeof(buf))
                        return -EINVAL;
                memcpy(buf, host, n + 1);
        }
        memset(t, 0, sizeof(*t));
        if (inet_pton(AF_INET, buf, &t->in.sin_addr) == 1) {
                t->in.sin_family = AF_INET;
                t->in.sin_port = htons((uint16_t) port);
                t->len = sizeof(t->in);
                snprintf(t->hostport, sizeof(t->hostport), "%s:%d", buf, port);
                return 0;
        }
        if (inet_pton(AF_INET6, buf, &t->in6.sin6_addr) == 1) {
                t->in6.sin6_family = AF_INET6;
                t->in6.sin6_port = htons((uint16_t) port);
                t->len = sizeof(t->in6);
                snprintf(t->hostport, sizeof(t->hostport), "[%s]:%d", buf, port);
                return 0;
        }
        return -EINVAL;
}

/* ---- HTTP ----------------------------------------------------------------------- */

static bool is_token_char(unsigned char ch) {
        return ch > 0x20 && ch < 0x7f && !strchr("()<>@,;:\\\"/[]?={}", ch);
}

static bool valid_header(const struct kl_kv *kv) {
        if (!kv->key || !kv->key[0])
                return false;
        for (const char *s = kv->key; *s; s++)
                if (!is_token_char((unsigned char) *s))
                        return false;
        return !kv->value || !strpbrk(kv->value, "\r\n");
}

static const struct kl_kv *find_header(const struct kl_handler *h, const char *name) {
        for (size_t i = 0; i < h->n_http_headers; i++)
                if (h->http_headers[i].key && strcasecmp(h->http_headers[i].key, name) == 0)
                        return &h->http_headers[i];
        return NULL;
}

/* Request target: absolute path, bytes a request line cannot carry escaped. */
static void append_path(struct kl_buf *b, const char *path) {
        if (!path || path[0] != '/')
                kl_buf_puts(b, "/");
        for (const unsigned char *s = (const unsigned char *) strempty(path); *s; s++) {
                if (*s <= 0x20 || *s >= 0x7f)
                        kl_buf_printf(b, "%%%02X", *s);
                else
                        kl_buf_append(b, s, 1);
        }
}

static int build_request(struct kl_handler_call *c, const struct kl_handler *h, const char *hostport,
                         char **ret_error) {
        struct kl_buf path = {}, req = {};
        const struct kl_kv *kv;

        append_path(&path, h->path);
        kl_buf_append(&path, "", 0);
        if (path.oom)
                return -ENOMEM;
        c->url = strdup_printf("http://%s%s", hostport, path.data);

        for (size_t i = 0; i < h->n_http_headers; i++)
                if (!valid_header(&h->http_headers[i])) {
                        *ret_error = strdup_printf("invalid HTTP header '%s'", strempty(h->http_headers[i].key));
                        kl_buf_free_contents(&path);
                        return -EINVAL;
                }

        kl_buf_printf(&req, "GET %s HTTP/1.1\r\n", path.data);
        kl_buf_free_contents(&path);
        kv = find_header(h, "Host");
        kl_buf_printf(&req, "Host: %s\r\n", kv && kv->value && kv->value[0] ? kv->value : hostport);
        if (!find_header(h, "User-Agent"))
                kl_buf_printf(&req, "User-Agent: kube-%s/%s\r\n", c->lifecycle ? "lifecycle" : "probe",
                              KL_HANDLER_USER_AGENT_VERSION);
        if (!find_header(h, "Accept"))
                kl_buf_puts(&req, "Accept: */*\r\n");
        for (size_t i = 0; i < h->n_http_headers; i++) {
                kv = &h->http_headers[i];
                if (strcasecmp(kv->key, "Host") == 0)
                        continue;
                /* An empty Accept removes the default, as upstream. */
                if (strcasecmp(kv->key, "Accept") == 0 && !(kv->value && kv->value[0]))
                        continue;
                kl_buf_printf(&req, "%s: %s\r\n", kv->key, strempty(kv->value));
        }
        if (!find_header(h, "Connection"))
                kl_buf_puts(&req, "Connection: close\r\n");
        kl_buf_puts(&req, "\r\n");
        if (req.oom || !c->url) {
                kl_buf_free_contents(&req);
                return -ENOMEM;
        }
        c->req_len = req.len;
        c->req = kl_buf_steal(&req, NULL);
        return c->req ? 0 : -ENOMEM;
}

static void http_done(struct kl_handler_call *c) {
        const char *body;

        kl_buf_append(&c->body, "", 0);
        body = c->body.oom ? "" : c->body.data;
        if (c->status >= 200 && c->status < 300)
                finish(c, KL_HANDLER_SUCCESS, "%s", body);
        else if (c->status >= 300 && c->status < 400)
                /* Not followed: upstream follows only same-host redirects and
                 * reports the others as a success with a warning. */
                finish(c, KL_HANDLER_SUCCESS, "Probe terminated redirects, Response body: %s", body);
        else
                /* Upstream leaves the body out of failure messages on purpose. */
                finish(c, c->lifecycle ? KL_HANDLER_SUCCESS : KL_HANDLER_FAILURE,
                       "HTTP probe failed with statuscode: %d", c->status);
}

static bool parse_status_line(const char *l, int *ret) {
        /* "HTTP/1.1 200 OK", reason optional */
        if (strncmp(l, "HTTP/", 5) != 0 || !isdigit((unsigned char) l[5]) || l[6] != '.' ||
            !isdigit((unsigned char) l[7]) || l[8] != ' ')
                return false;
        for (int i = 9; i < 12; i++)
                if (!isdigit((unsigned char) l[i]))
                        return false;
        if (l[12] != '\0' && l[12] != ' ')
                return false;
        *ret = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
        return *ret >= 100;
}

static void http_header_line(struct kl_handler_call *c, char *l) {
        char *colon = strchr(l, ':'), *v, *end;

        if (!colon)
                return;
        *colon = '\0';
        v = colon + 1;
        v += strspn(v, " \t");
        if (strcasecmp(l, "Content-Length") == 0 && c->content_length != -2) {
                unsigned long long n;
                errno = 0;
                n = strtoull(v, &end, 10);
                if (errno == 0 && end != v && n <= INT64_MAX)
                        c->content_length = (int64_t) n;
        } else if (strcasecmp(l, "Transfer-Encoding") == 0 && strcasestr(v, "chunked"))
                c->content_length = -2; /* chunked: read to EOF, body kept as sent */
}

/* One complete line of the response head (CR LF stripped). */
static void http_line(struct kl_handler_call *c, char *l) {
        if (c->phase == HP_STATUS) {
                if (!parse_status_line(l, &c->status)) {
                        finish(c, KL_HANDLER_FAILURE, "Get \"%s\": malformed HTTP response \"%.64s\"", c->url, l);
                        return;
                }
                c->phase = HP_HEADERS;
                c->content_length = -1;
                return;
        }
        if (l[0] != '\0') {
                http_header_line(c, l);
                return;
        }
        /* End of the head. Informational answers precede the real one. */
        if (c->status < 200 && c->status != 101) {
                c->phase = HP_STATUS;
                return;
        }
        if (c->status < 200 || c->status == 204 || c->status == 304 || c->content_length == 0) {
                http_done(c);
                return;
        }
        c->phase = HP_BODY;
}

static void http_feed(struct kl_handler_call *c, const char *p, size_t n) {
        while (n > 0 && c->state != ST_DONE) {
                if (c->phase == HP_BODY) {
                        size_t room = KL_HANDLER_OUTPUT_MAX - c->body.len;
                        size_t take = n;
                        if (c->content_length >= 0 && (uint64_t) c->content_length - c->body_seen < take)
                                take = (size_t) ((uint64_t) c->content_length - c->body_seen);
                        kl_buf_append(&c->body, p, MIN(take, room));
                        c->body_seen += take;
                        if ((c->content_length >= 0 && c->body_seen >= (uint64_t) c->content_length) ||
                            c->body.len >= KL_HANDLER_OUTPUT_MAX)
                                http_done(c);
                        return;
                }
                const char *nl = memchr(p, '\n', n);
                size_t take = nl ? (size_t) (nl - p) + 1 : n;
                if (c->line_len + take >= sizeof(c->line)) {
                        finish(c, KL_HANDLER_FAILURE, "Get \"%s\": response header line too long", c->url);
                        return;
                }
                memcpy(c->line + c->line_len, p, take);
                c->line_len += take;
                p += take;
                n -= take;
                if (!nl)
                        break;
                c->line[--c->line_len] = '\0';
                if (c->line_len > 0 && c->line[c->line_len - 1] == '\r')
                        c->line[--c->line_len] = '\0';
                c->line_len = 0;
                http_line(c, c->line);
        }
}

static void http_eof(struct kl_handler_call *c) {
        if (c->phase == HP_BODY)
                http_done(c);
        else
                finish(c, KL_HANDLER_FAILURE, "Get \"%s\": %s", c->url, c->got_bytes ? "unexpected EOF" : "EOF");
}

static void net_fail(struct kl_handler_call *c, const char *op, int err) {
        char ebuf[64];

        errno_text(err, ebuf, sizeof(ebuf));
        if (c->kind == KL_HANDLER_TCP_SOCKET)
                finish(c, KL_HANDLER_FAILURE, "%s: %s: %s", c->dial, op, ebuf);
        else if (c->state == ST_CONNECTING)
                finish(c, KL_HANDLER_FAILURE, "Get \"%s\": %s: %s: %s", c->url, c->dial, op, ebuf);
        else
                finish(c, KL_HANDLER_FAILURE, "Get \"%s\": %s: %s", c->url, op, ebuf);
}

static void http_send(struct kl_handler_call *c) {
        while (c->req_sent < c->req_len) {
                ssize_t n = send(c->fd, c->req + c->req_sent, c->req_len - c->req_sent, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return;
                        net_fail(c, "write", errno);
                        return;
                }
                c->req_sent += (size_t) n;
        }
        c->state = ST_READING;
        if (kl_event_io_set_events(c->io, EPOLLIN) < 0)
                net_fail(c, "epoll", errno);
}

static void http_read(struct kl_handler_call *c) {
        char buf[4096];

        while (c->state == ST_READING) {
                ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return;
                        if (c->phase == HP_BODY) /* the status is in: good enough */
                                http_done(c);
                        else
                                net_fail(c, "read", errno);
                        return;
                }
                if (n == 0) {
                        http_eof(c);
                        return;
                }
                c->got_bytes = true;
                http_feed(c, buf, (size_t) n);
        }
}

static void on_io(struct kl_event_io *io, int fd, uint32_t revents, void *userdata) {
        struct kl_handler_call *c = userdata;

        if (c->state == ST_CONNECTING) {
                int err = 0;
                socklen_t len = sizeof(err);
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                        err = errno;
                if (err == 0 && (revents & (EPOLLERR | EPOLLHUP)) && !(revents & EPOLLOUT))
                        err = ECONNREFUSED;
                if (err != 0) {
                        net_fail(c, "connect", err);
                        return;
                }
                if (c->kind == KL_HANDLER_TCP_SOCKET) {
                        finish(c, KL_HANDLER_SUCCESS, "%s", "");
                        return;
                }
                c->state = ST_SENDING;
        }
        if (c->state == ST_SENDING)
                http_send(c);
        else if (c->state == ST_READING)
                http_read(c);
}

static int start_net(struct kl_handler_call *c, const struct kl_handler *h, const struct kl_handler_params *p) {
        const char *host = h->host && h->host[0] ? h->host : p->default_host;
        _cleanup_free_ char *error = NULL;
        struct target t;
        int port, r;

        if (h->kind == KL_HANDLER_HTTP_GET && h->scheme && strcasecmp(h->scheme, "HTTPS") == 0) {
                finish(c, KL_HANDLER_ERROR, "https probes are not supported");
                return 0;
        }
        port = kl_handler_resolve_port(h, p->container);
        if (port == -ENOENT) {
                finish(c, KL_HANDLER_ERROR, "port \"%s\" not found", h->port_name);
                return 0;
        }
        if (port < 0) {
                finish(c, KL_HANDLER_ERROR, "invalid port number: %d", h->port);
                return 0;
        }
        if (!host || !host[0]) {
                finish(c, KL_HANDLER_ERROR, "no host to connect to (pod IP not known yet)");
                return 0;
        }
        if (parse_target(host, port, &t) < 0) {
                finish(c, KL_HANDLER_ERROR, "host '%s' is not an IP address (host names are not supported)", host);
                return 0;
        }
        c->dial = strdup_printf("dial tcp %s", t.hostport);
        if (!c->dial)
                return -ENOMEM;
        if (h->kind == KL_HANDLER_HTTP_GET) {
                r = build_request(c, h, t.hostport, &error);
                if (r == -EINVAL) {
                        finish(c, KL_HANDLER_ERROR, "%s", strempty(error));
                        return 0;
                }
                if (r < 0)
                        return r;
        }

        c->state = ST_CONNECTING;
        c->fd = socket(t.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c->fd < 0) {
                net_fail(c, "socket", errno);
                return 0;
        }
        if (connect(c->fd, &t.sa, t.len) < 0 && errno != EINPROGRESS) {
                net_fail(c, "connect", errno);
                return 0;
        }
        /* Connected or not, EPOLLOUT tells us (and SO_ERROR why not). */
        r = kl_event_add_io(c->loop, c->fd, EPOLLOUT, on_io, c, &c->io);
        if (r < 0)
                return r;
        return 0;
}

/* ---- entry points ----------------------------------------------------------------- */

int kl_handler_run(const struct kl_handler *h, const struct kl_handler_params *p, kl_handler_done_fn fn, void *userdata,
                   struct kl_handler_call **ret) {
        struct kl_handler_call *c;
        uint64_t now = kl_now_usec(), deadline;
        int r;

        if (!h || !p || !p->loop || !fn)
                return -EINVAL;
        if (h->kind == KL_HANDLER_EXEC && (!p->cri || !p->container_id || !h->exec_command || !h->exec_command[0]))
                return -EINVAL;
        if (h->kind != KL_HANDLER_EXEC && h->kind != KL_HANDLER_HTTP_GET && h->kind != KL_HANDLER_TCP_SOCKET &&
            h->kind != KL_HANDLER_SLEEP)
                return -EINVAL;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->loop = p->loop;
        c->kind = h->kind;
        c->lifecycle = p->lifecycle;
        c->fn = fn;
        c->userdata = userdata;
        c->fd = -EBADF;
        c->started = now;
        deadline = p->timeout_usec ? now + p->timeout_usec : KL_USEC_INFINITY;
        if (h->kind == KL_HANDLER_SLEEP) {
                uint64_t s = h->sleep_seconds > 0 ? (uint64_t) h->sleep_seconds : 0;
                c->sleep_end = now + s * KL_USEC_PER_SEC;
                deadline = MIN(deadline, c->sleep_end);
                c->state = ST_SLEEP;
        }
        r = kl_event_add_timer(p->loop, deadline, on_timer, c, &c->timer);
        if (r < 0) {
                free(c);
                return r;
        }

        if (h->kind == KL_HANDLER_EXEC)
                r = start_exec(c, h, p);
        else if (h->kind == KL_HANDLER_HTTP_GET || h->kind == KL_HANDLER_TCP_SOCKET)
                r = start_net(c, h, p);
        if (r < 0) {
                call_free(c);
                return r;
        }
        log_debug("handler: started %s call %p",
                  c->kind == KL_HANDLER_EXEC         ? "exec"
                  : c->kind == KL_HANDLER_SLEEP      ? "sleep"
                  : c->kind == KL_HANDLER_TCP_SOCKET ? "tcpSocket"
                                                     : "httpGet",
                  (void *) c);
        if (ret)
                *ret = c;
        return 0;
}

void kl_handler_cancel(struct kl_handler_call *c) {
        if (!c || c->delivering)
                return;
        call_free(c);
}
