/* SPDX-License-Identifier: Apache-2.0 */
/* CRI calls: build the request, pick the deadline, hand it to grpc.c. */
#include "cri.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "lib/macros.h"
#include "runtime/grpc.h"

/* The version string we send in VersionRequest: the CRI API we speak. */
#define KL_CRI_API_VERSION "v1"
/* Grace periods and exec timeouts are clamped so that the deadline
 * arithmetic cannot overflow (about 11 days is plenty). */
#define KL_CRI_MAX_TIMEOUT_S (1000 * 1000)

struct kl_cri {
        struct kl_grpc *grpc;
        int64_t timeout_ms;
        kl_cri_observer_t observer;
        void *observer_data;
};

/* op: upstream's operation_type label of kubelet_runtime_operations_total
 * (pkg/kubelet/kuberuntime/instrumented_services.go). */
#define RUNTIME_METHOD(var, name, op, reply_desc) \
        static const struct kl_grpc_method var = {"/runtime.v1.RuntimeService/" name, name, &(reply_desc), op}
#define IMAGE_METHOD(var, name, op, reply_desc) \
        static const struct kl_grpc_method var = {"/runtime.v1.ImageService/" name, name, &(reply_desc), op}

RUNTIME_METHOD(m_version, "Version", "version", runtime__v1__version_response__descriptor);
RUNTIME_METHOD(m_status, "Status", "status", runtime__v1__status_response__descriptor);
RUNTIME_METHOD(m_run_pod_sandbox, "RunPodSandbox", "run_podsandbox", runtime__v1__run_pod_sandbox_response__descriptor);
RUNTIME_METHOD(m_stop_pod_sandbox, "StopPodSandbox", "stop_podsandbox",
               runtime__v1__stop_pod_sandbox_response__descriptor);
RUNTIME_METHOD(m_remove_pod_sandbox, "RemovePodSandbox", "remove_podsandbox",
               runtime__v1__remove_pod_sandbox_response__descriptor);
RUNTIME_METHOD(m_pod_sandbox_status, "PodSandboxStatus", "podsandbox_status",
               runtime__v1__pod_sandbox_status_response__descriptor);
RUNTIME_METHOD(m_list_pod_sandbox, "ListPodSandbox", "list_podsandbox",
               runtime__v1__list_pod_sandbox_response__descriptor);
RUNTIME_METHOD(m_create_container, "CreateContainer", "create_container",
               runtime__v1__create_container_response__descriptor);
RUNTIME_METHOD(m_start_container, "StartContainer", "start_container",
               runtime__v1__start_container_response__descriptor);
RUNTIME_METHOD(m_stop_container, "StopContainer", "stop_container", runtime__v1__stop_container_response__descriptor);
RUNTIME_METHOD(m_remove_container, "RemoveContainer", "remove_container",
               runtime__v1__remove_container_response__descriptor);
RUNTIME_METHOD(m_list_containers, "ListContainers", "list_containers",
               runtime__v1__list_containers_response__descriptor);
RUNTIME_METHOD(m_container_status, "ContainerStatus", "container_status",
               runtime__v1__container_status_response__descriptor);
RUNTIME_METHOD(m_exec_sync, "ExecSync", "exec_sync", runtime__v1__exec_sync_response__descriptor);
RUNTIME_METHOD(m_reopen_container_log, "ReopenContainerLog", "reopen_container_log",
               runtime__v1__reopen_container_log_response__descriptor);
RUNTIME_METHOD(m_update_container_resources, "UpdateContainerResources", "update_container",
               runtime__v1__update_container_resources_response__descriptor);
IMAGE_METHOD(m_list_images, "ListImages", "list_images", runtime__v1__list_images_response__descriptor);
IMAGE_METHOD(m_image_status, "ImageStatus", "image_status", runtime__v1__image_status_response__descriptor);
IMAGE_METHOD(m_pull_image, "PullImage", "pull_image", runtime__v1__pull_image_response__descriptor);
IMAGE_METHOD(m_remove_image, "RemoveImage", "remove_image", runtime__v1__remove_image_response__descriptor);
IMAGE_METHOD(m_image_fs_info, "ImageFsInfo", "image_fs_info", runtime__v1__image_fs_info_response__descriptor);

void kl_cri_response_free(void *protobuf_message) {
        kl_grpc_message_free(protobuf_message);
}

static void kl_grpc_message_freep(ProtobufCMessage **m) {
        kl_grpc_message_free(*m);
}

/* --- lifetime --------------------------------------------------------------- */

int kl_cri_new(const char *endpoint, int64_t default_timeout_ms, struct kl_cri **ret, struct kl_error *reterr) {
        _cleanup_free_ char *target = NULL;
        _cleanup_free_ struct kl_cri *c = NULL;
        const char *path;
        int r;

        if (!endpoint || !ret)
                return kl_error_set(reterr, EINVAL, "CRI endpoint: missing");
        if (strncmp(endpoint, "unix://", 7) == 0)
                path = endpoint + 7;
        else
                path = endpoint;
        if (path[0] != '/')
                return kl_error_set(reterr, EINVAL, "CRI endpoint '%s': want unix:///absolute/path or /absolute/path",
                                    endpoint);
        if (strlen(path) >= sizeof(((struct sockaddr_un *) NULL)->sun_path))
                return kl_error_set(reterr, ENAMETOOLONG, "CRI endpoint '%s': socket path too long", endpoint);
        if (asprintf(&target, "unix://%s", path) < 0) {
                target = NULL;
                return kl_error_set(reterr, ENOMEM, "out of memory");
        }

        c = calloc(1, sizeof(*c));
        if (!c)
                return kl_error_set(reterr, ENOMEM, "out of memory");
        c->timeout_ms = default_timeout_ms > 0 ? default_timeout_ms : KL_CRI_DEFAULT_TIMEOUT_MS;
        r = kl_grpc_new(target, &c->grpc, reterr);
        if (r < 0)
                return kl_error_prefix(reterr, "CRI endpoint '%s'", endpoint);
        *ret = TAKE_PTR(c);
        return 0;
}

struct kl_cri *kl_cri_free(struct kl_cri *c) {
        if (!c)
                return NULL;
        kl_grpc_free(c->grpc);
        free(c);
        return NULL;
}

static void observe(const struct kl_grpc_method *m, int r, uint64_t usec, void *userdata) {
        struct kl_cri *c = userdata;
        if (c->observer && m->op)
                c->observer(m->op, r, usec, c->observer_data);
}

void *kl_cri_take_reply(struct kl_cri *c, ProtobufCMessage *reply) {
        return c ? kl_grpc_take_reply(c->grpc, reply) : NULL;
}

void kl_cri_set_observer(struct kl_cri *c, kl_cri_observer_t fn, void *userdata) {
        c->observer = fn;
        c->observer_data = userdata;
        kl_grpc_set_observer(c->grpc, fn ? observe : NULL, c);
}

int kl_cri_event_fd(struct kl_cri *c) {
        return c ? kl_grpc_event_fd(c->grpc) : -EBADF;
}

int kl_cri_dispatch(struct kl_cri *c) {
        return c ? kl_grpc_dispatch(c->grpc) : 0;
}

void kl_cri_cancel_pending(struct kl_cri *c) {
        if (c)
                kl_grpc_forget_pending(c->grpc);
}

unsigned kl_cri_n_pending(struct kl_cri *c) {
        return c ? kl_grpc_n_pending(c->grpc) : 0;
}

/* --- plumbing --------------------------------------------------------------- */

static int64_t grace_deadline_ms(const struct kl_cri *c, int64_t timeout_s) {
        if (timeout_s < 0)
                timeout_s = 0;
        if (timeout_s > KL_CRI_MAX_TIMEOUT_S)
                timeout_s = KL_CRI_MAX_TIMEOUT_S;
        return timeout_s * 1000 + c->timeout_ms;
}

static int check_id(const struct kl_grpc_method *m, const char *what, const char *id, struct kl_error *reterr) {
        if (!id || !id[0])
                return kl_error_set(reterr, EINVAL, "%s: empty %s", m->name, what);
        return 0;
}

/* Call and keep the reply. */
static int call(struct kl_cri *c, const struct kl_grpc_method *m, const ProtobufCMessage *req, int64_t timeout_ms,
                void *ret, struct kl_error *reterr) {
        ProtobufCMessage *reply = NULL;
        int r;

        assert(c);
        r = kl_grpc_call(c->grpc, m, req, timeout_ms, &reply, reterr);
        if (r < 0)
                return r;
        if (ret)
                *(ProtobufCMessage **) ret = reply;
        else
                kl_grpc_message_free(reply);
        return 0;
}

/* Copy a string out of a reply that must carry one (an id, an image ref). */
static int take_string(const struct kl_grpc_method *m, const char *what, const char *s, char **ret,
                       struct kl_error *reterr) {
        char *copy;

        if (!s || !s[0])
                return kl_error_set(reterr, EBADMSG, "%s: reply has no %s", m->name, what);
        copy = strdup(s);
        if (!copy)
                return kl_error_set(reterr, ENOMEM, "%s: out of memory", m->name);
        *ret = copy;
        return 0;
}

static size_t strv_length(char *const *v) {
        size_t n = 0;

        while (v && v[n])
                n++;
        return n;
}

/* --- RuntimeService ----------------------------------------------------------- */

int kl_cri_version(struct kl_cri *c, Runtime__V1__VersionResponse **ret, struct kl_error *reterr) {
        Runtime__V1__VersionRequest req = RUNTIME__V1__VERSION_REQUEST__INIT;

        req.version = (char *) KL_CRI_API_VERSION;
        return call(c, &m_version, &req.base, c->timeout_ms, ret, reterr);
}

int kl_cri_status(struct kl_cri *c, bool verbose, Runtime__V1__StatusResponse **ret, struct kl_error *reterr) {
        Runtime__V1__StatusRequest req = RUNTIME__V1__STATUS_REQUEST__INIT;

        req.verbose = verbose;
        return call(c, &m_status, &req.base, c->timeout_ms, ret, reterr);
}

int kl_cri_run_pod_sandbox(struct kl_cri *c, const Runtime__V1__PodSandboxConfig *cfg, const char *runtime_handler,
                           char **ret_id, struct kl_error *reterr) {
        Runtime__V1__RunPodSandboxRequest req = RUNTIME__V1__RUN_POD_SANDBOX_REQUEST__INIT;
        _cleanup_(kl_grpc_message_freep) ProtobufCMessage *reply = NULL;
        int r;

        if (!cfg)
                return kl_error_set(reterr, EINVAL, "RunPodSandbox: no sandbox config");
        req.config = (Runtime__V1__PodSandboxConfig *) cfg;
        req.runtime_handler = (char *) (runtime_handler ? runtime_handler : "");
        r = call(c, &m_run_pod_sandbox, &req.base, c->timeout_ms, &reply, reterr);
        if (r < 0)
                return r;
        return take_string(&m_run_pod_sandbox, "pod sandbox id",
                           ((Runtime__V1__RunPodSandboxResponse *) reply)->pod_sandbox_id, ret_id, reterr);
}

int kl_cri_stop_pod_sandbox(struct kl_cri *c, const char *id, struct kl_error *reterr) {
        Runtime__V1__StopPodSandboxRequest req = RUNTIME__V1__STOP_POD_SANDBOX_REQUEST__INIT;
        int r = check_id(&m_stop_pod_sandbox, "pod sandbox id", id, reterr);

        if (r < 0)
                return r;
        req.pod_sandbox_id = (char *) id;
        return call(c, &m_stop_pod_sandbox, &req.base, c->timeout_ms, NULL, reterr);
}

int kl_cri_remove_pod_sandbox(struct kl_cri *c, const char *id, struct kl_error *reterr) {
        Runtime__V1__RemovePodSandboxRequest req = RUNTIME__V1__REMOVE_POD_SANDBOX_REQUEST__INIT;
        int r = check_id(&m_remove_pod_sandbox, "pod sandbox id", id, reterr);

        if (r < 0)
                return r;
        req.pod_sandbox_id = (char *) id;
        return call(c, &m_remove_pod_sandbox, &req.base, c->timeout_ms, NULL, reterr);
}

int kl_cri_pod_sandbox_status(struct kl_cri *c, const char *id, bool verbose,
                              Runtime__V1__PodSandboxStatusResponse **ret, struct kl_error *reterr) {
        Runtime__V1__PodSandboxStatusRequest req = RUNTIME__V1__POD_SANDBOX_STATUS_REQUEST__INIT;
        int r = check_id(&m_pod_sandbox_status, "pod sandbox id", id, reterr);

        if (r < 0)
                return r;
        req.pod_sandbox_id = (char *) id;
        req.verbose = verbose;
        return call(c, &m_pod_sandbox_status, &req.base, c->timeout_ms, ret, reterr);
}

int kl_cri_list_pod_sandbox(struct kl_cri *c, const Runtime__V1__PodSandboxFilter *filter,
                            Runtime__V1__ListPodSandboxResponse **ret, struct kl_error *reterr) {
        Runtime__V1__ListPodSandboxRequest req = RUNTIME__V1__LIST_POD_SANDBOX_REQUEST__INIT;

        req.filter = (Runtime__V1__PodSandboxFilter *) filter;
        return call(c, &m_list_pod_sandbox, &req.base, c->timeout_ms, ret, reterr);
}

int kl_cri_create_container(struct kl_cri *c, const char *pod_id, const Runtime__V1__ContainerConfig *cfg,
                            const Runtime__V1__PodSandboxConfig *sandbox_cfg, char **ret_id, struct kl_error *reterr) {
        Runtime__V1__CreateContainerRequest req = RUNTIME__V1__CREATE_CONTAINER_REQUEST__INIT;
        _cleanup_(kl_grpc_message_freep) ProtobufCMessage *reply = NULL;
        int r = check_id(&m_create_container, "pod sandbox id", pod_id, reterr);

        if (r < 0)
                return r;
        if (!cfg)
                return kl_error_set(reterr, EINVAL, "CreateContainer: no container config");
        req.pod_sandbox_id = (char *) pod_id;
        req.config = (Runtime__V1__ContainerConfig *) cfg;
        req.sandbox_config = (Runtime__V1__PodSandboxConfig *) sandbox_cfg;
        r = call(c, &m_create_container, &req.base, c->timeout_ms, &reply, reterr);
        if (r < 0)
                return r;
        return take_string(&m_create_container, "container id",
                           ((Runtime__V1__CreateContainerResponse *) reply)->container_id, ret_id, reterr);
}

int kl_cri_start_container(struct kl_cri *c, const char *id, struct kl_error *reterr) {
        Runtime__V1__StartContainerRequest req = RUNTIME__V1__START_CONTAINER_REQUEST__INIT;
        int r = check_id(&m_start_container, "container id", id, reterr);

        if (r < 0)
                return r;
        req.container_id = (char *) id;
        return call(c, &m_start_container, &req.base, c->timeout_ms, NULL, reterr);
}

int kl_cri_stop_container(struct kl_cri *c, const char *id, int64_t timeout_s, struct kl_error *reterr) {
        Runtime__V1__StopContainerRequest req = RUNTIME__V1__STOP_CONTAINER_REQUEST__INIT;
        int r = check_id(&m_stop_container, "container id", id, reterr);

        if (r < 0)
                return r;
        req.container_id = (char *) id;
        req.timeout = MAX(timeout_s, 0);
        return call(c, &m_stop_container, &req.base, grace_deadline_ms(c, timeout_s), NULL, reterr);
}

int kl_cri_remove_container(struct kl_cri *c, const char *id, struct kl_error *reterr) {
        Runtime__V1__RemoveContainerRequest req = RUNTIME__V1__REMOVE_CONTAINER_REQUEST__INIT;
        int r = check_id(&m_remove_container, "container id", id, reterr);

        if (r < 0)
                return r;
        req.container_id = (char *) id;
        return call(c, &m_remove_container, &req.base, c->timeout_ms, NULL, reterr);
}

int kl_cri_list_containers(struct kl_cri *c, const Runtime__V1__ContainerFilter *filter,
                           Runtime__V1__ListContainersResponse **ret, struct kl_error *reterr) {
        Runtime__V1__ListContainersRequest req = RUNTIME__V1__LIST_CONTAINERS_REQUEST__INIT;

        req.filter = (Runtime__V1__ContainerFilter *) filter;
        return call(c, &m_list_containers, &req.base, c->timeout_ms, ret, reterr);
}

int kl_cri_container_status(struct kl_cri *c, const char *id, bool verbose, Runtime__V1__ContainerStatusResponse **ret,
                            struct kl_error *reterr) {
        Runtime__V1__ContainerStatusRequest req = RUNTIME__V1__CONTAINER_STATUS_REQUEST__INIT;
        int r = check_id(&m_container_status, "container id", id, reterr);

        if (r < 0)
                return r;
        req.container_id = (char *) id;
        req.verbose = verbose;
        return call(c, &m_container_status, &req.base, c->timeout_ms, ret, reterr);
}

static int exec_sync_request(const char *id, char *const *cmd, int64_t timeout_s, Runtime__V1__ExecSyncRequest *req,
                             struct kl_error *reterr) {
        int r = check_id(&m_exec_sync, "container id", id, reterr);

        if (r < 0)
                return r;
        if (strv_length(cmd) == 0)
                return kl_error_set(reterr, EINVAL, "ExecSync: empty command");
        req->container_id = (char *) id;
        req->cmd = (char **) cmd;
        req->n_cmd = strv_length(cmd);
        req->timeout = MIN(MAX(timeout_s, 0), KL_CRI_MAX_TIMEOUT_S);
        return 0;
}

int kl_cri_exec_sync(struct kl_cri *c, const char *id, char *const *cmd, int64_t timeout_s,
                     Runtime__V1__ExecSyncResponse **ret, struct kl_error *reterr) {
        Runtime__V1__ExecSyncRequest req = RUNTIME__V1__EXEC_SYNC_REQUEST__INIT;
        int r = exec_sync_request(id, cmd, timeout_s, &req, reterr);

        if (r < 0)
                return r;
        return call(c, &m_exec_sync, &req.base, grace_deadline_ms(c, timeout_s), ret, reterr);
}

int kl_cri_reopen_container_log(struct kl_cri *c, const char *id, struct kl_error *reterr) {
        Runtime__V1__ReopenContainerLogRequest req = RUNTIME__V1__REOPEN_CONTAINER_LOG_REQUEST__INIT;
        int r = check_id(&m_reopen_container_log, "container id", id, reterr);

        if (r < 0)
                return r;
        req.container_id = (char *) id;
        return call(c, &m_reopen_container_log, &req.base, c->timeout_ms, NULL, reterr);
}

int kl_cri_update_container_resources(struct kl_cri *c, const char *id, const Runtime__V1__LinuxContainerResources *res,
                                      struct kl_error *reterr) {
        Runtime__V1__UpdateContainerResourcesRequest req = RUNTIME__V1__UPDATE_CONTAINER_RESOURCES_REQUEST__INIT;
        int r = check_id(&m_update_container_resources, "container id", id, reterr);

        if (r < 0)
                return r;
        if (!res)
                return kl_error_set(reterr, EINVAL, "UpdateContainerResources: no resources");
        req.container_id = (char *) id;
        req.linux = (Runtime__V1__LinuxContainerResources *) res;
        return call(c, &m_update_container_resources, &req.base, c->timeout_ms, NULL, reterr);
}

/* --- ImageService ------------------------------------------------------------- */

int kl_cri_list_images(struct kl_cri *c, const Runtime__V1__ImageFilter *filter, Runtime__V1__ListImagesResponse **ret,
                       struct kl_error *reterr) {
        Runtime__V1__ListImagesRequest req = RUNTIME__V1__LIST_IMAGES_REQUEST__INIT;

        req.filter = (Runtime__V1__ImageFilter *) filter;
        return call(c, &m_list_images, &req.base, c->timeout_ms, ret, reterr);
}

int kl_cri_image_status(struct kl_cri *c, const char *image, bool verbose, Runtime__V1__ImageStatusResponse **ret,
                        struct kl_error *reterr) {
        Runtime__V1__ImageStatusRequest req = RUNTIME__V1__IMAGE_STATUS_REQUEST__INIT;
        Runtime__V1__ImageSpec spec = RUNTIME__V1__IMAGE_SPEC__INIT;
        int r = check_id(&m_image_status, "image", image, reterr);

        if (r < 0)
                return r;
        spec.image = (char *) image;
        req.image = &spec;
        req.verbose = verbose;
        return call(c, &m_image_status, &req.base, c->timeout_ms, ret, reterr);
}

static int pull_image_request(const char *image, const Runtime__V1__PodSandboxConfig *sandbox_cfg,
                              Runtime__V1__ImageSpec *spec, Runtime__V1__PullImageRequest *req,
                              struct kl_error *reterr) {
        int r = check_id(&m_pull_image, "image", image, reterr);

        if (r < 0)
                return r;
        spec->image = (char *) image;
        req->image = spec;
        req->sandbox_config = (Runtime__V1__PodSandboxConfig *) sandbox_cfg;
        return 0;
}

int kl_cri_pull_image(struct kl_cri *c, const char *image, const Runtime__V1__PodSandboxConfig *sandbox_cfg,
                      char **ret_image_ref, struct kl_error *reterr) {
        Runtime__V1__PullImageRequest req = RUNTIME__V1__PULL_IMAGE_REQUEST__INIT;
        Runtime__V1__ImageSpec spec = RUNTIME__V1__IMAGE_SPEC__INIT;
        _cleanup_(kl_grpc_message_freep) ProtobufCMessage *reply = NULL;
        int r;

        r = pull_image_request(image, sandbox_cfg, &spec, &req, reterr);
        if (r < 0)
                return r;
        r = call(c, &m_pull_image, &req.base, c->timeout_ms, &reply, reterr);
        if (r < 0)
                return r;
        if (!ret_image_ref)
                return 0;
        return take_string(&m_pull_image, "image ref", ((Runtime__V1__PullImageResponse *) reply)->image_ref,
                           ret_image_ref, reterr);
}

int kl_cri_remove_image(struct kl_cri *c, const char *image, struct kl_error *reterr) {
        Runtime__V1__RemoveImageRequest req = RUNTIME__V1__REMOVE_IMAGE_REQUEST__INIT;
        Runtime__V1__ImageSpec spec = RUNTIME__V1__IMAGE_SPEC__INIT;
        int r = check_id(&m_remove_image, "image", image, reterr);

        if (r < 0)
                return r;
        spec.image = (char *) image;
        req.image = &spec;
        return call(c, &m_remove_image, &req.base, c->timeout_ms, NULL, reterr);
}

int kl_cri_image_fs_info(struct kl_cri *c, Runtime__V1__ImageFsInfoResponse **ret, struct kl_error *reterr) {
        Runtime__V1__ImageFsInfoRequest req = RUNTIME__V1__IMAGE_FS_INFO_REQUEST__INIT;

        return call(c, &m_image_fs_info, &req.base, c->timeout_ms, ret, reterr);
}

/* --- async ---------------------------------------------------------------------- */

int kl_cri_stop_container_async(struct kl_cri *c, const char *id, int64_t timeout_s, kl_cri_callback_t cb,
                                void *userdata) {
        Runtime__V1__StopContainerRequest req = RUNTIME__V1__STOP_CONTAINER_REQUEST__INIT;

        if (!c || !cb || !id || !id[0])
                return -EINVAL;
        req.container_id = (char *) id;
        req.timeout = MAX(timeout_s, 0);
        return kl_grpc_call_async(c->grpc, &m_stop_container, &req.base, grace_deadline_ms(c, timeout_s), cb, userdata,
                                  NULL);
}

int kl_cri_exec_sync_async(struct kl_cri *c, const char *id, char *const *cmd, int64_t timeout_s, kl_cri_callback_t cb,
                           void *userdata) {
        Runtime__V1__ExecSyncRequest req = RUNTIME__V1__EXEC_SYNC_REQUEST__INIT;
        int r;

        if (!c || !cb)
                return -EINVAL;
        r = exec_sync_request(id, cmd, timeout_s, &req, NULL);
        if (r < 0)
                return r;
        return kl_grpc_call_async(c->grpc, &m_exec_sync, &req.base, grace_deadline_ms(c, timeout_s), cb, userdata,
                                  NULL);
}

int kl_cri_pull_image_async(struct kl_cri *c, const char *image, const Runtime__V1__PodSandboxConfig *sandbox_cfg,
                            int64_t timeout_ms, kl_cri_callback_t cb, void *userdata) {
        Runtime__V1__PullImageRequest req = RUNTIME__V1__PULL_IMAGE_REQUEST__INIT;
        Runtime__V1__ImageSpec spec = RUNTIME__V1__IMAGE_SPEC__INIT;
        int r;

        if (!c || !cb)
                return -EINVAL;
        r = pull_image_request(image, sandbox_cfg, &spec, &req, NULL);
        if (r < 0)
                return r;
        return kl_grpc_call_async(c->grpc, &m_pull_image, &req.base, timeout_ms > 0 ? timeout_ms : c->timeout_ms, cb,
                                  userdata, NULL);
}

int kl_cri_stop_pod_sandbox_async(struct kl_cri *c, const char *id, kl_cri_callback_t cb, void *userdata) {
        Runtime__V1__StopPodSandboxRequest req = RUNTIME__V1__STOP_POD_SANDBOX_REQUEST__INIT;

        if (!c || !cb || !id || !id[0])
                return -EINVAL;
        req.pod_sandbox_id = (char *) id;
        return kl_grpc_call_async(c->grpc, &m_stop_pod_sandbox, &req.base, c->timeout_ms, cb, userdata, NULL);
}

/* --- helpers ---------------------------------------------------------------------- */

static const char *enum_name(const ProtobufCEnumDescriptor *d, int v) {
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);

        return ev ? ev->name : "UNKNOWN";
}

const char *kl_cri_container_state_to_string(Runtime__V1__ContainerState s) {
        return enum_name(&runtime__v1__container_state__descriptor, s);
}

const char *kl_cri_sandbox_state_to_string(Runtime__V1__PodSandboxState s) {
        return enum_name(&runtime__v1__pod_sandbox_state__descriptor, s);
}

const char *kl_cri_map_get(void *const *entries, size_t n_entries, const char *key) {
        const ProtobufCFieldDescriptor *fk, *fv;
        const ProtobufCMessageDescriptor *d;

        if (!entries || n_entries == 0 || !entries[0] || !key)
                return NULL;
        /* All entries of one map share a descriptor: a message with string
         * fields "key" (1) and "value" (2). */
        d = ((const ProtobufCMessage *) entries[0])->descriptor;
        fk = protobuf_c_message_descriptor_get_field_by_name(d, "key");
        fv = protobuf_c_message_descriptor_get_field_by_name(d, "value");
        if (!fk || !fv || fk->type != PROTOBUF_C_TYPE_STRING || fv->type != PROTOBUF_C_TYPE_STRING)
                return NULL;
        for (size_t i = 0; i < n_entries; i++) {
                const char *base = entries[i];
                const char *k, *v;

                if (!base || ((const ProtobufCMessage *) entries[i])->descriptor != d)
                        continue;
                k = *(char *const *) (base + fk->offset);
                v = *(char *const *) (base + fv->offset);
                if (k && streq(k, key))
                        return v ? v : "";
        }
        return NULL;
}

/* The start path, asynchronous so that the daemon's loop keeps serving while
 * containerd creates things (seconds on slow boards). The replies are
 * RunPodSandboxResponse, CreateContainerResponse and StartContainerResponse. */
int kl_cri_run_pod_sandbox_async(struct kl_cri *c, const Runtime__V1__PodSandboxConfig *cfg,
                                 const char *runtime_handler, kl_cri_callback_t cb, void *userdata) {
        Runtime__V1__RunPodSandboxRequest req = RUNTIME__V1__RUN_POD_SANDBOX_REQUEST__INIT;

        if (!c || !cb || !cfg)
                return -EINVAL;
        req.config = (Runtime__V1__PodSandboxConfig *) cfg;
        req.runtime_handler = (char *) (runtime_handler ? runtime_handler : "");
        return kl_grpc_call_async(c->grpc, &m_run_pod_sandbox, &req.base, c->timeout_ms, cb, userdata, NULL);
}

int kl_cri_create_container_async(struct kl_cri *c, const char *pod_id, const Runtime__V1__ContainerConfig *cfg,
                                  const Runtime__V1__PodSandboxConfig *sandbox_cfg, kl_cri_callback_t cb,
                                  void *userdata) {
        Runtime__V1__CreateContainerRequest req = RUNTIME__V1__CREATE_CONTAINER_REQUEST__INIT;

        if (!c || !cb || !cfg || !pod_id || !pod_id[0])
                return -EINVAL;
        req.pod_sandbox_id = (char *) pod_id;
        req.config = (Runtime__V1__ContainerConfig *) cfg;
        req.sandbox_config = (Runtime__V1__PodSandboxConfig *) sandbox_cfg;
        return kl_grpc_call_async(c->grpc, &m_create_container, &req.base, c->timeout_ms, cb, userdata, NULL);
}

int kl_cri_start_container_async(struct kl_cri *c, const char *id, kl_cri_callback_t cb, void *userdata) {
        Runtime__V1__StartContainerRequest req = RUNTIME__V1__START_CONTAINER_REQUEST__INIT;

        if (!c || !cb || !id || !id[0])
                return -EINVAL;
        req.container_id = (char *) id;
        return kl_grpc_call_async(c->grpc, &m_start_container, &req.base, c->timeout_ms, cb, userdata, NULL);
}

/* The rest of the calls the daemon makes from its event loop. */

static int64_t timeout_or_default(const struct kl_cri *c, int64_t timeout_ms) {
        return timeout_ms > 0 ? timeout_ms : c->timeout_ms;
}

int kl_cri_list_pod_sandbox_async(struct kl_cri *c, int64_t timeout_ms, kl_cri_callback_t cb, void *userdata) {
        Runtime__V1__ListPodSandboxRequest req = RUNTIME__V1__LIST_POD_SANDBOX_REQUEST__INIT;

        if (!c || !cb)
                return -EINVAL;
        return kl_grpc_call_async(c->grpc, &m_list_pod_sandbox, &req.base, timeout_or_default(c, timeout_ms), cb,
                                  userdata, NULL);
}

int kl_cri_list_containers_async(struct kl_cri *c, int64_t timeout_ms, kl_cri_callback_t cb, void *userdata) {
        Runtime__V1__ListContainersRequest req = RUNTIME__V1__LIST_CONTAINERS_REQUEST__INIT;

        if (!c || !cb)
                return -EINVAL;
        return kl_grpc_call_async(c->grpc, &m_list_containers, &req.base, timeout_or_default(c, timeout_ms), cb,
                                  userdata, NULL);
}

int kl_cri_version_async(struct kl_cri *c, kl_cri_callback_t cb, void *userdata) {
        Runtime__V1__VersionRequest req = RUNTIME__V1__VERSION_REQUEST__INIT;

        if (!c || !cb)
                return -EINVAL;
        req.version = (char *) KL_CRI_API_VERSION;
        return kl_grpc_call_async(c->grpc, &m_version, &req.base, c->timeout_ms, cb, userdata, NULL);
}

int kl_cri_status_async(struct kl_cri *c, kl_cri_callback_t cb, void *userdata) {
        Runtime__V1__StatusRequest req = RUNTIME__V1__STATUS_REQUEST__INIT;

        if (!c || !cb)
                return -EINVAL;
        return kl_grpc_call_async(c->grpc, &m_status, &req.base, c->timeout_ms, cb, userdata, NULL);
}

int kl_cri_container_status_async(struct kl_cri *c, const char *id, kl_cri_callback_t cb, void *userdata) {
        Runtime__V1__ContainerStatusRequest req = RUNTIME__V1__CONTAINER_STATUS_REQUEST__INIT;

        if (!c || !cb || !id || !id[0])
                return -EINVAL;
        req.container_id = (char *) id;
        return kl_grpc_call_async(c->grpc, &m_container_status, &req.base, c->timeout_ms, cb, userdata, NULL);
}

int kl_cri_pod_sandbox_status_async(struct kl_cri *c, const char *id, kl_cri_callback_t cb, void *userdata) {
        Runtime__V1__PodSandboxStatusRequest req = RUNTIME__V1__POD_SANDBOX_STATUS_REQUEST__INIT;

        if (!c || !cb || !id || !id[0])
                return -EINVAL;
        req.pod_sandbox_id = (char *) id;
        return kl_grpc_call_async(c->grpc, &m_pod_sandbox_status, &req.base, c->timeout_ms, cb, userdata, NULL);
}

int kl_cri_remove_container_async(struct kl_cri *c, const char *id, kl_cri_callback_t cb, void *userdata) {
        Runtime__V1__RemoveContainerRequest req = RUNTIME__V1__REMOVE_CONTAINER_REQUEST__INIT;

        if (!c || !cb || !id || !id[0])
                return -EINVAL;
        req.container_id = (char *) id;
        return kl_grpc_call_async(c->grpc, &m_remove_container, &req.base, c->timeout_ms, cb, userdata, NULL);
}

int kl_cri_remove_pod_sandbox_async(struct kl_cri *c, const char *id, kl_cri_callback_t cb, void *userdata) {
        Runtime__V1__RemovePodSandboxRequest req = RUNTIME__V1__REMOVE_POD_SANDBOX_REQUEST__INIT;

        if (!c || !cb || !id || !id[0])
                return -EINVAL;
        req.pod_sandbox_id = (char *) id;
        return kl_grpc_call_async(c->grpc, &m_remove_pod_sandbox, &req.base, c->timeout_ms, cb, userdata, NULL);
}

int kl_cri_reopen_container_log_async(struct kl_cri *c, const char *id, kl_cri_callback_t cb, void *userdata) {
        Runtime__V1__ReopenContainerLogRequest req = RUNTIME__V1__REOPEN_CONTAINER_LOG_REQUEST__INIT;

        if (!c || !cb || !id || !id[0])
                return -EINVAL;
        req.container_id = (char *) id;
        return kl_grpc_call_async(c->grpc, &m_reopen_container_log, &req.base, c->timeout_ms, cb, userdata, NULL);
}

int kl_cri_update_container_resources_async(struct kl_cri *c, const char *id,
                                            const Runtime__V1__LinuxContainerResources *res, kl_cri_callback_t cb,
                                            void *userdata) {
        Runtime__V1__UpdateContainerResourcesRequest req = RUNTIME__V1__UPDATE_CONTAINER_RESOURCES_REQUEST__INIT;

        if (!c || !cb || !id || !id[0] || !res)
                return -EINVAL;
        req.container_id = (char *) id;
        req.linux = (Runtime__V1__LinuxContainerResources *) res;
        return kl_grpc_call_async(c->grpc, &m_update_container_resources, &req.base, c->timeout_ms, cb, userdata, NULL);
}

int kl_cri_image_status_async(struct kl_cri *c, const char *image, kl_cri_callback_t cb, void *userdata) {
        Runtime__V1__ImageStatusRequest req = RUNTIME__V1__IMAGE_STATUS_REQUEST__INIT;
        Runtime__V1__ImageSpec spec = RUNTIME__V1__IMAGE_SPEC__INIT;

        if (!c || !cb || !image || !image[0])
                return -EINVAL;
        spec.image = (char *) image;
        req.image = &spec;
        return kl_grpc_call_async(c->grpc, &m_image_status, &req.base, c->timeout_ms, cb, userdata, NULL);
}

/* Image garbage collection (kubelet-lite/images/imagegc.c) runs from the loop
 * too: replies ListImagesResponse, RemoveImageResponse, ImageFsInfoResponse,
 * and StatusResponse with verbose info (containerd puts its CRI config, with
 * sandboxImage, in info["config"]). */
int kl_cri_list_images_async(struct kl_cri *c, kl_cri_callback_t cb, void *userdata) {
        Runtime__V1__ListImagesRequest req = RUNTIME__V1__LIST_IMAGES_REQUEST__INIT;

        if (!c || !cb)
                return -EINVAL;
        return kl_grpc_call_async(c->grpc, &m_list_images, &req.base, c->timeout_ms, cb, userdata, NULL);
}

int kl_cri_remove_image_async(struct kl_cri *c, const char *image, kl_cri_callback_t cb, void *userdata) {
        Runtime__V1__RemoveImageRequest req = RUNTIME__V1__REMOVE_IMAGE_REQUEST__INIT;
        Runtime__V1__ImageSpec spec = RUNTIME__V1__IMAGE_SPEC__INIT;

        if (!c || !cb || !image || !image[0])
                return -EINVAL;
        spec.image = (char *) image;
        req.image = &spec;
        return kl_grpc_call_async(c->grpc, &m_remove_image, &req.base, c->timeout_ms, cb, userdata, NULL);
}

int kl_cri_image_fs_info_async(struct kl_cri *c, kl_cri_callback_t cb, void *userdata) {
        Runtime__V1__ImageFsInfoRequest req = RUNTIME__V1__IMAGE_FS_INFO_REQUEST__INIT;

        if (!c || !cb)
                return -EINVAL;
        return kl_grpc_call_async(c->grpc, &m_image_fs_info, &req.base, c->timeout_ms, cb, userdata, NULL);
}

int kl_cri_status_verbose_async(struct kl_cri *c, kl_cri_callback_t cb, void *userdata) {
        Runtime__V1__StatusRequest req = RUNTIME__V1__STATUS_REQUEST__INIT;

        if (!c || !cb)
                return -EINVAL;
        req.verbose = true;
        return kl_grpc_call_async(c->grpc, &m_status, &req.base, c->timeout_ms, cb, userdata, NULL);
}
