/* SPDX-License-Identifier: Apache-2.0 */
/* The downward API (env valueFrom.fieldRef/resourceFieldRef and downwardAPI
 * volumes) and spec.hostAliases: YAML -> model, with upstream's checks
 * (pkg/apis/core/validation: validateObjectFieldSelector,
 * validateContainerResourceFieldSelector, validateContainerResourceDivisor,
 * validateDownwardAPIVolumeSource, ValidateHostAliases). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "manifests/names.h"
#include "manifests/quantity.h"
#include "manifests/schema.h"
#include "manifests/strv.h"

/* upstream's validEnvDownwardAPIFieldPathExpressions */
static const char *const env_paths[] = {
        "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName",
        "status.hostIP", "status.hostIPs",     "status.podIP", "status.podIPs", NULL};
/* upstream's validVolumeDownwardAPIFieldPathExpressions */
static const char *const volume_paths[] = {"metadata.name",        "metadata.namespace", "metadata.labels",
                                           "metadata.annotations", "metadata.uid",       NULL};

static bool in_list(const char *s, const char *const *l) {
        for (size_t i = 0; l[i]; i++)
                if (streq(s, l[i]))
                        return true;
        return false;
}

bool kl_field_path_split(const char *path, char *prefix, size_t prefix_size, const char **ret_key,
                         size_t *ret_key_len) {
        /* upstream's fieldpath.SplitMaybeSubscriptedPath: "a['b']" */
        size_t n = strlen(path);
        const char *open;

        if (n < 2 || !streq(path + n - 2, "']"))
                return false;
        open = strstr(path, "['");
        if (!open || open == path || (size_t) (open - path) >= prefix_size || open + 2 > path + n - 2)
                return false;
        memcpy(prefix, path, (size_t) (open - path));
        prefix[open - path] = '\0';
        *ret_key = open + 2;
        *ret_key_len = (size_t) (path + n - 2 - (open + 2));
        return true;
}

static void check_field_path(struct kl__dec *d, const struct kl_yaml_node *v, const char *path, bool volume) {
        char prefix[64], key[320];
        const char *k;
        size_t klen;

        if (kl_field_path_split(path, prefix, sizeof(prefix), &k, &klen)) {
                const char *why = NULL;
                if (klen >= sizeof(key)) {
                        kl__dec_error(d, v->pos, "invalid key in %s: too long", kl__dec_q(d, path));
                        return;
                }
                memcpy(key, k, klen);
                key[klen] = '\0';
                if (streq(prefix, "metadata.annotations")) {
                        for (char *p = key; *p; p++) /* upstream lower-cases annotation keys here */
                                if (*p >= 'A' && *p <= 'Z')
                                        *p = (char) (*p - 'A' + 'a');
                        why = kl_check_qualified_name(key);
                } else if (streq(prefix, "metadata.labels"))
                        why = kl_check_qualified_name(key);
                else {
                        kl__dec_error(d, v->pos, "%s does not support a subscript", kl__dec_q(d, prefix));
                        return;
                }
                if (why)
                        kl__dec_error(d, v->pos, "invalid key in %s: %s", kl__dec_q(d, path), why);
                return;
        }
        if (!in_list(path, volume ? volume_paths : env_paths)) {
                const char *const *l = volume ? volume_paths : env_paths;
                char list[512] = "";
                for (size_t i = 0; l[i]; i++) {
                        size_t o = strlen(list);
                        snprintf(list + o, sizeof(list) - o, "%s\"%s\"", o ? ", " : "", l[i]);
                }
                kl__dec_error(d, v->pos,
                              "unsupported value %s: supported values: %s, and "
                              "metadata.labels['KEY'] or metadata.annotations['KEY']",
                              kl__dec_q(d, path), list);
        }
}

void kl__decode_field_ref(struct kl__dec *d, const struct kl_yaml_node *v, bool volume, char **ret) {
        static const char *const known[] = {"fieldPath", "apiVersion", NULL};
        bool has_path = false;

        if (!kl__dec_map(d, v))
                return;
        KL__FOREACH_FIELD(d, v, f) {
                if (streq(f.name, "fieldPath")) {
                        has_path = !kl_yaml_is_null(f.value);
                        if (kl__dec_str(d, f.value, ret))
                                check_field_path(d, f.value, *ret, volume);
                } else if (streq(f.name, "apiVersion")) {
                        char *s = NULL;
                        if (kl__dec_str(d, f.value, &s) && !streq(s, "v1"))
                                kl__dec_error(d, f.value->pos, "unsupported value %s: must be \"v1\"", kl__dec_q(d, s));
                        free(s);
                } else
                        kl__dec_unknown(d, f.key, known);
        }
        if (!has_path)
                kl__dec_error(d, v->pos, "fieldPath is required");
}

static bool pow_of(int64_t x, int64_t base) {
        int64_t p = 1;
        for (int i = 0; i <= 6; i++) {
                if (x == p)
                        return true;
                if (__builtin_mul_overflow(p, base, &p))
                        return false;
        }
        return false;
}

void kl__decode_resource_ref(struct kl__dec *d, const struct kl_yaml_node *v, bool volume,
                             struct kl_resource_ref *ref) {
        static const char *const known[] = {"resource", "containerName", "divisor", NULL};
        static const char *const resources[] = {"limits.cpu",
                                                "limits.memory",
                                                "limits.ephemeral-storage",
                                                "requests.cpu",
                                                "requests.memory",
                                                "requests.ephemeral-storage",
                                                NULL};
        const struct kl_yaml_node *divisor = NULL;
        const char *why;

        if (!kl__dec_map(d, v))
                return;
        KL__FOREACH_FIELD(d, v, f) {
                if (streq(f.name, "resource")) {
                        if (!kl__dec_str(d, f.value, &ref->resource))
                                continue;
                        if (strstr(ref->resource, ".hugepages-"))
                                kl__dec_unsupported(d, f.key, true, "hugepages resources");
                        else if (!in_list(ref->resource, resources))
                                kl__dec_error(d, f.value->pos,
                                              "unsupported value %s: supported values: \"limits.cpu\", "
                                              "\"limits.memory\", \"limits.ephemeral-storage\", \"requests.cpu\", "
                                              "\"requests.memory\", \"requests.ephemeral-storage\"",
                                              kl__dec_q(d, ref->resource));
                } else if (streq(f.name, "containerName")) {
                        if (kl__dec_str(d, f.value, &ref->container_name) && ref->container_name[0] &&
                            (why = kl_check_dns1123_label(ref->container_name)))
                                kl__dec_error(d, f.value->pos, "invalid name %s: %s", kl__dec_q(d, ref->container_name),
                                              why);
                        if (ref->container_name && !ref->container_name[0]) {
                                free(ref->container_name);
                                ref->container_name = NULL;
                        }
                } else if (streq(f.name, "divisor"))
                        divisor = f.value;
                else
                        kl__dec_unknown(d, f.key, known);
        }
        if (!ref->resource) {
                kl__dec_error(d, v->pos, "resource is required");
                return;
        }
        if (volume && !ref->container_name)
                kl__dec_error(d, v->pos, "containerName is required");
        if (divisor && !kl_yaml_is_null(divisor)) {
                const char *text;
                bool cpu = strstr(ref->resource, ".cpu") != NULL;
                int64_t x;
                int r;
                size_t saved = kl__dec_push(d, "divisor");
                if (kl__dec_scalar_text(d, divisor, &text)) {
                        r = cpu ? kl_quantity_parse_milli(text, &x) : kl_quantity_parse_value(text, &x);
                        if (r < 0)
                                kl__quantity_error(d, divisor, text, r);
                        else if (x == 0)
                                ; /* a zero divisor is the unset one upstream: the default */
                        else if (cpu && x != 1 && x != 1000)
                                kl__dec_error(d, divisor->pos,
                                              "only divisor's values 1m and 1 are supported with the cpu resource");
                        else if (!cpu && !pow_of(x, 1000) && !pow_of(x, 1024))
                                kl__dec_error(d, divisor->pos,
                                              "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, "
                                              "1Ti, 1Pi, 1Ei are supported with the %s resource",
                                              strstr(ref->resource, "memory") ? "memory" : "local ephemeral storage");
                        else
                                ref->divisor = x;
                }
                kl__dec_pop(d, saved);
        }
}

/* upstream's validateLocalNonReservedPath */
static const char *check_item_path(const char *p) {
        if (!p[0])
                return "must not be empty";
        if (p[0] == '/')
                return "must be a relative path";
        if (kl_path_has_dotdot(p))
                return "must not contain '..'";
        if (strncmp(p, "..", 2) == 0)
                return "must not start with '..'";
        return NULL;
}

static void decode_mode(struct kl__dec *d, const struct kl_yaml_node *v, int *ret) {
        int64_t m;
        if (kl__dec_int(d, v, INT32_MIN, INT32_MAX, &m)) {
                if (m < 0 || m > 0777)
                        kl__dec_error(d, v->pos, "must be a number between 0 and 0777 (octal), both inclusive");
                else
                        *ret = (int) m;
        }
}

void kl__decode_downward_api(struct kl__dec *d, const struct kl_yaml_node *v, struct kl_volume *vol) {
        static const char *const known[] = {"items", "defaultMode", NULL};
        static const char *const item_known[] = {"path", "fieldRef", "resourceFieldRef", "mode", NULL};
        const char *why;

        vol->kind = KL_VOLUME_DOWNWARD_API;
        vol->default_mode = 0644;
        if (!kl__dec_map(d, v))
                return;
        KL__FOREACH_FIELD(d, v, f) {
                if (streq(f.name, "defaultMode"))
                        decode_mode(d, f.value, &vol->default_mode);
                else if (streq(f.name, "items")) {
                        if (!kl__dec_seq(d, f.value) ||
                            !(vol->items = kl__dec_calloc(d, f.value->seq.n, sizeof(*vol->items))))
                                continue;
                        KL__FOREACH_ITEM(d, f.value, it) {
                                struct kl_downward_item *item = &vol->items[vol->n_items++];
                                unsigned n_src = 0;
                                item->mode = -1;
                                if (!kl__dec_map(d, it.value))
                                        continue;
                                KL__FOREACH_FIELD(d, it.value, g) {
                                        if (streq(g.name, "path")) {
                                                if (kl__dec_str(d, g.value, &item->path) &&
                                                    (why = check_item_path(item->path)))
                                                        kl__dec_error(d, g.value->pos, "invalid path %s: %s",
                                                                      kl__dec_q(d, item->path), why);
                                        } else if (streq(g.name, "fieldRef")) {
                                                n_src++;
                                                kl__decode_field_ref(d, g.value, true, &item->field_ref);
                                        } else if (streq(g.name, "resourceFieldRef")) {
                                                n_src++;
                                                kl__decode_resource_ref(d, g.value, true, &item->resource_ref);
                                        } else if (streq(g.name, "mode"))
                                                decode_mode(d, g.value, &item->mode);
                                        else
                                                kl__dec_unknown(d, g.key, item_known);
                                }
                                if (!item->path)
                                        kl__dec_error(d, it.value->pos, "path is required");
                                if (n_src != 1)
                                        kl__dec_error(d, it.value->pos,
                                                      "fieldRef and resourceFieldRef can not be specified "
                                                      "simultaneously, and one of them is required");
                                for (size_t k = 0; item->path && k + 1 < vol->n_items; k++)
                                        if (streq_ptr(vol->items[k].path, item->path))
                                                kl__dec_error(d, it.value->pos, "duplicate path %s",
                                                              kl__dec_q(d, item->path));
                        }
                } else
                        kl__dec_unknown(d, f.key, known);
        }
}

void kl__decode_host_aliases(struct kl__dec *d, const struct kl_yaml_node *v, struct kl_pod *p) {
        static const char *const known[] = {"ip", "hostnames", NULL};
        const char *why;

        if (!kl__dec_seq(d, v) || !(p->host_aliases = kl__dec_calloc(d, v->seq.n, sizeof(*p->host_aliases))))
                return;
        KL__FOREACH_ITEM(d, v, it) {
                struct kl_host_alias *a = &p->host_aliases[p->n_host_aliases++];
                if (!kl__dec_map(d, it.value)) {
                        if (kl_yaml_is_null(it.value)) /* an empty entry: its ip "" is invalid */
                                kl__dec_error(d, it.value->pos, "ip: must be a valid IP address, got \"\"");
                        continue;
                }
                KL__FOREACH_FIELD(d, it.value, f) {
                        if (streq(f.name, "ip")) {
                                if (kl__dec_str(d, f.value, &a->ip) && !kl_is_ip_address(a->ip))
                                        kl__dec_error(d, f.value->pos, "must be a valid IP address, got %s",
                                                      kl__dec_q(d, a->ip));
                        } else if (streq(f.name, "hostnames")) {
                                if (!kl__dec_strv(d, f.value, &a->hostnames))
                                        continue;
                                for (size_t i = 0; a->hostnames[i]; i++)
                                        if ((why = kl_check_dns1123_subdomain(a->hostnames[i])))
                                                kl__dec_error(d, f.value->seq.items[i]->pos, "invalid hostname %s: %s",
                                                              kl__dec_q(d, a->hostnames[i]), why);
                        } else
                                kl__dec_unknown(d, f.key, known);
                }
                /* upstream's ParseIP("") fails: ip is effectively required */
                if (!a->ip)
                        kl__dec_error(d, it.value->pos, "ip: must be a valid IP address, got \"\"");
        }
}
