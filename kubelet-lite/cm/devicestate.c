/* SPDX-License-Identifier: Apache-2.0 */
/* See devicestate.h. */
#include "kubelet-lite/cm/devicestate.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/jsonq.h"
#include "kubelet-lite/cm/devicechecksum.h"
#include "lib/macros.h"

#define MAX_DEVICES 1024
#define MAX_ALLOCS 4096
#define ID_MAX 256

struct device {
        char *id;
        bool healthy;
};

struct resource {
        char *name;
        struct device *devs; /* sorted by id */
        size_t n;
};

struct kl_devstate {
        struct resource *res; /* sorted by name */
        size_t n_res;
        struct kl_devstate_alloc *allocs;
        size_t n_allocs;
};

static void strv_free(char **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

static void resource_done(struct resource *r) {
        for (size_t i = 0; i < r->n; i++)
                free(r->devs[i].id);
        free(r->devs);
        free(r->name);
}

static void alloc_done(struct kl_devstate_alloc *a) {
        free(a->pod_uid);
        free(a->container);
        free(a->resource);
        strv_free(a->ids, a->n_ids);
        free(a->resp);
}

static void clear(struct kl_devstate *st) {
        for (size_t i = 0; i < st->n_res; i++)
                resource_done(&st->res[i]);
        st->res = mfree(st->res);
        st->n_res = 0;
        for (size_t i = 0; i < st->n_allocs; i++)
                alloc_done(&st->allocs[i]);
        st->allocs = mfree(st->allocs);
        st->n_allocs = 0;
}

int kl_devstate_new(struct kl_devstate **ret) {
        *ret = calloc(1, sizeof(**ret));
        return *ret ? 0 : -ENOMEM;
}

struct kl_devstate *kl_devstate_free(struct kl_devstate *st) {
        if (st) {
                clear(st);
                free(st);
        }
        return NULL;
}

static struct resource *find_res(const struct kl_devstate *st, const char *name) {
        for (size_t i = 0; i < st->n_res; i++)
                if (streq(st->res[i].name, name))
                        return &st->res[i];
        return NULL;
}

static int cmp_dev(const void *a, const void *b) {
        return strcmp(((const struct device *) a)->id, ((const struct device *) b)->id);
}

static int cmp_res(const void *a, const void *b) {
        return strcmp(((const struct resource *) a)->name, ((const struct resource *) b)->name);
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static struct resource *get_res(struct kl_devstate *st, const char *name) {
        struct resource *r = find_res(st, name), *n;

        if (r)
                return r;
        n = realloc(st->res, (st->n_res + 1) * sizeof(*n));
        if (!n)
                return NULL;
        st->res = n;
        st->res[st->n_res] = (struct resource){.name = strdup(name)};
        if (!st->res[st->n_res].name)
                return NULL;
        st->n_res++;
        qsort(st->res, st->n_res, sizeof(*st->res), cmp_res);
        return find_res(st, name);
}

int kl_devstate_set_devices(struct kl_devstate *st, const char *resource, char *const *ids, const bool *healthy,
                            size_t n) {
        struct device *devs = NULL;
        struct resource *r;
        size_t k = 0;

        n = MIN(n, (size_t) MAX_DEVICES);
        if (n && !(devs = calloc(n, sizeof(*devs))))
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                bool dup = false;
                if (!ids[i][0] || strlen(ids[i]) >= ID_MAX)
                        continue;
                for (size_t j = 0; j < k && !dup; j++)
                        dup = streq(devs[j].id, ids[i]);
                if (dup)
                        continue;
                devs[k].healthy = healthy[i];
                if (!(devs[k++].id = strdup(ids[i]))) {
                        for (size_t j = 0; j < k; j++)
                                free(devs[j].id);
                        free(devs);
                        return -ENOMEM;
                }
        }
        if (k)
                qsort(devs, k, sizeof(*devs), cmp_dev);
        r = get_res(st, resource);
        if (!r) {
                for (size_t j = 0; j < k; j++)
                        free(devs[j].id);
                free(devs);
                return -ENOMEM;
        }
        for (size_t i = 0; i < r->n; i++)
                free(r->devs[i].id);
        free(r->devs);
        r->devs = devs;
        r->n = k;
        return 0;
}

void kl_devstate_mark_unhealthy(struct kl_devstate *st, const char *resource) {
        struct resource *r = find_res(st, resource);

        for (size_t i = 0; r && i < r->n; i++)
                r->devs[i].healthy = false;
}

void kl_devstate_remove_resource(struct kl_devstate *st, const char *resource) {
        struct resource *r = find_res(st, resource);

        if (!r)
                return;
        resource_done(r);
        memmove(r, r + 1, (size_t) (st->res + st->n_res - (r + 1)) * sizeof(*r));
        st->n_res--;
}

bool kl_devstate_has_resource(const struct kl_devstate *st, const char *resource) {
        return find_res(st, resource) != NULL;
}

bool kl_devstate_capacity(const struct kl_devstate *st, size_t i, const char **ret_name, int64_t *ret_capacity,
                          int64_t *ret_allocatable) {
        int64_t healthy = 0;

        if (i >= st->n_res)
                return false;
        for (size_t k = 0; k < st->res[i].n; k++)
                healthy += st->res[i].devs[k].healthy;
        *ret_name = st->res[i].name;
        *ret_capacity = (int64_t) st->res[i].n;
        *ret_allocatable = healthy;
        return true;
}

static int64_t container_request(const struct kl_container *c, const char *resource) {
        for (size_t i = 0; i < c->n_extended; i++)
                if (streq(c->extended[i].name, resource))
                        return c->extended[i].count;
        return 0;
}

int64_t kl_devstate_pod_request(const struct kl_pod *pod, const char *resource) {
        int64_t sum = 0, init_max = 0;

        for (size_t i = 0; i < pod->n_containers; i++)
                sum += container_request(&pod->containers[i], resource);
        for (size_t i = 0; i < pod->n_init_containers; i++) {
                int64_t v = container_request(&pod->init_containers[i], resource);
                /* a sidecar (restartable init container) runs along the app
                 * containers: it adds up, as upstream counts it */
                if (pod->init_containers[i].restart_policy == KL_RESTART_ALWAYS)
                        sum += v;
                else
                        init_max = MAX(init_max, v);
        }
        return MAX(sum, init_max);
}

size_t kl_devstate_retain(struct kl_devstate *st, const char *const *uids, size_t n) {
        size_t gone = 0;

        for (size_t i = 0; i < st->n_allocs;) {
                bool keep = false;
                for (size_t k = 0; k < n && !keep; k++)
                        keep = streq(uids[k], st->allocs[i].pod_uid);
                if (keep)
                        i++;
                else {
                        /* the uid string is freed with its entry */
                        _cleanup_free_ char *uid = strdup(st->allocs[i].pod_uid);
                        if (!uid)
                                break;
                        gone += kl_devstate_release_pod(st, uid);
                }
        }
        return gone;
}

size_t kl_devstate_release_pod(struct kl_devstate *st, const char *pod_uid) {
        size_t k = 0, gone = 0;

        for (size_t i = 0; i < st->n_allocs; i++) {
                if (streq(st->allocs[i].pod_uid, pod_uid)) {
                        alloc_done(&st->allocs[i]);
                        gone++;
                } else
                        st->allocs[k++] = st->allocs[i];
        }
        st->n_allocs = k;
        return gone;
}

static bool device_in_use(const struct kl_devstate *st, const char *resource, const char *id) {
        for (size_t i = 0; i < st->n_allocs; i++)
                if (streq(st->allocs[i].resource, resource))
                        for (size_t k = 0; k < st->allocs[i].n_ids; k++)
                                if (streq(st->allocs[i].ids[k], id))
                                        return true;
        return false;
}

size_t kl_devstate_n_allocated(const struct kl_devstate *st, const char *resource) {
        size_t n = 0;

        for (size_t i = 0; i < st->n_allocs; i++)
                if (streq(st->allocs[i].resource, resource))
                        n += st->allocs[i].n_ids;
        return n;
}

static struct kl_devstate_alloc *find_alloc(const struct kl_devstate *st, const char *uid, const char *container,
                                            const char *resource) {
        for (size_t i = 0; i < st->n_allocs; i++)
                if (streq(st->allocs[i].pod_uid, uid) && streq(st->allocs[i].container, container) &&
                    streq(st->allocs[i].resource, resource))
                        return &st->allocs[i];
        return NULL;
}

/* Takes ids. */
static int add_alloc(struct kl_devstate *st, const char *uid, const char *container, const char *resource, char **ids,
                     size_t n) {
        struct kl_devstate_alloc *a;

        if (st->n_allocs >= MAX_ALLOCS) {
                strv_free(ids, n);
                return -E2BIG;
        }
        a = realloc(st->allocs, (st->n_allocs + 1) * sizeof(*a));
        if (!a) {
                strv_free(ids, n);
                return -ENOMEM;
        }
        st->allocs = a;
        a = &st->allocs[st->n_allocs];
        *a = (struct kl_devstate_alloc){.pod_uid = strdup(uid),
                                        .container = strdup(container),
                                        .resource = strdup(resource),
                                        .ids = ids,
                                        .n_ids = n};
        if (!a->pod_uid || !a->container || !a->resource) {
                alloc_done(a);
                return -ENOMEM;
        }
        if (n)
                qsort(a->ids, n, sizeof(*a->ids), cmp_str);
        st->n_allocs++;
        return 0;
}

/* upstream's devicesToAllocate for one container and resource: devices
 * reused from init containers first, then free healthy ones in ID order. */
static int allocate_container(struct kl_devstate *st, const char *uid, const struct kl_container *c,
                              const char *resource, int64_t needed, char ***reuse, size_t *n_reuse,
                              char msg[KL_DEVSTATE_MESSAGE_MAX]) {
        struct resource *r = find_res(st, resource);
        char **ids;
        size_t n = 0;
        int64_t available = 0;

        if (find_alloc(st, uid, c->name, resource))
                return 0; /* kept across a restart (checkpoint) */
        if (!r) {
                snprintf(msg, KL_DEVSTATE_MESSAGE_MAX, "can't allocate unregistered device %s", resource);
                return -ENODEV;
        }
        ids = calloc((size_t) needed + 1, sizeof(*ids));
        if (!ids)
                return -ENOMEM;
        for (size_t i = 0; i < *n_reuse && (int64_t) n < needed; i++)
                ids[n++] = TAKE_PTR((*reuse)[i]);
        /* drop what was taken from the reusable list */
        {
                size_t k = 0;
                for (size_t i = 0; i < *n_reuse; i++)
                        if ((*reuse)[i])
                                (*reuse)[k++] = (*reuse)[i];
                *n_reuse = k;
        }
        for (size_t i = 0; i < r->n; i++)
                if (r->devs[i].healthy && !device_in_use(st, resource, r->devs[i].id))
                        available++;
        for (size_t i = 0; i < r->n && (int64_t) n < needed; i++)
                if (r->devs[i].healthy && !device_in_use(st, resource, r->devs[i].id)) {
                        bool taken = false;
                        for (size_t k = 0; k < n && !taken; k++)
                                taken = streq(ids[k], r->devs[i].id);
                        if (!taken && !(ids[n++] = strdup(r->devs[i].id))) {
                                strv_free(ids, n);
                                return -ENOMEM;
                        }
                }
        if ((int64_t) n < needed) {
                snprintf(msg, KL_DEVSTATE_MESSAGE_MAX,
                         "requested number of devices unavailable for %s. Requested: %" PRId64 ", Available: %" PRId64,
                         resource, needed, available);
                strv_free(ids, n);
                return -ENOSPC;
        }
        return add_alloc(st, uid, c->name, resource, ids, n);
}

static bool uid_in(const struct kl_pod *const *pods, size_t n, const char *uid) {
        for (size_t i = 0; i < n; i++)
                if (streq(pods[i]->uid, uid))
                        return true;
        return false;
}

/* The resource names the pod asks for, each once. */
static size_t pod_resources(const struct kl_pod *pod, const char **names, size_t max) {
        size_t n = 0;

        for (int init = 0; init < 2; init++) {
                const struct kl_container *cs = init ? pod->init_containers : pod->containers;
                size_t nc = init ? pod->n_init_containers : pod->n_containers;
                for (size_t i = 0; i < nc; i++)
                        for (size_t k = 0; k < cs[i].n_extended; k++) {
                                const char *name = cs[i].extended[k].name;
                                bool seen = false;
                                for (size_t j = 0; j < n && !seen; j++)
                                        seen = streq(names[j], name);
                                if (!seen && n < max)
                                        names[n++] = name;
                        }
        }
        return n;
}

bool kl_devstate_admit(struct kl_devstate *st, const struct kl_pod *pod, const struct kl_pod *const *admitted,
                       size_t n_admitted, char reason[KL_DEVSTATE_REASON_MAX], char message[KL_DEVSTATE_MESSAGE_MAX]) {
        const char *names[64];
        size_t n_names = pod_resources(pod, names, ELEMENTSOF(names));
        char msg[KL_DEVSTATE_MESSAGE_MAX] = "";
        int r = 0;

        reason[0] = message[0] = '\0';
        if (n_names == 0)
                return true;

        /* The predicate (lifecycle/predicate.go, noderesources.Fits): the
         * pod's request against allocatable minus what the admitted pods
         * request. Unlike upstream, a resource no plugin registered counts
         * as 0 allocatable instead of being ignored (upstream's own caveat
         * in predicate.go: a static pod would start without its device). */
        for (size_t i = 0; i < n_names; i++) {
                int64_t req = kl_devstate_pod_request(pod, names[i]), used = 0, cap = 0, alloc = 0;
                const char *nm;
                if (req <= 0)
                        continue;
                for (size_t k = 0; k < n_admitted; k++)
                        if (!streq(admitted[k]->uid, pod->uid))
                                used += kl_devstate_pod_request(admitted[k], names[i]);
                /* devices a pod not admitted (yet) holds, from the
                 * checkpoint of a running pod: never given to another */
                for (size_t k = 0; k < st->n_allocs; k++)
                        if (streq(st->allocs[k].resource, names[i]) && !streq(st->allocs[k].pod_uid, pod->uid) &&
                            !uid_in(admitted, n_admitted, st->allocs[k].pod_uid))
                                used += (int64_t) st->allocs[k].n_ids;
                for (size_t k = 0; kl_devstate_capacity(st, k, &nm, &cap, &alloc); k++)
                        if (streq(nm, names[i]))
                                break;
                if (!find_res(st, names[i]))
                        alloc = 0;
                if (req > alloc - used) {
                        snprintf(reason, KL_DEVSTATE_REASON_MAX, "OutOf%s", names[i]);
                        snprintf(message, KL_DEVSTATE_MESSAGE_MAX,
                                 "Node didn't have enough resource: %s, requested: %" PRId64 ", used: %" PRId64
                                 ", capacity: %" PRId64,
                                 names[i], req, used, alloc);
                        return false;
                }
        }

        /* Allocate (manager.go): init containers first, their devices
         * reusable by the containers after them. */
        for (size_t i = 0; i < n_names && r >= 0; i++) {
                _cleanup_free_ char **reuse = calloc(64, sizeof(*reuse));
                size_t n_reuse = 0;
                if (!reuse) {
                        r = -ENOMEM;
                        break;
                }
                for (size_t k = 0; k < pod->n_init_containers && r >= 0; k++) {
                        const struct kl_container *c = &pod->init_containers[k];
                        int64_t need = container_request(c, names[i]);
                        const struct kl_devstate_alloc *a;
                        if (need <= 0)
                                continue;
                        r = allocate_container(st, pod->uid, c, names[i], need, &reuse, &n_reuse, msg);
                        a = r >= 0 ? find_alloc(st, pod->uid, c->name, names[i]) : NULL;
                        if (a && c->restart_policy != KL_RESTART_ALWAYS) {
                                /* a regular init container is done before the
                                 * next starts: its devices serve the next */
                                for (size_t j = 0; j < n_reuse; j++)
                                        free(reuse[j]);
                                n_reuse = 0;
                                for (size_t j = 0; j < a->n_ids && j < 64; j++)
                                        if ((reuse[n_reuse] = strdup(a->ids[j])))
                                                n_reuse++;
                        }
                }
                for (size_t k = 0; k < pod->n_containers && r >= 0; k++) {
                        const struct kl_container *c = &pod->containers[k];
                        int64_t need = container_request(c, names[i]);
                        if (need > 0)
                                r = allocate_container(st, pod->uid, c, names[i], need, &reuse, &n_reuse, msg);
                }
                for (size_t j = 0; j < n_reuse; j++)
                        free(reuse[j]);
        }
        if (r >= 0)
                return true;
        (void) kl_devstate_release_pod(st, pod->uid);
        snprintf(reason, KL_DEVSTATE_REASON_MAX, "UnexpectedAdmissionError");
        snprintf(message, KL_DEVSTATE_MESSAGE_MAX, "Allocate failed due to %s, which is unexpected",
                 msg[0] ? msg : strerror(-r));
        return false;
}

size_t kl_devstate_container_allocs(const struct kl_devstate *st, const char *pod_uid, const char *container,
                                    const struct kl_devstate_alloc **ret, size_t max) {
        size_t n = 0;

        for (size_t i = 0; i < st->n_allocs && n < max; i++)
                if (streq(st->allocs[i].pod_uid, pod_uid) && streq(st->allocs[i].container, container))
                        ret[n++] = &st->allocs[i];
        return n;
}

int kl_devstate_set_response(struct kl_devstate *st, const char *pod_uid, const char *container, const char *resource,
                             const uint8_t *resp, size_t len) {
        struct kl_devstate_alloc *a = find_alloc(st, pod_uid, container, resource);
        uint8_t *copy;

        if (!a)
                return -ENOENT;
        copy = malloc(len ? len : 1);
        if (!copy)
                return -ENOMEM;
        memcpy(copy, resp, len);
        free(a->resp);
        a->resp = copy;
        a->resp_len = len;
        return 0;
}

/* --- checkpoint ------------------------------------------------------------ */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void kl_devstate_base64_encode(const uint8_t *p, size_t n, struct kl_buf *out) {
        for (size_t i = 0; i < n; i += 3) {
                uint32_t v = (uint32_t) p[i] << 16;
                char q[4];
                if (i + 1 < n)
                        v |= (uint32_t) p[i + 1] << 8;
                if (i + 2 < n)
                        v |= p[i + 2];
                q[0] = b64[(v >> 18) & 63];
                q[1] = b64[(v >> 12) & 63];
                q[2] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
                q[3] = i + 2 < n ? b64[v & 63] : '=';
                kl_buf_append(out, q, 4);
        }
}

int kl_devstate_base64_decode(const char *s, size_t n, uint8_t **ret, size_t *ret_len) {
        uint8_t *out;
        size_t k = 0;
        uint32_t v = 0;
        int bits = 0, pad = 0;

        if (n % 4 != 0)
                return -EBADMSG;
        out = malloc(n / 4 * 3 + 1);
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const char *c = s[i] ? strchr(b64, s[i]) : NULL;
                if (s[i] == '=' && i >= n - 2) {
                        pad++;
                        continue;
                }
                if (!c || pad) {
                        free(out);
                        return -EBADMSG;
                }
                v = (v << 6) | (uint32_t) (c - b64);
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[k++] = (uint8_t) (v >> bits);
                }
        }
        *ret = out;
        *ret_len = k;
        return 0;
}

/* Upstream's checksum of the Data object's text (devicechecksum.h); 0 when
 * it cannot be computed, which no reader then accepts. */
static uint32_t data_checksum(const char *s, size_t n) {
        struct kl_jsonq q = {0};
        uint32_t sum = 0;
        if (kl_jsonq_parse(s, n, 200000, &q) >= 0 && kl_devchecksum(&q, 0, &sum) < 0)
                sum = 0;
        kl_jsonq_done(&q);
        return sum;
}

static void write_data(const struct kl_devstate *st, struct kl_buf *b) {
        kl_buf_puts(b, "{\"PodDeviceEntries\":[");
        for (size_t i = 0; i < st->n_allocs; i++) {
                const struct kl_devstate_alloc *a = &st->allocs[i];
                kl_buf_puts(b, i ? ",{\"PodUID\":" : "{\"PodUID\":");
                kl_json_escape(b, a->pod_uid);
                kl_buf_puts(b, ",\"ContainerName\":");
                kl_json_escape(b, a->container);
                kl_buf_puts(b, ",\"ResourceName\":");
                kl_json_escape(b, a->resource);
                /* no topology: every device on NUMA node -1, as upstream's
                 * nodeWithoutTopology */
                kl_buf_puts(b, ",\"DeviceIDs\":{\"-1\":[");
                for (size_t k = 0; k < a->n_ids; k++) {
                        if (k)
                                kl_buf_puts(b, ",");
                        kl_json_escape(b, a->ids[k]);
                }
                kl_buf_puts(b, "]},\"AllocResp\":");
                if (a->resp) {
                        kl_buf_puts(b, "\"");
                        kl_devstate_base64_encode(a->resp, a->resp_len, b);
                        kl_buf_puts(b, "\"}");
                } else
                        kl_buf_puts(b, "null}");
        }
        kl_buf_puts(b, "],\"RegisteredDevices\":{");
        for (size_t i = 0; i < st->n_res; i++) {
                if (i)
                        kl_buf_puts(b, ",");
                kl_json_escape(b, st->res[i].name);
                kl_buf_puts(b, ":[");
                for (size_t k = 0; k < st->res[i].n; k++) {
                        if (k)
                                kl_buf_puts(b, ",");
                        kl_json_escape(b, st->res[i].devs[k].id);
                }
                kl_buf_puts(b, "]");
        }
        kl_buf_puts(b, "}}");
}

void kl_devstate_to_json(const struct kl_devstate *st, struct kl_buf *out) {
        struct kl_buf data = {0};

        write_data(st, &data);
        kl_buf_puts(out, "{\"Data\":");
        if (data.data)
                kl_buf_append(out, data.data, data.len);
        kl_buf_printf(out, ",\"Checksum\":%" PRIu32 "}\n", data.data ? data_checksum(data.data, data.len) : 0);
        if (data.oom)
                out->oom = true;
        kl_buf_free_contents(&data);
}

static int str_of(const struct kl_jsonq *q, int n, char *buf, size_t size) {
        if (n < 0 || q->nodes[n].type != KL_JSONQ_STRING || q->nodes[n].len >= size)
                return -EBADMSG;
        kl_jsonq_str(q, n, buf, size);
        return 0;
}

static int parse(struct kl_devstate *st, const struct kl_jsonq *q, struct kl_error *reterr) {
        int data = kl_jsonq_get(q, 0, "Data"), sum = kl_jsonq_get(q, 0, "Checksum"), entries, reg;
        char buf[ID_MAX], uid[ID_MAX], cname[ID_MAX], rname[ID_MAX];

        if (q->nodes[0].type != KL_JSONQ_OBJECT || data < 0 || q->nodes[data].type != KL_JSONQ_OBJECT || sum < 0 ||
            q->nodes[sum].type != KL_JSONQ_NUMBER)
                return kl_error_set(reterr, EBADMSG, "not a device manager checkpoint (Data, Checksum)");
        /* as upstream's Data.VerifyChecksum: over the data as decoded */
        uint32_t want;
        if (kl_devchecksum(q, data, &want) < 0)
                return kl_error_set(reterr, EBADMSG, "checkpoint: Data does not have the checkpoint's shape");
        if (kl_jsonq_path_int(q, 0, "Checksum", -1) != (int64_t) want)
                return kl_error_set(reterr, EBADMSG, "checkpoint is corrupted (checksum mismatch)");
        entries = kl_jsonq_get(q, data, "PodDeviceEntries");
        reg = kl_jsonq_get(q, data, "RegisteredDevices");
        if (entries >= 0 && q->nodes[entries].type == KL_JSONQ_ARRAY)
                for (int e = q->nodes[entries].child; e >= 0; e = q->nodes[e].next) {
                        int ids, list, resp;
                        char **v = NULL;
                        size_t n = 0;
                        int r;
                        if (q->nodes[e].type != KL_JSONQ_OBJECT ||
                            str_of(q, kl_jsonq_get(q, e, "PodUID"), uid, sizeof(uid)) < 0 ||
                            str_of(q, kl_jsonq_get(q, e, "ContainerName"), cname, sizeof(cname)) < 0 ||
                            str_of(q, kl_jsonq_get(q, e, "ResourceName"), rname, sizeof(rname)) < 0)
                                return kl_error_set(reterr, EBADMSG, "PodDeviceEntries: bad entry");
                        ids = kl_jsonq_get(q, e, "DeviceIDs");
                        if (ids < 0 || q->nodes[ids].type != KL_JSONQ_OBJECT)
                                return kl_error_set(reterr, EBADMSG, "PodDeviceEntries: DeviceIDs is not an object");
                        /* every NUMA node's list: we have no topology */
                        for (list = q->nodes[ids].child; list >= 0; list = q->nodes[list].next) {
                                if (q->nodes[list].type != KL_JSONQ_ARRAY)
                                        return kl_error_set(reterr, EBADMSG, "DeviceIDs: not a list");
                                for (int d = q->nodes[list].child; d >= 0; d = q->nodes[d].next) {
                                        char **t;
                                        if (str_of(q, d, buf, sizeof(buf)) < 0 || n >= MAX_DEVICES) {
                                                strv_free(v, n);
                                                return kl_error_set(reterr, EBADMSG, "DeviceIDs: bad device ID");
                                        }
                                        t = realloc(v, (n + 1) * sizeof(*v));
                                        if (!t || !(t[n] = strdup(buf))) {
                                                strv_free(t ? t : v, n);
                                                return kl_error_set(reterr, ENOMEM, "out of memory");
                                        }
                                        v = t;
                                        n++;
                                }
                        }
                        if (find_alloc(st, uid, cname, rname)) {
                                strv_free(v, n);
                                continue;
                        }
                        r = add_alloc(st, uid, cname, rname, v, n);
                        if (r < 0)
                                return kl_error_set(reterr, -r, "checkpoint: %s", strerror(-r));
                        resp = kl_jsonq_get(q, e, "AllocResp");
                        if (resp >= 0 && q->nodes[resp].type == KL_JSONQ_STRING) {
                                uint8_t *bytes;
                                size_t len;
                                /* base64 has no escapes: the raw text between the quotes */
                                r = kl_devstate_base64_decode(q->text + q->nodes[resp].start + 1,
                                                              q->nodes[resp].len - 2, &bytes, &len);
                                if (r < 0)
                                        return kl_error_set(reterr, EBADMSG, "AllocResp: bad base64");
                                st->allocs[st->n_allocs - 1].resp = bytes;
                                st->allocs[st->n_allocs - 1].resp_len = len;
                        }
                }
        if (reg >= 0 && q->nodes[reg].type == KL_JSONQ_OBJECT)
                for (int m = q->nodes[reg].child; m >= 0; m = q->nodes[m].next) {
                        char name[ID_MAX];
                        char *ids[MAX_DEVICES];
                        bool health[MAX_DEVICES] = {false};
                        size_t n = 0;
                        int r = 0;
                        if (q->nodes[m].key_len >= sizeof(name) || q->nodes[m].type != KL_JSONQ_ARRAY)
                                return kl_error_set(reterr, EBADMSG, "RegisteredDevices: bad entry");
                        memcpy(name, q->text + q->nodes[m].key_start, q->nodes[m].key_len);
                        name[q->nodes[m].key_len] = '\0';
                        for (int d = q->nodes[m].child; d >= 0 && n < MAX_DEVICES; d = q->nodes[d].next) {
                                if (str_of(q, d, buf, sizeof(buf)) < 0 || !(ids[n] = strdup(buf))) {
                                        r = -EBADMSG;
                                        break;
                                }
                                n++;
                        }
                        /* unhealthy until the plugin registers again */
                        if (r >= 0)
                                r = kl_devstate_set_devices(st, name, ids, health, n);
                        for (size_t k = 0; k < n; k++)
                                free(ids[k]);
                        if (r < 0)
                                return kl_error_set(reterr, EBADMSG, "RegisteredDevices: bad device list");
                }
        return 0;
}

int kl_devstate_from_json(struct kl_devstate *st, const char *text, size_t len, struct kl_error *reterr) {
        struct kl_jsonq q = {0};
        int r;

        clear(st);
        if (len > KL_DEVSTATE_MAX_CHECKPOINT)
                return kl_error_set(reterr, EFBIG, "checkpoint larger than %d bytes", KL_DEVSTATE_MAX_CHECKPOINT);
        r = kl_jsonq_parse(text, len, 200000, &q);
        if (r < 0)
                return kl_error_set(reterr, EBADMSG, "checkpoint is not valid JSON");
        r = parse(st, &q, reterr);
        kl_jsonq_done(&q);
        if (r < 0)
                clear(st);
        return r;
}
