/* SPDX-License-Identifier: Apache-2.0 */
/* The bottom of the pod package: small helpers every part of it uses, and
 * the kick that asks the manager for a relist and reconcile. Nothing here
 * calls up. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kubelet-lite/pod/worker.h"
#include "kubelet-lite/recorder.h"
#include "lib/macros.h"

int kl__set_str(char **dst, const char *src) {
        if (streq_ptr(*dst, src))
                return 0;
        char *n = NULL;
        if (src && !(n = strdup(src)))
                return -ENOMEM;
        free(*dst);
        *dst = n;
        return 1;
}

const char *kl__sandbox_label(const Runtime__V1__PodSandbox *s, const char *key) {
        for (size_t i = 0; i < s->n_labels; i++)
                if (streq(s->labels[i]->key, key))
                        return s->labels[i]->value;
        return NULL;
}

const char *kl__container_label(const Runtime__V1__Container *c, const char *key) {
        for (size_t i = 0; i < c->n_labels; i++)
                if (streq(c->labels[i]->key, key))
                        return c->labels[i]->value;
        return NULL;
}

const char *kl__container_annotation(const Runtime__V1__Container *c, const char *key) {
        for (size_t i = 0; i < c->n_annotations; i++)
                if (streq(c->annotations[i]->key, key))
                        return c->annotations[i]->value;
        return NULL;
}

void kl__cstat_clear_runtime(struct kl__cstat *cs) {
        cs->id = mfree(cs->id);
        cs->reason = mfree(cs->reason);
        cs->message = mfree(cs->message);
        cs->image_ref = mfree(cs->image_ref);
        cs->image = mfree(cs->image);
        cs->state = -1;
        cs->status_state = -1;
        cs->restart_granted = false;
        cs->redo_failures = 0;
}

void kl__set_waiting(struct kl__cstat *cs, const char *reason, const char *message) {
        kl__set_str(&cs->waiting_reason, reason);
        kl__set_str(&cs->waiting_message, message);
}

struct kl__req *kl__req_new(struct kl_pm *pm, const char *uid, const char *id) {
        struct kl__req *r = calloc(1, sizeof(*r));
        if (!r)
                return NULL;
        r->pm = pm;
        r->uid = uid ? strdup(uid) : NULL;
        r->id = id ? strdup(id) : NULL;
        if ((uid && !r->uid) || (id && !r->id)) {
                free(r->uid);
                free(r->id);
                free(r);
                return NULL;
        }
        r->next = pm->reqs;
        if (pm->reqs)
                pm->reqs->prev = r;
        pm->reqs = r;
        return r;
}

void kl__req_free(struct kl__req *r) {
        if (!r)
                return;
        if (r->prev)
                r->prev->next = r->next;
        else
                r->pm->reqs = r->next;
        if (r->next)
                r->next->prev = r->prev;
        free(r->uid);
        free(r->id);
        free(r->path);
        free(r);
}

struct kl__worker *kl__req_worker(const struct kl__req *r) {
        return r->uid ? kl__find_worker(r->pm, r->uid) : NULL;
}

void kl__event(struct kl_pm *pm, const struct kl__worker *w, const struct kl__cstat *cs, const char *type,
               const char *reason, const char *fmt, ...) {
        char msg[KL_RECORDER_MESSAGE_MAX], path[320];
        va_list ap;

        if (!pm->recorder)
                return;
        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (cs)
                snprintf(path, sizeof(path), "spec.%s{%s}", cs->init ? "initContainers" : "containers", cs->spec->name);
        struct kl_event_object o = {
                .kind = "Pod",
                .namespace = w->namespace,
                .name = w->full_name,
                .uid = w->uid,
                .field_path = cs ? path : NULL,
        };
        kl_recorder_record(pm->recorder, &o, type, reason, "%s", msg);
}

void kl__touch(struct kl_pm *pm, struct kl__worker *w) {
        w->local_seq = pm->relist_seq;
}

bool kl__fresh(const struct kl_pm *pm, const struct kl__worker *w) {
        return w->local_seq < pm->snapshot_seq;
}

struct kl__worker *kl__find_worker(struct kl_pm *pm, const char *uid) {
        for (struct kl__worker *w = pm->workers; w; w = w->next)
                if (streq(w->uid, uid))
                        return w;
        return NULL;
}

/* Kicks in one loop iteration coalesce into one relist, started at the next
 * one; a completed CRI step so leads to the next without waiting. */
void kl__kick(struct kl_pm *pm) {
        uint64_t now = kl_now_usec();
        if (pm->sync_timer && kl_event_timer_deadline(pm->sync_timer) > now)
                kl_event_timer_set(pm->sync_timer, now);
}

bool kl__cs_running(const struct kl__cstat *cs) {
        return cs->state == RUNTIME__V1__CONTAINER_STATE__CONTAINER_RUNNING;
}

bool kl__cs_exited(const struct kl__cstat *cs) {
        return cs->state == RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED ||
               cs->state == RUNTIME__V1__CONTAINER_STATE__CONTAINER_UNKNOWN;
}
