/* SPDX-License-Identifier: Apache-2.0 */
/* v1 Pod metadata and spec: YAML tree -> struct kl_pod. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "manifests/names.h"
#include "manifests/quantity.h"
#include "manifests/schema.h"
#include "manifests/strv.h"

/* ---- metadata ------------------------------------------------------------- */

static void check_keys(struct kl__dec *d, const struct kl_yaml_node *v, bool labels) {
        size_t total = 0;

        /* The model's kv arrays carry no positions: walk the tree again. Keys
         * stay out of the path, they may contain dots themselves. */
        for (size_t i = 0; i < v->map.n; i++) {
                const struct kl_yaml_node *key = v->map.items[i].key, *val = v->map.items[i].value;
                /* upstream's ValidateAnnotations checks the lower-cased key:
                 * podman writes "io.kubernetes.cri-o.TTY/<container>" */
                char lower[320];
                const char *why;
                if (!labels && key->scalar.len < sizeof(lower)) {
                        for (size_t k = 0; k <= key->scalar.len; k++) {
                                char c = key->scalar.value[k];
                                lower[k] = c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c;
                        }
                        why = kl_check_qualified_name(lower);
                } else
                        why = kl_check_qualified_name(key->scalar.value);
                if (why)
                        kl__dec_error(d, key->pos, "invalid key %s: %s", kl__dec_q(d, key->scalar.value), why);
                if (val->type != KL_YAML_SCALAR)
                        continue;
                total += key->scalar.len + val->scalar.len;
                if (labels && (why = kl_check_label_value(val->scalar.value)))
                        kl__dec_error(d, val->pos, "invalid value %s: %s", kl__dec_q(d, val->scalar.value), why);
        }
        if (!labels && total > 256 * 1024)
                kl__dec_error(d, v->pos, "annotations are too long: %zu bytes, must have at most 262144", total);
}

static void decode_metadata(struct kl__dec *d, const struct kl_yaml_node *v, struct kl_pod *p) {
        static const char *const known[] = {"name",
                                            "namespace",
                                            "labels",
                                            "annotations",
                                            "generateName",
                                            "uid",
                                            "resourceVersion",
                                            "generation",
                                            "creationTimestamp",
                                            "deletionTimestamp",
                                            "deletionGracePeriodSeconds",
                                            "ownerReferences",
                                            "finalizers",
                                            "managedFields",
                                            "selfLink",
                                            NULL};
        const char *why;

        if (!kl__dec_map(d, v))
                return;
        KL__FOREACH_FIELD(d, v, f) {
                if (streq(f.name, "name")) {
                        if (kl__dec_str(d, f.value, &p->name) && (why = kl_check_dns1123_subdomain(p->name)))
                                kl__dec_error(d, f.value->pos, "invalid name %s: %s", kl__dec_q(d, p->name), why);
                } else if (streq(f.name, "namespace")) {
                        if (kl__dec_str(d, f.value, &p->namespace) && (why = kl_check_dns1123_label(p->namespace)))
                                kl__dec_error(d, f.value->pos, "invalid namespace %s: %s", kl__dec_q(d, p->namespace),
                                              why);
                } else if (streq(f.name, "labels")) {
                        if (kl__dec_string_map(d, f.value, &p->labels, &p->n_labels))
                                check_keys(d, f.value, true);
                } else if (streq(f.name, "annotations")) {
                        if (kl__dec_string_map(d, f.value, &p->annotations, &p->n_annotations))
                                check_keys(d, f.value, false);
                } else if (streq(f.name, "generateName")) {
                        /* unused when name is set (upstream); checked below otherwise */
                } else if (streq(f.name, "creationTimestamp") && kl_yaml_is_null(f.value))
                        ; /* what kubeadm and `kubectl create --dry-run` write */
                else if (streq(f.name, "uid") || streq(f.name, "resourceVersion") || streq(f.name, "generation") ||
                         streq(f.name, "creationTimestamp") || streq(f.name, "deletionTimestamp") ||
                         streq(f.name, "deletionGracePeriodSeconds") || streq(f.name, "ownerReferences") ||
                         streq(f.name, "finalizers") || streq(f.name, "managedFields") || streq(f.name, "selfLink"))
                        kl__dec_unsupported(d, f.key, false, "set by the API server");
                else
                        kl__dec_unknown(d, f.key, known);
        }
        const struct kl_yaml_node *gn = kl_yaml_map_get(v, "generateName");
        if (gn && !kl_yaml_is_null(gn) && !kl_yaml_map_get(v, "name")) {
                size_t saved = kl__dec_push(d, "generateName");
                kl__dec_error(d, gn->pos, "not supported: a static pod needs metadata.name");
                kl__dec_pop(d, saved);
        }
        /* A mirror pod's dump (`kubectl get pod -o yaml` of a static pod)
         * carries this annotation: upstream kubelet takes such a pod for a
         * mirror pod and never runs it. Say so instead of running it. */
        const struct kl_yaml_node *ann = kl_yaml_map_get(v, "annotations");
        for (size_t i = 0; ann && ann->type == KL_YAML_MAPPING && i < ann->map.n; i++)
                if (streq(ann->map.items[i].key->scalar.value, "kubernetes.io/config.mirror")) {
                        size_t saved = kl__dec_push(d, "annotations");
                        kl__dec_error(d, ann->map.items[i].key->pos,
                                      "\"kubernetes.io/config.mirror\" marks a mirror pod (a `kubectl get pod -o "
                                      "yaml` dump of a static pod); upstream kubelet does not run such a pod: remove "
                                      "the annotation to run it as a static pod");
                        kl__dec_pop(d, saved);
                }
}

/* ---- volumes -------------------------------------------------------------- */

static const char *const volume_sources[] = {"awsElasticBlockStore",
                                             "azureDisk",
                                             "azureFile",
                                             "cephfs",
                                             "cinder",
                                             "configMap",
                                             "csi",
                                             "ephemeral",
                                             "fc",
                                             "flexVolume",
                                             "flocker",
                                             "gcePersistentDisk",
                                             "gitRepo",
                                             "glusterfs",
                                             "iscsi",
                                             "nfs",
                                             "persistentVolumeClaim",
                                             "photonPersistentDisk",
                                             "portworxVolume",
                                             "projected",
                                             "quobyte",
                                             "rbd",
                                             "scaleIO",
                                             "secret",
                                             "storageos",
                                             "vsphereVolume",
                                             NULL};

static bool in_list(const char *s, const char *const *l) {
        for (size_t i = 0; l[i]; i++)
                if (streq(s, l[i]))
                        return true;
        return false;
}

static void decode_host_path(struct kl__dec *d, const struct kl_yaml_node *v, struct kl_volume *vol) {
        static const char *const known[] = {"path", "type", NULL};
        static const char *const types[] = {
                "",           "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket",
                "CharDevice", "BlockDevice",       NULL};
        int idx;

        vol->kind = KL_VOLUME_HOST_PATH;
        if (!kl__dec_map(d, v)) {
                if (kl_yaml_is_null(v))
                        kl__dec_error(d, v->pos, "path is required");
                return;
        }
        KL__FOREACH_FIELD(d, v, f) {
                if (streq(f.name, "path")) {
                        if (kl__dec_str(d, f.value, &vol->host_path) && !kl_path_is_absolute_clean(vol->host_path))
                                kl__dec_error(d, f.value->pos, "must be an absolute path without '..', got %s",
                                              kl__dec_q(d, vol->host_path));
                } else if (streq(f.name, "type")) {
                        if (kl__dec_enum(d, f.value, types, &idx))
                                vol->host_path_type = (enum kl_host_path_type) idx;
                } else
                        kl__dec_unknown(d, f.key, known);
        }
        if (!vol->host_path)
                kl__dec_error(d, v->pos, "path is required");
}

static void decode_empty_dir(struct kl__dec *d, const struct kl_yaml_node *v, struct kl_volume *vol) {
        static const char *const known[] = {"medium", "sizeLimit", NULL};
        static const char *const media[] = {"", "Memory", NULL};
        int idx, r;

        vol->kind = KL_VOLUME_EMPTY_DIR;
        if (!kl__dec_map(d, v))
                return; /* emptyDir: {} or null */
        KL__FOREACH_FIELD(d, v, f) {
                const char *text;
                if (streq(f.name, "medium")) {
                        char *m = NULL;
                        if (kl__dec_str(d, f.value, &m) && strncmp(m, "HugePages", 9) == 0)
                                kl__dec_unsupported(d, f.key, true, "hugepages");
                        else if (m && kl__dec_enum(d, f.value, media, &idx))
                                vol->medium_memory = idx == 1;
                        free(m);
                } else if (streq(f.name, "sizeLimit")) {
                        if (!kl__dec_scalar_text(d, f.value, &text))
                                continue;
                        r = kl_quantity_parse_value(text, &vol->size_limit);
                        if (r < 0) {
                                vol->size_limit = -1;
                                kl__quantity_error(d, f.value, text, r);
                        }
                } else
                        kl__dec_unknown(d, f.key, known);
        }
}

static void decode_volumes(struct kl__dec *d, const struct kl_yaml_node *v, struct kl_pod *p) {
        if (!kl__dec_seq(d, v) || !(p->volumes = kl__dec_calloc(d, v->seq.n, sizeof(*p->volumes))))
                return;
        KL__FOREACH_ITEM(d, v, it) {
                struct kl_volume *vol = &p->volumes[p->n_volumes++];
                unsigned n_src = 0;
                const char *why;

                vol->pos = it.value->pos;
                vol->size_limit = -1;
                if (!kl__dec_map(d, it.value))
                        continue;
                KL__FOREACH_FIELD(d, it.value, f) {
                        if (streq(f.name, "name")) {
                                if (!kl__dec_str(d, f.value, &vol->name))
                                        continue;
                                if ((why = kl_check_dns1123_label(vol->name)))
                                        kl__dec_error(d, f.value->pos, "invalid name %s: %s", kl__dec_q(d, vol->name),
                                                      why);
                                for (size_t k = 0; k + 1 < p->n_volumes; k++)
                                        if (streq_ptr(p->volumes[k].name, vol->name))
                                                kl__dec_error(d, f.value->pos, "duplicate volume name %s",
                                                              kl__dec_q(d, vol->name));
                        } else if (streq(f.name, "hostPath")) {
                                n_src++;
                                decode_host_path(d, f.value, vol);
                        } else if (streq(f.name, "emptyDir")) {
                                n_src++;
                                decode_empty_dir(d, f.value, vol);
                        } else if (streq(f.name, "downwardAPI")) {
                                n_src++;
                                kl__decode_downward_api(d, f.value, vol);
                        } else if (streq(f.name, "image")) {
                                /* added in 1.31: a v1.30 kubelet sees a volume without a source */
                                n_src++;
                                kl__dec_unsupported(d, f.key, true, "image volumes (Kubernetes 1.31+)");
                        } else if (in_list(f.name, volume_sources)) {
                                n_src++;
                                kl__dec_unsupported(d, f.key, true,
                                                    "only hostPath, emptyDir and downwardAPI volumes are supported");
                        } else {
                                static const char *const known[] = {"name", "hostPath", "emptyDir", "downwardAPI",
                                                                    NULL};
                                kl__dec_unknown(d, f.key, known);
                        }
                }
                if (!vol->name)
                        kl__dec_error(d, it.value->pos, "name is required");
                if (n_src == 0)
                        kl__dec_error(d, it.value->pos,
                                      "must specify a volume source (hostPath, emptyDir or downwardAPI)");
                else if (n_src > 1)
                        kl__dec_error(d, it.value->pos, "may not specify more than 1 volume source");
        }
}

/* ---- dnsConfig, securityContext ------------------------------------------- */

static void decode_dns_config(struct kl__dec *d, const struct kl_yaml_node *v, struct kl_pod *p) {
        static const char *const known[] = {"nameservers", "searches", "options", NULL};
        static const char *const opt_known[] = {"name", "value", NULL};
        struct kl_dns_config *c = &p->dns_config;

        if (!kl__dec_map(d, v))
                return;
        p->has_dns_config = true;
        KL__FOREACH_FIELD(d, v, f) {
                if (streq(f.name, "nameservers")) {
                        if (!kl__dec_strv(d, f.value, &c->nameservers))
                                continue;
                        if (kl__strv_length(c->nameservers) > 3)
                                kl__dec_error(d, f.value->pos, "must not have more than 3 nameservers");
                        for (size_t i = 0; c->nameservers[i]; i++)
                                if (!kl_is_ip_address(c->nameservers[i]))
                                        kl__dec_error(d, f.value->seq.items[i]->pos,
                                                      "must be a valid IP address, got %s",
                                                      kl__dec_q(d, c->nameservers[i]));
                } else if (streq(f.name, "searches")) {
                        size_t total = 0;
                        if (!kl__dec_strv(d, f.value, &c->searches))
                                continue;
                        if (kl__strv_length(c->searches) > 32)
                                kl__dec_error(d, f.value->pos, "must not have more than 32 search paths");
                        for (size_t i = 0; c->searches[i]; i++) {
                                char buf[KL_DNS1123_SUBDOMAIN_MAX + 2];
                                size_t l = strlen(c->searches[i]);
                                total += l;
                                snprintf(buf, sizeof(buf), "%s", c->searches[i]);
                                if (l > 0 && l < sizeof(buf) && buf[l - 1] == '.')
                                        buf[l - 1] = '\0'; /* a trailing dot is allowed */
                                if (l >= sizeof(buf) || kl_check_dns1123_subdomain(buf))
                                        kl__dec_error(d, f.value->seq.items[i]->pos, "invalid search domain %s",
                                                      kl__dec_q(d, c->searches[i]));
                        }
                        if (total + kl__strv_length(c->searches) > 2048)
                                kl__dec_error(d, f.value->pos, "search paths must be at most 2048 characters in total");
                } else if (streq(f.name, "options")) {
                        if (!kl__dec_seq(d, f.value) ||
                            !(c->options = kl__dec_calloc(d, f.value->seq.n, sizeof(*c->options))))
                                continue;
                        KL__FOREACH_ITEM(d, f.value, it) {
                                struct kl_kv *kv = &c->options[c->n_options++];
                                if (!kl__dec_map(d, it.value))
                                        continue;
                                KL__FOREACH_FIELD(d, it.value, g) {
                                        if (streq(g.name, "name"))
                                                kl__dec_str(d, g.value, &kv->key);
                                        else if (streq(g.name, "value"))
                                                kl__dec_str(d, g.value, &kv->value);
                                        else
                                                kl__dec_unknown(d, g.key, opt_known);
                                }
                                if (!kv->key || !kv->key[0])
                                        kl__dec_error(d, it.value->pos, "name is required");
                        }
                } else
                        kl__dec_unknown(d, f.key, known);
        }
}

static void decode_pod_security_context(struct kl__dec *d, const struct kl_yaml_node *v,
                                        struct kl_pod_security_context *sc) {
        static const char *const known[] = {"runAsUser",
                                            "runAsGroup",
                                            "runAsNonRoot",
                                            "fsGroup",
                                            "supplementalGroups",
                                            "seccompProfile",
                                            "sysctls",
                                            "seLinuxOptions",
                                            "appArmorProfile",
                                            "supplementalGroupsPolicy",
                                            "fsGroupChangePolicy",
                                            "seLinuxChangePolicy",
                                            "windowsOptions",
                                            NULL};
        static const char *const sysctl_known[] = {"name", "value", NULL};
        const char *why;

        if (!kl__dec_map(d, v))
                return;
        KL__FOREACH_FIELD(d, v, f) {
                if (streq(f.name, "runAsUser"))
                        kl__dec_int(d, f.value, 0, INT32_MAX, &sc->run_as_user);
                else if (streq(f.name, "runAsGroup"))
                        kl__dec_int(d, f.value, 0, INT32_MAX, &sc->run_as_group);
                else if (streq(f.name, "runAsNonRoot"))
                        kl__dec_tristate(d, f.value, &sc->run_as_non_root);
                else if (streq(f.name, "fsGroup"))
                        kl__dec_int(d, f.value, 0, INT32_MAX, &sc->fs_group);
                else if (streq(f.name, "supplementalGroups")) {
                        if (!kl__dec_seq(d, f.value) ||
                            !(sc->supplemental_groups = kl__dec_calloc(d, f.value->seq.n, sizeof(int64_t))))
                                continue;
                        KL__FOREACH_ITEM(d, f.value, it)
                        if (kl__dec_int(d, it.value, 0, INT32_MAX, &sc->supplemental_groups[sc->n_supplemental_groups]))
                                sc->n_supplemental_groups++;
                } else if (streq(f.name, "seccompProfile"))
                        kl__decode_seccomp(d, f.value, &sc->seccomp, &sc->seccomp_localhost_profile);
                else if (streq(f.name, "sysctls")) {
                        if (!kl__dec_seq(d, f.value) ||
                            !(sc->sysctls = kl__dec_calloc(d, f.value->seq.n, sizeof(*sc->sysctls))))
                                continue;
                        KL__FOREACH_ITEM(d, f.value, it) {
                                struct kl_kv *kv = &sc->sysctls[sc->n_sysctls++];
                                if (!kl__dec_map(d, it.value))
                                        continue;
                                KL__FOREACH_FIELD(d, it.value, g) {
                                        if (streq(g.name, "name")) {
                                                if (kl__dec_str(d, g.value, &kv->key) &&
                                                    (why = kl_check_sysctl_name(kv->key)))
                                                        kl__dec_error(d, g.value->pos, "invalid sysctl %s: %s",
                                                                      kl__dec_q(d, kv->key), why);
                                        } else if (streq(g.name, "value"))
                                                kl__dec_str(d, g.value, &kv->value);
                                        else
                                                kl__dec_unknown(d, g.key, sysctl_known);
                                }
                                if (!kv->key)
                                        kl__dec_error(d, it.value->pos, "name is required");
                                if (!kv->value)
                                        kl__dec_error(d, it.value->pos, "value is required");
                        }
                } else if (streq(f.name, "seLinuxOptions") || streq(f.name, "appArmorProfile"))
                        kl__dec_unsupported(d, f.key, true, NULL);
                else if (streq(f.name, "supplementalGroupsPolicy"))
                        kl__dec_newer(d, f.key, 31);
                else if (streq(f.name, "seLinuxChangePolicy"))
                        kl__dec_newer(d, f.key, 32);
                else if (streq(f.name, "fsGroupChangePolicy") || streq(f.name, "windowsOptions"))
                        kl__dec_unsupported(d, f.key, false, NULL);
                else
                        kl__dec_unknown(d, f.key, known);
        }
}

/* ---- spec ----------------------------------------------------------------- */

static void decode_containers(struct kl__dec *d, const struct kl_yaml_node *v, bool init, struct kl_container **ret,
                              size_t *ret_n) {
        if (!kl__dec_seq(d, v)) {
                if (!init && v && !kl_yaml_is_null(v))
                        d->containers_rejected = true; /* reported as the wrong type */
                return;
        }
        if (v->seq.n > d->opts->max_containers) {
                kl__dec_error(d, v->pos, "too many containers: %zu, at most %zu", v->seq.n, d->opts->max_containers);
                d->containers_rejected = true;
                return;
        }
        if (!(*ret = kl__dec_calloc(d, v->seq.n, sizeof(**ret))))
                return;
        KL__FOREACH_ITEM(d, v, it) {
                if (!kl__dec_map(d, it.value)) {
                        if (kl_yaml_is_null(it.value))
                                kl__dec_error(d, it.value->pos, "expected a mapping, got null");
                        continue;
                }
                kl__decode_container(d, it.value, init, &(*ret)[(*ret_n)++]);
        }
}

static const char *const spec_known[] = {"containers",
                                         "initContainers",
                                         "restartPolicy",
                                         "terminationGracePeriodSeconds",
                                         "activeDeadlineSeconds",
                                         "hostNetwork",
                                         "hostPID",
                                         "hostIPC",
                                         "hostname",
                                         "subdomain",
                                         "dnsPolicy",
                                         "dnsConfig",
                                         "volumes",
                                         "securityContext",
                                         "priorityClassName",
                                         "priority",
                                         "nodeName",
                                         "nodeSelector",
                                         "affinity",
                                         "tolerations",
                                         "schedulerName",
                                         "serviceAccountName",
                                         "serviceAccount",
                                         "automountServiceAccountToken",
                                         "enableServiceLinks",
                                         "preemptionPolicy",
                                         "topologySpreadConstraints",
                                         "readinessGates",
                                         "imagePullSecrets",
                                         "schedulingGates",
                                         "setHostnameAsFQDN",
                                         "overhead",
                                         "os",
                                         "ephemeralContainers",
                                         "hostAliases",
                                         "shareProcessNamespace",
                                         "runtimeClassName",
                                         "resourceClaims",
                                         "resources",
                                         "hostUsers",
                                         "hostnameOverride",
                                         NULL};

/* Scheduling and API-server features: meaningless for a pod pinned to this node. */
static const char *const spec_ignored[] = {"nodeSelector",
                                           "affinity",
                                           "tolerations",
                                           "schedulerName",
                                           "automountServiceAccountToken",
                                           "enableServiceLinks",
                                           "preemptionPolicy",
                                           "topologySpreadConstraints",
                                           "readinessGates",
                                           "imagePullSecrets",
                                           "schedulingGates",
                                           "setHostnameAsFQDN",
                                           "overhead",
                                           "os",
                                           NULL};

/* Features that would change what runs. */
static const char *const spec_fatal[] = {"ephemeralContainers", "runtimeClassName", "resourceClaims", "hostUsers",
                                         NULL};

static void decode_spec(struct kl__dec *d, const struct kl_yaml_node *v, struct kl_pod *p) {
        static const char *const restart[] = {"", "Always", "OnFailure", "Never", NULL};
        static const char *const dns[] = {"ClusterFirst", "ClusterFirstWithHostNet", "Default", "None", NULL};
        const char *why;
        int idx;

        KL__FOREACH_FIELD(d, v, f) {
                const char *n = f.name;
                if (streq(n, "containers"))
                        decode_containers(d, f.value, false, &p->containers, &p->n_containers);
                else if (streq(n, "initContainers"))
                        decode_containers(d, f.value, true, &p->init_containers, &p->n_init_containers);
                else if (streq(n, "restartPolicy")) {
                        if (kl__dec_enum(d, f.value, restart, &idx) && idx > 0)
                                p->restart_policy = (enum kl_restart_policy) idx;
                } else if (streq(n, "terminationGracePeriodSeconds"))
                        kl__dec_int(d, f.value, 0, INT64_MAX, &p->termination_grace_period_seconds);
                else if (streq(n, "activeDeadlineSeconds"))
                        kl__dec_int(d, f.value, 1, UINT32_MAX, &p->active_deadline_seconds);
                else if (streq(n, "hostNetwork"))
                        kl__dec_bool(d, f.value, &p->host_network);
                else if (streq(n, "hostPID"))
                        kl__dec_bool(d, f.value, &p->host_pid);
                else if (streq(n, "hostIPC"))
                        kl__dec_bool(d, f.value, &p->host_ipc);
                else if (streq(n, "hostname") || streq(n, "subdomain")) {
                        char **dst = streq(n, "hostname") ? &p->hostname : &p->subdomain;
                        if (kl__dec_str(d, f.value, dst) && (why = kl_check_dns1123_label(*dst)))
                                kl__dec_error(d, f.value->pos, "invalid %s %s: %s", n, kl__dec_q(d, *dst), why);
                } else if (streq(n, "dnsPolicy")) {
                        if (kl__dec_enum(d, f.value, dns, &idx))
                                p->dns_policy = (enum kl_dns_policy) idx;
                } else if (streq(n, "dnsConfig"))
                        decode_dns_config(d, f.value, p);
                else if (streq(n, "volumes"))
                        decode_volumes(d, f.value, p);
                else if (streq(n, "securityContext"))
                        decode_pod_security_context(d, f.value, &p->security_context);
                else if (streq(n, "priorityClassName")) {
                        if (kl__dec_str(d, f.value, &p->priority_class_name) &&
                            (why = kl_check_dns1123_subdomain(p->priority_class_name)))
                                kl__dec_error(d, f.value->pos, "invalid name %s: %s",
                                              kl__dec_q(d, p->priority_class_name), why);
                } else if (streq(n, "priority")) {
                        int prio;
                        if (kl__dec_int32(d, f.value, INT32_MIN, INT32_MAX, &prio)) {
                                p->priority = prio;
                                p->has_priority = true;
                        }
                } else if (streq(n, "nodeName")) {
                        char *node = NULL;
                        if (kl__dec_str(d, f.value, &node) && d->node_name && !streq(node, d->node_name))
                                kl__dec_warning(d, f.value->pos,
                                                "%s is not this node (%s), ignoring: static pods "
                                                "always run on the node that reads them",
                                                kl__dec_q(d, node), kl__dec_q(d, d->node_name));
                        free(node);
                } else if (streq(n, "hostAliases"))
                        kl__decode_host_aliases(d, f.value, p);
                else if (streq(n, "shareProcessNamespace"))
                        kl__dec_bool(d, f.value, &p->share_process_namespace);
                else if (streq(n, "serviceAccountName"))
                        kl__dec_str(d, f.value, &p->service_account_name);
                else if (streq(n, "serviceAccount")) {
                        /* deprecated alias, used when serviceAccountName is not set (v1 conversion) */
                        const struct kl_yaml_node *san = kl_yaml_map_get(v, "serviceAccountName");
                        if (!san || kl_yaml_is_null(san))
                                kl__dec_str(d, f.value, &p->service_account_name);
                } else if (streq(n, "resources"))
                        kl__dec_newer(d, f.key, 32);
                else if (streq(n, "hostnameOverride"))
                        kl__dec_newer(d, f.key, 34);
                else if (in_list(n, spec_ignored))
                        kl__dec_unsupported(d, f.key, false, "static pods are not scheduled");
                else if (in_list(n, spec_fatal))
                        kl__dec_unsupported(d, f.key, true, NULL);
                else
                        kl__dec_unknown(d, f.key, spec_known);
        }
}

struct kl_pod *kl__decode_pod(struct kl__dec *d, const struct kl_yaml_node *root) {
        static const char *const known[] = {"apiVersion", "kind", "metadata", "spec", "status", NULL};
        struct kl_pod *p;

        p = calloc(1, sizeof(*p));
        if (!p) {
                d->oom = true;
                return NULL;
        }
        p->pos = root->pos;
        d->containers_rejected = false;
        p->restart_policy = KL_RESTART_ALWAYS;
        p->termination_grace_period_seconds = -1;
        p->active_deadline_seconds = -1;
        p->security_context.run_as_user = -1;
        p->security_context.run_as_group = -1;
        p->security_context.run_as_non_root = -1;
        p->security_context.fs_group = -1;

        KL__FOREACH_FIELD(d, root, f) {
                if (streq(f.name, "apiVersion") || streq(f.name, "kind"))
                        continue; /* checked by the caller */
                if (streq(f.name, "metadata"))
                        decode_metadata(d, f.value, p);
                else if (streq(f.name, "spec")) {
                        if (kl__dec_map(d, f.value))
                                decode_spec(d, f.value, p);
                } else if (streq(f.name, "status"))
                        ; /* output only, e.g. kubeadm's "status: {}" */
                else
                        kl__dec_unknown(d, f.key, known);
        }
        if (!p->name)
                kl__dec_error(d, root->pos, "metadata.name is required");
        if (!p->namespace)
                p->namespace = kl__dec_strdup(d, "default");
        if (p->termination_grace_period_seconds < 0)
                p->termination_grace_period_seconds = KL_DEFAULT_TERMINATION_GRACE_SECONDS;
        kl__check_pod(d, p);
        return p;
}
