/* SPDX-License-Identifier: Apache-2.0 */
/* The kl_cri API in place of runtime/cri.o (see fake-cri.h): every call is
 * recorded and queued, and completed when the test drains the queue, by
 * applying it to the in-memory runtime (fake-runtime.c). */
#include "tests/unit/kubelet-lite/pod/fake-runtime.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "kubelet-lite/event.h"
#include "lib/macros.h"

struct fcall {
        struct fake_request req;
        int64_t timeout;
        kl_cri_callback_t cb;
        void *userdata;
        bool held;
        int fail_err; /* > 0: fail with it */
        char *fail_msg;
        struct fcall *next;
};

struct kl_cri {
        int efd;
};

static struct {
        struct fcall *queue; /* FIFO */
        unsigned n_calls[_FAKE_METHOD_MAX], in_flight[_FAKE_METHOD_MAX], max_in_flight[_FAKE_METHOD_MAX];
        bool hold[_FAKE_METHOD_MAX];
        int fail_err[_FAKE_METHOD_MAX];
        unsigned fail_n[_FAKE_METHOD_MAX];
        char *fail_msg[_FAKE_METHOD_MAX];
        char actions[16384];
        ProtobufCMessage *running_reply;
        bool reply_taken;
        kl_cri_observer_t observer;
        void *observer_data;
        struct kl_cri *cri;
} F;

/* ---- helpers ------------------------------------------------------------ */

/* A heap copy through the wire format, as the real client hands out. */

static void action(const char *fmt, ...) _printf_(1, 2);
static void action(const char *fmt, ...) {
        size_t len = strlen(F.actions);
        va_list ap;
        if (len > 0 && len + 2 < sizeof(F.actions)) {
                strcat(F.actions, "; ");
                len += 2;
        }
        va_start(ap, fmt);
        vsnprintf(F.actions + len, sizeof(F.actions) - len, fmt, ap);
        va_end(ap);
}

/* ---- recording calls ---------------------------------------------------- */

static void signal_ready(void) {
        uint64_t one = 1;
        if (F.cri)
                (void) !write(F.cri->efd, &one, sizeof(one));
}

static struct fcall *call_new(struct kl_cri *c, enum fake_method m, const char *id, kl_cri_callback_t cb,
                              void *userdata) {
        struct fcall *call = calloc(1, sizeof(*call));
        if (!call)
                abort();
        call->req.m = m;
        call->req.id = id ? fake_strdup(id) : NULL;
        call->cb = cb;
        call->userdata = userdata;
        call->held = F.hold[m];
        if (F.fail_n[m] > 0) {
                call->fail_err = F.fail_err[m];
                call->fail_msg = F.fail_msg[m] ? fake_strdup(F.fail_msg[m]) : NULL;
                F.fail_n[m]--;
        }
        F.n_calls[m]++;
        F.in_flight[m]++;
        F.max_in_flight[m] = MAX(F.max_in_flight[m], F.in_flight[m]);
        struct fcall **p = &F.queue;
        while (*p)
                p = &(*p)->next;
        *p = call;
        signal_ready();
        return call;
}

static void call_free(struct fcall *call) {
        free(call->req.id);
        free(call->fail_msg);
        free(call->req.name);
        free(call->req.ns);
        free(call->req.uid);
        free(call->req.image);
        fake_kvs_done(&call->req.labels);
        fake_kvs_done(&call->req.annotations);
        free(call);
}

static int check(struct kl_cri *c, const char *id, kl_cri_callback_t cb) {
        if (!c || !cb)
                return -EINVAL;
        if (id && !id[0])
                return -EINVAL;
        return 0;
}

/* ---- completing calls: the runtime's behaviour --------------------------- */

/* An empty reply of the method's type for calls whose reply has no fields. */

static void complete(struct fcall *call) {
        struct kl_error err = {};
        ProtobufCMessage *reply = NULL;
        int r;

        F.in_flight[call->req.m]--;
        if (call->fail_err > 0) {
                r = -call->fail_err;
                kl_error_set(&err, call->fail_err, "%s: rpc error: %s", fake_method_name(call->req.m),
                             call->fail_msg ? call->fail_msg : strerror(call->fail_err));
        } else
                r = fake_runtime_apply(&call->req, &reply, &err);
        F.running_reply = reply;
        F.reply_taken = false;
        if (F.observer)
                F.observer(fake_method_name(call->req.m), r, 0, F.observer_data);
        call->cb(r, r < 0 ? &err : NULL, r < 0 ? NULL : reply, call->userdata);
        if (!F.reply_taken && reply)
                protobuf_c_message_free_unpacked(reply, NULL);
        F.running_reply = NULL;
        call_free(call);
}

static struct fcall *take_ready(void) {
        for (struct fcall **p = &F.queue; *p; p = &(*p)->next)
                if (!(*p)->held) {
                        struct fcall *c = *p;
                        *p = c->next;
                        return c;
                }
        return NULL;
}

bool fake_cri_complete_one(void) {
        struct fcall *c = take_ready();
        if (!c)
                return false;
        complete(c);
        return true;
}

int fake_cri_event_fd(void) {
        return F.cri ? F.cri->efd : -1;
}

unsigned fake_cri_n_ready(void) {
        unsigned n = 0;
        for (struct fcall *c = F.queue; c; c = c->next)
                n += !c->held;
        return n;
}

/* ---- knobs and inspection ------------------------------------------------ */

void fake_cri_fail_next(enum fake_method m, int err, const char *message) {
        fake_cri_fail_next_n(m, 1, err, message);
}

void fake_cri_fail_next_n(enum fake_method m, unsigned n, int err, const char *message) {
        F.fail_n[m] = n;
        F.fail_err[m] = err;
        free(F.fail_msg[m]);
        F.fail_msg[m] = message ? fake_strdup(message) : NULL;
}

void fake_cri_hold(enum fake_method m) {
        F.hold[m] = true;
}

void fake_cri_release(enum fake_method m) {
        F.hold[m] = false;
        for (struct fcall *c = F.queue; c; c = c->next)
                if (c->req.m == m)
                        c->held = false;
        signal_ready();
}

unsigned fake_cri_n_calls(enum fake_method m) {
        return F.n_calls[m];
}

unsigned fake_cri_max_in_flight(enum fake_method m) {
        return F.max_in_flight[m];
}

const char *fake_cri_actions(void) {
        return F.actions;
}

void fake_cri_clear_actions(void) {
        F.actions[0] = 0;
}

void fake_cri_reset(void) {
        while (F.queue) {
                struct fcall *c = F.queue;
                F.queue = c->next;
                call_free(c);
        }
        fake_runtime_reset();
        for (size_t m = 0; m < _FAKE_METHOD_MAX; m++)
                free(F.fail_msg[m]);
        struct kl_cri *cri = F.cri;
        memset(&F, 0, sizeof(F));
        F.cri = cri;
}

/* ---- the kl_cri API -------------------------------------------------------- */

int kl_cri_new(const char *endpoint, int64_t default_timeout_ms, struct kl_cri **ret, struct kl_error *reterr) {
        struct kl_cri *c = calloc(1, sizeof(*c));
        if (!c)
                return kl_error_set(reterr, ENOMEM, "out of memory");
        c->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (c->efd < 0) {
                int r = -errno;
                free(c);
                return kl_error_set(reterr, -r, "eventfd: %m");
        }
        F.cri = c;
        *ret = c;
        return 0;
}

struct kl_cri *kl_cri_free(struct kl_cri *c) {
        if (!c)
                return NULL;
        kl_cri_cancel_pending(c);
        close(c->efd);
        if (F.cri == c)
                F.cri = NULL;
        free(c);
        return NULL;
}

int kl_cri_event_fd(struct kl_cri *c) {
        return c ? c->efd : -EBADF;
}

int kl_cri_dispatch(struct kl_cri *c) {
        uint64_t v;
        int n = 0;
        if (!c)
                return 0;
        (void) !read(c->efd, &v, sizeof(v));
        /* What was ready when called; calls made by the callbacks wait for the next round. */
        unsigned ready = fake_cri_n_ready();
        for (unsigned i = 0; i < ready && fake_cri_complete_one(); i++)
                n++;
        if (fake_cri_n_ready() > 0)
                signal_ready();
        return n;
}

void kl_cri_cancel_pending(struct kl_cri *c) {
        while (F.queue) {
                struct fcall *call = F.queue;
                F.queue = call->next;
                F.in_flight[call->req.m]--;
                call_free(call);
        }
}

unsigned kl_cri_n_pending(struct kl_cri *c) {
        unsigned n = 0;
        for (struct fcall *call = F.queue; call; call = call->next)
                n++;
        return n;
}

void kl_cri_response_free(void *m) {
        if (m)
                protobuf_c_message_free_unpacked(m, NULL);
}

void *kl_cri_take_reply(struct kl_cri *c, ProtobufCMessage *reply) {
        if (!reply || reply != F.running_reply)
                return NULL;
        F.reply_taken = true;
        return reply;
}

void kl_cri_set_observer(struct kl_cri *c, kl_cri_observer_t fn, void *userdata) {
        F.observer = fn;
        F.observer_data = userdata;
}

/* ---- async calls ---- */

static int simple(struct kl_cri *c, enum fake_method m, const char *id, kl_cri_callback_t cb, void *userdata) {
        int r = check(c, id, cb);
        if (r < 0)
                return r;
        call_new(c, m, id, cb, userdata);
        return 0;
}

int kl_cri_stop_container_async(struct kl_cri *c, const char *id, int64_t timeout_s, kl_cri_callback_t cb,
                                void *userdata) {
        char d[128];
        int r = check(c, id, cb);
        if (r < 0)
                return r;
        action("StopContainer %s t%lld", fake_runtime_container_desc(id, d, sizeof(d)), (long long) timeout_s);
        call_new(c, FAKE_STOP, id, cb, userdata)->timeout = timeout_s;
        return 0;
}

int kl_cri_exec_sync_async(struct kl_cri *c, const char *id, char *const *cmd, int64_t timeout_s, kl_cri_callback_t cb,
                           void *userdata) {
        if (!cmd || !cmd[0])
                return -EINVAL;
        return simple(c, FAKE_EXEC, id, cb, userdata);
}

int kl_cri_pull_image_async(struct kl_cri *c, const char *image, const Runtime__V1__PodSandboxConfig *sandbox_cfg,
                            int64_t timeout_ms, kl_cri_callback_t cb, void *userdata) {
        int r = check(c, image, cb);
        if (r < 0 || !image)
                return r < 0 ? r : -EINVAL;
        action("PullImage %s", image);
        call_new(c, FAKE_PULL, image, cb, userdata);
        return 0;
}

int kl_cri_stop_pod_sandbox_async(struct kl_cri *c, const char *id, kl_cri_callback_t cb, void *userdata) {
        int r = check(c, id, cb);
        if (r < 0)
                return r;
        action("StopPodSandbox %s", fake_runtime_sandbox_name(id));
        call_new(c, FAKE_STOP_SANDBOX, id, cb, userdata);
        return 0;
}

int kl_cri_run_pod_sandbox_async(struct kl_cri *c, const Runtime__V1__PodSandboxConfig *cfg,
                                 const char *runtime_handler, kl_cri_callback_t cb, void *userdata) {
        int r = check(c, NULL, cb);
        if (r < 0 || !cfg || !cfg->metadata)
                return r < 0 ? r : -EINVAL;
        action("RunPodSandbox %s a%u", cfg->metadata->name, cfg->metadata->attempt);
        struct fcall *call = call_new(c, FAKE_RUN_SANDBOX, NULL, cb, userdata);
        call->req.name = fake_strdup(cfg->metadata->name);
        call->req.ns = fake_strdup(cfg->metadata->namespace_);
        call->req.uid = fake_strdup(cfg->metadata->uid);
        call->req.attempt = cfg->metadata->attempt;
        fake_kvs_from_map(&call->req.labels, (void *const *) cfg->labels, cfg->n_labels);
        fake_kvs_from_map(&call->req.annotations, (void *const *) cfg->annotations, cfg->n_annotations);
        return 0;
}

int kl_cri_create_container_async(struct kl_cri *c, const char *pod_id, const Runtime__V1__ContainerConfig *cfg,
                                  const Runtime__V1__PodSandboxConfig *sandbox_cfg, kl_cri_callback_t cb,
                                  void *userdata) {
        int r = check(c, pod_id, cb);
        if (r < 0 || !pod_id || !cfg || !cfg->metadata || !sandbox_cfg)
                return r < 0 ? r : -EINVAL;
        action("CreateContainer %s a%u", cfg->metadata->name, cfg->metadata->attempt);
        struct fcall *call = call_new(c, FAKE_CREATE, pod_id, cb, userdata);
        call->req.name = fake_strdup(cfg->metadata->name);
        call->req.image = fake_strdup(cfg->image ? cfg->image->image : "");
        call->req.attempt = cfg->metadata->attempt;
        fake_kvs_from_map(&call->req.labels, (void *const *) cfg->labels, cfg->n_labels);
        fake_kvs_from_map(&call->req.annotations, (void *const *) cfg->annotations, cfg->n_annotations);
        return 0;
}

int kl_cri_start_container_async(struct kl_cri *c, const char *id, kl_cri_callback_t cb, void *userdata) {
        char d[128];
        int r = check(c, id, cb);
        if (r < 0)
                return r;
        action("StartContainer %s", fake_runtime_container_desc(id, d, sizeof(d)));
        call_new(c, FAKE_START, id, cb, userdata);
        return 0;
}

int kl_cri_list_pod_sandbox_async(struct kl_cri *c, int64_t timeout_ms, kl_cri_callback_t cb, void *userdata) {
        return simple(c, FAKE_LIST_SANDBOX, NULL, cb, userdata);
}

int kl_cri_list_containers_async(struct kl_cri *c, int64_t timeout_ms, kl_cri_callback_t cb, void *userdata) {
        return simple(c, FAKE_LIST_CONTAINERS, NULL, cb, userdata);
}

int kl_cri_version_async(struct kl_cri *c, kl_cri_callback_t cb, void *userdata) {
        return simple(c, FAKE_VERSION, NULL, cb, userdata);
}

int kl_cri_status_async(struct kl_cri *c, kl_cri_callback_t cb, void *userdata) {
        return simple(c, FAKE_STATUS, NULL, cb, userdata);
}

int kl_cri_container_status_async(struct kl_cri *c, const char *id, kl_cri_callback_t cb, void *userdata) {
        return simple(c, FAKE_CONTAINER_STATUS, id, cb, userdata);
}

int kl_cri_pod_sandbox_status_async(struct kl_cri *c, const char *id, kl_cri_callback_t cb, void *userdata) {
        return simple(c, FAKE_SANDBOX_STATUS, id, cb, userdata);
}

int kl_cri_remove_container_async(struct kl_cri *c, const char *id, kl_cri_callback_t cb, void *userdata) {
        char d[128];
        int r = check(c, id, cb);
        if (r < 0)
                return r;
        action("RemoveContainer %s", fake_runtime_container_desc(id, d, sizeof(d)));
        call_new(c, FAKE_REMOVE, id, cb, userdata);
        return 0;
}

int kl_cri_remove_pod_sandbox_async(struct kl_cri *c, const char *id, kl_cri_callback_t cb, void *userdata) {
        int r = check(c, id, cb);
        if (r < 0)
                return r;
        action("RemovePodSandbox %s", fake_runtime_sandbox_name(id));
        call_new(c, FAKE_REMOVE_SANDBOX, id, cb, userdata);
        return 0;
}

int kl_cri_reopen_container_log_async(struct kl_cri *c, const char *id, kl_cri_callback_t cb, void *userdata) {
        return simple(c, FAKE_REOPEN_LOG, id, cb, userdata);
}

int kl_cri_update_container_resources_async(struct kl_cri *c, const char *id,
                                            const Runtime__V1__LinuxContainerResources *res, kl_cri_callback_t cb,
                                            void *userdata) {
        if (!res)
                return -EINVAL;
        return simple(c, FAKE_UPDATE_RESOURCES, id, cb, userdata);
}

int kl_cri_image_status_async(struct kl_cri *c, const char *image, kl_cri_callback_t cb, void *userdata) {
        if (!image)
                return -EINVAL;
        return simple(c, FAKE_IMAGE_STATUS, image, cb, userdata);
}

/* ---- synchronous calls: the pod code never makes them (it must not block) --- */

#define SYNC_UNSUPPORTED(name) \
        kl_error_set(reterr, EOPNOTSUPP, "%s: the fake runtime serves only asynchronous calls", name)

int kl_cri_version(struct kl_cri *c, Runtime__V1__VersionResponse **ret, struct kl_error *reterr) {
        return SYNC_UNSUPPORTED("Version");
}
int kl_cri_status(struct kl_cri *c, bool verbose, Runtime__V1__StatusResponse **ret, struct kl_error *reterr) {
        return SYNC_UNSUPPORTED("Status");
}
int kl_cri_run_pod_sandbox(struct kl_cri *c, const Runtime__V1__PodSandboxConfig *cfg, const char *runtime_handler,
                           char **ret_id, struct kl_error *reterr) {
        return SYNC_UNSUPPORTED("RunPodSandbox");
}
int kl_cri_stop_pod_sandbox(struct kl_cri *c, const char *id, struct kl_error *reterr) {
        return SYNC_UNSUPPORTED("StopPodSandbox");
}
int kl_cri_remove_pod_sandbox(struct kl_cri *c, const char *id, struct kl_error *reterr) {
        return SYNC_UNSUPPORTED("RemovePodSandbox");
}
int kl_cri_pod_sandbox_status(struct kl_cri *c, const char *id, bool verbose,
                              Runtime__V1__PodSandboxStatusResponse **ret, struct kl_error *reterr) {
        return SYNC_UNSUPPORTED("PodSandboxStatus");
}
int kl_cri_list_pod_sandbox(struct kl_cri *c, const Runtime__V1__PodSandboxFilter *filter,
                            Runtime__V1__ListPodSandboxResponse **ret, struct kl_error *reterr) {
        return SYNC_UNSUPPORTED("ListPodSandbox");
}
int kl_cri_create_container(struct kl_cri *c, const char *pod_id, const Runtime__V1__ContainerConfig *cfg,
                            const Runtime__V1__PodSandboxConfig *sandbox_cfg, char **ret_id, struct kl_error *reterr) {
        return SYNC_UNSUPPORTED("CreateContainer");
}
int kl_cri_start_container(struct kl_cri *c, const char *id, struct kl_error *reterr) {
        return SYNC_UNSUPPORTED("StartContainer");
}
int kl_cri_stop_container(struct kl_cri *c, const char *id, int64_t timeout_s, struct kl_error *reterr) {
        return SYNC_UNSUPPORTED("StopContainer");
}
int kl_cri_remove_container(struct kl_cri *c, const char *id, struct kl_error *reterr) {
        return SYNC_UNSUPPORTED("RemoveContainer");
}
int kl_cri_list_containers(struct kl_cri *c, const Runtime__V1__ContainerFilter *filter,
                           Runtime__V1__ListContainersResponse **ret, struct kl_error *reterr) {
        return SYNC_UNSUPPORTED("ListContainers");
}
int kl_cri_container_status(struct kl_cri *c, const char *id, bool verbose, Runtime__V1__ContainerStatusResponse **ret,
                            struct kl_error *reterr) {
        return SYNC_UNSUPPORTED("ContainerStatus");
}
int kl_cri_exec_sync(struct kl_cri *c, const char *id, char *const *cmd, int64_t timeout_s,
                     Runtime__V1__ExecSyncResponse **ret, struct kl_error *reterr) {
        return SYNC_UNSUPPORTED("ExecSync");
}
int kl_cri_reopen_container_log(struct kl_cri *c, const char *id, struct kl_error *reterr) {
        return SYNC_UNSUPPORTED("ReopenContainerLog");
}
int kl_cri_update_container_resources(struct kl_cri *c, const char *id, const Runtime__V1__LinuxContainerResources *res,
                                      struct kl_error *reterr) {
        return SYNC_UNSUPPORTED("UpdateContainerResources");
}
int kl_cri_list_images(struct kl_cri *c, const Runtime__V1__ImageFilter *filter, Runtime__V1__ListImagesResponse **ret,
                       struct kl_error *reterr) {
        return SYNC_UNSUPPORTED("ListImages");
}
int kl_cri_image_status(struct kl_cri *c, const char *image, bool verbose, Runtime__V1__ImageStatusResponse **ret,
                        struct kl_error *reterr) {
        return SYNC_UNSUPPORTED("ImageStatus");
}
int kl_cri_pull_image(struct kl_cri *c, const char *image, const Runtime__V1__PodSandboxConfig *sandbox_cfg,
                      char **ret_image_ref, struct kl_error *reterr) {
        return SYNC_UNSUPPORTED("PullImage");
}
int kl_cri_remove_image(struct kl_cri *c, const char *image, struct kl_error *reterr) {
        return SYNC_UNSUPPORTED("RemoveImage");
}
int kl_cri_image_fs_info(struct kl_cri *c, Runtime__V1__ImageFsInfoResponse **ret, struct kl_error *reterr) {
        return SYNC_UNSUPPORTED("ImageFsInfo");
}

/* ---- helpers (own versions of runtime/cri.c's) ------------------------------- */
