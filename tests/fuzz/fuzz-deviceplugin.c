/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the device plugin messages on both sides. The first byte picks:
 *   0  the plugin's Allocate: AllocateRequest bytes -> AllocateResponse,
 *      which must unpack again with one container response per request;
 *   1  the plugin's GetPreferredAllocation, the same way;
 *   2  the kubelet's Registration: RegisterRequest bytes, checked as
 *      devicemanager.c checks them, and a ListAndWatchResponse fed to the
 *      device bookkeeping;
 *   3  the kubelet_internal_checkpoint JSON: a file that loads must write
 *      back to a file that loads to the same text.
 * The rest of the input is the message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "device-plugin/plugin.h"
#include "kubelet-lite/cm/devicestate.h"
#include "manifests/names.h"
#include "runtime/deviceplugin.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct kl_dp_resource *resource(void) {
        static struct kl_dp_device devs[] = {
                {(char *) "ttyKL0", (char *) "/dev/ttyKL0", true},
                {(char *) "ttyKL1", (char *) "/dev/ttyKL1", false},
                {(char *) "ttyKL2", (char *) "/dev/ttyKL2", true},
        };
        static struct kl_dp_resource r = {.name = (char *) "kubelet-lite.io/serial",
                                          .endpoint = (char *) "kubelet-lite.io_serial.sock"};

        r.devices = devs;
        r.n_devices = 3;
        return &r;
}

static void plugin_side(int which, const uint8_t *data, size_t size) {
        struct kl_error e = {0};
        uint8_t *out = NULL;
        size_t len = 0;
        int r;

        if (which == 0) {
                V1beta1__AllocateRequest *req = v1beta1__allocate_request__unpack(NULL, size, data);
                r = kl_dp_allocate_reply(resource(), data, size, &out, &len, &e);
                if ((r >= 0) && !req)
                        abort(); /* answered a request protobuf-c cannot read */
                if (r >= 0) {
                        V1beta1__AllocateResponse *resp = v1beta1__allocate_response__unpack(NULL, len, out);
                        if (!resp || resp->n_container_responses != req->n_container_requests)
                                abort();
                        for (size_t i = 0; i < resp->n_container_responses; i++)
                                for (size_t k = 0; k < resp->container_responses[i]->n_devices; k++)
                                        if (strcmp(resp->container_responses[i]->devices[k]->permissions, "rw") != 0)
                                                abort();
                        v1beta1__allocate_response__free_unpacked(resp, NULL);
                } else if (!e.msg[0])
                        abort();
                if (req)
                        v1beta1__allocate_request__free_unpacked(req, NULL);
        } else {
                r = kl_dp_preferred_allocation_reply(resource(), data, size, &out, &len, &e);
                if (r >= 0) {
                        V1beta1__PreferredAllocationResponse *resp =
                                v1beta1__preferred_allocation_response__unpack(NULL, len, out);
                        if (!resp)
                                abort();
                        v1beta1__preferred_allocation_response__free_unpacked(resp, NULL);
                }
        }
        free(out);
}

static void kubelet_register(const uint8_t *data, size_t size) {
        V1beta1__RegisterRequest *req = v1beta1__register_request__unpack(NULL, size, data);
        V1beta1__ListAndWatchResponse *law = v1beta1__list_and_watch_response__unpack(NULL, size, data);
        struct kl_devstate *st = NULL;

        if (req) {
                (void) kl_is_extended_resource_name(req->resource_name);
                (void) (strcmp(req->version, "v1beta1") == 0);
                v1beta1__register_request__free_unpacked(req, NULL);
        }
        if (law && kl_devstate_new(&st) >= 0) {
                char **ids = calloc(law->n_devices + 1, sizeof(*ids));
                bool *h = calloc(law->n_devices + 1, sizeof(*h));
                const char *name;
                int64_t cap, alloc;
                for (size_t i = 0; ids && h && i < law->n_devices; i++) {
                        ids[i] = law->devices[i]->id;
                        h[i] = strcmp(law->devices[i]->health, "Healthy") == 0;
                }
                if (ids && h && kl_devstate_set_devices(st, "example.com/x", ids, h, law->n_devices) >= 0 &&
                    kl_devstate_capacity(st, 0, &name, &cap, &alloc) && (alloc > cap || cap > (int64_t) law->n_devices))
                        abort();
                free(ids);
                free(h);
                kl_devstate_free(st);
        }
        if (law)
                v1beta1__list_and_watch_response__free_unpacked(law, NULL);
}

static void checkpoint(const uint8_t *data, size_t size) {
        struct kl_devstate *st = NULL, *st2 = NULL;
        struct kl_buf a = {0}, b = {0};
        struct kl_error e = {0};
        char *text = malloc(size + 1);

        if (!text || kl_devstate_new(&st) < 0 || kl_devstate_new(&st2) < 0)
                goto out;
        memcpy(text, data, size);
        text[size] = '\0';
        if (kl_devstate_from_json(st, text, size, &e) < 0)
                goto out;
        kl_devstate_to_json(st, &a);
        if (a.oom)
                goto out;
        if (kl_devstate_from_json(st2, a.data, a.len, &e) < 0)
                abort(); /* we cannot read what we wrote */
        kl_devstate_to_json(st2, &b);
        if (!b.oom && (a.len != b.len || memcmp(a.data, b.data, a.len) != 0))
                abort();
out:
        kl_buf_free_contents(&a);
        kl_buf_free_contents(&b);
        kl_devstate_free(st);
        kl_devstate_free(st2);
        free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 1 || size > 1 << 20)
                return 0;
        switch (data[0] % 4) {
        case 0:
        case 1: plugin_side(data[0] % 4, data + 1, size - 1); break;
        case 2: kubelet_register(data + 1, size - 1); break;
        case 3: checkpoint(data + 1, size - 1); break;
        }
        return 0;
}
