/* SPDX-License-Identifier: Apache-2.0 */
/* An in-memory CRI runtime in place of runtime/cri.o (see fake-cri.h). It
 * follows containerd's observable behaviour where the pod code depends on it:
 * StopPodSandbox stops the sandbox's containers, RemovePodSandbox removes
 * them, a removed id answers NOT_FOUND (-ENOENT), StartContainer of a
 * container that is not CREATED fails. */
#include "tests/unit/kubelet-lite/pod/fake-cri.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "kubelet-lite/event.h"
#include "lib/macros.h"

#define MAX_OBJS 256
#define MAX_KV 32

struct kv {
        char *k, *v;
};

struct kvs {
        struct kv e[MAX_KV];
        size_t n;
};

struct fsandbox {
        char id[32];
        char *name, *ns, *uid;
        uint32_t attempt;
        int state;
        int64_t created_at;
        struct kvs labels, annotations;
        bool removed;
};

struct fcontainer {
        char id[32];
        char sandbox_id[32];
        char *name, *image;
        uint32_t attempt;
        int state;
        int64_t created_at, started_at, finished_at;
        int32_t exit_code;
        char *reason;
        struct kvs labels, annotations;
        bool removed;
};

struct fcall {
        enum fake_method m;
        char *id;
        int64_t timeout;
        kl_cri_callback_t cb;
        void *userdata;
        bool held;
        int fail_err; /* > 0: fail with it */
        char *fail_msg;
        /* RunPodSandbox and CreateContainer: what the config asked for */
        char *name, *ns, *uid, *image;
        uint32_t attempt;
        struct kvs labels, annotations;
        struct fcall *next;
};

struct kl_cri {
        int efd;
};

static const char *const method_names[_FAKE_METHOD_MAX] = {
        [FAKE_VERSION] = "Version",
        [FAKE_STATUS] = "Status",
        [FAKE_RUN_SANDBOX] = "RunPodSandbox",
        [FAKE_STOP_SANDBOX] = "StopPodSandbox",
        [FAKE_REMOVE_SANDBOX] = "RemovePodSandbox",
        [FAKE_SANDBOX_STATUS] = "PodSandboxStatus",
        [FAKE_LIST_SANDBOX] = "ListPodSandbox",
        [FAKE_CREATE] = "CreateContainer",
        [FAKE_START] = "StartContainer",
        [FAKE_STOP] = "StopContainer",
        [FAKE_REMOVE] = "RemoveContainer",
        [FAKE_LIST_CONTAINERS] = "ListContainers",
        [FAKE_CONTAINER_STATUS] = "ContainerStatus",
        [FAKE_EXEC] = "ExecSync",
        [FAKE_REOPEN_LOG] = "ReopenContainerLog",
        [FAKE_UPDATE_RESOURCES] = "UpdateContainerResources",
        [FAKE_IMAGE_STATUS] = "ImageStatus",
        [FAKE_PULL] = "PullImage",
};

static struct {
        struct fsandbox sb[MAX_OBJS];
        size_t n_sb;
        struct fcontainer ct[MAX_OBJS];
        size_t n_ct;
        struct fcall *queue; /* FIFO */
        unsigned n_calls[_FAKE_METHOD_MAX], in_flight[_FAKE_METHOD_MAX], max_in_flight[_FAKE_METHOD_MAX];
        bool hold[_FAKE_METHOD_MAX];
        int fail_err[_FAKE_METHOD_MAX];
        unsigned fail_n[_FAKE_METHOD_MAX];
        char *fail_msg[_FAKE_METHOD_MAX];
        char actions[16384];
        unsigned next_id;
        bool images_absent; /* ImageStatus answers "absent" until a pull succeeds */
        ProtobufCMessage *running_reply;
        bool reply_taken;
        kl_cri_observer_t observer;
        void *observer_data;
        struct kl_cri *cri;
} F;

/* ---- helpers ------------------------------------------------------------ */

static char *xstrdup(const char *s) {
        char *r = strdup(s ? s : "");
        if (!r)
                abort();
        return r;
}

static void kvs_add(struct kvs *k, const char *key, const char *value) {
        if (k->n >= MAX_KV)
                abort();
        k->e[k->n].k = xstrdup(key);
        k->e[k->n].v = xstrdup(value);
        k->n++;
}

static void kvs_done(struct kvs *k) {
        for (size_t i = 0; i < k->n; i++) {
                free(k->e[i].k);
                free(k->e[i].v);
        }
        k->n = 0;
}

static void kvs_copy(struct kvs *dst, const struct kvs *src) {
        for (size_t i = 0; i < src->n; i++)
                kvs_add(dst, src->e[i].k, src->e[i].v);
}

/* Map fields of every protobuf-c map type share this layout. */
struct map_entry {
        ProtobufCMessage base;
        char *key;
        char *value;
};

static void kvs_from_map(struct kvs *dst, void *const *entries, size_t n) {
        for (size_t i = 0; i < n; i++) {
                const struct map_entry *e = entries[i];
                kvs_add(dst, e->key, e->value);
        }
}

/* Scratch memory of one reply, freed once it has been packed. */
struct scratch {
        void *p[4096];
        size_t n;
};

static void *sc_alloc(struct scratch *s, size_t size) {
        void *p = calloc(1, size);
        if (!p || s->n >= ELEMENTSOF(s->p))
                abort();
        s->p[s->n++] = p;
        return p;
}

static void sc_free(struct scratch *s) {
        for (size_t i = 0; i < s->n; i++)
                free(s->p[i]);
        s->n = 0;
}

static void *map_of(struct scratch *s, const ProtobufCMessageDescriptor *d, const struct kvs *k, size_t *ret_n) {
        struct map_entry **v = sc_alloc(s, sizeof(*v) * (k->n + 1));
        for (size_t i = 0; i < k->n; i++) {
                v[i] = sc_alloc(s, d->sizeof_message);
                protobuf_c_message_init(d, v[i]);
                v[i]->key = k->e[i].k;
                v[i]->value = k->e[i].v;
        }
        *ret_n = k->n;
        return v;
}

/* A heap copy through the wire format, as the real client hands out. */
static ProtobufCMessage *wire_copy(const ProtobufCMessage *m) {
        size_t n = protobuf_c_message_get_packed_size(m);
        uint8_t *buf = malloc(n ? n : 1);
        if (!buf)
                abort();
        protobuf_c_message_pack(m, buf);
        ProtobufCMessage *r = protobuf_c_message_unpack(m->descriptor, NULL, n, buf);
        free(buf);
        if (!r)
                abort();
        return r;
}

static struct fsandbox *find_sb(const char *id) {
        for (size_t i = 0; i < F.n_sb; i++)
                if (!F.sb[i].removed && streq_ptr(F.sb[i].id, id))
                        return &F.sb[i];
        return NULL;
}

static struct fcontainer *find_ct(const char *id) {
        for (size_t i = 0; i < F.n_ct; i++)
                if (!F.ct[i].removed && streq_ptr(F.ct[i].id, id))
                        return &F.ct[i];
        return NULL;
}

static struct fcontainer *find_ct_any(const char *id) {
        for (size_t i = 0; i < F.n_ct; i++)
                if (streq_ptr(F.ct[i].id, id))
                        return &F.ct[i];
        return NULL;
}

static struct fsandbox *find_sb_any(const char *id) {
        for (size_t i = 0; i < F.n_sb; i++)
                if (streq_ptr(F.sb[i].id, id))
                        return &F.sb[i];
        return NULL;
}

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

static void ct_exit(struct fcontainer *c, int32_t code, const char *reason) {
        c->state = RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED;
        c->exit_code = code;
        c->finished_at = kl_realtime_nsec();
        free(c->reason);
        c->reason = xstrdup(reason);
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
        call->m = m;
        call->id = id ? xstrdup(id) : NULL;
        call->cb = cb;
        call->userdata = userdata;
        call->held = F.hold[m];
        if (F.fail_n[m] > 0) {
                call->fail_err = F.fail_err[m];
                call->fail_msg = F.fail_msg[m] ? xstrdup(F.fail_msg[m]) : NULL;
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
        free(call->id);
        free(call->fail_msg);
        free(call->name);
        free(call->ns);
        free(call->uid);
        free(call->image);
        kvs_done(&call->labels);
        kvs_done(&call->annotations);
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

#define NOT_FOUND(what, id)                                                                                \
        (kl_error_set(err, ENOENT,                                                                         \
                      "%s: rpc error NotFound: an error occurred when try to find " what " %s: not found", \
                      method_names[call->m], id),                                                          \
         -ENOENT)

static const char *ct_desc(const struct fcontainer *c, char *buf, size_t n) {
        snprintf(buf, n, "%s a%u", c->name, c->attempt);
        return buf;
}

static void sb_stop(struct fsandbox *s) {
        s->state = RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_NOTREADY;
        for (size_t i = 0; i < F.n_ct; i++) {
                struct fcontainer *c = &F.ct[i];
                if (!c->removed && streq(c->sandbox_id, s->id) &&
                    c->state == RUNTIME__V1__CONTAINER_STATE__CONTAINER_RUNNING)
                        ct_exit(c, 137, "Error");
        }
}

static int apply(struct fcall *call, struct scratch *s, ProtobufCMessage **ret, struct kl_error *err) {
        struct fsandbox *sb;
        struct fcontainer *ct;

        switch (call->m) {
        case FAKE_VERSION: {
                Runtime__V1__VersionResponse *r = sc_alloc(s, sizeof(*r));
                runtime__v1__version_response__init(r);
                r->version = "0.1.0";
                r->runtime_name = "fake";
                r->runtime_version = "1.0";
                r->runtime_api_version = "v1";
                *ret = &r->base;
                return 0;
        }
        case FAKE_STATUS: {
                Runtime__V1__StatusResponse *r = sc_alloc(s, sizeof(*r));
                Runtime__V1__RuntimeStatus *st = sc_alloc(s, sizeof(*st));
                Runtime__V1__RuntimeCondition *c[2];
                runtime__v1__status_response__init(r);
                runtime__v1__runtime_status__init(st);
                for (int i = 0; i < 2; i++) {
                        c[i] = sc_alloc(s, sizeof(*c[i]));
                        runtime__v1__runtime_condition__init(c[i]);
                        c[i]->type = i == 0 ? "RuntimeReady" : "NetworkReady";
                        c[i]->status = true;
                }
                st->conditions = c;
                st->n_conditions = 2;
                r->status = st;
                *ret = wire_copy(&r->base);
                return 1;
        }
        case FAKE_RUN_SANDBOX: {
                if (F.n_sb >= MAX_OBJS)
                        abort();
                sb = &F.sb[F.n_sb++];
                snprintf(sb->id, sizeof(sb->id), "sb%03u", ++F.next_id);
                sb->name = xstrdup(call->name);
                sb->ns = xstrdup(call->ns);
                sb->uid = xstrdup(call->uid);
                sb->attempt = call->attempt;
                sb->state = RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY;
                sb->created_at = kl_realtime_nsec();
                kvs_copy(&sb->labels, &call->labels);
                kvs_copy(&sb->annotations, &call->annotations);
                Runtime__V1__RunPodSandboxResponse *r = sc_alloc(s, sizeof(*r));
                runtime__v1__run_pod_sandbox_response__init(r);
                r->pod_sandbox_id = sb->id;
                *ret = &r->base;
                return 0;
        }
        case FAKE_STOP_SANDBOX:
        case FAKE_REMOVE_SANDBOX:
                sb = find_sb(call->id);
                if (!sb)
                        return call->m == FAKE_STOP_SANDBOX ? NOT_FOUND("sandbox", call->id) : 0;
                sb_stop(sb);
                if (call->m == FAKE_REMOVE_SANDBOX) {
                        sb->removed = true;
                        for (size_t i = 0; i < F.n_ct; i++)
                                if (streq(F.ct[i].sandbox_id, sb->id))
                                        F.ct[i].removed = true;
                }
                *ret = NULL;
                return 0;
        case FAKE_SANDBOX_STATUS: {
                sb = find_sb(call->id);
                if (!sb)
                        return NOT_FOUND("sandbox", call->id);
                Runtime__V1__PodSandboxStatusResponse *r = sc_alloc(s, sizeof(*r));
                Runtime__V1__PodSandboxStatus *st = sc_alloc(s, sizeof(*st));
                Runtime__V1__PodSandboxNetworkStatus *net = sc_alloc(s, sizeof(*net));
                runtime__v1__pod_sandbox_status_response__init(r);
                runtime__v1__pod_sandbox_status__init(st);
                runtime__v1__pod_sandbox_network_status__init(net);
                char *ip = sc_alloc(s, 32);
                snprintf(ip, 32, "10.88.0.%u", (unsigned) (sb - F.sb) + 2);
                net->ip = ip;
                st->id = sb->id;
                st->state = sb->state;
                st->created_at = sb->created_at;
                st->network = net;
                r->status = st;
                *ret = &r->base;
                return 0;
        }
        case FAKE_LIST_SANDBOX: {
                Runtime__V1__ListPodSandboxResponse *r = sc_alloc(s, sizeof(*r));
                runtime__v1__list_pod_sandbox_response__init(r);
                r->items = sc_alloc(s, sizeof(*r->items) * (F.n_sb + 1));
                for (size_t i = 0; i < F.n_sb; i++) {
                        if (F.sb[i].removed)
                                continue;
                        Runtime__V1__PodSandbox *p = sc_alloc(s, sizeof(*p));
                        Runtime__V1__PodSandboxMetadata *md = sc_alloc(s, sizeof(*md));
                        runtime__v1__pod_sandbox__init(p);
                        runtime__v1__pod_sandbox_metadata__init(md);
                        md->name = F.sb[i].name;
                        md->namespace_ = F.sb[i].ns;
                        md->uid = F.sb[i].uid;
                        md->attempt = F.sb[i].attempt;
                        p->id = F.sb[i].id;
                        p->metadata = md;
                        p->state = F.sb[i].state;
                        p->created_at = F.sb[i].created_at;
                        p->labels = map_of(s, &runtime__v1__pod_sandbox__labels_entry__descriptor, &F.sb[i].labels,
                                           &p->n_labels);
                        p->annotations = map_of(s, &runtime__v1__pod_sandbox__annotations_entry__descriptor,
                                                &F.sb[i].annotations, &p->n_annotations);
                        r->items[r->n_items++] = p;
                }
                *ret = &r->base;
                return 0;
        }
        case FAKE_CREATE: {
                sb = find_sb(call->id);
                if (!sb)
                        return NOT_FOUND("sandbox", call->id);
                if (F.n_ct >= MAX_OBJS)
                        abort();
                ct = &F.ct[F.n_ct++];
                snprintf(ct->id, sizeof(ct->id), "ct%03u", ++F.next_id);
                snprintf(ct->sandbox_id, sizeof(ct->sandbox_id), "%s", sb->id);
                ct->name = xstrdup(call->name);
                ct->image = xstrdup(call->image);
                ct->attempt = call->attempt;
                ct->state = RUNTIME__V1__CONTAINER_STATE__CONTAINER_CREATED;
                ct->created_at = kl_realtime_nsec();
                kvs_copy(&ct->labels, &call->labels);
                kvs_copy(&ct->annotations, &call->annotations);
                Runtime__V1__CreateContainerResponse *r = sc_alloc(s, sizeof(*r));
                runtime__v1__create_container_response__init(r);
                r->container_id = ct->id;
                *ret = &r->base;
                return 0;
        }
        case FAKE_START:
                ct = find_ct(call->id);
                if (!ct)
                        return NOT_FOUND("container", call->id);
                if (ct->state != RUNTIME__V1__CONTAINER_STATE__CONTAINER_CREATED)
                        return kl_error_set(err, EIO,
                                            "StartContainer: rpc error Unknown: container %s is not in created state",
                                            ct->id),
                               -EIO;
                ct->state = RUNTIME__V1__CONTAINER_STATE__CONTAINER_RUNNING;
                ct->started_at = kl_realtime_nsec();
                *ret = NULL;
                return 0;
        case FAKE_STOP:
                ct = find_ct(call->id);
                if (!ct)
                        return NOT_FOUND("container", call->id);
                if (ct->state == RUNTIME__V1__CONTAINER_STATE__CONTAINER_RUNNING)
                        ct_exit(ct, 137, "Error");
                *ret = NULL;
                return 0;
        case FAKE_REMOVE:
                ct = find_ct(call->id);
                if (ct)
                        ct->removed = true;
                *ret = NULL;
                return 0;
        case FAKE_LIST_CONTAINERS: {
                Runtime__V1__ListContainersResponse *r = sc_alloc(s, sizeof(*r));
                runtime__v1__list_containers_response__init(r);
                r->containers = sc_alloc(s, sizeof(*r->containers) * (F.n_ct + 1));
                for (size_t i = 0; i < F.n_ct; i++) {
                        const struct fcontainer *c = &F.ct[i];
                        if (c->removed)
                                continue;
                        Runtime__V1__Container *p = sc_alloc(s, sizeof(*p));
                        Runtime__V1__ContainerMetadata *md = sc_alloc(s, sizeof(*md));
                        Runtime__V1__ImageSpec *img = sc_alloc(s, sizeof(*img));
                        runtime__v1__container__init(p);
                        runtime__v1__container_metadata__init(md);
                        runtime__v1__image_spec__init(img);
                        md->name = c->name;
                        md->attempt = c->attempt;
                        img->image = c->image;
                        p->id = (char *) c->id;
                        p->pod_sandbox_id = (char *) c->sandbox_id;
                        p->metadata = md;
                        p->image = img;
                        p->state = c->state;
                        p->created_at = c->created_at;
                        p->labels =
                                map_of(s, &runtime__v1__container__labels_entry__descriptor, &c->labels, &p->n_labels);
                        p->annotations = map_of(s, &runtime__v1__container__annotations_entry__descriptor,
                                                &c->annotations, &p->n_annotations);
                        r->containers[r->n_containers++] = p;
                }
                *ret = &r->base;
                return 0;
        }
        case FAKE_CONTAINER_STATUS: {
                ct = find_ct(call->id);
                if (!ct)
                        return NOT_FOUND("container", call->id);
                Runtime__V1__ContainerStatusResponse *r = sc_alloc(s, sizeof(*r));
                Runtime__V1__ContainerStatus *st = sc_alloc(s, sizeof(*st));
                Runtime__V1__ContainerMetadata *md = sc_alloc(s, sizeof(*md));
                Runtime__V1__ImageSpec *img = sc_alloc(s, sizeof(*img));
                runtime__v1__container_status_response__init(r);
                runtime__v1__container_status__init(st);
                runtime__v1__container_metadata__init(md);
                runtime__v1__image_spec__init(img);
                md->name = ct->name;
                md->attempt = ct->attempt;
                img->image = ct->image;
                st->id = ct->id;
                st->metadata = md;
                st->state = ct->state;
                st->created_at = ct->created_at;
                st->started_at = ct->started_at;
                st->finished_at = ct->finished_at;
                st->exit_code = ct->exit_code;
                st->image = img;
                st->image_ref = ct->image;
                st->reason = ct->reason ? ct->reason : "";
                st->labels =
                        map_of(s, &runtime__v1__container_status__labels_entry__descriptor, &ct->labels, &st->n_labels);
                st->annotations = map_of(s, &runtime__v1__container_status__annotations_entry__descriptor,
                                         &ct->annotations, &st->n_annotations);
                r->status = st;
                *ret = &r->base;
                return 0;
        }
        case FAKE_EXEC: {
                if (!find_ct(call->id))
                        return NOT_FOUND("container", call->id);
                Runtime__V1__ExecSyncResponse *r = sc_alloc(s, sizeof(*r));
                runtime__v1__exec_sync_response__init(r);
                *ret = &r->base;
                return 0;
        }
        case FAKE_REOPEN_LOG:
        case FAKE_UPDATE_RESOURCES:
                if (!find_ct(call->id))
                        return NOT_FOUND("container", call->id);
                *ret = NULL;
                return 0;
        case FAKE_IMAGE_STATUS: {
                Runtime__V1__ImageStatusResponse *r = sc_alloc(s, sizeof(*r));
                Runtime__V1__Image *img = sc_alloc(s, sizeof(*img));
                runtime__v1__image_status_response__init(r);
                runtime__v1__image__init(img);
                img->id = "sha256:0123";
                r->image = F.images_absent ? NULL : img; /* absent: a success without image */
                *ret = &r->base;
                return 0;
        }
        case FAKE_PULL: {
                Runtime__V1__PullImageResponse *r = sc_alloc(s, sizeof(*r));
                runtime__v1__pull_image_response__init(r);
                r->image_ref = "sha256:0123";
                F.images_absent = false;
                *ret = &r->base;
                return 0;
        }
        default: break;
        }
        return kl_error_set(err, EOPNOTSUPP, "rpc error Unimplemented: method %d", (int) call->m), -EOPNOTSUPP;
}

/* An empty reply of the method's type for calls whose reply has no fields. */
static const ProtobufCMessageDescriptor *reply_descriptor(enum fake_method m) {
        switch (m) {
        case FAKE_STOP_SANDBOX: return &runtime__v1__stop_pod_sandbox_response__descriptor;
        case FAKE_REMOVE_SANDBOX: return &runtime__v1__remove_pod_sandbox_response__descriptor;
        case FAKE_START: return &runtime__v1__start_container_response__descriptor;
        case FAKE_STOP: return &runtime__v1__stop_container_response__descriptor;
        case FAKE_REMOVE: return &runtime__v1__remove_container_response__descriptor;
        case FAKE_REOPEN_LOG: return &runtime__v1__reopen_container_log_response__descriptor;
        case FAKE_UPDATE_RESOURCES: return &runtime__v1__update_container_resources_response__descriptor;
        default: return NULL;
        }
}

static void complete(struct fcall *call) {
        struct scratch *s = calloc(1, sizeof(*s));
        struct kl_error err = {};
        ProtobufCMessage *reply = NULL;
        int r;

        if (!s)
                abort();
        F.in_flight[call->m]--;
        if (call->fail_err > 0) {
                r = -call->fail_err;
                kl_error_set(&err, call->fail_err, "%s: rpc error: %s", method_names[call->m],
                             call->fail_msg ? call->fail_msg : strerror(call->fail_err));
        } else {
                r = apply(call, s, &reply, &err);
                if (r >= 0) {
                        if (!reply) {
                                const ProtobufCMessageDescriptor *d = reply_descriptor(call->m);
                                ProtobufCMessage *m = sc_alloc(s, d->sizeof_message);
                                protobuf_c_message_init(d, m);
                                reply = m;
                        }
                        /* r == 1: already a heap copy */
                        reply = r == 1 ? reply : wire_copy(reply);
                        r = 0;
                }
        }
        sc_free(s);
        free(s);
        F.running_reply = reply;
        F.reply_taken = false;
        if (F.observer)
                F.observer(method_names[call->m], r, 0, F.observer_data);
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
        F.fail_msg[m] = message ? xstrdup(message) : NULL;
}

void fake_cri_set_images_present(bool present) {
        F.images_absent = !present;
}

void fake_cri_hold(enum fake_method m) {
        F.hold[m] = true;
}

void fake_cri_release(enum fake_method m) {
        F.hold[m] = false;
        for (struct fcall *c = F.queue; c; c = c->next)
                if (c->m == m)
                        c->held = false;
        signal_ready();
}

static struct fcontainer *latest(const char *name) {
        struct fcontainer *best = NULL;
        for (size_t i = 0; i < F.n_ct; i++)
                if (!F.ct[i].removed && streq(F.ct[i].name, name) && (!best || F.ct[i].attempt >= best->attempt))
                        best = &F.ct[i];
        return best;
}

void fake_cri_exit(const char *name, int32_t exit_code) {
        struct fcontainer *c = latest(name);
        if (c && c->state == RUNTIME__V1__CONTAINER_STATE__CONTAINER_RUNNING)
                ct_exit(c, exit_code, exit_code == 0 ? "Completed" : "Error");
}

const char *fake_cri_add_sandbox(const char *name, const char *ns, const char *uid, uint32_t attempt,
                                 Runtime__V1__PodSandboxState state) {
        struct fsandbox *sb = &F.sb[F.n_sb++];
        snprintf(sb->id, sizeof(sb->id), "sb%03u", ++F.next_id);
        sb->name = xstrdup(name);
        sb->ns = xstrdup(ns);
        sb->uid = xstrdup(uid);
        sb->attempt = attempt;
        sb->state = state;
        sb->created_at = kl_realtime_nsec();
        kvs_add(&sb->labels, "io.kubernetes.pod.name", name);
        kvs_add(&sb->labels, "io.kubernetes.pod.namespace", ns);
        kvs_add(&sb->labels, "io.kubernetes.pod.uid", uid);
        return sb->id;
}

const char *fake_cri_add_container(const char *sandbox_id, const char *name, uint32_t attempt,
                                   Runtime__V1__ContainerState state, int64_t started_at, int32_t exit_code) {
        struct fsandbox *sb = find_sb(sandbox_id);
        if (!sb)
                abort();
        struct fcontainer *c = &F.ct[F.n_ct++];
        snprintf(c->id, sizeof(c->id), "ct%03u", ++F.next_id);
        snprintf(c->sandbox_id, sizeof(c->sandbox_id), "%s", sandbox_id);
        c->name = xstrdup(name);
        c->image = xstrdup("busybox");
        c->attempt = attempt;
        c->state = state;
        c->created_at = kl_realtime_nsec();
        c->started_at = started_at;
        if (state == RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED) {
                c->exit_code = exit_code;
                c->finished_at = kl_realtime_nsec();
                c->reason = xstrdup(exit_code == 0 ? "Completed" : "Error");
        }
        kvs_add(&c->labels, "io.kubernetes.pod.name", sb->name);
        kvs_add(&c->labels, "io.kubernetes.pod.namespace", sb->ns);
        kvs_add(&c->labels, "io.kubernetes.pod.uid", sb->uid);
        kvs_add(&c->labels, "io.kubernetes.container.name", name);
        return c->id;
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

int fake_cri_container_state(const char *name, uint32_t attempt) {
        for (size_t i = 0; i < F.n_ct; i++)
                if (!F.ct[i].removed && streq(F.ct[i].name, name) && F.ct[i].attempt == attempt)
                        return F.ct[i].state;
        return -1;
}

const char *fake_cri_container_id(const char *name, uint32_t attempt) {
        for (size_t i = 0; i < F.n_ct; i++)
                if (!F.ct[i].removed && streq(F.ct[i].name, name) && F.ct[i].attempt == attempt)
                        return F.ct[i].id;
        return NULL;
}

int fake_cri_sandbox_state(const char *uid) {
        int state = -1;
        for (size_t i = 0; i < F.n_sb; i++)
                if (!F.sb[i].removed && streq(F.sb[i].uid, uid))
                        state = F.sb[i].state;
        return state;
}

unsigned fake_cri_n_sandboxes(void) {
        unsigned n = 0;
        for (size_t i = 0; i < F.n_sb; i++)
                n += !F.sb[i].removed;
        return n;
}

unsigned fake_cri_n_containers(void) {
        unsigned n = 0;
        for (size_t i = 0; i < F.n_ct; i++)
                n += !F.ct[i].removed;
        return n;
}

void fake_cri_reset(void) {
        while (F.queue) {
                struct fcall *c = F.queue;
                F.queue = c->next;
                call_free(c);
        }
        for (size_t i = 0; i < F.n_sb; i++) {
                free(F.sb[i].name);
                free(F.sb[i].ns);
                free(F.sb[i].uid);
                kvs_done(&F.sb[i].labels);
                kvs_done(&F.sb[i].annotations);
        }
        for (size_t i = 0; i < F.n_ct; i++) {
                free(F.ct[i].name);
                free(F.ct[i].image);
                free(F.ct[i].reason);
                kvs_done(&F.ct[i].labels);
                kvs_done(&F.ct[i].annotations);
        }
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
                F.in_flight[call->m]--;
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

static const char *sb_name(const char *id) {
        const struct fsandbox *s = find_sb_any(id);
        return s ? s->name : "?";
}

int kl_cri_stop_container_async(struct kl_cri *c, const char *id, int64_t timeout_s, kl_cri_callback_t cb,
                                void *userdata) {
        char d[128];
        int r = check(c, id, cb);
        if (r < 0)
                return r;
        const struct fcontainer *ct = find_ct_any(id);
        action("StopContainer %s t%lld", ct ? ct_desc(ct, d, sizeof(d)) : "?", (long long) timeout_s);
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
        action("StopPodSandbox %s", sb_name(id));
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
        call->name = xstrdup(cfg->metadata->name);
        call->ns = xstrdup(cfg->metadata->namespace_);
        call->uid = xstrdup(cfg->metadata->uid);
        call->attempt = cfg->metadata->attempt;
        kvs_from_map(&call->labels, (void *const *) cfg->labels, cfg->n_labels);
        kvs_from_map(&call->annotations, (void *const *) cfg->annotations, cfg->n_annotations);
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
        call->name = xstrdup(cfg->metadata->name);
        call->image = xstrdup(cfg->image ? cfg->image->image : "");
        call->attempt = cfg->metadata->attempt;
        kvs_from_map(&call->labels, (void *const *) cfg->labels, cfg->n_labels);
        kvs_from_map(&call->annotations, (void *const *) cfg->annotations, cfg->n_annotations);
        return 0;
}

int kl_cri_start_container_async(struct kl_cri *c, const char *id, kl_cri_callback_t cb, void *userdata) {
        char d[128];
        int r = check(c, id, cb);
        if (r < 0)
                return r;
        const struct fcontainer *ct = find_ct_any(id);
        action("StartContainer %s", ct ? ct_desc(ct, d, sizeof(d)) : "?");
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
        const struct fcontainer *ct = find_ct_any(id);
        action("RemoveContainer %s", ct ? ct_desc(ct, d, sizeof(d)) : "?");
        call_new(c, FAKE_REMOVE, id, cb, userdata);
        return 0;
}

int kl_cri_remove_pod_sandbox_async(struct kl_cri *c, const char *id, kl_cri_callback_t cb, void *userdata) {
        int r = check(c, id, cb);
        if (r < 0)
                return r;
        action("RemovePodSandbox %s", sb_name(id));
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

static const char *enum_name(const ProtobufCEnumDescriptor *d, int v) {
        const ProtobufCEnumValue *e = protobuf_c_enum_descriptor_get_value(d, v);
        return e ? e->name : "UNKNOWN";
}

const char *kl_cri_container_state_to_string(Runtime__V1__ContainerState s) {
        return enum_name(&runtime__v1__container_state__descriptor, s);
}

const char *kl_cri_sandbox_state_to_string(Runtime__V1__PodSandboxState s) {
        return enum_name(&runtime__v1__pod_sandbox_state__descriptor, s);
}

const char *kl_cri_map_get(void *const *entries, size_t n_entries, const char *key) {
        if (!entries || !key)
                return NULL;
        for (size_t i = 0; i < n_entries; i++) {
                const struct map_entry *e = entries[i];
                if (e && e->key && streq(e->key, key))
                        return e->value;
        }
        return NULL;
}
