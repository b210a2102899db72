/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kubelet-lite/server/procstat.h"
#include "tests/lib/tests.h"

#define S(x) x, strlen(x)

static const char stat_line[] = "22316 (cat) R 22312 22312 14388 0 -1 4194304 101 0 0 0 250 75 0 0 20 0 3 0 138805 "
                                "3133440 383 18446744073709551615 94732918898688 94732918918569 140725999879984 0 0 0 "
                                "0 0 0 0 0 0 17 1 0 0 0 0 0\n";

TEST(stat_fields) {
        struct kl_procstat st = {};

        ASSERT_OK(kl_procstat_parse_stat(S(stat_line), 100, &st));
        ASSERT_EQ(st.state, 'R');
        ASSERT_EQ(st.utime_ticks, 250);
        ASSERT_EQ(st.stime_ticks, 75);
        ASSERT_EQ(st.num_threads, 3);
        ASSERT_EQ(st.start_ticks, 138805);
        ASSERT_EQ(st.vsize_bytes, 3133440);
        ASSERT_EQ(st.rss_pages, 383);
        ASSERT_TRUE(st.cpu_seconds > 3.2499 && st.cpu_seconds < 3.2501);
}

TEST(stat_comm_with_spaces_and_parens) {
        struct kl_procstat st = {};
        const char *s = "7 (a) b) (c d) S 1 7 7 0 -1 0 0 0 0 0 10 20 0 0 20 0 1 0 99 4096 2\n";

        ASSERT_OK(kl_procstat_parse_stat(S(s), 100, &st));
        ASSERT_EQ(st.state, 'S');
        ASSERT_EQ(st.utime_ticks, 10);
        ASSERT_EQ(st.stime_ticks, 20);
        ASSERT_EQ(st.start_ticks, 99);
        ASSERT_EQ(st.rss_pages, 2);
}

TEST(stat_malformed) {
        struct kl_procstat st = {.state = 'x'};

        ASSERT_ERR(kl_procstat_parse_stat(S(""), 100, &st), EINVAL);
        ASSERT_ERR(kl_procstat_parse_stat(S("1 cat R 1 2 3"), 100, &st), EINVAL);
        /* truncated before rss */
        ASSERT_ERR(kl_procstat_parse_stat(S("1 (c) R 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 5 6"), 100, &st), EINVAL);
        /* utime not a number */
        ASSERT_ERR(kl_procstat_parse_stat(S("1 (c) R 1 1 1 0 -1 0 0 0 0 0 x 2 0 0 20 0 1 0 5 6 7"), 100, &st), EINVAL);
        ASSERT_ERR(kl_procstat_parse_stat(S("1 (c) R 1 1 1 0 -1 0 0 0 0 0 -1 2 0 0 20 0 1 0 5 6 7"), 100, &st), EINVAL);
        ASSERT_ERR(kl_procstat_parse_stat(S("1 (c) R 1 1 1 0 -1 0 0 0 0 0 99999999999999999999 2 0 0 20 0 1 0 5 6 7"),
                                          100, &st),
                   ERANGE);
        /* outputs untouched on failure */
        ASSERT_EQ(st.state, 'x');
        /* not NUL-terminated: the length is honoured */
        ASSERT_OK(kl_procstat_parse_stat(stat_line, strlen(stat_line) - 1, 100, &st));
        ASSERT_ERR(kl_procstat_parse_stat(stat_line, 30, 100, &st), EINVAL);
}

TEST(statm) {
        struct kl_procstat st = {};

        ASSERT_OK(kl_procstat_parse_statm(S("765 406 377 5 0 123 0\n"), 4096, &st));
        ASSERT_EQ(st.statm_size_bytes, 765 * 4096);
        ASSERT_EQ(st.statm_resident_bytes, 406 * 4096);
        ASSERT_EQ(st.statm_shared_bytes, 377 * 4096);
        ASSERT_ERR(kl_procstat_parse_statm(S("765 406"), 4096, &st), EINVAL);
        ASSERT_ERR(kl_procstat_parse_statm(S("765 4x6 1"), 4096, &st), EINVAL);
        ASSERT_ERR(kl_procstat_parse_statm(S("1 18446744073709551615 1"), 4096, &st), ERANGE);
        ASSERT_ERR(kl_procstat_parse_statm(S("1 2 3"), 0, &st), EINVAL);
}

TEST(smaps_rollup) {
        struct kl_procstat st = {};
        const char *s = "564e0fa60000-7ffc3cfa2000 ---p 00000000 00:00 0                          [rollup]\n"
                        "Rss:                1784 kB\n"
                        "Pss:                 212 kB\n"
                        "Pss_Anon:             84 kB\n"
                        "Shared_Clean:       1700 kB\n"
                        "Private_Clean:         4 kB\n"
                        "Private_Dirty:        80 kB\n"
                        "Anonymous:            84 kB\n"
                        "Swap:                  8 kB\n"
                        "Locked:                0 kB"; /* no final newline */

        ASSERT_OK(kl_procstat_parse_smaps(S(s), &st));
        ASSERT_EQ(st.rss_bytes, 1784 * 1024);
        ASSERT_EQ(st.pss_bytes, 212 * 1024);
        ASSERT_EQ(st.private_bytes, 84 * 1024);
        ASSERT_EQ(st.anonymous_bytes, 84 * 1024);
        ASSERT_EQ(st.swap_bytes, 8 * 1024);
}

TEST(smaps_full_file_is_summed_and_junk_skipped) {
        struct kl_procstat st = {};
        const char *s = "00400000-00452000 r-xp 00000000 08:02 173521 /usr/bin/x\n"
                        "Rss: 8 kB\nPss: 8 kB\nPrivate_Dirty: 4 kB\nRssBogus: 99 kB\nPss: x kB\nAnonymous: 4 MB\n"
                        "7f00-7f10 rw-p 00000000 00:00 0\n"
                        "Rss: 12 kB\nPss: 6 kB\nAnonymous: 12 kB\nVmFlags: rd wr mr mw me ac\n";

        ASSERT_OK(kl_procstat_parse_smaps(S(s), &st));
        ASSERT_EQ(st.rss_bytes, 20 * 1024);
        ASSERT_EQ(st.pss_bytes, 14 * 1024);
        ASSERT_EQ(st.private_bytes, 4 * 1024);
        ASSERT_EQ(st.anonymous_bytes, 12 * 1024);
        ASSERT_ERR(kl_procstat_parse_smaps(S("Pss: 4 kB\n"), &st), EINVAL);
        ASSERT_ERR(kl_procstat_parse_smaps(S(""), &st), EINVAL);
}

TEST(btime) {
        uint64_t b = 0;

        ASSERT_OK(kl_procstat_parse_btime(S("cpu  1 2 3\ncpu0 1 2 3\nintr 5\nbtime 1795777332\nprocesses 9\n"), &b));
        ASSERT_EQ(b, 1795777332);
        ASSERT_OK(kl_procstat_parse_btime(S("btime 7"), &b));
        ASSERT_EQ(b, 7);
        ASSERT_ERR(kl_procstat_parse_btime(S("cpu 1\nbtimex 5\n"), &b), ENOENT);
        ASSERT_ERR(kl_procstat_parse_btime(S("btime x\n"), &b), EINVAL);
}

TEST(read_self) {
        struct kl_procstat st;
        volatile uint64_t spin = 0;
        struct timespec t0, t1;

        /* burn a little CPU so utime + stime is measurable */
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
        do {
                for (int i = 0; i < 100000; i++)
                        spin += (uint64_t) i;
                clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
        } while ((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec) < 30000000L);

        ASSERT_OK(kl_procstat_read(0, KL_PROCSTAT_ALL, &st));
        ASSERT_TRUE(st.have & KL_PROCSTAT_STAT);
        ASSERT_TRUE(st.have & KL_PROCSTAT_STATM);
        ASSERT_TRUE(st.have & KL_PROCSTAT_FDS);
        ASSERT_TRUE(st.statm_resident_bytes > 0);
        /* qemu-user fakes /proc/self/stat: CPU times, thread count and start
         * time read 0 for the emulated process (the parsers are tested on
         * fixed input above). */
        if (!getenv("KL_QEMU_USER")) {
                ASSERT_TRUE(st.cpu_seconds > 0);
                ASSERT_GE(st.num_threads, 1);
                ASSERT_TRUE(st.start_time_seconds > (double) time(NULL) - 3600 &&
                            st.start_time_seconds <= (double) time(NULL) + 1);
        }
        if (st.have & KL_PROCSTAT_SMAPS) {
                ASSERT_TRUE(st.rss_bytes > 0);
                ASSERT_TRUE(st.pss_bytes <= st.rss_bytes);
                ASSERT_TRUE(st.private_bytes <= st.rss_bytes);
        }
        printf("  self: cpu %.3fs rss %llu kB pss %llu kB private %llu kB anon %llu kB fds %llu\n", st.cpu_seconds,
               (unsigned long long) st.statm_resident_bytes / 1024, (unsigned long long) st.pss_bytes / 1024,
               (unsigned long long) st.private_bytes / 1024, (unsigned long long) st.anonymous_bytes / 1024,
               (unsigned long long) st.open_fds);
}

TEST(fd_count_follows_open) {
        uint64_t a, b;
        int fd;

        ASSERT_OK(kl_procstat_count_fds(0, &a));
        fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(kl_procstat_count_fds(0, &b));
        close(fd);
        ASSERT_EQ(b, a + 1);
        /* stdin, stdout, stderr at least */
        ASSERT_GE(a, 3);
}

TEST(read_other_pid_and_missing) {
        struct kl_procstat st;

        ASSERT_OK(kl_procstat_read(getpid(), KL_PROCSTAT_STAT | KL_PROCSTAT_STATM, &st));
        ASSERT_EQ(st.have, KL_PROCSTAT_STAT | KL_PROCSTAT_STATM);
        /* pid_max is at most 2^22: this pid cannot exist */
        ASSERT_ERR(kl_procstat_read(1 << 30, KL_PROCSTAT_ALL, &st), ENOENT);
        ASSERT_ERR(kl_procstat_read(-1, KL_PROCSTAT_ALL, &st), EINVAL);
}

TEST_MAIN()
