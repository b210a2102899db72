/* SPDX-License-Identifier: Apache-2.0 */
/* Daemon settings: upstream KubeletConfiguration keys (v1beta1) read from
 * --config, overridden by command-line flags with upstream's names. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

#define KL_DEFAULT_CONFIG_PATH "/etc/kubernetes/kubelet-lite.yaml"
#define KL_DEFAULT_MANIFEST_DIR "/etc/kubernetes/manifests"
#define KL_DEFAULT_ENDPOINT "unix:///run/containerd/containerd.sock"
#define KL_DEFAULT_ROOT_DIR "/var/lib/kubelet-lite"
#define KL_DEFAULT_POD_LOGS_DIR "/var/log/pods"
#define KL_DEFAULT_CONTAINER_LOG_LINKS_DIR "/var/log/containers"

/* A resource list such as systemReserved: {cpu: 500m, memory: 256Mi, pid: 100}. -1 unset. */
struct kl_config_resources {
        int64_t cpu_milli;
        int64_t memory;
        int64_t pid;
        int64_t ephemeral;
};

/* An eviction threshold: an absolute quantity or a percentage. */
struct kl_config_threshold {
        bool set;
        int64_t quantity; /* bytes, inodes or pids; -1 when percentage is used */
        double percent;   /* 0..100 */
};

struct kl_config_eviction {
        struct kl_config_threshold memory_available;
        struct kl_config_threshold nodefs_available;
        struct kl_config_threshold nodefs_inodes_free;
        struct kl_config_threshold pid_available;
};

struct kl_config {
        char *config_path; /* --config, NULL when none */

        /* intake */
        char *static_pod_path;
        uint64_t file_check_frequency_usec;
        bool strict_manifests;
        char **manifest_suffixes;      /* manifestSuffixes, NULL: .yaml, .yml, .json */
        char **allowed_unsafe_sysctls; /* allowedUnsafeSysctls: names or "prefix*"; NULL: none */

        /* runtime */
        char *container_runtime_endpoint;
        uint64_t runtime_request_timeout_usec;
        char *root_dir;
        char *pod_logs_dir;
        char *container_log_links_dir; /* containerLogLinksDir (ours): upstream's /var/log/containers; "": none */
        char *hostname_override;
        char *node_name; /* resolved: hostname_override or gethostname(), lowercased */

        /* endpoints */
        char *healthz_bind_address;
        int healthz_port;             /* 0 disables */
        char *address;                /* bind address of the read-only port */
        int read_only_port;           /* 0 disables, as upstream */
        uint64_t syncloop_stuck_usec; /* /healthz/syncloop fails past this */

        /* cgroups and admission */
        bool cgroups_per_qos;
        char *cgroup_root;
        struct kl_config_resources system_reserved, kube_reserved;
        struct kl_config_eviction eviction_hard, eviction_soft;
        uint64_t eviction_soft_grace_usec[4]; /* indexed like kl_config_eviction fields */
        uint64_t eviction_pressure_transition_usec;
        bool enforce_node_allocatable_pods;
        char *reserved_system_cpus;
        int max_pods;
        int64_t pod_pids_limit;
        uint64_t cpu_cfs_quota_period_usec;
        char *cpu_manager_policy; /* "none" or "static" */

        /* containers */
        uint64_t crashloop_initial_usec;
        uint64_t crashloop_max_usec;
        uint64_t crashloop_reset_usec;
        int64_t container_log_max_size;
        int container_log_max_files;
        uint64_t container_log_monitor_interval_usec;
        bool image_pull_fallback_to_local;
        char *image_preload_dir;
        /* image garbage collection (images/imagegc.c), as upstream */
        int image_gc_high_threshold_percent; /* imageGCHighThresholdPercent, 85; 100 disables the periodic GC */
        int image_gc_low_threshold_percent;  /* imageGCLowThresholdPercent, 80 */
        uint64_t image_minimum_gc_age_usec;  /* imageMinimumGCAge, 2m */
        uint64_t image_maximum_gc_age_usec;  /* imageMaximumGCAge, 0: off */

        int verbosity;

        /* ours: the API facade for kubectl (apiserver.c) */
        char *api_facade_address;
        int api_facade_port; /* 0 disables */

        /* Not read from the file: set by the daemon before the pod manager
         * starts. Node-level reclaim (image garbage collection) that eviction
         * runs before it evicts a pod for disk pressure, as upstream's
         * reclaimNodeLevelResources; signal is an enum kl_eviction_signal.
         * See kl_eviction_reclaim_t for what it returns. NULL: none. */
        int (*node_reclaim)(int signal, void *userdata);
        void *node_reclaim_userdata;
};

void kl_config_init(struct kl_config *c);
void kl_config_done(struct kl_config *c);

/* Load a KubeletConfiguration file into c (keys present override c). As in
 * upstream's defaults.go, a zero duration, an empty string and maxPods: 0
 * keep the default (what c held before). Keys kubelet-lite does not implement
 * make ONE summary warning in *ret_warnings ("FILE: ignoring N keys
 * kubelet-lite does not implement: a, b.c"), other warnings one each (a
 * NULL-terminated strv the caller frees, also on failure; may be NULL).
 * cgroupDriver: systemd is an error (see docs/CONFIG.md).
 * Errors read "file:line:col: key: message". On failure c may be partly
 * updated: the daemon exits then. */
int kl_config_load_file(struct kl_config *c, const char *path, char ***ret_warnings, struct kl_error *reterr);
/* The same for a file already in memory; path only names it in messages. */
int kl_config_load_buffer(struct kl_config *c, const char *path, const char *buf, size_t len, char ***ret_warnings,
                          struct kl_error *reterr);

/* Parse a Go-style duration ("20s", "1m30s", "100ms", "1.5h", "0"), rounded
 * to microseconds. -EINVAL for bad syntax (a sign other than '+', no unit),
 * -ERANGE beyond Go's limit of about 292 years. */
int kl_parse_duration(const char *s, uint64_t *ret_usec);

/* Fill node_name and other derived values after file and flags. */
int kl_config_finalize(struct kl_config *c, struct kl_error *reterr);
