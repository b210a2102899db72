/* SPDX-License-Identifier: Apache-2.0 */
#include "kubelet-lite/config.h"

#include <fcntl.h>
#include <string.h>

#include "lib/fileio.h"
#include "lib/macros.h"
#include "tests/lib/tests.h"

#define HEAD "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
#define SEC UINT64_C(1000000)
#define MSEC UINT64_C(1000)
#define Mi (INT64_C(1) << 20)

static void strv_free(char **v) {
        for (char **p = v; p && *p; p++)
                free(*p);
        free(v);
}

static size_t strv_len(char **v) {
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

/* Load yaml into a fresh config; returns the result, error text in err. */
static int load(struct kl_config *c, const char *yaml, char ***warnings, struct kl_error *err) {
        kl_config_init(c);
        kl_error_clear(err);
        return kl_config_load_buffer(c, "test.yaml", yaml, strlen(yaml), warnings, err);
}

/* Expect yaml to fail with exactly this message. */
static void expect_error(const char *yaml, const char *msg) {
        struct kl_config c;
        struct kl_error err = {};
        char **w = NULL;
        int r = load(&c, yaml, &w, &err);
        if (r >= 0 || !streq(kl_error_str(&err), msg))
                printf("  for:\n%s\n  got %d: %s\n", yaml, r, kl_error_str(&err));
        ASSERT_ERR(r, EINVAL);
        ASSERT_STREQ(kl_error_str(&err), msg);
        strv_free(w);
        kl_config_done(&c);
}

TEST(defaults) {
        struct kl_config c;
        kl_config_init(&c);
        ASSERT_STREQ(c.static_pod_path, KL_DEFAULT_MANIFEST_DIR);
        ASSERT_EQ(c.file_check_frequency_usec, 20 * SEC);
        ASSERT_STREQ(c.container_runtime_endpoint, KL_DEFAULT_ENDPOINT);
        ASSERT_EQ(c.runtime_request_timeout_usec, 120 * SEC);
        ASSERT_EQ(c.healthz_port, 10248);
        ASSERT_EQ(c.read_only_port, 0);
        ASSERT_TRUE(c.cgroups_per_qos);
        ASSERT_EQ(c.system_reserved.cpu_milli, -1);
        ASSERT_EQ(c.kube_reserved.memory, -1);
        /* upstream's Linux evictionHard defaults */
        ASSERT_TRUE(c.eviction_hard.memory_available.set);
        ASSERT_EQ(c.eviction_hard.memory_available.quantity, 100 * Mi);
        ASSERT_TRUE(c.eviction_hard.nodefs_available.set);
        ASSERT_EQ(c.eviction_hard.nodefs_available.quantity, -1);
        ASSERT_TRUE(c.eviction_hard.nodefs_available.percent == 10);
        ASSERT_TRUE(c.eviction_hard.nodefs_inodes_free.percent == 5);
        ASSERT_FALSE(c.eviction_hard.pid_available.set);
        ASSERT_FALSE(c.eviction_soft.memory_available.set);
        ASSERT_EQ(c.max_pods, 110);
        ASSERT_EQ(c.pod_pids_limit, -1);
        ASSERT_STREQ(c.cpu_manager_policy, "none");
        ASSERT_EQ(c.crashloop_initial_usec, 10 * SEC);
        ASSERT_EQ(c.crashloop_max_usec, 300 * SEC);
        ASSERT_EQ(c.container_log_max_size, 10 * Mi);
        ASSERT_EQ(c.container_log_max_files, 5);
        kl_config_done(&c);
}

TEST(every_key) {
        static const char yaml[] =
                HEAD "staticPodPath: /srv/manifests\n"
                     "fileCheckFrequency: 1m30s\n"
                     "containerRuntimeEndpoint: unix:///tmp/c.sock\n"
                     "runtimeRequestTimeout: 100ms\n"
                     "podLogsDir: /srv/logs\n"
                     "healthzBindAddress: 0.0.0.0\n"
                     "healthzPort: 0x2838\n"
                     "address: '::1'\n"
                     "readOnlyPort: 10255\n"
                     "cgroupsPerQOS: false\n"
                     "cgroupRoot: /edge\n"
                     "systemReserved: {cpu: 500m, memory: 256Mi, pid: \"100\", ephemeral-storage: 1Gi}\n"
                     "kubeReserved:\n  cpu: \"1\"\n  memory: 1G\n"
                     "evictionHard:\n  memory.available: 50Mi\n  pid.available: 10%\n"
                     "evictionSoft:\n  memory.available: 200Mi\n  nodefs.available: 15.5%\n"
                     "  nodefs.inodesFree: 1000\n"
                     "evictionSoftGracePeriod:\n  memory.available: 1m\n  nodefs.available: 90s\n"
                     "  nodefs.inodesFree: 2m\n  pid.available: 3s\n"
                     "evictionPressureTransitionPeriod: 30s\n"
                     "enforceNodeAllocatable: [pods]\n"
                     "reservedSystemCPUs: 0-1\n"
                     "maxPods: 0o20\n"
                     "podPidsLimit: 4096\n"
                     "cpuCFSQuotaPeriod: 50ms\n"
                     "cpuManagerPolicy: static\n"
                     "containerLogMaxSize: 5Mi\n"
                     "containerLogMaxFiles: 3\n"
                     "crashLoopBackOff:\n  maxContainerRestartPeriod: 1m\n"
                     "  initialContainerRestartPeriod: 500ms\n  resetPeriod: 2m\n"
                     "imagePullFallbackToLocal: false\n"
                     "imagePreloadDir: /srv/images\n"
                     "syncLoopStuckThreshold: 45s\n"
                     "strictManifests: true\n";
        struct kl_config c;
        struct kl_error err = {};
        char **w = NULL;

        ASSERT_OK(load(&c, yaml, &w, &err));
        ASSERT_EQ(strv_len(w), 0);
        ASSERT_STREQ(c.static_pod_path, "/srv/manifests");
        ASSERT_EQ(c.file_check_frequency_usec, 90 * SEC);
        ASSERT_STREQ(c.container_runtime_endpoint, "unix:///tmp/c.sock");
        ASSERT_EQ(c.runtime_request_timeout_usec, 100 * MSEC);
        ASSERT_STREQ(c.pod_logs_dir, "/srv/logs");
        ASSERT_STREQ(c.healthz_bind_address, "0.0.0.0");
        ASSERT_EQ(c.healthz_port, 10296);
        ASSERT_STREQ(c.address, "::1");
        ASSERT_EQ(c.read_only_port, 10255);
        ASSERT_FALSE(c.cgroups_per_qos);
        ASSERT_STREQ(c.cgroup_root, "/edge");
        ASSERT_EQ(c.system_reserved.cpu_milli, 500);
        ASSERT_EQ(c.system_reserved.memory, 256 * Mi);
        ASSERT_EQ(c.system_reserved.pid, 100);
        ASSERT_EQ(c.system_reserved.ephemeral, 1024 * Mi);
        ASSERT_EQ(c.kube_reserved.cpu_milli, 1000);
        ASSERT_EQ(c.kube_reserved.memory, 1000000000);
        ASSERT_EQ(c.kube_reserved.pid, -1);
        /* evictionHard replaces all defaults */
        ASSERT_EQ(c.eviction_hard.memory_available.quantity, 50 * Mi);
        ASSERT_FALSE(c.eviction_hard.nodefs_available.set);
        ASSERT_FALSE(c.eviction_hard.nodefs_inodes_free.set);
        ASSERT_TRUE(c.eviction_hard.pid_available.set);
        ASSERT_TRUE(c.eviction_hard.pid_available.percent == 10);
        ASSERT_EQ(c.eviction_soft.memory_available.quantity, 200 * Mi);
        ASSERT_TRUE(c.eviction_soft.nodefs_available.percent == 15.5);
        ASSERT_EQ(c.eviction_soft.nodefs_available.quantity, -1);
        ASSERT_EQ(c.eviction_soft.nodefs_inodes_free.quantity, 1000);
        ASSERT_FALSE(c.eviction_soft.pid_available.set);
        ASSERT_EQ(c.eviction_soft_grace_usec[0], 60 * SEC);
        ASSERT_EQ(c.eviction_soft_grace_usec[1], 90 * SEC);
        ASSERT_EQ(c.eviction_soft_grace_usec[2], 120 * SEC);
        ASSERT_EQ(c.eviction_soft_grace_usec[3], 3 * SEC);
        ASSERT_EQ(c.eviction_pressure_transition_usec, 30 * SEC);
        ASSERT_TRUE(c.enforce_node_allocatable_pods);
        ASSERT_STREQ(c.reserved_system_cpus, "0-1");
        ASSERT_EQ(c.max_pods, 16);
        ASSERT_EQ(c.pod_pids_limit, 4096);
        ASSERT_EQ(c.cpu_cfs_quota_period_usec, 50000);
        ASSERT_STREQ(c.cpu_manager_policy, "static");
        ASSERT_EQ(c.container_log_max_size, 5 * Mi);
        ASSERT_EQ(c.container_log_max_files, 3);
        ASSERT_EQ(c.crashloop_max_usec, 60 * SEC);
        ASSERT_EQ(c.crashloop_initial_usec, 500 * MSEC);
        ASSERT_EQ(c.crashloop_reset_usec, 120 * SEC);
        ASSERT_FALSE(c.image_pull_fallback_to_local);
        ASSERT_STREQ(c.image_preload_dir, "/srv/images");
        ASSERT_EQ(c.syncloop_stuck_usec, 45 * SEC);
        ASSERT_TRUE(c.strict_manifests);
        kl_config_done(&c);
        strv_free(w);
        printf("  all 30 keys read (hex and octal integers, flow and block mappings, percentages)\n");
}

TEST(shipped_config_loads) {
        struct kl_config c;
        struct kl_error err = {};
        char **w = NULL;
        kl_config_init(&c);
        int r = kl_config_load_file(&c, "kubelet-lite/kubelet-lite.yaml", &w, &err);
        if (r == -ENOENT)
                SKIP("run from the top of the tree");
        ASSERT_OK(r);
        ASSERT_EQ(strv_len(w), 0);
        ASSERT_EQ(c.read_only_port, 10255);
        ASSERT_EQ(c.eviction_hard.memory_available.quantity, 50 * Mi);
        ASSERT_FALSE(c.eviction_hard.nodefs_inodes_free.set);
        kl_config_done(&c);
        strv_free(w);
}

TEST(durations) {
        struct {
                const char *s;
                uint64_t usec;
        } ok[] = {
                {"0", 0},
                {"+0", 0},
                {"0s", 0},
                {"20s", 20 * SEC},
                {"1m30s", 90 * SEC},
                {"100ms", 100000},
                {"1.5h", 5400 * SEC},
                {"1h2m3s4ms5us6ns", 3723 * SEC + 4005},
                {"2us", 2},
                {"3\xc2\xb5s", 3},
                {"4\xce\xbcs", 4},
                {".5s", 500000},
                {"5.s", 5 * SEC},
                {"+5s", 5 * SEC},
                {"1ns", 0},
                {"1500ns", 2},
                {"0.000001s", 1},
                {"1s1s", 2 * SEC},
                {"2562047h", UINT64_C(2562047) * 3600 * SEC},
                {"1.0000000000000000000001s", SEC},
        };
        const char *bad[] = {"",    "5",     "-1s", "s",      "1x", "1e3s", "nans", "infs", " 5s",
                             "5s ", "0x10s", "5m5", "1.2.3s", "+",  "++1s", ".s",   "1S",   "1 s"};
        const char *range[] = {"2562048h", "99999999999999999999s", "9223372036s1s", "106751d"};
        uint64_t v;

        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                v = 12345;
                int r = kl_parse_duration(ok[i].s, &v);
                if (r < 0 || v != ok[i].usec)
                        printf("  '%s': %d %llu\n", ok[i].s, r, (unsigned long long) v);
                ASSERT_OK(r);
                ASSERT_EQ(v, ok[i].usec);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                v = 12345;
                ASSERT_ERR(kl_parse_duration(bad[i], &v), EINVAL);
                ASSERT_EQ(v, 12345);
        }
        ASSERT_ERR(kl_parse_duration(NULL, &v), EINVAL);
        ASSERT_ERR(kl_parse_duration(range[0], &v), ERANGE);
        ASSERT_ERR(kl_parse_duration(range[1], &v), ERANGE);
        ASSERT_ERR(kl_parse_duration(range[2], &v), ERANGE);
        ASSERT_ERR(kl_parse_duration(range[3], &v), EINVAL); /* no "d" in Go */
        printf("  %zu valid, %zu invalid, 3 out of range (Go's int64 nanoseconds)\n", ELEMENTSOF(ok), ELEMENTSOF(bad));
}

TEST(invalid_values_name_file_line_col_and_key) {
        expect_error(HEAD "healthzPort: abc\n", "test.yaml:3:14: healthzPort: must be an integer, got 'abc'");
        expect_error(HEAD "readOnlyPort: 70000\n",
                     "test.yaml:3:15: readOnlyPort: integer '70000' out of range [0, 65535]");
        expect_error(HEAD "maxPods: -1\n", "test.yaml:3:10: maxPods: integer '-1' out of range [0, 100000]");
        expect_error(HEAD "maxPods: +\n", "test.yaml:3:10: maxPods: must be an integer, got '+'");
        expect_error(HEAD "podPidsLimit: -2\n",
                     "test.yaml:3:15: podPidsLimit: integer '-2' out of range [-1, 9223372036854775807]");
        expect_error(HEAD "podPidsLimit: 99999999999999999999\n",
                     "test.yaml:3:15: podPidsLimit: integer '99999999999999999999' out of range");
        expect_error(HEAD "fileCheckFrequency: 20\n",
                     "test.yaml:3:21: fileCheckFrequency: invalid duration '20' (want e.g. 20s, 1m30s, 100ms)");
        expect_error(HEAD "\nruntimeRequestTimeout: -5s\n",
                     "test.yaml:4:24: runtimeRequestTimeout: invalid duration '-5s' (want e.g. 20s, 1m30s, "
                     "100ms)");
        expect_error(HEAD "cgroupsPerQOS: yes\n", "test.yaml:3:16: cgroupsPerQOS: must be true or false, got 'yes'");
        expect_error(HEAD "staticPodPath: [a]\n", "test.yaml:3:16: staticPodPath: must be a string");
        expect_error(HEAD "systemReserved:\n  cpu: lots\n",
                     "test.yaml:4:8: systemReserved.cpu: invalid quantity 'lots'");
        expect_error(HEAD "kubeReserved: 5\n",
                     "test.yaml:3:15: kubeReserved: must be a mapping of resource names to quantities");
        expect_error(HEAD "kubeReserved: {memory: [1]}\n", "test.yaml:3:24: kubeReserved.memory: must be a quantity");
        expect_error(HEAD "evictionHard:\n  memory.available: 101%\n",
                     "test.yaml:4:21: evictionHard.memory.available: invalid threshold '101%' (want a quantity "
                     "such as 100Mi or a percentage such as 10%)");
        expect_error(HEAD "evictionSoftGracePeriod:\n  memory.available: soon\n",
                     "test.yaml:4:21: evictionSoftGracePeriod.memory.available: invalid duration 'soon' (want "
                     "e.g. 20s, 1m30s, 100ms)");
        expect_error(HEAD "evictionSoftGracePeriod: 1m\n",
                     "test.yaml:3:26: evictionSoftGracePeriod: must be a mapping of signals to durations");
        expect_error(HEAD "enforceNodeAllocatable: pods\n", "test.yaml:3:25: enforceNodeAllocatable: must be a list");
        expect_error(HEAD "enforceNodeAllocatable: [pods, cats]\n",
                     "test.yaml:3:32: enforceNodeAllocatable: unknown value 'cats'");
        expect_error(HEAD "containerLogMaxSize: 0\n", "test.yaml:3:22: containerLogMaxSize: invalid quantity '0'");
        expect_error(HEAD "containerLogMaxFiles: 1\n",
                     "test.yaml:3:23: containerLogMaxFiles: integer '1' out of range [2, 1000]");
        expect_error(HEAD "crashLoopBackOff: 5m\n", "test.yaml:3:19: crashLoopBackOff: must be a mapping");
        expect_error(HEAD "crashLoopBackOff:\n  resetPeriod: x\n",
                     "test.yaml:4:16: crashLoopBackOff.resetPeriod: invalid duration 'x' (want e.g. 20s, 1m30s, "
                     "100ms)");
        printf("  22 invalid values, each reported as file:line:col: key: message\n");
}

TEST(document_level_errors) {
        expect_error("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: Pod\n",
                     "test.yaml:2:7: kind: must be KubeletConfiguration, got 'Pod'");
        expect_error("kind: KubeletConfiguration\napiVersion: v1\n",
                     "test.yaml:2:13: apiVersion: must be kubelet.config.k8s.io/v1beta1, got 'v1'");
        expect_error("kind: KubeletConfiguration\n",
                     "test.yaml:1:1: apiVersion: must be kubelet.config.k8s.io/v1beta1, got ''");
        expect_error("- a\n- b\n", "test.yaml: not a KubeletConfiguration mapping");
        expect_error("", "test.yaml: not a KubeletConfiguration mapping");

        struct kl_config c;
        struct kl_error err = {};
        int r = load(&c, HEAD "maxPods: [\n", NULL, &err);
        ASSERT_TRUE(r < 0);
        ASSERT_TRUE(strncmp(kl_error_str(&err), "test.yaml:", 10) == 0);
        printf("  syntax error: %s\n", kl_error_str(&err));
        kl_config_done(&c);
        r = load(&c, HEAD "a: &x 1\nb: *x\n", NULL, &err);
        ASSERT_TRUE(r < 0);
        ASSERT_CONTAINS(kl_error_str(&err), "anchors");
        kl_config_done(&c);
        r = load(&c, HEAD "---\n" HEAD, NULL, &err);
        ASSERT_TRUE(r < 0);
        kl_config_done(&c);
        r = load(&c, HEAD "maxPods: 5\nmaxPods: 6\n", NULL, &err);
        ASSERT_TRUE(r < 0);
        printf("  duplicate key: %s\n", kl_error_str(&err));
        kl_config_done(&c);
}

TEST(unknown_keys_are_one_summary_warning) {
        struct kl_config c;
        struct kl_error err = {};
        char **w = NULL;
        static const char yaml[] = HEAD "authentication:\n  anonymous: {enabled: false}\n"
                                        "serializeImagePulls: false\n"
                                        "systemReserved: {cpu: 1, hugepages-2Mi: 1Gi}\n"
                                        "evictionHard: {imagefs.available: 15%, memory.available: 1Gi}\n"
                                        "enforceNodeAllocatable: [pods, system-reserved]\n"
                                        "crashLoopBackOff: {resetPeriod: 1m, jitter: 1s}\n"
                                        "maxPods: 5\n";
        ASSERT_OK(load(&c, yaml, &w, &err));
        ASSERT_EQ(strv_len(w), 2);
        ASSERT_STREQ(w[0], "test.yaml:8:32: enforceNodeAllocatable \"system-reserved\" is not enforced");
        ASSERT_STREQ(w[1], "test.yaml: ignoring 5 keys kubelet-lite does not implement: authentication, "
                           "serializeImagePulls, systemReserved.hugepages-2Mi, evictionHard.imagefs.available, "
                           "crashLoopBackOff.jitter");
        ASSERT_EQ(c.max_pods, 5); /* the rest still applies */
        ASSERT_EQ(c.eviction_hard.memory_available.quantity, 1024 * Mi);
        ASSERT_EQ(c.crashloop_reset_usec, 60 * SEC);
        for (size_t i = 0; w[i]; i++)
                printf("  warning: %s\n", w[i]);
        strv_free(w);
        kl_config_done(&c);
        /* Nobody asking for warnings must not crash. */
        ASSERT_OK(load(&c, yaml, NULL, &err));
        kl_config_done(&c);
}

/* What kubeadm (v1.28) writes to /var/lib/kubelet/config.yaml, written here
 * by hand from its defaults; cgroupDriver changed to cgroupfs (see below). */
static const char kubeadm_yaml[] = "apiVersion: kubelet.config.k8s.io/v1beta1\n"
                                   "authentication:\n"
                                   "  anonymous:\n"
                                   "    enabled: false\n"
                                   "  webhook:\n"
                                   "    cacheTTL: 0s\n"
                                   "    enabled: true\n"
                                   "  x509:\n"
                                   "    clientCAFile: /etc/kubernetes/pki/ca.crt\n"
                                   "authorization:\n"
                                   "  mode: Webhook\n"
                                   "  webhook:\n"
                                   "    cacheAuthorizedTTL: 0s\n"
                                   "    cacheUnauthorizedTTL: 0s\n"
                                   "cgroupDriver: cgroupfs\n"
                                   "clusterDNS:\n"
                                   "- 10.96.0.10\n"
                                   "clusterDomain: cluster.local\n"
                                   "containerRuntimeEndpoint: \"\"\n"
                                   "cpuManagerReconcilePeriod: 0s\n"
                                   "evictionPressureTransitionPeriod: 0s\n"
                                   "fileCheckFrequency: 0s\n"
                                   "healthzBindAddress: 127.0.0.1\n"
                                   "healthzPort: 10248\n"
                                   "httpCheckFrequency: 0s\n"
                                   "imageMaximumGCAge: 0s\n"
                                   "imageMinimumGCAge: 0s\n"
                                   "kind: KubeletConfiguration\n"
                                   "logging:\n"
                                   "  flushFrequency: 0\n"
                                   "  options:\n"
                                   "    json:\n"
                                   "      infoBufferSize: \"0\"\n"
                                   "  verbosity: 0\n"
                                   "memorySwap: {}\n"
                                   "nodeStatusReportFrequency: 0s\n"
                                   "nodeStatusUpdateFrequency: 0s\n"
                                   "rotateCertificates: true\n"
                                   "runtimeRequestTimeout: 0s\n"
                                   "shutdownGracePeriod: 0s\n"
                                   "shutdownGracePeriodCriticalPods: 0s\n"
                                   "staticPodPath: /etc/kubernetes/manifests\n"
                                   "streamingConnectionIdleTimeout: 0s\n"
                                   "syncFrequency: 0s\n"
                                   "volumeStatsAggPeriod: 0s\n";

TEST(kubeadm_config_zero_values_mean_defaults) {
        struct kl_config c;
        struct kl_error err = {};
        char **w = NULL;

        ASSERT_OK(load(&c, kubeadm_yaml, &w, &err));
        /* upstream's SetDefaults_KubeletConfiguration: 0s and "" are the defaults */
        ASSERT_EQ(c.file_check_frequency_usec, 20 * SEC);
        ASSERT_EQ(c.runtime_request_timeout_usec, 120 * SEC);
        ASSERT_EQ(c.eviction_pressure_transition_usec, 300 * SEC);
        ASSERT_STREQ(c.container_runtime_endpoint, KL_DEFAULT_ENDPOINT);
        ASSERT_STREQ(c.static_pod_path, "/etc/kubernetes/manifests");
        ASSERT_EQ(c.healthz_port, 10248);
        ASSERT_EQ(c.verbosity, 0);
        /* imageMinimumGCAge: 0s is upstream's 2m; imageMaximumGCAge: 0s is off */
        ASSERT_EQ(c.image_minimum_gc_age_usec, 120 * SEC);
        ASSERT_EQ(c.image_maximum_gc_age_usec, 0);
        /* one summary line, naming what is ignored */
        ASSERT_EQ(strv_len(w), 1);
        printf("  %s\n", w[0]);
        ASSERT_TRUE(strncmp(w[0],
                            "test.yaml: ignoring 15 keys kubelet-lite does not implement: authentication, "
                            "authorization, clusterDNS, clusterDomain, cpuManagerReconcilePeriod, ",
                            strlen("test.yaml: ignoring 15 keys kubelet-lite does not implement: authentication, "
                                   "authorization, clusterDNS, clusterDomain, cpuManagerReconcilePeriod, ")) == 0);
        ASSERT_CONTAINS(w[0], "volumeStatsAggPeriod");
        strv_free(w);
        kl_config_done(&c);

        ASSERT_OK(load(&c,
                       HEAD "containerLogMonitorInterval: 0s\nmaxPods: 0\ncontainerLogMaxSize: \"\"\n"
                            "cpuManagerPolicy: \"\"\npodLogsDir: \"\"\ncpuCFSQuotaPeriod: 0s\n"
                            "logging: {verbosity: 4, format: text}\n",
                       &w, &err));
        ASSERT_EQ(c.container_log_monitor_interval_usec, 10 * SEC);
        ASSERT_EQ(c.max_pods, 110);
        ASSERT_EQ(c.container_log_max_size, 10 * Mi);
        ASSERT_STREQ(c.cpu_manager_policy, "none");
        ASSERT_STREQ(c.pod_logs_dir, KL_DEFAULT_POD_LOGS_DIR);
        ASSERT_EQ(c.cpu_cfs_quota_period_usec, 100000);
        ASSERT_EQ(c.verbosity, 4);
        ASSERT_EQ(strv_len(w), 0);
        kl_config_done(&c);
        expect_error(HEAD "containerLogMonitorInterval: 500ms\n",
                     "test.yaml:3:30: containerLogMonitorInterval: must be at least 1s (0 means the default, 10s)");
        expect_error(HEAD "logging: {format: json}\n", "test.yaml:3:19: logging.format: only text is supported, got "
                                                       "'json'");
}

/* upstream's defaults (SetDefaults_KubeletConfiguration) and validation
 * (ValidateKubeletConfiguration) of the image GC keys */
TEST(image_gc_keys) {
        struct kl_config c;
        struct kl_error err = {};
        char **w = NULL;

        ASSERT_OK(load(&c, HEAD, &w, &err));
        ASSERT_EQ(c.image_gc_high_threshold_percent, 85);
        ASSERT_EQ(c.image_gc_low_threshold_percent, 80);
        ASSERT_EQ(c.image_minimum_gc_age_usec, 120 * SEC);
        ASSERT_EQ(c.image_maximum_gc_age_usec, 0);
        ASSERT_NULL(c.node_reclaim);
        strv_free(w);
        kl_config_done(&c);

        ASSERT_OK(load(&c,
                       HEAD "imageGCHighThresholdPercent: 60\nimageGCLowThresholdPercent: 40\n"
                            "imageMinimumGCAge: 30s\nimageMaximumGCAge: 168h\n",
                       &w, &err));
        ASSERT_EQ(c.image_gc_high_threshold_percent, 60);
        ASSERT_EQ(c.image_gc_low_threshold_percent, 40);
        ASSERT_EQ(c.image_minimum_gc_age_usec, 30 * SEC);
        ASSERT_EQ(c.image_maximum_gc_age_usec, 168 * 3600 * SEC);
        ASSERT_EQ(strv_len(w), 0); /* implemented: no "ignoring" warning */
        strv_free(w);
        kl_config_done(&c);

        /* 100 is valid (it turns periodic image GC off), so is 0 for low */
        ASSERT_OK(load(&c, HEAD "imageGCHighThresholdPercent: 100\nimageGCLowThresholdPercent: 0\n", NULL, &err));
        ASSERT_EQ(c.image_gc_high_threshold_percent, 100);
        ASSERT_EQ(c.image_gc_low_threshold_percent, 0);
        kl_config_done(&c);

        expect_error(HEAD "imageGCHighThresholdPercent: 101\n",
                     "test.yaml:3:30: imageGCHighThresholdPercent: 101 must be between 0 and 100, inclusive");
        expect_error(HEAD "imageGCLowThresholdPercent: -1\n",
                     "test.yaml:3:29: imageGCLowThresholdPercent: -1 must be between 0 and 100, inclusive");
        /* low must be below high, as upstream (equal is refused too) */
        expect_error(HEAD "imageGCHighThresholdPercent: 70\n",
                     "test.yaml:3:30: imageGCLowThresholdPercent: 80 must be less than imageGCHighThresholdPercent 70");
        expect_error(HEAD "imageGCHighThresholdPercent: 50\nimageGCLowThresholdPercent: 50\n",
                     "test.yaml:4:29: imageGCLowThresholdPercent: 50 must be less than imageGCHighThresholdPercent 50");
        expect_error(HEAD "imageGCHighThresholdPercent: high\n",
                     "test.yaml:3:30: imageGCHighThresholdPercent: must be an integer, got 'high'");
        expect_error(HEAD "imageMinimumGCAge: soon\n",
                     "test.yaml:3:20: imageMinimumGCAge: invalid duration 'soon' (want e.g. 20s, 1m30s, 100ms)");
        expect_error(HEAD "imageMaximumGCAge: 1m\n",
                     "test.yaml:3:20: imageMaximumGCAge: 60s must be greater than imageMinimumGCAge 120s");
        expect_error(HEAD "imageMinimumGCAge: 5m\nimageMaximumGCAge: 5m\n",
                     "test.yaml:4:20: imageMaximumGCAge: 300s must be greater than imageMinimumGCAge 300s");
}

TEST(cgroup_driver_systemd_is_refused_naming_the_fix) {
        expect_error(HEAD "cgroupDriver: systemd\n",
                     "test.yaml:3:15: cgroupDriver: 'systemd' is not supported: kubelet-lite manages pod cgroups "
                     "through cgroupfs; set cgroupDriver: cgroupfs (and SystemdCgroup = false in containerd's runc "
                     "options)");
        expect_error(HEAD "cgroupDriver: docker\n", "test.yaml:3:15: cgroupDriver: must be cgroupfs, got 'docker'");
        struct kl_config c;
        struct kl_error err = {};
        ASSERT_OK(load(&c, HEAD "cgroupDriver: cgroupfs\n", NULL, &err));
        kl_config_done(&c);
}

TEST(manifest_suffixes) {
        struct kl_config c;
        struct kl_error err = {};
        ASSERT_OK(load(&c, HEAD "manifestSuffixes: [.yaml, .manifest]\n", NULL, &err));
        ASSERT_EQ(strv_len(c.manifest_suffixes), 2);
        ASSERT_STREQ(c.manifest_suffixes[1], ".manifest");
        kl_config_done(&c);
        ASSERT_OK(load(&c, HEAD "manifestSuffixes: ['*']\n", NULL, &err));
        ASSERT_STREQ(c.manifest_suffixes[0], "*");
        kl_config_done(&c);
        expect_error(HEAD "manifestSuffixes: []\n",
                     "test.yaml:3:19: manifestSuffixes: must be a non-empty list of suffixes such as .yaml, or \"*\"");
        expect_error(HEAD "manifestSuffixes: [a/b]\n",
                     "test.yaml:3:20: manifestSuffixes: invalid suffix 'a/b' (want a name ending such as .manifest, "
                     "or \"*\" for every file)");
}

TEST(eviction_thresholds_and_percentages) {
        struct kl_config c;
        struct kl_error err = {};

        ASSERT_OK(load(&c,
                       HEAD "evictionHard: {nodefs.available: .5%, nodefs.inodesFree: 0%, "
                            "memory.available: 100%, pid.available: \"1k\"}\n",
                       NULL, &err));
        ASSERT_TRUE(c.eviction_hard.nodefs_available.percent == 0.5);
        ASSERT_TRUE(c.eviction_hard.nodefs_inodes_free.set);
        ASSERT_TRUE(c.eviction_hard.nodefs_inodes_free.percent == 0);
        ASSERT_TRUE(c.eviction_hard.memory_available.percent == 100);
        ASSERT_EQ(c.eviction_hard.memory_available.quantity, -1);
        ASSERT_EQ(c.eviction_hard.pid_available.quantity, 1000);
        kl_config_done(&c);

        /* evictionSoft is merged with what was there (nothing by default). */
        ASSERT_OK(load(&c, HEAD "evictionSoft: {memory.available: 300Mi}\n", NULL, &err));
        ASSERT_TRUE(c.eviction_soft.memory_available.set);
        ASSERT_FALSE(c.eviction_soft.nodefs_available.set);
        ASSERT_TRUE(c.eviction_hard.nodefs_available.set); /* defaults kept without evictionHard */
        kl_config_done(&c);

        /* An empty evictionHard turns every default off, as upstream. */
        ASSERT_OK(load(&c, HEAD "evictionHard: {}\n", NULL, &err));
        ASSERT_FALSE(c.eviction_hard.memory_available.set);
        ASSERT_FALSE(c.eviction_hard.nodefs_available.set);
        kl_config_done(&c);

        const char *bad[] = {"101%", "-1%", "nan%", "inf%", "%", "abc", "10%%", " 5%", "x5%", "-5Mi"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char yaml[256];
                snprintf(yaml, sizeof(yaml), HEAD "evictionHard: {memory.available: \"%s\"}\n", bad[i]);
                int r = load(&c, yaml, NULL, &err);
                if (r >= 0)
                        printf("  accepted '%s'\n", bad[i]);
                ASSERT_ERR(r, EINVAL);
                ASSERT_CONTAINS(kl_error_str(&err), "evictionHard.memory.available: invalid threshold");
                kl_config_done(&c);
        }
        printf("  %zu bad thresholds rejected (NaN%% included)\n", ELEMENTSOF(bad));
}

TEST(load_file_errors) {
        struct kl_config c;
        struct kl_error err = {};
        char path[] = "/tmp/kl-test-config-XXXXXX";
        char **w = (char **) 1; /* set to NULL even on failure */

        kl_config_init(&c);
        ASSERT_ERR(kl_config_load_file(&c, "/nonexistent/kubelet.yaml", &w, &err), ENOENT);
        ASSERT_NULL(w);
        ASSERT_STREQ(kl_error_str(&err), "/nonexistent/kubelet.yaml: No such file or directory");
        int fd = mkstemp(path);
        ASSERT_OK(fd);
        char *big = malloc(300 * 1024);
        memset(big, '#', 300 * 1024);
        ASSERT_OK(kl_write_all(fd, big, 300 * 1024));
        close(fd);
        ASSERT_ERR(kl_config_load_file(&c, path, NULL, &err), EFBIG);
        ASSERT_CONTAINS(kl_error_str(&err), "larger than 262144 bytes");
        ASSERT_ERR(kl_config_load_buffer(&c, "mem", big, 300 * 1024, NULL, &err), EFBIG);
        ASSERT_OK(kl_write_file_atomic_at(AT_FDCWD, path, HEAD "maxPods: 7\n", strlen(HEAD "maxPods: 7\n"), 0644));
        ASSERT_OK(kl_config_load_file(&c, path, NULL, &err));
        ASSERT_EQ(c.max_pods, 7);
        unlink(path);
        free(big);
        kl_config_done(&c);
}

TEST(finalize) {
        struct kl_config c;
        struct kl_error err = {};

        kl_config_init(&c);
        c.hostname_override = strdup("Edge-Node-01");
        ASSERT_OK(kl_config_finalize(&c, &err));
        ASSERT_STREQ(c.node_name, "edge-node-01");
        free(c.hostname_override);
        c.hostname_override = NULL;
        ASSERT_OK(kl_config_finalize(&c, &err));
        ASSERT_TRUE(strlen(c.node_name) > 0); /* from gethostname() */
        free(c.cpu_manager_policy);
        c.cpu_manager_policy = strdup("dynamic");
        ASSERT_ERR(kl_config_finalize(&c, &err), EINVAL);
        ASSERT_STREQ(kl_error_str(&err), "cpuManagerPolicy 'dynamic' is not one of none, static");
        free(c.cpu_manager_policy);
        c.cpu_manager_policy = strdup("static");
        c.healthz_port = 65536;
        ASSERT_ERR(kl_config_finalize(&c, &err), EINVAL);
        c.healthz_port = 0;
        c.max_pods = 0;
        ASSERT_ERR(kl_config_finalize(&c, &err), EINVAL);
        kl_config_done(&c);
        kl_config_done(&c); /* twice is fine */
}

TEST_MAIN()
