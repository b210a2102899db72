/* SPDX-License-Identifier: Apache-2.0 */
/* Image pulls for the pod manager: policies, one shared asynchronous pull per
 * image, back-off, and the fallback to a local image on offline devices. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/duration.h"
#include "lib/log.h"
#include "lib/macros.h"
#include "kubelet-lite/pod/worker.h"
#include "runtime/cri.h"

static void pull_done(int r, const struct kl_error *err, ProtobufCMessage *reply, void *userdata);

struct pull_req {
        struct kl_pm *pm;
        uint64_t t0, t1; /* asked, answered */
        char image[];
};

static void image_status_done(int r, const struct kl_error *err, ProtobufCMessage *reply, void *userdata) {
        struct kl__req *req = userdata;
        struct kl__worker *w = kl__req_worker(req);
        const Runtime__V1__ImageStatusResponse *st = (const Runtime__V1__ImageStatusResponse *) reply;

        if (w && req->index < w->n_cs) {
                struct kl__cstat *cs = &w->cs[req->index];
                cs->image_pending = false;
                if (r < 0)
                        log_debug("pod '%s': ImageStatus '%s': %s", w->full_name, cs->spec->image, kl_error_str(err));
                else {
                        cs->image_known = true;
                        cs->image_present = st->image != NULL;
                        kl__kick(req->pm);
                }
        }
        kl__req_free(req);
}

/* Whether the image may be used now; asks the runtime whether it has it
 * (asynchronously: the answer kicks a sync) and kicks off a pull when needed,
 * as upstream's imageManager.EnsureImageExists (pkg/kubelet/images). */
bool kl__ensure_image(struct kl_pm *pm, struct kl__worker *w, struct kl__cstat *cs) {
        const struct kl_container *c = cs->spec;

        if (cs->pull_pending || cs->image_pending)
                return false;
        if (!cs->image_known) {
                struct kl__req *req = kl__req_new(pm, w->uid, NULL);
                if (!req)
                        return false;
                req->index = (size_t) (cs - w->cs);
                if (kl_cri_image_status_async(pm->cri, c->image, image_status_done, req) < 0) {
                        kl__req_free(req);
                        return false;
                }
                cs->image_pending = true;
                return false;
        }
        /* This answer serves one start; the next one asks again. */
        bool present = cs->image_present;
        cs->image_known = false;

        if (c->image_pull_policy == KL_PULL_NEVER) {
                if (!present) {
                        char msg[512];
                        snprintf(msg, sizeof(msg), "Container image \"%s\" is not present with pull policy of Never",
                                 c->image);
                        kl__set_waiting(cs, "ErrImageNeverPull", msg);
                        kl__event(pm, w, cs, "Warning", "ErrImageNeverPull", "%s", msg);
                }
                return present;
        }
        if (present && c->image_pull_policy == KL_PULL_IF_NOT_PRESENT) {
                kl__event(pm, w, cs, "Normal", "Pulled", "Container image \"%s\" already present on machine", c->image);
                return true;
        }
        if (cs->pull_done) {
                cs->pull_done = false;
                return true;
        }
        uint64_t now = kl_now_usec();
        if (cs->pull_retry_at > now) {
                /* Beyond upstream: an offline box runs the image it has. */
                if (present && pm->cfg->image_pull_fallback_to_local) {
                        if (!cs->fallback_logged)
                                log_warning("pod '%s': container '%s': pull of '%s' failed, using the local image "
                                            "(imagePullFallbackToLocal)",
                                            w->full_name, c->name, c->image);
                        cs->fallback_logged = true;
                        return true;
                }
                kl__set_waiting(cs, "ImagePullBackOff", cs->waiting_message);
                kl__event(pm, w, cs, "Normal", "BackOff", "Back-off pulling image \"%s\"", c->image);
                return false;
        }
        size_t n = strlen(c->image);
        struct pull_req *req = malloc(sizeof(*req) + n + 1);
        if (!req)
                return false;
        req->pm = pm;
        req->t0 = kl_now_usec();
        memcpy(req->image, c->image, n + 1);
        if (kl_cri_pull_image_async(pm->cri, c->image, NULL, 5 * 60 * 1000, pull_done, req) < 0) {
                free(req);
                return false;
        }
        log_info("pod '%s': container '%s': pulling image '%s'", w->full_name, c->name, c->image);
        kl__event(pm, w, cs, "Normal", "Pulling", "Pulling image \"%s\"", c->image);
        /* Every container waiting on this image shares the one pull. */
        for (struct kl__worker *x = pm->workers; x; x = x->next)
                for (size_t i = 0; i < x->n_cs; i++)
                        if (x->cs[i].spec && streq(x->cs[i].spec->image, c->image) && !x->cs[i].pull_done)
                                x->cs[i].pull_pending = true;
        kl__set_waiting(cs, "ContainerCreating", NULL);
        return false;
}

/* The pull is over (r < 0: failed; size 0: not known, which upstream's
 * best-effort GetImageSize also prints as 0): every container
 * waiting for it goes on. */
static void pull_finish(struct pull_req *req, int r, const struct kl_error *err, uint64_t size) {
        struct kl_pm *pm = req->pm;
        uint64_t now = req->t1;
        char took[96];

        /* upstream truncates to milliseconds before printing */
        kl_format_duration((now - req->t0) / 1000 * 1000, took, sizeof(took));
        for (struct kl__worker *w = pm->workers; w; w = w->next)
                for (size_t i = 0; i < w->n_cs; i++) {
                        struct kl__cstat *cs = &w->cs[i];
                        if (!cs->pull_pending || !streq(cs->spec->image, req->image))
                                continue;
                        cs->pull_pending = false;
                        cs->image_known = false; /* ask again before starting */
                        if (r >= 0) {
                                /* upstream's imageManager.EnsureImageExists; pulls are
                                 * not queued here, so "including waiting" is the same */
                                kl__event(pm, w, cs, "Normal", "Pulled",
                                          "Successfully pulled image \"%s\" in %s (%s including waiting). "
                                          "Image size: %llu bytes.",
                                          req->image, took, took, (unsigned long long) size);
                                cs->pull_done = true;
                                cs->pull_backoff_usec = 0;
                                cs->pull_retry_at = 0;
                                cs->fallback_logged = false;
                                continue;
                        }
                        cs->pull_backoff_usec = cs->pull_backoff_usec
                                                        ? MIN(cs->pull_backoff_usec * 2, pm->cfg->crashloop_max_usec)
                                                        : pm->cfg->crashloop_initial_usec;
                        cs->pull_retry_at = now + cs->pull_backoff_usec;
                        kl__set_waiting(cs, "ErrImagePull", kl_error_str(err));
                        kl__event(pm, w, cs, "Warning", "Failed", "Failed to pull image \"%s\": %s", req->image,
                                  kl_error_str(err));
                }
        free(req);
        kl__kick(pm);
}

static void pulled_status_done(int r, const struct kl_error *err, ProtobufCMessage *reply, void *userdata) {
        const Runtime__V1__ImageStatusResponse *st = (const Runtime__V1__ImageStatusResponse *) reply;
        pull_finish(userdata, 0, NULL, r >= 0 && st->image ? st->image->size : 0);
}

static void pull_done(int r, const struct kl_error *err, ProtobufCMessage *reply, void *userdata) {
        struct pull_req *req = userdata;

        req->t1 = kl_now_usec();
        if (r < 0) {
                log_warning("pulling image '%s' failed after %.3fs: %s", req->image, (double) (req->t1 - req->t0) / 1e6,
                            kl_error_str(err));
                pull_finish(req, r, err, 0);
                return;
        }
        const char *ref = ((const Runtime__V1__PullImageResponse *) reply)->image_ref;
        log_info("pulled image '%s' (%s) in %.3fs", req->image, strempty(ref), (double) (req->t1 - req->t0) / 1e6);
        /* The size for the Pulled event, as upstream asks the runtime after a
         * pull (GetImageSize); without an answer the event has none. */
        if (kl_cri_image_status_async(req->pm->cri, ref && ref[0] ? ref : req->image, pulled_status_done, req) < 0)
                pull_finish(req, 0, NULL, 0);
}
