/* SPDX-License-Identifier: Apache-2.0 */
/* Server-side Table output (meta.k8s.io/v1 Table) for the facade, with the
 * columns of upstream's printers (pkg/printers/internalversion/printers.go,
 * v1.20: printPod, printNode, printEvent), so that `kubectl get -o wide`
 * looks as it does against a cluster. */
#pragma once

#include <stdint.h>

#include "lib/jsonq.h"
#include "lib/strbuf.h"

enum kl_apitable_kind {
        KL_APITABLE_POD,
        KL_APITABLE_NODE,
        KL_APITABLE_EVENT,
};

/* upstream's duration.HumanDuration */
void kl_apitable_human_duration(int64_t seconds, char *buf, size_t size);
/* Open a Table: kind/apiVersion, metadata, columnDefinitions, "rows":[ */
void kl_apitable_begin(struct kl_buf *b, enum kl_apitable_kind kind, const char *resource_version);
/* One row for object node obj of q; first: no comma before it. */
void kl_apitable_row(struct kl_buf *b, enum kl_apitable_kind kind, const struct kl_jsonq *q, int obj, bool first,
                     int64_t now_sec);
void kl_apitable_end(struct kl_buf *b);
