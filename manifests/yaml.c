/* SPDX-License-Identifier: Apache-2.0 */
#include "manifests/yaml.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "lib/macros.h"
#include "lib/utf8.h"

#define TAG_PREFIX "tag:yaml.org,2002:"

bool kl_utf8_valid(const char *str, size_t len, size_t *ret_bad) {
        for (size_t i = 0, n; i < len; i += n) {
                n = kl_utf8_decode(str + i, len - i, NULL);
                if (n == 0) {
                        if (ret_bad)
                                *ret_bad = i;
                        return false;
                }
        }
        return true;
}

/* Line and column (1-based, column in characters) of a byte offset. */
static struct kl_pos pos_of_offset(const char *buf, size_t off) {
        struct kl_pos p = {1, 1};
        for (size_t i = 0; i < off; i++) {
                if (buf[i] == '\n') {
                        p.line++;
                        p.col = 1;
                } else if (((unsigned char) buf[i] & 0xC0) != 0x80)
                        p.col++;
        }
        return p;
}

static struct kl_pos pos_of_mark(const yaml_mark_t *m) {
        return (struct kl_pos){(unsigned) m->line + 1, (unsigned) m->column + 1};
}

_printf_(3, 4) static int set_error(struct kl_yaml_error *e, struct kl_pos pos, const char *fmt, ...) {
        va_list ap;
        if (!e)
                return -EINVAL;
        e->pos = pos;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
        va_end(ap);
        return -EINVAL;
}

struct kl_yaml_node *kl_yaml_node_free(struct kl_yaml_node *n) {
        if (!n)
                return NULL;
        switch (n->type) {
        case KL_YAML_SCALAR: free(n->scalar.value); break;
        case KL_YAML_SEQUENCE:
                for (size_t i = 0; i < n->seq.n; i++)
                        kl_yaml_node_free(n->seq.items[i]);
                free(n->seq.items);
                break;
        case KL_YAML_MAPPING:
                for (size_t i = 0; i < n->map.n; i++) {
                        kl_yaml_node_free(n->map.items[i].key);
                        kl_yaml_node_free(n->map.items[i].value);
                }
                free(n->map.items);
                break;
        }
        free(n);
        return NULL;
}

void kl_yaml_docs_free(struct kl_yaml_doc *docs, size_t n) {
        if (!docs)
                return;
        for (size_t i = 0; i < n; i++)
                kl_yaml_node_free(docs[i].root);
        free(docs);
}

const struct kl_yaml_node *kl_yaml_map_get(const struct kl_yaml_node *map, const char *key) {
        if (!map || map->type != KL_YAML_MAPPING)
                return NULL;
        for (size_t i = 0; i < map->map.n; i++)
                if (streq(map->map.items[i].key->scalar.value, key))
                        return map->map.items[i].value;
        return NULL;
}

bool kl_yaml_is_null(const struct kl_yaml_node *n) {
        return n && n->type == KL_YAML_SCALAR && n->scalar.kind == KL_YAML_NULL;
}

const char *kl_yaml_kind_to_string(enum kl_yaml_kind k) {
        switch (k) {
        case KL_YAML_STR: return "string";
        case KL_YAML_NULL: return "null";
        case KL_YAML_BOOL: return "boolean";
        case KL_YAML_INT:
        case KL_YAML_FLOAT: return "number";
        }
        return "scalar";
}

static bool all_in(const char *s, size_t n, const char *set) {
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!strchr(set, s[i]) || s[i] == '\0')
                        return false;
        return true;
}

static size_t span_digits(const char *s) {
        size_t n = 0;
        while (s[n] >= '0' && s[n] <= '9')
                n++;
        return n;
}

/* YAML 1.2 core schema float: [-+]? ( . [0-9]+ | [0-9]+ ( . [0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
static bool is_core_float(const char *s) {
        static const char *const special[] = {".inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN"};
        const char *p = s;
        size_t a, b = 0;

        for (size_t i = 0; i < ELEMENTSOF(special); i++)
                if (streq(s, special[i]) || (i < 3 && (s[0] == '-' || s[0] == '+') && streq(s + 1, special[i])))
                        return true;
        if (*p == '-' || *p == '+')
                p++;
        a = span_digits(p);
        p += a;
        if (*p == '.') {
                p++;
                b = span_digits(p);
                p += b;
                if (a == 0 && b == 0)
                        return false;
        } else if (a == 0)
                return false;
        if (*p == 'e' || *p == 'E') {
                p++;
                if (*p == '-' || *p == '+')
                        p++;
                size_t e = span_digits(p);
                if (e == 0)
                        return false;
                p += e;
        }
        return *p == '\0';
}

static enum kl_yaml_kind resolve_plain(const char *s, size_t n) {
        static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
        static const char *const bools[] = {"true", "True", "TRUE", "false", "False", "FALSE"};
        const char *p = s;

        for (size_t i = 0; i < ELEMENTSOF(nulls); i++)
                if (streq(s, nulls[i]))
                        return KL_YAML_NULL;
        for (size_t i = 0; i < ELEMENTSOF(bools); i++)
                if (streq(s, bools[i]))
                        return KL_YAML_BOOL;
        if (n > 2 && s[0] == '0' && s[1] == 'o' && all_in(s + 2, n - 2, "01234567"))
                return KL_YAML_INT;
        if (n > 2 && s[0] == '0' && s[1] == 'x' && all_in(s + 2, n - 2, "0123456789abcdefABCDEF"))
                return KL_YAML_INT;
        if (*p == '-' || *p == '+')
                p++;
        if (all_in(p, n - (size_t) (p - s), "0123456789"))
                return KL_YAML_INT;
        if (is_core_float(s))
                return KL_YAML_FLOAT;
        return KL_YAML_STR;
}

struct builder {
        const struct kl_yaml_limits *lim;
        struct kl_yaml_error *err;
        struct kl_yaml_doc *docs;
        size_t n_docs;
        size_t n_nodes;
        /* open collections, innermost last; stack[0] is the document root */
        struct kl_yaml_node *stack[256];
        size_t depth;
};

static int check_anchor_tag(struct builder *b, const yaml_event_t *ev, const char *anchor, const char *tag,
                            const char *want_tag) {
        struct kl_pos pos = pos_of_mark(&ev->start_mark);

        if (anchor)
                return set_error(b->err, pos, "YAML anchors (&%s) are not supported", anchor);
        if (!tag || streq(tag, "!"))
                return 0;
        if (strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)) == 0) {
                const char *t = tag + strlen(TAG_PREFIX);
                if (streq(t, want_tag))
                        return 0;
                if (streq(want_tag, "scalar") &&
                    (streq(t, "str") || streq(t, "int") || streq(t, "float") || streq(t, "bool") || streq(t, "null")))
                        return 0;
        }
        return set_error(b->err, pos, "YAML tag '%s' is not supported here", tag);
}

/* Attach a new node to the innermost open collection (or make it the root). */
static int attach(struct builder *b, struct kl_yaml_node *n) {
        if (b->n_docs == 0)
                return -EINVAL; /* libyaml starts a document first */
        if (b->depth == 0) {
                b->docs[b->n_docs - 1].root = n;
                return 0;
        }
        struct kl_yaml_node *parent = b->stack[b->depth - 1];
        if (parent->type == KL_YAML_SEQUENCE) {
                if ((parent->seq.n & (parent->seq.n - 1)) == 0) {
                        size_t cap = parent->seq.n ? parent->seq.n * 2 : 4;
                        void *items = realloc(parent->seq.items, cap * sizeof(*parent->seq.items));
                        if (!items)
                                return -ENOMEM;
                        parent->seq.items = items;
                }
                parent->seq.items[parent->seq.n++] = n;
                return 0;
        }

        /* mapping: a key starts a new pair, a value completes the last one */
        if (parent->map.n > 0 && !parent->map.items[parent->map.n - 1].value) {
                parent->map.items[parent->map.n - 1].value = n;
                return 0;
        }
        if (n->type != KL_YAML_SCALAR)
                return set_error(b->err, n->pos, "mapping keys must be strings");
        if (n->scalar.plain && streq(n->scalar.value, "<<"))
                return set_error(b->err, n->pos, "YAML merge keys (<<) are not supported");
        if ((parent->map.n & (parent->map.n - 1)) == 0) {
                size_t cap = parent->map.n ? parent->map.n * 2 : 4;
                void *items = realloc(parent->map.items, cap * sizeof(*parent->map.items));
                if (!items)
                        return -ENOMEM;
                parent->map.items = items;
        }
        parent->map.items[parent->map.n++] = (struct kl_yaml_pair){.key = n};
        return 0;
}

static int pair_key_cmp(const void *a, const void *b) {
        const struct kl_yaml_pair *x = *(const struct kl_yaml_pair *const *) a;
        const struct kl_yaml_pair *y = *(const struct kl_yaml_pair *const *) b;
        int r = strcmp(x->key->scalar.value, y->key->scalar.value);
        if (r != 0)
                return r;
        /* equal keys: the earlier one in the document first */
        return x < y ? -1 : x > y;
}

/* Sorting costs O(n log n) where a pairwise scan would be quadratic in a
 * mapping with 100k keys. */
static int check_duplicate_keys(struct builder *b, const struct kl_yaml_node *map) {
        _cleanup_free_ const struct kl_yaml_pair **v = NULL;
        const struct kl_yaml_pair *dup = NULL, *first = NULL;

        if (map->map.n < 2)
                return 0;
        v = malloc(map->map.n * sizeof(*v));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < map->map.n; i++)
                v[i] = &map->map.items[i];
        qsort(v, map->map.n, sizeof(*v), pair_key_cmp);
        /* report the repeat that comes first in the document, and its run's
         * first element, which is the key's first occurrence */
        for (size_t i = 1, run = 0; i < map->map.n; i++) {
                if (!streq(v[run]->key->scalar.value, v[i]->key->scalar.value)) {
                        run = i;
                        continue;
                }
                if (!dup || v[i] < dup) {
                        dup = v[i];
                        first = v[run];
                }
        }
        if (!dup)
                return 0;
        return set_error(b->err, dup->key->pos, "duplicate key \"%.100s\" (first defined at line %u)",
                         dup->key->scalar.value, first->key->pos.line);
}

static struct kl_yaml_node *new_node(struct builder *b, enum kl_yaml_type t, const yaml_event_t *ev, int *r) {
        struct kl_yaml_node *n;

        if (b->n_nodes >= b->lim->max_nodes) {
                set_error(b->err, pos_of_mark(&ev->start_mark), "too many nodes (limit %zu)", b->lim->max_nodes);
                *r = -E2BIG;
                return NULL;
        }
        n = calloc(1, sizeof(*n));
        if (!n) {
                *r = -ENOMEM;
                return NULL;
        }
        b->n_nodes++;
        n->type = t;
        n->pos = pos_of_mark(&ev->start_mark);
        return n;
}

static int on_scalar(struct builder *b, const yaml_event_t *ev) {
        const char *tag = (const char *) ev->data.scalar.tag;
        struct kl_yaml_node *n;
        int r;

        r = check_anchor_tag(b, ev, (const char *) ev->data.scalar.anchor, tag, "scalar");
        if (r < 0)
                return r;
        if (ev->data.scalar.length > b->lim->max_scalar_len) {
                set_error(b->err, pos_of_mark(&ev->start_mark), "scalar is too long (%zu bytes, limit %zu)",
                          ev->data.scalar.length, b->lim->max_scalar_len);
                return -E2BIG;
        }
        if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length))
                return set_error(b->err, pos_of_mark(&ev->start_mark), "NUL characters are not allowed");
        n = new_node(b, KL_YAML_SCALAR, ev, &r);
        if (!n)
                return r;
        n->scalar.len = ev->data.scalar.length;
        n->scalar.value = strndup((const char *) ev->data.scalar.value, n->scalar.len);
        if (!n->scalar.value) {
                kl_yaml_node_free(n);
                return -ENOMEM;
        }
        n->scalar.plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        if (tag && !streq(tag, "!") && !streq(tag, TAG_PREFIX "str")) {
                /* an explicit core tag must agree with the text */
                enum kl_yaml_kind want, got = resolve_plain(n->scalar.value, n->scalar.len);
                const char *t = tag + strlen(TAG_PREFIX);
                want = streq(t, "int")     ? KL_YAML_INT
                       : streq(t, "float") ? KL_YAML_FLOAT
                       : streq(t, "bool")  ? KL_YAML_BOOL
                                           : KL_YAML_NULL;
                if (got != want && !(want == KL_YAML_FLOAT && got == KL_YAML_INT)) {
                        struct kl_pos pos = n->pos;
                        kl_yaml_node_free(n);
                        return set_error(b->err, pos, "value does not match its tag '%s'", tag);
                }
                n->scalar.kind = want;
        } else if (n->scalar.plain && !tag)
                n->scalar.kind = resolve_plain(n->scalar.value, n->scalar.len);
        else
                n->scalar.kind = KL_YAML_STR;

        r = attach(b, n);
        if (r < 0) {
                kl_yaml_node_free(n);
                return r;
        }
        return 0;
}

static int on_collection_start(struct builder *b, const yaml_event_t *ev, enum kl_yaml_type t) {
        bool seq = t == KL_YAML_SEQUENCE;
        const char *anchor = (const char *) (seq ? ev->data.sequence_start.anchor : ev->data.mapping_start.anchor);
        const char *tag = (const char *) (seq ? ev->data.sequence_start.tag : ev->data.mapping_start.tag);
        struct kl_yaml_node *n;
        int r;

        r = check_anchor_tag(b, ev, anchor, tag, seq ? "seq" : "map");
        if (r < 0)
                return r;
        if (b->depth >= b->lim->max_depth || b->depth >= ELEMENTSOF(b->stack)) {
                set_error(b->err, pos_of_mark(&ev->start_mark), "nesting is too deep (limit %zu)",
                          MIN(b->lim->max_depth, ELEMENTSOF(b->stack)));
                return -E2BIG;
        }
        n = new_node(b, t, ev, &r);
        if (!n)
                return r;
        r = attach(b, n);
        if (r < 0) {
                kl_yaml_node_free(n);
                return r;
        }
        b->stack[b->depth++] = n;
        return 0;
}

static int on_event(struct builder *b, const yaml_event_t *ev) {
        switch (ev->type) {
        case YAML_DOCUMENT_START_EVENT: {
                if (b->n_docs >= b->lim->max_documents) {
                        set_error(b->err, pos_of_mark(&ev->start_mark), "too many documents (limit %zu)",
                                  b->lim->max_documents);
                        return -E2BIG;
                }
                if ((b->n_docs & (b->n_docs - 1)) == 0) {
                        size_t cap = b->n_docs ? b->n_docs * 2 : 1;
                        void *d = realloc(b->docs, cap * sizeof(*b->docs));
                        if (!d)
                                return -ENOMEM;
                        b->docs = d;
                }
                b->docs[b->n_docs++] = (struct kl_yaml_doc){.pos = pos_of_mark(&ev->start_mark)};
                b->depth = 0;
                return 0;
        }
        case YAML_ALIAS_EVENT:
                return set_error(b->err, pos_of_mark(&ev->start_mark), "YAML aliases (*%s) are not supported",
                                 (const char *) ev->data.alias.anchor);
        case YAML_SCALAR_EVENT: return on_scalar(b, ev);
        case YAML_SEQUENCE_START_EVENT: return on_collection_start(b, ev, KL_YAML_SEQUENCE);
        case YAML_MAPPING_START_EVENT: return on_collection_start(b, ev, KL_YAML_MAPPING);
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
                if (b->depth == 0)
                        return -EINVAL; /* libyaml guarantees balance */
                b->depth--;
                if (ev->type == YAML_MAPPING_END_EVENT)
                        return check_duplicate_keys(b, b->stack[b->depth]);
                return 0;
        default: return 0;
        }
}

int kl_yaml_parse(const char *buf, size_t len, const struct kl_yaml_limits *limits, struct kl_yaml_doc **ret_docs,
                  size_t *ret_n, struct kl_yaml_error *reterr) {
        struct builder b = {.lim = limits, .err = reterr};
        yaml_parser_t parser;
        size_t bad;
        int r = 0;

        if (!kl_utf8_valid(buf, len, &bad)) {
                set_error(reterr, pos_of_offset(buf, bad), "invalid UTF-8 (byte 0x%02x)", (unsigned char) buf[bad]);
                return -EILSEQ;
        }
        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&parser, (const unsigned char *) buf, len);
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);

        for (;;) {
                yaml_event_t ev;
                if (!yaml_parser_parse(&parser, &ev)) {
                        if (parser.error == YAML_MEMORY_ERROR) {
                                r = -ENOMEM;
                                break;
                        }
                        struct kl_pos pos = pos_of_mark(&parser.problem_mark);
                        if (parser.context)
                                r = set_error(reterr, pos, "invalid YAML: %s %s (line %u column %u)",
                                              strempty(parser.problem), parser.context,
                                              (unsigned) parser.context_mark.line + 1,
                                              (unsigned) parser.context_mark.column + 1);
                        else
                                r = set_error(reterr, pos, "invalid YAML: %s", strempty(parser.problem));
                        break;
                }
                r = on_event(&b, &ev);
                bool done = ev.type == YAML_STREAM_END_EVENT;
                yaml_event_delete(&ev);
                if (r < 0 || done)
                        break;
        }
        yaml_parser_delete(&parser);
        if (r < 0) {
                kl_yaml_docs_free(b.docs, b.n_docs);
                return r;
        }
        *ret_docs = b.docs;
        *ret_n = b.n_docs;
        return 0;
}
