/* SPDX-License-Identifier: Apache-2.0 */
#include "cgroups/cgroup.h"
#include "cgroups/tree.h"

#include <errno.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/statfs.h>
#include <sys/wait.h>

#include "cgtest.h"
#include "tests/lib/tests.h"

struct fixture {
        char *dir;
        char root[512];
        struct kl_cg *cg;
};

static void setup(struct fixture *f, const char *cgroup_root) {
        struct kl_cg_node_config cfg;
        struct kl_error e = {0};

        f->dir = cgt_tmpdir();
        ASSERT_NOT_NULL(f->dir);
        snprintf(f->root, sizeof(f->root), "%s/cg", f->dir);
        ASSERT_OK(cgt_put(f->dir, "cg/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n"));
        cgt_put(f->dir, "cg/cgroup.subtree_control", "");
        kl_cg_node_config_init(&cfg);
        cfg.cgroup_root = cgroup_root;
        if (kl_cg_open(f->root, &cfg, KL_CG_FAKE, &f->cg, &e) < 0)
                KL__FAIL("kl_cg_open: %s", e.msg);
}

static void teardown(struct fixture *f) {
        kl_cg_free(f->cg);
        cgt_rm_rf(f->dir);
        free(f->dir);
}

TEST(detect_real_mount) {
        struct kl_error e = {0};
        struct statfs s;
        int r = kl_cg_detect(NULL, 0, &e);

        ASSERT_OK(statfs("/sys/fs/cgroup", &s) < 0 ? 0 : 0);
        if (statfs("/sys/fs/cgroup", &s) == 0 && (unsigned long) s.f_type == CGROUP2_SUPER_MAGIC) {
                ASSERT_OK(r);
                printf("  /sys/fs/cgroup is cgroup v2\n");
        } else {
                ASSERT_TRUE(r < 0);
                ASSERT_CONTAINS(e.msg, "cgroup v2 is not mounted at /sys/fs/cgroup");
                ASSERT_CONTAINS(e.msg, "set cgroupsPerQOS: false");
                printf("  no v2 here: %s\n", e.msg);
        }
}

TEST(detect_v1_message_exact) {
        struct kl_error e = {0};
        struct statfs s;
        if (statfs("/sys/fs/cgroup", &s) < 0 || (unsigned long) s.f_type != TMPFS_MAGIC)
                SKIP("/sys/fs/cgroup is not a cgroup v1 tmpfs here");
        ASSERT_ERR(kl_cg_detect("/sys/fs/cgroup", 0, &e), EMEDIUMTYPE);
        ASSERT_STREQ(e.msg, "cgroup v2 is not mounted at /sys/fs/cgroup (found cgroup v1); "
                            "set cgroupsPerQOS: false to run pods under the runtime's cgroups");
}

TEST(detect_other_filesystem_and_missing) {
        struct kl_error e = {0};
        ASSERT_ERR(kl_cg_detect("/proc", 0, &e), EMEDIUMTYPE);
        ASSERT_CONTAINS(e.msg, "found filesystem type 0x");
        ASSERT_ERR(kl_cg_detect("/nonexistent/cgroup", 0, &e), ENOENT);
        ASSERT_CONTAINS(e.msg, "cgroup v2 is not mounted at /nonexistent/cgroup");
        ASSERT_ERR(kl_cg_detect("/nonexistent/cgroup", KL_CG_FAKE, &e), ENOENT);
        ASSERT_ERR(kl_cg_detect("/etc/hostname", KL_CG_FAKE, &e), ENOTDIR);
}

TEST(open_requires_v2_only_per_qos) {
        struct kl_cg_node_config cfg;
        struct kl_error e = {0};
        struct kl_cg *cg = NULL;

        kl_cg_node_config_init(&cfg);
        ASSERT_ERR(kl_cg_open("/proc", &cfg, 0, &cg, &e), EMEDIUMTYPE);
        ASSERT_NULL(cg);
        cfg.cgroups_per_qos = false;
        ASSERT_OK(kl_cg_open("/proc", &cfg, 0, &cg, &e));
        ASSERT_FALSE(cg->v2);
        kl_cg_free(cg);
}

TEST(open_validates_cgroup_root) {
        struct fixture f = {0};
        struct kl_cg_node_config cfg;
        struct kl_error e = {0};
        struct kl_cg *cg = NULL;

        setup(&f, "/");
        kl_cg_node_config_init(&cfg);
        const char *bad[] = {"relative", "/a/../b", "/./a", "/.."};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                cfg.cgroup_root = bad[i];
                ASSERT_ERR(kl_cg_open(f.root, &cfg, KL_CG_FAKE, &cg, &e), EINVAL);
                ASSERT_CONTAINS(e.msg, "invalid cgroupRoot");
        }
        cfg.cgroup_root = "//a//b/";
        ASSERT_OK(kl_cg_open(f.root, &cfg, KL_CG_FAKE, &cg, &e));
        ASSERT_STREQ(cg->root, "/a/b");
        ASSERT_STREQ(cg->cfg.cgroup_root, "/a/b");
        char *p = kl_cg_path(cg, "/kubepods");
        ASSERT_STREQ(p, "a/b/kubepods");
        free(p);
        kl_cg_free(cg);
        ASSERT_STREQ(f.cg->root, "/");
        p = kl_cg_path(f.cg, "kubepods");
        ASSERT_STREQ(p, "kubepods");
        free(p);
        ASSERT_EQ(f.cg->controllers, KL_CG_CTRL_ALL);
        teardown(&f);
}

TEST(paths_are_checked) {
        struct fixture f = {0};
        char *buf = NULL;

        setup(&f, "/");
        ASSERT_ERR(kl_cg_write(f.cg, "../x", "cpu.weight", "1"), EINVAL);
        ASSERT_ERR(kl_cg_write(f.cg, "a/./b", "cpu.weight", "1"), EINVAL);
        ASSERT_ERR(kl_cg_write(f.cg, "a//b", "cpu.weight", "1"), EINVAL);
        ASSERT_ERR(kl_cg_write(f.cg, "a/", "cpu.weight", "1"), EINVAL);
        ASSERT_ERR(kl_cg_write(f.cg, "", "../cpu.weight", "1"), EINVAL);
        ASSERT_ERR(kl_cg_read(f.cg, "", "..", &buf, NULL), EINVAL);
        ASSERT_ERR(kl_cg_mkdir(f.cg, "x/.."), EINVAL);
        ASSERT_ERR(kl_cg_rmdir_tree(f.cg, ""), EINVAL);
        ASSERT_ERR(kl_cg_rmdir_tree(f.cg, "/"), EINVAL);
        ASSERT_TRUE(kl_cg_path_valid("/kubepods/burstable/podx/c0ffee"));
        ASSERT_TRUE(kl_cg_path_valid("kubepods"));
        ASSERT_FALSE(kl_cg_path_valid("/"));
        ASSERT_FALSE(kl_cg_path_valid(""));
        ASSERT_FALSE(kl_cg_path_valid(NULL));
        ASSERT_FALSE(kl_cg_path_valid("kubepods/../x"));
        ASSERT_FALSE(kl_cg_path_valid("kubepods/"));
        teardown(&f);
}

TEST(fake_mkdir_emulates_kernel_files) {
        struct fixture f = {0};
        struct kl_error e = {0};

        setup(&f, "/");
        ASSERT_EQ(kl_cg_mkdir(f.cg, "a"), 1);
        ASSERT_EQ(kl_cg_mkdir(f.cg, "a"), 0);
        ASSERT_STREQ(cgt_get(f.root, "a/cgroup.controllers"), "");
        ASSERT_STREQ(cgt_get(f.root, "a/cgroup.events"), "populated 0\nfrozen 0");
        /* enabling at the root makes them available below */
        ASSERT_EQ(kl_cg_enable_controllers(f.cg, "", KL_CG_CTRL_ALL, KL_CG_CTRL_CPU, &e), KL_CG_CTRL_ALL);
        ASSERT_STREQ(cgt_get(f.root, "cgroup.subtree_control"), "cpuset cpu memory pids");
        ASSERT_EQ(kl_cg_mkdir(f.cg, "b"), 1);
        ASSERT_STREQ(cgt_get(f.root, "b/cgroup.controllers"), "cpuset cpu memory pids");
        /* a child can only enable what it has */
        ASSERT_ERR(kl_cg_write(f.cg, "a", "cgroup.subtree_control", "+cpu"), ENOENT);
        ASSERT_ERR(kl_cg_write(f.cg, "b", "cgroup.subtree_control", "cpu"), EINVAL);
        ASSERT_OK(kl_cg_write(f.cg, "b", "cgroup.subtree_control", "+memory +cpu"));
        ASSERT_STREQ(cgt_get(f.root, "b/cgroup.subtree_control"), "cpu memory");
        ASSERT_OK(kl_cg_write(f.cg, "b", "cgroup.subtree_control", "-cpu"));
        ASSERT_STREQ(cgt_get(f.root, "b/cgroup.subtree_control"), "memory");
        teardown(&f);
}

TEST(enable_controllers_required_and_optional) {
        struct fixture f = {0};
        struct kl_error e = {0};

        setup(&f, "/");
        cgt_put(f.root, "x/cgroup.controllers", "cpu pids\n");
        cgt_put(f.root, "x/cgroup.subtree_control", "");
        /* memory required but absent */
        ASSERT_ERR(kl_cg_enable_controllers(f.cg, "x", KL_CG_CTRL_ALL, KL_CG_CTRL_CPU | KL_CG_CTRL_MEMORY, &e), ENOENT);
        ASSERT_CONTAINS(e.msg, "cgroup controller 'memory' is not available");
        /* optional ones just get skipped */
        ASSERT_EQ(kl_cg_enable_controllers(f.cg, "x", KL_CG_CTRL_ALL, KL_CG_CTRL_CPU, &e),
                  KL_CG_CTRL_CPU | KL_CG_CTRL_PIDS);
        ASSERT_STREQ(cgt_get(f.root, "x/cgroup.subtree_control"), "cpu pids");
        /* already enabled: no write needed */
        ASSERT_EQ(kl_cg_enable_controllers(f.cg, "x", KL_CG_CTRL_CPU, 0, &e), KL_CG_CTRL_CPU);
        ASSERT_ERR(kl_cg_enable_controllers(f.cg, "nope", KL_CG_CTRL_CPU, 0, &e), ENOENT);
        teardown(&f);
}

TEST(write_read_roundtrip) {
        struct fixture f = {0};
        char *buf = NULL;
        size_t n;

        setup(&f, "/");
        ASSERT_EQ(kl_cg_mkdir(f.cg, "a"), 1);
        ASSERT_OK(kl_cg_write(f.cg, "/a", "memory.max", "1048576"));
        ASSERT_OK(kl_cg_read(f.cg, "a", "memory.max", &buf, &n));
        ASSERT_STREQ(buf, "1048576");
        ASSERT_EQ(n, 7);
        free(buf);
        ASSERT_ERR(kl_cg_read(f.cg, "a", "nothing", &buf, &n), ENOENT);
        ASSERT_ERR(kl_cg_mkdir(f.cg, "missing/child"), ENOENT);
        teardown(&f);
}

TEST(rmdir_tree_depth_first) {
        struct fixture f = {0};

        setup(&f, "/");
        ASSERT_EQ(kl_cg_mkdir(f.cg, "pod"), 1);
        ASSERT_EQ(kl_cg_mkdir(f.cg, "pod/c1"), 1);
        ASSERT_EQ(kl_cg_mkdir(f.cg, "pod/c2"), 1);
        ASSERT_EQ(kl_cg_mkdir(f.cg, "pod/c2/deeper"), 1);
        ASSERT_OK(kl_cg_write(f.cg, "pod/c1", "memory.max", "max"));
        ASSERT_EQ(kl_cg_rmdir_tree(f.cg, "pod"), 1);
        ASSERT_FALSE(cgt_exists(f.root, "pod"));
        ASSERT_EQ(kl_cg_rmdir_tree(f.cg, "pod"), 0);
        teardown(&f);
}

TEST(rmdir_tree_refuses_populated) {
        struct fixture f = {0};

        setup(&f, "/");
        ASSERT_EQ(kl_cg_mkdir(f.cg, "pod"), 1);
        ASSERT_EQ(kl_cg_mkdir(f.cg, "pod/c1"), 1);
        ASSERT_OK(kl_cg_write(f.cg, "pod/c1", "cgroup.events", "populated 1\nfrozen 0\n"));
        ASSERT_EQ(kl_cg_populated(f.cg, "pod/c1"), 1);
        ASSERT_EQ(kl_cg_populated(f.cg, "pod"), 0);
        ASSERT_ERR(kl_cg_rmdir_tree(f.cg, "pod"), EBUSY);
        ASSERT_TRUE(cgt_exists(f.root, "pod/c1"));
        ASSERT_OK(kl_cg_write(f.cg, "pod/c1", "cgroup.events", "populated 0\nfrozen 0\n"));
        ASSERT_EQ(kl_cg_rmdir_tree(f.cg, "pod"), 1);
        teardown(&f);
}

TEST(controllers_parse) {
        ASSERT_EQ(kl_cg_controllers_parse(""), 0);
        ASSERT_EQ(kl_cg_controllers_parse("cpu"), KL_CG_CTRL_CPU);
        ASSERT_EQ(kl_cg_controllers_parse("cpuset cpu io memory hugetlb pids rdma misc\n"), KL_CG_CTRL_ALL);
        ASSERT_EQ(kl_cg_controllers_parse("cpux memoryy"), 0);
        ASSERT_EQ(kl_cg_controllers_parse("  pids\tmemory "), KL_CG_CTRL_PIDS | KL_CG_CTRL_MEMORY);
}

/* On a real cgroup2 mount (the host's, or the controller-less "unified" one
 * of a hybrid host): mkdir, writes, and rmdir of a tree the kernel populated
 * with interface files, and EBUSY while a process is inside. */
static const char *real_cgroup2(void) {
        static const char *const cands[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
        struct statfs s;
        for (size_t i = 0; i < ELEMENTSOF(cands); i++)
                if (statfs(cands[i], &s) == 0 && (unsigned long) s.f_type == CGROUP2_SUPER_MAGIC &&
                    access(cands[i], W_OK) == 0)
                        return cands[i];
        return NULL;
}

TEST(real_cgroup2_tree) {
        const char *mnt = real_cgroup2();
        struct kl_cg_node_config cfg;
        struct kl_error e = {0};
        struct kl_cg *cg = NULL;
        char top[64], child[96], pidbuf[32];
        int pfd[2];
        pid_t pid;

        if (!mnt)
                SKIP("no writable cgroup2 mount");
        kl_cg_node_config_init(&cfg);
        ASSERT_OK(kl_cg_open(mnt, &cfg, 0, &cg, &e));
        ASSERT_TRUE(cg->v2);
        snprintf(top, sizeof(top), "kl-unit-%d", (int) getpid());
        snprintf(child, sizeof(child), "%s/c0ffee", top);
        if (kl_cg_mkdir(cg, top) < 0) {
                kl_cg_free(cg);
                SKIP("cannot create a cgroup under %s", mnt);
        }
        ASSERT_EQ(kl_cg_mkdir(cg, child), 1);
        ASSERT_EQ(kl_cg_populated(cg, top), 0);
        /* the kernel refuses what it does not know */
        ASSERT_TRUE(kl_cg_write(cg, child, "cgroup.subtree_control", "+nonsense") < 0);
        ASSERT_ERR(kl_cg_write(cg, child, "memory.nonexistent", "1"), ENOENT);

        /* a process inside makes the tree busy */
        ASSERT_OK(pipe2(pfd, O_CLOEXEC));
        pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
                char c;
                close(pfd[1]);
                (void) !read(pfd[0], &c, 1);
                _exit(0);
        }
        close(pfd[0]);
        snprintf(pidbuf, sizeof(pidbuf), "%d", (int) pid);
        int r = kl_cg_write(cg, child, "cgroup.procs", pidbuf);
        if (r >= 0) {
                ASSERT_EQ(kl_cg_populated(cg, top), 1);
                ASSERT_ERR(kl_cg_rmdir_tree(cg, top), EBUSY);
        }
        close(pfd[1]);
        ASSERT_EQ(waitpid(pid, NULL, 0), pid);
        /* populated drops asynchronously after exit */
        for (int i = 0; i < 100 && kl_cg_populated(cg, top) > 0; i++)
                usleep(10000);
        ASSERT_EQ(kl_cg_rmdir_tree(cg, top), 1);
        ASSERT_EQ(kl_cg_rmdir_tree(cg, top), 0);
        printf("  %s: created, %s, removed depth-first\n", mnt,
               r >= 0 ? "EBUSY while populated" : "(could not move a process in)");
        kl_cg_free(cg);
}

TEST(real_cgroup2_setup_reports_missing_controllers) {
        const char *mnt = real_cgroup2();
        struct kl_cg_node_config cfg;
        struct kl_cg_capacity cap = {.cpu_milli = 1000, .memory = 1 << 30, .pids = 1000};
        struct kl_error e = {0};
        struct kl_cg *cg = NULL;
        char root[64];

        if (!mnt)
                SKIP("no writable cgroup2 mount");
        kl_cg_node_config_init(&cfg);
        snprintf(root, sizeof(root), "/kl-unit-setup-%d", (int) getpid());
        cfg.cgroup_root = root;
        ASSERT_OK(kl_cg_open(mnt, &cfg, 0, &cg, &e));
        if ((cg->controllers & (KL_CG_CTRL_CPU | KL_CG_CTRL_MEMORY)) == (KL_CG_CTRL_CPU | KL_CG_CTRL_MEMORY)) {
                kl_cg_free(cg);
                SKIP("%s has cpu and memory: a real tree test would touch the host", mnt);
        }
        ASSERT_ERR(kl_cg_setup(cg, &cap, &e), ENOENT);
        ASSERT_CONTAINS(e.msg, "is not available in");
        printf("  %s\n", e.msg);
        ASSERT_OK(kl_cg_rmdir_tree(cg, root + 1) >= 0 ? 0 : -1);
        kl_cg_free(cg);
}

TEST_MAIN()
