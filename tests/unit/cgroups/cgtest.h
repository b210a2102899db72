/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers for the cgroups unit tests: a temp dir holding a fake cgroup root. */
#pragma once

#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static inline int cgt_rm_one(const char *p, const struct stat *st, int flag, struct FTW *f) {
        (void) st;
        (void) flag;
        (void) f;
        return remove(p);
}

static inline void cgt_rm_rf(const char *dir) {
        nftw(dir, cgt_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* mkdtemp under $TMPDIR; the caller frees and removes it. */
static inline char *cgt_tmpdir(void) {
        const char *t = getenv("TMPDIR");
        char *p = NULL;
        if (asprintf(&p, "%s/kl-cgtest.XXXXXX", t && *t ? t : "/tmp") < 0)
                return NULL;
        if (!mkdtemp(p)) {
                free(p);
                return NULL;
        }
        return p;
}

/* Write "content" to base/rel (creating parent dirs as needed). */
static inline int cgt_put(const char *base, const char *rel, const char *content) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", base, rel);
        for (char *s = path + strlen(base) + 1; (s = strchr(s, '/')); s++) {
                *s = '\0';
                mkdir(path, 0755);
                *s = '/';
        }
        FILE *f = fopen(path, "we");
        if (!f)
                return -1;
        fputs(content, f);
        return fclose(f) == 0 ? 0 : -1;
}

/* Content of base/rel with a trailing newline stripped; static buffer. */
static inline const char *cgt_get(const char *base, const char *rel) {
        static char buf[8192];
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", base, rel);
        FILE *f = fopen(path, "re");
        if (!f)
                return NULL;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        if (n > 0 && buf[n - 1] == '\n')
                buf[n - 1] = '\0';
        return buf;
}

static inline int cgt_exists(const char *base, const char *rel) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", base, rel);
        return stat(path, &st) == 0;
}
