/* SPDX-License-Identifier: Apache-2.0 */
/* The facade's discovery documents (/version, /api, /api/v1, /apis and the
 * coordination.k8s.io group) and the node's Lease, which kubectl describe
 * node reads. */
#pragma once

#include <stdint.h>

#include "apiconn.h"

/* path: "/version", "/api", "/api/v1", "/apis", "/apis/coordination.k8s.io[/v1]" */
void kl_apidiscovery_serve(struct kl_api_conn *c, const char *path, const char *address, int port);
/* The Lease of node name (404 for any other). */
void kl_apidiscovery_lease(struct kl_api_conn *c, const char *node_name, const char *name, int64_t start_nsec);
