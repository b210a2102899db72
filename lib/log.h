/* SPDX-License-Identifier: Apache-2.0 */
/* One line per event on stderr: "level=warn msg ... key=value".
 * Library modules (manifests/, runtime/, cgroups/) may only use log_debug;
 * warnings and errors are the daemon's to log. The logger preserves errno. */
#pragma once

#include "macros.h"

enum kl_log_level {
        KL_LOG_ERR = 3,
        KL_LOG_WARNING = 4,
        KL_LOG_NOTICE = 5,
        KL_LOG_INFO = 6,
        KL_LOG_DEBUG = 7,
};

void kl_log_set_max_level(int level);
int kl_log_get_max_level(void);
/* Map klog's -v verbosity to a level: 0-1 what an operator needs, 2 steady
 * state detail, 3 extended, 4 and above debug. We have info and debug, so
 * 0-3 are info and debug starts at 4. */
void kl_log_set_verbosity(int v);

/* Returns -|error| when error != 0, else 0, so callers can
 * "return log_error_errno(r, ...)". */
int kl_log_internal(int level, int error, const char *file, int line, const char *fmt, ...) _printf_(5, 6);

#define log_full_errno(level, error, ...)                                                                 \
        ({                                                                                                \
                int _l = (level), _e = (error);                                                           \
                (_l <= kl_log_get_max_level()) ? kl_log_internal(_l, _e, __FILE__, __LINE__, __VA_ARGS__) \
                                               : (_e < 0 ? _e : -_e);                                     \
        })

#define log_debug(...) log_full_errno(KL_LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(KL_LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_full_errno(KL_LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(KL_LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_full_errno(KL_LOG_ERR, 0, __VA_ARGS__)

#define log_debug_errno(e, ...) log_full_errno(KL_LOG_DEBUG, e, __VA_ARGS__)
#define log_info_errno(e, ...) log_full_errno(KL_LOG_INFO, e, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(KL_LOG_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(KL_LOG_ERR, e, __VA_ARGS__)
