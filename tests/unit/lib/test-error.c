/* SPDX-License-Identifier: Apache-2.0 */
#include "lib/error.h"

#include <errno.h>
#include <string.h>

#include "tests/lib/tests.h"

TEST(set_returns_negative_errno) {
        struct kl_error e = {};
        ASSERT_EQ(kl_error_set(&e, -ENOENT, "file '%s' missing", "x"), -ENOENT);
        ASSERT_EQ(e.err, ENOENT);
        ASSERT_STREQ(e.msg, "file 'x' missing");
        ASSERT_EQ(kl_error_set(&e, EACCES, "pos"), -EACCES);
        ASSERT_EQ(e.err, EACCES);
        ASSERT_EQ(kl_error_set(&e, 0, "zero means EIO"), -EIO);
        ASSERT_EQ(e.err, EIO);
        ASSERT_EQ(kl_error_set(NULL, -EPERM, "nobody listens"), -EPERM);
}

TEST(prefix_chaining) {
        struct kl_error e = {};
        kl_error_set(&e, -ENOENT, "rpc error NOT_FOUND: image \"x\" not found");
        ASSERT_EQ(kl_error_prefix(&e, "CreateContainer"), -ENOENT);
        ASSERT_EQ(kl_error_prefix(&e, "container '%s'", "nginx"), -ENOENT);
        ASSERT_EQ(kl_error_prefix(&e, "pod '%s'", "web"), -ENOENT);
        ASSERT_STREQ(kl_error_str(&e),
                     "pod 'web': container 'nginx': CreateContainer: rpc error NOT_FOUND: image \"x\" not found");
        printf("  %s\n", kl_error_str(&e));
}

TEST(prefix_without_message_uses_strerror) {
        struct kl_error e = {.err = EACCES};
        ASSERT_EQ(kl_error_prefix(&e, "open '%s'", "/x"), -EACCES);
        ASSERT_STREQ(e.msg, "open '/x': Permission denied");
        struct kl_error unset = {};
        ASSERT_EQ(kl_error_prefix(&unset, "ctx"), -EIO);
        ASSERT_EQ(unset.err, EIO);
        ASSERT_EQ(kl_error_prefix(NULL, "ctx"), -EIO);
}

TEST(str_fallbacks) {
        struct kl_error e = {};
        ASSERT_STREQ(kl_error_str(NULL), "unknown error");
        ASSERT_STREQ(kl_error_str(&e), strerror(EIO));
        e.err = ENOSPC;
        ASSERT_STREQ(kl_error_str(&e), strerror(ENOSPC));
        kl_error_set(&e, ENOSPC, "disk full");
        kl_error_clear(&e);
        ASSERT_EQ(e.err, 0);
        ASSERT_STREQ(e.msg, "");
        kl_error_clear(NULL);
}

TEST(truncation_is_marked_and_bounded) {
        struct kl_error e = {};
        char big[2 * KL_ERROR_MSG_MAX];
        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';

        kl_error_set(&e, EINVAL, "%s", big);
        ASSERT_EQ(strlen(e.msg), KL_ERROR_MSG_MAX - 1);
        ASSERT_STREQ(e.msg + KL_ERROR_MSG_MAX - 4, "...");

        kl_error_set(&e, EINVAL, "root cause");
        for (int i = 0; i < 100; i++)
                kl_error_prefix(&e, "layer %d", i);
        ASSERT_EQ(strlen(e.msg), KL_ERROR_MSG_MAX - 1);
        ASSERT_TRUE(strncmp(e.msg, "layer 99: layer 98: ", 20) == 0);
        ASSERT_STREQ(e.msg + KL_ERROR_MSG_MAX - 4, "...");
        ASSERT_EQ(e.err, EINVAL);

        /* Exactly full: not marked. */
        char fit[KL_ERROR_MSG_MAX];
        memset(fit, 'b', sizeof(fit) - 1);
        fit[sizeof(fit) - 1] = '\0';
        kl_error_set(&e, EINVAL, "%s", fit);
        ASSERT_STREQ(e.msg, fit);
        printf("  100 prefixes: the outermost context is kept, the cut is marked with \"...\"\n");
}

TEST(set_may_reuse_its_own_message) {
        struct kl_error e = {};
        kl_error_set(&e, EIO, "inner");
        kl_error_set(&e, EIO, "outer: %s (again: %s)", e.msg, e.msg);
        ASSERT_STREQ(e.msg, "outer: inner (again: inner)");
}

TEST_MAIN()
