/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Read a whole file relative to dirfd (AT_FDCWD allowed) into a NUL-terminated
 * buffer. Fails with -EFBIG when it is larger than max bytes, -EISDIR for a
 * directory and -EBADFD for anything else that is not a regular file (a FIFO
 * would block). O_CLOEXEC, and O_NOFOLLOW when nofollow is set (-ELOOP). */
int kl_read_file_at(int dirfd, const char *path, size_t max, int nofollow, char **ret_buf, size_t *ret_len);

/* Atomically replace dirfd/name with data: temp file in the same directory
 * (random name, O_EXCL), fsync, rename, fsync the directory. name may have a
 * directory part. On failure the old file is untouched and no temp file is left. */
int kl_write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, int mode);
/* The same; with durable false, without the two fsyncs: readers still never
 * see a partial file, but a power cut may leave the old one (or, on some
 * file systems, an empty one). For files rewritten every few seconds that
 * are only a view of memory (node-status.json), where an fsync on a busy
 * flash can stall the loop for hundreds of ms. */
int kl_write_file_replace_at(int dirfd, const char *name, const void *data, size_t len, int mode, bool durable);

/* Full write, retrying on EINTR and short writes. */
int kl_write_all(int fd, const void *data, size_t len);

/* mkdir -p, mode for created directories; -ENOTDIR when a non-directory is in the way. */
int kl_mkdir_p(const char *path, int mode);

/* rm -rf of dfd/name without following symlinks. A missing path is fine.
 * Never descends into another file system below name (a mount point inside is
 * left alone and the result is -EXDEV); other errors are reported after
 * removing what can be removed. */
int kl_rm_rf_at(int dfd, const char *name);
