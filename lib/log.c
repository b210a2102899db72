/* SPDX-License-Identifier: Apache-2.0 */
#include "log.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int max_level = KL_LOG_INFO;

void kl_log_set_max_level(int level) {
        max_level = level;
}

int kl_log_get_max_level(void) {
        return max_level;
}

void kl_log_set_verbosity(int v) {
        max_level = v >= 4 ? KL_LOG_DEBUG : KL_LOG_INFO;
}

static const char *level_name(int level) {
        switch (level) {
        case KL_LOG_ERR: return "error";
        case KL_LOG_WARNING: return "warning";
        case KL_LOG_NOTICE: return "notice";
        case KL_LOG_INFO: return "info";
        default: return "debug";
        }
}

/* One event is one line: control characters in the message (a newline in a
 * user-controlled name could forge a second log line) are escaped. */
static size_t append_escaped(char *dst, size_t pos, size_t size, const char *s) {
        for (const unsigned char *p = (const unsigned char *) s; *p && pos + 5 < size; p++) {
                if (*p == '\n') {
                        dst[pos++] = '\\';
                        dst[pos++] = 'n';
                } else if (*p < 0x20 || *p == 0x7f)
                        pos += (size_t) snprintf(dst + pos, size - pos, "\\x%02x", *p);
                else
                        dst[pos++] = (char) *p;
        }
        dst[pos] = '\0';
        return pos;
}

int kl_log_internal(int level, int error, const char *file, int line, const char *fmt, ...) {
        int saved = errno;
        int e = error < 0 ? -error : error;
        char msg[2048], out[4096];
        struct timespec ts;
        struct tm tm;
        size_t n;
        va_list ap;
        int k;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);

        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        k = snprintf(out, sizeof(out), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
                     level_name(level));
        n = k > 0 ? (size_t) k : 0;
        if (level >= KL_LOG_DEBUG) {
                k = snprintf(out + n, sizeof(out) - n, "src=%s:%d ", file, line);
                n += k > 0 ? (size_t) k : 0;
        }
        n = append_escaped(out, n, sizeof(out) - 64, msg);
        if (e) {
                k = snprintf(out + n, sizeof(out) - n - 1, " error=\"%s\"", strerror(e));
                n += k > 0 ? (size_t) k : 0;
                if (n > sizeof(out) - 2)
                        n = sizeof(out) - 2;
        }
        out[n++] = '\n';
        /* A single write, so that lines of several processes sharing stderr do not interleave. */
        for (size_t off = 0; off < n;) {
                ssize_t w = write(STDERR_FILENO, out + off, n - off);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        break;
                off += (size_t) w;
        }
        errno = saved;
        return -e;
}
