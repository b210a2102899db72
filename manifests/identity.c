/* SPDX-License-Identifier: Apache-2.0 */
#include "manifests/identity.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/macros.h"
#include "manifests/names.h"
#include "manifests/pod.h"

/* ---- SHA-256 ---------------------------------------------------------------- */

static const uint32_t K[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, unsigned n) {
        return (x >> n) | (x << (32 - n));
}

static void sha256_block(struct kl_sha256 *s, const uint8_t *p) {
        uint32_t w[64], a, b, c, d, e, f, g, h;

        for (int i = 0; i < 16; i++)
                w[i] = (uint32_t) p[4 * i] << 24 | (uint32_t) p[4 * i + 1] << 16 | (uint32_t) p[4 * i + 2] << 8 |
                       p[4 * i + 3];
        for (int i = 16; i < 64; i++) {
                uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
                uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
                w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3];
        e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];
        for (int i = 0; i < 64; i++) {
                uint32_t t1 = h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
                uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
                h = g, g = f, f = e, e = d + t1;
                d = c, c = b, b = a, a = t1 + t2;
        }
        s->h[0] += a, s->h[1] += b, s->h[2] += c, s->h[3] += d;
        s->h[4] += e, s->h[5] += f, s->h[6] += g, s->h[7] += h;
}

void kl_sha256_init(struct kl_sha256 *s) {
        static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
        memcpy(s->h, iv, sizeof(iv));
        s->len = 0;
        s->n = 0;
}

void kl_sha256_update(struct kl_sha256 *s, const void *data, size_t len) {
        const uint8_t *p = data;
        s->len += len;
        while (len > 0) {
                size_t k = MIN(len, 64 - s->n);
                memcpy(s->buf + s->n, p, k);
                s->n += k;
                p += k;
                len -= k;
                if (s->n == 64) {
                        sha256_block(s, s->buf);
                        s->n = 0;
                }
        }
}

void kl_sha256_final(struct kl_sha256 *s, uint8_t out[32]) {
        uint64_t bits = s->len * 8;
        uint8_t pad = 0x80, zero = 0, lenbuf[8];

        kl_sha256_update(s, &pad, 1);
        while (s->n != 56)
                kl_sha256_update(s, &zero, 1);
        for (int i = 0; i < 8; i++)
                lenbuf[i] = (uint8_t) (bits >> (56 - 8 * i));
        kl_sha256_update(s, lenbuf, 8);
        for (int i = 0; i < 8; i++) {
                out[4 * i] = (uint8_t) (s->h[i] >> 24);
                out[4 * i + 1] = (uint8_t) (s->h[i] >> 16);
                out[4 * i + 2] = (uint8_t) (s->h[i] >> 8);
                out[4 * i + 3] = (uint8_t) s->h[i];
        }
}

void kl_sha256(const void *data, size_t len, uint8_t out[32]) {
        struct kl_sha256 s;
        kl_sha256_init(&s);
        kl_sha256_update(&s, data, len);
        kl_sha256_final(&s, out);
}

/* ---- canonical form of a YAML tree -------------------------------------------- */

static void put_u64(struct kl_sha256 *s, uint64_t v) {
        uint8_t b[8];
        for (int i = 0; i < 8; i++)
                b[i] = (uint8_t) (v >> (8 * i));
        kl_sha256_update(s, b, 8);
}

static void put_tagged(struct kl_sha256 *s, char tag, const char *text, size_t len) {
        kl_sha256_update(s, &tag, 1);
        put_u64(s, len);
        kl_sha256_update(s, text, len);
}

static int pair_cmp(const void *a, const void *b) {
        const struct kl_yaml_pair *x = *(const struct kl_yaml_pair *const *) a;
        const struct kl_yaml_pair *y = *(const struct kl_yaml_pair *const *) b;
        return strcmp(x->key->scalar.value, y->key->scalar.value);
}

/* Recursion is bounded by the parser's depth cap. */
static int canon(struct kl_sha256 *s, const struct kl_yaml_node *n) {
        switch (n->type) {
        case KL_YAML_SCALAR:
                switch (n->scalar.kind) {
                case KL_YAML_NULL: put_tagged(s, 'N', "", 0); break;
                case KL_YAML_BOOL: {
                        bool t = n->scalar.value[0] == 't' || n->scalar.value[0] == 'T';
                        put_tagged(s, 'B', t ? "1" : "0", 1);
                        break;
                }
                case KL_YAML_STR: put_tagged(s, 'S', n->scalar.value, n->scalar.len); break;
                case KL_YAML_INT:
                case KL_YAML_FLOAT: put_tagged(s, 'D', n->scalar.value, n->scalar.len); break;
                }
                return 0;
        case KL_YAML_SEQUENCE:
                put_tagged(s, 'L', "", 0);
                put_u64(s, n->seq.n);
                for (size_t i = 0; i < n->seq.n; i++)
                        canon(s, n->seq.items[i]);
                return 0;
        case KL_YAML_MAPPING: {
                _cleanup_free_ const struct kl_yaml_pair **v = NULL;
                put_tagged(s, 'M', "", 0);
                put_u64(s, n->map.n);
                if (n->map.n == 0)
                        return 0;
                v = malloc(n->map.n * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                for (size_t i = 0; i < n->map.n; i++)
                        v[i] = &n->map.items[i];
                qsort(v, n->map.n, sizeof(*v), pair_cmp);
                for (size_t i = 0; i < n->map.n; i++) {
                        /* keys are compared as strings whatever their type */
                        put_tagged(s, 'K', v[i]->key->scalar.value, v[i]->key->scalar.len);
                        int r = canon(s, v[i]->value);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        }
        return 0;
}

int kl_yaml_canonical_digest(const struct kl_yaml_node *n, uint8_t out[32]) {
        struct kl_sha256 s;
        int r;

        kl_sha256_init(&s);
        if (n)
                r = canon(&s, n);
        else
                r = 0, put_tagged(&s, 'N', "", 0);
        if (r < 0)
                return r;
        kl_sha256_final(&s, out);
        return 0;
}

/* ---- kl_pod_set_identity ------------------------------------------------------- */

int kl_pod_set_identity(struct kl_pod *pod, const char *node_name, const char *source_path) {
        static const char hex[] = "0123456789abcdef";
        _cleanup_free_ char *full = NULL, *uid = NULL, *hash = NULL, *node = NULL, *src = NULL;
        struct kl_sha256 s;
        uint8_t digest[32];

        if (!pod || !pod->name || !node_name || !source_path)
                return -EINVAL;
        if (asprintf(&full, "%s-%s", pod->name, node_name) < 0)
                return -ENOMEM;
        if (kl_check_dns1123_subdomain(full))
                return -EINVAL;

        kl_sha256_init(&s);
        kl_sha256_update(&s, "kubelet-lite pod identity v1", 29); /* with the NUL */
        if (pod->has_content_digest)
                kl_sha256_update(&s, pod->content_digest, sizeof(pod->content_digest));
        else {
                kl_sha256_update(&s, strempty(pod->namespace), strlen(strempty(pod->namespace)) + 1);
                kl_sha256_update(&s, pod->name, strlen(pod->name) + 1);
        }
        kl_sha256_update(&s, node_name, strlen(node_name) + 1);
        kl_sha256_update(&s, source_path, strlen(source_path) + 1);
        kl_sha256_final(&s, digest);

        uid = malloc(33);
        if (!uid)
                return -ENOMEM;
        for (int i = 0; i < 16; i++) {
                uid[2 * i] = hex[digest[i] >> 4];
                uid[2 * i + 1] = hex[digest[i] & 15];
        }
        uid[32] = '\0';
        hash = strdup(uid);
        node = strdup(node_name);
        src = strdup(source_path);
        if (!hash || !node || !src)
                return -ENOMEM;

        free(pod->full_name);
        free(pod->uid);
        free(pod->config_hash);
        free(pod->node_name);
        free(pod->source);
        pod->full_name = TAKE_PTR(full);
        pod->uid = TAKE_PTR(uid);
        pod->config_hash = TAKE_PTR(hash);
        pod->node_name = TAKE_PTR(node);
        pod->source = TAKE_PTR(src);
        return 0;
}
