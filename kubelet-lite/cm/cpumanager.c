/* SPDX-License-Identifier: Apache-2.0 */
#include "cpumanager.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/macros.h"

#define POLICY "static"
#define ENTRIES_MAX 4096
#define NAME_MAX_LEN 253
#define JSON_DEPTH_MAX 8

struct entry {
        char *uid;
        char *container;
        struct kl_cg_cpuset cpus;
};

struct kl_cpumanager {
        int dirfd; /* -EBADF: no persistence */
        struct kl_cg_cpuset online, reserved;
        struct entry *entries;
        size_t n_entries;
};

/* ---- names ---------------------------------------------------------- */

static bool uid_ok(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n > 64)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
                      s[i] == '-' || s[i] == '_'))
                        return false;
        return true;
}

/* Container names are DNS-1123 labels; also what keeps the JSON unescaped. */
static bool container_ok(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
                        return false;
        return true;
}

/* ---- the state ------------------------------------------------------- */

static void entries_free(struct entry *e, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(e[i].uid);
                free(e[i].container);
        }
        free(e);
}

struct kl_cpumanager *kl_cpumanager_free(struct kl_cpumanager *m) {
        if (!m)
                return NULL;
        safe_close(m->dirfd);
        entries_free(m->entries, m->n_entries);
        free(m);
        return NULL;
}

static int entry_cmp(const void *a, const void *b) {
        const struct entry *x = a, *y = b;
        int c = strcmp(x->uid, y->uid);
        return c ? c : strcmp(x->container, y->container);
}

void kl_cpumanager_assigned(const struct kl_cpumanager *m, struct kl_cg_cpuset *ret) {
        kl_cg_cpuset_zero(ret);
        for (size_t i = 0; i < m->n_entries; i++)
                kl_cg_cpuset_union(ret, &m->entries[i].cpus, ret);
}

void kl_cpumanager_shared_pool(const struct kl_cpumanager *m, struct kl_cg_cpuset *ret) {
        struct kl_cg_cpuset assigned, all, strict;

        kl_cpumanager_assigned(m, &assigned);
        kl_cg_cpuset_minus(&m->online, &assigned, &all);
        kl_cg_cpuset_minus(&all, &m->reserved, &strict);
        *ret = kl_cg_cpuset_empty(&strict) ? all : strict;
}

static uint32_t fnv1a32_cont(uint32_t h, const char *s, size_t n) {
        for (size_t i = 0; i < n; i++) {
                h ^= (unsigned char) s[i];
                h *= 16777619u;
        }
        return h;
}

static uint32_t fnv1a32(const char *s, size_t n) {
        return fnv1a32_cont(2166136261u, s, n);
}

/* The file without its checksum: {"policyName":...,"defaultCpuSet":...,"entries":{...}}.
 * Names are validated on the way in, so nothing needs escaping. */
static int format_body(const struct kl_cpumanager *m, char **ret, size_t *ret_len) {
        char cpus[KL_CG_CPUSET_STR_MAX];
        struct kl_cg_cpuset pool;
        char *buf = NULL;
        size_t len = 0;
        FILE *f;

        f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        kl_cpumanager_shared_pool(m, &pool);
        kl_cg_cpuset_format(&pool, cpus, sizeof(cpus));
        fprintf(f, "{\"policyName\":\"" POLICY "\",\"defaultCpuSet\":\"%s\"", cpus);
        if (m->n_entries > 0) {
                fputs(",\"entries\":{", f);
                for (size_t i = 0; i < m->n_entries; i++) {
                        const struct entry *e = &m->entries[i];
                        bool new_pod = i == 0 || !streq(e->uid, m->entries[i - 1].uid);
                        bool last_of_pod = i + 1 == m->n_entries || !streq(e->uid, m->entries[i + 1].uid);

                        kl_cg_cpuset_format(&e->cpus, cpus, sizeof(cpus));
                        if (new_pod)
                                fprintf(f, "%s\"%s\":{", i ? "," : "", e->uid);
                        else
                                fputc(',', f);
                        fprintf(f, "\"%s\":\"%s\"", e->container, cpus);
                        if (last_of_pod)
                                fputc('}', f);
                }
                fputc('}', f);
        }
        fputc('}', f);
        if (fclose(f) != 0 || !buf) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        *ret_len = len;
        return 0;
}

int kl_cpumanager_format_state(const struct kl_cpumanager *m, char **ret, size_t *ret_len) {
        _cleanup_free_ char *body = NULL;
        char *out = NULL;
        size_t len;
        int k;

        if (format_body(m, &body, &len) < 0)
                return -ENOMEM;
        /* Replace the closing brace with the checksum member. */
        k = asprintf(&out, "%.*s,\"checksum\":%" PRIu32 "}\n", (int) (len - 1), body, fnv1a32(body, len));
        if (k < 0)
                return -ENOMEM;
        *ret = out;
        if (ret_len)
                *ret_len = (size_t) k;
        return 0;
}

static int save(struct kl_cpumanager *m, struct kl_error *reterr) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r;

        if (m->dirfd < 0)
                return 0;
        r = kl_cpumanager_format_state(m, &buf, &len);
        if (r < 0)
                return kl_error_set(reterr, r, "format CPU manager state: %s", strerror(-r));
        r = kl_write_file_atomic_at(m->dirfd, KL_CPUMANAGER_STATE_FILE, buf, len, 0644);
        if (r < 0)
                return kl_error_set(reterr, r, "write " KL_CPUMANAGER_STATE_FILE ": %s", strerror(-r));
        return 0;
}

/* ---- a small JSON reader for the state file ------------------------- */

struct jp {
        const char *s;
        size_t i, n;
};

static void ws(struct jp *p) {
        while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r'))
                p->i++;
}

static bool eat(struct jp *p, char c) {
        ws(p);
        if (p->i < p->n && p->s[p->i] == c) {
                p->i++;
                return true;
        }
        return false;
}

/* A string into out (NUL-terminated, at most cap-1 bytes). Only ASCII is
 * accepted: every string we store is ASCII. out may be NULL to skip. */
static int string(struct jp *p, char *out, size_t cap) {
        size_t o = 0;

        if (!eat(p, '"'))
                return -EBADMSG;
        while (p->i < p->n) {
                char c = p->s[p->i++];

                if (c == '"') {
                        if (out)
                                out[o] = '\0';
                        return 0;
                }
                if ((unsigned char) c < 0x20)
                        return -EBADMSG;
                if (c == '\\') {
                        if (p->i >= p->n)
                                return -EBADMSG;
                        c = p->s[p->i++];
                        switch (c) {
                        case '"':
                        case '\\':
                        case '/': break;
                        case 'b': c = '\b'; break;
                        case 'f': c = '\f'; break;
                        case 'n': c = '\n'; break;
                        case 'r': c = '\r'; break;
                        case 't': c = '\t'; break;
                        case 'u': {
                                int v = 0;
                                if (p->n - p->i < 4)
                                        return -EBADMSG;
                                for (int k = 0; k < 4; k++) {
                                        int h = kl_unhexchar(p->s[p->i++]);
                                        if (h < 0)
                                                return -EBADMSG;
                                        v = v * 16 + h;
                                }
                                if (v == 0 || v >= 0x80)
                                        return -EBADMSG;
                                c = (char) v;
                                break;
                        }
                        default: return -EBADMSG;
                        }
                } else if ((unsigned char) c >= 0x80)
                        return -EBADMSG;
                if (out) {
                        if (o + 1 >= cap)
                                return -ENAMETOOLONG;
                        out[o++] = c;
                }
        }
        return -EBADMSG;
}

static int number(struct jp *p, uint64_t *ret) {
        uint64_t v = 0;
        size_t start;

        ws(p);
        start = p->i;
        while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') {
                unsigned d = (unsigned) (p->s[p->i] - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
                p->i++;
        }
        if (p->i == start)
                return -EBADMSG;
        *ret = v;
        return 0;
}

static int skip_value(struct jp *p, unsigned depth) {
        uint64_t u;
        int r;

        if (depth > JSON_DEPTH_MAX)
                return -EBADMSG;
        ws(p);
        if (p->i >= p->n)
                return -EBADMSG;
        switch (p->s[p->i]) {
        case '"': return string(p, NULL, 0);
        case '{':
        case '[': {
                char close = p->s[p->i] == '{' ? '}' : ']';
                bool obj = close == '}';
                p->i++;
                if (eat(p, close))
                        return 0;
                do {
                        if (obj) {
                                if ((r = string(p, NULL, 0)) < 0)
                                        return r;
                                if (!eat(p, ':'))
                                        return -EBADMSG;
                        }
                        if ((r = skip_value(p, depth + 1)) < 0)
                                return r;
                } while (eat(p, ','));
                return eat(p, close) ? 0 : -EBADMSG;
        }
        case '-': p->i++; return number(p, &u);
        default:
                if (p->s[p->i] >= '0' && p->s[p->i] <= '9')
                        return number(p, &u);
                for (const char *const *w = (const char *const[]){"true", "false", "null", NULL}; *w; w++) {
                        size_t l = strlen(*w);
                        if (p->n - p->i >= l && memcmp(p->s + p->i, *w, l) == 0) {
                                p->i += l;
                                return 0;
                        }
                }
                return -EBADMSG;
        }
}

struct parsed {
        char policy[32];
        bool have_checksum;
        uint64_t checksum;
        struct entry *entries;
        size_t n;
};

static int add_entry(struct parsed *ps, const char *uid, const char *container, const char *cpus,
                     struct kl_error *reterr) {
        struct entry *ne;
        struct kl_cg_cpuset set;

        if (ps->n >= ENTRIES_MAX)
                return kl_error_set(reterr, E2BIG, "too many entries");
        if (!uid_ok(uid))
                return kl_error_set(reterr, EBADMSG, "invalid pod uid '%s'", uid);
        if (!container_ok(container))
                return kl_error_set(reterr, EBADMSG, "invalid container name '%s'", container);
        if (kl_cg_cpuset_parse(cpus, strlen(cpus), &set) < 0 || kl_cg_cpuset_empty(&set))
                return kl_error_set(reterr, EBADMSG, "invalid cpuset '%s' for '%s'/'%s'", cpus, uid, container);
        for (size_t i = 0; i < ps->n; i++)
                if (streq(ps->entries[i].uid, uid) && streq(ps->entries[i].container, container))
                        return kl_error_set(reterr, EBADMSG, "duplicate entry '%s'/'%s'", uid, container);
        ne = realloc(ps->entries, (ps->n + 1) * sizeof(*ne));
        if (!ne)
                return kl_error_set(reterr, ENOMEM, "out of memory");
        ps->entries = ne;
        ne[ps->n] = (struct entry){.uid = strdup(uid), .container = strdup(container), .cpus = set};
        if (!ne[ps->n].uid || !ne[ps->n].container) {
                free(ne[ps->n].uid);
                free(ne[ps->n].container);
                return kl_error_set(reterr, ENOMEM, "out of memory");
        }
        ps->n++;
        return 0;
}

static int parse_entries(struct jp *p, struct parsed *ps, struct kl_error *reterr) {
        char uid[NAME_MAX_LEN + 1], name[NAME_MAX_LEN + 1], cpus[KL_CG_CPUSET_STR_MAX];
        int r;

        if (!eat(p, '{'))
                return kl_error_set(reterr, EBADMSG, "entries: expected an object");
        if (eat(p, '}'))
                return 0;
        do {
                if (string(p, uid, sizeof(uid)) < 0 || !eat(p, ':') || !eat(p, '{'))
                        return kl_error_set(reterr, EBADMSG, "entries: expected \"uid\": {...}");
                if (eat(p, '}'))
                        continue;
                do {
                        if (string(p, name, sizeof(name)) < 0 || !eat(p, ':') || string(p, cpus, sizeof(cpus)) < 0)
                                return kl_error_set(reterr, EBADMSG, "entries: expected \"container\": \"cpus\"");
                        r = add_entry(ps, uid, name, cpus, reterr);
                        if (r < 0)
                                return r;
                } while (eat(p, ','));
                if (!eat(p, '}'))
                        return kl_error_set(reterr, EBADMSG, "entries: expected '}'");
        } while (eat(p, ','));
        if (!eat(p, '}'))
                return kl_error_set(reterr, EBADMSG, "entries: expected '}'");
        return 0;
}

static int parse_state(const char *buf, size_t len, struct parsed *ps, struct kl_error *reterr) {
        struct jp p = {.s = buf, .n = len};
        char key[64];
        int r;

        if (!eat(&p, '{'))
                return kl_error_set(reterr, EBADMSG, "expected a JSON object");
        if (!eat(&p, '}'))
                do {
                        r = string(&p, key, sizeof(key));
                        if (r == -ENAMETOOLONG) {
                                key[0] = '\0'; /* an unknown key: its value is skipped */
                        } else if (r < 0)
                                return kl_error_set(reterr, EBADMSG, "expected a key at offset %zu", p.i);
                        if (!eat(&p, ':'))
                                return kl_error_set(reterr, EBADMSG, "expected ':' at offset %zu", p.i);
                        if (streq(key, "policyName"))
                                r = string(&p, ps->policy, sizeof(ps->policy));
                        else if (streq(key, "entries"))
                                r = parse_entries(&p, ps, reterr);
                        else if (streq(key, "checksum")) {
                                r = number(&p, &ps->checksum);
                                ps->have_checksum = r >= 0;
                        } else /* defaultCpuSet is recomputed; anything else is ignored */
                                r = skip_value(&p, 1);
                        if (r < 0)
                                return reterr && reterr->err ? -reterr->err
                                                             : kl_error_set(reterr, EBADMSG, "bad value for '%s'", key);
                } while (eat(&p, ','));
        if (!eat(&p, '}'))
                return kl_error_set(reterr, EBADMSG, "expected '}' at offset %zu", p.i);
        ws(&p);
        if (p.i != p.n)
                return kl_error_set(reterr, EBADMSG, "trailing data at offset %zu", p.i);
        return 0;
}

/* ---- lifecycle -------------------------------------------------------- */

static int check_cpus(const struct kl_cg_cpuset *online, const struct kl_cg_cpuset *reserved, struct kl_error *reterr) {
        char a[KL_CG_CPUSET_STR_MAX], b[KL_CG_CPUSET_STR_MAX];

        if (kl_cg_cpuset_empty(reserved))
                return kl_error_set(reterr, EINVAL,
                                    "the static CPU manager policy needs reserved CPUs "
                                    "(reservedSystemCPUs, or CPU in systemReserved/kubeReserved)");
        if (!kl_cg_cpuset_subset(reserved, online)) {
                kl_cg_cpuset_format(reserved, a, sizeof(a));
                kl_cg_cpuset_format(online, b, sizeof(b));
                return kl_error_set(reterr, EINVAL, "reserved CPUs %s are not all online (%s)", a, b);
        }
        return 0;
}

static int adopt(struct kl_cpumanager *m, struct parsed *ps, const char *buf, size_t len, struct kl_error *reterr) {
        static const char member[] = ",\"checksum\":";
        struct kl_cg_cpuset assignable;
        const char *ck = NULL;

        if (!streq(ps->policy, POLICY))
                return kl_error_set(reterr, EINVAL,
                                    "configured policy \"" POLICY "\" differs from the state file's "
                                    "policy \"%s\"; drain the node and delete " KL_CPUMANAGER_STATE_FILE,
                                    ps->policy);
        if (!ps->have_checksum)
                return kl_error_set(reterr, EBADMSG, "no checksum");
        /* The checksum covers the file as written, up to its own member, with
         * the object closed: what format_body() produced. */
        for (const char *s = buf; s < buf + len;) {
                const char *f = memmem(s, len - (size_t) (s - buf), member, sizeof(member) - 1);
                if (!f)
                        break;
                ck = f;
                s = f + 1;
        }
        if (!ck || fnv1a32_cont(fnv1a32(buf, (size_t) (ck - buf)), "}", 1) != ps->checksum)
                return kl_error_set(reterr, EBADMSG, "checksum mismatch: the file is corrupt");

        if (ps->n > 1)
                qsort(ps->entries, ps->n, sizeof(*ps->entries), entry_cmp);
        m->entries = TAKE_PTR(ps->entries);
        m->n_entries = ps->n;
        ps->n = 0;

        kl_cg_cpuset_minus(&m->online, &m->reserved, &assignable);
        for (size_t i = 0; i < m->n_entries; i++) {
                const struct entry *e = &m->entries[i];
                char s[KL_CG_CPUSET_STR_MAX];

                if (!kl_cg_cpuset_subset(&e->cpus, &assignable)) {
                        kl_cg_cpuset_format(&e->cpus, s, sizeof(s));
                        return kl_error_set(reterr, EINVAL,
                                            "pod '%s' container '%s' holds CPUs %s that are offline or "
                                            "reserved now; drain the node and delete " KL_CPUMANAGER_STATE_FILE,
                                            e->uid, e->container, s);
                }
                for (size_t j = 0; j < i; j++)
                        if (!streq(m->entries[j].uid, e->uid) && kl_cg_cpuset_intersects(&m->entries[j].cpus, &e->cpus))
                                return kl_error_set(reterr, EINVAL, "pods '%s' and '%s' share CPUs", m->entries[j].uid,
                                                    e->uid);
        }
        return 0;
}

static int manager_new(int dirfd, const struct kl_cg_cpuset *online, const struct kl_cg_cpuset *reserved,
                       struct kl_cpumanager **ret, struct kl_error *reterr) {
        struct kl_cpumanager *m;
        int r;

        r = check_cpus(online, reserved, reterr);
        if (r < 0)
                return r;
        m = calloc(1, sizeof(*m));
        if (!m)
                return kl_error_set(reterr, ENOMEM, "out of memory");
        m->dirfd = -EBADF;
        m->online = *online;
        m->reserved = *reserved;
        if (dirfd >= 0) {
                m->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
                if (m->dirfd < 0) {
                        r = kl_error_set(reterr, errno, "dup state dir fd: %m");
                        kl_cpumanager_free(m);
                        return r;
                }
        }
        *ret = m;
        return 0;
}

int kl_cpumanager_new_from_state(const char *buf, size_t len, const struct kl_cg_cpuset *online,
                                 const struct kl_cg_cpuset *reserved, struct kl_cpumanager **ret,
                                 struct kl_error *reterr) {
        _cleanup_cpumanager_ struct kl_cpumanager *m = NULL;
        struct parsed ps = {0};
        int r;

        r = manager_new(-1, online, reserved, &m, reterr);
        if (r < 0)
                return r;
        if (len > KL_CPUMANAGER_STATE_MAX)
                return kl_error_set(reterr, EFBIG, KL_CPUMANAGER_STATE_FILE ": too large");
        r = parse_state(buf, len, &ps, reterr);
        if (r >= 0)
                r = adopt(m, &ps, buf, len, reterr);
        entries_free(ps.entries, ps.n);
        if (r < 0)
                return kl_error_prefix(reterr, KL_CPUMANAGER_STATE_FILE);
        *ret = TAKE_PTR(m);
        return 0;
}

int kl_cpumanager_new(int state_dirfd, const struct kl_cg_cpuset *online, const struct kl_cg_cpuset *reserved,
                      struct kl_cpumanager **ret, struct kl_error *reterr) {
        _cleanup_cpumanager_ struct kl_cpumanager *m = NULL;
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r;

        if (state_dirfd >= 0) {
                r = kl_read_file_at(state_dirfd, KL_CPUMANAGER_STATE_FILE, KL_CPUMANAGER_STATE_MAX, 1, &buf, &len);
                if (r < 0 && r != -ENOENT)
                        return kl_error_set(reterr, r, "read " KL_CPUMANAGER_STATE_FILE ": %s", strerror(-r));
        }
        if (buf) {
                struct kl_cpumanager *tmp = NULL;
                r = kl_cpumanager_new_from_state(buf, len, online, reserved, &tmp, reterr);
                if (r < 0)
                        return r;
                m = tmp;
                m->dirfd = fcntl(state_dirfd, F_DUPFD_CLOEXEC, 3);
                if (m->dirfd < 0)
                        return kl_error_set(reterr, errno, "dup state dir fd: %m");
                log_debug("CPU manager: loaded %zu assignments", m->n_entries);
        } else {
                r = manager_new(state_dirfd, online, reserved, &m, reterr);
                if (r < 0)
                        return r;
        }
        /* Write at once: the file then reflects this start's CPUs. */
        r = save(m, reterr);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

/* ---- allocation ------------------------------------------------------- */

unsigned kl_cpumanager_container_wants(const struct kl_pod *pod, const struct kl_container *c) {
        int64_t milli = c->resources.cpu_request_milli;

        if (milli <= 0)
                milli = c->resources.cpu_limit_milli;
        if (milli <= 0 || milli % 1000 != 0 || milli / 1000 > KL_CG_CPUSET_MAX)
                return 0;
        if (kl_pod_qos_class(pod) != KL_QOS_GUARANTEED)
                return 0;
        return (unsigned) (milli / 1000);
}

static bool holds(const struct kl_cpumanager *m, const char *uid) {
        for (size_t i = 0; i < m->n_entries; i++)
                if (streq(m->entries[i].uid, uid))
                        return true;
        return false;
}

/* CPU ids of set, ascending, into ids[]; returns the count. */
static unsigned ids_of(const struct kl_cg_cpuset *set, unsigned *ids) {
        unsigned n = 0;
        for (unsigned c = 0; c < KL_CG_CPUSET_MAX; c++)
                if (kl_cg_cpuset_has(set, c))
                        ids[n++] = c;
        return n;
}

struct want {
        const char *name;
        unsigned n;
        unsigned start; /* index into the pod's CPUs */
};

int kl_cpumanager_allocate(struct kl_cpumanager *m, const struct kl_pod *pod, struct kl_error *reterr) {
        size_t nc = pod->n_init_containers + pod->n_containers;
        _cleanup_free_ struct want *w = NULL;
        _cleanup_free_ unsigned *ids = NULL;
        struct kl_cg_cpuset assigned, free_set, mine;
        unsigned total = 0, sidecars = 0, running = 0;
        size_t nw = 0;
        struct entry *ne;
        int r;

        if (!pod->uid || !uid_ok(pod->uid))
                return kl_error_set(reterr, EINVAL, "pod has no valid uid");
        if (holds(m, pod->uid))
                return 0;

        w = calloc(nc ? nc : 1, sizeof(*w));
        if (!w)
                return kl_error_set(reterr, ENOMEM, "out of memory");
        /* Layout over the pod's CPUs, in start order: each sidecar keeps its
         * own range as it starts; a regular init container runs on the range
         * right after the sidecars started before it; app containers follow
         * all sidecars. */
        for (size_t i = 0; i < pod->n_init_containers; i++) {
                const struct kl_container *c = &pod->init_containers[i];
                unsigned n = kl_cpumanager_container_wants(pod, c);
                if (n == 0)
                        continue;
                w[nw] = (struct want){.name = c->name, .n = n, .start = sidecars};
                if (c->restart_policy == KL_RESTART_ALWAYS)
                        sidecars += n;
                total = MAX(total, w[nw].start + n);
                nw++;
        }
        running = sidecars;
        for (size_t i = 0; i < pod->n_containers; i++) {
                const struct kl_container *c = &pod->containers[i];
                unsigned n = kl_cpumanager_container_wants(pod, c);
                if (n == 0)
                        continue;
                w[nw++] = (struct want){.name = c->name, .n = n, .start = running};
                running += n;
        }
        total = MAX(total, running);
        if (total == 0)
                return 0;

        for (size_t i = 0; i < nw; i++)
                if (!w[i].name || !container_ok(w[i].name))
                        return kl_error_set(reterr, EINVAL, "invalid container name '%s'", strempty(w[i].name));

        kl_cpumanager_assigned(m, &assigned);
        kl_cg_cpuset_minus(&m->online, &m->reserved, &free_set);
        kl_cg_cpuset_minus(&free_set, &assigned, &free_set);
        if (kl_cg_cpuset_take_lowest(&free_set, total, &mine) < 0)
                return kl_error_set(reterr, ENOSPC,
                                    "not enough free CPUs: pod '%s' needs %u exclusive CPUs, %u available",
                                    pod->name ? pod->name : pod->uid, total, kl_cg_cpuset_count(&free_set));

        ids = calloc(total, sizeof(*ids));
        ne = realloc(m->entries, (m->n_entries + nw) * sizeof(*ne));
        if (!ids || !ne)
                return kl_error_set(reterr, ENOMEM, "out of memory");
        m->entries = ne;
        ids_of(&mine, ids);
        for (size_t i = 0; i < nw; i++) {
                struct entry *e = &m->entries[m->n_entries];

                *e = (struct entry){.uid = strdup(pod->uid), .container = strdup(w[i].name)};
                kl_cg_cpuset_zero(&e->cpus);
                for (unsigned k = 0; k < w[i].n; k++)
                        kl_cg_cpuset_add(&e->cpus, ids[w[i].start + k]);
                m->n_entries++;
                if (!e->uid || !e->container) {
                        r = kl_error_set(reterr, ENOMEM, "out of memory");
                        goto undo;
                }
        }
        qsort(m->entries, m->n_entries, sizeof(*m->entries), entry_cmp);
        r = save(m, reterr);
        if (r < 0)
                goto undo;
        log_debug("CPU manager: pod %s got %u CPUs", pod->uid, total);
        return 1;

undo:
        /* Drop what was added for this pod (entries may have been sorted). */
        for (size_t i = 0; i < m->n_entries;)
                if (m->entries[i].uid == NULL || streq(m->entries[i].uid, pod->uid)) {
                        free(m->entries[i].uid);
                        free(m->entries[i].container);
                        memmove(&m->entries[i], &m->entries[i + 1], (m->n_entries - i - 1) * sizeof(*m->entries));
                        m->n_entries--;
                } else
                        i++;
        return r;
}

/* Drop the entries of every pod drop() picks; returns how many pods. */
static int release_if(struct kl_cpumanager *m, bool (*drop)(const char *uid, const void *arg), const void *arg,
                      struct kl_error *reterr) {
        char *prev = NULL; /* uid of the previous entry when it was dropped */
        size_t kept = 0;
        int pods = 0, r;

        /* Entries stay sorted by uid, so a pod's entries are adjacent. */
        for (size_t i = 0; i < m->n_entries; i++) {
                struct entry e = m->entries[i];
                bool d = drop(e.uid, arg);

                if (d && !(prev && streq(prev, e.uid)))
                        pods++;
                free(prev);
                prev = NULL;
                if (d) {
                        prev = e.uid;
                        free(e.container);
                } else
                        m->entries[kept++] = e;
        }
        free(prev);
        m->n_entries = kept;
        if (pods == 0)
                return 0;
        r = save(m, reterr);
        return r < 0 ? r : pods;
}

static bool drop_uid(const char *uid, const void *arg) {
        return streq(uid, (const char *) arg);
}

int kl_cpumanager_release(struct kl_cpumanager *m, const char *pod_uid, struct kl_error *reterr) {
        int r;

        if (!pod_uid)
                return 0;
        r = release_if(m, drop_uid, pod_uid, reterr);
        return r > 0 ? 1 : r;
}

struct keep {
        const char *const *uids;
        size_t n;
};

static bool drop_unlisted(const char *uid, const void *arg) {
        const struct keep *k = arg;
        for (size_t i = 0; i < k->n; i++)
                if (k->uids[i] && streq(k->uids[i], uid))
                        return false;
        return true;
}

int kl_cpumanager_retain_only(struct kl_cpumanager *m, const char *const *uids, size_t n, struct kl_error *reterr) {
        struct keep k = {.uids = uids, .n = n};
        return release_if(m, drop_unlisted, &k, reterr);
}

int kl_cpumanager_container_cpus(const struct kl_cpumanager *m, const char *pod_uid, const char *container,
                                 struct kl_cg_cpuset *ret) {
        for (size_t i = 0; pod_uid && container && i < m->n_entries; i++)
                if (streq(m->entries[i].uid, pod_uid) && streq(m->entries[i].container, container)) {
                        *ret = m->entries[i].cpus;
                        return 1;
                }
        kl_cpumanager_shared_pool(m, ret);
        return 0;
}

int kl_cpumanager_reserved_from_milli(const struct kl_cg_cpuset *online, int64_t milli, struct kl_cg_cpuset *ret) {
        int64_t n;

        if (milli <= 0) {
                kl_cg_cpuset_zero(ret);
                return 0;
        }
        n = (milli + 999) / 1000;
        if (n > KL_CG_CPUSET_MAX)
                return -ENOSPC;
        return kl_cg_cpuset_take_lowest(online, (unsigned) n, ret);
}
