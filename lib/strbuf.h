/* SPDX-License-Identifier: Apache-2.0 */
/* Growable byte buffer, and a JSON writer on top of it that tracks commas. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macros.h"

struct kl_buf {
        char *data;
        size_t len, cap;
        bool oom; /* sticky: any failed append sets it; check once at the end */
};

void kl_buf_free_contents(struct kl_buf *b);
void kl_buf_append(struct kl_buf *b, const void *p, size_t n);
void kl_buf_puts(struct kl_buf *b, const char *s);
void kl_buf_printf(struct kl_buf *b, const char *fmt, ...) _printf_(2, 3);
/* Hand the NUL-terminated contents to the caller; NULL if an append failed. */
char *kl_buf_steal(struct kl_buf *b, size_t *ret_len);

#define KL_JSON_MAX_DEPTH 32

struct kl_json {
        struct kl_buf buf;
        int depth;
        bool need_comma[KL_JSON_MAX_DEPTH];
        bool after_key;
};

void kl_json_begin_object(struct kl_json *j);
void kl_json_end_object(struct kl_json *j);
void kl_json_begin_array(struct kl_json *j);
void kl_json_end_array(struct kl_json *j);
void kl_json_key(struct kl_json *j, const char *key);
void kl_json_string(struct kl_json *j, const char *s); /* NULL writes null */
void kl_json_int(struct kl_json *j, int64_t v);
void kl_json_uint(struct kl_json *j, uint64_t v);
void kl_json_double(struct kl_json *j, double v);
void kl_json_bool(struct kl_json *j, bool v);
void kl_json_null(struct kl_json *j);
/* Shorthands for "key": value. */
void kl_json_kv_string(struct kl_json *j, const char *key, const char *s);
void kl_json_kv_int(struct kl_json *j, const char *key, int64_t v);
void kl_json_kv_bool(struct kl_json *j, const char *key, bool v);
/* RFC 3339 UTC time from nanoseconds since the epoch ("2006-01-02T15:04:05Z"). */
void kl_json_kv_time(struct kl_json *j, const char *key, int64_t unix_nsec);
void kl_json_escape(struct kl_buf *b, const char *s);
