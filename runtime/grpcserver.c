/* SPDX-License-Identifier: Apache-2.0 */
/* A gRPC server on grpc C core (1.51 API). See grpcserver.h.
 *
 * Threads: the worker drains the completion queue and only moves state
 * under s->lock; the owner's thread runs every callback from
 * kl_grpc_server_dispatch() and starts send batches (grpc calls are
 * thread-safe, our call state is guarded by s->lock). */
#include "grpcserver.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>

#include "lib/log.h"
#include "lib/macros.h"
#include "runtime/grpc-internal.h"
#include "runtime/grpc.h"

enum {
        TAG_NEW = 1,
        TAG_RECV,
        TAG_CLOSE,
        TAG_SEND,
        TAG_SHUTDOWN
};

struct tag {
        int kind;
        struct kl_grpc_server_call *c;
};

struct kl_grpc_server_call {
        struct kl_grpc_server *s;
        struct kl_grpc_server_call *prev, *next; /* s->calls: every call, for kl_grpc_server_free() */
        struct kl_grpc_server_call *done_next;   /* s->done */
        bool queued;
        grpc_call *call;
        grpc_call_details details;
        grpc_metadata_array md;
        grpc_byte_buffer *recv;
        int cancelled; /* out of RECV_CLOSE_ON_SERVER */
        struct tag t_new, t_recv, t_close, t_send;

        grpc_byte_buffer *send_bb; /* the send batch in flight */
        grpc_slice status_details;
        grpc_byte_buffer *next_bb; /* the stream message waiting for it */
        bool have_next;

        bool sent_md, sending, ended, closed;
        bool ev_request, ev_closed, req_dispatched, handed;
        /* the request_call, then one per batch in flight, plus the owner's
         * from arrival until its close is dispatched */
        unsigned refs;
        void *data;
        char method[256];
};

struct kl_grpc_server {
        char *path;
        grpc_server *server;
        grpc_completion_queue *cq;
        int event_fd;
        struct kl_grpc_server_ops ops;
        void *userdata;
        bool grpc_initialized, started, thread_started;
        pthread_t thread;
        struct tag t_shutdown;

        pthread_mutex_t lock; /* guards calls, done and every call's state */
        struct kl_grpc_server_call *calls;
        struct kl_grpc_server_call *done_head, *done_tail;
        bool shutting_down;
};

static void call_free_locked(struct kl_grpc_server_call *c) {
        struct kl_grpc_server *s = c->s;

        if (c->prev)
                c->prev->next = c->next;
        else
                s->calls = c->next;
        if (c->next)
                c->next->prev = c->prev;
        if (c->call)
                grpc_call_unref(c->call);
        grpc_call_details_destroy(&c->details);
        grpc_metadata_array_destroy(&c->md);
        if (c->recv)
                grpc_byte_buffer_destroy(c->recv);
        if (c->send_bb)
                grpc_byte_buffer_destroy(c->send_bb);
        if (c->next_bb)
                grpc_byte_buffer_destroy(c->next_bb);
        grpc_slice_unref(c->status_details);
        free(c);
}

static void unref_locked(struct kl_grpc_server_call *c) {
        assert(c->refs > 0);
        if (--c->refs == 0)
                call_free_locked(c);
}

static void queue_locked(struct kl_grpc_server *s, struct kl_grpc_server_call *c) {
        uint64_t one = 1;

        if (!c->queued) {
                c->queued = true;
                c->refs++;
                c->done_next = NULL;
                if (s->done_tail)
                        s->done_tail->done_next = c;
                else
                        s->done_head = c;
                s->done_tail = c;
        }
        if (write(s->event_fd, &one, sizeof(one)) < 0)
                log_debug("eventfd write failed: %m");
}

/* Under s->lock: ask grpc for the next incoming call. */
static int request_call_locked(struct kl_grpc_server *s) {
        struct kl_grpc_server_call *c;

        if (s->shutting_down)
                return 0;
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->s = s;
        c->status_details = grpc_empty_slice();
        grpc_call_details_init(&c->details);
        grpc_metadata_array_init(&c->md);
        c->t_new = (struct tag){TAG_NEW, c};
        c->t_recv = (struct tag){TAG_RECV, c};
        c->t_close = (struct tag){TAG_CLOSE, c};
        c->t_send = (struct tag){TAG_SEND, c};
        c->refs = 1;
        c->next = s->calls;
        if (s->calls)
                s->calls->prev = c;
        s->calls = c;
        if (grpc_server_request_call(s->server, &c->call, &c->details, &c->md, s->cq, s->cq, &c->t_new) !=
            GRPC_CALL_OK) {
                unref_locked(c);
                return -EIO;
        }
        return 0;
}

/* Under s->lock: start one send batch (initial metadata the first time, the
 * message if any, the status when final). Takes bb. */
static int start_send_locked(struct kl_grpc_server_call *c, grpc_byte_buffer *bb, bool final, int status,
                             const char *details) {
        grpc_op ops[3] = {0};
        size_t n = 0;

        if (!c->sent_md) {
                ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
                c->sent_md = true;
        }
        if (bb) {
                ops[n].op = GRPC_OP_SEND_MESSAGE;
                ops[n++].data.send_message.send_message = bb;
        }
        if (final) {
                grpc_slice_unref(c->status_details);
                c->status_details = details ? grpc_slice_from_copied_string(details) : grpc_empty_slice();
                ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
                ops[n].data.send_status_from_server.status = (grpc_status_code) status;
                ops[n++].data.send_status_from_server.status_details = &c->status_details;
        }
        c->send_bb = bb;
        if (grpc_call_start_batch(c->call, ops, n, &c->t_send, NULL) != GRPC_CALL_OK) {
                if (bb)
                        grpc_byte_buffer_destroy(TAKE_PTR(c->send_bb));
                return -EIO;
        }
        c->sending = true;
        c->refs++;
        return 0;
}

static void on_event(struct kl_grpc_server *s, struct tag *t, bool success) {
        struct kl_grpc_server_call *c = t->c;
        grpc_op op = {0};

        pthread_mutex_lock(&s->lock);
        switch (t->kind) {
        case TAG_SHUTDOWN: break;
        case TAG_NEW:
                if (!success) { /* shutting down */
                        unref_locked(c);
                        break;
                }
                size_t len = GRPC_SLICE_LENGTH(c->details.method);
                len = MIN(len, sizeof(c->method) - 1);
                memcpy(c->method, GRPC_SLICE_START_PTR(c->details.method), len);
                c->method[len] = '\0';
                op.op = GRPC_OP_RECV_MESSAGE;
                op.data.recv_message.recv_message = &c->recv;
                if (grpc_call_start_batch(c->call, &op, 1, &c->t_recv, NULL) == GRPC_CALL_OK)
                        c->refs++;
                else
                        c->ev_request = true; /* handled as a missing message */
                op = (grpc_op){.op = GRPC_OP_RECV_CLOSE_ON_SERVER};
                op.data.recv_close_on_server.cancelled = &c->cancelled;
                if (grpc_call_start_batch(c->call, &op, 1, &c->t_close, NULL) == GRPC_CALL_OK)
                        c->refs++;
                else
                        c->ev_closed = c->closed = true;
                if (c->ev_request || c->ev_closed)
                        queue_locked(s, c);
                /* the request's reference is now the owner's */
                (void) request_call_locked(s);
                break;
        case TAG_RECV:
                c->ev_request = true;
                queue_locked(s, c);
                unref_locked(c);
                break;
        case TAG_CLOSE:
                c->closed = c->ev_closed = true;
                queue_locked(s, c);
                unref_locked(c);
                break;
        case TAG_SEND:
                c->sending = false;
                if (c->send_bb)
                        grpc_byte_buffer_destroy(TAKE_PTR(c->send_bb));
                if (c->have_next && !c->closed) {
                        c->have_next = false;
                        (void) start_send_locked(c, TAKE_PTR(c->next_bb), false, 0, NULL);
                }
                unref_locked(c);
                break;
        }
        pthread_mutex_unlock(&s->lock);
}

static void *worker(void *arg) {
        struct kl_grpc_server *s = arg;

        for (;;) {
                grpc_event ev = grpc_completion_queue_next(s->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);

                if (ev.type == GRPC_QUEUE_SHUTDOWN)
                        break;
                if (ev.type != GRPC_OP_COMPLETE)
                        continue;
                /* the kind first: on_event may free the call holding the tag */
                bool shutdown = ((struct tag *) ev.tag)->kind == TAG_SHUTDOWN;
                on_event(s, ev.tag, ev.success);
                if (shutdown)
                        grpc_completion_queue_shutdown(s->cq);
        }
        return NULL;
}

static grpc_byte_buffer *pack(const ProtobufCMessage *msg) {
        size_t len = protobuf_c_message_get_packed_size(msg);
        grpc_slice sl = grpc_slice_malloc(len);
        grpc_byte_buffer *bb;

        (void) protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(sl));
        bb = grpc_raw_byte_buffer_create(&sl, 1);
        grpc_slice_unref(sl);
        return bb;
}

static grpc_byte_buffer *pack_raw(const uint8_t *data, size_t len) {
        grpc_slice sl = grpc_slice_from_copied_buffer((const char *) data, len);
        grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&sl, 1);

        grpc_slice_unref(sl);
        return bb;
}

static int finish_bb(struct kl_grpc_server_call *c, grpc_byte_buffer *bb, int status, const char *details);

static int finish(struct kl_grpc_server_call *c, const ProtobufCMessage *msg, int status, const char *details) {
        return finish_bb(c, msg ? pack(msg) : NULL, status, details);
}

int kl_grpc_server_reply_raw(struct kl_grpc_server_call *c, const uint8_t *data, size_t len) {
        return finish_bb(c, pack_raw(data, len), GRPC_STATUS_OK, NULL);
}

static int send_bb(struct kl_grpc_server_call *c, grpc_byte_buffer *bb);

int kl_grpc_server_send_raw(struct kl_grpc_server_call *c, const uint8_t *data, size_t len) {
        return send_bb(c, pack_raw(data, len));
}

/* Takes bb. */
static int finish_bb(struct kl_grpc_server_call *c, grpc_byte_buffer *bb, int status, const char *details) {
        struct kl_grpc_server *s = c->s;
        int r;

        pthread_mutex_lock(&s->lock);
        if (c->ended)
                r = -EALREADY;
        else if (c->closed)
                r = -ENOTCONN;
        else {
                c->ended = true;
                if (c->sending) {
                        /* the queued message goes first: finish after it
                         * by cancelling with the status would lose it, so
                         * wait for it instead; rare (a stream ended while a
                         * send is in flight) and the status follows the
                         * message in the same order the client expects */
                        if (c->have_next) {
                                grpc_byte_buffer_destroy(TAKE_PTR(c->next_bb));
                                c->have_next = false;
                        }
                        grpc_call_cancel_with_status(c->call, (grpc_status_code) status, details ? details : "", NULL);
                        r = 0;
                } else
                        r = start_send_locked(c, TAKE_PTR(bb), true, status, details);
        }
        pthread_mutex_unlock(&s->lock);
        if (bb)
                grpc_byte_buffer_destroy(bb);
        return r;
}

int kl_grpc_server_reply(struct kl_grpc_server_call *c, const ProtobufCMessage *msg) {
        return finish(c, msg, GRPC_STATUS_OK, NULL);
}

int kl_grpc_server_fail(struct kl_grpc_server_call *c, int status, const char *details) {
        return finish(c, NULL, status == 0 ? GRPC_STATUS_UNKNOWN : status, details);
}

int kl_grpc_server_send(struct kl_grpc_server_call *c, const ProtobufCMessage *msg) {
        return send_bb(c, pack(msg));
}

/* Takes bb. */
static int send_bb(struct kl_grpc_server_call *c, grpc_byte_buffer *bb) {
        struct kl_grpc_server *s = c->s;
        int r = 0;

        pthread_mutex_lock(&s->lock);
        if (c->ended)
                r = -EALREADY;
        else if (c->closed)
                r = -ENOTCONN;
        else if (c->sending) {
                if (c->next_bb)
                        grpc_byte_buffer_destroy(c->next_bb);
                c->next_bb = TAKE_PTR(bb);
                c->have_next = true;
        } else
                r = start_send_locked(c, TAKE_PTR(bb), false, 0, NULL);
        pthread_mutex_unlock(&s->lock);
        if (bb)
                grpc_byte_buffer_destroy(bb);
        return r;
}

void kl_grpc_server_call_set_data(struct kl_grpc_server_call *c, void *data) {
        c->data = data;
}

void *kl_grpc_server_call_get_data(struct kl_grpc_server_call *c) {
        return c->data;
}

int kl_grpc_server_event_fd(struct kl_grpc_server *s) {
        return s ? s->event_fd : -EBADF;
}

/* The request bytes; NULL when the client sent none or too many. */
static uint8_t *read_request(grpc_byte_buffer *bb, size_t *ret_len) {
        grpc_byte_buffer_reader rd;
        grpc_slice sl;
        uint8_t *buf;
        size_t len;

        if (!bb || grpc_byte_buffer_length(bb) > KL_GRPC_MAX_MESSAGE || !grpc_byte_buffer_reader_init(&rd, bb))
                return NULL;
        sl = grpc_byte_buffer_reader_readall(&rd);
        grpc_byte_buffer_reader_destroy(&rd);
        len = GRPC_SLICE_LENGTH(sl);
        buf = malloc(len + 1);
        if (buf) {
                memcpy(buf, GRPC_SLICE_START_PTR(sl), len);
                *ret_len = len;
        }
        grpc_slice_unref(sl);
        return buf;
}

int kl_grpc_server_dispatch(struct kl_grpc_server *s) {
        struct kl_grpc_server_call *list;
        uint64_t v;
        int n = 0;

        if (!s)
                return 0;
        if (read(s->event_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                log_debug("eventfd read failed: %m");
        pthread_mutex_lock(&s->lock);
        list = s->done_head;
        s->done_head = s->done_tail = NULL;
        for (struct kl_grpc_server_call *c = list; c; c = c->done_next)
                c->queued = false;
        pthread_mutex_unlock(&s->lock);

        while (list) {
                struct kl_grpc_server_call *c = list;
                _cleanup_free_ uint8_t *data = NULL;
                bool req, closed;
                size_t len = 0;

                list = c->done_next;
                pthread_mutex_lock(&s->lock);
                req = c->ev_request;
                c->ev_request = false;
                if (req) {
                        c->req_dispatched = true;
                        data = read_request(c->recv, &len);
                }
                pthread_mutex_unlock(&s->lock);

                if (req && data) {
                        c->handed = true;
                        s->ops.on_call(c, c->method, data, len, s->userdata);
                        n++;
                } else if (req)
                        (void) kl_grpc_server_fail(c, GRPC_STATUS_INVALID_ARGUMENT, "missing request message");

                pthread_mutex_lock(&s->lock);
                closed = c->ev_closed && c->req_dispatched;
                if (closed)
                        c->ev_closed = false;
                pthread_mutex_unlock(&s->lock);
                if (closed && c->handed && s->ops.on_closed) {
                        s->ops.on_closed(c, s->userdata);
                        n++;
                }

                pthread_mutex_lock(&s->lock);
                if (closed)
                        unref_locked(c); /* the owner's */
                unref_locked(c);         /* the done list's */
                pthread_mutex_unlock(&s->lock);
        }
        return n;
}

int kl_grpc_server_new(const char *socket_path, const struct kl_grpc_server_ops *ops, void *userdata,
                       struct kl_grpc_server **ret, struct kl_error *reterr) {
        grpc_arg args[] = {
                {.type = GRPC_ARG_INTEGER,
                 .key = (char *) GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
                 .value.integer = KL_GRPC_MAX_MESSAGE},
                {.type = GRPC_ARG_INTEGER,
                 .key = (char *) GRPC_ARG_MAX_SEND_MESSAGE_LENGTH,
                 .value.integer = KL_GRPC_MAX_MESSAGE},
        };
        grpc_channel_args cargs = {.num_args = ELEMENTSOF(args), .args = args};
        grpc_server_credentials *creds;
        _cleanup_free_ char *addr = NULL;
        struct kl_grpc_server *s;
        int r;

        assert(socket_path && ops && ops->on_call && ret);
        if (socket_path[0] != '/')
                return kl_error_set(reterr, EINVAL, "gRPC server socket '%s' is not an absolute path", socket_path);
        if (asprintf(&addr, "unix:%s", socket_path) < 0)
                return kl_error_set(reterr, ENOMEM, "out of memory");

        s = calloc(1, sizeof(*s));
        if (!s)
                return kl_error_set(reterr, ENOMEM, "out of memory");
        s->event_fd = -EBADF;
        s->ops = *ops;
        s->userdata = userdata;
        s->t_shutdown = (struct tag){TAG_SHUTDOWN, NULL};
        pthread_mutex_init(&s->lock, NULL);
        s->path = strdup(socket_path);
        if (!s->path) {
                r = kl_error_set(reterr, ENOMEM, "out of memory");
                goto fail;
        }
        s->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (s->event_fd < 0) {
                r = kl_error_set(reterr, errno, "eventfd: %m");
                goto fail;
        }

        grpc_init();
        s->grpc_initialized = true;
        s->cq = grpc_completion_queue_create_for_next(NULL);
        s->server = grpc_server_create(&cargs, NULL);
        if (!s->cq || !s->server) {
                r = kl_error_set(reterr, ENOMEM, "cannot create gRPC server");
                goto fail;
        }
        grpc_server_register_completion_queue(s->server, s->cq, NULL);
        if (unlink(socket_path) < 0 && errno != ENOENT) {
                r = kl_error_set(reterr, errno, "cannot remove '%s': %m", socket_path);
                goto fail;
        }
        creds = grpc_insecure_server_credentials_create();
        r = grpc_server_add_http2_port(s->server, addr, creds);
        grpc_server_credentials_release(creds);
        if (r == 0) {
                r = kl_error_set(reterr, EADDRNOTAVAIL, "cannot listen on '%s'", socket_path);
                goto fail;
        }
        grpc_server_start(s->server);
        s->started = true;

        pthread_mutex_lock(&s->lock);
        r = request_call_locked(s);
        pthread_mutex_unlock(&s->lock);
        if (r < 0) {
                r = kl_error_set(reterr, -r, "cannot accept gRPC calls on '%s'", socket_path);
                goto fail;
        }

        r = kl__grpc_thread_start(&s->thread, worker, s, "kl-grpc-srv");
        if (r < 0) {
                r = kl_error_set(reterr, -r, "cannot start gRPC server thread: %s", strerror(-r));
                goto fail;
        }
        s->thread_started = true;
        *ret = s;
        return 0;
fail:
        kl_grpc_server_free(s);
        return r;
}

struct kl_grpc_server *kl_grpc_server_free(struct kl_grpc_server *s) {
        if (!s)
                return NULL;
        if (s->server) {
                pthread_mutex_lock(&s->lock);
                s->shutting_down = true;
                pthread_mutex_unlock(&s->lock);
                if (s->started) {
                        grpc_server_shutdown_and_notify(s->server, s->cq, &s->t_shutdown);
                        grpc_server_cancel_all_calls(s->server);
                        if (s->thread_started)
                                pthread_join(s->thread, NULL);
                        else {
                                grpc_completion_queue_shutdown(s->cq);
                                while (grpc_completion_queue_next(s->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL)
                                               .type != GRPC_QUEUE_SHUTDOWN)
                                        ;
                        }
                } else
                        grpc_completion_queue_shutdown(s->cq);
                /* every batch has completed; owner and done-list references
                 * are all that is left */
                while (s->calls)
                        call_free_locked(s->calls);
                grpc_server_destroy(s->server);
        } else if (s->cq)
                grpc_completion_queue_shutdown(s->cq);
        if (s->cq)
                grpc_completion_queue_destroy(s->cq);
        if (s->grpc_initialized)
                grpc_shutdown();
        if (s->path && s->started)
                (void) unlink(s->path);
        safe_close(s->event_fd);
        pthread_mutex_destroy(&s->lock);
        free(s->path);
        free(s);
        return NULL;
}
