/* SPDX-License-Identifier: Apache-2.0 */
/* A manifest file: documents -> pods, all or nothing. */
#include "manifests/manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/macros.h"
#include "manifests/identity.h"
#include "manifests/names.h"
#include "manifests/schema.h"
#include "manifests/strv.h"

void kl_manifest_opts_default(struct kl_manifest_opts *ret) {
        *ret = (struct kl_manifest_opts){
                .max_file_size = 1024 * 1024,
                .max_depth = 64,
                .max_nodes = 100000,
                .max_scalar_len = 64 * 1024,
                .max_containers = 64,
                .max_documents = 64,
                .max_errors = 20,
                .strict = false,
                .debounce_usec = 100 * 1000,
                .rescan_usec = 20 * 1000 * 1000,
                .max_write_wait_usec = 5 * 1000 * 1000,
        };
}

void kl_manifest_done(struct kl_manifest *m) {
        if (!m)
                return;
        for (size_t i = 0; i < m->n_pods; i++)
                kl_pod_free(m->pods[i]);
        free(m->pods);
        kl__strv_free(m->errors);
        kl__strv_free(m->warnings);
        *m = (struct kl_manifest){0};
}

/* A document of another kind (a Service next to the Pod, as `podman kube
 * generate` writes): 1 when it is to be skipped with a warning. */
static int other_kind(struct kl__dec *d, const struct kl_yaml_node *root) {
        const struct kl_yaml_node *kind = kl_yaml_map_get(root, "kind");
        size_t saved;

        if (!kind || kind->type != KL_YAML_SCALAR || kind->scalar.kind != KL_YAML_STR || !kind->scalar.value[0] ||
            streq(kind->scalar.value, "Pod"))
                return 0;
        saved = kl__dec_push(d, "kind");
        kl__dec_warning(d, kind->pos, "%s document skipped: only Pod documents are static pods",
                        kl__dec_q(d, kind->scalar.value));
        kl__dec_pop(d, saved);
        return 1;
}

/* apiVersion and kind of one document; false when it is not a v1 Pod. */
static bool check_type(struct kl__dec *d, const struct kl_yaml_node *root) {
        const struct kl_yaml_node *kind = kl_yaml_map_get(root, "kind");
        const struct kl_yaml_node *api = kl_yaml_map_get(root, "apiVersion");
        bool ok = true;
        size_t saved;

        saved = kl__dec_push(d, "kind");
        if (!kind || kl_yaml_is_null(kind))
                kl__dec_error(d, root->pos, "missing (only \"Pod\" is supported)");
        else if (kind->type != KL_YAML_SCALAR || !streq(kind->scalar.value, "Pod"))
                kl__dec_error(d, kind->pos, "%s is not supported: only Pod documents can be static pods",
                              kind->type == KL_YAML_SCALAR ? kl__dec_q(d, kind->scalar.value) : "this value");
        if (!kind || kind->type != KL_YAML_SCALAR || !streq(kind->scalar.value, "Pod"))
                ok = false;
        kl__dec_pop(d, saved);

        saved = kl__dec_push(d, "apiVersion");
        if (!api || kl_yaml_is_null(api)) {
                kl__dec_error(d, root->pos, "missing (must be \"v1\")");
                ok = false;
        } else if (api->type != KL_YAML_SCALAR || !streq(api->scalar.value, "v1")) {
                kl__dec_error(d, api->pos, "%s is not supported: must be \"v1\"",
                              api->type == KL_YAML_SCALAR ? kl__dec_q(d, api->scalar.value) : "this value");
                ok = false;
        }
        kl__dec_pop(d, saved);
        return ok;
}

static void set_identity(struct kl__dec *d, struct kl_pod *p, const char *file) {
        int r;

        if (kl_check_dns1123_subdomain(p->name))
                return; /* reported already */
        r = kl_pod_set_identity(p, d->node_name, file);
        if (r == -EINVAL) {
                _cleanup_free_ char *full = NULL;
                if (asprintf(&full, "%s-%s", p->name, d->node_name) < 0) {
                        d->oom = true;
                        return;
                }
                kl__dec_set_path(d, "metadata.name");
                kl__dec_error(d, p->pos,
                              "full name %s (name, '-', node name) must be a lowercase RFC 1123 "
                              "subdomain of at most 253 characters",
                              kl__dec_q(d, full));
                kl__dec_set_path(d, "%s", "");
        } else if (r < 0)
                d->oom = true;
}

int kl_manifest_parse(const char *data, size_t len, const char *file, const char *node_name,
                      const struct kl_manifest_opts *opts, struct kl_manifest *ret) {
        struct kl_manifest_opts defaults;
        struct kl_yaml_limits lim;
        struct kl_yaml_error yerr = {0};
        struct kl_yaml_doc *docs = NULL;
        size_t n_docs = 0, n_pod_docs = 0, n_other = 0;
        struct kl_pos first_other = {0, 0};
        const char *first_other_kind = NULL;
        struct kl__dec d;
        int r;

        *ret = (struct kl_manifest){0};
        if (!opts) {
                kl_manifest_opts_default(&defaults);
                opts = &defaults;
        }
        if (!file)
                file = "-";
        kl__dec_init(&d, file, opts);
        d.node_name = node_name;

        if (len > opts->max_file_size) {
                kl__dec_error(&d, (struct kl_pos){0, 0}, "file is too large (%zu bytes, at most %zu)", len,
                              opts->max_file_size);
                goto finish;
        }
        /* a UTF-8 byte order mark, as some Windows editors write */
        if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
                data += 3;
                len -= 3;
        }
        lim = (struct kl_yaml_limits){
                .max_depth = opts->max_depth,
                .max_nodes = opts->max_nodes,
                .max_scalar_len = opts->max_scalar_len,
                .max_documents = opts->max_documents,
        };
        r = kl_yaml_parse(data, len, &lim, &docs, &n_docs, &yerr);
        if (r == -ENOMEM) {
                d.oom = true;
                goto finish;
        }
        if (r < 0) {
                kl__dec_error(&d, yerr.pos, "%s", yerr.msg);
                goto finish;
        }

        for (size_t i = 0; i < n_docs && !d.oom; i++) {
                const struct kl_yaml_node *root = docs[i].root;
                struct kl_pod *p;

                if (!root || kl_yaml_is_null(root))
                        continue; /* empty document */
                if (root->type == KL_YAML_MAPPING && other_kind(&d, root)) {
                        n_other++;
                        if (n_other == 1) {
                                first_other = kl_yaml_map_get(root, "kind")->pos;
                                first_other_kind = kl_yaml_map_get(root, "kind")->scalar.value;
                        }
                        continue;
                }
                n_pod_docs++;
                if (root->type != KL_YAML_MAPPING) {
                        kl__dec_error(&d, root->pos, "a document must be a mapping (a Pod object)");
                        continue;
                }
                if (!check_type(&d, root))
                        continue;
                /* upstream's tryDecodeSinglePod converts only the first YAML
                 * document of a file (utilyaml.ToJSON) */
                if (n_pod_docs == 2)
                        kl__dec_warning(&d, root->pos,
                                        "a second Pod in this file: kubelet-lite runs every Pod document, upstream "
                                        "kubelet runs only the first document of a file");
                if (n_pod_docs == 1 && n_other > 0 && first_other.line < root->pos.line)
                        kl__dec_warning(&d, first_other,
                                        "upstream kubelet reads only the first document of a file and would refuse "
                                        "this one; kubelet-lite skips it and runs the Pod below");
                p = kl__decode_pod(&d, root);
                if (!p)
                        break;
                if (kl_yaml_canonical_digest(root, p->content_digest) < 0)
                        d.oom = true;
                p->has_content_digest = true;
                if (node_name && p->name && !d.oom)
                        set_identity(&d, p, file);
                /* one pod name per file: later documents would silently win */
                for (size_t k = 0; k < ret->n_pods && p->name; k++)
                        if (streq_ptr(ret->pods[k]->name, p->name) &&
                            streq_ptr(ret->pods[k]->namespace, p->namespace)) {
                                kl__dec_set_path(&d, "metadata.name");
                                kl__dec_error(&d, p->pos, "pod \"%s/%s\" is already defined at line %u", p->namespace,
                                              p->name, ret->pods[k]->pos.line);
                                kl__dec_set_path(&d, "%s", "");
                                break;
                        }
                struct kl_pod **pods = realloc(ret->pods, (ret->n_pods + 1) * sizeof(*pods));
                if (!pods) {
                        kl_pod_free(p);
                        d.oom = true;
                        break;
                }
                ret->pods = pods;
                ret->pods[ret->n_pods++] = p;
        }
        if (n_pod_docs == 0 && n_other > 0 && !d.errors)
                kl__dec_error(&d, first_other, "no Pod in file: a %s, and only Pod documents are static pods",
                              kl__dec_q(&d, first_other_kind));
        else if (n_pod_docs == 0 && !d.errors)
                kl__dec_error(&d, (struct kl_pos){0, 0},
                              "no Pod in file (an empty file is treated as half-written; delete the "
                              "file to remove its pods)");

finish:
        kl_yaml_docs_free(docs, n_docs);
        r = kl__dec_finish(&d, ret);
        kl__dec_done(&d);
        if (r < 0 || ret->errors) {
                for (size_t i = 0; i < ret->n_pods; i++)
                        kl_pod_free(ret->pods[i]);
                free(ret->pods);
                ret->pods = NULL;
                ret->n_pods = 0;
        }
        if (r < 0) {
                kl_manifest_done(ret);
                return r;
        }
        return ret->errors ? -EINVAL : 0;
}

static int read_error(const char *name, const struct kl_manifest_opts *opts, int r, const char *why,
                      struct kl_manifest *ret) {
        struct kl__dec d;

        kl__dec_init(&d, name, opts);
        if (r == -EFBIG)
                kl__dec_error(&d, (struct kl_pos){0, 0}, "file is too large (at most %zu bytes)", opts->max_file_size);
        else
                kl__dec_error(&d, (struct kl_pos){0, 0}, "cannot read: %s", why ? why : strerror(-r));
        r = kl__dec_finish(&d, ret);
        kl__dec_done(&d);
        if (r < 0) {
                kl_manifest_done(ret);
                return r;
        }
        return -EINVAL;
}

int kl_manifest_parse_fd(int fd, const char *display_name, const char *node_name, const struct kl_manifest_opts *opts,
                         struct kl_manifest *ret) {
        struct kl_manifest_opts defaults;
        _cleanup_free_ char *buf = NULL;
        const char *name = display_name ? display_name : "-";
        struct stat st;
        size_t len = 0, cap;

        *ret = (struct kl_manifest){0};
        if (!opts) {
                kl_manifest_opts_default(&defaults);
                opts = &defaults;
        }
        if (fstat(fd, &st) < 0)
                return read_error(name, opts, -errno, NULL, ret);
        if (!S_ISREG(st.st_mode))
                return read_error(name, opts, 0, "not a regular file", ret);
        if ((uint64_t) st.st_size > opts->max_file_size)
                return read_error(name, opts, -EFBIG, NULL, ret);

        /* the file may grow while we read: stop after max + 1 bytes */
        cap = (size_t) st.st_size + 1;
        buf = malloc(cap + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (len == cap) {
                        if (cap > opts->max_file_size)
                                return read_error(name, opts, -EFBIG, NULL, ret);
                        size_t ncap = MIN(cap * 2, opts->max_file_size + 1);
                        char *nb = realloc(buf, ncap + 1);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                        cap = ncap;
                }
                ssize_t k = read(fd, buf + len, cap - len);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return read_error(name, opts, -errno, NULL, ret);
                if (k == 0)
                        break;
                len += (size_t) k;
        }
        return kl_manifest_parse(buf, len, name, node_name, opts, ret);
}

int kl_manifest_parse_file(int dirfd, const char *path, const char *display_name, const char *node_name,
                           const struct kl_manifest_opts *opts, struct kl_manifest *ret) {
        struct kl_manifest_opts defaults;
        _cleanup_close_ int fd = -EBADF;
        const char *name = display_name ? display_name : path;

        *ret = (struct kl_manifest){0};
        if (!opts) {
                kl_manifest_opts_default(&defaults);
                opts = &defaults;
        }
        /* O_NONBLOCK: a FIFO named *.yaml must not hang the daemon */
        fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return read_error(name, opts, -errno, NULL, ret);
        return kl_manifest_parse_fd(fd, name, node_name, opts, ret);
}
