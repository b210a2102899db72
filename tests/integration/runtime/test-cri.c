/* SPDX-License-Identifier: Apache-2.0 */
/* CRI client against a real containerd: sandboxes, containers, exec, logs,
 * resources, the async path, deadlines and error mapping.
 * Run: tests/lib/with-containerd build/tests/integration/runtime/test-cri */
#include "tests/integration/runtime/cri-util.h"

static const char *const SLEEP[] = {"sleep", NULL};
static const char *const IGNORE_TERM[] = {"ignore-sigterm", NULL};

TEST(sandbox_lifecycle) {
        _cleanup_cri_response_ Runtime__V1__PodSandboxStatusResponse *st = NULL;
        _cleanup_cri_response_ Runtime__V1__ListPodSandboxResponse *l = NULL;
        Runtime__V1__PodSandboxFilter f = RUNTIME__V1__POD_SANDBOX_FILTER__INIT;
        Runtime__V1__PodSandboxStateValue sv = RUNTIME__V1__POD_SANDBOX_STATE_VALUE__INIT;
        Runtime__V1__PodSandboxFilter__LabelSelectorEntry sel =
                RUNTIME__V1__POD_SANDBOX_FILTER__LABEL_SELECTOR_ENTRY__INIT;
        Runtime__V1__PodSandboxFilter__LabelSelectorEntry *sels[] = {&sel};
        struct kl_error e = {0};
        struct test_pod p;
        char *id;

        require_image(PAUSE_IMAGE);
        test_pod_init(&p, "sandbox-life");
        test_pod_run(&p);
        printf("  RunPodSandbox -> %.12s\n", p.id);

        ASSERT_OK(kl_cri_pod_sandbox_status(cri(), p.id, true, &st, &e));
        ASSERT_NOT_NULL(st->status);
        ASSERT_STREQ(st->status->id, p.id);
        ASSERT_EQ(st->status->state, RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY);
        ASSERT_STREQ(kl_cri_sandbox_state_to_string(st->status->state), "SANDBOX_READY");
        ASSERT_STREQ(st->status->metadata->name, "sandbox-life");
        ASSERT_STREQ(st->status->metadata->uid, p.uid);
        ASSERT_STREQ(kl_cri_map_get((void **) st->status->labels, st->status->n_labels, TEST_LABEL), "sandbox-life");
        ASSERT_STREQ(kl_cri_map_get((void **) st->status->annotations, st->status->n_annotations,
                                    "io.kubelet-lite.test/annotation"),
                     "yes");
        ASSERT_NULL(kl_cri_map_get((void **) st->status->labels, st->status->n_labels, "nope"));
        ASSERT_NOT_NULL(st->status->linux);
        ASSERT_NOT_NULL(st->status->linux->namespaces);
        ASSERT_EQ(st->status->linux->namespaces->options->network, RUNTIME__V1__NAMESPACE_MODE__NODE);
        ASSERT_GE(st->n_info, 1); /* verbose */
        corpus_dump("pod-sandbox-status-verbose", st);
        printf("  PodSandboxStatus: READY, labels, annotations, network NODE, ip '%s', %zu info keys\n",
               st->status->network ? st->status->network->ip : "", st->n_info);
        kl_cri_response_free(TAKE_PTR(st));

        /* Filters: by id, by label, by state. */
        f.id = p.id;
        ASSERT_OK(kl_cri_list_pod_sandbox(cri(), &f, &l, &e));
        ASSERT_EQ(l->n_items, 1);
        corpus_dump("list-pod-sandbox", l);
        ASSERT_STREQ(l->items[0]->id, p.id);
        kl_cri_response_free(TAKE_PTR(l));
        f.id = (char *) "";
        sel.key = (char *) TEST_LABEL;
        sel.value = (char *) "sandbox-life";
        f.label_selector = sels;
        f.n_label_selector = 1;
        ASSERT_OK(kl_cri_list_pod_sandbox(cri(), &f, &l, &e));
        ASSERT_EQ(l->n_items, 1);
        ASSERT_EQ(l->items[0]->state, RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY);
        kl_cri_response_free(TAKE_PTR(l));
        sv.state = RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_NOTREADY;
        f.state = &sv;
        ASSERT_OK(kl_cri_list_pod_sandbox(cri(), &f, &l, &e));
        ASSERT_EQ(l->n_items, 0);
        kl_cri_response_free(TAKE_PTR(l));
        printf("  ListPodSandbox filters: id 1, label 1, label+NOTREADY 0\n");

        ASSERT_OK(kl_cri_stop_pod_sandbox(cri(), p.id, &e));
        ASSERT_OK(kl_cri_pod_sandbox_status(cri(), p.id, false, &st, &e));
        ASSERT_EQ(st->status->state, RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_NOTREADY);
        kl_cri_response_free(TAKE_PTR(st));
        ASSERT_OK(kl_cri_stop_pod_sandbox(cri(), p.id, &e)); /* idempotent */
        printf("  StopPodSandbox -> NOTREADY, again -> ok\n");

        ASSERT_OK(kl_cri_remove_pod_sandbox(cri(), p.id, &e));
        kl_error_clear(&e);
        ASSERT_ERR(kl_cri_pod_sandbox_status(cri(), p.id, false, &st, &e), ENOENT);
        ASSERT_NULL(st);
        ASSERT_CONTAINS(e.msg, "PodSandboxStatus: rpc error NOT_FOUND: ");
        ASSERT_EQ(e.err, ENOENT);
        ASSERT_OK(kl_cri_remove_pod_sandbox(cri(), p.id, &e)); /* idempotent */
        printf("  RemovePodSandbox -> status ENOENT (%s), again -> ok\n", e.msg);
        id = TAKE_PTR(p.id);
        free(id);
        reap_all();
}

TEST(container_lifecycle) {
        _cleanup_cri_response_ Runtime__V1__ContainerStatusResponse *st = NULL;
        _cleanup_cri_response_ Runtime__V1__ListContainersResponse *l = NULL;
        _cleanup_cri_response_ Runtime__V1__ExecSyncResponse *x = NULL;
        Runtime__V1__ContainerFilter f = RUNTIME__V1__CONTAINER_FILTER__INIT;
        Runtime__V1__ContainerStateValue sv = RUNTIME__V1__CONTAINER_STATE_VALUE__INIT;
        Runtime__V1__ContainerFilter__LabelSelectorEntry sel =
                RUNTIME__V1__CONTAINER_FILTER__LABEL_SELECTOR_ENTRY__INIT;
        Runtime__V1__ContainerFilter__LabelSelectorEntry *sels[] = {&sel};
        char *const echo[] = {(char *) "echo", (char *) "hi", NULL};
        char *const fail[] = {(char *) "sh", (char *) "-c", (char *) "echo oops >&2; exit 3", NULL};
        char logfile[PATH_MAX + 200], rotated[PATH_MAX + 210], buf[4096];
        struct kl_error e = {0};
        struct test_pod p;
        struct test_ctr c;
        int64_t started;

        require_image(TESTBOX_IMAGE);
        test_pod_init(&p, "ctr-life");
        test_pod_run(&p);
        test_ctr_init(&c, "sleeper", SLEEP);
        test_ctr_start(&p, &c);
        printf("  CreateContainer + StartContainer '/kltest sleep' -> %.12s\n", c.id);

        f.pod_sandbox_id = p.id;
        ASSERT_OK(kl_cri_list_containers(cri(), &f, &l, &e));
        ASSERT_EQ(l->n_containers, 1);
        corpus_dump("list-containers", l);
        ASSERT_STREQ(l->containers[0]->id, c.id);
        ASSERT_STREQ(l->containers[0]->pod_sandbox_id, p.id);
        ASSERT_EQ(l->containers[0]->state, RUNTIME__V1__CONTAINER_STATE__CONTAINER_RUNNING);
        ASSERT_STREQ(l->containers[0]->metadata->name, "sleeper");
        ASSERT_STREQ(kl_cri_map_get((void **) l->containers[0]->labels, l->containers[0]->n_labels, TEST_LABEL),
                     "sleeper");
        kl_cri_response_free(TAKE_PTR(l));
        f.pod_sandbox_id = (char *) "";
        sv.state = RUNTIME__V1__CONTAINER_STATE__CONTAINER_RUNNING;
        f.state = &sv;
        sel.key = (char *) TEST_LABEL;
        sel.value = (char *) "sleeper";
        f.label_selector = sels;
        f.n_label_selector = 1;
        ASSERT_OK(kl_cri_list_containers(cri(), &f, &l, &e));
        ASSERT_EQ(l->n_containers, 1);
        kl_cri_response_free(TAKE_PTR(l));
        sv.state = RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED;
        ASSERT_OK(kl_cri_list_containers(cri(), &f, &l, &e));
        ASSERT_EQ(l->n_containers, 0);
        kl_cri_response_free(TAKE_PTR(l));
        printf("  ListContainers: by pod 1 RUNNING with our label; RUNNING+label 1; EXITED+label 0\n");

        ASSERT_OK(kl_cri_container_status(cri(), c.id, true, &st, &e));
        ASSERT_NOT_NULL(st->status);
        ASSERT_EQ(st->status->state, RUNTIME__V1__CONTAINER_STATE__CONTAINER_RUNNING);
        ASSERT_STREQ(kl_cri_container_state_to_string(st->status->state), "CONTAINER_RUNNING");
        ASSERT_GE(st->status->started_at, st->status->created_at);
        ASSERT_TRUE(st->status->created_at > 0);
        ASSERT_NOT_NULL(st->status->image);
        ASSERT_CONTAINS(st->status->image->image, "testbox");
        ASSERT_CONTAINS(st->status->image_ref, "sha256:");
        ASSERT_STREQ(kl_cri_map_get((void **) st->status->labels, st->status->n_labels, TEST_LABEL), "sleeper");
        ASSERT_CONTAINS(st->status->log_path, "sleeper/0.log");
        ASSERT_GE(st->n_info, 1);
        corpus_dump("container-status-verbose", st);
        printf("  ContainerStatus: RUNNING, image %s, ref %.19s, log %s, resources %s\n", st->status->image->image,
               st->status->image_ref, st->status->log_path, st->status->resources ? "reported" : "not reported");
        started = st->status->started_at;
        kl_cri_response_free(TAKE_PTR(st));

        /* The container's stdout goes to log_directory/log_path in CRI format. */
        snprintf(logfile, sizeof(logfile), "%s/sleeper/0.log", p.logdir);
        for (int i = 0; i < 40 && !(read_small(logfile, buf, sizeof(buf)) > 0 && strstr(buf, "kltest: sleep")); i++)
                usleep(50 * 1000);
        ASSERT_CONTAINS(buf, " stdout F kltest: sleep");
        printf("  log file has 'stdout F kltest: sleep'\n");

        ASSERT_OK(kl_cri_exec_sync(cri(), c.id, echo, 10, &x, &e));
        ASSERT_EQ(x->exit_code, 0);
        ASSERT_EQ(x->stdout.len, 3);
        ASSERT_TRUE(memcmp(x->stdout.data, "hi\n", 3) == 0);
        ASSERT_EQ(x->stderr.len, 0);
        corpus_dump("exec-sync", x);
        kl_cri_response_free(TAKE_PTR(x));
        ASSERT_OK(kl_cri_exec_sync(cri(), c.id, fail, 10, &x, &e));
        ASSERT_EQ(x->exit_code, 3);
        ASSERT_EQ(x->stderr.len, 5);
        ASSERT_TRUE(memcmp(x->stderr.data, "oops\n", 5) == 0);
        corpus_dump("exec-sync-fail", x);
        kl_cri_response_free(TAKE_PTR(x));
        printf("  ExecSync 'echo hi' -> \"hi\\n\" exit 0; failing command -> exit 3, stderr \"oops\\n\"\n");

        /* Log rotation: move the file away, ReopenContainerLog makes a new one. */
        snprintf(rotated, sizeof(rotated), "%s.1", logfile);
        ASSERT_OK(rename(logfile, rotated) < 0 ? -errno : 0);
        ASSERT_OK(kl_cri_reopen_container_log(cri(), c.id, &e));
        ASSERT_OK(access(logfile, F_OK) < 0 ? -errno : 0);
        printf("  ReopenContainerLog after rename -> new %s\n", logfile);

        ASSERT_OK(kl_cri_stop_container(cri(), c.id, 10, &e));
        ASSERT_OK(kl_cri_container_status(cri(), c.id, false, &st, &e));
        ASSERT_EQ(st->status->state, RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED);
        ASSERT_GE(st->status->finished_at, started);
        corpus_dump("container-status-exited", st);
        printf("  StopContainer(10 s) -> EXITED, exit code %d, reason '%s'\n", st->status->exit_code,
               st->status->reason);
        kl_cri_response_free(TAKE_PTR(st));
        ASSERT_OK(kl_cri_stop_container(cri(), c.id, 10, &e)); /* idempotent */

        ASSERT_OK(kl_cri_remove_container(cri(), c.id, &e));
        ASSERT_ERR(kl_cri_container_status(cri(), c.id, false, &st, &e), ENOENT);
        ASSERT_CONTAINS(e.msg, "ContainerStatus: rpc error NOT_FOUND: ");
        ASSERT_OK(kl_cri_remove_container(cri(), c.id, &e)); /* idempotent */
        printf("  RemoveContainer -> status ENOENT, again -> ok\n");
        free(c.id);
        test_pod_destroy(&p);
        reap_all();
}

static long long read_cgroup_ll(const char *ctrl, const struct test_pod *p, const char *ctr_id, const char *file) {
        char path[PATH_MAX], buf[64];

        snprintf(path, sizeof(path), "/sys/fs/cgroup/%s%s/%s/%s", ctrl, p->cgroup, ctr_id, file);
        if (read_small(path, buf, sizeof(buf)) <= 0)
                return -1;
        return atoll(buf);
}

TEST(update_container_resources) {
        _cleanup_cri_response_ Runtime__V1__ContainerStatusResponse *st = NULL;
        Runtime__V1__LinuxContainerResources res = RUNTIME__V1__LINUX_CONTAINER_RESOURCES__INIT;
        struct kl_error e = {0};
        struct test_pod p;
        struct test_ctr c;

        require_image(TESTBOX_IMAGE);
        if (access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) < 0)
                SKIP("needs cgroup v1 memory controller at /sys/fs/cgroup/memory");
        test_pod_init(&p, "ctr-update");
        test_pod_run(&p);
        test_ctr_init(&c, "resized", SLEEP);
        test_ctr_start(&p, &c);

        ASSERT_EQ(read_cgroup_ll("memory", &p, c.id, "memory.limit_in_bytes"), 64 * 1024 * 1024);
        ASSERT_EQ(read_cgroup_ll("cpu", &p, c.id, "cpu.shares"), 512);
        printf("  created with memory 64 MiB, cpu.shares 512 (cgroup files agree)\n");

        res.memory_limit_in_bytes = 96 * 1024 * 1024;
        res.cpu_shares = 256;
        res.cpu_period = 100000;
        res.cpu_quota = 50000;
        ASSERT_OK(kl_cri_update_container_resources(cri(), c.id, &res, &e));
        ASSERT_EQ(read_cgroup_ll("memory", &p, c.id, "memory.limit_in_bytes"), 96 * 1024 * 1024);
        ASSERT_EQ(read_cgroup_ll("cpu", &p, c.id, "cpu.shares"), 256);
        ASSERT_EQ(read_cgroup_ll("cpu", &p, c.id, "cpu.cfs_quota_us"), 50000);
        ASSERT_OK(kl_cri_container_status(cri(), c.id, false, &st, &e));
        if (st->status->resources && st->status->resources->linux) {
                ASSERT_EQ(st->status->resources->linux->memory_limit_in_bytes, 96 * 1024 * 1024);
                ASSERT_EQ(st->status->resources->linux->cpu_shares, 256);
        }
        printf("  UpdateContainerResources -> memory.limit_in_bytes 96 MiB, cpu.shares 256, "
               "cfs_quota_us 50000%s\n",
               st->status->resources ? ", ContainerStatus.resources agrees" : "");

        ASSERT_ERR(kl_cri_update_container_resources(cri(), "no-such-container", &res, &e), ENOENT);
        ASSERT_ERR(kl_cri_update_container_resources(cri(), c.id, NULL, &e), EINVAL);
        free(c.id);
        test_pod_destroy(&p);
        reap_all();
}

TEST(stop_waits_grace_period) {
        _cleanup_cri_response_ Runtime__V1__ContainerStatusResponse *st = NULL;
        _cleanup_(kl_cri_freep) struct kl_cri *quick = NULL;
        struct kl_error e = {0};
        struct test_pod p;
        struct test_ctr c;
        double t;

        require_image(TESTBOX_IMAGE);
        /* A client whose default deadline (2 s) is shorter than the grace
         * period (3 s): StopContainer must still get grace + 2 s. */
        ASSERT_OK(kl_cri_new(getenv("KL_CRI_ENDPOINT"), 2000, &quick, &e));
        test_pod_init(&p, "ctr-grace");
        test_pod_run(&p);
        test_ctr_init(&c, "stubborn", IGNORE_TERM);
        test_ctr_start(&p, &c);
        usleep(200 * 1000); /* let it install its SIGTERM handler */

        t = now_ms();
        ASSERT_OK(kl_cri_stop_container(quick, c.id, 3, &e));
        t = now_ms() - t;
        ASSERT_GE(t, 2900);
        ASSERT_LE(t, 4900);
        ASSERT_OK(kl_cri_container_status(cri(), c.id, false, &st, &e));
        ASSERT_EQ(st->status->state, RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED);
        ASSERT_EQ(st->status->exit_code, 137);
        printf("  StopContainer(3 s) of a SIGTERM-ignoring process took %.0f ms with a 2 s default "
               "deadline, exit code 137\n",
               t);
        free(c.id);
        test_pod_destroy(&p);
        reap_all();
}

TEST(async_calls) {
        char *const echo[] = {(char *) "echo", (char *) "hi", NULL};
        struct cb_result stop = {0}, ex = {0}, bad = {0}, sb = {0};
        struct test_pod p;
        struct test_ctr c;
        double t0, t;

        require_image(TESTBOX_IMAGE);
        test_pod_init(&p, "ctr-async");
        test_pod_run(&p);
        test_ctr_init(&c, "stubborn", IGNORE_TERM);
        test_ctr_start(&p, &c);
        usleep(200 * 1000);

        ASSERT_TRUE(kl_cri_event_fd(cri()) >= 0);
        ASSERT_EQ(kl_cri_dispatch(cri()), 0);

        /* ExecSync first, then a stop that takes its whole 2 s grace period:
         * starting it must not block. */
        ASSERT_OK(kl_cri_exec_sync_async(cri(), c.id, echo, 10, record_cb, &ex));
        ASSERT_EQ(wait_dispatch(cri(), &ex.calls, 1, 10000), 1);
        ASSERT_EQ(ex.r, 0);
        ASSERT_STREQ(ex.out, "hi\n");
        ASSERT_EQ(ex.exit_code, 0);
        printf("  exec_sync_async 'echo hi' -> callback with \"hi\\n\", exit 0\n");

        t0 = now_ms();
        ASSERT_OK(kl_cri_stop_container_async(cri(), c.id, 2, record_cb, &stop));
        t = now_ms() - t0;
        ASSERT_LE(t, 100);
        ASSERT_EQ(kl_cri_n_pending(cri()), 1);
        ASSERT_OK(kl_cri_exec_sync_async(cri(), "no-such-container", echo, 10, record_cb, &bad));
        ASSERT_EQ(kl_cri_n_pending(cri()), 2);
        wait_dispatch(cri(), &stop.calls, 1, 15000);
        ASSERT_EQ(stop.calls, 1);
        ASSERT_EQ(stop.r, 0);
        ASSERT_TRUE(stop.reply_desc == &runtime__v1__stop_container_response__descriptor);
        ASSERT_GE(stop.at_ms - t0, 1900);
        ASSERT_EQ(bad.calls, 1); /* finished long before the stop */
        ASSERT_ERR(bad.r, ENOENT);
        ASSERT_CONTAINS(bad.msg, "ExecSync: rpc error NOT_FOUND: ");
        ASSERT_TRUE(bad.reply_desc == NULL);
        ASSERT_EQ(kl_cri_n_pending(cri()), 0);
        ASSERT_EQ(ctr_state(c.id), RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED);
        printf("  stop_container_async(2 s) returned in %.1f ms, callback after %.0f ms via "
               "event fd + dispatch\n",
               t, stop.at_ms - t0);
        printf("  exec_sync_async on a bogus id -> callback r=-ENOENT '%s'\n", bad.msg);

        ASSERT_OK(kl_cri_stop_pod_sandbox_async(cri(), p.id, record_cb, &sb));
        wait_dispatch(cri(), &sb.calls, 1, 15000);
        ASSERT_EQ(sb.calls, 1);
        ASSERT_EQ(sb.r, 0);
        ASSERT_TRUE(sb.reply_desc == &runtime__v1__stop_pod_sandbox_response__descriptor);
        printf("  stop_pod_sandbox_async -> callback r=0\n");

        ASSERT_ERR(kl_cri_stop_container_async(cri(), "", 1, record_cb, &sb), EINVAL);
        ASSERT_ERR(kl_cri_exec_sync_async(cri(), c.id, NULL, 1, record_cb, &sb), EINVAL);
        ASSERT_ERR(kl_cri_stop_pod_sandbox_async(cri(), p.id, NULL, &sb), EINVAL);
        free(c.id);
        test_pod_destroy(&p);
        reap_all();
}

TEST(async_cancel_and_free) {
        char *const slow[] = {(char *) "sleep", (char *) "3", NULL};
        _cleanup_(kl_cri_freep) struct kl_cri *other = NULL;
        struct cb_result a = {0}, b = {0};
        struct kl_error e = {0};
        struct test_pod p;
        struct test_ctr c;
        double t;

        require_image(TESTBOX_IMAGE);
        test_pod_init(&p, "ctr-cancel");
        test_pod_run(&p);
        test_ctr_init(&c, "sleeper", SLEEP);
        test_ctr_start(&p, &c);

        /* Cancelled calls never call back, even once they complete. */
        ASSERT_OK(kl_cri_exec_sync_async(cri(), c.id, slow, 10, record_cb, &a));
        ASSERT_EQ(kl_cri_n_pending(cri()), 1);
        kl_cri_cancel_pending(cri());
        ASSERT_EQ(kl_cri_n_pending(cri()), 0);
        wait_dispatch(cri(), &a.calls, 1, 500);
        ASSERT_EQ(a.calls, 0);
        printf("  cancel_pending: in-flight ExecSync forgotten, no callback\n");

        /* Freeing a client with a call in flight returns at once. */
        ASSERT_OK(kl_cri_new(getenv("KL_CRI_ENDPOINT"), 30000, &other, &e));
        ASSERT_OK(kl_cri_exec_sync_async(other, c.id, slow, 10, record_cb, &b));
        usleep(100 * 1000);
        t = now_ms();
        other = kl_cri_free(other);
        t = now_ms() - t;
        ASSERT_LE(t, 1000);
        ASSERT_EQ(b.calls, 0);
        printf("  kl_cri_free with an ExecSync in flight: %.1f ms, no callback\n", t);

        /* The shared client still works after a cancel. */
        ASSERT_EQ(ctr_state(c.id), RUNTIME__V1__CONTAINER_STATE__CONTAINER_RUNNING);
        free(c.id);
        test_pod_destroy(&p);
        reap_all();
}

TEST(deadline_exceeded) {
        char *const slow[] = {(char *) "sleep", (char *) "3", NULL};
        _cleanup_cri_response_ Runtime__V1__ExecSyncResponse *x = NULL;
        _cleanup_(kl_cri_freep) struct kl_cri *quick = NULL;
        struct kl_error e = {0};
        struct test_pod p;
        struct test_ctr c;
        double t;

        require_image(TESTBOX_IMAGE);
        test_pod_init(&p, "ctr-deadline");
        test_pod_run(&p);
        test_ctr_init(&c, "sleeper", SLEEP);
        test_ctr_start(&p, &c);

        /* ExecSync without a runtime timeout gets the default deadline. */
        ASSERT_OK(kl_cri_new(getenv("KL_CRI_ENDPOINT"), 300, &quick, &e));
        t = now_ms();
        ASSERT_ERR(kl_cri_exec_sync(quick, c.id, slow, 0, &x, &e), ETIMEDOUT);
        t = now_ms() - t;
        ASSERT_NULL(x);
        ASSERT_EQ(e.err, ETIMEDOUT);
        ASSERT_CONTAINS(e.msg, "ExecSync: rpc error DEADLINE_EXCEEDED");
        ASSERT_LE(t, 2000);
        printf("  300 ms deadline on a 3 s ExecSync -> -ETIMEDOUT after %.0f ms: '%s'\n", t, e.msg);
        free(c.id);
        test_pod_destroy(&p);
        reap_all();
}

TEST(error_mapping) {
        _cleanup_cri_response_ Runtime__V1__ContainerStatusResponse *st = NULL;
        _cleanup_cri_response_ Runtime__V1__PodSandboxStatusResponse *ps = NULL;
        struct kl_error e = {0};
        struct test_pod p;
        struct test_ctr c;
        char *id = NULL;
        int r;

        require_image(TESTBOX_IMAGE);
        ASSERT_ERR(kl_cri_container_status(cri(), "0123456789abcdef", false, &st, &e), ENOENT);
        ASSERT_CONTAINS(e.msg, "ContainerStatus: rpc error NOT_FOUND: ");
        ASSERT_NULL(st);
        printf("  ContainerStatus(bogus) -> -ENOENT '%s'\n", e.msg);
        ASSERT_ERR(kl_cri_start_container(cri(), "0123456789abcdef", &e), ENOENT);
        ASSERT_CONTAINS(e.msg, "StartContainer: rpc error NOT_FOUND: ");
        ASSERT_ERR(kl_cri_stop_container(cri(), "0123456789abcdef", 1, &e), ENOENT);
        ASSERT_ERR(kl_cri_pod_sandbox_status(cri(), "0123456789abcdef", false, &ps, &e), ENOENT);
        ASSERT_ERR(kl_cri_reopen_container_log(cri(), "0123456789abcdef", &e), ENOENT);
        ASSERT_OK(kl_cri_remove_container(cri(), "0123456789abcdef", &e));
        ASSERT_OK(kl_cri_remove_pod_sandbox(cri(), "0123456789abcdef", &e));
        printf("  Start/Stop/Status/ReopenLog of bogus ids -> -ENOENT; Remove* of bogus ids -> ok\n");

        test_ctr_init(&c, "orphan", SLEEP);
        test_pod_init(&p, "ctr-errors");
        ASSERT_ERR(kl_cri_create_container(cri(), "0123456789abcdef", &c.cfg, &p.cfg, &id, &e), ENOENT);
        ASSERT_NULL(id);
        ASSERT_CONTAINS(e.msg, "CreateContainer: rpc error NOT_FOUND: ");
        printf("  CreateContainer in a bogus sandbox -> -ENOENT\n");

        /* Local argument checks, no rpc. */
        ASSERT_ERR(kl_cri_start_container(cri(), "", &e), EINVAL);
        ASSERT_STREQ(e.msg, "StartContainer: empty container id");
        ASSERT_ERR(kl_cri_stop_pod_sandbox(cri(), NULL, &e), EINVAL);
        ASSERT_ERR(kl_cri_run_pod_sandbox(cri(), NULL, NULL, &id, &e), EINVAL);
        ASSERT_ERR(kl_cri_create_container(cri(), "x", NULL, NULL, &id, &e), EINVAL);
        ASSERT_ERR(kl_cri_exec_sync(cri(), "x", (char *const[]){NULL}, 1, NULL, &e), EINVAL);
        ASSERT_ERR(kl_cri_image_status(cri(), "", false, NULL, &e), EINVAL);
        printf("  empty ids, configs and commands -> -EINVAL without a call\n");

        /* A container whose image is missing. */
        test_pod_run(&p);
        c.image.image = (char *) "localhost/kubelet-lite/not-there:1.0";
        r = kl_cri_create_container(cri(), p.id, &c.cfg, &p.cfg, &id, &e);
        ASSERT_TRUE(r < 0);
        ASSERT_NULL(id);
        ASSERT_CONTAINS(e.msg, "CreateContainer: rpc error ");
        printf("  CreateContainer with a missing image -> %d '%s'\n", r, e.msg);

        /* The same sandbox name twice: containerd refuses to reserve it. */
        {
                struct test_pod twin = p;
                char *twin_id = NULL;

                twin.id = NULL;
                r = kl_cri_run_pod_sandbox(cri(), &twin.cfg, NULL, &twin_id, &e);
                ASSERT_TRUE(r < 0);
                ASSERT_NULL(twin_id);
                printf("  RunPodSandbox with a name in use -> %d '%.120s'\n", r, e.msg);
        }
        /* A runtime handler containerd does not know. */
        {
                char *h_id = NULL;

                p.md.attempt = 1;
                r = kl_cri_run_pod_sandbox(cri(), &p.cfg, "no-such-handler", &h_id, &e);
                ASSERT_TRUE(r < 0);
                ASSERT_NULL(h_id);
                ASSERT_CONTAINS(e.msg, "RunPodSandbox: rpc error ");
                printf("  RunPodSandbox with an unknown runtime handler -> %d '%.120s'\n", r, e.msg);
        }
        test_pod_destroy(&p);
        reap_all();
}

TEST_MAIN()
