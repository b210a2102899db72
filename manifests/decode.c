/* SPDX-License-Identifier: Apache-2.0 */
#include "manifests/decode.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifests/strv.h"

/* Copy s into buf with control characters escaped, so one message stays one line. */
static void escape_into(const char *s, char *buf, size_t n, size_t max_chars) {
        size_t o = 0, k = 0;
        for (; *s && o + 5 < n; s++, k++) {
                unsigned char c = (unsigned char) *s;
                if (k >= max_chars) {
                        memcpy(buf + o, "...", 3);
                        o += 3;
                        break;
                }
                if (c == '\n') {
                        buf[o++] = '\\';
                        buf[o++] = 'n';
                } else if (c == '\t') {
                        buf[o++] = '\\';
                        buf[o++] = 't';
                } else if (c == '"' || c == '\\') {
                        buf[o++] = '\\';
                        buf[o++] = (char) c;
                } else if (c < 0x20 || c == 0x7f)
                        o += (size_t) snprintf(buf + o, n - o, "\\x%02x", c);
                else
                        buf[o++] = (char) c;
        }
        buf[o] = '\0';
}

void kl__dec_init(struct kl__dec *d, const char *file, const struct kl_manifest_opts *opts) {
        *d = (struct kl__dec){.opts = opts};
        escape_into(file ? file : "-", d->file, sizeof(d->file), 200);
}

void kl__dec_done(struct kl__dec *d) {
        d->errors = kl__strv_free(d->errors);
        d->warnings = kl__strv_free(d->warnings);
}

/* Line and column of a message line written by add_line(); 0:0 when none. */
static void line_pos(const struct kl__dec *d, const char *s, unsigned *line, unsigned *col) {
        *line = *col = 0;
        s += strlen(d->file);
        if (*s == ':')
                (void) sscanf(s, ":%u:%u:", line, col);
}

/* Errors are found in schema order; report them in file order. */
static void sort_lines(const struct kl__dec *d, char **v) {
        for (size_t i = 1; v && v[i]; i++)
                for (size_t k = i; k > 0; k--) {
                        unsigned l1, c1, l2, c2;
                        line_pos(d, v[k - 1], &l1, &c1);
                        line_pos(d, v[k], &l2, &c2);
                        if (l1 < l2 || (l1 == l2 && c1 <= c2))
                                break;
                        char *t = v[k];
                        v[k] = v[k - 1];
                        v[k - 1] = t;
                }
}

int kl__dec_finish(struct kl__dec *d, struct kl_manifest *m) {
        sort_lines(d, d->errors);
        sort_lines(d, d->warnings);
        if (d->n_dropped > 0) {
                char *s;
                if (asprintf(&s, "%s: %zu more errors not shown", d->file, d->n_dropped) < 0 ||
                    kl__strv_push_consume(&d->errors, s) < 0)
                        d->oom = true;
        }
        if (d->n_warnings_dropped > 0) {
                char *s;
                if (asprintf(&s, "%s: %zu more warnings not shown", d->file, d->n_warnings_dropped) < 0 ||
                    kl__strv_push_consume(&d->warnings, s) < 0)
                        d->oom = true;
        }
        m->errors = TAKE_PTR(d->errors);
        m->warnings = TAKE_PTR(d->warnings);
        return d->oom ? -ENOMEM : 0;
}

const char *kl__dec_q(struct kl__dec *d, const char *s) {
        char *b = d->qbuf[d->qi++ % ELEMENTSOF(d->qbuf)];
        b[0] = '"';
        escape_into(s ? s : "", b + 1, KL__QUOTE_MAX - 2, 100);
        strcat(b, "\"");
        return b;
}

size_t kl__dec_push(struct kl__dec *d, const char *field) {
        size_t saved = d->plen;
        char esc[96];

        escape_into(field, esc, sizeof(esc), 64);
        int k = snprintf(d->path + d->plen, sizeof(d->path) - d->plen, "%s%s", d->plen ? "." : "", esc);
        if (k < 0 || (size_t) k >= sizeof(d->path) - d->plen)
                d->path[d->plen] = '\0';
        else
                d->plen += (size_t) k;
        return saved;
}

size_t kl__dec_push_index(struct kl__dec *d, size_t i) {
        size_t saved = d->plen;
        int k = snprintf(d->path + d->plen, sizeof(d->path) - d->plen, "[%zu]", i);
        if (k < 0 || (size_t) k >= sizeof(d->path) - d->plen)
                d->path[d->plen] = '\0';
        else
                d->plen += (size_t) k;
        return saved;
}

void kl__dec_pop(struct kl__dec *d, size_t saved) {
        d->plen = saved;
        d->path[saved] = '\0';
}

void kl__dec_set_path(struct kl__dec *d, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(d->path, sizeof(d->path), fmt, ap);
        va_end(ap);
        d->plen = k < 0 ? 0 : MIN((size_t) k, sizeof(d->path) - 1);
        d->path[d->plen] = '\0';
}

_printf_(5, 0) static void add_line(struct kl__dec *d, bool error, struct kl_pos pos, bool with_path, const char *fmt,
                                    va_list ap) {
        char msg[1024], *line;

        if (error && d->n_errors >= d->opts->max_errors) {
                d->n_dropped++;
                return;
        }
        if (!error && d->n_warnings >= d->opts->max_errors) {
                d->n_warnings_dropped++;
                return;
        }
        vsnprintf(msg, sizeof(msg), fmt, ap);
        char where[32] = "";
        if (pos.line > 0) /* 0: about the whole file */
                snprintf(where, sizeof(where), ":%u:%u", pos.line, pos.col);
        if (asprintf(&line, "%s%s: %s%s%s", d->file, where, with_path && d->plen ? d->path : "",
                     with_path && d->plen ? ": " : "", msg) < 0) {
                d->oom = true;
                return;
        }
        if (kl__strv_push_consume(error ? &d->errors : &d->warnings, line) < 0) {
                d->oom = true;
                return;
        }
        if (error)
                d->n_errors++;
        else
                d->n_warnings++;
}

void kl__dec_error(struct kl__dec *d, struct kl_pos pos, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        add_line(d, true, pos, true, fmt, ap);
        va_end(ap);
}

void kl__dec_warning(struct kl__dec *d, struct kl_pos pos, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        add_line(d, false, pos, true, fmt, ap);
        va_end(ap);
}

void kl__dec_error_nopath(struct kl__dec *d, struct kl_pos pos, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        add_line(d, true, pos, false, fmt, ap);
        va_end(ap);
}

void kl__dec_warning_nopath(struct kl__dec *d, struct kl_pos pos, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        add_line(d, false, pos, false, fmt, ap);
        va_end(ap);
}

/* Levenshtein distance, capped: good enough to catch "imagePullPolcy". */
static size_t edit_distance(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b), row[65];

        if (la > 64 || lb > 64)
                return SIZE_MAX;
        for (size_t j = 0; j <= lb; j++)
                row[j] = j;
        for (size_t i = 1; i <= la; i++) {
                size_t prev = row[0];
                row[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t cur = row[j];
                        size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
                        row[j] = MIN(MIN(row[j] + 1, row[j - 1] + 1), prev + cost);
                        prev = cur;
                }
        }
        return row[lb];
}

void kl__dec_unknown(struct kl__dec *d, const struct kl_yaml_node *key, const char *const *known) {
        const char *best = NULL, *name = key->scalar.value;
        size_t best_d = SIZE_MAX;
        char hint[128] = "";

        /* past the cap the line is only counted: skip the suggestion's cost */
        if (d->opts->strict ? d->n_errors >= d->opts->max_errors : d->n_warnings >= d->opts->max_errors) {
                if (d->opts->strict)
                        d->n_dropped++;
                else
                        d->n_warnings_dropped++;
                return;
        }

        for (size_t i = 0; known && known[i]; i++) {
                size_t e = edit_distance(name, known[i]);
                if (e < best_d) {
                        best_d = e;
                        best = known[i];
                }
        }
        if (best && best_d <= MAX((size_t) 2, strlen(best) / 4))
                snprintf(hint, sizeof(hint), " (did you mean \"%s\"?)", best);
        if (d->opts->strict)
                kl__dec_error_nopath(d, key->pos, "unknown field \"%s\"%s", d->path, hint);
        else
                kl__dec_warning_nopath(d, key->pos, "unknown field \"%s\"%s, ignoring", d->path, hint);
}

void kl__dec_unsupported(struct kl__dec *d, const struct kl_yaml_node *key, bool fatal, const char *why) {
        if (fatal)
                kl__dec_error(d, key->pos, "not supported by kubelet-lite%s%s", why ? ": " : "", strempty(why));
        else
                kl__dec_warning(d, key->pos, "not supported by kubelet-lite, ignoring%s%s", why ? ": " : "",
                                strempty(why));
}

void kl__dec_newer(struct kl__dec *d, const struct kl_yaml_node *key, int since_minor) {
        if (d->opts->strict)
                kl__dec_error(d, key->pos, "unknown field: added in Kubernetes 1.%d, after v1.30", since_minor);
        else
                kl__dec_warning(d, key->pos,
                                "added in Kubernetes 1.%d: a v1.30 kubelet drops it as an unknown field, "
                                "ignoring as upstream",
                                since_minor);
}

bool kl__dec_next_field(struct kl__dec *d, const struct kl_yaml_node *map, struct kl__field *f) {
        if (f->i != SIZE_MAX)
                kl__dec_pop(d, f->saved);
        f->i = f->i == SIZE_MAX ? 0 : f->i + 1;
        if (!map || map->type != KL_YAML_MAPPING || f->i >= map->map.n)
                return false;
        f->key = map->map.items[f->i].key;
        f->value = map->map.items[f->i].value;
        f->name = f->key->scalar.value;
        f->saved = kl__dec_push(d, f->name);
        return true;
}

bool kl__dec_next_item(struct kl__dec *d, const struct kl_yaml_node *seq, struct kl__field *f) {
        if (f->i != SIZE_MAX)
                kl__dec_pop(d, f->saved);
        f->i = f->i == SIZE_MAX ? 0 : f->i + 1;
        if (!seq || seq->type != KL_YAML_SEQUENCE || f->i >= seq->seq.n)
                return false;
        f->key = NULL;
        f->value = seq->seq.items[f->i];
        f->name = NULL;
        f->saved = kl__dec_push_index(d, f->i);
        return true;
}

static const char *type_name(const struct kl_yaml_node *v) {
        switch (v->type) {
        case KL_YAML_MAPPING: return "a mapping";
        case KL_YAML_SEQUENCE: return "a list";
        case KL_YAML_SCALAR:
                switch (v->scalar.kind) {
                case KL_YAML_STR: return "a string";
                case KL_YAML_BOOL: return "a boolean";
                case KL_YAML_NULL: return "null";
                default: return "a number";
                }
        }
        return "something else";
}

bool kl__dec_map(struct kl__dec *d, const struct kl_yaml_node *v) {
        if (!v || kl_yaml_is_null(v))
                return false;
        if (v->type != KL_YAML_MAPPING) {
                kl__dec_error(d, v->pos, "expected a mapping, got %s", type_name(v));
                return false;
        }
        return true;
}

bool kl__dec_seq(struct kl__dec *d, const struct kl_yaml_node *v) {
        if (!v || kl_yaml_is_null(v))
                return false;
        if (v->type != KL_YAML_SEQUENCE) {
                kl__dec_error(d, v->pos, "expected a list, got %s", type_name(v));
                return false;
        }
        return true;
}

char *kl__dec_strdup(struct kl__dec *d, const char *s) {
        char *c = strdup(s);
        if (!c)
                d->oom = true;
        return c;
}

void *kl__dec_calloc(struct kl__dec *d, size_t n, size_t size) {
        void *p;
        if (n == 0)
                return NULL;
        p = calloc(n, size);
        if (!p)
                d->oom = true;
        return p;
}

/* YAML 1.1 boolean words beyond true/false: 1 for yes/y/on, 0 for no/n/off,
 * -1 for anything else. Upstream kubelet decodes manifests with go-yaml v2
 * (through sigs.k8s.io/yaml), which resolves these unquoted words to
 * booleans, so `value: yes` fails there and `hostNetwork: yes` is true. */
static int yaml11_bool(const struct kl_yaml_node *v) {
        static const char *const yes[] = {"y", "Y", "yes", "Yes", "YES", "on", "On", "ON", NULL};
        static const char *const no[] = {"n", "N", "no", "No", "NO", "off", "Off", "OFF", NULL};

        if (v->type != KL_YAML_SCALAR || !v->scalar.plain || v->scalar.kind != KL_YAML_STR)
                return -1;
        for (size_t i = 0; yes[i]; i++)
                if (streq(v->scalar.value, yes[i]))
                        return 1;
        for (size_t i = 0; no[i]; i++)
                if (streq(v->scalar.value, no[i]))
                        return 0;
        return -1;
}

bool kl__dec_str(struct kl__dec *d, const struct kl_yaml_node *v, char **ret) {
        if (!v || kl_yaml_is_null(v))
                return false;
        if (yaml11_bool(v) >= 0) {
                kl__dec_error(d, v->pos,
                              "expected a string, got a boolean: upstream kubelet reads an unquoted %s as a "
                              "YAML 1.1 boolean (quote it: \"%s\")",
                              v->scalar.value, v->scalar.value);
                return false;
        }
        if (v->type != KL_YAML_SCALAR || v->scalar.kind != KL_YAML_STR) {
                if (v->type == KL_YAML_SCALAR)
                        kl__dec_error(d, v->pos, "expected a string, got %s (quote it: %s)", type_name(v),
                                      kl__dec_q(d, v->scalar.value));
                else
                        kl__dec_error(d, v->pos, "expected a string, got %s", type_name(v));
                return false;
        }
        char *c = kl__dec_strdup(d, v->scalar.value);
        if (!c)
                return false;
        free(*ret);
        *ret = c;
        return true;
}

bool kl__dec_scalar_text(struct kl__dec *d, const struct kl_yaml_node *v, const char **ret) {
        if (!v || kl_yaml_is_null(v))
                return false;
        if (v->type != KL_YAML_SCALAR || v->scalar.kind == KL_YAML_BOOL) {
                kl__dec_error(d, v->pos, "expected a string or number, got %s", type_name(v));
                return false;
        }
        *ret = v->scalar.value;
        return true;
}

bool kl__dec_bool(struct kl__dec *d, const struct kl_yaml_node *v, bool *ret) {
        int b;

        if (!v || kl_yaml_is_null(v))
                return false;
        if ((b = yaml11_bool(v)) >= 0) {
                *ret = b;
                return true;
        }
        if (v->type != KL_YAML_SCALAR || v->scalar.kind != KL_YAML_BOOL) {
                if (v->type == KL_YAML_SCALAR && !v->scalar.plain)
                        kl__dec_error(d, v->pos, "expected true or false, got a string %s (remove the quotes)",
                                      kl__dec_q(d, v->scalar.value));
                else if (v->type == KL_YAML_SCALAR)
                        kl__dec_error(d, v->pos, "expected true or false, got %s", kl__dec_q(d, v->scalar.value));
                else
                        kl__dec_error(d, v->pos, "expected true or false, got %s", type_name(v));
                return false;
        }
        {
                /* YAML 1.1 spellings too (see resolve_plain in yaml.c) */
                const char *t = v->scalar.value;
                *ret = t[0] == 't' || t[0] == 'T' || t[0] == 'y' || t[0] == 'Y' ||
                       ((t[0] == 'o' || t[0] == 'O') && (t[1] == 'n' || t[1] == 'N'));
        }
        return true;
}

bool kl__dec_tristate(struct kl__dec *d, const struct kl_yaml_node *v, int *ret) {
        bool b;
        if (!kl__dec_bool(d, v, &b))
                return false;
        *ret = b;
        return true;
}

bool kl__dec_int(struct kl__dec *d, const struct kl_yaml_node *v, int64_t min, int64_t max, int64_t *ret) {
        const char *s;
        char *end;
        long long x;
        int base = 10;
        bool neg = false;

        if (!v || kl_yaml_is_null(v))
                return false;
        if (v->type != KL_YAML_SCALAR || v->scalar.kind != KL_YAML_INT) {
                if (v->type == KL_YAML_SCALAR && !v->scalar.plain)
                        kl__dec_error(d, v->pos, "expected an integer, got a string %s (remove the quotes)",
                                      kl__dec_q(d, v->scalar.value));
                else if (v->type == KL_YAML_SCALAR)
                        kl__dec_error(d, v->pos, "expected an integer, got %s", kl__dec_q(d, v->scalar.value));
                else
                        kl__dec_error(d, v->pos, "expected an integer, got %s", type_name(v));
                return false;
        }
        s = v->scalar.value;
        if (*s == '-' || *s == '+')
                neg = *s++ == '-';
        if (s[0] == '0' && s[1] == 'x')
                base = 16, s += 2;
        else if (s[0] == '0' && s[1] == 'o')
                base = 8, s += 2;
        else if (s[0] == '0' && s[1] && strspn(s, "01234567") == strlen(s))
                base = 8; /* YAML 1.1, as upstream reads it: "0644" is octal (420) */
        errno = 0;
        x = strtoll(s, &end, base);
        if (errno == ERANGE || *end || x < 0) {
                kl__dec_error(d, v->pos, "integer %s is out of range", kl__dec_q(d, v->scalar.value));
                return false;
        }
        if (neg)
                x = -x;
        if (x < min || x > max) {
                if (max < INT32_MAX) /* a real range, like ports */
                        kl__dec_error(d, v->pos, "must be between %" PRId64 " and %" PRId64 ", got %lld", min, max, x);
                else if (x < min)
                        kl__dec_error(d, v->pos, "must be greater than or equal to %" PRId64 ", got %lld", min, x);
                else
                        kl__dec_error(d, v->pos, "must be less than or equal to %" PRId64 ", got %lld", max, x);
                return false;
        }
        *ret = x;
        return true;
}

bool kl__dec_int32(struct kl__dec *d, const struct kl_yaml_node *v, int min, int max, int *ret) {
        int64_t x;
        if (!kl__dec_int(d, v, min, max, &x))
                return false;
        *ret = (int) x;
        return true;
}

bool kl__dec_strv(struct kl__dec *d, const struct kl_yaml_node *v, char ***ret) {
        char **l;
        size_t n = 0;
        bool ok = true;

        if (!kl__dec_seq(d, v))
                return false;
        l = calloc(v->seq.n + 1, sizeof(char *));
        if (!l) {
                d->oom = true;
                return false;
        }
        KL__FOREACH_ITEM(d, v, f) {
                char *s = NULL;
                if (kl__dec_str(d, f.value, &s))
                        l[n++] = s;
                else if (kl_yaml_is_null(f.value)) {
                        kl__dec_error(d, f.value->pos, "expected a string, got null");
                        ok = false;
                } else
                        ok = false;
        }
        if (!ok) {
                kl__strv_free(l);
                return false;
        }
        kl__strv_free(*ret);
        *ret = l;
        return true;
}

bool kl__dec_string_map(struct kl__dec *d, const struct kl_yaml_node *v, struct kl_kv **ret, size_t *ret_n) {
        struct kl_kv *kv;
        size_t n = 0;

        if (!kl__dec_map(d, v))
                return false;
        kv = kl__dec_calloc(d, v->map.n, sizeof(*kv));
        if (!kv)
                return false;
        KL__FOREACH_FIELD(d, v, f) {
                char *s = NULL;
                if (kl_yaml_is_null(f.value))
                        s = kl__dec_strdup(d, ""); /* as a Go map[string]string reads null */
                else if (!kl__dec_str(d, f.value, &s))
                        continue;
                if (!s)
                        continue;
                kv[n].key = kl__dec_strdup(d, f.name);
                if (!kv[n].key) {
                        free(s);
                        continue;
                }
                kv[n++].value = s;
        }
        for (size_t i = 0; i < *ret_n; i++) {
                free((*ret)[i].key);
                free((*ret)[i].value);
        }
        free(*ret);
        *ret = kv;
        *ret_n = n;
        return true;
}

bool kl__dec_enum(struct kl__dec *d, const struct kl_yaml_node *v, const char *const *names, int *ret) {
        char list[512] = "";
        char *s = NULL;

        if (!kl__dec_str(d, v, &s))
                return false;
        for (int i = 0; names[i]; i++)
                if (streq(s, names[i])) {
                        free(s);
                        *ret = i;
                        return true;
                }
        for (int i = 0; names[i]; i++) {
                size_t o = strlen(list);
                if (names[i][0])
                        snprintf(list + o, sizeof(list) - o, "%s\"%s\"", o ? ", " : "", names[i]);
        }
        kl__dec_error(d, v->pos, "unsupported value %s: supported values: %s", kl__dec_q(d, s), list);
        free(s);
        return false;
}
