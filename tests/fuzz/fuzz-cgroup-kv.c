/* SPDX-License-Identifier: Apache-2.0 */
/* The cgroup interface file parsers: flat-keyed files (cpu.stat,
 * memory.stat, memory.events, cgroup.events), "max"-or-number files,
 * controller lists and /proc/meminfo. None may read out of bounds, and the
 * derived working set never exceeds memory.current. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cgroups/capacity.h"
#include "cgroups/cgroup.h"
#include "cgroups/convert.h"
#include "cgroups/stats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const keys[] = {"usage_usec", "oom_kill", "oom", "inactive_file",
                                           "populated",  "anon",     "max", "x"};
        const char *s = (const char *) data;
        struct kl_cg_stats st = {.memory_current = 1000000};
        uint64_t v;
        int64_t m;
        char *z;

        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
                (void) kl_cg_kv_get(s, size, keys[i], &v);
        kl_cg_stats_parse(s, size, s, size, s, size, &st);
        if (st.memory_working_set > st.memory_current)
                abort();
        if (kl_cg_parse_max(s, size, &m) >= 0 && m < -1)
                abort();
        (void) kl_cg_parse_meminfo_total(s, size, &m);

        z = malloc(size + 1);
        if (!z)
                return 0;
        memcpy(z, data, size);
        z[size] = '\0';
        if (kl_cg_controllers_parse(z) & ~(unsigned) KL_CG_CTRL_ALL)
                abort();
        free(z);
        return 0;
}
