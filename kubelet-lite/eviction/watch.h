/* SPDX-License-Identifier: Apache-2.0 */
/* The eviction fast path: PSI trigger and cgroup v2 memory.events watches
 * for the daemon's epoll loop. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/macros.h"

/* ---- fast path: PSI trigger and cgroup v2 memory.events ----------------- */

struct kl_eviction_watch_config {
        /* A PSI file: /proc/pressure/memory (NULL) or kubepods' memory.pressure;
         * "" disables PSI. */
        const char *psi_path;
        /* NULL: "some 150000 1000000" (150 ms stalled in 1 s). Without
         * CAP_SYS_RESOURCE the kernel only takes windows in multiples of 2 s:
         * the window is then raised to the next multiple and the stall time
         * scaled with it ("some 300000 2000000"). */
        const char *psi_trigger;
        /* kubepods' memory.events on cgroup v2; NULL: none. */
        const char *memory_events;
};

enum {
        KL_EVICTION_WATCH_PSI = 1 << 0,           /* the PSI trigger is armed / fired */
        KL_EVICTION_WATCH_MEMORY_EVENTS = 1 << 1, /* memory.events is watched / high, max, oom or oom_kill grew */
        KL_EVICTION_WATCH_LOST = 1 << 2,          /* the fd given to drain broke: remove it from the loop */
};

struct kl_eviction_watch;

/* Open what is available; what is not (no PSI, psi=0, cgroup v1, a missing
 * file) is left out and described by kl_eviction_watch_describe(). Fails
 * only with -ENOMEM or -EINVAL (a malformed psi_trigger). */
int kl_eviction_watch_open(const struct kl_eviction_watch_config *cfg, struct kl_eviction_watch **ret);
struct kl_eviction_watch *kl_eviction_watch_free(struct kl_eviction_watch *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct kl_eviction_watch *, kl_eviction_watch_free)

/* Add to epoll: the PSI fd with EPOLLPRI, the inotify fd with EPOLLIN.
 * -EBADF when that source is not active. */
int kl_eviction_watch_psi_fd(const struct kl_eviction_watch *w);
int kl_eviction_watch_events_fd(const struct kl_eviction_watch *w);
unsigned kl_eviction_watch_active(const struct kl_eviction_watch *w); /* KL_EVICTION_WATCH_* */
/* One line for the log: what is watched and why something is not. */
const char *kl_eviction_watch_describe(const struct kl_eviction_watch *w);

/* Call when fd (one of the two above) is ready, with epoll's revents.
 * Consumes the event (reads inotify, re-adds a watch after IN_IGNORED) and
 * returns what it meant: KL_EVICTION_WATCH_PSI or _MEMORY_EVENTS mean "check
 * now"; 0 that nothing relevant changed (memory.events "low" only);
 * _LOST (with the fd left open until kl_eviction_watch_free) that the
 * source is gone and the fd must leave the loop. */
int kl_eviction_watch_drain(struct kl_eviction_watch *w, int fd, uint32_t revents);
