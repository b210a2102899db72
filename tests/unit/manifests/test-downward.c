/* SPDX-License-Identifier: Apache-2.0 */
/* Fields that real static pods use and upstream accepts: downward API (env
 * and volumes), hostAliases, shareProcessNamespace, and the decoding rules
 * that follow upstream (YAML 1.1 booleans, BOM, fields newer than v1.30,
 * mirror pod dumps, seccomp Localhost paths, capability names, procMount). */
#include <errno.h>
#include <string.h>

#include "lib/macros.h"
#include "manifests/manifest.h"
#include "manifests/names.h"
#include "manifests/pod.h"
#include "tests/lib/tests.h"

#define HDR "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n"

static struct kl_manifest parse(const char *yaml) {
        struct kl_manifest m;
        int r = kl_manifest_parse(yaml, strlen(yaml), "t.yaml", "node1", NULL, &m);
        ASSERT_TRUE(r == 0 || r == -EINVAL);
        for (char **e = m.errors; e && *e; e++)
                printf("  error: %s\n", *e);
        for (char **e = m.warnings; e && *e; e++)
                printf("  warning: %s\n", *e);
        return m;
}

static bool has_line(char **v, const char *sub) {
        for (; v && *v; v++)
                if (strstr(*v, sub))
                        return true;
        return false;
}

TEST(downward_api_env_and_volume) {
        struct kl_manifest m =
                parse(HDR "  labels: {app: web}\n"
                          "spec:\n"
                          "  serviceAccountName: sa1\n"
                          "  containers:\n"
                          "  - name: c\n"
                          "    image: busybox:1\n"
                          "    resources: {limits: {memory: 64Mi, cpu: 500m}}\n"
                          "    env:\n"
                          "    - {name: APP, valueFrom: {fieldRef: {fieldPath: \"metadata.labels['app']\"}}}\n"
                          "    - {name: SA, valueFrom: {fieldRef: {fieldPath: spec.serviceAccountName}}}\n"
                          "    - {name: IPS, valueFrom: {fieldRef: {fieldPath: status.podIPs}}}\n"
                          "    - {name: HIPS, valueFrom: {fieldRef: {fieldPath: status.hostIPs}}}\n"
                          "    - {name: MEM, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}\n"
                          "    - {name: CPU, valueFrom: {resourceFieldRef: {resource: requests.cpu, divisor: 1m}}}\n"
                          "    volumeMounts: [{name: info, mountPath: /etc/podinfo}]\n"
                          "  volumes:\n"
                          "  - name: info\n"
                          "    downwardAPI:\n"
                          "      defaultMode: 0440\n"
                          "      items:\n"
                          "      - {path: labels, fieldRef: {fieldPath: metadata.labels}}\n"
                          "      - {path: sub/name, fieldRef: {fieldPath: metadata.name}, mode: 0600}\n"
                          "      - {path: mem, resourceFieldRef: {containerName: c, resource: limits.memory}}\n");
        ASSERT_NULL(m.errors);
        ASSERT_NULL(m.warnings);
        struct kl_pod *p = m.pods[0];
        struct kl_container *c = &p->containers[0];
        ASSERT_STREQ(p->service_account_name, "sa1");
        ASSERT_STREQ(c->env[0].field_ref, "metadata.labels['app']");
        ASSERT_NULL(c->env[0].value);
        ASSERT_STREQ(c->env[4].resource_ref.resource, "limits.memory");
        ASSERT_EQ(c->env[4].resource_ref.divisor, 1024 * 1024);
        ASSERT_EQ(c->env[5].resource_ref.divisor, 1); /* 1m in milli-CPU */
        ASSERT_EQ(p->volumes[0].kind, KL_VOLUME_DOWNWARD_API);
        ASSERT_EQ(p->volumes[0].default_mode, 0440);
        ASSERT_EQ(p->volumes[0].n_items, 3);
        ASSERT_STREQ(p->volumes[0].items[1].path, "sub/name");
        ASSERT_EQ(p->volumes[0].items[1].mode, 0600);
        ASSERT_EQ(p->volumes[0].items[0].mode, -1);
        ASSERT_STREQ(p->volumes[0].items[2].resource_ref.container_name, "c");

        /* a deep copy carries the new members */
        struct kl_pod *d = kl_pod_dup(p);
        ASSERT_NOT_NULL(d);
        ASSERT_STREQ(d->volumes[0].items[2].resource_ref.container_name, "c");
        ASSERT_STREQ(d->containers[0].env[4].resource_ref.resource, "limits.memory");
        ASSERT_STREQ(d->service_account_name, "sa1");
        kl_pod_free(d);
        kl_manifest_done(&m);
}

TEST(downward_api_errors_as_upstream) {
        struct kl_manifest m =
                parse(HDR "spec:\n"
                          "  containers:\n"
                          "  - name: c\n"
                          "    image: busybox:1\n"
                          "    env:\n"
                          "    - {name: A, valueFrom: {fieldRef: {fieldPath: \"spec.nodeName['x']\"}}}\n"
                          "    - {name: B, valueFrom: {resourceFieldRef: {resource: limits.cpu, divisor: 2}}}\n"
                          "    - {name: C, valueFrom: {resourceFieldRef: {resource: limits.gpu}}}\n"
                          "  volumes:\n"
                          "  - name: v\n"
                          "    downwardAPI:\n"
                          "      items:\n"
                          "      - {path: /abs, fieldRef: {fieldPath: metadata.name}}\n"
                          "      - {path: ../up, fieldRef: {fieldPath: status.podIP}}\n"
                          "      - {path: r, resourceFieldRef: {resource: limits.memory}}\n"
                          "      - {path: m, mode: 01000, fieldRef: {fieldPath: metadata.uid}}\n");
        ASSERT_EQ(m.n_pods, 0);
        ASSERT_TRUE(has_line(m.errors, "env[0].valueFrom.fieldRef.fieldPath: \"spec.nodeName\" does not support a "
                                       "subscript"));
        ASSERT_TRUE(has_line(m.errors, "only divisor's values 1m and 1 are supported with the cpu resource"));
        ASSERT_TRUE(has_line(m.errors, "unsupported value \"limits.gpu\""));
        ASSERT_TRUE(has_line(m.errors, "invalid path \"/abs\": must be a relative path"));
        ASSERT_TRUE(has_line(m.errors, "invalid path \"../up\": must not contain '..'"));
        /* status.podIP is for env only, not for volumes */
        ASSERT_TRUE(has_line(m.errors, "items[1].fieldRef.fieldPath: unsupported value \"status.podIP\""));
        ASSERT_TRUE(has_line(m.errors, "items[2].resourceFieldRef: containerName is required"));
        ASSERT_TRUE(has_line(m.errors, "items[3].mode: must be a number between 0 and 0777"));
        kl_manifest_done(&m);
}

TEST(host_aliases_and_share_process_namespace) {
        struct kl_manifest m = parse(HDR "spec:\n"
                                         "  hostNetwork: true\n"
                                         "  shareProcessNamespace: true\n"
                                         "  hostAliases:\n"
                                         "  - ip: 127.0.0.1\n"
                                         "    hostnames: [kubernetes, kube-vip.local]\n"
                                         "  - {ip: \"fd00::1\", hostnames: [v6]}\n"
                                         "  containers: [{name: c, image: busybox:1}]\n");
        ASSERT_NULL(m.errors);
        struct kl_pod *p = m.pods[0];
        ASSERT_TRUE(p->share_process_namespace);
        ASSERT_EQ(p->n_host_aliases, 2);
        ASSERT_STREQ(p->host_aliases[0].ip, "127.0.0.1");
        ASSERT_STREQ(p->host_aliases[0].hostnames[1], "kube-vip.local");
        ASSERT_STREQ(p->host_aliases[1].hostnames[0], "v6");
        kl_manifest_done(&m);

        m = parse(HDR "spec:\n"
                      "  hostPID: true\n"
                      "  shareProcessNamespace: true\n"
                      "  hostAliases: [{ip: 10.0.0.300, hostnames: [Bad_Name]}]\n"
                      "  containers: [{name: c, image: busybox:1}]\n");
        ASSERT_TRUE(has_line(m.errors, "spec.shareProcessNamespace: ShareProcessNamespace and HostPID cannot both be "
                                       "enabled"));
        ASSERT_TRUE(has_line(m.errors, "hostAliases[0].ip: must be a valid IP address, got \"10.0.0.300\""));
        ASSERT_TRUE(has_line(m.errors, "hostAliases[0].hostnames: invalid hostname \"Bad_Name\""));
        kl_manifest_done(&m);
}

TEST(yaml11_booleans_as_upstream) {
        /* go-yaml v2 (sigs.k8s.io/yaml) reads yes/on/y as booleans */
        struct kl_manifest m = parse(HDR "spec:\n  hostNetwork: yes\n  containers:\n"
                                         "  - {name: c, image: busybox:1, tty: on, stdin: n}\n");
        ASSERT_NULL(m.errors);
        ASSERT_TRUE(m.pods[0]->host_network);
        ASSERT_TRUE(m.pods[0]->containers[0].tty);
        ASSERT_FALSE(m.pods[0]->containers[0].stdin);
        kl_manifest_done(&m);

        m = parse(HDR
                  "spec:\n  containers:\n  - name: c\n    image: busybox:1\n    env: [{name: DEBUG, value: yes}]\n");
        ASSERT_STREQ(m.errors[0], "t.yaml:9:32: spec.containers[0].env[0].value: expected a string, got a boolean: "
                                  "upstream kubelet reads an unquoted yes as a YAML 1.1 boolean (quote it: \"yes\")");
        kl_manifest_done(&m);

        m = parse(
                HDR
                "spec:\n  containers:\n  - name: c\n    image: busybox:1\n    env: [{name: DEBUG, value: \"yes\"}]\n");
        ASSERT_NULL(m.errors);
        ASSERT_STREQ(m.pods[0]->containers[0].env[0].value, "yes");
        kl_manifest_done(&m);
}

TEST(bom_generate_name_and_long_names) {
        struct kl_manifest m =
                parse("\xef\xbb\xbf" HDR "  generateName: p-\nspec:\n  containers: [{name: c, image: b:1}]\n");
        ASSERT_NULL(m.errors);
        ASSERT_NULL(m.warnings); /* generateName is unused when name is set, as upstream */
        ASSERT_STREQ(m.pods[0]->name, "p");
        kl_manifest_done(&m);

        ASSERT_NULL(
                kl_check_dns1123_subdomain("a-pod-name-that-is-longer-than-sixty-three-characters-without-any-dots"));
        ASSERT_NOT_NULL(
                kl_check_dns1123_label("a-pod-name-that-is-longer-than-sixty-three-characters-without-any-dots"));
}

TEST(mirror_pod_dump_refused) {
        struct kl_manifest m = parse(HDR "  annotations:\n    kubernetes.io/config.mirror: abc\n"
                                         "spec:\n  containers: [{name: c, image: b:1}]\n");
        ASSERT_EQ(m.n_pods, 0);
        ASSERT_TRUE(has_line(m.errors, "t.yaml:6:5: metadata.annotations: \"kubernetes.io/config.mirror\" marks a "
                                       "mirror pod"));
        kl_manifest_done(&m);
}

TEST(fields_newer_than_v1_30_are_ignored) {
        struct kl_manifest m = parse(HDR "spec:\n"
                                         "  resources: {limits: {cpu: 1}}\n"
                                         "  securityContext: {supplementalGroupsPolicy: Strict}\n"
                                         "  containers:\n"
                                         "  - name: c\n"
                                         "    image: b:1\n"
                                         "    lifecycle: {stopSignal: SIGUSR1}\n"
                                         "  initContainers:\n"
                                         "  - name: i\n"
                                         "    image: b:1\n"
                                         "    restartPolicy: Always\n"
                                         "    restartPolicyRules: [{action: Restart}]\n");
        ASSERT_NULL(m.errors);
        ASSERT_EQ(m.n_pods, 1);
        ASSERT_TRUE(has_line(m.warnings, "spec.resources: added in Kubernetes 1.32"));
        ASSERT_TRUE(has_line(m.warnings, "securityContext.supplementalGroupsPolicy: added in Kubernetes 1.31"));
        ASSERT_TRUE(has_line(m.warnings, "lifecycle.stopSignal: added in Kubernetes 1.33"));
        ASSERT_TRUE(has_line(m.warnings, "restartPolicyRules: added in Kubernetes 1.34"));
        kl_manifest_done(&m);
}

TEST(security_context_as_upstream) {
        struct kl_manifest m =
                parse(HDR "spec:\n  containers:\n  - name: c\n    image: b:1\n"
                          "    securityContext:\n"
                          "      procMount: Default\n"
                          "      capabilities: {drop: [all], add: [NET_ADMIN, MADE_UP]}\n"
                          "      seccompProfile: {type: Localhost, localhostProfile: profiles/a.json}\n");
        ASSERT_NULL(m.errors);
        ASSERT_STREQ(m.pods[0]->containers[0].security_context.capabilities_drop[0], "all");
        ASSERT_TRUE(has_line(m.warnings, "unknown capability \"MADE_UP\": the runtime will ignore or refuse it"));
        ASSERT_FALSE(has_line(m.warnings, "\"all\""));
        kl_manifest_done(&m);

        m = parse(HDR "spec:\n  securityContext:\n    seccompProfile: {type: Localhost, localhostProfile: /abs.json}\n"
                      "  containers:\n  - name: c\n    image: b:1\n"
                      "    securityContext:\n      seccompProfile: {type: Localhost, localhostProfile: a/../../x}\n");
        ASSERT_TRUE(has_line(m.errors, "spec.securityContext.seccompProfile.localhostProfile: \"/abs.json\": must be a "
                                       "relative path"));
        ASSERT_TRUE(has_line(m.errors, "seccompProfile.localhostProfile: \"a/../../x\": must not contain '..'"));
        kl_manifest_done(&m);
}

TEST_MAIN()
