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

int kl_notify(const char *state) {
        const char *path = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        _cleanup_close_ int fd = -EBADF;
        size_t n;

        if (!path || !*path)
                return 0;
        n = strlen(path);
        if ((path[0] != '/' && path[0] != '@') || n < 2 || n >= sizeof(sa.sun_path))
                return -EINVAL;
        memcpy(sa.sun_path, path, n);
        if (sa.sun_path[0] == '@') /* abstract namespace */
                sa.sun_path[0] = '\0';
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        /* MSG_DONTWAIT: a supervisor that stopped reading must not stall the event loop. */
        if (sendto(fd, state, strlen(state), MSG_NOSIGNAL | MSG_DONTWAIT, (struct sockaddr *) &sa,
                   (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n)) < 0)
                return -errno;
        return 1;
}

/* A positive decimal number and nothing else, or 0. */
static uint64_t parse_positive(const char *s) {
        char *end;
        if (!s || *s < '0' || *s > '9')
                return 0;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || *end)
                return 0;
        return v;
}

uint64_t kl_notify_watchdog_usec(void) {
        const char *pid = getenv("WATCHDOG_PID");
        if (pid && parse_positive(pid) != (uint64_t) getpid())
                return 0;
        return parse_positive(getenv("WATCHDOG_USEC"));
}
