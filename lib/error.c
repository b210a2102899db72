/* SPDX-License-Identifier: Apache-2.0 */
#include "error.h"

#include <stdio.h>
#include <string.h>

/* A message cut at the buffer size ends in "..." so that nobody mistakes it for the whole story. */
static void mark_truncated(char *msg) {
        memcpy(msg + KL_ERROR_MSG_MAX - 4, "...", 4);
}

int kl_error_set(struct kl_error *reterr, int r, const char *fmt, ...) {
        int e = r < 0 ? -r : r;
        if (e == 0)
                e = EIO;
        if (reterr) {
                /* Format into a copy: the arguments may point into reterr->msg. */
                char msg[KL_ERROR_MSG_MAX];
                va_list ap;
                va_start(ap, fmt);
                int n = vsnprintf(msg, sizeof(msg), fmt, ap);
                va_end(ap);
                if (n < 0)
                        msg[0] = '\0';
                else if ((size_t) n >= sizeof(msg))
                        mark_truncated(msg);
                memcpy(reterr->msg, msg, sizeof(msg));
                reterr->err = e;
        }
        return -e;
}

int kl_error_prefix(struct kl_error *reterr, const char *fmt, ...) {
        char prefix[KL_ERROR_MSG_MAX], old[KL_ERROR_MSG_MAX];
        va_list ap;

        if (!reterr)
                return -EIO;
        if (reterr->err == 0)
                reterr->err = EIO;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof(prefix), fmt, ap);
        va_end(ap);
        memcpy(old, reterr->msg, sizeof(old));
        int n = snprintf(reterr->msg, sizeof(reterr->msg), "%s: %s", prefix, old[0] ? old : strerror(reterr->err));
        if (n >= 0 && (size_t) n >= sizeof(reterr->msg))
                mark_truncated(reterr->msg);
        return -reterr->err;
}

void kl_error_clear(struct kl_error *e) {
        if (!e)
                return;
        e->err = 0;
        e->msg[0] = '\0';
}

const char *kl_error_str(const struct kl_error *e) {
        if (!e)
                return "unknown error";
        if (e->msg[0])
                return e->msg;
        return strerror(e->err ? e->err : EIO);
}
