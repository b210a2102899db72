/* SPDX-License-Identifier: Apache-2.0 */
/* runtime/cri.c without a runtime: endpoints, argument checks, helpers. */
#include <errno.h>

#include "runtime/cri.h"
#include "tests/lib/tests.h"

TEST(endpoints) {
        struct kl_cri *c = NULL;
        struct kl_error e = {0};

        ASSERT_ERR(kl_cri_new("tcp://1.2.3.4:5", 0, &c, &e), EINVAL);
        ASSERT_STREQ(e.msg, "CRI endpoint 'tcp://1.2.3.4:5': want unix:///absolute/path or /absolute/path");
        ASSERT_ERR(kl_cri_new("unix://run/x.sock", 0, &c, &e), EINVAL);
        ASSERT_ERR(kl_cri_new("x.sock", 0, &c, &e), EINVAL);
        ASSERT_ERR(kl_cri_new("", 0, &c, &e), EINVAL);
        ASSERT_ERR(kl_cri_new(NULL, 0, &c, &e), EINVAL);
        ASSERT_NULL(c);
        printf("  tcp://, relative, empty and NULL endpoints -> -EINVAL\n");

        ASSERT_OK(kl_cri_new("/nonexistent/containerd.sock", 0, &c, &e));
        ASSERT_TRUE(kl_cri_event_fd(c) >= 0);
        ASSERT_EQ(kl_cri_n_pending(c), 0);
        c = kl_cri_free(c);
        ASSERT_OK(kl_cri_new("unix:///nonexistent/containerd.sock", 1000, &c, &e));
        c = kl_cri_free(c);
        ASSERT_NULL(kl_cri_free(NULL));
        ASSERT_EQ(kl_cri_event_fd(NULL), -EBADF);
        ASSERT_EQ(kl_cri_dispatch(NULL), 0);
        kl_cri_cancel_pending(NULL);
        kl_cri_response_free(NULL);
        printf("  /path and unix:///path accepted without connecting; NULL-safe helpers\n");
}

TEST(argument_checks) {
        _cleanup_(kl_cri_freep) struct kl_cri *c = NULL;
        Runtime__V1__ContainerStatusResponse *st = NULL;
        Runtime__V1__ExecSyncResponse *x = NULL;
        char *const none[] = {NULL};
        struct kl_error e = {0};
        char *id = NULL;

        ASSERT_OK(kl_cri_new("/nonexistent/containerd.sock", 0, &c, &e));
        ASSERT_ERR(kl_cri_container_status(c, "", false, &st, &e), EINVAL);
        ASSERT_STREQ(e.msg, "ContainerStatus: empty container id");
        ASSERT_ERR(kl_cri_stop_container(c, NULL, 10, &e), EINVAL);
        ASSERT_ERR(kl_cri_remove_pod_sandbox(c, "", &e), EINVAL);
        ASSERT_STREQ(e.msg, "RemovePodSandbox: empty pod sandbox id");
        ASSERT_ERR(kl_cri_run_pod_sandbox(c, NULL, NULL, &id, &e), EINVAL);
        ASSERT_ERR(kl_cri_create_container(c, "pod", NULL, NULL, &id, &e), EINVAL);
        ASSERT_ERR(kl_cri_exec_sync(c, "ctr", none, 1, &x, &e), EINVAL);
        ASSERT_STREQ(e.msg, "ExecSync: empty command");
        ASSERT_ERR(kl_cri_exec_sync(c, "ctr", NULL, 1, &x, &e), EINVAL);
        ASSERT_ERR(kl_cri_update_container_resources(c, "ctr", NULL, &e), EINVAL);
        ASSERT_ERR(kl_cri_pull_image(c, NULL, NULL, &id, &e), EINVAL);
        ASSERT_ERR(kl_cri_remove_image(c, "", &e), EINVAL);
        ASSERT_NULL(id);
        ASSERT_NULL(st);
        ASSERT_NULL(x);
        ASSERT_ERR(kl_cri_exec_sync_async(c, "ctr", none, 1, NULL, NULL), EINVAL);
        ASSERT_ERR(kl_cri_pull_image_async(c, "", NULL, 0, NULL, NULL), EINVAL);
        ASSERT_ERR(kl_cri_stop_container_async(NULL, "x", 1, NULL, NULL), EINVAL);
        ASSERT_EQ(kl_cri_n_pending(c), 0);
        printf("  empty ids, configs, commands and callbacks -> -EINVAL, outputs untouched\n");

        /* A real call against the missing socket reports UNAVAILABLE. */
        ASSERT_ERR(kl_cri_container_status(c, "abc", false, &st, &e), ECONNREFUSED);
        ASSERT_CONTAINS(e.msg, "ContainerStatus: rpc error UNAVAILABLE: ");
        printf("  '%s'\n", e.msg);
}

TEST(helpers) {
        Runtime__V1__ContainerStatus__LabelsEntry a = RUNTIME__V1__CONTAINER_STATUS__LABELS_ENTRY__INIT,
                                                  b = RUNTIME__V1__CONTAINER_STATUS__LABELS_ENTRY__INIT;
        Runtime__V1__ContainerStatus__LabelsEntry *labels[] = {&a, &b};
        Runtime__V1__KeyValue kv = RUNTIME__V1__KEY_VALUE__INIT;
        Runtime__V1__Mount mount = RUNTIME__V1__MOUNT__INIT;
        void *not_map[] = {&mount};
        void *kvs[] = {&kv};

        a.key = (char *) "app";
        a.value = (char *) "web";
        b.key = (char *) "tier";
        b.value = (char *) "";
        ASSERT_STREQ(kl_cri_map_get((void **) labels, 2, "app"), "web");
        ASSERT_STREQ(kl_cri_map_get((void **) labels, 2, "tier"), "");
        ASSERT_NULL(kl_cri_map_get((void **) labels, 2, "nope"));
        ASSERT_NULL(kl_cri_map_get((void **) labels, 0, "app"));
        ASSERT_NULL(kl_cri_map_get(NULL, 3, "app"));
        ASSERT_NULL(kl_cri_map_get(not_map, 1, "container_path"));
        /* KeyValue has the same shape as a map entry, which is fine. */
        kv.key = (char *) "k";
        kv.value = (char *) "v";
        ASSERT_STREQ(kl_cri_map_get(kvs, 1, "k"), "v");
        printf("  kl_cri_map_get: hits, misses, empty value, non-map messages\n");

        ASSERT_STREQ(kl_cri_container_state_to_string(RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED),
                     "CONTAINER_EXITED");
        ASSERT_STREQ(kl_cri_container_state_to_string(42), "UNKNOWN");
        ASSERT_STREQ(kl_cri_sandbox_state_to_string(RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_NOTREADY),
                     "SANDBOX_NOTREADY");
        ASSERT_STREQ(kl_cri_sandbox_state_to_string(-1), "UNKNOWN");
        printf("  state names, and UNKNOWN out of range\n");
}

TEST_MAIN()
