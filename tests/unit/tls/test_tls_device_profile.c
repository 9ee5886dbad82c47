/*
 * The core built as a device builds it (device_profile/ap_test_device_config.h:
 * AP_CLIENT_KEY_BYTES 0, AP_ANCHORS_PEM 0, the MPS2 firmware's choice),
 * against a forked Mbed TLS 3.6 server on loopback (tls_test_harness.h).
 *
 * - Trust anchors as DER, one certificate or several back to back, verify
 *   the server; PEM text, which this build cannot read, is refused at
 *   ap_client_init() with one line that says so.
 * - A client key as bytes is refused at ap_client_init(), naming the
 *   option; the same key imported into PSA, given by its key id, signs the
 *   handshake of a server that requires a client certificate.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alertpost/alertpost.h"
#include "mbedtls/x509_crt.h"
#include "psa/crypto.h"
#include "tls_test_harness.h"

#if AP_CLIENT_KEY_BYTES || AP_ANCHORS_PEM
#error "test_tls_device_profile is built with ap_test_device_config.h"
#endif

#define DEVICE_CN "CN=device-0001"

/* The certificates of a PEM file of the PKI, DER back to back (malloc'd). */
static unsigned char *pem_file_as_der(const char *name, size_t *len)
{
    mbedtls_x509_crt chain;
    const mbedtls_x509_crt *crt;
    unsigned char *out;
    size_t pem_len = 0;
    unsigned char *pem = tls_test_read(name, &pem_len);
    size_t n = 0;

    mbedtls_x509_crt_init(&chain);
    assert_int_equal(mbedtls_x509_crt_parse(&chain, pem, pem_len), 0);
    for (crt = &chain; crt != NULL; crt = crt->next) {
        n += crt->raw.len;
    }
    out = malloc(n);
    assert_non_null(out);
    *len = 0;
    for (crt = &chain; crt != NULL; crt = crt->next) {
        memcpy(out + *len, crt->raw.p, crt->raw.len);
        *len += crt->raw.len;
    }
    mbedtls_x509_crt_free(&chain);
    free(pem);
    return out;
}

/* The harness's client, with anchors the test chose in place of root.pem. */
static void client_with_anchors(tls_test_client_t *cl, uint16_t port, unsigned char *anchors,
                                size_t len)
{
    memset(cl, 0, sizeof *cl);
    tls_test_client_config(cl, port);
    free(cl->anchors);
    cl->anchors = anchors; /* tls_test_client_done() frees it */
    cl->cfg.ca_pem = anchors;
    cl->cfg.ca_pem_len = len;
}

/* The harness's client with root.pem as DER, as this build needs. */
static void client_with_der_root(tls_test_client_t *cl, uint16_t port)
{
    size_t len = 0;
    unsigned char *der = pem_file_as_der("root.pem", &len);

    client_with_anchors(cl, port, der, len);
}

static void test_der_anchors_verify_the_server(void **state)
{
    static const char *const stores[] = {"root.pem", "other-root.pem"};
    tls_test_server_opts_t o;
    tls_test_server_t s;
    tls_test_seen_t seen;
    tls_test_client_t cl;
    unsigned char *der;
    size_t len = 0;
    size_t i;

    (void)state;
    memset(&o, 0, sizeof o);
    for (i = 0; i < 2; i++) {
        if (i == 0) {
            der = pem_file_as_der(stores[0], &len);
        } else { /* a store of two, the server's root second */
            size_t a_len = 0;
            size_t b_len = 0;
            unsigned char *a = pem_file_as_der(stores[1], &a_len);
            unsigned char *b = pem_file_as_der(stores[0], &b_len);

            der = realloc(a, a_len + b_len);
            assert_non_null(der);
            memcpy(der + a_len, b, b_len);
            len = a_len + b_len;
            free(b);
        }
        tls_test_server_start(&s, &o);
        client_with_anchors(&cl, s.port, der, len);
        assert_int_equal(tls_test_client_post(&cl), AP_OK);
        tls_test_server_finish(&s, &seen);
        assert_int_equal(seen.handshake, 0);
        assert_non_null(strstr(seen.request, "POST /glue HTTP/1.1\r\n"));
        tls_test_client_done(&cl);
    }
}

/* PEM text is not a store this build reads: refused before any connection. */
static void test_pem_anchors_refused_in_one_line(void **state)
{
    tls_test_client_t cl;
    size_t len = 0;
    unsigned char *pem = tls_test_read("root.pem", &len);
    ap_status_t st;
    const char *why;

    (void)state;
    client_with_anchors(&cl, 9, pem, len); /* port 9: never connected to */
    st = ap_client_init(&cl.c, &cl.cfg);
    why = ap_client_error(&cl.c);
    print_message("init: %d %s\n", st, why);
    assert_int_equal(st, AP_ERR_TLS_SETUP);
    assert_non_null(strstr(why, "trust anchors"));
    assert_non_null(strstr(why, "are PEM; this build reads DER only (AP_ANCHORS_PEM 0)"));
    assert_null(strchr(why, '\n'));
    tls_test_client_done(&cl);
}

static void test_key_bytes_refused_psa_key_signs(void **state)
{
    tls_test_server_opts_t o = {0x0303, NULL, NULL, "client-root.pem", 0, 0};
    tls_test_server_t s;
    tls_test_seen_t seen;
    tls_test_client_t cl;
    ap_identity_t id;
    size_t len = 0;
    unsigned char *cert = tls_test_read("device-chain.pem", &len);
    unsigned char *key;
    size_t key_len = 0;
    uint16_t version;

    (void)state;
    memset(&id, 0, sizeof id);
    id.cert = cert;
    id.cert_len = len;
    key = tls_test_read("device.key", &key_len);
    id.key = key;
    id.key_len = key_len;
    client_with_der_root(&cl, 9); /* port 9: never connected to */
    cl.cfg.identity = &id;
    assert_int_equal(ap_client_init(&cl.c, &cl.cfg), AP_ERR_TLS_SETUP);
    print_message("init: %s\n", ap_client_error(&cl.c));
    assert_non_null(strstr(ap_client_error(&cl.c), "AP_CLIENT_KEY_BYTES 0"));
    tls_test_client_done(&cl);
    free(key);

    id.key = NULL;
    id.key_len = 0;
    id.psa_key_id = tls_test_psa_sign_key("device.key", 0);
    for (version = 0x0303; version <= 0x0304; version++) {
        o.max_version = version;
        tls_test_server_start(&s, &o);
        client_with_der_root(&cl, s.port);
        cl.cfg.identity = &id;
        assert_int_equal(tls_test_client_post(&cl), AP_OK);
        tls_test_server_finish(&s, &seen);
        assert_int_equal(seen.handshake, 0);
        assert_non_null(strstr(seen.peer, DEVICE_CN));
        assert_true(ap_client_info(&cl.c)->client_cert_sent);
        tls_test_client_done(&cl);
    }
    assert_int_equal(psa_destroy_key(mbedtls_svc_key_id_make(0, id.psa_key_id)), PSA_SUCCESS);
    free(cert);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_der_anchors_verify_the_server),
        cmocka_unit_test(test_pem_anchors_refused_in_one_line),
        cmocka_unit_test(test_key_bytes_refused_psa_key_signs),
    };

    tls_test_main_setup(argc, argv, "test_tls_device_profile");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
