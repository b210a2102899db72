/* SPDX-License-Identifier: Apache-2.0 */
#include "lib/duration.h"

#include <string.h>

#include "lib/macros.h"
#include "tests/lib/tests.h"

/* Go's own table (time_test.go, durationTests) where it fits microseconds
 * (2.2ms, 3.3s, 4m5s, 4m5.001s, 5h6m7.001s), and more made by the same
 * rules: the unit below a second keeps a whole part, minutes are shown
 * whenever hours are, hours never roll into days. */
TEST(go_duration_strings) {
        static const struct {
                uint64_t usec;
                const char *want;
        } v[] = {
                {0, "0s"},
                {1, "1µs"},
                {999, "999µs"},
                {1000, "1ms"},
                {1500, "1.5ms"},
                {2200, "2.2ms"},
                {3300000, "3.3s"},
                {245000000, "4m5s"},
                {245001000, "4m5.001s"},
                {UINT64_C(18367001000), "5h6m7.001s"},
                {20000, "20ms"},
                {999999, "999.999ms"},
                {1000000, "1s"},
                {1500000, "1.5s"},
                {10000000, "10s"},
                {59999999, "59.999999s"},
                {60000000, "1m0s"},
                {61005000, "1m1.005s"},
                {80000000, "1m20s"},
                {300000000, "5m0s"},
                {3600000000, "1h0m0s"},
                {3661000000, "1h1m1s"},
                {UINT64_C(90061500000), "25h1m1.5s"},
        };
        char buf[32];
        for (size_t i = 0; i < ELEMENTSOF(v); i++) {
                kl_format_duration(v[i].usec, buf, sizeof(buf));
                ASSERT_STREQ(buf, v[i].want);
        }
        printf("  %zu durations print as Go prints them\n", ELEMENTSOF(v));
}

TEST(short_buffer_is_terminated) {
        char buf[4];
        kl_format_duration(3661000000, buf, sizeof(buf));
        ASSERT_EQ(strlen(buf), 3);
        kl_format_duration(5, buf, 0); /* nothing written, no crash */
}

TEST_MAIN()
