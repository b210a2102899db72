/* SPDX-License-Identifier: Apache-2.0 */
#include "strbuf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/utf8.h"

void kl_buf_free_contents(struct kl_buf *b) {
        free(b->data);
        *b = (struct kl_buf){};
}

static bool buf_reserve(struct kl_buf *b, size_t extra) {
        if (b->oom)
                return false;
        if (extra > SIZE_MAX - 1 - b->len) {
                b->oom = true;
                return false;
        }
        if (b->len + extra + 1 <= b->cap)
                return true;
        size_t ncap = b->cap ? b->cap : 256;
        while (ncap < b->len + extra + 1) {
                if (ncap > SIZE_MAX / 2) {
                        b->oom = true;
                        return false;
                }
                ncap *= 2;
        }
        char *n = realloc(b->data, ncap);
        if (!n) {
                b->oom = true;
                return false;
        }
        b->data = n;
        b->cap = ncap;
        return true;
}

void kl_buf_append(struct kl_buf *b, const void *p, size_t n) {
        if (!buf_reserve(b, n))
                return;
        memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
}

void kl_buf_puts(struct kl_buf *b, const char *s) {
        kl_buf_append(b, s, strlen(s));
}

void kl_buf_printf(struct kl_buf *b, const char *fmt, ...) {
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0 || !buf_reserve(b, (size_t) n))
                return;
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
        va_end(ap);
        b->len += (size_t) n;
}

char *kl_buf_steal(struct kl_buf *b, size_t *ret_len) {
        if (b->oom) {
                kl_buf_free_contents(b);
                return NULL;
        }
        if (!b->data && !buf_reserve(b, 0))
                return NULL;
        if (b->len == 0)
                b->data[0] = '\0';
        if (ret_len)
                *ret_len = b->len;
        char *d = b->data;
        *b = (struct kl_buf){};
        return d;
}

/* Strings from the runtime or from files may hold anything; the output must
 * stay valid JSON, so control characters are escaped and bytes that are not
 * UTF-8 become U+FFFD, as Go's encoder does. */
void kl_json_escape(struct kl_buf *b, const char *s) {
        kl_buf_append(b, "\"", 1);
        for (const unsigned char *p = (const unsigned char *) s; *p;) {
                switch (*p) {
                case '"': kl_buf_append(b, "\\\"", 2); break;
                case '\\': kl_buf_append(b, "\\\\", 2); break;
                case '\n': kl_buf_append(b, "\\n", 2); break;
                case '\r': kl_buf_append(b, "\\r", 2); break;
                case '\t': kl_buf_append(b, "\\t", 2); break;
                default:
                        if (*p < 0x20) {
                                kl_buf_printf(b, "\\u%04x", *p);
                                break;
                        }
                        size_t n = kl_utf8_decode((const char *) p, strnlen((const char *) p, 4), NULL);
                        if (n == 0) {
                                kl_buf_append(b, "\\ufffd", 6);
                                p++;
                                continue;
                        }
                        kl_buf_append(b, p, n);
                        p += n;
                        continue;
                }
                p++;
        }
        kl_buf_append(b, "\"", 1);
}

/* Emit the separator a new value needs at the current position. */
static void json_sep(struct kl_json *j) {
        if (j->after_key) {
                j->after_key = false;
                return;
        }
        if (j->depth > 0 && j->depth <= KL_JSON_MAX_DEPTH) {
                if (j->need_comma[j->depth - 1])
                        kl_buf_append(&j->buf, ",", 1);
                j->need_comma[j->depth - 1] = true;
        }
}

static void json_open(struct kl_json *j, char c) {
        json_sep(j);
        kl_buf_append(&j->buf, &c, 1);
        if (j->depth < KL_JSON_MAX_DEPTH)
                j->need_comma[j->depth] = false;
        else
                j->buf.oom = true; /* too deep: poison rather than emit garbage */
        j->depth++;
}

static void json_close(struct kl_json *j, char c) {
        kl_buf_append(&j->buf, &c, 1);
        if (j->depth > 0)
                j->depth--;
}

void kl_json_begin_object(struct kl_json *j) {
        json_open(j, '{');
}
void kl_json_end_object(struct kl_json *j) {
        json_close(j, '}');
}
void kl_json_begin_array(struct kl_json *j) {
        json_open(j, '[');
}
void kl_json_end_array(struct kl_json *j) {
        json_close(j, ']');
}

void kl_json_key(struct kl_json *j, const char *key) {
        json_sep(j);
        kl_json_escape(&j->buf, key);
        kl_buf_append(&j->buf, ":", 1);
        j->after_key = true;
}

void kl_json_string(struct kl_json *j, const char *s) {
        json_sep(j);
        if (s)
                kl_json_escape(&j->buf, s);
        else
                kl_buf_puts(&j->buf, "null");
}

void kl_json_int(struct kl_json *j, int64_t v) {
        json_sep(j);
        kl_buf_printf(&j->buf, "%lld", (long long) v);
}

void kl_json_uint(struct kl_json *j, uint64_t v) {
        json_sep(j);
        kl_buf_printf(&j->buf, "%llu", (unsigned long long) v);
}

void kl_json_double(struct kl_json *j, double v) {
        json_sep(j);
        if (!isfinite(v)) /* JSON has no NaN or Infinity */
                kl_buf_puts(&j->buf, "null");
        else
                kl_buf_printf(&j->buf, "%.9g", v);
}

void kl_json_bool(struct kl_json *j, bool v) {
        json_sep(j);
        kl_buf_puts(&j->buf, v ? "true" : "false");
}

void kl_json_null(struct kl_json *j) {
        json_sep(j);
        kl_buf_puts(&j->buf, "null");
}

void kl_json_kv_string(struct kl_json *j, const char *key, const char *s) {
        kl_json_key(j, key);
        kl_json_string(j, s);
}

void kl_json_kv_int(struct kl_json *j, const char *key, int64_t v) {
        kl_json_key(j, key);
        kl_json_int(j, v);
}

void kl_json_kv_bool(struct kl_json *j, const char *key, bool v) {
        kl_json_key(j, key);
        kl_json_bool(j, v);
}

void kl_json_kv_time(struct kl_json *j, const char *key, int64_t unix_nsec) {
        char s[32];
        struct tm tm;
        time_t t = (time_t) (unix_nsec / 1000000000);

        if (!gmtime_r(&t, &tm) || strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
                kl_json_key(j, key);
                kl_json_null(j);
                return;
        }
        kl_json_kv_string(j, key, s);
}
