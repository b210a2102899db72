/* SPDX-License-Identifier: Apache-2.0 */
#include "lib/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <string.h>

#include "lib/macros.h"
#include "tests/lib/tests.h"

TEST(alloc_is_zeroed_and_aligned) {
        struct kl_arena a = {};
        for (size_t size = 0; size < 200; size++) {
                unsigned char *p = kl_arena_alloc(&a, size);
                ASSERT_NOT_NULL(p);
                ASSERT_EQ((uintptr_t) p % alignof(max_align_t), 0);
                for (size_t i = 0; i < size; i++)
                        ASSERT_EQ(p[i], 0);
                memset(p, 0xa5, size); /* the next allocation must not overlap this one */
        }
        ASSERT_TRUE(kl_arena_ok(&a));
        kl_arena_free(&a);
        printf("  200 allocations of 0..199 bytes: zeroed, max_align_t aligned, disjoint\n");
}

TEST(allocations_do_not_overlap_across_chunks) {
        struct kl_arena a = {};
        uint32_t *ptrs[3000];
        for (uint32_t i = 0; i < ELEMENTSOF(ptrs); i++) {
                ptrs[i] = kl_arena_alloc(&a, 4 + (i % 7) * 8); /* crosses many 4 KiB chunks */
                ASSERT_NOT_NULL(ptrs[i]);
                *ptrs[i] = i;
        }
        for (uint32_t i = 0; i < ELEMENTSOF(ptrs); i++)
                ASSERT_EQ(*ptrs[i], i);
        kl_arena_free(&a);
}

TEST(large_block_then_small_ones) {
        struct kl_arena a = {};
        char *small = kl_arena_alloc(&a, 16);
        char *big = kl_arena_alloc(&a, 100000);
        ASSERT_NOT_NULL(small);
        ASSERT_NOT_NULL(big);
        memset(big, 'b', 100000);
        char *after = kl_arena_alloc(&a, 16);
        ASSERT_NOT_NULL(after);
        /* The small allocation after the big one reuses the first chunk's room. */
        ASSERT_TRUE(after == small + 16);
        ASSERT_EQ(big[99999], 'b');
        ASSERT_EQ(after[0], 0);
        kl_arena_free(&a);
}

TEST(strdup_and_printf) {
        struct kl_arena a = {};
        ASSERT_NULL(kl_arena_strdup(&a, NULL));
        char *s = kl_arena_strdup(&a, "hello");
        ASSERT_STREQ(s, "hello");
        char *p = kl_arena_printf(&a, "%s-%d-%05.1f", s, 7, 2.25);
        ASSERT_STREQ(p, "hello-7-002.2");
        char longs[10000];
        memset(longs, 'z', sizeof(longs) - 1);
        longs[sizeof(longs) - 1] = '\0';
        char *l = kl_arena_printf(&a, "<%s>", longs);
        ASSERT_EQ(strlen(l), sizeof(longs) + 1);
        ASSERT_STREQ(s, "hello"); /* untouched by later allocations */
        ASSERT_TRUE(kl_arena_ok(&a));
        kl_arena_free(&a);
}

TEST(oom_is_sticky_and_size_does_not_wrap) {
        struct kl_arena a = {};
        ASSERT_NOT_NULL(kl_arena_alloc(&a, 8));
        /* Rounding SIZE_MAX up would wrap to 0 and hand out 16 bytes. */
        ASSERT_NULL(kl_arena_alloc(&a, SIZE_MAX));
        ASSERT_NULL(kl_arena_alloc(&a, SIZE_MAX - 8));
        ASSERT_FALSE(kl_arena_ok(&a));
        ASSERT_NOT_NULL(kl_arena_alloc(&a, 8)); /* still usable, but the flag stays */
        ASSERT_FALSE(kl_arena_ok(&a));
        kl_arena_free(&a);
        ASSERT_TRUE(kl_arena_ok(&a));
        ASSERT_NULL(a.chunks);
        printf("  kl_arena_alloc(SIZE_MAX) fails instead of returning a tiny block; flag sticky until free\n");
}

TEST(free_empty_and_twice) {
        struct kl_arena a = {};
        kl_arena_free(&a);
        kl_arena_free(&a);
        ASSERT_NULL(a.chunks);
}

TEST_MAIN()
