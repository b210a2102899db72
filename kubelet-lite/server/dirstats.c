/* SPDX-License-Identifier: Apache-2.0 */
#include "kubelet-lite/server/dirstats.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "kubelet-lite/event.h"
#include "kubelet-lite/eviction/signals.h"
#include "lib/macros.h"

/* A pod has a few directories; more than this many paths is not a node. */
#define DIRSTATS_MAX 4096
#define WALK_MAX_ENTRIES 200000

struct entry {
        char *path;
        int64_t bytes;
        bool measured;
        uint64_t measured_at, wanted_at;
        struct entry *next;
};

struct kl_dirstats {
        struct entry *entries;
        unsigned n;
};

int kl_dirstats_new(struct kl_dirstats **ret) {
        struct kl_dirstats *d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        *ret = d;
        return 0;
}

static struct entry *entry_free(struct entry *e) {
        struct entry *next = e->next;
        free(e->path);
        free(e);
        return next;
}

struct kl_dirstats *kl_dirstats_free(struct kl_dirstats *d) {
        if (!d)
                return NULL;
        for (struct entry *e = d->entries; e;)
                e = entry_free(e);
        free(d);
        return NULL;
}

bool kl_dirstats_get(struct kl_dirstats *d, const char *path, int64_t *ret_bytes) {
        struct entry *e;
        for (e = d->entries; e; e = e->next)
                if (streq(e->path, path))
                        break;
        if (!e) {
                if (d->n >= DIRSTATS_MAX || !(e = calloc(1, sizeof(*e))) || !(e->path = strdup(path))) {
                        free(e);
                        return false;
                }
                e->next = d->entries;
                d->entries = e;
                d->n++;
        }
        e->wanted_at = kl_now_usec();
        if (e->measured)
                *ret_bytes = e->bytes;
        return e->measured;
}

/* Not measured yet first, then the one measured longest ago; never one
 * measured at or after since. */
static struct entry *next_due(struct kl_dirstats *d, uint64_t since) {
        struct entry *best = NULL;
        for (struct entry *e = d->entries; e; e = e->next) {
                if (e->measured && e->measured_at >= since)
                        continue;
                if (!best || (!e->measured && best->measured) ||
                    (e->measured == best->measured && e->measured_at < best->measured_at))
                        best = e;
        }
        return best;
}

unsigned kl_dirstats_step(struct kl_dirstats *d, uint64_t now_usec, uint64_t budget_usec, uint64_t forget_usec) {
        for (struct entry **p = &d->entries; *p;) {
                if (now_usec > (*p)->wanted_at + forget_usec) {
                        *p = entry_free(*p);
                        d->n--;
                } else
                        p = &(*p)->next;
        }
        uint64_t t0 = kl_now_usec();
        for (struct entry *e; (e = next_due(d, now_usec)) && kl_now_usec() - t0 < budget_usec;) {
                struct kl_eviction_du du = {};
                uint64_t left = budget_usec - (kl_now_usec() - t0);
                int r = kl_eviction_dir_usage(AT_FDCWD, e->path, WALK_MAX_ENTRIES, left, &du);
                e->bytes = r >= 0 ? du.bytes : 0;
                e->measured = true;
                e->measured_at = now_usec;
        }
        return d->n;
}
