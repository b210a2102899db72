/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the /proc parsers (stat, statm, smaps_rollup, btime in /proc/stat)
 * with the same input, and check that they never read past the buffer (the
 * input is copied into an exact-size allocation, so ASan catches overreads),
 * leave their output alone on failure, and return only documented errors. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kubelet-lite/server/procstat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memeq_zero(const void *p, size_t n) {
        const uint8_t *b = p;
        for (size_t i = 0; i < n; i++)
                if (b[i])
                        return 0;
        return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct kl_procstat st;
        uint64_t btime = 0;
        char *buf;
        int r;

        if (size > 256 * 1024)
                return 0;
        buf = malloc(size ? size : 1);
        if (!buf)
                return 0;
        memcpy(buf, data, size);

        memset(&st, 0, sizeof(st));
        r = kl_procstat_parse_stat(buf, size, 100, &st);
        if (r < 0 && ((r != -EINVAL && r != -ERANGE) || !memeq_zero(&st, sizeof(st))))
                abort();
        if (r == 0 && (st.cpu_seconds < 0 || st.state == ' ' || st.state == '\n'))
                abort();

        memset(&st, 0, sizeof(st));
        r = kl_procstat_parse_statm(buf, size, 4096, &st);
        if (r < 0 && ((r != -EINVAL && r != -ERANGE) || !memeq_zero(&st, sizeof(st))))
                abort();
        if (r == 0 && (st.statm_size_bytes % 4096 || st.statm_resident_bytes % 4096))
                abort();

        memset(&st, 0, sizeof(st));
        r = kl_procstat_parse_smaps(buf, size, &st);
        if (r < 0 && ((r != -EINVAL && r != -ERANGE) || !memeq_zero(&st, sizeof(st))))
                abort();
        if (r == 0 && (st.rss_bytes % 1024 || st.pss_bytes % 1024 || st.private_bytes % 1024))
                abort();

        r = kl_procstat_parse_btime(buf, size, &btime);
        if (r < 0 && ((r != -EINVAL && r != -ERANGE && r != -ENOENT) || btime != 0))
                abort();

        free(buf);
        return 0;
}
