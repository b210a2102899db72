/* SPDX-License-Identifier: Apache-2.0 */
/* Host-side files of a pod: its log directory, volume directories (emptyDir
 * with upstream's modes and fsGroup ownership, hostPath checks, downwardAPI
 * files) and the kubelet-managed /etc/hosts; and the downward API's values,
 * shared with the container env. */
#pragma once

#include "kubelet-lite/pod/spec.h"
#include "lib/arena.h"
#include "lib/error.h"
#include "manifests/pod.h"

/* Before the sandbox: create the log directory and every volume's host side.
 * Idempotent (an adopted pod runs it again). */
int kl_podvolumes_prepare(const struct kl_pod *pod, const struct kl_spec_ctx *ctx, struct kl_error *reterr);

/* The content of the managed /etc/hosts, as upstream's ensureHostsFile: the
 * node's file (host_hosts) plus hostAliases for a hostNetwork pod, else
 * localhost entries, the pod IP with its hostname, and hostAliases.
 * NULL on OOM. */
char *kl_podvolumes_hosts_content(struct kl_arena *a, const struct kl_pod *pod, const char *host_hosts,
                                  const char *pod_ip, const char *hostname);

/* Write <pod dir>/etc-hosts (when its content changed) and return its path
 * in *ret_path; NULL with 0 when the pod gets no managed file (a pod network
 * pod without an IP yet, as upstream). */
int kl_podvolumes_write_hosts(struct kl_arena *a, const struct kl_pod *pod, const struct kl_spec_ctx *ctx,
                              char **ret_path, struct kl_error *reterr);

/* The hostname a pod's sandbox gets (and its /etc/hosts line names). */
const char *kl_podvolumes_hostname(struct kl_arena *a, const struct kl_pod *pod);

/* Value of a downward API fieldPath ("metadata.labels['app']", "status.podIP",
 * ...), as upstream's podFieldSelectorRuntimeValue and FormatMap. NULL when
 * the path is unknown (-EINVAL) or on OOM. */
char *kl_podvolumes_field_value(struct kl_arena *a, const struct kl_pod *pod, const struct kl_spec_ctx *ctx,
                                const char *path);

/* Value of a resourceFieldRef for container c (or the container it names),
 * as upstream's ExtractContainerResourceValue; a limit left out is the
 * node's allocatable amount (ctx, else the machine's). NULL with reterr set
 * when the named container does not exist. */
char *kl_podvolumes_resource_value(struct kl_arena *a, const struct kl_pod *pod, const struct kl_container *c,
                                   const struct kl_resource_ref *ref, const struct kl_spec_ctx *ctx,
                                   struct kl_error *reterr);
