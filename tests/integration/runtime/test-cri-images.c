/* SPDX-License-Identifier: Apache-2.0 */
/* CRI client against a real containerd: Version, Status, the ImageService,
 * endpoints, a dead runtime, and the numbers (latency, RSS).
 * Run: tests/lib/with-containerd build/tests/integration/runtime/test-cri-images */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "tests/integration/runtime/cri-util.h"

static pid_t registry_pid;

static void stop_registry(void) {
        if (registry_pid > 0) {
                kill(registry_pid, SIGTERM);
                registry_pid = 0;
        }
}

/* "VmRSS:   12345 kB" -> 12345 */
static long status_kb(const char *key) {
        char buf[4096], *p;

        if (read_small("/proc/self/status", buf, sizeof(buf)) <= 0 || !(p = strstr(buf, key)))
                return -1;
        return atol(p + strlen(key) + 1);
}

static bool has_tag(const Runtime__V1__Image *img, const char *tag) {
        for (size_t i = 0; img && i < img->n_repo_tags; i++)
                if (streq(img->repo_tags[i], tag))
                        return true;
        return false;
}

static const Runtime__V1__Image *find_image(const Runtime__V1__ListImagesResponse *l, const char *tag) {
        for (size_t i = 0; i < l->n_images; i++)
                if (has_tag(l->images[i], tag))
                        return l->images[i];
        return NULL;
}

/* First on purpose: the numbers are for a process that holds one fresh client. */
TEST(measure) {
        _cleanup_cri_response_ Runtime__V1__VersionResponse *v = NULL;
        _cleanup_(kl_cri_freep) struct kl_cri *c = NULL;
        const char *ep = getenv("KL_CRI_ENDPOINT");
        struct kl_error e = {0};
        double t0, t_new, t_first, best = 1e9, sum = 0;
        enum {
                N = 200
        };

        if (!ep)
                SKIP("KL_CRI_ENDPOINT not set");
        t0 = now_ms();
        ASSERT_OK(kl_cri_new(ep, 30000, &c, &e));
        t_new = now_ms() - t0;
        t0 = now_ms();
        ASSERT_OK(kl_cri_version(c, &v, &e));
        t_first = now_ms() - t0;
        for (int i = 0; i < N; i++) {
                Runtime__V1__ListPodSandboxResponse *l = NULL;
                double t = now_ms();

                ASSERT_OK(kl_cri_list_pod_sandbox(c, NULL, &l, &e));
                t = now_ms() - t;
                sum += t;
                best = MIN(best, t);
                kl_cri_response_free(l);
        }
        printf("  measure: kl_cri_new %.2f ms, first call (Version, connect included) %.2f ms\n", t_new, t_first);
        printf("  measure: ListPodSandbox (empty) mean %.3f ms, best %.3f ms over %d calls\n", sum / N, best, N);
        printf("  measure: RSS with one kl_cri: VmRSS %ld kB, RssAnon %ld kB, RssFile %ld kB, %ld threads\n",
               status_kb("VmRSS:"), status_kb("RssAnon:"), status_kb("RssFile:"), status_kb("Threads:"));
        ASSERT_LE(t_first, 1000);
        ASSERT_LE(sum / N, 50);
}

TEST(version) {
        _cleanup_cri_response_ Runtime__V1__VersionResponse *v = NULL;
        struct kl_error e = {0};

        ASSERT_OK(kl_cri_version(cri(), &v, &e));
        corpus_dump("version", v);
        ASSERT_STREQ(v->runtime_name, "containerd");
        ASSERT_STREQ(v->runtime_api_version, "v1");
        ASSERT_TRUE(v->runtime_version[0] != '\0');
        printf("  Version: %s %s, API %s (version '%s')\n", v->runtime_name, v->runtime_version, v->runtime_api_version,
               v->version);
}

TEST(status) {
        _cleanup_cri_response_ Runtime__V1__StatusResponse *st = NULL;
        struct kl_error e = {0};
        bool runtime_ready = false, seen_network = false;

        ASSERT_OK(kl_cri_status(cri(), true, &st, &e));
        corpus_dump("status-verbose", st);
        ASSERT_NOT_NULL(st->status);
        for (size_t i = 0; i < st->status->n_conditions; i++) {
                const Runtime__V1__RuntimeCondition *cond = st->status->conditions[i];

                printf("  condition %s=%s %s %s\n", cond->type, cond->status ? "true" : "false", cond->reason,
                       cond->message);
                if (streq(cond->type, "RuntimeReady"))
                        runtime_ready = cond->status;
                if (streq(cond->type, "NetworkReady"))
                        seen_network = true;
        }
        ASSERT_TRUE(runtime_ready);
        ASSERT_TRUE(seen_network);
        ASSERT_GE(st->n_info, 1);
        ASSERT_NOT_NULL(kl_cri_map_get((void **) st->info, st->n_info, "config"));
        printf("  Status(verbose): RuntimeReady true, NetworkReady reported, info has 'config'\n");
}

TEST(image_fs_info) {
        _cleanup_cri_response_ Runtime__V1__ImageFsInfoResponse *fs = NULL;
        struct kl_error e = {0};

        ASSERT_OK(kl_cri_image_fs_info(cri(), &fs, &e));
        ASSERT_GE(fs->n_image_filesystems, 1);
        corpus_dump("image-fs-info", fs);
        for (size_t i = 0; i < fs->n_image_filesystems; i++) {
                const Runtime__V1__FilesystemUsage *u = fs->image_filesystems[i];

                ASSERT_NOT_NULL(u->fs_id);
                ASSERT_TRUE(u->fs_id->mountpoint[0] == '/');
                ASSERT_TRUE(u->timestamp > 0);
                ASSERT_NOT_NULL(u->used_bytes);
                ASSERT_NOT_NULL(u->inodes_used);
                printf("  ImageFsInfo: %s used %" PRIu64 " bytes, %" PRIu64 " inodes\n", u->fs_id->mountpoint,
                       u->used_bytes->value, u->inodes_used->value);
        }
}

TEST(list_images) {
        _cleanup_cri_response_ Runtime__V1__ListImagesResponse *l = NULL;
        Runtime__V1__ImageFilter f = RUNTIME__V1__IMAGE_FILTER__INIT;
        Runtime__V1__ImageSpec spec = RUNTIME__V1__IMAGE_SPEC__INIT;
        const Runtime__V1__Image *img;
        struct kl_error e = {0};

        ASSERT_OK(kl_cri_list_images(cri(), NULL, &l, &e));
        ASSERT_GE(l->n_images, 1);
        corpus_dump("list-images", l);
        img = find_image(l, PAUSE_IMAGE);
        ASSERT_NOT_NULL(img);
        ASSERT_CONTAINS(img->id, "sha256:");
        ASSERT_TRUE(img->size > 0);
        printf("  ListImages: %zu images, pause is %.19s, %" PRIu64 " bytes\n", l->n_images, img->id, img->size);
        kl_cri_response_free(TAKE_PTR(l));

        spec.image = (char *) PAUSE_IMAGE;
        f.image = &spec;
        /* containerd 1.6 ignores the filter (its code says so); the request
         * must still go through. */
        ASSERT_OK(kl_cri_list_images(cri(), &f, &l, &e));
        ASSERT_NOT_NULL(find_image(l, PAUSE_IMAGE));
        printf("  ListImages(filter pause) -> ok, %zu images (containerd ignores image filters)\n", l->n_images);
}

TEST(image_status) {
        _cleanup_cri_response_ Runtime__V1__ImageStatusResponse *st = NULL;
        struct kl_error e = {0};

        require_image(TESTBOX_IMAGE);
        ASSERT_OK(kl_cri_image_status(cri(), TESTBOX_IMAGE, true, &st, &e));
        ASSERT_NOT_NULL(st->image);
        ASSERT_CONTAINS(st->image->id, "sha256:");
        ASSERT_TRUE(has_tag(st->image, TESTBOX_IMAGE));
        ASSERT_GE(st->n_info, 1);
        corpus_dump("image-status-verbose", st);
        printf("  ImageStatus(testbox): %.19s, %zu tags, verbose info\n", st->image->id, st->image->n_repo_tags);
        kl_cri_response_free(TAKE_PTR(st));

        ASSERT_OK(kl_cri_image_status(cri(), "localhost/kubelet-lite/missing:1.0", false, &st, &e));
        ASSERT_NULL(st->image);
        printf("  ImageStatus(missing) -> ok with image NULL\n");
}

TEST(pull_image_error) {
        _cleanup_free_ char *ref = NULL;
        struct cb_result res = {0};
        struct kl_error e = {0};
        int r;

        /* containerd resolves every PullImage against the registry, even for
         * an image it has: localhost/... means http://localhost:80, where
         * nothing serves a registry. So this is the error path. */
        r = kl_cri_pull_image(cri(), TESTBOX_IMAGE, NULL, &ref, &e);
        ASSERT_TRUE(r < 0);
        ASSERT_NULL(ref);
        ASSERT_CONTAINS(e.msg, "PullImage: rpc error ");
        printf("  PullImage(%s) -> %d '%.160s'\n", TESTBOX_IMAGE, r, e.msg);

        ASSERT_OK(kl_cri_pull_image_async(cri(), TESTBOX_IMAGE, NULL, 10000, record_cb, &res));
        wait_dispatch(cri(), &res.calls, 1, 15000);
        ASSERT_EQ(res.calls, 1);
        ASSERT_EQ(res.r, r);
        ASSERT_CONTAINS(res.msg, "PullImage: rpc error ");
        ASSERT_TRUE(res.reply_desc == NULL);
        printf("  pull_image_async -> same error through the callback\n");
        ASSERT_ERR(kl_cri_pull_image(cri(), "", NULL, &ref, &e), EINVAL);
}

TEST(remove_image) {
        _cleanup_cri_response_ Runtime__V1__ImageStatusResponse *st = NULL;
        _cleanup_cri_response_ Runtime__V1__ListImagesResponse *l = NULL;
        struct kl_error e = {0};

        /* busybox is a separate image from testbox and pause; removing an
         * image removes every tag of it, so never use a tag of those. */
        require_image(BUSYBOX_IMAGE);
        ASSERT_OK(kl_cri_remove_image(cri(), BUSYBOX_IMAGE, &e));
        ASSERT_OK(kl_cri_image_status(cri(), BUSYBOX_IMAGE, false, &st, &e));
        ASSERT_NULL(st->image);
        ASSERT_OK(kl_cri_list_images(cri(), NULL, &l, &e));
        ASSERT_NULL(find_image(l, BUSYBOX_IMAGE));
        ASSERT_NOT_NULL(find_image(l, PAUSE_IMAGE));
        ASSERT_OK(kl_cri_remove_image(cri(), BUSYBOX_IMAGE, &e)); /* idempotent */
        printf("  RemoveImage(busybox) -> gone from ImageStatus and ListImages; again -> ok\n");
}

static int free_port(void) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof(a);
        _cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0 || bind(fd, (struct sockaddr *) &a, sizeof(a)) < 0 ||
            getsockname(fd, (struct sockaddr *) &a, &len) < 0)
                return -errno;
        return ntohs(a.sin_port);
}

/* A real pull, from a registry on localhost serving build/images/busybox.tar
 * (after remove_image, so the blobs really are fetched). */
TEST(pull_image_from_registry) {
        _cleanup_cri_response_ Runtime__V1__ImageStatusResponse *st = NULL;
        const char *top = getenv("KL_TOP"), *build = getenv("BUILD");
        char archive[PATH_MAX], cmd[3 * PATH_MAX], image[128], dir[PATH_MAX + 16], pidbuf[32];
        _cleanup_free_ char *ref = NULL;
        struct cb_result res = {0};
        struct kl_error e = {0};
        FILE *f;
        int port;

        (void) cri();
        if (!top)
                top = ".";
        if (!build)
                build = "build";
        if (build[0] == '/')
                snprintf(archive, sizeof(archive), "%s/images/busybox.tar", build);
        else
                snprintf(archive, sizeof(archive), "%s/%s/images/busybox.tar", top, build);
        if (access(archive, R_OK) < 0)
                SKIP("%s not built (make images)", archive);
        port = free_port();
        ASSERT_GE(port, 1);
        snprintf(dir, sizeof(dir), "%s/registry", test_tmpdir);
        snprintf(cmd, sizeof(cmd), "%s/tests/integration/runtime/mini-registry.sh '%s' %d '%s' kl/pulled 1.0", top, dir,
                 port, archive);
        f = popen(cmd, "re");
        ASSERT_NOT_NULL(f);
        if (!fgets(pidbuf, sizeof(pidbuf), f))
                pidbuf[0] = '\0';
        if (pclose(f) != 0 || atoi(pidbuf) <= 0)
                SKIP("mini registry did not start (busybox httpd)");
        registry_pid = atoi(pidbuf);
        atexit(stop_registry);

        snprintf(image, sizeof(image), "localhost:%d/kl/pulled:1.0", port);
        ASSERT_OK(kl_cri_pull_image(cri(), image, NULL, &ref, &e));
        ASSERT_CONTAINS(ref, "sha256:");
        ASSERT_OK(kl_cri_image_status(cri(), image, false, &st, &e));
        ASSERT_NOT_NULL(st->image);
        ASSERT_STREQ(st->image->id, ref);
        ASSERT_TRUE(has_tag(st->image, image));
        printf("  PullImage(%s) from a local registry -> %.19s, ImageStatus agrees\n", image, ref);
        kl_cri_response_free(TAKE_PTR(st));

        /* Again, asynchronously and with a sandbox config, as the daemon does. */
        {
                struct test_pod p;

                test_pod_init(&p, "puller");
                ASSERT_OK(kl_cri_pull_image_async(cri(), image, &p.cfg, 0, record_cb, &res));
                wait_dispatch(cri(), &res.calls, 1, 30000);
                ASSERT_EQ(res.calls, 1);
                ASSERT_EQ(res.r, 0);
                ASSERT_TRUE(res.reply_desc == &runtime__v1__pull_image_response__descriptor);
                printf("  pull_image_async of the same image -> callback r=0\n");
        }
        ASSERT_OK(kl_cri_remove_image(cri(), image, &e));
        stop_registry();
}

TEST(endpoints) {
        struct kl_cri *c = NULL;
        struct kl_error e = {0};

        ASSERT_ERR(kl_cri_new("tcp://127.0.0.1:1234", 1000, &c, &e), EINVAL);
        ASSERT_CONTAINS(e.msg, "tcp://127.0.0.1:1234");
        ASSERT_ERR(kl_cri_new("run/containerd.sock", 1000, &c, &e), EINVAL);
        ASSERT_ERR(kl_cri_new("unix://relative.sock", 1000, &c, &e), EINVAL);
        ASSERT_ERR(kl_cri_new(NULL, 1000, &c, &e), EINVAL);
        {
                char longpath[200];

                memset(longpath, 'a', sizeof(longpath) - 1);
                longpath[0] = '/';
                longpath[sizeof(longpath) - 1] = '\0';
                ASSERT_ERR(kl_cri_new(longpath, 1000, &c, &e), ENAMETOOLONG);
        }
        ASSERT_NULL(c);
        printf("  tcp://, relative paths, NULL -> -EINVAL; 199-byte path -> -ENAMETOOLONG\n");

        /* Both spellings of the real endpoint work. */
        {
                const char *ep = getenv("KL_CRI_ENDPOINT");
                Runtime__V1__VersionResponse *v = NULL;

                if (!ep || strncmp(ep, "unix://", 7) != 0)
                        SKIP("KL_CRI_ENDPOINT not set");
                ASSERT_OK(kl_cri_new(ep + 7, 0, &c, &e));
                ASSERT_OK(kl_cri_version(c, &v, &e));
                kl_cri_response_free(v);
                c = kl_cri_free(c);
                ASSERT_NULL(kl_cri_free(NULL));
                printf("  plain /path endpoint works; kl_cri_free(NULL) is fine\n");
        }
}

TEST(dead_runtime) {
        _cleanup_cri_response_ Runtime__V1__VersionResponse *v = NULL;
        _cleanup_(kl_cri_freep) struct kl_cri *c = NULL;
        char path[PATH_MAX + 32];
        struct cb_result res = {0};
        struct kl_error e = {0};
        double t;

        (void) cri();
        snprintf(path, sizeof(path), "%s/nothing.sock", test_tmpdir);
        /* Creating the client never connects: the runtime may come later. */
        ASSERT_OK(kl_cri_new(path, 300, &c, &e));

        t = now_ms();
        ASSERT_ERR(kl_cri_version(c, &v, &e), ECONNREFUSED);
        t = now_ms() - t;
        ASSERT_NULL(v);
        ASSERT_CONTAINS(e.msg, "Version: rpc error UNAVAILABLE: ");
        ASSERT_LE(t, 1500);
        printf("  no socket: Version -> -ECONNREFUSED in %.1f ms '%s'\n", t, e.msg);

        /* Async calls wait for the runtime until their deadline. */
        ASSERT_OK(kl_cri_stop_pod_sandbox_async(c, "abc", record_cb, &res));
        wait_dispatch(c, &res.calls, 1, 5000);
        ASSERT_EQ(res.calls, 1);
        ASSERT_ERR(res.r, ETIMEDOUT);
        ASSERT_CONTAINS(res.msg, "StopPodSandbox: rpc error DEADLINE_EXCEEDED");
        printf("  no socket: stop_pod_sandbox_async -> callback -ETIMEDOUT '%s'\n", res.msg);
}

TEST_MAIN()
