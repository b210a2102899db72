/* SPDX-License-Identifier: Apache-2.0 */
/* CPU sets and the kernel's cpulist syntax ("0-3,5"), as found in
 * cpuset.cpus.effective, /sys/devices/system/cpu/online and the
 * reservedSystemCPUs setting. A fixed-size bitmap: no allocation, so a set can
 * live in any struct and be copied by assignment. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Edge boards have a handful of CPUs; 1024 covers any machine we would meet. */
#define KL_CG_CPUSET_MAX 1024
/* Longest formatted list: every other CPU, "0,2,4,...,1022" is < 4096 chars. */
#define KL_CG_CPUSET_STR_MAX 4096

struct kl_cg_cpuset {
        uint64_t bits[KL_CG_CPUSET_MAX / 64];
};

/* Parse a cpulist of len bytes (need not be NUL-terminated): comma-separated
 * CPU numbers and inclusive ranges "a-b", surrounding blanks and a trailing
 * newline allowed, "" (or only whitespace) is the empty set. Rejects CPUs
 * >= KL_CG_CPUSET_MAX, reversed ranges, leading '+'/'-', empty items and
 * anything else with -EINVAL (-ERANGE for too large numbers). *ret is only
 * written on success. */
int kl_cg_cpuset_parse(const char *s, size_t len, struct kl_cg_cpuset *ret);

/* Format as the kernel does: ascending, ranges of 2+ CPUs as "a-b", no
 * newline; the empty set is "". Returns the string length, or -ENOBUFS
 * when it does not fit in n bytes (buf then holds a truncated string). */
int kl_cg_cpuset_format(const struct kl_cg_cpuset *set, char *buf, size_t n);

static inline void kl_cg_cpuset_zero(struct kl_cg_cpuset *s) {
        for (size_t i = 0; i < KL_CG_CPUSET_MAX / 64; i++)
                s->bits[i] = 0;
}
static inline bool kl_cg_cpuset_has(const struct kl_cg_cpuset *s, unsigned cpu) {
        return cpu < KL_CG_CPUSET_MAX && (s->bits[cpu / 64] >> (cpu % 64)) & 1;
}
static inline void kl_cg_cpuset_add(struct kl_cg_cpuset *s, unsigned cpu) {
        if (cpu < KL_CG_CPUSET_MAX)
                s->bits[cpu / 64] |= UINT64_C(1) << (cpu % 64);
}
static inline void kl_cg_cpuset_del(struct kl_cg_cpuset *s, unsigned cpu) {
        if (cpu < KL_CG_CPUSET_MAX)
                s->bits[cpu / 64] &= ~(UINT64_C(1) << (cpu % 64));
}

unsigned kl_cg_cpuset_count(const struct kl_cg_cpuset *s);
bool kl_cg_cpuset_empty(const struct kl_cg_cpuset *s);
bool kl_cg_cpuset_equal(const struct kl_cg_cpuset *a, const struct kl_cg_cpuset *b);
/* a ⊆ b */
bool kl_cg_cpuset_subset(const struct kl_cg_cpuset *a, const struct kl_cg_cpuset *b);
bool kl_cg_cpuset_intersects(const struct kl_cg_cpuset *a, const struct kl_cg_cpuset *b);
/* ret may alias a or b. */
void kl_cg_cpuset_union(const struct kl_cg_cpuset *a, const struct kl_cg_cpuset *b, struct kl_cg_cpuset *ret);
void kl_cg_cpuset_intersect(const struct kl_cg_cpuset *a, const struct kl_cg_cpuset *b, struct kl_cg_cpuset *ret);
/* a \ b */
void kl_cg_cpuset_minus(const struct kl_cg_cpuset *a, const struct kl_cg_cpuset *b, struct kl_cg_cpuset *ret);
/* The n lowest-numbered CPUs of s. -ENOSPC (ret untouched) if s has fewer. */
int kl_cg_cpuset_take_lowest(const struct kl_cg_cpuset *s, unsigned n, struct kl_cg_cpuset *ret);
/* Lowest CPU in s, or -1 when empty. */
int kl_cg_cpuset_first(const struct kl_cg_cpuset *s);
