/* SPDX-License-Identifier: Apache-2.0 */
/* CRI client: the runtime.v1 RuntimeService and ImageService over gRPC.
 *
 * Requests and replies are the protobuf-c types generated from
 * runtime/api.proto (Runtime__V1__...). Every call returns 0 or -errno; on
 * failure reterr (may be NULL) says "Method: rpc error CODE: details" and
 * outputs are untouched. Replies returned through ret are owned by the caller
 * and freed with kl_cri_response_free(); returned ids are malloc'ed strings.
 *
 * gRPC status → errno: UNAVAILABLE -ENOTCONN (-ECONNREFUSED when no connection
 * could be made within KL_GRPC_CONNECT_TIMEOUT_MS), DEADLINE_EXCEEDED
 * -ETIMEDOUT, NOT_FOUND -ENOENT, ALREADY_EXISTS -EEXIST, INVALID_ARGUMENT
 * -EINVAL, UNIMPLEMENTED -EOPNOTSUPP, PERMISSION_DENIED -EPERM,
 * RESOURCE_EXHAUSTED -ENOSPC, CANCELLED -ECANCELED, anything else -EIO. A reply
 * that does not parse is -EBADMSG, one over 16 MiB -EMSGSIZE.
 *
 * Threads: kl_cri_new() starts grpc's threads and one completion thread of its
 * own; block signals before calling it. Synchronous calls block the caller;
 * the *_async calls never do: their callbacks run from kl_cri_dispatch(),
 * which the caller runs when kl_cri_event_fd() is readable. A kl_cri is meant
 * to be used from one thread. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "lib/error.h"

/* GNU C predefines `linux` as 1, and the generated code has fields named
 * linux (PodSandboxConfig.linux, ...). Nothing should use that macro
 * (__linux__ is the real one), so drop it for every user of this header. */
#undef linux
#include "runtime/api.pb-c.h"

/* Timeout used when kl_cri_new() gets 0 or less (kubelet's default
 * --runtime-request-timeout). */
#define KL_CRI_DEFAULT_TIMEOUT_MS (2 * 60 * 1000)

struct kl_cri;

/* endpoint: "unix:///path" or "/path". Does not connect: the first call does,
 * so a runtime that starts later is fine. default_timeout_ms is the deadline
 * of every call without its own (<= 0: KL_CRI_DEFAULT_TIMEOUT_MS). */
int kl_cri_new(const char *endpoint, int64_t default_timeout_ms, struct kl_cri **ret, struct kl_error *reterr);
/* NULL-safe, returns NULL; cancels pending async calls without running their
 * callbacks. Must not be called from a callback. */
struct kl_cri *kl_cri_free(struct kl_cri *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct kl_cri *, kl_cri_free)

int kl_cri_event_fd(struct kl_cri *c);
/* Runs completed async callbacks on the calling thread; returns number run. */
int kl_cri_dispatch(struct kl_cri *c);
/* Cancel all in-flight async calls and forget them and any completed but
 * undispatched one: their callbacks never run. For shutdown paths that keep
 * the kl_cri. */
void kl_cri_cancel_pending(struct kl_cri *c);
/* Async calls started whose callbacks have not run (and were not cancelled). */
unsigned kl_cri_n_pending(struct kl_cri *c);

void kl_cri_response_free(void *protobuf_message); /* NULL-safe */
static inline void kl_cri_response_freep(void *p) {
        kl_cri_response_free(*(void **) p);
}
#define _cleanup_cri_response_ _cleanup_(kl_cri_response_freep)

/* --- RuntimeService --- */
int kl_cri_version(struct kl_cri *c, Runtime__V1__VersionResponse **ret, struct kl_error *reterr);
int kl_cri_status(struct kl_cri *c, bool verbose, Runtime__V1__StatusResponse **ret, struct kl_error *reterr);

int kl_cri_run_pod_sandbox(struct kl_cri *c, const Runtime__V1__PodSandboxConfig *cfg,
                           const char *runtime_handler /* NULL */, char **ret_id, struct kl_error *reterr);
int kl_cri_stop_pod_sandbox(struct kl_cri *c, const char *id, struct kl_error *reterr);
int kl_cri_remove_pod_sandbox(struct kl_cri *c, const char *id, struct kl_error *reterr);
int kl_cri_pod_sandbox_status(struct kl_cri *c, const char *id, bool verbose,
                              Runtime__V1__PodSandboxStatusResponse **ret, struct kl_error *reterr);
int kl_cri_list_pod_sandbox(struct kl_cri *c, const Runtime__V1__PodSandboxFilter *filter /* NULL */,
                            Runtime__V1__ListPodSandboxResponse **ret, struct kl_error *reterr);

int kl_cri_create_container(struct kl_cri *c, const char *pod_id, const Runtime__V1__ContainerConfig *cfg,
                            const Runtime__V1__PodSandboxConfig *sandbox_cfg, char **ret_id, struct kl_error *reterr);
int kl_cri_start_container(struct kl_cri *c, const char *id, struct kl_error *reterr);
/* timeout_s is the grace period; the rpc deadline is timeout_s plus the
 * default timeout. */
int kl_cri_stop_container(struct kl_cri *c, const char *id, int64_t timeout_s, struct kl_error *reterr);
int kl_cri_remove_container(struct kl_cri *c, const char *id, struct kl_error *reterr);
int kl_cri_list_containers(struct kl_cri *c, const Runtime__V1__ContainerFilter *filter /* NULL */,
                           Runtime__V1__ListContainersResponse **ret, struct kl_error *reterr);
int kl_cri_container_status(struct kl_cri *c, const char *id, bool verbose, Runtime__V1__ContainerStatusResponse **ret,
                            struct kl_error *reterr);
/* cmd is NULL-terminated. A command that exits non-zero is a success with
 * exit_code set. timeout_s 0 means none on the runtime side; the rpc deadline
 * is timeout_s plus the default timeout. */
int kl_cri_exec_sync(struct kl_cri *c, const char *id, char *const *cmd, int64_t timeout_s,
                     Runtime__V1__ExecSyncResponse **ret, struct kl_error *reterr);
int kl_cri_reopen_container_log(struct kl_cri *c, const char *id, struct kl_error *reterr);
int kl_cri_update_container_resources(struct kl_cri *c, const char *id, const Runtime__V1__LinuxContainerResources *res,
                                      struct kl_error *reterr);

/* --- ImageService --- */
int kl_cri_list_images(struct kl_cri *c, const Runtime__V1__ImageFilter *filter /* NULL */,
                       Runtime__V1__ListImagesResponse **ret, struct kl_error *reterr);
/* A missing image is a success with (*ret)->image == NULL. */
int kl_cri_image_status(struct kl_cri *c, const char *image, bool verbose, Runtime__V1__ImageStatusResponse **ret,
                        struct kl_error *reterr);
int kl_cri_pull_image(struct kl_cri *c, const char *image, const Runtime__V1__PodSandboxConfig *sandbox_cfg /* NULL */,
                      char **ret_image_ref, struct kl_error *reterr);
int kl_cri_remove_image(struct kl_cri *c, const char *image, struct kl_error *reterr);
int kl_cri_image_fs_info(struct kl_cri *c, Runtime__V1__ImageFsInfoResponse **ret, struct kl_error *reterr);

/* --- async ---
 * The callback runs from kl_cri_dispatch(): r >= 0 with the reply
 * (Runtime__V1__StopContainerResponse, ...ExecSyncResponse, ...PullImageResponse,
 * ...StopPodSandboxResponse), or r < 0 with err and reply NULL. The reply is
 * freed by the runtime after the callback returns. These return 0 when the call
 * was started, -errno when it could not be (nothing is called back then). */
typedef void (*kl_cri_callback_t)(int r, const struct kl_error *err, ProtobufCMessage *reply, void *userdata);
int kl_cri_stop_container_async(struct kl_cri *c, const char *id, int64_t timeout_s, kl_cri_callback_t cb,
                                void *userdata);
int kl_cri_exec_sync_async(struct kl_cri *c, const char *id, char *const *cmd, int64_t timeout_s, kl_cri_callback_t cb,
                           void *userdata);
/* timeout_ms <= 0: the default timeout. */
int kl_cri_pull_image_async(struct kl_cri *c, const char *image, const Runtime__V1__PodSandboxConfig *sandbox_cfg,
                            int64_t timeout_ms, kl_cri_callback_t cb, void *userdata);
int kl_cri_stop_pod_sandbox_async(struct kl_cri *c, const char *id, kl_cri_callback_t cb, void *userdata);
/* Replies: RunPodSandboxResponse, CreateContainerResponse, StartContainerResponse. */
int kl_cri_run_pod_sandbox_async(struct kl_cri *c, const Runtime__V1__PodSandboxConfig *cfg,
                                 const char *runtime_handler, kl_cri_callback_t cb, void *userdata);
int kl_cri_create_container_async(struct kl_cri *c, const char *pod_id, const Runtime__V1__ContainerConfig *cfg,
                                  const Runtime__V1__PodSandboxConfig *sandbox_cfg, kl_cri_callback_t cb,
                                  void *userdata);
int kl_cri_start_container_async(struct kl_cri *c, const char *id, kl_cri_callback_t cb, void *userdata);
/* Replies: ListPodSandboxResponse, ListContainersResponse (timeout_ms <= 0:
 * the default), StatusResponse, ContainerStatusResponse,
 * PodSandboxStatusResponse, RemoveContainerResponse, RemovePodSandboxResponse,
 * ReopenContainerLogResponse, UpdateContainerResourcesResponse, VersionResponse and
 * ImageStatusResponse (image NULL when the image is absent). */
int kl_cri_list_pod_sandbox_async(struct kl_cri *c, int64_t timeout_ms, kl_cri_callback_t cb, void *userdata);
int kl_cri_list_containers_async(struct kl_cri *c, int64_t timeout_ms, kl_cri_callback_t cb, void *userdata);
int kl_cri_version_async(struct kl_cri *c, kl_cri_callback_t cb, void *userdata);
int kl_cri_status_async(struct kl_cri *c, kl_cri_callback_t cb, void *userdata);
int kl_cri_container_status_async(struct kl_cri *c, const char *id, kl_cri_callback_t cb, void *userdata);
int kl_cri_pod_sandbox_status_async(struct kl_cri *c, const char *id, kl_cri_callback_t cb, void *userdata);
int kl_cri_remove_container_async(struct kl_cri *c, const char *id, kl_cri_callback_t cb, void *userdata);
int kl_cri_remove_pod_sandbox_async(struct kl_cri *c, const char *id, kl_cri_callback_t cb, void *userdata);
int kl_cri_reopen_container_log_async(struct kl_cri *c, const char *id, kl_cri_callback_t cb, void *userdata);
int kl_cri_update_container_resources_async(struct kl_cri *c, const char *id,
                                            const Runtime__V1__LinuxContainerResources *res, kl_cri_callback_t cb,
                                            void *userdata);
int kl_cri_image_status_async(struct kl_cri *c, const char *image, kl_cri_callback_t cb, void *userdata);
/* For image garbage collection. Replies: ListImagesResponse,
 * RemoveImageResponse (removing an absent image is a success, as CRI says),
 * ImageFsInfoResponse, and StatusResponse with verbose info. */
int kl_cri_list_images_async(struct kl_cri *c, kl_cri_callback_t cb, void *userdata);
int kl_cri_remove_image_async(struct kl_cri *c, const char *image, kl_cri_callback_t cb, void *userdata);
int kl_cri_image_fs_info_async(struct kl_cri *c, kl_cri_callback_t cb, void *userdata);
int kl_cri_status_verbose_async(struct kl_cri *c, kl_cri_callback_t cb, void *userdata);

/* From inside an async callback: keep its reply instead of having it freed
 * after the callback (free it with kl_cri_response_free). NULL when reply is
 * not the running callback's. */
void *kl_cri_take_reply(struct kl_cri *c, ProtobufCMessage *reply);

/* Told of every finished call: operation is upstream's operation_type label
 * ("list_podsandbox", "create_container", ...), r < 0 on failure, usec how
 * long it took. NULL fn: none. */
typedef void (*kl_cri_observer_t)(const char *operation, int r, uint64_t usec, void *userdata);
void kl_cri_set_observer(struct kl_cri *c, kl_cri_observer_t fn, void *userdata);

/* --- helpers --- */
/* "CONTAINER_RUNNING", "SANDBOX_READY", ...; "UNKNOWN" for out-of-range. */
const char *kl_cri_container_state_to_string(Runtime__V1__ContainerState s);
const char *kl_cri_sandbox_state_to_string(Runtime__V1__PodSandboxState s);
/* Value of key in a protobuf map field (labels, annotations, info...):
 *   kl_cri_map_get((void **) st->labels, st->n_labels, "app")
 * NULL when absent or when the entries are not map entries. */
const char *kl_cri_map_get(void *const *entries, size_t n_entries, const char *key);
