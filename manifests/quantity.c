/* SPDX-License-Identifier: Apache-2.0 */
#include "manifests/quantity.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lib/macros.h"

struct suffix {
        const char *name;
        int exp10;
        int exp2;
};

static const struct suffix suffixes[] = {
        {"", 0, 0},    {"n", -9, 0},  {"u", -6, 0},  {"m", -3, 0},  {"k", 3, 0},   {"M", 6, 0},
        {"G", 9, 0},   {"T", 12, 0},  {"P", 15, 0},  {"E", 18, 0},  {"Ki", 0, 10}, {"Mi", 0, 20},
        {"Gi", 0, 30}, {"Ti", 0, 40}, {"Pi", 0, 50}, {"Ei", 0, 60},
};

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

/* "e"/"E" followed by a signed 32-bit decimal integer, as upstream reads it. */
static int parse_exponent(const char *s, int64_t *ret) {
        bool neg = false;
        int64_t v = 0;

        if (*s != 'e' && *s != 'E')
                return -EINVAL;
        s++;
        if (*s == '+' || *s == '-')
                neg = *s++ == '-';
        if (!*s)
                return -EINVAL;
        for (; *s; s++) {
                if (!is_digit(*s))
                        return -EINVAL;
                v = v * 10 + (*s - '0');
                if (v > (int64_t) INT32_MAX + 1)
                        return -EINVAL;
        }
        if (neg)
                v = -v;
        if (v > INT32_MAX || v < INT32_MIN)
                return -EINVAL;
        *ret = v;
        return 0;
}

int kl_quantity_parse_scaled(const char *s, int scale, int64_t *ret) {
        /* digits of the mantissa, most significant first; 2^60 adds at most
         * 19 digits to the at most KL_QUANTITY_MAX_LEN digits of the text */
        char d[KL_QUANTITY_MAX_LEN + 32];
        size_t nd = 0, n_int = 0, n_frac = 0, len;
        int64_t e10 = 0, e;
        int e2 = 0;
        bool neg = false, found = false;
        const char *p = s;

        if (!s)
                return -EINVAL;
        len = strnlen(s, KL_QUANTITY_MAX_LEN + 1);
        if (len == 0 || len > KL_QUANTITY_MAX_LEN)
                return -EINVAL;

        if (*p == '+' || *p == '-')
                neg = *p++ == '-';
        for (; is_digit(*p); p++, n_int++)
                d[nd++] = *p;
        if (*p == '.')
                for (p++; is_digit(*p); p++, n_frac++)
                        d[nd++] = *p;
        if (n_int + n_frac == 0)
                return -EINVAL;

        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++)
                if (streq(p, suffixes[i].name)) {
                        e10 = suffixes[i].exp10;
                        e2 = suffixes[i].exp2;
                        found = true;
                        break;
                }
        if (!found && (strlen(p) < 2 || parse_exponent(p, &e10) < 0))
                return -EINVAL;

        /* strip leading zeros; zero is zero whatever its sign and suffix */
        size_t lead = 0;
        while (lead < nd && d[lead] == '0')
                lead++;
        memmove(d, d + lead, nd - lead);
        nd -= lead;
        if (nd == 0) {
                *ret = 0;
                return 0;
        }
        if (neg)
                return -EDOM;

        /* multiply the decimal digit string by 2^e2 */
        for (int k = 0; k < e2; k++) {
                int carry = 0;
                for (size_t i = nd; i-- > 0;) {
                        int v = (d[i] - '0') * 2 + carry;
                        d[i] = (char) ('0' + v % 10);
                        carry = v / 10;
                }
                if (carry) {
                        memmove(d + 1, d, nd);
                        d[0] = (char) ('0' + carry);
                        nd++;
                }
        }

        e = e10 - (int64_t) n_frac + scale;
        while (nd > 1 && d[nd - 1] == '0') {
                nd--;
                e++;
        }

        /* value = d * 10^e with d having no leading or trailing zeros */
        uint64_t v = 0;
        size_t n_whole;
        bool round_up = false;
        if (e >= 0) {
                if ((int64_t) nd + e > 19)
                        return -ERANGE;
                n_whole = nd;
        } else {
                /* the last digit is non-zero and lies in the fraction */
                round_up = true;
                n_whole = (int64_t) nd + e > 0 ? (size_t) ((int64_t) nd + e) : 0;
                if (n_whole > 19)
                        return -ERANGE;
        }
        for (size_t i = 0; i < n_whole; i++)
                v = v * 10 + (uint64_t) (d[i] - '0'); /* <= 19 digits fits in uint64 */
        for (int64_t i = 0; e > 0 && i < e; i++) {
                if (v > UINT64_MAX / 10)
                        return -ERANGE;
                v *= 10;
        }
        if (round_up)
                v++;
        if (v > (uint64_t) INT64_MAX)
                return -ERANGE;
        *ret = (int64_t) v;
        return 0;
}

int kl_quantity_parse_milli(const char *s, int64_t *ret) {
        return kl_quantity_parse_scaled(s, 3, ret);
}

int kl_quantity_parse_value(const char *s, int64_t *ret) {
        return kl_quantity_parse_scaled(s, 0, ret);
}

void kl_quantity_format_bytes(int64_t v, char *buf, size_t n) {
        static const char *const units[] = {"Ei", "Pi", "Ti", "Gi", "Mi", "Ki"};
        for (size_t i = 0; v > 0 && i < ELEMENTSOF(units); i++) {
                int shift = 60 - 10 * (int) i;
                if ((v & ((INT64_C(1) << shift) - 1)) == 0) {
                        snprintf(buf, n, "%" PRId64 "%s", v >> shift, units[i]);
                        return;
                }
        }
        snprintf(buf, n, "%" PRId64, v);
}

void kl_quantity_format_milli(int64_t v, char *buf, size_t n) {
        if (v % 1000 == 0)
                snprintf(buf, n, "%" PRId64, v / 1000);
        else
                snprintf(buf, n, "%" PRId64 "m", v);
}
