/* SPDX-License-Identifier: Apache-2.0 */
#include "kubelet-lite/recorder.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kubelet-lite/event.h"
#include "lib/macros.h"

struct rec {
        char *kind, *namespace, *name, *uid, *field_path;
        char *type, *reason, *message;
        uint32_t count;
        int64_t first_nsec, last_nsec;
        uint64_t serial; /* for a unique metadata.name */
};

struct kl_recorder {
        struct rec *ring;
        size_t cap, head, n; /* oldest at head */
        uint64_t serial, version;
        char *node_name;
};

static void rec_clear(struct rec *r) {
        free(r->kind);
        free(r->namespace);
        free(r->name);
        free(r->uid);
        free(r->field_path);
        free(r->type);
        free(r->reason);
        free(r->message);
        *r = (struct rec){};
}

int kl_recorder_new(size_t cap, const char *node_name, struct kl_recorder **ret) {
        struct kl_recorder *e = calloc(1, sizeof(*e));
        if (!e)
                return -ENOMEM;
        e->cap = cap ? cap : KL_RECORDER_DEFAULT_CAP;
        e->ring = calloc(e->cap, sizeof(*e->ring));
        e->node_name = strdup(node_name ? node_name : "");
        if (!e->ring || !e->node_name) {
                kl_recorder_free(e);
                return -ENOMEM;
        }
        *ret = e;
        return 0;
}

struct kl_recorder *kl_recorder_free(struct kl_recorder *e) {
        if (!e)
                return NULL;
        for (size_t i = 0; e->ring && i < e->cap; i++)
                rec_clear(&e->ring[i]);
        free(e->ring);
        free(e->node_name);
        free(e);
        return NULL;
}

static struct rec *at(const struct kl_recorder *e, size_t i) {
        return &e->ring[(e->head + i) % e->cap];
}

/* The same object, reason, type and message: a repeat (upstream's
 * EventCorrelator folds these into a count). */
static bool same(const struct rec *r, const struct kl_event_object *o, const char *type, const char *reason,
                 const char *message) {
        return streq_ptr(r->kind, o->kind) && streq_ptr(r->namespace, o->namespace) && streq_ptr(r->name, o->name) &&
               streq_ptr(r->uid, o->uid) && streq_ptr(r->field_path, o->field_path) && streq_ptr(r->type, type) &&
               streq_ptr(r->reason, reason) && streq_ptr(r->message, message);
}

static char *dup_or_null(const char *s) {
        return s ? strdup(s) : NULL;
}

void kl_recorder_record(struct kl_recorder *e, const struct kl_event_object *o, const char *type, const char *reason,
                        const char *fmt, ...) {
        char message[KL_RECORDER_MESSAGE_MAX];
        va_list ap;

        if (!e || !o)
                return;
        va_start(ap, fmt);
        (void) vsnprintf(message, sizeof(message), fmt, ap);
        va_end(ap);
        int64_t now = kl_realtime_nsec();
        e->version++;

        /* Repeats are recent: look at the newest few. */
        for (size_t k = 0; k < MIN(e->n, (size_t) 64); k++) {
                struct rec *r = at(e, e->n - 1 - k);
                if (same(r, o, type, reason, message)) {
                        r->count++;
                        r->last_nsec = now;
                        return;
                }
        }
        struct rec *r;
        if (e->n == e->cap) {
                r = at(e, 0);
                rec_clear(r);
                e->head = (e->head + 1) % e->cap;
                e->n--;
        }
        r = at(e, e->n);
        *r = (struct rec){
                .kind = dup_or_null(o->kind ? o->kind : "Pod"),
                .namespace = dup_or_null(o->namespace),
                .name = dup_or_null(o->name),
                .uid = dup_or_null(o->uid),
                .field_path = dup_or_null(o->field_path),
                .type = dup_or_null(type),
                .reason = dup_or_null(reason),
                .message = strdup(message),
                .count = 1,
                .first_nsec = now,
                .last_nsec = now,
                .serial = ++e->serial,
        };
        if (!r->kind || !r->type || !r->reason || !r->message) {
                rec_clear(r);
                return; /* out of memory: the event is lost, nothing else */
        }
        e->n++;
}

size_t kl_recorder_count(const struct kl_recorder *e) {
        return e ? e->n : 0;
}

uint64_t kl_recorder_version(const struct kl_recorder *e) {
        return e ? e->version : 0;
}

static void render_one(const struct kl_recorder *e, const struct rec *r, struct kl_json *j) {
        char name[512];

        /* upstream names an event "<object>.<hex of the time>"; the serial
         * keeps ours unique */
        snprintf(name, sizeof(name), "%s.%llx%04llx", strempty(r->name), (unsigned long long) r->first_nsec,
                 (unsigned long long) (r->serial & 0xffff));
        kl_json_begin_object(j);
        kl_json_key(j, "metadata");
        kl_json_begin_object(j);
        kl_json_kv_string(j, "name", name);
        kl_json_kv_string(j, "namespace", r->namespace ? r->namespace : "default");
        kl_json_kv_time(j, "creationTimestamp", r->first_nsec);
        kl_json_end_object(j);
        kl_json_key(j, "involvedObject");
        kl_json_begin_object(j);
        kl_json_kv_string(j, "kind", r->kind);
        if (r->namespace)
                kl_json_kv_string(j, "namespace", r->namespace);
        kl_json_kv_string(j, "name", strempty(r->name));
        if (r->uid)
                kl_json_kv_string(j, "uid", r->uid);
        kl_json_kv_string(j, "apiVersion", "v1");
        if (r->field_path)
                kl_json_kv_string(j, "fieldPath", r->field_path);
        kl_json_end_object(j);
        kl_json_kv_string(j, "reason", r->reason);
        kl_json_kv_string(j, "message", r->message);
        kl_json_key(j, "source");
        kl_json_begin_object(j);
        kl_json_kv_string(j, "component", "kubelet");
        kl_json_kv_string(j, "host", e->node_name);
        kl_json_end_object(j);
        kl_json_kv_time(j, "firstTimestamp", r->first_nsec);
        kl_json_kv_time(j, "lastTimestamp", r->last_nsec);
        kl_json_kv_int(j, "count", r->count);
        kl_json_kv_string(j, "type", r->type);
        kl_json_key(j, "eventTime");
        kl_json_null(j);
        kl_json_kv_string(j, "reportingComponent", "kubelet");
        kl_json_kv_string(j, "reportingInstance", e->node_name);
        kl_json_end_object(j);
}

void kl_recorder_render(const struct kl_recorder *e, const char *namespace, const char *involved_name,
                        const char *involved_uid, struct kl_json *j) {
        kl_json_begin_object(j);
        kl_json_kv_string(j, "kind", "EventList");
        kl_json_kv_string(j, "apiVersion", "v1");
        kl_json_key(j, "metadata");
        kl_json_begin_object(j);
        kl_json_end_object(j);
        kl_json_key(j, "items");
        kl_json_begin_array(j);
        for (size_t i = 0; e && i < e->n; i++) {
                const struct rec *r = at(e, i);
                if ((namespace && !streq_ptr(r->namespace, namespace)) ||
                    (involved_name && !streq_ptr(r->name, involved_name)) ||
                    (involved_uid && !streq_ptr(r->uid, involved_uid)))
                        continue;
                render_one(e, r, j);
        }
        kl_json_end_array(j);
        kl_json_end_object(j);
}
