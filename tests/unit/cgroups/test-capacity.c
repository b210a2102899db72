/* SPDX-License-Identifier: Apache-2.0 */
#include "cgroups/capacity.h"

#include <errno.h>

#include "cgroups/cgroup.h"
#include "cgtest.h"
#include "tests/lib/tests.h"

#define MiB (1024LL * 1024)
#define GiB (1024 * MiB)

static struct kl_cg_capacity cap_of(int64_t ncpu, int64_t mem, int64_t pids, int64_t eph) {
        struct kl_cg_capacity c = {.cpu_milli = ncpu * 1000, .memory = mem, .pids = pids, .ephemeral_storage = eph};
        kl_cg_cpuset_zero(&c.cpus);
        for (int64_t i = 0; i < ncpu; i++)
                kl_cg_cpuset_add(&c.cpus, (unsigned) i);
        return c;
}

TEST(config_defaults_are_upstreams) {
        struct kl_cg_node_config c;
        kl_cg_node_config_init(&c);
        ASSERT_STREQ(c.cgroup_root, "/");
        ASSERT_TRUE(c.cgroups_per_qos);
        ASSERT_EQ(c.eviction_memory_available.bytes, 100 * MiB);
        ASSERT_EQ((int) c.eviction_nodefs_available.percent, 10);
        ASSERT_TRUE(c.enforce_pods);
        ASSERT_EQ(c.max_pods, 110);
        ASSERT_EQ(c.pod_pids_limit, -1);
        ASSERT_EQ(c.cfs_period_us, 100000);
        ASSERT_TRUE(c.cfs_quota);
        ASSERT_TRUE(kl_cg_cpuset_empty(&c.reserved_cpus));
}

TEST(meminfo_parse) {
        const char mi[] = "MemTotal:        2014216 kB\nMemFree:          123456 kB\n";
        int64_t v;
        ASSERT_OK(kl_cg_parse_meminfo_total(mi, sizeof(mi) - 1, &v));
        ASSERT_EQ(v, 2014216LL * 1024);
        const char mi2[] = "MemFree: 1 kB\nMemTotal: 4 kB";
        ASSERT_OK(kl_cg_parse_meminfo_total(mi2, sizeof(mi2) - 1, &v));
        ASSERT_EQ(v, 4096);
        ASSERT_ERR(kl_cg_parse_meminfo_total("MemFree: 1 kB\n", 14, &v), ENOENT);
        ASSERT_ERR(kl_cg_parse_meminfo_total("MemTotal: x kB\n", 15, &v), EINVAL);
        ASSERT_ERR(kl_cg_parse_meminfo_total("MemTotal: 12 MB\n", 16, &v), EINVAL);
        ASSERT_ERR(kl_cg_parse_meminfo_total("MemTotal: 99999999999999999999 kB\n", 35, &v), ERANGE);
}

TEST(capacity_from_files) {
        _cleanup_free_ char *d = cgt_tmpdir();
        char mi[512], pm[512], tm[512], on[512];
        struct kl_cg_capacity cap;
        struct kl_error e = {0};

        ASSERT_NOT_NULL(d);
        cgt_put(d, "meminfo", "MemTotal:  1048576 kB\n");
        cgt_put(d, "pid_max", "4194304\n");
        cgt_put(d, "threads-max", "15000\n");
        cgt_put(d, "online", "0-3\n");
        snprintf(mi, sizeof(mi), "%s/meminfo", d);
        snprintf(pm, sizeof(pm), "%s/pid_max", d);
        snprintf(tm, sizeof(tm), "%s/threads-max", d);
        snprintf(on, sizeof(on), "%s/online", d);
        struct kl_cg_capacity_sources src = {
                .meminfo = mi, .pid_max = pm, .threads_max = tm, .cpu_online = on, .nodefs = d, .no_affinity = true};
        ASSERT_OK(kl_cg_capacity_read(NULL, &src, &cap, &e));
        ASSERT_EQ(cap.cpu_milli, 4000);
        ASSERT_EQ(cap.memory, 1 * GiB);
        ASSERT_EQ(cap.pids, 15000); /* min(pid_max, threads-max) */
        ASSERT_GE(cap.ephemeral_storage, 1);

        cgt_put(d, "threads-max", "999999999\n");
        ASSERT_OK(kl_cg_capacity_read(NULL, &src, &cap, &e));
        ASSERT_EQ(cap.pids, 4194304);

        cgt_put(d, "meminfo", "nothing here\n");
        ASSERT_ERR(kl_cg_capacity_read(NULL, &src, &cap, &e), ENOENT);
        ASSERT_CONTAINS(e.msg, "MemTotal");
        cgt_rm_rf(d);
}

TEST(capacity_cpus_from_cgroup_cpuset) {
        _cleanup_free_ char *d = cgt_tmpdir();
        char root[512], mi[512], pm[512];
        struct kl_cg_node_config cfg;
        struct kl_cg_capacity cap;
        struct kl_error e = {0};
        struct kl_cg *cg = NULL;
        char buf[64];

        ASSERT_NOT_NULL(d);
        snprintf(root, sizeof(root), "%s/cg", d);
        cgt_put(d, "cg/cgroup.controllers", "cpuset cpu memory pids\n");
        cgt_put(d, "cg/cpuset.cpus.effective", "0-7\n");
        cgt_put(d, "meminfo", "MemTotal: 1024 kB\n");
        cgt_put(d, "pid", "100\n");
        snprintf(mi, sizeof(mi), "%s/meminfo", d);
        snprintf(pm, sizeof(pm), "%s/pid", d);
        kl_cg_node_config_init(&cfg);
        cfg.cgroup_root = "/kubelet-lite/nested";
        ASSERT_OK(kl_cg_open(root, &cfg, KL_CG_FAKE, &cg, &e));
        struct kl_cg_capacity_sources src = {
                .meminfo = mi, .pid_max = pm, .threads_max = pm, .cpu_online = "/nonexistent", .no_affinity = true};
        /* cgroupRoot does not exist yet: the mount root's cpuset is used */
        ASSERT_OK(kl_cg_capacity_read(cg, &src, &cap, &e));
        kl_cg_cpuset_format(&cap.cpus, buf, sizeof(buf));
        ASSERT_STREQ(buf, "0-7");
        /* a parent restricted to fewer CPUs wins */
        cgt_put(d, "cg/kubelet-lite/cpuset.cpus.effective", "2-3,6\n");
        ASSERT_OK(kl_cg_capacity_read(cg, &src, &cap, &e));
        kl_cg_cpuset_format(&cap.cpus, buf, sizeof(buf));
        ASSERT_STREQ(buf, "2-3,6");
        ASSERT_EQ(cap.cpu_milli, 3000);
        ASSERT_EQ(cap.ephemeral_storage, -1);
        kl_cg_free(cg);
        cgt_rm_rf(d);
}

TEST(capacity_real_host) {
        struct kl_cg_capacity cap;
        struct kl_error e = {0};
        ASSERT_OK(kl_cg_capacity_read(NULL, NULL, &cap, &e));
        ASSERT_GE(cap.cpu_milli, 1000);
        ASSERT_GE(cap.memory, 16 * MiB);
        ASSERT_GE(cap.pids, 100);
        printf("  this host: %lld milliCPU, %lld bytes, %lld pids\n", (long long) cap.cpu_milli, (long long) cap.memory,
               (long long) cap.pids);
}

TEST(threshold_bytes) {
        struct kl_cg_threshold t = {.bytes = 100 * MiB, .percent = -1};
        ASSERT_EQ(kl_cg_threshold_bytes(&t, 8 * GiB), 100 * MiB);
        t = (struct kl_cg_threshold){.bytes = -1, .percent = 10};
        /* upstream keeps 10% as float32 0.1 (0.100000001490116...):
         * 8GiB * that = 858993472, not 858993459 */
        ASSERT_EQ(kl_cg_threshold_bytes(&t, 8 * GiB), 858993472);
        t = (struct kl_cg_threshold){.bytes = -1, .percent = 50};
        ASSERT_EQ(kl_cg_threshold_bytes(&t, 1000), 500);
        t = (struct kl_cg_threshold){.bytes = -1, .percent = -1};
        ASSERT_EQ(kl_cg_threshold_bytes(&t, 1000), 0);
}

TEST(allocatable_worked_example) {
        /* 4 CPUs, 4GiB, systemReserved cpu 500m mem 256Mi, kubeReserved cpu
         * 250m mem 128Mi, evictionHard memory.available 100Mi:
         *   cpu    4000 - 500 - 250            = 3250m
         *   memory 4096Mi - 256 - 128 - 100Mi  = 3612Mi */
        struct kl_cg_node_config c;
        struct kl_cg_capacity cap = cap_of(4, 4 * GiB, 32768, -1);
        struct kl_cg_allocatable a;
        struct kl_cg_kubepods_limits k;
        struct kl_error e = {0};

        kl_cg_node_config_init(&c);
        c.system_reserved = (struct kl_cg_reserved){.cpu_milli = 500, .memory = 256 * MiB, .pids = 1000};
        c.kube_reserved = (struct kl_cg_reserved){.cpu_milli = 250, .memory = 128 * MiB};
        ASSERT_OK(kl_cg_node_allocatable(&c, &cap, &a, &e));
        ASSERT_EQ(a.cpu_milli, 3250);
        ASSERT_EQ(a.memory, 3612 * MiB);
        ASSERT_EQ(a.pods, 110);
        ASSERT_EQ(a.ephemeral_storage, -1);

        /* kubepods: no eviction threshold subtracted */
        kl_cg_kubepods_limits(&c, &cap, &k);
        ASSERT_EQ(k.cpu_milli, 3250);
        ASSERT_EQ(k.memory, 3712 * MiB);
        ASSERT_EQ(k.pids, 31768);

        /* not enforced: kubepods gets the whole capacity */
        c.enforce_pods = false;
        kl_cg_kubepods_limits(&c, &cap, &k);
        ASSERT_EQ(k.cpu_milli, 4000);
        ASSERT_EQ(k.memory, 4 * GiB);
        ASSERT_EQ(k.pids, 32768);
        /* ... while allocatable does not change */
        ASSERT_OK(kl_cg_node_allocatable(&c, &cap, &a, &e));
        ASSERT_EQ(a.cpu_milli, 3250);
}

TEST(allocatable_percent_eviction_and_nodefs) {
        struct kl_cg_node_config c;
        struct kl_cg_capacity cap = cap_of(2, 1000 * MiB, 1000, 10000 * MiB);
        struct kl_cg_allocatable a;
        struct kl_error e = {0};

        kl_cg_node_config_init(&c);
        c.eviction_memory_available = (struct kl_cg_threshold){.bytes = -1, .percent = 5};
        c.system_reserved.ephemeral_storage = 1000 * MiB;
        ASSERT_OK(kl_cg_node_allocatable(&c, &cap, &a, &e));
        ASSERT_EQ(a.memory, 1000 * MiB - kl_cg_threshold_bytes(&c.eviction_memory_available, 1000 * MiB));
        /* nodefs.available 10% (default) */
        ASSERT_EQ(a.ephemeral_storage,
                  10000 * MiB - 1000 * MiB - kl_cg_threshold_bytes(&c.eviction_nodefs_available, 10000 * MiB));
        ASSERT_EQ(a.cpu_milli, 2000);
}

TEST(reserved_cpus_override_cpu_reservations) {
        struct kl_cg_node_config c;
        struct kl_cg_capacity cap = cap_of(4, 4 * GiB, 1000, -1);
        struct kl_cg_allocatable a;
        struct kl_cg_reserved r;
        struct kl_error e = {0};

        kl_cg_node_config_init(&c);
        c.system_reserved.cpu_milli = 100;
        c.kube_reserved.cpu_milli = 100;
        ASSERT_OK(kl_cg_cpuset_parse("0", 1, &c.reserved_cpus));
        kl_cg_effective_reserved(&c, &r);
        ASSERT_EQ(r.cpu_milli, 1000);
        ASSERT_OK(kl_cg_node_allocatable(&c, &cap, &a, &e));
        ASSERT_EQ(a.cpu_milli, 3000);
}

TEST(allocatable_rejects_overcommitted_reservations) {
        struct kl_cg_node_config c;
        struct kl_cg_capacity cap = cap_of(1, 512 * MiB, 1000, -1);
        struct kl_cg_allocatable a;
        struct kl_error e = {0};

        kl_cg_node_config_init(&c);
        c.system_reserved.memory = 500 * MiB; /* + 100Mi eviction > 512Mi */
        ASSERT_ERR(kl_cg_node_allocatable(&c, &cap, &a, &e), EINVAL);
        ASSERT_CONTAINS(e.msg, "memory");
        printf("  message: %s\n", e.msg);
        kl_cg_node_config_init(&c);
        c.kube_reserved.cpu_milli = 1500;
        ASSERT_ERR(kl_cg_node_allocatable(&c, &cap, &a, &e), EINVAL);
        ASSERT_CONTAINS(e.msg, "CPU");
}

TEST_MAIN()
