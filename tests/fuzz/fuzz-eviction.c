/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz eviction's /proc parsers (PSI "some avg10=..." lines, /proc/loadavg,
 * /proc/meminfo, single numbers) with the same input, copied into an
 * exact-size allocation so ASan catches overreads. Checks that they return
 * only documented errors, leave their output alone on failure and produce
 * sane values on success. The message formatter gets numbers taken from the
 * input and must always NUL-terminate within the buffer. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kubelet-lite/eviction/eviction.h"
#include "kubelet-lite/eviction/signals.h"
#include "kubelet-lite/eviction/watch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int bad_errno(int r) {
        return r < 0 && r != -EINVAL && r != -ERANGE && r != -ENOENT;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const struct kl_eviction_psi psi_marker = {.some = {.avg10 = 4242}};
        struct kl_eviction_psi psi = psi_marker;
        int64_t v = -7;
        uint64_t u = 7;
        char *buf;
        int r;

        if (size > 256 * 1024)
                return 0;
        buf = malloc(size ? size : 1);
        if (!buf)
                return 0;
        memcpy(buf, data, size);

        r = kl_eviction_parse_psi(buf, size, &psi);
        if (bad_errno(r) || r == -ENOENT)
                abort();
        if (r < 0 && memcmp(&psi, &psi_marker, sizeof(psi)) != 0)
                abort();
        if (r == 0 && !psi.some.have)
                abort();

        r = kl_eviction_parse_loadavg_tasks(buf, size, &v);
        if (bad_errno(r) || r == -ENOENT || (r < 0 && v != -7) || (r == 0 && v < 0))
                abort();

        v = -7;
        r = kl_eviction_parse_meminfo(buf, size, "MemTotal", &v);
        if (bad_errno(r) || (r < 0 && v != -7) || (r == 0 && v < 0))
                abort();

        r = kl_eviction_parse_u64(buf, size, &u);
        if (bad_errno(r) || r == -ENOENT || (r < 0 && u != 7))
                abort();

        /* the formatters with numbers from the input */
        if (size >= 2 * sizeof(int64_t) + 2) {
                struct kl_eviction_decision d = {.evict = true};
                struct kl_eviction_container c = {.name = "c", .have_usage = true};
                char msg[160], q[32];
                memcpy(&d.threshold_quantity, data, sizeof(int64_t));
                memcpy(&d.available, data + sizeof(int64_t), sizeof(int64_t));
                d.resource = data[2 * sizeof(int64_t)] % _KL_EVICTION_RESOURCE_MAX;
                d.threshold_percent = data[2 * sizeof(int64_t) + 1] & 1;
                c.usage = d.available;
                c.request = d.threshold_quantity;
                r = kl_eviction_message(&d, &c, 1, msg, sizeof(msg));
                if (r < 0 || (size_t) r >= sizeof(msg) || strlen(msg) != (size_t) r)
                        abort();
                kl_eviction_format_quantity(d.available, d.threshold_percent, q, sizeof(q));
                if (strlen(q) >= sizeof(q) - 1)
                        abort();
        }

        free(buf);
        return 0;
}
