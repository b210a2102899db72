/* SPDX-License-Identifier: Apache-2.0 */
#include "error.h"

#include <stdio.h>
#include <string.h>

int kl_error_set(struct kl_error *reterr, int r, const char *fmt, ...) {
        int e = r < 0 ? -r : r;
        if (e == 0)
                e = EIO;
        if (reterr) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(reterr->msg, sizeof(reterr->msg), fmt, ap);
                va_end(ap);
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
        if (old[0])
                snprintf(reterr->msg, sizeof(reterr->msg), "%s: %s", prefix, old);
        else
                snprintf(reterr->msg, sizeof(reterr->msg), "%s: %s", prefix, strerror(reterr->err));
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
