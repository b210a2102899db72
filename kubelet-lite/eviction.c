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

#define FILE_MAX (64 * 1024)
#define USEC_PER_SEC UINT64_C(1000000)
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

/* ---- parsers ------------------------------------------------------------ */

static bool is_space(char ch) {
        return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* Digits at *p (at least one) into *ret; advances *p. */
static int parse_digits(const char **p, const char *end, uint64_t *ret) {
        const char *s = *p;
        uint64_t v = 0;

        if (s >= end || *s < '0' || *s > '9')
                return -EINVAL;
        for (; s < end && *s >= '0' && *s <= '9'; s++) {
                if (v > (UINT64_MAX - (uint64_t) (*s - '0')) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t) (*s - '0');
        }
        *p = s;
        *ret = v;
        return 0;
}

int kl_eviction_parse_u64(const char *buf, size_t len, uint64_t *ret) {
        const char *p = buf, *end = buf + len;
        uint64_t v;
        int r;

        while (p < end && is_space(*p))
                p++;
        r = parse_digits(&p, end, &v);
        if (r < 0)
                return r;
        for (; p < end; p++)
                if (!is_space(*p))
                        return -EINVAL;
        *ret = v;
        return 0;
}

int kl_eviction_parse_loadavg_tasks(const char *buf, size_t len, int64_t *ret) {
        /* "0.10 0.20 0.30 2/3518 3715089": upstream wants five fields and takes
         * the total after the slash in the fourth. */
        const char *p = buf, *end = buf + len, *field[5] = {};
        const char *fend[5] = {};
        size_t nf = 0;
        uint64_t running, total;

        while (p < end) {
                while (p < end && is_space(*p))
                        p++;
                if (p >= end)
                        break;
                if (nf < 5)
                        field[nf] = p;
                while (p < end && !is_space(*p))
                        p++;
                if (nf < 5)
                        fend[nf] = p;
                nf++;
        }
        if (nf < 5)
                return -EINVAL;
        p = field[3];
        if (parse_digits(&p, fend[3], &running) < 0 || p >= fend[3] || *p != '/')
                return -EINVAL;
        p++;
        int r = parse_digits(&p, fend[3], &total);
        if (r < 0)
                return r;
        if (p != fend[3])
                return -EINVAL;
        if (total > INT64_MAX)
                return -ERANGE;
        *ret = (int64_t) total;
        return 0;
}

int kl_eviction_parse_meminfo(const char *buf, size_t len, const char *key, int64_t *ret_bytes) {
        const char *p = buf, *end = buf + len;
        size_t klen = strlen(key);

        while (p < end) {
                const char *eol = memchr(p, '\n', (size_t) (end - p));
                if (!eol)
                        eol = end;
                if ((size_t) (eol - p) > klen && memcmp(p, key, klen) == 0 && p[klen] == ':') {
                        const char *s = p + klen + 1;
                        uint64_t v;
                        int r;
                        while (s < eol && (*s == ' ' || *s == '\t'))
                                s++;
                        r = parse_digits(&s, eol, &v);
                        if (r < 0)
                                return r;
                        while (s < eol && (*s == ' ' || *s == '\t'))
                                s++;
                        if (eol - s >= 2 && s[0] == 'k' && s[1] == 'B') {
                                if (v > UINT64_MAX / 1024)
                                        return -ERANGE;
                                v *= 1024;
                                s += 2;
                        }
                        while (s < eol && is_space(*s))
                                s++;
                        if (s != eol)
                                return -EINVAL;
                        if (v > INT64_MAX)
                                return -ERANGE;
                        *ret_bytes = (int64_t) v;
                        return 0;
                }
                p = eol + 1;
        }
        return -ENOENT;
}

/* "12.34" -> 1234 (hundredths; further digits are dropped) */
static int parse_hundredths(const char *s, const char *end, uint32_t *ret) {
        uint64_t ip, frac = 0;
        int r = parse_digits(&s, end, &ip);
        if (r < 0)
                return r;
        if (s < end && *s == '.') {
                int i = 0;
                s++;
                if (s >= end || *s < '0' || *s > '9')
                        return -EINVAL;
                for (; s < end && *s >= '0' && *s <= '9'; s++, i++)
                        if (i < 2)
                                frac = frac * 10 + (uint64_t) (*s - '0');
                if (i == 1)
                        frac *= 10;
        }
        if (s != end)
                return -EINVAL;
        if (ip >= UINT32_MAX / 100)
                return -ERANGE;
        *ret = (uint32_t) (ip * 100 + frac);
        return 0;
}

static int parse_psi_line(const char *p, const char *eol, struct kl_eviction_psi_line *ret) {
        struct kl_eviction_psi_line l = {.have = true};
        unsigned seen = 0;

        while (p < eol) {
                const char *t, *eq;
                while (p < eol && is_space(*p))
                        p++;
                if (p >= eol)
                        break;
                t = p;
                while (p < eol && !is_space(*p))
                        p++;
                eq = memchr(t, '=', (size_t) (p - t));
                if (!eq)
                        return -EINVAL;
                size_t kl = (size_t) (eq - t);
                int r = 0;
                if (kl == 5 && memcmp(t, "avg10", 5) == 0)
                        r = parse_hundredths(eq + 1, p, &l.avg10), seen |= 1;
                else if (kl == 5 && memcmp(t, "avg60", 5) == 0)
                        r = parse_hundredths(eq + 1, p, &l.avg60), seen |= 2;
                else if (kl == 6 && memcmp(t, "avg300", 6) == 0)
                        r = parse_hundredths(eq + 1, p, &l.avg300), seen |= 4;
                else if (kl == 5 && memcmp(t, "total", 5) == 0) {
                        const char *s = eq + 1;
                        r = parse_digits(&s, p, &l.total_usec);
                        if (r == 0 && s != p)
                                r = -EINVAL;
                        seen |= 8;
                }
                if (r < 0)
                        return r;
        }
        if (seen != 15)
                return -EINVAL;
        *ret = l;
        return 0;
}

int kl_eviction_parse_psi(const char *buf, size_t len, struct kl_eviction_psi *ret) {
        const char *p = buf, *end = buf + len;
        struct kl_eviction_psi psi = {};

        while (p < end) {
                const char *eol = memchr(p, '\n', (size_t) (end - p));
                struct kl_eviction_psi_line *l = NULL;
                if (!eol)
                        eol = end;
                if (eol - p >= 5 && memcmp(p, "some ", 5) == 0)
                        l = &psi.some;
                else if (eol - p >= 5 && memcmp(p, "full ", 5) == 0)
                        l = &psi.full;
                if (l && !l->have) {
                        int r = parse_psi_line(p + 5, eol, l);
                        if (r < 0)
                                return r;
                }
                p = eol + 1;
        }
        if (!psi.some.have)
                return -EINVAL;
        *ret = psi;
        return 0;
}

/* ---- reading the signals ------------------------------------------------ */

static int read_file(const char *path, char **ret, size_t *ret_len) {
        return kl_read_file_at(AT_FDCWD, path, FILE_MAX, 0, ret, ret_len);
}

static int read_u64_file(const char *path, uint64_t *ret) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = read_file(path, &buf, &len);
        if (r < 0)
                return r;
        return kl_eviction_parse_u64(buf, len, ret);
}

static int join(char *buf, size_t size, const char *dir, const char *file) {
        int n = snprintf(buf, size, "%s/%s", dir, file);
        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

/* The working set of the memory cgroup at dir, as cadvisor computes it. */
static int cgroup_working_set(const char *dir, uint64_t *ret, const char **ret_source) {
        _cleanup_free_ char *stat = NULL;
        char path[PATH_MAX];
        const char *inactive_key, *source;
        uint64_t usage, inactive = 0, anon, file;
        size_t len;
        int r;

        if ((r = join(path, sizeof(path), dir, "memory.stat")) < 0 || (r = read_file(path, &stat, &len)) < 0)
                return r;
        if (join(path, sizeof(path), dir, "memory.current") == 0 && read_u64_file(path, &usage) == 0) {
                inactive_key = "inactive_file";
                source = "memory.current - inactive_file";
        } else if (join(path, sizeof(path), dir, "memory.usage_in_bytes") == 0 && read_u64_file(path, &usage) == 0) {
                inactive_key = "total_inactive_file";
                source = "cgroup v1 memory.usage_in_bytes - total_inactive_file";
        } else if (kl_cg_kv_get(stat, len, "anon", &anon) == 0 && kl_cg_kv_get(stat, len, "file", &file) == 0) {
                /* the v2 root has no memory.current: runc sums anon and file */
                usage = add_sat(anon, file);
                inactive_key = "inactive_file";
                source = "cgroup v2 root memory.stat anon + file - inactive_file";
        } else
                return -ENODATA;
        (void) kl_cg_kv_get(stat, len, inactive_key, &inactive); /* absent: working set = usage */
        *ret = usage > inactive ? usage - inactive : 0;
        *ret_source = source;
        return 0;
}

static int read_memory(const struct kl_eviction_sources *src, struct kl_eviction_observation *o) {
        static const char *const defaults[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/memory"};
        _cleanup_free_ char *meminfo = NULL;
        const char *source = NULL;
        int64_t total, avail;
        uint64_t ws = 0;
        size_t len;
        int r;

        r = read_file(src->meminfo ? src->meminfo : "/proc/meminfo", &meminfo, &len);
        if (r < 0)
                return r;
        r = kl_eviction_parse_meminfo(meminfo, len, "MemTotal", &total);
        if (r < 0)
                return r;
        if (!src->memory_cgroup) {
                for (size_t i = 0; i < ELEMENTSOF(defaults) && !source; i++)
                        (void) cgroup_working_set(defaults[i], &ws, &source);
        } else if (src->memory_cgroup[0])
                (void) cgroup_working_set(src->memory_cgroup, &ws, &source);
        if (!source) {
                r = kl_eviction_parse_meminfo(meminfo, len, "MemAvailable", &avail);
                if (r < 0)
                        return r;
                ws = total > avail ? (uint64_t) (total - avail) : 0;
                source = "/proc/meminfo MemTotal - MemAvailable";
        }
        if (ws > INT64_MAX)
                ws = INT64_MAX;
        o->signal[KL_EVICTION_MEMORY_AVAILABLE] = (struct kl_eviction_value){true, total - (int64_t) ws, total};
        o->memory_working_set = (int64_t) ws;
        o->memory_source = source;
        return 0;
}

static int64_t mul_clamp(uint64_t a, uint64_t b) {
        if (b && a > (uint64_t) INT64_MAX / b)
                return INT64_MAX;
        return (int64_t) (a * b);
}

int kl_eviction_fs_stats(const char *path, struct kl_eviction_fs_stats *ret) {
        struct statvfs sv;
        struct stat st;

        if (stat(path, &st) < 0 || statvfs(path, &sv) < 0)
                return -errno;
        uint64_t frsize = sv.f_frsize ? sv.f_frsize : sv.f_bsize;
        *ret = (struct kl_eviction_fs_stats){
                .dev = (uint64_t) st.st_dev,
                .capacity_bytes = mul_clamp(sv.f_blocks, frsize),
                .available_bytes = mul_clamp(sv.f_bavail, frsize),
                .inodes = mul_clamp(sv.f_files, 1),
                .inodes_free = mul_clamp(sv.f_ffree, 1),
        };
        return 0;
}

static void fs_values(const struct kl_eviction_fs_stats *fs, struct kl_eviction_value *v) {
        v[KL_EVICTION_NODEFS_AVAILABLE] = (struct kl_eviction_value){true, fs->available_bytes, fs->capacity_bytes};
        /* some filesystems (btrfs) report no inode counts: no signal then */
        if (fs->inodes > 0)
                v[KL_EVICTION_NODEFS_INODES_FREE] = (struct kl_eviction_value){true, fs->inodes_free, fs->inodes};
}

static int read_fs(const struct kl_eviction_sources *src, struct kl_eviction_observation *o) {
        int (*fn)(const char *, struct kl_eviction_fs_stats *) = src->fs_stats ? src->fs_stats : kl_eviction_fs_stats;
        struct kl_eviction_fs_stats root, logs;
        int r = fn(src->root_dir, &root);

        if (r < 0)
                return r;
        fs_values(&root, o->signal);
        if (!o->signal[KL_EVICTION_NODEFS_INODES_FREE].have)
                o->signal_error[KL_EVICTION_NODEFS_INODES_FREE] = -ENODATA;
        if (src->pod_logs_dir && fn(src->pod_logs_dir, &logs) == 0 && logs.dev != root.dev)
                fs_values(&logs, o->logs_fs);
        return 0;
}

static int read_pids(const struct kl_eviction_sources *src, struct kl_eviction_observation *o) {
        const char *files[] = {src->pid_max ? src->pid_max : "/proc/sys/kernel/pid_max",
                               src->threads_max ? src->threads_max : "/proc/sys/kernel/threads-max"};
        _cleanup_free_ char *buf = NULL;
        int64_t cap = -1, tasks = -1;
        size_t len;
        int r = -ENOENT;

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                uint64_t v;
                r = read_u64_file(files[i], &v);
                if (r == 0 && v <= INT64_MAX && (cap < 0 || (int64_t) v < cap))
                        cap = (int64_t) v;
        }
        if (cap < 0)
                return r < 0 ? r : -ERANGE;
        r = read_file(src->loadavg ? src->loadavg : "/proc/loadavg", &buf, &len);
        if (r == 0)
                r = kl_eviction_parse_loadavg_tasks(buf, len, &tasks);
        if (r < 0) {
                struct sysinfo si;
                /* upstream's fallback; it truncates counts above 65535 */
                if (src->loadavg || sysinfo(&si) < 0)
                        return r;
                tasks = si.procs;
        }
        o->signal[KL_EVICTION_PID_AVAILABLE] = (struct kl_eviction_value){true, cap - tasks, cap};
        o->processes = tasks;
        return 0;
}

int kl_eviction_read_signals(const struct kl_eviction_sources *src, struct kl_eviction_observation *ret) {
        static const struct kl_eviction_sources none = {};
        struct kl_eviction_observation o = {.memory_working_set = -1, .processes = -1};
        _cleanup_free_ char *psi = NULL;
        const char *psi_path;
        size_t len;
        int r, first = 0, n = 0;

        if (!ret)
                return -EINVAL;
        if (!src)
                src = &none;
        r = read_memory(src, &o);
        o.signal_error[KL_EVICTION_MEMORY_AVAILABLE] = r;
        if (src->root_dir) {
                r = read_fs(src, &o);
                if (r < 0)
                        o.signal_error[KL_EVICTION_NODEFS_AVAILABLE] = o.signal_error[KL_EVICTION_NODEFS_INODES_FREE] =
                                r;
        }
        o.signal_error[KL_EVICTION_PID_AVAILABLE] = read_pids(src, &o);
        psi_path = src->psi_memory ? src->psi_memory : "/proc/pressure/memory";
        if (psi_path[0] && read_file(psi_path, &psi, &len) == 0)
                (void) kl_eviction_parse_psi(psi, len, &o.psi_memory);

        for (int s = 0; s < _KL_EVICTION_SIGNAL_MAX; s++) {
                n += o.signal[s].have;
                if (!first && o.signal_error[s] < 0)
                        first = o.signal_error[s];
        }
        *ret = o;
        return n > 0 ? 0 : first < 0 ? first : -ENODATA;
}

/* ---- directory usage ---------------------------------------------------- */

#define DU_MAX_DEPTH 64

struct du {
        uint64_t max_entries, deadline, entries;
        dev_t dev;
        bool stopped;
        int64_t bytes, inodes;
};

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

static void du_count(struct du *x, const struct stat *st) {
        x->bytes = (int64_t) MIN((uint64_t) x->bytes + (uint64_t) st->st_blocks * 512, (uint64_t) INT64_MAX);
        x->inodes++;
}

/* Takes ownership of fd. */
static void du_walk(struct du *x, int fd, unsigned depth) {
        DIR *d = fdopendir(fd);
        struct dirent *de;

        if (!d) {
                safe_close(fd);
                return;
        }
        while (!x->stopped && (de = readdir(d))) {
                struct stat st;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                x->entries++;
                if ((x->max_entries && x->entries > x->max_entries) ||
                    (x->deadline && x->entries % 64 == 0 && now_usec() >= x->deadline)) {
                        x->stopped = true;
                        break;
                }
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != x->dev)
                        continue; /* gone meanwhile, or a mount point: not ours */
                du_count(x, &st);
                if (S_ISDIR(st.st_mode)) {
                        if (depth >= DU_MAX_DEPTH) {
                                x->stopped = true;
                                break;
                        }
                        int sub = openat(dirfd(d), de->d_name,
                                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
                        if (sub >= 0)
                                du_walk(x, sub, depth + 1);
                }
        }
        closedir(d);
}

int kl_eviction_dir_usage(int dirfd, const char *path, uint64_t max_entries, uint64_t max_usec,
                          struct kl_eviction_du *ret) {
        struct du x = {.max_entries = max_entries};
        struct stat st;
        int fd;

        if (!path || !ret)
                return -EINVAL;
        fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0) {
                int r = -errno;
                safe_close(fd);
                return r;
        }
        if (max_usec)
                x.deadline = add_sat(now_usec(), max_usec);
        x.dev = st.st_dev;
        du_count(&x, &st);
        du_walk(&x, fd, 1);
        *ret = (struct kl_eviction_du){x.bytes, x.inodes};
        return x.stopped ? 1 : 0;
}

/* ---- fast path ---------------------------------------------------------- */

struct kl_eviction_watch {
        int psi_fd;
        int ino_fd, wd;
        char *events_path;
        uint64_t counters[4]; /* memory.events high, max, oom, oom_kill */
        unsigned active;
        char desc[512];
};

static const char *const event_keys[] = {"high", "max", "oom", "oom_kill"};

static void desc_append(struct kl_eviction_watch *w, const char *fmt, ...) _printf_(2, 3);
static void desc_append(struct kl_eviction_watch *w, const char *fmt, ...) {
        size_t len = strlen(w->desc);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->desc + len, sizeof(w->desc) - len, fmt, ap);
        va_end(ap);
}

/* "some|full STALL_US WINDOW_US" */
static int parse_trigger(const char *s, char kind[5], uint64_t *stall, uint64_t *window) {
        const char *p = s, *end = s + strlen(s);

        if (end - p < 5 || (memcmp(p, "some ", 5) != 0 && memcmp(p, "full ", 5) != 0))
                return -EINVAL;
        memcpy(kind, p, 4);
        kind[4] = '\0';
        p += 5;
        if (parse_digits(&p, end, stall) < 0 || p >= end || *p != ' ')
                return -EINVAL;
        p++;
        if (parse_digits(&p, end, window) < 0 || p != end)
                return -EINVAL;
        /* the kernel's limits: window 500ms..10s, 0 < stall <= window */
        if (*window < 500000 || *window > 10 * USEC_PER_SEC || *stall == 0 || *stall > *window)
                return -EINVAL;
        return 0;
}

static int psi_arm(const char *path, const char *trigger, int *ret_fd) {
        int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        /* the kernel turns the last byte written into the terminating NUL */
        if (write(fd, trigger, strlen(trigger) + 1) < 0) {
                int r = -errno;
                safe_close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

static int read_counters(const char *path, uint64_t ret[4]) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = read_file(path, &buf, &len);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(event_keys); i++)
                if (kl_cg_kv_get(buf, len, event_keys[i], &ret[i]) < 0)
                        ret[i] = 0;
        return 0;
}

static void open_psi(struct kl_eviction_watch *w, const char *path, const char *trigger, const char *kind,
                     uint64_t stall, uint64_t window) {
        char t[64];
        int r;

        snprintf(t, sizeof(t), "%s", trigger);
        r = psi_arm(path, t, &w->psi_fd);
        if (r == -EINVAL && window % (2 * USEC_PER_SEC) != 0) {
                /* Without CAP_SYS_RESOURCE only multiples of 2 s are accepted:
                 * keep the ratio of stall to window. */
                uint64_t nw = (window / (2 * USEC_PER_SEC) + 1) * 2 * USEC_PER_SEC;
                if (nw <= 10 * USEC_PER_SEC) {
                        snprintf(t, sizeof(t), "%s %" PRIu64 " %" PRIu64, kind, stall * nw / window, nw);
                        r = psi_arm(path, t, &w->psi_fd);
                }
        }
        if (r < 0) {
                desc_append(w, "psi=unavailable (%s: %s)", path, strerror(-r));
                return;
        }
        w->active |= KL_EVICTION_WATCH_PSI;
        desc_append(w, "psi=%s trigger='%s'%s", path, t, streq(t, trigger) ? "" : " (window raised: unprivileged)");
}

static void open_events(struct kl_eviction_watch *w, const char *path) {
        int r;

        w->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (w->ino_fd < 0) {
                r = -errno;
                goto fail;
        }
        w->wd = inotify_add_watch(w->ino_fd, path, IN_MODIFY);
        if (w->wd < 0) {
                r = -errno;
                goto fail;
        }
        r = read_counters(path, w->counters);
        if (r < 0)
                goto fail;
        w->active |= KL_EVICTION_WATCH_MEMORY_EVENTS;
        desc_append(w, " memory.events=%s", path);
        return;
fail:
        w->ino_fd = safe_close(w->ino_fd);
        w->wd = -1;
        desc_append(w, " memory.events=unavailable (%s: %s)", path, strerror(-r));
}

int kl_eviction_watch_open(const struct kl_eviction_watch_config *cfg, struct kl_eviction_watch **ret) {
        static const struct kl_eviction_watch_config none = {};
        struct kl_eviction_watch *w;
        const char *psi_path, *trigger;
        uint64_t stall, window;
        char kind[5];

        if (!ret)
                return -EINVAL;
        if (!cfg)
                cfg = &none;
        psi_path = cfg->psi_path ? cfg->psi_path : "/proc/pressure/memory";
        trigger = cfg->psi_trigger ? cfg->psi_trigger : "some 150000 1000000";
        if (parse_trigger(trigger, kind, &stall, &window) < 0 || strlen(trigger) >= 48)
                return -EINVAL;
        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->psi_fd = w->ino_fd = -EBADF;
        w->wd = -1;
        if (cfg->memory_events && !(w->events_path = strdup(cfg->memory_events))) {
                free(w);
                return -ENOMEM;
        }
        if (psi_path[0])
                open_psi(w, psi_path, trigger, kind, stall, window);
        else
                desc_append(w, "psi=disabled");
        if (w->events_path)
                open_events(w, w->events_path);
        else
                desc_append(w, " memory.events=none");
        *ret = w;
        return 0;
}

struct kl_eviction_watch *kl_eviction_watch_free(struct kl_eviction_watch *w) {
        if (!w)
                return NULL;
        safe_close(w->psi_fd);
        safe_close(w->ino_fd);
        free(w->events_path);
        free(w);
        return NULL;
}

int kl_eviction_watch_psi_fd(const struct kl_eviction_watch *w) {
        return w && (w->active & KL_EVICTION_WATCH_PSI) ? w->psi_fd : -EBADF;
}

int kl_eviction_watch_events_fd(const struct kl_eviction_watch *w) {
        return w && (w->active & KL_EVICTION_WATCH_MEMORY_EVENTS) ? w->ino_fd : -EBADF;
}

unsigned kl_eviction_watch_active(const struct kl_eviction_watch *w) {
        return w ? w->active : 0;
}

const char *kl_eviction_watch_describe(const struct kl_eviction_watch *w) {
        return w ? w->desc : "";
}

static int drain_inotify(struct kl_eviction_watch *w) {
        /* room for at least one event with the longest name */
        union {
                struct inotify_event ev;
                char buf[4096];
        } u;
        bool overflow = false, ignored = false;
        uint64_t now[4];
        int res = 0;

        for (;;) {
                ssize_t k = read(w->ino_fd, u.buf, sizeof(u.buf));
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        break; /* EAGAIN: drained */
                }
                if (k == 0)
                        break;
                for (char *p = u.buf; p + sizeof(struct inotify_event) <= u.buf + k;) {
                        struct inotify_event ev;
                        memcpy(&ev, p, sizeof(ev));
                        overflow = overflow || (ev.mask & IN_Q_OVERFLOW);
                        ignored = ignored || (ev.mask & IN_IGNORED);
                        p += sizeof(struct inotify_event) + ev.len;
                }
        }
        if (ignored) {
                /* the file went away (or was replaced): watch it again */
                w->wd = inotify_add_watch(w->ino_fd, w->events_path, IN_MODIFY);
                if (w->wd < 0) {
                        w->active &= ~KL_EVICTION_WATCH_MEMORY_EVENTS;
                        return KL_EVICTION_WATCH_LOST | KL_EVICTION_WATCH_MEMORY_EVENTS;
                }
                res = KL_EVICTION_WATCH_MEMORY_EVENTS;
        }
        if (read_counters(w->events_path, now) < 0)
                return KL_EVICTION_WATCH_MEMORY_EVENTS;
        for (size_t i = 0; i < ELEMENTSOF(now); i++)
                if (now[i] > w->counters[i])
                        res = KL_EVICTION_WATCH_MEMORY_EVENTS;
        memcpy(w->counters, now, sizeof(now));
        return overflow ? KL_EVICTION_WATCH_MEMORY_EVENTS : res;
}

int kl_eviction_watch_drain(struct kl_eviction_watch *w, int fd, uint32_t revents) {
        if (!w || fd < 0)
                return -EBADF;
        if (fd == w->psi_fd && (w->active & KL_EVICTION_WATCH_PSI)) {
                /* an armed trigger only ever reports EPOLLPRI; EPOLLERR means
                 * the trigger is gone (its cgroup was removed) */
                if (revents & (EPOLLERR | EPOLLHUP)) {
                        w->active &= ~KL_EVICTION_WATCH_PSI;
                        return KL_EVICTION_WATCH_LOST;
                }
                return KL_EVICTION_WATCH_PSI;
        }
        if (fd == w->ino_fd && (w->active & KL_EVICTION_WATCH_MEMORY_EVENTS))
                return drain_inotify(w);
        return -EBADF;
}
