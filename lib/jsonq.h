/* SPDX-License-Identifier: Apache-2.0 */
/* A small read-only JSON parser (the API facade's requests, the device
 * checkpoint): turns a document into a flat array of nodes that point back
 * into the source text, so that a sub-object can be copied out verbatim and
 * a field looked up by path.
 * Strict RFC 8259; nesting depth and node count are capped. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/strbuf.h"

#define KL_JSONQ_MAX_DEPTH 64

enum kl_jsonq_type {
        KL_JSONQ_NULL,
        KL_JSONQ_BOOL,
        KL_JSONQ_NUMBER,
        KL_JSONQ_STRING,
        KL_JSONQ_ARRAY,
        KL_JSONQ_OBJECT,
};

struct kl_jsonq_node {
        enum kl_jsonq_type type;
        size_t start, len;         /* the value's text, quotes included for strings */
        size_t key_start, key_len; /* member of an object: the key's raw text without quotes */
        int child, next;           /* first child, next sibling; -1 when none */
};

struct kl_jsonq {
        const char *text;
        struct kl_jsonq_node *nodes;
        size_t n, cap;
};

/* Parse text[0..len). -EBADMSG when it is not valid JSON, -E2BIG past
 * max_nodes or KL_JSONQ_MAX_DEPTH. The text must outlive the result. */
int kl_jsonq_parse(const char *text, size_t len, size_t max_nodes, struct kl_jsonq *ret);
void kl_jsonq_done(struct kl_jsonq *q);

/* The member of object node obj named key (raw key text), or -1. */
int kl_jsonq_get(const struct kl_jsonq *q, int obj, const char *key);
/* A dotted path of member names from node n ("metadata.name"), or -1. */
int kl_jsonq_path(const struct kl_jsonq *q, int n, const char *path);
/* A string node's decoded value into buf (NUL-terminated, truncated to n-1);
 * numbers and booleans as their text. Returns false (and "") otherwise. */
bool kl_jsonq_str(const struct kl_jsonq *q, int n, char *buf, size_t size);
/* The string at a path, or "" */
const char *kl_jsonq_path_str(const struct kl_jsonq *q, int n, const char *path, char *buf, size_t size);
int64_t kl_jsonq_path_int(const struct kl_jsonq *q, int n, const char *path, int64_t def);
/* Append node n's text verbatim. */
void kl_jsonq_copy(const struct kl_jsonq *q, int n, struct kl_buf *b);
