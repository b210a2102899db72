/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz what a client of the API facade controls: the request head (any
 * method), query values, the CRI log line and time parsers and the log
 * query options. Results stay within their buffers and documented values;
 * a parsed head is a prefix of the input. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kubelet-lite/apiserver/apiconn.h"
#include "kubelet-lite/logs/podlogs.h"
#include "kubelet-lite/apiserver/streamproxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *in = malloc(size + 1);
        if (!in)
                return 0;
        memcpy(in, data, size);
        in[size] = '\0';

        struct kl_api_req r;
        int n = kl_api_parse_request(in, size, &r);
        if (n > (int) size)
                abort();
        if (n > 0) {
                if (r.path[0] != '/' || strlen(r.method) == 0 || r.head != in || r.head_len != (size_t) n)
                        abort();
                char v[128];
                (void) kl_api_query_get(r.query, "container", v, sizeof(v));
                if (strlen(v) >= sizeof(v))
                        abort();
        } else if (n < 0 && n != -EBADMSG && n != -ENAMETOOLONG && n != -EPROTONOSUPPORT && n != -ENOMEM &&
                   n != -EOPNOTSUPP)
                abort();

        /* the same bytes as a query string, a log line, a time, a URL */
        struct kl_podlogs_opts o;
        char c[64], err[128];
        (void) kl_podlogs_parse_query(in, &o, c, sizeof(c), err, sizeof(err));
        struct kl_podlogs_line l;
        if (kl_podlogs_parse_line(in, size, &l) == 0) {
                if (l.content < in || l.content + l.content_len > in + size || l.ts != in || l.ts_len > size)
                        abort();
        }
        int64_t t;
        (void) kl_podlogs_parse_time(in, size, &t);
        char host[64], path[256];
        int port;
        if (kl_streamproxy_parse_url(in, host, sizeof(host), &port, path, sizeof(path)) == 0 &&
            (port <= 0 || port > 65535 || path[0] != '/'))
                abort();
        free(in);
        return 0;
}
