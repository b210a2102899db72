/* SPDX-License-Identifier: Apache-2.0 */
/* A bound on work in flight: at most max operations at once, where an
 * operation that has run longer than age no longer counts (it is waiting,
 * e.g. for a grace period, not working). The caller passes the clock, so
 * tests need no sleeps.
 *
 *   uint64_t t = kl_pacer_take(&p, now);   0: full, try again later
 *   ...the operation...
 *   kl_pacer_put(&p, t);                    0 is ignored; so is a stale ticket */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define KL_PACER_SLOTS 64

struct kl_pacer {
        unsigned max;                   /* 1..KL_PACER_SLOTS */
        uint64_t age;                   /* in the caller's clock units */
        uint64_t since[KL_PACER_SLOTS]; /* 0: free */
        uint32_t gen[KL_PACER_SLOTS];   /* bumped at each take, so a stale ticket is ignored */
};

void kl_pacer_init(struct kl_pacer *p, unsigned max, uint64_t age);
/* How many operations count now (taken, not put, younger than age). */
unsigned kl_pacer_busy(const struct kl_pacer *p, uint64_t now);
static inline bool kl_pacer_full(const struct kl_pacer *p, uint64_t now) {
        return kl_pacer_busy(p, now) >= p->max;
}
/* A ticket (never 0), or 0 when max operations count now. now must be > 0. */
uint64_t kl_pacer_take(struct kl_pacer *p, uint64_t now);
void kl_pacer_put(struct kl_pacer *p, uint64_t ticket);
