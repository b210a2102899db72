/* kltest: the workload of kubelet-lite's integration tests.
 *
 * One static binary with one mode per behaviour a test needs (a process that
 * eats memory, forks, crashes, serves probes, ignores SIGTERM...). Every mode
 * prints "kltest: MODE ..." first, because tests read container logs to know
 * that it started. Unless the mode says otherwise, SIGTERM and SIGINT make it
 * exit 0 at once, since as PID 1 of a container it would otherwise ignore them. */

#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB (1024UL * 1024UL)

extern char **environ;

static const char usage_text[] =
        "usage: kltest MODE [ARGS]\n"
        "\n"
        "Every mode first prints 'kltest: MODE ...' on stdout. SIGTERM and SIGINT\n"
        "make it exit 0, except in ignore-sigterm.\n"
        "\n"
        "  sleep                    sleep forever\n"
        "  ignore-sigterm           ignore SIGTERM, sleep forever (needs SIGKILL)\n"
        "  exit CODE                exit with CODE (0..255) at once\n"
        "  crash-after N            sleep N seconds, then exit 1\n"
        "  memhog MIB               allocate and touch MIB MiB (progress every 16 MiB), sleep\n"
        "  forkbomb N               fork up to N sleeping children, report how many worked, sleep\n"
        "  busy-loop                burn one CPU forever\n"
        "  http-ok PORT [FILE]      HTTP/1.0 on 0.0.0.0:PORT: GET / and /healthz answer 200 'ok',\n"
        "                           or 500 while FILE (default /tmp/unhealthy) exists\n"
        "  tcp-listen PORT          accept and close TCP connections on 0.0.0.0:PORT\n"
        "  grpc-health PORT [FILE]  grpc.health.v1.Health/Check over plaintext HTTP/2 on\n"
        "                           0.0.0.0:PORT: SERVING, or NOT_SERVING while FILE\n"
        "                           (default /tmp/unhealthy) exists; logs the service asked\n"
        "  log-lines N BYTES        write N lines of BYTES bytes each (newline included), sleep\n"
        "  termination-message TEXT write TEXT to /dev/termination-log, exit 3\n"
        "  print-env                print the environment, sleep\n"
        "  fill-disk PATH MIB       write MIB MiB to the file PATH (stop at ENOSPC), sleep\n"
        "  write-device PATH TEXT   write TEXT and a newline to the existing file or device PATH\n"
        "                           once a second (a device handed in by a device plugin), sleep\n"
        "  --help                   this text\n";

static void on_terminate(int sig) {
        static const char msg[] = "kltest: got termination signal, exiting 0\n";

        (void) sig;
        if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0) {
                /* exiting anyway */
        }
        _exit(0);
}

static void on_child(int sig) {
        int saved_errno = errno;

        (void) sig;
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
        errno = saved_errno;
}

static void set_handler(int sig, void (*handler)(int)) {
        struct sigaction sa;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = handler;
        sa.sa_flags = SA_RESTART;
        sigemptyset(&sa.sa_mask);
        sigaction(sig, &sa, NULL);
}

static _Noreturn void sleep_forever(void) {
        fflush(stdout);
        for (;;)
                pause();
}

static _Noreturn void die(const char *what) {
        printf("kltest: %s: %s\n", what, strerror(errno));
        exit(2);
}

/* Parses a non-negative decimal number; exits 2 on anything else. */
static unsigned long parse_num(const char *s, const char *what) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0' || s[0] == '-') {
                printf("kltest: invalid %s '%s'\n", what, s);
                exit(2);
        }
        return v;
}

static int listen_tcp(unsigned long port) {
        struct sockaddr_in sin;
        int fd, one = 1;

        if (port == 0 || port > 65535) {
                printf("kltest: invalid port %lu\n", port);
                exit(2);
        }
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                die("socket");
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        sin.sin_port = htons((unsigned short) port);
        sin.sin_addr.s_addr = htonl(INADDR_ANY);
        if (bind(fd, (struct sockaddr *) &sin, sizeof(sin)) < 0)
                die("bind");
        if (listen(fd, 64) < 0)
                die("listen");
        return fd;
}

static int accept_client(int lfd) {
        struct timeval tv = {.tv_sec = 5};
        int fd;

        for (;;) {
                fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
                if (fd >= 0)
                        break;
                if (errno != EINTR && errno != ECONNABORTED)
                        die("accept");
        }
        /* A client that never sends must not stall the next probe forever. */
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        return fd;
}

static void write_all(int fd, const char *buf, size_t len) {
        while (len > 0) {
                ssize_t n = write(fd, buf, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return;
                buf += n;
                len -= (size_t) n;
        }
}

static void serve_http(int fd, const char *unhealthy_file) {
        char req[2048], path[256], reply[512];
        size_t len = 0;
        int status, n;
        const char *body;

        /* Read until the end of the request head (or the buffer is full). */
        while (len < sizeof(req) - 1) {
                ssize_t r = read(fd, req + len, sizeof(req) - 1 - len);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break;
                len += (size_t) r;
                req[len] = '\0';
                if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
                        break;
        }
        req[len] = '\0';
        if (sscanf(req, "GET %255s HTTP/", path) != 1) {
                status = 400;
                body = "bad request\n";
                snprintf(path, sizeof(path), "-");
        } else if (strcmp(path, "/") != 0 && strcmp(path, "/healthz") != 0) {
                status = 404;
                body = "not found\n";
        } else if (access(unhealthy_file, F_OK) == 0) {
                status = 500;
                body = "unhealthy\n";
        } else {
                status = 200;
                body = "ok";
        }
        n = snprintf(reply, sizeof(reply),
                     "HTTP/1.0 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s",
                     status, status == 200 ? "OK" : "Error", strlen(body), body);
        write_all(fd, reply, (size_t) n);
        printf("kltest: http-ok: GET %s -> %d\n", path, status);
}

static int mode_http_ok(int argc, char **argv) {
        const char *unhealthy_file = argc > 3 ? argv[3] : "/tmp/unhealthy";
        unsigned long port;
        int lfd;

        if (argc < 3)
                return -1;
        port = parse_num(argv[2], "port");
        lfd = listen_tcp(port);
        printf("kltest: http-ok listening on port %lu (500 while '%s' exists)\n", port, unhealthy_file);
        for (;;) {
                int fd = accept_client(lfd);
                serve_http(fd, unhealthy_file);
                close(fd);
        }
}

static int mode_tcp_listen(int argc, char **argv) {
        unsigned long port;
        int lfd;

        if (argc < 3)
                return -1;
        port = parse_num(argv[2], "port");
        lfd = listen_tcp(port);
        printf("kltest: tcp-listen listening on port %lu\n", port);
        fflush(stdout);
        for (;;)
                close(accept_client(lfd));
}

/* ---- grpc-health: just enough HTTP/2 (RFC 9113) and gRPC for one unary
 * Check at a time per connection, h2c with prior knowledge. */

enum {
        H2_DATA = 0,
        H2_HEADERS = 1,
        H2_RST = 3,
        H2_SETTINGS = 4,
        H2_PING = 6,
        H2_GOAWAY = 7,
        H2_WINDOW = 8
};
enum {
        H2_END_STREAM = 0x1,
        H2_ACK = 0x1,
        H2_END_HEADERS = 0x4,
        H2_PADDED = 0x8
};

static void h2_frame(int fd, unsigned type, unsigned flags, unsigned stream, const void *payload, size_t len) {
        unsigned char h[9] = {
                (unsigned char) (len >> 16),    (unsigned char) (len >> 8),    (unsigned char) len,
                (unsigned char) type,           (unsigned char) flags,         (unsigned char) (stream >> 24),
                (unsigned char) (stream >> 16), (unsigned char) (stream >> 8), (unsigned char) stream};
        write_all(fd, (const char *) h, sizeof(h));
        if (len > 0)
                write_all(fd, payload, len);
}

static int read_full(int fd, void *buf, size_t len) {
        char *p = buf;
        while (len > 0) {
                ssize_t n = read(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return -1;
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

/* HPACK "literal header field without indexing, new name", no Huffman;
 * names and values here are shorter than 127 bytes. */
static size_t hpack_literal(unsigned char *out, const char *name, const char *value) {
        size_t n = 0, ln = strlen(name), lv = strlen(value);
        out[n++] = 0x00;
        out[n++] = (unsigned char) ln;
        memcpy(out + n, name, ln);
        n += ln;
        out[n++] = (unsigned char) lv;
        memcpy(out + n, value, lv);
        return n + lv;
}

/* HealthCheckRequest {string service = 1}: the service, "" when absent. */
static void health_service(const unsigned char *msg, size_t len, char *out, size_t size) {
        out[0] = '\0';
        /* gRPC framing: flag byte, 4-byte length, then the message */
        if (len < 5)
                return;
        msg += 5;
        len -= 5;
        if (len >= 2 && msg[0] == 0x0a && msg[1] < 0x80 && (size_t) msg[1] + 2 <= len) {
                size_t l = msg[1] < size - 1 ? msg[1] : size - 1;
                memcpy(out, msg + 2, l);
                out[l] = '\0';
        }
}

static void grpc_health_reply(int fd, unsigned stream, const char *service, const char *unhealthy_file) {
        unsigned char block[128];
        size_t n;
        int serving = access(unhealthy_file, F_OK) != 0;
        /* HealthCheckResponse {status = 1}: SERVING 1, NOT_SERVING 2 */
        const unsigned char msg[] = {0, 0, 0, 0, 2, 0x08, serving ? 1 : 2};

        n = hpack_literal(block, ":status", "200");
        n += hpack_literal(block + n, "content-type", "application/grpc");
        h2_frame(fd, H2_HEADERS, H2_END_HEADERS, stream, block, n);
        h2_frame(fd, H2_DATA, 0, stream, msg, sizeof(msg));
        n = hpack_literal(block, "grpc-status", "0");
        h2_frame(fd, H2_HEADERS, H2_END_HEADERS | H2_END_STREAM, stream, block, n);
        printf("kltest: grpc-health: Check service='%s' -> %s\n", service, serving ? "SERVING" : "NOT_SERVING");
}

static void serve_grpc(int fd, const char *unhealthy_file) {
        static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
        unsigned char h[9], body[16384 + 16], req[1024];
        size_t req_len = 0;
        char service[256];

        if (read_full(fd, body, sizeof(preface) - 1) < 0 || memcmp(body, preface, sizeof(preface) - 1) != 0)
                return;
        h2_frame(fd, H2_SETTINGS, 0, 0, NULL, 0);
        for (;;) {
                if (read_full(fd, h, sizeof(h)) < 0)
                        return;
                size_t len = ((size_t) h[0] << 16) | ((size_t) h[1] << 8) | h[2];
                unsigned type = h[3], flags = h[4];
                unsigned stream =
                        ((unsigned) (h[5] & 0x7f) << 24) | ((unsigned) h[6] << 16) | ((unsigned) h[7] << 8) | h[8];
                if (len > sizeof(body) || read_full(fd, body, len) < 0)
                        return;
                switch (type) {
                case H2_SETTINGS:
                        if (!(flags & H2_ACK))
                                h2_frame(fd, H2_SETTINGS, H2_ACK, 0, NULL, 0);
                        break;
                case H2_PING:
                        if (!(flags & H2_ACK) && len == 8)
                                h2_frame(fd, H2_PING, H2_ACK, 0, body, 8);
                        break;
                case H2_GOAWAY: return;
                case H2_HEADERS: /* the request's header block is not needed */
                        req_len = 0;
                        if (flags & H2_END_STREAM)
                                grpc_health_reply(fd, stream, "", unhealthy_file);
                        break;
                case H2_DATA: {
                        const unsigned char *d = body;
                        size_t dl = len;
                        if ((flags & H2_PADDED) && dl > 0) {
                                size_t pad = d[0];
                                d++;
                                dl = dl - 1 > pad ? dl - 1 - pad : 0;
                        }
                        if (dl > sizeof(req) - req_len)
                                dl = sizeof(req) - req_len;
                        memcpy(req + req_len, d, dl);
                        req_len += dl;
                        if (len > 0) { /* give the connection's window back */
                                unsigned char inc[4] = {(unsigned char) (len >> 24), (unsigned char) (len >> 16),
                                                        (unsigned char) (len >> 8), (unsigned char) len};
                                h2_frame(fd, H2_WINDOW, 0, 0, inc, 4);
                        }
                        if (flags & H2_END_STREAM) {
                                health_service(req, req_len, service, sizeof(service));
                                grpc_health_reply(fd, stream, service, unhealthy_file);
                                req_len = 0;
                        }
                        break;
                }
                default: break; /* WINDOW_UPDATE, RST_STREAM, PRIORITY, CONTINUATION */
                }
        }
}

static int mode_grpc_health(int argc, char **argv) {
        const char *unhealthy_file = argc > 3 ? argv[3] : "/tmp/unhealthy";
        unsigned long port;
        int lfd;

        if (argc < 3)
                return -1;
        port = parse_num(argv[2], "port");
        lfd = listen_tcp(port);
        printf("kltest: grpc-health listening on port %lu (NOT_SERVING while '%s' exists)\n", port, unhealthy_file);
        for (;;) {
                int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
                if (fd < 0) {
                        if (errno != EINTR && errno != ECONNABORTED)
                                die("accept");
                        continue;
                }
                /* a client keeps its connection open: one process each */
                pid_t pid = fork();
                if (pid == 0) {
                        close(lfd);
                        serve_grpc(fd, unhealthy_file);
                        _exit(0);
                }
                close(fd);
        }
}

static int mode_memhog(int argc, char **argv) {
        unsigned long mib, i;

        if (argc < 3)
                return -1;
        mib = parse_num(argv[2], "MiB count");
        printf("kltest: memhog allocating %lu MiB\n", mib);
        for (i = 1; i <= mib; i++) {
                char *p = malloc(MIB);
                if (!p)
                        die("malloc");
                /* Touch every page so that it is really resident. */
                memset(p, 0x5a, MIB);
                if (i % 16 == 0)
                        printf("kltest: memhog %lu MiB\n", i);
        }
        printf("kltest: memhog done, holding %lu MiB\n", mib);
        sleep_forever();
}

static int mode_forkbomb(int argc, char **argv) {
        unsigned long n, ok = 0;
        int first_errno = 0;

        if (argc < 3)
                return -1;
        n = parse_num(argv[2], "count");
        printf("kltest: forkbomb forking %lu children\n", n);
        fflush(stdout);
        while (ok < n) {
                pid_t pid = fork();
                if (pid < 0) {
                        first_errno = errno;
                        break;
                }
                if (pid == 0) {
                        /* Die with the parent, even outside a PID namespace. */
                        prctl(PR_SET_PDEATHSIG, SIGKILL);
                        for (;;)
                                pause();
                }
                ok++;
        }
        printf("kltest: forkbomb %lu of %lu forks succeeded%s%s\n", ok, n, first_errno ? ": " : "",
               first_errno ? strerror(first_errno) : "");
        sleep_forever();
}

static int mode_log_lines(int argc, char **argv) {
        unsigned long n, bytes, i;
        char *line;

        if (argc < 4)
                return -1;
        n = parse_num(argv[2], "line count");
        bytes = parse_num(argv[3], "line length");
        if (bytes < 1 || bytes > 1024 * 1024) {
                printf("kltest: line length must be 1..1048576\n");
                return 2;
        }
        printf("kltest: log-lines %lu lines of %lu bytes\n", n, bytes);
        line = malloc(bytes);
        if (!line)
                die("malloc");
        for (i = 1; i <= n; i++) {
                char num[32];
                int k = snprintf(num, sizeof(num), "%lu ", i);

                memset(line, 'x', bytes);
                memcpy(line, num, (size_t) k < bytes ? (size_t) k : bytes - 1);
                line[bytes - 1] = '\n';
                fwrite(line, 1, bytes, stdout);
        }
        free(line);
        sleep_forever();
}

static int mode_termination_message(int argc, char **argv) {
        FILE *f;

        if (argc < 3)
                return -1;
        printf("kltest: termination-message writing %zu bytes\n", strlen(argv[2]));
        f = fopen("/dev/termination-log", "we");
        if (!f)
                die("open /dev/termination-log");
        fputs(argv[2], f);
        if (fclose(f) != 0)
                die("write /dev/termination-log");
        return 3;
}

static int mode_fill_disk(int argc, char **argv) {
        unsigned long mib, i;
        char *buf;
        int fd;

        if (argc < 4)
                return -1;
        mib = parse_num(argv[3], "MiB count");
        printf("kltest: fill-disk writing %lu MiB to '%s'\n", mib, argv[2]);
        fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                die("open");
        buf = malloc(MIB);
        if (!buf)
                die("malloc");
        memset(buf, 0xa5, MIB);
        for (i = 0; i < mib; i++) {
                size_t done = 0;
                while (done < MIB) {
                        ssize_t w = write(fd, buf + done, MIB - done);
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w < 0) {
                                printf("kltest: fill-disk stopped after %lu MiB: %s\n", i, strerror(errno));
                                goto out;
                        }
                        done += (size_t) w;
                }
                if ((i + 1) % 16 == 0)
                        printf("kltest: fill-disk %lu MiB\n", i + 1);
        }
        if (fsync(fd) < 0)
                printf("kltest: fill-disk fsync: %s\n", strerror(errno));
        printf("kltest: fill-disk done, wrote %lu MiB\n", mib);
out:
        free(buf);
        close(fd);
        sleep_forever();
}

static int mode_write_device(int argc, char **argv) {
        char line[512];
        int n, fd;

        if (argc < 4)
                return -1;
        n = snprintf(line, sizeof(line), "%s\n", argv[3]);
        if (n < 0 || (size_t) n >= sizeof(line)) {
                printf("kltest: write-device text too long\n");
                return 2;
        }
        /* no O_CREAT: the device must have been given to the container */
        fd = open(argv[2], O_WRONLY | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                die("open");
        printf("kltest: write-device writing to '%s' every second\n", argv[2]);
        for (;;) {
                if (write(fd, line, (size_t) n) != n)
                        printf("kltest: write-device: %s\n", strerror(errno));
                sleep(1);
        }
}

static int run(int argc, char **argv) {
        const char *mode = argv[1];

        if (strcmp(mode, "sleep") == 0) {
                printf("kltest: sleep\n");
                sleep_forever();
        }
        if (strcmp(mode, "ignore-sigterm") == 0) {
                signal(SIGTERM, SIG_IGN);
                printf("kltest: ignore-sigterm, sleeping\n");
                sleep_forever();
        }
        if (strcmp(mode, "exit") == 0) {
                unsigned long code;

                if (argc < 3)
                        return -1;
                code = parse_num(argv[2], "exit code");
                if (code > 255) {
                        printf("kltest: exit code must be 0..255\n");
                        return 2;
                }
                printf("kltest: exit %lu\n", code);
                return (int) code;
        }
        if (strcmp(mode, "crash-after") == 0) {
                unsigned long secs;

                if (argc < 3)
                        return -1;
                secs = parse_num(argv[2], "seconds");
                printf("kltest: crash-after %lu seconds\n", secs);
                fflush(stdout);
                while (secs > 0)
                        secs = sleep((unsigned) secs);
                printf("kltest: crashing now\n");
                return 1;
        }
        if (strcmp(mode, "busy-loop") == 0) {
                volatile unsigned long spin = 0;

                printf("kltest: busy-loop\n");
                fflush(stdout);
                for (;;)
                        spin++;
        }
        if (strcmp(mode, "print-env") == 0) {
                printf("kltest: print-env\n");
                for (char **e = environ; *e; e++)
                        printf("%s\n", *e);
                sleep_forever();
        }
        if (strcmp(mode, "memhog") == 0)
                return mode_memhog(argc, argv);
        if (strcmp(mode, "forkbomb") == 0)
                return mode_forkbomb(argc, argv);
        if (strcmp(mode, "http-ok") == 0)
                return mode_http_ok(argc, argv);
        if (strcmp(mode, "tcp-listen") == 0)
                return mode_tcp_listen(argc, argv);
        if (strcmp(mode, "grpc-health") == 0)
                return mode_grpc_health(argc, argv);
        if (strcmp(mode, "log-lines") == 0)
                return mode_log_lines(argc, argv);
        if (strcmp(mode, "termination-message") == 0)
                return mode_termination_message(argc, argv);
        if (strcmp(mode, "fill-disk") == 0)
                return mode_fill_disk(argc, argv);
        if (strcmp(mode, "write-device") == 0)
                return mode_write_device(argc, argv);
        printf("kltest: unknown mode '%s'\n", mode);
        return -1;
}

int main(int argc, char **argv) {
        int r;

        /* Container logs are pipes: flush each line as it is written. */
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                fputs(usage_text, argc < 2 ? stderr : stdout);
                return argc < 2 ? 2 : 0;
        }
        set_handler(SIGTERM, on_terminate);
        set_handler(SIGINT, on_terminate);
        set_handler(SIGCHLD, on_child);
        signal(SIGPIPE, SIG_IGN);
        r = run(argc, argv);
        if (r < 0) {
                fputs(usage_text, stderr);
                return 2;
        }
        return r;
}
