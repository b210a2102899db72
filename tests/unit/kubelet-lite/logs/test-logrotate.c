/* SPDX-License-Identifier: Apache-2.0 */
/* Log rotation against real files in a temp directory, with a fake clock. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "kubelet-lite/logs/logrotate.h"
#include "lib/fileio.h"
#include "tests/lib/tests.h"

#define T0 1704164645 /* 2024-01-02T03:04:05Z */
#define STAMP0 "20240102-030405"

static time_t fake_now = T0;
static time_t now_fn(void) {
        return fake_now;
}

static char tmpdir[PATH_MAX];
static char dir[PATH_MAX];  /* tmpdir/ns_pod_uid/c */
static char logp[PATH_MAX]; /* dir/0.log */

static void teardown(void) {
        if (tmpdir[0])
                kl_rm_rf_at(AT_FDCWD, tmpdir);
        tmpdir[0] = '\0';
}

/* A fresh directory per test; a failed test's leftovers go with the next setup(). */
static void setup(void) {
        teardown();
        snprintf(tmpdir, sizeof(tmpdir), "%s/kl-logrotate-XXXXXX", getenv("TMPDIR") ?: "/tmp");
        if (!mkdtemp(tmpdir))
                abort();
        if (snprintf(dir, sizeof(dir), "%s/ns_pod_uid/c", tmpdir) >= (int) sizeof(dir) ||
            snprintf(logp, sizeof(logp), "%s/0.log", dir) >= (int) sizeof(logp))
                abort();
        if (kl_mkdir_p(dir, 0755) < 0)
                abort();
        fake_now = T0;
}

static char *pathf(const char *name) {
        static char p[4][PATH_MAX];
        static int i;
        i = (i + 1) % 4;
        if (snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name) >= (int) sizeof(p[i]))
                abort();
        return p[i];
}

static bool exists(const char *name) {
        return access(pathf(name), F_OK) == 0;
}

static void write_file(const char *name, const void *data, size_t len, bool append) {
        int fd = open(pathf(name), O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0640);
        if (fd < 0 || kl_write_all(fd, data, len) < 0)
                abort();
        close(fd);
}

/* Deterministic log-like content of n bytes: lines with a counter, plus some noise. */
static char *make_content(size_t n, unsigned seed) {
        char *b = malloc(n + 1);
        size_t off = 0;
        for (unsigned i = 0; off < n; i++) {
                char line[128];
                seed = seed * 1103515245u + 12345u;
                int k = snprintf(line, sizeof(line), "2024-01-02T03:04:05.%09uZ stdout F line %u %08x\n", i, i, seed);
                size_t c = MIN((size_t) k, n - off);
                memcpy(b + off, line, c);
                off += c;
        }
        b[n] = '\0';
        return b;
}

/* Decompress a whole single-member gzip file; NULL when it is not one. */
static char *gunzip_file(const char *name, size_t *ret_len) {
        _cleanup_free_ char *gz = NULL;
        size_t gzlen, cap = 1 << 16, len = 0;
        char *out = malloc(cap);
        z_stream zs = {};
        int zr;

        if (kl_read_file_at(AT_FDCWD, pathf(name), 1 << 28, 0, &gz, &gzlen) < 0 || !out)
                goto fail;
        if (inflateInit2(&zs, 15 + 16) != Z_OK)
                goto fail;
        zs.next_in = (unsigned char *) gz;
        zs.avail_in = (uInt) gzlen;
        do {
                if (len == cap)
                        out = realloc(out, cap *= 2);
                zs.next_out = (unsigned char *) out + len;
                zs.avail_out = (uInt) (cap - len);
                zr = inflate(&zs, Z_NO_FLUSH);
                len = cap - zs.avail_out;
        } while (zr == Z_OK);
        inflateEnd(&zs);
        if (zr != Z_STREAM_END || zs.avail_in != 0)
                goto fail;
        *ret_len = len;
        return out;
fail:
        free(out);
        return NULL;
}

/* Files in dir, sorted, as "a b c". */
static char *listing(void) {
        static char buf[4096];
        struct dirent **names;
        int n = scandir(dir, &names, NULL, alphasort);
        buf[0] = '\0';
        for (int i = 0; i < n; i++) {
                if (names[i]->d_name[0] != '.') {
                        if (buf[0])
                                strcat(buf, " ");
                        strcat(buf, names[i]->d_name);
                }
                free(names[i]);
        }
        free(names);
        return buf;
}

static int count_files(void) {
        int n = 0;
        for (char *p = listing(); *p; p++)
                n += *p == ' ';
        return listing()[0] ? n + 1 : 0;
}

static struct kl_logrotate *new_lr(int64_t max_size, int max_files, uint64_t budget) {
        struct kl_logrotate_options o = {
                .max_size = max_size, .max_files = max_files, .compress_budget = budget, .now = now_fn};
        struct kl_logrotate *lr = NULL;
        if (kl_logrotate_new(&o, &lr) < 0)
                abort();
        return lr;
}

/* check + "runtime reopens the log" + finish, like the daemon. */
static bool cycle(struct kl_logrotate *lr, bool reopen_works) {
        struct kl_error err = {};
        bool reopen = false;

        if (kl_logrotate_check(lr, logp, &reopen, &err) < 0) {
                fprintf(stderr, "check: %s\n", kl_error_str(&err));
                abort();
        }
        if (reopen) {
                if (reopen_works)
                        write_file("0.log", "", 0, true); /* runtime creates the new log */
                if (kl_logrotate_finish(lr, logp, reopen_works, &err) < 0) {
                        fprintf(stderr, "finish: %s\n", kl_error_str(&err));
                        abort();
                }
        }
        return reopen;
}

TEST(no_rotation_below_size) {
        _cleanup_(kl_logrotate_freep) struct kl_logrotate *lr = NULL;
        setup();
        lr = new_lr(1000, 5, 0);
        write_file("0.log", "hello\n", 6, false);
        ASSERT_FALSE(cycle(lr, true));
        ASSERT_STREQ(listing(), "0.log");
        teardown();
}

TEST(rotation_at_size_and_gzip_roundtrip) {
        _cleanup_(kl_logrotate_freep) struct kl_logrotate *lr = NULL;
        _cleanup_free_ char *content = NULL, *back = NULL;
        struct kl_error err = {};
        bool reopen = false;
        struct stat st;
        size_t len;

        setup();
        lr = new_lr(64 * 1024, 5, 0);
        content = make_content(64 * 1024, 1);
        write_file("0.log", content, 64 * 1024 - 1, false);
        ASSERT_FALSE(cycle(lr, true)); /* one byte short */
        write_file("0.log", content + 64 * 1024 - 1, 1, true);

        ASSERT_OK(kl_logrotate_check(lr, logp, &reopen, &err));
        ASSERT_TRUE(reopen);
        ASSERT_STREQ(listing(), "0.log." STAMP0);
        write_file("0.log", "new\n", 4, true); /* the runtime reopened */
        ASSERT_OK(kl_logrotate_finish(lr, logp, true, &err));
        ASSERT_STREQ(listing(), "0.log 0.log." STAMP0 ".gz");

        back = gunzip_file("0.log." STAMP0 ".gz", &len);
        ASSERT_NOT_NULL(back);
        ASSERT_EQ(len, 64 * 1024);
        ASSERT_TRUE(memcmp(back, content, len) == 0);
        ASSERT_OK(stat(pathf("0.log." STAMP0 ".gz"), &st));
        ASSERT_EQ(st.st_mode & 0777, 0640); /* the log's mode is kept */
        printf("  64 KiB of log compressed to %lld bytes\n", (long long) st.st_size);
        teardown();
}

TEST(compression_in_slices) {
        _cleanup_(kl_logrotate_freep) struct kl_logrotate *lr = NULL;
        _cleanup_free_ char *content = NULL, *back = NULL;
        const size_t size = 300 * 1000;
        struct kl_error err = {};
        int steps = 0, r;
        size_t len;

        setup();
        lr = new_lr(size, 5, 16 * 1024);
        content = make_content(size, 7);
        write_file("0.log", content, size, false);
        ASSERT_TRUE(cycle(lr, true));
        /* finish compressed one slice; the rest waits for step() */
        ASSERT_TRUE(exists("0.log." STAMP0 ".gz.tmp"));
        ASSERT_TRUE(exists("0.log." STAMP0));
        ASSERT_FALSE(exists("0.log." STAMP0 ".gz"));
        while ((r = kl_logrotate_step(lr, &err)) > 0)
                steps++;
        ASSERT_OK(r);
        /* 300000 bytes in 16 KiB slices: 19 slices; finish did the first, the
         * last step did the 19th and completed the file */
        ASSERT_EQ(steps, 17);
        ASSERT_EQ(kl_logrotate_step(lr, &err), 0); /* idle */
        ASSERT_STREQ(listing(), "0.log 0.log." STAMP0 ".gz");
        back = gunzip_file("0.log." STAMP0 ".gz", &len);
        ASSERT_NOT_NULL(back);
        ASSERT_EQ(len, size);
        ASSERT_TRUE(memcmp(back, content, len) == 0);
        teardown();
}

TEST(max_files_honoured) {
        _cleanup_(kl_logrotate_freep) struct kl_logrotate *lr = NULL;
        char first[64];

        setup();
        lr = new_lr(100, 3, 0);
        for (int i = 0; i < 6; i++) {
                char line[100];
                memset(line, 'a' + i, sizeof(line));
                write_file("0.log", line, sizeof(line), true);
                ASSERT_TRUE(cycle(lr, true));
                ASSERT_LE(count_files(), 3);
                if (i == 0)
                        snprintf(first, sizeof(first), "0.log.%s.gz", STAMP0);
                fake_now += 60;
        }
        /* the live log plus the two newest rotations */
        ASSERT_STREQ(listing(), "0.log 0.log.20240102-030805.gz 0.log.20240102-030905.gz");
        ASSERT_FALSE(exists(first));
        /* the newest holds the last 100 bytes written */
        {
                _cleanup_free_ char *b = NULL;
                size_t len;
                b = gunzip_file("0.log.20240102-030905.gz", &len);
                ASSERT_NOT_NULL(b);
                ASSERT_EQ(len, 100);
                ASSERT_EQ(b[0], 'f');
        }
        teardown();
}

TEST(leftovers_cleaned_and_strangers_kept) {
        _cleanup_(kl_logrotate_freep) struct kl_logrotate *lr = NULL;
        _cleanup_free_ char *back = NULL;
        size_t len;

        setup();
        lr = new_lr(1 << 20, 5, 0);
        write_file("0.log", "live\n", 5, false);
        /* crash mid-compression: source plus a partial temp file */
        write_file("0.log.20200101-000000", "old log\n", 8, false);
        write_file("0.log.20200101-000000.gz.tmp", "\x1f\x8b partial", 10, false);
        /* crash between publishing the .gz and removing the source */
        write_file("0.log.20200101-000001", "dup\n", 4, false);
        write_file("0.log.20200101-000001.gz", "kept", 4, false);
        /* upstream's temp name, and a temp file with no source */
        write_file("0.log.20200101-000002.tmp", "x", 1, false);
        write_file("0.log.20200101-000003.gz.tmp", "x", 1, false);
        /* not ours */
        write_file("1.log.20200101-000000", "other container attempt", 23, false);
        write_file("0.log.keep", "k", 1, false);
        write_file("0.log.2020", "k", 1, false);

        ASSERT_FALSE(cycle(lr, true));
        ASSERT_STREQ(listing(), "0.log 0.log.2020 0.log.20200101-000000.gz 0.log.20200101-000001.gz "
                                "0.log.keep 1.log.20200101-000000");
        back = gunzip_file("0.log.20200101-000000.gz", &len);
        ASSERT_NOT_NULL(back);
        ASSERT_EQ(len, 8);
        ASSERT_TRUE(memcmp(back, "old log\n", 8) == 0);
        teardown();
}

TEST(reopen_fails_renames_back) {
        _cleanup_(kl_logrotate_freep) struct kl_logrotate *lr = NULL;
        _cleanup_free_ char *b = NULL;
        size_t len;

        setup();
        lr = new_lr(10, 5, 0);
        write_file("0.log", "0123456789", 10, false);
        ASSERT_TRUE(cycle(lr, false));
        ASSERT_STREQ(listing(), "0.log");
        ASSERT_OK(kl_read_file_at(AT_FDCWD, logp, 100, 0, &b, &len));
        ASSERT_STREQ(b, "0123456789");
        /* retried on the next pass */
        fake_now++;
        ASSERT_TRUE(cycle(lr, true));
        ASSERT_STREQ(listing(), "0.log 0.log.20240102-030406.gz");
        teardown();
}

TEST(reopen_fails_but_log_recreated) {
        _cleanup_(kl_logrotate_freep) struct kl_logrotate *lr = NULL;
        struct kl_error err = {};
        bool reopen;

        setup();
        lr = new_lr(10, 5, 0);
        write_file("0.log", "0123456789", 10, false);
        ASSERT_OK(kl_logrotate_check(lr, logp, &reopen, &err));
        ASSERT_TRUE(reopen);
        write_file("0.log", "new", 3, false);
        ASSERT_OK(kl_logrotate_finish(lr, logp, false, &err));
        /* nothing is overwritten; the rotated file stays and is compressed later */
        ASSERT_STREQ(listing(), "0.log 0.log." STAMP0);
        ASSERT_FALSE(cycle(lr, true));
        ASSERT_STREQ(listing(), "0.log 0.log." STAMP0 ".gz");
        teardown();
}

TEST(live_log_removed_underneath) {
        _cleanup_(kl_logrotate_freep) struct kl_logrotate *lr = NULL;
        struct kl_error err = {};
        bool reopen = false;

        setup();
        lr = new_lr(10, 5, 0);
        /* a rotation whose reopen never happened (daemon crashed) */
        write_file("0.log." STAMP0, "runtime still writes here\n", 26, false);
        ASSERT_OK(kl_logrotate_check(lr, logp, &reopen, &err));
        ASSERT_TRUE(reopen);
        /* not compressed while the runtime may still write to it */
        ASSERT_STREQ(listing(), "0.log." STAMP0);
        ASSERT_OK(kl_logrotate_finish(lr, logp, false, &err)); /* nothing of ours to rename back */
        ASSERT_STREQ(listing(), "0.log." STAMP0);
        /* once the runtime has reopened, the rotated file is compressed */
        write_file("0.log", "", 0, true);
        ASSERT_FALSE(cycle(lr, true));
        ASSERT_STREQ(listing(), "0.log 0.log." STAMP0 ".gz");
        teardown();
}

TEST(same_second_rotation_postponed) {
        _cleanup_(kl_logrotate_freep) struct kl_logrotate *lr = NULL;
        _cleanup_free_ char *b = NULL;
        size_t len;

        setup();
        lr = new_lr(10, 5, 0);
        write_file("0.log", "first.....", 10, false);
        ASSERT_TRUE(cycle(lr, true));
        write_file("0.log", "second....", 10, true);
        ASSERT_FALSE(cycle(lr, true)); /* STAMP0.gz exists: wait for the next second */
        ASSERT_STREQ(listing(), "0.log 0.log." STAMP0 ".gz");
        fake_now++;
        ASSERT_TRUE(cycle(lr, true));
        ASSERT_STREQ(listing(), "0.log 0.log." STAMP0 ".gz 0.log.20240102-030406.gz");
        b = gunzip_file("0.log." STAMP0 ".gz", &len);
        ASSERT_NOT_NULL(b);
        ASSERT_EQ(len, 10);
        ASSERT_TRUE(memcmp(b, "first.....", 10) == 0);
        teardown();
}

TEST(source_removed_during_compression) {
        _cleanup_(kl_logrotate_freep) struct kl_logrotate *lr = NULL;
        _cleanup_free_ char *content = NULL;
        struct kl_error err = {};

        setup();
        lr = new_lr(100000, 5, 4096);
        content = make_content(100000, 3);
        write_file("0.log", content, 100000, false);
        ASSERT_TRUE(cycle(lr, true));
        ASSERT_TRUE(exists("0.log." STAMP0 ".gz.tmp"));
        ASSERT_OK(unlink(pathf("0.log." STAMP0)));
        ASSERT_EQ(kl_logrotate_step(lr, &err), 0);
        ASSERT_STREQ(listing(), "0.log");
        teardown();
}

TEST(compressed_file_already_exists) {
        _cleanup_(kl_logrotate_freep) struct kl_logrotate *lr = NULL;
        _cleanup_free_ char *content = NULL, *b = NULL;
        struct kl_error err = {};
        size_t len;

        setup();
        lr = new_lr(100000, 5, 4096);
        content = make_content(100000, 5);
        write_file("0.log", content, 100000, false);
        ASSERT_TRUE(cycle(lr, true));
        /* someone published the .gz while we were compressing: it is kept */
        write_file("0.log." STAMP0 ".gz", "theirs", 6, false);
        while (kl_logrotate_step(lr, &err) > 0)
                ;
        ASSERT_STREQ(listing(), "0.log 0.log." STAMP0 ".gz");
        ASSERT_OK(kl_read_file_at(AT_FDCWD, pathf("0.log." STAMP0 ".gz"), 100, 0, &b, &len));
        ASSERT_STREQ(b, "theirs");
        teardown();
}

TEST(remove_and_remove_all) {
        _cleanup_(kl_logrotate_freep) struct kl_logrotate *lr = NULL;
        _cleanup_free_ char *content = NULL;
        char pod[PATH_MAX];
        struct kl_error err = {};

        setup();
        lr = new_lr(50000, 5, 4096);
        content = make_content(50000, 9);
        write_file("0.log", content, 50000, false);
        ASSERT_TRUE(cycle(lr, true)); /* leaves a compression in progress */
        write_file("0.log.20200101-000000.gz", "x", 1, false);
        write_file("1.log", "next attempt\n", 13, false);
        ASSERT_OK(kl_logrotate_remove(lr, logp));
        ASSERT_STREQ(listing(), "1.log");
        ASSERT_EQ(kl_logrotate_step(lr, &err), 0); /* the job went with the files */
        ASSERT_OK(kl_logrotate_remove(lr, logp));  /* nothing left: fine */

        /* a job inside the pod directory is abandoned by remove_all */
        ASSERT_TRUE(snprintf(logp, sizeof(logp), "%s/1.log", dir) < (int) sizeof(logp));
        write_file("1.log", content, 50000, false);
        ASSERT_TRUE(cycle(lr, true));
        ASSERT_TRUE(snprintf(pod, sizeof(pod), "%s/ns_pod_uid/", tmpdir) < (int) sizeof(pod));
        ASSERT_OK(kl_logrotate_remove_all(lr, pod));
        ASSERT_EQ(access(pod, F_OK), -1);
        ASSERT_EQ(kl_logrotate_step(lr, &err), 0);
        ASSERT_OK(kl_logrotate_remove_all(lr, pod)); /* already gone */
        ASSERT_ERR(kl_logrotate_remove_all(lr, "/"), EINVAL);
        ASSERT_ERR(kl_logrotate_remove_all(lr, "//"), EINVAL);
        ASSERT_ERR(kl_logrotate_remove_all(lr, "var/log/pods/x"), EINVAL);
        teardown();
}

TEST(errors_and_options) {
        _cleanup_(kl_logrotate_freep) struct kl_logrotate *lr = NULL;
        struct kl_logrotate_options o = {.max_files = 1};
        struct kl_logrotate *x = NULL;
        struct kl_error err = {};
        char longname[PATH_MAX];
        bool reopen = true;

        ASSERT_ERR(kl_logrotate_new(&o, &x), EINVAL);
        o = (struct kl_logrotate_options){.compress_level = 10};
        ASSERT_ERR(kl_logrotate_new(&o, &x), EINVAL);
        ASSERT_OK(kl_logrotate_new(NULL, &x));
        x = kl_logrotate_free(x);

        setup();
        lr = new_lr(10, 5, 0);
        ASSERT_ERR(kl_logrotate_check(lr, "/nonexistent-kl/dir/0.log", &reopen, &err), ENOENT);
        ASSERT_CONTAINS(kl_error_str(&err), "/nonexistent-kl/dir/0.log");
        ASSERT_ERR(kl_logrotate_check(lr, "/tmp/", &reopen, &err), EINVAL);
        ASSERT_ERR(kl_logrotate_check(lr, "", &reopen, &err), EINVAL);
        ASSERT_TRUE(snprintf(longname, sizeof(longname), "%s/", dir) < (int) sizeof(longname));
        memset(longname + strlen(longname), 'a', 240);
        longname[strlen(dir) + 1 + 240] = '\0';
        ASSERT_ERR(kl_logrotate_check(lr, longname, &reopen, &err), ENAMETOOLONG);
        ASSERT_TRUE(reopen); /* outputs untouched on failure */
        /* the log is a directory / a symlink */
        ASSERT_OK(mkdir(pathf("0.log"), 0755));
        ASSERT_ERR(kl_logrotate_check(lr, logp, &reopen, &err), EINVAL);
        ASSERT_OK(rmdir(pathf("0.log")));
        ASSERT_OK(symlink("/etc/passwd", pathf("0.log")));
        ASSERT_ERR(kl_logrotate_check(lr, logp, &reopen, &err), EINVAL);
        teardown();
}

TEST(rotation_disabled) {
        _cleanup_(kl_logrotate_freep) struct kl_logrotate *lr = NULL;
        _cleanup_free_ char *content = NULL;

        setup();
        lr = new_lr(-1, 5, 0);
        content = make_content(20000, 2);
        write_file("0.log", content, 20000, false);
        ASSERT_FALSE(cycle(lr, true));
        ASSERT_STREQ(listing(), "0.log");
        teardown();
}

TEST_MAIN()
