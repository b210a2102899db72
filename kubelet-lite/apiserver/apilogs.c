/* SPDX-License-Identifier: Apache-2.0 */
#include "apilogs.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/macros.h"
#include "lib/strbuf.h"
#include "kubelet-lite/logs/podlogs.h"

#define LOG_POLL_USEC (250 * KL_USEC_PER_MSEC)
#define LOG_CHUNK (64 * 1024)

struct logstream {
        struct kl_apilogs *l;
        struct kl_api_conn *c;
        struct kl_podlogs *pl;
        struct kl_event_timer *timer;
        struct logstream *prev, *next;
};

struct kl_apilogs {
        struct kl_event *loop;
        char *pod_logs_dir;
        struct logstream *streams;
        unsigned n;
};

static void logstream_free(struct logstream *ls) {
        if (ls->prev)
                ls->prev->next = ls->next;
        else
                ls->l->streams = ls->next;
        if (ls->next)
                ls->next->prev = ls->prev;
        ls->l->n--;
        kl_event_timer_free(ls->timer);
        kl_podlogs_free(ls->pl);
        free(ls);
}

static void logstream_closed(struct kl_api_conn *c, void *userdata) {
        logstream_free(userdata);
}

/* Emit what is there while the client keeps up; never more than a bounded
 * amount is buffered, so a slow reader only slows its own stream. */
static void logstream_pump(struct logstream *ls) {
        while (kl_api_conn_pending(ls->c) < 4 * LOG_CHUNK) {
                struct kl_buf b = {};
                int r = kl_podlogs_read(ls->pl, &b, LOG_CHUNK);
                if (b.len > 0 && (b.oom || kl_api_conn_write(ls->c, b.data, b.len) < 0))
                        r = -ENOBUFS;
                kl_buf_free_contents(&b);
                if (r < 0 || r == 2) {
                        struct kl_api_conn *c = ls->c;
                        kl_api_conn_on_close(c, NULL, NULL);
                        logstream_free(ls);
                        kl_api_conn_end(c);
                        return;
                }
                if (r == 0) {
                        kl_event_timer_set(ls->timer, kl_now_usec() + LOG_POLL_USEC);
                        return;
                }
        }
        /* the drain callback resumes */
}

static void logstream_drained(struct kl_api_conn *c, void *userdata) {
        struct logstream *ls = userdata;
        if (kl_event_timer_deadline(ls->timer) == KL_USEC_INFINITY)
                logstream_pump(ls);
}

static void logstream_timer(struct kl_event_timer *t, uint64_t now, void *userdata) {
        struct logstream *ls = userdata;
        kl_event_timer_set(t, KL_USEC_INFINITY);
        logstream_pump(ls);
}

/* The pod's container named want, or its only container when want is "". */
static int pick_container(const struct kl_jsonq *q, int pod, const char *want, char *ret, size_t size, char *names,
                          size_t nsize) {
        static const char *const lists[] = {"spec.containers", "spec.initContainers"};
        char v[256];
        int n = 0;
        names[0] = '\0';
        for (size_t l = 0; l < ELEMENTSOF(lists); l++) {
                int arr = kl_jsonq_path(q, pod, lists[l]);
                for (int c = arr >= 0 ? q->nodes[arr].child : -1; c >= 0; c = q->nodes[c].next) {
                        kl_jsonq_path_str(q, c, "name", v, sizeof(v));
                        if (want[0] && streq(v, want)) {
                                snprintf(ret, size, "%s", v);
                                return 0;
                        }
                        if (l == 0) {
                                if (n++ == 0)
                                        snprintf(ret, size, "%s", v);
                                snprintf(names + strlen(names), nsize - strlen(names), "%s%s", n > 1 ? " " : "", v);
                        }
                }
        }
        if (want[0])
                return -ENOENT;
        return n == 1 ? 0 : -EINVAL;
}

void kl_apilogs_serve(struct kl_apilogs *a, struct kl_api_conn *c, const struct kl_api_req *req, const char *ns,
                      const char *name, const struct kl_jsonq *q, int items) {
        struct kl_podlogs_opts o;
        char want[256], container[256], names[1024], err[256], uid[128], dir[4096];
        int r;

        if (kl_podlogs_parse_query(req->query, &o, want, sizeof(want), err, sizeof(err)) < 0)
                return kl_api_respond_status(c, 400, NULL, NULL, "%s", err);
        for (int it = items >= 0 ? q->nodes[items].child : -1; it >= 0; it = q->nodes[it].next) {
                char v[256];
                if (!streq(kl_jsonq_path_str(q, it, "metadata.name", v, sizeof(v)), name) ||
                    !streq(kl_jsonq_path_str(q, it, "metadata.namespace", v, sizeof(v)), ns))
                        continue;
                r = pick_container(q, it, want, container, sizeof(container), names, sizeof(names));
                if (r == -ENOENT)
                        return kl_api_respond_status(c, 400, NULL, NULL, "container %s is not valid for pod %s", want,
                                                     name);
                if (r < 0)
                        return kl_api_respond_status(
                                c, 400, NULL, NULL,
                                "a container name must be specified for pod %s, choose one of: [%s]", name, names);
                kl_jsonq_path_str(q, it, "metadata.uid", uid, sizeof(uid));
                /* Every part comes from our own pod list, validated names, never from the request. */
                snprintf(dir, sizeof(dir), "%s/%s_%s_%s/%s", a->pod_logs_dir, ns, name, uid, container);
                if (a->n >= KL_APILOGS_MAX_STREAMS)
                        return kl_api_respond_status(c, 503, NULL, NULL, "too many log streams");
                struct logstream *ls = calloc(1, sizeof(*ls));
                if (!ls)
                        return kl_api_respond_status(c, 500, NULL, NULL, "out of memory");
                r = kl_podlogs_open(dir, &o, &ls->pl);
                if (r < 0) {
                        free(ls);
                        if (o.previous)
                                return kl_api_respond_status(
                                        c, 400, NULL, NULL,
                                        "previous terminated container \"%s\" in pod \"%s\" not found", container,
                                        name);
                        return kl_api_respond_status(c, 400, NULL, NULL,
                                                     "container \"%s\" in pod \"%s\" is waiting to start: no log yet",
                                                     container, name);
                }
                if (kl_event_add_timer(a->loop, KL_USEC_INFINITY, logstream_timer, ls, &ls->timer) < 0) {
                        kl_podlogs_free(ls->pl);
                        free(ls);
                        return kl_api_respond_status(c, 500, NULL, NULL, "out of memory");
                }
                ls->l = a;
                ls->c = c;
                ls->next = a->streams;
                if (a->streams)
                        a->streams->prev = ls;
                a->streams = ls;
                a->n++;
                kl_api_conn_stream_begin(c, 200, "text/plain", logstream_drained, ls);
                kl_api_conn_on_close(c, logstream_closed, ls);
                logstream_pump(ls);
                return;
        }
        kl_api_respond_status(c, 404, "pods", name, "pods \"%s\" not found", name);
}

int kl_apilogs_new(struct kl_event *loop, const char *pod_logs_dir, struct kl_apilogs **ret) {
        struct kl_apilogs *l = calloc(1, sizeof(*l));
        if (!l || !(l->pod_logs_dir = strdup(pod_logs_dir))) {
                free(l);
                return -ENOMEM;
        }
        l->loop = loop;
        *ret = l;
        return 0;
}

struct kl_apilogs *kl_apilogs_free(struct kl_apilogs *l) {
        if (!l)
                return NULL;
        while (l->streams) {
                struct kl_api_conn *c = l->streams->c;
                kl_api_conn_on_close(c, NULL, NULL);
                logstream_free(l->streams);
                kl_api_conn_end(c);
        }
        free(l->pod_logs_dir);
        free(l);
        return NULL;
}
