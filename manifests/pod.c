/* SPDX-License-Identifier: Apache-2.0 */
/* The Pod model: destructor, deep copy, QoS class and effective resources. */
#include "manifests/pod.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/macros.h"
#include "manifests/strv.h"

/* ---- free ---------------------------------------------------------------- */

static void kv_free(struct kl_kv *kv, size_t n) {
        for (size_t i = 0; kv && i < n; i++) {
                free(kv[i].key);
                free(kv[i].value);
        }
        free(kv);
}

static void resource_ref_done(struct kl_resource_ref *r) {
        free(r->resource);
        free(r->container_name);
}

static void handler_done(struct kl_handler *h) {
        kl__strv_free(h->exec_command);
        free(h->host);
        free(h->path);
        free(h->port_name);
        free(h->scheme);
        kv_free(h->http_headers, h->n_http_headers);
}

static void container_done(struct kl_container *c) {
        free(c->name);
        free(c->image);
        kl__strv_free(c->command);
        kl__strv_free(c->args);
        free(c->working_dir);
        for (size_t i = 0; i < c->n_env; i++) {
                free(c->env[i].name);
                free(c->env[i].value);
                free(c->env[i].field_ref);
                resource_ref_done(&c->env[i].resource_ref);
        }
        free(c->env);
        for (size_t i = 0; i < c->n_ports; i++) {
                free(c->ports[i].name);
                free(c->ports[i].protocol);
                free(c->ports[i].host_ip);
        }
        free(c->ports);
        for (size_t i = 0; i < c->n_volume_mounts; i++) {
                free(c->volume_mounts[i].name);
                free(c->volume_mounts[i].mount_path);
                free(c->volume_mounts[i].sub_path);
        }
        free(c->volume_mounts);
        handler_done(&c->liveness.handler);
        handler_done(&c->readiness.handler);
        handler_done(&c->startup.handler);
        handler_done(&c->post_start);
        handler_done(&c->pre_stop);
        kl__strv_free(c->security_context.capabilities_add);
        kl__strv_free(c->security_context.capabilities_drop);
        free(c->security_context.seccomp_localhost_profile);
        free(c->termination_message_path);
        for (size_t i = 0; i < c->n_extended; i++)
                free(c->extended[i].name);
        free(c->extended);
}

struct kl_pod *kl_pod_free(struct kl_pod *p) {
        if (!p)
                return NULL;
        free(p->name);
        free(p->namespace);
        kv_free(p->labels, p->n_labels);
        kv_free(p->annotations, p->n_annotations);
        free(p->full_name);
        free(p->uid);
        free(p->config_hash);
        free(p->source);
        free(p->node_name);
        for (size_t i = 0; i < p->n_containers; i++)
                container_done(&p->containers[i]);
        free(p->containers);
        for (size_t i = 0; i < p->n_init_containers; i++)
                container_done(&p->init_containers[i]);
        free(p->init_containers);
        free(p->hostname);
        free(p->subdomain);
        kl__strv_free(p->dns_config.nameservers);
        kl__strv_free(p->dns_config.searches);
        kv_free(p->dns_config.options, p->dns_config.n_options);
        for (size_t i = 0; i < p->n_volumes; i++) {
                free(p->volumes[i].name);
                free(p->volumes[i].host_path);
                for (size_t k = 0; k < p->volumes[i].n_items; k++) {
                        free(p->volumes[i].items[k].path);
                        free(p->volumes[i].items[k].field_ref);
                        resource_ref_done(&p->volumes[i].items[k].resource_ref);
                }
                free(p->volumes[i].items);
        }
        free(p->volumes);
        for (size_t i = 0; i < p->n_host_aliases; i++) {
                free(p->host_aliases[i].ip);
                kl__strv_free(p->host_aliases[i].hostnames);
        }
        free(p->host_aliases);
        free(p->service_account_name);
        free(p->security_context.supplemental_groups);
        free(p->security_context.seccomp_localhost_profile);
        kv_free(p->security_context.sysctls, p->security_context.n_sysctls);
        free(p->priority_class_name);
        free(p);
        return NULL;
}

/* ---- dup ----------------------------------------------------------------- */

/* Copies share one "ok" flag: the first failed allocation clears it and the
 * half-built copy is freed as a whole, since every pointer starts out NULL. */

static char *dup_str(bool *ok, const char *s) {
        char *c;
        if (!s)
                return NULL;
        c = strdup(s);
        if (!c)
                *ok = false;
        return c;
}

static char **dup_strv(bool *ok, char *const *v) {
        char **c = NULL;
        if (kl__strv_dup(v, &c) < 0)
                *ok = false;
        return c;
}

/* calloc'ed copy of n elements of size sz; the caller then deep-copies members. */
static void *dup_array(bool *ok, const void *a, size_t n, size_t sz) {
        void *c;
        if (!a || n == 0)
                return NULL;
        c = calloc(n, sz);
        if (!c) {
                *ok = false;
                return NULL;
        }
        memcpy(c, a, n * sz);
        return c;
}

/* Shallow-copied arrays hold the source's pointers until deep-copied; on
 * allocation failure the array is reset to empty so nothing is freed twice. */
#define DUP_ARRAY(ok, dst, src, field, nfield)                                                    \
        do {                                                                                      \
                (dst)->field = dup_array(ok, (src)->field, (src)->nfield, sizeof(*(src)->field)); \
                if (!(dst)->field)                                                                \
                        (dst)->nfield = 0;                                                        \
        } while (0)

static void dup_kv(bool *ok, struct kl_kv *kv, size_t n) {
        for (size_t i = 0; kv && i < n; i++) {
                kv[i].key = dup_str(ok, kv[i].key);
                kv[i].value = dup_str(ok, kv[i].value);
        }
}

static void dup_resource_ref(bool *ok, struct kl_resource_ref *r) {
        r->resource = dup_str(ok, r->resource);
        r->container_name = dup_str(ok, r->container_name);
}

static void dup_handler(bool *ok, struct kl_handler *h) {
        h->exec_command = dup_strv(ok, h->exec_command);
        h->host = dup_str(ok, h->host);
        h->path = dup_str(ok, h->path);
        h->port_name = dup_str(ok, h->port_name);
        h->scheme = dup_str(ok, h->scheme);
        struct kl_kv *src = h->http_headers;
        h->http_headers = dup_array(ok, src, h->n_http_headers, sizeof(*src));
        if (!h->http_headers)
                h->n_http_headers = 0;
        dup_kv(ok, h->http_headers, h->n_http_headers);
}

static void dup_container(bool *ok, struct kl_container *c) {
        c->name = dup_str(ok, c->name);
        c->image = dup_str(ok, c->image);
        c->command = dup_strv(ok, c->command);
        c->args = dup_strv(ok, c->args);
        c->working_dir = dup_str(ok, c->working_dir);
        DUP_ARRAY(ok, c, c, env, n_env);
        for (size_t i = 0; i < c->n_env; i++) {
                c->env[i].name = dup_str(ok, c->env[i].name);
                c->env[i].value = dup_str(ok, c->env[i].value);
                c->env[i].field_ref = dup_str(ok, c->env[i].field_ref);
                dup_resource_ref(ok, &c->env[i].resource_ref);
        }
        DUP_ARRAY(ok, c, c, ports, n_ports);
        for (size_t i = 0; i < c->n_ports; i++) {
                c->ports[i].name = dup_str(ok, c->ports[i].name);
                c->ports[i].protocol = dup_str(ok, c->ports[i].protocol);
                c->ports[i].host_ip = dup_str(ok, c->ports[i].host_ip);
        }
        DUP_ARRAY(ok, c, c, volume_mounts, n_volume_mounts);
        for (size_t i = 0; i < c->n_volume_mounts; i++) {
                struct kl_volume_mount *m = &c->volume_mounts[i];
                m->name = dup_str(ok, m->name);
                m->mount_path = dup_str(ok, m->mount_path);
                m->sub_path = dup_str(ok, m->sub_path);
        }
        dup_handler(ok, &c->liveness.handler);
        dup_handler(ok, &c->readiness.handler);
        dup_handler(ok, &c->startup.handler);
        dup_handler(ok, &c->post_start);
        dup_handler(ok, &c->pre_stop);
        c->security_context.capabilities_add = dup_strv(ok, c->security_context.capabilities_add);
        c->security_context.capabilities_drop = dup_strv(ok, c->security_context.capabilities_drop);
        c->security_context.seccomp_localhost_profile = dup_str(ok, c->security_context.seccomp_localhost_profile);
        c->termination_message_path = dup_str(ok, c->termination_message_path);
        DUP_ARRAY(ok, c, c, extended, n_extended);
        for (size_t i = 0; i < c->n_extended; i++)
                c->extended[i].name = dup_str(ok, c->extended[i].name);
}

struct kl_pod *kl_pod_dup(const struct kl_pod *p) {
        struct kl_pod *c;
        bool ok = true;

        if (!p)
                return NULL;
        c = malloc(sizeof(*c));
        if (!c)
                return NULL;
        *c = *p;
        /* Containers are copied shallowly first: each element's pointers are
         * replaced one by one, so on failure those still pointing into p must
         * not be freed. Copy element-wise into zeroed arrays instead. */
        c->containers = NULL;
        c->init_containers = NULL;
        c->n_containers = c->n_init_containers = 0;

        c->name = dup_str(&ok, p->name);
        c->namespace = dup_str(&ok, p->namespace);
        DUP_ARRAY(&ok, c, p, labels, n_labels);
        dup_kv(&ok, c->labels, c->n_labels);
        DUP_ARRAY(&ok, c, p, annotations, n_annotations);
        dup_kv(&ok, c->annotations, c->n_annotations);
        c->full_name = dup_str(&ok, p->full_name);
        c->uid = dup_str(&ok, p->uid);
        c->config_hash = dup_str(&ok, p->config_hash);
        c->source = dup_str(&ok, p->source);
        c->node_name = dup_str(&ok, p->node_name);
        c->hostname = dup_str(&ok, p->hostname);
        c->subdomain = dup_str(&ok, p->subdomain);
        c->dns_config.nameservers = dup_strv(&ok, p->dns_config.nameservers);
        c->dns_config.searches = dup_strv(&ok, p->dns_config.searches);
        DUP_ARRAY(&ok, &c->dns_config, &p->dns_config, options, n_options);
        dup_kv(&ok, c->dns_config.options, c->dns_config.n_options);
        DUP_ARRAY(&ok, c, p, volumes, n_volumes);
        for (size_t i = 0; i < c->n_volumes; i++) {
                struct kl_volume *v = &c->volumes[i];
                v->name = dup_str(&ok, v->name);
                v->host_path = dup_str(&ok, v->host_path);
                DUP_ARRAY(&ok, v, v, items, n_items);
                for (size_t k = 0; k < v->n_items; k++) {
                        v->items[k].path = dup_str(&ok, v->items[k].path);
                        v->items[k].field_ref = dup_str(&ok, v->items[k].field_ref);
                        dup_resource_ref(&ok, &v->items[k].resource_ref);
                }
        }
        DUP_ARRAY(&ok, c, p, host_aliases, n_host_aliases);
        for (size_t i = 0; i < c->n_host_aliases; i++) {
                c->host_aliases[i].ip = dup_str(&ok, c->host_aliases[i].ip);
                c->host_aliases[i].hostnames = dup_strv(&ok, c->host_aliases[i].hostnames);
        }
        c->service_account_name = dup_str(&ok, p->service_account_name);
        DUP_ARRAY(&ok, &c->security_context, &p->security_context, supplemental_groups, n_supplemental_groups);
        c->security_context.seccomp_localhost_profile = dup_str(&ok, p->security_context.seccomp_localhost_profile);
        DUP_ARRAY(&ok, &c->security_context, &p->security_context, sysctls, n_sysctls);
        dup_kv(&ok, c->security_context.sysctls, c->security_context.n_sysctls);
        c->priority_class_name = dup_str(&ok, p->priority_class_name);

        if (ok && p->n_containers > 0) {
                c->containers = calloc(p->n_containers, sizeof(*c->containers));
                if (!c->containers)
                        ok = false;
                for (size_t i = 0; ok && i < p->n_containers; i++) {
                        c->containers[i] = p->containers[i];
                        c->n_containers = i + 1;
                        dup_container(&ok, &c->containers[i]);
                }
        }
        if (ok && p->n_init_containers > 0) {
                c->init_containers = calloc(p->n_init_containers, sizeof(*c->init_containers));
                if (!c->init_containers)
                        ok = false;
                for (size_t i = 0; ok && i < p->n_init_containers; i++) {
                        c->init_containers[i] = p->init_containers[i];
                        c->n_init_containers = i + 1;
                        dup_container(&ok, &c->init_containers[i]);
                }
        }
        if (!ok)
                return kl_pod_free(c);
        return c;
}

/* ---- QoS and resources --------------------------------------------------- */

enum kl_qos_class kl_pod_qos_class(const struct kl_pod *p) {
        bool any = false, guaranteed = true;

        /* Upstream counts only non-zero cpu and memory amounts, over init and
         * app containers alike. Requests default to limits at parse time. */
        for (int pass = 0; pass < 2; pass++) {
                const struct kl_container *cs = pass ? p->init_containers : p->containers;
                size_t n = pass ? p->n_init_containers : p->n_containers;
                for (size_t i = 0; i < n; i++) {
                        const struct kl_resources *r = &cs[i].resources;
                        if (r->cpu_request_milli > 0 || r->memory_request > 0 || r->cpu_limit_milli > 0 ||
                            r->memory_limit > 0)
                                any = true;
                        if (r->cpu_limit_milli <= 0 || r->memory_limit <= 0)
                                guaranteed = false;
                        else if (r->cpu_request_milli != r->cpu_limit_milli || r->memory_request != r->memory_limit)
                                guaranteed = false;
                }
        }
        if (!any)
                return KL_QOS_BEST_EFFORT;
        if (guaranteed)
                return KL_QOS_GUARANTEED;
        return KL_QOS_BURSTABLE;
}

const char *kl_qos_class_to_string(enum kl_qos_class c) {
        switch (c) {
        case KL_QOS_BEST_EFFORT: return "BestEffort";
        case KL_QOS_BURSTABLE: return "Burstable";
        case KL_QOS_GUARANTEED: return "Guaranteed";
        }
        return NULL;
}

#define N_RES 6

static void res_to_array(const struct kl_resources *r, int64_t v[N_RES]) {
        v[0] = r->cpu_request_milli;
        v[1] = r->cpu_limit_milli;
        v[2] = r->memory_request;
        v[3] = r->memory_limit;
        v[4] = r->ephemeral_request;
        v[5] = r->ephemeral_limit;
}

static int64_t sat_add(int64_t a, int64_t b) {
        int64_t s;
        if (__builtin_add_overflow(a, b, &s))
                return INT64_MAX;
        return s;
}

void kl_pod_effective_resources(const struct kl_pod *p, struct kl_resources *ret) {
        /* Per resource: max(sum of app containers and sidecars, for each
         * regular init container its own amount plus the sidecars started
         * before it). A limit only counts when every container declares it
         * (otherwise the pod is unbounded, as upstream's pod cgroup is);
         * requests count when any container declares one. */
        int64_t total[N_RES] = {0}, side[N_RES] = {0}, init_max[N_RES] = {0};
        bool seen[N_RES] = {false}, missing[N_RES] = {false};
        int64_t v[N_RES];

        for (size_t i = 0; i < p->n_containers; i++) {
                res_to_array(&p->containers[i].resources, v);
                for (int k = 0; k < N_RES; k++) {
                        if (v[k] < 0) {
                                missing[k] = true;
                                continue;
                        }
                        seen[k] = true;
                        total[k] = sat_add(total[k], v[k]);
                }
        }
        for (size_t i = 0; i < p->n_init_containers; i++) {
                const struct kl_container *c = &p->init_containers[i];
                bool sidecar = c->restart_policy == KL_RESTART_ALWAYS;
                res_to_array(&c->resources, v);
                for (int k = 0; k < N_RES; k++) {
                        int64_t x = v[k] < 0 ? 0 : v[k];
                        if (v[k] < 0)
                                missing[k] = true;
                        else
                                seen[k] = true;
                        if (sidecar) {
                                total[k] = sat_add(total[k], x);
                                side[k] = sat_add(side[k], x);
                                init_max[k] = MAX(init_max[k], side[k]);
                        } else
                                init_max[k] = MAX(init_max[k], sat_add(x, side[k]));
                }
        }
        for (int k = 0; k < N_RES; k++) {
                bool limit = k % 2 == 1;
                v[k] = MAX(total[k], init_max[k]);
                if (!seen[k] || (limit && missing[k]))
                        v[k] = -1;
        }
        *ret = (struct kl_resources){
                .cpu_request_milli = v[0],
                .cpu_limit_milli = v[1],
                .memory_request = v[2],
                .memory_limit = v[3],
                .ephemeral_request = v[4],
                .ephemeral_limit = v[5],
        };
}

/* ---- strings ------------------------------------------------------------- */

const char *kl_restart_policy_to_string(enum kl_restart_policy p) {
        switch (p) {
        case KL_RESTART_UNSET: return "";
        case KL_RESTART_ALWAYS: return "Always";
        case KL_RESTART_ON_FAILURE: return "OnFailure";
        case KL_RESTART_NEVER: return "Never";
        }
        return NULL;
}

const char *kl_pull_policy_to_string(enum kl_pull_policy p) {
        switch (p) {
        case KL_PULL_IF_NOT_PRESENT: return "IfNotPresent";
        case KL_PULL_ALWAYS: return "Always";
        case KL_PULL_NEVER: return "Never";
        }
        return NULL;
}

const char *kl_dns_policy_to_string(enum kl_dns_policy p) {
        switch (p) {
        case KL_DNS_CLUSTER_FIRST: return "ClusterFirst";
        case KL_DNS_CLUSTER_FIRST_WITH_HOST_NET: return "ClusterFirstWithHostNet";
        case KL_DNS_DEFAULT: return "Default";
        case KL_DNS_NONE: return "None";
        }
        return NULL;
}

const char *kl_termination_message_policy_to_string(enum kl_termination_message_policy p) {
        switch (p) {
        case KL_TERMINATION_MESSAGE_FILE: return "File";
        case KL_TERMINATION_MESSAGE_FALLBACK_TO_LOGS: return "FallbackToLogsOnError";
        }
        return NULL;
}

const char *kl_host_path_type_to_string(enum kl_host_path_type t) {
        switch (t) {
        case KL_HOST_PATH_UNSET: return "";
        case KL_HOST_PATH_DIRECTORY_OR_CREATE: return "DirectoryOrCreate";
        case KL_HOST_PATH_DIRECTORY: return "Directory";
        case KL_HOST_PATH_FILE_OR_CREATE: return "FileOrCreate";
        case KL_HOST_PATH_FILE: return "File";
        case KL_HOST_PATH_SOCKET: return "Socket";
        case KL_HOST_PATH_CHAR_DEVICE: return "CharDevice";
        case KL_HOST_PATH_BLOCK_DEVICE: return "BlockDevice";
        }
        return NULL;
}

const char *kl_seccomp_to_string(enum kl_seccomp s) {
        switch (s) {
        case KL_SECCOMP_UNSET: return NULL;
        case KL_SECCOMP_RUNTIME_DEFAULT: return "RuntimeDefault";
        case KL_SECCOMP_UNCONFINED: return "Unconfined";
        case KL_SECCOMP_LOCALHOST: return "Localhost";
        }
        return NULL;
}
