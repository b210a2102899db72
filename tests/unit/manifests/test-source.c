/* SPDX-License-Identifier: Apache-2.0 */
/* The manifest directory with real files and real inotify. Time is passed
 * in explicitly, so debounce and rescan are tested without sleeping. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/macros.h"
#include "manifests/source.h"
#include "tests/lib/tests.h"

#define MS 1000ULL
#define T0 (1000000ULL * MS) /* an arbitrary monotonic start */

static char top[256];

static uint64_t mono_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static void setup(void) {
        snprintf(top, sizeof(top), "/tmp/kl-test-source.XXXXXX");
        ASSERT_NOT_NULL(mkdtemp(top));
}

static void cleanup(void) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
        ASSERT_EQ(system(cmd), 0);
}

static void pathf(char *buf, size_t n, const char *fmt, ...) _printf_(3, 4);
static void pathf(char *buf, size_t n, const char *fmt, ...) {
        va_list ap;
        int k = snprintf(buf, n, "%s/", top);
        va_start(ap, fmt);
        vsnprintf(buf + k, n - (size_t) k, fmt, ap);
        va_end(ap);
}

static void write_file(const char *rel, const char *content, int flags) {
        char p[512];
        pathf(p, sizeof(p), "%s", rel);
        int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0644);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, content, strlen(content)), (ssize_t) strlen(content));
        close(fd);
}

static char *pod_yaml(const char *name, const char *image) {
        static char buf[512];
        snprintf(buf, sizeof(buf),
                 "apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\nspec:\n  containers:\n  - name: c\n    image: %s\n",
                 name, image);
        return buf;
}

static struct kl_source *new_source(const char *rel) {
        struct kl_source *s;
        char p[512];
        pathf(p, sizeof(p), "%s", rel);
        ASSERT_OK(kl_source_new(p, "node1", NULL, &s));
        ASSERT_TRUE(kl_source_fd(s) >= 0);
        int fl = fcntl(kl_source_fd(s), F_GETFD);
        ASSERT_TRUE(fl & FD_CLOEXEC);
        ASSERT_TRUE(fcntl(kl_source_fd(s), F_GETFL) & O_NONBLOCK);
        return s;
}

/* Sync at `now`; return whether anything changed. */
static bool sync_at(struct kl_source *s, uint64_t now, bool force) {
        bool changed = true;
        ASSERT_OK(kl_source_sync(s, now, force, &changed));
        return changed;
}

static const struct kl_source_entry *entry(struct kl_source *s, const char *file) {
        size_t n;
        const struct kl_source_entry *e = kl_source_entries(s, &n);
        for (size_t i = 0; i < n; i++)
                if (streq(e[i].file, file))
                        return &e[i];
        return NULL;
}

static size_t n_entries(struct kl_source *s) {
        size_t n;
        kl_source_entries(s, &n);
        return n;
}

/* Drain inotify at now and sync once the debounce has passed. */
static bool settle(struct kl_source *s, uint64_t *now) {
        bool changed = false;
        (void) kl_source_handle_events(s, *now);
        /* syncs due soon (the debounce; an early parse's held error), not the rescan */
        for (int i = 0; i < 4 && kl_source_next_deadline(s) <= *now + 1000 * MS; i++) {
                *now = MAX(*now, kl_source_next_deadline(s));
                changed |= sync_at(s, *now, false);
        }
        return changed;
}

TEST(ignored_names) {
        static const char *const ignored[] = {".hidden.yaml",
                                              "web.yaml~",
                                              ".web.yaml.swp",
                                              "web.swp",
                                              "web.swx",
                                              "4913",
                                              "#web.yaml#",
                                              "web.bak",
                                              "web.yaml.bak",
                                              "web.tmp",
                                              "web.yaml.dpkg-new",
                                              "web.yaml.dpkg-old",
                                              "web.yaml.dpkg-dist",
                                              "web.yaml.rpmnew",
                                              "web.yaml.rpmsave",
                                              "notes.txt",
                                              "web.YAML",
                                              "README",
                                              "we\nb.yaml",
                                              "\x1b[31m.yaml"};
        static const char *const read[] = {"web.yaml", "web.yml", "web.json", "my.rpmish.yaml"};

        for (size_t i = 0; i < ELEMENTSOF(ignored); i++) {
                if (!kl_source_ignore_reason(ignored[i]))
                        fprintf(stderr, "  not ignored: %s\n", ignored[i]);
                ASSERT_NOT_NULL(kl_source_ignore_reason(ignored[i]));
        }
        for (size_t i = 0; i < ELEMENTSOF(read); i++)
                ASSERT_NULL(kl_source_ignore_reason(read[i]));
        ASSERT_STREQ(kl_source_ignore_reason("a.yaml.swp"), "editor temporary file");
}

TEST(initial_scan_reads_only_manifests) {
        char p[512], q[512];
        uint64_t now = T0;

        setup();
        pathf(p, sizeof(p), "m");
        ASSERT_OK(mkdir(p, 0755));
        write_file("m/a.yaml", pod_yaml("a", "busybox:1"), 0);
        write_file("m/b.yml", pod_yaml("b", "busybox:1"), 0);
        write_file(
                "m/c.json",
                "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"c\"}, \"spec\": {\"containers\": [{\"name\": \"c\", \"image\": \"i:1\"}]}}",
                0);
        static const char *const junk[] = {"m/.hidden.yaml",   "m/a.yaml~",  "m/.a.yaml.swp", "m/4913",
                                           "m/#a.yaml#",       "m/a.bak",    "m/a.tmp",       "m/a.yaml.dpkg-new",
                                           "m/a.yaml.rpmsave", "m/notes.txt"};
        for (size_t i = 0; i < ELEMENTSOF(junk); i++)
                write_file(junk[i], pod_yaml("junk", "busybox:1"), 0);
        pathf(p, sizeof(p), "m/sub.yaml");
        ASSERT_OK(mkdir(p, 0755));
        pathf(p, sizeof(p), "m/fifo.yaml");
        ASSERT_OK(mkfifo(p, 0644));
        write_file("outside.txt", pod_yaml("linked", "busybox:1"), 0);
        pathf(p, sizeof(p), "outside.txt");
        pathf(q, sizeof(q), "m/link.yaml");
        ASSERT_OK(symlink(p, q));
        pathf(q, sizeof(q), "m/dangling.yaml");
        ASSERT_OK(symlink("/nonexistent/x.yaml", q));

        struct kl_source *s = new_source("m");
        ASSERT_EQ(kl_source_next_deadline(s), 0); /* the first sync is due at once */
        ASSERT_TRUE(sync_at(s, now, false));
        ASSERT_EQ(n_entries(s), 4);
        size_t n;
        const struct kl_source_entry *e = kl_source_entries(s, &n);
        ASSERT_STREQ(e[0].file, "a.yaml"); /* sorted */
        ASSERT_STREQ(e[1].file, "b.yml");
        ASSERT_STREQ(e[2].file, "c.json");
        ASSERT_STREQ(e[3].file, "link.yaml");
        for (size_t i = 0; i < n; i++) {
                ASSERT_NULL(e[i].error);
                ASSERT_EQ(e[i].n_pods, 1);
        }
        ASSERT_STREQ(e[3].pods[0]->name, "linked");
        pathf(p, sizeof(p), "m/a.yaml");
        ASSERT_STREQ(e[0].pods[0]->source, p);
        ASSERT_STREQ(e[0].pods[0]->full_name, "a-node1");

        /* nothing due until the periodic rescan */
        ASSERT_EQ(kl_source_next_deadline(s), now + 20000 * MS);
        ASSERT_FALSE(sync_at(s, now + 10 * MS, false));
        ASSERT_FALSE(sync_at(s, now + 20000 * MS, false)); /* rescan: nothing changed */

        /* changes to ignored files are not even a reason to sync */
        write_file("m/a.yaml~", "x", O_TRUNC);
        write_file("m/.a.yaml.swp", "x", O_TRUNC);
        ASSERT_EQ(kl_source_handle_events(s, now), 0);
        kl_source_free(s);
        cleanup();
}

TEST(debounce_several_writes_one_change) {
        uint64_t now = T0;
        char p[512];

        setup();
        struct kl_source *s = new_source("");
        ASSERT_FALSE(sync_at(s, now, false)); /* empty at start: nothing changed */
        ASSERT_EQ(n_entries(s), 0);

        /* the same pod written in three writes, 10 ms apart, by a writer that
         * keeps the file open: each write restarts the quiet time */
        const char *y = pod_yaml("web", "busybox:1");
        size_t third = strlen(y) / 3;
        pathf(p, sizeof(p), "web.yaml");
        int wfd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ASSERT_TRUE(wfd >= 0);
        for (int i = 0; i < 3; i++) {
                size_t len = i < 2 ? third : strlen(y) - 2 * third;
                ASSERT_EQ(write(wfd, y + i * third, len), (ssize_t) len);
                ASSERT_EQ(kl_source_handle_events(s, now), 1);
                ASSERT_EQ(kl_source_next_deadline(s), now + 100 * MS);
                /* not yet quiet: nothing is read */
                ASSERT_FALSE(sync_at(s, now + 99 * MS, false));
                ASSERT_EQ(n_entries(s), 0);
                now += 10 * MS;
        }
        /* closed: complete, read at once (no quiet time left to wait) */
        close(wfd);
        ASSERT_EQ(kl_source_handle_events(s, now), 1);
        ASSERT_EQ(kl_source_next_deadline(s), now);
        ASSERT_TRUE(sync_at(s, now, false));
        ASSERT_EQ(n_entries(s), 1);
        ASSERT_NULL(entry(s, "web.yaml")->error);
        ASSERT_EQ(entry(s, "web.yaml")->n_pods, 1);
        ASSERT_STREQ(entry(s, "web.yaml")->pods[0]->name, "web");
        ASSERT_FALSE(sync_at(s, now + 1, true)); /* one change, not more */

        /* a writer that keeps the file open: no parse until it closes */
        pathf(p, sizeof(p), "slow.yaml");
        int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ASSERT_TRUE(fd >= 0);
        y = pod_yaml("slow", "busybox:1");
        ASSERT_EQ(write(fd, y, 20), 20);
        ASSERT_EQ(kl_source_handle_events(s, now), 1);
        now += 100 * MS;
        ASSERT_FALSE(sync_at(s, now, false)); /* quiet, but still open */
        ASSERT_NULL(entry(s, "slow.yaml"));
        ASSERT_EQ(kl_source_next_deadline(s), now - 100 * MS + 5000 * MS);
        ASSERT_EQ(write(fd, y + 20, strlen(y) - 20), (ssize_t) strlen(y) - 20);
        close(fd);
        ASSERT_TRUE(settle(s, &now));
        ASSERT_EQ(entry(s, "slow.yaml")->n_pods, 1);
        ASSERT_NULL(entry(s, "slow.yaml")->error);

        /* ... and one that never closes is read after max_write_wait anyway */
        fd = open(p, O_WRONLY | O_TRUNC | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        y = pod_yaml("slow2", "busybox:1");
        ASSERT_EQ(write(fd, y, strlen(y)), (ssize_t) strlen(y));
        ASSERT_EQ(kl_source_handle_events(s, now), 1);
        ASSERT_FALSE(sync_at(s, now + 100 * MS, false));
        ASSERT_STREQ(entry(s, "slow.yaml")->pods[0]->name, "slow");
        ASSERT_TRUE(sync_at(s, now + 5000 * MS, false));
        ASSERT_STREQ(entry(s, "slow.yaml")->pods[0]->name, "slow2");
        close(fd);
        kl_source_free(s);
        cleanup();
}

/* issue 12, "start at the floor": a file that arrives complete is parsed at
 * once; only one still being written waits for the quiet time. */
TEST(complete_files_are_read_at_once) {
        uint64_t now = T0;
        char a[512], b[512];

        setup();
        struct kl_source *s = new_source("");
        ASSERT_FALSE(sync_at(s, now, false));

        /* written in one go and closed (cp, kubectl-like tools) */
        write_file("one.yaml", pod_yaml("one", "busybox:1"), 0);
        ASSERT_EQ(kl_source_handle_events(s, now), 1);
        ASSERT_EQ(kl_source_next_deadline(s), now);
        ASSERT_TRUE(sync_at(s, now, false));
        ASSERT_EQ(entry(s, "one.yaml")->n_pods, 1);

        /* renamed into place */
        now += 1000 * MS;
        write_file(".two.tmp", pod_yaml("two", "busybox:1"), 0);
        ASSERT_EQ(kl_source_handle_events(s, now), 0);
        pathf(a, sizeof(a), ".two.tmp");
        pathf(b, sizeof(b), "two.yaml");
        ASSERT_OK(rename(a, b));
        ASSERT_EQ(kl_source_handle_events(s, now), 1);
        ASSERT_EQ(kl_source_next_deadline(s), now);
        ASSERT_TRUE(sync_at(s, now, false));
        ASSERT_EQ(entry(s, "two.yaml")->n_pods, 1);

        /* a hard link */
        now += 1000 * MS;
        write_file("three.src", pod_yaml("three", "busybox:1"), 0);
        ASSERT_EQ(kl_source_handle_events(s, now), 0);
        pathf(a, sizeof(a), "three.src");
        pathf(b, sizeof(b), "three.yaml");
        ASSERT_OK(link(a, b));
        ASSERT_EQ(kl_source_handle_events(s, now), 1);
        ASSERT_EQ(kl_source_next_deadline(s), now);
        ASSERT_TRUE(sync_at(s, now, false));
        ASSERT_EQ(entry(s, "three.yaml")->n_pods, 1);

        /* an unlink is a removal: acted on at once */
        now += 1000 * MS;
        ASSERT_OK(unlink(b));
        ASSERT_EQ(kl_source_handle_events(s, now), 1);
        ASSERT_EQ(kl_source_next_deadline(s), now);
        ASSERT_TRUE(sync_at(s, now, false));
        ASSERT_NULL(entry(s, "three.yaml"));

        /* a file renamed away waits for the quiet time: an editor's save
         * moves the old file aside and writes the new one */
        now += 1000 * MS;
        pathf(a, sizeof(a), "two.yaml");
        pathf(b, sizeof(b), "two.yaml~");
        ASSERT_OK(rename(a, b));
        ASSERT_EQ(kl_source_handle_events(s, now), 1);
        ASSERT_EQ(kl_source_next_deadline(s), now + 100 * MS);
        /* ...and the new version written meanwhile is read, the pod kept */
        write_file("two.yaml", pod_yaml("two", "busybox:1"), 0);
        ASSERT_EQ(kl_source_handle_events(s, now + 10 * MS), 1);
        ASSERT_FALSE(sync_at(s, now + 10 * MS, false)); /* the same pod: nothing changed */
        ASSERT_EQ(entry(s, "two.yaml")->n_pods, 1);
        /* a complete file arriving meanwhile is not held back */
        write_file("four.yaml", pod_yaml("four", "busybox:1"), 0);
        ASSERT_EQ(kl_source_handle_events(s, now + 20 * MS), 1);
        ASSERT_EQ(kl_source_next_deadline(s), now + 20 * MS);
        ASSERT_TRUE(sync_at(s, now + 20 * MS, false));
        ASSERT_EQ(entry(s, "four.yaml")->n_pods, 1);

        /* complete but invalid, as the first of several appends: the error
         * waits for the quiet time, and the rest arriving makes it valid */
        now += 1000 * MS;
        write_file("five.yaml", "apiVersion: v1\nkind: Pod\n", 0);
        ASSERT_EQ(kl_source_handle_events(s, now), 1);
        (void) sync_at(s, now, false); /* parsed, error held: an entry without pods or error */
        ASSERT_NULL(entry(s, "five.yaml")->error);
        ASSERT_EQ(kl_source_next_deadline(s), now + 100 * MS);
        write_file("five.yaml", "metadata: {name: five}\nspec: {containers: [{name: c, image: b}]}\n", O_APPEND);
        ASSERT_EQ(kl_source_handle_events(s, now + 20 * MS), 1);
        ASSERT_TRUE(sync_at(s, now + 20 * MS, false));
        ASSERT_NULL(entry(s, "five.yaml")->error);
        ASSERT_EQ(entry(s, "five.yaml")->n_pods, 1);
        /* left invalid: the error shows after the quiet time */
        write_file("six.yaml", "apiVersion: v1\nkind: Pod\n", 0);
        ASSERT_EQ(kl_source_handle_events(s, now + 50 * MS), 1);
        (void) sync_at(s, now + 50 * MS, false);
        ASSERT_NULL(entry(s, "six.yaml")->error);
        ASSERT_TRUE(sync_at(s, now + 150 * MS, false));
        ASSERT_NOT_NULL(entry(s, "six.yaml")->error);
        ASSERT_TRUE(entry(s, "six.yaml")->error_is_new);
        kl_source_free(s);
        cleanup();
        printf("  closed, renamed and linked files: due at once; a removal: after 100 ms\n");
}

/* 40,000 ignored names: each reported once, and a rescan stays linear. */
TEST(many_ignored_names_reported_once_and_fast) {
        uint64_t now = T0;
        char p[512];
        size_t n, more;

        setup();
        for (int i = 0; i < 40000; i++) {
                pathf(p, sizeof(p), ".f%05d.yaml.swp", i);
                int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                ASSERT_TRUE(fd >= 0);
                close(fd);
        }
        write_file("web.manifest", pod_yaml("web", "busybox:1"), 0);
        struct kl_source *s = new_source("");
        uint64_t t0 = mono_usec();
        ASSERT_FALSE(sync_at(s, now, false)); /* nothing to read: no entries */
        uint64_t first = mono_usec() - t0;
        char *const *sk = kl_source_skipped(s, &n, &more);
        ASSERT_EQ(n, KL_SOURCE_SKIPPED_MAX);
        ASSERT_EQ(n + more, 40001);
        bool manifest_named = false;
        for (size_t i = 0; i < n; i++)
                if (streq(sk[i], "'web.manifest': not a .yaml, .yml or .json file"))
                        manifest_named = true;
        ASSERT_TRUE(manifest_named || more > 0);

        /* the next rescans report nothing new */
        t0 = mono_usec();
        ASSERT_FALSE(sync_at(s, now + 20000 * MS, false));
        uint64_t second = mono_usec() - t0;
        kl_source_skipped(s, &n, &more);
        ASSERT_EQ(n + more, 0);
        printf("  40,001 skipped names: first scan %llu ms, rescan %llu ms\n", (unsigned long long) (first / 1000),
               (unsigned long long) (second / 1000));
        ASSERT_TRUE(second < 1000 * 1000); /* was 2-2.7 s when quadratic */

        /* manifestSuffixes: .manifest is read, and the name is no longer skipped */
        char *const suffixes[] = {(char *) ".yaml", (char *) ".manifest", NULL};
        ASSERT_OK(kl_source_set_suffixes(s, suffixes));
        ASSERT_TRUE(sync_at(s, now + 20001 * MS, false));
        ASSERT_EQ(entry(s, "web.manifest")->n_pods, 1);
        kl_source_skipped(s, &n, &more);
        ASSERT_EQ(n + more, 40000); /* the set changed: reported again, once */
        kl_source_free(s);
        cleanup();
}

TEST(suffixes) {
        char *const gce[] = {(char *) ".manifest", NULL};
        char *const all[] = {(char *) "*", NULL};
        ASSERT_NULL(kl_source_ignore_reason_with("kube-proxy.manifest", gce));
        ASSERT_STREQ(kl_source_ignore_reason_with("web.yaml", gce), "its suffix is not in manifestSuffixes");
        ASSERT_NULL(kl_source_ignore_reason_with("etcd", all));
        ASSERT_NULL(kl_source_ignore_reason_with("web.yaml", all));
        /* whatever the suffixes: hidden, editor and backup files stay out */
        ASSERT_STREQ(kl_source_ignore_reason_with(".etcd", all), "hidden file");
        ASSERT_STREQ(kl_source_ignore_reason_with("etcd~", all), "editor temporary file");
        ASSERT_STREQ(kl_source_ignore_reason_with("etcd.bak", all), "backup or temporary file");
        ASSERT_STREQ(kl_source_ignore_reason("kube-proxy.manifest"), "not a .yaml, .yml or .json file");
}

TEST(rename_into_place_and_delete) {
        uint64_t now = T0;
        char a[512], b[512];

        setup();
        struct kl_source *s = new_source("");
        ASSERT_FALSE(sync_at(s, now, false));

        /* an editor's atomic save: temp file, then rename */
        write_file(".web.yaml.tmp", pod_yaml("web", "busybox:1"), 0);
        ASSERT_EQ(kl_source_handle_events(s, now), 0);
        pathf(a, sizeof(a), ".web.yaml.tmp");
        pathf(b, sizeof(b), "web.yaml");
        ASSERT_OK(rename(a, b));
        ASSERT_EQ(kl_source_handle_events(s, now), 1);
        now += 100 * MS;
        ASSERT_TRUE(sync_at(s, now, false));
        ASSERT_EQ(entry(s, "web.yaml")->n_pods, 1);
        char *uid = strdup(entry(s, "web.yaml")->pods[0]->uid);

        /* the same content saved again: same uid, nothing changed */
        write_file(".web.yaml.tmp", pod_yaml("web", "busybox:1"), 0);
        ASSERT_OK(rename(a, b));
        ASSERT_FALSE(settle(s, &now));
        ASSERT_STREQ(entry(s, "web.yaml")->pods[0]->uid, uid);

        /* new content: new uid */
        write_file(".web.yaml.tmp", pod_yaml("web", "busybox:2"), 0);
        ASSERT_OK(rename(a, b));
        ASSERT_TRUE(settle(s, &now));
        ASSERT_TRUE(!streq(entry(s, "web.yaml")->pods[0]->uid, uid));
        free(uid);

        /* moved away, then deleted */
        pathf(a, sizeof(a), "web.yaml.bak");
        ASSERT_OK(rename(b, a));
        ASSERT_TRUE(settle(s, &now));
        ASSERT_EQ(n_entries(s), 0);
        ASSERT_OK(rename(a, b));
        ASSERT_TRUE(settle(s, &now));
        ASSERT_EQ(n_entries(s), 1);
        ASSERT_OK(unlink(b));
        ASSERT_TRUE(settle(s, &now));
        ASSERT_EQ(n_entries(s), 0);
        kl_source_free(s);
        cleanup();
}

TEST(invalid_after_valid_keeps_last_good_pods) {
        uint64_t now = T0;

        setup();
        write_file("web.yaml", pod_yaml("web", "busybox:1"), 0);
        struct kl_source *s = new_source("");
        ASSERT_TRUE(sync_at(s, now, false));
        const struct kl_source_entry *e = entry(s, "web.yaml");
        char *uid = strdup(e->pods[0]->uid);
        ASSERT_NULL(e->error);
        ASSERT_FALSE(e->error_is_new);

        /* a typo: the running pod stays, the error is reported once */
        write_file(
                "web.yaml",
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: c\n    image: busybox:1\n    resources: {limits: {memory: 12Q}}\n",
                O_TRUNC);
        ASSERT_TRUE(settle(s, &now));
        e = entry(s, "web.yaml");
        ASSERT_EQ(e->n_pods, 1);
        ASSERT_STREQ(e->pods[0]->uid, uid);
        ASSERT_NOT_NULL(e->error);
        ASSERT_CONTAINS(e->error,
                        "/web.yaml:9:34: spec.containers[0].resources.limits.memory: invalid quantity \"12Q\"");
        ASSERT_TRUE(e->error_is_new);
        ASSERT_FALSE(sync_at(s, now + 1, true)); /* same state */
        ASSERT_FALSE(entry(s, "web.yaml")->error_is_new);

        /* a different problem is new again; a truncated file is one too */
        write_file("web.yaml", "", O_TRUNC);
        ASSERT_TRUE(settle(s, &now));
        e = entry(s, "web.yaml");
        ASSERT_CONTAINS(e->error, "no Pod in file");
        ASSERT_TRUE(e->error_is_new);
        ASSERT_STREQ(e->pods[0]->uid, uid);

        /* fixed: new pods, no error */
        write_file("web.yaml", pod_yaml("web", "busybox:2"), O_TRUNC);
        ASSERT_TRUE(settle(s, &now));
        e = entry(s, "web.yaml");
        ASSERT_NULL(e->error);
        ASSERT_FALSE(e->error_is_new);
        ASSERT_TRUE(!streq(e->pods[0]->uid, uid));
        free(uid);

        /* a file that was never valid has no pods */
        write_file("bad.yaml", "kind: Deployment\n", 0);
        ASSERT_TRUE(settle(s, &now));
        e = entry(s, "bad.yaml");
        ASSERT_EQ(e->n_pods, 0);
        ASSERT_NOT_NULL(e->error);
        ASSERT_NULL(entry(s, "web.yaml")->error); /* a bad file rejects only itself */
        kl_source_free(s);
        cleanup();
}

TEST(duplicate_pod_names) {
        uint64_t now = T0;
        char p[512];

        setup();
        write_file("a.yaml", pod_yaml("web", "busybox:1"), 0);
        write_file("b.yaml", pod_yaml("web", "busybox:2"), 0);
        write_file("c.yaml", pod_yaml("other", "busybox:1"), 0);
        struct kl_source *s = new_source("");
        ASSERT_TRUE(sync_at(s, now, false));
        ASSERT_EQ(entry(s, "a.yaml")->n_pods, 1);
        ASSERT_NULL(entry(s, "a.yaml")->error);
        ASSERT_EQ(entry(s, "b.yaml")->n_pods, 0);
        ASSERT_EQ(entry(s, "c.yaml")->n_pods, 1);
        char want[1024];
        snprintf(want, sizeof(want),
                 "%s/b.yaml:1:1: metadata.name: pod \"default/web\" is already defined in %s/a.yaml:1:1 "
                 "(the first file in sorted order wins)",
                 top, top);
        ASSERT_STREQ(entry(s, "b.yaml")->error, want);
        ASSERT_TRUE(entry(s, "b.yaml")->error_is_new);

        /* the winner goes away: the other file's pod takes over */
        pathf(p, sizeof(p), "a.yaml");
        ASSERT_OK(unlink(p));
        ASSERT_TRUE(settle(s, &now));
        ASSERT_NULL(entry(s, "b.yaml")->error);
        ASSERT_EQ(entry(s, "b.yaml")->n_pods, 1);
        ASSERT_STREQ(entry(s, "b.yaml")->pods[0]->containers[0].image, "busybox:2");

        /* an earlier file claims the name: it wins, even over a running pod */
        write_file("0.yaml", pod_yaml("web", "busybox:0"), 0);
        ASSERT_TRUE(settle(s, &now));
        ASSERT_EQ(entry(s, "0.yaml")->n_pods, 1);
        ASSERT_EQ(entry(s, "b.yaml")->n_pods, 0);
        ASSERT_CONTAINS(entry(s, "b.yaml")->error, "is already defined in");

        /* a later file taking an existing name keeps its own last good pods */
        write_file("c.yaml", pod_yaml("web", "busybox:9"), O_TRUNC);
        ASSERT_TRUE(settle(s, &now));
        ASSERT_EQ(entry(s, "c.yaml")->n_pods, 1);
        ASSERT_STREQ(entry(s, "c.yaml")->pods[0]->name, "other");
        ASSERT_CONTAINS(entry(s, "c.yaml")->error,
                        "/c.yaml:1:1: metadata.name: pod \"default/web\" is already defined in");
        kl_source_free(s);
        cleanup();
}

TEST(directory_deleted_and_recreated) {
        uint64_t now = T0;
        char d[512];

        setup();
        pathf(d, sizeof(d), "m");
        ASSERT_OK(mkdir(d, 0755));
        write_file("m/web.yaml", pod_yaml("web", "busybox:1"), 0);
        struct kl_source *s = new_source("m");
        ASSERT_TRUE(sync_at(s, now, false));
        ASSERT_EQ(n_entries(s), 1);

        /* deleted: its pods go away, as upstream does */
        ASSERT_EQ(system(({
                          static char cmd[600];
                          snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
                          cmd;
                  })),
                  0);
        ASSERT_EQ(kl_source_handle_events(s, now), 1);
        ASSERT_TRUE(settle(s, &now));
        ASSERT_EQ(n_entries(s), 0);
        ASSERT_TRUE(kl_source_next_deadline(s) < UINT64_MAX); /* retried */

        /* recreated: seen through the parent's watch, then watched again */
        ASSERT_OK(mkdir(d, 0755));
        ASSERT_EQ(kl_source_handle_events(s, now), 1);
        ASSERT_FALSE(settle(s, &now)); /* empty directory: no entries either way */
        write_file("m/web.yaml", pod_yaml("web", "busybox:1"), 0);
        ASSERT_EQ(kl_source_handle_events(s, now), 1);
        ASSERT_TRUE(settle(s, &now));
        ASSERT_EQ(entry(s, "web.yaml")->n_pods, 1);

        /* moved away counts as gone as well */
        char moved[512];
        pathf(moved, sizeof(moved), "moved");
        ASSERT_OK(rename(d, moved));
        ASSERT_TRUE(settle(s, &now));
        ASSERT_EQ(n_entries(s), 0);
        ASSERT_OK(rename(moved, d));
        ASSERT_TRUE(settle(s, &now));
        ASSERT_EQ(n_entries(s), 1);
        kl_source_free(s);
        cleanup();
}

TEST(directory_missing_at_start) {
        uint64_t now = T0;
        char d[512];

        setup();
        struct kl_source *s = new_source("etc/kubernetes/manifests");
        ASSERT_FALSE(sync_at(s, now, false));
        ASSERT_EQ(n_entries(s), 0);
        ASSERT_EQ(kl_source_next_deadline(s), now + 20000 * MS);

        /* each level that appears moves the watch closer */
        pathf(d, sizeof(d), "etc");
        ASSERT_OK(mkdir(d, 0755));
        ASSERT_EQ(kl_source_handle_events(s, now), 1);
        ASSERT_FALSE(settle(s, &now));
        pathf(d, sizeof(d), "etc/kubernetes");
        ASSERT_OK(mkdir(d, 0755));
        ASSERT_EQ(kl_source_handle_events(s, now), 1);
        ASSERT_FALSE(settle(s, &now));
        pathf(d, sizeof(d), "etc/kubernetes/manifests");
        ASSERT_OK(mkdir(d, 0755));
        write_file("etc/kubernetes/manifests/web.yaml", pod_yaml("web", "busybox:1"), 0);
        ASSERT_EQ(kl_source_handle_events(s, now), 1);
        ASSERT_TRUE(settle(s, &now));
        ASSERT_EQ(entry(s, "web.yaml")->n_pods, 1);

        /* and from now on it is watched directly */
        write_file("etc/kubernetes/manifests/two.yaml", pod_yaml("two", "busybox:1"), 0);
        ASSERT_EQ(kl_source_handle_events(s, now), 1);
        ASSERT_TRUE(settle(s, &now));
        ASSERT_EQ(n_entries(s), 2);
        kl_source_free(s);
        cleanup();
}

TEST(directory_symlink_switched) {
        uint64_t now = T0;
        char a[512], b[512], m[512], tmp[512];

        setup();
        pathf(a, sizeof(a), "a");
        pathf(b, sizeof(b), "b");
        pathf(m, sizeof(m), "m");
        pathf(tmp, sizeof(tmp), "m.new");
        ASSERT_OK(mkdir(a, 0755));
        ASSERT_OK(mkdir(b, 0755));
        write_file("a/one.yaml", pod_yaml("one", "busybox:1"), 0);
        write_file("b/two.yaml", pod_yaml("two", "busybox:1"), 0);
        ASSERT_OK(symlink("a", m));
        struct kl_source *s = new_source("m");
        ASSERT_TRUE(sync_at(s, now, false));
        ASSERT_NOT_NULL(entry(s, "one.yaml"));

        /* switch the link atomically: the watched directory sees nothing */
        ASSERT_OK(symlink("b", tmp));
        ASSERT_OK(rename(tmp, m));
        (void) kl_source_handle_events(s, now);
        now = kl_source_next_deadline(s); /* the periodic rescan */
        ASSERT_TRUE(sync_at(s, now, false));
        ASSERT_NULL(entry(s, "one.yaml"));
        ASSERT_NOT_NULL(entry(s, "two.yaml"));

        /* and the new target is watched from now on */
        write_file("b/three.yaml", pod_yaml("three", "busybox:1"), 0);
        ASSERT_EQ(kl_source_handle_events(s, now), 1);
        ASSERT_TRUE(settle(s, &now));
        ASSERT_NOT_NULL(entry(s, "three.yaml"));
        kl_source_free(s);
        cleanup();
}

/* Throw away pending inotify events, as if the queue had overflowed. */
static void lose_events(struct kl_source *s) {
        char buf[65536];
        while (read(kl_source_fd(s), buf, sizeof(buf)) > 0)
                ;
}

TEST(rescan_catches_lost_events) {
        uint64_t now = T0;

        setup();
        write_file("web.yaml", pod_yaml("web", "busybox:1"), 0);
        struct kl_source *s = new_source("");
        ASSERT_TRUE(sync_at(s, now, false));

        /* lost events: a forced sync rereads everything */
        write_file("web.yaml", pod_yaml("web", "busybox:22"), O_TRUNC);
        write_file("new.yaml", pod_yaml("new", "busybox:1"), 0);
        lose_events(s);
        ASSERT_EQ(kl_source_handle_events(s, now), 0);
        ASSERT_FALSE(sync_at(s, now + 1, false)); /* nothing known to be due */
        ASSERT_TRUE(sync_at(s, now + 2, true));
        ASSERT_STREQ(entry(s, "web.yaml")->pods[0]->containers[0].image, "busybox:22");
        ASSERT_EQ(entry(s, "new.yaml")->n_pods, 1);
        now += 2;

        /* lost events: the periodic rescan finds the change by (ino, size, mtime, ctime) */
        write_file("web.yaml", pod_yaml("web", "busybox:333"), O_TRUNC);
        lose_events(s);
        now = kl_source_next_deadline(s);
        ASSERT_TRUE(sync_at(s, now, false));
        ASSERT_STREQ(entry(s, "web.yaml")->pods[0]->containers[0].image, "busybox:333");
        kl_source_free(s);
        cleanup();
}

TEST(queue_overflow_rescans) {
        uint64_t now = T0;
        char a[512], b[512];
        long max = 0;
        FILE *f = fopen("/proc/sys/fs/inotify/max_queued_events", "re");

        if (!f || fscanf(f, "%ld", &max) != 1 || max > 100000) {
                if (f)
                        fclose(f);
                SKIP("max_queued_events is %ld, too many events to provoke an overflow", max);
        }
        fclose(f);
        setup();
        write_file("web.yaml", pod_yaml("web", "busybox:1"), 0);
        write_file("x.txt", "", 0);
        write_file("y.txt", "", 0);
        struct kl_source *s = new_source("");
        ASSERT_TRUE(sync_at(s, now, false));

        /* Alternate two ignored files so that the kernel cannot merge the
         * events: only the overflow itself can make a sync due. */
        pathf(a, sizeof(a), "y.txt");
        pathf(b, sizeof(b), "x.txt");
        for (long i = 0; i <= max; i++)
                ASSERT_OK(chmod(i % 2 ? a : b, i % 4 < 2 ? 0644 : 0640));
        write_file("late.yaml", pod_yaml("late", "busybox:1"), 0); /* its event is lost */
        ASSERT_EQ(kl_source_handle_events(s, now), 1);
        ASSERT_TRUE(settle(s, &now));
        ASSERT_EQ(entry(s, "late.yaml")->n_pods, 1);
        printf("  overflowed the queue with %ld events\n", max + 1);
        kl_source_free(s);
        cleanup();
}

TEST(api_edges) {
        struct kl_source *s = NULL;
        ASSERT_ERR(kl_source_new("", "n", NULL, &s), EINVAL);
        ASSERT_ERR(kl_source_new("/x", NULL, NULL, &s), EINVAL);
        ASSERT_NULL(kl_source_free(NULL));

        /* a relative directory is made absolute, so uids do not depend on the cwd */
        setup();
        char cwd[512];
        ASSERT_NOT_NULL(getcwd(cwd, sizeof(cwd)));
        ASSERT_OK(chdir(top));
        write_file("web.yaml", pod_yaml("web", "busybox:1"), 0);
        ASSERT_OK(kl_source_new(".//./", "node1", NULL, &s));
        ASSERT_TRUE(sync_at(s, T0, false));
        char want[600];
        snprintf(want, sizeof(want), "%s/web.yaml", top);
        ASSERT_STREQ(entry(s, "web.yaml")->pods[0]->source, want);
        ASSERT_OK(chdir(cwd));
        kl_source_free(s);
        cleanup();
}

TEST_MAIN()
