/* SPDX-License-Identifier: Apache-2.0 */
/* A small, hardened HTTP/1.x server for the read-only endpoints: GET and HEAD
 * only, capped request line and headers, timeouts for idle and slow clients,
 * a cap on concurrent connections, one response per connection. Runs inside
 * the daemon's event loop; never blocks. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "kubelet-lite/event.h"
#include "lib/strbuf.h"

#define KL_HTTP_MAX_REQUEST 8192    /* request line plus headers */
#define KL_HTTP_MAX_TARGET 2048     /* request target (path and query) */
#define KL_HTTP_MAX_CONNECTIONS 256 /* connections being served */
/* Connections past KL_HTTP_MAX_CONNECTIONS get a 503 (and a lingering close,
 * so that the answer is not lost to a reset); past this many more as well,
 * they are closed at once. */
#define KL_HTTP_MAX_REJECTING (4 * KL_HTTP_MAX_CONNECTIONS)
#define KL_HTTP_HEADER_TIMEOUT_USEC (10 * KL_USEC_PER_SEC)
#define KL_HTTP_WRITE_TIMEOUT_USEC (30 * KL_USEC_PER_SEC)
/* After the response: how long to read and drop what the client still sends. */
#define KL_HTTP_LINGER_USEC (2 * KL_USEC_PER_SEC)

struct kl_http_response {
        int status;
        const char *content_type; /* default text/plain; charset=utf-8 */
        struct kl_buf body;
};

/* path is the decoded path without query; query may be "" */
typedef void (*kl_http_handler_fn)(const char *path, const char *query, struct kl_http_response *resp, void *userdata);

struct kl_http_server;

/* Listen on addr:port (IPv4 or IPv6 literal, or "localhost"). port 0 picks one. */
int kl_http_server_new(struct kl_event *e, const char *addr, int port, kl_http_handler_fn fn, void *userdata,
                       struct kl_http_server **ret);
struct kl_http_server *kl_http_server_free(struct kl_http_server *s);
int kl_http_server_port(const struct kl_http_server *s);
/* Connections currently open, rejected ones (503) included. */
unsigned kl_http_server_connections(const struct kl_http_server *s);
/* Override the timeouts (usec) for connections accepted from now on; 0 keeps a value. */
void kl_http_server_set_timeouts(struct kl_http_server *s, uint64_t header_usec, uint64_t write_usec,
                                 uint64_t linger_usec);

/* A parsed request head. */
struct kl_http_request {
        bool head;                          /* HEAD, else GET */
        int minor;                          /* HTTP/1.<minor> */
        char path[KL_HTTP_MAX_TARGET + 1];  /* percent-decoded, never contains NUL, starts with '/' */
        char query[KL_HTTP_MAX_TARGET + 1]; /* after the first '?', not decoded; "" when none */
};

/* Parse the request head (request line, header lines, empty line) at the start
 * of buf[0..len), which may be incomplete. Lines end in CRLF or a bare LF.
 * Returns the length of the head (> 0) and fills *ret; 0 when more bytes are
 * needed; or an error, found as soon as the bytes so far show it:
 *   -EBADMSG          malformed (400)
 *   -EOPNOTSUPP       a method other than GET or HEAD (405)
 *   -ENAMETOOLONG     target longer than KL_HTTP_MAX_TARGET (414)
 *   -EPROTONOSUPPORT  not HTTP/1.x (505)
 * Appending bytes never turns an error into anything else. */
int kl_http_parse_request(const char *buf, size_t len, struct kl_http_request *ret);
/* The same, resumable for a buffer that grows: *state starts at 0 and records
 * what has been validated already, so that each byte is looked at about once. */
int kl_http_parse_request_resume(const char *buf, size_t len, size_t *state, struct kl_http_request *ret);
/* The HTTP status for an error of kl_http_parse_request (400 for unknown ones). */
int kl_http_status_from_error(int r);
