/*
 * TLS 1.3 0-RTT early data against a real Mbed TLS server that serves two
 * connections with ticket keys (tls_test_harness.c): a client that does not
 * keep connections alive posts twice; the second post resumes, and sends
 * its request as early data when the request has an Idempotency-Key and
 * the server's ticket grants early data. The server says per connection
 * whether its ClientHello announced early data, whether the request arrived
 * as early data, and how many requests arrived in all; the client says so
 * in info.early_data. On Mbed TLS 2.28 (no TLS 1.3) early data is not built.
 *
 * usage: test_tls_early_mbedtlsN PKI_DIR
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "alertpost/alertpost.h"

#include "tls_test_harness.h"

#include "mbedtls/ssl.h" /* its configuration: is TLS 1.3 early data built? */

#if defined(MBEDTLS_SSL_EARLY_DATA) && defined(MBEDTLS_SSL_PROTO_TLS1_3)
#define AP_TLS_EARLY_DATA_TESTS 1
#else
#define AP_TLS_EARLY_DATA_TESTS 0
#endif

typedef struct two_posts {
    ap_early_data_t early[2];
    bool resumed[2];
    tls_test_seen_t seen;
} two_posts_t;

/* Two posts from one client, one connection each, each delivered. */
static void post_twice(int server_early, bool client_early, bool keyed, uint16_t version,
                       two_posts_t *out)
{
    static const ap_header_t key = {"Idempotency-Key", "6f1c2a90-test"};
    tls_test_server_opts_t o;
    tls_test_server_t s;
    tls_test_client_t cl;
    ap_request_t req;
    ap_response_t resp;
    int i;

    memset(&o, 0, sizeof o);
    o.max_version = version;
    o.connections = 2;
    o.early_data = server_early;
    memset(&cl, 0, sizeof cl);
    tls_test_server_start(&s, &o);
    tls_test_client_config(&cl, s.port);
    cl.cfg.keep_alive = false;
    cl.cfg.early_data = client_early;
    cl.cfg.tls_max = (ap_tls_version_t)version;
    assert_int_equal(ap_client_init(&cl.c, &cl.cfg), AP_OK);
    for (i = 0; i < 2; i++) {
        memset(&req, 0, sizeof req);
        memset(&resp, 0, sizeof resp);
        req.headers = keyed ? &key : NULL;
        req.header_count = keyed ? 1 : 0;
        if (ap_post(&cl.c, &req, &resp) != AP_OK) {
            print_message("post %d: %s\n", i, ap_client_error(&cl.c));
            fail();
        }
        assert_int_equal(resp.status_code, 200);
        out->early[i] = ap_client_info(&cl.c)->early_data;
        out->resumed[i] = ap_client_info(&cl.c)->resumed;
    }
    tls_test_client_done(&cl);
    tls_test_server_finish(&s, &out->seen);
    for (i = 0; i < 2; i++) {
        assert_int_equal(out->seen.conn[i].handshake, 0);
        assert_int_equal(out->seen.conn[i].posted, 1); /* each alert arrived once */
    }
    /* a first, full handshake never offers early data */
    assert_false(out->resumed[0]);
    assert_int_equal(out->seen.conn[0].offered, 0);
    assert_int_equal(out->seen.conn[0].early, 0);
}

#if AP_TLS_EARLY_DATA_TESTS
static void test_keyed_resumed_post_goes_as_early_data(void **state)
{
    two_posts_t r;

    (void)state;
    post_twice(1, true, true, AP_TLS_1_3, &r);
    assert_int_equal(r.early[0], AP_EARLY_DATA_NO_TICKET);
    assert_true(r.resumed[1]);
    assert_int_equal(r.seen.conn[1].resumed, 1);
    assert_int_equal(r.seen.conn[1].offered, 1);
    assert_int_equal(r.seen.conn[1].early, 1); /* the request came in the early data */
    assert_int_equal(r.early[1], AP_EARLY_DATA_ACCEPTED);
}

static void test_refused_early_data_is_sent_once_after_the_handshake(void **state)
{
    two_posts_t r;

    (void)state;
    post_twice(2, true, true, AP_TLS_1_3, &r);
    assert_true(r.resumed[1]);
    assert_int_equal(r.seen.conn[1].resumed, 1);
    assert_int_equal(r.seen.conn[1].offered, 1);
    assert_int_equal(r.seen.conn[1].early, 0); /* discarded, then sent in 1-RTT data */
    assert_int_equal(r.early[1], AP_EARLY_DATA_REJECTED);
}

static void test_no_key_no_early_data(void **state)
{
    two_posts_t r;

    (void)state;
    post_twice(1, true, false, AP_TLS_1_3, &r);
    assert_true(r.resumed[1]);
    assert_int_equal(r.seen.conn[1].offered, 0); /* not even announced */
    assert_int_equal(r.seen.conn[1].early, 0);
    assert_int_equal(r.early[1], AP_EARLY_DATA_NO_KEY);
}

static void test_early_data_off_by_default(void **state)
{
    two_posts_t r;

    (void)state;
    post_twice(1, false, true, AP_TLS_1_3, &r);
    assert_true(r.resumed[1]);
    assert_int_equal(r.seen.conn[1].offered, 0);
    assert_int_equal(r.early[1], AP_EARLY_DATA_OFF);
}

static void test_tls12_session_no_early_data(void **state)
{
    two_posts_t r;

    (void)state;
    post_twice(1, true, true, AP_TLS_1_2, &r);
    assert_true(r.resumed[1]);
    assert_int_equal(r.seen.conn[1].offered, 0);
    assert_int_equal(r.early[1], AP_EARLY_DATA_NO_TICKET);
}
#else
static void test_early_data_not_built(void **state)
{
    two_posts_t r;

    (void)state;
    post_twice(0, true, true, AP_TLS_1_2, &r);
    assert_int_equal(r.early[0], AP_EARLY_DATA_NOT_BUILT);
    assert_int_equal(r.early[1], AP_EARLY_DATA_NOT_BUILT);
    assert_int_equal(r.seen.conn[1].offered, 0);
}
#endif

static void test_default_config_has_early_data_off(void **state)
{
    ap_client_config_t cfg;

    (void)state;
    ap_client_config_defaults(&cfg);
    assert_false(cfg.early_data);
    assert_string_equal(ap_early_data_str(AP_EARLY_DATA_ACCEPTED), "accepted");
    assert_string_equal(ap_early_data_str(AP_EARLY_DATA_REJECTED), "rejected by the server");
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
#if AP_TLS_EARLY_DATA_TESTS
        cmocka_unit_test(test_keyed_resumed_post_goes_as_early_data),
        cmocka_unit_test(test_refused_early_data_is_sent_once_after_the_handshake),
        cmocka_unit_test(test_no_key_no_early_data),
        cmocka_unit_test(test_early_data_off_by_default),
        cmocka_unit_test(test_tls12_session_no_early_data),
#else
        cmocka_unit_test(test_early_data_not_built),
#endif
        cmocka_unit_test(test_default_config_has_early_data_off),
    };

    if (argc != 2) {
        fprintf(stderr, "usage: test_tls_early PKI_DIR\n");
        return 2;
    }
    tls_test_server_pki(argv[1]);
    (void)signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
