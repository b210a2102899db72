/* SPDX-License-Identifier: Apache-2.0 */
/* Server-streaming calls on runtime/grpc's channel and completion thread.
 * See grpcstream.h. */
#include "grpcstream.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/byte_buffer.h>
#include <grpc/grpc.h>

#include "lib/macros.h"
#include "runtime/grpc-internal.h"

struct stream_tag {
        int kind;
        struct kl_grpc_stream *s;
};

/* A server-streaming call (kl_grpc_stream_start). Its references, under
 * g->lock: one for the owner until kl_grpc_stream_cancel() or its end is
 * dispatched, one per batch grpc holds, one per event in the done list. */
struct kl_grpc_stream {
        struct kl_grpc *g;
        struct kl_grpc_stream *prev, *next; /* g->streams */
        const struct kl_grpc_method *m;
        struct call_state cs;
        struct stream_tag t_start, t_msg, t_status;
        kl_grpc_stream_fn cb;
        void *userdata;
        unsigned refs;
        bool cancelled, ended; /* loop thread only */
};

void kl__grpc_stream_unref_locked(struct kl_grpc_stream *s) {
        struct kl_grpc *g = s->g;

        assert(s->refs > 0);
        if (--s->refs > 0)
                return;
        if (s->prev)
                s->prev->next = s->next;
        else
                g->streams = s->next;
        if (s->next)
                s->next->prev = s->prev;
        kl__grpc_call_state_release(&s->cs);
        free(s);
}

static int start_recv_message(struct kl_grpc_stream *s) {
        grpc_op op;

        memset(&op, 0, sizeof(op));
        op.op = GRPC_OP_RECV_MESSAGE;
        op.data.recv_message.recv_message = &s->cs.recv;
        return grpc_call_start_batch(s->cs.call, &op, 1, &s->t_msg, NULL) == GRPC_CALL_OK ? 0 : -EIO;
}

/* Worker thread: one batch of a stream completed. Messages and the final
 * status go to the done list as events holding a reference each. */
void kl__grpc_stream_event(struct kl_grpc *g, void *tag, bool success) {
        struct stream_tag *t = tag;
        struct kl_grpc_stream *s = t->s;
        struct pending *p = NULL;
        bool again = false;

        if (t->kind == TAG_STREAM_MSG && success && s->cs.recv) {
                p = calloc(1, sizeof(*p));
                if (p) {
                        p->r = kl__grpc_unpack_reply(s->m, s->cs.recv, &p->reply, &p->err);
                        if (p->r < 0) {
                                /* a message we cannot read ends the stream */
                                grpc_call_cancel_with_status(s->cs.call, GRPC_STATUS_INTERNAL, p->err.msg, NULL);
                                p = kl__grpc_pending_free(p);
                        }
                }
                grpc_byte_buffer_destroy(TAKE_PTR(s->cs.recv));
                again = start_recv_message(s) >= 0;
        } else if (t->kind == TAG_STREAM_STATUS) {
                p = calloc(1, sizeof(*p));
                if (p) {
                        /* call_finish() would also release the call: keep it
                         * until the last reference goes */
                        char details[KL_ERROR_MSG_MAX];
                        if (!success)
                                p->r = kl_error_set(&p->err, EIO, "%s: stream failed", s->m->name);
                        else if (s->cs.status != GRPC_STATUS_OK) {
                                if (!GRPC_SLICE_IS_EMPTY(s->cs.details))
                                        kl__grpc_copy_printable(details, sizeof(details),
                                                                (const char *) GRPC_SLICE_START_PTR(s->cs.details),
                                                                GRPC_SLICE_LENGTH(s->cs.details));
                                else
                                        snprintf(details, sizeof(details), "(no details)");
                                p->r = kl_error_set(&p->err, kl_grpc_status_to_errno(s->cs.status),
                                                    "%s: rpc error %s: %s", s->m->name,
                                                    kl_grpc_status_to_string(s->cs.status), details);
                        }
                }
        }

        pthread_mutex_lock(&g->lock);
        if (p) {
                p->kind = TAG_UNARY;
                p->stream = s;
                p->m = s->m;
                s->refs++;
        }
        if (!again)
                kl__grpc_stream_unref_locked(s); /* this batch is over */
        pthread_mutex_unlock(&g->lock);
        if (p)
                kl__grpc_post_done(g, p);
}

int kl_grpc_stream_start(struct kl_grpc *g, const struct kl_grpc_method *m, const ProtobufCMessage *req,
                         kl_grpc_stream_fn cb, void *userdata, struct kl_grpc_stream **ret, struct kl_error *reterr) {
        struct kl_grpc_stream *s;
        grpc_op ops[4] = {0}, st = {0};
        grpc_slice sl;
        size_t len;
        int r = 0;

        assert(g && m && req && cb && ret);
        len = protobuf_c_message_get_packed_size(req);
        if (len > KL_GRPC_MAX_MESSAGE)
                return kl_error_set(reterr, EMSGSIZE, "%s: request of %zu bytes is too large", m->name, len);
        s = calloc(1, sizeof(*s));
        if (!s)
                return kl_error_set(reterr, ENOMEM, "%s: out of memory", m->name);
        s->g = g;
        s->m = m;
        s->cb = cb;
        s->userdata = userdata;
        s->t_start = (struct stream_tag){TAG_STREAM_START, s};
        s->t_msg = (struct stream_tag){TAG_STREAM_MSG, s};
        s->t_status = (struct stream_tag){TAG_STREAM_STATUS, s};
        s->cs = (struct call_state){.details = grpc_empty_slice()};
        grpc_metadata_array_init(&s->cs.initial_md);
        grpc_metadata_array_init(&s->cs.trailing_md);

        sl = grpc_slice_malloc(len);
        (void) protobuf_c_message_pack(req, GRPC_SLICE_START_PTR(sl));
        s->cs.send = grpc_raw_byte_buffer_create(&sl, 1);
        grpc_slice_unref(sl);

        if (grpc_channel_check_connectivity_state(g->channel, 1) == GRPC_CHANNEL_TRANSIENT_FAILURE)
                grpc_channel_reset_connect_backoff(g->channel);
        /* No deadline: a watch lasts as long as the peer serves it. */
        s->cs.call = grpc_channel_create_call(g->channel, NULL, GRPC_PROPAGATE_DEFAULTS, g->async_cq,
                                              grpc_slice_from_static_string(m->path), NULL, kl__grpc_forever(), NULL);
        if (!s->cs.call) {
                kl__grpc_call_state_release(&s->cs);
                free(s);
                return kl_error_set(reterr, ENOMEM, "%s: cannot create call", m->name);
        }

        ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
        ops[1].op = GRPC_OP_SEND_MESSAGE;
        ops[1].data.send_message.send_message = s->cs.send;
        ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
        ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
        ops[3].data.recv_initial_metadata.recv_initial_metadata = &s->cs.initial_md;
        st.op = GRPC_OP_RECV_STATUS_ON_CLIENT;
        st.data.recv_status_on_client.trailing_metadata = &s->cs.trailing_md;
        st.data.recv_status_on_client.status = &s->cs.status;
        st.data.recv_status_on_client.status_details = &s->cs.details;
        st.data.recv_status_on_client.error_string = &s->cs.error_string;

        pthread_mutex_lock(&g->lock);
        s->refs = 1; /* the owner */
        if (grpc_call_start_batch(s->cs.call, ops, ELEMENTSOF(ops), &s->t_start, NULL) == GRPC_CALL_OK)
                s->refs++;
        else
                r = -EIO;
        if (r >= 0 && grpc_call_start_batch(s->cs.call, &st, 1, &s->t_status, NULL) == GRPC_CALL_OK)
                s->refs++;
        else
                r = -EIO;
        if (r >= 0 && start_recv_message(s) >= 0)
                s->refs++;
        else
                r = -EIO;
        s->next = g->streams;
        if (g->streams)
                g->streams->prev = s;
        g->streams = s;
        if (r < 0) {
                grpc_call_cancel(s->cs.call, NULL);
                s->cancelled = true;
                kl__grpc_stream_unref_locked(s);
        }
        pthread_mutex_unlock(&g->lock);
        if (r < 0)
                return kl_error_set(reterr, EIO, "%s: cannot start call", m->name);
        *ret = s;
        return 0;
}

void kl_grpc_stream_cancel(struct kl_grpc_stream *s) {
        struct kl_grpc *g;

        if (!s || s->cancelled || s->ended)
                return;
        g = s->g;
        pthread_mutex_lock(&g->lock);
        s->cancelled = true;
        grpc_call_cancel(s->cs.call, NULL);
        if (!s->ended)
                kl__grpc_stream_unref_locked(s); /* the owner's */
        pthread_mutex_unlock(&g->lock);
}

void kl__grpc_stream_unref(struct kl_grpc_stream *s) {
        struct kl_grpc *g = s->g;

        pthread_mutex_lock(&g->lock);
        kl__grpc_stream_unref_locked(s);
        pthread_mutex_unlock(&g->lock);
}

int kl__grpc_stream_dispatch(struct kl_grpc *g, struct pending *p) {
        struct kl_grpc_stream *st = p->stream;
        bool end = !p->reply;

        if (st->cancelled || st->ended)
                return 0;
        if (end)
                st->ended = true;
        g->dispatching = p;
        st->cb(st, p->r, p->r < 0 ? &p->err : NULL, p->reply, st->userdata);
        g->dispatching = NULL;
        if (end) {
                /* the owner's reference, unless the callback cancelled it already */
                pthread_mutex_lock(&g->lock);
                if (!st->cancelled)
                        kl__grpc_stream_unref_locked(st);
                pthread_mutex_unlock(&g->lock);
        }
        return 1;
}

void kl__grpc_streams_cancel(struct kl_grpc *g) {
        /* A stream has no deadline: it completes once cancelled. */
        pthread_mutex_lock(&g->lock);
        for (struct kl_grpc_stream *s = g->streams; s; s = s->next)
                grpc_call_cancel(s->cs.call, NULL);
        pthread_mutex_unlock(&g->lock);
}

void kl__grpc_streams_free(struct kl_grpc *g) {
        /* Streams whose owner never cancelled them: only that reference is
         * left, every batch has completed. */
        while (g->streams) {
                struct kl_grpc_stream *s = g->streams;
                g->streams = s->next;
                kl__grpc_call_state_release(&s->cs);
                free(s);
        }
}
