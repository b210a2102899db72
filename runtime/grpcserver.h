/* SPDX-License-Identifier: Apache-2.0 */
/* A gRPC server on a unix socket, for the device plugin API (the kubelet's
 * Registration service, and the DevicePlugin service of our plugin).
 *
 * Like grpc.c, it keeps grpc C core out of every header: one internal thread
 * takes the completions and posts them to an eventfd, and
 * kl_grpc_server_dispatch() runs the callbacks on the caller's thread, so an
 * event loop never blocks on it.
 *
 * A call is handed over once its request message has arrived: on_call gets
 * the method path and the raw request bytes. The handler answers at once or
 * later (unary: kl_grpc_server_reply/_fail), or keeps the call open and
 * sends messages on it (server streaming: kl_grpc_server_send, ended with
 * _reply(NULL) or _fail). on_closed runs once for every call handed over,
 * when the call is over (answered, or the client went away); the call
 * pointer is invalid after it returns. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "lib/error.h"

struct kl_grpc_server;
struct kl_grpc_server_call;

struct kl_grpc_server_ops {
        void (*on_call)(struct kl_grpc_server_call *c, const char *method, const uint8_t *data, size_t len,
                        void *userdata);
        void (*on_closed)(struct kl_grpc_server_call *c, void *userdata); /* may be NULL */
};

/* Listens on socket_path (an existing file there is removed first). */
int kl_grpc_server_new(const char *socket_path, const struct kl_grpc_server_ops *ops, void *userdata,
                       struct kl_grpc_server **ret, struct kl_error *reterr);
/* Cancels every call, stops listening and removes the socket. NULL-safe;
 * never from inside one of its callbacks. */
struct kl_grpc_server *kl_grpc_server_free(struct kl_grpc_server *s);
/* Readable (EFD_NONBLOCK|EFD_CLOEXEC eventfd) when callbacks wait. */
int kl_grpc_server_event_fd(struct kl_grpc_server *s);
/* Runs waiting callbacks; returns how many ran. */
int kl_grpc_server_dispatch(struct kl_grpc_server *s);

/* A per-call pointer for the handler. */
void kl_grpc_server_call_set_data(struct kl_grpc_server_call *c, void *data);
void *kl_grpc_server_call_get_data(struct kl_grpc_server_call *c);

/* Ends the call with status OK, after msg when not NULL. -ENOTCONN when the
 * client is gone, -EALREADY when the call was ended already. */
int kl_grpc_server_reply(struct kl_grpc_server_call *c, const ProtobufCMessage *msg);
/* The same with an already serialized message. */
int kl_grpc_server_reply_raw(struct kl_grpc_server_call *c, const uint8_t *data, size_t len);
int kl_grpc_server_send_raw(struct kl_grpc_server_call *c, const uint8_t *data, size_t len);
/* Ends the call with a gRPC status code (grpc/status.h numbers) and details. */
int kl_grpc_server_fail(struct kl_grpc_server_call *c, int status, const char *details);
/* One message of a stream. While a send is in flight, the next message waits
 * and a newer one replaces it: meant for streams where each message is a
 * full state, as ListAndWatch is. */
int kl_grpc_server_send(struct kl_grpc_server_call *c, const ProtobufCMessage *msg);
