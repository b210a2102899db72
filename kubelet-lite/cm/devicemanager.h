/* SPDX-License-Identifier: Apache-2.0 */
/* The device manager: the kubelet side of the device plugin API
 * (k8s.io/kubelet/pkg/apis/deviceplugin/v1beta1), as upstream's
 * pkg/kubelet/cm/devicemanager (manager.go, plugin/v1beta1/server.go,
 * client.go, handler.go).
 *
 * It serves Registration on <dir>/kubelet.sock (dir: <root-dir>/device-
 * plugins, emptied at start but for the checkpoint so that plugins notice
 * and register again), connects to each registered plugin, keeps its
 * ListAndWatch stream and the devices' health, and calls Allocate before a
 * container that holds devices is created. Every gRPC call is asynchronous
 * and completes on the event loop. Allocations are kept in <dir>/
 * kubelet_internal_checkpoint. The bookkeeping itself is devicestate.c. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "kubelet-lite/cm/devicestate.h"
#include "kubelet-lite/event.h"
#include "lib/arena.h"
#include "lib/error.h"
#include "manifests/pod.h"
#include "runtime/api.pb-c.h"

#define KL_DM_KUBELET_SOCKET "kubelet.sock"
#define KL_DM_CHECKPOINT "kubelet_internal_checkpoint"
/* upstream's endpointStopGracePeriod: a plugin gone this long loses its resource */
#define KL_DM_STOP_GRACE_USEC (5 * 60 * KL_USEC_PER_SEC)

struct kl_dm;

struct kl_metrics;

struct kl_dm_params {
        struct kl_event *loop;
        /* may be NULL: upstream's kubelet_device_plugin_registration_total
         * and kubelet_device_plugin_alloc_duration_seconds, and our
         * kubelet_lite_node_extended_resource_{capacity,allocatable} */
        struct kl_metrics *metrics;
        const char *dir; /* <root-dir>/device-plugins */
        /* Devices appeared, went, or an Allocate finished: admission and pod
         * starts waiting for it should look again. */
        void (*changed)(void *userdata);
        void *userdata;
};

int kl_dm_new(const struct kl_dm_params *p, struct kl_dm **ret, struct kl_error *reterr);
struct kl_dm *kl_dm_free(struct kl_dm *dm);

struct kl_devstate *kl_dm_state(struct kl_dm *dm);

/* kl_devstate_admit, then the checkpoint. */
bool kl_dm_admit(struct kl_dm *dm, const struct kl_pod *pod, const struct kl_pod *const *admitted, size_t n_admitted,
                 char reason[KL_DEVSTATE_REASON_MAX], char message[KL_DEVSTATE_MESSAGE_MAX]);
/* At start: devices of pods neither running nor wanted go back. */
void kl_dm_retain(struct kl_dm *dm, const char *const *uids, size_t n);
/* The pod is gone: its devices go back. */
void kl_dm_pod_removed(struct kl_dm *dm, const char *pod_uid);

/* Before CreateContainer: 1 when every device of the container has the
 * plugin's Allocate answer (and, for a plugin that asks for it, a
 * PreStartContainer for this start), 0 while a call is in flight (changed()
 * runs when it completes), -errno with reterr when it failed (the next call
 * tries again). */
int kl_dm_container_ready(struct kl_dm *dm, const char *pod_uid, const char *container, struct kl_error *reterr);
/* Add the plugins' devices, mounts, envs and annotations to cfg (arena
 * memory), as upstream's GetDeviceRunContainerOptions. CDI devices have no
 * field in our CRI (v0.25.0): they go to annotations as upstream did before
 * the CDIDevices field ("cdi.k8s.io/<resource>_<container>"). */
int kl_dm_container_config(struct kl_dm *dm, struct kl_arena *a, const char *pod_uid, const char *container,
                           Runtime__V1__ContainerConfig *cfg, struct kl_error *reterr);
