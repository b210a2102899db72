/* SPDX-License-Identifier: Apache-2.0 */
/* The bottom of the pod package: small helpers every part of it uses, and
 * the kick that asks the manager for a relist and reconcile. Nothing here
 * calls up. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kubelet-lite/pod/spec.h" /* the label names */
#include "kubelet-lite/pod/worker.h"
#include "kubelet-lite/recorder.h"
#include "runtime/cri.h"
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

/* ---- the last relist, indexed by pod uid ------------------------------------ */

struct uid_ref {
        const char *uid;
        size_t i; /* position in the relist: ties keep relist order */
};

static int uid_ref_cmp(const void *a, const void *b) {
        const struct uid_ref *x = a, *y = b;
        int c = strcmp(x->uid, y->uid);
        return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* Sort refs[0..n) and return the uids in that order (NULL: out of memory). */
static const char **sort_refs(struct uid_ref *refs, size_t n) {
        const char **uids = malloc(MAX(n, (size_t) 1) * sizeof(*uids));
        if (!uids)
                return NULL;
        qsort(refs, n, sizeof(*refs), uid_ref_cmp);
        for (size_t i = 0; i < n; i++)
                uids[i] = refs[i].uid;
        return uids;
}

struct uid_index {
        const char **sb_uid, **ct_uid;
        const Runtime__V1__PodSandbox **sb;
        const Runtime__V1__Container **ct;
        size_t n_sb, n_ct;
};

static void uid_index_done(struct uid_index *x) {
        free(x->sb_uid);
        free(x->ct_uid);
        free(x->sb);
        free(x->ct);
        *x = (struct uid_index){};
}

static int uid_index_build(struct uid_index *x, const Runtime__V1__ListPodSandboxResponse *sb,
                           const Runtime__V1__ListContainersResponse *containers) {
        size_t ns = sb ? sb->n_items : 0, nc = containers ? containers->n_containers : 0;
        _cleanup_free_ struct uid_ref *refs = malloc(MAX(MAX(ns, nc), (size_t) 1) * sizeof(*refs));
        size_t n = 0;

        *x = (struct uid_index){};
        if (!refs)
                return -ENOMEM;
        for (size_t i = 0; i < ns; i++) {
                const char *uid = kl__sandbox_label(sb->items[i], KL_LABEL_POD_UID);
                if (uid)
                        refs[n++] = (struct uid_ref){uid, i};
        }
        x->sb_uid = sort_refs(refs, n);
        x->sb = malloc(MAX(n, (size_t) 1) * sizeof(*x->sb));
        if (!x->sb_uid || !x->sb)
                goto oom;
        for (size_t i = 0; i < n; i++)
                x->sb[i] = sb->items[refs[i].i];
        x->n_sb = n;

        n = 0;
        for (size_t i = 0; i < nc; i++) {
                const char *uid = kl__container_label(containers->containers[i], KL_LABEL_POD_UID);
                if (uid)
                        refs[n++] = (struct uid_ref){uid, i};
        }
        x->ct_uid = sort_refs(refs, n);
        x->ct = malloc(MAX(n, (size_t) 1) * sizeof(*x->ct));
        if (!x->ct_uid || !x->ct)
                goto oom;
        for (size_t i = 0; i < n; i++)
                x->ct[i] = containers->containers[refs[i].i];
        x->n_ct = n;
        return 0;
oom:
        uid_index_done(x);
        return -ENOMEM;
}

void kl__snapshot_clear(struct kl_pm *pm) {
        pm->sb_uid = mfree(pm->sb_uid);
        pm->ct_uid = mfree(pm->ct_uid);
        pm->sb_by_uid = mfree(pm->sb_by_uid);
        pm->ct_by_uid = mfree(pm->ct_by_uid);
        pm->n_sb_by_uid = pm->n_ct_by_uid = 0;
        kl_cri_response_free(pm->sandboxes);
        kl_cri_response_free(pm->containers);
        pm->sandboxes = NULL;
        pm->containers = NULL;
}

int kl__snapshot_set(struct kl_pm *pm, Runtime__V1__ListPodSandboxResponse *sb,
                     Runtime__V1__ListContainersResponse *containers) {
        struct uid_index x;
        if (uid_index_build(&x, sb, containers) < 0)
                return -ENOMEM; /* the old snapshot stays, with its index */
        kl__snapshot_clear(pm);
        pm->sandboxes = sb;
        pm->containers = containers;
        pm->sb_uid = x.sb_uid;
        pm->ct_uid = x.ct_uid;
        pm->sb_by_uid = x.sb;
        pm->ct_by_uid = x.ct;
        pm->n_sb_by_uid = x.n_sb;
        pm->n_ct_by_uid = x.n_ct;
        return 0;
}

/* [*ret_lo, return) is the range of uid in the sorted uids[0..n). */
static size_t uid_range(const char *const *uids, size_t n, const char *uid, size_t *ret_lo) {
        size_t lo = 0, hi = n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (strcmp(uids[mid], uid) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        size_t end = lo;
        while (end < n && streq(uids[end], uid))
                end++;
        *ret_lo = lo;
        return end;
}

size_t kl__uid_sandboxes(const struct kl_pm *pm, const char *uid, const Runtime__V1__PodSandbox *const **ret) {
        size_t lo, end = uid ? uid_range(pm->sb_uid, pm->n_sb_by_uid, uid, &lo) : (lo = 0);
        *ret = pm->sb_by_uid ? pm->sb_by_uid + lo : NULL;
        return end - lo;
}

size_t kl__uid_containers(const struct kl_pm *pm, const char *uid, const Runtime__V1__Container *const **ret) {
        size_t lo, end = uid ? uid_range(pm->ct_uid, pm->n_ct_by_uid, uid, &lo) : (lo = 0);
        *ret = pm->ct_by_uid ? pm->ct_by_uid + lo : NULL;
        return end - lo;
}

size_t kl__uid_next_sandbox_pod(const struct kl_pm *pm, size_t i, const char **ret_uid) {
        if (i >= pm->n_sb_by_uid)
                return SIZE_MAX;
        *ret_uid = pm->sb_uid[i];
        size_t j = i + 1;
        while (j < pm->n_sb_by_uid && streq(pm->sb_uid[j], pm->sb_uid[i]))
                j++;
        return j;
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
        /* No kick: rm_release kicks when the call changed something; a
         * failure waits for the periodic relist instead of spinning. */
        kl_pacer_put(&r->pm->pacer, r->ticket);
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
