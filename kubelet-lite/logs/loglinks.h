/* SPDX-License-Identifier: Apache-2.0 */
/* The legacy container log symlinks upstream kubelet keeps in
 * /var/log/containers (kuberuntime's legacyLogSymlink):
 * "<pod>_<namespace>_<container>-<container id>.log" pointing at the CRI log
 * file under podLogsDir. Log shippers (Fluent Bit, Promtail, Vector) tail
 * that directory by default. */
#pragma once

#include <stddef.h>

/* Make the link for a container's log file (dir is created when missing). */
int kl_loglinks_add(const char *dir, const char *pod, const char *ns, const char *container, const char *id,
                    const char *target);
/* Remove the link of one container (missing is fine). */
int kl_loglinks_remove(const char *dir, const char *pod, const char *ns, const char *container, const char *id);
/* Remove the links of every container of a pod: the names that start with
 * "<pod>_<ns>_" and point into pod_log_dir (the pod's own directory under
 * podLogsDir). */
int kl_loglinks_remove_pod(const char *dir, const char *pod, const char *ns, const char *pod_log_dir);
/* Remove every link in dir that points into logs_dir at a file that is gone,
 * as upstream's container GC does. Returns how many were removed. */
int kl_loglinks_gc(const char *dir, const char *logs_dir);
