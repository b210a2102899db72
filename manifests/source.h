/* SPDX-License-Identifier: Apache-2.0 */
/* The static pod directory (/etc/kubernetes/manifests): which files are read,
 * watching them with inotify, debouncing, and "atomic" updates: a file that
 * turns invalid keeps its last good pods until it is fixed or deleted.
 *
 * Usage from an epoll loop:
 *   kl_source_new(dir, node, &opts, &s);
 *   poll kl_source_fd(s) for EPOLLIN -> kl_source_handle_events(s, now);
 *   arm a timer for kl_source_next_deadline(s) -> kl_source_sync(s, now, false, &changed);
 *   if changed: kl_source_entries(s, &n).
 * Times are CLOCK_MONOTONIC microseconds supplied by the caller. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "manifests/manifest.h"
#include "manifests/pod.h"

struct kl_source;

struct kl_source_entry {
        char *file; /* file name relative to the directory */
        struct kl_pod *
                *pods; /* pods from the LAST GOOD parse of this file (kept when the file later becomes invalid) */
        size_t n_pods;
        char *error; /* current problem with the file ("file:line:col: path: msg", may hold several lines), NULL if ok */
        char **warnings;   /* strv of warnings from the current parse, may be NULL */
        bool error_is_new; /* error changed since the previous kl_source_sync (false when error is NULL) */
};

/* dir is made absolute (against the current directory) and may not exist
 * yet: it is waited for. opts may be NULL for defaults. */
int kl_source_new(const char *dir, const char *node_name, const struct kl_manifest_opts *opts, struct kl_source **ret);
struct kl_source *kl_source_free(struct kl_source *s);
static inline void kl_source_freep(struct kl_source **s) {
        if (*s)
                *s = kl_source_free(*s);
}

/* inotify fd (IN_CLOEXEC|IN_NONBLOCK), stable for the source's life; poll it in epoll */
int kl_source_fd(struct kl_source *s);

/* drain inotify; returns >0 if something changed (a sync is due after the debounce), 0 otherwise */
int kl_source_handle_events(struct kl_source *s, uint64_t now_usec);

/* CLOCK_MONOTONIC usec when kl_source_sync should be called next (debounce
 * expiry, periodic rescan, or retry of a missing dir); UINT64_MAX if none.
 * 0 right after kl_source_new(): the first sync is due at once. */
uint64_t kl_source_next_deadline(struct kl_source *s);

/* If a debounced change/timer is due (or force): rescan the directory; parse
 * only files whose (ino, size, mtime_nsec, ctime) changed or that had events
 * (force reparses every file); *ret_changed true if the resulting set of
 * entries/pods/errors changed. Returns -errno when the directory cannot be
 * read (entries are then left as they were). */
int kl_source_sync(struct kl_source *s, uint64_t now_usec, bool force, bool *ret_changed);

/* sorted by file name; valid until the next kl_source_sync() or kl_source_free() */
const struct kl_source_entry *kl_source_entries(struct kl_source *s, size_t *ret_n);

/* path made absolute against the current directory, without "." components
 * and repeated or trailing slashes: the form used for pod identities. */
int kl_source_absolute_path(const char *path, char **ret);

/* Why a directory entry name is not read ("editor temporary file", ...),
 * NULL when it is a manifest candidate (*.yaml, *.yml, *.json and not
 * ignored). Upstream's file source reads every name not starting with a dot;
 * we keep to manifest suffixes unless told otherwise: */
const char *kl_source_ignore_reason(const char *name);
/* The same with the accepted suffixes given (manifestSuffixes: ".manifest"
 * for GCE's directories, "*" for every name, as upstream; hidden, editor,
 * backup and package manager files are skipped whatever the suffixes);
 * suffixes NULL means the default. */
const char *kl_source_ignore_reason_with(const char *name, char *const *suffixes);
/* Set the accepted suffixes (copied; NULL: the default). The next sync
 * rescans everything. -ENOMEM. */
int kl_source_set_suffixes(struct kl_source *s, char *const *suffixes);

/* Names the last kl_source_sync() skipped that the sync before did not (each
 * name is reported once while it stays), as "'NAME': REASON", at most
 * KL_SOURCE_SKIPPED_MAX; *ret_more counts the rest. Valid until the next
 * sync. The daemon logs them at info level. */
#define KL_SOURCE_SKIPPED_MAX 50
char *const *kl_source_skipped(struct kl_source *s, size_t *ret_n, size_t *ret_more);
