/* SPDX-License-Identifier: Apache-2.0 */
/* `kubelet-lite validate`: output and exit status, run in a child process. */
#include <ctype.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kubelet-lite/validate.h"
#include "lib/fileio.h"
#include "lib/macros.h"
#include "tests/lib/tests.h"

static char dir[256];
static char out[65536], err[65536];

static void slurp(const char *path, char *buf, size_t n) {
        _cleanup_free_ char *s = NULL;
        size_t len;
        buf[0] = '\0';
        if (kl_read_file_at(AT_FDCWD, path, n - 1, 0, &s, &len) >= 0)
                memcpy(buf, s, len + 1);
}

/* Run validate with the arguments (NULL-terminated); returns the exit status. */
static int run(const char *first, ...) {
        char *argv[16] = {(char *) "validate"};
        char o[300], e[300];
        int argc = 1, status;
        va_list ap;

        va_start(ap, first);
        for (const char *a = first; a && argc < 15; a = va_arg(ap, const char *))
                argv[argc++] = (char *) a;
        va_end(ap);
        argv[argc] = NULL;

        snprintf(o, sizeof(o), "%s/stdout", dir);
        snprintf(e, sizeof(e), "%s/stderr", dir);
        fflush(NULL);
        pid_t pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                int fo = open(o, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                int fe = open(e, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fo < 0 || fe < 0 || dup2(fo, 1) < 0 || dup2(fe, 2) < 0)
                        _exit(99);
                _exit(kl_validate_main(argc, argv));
        }
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status));
        slurp(o, out, sizeof(out));
        slurp(e, err, sizeof(err));
        return WEXITSTATUS(status);
}

static void write_file(const char *name, const char *content) {
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", dir, name);
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(kl_write_all(fd, content, strlen(content)));
        close(fd);
}

static const char *examples(void) {
        static char p[512];
        const char *top = getenv("KL_TOP");
        snprintf(p, sizeof(p), "%s/manifests/examples", top ? top : ".");
        return p;
}

static void setup(void) {
        snprintf(dir, sizeof(dir), "/tmp/kl-test-validate.XXXXXX");
        ASSERT_NOT_NULL(mkdtemp(dir));
}

static void cleanup(void) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        ASSERT_EQ(system(cmd), 0);
}

TEST(examples_validate) {
        setup();
        ASSERT_EQ(run("--strict", "--node-name", "edge-1", examples(), NULL), 0);
        ASSERT_CONTAINS(out, "pod busybox-date-edge-1 (namespace default, uid ");
        ASSERT_CONTAINS(out, ", QoS Burstable) from ");
        ASSERT_CONTAINS(out, "  container date: image localhost/kubelet-lite/busybox:1.0 (pull IfNotPresent)\n");
        ASSERT_CONTAINS(out, "pod testbox-http-edge-1 (namespace default");
        ASSERT_CONTAINS(out, "  container http: image localhost/kubelet-lite/testbox:1.0 (pull IfNotPresent)\n");
        ASSERT_CONTAINS(out, "valid: 2 pods in 2 files (node edge-1)\n");
        ASSERT_TRUE(err[0] == '\0');
        printf("%s", out);

        /* a file given on its own, by a relative path, gets the uid the daemon gives it */
        const char *u = strstr(out, "uid ");
        ASSERT_NOT_NULL(u);
        char uid[40];
        snprintf(uid, sizeof(uid), "%.36s", u); /* "uid " + 32 hex */
        char cwd[512], file[600];
        ASSERT_NOT_NULL(getcwd(cwd, sizeof(cwd)));
        ASSERT_OK(chdir(examples()));
        snprintf(file, sizeof(file), "./busybox-date.yaml");
        ASSERT_EQ(run("--node-name", "edge-1", file, NULL), 0);
        ASSERT_OK(chdir(cwd));
        ASSERT_CONTAINS(out, uid);
        cleanup();
}

TEST(errors_and_exit_status) {
        setup();
        write_file(
                "bad.yaml",
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n    image: busybox\n    resources: {limits: {memory: 12Q}}\n");
        char p[512];
        snprintf(p, sizeof(p), "%s/bad.yaml", dir);
        ASSERT_EQ(run("--node-name", "n", p, NULL), 1);
        char want[600];
        snprintf(want, sizeof(want), "%s:9:34: spec.containers[0].resources.limits.memory: invalid quantity \"12Q\"\n",
                 p);
        ASSERT_CONTAINS(err, want);
        ASSERT_CONTAINS(err, "invalid: 1 errors in 1 of 1 files\n");
        ASSERT_TRUE(strstr(out, "pod ") == NULL);
        printf("  %s", want);

        /* a missing path is an error too */
        ASSERT_EQ(run("/nonexistent/web.yaml", NULL), 1);
        ASSERT_CONTAINS(err, "/nonexistent/web.yaml: No such file or directory");
        cleanup();
}

TEST(strict_and_warnings) {
        setup();
        write_file(
                "typo.yaml",
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n    image: busybox:1\n    imagePullPolcy: Never\n");
        char p[512];
        snprintf(p, sizeof(p), "%s/typo.yaml", dir);
        ASSERT_EQ(run("--node-name", "n", p, NULL), 0);
        ASSERT_CONTAINS(err, "warning: ");
        ASSERT_CONTAINS(
                err,
                "typo.yaml:9:5: unknown field \"spec.containers[0].imagePullPolcy\" (did you mean \"imagePullPolicy\"?), ignoring");
        ASSERT_CONTAINS(out, "pod web-n ");
        ASSERT_EQ(run("--strict", "--node-name", "n", p, NULL), 1);
        ASSERT_CONTAINS(
                err,
                "typo.yaml:9:5: unknown field \"spec.containers[0].imagePullPolcy\" (did you mean \"imagePullPolicy\"?)\n");
        cleanup();
}

TEST(directory_rules_and_duplicates) {
        setup();
        const char *pod =
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - {name: app, image: busybox:1}\n";
        write_file("a.yaml", pod);
        write_file("a.yaml~", "garbage: [");
        write_file(".a.yaml.swp", "garbage: [");
        ASSERT_EQ(run("--node-name", "n", dir, NULL), 0);
        ASSERT_CONTAINS(out, "/a.yaml~: editor temporary file\n");
        ASSERT_CONTAINS(out, "/.a.yaml.swp: hidden file\n");
        ASSERT_CONTAINS(out, "valid: 1 pods in 1 files");

        /* the same pod twice: the first file in sorted order wins */
        write_file("b.yaml", pod);
        ASSERT_EQ(run("--node-name", "n", dir, NULL), 1);
        ASSERT_CONTAINS(err, "/b.yaml:1:1: metadata.name: pod \"default/web\" is already defined in ");
        ASSERT_CONTAINS(out, "pod web-n ");

        /* and across arguments */
        char a[512];
        snprintf(a, sizeof(a), "%s/a.yaml", dir);
        ASSERT_EQ(run("--node-name", "n", a, a, NULL), 1);
        ASSERT_CONTAINS(err, "metadata.name: pod \"default/web\" is already defined in ");
        cleanup();
}

TEST(usage_and_default_node_name) {
        char host[256];
        setup();
        ASSERT_EQ(run(NULL), 1);
        ASSERT_CONTAINS(err, "Usage: kubelet-lite validate");
        ASSERT_EQ(run("--help", NULL), 0);
        ASSERT_CONTAINS(out, "--node-name NAME");
        ASSERT_EQ(run("--bogus", NULL), 1);

        ASSERT_OK(gethostname(host, sizeof(host)));
        for (char *c = host; *c; c++)
                *c = (char) tolower((unsigned char) *c);
        ASSERT_EQ(run(examples(), NULL), 0);
        char want[300];
        snprintf(want, sizeof(want), "(node %s)", host);
        ASSERT_CONTAINS(out, want);
        cleanup();
}

TEST_MAIN()
