/* SPDX-License-Identifier: Apache-2.0 */
/* The floor that containerd sets: the same steps kubelet-lite takes to start
 * a pod (RunPodSandbox, CreateContainer, StartContainer), built from the same
 * manifest with the same spec builder, but driven directly over CRI.
 *   cri-floor ENDPOINT MANIFEST RUNS
 * Prints one line per run with the milliseconds, then p50 and p95. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kubelet-lite/crispec.h"
#include "kubelet-lite/event.h"
#include "lib/fileio.h"
#include "manifests/manifest.h"
#include "runtime/cri.h"

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
        struct kl_error err = {};
        struct kl_cri *cri = NULL;
        struct kl_manifest m = {};
        struct kl_manifest_opts opts;
        char dir[] = "/tmp/kl-cri-floor.XXXXXX";

        if (argc != 4) {
                fprintf(stderr, "usage: %s ENDPOINT MANIFEST RUNS\n", argv[0]);
                return 2;
        }
        int runs = atoi(argv[3]);
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
        double *ms = calloc((size_t) runs, sizeof(double));
        struct kl_pod *pod = m.pods[0];
        for (int i = 0; i < runs; i++) {
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
                                          .cfs_period_us = 100000};
                char *logdir = kl_spec_pod_log_dir(&a, &ctx, pod);
                kl_mkdir_p(logdir, 0755);
                char *sid = NULL, *cid = NULL;
                uint64_t t0 = kl_now_usec();
                Runtime__V1__PodSandboxConfig *sb = kl_spec_sandbox(&a, pod, &ctx, 0);
                int r = kl_cri_run_pod_sandbox(cri, sb, NULL, &sid, &err);
                Runtime__V1__ContainerConfig *cc = NULL;
                if (r >= 0)
                        cc = kl_spec_container(&a, pod, &pod->containers[0], "app", &ctx, 0, NULL, &err);
                if (r >= 0 && cc)
                        r = kl_cri_create_container(cri, sid, cc, sb, &cid, &err);
                if (r >= 0 && cid)
                        r = kl_cri_start_container(cri, cid, &err);
                uint64_t t1 = kl_now_usec();
                if (r < 0) {
                        fprintf(stderr, "run %d: %s\n", i, kl_error_str(&err));
                        return 1;
                }
                ms[i] = (double) (t1 - t0) / 1000.0;
                printf("run %d: %.1f ms\n", i, ms[i]);
                (void) kl_cri_stop_container(cri, cid, 2, &err);
                (void) kl_cri_stop_pod_sandbox(cri, sid, &err);
                (void) kl_cri_remove_container(cri, cid, &err);
                (void) kl_cri_remove_pod_sandbox(cri, sid, &err);
                free(sid);
                free(cid);
                kl_arena_free(&a);
        }
        qsort(ms, (size_t) runs, sizeof(double), cmp_double);
        printf("p50 %.1f ms\np95 %.1f ms\n", ms[(runs - 1) / 2], ms[(runs * 95 + 99) / 100 - 1]);
        free(ms);
        kl_manifest_done(&m);
        kl_cri_free(cri);
        (void) kl_rm_rf_at(AT_FDCWD, dir);
        return 0;
}
