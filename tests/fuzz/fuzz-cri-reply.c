/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the CRI reply path: the bytes of a reply as grpc.c hands them to
 * protobuf-c, unpacked as every reply type kubelet-lite reads, then walked
 * the way the daemon walks them (every field, enums through our name helpers,
 * maps through kl_cri_map_get), then packed again: a second unpack/pack round
 * trip must give the same bytes. Runs under ASan/UBSan with FUZZ=libfuzzer.
 * Seeds in tests/fuzz/corpus/fuzz-cri-reply/ are real containerd 1.6 replies
 * (written by the runtime integration tests when KL_CRI_FUZZ_CORPUS is set). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/cri.h"
#include "runtime/grpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const ProtobufCMessageDescriptor *const replies[] = {
        &runtime__v1__list_containers_response__descriptor,  &runtime__v1__container_status_response__descriptor,
        &runtime__v1__list_pod_sandbox_response__descriptor, &runtime__v1__pod_sandbox_status_response__descriptor,
        &runtime__v1__exec_sync_response__descriptor,        &runtime__v1__list_images_response__descriptor,
        &runtime__v1__image_status_response__descriptor,     &runtime__v1__image_fs_info_response__descriptor,
        &runtime__v1__status_response__descriptor,           &runtime__v1__version_response__descriptor,
        &runtime__v1__run_pod_sandbox_response__descriptor,  &runtime__v1__create_container_response__descriptor,
        &runtime__v1__pull_image_response__descriptor,
};

static volatile size_t sink;

static void walk(const ProtobufCMessage *m, unsigned depth);

static void visit(const ProtobufCFieldDescriptor *f, const void *p, unsigned depth) {
        switch (f->type) {
        case PROTOBUF_C_TYPE_STRING: {
                const char *s = *(char *const *) p;
                if (s)
                        sink += strlen(s);
                break;
        }
        case PROTOBUF_C_TYPE_BYTES: {
                const ProtobufCBinaryData *b = p;
                for (size_t i = 0; i < b->len; i++)
                        sink += b->data[i];
                break;
        }
        case PROTOBUF_C_TYPE_MESSAGE: {
                const ProtobufCMessage *sub = *(ProtobufCMessage *const *) p;
                if (sub)
                        walk(sub, depth + 1);
                break;
        }
        case PROTOBUF_C_TYPE_ENUM: {
                int v = *(const int *) p;
                const ProtobufCEnumDescriptor *ed = f->descriptor;
                if (ed == &runtime__v1__container_state__descriptor)
                        sink += strlen(kl_cri_container_state_to_string(v));
                else if (ed == &runtime__v1__pod_sandbox_state__descriptor)
                        sink += strlen(kl_cri_sandbox_state_to_string(v));
                else
                        sink += protobuf_c_enum_descriptor_get_value(ed, v) != NULL;
                break;
        }
        case PROTOBUF_C_TYPE_BOOL: sink += *(const protobuf_c_boolean *) p; break;
        case PROTOBUF_C_TYPE_INT64:
        case PROTOBUF_C_TYPE_UINT64:
        case PROTOBUF_C_TYPE_SINT64:
        case PROTOBUF_C_TYPE_SFIXED64:
        case PROTOBUF_C_TYPE_FIXED64:
        case PROTOBUF_C_TYPE_DOUBLE: sink += *(const uint8_t *) p + ((const uint8_t *) p)[7]; break;
        default: /* 32-bit scalars */ sink += *(const uint8_t *) p + ((const uint8_t *) p)[3]; break;
        }
}

static size_t elem_size(const ProtobufCFieldDescriptor *f) {
        switch (f->type) {
        case PROTOBUF_C_TYPE_STRING:
        case PROTOBUF_C_TYPE_MESSAGE: return sizeof(void *);
        case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
        case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
        case PROTOBUF_C_TYPE_INT64:
        case PROTOBUF_C_TYPE_UINT64:
        case PROTOBUF_C_TYPE_SINT64:
        case PROTOBUF_C_TYPE_SFIXED64:
        case PROTOBUF_C_TYPE_FIXED64:
        case PROTOBUF_C_TYPE_DOUBLE: return 8;
        default: return 4;
        }
}

static void walk(const ProtobufCMessage *m, unsigned depth) {
        const ProtobufCMessageDescriptor *d = m->descriptor;

        if (depth > 32) /* our proto has no recursive messages */
                abort();
        for (unsigned i = 0; i < d->n_fields; i++) {
                const ProtobufCFieldDescriptor *f = &d->fields[i];
                const char *member = (const char *) m + f->offset;

                if (f->label == PROTOBUF_C_LABEL_REPEATED) {
                        size_t n = *(const size_t *) ((const char *) m + f->quantifier_offset);
                        const char *arr = *(char *const *) member;

                        if (n && !arr)
                                abort();
                        for (size_t j = 0; j < n; j++)
                                visit(f, arr + j * elem_size(f), depth);
                        /* Map fields: look up a key like the daemon does. */
                        if (n && f->type == PROTOBUF_C_TYPE_MESSAGE) {
                                const char *v = kl_cri_map_get((void *const *) arr, n, "io.kubernetes.pod.uid");
                                if (v)
                                        sink += strlen(v);
                        }
                } else
                        visit(f, member, depth);
        }
}

static uint8_t *pack(const ProtobufCMessage *m, size_t *ret_len) {
        size_t len = protobuf_c_message_get_packed_size(m);
        uint8_t *buf = malloc(len ? len : 1);

        if (!buf)
                abort();
        if (protobuf_c_message_pack(m, buf) != len)
                abort();
        *ret_len = len;
        return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size > KL_GRPC_MAX_MESSAGE)
                return 0;
        for (size_t i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
                ProtobufCMessage *m = protobuf_c_message_unpack(replies[i], NULL, size, data), *m2;
                uint8_t *b1, *b2;
                size_t l1, l2;

                if (!m)
                        continue;
                walk(m, 0);
                b1 = pack(m, &l1);
                m2 = protobuf_c_message_unpack(replies[i], NULL, l1, b1);
                if (!m2) {
                        /* protobuf-c 1.4 keeps an unknown field numbered 0
                         * when its key is encoded in more bytes than needed,
                         * and refuses the short form it packs it back as. */
                        free(b1);
                        kl_cri_response_free(m);
                        continue;
                }
                b2 = pack(m2, &l2);
                if (l1 != l2 || memcmp(b1, b2, l1) != 0)
                        abort();
                free(b1);
                free(b2);
                kl_cri_response_free(m2);
                kl_cri_response_free(m);
        }
        return 0;
}
