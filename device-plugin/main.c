/* SPDX-License-Identifier: Apache-2.0 */
/* kubelet-lite-device-plugin: a generic device plugin for boards, speaking
 * the kubelet's device plugin API (k8s.io/kubelet/pkg/apis/deviceplugin/
 * v1beta1) to kubelet-lite or to upstream kubelet.
 *
 *   kubelet-lite-device-plugin --device kubelet-lite.io/serial=/dev/ttyUSB*,/dev/ttyACM* \
 *                              [--device NAME=GLOB...] [--dir DIR] [--scan-interval SECONDS]
 *
 * For each --device it serves DevicePlugin on DIR/<name with '/' as '_'>.sock
 * and registers it with Registration on DIR/kubelet.sock. Like upstream's
 * plugins it watches DIR: a kubelet that restarts recreates kubelet.sock
 * (and removes the plugin sockets), and every plugin then serves again and
 * registers again. The globs are rescanned every interval and ListAndWatch
 * streams get the new list when it changed.
 *
 * A simple program with its own poll loop; grpc's threads only post to the
 * servers' eventfds. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "device-plugin/plugin.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/macros.h"
#include "runtime/deviceplugin.pb-c.h"
#include "runtime/grpc.h"
#include "runtime/grpcserver.h"

#define MAX_RESOURCES 16
#define MAX_STREAMS 8
#define REGISTER_TIMEOUT_MS 5000

struct plugin {
        struct kl_dp_resource *res;
        struct kl_grpc_server *srv;
        char *socket;
        struct kl_grpc_server_call *streams[MAX_STREAMS];
        bool registered;
};

static struct plugin plugins[MAX_RESOURCES];
static size_t n_plugins;
static const char *dir = KL_DP_DEFAULT_DIR;
static char kubelet_socket[4096];
static struct stat registered_with; /* kubelet.sock's inode at the last Register */

static uint64_t now_msec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

static void send_list(struct plugin *p, struct kl_grpc_server_call *c) {
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len;

        if (kl_dp_list_and_watch_reply(p->res, &buf, &len) < 0) {
                log_error("%s: out of memory", p->res->name);
                return;
        }
        if (c)
                (void) kl_grpc_server_send_raw(c, buf, len);
        else
                for (size_t i = 0; i < MAX_STREAMS; i++)
                        if (p->streams[i])
                                (void) kl_grpc_server_send_raw(p->streams[i], buf, len);
}

static void on_call(struct kl_grpc_server_call *c, const char *method, const uint8_t *data, size_t len, void *ud) {
        struct plugin *p = ud;
        _cleanup_free_ uint8_t *buf = NULL;
        struct kl_error e = {0};
        size_t n;

        log_debug("%s: %s", p->res->name, method);
        if (streq(method, "/v1beta1.DevicePlugin/GetDevicePluginOptions")) {
                V1beta1__DevicePluginOptions o = V1BETA1__DEVICE_PLUGIN_OPTIONS__INIT;
                o.get_preferred_allocation_available = true;
                (void) kl_grpc_server_reply(c, &o.base);
        } else if (streq(method, "/v1beta1.DevicePlugin/ListAndWatch")) {
                for (size_t i = 0; i < MAX_STREAMS; i++)
                        if (!p->streams[i]) {
                                p->streams[i] = c;
                                send_list(p, c);
                                return;
                        }
                (void) kl_grpc_server_fail(c, 8 /* RESOURCE_EXHAUSTED */, "too many ListAndWatch streams");
        } else if (streq(method, "/v1beta1.DevicePlugin/Allocate")) {
                if (kl_dp_allocate_reply(p->res, data, len, &buf, &n, &e) < 0) {
                        log_warning("%s: Allocate: %s", p->res->name, e.msg);
                        (void) kl_grpc_server_fail(c, 3 /* INVALID_ARGUMENT */, e.msg);
                } else
                        (void) kl_grpc_server_reply_raw(c, buf, n);
        } else if (streq(method, "/v1beta1.DevicePlugin/GetPreferredAllocation")) {
                if (kl_dp_preferred_allocation_reply(p->res, data, len, &buf, &n, &e) < 0)
                        (void) kl_grpc_server_fail(c, 3, e.msg);
                else
                        (void) kl_grpc_server_reply_raw(c, buf, n);
        } else if (streq(method, "/v1beta1.DevicePlugin/PreStartContainer")) {
                V1beta1__PreStartContainerResponse r = V1BETA1__PRE_START_CONTAINER_RESPONSE__INIT;
                (void) kl_grpc_server_reply(c, &r.base);
        } else
                (void) kl_grpc_server_fail(c, 12 /* UNIMPLEMENTED */, "unknown method");
}

static void on_closed(struct kl_grpc_server_call *c, void *ud) {
        struct plugin *p = ud;

        for (size_t i = 0; i < MAX_STREAMS; i++)
                if (p->streams[i] == c) {
                        p->streams[i] = NULL;
                        log_info("%s: ListAndWatch stream closed", p->res->name);
                }
}

static const struct kl_grpc_server_ops ops = {on_call, on_closed};

static void stop_serving(struct plugin *p) {
        p->srv = kl_grpc_server_free(p->srv);
        memset(p->streams, 0, sizeof(p->streams));
        p->registered = false;
}

/* (Re)start the server when its socket is gone (a restarted kubelet removes
 * the sockets in its dir, as upstream's does). */
static int ensure_serving(struct plugin *p) {
        struct kl_error e = {0};
        struct stat st;

        if (p->srv && lstat(p->socket, &st) == 0 && S_ISSOCK(st.st_mode))
                return 0;
        if (p->srv)
                log_info("%s: socket %s is gone, serving again", p->res->name, p->socket);
        stop_serving(p);
        if (kl_grpc_server_new(p->socket, &ops, p, &p->srv, &e) < 0)
                return log_error_errno(-e.err, "%s: %s", p->res->name, e.msg);
        return 0;
}

static const struct kl_grpc_method m_register = {"/v1beta1.Registration/Register", "Register",
                                                 &v1beta1__empty__descriptor, NULL};

/* Register every plugin not registered yet, or all of them when kubelet.sock
 * is a new socket. Blocks up to REGISTER_TIMEOUT_MS per plugin: this program
 * has nothing else to do meanwhile, and grpc's threads queue the kubelet's
 * calls to us until we dispatch them. */
static void register_all(void) {
        _cleanup_free_ char *target = NULL;
        struct kl_grpc *g = NULL;
        struct kl_error e = {0};
        struct stat st;

        if (stat(kubelet_socket, &st) < 0)
                return;
        /* a new socket (the inode number alone may be reused at once) */
        if (st.st_ino != registered_with.st_ino || st.st_dev != registered_with.st_dev ||
            st.st_ctim.tv_sec != registered_with.st_ctim.tv_sec ||
            st.st_ctim.tv_nsec != registered_with.st_ctim.tv_nsec)
                for (size_t i = 0; i < n_plugins; i++)
                        plugins[i].registered = false;
        registered_with = st;
        if (asprintf(&target, "unix://%s", kubelet_socket) < 0)
                return;
        for (size_t i = 0; i < n_plugins; i++) {
                struct plugin *p = &plugins[i];
                V1beta1__RegisterRequest req = V1BETA1__REGISTER_REQUEST__INIT;
                V1beta1__DevicePluginOptions o = V1BETA1__DEVICE_PLUGIN_OPTIONS__INIT;
                ProtobufCMessage *reply = NULL;

                if (p->registered || ensure_serving(p) < 0)
                        continue;
                if (!g && kl_grpc_new(target, &g, &e) < 0) {
                        log_error("Register: %s", e.msg);
                        return;
                }
                req.version = (char *) KL_DP_VERSION;
                req.endpoint = p->res->endpoint;
                req.resource_name = p->res->name;
                o.get_preferred_allocation_available = true;
                req.options = &o;
                if (kl_grpc_call(g, &m_register, &req.base, REGISTER_TIMEOUT_MS, &reply, &e) < 0) {
                        log_warning("%s: cannot register with %s: %s, retrying", p->res->name, kubelet_socket, e.msg);
                        continue;
                }
                kl_grpc_message_free(reply);
                p->registered = true;
                log_info("%s: registered with %s (endpoint %s, %zu devices)", p->res->name, kubelet_socket,
                         p->res->endpoint, p->res->n_devices);
        }
        kl_grpc_free(g);
}

static void rescan(void) {
        for (size_t i = 0; i < n_plugins; i++) {
                struct plugin *p = &plugins[i];
                int r = kl_dp_resource_scan(p->res);
                size_t healthy = 0;

                if (r < 0) {
                        log_warning_errno(r, "%s: scanning devices failed: %m, ignoring", p->res->name);
                        continue;
                }
                if (r == 0)
                        continue;
                for (size_t k = 0; k < p->res->n_devices; k++)
                        healthy += p->res->devices[k].healthy;
                log_info("%s: %zu devices, %zu healthy", p->res->name, p->res->n_devices, healthy);
                send_list(p, NULL);
        }
}

static void usage(FILE *f) {
        fprintf(f, "Usage: kubelet-lite-device-plugin --device NAME=GLOB[,GLOB...] [--device ...]\n"
                   "           [--dir DIR] [--scan-interval SECONDS] [-v]\n"
                   "Serves the kubelet device plugin API (v1beta1) for device nodes matched by globs.\n"
                   "  --device NAME=GLOBS  an extended resource, e.g. kubelet-lite.io/serial=/dev/ttyUSB*\n"
                   "  --dir DIR            the kubelet's device plugin dir (default " KL_DP_DEFAULT_DIR ")\n"
                   "  --scan-interval S    rescan the globs every S seconds (default 5)\n");
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                {"device", required_argument, NULL, 'd'},
                {"dir", required_argument, NULL, 'D'},
                {"scan-interval", required_argument, NULL, 'i'},
                {"verbose", no_argument, NULL, 'v'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_close_ int ifd = -EBADF, sfd = -EBADF;
        uint64_t interval_ms = 5000, next_scan = 0;
        struct kl_error e = {0};
        sigset_t mask;
        int c, r, ret = 0;

        while ((c = getopt_long(argc, argv, "vh", opts, NULL)) >= 0)
                switch (c) {
                case 'd':
                        if (n_plugins == MAX_RESOURCES) {
                                fprintf(stderr, "at most %d --device options\n", MAX_RESOURCES);
                                return 2;
                        }
                        if (kl_dp_resource_parse(optarg, &plugins[n_plugins].res, &e) < 0) {
                                fprintf(stderr, "%s\n", e.msg);
                                return 2;
                        }
                        n_plugins++;
                        break;
                case 'D': dir = optarg; break;
                case 'i': {
                        char *end;
                        double s = strtod(optarg, &end);
                        if (*end || s < 0.1 || s > 3600) {
                                fprintf(stderr, "--scan-interval: '%s' is not 0.1..3600 seconds\n", optarg);
                                return 2;
                        }
                        interval_ms = (uint64_t) (s * 1000);
                        break;
                }
                case 'v': kl_log_set_max_level(KL_LOG_DEBUG); break;
                case 'h': usage(stdout); return 0;
                default: usage(stderr); return 2;
                }
        if (optind < argc || n_plugins == 0) {
                usage(stderr);
                return 2;
        }
        if ((size_t) snprintf(kubelet_socket, sizeof(kubelet_socket), "%s/%s", dir, KL_DP_KUBELET_SOCKET) >=
            sizeof(kubelet_socket)) {
                fprintf(stderr, "--dir: path too long\n");
                return 2;
        }
        for (size_t i = 0; i < n_plugins; i++)
                for (size_t k = 0; k < i; k++)
                        if (streq(plugins[i].res->name, plugins[k].res->name)) {
                                fprintf(stderr, "resource '%s' given twice\n", plugins[i].res->name);
                                return 2;
                        }

        /* grpc starts threads: every one must have the signals blocked */
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (sfd < 0 || ifd < 0) {
                log_error_errno(-errno, "signalfd/inotify: %m");
                return 1;
        }
        /* started before the kubelet ever ran: the dir it will use */
        r = kl_mkdir_p(dir, 0750);
        if (r < 0) {
                log_error_errno(r, "cannot create '%s': %m", dir);
                return 1;
        }
        if (inotify_add_watch(ifd, dir, IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM) < 0) {
                log_error_errno(-errno, "cannot watch '%s': %m", dir);
                return 1;
        }
        for (size_t i = 0; i < n_plugins; i++) {
                struct plugin *p = &plugins[i];
                if (asprintf(&p->socket, "%s/%s", dir, p->res->endpoint) < 0)
                        return 1;
                (void) kl_dp_resource_scan(p->res);
                if (ensure_serving(p) < 0)
                        return 1;
                log_info("%s: serving %zu devices on %s", p->res->name, p->res->n_devices, p->socket);
        }
        register_all();
        next_scan = now_msec() + interval_ms;

        for (;;) {
                struct pollfd pfd[2 + MAX_RESOURCES];
                uint64_t now = now_msec();
                bool unregistered = false;
                int timeout, n;

                for (size_t i = 0; i < n_plugins; i++)
                        unregistered |= !plugins[i].registered;
                /* not registered yet: retry every second */
                timeout = (int) (next_scan > now ? next_scan - now : 0);
                if (unregistered)
                        timeout = MIN(timeout, 1000);
                pfd[0] = (struct pollfd){.fd = sfd, .events = POLLIN};
                pfd[1] = (struct pollfd){.fd = ifd, .events = POLLIN};
                for (size_t i = 0; i < n_plugins; i++)
                        pfd[2 + i] = (struct pollfd){.fd = kl_grpc_server_event_fd(plugins[i].srv), .events = POLLIN};
                n = poll(pfd, 2 + n_plugins, timeout);
                if (n < 0 && errno != EINTR) {
                        ret = log_error_errno(-errno, "poll: %m");
                        break;
                }
                if (n > 0 && (pfd[0].revents & POLLIN)) {
                        log_info("exiting on signal");
                        break;
                }
                if (n > 0 && (pfd[1].revents & POLLIN)) {
                        char buf[sizeof(struct inotify_event) + 4096] __attribute__((aligned(8)));
                        ssize_t len;
                        while ((len = read(ifd, buf, sizeof(buf))) > 0)
                                for (char *q = buf; q < buf + len;) {
                                        const struct inotify_event *ev = (const void *) q;
                                        /* kubelet.sock created again: the kubelet restarted */
                                        if ((ev->mask & (IN_CREATE | IN_MOVED_TO)) && ev->len > 0 &&
                                            streq(ev->name, KL_DP_KUBELET_SOCKET))
                                                for (size_t i = 0; i < n_plugins; i++)
                                                        plugins[i].registered = false;
                                        q += sizeof(*ev) + ev->len;
                                }
                        /* our sockets are checked by lstat, kubelet.sock by stat */
                        for (size_t i = 0; i < n_plugins; i++)
                                (void) ensure_serving(&plugins[i]);
                        register_all();
                }
                for (size_t i = 0; i < n_plugins; i++)
                        if (n > 0 && pfd[2 + i].fd >= 0 && (pfd[2 + i].revents & POLLIN))
                                kl_grpc_server_dispatch(plugins[i].srv);
                now = now_msec();
                if (now >= next_scan) {
                        rescan();
                        next_scan = now + interval_ms;
                }
                if (unregistered)
                        register_all();
        }

        for (size_t i = 0; i < n_plugins; i++) {
                stop_serving(&plugins[i]);
                kl_dp_resource_free(plugins[i].res);
                free(plugins[i].socket);
        }
        return ret < 0 ? 1 : 0;
}
