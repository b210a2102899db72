/* SPDX-License-Identifier: Apache-2.0 */
/* Image garbage collection, after upstream's realImageGCManager
 * (pkg/kubelet/images/image_gc_manager.go). One run is a chain of
 * asynchronous CRI calls on the daemon's loop:
 *   [Status verbose, once: containerd's sandboxImage] -> ListContainers ->
 *   ListImages -> ImageFsInfo (+ statvfs of its mountpoint) -> selection ->
 *   RemoveImage, one at a time -> statvfs again, log, events, metrics.
 * Records of first-seen and last-used times live in memory, as upstream's
 * imageRecords do; after a restart every image is "seen since before". */
#include "imagegc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "kubelet-lite/eviction/eviction.h"
#include "kubelet-lite/recorder.h"
#include "kubelet-lite/server/metrics.h"
#include "lib/log.h"
#include "lib/macros.h"
#include "lib/strbuf.h"
#include "manifests/strv.h"
#include "runtime/cri.h"

#define GC_PERIOD_USEC (5 * 60 * KL_USEC_PER_SEC)  /* upstream's ImageGCPeriod */
#define GC_FIRST_DELAY_USEC (30 * KL_USEC_PER_SEC) /* let the pods' containers exist first */
#define REF_MAX 512

/* ---- selection (pure) --------------------------------------------------- */

struct cand {
        size_t index;
        uint64_t last_used, first_seen;
};

/* upstream's byLastUsedAndDetected: least recently used first, ties broken
 * by first detection; the sort is stable (index last) */
static int cmp_cand(const void *a, const void *b) {
        const struct cand *x = a, *y = b;
        if (x->last_used != y->last_used)
                return x->last_used < y->last_used ? -1 : 1;
        if (x->first_seen != y->first_seen)
                return x->first_seen < y->first_seen ? -1 : 1;
        return x->index < y->index ? -1 : x->index > y->index;
}

static uint64_t age(uint64_t now, uint64_t since) {
        if (since == 0)
                return UINT64_MAX; /* there before we started: old */
        return now > since ? now - since : 0;
}

int kl_imagegc_select(const struct kl_imagegc_image *images, size_t n, const struct kl_imagegc_policy *p,
                      int64_t capacity, int64_t available, uint64_t now_usec, uint64_t began_usec, bool reclaim_all,
                      size_t *ret_order, struct kl_imagegc_selection *ret) {
        struct kl_imagegc_selection s = {.usage_percent = -1};
        size_t k = 0, nc = 0;

        if ((n && (!images || !ret_order)) || !p || !ret)
                return -EINVAL;
        _cleanup_free_ struct cand *c = calloc(n + 1, sizeof(*c));
        _cleanup_free_ bool *taken = calloc(n + 1, sizeof(*taken));
        if (!c || !taken)
                return -ENOMEM;
        /* imagesInEvictionOrder: neither used nor pinned */
        for (size_t i = 0; i < n; i++)
                if (!images[i].in_use && !images[i].pinned)
                        c[nc++] = (struct cand){i, images[i].last_used_usec, images[i].first_seen_usec};
        qsort(c, nc, sizeof(*c), cmp_cand);

        /* freeOldImages: only once MaxAge has passed since GC began, so a
         * restart does not take every image for unused */
        if (p->max_age_usec > 0 && age(now_usec, began_usec) > p->max_age_usec)
                for (size_t i = 0; i < nc; i++)
                        if (age(now_usec, c[i].last_used) > p->max_age_usec) {
                                ret_order[k++] = c[i].index;
                                taken[i] = true;
                        }
        s.n_old = k;

        /* GarbageCollect: usagePercent := 100 - int(available*100/capacity) */
        if (capacity > 0) {
                int64_t avail = MAX(MIN(available, capacity), 0);
                s.usage_percent = 100 - (int) ((double) avail * 100.0 / (double) capacity);
                s.over_high = s.usage_percent >= p->high_percent;
                if (reclaim_all)
                        s.bytes_to_free = INT64_MAX;
                else if (s.over_high)
                        s.bytes_to_free = (int64_t) ((double) capacity * (100 - p->low_percent) / 100.0) - avail;
        } else if (reclaim_all)
                s.bytes_to_free = INT64_MAX;

        /* freeSpace: oldest use first, skipping images younger than MinAge
         * (just pulled, about to be used), until enough is freed */
        if (s.bytes_to_free > 0)
                for (size_t i = 0; i < nc; i++) {
                        const struct kl_imagegc_image *im = &images[c[i].index];
                        if (taken[i] || (im->last_used_usec && im->last_used_usec >= now_usec))
                                continue;
                        if (age(now_usec, im->first_seen_usec) < p->min_age_usec)
                                continue;
                        ret_order[k++] = c[i].index;
                        s.bytes_selected += (int64_t) MIN(im->size, (uint64_t) INT64_MAX / 2);
                        if (s.bytes_selected >= s.bytes_to_free)
                                break;
                }
        s.n = k;
        *ret = s;
        return 0;
}

int kl_imagegc_normalize_ref(const char *ref, char *buf, size_t size) {
        const char *slash = strchr(ref, '/');
        const char *name_start = slash ? slash + 1 : ref;
        const char *prefix = "";
        bool has_domain = false;

        if (slash) {
                size_t dl = (size_t) (slash - ref);
                has_domain = memchr(ref, '.', dl) || memchr(ref, ':', dl) || (dl == 9 && !strncmp(ref, "localhost", 9));
        }
        if (strncmp(ref, "sha256:", 7) == 0)
                prefix = ""; /* an id */
        else if (!slash)
                prefix = "docker.io/library/";
        else if (!has_domain)
                prefix = "docker.io/";
        /* a tag is a ':' after the last '/'; a digest is '@' */
        const char *last = strrchr(name_start, '/');
        last = last ? last : name_start;
        bool tagged = strchr(last, ':') || strchr(ref, '@') || strncmp(ref, "sha256:", 7) == 0;
        int r = snprintf(buf, size, "%s%s%s", prefix, ref, tagged ? "" : ":latest");
        return r < 0 ? 0 : (int) MIN((size_t) r, size ? size - 1 : 0);
}

/* ---- the manager -------------------------------------------------------- */

struct record {
        char *id;
        uint64_t first_seen, last_used, size;
};

struct kl_imagegc {
        struct kl_imagegc_params p;
        struct kl_event_timer *timer;
        uint64_t began;
        bool initialized; /* first detection done: new images get a real first-seen time */
        bool running, again, paused, pending;
        bool disabled;       /* imageGCHighThresholdPercent 100: no periodic runs (reclaim still works) */
        bool reclaim_run;    /* this run frees every eligible image */
        bool reclaim_wanted; /* asked for while another run was going */
        bool reclaim_done;   /* a reclaim run finished since the last kl_imagegc_reclaim() */
        bool failed_before;  /* for upstream's "event only for repeated failures" */
        bool sandbox_known;
        char *sandbox_image; /* normalised */
        char **pinned_refs;  /* normalised */
        char **keep_refs;    /* normalised, this run */
        dev_t imagefs_dev;
        bool have_imagefs_dev;

        struct record *records;
        size_t n_records;

        /* this run */
        uint64_t t0;
        Runtime__V1__ListContainersResponse *containers;
        Runtime__V1__ListImagesResponse *images;
        char *mountpoint;
        int64_t capacity, avail_before;
        char **remove_ids;
        char **remove_names;
        uint64_t *remove_sizes;
        size_t n_remove, next_remove, n_old;
        struct kl_imagegc_selection sel;
        uint64_t bytes_removed;
        unsigned n_removed, n_failed;
        struct kl_buf removed_list;
        uint64_t total_removed;
};

static void schedule(struct kl_imagegc *gc, uint64_t at) {
        if (gc->timer && at < kl_event_timer_deadline(gc->timer))
                kl_event_timer_set(gc->timer, at);
}

static void node_event(struct kl_imagegc *gc, const char *type, const char *reason, const char *fmt, ...)
        _printf_(4, 5);
static void node_event(struct kl_imagegc *gc, const char *type, const char *reason, const char *fmt, ...) {
        char msg[KL_RECORDER_MESSAGE_MAX];
        va_list ap;
        if (!gc->p.recorder)
                return;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        struct kl_event_object o = {.kind = "Node", .name = gc->p.cfg->node_name, .uid = gc->p.cfg->node_name};
        kl_recorder_record(gc->p.recorder, &o, type, reason, "%s", msg);
}

static void run_reset(struct kl_imagegc *gc) {
        kl_cri_response_free(gc->containers);
        kl_cri_response_free(gc->images);
        gc->containers = NULL;
        gc->images = NULL;
        gc->mountpoint = mfree(gc->mountpoint);
        gc->remove_ids = kl__strv_free(gc->remove_ids);
        gc->remove_names = kl__strv_free(gc->remove_names);
        gc->remove_sizes = mfree(gc->remove_sizes);
        gc->keep_refs = kl__strv_free(gc->keep_refs);
        gc->n_remove = gc->next_remove = gc->n_old = 0;
        gc->bytes_removed = 0;
        gc->n_removed = gc->n_failed = 0;
        kl_buf_free_contents(&gc->removed_list);
        gc->removed_list = (struct kl_buf){};
}

/* A run ended (done or failed): errors are logged, and after a failure
 * in a row an ImageGCFailed event is recorded, as upstream's
 * StartGarbageCollection does. */
static void run_end(struct kl_imagegc *gc, const char *error) {
        uint64_t now = kl_now_usec();
        if (error) {
                if (gc->failed_before) {
                        log_warning("image garbage collection failed multiple times in a row: %s", error);
                        node_event(gc, "Warning", "ImageGCFailed", "%s", error);
                } else
                        log_warning("image garbage collection failed once, will retry: %s", error);
                gc->failed_before = true;
        } else
                gc->failed_before = false;
        if (gc->reclaim_run)
                gc->reclaim_done = true;
        gc->running = false;
        gc->reclaim_run = false;
        run_reset(gc);
        if (gc->again || gc->reclaim_wanted) {
                gc->again = false;
                schedule(gc, now);
        } else if (!gc->disabled)
                kl_event_timer_set(gc->timer, now + GC_PERIOD_USEC);
}

static bool ref_matches(const char *norm_ref, const Runtime__V1__Image *im) {
        char buf[REF_MAX];
        if (!norm_ref || !norm_ref[0])
                return false;
        if (im->id && streq(norm_ref, im->id))
                return true;
        for (size_t i = 0; i < im->n_repo_tags; i++) {
                kl_imagegc_normalize_ref(im->repo_tags[i], buf, sizeof(buf));
                if (streq(norm_ref, buf))
                        return true;
        }
        for (size_t i = 0; i < im->n_repo_digests; i++) {
                kl_imagegc_normalize_ref(im->repo_digests[i], buf, sizeof(buf));
                if (streq(norm_ref, buf))
                        return true;
        }
        return false;
}

static bool any_ref_matches(char *const *refs, const Runtime__V1__Image *im) {
        for (char *const *r = refs; r && *r; r++)
                if (ref_matches(*r, im))
                        return true;
        return false;
}

/* Any container, running or not, pins its image (upstream's detectImages
 * takes every container of every pod, exited ones included). */
static bool image_in_use(struct kl_imagegc *gc, const Runtime__V1__Image *im) {
        const Runtime__V1__ListContainersResponse *lc = gc->containers;
        char buf[REF_MAX];
        for (size_t i = 0; lc && i < lc->n_containers; i++) {
                const Runtime__V1__Container *c = lc->containers[i];
                if (c->image_ref && c->image_ref[0]) {
                        kl_imagegc_normalize_ref(c->image_ref, buf, sizeof(buf));
                        if (streq(c->image_ref, im->id) || ref_matches(buf, im))
                                return true;
                }
                if (c->image && c->image->image && c->image->image[0]) {
                        kl_imagegc_normalize_ref(c->image->image, buf, sizeof(buf));
                        if (streq(c->image->image, im->id) || ref_matches(buf, im))
                                return true;
                }
        }
        return any_ref_matches(gc->keep_refs, im);
}

static struct record *record_find(struct kl_imagegc *gc, const char *id) {
        for (size_t i = 0; i < gc->n_records; i++)
                if (streq(gc->records[i].id, id))
                        return &gc->records[i];
        return NULL;
}

static void record_forget(struct kl_imagegc *gc, const char *id) {
        struct record *r = record_find(gc, id);
        if (!r)
                return;
        free(r->id);
        *r = gc->records[--gc->n_records];
}

/* upstream's detectImages: new images get their first-seen time (none on
 * the first detection), images in use now get last-used = now, records of
 * vanished images go. */
static int detect(struct kl_imagegc *gc, uint64_t now) {
        const Runtime__V1__ListImagesResponse *li = gc->images;
        size_t n = li ? li->n_images : 0;

        for (size_t i = 0; i < gc->n_records;) {
                bool present = false;
                for (size_t j = 0; j < n && !present; j++)
                        present = li->images[j]->id && streq(li->images[j]->id, gc->records[i].id);
                if (present)
                        i++;
                else
                        record_forget(gc, gc->records[i].id);
        }
        for (size_t j = 0; j < n; j++) {
                const Runtime__V1__Image *im = li->images[j];
                if (!im->id || !im->id[0])
                        continue;
                struct record *r = record_find(gc, im->id);
                if (!r) {
                        struct record *nr = realloc(gc->records, (gc->n_records + 1) * sizeof(*nr));
                        if (!nr)
                                return -ENOMEM;
                        gc->records = nr;
                        r = &gc->records[gc->n_records];
                        *r = (struct record){.id = strdup(im->id), .first_seen = gc->initialized ? now : 0};
                        if (!r->id)
                                return -ENOMEM;
                        gc->n_records++;
                }
                r->size = im->size;
                if (image_in_use(gc, im))
                        r->last_used = now;
        }
        gc->initialized = true;
        return 0;
}

static void image_name(const Runtime__V1__Image *im, char *buf, size_t size) {
        snprintf(buf, size, "%s", im->n_repo_tags ? im->repo_tags[0] : im->id);
}

static int statvfs_of(const char *path, int64_t *ret_capacity, int64_t *ret_available) {
        struct statvfs sv;
        if (!path || statvfs(path, &sv) < 0)
                return -errno;
        *ret_capacity = (int64_t) sv.f_blocks * (int64_t) sv.f_frsize;
        *ret_available = (int64_t) sv.f_bavail * (int64_t) sv.f_frsize;
        return 0;
}

static void remove_next(struct kl_imagegc *gc);

static void finish(struct kl_imagegc *gc) {
        int64_t cap = 0, avail = 0;
        double secs = (double) (kl_now_usec() - gc->t0) / 1e6;
        bool measured = statvfs_of(gc->mountpoint, &cap, &avail) >= 0 && gc->capacity > 0;
        int64_t gained = measured ? avail - gc->avail_before : 0;
        int after = measured && cap > 0 ? 100 - (int) ((double) MIN(avail, cap) * 100.0 / (double) cap) : -1;

        gc->total_removed += gc->n_removed;
        if (gc->n_removed || gc->n_failed)
                log_info("image GC: removed %u image%s (%s), %llu bytes by image size; the image filesystem gained "
                         "%lld bytes, usage %d%% -> %d%%; %u failed; %.3fs",
                         gc->n_removed, gc->n_removed == 1 ? "" : "s",
                         gc->removed_list.data ? gc->removed_list.data : "", (unsigned long long) gc->bytes_removed,
                         (long long) gained, gc->sel.usage_percent, after, gc->n_failed, secs);
        else
                log_debug("image GC: nothing to remove (usage %d%%, %zu images known), %.3fs", gc->sel.usage_percent,
                          gc->n_records, secs);
        /* upstream: freed < amountToFree -> FreeDiskSpaceFailed */
        if (gc->sel.over_high && !gc->reclaim_run && (int64_t) gc->bytes_removed < gc->sel.bytes_to_free) {
                char msg[256];
                snprintf(msg, sizeof(msg),
                         "Failed to garbage collect required amount of images. Attempted to free %lld bytes, but "
                         "only found %llu bytes eligible to free.",
                         (long long) gc->sel.bytes_to_free, (unsigned long long) gc->bytes_removed);
                log_warning("image GC: %s", msg);
                node_event(gc, "Warning", "FreeDiskSpaceFailed", "%s", msg);
        }
        run_end(gc, NULL);
}

static void on_removed(int r, const struct kl_error *err, ProtobufCMessage *reply, void *userdata) {
        struct kl_imagegc *gc = userdata;
        size_t i = gc->next_remove++;
        const char *reason = i < gc->n_old ? "age" : "space";

        if (r < 0) {
                gc->n_failed++;
                log_warning("image GC: removing image '%s' (%s) failed: %s, ignoring", gc->remove_names[i],
                            gc->remove_ids[i], kl_error_str(err));
        } else {
                gc->n_removed++;
                gc->bytes_removed += gc->remove_sizes[i];
                log_info("image GC: removed image '%s' (%s) to free %llu bytes (%s)", gc->remove_names[i],
                         gc->remove_ids[i], (unsigned long long) gc->remove_sizes[i],
                         i < gc->n_old     ? "unused for longer than imageMaximumGCAge"
                         : gc->reclaim_run ? "disk pressure"
                                           : "disk usage");
                kl_buf_printf(&gc->removed_list, "%s'%s'", gc->removed_list.len ? ", " : "", gc->remove_names[i]);
                record_forget(gc, gc->remove_ids[i]);
                if (gc->p.removed)
                        kl_metric_inc(gc->p.removed, reason);
        }
        remove_next(gc);
}

static void remove_next(struct kl_imagegc *gc) {
        while (gc->next_remove < gc->n_remove) {
                if (kl_cri_remove_image_async(gc->p.cri, gc->remove_ids[gc->next_remove], on_removed, gc) >= 0)
                        return;
                gc->n_failed++;
                gc->next_remove++;
        }
        finish(gc);
}

static bool image_pinned(struct kl_imagegc *gc, const Runtime__V1__Image *im) {
        return im->pinned || (gc->sandbox_image && ref_matches(gc->sandbox_image, im)) ||
               any_ref_matches(gc->pinned_refs, im);
}

static void select_and_remove(struct kl_imagegc *gc) {
        const Runtime__V1__ListImagesResponse *li = gc->images;
        size_t n = li ? li->n_images : 0;
        uint64_t now = kl_now_usec();
        struct kl_imagegc_policy pol = {
                .high_percent = gc->p.cfg->image_gc_high_threshold_percent,
                .low_percent = gc->p.cfg->image_gc_low_threshold_percent,
                .min_age_usec = gc->p.cfg->image_minimum_gc_age_usec,
                .max_age_usec = gc->p.cfg->image_maximum_gc_age_usec,
        };
        int r = detect(gc, now);
        if (r < 0) {
                run_end(gc, "out of memory");
                return;
        }

        _cleanup_free_ struct kl_imagegc_image *imgs = calloc(n + 1, sizeof(*imgs));
        _cleanup_free_ size_t *order = calloc(n + 1, sizeof(*order));
        gc->remove_ids = calloc(n + 1, sizeof(char *));
        gc->remove_names = calloc(n + 1, sizeof(char *));
        gc->remove_sizes = calloc(n + 1, sizeof(uint64_t));
        if (!imgs || !order || !gc->remove_ids || !gc->remove_names || !gc->remove_sizes) {
                run_end(gc, "out of memory");
                return;
        }
        for (size_t i = 0; i < n; i++) {
                const Runtime__V1__Image *im = li->images[i];
                const struct record *rec = im->id ? record_find(gc, im->id) : NULL;
                imgs[i] = (struct kl_imagegc_image){
                        .id = im->id,
                        .size = im->size,
                        .in_use = !rec || image_in_use(gc, im),
                        .pinned = image_pinned(gc, im),
                        .first_seen_usec = rec ? rec->first_seen : now,
                        .last_used_usec = rec ? rec->last_used : now,
                };
        }
        r = kl_imagegc_select(imgs, n, &pol, gc->capacity, gc->avail_before, now, gc->began, gc->reclaim_run, order,
                              &gc->sel);
        if (r < 0) {
                run_end(gc, "out of memory");
                return;
        }
        if (gc->sel.over_high && !gc->reclaim_run)
                log_info("image GC: disk usage on the image filesystem '%s' is %d%%, at or over the high threshold "
                         "(%d%%): trying to free %lld bytes down to the low threshold (%d%%)",
                         gc->mountpoint, gc->sel.usage_percent, pol.high_percent, (long long) gc->sel.bytes_to_free,
                         pol.low_percent);
        else if (gc->reclaim_run)
                log_info("image GC: disk pressure: removing every unused image (image filesystem usage %d%%)",
                         gc->sel.usage_percent);
        for (size_t i = 0; i < gc->sel.n; i++) {
                const Runtime__V1__Image *im = li->images[order[i]];
                char name[REF_MAX];
                image_name(im, name, sizeof(name));
                gc->remove_ids[i] = strdup(im->id);
                gc->remove_names[i] = strdup(name);
                gc->remove_sizes[i] = im->size;
                if (!gc->remove_ids[i] || !gc->remove_names[i]) {
                        run_end(gc, "out of memory");
                        return;
                }
        }
        gc->n_remove = gc->sel.n;
        gc->n_old = gc->sel.n_old;
        remove_next(gc);
}

/* root-dir or podLogsDir (the nodefs signals' filesystems) on the image filesystem */
static bool imagefs_on_nodefs(const struct kl_imagegc *gc) {
        const struct kl_config *c = gc->p.cfg;
        struct stat st;
        return (c->root_dir && stat(c->root_dir, &st) == 0 && st.st_dev == gc->imagefs_dev) ||
               (c->pod_logs_dir && stat(c->pod_logs_dir, &st) == 0 && st.st_dev == gc->imagefs_dev);
}

static void on_fs_info(int r, const struct kl_error *err, ProtobufCMessage *reply, void *userdata) {
        struct kl_imagegc *gc = userdata;
        const Runtime__V1__ImageFsInfoResponse *fi = (const Runtime__V1__ImageFsInfoResponse *) reply;
        char msg[512];

        if (r < 0) {
                snprintf(msg, sizeof(msg), "ImageFsInfo: %s", kl_error_str(err));
                {
                        run_end(gc, msg);
                        return;
                }
        }
        for (size_t i = 0; i < fi->n_image_filesystems && !gc->mountpoint; i++) {
                const Runtime__V1__FilesystemUsage *u = fi->image_filesystems[i];
                if (u->fs_id && u->fs_id->mountpoint && u->fs_id->mountpoint[0])
                        gc->mountpoint = strdup(u->fs_id->mountpoint);
        }
        /* upstream takes capacity and available from cadvisor for that
         * filesystem; statvfs of the mountpoint says the same */
        gc->capacity = 0;
        if (!gc->mountpoint || statvfs_of(gc->mountpoint, &gc->capacity, &gc->avail_before) < 0 || gc->capacity <= 0) {
                /* upstream: "invalid capacity 0 on image filesystem"; age and
                 * disk-pressure removals need no capacity and go on */
                if (!gc->reclaim_run)
                        log_warning("image GC: cannot measure the image filesystem '%s', only age-based removal runs",
                                    strempty(gc->mountpoint));
                gc->capacity = 0;
        } else {
                struct stat st;
                if (stat(gc->mountpoint, &st) == 0) {
                        gc->imagefs_dev = st.st_dev;
                        gc->have_imagefs_dev = true;
                }
        }
        if (gc->reclaim_run && gc->have_imagefs_dev && !imagefs_on_nodefs(gc)) {
                log_info("image GC: the image filesystem '%s' is not the node filesystem under pressure, removing "
                         "images would not help",
                         gc->mountpoint);
                run_end(gc, NULL);
                return;
        }
        select_and_remove(gc);
}

static void on_images(int r, const struct kl_error *err, ProtobufCMessage *reply, void *userdata) {
        struct kl_imagegc *gc = userdata;
        char msg[512];

        if (r < 0) {
                snprintf(msg, sizeof(msg), "ListImages: %s", kl_error_str(err));
                {
                        run_end(gc, msg);
                        return;
                }
        }
        gc->images = kl_cri_take_reply(gc->p.cri, reply);
        if (kl_cri_image_fs_info_async(gc->p.cri, on_fs_info, gc) < 0) {
                run_end(gc, "ImageFsInfo: cannot start the call");
                return;
        }
}

static void on_containers(int r, const struct kl_error *err, ProtobufCMessage *reply, void *userdata) {
        struct kl_imagegc *gc = userdata;
        char msg[512];

        if (r < 0) {
                snprintf(msg, sizeof(msg), "ListContainers: %s", kl_error_str(err));
                {
                        run_end(gc, msg);
                        return;
                }
        }
        gc->containers = kl_cri_take_reply(gc->p.cri, reply);
        if (kl_cri_list_images_async(gc->p.cri, on_images, gc) < 0) {
                run_end(gc, "ListImages: cannot start the call");
                return;
        }
}

int kl_imagegc_sandbox_image(const char *config_json, char *buf, size_t size) {
        const char *p = config_json ? strstr(config_json, "\"sandboxImage\"") : NULL;
        if (!p || size == 0)
                return -ENOENT;
        p += strlen("\"sandboxImage\"");
        while (*p == ' ' || *p == ':' || *p == '\n' || *p == '\t')
                p++;
        if (*p++ != '"')
                return -EINVAL;
        const char *e = strchr(p, '"');
        if (!e || e == p || e - p >= REF_MAX || memchr(p, '\\', (size_t) (e - p)))
                return -EINVAL;
        char raw[REF_MAX];
        memcpy(raw, p, (size_t) (e - p));
        raw[e - p] = '\0';
        kl_imagegc_normalize_ref(raw, buf, size);
        return 0;
}

/* containerd puts its CRI plugin config in info["config"] (1.6 has no CRI
 * pinned flag for the sandbox image). */
static char *sandbox_image_from(const Runtime__V1__StatusResponse *st) {
        char norm[REF_MAX];
        if (kl_imagegc_sandbox_image(kl_cri_map_get((void **) st->info, st->n_info, "config"), norm, sizeof(norm)) < 0)
                return NULL;
        return strdup(norm);
}

static void list_containers(struct kl_imagegc *gc) {
        if (kl_cri_list_containers_async(gc->p.cri, 0, on_containers, gc) < 0)
                run_end(gc, "ListContainers: cannot start the call");
}

static void on_status(int r, const struct kl_error *err, ProtobufCMessage *reply, void *userdata) {
        struct kl_imagegc *gc = userdata;

        if (r >= 0) {
                gc->sandbox_known = true;
                free(gc->sandbox_image);
                gc->sandbox_image = sandbox_image_from((const Runtime__V1__StatusResponse *) reply);
                if (gc->sandbox_image)
                        log_info("image GC: the sandbox image '%s' is never removed", gc->sandbox_image);
        } else
                log_debug("image GC: Status: %s", kl_error_str(err));
        list_containers(gc);
}

static void start_run(struct kl_imagegc *gc) {
        gc->running = true;
        gc->reclaim_run = gc->reclaim_wanted;
        gc->reclaim_wanted = false;
        gc->t0 = kl_now_usec();
        run_reset(gc);
        if (gc->p.desired_images)
                gc->p.desired_images(gc, gc->p.userdata);
        /* A runtime that cannot say its sandbox image is asked again next run;
         * until it answers, nothing is removed (the pause image could go). */
        if (!gc->sandbox_known) {
                if (kl_cri_status_verbose_async(gc->p.cri, on_status, gc) < 0) {
                        run_end(gc, "Status: cannot start the call");
                        return;
                }
                return;
        }
        list_containers(gc);
}

static void on_timer(struct kl_event_timer *t, uint64_t now, void *userdata) {
        struct kl_imagegc *gc = userdata;

        kl_event_timer_set(t, KL_USEC_INFINITY);
        if (gc->running) {
                gc->again = true;
                return;
        }
        if (gc->paused && !gc->reclaim_wanted) {
                gc->pending = true;
                return;
        }
        if (gc->disabled && !gc->reclaim_wanted)
                return;
        start_run(gc);
}

int kl_imagegc_new(const struct kl_imagegc_params *p, struct kl_imagegc **ret) {
        struct kl_imagegc *gc;
        int r;

        if (!p || !p->loop || !p->cri || !p->cfg || !ret)
                return -EINVAL;
        gc = calloc(1, sizeof(*gc));
        if (!gc)
                return -ENOMEM;
        gc->p = *p;
        gc->began = kl_now_usec();
        /* upstream's StartGarbageCollection: high threshold 100 disables image GC */
        gc->disabled = p->cfg->image_gc_high_threshold_percent >= 100;
        r = kl_event_add_timer(p->loop, gc->disabled ? KL_USEC_INFINITY : gc->began + GC_FIRST_DELAY_USEC, on_timer, gc,
                               &gc->timer);
        if (r < 0) {
                free(gc);
                return r;
        }
        if (gc->disabled)
                log_info("image GC: imageGCHighThresholdPercent is 100, periodic image garbage collection is off");
        *ret = gc;
        return 0;
}

struct kl_imagegc *kl_imagegc_free(struct kl_imagegc *gc) {
        if (!gc)
                return NULL;
        run_reset(gc);
        kl_event_timer_free(gc->timer);
        for (size_t i = 0; i < gc->n_records; i++)
                free(gc->records[i].id);
        free(gc->records);
        free(gc->sandbox_image);
        kl__strv_free(gc->pinned_refs);
        free(gc);
        return NULL;
}

static int push_normalized(char ***v, const char *ref) {
        char buf[REF_MAX];
        kl_imagegc_normalize_ref(ref, buf, sizeof(buf));
        return kl__strv_contains(*v, buf) ? 0 : kl__strv_push(v, buf);
}

int kl_imagegc_set_pinned_refs(struct kl_imagegc *gc, char *const *refs) {
        char **n = NULL;
        for (char *const *r = refs; r && *r; r++)
                if (push_normalized(&n, *r) < 0) {
                        kl__strv_free(n);
                        return -ENOMEM;
                }
        kl__strv_free(gc->pinned_refs);
        gc->pinned_refs = n;
        return 0;
}

void kl_imagegc_keep_ref(struct kl_imagegc *gc, const char *ref) {
        if (ref && ref[0])
                (void) push_normalized(&gc->keep_refs, ref);
}

void kl_imagegc_set_paused(struct kl_imagegc *gc, bool paused) {
        gc->paused = paused;
        if (!paused && gc->pending) {
                gc->pending = false;
                schedule(gc, kl_now_usec());
        }
}

void kl_imagegc_trigger(struct kl_imagegc *gc) {
        if (gc->running)
                gc->again = true;
        else
                schedule(gc, kl_now_usec());
}

int kl_imagegc_reclaim(int signal, void *userdata) {
        struct kl_imagegc *gc = userdata;

        /* buildSignalToNodeReclaimFuncs: images are reclaimed for nodefs only
         * when the image filesystem is that filesystem (not known before the
         * first run: the reclaim run finds out and then removes nothing) */
        if (gc->have_imagefs_dev && !imagefs_on_nodefs(gc))
                return 0;
        if (gc->reclaim_done && !gc->running) {
                gc->reclaim_done = false; /* this observation saw its effect */
                return 0;
        }
        if (gc->running) {
                if (!gc->reclaim_run)
                        gc->reclaim_wanted = true;
                return 1;
        }
        if (gc->reclaim_wanted)
                return 1;
        log_info("image GC: %s is under its eviction threshold, reclaiming unused images before evicting pods",
                 strempty(kl_eviction_signal_to_string(signal)));
        gc->reclaim_wanted = true;
        gc->reclaim_done = false;
        kl_event_timer_set(gc->timer, kl_now_usec());
        return 1;
}

uint64_t kl_imagegc_removed_count(const struct kl_imagegc *gc) {
        return gc->total_removed;
}
