/* SPDX-License-Identifier: Apache-2.0 */
/* Reading a container's CRI log files for the facade's pods/{name}/log, as
 * upstream's kuberuntime ReadLogs (pkg/kubelet/kuberuntime/logs): each line
 * is "<RFC3339Nano> <stream> <P|F> <content>", the rotated files
 * (<n>.log.<YYYYMMDD-HHMMSS>[.gz], logrotate.c) come before the live one,
 * and the options are those of v1 PodLogOptions. Reading is resumable, so a
 * caller emits a bounded amount at a time and never blocks on a slow client. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "lib/strbuf.h"

struct kl_podlogs_opts {
        bool follow, previous, timestamps;
        int64_t tail_lines;    /* < 0: all */
        int64_t since_seconds; /* <= 0: no limit */
        int64_t since_nsec;    /* sinceTime, unix nsec; 0: none */
        int64_t limit_bytes;   /* <= 0: no limit */
};

/* Parse the query of a log request (container is returned separately).
 * -EINVAL with a message in errbuf for an invalid value. */
int kl_podlogs_parse_query(const char *query, struct kl_podlogs_opts *ret, char *container, size_t container_size,
                           char *errbuf, size_t errsize);

/* One parsed CRI log line. */
struct kl_podlogs_line {
        int64_t nsec;
        const char *ts;
        size_t ts_len;
        bool stderr_stream, partial;
        const char *content;
        size_t content_len;
};
/* Parse one line (without its newline). -EBADMSG when malformed. */
int kl_podlogs_parse_line(const char *s, size_t len, struct kl_podlogs_line *ret);
/* RFC 3339 with optional fraction and Z or +hh:mm, to unix nsec. */
int kl_podlogs_parse_time(const char *s, size_t len, int64_t *ret);

struct kl_podlogs;

/* dir: the container's log directory (<podLogsDir>/<ns>_<name>_<uid>/<container>).
 * -ENOENT when there is no log (no such instance: previous of a first run). */
int kl_podlogs_open(const char *dir, const struct kl_podlogs_opts *o, struct kl_podlogs **ret);
struct kl_podlogs *kl_podlogs_free(struct kl_podlogs *l);
/* Append formatted output, about max bytes at most. Returns 1 when more is
 * ready at once, 0 at the end of what exists now (following: poll again
 * later), 2 when done for good (limit reached, or not following at the end,
 * or a newer instance started while following). */
int kl_podlogs_read(struct kl_podlogs *l, struct kl_buf *out, size_t max);
