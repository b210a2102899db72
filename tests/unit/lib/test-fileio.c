/* SPDX-License-Identifier: Apache-2.0 */
#include "lib/fileio.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "lib/macros.h"
#include "tests/lib/tests.h"

static char tmpdir[64];

/* A fresh directory per test; returns an fd on it. */
static int fresh_dir(void) {
        if (tmpdir[0])
                (void) kl_rm_rf_at(AT_FDCWD, tmpdir);
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/kl-test-fileio-XXXXXX");
        ASSERT_NOT_NULL(mkdtemp(tmpdir));
        int fd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_OK(fd);
        return fd;
}

static void put(int dfd, const char *name, const char *content) {
        int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        ASSERT_OK(fd);
        ASSERT_OK(kl_write_all(fd, content, strlen(content)));
        close(fd);
}

static int count_entries(int dfd) {
        int n = 0, fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fdopendir(fd);
        ASSERT_NOT_NULL(d);
        for (struct dirent *de; (errno = 0, de = readdir(d));)
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        ASSERT_EQ(errno, 0);
        closedir(d);
        return n;
}

static bool exists_at(int dfd, const char *name) {
        struct stat st;
        return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

TEST(read_small_and_empty) {
        _cleanup_close_ int dfd = fresh_dir();
        char *buf = NULL;
        size_t len = 99;

        put(dfd, "f", "hello\n");
        ASSERT_OK(kl_read_file_at(dfd, "f", 100, 0, &buf, &len));
        ASSERT_EQ(len, 6);
        ASSERT_STREQ(buf, "hello\n");
        free(buf);
        put(dfd, "empty", "");
        ASSERT_OK(kl_read_file_at(dfd, "empty", 100, 0, &buf, &len));
        ASSERT_EQ(len, 0);
        ASSERT_STREQ(buf, "");
        free(buf);
        ASSERT_ERR(kl_read_file_at(dfd, "missing", 100, 0, &buf, &len), ENOENT);
}

TEST(read_cap_is_exact) {
        _cleanup_close_ int dfd = fresh_dir();
        char *buf = NULL, *content = malloc(100001);
        size_t len;

        memset(content, 'q', 100000);
        content[100000] = '\0';
        put(dfd, "big", content);
        ASSERT_OK(kl_read_file_at(dfd, "big", 100000, 0, &buf, &len)); /* exactly max: fine */
        ASSERT_EQ(len, 100000);
        ASSERT_EQ(memcmp(buf, content, 100000), 0);
        ASSERT_EQ(buf[100000], '\0');
        free(buf);
        buf = NULL;
        ASSERT_ERR(kl_read_file_at(dfd, "big", 99999, 0, &buf, &len), EFBIG);
        ASSERT_NULL(buf);
        ASSERT_ERR(kl_read_file_at(dfd, "big", 4096, 0, &buf, &len), EFBIG);
        ASSERT_ERR(kl_read_file_at(dfd, "big", 0, 0, &buf, &len), EFBIG);
        put(dfd, "empty", "");
        ASSERT_OK(kl_read_file_at(dfd, "empty", 0, 0, &buf, &len));
        free(buf);
        free(content);
        printf("  100000 bytes: max 100000 reads, 99999 / 4096 / 0 give -EFBIG\n");
}

TEST(read_proc_file_of_unknown_size) {
        char *buf = NULL;
        size_t len;
        /* /proc reports size 0; the content is still read whole. */
        ASSERT_OK(kl_read_file_at(AT_FDCWD, "/proc/self/status", 1 << 20, 0, &buf, &len));
        ASSERT_TRUE(len > 0);
        ASSERT_CONTAINS(buf, "Name:");
        free(buf);
}

TEST(read_nofollow) {
        _cleanup_close_ int dfd = fresh_dir();
        char *buf = NULL;

        put(dfd, "target", "secret");
        ASSERT_OK(symlinkat("target", dfd, "link"));
        ASSERT_ERR(kl_read_file_at(dfd, "link", 100, 1, &buf, NULL), ELOOP);
        ASSERT_OK(kl_read_file_at(dfd, "link", 100, 0, &buf, NULL));
        ASSERT_STREQ(buf, "secret");
        free(buf);
        printf("  nofollow: a symlink gives -ELOOP; without it the target is read\n");
}

TEST(read_rejects_directory_and_fifo_without_blocking) {
        _cleanup_close_ int dfd = fresh_dir();
        char *buf = NULL;

        ASSERT_OK(mkdirat(dfd, "d", 0755));
        ASSERT_ERR(kl_read_file_at(dfd, "d", 100, 0, &buf, NULL), EISDIR);
        ASSERT_OK(mkfifoat(dfd, "fifo", 0644));
        alarm(5); /* a blocking open would hang here without a writer */
        ASSERT_ERR(kl_read_file_at(dfd, "fifo", 100, 0, &buf, NULL), EBADFD);
        alarm(0);
        printf("  a FIFO is refused with -EBADFD instead of blocking in open()\n");
}

TEST(atomic_write_creates_with_mode_and_leaves_no_temp) {
        _cleanup_close_ int dfd = fresh_dir();
        char *buf = NULL;
        struct stat st;

        umask(022);
        ASSERT_OK(kl_write_file_atomic_at(dfd, "state", "v1", 2, 0640));
        ASSERT_OK(kl_read_file_at(dfd, "state", 100, 1, &buf, NULL));
        ASSERT_STREQ(buf, "v1");
        free(buf);
        ASSERT_OK(fstatat(dfd, "state", &st, 0));
        ASSERT_EQ(st.st_mode & 07777, 0640);
        ASSERT_EQ(count_entries(dfd), 1);
}

TEST(atomic_write_replaces_while_readers_keep_old) {
        _cleanup_close_ int dfd = fresh_dir();
        char old[16] = {}, *buf = NULL;
        struct stat st1, st2;

        ASSERT_OK(kl_write_file_atomic_at(dfd, "state", "old-content", 11, 0644));
        ASSERT_OK(fstatat(dfd, "state", &st1, 0));
        int rfd = openat(dfd, "state", O_RDONLY | O_CLOEXEC);
        ASSERT_OK(rfd);
        for (int i = 0; i < 20; i++) {
                char content[32];
                int n = snprintf(content, sizeof(content), "new-%d", i);
                ASSERT_OK(kl_write_file_atomic_at(dfd, "state", content, (size_t) n, 0644));
                ASSERT_OK(kl_read_file_at(dfd, "state", 100, 1, &buf, NULL));
                ASSERT_STREQ(buf, content);
                free(buf);
                ASSERT_EQ(count_entries(dfd), 1);
        }
        ASSERT_OK(fstatat(dfd, "state", &st2, 0));
        ASSERT_NE(st1.st_ino, st2.st_ino);
        ASSERT_EQ(read(rfd, old, sizeof(old) - 1), 11);
        ASSERT_STREQ(old, "old-content"); /* never a half-written or truncated file */
        close(rfd);
        printf("  20 replacements: a reader of the old file sees it whole; only 'state' in the directory\n");
}

TEST(atomic_write_replaces_symlink_not_target) {
        _cleanup_close_ int dfd = fresh_dir();
        char *buf = NULL;
        struct stat st;

        put(dfd, "victim", "precious");
        ASSERT_OK(symlinkat("victim", dfd, "state"));
        ASSERT_OK(kl_write_file_atomic_at(dfd, "state", "x", 1, 0644));
        ASSERT_OK(fstatat(dfd, "state", &st, AT_SYMLINK_NOFOLLOW));
        ASSERT_TRUE(S_ISREG(st.st_mode));
        ASSERT_OK(kl_read_file_at(dfd, "victim", 100, 1, &buf, NULL));
        ASSERT_STREQ(buf, "precious");
        free(buf);
}

TEST(atomic_write_failure_leaves_old_and_no_temp) {
        _cleanup_close_ int dfd = fresh_dir();

        ASSERT_OK(mkdirat(dfd, "state", 0755));
        ASSERT_OK(mkdirat(dfd, "state/inner", 0755)); /* rename over a non-empty directory fails */
        int r = kl_write_file_atomic_at(dfd, "state", "x", 1, 0644);
        ASSERT_TRUE(r == -EISDIR || r == -ENOTEMPTY);
        ASSERT_EQ(count_entries(dfd), 1);
        ASSERT_TRUE(exists_at(dfd, "state/inner"));
        ASSERT_ERR(kl_write_file_atomic_at(dfd, "nodir/state", "x", 1, 0644), ENOENT);
        ASSERT_ERR(kl_write_file_atomic_at(dfd, "", "x", 1, 0644), EINVAL);
        char longname[300];
        memset(longname, 'n', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = '\0';
        ASSERT_ERR(kl_write_file_atomic_at(dfd, longname, "x", 1, 0644), ENAMETOOLONG);
        ASSERT_EQ(count_entries(dfd), 1);
}

TEST(atomic_write_with_directory_part_and_cwd) {
        _cleanup_close_ int dfd = fresh_dir();
        char *buf = NULL, path[PATH_MAX];

        ASSERT_OK(mkdirat(dfd, "sub", 0755));
        ASSERT_OK(kl_write_file_atomic_at(dfd, "sub/f", "in-sub", 6, 0644));
        ASSERT_OK(kl_read_file_at(dfd, "sub/f", 100, 1, &buf, NULL));
        ASSERT_STREQ(buf, "in-sub");
        free(buf);
        int sfd = openat(dfd, "sub", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_EQ(count_entries(sfd), 1);
        close(sfd);
        /* AT_FDCWD with an absolute path: the temp file goes next to the target, not under cwd. */
        snprintf(path, sizeof(path), "%s/abs", tmpdir);
        ASSERT_OK(kl_write_file_atomic_at(AT_FDCWD, path, "abs", 3, 0644));
        ASSERT_OK(kl_read_file_at(dfd, "abs", 100, 1, &buf, NULL));
        ASSERT_STREQ(buf, "abs");
        free(buf);
        ASSERT_EQ(count_entries(dfd), 2);
}

TEST(mkdir_p_nested_existing_and_in_the_way) {
        _cleanup_close_ int dfd = fresh_dir();
        char path[PATH_MAX];
        struct stat st;

        snprintf(path, sizeof(path), "%s/a/b//c/d/", tmpdir);
        ASSERT_OK(kl_mkdir_p(path, 0750));
        ASSERT_OK(fstatat(dfd, "a/b/c/d", &st, 0));
        ASSERT_TRUE(S_ISDIR(st.st_mode));
        ASSERT_EQ(st.st_mode & 0777, 0750 & ~022);
        ASSERT_OK(kl_mkdir_p(path, 0750)); /* again: fine */
        put(dfd, "a/file", "x");
        snprintf(path, sizeof(path), "%s/a/file", tmpdir);
        ASSERT_ERR(kl_mkdir_p(path, 0755), ENOTDIR);
        snprintf(path, sizeof(path), "%s/a/file/sub", tmpdir);
        ASSERT_ERR(kl_mkdir_p(path, 0755), ENOTDIR);
        ASSERT_ERR(kl_mkdir_p("", 0755), EINVAL);
        ASSERT_OK(kl_mkdir_p("/", 0755));
}

TEST(rm_rf_tree) {
        _cleanup_close_ int dfd = fresh_dir();

        ASSERT_OK(mkdirat(dfd, "t", 0755));
        ASSERT_OK(mkdirat(dfd, "t/a", 0755));
        ASSERT_OK(mkdirat(dfd, "t/a/b", 0700));
        put(dfd, "t/f", "1");
        put(dfd, "t/a/b/g", "2");
        put(dfd, "t/.hidden", "3");
        ASSERT_OK(mkfifoat(dfd, "t/a/fifo", 0644));
        ASSERT_OK(kl_rm_rf_at(dfd, "t"));
        ASSERT_FALSE(exists_at(dfd, "t"));
        ASSERT_OK(kl_rm_rf_at(dfd, "t")); /* missing is fine */
        put(dfd, "plain", "x");
        ASSERT_OK(kl_rm_rf_at(dfd, "plain"));
        ASSERT_FALSE(exists_at(dfd, "plain"));
}

TEST(rm_rf_does_not_follow_symlinks) {
        _cleanup_close_ int dfd = fresh_dir();

        ASSERT_OK(mkdirat(dfd, "outside", 0755));
        put(dfd, "outside/keep", "precious");
        ASSERT_OK(mkdirat(dfd, "t", 0755));
        ASSERT_OK(symlinkat("../outside", dfd, "t/dirlink"));
        ASSERT_OK(symlinkat("../outside/keep", dfd, "t/filelink"));
        ASSERT_OK(kl_rm_rf_at(dfd, "t"));
        ASSERT_FALSE(exists_at(dfd, "t"));
        ASSERT_TRUE(exists_at(dfd, "outside/keep"));
        /* The top-level name being a symlink to a directory: the link goes, the directory stays. */
        ASSERT_OK(symlinkat("outside", dfd, "toplink"));
        ASSERT_OK(kl_rm_rf_at(dfd, "toplink"));
        ASSERT_FALSE(exists_at(dfd, "toplink"));
        ASSERT_TRUE(exists_at(dfd, "outside/keep"));
        printf("  symlinks inside and at the top are removed as links; their targets survive\n");
}

TEST(rm_rf_stays_on_its_file_system) {
        _cleanup_close_ int dfd = fresh_dir();
        int status;

        ASSERT_OK(mkdirat(dfd, "t", 0755));
        ASSERT_OK(mkdirat(dfd, "t/mnt", 0755));
        put(dfd, "t/f", "x");
        pid_t pid = fork();
        ASSERT_OK(pid);
        if (pid == 0) {
                /* A private mount namespace: nothing leaks if the test dies. */
                if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                        _exit(77);
                char mnt[PATH_MAX];
                snprintf(mnt, sizeof(mnt), "%s/t/mnt", tmpdir);
                if (mount("tmpfs", mnt, "tmpfs", 0, "size=1m") < 0)
                        _exit(77);
                /* fds opened before unshare() still resolve in the old namespace. */
                int nfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (nfd < 0)
                        _exit(3);
                put(nfd, "t/mnt/hostfile", "must survive");
                int r = kl_rm_rf_at(nfd, "t");
                if (r != -EXDEV) {
                        fprintf(stderr, "  kl_rm_rf_at: %d\n", r);
                        _exit(1);
                }
                if (!exists_at(nfd, "t/mnt/hostfile") || exists_at(nfd, "t/f"))
                        _exit(2);
                _exit(0);
        }
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77)
                SKIP("cannot mount tmpfs in a private mount namespace here");
        ASSERT_EQ(WEXITSTATUS(status), 0);
        printf("  a tmpfs mounted inside the tree is not entered: -EXDEV, its file survives, the rest goes\n");
}

TEST(write_all_to_pipe) {
        int p[2];
        char buf[8] = {};
        ASSERT_OK(pipe2(p, O_CLOEXEC));
        ASSERT_OK(kl_write_all(p[1], "abc", 3));
        ASSERT_EQ(read(p[0], buf, sizeof(buf)), 3);
        ASSERT_STREQ(buf, "abc");
        close(p[0]);
        signal(SIGPIPE, SIG_IGN);
        ASSERT_ERR(kl_write_all(p[1], "x", 1), EPIPE);
        close(p[1]);
}

/* Last: removes the scratch directory. */
TEST(zz_cleanup) {
        ASSERT_OK(kl_rm_rf_at(AT_FDCWD, tmpdir));
        tmpdir[0] = '\0';
}

TEST_MAIN()
