/* SPDX-License-Identifier: Apache-2.0 */
/* The connection layer of the API facade (apiserver.c): like http.c, a
 * hardened HTTP/1.1 server in the event loop (capped head, header timeout,
 * connection cap), but it hands every method and the request headers to the
 * handler, and a response may be
 *   - whole (Content-Length, then close),
 *   - a chunked stream that stays open (watch, logs -f), with a bounded
 *     output buffer so a client that does not read never holds the daemon,
 *   - deferred (the handler answers later, e.g. after an async CRI call),
 *   - taken over: the socket is handed on for an HTTP upgrade (exec).
 * One request per connection. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kubelet-lite/event.h"

#define KL_API_MAX_HEAD 16384
#define KL_API_MAX_TARGET 4096
#define KL_API_MAX_CONNECTIONS 128
#define KL_API_STREAM_BUF_MAX (1024 * 1024) /* output buffered for one stream */
#define KL_API_HEADER_TIMEOUT_USEC (10 * KL_USEC_PER_SEC)
#define KL_API_WRITE_TIMEOUT_USEC (30 * KL_USEC_PER_SEC)

struct kl_api_req {
        char method[16];
        char path[KL_API_MAX_TARGET + 1]; /* percent-decoded */
        char query[KL_API_MAX_TARGET + 1];
        char authorization[1024];
        char accept[512];
        char upgrade[128];
        char connection[128];
        const char *head; /* the raw head, for replaying it upstream */
        size_t head_len;
};

struct kl_api_conn;
struct kl_api_server;

typedef void (*kl_api_handler_fn)(struct kl_api_conn *c, const struct kl_api_req *req, void *userdata);
/* A stream's output buffer drained below a low mark (more may be written). */
typedef void (*kl_api_drain_fn)(struct kl_api_conn *c, void *userdata);
/* The connection is going away (client closed, error, timeout, server freed).
 * The connection must not be used after this. */
typedef void (*kl_api_close_fn)(struct kl_api_conn *c, void *userdata);

/* ssl_ctx: an OpenSSL SSL_CTX for https (kl_tls_server_ctx), or NULL for plain http. */
int kl_api_server_new(struct kl_event *e, const char *addr, int port, void *ssl_ctx, kl_api_handler_fn fn,
                      void *userdata, struct kl_api_server **ret);
struct kl_api_server *kl_api_server_free(struct kl_api_server *s);
int kl_api_server_port(const struct kl_api_server *s);
unsigned kl_api_server_connections(const struct kl_api_server *s);

/* Parse a request head (any method). Returns its length, 0 when incomplete,
 * or the errors of kl_http_parse_request (-EBADMSG, -ENAMETOOLONG, ...). */
int kl_api_parse_request(const char *buf, size_t len, struct kl_api_req *ret);

/* Whole response; closes the connection afterwards. */
void kl_api_conn_respond(struct kl_api_conn *c, int status, const char *ctype, const char *body, size_t len);
/* Chunked stream: headers now, chunks with kl_api_conn_write, end with kl_api_conn_end. */
int kl_api_conn_stream_begin(struct kl_api_conn *c, int status, const char *ctype, kl_api_drain_fn drain,
                             void *userdata);
/* -ENOBUFS when more than KL_API_STREAM_BUF_MAX would be buffered. */
int kl_api_conn_write(struct kl_api_conn *c, const void *data, size_t len);
size_t kl_api_conn_pending(const struct kl_api_conn *c);
void kl_api_conn_end(struct kl_api_conn *c);
/* Told when the connection goes away; set by a handler that keeps a reference. */
void kl_api_conn_on_close(struct kl_api_conn *c, kl_api_close_fn fn, void *userdata);
/* Hand the socket over (for an upgrade): returns the fd (non-blocking) and
 * its SSL (NULL when plain; the caller frees it with kl_api_io_free), and
 * frees the connection without calling its close callback. *ret_extra gets
 * bytes the client sent after the head (malloc'd, may be NULL). */
int kl_api_conn_take_fd(struct kl_api_conn *c, void **ret_ssl, char **ret_extra, size_t *ret_extra_len);
/* I/O on a taken-over socket, through its SSL when it has one: as recv/send
 * (n, 0 at EOF, -1 with errno EAGAIN when not ready); *want_write is set
 * when TLS needs the socket writable first. */
ssize_t kl_api_io_recv(int fd, void *ssl, void *buf, size_t n, bool *want_write);
ssize_t kl_api_io_send(int fd, void *ssl, const void *buf, size_t n, bool *want_write);
/* Bytes TLS holds already decrypted (epoll does not see them). */
size_t kl_api_io_pending(void *ssl);
void kl_api_io_free(void *ssl);
struct kl_event *kl_api_conn_loop(const struct kl_api_conn *c);

/* The percent-decoded (and '+' as space) value of key in a query string.
 * Returns false when absent; a value with a NUL or longer than size-1 is
 * treated as absent too (*ret_bad set when given). */
bool kl_api_query_get(const char *query, const char *key, char *buf, size_t size);

/* A whole response with a v1 Status of code (reason from the code); kind
 * and name go in its details when name is not NULL. */
void kl_api_respond_status(struct kl_api_conn *c, int code, const char *kind, const char *name, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
