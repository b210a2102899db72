/* SPDX-License-Identifier: Apache-2.0 */
/* /node (a v1 Node), /stats/summary (upstream's Summary API shape) and the
 * status file under root-dir that appliance UIs read. */
#include "nodestatus.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>

#include "cgroups/stats.h"
#include "kubelet-lite/eviction/eviction.h"
#include "kubelet-lite/eviction/signals.h"
#include "kubelet-lite/eviction/watch.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/macros.h"
#include "kubelet-lite/cm/node.h"
#include "kubelet-lite/event.h"
#include "kubelet-lite/pod/manager.h"
#include "kubelet-lite/server/dirstats.h"

#define STATUS_FILE "node-status.json"

static const char *go_arch(void) {
#if defined(__x86_64__)
        return "amd64";
#elif defined(__aarch64__)
        return "arm64";
#elif defined(__arm__)
        return "arm";
#elif defined(__i386__)
        return "386";
#elif defined(__riscv) && __riscv_xlen == 64
        return "riscv64";
#else
        return "unknown";
#endif
}

/* A single "KEY=value" from /etc/os-release, unquoted. */
static void os_release(const char *key, char *buf, size_t n) {
        _cleanup_free_ char *data = NULL;
        size_t klen = strlen(key);
        snprintf(buf, n, "Linux");
        if (kl_read_file_at(AT_FDCWD, "/etc/os-release", 64 * 1024, 0, &data, NULL) < 0 &&
            kl_read_file_at(AT_FDCWD, "/usr/lib/os-release", 64 * 1024, 0, &data, NULL) < 0)
                return;
        for (char *line = data; line && *line;) {
                char *nl = strchr(line, '\n');
                if (nl)
                        *nl = '\0';
                if (strncmp(line, key, klen) == 0 && line[klen] == '=') {
                        char *v = line + klen + 1;
                        size_t l = strlen(v);
                        if (l >= 2 && (v[0] == '"' || v[0] == '\'') && v[l - 1] == v[0]) {
                                v[l - 1] = '\0';
                                v++;
                        }
                        snprintf(buf, n, "%s", v);
                        return;
                }
                line = nl ? nl + 1 : NULL;
        }
}

static void read_line_file(const char *path, char *buf, size_t n) {
        _cleanup_free_ char *data = NULL;
        buf[0] = '\0';
        if (kl_read_file_at(AT_FDCWD, path, 4096, 0, &data, NULL) < 0)
                return;
        data[strcspn(data, "\n")] = '\0';
        snprintf(buf, n, "%s", data);
}

static void quantity_cpu(struct kl_json *j, const char *key, int64_t milli) {
        char b[32];
        if (milli % 1000 == 0)
                snprintf(b, sizeof(b), "%lld", (long long) (milli / 1000));
        else
                snprintf(b, sizeof(b), "%lldm", (long long) milli);
        kl_json_kv_string(j, key, b);
}

static void quantity_mem(struct kl_json *j, const char *key, int64_t bytes) {
        char b[32];
        if (bytes % 1024 == 0)
                snprintf(b, sizeof(b), "%lldKi", (long long) (bytes / 1024));
        else
                snprintf(b, sizeof(b), "%lld", (long long) bytes);
        kl_json_kv_string(j, key, b);
}

static void condition(struct kl_json *j, const char *type, bool status, const char *reason, const char *message,
                      int64_t now) {
        kl_json_begin_object(j);
        kl_json_kv_string(j, "type", type);
        kl_json_kv_string(j, "status", status ? "True" : "False");
        kl_json_kv_time(j, "lastHeartbeatTime", now);
        kl_json_kv_string(j, "reason", reason);
        kl_json_kv_string(j, "message", message);
        kl_json_end_object(j);
}

void kl_node_status_render(const struct kl_node_status_ctx *x, struct kl_json *j) {
        struct kl_node_info ni;
        struct statvfs sv;
        struct utsname u;
        char os[256], machine_id[64], boot_id[64];
        int64_t now = kl_realtime_nsec();
        int64_t eph = -1;

        kl_node_get_info(x->node, &ni);
        if (statvfs(x->cfg->root_dir, &sv) == 0)
                eph = (int64_t) sv.f_blocks * (int64_t) sv.f_frsize;
        uname(&u);
        os_release("PRETTY_NAME", os, sizeof(os));
        read_line_file("/etc/machine-id", machine_id, sizeof(machine_id));
        read_line_file("/proc/sys/kernel/random/boot_id", boot_id, sizeof(boot_id));

        kl_json_begin_object(j);
        kl_json_kv_string(j, "kind", "Node");
        kl_json_kv_string(j, "apiVersion", "v1");
        kl_json_key(j, "metadata");
        kl_json_begin_object(j);
        kl_json_kv_string(j, "name", x->cfg->node_name);
        kl_json_key(j, "labels");
        kl_json_begin_object(j);
        kl_json_kv_string(j, "kubernetes.io/hostname", x->cfg->node_name);
        kl_json_kv_string(j, "kubernetes.io/os", "linux");
        kl_json_kv_string(j, "kubernetes.io/arch", go_arch());
        kl_json_end_object(j);
        kl_json_end_object(j);
        kl_json_key(j, "spec");
        kl_json_begin_object(j);
        kl_json_end_object(j);

        kl_json_key(j, "status");
        kl_json_begin_object(j);
        for (int pass = 0; pass < 2; pass++) {
                kl_json_key(j, pass == 0 ? "capacity" : "allocatable");
                kl_json_begin_object(j);
                quantity_cpu(j, "cpu", pass == 0 ? ni.cpu_capacity_milli : ni.cpu_allocatable_milli);
                if (eph >= 0)
                        quantity_mem(j, "ephemeral-storage", eph);
                quantity_mem(j, "memory", pass == 0 ? ni.memory_capacity : ni.memory_allocatable);
                char pods[32];
                snprintf(pods, sizeof(pods), "%lld", (long long) (pass == 0 ? ni.pods_capacity : ni.pods_allocatable));
                kl_json_kv_string(j, "pods", pods);
                /* device plugin resources (upstream's GetCapacity) */
                const char *ext;
                int64_t ecap, ealloc;
                for (size_t i = 0; kl_node_extended_resource(x->node, i, &ext, &ecap, &ealloc); i++) {
                        snprintf(pods, sizeof(pods), "%lld", (long long) (pass == 0 ? ecap : ealloc));
                        kl_json_kv_string(j, ext, pods);
                }
                kl_json_end_object(j);
        }

        bool mem = kl_pm_node_condition(x->pm, KL_EVICTION_MEMORY_PRESSURE);
        bool disk = kl_pm_node_condition(x->pm, KL_EVICTION_DISK_PRESSURE);
        bool pid = kl_pm_node_condition(x->pm, KL_EVICTION_PID_PRESSURE);
        bool ready = kl_pm_runtime_ok(x->pm);
        kl_json_key(j, "conditions");
        kl_json_begin_array(j);
        condition(j, "MemoryPressure", mem, mem ? "KubeletHasInsufficientMemory" : "KubeletHasSufficientMemory",
                  mem ? "kubelet has insufficient memory available" : "kubelet has sufficient memory available", now);
        condition(j, "DiskPressure", disk, disk ? "KubeletHasDiskPressure" : "KubeletHasNoDiskPressure",
                  disk ? "kubelet has disk pressure" : "kubelet has no disk pressure", now);
        condition(j, "PIDPressure", pid, pid ? "KubeletHasInsufficientPID" : "KubeletHasSufficientPID",
                  pid ? "kubelet has insufficient PID available" : "kubelet has sufficient PID available", now);
        char why[512];
        snprintf(why, sizeof(why), "container runtime is down: %s", strempty(kl_pm_runtime_error(x->pm)));
        condition(j, "Ready", ready, ready ? "KubeletReady" : "KubeletNotReady",
                  ready ? "kubelet is posting ready status" : why, now);
        kl_json_end_array(j);

        kl_json_key(j, "addresses");
        kl_json_begin_array(j);
        kl_json_begin_object(j);
        kl_json_kv_string(j, "type", "InternalIP");
        kl_json_kv_string(j, "address", x->host_ip);
        kl_json_end_object(j);
        kl_json_begin_object(j);
        kl_json_kv_string(j, "type", "Hostname");
        kl_json_kv_string(j, "address", x->cfg->node_name);
        kl_json_end_object(j);
        kl_json_end_array(j);

        kl_json_key(j, "nodeInfo");
        kl_json_begin_object(j);
        kl_json_kv_string(j, "machineID", machine_id);
        kl_json_kv_string(j, "bootID", boot_id);
        kl_json_kv_string(j, "kernelVersion", u.release);
        kl_json_kv_string(j, "osImage", os);
        kl_json_kv_string(j, "containerRuntimeVersion", x->runtime_version ? x->runtime_version : "");
        kl_json_kv_string(j, "kubeletVersion", "kubelet-lite " KL_VERSION);
        kl_json_kv_string(j, "kubeProxyVersion", "");
        kl_json_kv_string(j, "operatingSystem", "linux");
        kl_json_kv_string(j, "architecture", go_arch());
        kl_json_end_object(j);
        kl_json_end_object(j);
        kl_json_end_object(j);
}

/* The node's CPU time from /proc/stat (all but idle and iowait), in ns. */
static int64_t node_cpu_nsec(void) {
        _cleanup_free_ char *data = NULL;
        unsigned long long v[10] = {};
        if (kl_read_file_at(AT_FDCWD, "/proc/stat", 1024 * 1024, 0, &data, NULL) < 0)
                return -1;
        if (sscanf(data, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
                   &v[7]) < 4)
                return -1;
        long hz = sysconf(_SC_CLK_TCK);
        unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
        return (int64_t) (busy * (1000000000ULL / (unsigned long long) (hz > 0 ? hz : 100)));
}

static void fs_json(struct kl_json *j, const char *key, const char *path, int64_t now) {
        struct statvfs sv;
        if (statvfs(path, &sv) < 0)
                return;
        kl_json_key(j, key);
        kl_json_begin_object(j);
        kl_json_kv_time(j, "time", now);
        kl_json_kv_int(j, "availableBytes", (int64_t) sv.f_bavail * (int64_t) sv.f_frsize);
        kl_json_kv_int(j, "capacityBytes", (int64_t) sv.f_blocks * (int64_t) sv.f_frsize);
        kl_json_kv_int(j, "usedBytes", (int64_t) (sv.f_blocks - sv.f_bfree) * (int64_t) sv.f_frsize);
        kl_json_kv_int(j, "inodesFree", (int64_t) sv.f_ffree);
        kl_json_kv_int(j, "inodes", (int64_t) sv.f_files);
        kl_json_kv_int(j, "inodesUsed", (int64_t) (sv.f_files - sv.f_ffree));
        kl_json_end_object(j);
}

static void stats_json(struct kl_json *j, const struct kl_cg_stats *st, int64_t now) {
        if (st->have & KL_CG_STATS_CPU) {
                kl_json_key(j, "cpu");
                kl_json_begin_object(j);
                kl_json_kv_time(j, "time", now);
                kl_json_kv_int(j, "usageCoreNanoSeconds", (int64_t) st->cpu_usage_usec * 1000);
                kl_json_end_object(j);
        }
        if (st->have & KL_CG_STATS_MEMORY) {
                kl_json_key(j, "memory");
                kl_json_begin_object(j);
                kl_json_kv_time(j, "time", now);
                kl_json_kv_int(j, "usageBytes", (int64_t) st->memory_current);
                kl_json_kv_int(j, "workingSetBytes", (int64_t) st->memory_working_set);
                kl_json_kv_int(j, "rssBytes", (int64_t) st->memory_anon);
                if (st->have & KL_CG_STATS_EVENTS)
                        kl_json_kv_int(j, "majorPageFaults", 0);
                kl_json_end_object(j);
        }
}

/* From the cache that a timer fills (dirstats.c): a request never walks a
 * directory. -1: not measured yet. */
static int64_t dir_bytes(const struct kl_node_status_ctx *x, const char *path) {
        int64_t b = -1;
        if (x->dirstats && kl_dirstats_get(x->dirstats, path, &b))
                return b;
        return -1;
}

void kl_node_stats_render(const struct kl_node_status_ctx *x, struct kl_json *j) {
        int64_t now = kl_realtime_nsec();
        struct kl_eviction_observation obs = {};
        struct kl_eviction_sources src = {.root_dir = x->cfg->root_dir, .psi_memory = ""};
        bool have_obs = kl_eviction_read_signals(&src, &obs) >= 0;

        kl_json_begin_object(j);
        kl_json_key(j, "node");
        kl_json_begin_object(j);
        kl_json_kv_string(j, "nodeName", x->cfg->node_name);
        kl_json_kv_time(j, "startTime", x->start_nsec);
        int64_t cpu = node_cpu_nsec();
        if (cpu >= 0) {
                kl_json_key(j, "cpu");
                kl_json_begin_object(j);
                kl_json_kv_time(j, "time", now);
                kl_json_kv_int(j, "usageCoreNanoSeconds", cpu);
                kl_json_end_object(j);
        }
        if (have_obs && obs.signal[KL_EVICTION_MEMORY_AVAILABLE].have) {
                const struct kl_eviction_value *m = &obs.signal[KL_EVICTION_MEMORY_AVAILABLE];
                kl_json_key(j, "memory");
                kl_json_begin_object(j);
                kl_json_kv_time(j, "time", now);
                kl_json_kv_int(j, "availableBytes", m->available);
                if (obs.memory_working_set >= 0)
                        kl_json_kv_int(j, "workingSetBytes", obs.memory_working_set);
                kl_json_end_object(j);
        }
        fs_json(j, "fs", x->cfg->root_dir, now);
        if (have_obs && obs.signal[KL_EVICTION_PID_AVAILABLE].have) {
                kl_json_key(j, "rlimit");
                kl_json_begin_object(j);
                kl_json_kv_time(j, "time", now);
                kl_json_kv_int(j, "maxpid", obs.signal[KL_EVICTION_PID_AVAILABLE].capacity);
                kl_json_kv_int(j, "curproc", obs.processes);
                kl_json_end_object(j);
        }
        kl_json_end_object(j);

        kl_json_key(j, "pods");
        kl_json_begin_array(j);
        struct kl_pod_iter it = {};
        struct kl_pod_view w;
        while (kl_pm_next_pod(x->pm, &it, &w)) {
                if (!w.spec || !w.desired || !w.sandbox_ready)
                        continue;
                struct kl_cg_stats pst = {};
                char dir[4096];
                kl_json_begin_object(j);
                kl_json_key(j, "podRef");
                kl_json_begin_object(j);
                kl_json_kv_string(j, "name", w.name);
                kl_json_kv_string(j, "namespace", w.namespace);
                kl_json_kv_string(j, "uid", w.uid);
                kl_json_end_object(j);
                if (w.start_nsec > 0)
                        kl_json_kv_time(j, "startTime", w.start_nsec);
                kl_json_key(j, "containers");
                kl_json_begin_array(j);
                for (size_t i = 0; i < w.n_containers; i++) {
                        struct kl_container_view cs;
                        struct kl_cg_stats st = {};
                        kl_pm_pod_container(&w, i, &cs);
                        if (!cs.id || !cs.running)
                                continue;
                        kl_json_begin_object(j);
                        kl_json_kv_string(j, "name", cs.name);
                        if (cs.started_at > 0)
                                kl_json_kv_time(j, "startTime", cs.started_at);
                        if (kl_node_stats(x->node, w.uid, cs.id, &st) >= 0)
                                stats_json(j, &st, now);
                        snprintf(dir, sizeof(dir), "%s/%s_%s_%s/%s", x->cfg->pod_logs_dir, w.namespace, w.name, w.uid,
                                 cs.name);
                        int64_t used = dir_bytes(x, dir);
                        if (used >= 0) {
                                kl_json_key(j, "logs");
                                kl_json_begin_object(j);
                                kl_json_kv_time(j, "time", now);
                                kl_json_kv_int(j, "usedBytes", used);
                                kl_json_end_object(j);
                        }
                        kl_json_end_object(j);
                }
                kl_json_end_array(j);
                if (kl_node_stats(x->node, w.uid, NULL, &pst) >= 0)
                        stats_json(j, &pst, now);
                snprintf(dir, sizeof(dir), "%s/%s_%s_%s", x->cfg->pod_logs_dir, w.namespace, w.name, w.uid);
                int64_t logs = dir_bytes(x, dir);
                snprintf(dir, sizeof(dir), "%s/pods/%s/volumes", x->cfg->root_dir, w.uid);
                int64_t vols = dir_bytes(x, dir);
                if (logs >= 0 && vols >= 0) {
                        kl_json_key(j, "ephemeral-storage");
                        kl_json_begin_object(j);
                        kl_json_kv_time(j, "time", now);
                        kl_json_kv_int(j, "usedBytes", logs + vols);
                        kl_json_end_object(j);
                }
                kl_json_end_object(j);
        }
        kl_json_end_array(j);
        kl_json_end_object(j);
}

int kl_node_status_file_update(const struct kl_node_status_ctx *x, char **last, struct kl_error *reterr) {
        struct kl_json j = {};
        struct kl_node_info ni;

        /* Only what changes meaningfully: a write per change, not per tick
         * (flash storage wears). */
        kl_node_get_info(x->node, &ni);
        kl_json_begin_object(&j);
        kl_json_kv_string(&j, "node", x->cfg->node_name);
        kl_json_kv_string(&j, "kubeletVersion", "kubelet-lite " KL_VERSION);
        kl_json_kv_bool(&j, "runtimeReady", kl_pm_runtime_ok(x->pm));
        kl_json_key(&j, "conditions");
        kl_json_begin_object(&j);
        kl_json_kv_bool(&j, "MemoryPressure", kl_pm_node_condition(x->pm, KL_EVICTION_MEMORY_PRESSURE));
        kl_json_kv_bool(&j, "DiskPressure", kl_pm_node_condition(x->pm, KL_EVICTION_DISK_PRESSURE));
        kl_json_kv_bool(&j, "PIDPressure", kl_pm_node_condition(x->pm, KL_EVICTION_PID_PRESSURE));
        kl_json_end_object(&j);
        kl_json_key(&j, "allocatable");
        kl_json_begin_object(&j);
        kl_json_kv_int(&j, "cpuMilli", ni.cpu_allocatable_milli);
        kl_json_kv_int(&j, "memoryBytes", ni.memory_allocatable);
        kl_json_kv_int(&j, "pods", ni.pods_allocatable);
        kl_json_end_object(&j);
        kl_json_key(&j, "pods");
        kl_json_begin_array(&j);
        struct kl_pod_iter it = {};
        struct kl_pod_view w;
        while (kl_pm_next_pod(x->pm, &it, &w)) {
                if (!w.spec || !w.desired)
                        continue;
                unsigned ready = 0, restarts = 0, n = 0;
                for (size_t i = 0; i < w.n_containers; i++) {
                        struct kl_container_view cs;
                        kl_pm_pod_container(&w, i, &cs);
                        if (cs.init)
                                continue;
                        ready += cs.ready;
                        restarts += cs.restarts;
                        n++;
                }
                kl_json_begin_object(&j);
                kl_json_kv_string(&j, "name", w.name);
                kl_json_kv_string(&j, "file", w.file);
                kl_json_kv_string(&j, "phase", w.phase);
                if (w.reason)
                        kl_json_kv_string(&j, "reason", w.reason);
                if (w.manifest_error)
                        kl_json_kv_string(&j, "manifestError", w.manifest_error);
                kl_json_kv_int(&j, "ready", ready);
                kl_json_kv_int(&j, "containers", n);
                kl_json_kv_int(&j, "restarts", restarts);
                kl_json_end_object(&j);
        }
        kl_json_end_array(&j);
        kl_json_end_object(&j);
        kl_buf_puts(&j.buf, "\n");

        size_t len;
        char *data = kl_buf_steal(&j.buf, &len);
        if (!data)
                return kl_error_set(reterr, ENOMEM, "out of memory");
        if (*last && streq(*last, data)) {
                free(data);
                return 0;
        }
        int dfd = open(x->cfg->root_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
                int r = -errno;
                free(data);
                return kl_error_set(reterr, r, "open %s: %s", x->cfg->root_dir, strerror(-r));
        }
        /* A view of memory rewritten every 5 s: no fsync (it cost up to
         * 320 ms on the loop during 200-pod churn). */
        int r = kl_write_file_replace_at(dfd, STATUS_FILE, data, len, 0644, false);
        safe_close(dfd);
        if (r < 0) {
                free(data);
                return kl_error_set(reterr, r, "writing %s/%s: %s", x->cfg->root_dir, STATUS_FILE, strerror(-r));
        }
        free(*last);
        *last = data;
        return 1;
}

/* ---- /metrics/resource ---------------------------------------------------- */

static void label_value(struct kl_buf *b, const char *v) {
        for (; v && *v; v++) {
                if (*v == '\\' || *v == '"')
                        kl_buf_printf(b, "\\%c", *v);
                else if (*v == '\n')
                        kl_buf_puts(b, "\\n");
                else
                        kl_buf_printf(b, "%c", *v);
        }
}

static void sample(struct kl_buf *b, const char *name, const char *container, const char *ns, const char *pod, double v,
                   int64_t ms) {
        kl_buf_puts(b, name);
        if (ns) {
                kl_buf_puts(b, "{");
                if (container) {
                        kl_buf_puts(b, "container=\"");
                        label_value(b, container);
                        kl_buf_puts(b, "\",");
                }
                kl_buf_puts(b, "namespace=\"");
                label_value(b, ns);
                kl_buf_puts(b, "\",pod=\"");
                label_value(b, pod);
                kl_buf_puts(b, "\"}");
        }
        kl_buf_printf(b, " %.9g %lld\n", v, (long long) ms);
}

/* upstream's resource metrics endpoint (pkg/kubelet/metrics/collectors/
 * resource_metrics.go): node, pod and container CPU and working set, with
 * the time of the reading. Values that cannot be read (no cgroup stats, a
 * cgroup v1 host without per-pod cgroups) are left out. */
void kl_node_resource_metrics_render(const struct kl_node_status_ctx *x, struct kl_buf *b) {
        int64_t ms = kl_realtime_nsec() / 1000000;
        struct kl_eviction_observation obs = {};
        struct kl_eviction_sources src = {.root_dir = x->cfg->root_dir, .psi_memory = ""};
        static const struct {
                const char *name, *type, *help;
        } m[] = {
                {"container_cpu_usage_seconds_total", "counter",
                 "[STABLE] Cumulative cpu time consumed by the container in core-seconds"},
                {"container_memory_working_set_bytes", "gauge",
                 "[STABLE] Current working set of the container in bytes"},
                {"container_start_time_seconds", "gauge",
                 "[STABLE] Start time of the container since unix epoch in seconds"},
                {"node_cpu_usage_seconds_total", "counter",
                 "[STABLE] Cumulative cpu time consumed by the node in core-seconds"},
                {"node_memory_working_set_bytes", "gauge", "[STABLE] Current working set of the node in bytes"},
                {"pod_cpu_usage_seconds_total", "counter",
                 "[STABLE] Cumulative cpu time consumed by the pod in core-seconds"},
                {"pod_memory_working_set_bytes", "gauge", "[STABLE] Current working set of the pod in bytes"},
        };
        enum {
                C_CPU,
                C_MEM,
                C_START,
                N_CPU,
                N_MEM,
                P_CPU,
                P_MEM
        };
        struct kl_buf part[ELEMENTSOF(m)] = {};
        bool errors = false;

        struct kl_pod_iter it = {};
        struct kl_pod_view w;
        while (kl_pm_next_pod(x->pm, &it, &w)) {
                struct kl_cg_stats st = {};
                if (!w.spec || !w.sandbox_ready)
                        continue;
                if (kl_node_stats(x->node, w.uid, NULL, &st) >= 0) {
                        if (st.have & KL_CG_STATS_CPU)
                                sample(&part[P_CPU], m[P_CPU].name, NULL, w.namespace, w.name,
                                       (double) st.cpu_usage_usec / 1e6, ms);
                        if (st.have & KL_CG_STATS_MEMORY)
                                sample(&part[P_MEM], m[P_MEM].name, NULL, w.namespace, w.name,
                                       (double) st.memory_working_set, ms);
                }
                for (size_t i = 0; i < w.n_containers; i++) {
                        struct kl_container_view cs;
                        kl_pm_pod_container(&w, i, &cs);
                        if (!cs.id || !cs.running)
                                continue;
                        if (cs.started_at > 0)
                                sample(&part[C_START], m[C_START].name, cs.name, w.namespace, w.name,
                                       (double) cs.started_at / 1e9, ms);
                        st = (struct kl_cg_stats){};
                        if (kl_node_stats(x->node, w.uid, cs.id, &st) < 0) {
                                errors = true;
                                continue;
                        }
                        if (st.have & KL_CG_STATS_CPU)
                                sample(&part[C_CPU], m[C_CPU].name, cs.name, w.namespace, w.name,
                                       (double) st.cpu_usage_usec / 1e6, ms);
                        if (st.have & KL_CG_STATS_MEMORY)
                                sample(&part[C_MEM], m[C_MEM].name, cs.name, w.namespace, w.name,
                                       (double) st.memory_working_set, ms);
                }
        }
        int64_t cpu = node_cpu_nsec();
        if (cpu >= 0)
                sample(&part[N_CPU], m[N_CPU].name, NULL, NULL, NULL, (double) cpu / 1e9, ms);
        if (kl_eviction_read_signals(&src, &obs) >= 0 && obs.memory_working_set >= 0)
                sample(&part[N_MEM], m[N_MEM].name, NULL, NULL, NULL, (double) obs.memory_working_set, ms);
        for (size_t k = 0; k < ELEMENTSOF(m); k++) {
                kl_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", m[k].name, m[k].help, m[k].name, m[k].type);
                if (part[k].len)
                        kl_buf_printf(b, "%.*s", (int) part[k].len, part[k].data);
                free(part[k].data);
        }
        kl_buf_printf(b,
                      "# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container "
                      "metrics, 0 otherwise\n# TYPE resource_scrape_error gauge\nresource_scrape_error %d\n",
                      errors ? 1 : 0);
}
