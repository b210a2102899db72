/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's single event loop: epoll over fds, plus one-shot timers
 * multiplexed onto a single timerfd. Everything runs on one thread. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct kl_event;
struct kl_event_io;
struct kl_event_timer;

typedef void (*kl_event_io_fn)(struct kl_event_io *io, int fd, uint32_t revents, void *userdata);
typedef void (*kl_event_timer_fn)(struct kl_event_timer *t, uint64_t now_usec, void *userdata);

#define KL_USEC_PER_SEC UINT64_C(1000000)
#define KL_USEC_PER_MSEC UINT64_C(1000)
#define KL_USEC_INFINITY UINT64_MAX

/* CLOCK_MONOTONIC and CLOCK_REALTIME in microseconds / nanoseconds. */
uint64_t kl_now_usec(void);
int64_t kl_realtime_nsec(void);

int kl_event_new(struct kl_event **ret);
struct kl_event *kl_event_free(struct kl_event *e);

int kl_event_add_io(struct kl_event *e, int fd, uint32_t events, kl_event_io_fn fn, void *userdata,
                    struct kl_event_io **ret);
int kl_event_io_set_events(struct kl_event_io *io, uint32_t events);
/* Removes the watch; safe to call from inside the callback. Does not close fd. */
void kl_event_io_free(struct kl_event_io *io);

/* A timer fires once at its deadline (CLOCK_MONOTONIC usec); re-arm it with
 * kl_event_timer_set. KL_USEC_INFINITY disarms. */
int kl_event_add_timer(struct kl_event *e, uint64_t deadline, kl_event_timer_fn fn, void *userdata,
                       struct kl_event_timer **ret);
void kl_event_timer_set(struct kl_event_timer *t, uint64_t deadline);
uint64_t kl_event_timer_deadline(const struct kl_event_timer *t);
void kl_event_timer_free(struct kl_event_timer *t);

/* Run until kl_event_exit; returns the exit code. The loop may be run again afterwards. */
int kl_event_run(struct kl_event *e);
void kl_event_exit(struct kl_event *e, int code);
/* Number of loop iterations and time of the last one, for /healthz/syncloop. */
uint64_t kl_event_iterations(const struct kl_event *e);
