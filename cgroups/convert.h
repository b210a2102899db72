/* SPDX-License-Identifier: Apache-2.0 */
/* Resource conversions, with upstream's constants and rounding:
 *  - CPU shares and CFS quota: kubelet pkg/kubelet/cm/helpers_linux.go;
 *  - shares -> cgroup v2 cpu.weight: runc/libcontainer's linear mapping;
 *  - container resources for CRI CreateContainer: kubelet's kuberuntime
 *    (calculateLinuxResources).
 * Everything here is pure arithmetic on plain numbers. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KL_CG_MIN_SHARES 2
#define KL_CG_MAX_SHARES 262144
#define KL_CG_SHARES_PER_CPU 1024
#define KL_CG_MILLI_PER_CPU 1000
/* CFS period (µs): upstream's default cpuCFSQuotaPeriod is 100ms. */
#define KL_CG_DEFAULT_CFS_PERIOD_US 100000
/* The kernel refuses quotas below 1ms. */
#define KL_CG_MIN_CFS_QUOTA_US 1000
/* Largest period the kernel takes in cpu.max (1s). */
#define KL_CG_MAX_CFS_PERIOD_US 1000000

/* milliCPU -> cpu.shares: milli * 1024 / 1000, at least 2 (also for 0, the
 * "no request" case), at most 262144. Negative input counts as 0. */
uint64_t kl_cg_milli_to_shares(int64_t milli_cpu);

/* milliCPU -> CFS quota over period_us: milli * period / 1000, at least
 * 1000µs; 0 for milli <= 0 (no limit). */
int64_t kl_cg_milli_to_quota(int64_t milli_cpu, int64_t period_us);

/* cpu.shares -> cgroup v2 cpu.weight: 1 + ((shares - 2) * 9999) / 262142,
 * so 2 -> 1, 1024 -> 39, 262144 -> 10000. 0 ("unset") stays 0; values
 * outside [2, 262144] are clamped first. */
uint64_t kl_cg_shares_to_weight(uint64_t shares);

/* Format a cgroup v2 "max"-or-number value (memory.max, pids.max, ...):
 * value < 0 gives "max". Returns the length; buf should be >= 21 bytes. */
int kl_cg_format_max(int64_t value, char *buf, size_t n);
/* Parse "max" (-> -1) or a non-negative decimal, trailing newline allowed. */
int kl_cg_parse_max(const char *s, size_t len, int64_t *ret);

/* cpu.max content: "<quota> <period>" or "max <period>" when quota <= 0. */
int kl_cg_format_cpu_max(int64_t quota_us, int64_t period_us, char *buf, size_t n);

/* What kubelet puts into CRI LinuxContainerResources for one container. */
struct kl_cg_container_resources {
        int64_t cpu_shares;
        int64_t cpu_quota;             /* 0: no quota (CRI leaves it unset) */
        int64_t cpu_period;            /* 0 only when CFS quota is disabled */
        int64_t memory_limit_in_bytes; /* 0: no limit */
};

/* Inputs are the container's own requests/limits, -1 when absent.
 *  - shares from the CPU request; when there is no request but a limit, from
 *    the limit (what the API server would have defaulted); 2 when neither;
 *  - with cfs_quota (KubeletConfiguration cpuCFSQuota, default true): period
 *    = period_us and quota = kl_cg_milli_to_quota(limit) (0 without a limit),
 *    as upstream which always sends the period;
 *  - memory limit when set. */
void kl_cg_container_resources(int64_t cpu_request_milli, int64_t cpu_limit_milli, int64_t memory_limit,
                               int64_t period_us, bool cfs_quota, struct kl_cg_container_resources *ret);
