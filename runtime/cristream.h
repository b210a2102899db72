/* SPDX-License-Identifier: Apache-2.0 */
/* The CRI streaming calls, Exec, Attach and PortForward: each returns a URL
 * on the runtime's streaming server, which the daemon then proxies to
 * (streamproxy.c). Asynchronous, on a grpc channel of its own that is only
 * opened on first use; the caller polls kl_cristream_event_fd() in its loop
 * and calls kl_cristream_dispatch(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

struct kl_cristream;

/* url is NULL when r < 0 (err then says why). */
typedef void (*kl_cristream_url_fn)(int r, const struct kl_error *err, const char *url, void *userdata);

int kl_cristream_new(const char *endpoint, struct kl_cristream **ret, struct kl_error *reterr);
struct kl_cristream *kl_cristream_free(struct kl_cristream *s);
int kl_cristream_event_fd(struct kl_cristream *s);
int kl_cristream_dispatch(struct kl_cristream *s);

int kl_cristream_exec(struct kl_cristream *s, const char *container_id, char *const *cmd, size_t n_cmd, bool tty,
                      bool in, bool out, bool err, int64_t timeout_ms, kl_cristream_url_fn cb, void *userdata,
                      struct kl_error *reterr);
int kl_cristream_attach(struct kl_cristream *s, const char *container_id, bool tty, bool in, bool out, bool err,
                        int64_t timeout_ms, kl_cristream_url_fn cb, void *userdata, struct kl_error *reterr);
/* The pod's ready sandbox is looked up by its io.kubernetes.pod.uid label first. */
int kl_cristream_port_forward(struct kl_cristream *s, const char *pod_uid, const int32_t *ports, size_t n_ports,
                              int64_t timeout_ms, kl_cristream_url_fn cb, void *userdata, struct kl_error *reterr);
