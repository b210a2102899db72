/* SPDX-License-Identifier: Apache-2.0 */
/* Latency of GET /healthz, the way a liveness check sees it: a new
 * connection per request, every INTERVAL ms for SECONDS.
 *   healthz-probe PORT SECONDS [INTERVAL_MS]
 * Prints "n N failed F p50 X p99 Y max Z" (milliseconds). A request that
 * takes over 5 s counts as failed. SIGTERM ends it early. */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int sig) {
        stop = 1;
}

static double now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

/* One request; returns its latency in ms, or -1. */
static double probe(int port) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t) port)};
        struct timeval tv = {.tv_sec = 5};
        static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        char buf[512];
        size_t got = 0;
        double t0 = now_ms();
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -1;
        inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || send(fd, req, sizeof(req) - 1, 0) < 0) {
                close(fd);
                return -1;
        }
        for (;;) {
                ssize_t n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
                if (n <= 0)
                        break;
                got += (size_t) n;
                if (got >= sizeof(buf) - 1)
                        break;
        }
        close(fd);
        buf[got] = 0;
        if (strncmp(buf, "HTTP/1.1 200", 12) != 0)
                return -1;
        return now_ms() - t0;
}

int main(int argc, char **argv) {
        if (argc < 3) {
                fprintf(stderr, "usage: %s PORT SECONDS [INTERVAL_MS]\n", argv[0]);
                return 2;
        }
        int port = atoi(argv[1]);
        double secs = atof(argv[2]), interval = argc > 3 ? atof(argv[3]) : 10;
        size_t cap = (size_t) (secs * 1000 / (interval > 0 ? interval : 1)) + 16, n = 0, failed = 0;
        double *lat = calloc(cap, sizeof(double)), end = now_ms() + secs * 1000;

        if (!lat || port <= 0)
                return 2;
        signal(SIGTERM, on_term); /* stop early and print what was measured */
        while (!stop && now_ms() < end && n < cap) {
                double t = probe(port);
                if (t < 0)
                        failed++;
                else
                        lat[n++] = t;
                usleep((useconds_t) (interval * 1000));
        }
        qsort(lat, n, sizeof(double), cmp);
        if (n == 0) {
                printf("n 0 failed %zu p50 - p99 - max -\n", failed);
                return 0;
        }
        printf("n %zu failed %zu p50 %.1f p99 %.1f max %.1f\n", n, failed, lat[(n - 1) / 2],
               lat[(n * 99 + 99) / 100 - 1], lat[n - 1]);
        free(lat);
        return 0;
}
