/* SPDX-License-Identifier: Apache-2.0 */
/* Tiny table-driven test framework.
 *
 *   TEST(parse_simple) { ASSERT_EQ(f(1), 2); }
 *   ...
 *   TEST_MAIN()
 *
 * Each TEST prints "ok NAME" or "FAIL NAME"; a failed ASSERT prints file,
 * line and expression and aborts that test only (longjmp). A test may call
 * SKIP("why") to skip itself. The last line is "N passed, N failed[, N skipped]".
 * Exit status: 0 all passed, 1 any failed, 77 everything skipped. */
#pragma once

#include <inttypes.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kl_test {
        const char *name;
        void (*fn)(void);
};

#define KL_TESTS_MAX 512
extern struct kl_test kl__tests[KL_TESTS_MAX];
extern int kl__n_tests;
extern jmp_buf kl__test_jmp;
extern int kl__test_skipped;

#define TEST(name)                                                                       \
        static void test_##name(void);                                                   \
        __attribute__((constructor)) static void register_##name(void) {                 \
                if (kl__n_tests < KL_TESTS_MAX)                                          \
                        kl__tests[kl__n_tests++] = (struct kl_test){#name, test_##name}; \
        }                                                                                \
        static void test_##name(void)

#define KL__FAIL(...)                                             \
        do {                                                      \
                fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__); \
                fprintf(stderr, __VA_ARGS__);                     \
                fputc('\n', stderr);                              \
                longjmp(kl__test_jmp, 1);                         \
        } while (0)

#define ASSERT_TRUE(e)                                        \
        do {                                                  \
                if (!(e))                                     \
                        KL__FAIL("assertion failed: %s", #e); \
        } while (0)
#define ASSERT_FALSE(e) ASSERT_TRUE(!(e))

#define ASSERT_EQ(a, b)                                                          \
        do {                                                                     \
                intmax_t _a = (intmax_t) (a), _b = (intmax_t) (b);               \
                if (_a != _b)                                                    \
                        KL__FAIL("%s == %s failed: %jd != %jd", #a, #b, _a, _b); \
        } while (0)
#define ASSERT_NE(a, b)                                                    \
        do {                                                               \
                intmax_t _a = (intmax_t) (a), _b = (intmax_t) (b);         \
                if (_a == _b)                                              \
                        KL__FAIL("%s != %s failed: both %jd", #a, #b, _a); \
        } while (0)
#define ASSERT_GE(a, b)                                                         \
        do {                                                                    \
                intmax_t _a = (intmax_t) (a), _b = (intmax_t) (b);              \
                if (!(_a >= _b))                                                \
                        KL__FAIL("%s >= %s failed: %jd < %jd", #a, #b, _a, _b); \
        } while (0)
#define ASSERT_LE(a, b)                                                         \
        do {                                                                    \
                intmax_t _a = (intmax_t) (a), _b = (intmax_t) (b);              \
                if (!(_a <= _b))                                                \
                        KL__FAIL("%s <= %s failed: %jd > %jd", #a, #b, _a, _b); \
        } while (0)
/* r >= 0, printing the errno on failure. */
#define ASSERT_OK(expr)                                                                  \
        do {                                                                             \
                intmax_t _r = (intmax_t) (expr);                                         \
                if (_r < 0)                                                              \
                        KL__FAIL("%s failed: %jd (%s)", #expr, _r, strerror((int) -_r)); \
        } while (0)
#define ASSERT_ERR(expr, err)                                                   \
        do {                                                                    \
                intmax_t _r = (intmax_t) (expr);                                \
                if (_r != -(intmax_t) (err))                                    \
                        KL__FAIL("%s: expected -%s, got %jd", #expr, #err, _r); \
        } while (0)
#define ASSERT_STREQ(a, b)                                                                                             \
        do {                                                                                                           \
                const char *_a = (a), *_b = (b);                                                                       \
                if (!_a || !_b || strcmp(_a, _b) != 0)                                                                 \
                        KL__FAIL("%s == %s failed: \"%s\" != \"%s\"", #a, #b, _a ? _a : "(null)", _b ? _b : "(null)"); \
        } while (0)
#define ASSERT_NULL(p) ASSERT_TRUE((p) == NULL)
#define ASSERT_NOT_NULL(p) ASSERT_TRUE((p) != NULL)
/* Substring check: haystack contains needle. */
#define ASSERT_CONTAINS(h, n)                                                                               \
        do {                                                                                                \
                const char *_h = (h), *_n = (n);                                                            \
                if (!_h || !_n || !strstr(_h, _n))                                                          \
                        KL__FAIL("\"%s\" does not contain \"%s\"", _h ? _h : "(null)", _n ? _n : "(null)"); \
        } while (0)

#define SKIP(...)                             \
        do {                                  \
                fprintf(stderr, "  skip: ");  \
                fprintf(stderr, __VA_ARGS__); \
                fputc('\n', stderr);          \
                kl__test_skipped = 1;         \
                longjmp(kl__test_jmp, 1);     \
        } while (0)

int kl__test_main(int argc, char **argv);

#define TEST_MAIN()                               \
        int main(int argc, char **argv) {         \
                return kl__test_main(argc, argv); \
        }
