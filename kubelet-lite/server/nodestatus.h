/* SPDX-License-Identifier: Apache-2.0 */
/* Node-level status: /node shaped like a v1 Node, /stats/summary shaped like
 * upstream's Summary API, and <root-dir>/node-status.json for appliance UIs. */
#pragma once

#include <stdint.h>

#include "kubelet-lite/config.h"
#include "lib/error.h"
#include "lib/strbuf.h"

struct kl_node;
struct kl_pm;

struct kl_dirstats;

struct kl_node_status_ctx {
        const struct kl_config *cfg;
        struct kl_node *node;
        struct kl_pm *pm;
        const char *host_ip;
        const char *runtime_version;  /* "containerd://1.6.20", or NULL */
        int64_t start_nsec;           /* when kubelet-lite started */
        struct kl_dirstats *dirstats; /* disk usage of pod directories, measured on a timer; may be NULL */
};

void kl_node_status_render(const struct kl_node_status_ctx *x, struct kl_json *j);
void kl_node_stats_render(const struct kl_node_status_ctx *x, struct kl_json *j);
/* /metrics/resource in Prometheus' text format. */
void kl_node_resource_metrics_render(const struct kl_node_status_ctx *x, struct kl_buf *b);

/* Write the status file when its content changed since *last (which it
 * updates). 1 written, 0 unchanged, <0 error. */
int kl_node_status_file_update(const struct kl_node_status_ctx *x, char **last, struct kl_error *reterr);
