/* SPDX-License-Identifier: Apache-2.0 */
#include "kubelet-lite/server/healthz.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include "kubelet-lite/event.h"
#include "lib/log.h"
#include "lib/macros.h"

#define RUNTIME_ERROR_MAX 512

struct kl_healthz {
        struct kl_event *loop; /* the thread's own */
        struct kl_http_server *server;
        struct kl_event_io *stop_io;
        int stop_fd; /* eventfd: written to stop the thread */
        pthread_t thread;
        bool running;

        pthread_mutex_t lock; /* guards the published state below */
        uint64_t last_sync_usec, stuck_usec;
        bool runtime_down;
        char runtime_error[RUNTIME_ERROR_MAX];
};

/* Upstream's checks: ping always answers; syncloop fails once no sync loop
 * iteration has finished for a while (Kubelet.SyncLoopHealthCheck), and
 * while the runtime has errors its sync loop does not run (Kubelet.syncLoop
 * skips iterations), which is reported with the runtime's error. */
void kl_healthz_render(const struct kl_healthz_state *st, uint64_t now, const char *path,
                       struct kl_http_response *resp) {
        if (streq(path, "/healthz") || streq(path, "/healthz/ping")) {
                kl_buf_puts(&resp->body, "ok");
                return;
        }
        if (streq(path, "/healthz/syncloop")) {
                bool synced = st->last_sync_usec > 0 && now >= st->last_sync_usec &&
                              now - st->last_sync_usec <= st->stuck_usec;
                if (!synced) {
                        resp->status = 500;
                        kl_buf_printf(&resp->body, "syncloop: no successful sync for more than %llus\n",
                                      (unsigned long long) (st->stuck_usec / KL_USEC_PER_SEC));
                } else if (st->runtime_error) {
                        resp->status = 500;
                        kl_buf_printf(&resp->body, "syncloop: container runtime is down: %s\n", st->runtime_error);
                } else
                        kl_buf_puts(&resp->body, "ok");
                return;
        }
        resp->status = 404;
        kl_buf_puts(&resp->body, "404 page not found\n");
}

/* On the healthz thread. */
static void handle(const char *path, const char *query, struct kl_http_response *resp, void *userdata) {
        struct kl_healthz *h = userdata;
        char err[RUNTIME_ERROR_MAX];
        struct kl_healthz_state st;

        (void) query;
        pthread_mutex_lock(&h->lock);
        st.last_sync_usec = h->last_sync_usec;
        st.stuck_usec = h->stuck_usec;
        st.runtime_error = h->runtime_down ? memcpy(err, h->runtime_error, sizeof(err)) : NULL;
        pthread_mutex_unlock(&h->lock);
        kl_healthz_render(&st, kl_now_usec(), path, resp);
}

static void on_stop(struct kl_event_io *io, int fd, uint32_t revents, void *userdata) {
        struct kl_healthz *h = userdata;
        uint64_t v;
        (void) io, (void) revents;
        (void) !read(fd, &v, sizeof(v));
        kl_event_exit(h->loop, 0);
}

/* Only this thread: it sleeps in epoll_wait and spends microseconds per
 * answer, so it can starve nothing, and under a saturated CPU (200 shims
 * starting on 2 cores) its answers kept a 150 ms tail at the default
 * priority. Needs CAP_SYS_NICE; without it the default stays. */
#define HEALTHZ_NICE (-10)

static void *run(void *userdata) {
        struct kl_healthz *h = userdata;
        if (setpriority(PRIO_PROCESS, (id_t) gettid(), HEALTHZ_NICE) < 0)
                log_debug("healthz thread: nice %d: %m, keeping the default", HEALTHZ_NICE);
        int r = kl_event_run(h->loop);
        if (r < 0)
                log_error_errno(r, "healthz thread: event loop failed");
        return NULL;
}

int kl_healthz_start(const char *addr, int port, uint64_t stuck_usec, struct kl_healthz **ret) {
        struct kl_healthz *h = calloc(1, sizeof(*h));
        int r;

        if (!h)
                return -ENOMEM;
        h->stop_fd = -EBADF;
        h->stuck_usec = stuck_usec;
        pthread_mutex_init(&h->lock, NULL);
        if ((r = kl_event_new(&h->loop)) < 0)
                goto fail;
        if ((r = kl_http_server_new(h->loop, addr, port, handle, h, &h->server)) < 0)
                goto fail;
        h->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (h->stop_fd < 0) {
                r = -errno;
                goto fail;
        }
        if ((r = kl_event_add_io(h->loop, h->stop_fd, EPOLLIN, on_stop, h, &h->stop_io)) < 0)
                goto fail;
        r = -pthread_create(&h->thread, NULL, run, h);
        if (r < 0)
                goto fail;
        h->running = true;
        *ret = h;
        return 0;
fail:
        kl_healthz_stop(h);
        return r;
}

void kl_healthz_publish(struct kl_healthz *h, uint64_t last_sync_usec, const char *runtime_error) {
        if (!h)
                return;
        pthread_mutex_lock(&h->lock);
        h->last_sync_usec = last_sync_usec;
        h->runtime_down = runtime_error != NULL;
        snprintf(h->runtime_error, sizeof(h->runtime_error), "%s", strempty(runtime_error));
        pthread_mutex_unlock(&h->lock);
}

int kl_healthz_port(const struct kl_healthz *h) {
        return kl_http_server_port(h->server);
}

struct kl_healthz *kl_healthz_stop(struct kl_healthz *h) {
        if (!h)
                return NULL;
        if (h->running) {
                uint64_t one = 1;
                (void) !write(h->stop_fd, &one, sizeof(one));
                pthread_join(h->thread, NULL);
        }
        kl_http_server_free(h->server);
        kl_event_io_free(h->stop_io);
        safe_close(h->stop_fd);
        kl_event_free(h->loop);
        pthread_mutex_destroy(&h->lock);
        free(h);
        return NULL;
}
