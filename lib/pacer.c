/* SPDX-License-Identifier: Apache-2.0 */
#include "pacer.h"

#include "lib/macros.h"

void kl_pacer_init(struct kl_pacer *p, unsigned max, uint64_t age) {
        *p = (struct kl_pacer){.max = MIN(MAX(max, 1u), (unsigned) KL_PACER_SLOTS), .age = age};
}

static bool counts(const struct kl_pacer *p, unsigned i, uint64_t now) {
        return p->since[i] != 0 && (now < p->since[i] || now - p->since[i] < p->age);
}

unsigned kl_pacer_busy(const struct kl_pacer *p, uint64_t now) {
        unsigned n = 0;
        for (unsigned i = 0; i < p->max; i++)
                n += counts(p, i, now);
        return n;
}

/* A ticket is the slot (low 8 bits, plus one) and the slot's generation. */
uint64_t kl_pacer_take(struct kl_pacer *p, uint64_t now) {
        for (unsigned i = 0; i < p->max; i++) {
                if (counts(p, i, now))
                        continue;
                p->since[i] = now ? now : 1;
                p->gen[i]++;
                return (uint64_t) p->gen[i] << 8 | (i + 1);
        }
        return 0;
}

void kl_pacer_put(struct kl_pacer *p, uint64_t ticket) {
        unsigned i = (unsigned) (ticket & 0xff);
        if (i == 0 || i > KL_PACER_SLOTS)
                return;
        i--;
        if (p->gen[i] == (uint32_t) (ticket >> 8))
                p->since[i] = 0;
}
