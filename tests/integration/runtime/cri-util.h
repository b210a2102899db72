/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the CRI integration tests: a client on $KL_CRI_ENDPOINT, pod and
 * container configs that work here (hostNetwork, testbox image, cgroups under
 * kl-cri-test/), waiting for async callbacks, and cleanup that also runs when
 * an ASSERT longjmp'ed out of a test. */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/macros.h"
#include "runtime/cri.h"
#include "tests/lib/tests.h"

#define TESTBOX_IMAGE "localhost/kubelet-lite/testbox:1.0"
#define BUSYBOX_IMAGE "localhost/kubelet-lite/busybox:1.0"
#define PAUSE_IMAGE "localhost/kubelet-lite/pause:1.0"
#define CGROUP_TOP "kl-cri-test"
#define TEST_LABEL "io.kubelet-lite.test"

static struct kl_cri *test_cri;
static char test_tmpdir[PATH_MAX];
static unsigned test_serial;

static inline double now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st, (void) flag, (void) ftw;
        remove(path);
        return 0;
}

/* Stop and remove every sandbox (containers go with it): the containerd of
 * with-containerd is private to this binary, so everything in it is ours. */
static void reap_all(void) {
        Runtime__V1__ListPodSandboxResponse *l = NULL;
        struct kl_error e = {0};

        if (!test_cri || kl_cri_list_pod_sandbox(test_cri, NULL, &l, &e) < 0)
                return;
        for (size_t i = 0; i < l->n_items; i++) {
                (void) kl_cri_stop_pod_sandbox(test_cri, l->items[i]->id, NULL);
                (void) kl_cri_remove_pod_sandbox(test_cri, l->items[i]->id, NULL);
        }
        kl_cri_response_free(l);
}

/* containerd leaves the parents of cgroup_parent behind (see FACTS). */
static void remove_test_cgroups(void) {
        DIR *top = opendir("/sys/fs/cgroup");
        struct dirent *de;

        if (!top)
                return;
        while ((de = readdir(top))) {
                char path[PATH_MAX];
                DIR *d;
                struct dirent *pe;

                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/" CGROUP_TOP, de->d_name);
                d = opendir(path);
                if (!d)
                        continue;
                while ((pe = readdir(d)))
                        if (strncmp(pe->d_name, "pod", 3) == 0) {
                                char sub[PATH_MAX + 300];

                                snprintf(sub, sizeof(sub), "%s/%s", path, pe->d_name);
                                (void) rmdir(sub);
                        }
                closedir(d);
                (void) rmdir(path);
        }
        closedir(top);
}

static void test_teardown(void) {
        reap_all();
        test_cri = kl_cri_free(test_cri);
        remove_test_cgroups();
        if (test_tmpdir[0])
                nftw(test_tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The client every test shares; skips when not run under with-containerd. */
static inline struct kl_cri *cri(void) {
        const char *ep = getenv("KL_CRI_ENDPOINT");
        struct kl_error e = {0};

        if (test_cri)
                return test_cri;
        if (!ep)
                SKIP("KL_CRI_ENDPOINT not set: run under tests/lib/with-containerd");
        ASSERT_OK(kl_cri_new(ep, 30000, &test_cri, &e));
        snprintf(test_tmpdir, sizeof(test_tmpdir), "/tmp/kl-cri-test.XXXXXX");
        ASSERT_NOT_NULL(mkdtemp(test_tmpdir));
        atexit(test_teardown);
        return test_cri;
}

static inline void require_image(const char *image) {
        Runtime__V1__ImageStatusResponse *st = NULL;
        struct kl_error e = {0};
        int present;

        ASSERT_OK(kl_cri_image_status(cri(), image, false, &st, &e));
        present = st->image != NULL;
        kl_cri_response_free(st);
        if (!present)
                SKIP("image %s not imported (make images)", image);
}

/* --- a hostNetwork pod ------------------------------------------------------- */

struct test_pod {
        Runtime__V1__PodSandboxConfig cfg;
        Runtime__V1__PodSandboxMetadata md;
        Runtime__V1__LinuxPodSandboxConfig linux;
        Runtime__V1__LinuxSandboxSecurityContext sc;
        Runtime__V1__NamespaceOption ns;
        Runtime__V1__PodSandboxConfig__LabelsEntry label;
        Runtime__V1__PodSandboxConfig__LabelsEntry *labels[1];
        Runtime__V1__PodSandboxConfig__AnnotationsEntry annotation;
        Runtime__V1__PodSandboxConfig__AnnotationsEntry *annotations[1];
        char name[64], uid[64], logdir[PATH_MAX + 80], cgroup[128];
        char *id;
};

static inline void test_pod_init(struct test_pod *p, const char *name) {
        (void) cri();
        *p = (struct test_pod){
                .cfg = RUNTIME__V1__POD_SANDBOX_CONFIG__INIT,
                .md = RUNTIME__V1__POD_SANDBOX_METADATA__INIT,
                .linux = RUNTIME__V1__LINUX_POD_SANDBOX_CONFIG__INIT,
                .sc = RUNTIME__V1__LINUX_SANDBOX_SECURITY_CONTEXT__INIT,
                .ns = RUNTIME__V1__NAMESPACE_OPTION__INIT,
                .label = RUNTIME__V1__POD_SANDBOX_CONFIG__LABELS_ENTRY__INIT,
                .annotation = RUNTIME__V1__POD_SANDBOX_CONFIG__ANNOTATIONS_ENTRY__INIT,
        };
        snprintf(p->name, sizeof(p->name), "%s", name);
        snprintf(p->uid, sizeof(p->uid), "kl-%d-%u", (int) getpid(), ++test_serial);
        snprintf(p->logdir, sizeof(p->logdir), "%s/%s", test_tmpdir, p->uid);
        snprintf(p->cgroup, sizeof(p->cgroup), "/" CGROUP_TOP "/pod%s", p->uid);
        mkdir(p->logdir, 0755);

        p->md.name = p->name;
        p->md.uid = p->uid;
        p->md.namespace_ = (char *) "default";
        p->cfg.metadata = &p->md;
        /* hostNetwork: no CNI needed, and the hostname must stay empty. */
        p->cfg.hostname = (char *) "";
        p->cfg.log_directory = p->logdir;
        p->label.key = (char *) TEST_LABEL;
        p->label.value = p->name;
        p->labels[0] = &p->label;
        p->cfg.labels = p->labels;
        p->cfg.n_labels = 1;
        p->annotation.key = (char *) "io.kubelet-lite.test/annotation";
        p->annotation.value = (char *) "yes";
        p->annotations[0] = &p->annotation;
        p->cfg.annotations = p->annotations;
        p->cfg.n_annotations = 1;
        p->ns.network = RUNTIME__V1__NAMESPACE_MODE__NODE;
        p->ns.pid = RUNTIME__V1__NAMESPACE_MODE__CONTAINER;
        p->ns.ipc = RUNTIME__V1__NAMESPACE_MODE__POD;
        p->sc.namespace_options = &p->ns;
        p->linux.security_context = &p->sc;
        p->linux.cgroup_parent = p->cgroup;
        p->cfg.linux = &p->linux;
}

static inline void test_pod_run(struct test_pod *p) {
        struct kl_error e = {0};
        int r = kl_cri_run_pod_sandbox(cri(), &p->cfg, NULL, &p->id, &e);

        if (r < 0)
                fprintf(stderr, "  RunPodSandbox: %s\n", kl_error_str(&e));
        ASSERT_OK(r);
        ASSERT_NOT_NULL(p->id);
}

/* Stop and remove, asserting both work; frees the id. */
static inline void test_pod_destroy(struct test_pod *p) {
        struct kl_error e = {0};

        if (!p->id)
                return;
        ASSERT_OK(kl_cri_stop_pod_sandbox(cri(), p->id, &e));
        ASSERT_OK(kl_cri_remove_pod_sandbox(cri(), p->id, &e));
        free(p->id);
        p->id = NULL;
}

/* --- a container in it ---------------------------------------------------------- */

struct test_ctr {
        Runtime__V1__ContainerConfig cfg;
        Runtime__V1__ContainerMetadata md;
        Runtime__V1__ImageSpec image;
        Runtime__V1__LinuxContainerConfig linux;
        Runtime__V1__LinuxContainerSecurityContext sc;
        Runtime__V1__NamespaceOption ns;
        Runtime__V1__LinuxContainerResources res;
        Runtime__V1__ContainerConfig__LabelsEntry label;
        Runtime__V1__ContainerConfig__LabelsEntry *labels[1];
        Runtime__V1__KeyValue env;
        Runtime__V1__KeyValue *envs[1];
        char *args[8];
        char name[64], log_path[96];
        char *id;
};

/* args: the /kltest mode and its arguments, NULL-terminated. */
static inline void test_ctr_init(struct test_ctr *c, const char *name, const char *const *args) {
        size_t n = 0;

        *c = (struct test_ctr){
                .cfg = RUNTIME__V1__CONTAINER_CONFIG__INIT,
                .md = RUNTIME__V1__CONTAINER_METADATA__INIT,
                .image = RUNTIME__V1__IMAGE_SPEC__INIT,
                .linux = RUNTIME__V1__LINUX_CONTAINER_CONFIG__INIT,
                .sc = RUNTIME__V1__LINUX_CONTAINER_SECURITY_CONTEXT__INIT,
                .ns = RUNTIME__V1__NAMESPACE_OPTION__INIT,
                .res = RUNTIME__V1__LINUX_CONTAINER_RESOURCES__INIT,
                .label = RUNTIME__V1__CONTAINER_CONFIG__LABELS_ENTRY__INIT,
                .env = RUNTIME__V1__KEY_VALUE__INIT,
        };
        snprintf(c->name, sizeof(c->name), "%s", name);
        snprintf(c->log_path, sizeof(c->log_path), "%s/0.log", name);
        c->md.name = c->name;
        c->cfg.metadata = &c->md;
        c->image.image = (char *) TESTBOX_IMAGE;
        c->cfg.image = &c->image;
        while (args && args[n] && n < ELEMENTSOF(c->args) - 1) {
                c->args[n] = (char *) args[n];
                n++;
        }
        c->cfg.args = c->args;
        c->cfg.n_args = n;
        c->cfg.log_path = c->log_path;
        c->label.key = (char *) TEST_LABEL;
        c->label.value = c->name;
        c->labels[0] = &c->label;
        c->cfg.labels = c->labels;
        c->cfg.n_labels = 1;
        c->env.key = (char *) "KL_TEST";
        c->env.value = c->name;
        c->envs[0] = &c->env;
        c->cfg.envs = c->envs;
        c->cfg.n_envs = 1;
        c->ns.network = RUNTIME__V1__NAMESPACE_MODE__NODE;
        c->ns.pid = RUNTIME__V1__NAMESPACE_MODE__CONTAINER;
        c->ns.ipc = RUNTIME__V1__NAMESPACE_MODE__POD;
        c->sc.namespace_options = &c->ns;
        c->res.cpu_shares = 512;
        c->res.memory_limit_in_bytes = 64 * 1024 * 1024;
        c->linux.resources = &c->res;
        c->linux.security_context = &c->sc;
        c->cfg.linux = &c->linux;
}

static inline void test_ctr_start(struct test_pod *p, struct test_ctr *c) {
        struct kl_error e = {0};
        int r;

        r = kl_cri_create_container(cri(), p->id, &c->cfg, &p->cfg, &c->id, &e);
        if (r < 0)
                fprintf(stderr, "  CreateContainer: %s\n", kl_error_str(&e));
        ASSERT_OK(r);
        ASSERT_NOT_NULL(c->id);
        r = kl_cri_start_container(cri(), c->id, &e);
        if (r < 0)
                fprintf(stderr, "  StartContainer: %s\n", kl_error_str(&e));
        ASSERT_OK(r);
}

static inline Runtime__V1__ContainerState ctr_state(const char *id) {
        Runtime__V1__ContainerStatusResponse *st = NULL;
        struct kl_error e = {0};
        Runtime__V1__ContainerState s;

        ASSERT_OK(kl_cri_container_status(cri(), id, false, &st, &e));
        ASSERT_NOT_NULL(st->status);
        s = st->status->state;
        kl_cri_response_free(st);
        return s;
}

/* --- async ------------------------------------------------------------------------ */

struct cb_result {
        int calls;
        int r;
        char msg[KL_ERROR_MSG_MAX];
        const ProtobufCMessageDescriptor *reply_desc;
        /* ExecSync replies are copied out: the reply dies after the callback. */
        char out[256];
        int exit_code;
        double at_ms;
};

static inline void record_cb(int r, const struct kl_error *err, ProtobufCMessage *reply, void *userdata) {
        struct cb_result *res = userdata;

        res->calls++;
        res->r = r;
        res->at_ms = now_ms();
        snprintf(res->msg, sizeof(res->msg), "%s", err ? err->msg : "");
        res->reply_desc = reply ? reply->descriptor : NULL;
        if (reply && reply->descriptor == &runtime__v1__exec_sync_response__descriptor) {
                Runtime__V1__ExecSyncResponse *x = (Runtime__V1__ExecSyncResponse *) reply;
                size_t n = MIN(x->stdout.len, sizeof(res->out) - 1);

                memcpy(res->out, x->stdout.data, n);
                res->out[n] = '\0';
                res->exit_code = x->exit_code;
        }
}

/* Wait on the event fd like the daemon's epoll loop would, dispatching,
 * until *calls reaches want or timeout_ms passes. Returns callbacks run. */
static inline int wait_dispatch(struct kl_cri *c, const int *calls, int want, int timeout_ms) {
        double end = now_ms() + timeout_ms;
        int n = 0;

        while (*calls < want) {
                struct pollfd pfd = {.fd = kl_cri_event_fd(c), .events = POLLIN};
                int left = (int) (end - now_ms());

                if (left <= 0)
                        break;
                if (poll(&pfd, 1, left) > 0 && (pfd.revents & POLLIN))
                        n += kl_cri_dispatch(c);
        }
        return n;
}

/* With KL_CRI_FUZZ_CORPUS=DIR, save a reply as packed bytes into DIR/name:
 * that is how tests/fuzz/corpus/fuzz-cri-reply/ was seeded from real
 * containerd replies (protobuf-c keeps unknown fields, so re-packing gives
 * back what containerd sent, up to field order). */
static inline void corpus_dump(const char *name, const void *msg) {
        const char *dir = getenv("KL_CRI_FUZZ_CORPUS");
        char path[PATH_MAX];
        uint8_t *buf;
        size_t len;
        FILE *f;

        if (!dir || !msg)
                return;
        len = protobuf_c_message_get_packed_size(msg);
        buf = malloc(len ? len : 1);
        if (!buf)
                return;
        protobuf_c_message_pack(msg, buf);
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "we");
        if (f) {
                fwrite(buf, 1, len, f);
                fclose(f);
        }
        free(buf);
}

/* Read a small file into buf; returns bytes or -errno. */
static inline int read_small(const char *path, char *buf, size_t size) {
        FILE *f = fopen(path, "re");
        size_t n;

        if (!f)
                return -errno;
        n = fread(buf, 1, size - 1, f);
        buf[n] = '\0';
        fclose(f);
        return (int) n;
}
