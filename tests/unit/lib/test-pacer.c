/* SPDX-License-Identifier: Apache-2.0 */
#include "lib/pacer.h"

#include "tests/lib/tests.h"

TEST(at_most_max_at_once) {
        struct kl_pacer p;
        kl_pacer_init(&p, 3, 1000);
        uint64_t t[3];
        for (int i = 0; i < 3; i++) {
                t[i] = kl_pacer_take(&p, 10);
                ASSERT_TRUE(t[i] != 0);
        }
        ASSERT_EQ(kl_pacer_busy(&p, 10), 3);
        ASSERT_TRUE(kl_pacer_full(&p, 10));
        ASSERT_EQ(kl_pacer_take(&p, 11), 0);
        kl_pacer_put(&p, t[1]);
        ASSERT_EQ(kl_pacer_busy(&p, 11), 2);
        uint64_t u = kl_pacer_take(&p, 12);
        ASSERT_TRUE(u != 0);
        ASSERT_EQ(kl_pacer_take(&p, 12), 0);
        printf("  3 taken, the 4th refused, one put, one more taken\n");
}

TEST(an_old_operation_stops_counting) {
        struct kl_pacer p;
        kl_pacer_init(&p, 2, 1000);
        uint64_t a = kl_pacer_take(&p, 100), b = kl_pacer_take(&p, 600);
        ASSERT_TRUE(a && b);
        ASSERT_EQ(kl_pacer_take(&p, 1099), 0);
        ASSERT_EQ(kl_pacer_busy(&p, 1100), 1); /* a is 1000 old */
        uint64_t c = kl_pacer_take(&p, 1100);
        ASSERT_TRUE(c != 0);
        /* a's late completion must not free c's slot */
        kl_pacer_put(&p, a);
        ASSERT_EQ(kl_pacer_busy(&p, 1100), 2);
        ASSERT_EQ(kl_pacer_take(&p, 1101), 0);
        kl_pacer_put(&p, c);
        kl_pacer_put(&p, c); /* twice: harmless */
        ASSERT_EQ(kl_pacer_busy(&p, 1101), 1);
        printf("  an operation older than age frees its slot; its stale ticket frees nothing\n");
}

TEST(bounds_and_zero) {
        struct kl_pacer p;
        kl_pacer_init(&p, 0, 5);
        ASSERT_EQ(p.max, 1);
        kl_pacer_init(&p, 1000, 5);
        ASSERT_EQ(p.max, KL_PACER_SLOTS);
        for (unsigned i = 0; i < KL_PACER_SLOTS; i++)
                ASSERT_TRUE(kl_pacer_take(&p, 1) != 0);
        ASSERT_EQ(kl_pacer_take(&p, 1), 0);
        kl_pacer_put(&p, 0);            /* "no ticket" */
        kl_pacer_put(&p, 0xffffffffff); /* garbage: slot out of range */
        ASSERT_EQ(kl_pacer_busy(&p, 1), KL_PACER_SLOTS);
        printf("  max clamped to 1..%d; tickets 0 and garbage are ignored\n", KL_PACER_SLOTS);
}

TEST_MAIN()
