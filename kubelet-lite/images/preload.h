/* SPDX-License-Identifier: Apache-2.0 */
/* imagePreloadDir: OCI image archives imported into containerd at start so a
 * freshly flashed device runs offline from its first boot. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct kl_preload;

/* Scan dir for *.tar archives not imported before (per the stamp file under
 * root_dir). A missing dir is not an error. ctr_path NULL means "ctr" on PATH. */
int kl_preload_new(const char *dir, const char *root_dir, const char *endpoint, const char *ctr_path,
                   struct kl_preload **ret);
struct kl_preload *kl_preload_free(struct kl_preload *p);

/* Start the next import if none runs. 1 when an import is running, 0 when done. */
int kl_preload_step(struct kl_preload *p);
/* Call on SIGCHLD: collects a finished import; 1 when one finished. */
int kl_preload_reap(struct kl_preload *p);
bool kl_preload_done(const struct kl_preload *p);
unsigned kl_preload_imported(const struct kl_preload *p);
/* The image refs the archives in the directory name (index.json's
 * org.opencontainers.image.ref.name), imported now or at an earlier boot:
 * image garbage collection never removes them. NULL-terminated; NULL-safe. */
char *const *kl_preload_refs(const struct kl_preload *p);

/* What the last kl_preload_reap() that returned 1 collected. name is valid
 * until the next import starts. */
struct kl_preload_result {
        const char *name; /* the archive */
        int64_t size;     /* bytes, -1 unknown */
        double seconds;
        bool ok;
};
void kl_preload_last(const struct kl_preload *p, struct kl_preload_result *ret);
