/* SPDX-License-Identifier: Apache-2.0 */
#include "kubelet-lite/event.h"

#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "lib/macros.h"
#include "tests/lib/tests.h"

#define MSEC KL_USEC_PER_MSEC

static struct kl_event *new_loop(void) {
        struct kl_event *e = NULL;
        ASSERT_OK(kl_event_new(&e));
        return e;
}

/* A safety net: no test may hang the loop. */
static void on_watchdog(struct kl_event_timer *t, uint64_t now, void *userdata) {
        kl_event_exit(userdata, 99);
}

static struct kl_event_timer *watchdog(struct kl_event *e, uint64_t usec) {
        struct kl_event_timer *t = NULL;
        ASSERT_OK(kl_event_add_timer(e, kl_now_usec() + usec, on_watchdog, e, &t));
        return t;
}

struct order {
        struct kl_event *loop;
        int fired[64];
        uint64_t late[64];
        int n, exit_after;
};

struct tagged {
        struct order *o;
        int tag;
};

static void on_tagged(struct kl_event_timer *t, uint64_t now, void *userdata) {
        struct tagged *x = userdata;
        struct order *o = x->o;
        o->fired[o->n] = x->tag;
        o->late[o->n] = now;
        o->n++;
        if (o->n == o->exit_after)
                kl_event_exit(o->loop, 0);
}

TEST(timers_fire_in_deadline_order) {
        struct kl_event *e = new_loop();
        struct order o = {.loop = e, .exit_after = 4};
        struct tagged x[4];
        struct kl_event_timer *t[4];
        uint64_t now = kl_now_usec();
        uint64_t when[4] = {now + 30 * MSEC, now + 10 * MSEC, now + 20 * MSEC, 0 /* in the past */};

        for (int i = 0; i < 4; i++) {
                x[i] = (struct tagged){&o, i};
                ASSERT_OK(kl_event_add_timer(e, when[i], on_tagged, &x[i], &t[i]));
        }
        struct kl_event_timer *wd = watchdog(e, 2 * KL_USEC_PER_SEC);
        ASSERT_EQ(kl_event_run(e), 0);
        ASSERT_EQ(o.n, 4);
        ASSERT_EQ(o.fired[0], 3);
        ASSERT_EQ(o.fired[1], 1);
        ASSERT_EQ(o.fired[2], 2);
        ASSERT_EQ(o.fired[3], 0);
        for (int i = 0; i < 4; i++) {
                ASSERT_GE(o.late[i], when[o.fired[i]]);                              /* never early */
                ASSERT_EQ(kl_event_timer_deadline(t[o.fired[i]]), KL_USEC_INFINITY); /* one-shot */
        }
        ASSERT_TRUE(kl_event_iterations(e) >= 3);
        for (int i = 0; i < 4; i++)
                kl_event_timer_free(t[i]);
        kl_event_timer_free(wd);
        kl_event_free(e);
        printf("  deadlines +30/+10/+20 ms and one in the past fire as 3,1,2,0, never early\n");
}

struct periodic {
        struct kl_event *loop;
        int count, max;
        uint64_t period, expected, worst_late;
};

static void on_periodic(struct kl_event_timer *t, uint64_t now, void *userdata) {
        struct periodic *p = userdata;
        ASSERT_GE(now, p->expected);
        if (now - p->expected > p->worst_late)
                p->worst_late = now - p->expected;
        if (++p->count == p->max) {
                kl_event_exit(p->loop, 7);
                return;
        }
        p->expected += p->period;
        kl_event_timer_set(t, p->expected);
}

TEST(rearming_in_callback) {
        struct kl_event *e = new_loop();
        struct periodic p = {.loop = e, .max = 10, .period = 5 * MSEC};
        struct kl_event_timer *t;

        p.expected = kl_now_usec() + p.period;
        ASSERT_OK(kl_event_add_timer(e, p.expected, on_periodic, &p, &t));
        struct kl_event_timer *wd = watchdog(e, 2 * KL_USEC_PER_SEC);
        ASSERT_EQ(kl_event_run(e), 7);
        ASSERT_EQ(p.count, 10);
        printf("  10 re-arms of a 5 ms timer, worst lateness %.2f ms\n", p.worst_late / 1000.0);
        kl_event_timer_free(t);
        kl_event_timer_free(wd);
        kl_event_free(e);
}

static void on_must_not_fire(struct kl_event_timer *t, uint64_t now, void *userdata) {
        ASSERT_TRUE(!"this timer was disarmed or freed and must not fire");
}

static void on_exit0(struct kl_event_timer *t, uint64_t now, void *userdata) {
        kl_event_exit(userdata, 0);
}

TEST(disarm_and_move_earlier) {
        struct kl_event *e = new_loop();
        struct kl_event_timer *off, *late, *end;
        uint64_t now = kl_now_usec();

        ASSERT_OK(kl_event_add_timer(e, now + 5 * MSEC, on_must_not_fire, NULL, &off));
        kl_event_timer_set(off, KL_USEC_INFINITY);
        ASSERT_OK(kl_event_add_timer(e, now + 10 * KL_USEC_PER_SEC, on_exit0, e, &late));
        ASSERT_OK(kl_event_add_timer(e, now + 5 * KL_USEC_PER_SEC, on_must_not_fire, NULL, &end));
        kl_event_timer_set(late, now + 20 * MSEC); /* moved before 'end' */
        struct kl_event_timer *wd = watchdog(e, 2 * KL_USEC_PER_SEC);
        ASSERT_EQ(kl_event_run(e), 0);
        ASSERT_TRUE(kl_now_usec() - now < 1 * KL_USEC_PER_SEC);
        kl_event_timer_free(off);
        kl_event_timer_free(late);
        kl_event_timer_free(end);
        kl_event_timer_free(wd);
        kl_event_free(e);
}

struct selfree {
        struct kl_event *loop;
        struct kl_event_timer *victim;
        int fired;
};

static void on_free_self_and_victim(struct kl_event_timer *t, uint64_t now, void *userdata) {
        struct selfree *s = userdata;
        s->fired++;
        kl_event_timer_free(s->victim); /* due at the same time, not yet run */
        s->victim = NULL;
        kl_event_timer_free(t);
}

TEST(free_timers_inside_callback) {
        struct kl_event *e = new_loop();
        struct selfree s = {.loop = e};
        struct kl_event_timer *a, *end;
        uint64_t now = kl_now_usec();

        /* Both due in the same wake-up; the first frees itself and the second. */
        ASSERT_OK(kl_event_add_timer(e, now + 5 * MSEC, on_free_self_and_victim, &s, &a));
        ASSERT_OK(kl_event_add_timer(e, now + 5 * MSEC + 1, on_must_not_fire, NULL, &s.victim));
        ASSERT_OK(kl_event_add_timer(e, now + 30 * MSEC, on_exit0, e, &end));
        struct kl_event_timer *wd = watchdog(e, 2 * KL_USEC_PER_SEC);
        ASSERT_EQ(kl_event_run(e), 0);
        ASSERT_EQ(s.fired, 1);
        kl_event_timer_free(end);
        kl_event_timer_free(wd);
        kl_event_free(e);
        printf("  a timer freeing itself and another due timer in its callback: the other never runs\n");
}

struct iofree {
        struct kl_event *loop;
        struct kl_event_io *ios[2];
        int fds[2];
        int calls[2];
};

static void on_io_free_other(struct kl_event_io *io, int fd, uint32_t revents, void *userdata) {
        struct iofree *f = userdata;
        int me = io == f->ios[0] ? 0 : 1, other = 1 - me;
        f->calls[me]++;
        /* Whoever runs first frees both watches (itself included) and closes both fds. */
        kl_event_io_free(f->ios[other]);
        kl_event_io_free(io);
        kl_event_io_free(io); /* twice is harmless */
        safe_close(f->fds[other]);
        safe_close(fd);
        kl_event_exit(f->loop, 0);
}

TEST(free_io_inside_callback) {
        struct kl_event *e = new_loop();
        struct iofree f = {.loop = e};

        for (int i = 0; i < 2; i++) {
                f.fds[i] = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK); /* readable right away */
                ASSERT_OK(f.fds[i]);
                ASSERT_OK(kl_event_add_io(e, f.fds[i], EPOLLIN, on_io_free_other, &f, &f.ios[i]));
        }
        struct kl_event_timer *wd = watchdog(e, 2 * KL_USEC_PER_SEC);
        ASSERT_EQ(kl_event_run(e), 0);
        /* Both were ready in the same epoll batch; the freed one must not be called. */
        ASSERT_EQ(f.calls[0] + f.calls[1], 1);
        kl_event_timer_free(wd);
        kl_event_free(e);
        printf("  two fds ready in one batch: the first callback frees both; the second is never called\n");
}

static void on_count_io(struct kl_event_io *io, int fd, uint32_t revents, void *userdata) {
        (*(int *) userdata)++;
}

TEST(io_set_events_and_survive_loop_free) {
        struct kl_event *e = new_loop();
        struct kl_event_io *io;
        struct kl_event_timer *t;
        int calls = 0;
        int fd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);

        ASSERT_OK(kl_event_add_io(e, fd, 0, on_count_io, &calls, &io)); /* no events asked for yet */
        ASSERT_OK(kl_event_add_timer(e, kl_now_usec() + 20 * MSEC, on_exit0, e, &t));
        struct kl_event_timer *wd = watchdog(e, 2 * KL_USEC_PER_SEC);
        ASSERT_EQ(kl_event_run(e), 0);
        ASSERT_EQ(calls, 0);
        ASSERT_OK(kl_event_io_set_events(io, EPOLLIN));
        kl_event_timer_set(t, kl_now_usec() + 20 * MSEC);
        ASSERT_EQ(kl_event_run(e), 0); /* the loop runs again after an exit */
        ASSERT_TRUE(calls > 0);
        ASSERT_ERR(kl_event_add_io(e, -1, EPOLLIN, on_count_io, &calls, NULL), EBADF);
        /* Handles outlive the loop: freeing them afterwards is fine. */
        kl_event_free(e);
        kl_event_io_free(io);
        kl_event_timer_free(t);
        kl_event_timer_free(wd);
        close(fd);
}

struct many {
        struct kl_event *loop;
        uint64_t last_deadline;
        int fired, total;
        bool ordered;
};

struct many_timer {
        struct many *m;
        uint64_t deadline;
        struct kl_event_timer *t;
};

static void on_many(struct kl_event_timer *t, uint64_t now, void *userdata) {
        struct many_timer *x = userdata;
        struct many *m = x->m;
        if (x->deadline < m->last_deadline || now < x->deadline)
                m->ordered = false;
        m->last_deadline = x->deadline;
        kl_event_timer_free(t);
        x->t = NULL;
        if (++m->fired == m->total)
                kl_event_exit(m->loop, 0);
}

TEST(many_timers) {
        enum {
                N = 20000
        };
        struct kl_event *e = new_loop();
        struct many m = {.loop = e, .total = N, .ordered = true};
        struct many_timer *x = calloc(N, sizeof(*x));
        uint64_t now = kl_now_usec();

        srand(42);
        for (int i = 0; i < N; i++) {
                x[i].m = &m;
                x[i].deadline = now + 10 * MSEC + (uint64_t) (rand() % 100000);
                ASSERT_OK(kl_event_add_timer(e, x[i].deadline, on_many, &x[i], &x[i].t));
        }
        /* Shuffle some: move every third one, and drop every 7th. */
        for (int i = 0; i < N; i += 3) {
                x[i].deadline = now + 10 * MSEC + (uint64_t) (rand() % 100000);
                kl_event_timer_set(x[i].t, x[i].deadline);
        }
        for (int i = 0; i < N; i += 7) {
                kl_event_timer_free(x[i].t);
                x[i].t = NULL;
                m.total--;
        }
        struct kl_event_timer *wd = watchdog(e, 5 * KL_USEC_PER_SEC);
        ASSERT_EQ(kl_event_run(e), 0);
        ASSERT_EQ(m.fired, m.total);
        ASSERT_TRUE(m.ordered);
        kl_event_timer_free(wd);
        kl_event_free(e);
        free(x);
        printf("  %d timers (after re-arming a third and freeing every 7th) fire in deadline order\n", m.total);
}

struct busy {
        struct kl_event *loop;
        uint64_t deadline, worst;
        int fired, calls_late, worst_calls_late;
        struct kl_event_timer *t;
};

static void on_busy_timer(struct kl_event_timer *t, uint64_t now, void *userdata) {
        struct busy *b = userdata;
        if (now - b->deadline > b->worst)
                b->worst = now - b->deadline;
        if (b->calls_late > b->worst_calls_late)
                b->worst_calls_late = b->calls_late;
        b->calls_late = 0;
        if (++b->fired == 50) {
                kl_event_exit(b->loop, 0);
                return;
        }
        b->deadline = now + 2 * MSEC;
        kl_event_timer_set(t, b->deadline);
}

static void on_busy_io(struct kl_event_io *io, int fd, uint32_t revents, void *userdata) {
        struct busy *b = userdata;
        /* Never drained: always ready again. Burn a little time, as a request would. */
        uint64_t now = kl_now_usec(), until = now + 20;
        if (now >= b->deadline)
                b->calls_late++;
        while (kl_now_usec() < until)
                ;
}

TEST(busy_fds_do_not_starve_timers) {
        enum {
                NFD = 200
        };
        struct kl_event *e = new_loop();
        struct busy b = {.loop = e};
        struct kl_event_io *ios[NFD];
        int fds[NFD];

        for (int i = 0; i < NFD; i++) {
                fds[i] = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);
                ASSERT_OK(fds[i]);
                ASSERT_OK(kl_event_add_io(e, fds[i], EPOLLIN, on_busy_io, &b, &ios[i]));
        }
        b.deadline = kl_now_usec() + 2 * MSEC;
        ASSERT_OK(kl_event_add_timer(e, b.deadline, on_busy_timer, &b, &b.t));
        struct kl_event_timer *wd = watchdog(e, 10 * KL_USEC_PER_SEC);
        ASSERT_EQ(kl_event_run(e), 0);
        ASSERT_EQ(b.fired, 50);
        printf("  %d always-ready fds: at most %d callbacks ran between a deadline and its timer "
               "(worst lateness %.2f ms on this machine)\n",
               NFD, b.worst_calls_late, b.worst / 1000.0);
        /* Counted in callbacks, not in time, so that a loaded machine does not
         * make this flaky: the timer waits for the current epoll batch (32 fds),
         * not for a sweep over all 200 ready fds. */
        ASSERT_LE(b.worst_calls_late, 32);
        for (int i = 0; i < NFD; i++) {
                kl_event_io_free(ios[i]);
                close(fds[i]);
        }
        kl_event_timer_free(b.t);
        kl_event_timer_free(wd);
        kl_event_free(e);
}

TEST(clocks) {
        uint64_t a = kl_now_usec(), b = kl_now_usec();
        ASSERT_LE(a, b);
        ASSERT_TRUE(kl_realtime_nsec() > INT64_C(1600000000) * 1000000000);
}

TEST_MAIN()
