/* SPDX-License-Identifier: Apache-2.0 */
/* The image GC selection, checked against what upstream's realImageGCManager
 * (pkg/kubelet/images/image_gc_manager.go) does: imagesInEvictionOrder,
 * freeOldImages, GarbageCollect's threshold arithmetic, freeSpace. */
#include "kubelet-lite/images/imagegc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tests/lib/tests.h"

#define SEC UINT64_C(1000000)
#define MIN_ (60 * SEC)
#define Mi (UINT64_C(1) << 20)

static const struct kl_imagegc_policy defaults = {
        .high_percent = 85, .low_percent = 80, .min_age_usec = 2 * MIN_, .max_age_usec = 0};

/* now = 1 hour of monotonic time */
#define NOW (3600 * SEC)

static size_t order[16];
static struct kl_imagegc_selection sel;

static int sel_ids(const struct kl_imagegc_image *im, size_t n, char *buf, size_t size) {
        size_t k = 0;
        buf[0] = '\0';
        for (size_t i = 0; i < sel.n; i++)
                k += (size_t) snprintf(buf + k, size - k, "%s%s", i ? " " : "", im[order[i]].id);
        return (int) n;
}

TEST(nothing_below_the_high_threshold) {
        struct kl_imagegc_image im[] = {
                {.id = "old", .size = 10 * Mi, .first_seen_usec = 0, .last_used_usec = 0},
        };
        /* capacity 100 MiB, 16 MiB available: 84% used, under 85% */
        ASSERT_OK(kl_imagegc_select(im, 1, &defaults, 100 * Mi, 16 * Mi, NOW, 0, false, order, &sel));
        ASSERT_EQ(sel.usage_percent, 84);
        ASSERT_FALSE(sel.over_high);
        ASSERT_EQ(sel.n, 0);
        ASSERT_EQ(sel.bytes_to_free, 0);
}

TEST(over_high_frees_lru_down_to_low) {
        /* 90% used of 100 MiB: free 100*20% - 10 = 10 MiB */
        struct kl_imagegc_image im[] = {
                {.id = "a-recent", .size = 6 * Mi, .first_seen_usec = 10 * SEC, .last_used_usec = NOW - 10 * SEC},
                {.id = "b-oldest", .size = 6 * Mi, .first_seen_usec = 10 * SEC, .last_used_usec = 100 * SEC},
                {.id = "c-never", .size = 6 * Mi, .first_seen_usec = 20 * SEC, .last_used_usec = 0},
                {.id = "d-middle", .size = 6 * Mi, .first_seen_usec = 10 * SEC, .last_used_usec = 1000 * SEC},
        };
        char got[256];
        ASSERT_OK(kl_imagegc_select(im, 4, &defaults, 100 * Mi, 10 * Mi, NOW, 0, false, order, &sel));
        ASSERT_EQ(sel.usage_percent, 90);
        ASSERT_TRUE(sel.over_high);
        ASSERT_EQ(sel.bytes_to_free, (int64_t) (10 * Mi));
        sel_ids(im, 4, got, sizeof(got));
        printf("  removal order: %s\n", got);
        /* never used first (last used 0), then the oldest use; 12 MiB >= 10 MiB stops */
        ASSERT_STREQ(got, "c-never b-oldest");
        ASSERT_EQ(sel.bytes_selected, (int64_t) (12 * Mi));
}

TEST(exactly_at_high_threshold_counts) {
        struct kl_imagegc_image im[] = {{.id = "x", .size = 1 * Mi}};
        /* upstream: usagePercent >= HighThresholdPercent */
        ASSERT_OK(kl_imagegc_select(im, 1, &defaults, 100 * Mi, 15 * Mi, NOW, 0, false, order, &sel));
        ASSERT_EQ(sel.usage_percent, 85);
        ASSERT_TRUE(sel.over_high);
        ASSERT_EQ(sel.n, 1);
}

TEST(in_use_and_pinned_are_never_selected) {
        struct kl_imagegc_image im[] = {
                {.id = "used", .size = 50 * Mi, .in_use = true},
                {.id = "pinned", .size = 50 * Mi, .pinned = true},
                {.id = "free", .size = 1 * Mi},
        };
        char got[256];
        /* nearly full: wants far more than the one free image */
        ASSERT_OK(kl_imagegc_select(im, 3, &defaults, 100 * Mi, 1 * Mi, NOW, 0, false, order, &sel));
        sel_ids(im, 3, got, sizeof(got));
        ASSERT_STREQ(got, "free");
        ASSERT_LE(sel.bytes_selected, sel.bytes_to_free); /* the caller reports FreeDiskSpaceFailed */
        /* nor on disk pressure */
        ASSERT_OK(kl_imagegc_select(im, 3, &defaults, 100 * Mi, 1 * Mi, NOW, 0, true, order, &sel));
        sel_ids(im, 3, got, sizeof(got));
        ASSERT_STREQ(got, "free");
}

TEST(minimum_age_protects_fresh_images) {
        struct kl_imagegc_image im[] = {
                {.id = "fresh", .size = 10 * Mi, .first_seen_usec = NOW - 60 * SEC},
                {.id = "old-enough", .size = 10 * Mi, .first_seen_usec = NOW - 121 * SEC},
                {.id = "there-at-start", .size = 10 * Mi, .first_seen_usec = 0},
        };
        char got[256];
        /* full: wants 20 MiB, the fresh one would make 30 */
        ASSERT_OK(kl_imagegc_select(im, 3, &defaults, 100 * Mi, 0, NOW, 0, false, order, &sel));
        sel_ids(im, 3, got, sizeof(got));
        /* first seen 0 = present before the first detection: old, as upstream's zero time */
        ASSERT_STREQ(got, "there-at-start old-enough");
        /* and wanting more does not take the fresh one */
        ASSERT_OK(kl_imagegc_select(im, 3, &defaults, 100 * Mi, 0, NOW, 0, true, order, &sel));
        ASSERT_EQ(sel.n, 2);
        /* early after boot, too: monotonic time smaller than the minimum age */
        struct kl_imagegc_image early[] = {{.id = "boot", .size = 1 * Mi, .first_seen_usec = 0}};
        ASSERT_OK(kl_imagegc_select(early, 1, &defaults, 100 * Mi, 0, 30 * SEC, 0, false, order, &sel));
        ASSERT_EQ(sel.n, 1);
}

TEST(maximum_age_removes_unused_images_whatever_the_usage) {
        struct kl_imagegc_policy p = defaults;
        p.max_age_usec = 10 * MIN_;
        struct kl_imagegc_image im[] = {
                {.id = "stale", .size = 1 * Mi, .first_seen_usec = SEC, .last_used_usec = NOW - 11 * MIN_},
                {.id = "recent", .size = 1 * Mi, .first_seen_usec = SEC, .last_used_usec = NOW - 9 * MIN_},
                {.id = "stale-but-used", .size = 1 * Mi, .in_use = true, .last_used_usec = NOW - 11 * MIN_},
        };
        char got[256];
        /* 10% used: no threshold removal, only age */
        ASSERT_OK(kl_imagegc_select(im, 3, &p, 100 * Mi, 90 * Mi, NOW, SEC, false, order, &sel));
        sel_ids(im, 3, got, sizeof(got));
        ASSERT_STREQ(got, "stale");
        ASSERT_EQ(sel.n_old, 1);
        ASSERT_FALSE(sel.over_high);
        /* freeOldImages waits until MaxAge has passed since GC began */
        ASSERT_OK(kl_imagegc_select(im, 3, &p, 100 * Mi, 90 * Mi, NOW, NOW - 5 * MIN_, false, order, &sel));
        ASSERT_EQ(sel.n, 0);
        /* off when 0 */
        ASSERT_OK(kl_imagegc_select(im, 3, &defaults, 100 * Mi, 90 * Mi, NOW, SEC, false, order, &sel));
        ASSERT_EQ(sel.n, 0);
}

TEST(age_removals_come_first_and_are_not_counted_twice) {
        struct kl_imagegc_policy p = defaults;
        p.max_age_usec = 10 * MIN_;
        struct kl_imagegc_image im[] = {
                {.id = "stale", .size = 5 * Mi, .first_seen_usec = SEC, .last_used_usec = NOW - 20 * MIN_},
                {.id = "lru", .size = 5 * Mi, .first_seen_usec = SEC, .last_used_usec = NOW - 5 * MIN_},
                {.id = "mru", .size = 5 * Mi, .first_seen_usec = SEC, .last_used_usec = NOW - 1 * MIN_},
        };
        char got[256];
        /* 95% used: free 15 MiB; upstream measured before the age pass, so the space pass goes on */
        ASSERT_OK(kl_imagegc_select(im, 3, &p, 100 * Mi, 5 * Mi, NOW, SEC, false, order, &sel));
        sel_ids(im, 3, got, sizeof(got));
        ASSERT_STREQ(got, "stale lru mru");
        ASSERT_EQ(sel.n_old, 1);
        ASSERT_EQ(sel.bytes_selected, (int64_t) (10 * Mi));
}

TEST(disk_pressure_frees_every_eligible_image) {
        struct kl_imagegc_image im[] = {
                {.id = "a", .size = 1 * Mi, .first_seen_usec = 0},
                {.id = "b", .size = 1 * Mi, .first_seen_usec = 0},
                {.id = "young", .size = 1 * Mi, .first_seen_usec = NOW - SEC},
        };
        /* low usage, and no capacity known: DeleteUnusedImages still frees, minimum age still applies */
        ASSERT_OK(kl_imagegc_select(im, 3, &defaults, 0, 0, NOW, 0, true, order, &sel));
        ASSERT_EQ(sel.n, 2);
        ASSERT_EQ(sel.bytes_to_free, INT64_MAX);
        ASSERT_EQ(sel.usage_percent, -1);
}

TEST(ties_by_first_detection_then_input_order) {
        struct kl_imagegc_image im[] = {
                {.id = "later", .size = 1, .first_seen_usec = 20 * SEC},
                {.id = "earlier", .size = 1, .first_seen_usec = 10 * SEC},
                {.id = "earlier2", .size = 1, .first_seen_usec = 10 * SEC},
        };
        char got[256];
        ASSERT_OK(kl_imagegc_select(im, 3, &defaults, 100, 0, NOW, 0, false, order, &sel));
        sel_ids(im, 3, got, sizeof(got));
        /* 100 bytes full: wants 20 bytes, has 3 */
        ASSERT_STREQ(got, "earlier earlier2 later");
}

TEST(odd_inputs) {
        struct kl_imagegc_image im[] = {{.id = "x", .size = 1}};
        ASSERT_ERR(kl_imagegc_select(im, 1, NULL, 100, 0, NOW, 0, false, order, &sel), EINVAL);
        ASSERT_ERR(kl_imagegc_select(im, 1, &defaults, 100, 0, NOW, 0, false, NULL, &sel), EINVAL);
        ASSERT_OK(kl_imagegc_select(NULL, 0, &defaults, 100, 0, NOW, 0, false, NULL, &sel));
        ASSERT_EQ(sel.n, 0);
        /* available above capacity (upstream clamps it) */
        ASSERT_OK(kl_imagegc_select(im, 1, &defaults, 100, 500, NOW, 0, false, order, &sel));
        ASSERT_EQ(sel.usage_percent, 0);
        ASSERT_EQ(sel.n, 0);
}

TEST(normalize_refs) {
        char b[256];
        struct {
                const char *in, *out;
        } t[] = {
                {"busybox", "docker.io/library/busybox:latest"},
                {"busybox:1.36", "docker.io/library/busybox:1.36"},
                {"library/busybox", "docker.io/library/busybox:latest"},
                {"example/web:2", "docker.io/example/web:2"},
                {"localhost/kubelet-lite/pause:1.0", "localhost/kubelet-lite/pause:1.0"},
                {"registry.local:5000/app", "registry.local:5000/app:latest"},
                {"quay.io/x/y@sha256:abcd", "quay.io/x/y@sha256:abcd"},
                {"sha256:0123", "sha256:0123"},
        };
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                kl_imagegc_normalize_ref(t[i].in, b, sizeof(b));
                printf("  %s -> %s\n", t[i].in, b);
                ASSERT_STREQ(b, t[i].out);
        }
        ASSERT_EQ(kl_imagegc_normalize_ref("busybox", b, 8), 7);
        ASSERT_STREQ(b, "docker.");
}

/* containerd 1.6's verbose Status: info["config"] is its CRI plugin config */
TEST(sandbox_image_from_containerd_config) {
        char b[256];
        const char *cfg = "{\"containerd\":{\"snapshotter\":\"overlayfs\"},\"cni\":{\"binDir\":\"/usr/lib/cni\"},"
                          "\"sandboxImage\":\"registry.k8s.io/pause:3.6\",\"statsCollectPeriod\":10}";
        ASSERT_OK(kl_imagegc_sandbox_image(cfg, b, sizeof(b)));
        ASSERT_STREQ(b, "registry.k8s.io/pause:3.6");
        ASSERT_OK(kl_imagegc_sandbox_image("{\"sandboxImage\": \"pause\"}", b, sizeof(b)));
        ASSERT_STREQ(b, "docker.io/library/pause:latest");
        ASSERT_ERR(kl_imagegc_sandbox_image("{\"cni\":{}}", b, sizeof(b)), ENOENT);
        ASSERT_ERR(kl_imagegc_sandbox_image(NULL, b, sizeof(b)), ENOENT);
        ASSERT_ERR(kl_imagegc_sandbox_image("{\"sandboxImage\":\"\"}", b, sizeof(b)), EINVAL);
        ASSERT_ERR(kl_imagegc_sandbox_image("{\"sandboxImage\":12}", b, sizeof(b)), EINVAL);
        ASSERT_ERR(kl_imagegc_sandbox_image("{\"sandboxImage\":\"unterminated", b, sizeof(b)), EINVAL);
}

TEST_MAIN()
