/* SPDX-License-Identifier: Apache-2.0 */
/* Pod identity: a SHA-256 (FIPS 180-4) of our own, and the canonical form of
 * a YAML document that the uid is derived from. kl_pod_set_identity() itself
 * is declared in manifests/pod.h. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "manifests/yaml.h"

struct kl_sha256 {
        uint32_t h[8];
        uint64_t len;
        uint8_t buf[64];
        size_t n;
};

void kl_sha256_init(struct kl_sha256 *s);
void kl_sha256_update(struct kl_sha256 *s, const void *data, size_t len);
void kl_sha256_final(struct kl_sha256 *s, uint8_t out[32]);
void kl_sha256(const void *data, size_t len, uint8_t out[32]);

/* Digest of a node's canonical form: mapping keys sorted, scalars by resolved
 * type and text (null and booleans normalised), so comments, layout, key
 * order and quoting of strings do not change it, while any change of data
 * does. -ENOMEM. */
int kl_yaml_canonical_digest(const struct kl_yaml_node *n, uint8_t out[32]);
