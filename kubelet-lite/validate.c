/* SPDX-License-Identifier: Apache-2.0 */
#include "kubelet-lite/validate.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kubelet-lite/config.h"
#include "lib/macros.h"
#include "manifests/manifest.h"
#include "manifests/pod.h"
#include "manifests/source.h"

struct seen_pod {
        char *key; /* namespace/name */
        char *file;
};

struct state {
        struct kl_manifest_opts opts;
        char **suffixes; /* manifestSuffixes of --config */
        const char *node;
        struct seen_pod *seen;
        size_t n_seen;
        unsigned n_files, n_bad_files, n_pods, n_errors;
};

static void usage(FILE *f) {
        fprintf(f, "Usage: kubelet-lite validate [--config FILE] [--strict] [--node-name NAME] FILE|DIR...\n"
                   "\n"
                   "Check static pod manifests the way the daemon reads them, without a\n"
                   "container runtime. A directory is read like the manifest directory:\n"
                   "only *.yaml, *.yml and *.json (or the config's manifestSuffixes),\n"
                   "editor and backup files skipped; each skipped name is listed, and a\n"
                   "FILE the daemon would skip in its directory gets a note.\n"
                   "\n"
                   "  --config FILE       KubeletConfiguration: manifestSuffixes, strictManifests\n"
                   "  --strict            unknown fields are errors, not warnings\n"
                   "  --node-name NAME    node name for full pod names and uids\n"
                   "                      (default: the host name, lowercased)\n"
                   "  -h, --help          show this help\n"
                   "\n"
                   "Exit status: 0 when everything is valid, 1 otherwise.\n");
}

static void print_container(const struct kl_container *c, const char *what) {
        printf("  %s %s: image %s (pull %s)\n", what, c->name, c->image,
               kl_pull_policy_to_string(c->image_pull_policy));
}

static void print_pod(const struct kl_pod *p) {
        printf("pod %s (namespace %s, uid %s, QoS %s) from %s\n", p->full_name, p->namespace, p->uid,
               kl_qos_class_to_string(kl_pod_qos_class(p)), p->source);
        for (size_t i = 0; i < p->n_init_containers; i++)
                print_container(&p->init_containers[i], p->init_containers[i].restart_policy == KL_RESTART_ALWAYS
                                                                ? "sidecar container"
                                                                : "init container");
        for (size_t i = 0; i < p->n_containers; i++)
                print_container(&p->containers[i], "container");
}

static void print_lines(const char *prefix, const char *text) {
        /* an entry's error may hold several lines */
        for (const char *p = text; p && *p;) {
                size_t n = strcspn(p, "\n");
                fprintf(stderr, "%s%.*s\n", prefix, (int) n, p);
                p += n;
                if (*p)
                        p++;
        }
}

/* Across all arguments a namespace/name may appear once, as in one directory. */
static bool claim(struct state *st, const struct kl_pod *p) {
        char *key;
        if (asprintf(&key, "%s/%s", p->namespace, p->name) < 0)
                return false;
        for (size_t i = 0; i < st->n_seen; i++)
                if (streq(st->seen[i].key, key)) {
                        fprintf(stderr, "%s: metadata.name: pod \"%s\" is already defined in %s\n", p->source, key,
                                st->seen[i].file);
                        free(key);
                        st->n_errors++;
                        return false;
                }
        struct seen_pod *v = realloc(st->seen, (st->n_seen + 1) * sizeof(*v));
        if (!v) {
                free(key);
                return false;
        }
        st->seen = v;
        st->seen[st->n_seen++] = (struct seen_pod){key, strdup(p->source)};
        return true;
}

static unsigned count_char(const char *s, char c) {
        unsigned n = 0;
        for (; *s; s++)
                n += *s == c;
        return n;
}

static void report(struct state *st, const char *file, struct kl_pod **pods, size_t n_pods, const char *error,
                   char **errors, char **warnings) {
        bool bad = error || errors;

        st->n_files++;
        for (char **w = warnings; w && *w; w++)
                print_lines("warning: ", *w);
        if (error)
                print_lines("", error);
        for (char **e = errors; e && *e; e++)
                print_lines("", *e);
        if (error)
                st->n_errors += 1 + count_char(error, '\n');
        for (char **e = errors; e && *e; e++)
                st->n_errors++;
        if (!bad)
                for (size_t i = 0; i < n_pods; i++) {
                        if (!claim(st, pods[i])) {
                                bad = true;
                                continue;
                        }
                        print_pod(pods[i]);
                        st->n_pods++;
                }
        if (bad)
                st->n_bad_files++;
        (void) file;
}

static int validate_dir(struct state *st, const char *path) {
        _cleanup_(kl_source_freep) struct kl_source *s = NULL;
        const struct kl_source_entry *e;
        size_t n;
        bool changed;
        int r;

        r = kl_source_new(path, st->node, &st->opts, &s);
        if (r >= 0 && st->suffixes)
                r = kl_source_set_suffixes(s, st->suffixes);
        if (r >= 0)
                r = kl_source_sync(s, 0, true, &changed);
        if (r < 0) {
                fprintf(stderr, "%s: cannot read directory: %s\n", path, strerror(-r));
                st->n_errors++;
                st->n_bad_files++;
                return r;
        }

        /* say what the daemon would skip, so nothing is a surprise */
        DIR *d = opendir(path);
        if (d) {
                for (struct dirent *de; (de = readdir(d));) {
                        const char *why = kl_source_ignore_reason_with(de->d_name, st->suffixes);
                        if (why && !streq(de->d_name, ".") && !streq(de->d_name, ".."))
                                printf("skipped %s/%s: %s\n", path, de->d_name, why);
                }
                closedir(d);
        }

        e = kl_source_entries(s, &n);
        if (n == 0)
                printf("%s: no manifests\n", path);
        for (size_t i = 0; i < n; i++)
                report(st, e[i].file, e[i].error ? NULL : e[i].pods, e[i].n_pods, e[i].error, NULL, e[i].warnings);
        return 0;
}

static void validate_file(struct state *st, const char *arg) {
        _cleanup_free_ char *path = NULL;
        struct kl_manifest m;
        int r;

        /* the daemon names a file by its absolute path, and the uid depends on it */
        if (kl_source_absolute_path(arg, &path) < 0) {
                fprintf(stderr, "%s: out of memory\n", arg);
                st->n_errors++;
                return;
        }
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        const char *why = kl_source_ignore_reason_with(base, st->suffixes);
        if (why)
                printf("note: the daemon would skip %s in its manifest directory: %s%s\n", path, why,
                       st->suffixes ? "" : " (see manifestSuffixes in docs/CONFIG.md)");
        r = kl_manifest_parse_file(AT_FDCWD, path, path, st->node, &st->opts, &m);
        if (r == -ENOMEM) {
                fprintf(stderr, "%s: out of memory\n", path);
                st->n_errors++;
                return;
        }
        report(st, path, m.pods, m.n_pods, NULL, m.errors, m.warnings);
        kl_manifest_done(&m);
}

int kl_validate_main(int argc, char **argv) {
        static const struct option options[] = {
                {"strict", no_argument, NULL, 's'},
                {"config", required_argument, NULL, 'c'},
                {"node-name", required_argument, NULL, 'n'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        struct state st = {0};
        char host[HOST_NAME_MAX + 1];
        struct kl_config cfg;
        bool strict = false;
        int c, ret = 1;

        kl_manifest_opts_default(&st.opts);
        kl_config_init(&cfg);
        optind = 0; /* reset GNU getopt whatever ran before */
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 's': strict = true; break;
                case 'c': {
                        struct kl_error err = {};
                        if (kl_config_load_file(&cfg, optarg, NULL, &err) < 0) {
                                fprintf(stderr, "config: %s\n", kl_error_str(&err));
                                kl_config_done(&cfg);
                                return 1;
                        }
                        break;
                }
                case 'n': st.node = optarg; break;
                case 'h':
                        usage(stdout);
                        kl_config_done(&cfg);
                        return 0;
                default:
                        usage(stderr);
                        kl_config_done(&cfg);
                        return 1;
                }
        st.opts.strict = strict || cfg.strict_manifests;
        st.suffixes = cfg.manifest_suffixes;
        if (optind >= argc) {
                usage(stderr);
                kl_config_done(&cfg);
                return 1;
        }
        if (!st.node) {
                if (gethostname(host, sizeof(host)) < 0)
                        snprintf(host, sizeof(host), "localhost");
                host[sizeof(host) - 1] = '\0';
                for (char *p = host; *p; p++)
                        *p = (char) tolower((unsigned char) *p);
                st.node = host;
        }

        for (int i = optind; i < argc; i++) {
                struct stat sb;
                if (stat(argv[i], &sb) < 0) {
                        fprintf(stderr, "%s: %m\n", argv[i]);
                        st.n_errors++;
                        st.n_bad_files++;
                } else if (S_ISDIR(sb.st_mode))
                        validate_dir(&st, argv[i]);
                else
                        validate_file(&st, argv[i]);
        }

        for (size_t i = 0; i < st.n_seen; i++) {
                free(st.seen[i].key);
                free(st.seen[i].file);
        }
        free(st.seen);

        if (st.n_errors == 0 && st.n_bad_files == 0) {
                printf("valid: %u pods in %u files (node %s)\n", st.n_pods, st.n_files, st.node);
                ret = 0;
        } else
                fprintf(stderr, "invalid: %u errors in %u of %u files\n", st.n_errors, st.n_bad_files, st.n_files);
        kl_config_done(&cfg);
        return ret;
}
