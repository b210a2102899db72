/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to the fake runtime (fake-cri.h is what tests use): fake-cri.c
 * takes the kl_cri_* calls, queues and completes them; fake-runtime.c holds
 * the sandboxes and containers and applies a call to them. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "tests/unit/kubelet-lite/pod/fake-cri.h"

#define FAKE_MAX_KV 32

struct fake_kv {
        char *k, *v;
};

struct fake_kvs {
        struct fake_kv e[FAKE_MAX_KV];
        size_t n;
};

/* One CRI call as the runtime sees it. */
struct fake_request {
        enum fake_method m;
        char *id; /* the container, sandbox or image it is about; NULL: none */
        /* RunPodSandbox and CreateContainer: what the config asked for */
        char *name, *ns, *uid, *image;
        uint32_t attempt;
        struct fake_kvs labels, annotations;
};

const char *fake_method_name(enum fake_method m);
char *fake_strdup(const char *s); /* aborts when out of memory */
void fake_kvs_add(struct fake_kvs *k, const char *key, const char *value);
void fake_kvs_done(struct fake_kvs *k);
/* From a protobuf-c map field (entries of any map type). */
void fake_kvs_from_map(struct fake_kvs *dst, void *const *entries, size_t n);

/* Apply req to the runtime: 0 with *ret the reply (a heap copy through the
 * wire format, freed with protobuf_c_message_free_unpacked), or -errno with
 * err set as the real client would. */
int fake_runtime_apply(const struct fake_request *req, ProtobufCMessage **ret, struct kl_error *err);
/* "c1 a0" for a container id, the pod name for a sandbox id ("?" unknown). */
const char *fake_runtime_container_desc(const char *id, char *buf, size_t n);
const char *fake_runtime_sandbox_name(const char *id);
void fake_runtime_reset(void);
