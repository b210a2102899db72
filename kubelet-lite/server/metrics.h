/* SPDX-License-Identifier: Apache-2.0 */
/* A small Prometheus registry: counters, gauges and fixed-bucket histograms,
 * each with up to KL_METRIC_MAX_LABELS labels, rendered in the text
 * exposition format 0.0.4 (KL_METRICS_CONTENT_TYPE).
 *
 *   struct kl_metrics *m = kl_metrics_new();
 *   struct kl_metric *ops = kl_metrics_counter(m, "x_operations_total", "Help.",
 *                                              KL_LABELS("operation_type"));
 *   kl_metric_inc(ops, "create");            // label values, in registration order
 *   kl_metrics_render(m, &buf);              // on GET /metrics
 *
 * A series (one combination of label values) is created on first use, with
 * its label values copied; after that an update is a hash lookup and an add,
 * with no allocation. Each metric holds at most max_series series (default
 * KL_METRIC_MAX_SERIES): updates that would create more fail with -ENOSPC,
 * so label values from the outside cannot grow memory without bound. Remove
 * series of things that are gone (a deleted container) with kl_metric_remove().
 *
 * Output is sorted (metrics by name, series by label values) and label pairs
 * are printed sorted by label name, as client_golang does, so the same state
 * always renders the same bytes. A labelled metric with no series is left
 * out; an unlabelled one always shows its single series (0 until updated).
 *
 * Not thread-safe: meant for the daemon's single event loop. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/macros.h"
#include "lib/strbuf.h"

#define KL_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define KL_METRIC_MAX_LABELS 6
#define KL_METRIC_MAX_BUCKETS 32
#define KL_METRIC_MAX_SERIES 1000
#define KL_METRIC_LABEL_VALUE_MAX 1024

struct kl_metrics;
struct kl_metric;

enum kl_metric_type {
        KL_METRIC_COUNTER,
        KL_METRIC_GAUGE,
        KL_METRIC_HISTOGRAM,
};

struct kl_metrics *kl_metrics_new(void);
struct kl_metrics *kl_metrics_free(struct kl_metrics *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct kl_metrics *, kl_metrics_free);

/* Label names for registration: KL_LABELS("namespace", "pod"), or NULL for none. */
#define KL_LABELS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Register a metric; it lives as long as the registry. name must match
 * [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* without a
 * leading "__" (and not "le" for a histogram). help may hold any text.
 * Histogram bounds must be finite and strictly increasing (the +Inf bucket is
 * implicit). Returns NULL with errno EINVAL (bad name, labels or buckets),
 * EEXIST (name taken) or ENOMEM. Every update function accepts a NULL metric
 * (and returns -EINVAL), so a failed registration cannot crash the daemon. */
struct kl_metric *kl_metrics_counter(struct kl_metrics *m, const char *name, const char *help,
                                     const char *const *label_names);
struct kl_metric *kl_metrics_gauge(struct kl_metrics *m, const char *name, const char *help,
                                   const char *const *label_names);
struct kl_metric *kl_metrics_histogram(struct kl_metrics *m, const char *name, const char *help, const double *bounds,
                                       size_t n_bounds, const char *const *label_names);
/* Change the series cap of one metric (existing series are kept). */
void kl_metric_set_max_series(struct kl_metric *mt, size_t max);

/* Bucket sets used by upstream kubelet: DefBuckets (.005 .. 10 s) and
 * ExponentialBuckets(.005, 2.5, 14) for runtime operations. */
extern const double kl_metrics_default_buckets[11];
extern const double kl_metrics_runtime_buckets[14];

enum kl_metric_op {
        KL_METRIC_OP_ADD,     /* counter (delta >= 0) or gauge */
        KL_METRIC_OP_SET,     /* gauge; or counter mirroring a cumulative value read elsewhere */
        KL_METRIC_OP_OBSERVE, /* histogram */
};

/* Apply op to the series with these label values (n_values must equal the
 * number of label names), creating it if needed. 0 on success; -EINVAL for a
 * NULL metric, a wrong value count, a NULL or too long value, a negative or
 * NaN counter delta, or an op that does not fit the type; -ENOSPC when the
 * series cap is reached; -ENOMEM. Use the macros below. */
int kl_metric_update(struct kl_metric *mt, enum kl_metric_op op, double v, size_t n_values, const char *const *values);
/* Drop the series with these label values. 0 removed, -ENOENT none. */
int kl_metric_remove_values(struct kl_metric *mt, size_t n_values, const char *const *values);
/* Drop every series of the metric (an unlabelled one is reset to 0 instead). */
void kl_metric_reset(struct kl_metric *mt);
/* Number of series of the metric. */
size_t kl_metric_n_series(const struct kl_metric *mt);

/* Label values are passed as trailing string arguments; the count is taken
 * at compile time and anything that is not a string fails to compile.
 *   kl_metric_inc(ops, "create");
 *   kl_metric_set(mem, 123456, "default", "web", "nginx");
 *   kl_metric_observe(start_duration, 1.25); */
#define KL__VALUES(...) ((const char *const[]){NULL, ##__VA_ARGS__})
#define KL__NVALUES(...) (sizeof(KL__VALUES(__VA_ARGS__)) / sizeof(const char *) - 1)
#define kl_metric_add(mt, v, ...) \
        kl_metric_update((mt), KL_METRIC_OP_ADD, (v), KL__NVALUES(__VA_ARGS__), KL__VALUES(__VA_ARGS__) + 1)
#define kl_metric_inc(mt, ...) kl_metric_add(mt, 1, ##__VA_ARGS__)
#define kl_metric_set(mt, v, ...) \
        kl_metric_update((mt), KL_METRIC_OP_SET, (v), KL__NVALUES(__VA_ARGS__), KL__VALUES(__VA_ARGS__) + 1)
#define kl_metric_observe(mt, v, ...) \
        kl_metric_update((mt), KL_METRIC_OP_OBSERVE, (v), KL__NVALUES(__VA_ARGS__), KL__VALUES(__VA_ARGS__) + 1)
#define kl_metric_remove(mt, ...) kl_metric_remove_values((mt), KL__NVALUES(__VA_ARGS__), KL__VALUES(__VA_ARGS__) + 1)

/* Read a series back (tests, /healthz-style checks): the counter or gauge
 * value, or for a histogram its sum and count. -ENOENT when absent. */
int kl_metric_get_values(const struct kl_metric *mt, size_t n_values, const char *const *values, double *ret_value,
                         uint64_t *ret_count);
#define kl_metric_get(mt, ret_value, ret_count, ...) \
        kl_metric_get_values((mt), KL__NVALUES(__VA_ARGS__), KL__VALUES(__VA_ARGS__) + 1, (ret_value), (ret_count))

/* Run fn(m, userdata) at the start of every render, to refresh gauges that
 * are cheaper to compute on scrape than to keep current (at most 8). */
int kl_metrics_add_collector(struct kl_metrics *m, void (*fn)(struct kl_metrics *m, void *userdata), void *userdata);

/* Append the exposition text of every metric to *out. -ENOMEM when the
 * buffer could not grow (out->oom is set). */
int kl_metrics_render(struct kl_metrics *m, struct kl_buf *out);

/* Format a sample value as the exposition format wants it: integers without
 * a fraction, otherwise the shortest text that reads back as the same
 * double; "+Inf", "-Inf", "NaN". buf should hold 32 bytes. */
const char *kl_metrics_format_value(double v, char *buf, size_t size);

/* The metrics kubelet-lite feeds, with upstream kubelet's names, help texts,
 * labels and buckets (see docs/METRICS.md). Label values go in the order
 * given in each comment. */
struct kl_kubelet_metrics {
        struct kl_metric *running_pods;                 /* gauge */
        struct kl_metric *running_containers;           /* gauge: container_state */
        struct kl_metric *pod_start_duration;           /* histogram (seconds) */
        struct kl_metric *pod_worker_duration;          /* histogram: operation_type */
        struct kl_metric *runtime_operations;           /* counter: operation_type */
        struct kl_metric *runtime_operations_errors;    /* counter: operation_type */
        struct kl_metric *runtime_operations_duration;  /* histogram: operation_type */
        struct kl_metric *started_containers;           /* counter: container_type */
        struct kl_metric *started_containers_errors;    /* counter: container_type, code */
        struct kl_metric *evictions;                    /* counter: eviction_signal */
        struct kl_metric *node_condition;               /* gauge: condition (ours) */
        struct kl_metric *container_cpu_usage;          /* counter (set): namespace, pod, container */
        struct kl_metric *container_memory_working_set; /* gauge: namespace, pod, container */
        struct kl_metric *started_pods;                 /* counter */
        struct kl_metric *started_pods_errors;          /* counter */
        struct kl_metric *restarted_pods;               /* counter: static */
        struct kl_metric *pleg_relist_duration;         /* histogram (seconds) */
        struct kl_metric *pleg_relist_interval;         /* histogram (seconds) */
        struct kl_metric *pleg_last_seen;               /* gauge: unix seconds */
        struct kl_metric *node_name;                    /* gauge: node, always 1 */
};

/* prober_probe_total{probe_type,result,container,pod,namespace,pod_uid}, the
 * counter upstream serves on /metrics/probes, registered in its own m. */
int kl_metrics_register_probes(struct kl_metrics *m, struct kl_metric **ret);

/* Register the metrics above into m and fill *ret. 0, or -errno. */
int kl_metrics_register_kubelet(struct kl_metrics *m, struct kl_kubelet_metrics *ret);

/* Register process_cpu_seconds_total, process_resident_memory_bytes,
 * process_virtual_memory_bytes, process_start_time_seconds, process_open_fds
 * and process_max_fds, refreshed from /proc/self (procstat) on every render. */
int kl_metrics_register_process(struct kl_metrics *m);
