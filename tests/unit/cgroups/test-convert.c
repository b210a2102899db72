/* SPDX-License-Identifier: Apache-2.0 */
#include "cgroups/convert.h"

#include <errno.h>

#include "tests/lib/tests.h"

TEST(milli_to_shares) {
        ASSERT_EQ(kl_cg_milli_to_shares(0), 2);
        ASSERT_EQ(kl_cg_milli_to_shares(-5), 2);
        ASSERT_EQ(kl_cg_milli_to_shares(1), 2); /* 1*1024/1000 = 1 -> min 2 */
        ASSERT_EQ(kl_cg_milli_to_shares(2), 2);
        ASSERT_EQ(kl_cg_milli_to_shares(3), 3); /* 3072/1000 */
        ASSERT_EQ(kl_cg_milli_to_shares(100), 102);
        ASSERT_EQ(kl_cg_milli_to_shares(250), 256);
        ASSERT_EQ(kl_cg_milli_to_shares(500), 512);
        ASSERT_EQ(kl_cg_milli_to_shares(1000), 1024);
        ASSERT_EQ(kl_cg_milli_to_shares(1500), 1536);
        ASSERT_EQ(kl_cg_milli_to_shares(256000), 262144);
        ASSERT_EQ(kl_cg_milli_to_shares(300000), 262144); /* max */
        ASSERT_EQ(kl_cg_milli_to_shares(INT64_MAX), 262144);
        printf("  shares = milli*1024/1000 clamped to [2, 262144]\n");
}

TEST(milli_to_quota) {
        ASSERT_EQ(kl_cg_milli_to_quota(0, 100000), 0);
        ASSERT_EQ(kl_cg_milli_to_quota(-1, 100000), 0);
        ASSERT_EQ(kl_cg_milli_to_quota(1, 100000), 1000); /* 100us -> min 1ms */
        ASSERT_EQ(kl_cg_milli_to_quota(10, 100000), 1000);
        ASSERT_EQ(kl_cg_milli_to_quota(11, 100000), 1100);
        ASSERT_EQ(kl_cg_milli_to_quota(250, 100000), 25000);
        ASSERT_EQ(kl_cg_milli_to_quota(1000, 100000), 100000);
        ASSERT_EQ(kl_cg_milli_to_quota(2500, 100000), 250000);
        ASSERT_EQ(kl_cg_milli_to_quota(500, 50000), 25000); /* custom period */
        ASSERT_EQ(kl_cg_milli_to_quota(500, 1000), 1000);   /* 500us -> min */
        ASSERT_EQ(kl_cg_milli_to_quota(500, 0), 0);
        ASSERT_GE(kl_cg_milli_to_quota(INT64_MAX, 100000), 1000); /* no overflow */
        printf("  quota = milli*period/1000, at least 1000us\n");
}

TEST(shares_to_weight) {
        ASSERT_EQ(kl_cg_shares_to_weight(0), 0);
        ASSERT_EQ(kl_cg_shares_to_weight(1), 1); /* clamped to 2 */
        ASSERT_EQ(kl_cg_shares_to_weight(2), 1);
        ASSERT_EQ(kl_cg_shares_to_weight(102), 4);   /* 1 + 100*9999/262142 = 1 + 3 */
        ASSERT_EQ(kl_cg_shares_to_weight(512), 20);  /* 1 + 510*9999/262142 = 1 + 19 */
        ASSERT_EQ(kl_cg_shares_to_weight(1024), 39); /* 1 + 1022*9999/262142 = 1 + 38 */
        ASSERT_EQ(kl_cg_shares_to_weight(2048), 79); /* 1 + 2046*9999/262142 = 1 + 78 */
        ASSERT_EQ(kl_cg_shares_to_weight(262144), 10000);
        ASSERT_EQ(kl_cg_shares_to_weight(999999), 10000);
        printf("  weight = 1 + (shares-2)*9999/262142\n");
}

TEST(format_and_parse_max) {
        char buf[32];
        int64_t v;
        ASSERT_EQ(kl_cg_format_max(-1, buf, sizeof(buf)), 3);
        ASSERT_STREQ(buf, "max");
        ASSERT_EQ(kl_cg_format_max(0, buf, sizeof(buf)), 1);
        ASSERT_STREQ(buf, "0");
        ASSERT_GE(kl_cg_format_max(536870912, buf, sizeof(buf)), 0);
        ASSERT_STREQ(buf, "536870912");
        ASSERT_ERR(kl_cg_format_max(536870912, buf, 4), ENOBUFS);
        ASSERT_OK(kl_cg_parse_max("max\n", 4, &v));
        ASSERT_EQ(v, -1);
        ASSERT_OK(kl_cg_parse_max("4096\n", 5, &v));
        ASSERT_EQ(v, 4096);
        ASSERT_OK(kl_cg_parse_max("9223372036854775807", 19, &v));
        ASSERT_EQ(v, INT64_MAX);
        ASSERT_ERR(kl_cg_parse_max("9223372036854775808", 19, &v), ERANGE);
        ASSERT_ERR(kl_cg_parse_max("", 0, &v), EINVAL);
        ASSERT_ERR(kl_cg_parse_max("-1", 2, &v), EINVAL);
        ASSERT_ERR(kl_cg_parse_max("maxx", 4, &v), EINVAL);
        ASSERT_ERR(kl_cg_parse_max("12a", 3, &v), EINVAL);
}

TEST(format_cpu_max) {
        char buf[64];
        ASSERT_GE(kl_cg_format_cpu_max(50000, 100000, buf, sizeof(buf)), 0);
        ASSERT_STREQ(buf, "50000 100000");
        ASSERT_GE(kl_cg_format_cpu_max(0, 100000, buf, sizeof(buf)), 0);
        ASSERT_STREQ(buf, "max 100000");
        ASSERT_GE(kl_cg_format_cpu_max(-1, 20000, buf, sizeof(buf)), 0);
        ASSERT_STREQ(buf, "max 20000");
        ASSERT_ERR(kl_cg_format_cpu_max(50000, 100000, buf, 5), ENOBUFS);
}

TEST(container_resources_request_and_limit) {
        struct kl_cg_container_resources r;
        /* requests: cpu 250m; limits: cpu 500m, memory 128Mi */
        kl_cg_container_resources(250, 500, 134217728, 100000, true, &r);
        ASSERT_EQ(r.cpu_shares, 256);
        ASSERT_EQ(r.cpu_quota, 50000);
        ASSERT_EQ(r.cpu_period, 100000);
        ASSERT_EQ(r.memory_limit_in_bytes, 134217728);
}

TEST(container_resources_limit_only) {
        struct kl_cg_container_resources r;
        /* no request: shares come from the limit, as the API server defaults it */
        kl_cg_container_resources(-1, 2000, -1, 100000, true, &r);
        ASSERT_EQ(r.cpu_shares, 2048);
        ASSERT_EQ(r.cpu_quota, 200000);
        ASSERT_EQ(r.cpu_period, 100000);
        ASSERT_EQ(r.memory_limit_in_bytes, 0);
}

TEST(container_resources_nothing) {
        struct kl_cg_container_resources r;
        kl_cg_container_resources(-1, -1, -1, 100000, true, &r);
        ASSERT_EQ(r.cpu_shares, 2);
        ASSERT_EQ(r.cpu_quota, 0); /* no quota, upstream still sends the period */
        ASSERT_EQ(r.cpu_period, 100000);
        ASSERT_EQ(r.memory_limit_in_bytes, 0);
}

TEST(container_resources_request_only) {
        struct kl_cg_container_resources r;
        kl_cg_container_resources(100, -1, -1, 100000, true, &r);
        ASSERT_EQ(r.cpu_shares, 102);
        ASSERT_EQ(r.cpu_quota, 0);
        /* explicit zero request with a limit: the request wins (shares 2) */
        kl_cg_container_resources(0, 1000, -1, 100000, true, &r);
        ASSERT_EQ(r.cpu_shares, 2);
        ASSERT_EQ(r.cpu_quota, 100000);
}

TEST(container_resources_cfs_disabled_and_period) {
        struct kl_cg_container_resources r;
        kl_cg_container_resources(500, 1000, 1 << 20, 100000, false, &r);
        ASSERT_EQ(r.cpu_shares, 512);
        ASSERT_EQ(r.cpu_quota, 0);
        ASSERT_EQ(r.cpu_period, 0);
        ASSERT_EQ(r.memory_limit_in_bytes, 1 << 20);
        kl_cg_container_resources(500, 1000, -1, 50000, true, &r);
        ASSERT_EQ(r.cpu_quota, 50000);
        ASSERT_EQ(r.cpu_period, 50000);
        kl_cg_container_resources(500, 1000, -1, 0, true, &r); /* default period */
        ASSERT_EQ(r.cpu_period, 100000);
        ASSERT_EQ(r.cpu_quota, 100000);
}

TEST_MAIN()
