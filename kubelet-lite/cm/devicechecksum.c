/* SPDX-License-Identifier: Apache-2.0 */
#include "kubelet-lite/cm/devicechecksum.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kubelet-lite/cm/devicestate.h"
#include "lib/macros.h"
#include "lib/utf8.h"

#define STR_MAX 4096 /* longer strings are refused, not truncated into a wrong hash */

/* strconv.Quote: Go's escapes; unprintable runes as \x, \u or \U. Of the
 * non-ASCII runes only the C1 controls, U+00AD and the line and paragraph
 * separators are taken as unprintable (unicode.IsPrint knows more). */
static void go_quote(struct kl_buf *b, const char *s, size_t n) {
        kl_buf_puts(b, "\"");
        for (size_t i = 0; i < n;) {
                unsigned char c = (unsigned char) s[i];
                uint32_t r;
                size_t len;
                if (c < 0x80) {
                        const char *e = NULL;
                        switch (c) {
                        case '\a': e = "\\a"; break;
                        case '\b': e = "\\b"; break;
                        case '\f': e = "\\f"; break;
                        case '\n': e = "\\n"; break;
                        case '\r': e = "\\r"; break;
                        case '\t': e = "\\t"; break;
                        case '\v': e = "\\v"; break;
                        case '\\': e = "\\\\"; break;
                        case '"': e = "\\\""; break;
                        }
                        if (e)
                                kl_buf_puts(b, e);
                        else if (c < 0x20 || c == 0x7f)
                                kl_buf_printf(b, "\\x%02x", c);
                        else
                                kl_buf_append(b, &s[i], 1);
                        i++;
                        continue;
                }
                len = kl_utf8_decode(s + i, n - i, &r);
                if (len == 0) {
                        kl_buf_printf(b, "\\x%02x", c);
                        i++;
                } else if (r < 0xa0 || r == 0xad || r == 0x2028 || r == 0x2029) {
                        kl_buf_printf(b, "\\u%04x", (unsigned) r);
                        i += len;
                } else {
                        kl_buf_append(b, &s[i], len);
                        i += len;
                }
        }
        kl_buf_puts(b, "\"");
}

/* A JSON string (decoded) quoted as Go does; null and absent are "". */
static int string_field(const struct kl_jsonq *q, int obj, const char *key, struct kl_buf *b) {
        int n = kl_jsonq_get(q, obj, key);
        char buf[STR_MAX];
        if (n < 0 || q->nodes[n].type == KL_JSONQ_NULL) {
                kl_buf_puts(b, "\"\"");
                return 0;
        }
        if (q->nodes[n].type != KL_JSONQ_STRING || q->nodes[n].len >= sizeof(buf))
                return -EBADMSG;
        kl_jsonq_str(q, n, buf, sizeof(buf));
        go_quote(b, buf, strlen(buf));
        return 0;
}

/* []string: a JSON array of strings (null items are ""), or null. */
static int string_slice(const struct kl_jsonq *q, int n, struct kl_buf *b) {
        if (n < 0 || q->nodes[n].type == KL_JSONQ_NULL) {
                kl_buf_puts(b, "[]string(nil)");
                return 0;
        }
        if (q->nodes[n].type != KL_JSONQ_ARRAY)
                return -EBADMSG;
        kl_buf_puts(b, "[]string{");
        for (int e = q->nodes[n].child, i = 0; e >= 0; e = q->nodes[e].next, i++) {
                char buf[STR_MAX];
                if (i)
                        kl_buf_puts(b, ", ");
                if (q->nodes[e].type == KL_JSONQ_NULL) {
                        kl_buf_puts(b, "\"\"");
                        continue;
                }
                if (q->nodes[e].type != KL_JSONQ_STRING || q->nodes[e].len >= sizeof(buf))
                        return -EBADMSG;
                kl_jsonq_str(q, e, buf, sizeof(buf));
                go_quote(b, buf, strlen(buf));
        }
        kl_buf_puts(b, "}");
        return 0;
}

struct key {
        int node;
        int64_t num;      /* DevicesPerNUMA */
        const char *text; /* map[string]: the raw key */
        size_t len;
};

static int key_num_cmp(const void *a, const void *b) {
        const struct key *x = a, *y = b;
        return (x->num > y->num) - (x->num < y->num);
}

static int key_text_cmp(const void *a, const void *b) {
        const struct key *x = a, *y = b;
        int c = memcmp(x->text, y->text, MIN(x->len, y->len));
        return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* The members of object n, sorted as fmt sorts map keys (internal/fmtsort). */
static int sorted_keys(const struct kl_jsonq *q, int n, bool numeric, struct key **ret, size_t *ret_n) {
        size_t count = 0, i = 0;
        for (int m = q->nodes[n].child; m >= 0; m = q->nodes[m].next)
                count++;
        struct key *k = calloc(MAX(count, (size_t) 1), sizeof(*k));
        if (!k)
                return -ENOMEM;
        for (int m = q->nodes[n].child; m >= 0; m = q->nodes[m].next, i++) {
                k[i].node = m;
                k[i].text = q->text + q->nodes[m].key_start;
                k[i].len = q->nodes[m].key_len;
                if (numeric) {
                        /* encoding/json: an int64 key must parse as one */
                        char buf[32], *end;
                        if (k[i].len == 0 || k[i].len >= sizeof(buf) || k[i].text[0] == ' ' || k[i].text[0] == '\t') {
                                free(k);
                                return -EBADMSG;
                        }
                        memcpy(buf, k[i].text, k[i].len);
                        buf[k[i].len] = '\0';
                        errno = 0;
                        k[i].num = strtoll(buf, &end, 10);
                        if (errno || *end) {
                                free(k);
                                return -EBADMSG;
                        }
                }
        }
        qsort(k, count, sizeof(*k), numeric ? key_num_cmp : key_text_cmp);
        *ret = k;
        *ret_n = count;
        return 0;
}

/* DevicesPerNUMA (map[int64][]string) or map[string][]string. */
static int map_of_slices(const struct kl_jsonq *q, int n, bool numeric, const char *type, struct kl_buf *b) {
        _cleanup_free_ struct key *k = NULL;
        size_t count;
        int r;

        kl_buf_puts(b, type);
        if (n < 0 || q->nodes[n].type == KL_JSONQ_NULL) {
                kl_buf_puts(b, "(nil)");
                return 0;
        }
        if (q->nodes[n].type != KL_JSONQ_OBJECT)
                return -EBADMSG;
        if ((r = sorted_keys(q, n, numeric, &k, &count)) < 0)
                return r;
        kl_buf_puts(b, "{");
        for (size_t i = 0; i < count; i++) {
                if (i)
                        kl_buf_puts(b, ", ");
                if (numeric)
                        kl_buf_printf(b, "%lld", (long long) k[i].num);
                else
                        go_quote(b, k[i].text, k[i].len);
                kl_buf_puts(b, ":");
                if ((r = string_slice(q, k[i].node, b)) < 0)
                        return r;
        }
        kl_buf_puts(b, "}");
        return 0;
}

/* []byte from base64 (encoding/json), or null: fmt prints []uint8{0xa, 0x1b}. */
static int bytes_field(const struct kl_jsonq *q, int n, struct kl_buf *b) {
        _cleanup_free_ uint8_t *bytes = NULL;
        size_t len;

        kl_buf_puts(b, "[]uint8");
        if (n < 0 || q->nodes[n].type == KL_JSONQ_NULL) {
                kl_buf_puts(b, "(nil)");
                return 0;
        }
        if (q->nodes[n].type != KL_JSONQ_STRING || q->nodes[n].len < 2)
                return -EBADMSG;
        /* base64 has no JSON escapes: the raw text between the quotes */
        if (kl_devstate_base64_decode(q->text + q->nodes[n].start + 1, q->nodes[n].len - 2, &bytes, &len) < 0)
                return -EBADMSG;
        kl_buf_puts(b, "{");
        for (size_t i = 0; i < len; i++)
                kl_buf_printf(b, i ? ", 0x%x" : "0x%x", bytes[i]);
        kl_buf_puts(b, "}");
        return 0;
}

static int entry(const struct kl_jsonq *q, int e, struct kl_buf *b) {
        int r;
        if (q->nodes[e].type != KL_JSONQ_OBJECT)
                return -EBADMSG;
        kl_buf_puts(b, "checkpoint.PodDevicesEntry{PodUID:");
        if ((r = string_field(q, e, "PodUID", b)) < 0)
                return r;
        kl_buf_puts(b, ", ContainerName:");
        if ((r = string_field(q, e, "ContainerName", b)) < 0)
                return r;
        kl_buf_puts(b, ", ResourceName:");
        if ((r = string_field(q, e, "ResourceName", b)) < 0)
                return r;
        kl_buf_puts(b, ", DeviceIDs:");
        if ((r = map_of_slices(q, kl_jsonq_get(q, e, "DeviceIDs"), true, "checkpoint.DevicesPerNUMA", b)) < 0)
                return r;
        kl_buf_puts(b, ", AllocResp:");
        if ((r = bytes_field(q, kl_jsonq_get(q, e, "AllocResp"), b)) < 0)
                return r;
        kl_buf_puts(b, "}");
        return 0;
}

int kl_devchecksum_render(const struct kl_jsonq *q, int data, struct kl_buf *out) {
        int entries, r;

        if (data < 0 || q->nodes[data].type != KL_JSONQ_OBJECT)
                return -EBADMSG;
        kl_buf_puts(out, "checkpoint.checkpointData{PodDeviceEntries:[]checkpoint.PodDevicesEntry");
        entries = kl_jsonq_get(q, data, "PodDeviceEntries");
        if (entries < 0 || q->nodes[entries].type == KL_JSONQ_NULL)
                kl_buf_puts(out, "(nil)");
        else if (q->nodes[entries].type != KL_JSONQ_ARRAY)
                return -EBADMSG;
        else {
                kl_buf_puts(out, "{");
                for (int e = q->nodes[entries].child, i = 0; e >= 0; e = q->nodes[e].next, i++) {
                        if (i)
                                kl_buf_puts(out, ", ");
                        if ((r = entry(q, e, out)) < 0)
                                return r;
                }
                kl_buf_puts(out, "}");
        }
        kl_buf_puts(out, ", RegisteredDevices:");
        if ((r = map_of_slices(q, kl_jsonq_get(q, data, "RegisteredDevices"), false, "map[string][]string", out)) < 0)
                return r;
        kl_buf_puts(out, "}");
        return out->oom ? -ENOMEM : 0;
}

int kl_devchecksum(const struct kl_jsonq *q, int data, uint32_t *ret) {
        struct kl_buf b = {0};
        int r = kl_devchecksum_render(q, data, &b);
        if (r >= 0) {
                uint32_t h = 2166136261u; /* FNV-32a, as Go's hash/fnv New32a */
                for (size_t i = 0; i < b.len; i++) {
                        h ^= (uint8_t) b.data[i];
                        h *= 16777619u;
                }
                *ret = h;
        }
        kl_buf_free_contents(&b);
        return r;
}
