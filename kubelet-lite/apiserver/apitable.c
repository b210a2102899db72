/* SPDX-License-Identifier: Apache-2.0 */
#include "apitable.h"

#include <stdio.h>
#include <string.h>

#include "lib/macros.h"
#include "kubelet-lite/logs/podlogs.h"

void kl_apitable_human_duration(int64_t s, char *buf, size_t size) {
        if (s < -1) {
                snprintf(buf, size, "<invalid>");
                return;
        }
        if (s < 0)
                s = 0;
        if (s < 60 * 2) {
                snprintf(buf, size, "%llds", (long long) s);
                return;
        }
        int64_t m = s / 60, h = s / 3600, d = h / 24;
        if (m < 10) {
                if (s % 60 == 0)
                        snprintf(buf, size, "%lldm", (long long) m);
                else
                        snprintf(buf, size, "%lldm%llds", (long long) m, (long long) (s % 60));
        } else if (m < 60 * 3)
                snprintf(buf, size, "%lldm", (long long) m);
        else if (h < 8) {
                if (m % 60 == 0)
                        snprintf(buf, size, "%lldh", (long long) h);
                else
                        snprintf(buf, size, "%lldh%lldm", (long long) h, (long long) (m % 60));
        } else if (h < 48)
                snprintf(buf, size, "%lldh", (long long) h);
        else if (h < 24 * 8) {
                if (h % 24 == 0)
                        snprintf(buf, size, "%lldd", (long long) d);
                else
                        snprintf(buf, size, "%lldd%lldh", (long long) d, (long long) (h % 24));
        } else if (h < 24 * 365 * 2)
                snprintf(buf, size, "%lldd", (long long) d);
        else if (h < 24 * 365 * 8) {
                int64_t y = d / 365, dy = d % 365;
                if (dy == 0)
                        snprintf(buf, size, "%lldy", (long long) y);
                else
                        snprintf(buf, size, "%lldy%lldd", (long long) y, (long long) dy);
        } else
                snprintf(buf, size, "%lldy", (long long) (d / 365));
}

struct col {
        const char *name, *type, *format;
        int priority;
};

static const struct col pod_cols[] = {
        {"Name", "string", "name", 0},
        {"Ready", "string", "", 0},
        {"Status", "string", "", 0},
        {"Restarts", "integer", "", 0},
        {"Age", "string", "", 0},
        {"IP", "string", "", 1},
        {"Node", "string", "", 1},
        {"Nominated Node", "string", "", 1},
        {"Readiness Gates", "string", "", 1},
};
static const struct col node_cols[] = {
        {"Name", "string", "name", 0},       {"Status", "string", "", 0},
        {"Roles", "string", "", 0},          {"Age", "string", "", 0},
        {"Version", "string", "", 0},        {"Internal-IP", "string", "", 1},
        {"External-IP", "string", "", 1},    {"OS-Image", "string", "", 1},
        {"Kernel-Version", "string", "", 1}, {"Container-Runtime", "string", "", 1},
};
static const struct col event_cols[] = {
        {"Last Seen", "string", "", 0}, {"Type", "string", "", 0},       {"Reason", "string", "", 0},
        {"Object", "string", "", 0},    {"Subobject", "string", "", 1},  {"Source", "string", "", 1},
        {"Message", "string", "", 0},   {"First Seen", "string", "", 1}, {"Count", "string", "", 1},
        {"Name", "string", "name", 1},
};

void kl_apitable_begin(struct kl_buf *b, enum kl_apitable_kind kind, const char *rv) {
        const struct col *c = kind == KL_APITABLE_POD ? pod_cols : kind == KL_APITABLE_NODE ? node_cols : event_cols;
        size_t n = kind == KL_APITABLE_POD    ? ELEMENTSOF(pod_cols)
                   : kind == KL_APITABLE_NODE ? ELEMENTSOF(node_cols)
                                              : ELEMENTSOF(event_cols);
        kl_buf_printf(b, "{\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/v1\",\"metadata\":{\"resourceVersion\":");
        kl_json_escape(b, rv);
        kl_buf_puts(b, "},\"columnDefinitions\":[");
        for (size_t i = 0; i < n; i++)
                kl_buf_printf(
                        b, "%s{\"name\":\"%s\",\"type\":\"%s\",\"format\":\"%s\",\"description\":\"\",\"priority\":%d}",
                        i ? "," : "", c[i].name, c[i].type, c[i].format, c[i].priority);
        kl_buf_puts(b, "],\"rows\":[");
}

void kl_apitable_end(struct kl_buf *b) {
        kl_buf_puts(b, "]}");
}

static void cell(struct kl_buf *b, const char *s, bool first) {
        if (!first)
                kl_buf_puts(b, ",");
        kl_json_escape(b, s && *s ? s : "<none>");
}

static void age_of(const struct kl_jsonq *q, int obj, const char *path, int64_t now, char *buf, size_t size) {
        char ts[64];
        int64_t ns;
        kl_jsonq_path_str(q, obj, path, ts, sizeof(ts));
        if (!ts[0] || kl_podlogs_parse_time(ts, strlen(ts), &ns) < 0) {
                snprintf(buf, size, "<unknown>");
                return;
        }
        kl_apitable_human_duration(now - ns / 1000000000LL, buf, size);
}

/* upstream printPod's STATUS column */
static void pod_reason(const struct kl_jsonq *q, int pod, char *reason, size_t size, int *ready, int *total,
                       int64_t *restarts) {
        char v[256];
        bool running = false;
        kl_jsonq_path_str(q, pod, "status.phase", reason, size);
        if (kl_jsonq_path_str(q, pod, "status.reason", v, sizeof(v))[0])
                snprintf(reason, size, "%s", v);
        *ready = *total = 0;
        *restarts = 0;
        int sc = kl_jsonq_path(q, pod, "spec.containers");
        for (int c = sc >= 0 ? q->nodes[sc].child : -1; c >= 0; c = q->nodes[c].next)
                (*total)++;
        /* init containers first: a pod still initializing shows Init:i/n */
        int inits = kl_jsonq_path(q, pod, "status.initContainerStatuses");
        int n_init = 0, i = 0;
        bool initializing = false;
        for (int c = inits >= 0 ? q->nodes[inits].child : -1; c >= 0; c = q->nodes[c].next)
                n_init++;
        for (int c = inits >= 0 ? q->nodes[inits].child : -1; c >= 0; c = q->nodes[c].next, i++) {
                *restarts += kl_jsonq_path_int(q, c, "restartCount", 0);
                int64_t code = kl_jsonq_path_int(q, c, "state.terminated.exitCode", -1);
                if (code == 0)
                        continue;
                initializing = true;
                if (code > 0) {
                        int64_t sig = kl_jsonq_path_int(q, c, "state.terminated.signal", 0);
                        if (kl_jsonq_path_str(q, c, "state.terminated.reason", v, sizeof(v))[0])
                                snprintf(reason, size, "Init:%.200s", v);
                        else if (sig)
                                snprintf(reason, size, "Init:Signal:%lld", (long long) sig);
                        else
                                snprintf(reason, size, "Init:ExitCode:%lld", (long long) code);
                } else if (kl_jsonq_path_str(q, c, "state.waiting.reason", v, sizeof(v))[0] &&
                           !streq(v, "PodInitializing"))
                        snprintf(reason, size, "Init:%.200s", v);
                else
                        snprintf(reason, size, "Init:%d/%d", i, n_init);
                break;
        }
        if (!initializing) {
                int cs = kl_jsonq_path(q, pod, "status.containerStatuses");
                /* upstream walks them last to first, so the first container's reason wins */
                int idx[64], n = 0;
                for (int c = cs >= 0 ? q->nodes[cs].child : -1; c >= 0 && n < 64; c = q->nodes[c].next)
                        idx[n++] = c;
                for (int k = n - 1; k >= 0; k--) {
                        int c = idx[k];
                        *restarts += kl_jsonq_path_int(q, c, "restartCount", 0);
                        int64_t code = kl_jsonq_path_int(q, c, "state.terminated.exitCode", -1);
                        if (kl_jsonq_path_str(q, c, "state.waiting.reason", v, sizeof(v))[0])
                                snprintf(reason, size, "%s", v);
                        else if (kl_jsonq_path_str(q, c, "state.terminated.reason", v, sizeof(v))[0])
                                snprintf(reason, size, "%s", v);
                        else if (code >= 0) {
                                int64_t sig = kl_jsonq_path_int(q, c, "state.terminated.signal", 0);
                                if (sig)
                                        snprintf(reason, size, "Signal:%lld", (long long) sig);
                                else
                                        snprintf(reason, size, "ExitCode:%lld", (long long) code);
                        } else if (kl_jsonq_path(q, c, "state.running") >= 0 &&
                                   streq(kl_jsonq_path_str(q, c, "ready", v, sizeof(v)), "true")) {
                                running = true;
                                (*ready)++;
                        }
                }
                if (streq(reason, "Completed") && running)
                        snprintf(reason, size, "Running");
        }
        if (kl_jsonq_path(q, pod, "metadata.deletionTimestamp") >= 0) {
                if (streq(kl_jsonq_path_str(q, pod, "status.reason", v, sizeof(v)), "NodeLost"))
                        snprintf(reason, size, "Unknown");
                else
                        snprintf(reason, size, "Terminating");
        }
}

static void row_pod(struct kl_buf *b, const struct kl_jsonq *q, int pod, int64_t now) {
        char name[256], reason[256], rt[32], age[32], ip[64], node[256];
        int ready, total;
        int64_t restarts;
        pod_reason(q, pod, reason, sizeof(reason), &ready, &total, &restarts);
        snprintf(rt, sizeof(rt), "%d/%d", ready, total);
        age_of(q, pod, "metadata.creationTimestamp", now, age, sizeof(age));
        cell(b, kl_jsonq_path_str(q, pod, "metadata.name", name, sizeof(name)), true);
        cell(b, rt, false);
        cell(b, reason, false);
        kl_buf_printf(b, ",%lld", (long long) restarts);
        cell(b, age, false);
        cell(b, kl_jsonq_path_str(q, pod, "status.podIP", ip, sizeof(ip)), false);
        cell(b, kl_jsonq_path_str(q, pod, "spec.nodeName", node, sizeof(node)), false);
        cell(b, kl_jsonq_path_str(q, pod, "status.nominatedNodeName", ip, sizeof(ip)), false);
        cell(b, NULL, false);
}

static void row_node(struct kl_buf *b, const struct kl_jsonq *q, int node, int64_t now) {
        char v[256], t[64], status[64] = "Unknown", roles[256] = "", iip[64] = "", eip[64] = "";
        int conds = kl_jsonq_path(q, node, "status.conditions");
        for (int c = conds >= 0 ? q->nodes[conds].child : -1; c >= 0; c = q->nodes[c].next)
                if (streq(kl_jsonq_path_str(q, c, "type", t, sizeof(t)), "Ready"))
                        snprintf(status, sizeof(status), "%s",
                                 streq(kl_jsonq_path_str(q, c, "status", v, sizeof(v)), "True") ? "Ready" : "NotReady");
        if (streq(kl_jsonq_path_str(q, node, "spec.unschedulable", v, sizeof(v)), "true"))
                strcat(status, ",SchedulingDisabled");
        int labels = kl_jsonq_path(q, node, "metadata.labels");
        for (int c = labels >= 0 ? q->nodes[labels].child : -1; c >= 0; c = q->nodes[c].next) {
                const char *k = q->text + q->nodes[c].key_start;
                size_t kl = q->nodes[c].key_len, pl = strlen("node-role.kubernetes.io/");
                if (kl > pl && strncmp(k, "node-role.kubernetes.io/", pl) == 0 &&
                    strlen(roles) + kl < sizeof(roles) - 2)
                        snprintf(roles + strlen(roles), sizeof(roles) - strlen(roles), "%s%.*s", roles[0] ? "," : "",
                                 (int) (kl - pl), k + pl);
        }
        int addrs = kl_jsonq_path(q, node, "status.addresses");
        for (int c = addrs >= 0 ? q->nodes[addrs].child : -1; c >= 0; c = q->nodes[c].next) {
                kl_jsonq_path_str(q, c, "type", t, sizeof(t));
                if (streq(t, "InternalIP") && !iip[0])
                        kl_jsonq_path_str(q, c, "address", iip, sizeof(iip));
                else if (streq(t, "ExternalIP") && !eip[0])
                        kl_jsonq_path_str(q, c, "address", eip, sizeof(eip));
        }
        cell(b, kl_jsonq_path_str(q, node, "metadata.name", v, sizeof(v)), true);
        cell(b, status, false);
        cell(b, roles, false);
        age_of(q, node, "metadata.creationTimestamp", now, v, sizeof(v));
        cell(b, v, false);
        cell(b, kl_jsonq_path_str(q, node, "status.nodeInfo.kubeletVersion", v, sizeof(v)), false);
        cell(b, iip, false);
        cell(b, eip, false);
        cell(b, kl_jsonq_path_str(q, node, "status.nodeInfo.osImage", v, sizeof(v)), false);
        cell(b, kl_jsonq_path_str(q, node, "status.nodeInfo.kernelVersion", v, sizeof(v)), false);
        cell(b, kl_jsonq_path_str(q, node, "status.nodeInfo.containerRuntimeVersion", v, sizeof(v)), false);
}

static void row_event(struct kl_buf *b, const struct kl_jsonq *q, int ev, int64_t now) {
        char v[1024], k[64], n[256], src[512];
        const char *last = kl_jsonq_path(q, ev, "lastTimestamp") >= 0 &&
                                           q->nodes[kl_jsonq_path(q, ev, "lastTimestamp")].type == KL_JSONQ_STRING
                                   ? "lastTimestamp"
                                   : "eventTime";
        age_of(q, ev, last, now, v, sizeof(v));
        cell(b, v, true);
        cell(b, kl_jsonq_path_str(q, ev, "type", v, sizeof(v)), false);
        cell(b, kl_jsonq_path_str(q, ev, "reason", v, sizeof(v)), false);
        kl_jsonq_path_str(q, ev, "involvedObject.kind", k, sizeof(k));
        for (char *p = k; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char) (*p - 'A' + 'a');
        snprintf(v, sizeof(v), "%s/%s", k, kl_jsonq_path_str(q, ev, "involvedObject.name", n, sizeof(n)));
        cell(b, v, false);
        cell(b, kl_jsonq_path_str(q, ev, "involvedObject.fieldPath", v, sizeof(v)), false);
        kl_jsonq_path_str(q, ev, "source.component", src, sizeof(src));
        if (kl_jsonq_path_str(q, ev, "source.host", n, sizeof(n))[0])
                snprintf(src + strlen(src), sizeof(src) - strlen(src), ", %s", n);
        cell(b, src, false);
        kl_jsonq_path_str(q, ev, "message", v, sizeof(v));
        cell(b, v, false);
        age_of(q, ev, "firstTimestamp", now, v, sizeof(v));
        cell(b, v, false);
        snprintf(v, sizeof(v), "%lld", (long long) kl_jsonq_path_int(q, ev, "count", 1));
        cell(b, v, false);
        cell(b, kl_jsonq_path_str(q, ev, "metadata.name", v, sizeof(v)), false);
}

void kl_apitable_row(struct kl_buf *b, enum kl_apitable_kind kind, const struct kl_jsonq *q, int obj, bool first,
                     int64_t now_sec) {
        kl_buf_puts(b, first ? "{\"cells\":[" : ",{\"cells\":[");
        if (kind == KL_APITABLE_POD)
                row_pod(b, q, obj, now_sec);
        else if (kind == KL_APITABLE_NODE)
                row_node(b, q, obj, now_sec);
        else
                row_event(b, q, obj, now_sec);
        /* includeObject=Metadata, the default: the object's metadata only */
        kl_buf_puts(b,
                    "],\"object\":{\"kind\":\"PartialObjectMetadata\",\"apiVersion\":\"meta.k8s.io/v1\",\"metadata\":");
        kl_jsonq_copy(q, kl_jsonq_path(q, obj, "metadata"), b);
        kl_buf_puts(b, "}}");
}
