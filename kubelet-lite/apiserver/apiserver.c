/* SPDX-License-Identifier: Apache-2.0 */
#include "apiserver.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apiconn.h"
#include "apidiscovery.h"
#include "apilogs.h"
#include "apitable.h"
#include "lib/jsonq.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/macros.h"
#include "kubelet-lite/logs/podlogs.h"
#include "kubelet-lite/pod/manager.h"
#include "kubelet-lite/recorder.h"
#include "streamproxy.h"
#include "tlscert.h"

#define MAX_JSON_NODES 200000
#define WATCH_POLL_USEC (500 * KL_USEC_PER_MSEC)
#define MAX_WATCHES 32

struct prev_pod {
        char *key; /* namespace/name */
        char *text;
};

struct watch {
        struct kl_apiserver *a;
        struct kl_api_conn *c;
        bool table;
        char ns[254], labels[512], fields[512];
        struct watch *prev, *next;
};

struct kl_apiserver {
        struct kl_apiserver_params p;
        char token[65];
        struct kl_api_server *srv;
        uint64_t rv;
        struct prev_pod *prev;
        size_t n_prev;
        struct watch *watches;
        unsigned n_watches;
        struct kl_apilogs *logs;
        struct kl_event_timer *watch_timer;
        struct kl_streamproxy *proxy;
        struct kl_tls *tls;
        int64_t start_nsec;
};

/* A rendered list (PodList, EventList) parsed, with its items. */
struct snap {
        struct kl_json j;
        struct kl_jsonq q;
        int items; /* node of "items" */
};

static void snap_done(struct snap *s) {
        kl_jsonq_done(&s->q);
        kl_buf_free_contents(&s->j.buf);
}

static int snap_parse(struct snap *s) {
        if (s->j.buf.oom || !s->j.buf.data)
                return -ENOMEM;
        int r = kl_jsonq_parse(s->j.buf.data, s->j.buf.len, MAX_JSON_NODES, &s->q);
        if (r < 0)
                return r;
        s->items = kl_jsonq_get(&s->q, 0, "items");
        return 0;
}

#define FOREACH_ITEM(s, it) \
        for (int it = (s)->items >= 0 ? (s)->q.nodes[(s)->items].child : -1; it >= 0; it = (s)->q.nodes[it].next)

/* ---- responses -------------------------------------------------------------- */

static void respond_buf(struct kl_api_conn *c, struct kl_buf *b) {
        if (b->oom)
                return kl_api_respond_status(c, 500, NULL, NULL, "out of memory");
        kl_api_conn_respond(c, 200, "application/json", b->data ? b->data : "", b->len);
}

static bool wants_table(const struct kl_api_req *req) {
        return strstr(req->accept, "as=Table") != NULL;
}

/* ---- selectors ---------------------------------------------------------------- */

static bool label_value(const struct kl_jsonq *q, int obj, const char *key, char *buf, size_t size) {
        int labels = kl_jsonq_path(q, obj, "metadata.labels");
        buf[0] = '\0';
        if (labels < 0)
                return false;
        size_t kl = strlen(key);
        for (int c = q->nodes[labels].child; c >= 0; c = q->nodes[c].next)
                if (q->nodes[c].key_len == kl && memcmp(q->text + q->nodes[c].key_start, key, kl) == 0)
                        return kl_jsonq_str(q, c, buf, size);
        return false;
}

static void trim(char *s) {
        size_t n = strlen(s), i = 0;
        while (n > 0 && s[n - 1] == ' ')
                s[--n] = '\0';
        while (s[i] == ' ')
                i++;
        memmove(s, s + i, n - i + 1);
}

/* Splits on commas outside parentheses. */
static const char *next_term(const char *s, char *term, size_t size) {
        int depth = 0;
        size_t o = 0;
        for (; *s && !(*s == ',' && depth == 0); s++) {
                depth += *s == '(' ? 1 : *s == ')' ? -1 : 0;
                if (o + 1 < size)
                        term[o++] = *s;
        }
        term[o] = '\0';
        trim(term);
        return *s ? s + 1 : NULL;
}

/* upstream labels.Parse, the common forms */
int kl_apiserver_match_labels(const char *sel, const struct kl_jsonq *q, int obj) {
        char term[512], val[512];
        for (const char *p = sel; p && *p;) {
                p = next_term(p, term, sizeof(term));
                if (!term[0])
                        continue;
                char *op;
                if (term[0] == '!') { /* !key */
                        trim(term + 1);
                        if (label_value(q, obj, term + 1, val, sizeof(val)))
                                return 0;
                } else if ((op = strstr(term, " notin ")) || (op = strstr(term, " in "))) {
                        bool notin = op[1] == 'n';
                        *op = '\0';
                        char *set = op + (notin ? 7 : 4);
                        trim(term);
                        trim(set);
                        size_t sl = strlen(set);
                        if (sl < 2 || set[0] != '(' || set[sl - 1] != ')')
                                return -EINVAL;
                        set[sl - 1] = '\0';
                        bool has = label_value(q, obj, term, val, sizeof(val)), found = false;
                        char item[256];
                        for (const char *s = set + 1; s && *s;) {
                                s = next_term(s, item, sizeof(item));
                                if (has && streq(item, val))
                                        found = true;
                        }
                        if (notin ? found : !found)
                                return 0;
                } else if ((op = strstr(term, "!="))) {
                        *op = '\0';
                        char *v = op + 2;
                        trim(term);
                        trim(v);
                        if (label_value(q, obj, term, val, sizeof(val)) && streq(val, v))
                                return 0;
                } else if ((op = strchr(term, '='))) {
                        char *v = op + (op[1] == '=' ? 2 : 1);
                        *op = '\0';
                        trim(term);
                        trim(v);
                        if (!term[0])
                                return -EINVAL;
                        if (!label_value(q, obj, term, val, sizeof(val)) || !streq(val, v))
                                return 0;
                } else if (strpbrk(term, " ()<>"))
                        return -EINVAL;
                else if (!label_value(q, obj, term, val, sizeof(val))) /* key exists */
                        return 0;
        }
        return 1;
}

/* upstream fields.ParseSelector: "a=b", "a==b", "a!=b"; the field is a path in the object */
int kl_apiserver_match_fields(const char *sel, const struct kl_jsonq *q, int obj) {
        char term[512], val[512];
        for (const char *p = sel; p && *p;) {
                p = next_term(p, term, sizeof(term));
                if (!term[0])
                        continue;
                char *op = strstr(term, "!=");
                bool neg = op != NULL;
                if (!op)
                        op = strchr(term, '=');
                if (!op || op == term)
                        return -EINVAL;
                char *v = op + (neg ? 2 : op[1] == '=' ? 2 : 1);
                *op = '\0';
                trim(term);
                trim(v);
                kl_jsonq_path_str(q, obj, term, val, sizeof(val));
                if (streq(val, v) == neg)
                        return 0;
        }
        return 1;
}

/* 1 when the item passes the request's namespace and selectors; -EINVAL for a bad selector. */
static int selected(const struct snap *s, int it, const char *ns, const char *labels, const char *fields) {
        char v[256];
        if (ns && !streq(kl_jsonq_path_str(&s->q, it, "metadata.namespace", v, sizeof(v)), ns))
                return 0;
        int r = kl_apiserver_match_labels(labels, &s->q, it);
        if (r <= 0)
                return r;
        return kl_apiserver_match_fields(fields, &s->q, it);
}

/* An item of a list, made a whole object again: upstream's lists leave out
 * kind and apiVersion on their items, a GET or a watch event has them. */
static void copy_object(const struct kl_jsonq *q, int obj, const char *kind, struct kl_buf *b) {
        if (kl_jsonq_get(q, obj, "kind") >= 0 || q->nodes[obj].type != KL_JSONQ_OBJECT) {
                kl_jsonq_copy(q, obj, b);
                return;
        }
        kl_buf_printf(b, "{\"kind\":\"%s\",\"apiVersion\":\"v1\"%s", kind, q->nodes[obj].child >= 0 ? "," : "");
        kl_buf_append(b, q->text + q->nodes[obj].start + 1, q->nodes[obj].len - 1);
}

/* ---- pods, watch ---------------------------------------------------------------- */

/* false when the watcher was dropped (and freed) */
static bool watch_send(struct watch *w, const char *type, const struct kl_jsonq *q, int obj);

/* Render the pods, and tell watchers what changed since the last time. */
static int pods_snapshot(struct kl_apiserver *a, struct snap *s) {
        *s = (struct snap){.items = -1};
        kl_pm_render_pods(a->p.pm, &s->j);
        int r = snap_parse(s);
        if (r < 0)
                return r;
        bool changed = false;
        size_t n = 0;
        FOREACH_ITEM(s, it) n++;
        struct prev_pod *cur = calloc(n ? n : 1, sizeof(*cur));
        if (!cur)
                return -ENOMEM;
        size_t i = 0;
        FOREACH_ITEM(s, it) {
                char ns[256], name[256];
                kl_jsonq_path_str(&s->q, it, "metadata.namespace", ns, sizeof(ns));
                kl_jsonq_path_str(&s->q, it, "metadata.name", name, sizeof(name));
                if (asprintf(&cur[i].key, "%s/%s", ns, name) < 0)
                        cur[i].key = NULL;
                cur[i].text = strndup(s->q.text + s->q.nodes[it].start, s->q.nodes[it].len);
                const char *type = "ADDED";
                for (size_t k = 0; k < a->n_prev; k++)
                        if (a->prev[k].key && cur[i].key && streq(a->prev[k].key, cur[i].key)) {
                                type = a->prev[k].text && cur[i].text && streq(a->prev[k].text, cur[i].text)
                                               ? NULL
                                               : "MODIFIED";
                                break;
                        }
                if (type) {
                        if (!changed)
                                a->rv++;
                        changed = true;
                        for (struct watch *w = a->watches, *wn; w; w = wn) {
                                wn = w->next;
                                if (selected(s, it, w->ns[0] ? w->ns : NULL, w->labels, w->fields) > 0)
                                        (void) watch_send(w, type, &s->q, it);
                        }
                }
                i++;
        }
        for (size_t k = 0; k < a->n_prev; k++) {
                bool gone = true;
                for (size_t m = 0; m < n && gone; m++)
                        gone = !(cur[m].key && a->prev[k].key && streq(cur[m].key, a->prev[k].key));
                if (gone && a->prev[k].text) {
                        if (!changed)
                                a->rv++;
                        changed = true;
                        struct kl_jsonq pq;
                        if (kl_jsonq_parse(a->prev[k].text, strlen(a->prev[k].text), MAX_JSON_NODES, &pq) == 0) {
                                struct snap ps = {.q = pq, .items = -1};
                                for (struct watch *w = a->watches, *wn; w; w = wn) {
                                        wn = w->next;
                                        if (selected(&ps, 0, w->ns[0] ? w->ns : NULL, w->labels, w->fields) > 0)
                                                (void) watch_send(w, "DELETED", &pq, 0);
                                }
                                kl_jsonq_done(&pq);
                        }
                }
                free(a->prev[k].key);
                free(a->prev[k].text);
        }
        free(a->prev);
        a->prev = cur;
        a->n_prev = n;
        return 0;
}

static void watch_free(struct watch *w) {
        if (w->prev)
                w->prev->next = w->next;
        else
                w->a->watches = w->next;
        if (w->next)
                w->next->prev = w->prev;
        w->a->n_watches--;
        free(w);
}

static void watch_closed(struct kl_api_conn *c, void *userdata) {
        watch_free(userdata);
}

static bool watch_send(struct watch *w, const char *type, const struct kl_jsonq *q, int obj) {
        struct kl_buf b = {};
        char rv[32];
        snprintf(rv, sizeof(rv), "%llu", (unsigned long long) w->a->rv);
        kl_buf_printf(&b, "{\"type\":\"%s\",\"object\":", type);
        if (w->table) {
                kl_apitable_begin(&b, KL_APITABLE_POD, rv);
                kl_apitable_row(&b, KL_APITABLE_POD, q, obj, true, kl_realtime_nsec() / 1000000000LL);
                kl_apitable_end(&b);
        } else
                copy_object(q, obj, "Pod", &b);
        kl_buf_puts(&b, "}\n");
        /* A watcher that does not keep up is dropped; kubectl re-lists and watches again. */
        bool ok = !b.oom && kl_api_conn_write(w->c, b.data, b.len) >= 0;
        kl_buf_free_contents(&b);
        if (!ok) {
                kl_api_conn_end(w->c);
                kl_api_conn_on_close(w->c, NULL, NULL);
                watch_free(w);
        }
        return ok;
}

static void on_watch_timer(struct kl_event_timer *t, uint64_t now, void *userdata) {
        struct kl_apiserver *a = userdata;
        if (!a->watches)
                return;
        struct snap s;
        (void) pods_snapshot(a, &s);
        snap_done(&s);
        kl_event_timer_set(t, now + WATCH_POLL_USEC);
}

static void start_watch(struct kl_apiserver *a, struct kl_api_conn *c, const struct kl_api_req *req, const char *ns,
                        const char *labels, const char *fields, struct snap *s) {
        char rv[32];
        if (a->n_watches >= MAX_WATCHES)
                return kl_api_respond_status(c, 503, NULL, NULL, "too many watches");
        struct watch *w = calloc(1, sizeof(*w));
        if (!w)
                return kl_api_respond_status(c, 500, NULL, NULL, "out of memory");
        *w = (struct watch){.a = a, .c = c, .table = wants_table(req)};
        snprintf(w->ns, sizeof(w->ns), "%s", ns ? ns : "");
        snprintf(w->labels, sizeof(w->labels), "%s", labels);
        snprintf(w->fields, sizeof(w->fields), "%s", fields);
        w->next = a->watches;
        if (a->watches)
                a->watches->prev = w;
        a->watches = w;
        a->n_watches++;
        kl_api_conn_stream_begin(c, 200, "application/json", NULL, NULL);
        kl_api_conn_on_close(c, watch_closed, w);
        /* Without a resourceVersion, or with one we cannot replay from: the current state as ADDED. */
        bool from_now = kl_api_query_get(req->query, "resourceVersion", rv, sizeof(rv)) &&
                        strtoull(rv, NULL, 10) == a->rv && !streq(rv, "0");
        if (!from_now)
                FOREACH_ITEM(s, it) {
                        if (selected(s, it, ns, labels, fields) > 0 && !watch_send(w, "ADDED", &s->q, it))
                                return;
                }
        if (kl_event_timer_deadline(a->watch_timer) == KL_USEC_INFINITY)
                kl_event_timer_set(a->watch_timer, kl_now_usec() + WATCH_POLL_USEC);
}

static bool query_bool(const char *query, const char *key) {
        char v[16];
        return kl_api_query_get(query, key, v, sizeof(v)) && (streq(v, "true") || streq(v, "1"));
}

/* The node; without a creationTimestamp of its own it gets the facade's
 * start, as a registered Node has the time it was first registered
 * (kubectl shows it as AGE and in describe). */
static void render_node(struct kl_apiserver *a, struct kl_json *out) {
        struct kl_json j = {};
        struct kl_jsonq q;
        a->p.render_node(&j, a->p.userdata);
        if (j.buf.oom || !j.buf.data || kl_jsonq_parse(j.buf.data, j.buf.len, MAX_JSON_NODES, &q) < 0) {
                kl_buf_puts(&out->buf, "{}");
                kl_buf_free_contents(&j.buf);
                return;
        }
        int md = kl_jsonq_get(&q, 0, "metadata");
        if (md < 0 || q.nodes[md].type != KL_JSONQ_OBJECT || kl_jsonq_get(&q, md, "creationTimestamp") >= 0)
                kl_buf_append(&out->buf, j.buf.data, j.buf.len);
        else {
                size_t at = q.nodes[md].start + 1;
                struct kl_json t = {};
                kl_json_begin_object(&t);
                kl_json_kv_time(&t, "creationTimestamp", a->start_nsec);
                kl_json_end_object(&t);
                kl_buf_append(&out->buf, j.buf.data, at);
                if (t.buf.data && t.buf.len > 2)
                        kl_buf_append(&out->buf, t.buf.data + 1, t.buf.len - 2);
                if (q.nodes[md].child >= 0)
                        kl_buf_puts(&out->buf, ",");
                kl_buf_append(&out->buf, j.buf.data + at, j.buf.len - at);
                kl_buf_free_contents(&t.buf);
        }
        kl_jsonq_done(&q);
        kl_buf_free_contents(&j.buf);
}

enum res {
        R_PODS,
        R_NODES,
        R_EVENTS
};

static void list_objects(struct kl_apiserver *a, struct kl_api_conn *c, const struct kl_api_req *req, enum res res,
                         const char *ns, const char *name) {
        char labels[512] = "", fields[512] = "", rv[32], v[256];
        struct snap s = {.items = -1};
        struct kl_buf b = {};
        int r;
        static const char *const kinds[] = {"pods", "nodes", "events"};
        static const char *const list_kinds[] = {"PodList", "NodeList", "EventList"};
        enum kl_apitable_kind tk = res == R_PODS    ? KL_APITABLE_POD
                                   : res == R_NODES ? KL_APITABLE_NODE
                                                    : KL_APITABLE_EVENT;

        (void) kl_api_query_get(req->query, "labelSelector", labels, sizeof(labels));
        (void) kl_api_query_get(req->query, "fieldSelector", fields, sizeof(fields));
        if (res == R_PODS)
                r = pods_snapshot(a, &s);
        else if (res == R_EVENTS) {
                kl_recorder_render(a->p.recorder, NULL, NULL, NULL, &s.j);
                r = snap_parse(&s);
        } else {
                /* A NodeList of our one node. */
                kl_buf_puts(&s.j.buf, "{\"kind\":\"NodeList\",\"apiVersion\":\"v1\",\"metadata\":{},\"items\":[");
                render_node(a, &s.j);
                kl_buf_puts(&s.j.buf, "]}");
                r = snap_parse(&s);
        }
        if (r < 0) {
                snap_done(&s);
                return kl_api_respond_status(c, 500, NULL, NULL, "rendering %s: %s", kinds[res], strerror(-r));
        }
        snprintf(rv, sizeof(rv), "%llu",
                 (unsigned long long) (res == R_EVENTS ? kl_recorder_version(a->p.recorder) : a->rv));

        if (name) { /* one object */
                FOREACH_ITEM(&s, it) {
                        if (!streq(kl_jsonq_path_str(&s.q, it, "metadata.name", v, sizeof(v)), name) ||
                            selected(&s, it, ns, "", "") <= 0)
                                continue;
                        if (wants_table(req)) {
                                kl_apitable_begin(&b, tk, rv);
                                kl_apitable_row(&b, tk, &s.q, it, true, kl_realtime_nsec() / 1000000000LL);
                                kl_apitable_end(&b);
                        } else
                                copy_object(&s.q, it, res == R_PODS ? "Pod" : res == R_NODES ? "Node" : "Event", &b);
                        respond_buf(c, &b);
                        goto out;
                }
                kl_api_respond_status(c, 404, kinds[res], name, "%s \"%s\" not found", kinds[res], name);
                goto out;
        }
        if (query_bool(req->query, "watch")) {
                if (res != R_PODS) {
                        kl_api_respond_status(c, 405, NULL, NULL, "watch is only served for pods");
                        goto out;
                }
                if (kl_apiserver_match_labels(labels, &s.q, -1) < 0 ||
                    kl_apiserver_match_fields(fields, &s.q, -1) < 0) {
                        kl_api_respond_status(c, 400, NULL, NULL, "invalid selector");
                        goto out;
                }
                start_watch(a, c, req, ns, labels, fields, &s);
                goto out;
        }
        bool table = wants_table(req), first = true;
        if (table)
                kl_apitable_begin(&b, tk, rv);
        else {
                kl_buf_printf(
                        &b,
                        "{\"kind\":\"%s\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"%s\"},\"items\":[",
                        list_kinds[res], rv);
        }
        int64_t now = kl_realtime_nsec() / 1000000000LL;
        FOREACH_ITEM(&s, it) {
                r = selected(&s, it, ns, labels, fields);
                if (r < 0) {
                        kl_api_respond_status(c, 400, NULL, NULL,
                                              "invalid selector: labelSelector '%s', fieldSelector '%s'", labels,
                                              fields);
                        goto out;
                }
                if (r == 0)
                        continue;
                if (table)
                        kl_apitable_row(&b, tk, &s.q, it, first, now);
                else {
                        if (!first)
                                kl_buf_puts(&b, ",");
                        kl_jsonq_copy(&s.q, it, &b);
                }
                first = false;
        }
        if (table)
                kl_apitable_end(&b);
        else
                kl_buf_puts(&b, "]}");
        respond_buf(c, &b);
out:
        kl_buf_free_contents(&b);
        snap_done(&s);
}

/* ---- routing -------------------------------------------------------------------------- */

static bool token_ok(const struct kl_apiserver *a, const char *authz) {
        if (strncasecmp(authz, "Bearer ", 7) != 0)
                return false;
        const char *t = authz + 7;
        size_t n = strlen(t), m = strlen(a->token);
        unsigned char diff = (unsigned char) (n != m);
        for (size_t i = 0; i < m; i++) /* constant time in the token's length */
                diff |= (unsigned char) (a->token[i] ^ (i < n ? t[i] : 0));
        return diff == 0;
}

/* Path segments: names never contain '/', and "." and ".." are refused. */
static int split_path(char *path, char **seg, int max) {
        int n = 0;
        for (char *p = strtok(path, "/"); p; p = strtok(NULL, "/")) {
                if (n == max || streq(p, ".") || streq(p, ".."))
                        return -EINVAL;
                seg[n++] = p;
        }
        return n;
}

static void handle(struct kl_api_conn *c, const struct kl_api_req *req, void *userdata) {
        struct kl_apiserver *a = userdata;
        char path[sizeof(req->path)], *seg[8];

        /* /version is public, as upstream's system:public-info-viewer role makes it */
        if (streq(req->path, "/version") && (streq(req->method, "GET") || streq(req->method, "HEAD")))
                return kl_apidiscovery_serve(c, "/version", a->p.address, kl_api_server_port(a->srv));
        if (!token_ok(a, req->authorization))
                return kl_api_respond_status(c, 401, NULL, NULL, "Unauthorized");
        bool get = streq(req->method, "GET") || streq(req->method, "HEAD");
        snprintf(path, sizeof(path), "%s", req->path);
        int n = split_path(path, seg, (int) ELEMENTSOF(seg));
        if (n < 0)
                return kl_api_respond_status(c, 404, NULL, NULL, "the server could not find the requested resource");

        /* /api/v1/namespaces/{ns}/pods/{name}/{exec|attach|portforward}: an upgrade */
        if (n == 7 && streq(seg[0], "api") && streq(seg[1], "v1") && streq(seg[2], "namespaces") &&
            streq(seg[4], "pods") &&
            (streq(seg[6], "exec") || streq(seg[6], "attach") || streq(seg[6], "portforward"))) {
                if (!streq(req->method, "POST") && !streq(req->method, "GET"))
                        return kl_api_respond_status(c, 405, NULL, NULL, "%s is not allowed on %s", req->method,
                                                     seg[6]);
                struct snap s;
                int r = pods_snapshot(a, &s);
                if (r < 0) {
                        snap_done(&s);
                        return kl_api_respond_status(c, 500, NULL, NULL, "rendering pods: %s", strerror(-r));
                }
                kl_streamproxy_handle(a->proxy, c, req, seg[3], seg[5], seg[6], &s.q, s.items);
                snap_done(&s);
                return;
        }
        if (!get)
                return kl_api_respond_status(
                        c, 405, NULL, NULL,
                        "kubelet-lite serves static pods: the API is read-only; %s is not allowed. "
                        "Edit the manifests in '%s' instead",
                        req->method, a->p.cfg->static_pod_path);
        if (n == 1 && (streq(seg[0], "api") || streq(seg[0], "apis") || streq(seg[0], "version")))
                return kl_apidiscovery_serve(c, req->path, a->p.address, kl_api_server_port(a->srv));
        if (n == 2 && streq(seg[0], "api") && streq(seg[1], "v1"))
                return kl_apidiscovery_serve(c, "/api/v1", a->p.address, kl_api_server_port(a->srv));
        if (n >= 2 && n <= 3 && streq(seg[0], "apis") && streq(seg[1], "coordination.k8s.io") &&
            (n == 2 || streq(seg[2], "v1")))
                return kl_apidiscovery_serve(c, n == 2 ? "/apis/coordination.k8s.io" : "/apis/coordination.k8s.io/v1",
                                             a->p.address, kl_api_server_port(a->srv));
        if (n == 7 && streq(seg[0], "apis") && streq(seg[1], "coordination.k8s.io") && streq(seg[2], "v1") &&
            streq(seg[3], "namespaces") && streq(seg[4], "kube-node-lease") && streq(seg[5], "leases"))
                return kl_apidiscovery_lease(c, a->p.cfg->node_name, seg[6], a->start_nsec);
        if (n < 3 || !streq(seg[0], "api") || !streq(seg[1], "v1"))
                return kl_api_respond_status(c, 404, NULL, NULL, "the server could not find the requested resource");

        const char *ns = NULL;
        char **r = seg + 2;
        int rn = n - 2;
        if (streq(r[0], "namespaces") && rn >= 3) {
                ns = r[1];
                r += 2;
                rn -= 2;
        }
        if (streq(r[0], "pods") && rn <= 2)
                return list_objects(a, c, req, R_PODS, ns, rn == 2 ? r[1] : NULL);
        if (streq(r[0], "events") && rn <= 2)
                return list_objects(a, c, req, R_EVENTS, ns, rn == 2 ? r[1] : NULL);
        if (streq(r[0], "nodes") && rn <= 2 && !ns)
                return list_objects(a, c, req, R_NODES, NULL, rn == 2 ? r[1] : NULL);
        if (ns && streq(r[0], "pods") && rn == 3 && streq(r[2], "log")) {
                struct snap s;
                if (pods_snapshot(a, &s) < 0)
                        kl_api_respond_status(c, 500, NULL, NULL, "rendering pods failed");
                else
                        kl_apilogs_serve(a->logs, c, req, ns, r[1], &s.q, s.items);
                snap_done(&s);
                return;
        }
        kl_api_respond_status(c, 404, NULL, NULL, "the server could not find the requested resource");
}

/* ---- setup ---------------------------------------------------------------------------- */

int kl_apiserver_write_kubeconfig(const char *path, const char *server, const char *ca_data, const char *token) {
        char tmp[4096];
        int r = 0;
        if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int) sizeof(tmp))
                return -ENAMETOOLONG;
        (void) unlink(tmp);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        FILE *f = fdopen(fd, "w");
        if (!f) {
                r = -errno;
                close(fd);
                unlink(tmp);
                return r;
        }
        fprintf(f,
                "# Written by kubelet-lite for its API facade; regenerated with a new token at every start.\n"
                "apiVersion: v1\nkind: Config\n"
                "clusters:\n- name: kubelet-lite\n  cluster:\n    server: %s\n    certificate-authority-data: %s\n"
                "users:\n- name: kubelet-lite\n  user:\n    token: %s\n"
                "contexts:\n- name: kubelet-lite\n  context:\n    cluster: kubelet-lite\n    user: kubelet-lite\n"
                "    namespace: default\n"
                "current-context: kubelet-lite\n",
                server, ca_data, token);
        if (fflush(f) != 0 || fsync(fileno(f)) < 0)
                r = -errno;
        if (fclose(f) != 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return r;
        }
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash) {
                *slash = '\0';
                int dfd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd >= 0) {
                        (void) fsync(dfd);
                        close(dfd);
                }
        }
        return 0;
}

int kl_apiserver_new(const struct kl_apiserver_params *p, struct kl_apiserver **ret, struct kl_error *reterr) {
        unsigned char rnd[32];
        int r;

        if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t) sizeof(rnd))
                return kl_error_set(reterr, -errno, "getrandom: %s", strerror(errno));
        struct kl_apiserver *a = calloc(1, sizeof(*a));
        if (!a)
                return kl_error_set(reterr, -ENOMEM, "out of memory");
        a->p = *p;
        a->rv = 1;
        a->start_nsec = kl_realtime_nsec();
        for (size_t i = 0; i < sizeof(rnd); i++)
                snprintf(a->token + 2 * i, 3, "%02x", rnd[i]);
        const char *names[] = {"localhost", p->cfg->node_name, NULL};
        const char *ips[] = {"127.0.0.1", "::1", NULL, NULL};
        size_t ni = 2;
        if (p->host_ip && *p->host_ip && !streq(p->host_ip, "127.0.0.1"))
                ips[ni++] = p->host_ip;
        if (!p->cfg->node_name || !*p->cfg->node_name)
                names[1] = NULL;
        r = kl_tls_new(names, ips, &a->tls, reterr);
        if (r < 0)
                goto fail;
        r = kl_api_server_new(p->loop, p->address, p->port, kl_tls_server_ctx(a->tls), handle, a, &a->srv);
        if (r < 0) {
                kl_error_set(reterr, r, "listening on %s:%d: %s", p->address, p->port, strerror(-r));
                goto fail;
        }
        r = kl_event_add_timer(p->loop, KL_USEC_INFINITY, on_watch_timer, a, &a->watch_timer);
        if (r < 0 || (r = kl_streamproxy_new(p->loop, p->cfg->container_runtime_endpoint, &a->proxy)) < 0 ||
            (r = kl_apilogs_new(p->loop, p->cfg->pod_logs_dir, &a->logs)) < 0) {
                kl_error_set(reterr, r, "setting up: %s", strerror(-r));
                goto fail;
        }
        char server[128];
        const char *host = p->address;
        if (streq(host, "0.0.0.0") || streq(host, "localhost"))
                host = "127.0.0.1";
        else if (streq(host, "::"))
                host = "::1";
        snprintf(server, sizeof(server), strchr(host, ':') ? "https://[%s]:%d" : "https://%s:%d", host,
                 kl_api_server_port(a->srv));
        r = kl_apiserver_write_kubeconfig(p->kubeconfig_path, server, kl_tls_ca_data(a->tls), a->token);
        if (r < 0) {
                kl_error_set(reterr, r, "writing '%s': %s", p->kubeconfig_path, strerror(-r));
                goto fail;
        }
        *ret = a;
        return 0;
fail:
        kl_apiserver_free(a);
        return r;
}

struct kl_apiserver *kl_apiserver_free(struct kl_apiserver *a) {
        if (!a)
                return NULL;
        kl_api_server_free(a->srv); /* closes every connection: watches and log streams go with them */
        kl_streamproxy_free(a->proxy);
        kl_apilogs_free(a->logs);
        kl_event_timer_free(a->watch_timer);
        kl_tls_free(a->tls);
        for (size_t k = 0; k < a->n_prev; k++) {
                free(a->prev[k].key);
                free(a->prev[k].text);
        }
        free(a->prev);
        explicit_bzero(a->token, sizeof(a->token));
        free(a);
        return NULL;
}

int kl_apiserver_port(const struct kl_apiserver *a) {
        return kl_api_server_port(a->srv);
}
