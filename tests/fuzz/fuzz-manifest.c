/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the whole manifest path: UTF-8 check, libyaml events, node tree, caps,
 * schema mapping, validation, defaults, identity; then exercise what the
 * daemon does with the pods (dup, QoS, effective resources, free). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifests/manifest.h"
#include "manifests/pod.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct kl_manifest_opts opts;
        struct kl_manifest m;
        int r;

        kl_manifest_opts_default(&opts);
        /* small caps so the fuzzer reaches them */
        opts.max_nodes = 2000;
        opts.max_depth = 32;
        opts.max_containers = 8;
        opts.max_documents = 8;
        opts.strict = size > 0 && (data[size - 1] & 1);

        r = kl_manifest_parse((const char *) data, size, "fuzz.yaml", "node-1", &opts, &m);
        if (r == 0 && m.errors)
                abort();
        if (r == -EINVAL && (!m.errors || m.n_pods > 0))
                abort();
        for (size_t i = 0; i < m.n_pods; i++) {
                struct kl_pod *p = m.pods[i], *d;
                struct kl_resources eff;

                if (!p->uid || strlen(p->uid) != 32 || !p->full_name || !p->namespace)
                        abort();
                (void) kl_qos_class_to_string(kl_pod_qos_class(p));
                kl_pod_effective_resources(p, &eff);
                d = kl_pod_dup(p);
                if (d) {
                        if (strcmp(d->uid, p->uid) != 0 || kl_pod_qos_class(d) != kl_pod_qos_class(p))
                                abort();
                        kl_pod_free(d);
                }
        }
        kl_manifest_done(&m);
        return 0;
}
