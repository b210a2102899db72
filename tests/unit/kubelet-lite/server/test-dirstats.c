/* SPDX-License-Identifier: Apache-2.0 */
#include "kubelet-lite/server/dirstats.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kubelet-lite/event.h"
#include "lib/fileio.h"
#include "tests/lib/tests.h"

#define SEC KL_USEC_PER_SEC

static void write_bytes(const char *dir, const char *name, size_t n) {
        char path[512], buf[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        ASSERT_TRUE(fd >= 0);
        memset(buf, 'x', sizeof(buf));
        for (size_t k = 0; k < n; k += sizeof(buf))
                ASSERT_TRUE(write(fd, buf, sizeof(buf)) == (ssize_t) sizeof(buf));
        close(fd);
}

TEST(measured_on_steps_never_on_get) {
        char dir[] = "/tmp/kl-test-dirstats.XXXXXX";
        struct kl_dirstats *d = NULL;
        int64_t b = -1;

        ASSERT_NOT_NULL(mkdtemp(dir));
        write_bytes(dir, "a", 64 * 1024);
        ASSERT_OK(kl_dirstats_new(&d));
        ASSERT_FALSE(kl_dirstats_get(d, dir, &b)); /* asking does not walk */
        ASSERT_EQ(b, -1);
        uint64_t now = kl_now_usec();
        ASSERT_EQ(kl_dirstats_step(d, now, 50 * 1000, 600 * SEC), 1);
        ASSERT_TRUE(kl_dirstats_get(d, dir, &b));
        ASSERT_GE(b, 64 * 1024);
        printf("  %lld bytes after one step\n", (long long) b);

        /* a change shows at the next step, not before */
        write_bytes(dir, "b", 64 * 1024);
        int64_t b2 = -1;
        ASSERT_TRUE(kl_dirstats_get(d, dir, &b2));
        ASSERT_EQ(b2, b);
        ASSERT_EQ(kl_dirstats_step(d, now + SEC, 50 * 1000, 600 * SEC), 1);
        ASSERT_TRUE(kl_dirstats_get(d, dir, &b2));
        ASSERT_GE(b2, 128 * 1024);

        /* nobody asked for it for longer than forget: dropped */
        ASSERT_EQ(kl_dirstats_step(d, kl_now_usec() + 700 * SEC, 50 * 1000, 600 * SEC), 0);
        ASSERT_FALSE(kl_dirstats_get(d, dir, &b));
        ASSERT_NULL(kl_dirstats_free(d));
        ASSERT_OK(kl_rm_rf_at(AT_FDCWD, dir));
}

TEST(a_missing_directory_counts_zero) {
        struct kl_dirstats *d = NULL;
        int64_t b = -1;
        ASSERT_OK(kl_dirstats_new(&d));
        ASSERT_FALSE(kl_dirstats_get(d, "/nonexistent/kl-dirstats", &b));
        kl_dirstats_step(d, kl_now_usec(), 10 * 1000, 600 * SEC);
        ASSERT_TRUE(kl_dirstats_get(d, "/nonexistent/kl-dirstats", &b));
        ASSERT_EQ(b, 0);
        kl_dirstats_free(d);
}

TEST_MAIN()
