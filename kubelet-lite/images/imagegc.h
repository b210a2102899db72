/* SPDX-License-Identifier: Apache-2.0 */
/* Image garbage collection, after upstream kubelet's image GC manager
 * (pkg/kubelet/images/image_gc_manager.go): every 5 minutes (ImageGCPeriod)
 * and on demand, when the image filesystem is used at or above
 * imageGCHighThresholdPercent, remove the least recently used images that no
 * container uses and that were first seen at least imageMinimumGCAge ago,
 * until usage is down to imageGCLowThresholdPercent; images unused for
 * imageMaximumGCAge (when set) go whatever the usage. Never removed: an image
 * any container uses (running or exited), an image the runtime marks
 * pinned, the sandbox (pause) image, one preloaded from imagePreloadDir, and
 * one a desired pod names.
 *
 * The selection (kl_imagegc_select) is a pure function for tests. The
 * manager talks to the runtime only through the asynchronous CRI calls, so
 * nothing blocks the event loop. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kubelet-lite/config.h"
#include "kubelet-lite/event.h"

/* ---- selection (pure) --------------------------------------------------- */

struct kl_imagegc_image {
        const char *id;
        uint64_t size;            /* bytes, as the runtime reports it */
        bool in_use;              /* a container uses it (or a desired pod names it) */
        bool pinned;              /* runtime-pinned, sandbox image, preloaded */
        uint64_t first_seen_usec; /* CLOCK_MONOTONIC; 0: there when the daemon started */
        uint64_t last_used_usec;  /* 0: never seen in use */
};

struct kl_imagegc_policy {
        int high_percent, low_percent;
        uint64_t min_age_usec, max_age_usec; /* max 0: off */
};

struct kl_imagegc_selection {
        size_t n_old;           /* the first n_old of the order: unused for longer than max_age */
        size_t n;               /* images to remove, in ret_order */
        int usage_percent;      /* of the image filesystem; -1 when capacity is unknown */
        bool over_high;         /* usage_percent >= high_percent */
        int64_t bytes_to_free;  /* wanted to get down to low_percent (INT64_MAX: everything unused) */
        int64_t bytes_selected; /* sum of the sizes of the threshold-driven removals */
};

/* Which images to remove at now_usec, in order. capacity/available: the
 * image filesystem (capacity <= 0 skips the threshold pass). began_usec: when
 * GC started; as upstream's freeOldImages, the maximum age applies only once
 * that long has passed since. reclaim_all: free everything eligible, as
 * upstream's DeleteUnusedImages for disk-pressure eviction. ret_order needs
 * room for n indexes. Returns 0, or -EINVAL / -ENOMEM. */
int kl_imagegc_select(const struct kl_imagegc_image *images, size_t n, const struct kl_imagegc_policy *p,
                      int64_t capacity, int64_t available, uint64_t now_usec, uint64_t began_usec, bool reclaim_all,
                      size_t *ret_order, struct kl_imagegc_selection *ret);

/* "busybox" -> "docker.io/library/busybox:latest", as the runtime names
 * images, so that refs written in different forms compare equal. Returns
 * the length (truncated to size - 1). */
int kl_imagegc_normalize_ref(const char *ref, char *buf, size_t size);

/* The sandbox image from containerd's CRI config, as its verbose Status
 * gives it in info["config"] (JSON with "sandboxImage":"..."), normalised.
 * -ENOENT without the key, -EINVAL when it is not a plain string. */
int kl_imagegc_sandbox_image(const char *config_json, char *buf, size_t size);

/* ---- the manager -------------------------------------------------------- */

struct kl_cri;
struct kl_recorder;
struct kl_metric;
struct kl_imagegc;

struct kl_imagegc_params {
        struct kl_event *loop;
        struct kl_cri *cri;
        const struct kl_config *cfg;
        struct kl_recorder *recorder; /* node events; may be NULL */
        struct kl_metric *removed;    /* counter, label "reason" ("space", "age"); may be NULL */
        /* Called at the start of each run: call kl_imagegc_keep_ref() for the
         * images desired pods name (their containers may not exist yet). */
        void (*desired_images)(struct kl_imagegc *gc, void *userdata);
        void *userdata;
};

int kl_imagegc_new(const struct kl_imagegc_params *p, struct kl_imagegc **ret);
/* Free after kl_cri_free() (or with no call in flight): pending callbacks
 * point at it. NULL-safe. */
struct kl_imagegc *kl_imagegc_free(struct kl_imagegc *gc);

/* Refs never removed (preloaded images); may be called again. */
int kl_imagegc_set_pinned_refs(struct kl_imagegc *gc, char *const *refs);
/* Only from the desired_images callback. */
void kl_imagegc_keep_ref(struct kl_imagegc *gc, const char *ref);

/* Hold the periodic runs (while images are being preloaded). */
void kl_imagegc_set_paused(struct kl_imagegc *gc, bool paused);

/* Run soon (coalesced with a running one). */
void kl_imagegc_trigger(struct kl_imagegc *gc);

/* The eviction manager's reclaim hook (kl_eviction_reclaim_t): userdata is
 * the kl_imagegc. Starts a run that removes every eligible unused image. */
int kl_imagegc_reclaim(int signal, void *userdata);

/* Totals since start, for logs and tests. */
uint64_t kl_imagegc_removed_count(const struct kl_imagegc *gc);
