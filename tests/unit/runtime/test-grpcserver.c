/* SPDX-License-Identifier: Apache-2.0 */
/* runtime/grpcserver.c with runtime/grpc.c as its client, in one process: a
 * unary call answered from the dispatch, one answered with an error, a
 * server stream of several messages ended by the server, and a stream the
 * client cancels (the server sees the call closed). */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#include "runtime/deviceplugin.pb-c.h"
#include "runtime/grpc.h"
#include "runtime/grpcstream.h"
#include "runtime/grpcserver.h"
#include "tests/lib/tests.h"

static double now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

struct state {
        int calls, closed;
        struct kl_grpc_server_call *stream;
        char last_method[128];
        char last_resource[64];
        /* client side */
        int replies, reply_r, msgs, ends, end_r;
        size_t last_n_devices;
};

static void on_call(struct kl_grpc_server_call *c, const char *method, const uint8_t *data, size_t len, void *ud) {
        struct state *st = ud;

        st->calls++;
        snprintf(st->last_method, sizeof(st->last_method), "%s", method);
        if (strcmp(method, "/v1beta1.Registration/Register") == 0) {
                V1beta1__RegisterRequest *req = v1beta1__register_request__unpack(NULL, len, data);
                V1beta1__Empty empty = V1BETA1__EMPTY__INIT;

                if (!req) {
                        kl_grpc_server_fail(c, 3, "bad request");
                        return;
                }
                snprintf(st->last_resource, sizeof(st->last_resource), "%s", req->resource_name);
                if (strcmp(req->version, "v1beta1") != 0)
                        kl_grpc_server_fail(c, 2, "unsupported version");
                else
                        kl_grpc_server_reply(c, &empty.base);
                v1beta1__register_request__free_unpacked(req, NULL);
        } else if (strcmp(method, "/v1beta1.DevicePlugin/ListAndWatch") == 0)
                st->stream = c;
        else
                kl_grpc_server_fail(c, 12, "unknown method");
}

static void on_closed(struct kl_grpc_server_call *c, void *ud) {
        struct state *st = ud;

        st->closed++;
        if (st->stream == c)
                st->stream = NULL;
}

static const struct kl_grpc_method m_register = {"/v1beta1.Registration/Register", "Register",
                                                 &v1beta1__empty__descriptor, NULL};
static const struct kl_grpc_method m_law = {"/v1beta1.DevicePlugin/ListAndWatch", "ListAndWatch",
                                            &v1beta1__list_and_watch_response__descriptor, NULL};

static void on_reply(int r, const struct kl_error *err, ProtobufCMessage *reply, void *ud) {
        struct state *st = ud;

        st->replies++;
        st->reply_r = r;
}

static void on_stream(struct kl_grpc_stream *s, int r, const struct kl_error *err, ProtobufCMessage *msg, void *ud) {
        struct state *st = ud;

        if (msg) {
                st->msgs++;
                st->last_n_devices = ((V1beta1__ListAndWatchResponse *) msg)->n_devices;
        } else {
                st->ends++;
                st->end_r = r;
        }
}

/* Run both sides' dispatch until cond or 5 s. */
#define PUMP(srv, g, cond)                                                                             \
        do {                                                                                           \
                double t0_ = now_ms();                                                                 \
                while (!(cond) && now_ms() - t0_ < 5000) {                                             \
                        struct pollfd p_[2] = {{.fd = kl_grpc_server_event_fd(srv), .events = POLLIN}, \
                                               {.fd = kl_grpc_event_fd(g), .events = POLLIN}};         \
                        if (poll(p_, 2, 50) > 0) {                                                     \
                                kl_grpc_server_dispatch(srv);                                          \
                                kl_grpc_dispatch(g);                                                   \
                        }                                                                              \
                }                                                                                      \
                ASSERT_TRUE(cond);                                                                     \
        } while (0)

static void send_devices(struct kl_grpc_server_call *c, size_t n) {
        V1beta1__ListAndWatchResponse resp = V1BETA1__LIST_AND_WATCH_RESPONSE__INIT;
        V1beta1__Device devs[4], *ptrs[4];
        char ids[4][8];

        for (size_t i = 0; i < n; i++) {
                devs[i] = (V1beta1__Device) V1BETA1__DEVICE__INIT;
                snprintf(ids[i], sizeof(ids[i]), "dev%zu", i);
                devs[i].id = ids[i];
                devs[i].health = (char *) "Healthy";
                ptrs[i] = &devs[i];
        }
        resp.n_devices = n;
        resp.devices = ptrs;
        ASSERT_OK(kl_grpc_server_send(c, &resp.base));
}

TEST(unary_and_stream) {
        V1beta1__RegisterRequest req = V1BETA1__REGISTER_REQUEST__INIT;
        V1beta1__Empty empty = V1BETA1__EMPTY__INIT;
        struct kl_grpc_server_ops ops = {on_call, on_closed};
        char dir[] = "/tmp/kl-grpcsrv-unit.XXXXXX", path[128], target[160];
        struct kl_grpc_server *srv = NULL;
        struct kl_grpc_stream *stream = NULL;
        struct kl_grpc *g = NULL;
        struct kl_error e = {0};
        struct state st = {0};

        ASSERT_NOT_NULL(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/kubelet.sock", dir);
        snprintf(target, sizeof(target), "unix://%s", path);
        ASSERT_OK(kl_grpc_server_new(path, &ops, &st, &srv, &e));
        ASSERT_OK(access(path, F_OK));
        ASSERT_OK(kl_grpc_new(target, &g, &e));
        printf("  server listens on %s\n", path);

        req.version = (char *) "v1beta1";
        req.endpoint = (char *) "x.sock";
        req.resource_name = (char *) "example.com/dongle";
        ASSERT_OK(kl_grpc_call_async(g, &m_register, &req.base, 2000, on_reply, &st, &e));
        PUMP(srv, g, st.replies == 1 && st.closed == 1);
        ASSERT_EQ(st.reply_r, 0);
        ASSERT_STREQ(st.last_method, "/v1beta1.Registration/Register");
        ASSERT_STREQ(st.last_resource, "example.com/dongle");
        printf("  Register answered OK; the server saw its resource name and then the call closed\n");

        req.version = (char *) "v1alpha";
        ASSERT_OK(kl_grpc_call_async(g, &m_register, &req.base, 2000, on_reply, &st, &e));
        PUMP(srv, g, st.replies == 2 && st.closed == 2);
        ASSERT_EQ(st.reply_r, -EIO);
        printf("  Register with a bad version -> the status error reaches the client\n");

        ASSERT_OK(kl_grpc_stream_start(g, &m_law, &empty.base, on_stream, &st, &stream, &e));
        PUMP(srv, g, st.stream != NULL);
        send_devices(st.stream, 2);
        PUMP(srv, g, st.msgs == 1);
        ASSERT_EQ(st.last_n_devices, 2);
        send_devices(st.stream, 3);
        PUMP(srv, g, st.msgs == 2);
        ASSERT_EQ(st.last_n_devices, 3);
        ASSERT_OK(kl_grpc_server_reply(st.stream, NULL));
        PUMP(srv, g, st.ends == 1 && st.closed == 3);
        ASSERT_EQ(st.end_r, 0);
        printf("  ListAndWatch: 2 messages (2 then 3 devices), then the server ends it with OK\n");

        /* the client cancels: the server sees the call closed */
        ASSERT_OK(kl_grpc_stream_start(g, &m_law, &empty.base, on_stream, &st, &stream, &e));
        PUMP(srv, g, st.stream != NULL);
        send_devices(st.stream, 1);
        PUMP(srv, g, st.msgs == 3);
        kl_grpc_stream_cancel(stream);
        PUMP(srv, g, st.closed == 4);
        ASSERT_NULL(st.stream);
        ASSERT_EQ(st.ends, 1);
        printf("  a cancelled stream: the server's on_closed runs, the client callback does not\n");

        /* the server goes away with a stream open: the client sees the end */
        ASSERT_OK(kl_grpc_stream_start(g, &m_law, &empty.base, on_stream, &st, &stream, &e));
        PUMP(srv, g, st.stream != NULL);
        srv = kl_grpc_server_free(srv);
        ASSERT_TRUE(access(path, F_OK) < 0);
        {
                double t0 = now_ms();
                while (st.ends < 2 && now_ms() - t0 < 5000) {
                        struct pollfd p = {.fd = kl_grpc_event_fd(g), .events = POLLIN};
                        if (poll(&p, 1, 50) > 0)
                                kl_grpc_dispatch(g);
                }
        }
        ASSERT_EQ(st.ends, 2);
        ASSERT_TRUE(st.end_r < 0);
        printf("  server freed with a stream open: socket removed, the client's stream ends with %d\n", st.end_r);

        /* a stream left open at free is cancelled by kl_grpc_free */
        ASSERT_OK(kl_grpc_server_new(path, &ops, &st, &srv, &e));
        ASSERT_OK(kl_grpc_stream_start(g, &m_law, &empty.base, on_stream, &st, &stream, &e));
        PUMP(srv, g, st.stream != NULL);
        g = kl_grpc_free(g);
        srv = kl_grpc_server_free(srv);
        printf("  client and server freed with a stream open: no hang\n");
        rmdir(dir);
}

TEST_MAIN()
