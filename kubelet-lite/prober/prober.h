/* SPDX-License-Identifier: Apache-2.0 */
/* Liveness, readiness and startup probes of running containers, with
 * upstream kubelet's semantics (pkg/kubelet/prober), on timers of the daemon's
 * single event loop: no thread per probe, no blocking call. Each probe run
 * goes through kubelet-lite/handler.
 *
 * Per probe: the first run is initialDelaySeconds after the container started
 * (see kl_prober_add_container for the jitter after a daemon restart), then one
 * every periodSeconds; a run that is still going at the next tick makes that
 * tick a no-op. A run gets timeoutSeconds. successThreshold results in a row
 * make the probe succeed, failureThreshold make it fail. A run that could not
 * be made (ERROR: runtime unavailable, https, unknown named port...) is
 * retried at once up to 3 times, then thrown away: it counts neither way, as
 * upstream. Initial states: liveness succeeded, readiness failed (not ready
 * until it succeeds), startup unknown. While a startup probe has not
 * succeeded, liveness and readiness do not run; once it has, it stops and
 * readiness runs at once. A liveness or startup probe that fails stays failed
 * and stops ("on hold") until the container is replaced.
 *
 * The owner hears about changes only: fn is called when a probe's state
 * changes after its thresholds:
 *   READINESS true/false   the container became ready / not ready
 *   STARTUP   true         the container has started: liveness and readiness run
 *   STARTUP   false        startup failed past failureThreshold: restart needed
 *   LIVENESS  false        liveness failed past failureThreshold: restart needed
 * message is the output of the run that decided it (exec output, HTTP body or
 * "HTTP probe failed with statuscode: 500", connect error...).
 *
 * How the pod manager drives it:
 *   - a container is running (StartContainer returned, or a running container
 *     was found at daemon start): kl_prober_add_container() for every app and
 *     sidecar container, probes or not;
 *   - a container exited, was stopped or is about to be killed (a liveness
 *     restart included): kl_prober_remove_container() first;
 *   - a pod starts terminating or goes away: kl_prober_remove_pod();
 *   - status: started = kl_prober_get(STARTUP); ready = running &&
 *     kl_prober_get(READINESS). A container that is not running is never ready.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "kubelet-lite/event.h"
#include "manifests/pod.h"

struct kl_cri;
struct kl_prober;

enum kl_probe_kind {
        KL_PROBE_LIVENESS = 0,
        KL_PROBE_READINESS,
        KL_PROBE_STARTUP,
        _KL_PROBE_KIND_MAX,
};

/* "Liveness", "Readiness", "Startup" (as in upstream's event messages). */
const char *kl_probe_kind_to_string(enum kl_probe_kind k);

/* The strings are valid during the call only. The callback may call
 * kl_prober_add_container/remove_container/remove_pod/get (even for this very
 * container), but not kl_prober_free. */
typedef void (*kl_probe_result_fn)(void *userdata, const char *pod_uid, const char *container_name,
                                   const char *container_id, enum kl_probe_kind kind, bool success,
                                   const char *message);

/* cri is used for exec probes; NULL makes them ERROR. */
/* Told of every probe run that gave an answer: result "successful",
 * "failed" or "unknown" (an error, after retries), as upstream's
 * prober_probe_total labels them. Same userdata as the result callback. */
typedef void (*kl_probe_run_fn)(void *userdata, const char *pod_uid, const char *container_name,
                                enum kl_probe_kind kind, const char *result);
void kl_prober_set_run_observer(struct kl_prober *pr, kl_probe_run_fn fn);

int kl_prober_new(struct kl_event *loop, struct kl_cri *cri, kl_probe_result_fn fn, void *userdata,
                  struct kl_prober **ret);
/* Cancels every probe; no callback runs afterwards. NULL-safe, returns NULL. */
struct kl_prober *kl_prober_free(struct kl_prober *pr);

/* Start probing a running container. spec must stay valid and unchanged until
 * the container is removed (it is the pod's own kl_container). default_host is
 * where httpGet/tcpSocket probes without a host connect: "127.0.0.1" for
 * hostNetwork pods, the pod IP otherwise (copied). started_at_ns is when the
 * container started (CLOCK_REALTIME ns, CRI's started_at); 0 means now. If the
 * container started before the prober was created and we are within a probe's
 * first period, its first run is delayed by a random part of the period, so
 * that probes do not all fire at once after a daemon restart (upstream does
 * the same). A container without probes is fine (nothing runs; get() answers
 * started and ready). An entry of the same pod and container name with another
 * id is replaced. -EEXIST for a container id already added, -EINVAL, -ENOMEM. */
int kl_prober_add_container(struct kl_prober *pr, const char *pod_uid, const struct kl_container *spec,
                            const char *container_id, const char *default_host, int64_t started_at_ns);
/* Stop its probes (in-flight runs are cancelled; no callback follows). Unknown
 * ids are ignored. */
void kl_prober_remove_container(struct kl_prober *pr, const char *container_id);
void kl_prober_remove_pod(struct kl_prober *pr, const char *pod_uid);

/* Current state, with upstream's defaults for a missing probe:
 *   STARTUP    no startup probe, or it succeeded
 *   READINESS  started, and no readiness probe or it succeeded
 *   LIVENESS   no liveness probe, or it has not failed
 * -ENOENT when the container was not added. */
int kl_prober_get(struct kl_prober *pr, const char *container_id, enum kl_probe_kind kind, bool *ret);

/* For tests: the length of a probe "second" (periods, delays, timeouts) in
 * microseconds instead of KL_USEC_PER_SEC. Affects containers added later. */
void kl__prober_set_second(struct kl_prober *pr, uint64_t usec);
