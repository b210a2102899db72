/* SPDX-License-Identifier: Apache-2.0 */
#include "cristream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/macros.h"
#include "runtime/api.pb-c.h"
#include "runtime/grpc.h"

#define RUNTIME_METHOD(var, name, reply_desc) \
        static const struct kl_grpc_method var = {"/runtime.v1.RuntimeService/" name, name, &(reply_desc), NULL}

RUNTIME_METHOD(m_exec, "Exec", runtime__v1__exec_response__descriptor);
RUNTIME_METHOD(m_attach, "Attach", runtime__v1__attach_response__descriptor);
RUNTIME_METHOD(m_port_forward, "PortForward", runtime__v1__port_forward_response__descriptor);
RUNTIME_METHOD(m_list_sandbox, "ListPodSandbox", runtime__v1__list_pod_sandbox_response__descriptor);

struct kl_cristream {
        char *target;
        struct kl_grpc *grpc;
};

struct call {
        struct kl_cristream *s;
        kl_cristream_url_fn cb;
        void *userdata;
        int32_t *ports;
        size_t n_ports;
        int64_t timeout_ms;
};

int kl_cristream_new(const char *endpoint, struct kl_cristream **ret, struct kl_error *reterr) {
        const char *path = endpoint;
        if (strncmp(path, "unix://", 7) == 0)
                path += 7;
        if (path[0] != '/')
                return kl_error_set(reterr, EINVAL, "CRI endpoint '%s': want unix:///absolute/path", endpoint);
        struct kl_cristream *s = calloc(1, sizeof(*s));
        if (!s || asprintf(&s->target, "unix://%s", path) < 0) {
                free(s);
                return kl_error_set(reterr, ENOMEM, "out of memory");
        }
        int r = kl_grpc_new(s->target, &s->grpc, reterr);
        if (r < 0) {
                free(s->target);
                free(s);
                return r;
        }
        *ret = s;
        return 0;
}

struct kl_cristream *kl_cristream_free(struct kl_cristream *s) {
        if (!s)
                return NULL;
        kl_grpc_free(s->grpc);
        free(s->target);
        free(s);
        return NULL;
}

int kl_cristream_event_fd(struct kl_cristream *s) {
        return kl_grpc_event_fd(s->grpc);
}

int kl_cristream_dispatch(struct kl_cristream *s) {
        return kl_grpc_dispatch(s->grpc);
}

static void call_free(struct call *c) {
        free(c->ports);
        free(c);
}

static void on_url(int r, const struct kl_error *err, ProtobufCMessage *reply, void *userdata) {
        struct call *c = userdata;
        const char *url = NULL;
        if (r >= 0) {
                /* Exec, Attach and PortForward responses all hold just url = 1. */
                if (reply->descriptor == &runtime__v1__exec_response__descriptor)
                        url = ((Runtime__V1__ExecResponse *) reply)->url;
                else if (reply->descriptor == &runtime__v1__attach_response__descriptor)
                        url = ((Runtime__V1__AttachResponse *) reply)->url;
                else
                        url = ((Runtime__V1__PortForwardResponse *) reply)->url;
        }
        if (r >= 0 && (!url || !*url)) {
                struct kl_error e = {};
                kl_error_set(&e, EPROTO, "the runtime returned no streaming URL");
                c->cb(-EPROTO, &e, NULL, c->userdata);
        } else
                c->cb(r, err, url, c->userdata);
        call_free(c);
}

static struct call *call_new(struct kl_cristream *s, kl_cristream_url_fn cb, void *userdata, int64_t timeout_ms) {
        struct call *c = calloc(1, sizeof(*c));
        if (c)
                *c = (struct call){.s = s, .cb = cb, .userdata = userdata, .timeout_ms = timeout_ms};
        return c;
}

int kl_cristream_exec(struct kl_cristream *s, const char *container_id, char *const *cmd, size_t n_cmd, bool tty,
                      bool in, bool out, bool err, int64_t timeout_ms, kl_cristream_url_fn cb, void *userdata,
                      struct kl_error *reterr) {
        Runtime__V1__ExecRequest req = RUNTIME__V1__EXEC_REQUEST__INIT;
        req.container_id = (char *) container_id;
        req.cmd = (char **) cmd;
        req.n_cmd = n_cmd;
        req.tty = tty;
        req.stdin = in;
        req.stdout = out;
        req.stderr = err;
        struct call *c = call_new(s, cb, userdata, timeout_ms);
        if (!c)
                return kl_error_set(reterr, ENOMEM, "out of memory");
        int r = kl_grpc_call_async(s->grpc, &m_exec, &req.base, timeout_ms, on_url, c, reterr);
        if (r < 0)
                call_free(c);
        return r;
}

int kl_cristream_attach(struct kl_cristream *s, const char *container_id, bool tty, bool in, bool out, bool err,
                        int64_t timeout_ms, kl_cristream_url_fn cb, void *userdata, struct kl_error *reterr) {
        Runtime__V1__AttachRequest req = RUNTIME__V1__ATTACH_REQUEST__INIT;
        req.container_id = (char *) container_id;
        req.tty = tty;
        req.stdin = in;
        req.stdout = out;
        req.stderr = err;
        struct call *c = call_new(s, cb, userdata, timeout_ms);
        if (!c)
                return kl_error_set(reterr, ENOMEM, "out of memory");
        int r = kl_grpc_call_async(s->grpc, &m_attach, &req.base, timeout_ms, on_url, c, reterr);
        if (r < 0)
                call_free(c);
        return r;
}

static void on_sandboxes(int r, const struct kl_error *err, ProtobufCMessage *reply, void *userdata) {
        struct call *c = userdata;
        struct kl_error e = {};
        if (r < 0) {
                c->cb(r, err, NULL, c->userdata);
                return call_free(c);
        }
        Runtime__V1__ListPodSandboxResponse *resp = (Runtime__V1__ListPodSandboxResponse *) reply;
        const char *id = NULL;
        for (size_t i = 0; i < resp->n_items; i++)
                if (resp->items[i]->state == RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY)
                        id = resp->items[i]->id;
        if (!id) {
                kl_error_set(&e, ENOENT, "the pod has no ready sandbox");
                c->cb(-ENOENT, &e, NULL, c->userdata);
                return call_free(c);
        }
        Runtime__V1__PortForwardRequest req = RUNTIME__V1__PORT_FORWARD_REQUEST__INIT;
        req.pod_sandbox_id = (char *) id;
        req.port = c->ports;
        req.n_port = c->n_ports;
        r = kl_grpc_call_async(c->s->grpc, &m_port_forward, &req.base, c->timeout_ms, on_url, c, &e);
        if (r < 0) {
                c->cb(r, &e, NULL, c->userdata);
                call_free(c);
        }
}

int kl_cristream_port_forward(struct kl_cristream *s, const char *pod_uid, const int32_t *ports, size_t n_ports,
                              int64_t timeout_ms, kl_cristream_url_fn cb, void *userdata, struct kl_error *reterr) {
        Runtime__V1__ListPodSandboxRequest req = RUNTIME__V1__LIST_POD_SANDBOX_REQUEST__INIT;
        Runtime__V1__PodSandboxFilter filter = RUNTIME__V1__POD_SANDBOX_FILTER__INIT;
        Runtime__V1__PodSandboxFilter__LabelSelectorEntry sel =
                RUNTIME__V1__POD_SANDBOX_FILTER__LABEL_SELECTOR_ENTRY__INIT;
        Runtime__V1__PodSandboxFilter__LabelSelectorEntry *selp = &sel;
        sel.key = (char *) "io.kubernetes.pod.uid";
        sel.value = (char *) pod_uid;
        filter.label_selector = &selp;
        filter.n_label_selector = 1;
        req.filter = &filter;
        struct call *c = call_new(s, cb, userdata, timeout_ms);
        if (!c || (n_ports > 0 && !(c->ports = calloc(n_ports, sizeof(int32_t))))) {
                free(c);
                return kl_error_set(reterr, ENOMEM, "out of memory");
        }
        if (n_ports > 0)
                memcpy(c->ports, ports, n_ports * sizeof(int32_t));
        c->n_ports = n_ports;
        int r = kl_grpc_call_async(s->grpc, &m_list_sandbox, &req.base, timeout_ms, on_sandboxes, c, reterr);
        if (r < 0)
                call_free(c);
        return r;
}
