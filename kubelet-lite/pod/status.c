/* SPDX-License-Identifier: Apache-2.0 */
/* Rendering of the pod manager's state as a v1 PodList, shaped like the
 * upstream kubelet's /pods endpoint. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/macros.h"
#include "kubelet-lite/pod/worker.h"

const char *kl__phase_to_string(enum kl_phase p) {
        switch (p) {
        case KL_PHASE_RUNNING: return "Running";
        case KL_PHASE_SUCCEEDED: return "Succeeded";
        case KL_PHASE_FAILED: return "Failed";
        default: return "Pending";
        }
}

static void json_time_nano(struct kl_json *j, const char *key, int64_t nsec) {
        char s[64];
        struct tm tm;
        time_t t = (time_t) (nsec / 1000000000);
        gmtime_r(&t, &tm);
        size_t n = strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(s + n, sizeof(s) - n, ".%09lldZ", (long long) (nsec % 1000000000));
        kl_json_kv_string(j, key, s);
}

static void json_kv_map(struct kl_json *j, const char *key, const struct kl_kv *kv, size_t n) {
        kl_json_key(j, key);
        kl_json_begin_object(j);
        for (size_t i = 0; i < n; i++)
                kl_json_kv_string(j, kv[i].key, kv[i].value);
        kl_json_end_object(j);
}

static void json_strv(struct kl_json *j, const char *key, char *const *v) {
        if (!v)
                return;
        kl_json_key(j, key);
        kl_json_begin_array(j);
        for (size_t i = 0; v[i]; i++)
                kl_json_string(j, v[i]);
        kl_json_end_array(j);
}

static void json_quantity_cpu(struct kl_json *j, const char *key, int64_t milli) {
        char buf[32];
        if (milli < 0)
                return;
        if (milli % 1000 == 0)
                snprintf(buf, sizeof(buf), "%lld", (long long) (milli / 1000));
        else
                snprintf(buf, sizeof(buf), "%lldm", (long long) milli);
        kl_json_kv_string(j, key, buf);
}

static void json_quantity_bytes(struct kl_json *j, const char *key, int64_t v) {
        static const char *suffix[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
        char buf[32];
        size_t k = 0;
        if (v < 0)
                return;
        while (k + 1 < ELEMENTSOF(suffix) && v != 0 && v % 1024 == 0) {
                v /= 1024;
                k++;
        }
        snprintf(buf, sizeof(buf), "%lld%s", (long long) v, suffix[k]);
        kl_json_kv_string(j, key, buf);
}

static void json_resources(struct kl_json *j, const struct kl_resources *r) {
        kl_json_key(j, "resources");
        kl_json_begin_object(j);
        if (r->cpu_limit_milli >= 0 || r->memory_limit >= 0 || r->ephemeral_limit >= 0) {
                kl_json_key(j, "limits");
                kl_json_begin_object(j);
                json_quantity_cpu(j, "cpu", r->cpu_limit_milli);
                json_quantity_bytes(j, "ephemeral-storage", r->ephemeral_limit);
                json_quantity_bytes(j, "memory", r->memory_limit);
                kl_json_end_object(j);
        }
        if (r->cpu_request_milli >= 0 || r->memory_request >= 0 || r->ephemeral_request >= 0) {
                kl_json_key(j, "requests");
                kl_json_begin_object(j);
                json_quantity_cpu(j, "cpu", r->cpu_request_milli);
                json_quantity_bytes(j, "ephemeral-storage", r->ephemeral_request);
                json_quantity_bytes(j, "memory", r->memory_request);
                kl_json_end_object(j);
        }
        kl_json_end_object(j);
}

static void json_field_ref(struct kl_json *j, const char *path) {
        kl_json_key(j, "fieldRef");
        kl_json_begin_object(j);
        kl_json_kv_string(j, "apiVersion", "v1");
        kl_json_kv_string(j, "fieldPath", path);
        kl_json_end_object(j);
}

static void json_resource_ref(struct kl_json *j, const struct kl_resource_ref *r) {
        kl_json_key(j, "resourceFieldRef");
        kl_json_begin_object(j);
        if (r->container_name)
                kl_json_kv_string(j, "containerName", r->container_name);
        kl_json_kv_string(j, "resource", r->resource);
        bool cpu = strstr(r->resource, "cpu") != NULL;
        if (cpu)
                json_quantity_cpu(j, "divisor", r->divisor > 0 ? r->divisor : 1000);
        else
                json_quantity_bytes(j, "divisor", r->divisor > 0 ? r->divisor : 1);
        kl_json_end_object(j);
}

static void json_handler(struct kl_json *j, const struct kl_handler *h) {
        switch (h->kind) {
        case KL_HANDLER_EXEC:
                kl_json_key(j, "exec");
                kl_json_begin_object(j);
                json_strv(j, "command", h->exec_command);
                kl_json_end_object(j);
                break;
        case KL_HANDLER_HTTP_GET:
                kl_json_key(j, "httpGet");
                kl_json_begin_object(j);
                kl_json_kv_string(j, "path", h->path ? h->path : "/");
                kl_json_key(j, "port");
                if (h->port_name)
                        kl_json_string(j, h->port_name);
                else
                        kl_json_int(j, h->port);
                if (h->host)
                        kl_json_kv_string(j, "host", h->host);
                kl_json_kv_string(j, "scheme", h->scheme ? h->scheme : "HTTP");
                kl_json_end_object(j);
                break;
        case KL_HANDLER_TCP_SOCKET:
                kl_json_key(j, "tcpSocket");
                kl_json_begin_object(j);
                kl_json_key(j, "port");
                if (h->port_name)
                        kl_json_string(j, h->port_name);
                else
                        kl_json_int(j, h->port);
                kl_json_end_object(j);
                break;
        case KL_HANDLER_GRPC:
                kl_json_key(j, "grpc");
                kl_json_begin_object(j);
                kl_json_kv_int(j, "port", h->port);
                if (h->path && h->path[0]) /* the service name lives in path */
                        kl_json_kv_string(j, "service", h->path);
                kl_json_end_object(j);
                break;
        case KL_HANDLER_SLEEP:
                kl_json_key(j, "sleep");
                kl_json_begin_object(j);
                kl_json_kv_int(j, "seconds", h->sleep_seconds);
                kl_json_end_object(j);
                break;
        default: break;
        }
}

static void json_probe(struct kl_json *j, const char *key, const struct kl_probe *p) {
        if (!p->set)
                return;
        kl_json_key(j, key);
        kl_json_begin_object(j);
        json_handler(j, &p->handler);
        kl_json_kv_int(j, "initialDelaySeconds", p->initial_delay_seconds);
        kl_json_kv_int(j, "timeoutSeconds", p->timeout_seconds);
        kl_json_kv_int(j, "periodSeconds", p->period_seconds);
        kl_json_kv_int(j, "successThreshold", p->success_threshold);
        kl_json_kv_int(j, "failureThreshold", p->failure_threshold);
        kl_json_end_object(j);
}

static void json_container(struct kl_json *j, const struct kl_container *c) {
        kl_json_begin_object(j);
        kl_json_kv_string(j, "name", c->name);
        kl_json_kv_string(j, "image", c->image);
        json_strv(j, "command", c->command);
        json_strv(j, "args", c->args);
        if (c->working_dir)
                kl_json_kv_string(j, "workingDir", c->working_dir);
        if (c->n_ports > 0) {
                kl_json_key(j, "ports");
                kl_json_begin_array(j);
                for (size_t i = 0; i < c->n_ports; i++) {
                        const struct kl_port *p = &c->ports[i];
                        kl_json_begin_object(j);
                        if (p->name)
                                kl_json_kv_string(j, "name", p->name);
                        kl_json_kv_int(j, "containerPort", p->container_port);
                        if (p->host_port > 0)
                                kl_json_kv_int(j, "hostPort", p->host_port);
                        kl_json_kv_string(j, "protocol", p->protocol ? p->protocol : "TCP");
                        kl_json_end_object(j);
                }
                kl_json_end_array(j);
        }
        if (c->n_env > 0) {
                kl_json_key(j, "env");
                kl_json_begin_array(j);
                for (size_t i = 0; i < c->n_env; i++) {
                        kl_json_begin_object(j);
                        kl_json_kv_string(j, "name", c->env[i].name);
                        if (c->env[i].field_ref || c->env[i].resource_ref.resource) {
                                kl_json_key(j, "valueFrom");
                                kl_json_begin_object(j);
                                if (c->env[i].field_ref)
                                        json_field_ref(j, c->env[i].field_ref);
                                else
                                        json_resource_ref(j, &c->env[i].resource_ref);
                                kl_json_end_object(j);
                        } else
                                kl_json_kv_string(j, "value", c->env[i].value);
                        kl_json_end_object(j);
                }
                kl_json_end_array(j);
        }
        json_resources(j, &c->resources);
        if (c->n_volume_mounts > 0) {
                kl_json_key(j, "volumeMounts");
                kl_json_begin_array(j);
                for (size_t i = 0; i < c->n_volume_mounts; i++) {
                        kl_json_begin_object(j);
                        kl_json_kv_string(j, "name", c->volume_mounts[i].name);
                        kl_json_kv_string(j, "mountPath", c->volume_mounts[i].mount_path);
                        if (c->volume_mounts[i].read_only)
                                kl_json_kv_bool(j, "readOnly", true);
                        if (c->volume_mounts[i].sub_path)
                                kl_json_kv_string(j, "subPath", c->volume_mounts[i].sub_path);
                        if (c->volume_mounts[i].propagation != KL_PROPAGATION_NONE)
                                kl_json_kv_string(j, "mountPropagation",
                                                  c->volume_mounts[i].propagation == KL_PROPAGATION_BIDIRECTIONAL
                                                          ? "Bidirectional"
                                                          : "HostToContainer");
                        kl_json_end_object(j);
                }
                kl_json_end_array(j);
        }
        json_probe(j, "livenessProbe", &c->liveness);
        json_probe(j, "readinessProbe", &c->readiness);
        json_probe(j, "startupProbe", &c->startup);
        if (c->post_start.kind || c->pre_stop.kind) {
                kl_json_key(j, "lifecycle");
                kl_json_begin_object(j);
                if (c->post_start.kind) {
                        kl_json_key(j, "postStart");
                        kl_json_begin_object(j);
                        json_handler(j, &c->post_start);
                        kl_json_end_object(j);
                }
                if (c->pre_stop.kind) {
                        kl_json_key(j, "preStop");
                        kl_json_begin_object(j);
                        json_handler(j, &c->pre_stop);
                        kl_json_end_object(j);
                }
                kl_json_end_object(j);
        }
        if (c->restart_policy != KL_RESTART_UNSET)
                kl_json_kv_string(j, "restartPolicy", kl_restart_policy_to_string(c->restart_policy));
        kl_json_kv_string(j, "terminationMessagePath", c->termination_message_path);
        kl_json_kv_string(j, "terminationMessagePolicy",
                          c->termination_message_policy == KL_TERMINATION_MESSAGE_FALLBACK_TO_LOGS
                                  ? "FallbackToLogsOnError"
                                  : "File");
        kl_json_kv_string(j, "imagePullPolicy", kl_pull_policy_to_string(c->image_pull_policy));
        if (c->stdin)
                kl_json_kv_bool(j, "stdin", true);
        if (c->tty)
                kl_json_kv_bool(j, "tty", true);
        kl_json_end_object(j);
}

static void pod_spec_json(struct kl_json *j, const struct kl_pod *pod, const char *node_name) {
        kl_json_begin_object(j);
        if (pod->n_volumes > 0) {
                kl_json_key(j, "volumes");
                kl_json_begin_array(j);
                for (size_t i = 0; i < pod->n_volumes; i++) {
                        const struct kl_volume *v = &pod->volumes[i];
                        kl_json_begin_object(j);
                        kl_json_kv_string(j, "name", v->name);
                        if (v->kind == KL_VOLUME_HOST_PATH) {
                                kl_json_key(j, "hostPath");
                                kl_json_begin_object(j);
                                kl_json_kv_string(j, "path", v->host_path);
                                kl_json_end_object(j);
                        } else if (v->kind == KL_VOLUME_DOWNWARD_API) {
                                kl_json_key(j, "downwardAPI");
                                kl_json_begin_object(j);
                                kl_json_key(j, "items");
                                kl_json_begin_array(j);
                                for (size_t k = 0; k < v->n_items; k++) {
                                        const struct kl_downward_item *it = &v->items[k];
                                        kl_json_begin_object(j);
                                        kl_json_kv_string(j, "path", it->path);
                                        if (it->field_ref)
                                                json_field_ref(j, it->field_ref);
                                        else if (it->resource_ref.resource)
                                                json_resource_ref(j, &it->resource_ref);
                                        if (it->mode >= 0)
                                                kl_json_kv_int(j, "mode", it->mode);
                                        kl_json_end_object(j);
                                }
                                kl_json_end_array(j);
                                kl_json_kv_int(j, "defaultMode", v->default_mode);
                                kl_json_end_object(j);
                        } else {
                                kl_json_key(j, "emptyDir");
                                kl_json_begin_object(j);
                                if (v->medium_memory)
                                        kl_json_kv_string(j, "medium", "Memory");
                                json_quantity_bytes(j, "sizeLimit", v->size_limit);
                                kl_json_end_object(j);
                        }
                        kl_json_end_object(j);
                }
                kl_json_end_array(j);
        }
        if (pod->n_init_containers > 0) {
                kl_json_key(j, "initContainers");
                kl_json_begin_array(j);
                for (size_t i = 0; i < pod->n_init_containers; i++)
                        json_container(j, &pod->init_containers[i]);
                kl_json_end_array(j);
        }
        kl_json_key(j, "containers");
        kl_json_begin_array(j);
        for (size_t i = 0; i < pod->n_containers; i++)
                json_container(j, &pod->containers[i]);
        kl_json_end_array(j);
        kl_json_kv_string(j, "restartPolicy", kl_restart_policy_to_string(pod->restart_policy));
        kl_json_kv_int(j, "terminationGracePeriodSeconds", pod->termination_grace_period_seconds);
        if (pod->active_deadline_seconds >= 0)
                kl_json_kv_int(j, "activeDeadlineSeconds", pod->active_deadline_seconds);
        kl_json_kv_string(j, "dnsPolicy", kl_dns_policy_to_string(pod->dns_policy));
        kl_json_kv_string(j, "nodeName", node_name);
        if (pod->host_network)
                kl_json_kv_bool(j, "hostNetwork", true);
        if (pod->host_pid)
                kl_json_kv_bool(j, "hostPID", true);
        if (pod->host_ipc)
                kl_json_kv_bool(j, "hostIPC", true);
        if (pod->share_process_namespace)
                kl_json_kv_bool(j, "shareProcessNamespace", true);
        if (pod->hostname)
                kl_json_kv_string(j, "hostname", pod->hostname);
        if (pod->n_host_aliases > 0) {
                kl_json_key(j, "hostAliases");
                kl_json_begin_array(j);
                for (size_t i = 0; i < pod->n_host_aliases; i++) {
                        kl_json_begin_object(j);
                        kl_json_kv_string(j, "ip", pod->host_aliases[i].ip);
                        json_strv(j, "hostnames", pod->host_aliases[i].hostnames);
                        kl_json_end_object(j);
                }
                kl_json_end_array(j);
        }
        kl_json_key(j, "securityContext");
        kl_json_begin_object(j);
        kl_json_end_object(j);
        if (pod->priority_class_name)
                kl_json_kv_string(j, "priorityClassName", pod->priority_class_name);
        if (pod->has_priority)
                kl_json_kv_int(j, "priority", pod->priority);
        kl_json_key(j, "tolerations");
        kl_json_begin_array(j);
        kl_json_begin_object(j);
        kl_json_kv_string(j, "operator", "Exists");
        kl_json_kv_string(j, "effect", "NoExecute");
        kl_json_end_object(j);
        kl_json_end_array(j);
        kl_json_end_object(j);
}

static void json_condition(struct kl_json *j, const char *type, bool status, const char *reason, const char *message,
                           int64_t when) {
        kl_json_begin_object(j);
        kl_json_kv_string(j, "type", type);
        kl_json_kv_string(j, "status", status ? "True" : "False");
        kl_json_key(j, "lastProbeTime");
        kl_json_null(j);
        if (when > 0)
                kl_json_kv_time(j, "lastTransitionTime", when);
        if (reason)
                kl_json_kv_string(j, "reason", reason);
        if (message)
                kl_json_kv_string(j, "message", message);
        kl_json_end_object(j);
}

static bool cs_init_done(const struct kl__cstat *cs) {
        if (cs->sidecar)
                return cs->started;
        return cs->state == RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED &&
               cs->status_state == RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED && cs->exit_code == 0;
}

/* As upstream's status generators (pkg/kubelet/status/generate.go):
 * Initialized once every init container has completed (sidecars: started),
 * ContainersReady and Ready once every app container and sidecar is ready;
 * PodReadyToStartContainers once the sandbox has its network. */
void kl__update_conditions(struct kl__worker *w) {
        bool v[KL__COND_MAX];
        bool init_done = true, ready = w->n_cs > 0;

        for (size_t i = 0; i < w->n_cs; i++) {
                const struct kl__cstat *cs = &w->cs[i];
                if (cs->init && !cs_init_done(cs))
                        init_done = false;
                if ((!cs->init || cs->sidecar) && !cs->ready)
                        ready = false;
        }
        v[KL__COND_READY_TO_START] =
                w->sandbox_state == RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY && w->pod_ip != NULL;
        v[KL__COND_INITIALIZED] = init_done;
        v[KL__COND_READY] = ready && !w->terminating;
        v[KL__COND_CONTAINERS_READY] = ready;
        int64_t now = kl_realtime_nsec();
        for (size_t c = 0; c < KL__COND_MAX; c++)
                if (w->cond[c].since == 0 || w->cond[c].status != v[c]) {
                        w->cond[c].status = v[c];
                        w->cond[c].since = now;
                }
}

/* "containers with unready status: [a b]", as upstream. */
static void names_message(char *buf, size_t n, const char *what, const struct kl__worker *w, bool init) {
        size_t k = (size_t) snprintf(buf, n, "containers with %s status: [", what);
        bool first = true;
        for (size_t i = 0; i < w->n_cs && k < n; i++) {
                const struct kl__cstat *cs = &w->cs[i];
                bool bad = init ? cs->init && !cs_init_done(cs) : (!cs->init || cs->sidecar) && !cs->ready;
                if (!bad)
                        continue;
                k += (size_t) snprintf(buf + k, n - k, "%s%s", first ? "" : " ", cs->spec->name);
                first = false;
        }
        if (k < n)
                snprintf(buf + k, n - k, "]");
}

static void json_conditions(struct kl_json *j, const struct kl__worker *w) {
        char msg[512];
        const struct kl__cond *c = w->cond;
        bool done = w->phase == KL_PHASE_SUCCEEDED || w->phase == KL_PHASE_FAILED;

        json_condition(j, "PodReadyToStartContainers", c[KL__COND_READY_TO_START].status, NULL, NULL,
                       c[KL__COND_READY_TO_START].since);
        names_message(msg, sizeof(msg), "incomplete", w, true);
        json_condition(j, "Initialized", c[KL__COND_INITIALIZED].status,
                       c[KL__COND_INITIALIZED].status ? NULL : "ContainersNotInitialized",
                       c[KL__COND_INITIALIZED].status ? NULL : msg, c[KL__COND_INITIALIZED].since);
        names_message(msg, sizeof(msg), "unready", w, false);
        const char *why = done ? "PodCompleted" : "ContainersNotReady";
        json_condition(j, "Ready", c[KL__COND_READY].status, c[KL__COND_READY].status ? NULL : why,
                       c[KL__COND_READY].status || done ? NULL : msg, c[KL__COND_READY].since);
        json_condition(j, "ContainersReady", c[KL__COND_CONTAINERS_READY].status,
                       c[KL__COND_CONTAINERS_READY].status ? NULL : why,
                       c[KL__COND_CONTAINERS_READY].status || done ? NULL : msg, c[KL__COND_CONTAINERS_READY].since);
}

static void json_terminated(struct kl_json *j, int32_t exit_code, const char *reason, const char *message,
                            int64_t started, int64_t finished, const char *id) {
        kl_json_key(j, "terminated");
        kl_json_begin_object(j);
        kl_json_kv_int(j, "exitCode", exit_code);
        kl_json_kv_string(j, "reason", reason && reason[0] ? reason : exit_code == 0 ? "Completed" : "Error");
        if (message)
                kl_json_kv_string(j, "message", message);
        if (started > 0)
                kl_json_kv_time(j, "startedAt", started);
        if (finished > 0)
                kl_json_kv_time(j, "finishedAt", finished);
        if (id)
                kl_json_kv_string(j, "containerID", id);
        kl_json_end_object(j);
}

static void json_container_status(struct kl_json *j, const struct kl__cstat *cs) {
        char cid[160];
        kl_json_begin_object(j);
        kl_json_kv_string(j, "name", cs->spec->name);
        kl_json_key(j, "state");
        kl_json_begin_object(j);
        if (cs->id)
                snprintf(cid, sizeof(cid), "containerd://%s", cs->id);
        bool running = cs->state == RUNTIME__V1__CONTAINER_STATE__CONTAINER_RUNNING;
        bool exited = cs->status_state == RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED &&
                      cs->state == RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED;
        bool waiting = cs->waiting_reason && !running;
        if (waiting) {
                kl_json_key(j, "waiting");
                kl_json_begin_object(j);
                kl_json_kv_string(j, "reason", cs->waiting_reason);
                if (cs->waiting_message)
                        kl_json_kv_string(j, "message", cs->waiting_message);
                kl_json_end_object(j);
        } else if (running) {
                kl_json_key(j, "running");
                kl_json_begin_object(j);
                if (cs->started_at > 0)
                        kl_json_kv_time(j, "startedAt", cs->started_at);
                kl_json_end_object(j);
        } else if (exited) {
                json_terminated(j, cs->exit_code, cs->reason, cs->message, cs->started_at, cs->finished_at,
                                cs->id ? cid : NULL);
        } else {
                kl_json_key(j, "waiting");
                kl_json_begin_object(j);
                /* upstream's convertToAPIContainerStatuses: the default waiting
                 * reason is PodInitializing in a pod with init containers */
                kl_json_kv_string(j, "reason",
                                  cs->state < 0 && cs->w->pod->n_init_containers == 0 ? "ContainerCreating"
                                                                                      : "PodInitializing");
                kl_json_end_object(j);
        }
        kl_json_end_object(j);

        /* A container waiting to be restarted shows its newest termination
         * as lastState, as upstream's convertToAPIContainerStatuses; a
         * running or terminated one the attempt before it. */
        kl_json_key(j, "lastState");
        kl_json_begin_object(j);
        if (exited && waiting)
                json_terminated(j, cs->exit_code, cs->reason, cs->message, cs->started_at, cs->finished_at,
                                cs->id ? cid : NULL);
        else if (cs->have_last) {
                char lid[160];
                if (cs->last_id)
                        snprintf(lid, sizeof(lid), "containerd://%s", cs->last_id);
                json_terminated(j, cs->last_exit_code, cs->last_reason, cs->last_message, cs->last_started_at,
                                cs->last_finished_at, cs->last_id ? lid : NULL);
        }
        kl_json_end_object(j);

        kl_json_kv_bool(j, "ready", cs->ready);
        kl_json_kv_int(j, "restartCount", cs->state >= 0 ? cs->attempt : 0);
        kl_json_kv_string(j, "image", cs->spec->image);
        kl_json_kv_string(j, "imageID", cs->image_ref ? cs->image_ref : "");
        if (cs->id)
                kl_json_kv_string(j, "containerID", cid);
        kl_json_kv_bool(j, "started", cs->started);
        kl_json_end_object(j);
}

static void json_pod(struct kl_json *j, struct kl_pm *pm, const struct kl__worker *w) {
        const struct kl_pod *pod = w->pod;

        kl_json_begin_object(j);
        kl_json_key(j, "metadata");
        kl_json_begin_object(j);
        kl_json_kv_string(j, "name", w->full_name);
        kl_json_kv_string(j, "namespace", w->namespace);
        kl_json_kv_string(j, "uid", w->uid);
        if (w->seen_nsec > 0)
                kl_json_kv_time(j, "creationTimestamp", w->seen_nsec);
        if (w->terminating && !w->desired) {
                /* What the API server sets on a pod being deleted. */
                kl_json_kv_time(j, "deletionTimestamp", w->deletion_nsec + w->grace_seconds * 1000000000LL);
                kl_json_kv_int(j, "deletionGracePeriodSeconds", w->grace_seconds);
        }
        if (pod->n_labels > 0)
                json_kv_map(j, "labels", pod->labels, pod->n_labels);
        kl_json_key(j, "annotations");
        kl_json_begin_object(j);
        for (size_t i = 0; i < pod->n_annotations; i++)
                kl_json_kv_string(j, pod->annotations[i].key, pod->annotations[i].value);
        kl_json_kv_string(j, "kubernetes.io/config.hash", pod->config_hash);
        json_time_nano(j, "kubernetes.io/config.seen", w->seen_nsec);
        kl_json_kv_string(j, "kubernetes.io/config.source", "file");
        kl_json_end_object(j);
        kl_json_end_object(j);

        kl_json_key(j, "spec");
        pod_spec_json(j, pod, pm->cfg->node_name);

        kl_json_key(j, "status");
        kl_json_begin_object(j);
        kl_json_kv_string(j, "phase", kl__phase_to_string(w->phase));
        bool rejected = w->reject_reason != NULL || (w->evicted && w->phase_reason);
        if (w->evicted && w->phase_reason) {
                kl_json_kv_string(j, "reason", w->phase_reason);
                kl_json_kv_string(j, "message", w->phase_message);
        } else if (rejected) {
                kl_json_kv_string(j, "reason", w->reject_reason);
                kl_json_kv_string(j, "message", w->reject_message);
        } else if (w->manifest_error) {
                kl_json_kv_string(j, "reason", "InvalidManifest");
                kl_json_kv_string(j, "message", w->manifest_error);
        } else if (w->sandbox_error) {
                kl_json_kv_string(j, "message", w->sandbox_error);
        }

        if (!rejected) {
                kl_json_key(j, "conditions");
                kl_json_begin_array(j);
                json_conditions(j, w);
                json_condition(j, "PodScheduled", true, NULL, NULL, w->seen_nsec);
                if (w->manifest_error)
                        json_condition(j, "kubelet-lite.io/ManifestValid", false, "InvalidManifest", w->manifest_error,
                                       0);
                kl_json_end_array(j);
                kl_json_kv_string(j, "hostIP", pm->host_ip);
                kl_json_key(j, "hostIPs");
                kl_json_begin_array(j);
                kl_json_begin_object(j);
                kl_json_kv_string(j, "ip", pm->host_ip);
                kl_json_end_object(j);
                kl_json_end_array(j);
                if (w->pod_ip) {
                        kl_json_kv_string(j, "podIP", w->pod_ip);
                        kl_json_key(j, "podIPs");
                        kl_json_begin_array(j);
                        kl_json_begin_object(j);
                        kl_json_kv_string(j, "ip", w->pod_ip);
                        kl_json_end_object(j);
                        kl_json_end_array(j);
                }
                if (w->start_nsec > 0)
                        kl_json_kv_time(j, "startTime", w->start_nsec);
        }
        if (!rejected && pod->n_init_containers > 0) {
                kl_json_key(j, "initContainerStatuses");
                kl_json_begin_array(j);
                for (size_t i = 0; i < pod->n_init_containers; i++)
                        json_container_status(j, &w->cs[i]);
                kl_json_end_array(j);
        }
        if (!rejected) {
                kl_json_key(j, "containerStatuses");
                kl_json_begin_array(j);
                for (size_t i = pod->n_init_containers; i < w->n_cs; i++)
                        json_container_status(j, &w->cs[i]);
                kl_json_end_array(j);
        }
        kl_json_kv_string(j, "qosClass", kl_qos_class_to_string(kl_pod_qos_class(pod)));
        kl_json_end_object(j);
        kl_json_end_object(j);
}

void kl_pm_render_pods(struct kl_pm *pm, struct kl_json *j) {
        kl_json_begin_object(j);
        kl_json_kv_string(j, "kind", "PodList");
        kl_json_kv_string(j, "apiVersion", "v1");
        kl_json_key(j, "metadata");
        kl_json_begin_object(j);
        kl_json_end_object(j);
        kl_json_key(j, "items");
        kl_json_begin_array(j);
        /* A pod being removed stays listed, terminating, until its sandbox
         * is gone, as upstream keeps it in its pod list. */
        for (struct kl__worker *w = pm->workers; w; w = w->next)
                if (w->pod && (w->desired || w->terminating))
                        json_pod(j, pm, w);
        kl_json_end_array(j);
        kl_json_end_object(j);
}

/* ---- the read-only view ---------------------------------------------------- */

bool kl_pm_next_pod(const struct kl_pm *pm, struct kl_pod_iter *it, struct kl_pod_view *ret) {
        const struct kl__worker *w = it->started ? it->next : pm->workers;
        if (!w)
                return false;
        it->started = true;
        it->next = w->next;
        *ret = (struct kl_pod_view){
                .uid = w->uid,
                .name = w->full_name,
                .namespace = w->namespace,
                .file = w->file,
                .spec = w->pod,
                .desired = w->desired,
                .sandbox_ready = w->sandbox_state == RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY,
                .start_nsec = w->start_nsec,
                .phase = kl__phase_to_string(w->phase),
                .reason = w->reject_reason ? w->reject_reason
                          : w->evicted     ? w->phase_reason
                                           : NULL,
                .manifest_error = w->manifest_error,
                .n_containers = w->pod ? w->n_cs : 0,
                .priv = w,
        };
        return true;
}

void kl_pm_pod_container(const struct kl_pod_view *p, size_t i, struct kl_container_view *ret) {
        const struct kl__worker *w = p->priv;
        const struct kl__cstat *cs = &w->cs[i];
        *ret = (struct kl_container_view){
                .name = cs->spec->name,
                .id = cs->id,
                .init = cs->init,
                .sidecar = cs->sidecar,
                .running = kl__cs_running(cs),
                .ready = cs->ready,
                .started_at = cs->started_at,
                .restarts = cs->state >= 0 ? cs->attempt : 0,
        };
}
