/* SPDX-License-Identifier: Apache-2.0 */
/* The device manager's bookkeeping: capacity and health, admission
 * (OutOf<resource>, UnexpectedAdmissionError), allocation with init
 * container devices reused, release, and the checkpoint in upstream's
 * kubelet_internal_checkpoint layout, round trip and corruption. */
#include "kubelet-lite/cm/devicestate.h"

#include <errno.h>
#include <string.h>

#include "tests/lib/tests.h"

#define RES "example.com/dongle"

static struct kl_extended_resource one_dongle[] = {{(char *) RES, 1}};
static struct kl_extended_resource two_dongles[] = {{(char *) RES, 2}};

static struct kl_container ctr(const char *name, struct kl_extended_resource *ext) {
        struct kl_container c;

        memset(&c, 0, sizeof(c));
        c.name = (char *) name;
        c.image = (char *) "busybox";
        c.resources = (struct kl_resources){-1, -1, -1, -1, -1, -1};
        c.extended = ext;
        c.n_extended = ext ? 1 : 0;
        return c;
}

static struct kl_pod pod(const char *uid, struct kl_container *cs, size_t n, struct kl_container *init, size_t ni) {
        struct kl_pod p;

        memset(&p, 0, sizeof(p));
        p.name = (char *) uid;
        p.namespace = (char *) "default";
        p.uid = (char *) uid;
        p.containers = cs;
        p.n_containers = n;
        p.init_containers = init;
        p.n_init_containers = ni;
        p.restart_policy = KL_RESTART_ALWAYS;
        return p;
}

static void set3(struct kl_devstate *st, bool h0, bool h1, bool h2) {
        char *ids[] = {(char *) "d2", (char *) "d0", (char *) "d1"};
        bool health[] = {h2, h0, h1};

        ASSERT_OK(kl_devstate_set_devices(st, RES, ids, health, 3));
}

static const char *ids_of(struct kl_devstate *st, const char *uid, const char *c, char *buf, size_t n) {
        const struct kl_devstate_alloc *a[4];
        size_t k = kl_devstate_container_allocs(st, uid, c, a, 4);

        buf[0] = '\0';
        for (size_t i = 0; i < k; i++)
                for (size_t j = 0; j < a[i]->n_ids; j++) {
                        strncat(buf, a[i]->ids[j], n - strlen(buf) - 2);
                        strcat(buf, " ");
                }
        return buf;
}

TEST(capacity_and_health) {
        struct kl_devstate *st = NULL;
        const char *name;
        int64_t cap, alloc;

        ASSERT_OK(kl_devstate_new(&st));
        ASSERT_FALSE(kl_devstate_capacity(st, 0, &name, &cap, &alloc));
        set3(st, true, false, true);
        ASSERT_TRUE(kl_devstate_capacity(st, 0, &name, &cap, &alloc));
        ASSERT_STREQ(name, RES);
        ASSERT_EQ(cap, 3);
        ASSERT_EQ(alloc, 2);
        printf("  3 devices, 1 unhealthy: capacity 3, allocatable 2\n");
        kl_devstate_mark_unhealthy(st, RES);
        ASSERT_TRUE(kl_devstate_capacity(st, 0, &name, &cap, &alloc));
        ASSERT_EQ(cap, 3);
        ASSERT_EQ(alloc, 0);
        printf("  plugin gone: capacity 3, allocatable 0\n");
        kl_devstate_remove_resource(st, RES);
        ASSERT_FALSE(kl_devstate_has_resource(st, RES));
        ASSERT_FALSE(kl_devstate_capacity(st, 0, &name, &cap, &alloc));
        printf("  after the grace period: the resource is gone\n");
        kl_devstate_free(st);
}

TEST(admit_allocate_release) {
        struct kl_devstate *st = NULL;
        char reason[KL_DEVSTATE_REASON_MAX], msg[KL_DEVSTATE_MESSAGE_MAX], buf[128];
        struct kl_container ca = ctr("a", one_dongle), cb = ctr("b", two_dongles), cn = ctr("n", NULL);
        struct kl_pod pa = pod("uid-a", &ca, 1, NULL, 0), pb = pod("uid-b", &cb, 1, NULL, 0);
        struct kl_pod pn = pod("uid-n", &cn, 1, NULL, 0);
        const struct kl_pod *admitted[4];

        ASSERT_OK(kl_devstate_new(&st));
        ASSERT_FALSE(kl_devstate_admit(st, &pa, NULL, 0, reason, msg));
        ASSERT_STREQ(reason, "OutOf" RES);
        ASSERT_STREQ(msg, "Node didn't have enough resource: " RES ", requested: 1, used: 0, capacity: 0");
        printf("  no plugin yet: %s (%s)\n", reason, msg);
        ASSERT_TRUE(kl_devstate_admit(st, &pn, NULL, 0, reason, msg));
        ASSERT_STREQ(reason, "");
        printf("  a pod asking for no device is admitted\n");

        set3(st, true, true, false);
        ASSERT_TRUE(kl_devstate_admit(st, &pa, NULL, 0, reason, msg));
        ASSERT_STREQ(ids_of(st, "uid-a", "a", buf, sizeof(buf)), "d0 ");
        ASSERT_EQ(kl_devstate_n_allocated(st, RES), 1);
        printf("  pod a gets d0 (healthy, in ID order)\n");
        admitted[0] = &pa;
        ASSERT_FALSE(kl_devstate_admit(st, &pb, admitted, 1, reason, msg));
        ASSERT_STREQ(reason, "OutOf" RES);
        ASSERT_STREQ(msg, "Node didn't have enough resource: " RES ", requested: 2, used: 1, capacity: 2");
        ASSERT_EQ(kl_devstate_container_allocs(st, "uid-b", "b", (const struct kl_devstate_alloc *[1]){0}, 1), 0);
        printf("  pod b (2) does not fit next to a: %s\n", msg);

        /* the unhealthy device comes back: b fits, and never gets d0 */
        set3(st, true, true, true);
        ASSERT_TRUE(kl_devstate_admit(st, &pb, admitted, 1, reason, msg));
        ASSERT_STREQ(ids_of(st, "uid-b", "b", buf, sizeof(buf)), "d1 d2 ");
        printf("  d2 healthy again: pod b gets d1 d2\n");

        /* a pod holding devices, not admitted yet (a restart): counted as used */
        struct kl_container cc = ctr("c", one_dongle);
        struct kl_pod pc = pod("uid-c", &cc, 1, NULL, 0);
        ASSERT_FALSE(kl_devstate_admit(st, &pc, admitted, 1, reason, msg));
        ASSERT_STREQ(msg, "Node didn't have enough resource: " RES ", requested: 1, used: 3, capacity: 3");
        printf("  devices held by a pod not admitted again yet count as used: %s\n", msg);

        ASSERT_EQ(kl_devstate_release_pod(st, "uid-a"), 1);
        admitted[1] = &pb;
        ASSERT_TRUE(kl_devstate_admit(st, &pc, admitted + 1, 1, reason, msg));
        ASSERT_STREQ(ids_of(st, "uid-c", "c", buf, sizeof(buf)), "d0 ");
        printf("  a released: pod c gets d0\n");

        const char *keep[] = {"uid-c"};
        ASSERT_EQ(kl_devstate_retain(st, keep, 1), 1);
        ASSERT_EQ(kl_devstate_n_allocated(st, RES), 1);
        printf("  retain(uid-c) frees b's allocation\n");
        kl_devstate_free(st);
}

TEST(unexpected_admission_error) {
        struct kl_devstate *st = NULL;
        char reason[KL_DEVSTATE_REASON_MAX], msg[KL_DEVSTATE_MESSAGE_MAX];
        struct kl_extended_resource three[] = {{(char *) RES, 3}};
        struct kl_container ca = ctr("a", one_dongle), cx = ctr("x", three);
        struct kl_pod pa = pod("uid-a", &ca, 1, NULL, 0), px = pod("uid-x", &cx, 1, NULL, 0);
        const struct kl_pod *admitted[1] = {&pa};

        ASSERT_OK(kl_devstate_new(&st));
        set3(st, true, true, true);
        ASSERT_TRUE(kl_devstate_admit(st, &pa, NULL, 0, reason, msg));
        ASSERT_FALSE(kl_devstate_admit(st, &px, admitted, 1, reason, msg));
        ASSERT_STREQ(reason, "OutOf" RES);
        /* a's spec no longer counts the device it holds: the predicate
         * passes, the allocation cannot */
        ca.n_extended = 0;
        ASSERT_FALSE(kl_devstate_admit(st, &px, admitted, 1, reason, msg));
        ASSERT_STREQ(reason, "UnexpectedAdmissionError");
        ASSERT_STREQ(msg, "Allocate failed due to requested number of devices unavailable for " RES
                          ". Requested: 3, Available: 2, which is unexpected");
        ASSERT_EQ(kl_devstate_n_allocated(st, RES), 1);
        printf("  predicate passes, devices do not: %s: %s (nothing half-allocated)\n", reason, msg);
        kl_devstate_free(st);
}

TEST(init_container_devices_reused) {
        struct kl_devstate *st = NULL;
        char reason[KL_DEVSTATE_REASON_MAX], msg[KL_DEVSTATE_MESSAGE_MAX], buf[128];
        struct kl_container init = ctr("init", two_dongles), app = ctr("app", one_dongle);
        struct kl_pod p = pod("uid-p", &app, 1, &init, 1);

        ASSERT_OK(kl_devstate_new(&st));
        set3(st, true, true, true);
        ASSERT_EQ(kl_devstate_pod_request(&p, RES), 2);
        ASSERT_TRUE(kl_devstate_admit(st, &p, NULL, 0, reason, msg));
        ASSERT_STREQ(ids_of(st, "uid-p", "init", buf, sizeof(buf)), "d0 d1 ");
        ASSERT_STREQ(ids_of(st, "uid-p", "app", buf, sizeof(buf)), "d0 ");
        ASSERT_EQ(kl_devstate_n_allocated(st, RES), 3);
        printf("  init (2) gets d0 d1, the app container (1) reuses d0; effective request 2\n");
        kl_devstate_free(st);
}

TEST(checkpoint_round_trip) {
        struct kl_devstate *st = NULL, *st2 = NULL;
        char reason[KL_DEVSTATE_REASON_MAX], msg[KL_DEVSTATE_MESSAGE_MAX], buf[128];
        struct kl_container ca = ctr("a", two_dongles);
        struct kl_pod pa = pod("uid-a", &ca, 1, NULL, 0);
        const uint8_t resp[] = {0x1a, 0x05, 0x0a, 0x01, '/', 0x12, 0x00, 0xff};
        struct kl_buf b = {0}, b2 = {0};
        const struct kl_devstate_alloc *a[2];
        struct kl_error e = {0};
        const char *name;
        int64_t cap, alloc;

        ASSERT_OK(kl_devstate_new(&st));
        set3(st, true, true, true);
        ASSERT_TRUE(kl_devstate_admit(st, &pa, NULL, 0, reason, msg));
        ASSERT_OK(kl_devstate_set_response(st, "uid-a", "a", RES, resp, sizeof(resp)));
        kl_devstate_to_json(st, &b);
        ASSERT_FALSE(b.oom);
        printf("  %.*s", (int) b.len, b.data);
        ASSERT_CONTAINS(b.data, "{\"Data\":{\"PodDeviceEntries\":[{\"PodUID\":\"uid-a\",\"ContainerName\":\"a\","
                                "\"ResourceName\":\"" RES "\",\"DeviceIDs\":{\"-1\":[\"d0\",\"d1\"]},"
                                "\"AllocResp\":\"GgUKAS8SAP8=\"}],"
                                "\"RegisteredDevices\":{\"" RES "\":[\"d0\",\"d1\",\"d2\"]}},\"Checksum\":");

        ASSERT_OK(kl_devstate_new(&st2));
        ASSERT_OK(kl_devstate_from_json(st2, b.data, b.len, &e));
        ASSERT_EQ(kl_devstate_container_allocs(st2, "uid-a", "a", a, 2), 1);
        ASSERT_STREQ(ids_of(st2, "uid-a", "a", buf, sizeof(buf)), "d0 d1 ");
        ASSERT_EQ(a[0]->resp_len, sizeof(resp));
        ASSERT_TRUE(memcmp(a[0]->resp, resp, sizeof(resp)) == 0);
        ASSERT_TRUE(kl_devstate_capacity(st2, 0, &name, &cap, &alloc));
        ASSERT_EQ(cap, 3);
        ASSERT_EQ(alloc, 0);
        printf("  reloaded: allocation and AllocResp kept; registered devices unhealthy until the plugin is back\n");
        kl_devstate_to_json(st2, &b2);
        ASSERT_TRUE(b2.len == b.len);

        /* one byte changed in Data: the checksum refuses it */
        char *bad = strdup(b.data);
        char *p = strstr(bad, "\"d1\"");
        p[2] = '9';
        ASSERT_ERR(kl_devstate_from_json(st2, bad, b.len, &e), EBADMSG);
        ASSERT_CONTAINS(e.msg, "checksum");
        ASSERT_EQ(kl_devstate_container_allocs(st2, "uid-a", "a", a, 2), 0);
        printf("  a changed byte: %s, nothing loaded\n", e.msg);
        ASSERT_ERR(kl_devstate_from_json(st2, "{\"Data\":", 8, &e), EBADMSG);
        ASSERT_ERR(kl_devstate_from_json(st2, "[]", 2, &e), EBADMSG);
        printf("  truncated or foreign JSON: -EBADMSG\n");
        free(bad);
        kl_buf_free_contents(&b);
        kl_buf_free_contents(&b2);
        kl_devstate_free(st);
        kl_devstate_free(st2);
}

TEST(base64) {
        static const struct {
                const char *in, *out;
        } t[] = {{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}};
        uint8_t *dec;
        size_t n;

        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                struct kl_buf b = {0};
                kl_devstate_base64_encode((const uint8_t *) t[i].in, strlen(t[i].in), &b);
                ASSERT_TRUE(b.len == strlen(t[i].out) && (b.len == 0 || memcmp(b.data, t[i].out, b.len) == 0));
                ASSERT_OK(kl_devstate_base64_decode(t[i].out, strlen(t[i].out), &dec, &n));
                ASSERT_TRUE(n == strlen(t[i].in) && memcmp(dec, t[i].in, n) == 0);
                free(dec);
                kl_buf_free_contents(&b);
        }
        ASSERT_ERR(kl_devstate_base64_decode("Zm9", 3, &dec, &n), EBADMSG);
        ASSERT_ERR(kl_devstate_base64_decode("Z=9v", 4, &dec, &n), EBADMSG);
        ASSERT_ERR(kl_devstate_base64_decode("Zm9*", 4, &dec, &n), EBADMSG);
        printf("  RFC 4648 test vectors both ways; bad length, inner '=', bad character refused\n");
}

TEST_MAIN()
