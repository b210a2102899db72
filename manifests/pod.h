/* SPDX-License-Identifier: Apache-2.0 */
/* The Pod model: what a manifest means once parsed, validated and defaulted.
 * Produced by manifests/, consumed by the daemon. Plain C data: every string
 * is heap-owned by the pod, arrays are (ptr, n) pairs, string lists are
 * NULL-terminated (strv). Integers that may be absent use -1 ("unset") unless
 * documented otherwise. Each object records the line/column of its mapping in
 * the source so later stages can point at the file. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KL_UNSET (-1)

struct kl_pos {
        unsigned line, col; /* 1-based; 0 when unknown */
};

struct kl_kv {
        char *key;
        char *value;
};

enum kl_restart_policy {
        KL_RESTART_UNSET = 0, /* containers only: not a sidecar */
        KL_RESTART_ALWAYS,
        KL_RESTART_ON_FAILURE,
        KL_RESTART_NEVER,
};

enum kl_pull_policy {
        KL_PULL_IF_NOT_PRESENT = 0,
        KL_PULL_ALWAYS,
        KL_PULL_NEVER,
};

enum kl_dns_policy {
        KL_DNS_CLUSTER_FIRST = 0,
        KL_DNS_CLUSTER_FIRST_WITH_HOST_NET,
        KL_DNS_DEFAULT,
        KL_DNS_NONE,
};

enum kl_qos_class {
        KL_QOS_BEST_EFFORT = 0,
        KL_QOS_BURSTABLE,
        KL_QOS_GUARANTEED,
};

/* Resource amounts in canonical units. -1 when not given. */
/* An extended resource of a container ("example.com/dongle: 2"): upstream's
 * validation makes requests equal limits and a whole number, so one count. */
struct kl_extended_resource {
        char *name;
        int64_t count;
};

struct kl_resources {
        int64_t cpu_request_milli, cpu_limit_milli;
        int64_t memory_request, memory_limit;       /* bytes */
        int64_t ephemeral_request, ephemeral_limit; /* bytes */
};

/* valueFrom.resourceFieldRef, and the same in downwardAPI volume items. */
struct kl_resource_ref {
        char *resource;       /* "limits.cpu", "requests.memory", ...; NULL when unused */
        char *container_name; /* NULL: the container itself (env only) */
        int64_t divisor;      /* milli-CPU for cpu resources, bytes otherwise; 0 means 1 (the default) */
};

struct kl_env {
        char *name;
        char *value;                         /* literal value (may be ""), NULL when a valueFrom source is used */
        char *field_ref;                     /* valueFrom.fieldRef.fieldPath, e.g. "metadata.name" or
                          * "metadata.labels['app']" */
        struct kl_resource_ref resource_ref; /* valueFrom.resourceFieldRef */
        struct kl_pos pos;                   /* added: where the entry is in the manifest */
};

struct kl_port {
        char *name;
        int container_port;
        int host_port;  /* 0 when unset */
        char *protocol; /* "TCP" (default), "UDP", "SCTP" */
        char *host_ip;
        struct kl_pos pos; /* added */
};

enum kl_mount_propagation {
        KL_PROPAGATION_NONE = 0, /* "None" or unset: private */
        KL_PROPAGATION_HOST_TO_CONTAINER,
        KL_PROPAGATION_BIDIRECTIONAL, /* privileged containers only */
};

struct kl_volume_mount {
        char *name;
        char *mount_path;
        char *sub_path;
        bool read_only;
        enum kl_mount_propagation propagation;
        struct kl_pos pos; /* added */
};

enum kl_handler_kind {
        KL_HANDLER_NONE = 0,
        KL_HANDLER_EXEC,
        KL_HANDLER_HTTP_GET,
        KL_HANDLER_TCP_SOCKET,
        KL_HANDLER_SLEEP, /* lifecycle preStop/postStart only */
        KL_HANDLER_GRPC,  /* probes only: grpc.health.v1.Health/Check on port */
};

struct kl_handler {
        enum kl_handler_kind kind;
        char **exec_command; /* EXEC */
        char *host;          /* HTTP_GET, TCP_SOCKET: NULL means pod IP / 127.0.0.1 */
        char *path;          /* HTTP_GET, default "/"; GRPC: the service asked for, NULL for "" */
        int port;            /* numeric port, 0 when port_name is used */
        char *port_name;     /* named container port */
        char *scheme;        /* "HTTP" (default) or "HTTPS" */
        struct kl_kv *http_headers;
        size_t n_http_headers;
        int64_t sleep_seconds; /* SLEEP */
        struct kl_pos pos;     /* added */
};

struct kl_probe {
        bool set;
        struct kl_handler handler;
        /* Defaults are upstream's: 0, 1, 10, 1, 3. */
        int initial_delay_seconds;
        int timeout_seconds;
        int period_seconds;
        int success_threshold;
        int failure_threshold;
        int64_t termination_grace_period_seconds; /* -1 unset */
        struct kl_pos pos;
};

enum kl_seccomp {
        KL_SECCOMP_UNSET = 0,
        KL_SECCOMP_RUNTIME_DEFAULT,
        KL_SECCOMP_UNCONFINED,
        KL_SECCOMP_LOCALHOST,
};

/* Container-level securityContext; tri-states are -1 unset, 0 false, 1 true. */
struct kl_security_context {
        int privileged;
        int64_t run_as_user;  /* -1 unset */
        int64_t run_as_group; /* -1 unset */
        int run_as_non_root;
        int read_only_root_filesystem;
        int allow_privilege_escalation;
        char **capabilities_add;  /* e.g. "NET_ADMIN" (no CAP_ prefix, as in k8s) */
        char **capabilities_drop; /* may contain "ALL" */
        enum kl_seccomp seccomp;
        char *seccomp_localhost_profile;
};

/* Pod-level securityContext. */
struct kl_pod_security_context {
        int64_t run_as_user;
        int64_t run_as_group;
        int run_as_non_root;
        int64_t fs_group; /* -1 unset */
        int64_t *supplemental_groups;
        size_t n_supplemental_groups;
        enum kl_seccomp seccomp;
        char *seccomp_localhost_profile;
        struct kl_kv *sysctls;
        size_t n_sysctls;
};

enum kl_termination_message_policy {
        KL_TERMINATION_MESSAGE_FILE = 0,
        KL_TERMINATION_MESSAGE_FALLBACK_TO_LOGS,
};

struct kl_container {
        char *name;
        char *image;
        enum kl_pull_policy image_pull_policy; /* defaulted: Always for :latest or no tag */
        char **command;                        /* NULL when not given */
        char **args;                           /* NULL when not given */
        char *working_dir;
        struct kl_env *env;
        size_t n_env;
        struct kl_port *ports;
        size_t n_ports;
        struct kl_resources resources;
        struct kl_extended_resource *extended; /* added: resources.limits of device plugins */
        size_t n_extended;
        struct kl_volume_mount *volume_mounts;
        size_t n_volume_mounts;
        struct kl_probe liveness, readiness, startup;
        struct kl_handler post_start, pre_stop; /* lifecycle; kind NONE when absent */
        struct kl_security_context security_context;
        enum kl_restart_policy restart_policy; /* init containers: ALWAYS marks a sidecar */
        char *termination_message_path;        /* default /dev/termination-log */
        enum kl_termination_message_policy termination_message_policy;
        bool stdin, stdin_once, tty;
        struct kl_pos pos;
};

enum kl_volume_kind {
        KL_VOLUME_HOST_PATH = 1,
        KL_VOLUME_EMPTY_DIR,
        KL_VOLUME_DOWNWARD_API,
};

/* One file of a downwardAPI volume: exactly one of field_ref and resource_ref. */
struct kl_downward_item {
        char *path; /* relative, no "..", may contain '/' */
        char *field_ref;
        struct kl_resource_ref resource_ref;
        int mode; /* -1: the volume's defaultMode */
};

enum kl_host_path_type {
        KL_HOST_PATH_UNSET = 0, /* "" : no check */
        KL_HOST_PATH_DIRECTORY_OR_CREATE,
        KL_HOST_PATH_DIRECTORY,
        KL_HOST_PATH_FILE_OR_CREATE,
        KL_HOST_PATH_FILE,
        KL_HOST_PATH_SOCKET,
        KL_HOST_PATH_CHAR_DEVICE,
        KL_HOST_PATH_BLOCK_DEVICE,
};

struct kl_volume {
        char *name;
        enum kl_volume_kind kind;
        char *host_path; /* HOST_PATH */
        enum kl_host_path_type host_path_type;
        bool medium_memory;             /* EMPTY_DIR: medium: Memory */
        int64_t size_limit;             /* EMPTY_DIR: bytes, -1 unset */
        struct kl_downward_item *items; /* DOWNWARD_API */
        size_t n_items;
        int default_mode; /* DOWNWARD_API: defaulted to 0644 */
        struct kl_pos pos;
};

struct kl_host_alias {
        char *ip;
        char **hostnames;
};

struct kl_dns_config {
        char **nameservers;
        char **searches;
        struct kl_kv *options; /* value may be NULL */
        size_t n_options;
};

/* terminationGracePeriodSeconds when the manifest gives none (upstream's
 * DefaultTerminationGracePeriodSeconds) */
#define KL_DEFAULT_TERMINATION_GRACE_SECONDS 30

struct kl_pod {
        /* metadata */
        char *name;      /* as written in the manifest */
        char *namespace; /* defaulted to "default" */
        struct kl_kv *labels;
        size_t n_labels;
        struct kl_kv *annotations;
        size_t n_annotations;

        /* identity, filled by kl_pod_set_identity() */
        char *full_name;   /* "<name>-<node>" as upstream names static pods */
        char *uid;         /* stable, derived from content + node + source */
        char *config_hash; /* kubernetes.io/config.hash; equals uid as upstream */
        char *source;      /* the file it came from */
        char *node_name;

        /* spec */
        struct kl_container *containers;
        size_t n_containers;
        struct kl_container *init_containers;
        size_t n_init_containers;
        enum kl_restart_policy restart_policy;    /* defaulted: ALWAYS */
        int64_t termination_grace_period_seconds; /* defaulted: 30 */
        int64_t active_deadline_seconds;          /* -1 unset */
        bool host_network, host_pid, host_ipc;
        bool share_process_namespace;       /* one PID namespace for the pod (CRI pid mode POD) */
        struct kl_host_alias *host_aliases; /* written into the managed /etc/hosts */
        size_t n_host_aliases;
        char *service_account_name; /* only for fieldRef spec.serviceAccountName */
        char *hostname;             /* NULL unless given */
        char *subdomain;
        enum kl_dns_policy dns_policy;
        struct kl_dns_config dns_config;
        bool has_dns_config;
        struct kl_volume *volumes;
        size_t n_volumes;
        struct kl_pod_security_context security_context;
        char *priority_class_name;
        int32_t priority;
        bool has_priority;

        struct kl_pos pos;

        /* added: SHA-256 of the canonical form of the manifest document this pod
         * came from (set by the parser; input to kl_pod_set_identity()) */
        uint8_t content_digest[32];
        bool has_content_digest;
};

struct kl_pod *kl_pod_free(struct kl_pod *p);
static inline void kl_pod_freep(struct kl_pod **p) {
        if (*p)
                *p = kl_pod_free(*p);
}
#define _cleanup_pod_ __attribute__((cleanup(kl_pod_freep)))

/* Deep copy; NULL on OOM. */
struct kl_pod *kl_pod_dup(const struct kl_pod *p);

/* Upstream's QoS rules (pkg/apis/core/v1/helper/qos). */
enum kl_qos_class kl_pod_qos_class(const struct kl_pod *p);
const char *kl_qos_class_to_string(enum kl_qos_class c); /* "Guaranteed", ... */

/* Effective pod requests/limits as upstream computes them for admission:
 * max(sum over app containers + sidecars, max over each init container).
 * Each init container counts with the sidecars started before it. A limit is
 * -1 (unbounded) unless every container declares it, as upstream's pod
 * cgroup; a request is -1 only when no container declares it. */
void kl_pod_effective_resources(const struct kl_pod *p, struct kl_resources *ret);

const char *kl_restart_policy_to_string(enum kl_restart_policy p);
const char *kl_pull_policy_to_string(enum kl_pull_policy p);
const char *kl_dns_policy_to_string(enum kl_dns_policy p);

/* Added. */
const char *kl_termination_message_policy_to_string(enum kl_termination_message_policy p);
const char *kl_host_path_type_to_string(enum kl_host_path_type t); /* "" for UNSET */
const char *kl_seccomp_to_string(enum kl_seccomp s);               /* NULL for UNSET */

/* Fill full_name ("<name>-<node>"), node_name, source, uid and config_hash
 * (equal, 32 lowercase hex characters). The uid is a hash of the manifest
 * document's content (content_digest; name and namespace when the pod was not
 * parsed), the node name and the source path, so rewriting a file with the
 * same content keeps the uid and any change of content, node or path makes a
 * new one. -EINVAL when the full name is not a DNS-1123 subdomain of at most
 * 253 characters, -ENOMEM. */
int kl_pod_set_identity(struct kl_pod *pod, const char *node_name, const char *source_path);
