/* SPDX-License-Identifier: Apache-2.0 */
/* Kubernetes quantities: upstream's syntax, exact rounding up, rejections. */
#include <errno.h>
#include <string.h>

#include "manifests/quantity.h"
#include "tests/lib/tests.h"

#define BAD (-1000) /* expected error marker: -EINVAL */

struct qcase {
        const char *s;
        int64_t milli; /* or -errno */
        int64_t value; /* or -errno */
};

static const struct qcase cases[] = {
        /* the examples from the issue */
        {"100m", 100, 1},
        {"0.5", 500, 1},
        {"1", 1000, 1},
        {"128Mi", 134217728000, 134217728},
        {"1G", 1000000000000, 1000000000},
        {"1e3", 1000000, 1000},
        {"1.5Gi", 1610612736000, 1610612736},
        {"500k", 500000000, 500000},
        /* decimal SI */
        {"1n", 1, 1},
        {"1u", 1, 1},
        {"1m", 1, 1},
        {"1500m", 1500, 2},
        {"2k", 2000000, 2000},
        {"3M", 3000000000, 3000000},
        {"4T", 4000000000000000, 4000000000000},
        {"5P", 5000000000000000000, 5000000000000000},
        {"10P", -ERANGE, 10000000000000000},
        {"1E", -ERANGE, 1000000000000000000},
        {"9E", -ERANGE, 9000000000000000000},
        {"10E", -ERANGE, -ERANGE},
        /* binary SI */
        {"1Ki", 1024000, 1024},
        {"10Mi", 10485760000, 10485760},
        {"2Ti", 2199023255552000, 2199023255552},
        {"3Pi", 3377699720527872000, 3377699720527872},
        {"7Ei", -ERANGE, 8070450532247928832},
        {"8Ei", -ERANGE, -ERANGE}, /* 2^63 > INT64_MAX */
        {"0.5Ki", 512000, 512},
        {"1.5Mi", 1572864000, 1572864},
        /* decimal exponents */
        {"1E3", 1000000, 1000}, /* exponent, not exa: more than one suffix character */
        {"1e-3", 1, 1},
        {"1e+3", 1000000, 1000},
        {"1.5e3", 1500000, 1500},
        {"1e18", -ERANGE, 1000000000000000000},
        {"1e19", -ERANGE, -ERANGE},
        {"1e2147483647", -ERANGE, -ERANGE},
        {"1e-2147483648", 1, 1},
        {"1e2147483648", -EINVAL, -EINVAL}, /* exponent outside int32, as upstream */
        /* number forms */
        {".5", 500, 1},
        {"5.", 5000, 5},
        {"1.G", 1000000000000, 1000000000}, /* upstream allows it */
        {"+5", 5000, 5},
        {"007", 7000, 7},
        {"0.0000000001", 1, 1}, /* rounds up, never to zero */
        {"0.1m", 1, 1},
        {"123456789012345678901234567890e-20", 1234567890124, 1234567891},
        /* zero in all spellings, sign included */
        {"0", 0, 0},
        {"-0", 0, 0},
        {"0.000", 0, 0},
        {"0Gi", 0, 0},
        {"-0.0e5", 0, 0},
        /* limits */
        {"9223372036854775807", -ERANGE, INT64_MAX},
        {"9223372036854775808", -ERANGE, -ERANGE},
        {"9223372036854775807m", INT64_MAX, 9223372036854776},
        {"9223372036854775.807", INT64_MAX, 9223372036854776},
        {"9223372036854775.808", -ERANGE, 9223372036854776},
        /* negative */
        {"-1", -EDOM, -EDOM},
        {"-100m", -EDOM, -EDOM},
        {"-1Gi", -EDOM, -EDOM},
        /* syntax errors */
        {"", BAD, BAD},
        {"12Q", BAD, BAD},
        {"1K", BAD, BAD},
        {"1ki", BAD, BAD},
        {"1KI", BAD, BAD},
        {"1e", BAD, BAD},
        {"1Ee3", BAD, BAD},
        {"1m3", BAD, BAD},
        {"1mi", BAD, BAD},
        {" 1", BAD, BAD},
        {"1 ", BAD, BAD},
        {"0x10", BAD, BAD},
        {"1.2.3", BAD, BAD},
        {".", BAD, BAD},
        {"-", BAD, BAD},
        {"+", BAD, BAD},
        {"--1", BAD, BAD},
        {"e3", BAD, BAD},
        {"Mi", BAD, BAD},
        {"1i", BAD, BAD},
        {"1e3.5", BAD, BAD},
        {"1e3Mi", BAD, BAD},
        {"1 Mi", BAD, BAD},
        {"1\n", BAD, BAD},
        {"∞", BAD, BAD},
};

static void check(const char *s, int r, int64_t got, int64_t want, const char *what) {
        if (want == BAD)
                want = -EINVAL;
        if (want < 0) {
                if (r != want) {
                        fprintf(stderr, "  %s(\"%s\"): want error %jd, got r=%d value=%jd\n", what, s, (intmax_t) want,
                                r, (intmax_t) got);
                        ASSERT_EQ(r, want);
                }
                return;
        }
        if (r != 0 || got != want)
                fprintf(stderr, "  %s(\"%s\"): want %jd, got r=%d value=%jd\n", what, s, (intmax_t) want, r,
                        (intmax_t) got);
        ASSERT_EQ(r, 0);
        ASSERT_EQ(got, want);
}

TEST(quantity_table) {
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                int64_t v = -1, m = -1;
                int rm = kl_quantity_parse_milli(cases[i].s, &m);
                int rv = kl_quantity_parse_value(cases[i].s, &v);
                check(cases[i].s, rm, m, cases[i].milli, "milli");
                check(cases[i].s, rv, v, cases[i].value, "value");
        }
        printf("  checked %zu quantities\n", sizeof(cases) / sizeof(cases[0]));
}

TEST(quantity_output_untouched_on_error) {
        int64_t v = 42;
        ASSERT_ERR(kl_quantity_parse_value("12Q", &v), EINVAL);
        ASSERT_EQ(v, 42);
        ASSERT_ERR(kl_quantity_parse_value("-1", &v), EDOM);
        ASSERT_EQ(v, 42);
        ASSERT_ERR(kl_quantity_parse_value(NULL, &v), EINVAL);
}

TEST(quantity_length_cap) {
        char s[KL_QUANTITY_MAX_LEN + 2];
        int64_t v;

        /* exactly the cap: "0.000...01" still parses and rounds up */
        memset(s, '0', sizeof(s));
        s[1] = '.';
        s[KL_QUANTITY_MAX_LEN - 1] = '1';
        s[KL_QUANTITY_MAX_LEN] = '\0';
        ASSERT_OK(kl_quantity_parse_value(s, &v));
        ASSERT_EQ(v, 1);
        /* one more character is refused */
        s[KL_QUANTITY_MAX_LEN] = '0';
        s[KL_QUANTITY_MAX_LEN + 1] = '\0';
        ASSERT_ERR(kl_quantity_parse_value(s, &v), EINVAL);
}

TEST(quantity_scaled) {
        int64_t v;
        ASSERT_OK(kl_quantity_parse_scaled("1", 9, &v)); /* nano units */
        ASSERT_EQ(v, 1000000000);
        ASSERT_OK(kl_quantity_parse_scaled("1500", -3, &v)); /* kilo units */
        ASSERT_EQ(v, 2);
        ASSERT_OK(kl_quantity_parse_scaled("1n", 9, &v));
        ASSERT_EQ(v, 1);
}

TEST(quantity_format_round_trip) {
        static const int64_t bytes[] = {
                0, 1, 1000, 1024, 134217728, 1610612736, INT64_MAX, (int64_t) 1 << 62, 3 * ((int64_t) 1 << 40)};
        static const int64_t milli[] = {0, 1, 100, 500, 1000, 2500, INT64_MAX};
        char buf[64];
        int64_t v;

        kl_quantity_format_bytes(134217728, buf, sizeof(buf));
        ASSERT_STREQ(buf, "128Mi");
        kl_quantity_format_bytes(1000, buf, sizeof(buf));
        ASSERT_STREQ(buf, "1000");
        kl_quantity_format_bytes(1610612736, buf, sizeof(buf));
        ASSERT_STREQ(buf, "1536Mi");
        kl_quantity_format_milli(500, buf, sizeof(buf));
        ASSERT_STREQ(buf, "500m");
        kl_quantity_format_milli(2000, buf, sizeof(buf));
        ASSERT_STREQ(buf, "2");

        for (size_t i = 0; i < sizeof(bytes) / sizeof(bytes[0]); i++) {
                kl_quantity_format_bytes(bytes[i], buf, sizeof(buf));
                ASSERT_OK(kl_quantity_parse_value(buf, &v));
                ASSERT_EQ(v, bytes[i]);
        }
        for (size_t i = 0; i < sizeof(milli) / sizeof(milli[0]); i++) {
                kl_quantity_format_milli(milli[i], buf, sizeof(buf));
                ASSERT_OK(kl_quantity_parse_milli(buf, &v));
                ASSERT_EQ(v, milli[i]);
        }
}

TEST_MAIN()
