/* SPDX-License-Identifier: Apache-2.0 */
#include "duration.h"

#include <stdio.h>
#include <string.h>

/* "<whole>[.<frac>]" with frac's trailing zeros (and a bare dot) dropped. */
static void decimal(char *buf, size_t n, uint64_t whole, uint64_t frac, int digits) {
        snprintf(buf, n, "%llu.%0*llu", (unsigned long long) whole, digits, (unsigned long long) frac);
        char *end = buf + strlen(buf);
        while (end > buf && end[-1] == '0')
                *--end = '\0';
        if (end > buf && end[-1] == '.')
                *--end = '\0';
}

/* Go's Duration.String (time/time.go): below a second in the largest unit
 * that keeps a whole part (µs, ms) with a fraction; from a second on
 * [<h>h][<m>m]<s>[.<frac>]s, minutes shown whenever hours are. */
void kl_format_duration(uint64_t usec, char *buf, size_t n) {
        char num[32];

        if (n == 0)
                return;
        if (usec == 0) {
                snprintf(buf, n, "0s");
                return;
        }
        if (usec < 1000) {
                snprintf(buf, n, "%lluµs", (unsigned long long) usec);
                return;
        }
        if (usec < 1000000) {
                decimal(num, sizeof(num), usec / 1000, usec % 1000, 3);
                snprintf(buf, n, "%sms", num);
                return;
        }
        uint64_t s = usec / 1000000;
        decimal(num, sizeof(num), s % 60, usec % 1000000, 6);
        if (s >= 3600)
                snprintf(buf, n, "%lluh%llum%ss", (unsigned long long) (s / 3600), (unsigned long long) (s / 60 % 60),
                         num);
        else if (s >= 60)
                snprintf(buf, n, "%llum%ss", (unsigned long long) (s / 60), num);
        else
                snprintf(buf, n, "%ss", num);
}
