/* SPDX-License-Identifier: Apache-2.0 */
/* Host-side files of a pod: log directory, volumes, managed /etc/hosts, and
 * the downward API's values. */
#include "kubelet-lite/pod/volumes.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "lib/fileio.h"
#include "lib/macros.h"
#include "manifests/names.h"

/* ---- downward API values --------------------------------------------------- */

/* Go's %q of s (strconv.Quote) for the bytes a label or annotation can hold:
 * printable ASCII and UTF-8 as is, the rest escaped. */
static void go_quote(FILE *f, const char *s) {
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                switch (*p) {
                case '"': fputs("\\\"", f); break;
                case '\\': fputs("\\\\", f); break;
                case '\a': fputs("\\a", f); break;
                case '\b': fputs("\\b", f); break;
                case '\f': fputs("\\f", f); break;
                case '\n': fputs("\\n", f); break;
                case '\r': fputs("\\r", f); break;
                case '\t': fputs("\\t", f); break;
                case '\v': fputs("\\v", f); break;
                default:
                        if (*p < 0x20 || *p == 0x7f)
                                fprintf(f, "\\x%02x", *p);
                        else
                                fputc(*p, f);
                }
        }
        fputc('"', f);
}

static int kv_cmp(const void *x, const void *y) {
        return strcmp(((const struct kl_kv *) x)->key, ((const struct kl_kv *) y)->key);
}

/* upstream's fieldpath.FormatMap: `key="value"` lines sorted by key, no final newline. */
static char *format_map(struct kl_arena *a, const struct kl_kv *kv, size_t n) {
        _cleanup_free_ struct kl_kv *sorted = NULL;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        FILE *f;

        if (n > 0) {
                sorted = malloc(n * sizeof(*sorted));
                if (!sorted)
                        return NULL;
                memcpy(sorted, kv, n * sizeof(*sorted));
                qsort(sorted, n, sizeof(*sorted), kv_cmp);
        }
        f = open_memstream(&buf, &len);
        if (!f)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        fputc('\n', f);
                fprintf(f, "%s=", sorted[i].key);
                go_quote(f, strempty(sorted[i].value));
        }
        if (fclose(f) != 0)
                return NULL;
        return kl_arena_strdup(a, buf ? buf : "");
}

/* time.RFC3339Nano in UTC, trailing zeros of the fraction dropped, as Go. */
static char *rfc3339nano(struct kl_arena *a, int64_t nsec) {
        time_t t = (time_t) (nsec / 1000000000);
        long frac = (long) (nsec % 1000000000);
        struct tm tm;
        char date[32], fs[16] = "";

        if (!gmtime_r(&t, &tm))
                return kl_arena_strdup(a, "");
        strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
        if (frac > 0) {
                snprintf(fs, sizeof(fs), ".%09ld", frac);
                for (size_t l = strlen(fs); l > 1 && fs[l - 1] == '0'; l--)
                        fs[l - 1] = '\0';
        }
        return kl_arena_printf(a, "%s%sZ", date, fs);
}

/* The annotations the pod object has upstream: the manifest's, plus the
 * three the file source adds to every static pod. */
static struct kl_kv *pod_annotations(struct kl_arena *a, const struct kl_pod *pod, const struct kl_spec_ctx *ctx,
                                     size_t *ret_n) {
        struct kl_kv *kv = kl_arena_alloc(a, (pod->n_annotations + 3) * sizeof(*kv));
        size_t n = 0;
        if (!kv)
                return NULL;
        for (size_t i = 0; i < pod->n_annotations; i++)
                kv[n++] = pod->annotations[i];
        kv[n++] = (struct kl_kv){(char *) KL_ANN_CONFIG_HASH, pod->config_hash};
        kv[n++] = (struct kl_kv){(char *) KL_ANN_CONFIG_SEEN, rfc3339nano(a, ctx->seen_nsec)};
        kv[n++] = (struct kl_kv){(char *) KL_ANN_CONFIG_SOURCE, (char *) "file"};
        *ret_n = n;
        return kv;
}

static const char *kv_get(const struct kl_kv *kv, size_t n, const char *key, size_t key_len) {
        for (size_t i = 0; i < n; i++)
                if (strlen(kv[i].key) == key_len && strncmp(kv[i].key, key, key_len) == 0)
                        return kv[i].value;
        return "";
}

char *kl_podvolumes_field_value(struct kl_arena *a, const struct kl_pod *pod, const struct kl_spec_ctx *ctx,
                                const char *path) {
        char prefix[64];
        const char *key;
        size_t key_len, n_ann;
        struct kl_kv *ann;
        const char *pod_ip = pod->host_network ? ctx->host_ip : ctx->pod_ip;

        /* upstream's podFieldSelectorRuntimeValue, then ExtractFieldPathAsString */
        if (kl_field_path_split(path, prefix, sizeof(prefix), &key, &key_len)) {
                if (streq(prefix, "metadata.labels"))
                        return kl_arena_strdup(a, kv_get(pod->labels, pod->n_labels, key, key_len));
                if (streq(prefix, "metadata.annotations")) {
                        ann = pod_annotations(a, pod, ctx, &n_ann);
                        return ann ? kl_arena_strdup(a, kv_get(ann, n_ann, key, key_len)) : NULL;
                }
                return NULL;
        }
        if (streq(path, "metadata.name"))
                return kl_arena_strdup(a, pod->full_name);
        if (streq(path, "metadata.namespace"))
                return kl_arena_strdup(a, pod->namespace);
        if (streq(path, "metadata.uid"))
                return kl_arena_strdup(a, pod->uid);
        if (streq(path, "metadata.labels"))
                return format_map(a, pod->labels, pod->n_labels);
        if (streq(path, "metadata.annotations")) {
                ann = pod_annotations(a, pod, ctx, &n_ann);
                return ann ? format_map(a, ann, n_ann) : NULL;
        }
        if (streq(path, "spec.nodeName"))
                return kl_arena_strdup(a, strempty(ctx->node_name));
        if (streq(path, "spec.serviceAccountName"))
                return kl_arena_strdup(a, strempty(pod->service_account_name));
        /* one address each: the node's and the pod's, so the lists are that one */
        if (streq(path, "status.hostIP") || streq(path, "status.hostIPs"))
                return kl_arena_strdup(a, strempty(ctx->host_ip));
        if (streq(path, "status.podIP") || streq(path, "status.podIPs"))
                return kl_arena_strdup(a, strempty(pod_ip));
        return NULL;
}

static int64_t ceil_div(int64_t x, int64_t d) {
        if (d <= 0)
                d = 1;
        if (x <= 0)
                return 0;
        return x / d + (x % d != 0);
}

static int64_t machine_amount(const struct kl_spec_ctx *ctx, char what) {
        struct statvfs sv;
        long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE), cpus = sysconf(_SC_NPROCESSORS_ONLN);

        switch (what) {
        case 'c': return ctx->alloc_cpu_milli > 0 ? ctx->alloc_cpu_milli : (cpus > 0 ? cpus : 1) * 1000;
        case 'm': return ctx->alloc_memory > 0 ? ctx->alloc_memory : (int64_t) pages * psize;
        default:
                if (ctx->alloc_ephemeral > 0)
                        return ctx->alloc_ephemeral;
                if (statvfs(ctx->root_dir ? ctx->root_dir : "/", &sv) < 0)
                        return 0;
                return (int64_t) (sv.f_blocks * sv.f_frsize);
        }
}

char *kl_podvolumes_resource_value(struct kl_arena *a, const struct kl_pod *pod, const struct kl_container *c,
                                   const struct kl_resource_ref *ref, const struct kl_spec_ctx *ctx,
                                   struct kl_error *reterr) {
        const struct kl_resources *r;
        const char *res = ref->resource;
        bool limit, cpu;
        char what;
        int64_t x;

        if (ref->container_name) {
                c = NULL;
                for (size_t i = 0; i < pod->n_containers && !c; i++)
                        if (streq(pod->containers[i].name, ref->container_name))
                                c = &pod->containers[i];
                for (size_t i = 0; i < pod->n_init_containers && !c; i++)
                        if (streq(pod->init_containers[i].name, ref->container_name))
                                c = &pod->init_containers[i];
                if (!c) {
                        kl_error_set(reterr, ENOENT, "resourceFieldRef: no container '%s' in this pod",
                                     ref->container_name);
                        return NULL;
                }
        }
        r = &c->resources;
        limit = strncmp(res, "limits.", 7) == 0;
        cpu = strstr(res, ".cpu") != NULL;
        what = cpu ? 'c' : strstr(res, ".memory") ? 'm' : 'e';
        if (what == 'c')
                x = limit ? r->cpu_limit_milli : r->cpu_request_milli;
        else if (what == 'm')
                x = limit ? r->memory_limit : r->memory_request;
        else
                x = limit ? r->ephemeral_limit : r->ephemeral_request;
        /* upstream's defaultPodLimitsForDownwardAPI: no limit means the node's allocatable */
        if (x < 0)
                x = limit ? machine_amount(ctx, what) : 0;
        /* convertResourceCPUToString & co.: ceil(amount / divisor); divisors
         * are milli-CPU for cpu (default 1 = 1000m), bytes otherwise */
        int64_t div = ref->divisor > 0 ? ref->divisor : (cpu ? 1000 : 1);
        return kl_arena_printf(a, "%" PRId64, ceil_div(x, div));
}

/* ---- managed /etc/hosts ---------------------------------------------------- */

const char *kl_podvolumes_hostname(struct kl_arena *a, const struct kl_pod *pod) {
        /* upstream's GeneratePodHostNameAndDomain: spec.hostname, else the pod's
         * name, which for a static pod is the full name "<name>-<node>";
         * truncatePodHostnameIfNeeded: 63 characters, no trailing '-' or '.' */
        const char *name = pod->hostname ? pod->hostname : pod->full_name ? pod->full_name : pod->name;
        char *h = kl_arena_printf(a, "%.63s", name);
        for (size_t l = h ? strlen(h) : 0; l > 0 && (h[l - 1] == '-' || h[l - 1] == '.'); l--)
                h[l - 1] = '\0';
        return h;
}

char *kl_podvolumes_hosts_content(struct kl_arena *a, const struct kl_pod *pod, const char *host_hosts,
                                  const char *pod_ip, const char *hostname) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                return NULL;
        /* upstream's nodeHostsFileContent / managedHostsFileContent */
        if (pod->host_network) {
                fputs("# Kubernetes-managed hosts file (host network).\n", f);
                fputs(strempty(host_hosts), f);
        } else {
                fputs("# Kubernetes-managed hosts file.\n"
                      "127.0.0.1\tlocalhost\n"
                      "::1\tlocalhost ip6-localhost ip6-loopback\n"
                      "fe00::0\tip6-localnet\n"
                      "fe00::0\tip6-mcastprefix\n"
                      "fe00::1\tip6-allnodes\n"
                      "fe00::2\tip6-allrouters\n",
                      f);
                if (pod_ip && pod_ip[0])
                        fprintf(f, "%s\t%s\n", pod_ip, hostname);
        }
        /* hostsEntriesFromHostAliases: one line per alias entry */
        if (pod->n_host_aliases > 0) {
                fputs("\n# Entries added by HostAliases.\n", f);
                for (size_t i = 0; i < pod->n_host_aliases; i++) {
                        fputs(pod->host_aliases[i].ip, f);
                        fputc('\t', f);
                        for (size_t k = 0; pod->host_aliases[i].hostnames && pod->host_aliases[i].hostnames[k]; k++)
                                fprintf(f, "%s%s", k ? "\t" : "", pod->host_aliases[i].hostnames[k]);
                        fputc('\n', f);
                }
        }
        if (fclose(f) != 0)
                return NULL;
        return kl_arena_strdup(a, buf ? buf : "");
}

/* Replace path's content in place when it differs: running containers of
 * the pod have the file bind-mounted and see the same inode (upstream
 * rewrites it in place too). */
static int write_if_changed(const char *path, const char *content, int mode) {
        _cleanup_free_ char *old = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t len = strlen(content);

        if (kl_read_file_at(AT_FDCWD, path, 1024 * 1024, 1, &old, NULL) == 0 && streq(old, content))
                return 0;
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return -errno;
        if (fchmod(fd, (mode_t) mode) < 0)
                return -errno;
        return kl_write_all(fd, content, len);
}

int kl_podvolumes_write_hosts(struct kl_arena *a, const struct kl_pod *pod, const struct kl_spec_ctx *ctx,
                              char **ret_path, struct kl_error *reterr) {
        _cleanup_free_ char *host_hosts = NULL;
        const char *pod_ip = pod->host_network ? ctx->host_ip : ctx->pod_ip;
        char *dir, *path, *content;
        int r;

        *ret_path = NULL;
        /* upstream mounts the file only once the pod has IPs */
        if (!pod->host_network && (!pod_ip || !pod_ip[0]))
                return 0;
        if (pod->host_network) {
                r = kl_read_file_at(AT_FDCWD, "/etc/hosts", 1024 * 1024, 0, &host_hosts, NULL);
                if (r < 0 && r != -ENOENT)
                        return kl_error_set(reterr, r, "reading /etc/hosts: %s", strerror(-r));
        }
        dir = kl_spec_pod_dir(a, ctx, pod);
        path = kl_arena_printf(a, "%s/etc-hosts", strempty(dir));
        content = kl_podvolumes_hosts_content(a, pod, host_hosts, pod_ip, kl_podvolumes_hostname(a, pod));
        if (!dir || !path || !content)
                return kl_error_set(reterr, ENOMEM, "out of memory");
        if ((r = kl_mkdir_p(dir, 0750)) < 0 || (r = write_if_changed(path, content, 0644)) < 0)
                return kl_error_set(reterr, r, "writing '%s': %s", path, strerror(-r));
        *ret_path = path;
        return 0;
}

/* ---- volumes --------------------------------------------------------------- */

/* emptyDir medium: Memory is a tmpfs, sized by sizeLimit when given (upstream
 * sizes it from sizeLimit too); already mounted is fine (adopted pods). */
static int mount_tmpfs(const char *path, int64_t size_limit) {
        struct statfs sfs;
        char opts[64];

        if (statfs(path, &sfs) == 0 && sfs.f_type == TMPFS_MAGIC)
                return 0;
        if (size_limit > 0)
                snprintf(opts, sizeof(opts), "mode=1777,size=%lld", (long long) size_limit);
        else
                snprintf(opts, sizeof(opts), "mode=1777");
        if (mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
                return -errno;
        return 0;
}

/* upstream's SetVolumeOwnership for one directory: group fsGroup, setgid,
 * and group read/write (read only for a read-only volume) and search on top
 * of mode. */
static int set_dir_ownership(const char *path, int64_t fs_group, mode_t mode, bool read_only) {
        if (fs_group < 0)
                return chmod(path, mode) < 0 ? -errno : 0;
        if (lchown(path, (uid_t) -1, (gid_t) fs_group) < 0)
                return -errno;
        mode |= S_ISGID | (read_only ? 0550 : 0770);
        return chmod(path, mode) < 0 ? -errno : 0;
}

/* emptyDir: 0777 whatever the umask (upstream's setupDir; 1777 for a tmpfs),
 * then fsGroup. */
static int setup_empty_dir(const struct kl_pod *pod, const struct kl_volume *v, const char *host,
                           struct kl_error *reterr) {
        int r;

        if ((r = kl_mkdir_p(host, 0777)) < 0)
                return kl_error_set(reterr, r, "volume '%s': creating '%s': %s", v->name, host, strerror(-r));
        if (v->medium_memory && (r = mount_tmpfs(host, v->size_limit)) < 0)
                return kl_error_set(reterr, r, "volume '%s': mounting tmpfs on '%s': %s", v->name, host, strerror(-r));
        /* a tmpfs root keeps tmpfs's default 1777 upstream (mounted without a mode) */
        if ((r = set_dir_ownership(host, pod->security_context.fs_group, v->medium_memory ? 01777 : 0777, false)) < 0)
                return kl_error_set(reterr, r, "volume '%s': setting the mode of '%s': %s", v->name, host,
                                    strerror(-r));
        return 0;
}

/* downwardAPI: one file per item. Each file is replaced atomically, so a
 * reader in the container never sees half a file. */
static int setup_downward_api(struct kl_arena *a, const struct kl_pod *pod, const struct kl_spec_ctx *ctx,
                              const struct kl_volume *v, const char *host, struct kl_error *reterr) {
        int64_t fs_group = pod->security_context.fs_group;
        int r;

        if ((r = kl_mkdir_p(host, 0755)) < 0)
                return kl_error_set(reterr, r, "volume '%s': creating '%s': %s", v->name, host, strerror(-r));
        for (size_t i = 0; i < v->n_items; i++) {
                const struct kl_downward_item *it = &v->items[i];
                char *value, *file, *slash;
                int mode = it->mode >= 0 ? it->mode : v->default_mode;

                if (it->field_ref)
                        value = kl_podvolumes_field_value(a, pod, ctx, it->field_ref);
                else
                        value = kl_podvolumes_resource_value(a, pod, &pod->containers[0], &it->resource_ref, ctx,
                                                             reterr);
                if (!value && it->field_ref)
                        return kl_error_set(reterr, EINVAL, "volume '%s': item '%s': cannot resolve '%s'", v->name,
                                            it->path, it->field_ref);
                if (!value)
                        return kl_error_prefix(reterr, "volume '%s': item '%s'", v->name, it->path);
                file = kl_arena_printf(a, "%s/%s", host, it->path);
                if (!file)
                        return kl_error_set(reterr, ENOMEM, "out of memory");
                slash = strrchr(file, '/');
                *slash = '\0';
                r = kl_mkdir_p(file, 0755);
                *slash = '/';
                if (r < 0 || (r = kl_write_file_atomic_at(AT_FDCWD, file, value, strlen(value), mode)) < 0)
                        return kl_error_set(reterr, r, "volume '%s': writing '%s': %s", v->name, file, strerror(-r));
                /* the volume is read-only: with fsGroup, group read (roMask) */
                if (fs_group >= 0)
                        mode |= 0440;
                if (fs_group >= 0 && lchown(file, (uid_t) -1, (gid_t) fs_group) < 0)
                        return kl_error_set(reterr, errno, "volume '%s': chown '%s': %m", v->name, file);
                if (chmod(file, (mode_t) mode) < 0)
                        return kl_error_set(reterr, errno, "volume '%s': chmod '%s': %m", v->name, file);
        }
        if (fs_group >= 0 && (r = set_dir_ownership(host, fs_group, 0755, true)) < 0)
                return kl_error_set(reterr, r, "volume '%s': setting the group of '%s': %s", v->name, host,
                                    strerror(-r));
        return 0;
}

static int check_host_path(const struct kl_volume *v, const char *host, struct kl_error *reterr) {
        static const struct {
                enum kl_host_path_type t;
                mode_t fmt;
                const char *what;
        } checks[] = {
                {KL_HOST_PATH_DIRECTORY, S_IFDIR, "a directory"},
                {KL_HOST_PATH_FILE, S_IFREG, "a file"},
                {KL_HOST_PATH_SOCKET, S_IFSOCK, "a socket"},
                {KL_HOST_PATH_CHAR_DEVICE, S_IFCHR, "a character device"},
                {KL_HOST_PATH_BLOCK_DEVICE, S_IFBLK, "a block device"},
        };
        struct stat st;
        int r;

        switch (v->host_path_type) {
        case KL_HOST_PATH_DIRECTORY_OR_CREATE:
                if ((r = kl_mkdir_p(host, 0755)) < 0)
                        return kl_error_set(reterr, r, "volume '%s': creating directory '%s': %s", v->name, host,
                                            strerror(-r));
                return 0;
        case KL_HOST_PATH_FILE_OR_CREATE: {
                int fd = open(host, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
                if (fd < 0 && errno != EISDIR)
                        return kl_error_set(reterr, errno, "volume '%s': creating file '%s': %m", v->name, host);
                safe_close(fd);
                return 0;
        }
        case KL_HOST_PATH_UNSET: return 0;
        default:
                for (size_t k = 0; k < ELEMENTSOF(checks); k++) {
                        if (checks[k].t != v->host_path_type)
                                continue;
                        if (stat(host, &st) < 0 || (st.st_mode & S_IFMT) != checks[k].fmt)
                                return kl_error_set(reterr, ENOTDIR, "volume '%s': hostPath '%s' is not %s", v->name,
                                                    host, checks[k].what);
                }
                return 0;
        }
}

int kl_podvolumes_prepare(const struct kl_pod *pod, const struct kl_spec_ctx *ctx, struct kl_error *reterr) {
        struct kl_arena a = {};
        int r = 0;

        char *logdir = kl_spec_pod_log_dir(&a, ctx, pod);
        if (!logdir || (r = kl_mkdir_p(logdir, 0755)) < 0) {
                r = kl_error_set(reterr, r ? r : ENOMEM, "creating log directory '%s': %s", strempty(logdir),
                                 strerror(r ? -r : ENOMEM));
                goto out;
        }
        for (size_t i = 0; i < pod->n_volumes && r >= 0; i++) {
                const struct kl_volume *v = &pod->volumes[i];
                char *host = kl_spec_volume_host_path(&a, ctx, pod, v);
                if (!host) {
                        r = kl_error_set(reterr, ENOMEM, "out of memory");
                        break;
                }
                switch (v->kind) {
                case KL_VOLUME_EMPTY_DIR: r = setup_empty_dir(pod, v, host, reterr); break;
                case KL_VOLUME_DOWNWARD_API: r = setup_downward_api(&a, pod, ctx, v, host, reterr); break;
                case KL_VOLUME_HOST_PATH: r = check_host_path(v, host, reterr); break;
                }
        }
out:
        kl_arena_free(&a);
        return r;
}
