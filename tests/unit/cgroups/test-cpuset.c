/* SPDX-License-Identifier: Apache-2.0 */
#include "cgroups/cpuset.h"
#include "lib/macros.h"

#include <errno.h>

#include "tests/lib/tests.h"

static const char *roundtrip(const char *in) {
        static char buf[KL_CG_CPUSET_STR_MAX];
        struct kl_cg_cpuset s;
        if (kl_cg_cpuset_parse(in, strlen(in), &s) < 0)
                return NULL;
        if (kl_cg_cpuset_format(&s, buf, sizeof(buf)) < 0)
                return NULL;
        return buf;
}

static int parse(const char *in, struct kl_cg_cpuset *s) {
        return kl_cg_cpuset_parse(in, strlen(in), s);
}

TEST(parse_and_format_canonical) {
        ASSERT_STREQ(roundtrip("0-3,5"), "0-3,5");
        ASSERT_STREQ(roundtrip("0"), "0");
        ASSERT_STREQ(roundtrip("0-0"), "0");
        ASSERT_STREQ(roundtrip("0,1,2,3"), "0-3");
        ASSERT_STREQ(roundtrip("5,0-3"), "0-3,5");
        ASSERT_STREQ(roundtrip("1,3,5"), "1,3,5");
        ASSERT_STREQ(roundtrip("0-1,1-2"), "0-2");
        ASSERT_STREQ(roundtrip("8-9,64,127-128,1023"), "8-9,64,127-128,1023");
        printf("  cpulists normalise as the kernel prints them\n");
}

TEST(parse_whitespace_and_empty) {
        struct kl_cg_cpuset s;
        ASSERT_STREQ(roundtrip("0-3\n"), "0-3");
        ASSERT_STREQ(roundtrip("  2,4 \n"), "2,4");
        ASSERT_OK(parse("", &s));
        ASSERT_TRUE(kl_cg_cpuset_empty(&s));
        ASSERT_OK(parse("\n", &s));
        ASSERT_TRUE(kl_cg_cpuset_empty(&s));
        ASSERT_STREQ(roundtrip(""), "");
}

TEST(parse_rejects_garbage) {
        struct kl_cg_cpuset s;
        const char *bad[] = {"a",  "1-",    "-1",  "3-1", "1,,2",    ",1",   "1,", "1 2",
                             "+1", "1-2-3", "0x1", "1:2", "0-7:2/4", "1\n2", "1;2"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                int r = parse(bad[i], &s);
                if (r != -EINVAL)
                        KL__FAIL("'%s' gave %d, expected -EINVAL", bad[i], r);
        }
        ASSERT_ERR(parse("1024", &s), ERANGE);
        ASSERT_ERR(parse("0-99999999999999999999", &s), ERANGE);
        printf("  %zu malformed lists and out-of-range CPUs rejected\n", ELEMENTSOF(bad) + 2);
}

TEST(parse_does_not_need_nul) {
        struct kl_cg_cpuset s;
        const char buf[] = {'0', '-', '2', '7'};
        ASSERT_OK(kl_cg_cpuset_parse(buf, 3, &s));
        ASSERT_EQ(kl_cg_cpuset_count(&s), 3);
        ASSERT_FALSE(kl_cg_cpuset_has(&s, 7));
}

TEST(parse_failure_leaves_output) {
        struct kl_cg_cpuset s;
        ASSERT_OK(parse("7", &s));
        ASSERT_ERR(parse("1,x", &s), EINVAL);
        ASSERT_TRUE(kl_cg_cpuset_has(&s, 7));
        ASSERT_EQ(kl_cg_cpuset_count(&s), 1);
}

TEST(format_small_buffer) {
        struct kl_cg_cpuset s;
        char buf[4];
        ASSERT_OK(parse("0-3,5,7", &s));
        ASSERT_ERR(kl_cg_cpuset_format(&s, buf, sizeof(buf)), ENOBUFS);
        ASSERT_EQ(kl_cg_cpuset_format(&s, buf, 4), -ENOBUFS);
        char big[16];
        ASSERT_EQ(kl_cg_cpuset_format(&s, big, sizeof(big)), 7);
        ASSERT_STREQ(big, "0-3,5,7");
}

TEST(format_worst_case_fits) {
        struct kl_cg_cpuset s;
        static char buf[KL_CG_CPUSET_STR_MAX];
        kl_cg_cpuset_zero(&s);
        for (unsigned c = 0; c < KL_CG_CPUSET_MAX; c += 2)
                kl_cg_cpuset_add(&s, c);
        ASSERT_GE(kl_cg_cpuset_format(&s, buf, sizeof(buf)), 0);
        ASSERT_EQ(kl_cg_cpuset_count(&s), 512);
}

TEST(set_operations) {
        struct kl_cg_cpuset a, b, r;
        char buf[64];
        ASSERT_OK(parse("0-5", &a));
        ASSERT_OK(parse("4-7", &b));
        kl_cg_cpuset_union(&a, &b, &r);
        kl_cg_cpuset_format(&r, buf, sizeof(buf));
        ASSERT_STREQ(buf, "0-7");
        kl_cg_cpuset_intersect(&a, &b, &r);
        kl_cg_cpuset_format(&r, buf, sizeof(buf));
        ASSERT_STREQ(buf, "4-5");
        kl_cg_cpuset_minus(&a, &b, &r);
        kl_cg_cpuset_format(&r, buf, sizeof(buf));
        ASSERT_STREQ(buf, "0-3");
        ASSERT_TRUE(kl_cg_cpuset_intersects(&a, &b));
        ASSERT_TRUE(kl_cg_cpuset_subset(&r, &a));
        ASSERT_FALSE(kl_cg_cpuset_subset(&a, &r));
        ASSERT_FALSE(kl_cg_cpuset_equal(&a, &b));
        kl_cg_cpuset_minus(&a, &a, &r);
        ASSERT_TRUE(kl_cg_cpuset_empty(&r));
        ASSERT_EQ(kl_cg_cpuset_first(&r), -1);
        ASSERT_EQ(kl_cg_cpuset_first(&b), 4);
        /* aliasing output and input */
        kl_cg_cpuset_union(&a, &b, &a);
        ASSERT_EQ(kl_cg_cpuset_count(&a), 8);
}

TEST(take_lowest) {
        struct kl_cg_cpuset a, r;
        char buf[64];
        ASSERT_OK(parse("1,3-6,9", &a));
        ASSERT_OK(kl_cg_cpuset_take_lowest(&a, 3, &r));
        kl_cg_cpuset_format(&r, buf, sizeof(buf));
        ASSERT_STREQ(buf, "1,3-4");
        ASSERT_ERR(kl_cg_cpuset_take_lowest(&a, 7, &r), ENOSPC);
        ASSERT_OK(kl_cg_cpuset_take_lowest(&a, 0, &r));
        ASSERT_TRUE(kl_cg_cpuset_empty(&r));
}

TEST(bounds) {
        struct kl_cg_cpuset s;
        kl_cg_cpuset_zero(&s);
        kl_cg_cpuset_add(&s, KL_CG_CPUSET_MAX); /* ignored */
        ASSERT_TRUE(kl_cg_cpuset_empty(&s));
        ASSERT_FALSE(kl_cg_cpuset_has(&s, 5000));
        kl_cg_cpuset_add(&s, KL_CG_CPUSET_MAX - 1);
        ASSERT_EQ(kl_cg_cpuset_first(&s), KL_CG_CPUSET_MAX - 1);
        kl_cg_cpuset_del(&s, KL_CG_CPUSET_MAX - 1);
        ASSERT_TRUE(kl_cg_cpuset_empty(&s));
}

TEST_MAIN()
