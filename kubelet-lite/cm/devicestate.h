/* SPDX-License-Identifier: Apache-2.0 */
/* The device manager's bookkeeping, without I/O: the devices each plugin
 * resource advertises (with health), which pod container holds which
 * devices, admission of extended resources, and the checkpoint in upstream's
 * kubelet_internal_checkpoint JSON layout (pkg/kubelet/cm/devicemanager:
 * manager.go, pod_devices.go, checkpoint/checkpoint.go). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/strbuf.h"
#include "manifests/pod.h"

#define KL_DEVSTATE_MAX_CHECKPOINT (4 * 1024 * 1024)

struct kl_devstate;

struct kl_devstate_alloc {
        char *pod_uid, *container, *resource;
        char **ids; /* sorted */
        size_t n_ids;
        uint8_t *resp; /* the plugin's ContainerAllocateResponse, serialized; NULL until Allocate answered */
        size_t resp_len;
};

int kl_devstate_new(struct kl_devstate **ret);
struct kl_devstate *kl_devstate_free(struct kl_devstate *st);

/* A plugin's ListAndWatch list replaces the resource's devices (created on
 * first use). health[i]: healthy. */
int kl_devstate_set_devices(struct kl_devstate *st, const char *resource, char *const *ids, const bool *healthy,
                            size_t n);
/* Every device of resource unhealthy (its plugin went away). */
void kl_devstate_mark_unhealthy(struct kl_devstate *st, const char *resource);
/* Forget the resource (its plugin stayed away past the grace period). */
void kl_devstate_remove_resource(struct kl_devstate *st, const char *resource);
bool kl_devstate_has_resource(const struct kl_devstate *st, const char *resource);

/* Resources in name order: capacity = every device, allocatable = the
 * healthy ones (upstream's GetCapacity). false past the end. */
bool kl_devstate_capacity(const struct kl_devstate *st, size_t i, const char **ret_name, int64_t *ret_capacity,
                          int64_t *ret_allocatable);

/* What a pod asks of resource at admission: the max of the app containers'
 * sum and of each init container (upstream's effective request). */
int64_t kl_devstate_pod_request(const struct kl_pod *pod, const char *resource);

#define KL_DEVSTATE_REASON_MAX 128
#define KL_DEVSTATE_MESSAGE_MAX 512

/* Admission of pod's extended resources next to the admitted pods, then the
 * devices for each of its containers (upstream's predicate check, then
 * devicesToAllocate with init container devices reused by the app
 * containers). Devices held by pods not in admitted (a running pod from
 * the checkpoint, not admitted again yet) count as used. Returns true when admitted
 * (devices recorded), false with reason and message:
 *   "OutOfexample.com/dongle", "Node didn't have enough resource: example.com/dongle, requested: 2, used: 0,
 *    capacity: 1"
 *   "UnexpectedAdmissionError", "Allocate failed due to ..., which is unexpected" */
bool kl_devstate_admit(struct kl_devstate *st, const struct kl_pod *pod, const struct kl_pod *const *admitted,
                       size_t n_admitted, char reason[KL_DEVSTATE_REASON_MAX], char message[KL_DEVSTATE_MESSAGE_MAX]);

/* Free the devices of every pod not in uids (upstream's
 * UpdateAllocatedDevices), at start once the runtime's pods are known.
 * Returns how many allocations went. */
size_t kl_devstate_retain(struct kl_devstate *st, const char *const *uids, size_t n);
/* Free a pod's devices. Returns how many allocations went. */
size_t kl_devstate_release_pod(struct kl_devstate *st, const char *pod_uid);

/* The allocations of one container, in resource order. */
size_t kl_devstate_container_allocs(const struct kl_devstate *st, const char *pod_uid, const char *container,
                                    const struct kl_devstate_alloc **ret, size_t max);
/* Record the plugin's answer (copied). */
int kl_devstate_set_response(struct kl_devstate *st, const char *pod_uid, const char *container, const char *resource,
                             const uint8_t *resp, size_t len);
/* Devices of resource held by some container. */
size_t kl_devstate_n_allocated(const struct kl_devstate *st, const char *resource);

/* The checkpoint: {"Data":{"PodDeviceEntries":[...],"RegisteredDevices":{...}},"Checksum":N}. */
void kl_devstate_to_json(const struct kl_devstate *st, struct kl_buf *out);
/* Load allocations (and registered devices, kept unhealthy until their
 * plugin comes back, as upstream does) from a checkpoint; replaces what st
 * holds. -EBADMSG with the reason in reterr for a bad file. */
int kl_devstate_from_json(struct kl_devstate *st, const char *text, size_t len, struct kl_error *reterr);

/* base64 (RFC 4648, padded), as Go's encoding/json writes []byte; exposed for tests. */
void kl_devstate_base64_encode(const uint8_t *p, size_t n, struct kl_buf *out);
int kl_devstate_base64_decode(const char *s, size_t n, uint8_t **ret, size_t *ret_len);
