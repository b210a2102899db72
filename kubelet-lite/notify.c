/* SPDX-License-Identifier: Apache-2.0 */
#include "notify.h"

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
        if ((path[0] != '/' && path[0] != '@') || n >= sizeof(sa.sun_path))
                return -EINVAL;
        memcpy(sa.sun_path, path, n);
        if (sa.sun_path[0] == '@') /* abstract namespace */
                sa.sun_path[0] = '\0';
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *) &sa,
                   (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n)) < 0)
                return -errno;
        return 1;
}

uint64_t kl_notify_watchdog_usec(void) {
        const char *s = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
        if (!s)
                return 0;
        if (pid && (pid_t) atol(pid) != getpid())
                return 0;
        return strtoull(s, NULL, 10);
}
