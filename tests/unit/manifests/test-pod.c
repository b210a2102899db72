/* SPDX-License-Identifier: Apache-2.0 */
/* Manifest -> Pod model: mapping, upstream's defaults, validation, QoS class,
 * effective resources, deep copy. */
#include <errno.h>
#include <string.h>

#include "lib/macros.h"
#include "manifests/manifest.h"
#include "manifests/pod.h"
#include "tests/lib/tests.h"

#define HDR "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n"
#define ONE_CONTAINER "spec:\n  containers:\n  - name: c\n    image: busybox:1\n"

static struct kl_manifest parse_opts(const char *yaml, const struct kl_manifest_opts *o) {
        struct kl_manifest m;
        int r = kl_manifest_parse(yaml, strlen(yaml), "t.yaml", "node1", o, &m);
        ASSERT_TRUE(r == 0 || r == -EINVAL);
        ASSERT_EQ(r == 0, m.errors == NULL);
        return m;
}

static struct kl_manifest parse(const char *yaml) {
        return parse_opts(yaml, NULL);
}

static void dump(const struct kl_manifest *m) {
        for (char **e = m->errors; e && *e; e++)
                fprintf(stderr, "  error: %s\n", *e);
        for (char **e = m->warnings; e && *e; e++)
                fprintf(stderr, "  warning: %s\n", *e);
}

/* Parse a valid single-pod manifest. */
static struct kl_pod *parse_pod(const char *yaml, struct kl_manifest *m) {
        *m = parse(yaml);
        if (m->errors)
                dump(m);
        ASSERT_NULL(m->errors);
        ASSERT_EQ(m->n_pods, 1);
        return m->pods[0];
}

/* Expect exactly these error lines (NULL-terminated). */
static void expect_errors(const char *yaml, const char *const *want) {
        struct kl_manifest m = parse(yaml);
        size_t n = 0;
        while (want[n])
                n++;
        bool ok = m.errors != NULL && m.n_pods == 0;
        for (size_t i = 0; ok && i < n; i++)
                ok = m.errors[i] && streq_ptr(m.errors[i], want[i]);
        if (ok)
                ok = m.errors[n] == NULL;
        if (!ok) {
                for (size_t i = 0; i < n; i++)
                        fprintf(stderr, "  want:  %s\n", want[i]);
                dump(&m);
        }
        ASSERT_TRUE(ok);
        for (size_t i = 0; i < n; i++)
                printf("  %s\n", want[i]);
        kl_manifest_done(&m);
}

#define EXPECT_ERRORS(yaml, ...) expect_errors(yaml, (const char *const[]){__VA_ARGS__, NULL})

TEST(minimal_pod_defaults) {
        struct kl_manifest m;
        struct kl_pod *p = parse_pod(HDR ONE_CONTAINER, &m);
        const struct kl_container *c = &p->containers[0];

        ASSERT_STREQ(p->name, "p");
        ASSERT_STREQ(p->namespace, "default");
        ASSERT_EQ(p->restart_policy, KL_RESTART_ALWAYS);
        ASSERT_EQ(p->termination_grace_period_seconds, 30);
        ASSERT_EQ(p->active_deadline_seconds, -1);
        ASSERT_EQ(p->dns_policy, KL_DNS_CLUSTER_FIRST);
        ASSERT_FALSE(p->host_network);
        ASSERT_FALSE(p->has_priority);
        ASSERT_EQ(p->security_context.run_as_user, -1);
        ASSERT_EQ(p->security_context.fs_group, -1);
        ASSERT_STREQ(p->full_name, "p-node1");
        ASSERT_STREQ(p->node_name, "node1");
        ASSERT_STREQ(p->source, "t.yaml");
        ASSERT_EQ(strlen(p->uid), 32);
        ASSERT_STREQ(p->uid, p->config_hash);
        ASSERT_EQ(p->pos.line, 1);

        ASSERT_EQ(p->n_containers, 1);
        ASSERT_EQ(p->n_init_containers, 0);
        ASSERT_STREQ(c->name, "c");
        ASSERT_EQ(c->image_pull_policy, KL_PULL_IF_NOT_PRESENT);
        ASSERT_NULL(c->command);
        ASSERT_NULL(c->args);
        ASSERT_STREQ(c->termination_message_path, "/dev/termination-log");
        ASSERT_EQ(c->termination_message_policy, KL_TERMINATION_MESSAGE_FILE);
        ASSERT_EQ(c->restart_policy, KL_RESTART_UNSET);
        ASSERT_EQ(c->resources.cpu_request_milli, -1);
        ASSERT_EQ(c->resources.memory_limit, -1);
        ASSERT_EQ(c->security_context.privileged, -1);
        ASSERT_EQ(c->security_context.run_as_user, -1);
        ASSERT_FALSE(c->liveness.set);
        ASSERT_EQ(c->pre_stop.kind, KL_HANDLER_NONE);
        ASSERT_EQ(c->pos.line, 7);
        ASSERT_EQ(c->pos.col, 5);
        ASSERT_EQ(kl_pod_qos_class(p), KL_QOS_BEST_EFFORT);
        kl_manifest_done(&m);
}

TEST(image_pull_policy_defaults) {
        static const struct {
                const char *image;
                enum kl_pull_policy want;
        } cases[] = {
                {"busybox", KL_PULL_ALWAYS},
                {"busybox:latest", KL_PULL_ALWAYS},
                {"busybox:1.36", KL_PULL_IF_NOT_PRESENT},
                {"busybox@sha256:0123abcd", KL_PULL_IF_NOT_PRESENT},
                {"busybox:latest@sha256:0123abcd", KL_PULL_ALWAYS}, /* upstream looks at the tag */
                {"busybox:1@sha256:0123abcd", KL_PULL_IF_NOT_PRESENT},
                {"localhost:5000/busybox", KL_PULL_ALWAYS}, /* a registry port is no tag */
                {"localhost:5000/busybox:1", KL_PULL_IF_NOT_PRESENT},
                {"localhost/kubelet-lite/busybox:1.0", KL_PULL_IF_NOT_PRESENT},
                {"docker.io/library/busybox:latest", KL_PULL_ALWAYS},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char y[512];
                struct kl_manifest m;
                snprintf(y, sizeof(y), HDR "spec:\n  containers:\n  - {name: c, image: \"%s\"}\n", cases[i].image);
                struct kl_pod *p = parse_pod(y, &m);
                if (p->containers[0].image_pull_policy != cases[i].want)
                        fprintf(stderr, "  %s\n", cases[i].image);
                ASSERT_EQ(p->containers[0].image_pull_policy, cases[i].want);
                printf("  %s -> %s\n", cases[i].image, kl_pull_policy_to_string(cases[i].want));
                kl_manifest_done(&m);
        }
        /* an explicit policy wins */
        struct kl_manifest m;
        struct kl_pod *p =
                parse_pod(HDR "spec:\n  containers:\n  - {name: c, image: busybox, imagePullPolicy: Never}\n", &m);
        ASSERT_EQ(p->containers[0].image_pull_policy, KL_PULL_NEVER);
        kl_manifest_done(&m);
}

TEST(full_mapping) {
        static const char y[] = HDR
                "  namespace: kube-system\n"
                "  labels: {app: web, example.com/tier: \"1\"}\n"
                "  annotations: {note: hello}\n"
                "spec:\n"
                "  hostNetwork: true\n"
                "  hostPID: true\n"
                "  restartPolicy: OnFailure\n"
                "  terminationGracePeriodSeconds: 0\n"
                "  activeDeadlineSeconds: 600\n"
                "  hostname: h1\n"
                "  subdomain: sub\n"
                "  dnsPolicy: None\n"
                "  dnsConfig: {nameservers: [10.0.0.1], searches: [a.example.], options: [{name: ndots, value: \"2\"}, {name: edns0}]}\n"
                "  priorityClassName: system-node-critical\n"
                "  priority: 2000001000\n"
                "  securityContext: {runAsUser: 1000, fsGroup: 3, supplementalGroups: [4, 5], seccompProfile: {type: RuntimeDefault}, sysctls: [{name: net.core.somaxconn, value: \"1024\"}]}\n"
                "  volumes:\n"
                "  - {name: data, hostPath: {path: /srv, type: Directory}}\n"
                "  - {name: scratch, emptyDir: {medium: Memory, sizeLimit: 64Mi}}\n"
                "  - {name: plain, emptyDir: {}}\n"
                "  initContainers:\n"
                "  - {name: init, image: busybox:1, command: [\"true\"]}\n"
                "  - name: side\n"
                "    image: busybox:1\n"
                "    restartPolicy: Always\n"
                "    startupProbe: {exec: {command: [cat, /ready]}, failureThreshold: 30}\n"
                "  containers:\n"
                "  - name: app\n"
                "    image: busybox:1\n"
                "    command: [sh, -c]\n"
                "    args: [\"echo $(A)\"]\n"
                "    workingDir: /w\n"
                "    env:\n"
                "    - {name: A, value: x}\n"
                "    - {name: EMPTY}\n"
                "    - {name: NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}\n"
                "    - {name: HOST_IP, valueFrom: {fieldRef: {apiVersion: v1, fieldPath: status.hostIP}}}\n"
                "    ports:\n"
                "    - {name: http, containerPort: 8080}\n"
                "    - {containerPort: 53, protocol: UDP, hostIP: 127.0.0.1}\n"
                "    resources:\n"
                "      requests: {cpu: 250m, memory: 64Mi, ephemeral-storage: 1G}\n"
                "      limits: {cpu: 1, memory: 128Mi}\n"
                "    volumeMounts:\n"
                "    - {name: data, mountPath: /data, readOnly: true}\n"
                "    - {name: scratch, mountPath: /scratch, subPath: a/b}\n"
                "    livenessProbe: {httpGet: {path: /healthz, port: http, httpHeaders: [{name: X-A, value: b}]}, initialDelaySeconds: 5, terminationGracePeriodSeconds: 3}\n"
                "    readinessProbe: {tcpSocket: {port: 8080, host: 127.0.0.1}, periodSeconds: 2, successThreshold: 2}\n"
                "    lifecycle: {postStart: {exec: {command: [touch, /x]}}, preStop: {httpGet: {port: 8080, scheme: HTTPS}}}\n"
                "    securityContext: {privileged: false, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, runAsGroup: 7, capabilities: {add: [NET_ADMIN], drop: [ALL]}, seccompProfile: {type: Localhost, localhostProfile: prof.json}}\n"
                "    terminationMessagePolicy: FallbackToLogsOnError\n"
                "    stdin: true\n"
                "    tty: true\n";
        struct kl_manifest m;
        struct kl_pod *p = parse_pod(y, &m);
        const struct kl_container *c = &p->containers[0];

        ASSERT_NULL(m.warnings);
        ASSERT_STREQ(p->namespace, "kube-system");
        ASSERT_EQ(p->n_labels, 2);
        ASSERT_STREQ(p->labels[1].key, "example.com/tier");
        ASSERT_STREQ(p->labels[1].value, "1");
        ASSERT_STREQ(p->annotations[0].value, "hello");
        ASSERT_TRUE(p->host_network && p->host_pid && !p->host_ipc);
        ASSERT_EQ(p->restart_policy, KL_RESTART_ON_FAILURE);
        ASSERT_EQ(p->termination_grace_period_seconds, 0);
        ASSERT_EQ(p->active_deadline_seconds, 600);
        ASSERT_STREQ(p->hostname, "h1");
        ASSERT_STREQ(p->subdomain, "sub");
        ASSERT_EQ(p->dns_policy, KL_DNS_NONE);
        ASSERT_TRUE(p->has_dns_config);
        ASSERT_STREQ(p->dns_config.nameservers[0], "10.0.0.1");
        ASSERT_STREQ(p->dns_config.searches[0], "a.example.");
        ASSERT_EQ(p->dns_config.n_options, 2);
        ASSERT_STREQ(p->dns_config.options[0].value, "2");
        ASSERT_NULL(p->dns_config.options[1].value);
        ASSERT_STREQ(p->priority_class_name, "system-node-critical");
        ASSERT_TRUE(p->has_priority);
        ASSERT_EQ(p->priority, 2000001000);
        ASSERT_EQ(p->security_context.run_as_user, 1000);
        ASSERT_EQ(p->security_context.fs_group, 3);
        ASSERT_EQ(p->security_context.n_supplemental_groups, 2);
        ASSERT_EQ(p->security_context.supplemental_groups[1], 5);
        ASSERT_EQ(p->security_context.seccomp, KL_SECCOMP_RUNTIME_DEFAULT);
        ASSERT_STREQ(p->security_context.sysctls[0].key, "net.core.somaxconn");

        ASSERT_EQ(p->n_volumes, 3);
        ASSERT_EQ(p->volumes[0].kind, KL_VOLUME_HOST_PATH);
        ASSERT_STREQ(p->volumes[0].host_path, "/srv");
        ASSERT_EQ(p->volumes[0].host_path_type, KL_HOST_PATH_DIRECTORY);
        ASSERT_EQ(p->volumes[1].kind, KL_VOLUME_EMPTY_DIR);
        ASSERT_TRUE(p->volumes[1].medium_memory);
        ASSERT_EQ(p->volumes[1].size_limit, 64 << 20);
        ASSERT_EQ(p->volumes[2].kind, KL_VOLUME_EMPTY_DIR);
        ASSERT_EQ(p->volumes[2].size_limit, -1);

        ASSERT_EQ(p->n_init_containers, 2);
        ASSERT_EQ(p->init_containers[0].restart_policy, KL_RESTART_UNSET);
        ASSERT_EQ(p->init_containers[1].restart_policy, KL_RESTART_ALWAYS);
        ASSERT_TRUE(p->init_containers[1].startup.set);
        ASSERT_EQ(p->init_containers[1].startup.failure_threshold, 30);
        ASSERT_STREQ(p->init_containers[1].startup.handler.exec_command[1], "/ready");

        ASSERT_STREQ(c->command[0], "sh");
        ASSERT_STREQ(c->args[0], "echo $(A)");
        ASSERT_STREQ(c->working_dir, "/w");
        ASSERT_EQ(c->n_env, 4);
        ASSERT_STREQ(c->env[0].value, "x");
        ASSERT_STREQ(c->env[1].value, "");
        ASSERT_NULL(c->env[2].value);
        ASSERT_STREQ(c->env[2].field_ref, "metadata.name");
        ASSERT_STREQ(c->env[3].field_ref, "status.hostIP");
        ASSERT_EQ(c->env[3].pos.line, 41);
        ASSERT_EQ(c->n_ports, 2);
        ASSERT_STREQ(c->ports[0].protocol, "TCP");
        ASSERT_EQ(c->ports[0].host_port, 8080); /* hostNetwork: hostPort defaults to containerPort */
        ASSERT_STREQ(c->ports[1].protocol, "UDP");
        ASSERT_STREQ(c->ports[1].host_ip, "127.0.0.1");
        ASSERT_EQ(c->resources.cpu_request_milli, 250);
        ASSERT_EQ(c->resources.cpu_limit_milli, 1000);
        ASSERT_EQ(c->resources.memory_request, 64 << 20);
        ASSERT_EQ(c->resources.memory_limit, 128 << 20);
        ASSERT_EQ(c->resources.ephemeral_request, 1000000000);
        ASSERT_EQ(c->resources.ephemeral_limit, -1);
        ASSERT_EQ(c->n_volume_mounts, 2);
        ASSERT_TRUE(c->volume_mounts[0].read_only);
        ASSERT_STREQ(c->volume_mounts[1].sub_path, "a/b");

        ASSERT_TRUE(c->liveness.set);
        ASSERT_EQ(c->liveness.handler.kind, KL_HANDLER_HTTP_GET);
        ASSERT_STREQ(c->liveness.handler.path, "/healthz");
        ASSERT_STREQ(c->liveness.handler.port_name, "http");
        ASSERT_EQ(c->liveness.handler.port, 0);
        ASSERT_STREQ(c->liveness.handler.scheme, "HTTP");
        ASSERT_EQ(c->liveness.handler.n_http_headers, 1);
        ASSERT_STREQ(c->liveness.handler.http_headers[0].key, "X-A");
        ASSERT_EQ(c->liveness.initial_delay_seconds, 5);
        ASSERT_EQ(c->liveness.timeout_seconds, 1);
        ASSERT_EQ(c->liveness.period_seconds, 10);
        ASSERT_EQ(c->liveness.success_threshold, 1);
        ASSERT_EQ(c->liveness.failure_threshold, 3);
        ASSERT_EQ(c->liveness.termination_grace_period_seconds, 3);
        ASSERT_EQ(c->readiness.handler.kind, KL_HANDLER_TCP_SOCKET);
        ASSERT_EQ(c->readiness.handler.port, 8080);
        ASSERT_STREQ(c->readiness.handler.host, "127.0.0.1");
        ASSERT_EQ(c->readiness.period_seconds, 2);
        ASSERT_EQ(c->readiness.success_threshold, 2);
        ASSERT_EQ(c->readiness.termination_grace_period_seconds, -1);
        ASSERT_EQ(c->post_start.kind, KL_HANDLER_EXEC);
        ASSERT_EQ(c->pre_stop.kind, KL_HANDLER_HTTP_GET);
        ASSERT_STREQ(c->pre_stop.scheme, "HTTPS");
        ASSERT_STREQ(c->pre_stop.path, "/");

        ASSERT_EQ(c->security_context.privileged, 0);
        ASSERT_EQ(c->security_context.allow_privilege_escalation, 0);
        ASSERT_EQ(c->security_context.read_only_root_filesystem, 1);
        ASSERT_EQ(c->security_context.run_as_non_root, 1);
        ASSERT_EQ(c->security_context.run_as_group, 7);
        ASSERT_STREQ(c->security_context.capabilities_add[0], "NET_ADMIN");
        ASSERT_STREQ(c->security_context.capabilities_drop[0], "ALL");
        ASSERT_EQ(c->security_context.seccomp, KL_SECCOMP_LOCALHOST);
        ASSERT_STREQ(c->security_context.seccomp_localhost_profile, "prof.json");
        ASSERT_EQ(c->termination_message_policy, KL_TERMINATION_MESSAGE_FALLBACK_TO_LOGS);
        ASSERT_TRUE(c->stdin && c->tty && !c->stdin_once);

        /* dup is deep and equal */
        struct kl_pod *d = kl_pod_dup(p);
        ASSERT_NOT_NULL(d);
        ASSERT_TRUE(d->containers[0].env != c->env);
        ASSERT_STREQ(d->containers[0].env[3].field_ref, "status.hostIP");
        ASSERT_STREQ(d->init_containers[1].startup.handler.exec_command[1], "/ready");
        ASSERT_STREQ(d->containers[0].liveness.handler.http_headers[0].value, "b");
        ASSERT_STREQ(d->dns_config.options[0].key, "ndots");
        ASSERT_STREQ(d->security_context.sysctls[0].value, "1024");
        ASSERT_EQ(d->security_context.supplemental_groups[0], 4);
        ASSERT_STREQ(d->volumes[0].host_path, "/srv");
        ASSERT_STREQ(d->uid, p->uid);
        ASSERT_EQ(memcmp(d->content_digest, p->content_digest, 32), 0);
        kl_pod_free(d);
        kl_manifest_done(&m);
        ASSERT_NULL(kl_pod_dup(NULL));
        ASSERT_NULL(kl_pod_free(NULL));
}

TEST(requests_default_to_limits) {
        struct kl_manifest m;
        struct kl_pod *p = parse_pod(
                HDR
                "spec:\n  containers:\n  - {name: c, image: b, resources: {limits: {cpu: 500m, memory: 1Gi}, requests: {ephemeral-storage: 1Gi}}}\n",
                &m);
        const struct kl_resources *r = &p->containers[0].resources;
        ASSERT_EQ(r->cpu_request_milli, 500);
        ASSERT_EQ(r->memory_request, 1 << 30);
        ASSERT_EQ(r->ephemeral_request, 1 << 30);
        ASSERT_EQ(r->ephemeral_limit, -1);
        ASSERT_EQ(kl_pod_qos_class(p), KL_QOS_GUARANTEED);
        kl_manifest_done(&m);
}

TEST(json_manifest) {
        struct kl_manifest m;
        struct kl_pod *p = parse_pod("{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"j\"},"
                                     " \"spec\": {\"containers\": [{\"name\": \"c\", \"image\": \"i:1\","
                                     " \"resources\": {\"limits\": {\"cpu\": 0.5, \"memory\": \"1Gi\"}}}]}}",
                                     &m);
        ASSERT_STREQ(p->name, "j");
        ASSERT_EQ(p->containers[0].resources.cpu_limit_milli, 500);
        kl_manifest_done(&m);
}

TEST(validation_messages) {
        EXPECT_ERRORS(
                HDR
                "spec:\n  containers:\n  - name: a\n    image: b\n  - name: c\n    image: d\n    resources: {limits: {memory: 12Q}}\n",
                "t.yaml:11:34: spec.containers[1].resources.limits.memory: invalid quantity \"12Q\"");
        EXPECT_ERRORS(HDR "spec:\n  containers:\n  - name: c\n",
                      "t.yaml:7:5: spec.containers[0].image: must not be empty");
        EXPECT_ERRORS(
                HDR "spec:\n  containers:\n  - name: Web_1\n    image: b\n",
                "t.yaml:7:11: spec.containers[0].name: invalid name \"Web_1\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character");
        EXPECT_ERRORS(HDR "spec:\n  initContainers: [{name: a, image: b}]\n  containers: [{name: a, image: b}]\n",
                      "t.yaml:7:16: spec.containers[0].name: duplicate container name \"a\"");
        EXPECT_ERRORS(
                HDR "spec:\n  containers: [{name: a, image: b, resources: {requests: {cpu: 2}, limits: {cpu: 1}}}]\n",
                "t.yaml:6:64: spec.containers[0].resources.requests.cpu: request \"2\" must be less than or equal to the limit \"1\"");
        EXPECT_ERRORS(
                HDR
                "spec:\n  containers: [{name: a, image: b, ports: [{containerPort: 0}, {containerPort: 80, hostPort: 70000}, {name: HTTP, containerPort: 1}]}]\n",
                "t.yaml:6:60: spec.containers[0].ports[0].containerPort: must be between 1 and 65535, got 0",
                "t.yaml:6:94: spec.containers[0].ports[1].hostPort: must be between 0 and 65535, got 70000",
                "t.yaml:6:109: spec.containers[0].ports[2].name: invalid port name \"HTTP\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
        EXPECT_ERRORS(
                HDR "spec:\n  containers: [{name: a, image: b, volumeMounts: [{name: nope, mountPath: rel}]}]\n",
                "t.yaml:6:51: spec.containers[0].volumeMounts[0].name: volume \"nope\" is not defined in spec.volumes",
                "t.yaml:6:75: spec.containers[0].volumeMounts[0].mountPath: must be an absolute path without '..', got \"rel\"");
        EXPECT_ERRORS(
                HDR
                "spec:\n  volumes: [{name: v, emptyDir: {}}, {name: v, hostPath: {path: /x}}]\n  containers: [{name: a, image: b}]\n",
                "t.yaml:6:45: spec.volumes[1].name: duplicate volume name \"v\"");
        EXPECT_ERRORS(
                HDR
                "spec:\n  restartPolicy: Sometimes\n  terminationGracePeriodSeconds: -1\n  containers: [{name: a, image: b}]\n",
                "t.yaml:6:18: spec.restartPolicy: unsupported value \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"",
                "t.yaml:7:34: spec.terminationGracePeriodSeconds: must be greater than or equal to 0, got -1");
        EXPECT_ERRORS(
                HDR
                "spec:\n  containers: [{name: a, image: b, env: [{name: \"A=B\", value: x}, {name: X, value: 1}]}]\n",
                "t.yaml:6:49: spec.containers[0].env[0].name: invalid name \"A=B\": must consist only of printable ASCII characters other than '='",
                "t.yaml:6:84: spec.containers[0].env[1].value: expected a string, got a number (quote it: \"1\")");
        EXPECT_ERRORS(
                HDR
                "spec:\n  containers: [{name: a, image: b, env: [{name: X, valueFrom: {fieldRef: {fieldPath: metadata.labels}}}, {name: Z, valueFrom: {secretKeyRef: {name: s, key: k}}}]}]\n",
                "t.yaml:6:86: spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: unsupported value \"metadata.labels\": supported values: \"metadata.name\", \"metadata.namespace\", \"metadata.uid\", \"spec.nodeName\", \"spec.serviceAccountName\", \"status.hostIP\", \"status.hostIPs\", \"status.podIP\", \"status.podIPs\", and metadata.labels['KEY'] or metadata.annotations['KEY']",
                "t.yaml:6:128: spec.containers[0].env[1].valueFrom.secretKeyRef: not supported by kubelet-lite: static pods cannot refer to API objects");
        EXPECT_ERRORS(
                HDR
                "spec:\n  containers:\n  - name: a\n    image: b\n    livenessProbe: {exec: {command: [x]}, successThreshold: 2}\n    startupProbe: {grpc: {port: 0}}\n",
                "t.yaml:9:61: spec.containers[0].livenessProbe.successThreshold: must be 1 for liveness and startup probes",
                "t.yaml:10:33: spec.containers[0].startupProbe.grpc.port: must be between 1 and 65535, got 0");
        EXPECT_ERRORS(
                HDR
                "spec:\n  initContainers: [{name: i, image: b, readinessProbe: {exec: {command: [x]}}}]\n  containers: [{name: a, image: b, restartPolicy: Always}]\n",
                "t.yaml:6:56: spec.initContainers[0].readinessProbe: may not be set for init containers without restartPolicy: Always",
                "t.yaml:7:51: spec.containers[0].restartPolicy: may only be set for init containers");
        EXPECT_ERRORS(
                HDR
                "spec:\n  hostNetwork: true\n  containers: [{name: a, image: b, ports: [{containerPort: 80, hostPort: 8080}]}]\n",
                "t.yaml:7:44: spec.containers[0].ports[0].hostPort: must match containerPort when hostNetwork is true");
        EXPECT_ERRORS(
                HDR "  labels: {\"-bad\": x, ok: \"v v\"}\n" ONE_CONTAINER,
                "t.yaml:5:12: metadata.labels: invalid key \"-bad\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
                "t.yaml:5:27: metadata.labels: invalid value \"v v\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character");
        EXPECT_ERRORS(
                "apiVersion: v1\nkind: Pod\nmetadata: {name: UPPER}\n" ONE_CONTAINER,
                "t.yaml:3:18: metadata.name: invalid name \"UPPER\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character");
        EXPECT_ERRORS("apiVersion: v1\nkind: Pod\nspec: {}\n", "t.yaml:1:1: metadata.name is required",
                      "t.yaml:1:1: spec.containers: at least one container is required");
}

TEST(lifecycle_sleep_and_security) {
        EXPECT_ERRORS(
                HDR
                "spec:\n  terminationGracePeriodSeconds: 5\n  containers:\n  - name: a\n    image: b\n    lifecycle: {preStop: {sleep: {seconds: 10}}}\n    securityContext: {privileged: true, allowPrivilegeEscalation: false, capabilities: {add: [CAP_NET_ADMIN, BOGUS]}}\n",
                "t.yaml:10:26: spec.containers[0].lifecycle.preStop: sleep.seconds (10) must not be greater than terminationGracePeriodSeconds (5)",
                "t.yaml:11:22: spec.containers[0].securityContext: cannot set allowPrivilegeEscalation to false and privileged to true");
        EXPECT_ERRORS(
                HDR
                "spec:\n  securityContext: {runAsNonRoot: true}\n  containers: [{name: a, image: b, securityContext: {runAsUser: 0}}]\n",
                "t.yaml:7:16: spec.containers[0].securityContext: runAsNonRoot is true but runAsUser is 0 (root)");

        /* "CAP_" is stripped with a warning */
        struct kl_manifest m;
        struct kl_pod *p = parse_pod(
                HDR
                "spec:\n  containers: [{name: a, image: b, securityContext: {capabilities: {add: [CAP_NET_RAW]}}}]\n",
                &m);
        ASSERT_STREQ(p->containers[0].security_context.capabilities_add[0], "NET_RAW");
        ASSERT_CONTAINS(m.warnings[0], "capability \"CAP_NET_RAW\": drop the CAP_ prefix");
        kl_manifest_done(&m);
}

TEST(unknown_fields_warn_or_fail) {
        static const char y[] = HDR
                "spec:\n  containers:\n  - name: a\n    image: b\n    imagePullPolcy: Always\n  nodeSelector: {a: b}\n";
        struct kl_manifest_opts o;
        struct kl_manifest m = parse(y);

        ASSERT_NULL(m.errors);
        ASSERT_EQ(m.n_pods, 1);
        ASSERT_STREQ(
                m.warnings[0],
                "t.yaml:9:5: unknown field \"spec.containers[0].imagePullPolcy\" (did you mean \"imagePullPolicy\"?), ignoring");
        ASSERT_STREQ(
                m.warnings[1],
                "t.yaml:10:3: spec.nodeSelector: not supported by kubelet-lite, ignoring: static pods are not scheduled");
        ASSERT_NULL(m.warnings[2]);
        kl_manifest_done(&m);

        kl_manifest_opts_default(&o);
        o.strict = true;
        m = parse_opts(y, &o);
        ASSERT_EQ(m.n_pods, 0);
        ASSERT_STREQ(
                m.errors[0],
                "t.yaml:9:5: unknown field \"spec.containers[0].imagePullPolcy\" (did you mean \"imagePullPolicy\"?)");
        ASSERT_NULL(m.errors[1]);
        /* ignored scheduler fields stay warnings in strict mode */
        ASSERT_CONTAINS(m.warnings[0], "spec.nodeSelector");
        kl_manifest_done(&m);

        /* unsupported fields that change what runs are always errors */
        EXPECT_ERRORS(
                HDR
                "spec:\n  hostUsers: false\n  containers: [{name: a, image: b, envFrom: [{configMapRef: {name: x}}]}]\n",
                "t.yaml:6:3: spec.hostUsers: not supported by kubelet-lite",
                "t.yaml:7:36: spec.containers[0].envFrom: not supported by kubelet-lite");
        EXPECT_ERRORS(
                HDR "spec:\n  volumes: [{name: c, configMap: {name: x}}]\n  containers: [{name: a, image: b}]\n",
                "t.yaml:6:23: spec.volumes[0].configMap: not supported by kubelet-lite: only hostPath, emptyDir and downwardAPI volumes are supported");
}

TEST(duplicate_env_names_warn) {
        struct kl_manifest m;
        struct kl_pod *p = parse_pod(
                HDR
                "spec:\n  containers: [{name: a, image: b, env: [{name: X, value: \"1\"}, {name: X, value: \"2\"}]}]\n",
                &m);
        ASSERT_EQ(p->containers[0].n_env, 2);
        ASSERT_STREQ(m.warnings[0],
                     "t.yaml:6:72: spec.containers[0].env[1].name: duplicate name \"X\": the last value wins");
        kl_manifest_done(&m);
}

TEST(kubeadm_boilerplate_is_quiet) {
        struct kl_manifest m;
        parse_pod("apiVersion: v1\nkind: Pod\nmetadata:\n  creationTimestamp: null\n  name: p\n" ONE_CONTAINER
                  "status: {}\n",
                  &m);
        ASSERT_NULL(m.warnings);
        kl_manifest_done(&m);
}

TEST(documents_and_kinds) {
        struct kl_manifest m;

        m = parse("---\n" HDR ONE_CONTAINER "---\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: q}\n" ONE_CONTAINER
                  "...\n");
        dump(&m);
        ASSERT_NULL(m.errors);
        ASSERT_EQ(m.n_pods, 2);
        ASSERT_STREQ(m.pods[0]->full_name, "p-node1");
        ASSERT_STREQ(m.pods[1]->full_name, "q-node1");
        ASSERT_EQ(m.pods[1]->pos.line, 12);
        ASSERT_TRUE(strcmp(m.pods[0]->uid, m.pods[1]->uid) != 0);
        kl_manifest_done(&m);

        EXPECT_ERRORS(HDR ONE_CONTAINER "---\n" HDR ONE_CONTAINER,
                      "t.yaml:10:1: metadata.name: pod \"default/p\" is already defined at line 1");
        /* other kinds are skipped with a warning (podman kube generate's Service) */
        m = parse(HDR ONE_CONTAINER "---\napiVersion: apps/v1\nkind: Deployment\n");
        ASSERT_NULL(m.errors);
        ASSERT_EQ(m.n_pods, 1);
        ASSERT_STREQ(m.warnings[0],
                     "t.yaml:11:7: kind: \"Deployment\" document skipped: only Pod documents are static pods");
        ASSERT_NULL(m.warnings[1]);
        kl_manifest_done(&m);
        m = parse("apiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\n" HDR ONE_CONTAINER);
        ASSERT_NULL(m.errors);
        ASSERT_EQ(m.n_pods, 1);
        ASSERT_CONTAINS(m.warnings[0], "t.yaml:2:7: kind: \"Service\" document skipped");
        ASSERT_CONTAINS(m.warnings[1], "t.yaml:2:7: upstream kubelet reads only the first document of a file");
        kl_manifest_done(&m);
        EXPECT_ERRORS("apiVersion: v1\nkind: Service\nmetadata: {name: s}\n",
                      "t.yaml:2:7: no Pod in file: a \"Service\", and only Pod documents are static pods");
        EXPECT_ERRORS("kind: Pod\nmetadata: {name: x}\n", "t.yaml:1:1: apiVersion: missing (must be \"v1\")");
        EXPECT_ERRORS("- a\n", "t.yaml:1:1: a document must be a mapping (a Pod object)");
        EXPECT_ERRORS(
                "",
                "t.yaml: no Pod in file (an empty file is treated as half-written; delete the file to remove its pods)");
        EXPECT_ERRORS(
                "---\n# nothing\n---\n",
                "t.yaml: no Pod in file (an empty file is treated as half-written; delete the file to remove its pods)");
        EXPECT_ERRORS(HDR "spec:\n  containers: [{name: a, image: &x b}]\n",
                      "t.yaml:6:33: YAML anchors (&x) are not supported");
}

TEST(all_errors_reported_up_to_cap) {
        char y[8192];
        size_t o = (size_t) snprintf(y, sizeof(y), HDR "spec:\n  containers:\n");
        for (int i = 0; i < 30; i++)
                o += (size_t) snprintf(y + o, sizeof(y) - o,
                                       "  - {name: c%d, image: i, resources: {limits: {cpu: bad}}}\n", i);
        struct kl_manifest m = parse(y);
        size_t n = 0;
        while (m.errors[n])
                n++;
        ASSERT_EQ(n, 21);
        ASSERT_STREQ(m.errors[0], "t.yaml:7:52: spec.containers[0].resources.limits.cpu: invalid quantity \"bad\"");
        ASSERT_STREQ(m.errors[19], "t.yaml:26:53: spec.containers[19].resources.limits.cpu: invalid quantity \"bad\"");
        ASSERT_STREQ(m.errors[20], "t.yaml: 10 more errors not shown");
        kl_manifest_done(&m);
}

TEST(warnings_capped_too) {
        char y[16384];
        struct kl_manifest_opts o;
        size_t off = (size_t) snprintf(y, sizeof(y), HDR ONE_CONTAINER);
        for (int i = 0; i < 30; i++)
                off += (size_t) snprintf(y + off, sizeof(y) - off, "  unknown%d: x\n", i);
        struct kl_manifest m = parse(y);
        size_t n = 0;
        ASSERT_NULL(m.errors);
        while (m.warnings[n])
                n++;
        ASSERT_EQ(n, 21);
        ASSERT_STREQ(m.warnings[0], "t.yaml:9:3: unknown field \"spec.unknown0\", ignoring");
        ASSERT_STREQ(m.warnings[20], "t.yaml: 10 more warnings not shown");
        kl_manifest_done(&m);

        kl_manifest_opts_default(&o);
        o.strict = true;
        m = parse_opts(y, &o);
        n = 0;
        while (m.errors[n])
                n++;
        ASSERT_EQ(n, 21);
        ASSERT_STREQ(m.errors[20], "t.yaml: 10 more errors not shown");
        kl_manifest_done(&m);
}

TEST(container_cap) {
        char y[16384];
        struct kl_manifest_opts o;
        size_t off =
                (size_t) snprintf(y, sizeof(y), HDR "spec:\n  initContainers: [{name: i, image: x}]\n  containers:\n");
        kl_manifest_opts_default(&o);
        o.max_containers = 4;
        for (int i = 0; i < 4; i++)
                off += (size_t) snprintf(y + off, sizeof(y) - off, "  - {name: c%d, image: i}\n", i);
        struct kl_manifest m = parse_opts(y, &o);
        ASSERT_STREQ(m.errors[0], "t.yaml:1:1: spec: too many containers: 5, at most 4");
        kl_manifest_done(&m);
        off += (size_t) snprintf(y + off, sizeof(y) - off, "  - {name: c9, image: i}\n");
        m = parse_opts(y, &o);
        ASSERT_STREQ(m.errors[0], "t.yaml:8:3: spec.containers: too many containers: 5, at most 4");
        kl_manifest_done(&m);
}

TEST(file_size_cap) {
        struct kl_manifest_opts o;
        struct kl_manifest m;
        kl_manifest_opts_default(&o);
        ASSERT_EQ(o.max_file_size, 1024 * 1024);
        ASSERT_FALSE(o.strict);
        o.max_file_size = 10;
        m = parse_opts(HDR ONE_CONTAINER, &o);
        ASSERT_STREQ(m.errors[0], "t.yaml: file is too large (98 bytes, at most 10)");
        kl_manifest_done(&m);
}

TEST(full_name_length) {
        char y[1024], name[300];
        struct kl_manifest m;

        /* upstream's IsDNS1123Subdomain has no 63-character limit per label:
         * a 100-character name without dots is valid */
        memset(name, 'a', sizeof(name));
        name[100] = '\0';
        snprintf(y, sizeof(y), "apiVersion: v1\nkind: Pod\nmetadata: {name: %s}\n" ONE_CONTAINER, name);
        parse_pod(y, &m);
        ASSERT_EQ(strlen(m.pods[0]->full_name), 106);
        kl_manifest_done(&m);

        /* 247 characters, "-node1" makes 253 */
        memset(name, 'a', sizeof(name));
        name[247] = '\0';
        snprintf(y, sizeof(y), "apiVersion: v1\nkind: Pod\nmetadata: {name: %s}\n" ONE_CONTAINER, name);
        parse_pod(y, &m);
        ASSERT_EQ(strlen(m.pods[0]->full_name), 253);
        kl_manifest_done(&m);

        name[247] = 'a';
        name[248] = '\0';
        snprintf(y, sizeof(y), "apiVersion: v1\nkind: Pod\nmetadata: {name: %s}\n" ONE_CONTAINER, name);
        m = parse(y);
        ASSERT_CONTAINS(m.errors[0], "t.yaml:1:1: metadata.name: full name ");
        ASSERT_CONTAINS(m.errors[0], "must be a lowercase RFC 1123 subdomain of at most 253 characters");
        ASSERT_NULL(m.errors[1]);
        kl_manifest_done(&m);
}

/* ---- QoS and effective resources --------------------------------------- */

static struct kl_container res_container(int64_t cpu_req, int64_t cpu_lim, int64_t mem_req, int64_t mem_lim) {
        return (struct kl_container){.resources = {cpu_req, cpu_lim, mem_req, mem_lim, -1, -1}};
}

TEST(qos_classes) {
        struct kl_container app[2], init[1];
        struct kl_pod p = {.containers = app, .n_containers = 2, .init_containers = init, .n_init_containers = 0};

        app[0] = res_container(-1, -1, -1, -1);
        app[1] = res_container(-1, -1, -1, -1);
        ASSERT_EQ(kl_pod_qos_class(&p), KL_QOS_BEST_EFFORT);
        app[1] = res_container(0, 0, 0, 0); /* zero amounts do not count */
        ASSERT_EQ(kl_pod_qos_class(&p), KL_QOS_BEST_EFFORT);
        app[1] = res_container(100, -1, -1, -1);
        ASSERT_EQ(kl_pod_qos_class(&p), KL_QOS_BURSTABLE);

        app[0] = res_container(100, 100, 1 << 20, 1 << 20);
        app[1] = res_container(200, 200, 2 << 20, 2 << 20);
        ASSERT_EQ(kl_pod_qos_class(&p), KL_QOS_GUARANTEED);
        app[1] = res_container(100, 200, 2 << 20, 2 << 20); /* request below limit */
        ASSERT_EQ(kl_pod_qos_class(&p), KL_QOS_BURSTABLE);
        app[1] = res_container(200, 200, -1, -1); /* no memory limit */
        ASSERT_EQ(kl_pod_qos_class(&p), KL_QOS_BURSTABLE);
        app[1] = res_container(200, 200, 2 << 20, 2 << 20);

        /* init containers count too */
        p.n_init_containers = 1;
        init[0] = res_container(-1, -1, -1, -1);
        ASSERT_EQ(kl_pod_qos_class(&p), KL_QOS_BURSTABLE);
        init[0] = res_container(50, 50, 1 << 20, 1 << 20);
        ASSERT_EQ(kl_pod_qos_class(&p), KL_QOS_GUARANTEED);

        ASSERT_STREQ(kl_qos_class_to_string(KL_QOS_GUARANTEED), "Guaranteed");
        ASSERT_STREQ(kl_qos_class_to_string(KL_QOS_BURSTABLE), "Burstable");
        ASSERT_STREQ(kl_qos_class_to_string(KL_QOS_BEST_EFFORT), "BestEffort");
}

TEST(effective_resources) {
        struct kl_container app[2], init[3];
        struct kl_pod p = {.containers = app, .n_containers = 2, .init_containers = init};
        struct kl_resources r;

        app[0] = res_container(100, 200, 10, 20);
        app[1] = res_container(300, 400, 30, 40);
        kl_pod_effective_resources(&p, &r);
        ASSERT_EQ(r.cpu_request_milli, 400);
        ASSERT_EQ(r.cpu_limit_milli, 600);
        ASSERT_EQ(r.memory_request, 40);
        ASSERT_EQ(r.memory_limit, 60);
        ASSERT_EQ(r.ephemeral_request, -1);
        ASSERT_EQ(r.ephemeral_limit, -1);

        /* a big regular init container dominates */
        p.n_init_containers = 1;
        init[0] = res_container(1000, 2000, 5, 100);
        kl_pod_effective_resources(&p, &r);
        ASSERT_EQ(r.cpu_request_milli, 1000);
        ASSERT_EQ(r.cpu_limit_milli, 2000);
        ASSERT_EQ(r.memory_request, 40);
        ASSERT_EQ(r.memory_limit, 100);

        /* sidecar, then an init container that runs beside it:
         * app sum + sidecar = 400 + 500 = 900 < init 1000 + sidecar 500 = 1500 */
        p.n_init_containers = 2;
        init[0] = res_container(500, 500, 50, 50);
        init[0].restart_policy = KL_RESTART_ALWAYS;
        init[1] = res_container(1000, 1000, 5, 5);
        kl_pod_effective_resources(&p, &r);
        ASSERT_EQ(r.cpu_request_milli, 1500);
        ASSERT_EQ(r.memory_request, 90); /* 40 + 50 > 5 + 50 */

        /* an init container before the sidecar does not run beside it */
        init[1] = init[0];
        init[0] = res_container(1000, 1000, 5, 5);
        kl_pod_effective_resources(&p, &r);
        ASSERT_EQ(r.cpu_request_milli, 1000);
        ASSERT_EQ(r.memory_request, 90);

        /* a limit is only effective when every container has one */
        p.n_init_containers = 0;
        app[1] = res_container(300, -1, 30, 40);
        kl_pod_effective_resources(&p, &r);
        ASSERT_EQ(r.cpu_request_milli, 400);
        ASSERT_EQ(r.cpu_limit_milli, -1);
        ASSERT_EQ(r.memory_limit, 60);
}

TEST(to_string) {
        ASSERT_STREQ(kl_restart_policy_to_string(KL_RESTART_ON_FAILURE), "OnFailure");
        ASSERT_STREQ(kl_pull_policy_to_string(KL_PULL_IF_NOT_PRESENT), "IfNotPresent");
        ASSERT_STREQ(kl_dns_policy_to_string(KL_DNS_CLUSTER_FIRST_WITH_HOST_NET), "ClusterFirstWithHostNet");
        ASSERT_STREQ(kl_termination_message_policy_to_string(KL_TERMINATION_MESSAGE_FALLBACK_TO_LOGS),
                     "FallbackToLogsOnError");
        ASSERT_STREQ(kl_host_path_type_to_string(KL_HOST_PATH_SOCKET), "Socket");
        ASSERT_STREQ(kl_host_path_type_to_string(KL_HOST_PATH_UNSET), "");
        ASSERT_STREQ(kl_seccomp_to_string(KL_SECCOMP_RUNTIME_DEFAULT), "RuntimeDefault");
        ASSERT_NULL(kl_seccomp_to_string(KL_SECCOMP_UNSET));
}

TEST_MAIN()
