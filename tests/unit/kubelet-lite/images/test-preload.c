/* SPDX-License-Identifier: Apache-2.0 */
/* The refs imagePreloadDir archives name (index.json), which image GC pins. */
#include "kubelet-lite/images/preload.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fileio.h"
#include "lib/macros.h"
#include "tests/lib/tests.h"

static char dir[PATH_MAX];

/* One ustar member: header (name, mode, size, typeflag, magic, checksum),
 * then the data padded to 512 bytes. */
static void member(FILE *f, const char *name, const char *data, size_t len) {
        char h[512] = {};
        unsigned sum = 0;
        snprintf(h, 100, "%s", name);
        snprintf(h + 100, 8, "%07o", 0644);
        snprintf(h + 124, 12, "%011zo", len);
        snprintf(h + 136, 12, "%011o", 0);
        h[156] = '0';
        memcpy(h + 257, "ustar", 6);
        memcpy(h + 263, "00", 2);
        memset(h + 148, ' ', 8);
        for (size_t i = 0; i < sizeof(h); i++)
                sum += (unsigned char) h[i];
        snprintf(h + 148, 8, "%06o", sum);
        fwrite(h, 1, sizeof(h), f);
        fwrite(data, 1, len, f);
        static const char zero[512];
        if (len % 512)
                fwrite(zero, 1, 512 - len % 512, f);
}

static FILE *archive(const char *name) {
        char path[PATH_MAX + 64];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *f = fopen(path, "we");
        ASSERT_NOT_NULL(f);
        return f;
}

static void end(FILE *f) {
        static const char zero[1024];
        fwrite(zero, 1, sizeof(zero), f);
        fclose(f);
}

static const char index_two[] =
        "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
        "\"digest\":\"sha256:aa\",\"size\":1,\"annotations\":{\"io.containerd.image.name\":\"localhost/app:1\","
        "\"org.opencontainers.image.ref.name\":\"localhost/app:1\"}},{\"digest\":\"sha256:bb\",\"annotations\":"
        "{\"org.opencontainers.image.ref.name\" : \"example/web:2\"}}]}";

TEST(refs_from_the_archives_index_json) {
        snprintf(dir, sizeof(dir), "/tmp/kl-test-preload-XXXXXX");
        ASSERT_NOT_NULL(mkdtemp(dir));

        /* mkimage's order: oci-layout, index.json, blobs; here a blob first, of
         * an odd size, so the reader must skip by the header's size */
        FILE *f = archive("a.tar");
        _cleanup_free_ char *blob = malloc(1000);
        memset(blob, 'x', 1000);
        member(f, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
        member(f, "blobs/sha256/aa", blob, 1000);
        member(f, "index.json", index_two, strlen(index_two));
        end(f);

        /* "./index.json", and a ref already named by a.tar */
        static const char index_b[] =
                "{\"manifests\":[{\"annotations\":{\"org.opencontainers.image.ref.name\":\"localhost/app:1\"}},"
                "{\"annotations\":{\"org.opencontainers.image.ref.name\":\"localhost/pause:1.0\"}}]}";
        f = archive("b.tar");
        member(f, "./index.json", index_b, strlen(index_b));
        end(f);

        /* no index.json (a docker save archive names images in manifest.json) */
        f = archive("c.tar");
        member(f, "manifest.json", "[]", 2);
        end(f);

        /* not a tar at all, and a name without .tar */
        f = archive("junk.tar");
        fputs("this is not a tar archive\n", f);
        fclose(f);
        f = archive("notes.txt");
        member(f, "index.json", index_two, strlen(index_two));
        end(f);

        struct kl_preload *p = NULL;
        ASSERT_OK(kl_preload_new(dir, dir, "unix:///nonexistent.sock", "/bin/false", &p));
        char *const *refs = kl_preload_refs(p);
        size_t n = 0;
        for (; refs && refs[n]; n++)
                printf("  pinned: %s\n", refs[n]);
        ASSERT_EQ(n, 3);
        ASSERT_STREQ(refs[0], "localhost/app:1");
        ASSERT_STREQ(refs[1], "example/web:2");
        ASSERT_STREQ(refs[2], "localhost/pause:1.0");
        ASSERT_FALSE(kl_preload_done(p)); /* a.tar, b.tar, c.tar and junk.tar wait to be imported */
        kl_preload_free(p);

        /* a missing directory: nothing to preload, nothing pinned */
        ASSERT_OK(kl_preload_new("/nonexistent/kl-preload", dir, "unix:///x.sock", NULL, &p));
        ASSERT_NULL(kl_preload_refs(p));
        ASSERT_TRUE(kl_preload_done(p));
        kl_preload_free(p);
        ASSERT_NULL(kl_preload_refs(NULL));
        kl_rm_rf_at(AT_FDCWD, dir);
}

TEST_MAIN()
