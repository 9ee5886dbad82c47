/*
 * This device's identity for mutual TLS (ap_identity.h): the one place that
 * touches the client's key.
 *
 * Everything that can be wrong with an identity is found here, at init,
 * before any connection: a certificate or key that does not parse, an
 * encrypted key without (or with the wrong) passphrase, a key that is not the
 * certificate's, a certificate that may not authenticate a client, a key
 * form this Mbed TLS cannot use. Each gets its own sentence; none of them
 * quotes the key.
 */
#include <stdio.h>
#include <string.h>

#include "tls/ap_tls_glue.h"

#if AP_CLIENT_IDENTITY

#include "mbedtls/oid.h"
#if defined(MBEDTLS_PKCS5_C)
#include "mbedtls/pkcs5.h"
#endif

#if AP_CLIENT_KEY_BYTES
/* The key in words, for a failed parse: what the user should do. */
static void key_refused(ap_client_t *c, int ret)
{
    char why[160];

    if (ret == MBEDTLS_ERR_PK_PASSWORD_REQUIRED) {
        ap_client_set_error(c, "the client key is encrypted: give its passphrase (key_pass; "
                               "the CLI's --pass)");
        return;
    }
    if (ret == MBEDTLS_ERR_PK_PASSWORD_MISMATCH) {
        ap_client_set_error(c, "the passphrase does not decrypt the client key");
        return;
    }
    ap_tls_describe(ret, why, sizeof(why));
#if defined(MBEDTLS_ERR_PKCS5_FEATURE_UNAVAILABLE)
    if (ret == MBEDTLS_ERR_PKCS5_FEATURE_UNAVAILABLE) {
        ap_client_set_error(c, "this Mbed TLS cannot decrypt the client key's PKCS#8 "
                               "encryption (%s; 2.28 lacks PBKDF2 with HMAC-SHA256, OpenSSL's "
                               "default): re-encrypt it as a traditional PEM key (openssl ec "
                               "or rsa, -aes256) or build against Mbed TLS 3.6", why);
        return;
    }
#endif
    if (ret == MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE) {
        ap_client_set_error(c, "the client key uses an algorithm or an encryption this Mbed "
                               "TLS build lacks: %s", why);
        return;
    }
    ap_client_set_error(c, "the client key could not be read: %s."
                           AP_HINT(" Is it a private key (PEM or DER: PKCS#8, SEC1 or PKCS#1)?"), why);
}

/* A wrong passphrase leaves random bytes, which the padding check catches
 * only 255 times in 256; the rest fail as bad ASN.1. For an encrypted PEM
 * key with a passphrase, any parse failure but a missing feature is taken
 * as the passphrase's, so the same mistake always reads the same. */
static int key_error(const ap_identity_t *in, int ret)
{
    static const char tag[] = "ENCRYPTED";
    size_t n = sizeof(tag) - 1;
    size_t i;

    if (in->key_pass == NULL || ret == MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE ||
        ret == MBEDTLS_ERR_PK_PASSWORD_REQUIRED) {
        return ret;
    }
#if defined(MBEDTLS_ERR_PKCS5_FEATURE_UNAVAILABLE)
    if (ret == MBEDTLS_ERR_PKCS5_FEATURE_UNAVAILABLE) {
        return ret;
    }
#endif
    for (i = 0; i + n <= in->key_len; i++) {
        if (memcmp(in->key + i, tag, n) == 0) {
            return MBEDTLS_ERR_PK_PASSWORD_MISMATCH;
        }
    }
    return ret;
}
#endif

static ap_status_t parse_chain(ap_client_t *c, ap_tls_identity_t *id, const ap_identity_t *in)
{
    int ret = mbedtls_x509_crt_parse(&id->chain, in->cert, in->cert_len);
    char why[160];

    if (ret < 0 || id->chain.version == 0) {
        if (ret < 0) {
            ap_tls_describe(ret, why, sizeof(why));
        } else {
            (void)snprintf(why, sizeof(why), "no certificate in it");
        }
        ap_client_set_error(c, "the client certificate could not be read: %s", why);
        return AP_ERR_TLS_SETUP;
    }
    if (ret > 0) {
        ap_client_set_error(c, "the client certificate chain could not be read: %d of its "
                               "certificates do not parse", ret);
        return AP_ERR_TLS_SETUP;
    }
    /* A leaf whose extendedKeyUsage leaves out clientAuth is refused by
     * every server that checks; say so now rather than after a handshake. */
    if (mbedtls_x509_crt_check_extended_key_usage(&id->chain, MBEDTLS_OID_CLIENT_AUTH,
                                                  MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)) != 0) {
        ap_client_set_error(c, "the client certificate may not authenticate a client: its "
                               "extendedKeyUsage lacks clientAuth");
        return AP_ERR_TLS_SETUP;
    }
    return AP_OK;
}

#if MBEDTLS_VERSION_MAJOR == 2 && defined(MBEDTLS_PK_RSA_ALT_SUPPORT)
/* Mbed TLS 2.28's pk "RSA alternative": the signer behind its callbacks. */
static int signer_sign(void *ctx, int (*f_rng)(void *, unsigned char *, size_t), void *p_rng,
                       int mode, mbedtls_md_type_t md_alg, unsigned int hashlen,
                       const unsigned char *hash, unsigned char *sig)
{
    const ap_signer_t *s = ctx;
    ap_sign_hash_t h;

    (void)f_rng;
    (void)p_rng;
    switch (md_alg) {
    case MBEDTLS_MD_SHA256: h = AP_SIGN_SHA256; break;
    case MBEDTLS_MD_SHA384: h = AP_SIGN_SHA384; break;
    case MBEDTLS_MD_SHA512: h = AP_SIGN_SHA512; break;
    default: return MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE; /* no MD5+SHA-1, no SHA-1 */
    }
    if (mode != MBEDTLS_RSA_PRIVATE) {
        return MBEDTLS_ERR_PK_BAD_INPUT_DATA;
    }
    return s->sign(s->ctx, h, hash, hashlen, sig, s->sig_len) == AP_OK
               ? 0
               : MBEDTLS_ERR_RSA_PRIVATE_FAILED;
}

static size_t signer_len(void *ctx)
{
    return ((const ap_signer_t *)ctx)->sig_len;
}

/* Only the static-RSA key exchange decrypts with the client's key, and
 * alertpost allows no such suite. */
static int signer_decrypt(void *ctx, int mode, size_t *olen, const unsigned char *input,
                          unsigned char *output, size_t output_max_len)
{
    (void)ctx;
    (void)mode;
    (void)olen;
    (void)input;
    (void)output;
    (void)output_max_len;
    return MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE;
}
#endif

/* The key, in whichever of its three forms was given. */
static ap_status_t load_key(ap_client_t *c, ap_tls_t *t, const ap_identity_t *in)
{
    ap_tls_identity_t *id = &t->identity;
    int forms = (in->key != NULL) + (in->psa_key_id != 0) + (in->signer != NULL);

    if (forms != 1) {
        ap_client_set_error(c, "the client identity needs exactly one key: key bytes, a PSA key "
                               "id or a signer (%d given)", forms);
        return AP_ERR_TLS_SETUP;
    }
#if AP_CLIENT_KEY_BYTES
    if (in->key != NULL) {
        const char *pass = in->key_pass;
        int ret;

        ret = ap_compat_parse_key(&id->key, in->key, in->key_len, (const unsigned char *)pass,
                                  pass != NULL ? strlen(pass) : 0, &t->drbg);
        if (ret != 0) {
            key_refused(c, key_error(in, ret));
            return AP_ERR_TLS_SETUP;
        }
        return AP_OK;
    }
#else
    if (in->key != NULL) {
        ap_client_set_error(c, "the client key was given as bytes, which this build refuses "
                               "(AP_CLIENT_KEY_BYTES 0): give a PSA key id or a signer");
        return AP_ERR_TLS_SETUP;
    }
#endif
    if (in->psa_key_id != 0) {
        if (ap_compat_setup_opaque(&id->key, in->psa_key_id) != 0) {
            ap_client_set_error(c, "the PSA key %lu cannot be used: it does not exist or cannot "
                                   "sign, or this build (%s) has no opaque keys"
                                   AP_HINT(" (Mbed TLS 3.6 with MBEDTLS_USE_PSA_CRYPTO)"),
                                (unsigned long)in->psa_key_id, ap_tls_library_name());
            return AP_ERR_TLS_SETUP;
        }
        return AP_OK;
    }
#if MBEDTLS_VERSION_MAJOR == 2 && defined(MBEDTLS_PK_RSA_ALT_SUPPORT)
    if (in->signer->sign != NULL && in->signer->sig_len > 0 &&
        mbedtls_pk_setup_rsa_alt(&id->key, (void *)(uintptr_t)in->signer, signer_decrypt,
                                 signer_sign, signer_len) == 0) {
        return AP_OK;
    }
#endif
    ap_client_set_error(c, "the signer cannot be used: it needs a sign function and sig_len, "
                           "and a build on Mbed TLS 2.28 with MBEDTLS_PK_RSA_ALT_SUPPORT "
                           "(this is %s" AP_HINT("; on 3.6 use a PSA key id") ")",
                        ap_tls_library_name());
    return AP_ERR_TLS_SETUP;
}

#if MBEDTLS_VERSION_MAJOR == 2 && defined(MBEDTLS_PK_RSA_ALT_SUPPORT)
/* A signer's key is the certificate's if what it signs verifies with the
 * certificate's public key. Mbed TLS's own pair check for an "RSA
 * alternative" asks for a raw (hash-less) signature, which a signer that
 * signs digests only does not give; this asks for a SHA-256 one. */
static int check_signer(ap_tls_t *t)
{
    ap_tls_identity_t *id = &t->identity;
    unsigned char digest[32];
    unsigned char sig[512]; /* RSA-4096 */
    size_t sig_len = 0;
    int ret;

    if (mbedtls_pk_get_len(&id->key) > sizeof(sig)) {
        return MBEDTLS_ERR_PK_BAD_INPUT_DATA;
    }
    ret = mbedtls_ctr_drbg_random(&t->drbg, digest, sizeof(digest));
    if (ret == 0) {
        ret = mbedtls_pk_sign(&id->key, MBEDTLS_MD_SHA256, digest, sizeof(digest), sig,
                              &sig_len, mbedtls_ctr_drbg_random, &t->drbg);
    }
    if (ret == 0) {
        ret = mbedtls_pk_verify(&id->chain.pk, MBEDTLS_MD_SHA256, digest, sizeof(digest), sig,
                                sig_len);
    }
    return ret;
}
#endif

/* The key must be the leaf's: a server would refuse the handshake, and a
 * mismatch found at init is a configuration error with a name. */
static ap_status_t check_pair(ap_client_t *c, ap_tls_t *t)
{
    ap_tls_identity_t *id = &t->identity;
    int ret;
    char subject[160];

#if MBEDTLS_VERSION_MAJOR == 2 && defined(MBEDTLS_PK_RSA_ALT_SUPPORT)
    if (mbedtls_pk_get_type(&id->key) == MBEDTLS_PK_RSA_ALT) {
        ret = check_signer(t);
    } else
#endif
    {
        ret = ap_compat_check_pair(&id->chain.pk, &id->key, &t->drbg);
    }

    if (ret == 0) {
        return AP_OK;
    }
    /* An opaque key whose type Mbed TLS cannot compare (a PSA RSA key):
     * the server's verification of CertificateVerify is the check left. */
    if (ret == MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE &&
        mbedtls_pk_get_type(&id->key) == MBEDTLS_PK_OPAQUE) {
        return AP_OK;
    }
    (void)ap_tls_describe_cert(&id->chain, false, subject, sizeof(subject));
    ap_client_set_error(c, "the client key does not match the client certificate (%s)",
                        subject);
    return AP_ERR_TLS_SETUP;
}

ap_status_t ap_tls_identity_setup(ap_client_t *c, ap_tls_t *t)
{
    const ap_identity_t *in = c->cfg.identity;
    ap_tls_identity_t *id = &t->identity;
    ap_status_t st;
    int ret;

    mbedtls_x509_crt_init(&id->chain);
    mbedtls_pk_init(&id->key);
    id->loaded = true;
    if (in == NULL) {
        return AP_OK;
    }
    c->info.identity_fault = AP_IDENTITY_FAULT_CERT;
    if (in->cert == NULL || in->cert_len == 0) {
        ap_client_set_error(c, "the client identity has no certificate");
        return AP_ERR_TLS_SETUP;
    }
    st = parse_chain(c, id, in);
    if (st != AP_OK) {
        return st;
    }
    c->info.identity_fault = AP_IDENTITY_FAULT_KEY; /* a mismatch too: the key is not the cert's */
    st = load_key(c, t, in);
    if (st == AP_OK) {
        st = check_pair(c, t);
    }
    if (st != AP_OK) {
        return st;
    }
    c->info.identity_fault = AP_IDENTITY_FAULT_CERT;
    ret = mbedtls_ssl_conf_own_cert(&t->conf, &id->chain, &id->key);
    if (ret == 0) {
        c->info.identity_fault = AP_IDENTITY_FAULT_NONE;
    } else {
        char why[160];

        ap_tls_describe(ret, why, sizeof(why));
        ap_client_set_error(c, "the client certificate was refused by the TLS library: %s", why);
        return AP_ERR_TLS_SETUP;
    }
    return AP_OK;
}

void ap_tls_identity_free(ap_tls_identity_t *id)
{
    if (id->loaded) {
        mbedtls_pk_free(&id->key); /* zeroes the key material; never destroys a PSA key */
        mbedtls_x509_crt_free(&id->chain);
        id->loaded = false;
    }
}

#else /* !AP_CLIENT_IDENTITY */

/* ISO C forbids an empty translation unit. */
typedef int ap_tls_identity_disabled_t;

#endif
