/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz quantity parsing and check its invariants: values are never negative,
 * milli and whole-unit rounding agree, and formatting round-trips. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifests/quantity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char s[KL_QUANTITY_MAX_LEN + 8], buf[64];
        int64_t v = -1, m = -1, x;
        int rv, rm;

        if (size > KL_QUANTITY_MAX_LEN + 4)
                return 0;
        memcpy(s, data, size);
        s[size] = '\0';

        rv = kl_quantity_parse_value(s, &v);
        rm = kl_quantity_parse_milli(s, &m);
        if (rv < 0 && rv != -EINVAL && rv != -EDOM && rv != -ERANGE)
                abort();
        if (rm < 0 && rm != -EINVAL && rm != -EDOM && rm != -ERANGE)
                abort();
        /* syntax does not depend on the scale */
        if ((rv == -EINVAL) != (rm == -EINVAL) || (rv == -EDOM) != (rm == -EDOM))
                abort();
        if (rv == 0 && v < 0)
                abort();
        if (rm == 0) {
                if (m < 0)
                        abort();
                /* ceil(x) and ceil(1000x): (v - 1) * 1000 < m <= v * 1000 */
                if (rv != 0)
                        abort(); /* fits in milli, so fits in units */
                /* without __int128, which 32-bit ARM lacks: a product that overflows
                 * is above any int64 m */
                int64_t vk, v1k;
                if (!__builtin_mul_overflow(v, 1000, &vk) && m > vk)
                        abort();
                if (v > 0 && (__builtin_mul_overflow(v - 1, 1000, &v1k) || m <= v1k))
                        abort();
                kl_quantity_format_milli(m, buf, sizeof(buf));
                if (kl_quantity_parse_milli(buf, &x) != 0 || x != m)
                        abort();
        }
        if (rv == 0) {
                kl_quantity_format_bytes(v, buf, sizeof(buf));
                if (kl_quantity_parse_value(buf, &x) != 0 || x != v)
                        abort();
        }
        (void) kl_quantity_parse_scaled(s, -3, &x);
        (void) kl_quantity_parse_scaled(s, 9, &x);
        return 0;
}
