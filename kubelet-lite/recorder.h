/* SPDX-License-Identifier: Apache-2.0 */
/* Pod events as upstream kubelet records them (Pulling, Pulled, Created,
 * Started, Killing, BackOff, Unhealthy, ...), kept in a bounded ring so that a
 * user can see why a pod is not running without reading the daemon's log.
 * Repeats of the same event are folded into one with a count and first/last
 * timestamps, as upstream's EventCorrelator does (client-go
 * tools/record/events_cache.go). Rendered as a v1 EventList. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/strbuf.h"

/* Events kept; the oldest go first. */
#define KL_RECORDER_DEFAULT_CAP 1024
#define KL_RECORDER_MESSAGE_MAX 1024

struct kl_recorder;

/* The object an event is about: a pod, or a container of it
 * (fieldPath "spec.containers{name}"), or the node (kind "Node"). */
struct kl_event_object {
        const char *kind; /* "Pod" or "Node" */
        const char *namespace;
        const char *name;
        const char *uid;
        const char *field_path; /* NULL */
};

int kl_recorder_new(size_t cap, const char *node_name, struct kl_recorder **ret);
struct kl_recorder *kl_recorder_free(struct kl_recorder *e);

/* type: "Normal" or "Warning". The message is cut at KL_RECORDER_MESSAGE_MAX. */
void kl_recorder_record(struct kl_recorder *e, const struct kl_event_object *o, const char *type, const char *reason,
                        const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Events stored (after folding). */
size_t kl_recorder_count(const struct kl_recorder *e);
/* A bumped counter, so that watchers can tell something changed. */
uint64_t kl_recorder_version(const struct kl_recorder *e);

/* A v1 EventList, oldest first. namespace / involved_name / involved_uid:
 * NULL for all. */
void kl_recorder_render(const struct kl_recorder *e, const char *namespace, const char *involved_name,
                        const char *involved_uid, struct kl_json *j);
