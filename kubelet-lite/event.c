/* SPDX-License-Identifier: Apache-2.0 */
#include "kubelet-lite/event.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>

#include "lib/macros.h"

struct kl_event_io {
        struct kl_event *loop;
        int fd;
        kl_event_io_fn fn;
        void *userdata;
        bool dead;
        struct kl_event_io *next_dead;
        struct kl_event_io *prev, *next; /* live watches, so that kl_event_free can detach them */
};

struct kl_event_timer {
        struct kl_event *loop;
        uint64_t deadline;
        kl_event_timer_fn fn;
        void *userdata;
        size_t index; /* position in loop->timers */
};

struct kl_event {
        int epfd;
        int timerfd;
        uint64_t armed; /* deadline currently programmed into timerfd */
        struct kl_event_timer **timers;
        size_t n_timers, cap_timers;
        struct kl_event_io *ios;  /* live watches */
        struct kl_event_io *dead; /* freed after the current epoll batch */
        bool exiting;
        int exit_code;
        uint64_t iterations;
};

uint64_t kl_now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * KL_USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

int64_t kl_realtime_nsec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int kl_event_new(struct kl_event **ret) {
        struct kl_event *e = calloc(1, sizeof(*e));
        if (!e)
                return -ENOMEM;
        e->epfd = epoll_create1(EPOLL_CLOEXEC);
        e->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (e->epfd < 0 || e->timerfd < 0) {
                int r = -errno;
                kl_event_free(e);
                return r;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
        if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, e->timerfd, &ev) < 0) {
                int r = -errno;
                kl_event_free(e);
                return r;
        }
        e->armed = KL_USEC_INFINITY;
        *ret = e;
        return 0;
}

static void reap_dead(struct kl_event *e) {
        while (e->dead) {
                struct kl_event_io *io = e->dead;
                e->dead = io->next_dead;
                free(io);
        }
}

struct kl_event *kl_event_free(struct kl_event *e) {
        if (!e)
                return NULL;
        reap_dead(e);
        /* Watches and timers still held by their owners stay valid handles;
         * freeing them later only frees their memory. */
        for (struct kl_event_io *io = e->ios; io; io = io->next)
                io->loop = NULL;
        for (size_t i = 0; i < e->n_timers; i++)
                e->timers[i]->loop = NULL;
        free(e->timers);
        safe_close(e->epfd);
        safe_close(e->timerfd);
        free(e);
        return NULL;
}

int kl_event_add_io(struct kl_event *e, int fd, uint32_t events, kl_event_io_fn fn, void *userdata,
                    struct kl_event_io **ret) {
        struct kl_event_io *io = calloc(1, sizeof(*io));
        if (!io)
                return -ENOMEM;
        *io = (struct kl_event_io){.loop = e, .fd = fd, .fn = fn, .userdata = userdata};
        struct epoll_event ev = {.events = events, .data.ptr = io};
        if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                int r = -errno;
                free(io);
                return r;
        }
        io->next = e->ios;
        if (e->ios)
                e->ios->prev = io;
        e->ios = io;
        if (ret)
                *ret = io;
        return 0;
}

int kl_event_io_set_events(struct kl_event_io *io, uint32_t events) {
        if (!io || io->dead || !io->loop)
                return -ESTALE;
        struct epoll_event ev = {.events = events, .data.ptr = io};
        if (epoll_ctl(io->loop->epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0)
                return -errno;
        return 0;
}

void kl_event_io_free(struct kl_event_io *io) {
        if (!io || io->dead)
                return;
        struct kl_event *e = io->loop;
        if (!e) { /* the loop is gone already */
                free(io);
                return;
        }
        (void) epoll_ctl(e->epfd, EPOLL_CTL_DEL, io->fd, NULL);
        if (io->prev)
                io->prev->next = io->next;
        else
                e->ios = io->next;
        if (io->next)
                io->next->prev = io->prev;
        /* The current epoll batch may still hold a pointer to it. */
        io->dead = true;
        io->next_dead = e->dead;
        e->dead = io;
}

/* Timers live in a binary min-heap ordered by deadline. */
static bool timer_less(const struct kl_event_timer *a, const struct kl_event_timer *b) {
        return a->deadline < b->deadline;
}

static void heap_swap(struct kl_event *e, size_t a, size_t b) {
        struct kl_event_timer *t = e->timers[a];
        e->timers[a] = e->timers[b];
        e->timers[b] = t;
        e->timers[a]->index = a;
        e->timers[b]->index = b;
}

static void heap_fix(struct kl_event *e, size_t i) {
        while (i > 0 && timer_less(e->timers[i], e->timers[(i - 1) / 2])) {
                heap_swap(e, i, (i - 1) / 2);
                i = (i - 1) / 2;
        }
        for (;;) {
                size_t l = 2 * i + 1, r = l + 1, m = i;
                if (l < e->n_timers && timer_less(e->timers[l], e->timers[m]))
                        m = l;
                if (r < e->n_timers && timer_less(e->timers[r], e->timers[m]))
                        m = r;
                if (m == i)
                        break;
                heap_swap(e, i, m);
                i = m;
        }
}

static void rearm(struct kl_event *e) {
        uint64_t next = e->n_timers ? e->timers[0]->deadline : KL_USEC_INFINITY;
        if (next == e->armed)
                return;
        struct itimerspec its = {};
        if (next != KL_USEC_INFINITY) {
                if (next == 0)
                        next = 1; /* 0 would disarm */
                its.it_value.tv_sec = (time_t) (next / KL_USEC_PER_SEC);
                its.it_value.tv_nsec = (long) (next % KL_USEC_PER_SEC) * 1000;
        }
        if (timerfd_settime(e->timerfd, TFD_TIMER_ABSTIME, &its, NULL) >= 0)
                e->armed = next;
}

int kl_event_add_timer(struct kl_event *e, uint64_t deadline, kl_event_timer_fn fn, void *userdata,
                       struct kl_event_timer **ret) {
        if (e->n_timers == e->cap_timers) {
                size_t ncap = e->cap_timers ? e->cap_timers * 2 : 16;
                struct kl_event_timer **n = realloc(e->timers, ncap * sizeof(*n));
                if (!n)
                        return -ENOMEM;
                e->timers = n;
                e->cap_timers = ncap;
        }
        struct kl_event_timer *t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        *t = (struct kl_event_timer){.loop = e, .deadline = deadline, .fn = fn, .userdata = userdata};
        t->index = e->n_timers;
        e->timers[e->n_timers++] = t;
        heap_fix(e, t->index);
        rearm(e);
        *ret = t;
        return 0;
}

void kl_event_timer_set(struct kl_event_timer *t, uint64_t deadline) {
        if (!t || !t->loop)
                return;
        t->deadline = deadline;
        heap_fix(t->loop, t->index);
        rearm(t->loop);
}

uint64_t kl_event_timer_deadline(const struct kl_event_timer *t) {
        return t ? t->deadline : KL_USEC_INFINITY;
}

void kl_event_timer_free(struct kl_event_timer *t) {
        if (!t)
                return;
        struct kl_event *e = t->loop;
        if (e) {
                size_t i = t->index;
                e->n_timers--;
                if (i != e->n_timers) {
                        e->timers[i] = e->timers[e->n_timers];
                        e->timers[i]->index = i;
                        heap_fix(e, i);
                }
                rearm(e);
        }
        free(t);
}

static void run_timers(struct kl_event *e) {
        uint64_t buf;
        (void) !read(e->timerfd, &buf, sizeof(buf));
        e->armed = KL_USEC_INFINITY;
        uint64_t now = kl_now_usec();
        /* Bounded: a timer re-armed to "now" inside its callback waits for the next iteration. */
        size_t budget = e->n_timers;
        while (budget-- > 0 && e->n_timers > 0 && e->timers[0]->deadline <= now) {
                struct kl_event_timer *t = e->timers[0];
                t->deadline = KL_USEC_INFINITY; /* one-shot */
                heap_fix(e, 0);
                t->fn(t, now, t->userdata);
                if (e->exiting)
                        break;
        }
        rearm(e);
}

int kl_event_run(struct kl_event *e) {
        struct epoll_event evs[32];

        while (!e->exiting) {
                int n = epoll_wait(e->epfd, evs, (int) ELEMENTSOF(evs), -1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                e->iterations++;
                for (int i = 0; i < n && !e->exiting; i++) {
                        struct kl_event_io *io = evs[i].data.ptr;
                        if (!io) {
                                run_timers(e);
                                continue;
                        }
                        if (io->dead)
                                continue;
                        io->fn(io, io->fd, evs[i].events, io->userdata);
                }
                reap_dead(e);
                /* Busy fds must not delay timers: epoll hands out at most a
                 * batch at a time, and the timerfd may sit behind many of them. */
                if (!e->exiting && e->n_timers > 0 && e->timers[0]->deadline <= kl_now_usec())
                        run_timers(e);
        }
        /* Ready for another kl_event_run. */
        e->exiting = false;
        return e->exit_code;
}

void kl_event_exit(struct kl_event *e, int code) {
        e->exiting = true;
        e->exit_code = code;
}

uint64_t kl_event_iterations(const struct kl_event *e) {
        return e->iterations;
}
