/* SPDX-License-Identifier: Apache-2.0 */
/* kubelet-lite: a kubelet for static pods on edge appliances. */
#include <errno.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>

#include "kubelet-lite/config.h"
#include "kubelet-lite/event.h"
#include "kubelet-lite/server/healthz.h"
#include "kubelet-lite/server/http.h"
#include "kubelet-lite/apiserver/apiserver.h"
#include "kubelet-lite/cli.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/macros.h"
#include "lib/strbuf.h"
#include "kubelet-lite/server/metrics.h"
#include "manifests/source.h"
#include "kubelet-lite/cm/devicemanager.h"
#include "kubelet-lite/cm/node.h"
#include "kubelet-lite/server/nodestatus.h"
#include "kubelet-lite/server/dirstats.h"
#include "kubelet-lite/notify.h"
#include "kubelet-lite/pod/manager.h"
#include "kubelet-lite/recorder.h"
#include "kubelet-lite/cm/sysctl.h"
#include "manifests/strv.h"
#include "kubelet-lite/images/imagegc.h"
#include "kubelet-lite/images/preload.h"
#include "runtime/cri.h"
#include "kubelet-lite/validate.h"

struct daemon {
        struct kl_config cfg;
        struct kl_event *loop;
        struct kl_cri *cri;
        struct kl_node *node;
        struct kl_source *source;
        struct kl_pm *pm;
        struct kl_dm *dm; /* device plugins */
        struct kl_recorder *recorder;
        struct kl_preload *preload;
        struct kl_imagegc *imagegc;
        struct kl_metrics *metrics;
        struct kl_metrics *probe_metrics; /* /metrics/probes */
        struct kl_kubelet_metrics km;
        struct kl_metric *manifest_syncs, *manifest_skipped;
        struct kl_http_server *metrics_srv;
        char *metrics_bind;
        struct kl_event_timer *status_timer;
        struct kl_dirstats *dirstats; /* pod directory usage for /stats/summary */
        struct kl_event_timer *dirstats_timer;
        char *status_last;
        int64_t start_nsec;
        struct kl_healthz *healthz;
        struct kl_event_timer *healthz_timer;
        struct kl_http_server *readonly;
        struct kl_apiserver *facade;
        struct kl_event_io *source_io, *signal_io;
        struct kl_event_timer *source_timer, *watchdog_timer;
        int signal_fd;
        uint64_t watchdog_usec;
        char host_ip[64];
};

static void help(void) {
        printf("Usage: kubelet-lite [OPTIONS]\n"
               "       kubelet-lite validate [--strict] [--node-name NAME] FILE|DIR...\n"
               "\n"
               "A kubelet for edge appliances: runs the static pods found in a manifest\n"
               "directory on a CRI runtime (containerd), without an API server.\n"
               "\n"
               "Options (upstream kubelet's names; flags override the --config file):\n"
               "  --config FILE                     KubeletConfiguration file (kubelet.config.k8s.io/v1beta1)\n"
               "  --pod-manifest-path DIR           static pod manifests (staticPodPath) [%s]\n"
               "  --container-runtime-endpoint URL  CRI endpoint (containerRuntimeEndpoint) [%s]\n"
               "  --root-dir DIR                    state directory [%s]\n"
               "  --hostname-override NAME          node name instead of the hostname\n"
               "  --healthz-port PORT               /healthz port, 0 disables (healthzPort) [10248]\n"
               "  --healthz-bind-address ADDR       /healthz address (healthzBindAddress) [127.0.0.1]\n"
               "  --read-only-port PORT             /pods, /metrics port, 0 disables (readOnlyPort) [0]\n"
               "  --address ADDR                    read-only port address (address) [127.0.0.1]\n"
               "  --cgroups-per-qos BOOL            create the kubepods cgroup tree (cgroupsPerQOS) [true]\n"
               "  --cgroup-root PATH                cgroup for kubepods (cgroupRoot) [/]\n"
               "  --strict-manifests                unknown manifest fields are errors, not warnings\n"
               "  --metrics-bind-address ADDR:PORT  also serve /metrics alone on this address\n"
               "  --allowed-unsafe-sysctls LIST     unsafe sysctls (or 'prefix*') pods may set, comma-separated\n"
               "  -v, --v LEVEL                     log verbosity, as upstream's klog: 0-3 info, 4 and above\n"
               "                                    debug (-v 4, -v=4, --v=4 and --v 4 all work) [0]\n"
               "  --version                         print the version and exit\n"
               "  -h, --help                        show this help\n"
               "\n"
               "Subcommands:\n"
               "  validate                          check manifests without a runtime; see 'validate --help'\n"
               "  get, describe, logs, events       inspect the running daemon through its API facade; see\n"
               "                                    'get --help' and docs/INSPECT.md\n",
               KL_DEFAULT_MANIFEST_DIR, KL_DEFAULT_ENDPOINT, KL_DEFAULT_ROOT_DIR);
}

static int parse_bool(const char *s, bool *ret) {
        if (!s || streq(s, "true") || streq(s, "1")) {
                *ret = true;
                return 0;
        }
        if (streq(s, "false") || streq(s, "0")) {
                *ret = false;
                return 0;
        }
        return -EINVAL;
}

static int parse_port(const char *s, int *ret) {
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno || *end || v < 0 || v > 65535)
                return -EINVAL;
        *ret = (int) v;
        return 0;
}

enum {
        ARG_CONFIG = 0x100,
        ARG_MANIFEST_PATH,
        ARG_ENDPOINT,
        ARG_ROOT_DIR,
        ARG_HOSTNAME,
        ARG_HEALTHZ_PORT,
        ARG_HEALTHZ_ADDR,
        ARG_RO_PORT,
        ARG_ADDRESS,
        ARG_CGROUPS_PER_QOS,
        ARG_CGROUP_ROOT,
        ARG_STRICT,
        ARG_VERSION,
        ARG_METRICS_BIND,
        ARG_UNSAFE_SYSCTLS,
};

static const struct option options[] = {
        {"config", required_argument, NULL, ARG_CONFIG},
        {"pod-manifest-path", required_argument, NULL, ARG_MANIFEST_PATH},
        {"container-runtime-endpoint", required_argument, NULL, ARG_ENDPOINT},
        {"root-dir", required_argument, NULL, ARG_ROOT_DIR},
        {"hostname-override", required_argument, NULL, ARG_HOSTNAME},
        {"healthz-port", required_argument, NULL, ARG_HEALTHZ_PORT},
        {"healthz-bind-address", required_argument, NULL, ARG_HEALTHZ_ADDR},
        {"read-only-port", required_argument, NULL, ARG_RO_PORT},
        {"address", required_argument, NULL, ARG_ADDRESS},
        {"cgroups-per-qos", optional_argument, NULL, ARG_CGROUPS_PER_QOS},
        {"cgroup-root", required_argument, NULL, ARG_CGROUP_ROOT},
        {"strict-manifests", no_argument, NULL, ARG_STRICT},
        {"v", required_argument, NULL, 'v'},
        {"metrics-bind-address", required_argument, NULL, ARG_METRICS_BIND},
        {"allowed-unsafe-sysctls", required_argument, NULL, ARG_UNSAFE_SYSCTLS},
        {"version", no_argument, NULL, ARG_VERSION},
        {"help", no_argument, NULL, 'h'},
        {},
};

/* klog's -v: "-v 2", "-v2", "-v=2" (Go's single-dash form), "--v=2", "--v 2". */
static int parse_verbosity(const char *s, int *ret) {
        char *end;
        if (*s == '=')
                s++;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno || end == s || *end || v < 0 || v > 100)
                return -EINVAL;
        *ret = (int) v;
        return 0;
}

static int set_opt_str(char **dst, const char *v) {
        char *n = strdup(v);
        if (!n)
                return -ENOMEM;
        free(*dst);
        *dst = n;
        return 0;
}

/* Two passes: first find --config (the file is the base), then let every
 * other flag override it. Returns 1 when the program should exit 0. */
static char *metrics_bind_arg;

static int parse_args(int argc, char **argv, struct kl_config *cfg) {
        int c, r;

        opterr = 0;
        optind = 1;
        while ((c = getopt_long(argc, argv, "hv:", options, NULL)) >= 0)
                if (c == ARG_CONFIG && (r = set_opt_str(&cfg->config_path, optarg)) < 0)
                        return r;
        if (cfg->config_path) {
                struct kl_error err = {};
                char **warnings = NULL;
                r = kl_config_load_file(cfg, cfg->config_path, &warnings, &err);
                for (char **w = warnings; w && *w; w++) {
                        log_warning("config: %s", *w);
                        free(*w);
                }
                free(warnings);
                if (r < 0)
                        return log_error_errno(r, "config '%s': %s", cfg->config_path, kl_error_str(&err));
        }

        opterr = 1;
        optind = 1;
        while ((c = getopt_long(argc, argv, "hv:", options, NULL)) >= 0) {
                r = 0;
                switch (c) {
                case 'h': help(); return 1;
                case ARG_VERSION: printf("kubelet-lite %s\n", KL_VERSION); return 1;
                case ARG_CONFIG: break;
                case ARG_MANIFEST_PATH: r = set_opt_str(&cfg->static_pod_path, optarg); break;
                case ARG_ENDPOINT: r = set_opt_str(&cfg->container_runtime_endpoint, optarg); break;
                case ARG_ROOT_DIR: r = set_opt_str(&cfg->root_dir, optarg); break;
                case ARG_HOSTNAME: r = set_opt_str(&cfg->hostname_override, optarg); break;
                case ARG_HEALTHZ_ADDR: r = set_opt_str(&cfg->healthz_bind_address, optarg); break;
                case ARG_ADDRESS: r = set_opt_str(&cfg->address, optarg); break;
                case ARG_CGROUP_ROOT: r = set_opt_str(&cfg->cgroup_root, optarg); break;
                case ARG_STRICT: cfg->strict_manifests = true; break;
                case ARG_METRICS_BIND: r = set_opt_str(&metrics_bind_arg, optarg); break;
                case ARG_UNSAFE_SYSCTLS: {
                        /* comma-separated, as upstream's flag */
                        struct kl_error err = {};
                        char **v = NULL;
                        for (const char *p = optarg; r >= 0 && *p;) {
                                size_t n = strcspn(p, ",");
                                _cleanup_free_ char *one = strndup(p, n);
                                r = one ? (n > 0 ? kl__strv_push(&v, one) : 0) : -ENOMEM;
                                p += n + (p[n] == ',');
                        }
                        if (r >= 0 && kl_sysctl_check_config(v, &err) < 0) {
                                kl__strv_free(v);
                                return log_error_errno(-EINVAL, "--allowed-unsafe-sysctls: %s", kl_error_str(&err));
                        }
                        if (r >= 0) {
                                kl__strv_free(cfg->allowed_unsafe_sysctls);
                                cfg->allowed_unsafe_sysctls = v;
                        }
                        break;
                }
                case ARG_HEALTHZ_PORT:
                        if (parse_port(optarg, &cfg->healthz_port) < 0)
                                return log_error_errno(-EINVAL, "--healthz-port: invalid port '%s'", optarg);
                        break;
                case ARG_RO_PORT:
                        if (parse_port(optarg, &cfg->read_only_port) < 0)
                                return log_error_errno(-EINVAL, "--read-only-port: invalid port '%s'", optarg);
                        break;
                case ARG_CGROUPS_PER_QOS:
                        if (parse_bool(optarg, &cfg->cgroups_per_qos) < 0)
                                return log_error_errno(-EINVAL, "--cgroups-per-qos: invalid boolean '%s'", optarg);
                        break;
                case 'v':
                        if (parse_verbosity(optarg, &cfg->verbosity) < 0)
                                return log_error_errno(-EINVAL, "-v: invalid verbosity '%s' (want 0..100)",
                                                       optarg + (optarg[0] == '='));
                        break;
                default: fprintf(stderr, "Try 'kubelet-lite --help'.\n"); return -EINVAL;
                }
                if (r < 0)
                        return log_error_errno(r, "out of memory");
        }
        if (optind < argc)
                return log_error_errno(-EINVAL, "unexpected argument '%s'", argv[optind]);
        return 0;
}

/* The node's address, as upstream picks it without a cloud provider: the
 * first non-loopback IPv4 address. */
static void detect_host_ip(char *buf, size_t n) {
        struct ifaddrs *ifa = NULL;
        snprintf(buf, n, "127.0.0.1");
        if (getifaddrs(&ifa) < 0)
                return;
        for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
                if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
                        continue;
                const struct sockaddr_in *in = (const struct sockaddr_in *) i->ifa_addr;
                if ((ntohl(in->sin_addr.s_addr) >> 24) == 127)
                        continue;
                inet_ntop(AF_INET, &in->sin_addr, buf, (socklen_t) n);
                break;
        }
        freeifaddrs(ifa);
}

/* ---- HTTP endpoints --------------------------------------------------------- */

static bool syncloop_healthy(struct daemon *d) {
        uint64_t last = kl_pm_last_sync(d->pm);
        return last > 0 && kl_now_usec() - last <= d->cfg.syncloop_stuck_usec;
}

/* /healthz on the read-only port, from the loop (the healthz port has its
 * own thread: server/healthz.h). */
static void handle_healthz(const char *path, const char *query, struct kl_http_response *resp, void *userdata) {
        struct daemon *d = userdata;
        struct kl_healthz_state st = {
                .last_sync_usec = kl_pm_last_sync(d->pm),
                .stuck_usec = d->cfg.syncloop_stuck_usec,
                .runtime_error = kl_pm_runtime_error(d->pm),
        };
        (void) query;
        kl_healthz_render(&st, kl_now_usec(), path, resp);
}

/* What the healthz thread answers from: published once a second, so a loop
 * that stops turning shows as a stale sync there. */
static void on_healthz_timer(struct kl_event_timer *t, uint64_t now, void *userdata) {
        struct daemon *d = userdata;
        kl_healthz_publish(d->healthz, kl_pm_last_sync(d->pm), kl_pm_runtime_error(d->pm));
        kl_event_timer_set(t, now + KL_USEC_PER_SEC);
}

static void status_ctx(struct daemon *d, struct kl_node_status_ctx *x) {
        *x = (struct kl_node_status_ctx){
                .cfg = &d->cfg,
                .node = d->node,
                .pm = d->pm,
                .host_ip = d->host_ip,
                .runtime_version = kl_pm_runtime_version(d->pm),
                .start_nsec = d->start_nsec,
                .dirstats = d->dirstats,
        };
}

static void handle_metrics_only(const char *path, const char *query, struct kl_http_response *resp, void *userdata) {
        struct daemon *d = userdata;
        if (!streq(path, "/metrics")) {
                resp->status = 404;
                kl_buf_puts(&resp->body, "404 page not found\n");
                return;
        }
        if (kl_metrics_render(d->metrics, &resp->body) < 0)
                resp->status = 500;
        resp->content_type = KL_METRICS_CONTENT_TYPE;
}

static void handle_readonly(const char *path, const char *query, struct kl_http_response *resp, void *userdata) {
        struct daemon *d = userdata;
        struct kl_node_status_ctx x;

        if (streq(path, "/node") || streq(path, "/stats/summary") || streq(path, "/stats/summary/")) {
                struct kl_json j = {};
                status_ctx(d, &x);
                if (streq(path, "/node"))
                        kl_node_status_render(&x, &j);
                else
                        kl_node_stats_render(&x, &j);
                resp->body = j.buf;
                resp->content_type = "application/json";
                return;
        }

        if (streq(path, "/pods") || streq(path, "/pods/")) {
                struct kl_json j = {};
                kl_pm_render_pods(d->pm, &j);
                resp->body = j.buf;
                resp->content_type = "application/json";
                return;
        }
        if (streq(path, "/metrics")) {
                if (kl_metrics_render(d->metrics, &resp->body) < 0)
                        resp->status = 500;
                resp->content_type = KL_METRICS_CONTENT_TYPE;
                return;
        }
        if (streq(path, "/metrics/probes")) {
                if (kl_metrics_render(d->probe_metrics, &resp->body) < 0)
                        resp->status = 500;
                resp->content_type = KL_METRICS_CONTENT_TYPE;
                return;
        }
        if (streq(path, "/metrics/resource")) {
                status_ctx(d, &x);
                kl_node_resource_metrics_render(&x, &resp->body);
                resp->content_type = KL_METRICS_CONTENT_TYPE;
                return;
        }
        if (streq(path, "/events") || streq(path, "/events/")) {
                /* ours: the pod events as a v1 EventList */
                struct kl_json j = {};
                kl_recorder_render(d->recorder, NULL, NULL, NULL, &j);
                resp->body = j.buf;
                resp->content_type = "application/json";
                return;
        }
        if (strncmp(path, "/healthz", 8) == 0)
                return handle_healthz(path, query, resp, userdata);
        resp->status = 404;
        kl_buf_puts(&resp->body, "404 page not found\n");
}

/* ---- manifest source ----------------------------------------------------------- */

static void source_sync(struct daemon *d, bool force) {
        bool changed = false;
        uint64_t now = kl_now_usec();
        if (d->manifest_syncs && (force || now >= kl_source_next_deadline(d->source)))
                kl_metric_inc(d->manifest_syncs); /* observable progress, for tests and operators */
        int r = kl_source_sync(d->source, now, force, &changed);
        if (r < 0)
                log_warning_errno(r, "reading manifests from '%s' failed, will retry", d->cfg.static_pod_path);
        size_t n_skipped, more;
        char *const *skipped = kl_source_skipped(d->source, &n_skipped, &more);
        if (d->manifest_skipped)
                kl_metric_add(d->manifest_skipped, (double) (n_skipped + more));
        for (size_t i = 0; i < n_skipped; i++)
                log_info("manifest directory '%s': not reading %s", d->cfg.static_pod_path, skipped[i]);
        if (more > 0)
                log_info("manifest directory '%s': not reading %zu more names", d->cfg.static_pod_path, more);
        if (changed || force) {
                size_t n;
                const struct kl_source_entry *e = kl_source_entries(d->source, &n);
                for (size_t i = 0; i < n; i++) {
                        if (e[i].error && e[i].error_is_new) {
                                /* One log line per error: "file:line:col: field: message". */
                                const char *p = e[i].error;
                                while (*p) {
                                        size_t len = strcspn(p, "\n");
                                        log_error("manifest rejected: %.*s", (int) len, p);
                                        p += len + (p[len] == '\n');
                                }
                        }
                        for (char **w = e[i].warnings; w && *w; w++)
                                log_warning("manifest '%s/%s': %s", d->cfg.static_pod_path, e[i].file, *w);
                }
                kl_pm_set_desired(d->pm, e, n);
        }
        kl_event_timer_set(d->source_timer, kl_source_next_deadline(d->source));
}

static void on_source_io(struct kl_event_io *io, int fd, uint32_t revents, void *userdata) {
        struct daemon *d = userdata;
        (void) kl_source_handle_events(d->source, kl_now_usec());
        kl_event_timer_set(d->source_timer, kl_source_next_deadline(d->source));
}

static void on_devices_changed(void *userdata) {
        struct daemon *d = userdata;
        kl_pm_kick(d->pm);
}

static void on_source_timer(struct kl_event_timer *t, uint64_t now, void *userdata) {
        source_sync(userdata, false);
}

/* ---- signals, watchdog ------------------------------------------------------------ */

/* A node event per preloaded archive, with its size and how long it took. */
static void preload_event(struct daemon *d) {
        struct kl_preload_result pr;
        struct kl_event_object o = {.kind = "Node", .name = d->cfg.node_name, .uid = d->cfg.node_name};
        kl_preload_last(d->preload, &pr);
        if (pr.ok)
                kl_recorder_record(d->recorder, &o, "Normal", "ImagesPreloaded",
                                   "Imported the images of \"%s\" (%lld bytes) in %.3fs", strempty(pr.name),
                                   (long long) pr.size, pr.seconds);
        else
                kl_recorder_record(d->recorder, &o, "Warning", "ImagePreloadFailed",
                                   "Importing the images of \"%s\" (%lld bytes) failed after %.3fs", strempty(pr.name),
                                   (long long) pr.size, pr.seconds);
}

static void on_signal(struct kl_event_io *io, int fd, uint32_t revents, void *userdata) {
        struct daemon *d = userdata;
        struct signalfd_siginfo si;

        while (read(fd, &si, sizeof(si)) == sizeof(si)) {
                switch (si.ssi_signo) {
                case SIGTERM:
                case SIGINT:
                        log_info("received %s, exiting; pods keep running",
                                 si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
                        kl_notify("STOPPING=1");
                        kl_event_exit(d->loop, 0);
                        return;
                case SIGCHLD:
                        if (d->preload && kl_preload_reap(d->preload) > 0) {
                                preload_event(d);
                                kl_pm_kick(d->pm); /* pods may be waiting for these images */
                                if (kl_preload_step(d->preload) == 0) {
                                        kl_pm_set_images_pending(d->pm, false);
                                        kl_imagegc_set_paused(d->imagegc, false);
                                }
                        }
                        break;
                case SIGHUP:
                        log_info("received SIGHUP, rescanning manifests");
                        source_sync(d, true);
                        break;
                default: break;
                }
        }
}

/* Pod directory usage, a slice at a time: at most 10 ms of walking a
 * second, so /stats/summary never walks a disk in a request. */
static void on_dirstats_timer(struct kl_event_timer *t, uint64_t now, void *userdata) {
        struct daemon *d = userdata;
        (void) kl_dirstats_step(d->dirstats, now, 10 * KL_USEC_PER_MSEC, 10 * 60 * KL_USEC_PER_SEC);
        kl_event_timer_set(t, now + KL_USEC_PER_SEC);
}

static void on_status_timer(struct kl_event_timer *t, uint64_t now, void *userdata) {
        struct daemon *d = userdata;
        struct kl_node_status_ctx x;
        struct kl_error err = {};
        status_ctx(d, &x);
        if (kl_node_status_file_update(&x, &d->status_last, &err) < 0)
                log_warning("status file: %s, ignoring", kl_error_str(&err));
        kl_event_timer_set(t, now + 5 * KL_USEC_PER_SEC);
}

static void on_watchdog(struct kl_event_timer *t, uint64_t now, void *userdata) {
        struct daemon *d = userdata;
        /* Only a healthy sync loop pets the watchdog, so systemd restarts a stuck one. */
        if (syncloop_healthy(d))
                kl_notify("WATCHDOG=1");
        kl_event_timer_set(t, now + d->watchdog_usec / 2);
}

static int setup_signals(struct daemon *d) {
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGCHLD);
        d->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (d->signal_fd < 0)
                return -errno;
        return kl_event_add_io(d->loop, d->signal_fd, EPOLLIN, on_signal, d, &d->signal_io);
}

static void render_node(struct kl_json *j, void *userdata) {
        struct kl_node_status_ctx x;
        status_ctx(userdata, &x);
        kl_node_status_render(&x, j);
}

/* The API facade for kubectl; a failure only disables it. */
static void facade_start(struct daemon *d) {
        struct kl_error err = {};
        char path[4096];
        if (d->cfg.api_facade_port <= 0)
                return;
        snprintf(path, sizeof(path), "%s/kubeconfig", d->cfg.root_dir);
        struct kl_apiserver_params ap = {
                .loop = d->loop,
                .cfg = &d->cfg,
                .pm = d->pm,
                .recorder = d->recorder,
                .render_node = render_node,
                .userdata = d,
                .address = d->cfg.api_facade_address,
                .port = d->cfg.api_facade_port,
                .kubeconfig_path = path,
                .host_ip = d->host_ip,
        };
        if (kl_apiserver_new(&ap, &d->facade, &err) < 0)
                log_warning("API facade: %s, continuing without it", kl_error_str(&err));
        else
                log_info("API facade on %s:%d; KUBECONFIG=%s kubectl get pods", d->cfg.api_facade_address,
                         kl_apiserver_port(d->facade), path);
}

/* Images of the desired pods are kept even before their containers exist. */
static void desired_images(struct kl_imagegc *gc, void *userdata) {
        struct daemon *d = userdata;
        struct kl_pod_iter it = {};
        struct kl_pod_view v;
        if (!d->pm)
                return;
        while (kl_pm_next_pod(d->pm, &it, &v)) {
                if (!v.spec || !v.desired)
                        continue;
                for (size_t i = 0; i < v.spec->n_init_containers; i++)
                        kl_imagegc_keep_ref(gc, v.spec->init_containers[i].image);
                for (size_t i = 0; i < v.spec->n_containers; i++)
                        kl_imagegc_keep_ref(gc, v.spec->containers[i].image);
        }
}

static void daemon_done(struct daemon *d) {
        kl_apiserver_free(d->facade);
        kl_event_timer_free(d->healthz_timer);
        d->healthz = kl_healthz_stop(d->healthz);
        kl_http_server_free(d->readonly);
        if (d->node)
                kl_node_set_devices(d->node, NULL);
        kl_dm_free(d->dm);
        kl_pm_free(d->pm);
        kl_recorder_free(d->recorder);
        kl_preload_free(d->preload);
        kl_http_server_free(d->metrics_srv);
        kl_event_timer_free(d->status_timer);
        kl_event_timer_free(d->dirstats_timer);
        kl_dirstats_free(d->dirstats);
        free(d->status_last);
        free(d->metrics_bind);
        kl_metrics_free(d->metrics);
        kl_metrics_free(d->probe_metrics);
        kl_event_io_free(d->source_io);
        kl_event_io_free(d->signal_io);
        kl_event_timer_free(d->source_timer);
        kl_event_timer_free(d->watchdog_timer);
        kl_source_free(d->source);
        kl_cri_free(d->cri);
        kl_imagegc_free(d->imagegc); /* after the runtime: its pending calls point at it */
        kl_node_free(d->node);
        kl_event_free(d->loop);
        safe_close(d->signal_fd);
        kl_config_done(&d->cfg);
}

static int run(int argc, char **argv) {
        struct daemon d = {.signal_fd = -EBADF};
        struct kl_error err = {};
        int r;

        kl_config_init(&d.cfg);
        r = parse_args(argc, argv, &d.cfg);
        if (r != 0) {
                kl_config_done(&d.cfg);
                return r > 0 ? 0 : 1;
        }
        kl_log_set_verbosity(d.cfg.verbosity);
        r = kl_config_finalize(&d.cfg, &err);
        if (r < 0) {
                log_error("invalid configuration: %s", kl_error_str(&err));
                goto out;
        }
        detect_host_ip(d.host_ip, sizeof(d.host_ip));
        log_info("kubelet-lite %s starting: node=%s manifests=%s runtime=%s", KL_VERSION, d.cfg.node_name,
                 d.cfg.static_pod_path, d.cfg.container_runtime_endpoint);

        if ((r = kl_mkdir_p(d.cfg.root_dir, 0700)) < 0 || (r = kl_mkdir_p(d.cfg.pod_logs_dir, 0755)) < 0) {
                log_error_errno(r, "creating '%s' or '%s'", d.cfg.root_dir, d.cfg.pod_logs_dir);
                goto out;
        }
        if ((r = kl_event_new(&d.loop)) < 0 || (r = setup_signals(&d)) < 0) {
                log_error_errno(r, "setting up the event loop");
                goto out;
        }
        r = kl_node_new(&d.cfg, &d.node, &err);
        if (r < 0) {
                log_error("%s", kl_error_str(&err));
                goto out;
        }
        r = kl_cri_new(d.cfg.container_runtime_endpoint,
                       (int64_t) (d.cfg.runtime_request_timeout_usec / KL_USEC_PER_MSEC), &d.cri, &err);
        if (r < 0) {
                log_error("container runtime '%s': %s", d.cfg.container_runtime_endpoint, kl_error_str(&err));
                goto out;
        }
        struct kl_manifest_opts mopts;
        kl_manifest_opts_default(&mopts);
        mopts.strict = d.cfg.strict_manifests;
        mopts.rescan_usec = d.cfg.file_check_frequency_usec;
        r = kl_source_new(d.cfg.static_pod_path, d.cfg.node_name, &mopts, &d.source);
        if (r >= 0 && d.cfg.manifest_suffixes)
                r = kl_source_set_suffixes(d.source, d.cfg.manifest_suffixes);
        if (r < 0) {
                log_error_errno(r, "watching '%s'", d.cfg.static_pod_path);
                goto out;
        }
        d.metrics = kl_metrics_new();
        d.probe_metrics = kl_metrics_new();
        if (!d.metrics || !d.probe_metrics || (r = kl_metrics_register_kubelet(d.metrics, &d.km)) < 0 ||
            (r = kl_metrics_register_process(d.metrics)) < 0 ||
            !(d.manifest_syncs = kl_metrics_counter(d.metrics, "kubelet_lite_manifest_syncs_total",
                                                    "Scans of the manifest directory (debounced changes, "
                                                    "periodic rescans, SIGHUP)",
                                                    NULL)) ||
            !(d.manifest_skipped = kl_metrics_counter(d.metrics, "kubelet_lite_manifest_skipped_names_total",
                                                      "Names in the manifest directory newly skipped (not a "
                                                      "manifest suffix, hidden, editor or backup file...)",
                                                      NULL))) {
                log_error("setting up metrics: out of memory");
                r = -ENOMEM;
                goto out;
        }
        if ((r = kl_recorder_new(KL_RECORDER_DEFAULT_CAP, d.cfg.node_name, &d.recorder)) < 0) {
                log_error_errno(r, "setting up");
                goto out;
        }
        /* Image GC; its reclaim hook reaches the eviction manager through the config. */
        struct kl_imagegc_params gp = {
                .loop = d.loop,
                .cri = d.cri,
                .cfg = &d.cfg,
                .recorder = d.recorder,
                .removed = kl_metrics_counter(d.metrics, "kubelet_image_garbage_collected_total",
                                              "Total number of images garbage collected by the kubelet, whether "
                                              "through disk usage or image age.",
                                              (const char *const[]){"reason", NULL}),
                .desired_images = desired_images,
                .userdata = &d,
        };
        if ((r = kl_imagegc_new(&gp, &d.imagegc)) < 0) {
                log_error_errno(r, "setting up image garbage collection");
                goto out;
        }
        d.cfg.node_reclaim = kl_imagegc_reclaim;
        d.cfg.node_reclaim_userdata = d.imagegc;
        struct kl_pm_params pp = {
                .loop = d.loop,
                .cri = d.cri,
                .cfg = &d.cfg,
                .node = d.node,
                .host_ip = d.host_ip,
                .metrics = d.metrics,
                .km = &d.km,
                .recorder = d.recorder,
                .probe_metrics = d.probe_metrics,
        };
        if ((r = kl_pm_new(&pp, &d.pm)) < 0 ||
            (r = kl_event_add_io(d.loop, kl_source_fd(d.source), EPOLLIN, on_source_io, &d, &d.source_io)) < 0 ||
            (r = kl_event_add_timer(d.loop, KL_USEC_INFINITY, on_source_timer, &d, &d.source_timer)) < 0) {
                log_error_errno(r, "setting up");
                goto out;
        }
        /* Device plugins register on <root-dir>/device-plugins/kubelet.sock,
         * as upstream's; without it the node simply has no devices. */
        {
                char dpdir[4096];
                snprintf(dpdir, sizeof(dpdir), "%s/device-plugins", d.cfg.root_dir);
                struct kl_dm_params dp = {.loop = d.loop,
                                          .dir = dpdir,
                                          .metrics = d.metrics,
                                          .changed = on_devices_changed,
                                          .userdata = &d};
                if (kl_dm_new(&dp, &d.dm, &err) < 0)
                        log_error("device manager: %s; running without device plugins", kl_error_str(&err));
                else
                        kl_node_set_devices(d.node, d.dm);
        }
        if (d.cfg.healthz_port > 0) {
                r = kl_healthz_start(d.cfg.healthz_bind_address, d.cfg.healthz_port, d.cfg.syncloop_stuck_usec,
                                     &d.healthz);
                if (r >= 0)
                        r = kl_event_add_timer(d.loop, kl_now_usec(), on_healthz_timer, &d, &d.healthz_timer);
                if (r < 0) {
                        log_error_errno(r, "listening on %s:%d for /healthz", d.cfg.healthz_bind_address,
                                        d.cfg.healthz_port);
                        goto out;
                }
        }
        if (d.cfg.read_only_port > 0) {
                r = kl_http_server_new(d.loop, d.cfg.address, d.cfg.read_only_port, handle_readonly, &d, &d.readonly);
                if (r < 0) {
                        log_error_errno(r, "listening on %s:%d for the read-only port", d.cfg.address,
                                        d.cfg.read_only_port);
                        goto out;
                }
        }
        if (d.cfg.image_preload_dir && d.cfg.image_preload_dir[0]) {
                r = kl_preload_new(d.cfg.image_preload_dir, d.cfg.root_dir, d.cfg.container_runtime_endpoint,
                                   getenv("KUBELET_LITE_CTR"), &d.preload);
                if (r < 0)
                        log_warning_errno(r, "imagePreloadDir '%s': cannot read it, ignoring", d.cfg.image_preload_dir);
                if (d.preload && kl_preload_step(d.preload) > 0) {
                        kl_pm_set_images_pending(d.pm, true);
                        kl_imagegc_set_paused(d.imagegc, true);
                }
                if (kl_imagegc_set_pinned_refs(d.imagegc, kl_preload_refs(d.preload)) < 0)
                        log_warning("image GC: out of memory pinning the preloaded images, ignoring");
        }
        d.metrics_bind = TAKE_PTR(metrics_bind_arg);
        if (d.metrics_bind) {
                char *colon = strrchr(d.metrics_bind, ':');
                int port;
                if (!colon || parse_port(colon + 1, &port) < 0 || port == 0) {
                        log_error("--metrics-bind-address '%s': want ADDRESS:PORT", d.metrics_bind);
                        r = -EINVAL;
                        goto out;
                }
                *colon = '\0';
                const char *addr = d.metrics_bind;
                if (addr[0] == '[') { /* [::1]:port */
                        addr++;
                        if (colon > addr && colon[-1] == ']')
                                colon[-1] = '\0';
                }
                r = kl_http_server_new(d.loop, addr, port, handle_metrics_only, &d, &d.metrics_srv);
                if (r < 0) {
                        log_error_errno(r, "listening on %s:%d for /metrics", addr, port);
                        goto out;
                }
        }
        d.start_nsec = kl_realtime_nsec();
        facade_start(&d);
        if ((r = kl_event_add_timer(d.loop, kl_now_usec() + 2 * KL_USEC_PER_SEC, on_status_timer, &d,
                                    &d.status_timer)) < 0 ||
            (r = kl_dirstats_new(&d.dirstats)) < 0 ||
            (r = kl_event_add_timer(d.loop, kl_now_usec() + KL_USEC_PER_SEC, on_dirstats_timer, &d,
                                    &d.dirstats_timer)) < 0)
                goto out;
        source_sync(&d, true);

        d.watchdog_usec = kl_notify_watchdog_usec();
        if (d.watchdog_usec > 0 && (r = kl_event_add_timer(d.loop, kl_now_usec() + d.watchdog_usec / 2, on_watchdog, &d,
                                                           &d.watchdog_timer)) < 0)
                goto out;
        kl_notify("READY=1\nSTATUS=running");
        log_info("ready: healthz=%s:%d read-only=%s:%d", d.cfg.healthz_bind_address, d.cfg.healthz_port, d.cfg.address,
                 d.cfg.read_only_port);

        r = kl_event_run(d.loop);
out:
        daemon_done(&d);
        return r < 0 ? 1 : 0;
}

int main(int argc, char **argv) {
        sigset_t all;

        if (argc > 1 && streq(argv[1], "validate"))
                return kl_validate_main(argc - 1, argv + 1);
        if (argc > 1 && kl_cli_is_command(argv[1]))
                return kl_cli_main(argc - 1, argv + 1);

        /* Block every signal before grpc starts its threads: they all inherit
         * the mask, so signals reach only our signalfd. */
        signal(SIGPIPE, SIG_IGN);
        sigfillset(&all);
        sigdelset(&all, SIGSEGV);
        sigdelset(&all, SIGBUS);
        sigdelset(&all, SIGFPE);
        sigdelset(&all, SIGILL);
        sigdelset(&all, SIGABRT);
        sigprocmask(SIG_BLOCK, &all, NULL);
        return run(argc, argv);
}
