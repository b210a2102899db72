/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by runtime/grpc.c (unary calls, the channel and its completion
 * thread), runtime/grpcstream.c (server-streaming calls on the same channel
 * and thread) and runtime/grpcserver.c (its thread): nothing outside
 * runtime/grpc*.c includes it. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <grpc/grpc.h>
#include <grpc/support/time.h>

#include "runtime/grpc.h"
#include "runtime/grpcstream.h"

/* A thread with every signal blocked, named (grpc.c). 0 or -errno. */
int kl__grpc_thread_start(pthread_t *ret, void *(*fn)(void *), void *arg, const char *name);

struct call_state {
        grpc_call *call;
        grpc_byte_buffer *send;
        grpc_byte_buffer *recv;
        grpc_metadata_array initial_md;
        grpc_metadata_array trailing_md;
        grpc_status_code status;
        grpc_slice details;
        const char *error_string;
};

/* One async call, from kl_grpc_call_async() to its dispatch. It sits in the
 * in-flight list while grpc owns it, then in the done list. */
struct pending {
        int kind; /* TAG_UNARY; first, as in every completion queue tag */
        struct pending *prev, *next;
        const struct kl_grpc_method *m;
        struct call_state cs;
        kl_grpc_callback_t cb;
        void *userdata;
        uint64_t generation;
        uint64_t t0; /* monotonic usec, for the observer */
        int r;
        ProtobufCMessage *reply;
        struct kl_error err;
        struct kl_grpc_stream *stream; /* a stream's message or end, not a unary call */
};

/* What a completion queue tag points at: its first int says which. */
enum {
        TAG_UNARY = 1,
        TAG_STREAM_START,
        TAG_STREAM_MSG,
        TAG_STREAM_STATUS,
};

struct kl_grpc {
        char *target;
        const char *socket_path; /* inside target, for "unix://" targets */
        grpc_channel *channel;
        grpc_completion_queue *sync_cq;  /* pluck: synchronous calls, connectivity watches */
        grpc_completion_queue *async_cq; /* next: drained by the worker thread only */
        int event_fd;
        kl_grpc_observer_t observer;
        void *observer_data;
        struct pending *dispatching; /* whose callback runs now */
        bool grpc_initialized;
        bool thread_started;
        pthread_t thread;

        pthread_mutex_t lock; /* guards everything below */
        struct pending *inflight;
        struct kl_grpc_stream *streams;
        struct pending *done_head, *done_tail;
        uint64_t generation; /* bumped by kl_grpc_forget_pending() */
        unsigned n_pending;
};

/* grpc.c */
gpr_timespec kl__grpc_forever(void);
/* Status details come from the server: one line, bounded. */
void kl__grpc_copy_printable(char *buf, size_t size, const char *s, size_t len);
void kl__grpc_call_state_release(struct call_state *cs);
int kl__grpc_unpack_reply(const struct kl_grpc_method *m, grpc_byte_buffer *bb, ProtobufCMessage **ret,
                          struct kl_error *reterr);
/* Worker thread: append to the done list and wake the eventfd. */
void kl__grpc_post_done(struct kl_grpc *g, struct pending *p);
struct pending *kl__grpc_pending_free(struct pending *p);

/* grpcstream.c */
/* Worker thread: a batch of a stream completed (tag kinds TAG_STREAM_*). */
void kl__grpc_stream_event(struct kl_grpc *g, void *tag, bool success);
/* Under g->lock, and taking it. */
void kl__grpc_stream_unref_locked(struct kl_grpc_stream *s);
void kl__grpc_stream_unref(struct kl_grpc_stream *s);
/* Dispatching thread: run the callback of a stream event; returns how many ran. */
int kl__grpc_stream_dispatch(struct kl_grpc *g, struct pending *p);
/* kl_grpc_free(): cancel every open stream, then (queue drained) free them. */
void kl__grpc_streams_cancel(struct kl_grpc *g);
void kl__grpc_streams_free(struct kl_grpc *g);
