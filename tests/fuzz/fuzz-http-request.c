/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the HTTP request head parser and check its contract: results are one
 * of the documented values; a parsed request is well-formed; feeding the same
 * bytes in pieces through the resumable form gives the same answer at the
 * same place as parsing them at once (the server relies on that); no proper
 * prefix of a complete head is anything but "need more". */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kubelet-lite/server/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_request(const struct kl_http_request *r) {
        size_t pl = strnlen(r->path, sizeof(r->path)), ql = strnlen(r->query, sizeof(r->query));
        if (pl == 0 || pl > KL_HTTP_MAX_TARGET || r->path[0] != '/')
                abort();
        if (ql > KL_HTTP_MAX_TARGET || pl + ql > KL_HTTP_MAX_TARGET)
                abort();
        if (r->minor < 0 || r->minor > 9)
                abort();
}

static bool same_request(const struct kl_http_request *a, const struct kl_http_request *b) {
        return a->head == b->head && a->minor == b->minor && strcmp(a->path, b->path) == 0 &&
               strcmp(a->query, b->query) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *buf = (const char *) data;
        struct kl_http_request whole, piece;
        int r, p = 0;

        if (size > 4 * KL_HTTP_MAX_REQUEST) /* the server never hands it more than KL_HTTP_MAX_REQUEST */
                return 0;
        r = kl_http_parse_request(buf, size, &whole);
        if (!(r >= 0 || r == -EBADMSG || r == -EOPNOTSUPP || r == -ENAMETOOLONG || r == -EPROTONOSUPPORT))
                abort();
        if (r > (int) size)
                abort();
        if (r > 0) {
                check_request(&whole);
                if (buf[r - 1] != '\n')
                        abort();
                struct kl_http_request tmp;
                if (kl_http_parse_request(buf, (size_t) r - 1, &tmp) != 0)
                        abort();
        }
        if (kl_http_status_from_error(r < 0 ? r : -EBADMSG) < 400)
                abort();

        /* The same bytes in pieces of a size taken from the input. */
        size_t step = size > 0 ? 1 + data[size - 1] % 37 : 1, state = 0, m = 0;
        do {
                m = m + step < size ? m + step : size;
                p = kl_http_parse_request_resume(buf, m, &state, &piece);
        } while (p == 0 && m < size);
        if (p != r)
                abort();
        if (p > 0 && !same_request(&piece, &whole))
                abort();
        return 0;
}
