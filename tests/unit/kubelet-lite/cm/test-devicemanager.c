/* SPDX-License-Identifier: Apache-2.0 */
/* The device manager on a real event loop, with a fake plugin served by
 * runtime/grpcserver in the same process: the plugin dir emptied at start
 * but for the checkpoint, Register refusals with upstream's messages, a
 * plugin's devices and health, Allocate before a container and its answer
 * in the CRI config (devices, mounts, envs, annotations, CDI names), and the
 * plugin going away. */
#include "kubelet-lite/cm/devicemanager.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/deviceplugin.pb-c.h"
#include "runtime/grpc.h"
#include "runtime/grpcserver.h"
#include "tests/lib/tests.h"

#define RES "example.com/dongle"

static struct kl_event *loop;
static int changes;

static void on_changed(void *ud) {
        changes++;
}

static void on_exit_timer(struct kl_event_timer *t, uint64_t now, void *ud) {
        kl_event_exit(loop, 0);
}

/* Run the loop until cond or 5 s. */
#define PUMP(cond)                                                                                                     \
        do {                                                                                                           \
                struct kl_event_timer *t_;                                                                             \
                for (int i_ = 0; i_ < 100 && !(cond); i_++) {                                                          \
                        ASSERT_OK(kl_event_add_timer(loop, kl_now_usec() + 50 * KL_USEC_PER_MSEC, on_exit_timer, NULL, \
                                                     &t_));                                                            \
                        kl_event_run(loop);                                                                            \
                        kl_event_timer_free(t_);                                                                       \
                }                                                                                                      \
                ASSERT_TRUE(cond);                                                                                     \
        } while (0)

/* --- the fake plugin ---------------------------------------------------------- */

static struct kl_grpc_server_call *law_call;
static int allocates, prestarts;
static bool prestart_required;
static char prestart_ids[64];

static void send_list(bool second_healthy) {
        V1beta1__ListAndWatchResponse r = V1BETA1__LIST_AND_WATCH_RESPONSE__INIT;
        V1beta1__Device d0 = V1BETA1__DEVICE__INIT, d1 = V1BETA1__DEVICE__INIT, *ds[] = {&d0, &d1};

        d0.id = (char *) "dev0";
        d0.health = (char *) "Healthy";
        d1.id = (char *) "dev1";
        d1.health = (char *) (second_healthy ? "Healthy" : "Unhealthy");
        r.devices = ds;
        r.n_devices = 2;
        ASSERT_OK(kl_grpc_server_send(law_call, &r.base));
}

static void plugin_call(struct kl_grpc_server_call *c, const char *method, const uint8_t *data, size_t len, void *ud) {
        if (strcmp(method, "/v1beta1.DevicePlugin/GetDevicePluginOptions") == 0) {
                V1beta1__DevicePluginOptions o = V1BETA1__DEVICE_PLUGIN_OPTIONS__INIT;
                o.pre_start_required = prestart_required;
                kl_grpc_server_reply(c, &o.base);
        } else if (strcmp(method, "/v1beta1.DevicePlugin/PreStartContainer") == 0) {
                V1beta1__PreStartContainerRequest *req = v1beta1__pre_start_container_request__unpack(NULL, len, data);
                V1beta1__PreStartContainerResponse resp = V1BETA1__PRE_START_CONTAINER_RESPONSE__INIT;
                ASSERT_NOT_NULL(req);
                prestarts++;
                prestart_ids[0] = '\0';
                for (size_t i = 0; i < req->n_devices_ids; i++)
                        snprintf(prestart_ids + strlen(prestart_ids), sizeof(prestart_ids) - strlen(prestart_ids),
                                 "%s ", req->devices_ids[i]);
                v1beta1__pre_start_container_request__free_unpacked(req, NULL);
                kl_grpc_server_reply(c, &resp.base);
        } else if (strcmp(method, "/v1beta1.DevicePlugin/ListAndWatch") == 0) {
                law_call = c;
                send_list(false);
        } else if (strcmp(method, "/v1beta1.DevicePlugin/Allocate") == 0) {
                V1beta1__AllocateRequest *req = v1beta1__allocate_request__unpack(NULL, len, data);
                V1beta1__AllocateResponse resp = V1BETA1__ALLOCATE_RESPONSE__INIT;
                V1beta1__ContainerAllocateResponse cr = V1BETA1__CONTAINER_ALLOCATE_RESPONSE__INIT, *crs[] = {&cr};
                V1beta1__DeviceSpec ds = V1BETA1__DEVICE_SPEC__INIT, *dss[] = {&ds};
                V1beta1__Mount m = V1BETA1__MOUNT__INIT, *ms[] = {&m};
                V1beta1__ContainerAllocateResponse__EnvsEntry
                        env = V1BETA1__CONTAINER_ALLOCATE_RESPONSE__ENVS_ENTRY__INIT,
                        *envs[] = {&env};
                V1beta1__ContainerAllocateResponse__AnnotationsEntry
                        an = V1BETA1__CONTAINER_ALLOCATE_RESPONSE__ANNOTATIONS_ENTRY__INIT,
                        *ans[] = {&an};
                V1beta1__CDIDevice cdi = V1BETA1__CDIDEVICE__INIT, *cdis[] = {&cdi};
                char path[64];

                allocates++;
                ASSERT_NOT_NULL(req);
                ASSERT_EQ(req->n_container_requests, 1);
                ASSERT_EQ(req->container_requests[0]->n_devices_ids, 1);
                snprintf(path, sizeof(path), "/dev/%s", req->container_requests[0]->devices_ids[0]);
                ds.host_path = ds.container_path = path;
                ds.permissions = (char *) "rw";
                m.host_path = (char *) "/opt/lib";
                m.container_path = (char *) "/usr/lib/dongle";
                m.read_only = true;
                env.key = (char *) "DONGLE";
                env.value = req->container_requests[0]->devices_ids[0];
                an.key = (char *) "example.com/note";
                an.value = (char *) "x";
                cdi.name = (char *) "example.com/dongle=dev0";
                cr.devices = dss;
                cr.n_devices = 1;
                cr.mounts = ms;
                cr.n_mounts = 1;
                cr.envs = envs;
                cr.n_envs = 1;
                cr.annotations = ans;
                cr.n_annotations = 1;
                cr.cdi_devices = cdis;
                cr.n_cdi_devices = 1;
                resp.container_responses = crs;
                resp.n_container_responses = 1;
                kl_grpc_server_reply(c, &resp.base);
                v1beta1__allocate_request__free_unpacked(req, NULL);
        } else
                kl_grpc_server_fail(c, 12, "unknown");
}

static void plugin_closed(struct kl_grpc_server_call *c, void *ud) {
        if (c == law_call)
                law_call = NULL;
}

static void on_plugin_io(struct kl_event_io *io, int fd, uint32_t ev, void *ud) {
        kl_grpc_server_dispatch(ud);
}

static void on_client_io(struct kl_event_io *io, int fd, uint32_t ev, void *ud) {
        kl_grpc_dispatch(ud);
}

/* --- Register from a client ------------------------------------------------------ */

static int reg_done, reg_r;
static char reg_msg[KL_ERROR_MSG_MAX];

static void on_reg(int r, const struct kl_error *err, ProtobufCMessage *reply, void *ud) {
        reg_done++;
        reg_r = r;
        snprintf(reg_msg, sizeof(reg_msg), "%s", err ? err->msg : "");
}

static const struct kl_grpc_method m_register = {"/v1beta1.Registration/Register", "Register",
                                                 &v1beta1__empty__descriptor, NULL};

static void do_register(struct kl_grpc *g, const char *version, const char *name, const char *endpoint) {
        V1beta1__RegisterRequest req = V1BETA1__REGISTER_REQUEST__INIT;
        struct kl_error e = {0};
        int before = reg_done;

        req.version = (char *) version;
        req.resource_name = (char *) name;
        req.endpoint = (char *) endpoint;
        ASSERT_OK(kl_grpc_call_async(g, &m_register, &req.base, 3000, on_reg, NULL, &e));
        PUMP(reg_done > before);
}

static bool capacity(struct kl_dm *dm, int64_t *cap, int64_t *alloc) {
        const char *name;
        return kl_devstate_capacity(kl_dm_state(dm), 0, &name, cap, alloc);
}

TEST(registration_devices_allocate) {
        char dir[] = "/tmp/kl-dm-unit.XXXXXX", path[256], target[300];
        struct kl_grpc_server_ops pops = {plugin_call, plugin_closed};
        struct kl_grpc_server *plugin = NULL;
        struct kl_event_io *pio = NULL, *cio = NULL;
        struct kl_grpc *g = NULL;
        struct kl_dm *dm = NULL;
        struct kl_error e = {0};
        int64_t cap = -1, alloc = -1;

        ASSERT_NOT_NULL(mkdtemp(dir));
        ASSERT_OK(kl_event_new(&loop));
        /* a stale socket-like file and an old (corrupt) checkpoint */
        snprintf(path, sizeof(path), "%s/stale.sock", dir);
        close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
        snprintf(path, sizeof(path), "%s/" KL_DM_CHECKPOINT, dir);
        FILE *f = fopen(path, "we");
        fputs("{\"Data\":{}, \"Checksum\": 1}", f);
        fclose(f);

        struct kl_dm_params p = {.loop = loop, .dir = dir, .changed = on_changed};
        ASSERT_OK(kl_dm_new(&p, &dm, &e));
        snprintf(path, sizeof(path), "%s/stale.sock", dir);
        ASSERT_TRUE(access(path, F_OK) < 0);
        snprintf(path, sizeof(path), "%s/" KL_DM_CHECKPOINT, dir);
        ASSERT_OK(access(path, F_OK));
        snprintf(path, sizeof(path), "%s/kubelet.sock", dir);
        ASSERT_OK(access(path, F_OK));
        printf("  start: stale files removed, the checkpoint kept (a bad one ignored), kubelet.sock served\n");

        snprintf(target, sizeof(target), "unix://%s", path);
        ASSERT_OK(kl_grpc_new(target, &g, &e));
        ASSERT_OK(kl_event_add_io(loop, kl_grpc_event_fd(g), EPOLLIN, on_client_io, g, &cio));
        do_register(g, "v1alpha1", RES, "fake.sock");
        ASSERT_TRUE(reg_r < 0);
        ASSERT_CONTAINS(reg_msg, "requested API version \"v1alpha1\" is not supported by kubelet. Supported "
                                 "versions are [\"v1beta1\"]");
        printf("  Register v1alpha1: %s\n", reg_msg);
        do_register(g, "v1beta1", "dongle", "fake.sock");
        ASSERT_CONTAINS(reg_msg, "the ResourceName \"dongle\" is invalid");
        do_register(g, "v1beta1", "kubernetes.io/dongle", "fake.sock");
        ASSERT_CONTAINS(reg_msg, "is invalid");
        printf("  Register of 'dongle' or 'kubernetes.io/dongle': %s\n", reg_msg);
        do_register(g, "v1beta1", RES, "../fake.sock");
        ASSERT_TRUE(reg_r < 0);
        ASSERT_CONTAINS(reg_msg, "is not a socket name in");
        printf("  Register with endpoint '../fake.sock': refused\n");
        ASSERT_FALSE(capacity(dm, &cap, &alloc));

        snprintf(path, sizeof(path), "%s/fake.sock", dir);
        ASSERT_OK(kl_grpc_server_new(path, &pops, NULL, &plugin, &e));
        ASSERT_OK(kl_event_add_io(loop, kl_grpc_server_event_fd(plugin), EPOLLIN, on_plugin_io, plugin, &pio));
        do_register(g, "v1beta1", RES, "fake.sock");
        ASSERT_EQ(reg_r, 0);
        PUMP(capacity(dm, &cap, &alloc));
        ASSERT_EQ(cap, 2);
        ASSERT_EQ(alloc, 1);
        printf("  plugin registered: GetDevicePluginOptions, ListAndWatch: capacity 2, allocatable 1\n");
        send_list(true);
        PUMP(capacity(dm, &cap, &alloc) && alloc == 2);
        printf("  a new list: dev1 healthy, allocatable 2\n");

        /* a pod with one device: admitted, Allocate before its container */
        struct kl_extended_resource one[] = {{(char *) RES, 1}};
        struct kl_container c;
        struct kl_pod pod;
        char reason[KL_DEVSTATE_REASON_MAX], msg[KL_DEVSTATE_MESSAGE_MAX];
        memset(&c, 0, sizeof(c));
        c.name = (char *) "app";
        c.extended = one;
        c.n_extended = 1;
        memset(&pod, 0, sizeof(pod));
        pod.uid = (char *) "uid-1";
        pod.name = (char *) "p";
        pod.containers = &c;
        pod.n_containers = 1;
        ASSERT_TRUE(kl_dm_admit(dm, &pod, NULL, 0, reason, msg));
        ASSERT_EQ(kl_dm_container_ready(dm, "uid-1", "app", &e), 0);
        ASSERT_EQ(kl_dm_container_ready(dm, "uid-1", "app", &e), 0);
        int before = changes;
        PUMP(changes > before);
        ASSERT_EQ(allocates, 1);
        ASSERT_EQ(kl_dm_container_ready(dm, "uid-1", "app", &e), 1);
        ASSERT_EQ(kl_dm_container_ready(dm, "uid-2", "app", &e), 1);
        printf("  container start: Allocate in flight (0), once (%d call), then ready (1)\n", allocates);

        struct kl_arena a = {};
        Runtime__V1__ContainerConfig cfg = RUNTIME__V1__CONTAINER_CONFIG__INIT;
        Runtime__V1__KeyValue kv = RUNTIME__V1__KEY_VALUE__INIT, *kvs[] = {&kv};
        kv.key = (char *) "FROM_SPEC";
        kv.value = (char *) "1";
        cfg.envs = kvs;
        cfg.n_envs = 1;
        ASSERT_OK(kl_dm_container_config(dm, &a, "uid-1", "app", &cfg, &e));
        ASSERT_EQ(cfg.n_devices, 1);
        ASSERT_STREQ(cfg.devices[0]->host_path, "/dev/dev0");
        ASSERT_STREQ(cfg.devices[0]->container_path, "/dev/dev0");
        ASSERT_STREQ(cfg.devices[0]->permissions, "rw");
        ASSERT_EQ(cfg.n_mounts, 1);
        ASSERT_STREQ(cfg.mounts[0]->container_path, "/usr/lib/dongle");
        ASSERT_TRUE(cfg.mounts[0]->readonly);
        ASSERT_EQ(cfg.n_envs, 2);
        ASSERT_STREQ(cfg.envs[0]->key, "FROM_SPEC");
        ASSERT_STREQ(cfg.envs[1]->key, "DONGLE");
        ASSERT_STREQ(cfg.envs[1]->value, "dev0");
        ASSERT_EQ(cfg.n_annotations, 2);
        ASSERT_STREQ(cfg.annotations[0]->key, "example.com/note");
        ASSERT_STREQ(cfg.annotations[1]->key, "cdi.k8s.io/example.com_dongle_app_0");
        ASSERT_STREQ(cfg.annotations[1]->value, "example.com/dongle=dev0");
        kl_arena_free(&a);
        printf("  CRI config: device, read-only mount, env after the spec's, annotation, CDI name annotation\n");

        /* the checkpoint has it, with the answer */
        _cleanup_free_ char *text = NULL;
        snprintf(path, sizeof(path), "%s/" KL_DM_CHECKPOINT, dir);
        f = fopen(path, "re");
        ASSERT_NOT_NULL(f);
        text = calloc(1, 65536);
        ASSERT_TRUE(fread(text, 1, 65535, f) > 0);
        fclose(f);
        ASSERT_CONTAINS(text, "\"PodUID\":\"uid-1\",\"ContainerName\":\"app\",\"ResourceName\":\"" RES
                              "\",\"DeviceIDs\":{\"-1\":[\"dev0\"]},\"AllocResp\":\"");
        printf("  checkpoint written with the allocation and its answer\n");

        /* the plugin goes away: unhealthy, capacity kept */
        kl_event_io_free(pio);
        plugin = kl_grpc_server_free(plugin);
        PUMP(capacity(dm, &cap, &alloc) && alloc == 0);
        ASSERT_EQ(cap, 2);
        printf("  plugin gone: allocatable 0, capacity 2\n");
        ASSERT_EQ(kl_dm_container_ready(dm, "uid-1", "app", &e), 1);
        printf("  a restart of the container reuses the recorded answer: ready without the plugin\n");

        kl_dm_pod_removed(dm, "uid-1");
        ASSERT_EQ(kl_devstate_n_allocated(kl_dm_state(dm), RES), 0);
        printf("  pod removed: its device is free\n");

        kl_event_io_free(cio);
        kl_grpc_free(g);
        kl_dm_free(dm);
        kl_event_free(loop);
        snprintf(path, sizeof(path), "rm -rf %s", dir);
        ASSERT_EQ(system(path), 0);
}

TEST(pre_start_container) {
        char dir[] = "/tmp/kl-dm-unit.XXXXXX", path[256], target[300];
        struct kl_grpc_server_ops pops = {plugin_call, plugin_closed};
        struct kl_grpc_server *plugin = NULL;
        struct kl_event_io *pio = NULL, *cio = NULL;
        struct kl_grpc *g = NULL;
        struct kl_dm *dm = NULL;
        struct kl_error e = {0};
        int64_t cap = -1, alloc = -1;
        struct kl_extended_resource one[] = {{(char *) RES, 1}};
        char reason[KL_DEVSTATE_REASON_MAX], msg[KL_DEVSTATE_MESSAGE_MAX];
        struct kl_container c;
        struct kl_pod pod;

        prestart_required = true;
        allocates = prestarts = 0;
        ASSERT_NOT_NULL(mkdtemp(dir));
        ASSERT_OK(kl_event_new(&loop));
        struct kl_dm_params p = {.loop = loop, .dir = dir, .changed = on_changed};
        ASSERT_OK(kl_dm_new(&p, &dm, &e));
        snprintf(path, sizeof(path), "%s/fake.sock", dir);
        ASSERT_OK(kl_grpc_server_new(path, &pops, NULL, &plugin, &e));
        ASSERT_OK(kl_event_add_io(loop, kl_grpc_server_event_fd(plugin), EPOLLIN, on_plugin_io, plugin, &pio));
        snprintf(target, sizeof(target), "unix://%s/kubelet.sock", dir);
        ASSERT_OK(kl_grpc_new(target, &g, &e));
        ASSERT_OK(kl_event_add_io(loop, kl_grpc_event_fd(g), EPOLLIN, on_client_io, g, &cio));
        do_register(g, "v1beta1", RES, "fake.sock");
        ASSERT_EQ(reg_r, 0);
        PUMP(capacity(dm, &cap, &alloc) && cap == 2);

        memset(&c, 0, sizeof(c));
        c.name = (char *) "app";
        c.extended = one;
        c.n_extended = 1;
        memset(&pod, 0, sizeof(pod));
        pod.uid = (char *) "uid-1";
        pod.name = (char *) "p";
        pod.containers = &c;
        pod.n_containers = 1;
        ASSERT_TRUE(kl_dm_admit(dm, &pod, NULL, 0, reason, msg));
        ASSERT_EQ(kl_dm_container_ready(dm, "uid-1", "app", &e), 0);
        int before = changes;
        PUMP(allocates == 1 && changes > before);
        ASSERT_EQ(kl_dm_container_ready(dm, "uid-1", "app", &e), 0); /* PreStartContainer now */
        before = changes;
        PUMP(prestarts == 1 && changes > before);
        ASSERT_EQ(kl_dm_container_ready(dm, "uid-1", "app", &e), 1);
        ASSERT_STREQ(prestart_ids, "dev0 ");
        printf("  pre_start_required: Allocate, then PreStartContainer(dev0), then ready\n");
        ASSERT_EQ(kl_dm_container_ready(dm, "uid-1", "app", &e), 0);
        before = changes;
        PUMP(prestarts == 2 && changes > before);
        ASSERT_EQ(kl_dm_container_ready(dm, "uid-1", "app", &e), 1);
        ASSERT_EQ(allocates, 1);
        printf("  the next start of the container: PreStartContainer again (%d), no new Allocate\n", prestarts);

        kl_event_io_free(pio);
        plugin = kl_grpc_server_free(plugin);
        PUMP(capacity(dm, &cap, &alloc) && alloc == 0);
        ASSERT_ERR(kl_dm_container_ready(dm, "uid-1", "app", &e), ENODEV);
        ASSERT_CONTAINS(e.msg, "not running");
        printf("  plugin gone: the start fails (%s), as upstream's PreStartContainer would\n", e.msg);

        kl_event_io_free(cio);
        kl_grpc_free(g);
        kl_dm_free(dm);
        kl_event_free(loop);
        prestart_required = false;
        snprintf(path, sizeof(path), "rm -rf %s", dir);
        ASSERT_EQ(system(path), 0);
}

TEST_MAIN()
