/* SPDX-License-Identifier: Apache-2.0 */
/* Test support for the pod package: link-time fakes of runtime/cri.o (an
 * in-memory CRI runtime) and of kubelet-lite/event.o (a manual clock and an
 * event loop that only runs when the test steps it).
 *
 * Both files define every global symbol of the object they replace, so the
 * linker never pulls cri.o or event.o out of libkl.a for these tests.
 *
 * Every kl_cri_*_async call is recorded and queued; nothing completes until
 * the test drains the queue (fake_loop_settle, fake_cri_complete_one). A
 * completion applies the call to the in-memory runtime and runs the callback
 * with a reply that went through protobuf pack/unpack, like the real client.
 * No threads, no sleeps: time only moves with fake_clock_advance. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "runtime/cri.h"

enum fake_method {
        FAKE_VERSION = 0,
        FAKE_STATUS,
        FAKE_RUN_SANDBOX,
        FAKE_STOP_SANDBOX,
        FAKE_REMOVE_SANDBOX,
        FAKE_SANDBOX_STATUS,
        FAKE_LIST_SANDBOX,
        FAKE_CREATE,
        FAKE_START,
        FAKE_STOP,
        FAKE_REMOVE,
        FAKE_LIST_CONTAINERS,
        FAKE_CONTAINER_STATUS,
        FAKE_EXEC,
        FAKE_REOPEN_LOG,
        FAKE_UPDATE_RESOURCES,
        FAKE_IMAGE_STATUS,
        FAKE_PULL,
        _FAKE_METHOD_MAX
};

/* --- the clock ---
 * kl_now_usec() starts at FAKE_MONO_START; kl_realtime_nsec() is
 * FAKE_REALTIME_START plus the monotonic time elapsed. */
#define FAKE_MONO_START (1000 * KL_USEC_PER_SEC)
#define FAKE_REALTIME_START INT64_C(1700000000000000000)
void fake_clock_reset(void);
void fake_clock_advance(uint64_t usec);

/* --- the loop ---
 * One step: run the timers that are due, then, if the fake runtime has
 * completions ready, the io callback watching its event fd (which calls
 * kl_cri_dispatch). Returns whether anything ran. */
bool fake_loop_step(void);
/* Step until nothing is due or ready (at most 10000 steps; returns the
 * number of steps, or -1 when it never settled). */
int fake_loop_settle(void);
/* Advance the clock by usec in steps of at most 1 s, settling after each. */
void fake_loop_run_for(uint64_t usec);
unsigned fake_loop_n_timers(void);

/* --- the runtime --- */
void fake_cri_reset(void);
/* Completions that are queued and not held. */
unsigned fake_cri_n_ready(void);
/* The fd kl_cri_event_fd() gave out, -1 before kl_cri_new(). */
int fake_cri_event_fd(void);
/* Complete the oldest ready call (as kl_cri_dispatch would); false: none. */
bool fake_cri_complete_one(void);

/* Knobs. The next call of m (made after this) fails with -err and message. */
void fake_cri_fail_next(enum fake_method m, int err, const char *message);
/* The same for the next n calls (0: none any more). */
void fake_cri_fail_next_n(enum fake_method m, unsigned n, int err, const char *message);
/* Whether ImageStatus finds images (default yes); a successful pull makes them present. */
void fake_cri_set_images_present(bool present);
/* Calls of m made while held stay in flight (a hung runtime) until released. */
void fake_cri_hold(enum fake_method m);
void fake_cri_release(enum fake_method m);
/* The latest attempt of the container named name exits now with code. */
void fake_cri_exit(const char *name, int32_t exit_code);

/* Preloaded state, as left by a previous kubelet-lite: a sandbox with the
 * pod labels (uid, name, namespace) and its id; a container in it with the
 * container-name label. started_at 0 with state EXITED: never started. */
const char *fake_cri_add_sandbox(const char *name, const char *ns, const char *uid, uint32_t attempt,
                                 Runtime__V1__PodSandboxState state);
const char *fake_cri_add_container(const char *sandbox_id, const char *name, uint32_t attempt,
                                   Runtime__V1__ContainerState state, int64_t started_at, int32_t exit_code);

/* Recorded calls. */
unsigned fake_cri_n_calls(enum fake_method m);
/* The most calls of m in flight at once since the last reset. */
unsigned fake_cri_max_in_flight(enum fake_method m);
/* The calls that change the runtime, in call order, "; "-separated:
 *   RunPodSandbox web a0; CreateContainer c1 a0; StartContainer c1 a0;
 *   StopContainer c1 a0 t30; RemoveContainer c1 a0; StopPodSandbox web;
 *   RemovePodSandbox web; PullImage busybox
 * (the container and pod names are the runtime's metadata of the ids). */
const char *fake_cri_actions(void);
void fake_cri_clear_actions(void);

/* What the runtime has; -1 when the id is unknown or removed. */
int fake_cri_container_state(const char *name, uint32_t attempt);
int fake_cri_sandbox_state(const char *uid);
unsigned fake_cri_n_sandboxes(void);  /* not removed */
unsigned fake_cri_n_containers(void); /* not removed */
/* The id of container name, attempt (NULL: none). */
const char *fake_cri_container_id(const char *name, uint32_t attempt);
