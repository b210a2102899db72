/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/kubelet-lite/pod/harness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kubelet-lite/cm/node.h"
#include "lib/macros.h"
#include "lib/strbuf.h"
#include "manifests/manifest.h"
#include "manifests/source.h"
#include "tests/lib/tests.h"

struct harness H;

static void set_str(char **dst, const char *v) {
        free(*dst);
        *dst = strdup(v);
        ASSERT_NOT_NULL(*dst);
}

void h_setup(void) {
        struct kl_error err = {};

        if (H.pm || H.top[0])
                h_done(); /* what a failed test left */
        memset(&H, 0, sizeof(H));
        snprintf(H.top, sizeof(H.top), "/tmp/kl-test-pod.XXXXXX");
        ASSERT_NOT_NULL(mkdtemp(H.top));
        snprintf(H.root, sizeof(H.root), "%s/root", H.top);
        snprintf(H.logs, sizeof(H.logs), "%s/logs", H.top);
        ASSERT_OK(mkdir(H.root, 0755));
        ASSERT_OK(mkdir(H.logs, 0755));

        fake_clock_reset();
        fake_cri_reset();

        kl_config_init(&H.cfg);
        set_str(&H.cfg.root_dir, H.root);
        set_str(&H.cfg.pod_logs_dir, H.logs);
        set_str(&H.cfg.container_log_links_dir, ""); /* no /var/log/containers */
        set_str(&H.cfg.image_preload_dir, "");
        set_str(&H.cfg.node_name, "node1");
        H.cfg.cgroups_per_qos = false; /* no cgroup is created or removed */

        ASSERT_OK(kl_event_new(&H.loop));
        ASSERT_OK(kl_cri_new("unix:///fake.sock", 0, &H.cri, &err));
        int r = kl_node_new(&H.cfg, &H.node, &err);
        if (r < 0)
                fprintf(stderr, "  kl_node_new: %s\n", kl_error_str(&err));
        ASSERT_OK(r);
        struct kl_pm_params p = {
                .loop = H.loop,
                .cri = H.cri,
                .cfg = &H.cfg,
                .node = H.node,
                .host_ip = "192.0.2.10",
        };
        ASSERT_OK(kl_pm_new(&p, &H.pm));
        /* The first relist: nothing in the runtime, no manifests read yet. */
        ASSERT_TRUE(fake_loop_settle() >= 0);
}

void h_done(void) {
        char cmd[400];
        H.pm = kl_pm_free(H.pm);
        H.node = kl_node_free(H.node);
        H.cri = kl_cri_free(H.cri);
        H.loop = kl_event_free(H.loop);
        kl_config_done(&H.cfg);
        H.json = mfree(H.json);
        fake_cri_reset();
        if (H.top[0]) {
                snprintf(cmd, sizeof(cmd), "rm -rf '%s'", H.top);
                H.top[0] = 0;
                ASSERT_EQ(system(cmd), 0);
        }
}

static struct kl_pod *parse(const char *yaml, const char *file) {
        struct kl_manifest m;
        int r = kl_manifest_parse(yaml, strlen(yaml), file, "node1", NULL, &m);
        for (char **e = m.errors; e && *e; e++)
                fprintf(stderr, "  manifest error: %s\n", *e);
        ASSERT_OK(r);
        ASSERT_EQ(m.n_pods, 1);
        struct kl_pod *p = m.pods[0];
        m.pods[0] = NULL;
        m.n_pods = 0;
        kl_manifest_done(&m);
        return p;
}

const char *h_uid_of(const char *yaml) {
        static char uid[128];
        struct kl_pod *p = parse(yaml, "0.yaml");
        snprintf(uid, sizeof(uid), "%s", p->uid);
        kl_pod_free(p);
        return uid;
}

void h_desire(const char *const *yamls, size_t n) {
        struct kl_source_entry e[8] = {};
        struct kl_pod *pods[8] = {};
        char files[8][16];

        ASSERT_LE(n, 8);
        for (size_t i = 0; i < n; i++) {
                snprintf(files[i], sizeof(files[i]), "%zu.yaml", i);
                pods[i] = parse(yamls[i], files[i]);
                e[i].file = files[i];
                e[i].pods = &pods[i];
                e[i].n_pods = 1;
        }
        kl_pm_set_desired(H.pm, e, n);
        for (size_t i = 0; i < n; i++)
                kl_pod_free(pods[i]);
        ASSERT_TRUE(fake_loop_settle() >= 0);
}

void h_desire1(const char *yaml) {
        h_desire(&yaml, 1);
}

const char *h_render(void) {
        struct kl_json j = {};
        kl_pm_render_pods(H.pm, &j);
        free(H.json);
        H.json = kl_buf_steal(&j.buf, NULL);
        ASSERT_NOT_NULL(H.json);
        return H.json;
}

const char *h_cstatus(const char *container) {
        static char buf[8192];
        char key[160];
        const char *json = h_render();

        snprintf(key, sizeof(key), "{\"name\":\"%s\",\"state\":", container);
        const char *s = strstr(json, key);
        if (!s)
                return NULL;
        /* up to the matching brace (no braces inside the strings we render here) */
        int depth = 0;
        const char *p = s;
        for (; *p; p++) {
                if (*p == '{')
                        depth++;
                else if (*p == '}' && --depth == 0)
                        break;
        }
        size_t n = MIN((size_t) (p - s + 1), sizeof(buf) - 1);
        memcpy(buf, s, n);
        buf[n] = 0;
        return buf;
}

static bool find_pod(const char *full_name, struct kl_pod_iter *it, struct kl_pod_view *v) {
        *it = (struct kl_pod_iter){};
        while (kl_pm_next_pod(H.pm, it, v))
                if (streq(v->name, full_name))
                        return true;
        return false;
}

const char *h_phase(const char *full_name) {
        struct kl_pod_iter it;
        struct kl_pod_view v;
        return find_pod(full_name, &it, &v) ? v.phase : NULL;
}

bool h_container(const char *full_name, const char *container, struct kl_container_view *ret) {
        struct kl_pod_iter it;
        struct kl_pod_view v;
        if (!find_pod(full_name, &it, &v))
                return false;
        for (size_t i = 0; i < v.n_containers; i++) {
                kl_pm_pod_container(&v, i, ret);
                if (streq(ret->name, container))
                        return true;
        }
        return false;
}

unsigned h_n_pods(void) {
        struct kl_pod_iter it = {};
        struct kl_pod_view v;
        unsigned n = 0;
        while (kl_pm_next_pod(H.pm, &it, &v))
                n++;
        return n;
}
