/* SPDX-License-Identifier: Apache-2.0 */
#include "metrics.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "kubelet-lite/server/procstat.h"

#define MAX_COLLECTORS 8

struct series {
        struct series *next; /* hash chain */
        uint64_t hash;
        double value;   /* counter or gauge value; histogram sum */
        uint64_t count; /* histogram */
        const char *values[KL_METRIC_MAX_LABELS];
        uint64_t buckets[]; /* histogram, per bucket (not cumulative); strings follow */
};

struct kl_metric {
        char *name, *help;
        enum kl_metric_type type;
        size_t n_labels;
        char *label_names[KL_METRIC_MAX_LABELS];
        unsigned order[KL_METRIC_MAX_LABELS]; /* label indexes sorted by name, for output */
        size_t n_bounds;
        double bounds[KL_METRIC_MAX_BUCKETS];
        struct series **table;
        size_t table_size, n_series, max_series;
};

struct kl_metrics {
        struct kl_metric **metrics; /* sorted by name */
        size_t n_metrics;
        struct {
                void (*fn)(struct kl_metrics *m, void *userdata);
                void *userdata;
        } collectors[MAX_COLLECTORS];
        size_t n_collectors;
        struct kl_metric *process[6]; /* kl_metrics_register_process() */
};

const double kl_metrics_default_buckets[11] = {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
/* .005 * 2.5^i for i in 0..13 */
const double kl_metrics_runtime_buckets[14] = {
        0.005,
        0.0125,
        0.03125,
        0.078125,
        0.1953125,
        0.48828125,
        1.220703125,
        3.0517578125,
        7.62939453125,
        19.073486328125,
        47.6837158203125,
        119.20928955078125,
        298.0232238769531,
        745.0580596923828,
};

static uint64_t hash_values(size_t n, const char *const *values) {
        uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a, each value with its terminating NUL */
        for (size_t i = 0; i < n; i++)
                for (const unsigned char *p = (const unsigned char *) values[i];; p++) {
                        h = (h ^ *p) * 0x100000001b3ULL;
                        if (!*p)
                                break;
                }
        return h;
}

static void series_free_all(struct kl_metric *mt) {
        for (size_t i = 0; i < mt->table_size; i++)
                for (struct series *s = mt->table[i], *next; s; s = next) {
                        next = s->next;
                        free(s);
                }
        free(mt->table);
        mt->table = NULL;
        mt->table_size = mt->n_series = 0;
}

static struct kl_metric *metric_free(struct kl_metric *mt) {
        if (!mt)
                return NULL;
        series_free_all(mt);
        for (size_t i = 0; i < mt->n_labels; i++)
                free(mt->label_names[i]);
        free(mt->name);
        free(mt->help);
        free(mt);
        return NULL;
}

struct kl_metrics *kl_metrics_new(void) {
        return calloc(1, sizeof(struct kl_metrics));
}

struct kl_metrics *kl_metrics_free(struct kl_metrics *m) {
        if (!m)
                return NULL;
        for (size_t i = 0; i < m->n_metrics; i++)
                metric_free(m->metrics[i]);
        free(m->metrics);
        free(m);
        return NULL;
}

static bool valid_name(const char *s, bool colon) {
        if (!s || !*s)
                return false;
        for (const char *p = s; *p; p++) {
                bool alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' || (colon && *p == ':');
                if (!alpha && !(p > s && *p >= '0' && *p <= '9'))
                        return false;
        }
        return true;
}

/* Find the series with these label values (h is their hash). */
static struct series *series_find(const struct kl_metric *mt, uint64_t h, const char *const *values) {
        if (!mt->table_size)
                return NULL;
        for (struct series *s = mt->table[h & (mt->table_size - 1)]; s; s = s->next) {
                if (s->hash != h)
                        continue;
                size_t i = 0;
                while (i < mt->n_labels && streq(s->values[i], values[i]))
                        i++;
                if (i == mt->n_labels)
                        return s;
        }
        return NULL;
}

static int table_grow(struct kl_metric *mt) {
        size_t nsize = mt->table_size ? mt->table_size * 2 : 8;
        struct series **nt = calloc(nsize, sizeof(*nt));

        if (!nt)
                return -ENOMEM;
        for (size_t i = 0; i < mt->table_size; i++)
                for (struct series *s = mt->table[i], *next; s; s = next) {
                        next = s->next;
                        s->next = nt[s->hash & (nsize - 1)];
                        nt[s->hash & (nsize - 1)] = s;
                }
        free(mt->table);
        mt->table = nt;
        mt->table_size = nsize;
        return 0;
}

static int series_new(struct kl_metric *mt, uint64_t h, const char *const *values, struct series **ret) {
        size_t len[KL_METRIC_MAX_LABELS], total = 0, nb = mt->type == KL_METRIC_HISTOGRAM ? mt->n_bounds + 1 : 0;
        struct series *s;
        char *p;

        if (mt->n_series >= mt->max_series)
                return -ENOSPC;
        if (mt->n_series >= mt->table_size && table_grow(mt) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < mt->n_labels; i++) {
                len[i] = strlen(values[i]) + 1;
                total += len[i];
        }
        s = calloc(1, sizeof(*s) + nb * sizeof(uint64_t) + total);
        if (!s)
                return -ENOMEM;
        p = (char *) (s->buckets + nb);
        for (size_t i = 0; i < mt->n_labels; i++) {
                memcpy(p, values[i], len[i]);
                s->values[i] = p;
                p += len[i];
        }
        s->hash = h;
        s->next = mt->table[h & (mt->table_size - 1)];
        mt->table[h & (mt->table_size - 1)] = s;
        mt->n_series++;
        *ret = s;
        return 0;
}

static int check_values(const struct kl_metric *mt, size_t n, const char *const *values) {
        if (!mt || n != mt->n_labels)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (!values[i] || strnlen(values[i], KL_METRIC_LABEL_VALUE_MAX + 1) > KL_METRIC_LABEL_VALUE_MAX)
                        return -EINVAL;
        return 0;
}

static struct kl_metric *metric_register(struct kl_metrics *m, enum kl_metric_type type, const char *name,
                                         const char *help, const double *bounds, size_t n_bounds,
                                         const char *const *label_names) {
        struct kl_metric *mt = NULL, **v;
        size_t pos = 0, n_labels = 0;
        const char *const none[] = {NULL};
        struct series *s;
        int r = -EINVAL;

        if (!label_names)
                label_names = none;
        while (label_names[n_labels])
                n_labels++;
        if (!m || !valid_name(name, true) || n_labels > KL_METRIC_MAX_LABELS || n_bounds > KL_METRIC_MAX_BUCKETS)
                goto fail;
        for (size_t i = 0; i < n_labels; i++) {
                if (!valid_name(label_names[i], false) || strncmp(label_names[i], "__", 2) == 0 ||
                    (type == KL_METRIC_HISTOGRAM && streq(label_names[i], "le")))
                        goto fail;
                for (size_t j = 0; j < i; j++)
                        if (streq(label_names[i], label_names[j]))
                                goto fail;
        }
        for (size_t i = 0; i < n_bounds; i++)
                if (!isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1]))
                        goto fail;
        /* keep the registry sorted by name: find the insertion point */
        while (pos < m->n_metrics && strcmp(m->metrics[pos]->name, name) < 0)
                pos++;
        if (pos < m->n_metrics && streq(m->metrics[pos]->name, name)) {
                r = -EEXIST;
                goto fail;
        }

        r = -ENOMEM;
        mt = calloc(1, sizeof(*mt));
        if (!mt)
                goto fail;
        mt->type = type;
        mt->max_series = KL_METRIC_MAX_SERIES;
        mt->n_bounds = n_bounds;
        if (n_bounds)
                memcpy(mt->bounds, bounds, n_bounds * sizeof(double));
        mt->name = strdup(name);
        mt->help = strdup(strempty(help));
        if (!mt->name || !mt->help)
                goto fail;
        for (size_t i = 0; i < n_labels; i++) {
                mt->label_names[i] = strdup(label_names[i]);
                if (!mt->label_names[i])
                        goto fail;
                mt->n_labels = i + 1;
        }
        /* insertion sort of label indexes by name, for output */
        for (unsigned i = 0; i < n_labels; i++) {
                unsigned j = i;
                for (; j > 0 && strcmp(mt->label_names[mt->order[j - 1]], mt->label_names[i]) > 0; j--)
                        mt->order[j] = mt->order[j - 1];
                mt->order[j] = i;
        }
        /* an unlabelled metric always has its one series */
        if (n_labels == 0 && series_new(mt, hash_values(0, NULL), NULL, &s) < 0)
                goto fail;
        v = realloc(m->metrics, (m->n_metrics + 1) * sizeof(*v));
        if (!v)
                goto fail;
        m->metrics = v;
        memmove(v + pos + 1, v + pos, (m->n_metrics - pos) * sizeof(*v));
        v[pos] = mt;
        m->n_metrics++;
        return mt;
fail:
        metric_free(mt);
        errno = -r;
        return NULL;
}

struct kl_metric *kl_metrics_counter(struct kl_metrics *m, const char *name, const char *help,
                                     const char *const *label_names) {
        return metric_register(m, KL_METRIC_COUNTER, name, help, NULL, 0, label_names);
}

struct kl_metric *kl_metrics_gauge(struct kl_metrics *m, const char *name, const char *help,
                                   const char *const *label_names) {
        return metric_register(m, KL_METRIC_GAUGE, name, help, NULL, 0, label_names);
}

struct kl_metric *kl_metrics_histogram(struct kl_metrics *m, const char *name, const char *help, const double *bounds,
                                       size_t n_bounds, const char *const *label_names) {
        if (!bounds && n_bounds) {
                errno = EINVAL;
                return NULL;
        }
        return metric_register(m, KL_METRIC_HISTOGRAM, name, help, bounds, n_bounds, label_names);
}

void kl_metric_set_max_series(struct kl_metric *mt, size_t max) {
        if (mt)
                mt->max_series = max;
}

int kl_metric_update(struct kl_metric *mt, enum kl_metric_op op, double v, size_t n_values, const char *const *values) {
        struct series *s;
        uint64_t h;
        int r;

        r = check_values(mt, n_values, values);
        if (r < 0)
                return r;
        switch (op) {
        case KL_METRIC_OP_ADD:
                if (mt->type == KL_METRIC_HISTOGRAM || (mt->type == KL_METRIC_COUNTER && !(v >= 0)))
                        return -EINVAL;
                break;
        case KL_METRIC_OP_SET:
                if (mt->type == KL_METRIC_HISTOGRAM || (mt->type == KL_METRIC_COUNTER && !(v >= 0)))
                        return -EINVAL;
                break;
        case KL_METRIC_OP_OBSERVE:
                if (mt->type != KL_METRIC_HISTOGRAM || isnan(v))
                        return -EINVAL;
                break;
        default: return -EINVAL;
        }

        h = hash_values(n_values, values);
        s = series_find(mt, h, values);
        if (!s) {
                r = series_new(mt, h, values, &s);
                if (r < 0)
                        return r;
        }
        switch (op) {
        case KL_METRIC_OP_ADD: s->value += v; break;
        case KL_METRIC_OP_SET: s->value = v; break;
        case KL_METRIC_OP_OBSERVE: {
                /* first bucket whose upper bound is >= v; n_bounds is the +Inf bucket */
                size_t lo = 0, hi = mt->n_bounds;
                while (lo < hi) {
                        size_t mid = (lo + hi) / 2;
                        if (v <= mt->bounds[mid])
                                hi = mid;
                        else
                                lo = mid + 1;
                }
                s->buckets[lo]++;
                s->count++;
                s->value += v;
                break;
        }
        }
        return 0;
}

int kl_metric_remove_values(struct kl_metric *mt, size_t n_values, const char *const *values) {
        uint64_t h;
        int r;

        r = check_values(mt, n_values, values);
        if (r < 0)
                return r;
        if (mt->n_labels == 0 || !mt->table_size)
                return -ENOENT;
        h = hash_values(n_values, values);
        for (struct series **pp = &mt->table[h & (mt->table_size - 1)]; *pp; pp = &(*pp)->next) {
                struct series *s = *pp;
                size_t i = 0;
                if (s->hash != h)
                        continue;
                while (i < mt->n_labels && streq(s->values[i], values[i]))
                        i++;
                if (i < mt->n_labels)
                        continue;
                *pp = s->next;
                free(s);
                mt->n_series--;
                return 0;
        }
        return -ENOENT;
}

void kl_metric_reset(struct kl_metric *mt) {
        struct series *s;

        if (!mt)
                return;
        if (mt->n_labels > 0) {
                series_free_all(mt);
                return;
        }
        s = series_find(mt, hash_values(0, NULL), NULL);
        if (s) {
                s->value = 0;
                s->count = 0;
                memset(s->buckets, 0, (mt->type == KL_METRIC_HISTOGRAM ? mt->n_bounds + 1 : 0) * sizeof(uint64_t));
        }
}

size_t kl_metric_n_series(const struct kl_metric *mt) {
        return mt ? mt->n_series : 0;
}

int kl_metric_get_values(const struct kl_metric *mt, size_t n_values, const char *const *values, double *ret_value,
                         uint64_t *ret_count) {
        struct series *s;
        int r = check_values(mt, n_values, values);

        if (r < 0)
                return r;
        s = series_find(mt, hash_values(n_values, values), values);
        if (!s)
                return -ENOENT;
        if (ret_value)
                *ret_value = s->value;
        if (ret_count)
                *ret_count = s->count;
        return 0;
}

int kl_metrics_add_collector(struct kl_metrics *m, void (*fn)(struct kl_metrics *m, void *userdata), void *userdata) {
        if (!m || !fn)
                return -EINVAL;
        if (m->n_collectors >= MAX_COLLECTORS)
                return -ENOSPC;
        m->collectors[m->n_collectors].fn = fn;
        m->collectors[m->n_collectors].userdata = userdata;
        m->n_collectors++;
        return 0;
}

const char *kl_metrics_format_value(double v, char *buf, size_t size) {
        if (isnan(v))
                snprintf(buf, size, "NaN");
        else if (isinf(v))
                snprintf(buf, size, v > 0 ? "+Inf" : "-Inf");
        else if (v == 0)
                snprintf(buf, size, "0");
        else if (v == trunc(v) && fabs(v) < 1e15)
                snprintf(buf, size, "%.0f", v);
        else
                /* shortest of %.15g..%.17g that reads back exactly */
                for (int prec = 15; prec <= 17; prec++) {
                        snprintf(buf, size, "%.*g", prec, v);
                        if (strtod(buf, NULL) == v)
                                break;
                }
        return buf;
}

/* Escape for HELP (backslash, newline) or, with quote, for a label value (also "). */
static void put_escaped(struct kl_buf *out, const char *s, bool quote) {
        const char *run = s;

        for (const char *p = s; *p; p++) {
                const char *esc = *p == '\\' ? "\\\\" : *p == '\n' ? "\\n" : quote && *p == '"' ? "\\\"" : NULL;
                if (!esc)
                        continue;
                kl_buf_append(out, run, (size_t) (p - run));
                kl_buf_puts(out, esc);
                run = p + 1;
        }
        kl_buf_puts(out, run);
}

/* name{a="x",b="y"[,le="0.5"]} value\n */
static void put_sample(struct kl_buf *out, const struct kl_metric *mt, const char *suffix, const struct series *s,
                       const char *le, const char *value) {
        bool any = false;

        kl_buf_puts(out, mt->name);
        kl_buf_puts(out, suffix);
        for (size_t i = 0; i < mt->n_labels; i++) {
                unsigned k = mt->order[i];
                kl_buf_puts(out, any ? "," : "{");
                kl_buf_puts(out, mt->label_names[k]);
                kl_buf_puts(out, "=\"");
                put_escaped(out, s->values[k], true);
                kl_buf_puts(out, "\"");
                any = true;
        }
        if (le) {
                kl_buf_puts(out, any ? ",le=\"" : "{le=\"");
                kl_buf_puts(out, le);
                kl_buf_puts(out, "\"");
                any = true;
        }
        if (any)
                kl_buf_puts(out, "}");
        kl_buf_puts(out, " ");
        kl_buf_puts(out, value);
        kl_buf_puts(out, "\n");
}

static int series_cmp(const void *a, const void *b, void *userdata) {
        const struct kl_metric *mt = userdata;
        const struct series *x = *(const struct series *const *) a, *y = *(const struct series *const *) b;

        for (size_t i = 0; i < mt->n_labels; i++) {
                int c = strcmp(x->values[mt->order[i]], y->values[mt->order[i]]);
                if (c != 0)
                        return c;
        }
        return 0;
}

static int render_metric(const struct kl_metric *mt, struct kl_buf *out) {
        static const char *const type_names[] = {"counter", "gauge", "histogram"};
        _cleanup_free_ struct series **v = NULL;
        char num[32], le[32];
        size_t n = 0;

        if (mt->n_series == 0)
                return 0;
        v = malloc(mt->n_series * sizeof(*v));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < mt->table_size; i++)
                for (struct series *s = mt->table[i]; s; s = s->next)
                        v[n++] = s;
        qsort_r(v, n, sizeof(*v), series_cmp, (void *) mt);

        kl_buf_printf(out, "# HELP %s ", mt->name);
        put_escaped(out, mt->help, false);
        kl_buf_printf(out, "\n# TYPE %s %s\n", mt->name, type_names[mt->type]);
        for (size_t i = 0; i < n; i++) {
                const struct series *s = v[i];
                uint64_t cum = 0;

                if (mt->type != KL_METRIC_HISTOGRAM) {
                        put_sample(out, mt, "", s, NULL, kl_metrics_format_value(s->value, num, sizeof(num)));
                        continue;
                }
                for (size_t b = 0; b <= mt->n_bounds; b++) {
                        cum += s->buckets[b];
                        snprintf(num, sizeof(num), "%llu", (unsigned long long) cum);
                        put_sample(out, mt, "_bucket", s,
                                   b < mt->n_bounds ? kl_metrics_format_value(mt->bounds[b], le, sizeof(le)) : "+Inf",
                                   num);
                }
                put_sample(out, mt, "_sum", s, NULL, kl_metrics_format_value(s->value, num, sizeof(num)));
                snprintf(num, sizeof(num), "%llu", (unsigned long long) s->count);
                put_sample(out, mt, "_count", s, NULL, num);
        }
        return 0;
}

int kl_metrics_render(struct kl_metrics *m, struct kl_buf *out) {
        int r;

        if (!m || !out)
                return -EINVAL;
        for (size_t i = 0; i < m->n_collectors; i++)
                m->collectors[i].fn(m, m->collectors[i].userdata);
        for (size_t i = 0; i < m->n_metrics; i++) {
                r = render_metric(m->metrics[i], out);
                if (r < 0)
                        return r;
        }
        return out->oom ? -ENOMEM : 0;
}

/* --- kubelet-lite's metrics ------------------------------------------------ */

/* upstream podStartupDurationBuckets */
static const double pod_start_buckets[] = {0.5, 1,   2,   3,   4,   5,   6,   8,   10,   20,   30,   45,  60,
                                           120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600};

int kl_metrics_register_kubelet(struct kl_metrics *m, struct kl_kubelet_metrics *ret) {
        struct kl_kubelet_metrics k = {};
        const char *const *op = KL_LABELS("operation_type");
        const char *const *ctr = KL_LABELS("namespace", "pod", "container");

        /* Help texts carry the stability prefix that Kubernetes' component-base adds. */
        k.running_pods = kl_metrics_gauge(m, "kubelet_running_pods",
                                          "[ALPHA] Number of pods that have a running pod sandbox", NULL);
        k.running_containers =
                kl_metrics_gauge(m, "kubelet_running_containers", "[ALPHA] Number of containers currently running",
                                 KL_LABELS("container_state"));
        k.pod_start_duration = kl_metrics_histogram(
                m, "kubelet_pod_start_duration_seconds",
                "[ALPHA] Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run",
                pod_start_buckets, ELEMENTSOF(pod_start_buckets), NULL);
        k.pod_worker_duration = kl_metrics_histogram(
                m, "kubelet_pod_worker_duration_seconds",
                "[ALPHA] Duration in seconds to sync a single pod. Broken down by operation type: create, update, or sync",
                kl_metrics_default_buckets, ELEMENTSOF(kl_metrics_default_buckets), op);
        k.runtime_operations =
                kl_metrics_counter(m, "kubelet_runtime_operations_total",
                                   "[ALPHA] Cumulative number of runtime operations by operation type.", op);
        k.runtime_operations_errors =
                kl_metrics_counter(m, "kubelet_runtime_operations_errors_total",
                                   "[ALPHA] Cumulative number of runtime operation errors by operation type.", op);
        k.runtime_operations_duration = kl_metrics_histogram(
                m, "kubelet_runtime_operations_duration_seconds",
                "[ALPHA] Duration in seconds of runtime operations. Broken down by operation type.",
                kl_metrics_runtime_buckets, ELEMENTSOF(kl_metrics_runtime_buckets), op);
        k.started_containers =
                kl_metrics_counter(m, "kubelet_started_containers_total",
                                   "[ALPHA] Cumulative number of containers started", KL_LABELS("container_type"));
        k.started_containers_errors = kl_metrics_counter(m, "kubelet_started_containers_errors_total",
                                                         "[ALPHA] Cumulative number of errors when starting containers",
                                                         KL_LABELS("container_type", "code"));
        k.evictions = kl_metrics_counter(m, "kubelet_evictions",
                                         "[ALPHA] Cumulative number of pod evictions by eviction signal",
                                         KL_LABELS("eviction_signal"));
        k.node_condition = kl_metrics_gauge(
                m, "kubelet_node_condition",
                "Node conditions as kubelet-lite computes them: 1 when the condition is True, 0 when False",
                KL_LABELS("condition"));
        k.container_cpu_usage =
                kl_metrics_counter(m, "container_cpu_usage_seconds_total",
                                   "[STABLE] Cumulative cpu time consumed by the container in core-seconds", ctr);
        k.container_memory_working_set = kl_metrics_gauge(
                m, "container_memory_working_set_bytes", "[STABLE] Current working set of the container in bytes", ctr);

        k.started_pods =
                kl_metrics_counter(m, "kubelet_started_pods_total", "[ALPHA] Cumulative number of pods started", NULL);
        k.started_pods_errors = kl_metrics_counter(m, "kubelet_started_pods_errors_total",
                                                   "[ALPHA] Cumulative number of errors when starting pods", NULL);
        k.restarted_pods = kl_metrics_counter(
                m, "kubelet_restarted_pods_total",
                "[ALPHA] Number of pods that have been restarted because they were deleted and recreated with the "
                "same UID while the kubelet was watching them (common for static pods, extremely uncommon for API "
                "pods)",
                KL_LABELS("static"));
        k.pleg_relist_duration = kl_metrics_histogram(
                m, "kubelet_pleg_relist_duration_seconds", "[ALPHA] Duration in seconds for relisting pods in PLEG.",
                kl_metrics_default_buckets, ELEMENTSOF(kl_metrics_default_buckets), NULL);
        k.pleg_relist_interval = kl_metrics_histogram(
                m, "kubelet_pleg_relist_interval_seconds", "[ALPHA] Interval in seconds between relisting in PLEG.",
                kl_metrics_default_buckets, ELEMENTSOF(kl_metrics_default_buckets), NULL);
        k.pleg_last_seen = kl_metrics_gauge(m, "kubelet_pleg_last_seen_seconds",
                                            "[ALPHA] Timestamp in seconds when PLEG was last seen active.", NULL);
        k.node_name = kl_metrics_gauge(m, "kubelet_node_name", "[ALPHA] The node's name. The count is always 1.",
                                       KL_LABELS("node"));

        struct kl_metric *all[sizeof(k) / sizeof(struct kl_metric *)];
        memcpy(all, &k, sizeof(all));
        for (size_t i = 0; i < ELEMENTSOF(all); i++)
                if (!all[i])
                        return negative_errno();
        *ret = k;
        return 0;
}

int kl_metrics_register_probes(struct kl_metrics *m, struct kl_metric **ret) {
        struct kl_metric *t =
                kl_metrics_counter(m, "prober_probe_total",
                                   "[BETA] Cumulative number of a liveness, readiness or startup probe for a "
                                   "container by result.",
                                   KL_LABELS("probe_type", "result", "container", "pod", "namespace", "pod_uid"));
        if (!t)
                return negative_errno();
        *ret = t;
        return 0;
}

enum {
        P_CPU,
        P_RSS,
        P_VSIZE,
        P_START,
        P_FDS,
        P_MAXFDS
};

static void process_collect(struct kl_metrics *m, void *userdata) {
        struct kl_procstat st;
        struct rlimit rl;

        if (kl_procstat_read(0, KL_PROCSTAT_STAT | KL_PROCSTAT_STATM | KL_PROCSTAT_FDS, &st) < 0)
                return;
        if (st.have & KL_PROCSTAT_STAT) {
                kl_metric_set(m->process[P_CPU], st.cpu_seconds);
                kl_metric_set(m->process[P_VSIZE], (double) st.vsize_bytes);
                kl_metric_set(m->process[P_START], st.start_time_seconds);
        }
        if (st.have & KL_PROCSTAT_STATM)
                kl_metric_set(m->process[P_RSS], (double) st.statm_resident_bytes);
        if (st.have & KL_PROCSTAT_FDS)
                kl_metric_set(m->process[P_FDS], (double) st.open_fds);
        if (getrlimit(RLIMIT_NOFILE, &rl) >= 0)
                kl_metric_set(m->process[P_MAXFDS], rl.rlim_cur == RLIM_INFINITY ? INFINITY : (double) rl.rlim_cur);
}

int kl_metrics_register_process(struct kl_metrics *m) {
        /* names and help texts of client_golang's process collector */
        static const struct {
                bool counter;
                const char *name, *help;
        } defs[] = {
                [P_CPU] = {true, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds."},
                [P_RSS] = {false, "process_resident_memory_bytes", "Resident memory size in bytes."},
                [P_VSIZE] = {false, "process_virtual_memory_bytes", "Virtual memory size in bytes."},
                [P_START] = {false, "process_start_time_seconds",
                             "Start time of the process since unix epoch in seconds."},
                [P_FDS] = {false, "process_open_fds", "Number of open file descriptors."},
                [P_MAXFDS] = {false, "process_max_fds", "Maximum number of open file descriptors."},
        };

        if (!m)
                return -EINVAL;
        if (m->process[0])
                return -EEXIST;
        for (size_t i = 0; i < ELEMENTSOF(defs); i++) {
                m->process[i] = defs[i].counter ? kl_metrics_counter(m, defs[i].name, defs[i].help, NULL)
                                                : kl_metrics_gauge(m, defs[i].name, defs[i].help, NULL);
                if (!m->process[i])
                        return negative_errno();
        }
        return kl_metrics_add_collector(m, process_collect, NULL);
}
