/* SPDX-License-Identifier: Apache-2.0 */
#include "kubelet-lite/cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "kubelet-lite/config.h"
#include "lib/jsonq.h"
#include "lib/macros.h"
#include "lib/strbuf.h"
#include "kubelet-lite/apiserver/tlscert.h"

#define TABLE_ACCEPT "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"

struct client {
        char host[128];
        int port;
        char token[256];
        char ca[16384]; /* base64 PEM */
};

bool kl_cli_is_command(const char *arg) {
        return streq(arg, "get") || streq(arg, "describe") || streq(arg, "logs") || streq(arg, "events");
}

/* Our own kubeconfig: "server: URL" and "token: T" lines. */
static int load_kubeconfig(const char *path, struct client *cl) {
        FILE *f = fopen(path, "re");
        char line[16384];
        if (!f) {
                fprintf(stderr, "kubelet-lite: kubeconfig '%s': %s\n", path, strerror(errno));
                return -errno;
        }
        *cl = (struct client){};
        while (fgets(line, sizeof(line), f)) {
                char *p = line + strspn(line, " \t");
                p[strcspn(p, "\r\n")] = '\0';
                if (strncmp(p, "server: https://", 16) == 0) {
                        char *h = p + 16, *colon = strrchr(h, ':');
                        if (!colon)
                                continue;
                        *colon = '\0';
                        if (h[0] == '[' && colon[-1] == ']') {
                                h++;
                                colon[-1] = '\0';
                        }
                        snprintf(cl->host, sizeof(cl->host), "%s", h);
                        cl->port = atoi(colon + 1);
                } else if (strncmp(p, "certificate-authority-data: ", 28) == 0)
                        snprintf(cl->ca, sizeof(cl->ca), "%s", p + 28);
                else if (strncmp(p, "token: ", 7) == 0)
                        snprintf(cl->token, sizeof(cl->token), "%s", p + 7);
        }
        fclose(f);
        if (!cl->host[0] || cl->port <= 0 || !cl->token[0] || !cl->ca[0]) {
                fprintf(stderr, "kubelet-lite: kubeconfig '%s': no https server, CA or token in it\n", path);
                return -EINVAL;
        }
        return 0;
}

typedef void (*sink_fn)(const char *data, size_t len, void *userdata);

static void sink_buf(const char *data, size_t len, void *userdata) {
        kl_buf_append(userdata, data, len);
}

static void sink_stdout(const char *data, size_t len, void *userdata) {
        fwrite(data, 1, len, stdout);
        fflush(stdout);
}

/* GET path; the body (de-chunked) of a 200 goes to sink, any other one to
 * *errbody when given. Returns the HTTP status or -errno. */
static int http_get(const struct client *cl, const char *path, const char *accept, sink_fn sink, void *ud,
                    struct kl_buf *errbody) {
        struct sockaddr_storage ss = {};
        struct sockaddr_in *in4 = (struct sockaddr_in *) &ss;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &ss;
        socklen_t sl;
        if (inet_pton(AF_INET, cl->host, &in4->sin_addr) == 1) {
                in4->sin_family = AF_INET;
                in4->sin_port = htons((uint16_t) cl->port);
                sl = sizeof(*in4);
        } else if (inet_pton(AF_INET6, cl->host, &in6->sin6_addr) == 1) {
                in6->sin6_family = AF_INET6;
                in6->sin6_port = htons((uint16_t) cl->port);
                sl = sizeof(*in6);
        } else
                return -EINVAL;
        _cleanup_close_ int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *) &ss, sl) < 0)
                return -errno;
        char req[4096];
        int n = snprintf(req, sizeof(req),
                         "GET %s HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: Bearer %s\r\nAccept: %s\r\n"
                         "User-Agent: kubelet-lite\r\nConnection: close\r\n\r\n",
                         path, cl->host, cl->port, cl->token, accept);
        SSL_CTX *ctx = kl_tls_client_ctx(cl->ca);
        SSL *ssl = ctx ? SSL_new(ctx) : NULL;
        if (!ssl || SSL_set_fd(ssl, fd) != 1 ||
            (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), cl->host) != 1 &&
             X509_VERIFY_PARAM_set1_host(SSL_get0_param(ssl), cl->host, 0) != 1) ||
            SSL_connect(ssl) != 1) {
                fprintf(stderr, "kubelet-lite: TLS with %s:%d failed (is this the right kubeconfig?)\n", cl->host,
                        cl->port);
                SSL_free(ssl);
                SSL_CTX_free(ctx);
                return -EPROTO;
        }
        if (n >= (int) sizeof(req) || SSL_write(ssl, req, n) != n) {
                SSL_free(ssl);
                SSL_CTX_free(ctx);
                return -EIO;
        }
        struct kl_buf in = {};
        char chunk[16384];
        int status = -EPROTO;
        bool head_done = false, chunked = false, crlf = false;
        size_t pos = 0;
        uint64_t chunk_left = 0;
        for (;;) {
                int r = SSL_read(ssl, chunk, (int) sizeof(chunk));
                if (r <= 0)
                        break;
                kl_buf_append(&in, chunk, (size_t) r);
                if (in.oom)
                        break;
                if (!head_done) {
                        char *end = memmem(in.data, in.len, "\r\n\r\n", 4);
                        if (!end)
                                continue;
                        head_done = true;
                        status = sscanf(in.data, "HTTP/1.%*d %d", &status) == 1 ? status : -EPROTO;
                        *end = '\0';
                        chunked = strcasestr(in.data, "\r\nTransfer-Encoding: chunked") != NULL;
                        pos = (size_t) (end - in.data) + 4;
                        if (status != 200) {
                                sink = sink_buf;
                                ud = errbody;
                        }
                }
                if (!ud && sink == sink_buf)
                        break;
                /* hand on what is complete */
                for (;;) {
                        if (!chunked) {
                                if (pos < in.len)
                                        sink(in.data + pos, in.len - pos, ud);
                                pos = in.len;
                                break;
                        }
                        if (chunk_left > 0) {
                                size_t take = MIN(chunk_left, (uint64_t) (in.len - pos));
                                if (take == 0)
                                        break;
                                sink(in.data + pos, take, ud);
                                pos += take;
                                chunk_left -= take;
                                crlf = chunk_left == 0; /* the CRLF after the data comes next */
                                continue;
                        }
                        char *nl = memmem(in.data + pos, in.len - pos, "\r\n", 2);
                        if (!nl)
                                break;
                        if (crlf) {
                                pos = (size_t) (nl - in.data) + 2;
                                crlf = false;
                                continue;
                        }
                        chunk_left = strtoull(in.data + pos, NULL, 16);
                        pos = (size_t) (nl - in.data) + 2;
                        if (chunk_left == 0)
                                goto done;
                }
        }
done:
        kl_buf_free_contents(&in);
        SSL_free(ssl);
        SSL_CTX_free(ctx);
        return status;
}

/* ---- output ----------------------------------------------------------------------------- */

static void print_table(const char *text, size_t len, bool wide, bool no_headers) {
        struct kl_jsonq q;
        if (kl_jsonq_parse(text, len, 1000000, &q) < 0) {
                fprintf(stderr, "kubelet-lite: the server sent no valid table\n");
                return;
        }
        int cols = kl_jsonq_get(&q, 0, "columnDefinitions"), rows = kl_jsonq_get(&q, 0, "rows");
        size_t ncol = 0, width[32] = {};
        bool show[32];
        char v[1024];
        for (int c = cols >= 0 ? q.nodes[cols].child : -1; c >= 0 && ncol < 32; c = q.nodes[c].next, ncol++) {
                show[ncol] = wide || kl_jsonq_path_int(&q, c, "priority", 0) == 0;
                width[ncol] = strlen(kl_jsonq_path_str(&q, c, "name", v, sizeof(v)));
        }
        for (int r = rows >= 0 ? q.nodes[rows].child : -1; r >= 0; r = q.nodes[r].next) {
                size_t i = 0;
                int cells = kl_jsonq_get(&q, r, "cells");
                for (int c = cells >= 0 ? q.nodes[cells].child : -1; c >= 0 && i < ncol; c = q.nodes[c].next, i++) {
                        kl_jsonq_str(&q, c, v, sizeof(v));
                        width[i] = MAX(width[i], strlen(v));
                }
        }
        if (rows < 0 || q.nodes[rows].child < 0) {
                fprintf(stderr, "No resources found.\n");
                kl_jsonq_done(&q);
                return;
        }
        size_t i = 0;
        for (int c = cols >= 0 ? q.nodes[cols].child : -1; c >= 0 && i < ncol && !no_headers;
             c = q.nodes[c].next, i++) {
                if (!show[i])
                        continue;
                kl_jsonq_path_str(&q, c, "name", v, sizeof(v));
                for (char *p = v; *p; p++)
                        *p = (char) (*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
                printf("%-*s   ", (int) width[i], v);
        }
        if (!no_headers)
                printf("\n");
        for (int r = q.nodes[rows].child; r >= 0; r = q.nodes[r].next) {
                int cells = kl_jsonq_get(&q, r, "cells");
                i = 0;
                for (int c = cells >= 0 ? q.nodes[cells].child : -1; c >= 0 && i < ncol; c = q.nodes[c].next, i++)
                        if (show[i])
                                printf("%-*s   ", (int) width[i], kl_jsonq_str(&q, c, v, sizeof(v)) ? v : "");
                printf("\n");
        }
        kl_jsonq_done(&q);
}

static void indent(int n) {
        for (int i = 0; i < n; i++)
                fputs("  ", stdout);
}

static void print_scalar_yaml(const struct kl_jsonq *q, int n) {
        char v[8192];
        if (q->nodes[n].type == KL_JSONQ_STRING) {
                kl_jsonq_str(q, n, v, sizeof(v));
                /* double-quoted JSON strings are valid YAML */
                printf("%.*s\n", (int) q->nodes[n].len, q->text + q->nodes[n].start);
        } else
                printf("%.*s\n", (int) q->nodes[n].len, q->text + q->nodes[n].start);
}

static void print_yaml(const struct kl_jsonq *q, int n, int depth) {
        for (int c = q->nodes[n].child; c >= 0; c = q->nodes[c].next) {
                const struct kl_jsonq_node *cn = &q->nodes[c];
                bool container = (cn->type == KL_JSONQ_OBJECT || cn->type == KL_JSONQ_ARRAY) && cn->child >= 0;
                indent(depth);
                if (q->nodes[n].type == KL_JSONQ_OBJECT)
                        printf("%.*s:", (int) cn->key_len, q->text + cn->key_start);
                else
                        printf("-");
                if (container) {
                        printf("\n");
                        print_yaml(q, c, depth + 1);
                } else if (cn->type == KL_JSONQ_OBJECT || cn->type == KL_JSONQ_ARRAY)
                        printf(" %s\n", cn->type == KL_JSONQ_OBJECT ? "{}" : "[]");
                else {
                        printf(" ");
                        print_scalar_yaml(q, c);
                }
        }
}

static int print_json_or_yaml(const char *text, size_t len, bool yaml) {
        struct kl_jsonq q;
        if (!yaml) {
                printf("%.*s\n", (int) len, text);
                return 0;
        }
        if (kl_jsonq_parse(text, len, 1000000, &q) < 0)
                return -EBADMSG;
        print_yaml(&q, 0, 0);
        kl_jsonq_done(&q);
        return 0;
}

static const char *S(const struct kl_jsonq *q, int n, const char *path, char *buf, size_t size) {
        kl_jsonq_path_str(q, n, path, buf, size);
        return buf[0] ? buf : "<none>";
}

static void describe_pod(const struct client *cl, const char *ns, const char *text, size_t len) {
        struct kl_jsonq q;
        char v[1024], w[1024], path[2048];
        if (kl_jsonq_parse(text, len, 1000000, &q) < 0)
                return;
        printf("Name:         %s\n", S(&q, 0, "metadata.name", v, sizeof(v)));
        printf("Namespace:    %s\n", S(&q, 0, "metadata.namespace", v, sizeof(v)));
        printf("Node:         %s/%s\n", S(&q, 0, "spec.nodeName", v, sizeof(v)),
               S(&q, 0, "status.hostIP", w, sizeof(w)));
        printf("Start Time:   %s\n", S(&q, 0, "status.startTime", v, sizeof(v)));
        printf("Status:       %s\n", S(&q, 0, "status.phase", v, sizeof(v)));
        printf("IP:           %s\n", S(&q, 0, "status.podIP", v, sizeof(v)));
        printf("Containers:\n");
        int cs = kl_jsonq_path(&q, 0, "status.containerStatuses");
        for (int c = cs >= 0 ? q.nodes[cs].child : -1; c >= 0; c = q.nodes[c].next) {
                printf("  %s:\n", S(&q, c, "name", v, sizeof(v)));
                printf("    Container ID:  %s\n", S(&q, c, "containerID", v, sizeof(v)));
                printf("    Image:         %s\n", S(&q, c, "image", v, sizeof(v)));
                int st = kl_jsonq_get(&q, c, "state");
                int s0 = st >= 0 ? q.nodes[st].child : -1;
                if (s0 >= 0) {
                        printf("    State:         %.*s\n", (int) q.nodes[s0].key_len, q.text + q.nodes[s0].key_start);
                        if (kl_jsonq_path_str(&q, s0, "reason", v, sizeof(v))[0])
                                printf("      Reason:      %s\n", v);
                        if (kl_jsonq_path_str(&q, s0, "exitCode", v, sizeof(v))[0])
                                printf("      Exit Code:   %s\n", v);
                }
                printf("    Ready:         %s\n", S(&q, c, "ready", v, sizeof(v)));
                printf("    Restart Count: %s\n", S(&q, c, "restartCount", v, sizeof(v)));
        }
        printf("Conditions:\n  Type              Status\n");
        int conds = kl_jsonq_path(&q, 0, "status.conditions");
        for (int c = conds >= 0 ? q.nodes[conds].child : -1; c >= 0; c = q.nodes[c].next)
                printf("  %-17s %s\n", S(&q, c, "type", v, sizeof(v)), S(&q, c, "status", w, sizeof(w)));
        printf("Events:\n");
        snprintf(path, sizeof(path), "/api/v1/namespaces/%s/events?fieldSelector=involvedObject.name%%3D%.253s", ns,
                 S(&q, 0, "metadata.name", v, sizeof(v)));
        struct kl_buf b = {};
        if (http_get(cl, path, TABLE_ACCEPT, sink_buf, &b, &b) == 200 && b.data)
                print_table(b.data, b.len, false, false);
        kl_buf_free_contents(&b);
        kl_jsonq_done(&q);
}

static void usage(void) {
        fprintf(stderr,
                "Usage: kubelet-lite get pods|events|nodes [NAME] [-o wide|json|yaml] [-n NS|-A]\n"
                "       kubelet-lite describe pod NAME [-n NS]\n"
                "       kubelet-lite logs POD [-c CONTAINER] [-f] [--previous] [--tail N] [-n NS]\n"
                "       kubelet-lite events [-n NS|-A]\n"
                "Options: --kubeconfig FILE (default $KUBECONFIG, else %s/kubeconfig)\n",
                KL_DEFAULT_ROOT_DIR);
}

int kl_cli_main(int argc, char **argv) {
        static const struct option opts[] = {
                {"output", required_argument, NULL, 'o'},   {"namespace", required_argument, NULL, 'n'},
                {"all-namespaces", no_argument, NULL, 'A'}, {"container", required_argument, NULL, 'c'},
                {"follow", no_argument, NULL, 'f'},         {"previous", no_argument, NULL, 'p'},
                {"tail", required_argument, NULL, 't'},     {"kubeconfig", required_argument, NULL, 'k'},
                {"help", no_argument, NULL, 'h'},           {},
        };
        const char *out = "", *ns = "default", *container = "", *kubeconfig = getenv("KUBECONFIG");
        bool all = false, follow = false, previous = false;
        long tail = -1;
        char defpath[4096], path[4096];
        int c;

        snprintf(defpath, sizeof(defpath), "%s/kubeconfig", KL_DEFAULT_ROOT_DIR);
        optind = 1;
        while ((c = getopt_long(argc, argv, "o:n:Ac:fph", opts, NULL)) >= 0)
                switch (c) {
                case 'o': out = optarg; break;
                case 'n': ns = optarg; break;
                case 'A': all = true; break;
                case 'c': container = optarg; break;
                case 'f': follow = true; break;
                case 'p': previous = true; break;
                case 't': tail = strtol(optarg, NULL, 10); break;
                case 'k': kubeconfig = optarg; break;
                case 'h': usage(); return 0;
                default: usage(); return 2;
                }
        const char *cmd = argv[0], *a1 = optind < argc ? argv[optind] : NULL,
                   *a2 = optind + 1 < argc ? argv[optind + 1] : NULL;
        struct client cl;
        if (load_kubeconfig(kubeconfig && *kubeconfig ? kubeconfig : defpath, &cl) < 0)
                return 1;
        if (!streq(out, "") && !streq(out, "wide") && !streq(out, "json") && !streq(out, "yaml")) {
                fprintf(stderr, "kubelet-lite: unknown output format '%s'\n", out);
                return 2;
        }
        bool raw = streq(out, "json") || streq(out, "yaml");
        /* names are sent as path segments: nothing that could leave one */
        if (strpbrk(ns, "/?%#&") || (a2 && strpbrk(a2, "/?%#&")) || strpbrk(container, "/?%#&") ||
            (streq(cmd, "logs") && a1 && strpbrk(a1, "/?%#&"))) {
                fprintf(stderr, "kubelet-lite: invalid name\n");
                return 2;
        }
        struct kl_buf b = {};
        int status;
        if (streq(cmd, "events") || (streq(cmd, "get") && a1 && (streq(a1, "events") || streq(a1, "ev")))) {
                if (all || streq(cmd, "events"))
                        snprintf(path, sizeof(path), "/api/v1/events");
                else
                        snprintf(path, sizeof(path), "/api/v1/namespaces/%s/events", ns);
                status = http_get(&cl, path, raw ? "application/json" : TABLE_ACCEPT, sink_buf, &b, &b);
                if (status == 200)
                        raw ? (void) print_json_or_yaml(b.data, b.len, streq(out, "yaml"))
                            : print_table(b.data, b.len, streq(out, "wide"), false);
        } else if (streq(cmd, "get") && a1 &&
                   (streq(a1, "pods") || streq(a1, "pod") || streq(a1, "po") || streq(a1, "nodes") ||
                    streq(a1, "node"))) {
                bool nodes = a1[0] == 'n';
                if (nodes)
                        snprintf(path, sizeof(path), "/api/v1/nodes%s%s", a2 ? "/" : "", a2 ? a2 : "");
                else if (all && !a2)
                        snprintf(path, sizeof(path), "/api/v1/pods");
                else
                        snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods%s%s", ns, a2 ? "/" : "", a2 ? a2 : "");
                status = http_get(&cl, path, raw ? "application/json" : TABLE_ACCEPT, sink_buf, &b, &b);
                if (status == 200)
                        raw ? (void) print_json_or_yaml(b.data, b.len, streq(out, "yaml"))
                            : print_table(b.data, b.len, streq(out, "wide"), false);
        } else if (streq(cmd, "describe") && a1 && a2 && (streq(a1, "pod") || streq(a1, "pods") || streq(a1, "po"))) {
                snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s", ns, a2);
                status = http_get(&cl, path, "application/json", sink_buf, &b, &b);
                if (status == 200)
                        describe_pod(&cl, ns, b.data, b.len);
        } else if (streq(cmd, "logs") && a1) {
                int n = snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s/log?follow=%s&previous=%s", ns, a1,
                                 follow ? "true" : "false", previous ? "true" : "false");
                if (container[0])
                        n += snprintf(path + n, sizeof(path) - (size_t) n, "&container=%s", container);
                if (tail >= 0)
                        snprintf(path + n, sizeof(path) - (size_t) n, "&tailLines=%ld", tail);
                /* the log goes straight out as it arrives; an error Status is collected */
                status = http_get(&cl, path, "*/*", sink_stdout, NULL, &b);
        } else {
                usage();
                return 2;
        }
        if (status < 0) {
                fprintf(stderr, "kubelet-lite: %s:%d: %s\n", cl.host, cl.port, strerror(-status));
                kl_buf_free_contents(&b);
                return 1;
        }
        if (status != 200) {
                struct kl_jsonq q;
                char msg[1024] = "";
                if (b.data && kl_jsonq_parse(b.data, b.len, 10000, &q) == 0) {
                        kl_jsonq_path_str(&q, 0, "message", msg, sizeof(msg));
                        kl_jsonq_done(&q);
                }
                fprintf(stderr, "Error from server (%d): %s\n", status, msg[0] ? msg : "request failed");
        }
        kl_buf_free_contents(&b);
        return status == 200 ? 0 : 1;
}
