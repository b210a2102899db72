/* SPDX-License-Identifier: Apache-2.0 */
/* A small, hardened HTTP/1.x server for the read-only endpoints: GET and HEAD
 * only, capped request line and headers, timeouts for idle and slow clients,
 * a cap on concurrent connections, one response per connection. Runs inside
 * the daemon's event loop; never blocks. */
#pragma once

#include "event.h"
#include "lib/strbuf.h"

#define KL_HTTP_MAX_REQUEST 8192      /* request line plus headers */
#define KL_HTTP_MAX_CONNECTIONS 256
#define KL_HTTP_HEADER_TIMEOUT_USEC (10 * KL_USEC_PER_SEC)
#define KL_HTTP_WRITE_TIMEOUT_USEC (30 * KL_USEC_PER_SEC)

struct kl_http_response {
        int status;
        const char *content_type; /* default text/plain; charset=utf-8 */
        struct kl_buf body;
};

/* path is the decoded path without query; query may be "" */
typedef void (*kl_http_handler_fn)(const char *path, const char *query, struct kl_http_response *resp,
                                   void *userdata);

struct kl_http_server;

/* Listen on addr:port (IPv4 or IPv6 literal, or "localhost"). port 0 picks one. */
int kl_http_server_new(struct kl_event *e, const char *addr, int port, kl_http_handler_fn fn,
                       void *userdata, struct kl_http_server **ret);
struct kl_http_server *kl_http_server_free(struct kl_http_server *s);
int kl_http_server_port(const struct kl_http_server *s);
unsigned kl_http_server_connections(const struct kl_http_server *s);
