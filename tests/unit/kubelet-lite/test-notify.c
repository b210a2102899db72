/* SPDX-License-Identifier: Apache-2.0 */
#include "kubelet-lite/notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/macros.h"
#include "tests/lib/tests.h"

/* A receiving datagram socket bound to addr ("/path" or "@abstract"), with
 * SO_PASSCRED so the sender's pid can be checked. */
static int listen_at(const char *addr) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        size_t n = strlen(addr);
        int one = 1;
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ASSERT_OK(fd);
        memcpy(sa.sun_path, addr, n);
        if (sa.sun_path[0] == '@')
                sa.sun_path[0] = '\0';
        ASSERT_OK(bind(fd, (struct sockaddr *) &sa, (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n)));
        ASSERT_OK(setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)));
        return fd;
}

/* Receive one datagram (not waiting); returns its text, *ret_pid the sender. */
static char *receive(int fd, pid_t *ret_pid) {
        static char buf[4096];
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(struct ucred))];
        } control = {};
        struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf) - 1};
        struct msghdr mh = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof(control)};
        ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
        ASSERT_OK(n);
        buf[n] = '\0';
        *ret_pid = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
                        struct ucred cred;
                        memcpy(&cred, CMSG_DATA(c), sizeof(cred));
                        *ret_pid = cred.pid;
                }
        return buf;
}

TEST(unset_is_a_noop) {
        unsetenv("NOTIFY_SOCKET");
        ASSERT_EQ(kl_notify("READY=1"), 0);
        setenv("NOTIFY_SOCKET", "", 1);
        ASSERT_EQ(kl_notify("READY=1"), 0);
        unsetenv("NOTIFY_SOCKET");
}

TEST(path_socket_receives_ready) {
        char dir[] = "/tmp/kl-test-notify-XXXXXX", path[128];
        pid_t pid;
        ASSERT_NOT_NULL(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/notify", dir);
        int fd = listen_at(path);
        setenv("NOTIFY_SOCKET", path, 1);
        ASSERT_EQ(kl_notify("READY=1\nSTATUS=running"), 1);
        ASSERT_STREQ(receive(fd, &pid), "READY=1\nSTATUS=running");
        ASSERT_EQ(pid, getpid());
        ASSERT_EQ(kl_notify("WATCHDOG=1"), 1);
        ASSERT_STREQ(receive(fd, &pid), "WATCHDOG=1");
        ASSERT_EQ(kl_notify("STOPPING=1"), 1);
        ASSERT_STREQ(receive(fd, &pid), "STOPPING=1");
        close(fd);
        unlink(path);
        /* Nobody listening any more. */
        ASSERT_ERR(kl_notify("READY=1"), ENOENT);
        rmdir(dir);
        unsetenv("NOTIFY_SOCKET");
        printf("  READY=1, WATCHDOG=1, STOPPING=1 arrive at %s/notify from pid %d\n", dir, (int) getpid());
}

TEST(abstract_socket) {
        char addr[64];
        pid_t pid;
        snprintf(addr, sizeof(addr), "@kl-test-notify-%d", (int) getpid());
        int fd = listen_at(addr);
        setenv("NOTIFY_SOCKET", addr, 1);
        ASSERT_EQ(kl_notify("READY=1"), 1);
        ASSERT_STREQ(receive(fd, &pid), "READY=1");
        ASSERT_EQ(pid, getpid());
        close(fd);
        ASSERT_ERR(kl_notify("READY=1"), ECONNREFUSED);
        unsetenv("NOTIFY_SOCKET");
}

TEST(bad_addresses) {
        char longpath[200];
        memset(longpath, 'a', sizeof(longpath) - 1);
        longpath[0] = '/';
        longpath[sizeof(longpath) - 1] = '\0';
        const char *bad[] = {"relative/notify", "vsock:2:1234", "@", "/", longpath};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                setenv("NOTIFY_SOCKET", bad[i], 1);
                ASSERT_ERR(kl_notify("READY=1"), EINVAL);
        }
        unsetenv("NOTIFY_SOCKET");
}

TEST(full_receiver_does_not_block) {
        char addr[64];
        int r = 0, sent = 0;
        snprintf(addr, sizeof(addr), "@kl-test-notify-full-%d", (int) getpid());
        int fd = listen_at(addr); /* never read */
        setenv("NOTIFY_SOCKET", addr, 1);
        alarm(10); /* a blocking send would hang here */
        while (sent < 100000 && (r = kl_notify("WATCHDOG=1")) == 1)
                sent++;
        alarm(0);
        ASSERT_EQ(r, -EAGAIN);
        printf("  after %d unread datagrams: -EAGAIN instead of blocking the event loop\n", sent);
        close(fd);
        unsetenv("NOTIFY_SOCKET");
}

TEST(watchdog_usec_and_pid) {
        char pid[32], other[32];
        snprintf(pid, sizeof(pid), "%d", (int) getpid());
        snprintf(other, sizeof(other), "%d", (int) getpid() + 1);

        unsetenv("WATCHDOG_USEC");
        unsetenv("WATCHDOG_PID");
        ASSERT_EQ(kl_notify_watchdog_usec(), 0);
        setenv("WATCHDOG_USEC", "30000000", 1);
        ASSERT_EQ(kl_notify_watchdog_usec(), 30000000);
        setenv("WATCHDOG_PID", pid, 1);
        ASSERT_EQ(kl_notify_watchdog_usec(), 30000000);
        setenv("WATCHDOG_PID", other, 1); /* meant for another process (our parent, say) */
        ASSERT_EQ(kl_notify_watchdog_usec(), 0);
        setenv("WATCHDOG_PID", "garbage", 1);
        ASSERT_EQ(kl_notify_watchdog_usec(), 0);
        unsetenv("WATCHDOG_PID");
        const char *bad[] = {"-5", "abc", "10s", "", " 5", "99999999999999999999999"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                setenv("WATCHDOG_USEC", bad[i], 1);
                ASSERT_EQ(kl_notify_watchdog_usec(), 0);
        }
        unsetenv("WATCHDOG_USEC");
        printf("  WATCHDOG_USEC honoured only for our pid; '-5' no longer wraps to 2^64-5\n");
}

TEST_MAIN()
