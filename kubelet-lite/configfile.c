/* SPDX-License-Identifier: Apache-2.0 */
/* Reading a KubeletConfiguration (kubelet.config.k8s.io/v1beta1) file. Only
 * the keys kubelet-lite implements are read; others are reported back as
 * warnings so that a config shared with upstream kubelet still loads. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kubelet-lite/config.h"
#include "kubelet-lite/cm/sysctl.h"
#include "lib/fileio.h"
#include "lib/macros.h"
#include "manifests/quantity.h"
#include "manifests/strv.h"
#include "manifests/yaml.h"

#define CONFIG_MAX_SIZE (256 * 1024)

struct ctx {
        const char *path;
        struct kl_config *cfg;
        char ***warnings;
        char **unsupported; /* keys we do not implement, for one summary warning */
        struct kl_error *err;
};

static int fail(struct ctx *x, const struct kl_yaml_node *n, const char *key, const char *fmt, ...) _printf_(4, 5);
static int fail(struct ctx *x, const struct kl_yaml_node *n, const char *key, const char *fmt, ...) {
        char msg[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        return kl_error_set(x->err, EINVAL, "%s:%u:%u: %s: %s", x->path, n ? n->pos.line : 0, n ? n->pos.col : 0, key,
                            msg);
}

static void warn(struct ctx *x, const struct kl_yaml_node *n, const char *fmt, ...) _printf_(3, 4);
static void warn(struct ctx *x, const struct kl_yaml_node *n, const char *fmt, ...) {
        char msg[512];
        va_list ap;
        if (!x->warnings) /* the caller does not want them */
                return;
        snprintf(msg, sizeof(msg), "%s:%u:%u: ", x->path, n->pos.line, n->pos.col);
        size_t l = strlen(msg);
        va_start(ap, fmt);
        vsnprintf(msg + l, sizeof(msg) - l, fmt, ap);
        va_end(ap);
        (void) kl__strv_push(x->warnings, msg);
}

/* A key kubelet-lite does not implement: listed in one summary warning (a
 * kubeadm-generated file has about twenty), not one line each. */
static void unsupported(struct ctx *x, const char *key) {
        if (x->warnings)
                (void) kl__strv_push(&x->unsupported, key);
}

static const char *scalar(const struct kl_yaml_node *n) {
        return n && n->type == KL_YAML_SCALAR ? n->scalar.value : NULL;
}

static int get_string(struct ctx *x, const char *key, const struct kl_yaml_node *v, char **dst) {
        const char *s = scalar(v);
        if (!s)
                return fail(x, v, key, "must be a string");
        char *n = strdup(s);
        if (!n)
                return kl_error_set(x->err, ENOMEM, "out of memory");
        free(*dst);
        *dst = n;
        return 0;
}

static int get_int(struct ctx *x, const char *key, const struct kl_yaml_node *v, int64_t min, int64_t max,
                   int64_t *dst) {
        const char *s = scalar(v);
        char *end;
        if (!s || v->scalar.kind != KL_YAML_INT)
                return fail(x, v, key, "must be an integer, got '%s'", strempty(s));
        /* YAML 1.2 core integers: decimal with a sign, 0o octal, 0x hex */
        const char *digits = s;
        bool neg = false;
        int base = 10;
        if (*digits == '-' || *digits == '+')
                neg = *digits++ == '-';
        if (digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'o')) {
                base = digits[1] == 'x' ? 16 : 8;
                digits += 2;
        }
        errno = 0;
        unsigned long long u = *digits >= '0' && *digits <= '9' ? strtoull(digits, &end, base) : 0;
        if (*digits < '0' || *digits > '9' || *end)
                return fail(x, v, key, "must be an integer, got '%s'", s);
        if (errno || u > (unsigned long long) INT64_MAX + (neg ? 1 : 0))
                return fail(x, v, key, "integer '%s' out of range", s);
        long long l = neg ? (long long) (0 - u) : (long long) u;
        if (l < min || l > max)
                return fail(x, v, key, "integer '%s' out of range [%lld, %lld]", s, (long long) min, (long long) max);
        *dst = l;
        return 0;
}

static int get_bool(struct ctx *x, const char *key, const struct kl_yaml_node *v, bool *dst) {
        const char *s = scalar(v);
        if (!s || v->scalar.kind != KL_YAML_BOOL)
                return fail(x, v, key, "must be true or false, got '%s'", strempty(s));
        *dst = streq(s, "true") || streq(s, "True") || streq(s, "TRUE");
        return 0;
}

static int get_duration(struct ctx *x, const char *key, const struct kl_yaml_node *v, uint64_t *dst) {
        const char *s = scalar(v);
        if (!s || kl_parse_duration(s, dst) < 0)
                return fail(x, v, key, "invalid duration '%s' (want e.g. 20s, 1m30s, 100ms)", strempty(s));
        return 0;
}

/* As upstream's SetDefaults_KubeletConfiguration (pkg/kubelet/apis/config/
 * v1beta1/defaults.go): a zero duration means "the default", which *dst
 * already holds (kubeadm writes "fileCheckFrequency: 0s" and the like). */
static int get_duration_or_default(struct ctx *x, const char *key, const struct kl_yaml_node *v, uint64_t *dst) {
        uint64_t u;
        int r = get_duration(x, key, v, &u);
        if (r >= 0 && u > 0)
                *dst = u;
        return r;
}

/* The same for strings: "" means the default (containerRuntimeEndpoint: ""). */
static int get_string_or_default(struct ctx *x, const char *key, const struct kl_yaml_node *v, char **dst) {
        const char *s = scalar(v);
        if (s && !*s)
                return 0;
        return get_string(x, key, v, dst);
}

/* {cpu: 500m, memory: 256Mi, pid: "100", ephemeral-storage: 1Gi} */
static int get_resources(struct ctx *x, const char *key, const struct kl_yaml_node *v,
                         struct kl_config_resources *dst) {
        if (!v || v->type != KL_YAML_MAPPING)
                return fail(x, v, key, "must be a mapping of resource names to quantities");
        for (size_t i = 0; i < v->map.n; i++) {
                const char *k = v->map.items[i].key->scalar.value;
                const struct kl_yaml_node *q = v->map.items[i].value;
                const char *s = scalar(q);
                char full[128];
                int r;
                snprintf(full, sizeof(full), "%s.%s", key, k);
                if (!s)
                        return fail(x, q, full, "must be a quantity");
                if (streq(k, "cpu"))
                        r = kl_quantity_parse_milli(s, &dst->cpu_milli);
                else if (streq(k, "memory"))
                        r = kl_quantity_parse_value(s, &dst->memory);
                else if (streq(k, "pid"))
                        r = kl_quantity_parse_value(s, &dst->pid);
                else if (streq(k, "ephemeral-storage"))
                        r = kl_quantity_parse_value(s, &dst->ephemeral);
                else {
                        unsupported(x, full);
                        continue;
                }
                if (r < 0)
                        return fail(x, q, full, "invalid quantity '%s'", s);
        }
        return 0;
}

static int parse_threshold(const char *s, struct kl_config_threshold *t) {
        size_t n = strlen(s);
        if (n > 1 && s[n - 1] == '%') {
                char *end;
                double p = strtod(s, &end);
                if (end != s + n - 1 || !(p >= 0 && p <= 100) || !((*s >= '0' && *s <= '9') || *s == '.'))
                        return -EINVAL; /* also NaN, "inf%", " 5%" */
                *t = (struct kl_config_threshold){.set = true, .quantity = -1, .percent = p};
                return 0;
        }
        int64_t v;
        if (kl_quantity_parse_value(s, &v) < 0)
                return -EINVAL;
        *t = (struct kl_config_threshold){.set = true, .quantity = v, .percent = 0};
        return 0;
}

static struct kl_config_threshold *eviction_field(struct kl_config_eviction *e, const char *signal, int *ret_idx) {
        static const char *names[] = {"memory.available", "nodefs.available", "nodefs.inodesFree", "pid.available"};
        struct kl_config_threshold *fields[] = {&e->memory_available, &e->nodefs_available, &e->nodefs_inodes_free,
                                                &e->pid_available};
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(signal, names[i])) {
                        if (ret_idx)
                                *ret_idx = (int) i;
                        return fields[i];
                }
        return NULL;
}

static int get_eviction(struct ctx *x, const char *key, const struct kl_yaml_node *v, struct kl_config_eviction *e,
                        bool replace) {
        if (!v || v->type != KL_YAML_MAPPING)
                return fail(x, v, key, "must be a mapping of signals to thresholds");
        /* As upstream: setting evictionHard replaces all of its defaults. */
        if (replace)
                *e = (struct kl_config_eviction){
                        .memory_available = {.quantity = -1},
                        .nodefs_available = {.quantity = -1},
                        .nodefs_inodes_free = {.quantity = -1},
                        .pid_available = {.quantity = -1},
                };
        for (size_t i = 0; i < v->map.n; i++) {
                const char *k = v->map.items[i].key->scalar.value;
                const char *s = scalar(v->map.items[i].value);
                struct kl_config_threshold *t = eviction_field(e, k, NULL);
                char full[128];
                snprintf(full, sizeof(full), "%s.%s", key, k);
                if (!t) {
                        unsupported(x, full);
                        continue;
                }
                if (!s || parse_threshold(s, t) < 0)
                        return fail(
                                x, v->map.items[i].value, full,
                                "invalid threshold '%s' (want a quantity such as 100Mi or a percentage such as 10%%)",
                                strempty(s));
        }
        return 0;
}

/* kubelet-lite creates pod cgroups itself, as cgroupfs paths (kubepods/...);
 * with cgroupDriver: systemd upstream asks systemd for kubepods.slice units
 * instead. Doing one thing while the file says the other would put the
 * containers (runc with SystemdCgroup = true) and our limits in different
 * trees, so systemd is refused, naming the fix. */
static int get_cgroup_driver(struct ctx *x, const char *key, const struct kl_yaml_node *v) {
        const char *s = scalar(v);
        if (s && (streq(s, "cgroupfs") || !*s))
                return 0;
        if (s && streq(s, "systemd"))
                return fail(x, v, key,
                            "'systemd' is not supported: kubelet-lite manages pod cgroups through cgroupfs; "
                            "set cgroupDriver: cgroupfs (and SystemdCgroup = false in containerd's runc options)");
        return fail(x, v, key, "must be cgroupfs, got '%s'", strempty(s));
}

/* logging: {verbosity, format, flushFrequency, options} (component-base's
 * LoggingConfiguration). verbosity is --v; lines are written as they come,
 * which satisfies any flushFrequency; format text only. */
static int get_logging(struct ctx *x, const char *key, const struct kl_yaml_node *v) {
        int64_t i64;
        int r = 0;

        if (!v || v->type != KL_YAML_MAPPING)
                return fail(x, v, key, "must be a mapping");
        for (size_t i = 0; i < v->map.n && r >= 0; i++) {
                const char *k = v->map.items[i].key->scalar.value;
                const struct kl_yaml_node *val = v->map.items[i].value;
                char full[128];
                snprintf(full, sizeof(full), "%s.%s", key, k);
                if (streq(k, "verbosity")) {
                        if ((r = get_int(x, full, val, 0, 100, &i64)) >= 0)
                                x->cfg->verbosity = (int) i64;
                } else if (streq(k, "format")) {
                        const char *f = scalar(val);
                        if (!f || (*f && !streq(f, "text")))
                                r = fail(x, val, full, "only text is supported, got '%s'", strempty(f));
                } else if (streq(k, "flushFrequency"))
                        continue;
                else if (streq(k, "options")) {
                        /* kubeadm writes {json: {infoBufferSize: "0"}}: json options, and json is not used */
                        if (val->type != KL_YAML_MAPPING)
                                r = fail(x, val, full, "must be a mapping");
                        for (size_t j = 0; r >= 0 && j < val->map.n; j++)
                                if (!streq(val->map.items[j].key->scalar.value, "json")) {
                                        char sub[192];
                                        snprintf(sub, sizeof(sub), "%s.%s", full, val->map.items[j].key->scalar.value);
                                        unsupported(x, sub);
                                }
                } else
                        unsupported(x, full);
        }
        return r;
}

/* manifestSuffixes: [.yaml, .yml, .json, .manifest] or ["*"] (kubelet-lite's
 * own key): which names in staticPodPath are read. */
static int get_suffixes(struct ctx *x, const char *key, const struct kl_yaml_node *v) {
        char **n = NULL;

        if (!v || v->type != KL_YAML_SEQUENCE || v->seq.n == 0)
                return fail(x, v, key, "must be a non-empty list of suffixes such as .yaml, or \"*\"");
        for (size_t i = 0; i < v->seq.n; i++) {
                const char *s = scalar(v->seq.items[i]);
                if (!s || !*s || strchr(s, '/') || (strchr(s, '*') && !streq(s, "*"))) {
                        kl__strv_free(n);
                        return fail(x, v->seq.items[i], key,
                                    "invalid suffix '%s' (want a name ending such as .manifest, or \"*\" for every "
                                    "file)",
                                    strempty(s));
                }
                if (kl__strv_push(&n, s) < 0) {
                        kl__strv_free(n);
                        return kl_error_set(x->err, ENOMEM, "out of memory");
                }
        }
        kl__strv_free(x->cfg->manifest_suffixes);
        x->cfg->manifest_suffixes = n;
        return 0;
}

/* allowedUnsafeSysctls: ["kernel.msg*", "net.core.somaxconn"], checked as
 * upstream does at start-up (only namespaced sysctls may be allowed). */
static int get_unsafe_sysctls(struct ctx *x, const char *key, const struct kl_yaml_node *v) {
        char **n = NULL;
        struct kl_error e = {};

        if (!v || v->type != KL_YAML_SEQUENCE)
                return fail(x, v, key, "must be a list of sysctl names or prefixes ending in '*'");
        for (size_t i = 0; i < v->seq.n; i++) {
                const char *s = scalar(v->seq.items[i]);
                char *one[] = {(char *) s, NULL};
                if (!s || !*s || kl_sysctl_check_config(one, &e) < 0) {
                        kl__strv_free(n);
                        return fail(x, v->seq.items[i], key, "%s", s && *s ? kl_error_str(&e) : "empty name");
                }
                if (kl__strv_push(&n, s) < 0) {
                        kl__strv_free(n);
                        return kl_error_set(x->err, ENOMEM, "out of memory");
                }
        }
        kl__strv_free(x->cfg->allowed_unsafe_sysctls);
        x->cfg->allowed_unsafe_sysctls = n;
        return 0;
}

/* As upstream's ValidateKubeletConfiguration (pkg/kubelet/apis/config/
 * validation), after the defaults: both thresholds in [0, 100], low below
 * high, a maximum age above the minimum one. Go durations cannot be negative
 * here (kl_parse_duration refuses a sign). */
static int check_image_gc(struct ctx *x, const struct kl_yaml_node *const gc[4]) {
        const struct kl_config *c = x->cfg;

        if (c->image_gc_high_threshold_percent < 0 || c->image_gc_high_threshold_percent > 100)
                return fail(x, gc[0], "imageGCHighThresholdPercent", "%d must be between 0 and 100, inclusive",
                            c->image_gc_high_threshold_percent);
        if (c->image_gc_low_threshold_percent < 0 || c->image_gc_low_threshold_percent > 100)
                return fail(x, gc[1], "imageGCLowThresholdPercent", "%d must be between 0 and 100, inclusive",
                            c->image_gc_low_threshold_percent);
        if (c->image_gc_low_threshold_percent >= c->image_gc_high_threshold_percent)
                return fail(x, gc[1] ? gc[1] : gc[0], "imageGCLowThresholdPercent",
                            "%d must be less than imageGCHighThresholdPercent %d", c->image_gc_low_threshold_percent,
                            c->image_gc_high_threshold_percent);
        if (c->image_maximum_gc_age_usec > 0 && c->image_maximum_gc_age_usec <= c->image_minimum_gc_age_usec)
                return fail(x, gc[3] ? gc[3] : gc[2], "imageMaximumGCAge",
                            "%.0fs must be greater than imageMinimumGCAge %.0fs",
                            (double) c->image_maximum_gc_age_usec / 1e6, (double) c->image_minimum_gc_age_usec / 1e6);
        return 0;
}

static int parse_root(struct ctx *x, const struct kl_yaml_node *root) {
        struct kl_config *c = x->cfg;
        const struct kl_yaml_node *gc[4] = {}; /* the image GC keys, for errors: high, low, min, max */
        int64_t i64;
        int r = 0;

        if (!root || root->type != KL_YAML_MAPPING)
                return kl_error_set(x->err, EINVAL, "%s: not a KubeletConfiguration mapping", x->path);
        const char *api = scalar(kl_yaml_map_get(root, "apiVersion"));
        const char *kind = scalar(kl_yaml_map_get(root, "kind"));
        if (!kind || !streq(kind, "KubeletConfiguration"))
                return fail(x, kl_yaml_map_get(root, "kind") ? kl_yaml_map_get(root, "kind") : root, "kind",
                            "must be KubeletConfiguration, got '%s'", strempty(kind));
        if (!api || (!streq(api, "kubelet.config.k8s.io/v1beta1") && !streq(api, "kubelet.config.k8s.io/v1")))
                return fail(x, kl_yaml_map_get(root, "apiVersion") ? kl_yaml_map_get(root, "apiVersion") : root,
                            "apiVersion", "must be kubelet.config.k8s.io/v1beta1, got '%s'", strempty(api));

        for (size_t i = 0; i < root->map.n && r >= 0; i++) {
                const char *k = root->map.items[i].key->scalar.value;
                const struct kl_yaml_node *v = root->map.items[i].value;
                if (streq(k, "apiVersion") || streq(k, "kind"))
                        continue;
                else if (streq(k, "staticPodPath"))
                        r = get_string_or_default(x, k, v, &c->static_pod_path);
                else if (streq(k, "fileCheckFrequency"))
                        r = get_duration_or_default(x, k, v, &c->file_check_frequency_usec);
                else if (streq(k, "containerRuntimeEndpoint"))
                        r = get_string_or_default(x, k, v, &c->container_runtime_endpoint);
                else if (streq(k, "runtimeRequestTimeout"))
                        r = get_duration_or_default(x, k, v, &c->runtime_request_timeout_usec);
                else if (streq(k, "podLogsDir"))
                        r = get_string_or_default(x, k, v, &c->pod_logs_dir);
                else if (streq(k, "containerLogLinksDir"))
                        r = get_string(x, k, v, &c->container_log_links_dir);
                else if (streq(k, "healthzBindAddress"))
                        r = get_string_or_default(x, k, v, &c->healthz_bind_address);
                else if (streq(k, "healthzPort")) {
                        if ((r = get_int(x, k, v, 0, 65535, &i64)) >= 0)
                                c->healthz_port = (int) i64;
                } else if (streq(k, "address"))
                        r = get_string_or_default(x, k, v, &c->address);
                else if (streq(k, "readOnlyPort")) {
                        if ((r = get_int(x, k, v, 0, 65535, &i64)) >= 0)
                                c->read_only_port = (int) i64;
                } else if (streq(k, "cgroupsPerQOS"))
                        r = get_bool(x, k, v, &c->cgroups_per_qos);
                else if (streq(k, "cgroupRoot"))
                        r = get_string_or_default(x, k, v, &c->cgroup_root);
                else if (streq(k, "systemReserved"))
                        r = get_resources(x, k, v, &c->system_reserved);
                else if (streq(k, "kubeReserved"))
                        r = get_resources(x, k, v, &c->kube_reserved);
                else if (streq(k, "evictionHard"))
                        r = get_eviction(x, k, v, &c->eviction_hard, true);
                else if (streq(k, "evictionSoft"))
                        r = get_eviction(x, k, v, &c->eviction_soft, false);
                else if (streq(k, "evictionSoftGracePeriod")) {
                        if (v->type != KL_YAML_MAPPING) {
                                r = fail(x, v, k, "must be a mapping of signals to durations");
                                break;
                        }
                        for (size_t j = 0; j < v->map.n && r >= 0; j++) {
                                const char *sig = v->map.items[j].key->scalar.value;
                                char full[128];
                                int idx;
                                snprintf(full, sizeof(full), "%s.%s", k, sig);
                                if (!eviction_field(&c->eviction_soft, sig, &idx)) {
                                        unsupported(x, full);
                                        continue;
                                }
                                r = get_duration(x, full, v->map.items[j].value, &c->eviction_soft_grace_usec[idx]);
                        }
                } else if (streq(k, "evictionPressureTransitionPeriod"))
                        r = get_duration_or_default(x, k, v, &c->eviction_pressure_transition_usec);
                else if (streq(k, "enforceNodeAllocatable")) {
                        if (v->type != KL_YAML_SEQUENCE) {
                                r = fail(x, v, k, "must be a list");
                                break;
                        }
                        c->enforce_node_allocatable_pods = false;
                        for (size_t j = 0; j < v->seq.n; j++) {
                                const char *s = scalar(v->seq.items[j]);
                                if (s && streq(s, "pods"))
                                        c->enforce_node_allocatable_pods = true;
                                else if (s &&
                                         (streq(s, "system-reserved") || streq(s, "kube-reserved") || streq(s, "none")))
                                        warn(x, v->seq.items[j], "enforceNodeAllocatable \"%s\" is not enforced", s);
                                else
                                        r = fail(x, v->seq.items[j], k, "unknown value '%s'", strempty(s));
                        }
                } else if (streq(k, "reservedSystemCPUs"))
                        r = get_string(x, k, v, &c->reserved_system_cpus);
                else if (streq(k, "maxPods")) {
                        if ((r = get_int(x, k, v, 0, 100000, &i64)) >= 0 && i64 > 0) /* 0: upstream's 110 */
                                c->max_pods = (int) i64;
                } else if (streq(k, "podPidsLimit"))
                        r = get_int(x, k, v, -1, INT64_MAX, &c->pod_pids_limit);
                else if (streq(k, "cpuCFSQuotaPeriod"))
                        r = get_duration_or_default(x, k, v, &c->cpu_cfs_quota_period_usec);
                else if (streq(k, "cpuManagerPolicy"))
                        r = get_string_or_default(x, k, v, &c->cpu_manager_policy);
                else if (streq(k, "containerLogMaxSize")) {
                        const char *s = scalar(v);
                        if (s && !*s)
                                continue; /* "": upstream's 10Mi */
                        if (!s || kl_quantity_parse_value(s, &c->container_log_max_size) < 0 ||
                            c->container_log_max_size <= 0)
                                r = fail(x, v, k, "invalid quantity '%s'", strempty(s));
                } else if (streq(k, "containerLogMaxFiles")) {
                        if ((r = get_int(x, k, v, 2, 1000, &i64)) >= 0)
                                c->container_log_max_files = (int) i64;
                } else if (streq(k, "containerLogMonitorInterval")) {
                        uint64_t u;
                        r = get_duration(x, k, v, &u);
                        if (r >= 0 && u > 0 && u < 1000000)
                                r = fail(x, v, k, "must be at least 1s (0 means the default, 10s)");
                        else if (r >= 0 && u > 0)
                                c->container_log_monitor_interval_usec = u;
                } else if (streq(k, "crashLoopBackOff")) {
                        /* upstream (KubeletCrashLoopBackOffMax): maxContainerRestartPeriod;
                         * ours, for tests and impatient devices: initialContainerRestartPeriod */
                        if (v->type != KL_YAML_MAPPING) {
                                r = fail(x, v, k, "must be a mapping");
                                break;
                        }
                        const struct kl_yaml_node *m = kl_yaml_map_get(v, "maxContainerRestartPeriod");
                        const struct kl_yaml_node *in = kl_yaml_map_get(v, "initialContainerRestartPeriod");
                        const struct kl_yaml_node *rs = kl_yaml_map_get(v, "resetPeriod");
                        for (size_t j = 0; j < v->map.n; j++) {
                                const char *sub = v->map.items[j].key->scalar.value;
                                char full[128];
                                snprintf(full, sizeof(full), "%s.%s", k, sub);
                                if (!streq(sub, "maxContainerRestartPeriod") &&
                                    !streq(sub, "initialContainerRestartPeriod") && !streq(sub, "resetPeriod"))
                                        unsupported(x, full);
                        }
                        if (m)
                                r = get_duration(x, "crashLoopBackOff.maxContainerRestartPeriod", m,
                                                 &c->crashloop_max_usec);
                        if (r >= 0 && in)
                                r = get_duration(x, "crashLoopBackOff.initialContainerRestartPeriod", in,
                                                 &c->crashloop_initial_usec);
                        if (r >= 0 && rs)
                                r = get_duration(x, "crashLoopBackOff.resetPeriod", rs, &c->crashloop_reset_usec);
                } else if (streq(k, "imagePullFallbackToLocal"))
                        r = get_bool(x, k, v, &c->image_pull_fallback_to_local);
                else if (streq(k, "imagePreloadDir"))
                        r = get_string(x, k, v, &c->image_preload_dir);
                else if (streq(k, "imageGCHighThresholdPercent")) {
                        if ((r = get_int(x, k, v, INT32_MIN, INT32_MAX, &i64)) >= 0)
                                c->image_gc_high_threshold_percent = (int) i64;
                        gc[0] = v;
                } else if (streq(k, "imageGCLowThresholdPercent")) {
                        if ((r = get_int(x, k, v, INT32_MIN, INT32_MAX, &i64)) >= 0)
                                c->image_gc_low_threshold_percent = (int) i64;
                        gc[1] = v;
                } else if (streq(k, "imageMinimumGCAge")) {
                        r = get_duration_or_default(x, k, v, &c->image_minimum_gc_age_usec);
                        gc[2] = v;
                } else if (streq(k, "imageMaximumGCAge")) {
                        r = get_duration(x, k, v, &c->image_maximum_gc_age_usec);
                        gc[3] = v;
                } else if (streq(k, "syncLoopStuckThreshold"))
                        r = get_duration_or_default(x, k, v, &c->syncloop_stuck_usec);
                else if (streq(k, "strictManifests"))
                        r = get_bool(x, k, v, &c->strict_manifests);
                else if (streq(k, "cgroupDriver"))
                        r = get_cgroup_driver(x, k, v);
                else if (streq(k, "logging"))
                        r = get_logging(x, k, v);
                else if (streq(k, "manifestSuffixes"))
                        r = get_suffixes(x, k, v);
                else if (streq(k, "allowedUnsafeSysctls"))
                        r = get_unsafe_sysctls(x, k, v);
                else if (streq(k, "apiFacadeAddress")) /* ours: the API facade */
                        r = get_string(x, k, v, &c->api_facade_address);
                else if (streq(k, "apiFacadePort")) {
                        if ((r = get_int(x, k, v, 0, 65535, &i64)) >= 0)
                                c->api_facade_port = (int) i64;
                } else
                        unsupported(x, k);
        }
        if (r >= 0)
                r = check_image_gc(x, gc);
        return r;
}

int kl_config_load_buffer(struct kl_config *c, const char *path, const char *buf, size_t len, char ***ret_warnings,
                          struct kl_error *reterr) {
        struct kl_yaml_doc *docs = NULL;
        struct kl_yaml_error yerr = {};
        struct kl_yaml_limits lim = {.max_depth = 16, .max_nodes = 10000, .max_scalar_len = 4096, .max_documents = 1};
        size_t n = 0;
        int r;

        if (ret_warnings)
                *ret_warnings = NULL;
        if (len > CONFIG_MAX_SIZE)
                return kl_error_set(reterr, EFBIG, "%s: larger than %d bytes", path, CONFIG_MAX_SIZE);
        r = kl_yaml_parse(buf, len, &lim, &docs, &n, &yerr);
        if (r < 0)
                return kl_error_set(reterr, r, "%s:%u:%u: %s", path, yerr.pos.line, yerr.pos.col, yerr.msg);
        struct ctx x = {.path = path, .cfg = c, .warnings = ret_warnings, .err = reterr};
        r = parse_root(&x, n > 0 ? docs[0].root : NULL);
        kl_yaml_docs_free(docs, n);
        if (x.unsupported && ret_warnings) {
                _cleanup_free_ char *list = kl__strv_join(x.unsupported, ", ");
                char *msg = NULL;
                size_t count = kl__strv_length(x.unsupported);
                if (list && asprintf(&msg, "%s: ignoring %zu key%s kubelet-lite does not implement: %s", path, count,
                                     count == 1 ? "" : "s", list) >= 0)
                        (void) kl__strv_push_consume(ret_warnings, msg);
        }
        kl__strv_free(x.unsupported);
        return r;
}

int kl_config_load_file(struct kl_config *c, const char *path, char ***ret_warnings, struct kl_error *reterr) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r;

        if (ret_warnings)
                *ret_warnings = NULL;
        r = kl_read_file_at(AT_FDCWD, path, CONFIG_MAX_SIZE, 0, &buf, &len);
        if (r == -EFBIG)
                return kl_error_set(reterr, r, "%s: larger than %d bytes", path, CONFIG_MAX_SIZE);
        if (r < 0)
                return kl_error_set(reterr, r, "%s: %s", path, strerror(-r));
        return kl_config_load_buffer(c, path, buf, len, ret_warnings, reterr);
}
