/*
 * Session resumption against a real Mbed TLS server that serves two
 * connections with ticket keys (tls_test_harness.c): a client that does not
 * keep connections alive posts twice, and its second handshake resumes the
 * first's session, on TLS 1.2 and (where built) TLS 1.3. The server says
 * per connection whether it accepted the ticket; the client says so in
 * info.resumed. With resume_sessions off, nothing is resumed.
 *
 * usage: test_tls_session_mbedtlsN PKI_DIR
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "alertpost/alertpost.h"

#include "tls_test_harness.h"

#include "mbedtls/ssl.h" /* its configuration: is TLS 1.3 built? */

/* Two posts from one client, one connection each; info after each. */
static void post_twice(uint16_t version, bool resume, bool resumed[2],
                       ap_tls_version_t got[2], tls_test_seen_t *seen)
{
    tls_test_server_t s;
    tls_test_client_t cl;
    ap_request_t req;
    ap_response_t resp;
    int i;

    tls_test_two_connections(&s, &cl, version, 0);
    cl.cfg.resume_sessions = resume;
    assert_int_equal(ap_client_init(&cl.c, &cl.cfg), AP_OK);
    for (i = 0; i < 2; i++) {
        memset(&req, 0, sizeof req);
        memset(&resp, 0, sizeof resp);
        if (ap_post(&cl.c, &req, &resp) != AP_OK) {
            print_message("post %d: %s\n", i, ap_client_error(&cl.c));
            fail();
        }
        assert_int_equal(resp.status_code, 200);
        assert_false(ap_client_info(&cl.c)->reused_connection);
        resumed[i] = ap_client_info(&cl.c)->resumed;
        got[i] = ap_client_info(&cl.c)->tls_version;
    }
    tls_test_client_done(&cl);
    tls_test_server_finish(&s, seen);
    for (i = 0; i < 2; i++) {
        assert_int_equal(seen->conn[i].handshake, 0);
        assert_int_equal(seen->conn[i].posted, 1); /* the request arrived */
    }
}

static void expect_resumed(uint16_t version)
{
    tls_test_seen_t seen;
    bool resumed[2];
    ap_tls_version_t got[2];

    post_twice(version, true, resumed, got, &seen);
    assert_false(resumed[0]);
    assert_int_equal(seen.conn[0].resumed, 0);
    assert_true(resumed[1]);             /* the client resumed ... */
    assert_int_equal(seen.conn[1].resumed, 1); /* ... and the server agrees */
    assert_int_equal(got[0], version);   /* the version as configured, both times */
    assert_int_equal(got[1], version);
}

static void test_tls12_second_connection_resumes(void **state)
{
    (void)state;
    expect_resumed(AP_TLS_1_2);
}

#if defined(MBEDTLS_SSL_PROTO_TLS1_3)
static void test_tls13_second_connection_resumes(void **state)
{
    (void)state;
    expect_resumed(AP_TLS_1_3);
}
#endif

static void test_resumption_off_resumes_nothing(void **state)
{
    tls_test_seen_t seen;
    bool resumed[2];
    ap_tls_version_t got[2];

    (void)state;
    post_twice(ap_tls_highest_built(), false, resumed, got, &seen);
    assert_false(resumed[0]);
    assert_false(resumed[1]);
    assert_int_equal(seen.conn[0].resumed, 0);
    assert_int_equal(seen.conn[1].resumed, 0);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls12_second_connection_resumes),
#if defined(MBEDTLS_SSL_PROTO_TLS1_3) /* 2.28: TLS 1.2 only */
        cmocka_unit_test(test_tls13_second_connection_resumes),
#endif
        cmocka_unit_test(test_resumption_off_resumes_nothing),
    };

    tls_test_main_setup(argc, argv, "test_tls_session");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
