/* SPDX-License-Identifier: Apache-2.0 */
/* Translate the Pod model into CRI requests, with the labels and annotations
 * upstream kubelet sets, so that tools (crictl, log collectors) see the same
 * thing. All memory comes from the caller's arena. */
#pragma once

#include "lib/arena.h"
#include "lib/error.h"
#include "manifests/pod.h"
#include "runtime/api.pb-c.h"

#define KL_LABEL_POD_NAME "io.kubernetes.pod.name"
#define KL_LABEL_POD_NAMESPACE "io.kubernetes.pod.namespace"
#define KL_LABEL_POD_UID "io.kubernetes.pod.uid"
#define KL_LABEL_CONTAINER_NAME "io.kubernetes.container.name"
#define KL_ANN_CONTAINER_HASH "io.kubernetes.container.hash"
#define KL_ANN_RESTART_COUNT "io.kubernetes.container.restartCount"
#define KL_ANN_TERMINATION_MESSAGE_PATH "io.kubernetes.container.terminationMessagePath"
#define KL_ANN_TERMINATION_MESSAGE_POLICY "io.kubernetes.container.terminationMessagePolicy"
#define KL_ANN_POD_GRACE "io.kubernetes.pod.terminationGracePeriod"
#define KL_ANN_CONFIG_HASH "kubernetes.io/config.hash"
#define KL_ANN_CONFIG_SOURCE "kubernetes.io/config.source"
#define KL_ANN_CONFIG_SEEN "kubernetes.io/config.seen"
/* Ours: which kind of container this is, so an adopted pod is understood. */
#define KL_ANN_CONTAINER_KIND "kubelet-lite.io/container-kind" /* "init", "sidecar", "app" */

struct kl_spec_ctx {
        const char *root_dir;
        const char *pod_logs_dir;
        const char *cgroup_parent; /* "" lets the runtime choose */
        const char *node_name;
        const char *host_ip;
        const char *pod_ip; /* NULL until the sandbox exists */
        int64_t seen_nsec;
        int64_t cfs_period_us;
        const char *cpuset; /* exclusive CPUs for this container, or NULL */
        /* node allocatable, for resourceFieldRef limits left out; 0: the machine's */
        int64_t alloc_cpu_milli, alloc_memory, alloc_ephemeral;
};

/* <pod_logs_dir>/<namespace>_<name>_<uid> */
char *kl_spec_pod_log_dir(struct kl_arena *a, const struct kl_spec_ctx *ctx, const struct kl_pod *pod);
/* <root_dir>/pods/<uid> */
char *kl_spec_pod_dir(struct kl_arena *a, const struct kl_spec_ctx *ctx, const struct kl_pod *pod);

Runtime__V1__PodSandboxConfig *kl_spec_sandbox(struct kl_arena *a, const struct kl_pod *pod,
                                               const struct kl_spec_ctx *ctx, uint32_t attempt);

/* restart_count becomes the CRI attempt and the log file name <restart>.log.
 * termination_log is the host file mounted at terminationMessagePath (NULL: none). */
Runtime__V1__ContainerConfig *kl_spec_container(struct kl_arena *a, const struct kl_pod *pod,
                                                const struct kl_container *c, const char *kind,
                                                const struct kl_spec_ctx *ctx, uint32_t restart_count,
                                                const char *termination_log, struct kl_error *reterr);

/* upstream's $(VAR) expansion (third_party/forked/golang/expansion): each
 * $(NAME) whose NAME is one of the n keys becomes its value, "$$" becomes "$",
 * anything else (undefined names, an unclosed "$(") stays as written. The
 * last key of a name wins. NULL on OOM. */
char *kl_spec_expand(struct kl_arena *a, const char *in, char *const *keys, char *const *values, size_t n);

/* Host directory backing a volume: hostPath as given, emptyDir and downwardAPI under the pod dir. */
char *kl_spec_volume_host_path(struct kl_arena *a, const struct kl_spec_ctx *ctx, const struct kl_pod *pod,
                               const struct kl_volume *v);
