/* SPDX-License-Identifier: Apache-2.0 */
/* Starting pods for the pod manager: host directories and volumes, the
 * sandbox with its cgroup, containers (journaled so that a crash mid-start
 * is told apart from a failed container), and CrashLoopBackOff. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "crispec.h"
#include "lib/arena.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/macros.h"
#include "metrics.h"
#include "node.h"
#include "podworker.h"
#include "runtime/cri.h"

/* ---- starting things ------------------------------------------------------ */

void kl__fill_ctx(struct kl_pm *pm, struct kl__worker *w, struct kl_spec_ctx *ctx) {
        *ctx = (struct kl_spec_ctx){
                .root_dir = pm->cfg->root_dir,
                .pod_logs_dir = pm->cfg->pod_logs_dir,
                .cgroup_parent = w->cgroup_parent ? w->cgroup_parent : "",
                .node_name = pm->cfg->node_name,
                .host_ip = pm->host_ip,
                .pod_ip = w->pod_ip,
                .seen_nsec = w->seen_nsec,
                .cfs_period_us = (int64_t) pm->cfg->cpu_cfs_quota_period_usec,
        };
}

/* emptyDir medium: Memory is a tmpfs, sized by sizeLimit when given (upstream
 * sizes it from sizeLimit too); already mounted is fine (adopted pods). */
static int mount_tmpfs(const char *path, int64_t size_limit) {
        struct statfs sfs;
        char opts[64];

        if (statfs(path, &sfs) == 0 && sfs.f_type == TMPFS_MAGIC)
                return 0;
        if (size_limit > 0)
                snprintf(opts, sizeof(opts), "mode=0777,size=%lld", (long long) size_limit);
        else
                snprintf(opts, sizeof(opts), "mode=0777");
        if (mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
                return -errno;
        return 0;
}

/* Host-side directories a pod needs before its sandbox: log dir, emptyDirs,
 * hostPath checks. */
static int prepare_pod_dirs(struct kl_pm *pm, struct kl__worker *w, struct kl_error *reterr) {
        struct kl_arena a = {};
        struct kl_spec_ctx ctx;
        int r = 0;

        kl__fill_ctx(pm, w, &ctx);
        char *logdir = kl_spec_pod_log_dir(&a, &ctx, w->pod);
        if (!logdir || (r = kl_mkdir_p(logdir, 0755)) < 0) {
                r = kl_error_set(reterr, r ? r : ENOMEM, "creating log directory '%s': %s", strempty(logdir),
                                 strerror(r ? -r : ENOMEM));
                goto out;
        }
        for (size_t i = 0; i < w->pod->n_volumes; i++) {
                const struct kl_volume *v = &w->pod->volumes[i];
                char *host = kl_spec_volume_host_path(&a, &ctx, w->pod, v);
                struct stat st;
                if (!host) {
                        r = kl_error_set(reterr, ENOMEM, "out of memory");
                        goto out;
                }
                if (v->kind == KL_VOLUME_EMPTY_DIR) {
                        if ((r = kl_mkdir_p(host, 0777)) < 0) {
                                r = kl_error_set(reterr, r, "volume '%s': creating '%s': %s", v->name, host,
                                                 strerror(-r));
                                goto out;
                        }
                        if (v->medium_memory && (r = mount_tmpfs(host, v->size_limit)) < 0) {
                                r = kl_error_set(reterr, r, "volume '%s': mounting tmpfs on '%s': %s", v->name, host,
                                                 strerror(-r));
                                goto out;
                        }
                        continue;
                }
                switch (v->host_path_type) {
                case KL_HOST_PATH_DIRECTORY_OR_CREATE:
                        if ((r = kl_mkdir_p(host, 0755)) < 0) {
                                r = kl_error_set(reterr, r, "volume '%s': creating directory '%s': %s", v->name,
                                                 host, strerror(-r));
                                goto out;
                        }
                        break;
                case KL_HOST_PATH_FILE_OR_CREATE: {
                        int fd = open(host, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
                        if (fd < 0 && errno != EISDIR) {
                                r = kl_error_set(reterr, errno, "volume '%s': creating file '%s': %m", v->name, host);
                                goto out;
                        }
                        safe_close(fd);
                        break;
                }
                case KL_HOST_PATH_UNSET:
                        break;
                default: {
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
                        for (size_t k = 0; k < ELEMENTSOF(checks); k++) {
                                if (checks[k].t != v->host_path_type)
                                        continue;
                                if (stat(host, &st) < 0 || (st.st_mode & S_IFMT) != checks[k].fmt) {
                                        r = kl_error_set(reterr, ENOTDIR, "volume '%s': hostPath '%s' is not %s",
                                                         v->name, host, checks[k].what);
                                        goto out;
                                }
                        }
                }
                }
        }
out:
        kl_arena_free(&a);
        return r;
}

int kl__start_sandbox(struct kl_pm *pm, struct kl__worker *w) {
        struct kl_error err = {};
        struct kl_arena a = {};
        struct kl_spec_ctx ctx;
        _cleanup_free_ char *parent = NULL;
        char *id = NULL;
        int r;

        if (!w->pod->host_network && !pm->network_ready) {
                /* Upstream refuses too; calling RunPodSandbox now would leak a
                 * NOTREADY sandbox and a netns (FACTS). */
                if (kl__set_str(&w->sandbox_error,
                            "NetworkNotReady: container runtime network not ready: cni plugin not initialized "
                            "(no CNI config); only hostNetwork pods can run") > 0)
                        log_error("pod '%s': %s", w->full_name, w->sandbox_error);
                return -ENETDOWN;
        }
        r = prepare_pod_dirs(pm, w, &err);
        if (r < 0)
                goto fail;
        r = kl_node_pod_start(pm->node, w->pod, &parent, &err);
        if (r < 0)
                goto fail;
        kl__set_str(&w->cgroup_parent, parent);

        kl__fill_ctx(pm, w, &ctx);
        uint32_t attempt = w->sandbox_state >= 0 ? w->sandbox_attempt + 1 : 0;
        Runtime__V1__PodSandboxConfig *cfg = kl_spec_sandbox(&a, w->pod, &ctx, attempt);
        if (!cfg) {
                r = kl_error_set(&err, ENOMEM, "out of memory");
                goto fail;
        }
        uint64_t t0 = kl_now_usec();
        r = kl_cri_run_pod_sandbox(pm->cri, cfg, NULL, &id, &err);
        if (r < 0)
                goto fail;
        log_info("pod '%s': sandbox %.12s started in %llu ms", w->full_name, id,
                 (unsigned long long) ((kl_now_usec() - t0) / 1000));
        kl__set_str(&w->sandbox_id, id);
        free(id);
        w->sandbox_state = RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY;
        w->sandbox_attempt = attempt;
        w->pod_ip = mfree(w->pod_ip);
        w->sandbox_error = mfree(w->sandbox_error);
        if (w->pod->host_network)
                w->pod_ip = strdup(pm->host_ip);
        else {
                Runtime__V1__PodSandboxStatusResponse *st = NULL;
                if (kl_cri_pod_sandbox_status(pm->cri, w->sandbox_id, false, &st, &err) >= 0 && st->status &&
                    st->status->network && st->status->network->ip && st->status->network->ip[0])
                        w->pod_ip = strdup(st->status->network->ip);
                kl_cri_response_free(st);
        }
        if (w->start_nsec == 0)
                w->start_nsec = kl_realtime_nsec();
        /* New sandbox: containers from an old one are gone with it. */
        for (size_t i = 0; i < w->n_cs; i++)
                w->cs[i].state = -1;
        kl_arena_free(&a);
        return 0;
fail:
        kl_arena_free(&a);
        if (kl__set_str(&w->sandbox_error, kl_error_str(&err)) > 0)
                log_error("pod '%s': creating sandbox failed: %s", w->full_name, kl_error_str(&err));
        return r;
}

/* A start in progress is journaled: <root>/pods/<uid>/containers/<name>/<attempt>-starting
 * exists from just before CreateContainer until StartContainer has returned.
 * After a crash it tells an interrupted start from a container that failed. */
void kl__journal_path(struct kl_pm *pm, struct kl__worker *w, const char *name, uint32_t attempt, char *buf,
                         size_t n) {
        snprintf(buf, n, "%s/pods/%s/containers/%s/%u-starting", pm->cfg->root_dir, w->uid, name, attempt);
}

bool kl__journal_exists(struct kl_pm *pm, struct kl__worker *w, const char *name, uint32_t attempt) {
        char path[4096];
        kl__journal_path(pm, w, name, attempt, path, sizeof(path));
        return access(path, F_OK) == 0;
}

int kl__start_container(struct kl_pm *pm, struct kl__worker *w, struct kl__cstat *cs, uint32_t attempt) {
        struct kl_error err = {};
        struct kl_arena a = {};
        struct kl_spec_ctx ctx;
        char *id = NULL;
        char tlog[4096], journal[4096] = "/nonexistent";
        int r;

        if (!kl__ensure_image(pm, w, cs))
                return 0;

        kl__fill_ctx(pm, w, &ctx);
        if (!cs->init || cs->sidecar)
                ctx.cpuset = kl_node_container_cpuset(pm->node, w->pod, cs->spec);

        /* The termination log lives on the host so it survives the container. */
        int n = snprintf(tlog, sizeof(tlog), "%s/pods/%s/containers/%s", pm->cfg->root_dir, w->uid, cs->spec->name);
        if (n < 0 || (size_t) n >= sizeof(tlog) - 32 || kl_mkdir_p(tlog, 0755) < 0) {
                r = kl_error_set(&err, EIO, "creating '%s' failed", tlog);
                goto fail;
        }
        snprintf(tlog + n, sizeof(tlog) - (size_t) n, "/%u-termination-log", attempt);
        int fd = open(tlog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0666);
        if (fd < 0) {
                r = kl_error_set(&err, errno, "creating '%s': %m", tlog);
                goto fail;
        }
        safe_close(fd);
        kl__journal_path(pm, w, cs->spec->name, attempt, journal, sizeof(journal));
        safe_close(open(journal, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));

        const char *kind = cs->sidecar ? "sidecar" : cs->init ? "init" : "app";
        Runtime__V1__PodSandboxConfig *sbc = kl_spec_sandbox(&a, w->pod, &ctx, w->sandbox_attempt);
        Runtime__V1__ContainerConfig *cc = kl_spec_container(&a, w->pod, cs->spec, kind, &ctx, attempt, tlog, &err);
        if (!sbc || !cc) {
                r = -(err.err ? err.err : ENOMEM);
                goto fail;
        }
        r = kl_cri_create_container(pm->cri, w->sandbox_id, cc, sbc, &id, &err);
        if (r < 0)
                goto fail;
        r = kl_cri_start_container(pm->cri, id, &err);
        (void) unlink(journal);
        if (r < 0) {
                struct kl_error e2 = {};
                (void) kl_cri_remove_container(pm->cri, id, &e2);
                goto fail;
        }
        log_info("pod '%s': container '%s' started (restart %u) id=%.12s", w->full_name, cs->spec->name, attempt, id);
        if (pm->km)
                kl_metric_inc(pm->km->started_containers, cs->init ? "init_container" : "container");
        kl__set_str(&cs->id, id);
        free(id);
        cs->state = RUNTIME__V1__CONTAINER_STATE__CONTAINER_RUNNING;
        cs->status_state = -1; /* fetch details on the next relist */
        cs->attempt = attempt;
        kl__set_waiting(cs, NULL, NULL);
        kl_arena_free(&a);
        kl__post_start(pm, w, cs);
        return 1;
fail:
        kl_arena_free(&a);
        free(id);
        (void) unlink(journal);
        kl__set_waiting(cs, "CreateContainerError", kl_error_str(&err));
        if (pm->km)
                kl_metric_inc(pm->km->started_containers_errors, cs->init ? "init_container" : "container",
                              err.err == ENOENT ? "NotFound" : "Unknown");
        log_error("pod '%s': container '%s': %s", w->full_name, cs->spec->name, kl_error_str(&err));
        /* Treat a failed start like a crash for backoff purposes. */
        cs->backoff_usec = cs->backoff_usec ? MIN(cs->backoff_usec * 2, pm->cfg->crashloop_max_usec)
                                            : pm->cfg->crashloop_initial_usec;
        cs->backoff_until = kl_now_usec() + cs->backoff_usec;
        return r;
}

/* CrashLoopBackOff as upstream: the first restart is immediate; later ones
 * wait 10s, 20s, ... up to 300s after the container finished. A container
 * that ran for crashloop_reset resets the backoff. Returns true to restart now. */
bool kl__backoff_allows(struct kl_pm *pm, struct kl__worker *w, struct kl__cstat *cs) {
        uint64_t now = kl_now_usec();
        int64_t ran_nsec = cs->finished_at - cs->started_at;

        if (cs->backoff_until > now) {
                char msg[512];
                snprintf(msg, sizeof(msg), "back-off %llus restarting failed container=%s pod=%s_%s(%s)",
                         (unsigned long long) (cs->backoff_usec / KL_USEC_PER_SEC), cs->spec->name, w->full_name,
                         w->namespace, w->uid);
                kl__set_waiting(cs, "CrashLoopBackOff", msg);
                return false;
        }
        if (ran_nsec > 0 && (uint64_t) ran_nsec / 1000 >= pm->cfg->crashloop_reset_usec)
                cs->backoff_usec = 0;
        if (cs->backoff_usec == 0)
                cs->backoff_usec = pm->cfg->crashloop_initial_usec; /* this restart is free */
        else {
                cs->backoff_usec = MIN(cs->backoff_usec * 2, pm->cfg->crashloop_max_usec);
        }
        /* The window runs from this restart; the next crash must wait it out. */
        cs->backoff_until = 0;
        return true;
}

/* After an exit, arm the window that the next restart must wait for. */
void kl__note_exit(struct kl_pm *pm, struct kl__cstat *cs) {
        if (cs->backoff_usec > 0 && cs->backoff_until == 0) {
                /* relative to when it finished, as upstream */
                int64_t fin = cs->finished_at;
                int64_t now_rt = kl_realtime_nsec();
                uint64_t since = fin > 0 && now_rt > fin ? (uint64_t) (now_rt - fin) / 1000 : 0;
                uint64_t wait = cs->backoff_usec > since ? cs->backoff_usec - since : 0;
                cs->backoff_until = kl_now_usec() + wait;
        }
}

bool kl__should_restart(const struct kl__worker *w, const struct kl__cstat *cs) {
        if (cs->sidecar)
                return true;
        enum kl_restart_policy p = w->pod->restart_policy;
        if (p == KL_RESTART_ALWAYS)
                return !cs->init || cs->exit_code != 0;
        if (p == KL_RESTART_ON_FAILURE)
                return cs->exit_code != 0;
        return false;
}

