/* SPDX-License-Identifier: Apache-2.0 */
/* The fake runtime's sandboxes and containers (see fake-runtime.h). It
 * follows containerd's observable behaviour where the pod code depends on it:
 * StopPodSandbox stops the sandbox's containers, RemovePodSandbox removes
 * them, a removed id answers NOT_FOUND (-ENOENT), removing one twice is fine,
 * StartContainer of a container that is not CREATED fails. */
#include "tests/unit/kubelet-lite/pod/fake-runtime.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kubelet-lite/event.h"
#include "lib/macros.h"

#define MAX_OBJS 256

struct fsandbox {
        char id[32];
        char *name, *ns, *uid;
        uint32_t attempt;
        int state;
        int64_t created_at;
        struct fake_kvs labels, annotations;
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
        struct fake_kvs labels, annotations;
        bool removed;
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
        unsigned next_id;
        bool images_absent; /* ImageStatus answers "absent" until a pull succeeds */
} R;

const char *fake_method_name(enum fake_method m) {
        return m >= 0 && m < _FAKE_METHOD_MAX ? method_names[m] : "?";
}

/* ---- helpers ------------------------------------------------------------ */

char *fake_strdup(const char *s) {
        char *r = strdup(s ? s : "");
        if (!r)
                abort();
        return r;
}

void fake_kvs_add(struct fake_kvs *k, const char *key, const char *value) {
        if (k->n >= FAKE_MAX_KV)
                abort();
        k->e[k->n].k = fake_strdup(key);
        k->e[k->n].v = fake_strdup(value);
        k->n++;
}

void fake_kvs_done(struct fake_kvs *k) {
        for (size_t i = 0; i < k->n; i++) {
                free(k->e[i].k);
                free(k->e[i].v);
        }
        k->n = 0;
}

static void kvs_copy(struct fake_kvs *dst, const struct fake_kvs *src) {
        for (size_t i = 0; i < src->n; i++)
                fake_kvs_add(dst, src->e[i].k, src->e[i].v);
}

/* Map fields of every protobuf-c map type share this layout. */
struct map_entry {
        ProtobufCMessage base;
        char *key;
        char *value;
};

void fake_kvs_from_map(struct fake_kvs *dst, void *const *entries, size_t n) {
        for (size_t i = 0; i < n; i++) {
                const struct map_entry *e = entries[i];
                fake_kvs_add(dst, e->key, e->value);
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

static void *map_of(struct scratch *s, const ProtobufCMessageDescriptor *d, const struct fake_kvs *k, size_t *ret_n) {
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
        for (size_t i = 0; i < R.n_sb; i++)
                if (!R.sb[i].removed && streq_ptr(R.sb[i].id, id))
                        return &R.sb[i];
        return NULL;
}

static struct fcontainer *find_ct(const char *id) {
        for (size_t i = 0; i < R.n_ct; i++)
                if (!R.ct[i].removed && streq_ptr(R.ct[i].id, id))
                        return &R.ct[i];
        return NULL;
}

static struct fcontainer *find_ct_any(const char *id) {
        for (size_t i = 0; i < R.n_ct; i++)
                if (streq_ptr(R.ct[i].id, id))
                        return &R.ct[i];
        return NULL;
}

static struct fsandbox *find_sb_any(const char *id) {
        for (size_t i = 0; i < R.n_sb; i++)
                if (streq_ptr(R.sb[i].id, id))
                        return &R.sb[i];
        return NULL;
}

static void ct_exit(struct fcontainer *c, int32_t code, const char *reason) {
        c->state = RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED;
        c->exit_code = code;
        c->finished_at = kl_realtime_nsec();
        free(c->reason);
        c->reason = fake_strdup(reason);
}

/* ---- applying calls: the runtime's behaviour ---------------------------- */

#define NOT_FOUND(what, id)                                                                                \
        (kl_error_set(err, ENOENT,                                                                         \
                      "%s: rpc error NotFound: an error occurred when try to find " what " %s: not found", \
                      fake_method_name(call->m), id),                                                      \
         -ENOENT)

static const char *ct_desc(const struct fcontainer *c, char *buf, size_t n) {
        snprintf(buf, n, "%s a%u", c->name, c->attempt);
        return buf;
}

static void sb_stop(struct fsandbox *s) {
        s->state = RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_NOTREADY;
        for (size_t i = 0; i < R.n_ct; i++) {
                struct fcontainer *c = &R.ct[i];
                if (!c->removed && streq(c->sandbox_id, s->id) &&
                    c->state == RUNTIME__V1__CONTAINER_STATE__CONTAINER_RUNNING)
                        ct_exit(c, 137, "Error");
        }
}

static int apply(const struct fake_request *call, struct scratch *s, ProtobufCMessage **ret, struct kl_error *err) {
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
                if (R.n_sb >= MAX_OBJS)
                        abort();
                sb = &R.sb[R.n_sb++];
                snprintf(sb->id, sizeof(sb->id), "sb%03u", ++R.next_id);
                sb->name = fake_strdup(call->name);
                sb->ns = fake_strdup(call->ns);
                sb->uid = fake_strdup(call->uid);
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
                        for (size_t i = 0; i < R.n_ct; i++)
                                if (streq(R.ct[i].sandbox_id, sb->id))
                                        R.ct[i].removed = true;
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
                snprintf(ip, 32, "10.88.0.%u", (unsigned) (sb - R.sb) + 2);
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
                r->items = sc_alloc(s, sizeof(*r->items) * (R.n_sb + 1));
                for (size_t i = 0; i < R.n_sb; i++) {
                        if (R.sb[i].removed)
                                continue;
                        Runtime__V1__PodSandbox *p = sc_alloc(s, sizeof(*p));
                        Runtime__V1__PodSandboxMetadata *md = sc_alloc(s, sizeof(*md));
                        runtime__v1__pod_sandbox__init(p);
                        runtime__v1__pod_sandbox_metadata__init(md);
                        md->name = R.sb[i].name;
                        md->namespace_ = R.sb[i].ns;
                        md->uid = R.sb[i].uid;
                        md->attempt = R.sb[i].attempt;
                        p->id = R.sb[i].id;
                        p->metadata = md;
                        p->state = R.sb[i].state;
                        p->created_at = R.sb[i].created_at;
                        p->labels = map_of(s, &runtime__v1__pod_sandbox__labels_entry__descriptor, &R.sb[i].labels,
                                           &p->n_labels);
                        p->annotations = map_of(s, &runtime__v1__pod_sandbox__annotations_entry__descriptor,
                                                &R.sb[i].annotations, &p->n_annotations);
                        r->items[r->n_items++] = p;
                }
                *ret = &r->base;
                return 0;
        }
        case FAKE_CREATE: {
                sb = find_sb(call->id);
                if (!sb)
                        return NOT_FOUND("sandbox", call->id);
                if (R.n_ct >= MAX_OBJS)
                        abort();
                ct = &R.ct[R.n_ct++];
                snprintf(ct->id, sizeof(ct->id), "ct%03u", ++R.next_id);
                snprintf(ct->sandbox_id, sizeof(ct->sandbox_id), "%s", sb->id);
                ct->name = fake_strdup(call->name);
                ct->image = fake_strdup(call->image);
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
                r->containers = sc_alloc(s, sizeof(*r->containers) * (R.n_ct + 1));
                for (size_t i = 0; i < R.n_ct; i++) {
                        const struct fcontainer *c = &R.ct[i];
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
                r->image = R.images_absent ? NULL : img; /* absent: a success without image */
                *ret = &r->base;
                return 0;
        }
        case FAKE_PULL: {
                Runtime__V1__PullImageResponse *r = sc_alloc(s, sizeof(*r));
                runtime__v1__pull_image_response__init(r);
                r->image_ref = "sha256:0123";
                R.images_absent = false;
                *ret = &r->base;
                return 0;
        }
        default: break;
        }
        return kl_error_set(err, EOPNOTSUPP, "rpc error Unimplemented: method %d", (int) call->m), -EOPNOTSUPP;
}

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

int fake_runtime_apply(const struct fake_request *req, ProtobufCMessage **ret, struct kl_error *err) {
        struct scratch *s = calloc(1, sizeof(*s));
        ProtobufCMessage *reply = NULL;

        if (!s)
                abort();
        int r = apply(req, s, &reply, err);
        if (r >= 0) {
                if (!reply) {
                        /* a reply without fields */
                        const ProtobufCMessageDescriptor *d = reply_descriptor(req->m);
                        reply = sc_alloc(s, d->sizeof_message);
                        protobuf_c_message_init(d, reply);
                }
                *ret = r == 1 ? reply : wire_copy(reply); /* 1: already a heap copy */
                r = 0;
        }
        sc_free(s);
        free(s);
        return r;
}

const char *fake_runtime_container_desc(const char *id, char *buf, size_t n) {
        const struct fcontainer *c = find_ct_any(id);
        return c ? ct_desc(c, buf, n) : "?";
}

const char *fake_runtime_sandbox_name(const char *id) {
        const struct fsandbox *s = find_sb_any(id);
        return s ? s->name : "?";
}

/* ---- knobs and inspection ------------------------------------------------ */

void fake_cri_set_images_present(bool present) {
        R.images_absent = !present;
}

static struct fcontainer *latest(const char *name) {
        struct fcontainer *best = NULL;
        for (size_t i = 0; i < R.n_ct; i++)
                if (!R.ct[i].removed && streq(R.ct[i].name, name) && (!best || R.ct[i].attempt >= best->attempt))
                        best = &R.ct[i];
        return best;
}

void fake_cri_exit(const char *name, int32_t exit_code) {
        struct fcontainer *c = latest(name);
        if (c && c->state == RUNTIME__V1__CONTAINER_STATE__CONTAINER_RUNNING)
                ct_exit(c, exit_code, exit_code == 0 ? "Completed" : "Error");
}

const char *fake_cri_add_sandbox(const char *name, const char *ns, const char *uid, uint32_t attempt,
                                 Runtime__V1__PodSandboxState state) {
        if (R.n_sb >= MAX_OBJS)
                abort();
        struct fsandbox *sb = &R.sb[R.n_sb++];
        snprintf(sb->id, sizeof(sb->id), "sb%03u", ++R.next_id);
        sb->name = fake_strdup(name);
        sb->ns = fake_strdup(ns);
        sb->uid = fake_strdup(uid);
        sb->attempt = attempt;
        sb->state = state;
        sb->created_at = kl_realtime_nsec();
        fake_kvs_add(&sb->labels, "io.kubernetes.pod.name", name);
        fake_kvs_add(&sb->labels, "io.kubernetes.pod.namespace", ns);
        fake_kvs_add(&sb->labels, "io.kubernetes.pod.uid", uid);
        return sb->id;
}

const char *fake_cri_add_container(const char *sandbox_id, const char *name, uint32_t attempt,
                                   Runtime__V1__ContainerState state, int64_t started_at, int32_t exit_code) {
        struct fsandbox *sb = find_sb(sandbox_id);
        if (!sb || R.n_ct >= MAX_OBJS)
                abort();
        struct fcontainer *c = &R.ct[R.n_ct++];
        snprintf(c->id, sizeof(c->id), "ct%03u", ++R.next_id);
        snprintf(c->sandbox_id, sizeof(c->sandbox_id), "%s", sandbox_id);
        c->name = fake_strdup(name);
        c->image = fake_strdup("busybox");
        c->attempt = attempt;
        c->state = state;
        c->created_at = kl_realtime_nsec();
        c->started_at = started_at;
        if (state == RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED) {
                c->exit_code = exit_code;
                c->finished_at = kl_realtime_nsec();
                c->reason = fake_strdup(exit_code == 0 ? "Completed" : "Error");
        }
        fake_kvs_add(&c->labels, "io.kubernetes.pod.name", sb->name);
        fake_kvs_add(&c->labels, "io.kubernetes.pod.namespace", sb->ns);
        fake_kvs_add(&c->labels, "io.kubernetes.pod.uid", sb->uid);
        fake_kvs_add(&c->labels, "io.kubernetes.container.name", name);
        return c->id;
}

int fake_cri_container_state(const char *name, uint32_t attempt) {
        for (size_t i = 0; i < R.n_ct; i++)
                if (!R.ct[i].removed && streq(R.ct[i].name, name) && R.ct[i].attempt == attempt)
                        return R.ct[i].state;
        return -1;
}

const char *fake_cri_container_id(const char *name, uint32_t attempt) {
        for (size_t i = 0; i < R.n_ct; i++)
                if (!R.ct[i].removed && streq(R.ct[i].name, name) && R.ct[i].attempt == attempt)
                        return R.ct[i].id;
        return NULL;
}

int fake_cri_sandbox_state(const char *uid) {
        int state = -1;
        for (size_t i = 0; i < R.n_sb; i++)
                if (!R.sb[i].removed && streq(R.sb[i].uid, uid))
                        state = R.sb[i].state;
        return state;
}

unsigned fake_cri_n_sandboxes(void) {
        unsigned n = 0;
        for (size_t i = 0; i < R.n_sb; i++)
                n += !R.sb[i].removed;
        return n;
}

unsigned fake_cri_n_containers(void) {
        unsigned n = 0;
        for (size_t i = 0; i < R.n_ct; i++)
                n += !R.ct[i].removed;
        return n;
}

void fake_runtime_reset(void) {
        for (size_t i = 0; i < R.n_sb; i++) {
                free(R.sb[i].name);
                free(R.sb[i].ns);
                free(R.sb[i].uid);
                fake_kvs_done(&R.sb[i].labels);
                fake_kvs_done(&R.sb[i].annotations);
        }
        for (size_t i = 0; i < R.n_ct; i++) {
                free(R.ct[i].name);
                free(R.ct[i].image);
                free(R.ct[i].reason);
                fake_kvs_done(&R.ct[i].labels);
                fake_kvs_done(&R.ct[i].annotations);
        }
        memset(&R, 0, sizeof(R));
}

/* ---- runtime/cri.c's helpers, our own versions ------------------------------- */

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
