/* SPDX-License-Identifier: Apache-2.0 */
/* The pod cgroup tree against a fake cgroup root (KL_CG_FAKE, see cgroup.h). */
#include "cgroups/tree.h"

#include <errno.h>

#include "cgtest.h"
#include "tests/lib/tests.h"

#define MiB (1024LL * 1024)
#define GiB (1024 * MiB)
#define UID1 "0123456789abcdef0123456789abcdef"
#define UID2 "fedcba9876543210fedcba9876543210"
#define UID3 "aaaaaaaabbbbbbbbccccccccdddddddd"

struct fixture {
        char *dir;
        char root[512];
        struct kl_cg_node_config cfg;
        struct kl_cg_capacity cap;
        struct kl_cg *cg;
};

static void fx_open(struct fixture *f) {
        struct kl_error e = {0};
        if (kl_cg_open(f->root, &f->cfg, KL_CG_FAKE, &f->cg, &e) < 0)
                KL__FAIL("kl_cg_open: %s", e.msg);
}

/* A fake root like a fresh v2 mount: every controller available. */
static void fx_init(struct fixture *f, const char *controllers) {
        memset(f, 0, sizeof(*f));
        f->dir = cgt_tmpdir();
        ASSERT_NOT_NULL(f->dir);
        snprintf(f->root, sizeof(f->root), "%s/cg", f->dir);
        ASSERT_OK(cgt_put(f->dir, "cg/cgroup.controllers", controllers));
        cgt_put(f->dir, "cg/cgroup.subtree_control", "");
        cgt_put(f->dir, "cg/cpuset.cpus.effective", "0-3\n");
        kl_cg_node_config_init(&f->cfg);
        f->cfg.system_reserved.cpu_milli = 1000;
        f->cfg.system_reserved.memory = 1 * GiB;
        f->cap = (struct kl_cg_capacity){.cpu_milli = 4000, .memory = 4 * GiB, .pids = 10000, .ephemeral_storage = -1};
        ASSERT_OK(kl_cg_cpuset_parse("0-3", 3, &f->cap.cpus));
}

static void fx_setup(struct fixture *f) {
        struct kl_error e = {0};
        fx_open(f);
        if (kl_cg_setup(f->cg, &f->cap, &e) < 0)
                KL__FAIL("kl_cg_setup: %s", e.msg);
}

static void fx_done(struct fixture *f) {
        kl_cg_free(f->cg);
        cgt_rm_rf(f->dir);
        free(f->dir);
}

static const char *get(struct fixture *f, const char *rel) {
        return cgt_get(f->root, rel);
}

static void pod(struct fixture *f, enum kl_cg_qos q, const char *uid, struct kl_cg_pod_limits lim,
                const char *want_parent) {
        struct kl_error e = {0};
        char *parent = NULL;
        if (kl_cg_pod_create(f->cg, q, uid, &lim, &parent, &e) < 0)
                KL__FAIL("kl_cg_pod_create: %s", e.msg);
        ASSERT_STREQ(parent, want_parent);
        free(parent);
}

#define ALL "cpuset cpu io memory hugetlb pids rdma misc\n"

TEST(setup_builds_the_tree) {
        struct fixture f;
        fx_init(&f, ALL);
        fx_setup(&f);
        /* kubepods: 4 CPUs - 1 reserved = 3000m -> 3072 shares -> weight 118 */
        ASSERT_STREQ(get(&f, "kubepods/cpu.weight"), "118");
        ASSERT_STREQ(get(&f, "kubepods/memory.max"), "3221225472");
        ASSERT_STREQ(get(&f, "kubepods/pids.max"), "10000");
        ASSERT_STREQ(get(&f, "kubepods/besteffort/cpu.weight"), "1");
        ASSERT_STREQ(get(&f, "kubepods/burstable/cpu.weight"), "1");
        ASSERT_STREQ(get(&f, "cgroup.subtree_control"), "cpuset cpu memory pids");
        ASSERT_STREQ(get(&f, "kubepods/cgroup.subtree_control"), "cpuset cpu memory pids");
        ASSERT_STREQ(get(&f, "kubepods/burstable/cgroup.subtree_control"), "cpuset cpu memory pids");
        ASSERT_STREQ(get(&f, "kubepods/besteffort/cgroup.subtree_control"), "cpuset cpu memory pids");
        ASSERT_FALSE(cgt_exists(f.root, "kubepods/cpu.max")); /* no quota on kubepods */
        printf("  kubepods cpu.weight=118 memory.max=3GiB pids.max=10000, QoS dirs weight 1\n");
        fx_done(&f);
}

TEST(setup_not_enforced_uses_capacity) {
        struct fixture f;
        fx_init(&f, ALL);
        f.cfg.enforce_pods = false;
        fx_setup(&f);
        /* 4000m -> 4096 shares -> weight 1 + 4094*9999/262142 = 157 */
        ASSERT_STREQ(get(&f, "kubepods/cpu.weight"), "157");
        ASSERT_STREQ(get(&f, "kubepods/memory.max"), "4294967296");
        fx_done(&f);
}

TEST(setup_under_custom_cgroup_root) {
        struct fixture f;
        fx_init(&f, ALL);
        f.cfg.cgroup_root = "/edge/kl";
        fx_setup(&f);
        ASSERT_STREQ(get(&f, "edge/cgroup.subtree_control"), "cpuset cpu memory pids");
        ASSERT_STREQ(get(&f, "edge/kl/cgroup.subtree_control"), "cpuset cpu memory pids");
        ASSERT_STREQ(get(&f, "edge/kl/kubepods/cpu.weight"), "118");
        pod(&f, KL_CG_QOS_BURSTABLE, UID1, (struct kl_cg_pod_limits){100, -1, -1, 0},
            "/edge/kl/kubepods/burstable/pod" UID1);
        ASSERT_TRUE(cgt_exists(f.root, "edge/kl/kubepods/burstable/pod" UID1 "/cpu.weight"));
        fx_done(&f);
}

TEST(setup_is_idempotent_and_keeps_burstable_weight) {
        struct fixture f;
        struct kl_error e = {0};
        fx_init(&f, ALL);
        fx_setup(&f);
        struct kl_cg_qos_totals t = {.burstable_cpu_request_milli = 1500, .memory_min = 0};
        ASSERT_OK(kl_cg_qos_update(f.cg, &t, &e));
        ASSERT_STREQ(get(&f, "kubepods/burstable/cpu.weight"), "59"); /* 1536 shares */
        ASSERT_OK(kl_cg_setup(f.cg, &f.cap, &e));
        ASSERT_STREQ(get(&f, "kubepods/burstable/cpu.weight"), "59");
        fx_done(&f);
}

TEST(setup_needs_cpu_and_memory) {
        struct fixture f;
        struct kl_error e = {0};
        fx_init(&f, "cpu pids\n");
        fx_open(&f);
        ASSERT_ERR(kl_cg_setup(f.cg, &f.cap, &e), ENOENT);
        ASSERT_CONTAINS(e.msg, "'memory' is not available");
        printf("  %s\n", e.msg);
        fx_done(&f);
}

TEST(setup_without_pids_and_cpuset) {
        struct fixture f;
        fx_init(&f, "cpu memory\n");
        fx_setup(&f);
        ASSERT_STREQ(get(&f, "kubepods/cpu.weight"), "118");
        ASSERT_FALSE(cgt_exists(f.root, "kubepods/pids.max"));
        pod(&f, KL_CG_QOS_GUARANTEED, UID1, (struct kl_cg_pod_limits){1000, 1000, 64 * MiB, 64 * MiB},
            "/kubepods/pod" UID1);
        ASSERT_FALSE(cgt_exists(f.root, "kubepods/pod" UID1 "/pids.max"));
        ASSERT_STREQ(get(&f, "kubepods/pod" UID1 "/memory.max"), "67108864");
        fx_done(&f);
}

TEST(pod_guaranteed) {
        struct fixture f;
        fx_init(&f, ALL);
        fx_setup(&f);
        /* requests = limits: cpu 500m, memory 256Mi */
        pod(&f, KL_CG_QOS_GUARANTEED, UID1,
            (struct kl_cg_pod_limits){.cpu_request_milli = 500,
                                      .cpu_limit_milli = 500,
                                      .memory_limit = 256 * MiB,
                                      .memory_min = 256 * MiB},
            "/kubepods/pod" UID1);
        ASSERT_STREQ(get(&f, "kubepods/pod" UID1 "/cpu.weight"), "20"); /* 512 shares */
        ASSERT_STREQ(get(&f, "kubepods/pod" UID1 "/cpu.max"), "50000 100000");
        ASSERT_STREQ(get(&f, "kubepods/pod" UID1 "/memory.max"), "268435456");
        ASSERT_STREQ(get(&f, "kubepods/pod" UID1 "/memory.min"), "268435456");
        ASSERT_STREQ(get(&f, "kubepods/pod" UID1 "/pids.max"), "max");
        ASSERT_STREQ(get(&f, "kubepods/pod" UID1 "/cgroup.subtree_control"), "cpuset cpu memory pids");
        printf("  Guaranteed 500m/256Mi: weight 20, cpu.max 50000 100000, memory.max=min=256Mi\n");
        fx_done(&f);
}

TEST(pod_burstable_and_besteffort) {
        struct fixture f;
        fx_init(&f, ALL);
        f.cfg.pod_pids_limit = 1024;
        fx_setup(&f);
        pod(&f, KL_CG_QOS_BURSTABLE, UID1, (struct kl_cg_pod_limits){250, -1, -1, 0}, "/kubepods/burstable/pod" UID1);
        ASSERT_STREQ(get(&f, "kubepods/burstable/pod" UID1 "/cpu.weight"), "10"); /* 256 shares */
        ASSERT_STREQ(get(&f, "kubepods/burstable/pod" UID1 "/cpu.max"), "max 100000");
        ASSERT_STREQ(get(&f, "kubepods/burstable/pod" UID1 "/memory.max"), "max");
        ASSERT_STREQ(get(&f, "kubepods/burstable/pod" UID1 "/memory.min"), "0");
        ASSERT_STREQ(get(&f, "kubepods/burstable/pod" UID1 "/pids.max"), "1024");

        pod(&f, KL_CG_QOS_BURSTABLE, UID2, (struct kl_cg_pod_limits){250, 1500, 512 * MiB, 0},
            "/kubepods/burstable/pod" UID2);
        ASSERT_STREQ(get(&f, "kubepods/burstable/pod" UID2 "/cpu.max"), "150000 100000");
        ASSERT_STREQ(get(&f, "kubepods/burstable/pod" UID2 "/memory.max"), "536870912");

        pod(&f, KL_CG_QOS_BEST_EFFORT, UID3, (struct kl_cg_pod_limits){0, -1, -1, 0}, "/kubepods/besteffort/pod" UID3);
        ASSERT_STREQ(get(&f, "kubepods/besteffort/pod" UID3 "/cpu.weight"), "1");
        ASSERT_STREQ(get(&f, "kubepods/besteffort/pod" UID3 "/memory.max"), "max");
        fx_done(&f);
}

TEST(pod_cfs_quota_disabled_and_custom_period) {
        struct fixture f;
        fx_init(&f, ALL);
        f.cfg.cfs_quota = false;
        fx_setup(&f);
        pod(&f, KL_CG_QOS_GUARANTEED, UID1, (struct kl_cg_pod_limits){1000, 1000, 64 * MiB, 64 * MiB},
            "/kubepods/pod" UID1);
        ASSERT_STREQ(get(&f, "kubepods/pod" UID1 "/cpu.max"), "max 100000");
        fx_done(&f);

        fx_init(&f, ALL);
        f.cfg.cfs_period_us = 10000;
        fx_setup(&f);
        pod(&f, KL_CG_QOS_GUARANTEED, UID1, (struct kl_cg_pod_limits){1000, 1000, 64 * MiB, 64 * MiB},
            "/kubepods/pod" UID1);
        ASSERT_STREQ(get(&f, "kubepods/pod" UID1 "/cpu.max"), "10000 10000");
        fx_done(&f);
}

TEST(pod_create_is_idempotent_update) {
        struct fixture f;
        fx_init(&f, ALL);
        fx_setup(&f);
        pod(&f, KL_CG_QOS_BURSTABLE, UID1, (struct kl_cg_pod_limits){250, -1, -1, 0}, "/kubepods/burstable/pod" UID1);
        pod(&f, KL_CG_QOS_BURSTABLE, UID1, (struct kl_cg_pod_limits){500, -1, 128 * MiB, 0},
            "/kubepods/burstable/pod" UID1);
        ASSERT_STREQ(get(&f, "kubepods/burstable/pod" UID1 "/cpu.weight"), "20");
        ASSERT_STREQ(get(&f, "kubepods/burstable/pod" UID1 "/memory.max"), "134217728");
        fx_done(&f);
}

TEST(pod_create_errors) {
        struct fixture f;
        struct kl_error e = {0};
        struct kl_cg_pod_limits lim = {0, -1, -1, 0};
        char *parent = NULL;

        fx_init(&f, ALL);
        fx_open(&f);
        /* before kl_cg_setup */
        ASSERT_ERR(kl_cg_pod_create(f.cg, KL_CG_QOS_BURSTABLE, UID1, &lim, &parent, &e), ENOENT);
        ASSERT_CONTAINS(e.msg, "not set up");
        ASSERT_OK(kl_cg_setup(f.cg, &f.cap, &e));
        const char *bad[] = {"",    "../x", "a/b",
                             "a.b", "x y",  "0123456789012345678901234567890123456789012345678901234567890123456789"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                ASSERT_ERR(kl_cg_pod_create(f.cg, KL_CG_QOS_BURSTABLE, bad[i], &lim, &parent, &e), EINVAL);
                ASSERT_CONTAINS(e.msg, "invalid pod uid");
        }
        ASSERT_ERR(kl_cg_pod_create(f.cg, (enum kl_cg_qos) 7, UID1, &lim, &parent, &e), EINVAL);
        ASSERT_NULL(parent);
        fx_done(&f);
}

TEST(pod_remove_with_container_dirs) {
        struct fixture f;
        struct kl_error e = {0};
        fx_init(&f, ALL);
        fx_setup(&f);
        pod(&f, KL_CG_QOS_BURSTABLE, UID1, (struct kl_cg_pod_limits){250, -1, -1, 0}, "/kubepods/burstable/pod" UID1);
        /* what containerd leaves behind: <pod>/<container-id> */
        ASSERT_EQ(kl_cg_mkdir(f.cg, "kubepods/burstable/pod" UID1 "/3f1c0ffee"), 1);
        ASSERT_EQ(kl_cg_mkdir(f.cg, "kubepods/burstable/pod" UID1 "/abcdef012"), 1);
        ASSERT_EQ(kl_cg_pod_remove(f.cg, UID1, &e), 1);
        ASSERT_FALSE(cgt_exists(f.root, "kubepods/burstable/pod" UID1));
        ASSERT_EQ(kl_cg_pod_remove(f.cg, UID1, &e), 0);
        ASSERT_ERR(kl_cg_pod_remove(f.cg, "../burstable", &e), EINVAL);
        fx_done(&f);
}

TEST(pod_remove_populated_is_ebusy) {
        struct fixture f;
        struct kl_error e = {0};
        fx_init(&f, ALL);
        fx_setup(&f);
        pod(&f, KL_CG_QOS_GUARANTEED, UID1, (struct kl_cg_pod_limits){1000, 1000, 64 * MiB, 64 * MiB},
            "/kubepods/pod" UID1);
        ASSERT_EQ(kl_cg_mkdir(f.cg, "kubepods/pod" UID1 "/c1"), 1);
        ASSERT_OK(kl_cg_write(f.cg, "kubepods/pod" UID1 "/c1", "cgroup.events", "populated 1\n"));
        ASSERT_ERR(kl_cg_pod_remove(f.cg, UID1, &e), EBUSY);
        ASSERT_CONTAINS(e.msg, "still populated");
        ASSERT_TRUE(cgt_exists(f.root, "kubepods/pod" UID1 "/c1"));
        fx_done(&f);
}

static bool has(char **v, const char *s) {
        for (size_t i = 0; v[i]; i++)
                if (strcmp(v[i], s) == 0)
                        return true;
        return false;
}

TEST(pod_list_and_orphan_cleanup) {
        struct fixture f;
        struct kl_error e = {0};
        char **uids = NULL;
        unsigned busy = 99;

        fx_init(&f, ALL);
        fx_setup(&f);
        ASSERT_EQ(kl_cg_pod_list(f.cg, &uids, &e), 0);
        ASSERT_NULL(uids[0]);
        kl_cg_strv_free(uids);

        pod(&f, KL_CG_QOS_GUARANTEED, UID1, (struct kl_cg_pod_limits){1000, 1000, MiB, MiB}, "/kubepods/pod" UID1);
        pod(&f, KL_CG_QOS_BURSTABLE, UID2, (struct kl_cg_pod_limits){1, -1, -1, 0}, "/kubepods/burstable/pod" UID2);
        pod(&f, KL_CG_QOS_BEST_EFFORT, UID3, (struct kl_cg_pod_limits){0, -1, -1, 0}, "/kubepods/besteffort/pod" UID3);
        cgt_put(f.root, "kubepods/not-a-pod/x", ""); /* ignored */
        ASSERT_EQ(kl_cg_pod_list(f.cg, &uids, &e), 3);
        ASSERT_TRUE(has(uids, UID1) && has(uids, UID2) && has(uids, UID3));
        kl_cg_strv_free(uids);

        /* keep UID2; UID3 still has a process */
        ASSERT_EQ(kl_cg_mkdir(f.cg, "kubepods/besteffort/pod" UID3 "/c"), 1);
        ASSERT_OK(kl_cg_write(f.cg, "kubepods/besteffort/pod" UID3 "/c", "cgroup.events", "populated 1\n"));
        const char *keep[] = {UID2};
        ASSERT_EQ(kl_cg_cleanup_orphans(f.cg, keep, 1, &busy, &e), 1);
        ASSERT_EQ(busy, 1);
        ASSERT_FALSE(cgt_exists(f.root, "kubepods/pod" UID1));
        ASSERT_TRUE(cgt_exists(f.root, "kubepods/burstable/pod" UID2));
        ASSERT_TRUE(cgt_exists(f.root, "kubepods/besteffort/pod" UID3));
        printf("  orphan pod" UID1 " removed, busy one left, kept one untouched\n");
        fx_done(&f);
}

TEST(qos_update) {
        struct fixture f;
        struct kl_error e = {0};
        fx_init(&f, ALL);
        fx_setup(&f);
        struct kl_cg_qos_totals t = {.burstable_cpu_request_milli = 750, .memory_min = 256 * MiB};
        ASSERT_OK(kl_cg_qos_update(f.cg, &t, &e));
        ASSERT_STREQ(get(&f, "kubepods/burstable/cpu.weight"), "30"); /* 768 shares */
        ASSERT_STREQ(get(&f, "kubepods/memory.min"), "268435456");
        t = (struct kl_cg_qos_totals){0};
        ASSERT_OK(kl_cg_qos_update(f.cg, &t, &e));
        ASSERT_STREQ(get(&f, "kubepods/burstable/cpu.weight"), "1");
        ASSERT_STREQ(get(&f, "kubepods/memory.min"), "0");
        fx_done(&f);
}

TEST(no_cgroups_per_qos_is_a_noop) {
        struct fixture f;
        struct kl_error e = {0};
        struct kl_cg_pod_limits lim = {500, 500, MiB, MiB};
        struct kl_cg_qos_totals t = {1, 1};
        char *parent = NULL, **uids = NULL;

        fx_init(&f, ALL);
        f.cfg.cgroups_per_qos = false;
        fx_open(&f);
        ASSERT_OK(kl_cg_setup(f.cg, &f.cap, &e));
        ASSERT_OK(kl_cg_pod_create(f.cg, KL_CG_QOS_GUARANTEED, UID1, &lim, &parent, &e));
        ASSERT_STREQ(parent, "");
        free(parent);
        ASSERT_OK(kl_cg_qos_update(f.cg, &t, &e));
        ASSERT_EQ(kl_cg_pod_remove(f.cg, UID1, &e), 0);
        ASSERT_EQ(kl_cg_pod_list(f.cg, &uids, &e), 0);
        kl_cg_strv_free(uids);
        ASSERT_FALSE(cgt_exists(f.root, "kubepods"));
        fx_done(&f);
}

TEST(qos_dir_names) {
        ASSERT_STREQ(kl_cg_qos_dir(KL_CG_QOS_GUARANTEED), "");
        ASSERT_STREQ(kl_cg_qos_dir(KL_CG_QOS_BURSTABLE), "burstable");
        ASSERT_STREQ(kl_cg_qos_dir(KL_CG_QOS_BEST_EFFORT), "besteffort");
        ASSERT_NULL(kl_cg_qos_dir((enum kl_cg_qos) 3));
}

TEST_MAIN()
