/*
 * Mutual TLS (ap_identity.h) against a real Mbed TLS server that requires
 * and verifies a client certificate, on the Mbed TLS line this is built for.
 *
 * What the server verified is what counts: each delivery asserts the
 * subject of the certificate the server accepted; each refusal asserts the
 * status, the words, and that the server received no request. The key
 * forms: PEM, encrypted PEM (traditional and PKCS#8), DER, a certificate
 * file that also holds the key; on 3.6 a persistent, non-exportable key in
 * the file-backed PSA store, used without being exported; on 2.28 a signing
 * callback over a key only the test holds.
 *
 * usage: test_tls_identity PKI_DIR   (the device PKI that tests/integration/pki.py makes)
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alertpost/alertpost.h"

#include "tls_test_harness.h"

#include "mbedtls/pk.h"
#include "mbedtls/version.h"
#if MBEDTLS_VERSION_MAJOR >= 3
#include "psa/crypto.h"
#else
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/rsa.h"
#endif

#define DEVICE_CN "CN=device-0001"
#define PASS "fleet-passphrase-0001" /* pki.py KEY_PASSPHRASE */

/* The identity of one case, read from the PKI. */
typedef struct device {
    ap_identity_t id;
    unsigned char *cert;
    unsigned char *key;
} device_t;

static void device_load(device_t *d, const char *cert, const char *key, const char *pass)
{
    memset(d, 0, sizeof *d);
    d->cert = tls_test_read(cert, &d->id.cert_len);
    d->id.cert = d->cert;
    if (key != NULL) {
        d->key = tls_test_read(key, &d->id.key_len);
        d->id.key = d->key;
        if (strstr(key, ".der") != NULL) {
            d->id.key_len--; /* DER: no terminating NUL */
        }
    }
    d->id.key_pass = pass;
}

static void device_free(device_t *d)
{
    free(d->cert);
    free(d->key);
}

/* What the -v trace would have shown of the client certificate. */
static char g_client_trace[256];

static void record_trace(void *ctx, ap_trace_kind_t kind, const uint8_t *data, size_t len)
{
    (void)ctx;
    if (kind == AP_TRACE_CLIENT_CERT) {
        (void)snprintf(g_client_trace, sizeof g_client_trace, "%.*s", (int)len,
                       (const char *)data);
    }
}

/* One post with this identity to a server with these options. */
static ap_status_t post_as(const ap_identity_t *id, const tls_test_server_opts_t *o,
                           tls_test_client_t *cl, tls_test_seen_t *seen)
{
    tls_test_server_t s;
    ap_status_t st;

    g_client_trace[0] = '\0';
    memset(cl, 0, sizeof *cl);
    tls_test_server_start(&s, o);
    tls_test_client_config(cl, s.port);
    cl->cfg.identity = id;
    cl->cfg.trace = record_trace;
    st = tls_test_client_post(cl);
    tls_test_server_finish(&s, seen);
    if (st != AP_OK) {
        print_message("client: %s\n", ap_client_error(&cl->c));
    }
    return st;
}

static const uint16_t k_versions[] = {
#if MBEDTLS_VERSION_MAJOR >= 3
    0x0304,
#endif
    0x0303,
};

/* Delivered with the device certificate, which the server verified. */
static void expect_delivered(const ap_identity_t *id, uint16_t version, const char *cn)
{
    tls_test_server_opts_t o = {version, NULL, NULL, "client-root.pem", 0, 0};
    tls_test_client_t cl;
    tls_test_seen_t seen;

    assert_int_equal(post_as(id, &o, &cl, &seen), AP_OK);
    assert_int_equal(seen.handshake, 0);
    assert_non_null(strstr(seen.peer, cn));
    assert_non_null(strstr(seen.request, "POST /glue HTTP/1.1\r\n"));
    assert_int_equal(ap_client_info(&cl.c)->tls_version, version);
    assert_true(ap_client_info(&cl.c)->client_cert_requested);
    assert_true(ap_client_info(&cl.c)->client_cert_sent);
    assert_non_null(strstr(g_client_trace, cn));
    assert_non_null(strstr(g_client_trace, "; expires "));
    tls_test_client_done(&cl);
}

/* Refused by the server (or the client): nothing reached the server. */
static void expect_refused(const ap_identity_t *id, const tls_test_server_opts_t *o,
                           ap_status_t want, const char *words1, const char *words2)
{
    tls_test_client_t cl;
    tls_test_seen_t seen;

    assert_int_equal(post_as(id, o, &cl, &seen), want);
    assert_non_null(strstr(ap_client_error(&cl.c), words1));
    assert_non_null(strstr(ap_client_error(&cl.c), words2));
    assert_int_not_equal(seen.handshake, 0);
    assert_string_equal(seen.peer, "");
    assert_string_equal(seen.request, "");
    tls_test_client_done(&cl);
}

static void test_delivers_with_each_key_form(void **state)
{
    static const char *const forms[][3] = {
        {"device-chain.pem", "device.key", NULL},
        {"device-chain.pem", "device-enc-trad.key", PASS},
#if MBEDTLS_VERSION_MAJOR >= 3 /* 2.28: see test_line_specific_key_errors */
        {"device-chain.pem", "device-enc-pkcs8.key", PASS},
#endif
        {"device-chain.pem", "device-pkcs8.der", NULL},
        {"device-chain.pem", "device-sec1.der", NULL},
        {"device-combined.pem", "device-combined.pem", NULL},
    };
    device_t d;
    size_t i;
    size_t v;

    (void)state;
    for (i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        for (v = 0; v < sizeof k_versions / sizeof k_versions[0]; v++) {
            device_load(&d, forms[i][0], forms[i][1], forms[i][2]);
            expect_delivered(&d.id, k_versions[v], DEVICE_CN);
            device_free(&d);
        }
    }
}

static void test_delivers_with_an_rsa_device(void **state)
{
    device_t d;
    size_t v;

    (void)state;
    for (v = 0; v < sizeof k_versions / sizeof k_versions[0]; v++) {
        device_load(&d, "device-rsa-chain.pem", "device-rsa.key", NULL);
        expect_delivered(&d.id, k_versions[v], DEVICE_CN);
        device_free(&d);
    }
}

static void test_server_that_does_not_ask_gets_nothing(void **state)
{
    static const tls_test_server_opts_t plain = {0, NULL, NULL, NULL, 0, 0};
    tls_test_client_t cl;
    tls_test_seen_t seen;
    device_t d;

    (void)state;
    device_load(&d, "device-chain.pem", "device.key", NULL);
    assert_int_equal(post_as(&d.id, &plain, &cl, &seen), AP_OK);
    assert_string_equal(seen.peer, "");
    assert_false(ap_client_info(&cl.c)->client_cert_requested);
    assert_false(ap_client_info(&cl.c)->client_cert_sent);
    assert_string_equal(g_client_trace, "");
    tls_test_client_done(&cl);
    device_free(&d);
}

static void test_refusals_name_the_servers_alert(void **state)
{
    static const char *const refused[][2] = {
        {"device-unknown-chain.pem", "unknown_ca"},
        {"device-expired-chain.pem", "certificate_expired"},
    };
    device_t d;
    size_t i;
    size_t v;

    (void)state;
    for (i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        for (v = 0; v < sizeof k_versions / sizeof k_versions[0]; v++) {
            tls_test_server_opts_t o = {k_versions[v], NULL, NULL, "client-root.pem", 0, 0};

            /* An Mbed TLS server sends its TLS 1.3 alert under keys the client
             * has already dropped: the refusal is recognised, not named (the
             * integration tests name it from OpenSSL and Go servers). */
            const char *words = k_versions[v] == 0x0304 ? "no alert this client can read"
                                                        : refused[i][1];

            device_load(&d, refused[i][0], "device.key", NULL);
            expect_refused(&d.id, &o, AP_ERR_TLS_CLIENT_CERT, "refused this device's certificate",
                           words);
            device_free(&d);
        }
    }
}

static void test_no_certificate_for_a_server_that_requires_one(void **state)
{
    size_t v;

    (void)state;
    for (v = 0; v < sizeof k_versions / sizeof k_versions[0]; v++) {
        tls_test_server_opts_t o = {k_versions[v], NULL, NULL, "", 0, 0};

        expect_refused(NULL, &o, AP_ERR_TLS_CLIENT_CERT, "requires a client certificate",
                       "none is configured");
    }
}

/* The certificate goes out only after the server's chain verified: a
 * server that fails verification never receives it. */
static void test_unverified_server_never_sees_the_certificate(void **state)
{
    device_t d;
    size_t v;

    (void)state;
    for (v = 0; v < sizeof k_versions / sizeof k_versions[0]; v++) {
        tls_test_server_opts_t o = {k_versions[v], NULL, "wronghost-chain.pem",
                                    "client-root.pem", 0, 0};
        tls_test_client_t cl;
        tls_test_seen_t seen;

        device_load(&d, "device.pem", "device.key", NULL);
        assert_int_equal(post_as(&d.id, &o, &cl, &seen), AP_ERR_TLS_CERT);
        assert_int_not_equal(seen.handshake, 0);
        assert_string_equal(seen.peer, "");
        assert_false(ap_client_info(&cl.c)->client_cert_sent);
        assert_string_equal(g_client_trace, "");
        tls_test_client_done(&cl);
        device_free(&d);
    }
}

/* Each unusable identity fails ap_client_init(), before any connection,
 * and says which part of it is at fault. */
static void expect_setup_error(const ap_identity_t *id, const char *words,
                               ap_identity_fault_t fault)
{
    tls_test_client_t cl;
    ap_status_t st;

    memset(&cl, 0, sizeof cl);
    tls_test_client_config(&cl, 9); /* never connected to */
    cl.cfg.identity = id;
    st = ap_client_init(&cl.c, &cl.cfg);
    if (st != AP_ERR_TLS_SETUP || strstr(ap_client_error(&cl.c), words) == NULL) {
        print_message("want \"%s\", got %d: %s\n", words, st, ap_client_error(&cl.c));
    }
    assert_int_equal(st, AP_ERR_TLS_SETUP);
    assert_non_null(strstr(ap_client_error(&cl.c), words));
    assert_int_equal(ap_client_info(&cl.c)->identity_fault, fault);
    tls_test_client_done(&cl);
}

static void test_unusable_identities_fail_at_init(void **state)
{
    static const char *const cases[][5] = {
        {"device.pem", "device-enc-trad.key", NULL, "is encrypted: give its passphrase", "key"},
        {"device.pem", "device-enc-trad.key", "wrong", "does not decrypt the client key", "key"},
#if MBEDTLS_VERSION_MAJOR >= 3
        {"device.pem", "device-enc-pkcs8.key", "wrong", "does not decrypt the client key", "key"},
#endif
        {"device.pem", "device-other.key", NULL, "does not match the client certificate", "key"},
        {"device.pem", "device-rsa.key", NULL, "does not match the client certificate", "key"},
        {"device.pem", "device-rsa.pem", NULL, "the client key could not be read", "key"},
        {"device.key", "device.key", NULL, "the client certificate could not be read", "cert"},
        {"ecdsa-chain.pem", "ecdsa.key", NULL, "lacks clientAuth", "cert"},
        {"device.pem", NULL, NULL, "exactly one key", "key"},
    };
    device_t d;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        device_load(&d, cases[i][0], cases[i][1], cases[i][2]);
        expect_setup_error(&d.id, cases[i][3],
                           strcmp(cases[i][4], "key") == 0 ? AP_IDENTITY_FAULT_KEY
                                                           : AP_IDENTITY_FAULT_CERT);
        device_free(&d);
    }
    /* The mismatch names the certificate, never the key. */
    device_load(&d, "device.pem", "device-rsa.key", NULL);
    expect_setup_error(&d.id, DEVICE_CN, AP_IDENTITY_FAULT_KEY);
    device_free(&d);
}

#if MBEDTLS_VERSION_MAJOR >= 3

#define PSA_DEVICE_KEY 0x0A1E0001u

/* device.key into the PSA store as a persistent key that can sign and
 * cannot be exported; then the key store is closed and opened again, as a
 * device reboots, so the handshake uses what the store kept. */
static void store_device_key(void)
{
    assert_int_equal(psa_crypto_init(), PSA_SUCCESS);
    (void)psa_destroy_key(mbedtls_svc_key_id_make(0, PSA_DEVICE_KEY)); /* an earlier run's */
    assert_int_equal(tls_test_psa_sign_key("device.key", PSA_DEVICE_KEY), PSA_DEVICE_KEY);
    mbedtls_psa_crypto_free();
}

static void test_psa_persistent_key_never_exported(void **state)
{
    mbedtls_svc_key_id_t id = mbedtls_svc_key_id_make(0, PSA_DEVICE_KEY);
    unsigned char out[200];
    size_t out_len = 0;
    char its[64];
    device_t d;
    size_t v;

    (void)state;
    store_device_key();
    (void)snprintf(its, sizeof its, "%016llx.psa_its", (unsigned long long)PSA_DEVICE_KEY);
    assert_int_equal(access(its, R_OK), 0); /* the file-backed store holds it */
    for (v = 0; v < sizeof k_versions / sizeof k_versions[0]; v++) {
        device_load(&d, "device-chain.pem", NULL, NULL);
        d.id.psa_key_id = PSA_DEVICE_KEY;
        expect_delivered(&d.id, k_versions[v], DEVICE_CN);
        device_free(&d);
    }
    assert_int_equal(psa_export_key(id, out, sizeof out, &out_len), PSA_ERROR_NOT_PERMITTED);
    /* The key belongs to the application: ap_client_free() left it alone. */
    assert_int_equal(psa_export_public_key(id, out, sizeof out, &out_len), PSA_SUCCESS);
    assert_int_equal(psa_destroy_key(id), PSA_SUCCESS);
}

static void test_line_specific_key_errors(void **state)
{
    static const ap_signer_t signer = {256, NULL, NULL};
    device_t d;

    (void)state;
    device_load(&d, "device.pem", NULL, NULL);
    d.id.psa_key_id = 0x0A1E0FFFu; /* not in the store */
    expect_setup_error(&d.id, "cannot be used", AP_IDENTITY_FAULT_KEY);
    d.id.psa_key_id = 0;
    d.id.signer = &signer;
    expect_setup_error(&d.id, "on 3.6 use a PSA key id", AP_IDENTITY_FAULT_KEY);
    device_free(&d);
}

#else /* Mbed TLS 2.28 */

/* The "secure element": an RSA key only the test holds, signing digests. */
typedef struct element {
    mbedtls_pk_context pk;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    unsigned signatures;
} element_t;

static ap_status_t element_sign(void *ctx, ap_sign_hash_t hash, const uint8_t *digest,
                                size_t digest_len, uint8_t *sig, size_t sig_len)
{
    element_t *e = ctx;
    mbedtls_md_type_t md = hash == AP_SIGN_SHA256   ? MBEDTLS_MD_SHA256
                           : hash == AP_SIGN_SHA384 ? MBEDTLS_MD_SHA384
                                                    : MBEDTLS_MD_SHA512;

    if (sig_len != mbedtls_pk_get_len(&e->pk)) {
        return AP_ERR_BAD_ARG;
    }
    e->signatures++;
    return mbedtls_rsa_pkcs1_sign(mbedtls_pk_rsa(e->pk), mbedtls_ctr_drbg_random, &e->drbg,
                                  MBEDTLS_RSA_PRIVATE, md, (unsigned)digest_len, digest,
                                  sig) == 0
               ? AP_OK
               : AP_ERR_TLS;
}

static void element_open(element_t *e, ap_signer_t *s)
{
    char path[512];

    memset(e, 0, sizeof *e);
    mbedtls_pk_init(&e->pk);
    mbedtls_entropy_init(&e->entropy);
    mbedtls_ctr_drbg_init(&e->drbg);
    assert_int_equal(mbedtls_ctr_drbg_seed(&e->drbg, mbedtls_entropy_func, &e->entropy, NULL,
                                           0), 0);
    tls_test_path(path, sizeof path, "device-rsa.key");
    assert_int_equal(mbedtls_pk_parse_keyfile(&e->pk, path, NULL), 0);
    s->sig_len = mbedtls_pk_get_len(&e->pk);
    s->sign = element_sign;
    s->ctx = e;
}

static void element_close(element_t *e)
{
    mbedtls_pk_free(&e->pk);
    mbedtls_ctr_drbg_free(&e->drbg);
    mbedtls_entropy_free(&e->entropy);
}

static void test_signer_signs_the_handshake(void **state)
{
    element_t e;
    ap_signer_t signer;
    device_t d;

    (void)state;
    element_open(&e, &signer);
    device_load(&d, "device-rsa-chain.pem", NULL, NULL);
    d.id.signer = &signer;
    expect_delivered(&d.id, 0x0303, DEVICE_CN);
    /* once at init (the key is checked against the certificate), once for
     * the handshake's CertificateVerify */
    assert_int_equal(e.signatures, 2);

    /* A signer whose key is not the certificate's is found at init. */
    device_free(&d);
    device_load(&d, "device.pem", NULL, NULL);
    d.id.signer = &signer;
    expect_setup_error(&d.id, "does not match", AP_IDENTITY_FAULT_KEY);
    device_free(&d);
    element_close(&e);
}

static void test_line_specific_key_errors(void **state)
{
    device_t d;

    (void)state;
    device_load(&d, "device.pem", NULL, NULL);
    d.id.psa_key_id = 1;
    expect_setup_error(&d.id, "has no opaque keys", AP_IDENTITY_FAULT_KEY);
    device_free(&d);
    /* OpenSSL's default PKCS#8 encryption (PBKDF2 with HMAC-SHA256) is
     * beyond 2.28: refused at init with what to do instead. */
    device_load(&d, "device.pem", "device-enc-pkcs8.key", PASS);
    expect_setup_error(&d.id, "re-encrypt it as a traditional PEM key", AP_IDENTITY_FAULT_KEY);
    device_free(&d);
}

#endif

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delivers_with_each_key_form),
        cmocka_unit_test(test_delivers_with_an_rsa_device),
        cmocka_unit_test(test_server_that_does_not_ask_gets_nothing),
        cmocka_unit_test(test_refusals_name_the_servers_alert),
        cmocka_unit_test(test_no_certificate_for_a_server_that_requires_one),
        cmocka_unit_test(test_unverified_server_never_sees_the_certificate),
        cmocka_unit_test(test_unusable_identities_fail_at_init),
#if MBEDTLS_VERSION_MAJOR >= 3
        cmocka_unit_test(test_psa_persistent_key_never_exported),
#else
        cmocka_unit_test(test_signer_signs_the_handshake),
#endif
        cmocka_unit_test(test_line_specific_key_errors),
    };
    char dir[] = "/tmp/ap-psa-its-XXXXXX";
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: test_tls_identity PKI_DIR\n");
        return 2;
    }
    tls_test_server_pki(argv[1]);
    /* The PSA store is files in the working directory: a fresh one each run. */
    if (mkdtemp(dir) == NULL || chdir(dir) != 0) {
        perror("test_tls_identity: PSA store directory");
        return 2;
    }
    (void)signal(SIGPIPE, SIG_IGN); /* the server child may write to a gone client */
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (chdir("/") == 0) {
        (void)rmdir(dir); /* empty unless a case failed half-way */
    }
    return rc;
}
