/* SPDX-License-Identifier: Apache-2.0 */
/* v1 Container: YAML mapping -> struct kl_container, with the checks that
 * need nothing outside the container. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "manifests/names.h"
#include "manifests/quantity.h"
#include "manifests/schema.h"
#include "manifests/strv.h"

enum probe_kind {
        PROBE_LIVENESS,
        PROBE_READINESS,
        PROBE_STARTUP,
        LIFECYCLE
};

void kl__quantity_error(struct kl__dec *d, const struct kl_yaml_node *v, const char *text, int r) {
        if (r == -EDOM)
                kl__dec_error(d, v->pos, "quantity %s must be greater than or equal to 0", kl__dec_q(d, text));
        else if (r == -ERANGE)
                kl__dec_error(d, v->pos, "quantity %s is too large", kl__dec_q(d, text));
        else
                kl__dec_error(d, v->pos, "invalid quantity %s", kl__dec_q(d, text));
}

/* ---- resources ------------------------------------------------------------ */

#define MAX_EXTENDED 16

struct res_pos {
        const struct kl_yaml_node *cpu, *memory, *ephemeral;
        struct {
                const char *name;
                const struct kl_yaml_node *key, *value;
                int64_t count;
        } ext[MAX_EXTENDED];
        size_t n_ext;
};

/* upstream's validateContainerResourceName and ValidateResourceQuantityValue
 * (pkg/apis/core/validation) for a name with a '/': an extended resource,
 * counted in whole, non-negative numbers. */
static void decode_extended(struct kl__dec *d, const struct kl__field *f, struct res_pos *pos) {
        const char *text;
        int64_t milli;
        int r;

        if (strstr(f->name, "kubernetes.io/") || strncmp(f->name, "requests.", 9) == 0) {
                kl__dec_error(d, f->key->pos, "%s: must be a standard resource type or fully qualified",
                              kl__dec_q(d, f->name));
                return;
        }
        if (!kl_is_extended_resource_name(f->name)) {
                kl__dec_error(d, f->key->pos, "%s: doesn't follow extended resource name standard",
                              kl__dec_q(d, f->name));
                return;
        }
        if (!kl__dec_scalar_text(d, f->value, &text))
                return;
        r = kl_quantity_parse_milli(text, &milli);
        if (r < 0) {
                kl__quantity_error(d, f->value, text, r);
                return;
        }
        if (milli % 1000 != 0) {
                kl__dec_error(d, f->value->pos, "%s: must be an integer", kl__dec_q(d, text));
                return;
        }
        if (pos->n_ext == MAX_EXTENDED) {
                kl__dec_error(d, f->key->pos, "at most %d extended resources per container", MAX_EXTENDED);
                return;
        }
        pos->ext[pos->n_ext].name = f->name;
        pos->ext[pos->n_ext].key = f->key;
        pos->ext[pos->n_ext].value = f->value;
        pos->ext[pos->n_ext++].count = milli / 1000;
}

static void decode_resource_list(struct kl__dec *d, const struct kl_yaml_node *v, int64_t *cpu, int64_t *memory,
                                 int64_t *ephemeral, struct res_pos *pos) {
        static const char *const known[] = {"cpu", "memory", "ephemeral-storage", NULL};

        if (!kl__dec_map(d, v))
                return;
        KL__FOREACH_FIELD(d, v, f) {
                const char *text;
                int64_t x;
                int r;
                bool is_cpu = streq(f.name, "cpu");

                if (!is_cpu && !streq(f.name, "memory") && !streq(f.name, "ephemeral-storage")) {
                        if (strncmp(f.name, "hugepages-", 10) == 0)
                                kl__dec_unsupported(d, f.key, true, "hugepages resources");
                        else if (strchr(f.name, '/'))
                                decode_extended(d, &f, pos);
                        else
                                kl__dec_unknown(d, f.key, known);
                        continue;
                }
                if (!kl__dec_scalar_text(d, f.value, &text))
                        continue;
                r = is_cpu ? kl_quantity_parse_milli(text, &x) : kl_quantity_parse_value(text, &x);
                if (r < 0) {
                        kl__quantity_error(d, f.value, text, r);
                        continue;
                }
                if (is_cpu) {
                        *cpu = x;
                        pos->cpu = f.value;
                } else if (streq(f.name, "memory")) {
                        *memory = x;
                        pos->memory = f.value;
                } else {
                        *ephemeral = x;
                        pos->ephemeral = f.value;
                }
        }
}

static void check_limit(struct kl__dec *d, const char *name, int64_t *req, int64_t lim,
                        const struct kl_yaml_node *req_node, const struct kl_yaml_node *lim_node) {
        /* upstream's defaulting: a request left out equals the limit */
        if (*req < 0) {
                *req = lim;
                return;
        }
        if (lim >= 0 && *req > lim && req_node && lim_node) {
                size_t saved = kl__dec_push(d, "requests");
                kl__dec_push(d, name);
                kl__dec_error(d, req_node->pos, "request %s must be less than or equal to the limit %s",
                              kl__dec_q(d, req_node->scalar.value), kl__dec_q(d, lim_node->scalar.value));
                kl__dec_pop(d, saved);
        }
}

static void decode_resources(struct kl__dec *d, const struct kl_yaml_node *v, struct kl_container *c) {
        struct kl_resources *r = &c->resources;
        static const char *const known[] = {"limits", "requests", "claims", NULL};
        struct res_pos rp = {0}, lp = {0};

        if (!kl__dec_map(d, v))
                return;
        KL__FOREACH_FIELD(d, v, f) {
                if (streq(f.name, "requests"))
                        decode_resource_list(d, f.value, &r->cpu_request_milli, &r->memory_request,
                                             &r->ephemeral_request, &rp);
                else if (streq(f.name, "limits"))
                        decode_resource_list(d, f.value, &r->cpu_limit_milli, &r->memory_limit, &r->ephemeral_limit,
                                             &lp);
                else if (streq(f.name, "claims"))
                        kl__dec_unsupported(d, f.key, true, "dynamic resource claims");
                else
                        kl__dec_unknown(d, f.key, known);
        }
        if (r->cpu_limit_milli >= 0)
                check_limit(d, "cpu", &r->cpu_request_milli, r->cpu_limit_milli, rp.cpu, lp.cpu);
        if (r->memory_limit >= 0)
                check_limit(d, "memory", &r->memory_request, r->memory_limit, rp.memory, lp.memory);
        if (r->ephemeral_limit >= 0)
                check_limit(d, "ephemeral-storage", &r->ephemeral_request, r->ephemeral_limit, rp.ephemeral,
                            lp.ephemeral);

        /* Extended resources cannot be overcommitted: a request needs a
         * limit and equals it; a limit alone is also the request
         * (upstream's validateResourceRequirements and defaulting). */
        for (size_t i = 0; i < rp.n_ext; i++) {
                bool found = false;
                for (size_t k = 0; k < lp.n_ext && !found; k++)
                        if (streq(lp.ext[k].name, rp.ext[i].name)) {
                                found = true;
                                if (lp.ext[k].count != rp.ext[i].count) {
                                        size_t saved = kl__dec_push(d, "requests");
                                        kl__dec_error(d, rp.ext[i].value->pos, "%s: must be equal to %s limit of %s",
                                                      kl__dec_q(d, rp.ext[i].value->scalar.value), rp.ext[i].name,
                                                      kl__dec_q(d, lp.ext[k].value->scalar.value));
                                        kl__dec_pop(d, saved);
                                }
                        }
                if (!found) {
                        size_t saved = kl__dec_push(d, "limits");
                        kl__dec_error(d, rp.ext[i].key->pos, "%s: Limit must be set for non overcommitable resources",
                                      rp.ext[i].name);
                        kl__dec_pop(d, saved);
                }
        }
        if (lp.n_ext > 0 && !(c->extended = kl__dec_calloc(d, lp.n_ext, sizeof(*c->extended))))
                return;
        for (size_t k = 0; k < lp.n_ext; k++) {
                c->extended[k].name = kl__dec_strdup(d, lp.ext[k].name);
                c->extended[k].count = lp.ext[k].count;
                c->n_extended++;
        }
}

/* ---- env, ports, mounts --------------------------------------------------- */

static void decode_env(struct kl__dec *d, const struct kl_yaml_node *v, struct kl_container *c) {
        static const char *const known[] = {"name", "value", "valueFrom", NULL};
        static const char *const from_known[] = {"fieldRef",         "configMapKeyRef", "secretKeyRef",
                                                 "resourceFieldRef", "fileKeyRef",      NULL};

        if (!kl__dec_seq(d, v) || !(c->env = kl__dec_calloc(d, v->seq.n, sizeof(*c->env))))
                return;
        KL__FOREACH_ITEM(d, v, it) {
                struct kl_env *e = &c->env[c->n_env++];
                bool has_from = false;

                e->pos = it.value->pos;
                if (!kl__dec_map(d, it.value)) {
                        if (kl_yaml_is_null(it.value))
                                kl__dec_error(d, it.value->pos, "expected a mapping, got null");
                        continue;
                }
                KL__FOREACH_FIELD(d, it.value, f) {
                        if (streq(f.name, "name")) {
                                if (!kl__dec_str(d, f.value, &e->name))
                                        continue;
                                if (kl_check_env_name(e->name))
                                        kl__dec_error(d, f.value->pos, "invalid name %s: %s", kl__dec_q(d, e->name),
                                                      kl_check_env_name(e->name));
                                for (size_t k = 0; k + 1 < c->n_env; k++)
                                        if (streq_ptr(c->env[k].name, e->name)) {
                                                /* as upstream since 1.29: allowed, the last one wins */
                                                kl__dec_warning(d, f.value->pos,
                                                                "duplicate name %s: the last value wins",
                                                                kl__dec_q(d, e->name));
                                                break;
                                        }
                        } else if (streq(f.name, "value"))
                                kl__dec_str(d, f.value, &e->value);
                        else if (streq(f.name, "valueFrom")) {
                                if (!kl__dec_map(d, f.value))
                                        continue;
                                has_from = true;
                                size_t n_src = 0;
                                KL__FOREACH_FIELD(d, f.value, g) {
                                        n_src++;
                                        if (streq(g.name, "fieldRef"))
                                                kl__decode_field_ref(d, g.value, false, &e->field_ref);
                                        else if (streq(g.name, "resourceFieldRef"))
                                                kl__decode_resource_ref(d, g.value, false, &e->resource_ref);
                                        else if (streq(g.name, "fileKeyRef"))
                                                kl__dec_newer(d, g.key, 34);
                                        else if (streq(g.name, "configMapKeyRef") || streq(g.name, "secretKeyRef"))
                                                kl__dec_unsupported(d, g.key, true,
                                                                    "static pods cannot refer to API objects");
                                        else
                                                kl__dec_unknown(d, g.key, from_known);
                                }
                                const struct kl_yaml_node *fk = kl_yaml_map_get(f.value, "fileKeyRef");
                                if (fk)
                                        n_src--; /* dropped as unknown by a v1.30 kubelet */
                                if (n_src != 1)
                                        kl__dec_error(d, f.value->pos, "must specify exactly one source");
                        } else
                                kl__dec_unknown(d, f.key, known);
                }
                if (!e->name)
                        kl__dec_error(d, it.value->pos, "name is required");
                if (has_from && e->value && e->value[0])
                        kl__dec_error(d, it.value->pos, "valueFrom may not be specified when value is not empty");
                if (has_from && e->value) {
                        free(e->value);
                        e->value = NULL;
                }
                if (!has_from && !e->value)
                        e->value = kl__dec_strdup(d, "");
        }
}

static void decode_ports(struct kl__dec *d, const struct kl_yaml_node *v, struct kl_container *c) {
        static const char *const known[] = {"name", "containerPort", "hostPort", "protocol", "hostIP", NULL};
        static const char *const protocols[] = {"TCP", "UDP", "SCTP", NULL};

        if (!kl__dec_seq(d, v) || !(c->ports = kl__dec_calloc(d, v->seq.n, sizeof(*c->ports))))
                return;
        KL__FOREACH_ITEM(d, v, it) {
                struct kl_port *p = &c->ports[c->n_ports++];
                int idx;

                p->pos = it.value->pos;
                if (!kl__dec_map(d, it.value))
                        continue;
                KL__FOREACH_FIELD(d, it.value, f) {
                        if (streq(f.name, "name")) {
                                if (!kl__dec_str(d, f.value, &p->name))
                                        continue;
                                if (kl_check_port_name(p->name))
                                        kl__dec_error(d, f.value->pos, "invalid port name %s: %s",
                                                      kl__dec_q(d, p->name), kl_check_port_name(p->name));
                                for (size_t k = 0; k + 1 < c->n_ports; k++)
                                        if (streq_ptr(c->ports[k].name, p->name))
                                                kl__dec_error(d, f.value->pos, "duplicate port name %s",
                                                              kl__dec_q(d, p->name));
                        } else if (streq(f.name, "containerPort"))
                                kl__dec_int32(d, f.value, 1, 65535, &p->container_port);
                        else if (streq(f.name, "hostPort"))
                                kl__dec_int32(d, f.value, 0, 65535, &p->host_port);
                        else if (streq(f.name, "protocol")) {
                                if (kl__dec_enum(d, f.value, protocols, &idx))
                                        p->protocol = kl__dec_strdup(d, protocols[idx]);
                        } else if (streq(f.name, "hostIP")) {
                                if (kl__dec_str(d, f.value, &p->host_ip) && !kl_is_ip_address(p->host_ip))
                                        kl__dec_error(d, f.value->pos, "must be a valid IP address, got %s",
                                                      kl__dec_q(d, p->host_ip));
                        } else
                                kl__dec_unknown(d, f.key, known);
                }
                const struct kl_yaml_node *cp = kl_yaml_map_get(it.value, "containerPort");
                if (!cp || kl_yaml_is_null(cp))
                        kl__dec_error(d, it.value->pos, "containerPort is required");
                if (!p->protocol)
                        p->protocol = kl__dec_strdup(d, "TCP");
        }
}

static void decode_mounts(struct kl__dec *d, const struct kl_yaml_node *v, struct kl_container *c) {
        static const char *const known[] = {
                "name",        "mountPath",         "subPath", "readOnly", "mountPropagation",
                "subPathExpr", "recursiveReadOnly", NULL};

        if (!kl__dec_seq(d, v) || !(c->volume_mounts = kl__dec_calloc(d, v->seq.n, sizeof(*c->volume_mounts))))
                return;
        KL__FOREACH_ITEM(d, v, it) {
                struct kl_volume_mount *m = &c->volume_mounts[c->n_volume_mounts++];

                m->pos = it.value->pos;
                if (!kl__dec_map(d, it.value))
                        continue;
                KL__FOREACH_FIELD(d, it.value, f) {
                        if (streq(f.name, "name"))
                                kl__dec_str(d, f.value, &m->name);
                        else if (streq(f.name, "mountPath")) {
                                if (!kl__dec_str(d, f.value, &m->mount_path))
                                        continue;
                                if (!kl_path_is_absolute_clean(m->mount_path))
                                        kl__dec_error(d, f.value->pos, "must be an absolute path without '..', got %s",
                                                      kl__dec_q(d, m->mount_path));
                                for (size_t k = 0; k + 1 < c->n_volume_mounts; k++)
                                        if (streq_ptr(c->volume_mounts[k].mount_path, m->mount_path))
                                                kl__dec_error(d, f.value->pos, "must be unique, %s is mounted twice",
                                                              kl__dec_q(d, m->mount_path));
                        } else if (streq(f.name, "subPath")) {
                                if (kl__dec_str(d, f.value, &m->sub_path) &&
                                    (m->sub_path[0] == '/' || kl_path_has_dotdot(m->sub_path)))
                                        kl__dec_error(d, f.value->pos, "must be a relative path without '..', got %s",
                                                      kl__dec_q(d, m->sub_path));
                        } else if (streq(f.name, "readOnly"))
                                kl__dec_bool(d, f.value, &m->read_only);
                        else if (streq(f.name, "mountPropagation")) {
                                static const char *const modes[] = {"None", "HostToContainer", "Bidirectional", NULL};
                                int idx;
                                if (kl__dec_enum(d, f.value, modes, &idx))
                                        m->propagation = (enum kl_mount_propagation) idx;
                        } else if (streq(f.name, "subPathExpr") || streq(f.name, "recursiveReadOnly"))
                                kl__dec_unsupported(d, f.key, true, NULL);
                        else
                                kl__dec_unknown(d, f.key, known);
                }
                if (!m->name)
                        kl__dec_error(d, it.value->pos, "name is required");
                if (!m->mount_path)
                        kl__dec_error(d, it.value->pos, "mountPath is required");
        }
}

/* ---- handlers and probes -------------------------------------------------- */

static void decode_port_ref(struct kl__dec *d, const struct kl_yaml_node *v, struct kl_handler *h) {
        if (!v)
                return;
        if (v && v->type == KL_YAML_SCALAR && v->scalar.kind == KL_YAML_INT) {
                kl__dec_int32(d, v, 1, 65535, &h->port);
                return;
        }
        if (!kl__dec_str(d, v, &h->port_name))
                return;
        if (kl_check_port_name(h->port_name))
                kl__dec_error(d, v->pos, "must be a port number or a port name, got %s: %s", kl__dec_q(d, h->port_name),
                              kl_check_port_name(h->port_name));
}

static void decode_http_get(struct kl__dec *d, const struct kl_yaml_node *v, struct kl_handler *h) {
        static const char *const known[] = {"path", "port", "host", "scheme", "httpHeaders", NULL};
        static const char *const schemes[] = {"HTTP", "HTTPS", NULL};
        static const char *const hdr_known[] = {"name", "value", NULL};
        bool has_port = false;
        int idx;

        h->kind = KL_HANDLER_HTTP_GET;
        if (!kl__dec_map(d, v))
                return;
        KL__FOREACH_FIELD(d, v, f) {
                if (streq(f.name, "path"))
                        kl__dec_str(d, f.value, &h->path);
                else if (streq(f.name, "port")) {
                        has_port = !kl_yaml_is_null(f.value);
                        decode_port_ref(d, f.value, h);
                } else if (streq(f.name, "host"))
                        kl__dec_str(d, f.value, &h->host);
                else if (streq(f.name, "scheme")) {
                        if (kl__dec_enum(d, f.value, schemes, &idx))
                                h->scheme = kl__dec_strdup(d, schemes[idx]);
                } else if (streq(f.name, "httpHeaders")) {
                        if (!kl__dec_seq(d, f.value) ||
                            !(h->http_headers = kl__dec_calloc(d, f.value->seq.n, sizeof(struct kl_kv))))
                                continue;
                        KL__FOREACH_ITEM(d, f.value, it) {
                                struct kl_kv *kv = &h->http_headers[h->n_http_headers++];
                                if (!kl__dec_map(d, it.value))
                                        continue;
                                KL__FOREACH_FIELD(d, it.value, g) {
                                        if (streq(g.name, "name")) {
                                                if (kl__dec_str(d, g.value, &kv->key) &&
                                                    kl_check_http_header_name(kv->key))
                                                        kl__dec_error(d, g.value->pos, "invalid header name %s",
                                                                      kl__dec_q(d, kv->key));
                                        } else if (streq(g.name, "value"))
                                                kl__dec_str(d, g.value, &kv->value);
                                        else
                                                kl__dec_unknown(d, g.key, hdr_known);
                                }
                                if (!kv->key)
                                        kl__dec_error(d, it.value->pos, "name is required");
                                if (!kv->value)
                                        kv->value = kl__dec_strdup(d, "");
                        }
                } else
                        kl__dec_unknown(d, f.key, known);
        }
        if (!has_port)
                kl__dec_error(d, v->pos, "port is required");
        /* upstream's defaults */
        if (!h->path)
                h->path = kl__dec_strdup(d, "/");
        if (!h->scheme)
                h->scheme = kl__dec_strdup(d, "HTTP");
}

static void decode_tcp(struct kl__dec *d, const struct kl_yaml_node *v, struct kl_handler *h) {
        static const char *const known[] = {"port", "host", NULL};
        bool has_port = false;

        h->kind = KL_HANDLER_TCP_SOCKET;
        if (!kl__dec_map(d, v))
                return;
        KL__FOREACH_FIELD(d, v, f) {
                if (streq(f.name, "port")) {
                        has_port = !kl_yaml_is_null(f.value);
                        decode_port_ref(d, f.value, h);
                } else if (streq(f.name, "host"))
                        kl__dec_str(d, f.value, &h->host);
                else
                        kl__dec_unknown(d, f.key, known);
        }
        if (!has_port)
                kl__dec_error(d, v->pos, "port is required");
}

static void decode_exec(struct kl__dec *d, const struct kl_yaml_node *v, struct kl_handler *h) {
        static const char *const known[] = {"command", NULL};

        h->kind = KL_HANDLER_EXEC;
        if (!kl__dec_map(d, v))
                return;
        KL__FOREACH_FIELD(d, v, f) {
                if (streq(f.name, "command"))
                        kl__dec_strv(d, f.value, &h->exec_command);
                else
                        kl__dec_unknown(d, f.key, known);
        }
        if (kl__strv_length(h->exec_command) == 0)
                kl__dec_error(d, v->pos, "command is required");
}

static void decode_sleep(struct kl__dec *d, const struct kl_yaml_node *v, struct kl_handler *h) {
        static const char *const known[] = {"seconds", NULL};

        h->kind = KL_HANDLER_SLEEP;
        h->sleep_seconds = -1;
        if (!kl__dec_map(d, v))
                return;
        KL__FOREACH_FIELD(d, v, f) {
                if (streq(f.name, "seconds"))
                        kl__dec_int(d, f.value, 0, INT64_MAX, &h->sleep_seconds);
                else
                        kl__dec_unknown(d, f.key, known);
        }
        if (h->sleep_seconds < 0) {
                kl__dec_error(d, v->pos, "seconds is required");
                h->sleep_seconds = 0;
        }
}

/* upstream's GRPCAction: port (a number, no named ports) and service. */
static void decode_grpc(struct kl__dec *d, const struct kl_yaml_node *v, struct kl_handler *h) {
        static const char *const known[] = {"port", "service", NULL};
        bool has_port = false;

        h->kind = KL_HANDLER_GRPC;
        if (!kl__dec_map(d, v))
                return;
        KL__FOREACH_FIELD(d, v, f) {
                if (streq(f.name, "port")) {
                        has_port = !kl_yaml_is_null(f.value);
                        if (has_port)
                                kl__dec_int32(d, f.value, 1, 65535, &h->port);
                } else if (streq(f.name, "service"))
                        kl__dec_str(d, f.value, &h->path);
                else
                        kl__dec_unknown(d, f.key, known);
        }
        if (!has_port)
                kl__dec_error(d, v->pos, "port is required");
}

/* One handler field of a probe or lifecycle hook; false when name is none. */
static bool decode_handler_field(struct kl__dec *d, const struct kl__field *f, struct kl_handler *h,
                                 enum probe_kind kind, unsigned *n) {
        if (streq(f->name, "exec"))
                decode_exec(d, f->value, h);
        else if (streq(f->name, "httpGet"))
                decode_http_get(d, f->value, h);
        else if (streq(f->name, "tcpSocket")) {
                if (kind == LIFECYCLE)
                        kl__dec_warning(d, f->key->pos,
                                        "tcpSocket lifecycle handlers are deprecated (they only "
                                        "check the port)");
                decode_tcp(d, f->value, h);
        } else if (streq(f->name, "sleep") && kind == LIFECYCLE)
                decode_sleep(d, f->value, h);
        else if (streq(f->name, "grpc") && kind != LIFECYCLE)
                decode_grpc(d, f->value, h);
        else
                return false;
        (*n)++;
        return true;
}

static void decode_probe(struct kl__dec *d, const struct kl_yaml_node *v, struct kl_probe *p, enum probe_kind kind) {
        static const char *const known[] = {"exec",
                                            "httpGet",
                                            "tcpSocket",
                                            "grpc",
                                            "initialDelaySeconds",
                                            "timeoutSeconds",
                                            "periodSeconds",
                                            "successThreshold",
                                            "failureThreshold",
                                            "terminationGracePeriodSeconds",
                                            NULL};
        unsigned n = 0;

        if (!kl__dec_map(d, v))
                return;
        p->set = true;
        p->pos = v->pos;
        p->handler.pos = v->pos;
        p->termination_grace_period_seconds = -1;
        KL__FOREACH_FIELD(d, v, f) {
                if (decode_handler_field(d, &f, &p->handler, kind, &n))
                        continue;
                if (streq(f.name, "initialDelaySeconds"))
                        kl__dec_int32(d, f.value, 0, INT32_MAX, &p->initial_delay_seconds);
                else if (streq(f.name, "timeoutSeconds"))
                        kl__dec_int32(d, f.value, 0, INT32_MAX, &p->timeout_seconds);
                else if (streq(f.name, "periodSeconds"))
                        kl__dec_int32(d, f.value, 0, INT32_MAX, &p->period_seconds);
                else if (streq(f.name, "successThreshold"))
                        kl__dec_int32(d, f.value, 0, INT32_MAX, &p->success_threshold);
                else if (streq(f.name, "failureThreshold"))
                        kl__dec_int32(d, f.value, 0, INT32_MAX, &p->failure_threshold);
                else if (streq(f.name, "terminationGracePeriodSeconds")) {
                        if (kind == PROBE_READINESS)
                                kl__dec_error(d, f.key->pos, "must not be set for readinessProbes");
                        else
                                kl__dec_int(d, f.value, 1, INT64_MAX, &p->termination_grace_period_seconds);
                } else
                        kl__dec_unknown(d, f.key, known);
        }
        if (n == 0)
                kl__dec_error(d, v->pos, "must specify a handler type (exec, httpGet, tcpSocket or grpc)");
        else if (n > 1)
                kl__dec_error(d, v->pos, "may not specify more than 1 handler type");

        /* upstream's defaults: 0 means unset */
        if (p->timeout_seconds == 0)
                p->timeout_seconds = 1;
        if (p->period_seconds == 0)
                p->period_seconds = 10;
        if (p->success_threshold == 0)
                p->success_threshold = 1;
        if (p->failure_threshold == 0)
                p->failure_threshold = 3;
        if (kind != PROBE_READINESS && p->success_threshold != 1) {
                size_t saved = kl__dec_push(d, "successThreshold");
                const struct kl_yaml_node *st = kl_yaml_map_get(v, "successThreshold");
                kl__dec_error(d, st ? st->pos : v->pos, "must be 1 for liveness and startup probes");
                kl__dec_pop(d, saved);
        }
}

static void decode_lifecycle(struct kl__dec *d, const struct kl_yaml_node *v, struct kl_container *c) {
        static const char *const known[] = {"postStart", "preStop", "stopSignal", NULL};
        static const char *const hknown[] = {"exec", "httpGet", "tcpSocket", "sleep", NULL};

        if (!kl__dec_map(d, v))
                return;
        KL__FOREACH_FIELD(d, v, f) {
                struct kl_handler *h = streq(f.name, "postStart") ? &c->post_start
                                       : streq(f.name, "preStop") ? &c->pre_stop
                                                                  : NULL;
                unsigned n = 0;
                if (!h) {
                        if (streq(f.name, "stopSignal"))
                                kl__dec_newer(d, f.key, 33);
                        else
                                kl__dec_unknown(d, f.key, known);
                        continue;
                }
                if (!kl__dec_map(d, f.value))
                        continue;
                h->pos = f.value->pos;
                KL__FOREACH_FIELD(d, f.value, g)
                if (!decode_handler_field(d, &g, h, LIFECYCLE, &n))
                        kl__dec_unknown(d, g.key, hknown);
                if (n == 0)
                        kl__dec_error(d, f.value->pos,
                                      "must specify a handler type (exec, httpGet, tcpSocket or sleep)");
                else if (n > 1)
                        kl__dec_error(d, f.value->pos, "may not specify more than 1 handler type");
        }
}

/* ---- container ------------------------------------------------------------ */

/* upstream: Always for ":latest" or no tag (unless pinned by digest only) */
static enum kl_pull_policy default_pull_policy(const char *image) {
        const char *slash = strrchr(image, '/');
        const char *name = slash ? slash + 1 : image;
        const char *at = strchr(name, '@');
        const char *colon = strchr(name, ':');

        if (colon && at && colon > at)
                colon = NULL; /* the ':' of "sha256:..." */
        if (!colon)
                return at ? KL_PULL_IF_NOT_PRESENT : KL_PULL_ALWAYS;
        size_t n = at ? (size_t) (at - colon - 1) : strlen(colon + 1);
        if (n == 6 && strncmp(colon + 1, "latest", 6) == 0)
                return KL_PULL_ALWAYS;
        return KL_PULL_IF_NOT_PRESENT;
}

static const char *const container_known[] = {"name",
                                              "image",
                                              "imagePullPolicy",
                                              "command",
                                              "args",
                                              "workingDir",
                                              "env",
                                              "envFrom",
                                              "ports",
                                              "resources",
                                              "volumeMounts",
                                              "volumeDevices",
                                              "livenessProbe",
                                              "readinessProbe",
                                              "startupProbe",
                                              "lifecycle",
                                              "securityContext",
                                              "restartPolicy",
                                              "terminationMessagePath",
                                              "terminationMessagePolicy",
                                              "stdin",
                                              "stdinOnce",
                                              "tty",
                                              "resizePolicy",
                                              "restartPolicyRules",
                                              NULL};

void kl__decode_container(struct kl__dec *d, const struct kl_yaml_node *v, bool init, struct kl_container *c) {
        static const char *const pull[] = {"IfNotPresent", "Always", "Never", NULL};
        static const char *const tmp[] = {"File", "FallbackToLogsOnError", NULL};
        static const char *const restart[] = {"", "Always", NULL};
        bool pull_set = false;
        int idx;

        c->resources = (struct kl_resources){-1, -1, -1, -1, -1, -1};
        c->security_context.privileged = -1;
        c->security_context.run_as_user = -1;
        c->security_context.run_as_group = -1;
        c->security_context.run_as_non_root = -1;
        c->security_context.read_only_root_filesystem = -1;
        c->security_context.allow_privilege_escalation = -1;
        c->pos = v->pos;

        KL__FOREACH_FIELD(d, v, f) {
                const char *n = f.name;
                if (streq(n, "name")) {
                        if (kl__dec_str(d, f.value, &c->name) && kl_check_dns1123_label(c->name))
                                kl__dec_error(d, f.value->pos, "invalid name %s: %s", kl__dec_q(d, c->name),
                                              kl_check_dns1123_label(c->name));
                } else if (streq(n, "image")) {
                        if (!kl__dec_str(d, f.value, &c->image))
                                continue;
                        size_t l = strlen(c->image);
                        if (l > 0 && (strchr(" \t\n\r", c->image[0]) || strchr(" \t\n\r", c->image[l - 1])))
                                kl__dec_error(d, f.value->pos, "must not have leading or trailing whitespace");
                } else if (streq(n, "imagePullPolicy")) {
                        if (kl__dec_enum(d, f.value, pull, &idx)) {
                                c->image_pull_policy = (enum kl_pull_policy) idx;
                                pull_set = true;
                        }
                } else if (streq(n, "command"))
                        kl__dec_strv(d, f.value, &c->command);
                else if (streq(n, "args"))
                        kl__dec_strv(d, f.value, &c->args);
                else if (streq(n, "workingDir"))
                        kl__dec_str(d, f.value, &c->working_dir);
                else if (streq(n, "env"))
                        decode_env(d, f.value, c);
                else if (streq(n, "ports"))
                        decode_ports(d, f.value, c);
                else if (streq(n, "resources"))
                        decode_resources(d, f.value, c);
                else if (streq(n, "volumeMounts"))
                        decode_mounts(d, f.value, c);
                else if (streq(n, "livenessProbe"))
                        decode_probe(d, f.value, &c->liveness, PROBE_LIVENESS);
                else if (streq(n, "readinessProbe"))
                        decode_probe(d, f.value, &c->readiness, PROBE_READINESS);
                else if (streq(n, "startupProbe"))
                        decode_probe(d, f.value, &c->startup, PROBE_STARTUP);
                else if (streq(n, "lifecycle"))
                        decode_lifecycle(d, f.value, c);
                else if (streq(n, "securityContext"))
                        kl__decode_security_context(d, f.value, &c->security_context);
                else if (streq(n, "restartPolicy")) {
                        if (!init && !kl_yaml_is_null(f.value))
                                kl__dec_error(d, f.value->pos, "may only be set for init containers");
                        else if (kl__dec_enum(d, f.value, restart, &idx) && idx == 1)
                                c->restart_policy = KL_RESTART_ALWAYS;
                } else if (streq(n, "terminationMessagePath")) {
                        if (kl__dec_str(d, f.value, &c->termination_message_path) &&
                            (!kl_path_is_absolute_clean(c->termination_message_path) ||
                             strlen(c->termination_message_path) > 4096))
                                kl__dec_error(d, f.value->pos, "must be an absolute path without '..'");
                } else if (streq(n, "terminationMessagePolicy")) {
                        if (kl__dec_enum(d, f.value, tmp, &idx))
                                c->termination_message_policy = (enum kl_termination_message_policy) idx;
                } else if (streq(n, "stdin"))
                        kl__dec_bool(d, f.value, &c->stdin);
                else if (streq(n, "stdinOnce"))
                        kl__dec_bool(d, f.value, &c->stdin_once);
                else if (streq(n, "tty"))
                        kl__dec_bool(d, f.value, &c->tty);
                else if (streq(n, "envFrom") || streq(n, "volumeDevices"))
                        kl__dec_unsupported(d, f.key, true, NULL);
                else if (streq(n, "restartPolicyRules"))
                        kl__dec_newer(d, f.key, 34);
                else if (streq(n, "resizePolicy"))
                        kl__dec_unsupported(d, f.key, false, "resources are never resized in place");
                else
                        kl__dec_unknown(d, f.key, container_known);
        }

        if (!c->name)
                kl__dec_error(d, v->pos, "name is required");
        if (!c->image || !c->image[0]) {
                size_t saved = kl__dec_push(d, "image");
                const struct kl_yaml_node *im = kl_yaml_map_get(v, "image");
                kl__dec_error(d, im && !kl_yaml_is_null(im) ? im->pos : v->pos, "must not be empty");
                kl__dec_pop(d, saved);
        } else if (!pull_set)
                c->image_pull_policy = default_pull_policy(c->image);
        if (!c->termination_message_path)
                c->termination_message_path = kl__dec_strdup(d, "/dev/termination-log");
}
