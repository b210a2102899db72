/* SPDX-License-Identifier: Apache-2.0 */
/* See plugin.h. */
#include "device-plugin/plugin.h"

#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/macros.h"
#include "manifests/names.h"
#include "runtime/deviceplugin.pb-c.h"

static void devices_free(struct kl_dp_device *d, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(d[i].id);
                free(d[i].path);
        }
        free(d);
}

struct kl_dp_resource *kl_dp_resource_free(struct kl_dp_resource *r) {
        if (!r)
                return NULL;
        free(r->name);
        free(r->endpoint);
        for (size_t i = 0; i < r->n_globs; i++)
                free(r->globs[i]);
        free(r->globs);
        devices_free(r->devices, r->n_devices);
        free(r);
        return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct kl_dp_resource *, kl_dp_resource_free);

int kl_dp_resource_parse(const char *arg, struct kl_dp_resource **ret, struct kl_error *reterr) {
        _cleanup_(kl_dp_resource_freep) struct kl_dp_resource *r = NULL;
        const char *eq = strchr(arg, '=');
        _cleanup_free_ char *list = NULL;
        char *save = NULL;

        if (!eq)
                return kl_error_set(reterr, EINVAL, "device '%s': expected NAME=GLOB[,GLOB...]", arg);
        r = calloc(1, sizeof(*r));
        if (!r || !(r->name = strndup(arg, (size_t) (eq - arg))) || !(list = strdup(eq + 1)))
                return kl_error_set(reterr, ENOMEM, "out of memory");
        if (!kl_is_extended_resource_name(r->name))
                return kl_error_set(reterr, EINVAL,
                                    "device '%s': '%s' is not an extended resource name (a domain-qualified name "
                                    "like example.com/dongle, outside kubernetes.io)",
                                    arg, r->name);
        if (asprintf(&r->endpoint, "%s.sock", r->name) < 0)
                return kl_error_set(reterr, ENOMEM, "out of memory");
        for (char *p = r->endpoint; *p; p++)
                if (*p == '/')
                        *p = '_';
        for (char *g = strtok_r(list, ",", &save); g; g = strtok_r(NULL, ",", &save)) {
                char **n;
                if (g[0] != '/')
                        return kl_error_set(reterr, EINVAL, "device '%s': glob '%s' is not an absolute path", arg, g);
                n = realloc(r->globs, (r->n_globs + 1) * sizeof(*n));
                if (!n)
                        return kl_error_set(reterr, ENOMEM, "out of memory");
                r->globs = n;
                if (!(r->globs[r->n_globs] = strdup(g)))
                        return kl_error_set(reterr, ENOMEM, "out of memory");
                r->n_globs++;
        }
        if (r->n_globs == 0)
                return kl_error_set(reterr, EINVAL, "device '%s': no glob", arg);
        *ret = TAKE_PTR(r);
        return 0;
}

static int cmp_device(const void *a, const void *b) {
        return strcmp(((const struct kl_dp_device *) a)->id, ((const struct kl_dp_device *) b)->id);
}

static struct kl_dp_device *find(struct kl_dp_device *d, size_t n, const char *id) {
        struct kl_dp_device key = {.id = (char *) id};
        return n ? bsearch(&key, d, n, sizeof(*d), cmp_device) : NULL;
}

int kl_dp_resource_scan(struct kl_dp_resource *r) {
        struct kl_dp_device *now = NULL;
        size_t n = 0;
        int changed = 0;

        for (size_t i = 0; i < r->n_globs; i++) {
                glob_t gl = {0};
                int g = glob(r->globs[i], GLOB_NOSORT, NULL, &gl);
                if (g == GLOB_NOMATCH)
                        continue;
                if (g != 0) {
                        globfree(&gl);
                        devices_free(now, n);
                        return g == GLOB_NOSPACE ? -ENOMEM : -EIO;
                }
                for (size_t j = 0; j < gl.gl_pathc && n < KL_DP_MAX_DEVICES; j++) {
                        const char *p = gl.gl_pathv[j], *base = strrchr(p, '/');
                        struct kl_dp_device *t;
                        base = base ? base + 1 : p;
                        if (!*base)
                                continue;
                        /* two globs naming one node, or one name in two dirs: the first wins */
                        bool dup = false;
                        for (size_t k = 0; k < n && !dup; k++)
                                dup = streq(now[k].id, base);
                        if (dup)
                                continue;
                        t = realloc(now, (n + 1) * sizeof(*now));
                        if (!t) {
                                globfree(&gl);
                                devices_free(now, n);
                                return -ENOMEM;
                        }
                        now = t;
                        now[n] = (struct kl_dp_device){.id = strdup(base), .path = strdup(p), .healthy = true};
                        if (!now[n].id || !now[n].path) {
                                n++;
                                globfree(&gl);
                                devices_free(now, n);
                                return -ENOMEM;
                        }
                        n++;
                }
                globfree(&gl);
        }

        /* Devices seen now: new, or healthy again? */
        for (size_t i = 0; i < n; i++) {
                const struct kl_dp_device *old = NULL;
                for (size_t k = 0; k < r->n_devices && !old; k++)
                        if (streq(r->devices[k].id, now[i].id))
                                old = &r->devices[k];
                if (!old || !old->healthy)
                        changed = 1;
        }
        /* Devices seen before and gone now stay, unhealthy, so that the
         * kubelet counts them in capacity but not in allocatable (as
         * upstream plugins report a lost GPU). */
        for (size_t i = 0; i < r->n_devices; i++) {
                struct kl_dp_device *old = &r->devices[i], *t;
                bool found = false;
                for (size_t k = 0; k < n && !found; k++)
                        found = streq(now[k].id, old->id);
                if (found)
                        continue;
                if (old->healthy)
                        changed = 1;
                t = realloc(now, (n + 1) * sizeof(*now));
                if (!t) {
                        devices_free(now, n);
                        return -ENOMEM;
                }
                now = t;
                /* the strings move to the new list */
                now[n].id = old->id;
                now[n].path = old->path;
                now[n++].healthy = false;
                old->id = old->path = NULL;
        }
        if (n)
                qsort(now, n, sizeof(*now), cmp_device);
        devices_free(r->devices, r->n_devices);
        r->devices = now;
        r->n_devices = n;
        return changed;
}

static int pack(const ProtobufCMessage *m, uint8_t **ret, size_t *ret_len) {
        size_t len = protobuf_c_message_get_packed_size(m);
        uint8_t *buf = malloc(len ? len : 1);

        if (!buf)
                return -ENOMEM;
        protobuf_c_message_pack(m, buf);
        *ret = buf;
        *ret_len = len;
        return 0;
}

int kl_dp_list_and_watch_reply(const struct kl_dp_resource *r, uint8_t **ret, size_t *ret_len) {
        V1beta1__ListAndWatchResponse resp = V1BETA1__LIST_AND_WATCH_RESPONSE__INIT;
        _cleanup_free_ V1beta1__Device *devs = calloc(r->n_devices + 1, sizeof(*devs));
        _cleanup_free_ V1beta1__Device **ptrs = calloc(r->n_devices + 1, sizeof(*ptrs));

        if (!devs || !ptrs)
                return -ENOMEM;
        for (size_t i = 0; i < r->n_devices; i++) {
                devs[i] = (V1beta1__Device) V1BETA1__DEVICE__INIT;
                devs[i].id = r->devices[i].id;
                /* upstream's constants.go: Healthy, Unhealthy */
                devs[i].health = (char *) (r->devices[i].healthy ? "Healthy" : "Unhealthy");
                ptrs[i] = &devs[i];
        }
        resp.devices = ptrs;
        resp.n_devices = r->n_devices;
        return pack(&resp.base, ret, ret_len);
}

static const struct kl_dp_device *find_const(const struct kl_dp_resource *r, const char *id) {
        return find(r->devices, r->n_devices, id);
}

int kl_dp_allocate_reply(const struct kl_dp_resource *r, const uint8_t *req, size_t len, uint8_t **ret, size_t *ret_len,
                         struct kl_error *reterr) {
        V1beta1__AllocateRequest *in = v1beta1__allocate_request__unpack(NULL, len, req);
        V1beta1__AllocateResponse resp = V1BETA1__ALLOCATE_RESPONSE__INIT;
        V1beta1__ContainerAllocateResponse *cresp = NULL, **cptrs = NULL;
        V1beta1__DeviceSpec *specs = NULL, **sptrs = NULL;
        size_t total = 0, k = 0;
        int rr = 0;

        if (!in)
                return kl_error_set(reterr, EINVAL, "malformed AllocateRequest (%zu bytes)", len);
        for (size_t i = 0; i < in->n_container_requests; i++)
                total += in->container_requests[i]->n_devices_ids;
        cresp = calloc(in->n_container_requests + 1, sizeof(*cresp));
        cptrs = calloc(in->n_container_requests + 1, sizeof(*cptrs));
        specs = calloc(total + 1, sizeof(*specs));
        sptrs = calloc(total + 1, sizeof(*sptrs));
        if (!cresp || !cptrs || !specs || !sptrs) {
                rr = kl_error_set(reterr, ENOMEM, "out of memory");
                goto out;
        }
        for (size_t i = 0; i < in->n_container_requests; i++) {
                const V1beta1__ContainerAllocateRequest *c = in->container_requests[i];
                cresp[i] = (V1beta1__ContainerAllocateResponse) V1BETA1__CONTAINER_ALLOCATE_RESPONSE__INIT;
                cresp[i].devices = sptrs + k;
                for (size_t j = 0; j < c->n_devices_ids; j++) {
                        const struct kl_dp_device *d = find_const(r, c->devices_ids[j]);
                        if (!d) {
                                rr = kl_error_set(reterr, EINVAL, "%s: unknown device '%.64s'", r->name,
                                                  c->devices_ids[j]);
                                goto out;
                        }
                        if (!d->healthy) {
                                rr = kl_error_set(reterr, EINVAL, "%s: device '%s' is unhealthy", r->name, d->id);
                                goto out;
                        }
                        specs[k] = (V1beta1__DeviceSpec) V1BETA1__DEVICE_SPEC__INIT;
                        specs[k].host_path = specs[k].container_path = d->path;
                        specs[k].permissions = (char *) "rw";
                        sptrs[k] = &specs[k];
                        k++;
                        cresp[i].n_devices++;
                }
                cptrs[i] = &cresp[i];
        }
        resp.container_responses = cptrs;
        resp.n_container_responses = in->n_container_requests;
        if (pack(&resp.base, ret, ret_len) < 0)
                rr = kl_error_set(reterr, ENOMEM, "out of memory");
out:
        free(cresp);
        free(cptrs);
        free(specs);
        free(sptrs);
        v1beta1__allocate_request__free_unpacked(in, NULL);
        return rr;
}

static bool in_list(char **list, size_t n, const char *s) {
        for (size_t i = 0; i < n; i++)
                if (streq(list[i], s))
                        return true;
        return false;
}

/* Must-include devices first, then the available ones in their order, up to
 * allocation_size: nodes have no topology to prefer. */
int kl_dp_preferred_allocation_reply(const struct kl_dp_resource *r, const uint8_t *req, size_t len, uint8_t **ret,
                                     size_t *ret_len, struct kl_error *reterr) {
        V1beta1__PreferredAllocationRequest *in = v1beta1__preferred_allocation_request__unpack(NULL, len, req);
        V1beta1__PreferredAllocationResponse resp = V1BETA1__PREFERRED_ALLOCATION_RESPONSE__INIT;
        V1beta1__ContainerPreferredAllocationResponse *cresp = NULL, **cptrs = NULL;
        char **ids = NULL;
        size_t total = 0, k = 0;
        int rr = 0;

        if (!in)
                return kl_error_set(reterr, EINVAL, "malformed PreferredAllocationRequest (%zu bytes)", len);
        for (size_t i = 0; i < in->n_container_requests; i++)
                total += in->container_requests[i]->n_available_deviceids +
                         in->container_requests[i]->n_must_include_deviceids;
        cresp = calloc(in->n_container_requests + 1, sizeof(*cresp));
        cptrs = calloc(in->n_container_requests + 1, sizeof(*cptrs));
        ids = calloc(total + 1, sizeof(*ids));
        if (!cresp || !cptrs || !ids) {
                rr = kl_error_set(reterr, ENOMEM, "out of memory");
                goto out;
        }
        for (size_t i = 0; i < in->n_container_requests; i++) {
                const V1beta1__ContainerPreferredAllocationRequest *c = in->container_requests[i];
                size_t want = c->allocation_size > 0 ? (size_t) c->allocation_size : 0;
                cresp[i] = (V1beta1__ContainerPreferredAllocationResponse)
                        V1BETA1__CONTAINER_PREFERRED_ALLOCATION_RESPONSE__INIT;
                cresp[i].deviceids = ids + k;
                for (size_t j = 0; j < c->n_must_include_deviceids && cresp[i].n_deviceids < want; j++)
                        if (!in_list(cresp[i].deviceids, cresp[i].n_deviceids, c->must_include_deviceids[j])) {
                                ids[k++] = c->must_include_deviceids[j];
                                cresp[i].n_deviceids++;
                        }
                for (size_t j = 0; j < c->n_available_deviceids && cresp[i].n_deviceids < want; j++)
                        if (!in_list(cresp[i].deviceids, cresp[i].n_deviceids, c->available_deviceids[j])) {
                                ids[k++] = c->available_deviceids[j];
                                cresp[i].n_deviceids++;
                        }
                cptrs[i] = &cresp[i];
        }
        (void) r;
        resp.container_responses = cptrs;
        resp.n_container_responses = in->n_container_requests;
        if (pack(&resp.base, ret, ret_len) < 0)
                rr = kl_error_set(reterr, ENOMEM, "out of memory");
out:
        free(cresp);
        free(cptrs);
        free(ids);
        v1beta1__preferred_allocation_request__free_unpacked(in, NULL);
        return rr;
}
