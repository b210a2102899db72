/* SPDX-License-Identifier: Apache-2.0 */
#include "eviction.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "cgroups/stats.h"
#include "lib/fileio.h"
#include "lib/macros.h"

#define USEC_PER_SEC UINT64_C(1000000)
#define RECLAIM_RECHECK_USEC USEC_PER_SEC /* observe again this soon while a reclaim runs */
/* scheduling.SystemCriticalPriority and the two built-in classes. */
#define SYSTEM_CRITICAL_PRIORITY INT32_C(2000000000)
#define SYSTEM_NODE_CRITICAL_PRIORITY INT32_C(2000001000)

static const char *const signal_names[_KL_EVICTION_SIGNAL_MAX] = {"memory.available", "nodefs.available",
                                                                  "nodefs.inodesFree", "pid.available"};
static const char *const condition_names[_KL_EVICTION_CONDITION_MAX] = {"MemoryPressure", "DiskPressure",
                                                                        "PIDPressure"};
static const char *const resource_names[_KL_EVICTION_RESOURCE_MAX] = {"memory", "ephemeral-storage", "inodes", "pids"};
static const enum kl_eviction_condition signal_condition[_KL_EVICTION_SIGNAL_MAX] = {
        KL_EVICTION_MEMORY_PRESSURE, KL_EVICTION_DISK_PRESSURE, KL_EVICTION_DISK_PRESSURE, KL_EVICTION_PID_PRESSURE};
static const enum kl_eviction_resource signal_resource[_KL_EVICTION_SIGNAL_MAX] = {
        KL_EVICTION_RESOURCE_MEMORY, KL_EVICTION_RESOURCE_EPHEMERAL_STORAGE, KL_EVICTION_RESOURCE_INODES,
        KL_EVICTION_RESOURCE_PIDS};

const char *kl_eviction_signal_to_string(enum kl_eviction_signal s) {
        return (unsigned) s < _KL_EVICTION_SIGNAL_MAX ? signal_names[s] : NULL;
}

const char *kl_eviction_condition_to_string(enum kl_eviction_condition c) {
        return (unsigned) c < _KL_EVICTION_CONDITION_MAX ? condition_names[c] : NULL;
}

const char *kl_eviction_resource_to_string(enum kl_eviction_resource r) {
        return (unsigned) r < _KL_EVICTION_RESOURCE_MAX ? resource_names[r] : NULL;
}

enum kl_eviction_condition kl_eviction_signal_condition(enum kl_eviction_signal s) {
        return signal_condition[(unsigned) s < _KL_EVICTION_SIGNAL_MAX ? s : 0];
}

enum kl_eviction_resource kl_eviction_signal_resource(enum kl_eviction_signal s) {
        return signal_resource[(unsigned) s < _KL_EVICTION_SIGNAL_MAX ? s : 0];
}

static bool resource_is_bytes(enum kl_eviction_resource r) {
        return r == KL_EVICTION_RESOURCE_MEMORY || r == KL_EVICTION_RESOURCE_EPHEMERAL_STORAGE;
}

static uint64_t add_sat(uint64_t a, uint64_t b) {
        return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* ---- configuration ------------------------------------------------------ */

void kl_eviction_config_init(struct kl_eviction_config *cfg) {
        *cfg = (struct kl_eviction_config){.pressure_transition_usec = 5 * 60 * USEC_PER_SEC};
        for (int s = 0; s < _KL_EVICTION_SIGNAL_MAX; s++)
                cfg->hard[s] = cfg->soft[s] = (struct kl_eviction_threshold){.quantity = -1};
        cfg->hard[KL_EVICTION_MEMORY_AVAILABLE] = (struct kl_eviction_threshold){true, 100 * 1024 * 1024, 0};
        cfg->hard[KL_EVICTION_NODEFS_AVAILABLE] = (struct kl_eviction_threshold){true, -1, 10};
        cfg->hard[KL_EVICTION_NODEFS_INODES_FREE] = (struct kl_eviction_threshold){true, -1, 5};
}

static void threshold_from_config(const struct kl_config_threshold *in, struct kl_eviction_threshold *out) {
        *out = (struct kl_eviction_threshold){.quantity = -1};
        if (!in->set)
                return;
        if (in->quantity >= 0) {
                /* upstream refuses 0; it could never be crossed anyway */
                if (in->quantity > 0)
                        *out = (struct kl_eviction_threshold){.set = true, .quantity = in->quantity};
                return;
        }
        /* upstream ignores 0% and 100% (the latter would always be met) */
        if (in->percent > 0 && in->percent < 100)
                *out = (struct kl_eviction_threshold){.set = true, .quantity = -1, .percent = (float) in->percent};
}

void kl_eviction_config_from_kubelet(const struct kl_config *c, struct kl_eviction_config *ret) {
        const struct kl_config_threshold *hard[] = {
                &c->eviction_hard.memory_available, &c->eviction_hard.nodefs_available,
                &c->eviction_hard.nodefs_inodes_free, &c->eviction_hard.pid_available};
        const struct kl_config_threshold *soft[] = {
                &c->eviction_soft.memory_available, &c->eviction_soft.nodefs_available,
                &c->eviction_soft.nodefs_inodes_free, &c->eviction_soft.pid_available};
        struct kl_eviction_config cfg;

        kl_eviction_config_init(&cfg);
        for (int s = 0; s < _KL_EVICTION_SIGNAL_MAX; s++) {
                threshold_from_config(hard[s], &cfg.hard[s]);
                threshold_from_config(soft[s], &cfg.soft[s]);
                cfg.soft_grace_usec[s] = c->eviction_soft_grace_usec[s];
        }
        cfg.pressure_transition_usec = c->eviction_pressure_transition_usec;
        cfg.reclaim = c->node_reclaim;
        cfg.reclaim_userdata = c->node_reclaim_userdata;
        *ret = cfg;
}

int64_t kl_eviction_threshold_quantity(const struct kl_eviction_threshold *t, int64_t capacity) {
        if (!t->set)
                return 0;
        if (t->quantity >= 0)
                return t->quantity;
        if (capacity <= 0 || !(t->percent > 0))
                return 0;
        /* upstream keeps the percentage as a float32 fraction */
        float frac = t->percent / 100.0f;
        return (int64_t) ((double) capacity * (double) frac);
}

/* ---- the state machine -------------------------------------------------- */

struct threshold_state {
        bool met;
        uint64_t since; /* when it was first met, in this run of being met */
};

struct kl_eviction {
        struct kl_eviction_config cfg;
        struct threshold_state hard[_KL_EVICTION_SIGNAL_MAX], soft[_KL_EVICTION_SIGNAL_MAX];
        bool cond_seen[_KL_EVICTION_CONDITION_MAX];
        uint64_t cond_last[_KL_EVICTION_CONDITION_MAX];
        bool cond[_KL_EVICTION_CONDITION_MAX];
};

struct kl_eviction *kl_eviction_new(const struct kl_eviction_config *cfg) {
        struct kl_eviction *ev = calloc(1, sizeof(*ev));
        if (!ev)
                return NULL;
        if (cfg)
                ev->cfg = *cfg;
        else
                kl_eviction_config_init(&ev->cfg);
        return ev;
}

struct kl_eviction *kl_eviction_free(struct kl_eviction *ev) {
        free(ev);
        return NULL;
}

/* Is t met by v? Fills the quantity it stands for and the observed value. */
static bool value_meets(const struct kl_eviction_threshold *t, const struct kl_eviction_value *v, int64_t *ret_q,
                        int64_t *ret_avail) {
        if (!t->set || !v->have)
                return false;
        int64_t q = kl_eviction_threshold_quantity(t, v->capacity);
        *ret_q = q;
        *ret_avail = v->available;
        return v->available < q;
}

static bool threshold_meets(const struct kl_eviction_threshold *t, const struct kl_eviction_observation *obs,
                            enum kl_eviction_signal s, int64_t *ret_q, int64_t *ret_avail) {
        int64_t q1 = 0, a1 = 0, q2 = 0, a2 = 0;
        bool m1 = value_meets(t, &obs->signal[s], &q1, &a1);
        bool m2 = false;

        if (s == KL_EVICTION_NODEFS_AVAILABLE || s == KL_EVICTION_NODEFS_INODES_FREE)
                m2 = value_meets(t, &obs->logs_fs[s], &q2, &a2);
        /* report the filesystem that is met; when both, the one furthest below */
        if (m2 && (!m1 || (double) a2 - (double) q2 < (double) a1 - (double) q1)) {
                *ret_q = q2;
                *ret_avail = a2;
                return true;
        }
        *ret_q = q1;
        *ret_avail = a1;
        return m1;
}

int kl_eviction_observe(struct kl_eviction *ev, const struct kl_eviction_observation *obs, uint64_t now_usec,
                        struct kl_eviction_decision *ret) {
        struct kl_eviction_decision d = {};
        bool cond_now[_KL_EVICTION_CONDITION_MAX] = {};

        if (!ev || !obs || !ret)
                return -EINVAL;

        /* Signals in upstream's eviction priority (memory first), hard before soft. */
        for (int s = 0; s < _KL_EVICTION_SIGNAL_MAX; s++)
                for (int soft = 0; soft < 2; soft++) {
                        const struct kl_eviction_threshold *t = soft ? &ev->cfg.soft[s] : &ev->cfg.hard[s];
                        struct threshold_state *st = soft ? &ev->soft[s] : &ev->hard[s];
                        int64_t q, avail;

                        if (!threshold_meets(t, obs, s, &q, &avail)) {
                                st->met = false;
                                continue;
                        }
                        if (!st->met) {
                                st->met = true;
                                st->since = now_usec;
                        }
                        d.met[s] = true;
                        cond_now[signal_condition[s]] = true;

                        uint64_t due = add_sat(st->since, soft ? ev->cfg.soft_grace_usec[s] : 0);
                        if (now_usec >= due) {
                                if (!d.evict) {
                                        d.evict = true;
                                        d.signal = s;
                                        d.resource = signal_resource[s];
                                        d.hard = !soft;
                                        d.threshold_percent = t->quantity < 0;
                                        d.threshold_quantity = q;
                                        d.available = avail;
                                }
                        } else if (d.next_check_usec == 0 || due < d.next_check_usec)
                                d.next_check_usec = due;
                }

        /* Upstream reclaims node-level resources (images) before it evicts for
         * disk pressure, and evicts only if the signals, observed again, still
         * meet the threshold. Ours is asynchronous: hold the eviction back
         * while the reclaim runs; the observation after it decides. The hook
         * is the one call out of this otherwise pure function. */
        if (d.evict && ev->cfg.reclaim && signal_condition[d.signal] == KL_EVICTION_DISK_PRESSURE &&
            ev->cfg.reclaim((int) d.signal, ev->cfg.reclaim_userdata) > 0) {
                uint64_t again = add_sat(now_usec, RECLAIM_RECHECK_USEC);
                d.evict = false;
                d.reclaiming = true;
                if (d.next_check_usec == 0 || again < d.next_check_usec)
                        d.next_check_usec = again;
        }

        for (int c = 0; c < _KL_EVICTION_CONDITION_MAX; c++) {
                bool active;

                if (cond_now[c]) {
                        ev->cond_seen[c] = true;
                        ev->cond_last[c] = now_usec;
                }
                /* Upstream keeps a condition while it was observed less than the
                 * transition period ago; one observed now is always set (with a
                 * period of 0 the condition follows the signal). */
                active = cond_now[c] ||
                         (ev->cond_seen[c] && (now_usec < ev->cond_last[c] ||
                                               now_usec - ev->cond_last[c] < ev->cfg.pressure_transition_usec));
                d.condition[c] = active;
                d.condition_changed[c] = active != ev->cond[c];
                ev->cond[c] = active;
        }

        *ret = d;
        return d.evict;
}

bool kl_eviction_has_condition(const struct kl_eviction *ev, enum kl_eviction_condition c) {
        return (unsigned) c < _KL_EVICTION_CONDITION_MAX && ev->cond[c];
}

int64_t kl_eviction_grace_period(const struct kl_eviction *ev, const struct kl_eviction_decision *d,
                                 int64_t pod_grace_sec) {
        int64_t max = ev->cfg.max_pod_grace_period_sec;

        if (d->hard)
                return 1;
        if (max <= 0)
                return 0;
        return pod_grace_sec >= 0 && pod_grace_sec < max ? pod_grace_sec : max;
}

bool kl_eviction_admit(const struct kl_eviction *ev, bool critical, bool best_effort, char *ret_message, size_t size) {
        bool any = false, other = false;

        for (int c = 0; c < _KL_EVICTION_CONDITION_MAX; c++) {
                any = any || ev->cond[c];
                other = other || (c != KL_EVICTION_MEMORY_PRESSURE && ev->cond[c]);
        }
        if (!any || critical)
                return true;
        if (!other && !best_effort)
                return true;
        if (ret_message && size > 0) {
                size_t k = 0;
                int n = snprintf(ret_message, size, "The node had condition: [");
                k = n > 0 ? MIN((size_t) n, size - 1) : 0;
                for (int c = 0, first = 1; c < _KL_EVICTION_CONDITION_MAX; c++)
                        if (ev->cond[c]) {
                                n = snprintf(ret_message + k, size - k, "%s%s", first ? "" : " ", condition_names[c]);
                                k = n > 0 ? MIN(k + (size_t) n, size - 1) : k;
                                first = 0;
                        }
                snprintf(ret_message + k, size - k, "]. ");
        }
        return false;
}

bool kl_eviction_may_readmit(const struct kl_eviction *ev, enum kl_eviction_condition evicted_for, bool best_effort) {
        if ((unsigned) evicted_for < _KL_EVICTION_CONDITION_MAX && ev->cond[evicted_for])
                return false;
        return kl_eviction_admit(ev, false, best_effort, NULL, 0);
}

/* ---- ranking ------------------------------------------------------------ */

int32_t kl_eviction_pod_priority(const struct kl_pod *p) {
        if (p->has_priority)
                return p->priority;
        if (p->priority_class_name) {
                if (streq(p->priority_class_name, "system-node-critical"))
                        return SYSTEM_NODE_CRITICAL_PRIORITY;
                if (streq(p->priority_class_name, "system-cluster-critical"))
                        return SYSTEM_CRITICAL_PRIORITY;
        }
        return 0;
}

bool kl_eviction_pod_is_critical(const struct kl_pod *p) {
        if (p->priority_class_name && (streq(p->priority_class_name, "system-node-critical") ||
                                       streq(p->priority_class_name, "system-cluster-critical")))
                return true;
        return kl_eviction_pod_priority(p) >= SYSTEM_CRITICAL_PRIORITY;
}

void kl_eviction_pod_from_spec(const struct kl_pod *p, enum kl_eviction_resource res, struct kl_eviction_pod *ret) {
        struct kl_resources r;
        int64_t req = 0;

        kl_pod_effective_resources(p, &r);
        if (res == KL_EVICTION_RESOURCE_MEMORY)
                req = r.memory_request;
        else if (res == KL_EVICTION_RESOURCE_EPHEMERAL_STORAGE)
                req = r.ephemeral_request;
        *ret = (struct kl_eviction_pod){
                .request = MAX(req, 0),
                .priority = kl_eviction_pod_priority(p),
                .critical = kl_eviction_pod_is_critical(p),
        };
}

/* true before false, as upstream's cmpBool */
static int cmp_first(bool a, bool b) {
        return a == b ? 0 : a ? -1 : 1;
}

static int cmp_priority(const struct kl_eviction_pod *a, const struct kl_eviction_pod *b) {
        return a->priority < b->priority ? -1 : a->priority > b->priority ? 1 : 0;
}

/* < 0 when a is to be evicted before b. Each step of upstream's comparators
 * first puts a pod without stats ahead of one with. */
static int cmp_pods(const struct kl_eviction_pod *a, const struct kl_eviction_pod *b, enum kl_eviction_resource res) {
        int r;

        if (res != KL_EVICTION_RESOURCE_PIDS) {
                /* exceedMemoryRequests / exceedDiskRequests */
                if (!a->have_stats || !b->have_stats)
                        r = cmp_first(!a->have_stats, !b->have_stats);
                else
                        r = cmp_first(a->usage > a->request, b->usage > b->request);
                if (r)
                        return r;
        }
        r = cmp_priority(a, b);
        if (r)
                return r;
        if (!a->have_stats || !b->have_stats)
                return cmp_first(!a->have_stats, !b->have_stats);
        /* memory / disk: larger usage above request first; process: more first */
        double da = (double) a->usage - (res == KL_EVICTION_RESOURCE_PIDS ? 0 : (double) a->request);
        double db = (double) b->usage - (res == KL_EVICTION_RESOURCE_PIDS ? 0 : (double) b->request);
        return da > db ? -1 : da < db ? 1 : 0;
}

int kl_eviction_rank(const struct kl_eviction_pod *pods, size_t n, enum kl_eviction_resource res, size_t *ret_order) {
        _cleanup_free_ size_t *tmp = NULL;
        size_t k = 0;

        if ((n && (!pods || !ret_order)) || (unsigned) res >= _KL_EVICTION_RESOURCE_MAX || n > INT_MAX)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (!pods[i].critical)
                        ret_order[k++] = i;
        if (k < 2)
                return (int) k;
        tmp = malloc(k * sizeof(*tmp));
        if (!tmp)
                return -ENOMEM;
        /* bottom-up merge sort: stable, so ties keep the input order */
        for (size_t width = 1; width < k; width *= 2) {
                for (size_t lo = 0; lo < k; lo += 2 * width) {
                        size_t mid = MIN(lo + width, k), hi = MIN(lo + 2 * width, k);
                        size_t i = lo, j = mid, o = lo;
                        while (i < mid && j < hi)
                                tmp[o++] = cmp_pods(&pods[ret_order[j]], &pods[ret_order[i]], res) < 0 ? ret_order[j++]
                                                                                                       : ret_order[i++];
                        while (i < mid)
                                tmp[o++] = ret_order[i++];
                        while (j < hi)
                                tmp[o++] = ret_order[j++];
                }
                memcpy(ret_order, tmp, k * sizeof(*tmp));
        }
        return (int) k;
}

/* ---- messages ----------------------------------------------------------- */

void kl_eviction_format_quantity(int64_t v, bool binary, char *buf, size_t size) {
        static const char *const bin[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
        static const char *const dec[] = {"", "k", "M", "G", "T", "P", "E"};
        uint64_t m = v < 0 ? (uint64_t) 0 - (uint64_t) v : (uint64_t) v;
        int e = 0;

        if (binary && m >= 1024) {
                while (e < 6 && m % 1024 == 0) {
                        m /= 1024;
                        e++;
                }
                snprintf(buf, size, "%s%" PRIu64 "%s", v < 0 ? "-" : "", m, bin[e]);
                return;
        }
        while (m && e < 6 && m % 1000 == 0) {
                m /= 1000;
                e++;
        }
        snprintf(buf, size, "%s%" PRIu64 "%s", v < 0 ? "-" : "", m, dec[e]);
}

/* Upstream prints a request as it was written; we only have the number and
 * pick the form a person would have written: decimal when that is exact and
 * binary is not. */
static void format_request(int64_t v, char *buf, size_t size) {
        if (v <= 0)
                snprintf(buf, size, "0");
        else
                kl_eviction_format_quantity(v, v % 1024 != 0 && v % 1000 == 0 ? false : true, buf, size);
}

struct out {
        char *buf;
        size_t size, len;
};

_printf_(2, 3) static void out_printf(struct out *o, const char *fmt, ...) {
        va_list ap;
        size_t room = o->len < o->size ? o->size - o->len : 0;
        va_start(ap, fmt);
        int n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n > 0)
                o->len += (size_t) n;
}

int kl_eviction_message(const struct kl_eviction_decision *d, const struct kl_eviction_container *c, size_t n,
                        char *buf, size_t size) {
        struct out o = {buf, size, 0};
        char q[32], a[32], u[32], r[32];
        const char *res;

        if (!d || !buf || size == 0 || (unsigned) d->resource >= _KL_EVICTION_RESOURCE_MAX || (n && !c))
                return -EINVAL;
        res = resource_names[d->resource];
        kl_eviction_format_quantity(d->threshold_quantity, d->threshold_percent || resource_is_bytes(d->resource), q,
                                    sizeof(q));
        kl_eviction_format_quantity(d->available, resource_is_bytes(d->resource), a, sizeof(a));
        out_printf(&o, "The node was low on resource: %s. ", res);
        out_printf(&o, "Threshold quantity: %s, available: %s. ", q, a);
        if (resource_is_bytes(d->resource))
                for (size_t i = 0; i < n; i++) {
                        if (!c[i].have_usage || c[i].usage <= MAX(c[i].request, 0))
                                continue;
                        kl_eviction_format_quantity(c[i].usage, true, u, sizeof(u));
                        format_request(c[i].request, r, sizeof(r));
                        out_printf(&o, "Container %s was using %s, request is %s, has larger consumption of %s. ",
                                   strempty(c[i].name), u, r, res);
                }
        return (int) MIN(o.len, size - 1);
}
