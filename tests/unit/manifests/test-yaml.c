/* SPDX-License-Identifier: Apache-2.0 */
/* The YAML node tree: positions, scalar typing, caps, and what is rejected. */
#include <errno.h>
#include <string.h>

#include "lib/macros.h"
#include "manifests/yaml.h"
#include "tests/lib/tests.h"

static const struct kl_yaml_limits big = {
        .max_depth = 64, .max_nodes = 100000, .max_scalar_len = 65536, .max_documents = 64};

struct parsed {
        struct kl_yaml_doc *docs;
        size_t n;
        struct kl_yaml_error err;
        int r;
};

static struct parsed parse_lim(const char *s, const struct kl_yaml_limits *lim) {
        struct parsed p = {0};
        p.r = kl_yaml_parse(s, strlen(s), lim, &p.docs, &p.n, &p.err);
        return p;
}

static struct parsed parse(const char *s) {
        return parse_lim(s, &big);
}

static void done(struct parsed *p) {
        if (p->r == 0)
                kl_yaml_docs_free(p->docs, p->n);
}

#define ASSERT_POS(n, l, c)                    \
        do {                                   \
                ASSERT_EQ((n)->pos.line, (l)); \
                ASSERT_EQ((n)->pos.col, (c));  \
        } while (0)

/* Expect a parse error r at line:col whose message contains msg. */
static void expect_error(const char *yaml, int r, unsigned line, unsigned col, const char *msg) {
        struct parsed p = parse(yaml);
        if (p.r != r || p.err.pos.line != line || p.err.pos.col != col || !strstr(p.err.msg, msg))
                fprintf(stderr, "  input %s: got r=%d at %u:%u \"%s\"\n", yaml, p.r, p.err.pos.line, p.err.pos.col,
                        p.err.msg);
        ASSERT_EQ(p.r, r);
        ASSERT_EQ(p.err.pos.line, line);
        ASSERT_EQ(p.err.pos.col, col);
        ASSERT_CONTAINS(p.err.msg, msg);
        printf("  rejected at %u:%u: %s\n", line, col, p.err.msg);
}

TEST(tree_and_positions) {
        struct parsed p = parse("a: 1\nb:\n  - x\n  - {y: \"z\"}\nc: |\n  text\n");
        const struct kl_yaml_node *root, *b, *item;

        ASSERT_OK(p.r);
        ASSERT_EQ(p.n, 1);
        root = p.docs[0].root;
        ASSERT_EQ(root->type, KL_YAML_MAPPING);
        ASSERT_EQ(root->map.n, 3);
        ASSERT_POS(root, 1, 1);
        ASSERT_STREQ(root->map.items[0].key->scalar.value, "a");
        ASSERT_POS(root->map.items[0].key, 1, 1);
        ASSERT_POS(root->map.items[0].value, 1, 4);
        ASSERT_EQ(root->map.items[0].value->scalar.kind, KL_YAML_INT);

        b = kl_yaml_map_get(root, "b");
        ASSERT_NOT_NULL(b);
        ASSERT_EQ(b->type, KL_YAML_SEQUENCE);
        ASSERT_EQ(b->seq.n, 2);
        ASSERT_POS(b, 3, 3);
        ASSERT_POS(b->seq.items[0], 3, 5);
        item = b->seq.items[1];
        ASSERT_EQ(item->type, KL_YAML_MAPPING);
        ASSERT_POS(item, 4, 5);
        ASSERT_POS(item->map.items[0].value, 4, 9);
        ASSERT_STREQ(kl_yaml_map_get(item, "y")->scalar.value, "z");
        ASSERT_FALSE(kl_yaml_map_get(item, "y")->scalar.plain);

        ASSERT_STREQ(kl_yaml_map_get(root, "c")->scalar.value, "text\n");
        ASSERT_EQ(kl_yaml_map_get(root, "c")->scalar.kind, KL_YAML_STR);
        ASSERT_NULL(kl_yaml_map_get(root, "missing"));
        ASSERT_NULL(kl_yaml_map_get(b, "a")); /* not a mapping */
        done(&p);
}

TEST(columns_count_characters) {
        /* "é" is two bytes but one column */
        struct parsed p = parse("é: x\nb: [ü, y]\n");
        ASSERT_OK(p.r);
        ASSERT_POS(p.docs[0].root->map.items[0].value, 1, 4);
        ASSERT_POS(kl_yaml_map_get(p.docs[0].root, "b")->seq.items[1], 2, 8);
        done(&p);
}

TEST(scalar_kinds_core_schema) {
        static const struct {
                const char *text;
                enum kl_yaml_kind kind;
        } cases[] = {
                {"true", KL_YAML_BOOL},    {"False", KL_YAML_BOOL},       {"TRUE", KL_YAML_BOOL},
                {"yes", KL_YAML_STR},      {"on", KL_YAML_STR},           {"y", KL_YAML_STR},
                {"~", KL_YAML_NULL},       {"null", KL_YAML_NULL},        {"Null", KL_YAML_NULL},
                {"", KL_YAML_NULL},        {"12", KL_YAML_INT},           {"-12", KL_YAML_INT},
                {"+12", KL_YAML_INT},      {"0x1f", KL_YAML_INT},         {"0o17", KL_YAML_INT},
                {"1.5", KL_YAML_FLOAT},    {"1e3", KL_YAML_FLOAT},        {".5", KL_YAML_FLOAT},
                {"-.inf", KL_YAML_FLOAT},  {".NaN", KL_YAML_FLOAT},       {"1.", KL_YAML_FLOAT},
                {"12abc", KL_YAML_STR},    {"100m", KL_YAML_STR},         {"128Mi", KL_YAML_STR},
                {"0x", KL_YAML_STR},       {"1e", KL_YAML_STR},           {"'true'", KL_YAML_STR},
                {"\"12\"", KL_YAML_STR},   {"!!str 12", KL_YAML_STR},     {"! 12", KL_YAML_STR},
                {"!!int 12", KL_YAML_INT}, {"!!float 12", KL_YAML_FLOAT}, {"!!null ~", KL_YAML_NULL},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char buf[64];
                snprintf(buf, sizeof(buf), "k: %s\n", cases[i].text);
                struct parsed p = parse(buf);
                ASSERT_OK(p.r);
                const struct kl_yaml_node *v = kl_yaml_map_get(p.docs[0].root, "k");
                ASSERT_NOT_NULL(v);
                if (v->scalar.kind != cases[i].kind)
                        fprintf(stderr, "  %s: kind %d, want %d\n", cases[i].text, v->scalar.kind, cases[i].kind);
                ASSERT_EQ(v->scalar.kind, cases[i].kind);
                done(&p);
        }
        printf("  checked %zu scalars\n", sizeof(cases) / sizeof(cases[0]));
}

TEST(documents) {
        struct parsed p = parse("a: 1\n---\n---\n# only a comment\n---\nb: 2\n...\n");
        ASSERT_OK(p.r);
        ASSERT_EQ(p.n, 4);
        ASSERT_EQ(p.docs[0].root->type, KL_YAML_MAPPING);
        ASSERT_TRUE(!p.docs[1].root || kl_yaml_is_null(p.docs[1].root));
        ASSERT_TRUE(!p.docs[2].root || kl_yaml_is_null(p.docs[2].root));
        ASSERT_POS(p.docs[3].root, 6, 1);
        ASSERT_EQ(p.docs[3].pos.line, 5);
        done(&p);

        p = parse("");
        ASSERT_OK(p.r);
        ASSERT_EQ(p.n, 0);
        done(&p);
        p = parse("# nothing\n");
        ASSERT_OK(p.r);
        ASSERT_EQ(p.n, 0);
        done(&p);
}

TEST(json_input) {
        struct parsed p = parse("{\n\t\"a\": [1, 2.5, {\"b\": null}],\n\t\"c\":\"d\"}");
        ASSERT_OK(p.r);
        const struct kl_yaml_node *a = kl_yaml_map_get(p.docs[0].root, "a");
        ASSERT_EQ(a->seq.n, 3);
        ASSERT_EQ(a->seq.items[1]->scalar.kind, KL_YAML_FLOAT);
        ASSERT_TRUE(kl_yaml_is_null(kl_yaml_map_get(a->seq.items[2], "b")));
        ASSERT_STREQ(kl_yaml_map_get(p.docs[0].root, "c")->scalar.value, "d");
        ASSERT_POS(a, 2, 7);
        done(&p);
}

TEST(duplicate_keys) {
        expect_error("a: 1\nb: 2\na: 3\n", -EINVAL, 3, 1, "duplicate key \"a\" (first defined at line 1)");
        expect_error("{\"x\": {\"k\": 1, \"k\": 2}}", -EINVAL, 1, 16, "duplicate key \"k\"");
        /* the first repeat in document order is reported */
        expect_error("b: 1\na: 1\nb: 2\na: 2\n", -EINVAL, 3, 1, "duplicate key \"b\"");
        /* same text, different quoting: still the same key */
        expect_error("a: 1\n'a': 2\n", -EINVAL, 2, 1, "duplicate key");
}

TEST(anchors_aliases_merge_keys) {
        expect_error("a: &x 1\nb: *x\n", -EINVAL, 1, 4, "anchors (&x) are not supported");
        expect_error("a: &x [1]\n", -EINVAL, 1, 4, "anchors");
        expect_error("a: &x {b: 1}\n", -EINVAL, 1, 4, "anchors");
        expect_error("b: *x\n", -EINVAL, 1, 4, "aliases (*x) are not supported");
        expect_error("a:\n  <<: {b: 1}\n", -EINVAL, 2, 3, "merge keys (<<) are not supported");
        /* a billion laughs stops at the first anchor */
        expect_error("a: &a [\"lol\",\"lol\"]\nb: &b [*a,*a,*a]\n", -EINVAL, 1, 4, "anchors");

        /* a quoted "<<" is an ordinary key */
        struct parsed p = parse("'<<': 1\n");
        ASSERT_OK(p.r);
        done(&p);
}

TEST(tags) {
        expect_error("a: !!binary aGk=\n", -EINVAL, 1, 4, "tag 'tag:yaml.org,2002:binary' is not supported");
        expect_error("a: !custom x\n", -EINVAL, 1, 4, "tag '!custom' is not supported");
        expect_error("a: !!set {b}\n", -EINVAL, 1, 4, "not supported");
        expect_error("a: !!seq {b: 1}\n", -EINVAL, 1, 4, "not supported");
        expect_error("a: !!int abc\n", -EINVAL, 1, 4, "does not match its tag");
        expect_error("a: !!bool 1\n", -EINVAL, 1, 4, "does not match its tag");
        expect_error("%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n", -EINVAL, 3, 4, "not supported");

        struct parsed p = parse("a: !!map {b: !!seq [!!str 1]}\n");
        ASSERT_OK(p.r);
        done(&p);
}

TEST(non_utf8_rejected) {
        expect_error("a: caf\xe9\n", -EILSEQ, 1, 7, "invalid UTF-8 (byte 0xe9)");
        expect_error("a: 1\nb: \xc0\xaf\n", -EILSEQ, 2, 4, "invalid UTF-8");   /* overlong '/' */
        expect_error("a: \xed\xa0\x80\n", -EILSEQ, 1, 4, "invalid UTF-8");     /* surrogate */
        expect_error("a: \xf4\x90\x80\x80\n", -EILSEQ, 1, 4, "invalid UTF-8"); /* > U+10FFFF */
        expect_error("a: \xe2\x82\n", -EILSEQ, 1, 4, "invalid UTF-8");         /* truncated */
        expect_error("\xff\xfe"
                     "a\0:\0",
                     -EILSEQ, 1, 1, "invalid UTF-8"); /* UTF-16 BOM */

        size_t bad = 0;
        ASSERT_TRUE(kl_utf8_valid("caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80", 14, &bad));
        ASSERT_FALSE(kl_utf8_valid("ab\x80", 3, &bad));
        ASSERT_EQ(bad, 2);

        /* a UTF-8 byte order mark is fine */
        struct parsed p = parse("\xef\xbb\xbf"
                                "a: 1\n");
        ASSERT_OK(p.r);
        done(&p);
}

TEST(nul_and_structure) {
        expect_error("a: \"x\\0y\"\n", -EINVAL, 1, 4, "NUL characters are not allowed");
        expect_error("? [a]\n: 1\n", -EINVAL, 1, 3, "mapping keys must be strings");
        expect_error("a: [1\n", -EINVAL, 2, 1, "invalid YAML");
        expect_error("a: b: c\n", -EINVAL, 1, 5, "invalid YAML: mapping values are not allowed");
        expect_error("\ta: 1\n", -EINVAL, 1, 1, "invalid YAML");
}

TEST(caps) {
        struct kl_yaml_limits lim = big;
        struct parsed p;

        lim.max_depth = 3;
        p = parse_lim("a: [[1]]\n", &lim); /* depth 3: map, seq, seq */
        ASSERT_OK(p.r);
        done(&p);
        p = parse_lim("a: [[[1]]]\n", &lim);
        ASSERT_EQ(p.r, -E2BIG);
        ASSERT_CONTAINS(p.err.msg, "nesting is too deep (limit 3)");
        ASSERT_POS(&p.err, 1, 6);

        /* deeper than the builder's own stack, whatever the configured limit */
        lim = big;
        lim.max_depth = 100000;
        char deep[2000];
        memset(deep, '[', 1000);
        memset(deep + 1000, ']', 999);
        deep[1999] = '\0';
        p = parse_lim(deep, &lim);
        ASSERT_EQ(p.r, -E2BIG);
        ASSERT_CONTAINS(p.err.msg, "nesting is too deep");

        lim = big;
        lim.max_nodes = 5;
        p = parse_lim("[1, 2, 3, 4]\n", &lim); /* 5 nodes */
        ASSERT_OK(p.r);
        done(&p);
        p = parse_lim("[1, 2, 3, 4, 5]\n", &lim);
        ASSERT_EQ(p.r, -E2BIG);
        ASSERT_CONTAINS(p.err.msg, "too many nodes (limit 5)");

        lim = big;
        lim.max_scalar_len = 4;
        p = parse_lim("a: abcd\n", &lim);
        ASSERT_OK(p.r);
        done(&p);
        p = parse_lim("a: abcde\n", &lim);
        ASSERT_EQ(p.r, -E2BIG);
        ASSERT_CONTAINS(p.err.msg, "scalar is too long (5 bytes, limit 4)");

        lim = big;
        lim.max_documents = 2;
        p = parse_lim("a: 1\n---\nb: 2\n", &lim);
        ASSERT_OK(p.r);
        done(&p);
        p = parse_lim("a: 1\n---\nb: 2\n---\nc: 3\n", &lim);
        ASSERT_EQ(p.r, -E2BIG);
        ASSERT_CONTAINS(p.err.msg, "too many documents (limit 2)");
        ASSERT_POS(&p.err, 4, 1);
}

TEST(large_mapping_duplicate_check_is_fast) {
        /* 50k keys: a quadratic duplicate check would take many seconds */
        struct kl_yaml_limits lim = big;
        size_t n = 50000, cap = n * 16 + 1, o = 0;
        _cleanup_free_ char *s = malloc(cap);
        ASSERT_NOT_NULL(s);
        for (size_t i = 0; i < n; i++)
                o += (size_t) snprintf(s + o, cap - o, "k%zu: %zu\n", i, i);
        lim.max_nodes = 2 * n + 10;
        struct parsed p = parse_lim(s, &lim);
        ASSERT_OK(p.r);
        ASSERT_EQ(p.docs[0].root->map.n, n);
        done(&p);
        o += (size_t) snprintf(s + o, cap - o, "k%zu: dup\n", n / 2);
        p = parse_lim(s, &lim);
        ASSERT_EQ(p.r, -EINVAL);
        ASSERT_CONTAINS(p.err.msg, "duplicate key \"k25000\" (first defined at line 25001)");
}

TEST_MAIN()
