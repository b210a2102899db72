/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to manifests/: the v1 Pod schema, YAML tree -> struct kl_pod.
 * spec.c maps metadata and spec, container.c one container, check.c runs
 * the checks that span fields and applies upstream's defaults. */
#pragma once

#include <stdbool.h>

#include "manifests/decode.h"
#include "manifests/pod.h"

/* Map one `kind: Pod` document (its root mapping) to a pod. Problems are
 * reported through d; the pod is returned even then (the caller discards
 * it when d has errors). NULL only on OOM. */
struct kl_pod *kl__decode_pod(struct kl__dec *d, const struct kl_yaml_node *root);

/* Map a container mapping (d's path points at it). */
void kl__decode_container(struct kl__dec *d, const struct kl_yaml_node *v, bool init, struct kl_container *c);

/* Checks across fields (container names, volume references, ports, probes of
 * init containers, ...) and defaults that depend on other fields. */
void kl__check_pod(struct kl__dec *d, struct kl_pod *p);

/* security.c: a container's securityContext. */
void kl__decode_security_context(struct kl__dec *d, const struct kl_yaml_node *v, struct kl_security_context *sc);

/* securityContext.seccompProfile, shared by pod and containers (security.c). */
bool kl__decode_seccomp(struct kl__dec *d, const struct kl_yaml_node *v, enum kl_seccomp *type, char **profile);

/* Report a quantity parse error (r from kl_quantity_parse_*) at v. */
void kl__quantity_error(struct kl__dec *d, const struct kl_yaml_node *v, const char *text, int r);

/* downward.c: env valueFrom.fieldRef (volume false) or a downwardAPI item's
 * fieldRef (volume true) into *ret, the fieldPath as written. */
void kl__decode_field_ref(struct kl__dec *d, const struct kl_yaml_node *v, bool volume, char **ret);
/* resourceFieldRef; containerName is required in volumes. */
void kl__decode_resource_ref(struct kl__dec *d, const struct kl_yaml_node *v, bool volume, struct kl_resource_ref *ref);
/* volumes[].downwardAPI */
void kl__decode_downward_api(struct kl__dec *d, const struct kl_yaml_node *v, struct kl_volume *vol);
/* spec.hostAliases */
void kl__decode_host_aliases(struct kl__dec *d, const struct kl_yaml_node *v, struct kl_pod *p);
