/* SPDX-License-Identifier: Apache-2.0 */
/* Manifest files to pods: YAML or JSON, one or more documents, each `kind:
 * Pod` document becomes a validated and defaulted struct kl_pod. A file is
 * accepted or rejected as a whole, and a rejected file reports all its errors
 * (up to max_errors) as lines "FILE:LINE:COL: field.path: message".
 * See docs/MANIFESTS.md for the supported fields and rules. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "manifests/pod.h"

struct kl_manifest_opts {
        /* caps on what a file controls */
        size_t max_file_size;  /* bytes; default 1 MiB */
        size_t max_depth;      /* nesting of mappings/sequences; default 64 */
        size_t max_nodes;      /* YAML nodes per file; default 100000 */
        size_t max_scalar_len; /* bytes per scalar; default 64 KiB */
        size_t max_containers; /* init + app containers per pod; default 64 */
        size_t max_documents;  /* YAML documents per file; default 64 */
        size_t max_errors;     /* errors, and warnings, reported per file; default 20 */
        bool strict;           /* unknown fields are errors instead of warnings */

        /* directory intake (manifests/source.h) */
        uint64_t debounce_usec;       /* quiet time before a changed file is read; default 100 ms */
        uint64_t rescan_usec;         /* periodic full rescan (fileCheckFrequency); default 20 s */
        uint64_t max_write_wait_usec; /* longest wait for a file still open for writing; default 5 s */
};

void kl_manifest_opts_default(struct kl_manifest_opts *ret);

struct kl_manifest {
        struct kl_pod **pods; /* empty when errors is non-NULL */
        size_t n_pods;
        char **errors;   /* strv of "FILE:LINE:COL: path: message", NULL when valid */
        char **warnings; /* strv in the same format, may be NULL */
};

void kl_manifest_done(struct kl_manifest *m);

/* Parse data (len bytes, need not be NUL-terminated) read from file. `file`
 * names the file in messages and is the source path that goes into the pods'
 * identity. With node_name set, each pod gets kl_pod_set_identity(node_name,
 * file) and its full name is checked; with NULL, identity is left empty.
 * opts may be NULL for defaults.
 * Returns 0 when valid (n_pods may be 0 for a file of empty documents),
 * -EINVAL when ret->errors lists problems, -ENOMEM. ret is always initialised. */
int kl_manifest_parse(const char *data, size_t len, const char *file, const char *node_name,
                      const struct kl_manifest_opts *opts, struct kl_manifest *ret);

/* Read path (relative to dirfd, AT_FDCWD allowed) with the size cap, then
 * kl_manifest_parse() it with display_name (path when NULL) as the file.
 * Only regular files are read (symlinks are followed). Errors reading the
 * file become an error line like the others; returns -EINVAL then. */
int kl_manifest_parse_file(int dirfd, const char *path, const char *display_name, const char *node_name,
                           const struct kl_manifest_opts *opts, struct kl_manifest *ret);

/* The same for an open file (read from its current offset). */
int kl_manifest_parse_fd(int fd, const char *display_name, const char *node_name, const struct kl_manifest_opts *opts,
                         struct kl_manifest *ret);
