/* SPDX-License-Identifier: Apache-2.0 */
#include "arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kl_arena_chunk {
        struct kl_arena_chunk *next;
        size_t used, size;
        max_align_t data[];
};

#define CHUNK_MIN 4096

void *kl_arena_alloc(struct kl_arena *a, size_t size) {
        /* A size near SIZE_MAX would wrap to a tiny allocation when rounded up. */
        if (size > SIZE_MAX - sizeof(struct kl_arena_chunk) - sizeof(max_align_t)) {
                a->oom = true;
                return NULL;
        }
        size = (size + _Alignof(max_align_t) - 1) & ~(_Alignof(max_align_t) - 1);
        if (size == 0)
                size = _Alignof(max_align_t);
        struct kl_arena_chunk *c = a->chunks;
        if (!c || c->size - c->used < size) {
                size_t csize = size > CHUNK_MIN ? size : CHUNK_MIN;
                c = malloc(sizeof(*c) + csize);
                if (!c) {
                        a->oom = true;
                        return NULL;
                }
                c->used = 0;
                c->size = csize;
                /* A large block goes behind the current chunk, so that the
                 * room left there is still used by later small allocations. */
                if (csize > CHUNK_MIN && a->chunks) {
                        c->next = a->chunks->next;
                        a->chunks->next = c;
                } else {
                        c->next = a->chunks;
                        a->chunks = c;
                }
        }
        void *p = (char *) c->data + c->used;
        c->used += size;
        memset(p, 0, size);
        return p;
}

char *kl_arena_strdup(struct kl_arena *a, const char *s) {
        if (!s)
                return NULL;
        size_t n = strlen(s) + 1;
        char *p = kl_arena_alloc(a, n);
        if (p)
                memcpy(p, s, n);
        return p;
}

char *kl_arena_printf(struct kl_arena *a, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
                a->oom = true;
                return NULL;
        }
        char *p = kl_arena_alloc(a, (size_t) n + 1);
        if (!p)
                return NULL;
        va_start(ap, fmt);
        vsnprintf(p, (size_t) n + 1, fmt, ap);
        va_end(ap);
        return p;
}

void kl_arena_free(struct kl_arena *a) {
        while (a->chunks) {
                struct kl_arena_chunk *c = a->chunks;
                a->chunks = c->next;
                free(c);
        }
        a->oom = false;
}
