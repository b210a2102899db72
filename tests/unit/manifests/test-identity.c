/* SPDX-License-Identifier: Apache-2.0 */
/* Pod identity: SHA-256 test vectors, a uid that is stable across rewrites
 * and restarts and changes with content, node and source path. */
#include <errno.h>
#include <string.h>

#include "lib/macros.h"
#include "manifests/identity.h"
#include "manifests/manifest.h"
#include "tests/lib/tests.h"

static void hex(const uint8_t *d, size_t n, char *out) {
        for (size_t i = 0; i < n; i++)
                sprintf(out + 2 * i, "%02x", d[i]);
}

TEST(sha256_vectors) {
        static const struct {
                const char *in;
                const char *out;
        } v[] = {
                {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
                {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
                {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
                {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
                 "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
        };
        uint8_t d[32];
        char h[65];

        for (size_t i = 0; i < ELEMENTSOF(v); i++) {
                kl_sha256(v[i].in, strlen(v[i].in), d);
                hex(d, 32, h);
                ASSERT_STREQ(h, v[i].out);
        }

        /* one million 'a', fed in odd-sized pieces */
        struct kl_sha256 s;
        char chunk[997];
        size_t left = 1000000;
        memset(chunk, 'a', sizeof(chunk));
        kl_sha256_init(&s);
        while (left > 0) {
                size_t k = MIN(left, sizeof(chunk));
                kl_sha256_update(&s, chunk, k);
                left -= k;
        }
        kl_sha256_final(&s, d);
        hex(d, 32, h);
        ASSERT_STREQ(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static char *uid_of(const char *yaml, const char *node, const char *path) {
        struct kl_manifest m;
        char *uid;
        int r = kl_manifest_parse(yaml, strlen(yaml), path, node, NULL, &m);
        for (char **e = m.errors; e && *e; e++)
                fprintf(stderr, "  %s\n", *e);
        ASSERT_OK(r);
        ASSERT_EQ(m.n_pods, 1);
        uid = strdup(m.pods[0]->uid);
        ASSERT_STREQ(m.pods[0]->config_hash, uid);
        kl_manifest_done(&m);
        return uid;
}

static const char base[] = "apiVersion: v1\n"
                           "kind: Pod\n"
                           "metadata:\n"
                           "  name: web\n"
                           "  labels: {app: web}\n"
                           "spec:\n"
                           "  containers:\n"
                           "  - name: app\n"
                           "    image: busybox:1\n"
                           "    command: [sleep, \"3600\"]\n";

TEST(uid_format_and_stability) {
        _cleanup_free_ char *a = uid_of(base, "node1", "/etc/kubernetes/manifests/web.yaml");
        _cleanup_free_ char *b = uid_of(base, "node1", "/etc/kubernetes/manifests/web.yaml");

        ASSERT_EQ(strlen(a), 32);
        ASSERT_EQ(strspn(a, "0123456789abcdef"), 32);
        ASSERT_STREQ(a, b);
        /* pinned: the uid must never change between builds or restarts, or
         * every pod would restart after an upgrade */
        ASSERT_STREQ(a, "fea581c95fae31f95966265bf6b14dd4");
        printf("  uid %s\n", a);
}

TEST(uid_ignores_layout) {
        _cleanup_free_ char *a = uid_of(base, "node1", "/m/web.yaml");
        static const char *const same[] = {
                /* comments, blank lines, other indentation */
                "# the web pod\napiVersion: v1\nkind: Pod\n\nmetadata:\n    name: web   # name\n    labels:\n        app: web\nspec:\n    containers:\n    -   name: app\n        image: busybox:1\n        command:\n        - sleep\n        - \"3600\"\n",
                /* key order and quoting of strings */
                "kind: Pod\napiVersion: \"v1\"\nspec:\n  containers:\n  - command: ['sleep', '3600']\n    image: 'busybox:1'\n    name: app\nmetadata:\n  labels: {\"app\": \"web\"}\n  name: web\n",
                /* JSON */
                "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"web\", \"labels\": {\"app\": \"web\"}}, \"spec\": {\"containers\": [{\"name\": \"app\", \"image\": \"busybox:1\", \"command\": [\"sleep\", \"3600\"]}]}}",
                /* document markers */
                "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels: {app: web}\nspec:\n  containers:\n  - name: app\n    image: busybox:1\n    command: [sleep, \"3600\"]\n...\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(same); i++) {
                _cleanup_free_ char *b = uid_of(same[i], "node1", "/m/web.yaml");
                if (!streq(a, b))
                        fprintf(stderr, "  variant %zu changed the uid\n", i);
                ASSERT_STREQ(a, b);
        }
        printf("  %zu rewrites keep uid %s\n", ELEMENTSOF(same), a);
}

TEST(uid_changes_with_content_node_path) {
        _cleanup_free_ char *a = uid_of(base, "node1", "/m/web.yaml");
        _cleanup_free_ char *node = uid_of(base, "node2", "/m/web.yaml");
        _cleanup_free_ char *path = uid_of(base, "node1", "/m/web2.yaml");
        char y[sizeof(base) + 64];

        ASSERT_TRUE(!streq(a, node));
        ASSERT_TRUE(!streq(a, path));

        /* any change of data: a value, a label, a number vs a string */
        static const struct {
                const char *from, *to;
        } edits[] = {
                {"busybox:1", "busybox:2"},
                {"app: web}", "app: web2}"},
                {"\"3600\"", "\"3601\""},
                {"name: app", "name: app2"},
        };
        for (size_t i = 0; i < ELEMENTSOF(edits); i++) {
                const char *at = strstr(base, edits[i].from);
                ASSERT_NOT_NULL(at);
                snprintf(y, sizeof(y), "%.*s%s%s", (int) (at - base), base, edits[i].to, at + strlen(edits[i].from));
                _cleanup_free_ char *b = uid_of(y, "node1", "/m/web.yaml");
                ASSERT_TRUE(!streq(a, b));
        }
        /* an added field */
        snprintf(y, sizeof(y), "%s    workingDir: /tmp\n", base);
        _cleanup_free_ char *c = uid_of(y, "node1", "/m/web.yaml");
        ASSERT_TRUE(!streq(a, c));
}

TEST(canonical_digest_types) {
        struct kl_yaml_limits lim = {64, 1000, 1000, 8};
        static const char *const pairs[][2] = {
                {"a: true", "a: True"}, /* booleans normalised */
                {"a: ~", "a: null"},    /* nulls normalised */
                {"a: x", "a: \"x\""},   /* strings by value */
                {"{b: 1, a: 2}", "a: 2\nb: 1"},
        };
        static const char *const differ[][2] = {
                {"a: 1", "a: \"1\""},       /* a number is not a string */
                {"a: [1, 2]", "a: [2, 1]"}, /* list order matters */
                {"a: {}", "a: []"},           {"a: ''", "a: ~"},
                {"a: {b: c}", "a: {bc: ''}"}, /* no ambiguity from concatenation */
        };
        for (int want_equal = 1; want_equal >= 0; want_equal--) {
                size_t n = want_equal ? ELEMENTSOF(pairs) : ELEMENTSOF(differ);
                for (size_t i = 0; i < n; i++) {
                        uint8_t d[2][32];
                        for (int k = 0; k < 2; k++) {
                                const char *s = want_equal ? pairs[i][k] : differ[i][k];
                                struct kl_yaml_doc *docs;
                                size_t nd;
                                ASSERT_OK(kl_yaml_parse(s, strlen(s), &lim, &docs, &nd, NULL));
                                ASSERT_OK(kl_yaml_canonical_digest(docs[0].root, d[k]));
                                kl_yaml_docs_free(docs, nd);
                        }
                        ASSERT_EQ(memcmp(d[0], d[1], 32) == 0, want_equal);
                }
        }
}

TEST(set_identity_by_hand) {
        struct kl_pod p = {.name = (char *) "web", .namespace = (char *) "default"};
        struct kl_pod q = p;
        char long_node[260];

        ASSERT_OK(kl_pod_set_identity(&p, "edge-1", "/m/web.yaml"));
        ASSERT_STREQ(p.full_name, "web-edge-1");
        ASSERT_STREQ(p.node_name, "edge-1");
        ASSERT_STREQ(p.source, "/m/web.yaml");
        ASSERT_EQ(strlen(p.uid), 32);
        ASSERT_STREQ(p.uid, p.config_hash);

        /* without a content digest the uid follows namespace and name */
        ASSERT_OK(kl_pod_set_identity(&q, "edge-1", "/m/web.yaml"));
        ASSERT_STREQ(p.uid, q.uid);
        free(q.full_name), free(q.uid), free(q.config_hash), free(q.node_name), free(q.source);
        q = (struct kl_pod){.name = (char *) "web", .namespace = (char *) "other"};
        ASSERT_OK(kl_pod_set_identity(&q, "edge-1", "/m/web.yaml"));
        ASSERT_TRUE(!streq(p.uid, q.uid));

        /* calling again replaces the old values */
        ASSERT_OK(kl_pod_set_identity(&p, "edge-2", "/m/web.yaml"));
        ASSERT_STREQ(p.full_name, "web-edge-2");

        /* an invalid full name leaves the pod alone */
        memset(long_node, 'n', 255);
        long_node[255] = '\0';
        ASSERT_ERR(kl_pod_set_identity(&p, long_node, "/m/web.yaml"), EINVAL);
        ASSERT_ERR(kl_pod_set_identity(&p, "Upper", "/m/web.yaml"), EINVAL);
        ASSERT_STREQ(p.full_name, "web-edge-2");
        ASSERT_ERR(kl_pod_set_identity(&p, NULL, "/m/web.yaml"), EINVAL);

        free(p.full_name), free(p.uid), free(p.config_hash), free(p.node_name), free(p.source);
        free(q.full_name), free(q.uid), free(q.config_hash), free(q.node_name), free(q.source);
}

TEST_MAIN()
