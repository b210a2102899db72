/* SPDX-License-Identifier: Apache-2.0 */
#include "kubelet-lite/eviction/eviction.h"
#include "kubelet-lite/eviction/signals.h"
#include "kubelet-lite/eviction/watch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fileio.h"
#include "lib/macros.h"
#include "tests/lib/tests.h"

#define SEC UINT64_C(1000000)
#define Ki INT64_C(1024)
#define Mi (INT64_C(1) << 20)
#define Gi (INT64_C(1) << 30)
#define S(x) x, strlen(x)

/* ---- helpers ------------------------------------------------------------ */

static char tmproot[PATH_MAX];

static char *kept[64];
static size_t n_kept;

static void cleanup_tmp(void) {
        if (tmproot[0])
                kl_rm_rf_at(AT_FDCWD, tmproot);
        for (size_t i = 0; i < n_kept; i++)
                free(kept[i]);
}

/* A copy that lives until exit. */
static const char *keep(const char *s) {
        ASSERT_TRUE(n_kept < ELEMENTSOF(kept));
        kept[n_kept] = strdup(s);
        ASSERT_NOT_NULL(kept[n_kept]);
        return kept[n_kept++];
}

/* A fresh directory below one temp dir that is removed at exit. */
static const char *tmpdir(const char *name) {
        static char buf[8][PATH_MAX];
        static int next;
        char *p = buf[next++ % 8];
        if (!tmproot[0]) {
                snprintf(tmproot, sizeof(tmproot), "%s/kl-test-eviction-XXXXXX", getenv("TMPDIR") ?: "/tmp");
                ASSERT_NOT_NULL(mkdtemp(tmproot));
                atexit(cleanup_tmp);
        }
        ASSERT_TRUE(snprintf(p, PATH_MAX, "%s/%s", tmproot, name) < PATH_MAX);
        ASSERT_OK(kl_mkdir_p(p, 0755));
        return p;
}

static const char *path_in(const char *dir, const char *file) {
        static char buf[8][PATH_MAX];
        static int next;
        char *p = buf[next++ % 8];
        snprintf(p, PATH_MAX, "%s/%s", dir, file);
        return p;
}

static void put(const char *dir, const char *file, const char *content) {
        const char *p = path_in(dir, file);
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        ASSERT_OK(fd);
        ASSERT_OK(kl_write_all(fd, content, strlen(content)));
        close(fd);
}

static struct kl_eviction_config config_none(void) {
        struct kl_eviction_config c;
        kl_eviction_config_init(&c);
        for (int s = 0; s < _KL_EVICTION_SIGNAL_MAX; s++)
                c.hard[s] = c.soft[s] = (struct kl_eviction_threshold){.quantity = -1};
        return c;
}

static struct kl_eviction_threshold qty(int64_t v) {
        return (struct kl_eviction_threshold){.set = true, .quantity = v};
}

static struct kl_eviction_threshold pct(float p) {
        return (struct kl_eviction_threshold){.set = true, .quantity = -1, .percent = p};
}

/* An observation with every signal comfortable. */
static struct kl_eviction_observation obs_ok(void) {
        struct kl_eviction_observation o = {};
        o.signal[KL_EVICTION_MEMORY_AVAILABLE] = (struct kl_eviction_value){true, 3 * Gi, 4 * Gi};
        o.signal[KL_EVICTION_NODEFS_AVAILABLE] = (struct kl_eviction_value){true, 50 * Gi, 100 * Gi};
        o.signal[KL_EVICTION_NODEFS_INODES_FREE] = (struct kl_eviction_value){true, 900000, 1000000};
        o.signal[KL_EVICTION_PID_AVAILABLE] = (struct kl_eviction_value){true, 30000, 32768};
        return o;
}

static void set_avail(struct kl_eviction_observation *o, enum kl_eviction_signal s, int64_t v) {
        o->signal[s].available = v;
}

/* ---- names and configuration -------------------------------------------- */

TEST(names_and_groups) {
        ASSERT_STREQ(kl_eviction_signal_to_string(KL_EVICTION_MEMORY_AVAILABLE), "memory.available");
        ASSERT_STREQ(kl_eviction_signal_to_string(KL_EVICTION_NODEFS_AVAILABLE), "nodefs.available");
        ASSERT_STREQ(kl_eviction_signal_to_string(KL_EVICTION_NODEFS_INODES_FREE), "nodefs.inodesFree");
        ASSERT_STREQ(kl_eviction_signal_to_string(KL_EVICTION_PID_AVAILABLE), "pid.available");
        ASSERT_NULL(kl_eviction_signal_to_string(_KL_EVICTION_SIGNAL_MAX));
        ASSERT_STREQ(kl_eviction_condition_to_string(KL_EVICTION_MEMORY_PRESSURE), "MemoryPressure");
        ASSERT_STREQ(kl_eviction_condition_to_string(KL_EVICTION_DISK_PRESSURE), "DiskPressure");
        ASSERT_STREQ(kl_eviction_condition_to_string(KL_EVICTION_PID_PRESSURE), "PIDPressure");
        ASSERT_STREQ(kl_eviction_resource_to_string(KL_EVICTION_RESOURCE_EPHEMERAL_STORAGE), "ephemeral-storage");
        ASSERT_STREQ(kl_eviction_resource_to_string(KL_EVICTION_RESOURCE_PIDS), "pids");
        ASSERT_EQ(kl_eviction_signal_condition(KL_EVICTION_MEMORY_AVAILABLE), KL_EVICTION_MEMORY_PRESSURE);
        ASSERT_EQ(kl_eviction_signal_condition(KL_EVICTION_NODEFS_AVAILABLE), KL_EVICTION_DISK_PRESSURE);
        ASSERT_EQ(kl_eviction_signal_condition(KL_EVICTION_NODEFS_INODES_FREE), KL_EVICTION_DISK_PRESSURE);
        ASSERT_EQ(kl_eviction_signal_condition(KL_EVICTION_PID_AVAILABLE), KL_EVICTION_PID_PRESSURE);
        ASSERT_EQ(kl_eviction_signal_resource(KL_EVICTION_NODEFS_INODES_FREE), KL_EVICTION_RESOURCE_INODES);
        ASSERT_EQ(kl_eviction_signal_resource(KL_EVICTION_NODEFS_AVAILABLE), KL_EVICTION_RESOURCE_EPHEMERAL_STORAGE);
}

TEST(config_defaults_match_upstream) {
        struct kl_eviction_config c, k;
        struct kl_config kc;

        kl_eviction_config_init(&c);
        ASSERT_TRUE(c.hard[KL_EVICTION_MEMORY_AVAILABLE].set);
        ASSERT_EQ(c.hard[KL_EVICTION_MEMORY_AVAILABLE].quantity, 100 * Mi);
        ASSERT_EQ(c.hard[KL_EVICTION_NODEFS_AVAILABLE].quantity, -1);
        ASSERT_TRUE(c.hard[KL_EVICTION_NODEFS_AVAILABLE].percent == 10.0f);
        ASSERT_TRUE(c.hard[KL_EVICTION_NODEFS_INODES_FREE].percent == 5.0f);
        ASSERT_FALSE(c.hard[KL_EVICTION_PID_AVAILABLE].set);
        for (int s = 0; s < _KL_EVICTION_SIGNAL_MAX; s++)
                ASSERT_FALSE(c.soft[s].set);
        ASSERT_EQ(c.pressure_transition_usec, 300 * SEC);
        ASSERT_EQ(c.max_pod_grace_period_sec, 0);

        /* the daemon's config defaults give the same */
        kl_config_init(&kc);
        kl_eviction_config_from_kubelet(&kc, &k);
        ASSERT_EQ(memcmp(&c, &k, sizeof(c)), 0);
        kl_config_done(&kc);
}

TEST(config_from_kubelet_configuration) {
        static const char yaml[] = "apiVersion: kubelet.config.k8s.io/v1beta1\n"
                                   "kind: KubeletConfiguration\n"
                                   "evictionHard:\n"
                                   "  memory.available: 200Mi\n"
                                   "  nodefs.available: 7.5%\n"
                                   "  nodefs.inodesFree: 0%\n"
                                   "  pid.available: 100%\n"
                                   "evictionSoft:\n"
                                   "  memory.available: 500Mi\n"
                                   "  pid.available: 1k\n"
                                   "evictionSoftGracePeriod:\n"
                                   "  memory.available: 1m30s\n"
                                   "  pid.available: 10s\n"
                                   "evictionPressureTransitionPeriod: 30s\n";
        struct kl_eviction_config c;
        struct kl_config kc;
        struct kl_error err = {};
        char **warn = NULL;

        kl_config_init(&kc);
        ASSERT_OK(kl_config_load_buffer(&kc, "test.yaml", yaml, strlen(yaml), &warn, &err));
        free(warn);
        kl_eviction_config_from_kubelet(&kc, &c);
        kl_config_done(&kc);

        ASSERT_EQ(c.hard[KL_EVICTION_MEMORY_AVAILABLE].quantity, 200 * Mi);
        ASSERT_TRUE(c.hard[KL_EVICTION_NODEFS_AVAILABLE].set);
        ASSERT_TRUE(c.hard[KL_EVICTION_NODEFS_AVAILABLE].percent == 7.5f);
        /* as upstream: 0% and 100% are ignored; setting evictionHard drops the other defaults */
        ASSERT_FALSE(c.hard[KL_EVICTION_NODEFS_INODES_FREE].set);
        ASSERT_FALSE(c.hard[KL_EVICTION_PID_AVAILABLE].set);
        ASSERT_EQ(c.soft[KL_EVICTION_MEMORY_AVAILABLE].quantity, 500 * Mi);
        ASSERT_EQ(c.soft[KL_EVICTION_PID_AVAILABLE].quantity, 1000);
        ASSERT_FALSE(c.soft[KL_EVICTION_NODEFS_AVAILABLE].set);
        ASSERT_EQ(c.soft_grace_usec[KL_EVICTION_MEMORY_AVAILABLE], 90 * SEC);
        ASSERT_EQ(c.soft_grace_usec[KL_EVICTION_PID_AVAILABLE], 10 * SEC);
        ASSERT_EQ(c.pressure_transition_usec, 30 * SEC);
        printf("  evictionHard nodefs.available 7.5%% of 8Gi = %" PRId64 "\n",
               kl_eviction_threshold_quantity(&c.hard[KL_EVICTION_NODEFS_AVAILABLE], 8 * Gi));
}

TEST(threshold_quantity_percentages_as_upstream) {
        struct kl_eviction_threshold t;

        t = qty(100 * Mi);
        ASSERT_EQ(kl_eviction_threshold_quantity(&t, 4 * Gi), 100 * Mi);
        ASSERT_EQ(kl_eviction_threshold_quantity(&t, 0), 100 * Mi);
        /* a float32 fraction times capacity, truncated: not 858993459 */
        t = pct(10);
        ASSERT_EQ(kl_eviction_threshold_quantity(&t, 8 * Gi), 858993472);
        t = pct(7.5f);
        ASSERT_EQ(kl_eviction_threshold_quantity(&t, 8 * Gi), 644245120);
        t = pct(5);
        ASSERT_EQ(kl_eviction_threshold_quantity(&t, 16777216), 838860);
        ASSERT_EQ(kl_eviction_threshold_quantity(&t, 0), 0);
        t = (struct kl_eviction_threshold){.quantity = -1};
        ASSERT_EQ(kl_eviction_threshold_quantity(&t, 8 * Gi), 0);
}

/* ---- evaluation --------------------------------------------------------- */

TEST(hard_threshold_acts_at_once) {
        struct kl_eviction_config cfg;
        struct kl_eviction_observation o = obs_ok();
        struct kl_eviction_decision d;
        struct kl_eviction *ev;

        kl_eviction_config_init(&cfg);
        ev = kl_eviction_new(&cfg);
        ASSERT_NOT_NULL(ev);

        ASSERT_EQ(kl_eviction_observe(ev, &o, 1 * SEC, &d), 0);
        ASSERT_FALSE(d.evict);
        for (int c = 0; c < _KL_EVICTION_CONDITION_MAX; c++)
                ASSERT_FALSE(d.condition[c] || d.condition_changed[c]);

        /* exactly at the threshold is not below it */
        set_avail(&o, KL_EVICTION_MEMORY_AVAILABLE, 100 * Mi);
        ASSERT_EQ(kl_eviction_observe(ev, &o, 2 * SEC, &d), 0);
        ASSERT_FALSE(d.met[KL_EVICTION_MEMORY_AVAILABLE]);

        set_avail(&o, KL_EVICTION_MEMORY_AVAILABLE, 50 * Mi);
        ASSERT_EQ(kl_eviction_observe(ev, &o, 3 * SEC, &d), 1);
        ASSERT_TRUE(d.evict && d.hard);
        ASSERT_EQ(d.signal, KL_EVICTION_MEMORY_AVAILABLE);
        ASSERT_EQ(d.resource, KL_EVICTION_RESOURCE_MEMORY);
        ASSERT_EQ(d.threshold_quantity, 100 * Mi);
        ASSERT_FALSE(d.threshold_percent);
        ASSERT_EQ(d.available, 50 * Mi);
        ASSERT_EQ(d.next_check_usec, 0);
        ASSERT_TRUE(d.condition[KL_EVICTION_MEMORY_PRESSURE] && d.condition_changed[KL_EVICTION_MEMORY_PRESSURE]);
        ASSERT_FALSE(d.condition[KL_EVICTION_DISK_PRESSURE] || d.condition[KL_EVICTION_PID_PRESSURE]);
        ASSERT_TRUE(kl_eviction_has_condition(ev, KL_EVICTION_MEMORY_PRESSURE));

        /* still met: evict again (one pod per check), condition unchanged */
        ASSERT_EQ(kl_eviction_observe(ev, &o, 13 * SEC, &d), 1);
        ASSERT_TRUE(d.condition[KL_EVICTION_MEMORY_PRESSURE] && !d.condition_changed[KL_EVICTION_MEMORY_PRESSURE]);

        /* percentage thresholds against each signal's own capacity */
        set_avail(&o, KL_EVICTION_MEMORY_AVAILABLE, 3 * Gi);
        /* 10% of 100Gi, with upstream's float32 fraction: 10737418400, not 10737418240 */
        set_avail(&o, KL_EVICTION_NODEFS_AVAILABLE, 10737418400);
        ASSERT_EQ(kl_eviction_observe(ev, &o, 14 * SEC, &d), 0);
        set_avail(&o, KL_EVICTION_NODEFS_AVAILABLE, 10737418399);
        ASSERT_EQ(kl_eviction_observe(ev, &o, 14 * SEC, &d), 1);
        ASSERT_EQ(d.signal, KL_EVICTION_NODEFS_AVAILABLE);
        ASSERT_EQ(d.resource, KL_EVICTION_RESOURCE_EPHEMERAL_STORAGE);
        ASSERT_TRUE(d.threshold_percent);
        ASSERT_EQ(d.threshold_quantity, 10737418400);
        ASSERT_TRUE(d.condition[KL_EVICTION_DISK_PRESSURE] && d.condition_changed[KL_EVICTION_DISK_PRESSURE]);
        /* memory is clear now, but its condition stays for the transition period */
        ASSERT_TRUE(d.condition[KL_EVICTION_MEMORY_PRESSURE] && !d.met[KL_EVICTION_MEMORY_AVAILABLE]);
        kl_eviction_free(ev);
}

/* A fake node-level reclaim (image GC): answers from a script. */
static int reclaim_answers[8], reclaim_calls, reclaim_signal;
static int fake_reclaim(int signal, void *userdata) {
        int *calls = userdata;
        reclaim_signal = signal;
        return reclaim_answers[(*calls)++ % 8];
}

/* upstream's reclaimNodeLevelResources: for disk pressure, reclaim first and
 * evict only if, observed again, the threshold is still met */
TEST(disk_pressure_reclaims_images_before_evicting) {
        struct kl_eviction_config cfg;
        struct kl_eviction_observation o = obs_ok();
        struct kl_eviction_decision d;
        struct kl_eviction *ev;

        kl_eviction_config_init(&cfg);
        cfg.reclaim = fake_reclaim;
        cfg.reclaim_userdata = &reclaim_calls;
        reclaim_calls = 0;
        /* started, still running, then done */
        memcpy(reclaim_answers, (int[8]){1, 1, 0, 1, 0, 0, 0, 0}, sizeof(reclaim_answers));
        ev = kl_eviction_new(&cfg);
        ASSERT_NOT_NULL(ev);

        set_avail(&o, KL_EVICTION_NODEFS_AVAILABLE, 1 * Gi); /* under 10% of 100Gi */
        ASSERT_EQ(kl_eviction_observe(ev, &o, 10 * SEC, &d), 0);
        ASSERT_FALSE(d.evict);
        ASSERT_TRUE(d.reclaiming);
        ASSERT_EQ(reclaim_signal, KL_EVICTION_NODEFS_AVAILABLE);
        ASSERT_EQ(d.next_check_usec, 11 * SEC); /* look again soon */
        /* the condition shows at once, as upstream's */
        ASSERT_TRUE(d.condition[KL_EVICTION_DISK_PRESSURE] && d.met[KL_EVICTION_NODEFS_AVAILABLE]);
        ASSERT_EQ(kl_eviction_observe(ev, &o, 11 * SEC, &d), 0);
        ASSERT_TRUE(d.reclaiming);
        ASSERT_EQ(reclaim_calls, 2);
        /* the reclaim is done and did not free enough: evict */
        ASSERT_EQ(kl_eviction_observe(ev, &o, 12 * SEC, &d), 1);
        ASSERT_TRUE(d.evict && !d.reclaiming);
        ASSERT_EQ(d.signal, KL_EVICTION_NODEFS_AVAILABLE);
        ASSERT_EQ(reclaim_calls, 3);
        /* next round reclaims again; this time it freed enough: nothing met, no call */
        ASSERT_EQ(kl_eviction_observe(ev, &o, 22 * SEC, &d), 0);
        ASSERT_TRUE(d.reclaiming);
        set_avail(&o, KL_EVICTION_NODEFS_AVAILABLE, 50 * Gi);
        ASSERT_EQ(kl_eviction_observe(ev, &o, 23 * SEC, &d), 0);
        ASSERT_FALSE(d.evict || d.reclaiming || d.met[KL_EVICTION_NODEFS_AVAILABLE]);
        ASSERT_EQ(reclaim_calls, 4);

        /* inodes too */
        set_avail(&o, KL_EVICTION_NODEFS_INODES_FREE, 10);
        ASSERT_EQ(kl_eviction_observe(ev, &o, 30 * SEC, &d), 1); /* the script answers 0 now */
        ASSERT_EQ(reclaim_signal, KL_EVICTION_NODEFS_INODES_FREE);
        ASSERT_EQ(reclaim_calls, 5);
        set_avail(&o, KL_EVICTION_NODEFS_INODES_FREE, 900000);

        /* memory pressure is never held back for images */
        set_avail(&o, KL_EVICTION_MEMORY_AVAILABLE, 1 * Mi);
        ASSERT_EQ(kl_eviction_observe(ev, &o, 40 * SEC, &d), 1);
        ASSERT_EQ(d.signal, KL_EVICTION_MEMORY_AVAILABLE);
        ASSERT_EQ(reclaim_calls, 5);
        kl_eviction_free(ev);

        /* the hook comes from the daemon through KubeletConfiguration's struct */
        struct kl_config kc;
        kl_config_init(&kc);
        kc.node_reclaim = fake_reclaim;
        kc.node_reclaim_userdata = &reclaim_calls;
        kl_eviction_config_from_kubelet(&kc, &cfg);
        ASSERT_TRUE(cfg.reclaim == fake_reclaim && cfg.reclaim_userdata == &reclaim_calls);
        kl_config_done(&kc);
}

TEST(soft_threshold_waits_for_its_grace_period) {
        struct kl_eviction_config cfg = config_none();
        struct kl_eviction_observation o = obs_ok();
        struct kl_eviction_decision d;
        struct kl_eviction *ev;

        cfg.soft[KL_EVICTION_MEMORY_AVAILABLE] = qty(500 * Mi);
        cfg.soft_grace_usec[KL_EVICTION_MEMORY_AVAILABLE] = 90 * SEC;
        ev = kl_eviction_new(&cfg);
        ASSERT_NOT_NULL(ev);

        set_avail(&o, KL_EVICTION_MEMORY_AVAILABLE, 400 * Mi);
        ASSERT_EQ(kl_eviction_observe(ev, &o, 100 * SEC, &d), 0);
        ASSERT_TRUE(d.met[KL_EVICTION_MEMORY_AVAILABLE]);
        /* the condition is set at once, eviction waits */
        ASSERT_TRUE(d.condition[KL_EVICTION_MEMORY_PRESSURE]);
        ASSERT_EQ(d.next_check_usec, 190 * SEC);
        ASSERT_EQ(kl_eviction_observe(ev, &o, 190 * SEC - 1, &d), 0);
        ASSERT_EQ(d.next_check_usec, 190 * SEC);
        ASSERT_EQ(kl_eviction_observe(ev, &o, 190 * SEC, &d), 1);
        ASSERT_TRUE(d.evict && !d.hard);
        ASSERT_EQ(d.threshold_quantity, 500 * Mi);
        ASSERT_EQ(d.next_check_usec, 0);

        /* one clear observation restarts the grace period */
        set_avail(&o, KL_EVICTION_MEMORY_AVAILABLE, 600 * Mi);
        ASSERT_EQ(kl_eviction_observe(ev, &o, 200 * SEC, &d), 0);
        set_avail(&o, KL_EVICTION_MEMORY_AVAILABLE, 400 * Mi);
        ASSERT_EQ(kl_eviction_observe(ev, &o, 210 * SEC, &d), 0);
        ASSERT_EQ(d.next_check_usec, 300 * SEC);
        ASSERT_EQ(kl_eviction_observe(ev, &o, 299 * SEC, &d), 0);
        ASSERT_EQ(kl_eviction_observe(ev, &o, 300 * SEC, &d), 1);

        /* so does a missing observation (as upstream: no observation, not met) */
        o.signal[KL_EVICTION_MEMORY_AVAILABLE].have = false;
        ASSERT_EQ(kl_eviction_observe(ev, &o, 310 * SEC, &d), 0);
        ASSERT_FALSE(d.met[KL_EVICTION_MEMORY_AVAILABLE]);
        o.signal[KL_EVICTION_MEMORY_AVAILABLE].have = true;
        ASSERT_EQ(kl_eviction_observe(ev, &o, 320 * SEC, &d), 0);
        ASSERT_EQ(d.next_check_usec, 410 * SEC);
        kl_eviction_free(ev);
}

TEST(soft_threshold_with_zero_grace_acts_like_hard) {
        struct kl_eviction_config cfg = config_none();
        struct kl_eviction_observation o = obs_ok();
        struct kl_eviction_decision d;
        struct kl_eviction *ev;

        cfg.soft[KL_EVICTION_PID_AVAILABLE] = qty(5000);
        ev = kl_eviction_new(&cfg);
        set_avail(&o, KL_EVICTION_PID_AVAILABLE, 4999);
        ASSERT_EQ(kl_eviction_observe(ev, &o, 5 * SEC, &d), 1);
        ASSERT_FALSE(d.hard);
        ASSERT_EQ(d.resource, KL_EVICTION_RESOURCE_PIDS);
        ASSERT_TRUE(d.condition[KL_EVICTION_PID_PRESSURE]);
        kl_eviction_free(ev);
}

TEST(condition_stays_for_the_transition_period) {
        struct kl_eviction_config cfg;
        struct kl_eviction_observation o = obs_ok();
        struct kl_eviction_decision d;
        struct kl_eviction *ev;

        kl_eviction_config_init(&cfg);
        cfg.hard[KL_EVICTION_PID_AVAILABLE] = pct(10);
        ev = kl_eviction_new(&cfg);

        set_avail(&o, KL_EVICTION_PID_AVAILABLE, 100); /* < 3276 */
        ASSERT_EQ(kl_eviction_observe(ev, &o, 1000 * SEC, &d), 1);
        ASSERT_TRUE(d.condition[KL_EVICTION_PID_PRESSURE] && d.condition_changed[KL_EVICTION_PID_PRESSURE]);
        set_avail(&o, KL_EVICTION_PID_AVAILABLE, 20000);
        ASSERT_EQ(kl_eviction_observe(ev, &o, 1010 * SEC, &d), 0);
        ASSERT_TRUE(d.condition[KL_EVICTION_PID_PRESSURE] && !d.condition_changed[KL_EVICTION_PID_PRESSURE]);
        ASSERT_FALSE(kl_eviction_admit(ev, false, false, NULL, 0));
        /* last observed at 1000 s: set until 1300 s */
        ASSERT_EQ(kl_eviction_observe(ev, &o, 1300 * SEC - 1, &d), 0);
        ASSERT_TRUE(d.condition[KL_EVICTION_PID_PRESSURE]);
        ASSERT_EQ(kl_eviction_observe(ev, &o, 1300 * SEC, &d), 0);
        ASSERT_FALSE(d.condition[KL_EVICTION_PID_PRESSURE]);
        ASSERT_TRUE(d.condition_changed[KL_EVICTION_PID_PRESSURE]);
        ASSERT_TRUE(kl_eviction_admit(ev, false, true, NULL, 0));

        /* met again inside the window pushes the end out */
        set_avail(&o, KL_EVICTION_PID_AVAILABLE, 100);
        ASSERT_EQ(kl_eviction_observe(ev, &o, 2000 * SEC, &d), 1);
        set_avail(&o, KL_EVICTION_PID_AVAILABLE, 20000);
        ASSERT_EQ(kl_eviction_observe(ev, &o, 2200 * SEC, &d), 0);
        set_avail(&o, KL_EVICTION_PID_AVAILABLE, 100);
        ASSERT_EQ(kl_eviction_observe(ev, &o, 2250 * SEC, &d), 1);
        set_avail(&o, KL_EVICTION_PID_AVAILABLE, 20000);
        ASSERT_EQ(kl_eviction_observe(ev, &o, 2500 * SEC, &d), 0);
        ASSERT_TRUE(d.condition[KL_EVICTION_PID_PRESSURE]);
        ASSERT_EQ(kl_eviction_observe(ev, &o, 2550 * SEC, &d), 0);
        ASSERT_FALSE(d.condition[KL_EVICTION_PID_PRESSURE]);
        kl_eviction_free(ev);

        /* a period of 0 (tests): the condition follows the signal */
        cfg.pressure_transition_usec = 0;
        ev = kl_eviction_new(&cfg);
        set_avail(&o, KL_EVICTION_PID_AVAILABLE, 100);
        ASSERT_EQ(kl_eviction_observe(ev, &o, 1 * SEC, &d), 1);
        ASSERT_TRUE(d.condition[KL_EVICTION_PID_PRESSURE]);
        set_avail(&o, KL_EVICTION_PID_AVAILABLE, 20000);
        ASSERT_EQ(kl_eviction_observe(ev, &o, 1 * SEC, &d), 0);
        ASSERT_FALSE(d.condition[KL_EVICTION_PID_PRESSURE]);
        kl_eviction_free(ev);
}

TEST(memory_is_reclaimed_first_hard_before_soft) {
        struct kl_eviction_config cfg;
        struct kl_eviction_observation o = obs_ok();
        struct kl_eviction_decision d;
        struct kl_eviction *ev;

        kl_eviction_config_init(&cfg);
        cfg.hard[KL_EVICTION_PID_AVAILABLE] = qty(1000);
        cfg.soft[KL_EVICTION_MEMORY_AVAILABLE] = qty(1 * Gi);
        ev = kl_eviction_new(&cfg);

        set_avail(&o, KL_EVICTION_PID_AVAILABLE, 10);
        set_avail(&o, KL_EVICTION_NODEFS_INODES_FREE, 10);
        set_avail(&o, KL_EVICTION_NODEFS_AVAILABLE, 1);
        ASSERT_EQ(kl_eviction_observe(ev, &o, 1 * SEC, &d), 1);
        ASSERT_EQ(d.signal, KL_EVICTION_NODEFS_AVAILABLE); /* nodefs before inodes before pids */
        ASSERT_TRUE(d.met[KL_EVICTION_NODEFS_INODES_FREE] && d.met[KL_EVICTION_PID_AVAILABLE]);
        ASSERT_TRUE(d.condition[KL_EVICTION_DISK_PRESSURE] && d.condition[KL_EVICTION_PID_PRESSURE]);

        set_avail(&o, KL_EVICTION_MEMORY_AVAILABLE, 512 * Mi); /* soft (grace 0) only */
        ASSERT_EQ(kl_eviction_observe(ev, &o, 2 * SEC, &d), 1);
        ASSERT_EQ(d.signal, KL_EVICTION_MEMORY_AVAILABLE);
        ASSERT_FALSE(d.hard);
        set_avail(&o, KL_EVICTION_MEMORY_AVAILABLE, 1 * Mi); /* both: the hard one drives */
        ASSERT_EQ(kl_eviction_observe(ev, &o, 3 * SEC, &d), 1);
        ASSERT_TRUE(d.hard);
        ASSERT_EQ(d.threshold_quantity, 100 * Mi);
        kl_eviction_free(ev);
}

TEST(pod_logs_filesystem_is_checked_too) {
        struct kl_eviction_config cfg;
        struct kl_eviction_observation o = obs_ok();
        struct kl_eviction_decision d;
        struct kl_eviction *ev;

        kl_eviction_config_init(&cfg);
        ev = kl_eviction_new(&cfg);
        o.logs_fs[KL_EVICTION_NODEFS_AVAILABLE] = (struct kl_eviction_value){true, 50 * Mi, 1 * Gi};
        o.logs_fs[KL_EVICTION_NODEFS_INODES_FREE] = (struct kl_eviction_value){true, 60000, 65536};
        ASSERT_EQ(kl_eviction_observe(ev, &o, 1 * SEC, &d), 1);
        ASSERT_EQ(d.signal, KL_EVICTION_NODEFS_AVAILABLE);
        ASSERT_EQ(d.available, 50 * Mi);
        ASSERT_EQ(d.threshold_quantity, 107374184); /* 10% of the logs filesystem (float32) */
        ASSERT_FALSE(d.met[KL_EVICTION_NODEFS_INODES_FREE]);
        /* both below: the one further below is reported */
        set_avail(&o, KL_EVICTION_NODEFS_AVAILABLE, 1 * Gi); /* 9Gi short of 10Gi */
        ASSERT_EQ(kl_eviction_observe(ev, &o, 2 * SEC, &d), 1);
        ASSERT_EQ(d.available, 1 * Gi);
        /* memory.available and pid.available have no second filesystem */
        o.logs_fs[KL_EVICTION_MEMORY_AVAILABLE] = (struct kl_eviction_value){true, 0, 1 * Gi};
        set_avail(&o, KL_EVICTION_NODEFS_AVAILABLE, 50 * Gi);
        o.logs_fs[KL_EVICTION_NODEFS_AVAILABLE].available = 1 * Gi;
        ASSERT_EQ(kl_eviction_observe(ev, &o, 3 * SEC, &d), 0);
        kl_eviction_free(ev);
}

TEST(grace_period_for_the_kill) {
        struct kl_eviction_config cfg;
        struct kl_eviction_decision hard = {.evict = true, .hard = true}, soft = {.evict = true};
        struct kl_eviction *ev;

        kl_eviction_config_init(&cfg);
        ev = kl_eviction_new(&cfg);
        ASSERT_EQ(kl_eviction_grace_period(ev, &hard, 30), 1);
        ASSERT_EQ(kl_eviction_grace_period(ev, &soft, 30), 0); /* evictionMaxPodGracePeriod 0 */
        kl_eviction_free(ev);
        cfg.max_pod_grace_period_sec = 20;
        ev = kl_eviction_new(&cfg);
        ASSERT_EQ(kl_eviction_grace_period(ev, &soft, 30), 20);
        ASSERT_EQ(kl_eviction_grace_period(ev, &soft, 5), 5);
        ASSERT_EQ(kl_eviction_grace_period(ev, &hard, 5), 1);
        kl_eviction_free(ev);
}

TEST(admission_under_pressure) {
        struct kl_eviction_config cfg;
        struct kl_eviction_observation o = obs_ok();
        struct kl_eviction_decision d;
        struct kl_eviction *ev;
        char msg[128];

        kl_eviction_config_init(&cfg);
        ev = kl_eviction_new(&cfg);
        ASSERT_TRUE(kl_eviction_admit(ev, false, true, msg, sizeof(msg)));

        set_avail(&o, KL_EVICTION_MEMORY_AVAILABLE, 1 * Mi);
        ASSERT_EQ(kl_eviction_observe(ev, &o, 1 * SEC, &d), 1);
        /* memory pressure alone: only BestEffort pods are turned away */
        ASSERT_TRUE(kl_eviction_admit(ev, false, false, msg, sizeof(msg)));
        ASSERT_TRUE(kl_eviction_admit(ev, true, true, msg, sizeof(msg)));
        ASSERT_FALSE(kl_eviction_admit(ev, false, true, msg, sizeof(msg)));
        ASSERT_STREQ(msg, "The node had condition: [MemoryPressure]. ");
        ASSERT_FALSE(kl_eviction_may_readmit(ev, KL_EVICTION_MEMORY_PRESSURE, false));

        set_avail(&o, KL_EVICTION_NODEFS_INODES_FREE, 1);
        ASSERT_EQ(kl_eviction_observe(ev, &o, 2 * SEC, &d), 1);
        ASSERT_FALSE(kl_eviction_admit(ev, false, false, msg, sizeof(msg)));
        ASSERT_STREQ(msg, "The node had condition: [MemoryPressure DiskPressure]. ");
        ASSERT_TRUE(kl_eviction_admit(ev, true, false, msg, sizeof(msg)));
        /* a short buffer is cut, never overrun */
        ASSERT_FALSE(kl_eviction_admit(ev, false, false, msg, 10));
        ASSERT_STREQ(msg, "The node ");

        /* disk clears (memory still set): a Burstable pod evicted for disk may come back */
        set_avail(&o, KL_EVICTION_NODEFS_INODES_FREE, 900000);
        ASSERT_EQ(kl_eviction_observe(ev, &o, 400 * SEC, &d), 1);
        ASSERT_FALSE(d.condition[KL_EVICTION_DISK_PRESSURE]);
        ASSERT_TRUE(kl_eviction_may_readmit(ev, KL_EVICTION_DISK_PRESSURE, false));
        ASSERT_FALSE(kl_eviction_may_readmit(ev, KL_EVICTION_DISK_PRESSURE, true));
        ASSERT_FALSE(kl_eviction_may_readmit(ev, KL_EVICTION_MEMORY_PRESSURE, false));
        set_avail(&o, KL_EVICTION_MEMORY_AVAILABLE, 3 * Gi);
        ASSERT_EQ(kl_eviction_observe(ev, &o, 401 * SEC, &d), 0);
        ASSERT_FALSE(kl_eviction_may_readmit(ev, KL_EVICTION_MEMORY_PRESSURE, true));
        ASSERT_EQ(kl_eviction_observe(ev, &o, 701 * SEC, &d), 0);
        ASSERT_TRUE(d.condition_changed[KL_EVICTION_MEMORY_PRESSURE]);
        ASSERT_TRUE(kl_eviction_may_readmit(ev, KL_EVICTION_MEMORY_PRESSURE, true));
        kl_eviction_free(ev);
}

TEST(bad_arguments) {
        struct kl_eviction_observation o = obs_ok();
        struct kl_eviction_decision d;
        _cleanup_(kl_eviction_freep) struct kl_eviction *ev = kl_eviction_new(NULL); /* NULL: defaults */

        ASSERT_NOT_NULL(ev);
        ASSERT_ERR(kl_eviction_observe(NULL, &o, 0, &d), EINVAL);
        ASSERT_ERR(kl_eviction_observe(ev, NULL, 0, &d), EINVAL);
        ASSERT_ERR(kl_eviction_observe(ev, &o, 0, NULL), EINVAL);
        ASSERT_ERR(kl_eviction_rank(NULL, 1, KL_EVICTION_RESOURCE_MEMORY, NULL), EINVAL);
        ASSERT_EQ(kl_eviction_rank(NULL, 0, KL_EVICTION_RESOURCE_MEMORY, NULL), 0);
        ASSERT_ERR(kl_eviction_rank(NULL, 0, _KL_EVICTION_RESOURCE_MAX, NULL), EINVAL);
        ASSERT_NULL(kl_eviction_free(NULL));
}

/* ---- ranking ------------------------------------------------------------ */

struct rank_case {
        const char *name;
        int64_t usage, request;
        int32_t priority;
        bool have_stats, critical;
};

/* Rank the cases (given in input order) and compare the names with expect. */
static void check_rank(const struct rank_case *c, size_t n, enum kl_eviction_resource res, const char *const *expect,
                       size_t n_expect) {
        struct kl_eviction_pod pods[16];
        size_t order[16];
        ASSERT_TRUE(n <= 16);
        for (size_t i = 0; i < n; i++)
                pods[i] = (struct kl_eviction_pod){.have_stats = c[i].have_stats,
                                                   .usage = c[i].usage,
                                                   .request = c[i].request,
                                                   .priority = c[i].priority,
                                                   .critical = c[i].critical};
        int k = kl_eviction_rank(pods, n, res, order);
        ASSERT_EQ(k, (int) n_expect);
        for (size_t i = 0; i < n_expect; i++) {
                if (!streq(c[order[i]].name, expect[i]))
                        printf("  rank %zu: got %s, want %s\n", i, c[order[i]].name, expect[i]);
                ASSERT_STREQ(c[order[i]].name, expect[i]);
        }
}

TEST(rank_memory_upstream_ordered_by_memory) {
        /* upstream's TestOrderedByMemory, all at the same priority */
        static const struct rank_case c[] = {
                {"best-effort-high", 500 * Mi, 0, 0, true, false},
                {"best-effort-low", 300 * Mi, 0, 0, true, false},
                {"burstable-high", 800 * Mi, 100 * Mi, 0, true, false},
                {"burstable-low", 300 * Mi, 100 * Mi, 0, true, false},
                {"guaranteed-high", 800 * Mi, 1 * Gi, 0, true, false},
                {"guaranteed-low", 200 * Mi, 1 * Gi, 0, true, false},
        };
        static const char *const want[] = {"burstable-high", "best-effort-high", "best-effort-low",
                                           "burstable-low",  "guaranteed-high",  "guaranteed-low"};
        check_rank(c, ELEMENTSOF(c), KL_EVICTION_RESOURCE_MEMORY, want, ELEMENTSOF(want));
}

TEST(rank_memory_upstream_ordered_by_priority_memory) {
        /* upstream's TestOrderedByPriorityMemory: given in reverse order */
        static const struct rank_case c[] = {
                {"below-requests-high-priority-low-usage", 200 * Mi, 1 * Gi, 1, true, false},
                {"below-requests-high-priority-high-usage", 800 * Mi, 1 * Gi, 1, true, false},
                {"below-requests-low-priority-low-usage", 200 * Mi, 1 * Gi, -1, true, false},
                {"below-requests-low-priority-high-usage", 800 * Mi, 1 * Gi, -1, true, false},
                {"above-requests-high-priority-low-usage", 150 * Mi, 100 * Mi, 1, true, false},
                {"above-requests-high-priority-high-usage", 600 * Mi, 100 * Mi, 1, true, false},
                {"above-requests-low-priority-low-usage", 50 * Mi, 0, -1, true, false},
                {"above-requests-low-priority-high-usage", 500 * Mi, 0, -1, true, false},
        };
        static const char *const want[] = {
                "above-requests-low-priority-high-usage",  "above-requests-low-priority-low-usage",
                "above-requests-high-priority-high-usage", "above-requests-high-priority-low-usage",
                "below-requests-low-priority-high-usage",  "below-requests-low-priority-low-usage",
                "below-requests-high-priority-high-usage", "below-requests-high-priority-low-usage"};
        check_rank(c, ELEMENTSOF(c), KL_EVICTION_RESOURCE_MEMORY, want, ELEMENTSOF(want));
}

TEST(rank_pids_upstream_ordered_by_priority_process) {
        static const struct rank_case c[] = {
                {"high-priority-low-usage", 5, 0, 1, true, false},
                {"high-priority-high-usage", 20, 0, 1, true, false},
                {"low-priority-low-usage", 6, 0, -1, true, false},
                {"low-priority-high-usage", 20, 0, -1, true, false},
        };
        static const char *const want[] = {"low-priority-high-usage", "low-priority-low-usage",
                                           "high-priority-high-usage", "high-priority-low-usage"};
        check_rank(c, ELEMENTSOF(c), KL_EVICTION_RESOURCE_PIDS, want, ELEMENTSOF(want));
}

TEST(rank_disk_exceeds_requests_then_priority_then_usage) {
        /* upstream's disk ranking: exceedDiskRequests, priority, usage - request */
        static const struct rank_case c[] = {
                {"below-request-low-prio", 100 * Mi, 1 * Gi, -1, true, false},
                {"above-request-high-prio", 900 * Mi, 100 * Mi, 10, true, false},
                {"no-request-small", 10 * Mi, 0, 0, true, false},
                {"no-request-big", 700 * Mi, 0, 0, true, false},
                {"no-request-idle", 0, 0, 0, true, false}, /* 0 does not exceed 0 */
        };
        static const char *const want[] = {"no-request-big", "no-request-small", "above-request-high-prio",
                                           "below-request-low-prio", "no-request-idle"};
        check_rank(c, ELEMENTSOF(c), KL_EVICTION_RESOURCE_EPHEMERAL_STORAGE, want, ELEMENTSOF(want));
        /* inodes: the same rules with the daemon passing request 0 */
        static const struct rank_case ci[] = {
                {"a", 100, 0, 0, true, false},
                {"b", 5000, 0, 0, true, false},
                {"c", 300, 0, -5, true, false},
        };
        static const char *const want_i[] = {"c", "b", "a"};
        check_rank(ci, ELEMENTSOF(ci), KL_EVICTION_RESOURCE_INODES, want_i, ELEMENTSOF(want_i));
}

TEST(rank_pods_without_stats_first) {
        static const struct rank_case c[] = {
                {"hog", 2 * Gi, 0, 0, true, false},
                {"unknown-high-prio", 0, 0, 1000, false, false},
                {"unknown", 0, 0, 0, false, false},
        };
        /* both without stats: the next step (priority) decides between them */
        static const char *const want[] = {"unknown", "unknown-high-prio", "hog"};
        check_rank(c, ELEMENTSOF(c), KL_EVICTION_RESOURCE_MEMORY, want, ELEMENTSOF(want));
        static const char *const want_p[] = {"unknown", "hog", "unknown-high-prio"};
        check_rank(c, ELEMENTSOF(c), KL_EVICTION_RESOURCE_PIDS, want_p, ELEMENTSOF(want_p));
}

TEST(rank_critical_pods_never_chosen) {
        static const struct rank_case c[] = {
                {"node-agent", 3 * Gi, 0, 2000001000, true, true},
                {"app", 100 * Mi, 200 * Mi, 0, true, false},
                {"cluster-dns", 3 * Gi, 0, 2000000000, false, true},
        };
        static const char *const want[] = {"app"};
        check_rank(c, ELEMENTSOF(c), KL_EVICTION_RESOURCE_MEMORY, want, ELEMENTSOF(want));
        check_rank(c, ELEMENTSOF(c), KL_EVICTION_RESOURCE_PIDS, want, ELEMENTSOF(want));
        static const struct rank_case only[] = {{"node-agent", 3 * Gi, 0, 0, true, true}};
        check_rank(only, 1, KL_EVICTION_RESOURCE_MEMORY, NULL, 0);
}

TEST(rank_ties_keep_manifest_order) {
        static const struct rank_case c[] = {
                {"a", 100 * Mi, 0, 0, true, false}, {"b", 100 * Mi, 0, 0, true, false},
                {"c", 200 * Mi, 0, 0, true, false}, {"d", 100 * Mi, 0, 0, true, false},
                {"e", 100 * Mi, 0, 0, true, false}, {"f", 200 * Mi, 0, 0, true, false},
                {"g", 100 * Mi, 0, 0, true, false},
        };
        static const char *const want[] = {"c", "f", "a", "b", "d", "e", "g"};
        check_rank(c, ELEMENTSOF(c), KL_EVICTION_RESOURCE_MEMORY, want, ELEMENTSOF(want));
}

TEST(pod_priority_criticality_and_requests_from_spec) {
        struct kl_container cs[2] = {};
        struct kl_pod p = {.containers = cs, .n_containers = 2};
        struct kl_eviction_pod e;

        for (int i = 0; i < 2; i++)
                cs[i].resources = (struct kl_resources){-1, -1, -1, -1, -1, -1};
        ASSERT_EQ(kl_eviction_pod_priority(&p), 0);
        ASSERT_FALSE(kl_eviction_pod_is_critical(&p));
        kl_eviction_pod_from_spec(&p, KL_EVICTION_RESOURCE_MEMORY, &e);
        ASSERT_EQ(e.request, 0); /* BestEffort */
        ASSERT_FALSE(e.critical || e.have_stats);

        cs[0].resources.memory_request = 64 * Mi;
        cs[1].resources.memory_request = 128 * Mi;
        cs[1].resources.ephemeral_request = 1 * Gi;
        kl_eviction_pod_from_spec(&p, KL_EVICTION_RESOURCE_MEMORY, &e);
        ASSERT_EQ(e.request, 192 * Mi);
        kl_eviction_pod_from_spec(&p, KL_EVICTION_RESOURCE_EPHEMERAL_STORAGE, &e);
        ASSERT_EQ(e.request, 1 * Gi);
        kl_eviction_pod_from_spec(&p, KL_EVICTION_RESOURCE_PIDS, &e);
        ASSERT_EQ(e.request, 0);

        p.has_priority = true;
        p.priority = -5;
        ASSERT_EQ(kl_eviction_pod_priority(&p), -5);
        p.priority = 1999999999;
        ASSERT_FALSE(kl_eviction_pod_is_critical(&p));
        p.priority = 2000000000;
        ASSERT_TRUE(kl_eviction_pod_is_critical(&p));
        p.has_priority = false;

        p.priority_class_name = (char *) "system-node-critical";
        ASSERT_EQ(kl_eviction_pod_priority(&p), 2000001000);
        ASSERT_TRUE(kl_eviction_pod_is_critical(&p));
        p.priority_class_name = (char *) "system-cluster-critical";
        ASSERT_EQ(kl_eviction_pod_priority(&p), 2000000000);
        kl_eviction_pod_from_spec(&p, KL_EVICTION_RESOURCE_MEMORY, &e);
        ASSERT_TRUE(e.critical);
        /* the class name decides even when a lower priority was written */
        p.has_priority = true;
        p.priority = 0;
        ASSERT_TRUE(kl_eviction_pod_is_critical(&p));
        p.priority_class_name = (char *) "high-priority";
        ASSERT_FALSE(kl_eviction_pod_is_critical(&p));
        /* a static pod is not critical by itself (unlike upstream) */
        p.source = (char *) "/etc/kubernetes/manifests/web.yaml";
        ASSERT_FALSE(kl_eviction_pod_is_critical(&p));
}

/* ---- messages ----------------------------------------------------------- */

TEST(format_quantity_like_resource_quantity) {
        static const struct {
                int64_t v;
                bool binary;
                const char *want;
        } t[] = {
                {0, true, "0"},
                {500, true, "500"},
                {1000, true, "1k"}, /* below 1024: DecimalSI */
                {1023, true, "1023"},
                {1024, true, "1Ki"},
                {1536, true, "1536"},
                {52428800, true, "50Mi"},
                {17764352, true, "17348Ki"},
                {100 * Mi, true, "100Mi"},
                {2722654248, true, "2722654248"},
                {3 * Gi, true, "3Gi"},
                {INT64_C(1) << 60, true, "1Ei"},
                {INT64_C(1) << 62, true, "4Ei"},
                {-2048, true, "-2Ki"},
                {0, false, "0"},
                {1000, false, "1k"},
                {1500, false, "1500"},
                {15000, false, "15k"},
                {2000000, false, "2M"},
                {1024, false, "1024"},
                {838860, false, "838860"},
                {INT64_MAX, false, "9223372036854775807"},
                {INT64_MIN, false, "-9223372036854775808"},
        };
        char buf[32];
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                kl_eviction_format_quantity(t[i].v, t[i].binary, buf, sizeof(buf));
                ASSERT_STREQ(buf, t[i].want);
        }
}

TEST(message_memory_as_upstream) {
        struct kl_eviction_decision d = {.evict = true,
                                         .hard = true,
                                         .signal = KL_EVICTION_MEMORY_AVAILABLE,
                                         .resource = KL_EVICTION_RESOURCE_MEMORY,
                                         .threshold_quantity = 100 * Mi,
                                         .available = 51200 * Ki + 1024};
        struct kl_eviction_container c[] = {
                {"c", true, 300 * Mi, 0},
                {"under", true, 50 * Mi, 64 * Mi}, /* within its request: not named */
                {"nostats", false, 0, 0},
                {"dec", true, 200000000, 100000000}, /* request written as 100M */
        };
        char buf[KL_EVICTION_MESSAGE_MAX];
        int n;

        n = kl_eviction_message(&d, c, 1, buf, sizeof(buf));
        /* available 51201Ki: exact Ki, not Mi */
        ASSERT_STREQ(buf, "The node was low on resource: memory. Threshold quantity: 100Mi, available: 51201Ki. "
                          "Container c was using 300Mi, request is 0, has larger consumption of memory. ");
        ASSERT_EQ(n, (int) strlen(buf));
        d.available = 17348 * Ki;
        kl_eviction_message(&d, c, ELEMENTSOF(c), buf, sizeof(buf));
        ASSERT_STREQ(buf, "The node was low on resource: memory. Threshold quantity: 100Mi, available: 17348Ki. "
                          "Container c was using 300Mi, request is 0, has larger consumption of memory. "
                          "Container dec was using 200000000, request is 100M, has larger consumption of memory. ");
        /* truncation */
        n = kl_eviction_message(&d, c, ELEMENTSOF(c), buf, 20);
        ASSERT_EQ(n, 19);
        ASSERT_STREQ(buf, "The node was low on");
        ASSERT_ERR(kl_eviction_message(&d, NULL, 1, buf, sizeof(buf)), EINVAL);
}

TEST(message_disk_inodes_pids) {
        struct kl_eviction_decision d = {.evict = true,
                                         .signal = KL_EVICTION_NODEFS_AVAILABLE,
                                         .resource = KL_EVICTION_RESOURCE_EPHEMERAL_STORAGE,
                                         .threshold_percent = true,
                                         .threshold_quantity = 2722654248,
                                         .available = 1600496 * Ki};
        struct kl_eviction_container c[] = {{"fill", true, 40 * Ki, 0}};
        char buf[KL_EVICTION_MESSAGE_MAX];

        kl_eviction_message(&d, c, 1, buf, sizeof(buf));
        ASSERT_STREQ(buf, "The node was low on resource: ephemeral-storage. Threshold quantity: 2722654248, "
                          "available: 1600496Ki. Container fill was using 40Ki, request is 0, has larger "
                          "consumption of ephemeral-storage. ");

        /* inodes: a percentage threshold prints as BinarySI, the count as DecimalSI;
         * containers are not named */
        d = (struct kl_eviction_decision){.evict = true,
                                          .signal = KL_EVICTION_NODEFS_INODES_FREE,
                                          .resource = KL_EVICTION_RESOURCE_INODES,
                                          .threshold_percent = true,
                                          .threshold_quantity = 838860,
                                          .available = 2000};
        kl_eviction_message(&d, c, 1, buf, sizeof(buf));
        ASSERT_STREQ(buf, "The node was low on resource: inodes. Threshold quantity: 838860, available: 2k. ");
        d.threshold_quantity = 1048576;
        kl_eviction_message(&d, c, 1, buf, sizeof(buf));
        ASSERT_STREQ(buf, "The node was low on resource: inodes. Threshold quantity: 1Mi, available: 2k. ");

        d = (struct kl_eviction_decision){.evict = true,
                                          .signal = KL_EVICTION_PID_AVAILABLE,
                                          .resource = KL_EVICTION_RESOURCE_PIDS,
                                          .threshold_quantity = 1000,
                                          .available = 512};
        kl_eviction_message(&d, c, 1, buf, sizeof(buf));
        ASSERT_STREQ(buf, "The node was low on resource: pids. Threshold quantity: 1k, available: 512. ");
}

/* ---- parsers ------------------------------------------------------------ */

TEST(parse_psi) {
        struct kl_eviction_psi p = {};

        ASSERT_OK(kl_eviction_parse_psi(S("some avg10=1.25 avg60=0.50 avg300=12.00 total=123456\n"
                                          "full avg10=0.07 avg60=0.00 avg300=100.00 total=99\n"),
                                        &p));
        ASSERT_TRUE(p.some.have && p.full.have);
        ASSERT_EQ(p.some.avg10, 125);
        ASSERT_EQ(p.some.avg60, 50);
        ASSERT_EQ(p.some.avg300, 1200);
        ASSERT_EQ(p.some.total_usec, 123456);
        ASSERT_EQ(p.full.avg10, 7);
        ASSERT_EQ(p.full.avg300, 10000);
        ASSERT_EQ(p.full.total_usec, 99);
        /* "some" only (the cpu file on older kernels), one decimal, no newline */
        p = (struct kl_eviction_psi){};
        ASSERT_OK(kl_eviction_parse_psi(S("some avg10=3.5 avg60=0 avg300=0.123 total=0"), &p));
        ASSERT_TRUE(p.some.have && !p.full.have);
        ASSERT_EQ(p.some.avg10, 350);
        ASSERT_EQ(p.some.avg60, 0);
        ASSERT_EQ(p.some.avg300, 12);
        /* unknown keys are skipped */
        ASSERT_OK(kl_eviction_parse_psi(S("some avg10=0.00 extra=7 avg60=0.00 avg300=0.00 total=1\n"), &p));
        p.some.avg10 = 4242;
        ASSERT_ERR(kl_eviction_parse_psi(S(""), &p), EINVAL);
        ASSERT_ERR(kl_eviction_parse_psi(S("full avg10=0.00 avg60=0.00 avg300=0.00 total=1\n"), &p), EINVAL);
        ASSERT_ERR(kl_eviction_parse_psi(S("some avg10=0.00 avg60=0.00 total=1\n"), &p), EINVAL);
        ASSERT_ERR(kl_eviction_parse_psi(S("some avg10=x avg60=0.00 avg300=0.00 total=1\n"), &p), EINVAL);
        ASSERT_ERR(kl_eviction_parse_psi(S("some avg10=1. avg60=0.00 avg300=0.00 total=1\n"), &p), EINVAL);
        ASSERT_ERR(kl_eviction_parse_psi(S("some avg10 avg60=0.00 avg300=0.00 total=1\n"), &p), EINVAL);
        ASSERT_ERR(kl_eviction_parse_psi(S("some avg10=0.00 avg60=0.00 avg300=0.00 total=99999999999999999999\n"), &p),
                   ERANGE);
        ASSERT_ERR(kl_eviction_parse_psi(S("some avg10=99999999.00 avg60=0.00 avg300=0.00 total=1\n"), &p), ERANGE);
        ASSERT_EQ(p.some.avg10, 4242); /* untouched on failure */
}

TEST(parse_loadavg_meminfo_u64) {
        int64_t v = -7;
        uint64_t u = 0;

        ASSERT_OK(kl_eviction_parse_loadavg_tasks(S("1.36 3.49 4.53 2/3518 3715089\n"), &v));
        ASSERT_EQ(v, 3518);
        ASSERT_OK(kl_eviction_parse_loadavg_tasks(S("0.00 0.00 0.00 1/1 1"), &v));
        ASSERT_EQ(v, 1);
        v = -7;
        ASSERT_ERR(kl_eviction_parse_loadavg_tasks(S("1.36 3.49 4.53 2/3518\n"), &v), EINVAL); /* 4 fields */
        ASSERT_ERR(kl_eviction_parse_loadavg_tasks(S("1.36 3.49 4.53 3518 1\n"), &v), EINVAL);
        ASSERT_ERR(kl_eviction_parse_loadavg_tasks(S("1.36 3.49 4.53 2/35x18 1\n"), &v), EINVAL);
        ASSERT_ERR(kl_eviction_parse_loadavg_tasks(S("1 2 3 2/99999999999999999999 1\n"), &v), ERANGE);
        ASSERT_ERR(kl_eviction_parse_loadavg_tasks(S("1 2 3 2/9223372036854775808 1\n"), &v), ERANGE);
        ASSERT_EQ(v, -7);

        static const char meminfo[] = "MemTotal:       24684092 kB\nMemFree:        21919692 kB\n"
                                      "MemAvailable:   23439124 kB\nHugePages_Total:       3\n";
        ASSERT_OK(kl_eviction_parse_meminfo(S(meminfo), "MemTotal", &v));
        ASSERT_EQ(v, INT64_C(24684092) * 1024);
        ASSERT_OK(kl_eviction_parse_meminfo(S(meminfo), "MemAvailable", &v));
        ASSERT_EQ(v, INT64_C(23439124) * 1024);
        ASSERT_OK(kl_eviction_parse_meminfo(S(meminfo), "HugePages_Total", &v));
        ASSERT_EQ(v, 3);
        ASSERT_ERR(kl_eviction_parse_meminfo(S(meminfo), "Mem", &v), ENOENT); /* whole keys only */
        ASSERT_ERR(kl_eviction_parse_meminfo(S(meminfo), "SwapTotal", &v), ENOENT);
        ASSERT_ERR(kl_eviction_parse_meminfo(S("MemTotal: lots\n"), "MemTotal", &v), EINVAL);
        ASSERT_ERR(kl_eviction_parse_meminfo(S("MemTotal: 1 MB\n"), "MemTotal", &v), EINVAL);
        ASSERT_ERR(kl_eviction_parse_meminfo(S("MemTotal: 18014398509481984 kB\n"), "MemTotal", &v), ERANGE);

        ASSERT_OK(kl_eviction_parse_u64(S("32768\n"), &u));
        ASSERT_EQ(u, 32768);
        ASSERT_OK(kl_eviction_parse_u64(S(" 7 "), &u));
        ASSERT_EQ(u, 7);
        ASSERT_ERR(kl_eviction_parse_u64(S("max\n"), &u), EINVAL);
        ASSERT_ERR(kl_eviction_parse_u64(S("1 2\n"), &u), EINVAL);
        ASSERT_ERR(kl_eviction_parse_u64(S(""), &u), EINVAL);
        ASSERT_ERR(kl_eviction_parse_u64(S("18446744073709551616"), &u), ERANGE);
}

/* ---- signal readers against fake files ---------------------------------- */

static struct kl_eviction_fs_stats fake_root = {
        .dev = 1, .capacity_bytes = 10 * Gi, .available_bytes = 512 * Mi, .inodes = 1000, .inodes_free = 10};
static struct kl_eviction_fs_stats fake_logs = {
        .dev = 1, .capacity_bytes = 1 * Gi, .available_bytes = 1 * Mi, .inodes = 100, .inodes_free = 50};

static int fake_fs(const char *path, struct kl_eviction_fs_stats *ret) {
        if (strstr(path, "missing"))
                return -ENOENT;
        *ret = strstr(path, "logs") ? fake_logs : fake_root;
        return 0;
}

/* Fake /proc and a memory cgroup dir; returns sources pointing at them. */
static struct kl_eviction_sources fake_sources(const char *name) {
        const char *d = tmpdir(name);
        put(d, "meminfo", "MemTotal:        1048576 kB\nMemFree:          10000 kB\nMemAvailable:     262144 kB\n");
        put(d, "pid_max", "32768\n");
        put(d, "threads_max", "1000\n");
        put(d, "loadavg", "0.00 0.01 0.05 1/250 1234\n");
        put(d, "psi",
            "some avg10=2.50 avg60=1.00 avg300=0.25 total=42\nfull avg10=1.00 avg60=0.00 avg300=0.00 total=7\n");
        return (struct kl_eviction_sources){
                .meminfo = keep(path_in(d, "meminfo")),
                .memory_cgroup = keep(tmpdir(path_in(name, "cg"))),
                .root_dir = "/var/lib/kubelet-lite",
                .pod_logs_dir = "/var/log/pods-logs",
                .pid_max = keep(path_in(d, "pid_max")),
                .threads_max = keep(path_in(d, "threads_max")),
                .loadavg = keep(path_in(d, "loadavg")),
                .psi_memory = keep(path_in(d, "psi")),
                .fs_stats = fake_fs,
        };
}

TEST(read_signals_cgroup2_root) {
        struct kl_eviction_sources src = fake_sources("v2root");
        struct kl_eviction_observation o;

        /* the v2 root: memory.stat only, no memory.current */
        put(src.memory_cgroup, "memory.stat",
            "anon 314572800\nfile 209715200\nkernel 1000\nactive_file 104857600\ninactive_file 104857600\n");
        ASSERT_OK(kl_eviction_read_signals(&src, &o));

        /* working set = anon + file - inactive_file = 400Mi; capacity = MemTotal = 1Gi */
        ASSERT_TRUE(o.signal[KL_EVICTION_MEMORY_AVAILABLE].have);
        ASSERT_EQ(o.memory_working_set, 400 * Mi);
        ASSERT_EQ(o.signal[KL_EVICTION_MEMORY_AVAILABLE].available, 624 * Mi);
        ASSERT_EQ(o.signal[KL_EVICTION_MEMORY_AVAILABLE].capacity, 1 * Gi);
        ASSERT_CONTAINS(o.memory_source, "v2 root");
        /* nodefs from the root dir's filesystem; the logs dir is on the same one */
        ASSERT_EQ(o.signal[KL_EVICTION_NODEFS_AVAILABLE].available, 512 * Mi);
        ASSERT_EQ(o.signal[KL_EVICTION_NODEFS_AVAILABLE].capacity, 10 * Gi);
        ASSERT_EQ(o.signal[KL_EVICTION_NODEFS_INODES_FREE].available, 10);
        ASSERT_EQ(o.signal[KL_EVICTION_NODEFS_INODES_FREE].capacity, 1000);
        ASSERT_FALSE(o.logs_fs[KL_EVICTION_NODEFS_AVAILABLE].have);
        /* pid: min(pid_max, threads-max) - tasks from loadavg */
        ASSERT_EQ(o.signal[KL_EVICTION_PID_AVAILABLE].capacity, 1000);
        ASSERT_EQ(o.signal[KL_EVICTION_PID_AVAILABLE].available, 750);
        ASSERT_EQ(o.processes, 250);
        ASSERT_TRUE(o.psi_memory.some.have && o.psi_memory.full.have);
        ASSERT_EQ(o.psi_memory.some.avg10, 250);
        for (int s = 0; s < _KL_EVICTION_SIGNAL_MAX; s++)
                ASSERT_EQ(o.signal_error[s], 0);

        /* podLogsDir on its own filesystem is reported separately */
        fake_logs.dev = 2;
        ASSERT_OK(kl_eviction_read_signals(&src, &o));
        fake_logs.dev = 1;
        ASSERT_TRUE(o.logs_fs[KL_EVICTION_NODEFS_AVAILABLE].have);
        ASSERT_EQ(o.logs_fs[KL_EVICTION_NODEFS_AVAILABLE].available, 1 * Mi);
        ASSERT_EQ(o.logs_fs[KL_EVICTION_NODEFS_INODES_FREE].available, 50);
        ASSERT_FALSE(o.logs_fs[KL_EVICTION_MEMORY_AVAILABLE].have);

        /* end to end: the defaults turn this into DiskPressure from the logs filesystem */
        struct kl_eviction *ev = kl_eviction_new(NULL);
        struct kl_eviction_decision d;
        fake_root.available_bytes = 5 * Gi;
        fake_root.inodes_free = 500;
        fake_logs.dev = 2;
        ASSERT_OK(kl_eviction_read_signals(&src, &o));
        ASSERT_EQ(kl_eviction_observe(ev, &o, 1 * SEC, &d), 1);
        ASSERT_EQ(d.signal, KL_EVICTION_NODEFS_AVAILABLE);
        ASSERT_EQ(d.available, 1 * Mi);
        ASSERT_FALSE(d.met[KL_EVICTION_MEMORY_AVAILABLE]);
        fake_logs.dev = 1;
        fake_root.available_bytes = 512 * Mi;
        fake_root.inodes_free = 10;
        kl_eviction_free(ev);
}

TEST(read_signals_cgroup2_memory_current_and_v1) {
        struct kl_eviction_sources src = fake_sources("v2cur");
        struct kl_eviction_observation o;

        /* a v2 cgroup below the root: memory.current - inactive_file */
        put(src.memory_cgroup, "memory.stat", "anon 1\nfile 2\ninactive_file 104857600\n");
        put(src.memory_cgroup, "memory.current", "734003200\n");
        ASSERT_OK(kl_eviction_read_signals(&src, &o));
        ASSERT_EQ(o.memory_working_set, 600 * Mi);
        ASSERT_EQ(o.signal[KL_EVICTION_MEMORY_AVAILABLE].available, 424 * Mi);
        ASSERT_STREQ(o.memory_source, "memory.current - inactive_file");

        /* cgroup v1: usage_in_bytes - total_inactive_file */
        src = fake_sources("v1");
        put(src.memory_cgroup, "memory.stat",
            "cache 5\nrss 6\ninactive_file 1\ntotal_cache 7\ntotal_inactive_file 209715200\n");
        put(src.memory_cgroup, "memory.usage_in_bytes", "943718400\n");
        ASSERT_OK(kl_eviction_read_signals(&src, &o));
        ASSERT_EQ(o.memory_working_set, 700 * Mi);
        ASSERT_EQ(o.signal[KL_EVICTION_MEMORY_AVAILABLE].available, 324 * Mi);
        ASSERT_CONTAINS(o.memory_source, "v1");

        /* working set floored at 0, inactive_file missing means none */
        put(src.memory_cgroup, "memory.stat", "total_inactive_file 999999999999\n");
        ASSERT_OK(kl_eviction_read_signals(&src, &o));
        ASSERT_EQ(o.memory_working_set, 0);
        ASSERT_EQ(o.signal[KL_EVICTION_MEMORY_AVAILABLE].available, 1 * Gi);
        put(src.memory_cgroup, "memory.stat", "cache 5\n");
        ASSERT_OK(kl_eviction_read_signals(&src, &o));
        ASSERT_EQ(o.memory_working_set, 900 * Mi);

        /* an over-committed node: negative available */
        put(src.memory_cgroup, "memory.usage_in_bytes", "2147483648\n");
        ASSERT_OK(kl_eviction_read_signals(&src, &o));
        ASSERT_EQ(o.signal[KL_EVICTION_MEMORY_AVAILABLE].available, -1 * Gi);
}

TEST(read_signals_fallbacks_and_missing_files) {
        struct kl_eviction_sources src = fake_sources("fallback");
        struct kl_eviction_observation o;

        /* no usable cgroup: MemTotal - MemAvailable (documented, not upstream) */
        ASSERT_OK(kl_eviction_read_signals(&src, &o));
        ASSERT_EQ(o.memory_working_set, 768 * Mi);
        ASSERT_EQ(o.signal[KL_EVICTION_MEMORY_AVAILABLE].available, 256 * Mi);
        ASSERT_CONTAINS(o.memory_source, "MemAvailable");
        src.memory_cgroup = "";
        ASSERT_OK(kl_eviction_read_signals(&src, &o));
        ASSERT_EQ(o.memory_working_set, 768 * Mi);

        /* each missing source drops its own signal only */
        src.meminfo = "/nonexistent/meminfo";
        src.threads_max = "/nonexistent/threads-max"; /* pid_max alone is enough */
        src.root_dir = "/missing";
        ASSERT_OK(kl_eviction_read_signals(&src, &o));
        ASSERT_FALSE(o.signal[KL_EVICTION_MEMORY_AVAILABLE].have);
        ASSERT_EQ(o.signal_error[KL_EVICTION_MEMORY_AVAILABLE], -ENOENT);
        ASSERT_FALSE(o.signal[KL_EVICTION_NODEFS_AVAILABLE].have || o.signal[KL_EVICTION_NODEFS_INODES_FREE].have);
        ASSERT_EQ(o.signal_error[KL_EVICTION_NODEFS_AVAILABLE], -ENOENT);
        ASSERT_EQ(o.signal[KL_EVICTION_PID_AVAILABLE].capacity, 32768);
        ASSERT_EQ(o.signal[KL_EVICTION_PID_AVAILABLE].available, 32768 - 250);
        ASSERT_EQ(o.memory_working_set, -1);

        /* a bad loadavg injected in a test does not fall back to sysinfo() */
        put(tmpdir("fallback"), "loadavg", "garbage\n");
        ASSERT_ERR(kl_eviction_read_signals(&src, &o), ENOENT);
        ASSERT_EQ(o.signal_error[KL_EVICTION_PID_AVAILABLE], -EINVAL);

        /* no inode counts (btrfs): no nodefs.inodesFree signal */
        src = fake_sources("btrfs");
        fake_root.inodes = 0;
        ASSERT_OK(kl_eviction_read_signals(&src, &o));
        fake_root.inodes = 1000;
        ASSERT_TRUE(o.signal[KL_EVICTION_NODEFS_AVAILABLE].have);
        ASSERT_FALSE(o.signal[KL_EVICTION_NODEFS_INODES_FREE].have);
        ASSERT_EQ(o.signal_error[KL_EVICTION_NODEFS_INODES_FREE], -ENODATA);
        /* no root dir configured: no nodefs signals, no error */
        src.root_dir = NULL;
        ASSERT_OK(kl_eviction_read_signals(&src, &o));
        ASSERT_FALSE(o.signal[KL_EVICTION_NODEFS_AVAILABLE].have);
        ASSERT_EQ(o.signal_error[KL_EVICTION_NODEFS_AVAILABLE], 0);
}

TEST(read_signals_on_this_host) {
        struct kl_eviction_sources src = {.root_dir = "/"};
        struct kl_eviction_observation o;
        struct kl_eviction_fs_stats fs;

        ASSERT_OK(kl_eviction_read_signals(&src, &o));
        for (int s = 0; s < _KL_EVICTION_SIGNAL_MAX; s++) {
                ASSERT_TRUE(o.signal[s].have);
                printf("  %s: available %" PRId64 " of %" PRId64 "\n", kl_eviction_signal_to_string(s),
                       o.signal[s].available, o.signal[s].capacity);
                ASSERT_TRUE(o.signal[s].capacity > 0);
                ASSERT_TRUE(o.signal[s].available <= o.signal[s].capacity);
        }
        printf("  memory working set %" PRId64 " from %s; %" PRId64 " tasks; psi some avg10 %u.%02u%%\n",
               o.memory_working_set, o.memory_source, o.processes, o.psi_memory.some.avg10 / 100,
               o.psi_memory.some.avg10 % 100);
        ASSERT_TRUE(o.memory_working_set > 0);
        ASSERT_TRUE(o.processes > 0);
        ASSERT_OK(kl_eviction_fs_stats("/", &fs));
        ASSERT_TRUE(fs.capacity_bytes >= fs.available_bytes);
        ASSERT_ERR(kl_eviction_fs_stats("/nonexistent/x", &fs), ENOENT);
}

/* ---- directory usage ---------------------------------------------------- */

TEST(dir_usage_counts_blocks_and_inodes) {
        const char *d = tmpdir("du");
        struct kl_eviction_du du = {-1, -1}, before;
        char big[64 * 1024];
        struct stat st;
        int fd;

        ASSERT_OK(kl_eviction_dir_usage(AT_FDCWD, d, 0, 0, &before));
        ASSERT_EQ(before.inodes, 1); /* the directory itself */
        memset(big, 'x', sizeof(big));
        tmpdir("du/a/b");
        fd = open(path_in(d, "a/b/file"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ASSERT_OK(fd);
        ASSERT_OK(kl_write_all(fd, big, sizeof(big)));
        ASSERT_OK(fsync(fd));
        ASSERT_OK(fstat(fd, &st));
        close(fd);
        put(d, "small", "hello");
        ASSERT_OK(symlink("/usr", path_in(d, "link"))); /* not followed */

        ASSERT_EQ(kl_eviction_dir_usage(AT_FDCWD, d, 0, 0, &du), 0);
        printf("  %" PRId64 " bytes in %" PRId64 " inodes (file: %lld blocks)\n", du.bytes, du.inodes,
               (long long) st.st_blocks);
        ASSERT_EQ(du.inodes, 6); /* ., a, a/b, a/b/file, small, link */
        ASSERT_GE(du.bytes, before.bytes + (int64_t) st.st_blocks * 512);
        ASSERT_LE(du.bytes, 16 * 1024 * 1024);

        /* bounded: stop after 2 entries, report the lower bound */
        ASSERT_EQ(kl_eviction_dir_usage(AT_FDCWD, d, 2, 0, &du), 1);
        ASSERT_LE(du.inodes, 3);
        /* a generous time budget completes */
        ASSERT_EQ(kl_eviction_dir_usage(AT_FDCWD, d, 0, 10 * SEC, &du), 0);
        ASSERT_EQ(du.inodes, 6);

        /* relative to a directory fd; errors for what is not a directory */
        fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_EQ(kl_eviction_dir_usage(fd, "a", 0, 0, &du), 0);
        ASSERT_EQ(du.inodes, 3);
        ASSERT_ERR(kl_eviction_dir_usage(fd, "small", 0, 0, &du), ENOTDIR);
        ASSERT_ERR(kl_eviction_dir_usage(fd, "link", 0, 0, &du), ENOTDIR); /* O_NOFOLLOW: not followed */
        ASSERT_ERR(kl_eviction_dir_usage(fd, "missing", 0, 0, &du), ENOENT);
        close(fd);
}

/* ---- fast path ---------------------------------------------------------- */

static bool readable(int fd, short events, int timeout_ms) {
        struct pollfd p = {.fd = fd, .events = events};
        return poll(&p, 1, timeout_ms) == 1 && (p.revents & events);
}

TEST(watch_memory_events_with_inotify) {
        const char *d = tmpdir("watch");
        struct kl_eviction_watch *w = NULL;
        int fd;

        put(d, "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n");
        struct kl_eviction_watch_config cfg = {.psi_path = "", .memory_events = path_in(d, "memory.events")};
        ASSERT_OK(kl_eviction_watch_open(&cfg, &w));
        printf("  %s\n", kl_eviction_watch_describe(w));
        ASSERT_EQ(kl_eviction_watch_active(w), KL_EVICTION_WATCH_MEMORY_EVENTS);
        ASSERT_ERR(kl_eviction_watch_psi_fd(w), EBADF);
        fd = kl_eviction_watch_events_fd(w);
        ASSERT_OK(fd);
        ASSERT_FALSE(readable(fd, POLLIN, 0));

        /* "max" grew: check now */
        put(d, "memory.events", "low 0\nhigh 0\nmax 3\noom 0\noom_kill 0\noom_group_kill 0\n");
        ASSERT_TRUE(readable(fd, POLLIN, 1000));
        ASSERT_EQ(kl_eviction_watch_drain(w, fd, EPOLLIN), KL_EVICTION_WATCH_MEMORY_EVENTS);
        ASSERT_FALSE(readable(fd, POLLIN, 0));
        /* only "low" changed: nothing to do */
        put(d, "memory.events", "low 9\nhigh 0\nmax 3\noom 0\noom_kill 0\noom_group_kill 0\n");
        ASSERT_TRUE(readable(fd, POLLIN, 1000));
        ASSERT_EQ(kl_eviction_watch_drain(w, fd, EPOLLIN), 0);
        /* an oom kill */
        put(d, "memory.events", "low 9\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n");
        ASSERT_EQ(kl_eviction_watch_drain(w, fd, EPOLLIN), KL_EVICTION_WATCH_MEMORY_EVENTS);
        ASSERT_ERR(kl_eviction_watch_drain(w, 12345, EPOLLIN), EBADF);

        /* the file goes away (its cgroup was removed): the source is lost */
        ASSERT_OK(unlink(path_in(d, "memory.events")));
        ASSERT_TRUE(readable(fd, POLLIN, 1000));
        ASSERT_EQ(kl_eviction_watch_drain(w, fd, EPOLLIN) & KL_EVICTION_WATCH_LOST, KL_EVICTION_WATCH_LOST);
        ASSERT_EQ(kl_eviction_watch_active(w), 0);
        ASSERT_ERR(kl_eviction_watch_events_fd(w), EBADF);
        ASSERT_NULL(kl_eviction_watch_free(w));

        /* cgroup v1 host: no memory.events, the watch still opens */
        cfg.memory_events = "/sys/fs/cgroup/nonexistent/memory.events";
        ASSERT_OK(kl_eviction_watch_open(&cfg, &w));
        ASSERT_EQ(kl_eviction_watch_active(w), 0);
        ASSERT_CONTAINS(kl_eviction_watch_describe(w), "memory.events=unavailable");
        ASSERT_CONTAINS(kl_eviction_watch_describe(w), "psi=disabled");
        kl_eviction_watch_free(w);
}

TEST(watch_bad_trigger_and_missing_psi) {
        struct kl_eviction_watch *w = NULL;
        struct kl_eviction_watch_config cfg = {.psi_path = "/nonexistent/pressure/memory"};

        ASSERT_OK(kl_eviction_watch_open(&cfg, &w));
        ASSERT_EQ(kl_eviction_watch_active(w), 0);
        ASSERT_CONTAINS(kl_eviction_watch_describe(w), "psi=unavailable (/nonexistent/pressure/memory: No such file");
        ASSERT_CONTAINS(kl_eviction_watch_describe(w), "memory.events=none");
        kl_eviction_watch_free(w);

        static const char *const bad[] = {"some",
                                          "some 1",
                                          "any 100 1000000",
                                          "some 0 1000000",
                                          "some 2000000 1000000",
                                          "some 1000 100",
                                          "some 1000 20000000",
                                          "some 100 1000000 x",
                                          "some  100 1000000"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                cfg.psi_trigger = bad[i];
                ASSERT_ERR(kl_eviction_watch_open(&cfg, &w), EINVAL);
        }
        /* a regular file takes the write but is no PSI file; not our problem to detect */
        ASSERT_ERR(kl_eviction_watch_open(NULL, NULL), EINVAL);
}

TEST(watch_psi_trigger_on_real_proc_pressure_memory) {
        struct kl_eviction_watch *w = NULL;
        struct epoll_event ee = {.events = EPOLLPRI}, got;
        int fd, ep;

        if (access("/proc/pressure/memory", R_OK) < 0)
                SKIP("/proc/pressure/memory: %s (kernel without PSI)", strerror(errno));
        ASSERT_OK(kl_eviction_watch_open(NULL, &w));
        printf("  %s\n", kl_eviction_watch_describe(w));
        if (!(kl_eviction_watch_active(w) & KL_EVICTION_WATCH_PSI)) {
                /* psi=0 on the command line: the file exists, reads fail with EOPNOTSUPP */
                ASSERT_CONTAINS(kl_eviction_watch_describe(w), "psi=unavailable");
                kl_eviction_watch_free(w);
                SKIP("PSI present but disabled");
        }
        ASSERT_CONTAINS(kl_eviction_watch_describe(w), "psi=/proc/pressure/memory trigger='some ");
        fd = kl_eviction_watch_psi_fd(w);
        ASSERT_OK(fd);
        /* an armed trigger goes into epoll with EPOLLPRI and reports no error */
        ep = epoll_create1(EPOLL_CLOEXEC);
        ASSERT_OK(ep);
        ee.data.fd = fd;
        ASSERT_OK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ee));
        int n = epoll_wait(ep, &got, 1, 0);
        ASSERT_OK(n);
        printf("  epoll_wait: %d event(s)%s\n", n, n ? " (the node is under memory pressure right now)" : "");
        if (n == 1) {
                ASSERT_FALSE(got.events & EPOLLERR);
                ASSERT_EQ(kl_eviction_watch_drain(w, fd, got.events), KL_EVICTION_WATCH_PSI);
        }
        ASSERT_EQ(kl_eviction_watch_drain(w, fd, EPOLLPRI), KL_EVICTION_WATCH_PSI);
        ASSERT_ERR(kl_eviction_watch_drain(w, kl_eviction_watch_events_fd(w), EPOLLIN), EBADF);
        /* what a trigger-less PSI fd reports: EPOLLERR, so drain calls it lost */
        ASSERT_EQ(kl_eviction_watch_drain(w, fd, EPOLLERR | EPOLLPRI), KL_EVICTION_WATCH_LOST);
        ASSERT_ERR(kl_eviction_watch_psi_fd(w), EBADF);
        close(ep);
        kl_eviction_watch_free(w);

        /* an explicit 2 s window needs no adjustment even unprivileged */
        struct kl_eviction_watch_config cfg = {.psi_trigger = "full 100000 2000000"};
        ASSERT_OK(kl_eviction_watch_open(&cfg, &w));
        ASSERT_TRUE(kl_eviction_watch_active(w) & KL_EVICTION_WATCH_PSI);
        ASSERT_CONTAINS(kl_eviction_watch_describe(w), "trigger='full 100000 2000000'");
        kl_eviction_watch_free(w);
}

TEST_MAIN()
