/* SPDX-License-Identifier: Apache-2.0 */
/* /healthz, /healthz/ping and /healthz/syncloop, answered on a thread of
 * their own.
 *
 * Upstream serves its healthz port from a goroutine of its own, never from
 * the sync loop (pkg/kubelet/server: ListenAndServeKubeletServer's healthz
 * checks run beside syncLoop). On a 2-core board that starts 200 containers
 * at once, the daemon's loop competes with containerd and 200 shims for the
 * CPU and the file system: its callbacks took 50-300 ms of wall time for
 * 2-6 ms of CPU, and a liveness probe waiting behind them timed out. So the
 * healthz port gets a second instance of the same event loop and HTTP server
 * (event.c, http.c: the same parsing, caps and timeouts), on a thread that
 * sleeps in epoll_wait and touches nothing of the daemon: the daemon's loop
 * publishes what the checks need (kl_healthz_publish), and a loop that stops
 * publishing is reported by /healthz/syncloop instead of hanging it.
 *
 * kl_healthz_render() is the one place the answers are made, for this
 * thread and for the read-only port (which serves /healthz too). */
#pragma once

#include <stdint.h>

#include "kubelet-lite/server/http.h"

/* What the checks look at. */
struct kl_healthz_state {
        uint64_t last_sync_usec;   /* monotonic: the last relist that finished; 0: none yet */
        uint64_t stuck_usec;       /* syncloop unhealthy after this long without one */
        const char *runtime_error; /* NULL: the runtime answers */
};

/* The answer for path from state st at monotonic time now. */
void kl_healthz_render(const struct kl_healthz_state *st, uint64_t now, const char *path,
                       struct kl_http_response *resp);

struct kl_healthz;

/* Listen on addr:port now (errors come back here), then serve on a new
 * thread. Signals must already be blocked in the caller (the thread inherits
 * the mask). */
int kl_healthz_start(const char *addr, int port, uint64_t stuck_usec, struct kl_healthz **ret);
/* From the daemon's loop: the latest state. runtime_error is copied (up to
 * 511 bytes). */
void kl_healthz_publish(struct kl_healthz *h, uint64_t last_sync_usec, const char *runtime_error);
int kl_healthz_port(const struct kl_healthz *h);
/* Stops the thread, closes the socket. NULL-safe; returns NULL. */
struct kl_healthz *kl_healthz_stop(struct kl_healthz *h);
