/* SPDX-License-Identifier: Apache-2.0 */
/* exec, attach and port-forward for the API facade, as upstream kubelet
 * serves them when it does not redirect (pkg/kubelet/server/server.go
 * getExec/getAttach/getPortForward and proxyStream, with
 * pkg/kubelet/cri/streaming): ask the runtime for a streaming URL (CRI
 * Exec/Attach/PortForward), connect to it, replay the client's upgrade
 * request there, and copy bytes both ways until either side is done. The
 * upgraded protocol (SPDY/3.1 or WebSocket) passes through untouched. Every
 * socket is non-blocking in the event loop, with bounded buffers. */
#pragma once

#include "apiconn.h"
#include "kubelet-lite/event.h"
#include "lib/jsonq.h"

#define KL_STREAMPROXY_MAX 16
#define KL_STREAMPROXY_BUF (64 * 1024)
#define KL_STREAMPROXY_IDLE_USEC (4 * 3600 * KL_USEC_PER_SEC) /* streamingConnectionIdleTimeout */

struct kl_streamproxy;

int kl_streamproxy_new(struct kl_event *loop, const char *cri_endpoint, struct kl_streamproxy **ret);
struct kl_streamproxy *kl_streamproxy_free(struct kl_streamproxy *p);
/* verb: "exec", "attach" or "portforward"; q/items: the pod list to find
 * namespace/name in. Answers c (an error Status) or takes it over. */
void kl_streamproxy_handle(struct kl_streamproxy *p, struct kl_api_conn *c, const struct kl_api_req *req,
                           const char *ns, const char *name, const char *verb, const struct kl_jsonq *q, int items);
/* Sessions being set up or proxied. */
unsigned kl_streamproxy_sessions(const struct kl_streamproxy *p);

/* Split "http://host:port/path" (host a literal address, IPv6 in brackets). */
int kl_streamproxy_parse_url(const char *url, char *host, size_t hsize, int *port, char *path, size_t psize);
