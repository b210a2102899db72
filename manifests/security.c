/* SPDX-License-Identifier: Apache-2.0 */
/* securityContext of containers, and seccompProfile shared with the pod's:
 * YAML -> model, with upstream's checks (capability names are not
 * validated; seccomp Localhost profiles are relative paths). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "manifests/names.h"
#include "manifests/schema.h"
#include "manifests/strv.h"

/* Shared by pod and container securityContext. */
bool kl__decode_seccomp(struct kl__dec *d, const struct kl_yaml_node *v, enum kl_seccomp *type, char **profile) {
        static const char *const known[] = {"type", "localhostProfile", NULL};
        static const char *const types[] = {"", "RuntimeDefault", "Unconfined", "Localhost", NULL};
        int idx;

        if (!kl__dec_map(d, v))
                return false;
        KL__FOREACH_FIELD(d, v, f) {
                if (streq(f.name, "type")) {
                        if (kl__dec_enum(d, f.value, types, &idx) && idx > 0)
                                *type = (enum kl_seccomp) idx;
                } else if (streq(f.name, "localhostProfile"))
                        kl__dec_str(d, f.value, profile);
                else
                        kl__dec_unknown(d, f.key, known);
        }
        if (*type == KL_SECCOMP_UNSET)
                kl__dec_error(d, v->pos, "type is required");
        else if (*type == KL_SECCOMP_LOCALHOST && (!*profile || !**profile))
                kl__dec_error(d, v->pos, "localhostProfile is required when type is Localhost");
        else if (*type != KL_SECCOMP_LOCALHOST && *profile)
                kl__dec_error(d, v->pos, "localhostProfile may only be set when type is Localhost");
        else if (*type == KL_SECCOMP_LOCALHOST) {
                /* upstream's validateLocalDescriptor: the profile is a path
                 * relative to <root-dir>/seccomp, without ".." */
                const struct kl_yaml_node *lp = kl_yaml_map_get(v, "localhostProfile");
                size_t saved = kl__dec_push(d, "localhostProfile");
                if ((*profile)[0] == '/')
                        kl__dec_error(d, lp ? lp->pos : v->pos, "%s: must be a relative path", kl__dec_q(d, *profile));
                else if (kl_path_has_dotdot(*profile))
                        kl__dec_error(d, lp ? lp->pos : v->pos, "%s: must not contain '..'", kl__dec_q(d, *profile));
                kl__dec_pop(d, saved);
        }
        return true;
}

static void decode_caps(struct kl__dec *d, const struct kl_yaml_node *v, char ***ret) {
        if (!kl__dec_strv(d, v, ret))
                return;
        for (size_t i = 0; (*ret)[i]; i++) {
                char *cap = (*ret)[i];
                const struct kl_yaml_node *item = v->seq.items[i];
                if (strncmp(cap, "CAP_", 4) == 0) {
                        /* CRI runtimes add the prefix themselves */
                        memmove(cap, cap + 4, strlen(cap + 4) + 1);
                        kl__dec_warning(d, item->pos, "capability %s: drop the CAP_ prefix",
                                        kl__dec_q(d, item->scalar.value));
                }
                /* upstream's API does not check capability names; the
                 * runtime refuses an unknown one when it creates the container */
                if (!kl_capability_known(cap) && strcasecmp(cap, "ALL") != 0) {
                        char upper[64];
                        size_t k;
                        for (k = 0; cap[k] && k + 1 < sizeof(upper); k++)
                                upper[k] = cap[k] >= 'a' && cap[k] <= 'z' ? (char) (cap[k] - 'a' + 'A') : cap[k];
                        upper[k] = '\0';
                        if (kl_capability_known(upper))
                                kl__dec_warning(d, item->pos,
                                                "capability %s: the runtime knows capabilities in upper case "
                                                "only (%s) and ignores this one",
                                                kl__dec_q(d, item->scalar.value), upper);
                        else
                                kl__dec_warning(d, item->pos,
                                                "unknown capability %s: the runtime will ignore or "
                                                "refuse it",
                                                kl__dec_q(d, item->scalar.value));
                }
        }
}

void kl__decode_security_context(struct kl__dec *d, const struct kl_yaml_node *v, struct kl_security_context *sc) {
        static const char *const known[] = {"privileged",
                                            "runAsUser",
                                            "runAsGroup",
                                            "runAsNonRoot",
                                            "readOnlyRootFilesystem",
                                            "allowPrivilegeEscalation",
                                            "capabilities",
                                            "seccompProfile",
                                            "seLinuxOptions",
                                            "appArmorProfile",
                                            "procMount",
                                            "windowsOptions",
                                            NULL};
        static const char *const cap_known[] = {"add", "drop", NULL};

        if (!kl__dec_map(d, v))
                return;
        KL__FOREACH_FIELD(d, v, f) {
                if (streq(f.name, "privileged"))
                        kl__dec_tristate(d, f.value, &sc->privileged);
                else if (streq(f.name, "runAsUser"))
                        kl__dec_int(d, f.value, 0, INT32_MAX, &sc->run_as_user);
                else if (streq(f.name, "runAsGroup"))
                        kl__dec_int(d, f.value, 0, INT32_MAX, &sc->run_as_group);
                else if (streq(f.name, "runAsNonRoot"))
                        kl__dec_tristate(d, f.value, &sc->run_as_non_root);
                else if (streq(f.name, "readOnlyRootFilesystem"))
                        kl__dec_tristate(d, f.value, &sc->read_only_root_filesystem);
                else if (streq(f.name, "allowPrivilegeEscalation"))
                        kl__dec_tristate(d, f.value, &sc->allow_privilege_escalation);
                else if (streq(f.name, "capabilities")) {
                        if (!kl__dec_map(d, f.value))
                                continue;
                        KL__FOREACH_FIELD(d, f.value, g) {
                                if (streq(g.name, "add"))
                                        decode_caps(d, g.value, &sc->capabilities_add);
                                else if (streq(g.name, "drop"))
                                        decode_caps(d, g.value, &sc->capabilities_drop);
                                else
                                        kl__dec_unknown(d, g.key, cap_known);
                        }
                } else if (streq(f.name, "seccompProfile"))
                        kl__decode_seccomp(d, f.value, &sc->seccomp, &sc->seccomp_localhost_profile);
                else if (streq(f.name, "procMount")) {
                        /* Default is what runs anyway; Unmasked needs user namespaces */
                        char *pm = NULL;
                        if (kl__dec_str(d, f.value, &pm) && !streq(pm, "Default")) {
                                if (streq(pm, "Unmasked"))
                                        kl__dec_unsupported(d, f.key, true, "procMount: Unmasked");
                                else
                                        kl__dec_error(d, f.value->pos,
                                                      "unsupported value %s: supported values: \"Default\", "
                                                      "\"Unmasked\"",
                                                      kl__dec_q(d, pm));
                        }
                        free(pm);
                } else if (streq(f.name, "seLinuxOptions") || streq(f.name, "appArmorProfile"))
                        kl__dec_unsupported(d, f.key, true, NULL);
                else if (streq(f.name, "windowsOptions"))
                        kl__dec_unsupported(d, f.key, false, "Linux only");
                else
                        kl__dec_unknown(d, f.key, known);
        }
        if (sc->allow_privilege_escalation == 0 && sc->privileged == 1)
                kl__dec_error(d, v->pos, "cannot set allowPrivilegeEscalation to false and privileged to true");
}
