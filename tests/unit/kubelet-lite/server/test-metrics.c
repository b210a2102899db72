/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "kubelet-lite/server/metrics.h"
#include "tests/lib/tests.h"

/* Render m into a fresh string (caller frees). */
static char *render(struct kl_metrics *m) {
        struct kl_buf b = {};

        if (kl_metrics_render(m, &b) < 0) {
                kl_buf_free_contents(&b);
                return NULL;
        }
        return kl_buf_steal(&b, NULL);
}

TEST(counter_gauge_exposition) {
        _cleanup_(kl_metrics_freep) struct kl_metrics *m = kl_metrics_new();
        _cleanup_free_ char *out = NULL;
        struct kl_metric *c, *g;

        ASSERT_NOT_NULL(m);
        c = kl_metrics_counter(m, "x_ops_total", "Operations.", KL_LABELS("operation_type"));
        g = kl_metrics_gauge(m, "a_temperature", "Temp.", NULL);
        ASSERT_NOT_NULL(c);
        ASSERT_NOT_NULL(g);
        ASSERT_OK(kl_metric_inc(c, "stop"));
        ASSERT_OK(kl_metric_inc(c, "create"));
        ASSERT_OK(kl_metric_add(c, 2, "create"));
        ASSERT_OK(kl_metric_set(g, 21.5));
        ASSERT_OK(kl_metric_add(g, -1));
        out = render(m);
        ASSERT_NOT_NULL(out);
        ASSERT_STREQ(out, "# HELP a_temperature Temp.\n"
                          "# TYPE a_temperature gauge\n"
                          "a_temperature 20.5\n"
                          "# HELP x_ops_total Operations.\n"
                          "# TYPE x_ops_total counter\n"
                          "x_ops_total{operation_type=\"create\"} 3\n"
                          "x_ops_total{operation_type=\"stop\"} 1\n");
}

TEST(escaping) {
        _cleanup_(kl_metrics_freep) struct kl_metrics *m = kl_metrics_new();
        _cleanup_free_ char *out = NULL;
        struct kl_metric *g;

        g = kl_metrics_gauge(m, "esc", "Line one\nback\\slash \"quoted\"", KL_LABELS("v"));
        ASSERT_NOT_NULL(g);
        ASSERT_OK(kl_metric_set(g, 1, "a\\b\"c\nd"));
        out = render(m);
        /* HELP escapes backslash and newline only; label values also the quote */
        ASSERT_STREQ(out, "# HELP esc Line one\\nback\\\\slash \"quoted\"\n"
                          "# TYPE esc gauge\n"
                          "esc{v=\"a\\\\b\\\"c\\nd\"} 1\n");
}

TEST(labels_sorted_by_name_values_in_registration_order) {
        _cleanup_(kl_metrics_freep) struct kl_metrics *m = kl_metrics_new();
        _cleanup_free_ char *out = NULL;
        struct kl_metric *g;

        g = kl_metrics_gauge(m, "mem", "M.", KL_LABELS("namespace", "pod", "container"));
        ASSERT_OK(kl_metric_set(g, 200, "kube-system", "web", "nginx"));
        ASSERT_OK(kl_metric_set(g, 100, "default", "web", "sidecar"));
        ASSERT_OK(kl_metric_set(g, 300, "default", "db", "pg"));
        out = render(m);
        /* series ordered by container, then namespace, then pod (the printed order) */
        ASSERT_STREQ(out, "# HELP mem M.\n# TYPE mem gauge\n"
                          "mem{container=\"nginx\",namespace=\"kube-system\",pod=\"web\"} 200\n"
                          "mem{container=\"pg\",namespace=\"default\",pod=\"db\"} 300\n"
                          "mem{container=\"sidecar\",namespace=\"default\",pod=\"web\"} 100\n");
}

TEST(histogram) {
        _cleanup_(kl_metrics_freep) struct kl_metrics *m = kl_metrics_new();
        _cleanup_free_ char *out = NULL;
        static const double b[] = {0.1, 1, 2.5};
        struct kl_metric *h;
        double sum;
        uint64_t count;

        h = kl_metrics_histogram(m, "lat_seconds", "Latency.", b, 3, KL_LABELS("op"));
        ASSERT_NOT_NULL(h);
        ASSERT_OK(kl_metric_observe(h, 0.05, "run"));
        ASSERT_OK(kl_metric_observe(h, 0.1, "run")); /* le is inclusive */
        ASSERT_OK(kl_metric_observe(h, 2, "run"));
        ASSERT_OK(kl_metric_observe(h, 7, "run"));
        ASSERT_OK(kl_metric_get(h, &sum, &count, "run"));
        ASSERT_EQ(count, 4);
        ASSERT_TRUE(fabs(sum - 9.15) < 1e-9);
        out = render(m);
        ASSERT_STREQ(out, "# HELP lat_seconds Latency.\n# TYPE lat_seconds histogram\n"
                          "lat_seconds_bucket{op=\"run\",le=\"0.1\"} 2\n"
                          "lat_seconds_bucket{op=\"run\",le=\"1\"} 2\n"
                          "lat_seconds_bucket{op=\"run\",le=\"2.5\"} 3\n"
                          "lat_seconds_bucket{op=\"run\",le=\"+Inf\"} 4\n"
                          "lat_seconds_sum{op=\"run\"} 9.15\n"
                          "lat_seconds_count{op=\"run\"} 4\n");
}

TEST(unlabelled_histogram_and_empty_labelled_metric) {
        _cleanup_(kl_metrics_freep) struct kl_metrics *m = kl_metrics_new();
        _cleanup_free_ char *out = NULL;
        static const double b[] = {1};

        ASSERT_NOT_NULL(kl_metrics_histogram(m, "h", "H.", b, 1, NULL));
        ASSERT_NOT_NULL(kl_metrics_counter(m, "unused_total", "No series yet.", KL_LABELS("x")));
        out = render(m);
        ASSERT_STREQ(out, "# HELP h H.\n# TYPE h histogram\n"
                          "h_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n");
}

TEST(registration_errors) {
        _cleanup_(kl_metrics_freep) struct kl_metrics *m = kl_metrics_new();
        static const double bad[] = {1, 1};
        static const double nan_b[] = {NAN};

        ASSERT_NOT_NULL(kl_metrics_counter(m, "ok:name_1", "", NULL));
        errno = 0;
        ASSERT_NULL(kl_metrics_counter(m, "ok:name_1", "", NULL));
        ASSERT_EQ(errno, EEXIST);
        ASSERT_NULL(kl_metrics_counter(m, "1abc", "", NULL));
        ASSERT_EQ(errno, EINVAL);
        ASSERT_NULL(kl_metrics_counter(m, "a-b", "", NULL));
        ASSERT_NULL(kl_metrics_counter(m, "", "", NULL));
        ASSERT_NULL(kl_metrics_gauge(m, "g", "", KL_LABELS("__reserved")));
        ASSERT_NULL(kl_metrics_gauge(m, "g", "", KL_LABELS("a:b")));
        ASSERT_NULL(kl_metrics_gauge(m, "g", "", KL_LABELS("a", "a")));
        ASSERT_NULL(kl_metrics_gauge(m, "g", "", KL_LABELS("a", "b", "c", "d", "e", "f", "g")));
        ASSERT_NULL(kl_metrics_histogram(m, "h", "", bad, 2, NULL));
        ASSERT_NULL(kl_metrics_histogram(m, "h", "", nan_b, 1, NULL));
        ASSERT_NULL(kl_metrics_histogram(m, "h", "", NULL, 1, NULL));
        ASSERT_NULL(kl_metrics_histogram(m, "h", "", kl_metrics_default_buckets, 11, KL_LABELS("le")));
        /* "le" is fine on a gauge; a failed name did not take the slot */
        ASSERT_NOT_NULL(kl_metrics_gauge(m, "g", "", KL_LABELS("le")));
        ASSERT_NOT_NULL(kl_metrics_histogram(m, "h", "", kl_metrics_default_buckets, 11, NULL));
}

TEST(update_errors) {
        _cleanup_(kl_metrics_freep) struct kl_metrics *m = kl_metrics_new();
        struct kl_metric *c = kl_metrics_counter(m, "c_total", "", KL_LABELS("a"));
        struct kl_metric *h = kl_metrics_histogram(m, "h", "", kl_metrics_default_buckets, 11, NULL);
        char big[KL_METRIC_LABEL_VALUE_MAX + 2];
        double v;

        ASSERT_ERR(kl_metric_inc(NULL), EINVAL);
        ASSERT_ERR(kl_metric_inc(c), EINVAL);           /* missing value */
        ASSERT_ERR(kl_metric_inc(c, "x", "y"), EINVAL); /* one too many */
        ASSERT_ERR(kl_metric_add(c, -1, "x"), EINVAL);  /* counters only go up */
        ASSERT_ERR(kl_metric_add(c, NAN, "x"), EINVAL);
        ASSERT_ERR(kl_metric_observe(c, 1, "x"), EINVAL);
        ASSERT_ERR(kl_metric_inc(h), EINVAL);
        ASSERT_ERR(kl_metric_observe(h, NAN), EINVAL);
        ASSERT_ERR(kl_metric_update(c, KL_METRIC_OP_ADD, 1, 1, (const char *const[]){NULL}), EINVAL);
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        ASSERT_ERR(kl_metric_inc(c, big), EINVAL);
        big[KL_METRIC_LABEL_VALUE_MAX] = '\0';
        ASSERT_OK(kl_metric_inc(c, big));
        /* counters may mirror a cumulative value read elsewhere */
        ASSERT_OK(kl_metric_set(c, 42, "x"));
        ASSERT_OK(kl_metric_get(c, &v, NULL, "x"));
        ASSERT_TRUE(v == 42);
        ASSERT_ERR(kl_metric_get(c, &v, NULL, "nope"), ENOENT);
        ASSERT_EQ(kl_metric_n_series(c), 2);
}

TEST(series_cap_and_remove) {
        _cleanup_(kl_metrics_freep) struct kl_metrics *m = kl_metrics_new();
        struct kl_metric *g = kl_metrics_gauge(m, "g", "", KL_LABELS("id"));
        char id[16];

        for (int i = 0; i < KL_METRIC_MAX_SERIES; i++) {
                snprintf(id, sizeof(id), "c%d", i);
                ASSERT_OK(kl_metric_set(g, i, id));
        }
        ASSERT_EQ(kl_metric_n_series(g), KL_METRIC_MAX_SERIES);
        ASSERT_ERR(kl_metric_set(g, 1, "one-too-many"), ENOSPC);
        /* existing series still update */
        ASSERT_OK(kl_metric_set(g, 7, "c999"));
        ASSERT_OK(kl_metric_remove(g, "c5"));
        ASSERT_ERR(kl_metric_remove(g, "c5"), ENOENT);
        ASSERT_OK(kl_metric_set(g, 1, "one-too-many"));
        ASSERT_ERR(kl_metric_set(g, 1, "two-too-many"), ENOSPC);
        kl_metric_set_max_series(g, 2000);
        ASSERT_OK(kl_metric_set(g, 1, "two-too-many"));
        kl_metric_reset(g);
        ASSERT_EQ(kl_metric_n_series(g), 0);
        ASSERT_OK(kl_metric_set(g, 3, "again"));
        ASSERT_EQ(kl_metric_n_series(g), 1);
}

TEST(reset_unlabelled) {
        _cleanup_(kl_metrics_freep) struct kl_metrics *m = kl_metrics_new();
        struct kl_metric *h = kl_metrics_histogram(m, "h", "", kl_metrics_default_buckets, 11, NULL);
        double sum;
        uint64_t count;

        ASSERT_OK(kl_metric_observe(h, 3));
        kl_metric_reset(h);
        ASSERT_OK(kl_metric_get(h, &sum, &count));
        ASSERT_EQ(count, 0);
        ASSERT_TRUE(sum == 0);
        ASSERT_EQ(kl_metric_n_series(h), 1);
}

TEST(format_value) {
        char b[32];

        ASSERT_STREQ(kl_metrics_format_value(0, b, sizeof(b)), "0");
        ASSERT_STREQ(kl_metrics_format_value(3, b, sizeof(b)), "3");
        ASSERT_STREQ(kl_metrics_format_value(-12, b, sizeof(b)), "-12");
        ASSERT_STREQ(kl_metrics_format_value(123924480, b, sizeof(b)), "123924480");
        ASSERT_STREQ(kl_metrics_format_value(0.005, b, sizeof(b)), "0.005");
        ASSERT_STREQ(kl_metrics_format_value(0.1 + 0.2, b, sizeof(b)), "0.30000000000000004");
        ASSERT_STREQ(kl_metrics_format_value(1e20, b, sizeof(b)), "1e+20");
        ASSERT_STREQ(kl_metrics_format_value(INFINITY, b, sizeof(b)), "+Inf");
        ASSERT_STREQ(kl_metrics_format_value(-INFINITY, b, sizeof(b)), "-Inf");
        ASSERT_STREQ(kl_metrics_format_value(NAN, b, sizeof(b)), "NaN");
        ASSERT_STREQ(kl_metrics_format_value(745.0580596923828, b, sizeof(b)), "745.0580596923828");
}

static int collected;
static void collector(struct kl_metrics *m, void *userdata) {
        collected++;
        kl_metric_set(userdata, collected);
}

TEST(collector_runs_on_render) {
        _cleanup_(kl_metrics_freep) struct kl_metrics *m = kl_metrics_new();
        _cleanup_free_ char *a = NULL, *b = NULL;
        struct kl_metric *g = kl_metrics_gauge(m, "scrapes", "", NULL);

        ASSERT_OK(kl_metrics_add_collector(m, collector, g));
        a = render(m);
        b = render(m);
        ASSERT_CONTAINS(a, "scrapes 1\n");
        ASSERT_CONTAINS(b, "scrapes 2\n");
}

TEST(kubelet_and_process_metrics) {
        _cleanup_(kl_metrics_freep) struct kl_metrics *m = kl_metrics_new();
        _cleanup_free_ char *out = NULL;
        struct kl_kubelet_metrics k;

        ASSERT_OK(kl_metrics_register_kubelet(m, &k));
        ASSERT_ERR(kl_metrics_register_kubelet(m, &k), EEXIST);
        ASSERT_OK(kl_metrics_register_process(m));
        ASSERT_ERR(kl_metrics_register_process(m), EEXIST);
        ASSERT_OK(kl_metric_set(k.running_pods, 2));
        ASSERT_OK(kl_metric_set(k.running_containers, 3, "running"));
        ASSERT_OK(kl_metric_observe(k.pod_start_duration, 0.7));
        ASSERT_OK(kl_metric_observe(k.pod_worker_duration, 0.02, "create"));
        ASSERT_OK(kl_metric_inc(k.runtime_operations, "run_podsandbox"));
        ASSERT_OK(kl_metric_inc(k.runtime_operations_errors, "pull_image"));
        ASSERT_OK(kl_metric_observe(k.runtime_operations_duration, 0.1, "run_podsandbox"));
        ASSERT_OK(kl_metric_inc(k.started_containers, "container"));
        ASSERT_OK(kl_metric_inc(k.started_containers_errors, "container", "NotFound"));
        ASSERT_OK(kl_metric_inc(k.evictions, "memory.available"));
        ASSERT_OK(kl_metric_set(k.node_condition, 0, "MemoryPressure"));
        ASSERT_OK(kl_metric_set(k.container_cpu_usage, 1.5, "default", "web", "nginx"));
        ASSERT_OK(kl_metric_set(k.container_memory_working_set, 4096, "default", "web", "nginx"));
        out = render(m);
        ASSERT_NOT_NULL(out);
        ASSERT_CONTAINS(out, "# HELP kubelet_running_pods [ALPHA] Number of pods that have a running pod sandbox\n"
                             "# TYPE kubelet_running_pods gauge\nkubelet_running_pods 2\n");
        ASSERT_CONTAINS(out, "kubelet_running_containers{container_state=\"running\"} 3\n");
        ASSERT_CONTAINS(out, "kubelet_pod_start_duration_seconds_bucket{le=\"0.5\"} 0\n"
                             "kubelet_pod_start_duration_seconds_bucket{le=\"1\"} 1\n");
        ASSERT_CONTAINS(out, "kubelet_pod_start_duration_seconds_bucket{le=\"3600\"} 1\n"
                             "kubelet_pod_start_duration_seconds_bucket{le=\"+Inf\"} 1\n");
        ASSERT_CONTAINS(out, "kubelet_pod_worker_duration_seconds_bucket{operation_type=\"create\",le=\"0.025\"} 1\n");
        ASSERT_CONTAINS(out, "kubelet_runtime_operations_total{operation_type=\"run_podsandbox\"} 1\n");
        ASSERT_CONTAINS(out, "kubelet_runtime_operations_errors_total{operation_type=\"pull_image\"} 1\n");
        ASSERT_CONTAINS(
                out,
                "kubelet_runtime_operations_duration_seconds_bucket{operation_type=\"run_podsandbox\",le=\"0.1953125\"} 1\n");
        ASSERT_CONTAINS(out, "kubelet_started_containers_total{container_type=\"container\"} 1\n");
        ASSERT_CONTAINS(out,
                        "kubelet_started_containers_errors_total{code=\"NotFound\",container_type=\"container\"} 1\n");
        ASSERT_CONTAINS(out, "kubelet_evictions{eviction_signal=\"memory.available\"} 1\n");
        ASSERT_CONTAINS(out, "kubelet_node_condition{condition=\"MemoryPressure\"} 0\n");
        ASSERT_CONTAINS(
                out, "# TYPE container_cpu_usage_seconds_total counter\n"
                     "container_cpu_usage_seconds_total{container=\"nginx\",namespace=\"default\",pod=\"web\"} 1.5\n");
        ASSERT_CONTAINS(
                out,
                "container_memory_working_set_bytes{container=\"nginx\",namespace=\"default\",pod=\"web\"} 4096\n");
        ASSERT_CONTAINS(out, "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total ");
        ASSERT_CONTAINS(out, "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes ");
        ASSERT_CONTAINS(out, "process_open_fds ");
        ASSERT_CONTAINS(out, "process_max_fds ");
        ASSERT_CONTAINS(out, "process_start_time_seconds 1");
        /* the process values are real */
        ASSERT_FALSE(strstr(out, "process_resident_memory_bytes 0\n"));
        ASSERT_FALSE(strstr(out, "process_start_time_seconds 0\n"));
        printf("  rendered %zu bytes\n", strlen(out));
}

TEST(output_is_stable_and_every_line_well_formed) {
        _cleanup_(kl_metrics_freep) struct kl_metrics *m = kl_metrics_new();
        _cleanup_free_ char *a = NULL, *b = NULL;
        struct kl_kubelet_metrics k;
        char pod[32];

        ASSERT_OK(kl_metrics_register_kubelet(m, &k));
        for (int i = 0; i < 50; i++) {
                snprintf(pod, sizeof(pod), "pod-%d", (i * 37) % 50);
                ASSERT_OK(kl_metric_set(k.container_memory_working_set, i, "ns", pod, "c"));
                ASSERT_OK(kl_metric_observe(k.pod_worker_duration, i / 10.0, i % 2 ? "sync" : "create"));
        }
        a = render(m);
        b = render(m);
        ASSERT_STREQ(a, b);
        /* every line is a comment or "name{...} value" with no empty lines */
        for (char *line = a, *nl; *line; line = nl + 1) {
                nl = strchr(line, '\n');
                ASSERT_NOT_NULL(nl);
                ASSERT_TRUE(nl > line);
                if (line[0] == '#')
                        ASSERT_TRUE(strncmp(line, "# HELP ", 7) == 0 || strncmp(line, "# TYPE ", 7) == 0);
                else
                        ASSERT_NOT_NULL(memchr(line, ' ', (size_t) (nl - line)));
        }
        /* series sorted: pod-0 before pod-1 before pod-10 */
        ASSERT_TRUE(strstr(a, "pod=\"pod-0\"") < strstr(a, "pod=\"pod-1\""));
        ASSERT_TRUE(strstr(a, "pod=\"pod-1\"") < strstr(a, "pod=\"pod-10\""));
}

TEST(hot_path_speed) {
        _cleanup_(kl_metrics_freep) struct kl_metrics *m = kl_metrics_new();
        struct kl_kubelet_metrics k;
        struct timespec t0, t1;
        const int n = 1000000;
        double ns;

        ASSERT_OK(kl_metrics_register_kubelet(m, &k));
        ASSERT_OK(kl_metric_inc(k.runtime_operations, "list_containers"));
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int i = 0; i < n; i++)
                kl_metric_inc(k.runtime_operations, "list_containers");
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ns = ((double) (t1.tv_sec - t0.tv_sec) * 1e9 + (double) (t1.tv_nsec - t0.tv_nsec)) / n;
        printf("  kl_metric_inc on an existing series: %.0f ns\n", ns);
        ASSERT_TRUE(ns < 5000); /* generous: qemu-user and sanitizers are slow */
}

TEST_MAIN()
