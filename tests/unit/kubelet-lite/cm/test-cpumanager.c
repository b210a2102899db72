/* SPDX-License-Identifier: Apache-2.0 */
#include "kubelet-lite/cm/cpumanager.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <string.h>
#include <sys/stat.h>

#include "manifests/pod.h"
#include "tests/lib/tests.h"

#define Mi (1024LL * 1024)
#define UA "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define UB "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define UC "cccccccccccccccccccccccccccccccc"

/* Hand-built pods: no parser involved. */
static struct kl_container ctr(const char *name, int64_t cpu, int64_t mem) {
        struct kl_container c;
        memset(&c, 0, sizeof(c));
        c.name = (char *) name;
        c.image = (char *) "busybox";
        c.resources = (struct kl_resources){cpu, cpu, mem, mem, -1, -1}; /* Guaranteed */
        return c;
}

static struct kl_pod pod(const char *name, const char *uid, struct kl_container *cs, size_t n) {
        struct kl_pod p;
        memset(&p, 0, sizeof(p));
        p.name = (char *) name;
        p.uid = (char *) uid;
        p.containers = cs;
        p.n_containers = n;
        return p;
}

static struct kl_cg_cpuset set(const char *s) {
        struct kl_cg_cpuset c;
        if (kl_cg_cpuset_parse(s, strlen(s), &c) < 0)
                abort();
        return c;
}

static const char *str(const struct kl_cg_cpuset *c) {
        static char buf[8][256];
        static int i;
        i = (i + 1) % 8;
        kl_cg_cpuset_format(c, buf[i], sizeof(buf[i]));
        return buf[i];
}

static const char *cpus_of(const struct kl_cpumanager *m, const char *uid, const char *name) {
        struct kl_cg_cpuset c;
        int r = kl_cpumanager_container_cpus(m, uid, name, &c);
        static char buf[8][300];
        static int i;
        i = (i + 1) % 8;
        snprintf(buf[i], sizeof(buf[i]), "%s%s", r ? "" : "shared:", str(&c));
        return buf[i];
}

static const char *pool(const struct kl_cpumanager *m) {
        struct kl_cg_cpuset c;
        kl_cpumanager_shared_pool(m, &c);
        return str(&c);
}

static int rm1(const char *p, const struct stat *st, int f, struct FTW *w) {
        (void) st;
        (void) f;
        (void) w;
        return remove(p);
}

struct fx {
        char dir[256];
        int dfd;
        struct kl_cg_cpuset online, reserved;
};

static void fx_init(struct fx *f, const char *online, const char *reserved) {
        snprintf(f->dir, sizeof(f->dir), "/tmp/kl-cpumgr.XXXXXX");
        ASSERT_NOT_NULL(mkdtemp(f->dir));
        f->dfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_GE(f->dfd, 0);
        f->online = set(online);
        f->reserved = set(reserved);
}

static void fx_done(struct fx *f) {
        close(f->dfd);
        nftw(f->dir, rm1, 8, FTW_DEPTH | FTW_PHYS);
}

static struct kl_cpumanager *fx_new(struct fx *f) {
        struct kl_cpumanager *m = NULL;
        struct kl_error e = {0};
        if (kl_cpumanager_new(f->dfd, &f->online, &f->reserved, &m, &e) < 0)
                KL__FAIL("kl_cpumanager_new: %s", e.msg);
        return m;
}

static char *state(struct fx *f) {
        static char buf[4096];
        char p[512];
        snprintf(p, sizeof(p), "%s/" KL_CPUMANAGER_STATE_FILE, f->dir);
        FILE *fp = fopen(p, "re");
        if (!fp)
                return NULL;
        size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
        fclose(fp);
        buf[n] = '\0';
        return buf;
}

static void put_state(struct fx *f, const char *content) {
        char p[512];
        snprintf(p, sizeof(p), "%s/" KL_CPUMANAGER_STATE_FILE, f->dir);
        FILE *fp = fopen(p, "we");
        ASSERT_NOT_NULL(fp);
        fputs(content, fp);
        fclose(fp);
}

TEST(needs_reserved_cpus) {
        struct kl_cg_cpuset on = set("0-3"), none = set(""), off = set("4");
        struct kl_cpumanager *m = NULL;
        struct kl_error e = {0};
        ASSERT_ERR(kl_cpumanager_new(-1, &on, &none, &m, &e), EINVAL);
        ASSERT_CONTAINS(e.msg, "needs reserved CPUs");
        ASSERT_ERR(kl_cpumanager_new(-1, &on, &off, &m, &e), EINVAL);
        ASSERT_CONTAINS(e.msg, "not all online");
        ASSERT_NULL(m);
}

TEST(fresh_state_file) {
        struct fx f;
        fx_init(&f, "0-7", "0");
        struct kl_cpumanager *m = fx_new(&f);
        ASSERT_STREQ(pool(m), "1-7");
        ASSERT_CONTAINS(state(&f), "{\"policyName\":\"static\",\"defaultCpuSet\":\"1-7\",\"checksum\":");
        kl_cpumanager_free(m);
        fx_done(&f);
}

TEST(allocate_lowest_first_and_persist) {
        struct fx f;
        struct kl_error e = {0};
        fx_init(&f, "0-7", "0");
        struct kl_cpumanager *m = fx_new(&f);
        struct kl_container cs[] = {ctr("web", 2000, 64 * Mi), ctr("side", 1000, 64 * Mi)};
        struct kl_pod p = pod("web", UA, cs, 2);

        ASSERT_EQ(kl_cpumanager_allocate(m, &p, &e), 1);
        ASSERT_STREQ(cpus_of(m, UA, "web"), "1-2");
        ASSERT_STREQ(cpus_of(m, UA, "side"), "3");
        ASSERT_STREQ(cpus_of(m, UA, "other"), "shared:4-7");
        ASSERT_STREQ(pool(m), "4-7");
        ASSERT_EQ(kl_cpumanager_allocate(m, &p, &e), 0); /* idempotent */
        const char *s = state(&f);
        ASSERT_CONTAINS(s, "{\"policyName\":\"static\",\"defaultCpuSet\":\"4-7\","
                           "\"entries\":{\"" UA "\":{\"side\":\"3\",\"web\":\"1-2\"}},\"checksum\":");
        printf("  state: %s", s);

        /* a restart finds the same assignment */
        kl_cpumanager_free(m);
        m = fx_new(&f);
        ASSERT_STREQ(cpus_of(m, UA, "web"), "1-2");
        ASSERT_STREQ(cpus_of(m, UA, "side"), "3");
        ASSERT_STREQ(pool(m), "4-7");

        /* a second pod gets the next CPUs */
        struct kl_container cs2[] = {ctr("db", 3000, 64 * Mi)};
        struct kl_pod p2 = pod("db", UB, cs2, 1);
        ASSERT_EQ(kl_cpumanager_allocate(m, &p2, &e), 1);
        ASSERT_STREQ(cpus_of(m, UB, "db"), "4-6");
        ASSERT_STREQ(pool(m), "7");

        /* release returns them */
        ASSERT_EQ(kl_cpumanager_release(m, UA, &e), 1);
        ASSERT_EQ(kl_cpumanager_release(m, UA, &e), 0);
        ASSERT_STREQ(pool(m), "1-3,7");
        ASSERT_STREQ(cpus_of(m, UA, "web"), "shared:1-3,7");
        kl_cpumanager_free(m);
        m = fx_new(&f);
        ASSERT_STREQ(cpus_of(m, UB, "db"), "4-6");
        ASSERT_STREQ(pool(m), "1-3,7");
        kl_cpumanager_free(m);
        fx_done(&f);
}

TEST(only_guaranteed_integer_requests) {
        struct fx f;
        struct kl_error e = {0};
        fx_init(&f, "0-3", "0");
        struct kl_cpumanager *m = fx_new(&f);

        struct kl_container frac[] = {ctr("a", 1500, 64 * Mi), ctr("b", 1000, 64 * Mi)};
        struct kl_pod p = pod("frac", UA, frac, 2);
        ASSERT_EQ(kl_cpumanager_container_wants(&p, &frac[0]), 0);
        ASSERT_EQ(kl_cpumanager_container_wants(&p, &frac[1]), 1);
        ASSERT_EQ(kl_cpumanager_allocate(m, &p, &e), 1);
        ASSERT_STREQ(cpus_of(m, UA, "a"), "shared:2-3");
        ASSERT_STREQ(cpus_of(m, UA, "b"), "1");

        struct kl_container burst[] = {ctr("a", 1000, 64 * Mi)};
        burst[0].resources.cpu_limit_milli = 2000; /* request != limit: Burstable */
        struct kl_pod pb = pod("burst", UB, burst, 1);
        ASSERT_EQ(kl_cpumanager_container_wants(&pb, &burst[0]), 0);
        ASSERT_EQ(kl_cpumanager_allocate(m, &pb, &e), 0);
        ASSERT_STREQ(pool(m), "2-3");
        kl_cpumanager_free(m);
        fx_done(&f);
}

TEST(not_enough_cpus) {
        struct fx f;
        struct kl_error e = {0};
        fx_init(&f, "0-3", "0");
        struct kl_cpumanager *m = fx_new(&f);
        struct kl_container cs[] = {ctr("a", 4000, 64 * Mi)};
        struct kl_pod p = pod("big", UA, cs, 1);

        ASSERT_ERR(kl_cpumanager_allocate(m, &p, &e), ENOSPC);
        ASSERT_STREQ(e.msg, "not enough free CPUs: pod 'big' needs 4 exclusive CPUs, 3 available");
        ASSERT_STREQ(pool(m), "1-3");
        ASSERT_NULL(strstr(state(&f), "entries"));
        kl_cpumanager_free(m);
        fx_done(&f);
}

TEST(shared_pool_falls_back_to_reserved) {
        struct fx f;
        struct kl_error e = {0};
        fx_init(&f, "0-1", "0");
        struct kl_cpumanager *m = fx_new(&f);
        struct kl_container cs[] = {ctr("a", 1000, 64 * Mi)};
        struct kl_pod p = pod("one", UA, cs, 1);

        ASSERT_EQ(kl_cpumanager_allocate(m, &p, &e), 1);
        ASSERT_STREQ(cpus_of(m, UA, "a"), "1");
        /* all - reserved - assigned is empty: shared containers use the reserved CPU */
        ASSERT_STREQ(pool(m), "0");
        kl_cpumanager_free(m);
        fx_done(&f);
}

TEST(init_containers_and_sidecars) {
        struct fx f;
        struct kl_error e = {0};
        fx_init(&f, "0-7", "0");
        struct kl_cpumanager *m = fx_new(&f);
        struct kl_container init[] = {ctr("i1", 3000, Mi), ctr("s", 1000, Mi), ctr("i2", 2000, Mi)};
        struct kl_container app[] = {ctr("a", 1000, Mi)};
        struct kl_pod p = pod("p", UA, app, 1);

        init[1].restart_policy = KL_RESTART_ALWAYS; /* a sidecar */
        p.init_containers = init;
        p.n_init_containers = 3;
        ASSERT_EQ(kl_cpumanager_allocate(m, &p, &e), 1);
        /* the pod holds max(3, 1+2, 1+1) = 3 CPUs: 1-3 */
        ASSERT_STREQ(cpus_of(m, UA, "i1"), "1-3");
        ASSERT_STREQ(cpus_of(m, UA, "s"), "1");
        ASSERT_STREQ(cpus_of(m, UA, "i2"), "2-3"); /* never on the sidecar's CPU */
        ASSERT_STREQ(cpus_of(m, UA, "a"), "2");    /* nor the app container */
        ASSERT_STREQ(pool(m), "4-7");
        printf("  init i1=1-3, sidecar s=1, init i2=2-3, app a=2\n");
        kl_cpumanager_free(m);
        fx_done(&f);
}

TEST(retain_only_at_start) {
        struct fx f;
        struct kl_error e = {0};
        fx_init(&f, "0-7", "0");
        struct kl_cpumanager *m = fx_new(&f);
        struct kl_container a[] = {ctr("x", 1000, Mi)}, b[] = {ctr("x", 1000, Mi), ctr("y", 1000, Mi)},
                            c[] = {ctr("x", 1000, Mi)};
        struct kl_pod pa = pod("a", UA, a, 1), pb = pod("b", UB, b, 2), pc = pod("c", UC, c, 1);

        ASSERT_EQ(kl_cpumanager_allocate(m, &pa, &e), 1);
        ASSERT_EQ(kl_cpumanager_allocate(m, &pb, &e), 1);
        ASSERT_EQ(kl_cpumanager_allocate(m, &pc, &e), 1);
        ASSERT_STREQ(pool(m), "5-7");
        const char *keep[] = {UB};
        ASSERT_EQ(kl_cpumanager_retain_only(m, keep, 1, &e), 2);
        ASSERT_STREQ(cpus_of(m, UB, "x"), "2");
        ASSERT_STREQ(cpus_of(m, UB, "y"), "3");
        ASSERT_STREQ(pool(m), "1,4-7");
        ASSERT_EQ(kl_cpumanager_retain_only(m, keep, 1, &e), 0);
        kl_cpumanager_free(m);
        fx_done(&f);
}

TEST(state_file_rejections) {
        struct fx f;
        struct kl_cpumanager *m = NULL;
        struct kl_error e = {0};
        fx_init(&f, "0-7", "0");

        put_state(&f, "{\"policyName\":\"none\",\"defaultCpuSet\":\"\",\"checksum\":1}");
        ASSERT_ERR(kl_cpumanager_new(f.dfd, &f.online, &f.reserved, &m, &e), EINVAL);
        ASSERT_CONTAINS(e.msg, "differs from the state file's policy \"none\"");
        printf("  %s\n", e.msg);

        /* a good file, then tampered with */
        char sp[512];
        snprintf(sp, sizeof(sp), "%s/" KL_CPUMANAGER_STATE_FILE, f.dir);
        ASSERT_OK(unlink(sp));
        m = fx_new(&f);
        struct kl_container cs[] = {ctr("web", 2000, Mi)};
        struct kl_pod p = pod("web", UA, cs, 1);
        ASSERT_EQ(kl_cpumanager_allocate(m, &p, &e), 1);
        kl_cpumanager_free(m);
        m = NULL;
        char good[4096];
        snprintf(good, sizeof(good), "%s", state(&f));
        char *bad = strdup(good);
        *strstr(bad, "\"1-2\"") = '\0';
        char tampered[4096];
        snprintf(tampered, sizeof(tampered), "%s\"1-3\"%s", bad, strstr(good, "\"1-2\"") + 5);
        free(bad);
        put_state(&f, tampered);
        ASSERT_ERR(kl_cpumanager_new(f.dfd, &f.online, &f.reserved, &m, &e), EBADMSG);
        ASSERT_CONTAINS(e.msg, "checksum mismatch");

        /* the CPUs changed under us: entries on a now reserved CPU */
        put_state(&f, good);
        struct kl_cg_cpuset res2 = set("0-1");
        ASSERT_ERR(kl_cpumanager_new(f.dfd, &f.online, &res2, &m, &e), EINVAL);
        ASSERT_CONTAINS(e.msg, "offline or reserved");
        /* the good one still loads */
        m = fx_new(&f);
        ASSERT_STREQ(cpus_of(m, UA, "web"), "1-2");
        kl_cpumanager_free(m);
        fx_done(&f);
}

static int from_state(const char *s, struct kl_error *e) {
        struct kl_cg_cpuset on = set("0-7"), res = set("0");
        struct kl_cpumanager *m = NULL;
        int r = kl_cpumanager_new_from_state(s, strlen(s), &on, &res, &m, e);
        kl_cpumanager_free(m);
        return r;
}

TEST(state_parser_is_strict_and_capped) {
        struct kl_error e = {0};
        const char *bad[] = {
                "",
                "[]",
                "{",
                "{\"policyName\":\"static\"",
                "{\"policyName\":\"static\",}",
                "{\"policyName\":static}",
                "{\"policyName\":\"static\",\"checksum\":1} trailing",
                "{\"policyName\":\"static\",\"entries\":{\"u\":{\"c\":\"x\"}},\"checksum\":1}",
                "{\"policyName\":\"static\",\"entries\":{\"u\":{\"C\":\"1\"}},\"checksum\":1}",
                "{\"policyName\":\"static\",\"entries\":{\"u/x\":{\"c\":\"1\"}},\"checksum\":1}",
                "{\"policyName\":\"static\",\"entries\":{\"u\":{\"c\":\"1\",\"c\":\"2\"}},\"checksum\":1}",
                "{\"policyName\":\"st\\u00e9tic\",\"checksum\":1}",
                "{\"x\":[[[[[[[[[[[[1]]]]]]]]]]]],\"policyName\":\"static\",\"checksum\":1}",
                "{\"policyName\":\"static\"}",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                int r = from_state(bad[i], &e);
                if (r >= 0)
                        KL__FAIL("accepted bad state #%zu: %s", i, bad[i]);
                ASSERT_CONTAINS(e.msg, KL_CPUMANAGER_STATE_FILE);
        }
        printf("  %zu malformed state files rejected\n", sizeof(bad) / sizeof(bad[0]));
}

static uint32_t fnv(const char *s) {
        uint32_t h = 2166136261u;
        for (; *s; s++) {
                h ^= (unsigned char) *s;
                h *= 16777619u;
        }
        return h;
}

TEST(state_roundtrip_and_unknown_keys) {
        struct kl_cg_cpuset on = set("0-7"), res = set("0");
        struct kl_cpumanager *m = NULL, *m2 = NULL;
        struct kl_error e = {0};
        struct kl_container cs[] = {ctr("a", 2000, Mi)};
        struct kl_pod p = pod("p", UA, cs, 1);
        char *s = NULL, file[1024];
        size_t n;

        ASSERT_OK(kl_cpumanager_new(-1, &on, &res, &m, &e));
        ASSERT_EQ(kl_cpumanager_allocate(m, &p, &e), 1);
        ASSERT_OK(kl_cpumanager_format_state(m, &s, &n));
        ASSERT_EQ(strlen(s), n);
        ASSERT_OK(kl_cpumanager_new_from_state(s, n, &on, &res, &m2, &e));
        ASSERT_STREQ(cpus_of(m2, UA, "a"), "1-2");
        kl_cpumanager_free(m2);
        m2 = NULL;
        free(s);
        kl_cpumanager_free(m);

        /* Unknown members are skipped, whitespace is fine, defaultCpuSet is
         * recomputed. The checksum is FNV-1a 32 over the bytes before
         * ',"checksum":' plus a closing brace. */
        const char *body = "{ \"policyName\" : \"static\",\n \"extra\": {\"a\": [1, -2, {\"b\": null}], "
                           "\"t\": true},\n \"defaultCpuSet\": \"9\",\n \"entries\": { \"" UA "\": "
                           "{ \"a\": \"3-4\" } }";
        char closed[1024];
        snprintf(closed, sizeof(closed), "%s}", body);
        snprintf(file, sizeof(file), "%s,\"checksum\":%u}\n", body, fnv(closed));
        ASSERT_OK(kl_cpumanager_new_from_state(file, strlen(file), &on, &res, &m2, &e));
        ASSERT_STREQ(cpus_of(m2, UA, "a"), "3-4");
        ASSERT_STREQ(pool(m2), "1-2,5-7");
        kl_cpumanager_free(m2);
        m2 = NULL;
        /* one byte off and it is corrupt */
        file[1] = '\t';
        ASSERT_ERR(kl_cpumanager_new_from_state(file, strlen(file), &on, &res, &m2, &e), EBADMSG);
}

TEST(reserved_from_milli) {
        struct kl_cg_cpuset on = set("0-3"), r;
        ASSERT_OK(kl_cpumanager_reserved_from_milli(&on, 1500, &r));
        ASSERT_STREQ(str(&r), "0-1");
        ASSERT_OK(kl_cpumanager_reserved_from_milli(&on, 1000, &r));
        ASSERT_STREQ(str(&r), "0");
        ASSERT_OK(kl_cpumanager_reserved_from_milli(&on, 0, &r));
        ASSERT_STREQ(str(&r), "");
        ASSERT_ERR(kl_cpumanager_reserved_from_milli(&on, 4001, &r), ENOSPC);
}

TEST_MAIN()
