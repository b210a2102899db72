/* SPDX-License-Identifier: Apache-2.0 */
#include "lib/jsonq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/macros.h"

struct parser {
        const unsigned char *s;
        size_t len, pos, max_nodes;
        struct kl_jsonq *q;
};

static void skip_ws(struct parser *p) {
        while (p->pos < p->len && strchr(" \t\r\n", p->s[p->pos]) && p->s[p->pos])
                p->pos++;
}

static int new_node(struct parser *p, enum kl_jsonq_type t) {
        struct kl_jsonq *q = p->q;
        if (q->n >= p->max_nodes)
                return -E2BIG;
        if (q->n == q->cap) {
                size_t nc = q->cap ? q->cap * 2 : 64;
                struct kl_jsonq_node *nn = realloc(q->nodes, nc * sizeof(*nn));
                if (!nn)
                        return -ENOMEM;
                q->nodes = nn;
                q->cap = nc;
        }
        q->nodes[q->n] = (struct kl_jsonq_node){.type = t, .start = p->pos, .child = -1, .next = -1};
        return (int) q->n++;
}

/* At the opening quote; leaves pos after the closing one. */
static int scan_string(struct parser *p) {
        p->pos++;
        while (p->pos < p->len) {
                unsigned char c = p->s[p->pos++];
                if (c == '"')
                        return 0;
                if (c < 0x20)
                        return -EBADMSG;
                if (c == '\\') {
                        if (p->pos >= p->len)
                                return -EBADMSG;
                        c = p->s[p->pos++];
                        if (c == 'u') {
                                for (int i = 0; i < 4; i++, p->pos++)
                                        if (p->pos >= p->len || kl_unhexchar(p->s[p->pos]) < 0)
                                                return -EBADMSG;
                        } else if (!strchr("\"\\/bfnrt", c) || c == 0)
                                return -EBADMSG;
                }
        }
        return -EBADMSG;
}

static int scan_number(struct parser *p) {
        size_t i = p->pos;
        const unsigned char *s = p->s;
#define DIGITS(min)                                              \
        do {                                                     \
                size_t k = i;                                    \
                while (i < p->len && s[i] >= '0' && s[i] <= '9') \
                        i++;                                     \
                if (i - k < (min))                               \
                        return -EBADMSG;                         \
        } while (0)
        if (i < p->len && s[i] == '-')
                i++;
        if (i < p->len && s[i] == '0')
                i++;
        else
                DIGITS(1);
        if (i < p->len && s[i] == '.') {
                i++;
                DIGITS(1);
        }
        if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
                i++;
                if (i < p->len && (s[i] == '+' || s[i] == '-'))
                        i++;
                DIGITS(1);
        }
#undef DIGITS
        p->pos = i;
        return 0;
}

static int parse_value(struct parser *p, int depth);

/* Parses members or elements; obj selects object syntax. */
static int parse_container(struct parser *p, int self, bool obj, int depth) {
        char close = obj ? '}' : ']';
        int last = -1, r;

        p->pos++;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == (unsigned char) close) {
                p->pos++;
                return 0;
        }
        for (;;) {
                size_t ks = 0, kl = 0;
                skip_ws(p);
                if (obj) {
                        if (p->pos >= p->len || p->s[p->pos] != '"')
                                return -EBADMSG;
                        ks = p->pos + 1;
                        if ((r = scan_string(p)) < 0)
                                return r;
                        kl = p->pos - 1 - ks;
                        skip_ws(p);
                        if (p->pos >= p->len || p->s[p->pos] != ':')
                                return -EBADMSG;
                        p->pos++;
                        skip_ws(p);
                }
                int child = parse_value(p, depth + 1);
                if (child < 0)
                        return child;
                p->q->nodes[child].key_start = ks;
                p->q->nodes[child].key_len = kl;
                if (last < 0)
                        p->q->nodes[self].child = child;
                else
                        p->q->nodes[last].next = child;
                last = child;
                skip_ws(p);
                if (p->pos >= p->len)
                        return -EBADMSG;
                if (p->s[p->pos] == ',') {
                        p->pos++;
                        continue;
                }
                if (p->s[p->pos] == (unsigned char) close) {
                        p->pos++;
                        return 0;
                }
                return -EBADMSG;
        }
}

static int parse_value(struct parser *p, int depth) {
        int n, r;
        if (depth > KL_JSONQ_MAX_DEPTH)
                return -E2BIG;
        skip_ws(p);
        if (p->pos >= p->len)
                return -EBADMSG;
        unsigned char c = p->s[p->pos];
        enum kl_jsonq_type t = c == '{'               ? KL_JSONQ_OBJECT
                               : c == '['             ? KL_JSONQ_ARRAY
                               : c == '"'             ? KL_JSONQ_STRING
                               : c == 't' || c == 'f' ? KL_JSONQ_BOOL
                               : c == 'n'             ? KL_JSONQ_NULL
                                                      : KL_JSONQ_NUMBER;
        n = new_node(p, t);
        if (n < 0)
                return n;
        switch (t) {
        case KL_JSONQ_OBJECT:
        case KL_JSONQ_ARRAY: r = parse_container(p, n, t == KL_JSONQ_OBJECT, depth); break;
        case KL_JSONQ_STRING: r = scan_string(p); break;
        case KL_JSONQ_NUMBER: r = scan_number(p); break;
        default: {
                const char *w = c == 't' ? "true" : c == 'f' ? "false" : "null";
                size_t wl = strlen(w);
                r = p->len - p->pos >= wl && memcmp(p->s + p->pos, w, wl) == 0 ? 0 : -EBADMSG;
                p->pos += r == 0 ? wl : 0;
        }
        }
        if (r < 0)
                return r;
        p->q->nodes[n].len = p->pos - p->q->nodes[n].start;
        return n;
}

int kl_jsonq_parse(const char *text, size_t len, size_t max_nodes, struct kl_jsonq *ret) {
        struct kl_jsonq q = {.text = text};
        struct parser p = {.s = (const unsigned char *) text, .len = len, .max_nodes = max_nodes, .q = &q};
        int r = parse_value(&p, 0);
        if (r >= 0) {
                skip_ws(&p);
                if (p.pos != len)
                        r = -EBADMSG;
        }
        if (r < 0) {
                kl_jsonq_done(&q);
                return r;
        }
        *ret = q;
        return 0;
}

void kl_jsonq_done(struct kl_jsonq *q) {
        free(q->nodes);
        *q = (struct kl_jsonq){};
}

int kl_jsonq_get(const struct kl_jsonq *q, int obj, const char *key) {
        if (obj < 0 || q->nodes[obj].type != KL_JSONQ_OBJECT)
                return -1;
        size_t kl = strlen(key);
        for (int c = q->nodes[obj].child; c >= 0; c = q->nodes[c].next)
                if (q->nodes[c].key_len == kl && memcmp(q->text + q->nodes[c].key_start, key, kl) == 0)
                        return c;
        return -1;
}

int kl_jsonq_path(const struct kl_jsonq *q, int n, const char *path) {
        char seg[128];
        while (n >= 0 && *path) {
                size_t l = strcspn(path, ".");
                if (l >= sizeof(seg))
                        return -1;
                memcpy(seg, path, l);
                seg[l] = '\0';
                n = kl_jsonq_get(q, n, seg);
                path += l + (path[l] == '.');
        }
        return n;
}

static size_t put_utf8(char *o, unsigned cp) {
        if (cp < 0x80) {
                o[0] = (char) cp;
                return 1;
        }
        if (cp < 0x800) {
                o[0] = (char) (0xc0 | (cp >> 6));
                o[1] = (char) (0x80 | (cp & 0x3f));
                return 2;
        }
        o[0] = (char) (0xe0 | (cp >> 12));
        o[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char) (0x80 | (cp & 0x3f));
        return 3;
}

bool kl_jsonq_str(const struct kl_jsonq *q, int n, char *buf, size_t size) {
        if (size == 0)
                return false;
        buf[0] = '\0';
        if (n < 0)
                return false;
        const struct kl_jsonq_node *nd = &q->nodes[n];
        const char *s = q->text + nd->start;
        size_t o = 0;
        if (nd->type == KL_JSONQ_NUMBER || nd->type == KL_JSONQ_BOOL) {
                size_t l = nd->len < size - 1 ? nd->len : size - 1;
                memcpy(buf, s, l);
                buf[l] = '\0';
                return true;
        }
        if (nd->type != KL_JSONQ_STRING)
                return false;
        for (size_t i = 1; i + 1 < nd->len && o + 4 < size; i++) {
                char c = s[i];
                if (c != '\\') {
                        buf[o++] = c;
                        continue;
                }
                c = s[++i];
                switch (c) {
                case 'n': buf[o++] = '\n'; break;
                case 't': buf[o++] = '\t'; break;
                case 'r': buf[o++] = '\r'; break;
                case 'b': buf[o++] = '\b'; break;
                case 'f': buf[o++] = '\f'; break;
                case 'u': {
                        unsigned cp = 0;
                        for (int k = 1; k <= 4; k++)
                                cp = cp * 16 + (unsigned) kl_unhexchar(s[i + k]);
                        i += 4;
                        if (cp == 0)
                                cp = 0xfffd; /* never a NUL inside a C string */
                        o += put_utf8(buf + o, cp);
                        break;
                }
                default: buf[o++] = c;
                }
        }
        buf[o] = '\0';
        return true;
}

const char *kl_jsonq_path_str(const struct kl_jsonq *q, int n, const char *path, char *buf, size_t size) {
        kl_jsonq_str(q, kl_jsonq_path(q, n, path), buf, size);
        return buf;
}

int64_t kl_jsonq_path_int(const struct kl_jsonq *q, int n, const char *path, int64_t def) {
        char b[32];
        int k = kl_jsonq_path(q, n, path);
        if (k < 0 || q->nodes[k].type != KL_JSONQ_NUMBER || !kl_jsonq_str(q, k, b, sizeof(b)))
                return def;
        return strtoll(b, NULL, 10);
}

void kl_jsonq_copy(const struct kl_jsonq *q, int n, struct kl_buf *b) {
        if (n < 0)
                kl_buf_puts(b, "null");
        else
                kl_buf_append(b, q->text + q->nodes[n].start, q->nodes[n].len);
}
