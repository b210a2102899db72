/* SPDX-License-Identifier: Apache-2.0 */
/* A small YAML node tree built from libyaml events, keeping line and column
 * on every node (the first step of "parse in two steps"; the second step maps
 * the tree to the Pod model). JSON is read through the same path.
 *
 * Hostile input is bounded: nesting depth, node count, scalar length and
 * document count are capped; anchors, aliases, merge keys, duplicate keys,
 * non-core tags, NUL characters and non-UTF-8 input are rejected. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "manifests/pod.h" /* struct kl_pos */

enum kl_yaml_type {
        KL_YAML_SCALAR = 1,
        KL_YAML_SEQUENCE,
        KL_YAML_MAPPING,
};

/* How a scalar resolves under the YAML 1.2 core schema. Quoted and block
 * scalars are always strings; plain ones are typed by their text. The
 * manifest decoder (decode.c) adds YAML 1.1's readings on top, as upstream's
 * go-yaml v2 has them: plain yes/no/on/off/y/n (KL_YAML_STR here) are
 * booleans, and a plain integer with a leading 0 is octal. */
enum kl_yaml_kind {
        KL_YAML_STR = 1,
        KL_YAML_NULL,
        KL_YAML_BOOL,
        KL_YAML_INT,
        KL_YAML_FLOAT,
};

struct kl_yaml_node;

struct kl_yaml_pair {
        struct kl_yaml_node *key; /* always a scalar */
        struct kl_yaml_node *value;
};

struct kl_yaml_node {
        enum kl_yaml_type type;
        struct kl_pos pos;
        union {
                struct {
                        char *value; /* NUL-terminated, never contains NUL */
                        size_t len;
                        enum kl_yaml_kind kind;
                        bool plain; /* written without quotes or block style */
                } scalar;
                struct {
                        struct kl_yaml_node **items;
                        size_t n;
                } seq;
                struct {
                        struct kl_yaml_pair *items; /* in document order */
                        size_t n;
                } map;
        };
};

struct kl_yaml_doc {
        struct kl_yaml_node *root; /* NULL for an empty document */
        struct kl_pos pos;         /* where the document starts */
};

struct kl_yaml_limits {
        size_t max_depth;      /* nesting of sequences/mappings */
        size_t max_nodes;      /* all nodes of all documents */
        size_t max_scalar_len; /* bytes */
        size_t max_documents;
};

struct kl_yaml_error {
        struct kl_pos pos;
        char msg[256];
};

/* Parse a whole stream. On success returns 0 with an array of documents
 * (empty documents have root == NULL). On bad input returns -EINVAL (or
 * -E2BIG when a cap was hit, -EILSEQ for non-UTF-8) and fills reterr. */
int kl_yaml_parse(const char *buf, size_t len, const struct kl_yaml_limits *limits, struct kl_yaml_doc **ret_docs,
                  size_t *ret_n, struct kl_yaml_error *reterr);

struct kl_yaml_node *kl_yaml_node_free(struct kl_yaml_node *n);
void kl_yaml_docs_free(struct kl_yaml_doc *docs, size_t n);

/* The value for key in a mapping, NULL when absent or when map is not a mapping. */
const struct kl_yaml_node *kl_yaml_map_get(const struct kl_yaml_node *map, const char *key);

/* True for a scalar that resolves to null ("", "~", "null"). */
bool kl_yaml_is_null(const struct kl_yaml_node *n);

const char *kl_yaml_kind_to_string(enum kl_yaml_kind k); /* "string", "number", ... */

/* Validate UTF-8 strictly (no overlong forms, surrogates or > U+10FFFF).
 * Returns true when valid; otherwise *ret_bad is the offset of the first bad byte. */
bool kl_utf8_valid(const char *s, size_t len, size_t *ret_bad);
