/* SPDX-License-Identifier: Apache-2.0 */
/* Pod model -> CRI configs (crispec.c) and the pod's host files
 * (podvolumes.c): $(VAR) expansion as upstream, env from the downward API,
 * the managed /etc/hosts, pid namespace, seccomp paths, emptyDir modes and
 * downwardAPI files. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kubelet-lite/pod/spec.h"
#include "kubelet-lite/pod/volumes.h"
#include "lib/fileio.h"
#include "lib/macros.h"
#include "manifests/manifest.h"
#include "tests/lib/tests.h"

static char tmpdir[] = "/tmp/kl-crispec-XXXXXX";

static struct kl_pod *parse(const char *yaml) {
        struct kl_manifest m;
        int r = kl_manifest_parse(yaml, strlen(yaml), "t.yaml", "node1", NULL, &m);
        for (char **e = m.errors; e && *e; e++)
                fprintf(stderr, "  error: %s\n", *e);
        ASSERT_OK(r);
        ASSERT_EQ(m.n_pods, 1);
        struct kl_pod *p = m.pods[0];
        m.pods[0] = NULL;
        m.n_pods = 0;
        kl_manifest_done(&m);
        return p;
}

static struct kl_spec_ctx ctx_for(const char *pod_ip) {
        static bool made;
        if (!made) {
                ASSERT_NOT_NULL(mkdtemp(tmpdir));
                made = true;
        }
        return (struct kl_spec_ctx){
                .root_dir = tmpdir,
                .pod_logs_dir = tmpdir,
                .cgroup_parent = "",
                .node_name = "node1",
                .host_ip = "192.0.2.10",
                .pod_ip = pod_ip,
                .seen_nsec = 1700000000123456000LL,
                .cfs_period_us = 100000,
                .alloc_cpu_milli = 2000,
                .alloc_memory = 1 << 30,
        };
}

static const char *env_of(const Runtime__V1__ContainerConfig *cc, const char *key) {
        for (size_t i = 0; i < cc->n_envs; i++)
                if (streq(cc->envs[i]->key, key))
                        return cc->envs[i]->value;
        return NULL;
}

static const Runtime__V1__Mount *mount_at(const Runtime__V1__ContainerConfig *cc, const char *path) {
        for (size_t i = 0; i < cc->n_mounts; i++)
                if (streq(cc->mounts[i]->container_path, path))
                        return cc->mounts[i];
        return NULL;
}

TEST(expand_as_upstream) {
        struct kl_arena a = {};
        char *keys[] = {"A", "B", "EMPTY", "A"};
        char *values[] = {"first", "bee", "", "second"};
        static const struct {
                const char *in, *out;
        } cases[] = {
                {"$(A)", "second"}, /* the last definition wins */
                {"x$(B)y", "xbeey"},
                {"$(EMPTY)!", "!"},
                {"$$(A)", "$(A)"}, /* escaped */
                {"$$$(B)", "$bee"},
                {"$(UNDEFINED)", "$(UNDEFINED)"},
                {"$()", "$()"},
                {"$(A", "$(A"}, /* unclosed: as written */
                {"$A", "$A"},
                {"cost: 5$", "cost: 5$"},
                {"$(A)$(B)", "secondbee"},
                {"$(B)$$", "bee$"},
                {"a$(A $(B)", "a$(A $(B)"}, /* the name runs to the first ')' */
                {"", ""},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *got = kl_spec_expand(&a, cases[i].in, keys, values, ELEMENTSOF(keys));
                printf("  %-14s -> %s\n", cases[i].in, got);
                ASSERT_STREQ(got, cases[i].out);
        }
        kl_arena_free(&a);
}

TEST(env_command_args) {
        struct kl_pod *p =
                parse("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels: {app: shop, tier: fe}\n"
                      "  annotations: {note: \"a \\\"quoted\\\" value\"}\n"
                      "spec:\n  serviceAccountName: robot\n  containers:\n  - name: c\n    image: b:1\n"
                      "    resources: {limits: {memory: 64Mi}, requests: {cpu: 250m}}\n"
                      "    command: [sh, -c, 'echo $(GREETING) $(NAME) $$(NAME) $(NOPE)']\n"
                      "    args: [\"$(POD)\"]\n"
                      "    env:\n"
                      "    - {name: NAME, value: world}\n"
                      "    - {name: GREETING, value: \"hello $(NAME) $(LATER)\"}\n"
                      "    - {name: LATER, value: late}\n"
                      "    - {name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}\n"
                      "    - {name: APP, valueFrom: {fieldRef: {fieldPath: \"metadata.labels['app']\"}}}\n"
                      "    - {name: MISSING, valueFrom: {fieldRef: {fieldPath: \"metadata.labels['x']\"}}}\n"
                      "    - {name: HASH, valueFrom: {fieldRef: {fieldPath: "
                      "\"metadata.annotations['kubernetes.io/config.hash']\"}}}\n"
                      "    - {name: SA, valueFrom: {fieldRef: {fieldPath: spec.serviceAccountName}}}\n"
                      "    - {name: IPS, valueFrom: {fieldRef: {fieldPath: status.podIPs}}}\n"
                      "    - {name: MEM_MI, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: "
                      "1Mi}}}\n"
                      "    - {name: CPU_LIM, valueFrom: {resourceFieldRef: {resource: limits.cpu}}}\n"
                      "    - {name: CPU_REQ_M, valueFrom: {resourceFieldRef: {resource: requests.cpu, divisor: "
                      "1m}}}\n"
                      "    - {name: CPU_REQ, valueFrom: {resourceFieldRef: {resource: requests.cpu}}}\n"
                      "    - {name: NAME, value: again}\n");
        struct kl_spec_ctx ctx = ctx_for("10.1.0.5");
        struct kl_arena a = {};
        struct kl_error err = {};

        Runtime__V1__ContainerConfig *cc = kl_spec_container(&a, p, &p->containers[0], "app", &ctx, 0, NULL, &err);
        ASSERT_NOT_NULL(cc);
        /* env values see only the variables defined before them */
        ASSERT_STREQ(env_of(cc, "GREETING"), "hello world $(LATER)");
        /* one entry per name, at its first place, with the last value */
        ASSERT_STREQ(env_of(cc, "NAME"), "again");
        ASSERT_STREQ(cc->envs[0]->key, "NAME");
        ASSERT_EQ(cc->n_envs, 13);
        ASSERT_STREQ(env_of(cc, "POD"), "web-node1");
        ASSERT_STREQ(env_of(cc, "APP"), "shop");
        ASSERT_STREQ(env_of(cc, "MISSING"), "");
        ASSERT_STREQ(env_of(cc, "HASH"), p->uid);
        ASSERT_STREQ(env_of(cc, "SA"), "robot");
        ASSERT_STREQ(env_of(cc, "IPS"), "10.1.0.5");
        ASSERT_STREQ(env_of(cc, "MEM_MI"), "64");
        ASSERT_STREQ(env_of(cc, "CPU_LIM"), "2"); /* no limit: the node's allocatable */
        ASSERT_STREQ(env_of(cc, "CPU_REQ_M"), "250");
        ASSERT_STREQ(env_of(cc, "CPU_REQ"), "1"); /* ceil(250m / 1) */
        /* command and args see the final env */
        ASSERT_STREQ(cc->command[2], "echo hello world $(LATER) again $(NAME) $(NOPE)");
        ASSERT_STREQ(cc->args[0], "web-node1");

        char *labels = kl_podvolumes_field_value(&a, p, &ctx, "metadata.labels");
        ASSERT_STREQ(labels, "app=\"shop\"\ntier=\"fe\"");
        char *ann = kl_podvolumes_field_value(&a, p, &ctx, "metadata.annotations");
        printf("  annotations:\n%s\n", ann);
        ASSERT_CONTAINS(ann, "kubernetes.io/config.seen=\"2023-11-14T22:13:20.123456Z\"\n");
        ASSERT_CONTAINS(ann, "kubernetes.io/config.source=\"file\"\nnote=\"a \\\"quoted\\\" value\"");
        kl_arena_free(&a);
        kl_pod_free(p);
}

TEST(hosts_file_and_namespaces) {
        struct kl_pod *p =
                parse("apiVersion: v1\nkind: Pod\nmetadata: {name: vip}\nspec:\n"
                      "  shareProcessNamespace: true\n"
                      "  hostAliases: [{ip: 127.0.0.1, hostnames: [kubernetes, k8s.local]}]\n"
                      "  securityContext: {seccompProfile: {type: Localhost, localhostProfile: p/a.json}}\n"
                      "  containers: [{name: c, image: b:1, securityContext: {capabilities: {drop: [all]}}}]\n");
        struct kl_spec_ctx ctx = ctx_for("10.1.0.7");
        struct kl_arena a = {};
        struct kl_error err = {};
        _cleanup_free_ char *content = NULL;

        Runtime__V1__PodSandboxConfig *sb = kl_spec_sandbox(&a, p, &ctx, 0);
        ASSERT_NOT_NULL(sb);
        ASSERT_EQ(sb->linux->security_context->namespace_options->pid, RUNTIME__V1__NAMESPACE_MODE__POD);
        ASSERT_STREQ(sb->hostname, "vip-node1"); /* the static pod's name, as upstream */
        ASSERT_EQ(sb->linux->security_context->seccomp->profile_type,
                  RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__Localhost);
        char *want_profile = kl_arena_printf(&a, "%s/seccomp/p/a.json", tmpdir);
        ASSERT_STREQ(sb->linux->security_context->seccomp->localhost_ref, want_profile);

        /* a real create writes <pod dir>/etc-hosts and mounts it */
        Runtime__V1__ContainerConfig *cc =
                kl_spec_container(&a, p, &p->containers[0], "app", &ctx, 0, "/dev/null", &err);
        ASSERT_NOT_NULL(cc);
        ASSERT_EQ(cc->linux->security_context->namespace_options->pid, RUNTIME__V1__NAMESPACE_MODE__POD);
        ASSERT_STREQ(cc->linux->security_context->capabilities->drop_capabilities[0], "ALL");
        ASSERT_STREQ(cc->linux->security_context->seccomp->localhost_ref, want_profile);
        const Runtime__V1__Mount *m = mount_at(cc, "/etc/hosts");
        ASSERT_NOT_NULL(m);
        ASSERT_OK(kl_read_file_at(AT_FDCWD, m->host_path, 1 << 20, 1, &content, NULL));
        printf("  %s:\n%s", m->host_path, content);
        ASSERT_STREQ(content, "# Kubernetes-managed hosts file.\n"
                              "127.0.0.1\tlocalhost\n"
                              "::1\tlocalhost ip6-localhost ip6-loopback\n"
                              "fe00::0\tip6-localnet\n"
                              "fe00::0\tip6-mcastprefix\n"
                              "fe00::1\tip6-allnodes\n"
                              "fe00::2\tip6-allrouters\n"
                              "10.1.0.7\tvip-node1\n"
                              "\n"
                              "# Entries added by HostAliases.\n"
                              "127.0.0.1\tkubernetes\tk8s.local\n");

        /* hostNetwork: the node's file, then the aliases */
        p->host_network = true;
        char *hn = kl_podvolumes_hosts_content(&a, p, "127.0.0.1 localhost\n", NULL, "vip");
        ASSERT_STREQ(hn, "# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n\n"
                         "# Entries added by HostAliases.\n127.0.0.1\tkubernetes\tk8s.local\n");

        /* no pod IP yet on a pod network: no managed file, as upstream */
        p->host_network = false;
        ctx.pod_ip = NULL;
        cc = kl_spec_container(&a, p, &p->containers[0], "app", &ctx, 0, "/dev/null", &err);
        ASSERT_NOT_NULL(cc);
        ASSERT_NULL(mount_at(cc, "/etc/hosts"));
        kl_arena_free(&a);
        kl_pod_free(p);
}

TEST(volumes_on_the_host) {
        struct kl_pod *p =
                parse("apiVersion: v1\nkind: Pod\nmetadata: {name: vol, labels: {a: b}}\nspec:\n"
                      "  securityContext: {fsGroup: 2000}\n"
                      "  containers:\n  - name: c\n    image: b:1\n"
                      "    resources: {limits: {memory: 32Mi}}\n"
                      "    volumeMounts: [{name: data, mountPath: /data}, {name: info, mountPath: /info},\n"
                      "                   {name: root, mountPath: /host, mountPropagation: HostToContainer}]\n"
                      "  volumes:\n  - {name: data, emptyDir: {}}\n  - {name: root, hostPath: {path: /}}\n"
                      "  - name: info\n    downwardAPI:\n      items:\n"
                      "      - {path: labels, fieldRef: {fieldPath: metadata.labels}}\n"
                      "      - {path: d/uid, mode: 0600, fieldRef: {fieldPath: metadata.uid}}\n"
                      "      - {path: mem, resourceFieldRef: {containerName: c, resource: limits.memory, "
                      "divisor: 1Mi}}\n");
        struct kl_spec_ctx ctx = ctx_for(NULL);
        struct kl_arena a = {};
        struct kl_error err = {};
        struct stat st;
        mode_t old = umask(077);

        ASSERT_OK(kl_podvolumes_prepare(p, &ctx, &err));
        umask(old);
        char *data = kl_spec_volume_host_path(&a, &ctx, p, &p->volumes[0]);
        ASSERT_OK(stat(data, &st) < 0 ? -errno : 0);
        printf("  emptyDir %s: mode %o gid %u\n", data, (unsigned) st.st_mode & 07777, (unsigned) st.st_gid);
        ASSERT_EQ(st.st_mode & 07777, 02777); /* 0777 despite the umask, setgid for fsGroup */
        ASSERT_EQ(st.st_gid, 2000);

        char *info = kl_spec_volume_host_path(&a, &ctx, p, &p->volumes[2]);
        struct {
                const char *file, *content;
                mode_t mode;
        } want[] = {
                {"labels", "a=\"b\"", 0644 | 0440},
                {"d/uid", p->uid, 0600 | 0440},
                {"mem", "32", 0644 | 0440},
        };
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                _cleanup_free_ char *got = NULL;
                char *f = kl_arena_printf(&a, "%s/%s", info, want[i].file);
                ASSERT_OK(kl_read_file_at(AT_FDCWD, f, 4096, 1, &got, NULL));
                ASSERT_OK(stat(f, &st) < 0 ? -errno : 0);
                printf("  %s: '%s' mode %o gid %u\n", want[i].file, got, (unsigned) st.st_mode & 07777,
                       (unsigned) st.st_gid);
                ASSERT_STREQ(got, want[i].content);
                ASSERT_EQ(st.st_mode & 07777, want[i].mode);
                ASSERT_EQ(st.st_gid, 2000);
        }

        /* downwardAPI is mounted read-only */
        Runtime__V1__ContainerConfig *cc = kl_spec_container(&a, p, &p->containers[0], "app", &ctx, 0, NULL, &err);
        ASSERT_NOT_NULL(cc);
        ASSERT_TRUE(mount_at(cc, "/info")->readonly);
        ASSERT_FALSE(mount_at(cc, "/data")->readonly);
        ASSERT_EQ(mount_at(cc, "/data")->propagation, RUNTIME__V1__MOUNT_PROPAGATION__PROPAGATION_PRIVATE);
        ASSERT_EQ(mount_at(cc, "/host")->propagation, RUNTIME__V1__MOUNT_PROPAGATION__PROPAGATION_HOST_TO_CONTAINER);

        /* idempotent: an adopted pod prepares again */
        ASSERT_OK(kl_podvolumes_prepare(p, &ctx, &err));
        kl_arena_free(&a);
        kl_pod_free(p);
        ASSERT_OK(kl_rm_rf_at(AT_FDCWD, tmpdir));
}

TEST_MAIN()
