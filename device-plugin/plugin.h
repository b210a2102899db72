/* SPDX-License-Identifier: Apache-2.0 */
/* The logic of kubelet-lite-device-plugin, without I/O beyond glob(3) and
 * lstat: one resource is a name and a set of globs over device nodes; each
 * matching node is one device whose ID is its basename. The replies of the
 * DevicePlugin service (k8s.io/kubelet/pkg/apis/deviceplugin/v1beta1) are
 * built here from request bytes, so they can be fuzzed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

#define KL_DP_VERSION "v1beta1"
#define KL_DP_DEFAULT_DIR "/var/lib/kubelet/device-plugins"
#define KL_DP_KUBELET_SOCKET "kubelet.sock"
#define KL_DP_MAX_DEVICES 256

struct kl_dp_device {
        char *id;   /* basename of the node */
        char *path; /* absolute path of the node */
        bool healthy;
};

struct kl_dp_resource {
        char *name;     /* "kubelet-lite.io/serial" */
        char *endpoint; /* socket name in the plugin dir: "kubelet-lite.io_serial.sock" */
        char **globs;
        size_t n_globs;
        struct kl_dp_device *devices; /* sorted by id */
        size_t n_devices;
};

/* "NAME=GLOB[,GLOB...]"; NAME must be an extended resource name as upstream
 * validates it (domain-qualified, not kubernetes.io). */
int kl_dp_resource_parse(const char *arg, struct kl_dp_resource **ret, struct kl_error *reterr);
struct kl_dp_resource *kl_dp_resource_free(struct kl_dp_resource *r);

/* Rescan the globs. A device seen before and now gone stays, unhealthy;
 * one that comes back is healthy again. Returns 1 when the list or a health
 * changed, 0 when not, -errno on failure. */
int kl_dp_resource_scan(struct kl_dp_resource *r);

/* Serialized replies (malloc'ed protobuf bytes in *ret, length in *ret_len).
 * On a bad request: -EINVAL with the message in reterr, to be sent as
 * INVALID_ARGUMENT. */
int kl_dp_list_and_watch_reply(const struct kl_dp_resource *r, uint8_t **ret, size_t *ret_len);
int kl_dp_allocate_reply(const struct kl_dp_resource *r, const uint8_t *req, size_t len, uint8_t **ret, size_t *ret_len,
                         struct kl_error *reterr);
int kl_dp_preferred_allocation_reply(const struct kl_dp_resource *r, const uint8_t *req, size_t len, uint8_t **ret,
                                     size_t *ret_len, struct kl_error *reterr);
