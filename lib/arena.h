/* SPDX-License-Identifier: Apache-2.0 */
/* A bump allocator for building short-lived object graphs (CRI requests)
 * that are freed all at once. Allocation failure is sticky: check kl_arena_ok()
 * once at the end instead of after every call. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct kl_arena_chunk;

struct kl_arena {
        struct kl_arena_chunk *chunks;
        bool oom;
};

void *kl_arena_alloc(struct kl_arena *a, size_t size);    /* zeroed; NULL on OOM */
char *kl_arena_strdup(struct kl_arena *a, const char *s); /* NULL in -> NULL out */
char *kl_arena_printf(struct kl_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline bool kl_arena_ok(const struct kl_arena *a) {
        return !a->oom;
}
void kl_arena_free(struct kl_arena *a);
