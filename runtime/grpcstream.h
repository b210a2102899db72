/* SPDX-License-Identifier: Apache-2.0 */
/* Server-streaming gRPC calls (the device plugins' ListAndWatch) on a
 * runtime/grpc channel: they share its completion thread and eventfd, and
 * their callbacks run from kl_grpc_dispatch(). */
#pragma once

#include "runtime/grpc.h"

/* A server-streaming call ("rpc X(Req) returns (stream Reply)"), with no
 * deadline. cb runs from kl_grpc_dispatch(): once per message (r >= 0, msg
 * set, freed after cb unless taken with kl_grpc_take_reply), then once at the
 * end (msg NULL; r = 0 when the server closed it with OK, < 0 with err
 * otherwise, -ENOTCONN when the peer went away). After the end callback the
 * stream is gone. kl_grpc_free() cancels every stream still open. */
struct kl_grpc_stream;
typedef void (*kl_grpc_stream_fn)(struct kl_grpc_stream *s, int r, const struct kl_error *err, ProtobufCMessage *msg,
                                  void *userdata);
int kl_grpc_stream_start(struct kl_grpc *g, const struct kl_grpc_method *m, const ProtobufCMessage *req,
                         kl_grpc_stream_fn cb, void *userdata, struct kl_grpc_stream **ret, struct kl_error *reterr);
/* Its callback never runs again; NULL-safe, a no-op from inside its end
 * callback. Never call it after the end callback returned. */
void kl_grpc_stream_cancel(struct kl_grpc_stream *s);
