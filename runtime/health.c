/* SPDX-License-Identifier: Apache-2.0 */
/* grpc.health.v1 Check over runtime/grpc. See health.h. */
#include "health.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/macros.h"
#include "runtime/grpc.h"
#include "runtime/health.pb-c.h"

struct kl_health {
        struct kl_grpc *g;
        int64_t timeout_ms;
        bool inflight;
        bool dispatching, dead; /* freed from inside its own callback */
        kl_health_fn fn;
        void *userdata;
};

static const struct kl_grpc_method check_method = {
        .path = "/grpc.health.v1.Health/Check",
        .name = "Check",
        .reply = &grpc__health__v1__health_check_response__descriptor,
};

int kl_health_new(const char *host, int port, struct kl_health **ret, struct kl_error *reterr) {
        unsigned char buf[sizeof(struct in6_addr)];
        char target[128];
        struct kl_health *h;
        int r;

        if (!host || port < 1 || port > 65535)
                return kl_error_set(reterr, EINVAL, "invalid address");
        /* grpc's "ipv4:"/"ipv6:" targets take literals only: no resolver, no DNS */
        if (inet_pton(AF_INET, host, buf) == 1)
                snprintf(target, sizeof(target), "ipv4:%s:%d", host, port);
        else if (inet_pton(AF_INET6, host, buf) == 1)
                snprintf(target, sizeof(target), "ipv6:[%s]:%d", host, port);
        else
                return kl_error_set(reterr, EINVAL, "host '%s' is not an IP address", host);

        h = calloc(1, sizeof(*h));
        if (!h)
                return kl_error_set(reterr, ENOMEM, "out of memory");
        r = kl_grpc_new(target, &h->g, reterr);
        if (r < 0) {
                free(h);
                return r;
        }
        *ret = h;
        return 0;
}

struct kl_health *kl_health_free(struct kl_health *h) {
        if (!h)
                return NULL;
        if (h->dispatching) {
                /* kl_grpc_dispatch() is still on the stack: free on its return */
                kl_grpc_forget_pending(h->g);
                h->dead = true;
                return NULL;
        }
        kl_grpc_free(h->g);
        free(h);
        return NULL;
}

int kl_health_fd(struct kl_health *h) {
        return h ? kl_grpc_event_fd(h->g) : -EBADF;
}

/* Go's time.Duration String() for whole milliseconds: "1s", "1.5s", "500ms". */
static void format_timeout(char *buf, size_t n, int64_t ms) {
        if (ms < 1000)
                snprintf(buf, n, "%lldms", (long long) ms);
        else if (ms % 1000 == 0)
                snprintf(buf, n, "%llds", (long long) (ms / 1000));
        else {
                snprintf(buf, n, "%lld.%03llds", (long long) (ms / 1000), (long long) (ms % 1000));
                /* Go drops trailing zeros of the fraction */
                char *s = strchr(buf, 's'), *p = s - 1;
                while (*p == '0')
                        p--;
                memmove(p + 1, s, 2);
        }
}

static void on_reply(int r, const struct kl_error *err, ProtobufCMessage *reply, void *userdata) {
        struct kl_health *h = userdata;
        char msg[KL_ERROR_MSG_MAX + 128], t[32];
        bool healthy = false;

        h->inflight = false;
        if (r >= 0) {
                const Grpc__Health__V1__HealthCheckResponse *resp = (const void *) reply;
                const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
                        &grpc__health__v1__health_check_response__serving_status__descriptor, (int) resp->status);
                healthy = resp->status == GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
                if (healthy)
                        snprintf(msg, sizeof(msg), "service healthy");
                else if (v)
                        snprintf(msg, sizeof(msg), "service unhealthy (responded with \"%s\")", v->name);
                else
                        snprintf(msg, sizeof(msg), "service unhealthy (responded with \"%d\")", (int) resp->status);
        } else if (r == -EOPNOTSUPP) {
                const char *d = strstr(err->msg, "UNIMPLEMENTED: ");
                snprintf(msg, sizeof(msg),
                         "error: this server does not implement the grpc health protocol (grpc.health.v1.Health): %s",
                         d ? d + strlen("UNIMPLEMENTED: ") : err->msg);
        } else if (r == -ETIMEDOUT) {
                format_timeout(t, sizeof(t), h->timeout_ms);
                snprintf(msg, sizeof(msg), "timeout: health rpc did not complete within %s", t);
        } else
                snprintf(msg, sizeof(msg), "error: health rpc probe failed: %s", err ? err->msg : strerror(-r));
        h->fn(healthy, msg, h->userdata);
}

int kl_health_check_async(struct kl_health *h, const char *service, int64_t timeout_ms, kl_health_fn fn, void *userdata,
                          struct kl_error *reterr) {
        Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
        int r;

        if (!h || !fn)
                return kl_error_set(reterr, EINVAL, "invalid argument");
        if (h->inflight)
                return kl_error_set(reterr, EBUSY, "a health check is in flight");
        req.service = (char *) strempty(service);
        h->timeout_ms = timeout_ms > 0 ? timeout_ms : 1000;
        h->fn = fn;
        h->userdata = userdata;
        r = kl_grpc_call_async(h->g, &check_method, &req.base, h->timeout_ms, on_reply, h, reterr);
        if (r >= 0)
                h->inflight = true;
        return r;
}

int kl_health_dispatch(struct kl_health *h) {
        int n;

        if (!h)
                return 0;
        h->dispatching = true;
        n = kl_grpc_dispatch(h->g);
        h->dispatching = false;
        if (h->dead)
                kl_health_free(h);
        return n;
}

void kl_health_cancel(struct kl_health *h) {
        if (!h)
                return;
        kl_grpc_forget_pending(h->g);
        h->inflight = false;
}
