/* SPDX-License-Identifier: Apache-2.0 */
/* The eviction fast path: a PSI trigger and inotify on cgroup v2
 * memory.events, whose fds go into the daemon's epoll loop, so that memory
 * pressure is seen at once instead of at the next periodic check (upstream:
 * the memory threshold notifier). */
#include "kubelet-lite/eviction/watch.h"
#include "kubelet-lite/eviction/signals.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cgroups/stats.h"
#include "lib/fileio.h"
#include "lib/macros.h"

#define USEC_PER_SEC UINT64_C(1000000)
/* ---- fast path ---------------------------------------------------------- */

struct kl_eviction_watch {
        int psi_fd;
        int ino_fd, wd;
        char *events_path;
        uint64_t counters[4]; /* memory.events high, max, oom, oom_kill */
        unsigned active;
        char desc[512];
};

static const char *const event_keys[] = {"high", "max", "oom", "oom_kill"};

static void desc_append(struct kl_eviction_watch *w, const char *fmt, ...) _printf_(2, 3);
static void desc_append(struct kl_eviction_watch *w, const char *fmt, ...) {
        size_t len = strlen(w->desc);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->desc + len, sizeof(w->desc) - len, fmt, ap);
        va_end(ap);
}

/* "some|full STALL_US WINDOW_US" */
static int parse_trigger(const char *s, char kind[5], uint64_t *stall, uint64_t *window) {
        const char *p = s, *end = s + strlen(s);

        if (end - p < 5 || (memcmp(p, "some ", 5) != 0 && memcmp(p, "full ", 5) != 0))
                return -EINVAL;
        memcpy(kind, p, 4);
        kind[4] = '\0';
        p += 5;
        if (kl__eviction_parse_digits(&p, end, stall) < 0 || p >= end || *p != ' ')
                return -EINVAL;
        p++;
        if (kl__eviction_parse_digits(&p, end, window) < 0 || p != end)
                return -EINVAL;
        /* the kernel's limits: window 500ms..10s, 0 < stall <= window */
        if (*window < 500000 || *window > 10 * USEC_PER_SEC || *stall == 0 || *stall > *window)
                return -EINVAL;
        return 0;
}

static int psi_arm(const char *path, const char *trigger, int *ret_fd) {
        int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        /* the kernel turns the last byte written into the terminating NUL */
        if (write(fd, trigger, strlen(trigger) + 1) < 0) {
                int r = -errno;
                safe_close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

static int read_counters(const char *path, uint64_t ret[4]) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = kl__eviction_read_file(path, &buf, &len);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(event_keys); i++)
                if (kl_cg_kv_get(buf, len, event_keys[i], &ret[i]) < 0)
                        ret[i] = 0;
        return 0;
}

static void open_psi(struct kl_eviction_watch *w, const char *path, const char *trigger, const char *kind,
                     uint64_t stall, uint64_t window) {
        char t[64];
        int r;

        snprintf(t, sizeof(t), "%s", trigger);
        r = psi_arm(path, t, &w->psi_fd);
        if (r == -EINVAL && window % (2 * USEC_PER_SEC) != 0) {
                /* Without CAP_SYS_RESOURCE only multiples of 2 s are accepted:
                 * keep the ratio of stall to window. */
                uint64_t nw = (window / (2 * USEC_PER_SEC) + 1) * 2 * USEC_PER_SEC;
                if (nw <= 10 * USEC_PER_SEC) {
                        snprintf(t, sizeof(t), "%s %" PRIu64 " %" PRIu64, kind, stall * nw / window, nw);
                        r = psi_arm(path, t, &w->psi_fd);
                }
        }
        if (r < 0) {
                desc_append(w, "psi=unavailable (%s: %s)", path, strerror(-r));
                return;
        }
        w->active |= KL_EVICTION_WATCH_PSI;
        desc_append(w, "psi=%s trigger='%s'%s", path, t, streq(t, trigger) ? "" : " (window raised: unprivileged)");
}

static void open_events(struct kl_eviction_watch *w, const char *path) {
        int r;

        w->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (w->ino_fd < 0) {
                r = -errno;
                goto fail;
        }
        w->wd = inotify_add_watch(w->ino_fd, path, IN_MODIFY);
        if (w->wd < 0) {
                r = -errno;
                goto fail;
        }
        r = read_counters(path, w->counters);
        if (r < 0)
                goto fail;
        w->active |= KL_EVICTION_WATCH_MEMORY_EVENTS;
        desc_append(w, " memory.events=%s", path);
        return;
fail:
        w->ino_fd = safe_close(w->ino_fd);
        w->wd = -1;
        desc_append(w, " memory.events=unavailable (%s: %s)", path, strerror(-r));
}

int kl_eviction_watch_open(const struct kl_eviction_watch_config *cfg, struct kl_eviction_watch **ret) {
        static const struct kl_eviction_watch_config none = {};
        struct kl_eviction_watch *w;
        const char *psi_path, *trigger;
        uint64_t stall, window;
        char kind[5];

        if (!ret)
                return -EINVAL;
        if (!cfg)
                cfg = &none;
        psi_path = cfg->psi_path ? cfg->psi_path : "/proc/pressure/memory";
        trigger = cfg->psi_trigger ? cfg->psi_trigger : "some 150000 1000000";
        if (parse_trigger(trigger, kind, &stall, &window) < 0 || strlen(trigger) >= 48)
                return -EINVAL;
        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->psi_fd = w->ino_fd = -EBADF;
        w->wd = -1;
        if (cfg->memory_events && !(w->events_path = strdup(cfg->memory_events))) {
                free(w);
                return -ENOMEM;
        }
        if (psi_path[0])
                open_psi(w, psi_path, trigger, kind, stall, window);
        else
                desc_append(w, "psi=disabled");
        if (w->events_path)
                open_events(w, w->events_path);
        else
                desc_append(w, " memory.events=none");
        *ret = w;
        return 0;
}

struct kl_eviction_watch *kl_eviction_watch_free(struct kl_eviction_watch *w) {
        if (!w)
                return NULL;
        safe_close(w->psi_fd);
        safe_close(w->ino_fd);
        free(w->events_path);
        free(w);
        return NULL;
}

int kl_eviction_watch_psi_fd(const struct kl_eviction_watch *w) {
        return w && (w->active & KL_EVICTION_WATCH_PSI) ? w->psi_fd : -EBADF;
}

int kl_eviction_watch_events_fd(const struct kl_eviction_watch *w) {
        return w && (w->active & KL_EVICTION_WATCH_MEMORY_EVENTS) ? w->ino_fd : -EBADF;
}

unsigned kl_eviction_watch_active(const struct kl_eviction_watch *w) {
        return w ? w->active : 0;
}

const char *kl_eviction_watch_describe(const struct kl_eviction_watch *w) {
        return w ? w->desc : "";
}

static int drain_inotify(struct kl_eviction_watch *w) {
        /* room for at least one event with the longest name */
        union {
                struct inotify_event ev;
                char buf[4096];
        } u;
        bool overflow = false, ignored = false;
        uint64_t now[4];
        int res = 0;

        for (;;) {
                ssize_t k = read(w->ino_fd, u.buf, sizeof(u.buf));
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        break; /* EAGAIN: drained */
                }
                if (k == 0)
                        break;
                for (char *p = u.buf; p + sizeof(struct inotify_event) <= u.buf + k;) {
                        struct inotify_event ev;
                        memcpy(&ev, p, sizeof(ev));
                        overflow = overflow || (ev.mask & IN_Q_OVERFLOW);
                        ignored = ignored || (ev.mask & IN_IGNORED);
                        p += sizeof(struct inotify_event) + ev.len;
                }
        }
        if (ignored) {
                /* the file went away (or was replaced): watch it again */
                w->wd = inotify_add_watch(w->ino_fd, w->events_path, IN_MODIFY);
                if (w->wd < 0) {
                        w->active &= ~KL_EVICTION_WATCH_MEMORY_EVENTS;
                        return KL_EVICTION_WATCH_LOST | KL_EVICTION_WATCH_MEMORY_EVENTS;
                }
                res = KL_EVICTION_WATCH_MEMORY_EVENTS;
        }
        if (read_counters(w->events_path, now) < 0)
                return KL_EVICTION_WATCH_MEMORY_EVENTS;
        for (size_t i = 0; i < ELEMENTSOF(now); i++)
                if (now[i] > w->counters[i])
                        res = KL_EVICTION_WATCH_MEMORY_EVENTS;
        memcpy(w->counters, now, sizeof(now));
        return overflow ? KL_EVICTION_WATCH_MEMORY_EVENTS : res;
}

int kl_eviction_watch_drain(struct kl_eviction_watch *w, int fd, uint32_t revents) {
        if (!w || fd < 0)
                return -EBADF;
        if (fd == w->psi_fd && (w->active & KL_EVICTION_WATCH_PSI)) {
                /* an armed trigger only ever reports EPOLLPRI; EPOLLERR means
                 * the trigger is gone (its cgroup was removed) */
                if (revents & (EPOLLERR | EPOLLHUP)) {
                        w->active &= ~KL_EVICTION_WATCH_PSI;
                        return KL_EVICTION_WATCH_LOST;
                }
                return KL_EVICTION_WATCH_PSI;
        }
        if (fd == w->ino_fd && (w->active & KL_EVICTION_WATCH_MEMORY_EVENTS))
                return drain_inotify(w);
        return -EBADF;
}
