/* SPDX-License-Identifier: Apache-2.0 */
/* CRI log files as the facade reads them: line format, time stamps, the
 * options of a log request, rotated and gzipped files before the live one,
 * previous instances, tail and limits. */
#include "kubelet-lite/logs/podlogs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "lib/macros.h"
#include "tests/lib/tests.h"

TEST(lines_and_times) {
        struct kl_podlogs_line l;
        const char s[] = "2026-01-02T03:04:05.123456789Z stdout F hello world";
        ASSERT_OK(kl_podlogs_parse_line(s, strlen(s), &l));
        ASSERT_FALSE(l.stderr_stream);
        ASSERT_FALSE(l.partial);
        ASSERT_EQ(l.content_len, 11);
        ASSERT_TRUE(memcmp(l.content, "hello world", 11) == 0);
        ASSERT_EQ(l.nsec, 1767323045123456789LL);
        const char p[] = "2026-01-02T04:04:05+01:00 stderr P part";
        ASSERT_OK(kl_podlogs_parse_line(p, strlen(p), &l));
        ASSERT_TRUE(l.stderr_stream && l.partial);
        ASSERT_EQ(l.nsec, 1767323045000000000LL);
        const char empty[] = "2026-01-02T03:04:05Z stdout F";
        ASSERT_OK(kl_podlogs_parse_line(empty, strlen(empty), &l));
        ASSERT_EQ(l.content_len, 0);
        static const char *const bad[] = {"",
                                          "nonsense",
                                          "2026-01-02T03:04:05Z stdin F x",
                                          "2026-13-02T03:04:05Z stdout F x",
                                          "2026-01-02 03:04:05Z stdout F x",
                                          "2026-01-02T03:04:05.Z stdout F x",
                                          "2026-01-02T03:04:05Z stdout"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                ASSERT_ERR(kl_podlogs_parse_line(bad[i], strlen(bad[i]), &l), EBADMSG);
}

TEST(query_options_validated_as_upstream) {
        struct kl_podlogs_opts o;
        char c[64], err[128];
        ASSERT_OK(kl_podlogs_parse_query("container=x&follow=true&tailLines=5&timestamps=1&limitBytes=10", &o, c,
                                         sizeof(c), err, sizeof(err)));
        ASSERT_STREQ(c, "x");
        ASSERT_TRUE(o.follow && o.timestamps && !o.previous);
        ASSERT_EQ(o.tail_lines, 5);
        ASSERT_EQ(o.limit_bytes, 10);
        ASSERT_OK(kl_podlogs_parse_query("", &o, c, sizeof(c), err, sizeof(err)));
        ASSERT_EQ(o.tail_lines, -1);
        ASSERT_STREQ(c, "");
        ASSERT_ERR(kl_podlogs_parse_query("tailLines=-1", &o, c, sizeof(c), err, sizeof(err)), EINVAL);
        ASSERT_ERR(kl_podlogs_parse_query("limitBytes=0", &o, c, sizeof(c), err, sizeof(err)), EINVAL);
        ASSERT_ERR(kl_podlogs_parse_query("sinceSeconds=0", &o, c, sizeof(c), err, sizeof(err)), EINVAL);
        ASSERT_ERR(kl_podlogs_parse_query("follow=maybe", &o, c, sizeof(c), err, sizeof(err)), EINVAL);
        ASSERT_CONTAINS(err, "follow");
        ASSERT_ERR(kl_podlogs_parse_query("sinceSeconds=5&sinceTime=2026-01-01T00:00:00Z", &o, c, sizeof(c), err,
                                          sizeof(err)),
                   EINVAL);
}

static void write_file(const char *dir, const char *name, const char *text, bool gz) {
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", dir, name);
        if (gz) {
                gzFile f = gzopen(p, "wb");
                gzputs(f, text);
                gzclose(f);
        } else {
                FILE *f = fopen(p, "we");
                fputs(text, f);
                fclose(f);
        }
}

static char *read_all(const char *dir, struct kl_podlogs_opts o) {
        struct kl_podlogs *l;
        struct kl_buf b = {};
        if (kl_podlogs_open(dir, &o, &l) < 0)
                return NULL;
        int r;
        while ((r = kl_podlogs_read(l, &b, 7)) == 1) /* small steps: resuming must lose nothing */
                ;
        kl_podlogs_free(l);
        kl_buf_puts(&b, "");
        return b.data;
}

TEST(rotated_gzipped_and_live_files_in_order) {
        char dir[] = "/tmp/kl-podlogs.XXXXXX";
        ASSERT_NOT_NULL(mkdtemp(dir));
        write_file(dir, "0.log", "2026-01-01T00:00:00Z stdout F zero\n", false);
        write_file(dir, "1.log.20260101-000001.gz",
                   "2026-01-01T00:00:01Z stdout F one\n2026-01-01T00:00:02Z stderr P tw\n", true);
        write_file(dir, "1.log.20260101-000003", "2026-01-01T00:00:03Z stderr F o\nnot a cri line\n", false);
        write_file(dir, "1.log.20260101-000004.gz.tmp", "2026-01-01T00:00:04Z stdout F half-done\n", false);
        write_file(dir, "1.log", "2026-01-01T00:00:05Z stdout F three\n2026-01-01T00:00:06Z stdout F four\n", false);

        struct kl_podlogs_opts o = {.tail_lines = -1};
        char *s = read_all(dir, o);
        ASSERT_STREQ(s, "one\ntwo\nthree\nfour\n");
        free(s);
        o.tail_lines = 2;
        s = read_all(dir, o);
        ASSERT_STREQ(s, "three\nfour\n");
        free(s);
        o.tail_lines = 3; /* a partial line counts with the line it ends in */
        s = read_all(dir, o);
        ASSERT_STREQ(s, "two\nthree\nfour\n");
        free(s);
        o = (struct kl_podlogs_opts){.tail_lines = -1, .timestamps = true, .limit_bytes = 26};
        s = read_all(dir, o);
        ASSERT_STREQ(s, "2026-01-01T00:00:01Z one\n2");
        free(s);
        o = (struct kl_podlogs_opts){.tail_lines = -1, .since_nsec = 1767225605000000000LL};
        s = read_all(dir, o);
        ASSERT_STREQ(s, "three\nfour\n");
        free(s);
        o = (struct kl_podlogs_opts){.tail_lines = -1, .previous = true};
        s = read_all(dir, o);
        ASSERT_STREQ(s, "zero\n");
        free(s);
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        ASSERT_OK(system(cmd));
        ASSERT_NULL(read_all(dir, o)); /* no directory: no log */
}

TEST(follow_sees_growth_and_rotation) {
        char dir[] = "/tmp/kl-podlogs.XXXXXX", p[256], q[256];
        ASSERT_NOT_NULL(mkdtemp(dir));
        write_file(dir, "0.log", "2026-01-01T00:00:00Z stdout F a\n", false);
        struct kl_podlogs_opts o = {.tail_lines = -1, .follow = true};
        struct kl_podlogs *l;
        struct kl_buf b = {};
        ASSERT_OK(kl_podlogs_open(dir, &o, &l));
        ASSERT_EQ(kl_podlogs_read(l, &b, 1024), 0); /* all there is, for now */
        snprintf(p, sizeof(p), "%s/0.log", dir);
        FILE *f = fopen(p, "ae");
        fputs("2026-01-01T00:00:01Z stdout F b\n", f);
        fclose(f);
        ASSERT_EQ(kl_podlogs_read(l, &b, 1024), 0);
        snprintf(q, sizeof(q), "%s/0.log.20260101-000002", dir); /* rotated away, a new live file */
        ASSERT_OK(rename(p, q));
        write_file(dir, "0.log", "2026-01-01T00:00:03Z stdout F c\n", false);
        ASSERT_EQ(kl_podlogs_read(l, &b, 1024), 0);
        write_file(dir, "1.log", "2026-01-01T00:00:04Z stdout F next instance\n", false);
        ASSERT_EQ(kl_podlogs_read(l, &b, 1024), 2); /* a newer instance ends the stream */
        kl_buf_puts(&b, "");
        ASSERT_STREQ(b.data, "a\nb\nc\n");
        kl_buf_free_contents(&b);
        kl_podlogs_free(l);
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        ASSERT_OK(system(cmd));
}

TEST_MAIN()
