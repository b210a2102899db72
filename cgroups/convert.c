/* SPDX-License-Identifier: Apache-2.0 */
#include "convert.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

uint64_t kl_cg_milli_to_shares(int64_t milli_cpu) {
        int64_t shares;

        if (milli_cpu <= 0)
                return KL_CG_MIN_SHARES;
        /* Anything above 256 CPUs is clamped anyway; avoid overflow first. */
        if (milli_cpu > (int64_t) KL_CG_MAX_SHARES * KL_CG_MILLI_PER_CPU)
                return KL_CG_MAX_SHARES;
        /* Multiply before dividing, as upstream, for the rounding. */
        shares = milli_cpu * KL_CG_SHARES_PER_CPU / KL_CG_MILLI_PER_CPU;
        if (shares < KL_CG_MIN_SHARES)
                return KL_CG_MIN_SHARES;
        if (shares > KL_CG_MAX_SHARES)
                return KL_CG_MAX_SHARES;
        return (uint64_t) shares;
}

int64_t kl_cg_milli_to_quota(int64_t milli_cpu, int64_t period_us) {
        int64_t quota;

        if (milli_cpu <= 0 || period_us <= 0)
                return 0;
        if (milli_cpu > INT64_MAX / period_us)
                return INT64_MAX / KL_CG_MILLI_PER_CPU;
        quota = milli_cpu * period_us / KL_CG_MILLI_PER_CPU;
        if (quota < KL_CG_MIN_CFS_QUOTA_US)
                quota = KL_CG_MIN_CFS_QUOTA_US;
        return quota;
}

uint64_t kl_cg_shares_to_weight(uint64_t shares) {
        if (shares == 0)
                return 0;
        if (shares < KL_CG_MIN_SHARES)
                shares = KL_CG_MIN_SHARES;
        if (shares > KL_CG_MAX_SHARES)
                shares = KL_CG_MAX_SHARES;
        return 1 + ((shares - 2) * 9999) / 262142;
}

int kl_cg_format_max(int64_t value, char *buf, size_t n) {
        int k = value < 0 ? snprintf(buf, n, "max") : snprintf(buf, n, "%" PRId64, value);
        if (k < 0 || (size_t) k >= n)
                return -ENOBUFS;
        return k;
}

int kl_cg_parse_max(const char *s, size_t len, int64_t *ret) {
        int64_t v = 0;

        while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == ' '))
                len--;
        if (len == 3 && memcmp(s, "max", 3) == 0) {
                *ret = -1;
                return 0;
        }
        if (len == 0)
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                if (v > (INT64_MAX - (s[i] - '0')) / 10)
                        return -ERANGE;
                v = v * 10 + (s[i] - '0');
        }
        *ret = v;
        return 0;
}

int kl_cg_format_cpu_max(int64_t quota_us, int64_t period_us, char *buf, size_t n) {
        int k;

        if (quota_us > 0)
                k = snprintf(buf, n, "%" PRId64 " %" PRId64, quota_us, period_us);
        else
                k = snprintf(buf, n, "max %" PRId64, period_us);
        if (k < 0 || (size_t) k >= n)
                return -ENOBUFS;
        return k;
}

void kl_cg_container_resources(int64_t cpu_request_milli, int64_t cpu_limit_milli, int64_t memory_limit,
                               int64_t period_us, bool cfs_quota, struct kl_cg_container_resources *ret) {
        struct kl_cg_container_resources r = {0};

        if (cpu_request_milli < 0 && cpu_limit_milli >= 0)
                r.cpu_shares = (int64_t) kl_cg_milli_to_shares(cpu_limit_milli);
        else
                r.cpu_shares = (int64_t) kl_cg_milli_to_shares(cpu_request_milli);
        if (memory_limit > 0)
                r.memory_limit_in_bytes = memory_limit;
        if (cfs_quota) {
                if (period_us <= 0)
                        period_us = KL_CG_DEFAULT_CFS_PERIOD_US;
                r.cpu_period = period_us;
                r.cpu_quota = kl_cg_milli_to_quota(cpu_limit_milli, period_us);
        }
        *ret = r;
}
