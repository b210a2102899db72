/* SPDX-License-Identifier: Apache-2.0 */
#include "kubelet-lite/pod/spec.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cgroups/convert.h"
#include "kubelet-lite/pod/volumes.h"
#include "lib/fileio.h"
#include "lib/macros.h"

/* protoc-c map entries all share one layout: base, key, value. */
#define MAP_ADD(a, arr, n, Type, INIT, k, v)                         \
        do {                                                         \
                Type *_e = kl_arena_alloc((a), sizeof(Type));        \
                if (_e) {                                            \
                        *_e = (Type) INIT;                           \
                        _e->key = kl_arena_strdup((a), (k));         \
                        _e->value = kl_arena_strdup_empty((a), (v)); \
                        (arr)[(n)++] = _e;                           \
                }                                                    \
        } while (0)

static char *kl_arena_strdup_empty(struct kl_arena *a, const char *s) {
        return kl_arena_strdup(a, s ? s : "");
}

static char **strv_dup(struct kl_arena *a, char *const *v, size_t *ret_n) {
        size_t n = 0;
        while (v && v[n])
                n++;
        *ret_n = n;
        if (n == 0)
                return NULL;
        char **r = kl_arena_alloc(a, n * sizeof(char *));
        for (size_t i = 0; r && i < n; i++)
                r[i] = kl_arena_strdup(a, v[i]);
        return r;
}

char *kl_spec_pod_log_dir(struct kl_arena *a, const struct kl_spec_ctx *ctx, const struct kl_pod *pod) {
        return kl_arena_printf(a, "%s/%s_%s_%s", ctx->pod_logs_dir, pod->namespace, pod->full_name, pod->uid);
}

char *kl_spec_pod_dir(struct kl_arena *a, const struct kl_spec_ctx *ctx, const struct kl_pod *pod) {
        return kl_arena_printf(a, "%s/pods/%s", ctx->root_dir, pod->uid);
}

char *kl_spec_volume_host_path(struct kl_arena *a, const struct kl_spec_ctx *ctx, const struct kl_pod *pod,
                               const struct kl_volume *v) {
        if (v->kind == KL_VOLUME_HOST_PATH)
                return kl_arena_strdup(a, v->host_path);
        if (v->kind == KL_VOLUME_DOWNWARD_API)
                return kl_arena_printf(a, "%s/pods/%s/volumes/kubernetes.io~downward-api/%s", ctx->root_dir, pod->uid,
                                       v->name);
        return kl_arena_printf(a, "%s/pods/%s/volumes/kubernetes.io~empty-dir/%s", ctx->root_dir, pod->uid, v->name);
}

/* Read nameserver/search/options from the host's resolv.conf, as upstream's
 * dnsPolicy Default (and ClusterFirst without cluster DNS) does. */
static void host_dns(struct kl_arena *a, Runtime__V1__DNSConfig *dns) {
        _cleanup_free_ char *buf = NULL;
        char *save = NULL;

        if (kl_read_file_at(-100 /* AT_FDCWD */, "/etc/resolv.conf", 64 * 1024, 0, &buf, NULL) < 0)
                return;
        dns->servers = kl_arena_alloc(a, 8 * sizeof(char *));
        dns->searches = kl_arena_alloc(a, 8 * sizeof(char *));
        dns->options = kl_arena_alloc(a, 8 * sizeof(char *));
        if (!dns->servers || !dns->searches || !dns->options)
                return;
        for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *tok_save = NULL, *key = strtok_r(line, " \t", &tok_save);
                if (!key || key[0] == '#' || key[0] == ';')
                        continue;
                for (char *w = strtok_r(NULL, " \t", &tok_save); w; w = strtok_r(NULL, " \t", &tok_save)) {
                        if (streq(key, "nameserver") && dns->n_servers < 3)
                                dns->servers[dns->n_servers++] = kl_arena_strdup(a, w);
                        else if (streq(key, "search") && dns->n_searches < 6)
                                dns->searches[dns->n_searches++] = kl_arena_strdup(a, w);
                        else if (streq(key, "options") && dns->n_options < 8)
                                dns->options[dns->n_options++] = kl_arena_strdup(a, w);
                }
        }
}

static Runtime__V1__DNSConfig *pod_dns(struct kl_arena *a, const struct kl_pod *pod) {
        Runtime__V1__DNSConfig *dns = kl_arena_alloc(a, sizeof(*dns));
        if (!dns)
                return NULL;
        *dns = (Runtime__V1__DNSConfig) RUNTIME__V1__DNSCONFIG__INIT;
        /* Without cluster DNS, ClusterFirst falls back to Default, as upstream. */
        if (pod->dns_policy != KL_DNS_NONE)
                host_dns(a, dns);
        if (pod->has_dns_config) {
                const struct kl_dns_config *dc = &pod->dns_config;
                size_t n;
                char **servers = strv_dup(a, dc->nameservers, &n);
                if (pod->dns_policy == KL_DNS_NONE || n > 0) {
                        dns->servers = servers;
                        dns->n_servers = n;
                }
                size_t ns;
                char **searches = strv_dup(a, dc->searches, &ns);
                if (ns > 0) {
                        char **all = kl_arena_alloc(a, (dns->n_searches + ns) * sizeof(char *));
                        if (all) {
                                for (size_t i = 0; i < ns; i++)
                                        all[i] = searches[i];
                                for (size_t i = 0; i < dns->n_searches; i++)
                                        all[ns + i] = dns->searches[i];
                                dns->searches = all;
                                dns->n_searches += ns;
                        }
                }
                if (dc->n_options > 0) {
                        char **opts = kl_arena_alloc(a, (dns->n_options + dc->n_options) * sizeof(char *));
                        if (opts) {
                                size_t k = 0;
                                for (size_t i = 0; i < dns->n_options; i++)
                                        opts[k++] = dns->options[i];
                                for (size_t i = 0; i < dc->n_options; i++)
                                        opts[k++] = dc->options[i].value
                                                            ? kl_arena_printf(a, "%s:%s", dc->options[i].key,
                                                                              dc->options[i].value)
                                                            : kl_arena_strdup(a, dc->options[i].key);
                                dns->options = opts;
                                dns->n_options = k;
                        }
                }
        }
        return dns;
}

static Runtime__V1__SecurityProfile *seccomp_profile(struct kl_arena *a, const struct kl_spec_ctx *ctx,
                                                     enum kl_seccomp s, const char *local) {
        Runtime__V1__SecurityProfile *p = kl_arena_alloc(a, sizeof(*p));
        if (!p)
                return NULL;
        *p = (Runtime__V1__SecurityProfile) RUNTIME__V1__SECURITY_PROFILE__INIT;
        switch (s) {
        case KL_SECCOMP_RUNTIME_DEFAULT:
                p->profile_type = RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__RuntimeDefault;
                break;
        case KL_SECCOMP_LOCALHOST:
                p->profile_type = RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__Localhost;
                /* upstream's fieldProfile: relative to <root-dir>/seccomp */
                p->localhost_ref = kl_arena_printf(a, "%s/seccomp/%s", ctx->root_dir, strempty(local));
                break;
        default: /* upstream's default without seccompDefault: Unconfined */
                p->profile_type = RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__Unconfined;
        }
        return p;
}

static Runtime__V1__Int64Value *int64_value(struct kl_arena *a, int64_t v) {
        Runtime__V1__Int64Value *p = kl_arena_alloc(a, sizeof(*p));
        if (p) {
                *p = (Runtime__V1__Int64Value) RUNTIME__V1__INT64_VALUE__INIT;
                p->value = v;
        }
        return p;
}

static Runtime__V1__NamespaceOption *namespace_options(struct kl_arena *a, const struct kl_pod *pod) {
        Runtime__V1__NamespaceOption *ns = kl_arena_alloc(a, sizeof(*ns));
        if (!ns)
                return NULL;
        *ns = (Runtime__V1__NamespaceOption) RUNTIME__V1__NAMESPACE_OPTION__INIT;
        ns->network = pod->host_network ? RUNTIME__V1__NAMESPACE_MODE__NODE : RUNTIME__V1__NAMESPACE_MODE__POD;
        /* upstream's pidNamespaceForPod: shareProcessNamespace is pid mode POD */
        ns->pid = pod->host_pid                  ? RUNTIME__V1__NAMESPACE_MODE__NODE
                  : pod->share_process_namespace ? RUNTIME__V1__NAMESPACE_MODE__POD
                                                 : RUNTIME__V1__NAMESPACE_MODE__CONTAINER;
        ns->ipc = pod->host_ipc ? RUNTIME__V1__NAMESPACE_MODE__NODE : RUNTIME__V1__NAMESPACE_MODE__POD;
        return ns;
}

Runtime__V1__PodSandboxConfig *kl_spec_sandbox(struct kl_arena *a, const struct kl_pod *pod,
                                               const struct kl_spec_ctx *ctx, uint32_t attempt) {
        Runtime__V1__PodSandboxConfig *cfg = kl_arena_alloc(a, sizeof(*cfg));
        Runtime__V1__PodSandboxMetadata *md = kl_arena_alloc(a, sizeof(*md));
        Runtime__V1__LinuxPodSandboxConfig *lx = kl_arena_alloc(a, sizeof(*lx));
        Runtime__V1__LinuxSandboxSecurityContext *sc = kl_arena_alloc(a, sizeof(*sc));
        if (!cfg || !md || !lx || !sc)
                return NULL;

        *md = (Runtime__V1__PodSandboxMetadata) RUNTIME__V1__POD_SANDBOX_METADATA__INIT;
        md->name = kl_arena_strdup(a, pod->full_name);
        md->uid = kl_arena_strdup(a, pod->uid);
        md->namespace_ = kl_arena_strdup(a, pod->namespace);
        md->attempt = attempt;

        *cfg = (Runtime__V1__PodSandboxConfig) RUNTIME__V1__POD_SANDBOX_CONFIG__INIT;
        cfg->metadata = md;
        /* runc refuses a hostname without a private UTS namespace (FACTS). */
        if (!pod->host_network)
                cfg->hostname = kl_arena_strdup(a, kl_podvolumes_hostname(a, pod));
        cfg->log_directory = kl_spec_pod_log_dir(a, ctx, pod);
        cfg->dns_config = pod_dns(a, pod);

        size_t nports = 0;
        for (size_t i = 0; i < pod->n_containers; i++)
                nports += pod->containers[i].n_ports;
        if (nports > 0 && !pod->host_network) {
                cfg->port_mappings = kl_arena_alloc(a, nports * sizeof(*cfg->port_mappings));
                for (size_t i = 0; cfg->port_mappings && i < pod->n_containers; i++)
                        for (size_t j = 0; j < pod->containers[i].n_ports; j++) {
                                const struct kl_port *p = &pod->containers[i].ports[j];
                                if (p->host_port <= 0)
                                        continue;
                                Runtime__V1__PortMapping *pm = kl_arena_alloc(a, sizeof(*pm));
                                if (!pm)
                                        break;
                                *pm = (Runtime__V1__PortMapping) RUNTIME__V1__PORT_MAPPING__INIT;
                                pm->container_port = p->container_port;
                                pm->host_port = p->host_port;
                                pm->host_ip = kl_arena_strdup(a, p->host_ip ? p->host_ip : "");
                                pm->protocol = p->protocol && streq(p->protocol, "UDP")    ? RUNTIME__V1__PROTOCOL__UDP
                                               : p->protocol && streq(p->protocol, "SCTP") ? RUNTIME__V1__PROTOCOL__SCTP
                                                                                           : RUNTIME__V1__PROTOCOL__TCP;
                                cfg->port_mappings[cfg->n_port_mappings++] = pm;
                        }
        }

        cfg->labels = kl_arena_alloc(a, (pod->n_labels + 3) * sizeof(*cfg->labels));
        if (cfg->labels) {
                for (size_t i = 0; i < pod->n_labels; i++)
                        MAP_ADD(a, cfg->labels, cfg->n_labels, Runtime__V1__PodSandboxConfig__LabelsEntry,
                                RUNTIME__V1__POD_SANDBOX_CONFIG__LABELS_ENTRY__INIT, pod->labels[i].key,
                                pod->labels[i].value);
                MAP_ADD(a, cfg->labels, cfg->n_labels, Runtime__V1__PodSandboxConfig__LabelsEntry,
                        RUNTIME__V1__POD_SANDBOX_CONFIG__LABELS_ENTRY__INIT, KL_LABEL_POD_NAME, pod->full_name);
                MAP_ADD(a, cfg->labels, cfg->n_labels, Runtime__V1__PodSandboxConfig__LabelsEntry,
                        RUNTIME__V1__POD_SANDBOX_CONFIG__LABELS_ENTRY__INIT, KL_LABEL_POD_NAMESPACE, pod->namespace);
                MAP_ADD(a, cfg->labels, cfg->n_labels, Runtime__V1__PodSandboxConfig__LabelsEntry,
                        RUNTIME__V1__POD_SANDBOX_CONFIG__LABELS_ENTRY__INIT, KL_LABEL_POD_UID, pod->uid);
        }
        cfg->annotations = kl_arena_alloc(a, (pod->n_annotations + 3) * sizeof(*cfg->annotations));
        if (cfg->annotations) {
                char seen[32];
                snprintf(seen, sizeof(seen), "%lld", (long long) ctx->seen_nsec);
                for (size_t i = 0; i < pod->n_annotations; i++)
                        MAP_ADD(a, cfg->annotations, cfg->n_annotations,
                                Runtime__V1__PodSandboxConfig__AnnotationsEntry,
                                RUNTIME__V1__POD_SANDBOX_CONFIG__ANNOTATIONS_ENTRY__INIT, pod->annotations[i].key,
                                pod->annotations[i].value);
                MAP_ADD(a, cfg->annotations, cfg->n_annotations, Runtime__V1__PodSandboxConfig__AnnotationsEntry,
                        RUNTIME__V1__POD_SANDBOX_CONFIG__ANNOTATIONS_ENTRY__INIT, KL_ANN_CONFIG_HASH, pod->config_hash);
                MAP_ADD(a, cfg->annotations, cfg->n_annotations, Runtime__V1__PodSandboxConfig__AnnotationsEntry,
                        RUNTIME__V1__POD_SANDBOX_CONFIG__ANNOTATIONS_ENTRY__INIT, KL_ANN_CONFIG_SOURCE, "file");
                MAP_ADD(a, cfg->annotations, cfg->n_annotations, Runtime__V1__PodSandboxConfig__AnnotationsEntry,
                        RUNTIME__V1__POD_SANDBOX_CONFIG__ANNOTATIONS_ENTRY__INIT, KL_ANN_CONFIG_SEEN, seen);
        }

        *sc = (Runtime__V1__LinuxSandboxSecurityContext) RUNTIME__V1__LINUX_SANDBOX_SECURITY_CONTEXT__INIT;
        sc->namespace_options = namespace_options(a, pod);
        const struct kl_pod_security_context *psc = &pod->security_context;
        if (psc->run_as_user >= 0)
                sc->run_as_user = int64_value(a, psc->run_as_user);
        if (psc->run_as_group >= 0)
                sc->run_as_group = int64_value(a, psc->run_as_group);
        if (psc->n_supplemental_groups > 0 || psc->fs_group >= 0) {
                sc->supplemental_groups = kl_arena_alloc(a, (psc->n_supplemental_groups + 1) * sizeof(int64_t));
                for (size_t i = 0; sc->supplemental_groups && i < psc->n_supplemental_groups; i++)
                        sc->supplemental_groups[sc->n_supplemental_groups++] = psc->supplemental_groups[i];
                if (sc->supplemental_groups && psc->fs_group >= 0)
                        sc->supplemental_groups[sc->n_supplemental_groups++] = psc->fs_group;
        }
        /* A sandbox is privileged when any container is (upstream). */
        for (size_t i = 0; i < pod->n_containers; i++)
                if (pod->containers[i].security_context.privileged > 0)
                        sc->privileged = 1;
        for (size_t i = 0; i < pod->n_init_containers; i++)
                if (pod->init_containers[i].security_context.privileged > 0)
                        sc->privileged = 1;
        sc->seccomp = seccomp_profile(a, ctx, psc->seccomp, psc->seccomp_localhost_profile);

        *lx = (Runtime__V1__LinuxPodSandboxConfig) RUNTIME__V1__LINUX_POD_SANDBOX_CONFIG__INIT;
        lx->cgroup_parent = kl_arena_strdup(a, ctx->cgroup_parent ? ctx->cgroup_parent : "");
        lx->security_context = sc;
        if (psc->n_sysctls > 0) {
                lx->sysctls = kl_arena_alloc(a, psc->n_sysctls * sizeof(*lx->sysctls));
                for (size_t i = 0; lx->sysctls && i < psc->n_sysctls; i++)
                        MAP_ADD(a, lx->sysctls, lx->n_sysctls, Runtime__V1__LinuxPodSandboxConfig__SysctlsEntry,
                                RUNTIME__V1__LINUX_POD_SANDBOX_CONFIG__SYSCTLS_ENTRY__INIT, psc->sysctls[i].key,
                                psc->sysctls[i].value);
        }
        cfg->linux = lx;
        return kl_arena_ok(a) ? cfg : NULL;
}

/* upstream's expansion.Expand over a key/value list. */
char *kl_spec_expand(struct kl_arena *a, const char *in, char *const *keys, char *const *values, size_t n) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        FILE *f;

        if (!in)
                return NULL;
        if (!strchr(in, '$'))
                return kl_arena_strdup(a, in);
        f = open_memstream(&buf, &len);
        if (!f)
                return NULL;
        for (const char *p = in; *p;) {
                if (p[0] != '$' || !p[1]) {
                        fputc(*p++, f);
                        continue;
                }
                if (p[1] == '$') { /* "$$": an escaped '$' */
                        fputc('$', f);
                        p += 2;
                        continue;
                }
                const char *close = p[1] == '(' ? strchr(p + 2, ')') : NULL;
                if (!close) { /* not a reference: the '$' stays, scanning goes on after it */
                        fputc('$', f);
                        p++;
                        continue;
                }
                size_t nl = (size_t) (close - (p + 2));
                const char *val = NULL;
                for (size_t i = n; i > 0 && !val; i--)
                        if (strlen(keys[i - 1]) == nl && strncmp(keys[i - 1], p + 2, nl) == 0)
                                val = values[i - 1];
                if (val)
                        fputs(val, f);
                else
                        fwrite(p, 1, nl + 3, f); /* undefined: left as written */
                p = close + 1;
        }
        if (fclose(f) != 0)
                return NULL;
        return kl_arena_strdup(a, buf ? buf : "");
}

/* Resolve env as upstream's makeEnvironmentVariables: in order, literal
 * values expanded against the variables defined before them, fieldRef and
 * resourceFieldRef values as they are; one entry per name, the last wins. */
static int container_env(struct kl_arena *a, const struct kl_pod *pod, const struct kl_container *c,
                         const struct kl_spec_ctx *ctx, char ***ret_keys, char ***ret_values, size_t *ret_n,
                         Runtime__V1__ContainerConfig *cfg, struct kl_error *reterr) {
        char **keys = kl_arena_alloc(a, (c->n_env + 1) * sizeof(char *));
        char **values = kl_arena_alloc(a, (c->n_env + 1) * sizeof(char *));
        size_t n = 0;

        if (!keys || !values)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_env; i++) {
                const struct kl_env *e = &c->env[i];
                char *v;
                if (e->field_ref) {
                        v = kl_podvolumes_field_value(a, pod, ctx, e->field_ref);
                        if (!v)
                                return kl_error_set(reterr, EINVAL, "env '%s': unsupported fieldRef '%s'", e->name,
                                                    e->field_ref);
                } else if (e->resource_ref.resource) {
                        v = kl_podvolumes_resource_value(a, pod, c, &e->resource_ref, ctx, reterr);
                        if (!v)
                                return kl_error_prefix(reterr, "env '%s'", e->name);
                } else
                        v = kl_spec_expand(a, strempty(e->value), keys, values, n);
                if (!v)
                        return -ENOMEM;
                size_t k = 0;
                while (k < n && !streq(keys[k], e->name))
                        k++;
                keys[k] = e->name;
                values[k] = v;
                if (k == n)
                        n++;
        }
        *ret_keys = keys;
        *ret_values = values;
        *ret_n = n;
        if (n == 0)
                return 0;
        cfg->envs = kl_arena_alloc(a, n * sizeof(*cfg->envs));
        if (!cfg->envs)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                Runtime__V1__KeyValue *kv = kl_arena_alloc(a, sizeof(*kv));
                if (!kv)
                        return -ENOMEM;
                *kv = (Runtime__V1__KeyValue) RUNTIME__V1__KEY_VALUE__INIT;
                kv->key = kl_arena_strdup(a, keys[i]);
                kv->value = values[i];
                cfg->envs[cfg->n_envs++] = kv;
        }
        return 0;
}

/* command and args: upstream's ExpandContainerCommandAndArgs against the final env. */
static char **expand_strv(struct kl_arena *a, char *const *v, char *const *keys, char *const *values, size_t n,
                          size_t *ret_n) {
        char **r = strv_dup(a, v, ret_n);
        for (size_t i = 0; r && i < *ret_n; i++)
                r[i] = kl_spec_expand(a, r[i], keys, values, n);
        return r;
}

static int container_mounts(struct kl_arena *a, const struct kl_pod *pod, const struct kl_container *c,
                            const struct kl_spec_ctx *ctx, const char *termination_log,
                            Runtime__V1__ContainerConfig *cfg, struct kl_error *reterr) {
        bool own_hosts = false;
        cfg->mounts = kl_arena_alloc(a, (c->n_volume_mounts + 2) * sizeof(*cfg->mounts));
        if (!cfg->mounts)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_volume_mounts; i++) {
                const struct kl_volume_mount *vm = &c->volume_mounts[i];
                const struct kl_volume *vol = NULL;
                for (size_t j = 0; j < pod->n_volumes; j++)
                        if (streq(pod->volumes[j].name, vm->name))
                                vol = &pod->volumes[j];
                if (!vol)
                        return kl_error_set(reterr, ENOENT, "volumeMount '%s': no such volume", vm->name);
                char *host = kl_spec_volume_host_path(a, ctx, pod, vol);
                if (host && vm->sub_path && vm->sub_path[0])
                        host = kl_arena_printf(a, "%s/%s", host, vm->sub_path);
                Runtime__V1__Mount *m = kl_arena_alloc(a, sizeof(*m));
                if (!m || !host)
                        return -ENOMEM;
                *m = (Runtime__V1__Mount) RUNTIME__V1__MOUNT__INIT;
                m->container_path = kl_arena_strdup(a, vm->mount_path);
                m->host_path = host;
                /* downwardAPI volumes are always read-only (upstream) */
                m->readonly = vm->read_only || vol->kind == KL_VOLUME_DOWNWARD_API;
                m->propagation = vm->propagation == KL_PROPAGATION_HOST_TO_CONTAINER
                                         ? RUNTIME__V1__MOUNT_PROPAGATION__PROPAGATION_HOST_TO_CONTAINER
                                 : vm->propagation == KL_PROPAGATION_BIDIRECTIONAL
                                         ? RUNTIME__V1__MOUNT_PROPAGATION__PROPAGATION_BIDIRECTIONAL
                                         : RUNTIME__V1__MOUNT_PROPAGATION__PROPAGATION_PRIVATE;
                cfg->mounts[cfg->n_mounts++] = m;
                if (streq(vm->mount_path, "/etc/hosts"))
                        own_hosts = true;
        }
        /* upstream's makeMounts: the kubelet-managed /etc/hosts, unless the
         * container mounts its own. Written only for a real create
         * (termination_log set), not when the spec is rebuilt for an update. */
        if (!own_hosts) {
                char *hosts = NULL;
                if (termination_log && kl_podvolumes_write_hosts(a, pod, ctx, &hosts, reterr) < 0)
                        return -(reterr && reterr->err ? reterr->err : EIO);
                if (!termination_log && (pod->host_network || (ctx->pod_ip && ctx->pod_ip[0])))
                        hosts = kl_arena_printf(a, "%s/etc-hosts", kl_spec_pod_dir(a, ctx, pod));
                if (hosts) {
                        Runtime__V1__Mount *m = kl_arena_alloc(a, sizeof(*m));
                        if (!m)
                                return -ENOMEM;
                        *m = (Runtime__V1__Mount) RUNTIME__V1__MOUNT__INIT;
                        m->container_path = kl_arena_strdup(a, "/etc/hosts");
                        m->host_path = hosts;
                        cfg->mounts[cfg->n_mounts++] = m;
                }
        }
        if (termination_log) {
                Runtime__V1__Mount *m = kl_arena_alloc(a, sizeof(*m));
                if (!m)
                        return -ENOMEM;
                *m = (Runtime__V1__Mount) RUNTIME__V1__MOUNT__INIT;
                m->container_path = kl_arena_strdup(a, c->termination_message_path);
                m->host_path = kl_arena_strdup(a, termination_log);
                cfg->mounts[cfg->n_mounts++] = m;
        }
        return 0;
}

/* upstream's default masked and read-only /proc and /sys paths */
static char *const masked_paths[] = {
        "/proc/asound",
        "/proc/acpi",
        "/proc/kcore",
        "/proc/keys",
        "/proc/latency_stats",
        "/proc/timer_list",
        "/proc/timer_stats",
        "/proc/sched_debug",
        "/proc/scsi",
        "/sys/firmware",
        NULL,
};
static char *const readonly_paths[] = {
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

static Runtime__V1__LinuxContainerSecurityContext *container_security(struct kl_arena *a, const struct kl_pod *pod,
                                                                      const struct kl_container *c,
                                                                      const struct kl_spec_ctx *ctx) {
        const struct kl_security_context *s = &c->security_context;
        const struct kl_pod_security_context *ps = &pod->security_context;
        Runtime__V1__LinuxContainerSecurityContext *sc = kl_arena_alloc(a, sizeof(*sc));
        if (!sc)
                return NULL;
        *sc = (Runtime__V1__LinuxContainerSecurityContext) RUNTIME__V1__LINUX_CONTAINER_SECURITY_CONTEXT__INIT;
        sc->namespace_options = namespace_options(a, pod);
        sc->privileged = s->privileged > 0;
        int64_t uid = s->run_as_user >= 0 ? s->run_as_user : ps->run_as_user;
        int64_t gid = s->run_as_group >= 0 ? s->run_as_group : ps->run_as_group;
        if (uid >= 0)
                sc->run_as_user = int64_value(a, uid);
        if (gid >= 0)
                sc->run_as_group = int64_value(a, gid);
        sc->readonly_rootfs = s->read_only_root_filesystem > 0;
        sc->no_new_privs = s->allow_privilege_escalation == 0;
        if (ps->n_supplemental_groups > 0 || ps->fs_group >= 0) {
                sc->supplemental_groups = kl_arena_alloc(a, (ps->n_supplemental_groups + 1) * sizeof(int64_t));
                for (size_t i = 0; sc->supplemental_groups && i < ps->n_supplemental_groups; i++)
                        sc->supplemental_groups[sc->n_supplemental_groups++] = ps->supplemental_groups[i];
                if (sc->supplemental_groups && ps->fs_group >= 0)
                        sc->supplemental_groups[sc->n_supplemental_groups++] = ps->fs_group;
        }
        if (s->capabilities_add || s->capabilities_drop) {
                Runtime__V1__Capability *cap = kl_arena_alloc(a, sizeof(*cap));
                if (cap) {
                        *cap = (Runtime__V1__Capability) RUNTIME__V1__CAPABILITY__INIT;
                        cap->add_capabilities = strv_dup(a, s->capabilities_add, &cap->n_add_capabilities);
                        cap->drop_capabilities = strv_dup(a, s->capabilities_drop, &cap->n_drop_capabilities);
                        /* "ALL" in any case means all, as containerd compares it */
                        for (size_t i = 0; i < cap->n_add_capabilities; i++)
                                if (cap->add_capabilities[i] && !strcasecmp(cap->add_capabilities[i], "ALL"))
                                        cap->add_capabilities[i] = (char *) "ALL";
                        for (size_t i = 0; i < cap->n_drop_capabilities; i++)
                                if (cap->drop_capabilities[i] && !strcasecmp(cap->drop_capabilities[i], "ALL"))
                                        cap->drop_capabilities[i] = (char *) "ALL";
                        sc->capabilities = cap;
                }
        }
        enum kl_seccomp sp = s->seccomp != KL_SECCOMP_UNSET ? s->seccomp : ps->seccomp;
        const char *local =
                s->seccomp != KL_SECCOMP_UNSET ? s->seccomp_localhost_profile : ps->seccomp_localhost_profile;
        sc->seccomp = seccomp_profile(a, ctx, sp, local);
        if (!sc->privileged) {
                sc->masked_paths = strv_dup(a, masked_paths, &sc->n_masked_paths);
                sc->readonly_paths = strv_dup(a, readonly_paths, &sc->n_readonly_paths);
        }
        return sc;
}

Runtime__V1__ContainerConfig *kl_spec_container(struct kl_arena *a, const struct kl_pod *pod,
                                                const struct kl_container *c, const char *kind,
                                                const struct kl_spec_ctx *ctx, uint32_t restart_count,
                                                const char *termination_log, struct kl_error *reterr) {
        Runtime__V1__ContainerConfig *cfg = kl_arena_alloc(a, sizeof(*cfg));
        Runtime__V1__ContainerMetadata *md = kl_arena_alloc(a, sizeof(*md));
        Runtime__V1__ImageSpec *img = kl_arena_alloc(a, sizeof(*img));
        Runtime__V1__LinuxContainerConfig *lx = kl_arena_alloc(a, sizeof(*lx));
        Runtime__V1__LinuxContainerResources *res = kl_arena_alloc(a, sizeof(*res));
        if (!cfg || !md || !img || !lx || !res) {
                kl_error_set(reterr, ENOMEM, "out of memory");
                return NULL;
        }
        *md = (Runtime__V1__ContainerMetadata) RUNTIME__V1__CONTAINER_METADATA__INIT;
        md->name = kl_arena_strdup(a, c->name);
        md->attempt = restart_count;
        *img = (Runtime__V1__ImageSpec) RUNTIME__V1__IMAGE_SPEC__INIT;
        img->image = kl_arena_strdup(a, c->image);

        *cfg = (Runtime__V1__ContainerConfig) RUNTIME__V1__CONTAINER_CONFIG__INIT;
        cfg->metadata = md;
        cfg->image = img;
        char **keys = NULL, **values = NULL;
        size_t n_env = 0;
        if (container_env(a, pod, c, ctx, &keys, &values, &n_env, cfg, reterr) < 0) {
                if (!reterr || !reterr->err)
                        kl_error_set(reterr, ENOMEM, "out of memory");
                return NULL;
        }
        cfg->command = expand_strv(a, c->command, keys, values, n_env, &cfg->n_command);
        cfg->args = expand_strv(a, c->args, keys, values, n_env, &cfg->n_args);
        cfg->working_dir = kl_arena_strdup(a, c->working_dir ? c->working_dir : "");
        if (container_mounts(a, pod, c, ctx, termination_log, cfg, reterr) < 0) {
                if (!reterr || !reterr->err)
                        kl_error_set(reterr, ENOMEM, "out of memory");
                return NULL;
        }
        cfg->log_path = kl_arena_printf(a, "%s/%u.log", c->name, restart_count);
        cfg->stdin = c->stdin;
        cfg->stdin_once = c->stdin_once;
        cfg->tty = c->tty;

        cfg->labels = kl_arena_alloc(a, 4 * sizeof(*cfg->labels));
        if (cfg->labels) {
                MAP_ADD(a, cfg->labels, cfg->n_labels, Runtime__V1__ContainerConfig__LabelsEntry,
                        RUNTIME__V1__CONTAINER_CONFIG__LABELS_ENTRY__INIT, KL_LABEL_CONTAINER_NAME, c->name);
                MAP_ADD(a, cfg->labels, cfg->n_labels, Runtime__V1__ContainerConfig__LabelsEntry,
                        RUNTIME__V1__CONTAINER_CONFIG__LABELS_ENTRY__INIT, KL_LABEL_POD_NAME, pod->full_name);
                MAP_ADD(a, cfg->labels, cfg->n_labels, Runtime__V1__ContainerConfig__LabelsEntry,
                        RUNTIME__V1__CONTAINER_CONFIG__LABELS_ENTRY__INIT, KL_LABEL_POD_NAMESPACE, pod->namespace);
                MAP_ADD(a, cfg->labels, cfg->n_labels, Runtime__V1__ContainerConfig__LabelsEntry,
                        RUNTIME__V1__CONTAINER_CONFIG__LABELS_ENTRY__INIT, KL_LABEL_POD_UID, pod->uid);
        }
        cfg->annotations = kl_arena_alloc(a, 6 * sizeof(*cfg->annotations));
        if (cfg->annotations) {
                char buf[32];
                /* The container hash only needs to change with the spec; the pod uid already does. */
                uint32_t h = 2166136261u;
                for (const char *p = c->image; *p; p++)
                        h = (h ^ (uint8_t) *p) * 16777619u;
                for (const char *p = c->name; *p; p++)
                        h = (h ^ (uint8_t) *p) * 16777619u;
                snprintf(buf, sizeof(buf), "%x", h);
                MAP_ADD(a, cfg->annotations, cfg->n_annotations, Runtime__V1__ContainerConfig__AnnotationsEntry,
                        RUNTIME__V1__CONTAINER_CONFIG__ANNOTATIONS_ENTRY__INIT, KL_ANN_CONTAINER_HASH, buf);
                snprintf(buf, sizeof(buf), "%u", restart_count);
                MAP_ADD(a, cfg->annotations, cfg->n_annotations, Runtime__V1__ContainerConfig__AnnotationsEntry,
                        RUNTIME__V1__CONTAINER_CONFIG__ANNOTATIONS_ENTRY__INIT, KL_ANN_RESTART_COUNT, buf);
                MAP_ADD(a, cfg->annotations, cfg->n_annotations, Runtime__V1__ContainerConfig__AnnotationsEntry,
                        RUNTIME__V1__CONTAINER_CONFIG__ANNOTATIONS_ENTRY__INIT, KL_ANN_TERMINATION_MESSAGE_PATH,
                        c->termination_message_path);
                MAP_ADD(a, cfg->annotations, cfg->n_annotations, Runtime__V1__ContainerConfig__AnnotationsEntry,
                        RUNTIME__V1__CONTAINER_CONFIG__ANNOTATIONS_ENTRY__INIT, KL_ANN_TERMINATION_MESSAGE_POLICY,
                        c->termination_message_policy == KL_TERMINATION_MESSAGE_FALLBACK_TO_LOGS
                                ? "FallbackToLogsOnError"
                                : "File");
                snprintf(buf, sizeof(buf), "%lld", (long long) pod->termination_grace_period_seconds);
                MAP_ADD(a, cfg->annotations, cfg->n_annotations, Runtime__V1__ContainerConfig__AnnotationsEntry,
                        RUNTIME__V1__CONTAINER_CONFIG__ANNOTATIONS_ENTRY__INIT, KL_ANN_POD_GRACE, buf);
                MAP_ADD(a, cfg->annotations, cfg->n_annotations, Runtime__V1__ContainerConfig__AnnotationsEntry,
                        RUNTIME__V1__CONTAINER_CONFIG__ANNOTATIONS_ENTRY__INIT, KL_ANN_CONTAINER_KIND, kind);
        }

        struct kl_cg_container_resources r;
        kl_cg_container_resources(c->resources.cpu_request_milli, c->resources.cpu_limit_milli,
                                  c->resources.memory_limit, ctx->cfs_period_us, true, &r);
        *res = (Runtime__V1__LinuxContainerResources) RUNTIME__V1__LINUX_CONTAINER_RESOURCES__INIT;
        res->cpu_shares = r.cpu_shares;
        res->cpu_quota = r.cpu_quota;
        res->cpu_period = r.cpu_period;
        res->memory_limit_in_bytes = r.memory_limit_in_bytes;
        if (ctx->cpuset)
                res->cpuset_cpus = kl_arena_strdup(a, ctx->cpuset);
        *lx = (Runtime__V1__LinuxContainerConfig) RUNTIME__V1__LINUX_CONTAINER_CONFIG__INIT;
        lx->resources = res;
        lx->security_context = container_security(a, pod, c, ctx);
        cfg->linux = lx;

        if (!kl_arena_ok(a)) {
                kl_error_set(reterr, ENOMEM, "out of memory");
                return NULL;
        }
        return cfg;
}
