/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the facade's JSON reader (it parses what the daemon renders, and the
 * built-in CLI parses what a server sends): it never reads out of bounds,
 * every node's text lies inside the input, a parse of a node's own text
 * succeeds again, and lookups and decoding stay in their buffers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/jsonq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct kl_jsonq q, sub;
        char buf[64];
        char *copy = malloc(size ? size : 1); /* exact size: ASan sees any overread */
        if (!copy)
                return 0;
        memcpy(copy, data, size);
        if (kl_jsonq_parse(copy, size, 4096, &q) == 0) {
                for (size_t i = 0; i < q.n; i++) {
                        const struct kl_jsonq_node *n = &q.nodes[i];
                        if (n->start > size || n->len > size - n->start || n->len == 0)
                                abort();
                        if (n->key_len > 0 && (n->key_start > size || n->key_len > size - n->key_start))
                                abort();
                        (void) kl_jsonq_str(&q, (int) i, buf, sizeof(buf));
                        if (strlen(buf) >= sizeof(buf))
                                abort();
                        if (kl_jsonq_parse(copy + n->start, n->len, 4096, &sub) != 0)
                                abort(); /* every value is itself valid JSON */
                        kl_jsonq_done(&sub);
                }
                (void) kl_jsonq_path_str(&q, 0, "metadata.name", buf, sizeof(buf));
                (void) kl_jsonq_path_int(&q, 0, "a.b.c", 0);
                struct kl_buf b = {};
                kl_jsonq_copy(&q, 0, &b);
                if (!b.oom && b.len != q.nodes[0].len)
                        abort();
                kl_buf_free_contents(&b);
                kl_jsonq_done(&q);
        }
        free(copy);
        return 0;
}
