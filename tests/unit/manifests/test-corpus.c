/* SPDX-License-Identifier: Apache-2.0 */
/* The manifest corpora under tests/data/manifests:
 *   bad/NAME.yaml (or .json) must be rejected with exactly the lines of
 *   bad/NAME.expected ("strict-*" files are read in strict mode);
 *   good/ and manifests/examples/ must be valid without any warning.
 * KL_UPDATE_EXPECTED=1 rewrites the .expected files (review the diff!). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fileio.h"
#include "lib/macros.h"
#include "manifests/manifest.h"
#include "manifests/strv.h"
#include "tests/lib/tests.h"

static char *data_path(const char *rel) {
        const char *top = getenv("KL_TOP");
        char *p;
        if (asprintf(&p, "%s/%s", top ? top : ".", rel) < 0)
                return NULL;
        return p;
}

static bool is_manifest(const char *name) {
        size_t n = strlen(name);
        return (n > 5 && streq(name + n - 5, ".yaml")) || (n > 5 && streq(name + n - 5, ".json"));
}

/* Sorted manifest names of a directory. */
static char **list(const char *dir) {
        char **v = NULL;
        DIR *d = opendir(dir);
        if (!d)
                return NULL;
        for (struct dirent *de; (de = readdir(d));)
                if (is_manifest(de->d_name))
                        ASSERT_OK(kl__strv_push(&v, de->d_name));
        closedir(d);
        for (size_t i = 1; v && v[i]; i++)
                for (size_t k = i; k > 0 && strcmp(v[k - 1], v[k]) > 0; k--) {
                        char *t = v[k];
                        v[k] = v[k - 1];
                        v[k - 1] = t;
                }
        return v;
}

static void parse_in(const char *dir, const char *name, bool strict, struct kl_manifest *m) {
        struct kl_manifest_opts o;
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(dfd >= 0);
        kl_manifest_opts_default(&o);
        o.strict = strict;
        int r = kl_manifest_parse_file(dfd, name, name, "node1", &o, m);
        ASSERT_TRUE(r == 0 || r == -EINVAL);
}

TEST(bad_manifests_report_exact_errors) {
        _cleanup_free_ char *dir = data_path("tests/data/manifests/bad");
        _cleanup_strv_free_ char **names = list(dir);
        bool update = getenv("KL_UPDATE_EXPECTED") != NULL;
        size_t n = 0, failed = 0;

        ASSERT_NOT_NULL(names);
        for (size_t i = 0; names[i]; i++) {
                struct kl_manifest m;
                _cleanup_free_ char *got = NULL, *want = NULL, *exp_name = NULL;
                size_t len;

                parse_in(dir, names[i], strncmp(names[i], "strict-", 7) == 0, &m);
                ASSERT_EQ(m.n_pods, 0);
                ASSERT_NOT_NULL(m.errors);
                char *joined = kl__strv_join(m.errors, "\n");
                ASSERT_NOT_NULL(joined);
                ASSERT_TRUE(asprintf(&got, "%s\n", joined) > 0);
                free(joined);
                kl_manifest_done(&m);

                ASSERT_TRUE(asprintf(&exp_name, "%s/%.*s.expected", dir, (int) (strlen(names[i]) - 5), names[i]) > 0);
                if (update) {
                        int fd = open(exp_name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                        ASSERT_TRUE(fd >= 0);
                        ASSERT_OK(kl_write_all(fd, got, strlen(got)));
                        close(fd);
                }
                if (kl_read_file_at(AT_FDCWD, exp_name, 1 << 20, 0, &want, &len) < 0) {
                        fprintf(stderr, "  %s: missing %s\n", names[i], exp_name);
                        failed++;
                        continue;
                }
                if (!streq(got, want)) {
                        fprintf(stderr, "  %s: want:\n%s  got:\n%s", names[i], want, got);
                        failed++;
                        continue;
                }
                printf("  %s: %s", names[i], got);
                n++;
        }
        ASSERT_EQ(failed, 0);
        ASSERT_GE(n, 40);
        printf("  %zu bad manifests rejected as expected\n", n);
}

/* good/NAME.warnings, when present, holds the exact warnings NAME must give
 * (e.g. that upstream runs only the first document); else none. */
static void check_valid_dir(const char *rel) {
        _cleanup_free_ char *dir = data_path(rel);
        _cleanup_strv_free_ char **names = list(dir);
        size_t n = 0;

        ASSERT_NOT_NULL(names);
        for (size_t i = 0; names[i]; i++) {
                struct kl_manifest m;
                _cleanup_free_ char *wname = NULL, *want = NULL, *got = NULL;
                parse_in(dir, names[i], true, &m);
                for (char **e = m.errors; e && *e; e++)
                        fprintf(stderr, "  %s\n", *e);
                ASSERT_NULL(m.errors);
                ASSERT_TRUE(asprintf(&wname, "%s/%.*s.warnings", dir, (int) (strlen(names[i]) - 5), names[i]) > 0);
                if (kl_read_file_at(AT_FDCWD, wname, 1 << 20, 0, &want, NULL) == 0) {
                        char *joined = m.warnings ? kl__strv_join(m.warnings, "\n") : NULL;
                        ASSERT_TRUE(asprintf(&got, "%s\n", strempty(joined)) > 0);
                        free(joined);
                        if (!streq(got, want))
                                fprintf(stderr, "  %s: want warnings:\n%s  got:\n%s", names[i], want, got);
                        ASSERT_STREQ(got, want);
                        printf("  %s: warns as expected: %s", names[i], got);
                } else {
                        for (char **e = m.warnings; e && *e; e++)
                                fprintf(stderr, "  warning: %s\n", *e);
                        ASSERT_NULL(m.warnings);
                }
                ASSERT_GE(m.n_pods, 1);
                printf("  %s/%s: %zu pods\n", rel, names[i], m.n_pods);
                kl_manifest_done(&m);
                n++;
        }
        ASSERT_GE(n, 2);
}

TEST(good_manifests_are_valid_and_quiet) {
        check_valid_dir("tests/data/manifests/good");
}

TEST(examples_are_valid_and_quiet) {
        check_valid_dir("manifests/examples");
}

TEST_MAIN()
