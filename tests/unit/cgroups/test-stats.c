/* SPDX-License-Identifier: Apache-2.0 */
#include "cgroups/stats.h"

#include <errno.h>

#include "cgroups/cgroup.h"
#include "cgtest.h"
#include "tests/lib/tests.h"

static int kv(const char *buf, const char *key, uint64_t *v) {
        return kl_cg_kv_get(buf, strlen(buf), key, v);
}

TEST(kv_get_basic) {
        const char cpu_stat[] = "usage_usec 123456\nuser_usec 100000\nsystem_usec 23456\n"
                                "nr_periods 10\nnr_throttled 2\nthrottled_usec 5000\n";
        uint64_t v;
        ASSERT_OK(kv(cpu_stat, "usage_usec", &v));
        ASSERT_EQ(v, 123456);
        ASSERT_OK(kv(cpu_stat, "throttled_usec", &v));
        ASSERT_EQ(v, 5000);
        ASSERT_ERR(kv(cpu_stat, "usage", &v), ENOENT);     /* prefix of a key */
        ASSERT_ERR(kv(cpu_stat, "sage_usec", &v), ENOENT); /* suffix of a key */
        ASSERT_ERR(kv(cpu_stat, "", &v), ENOENT);
}

TEST(kv_get_edges) {
        uint64_t v;
        ASSERT_OK(kv("oom 1", "oom", &v)); /* no final newline */
        ASSERT_EQ(v, 1);
        ASSERT_OK(kv("oom_kill 3\noom 1\n", "oom", &v)); /* key is a prefix of another */
        ASSERT_EQ(v, 1);
        ASSERT_OK(kv("oom 18446744073709551615\n", "oom", &v));
        ASSERT_EQ(v, UINT64_MAX);
        ASSERT_ERR(kv("oom 18446744073709551616\n", "oom", &v), ERANGE);
        ASSERT_ERR(kv("oom -1\n", "oom", &v), EINVAL);
        ASSERT_ERR(kv("oom \n", "oom", &v), EINVAL);
        ASSERT_ERR(kv("oom 1 2\n", "oom", &v), EINVAL);
        ASSERT_OK(kv("oom 7\r\n", "oom", &v));
        ASSERT_EQ(v, 7);
        ASSERT_ERR(kv("oom\n", "oom", &v), ENOENT);
        ASSERT_ERR(kl_cg_kv_get(NULL, 0, "oom", &v), ENOENT);
        const char nonul[] = {'a', ' ', '1', '2'};
        ASSERT_OK(kl_cg_kv_get(nonul, 3, "a", &v));
        ASSERT_EQ(v, 1);
}

TEST(stats_parse_working_set) {
        const char mstat[] = "anon 1000\nfile 5000\nkernel 100\ninactive_file 3000\nactive_file 2000\n";
        const char mev[] = "low 0\nhigh 0\nmax 4\noom 2\noom_kill 1\noom_group_kill 0\n";
        struct kl_cg_stats st = {.memory_current = 10000};
        kl_cg_stats_parse(mstat, sizeof(mstat) - 1, mev, sizeof(mev) - 1, NULL, 0, &st);
        ASSERT_EQ(st.memory_anon, 1000);
        ASSERT_EQ(st.memory_file, 5000);
        ASSERT_EQ(st.memory_inactive_file, 3000);
        ASSERT_EQ(st.memory_working_set, 7000);
        ASSERT_EQ(st.oom, 2);
        ASSERT_EQ(st.oom_kill, 1);
        ASSERT_EQ(st.memory_events_max, 4);
        ASSERT_TRUE(st.have & KL_CG_STATS_EVENTS);
        ASSERT_FALSE(st.have & KL_CG_STATS_CPU);

        /* inactive_file above usage (racy reads): floored at 0 */
        st = (struct kl_cg_stats){.memory_current = 100};
        kl_cg_stats_parse(mstat, sizeof(mstat) - 1, NULL, 0, NULL, 0, &st);
        ASSERT_EQ(st.memory_working_set, 0);
        printf("  working set = memory.current - inactive_file, floored at 0\n");
}

static void mk(const char *root, const char *dir, const char *file, const char *content) {
        char rel[1024];
        snprintf(rel, sizeof(rel), "%s/%s", dir, file);
        ASSERT_OK(cgt_put(root, rel, content));
}

TEST(stats_read_fake_cgroup) {
        _cleanup_free_ char *d = cgt_tmpdir();
        struct kl_cg_node_config cfg;
        struct kl_cg_stats st;
        struct kl_error e = {0};
        struct kl_cg *cg = NULL;
        char root[512];
        const char *pod = "cg/kubepods/burstable/podabc";
        const char *ctr = "cg/kubepods/burstable/podabc/c0ffee";

        ASSERT_NOT_NULL(d);
        snprintf(root, sizeof(root), "%s/cg", d);
        ASSERT_OK(cgt_put(d, "cg/cgroup.controllers", "cpu memory pids\n"));
        mk(d, pod, "memory.current", "52428800\n");
        mk(d, pod, "memory.max", "max\n");
        mk(d, pod, "memory.stat", "anon 41943040\nfile 10485760\ninactive_file 8388608\n");
        mk(d, pod, "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n");
        mk(d, pod, "cpu.stat", "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n");
        mk(d, pod, "pids.current", "7\n");
        mk(d, pod, "pids.max", "1024\n");
        /* a container without the pids controller */
        mk(d, ctr, "memory.current", "1000\n");
        mk(d, ctr, "memory.max", "268435456\n");
        mk(d, ctr, "memory.events", "oom 3\noom_kill 2\n");

        kl_cg_node_config_init(&cfg);
        ASSERT_OK(kl_cg_open(root, &cfg, KL_CG_FAKE, &cg, &e));

        ASSERT_OK(kl_cg_stats_read(cg, "/kubepods/burstable/podabc", &st, &e));
        ASSERT_EQ(st.have, KL_CG_STATS_MEMORY | KL_CG_STATS_EVENTS | KL_CG_STATS_CPU | KL_CG_STATS_PIDS);
        ASSERT_EQ(st.memory_current, 52428800);
        ASSERT_EQ(st.memory_max, -1);
        ASSERT_EQ(st.memory_working_set, 52428800 - 8388608);
        ASSERT_EQ(st.cpu_usage_usec, 2500000);
        ASSERT_EQ(st.cpu_user_usec, 2000000);
        ASSERT_EQ(st.pids_current, 7);
        ASSERT_EQ(st.pids_max, 1024);

        ASSERT_OK(kl_cg_stats_read(cg, "kubepods/burstable/podabc/c0ffee", &st, &e));
        ASSERT_EQ(st.have, KL_CG_STATS_MEMORY | KL_CG_STATS_EVENTS);
        ASSERT_EQ(st.memory_max, 268435456);
        ASSERT_EQ(st.oom_kill, 2);
        ASSERT_EQ(st.oom, 3);
        ASSERT_EQ(st.memory_working_set, 1000); /* no memory.stat: nothing subtracted */
        ASSERT_EQ(st.pids_max, -1);

        ASSERT_ERR(kl_cg_stats_read(cg, "kubepods/none", &st, &e), ENOENT);
        ASSERT_ERR(kl_cg_stats_read(cg, "kubepods/../..", &st, &e), EINVAL);
        ASSERT_ERR(kl_cg_stats_read(cg, "/", &st, &e), EINVAL);
        kl_cg_free(cg);
        cgt_rm_rf(d);
}

TEST(stats_need_v2) {
        struct kl_cg_node_config cfg;
        struct kl_cg_stats st;
        struct kl_error e = {0};
        struct kl_cg *cg = NULL;

        kl_cg_node_config_init(&cfg);
        cfg.cgroups_per_qos = false;
        ASSERT_OK(kl_cg_open("/proc", &cfg, 0, &cg, &e));
        ASSERT_ERR(kl_cg_stats_read(cg, "kubepods", &st, &e), EOPNOTSUPP);
        kl_cg_free(cg);
}

TEST_MAIN()
