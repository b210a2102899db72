/* SPDX-License-Identifier: Apache-2.0 */
#include "manifests/strv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/macros.h"

char **kl__strv_free(char **v) {
        if (!v)
                return NULL;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
        return NULL;
}

size_t kl__strv_length(char *const *v) {
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

int kl__strv_dup(char *const *v, char ***ret) {
        size_t n = kl__strv_length(v);
        char **c;

        if (!v) {
                *ret = NULL;
                return 0;
        }
        c = calloc(n + 1, sizeof(char *));
        if (!c)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                c[i] = strdup(v[i]);
                if (!c[i]) {
                        kl__strv_free(c);
                        return -ENOMEM;
                }
        }
        *ret = c;
        return 0;
}

int kl__strv_push_consume(char ***v, char *s) {
        size_t n = kl__strv_length(*v);
        char **c;

        if (!s)
                return -ENOMEM;
        c = realloc(*v, (n + 2) * sizeof(char *));
        if (!c) {
                free(s);
                return -ENOMEM;
        }
        c[n] = s;
        c[n + 1] = NULL;
        *v = c;
        return 0;
}

int kl__strv_push(char ***v, const char *s) {
        return kl__strv_push_consume(v, strdup(s));
}

bool kl__strv_contains(char *const *v, const char *s) {
        for (size_t i = 0; v && v[i]; i++)
                if (streq(v[i], s))
                        return true;
        return false;
}

bool kl__strv_equal(char *const *a, char *const *b) {
        size_t n = kl__strv_length(a);
        if (n != kl__strv_length(b))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!streq(a[i], b[i]))
                        return false;
        return true;
}

char *kl__strv_join(char *const *v, const char *sep) {
        size_t n = 0, k = strlen(sep);
        char *s, *p;

        for (size_t i = 0; v && v[i]; i++)
                n += strlen(v[i]) + (i ? k : 0);
        s = p = malloc(n + 1);
        if (!s)
                return NULL;
        for (size_t i = 0; v && v[i]; i++) {
                if (i) {
                        memcpy(p, sep, k);
                        p += k;
                }
                size_t m = strlen(v[i]);
                memcpy(p, v[i], m);
                p += m;
        }
        *p = '\0';
        return s;
}
