/* SPDX-License-Identifier: Apache-2.0 */
/* The floor that containerd sets: the same steps kubelet-lite takes to start
 * a pod (RunPodSandbox, CreateContainer, StartContainer) and to remove it
 * (StopContainer with a 2 s grace, StopPodSandbox, RemoveContainer,
 * RemovePodSandbox), built from the same manifest with the same spec builder,
 * but driven directly over CRI, one call after another.
 *   cri-floor ENDPOINT MANIFEST RUNS [BATCH]
 * Prints one line per run, then "p50"/"p95" of the start and "stop_p50"/
 * "stop_p95" of the removal (ms). With BATCH, also starts BATCH pods one
 * after another, then removes them one after another: "batch_start" and
 * "batch_stop" (ms). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kubelet-lite/pod/spec.h"
#include "kubelet-lite/event.h"
#include "lib/fileio.h"
#include "manifests/manifest.h"
#include "runtime/cri.h"

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

static int start_one(struct kl_cri *cri, struct kl_pod *pod, const char *dir, int i, char **ret_sid, char **ret_cid,
                     struct kl_error *err) {
        struct kl_arena a = {};
        char uid[64];
        snprintf(uid, sizeof(uid), "cri-floor-%d-%d", (int) getpid(), i);
        free(pod->uid);
        pod->uid = strdup(uid);
        struct kl_spec_ctx ctx = {.root_dir = dir,
                                  .pod_logs_dir = dir,
                                  .cgroup_parent = "",
                                  .node_name = "bench",
                                  .host_ip = "127.0.0.1",
                                  .pod_ip = "127.0.0.1",
                                  .cfs_period_us = 100000};
        char *logdir = kl_spec_pod_log_dir(&a, &ctx, pod);
        kl_mkdir_p(logdir, 0755);
        Runtime__V1__PodSandboxConfig *sb = kl_spec_sandbox(&a, pod, &ctx, 0);
        int r = kl_cri_run_pod_sandbox(cri, sb, NULL, ret_sid, err);
        Runtime__V1__ContainerConfig *cc = NULL;
        if (r >= 0 && !(cc = kl_spec_container(&a, pod, &pod->containers[0], "app", &ctx, 0, NULL, err)))
                r = -EINVAL;
        if (r >= 0)
                r = kl_cri_create_container(cri, *ret_sid, cc, sb, ret_cid, err);
        if (r >= 0)
                r = kl_cri_start_container(cri, *ret_cid, err);
        kl_arena_free(&a);
        return r;
}

/* What kubelet-lite does to remove a pod, one call after another. */
static void stop_one(struct kl_cri *cri, const char *sid, const char *cid) {
        struct kl_error err = {};
        (void) kl_cri_stop_container(cri, cid, 2, &err);
        (void) kl_cri_stop_pod_sandbox(cri, sid, &err);
        (void) kl_cri_remove_container(cri, cid, &err);
        (void) kl_cri_remove_pod_sandbox(cri, sid, &err);
}

int main(int argc, char **argv) {
        struct kl_error err = {};
        struct kl_cri *cri = NULL;
        struct kl_manifest m = {};
        struct kl_manifest_opts opts;
        char dir[] = "/tmp/kl-cri-floor.XXXXXX";

        if (argc != 4 && argc != 5) {
                fprintf(stderr, "usage: %s ENDPOINT MANIFEST RUNS [BATCH]\n", argv[0]);
                return 2;
        }
        int runs = atoi(argv[3]), batch = argc > 4 ? atoi(argv[4]) : 0;
        if (runs <= 0 || runs > 1000 || !mkdtemp(dir))
                return 2;
        kl_manifest_opts_default(&opts);
        if (kl_manifest_parse_file(AT_FDCWD, argv[2], argv[2], "bench", &opts, &m) < 0 || m.errors || m.n_pods != 1) {
                fprintf(stderr, "%s: not a valid single-pod manifest\n", argv[2]);
                return 1;
        }
        if (kl_cri_new(argv[1], 60000, &cri, &err) < 0) {
                fprintf(stderr, "%s\n", kl_error_str(&err));
                return 1;
        }
        double *ms = calloc((size_t) runs, sizeof(double)), *stop_ms = calloc((size_t) runs, sizeof(double));
        struct kl_pod *pod = m.pods[0];
        for (int i = 0; i < runs; i++) {
                char *sid = NULL, *cid = NULL;
                uint64_t t0 = kl_now_usec();
                if (start_one(cri, pod, dir, i, &sid, &cid, &err) < 0) {
                        fprintf(stderr, "run %d: %s\n", i, kl_error_str(&err));
                        return 1;
                }
                uint64_t t1 = kl_now_usec();
                usleep(200 * 1000); /* let the process install its SIGTERM handler */
                uint64_t t2 = kl_now_usec();
                stop_one(cri, sid, cid);
                uint64_t t3 = kl_now_usec();
                ms[i] = (double) (t1 - t0) / 1000.0;
                stop_ms[i] = (double) (t3 - t2) / 1000.0;
                printf("run %d: start %.1f ms, stop %.1f ms\n", i, ms[i], stop_ms[i]);
                free(sid);
                free(cid);
        }
        if (batch > 0) {
                char **sids = calloc((size_t) batch, sizeof(char *)), **cids = calloc((size_t) batch, sizeof(char *));
                uint64_t t0 = kl_now_usec();
                for (int i = 0; i < batch; i++)
                        if (start_one(cri, pod, dir, 1000 + i, &sids[i], &cids[i], &err) < 0) {
                                fprintf(stderr, "batch %d: %s\n", i, kl_error_str(&err));
                                return 1;
                        }
                uint64_t t1 = kl_now_usec();
                usleep(500 * 1000);
                uint64_t t2 = kl_now_usec();
                for (int i = 0; i < batch; i++) {
                        stop_one(cri, sids[i], cids[i]);
                        free(sids[i]);
                        free(cids[i]);
                }
                uint64_t t3 = kl_now_usec();
                printf("batch_start %.0f ms\nbatch_stop %.0f ms\n", (double) (t1 - t0) / 1000.0,
                       (double) (t3 - t2) / 1000.0);
                free(sids);
                free(cids);
        }
        qsort(stop_ms, (size_t) runs, sizeof(double), cmp_double);
        printf("stop_p50 %.1f ms\nstop_p95 %.1f ms\n", stop_ms[(runs - 1) / 2], stop_ms[(runs * 95 + 99) / 100 - 1]);
        free(stop_ms);
        qsort(ms, (size_t) runs, sizeof(double), cmp_double);
        printf("p50 %.1f ms\np95 %.1f ms\n", ms[(runs - 1) / 2], ms[(runs * 95 + 99) / 100 - 1]);
        free(ms);
        kl_manifest_done(&m);
        kl_cri_free(cri);
        (void) kl_rm_rf_at(AT_FDCWD, dir);
        return 0;
}
