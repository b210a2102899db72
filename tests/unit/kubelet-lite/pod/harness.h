/* SPDX-License-Identifier: Apache-2.0 */
/* The pod manager on the fake runtime and clock (fake-cri.h), with its root
 * and log directories under a fresh temporary directory: set up, feed
 * manifests, look at what it reports (/pods JSON and kl_pm_next_pod). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "kubelet-lite/pod/manager.h"
#include "tests/unit/kubelet-lite/pod/fake-cri.h"

struct harness {
        char top[256];  /* the temporary directory: everything we may touch is below it */
        char root[300]; /* <top>/root: rootDirectory */
        char logs[300]; /* <top>/logs: podLogsDirectory */
        struct kl_config cfg;
        struct kl_event *loop;
        struct kl_cri *cri;
        struct kl_node *node;
        struct kl_pm *pm;
        char *json; /* the last render */
};

extern struct harness H;

/* A fresh manager, runtime and clock; h_done() tears everything down and
 * removes the temporary directory. */
void h_setup(void);
void h_done(void);

/* The manifests now: n YAML documents, one per file "<i>.yaml"
 * (n 0: no pods). Settles the loop. */
void h_desire(const char *const *yamls, size_t n);
void h_desire1(const char *yaml);
/* The uid the manifest gives its pod. */
const char *h_uid_of(const char *yaml);

/* The /pods JSON (valid until the next call). */
const char *h_render(void);
/* One container's status object in /pods, "{"name":"c","state":...}"
 * (valid until the next call); NULL when absent. */
const char *h_cstatus(const char *container);
/* The pod's phase through kl_pm_next_pod (NULL: no such pod). */
const char *h_phase(const char *full_name);
bool h_container(const char *full_name, const char *container, struct kl_container_view *ret);
unsigned h_n_pods(void);
