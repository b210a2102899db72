/* SPDX-License-Identifier: Apache-2.0 */
#include "tlscert.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib/macros.h"

struct kl_tls {
        SSL_CTX *ctx;
        char *ca_data;
};

static char *base64(const unsigned char *p, size_t n) {
        char *out = malloc(4 * ((n + 2) / 3) + 1);
        if (out)
                EVP_EncodeBlock((unsigned char *) out, p, (int) n);
        return out;
}

static int add_ext(X509 *x, int nid, const char *value) {
        X509V3_CTX v3;
        X509V3_set_ctx_nodb(&v3);
        X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
        X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
        if (!e)
                return -EINVAL;
        int ok = X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
        return ok ? 0 : -ENOMEM;
}

int kl_tls_new(const char *const *names, const char *const *ips, struct kl_tls **ret, struct kl_error *reterr) {
        EVP_PKEY *key = NULL;
        X509 *x = NULL;
        BIO *bio = NULL;
        struct kl_tls *t = NULL;
        struct kl_buf san = {};
        unsigned char serial[16];
        int r = -ENOMEM;

        key = EVP_EC_gen("P-256");
        x = X509_new();
        if (!key || !x)
                goto out;
        if (RAND_bytes(serial, sizeof(serial)) != 1) {
                r = -EIO;
                goto out;
        }
        serial[0] &= 0x7f; /* positive */
        BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
        if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x))) {
                BN_free(bn);
                goto out;
        }
        BN_free(bn);
        X509_set_version(x, 2);
        /* valid from an hour ago (clock skew) for ten years; a new one comes at every start anyway */
        X509_gmtime_adj(X509_getm_notBefore(x), -3600);
        X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 24 * 3600);
        X509_NAME *name = X509_get_subject_name(x);
        X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *) "kubelet-lite", -1, -1, 0);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *) "kubelet-lite API facade", -1, -1,
                                   0);
        X509_set_issuer_name(x, name);
        X509_set_pubkey(x, key);
        for (const char *const *n = names; n && *n; n++)
                kl_buf_printf(&san, "%sDNS:%s", san.len ? "," : "", *n);
        for (const char *const *i = ips; i && *i; i++)
                kl_buf_printf(&san, "%sIP:%s", san.len ? "," : "", *i);
        if (san.oom || !san.data || add_ext(x, NID_basic_constraints, "critical,CA:TRUE") < 0 ||
            add_ext(x, NID_key_usage, "critical,digitalSignature,keyCertSign") < 0 ||
            add_ext(x, NID_ext_key_usage, "serverAuth") < 0 || add_ext(x, NID_subject_key_identifier, "hash") < 0 ||
            add_ext(x, NID_subject_alt_name, san.data) < 0) {
                r = -EINVAL;
                goto out;
        }
        if (!X509_sign(x, key, EVP_sha256())) {
                r = -EIO;
                goto out;
        }
        t = calloc(1, sizeof(*t));
        if (!t)
                goto out;
        t->ctx = SSL_CTX_new(TLS_server_method());
        if (!t->ctx)
                goto out;
        SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
        SSL_CTX_set_num_tickets(t->ctx, 0); /* nothing to resume: no state, no tickets */
        SSL_CTX_set_mode(t->ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE);
        if (SSL_CTX_use_certificate(t->ctx, x) != 1 || SSL_CTX_use_PrivateKey(t->ctx, key) != 1) {
                r = -EINVAL;
                goto out;
        }
        bio = BIO_new(BIO_s_mem());
        char *pem;
        long plen;
        if (!bio || PEM_write_bio_X509(bio, x) != 1 || (plen = BIO_get_mem_data(bio, &pem)) <= 0)
                goto out;
        if (!(t->ca_data = base64((const unsigned char *) pem, (size_t) plen)))
                goto out;
        *ret = TAKE_PTR(t);
        r = 0;
out:
        if (r < 0)
                kl_error_set(reterr, r, "making the facade's TLS certificate failed");
        kl_tls_free(t);
        kl_buf_free_contents(&san);
        BIO_free(bio);
        X509_free(x);
        EVP_PKEY_free(key);
        return r;
}

struct kl_tls *kl_tls_free(struct kl_tls *t) {
        if (!t)
                return NULL;
        SSL_CTX_free(t->ctx);
        free(t->ca_data);
        free(t);
        return NULL;
}

void *kl_tls_server_ctx(struct kl_tls *t) {
        return t->ctx;
}

const char *kl_tls_ca_data(const struct kl_tls *t) {
        return t->ca_data;
}

void *kl_tls_client_ctx(const char *ca_data_b64) {
        size_t n = strlen(ca_data_b64);
        unsigned char *pem = malloc(n / 4 * 3 + 4);
        SSL_CTX *ctx = NULL;
        if (!pem)
                return NULL;
        int len = EVP_DecodeBlock(pem, (const unsigned char *) ca_data_b64, (int) n);
        BIO *bio = len > 0 ? BIO_new_mem_buf(pem, len) : NULL;
        X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
        if (x && (ctx = SSL_CTX_new(TLS_client_method()))) {
                X509_STORE *st = SSL_CTX_get_cert_store(ctx);
                if (X509_STORE_add_cert(st, x) != 1) {
                        SSL_CTX_free(ctx);
                        ctx = NULL;
                } else
                        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        }
        X509_free(x);
        BIO_free(bio);
        free(pem);
        return ctx;
}
