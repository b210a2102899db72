/* SPDX-License-Identifier: Apache-2.0 */
/* The CPU manager's state file (JSON read by a small hand-written reader):
 * anything it accepts must format to a file it accepts again, with the same
 * assignments. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kubelet-lite/cm/cpumanager.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct kl_cpumanager *m = NULL, *m2 = NULL;
        struct kl_cg_cpuset online, reserved, a, b;
        struct kl_error e = {0};
        char *out = NULL;
        size_t n;

        kl_cg_cpuset_zero(&online);
        kl_cg_cpuset_zero(&reserved);
        for (unsigned c = 0; c < 16; c++)
                kl_cg_cpuset_add(&online, c);
        kl_cg_cpuset_add(&reserved, 0);

        if (kl_cpumanager_new_from_state((const char *) data, size, &online, &reserved, &m, &e) < 0)
                return 0;
        if (kl_cpumanager_format_state(m, &out, &n) < 0)
                abort();
        if (kl_cpumanager_new_from_state(out, n, &online, &reserved, &m2, &e) < 0)
                abort();
        kl_cpumanager_assigned(m, &a);
        kl_cpumanager_assigned(m2, &b);
        if (!kl_cg_cpuset_equal(&a, &b))
                abort();
        free(out);
        kl_cpumanager_free(m);
        kl_cpumanager_free(m2);
        return 0;
}
