/* SPDX-License-Identifier: Apache-2.0 */
/* Container log rotation, after upstream kubelet's container log manager.
 *
 * The runtime writes a container's log to LOG (for example
 * /var/log/pods/NS_POD_UID/CONTAINER/0.log). When LOG reaches max_size it is
 * renamed to "LOG.YYYYMMDD-HHMMSS" (UTC) and the runtime must reopen LOG
 * (CRI ReopenContainerLog: this module never talks CRI, it returns a flag).
 * After a successful reopen the rotated file is gzip-compressed to
 * "LOG.YYYYMMDD-HHMMSS.gz" (written as ".gz.tmp", fsynced, renamed) and the
 * oldest rotated files are deleted so that at most max_files files exist,
 * the live LOG included. When the reopen fails the rotated file is renamed
 * back to LOG, as upstream does, and rotation is retried on the next check.
 *
 * Compression is incremental: each call compresses at most compress_budget
 * bytes of input and the rest continues on later calls, so a 10 MiB log never
 * blocks the event loop for long. One file is compressed at a time.
 *
 * Per container the daemon does, every pass (upstream: every 10 s), for
 * running containers only:
 *
 *   bool reopen;
 *   r = kl_logrotate_check(lr, log_path, &reopen, &err);
 *   if (r >= 0 && reopen) {
 *           bool ok = cri_reopen_container_log(id) >= 0;
 *           r = kl_logrotate_finish(lr, log_path, ok, &err);
 *   }
 *
 * and while kl_logrotate_step() returns > 0 it calls it again soon (for
 * example on a 100 ms timer) to finish a compression in small slices.
 *
 * Crash safety: leftover ".tmp" files are deleted by the next check, and a
 * rotated file whose ".gz" already exists is deleted (it was compressed but
 * not yet removed). Files that do not look like ours are never touched.
 * Not thread-safe; one instance per daemon. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "lib/error.h"
#include "lib/macros.h"

#define KL_LOGROTATE_MAX_SIZE_DEFAULT (10 * 1024 * 1024) /* containerLogMaxSize 10Mi */
#define KL_LOGROTATE_MAX_FILES_DEFAULT 5                 /* containerLogMaxFiles */
#define KL_LOGROTATE_BUDGET_DEFAULT (1024 * 1024)        /* input bytes compressed per call */

struct kl_logrotate_options {
        int64_t max_size;         /* bytes; 0: default; < 0: never rotate (cleanup still runs) */
        int max_files;            /* 0: default; otherwise >= 2 */
        uint64_t compress_budget; /* 0: default */
        int compress_level;       /* zlib level 1..9; 0: zlib's default (6) */
        time_t (*now)(void);      /* clock for the rotated names; NULL: time() */
};

struct kl_logrotate;

/* opts may be NULL (all defaults). -EINVAL for max_files 1 or negative, a
 * level above 9; -ENOMEM. */
int kl_logrotate_new(const struct kl_logrotate_options *opts, struct kl_logrotate **ret);
/* Abandons a compression in progress (its .tmp is removed; the rotated file
 * stays and is compressed again later). */
struct kl_logrotate *kl_logrotate_free(struct kl_logrotate *lr);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct kl_logrotate *, kl_logrotate_free);

/* One housekeeping pass over log_path's rotated files (remove leftovers,
 * delete beyond max_files, compress within the budget), then rotate log_path
 * if it is at least max_size bytes. *ret_need_reopen is true when the runtime
 * must reopen the log: after a rotation, and also when log_path is missing
 * (deleted underneath: the runtime is writing to a file nobody can see).
 * -ENOENT when the log's directory does not exist; other -errno with reterr
 * set. A second rotation within the same second is postponed (no reopen). */
int kl_logrotate_check(struct kl_logrotate *lr, const char *log_path, bool *ret_need_reopen, struct kl_error *reterr);

/* Call after kl_logrotate_check() asked for a reopen of log_path, with the
 * result of the reopen. reopen_ok: compress the rotated file (within the
 * budget) and delete the oldest beyond max_files. !reopen_ok: rename the
 * rotated file back to log_path (unless the runtime has recreated log_path).
 * 0, or -errno with reterr set. */
int kl_logrotate_finish(struct kl_logrotate *lr, const char *log_path, bool reopen_ok, struct kl_error *reterr);

/* Continue the compression in progress by one budget. > 0 when work remains
 * (call again soon), 0 when idle, -errno when the compression failed (the
 * rotated file is kept and retried by a later check). */
int kl_logrotate_step(struct kl_logrotate *lr, struct kl_error *reterr);

/* Remove log_path and all its rotated and compressed files (container
 * removed: upstream's Clean). A missing file or directory is fine. */
int kl_logrotate_remove(struct kl_logrotate *lr, const char *log_path);

/* rm -rf the pod's log directory (/var/log/pods/NS_POD_UID) once the pod is
 * gone, abandoning a compression running inside it. pod_log_dir must be an
 * absolute path other than "/". A missing directory is fine. */
int kl_logrotate_remove_all(struct kl_logrotate *lr, const char *pod_log_dir);
