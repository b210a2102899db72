/* SPDX-License-Identifier: Apache-2.0 */
/* notify-listen ADDR: stand in for systemd's $NOTIFY_SOCKET.
 *
 * Binds a datagram socket at ADDR ("/path" or "@abstract"), prints "listening"
 * once bound, then one line per datagram: "pid=SENDER TEXT", with the
 * newlines of TEXT shown as '|'. Runs until SIGTERM. Built and run by
 * tests/install/test-systemd-notify (no systemd needed). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int one = 1;
        size_t n;
        int fd;

        if (argc != 2 || (argv[1][0] != '/' && argv[1][0] != '@') || (n = strlen(argv[1])) >= sizeof(sa.sun_path)) {
                fprintf(stderr, "usage: notify-listen /path|@abstract\n");
                return 2;
        }
        memcpy(sa.sun_path, argv[1], n);
        if (sa.sun_path[0] == '@')
                sa.sun_path[0] = '\0';
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *) &sa, (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n)) < 0 ||
            setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0) {
                perror("notify-listen");
                return 1;
        }
        printf("listening\n");
        fflush(stdout);
        for (;;) {
                char buf[4096];
                union {
                        struct cmsghdr h;
                        char buf[CMSG_SPACE(sizeof(struct ucred))];
                } control;
                struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf) - 1};
                struct msghdr mh = {
                        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof(control)};
                pid_t pid = 0;
                ssize_t r = recvmsg(fd, &mh, 0);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        perror("notify-listen: recvmsg");
                        return 1;
                }
                buf[r] = '\0';
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
                                struct ucred cred;
                                memcpy(&cred, CMSG_DATA(c), sizeof(cred));
                                pid = cred.pid;
                        }
                for (char *p = buf; *p; p++)
                        if (*p == '\n')
                                *p = '|';
                printf("pid=%d %s\n", (int) pid, buf);
                fflush(stdout);
        }
}
