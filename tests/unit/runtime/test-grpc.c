/* SPDX-License-Identifier: Apache-2.0 */
/* runtime/grpc.c without a server: status mapping, and a client whose socket
 * is missing (fails fast, async calls time out, cancel and free). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <time.h>

#include "runtime/api.pb-c.h"
#include "runtime/grpc.h"
#include "tests/lib/tests.h"

static double now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

TEST(status_to_errno) {
        static const struct {
                int status, err;
                const char *name;
        } table[] = {
                {0, 0, "OK"},
                {1, -ECANCELED, "CANCELLED"},
                {2, -EIO, "UNKNOWN"},
                {3, -EINVAL, "INVALID_ARGUMENT"},
                {4, -ETIMEDOUT, "DEADLINE_EXCEEDED"},
                {5, -ENOENT, "NOT_FOUND"},
                {6, -EEXIST, "ALREADY_EXISTS"},
                {7, -EPERM, "PERMISSION_DENIED"},
                {8, -ENOSPC, "RESOURCE_EXHAUSTED"},
                {9, -EIO, "FAILED_PRECONDITION"},
                {10, -EIO, "ABORTED"},
                {11, -EIO, "OUT_OF_RANGE"},
                {12, -EOPNOTSUPP, "UNIMPLEMENTED"},
                {13, -EIO, "INTERNAL"},
                {14, -ENOTCONN, "UNAVAILABLE"},
                {15, -EIO, "DATA_LOSS"},
                {16, -EIO, "UNAUTHENTICATED"},
        };

        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
                ASSERT_EQ(kl_grpc_status_to_errno(table[i].status), table[i].err);
                ASSERT_STREQ(kl_grpc_status_to_string(table[i].status), table[i].name);
        }
        printf("  all 17 gRPC codes map to the documented errno and name\n");
        ASSERT_EQ(kl_grpc_status_to_errno(17), -EIO);
        ASSERT_EQ(kl_grpc_status_to_errno(-1), -EIO);
        ASSERT_EQ(kl_grpc_status_to_errno(1000), -EIO);
        ASSERT_STREQ(kl_grpc_status_to_string(17), "UNKNOWN");
        ASSERT_STREQ(kl_grpc_status_to_string(-1), "UNKNOWN");
        printf("  out-of-range codes -> -EIO, \"UNKNOWN\"\n");
}

static const struct kl_grpc_method m_version = {"/runtime.v1.RuntimeService/Version", "Version",
                                                &runtime__v1__version_response__descriptor, "version"};

TEST(bad_target) {
        struct kl_grpc *g = NULL;
        struct kl_error e = {0};

        ASSERT_ERR(kl_grpc_new("dns:///localhost:1234", &g, &e), EINVAL);
        ASSERT_CONTAINS(e.msg, "dns:///localhost:1234");
        ASSERT_NULL(g);
        ASSERT_NULL(kl_grpc_free(NULL));
        printf("  non-unix target -> -EINVAL '%s'\n", e.msg);
}

static void count_cb(int r, const struct kl_error *err, ProtobufCMessage *reply, void *userdata) {
        int *res = userdata;

        res[0]++;
        res[1] = r;
        res[2] = err != NULL;
        res[3] = reply != NULL;
}

TEST(missing_socket) {
        Runtime__V1__VersionRequest req = RUNTIME__V1__VERSION_REQUEST__INIT;
        char dir[] = "/tmp/kl-grpc-unit.XXXXXX", target[128];
        ProtobufCMessage *reply = NULL;
        struct kl_grpc *g = NULL;
        struct kl_error e = {0};
        int res[4] = {0}, fl;
        double t;

        ASSERT_NOT_NULL(mkdtemp(dir));
        snprintf(target, sizeof(target), "unix://%s/none.sock", dir);
        ASSERT_OK(kl_grpc_new(target, &g, &e));

        fl = fcntl(kl_grpc_event_fd(g), F_GETFL);
        ASSERT_TRUE(fl >= 0 && (fl & O_NONBLOCK));
        ASSERT_TRUE(fcntl(kl_grpc_event_fd(g), F_GETFD) & FD_CLOEXEC);
        ASSERT_EQ(kl_grpc_dispatch(g), 0);
        printf("  event fd is O_NONBLOCK and FD_CLOEXEC; dispatch with nothing done -> 0\n");

        t = now_ms();
        ASSERT_ERR(kl_grpc_call(g, &m_version, &req.base, 5000, &reply, &e), ECONNREFUSED);
        ASSERT_NULL(reply);
        ASSERT_CONTAINS(e.msg, "Version: rpc error UNAVAILABLE: ");
        ASSERT_LE(now_ms() - t, 1500);
        printf("  sync call to a missing socket -> -ECONNREFUSED in %.1f ms\n", now_ms() - t);

        /* Async calls wait for the socket until their deadline. */
        t = now_ms();
        ASSERT_OK(kl_grpc_call_async(g, &m_version, &req.base, 200, count_cb, res, &e));
        ASSERT_EQ(kl_grpc_n_pending(g), 1);
        while (res[0] == 0 && now_ms() - t < 5000) {
                struct pollfd p = {.fd = kl_grpc_event_fd(g), .events = POLLIN};

                if (poll(&p, 1, 100) > 0)
                        kl_grpc_dispatch(g);
        }
        ASSERT_EQ(res[0], 1);
        ASSERT_EQ(res[1], -ETIMEDOUT);
        ASSERT_EQ(res[2], 1);
        ASSERT_EQ(res[3], 0);
        ASSERT_EQ(kl_grpc_n_pending(g), 0);
        printf("  async call with a 200 ms deadline -> callback -ETIMEDOUT after %.0f ms\n", now_ms() - t);

        /* Forgotten calls never call back; free with calls in flight. */
        res[0] = 0;
        ASSERT_OK(kl_grpc_call_async(g, &m_version, &req.base, 60000, count_cb, res, &e));
        ASSERT_OK(kl_grpc_call_async(g, &m_version, &req.base, 60000, count_cb, res, &e));
        ASSERT_EQ(kl_grpc_n_pending(g), 2);
        kl_grpc_forget_pending(g);
        ASSERT_EQ(kl_grpc_n_pending(g), 0);
        usleep(100 * 1000);
        ASSERT_EQ(kl_grpc_dispatch(g), 0);
        ASSERT_EQ(res[0], 0);
        ASSERT_OK(kl_grpc_call_async(g, &m_version, &req.base, 60000, count_cb, res, &e));
        t = now_ms();
        g = kl_grpc_free(g);
        ASSERT_LE(now_ms() - t, 1000);
        ASSERT_EQ(res[0], 0);
        printf("  forget_pending and free with calls in flight: no callbacks, free took %.1f ms\n", now_ms() - t);
        rmdir(dir);
}

TEST(init_refcount) {
        struct kl_grpc *a = NULL, *b = NULL;
        struct kl_error e = {0};

        /* Several clients at once and one after another: grpc_init() and
         * grpc_shutdown() are paired per client. */
        for (int i = 0; i < 3; i++) {
                ASSERT_OK(kl_grpc_new("unix:///nonexistent/a.sock", &a, &e));
                ASSERT_OK(kl_grpc_new("unix:///nonexistent/b.sock", &b, &e));
                a = kl_grpc_free(a);
                b = kl_grpc_free(b);
        }
        printf("  3 rounds of two clients created and freed\n");
}

TEST_MAIN()
