/* SPDX-License-Identifier: Apache-2.0 */
/* The facade's pods/{name}/log: picks the pod's container as upstream's
 * validation does (the only one when none is named; one of this pod's, never
 * another's), opens its CRI log files (podlogs.c) and streams them in
 * bounded steps, following with a short poll, so that a slow reader only
 * ever slows its own stream. */
#pragma once

#include "apiconn.h"
#include "kubelet-lite/event.h"
#include "lib/jsonq.h"

#define KL_APILOGS_MAX_STREAMS 32

struct kl_apilogs;

int kl_apilogs_new(struct kl_event *loop, const char *pod_logs_dir, struct kl_apilogs **ret);
/* Ends every stream still open (their connections stay with their server). */
struct kl_apilogs *kl_apilogs_free(struct kl_apilogs *l);
/* q/items: the pod list ns/name is looked up in. Answers c, or streams to it. */
void kl_apilogs_serve(struct kl_apilogs *l, struct kl_api_conn *c, const struct kl_api_req *req, const char *ns,
                      const char *name, const struct kl_jsonq *q, int items);
