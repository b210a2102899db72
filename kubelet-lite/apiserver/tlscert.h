/* SPDX-License-Identifier: Apache-2.0 */
/* The API facade's TLS: a fresh EC P-256 key and a self-signed certificate
 * (subjectAltName: loopback, localhost, the node name and address), made at
 * every start. kubectl only sends a bearer token over TLS (client-go sets
 * user credentials for TLS connections only), so the facade must speak
 * https; the kubeconfig carries the certificate as its CA, so the client
 * verifies the server for real. */
#pragma once

#include "lib/error.h"
#include "lib/strbuf.h"

struct kl_tls;

/* names: DNS names; ips: address literals; both NULL-terminated. */
int kl_tls_new(const char *const *names, const char *const *ips, struct kl_tls **ret, struct kl_error *reterr);
struct kl_tls *kl_tls_free(struct kl_tls *t);
/* The OpenSSL SSL_CTX for the server side (as void *: no OpenSSL in headers). */
void *kl_tls_server_ctx(struct kl_tls *t);
/* The certificate, PEM, base64-encoded as kubeconfig's certificate-authority-data wants it. */
const char *kl_tls_ca_data(const struct kl_tls *t);

/* A client SSL_CTX that trusts exactly the PEM certificate(s) in ca_data
 * (base64 as in a kubeconfig). NULL on failure. */
void *kl_tls_client_ctx(const char *ca_data_b64);
