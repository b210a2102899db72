/* SPDX-License-Identifier: Apache-2.0 */
#include "cpuset.h"

#include <errno.h>
#include <stdio.h>

#define WORDS (KL_CG_CPUSET_MAX / 64)

static bool is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Read an unsigned decimal at s[*i], stopping at the first non-digit. */
static int parse_num(const char *s, size_t len, size_t *i, unsigned *ret) {
        size_t start = *i;
        unsigned long v = 0;

        while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
                v = v * 10 + (unsigned) (s[*i] - '0');
                if (v >= KL_CG_CPUSET_MAX)
                        return -ERANGE;
                (*i)++;
        }
        if (*i == start)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

int kl_cg_cpuset_parse(const char *s, size_t len, struct kl_cg_cpuset *ret) {
        struct kl_cg_cpuset set;
        size_t i = 0, end = len;
        int r;

        kl_cg_cpuset_zero(&set);
        while (i < end && is_blank(s[i]))
                i++;
        while (end > i && is_blank(s[end - 1]))
                end--;
        if (i == end) {
                *ret = set;
                return 0;
        }

        for (;;) {
                unsigned a, b;

                r = parse_num(s, end, &i, &a);
                if (r < 0)
                        return r;
                b = a;
                if (i < end && s[i] == '-') {
                        i++;
                        r = parse_num(s, end, &i, &b);
                        if (r < 0)
                                return r;
                        if (b < a)
                                return -EINVAL;
                }
                for (unsigned c = a; c <= b; c++)
                        kl_cg_cpuset_add(&set, c);
                if (i == end)
                        break;
                if (s[i] != ',')
                        return -EINVAL;
                i++;
        }
        *ret = set;
        return 0;
}

int kl_cg_cpuset_format(const struct kl_cg_cpuset *set, char *buf, size_t n) {
        size_t len = 0;
        bool overflow = false;

        if (n == 0)
                return -ENOBUFS;
        buf[0] = '\0';
        for (unsigned c = 0; c < KL_CG_CPUSET_MAX; c++) {
                unsigned e;
                int k;

                if (!kl_cg_cpuset_has(set, c))
                        continue;
                for (e = c; e + 1 < KL_CG_CPUSET_MAX && kl_cg_cpuset_has(set, e + 1); e++)
                        ;
                if (e == c)
                        k = snprintf(buf + len, n - len, "%s%u", len ? "," : "", c);
                else
                        k = snprintf(buf + len, n - len, "%s%u-%u", len ? "," : "", c, e);
                if (k < 0 || (size_t) k >= n - len) {
                        overflow = true;
                        break;
                }
                len += (size_t) k;
                c = e;
        }
        return overflow ? -ENOBUFS : (int) len;
}

unsigned kl_cg_cpuset_count(const struct kl_cg_cpuset *s) {
        unsigned n = 0;
        for (size_t i = 0; i < WORDS; i++)
                n += (unsigned) __builtin_popcountll(s->bits[i]);
        return n;
}

bool kl_cg_cpuset_empty(const struct kl_cg_cpuset *s) {
        for (size_t i = 0; i < WORDS; i++)
                if (s->bits[i])
                        return false;
        return true;
}

bool kl_cg_cpuset_equal(const struct kl_cg_cpuset *a, const struct kl_cg_cpuset *b) {
        for (size_t i = 0; i < WORDS; i++)
                if (a->bits[i] != b->bits[i])
                        return false;
        return true;
}

bool kl_cg_cpuset_subset(const struct kl_cg_cpuset *a, const struct kl_cg_cpuset *b) {
        for (size_t i = 0; i < WORDS; i++)
                if (a->bits[i] & ~b->bits[i])
                        return false;
        return true;
}

bool kl_cg_cpuset_intersects(const struct kl_cg_cpuset *a, const struct kl_cg_cpuset *b) {
        for (size_t i = 0; i < WORDS; i++)
                if (a->bits[i] & b->bits[i])
                        return true;
        return false;
}

void kl_cg_cpuset_union(const struct kl_cg_cpuset *a, const struct kl_cg_cpuset *b, struct kl_cg_cpuset *ret) {
        for (size_t i = 0; i < WORDS; i++)
                ret->bits[i] = a->bits[i] | b->bits[i];
}

void kl_cg_cpuset_intersect(const struct kl_cg_cpuset *a, const struct kl_cg_cpuset *b, struct kl_cg_cpuset *ret) {
        for (size_t i = 0; i < WORDS; i++)
                ret->bits[i] = a->bits[i] & b->bits[i];
}

void kl_cg_cpuset_minus(const struct kl_cg_cpuset *a, const struct kl_cg_cpuset *b, struct kl_cg_cpuset *ret) {
        for (size_t i = 0; i < WORDS; i++)
                ret->bits[i] = a->bits[i] & ~b->bits[i];
}

int kl_cg_cpuset_take_lowest(const struct kl_cg_cpuset *s, unsigned n, struct kl_cg_cpuset *ret) {
        struct kl_cg_cpuset out;
        unsigned got = 0;

        kl_cg_cpuset_zero(&out);
        for (unsigned c = 0; c < KL_CG_CPUSET_MAX && got < n; c++)
                if (kl_cg_cpuset_has(s, c)) {
                        kl_cg_cpuset_add(&out, c);
                        got++;
                }
        if (got < n)
                return -ENOSPC;
        *ret = out;
        return 0;
}

int kl_cg_cpuset_first(const struct kl_cg_cpuset *s) {
        for (size_t i = 0; i < WORDS; i++)
                if (s->bits[i])
                        return (int) (i * 64) + __builtin_ctzll(s->bits[i]);
        return -1;
}
