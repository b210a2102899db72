/* SPDX-License-Identifier: Apache-2.0 */
#include "kubelet-lite/cm/admission.h"

#include <string.h>

#include "manifests/pod.h"
#include "tests/lib/tests.h"

/* Hand-built pods: no parser involved. */
#define Mi (1024LL * 1024)

/* cpu in milli, memory in bytes, -1 for "not given" */
static inline struct kl_container fx_ctr(const char *name, int64_t cpu_req, int64_t cpu_lim, int64_t mem_req,
                                         int64_t mem_lim) {
        struct kl_container c;
        memset(&c, 0, sizeof(c));
        c.name = (char *) name;
        c.image = (char *) "busybox";
        c.resources = (struct kl_resources){cpu_req, cpu_lim, mem_req, mem_lim, -1, -1};
        return c;
}

static inline struct kl_pod fx_pod(const char *name, const char *uid, struct kl_container *cs, size_t n) {
        struct kl_pod p;
        memset(&p, 0, sizeof(p));
        p.name = (char *) name;
        p.namespace = (char *) "default";
        p.uid = (char *) uid;
        p.containers = cs;
        p.n_containers = n;
        p.restart_policy = KL_RESTART_ALWAYS;
        return p;
}

static const struct kl_cg_allocatable alloc512 = {
        .cpu_milli = 2000, .memory = 512 * Mi, .pods = 110, .ephemeral_storage = -1};

TEST(fits_memory_message_as_upstream) {
        struct kl_admission_usage used = {.cpu_milli = 0, .memory = 384 * Mi, .pods = 1};
        struct kl_admission_request req = {.memory = 256 * Mi};
        struct kl_admission_result r;

        ASSERT_FALSE(kl_admission_fits(&alloc512, &used, &req, &r));
        ASSERT_FALSE(r.admitted);
        ASSERT_STREQ(r.reason, "OutOfmemory");
        ASSERT_STREQ(r.message, "Node didn't have enough resource: memory, requested: 268435456, "
                                "used: 402653184, capacity: 536870912");
        printf("  %s: %s\n", r.reason, r.message);
}

TEST(fits_cpu_then_memory_order) {
        struct kl_admission_usage used = {.cpu_milli = 1500, .memory = 384 * Mi, .pods = 1};
        struct kl_admission_request req = {.cpu_milli = 600, .memory = 256 * Mi};
        struct kl_admission_result r;

        ASSERT_FALSE(kl_admission_fits(&alloc512, &used, &req, &r));
        ASSERT_STREQ(r.reason, "OutOfcpu");
        ASSERT_STREQ(r.message, "Node didn't have enough resource: cpu, requested: 600, used: 1500, "
                                "capacity: 2000");
        req.cpu_milli = 500; /* exactly what is left fits */
        ASSERT_FALSE(kl_admission_fits(&alloc512, &used, &req, &r));
        ASSERT_STREQ(r.reason, "OutOfmemory");
        req.memory = 128 * Mi;
        ASSERT_TRUE(kl_admission_fits(&alloc512, &used, &req, &r));
        ASSERT_TRUE(r.admitted);
        ASSERT_STREQ(r.reason, "");
}

TEST(fits_pods_first) {
        struct kl_cg_allocatable a = alloc512;
        struct kl_admission_usage used = {.cpu_milli = 2000, .pods = 2};
        struct kl_admission_request req = {.cpu_milli = 100};
        struct kl_admission_result r;

        a.pods = 2;
        ASSERT_FALSE(kl_admission_fits(&a, &used, &req, &r));
        ASSERT_STREQ(r.reason, "OutOfpods");
        ASSERT_STREQ(r.message, "Node didn't have enough resource: pods, requested: 1, used: 2, capacity: 2");
}

TEST(fits_zero_request_needs_only_a_slot) {
        struct kl_admission_usage used = {.cpu_milli = 5000, .memory = 10000 * Mi, .pods = 3};
        struct kl_admission_request req = {0};
        struct kl_admission_result r;
        ASSERT_TRUE(kl_admission_fits(&alloc512, &used, &req, &r));
        /* but any request is checked against what is left, even overcommitted */
        req.memory = 1;
        ASSERT_FALSE(kl_admission_fits(&alloc512, &used, &req, &r));
        ASSERT_STREQ(r.reason, "OutOfmemory");
}

TEST(fits_ephemeral_storage) {
        struct kl_cg_allocatable a = alloc512;
        struct kl_admission_usage used = {.ephemeral_storage = 900};
        struct kl_admission_request req = {.ephemeral_storage = 200};
        struct kl_admission_result r;

        ASSERT_TRUE(kl_admission_fits(&a, &used, &req, &r)); /* unknown capacity: not checked */
        a.ephemeral_storage = 1000;
        ASSERT_FALSE(kl_admission_fits(&a, &used, &req, &r));
        ASSERT_STREQ(r.reason, "OutOfephemeral-storage");
        ASSERT_CONTAINS(r.message, "ephemeral-storage, requested: 200, used: 900, capacity: 1000");
}

TEST(check_pods_effective_requests) {
        struct kl_container c1[] = {fx_ctr("a", 500, -1, 256 * Mi, -1)};
        struct kl_container c2[] = {fx_ctr("b", 250, 250, 128 * Mi, 128 * Mi),
                                    fx_ctr("c", 250, 250, 128 * Mi, 128 * Mi)};
        struct kl_container init[] = {fx_ctr("init", 1000, -1, 300 * Mi, -1)};
        struct kl_pod p1 = fx_pod("p1", "u1", c1, 1), p2 = fx_pod("p2", "u2", c2, 2);
        struct kl_admission_request req;
        struct kl_admission_result r;

        kl_admission_pod_request(&p2, &req);
        ASSERT_EQ(req.cpu_milli, 500);
        ASSERT_EQ(req.memory, 256 * Mi);
        /* an init container asking more than the app containers together */
        p2.init_containers = init;
        p2.n_init_containers = 1;
        kl_admission_pod_request(&p2, &req);
        ASSERT_EQ(req.cpu_milli, 1000);
        ASSERT_EQ(req.memory, 300 * Mi);

        const struct kl_pod *admitted[] = {&p1};
        ASSERT_FALSE(kl_admission_check(&alloc512, admitted, 1, &p2, &r));
        ASSERT_STREQ(r.reason, "OutOfmemory");
        ASSERT_STREQ(r.message, "Node didn't have enough resource: memory, requested: 314572800, "
                                "used: 268435456, capacity: 536870912");
        p2.n_init_containers = 0;
        ASSERT_TRUE(kl_admission_check(&alloc512, admitted, 1, &p2, &r));
}

TEST(run_in_manifest_order) {
        /* 512Mi: a 300Mi, b 300Mi (does not fit after a), c 200Mi (fits) */
        struct kl_container ca[] = {fx_ctr("x", -1, -1, 300 * Mi, -1)};
        struct kl_container cb[] = {fx_ctr("x", -1, -1, 300 * Mi, -1)};
        struct kl_container cc[] = {fx_ctr("x", -1, -1, 200 * Mi, -1)};
        struct kl_pod a = fx_pod("a", "ua", ca, 1), b = fx_pod("b", "ub", cb, 1), c = fx_pod("c", "uc", cc, 1);
        const struct kl_pod *pods[] = {&a, &b, &c};
        struct kl_admission_result res[3];

        kl_admission_run(&alloc512, pods, NULL, 3, res);
        ASSERT_TRUE(res[0].admitted);
        ASSERT_FALSE(res[1].admitted);
        ASSERT_STREQ(res[1].reason, "OutOfmemory");
        ASSERT_STREQ(res[1].message, "Node didn't have enough resource: memory, requested: 314572800, "
                                     "used: 314572800, capacity: 536870912");
        ASSERT_TRUE(res[2].admitted);
        printf("  a admitted, b rejected (%s), c admitted\n", res[1].reason);

        /* a goes away: b gets in on the next run; c keeps running */
        const struct kl_pod *after[] = {&b, &c};
        bool running[] = {false, true};
        kl_admission_run(&alloc512, after, running, 2, res);
        ASSERT_TRUE(res[0].admitted);
        ASSERT_TRUE(res[1].admitted);
}

TEST(run_never_evicts_running_pods) {
        /* a new, earlier manifest must not push out a running pod */
        struct kl_container cbig[] = {fx_ctr("x", -1, -1, 400 * Mi, -1)};
        struct kl_container crun[] = {fx_ctr("x", -1, -1, 300 * Mi, -1)};
        struct kl_pod big = fx_pod("big", "ubig", cbig, 1), run = fx_pod("run", "urun", crun, 1);
        const struct kl_pod *pods[] = {&big, &run};
        bool running[] = {false, true};
        struct kl_admission_result res[2];

        kl_admission_run(&alloc512, pods, running, 2, res);
        ASSERT_FALSE(res[0].admitted);
        ASSERT_TRUE(res[1].admitted);
        ASSERT_CONTAINS(res[0].message, "used: 314572800");

        /* already admitted pods stay admitted even past allocatable */
        struct kl_cg_allocatable small = alloc512;
        small.memory = 100 * Mi;
        bool both[] = {true, true};
        kl_admission_run(&small, pods, both, 2, res);
        ASSERT_TRUE(res[0].admitted && res[1].admitted);
}

TEST(run_max_pods) {
        struct kl_container cs[] = {fx_ctr("x", -1, -1, -1, -1)};
        struct kl_pod p[4];
        const struct kl_pod *pods[4];
        struct kl_admission_result res[4];
        struct kl_cg_allocatable a = alloc512;

        a.pods = 3;
        for (int i = 0; i < 4; i++) {
                p[i] = fx_pod("p", "u", cs, 1);
                pods[i] = &p[i];
        }
        kl_admission_run(&a, pods, NULL, 4, res);
        ASSERT_TRUE(res[0].admitted && res[1].admitted && res[2].admitted);
        ASSERT_FALSE(res[3].admitted);
        ASSERT_STREQ(res[3].reason, "OutOfpods");
        ASSERT_STREQ(res[3].message, "Node didn't have enough resource: pods, requested: 1, used: 3, capacity: 3");
}

TEST(pod_limits_guaranteed) {
        struct kl_container cs[] = {fx_ctr("a", 500, 500, 128 * Mi, 128 * Mi),
                                    fx_ctr("b", 1000, 1000, 64 * Mi, 64 * Mi)};
        struct kl_pod p = fx_pod("g", "ug", cs, 2);
        struct kl_cg_pod_limits lim;
        enum kl_cg_qos q;

        kl_admission_pod_limits(&p, &q, &lim);
        ASSERT_EQ(q, KL_CG_QOS_GUARANTEED);
        ASSERT_EQ(lim.cpu_request_milli, 1500);
        ASSERT_EQ(lim.cpu_limit_milli, 1500);
        ASSERT_EQ(lim.memory_limit, 192 * Mi);
        ASSERT_EQ(lim.memory_min, 192 * Mi);
}

TEST(pod_limits_burstable) {
        struct kl_container cs[] = {fx_ctr("a", 250, 500, 64 * Mi, 128 * Mi), fx_ctr("b", 100, 200, -1, -1)};
        struct kl_pod p = fx_pod("b", "ub", cs, 2);
        struct kl_cg_pod_limits lim;
        enum kl_cg_qos q;

        /* every container limits CPU, not memory: cpu.max yes, memory.max no */
        kl_admission_pod_limits(&p, &q, &lim);
        ASSERT_EQ(q, KL_CG_QOS_BURSTABLE);
        ASSERT_EQ(lim.cpu_request_milli, 350);
        ASSERT_EQ(lim.cpu_limit_milli, 700);
        ASSERT_EQ(lim.memory_limit, -1);
        ASSERT_EQ(lim.memory_min, 0);

        /* an init container without a CPU limit drops cpu.max too */
        struct kl_container init[] = {fx_ctr("init", 100, -1, -1, -1)};
        p.init_containers = init;
        p.n_init_containers = 1;
        kl_admission_pod_limits(&p, &q, &lim);
        ASSERT_EQ(lim.cpu_limit_milli, -1);
}

TEST(pod_limits_besteffort) {
        struct kl_container cs[] = {fx_ctr("a", -1, -1, -1, -1)};
        struct kl_pod p = fx_pod("be", "ube", cs, 1);
        struct kl_cg_pod_limits lim;
        enum kl_cg_qos q;

        kl_admission_pod_limits(&p, &q, &lim);
        ASSERT_EQ(q, KL_CG_QOS_BEST_EFFORT);
        ASSERT_EQ(lim.cpu_request_milli, 0);
        ASSERT_EQ(lim.cpu_limit_milli, -1);
        ASSERT_EQ(lim.memory_limit, -1);
        ASSERT_EQ(lim.memory_min, 0);
}

TEST(qos_totals) {
        struct kl_container g[] = {fx_ctr("a", 1000, 1000, 64 * Mi, 64 * Mi)};
        struct kl_container b1[] = {fx_ctr("a", 250, -1, -1, -1)};
        struct kl_container b2[] = {fx_ctr("a", 500, 1000, 32 * Mi, -1)};
        struct kl_container be[] = {fx_ctr("a", -1, -1, -1, -1)};
        struct kl_pod pg = fx_pod("g", "1", g, 1), pb1 = fx_pod("b1", "2", b1, 1), pb2 = fx_pod("b2", "3", b2, 1),
                      pbe = fx_pod("be", "4", be, 1);
        const struct kl_pod *pods[] = {&pg, &pb1, &pb2, &pbe};
        struct kl_cg_qos_totals t;

        kl_admission_qos_totals(pods, 4, &t);
        ASSERT_EQ(t.burstable_cpu_request_milli, 750);
        ASSERT_EQ(t.memory_min, 64 * Mi);
}

TEST(container_resources_from_config) {
        struct kl_container c = fx_ctr("a", 250, 500, 128 * Mi, 128 * Mi);
        struct kl_cg_node_config cfg;
        struct kl_cg_container_resources r;

        kl_cg_node_config_init(&cfg);
        kl_admission_container_resources(&c, &cfg, &r);
        ASSERT_EQ(r.cpu_shares, 256);
        ASSERT_EQ(r.cpu_quota, 50000);
        ASSERT_EQ(r.cpu_period, 100000);
        ASSERT_EQ(r.memory_limit_in_bytes, 128 * Mi);
        cfg.cfs_quota = false;
        kl_admission_container_resources(&c, &cfg, &r);
        ASSERT_EQ(r.cpu_quota, 0);
        ASSERT_EQ(r.cpu_period, 0);
}

/* upstream's NodePorts predicate (pkg/kubelet/lifecycle/predicate.go
 * generalFilter, HostPortInfo.CheckConflict). */
TEST(host_port_clash_is_rejected_as_nodeports) {
        struct kl_port p8080 = {.container_port = 8080, .host_port = 8080, .protocol = (char *) "TCP"};
        struct kl_port p8080udp = {.container_port = 8080, .host_port = 8080, .protocol = (char *) "UDP"};
        struct kl_port p8080ip = {.container_port = 8080, .host_port = 8080, .host_ip = (char *) "10.0.0.1"};
        struct kl_port p8080ip2 = {.container_port = 8080, .host_port = 8080, .host_ip = (char *) "10.0.0.2"};
        struct kl_container a = fx_ctr("a", -1, -1, -1, -1), b = fx_ctr("b", -1, -1, -1, -1);
        struct kl_pod first = fx_pod("first", "u1", &a, 1), second = fx_pod("second", "u2", &b, 1);
        const struct kl_pod *admitted[] = {&first};
        struct kl_admission_result r;

        first.full_name = (char *) "first-node";
        second.full_name = (char *) "second-node";
        a.ports = &p8080;
        a.n_ports = 1;
        b.ports = &p8080;
        b.n_ports = 1;
        ASSERT_FALSE(kl_admission_check(&alloc512, admitted, 1, &second, &r));
        ASSERT_STREQ(r.reason, "NodePorts");
        ASSERT_CONTAINS(r.message, "Predicate NodePorts failed");
        ASSERT_CONTAINS(r.message, "8080/TCP");
        printf("  %s: %s\n", r.reason, r.message);

        b.ports = &p8080udp; /* another protocol */
        ASSERT_TRUE(kl_admission_check(&alloc512, admitted, 1, &second, &r));
        a.ports = &p8080ip; /* two distinct host IPs */
        b.ports = &p8080ip2;
        ASSERT_TRUE(kl_admission_check(&alloc512, admitted, 1, &second, &r));
        b.ports = &p8080; /* 0.0.0.0 overlaps every IP */
        ASSERT_FALSE(kl_admission_check(&alloc512, admitted, 1, &second, &r));

        /* the previous version of the same static pod does not count */
        second.full_name = (char *) "first-node";
        ASSERT_TRUE(kl_admission_check(&alloc512, admitted, 1, &second, &r));
}

TEST_MAIN()
