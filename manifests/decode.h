/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to manifests/: the state of mapping a YAML tree to the Pod model.
 * It tracks the field path ("spec.containers[0].image") and collects errors
 * and warnings as "FILE:LINE:COL: path: message" lines. Typed getters check
 * a node's type and report a precise error when it is wrong. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/macros.h"
#include "manifests/manifest.h"
#include "manifests/yaml.h"

#define KL__PATH_MAX 512
#define KL__QUOTE_MAX 160

struct kl__dec {
        char file[256]; /* escaped for messages */
        const struct kl_manifest_opts *opts;
        const char *node_name; /* may be NULL */
        char path[KL__PATH_MAX];
        size_t plen;
        char **errors;
        size_t n_errors, n_dropped;
        char **warnings;
        size_t n_warnings, n_warnings_dropped;
        bool oom;
        bool containers_rejected; /* spec.containers was refused as a whole */
        char qbuf[4][KL__QUOTE_MAX];
        unsigned qi;
};

void kl__dec_init(struct kl__dec *d, const char *file, const struct kl_manifest_opts *opts);
void kl__dec_done(struct kl__dec *d);
/* Move the collected errors into m->errors ("... N more errors" appended when capped). */
int kl__dec_finish(struct kl__dec *d, struct kl_manifest *m);

/* Path handling: push returns the previous length for pop. */
size_t kl__dec_push(struct kl__dec *d, const char *field);
size_t kl__dec_push_index(struct kl__dec *d, size_t i);
void kl__dec_pop(struct kl__dec *d, size_t saved);
/* Replace the path wholesale (for checks done after decoding). */
void kl__dec_set_path(struct kl__dec *d, const char *fmt, ...) _printf_(2, 3);

/* A user string, double-quoted, escaped and shortened, for messages. Valid
 * until four more calls. */
const char *kl__dec_q(struct kl__dec *d, const char *s);

/* "FILE:L:C: PATH: message" (no "PATH: " when the path is empty). */
void kl__dec_error(struct kl__dec *d, struct kl_pos pos, const char *fmt, ...) _printf_(3, 4);
void kl__dec_warning(struct kl__dec *d, struct kl_pos pos, const char *fmt, ...) _printf_(3, 4);
/* Same without the path (the message carries it). */
void kl__dec_error_nopath(struct kl__dec *d, struct kl_pos pos, const char *fmt, ...) _printf_(3, 4);
void kl__dec_warning_nopath(struct kl__dec *d, struct kl_pos pos, const char *fmt, ...) _printf_(3, 4);

/* The current path names an unknown field: a warning, or an error in strict
 * mode, like kubectl's field validation, with a suggestion from known. */
void kl__dec_unknown(struct kl__dec *d, const struct kl_yaml_node *key, const char *const *known);
/* A Kubernetes field kubelet-lite does not implement: an error when it
 * would change what runs (fatal), else a warning that it is ignored. */
void kl__dec_unsupported(struct kl__dec *d, const struct kl_yaml_node *key, bool fatal, const char *why);

/* A field that Kubernetes added after v1.30 (since_minor, e.g. 32): the
 * v1.30 kubelet kubelet-lite follows drops it as unknown, so it is ignored
 * with a warning (an error in strict mode). */
void kl__dec_newer(struct kl__dec *d, const struct kl_yaml_node *key, int since_minor);

/* Iterate a mapping: each step pops the previous key and pushes the next.
 * Do not break out of the loop. */
struct kl__field {
        size_t i, saved;
        const char *name;
        const struct kl_yaml_node *key, *value;
};
bool kl__dec_next_field(struct kl__dec *d, const struct kl_yaml_node *map, struct kl__field *f);
#define KL__FOREACH_FIELD(d, map, f) for (struct kl__field f = {.i = SIZE_MAX}; kl__dec_next_field((d), (map), &f);)
/* Iterate a sequence, pushing "[i]". */
bool kl__dec_next_item(struct kl__dec *d, const struct kl_yaml_node *seq, struct kl__field *f);
#define KL__FOREACH_ITEM(d, seq, f) for (struct kl__field f = {.i = SIZE_MAX}; kl__dec_next_item((d), (seq), &f);)

/* Typed getters. Each returns true when v held a usable value (which is then
 * stored), false when v is null (nothing stored, no error) or has the wrong
 * type or value (error reported at v). */
bool kl__dec_map(struct kl__dec *d, const struct kl_yaml_node *v);
bool kl__dec_seq(struct kl__dec *d, const struct kl_yaml_node *v);
bool kl__dec_str(struct kl__dec *d, const struct kl_yaml_node *v, char **ret);
/* Any scalar's text (numbers included), e.g. for quantities. */
bool kl__dec_scalar_text(struct kl__dec *d, const struct kl_yaml_node *v, const char **ret);
bool kl__dec_bool(struct kl__dec *d, const struct kl_yaml_node *v, bool *ret);
bool kl__dec_tristate(struct kl__dec *d, const struct kl_yaml_node *v, int *ret);
bool kl__dec_int(struct kl__dec *d, const struct kl_yaml_node *v, int64_t min, int64_t max, int64_t *ret);
bool kl__dec_int32(struct kl__dec *d, const struct kl_yaml_node *v, int min, int max, int *ret);
bool kl__dec_strv(struct kl__dec *d, const struct kl_yaml_node *v, char ***ret);
/* A mapping of string to string (labels, annotations). */
bool kl__dec_string_map(struct kl__dec *d, const struct kl_yaml_node *v, struct kl_kv **ret, size_t *ret_n);
/* v must be one of the NULL-terminated names; *ret is its index. */
bool kl__dec_enum(struct kl__dec *d, const struct kl_yaml_node *v, const char *const *names, int *ret);

/* calloc() that records OOM in d (NULL for n == 0 too). */
void *kl__dec_calloc(struct kl__dec *d, size_t n, size_t size);
char *kl__dec_strdup(struct kl__dec *d, const char *s);
