/* SPDX-License-Identifier: Apache-2.0 */
/* The pod state machine (kubelet-lite/pod/) on a fake CRI runtime and a
 * manual clock: start order, init containers and sidecars, restarts with
 * back-off, teardown, adoption, crash-journal replay, a hung runtime and
 * hostile labels. No sleeps: time moves only with fake_clock_advance. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kubelet-lite/pod/worker.h"
#include "lib/fileio.h"
#include "lib/macros.h"
#include "tests/lib/tests.h"
#include "tests/unit/kubelet-lite/pod/harness.h"

#define SEC KL_USEC_PER_SEC

static const char web_yaml[] = "apiVersion: v1\n"
                               "kind: Pod\n"
                               "metadata:\n"
                               "  name: web\n"
                               "spec:\n"
                               "  terminationGracePeriodSeconds: 7\n"
                               "  containers:\n"
                               "  - name: c1\n"
                               "    image: busybox\n"
                               "  - name: c2\n"
                               "    image: busybox\n";

static bool exists(const char *path) {
        return access(path, F_OK) == 0;
}

/* Upstream's SyncPod (pkg/kubelet/kuberuntime/kuberuntime_manager.go): the
 * sandbox first, then the image and each container in spec order; here one
 * CRI step of a pod in flight at a time. */
TEST(pod_starts_in_order) {
        struct kl_container_view c;

        h_setup();
        fake_cri_hold(FAKE_RUN_SANDBOX);
        h_desire1(web_yaml);
        ASSERT_STREQ(fake_cri_actions(), "RunPodSandbox web-node1 a0");
        ASSERT_STREQ(h_phase("web-node1"), "Pending");
        ASSERT_CONTAINS(h_cstatus("c1"), "\"waiting\":{\"reason\":\"ContainerCreating\"}");

        /* The sandbox is there: the image, then the first container only. */
        fake_cri_hold(FAKE_CREATE);
        fake_cri_release(FAKE_RUN_SANDBOX);
        ASSERT_TRUE(fake_loop_settle() >= 0);
        fake_loop_run_for(3 * SEC);
        ASSERT_STREQ(fake_cri_actions(), "RunPodSandbox web-node1 a0; PullImage busybox; CreateContainer c1 a0");

        /* StartContainer not answered yet: not running. */
        fake_cri_hold(FAKE_START);
        fake_cri_release(FAKE_CREATE);
        fake_loop_run_for(2 * SEC);
        ASSERT_STREQ(fake_cri_actions(),
                     "RunPodSandbox web-node1 a0; PullImage busybox; CreateContainer c1 a0; StartContainer c1 a0");
        ASSERT_STREQ(h_phase("web-node1"), "Pending");
        ASSERT_TRUE(h_container("web-node1", "c1", &c));
        ASSERT_FALSE(c.running);

        fake_cri_release(FAKE_START);
        fake_loop_run_for(2 * SEC);
        ASSERT_STREQ(fake_cri_actions(), "RunPodSandbox web-node1 a0; PullImage busybox; CreateContainer c1 a0; "
                                         "StartContainer c1 a0; CreateContainer c2 a0; StartContainer c2 a0");
        ASSERT_EQ(fake_cri_max_in_flight(FAKE_CREATE), 1);
        ASSERT_EQ(fake_cri_max_in_flight(FAKE_START), 1);
        ASSERT_EQ(fake_cri_n_calls(FAKE_RUN_SANDBOX), 1);

        ASSERT_STREQ(h_phase("web-node1"), "Running");
        ASSERT_TRUE(h_container("web-node1", "c1", &c));
        ASSERT_TRUE(c.running);
        ASSERT_STREQ(c.id, fake_cri_container_id("c1", 0));
        ASSERT_EQ(c.restarts, 0);
        ASSERT_TRUE(c.started_at > 0);
        ASSERT_CONTAINS(h_render(), "\"podIP\":\"10.88.0.2\"");
        ASSERT_CONTAINS(h_cstatus("c2"), "\"state\":{\"running\":{\"startedAt\":");
        ASSERT_CONTAINS(h_cstatus("c2"), "\"ready\":true,\"restartCount\":0");
        /* A relist every second, never two at once. */
        ASSERT_GE(fake_cri_n_calls(FAKE_LIST_SANDBOX), 7);
        ASSERT_EQ(fake_cri_max_in_flight(FAKE_LIST_SANDBOX), 1);
        ASSERT_EQ(fake_cri_max_in_flight(FAKE_LIST_CONTAINERS), 1);
        h_done();
}

static const char init_yaml[] = "apiVersion: v1\n"
                                "kind: Pod\n"
                                "metadata:\n"
                                "  name: init\n"
                                "spec:\n"
                                "  initContainers:\n"
                                "  - name: i1\n"
                                "    image: busybox\n"
                                "    imagePullPolicy: IfNotPresent\n"
                                "  - name: i2\n"
                                "    image: busybox\n"
                                "    imagePullPolicy: IfNotPresent\n"
                                "  containers:\n"
                                "  - name: app\n"
                                "    image: busybox\n"
                                "    imagePullPolicy: IfNotPresent\n";

/* upstream's computeInitContainerActions: the next init container once the
 * previous one exited 0; app containers once all have. */
TEST(init_containers_run_one_after_the_other) {
        h_setup();
        h_desire1(init_yaml);
        ASSERT_STREQ(fake_cri_actions(), "RunPodSandbox init-node1 a0; CreateContainer i1 a0; StartContainer i1 a0");
        fake_loop_run_for(5 * SEC);
        ASSERT_STREQ(fake_cri_actions(), "RunPodSandbox init-node1 a0; CreateContainer i1 a0; StartContainer i1 a0");
        ASSERT_STREQ(h_phase("init-node1"), "Pending");
        ASSERT_CONTAINS(h_cstatus("app"), "\"waiting\":{\"reason\":\"PodInitializing\"}");

        fake_cri_clear_actions();
        fake_cri_exit("i1", 0);
        fake_loop_run_for(1 * SEC);
        ASSERT_STREQ(fake_cri_actions(), "CreateContainer i2 a0; StartContainer i2 a0");
        ASSERT_CONTAINS(h_cstatus("i1"), "\"terminated\":{\"exitCode\":0,\"reason\":\"Completed\"");
        fake_loop_run_for(5 * SEC);
        ASSERT_STREQ(fake_cri_actions(), "CreateContainer i2 a0; StartContainer i2 a0");

        fake_cri_clear_actions();
        fake_cri_exit("i2", 0);
        fake_loop_run_for(1 * SEC);
        ASSERT_STREQ(fake_cri_actions(), "CreateContainer app a0; StartContainer app a0");
        fake_loop_run_for(3 * SEC);
        ASSERT_STREQ(fake_cri_actions(), "CreateContainer app a0; StartContainer app a0");
        ASSERT_STREQ(h_phase("init-node1"), "Running");
        /* Finished init containers stay finished. */
        ASSERT_EQ(fake_cri_container_state("i1", 0), RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED);
        ASSERT_EQ(fake_cri_container_state("i1", 1), -1);
        ASSERT_CONTAINS(h_render(), "{\"type\":\"Initialized\",\"status\":\"True\"");
        h_done();
}

static const char sidecar_yaml[] = "apiVersion: v1\n"
                                   "kind: Pod\n"
                                   "metadata:\n"
                                   "  name: side\n"
                                   "spec:\n"
                                   "  initContainers:\n"
                                   "  - name: proxy\n"
                                   "    image: busybox\n"
                                   "    imagePullPolicy: IfNotPresent\n"
                                   "    restartPolicy: Always\n"
                                   "  - name: i2\n"
                                   "    image: busybox\n"
                                   "    imagePullPolicy: IfNotPresent\n"
                                   "  containers:\n"
                                   "  - name: app\n"
                                   "    image: busybox\n"
                                   "    imagePullPolicy: IfNotPresent\n";

/* A restartable init container (sidecar) is started, then the next init
 * container runs while it keeps running (KEP-753). */
TEST(sidecar_starts_before_the_next_init_container) {
        h_setup();
        fake_cri_hold(FAKE_START);
        h_desire1(sidecar_yaml);
        fake_loop_run_for(3 * SEC);
        ASSERT_STREQ(fake_cri_actions(),
                     "RunPodSandbox side-node1 a0; CreateContainer proxy a0; StartContainer proxy a0");

        fake_cri_release(FAKE_START);
        fake_loop_run_for(1 * SEC);
        ASSERT_STREQ(fake_cri_actions(),
                     "RunPodSandbox side-node1 a0; CreateContainer proxy a0; StartContainer proxy a0; "
                     "CreateContainer i2 a0; StartContainer i2 a0");
        fake_cri_exit("i2", 0);
        fake_loop_run_for(2 * SEC);
        ASSERT_STREQ(fake_cri_actions(),
                     "RunPodSandbox side-node1 a0; CreateContainer proxy a0; StartContainer proxy a0; "
                     "CreateContainer i2 a0; StartContainer i2 a0; CreateContainer app a0; "
                     "StartContainer app a0");
        ASSERT_EQ(fake_cri_container_state("proxy", 0), RUNTIME__V1__CONTAINER_STATE__CONTAINER_RUNNING);
        ASSERT_STREQ(h_phase("side-node1"), "Running");
        h_done();
}

static char *with_policy(const char *yaml, const char *policy) {
        static char buf[2048];
        const char *spec = strstr(yaml, "spec:\n");
        ASSERT_NOT_NULL(spec);
        size_t n = (size_t) (spec - yaml) + strlen("spec:\n");
        snprintf(buf, sizeof(buf), "%.*s  restartPolicy: %s\n%s", (int) n, yaml, policy, yaml + n);
        return buf;
}

/* restartPolicy Never: a failed init container fails the pod (upstream's
 * getPhase with a failed init container and no restart). */
TEST(failed_init_container_fails_pod_with_never) {
        h_setup();
        h_desire1(with_policy(init_yaml, "Never"));
        fake_cri_exit("i1", 1);
        fake_loop_run_for(2 * SEC);
        ASSERT_STREQ(h_phase("init-node1"), "Failed");
        fake_loop_run_for(60 * SEC);
        ASSERT_STREQ(fake_cri_actions(), "RunPodSandbox init-node1 a0; CreateContainer i1 a0; StartContainer i1 a0");
        ASSERT_STREQ(h_phase("init-node1"), "Failed");
        ASSERT_CONTAINS(h_cstatus("i1"), "\"terminated\":{\"exitCode\":1,\"reason\":\"Error\"");
        h_done();
}

/* restartPolicy OnFailure: the failed init container is retried, the first
 * time at once, then after the 10 s back-off. */
TEST(failed_init_container_retried_with_onfailure) {
        h_setup();
        h_desire1(with_policy(init_yaml, "OnFailure"));
        fake_cri_clear_actions();
        fake_cri_exit("i1", 1);
        fake_loop_run_for(1 * SEC);
        ASSERT_STREQ(fake_cri_actions(), "CreateContainer i1 a1; StartContainer i1 a1");
        ASSERT_STREQ(h_phase("init-node1"), "Pending");

        fake_cri_clear_actions();
        fake_cri_exit("i1", 1);
        fake_loop_run_for(8 * SEC);
        ASSERT_STREQ(fake_cri_actions(), "");
        ASSERT_CONTAINS(h_cstatus("i1"), "\"waiting\":{\"reason\":\"CrashLoopBackOff\"");
        fake_loop_run_for(3 * SEC);
        ASSERT_CONTAINS(fake_cri_actions(), "CreateContainer i1 a2; StartContainer i1 a2");
        ASSERT_EQ(fake_cri_container_state("i2", 0), -1);
        ASSERT_EQ(fake_cri_container_state("app", 0), -1);
        h_done();
}

static const char crash_yaml[] = "apiVersion: v1\n"
                                 "kind: Pod\n"
                                 "metadata:\n"
                                 "  name: crash\n"
                                 "spec:\n"
                                 "  containers:\n"
                                 "  - name: c\n"
                                 "    image: busybox\n"
                                 "    imagePullPolicy: IfNotPresent\n";

/* CrashLoopBackOff as upstream (pkg/kubelet/kuberuntime doBackOff with the
 * 10 s initial, doubling back-off): the first restart is immediate, the
 * next after 10 s, then 20 s; while waiting, lastState is the newest exit. */
TEST(restarts_back_off) {
        char want[256];
        struct kl_container_view v;

        h_setup();
        h_desire1(crash_yaml);
        fake_cri_clear_actions();

        fake_cri_exit("c", 1);
        fake_loop_run_for(1 * SEC);
        ASSERT_STREQ(fake_cri_actions(), "CreateContainer c a1; StartContainer c a1");
        ASSERT_TRUE(h_container("crash-node1", "c", &v));
        ASSERT_EQ(v.restarts, 1);

        /* Second crash: 10 s from its exit. */
        fake_loop_run_for(1 * SEC);
        fake_cri_clear_actions();
        const char *a1 = fake_cri_container_id("c", 1);
        ASSERT_NOT_NULL(a1);
        snprintf(want, sizeof(want), "\"lastState\":{\"terminated\":{\"exitCode\":2,\"reason\":\"Error\"");
        fake_cri_exit("c", 2);
        fake_loop_run_for(9 * SEC);
        ASSERT_STREQ(fake_cri_actions(), "");
        const char *st = h_cstatus("c");
        ASSERT_CONTAINS(st, "\"waiting\":{\"reason\":\"CrashLoopBackOff\",\"message\":\"back-off 10s restarting");
        ASSERT_CONTAINS(st, want);
        snprintf(want, sizeof(want), "\"containerID\":\"containerd://%s\"}}", a1);
        ASSERT_CONTAINS(st, want);
        ASSERT_CONTAINS(st, "\"restartCount\":1");
        ASSERT_STREQ(h_phase("crash-node1"), "Running");
        fake_loop_run_for(2 * SEC);
        /* and the attempt before the previous one goes */
        ASSERT_STREQ(fake_cri_actions(), "CreateContainer c a2; StartContainer c a2; RemoveContainer c a0");

        /* Third crash: 20 s. */
        fake_loop_run_for(1 * SEC);
        fake_cri_clear_actions();
        fake_cri_exit("c", 3);
        fake_loop_run_for(19 * SEC);
        ASSERT_STREQ(fake_cri_actions(), "");
        ASSERT_CONTAINS(h_cstatus("c"), "back-off 20s restarting");
        ASSERT_CONTAINS(h_cstatus("c"), "\"lastState\":{\"terminated\":{\"exitCode\":3,");
        fake_loop_run_for(2 * SEC);
        ASSERT_STREQ(fake_cri_actions(), "CreateContainer c a3; StartContainer c a3; RemoveContainer c a1");

        /* Running again: lastState is the attempt before (a2, exit 3). */
        fake_loop_run_for(2 * SEC);
        ASSERT_CONTAINS(h_cstatus("c"), "\"state\":{\"running\":");
        ASSERT_CONTAINS(h_cstatus("c"), "\"lastState\":{\"terminated\":{\"exitCode\":3,");
        ASSERT_CONTAINS(h_cstatus("c"), "\"restartCount\":3");
        /* Attempts older than the previous one are removed (upstream keeps one dead container). */
        ASSERT_EQ(fake_cri_container_state("c", 0), -1);
        ASSERT_EQ(fake_cri_container_state("c", 1), -1);
        ASSERT_EQ(fake_cri_container_state("c", 2), RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED);

        /* Later crashes double it up to 5 minutes, and the message carries
         * a Go duration as upstream's doBackOff prints it. */
        static const char *const later[] = {"back-off 40s restarting", "back-off 1m20s restarting",
                                            "back-off 2m40s restarting", "back-off 5m0s restarting",
                                            "back-off 5m0s restarting"};
        static const uint64_t wait_s[] = {40, 80, 160, 300, 300};
        for (size_t i = 0; i < ELEMENTSOF(later); i++) {
                fake_cri_exit("c", 4);
                fake_loop_run_for(5 * SEC);
                ASSERT_CONTAINS(h_cstatus("c"), later[i]);
                fake_loop_run_for((wait_s[i] + 2) * SEC);
                ASSERT_CONTAINS(h_cstatus("c"), "\"state\":{\"running\":");
        }
        h_done();
}

/* A CreateContainer that fails: CreateContainerError, retried after the
 * back-off like a crash (upstream's RunContainerError goes through
 * doBackOff too); the retry is the same attempt, no restart counted. */
TEST(create_failure_backs_off) {
        struct kl_container_view v;

        h_setup();
        fake_cri_fail_next(FAKE_CREATE, ENOSPC, "no space left on device");
        h_desire1(crash_yaml);
        ASSERT_STREQ(fake_cri_actions(), "RunPodSandbox crash-node1 a0; CreateContainer c a0");
        const char *st = h_cstatus("c");
        ASSERT_CONTAINS(st, "\"waiting\":{\"reason\":\"CreateContainerError\"");
        ASSERT_CONTAINS(st, "no space left on device");
        ASSERT_STREQ(h_phase("crash-node1"), "Pending");
        fake_loop_run_for(9 * SEC);
        ASSERT_STREQ(fake_cri_actions(), "RunPodSandbox crash-node1 a0; CreateContainer c a0");
        fake_loop_run_for(2 * SEC);
        ASSERT_STREQ(fake_cri_actions(),
                     "RunPodSandbox crash-node1 a0; CreateContainer c a0; CreateContainer c a0; StartContainer c a0");
        ASSERT_STREQ(h_phase("crash-node1"), "Running");
        ASSERT_TRUE(h_container("crash-node1", "c", &v));
        ASSERT_EQ(v.restarts, 0);
        h_done();
}

/* The first StartContainer fails: the container is removed at once and the
 * error shows in its status. */
static void first_start_fails(void) {
        fake_cri_fail_next(FAKE_START, EIO, "failed to create shim task");
        h_desire1(crash_yaml);
        fake_loop_run_for(1 * SEC);
        ASSERT_STREQ(fake_cri_actions(),
                     "RunPodSandbox crash-node1 a0; CreateContainer c a0; StartContainer c a0; RemoveContainer c a0");
        ASSERT_EQ(fake_cri_n_containers(), 0);
        ASSERT_CONTAINS(h_cstatus("c"), "failed to create shim task");
}

/* A StartContainer that fails: the created container is removed (it would
 * otherwise be resumed as "left created"), and the start retried after the
 * back-off. */
TEST(start_failure_removes_and_backs_off) {
        h_setup();
        first_start_fails();
        fake_loop_run_for(8 * SEC);
        ASSERT_EQ(fake_cri_n_calls(FAKE_CREATE), 1);
        fake_loop_run_for(2 * SEC);
        ASSERT_EQ(fake_cri_n_calls(FAKE_CREATE), 2);
        ASSERT_EQ(fake_cri_container_state("c", 0), RUNTIME__V1__CONTAINER_STATE__CONTAINER_RUNNING);
        ASSERT_STREQ(h_phase("crash-node1"), "Running");
        h_done();
}

/* A RunPodSandbox that fails creates nothing else, and is tried again after
 * upstream's pod worker back-off (backOffPeriod, 10 s), not in a loop as
 * fast as the runtime answers. */
TEST(sandbox_failure_is_retried_after_back_off) {
        h_setup();
        fake_cri_fail_next_n(FAKE_RUN_SANDBOX, 2, EIO, "failed to setup network for sandbox");
        h_desire1(crash_yaml);
        ASSERT_STREQ(fake_cri_actions(), "RunPodSandbox crash-node1 a0");
        ASSERT_EQ(fake_cri_n_sandboxes(), 0);
        ASSERT_STREQ(h_phase("crash-node1"), "Pending");
        fake_loop_run_for(9 * SEC);
        ASSERT_STREQ(fake_cri_actions(), "RunPodSandbox crash-node1 a0");
        fake_loop_run_for(2 * SEC);
        ASSERT_STREQ(fake_cri_actions(), "RunPodSandbox crash-node1 a0; RunPodSandbox crash-node1 a0");
        fake_loop_run_for(11 * SEC);
        ASSERT_STREQ(fake_cri_actions(), "RunPodSandbox crash-node1 a0; RunPodSandbox crash-node1 a0; "
                                         "RunPodSandbox crash-node1 a0; CreateContainer c a0; StartContainer c a0");
        ASSERT_EQ(fake_cri_n_sandboxes(), 1);
        ASSERT_STREQ(h_phase("crash-node1"), "Running");
        h_done();
}

/* A pull that fails: ErrImagePull, then ImagePullBackOff until the retry
 * 10 s later (upstream's image back-off). */
TEST(pull_failure_backs_off) {
        h_setup();
        fake_cri_set_images_present(false);
        fake_cri_fail_next(FAKE_PULL, ENOENT, "busybox:latest: not found");
        fake_cri_hold(FAKE_PULL);
        h_desire1(web_yaml);
        ASSERT_STREQ(fake_cri_actions(), "RunPodSandbox web-node1 a0; PullImage busybox");
        /* the failure is shown as ErrImagePull until the next sync looks again */
        fake_cri_hold(FAKE_IMAGE_STATUS);
        fake_cri_release(FAKE_PULL);
        ASSERT_TRUE(fake_loop_settle() >= 0);
        ASSERT_CONTAINS(h_cstatus("c1"), "\"waiting\":{\"reason\":\"ErrImagePull\",\"message\":\"PullImage: rpc "
                                         "error: busybox:latest: not found\"}");
        fake_cri_release(FAKE_IMAGE_STATUS);
        fake_loop_run_for(2 * SEC);
        ASSERT_CONTAINS(h_cstatus("c1"), "\"waiting\":{\"reason\":\"ImagePullBackOff\"");
        ASSERT_STREQ(fake_cri_actions(), "RunPodSandbox web-node1 a0; PullImage busybox");
        fake_loop_run_for(7 * SEC);
        ASSERT_EQ(fake_cri_n_calls(FAKE_PULL), 1);
        fake_loop_run_for(2 * SEC);
        ASSERT_EQ(fake_cri_n_calls(FAKE_PULL), 2);
        ASSERT_STREQ(h_phase("web-node1"), "Running");
        h_done();
}

/* imagePullFallbackToLocal (ours, on by default): an offline box whose pull
 * fails runs the image it already has. */
TEST(pull_failure_falls_back_to_local_image) {
        h_setup();
        fake_cri_fail_next(FAKE_PULL, EIO, "dial tcp: lookup registry-1.docker.io: no such host");
        h_desire1(web_yaml);
        ASSERT_STREQ(fake_cri_actions(), "RunPodSandbox web-node1 a0; PullImage busybox; CreateContainer c1 a0; "
                                         "StartContainer c1 a0; CreateContainer c2 a0; StartContainer c2 a0");
        ASSERT_STREQ(h_phase("web-node1"), "Running");
        h_done();
}

/* Upstream's killPod: containers stopped with the pod's grace period, then
 * the sandbox stopped and removed; the pod is listed, with a
 * deletionTimestamp, until then. */
TEST(teardown_stops_then_removes) {
        char dir[512];

        h_setup();
        h_desire1(web_yaml);
        const char *uid = h_uid_of(web_yaml);
        snprintf(dir, sizeof(dir), "%s/pods/%s", H.root, uid);
        ASSERT_TRUE(exists(dir));
        fake_cri_clear_actions();

        fake_cri_hold(FAKE_STOP);
        h_desire(NULL, 0);
        fake_loop_run_for(3 * SEC);
        ASSERT_STREQ(fake_cri_actions(), "StopContainer c1 a0 t7; StopContainer c2 a0 t7");
        ASSERT_EQ(h_n_pods(), 1);
        ASSERT_CONTAINS(h_render(), "\"deletionTimestamp\":\"2023-11-14T22:13:");
        ASSERT_CONTAINS(h_render(), "\"deletionGracePeriodSeconds\":7");
        ASSERT_EQ(fake_cri_sandbox_state(uid), RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY);

        /* Containers stopped: the sandbox goes; the pod is listed, terminal, until it has. */
        fake_cri_hold(FAKE_STOP_SANDBOX);
        fake_cri_release(FAKE_STOP);
        fake_loop_run_for(3 * SEC);
        ASSERT_STREQ(fake_cri_actions(), "StopContainer c1 a0 t7; StopContainer c2 a0 t7; StopPodSandbox web-node1");
        ASSERT_EQ(fake_cri_n_calls(FAKE_STOP_SANDBOX), 1);
        ASSERT_EQ(h_n_pods(), 1);
        ASSERT_CONTAINS(h_render(), "\"deletionGracePeriodSeconds\":7");
        ASSERT_CONTAINS(h_cstatus("c1"), "\"terminated\":{\"exitCode\":137");

        fake_cri_release(FAKE_STOP_SANDBOX);
        fake_loop_run_for(3 * SEC);
        ASSERT_STREQ(fake_cri_actions(), "StopContainer c1 a0 t7; StopContainer c2 a0 t7; StopPodSandbox web-node1; "
                                         "RemovePodSandbox web-node1");
        ASSERT_EQ(h_n_pods(), 0);
        ASSERT_EQ(fake_cri_n_sandboxes(), 0);
        ASSERT_EQ(fake_cri_n_containers(), 0);
        ASSERT_FALSE(exists(dir));
        ASSERT_TRUE(exists(H.root));
        ASSERT_TRUE(exists(H.logs));
        h_done();
}

/* A pod already running in the runtime (kubelet-lite restarted) is adopted
 * as it is, as upstream's kubelet picks up its pods after a restart. */
TEST(running_pod_is_adopted) {
        struct kl_container_view v;

        h_setup();
        const char *uid = h_uid_of(web_yaml);
        const char *sb =
                fake_cri_add_sandbox("web-node1", "default", uid, 0, RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY);
        const char *c1 = fake_cri_add_container(sb, "c1", 0, RUNTIME__V1__CONTAINER_STATE__CONTAINER_RUNNING,
                                                kl_realtime_nsec() - 60 * INT64_C(1000000000), 0);
        fake_cri_add_container(sb, "c2", 0, RUNTIME__V1__CONTAINER_STATE__CONTAINER_RUNNING,
                               kl_realtime_nsec() - 60 * INT64_C(1000000000), 0);
        h_desire1(web_yaml);
        fake_loop_run_for(5 * SEC);
        ASSERT_STREQ(fake_cri_actions(), "");
        ASSERT_EQ(fake_cri_n_calls(FAKE_CREATE), 0);
        ASSERT_EQ(fake_cri_n_calls(FAKE_START), 0);
        ASSERT_EQ(fake_cri_n_calls(FAKE_RUN_SANDBOX), 0);
        ASSERT_STREQ(h_phase("web-node1"), "Running");
        ASSERT_TRUE(h_container("web-node1", "c1", &v));
        ASSERT_TRUE(v.running);
        ASSERT_STREQ(v.id, c1);
        ASSERT_EQ(v.restarts, 0);
        ASSERT_CONTAINS(h_cstatus("c1"), "\"ready\":true");
        h_done();
}

/* kubelet-lite killed between CreateContainer and StartContainer (start.c's
 * journal): a container that never ran is removed and started again with the
 * same attempt, no restart counted; one left CREATED is just started. */
TEST(crash_journal_replay) {
        char journal[512];
        struct kl_container_view v;

        h_setup();
        const char *uid = h_uid_of(web_yaml);
        const char *sb =
                fake_cri_add_sandbox("web-node1", "default", uid, 0, RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY);
        fake_cri_add_container(sb, "c1", 0, RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED, 0, 128);
        const char *c2 = fake_cri_add_container(sb, "c2", 0, RUNTIME__V1__CONTAINER_STATE__CONTAINER_CREATED, 0, 0);
        snprintf(journal, sizeof(journal), "%s/pods/%s/containers/c1", H.root, uid);
        ASSERT_OK(kl_mkdir_p(journal, 0755));
        strcat(journal, "/0-starting");
        int fd = open(journal, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        ASSERT_TRUE(fd >= 0);
        close(fd);

        h_desire1(web_yaml);
        fake_loop_run_for(5 * SEC);
        const char *a = fake_cri_actions();
        ASSERT_CONTAINS(a, "RemoveContainer c1 a0");
        ASSERT_CONTAINS(a, "CreateContainer c1 a0; StartContainer c1 a0");
        ASSERT_CONTAINS(a, "StartContainer c2 a0");
        ASSERT_TRUE(strstr(a, "RemoveContainer c1 a0") < strstr(a, "CreateContainer c1 a0"));
        ASSERT_TRUE(strstr(a, "CreateContainer c2") == NULL);
        ASSERT_TRUE(strstr(a, "c1 a1") == NULL);
        ASSERT_TRUE(strstr(a, "RunPodSandbox") == NULL);
        ASSERT_FALSE(exists(journal));

        ASSERT_STREQ(h_phase("web-node1"), "Running");
        ASSERT_TRUE(h_container("web-node1", "c1", &v));
        ASSERT_TRUE(v.running);
        ASSERT_EQ(v.restarts, 0);
        ASSERT_TRUE(h_container("web-node1", "c2", &v));
        ASSERT_TRUE(v.running);
        ASSERT_STREQ(v.id, c2);
        ASSERT_EQ(v.restarts, 0);
        ASSERT_CONTAINS(h_cstatus("c1"), "\"lastState\":{}");
        h_done();
}

/* An interrupted start whose container the runtime cannot remove for good
 * (containerd kept its task: "cannot delete running task"): after a few tries
 * the exit is handled as upstream does, a new attempt counted as a restart,
 * instead of retrying the removal forever with the pod never running. */
TEST(interrupted_start_unremovable_gives_up) {
        char journal[512];
        struct kl_container_view v;

        h_setup();
        const char *uid = h_uid_of(web_yaml);
        const char *sb =
                fake_cri_add_sandbox("web-node1", "default", uid, 0, RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY);
        fake_cri_add_container(sb, "c1", 0, RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED, 0, 128);
        fake_cri_add_container(sb, "c2", 0, RUNTIME__V1__CONTAINER_STATE__CONTAINER_RUNNING, 0, 0);
        snprintf(journal, sizeof(journal), "%s/pods/%s/containers/c1", H.root, uid);
        ASSERT_OK(kl_mkdir_p(journal, 0755));
        strcat(journal, "/0-starting");
        int fd = open(journal, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        ASSERT_TRUE(fd >= 0);
        close(fd);
        fake_cri_fail_next_n(FAKE_REMOVE, 1000, EBUSY,
                             "failed to delete containerd container: cannot delete running task: failed precondition");

        h_desire1(web_yaml);
        fake_loop_run_for(2 * SEC);
        ASSERT_EQ(fake_cri_n_calls(FAKE_CREATE), 0);
        ASSERT_TRUE(fake_cri_n_calls(FAKE_REMOVE) <= 3);
        fake_loop_run_for(10 * SEC);
        ASSERT_TRUE(fake_cri_n_calls(FAKE_REMOVE) < 20);
        ASSERT_CONTAINS(fake_cri_actions(), "CreateContainer c1 a1; StartContainer c1 a1");
        ASSERT_FALSE(exists(journal));
        ASSERT_TRUE(h_container("web-node1", "c1", &v));
        ASSERT_TRUE(v.running);
        ASSERT_EQ(v.restarts, 1);
        ASSERT_STREQ(h_phase("web-node1"), "Running");
        h_done();
}

/* A container left CREATED whose StartContainer from before our restart is
 * still being served: containerd refuses ours ("already in starting state")
 * until it fails the old one a second or two later. Asked again after a
 * while, not at once: the immediate retry spun a thousand calls a second. */
TEST(left_created_still_starting_is_not_spun_on) {
        struct kl_container_view v;

        h_setup();
        const char *uid = h_uid_of(web_yaml);
        const char *sb =
                fake_cri_add_sandbox("web-node1", "default", uid, 0, RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY);
        fake_cri_add_container(sb, "c1", 0, RUNTIME__V1__CONTAINER_STATE__CONTAINER_RUNNING, 0, 0);
        const char *c2 = fake_cri_add_container(sb, "c2", 0, RUNTIME__V1__CONTAINER_STATE__CONTAINER_CREATED, 0, 0);
        fake_cri_fail_next_n(FAKE_START, 3, EIO, "container is already in starting state");

        h_desire1(web_yaml);
        fake_loop_run_for(SEC / 2);
        ASSERT_EQ(fake_cri_n_calls(FAKE_START), 1);
        fake_loop_run_for(SEC);
        ASSERT_TRUE(fake_cri_n_calls(FAKE_START) <= 2);
        fake_loop_run_for(5 * SEC);
        ASSERT_EQ(fake_cri_n_calls(FAKE_START), 4);
        ASSERT_EQ(fake_cri_n_calls(FAKE_CREATE), 0);
        ASSERT_TRUE(h_container("web-node1", "c2", &v));
        ASSERT_TRUE(v.running);
        ASSERT_STREQ(v.id, c2);
        ASSERT_EQ(v.restarts, 0);
        h_done();
}

/* A runtime that stops answering: one relist in flight at a time, and after
 * 10 s the runtime is reported not ok (node NotReady, /healthz) without
 * waiting for the call's deadline; it comes back with the answer. */
TEST(hung_runtime) {
        h_setup();
        ASSERT_TRUE(kl_pm_runtime_ok(H.pm));
        unsigned before = fake_cri_n_calls(FAKE_LIST_SANDBOX);
        fake_cri_hold(FAKE_LIST_SANDBOX);
        fake_loop_run_for(9 * SEC);
        ASSERT_EQ(fake_cri_n_calls(FAKE_LIST_SANDBOX), before + 1);
        ASSERT_TRUE(kl_pm_runtime_ok(H.pm));
        fake_loop_run_for(2 * SEC);
        ASSERT_EQ(fake_cri_n_calls(FAKE_LIST_SANDBOX), before + 1);
        ASSERT_EQ(fake_cri_max_in_flight(FAKE_LIST_SANDBOX), 1);
        ASSERT_FALSE(kl_pm_runtime_ok(H.pm));
        ASSERT_CONTAINS(kl_pm_runtime_error(H.pm), "no answer from the container runtime for 1");

        /* It answers: ok again, and the relist asked for meanwhile runs after it. */
        fake_cri_release(FAKE_LIST_SANDBOX);
        ASSERT_TRUE(fake_loop_settle() >= 0);
        ASSERT_TRUE(kl_pm_runtime_ok(H.pm));
        ASSERT_NULL(kl_pm_runtime_error(H.pm));
        ASSERT_EQ(fake_cri_n_calls(FAKE_LIST_SANDBOX), before + 2);
        ASSERT_EQ(fake_cri_max_in_flight(FAKE_LIST_SANDBOX), 1);

        /* A failing relist is reported at once. */
        fake_cri_fail_next(FAKE_LIST_SANDBOX, ENOTCONN, "connection refused");
        fake_loop_run_for(1 * SEC);
        ASSERT_FALSE(kl_pm_runtime_ok(H.pm));
        ASSERT_CONTAINS(kl_pm_runtime_error(H.pm), "connection refused");
        fake_loop_run_for(1 * SEC);
        ASSERT_TRUE(kl_pm_runtime_ok(H.pm));
        h_done();
}

/* Labels come from whoever made the sandbox: a sandbox claiming uid, name
 * and namespace "../.." is removed through CRI like any orphan, but none of
 * its labels may make kubelet-lite remove a path outside its directories. */
TEST(foreign_sandbox_with_dotdot_labels) {
        char sentinel[512], pods[512], outside[512];

        h_setup();
        snprintf(sentinel, sizeof(sentinel), "%s/sentinel", H.top);
        snprintf(pods, sizeof(pods), "%s/pods", H.root);
        snprintf(outside, sizeof(outside), "%s/keep/file", H.logs);
        ASSERT_OK(kl_mkdir_p(pods, 0755));
        int fd = open(sentinel, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        ASSERT_TRUE(fd >= 0);
        close(fd);
        snprintf(outside, sizeof(outside), "%s/keep", H.logs);
        ASSERT_OK(mkdir(outside, 0755));

        const char *sb =
                fake_cri_add_sandbox("../..", "../..", "../..", 0, RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY);
        fake_cri_add_container(sb, "../..", 0, RUNTIME__V1__CONTAINER_STATE__CONTAINER_RUNNING, kl_realtime_nsec(), 0);
        h_desire(NULL, 0);
        fake_loop_run_for(5 * SEC);
        ASSERT_STREQ(fake_cri_actions(), "StopContainer ../.. a0 t30; StopPodSandbox ../..; RemovePodSandbox ../..");
        ASSERT_EQ(fake_cri_n_sandboxes(), 0);
        ASSERT_EQ(h_n_pods(), 0);
        ASSERT_TRUE(exists(sentinel));
        ASSERT_TRUE(exists(pods));
        ASSERT_TRUE(exists(H.root));
        ASSERT_TRUE(exists(H.logs));
        ASSERT_TRUE(exists(outside));
        h_done();
}

/* Runtime work is paced (pm->pacer, worker.h): at most max start steps, stop
 * rounds and sandbox removals in flight, so that 200 pods arriving or going
 * at once do not leave dozens of runc processes fighting for 2 CPUs. All
 * containers of one pod are stopped together; a step that has waited 2 s
 * (a long grace period) stops counting, so it cannot hold the others back. */
TEST(runtime_work_is_paced) {
        char yaml[8][256];
        const char *yamls[8];

        h_setup();
        kl_pacer_init(&H.pm->pacer, 3, 2 * SEC);
        for (int i = 0; i < 8; i++) {
                snprintf(yaml[i], sizeof(yaml[i]),
                         "apiVersion: v1\nkind: Pod\nmetadata: {name: p%d}\nspec:\n"
                         "  terminationGracePeriodSeconds: 30\n"
                         "  containers:\n  - {name: a, image: busybox}\n  - {name: b, image: busybox}\n",
                         i);
                yamls[i] = yaml[i];
        }
        fake_cri_hold(FAKE_RUN_SANDBOX);
        h_desire(yamls, 8);
        ASSERT_EQ(fake_cri_n_calls(FAKE_RUN_SANDBOX), 3);
        fake_cri_release(FAKE_RUN_SANDBOX);
        fake_loop_run_for(10 * SEC);
        for (int i = 0; i < 8; i++) {
                char name[32];
                snprintf(name, sizeof(name), "p%d-node1", i);
                ASSERT_STREQ(h_phase(name), "Running");
        }
        ASSERT_EQ(fake_cri_n_calls(FAKE_RUN_SANDBOX), 8);
        ASSERT_EQ(fake_cri_max_in_flight(FAKE_RUN_SANDBOX), 3);
        ASSERT_LE(fake_cri_max_in_flight(FAKE_CREATE) + fake_cri_max_in_flight(FAKE_START), 3 + 3);
        ASSERT_LE(fake_cri_max_in_flight(FAKE_CREATE), 3);
        ASSERT_LE(fake_cri_max_in_flight(FAKE_START), 3);

        /* Removal: 3 pods' stop rounds, both containers of each at once. */
        fake_cri_hold(FAKE_STOP);
        h_desire(NULL, 0);
        ASSERT_EQ(fake_cri_n_calls(FAKE_STOP), 6);
        /* The grace period is 30 s and nothing answers: after 2 s those
         * rounds stop counting and the next 3 pods are told to stop, then
         * the last 2. */
        fake_loop_run_for(2 * SEC + 1);
        ASSERT_EQ(fake_cri_n_calls(FAKE_STOP), 12);
        fake_loop_run_for(2 * SEC);
        ASSERT_EQ(fake_cri_n_calls(FAKE_STOP), 16);
        fake_cri_release(FAKE_STOP);
        fake_loop_run_for(10 * SEC);
        ASSERT_EQ(h_n_pods(), 0);
        ASSERT_EQ(fake_cri_n_sandboxes(), 0);
        ASSERT_LE(fake_cri_max_in_flight(FAKE_STOP_SANDBOX), 3);
        ASSERT_LE(fake_cri_max_in_flight(FAKE_REMOVE_SANDBOX), 3);
        printf("  8 pods of 2 containers, at most 3 steps at once; a 30 s grace holds a slot for 2 s\n");
        h_done();
}

/* A failed start's container is removed even when the pacer has no free
 * slot: the removal takes the failed step's own. Otherwise the next relist
 * would adopt the failed container as the latest attempt. */
TEST(start_failure_removes_with_the_pacer_full) {
        h_setup();
        kl_pacer_init(&H.pm->pacer, 1, 2 * SEC);
        first_start_fails();
        h_done();
}

/* A removal the runtime keeps refusing is asked again at the periodic
 * relist, not as fast as the runtime answers (a freed pacer slot does not
 * kick a sync by itself). */
TEST(failing_removal_is_not_spun_on) {
        h_setup();
        h_desire1(web_yaml);
        fake_cri_fail_next_n(FAKE_REMOVE_SANDBOX, 5, EIO, "cannot delete running task");
        h_desire(NULL, 0); /* settles: a spin would never settle */
        fake_loop_run_for(3 * SEC);
        ASSERT_LE(fake_cri_n_calls(FAKE_REMOVE_SANDBOX), 5);
        ASSERT_EQ(h_n_pods(), 1);
        fake_loop_run_for(10 * SEC);
        ASSERT_EQ(h_n_pods(), 0);
        ASSERT_EQ(fake_cri_n_calls(FAKE_REMOVE_SANDBOX), 6);
        h_done();
}

TEST_MAIN()
