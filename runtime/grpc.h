/* SPDX-License-Identifier: Apache-2.0 */
/* Unary gRPC calls over a unix socket, protobuf-c messages in and out.
 *
 * Only runtime/grpc.c, grpcstream.c (server streams on the same channels)
 * and grpcserver.c talk to grpc C core: its maintainers call it a low-level
 * API that changes between minor versions, so nothing of it leaks through
 * these headers. cri.c builds on it.
 *
 * Two paths:
 *  - kl_grpc_call() blocks the calling thread until the reply, the deadline or
 *    a failed connect (bounded by KL_GRPC_CONNECT_TIMEOUT_MS).
 *  - kl_grpc_call_async() returns at once; one internal thread collects the
 *    completions and posts them to an eventfd, and kl_grpc_dispatch() runs the
 *    callbacks on the caller's thread.
 *
 * Errors are -errno with "Method: rpc error CODE: details" in reterr. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "lib/error.h"

/* Replies and requests larger than this are refused (grpc's own default is
 * 4 MiB, which a ListContainers on a busy node can exceed). */
#define KL_GRPC_MAX_MESSAGE (16 * 1024 * 1024)
/* How long a synchronous call waits for the socket to accept a connection
 * before failing with -ECONNREFUSED, so a dead runtime never blocks a caller
 * for a whole call timeout. */
#define KL_GRPC_CONNECT_TIMEOUT_MS 1000

struct kl_grpc;

struct kl_grpc_method {
        const char *path; /* "/runtime.v1.RuntimeService/Version" */
        const char *name; /* "Version", the prefix of error messages */
        const ProtobufCMessageDescriptor *reply;
        const char *op; /* for the observer: "version", as upstream's operation_type label; may be NULL */
};

/* Told of every finished call, synchronous or not: r < 0 on failure, and how
 * long it took (monotonic usec). Runs on the caller's thread (the dispatching
 * thread for async calls). */
typedef void (*kl_grpc_observer_t)(const struct kl_grpc_method *m, int r, uint64_t usec, void *userdata);

/* The reply is freed by the runtime after the callback returns; err is NULL
 * when r >= 0, reply is NULL when r < 0. */
typedef void (*kl_grpc_callback_t)(int r, const struct kl_error *err, ProtobufCMessage *reply, void *userdata);

/* target: "unix:///absolute/path". Does not connect yet; the first call does. */
int kl_grpc_new(const char *target, struct kl_grpc **ret, struct kl_error *reterr);
/* From inside an async callback: keep its reply (the caller frees it with
 * kl_grpc_message_free). NULL when reply is not the current callback's. */
ProtobufCMessage *kl_grpc_take_reply(struct kl_grpc *g, ProtobufCMessage *reply);
void kl_grpc_set_observer(struct kl_grpc *g, kl_grpc_observer_t fn, void *userdata);
/* Cancels in-flight async calls and drops their callbacks. NULL-safe. */
struct kl_grpc *kl_grpc_free(struct kl_grpc *g);

int kl_grpc_call(struct kl_grpc *g, const struct kl_grpc_method *m, const ProtobufCMessage *req, int64_t timeout_ms,
                 ProtobufCMessage **ret_reply, struct kl_error *reterr);

int kl_grpc_call_async(struct kl_grpc *g, const struct kl_grpc_method *m, const ProtobufCMessage *req,
                       int64_t timeout_ms, kl_grpc_callback_t cb, void *userdata, struct kl_error *reterr);
/* Readable (EFD_NONBLOCK|EFD_CLOEXEC eventfd) when completions wait. */
int kl_grpc_event_fd(struct kl_grpc *g);
/* Runs the callbacks of completed async calls; returns how many ran. A
 * callback may start new calls but must not free g. */
int kl_grpc_dispatch(struct kl_grpc *g);
/* Cancel every in-flight async call and forget every completed one that was
 * not dispatched yet: none of their callbacks will ever run. */
void kl_grpc_forget_pending(struct kl_grpc *g);
/* Async calls started and not dispatched or forgotten yet. */
unsigned kl_grpc_n_pending(struct kl_grpc *g);

/* gRPC status code (numbers of grpc/status.h, stable across versions) to
 * -errno, and to its canonical name ("NOT_FOUND"); exposed for tests. */
int kl_grpc_status_to_errno(int status);
const char *kl_grpc_status_to_string(int status);
/* Free a reply (NULL-safe). */
void kl_grpc_message_free(ProtobufCMessage *m);
