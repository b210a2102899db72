/* SPDX-License-Identifier: Apache-2.0 */
/* Which pod sysctls a node allows, as upstream kubelet's sysctl admission
 * (pkg/kubelet/sysctl/allowlist.go, safe_sysctls.go): the safe set plus
 * allowedUnsafeSysctls (names, or prefixes ending in '*'), each only when it
 * is namespaced and the pod does not share that namespace with the host
 * (net.* with hostNetwork, the IPC ones with hostIPC). Pure functions. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "lib/error.h"
#include "manifests/pod.h"

#define KL_SYSCTL_REASON "SysctlForbidden"

/* allowed_unsafe: NULL-terminated, may be NULL. A pattern that is not a
 * namespaced sysctl is refused (upstream refuses to start then):
 * -EINVAL with reterr naming it. */
int kl_sysctl_check_config(char *const *allowed_unsafe, struct kl_error *reterr);

/* true when the pod may run; else false with a message as upstream's
 * ("forbidden sysctl: \"kernel.msgmax\" not allowlisted"). */
bool kl_sysctl_admit(const struct kl_pod *pod, char *const *allowed_unsafe, char *ret_message, size_t n);
