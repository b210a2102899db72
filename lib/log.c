/* SPDX-License-Identifier: Apache-2.0 */
#include "log.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

static int max_level = KL_LOG_INFO;

void kl_log_set_max_level(int level) {
        max_level = level;
}

int kl_log_get_max_level(void) {
        return max_level;
}

void kl_log_set_verbosity(int v) {
        max_level = v >= 2 ? KL_LOG_DEBUG : KL_LOG_INFO;
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

int kl_log_internal(int level, int error, const char *file, int line, const char *fmt, ...) {
        int saved = errno;
        int e = error < 0 ? -error : error;
        char msg[2048];
        struct timespec ts;
        struct tm tm;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);

        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        if (level >= KL_LOG_DEBUG)
                fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s src=%s:%d %s",
                        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                        tm.tm_sec, ts.tv_nsec / 1000000, level_name(level), file, line, msg);
        else
                fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s %s", tm.tm_year + 1900,
                        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                        ts.tv_nsec / 1000000, level_name(level), msg);
        if (e)
                fprintf(stderr, " error=\"%s\"", strerror(e));
        fputc('\n', stderr);
        errno = saved;
        return -e;
}
