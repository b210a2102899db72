/* SPDX-License-Identifier: Apache-2.0 */
#include "apidiscovery.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kubelet-lite/event.h"
#include "lib/macros.h"
#include "lib/strbuf.h"

static void respond_buf(struct kl_api_conn *c, struct kl_buf *b) {
        if (b->oom)
                kl_api_respond_status(c, 500, NULL, NULL, "out of memory");
        else
                kl_api_conn_respond(c, 200, "application/json", b->data ? b->data : "", b->len);
}

static const char api_resources[] =
        "{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\",\"groupVersion\":\"v1\",\"resources\":["
        "{\"name\":\"events\",\"singularName\":\"\",\"namespaced\":true,\"kind\":\"Event\",\"verbs\":[\"get\",\"list\"],"
        "\"shortNames\":[\"ev\"]},"
        "{\"name\":\"nodes\",\"singularName\":\"\",\"namespaced\":false,\"kind\":\"Node\",\"verbs\":[\"get\",\"list\"],"
        "\"shortNames\":[\"no\"]},"
        "{\"name\":\"pods\",\"singularName\":\"\",\"namespaced\":true,\"kind\":\"Pod\",\"verbs\":[\"get\",\"list\","
        "\"watch\"],\"shortNames\":[\"po\"],\"categories\":[\"all\"]},"
        "{\"name\":\"pods/attach\",\"singularName\":\"\",\"namespaced\":true,\"kind\":\"PodAttachOptions\",\"verbs\":["
        "\"create\",\"get\"]},"
        "{\"name\":\"pods/exec\",\"singularName\":\"\",\"namespaced\":true,\"kind\":\"PodExecOptions\",\"verbs\":["
        "\"create\",\"get\"]},"
        "{\"name\":\"pods/log\",\"singularName\":\"\",\"namespaced\":true,\"kind\":\"Pod\",\"verbs\":[\"get\"]},"
        "{\"name\":\"pods/portforward\",\"singularName\":\"\",\"namespaced\":true,\"kind\":\"PodPortForwardOptions\","
        "\"verbs\":[\"create\",\"get\"]}]}";

#define LEASE_GROUP_FIELDS                                                                                         \
        "\"name\":\"coordination.k8s.io\",\"versions\":[{\"groupVersion\":\"coordination.k8s.io/v1\",\"version\":" \
        "\"v1\"}],\"preferredVersion\":{\"groupVersion\":\"coordination.k8s.io/v1\",\"version\":\"v1\"}"
#define LEASE_GROUP "{" LEASE_GROUP_FIELDS "}"

/* The node's Lease in kube-node-lease, as upstream's node lease controller
 * keeps it (renewed every 10 s, 40 s duration): this daemon is alive, so it
 * is renewed now. kubectl describe node shows it. */
void kl_apidiscovery_lease(struct kl_api_conn *c, const char *node_name, const char *name, int64_t start_nsec) {
        char now[64];
        struct kl_buf b = {};
        struct kl_json created = {};
        int64_t ns = kl_realtime_nsec();
        time_t t = (time_t) (ns / 1000000000LL);
        struct tm tm;
        if (!node_name || !streq(name, node_name))
                return kl_api_respond_status(c, 404, "leases", name, "leases.coordination.k8s.io \"%s\" not found",
                                             name);
        gmtime_r(&t, &tm);
        /* a MicroTime: exactly six fraction digits */
        size_t n = strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(now + n, sizeof(now) - n, ".%06lldZ", (long long) (ns / 1000 % 1000000));
        kl_json_begin_object(&created);
        kl_json_kv_time(&created, "creationTimestamp", start_nsec);
        kl_json_end_object(&created);
        kl_buf_puts(&b, "{\"kind\":\"Lease\",\"apiVersion\":\"coordination.k8s.io/v1\",\"metadata\":{\"name\":");
        kl_json_escape(&b, name);
        kl_buf_puts(&b, ",\"namespace\":\"kube-node-lease\",");
        if (created.buf.data && created.buf.len > 2)
                kl_buf_append(&b, created.buf.data + 1, created.buf.len - 2);
        kl_buf_puts(&b, "},\"spec\":{\"holderIdentity\":");
        kl_json_escape(&b, name);
        kl_buf_printf(&b, ",\"leaseDurationSeconds\":40,\"renewTime\":\"%s\"}}", now);
        respond_buf(c, &b);
        kl_buf_free_contents(&b);
        kl_buf_free_contents(&created.buf);
}

void kl_apidiscovery_serve(struct kl_api_conn *c, const char *path, const char *address, int port) {
        struct kl_buf b = {};
        if (streq(path, "/api"))
                kl_buf_printf(&b,
                              "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"],\"serverAddressByClientCIDRs\":[{"
                              "\"clientCIDR\":\"0.0.0.0/0\",\"serverAddress\":\"%s:%d\"}]}",
                              address, port);
        else if (streq(path, "/apis"))
                kl_buf_puts(&b, "{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":[" LEASE_GROUP "]}");
        else if (streq(path, "/apis/coordination.k8s.io"))
                kl_buf_puts(&b, "{\"kind\":\"APIGroup\",\"apiVersion\":\"v1\"," LEASE_GROUP_FIELDS "}");
        else if (streq(path, "/apis/coordination.k8s.io/v1"))
                kl_buf_puts(&b, "{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\",\"groupVersion\":"
                                "\"coordination.k8s.io/v1\",\"resources\":[{\"name\":\"leases\",\"singularName\":\"\","
                                "\"namespaced\":true,\"kind\":\"Lease\",\"verbs\":[\"get\"]}]}");
        else if (streq(path, "/api/v1"))
                kl_buf_puts(&b, api_resources);
        else /* /version: what the facade speaks, kubectl 1.20's API */
                kl_buf_printf(&b,
                              "{\"major\":\"1\",\"minor\":\"20\",\"gitVersion\":\"v1.20.0+kubelet-lite-%s\","
                              "\"gitCommit\":\"\",\"gitTreeState\":\"\",\"buildDate\":\"\",\"goVersion\":\"\","
                              "\"compiler\":\"\",\"platform\":\"linux\"}",
                              KL_VERSION);
        respond_buf(c, &b);
        kl_buf_free_contents(&b);
}
