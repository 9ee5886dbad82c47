/*
 * The TLS glue (core/src/tls/) against a real Mbed TLS server on loopback,
 * with the client's wall clock under the test's control.
 *
 * It checks what only the glue decides: certificate dates judged by the
 * platform's clock (an unknown time refuses, it never skips the check), SPKI
 * pins, the version floor naming the version the server chose, and the
 * cipher-suite allowlist. For every refusal it asserts that the server
 * received no request. The server (tls_test_harness.c) runs in a child
 * process, one connection per case, with the test PKI that
 * tests/integration/pki.py made.
 *
 * usage: test_tls_glue PKI_DIR
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
#include <time.h>

#include "alertpost/alertpost.h"
#include "alertpost/ap_posix.h"

#include "tls_test_harness.h"

#include "mbedtls/sha256.h"
#include "mbedtls/ssl_ciphersuites.h"
#include "mbedtls/x509_crt.h"

/* ---- the client: the real core over the POSIX port, a settable clock ---- */

static int64_t g_wall;
static bool g_wall_is_real;

static int64_t test_wall_time(void *ctx)
{
    (void)ctx;
    return g_wall_is_real ? (int64_t)time(NULL) : g_wall;
}

typedef struct client {
    tls_test_client_t t;
    ap_spki_pin_t pins[2];
} client_t;

/* Run one case: a server with opts, the client, and what each side saw. */
static ap_status_t run_case(client_t *cl, const tls_test_server_opts_t *o,
                            ap_tls_version_t tls_min, size_t pin_count, int *handshake,
                            char *req, size_t req_size)
{
    tls_test_server_t s;
    tls_test_seen_t seen;
    ap_status_t st;

    tls_test_server_start(&s, o);
    tls_test_client_config(&cl->t, s.port);
    cl->t.platform.wall_time = test_wall_time;
    cl->t.cfg.tls_min = tls_min;
    cl->t.cfg.pins = pin_count ? cl->pins : NULL;
    cl->t.cfg.pin_count = pin_count;
    st = tls_test_client_post(&cl->t);
    tls_test_server_finish(&s, &seen);
    *handshake = seen.handshake;
    (void)snprintf(req, req_size, "%s", seen.request);
    return st;
}

static const tls_test_server_opts_t k_default_server = {0, NULL, NULL, NULL, 0, 0};

static void test_real_clock_delivers(void **state)
{
    client_t cl;
    char req[8192];
    int hs;

    (void)state;
    memset(&cl, 0, sizeof cl);
    g_wall_is_real = true;
    assert_int_equal(run_case(&cl, &k_default_server, 0, 0, &hs, req, sizeof req), AP_OK);
    assert_int_equal(hs, 0);
    assert_non_null(strstr(req, "POST /glue HTTP/1.1\r\n"));
    assert_non_null(strstr(req, "Host: localhost:"));
    assert_int_equal(ap_client_info(&cl.t.c)->tls_version, AP_TLS_1_3);
    tls_test_client_done(&cl.t);
}

/* cl may carry pins (its first pin_count); it is reset afterwards. */
static void expect_refused_with(client_t *cl, size_t pin_count, const tls_test_server_opts_t *o,
                                ap_tls_version_t tls_min, ap_status_t want, const char *words)
{
    char req[8192];
    int hs;

    ap_status_t got = run_case(cl, o, tls_min, pin_count, &hs, req, sizeof req);

    if (got != want) {
        print_message("unexpected: %s\n", ap_client_error(&cl->t.c));
    }
    assert_int_equal(got, want);
    assert_non_null(strstr(ap_client_error(&cl->t.c), words));
    assert_int_not_equal(hs, 0);        /* the server's handshake failed */
    assert_string_equal(req, "");       /* and it received nothing */
    tls_test_client_done(&cl->t);
}

static void expect_refused(const tls_test_server_opts_t *o, ap_tls_version_t tls_min,
                           ap_status_t want, const char *words)
{
    client_t cl;

    memset(&cl, 0, sizeof cl);
    expect_refused_with(&cl, 0, o, tls_min, want, words);
}

static void test_unknown_time_refuses(void **state)
{
    (void)state;
    g_wall_is_real = false;
    g_wall = AP_WALL_TIME_UNKNOWN;
    expect_refused(&k_default_server, 0, AP_ERR_TLS_CERT, "does not know the time");
}

static void test_clock_after_expiry_refuses(void **state)
{
    (void)state;
    /* Mbed TLS's own check uses the host's clock, for which the leaf is
     * valid: only the glue's check against the platform clock refuses. */
    g_wall_is_real = false;
    g_wall = (int64_t)time(NULL) + (int64_t)40 * 365 * 86400;
    expect_refused(&k_default_server, 0, AP_ERR_TLS_CERT, "has expired");
}

static void test_clock_before_validity_refuses(void **state)
{
    (void)state;
    g_wall_is_real = false;
    g_wall = 946684800; /* 2000-01-01 */
    expect_refused(&k_default_server, 0, AP_ERR_TLS_CERT, "not valid yet");
}

static void leaf_pin(ap_spki_pin_t *pin)
{
    mbedtls_x509_crt crt;
    char path[512];

    mbedtls_x509_crt_init(&crt);
    tls_test_path(path, sizeof path, "ecdsa.pem");
    assert_int_equal(mbedtls_x509_crt_parse_file(&crt, path), 0);
    assert_int_equal(mbedtls_sha256(crt.pk_raw.p, crt.pk_raw.len, pin->sha256, 0), 0);
    mbedtls_x509_crt_free(&crt);
}

static void test_pins(void **state)
{
    client_t cl;
    char req[8192];
    int hs;

    (void)state;
    g_wall_is_real = true;

    /* One pin for some other key, one for the leaf's: delivered. */
    memset(&cl, 0, sizeof cl);
    memset(&cl.pins[0], 0xA5, sizeof cl.pins[0]);
    leaf_pin(&cl.pins[1]);
    assert_int_equal(run_case(&cl, &k_default_server, 0, 2, &hs, req, sizeof req), AP_OK);
    assert_int_equal(hs, 0);
    assert_non_null(strstr(req, "POST /glue"));
    tls_test_client_done(&cl.t);

    /* Only the other key's pin: refused, nothing sent. */
    memset(&cl, 0, sizeof cl);
    memset(&cl.pins[0], 0xA5, sizeof cl.pins[0]);
    expect_refused_with(&cl, 1, &k_default_server, 0, AP_ERR_TLS_PIN, "pinned");
}

static void test_tls13_only_client_refuses_a_tls12_server(void **state)
{
    static const tls_test_server_opts_t tls12_only = {0x0303, NULL, NULL, NULL, 0, 0};

    (void)state;
    g_wall_is_real = true;
    /* The client asks for TLS 1.3 at least; the server can only do 1.2 and
     * answers the TLS 1.3-only hello with handshake_failure. */
    expect_refused(&tls12_only, AP_TLS_1_3, AP_ERR_TLS_VERSION, "(TLS 1.3 only; floor TLS 1.2)");
}

static void test_cbc_only_server_is_refused(void **state)
{
    static const int cbc_only[] = {MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, 0};
    static const tls_test_server_opts_t server = {0x0303, cbc_only, NULL, NULL, 0, 0};

    (void)state;
    g_wall_is_real = true;
    /* CBC is not on the allowlist: no shared suite, nothing sent. */
    expect_refused(&server, 0, AP_ERR_TLS, "handshake_failure");
}

static void test_client_certificate_required_tls12(void **state)
{
    static const tls_test_server_opts_t server = {0x0303, NULL, NULL, "", 0, 0};

    (void)state;
    g_wall_is_real = true;
    /* The server asks for a certificate, gets an empty one and ends the
     * handshake: one status, whatever the server's alert or close. */
    expect_refused(&server, 0, AP_ERR_TLS_CLIENT_CERT, "requires a client certificate");
}

static void test_host_matched_by_alertpost(void **state)
{
    static const tls_test_server_opts_t wrong = {0, NULL, "wronghost-chain.pem", NULL, 0, 0};

    (void)state;
    g_wall_is_real = true;
    /* The glue's own name check (SAN only), with the reason in words. */
    expect_refused(&wrong, 0, AP_ERR_TLS_CERT, "is not for localhost: it has no DNS SAN");
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_clock_delivers),
        cmocka_unit_test(test_unknown_time_refuses),
        cmocka_unit_test(test_clock_after_expiry_refuses),
        cmocka_unit_test(test_clock_before_validity_refuses),
        cmocka_unit_test(test_pins),
        cmocka_unit_test(test_tls13_only_client_refuses_a_tls12_server),
        cmocka_unit_test(test_cbc_only_server_is_refused),
        cmocka_unit_test(test_client_certificate_required_tls12),
        cmocka_unit_test(test_host_matched_by_alertpost),
    };

    if (argc != 2) {
        fprintf(stderr, "usage: test_tls_glue PKI_DIR\n");
        return 2;
    }
    tls_test_server_pki(argv[1]);
    (void)signal(SIGPIPE, SIG_IGN); /* the server child may write to a gone client */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
