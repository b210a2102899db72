/* SPDX-License-Identifier: Apache-2.0 */
/* Pod checks that span fields, and defaults that depend on other fields.
 * Runs on the model after decoding, so the order of keys in the file never
 * matters; positions come from the pos members of the model. */
#include <string.h>

#include "manifests/schema.h"

struct citer {
        const char *list; /* "containers" or "initContainers" */
        size_t i;
        struct kl_container *c;
};

/* Walk init containers then app containers. */
static bool next_container(struct kl_pod *p, struct citer *it) {
        if (!it->list) {
                it->list = "initContainers";
                it->i = 0;
        } else
                it->i++;
        if (streq(it->list, "initContainers") && it->i >= p->n_init_containers) {
                it->list = "containers";
                it->i = 0;
        }
        if (streq(it->list, "containers") && it->i >= p->n_containers)
                return false;
        it->c = streq(it->list, "containers") ? &p->containers[it->i] : &p->init_containers[it->i];
        return true;
}

static void container_path(struct kl__dec *d, const struct citer *it, const char *suffix) {
        kl__dec_set_path(d, "spec.%s[%zu]%s%s", it->list, it->i, suffix ? "." : "", strempty(suffix));
}

static bool has_port_name(const struct kl_container *c, const char *name) {
        for (size_t i = 0; i < c->n_ports; i++)
                if (streq_ptr(c->ports[i].name, name))
                        return true;
        return false;
}

static void check_handler(struct kl__dec *d, struct kl_pod *p, const struct citer *it, const struct kl_handler *h,
                          const char *what) {
        if (h->kind == KL_HANDLER_NONE)
                return;
        if (h->port_name && !has_port_name(it->c, h->port_name)) {
                container_path(d, it, what);
                kl__dec_error(d, h->pos, "port %s is not a named port of this container", kl__dec_q(d, h->port_name));
        }
        if (h->kind == KL_HANDLER_SLEEP && h->sleep_seconds > p->termination_grace_period_seconds) {
                container_path(d, it, what);
                kl__dec_error(d, h->pos,
                              "sleep.seconds (%lld) must not be greater than terminationGracePeriodSeconds (%lld)",
                              (long long) h->sleep_seconds, (long long) p->termination_grace_period_seconds);
        }
}

static void check_container(struct kl__dec *d, struct kl_pod *p, const struct citer *it) {
        struct kl_container *c = it->c;
        bool init = streq(it->list, "initContainers");
        bool sidecar = init && c->restart_policy == KL_RESTART_ALWAYS;
        const struct {
                const struct kl_probe *probe;
                const char *name;
        } probes[] = {
                {&c->liveness, "livenessProbe"}, {&c->readiness, "readinessProbe"}, {&c->startup, "startupProbe"}};

        for (size_t k = 0; k < ELEMENTSOF(probes); k++) {
                if (!probes[k].probe->set)
                        continue;
                if (init && !sidecar) {
                        container_path(d, it, probes[k].name);
                        kl__dec_error(d, probes[k].probe->pos,
                                      "may not be set for init containers without restartPolicy: Always");
                }
                check_handler(d, p, it, &probes[k].probe->handler, probes[k].name);
        }
        if (init && !sidecar && (c->post_start.kind || c->pre_stop.kind)) {
                container_path(d, it, "lifecycle");
                kl__dec_error(d, c->post_start.kind ? c->post_start.pos : c->pre_stop.pos,
                              "may not be set for init containers without restartPolicy: Always");
        }
        check_handler(d, p, it, &c->post_start, "lifecycle.postStart");
        check_handler(d, p, it, &c->pre_stop, "lifecycle.preStop");

        for (size_t i = 0; i < c->n_volume_mounts; i++) {
                const struct kl_volume_mount *m = &c->volume_mounts[i];
                bool found = false;
                /* upstream's validateMountPropagation */
                if (m->propagation == KL_PROPAGATION_BIDIRECTIONAL && c->security_context.privileged != 1) {
                        kl__dec_set_path(d, "spec.%s[%zu].volumeMounts[%zu].mountPropagation", it->list, it->i, i);
                        kl__dec_error(d, m->pos,
                                      "Bidirectional mount propagation is available only to privileged "
                                      "containers");
                }
                if (!m->name)
                        continue;
                for (size_t k = 0; k < p->n_volumes && !found; k++)
                        found = streq_ptr(p->volumes[k].name, m->name);
                if (!found) {
                        kl__dec_set_path(d, "spec.%s[%zu].volumeMounts[%zu].name", it->list, it->i, i);
                        kl__dec_error(d, m->pos, "volume %s is not defined in spec.volumes", kl__dec_q(d, m->name));
                }
        }

        for (size_t i = 0; i < c->n_ports; i++) {
                struct kl_port *port = &c->ports[i];
                if (!p->host_network)
                        continue;
                if (port->host_port == 0)
                        port->host_port = port->container_port; /* upstream's default */
                else if (port->host_port != port->container_port) {
                        kl__dec_set_path(d, "spec.%s[%zu].ports[%zu].hostPort", it->list, it->i, i);
                        kl__dec_error(d, port->pos, "must match containerPort when hostNetwork is true");
                }
        }

        int non_root = c->security_context.run_as_non_root >= 0 ? c->security_context.run_as_non_root
                                                                : p->security_context.run_as_non_root;
        int64_t uid = c->security_context.run_as_user >= 0 ? c->security_context.run_as_user
                                                           : p->security_context.run_as_user;
        if (non_root == 1 && uid == 0) {
                container_path(d, it, "securityContext");
                kl__dec_error(d, c->pos, "runAsNonRoot is true but runAsUser is 0 (root)");
        }
}

void kl__check_pod(struct kl__dec *d, struct kl_pod *p) {
        size_t saved = d->plen;
        struct citer it = {0};
        char saved_path[KL__PATH_MAX];

        memcpy(saved_path, d->path, sizeof(saved_path));

        if (p->n_containers == 0 && !d->containers_rejected) {
                kl__dec_set_path(d, "spec.containers");
                kl__dec_error(d, p->pos, "at least one container is required");
        }
        if (!d->containers_rejected && p->n_containers + p->n_init_containers > d->opts->max_containers) {
                kl__dec_set_path(d, "spec");
                kl__dec_error(d, p->pos, "too many containers: %zu, at most %zu",
                              p->n_containers + p->n_init_containers, d->opts->max_containers);
        }

        while (next_container(p, &it)) {
                /* container names are unique across init and app containers */
                struct citer prev = {0};
                while (it.c->name && next_container(p, &prev) && prev.c != it.c)
                        if (streq_ptr(prev.c->name, it.c->name)) {
                                container_path(d, &it, "name");
                                kl__dec_error(d, it.c->pos, "duplicate container name %s", kl__dec_q(d, it.c->name));
                                break;
                        }
                check_container(d, p, &it);
        }

        /* host ports of app containers must not collide */
        for (size_t a = 0; a < p->n_containers; a++)
                for (size_t i = 0; i < p->containers[a].n_ports; i++) {
                        const struct kl_port *x = &p->containers[a].ports[i];
                        bool dup = false;
                        if (x->host_port == 0)
                                continue;
                        for (size_t b = 0; b <= a && !dup; b++)
                                for (size_t j = 0; j < p->containers[b].n_ports; j++) {
                                        const struct kl_port *y = &p->containers[b].ports[j];
                                        if (b == a && j >= i)
                                                break;
                                        if (y->host_port == x->host_port && streq_ptr(y->protocol, x->protocol) &&
                                            (!x->host_ip || !y->host_ip || streq(x->host_ip, y->host_ip)))
                                                dup = true;
                                }
                        if (dup) {
                                kl__dec_set_path(d, "spec.containers[%zu].ports[%zu].hostPort", a, i);
                                kl__dec_error(d, x->pos, "host port %d/%s is already used", x->host_port,
                                              strempty(x->protocol));
                        }
                }

        if (p->share_process_namespace && p->host_pid) {
                kl__dec_set_path(d, "spec.shareProcessNamespace");
                kl__dec_error(d, p->pos, "ShareProcessNamespace and HostPID cannot both be enabled");
        }

        if (p->dns_policy == KL_DNS_NONE && !p->dns_config.nameservers) {
                kl__dec_set_path(d, "spec.dnsConfig");
                kl__dec_error(d, p->pos, "must provide at least one nameserver when dnsPolicy is None");
        }

        memcpy(d->path, saved_path, sizeof(saved_path));
        d->plen = saved;
}
