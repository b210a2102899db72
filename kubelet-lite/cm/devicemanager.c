/* SPDX-License-Identifier: Apache-2.0 */
/* See devicemanager.h. */
#include "kubelet-lite/cm/devicemanager.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kubelet-lite/server/metrics.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/macros.h"
#include "manifests/names.h"
#include "runtime/deviceplugin.pb-c.h"
#include "runtime/grpc.h"
#include "runtime/grpcstream.h"
#include "runtime/grpcserver.h"

#define SUPPORTED_VERSION "v1beta1"
#define CALL_TIMEOUT_MS 10000 /* upstream's dial and call timeouts are 10 s */
#define MAX_ALLOCS_PER_CONTAINER 16

/* One registered plugin (upstream's endpoint). */
struct endpoint {
        struct kl_dm *dm;
        struct endpoint *next;
        char *resource;
        char *socket;
        struct kl_grpc *g;
        struct kl_event_io *io;
        struct kl_grpc_stream *stream;
        uint64_t stopped_at; /* 0 while it runs */
        bool pre_start_required;
        bool dead; /* replaced or stopped: freed by the reap timer */
};

/* An Allocate in flight or failed, per container and resource. */
struct pending {
        struct pending *next;
        struct kl_dm *dm;
        char *uid, *container, *resource;
        struct endpoint *ep; /* whose Allocate or PreStartContainer is in flight */
        uint64_t t0;         /* when it started */
        bool inflight;
        bool prestart_inflight, prestart_done; /* PreStartContainer for the coming start */
        struct kl_error err;                   /* err.err != 0: failed */
};

struct kl_dm {
        struct kl_event *loop;
        char *dir;
        int dirfd;
        void (*changed)(void *);
        void *userdata;
        struct kl_devstate *st;
        struct kl_grpc_server *srv;
        struct kl_event_io *srv_io;
        struct kl_event_timer *timer; /* reaping dead endpoints, the stop grace period */
        struct endpoint *endpoints;
        struct pending *pending;
        struct kl_metric *m_registrations, *m_alloc_duration, *m_capacity, *m_allocatable;
        char *last; /* the checkpoint as last written */
        size_t last_len;
};

static const struct kl_grpc_method m_options = {"/v1beta1.DevicePlugin/GetDevicePluginOptions",
                                                "GetDevicePluginOptions", &v1beta1__device_plugin_options__descriptor,
                                                NULL};
static const struct kl_grpc_method m_law = {"/v1beta1.DevicePlugin/ListAndWatch", "ListAndWatch",
                                            &v1beta1__list_and_watch_response__descriptor, NULL};
static const struct kl_grpc_method m_prestart = {"/v1beta1.DevicePlugin/PreStartContainer", "PreStartContainer",
                                                 &v1beta1__pre_start_container_response__descriptor, NULL};
static const struct kl_grpc_method m_allocate = {"/v1beta1.DevicePlugin/Allocate", "Allocate",
                                                 &v1beta1__allocate_response__descriptor, NULL};

static void notify(struct kl_dm *dm) {
        if (dm->changed)
                dm->changed(dm->userdata);
}

/* Only when the text changed: a plugin's unchanged list or a rejected pod's
 * retry writes nothing (flash wears). */
static void write_checkpoint(struct kl_dm *dm) {
        struct kl_buf b = {0};
        int r;

        kl_devstate_to_json(dm->st, &b);
        if (b.oom)
                r = -ENOMEM;
        else if (dm->last && b.len == dm->last_len && memcmp(b.data, dm->last, b.len) == 0)
                r = 0;
        else {
                r = kl_write_file_atomic_at(dm->dirfd, KL_DM_CHECKPOINT, b.data, b.len, 0644);
                if (r >= 0) {
                        free(dm->last);
                        dm->last = kl_buf_steal(&b, &dm->last_len);
                }
        }
        if (r < 0)
                log_warning_errno(r, "device manager: writing %s/%s: %m, ignoring", dm->dir, KL_DM_CHECKPOINT);
        kl_buf_free_contents(&b);
}

static struct endpoint *find_endpoint(struct kl_dm *dm, const char *resource) {
        for (struct endpoint *e = dm->endpoints; e; e = e->next)
                if (!e->dead && streq(e->resource, resource))
                        return e;
        return NULL;
}

/* Never from inside the endpoint's own dispatch: marks it, the timer frees. */
static void endpoint_kill(struct endpoint *e) {
        e->dead = true;
        kl_event_timer_set(e->dm->timer, 0);
}

static struct endpoint *endpoint_free(struct endpoint *e) {
        if (!e)
                return NULL;
        kl_event_io_free(e->io);
        kl_grpc_free(e->g); /* cancels the stream */
        free(e->resource);
        free(e->socket);
        free(e);
        return NULL;
}

/* upstream's handler PluginDisconnected: devices unhealthy now, the resource
 * gone after the grace period. */
static void endpoint_stopped(struct endpoint *e, const char *why) {
        struct kl_dm *dm = e->dm;

        log_warning("device plugin '%s': %s; its devices are unhealthy until it registers again", e->resource, why);
        e->stopped_at = kl_now_usec();
        kl_devstate_mark_unhealthy(dm->st, e->resource);
        kl_event_timer_set(dm->timer, MIN(kl_event_timer_deadline(dm->timer), e->stopped_at + KL_DM_STOP_GRACE_USEC));
        notify(dm);
}

static void on_list(struct kl_grpc_stream *s, int r, const struct kl_error *err, ProtobufCMessage *msg, void *ud) {
        struct endpoint *e = ud;
        struct kl_dm *dm = e->dm;

        if (!msg) {
                e->stream = NULL;
                if (!e->dead)
                        endpoint_stopped(e, r < 0 ? kl_error_str(err) : "ListAndWatch ended");
                return;
        }
        if (e->dead)
                return; /* replaced by a newer registration: its lists count */
        const V1beta1__ListAndWatchResponse *resp = (const void *) msg;
        _cleanup_free_ char **ids = calloc(resp->n_devices + 1, sizeof(*ids));
        _cleanup_free_ bool *health = calloc(resp->n_devices + 1, sizeof(*health));
        size_t healthy = 0;
        if (!ids || !health) {
                log_error("device plugin '%s': out of memory, ignoring its list", e->resource);
                return;
        }
        for (size_t i = 0; i < resp->n_devices; i++) {
                ids[i] = resp->devices[i]->id;
                /* upstream's constants.go: anything but "Healthy" is not */
                health[i] = streq(resp->devices[i]->health, "Healthy");
                healthy += health[i];
        }
        if (kl_devstate_set_devices(dm->st, e->resource, ids, health, resp->n_devices) < 0) {
                log_error("device plugin '%s': out of memory, ignoring its list", e->resource);
                return;
        }
        e->stopped_at = 0;
        log_info("device plugin '%s': %zu devices, %zu healthy", e->resource, resp->n_devices, healthy);
        write_checkpoint(dm);
        notify(dm);
}

static void on_options(int r, const struct kl_error *err, ProtobufCMessage *reply, void *ud) {
        struct endpoint *e = ud;
        V1beta1__Empty empty = V1BETA1__EMPTY__INIT;
        struct kl_error e2 = {0};

        if (e->dead)
                return;
        if (r < 0) {
                endpoint_stopped(e, kl_error_str(err));
                return;
        }
        /* GetPreferredAllocation is optional to the kubelet: not called
         * (see docs/DEVICES.md); PreStartContainer is when asked for. */
        e->pre_start_required = ((const V1beta1__DevicePluginOptions *) reply)->pre_start_required;
        if (kl_grpc_stream_start(e->g, &m_law, &empty.base, on_list, e, &e->stream, &e2) < 0)
                endpoint_stopped(e, kl_error_str(&e2));
}

static void on_endpoint_io(struct kl_event_io *io, int fd, uint32_t revents, void *ud) {
        struct endpoint *e = ud;
        kl_grpc_dispatch(e->g);
}

/* upstream's server.go runClient/connectClient. */
static int endpoint_start(struct kl_dm *dm, const char *resource, const char *endpoint, struct kl_error *reterr) {
        V1beta1__Empty empty = V1BETA1__EMPTY__INIT;
        _cleanup_free_ char *target = NULL;
        struct endpoint *e, *old;
        int r;

        e = calloc(1, sizeof(*e));
        if (!e || !(e->resource = strdup(resource)) || asprintf(&e->socket, "%s/%s", dm->dir, endpoint) < 0 ||
            asprintf(&target, "unix://%s", e->socket) < 0) {
                endpoint_free(e);
                return kl_error_set(reterr, ENOMEM, "out of memory");
        }
        e->dm = dm;
        r = kl_grpc_new(target, &e->g, reterr);
        if (r >= 0)
                r = kl_event_add_io(dm->loop, kl_grpc_event_fd(e->g), EPOLLIN, on_endpoint_io, e, &e->io);
        if (r >= 0)
                r = kl_grpc_call_async(e->g, &m_options, &empty.base, CALL_TIMEOUT_MS, on_options, e, reterr);
        if (r < 0) {
                endpoint_free(e);
                return r;
        }
        /* upstream always takes the newest plugin for a resource */
        old = find_endpoint(dm, resource);
        if (old)
                endpoint_kill(old);
        e->next = dm->endpoints;
        dm->endpoints = e;
        return 0;
}

/* upstream's server.go Register. */
static void on_register(struct kl_dm *dm, struct kl_grpc_server_call *c, const uint8_t *data, size_t len) {
        V1beta1__RegisterRequest *req = v1beta1__register_request__unpack(NULL, len, data);
        V1beta1__Empty empty = V1BETA1__EMPTY__INIT;
        struct kl_error err = {0};
        char msg[512];

        if (!req) {
                (void) kl_grpc_server_fail(c, 3 /* INVALID_ARGUMENT */, "malformed RegisterRequest");
                return;
        }
        if (!streq(req->version, SUPPORTED_VERSION)) {
                snprintf(msg, sizeof(msg),
                         "requested API version \"%.64s\" is not supported by kubelet. Supported versions are "
                         "[\"" SUPPORTED_VERSION "\"]",
                         req->version);
                log_warning("device plugin registration refused: %s", msg);
                (void) kl_grpc_server_fail(c, 2 /* UNKNOWN, as a Go error */, msg);
        } else if (!kl_is_extended_resource_name(req->resource_name)) {
                snprintf(msg, sizeof(msg), "the ResourceName \"%.200s\" is invalid", req->resource_name);
                log_warning("device plugin registration refused: %s", msg);
                (void) kl_grpc_server_fail(c, 2, msg);
        } else if (!req->endpoint[0] || strchr(req->endpoint, '/') || streq(req->endpoint, "..") ||
                   streq(req->endpoint, ".") || strlen(req->endpoint) > 200) {
                /* upstream joins it to the dir; we keep it inside */
                snprintf(msg, sizeof(msg), "the endpoint \"%.200s\" is not a socket name in %s", req->endpoint,
                         dm->dir);
                log_warning("device plugin registration refused: %s", msg);
                (void) kl_grpc_server_fail(c, 2, msg);
        } else if (endpoint_start(dm, req->resource_name, req->endpoint, &err) < 0) {
                log_warning("device plugin '%s': %s", req->resource_name, kl_error_str(&err));
                (void) kl_grpc_server_fail(c, 2, kl_error_str(&err));
        } else {
                log_info("device plugin '%s' registered (endpoint %s/%s)", req->resource_name, dm->dir, req->endpoint);
                (void) kl_metric_inc(dm->m_registrations, req->resource_name);
                (void) kl_grpc_server_reply(c, &empty.base);
        }
        v1beta1__register_request__free_unpacked(req, NULL);
}

static void on_call(struct kl_grpc_server_call *c, const char *method, const uint8_t *data, size_t len, void *ud) {
        if (streq(method, "/v1beta1.Registration/Register"))
                on_register(ud, c, data, len);
        else
                (void) kl_grpc_server_fail(c, 12 /* UNIMPLEMENTED */, "unknown method");
}

static void on_server_io(struct kl_event_io *io, int fd, uint32_t revents, void *ud) {
        struct kl_dm *dm = ud;
        kl_grpc_server_dispatch(dm->srv);
}

static void on_timer(struct kl_event_timer *t, uint64_t now, void *ud) {
        struct kl_dm *dm = ud;
        uint64_t next = KL_USEC_INFINITY;
        bool removed = false;

        for (struct endpoint **p = &dm->endpoints; *p;) {
                struct endpoint *e = *p;
                if (!e->dead && e->stopped_at && now >= e->stopped_at + KL_DM_STOP_GRACE_USEC) {
                        /* GetCapacity's deletedResources */
                        log_info("device plugin '%s': gone for good, removing its resource", e->resource);
                        kl_devstate_remove_resource(dm->st, e->resource);
                        e->dead = removed = true;
                }
                if (e->dead) {
                        /* its in-flight Allocates never call back now */
                        for (struct pending *x = dm->pending; x; x = x->next)
                                if ((x->inflight || x->prestart_inflight) && x->ep == e) {
                                        x->inflight = x->prestart_inflight = false;
                                        kl_error_set(&x->err, ECONNRESET, "device plugin '%s' went away", e->resource);
                                }
                        *p = e->next;
                        endpoint_free(e);
                        continue;
                }
                if (e->stopped_at)
                        next = MIN(next, e->stopped_at + KL_DM_STOP_GRACE_USEC);
                p = &e->next;
        }
        kl_event_timer_set(t, next);
        if (removed) {
                write_checkpoint(dm);
                notify(dm);
        }
}

/* upstream's CleanupPluginDirectory: every file but the checkpoint goes, so
 * that plugins watching the dir see their sockets vanish and register again. */
static void cleanup_dir(struct kl_dm *dm) {
        int fd = fcntl(dm->dirfd, F_DUPFD_CLOEXEC, 3);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        struct dirent *de;

        if (!d) {
                safe_close(fd);
                return;
        }
        while ((de = readdir(d))) {
                struct stat st;
                if (streq(de->d_name, ".") || streq(de->d_name, "..") || streq(de->d_name, KL_DM_CHECKPOINT))
                        continue;
                if (fstatat(dm->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(st.st_mode))
                        continue;
                if (unlinkat(dm->dirfd, de->d_name, 0) < 0)
                        log_warning("device manager: removing %s/%s: %m, ignoring", dm->dir, de->d_name);
        }
        closedir(d);
}

static void load_checkpoint(struct kl_dm *dm) {
        _cleanup_free_ char *buf = NULL;
        struct kl_error err = {0};
        size_t len;
        int r;

        r = kl_read_file_at(dm->dirfd, KL_DM_CHECKPOINT, KL_DEVSTATE_MAX_CHECKPOINT, 1, &buf, &len);
        if (r == -ENOENT)
                return;
        if (r >= 0)
                r = kl_devstate_from_json(dm->st, buf, len, &err);
        else
                kl_error_set(&err, -r, "%s", strerror(-r));
        if (r < 0) {
                /* upstream logs and starts without it */
                log_warning("device manager: %s/%s: %s, starting without it", dm->dir, KL_DM_CHECKPOINT,
                            kl_error_str(&err));
                return;
        }
        log_info("device manager: checkpoint loaded from %s/%s", dm->dir, KL_DM_CHECKPOINT);
}

static void collect(struct kl_metrics *m, void *userdata) {
        struct kl_dm *dm = userdata;
        const char *name;
        int64_t cap, alloc;

        kl_metric_reset(dm->m_capacity);
        kl_metric_reset(dm->m_allocatable);
        for (size_t i = 0; kl_devstate_capacity(dm->st, i, &name, &cap, &alloc); i++) {
                (void) kl_metric_set(dm->m_capacity, (double) cap, name);
                (void) kl_metric_set(dm->m_allocatable, (double) alloc, name);
        }
}

static void register_metrics(struct kl_dm *dm, struct kl_metrics *m) {
        static const char *const res[] = {"resource_name", NULL};
        static const char *const res2[] = {"resource", NULL};

        if (!m)
                return;
        /* upstream's pkg/kubelet/metrics names and help */
        dm->m_registrations = kl_metrics_counter(m, "kubelet_device_plugin_registration_total",
                                                 "[ALPHA] Cumulative number of device plugin registrations. Broken "
                                                 "down by resource name.",
                                                 res);
        dm->m_alloc_duration =
                kl_metrics_histogram(m, "kubelet_device_plugin_alloc_duration_seconds",
                                     "[ALPHA] Duration in seconds to serve a device plugin Allocation "
                                     "request. Broken down by resource name.",
                                     kl_metrics_default_buckets, ELEMENTSOF(kl_metrics_default_buckets), res);
        dm->m_capacity = kl_metrics_gauge(m, "kubelet_lite_node_extended_resource_capacity",
                                          "Devices of each device plugin resource (node status capacity)", res2);
        dm->m_allocatable = kl_metrics_gauge(m, "kubelet_lite_node_extended_resource_allocatable",
                                             "Healthy devices of each device plugin resource (node status "
                                             "allocatable)",
                                             res2);
        if (dm->m_capacity && dm->m_allocatable)
                (void) kl_metrics_add_collector(m, collect, dm);
}

int kl_dm_new(const struct kl_dm_params *p, struct kl_dm **ret, struct kl_error *reterr) {
        static const struct kl_grpc_server_ops ops = {on_call, NULL};
        _cleanup_free_ char *sock = NULL;
        struct kl_dm *dm;
        int r;

        dm = calloc(1, sizeof(*dm));
        if (!dm)
                return kl_error_set(reterr, ENOMEM, "out of memory");
        dm->loop = p->loop;
        dm->changed = p->changed;
        dm->userdata = p->userdata;
        dm->dirfd = -EBADF;
        if (!(dm->dir = strdup(p->dir)) || kl_devstate_new(&dm->st) < 0 ||
            asprintf(&sock, "%s/%s", p->dir, KL_DM_KUBELET_SOCKET) < 0) {
                r = kl_error_set(reterr, ENOMEM, "out of memory");
                goto fail;
        }
        r = kl_mkdir_p(dm->dir, 0750);
        if (r < 0) {
                r = kl_error_set(reterr, -r, "creating '%s': %s", dm->dir, strerror(-r));
                goto fail;
        }
        dm->dirfd = open(dm->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dm->dirfd < 0) {
                r = kl_error_set(reterr, errno, "opening '%s': %m", dm->dir);
                goto fail;
        }
        load_checkpoint(dm);
        cleanup_dir(dm);
        r = kl_grpc_server_new(sock, &ops, dm, &dm->srv, reterr);
        if (r < 0)
                goto fail;
        r = kl_event_add_io(dm->loop, kl_grpc_server_event_fd(dm->srv), EPOLLIN, on_server_io, dm, &dm->srv_io);
        if (r >= 0)
                r = kl_event_add_timer(dm->loop, KL_USEC_INFINITY, on_timer, dm, &dm->timer);
        if (r < 0) {
                r = kl_error_set(reterr, -r, "device manager: event loop: %s", strerror(-r));
                goto fail;
        }
        register_metrics(dm, p->metrics);
        log_info("device manager: serving Registration on %s", sock);
        *ret = dm;
        return 0;
fail:
        kl_dm_free(dm);
        return r;
}

static struct pending *pending_free(struct pending *p) {
        if (p) {
                free(p->uid);
                free(p->container);
                free(p->resource);
                free(p);
        }
        return NULL;
}

struct kl_dm *kl_dm_free(struct kl_dm *dm) {
        if (!dm)
                return NULL;
        while (dm->endpoints) {
                struct endpoint *e = dm->endpoints;
                dm->endpoints = e->next;
                endpoint_free(e);
        }
        /* after the endpoints: no Allocate callback can run any more */
        while (dm->pending) {
                struct pending *p = dm->pending;
                dm->pending = p->next;
                pending_free(p);
        }
        kl_event_io_free(dm->srv_io);
        kl_grpc_server_free(dm->srv);
        kl_event_timer_free(dm->timer);
        kl_devstate_free(dm->st);
        free(dm->last);
        safe_close(dm->dirfd);
        free(dm->dir);
        free(dm);
        return NULL;
}

struct kl_devstate *kl_dm_state(struct kl_dm *dm) {
        return dm ? dm->st : NULL;
}

bool kl_dm_admit(struct kl_dm *dm, const struct kl_pod *pod, const struct kl_pod *const *admitted, size_t n_admitted,
                 char reason[KL_DEVSTATE_REASON_MAX], char message[KL_DEVSTATE_MESSAGE_MAX]) {
        bool ok, any = false;

        for (size_t i = 0; i < pod->n_containers && !any; i++)
                any = pod->containers[i].n_extended > 0;
        for (size_t i = 0; i < pod->n_init_containers && !any; i++)
                any = pod->init_containers[i].n_extended > 0;
        if (!any) {
                reason[0] = message[0] = '\0';
                return true; /* the common case: nothing to do, nothing to write */
        }
        ok = kl_devstate_admit(dm->st, pod, admitted, n_admitted, reason, message);
        write_checkpoint(dm);
        return ok;
}

void kl_dm_retain(struct kl_dm *dm, const char *const *uids, size_t n) {
        size_t gone;

        if (!dm)
                return;
        gone = kl_devstate_retain(dm->st, uids, n);
        if (gone > 0) {
                log_info("device manager: %zu allocation(s) of pods gone released", gone);
                write_checkpoint(dm);
                notify(dm);
        }
}

void kl_dm_pod_removed(struct kl_dm *dm, const char *pod_uid) {
        if (!dm)
                return;
        for (struct pending **p = &dm->pending; *p;) {
                if (streq((*p)->uid, pod_uid) && !(*p)->inflight && !(*p)->prestart_inflight) {
                        struct pending *x = *p;
                        *p = x->next;
                        pending_free(x);
                } else
                        p = &(*p)->next;
        }
        if (kl_devstate_release_pod(dm->st, pod_uid) > 0) {
                log_info("device manager: pod uid=%s: devices released", pod_uid);
                write_checkpoint(dm);
                notify(dm);
        }
}

static struct pending *find_pending(struct kl_dm *dm, const char *uid, const char *container, const char *resource) {
        for (struct pending *p = dm->pending; p; p = p->next)
                if (streq(p->uid, uid) && streq(p->container, container) && streq(p->resource, resource))
                        return p;
        return NULL;
}

static void on_allocate(int r, const struct kl_error *err, ProtobufCMessage *reply, void *ud) {
        struct pending *p = ud;
        struct kl_dm *dm = p->dm;

        p->inflight = false;
        (void) kl_metric_observe(dm->m_alloc_duration, (double) (kl_now_usec() - p->t0) / 1e6, p->resource);
        if (r >= 0) {
                const V1beta1__AllocateResponse *resp = (const void *) reply;
                if (resp->n_container_responses != 1)
                        kl_error_set(&p->err, EBADMSG, "Allocate: %zu container responses for 1 request",
                                     resp->n_container_responses);
                else {
                        size_t len = protobuf_c_message_get_packed_size(&resp->container_responses[0]->base);
                        _cleanup_free_ uint8_t *buf = malloc(len ? len : 1);
                        if (!buf)
                                kl_error_set(&p->err, ENOMEM, "out of memory");
                        else {
                                protobuf_c_message_pack(&resp->container_responses[0]->base, buf);
                                if (kl_devstate_set_response(dm->st, p->uid, p->container, p->resource, buf, len) >= 0)
                                        write_checkpoint(dm);
                        }
                }
        } else
                kl_error_set(&p->err, -r, "%s", kl_error_str(err));
        if (p->err.err)
                log_warning("device plugin '%s': pod uid=%s container '%s': %s", p->resource, p->uid, p->container,
                            p->err.msg);
        notify(dm);
}

static struct pending *get_pending(struct kl_dm *dm, const char *uid, const char *container, const char *resource) {
        struct pending *p = find_pending(dm, uid, container, resource);

        if (p)
                return p;
        p = calloc(1, sizeof(*p));
        if (!p || !(p->uid = strdup(uid)) || !(p->container = strdup(container)) || !(p->resource = strdup(resource)))
                return pending_free(p);
        p->dm = dm;
        p->next = dm->pending;
        dm->pending = p;
        return p;
}

static void on_prestart(int r, const struct kl_error *err, ProtobufCMessage *reply, void *ud) {
        struct pending *p = ud;

        p->prestart_inflight = false;
        if (r < 0) {
                kl_error_set(&p->err, -r, "%s", kl_error_str(err));
                log_warning("device plugin '%s': pod uid=%s container '%s': %s", p->resource, p->uid, p->container,
                            p->err.msg);
        } else
                p->prestart_done = true;
        notify(p->dm);
}

/* upstream's callPreStartContainerFromDevicePlugin, before every start of a
 * container when the plugin asked for it. 1 done, 0 in flight, < 0 failed. */
static int prestart(struct kl_dm *dm, const struct kl_devstate_alloc *a, const char *uid, const char *container,
                    struct kl_error *reterr) {
        struct endpoint *e = find_endpoint(dm, a->resource);
        struct pending *p;

        if (!e || !e->pre_start_required)
                return 1; /* unknown until the plugin registers: nothing to ask */
        if (e->stopped_at)
                return kl_error_set(reterr, ENODEV, "device plugin for %s is not running", a->resource);
        p = get_pending(dm, uid, container, a->resource);
        if (!p)
                return kl_error_set(reterr, ENOMEM, "out of memory");
        if (p->prestart_inflight)
                return 0;
        if (p->err.err) {
                int r = kl_error_set(reterr, p->err.err, "%s", p->err.msg);
                p->err = (struct kl_error){0};
                return r;
        }
        if (p->prestart_done)
                return 1;

        V1beta1__PreStartContainerRequest req = V1BETA1__PRE_START_CONTAINER_REQUEST__INIT;
        req.devices_ids = a->ids;
        req.n_devices_ids = a->n_ids;
        int r = kl_grpc_call_async(e->g, &m_prestart, &req.base, CALL_TIMEOUT_MS, on_prestart, p, reterr);
        if (r < 0)
                return r;
        p->prestart_inflight = true;
        p->ep = e;
        return 0;
}

int kl_dm_container_ready(struct kl_dm *dm, const char *pod_uid, const char *container, struct kl_error *reterr) {
        const struct kl_devstate_alloc *allocs[MAX_ALLOCS_PER_CONTAINER];
        size_t n;
        int ready = 1;

        if (!dm)
                return 1;
        n = kl_devstate_container_allocs(dm->st, pod_uid, container, allocs, ELEMENTSOF(allocs));
        for (size_t i = 0; i < n; i++) {
                const struct kl_devstate_alloc *a = allocs[i];
                struct pending *p;
                struct endpoint *e;
                int r;

                if (a->resp) {
                        r = prestart(dm, a, pod_uid, container, reterr);
                        if (r < 0)
                                return r;
                        if (r == 0)
                                ready = 0;
                        continue;
                }
                p = find_pending(dm, pod_uid, container, a->resource);
                if (p && p->inflight) {
                        ready = 0;
                        continue;
                }
                if (p && p->err.err) {
                        r = kl_error_set(reterr, p->err.err, "%s", p->err.msg);
                        p->err = (struct kl_error){0}; /* the next start tries again */
                        return r;
                }
                e = find_endpoint(dm, a->resource);
                if (!e || e->stopped_at)
                        return kl_error_set(reterr, ENODEV, "device plugin for %s is not running", a->resource);
                p = get_pending(dm, pod_uid, container, a->resource);
                if (!p)
                        return kl_error_set(reterr, ENOMEM, "out of memory");
                V1beta1__AllocateRequest req = V1BETA1__ALLOCATE_REQUEST__INIT;
                V1beta1__ContainerAllocateRequest creq = V1BETA1__CONTAINER_ALLOCATE_REQUEST__INIT, *cptr = &creq;
                creq.devices_ids = a->ids;
                creq.n_devices_ids = a->n_ids;
                req.container_requests = &cptr;
                req.n_container_requests = 1;
                r = kl_grpc_call_async(e->g, &m_allocate, &req.base, CALL_TIMEOUT_MS, on_allocate, p, reterr);
                if (r < 0)
                        return r;
                p->inflight = true;
                p->ep = e;
                p->t0 = kl_now_usec();
                ready = 0;
        }
        if (ready)
                /* this start used them: the next start asks again */
                for (struct pending *p = dm->pending; p; p = p->next)
                        if (streq(p->uid, pod_uid) && streq(p->container, container))
                                p->prestart_done = false;
        return ready;
}

int kl_dm_container_config(struct kl_dm *dm, struct kl_arena *a, const char *pod_uid, const char *container,
                           Runtime__V1__ContainerConfig *cfg, struct kl_error *reterr) {
        const struct kl_devstate_alloc *allocs[MAX_ALLOCS_PER_CONTAINER];
        V1beta1__ContainerAllocateResponse *resp[MAX_ALLOCS_PER_CONTAINER] = {0};
        size_t n, nd = 0, nm = 0, ne = 0, na = 0;
        int r = 0;

        if (!dm)
                return 0;
        n = kl_devstate_container_allocs(dm->st, pod_uid, container, allocs, ELEMENTSOF(allocs));
        if (n == 0)
                return 0;
        for (size_t i = 0; i < n; i++) {
                if (!allocs[i]->resp || !(resp[i] = v1beta1__container_allocate_response__unpack(
                                                  NULL, allocs[i]->resp_len, allocs[i]->resp))) {
                        r = kl_error_set(reterr, EBADMSG, "no Allocate answer for %s", allocs[i]->resource);
                        goto out;
                }
                nd += resp[i]->n_devices;
                nm += resp[i]->n_mounts;
                ne += resp[i]->n_envs;
                na += resp[i]->n_annotations + resp[i]->n_cdi_devices;
        }

        /* grow the arrays the spec built: arena copies with room for ours */
#define GROW(field, nfield, extra)                                                               \
        do {                                                                                     \
                void *_n = kl_arena_alloc(a, (cfg->nfield + (extra) + 1) * sizeof(*cfg->field)); \
                if (!_n) {                                                                       \
                        r = kl_error_set(reterr, ENOMEM, "out of memory");                       \
                        goto out;                                                                \
                }                                                                                \
                if (cfg->nfield)                                                                 \
                        memcpy(_n, cfg->field, cfg->nfield * sizeof(*cfg->field));               \
                cfg->field = _n;                                                                 \
        } while (0)
        GROW(devices, n_devices, nd);
        GROW(mounts, n_mounts, nm);
        GROW(envs, n_envs, ne);
        GROW(annotations, n_annotations, na);
#undef GROW

        for (size_t i = 0; i < n; i++) {
                const V1beta1__ContainerAllocateResponse *x = resp[i];
                for (size_t k = 0; k < x->n_devices; k++) {
                        Runtime__V1__Device *d = kl_arena_alloc(a, sizeof(*d));
                        if (!d)
                                continue;
                        *d = (Runtime__V1__Device) RUNTIME__V1__DEVICE__INIT;
                        d->container_path = kl_arena_strdup(a, x->devices[k]->container_path);
                        d->host_path = kl_arena_strdup(a, x->devices[k]->host_path);
                        d->permissions = kl_arena_strdup(a, x->devices[k]->permissions);
                        cfg->devices[cfg->n_devices++] = d;
                }
                for (size_t k = 0; k < x->n_mounts; k++) {
                        Runtime__V1__Mount *m = kl_arena_alloc(a, sizeof(*m));
                        if (!m)
                                continue;
                        *m = (Runtime__V1__Mount) RUNTIME__V1__MOUNT__INIT;
                        m->container_path = kl_arena_strdup(a, x->mounts[k]->container_path);
                        m->host_path = kl_arena_strdup(a, x->mounts[k]->host_path);
                        m->readonly = x->mounts[k]->read_only;
                        cfg->mounts[cfg->n_mounts++] = m;
                }
                for (size_t k = 0; k < x->n_envs; k++) {
                        Runtime__V1__KeyValue *kv = kl_arena_alloc(a, sizeof(*kv));
                        if (!kv)
                                continue;
                        *kv = (Runtime__V1__KeyValue) RUNTIME__V1__KEY_VALUE__INIT;
                        kv->key = kl_arena_strdup(a, x->envs[k]->key);
                        kv->value = kl_arena_strdup(a, x->envs[k]->value);
                        cfg->envs[cfg->n_envs++] = kv;
                }
                for (size_t k = 0; k < x->n_annotations + x->n_cdi_devices; k++) {
                        Runtime__V1__ContainerConfig__AnnotationsEntry *an = kl_arena_alloc(a, sizeof(*an));
                        if (!an)
                                continue;
                        *an = (Runtime__V1__ContainerConfig__AnnotationsEntry)
                                RUNTIME__V1__CONTAINER_CONFIG__ANNOTATIONS_ENTRY__INIT;
                        if (k < x->n_annotations) {
                                an->key = kl_arena_strdup(a, x->annotations[k]->key);
                                an->value = kl_arena_strdup(a, x->annotations[k]->value);
                        } else {
                                /* upstream before the CDIDevices field: one
                                 * annotation per device, keyed by the
                                 * resource and container */
                                an->key = kl_arena_printf(a, "cdi.k8s.io/%s_%s_%zu", allocs[i]->resource, container,
                                                          k - x->n_annotations);
                                for (char *c = an->key ? an->key + strlen("cdi.k8s.io/") : NULL; c && *c; c++)
                                        if (*c == '/')
                                                *c = '_';
                                an->value = kl_arena_strdup(a, x->cdi_devices[k - x->n_annotations]->name);
                        }
                        cfg->annotations[cfg->n_annotations++] = an;
                }
        }
        if (!kl_arena_ok(a))
                r = kl_error_set(reterr, ENOMEM, "out of memory");
out:
        for (size_t i = 0; i < n; i++)
                if (resp[i])
                        v1beta1__container_allocate_response__free_unpacked(resp[i], NULL);
        return r;
}
