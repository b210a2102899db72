/* SPDX-License-Identifier: Apache-2.0 */
/* The cpulist parser (cpuset.cpus.effective, reservedSystemCPUs): whatever
 * parses must format to a canonical list that parses back to the same set. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cgroups/cpuset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static char buf[KL_CG_CPUSET_STR_MAX];
        struct kl_cg_cpuset a, b;
        int n;

        if (kl_cg_cpuset_parse((const char *) data, size, &a) < 0)
                return 0;
        n = kl_cg_cpuset_format(&a, buf, sizeof(buf));
        if (n < 0 || (size_t) n != strlen(buf))
                abort();
        if (kl_cg_cpuset_parse(buf, (size_t) n, &b) < 0 || !kl_cg_cpuset_equal(&a, &b))
                abort();
        if (kl_cg_cpuset_count(&a) == 0 ? n != 0 : kl_cg_cpuset_first(&a) < 0)
                abort();
        return 0;
}
