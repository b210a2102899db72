/* SPDX-License-Identifier: Apache-2.0 */
/* A small, read-mostly Kubernetes API facade of the node's own state, so that
 * the stock kubectl works against one device: discovery, pods (list, get,
 * watch, selectors, Table output), the node, events, pod logs, and
 * exec/attach/port-forward proxied to the runtime's streaming server. Every
 * request needs the bearer token that kl_apiserver_new generates and writes,
 * with the address, into a kubeconfig. Writes get 405. */
#pragma once

#include "kubelet-lite/config.h"
#include "kubelet-lite/event.h"
#include "lib/strbuf.h"

struct kl_pm;
struct kl_recorder;
struct kl_apiserver;

typedef void (*kl_apiserver_node_fn)(struct kl_json *j, void *userdata);

struct kl_apiserver_params {
        struct kl_event *loop;
        const struct kl_config *cfg;
        struct kl_pm *pm;
        struct kl_recorder *recorder;
        kl_apiserver_node_fn render_node; /* a v1 Node */
        void *userdata;
        const char *address; /* listen address */
        int port;            /* 0 picks one */
        const char *kubeconfig_path;
        const char *host_ip; /* also named in the TLS certificate; may be NULL */
};

int kl_apiserver_new(const struct kl_apiserver_params *p, struct kl_apiserver **ret, struct kl_error *reterr);
struct kl_apiserver *kl_apiserver_free(struct kl_apiserver *a);
int kl_apiserver_port(const struct kl_apiserver *a);

/* Write a kubeconfig for server URL, its CA (base64 PEM) and token to path, atomically, mode 0600. */
int kl_apiserver_write_kubeconfig(const char *path, const char *server, const char *ca_data, const char *token);

/* Label selector match (equality-based and set-based "in"/"notin", "k", "!k")
 * against an object's metadata.labels; -EINVAL for a malformed selector. */
struct kl_jsonq;
int kl_apiserver_match_labels(const char *selector, const struct kl_jsonq *q, int obj);
/* Field selector ("a.b=v,c!=w") against an object; -EINVAL when malformed. */
int kl_apiserver_match_fields(const char *selector, const struct kl_jsonq *q, int obj);
