/* SPDX-License-Identifier: Apache-2.0 */
/* NULL-terminated string arrays, shared inside manifests/ (kl__ prefix: not public). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

char **kl__strv_free(char **v);
static inline void kl__strv_freep(char ***v) {
        if (*v)
                *v = kl__strv_free(*v);
}
#define _cleanup_strv_free_ __attribute__((cleanup(kl__strv_freep)))

size_t kl__strv_length(char *const *v);
/* Deep copy; *ret = NULL for NULL. -ENOMEM. */
int kl__strv_dup(char *const *v, char ***ret);
/* Append a copy of s (or take ownership with _consume). -ENOMEM. */
int kl__strv_push(char ***v, const char *s);
int kl__strv_push_consume(char ***v, char *s);
bool kl__strv_contains(char *const *v, const char *s);
bool kl__strv_equal(char *const *a, char *const *b);
/* Join with sep into a new string; "" for an empty/NULL strv. NULL on OOM. */
char *kl__strv_join(char *const *v, const char *sep);
