/* SPDX-License-Identifier: Apache-2.0 */
/* Unary calls on grpc C core (1.51 API). See grpc.h; grpcstream.c and
 * grpcserver.c are the only other users of grpc C core. */
#include "grpc.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/log.h>
#include <grpc/support/time.h>

#include "lib/log.h"
#include "lib/macros.h"
#include "runtime/grpc-internal.h"

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

#ifndef KL_VERSION
#define KL_VERSION "0"
#endif

/* A short reconnect backoff: the peer is a local socket, a failed connect
 * costs a syscall, and after a containerd restart we want the channel back
 * within a second rather than grpc's default of up to two minutes. */
#define RECONNECT_BACKOFF_MIN_MS 100
#define RECONNECT_BACKOFF_MAX_MS 1000

static const char *const status_names[] = {
        [GRPC_STATUS_OK] = "OK",
        [GRPC_STATUS_CANCELLED] = "CANCELLED",
        [GRPC_STATUS_UNKNOWN] = "UNKNOWN",
        [GRPC_STATUS_INVALID_ARGUMENT] = "INVALID_ARGUMENT",
        [GRPC_STATUS_DEADLINE_EXCEEDED] = "DEADLINE_EXCEEDED",
        [GRPC_STATUS_NOT_FOUND] = "NOT_FOUND",
        [GRPC_STATUS_ALREADY_EXISTS] = "ALREADY_EXISTS",
        [GRPC_STATUS_PERMISSION_DENIED] = "PERMISSION_DENIED",
        [GRPC_STATUS_RESOURCE_EXHAUSTED] = "RESOURCE_EXHAUSTED",
        [GRPC_STATUS_FAILED_PRECONDITION] = "FAILED_PRECONDITION",
        [GRPC_STATUS_ABORTED] = "ABORTED",
        [GRPC_STATUS_OUT_OF_RANGE] = "OUT_OF_RANGE",
        [GRPC_STATUS_UNIMPLEMENTED] = "UNIMPLEMENTED",
        [GRPC_STATUS_INTERNAL] = "INTERNAL",
        [GRPC_STATUS_UNAVAILABLE] = "UNAVAILABLE",
        [GRPC_STATUS_DATA_LOSS] = "DATA_LOSS",
        [GRPC_STATUS_UNAUTHENTICATED] = "UNAUTHENTICATED",
};

const char *kl_grpc_status_to_string(int status) {
        if (status >= 0 && (size_t) status < ELEMENTSOF(status_names) && status_names[status])
                return status_names[status];
        return "UNKNOWN";
}

int kl_grpc_status_to_errno(int status) {
        switch (status) {
        case GRPC_STATUS_OK: return 0;
        case GRPC_STATUS_CANCELLED: return -ECANCELED;
        case GRPC_STATUS_INVALID_ARGUMENT: return -EINVAL;
        case GRPC_STATUS_DEADLINE_EXCEEDED: return -ETIMEDOUT;
        case GRPC_STATUS_NOT_FOUND: return -ENOENT;
        case GRPC_STATUS_ALREADY_EXISTS: return -EEXIST;
        case GRPC_STATUS_PERMISSION_DENIED: return -EPERM;
        case GRPC_STATUS_RESOURCE_EXHAUSTED: return -ENOSPC;
        case GRPC_STATUS_UNIMPLEMENTED: return -EOPNOTSUPP;
        case GRPC_STATUS_UNAVAILABLE:
                /* The call got a connection and lost it; a connect that never
                 * succeeded is reported as -ECONNREFUSED before the call. */
                return -ENOTCONN;
        default: return -EIO;
        }
}

void kl_grpc_message_free(ProtobufCMessage *m) {
        if (m)
                protobuf_c_message_free_unpacked(m, NULL);
}

/* grpc's own messages (connect failures and the like) are ours to report
 * through return values; keep them at debug level. */
static void log_hook(gpr_log_func_args *a) {
        log_debug("grpc: %s:%d: %s", strempty(a->file), a->line, strempty(a->message));
}

static gpr_timespec deadline_in(int64_t ms) {
        if (ms <= 0)
                ms = 1;
        return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(ms, GPR_TIMESPAN));
}

gpr_timespec kl__grpc_forever(void) {
        return gpr_inf_future(GPR_CLOCK_REALTIME);
}

/* Status details come from the server; keep them on one line and bounded. */
void kl__grpc_copy_printable(char *buf, size_t size, const char *s, size_t len) {
        size_t i, n = MIN(len, size - 1);

        for (i = 0; i < n; i++) {
                unsigned char ch = (unsigned char) s[i];
                buf[i] = (ch < 0x20 || ch == 0x7f) ? ' ' : (char) ch;
        }
        buf[n] = '\0';
}

void kl__grpc_call_state_release(struct call_state *cs) {
        if (cs->call) {
                grpc_call_unref(cs->call);
                cs->call = NULL;
        }
        if (cs->send)
                grpc_byte_buffer_destroy(TAKE_PTR(cs->send));
        if (cs->recv)
                grpc_byte_buffer_destroy(TAKE_PTR(cs->recv));
        grpc_metadata_array_destroy(&cs->initial_md);
        grpc_metadata_array_destroy(&cs->trailing_md);
        grpc_slice_unref(cs->details);
        cs->details = grpc_empty_slice();
        gpr_free((void *) cs->error_string);
        cs->error_string = NULL;
}

static int call_start(struct kl_grpc *g, struct call_state *cs, const struct kl_grpc_method *m,
                      const ProtobufCMessage *req, gpr_timespec deadline, grpc_completion_queue *cq, uint32_t md_flags,
                      void *tag, struct kl_error *reterr) {
        grpc_op ops[6];
        grpc_call_error e;
        grpc_slice s;
        size_t len;

        len = protobuf_c_message_get_packed_size(req);
        if (len > KL_GRPC_MAX_MESSAGE)
                return kl_error_set(reterr, EMSGSIZE, "%s: request of %zu bytes is too large", m->name, len);

        *cs = (struct call_state){.details = grpc_empty_slice()};
        grpc_metadata_array_init(&cs->initial_md);
        grpc_metadata_array_init(&cs->trailing_md);

        s = grpc_slice_malloc(len);
        if (protobuf_c_message_pack(req, GRPC_SLICE_START_PTR(s)) != len) {
                grpc_slice_unref(s);
                kl__grpc_call_state_release(cs);
                return kl_error_set(reterr, EINVAL, "%s: cannot serialize request", m->name);
        }
        cs->send = grpc_raw_byte_buffer_create(&s, 1);
        grpc_slice_unref(s);

        cs->call = grpc_channel_create_call(g->channel, NULL, GRPC_PROPAGATE_DEFAULTS, cq,
                                            grpc_slice_from_static_string(m->path), NULL, deadline, NULL);
        if (!cs->call) {
                kl__grpc_call_state_release(cs);
                return kl_error_set(reterr, ENOMEM, "%s: cannot create call", m->name);
        }

        memset(ops, 0, sizeof(ops));
        ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
        ops[0].flags = md_flags;
        ops[1].op = GRPC_OP_SEND_MESSAGE;
        ops[1].data.send_message.send_message = cs->send;
        ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
        ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
        ops[3].data.recv_initial_metadata.recv_initial_metadata = &cs->initial_md;
        ops[4].op = GRPC_OP_RECV_MESSAGE;
        ops[4].data.recv_message.recv_message = &cs->recv;
        ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
        ops[5].data.recv_status_on_client.trailing_metadata = &cs->trailing_md;
        ops[5].data.recv_status_on_client.status = &cs->status;
        ops[5].data.recv_status_on_client.status_details = &cs->details;
        ops[5].data.recv_status_on_client.error_string = &cs->error_string;

        e = grpc_call_start_batch(cs->call, ops, ELEMENTSOF(ops), tag, NULL);
        if (e != GRPC_CALL_OK) {
                kl__grpc_call_state_release(cs);
                return kl_error_set(reterr, EIO, "%s: cannot start call: %s", m->name, grpc_call_error_to_string(e));
        }
        return 0;
}

int kl__grpc_unpack_reply(const struct kl_grpc_method *m, grpc_byte_buffer *bb, ProtobufCMessage **ret,
                          struct kl_error *reterr) {
        grpc_byte_buffer_reader rd;
        ProtobufCMessage *msg;
        grpc_slice s;
        size_t len;

        /* grpc enforces the same cap on the wire; this also covers a reply
         * that decompresses to more. */
        len = grpc_byte_buffer_length(bb);
        if (len > KL_GRPC_MAX_MESSAGE)
                return kl_error_set(reterr, EMSGSIZE, "%s: reply of %zu bytes is too large", m->name, len);
        if (!grpc_byte_buffer_reader_init(&rd, bb))
                return kl_error_set(reterr, EBADMSG, "%s: cannot read reply", m->name);
        s = grpc_byte_buffer_reader_readall(&rd);
        grpc_byte_buffer_reader_destroy(&rd);

        len = GRPC_SLICE_LENGTH(s);
        if (len > KL_GRPC_MAX_MESSAGE) {
                grpc_slice_unref(s);
                return kl_error_set(reterr, EMSGSIZE, "%s: reply of %zu bytes is too large", m->name, len);
        }
        msg = protobuf_c_message_unpack(m->reply, NULL, len, GRPC_SLICE_START_PTR(s));
        grpc_slice_unref(s);
        if (!msg)
                return kl_error_set(reterr, EBADMSG, "%s: malformed reply (%zu bytes)", m->name, len);
        *ret = msg;
        return 0;
}

/* Turn a completed batch into r, reply or error, and release the call. */
static int call_finish(struct call_state *cs, const struct kl_grpc_method *m, bool success,
                       ProtobufCMessage **ret_reply, struct kl_error *reterr) {
        char details[KL_ERROR_MSG_MAX];
        int r;

        if (!success)
                r = kl_error_set(reterr, EIO, "%s: rpc failed before completion", m->name);
        else if (cs->status != GRPC_STATUS_OK) {
                if (!GRPC_SLICE_IS_EMPTY(cs->details))
                        kl__grpc_copy_printable(details, sizeof(details),
                                                (const char *) GRPC_SLICE_START_PTR(cs->details),
                                                GRPC_SLICE_LENGTH(cs->details));
                else if (cs->error_string)
                        kl__grpc_copy_printable(details, sizeof(details), cs->error_string, strlen(cs->error_string));
                else
                        snprintf(details, sizeof(details), "(no details)");
                r = kl_error_set(reterr, kl_grpc_status_to_errno(cs->status), "%s: rpc error %s: %s", m->name,
                                 kl_grpc_status_to_string(cs->status), details);
        } else if (!cs->recv)
                r = kl_error_set(reterr, EBADMSG, "%s: no reply message", m->name);
        else
                r = kl__grpc_unpack_reply(m, cs->recv, ret_reply, reterr);

        kl__grpc_call_state_release(cs);
        return r;
}

/* Wait until the channel is connected, at most until the call's deadline or
 * KL_GRPC_CONNECT_TIMEOUT_MS, whichever comes first. A channel in backoff
 * after a failed connect is told to retry now: a caller is waiting. */
static int wait_connected(struct kl_grpc *g, const struct kl_grpc_method *m, gpr_timespec call_deadline,
                          struct kl_error *reterr) {
        gpr_timespec limit = deadline_in(KL_GRPC_CONNECT_TIMEOUT_MS);
        bool call_bound = gpr_time_cmp(call_deadline, limit) < 0, retried = false;
        grpc_connectivity_state st;

        if (call_bound)
                limit = call_deadline;
        for (;;) {
                char tag;
                grpc_event ev;

                st = grpc_channel_check_connectivity_state(g->channel, 1);
                if (st == GRPC_CHANNEL_READY)
                        return 0;
                if (st == GRPC_CHANNEL_SHUTDOWN)
                        return kl_error_set(reterr, ENOTCONN, "%s: rpc error UNAVAILABLE: channel is shut down",
                                            m->name);
                if (st == GRPC_CHANNEL_TRANSIENT_FAILURE) {
                        /* pick_first stays in TRANSIENT_FAILURE while it
                         * retries, so a failed retry shows no state change;
                         * a socket that is not there at all fails now rather
                         * than after the connect timeout. */
                        if (g->socket_path && access(g->socket_path, F_OK) < 0 && errno == ENOENT)
                                return kl_error_set(
                                        reterr, ECONNREFUSED,
                                        "%s: rpc error UNAVAILABLE: cannot connect to %s: socket does not exist",
                                        m->name, g->target);
                        if (retried)
                                return kl_error_set(reterr, ECONNREFUSED,
                                                    "%s: rpc error UNAVAILABLE: cannot connect to %s", m->name,
                                                    g->target);
                        grpc_channel_reset_connect_backoff(g->channel);
                        retried = true;
                }
                grpc_channel_watch_connectivity_state(g->channel, st, limit, g->sync_cq, &tag);
                ev = grpc_completion_queue_pluck(g->sync_cq, &tag, kl__grpc_forever(), NULL);
                if (ev.type == GRPC_OP_COMPLETE && ev.success)
                        continue;
                if (grpc_channel_check_connectivity_state(g->channel, 0) == GRPC_CHANNEL_READY)
                        return 0;
                if (call_bound)
                        return kl_error_set(reterr, ETIMEDOUT,
                                            "%s: rpc error DEADLINE_EXCEEDED: deadline exceeded while connecting to %s",
                                            m->name, g->target);
                return kl_error_set(reterr, ECONNREFUSED, "%s: rpc error UNAVAILABLE: no connection to %s within %d ms",
                                    m->name, g->target, KL_GRPC_CONNECT_TIMEOUT_MS);
        }
}

int kl_grpc_call(struct kl_grpc *g, const struct kl_grpc_method *m, const ProtobufCMessage *req, int64_t timeout_ms,
                 ProtobufCMessage **ret_reply, struct kl_error *reterr) {
        struct call_state cs;
        gpr_timespec deadline;
        grpc_event ev;
        int r;

        assert(g && m && req && ret_reply);

        uint64_t t0 = now_usec();
        deadline = deadline_in(timeout_ms);
        r = wait_connected(g, m, deadline, reterr);
        if (r >= 0)
                r = call_start(g, &cs, m, req, deadline, g->sync_cq, 0, &cs, reterr);
        if (r >= 0) {
                /* The call has a deadline, so its batch always completes. */
                ev = grpc_completion_queue_pluck(g->sync_cq, &cs, kl__grpc_forever(), NULL);
                r = call_finish(&cs, m, ev.type == GRPC_OP_COMPLETE && ev.success, ret_reply, reterr);
        }
        if (g->observer)
                g->observer(m, r, now_usec() - t0, g->observer_data);
        return r;
}

ProtobufCMessage *kl_grpc_take_reply(struct kl_grpc *g, ProtobufCMessage *reply) {
        if (!g || !g->dispatching || !reply || g->dispatching->reply != reply)
                return NULL;
        g->dispatching->reply = NULL;
        return reply;
}

void kl_grpc_set_observer(struct kl_grpc *g, kl_grpc_observer_t fn, void *userdata) {
        g->observer = fn;
        g->observer_data = userdata;
}

/* --- async ---------------------------------------------------------------- */

struct pending *kl__grpc_pending_free(struct pending *p) {
        if (p) {
                kl_grpc_message_free(p->reply);
                if (p->stream)
                        kl__grpc_stream_unref(p->stream);
                free(p);
        }
        return NULL;
}

static void done_list_free(struct pending *p) {
        while (p) {
                struct pending *next = p->next;
                kl__grpc_pending_free(p);
                p = next;
        }
}

static void inflight_unlink(struct kl_grpc *g, struct pending *p) {
        if (p->prev)
                p->prev->next = p->next;
        else
                g->inflight = p->next;
        if (p->next)
                p->next->prev = p->prev;
        p->prev = p->next = NULL;
}

void kl__grpc_post_done(struct kl_grpc *g, struct pending *p) {
        uint64_t one = 1;

        pthread_mutex_lock(&g->lock);
        if (g->done_tail)
                g->done_tail->next = p;
        else
                g->done_head = p;
        g->done_tail = p;
        pthread_mutex_unlock(&g->lock);

        /* Can only fail when the counter is about to overflow, and then the
         * fd is readable anyway. */
        if (write(g->event_fd, &one, sizeof(one)) < 0)
                log_debug("eventfd write failed: %m");
}

static void *worker(void *arg) {
        struct kl_grpc *g = arg;

        for (;;) {
                grpc_event ev = grpc_completion_queue_next(g->async_cq, kl__grpc_forever(), NULL);
                struct pending *p;

                if (ev.type == GRPC_QUEUE_SHUTDOWN)
                        break;
                if (ev.type != GRPC_OP_COMPLETE)
                        continue;
                if (*(int *) ev.tag != TAG_UNARY) {
                        kl__grpc_stream_event(g, ev.tag, ev.success);
                        continue;
                }
                p = ev.tag;

                /* Out of the in-flight list first: kl_grpc_forget_pending()
                 * cancels only calls in that list, under the lock, so it never
                 * touches a call that call_finish() releases. */
                pthread_mutex_lock(&g->lock);
                inflight_unlink(g, p);
                pthread_mutex_unlock(&g->lock);

                p->r = call_finish(&p->cs, p->m, ev.success, &p->reply, &p->err);

                kl__grpc_post_done(g, p);
        }
        return NULL;
}

int kl_grpc_call_async(struct kl_grpc *g, const struct kl_grpc_method *m, const ProtobufCMessage *req,
                       int64_t timeout_ms, kl_grpc_callback_t cb, void *userdata, struct kl_error *reterr) {
        _cleanup_free_ struct pending *p = NULL;
        int r;

        assert(g && m && req && cb);

        p = calloc(1, sizeof(*p));
        if (!p)
                return kl_error_set(reterr, ENOMEM, "%s: out of memory", m->name);
        p->kind = TAG_UNARY;
        p->m = m;
        p->cb = cb;
        p->userdata = userdata;
        p->t0 = now_usec();

        /* Never block here: the call itself waits for the connection (up to
         * its deadline), and a channel in reconnect backoff retries now. */
        if (grpc_channel_check_connectivity_state(g->channel, 1) == GRPC_CHANNEL_TRANSIENT_FAILURE)
                grpc_channel_reset_connect_backoff(g->channel);

        /* Start under the lock so the worker cannot see the completion before
         * the call is in the in-flight list. */
        pthread_mutex_lock(&g->lock);
        p->generation = g->generation;
        r = call_start(g, &p->cs, m, req, deadline_in(timeout_ms), g->async_cq,
                       GRPC_INITIAL_METADATA_WAIT_FOR_READY | GRPC_INITIAL_METADATA_WAIT_FOR_READY_EXPLICITLY_SET, p,
                       reterr);
        if (r >= 0) {
                p->next = g->inflight;
                if (g->inflight)
                        g->inflight->prev = p;
                g->inflight = p;
                g->n_pending++;
                TAKE_PTR(p);
        }
        pthread_mutex_unlock(&g->lock);
        return r;
}

int kl_grpc_event_fd(struct kl_grpc *g) {
        return g ? g->event_fd : -EBADF;
}

int kl_grpc_dispatch(struct kl_grpc *g) {
        struct pending *list;
        uint64_t v;
        int n = 0;

        if (!g)
                return 0;
        /* Reset the counter before taking the list: a completion posted after
         * this read makes the fd readable again, so none is missed. */
        if (read(g->event_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                log_debug("eventfd read failed: %m");

        pthread_mutex_lock(&g->lock);
        list = g->done_head;
        g->done_head = g->done_tail = NULL;
        pthread_mutex_unlock(&g->lock);

        while (list) {
                struct pending *p = list;
                bool live;

                list = p->next;
                if (p->stream) {
                        n += kl__grpc_stream_dispatch(g, p);
                        kl__grpc_pending_free(p);
                        continue;
                }
                /* A callback may have called kl_grpc_forget_pending(). */
                pthread_mutex_lock(&g->lock);
                live = p->generation == g->generation;
                if (live)
                        g->n_pending--;
                pthread_mutex_unlock(&g->lock);
                if (live) {
                        if (g->observer)
                                g->observer(p->m, p->r, now_usec() - p->t0, g->observer_data);
                        g->dispatching = p;
                        p->cb(p->r, p->r < 0 ? &p->err : NULL, p->r < 0 ? NULL : p->reply, p->userdata);
                        g->dispatching = NULL;
                        n++;
                }
                kl__grpc_pending_free(p);
        }
        return n;
}

void kl_grpc_forget_pending(struct kl_grpc *g) {
        struct pending *done;

        if (!g)
                return;
        pthread_mutex_lock(&g->lock);
        g->generation++;
        g->n_pending = 0;
        for (struct pending *p = g->inflight; p; p = p->next)
                grpc_call_cancel(p->cs.call, NULL);
        done = g->done_head;
        g->done_head = g->done_tail = NULL;
        pthread_mutex_unlock(&g->lock);
        done_list_free(done);
}

unsigned kl_grpc_n_pending(struct kl_grpc *g) {
        unsigned n;

        if (!g)
                return 0;
        pthread_mutex_lock(&g->lock);
        n = g->n_pending;
        pthread_mutex_unlock(&g->lock);
        return n;
}

/* --- lifetime --------------------------------------------------------------- */

int kl__grpc_thread_start(pthread_t *ret, void *(*fn)(void *), void *arg, const char *name) {
        sigset_t all, saved;
        /* The thread must never take a signal, whatever mask the caller has
         * (the daemon blocks everything anyway and reads a signalfd). */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &saved);
        int r = pthread_create(ret, NULL, fn, arg);
        pthread_sigmask(SIG_SETMASK, &saved, NULL);
        if (r != 0)
                return -r;
        pthread_setname_np(*ret, name);
        return 0;
}

int kl_grpc_new(const char *target, struct kl_grpc **ret, struct kl_error *reterr) {
        grpc_arg args[] = {
                {.type = GRPC_ARG_INTEGER,
                 .key = (char *) GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
                 .value.integer = KL_GRPC_MAX_MESSAGE},
                {.type = GRPC_ARG_INTEGER,
                 .key = (char *) GRPC_ARG_MAX_SEND_MESSAGE_LENGTH,
                 .value.integer = KL_GRPC_MAX_MESSAGE},
                {.type = GRPC_ARG_INTEGER,
                 .key = (char *) GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
                 .value.integer = RECONNECT_BACKOFF_MIN_MS},
                {.type = GRPC_ARG_INTEGER,
                 .key = (char *) GRPC_ARG_MIN_RECONNECT_BACKOFF_MS,
                 .value.integer = RECONNECT_BACKOFF_MIN_MS},
                {.type = GRPC_ARG_INTEGER,
                 .key = (char *) GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
                 .value.integer = RECONNECT_BACKOFF_MAX_MS},
                /* http_proxy in the environment must not reroute a unix socket. */
                {.type = GRPC_ARG_INTEGER, .key = (char *) GRPC_ARG_ENABLE_HTTP_PROXY, .value.integer = 0},
                {.type = GRPC_ARG_STRING,
                 .key = (char *) GRPC_ARG_PRIMARY_USER_AGENT_STRING,
                 .value.string = (char *) "kubelet-lite/" KL_VERSION},
        };
        grpc_channel_args cargs = {.num_args = ELEMENTSOF(args), .args = args};
        grpc_channel_credentials *creds;
        struct kl_grpc *g;
        int r;

        assert(target && ret);
        /* unix: the CRI socket; ipv4:/ipv6: address literals for grpc probes (health.c) */
        if (strncmp(target, "unix:", 5) != 0 && strncmp(target, "ipv4:", 5) != 0 && strncmp(target, "ipv6:", 5) != 0)
                return kl_error_set(reterr, EINVAL, "unsupported gRPC target '%s'", target);

        g = calloc(1, sizeof(*g));
        if (!g)
                return kl_error_set(reterr, ENOMEM, "out of memory");
        g->event_fd = -EBADF;
        pthread_mutex_init(&g->lock, NULL);

        g->target = strdup(target);
        if (!g->target) {
                r = kl_error_set(reterr, ENOMEM, "out of memory");
                goto fail;
        }
        if (strncmp(g->target, "unix://", 7) == 0)
                g->socket_path = g->target + 7;
        g->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (g->event_fd < 0) {
                r = kl_error_set(reterr, errno, "eventfd: %m");
                goto fail;
        }

        gpr_set_log_function(log_hook);
        grpc_init(); /* refcounted by grpc itself; undone in kl_grpc_free() */
        g->grpc_initialized = true;

        creds = grpc_insecure_credentials_create();
        g->channel = grpc_channel_create(target, creds, &cargs);
        grpc_channel_credentials_release(creds);
        g->sync_cq = grpc_completion_queue_create_for_pluck(NULL);
        g->async_cq = grpc_completion_queue_create_for_next(NULL);
        if (!g->channel || !g->sync_cq || !g->async_cq) {
                r = kl_error_set(reterr, ENOMEM, "cannot create gRPC channel to %s", target);
                goto fail;
        }

        r = kl__grpc_thread_start(&g->thread, worker, g, "kl-cri-cq");
        if (r < 0) {
                r = kl_error_set(reterr, -r, "cannot start gRPC completion thread: %s", strerror(-r));
                goto fail;
        }
        g->thread_started = true;

        /* Start connecting in the background; the first call waits for it. */
        (void) grpc_channel_check_connectivity_state(g->channel, 1);

        *ret = g;
        return 0;
fail:
        kl_grpc_free(g);
        return r;
}

struct kl_grpc *kl_grpc_free(struct kl_grpc *g) {
        if (!g)
                return NULL;

        if (g->async_cq) {
                /* Cancelled calls still complete (CANCELLED); the worker
                 * drains them and leaves on GRPC_QUEUE_SHUTDOWN, which grpc
                 * delivers only once the queue is empty. */
                kl_grpc_forget_pending(g);
                kl__grpc_streams_cancel(g);
                grpc_completion_queue_shutdown(g->async_cq);
                if (g->thread_started)
                        pthread_join(g->thread, NULL);
                else
                        (void) grpc_completion_queue_next(g->async_cq, kl__grpc_forever(), NULL);
                done_list_free(g->done_head);
                g->done_head = g->done_tail = NULL;
                kl__grpc_streams_free(g);
                grpc_completion_queue_destroy(g->async_cq);
        }
        /* A pluck queue is shut down and destroyed, never polled with next:
         * every synchronous call plucked its own events already. */
        if (g->sync_cq) {
                grpc_completion_queue_shutdown(g->sync_cq);
                grpc_completion_queue_destroy(g->sync_cq);
        }
        if (g->channel)
                grpc_channel_destroy(g->channel);
        if (g->grpc_initialized)
                grpc_shutdown();
        safe_close(g->event_fd);
        pthread_mutex_destroy(&g->lock);
        free(g->target);
        free(g);
        return NULL;
}
