/* SPDX-License-Identifier: Apache-2.0 */
/* Disk usage of pod directories for /stats/summary, measured a little at a
 * time on a timer and served from a cache, as upstream's volume stats are
 * gathered in the background (volumeStatsAggPeriod) instead of per request.
 * A request never walks a directory. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct kl_dirstats;

int kl_dirstats_new(struct kl_dirstats **ret);
struct kl_dirstats *kl_dirstats_free(struct kl_dirstats *d);

/* The usage of path as last measured; false when not measured yet. Asking
 * marks the path as wanted, so that the next steps measure it. */
bool kl_dirstats_get(struct kl_dirstats *d, const char *path, int64_t *ret_bytes);

/* Measure wanted paths, those never measured first, then those measured
 * longest ago, for at most budget_usec (a walk cut short reports a lower
 * bound); paths nobody asked for in forget_usec are dropped. Returns how
 * many paths are known. */
unsigned kl_dirstats_step(struct kl_dirstats *d, uint64_t now_usec, uint64_t budget_usec, uint64_t forget_usec);
