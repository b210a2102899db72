/* SPDX-License-Identifier: Apache-2.0 */
/* A manual clock and event loop in place of kubelet-lite/event.o (see
 * fake-cri.h): timers fire only when the test steps the loop, at the time the
 * test set; the only fd it watches for real is the fake runtime's. One-shot
 * timers as in event.c: a timer's deadline is cleared before it runs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kubelet-lite/event.h"
#include "lib/macros.h"
#include "tests/unit/kubelet-lite/pod/fake-cri.h"

struct kl_event_timer {
        struct kl_event *loop;
        uint64_t deadline;
        kl_event_timer_fn fn;
        void *userdata;
};

struct kl_event_io {
        struct kl_event *loop;
        int fd;
        uint32_t events;
        kl_event_io_fn fn;
        void *userdata;
        struct kl_event_io *next;
};

struct kl_event {
        struct kl_event_timer **timers;
        size_t n_timers;
        struct kl_event_io *ios;
        bool exiting;
        int exit_code;
        uint64_t iterations;
};

static uint64_t mono = FAKE_MONO_START;
static struct kl_event *current;

uint64_t kl_now_usec(void) {
        return mono;
}

int64_t kl_realtime_nsec(void) {
        return FAKE_REALTIME_START + (int64_t) (mono - FAKE_MONO_START) * 1000;
}

void fake_clock_reset(void) {
        mono = FAKE_MONO_START;
}

void fake_clock_advance(uint64_t usec) {
        mono += usec;
}

int kl_event_new(struct kl_event **ret) {
        struct kl_event *e = calloc(1, sizeof(*e));
        if (!e)
                return -ENOMEM;
        current = e;
        *ret = e;
        return 0;
}

struct kl_event *kl_event_free(struct kl_event *e) {
        if (!e)
                return NULL;
        for (size_t i = 0; i < e->n_timers; i++) {
                e->timers[i]->loop = NULL; /* detached, freed by their owner */
        }
        free(e->timers);
        while (e->ios) {
                struct kl_event_io *io = e->ios;
                e->ios = io->next;
                io->loop = NULL;
        }
        if (current == e)
                current = NULL;
        free(e);
        return NULL;
}

int kl_event_add_io(struct kl_event *e, int fd, uint32_t events, kl_event_io_fn fn, void *userdata,
                    struct kl_event_io **ret) {
        if (fd < 0)
                return -EBADF;
        struct kl_event_io *io = calloc(1, sizeof(*io));
        if (!io)
                return -ENOMEM;
        *io = (struct kl_event_io){
                .loop = e, .fd = fd, .events = events, .fn = fn, .userdata = userdata, .next = e->ios};
        e->ios = io;
        if (ret)
                *ret = io;
        return 0;
}

int kl_event_io_set_events(struct kl_event_io *io, uint32_t events) {
        io->events = events;
        return 0;
}

void kl_event_io_free(struct kl_event_io *io) {
        if (!io)
                return;
        if (io->loop)
                for (struct kl_event_io **p = &io->loop->ios; *p; p = &(*p)->next)
                        if (*p == io) {
                                *p = io->next;
                                break;
                        }
        free(io);
}

int kl_event_add_timer(struct kl_event *e, uint64_t deadline, kl_event_timer_fn fn, void *userdata,
                       struct kl_event_timer **ret) {
        struct kl_event_timer *t = calloc(1, sizeof(*t));
        struct kl_event_timer **v = realloc(e->timers, sizeof(*v) * (e->n_timers + 1));
        if (!t || !v) {
                free(t);
                if (v)
                        e->timers = v;
                return -ENOMEM;
        }
        *t = (struct kl_event_timer){.loop = e, .deadline = deadline, .fn = fn, .userdata = userdata};
        e->timers = v;
        e->timers[e->n_timers++] = t;
        if (ret)
                *ret = t;
        return 0;
}

void kl_event_timer_set(struct kl_event_timer *t, uint64_t deadline) {
        t->deadline = deadline;
}

uint64_t kl_event_timer_deadline(const struct kl_event_timer *t) {
        return t->deadline;
}

void kl_event_timer_free(struct kl_event_timer *t) {
        if (!t)
                return;
        struct kl_event *e = t->loop;
        for (size_t i = 0; e && i < e->n_timers; i++)
                if (e->timers[i] == t) {
                        e->timers[i] = e->timers[--e->n_timers];
                        break;
                }
        free(t);
}

/* The earliest due timer, or NULL. */
static struct kl_event_timer *due_timer(struct kl_event *e) {
        struct kl_event_timer *best = NULL;
        for (size_t i = 0; i < e->n_timers; i++)
                if (e->timers[i]->deadline <= mono && (!best || e->timers[i]->deadline < best->deadline))
                        best = e->timers[i];
        return best;
}

static bool step(struct kl_event *e) {
        bool ran = false;
        e->iterations++;
        /* As event.c: a timer re-armed to "now" inside its callback waits for the next step. */
        size_t budget = e->n_timers;
        struct kl_event_timer *t;
        while (budget-- > 0 && (t = due_timer(e))) {
                t->deadline = KL_USEC_INFINITY;
                t->fn(t, mono, t->userdata);
                ran = true;
        }
        if (fake_cri_n_ready() > 0)
                for (struct kl_event_io *io = e->ios; io; io = io->next)
                        if (io->fd == fake_cri_event_fd()) {
                                io->fn(io, io->fd, io->events, io->userdata);
                                ran = true;
                                break;
                        }
        return ran;
}

bool fake_loop_step(void) {
        return current ? step(current) : false;
}

int fake_loop_settle(void) {
        for (int i = 0; i < 10000; i++)
                if (!fake_loop_step())
                        return i;
        return -1;
}

void fake_loop_run_for(uint64_t usec) {
        while (usec > 0) {
                uint64_t d = MIN(usec, KL_USEC_PER_SEC);
                fake_clock_advance(d);
                usec -= d;
                (void) fake_loop_settle();
        }
}

unsigned fake_loop_n_timers(void) {
        return current ? (unsigned) current->n_timers : 0;
}

/* Not used by the tests (they step the loop); runs until exit or until
 * nothing can ever happen again, jumping the clock to the next timer. */
int kl_event_run(struct kl_event *e) {
        while (!e->exiting) {
                if (step(e))
                        continue;
                uint64_t next = KL_USEC_INFINITY;
                for (size_t i = 0; i < e->n_timers; i++)
                        next = MIN(next, e->timers[i]->deadline);
                if (next == KL_USEC_INFINITY)
                        break;
                mono = MAX(mono, next);
        }
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
