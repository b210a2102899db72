/* SPDX-License-Identifier: Apache-2.0 */
/* gRPC health checks (grpc.health.v1.Health/Check) for grpc probes, over
 * runtime/grpc's async unary calls: nothing blocks, the callback runs from
 * kl_health_dispatch() when kl_health_fd() is readable.
 *
 * The result follows upstream's pkg/probe/grpc/grpc.go (Probe): SERVING is
 * success ("service healthy"); any other status, any rpc error, a connection
 * that cannot be made and the timeout are failures, with upstream's wording:
 *   service unhealthy (responded with "NOT_SERVING")
 *   error: this server does not implement the grpc health protocol (grpc.health.v1.Health): ...
 *   timeout: health rpc did not complete within 1s
 *   error: health rpc probe failed: ...
 * A call waits for the connection until its deadline, as upstream's dial
 * with WithBlock does, so a port nobody listens on is a timeout. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "lib/error.h"

struct kl_health;

/* message is valid during the callback only. */
typedef void (*kl_health_fn)(bool healthy, const char *message, void *userdata);

/* A channel to host:port (an IPv4 or IPv6 literal: no DNS, it would block).
 * Does not connect yet. -EINVAL for a bad host or port. */
int kl_health_new(const char *host, int port, struct kl_health **ret, struct kl_error *reterr);
/* Cancels a call in flight: its callback never runs. NULL-safe, returns NULL. */
struct kl_health *kl_health_free(struct kl_health *h);

/* Start one Check for service ("" for the server as a whole) with timeout_ms
 * as deadline. One call at a time: -EBUSY while one is in flight. */
int kl_health_check_async(struct kl_health *h, const char *service, int64_t timeout_ms, kl_health_fn fn, void *userdata,
                          struct kl_error *reterr);
/* Readable when a result waits; poll it in the event loop. */
int kl_health_fd(struct kl_health *h);
/* Run the callback of a finished call, if any. Returns how many ran. */
int kl_health_dispatch(struct kl_health *h);
/* Drop the call in flight: its callback never runs. */
void kl_health_cancel(struct kl_health *h);
