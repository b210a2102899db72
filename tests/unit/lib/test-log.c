/* SPDX-License-Identifier: Apache-2.0 */
#include "lib/log.h"

#include <fcntl.h>
#include <string.h>

#include "tests/lib/tests.h"

static int saved_stderr = -1, pipe_rd = -1;

static void capture_begin(void) {
        int p[2];
        ASSERT_OK(pipe2(p, O_CLOEXEC | O_NONBLOCK));
        saved_stderr = dup(STDERR_FILENO);
        dup2(p[1], STDERR_FILENO);
        close(p[1]);
        pipe_rd = p[0];
}

static char *capture_end(void) {
        static char buf[8192];
        dup2(saved_stderr, STDERR_FILENO);
        close(saved_stderr);
        ssize_t n = read(pipe_rd, buf, sizeof(buf) - 1);
        close(pipe_rd);
        buf[n > 0 ? n : 0] = '\0';
        return buf;
}

TEST(line_format_and_return_value) {
        kl_log_set_max_level(KL_LOG_INFO);
        capture_begin();
        int r = log_warning_errno(-ENOENT, "pod '%s': gone, ignoring", "web");
        int r2 = log_info("plain");
        char *out = capture_end();
        ASSERT_EQ(r, -ENOENT);
        ASSERT_EQ(r2, 0);
        ASSERT_CONTAINS(out, "Z level=warning pod 'web': gone, ignoring error=\"No such file or directory\"\n");
        ASSERT_CONTAINS(out, "Z level=info plain\n");
        ASSERT_EQ(out[4], '-');
        ASSERT_EQ(out[10], 'T');
        printf("  %.*s\n", (int) (strchr(out, '\n') - out), out);
}

TEST(below_max_level_is_silent_but_returns_error) {
        kl_log_set_max_level(KL_LOG_INFO);
        capture_begin();
        int r = log_debug_errno(EPERM, "hidden");
        char *out = capture_end();
        ASSERT_EQ(r, -EPERM);
        ASSERT_STREQ(out, "");
        kl_log_set_verbosity(4);
        ASSERT_EQ(kl_log_get_max_level(), KL_LOG_DEBUG);
        capture_begin();
        log_debug("shown");
        out = capture_end();
        ASSERT_CONTAINS(out, "level=debug src=tests/unit/lib/test-log.c:");
        ASSERT_CONTAINS(out, " shown\n");
        kl_log_set_verbosity(0);
        ASSERT_EQ(kl_log_get_max_level(), KL_LOG_INFO);
        kl_log_set_verbosity(2); /* klog's 2 is steady-state detail, not debug */
        ASSERT_EQ(kl_log_get_max_level(), KL_LOG_INFO);
        kl_log_set_verbosity(3);
        ASSERT_EQ(kl_log_get_max_level(), KL_LOG_INFO);
}

TEST(errno_is_preserved) {
        kl_log_set_max_level(KL_LOG_INFO);
        capture_begin();
        errno = EXDEV;
        log_error("x");
        int e = errno;
        capture_end();
        ASSERT_EQ(e, EXDEV);
}

TEST(one_line_per_event) {
        kl_log_set_max_level(KL_LOG_INFO);
        capture_begin();
        log_info("name 'a\nlevel=error forged' and \x1b[31mred\r");
        char *out = capture_end();
        ASSERT_TRUE(strchr(out, '\n') == out + strlen(out) - 1);
        ASSERT_CONTAINS(out, "name 'a\\nlevel=error forged' and \\x1b[31mred\\x0d\n");
        printf("  %s", out);
}

TEST(long_message_is_cut_not_overflowed) {
        char big[5000];
        memset(big, 'm', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        capture_begin();
        log_error_errno(-EIO, "%s", big);
        char *out = capture_end();
        ASSERT_TRUE(strlen(out) < 4096);
        ASSERT_EQ(out[strlen(out) - 1], '\n');
        ASSERT_CONTAINS(out, "error=\"Input/output error\"\n");
}

TEST_MAIN()
