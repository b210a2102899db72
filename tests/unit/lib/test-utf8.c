/* SPDX-License-Identifier: Apache-2.0 */
#include "lib/utf8.h"

#include <string.h>

#include "lib/macros.h"
#include "tests/lib/tests.h"

TEST(valid_sequences) {
        static const struct {
                const char *s;
                size_t len;
                uint32_t cp;
        } v[] = {
                {"A", 1, 0x41},
                {"\x7f", 1, 0x7f},
                {"\xc2\x80", 2, 0x80},
                {"\xc3\xa9", 2, 0xe9},
                {"\xe0\xa0\x80", 3, 0x800},
                {"\xe2\x80\xa8", 3, 0x2028},
                {"\xef\xbf\xbd", 3, 0xfffd},
                {"\xf0\x90\x80\x80", 4, 0x10000},
                {"\xf4\x8f\xbf\xbf", 4, 0x10ffff},
        };
        for (size_t i = 0; i < ELEMENTSOF(v); i++) {
                uint32_t cp = 0;
                ASSERT_EQ(kl_utf8_decode(v[i].s, strlen(v[i].s), &cp), v[i].len);
                ASSERT_EQ(cp, v[i].cp);
        }
        printf("  %zu sequences of 1-4 bytes decode to their code points\n", ELEMENTSOF(v));
}

TEST(invalid_sequences) {
        static const char *const bad[] = {
                "\x80",             /* a lone continuation byte */
                "\xc0\x80",         /* overlong NUL */
                "\xc1\xbf",         /* overlong */
                "\xe0\x9f\xbf",     /* overlong 3-byte */
                "\xed\xa0\x80",     /* a surrogate */
                "\xf4\x90\x80\x80", /* above U+10FFFF */
                "\xf5\x80\x80\x80", /* never a lead byte */
                "\xff",             /* never a lead byte */
                "\xc3"
                "A", /* not a continuation */
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                ASSERT_EQ(kl_utf8_decode(bad[i], strlen(bad[i]), NULL), 0);
        /* truncated: the bound counts, not a NUL */
        ASSERT_EQ(kl_utf8_decode("\xe2\x80\xa8", 2, NULL), 0);
        ASSERT_EQ(kl_utf8_decode("A", 0, NULL), 0);
        printf("  %zu invalid sequences and truncation are refused\n", ELEMENTSOF(bad) + 2);
}

TEST_MAIN()
