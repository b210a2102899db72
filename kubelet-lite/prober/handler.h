/* SPDX-License-Identifier: Apache-2.0 */
/* Run one handler (exec, httpGet, tcpSocket, sleep) of a probe or lifecycle
 * hook against a container, asynchronously, in the daemon's event loop.
 *
 * kl_handler_run() starts the handler and returns at once; the callback runs
 * exactly once, later, from the loop (never from inside kl_handler_run), with
 * the result and a message. Nothing blocks and nothing runs on another thread:
 * sockets are non-blocking io watches, exec goes through
 * kl_cri_exec_sync_async() (the owner of the kl_cri dispatches its event fd in
 * the same loop), and each call holds one timer for its timeout.
 *
 *   exec       ExecSync in the container; exit code 0 is SUCCESS, any other
 *              FAILURE. The message is the combined stdout+stderr, capped at
 *              KL_HANDLER_OUTPUT_MAX; on failure it reads
 *              "command 'CMD' exited with N: OUTPUT". The timeout is the
 *              runtime's (ExecSync's timeout, rounded up to seconds): its
 *              DEADLINE_EXCEEDED is FAILURE "command 'CMD' timed out". A
 *              runtime error (no such container...) is ERROR, and so is no
 *              answer within a second after the timeout (runtime down: async
 *              CRI calls wait for a connection until their deadline).
 *   httpGet    GET http://HOST:PORT/PATH with Host, User-Agent
 *              (kube-probe/1.25, kube-lifecycle/1.25 for hooks), Accept (any type),
 *              the handler's httpHeaders (which override those three; an empty
 *              Accept removes it) and Connection: close. Reads the status line,
 *              the headers and at most KL_HANDLER_OUTPUT_MAX bytes of body.
 *              Probes: 200..399 is SUCCESS (3xx is not followed, as upstream
 *              does for redirects off-host), anything else FAILURE with
 *              "HTTP probe failed with statuscode: N". Hooks: any response is
 *              SUCCESS, as upstream. Connect or read errors and the timeout are
 *              FAILURE. scheme HTTPS is ERROR "https probes are not supported";
 *              a host that is not an IP address literal is ERROR (no DNS: it
 *              would block).
 *   tcpSocket  a non-blocking connect that succeeds is SUCCESS, else FAILURE.
 *   sleep      SUCCESS after sleep_seconds (lifecycle hooks only).
 *
 * Ports: handler->port, or handler->port_name looked up in the container's
 * ports (its containerPort), else ERROR 'port "NAME" not found'. Host:
 * handler->host, else params->default_host (127.0.0.1 for hostNetwork pods,
 * the pod IP otherwise).
 *
 * Messages follow upstream's wording where there is one (for instance
 * `Get "http://127.0.0.1:1/": dial tcp 127.0.0.1:1: connect: connection
 * refused`), so that they read like kubelet events. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "kubelet-lite/event.h"
#include "manifests/pod.h"

struct kl_cri;

/* Exec output and HTTP body kept for the message (upstream reads 10 KiB). */
#define KL_HANDLER_OUTPUT_MAX (10 * 1024)
/* User-Agent version: what upstream kubelet 1.25 sends. */
#define KL_HANDLER_USER_AGENT_VERSION "1.25"

enum kl_handler_result {
        KL_HANDLER_SUCCESS = 0,
        KL_HANDLER_FAILURE, /* the handler ran and said no (or timed out) */
        KL_HANDLER_ERROR,   /* it could not be run: bad spec, runtime error */
};

const char *kl_handler_result_to_string(enum kl_handler_result r); /* "success", ... */

struct kl_handler_params {
        struct kl_event *loop;                /* required */
        struct kl_cri *cri;                   /* exec */
        const char *container_id;             /* exec */
        const struct kl_container *container; /* named ports; NULL: none */
        const char *default_host;             /* httpGet, tcpSocket without host */
        uint64_t timeout_usec;                /* 0: no timeout */
        bool lifecycle;                       /* hook semantics (see above) */
};

struct kl_handler_call;

/* message is never NULL (may be ""); both it and the call are only valid
 * during the callback: the call is freed when the callback returns. */
typedef void (*kl_handler_done_fn)(enum kl_handler_result result, const char *message, void *userdata);

/* Start h. h and p (and the strings they point to) are only read during this
 * call. Returns 0 and the call in *ret (may be NULL when the caller never
 * cancels); -EINVAL for a NULL argument, handler kind NONE or exec without
 * cri/container id, -ENOMEM. Problems with the handler itself (bad port, https,
 * connect refused at once) are not errors here: they come back through fn. */
int kl_handler_run(const struct kl_handler *h, const struct kl_handler_params *p, kl_handler_done_fn fn, void *userdata,
                   struct kl_handler_call **ret);

/* Stop a call that has not called back yet: its fd, watch and timer go, and fn
 * is never called. An exec already sent to the runtime cannot be recalled;
 * its late completion is dropped (a small token outlives the call for that;
 * it leaks only if the kl_cri drops the completion, as kl_cri_free and
 * kl_cri_cancel_pending do). NULL-safe. Calling it from inside the call's own
 * callback is a harmless no-op; after the callback has returned the call is
 * gone and must not be passed here. */
void kl_handler_cancel(struct kl_handler_call *c);

/* Resolve h's port against container (NULL: no named ports). Returns the port
 * (1..65535) or -EINVAL (bad number) / -ENOENT (no such named port). */
int kl_handler_resolve_port(const struct kl_handler *h, const struct kl_container *container);
