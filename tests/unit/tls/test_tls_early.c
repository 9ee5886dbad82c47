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

/* The client's transport, recording the TLS record types of each
 * connection's first send: what left in the first write. */
typedef struct first_sends {
    const ap_transport_t *inner;
    int conn;               /* connections so far */
    bool seen;              /* the current connection's first send was recorded */
    uint8_t types[2][8];
    size_t count[2];
} first_sends_t;

static first_sends_t g_first;

static ap_status_t rec_connect(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    (void)ctx;
    g_first.conn++;
    g_first.seen = false;
    return g_first.inner->connect(g_first.inner->ctx, host, port, timeout_ms);
}

static int32_t rec_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    int32_t n = g_first.inner->send(g_first.inner->ctx, buf, len, timeout_ms);
    int i = g_first.conn - 1;
    size_t off = 0;

    (void)ctx;
    if (!g_first.seen && i >= 0 && i < 2) {
        while (n > 0 && off + 5 <= (size_t)n && g_first.count[i] < sizeof g_first.types[i]) {
            g_first.types[i][g_first.count[i]++] = buf[off];
            off += 5 + (((size_t)buf[off + 3] << 8) | buf[off + 4]);
        }
    }
    g_first.seen = true;
    return n;
}

static int32_t rec_recv(void *ctx, uint8_t *buf, size_t size, uint32_t timeout_ms)
{
    (void)ctx;
    return g_first.inner->recv(g_first.inner->ctx, buf, size, timeout_ms);
}

static void rec_close(void *ctx)
{
    (void)ctx;
    g_first.inner->close(g_first.inner->ctx);
}

static const ap_transport_t k_recording = {NULL, rec_connect, rec_send, rec_recv, rec_close,
                                           NULL};


typedef struct two_posts {
    ap_status_t st[2];
    ap_early_data_t early[2];
    bool resumed[2];
    ap_status_t failure;        /* info.failure after the second */
    char error[AP_ERROR_TEXT_SIZE]; /* the error text after the second */
    tls_test_seen_t seen;
} two_posts_t;

/* Two posts from one client, one connection each, to a server of
 * tls_test_server_opts_t early_data server_early; the first is delivered. */
static void run_two(int server_early, bool client_early, bool keyed, uint16_t version,
                    two_posts_t *out)
{
    static const ap_header_t key = {"Idempotency-Key", "6f1c2a90-test"};
    tls_test_server_t s;
    tls_test_client_t cl;
    ap_request_t req;
    ap_response_t resp;
    int i;

    tls_test_two_connections(&s, &cl, version, server_early);
    memset(&g_first, 0, sizeof g_first);
    g_first.inner = &cl.transport;
    cl.cfg.transport = &k_recording;
    cl.cfg.early_data = client_early;
    assert_int_equal(ap_client_init(&cl.c, &cl.cfg), AP_OK);
    for (i = 0; i < 2; i++) {
        memset(&req, 0, sizeof req);
        memset(&resp, 0, sizeof resp);
        req.headers = keyed ? &key : NULL;
        req.header_count = keyed ? 1 : 0;
        out->st[i] = ap_post(&cl.c, &req, &resp);
        if (out->st[i] != AP_OK) {
            print_message("post %d: %s\n", i, ap_client_error(&cl.c));
        }
        out->early[i] = ap_client_info(&cl.c)->early_data;
        out->resumed[i] = ap_client_info(&cl.c)->resumed;
    }
    out->failure = ap_client_info(&cl.c)->failure;
    (void)snprintf(out->error, sizeof out->error, "%s", ap_client_error(&cl.c));
    tls_test_client_done(&cl);
    tls_test_server_finish(&s, &out->seen);
    assert_int_equal(out->st[0], AP_OK);
    assert_int_equal(out->seen.conn[0].handshake, 0);
    assert_int_equal(out->seen.conn[0].posted, 1);
    /* a first, full handshake never offers early data */
    assert_false(out->resumed[0]);
    assert_int_equal(out->seen.conn[0].offered, 0);
    assert_int_equal(out->seen.conn[0].early, 0);
}

/* Both delivered, each alert arriving once. */
static void post_twice(int server_early, bool client_early, bool keyed, uint16_t version,
                       two_posts_t *out)
{
    run_two(server_early, client_early, keyed, version, out);
    assert_int_equal(out->st[1], AP_OK);
    assert_int_equal(out->seen.conn[1].handshake, 0);
    assert_int_equal(out->seen.conn[1].posted, 1);
}

#if AP_TLS_EARLY_DATA_TESTS
static const uint8_t k_hello[] = {22};
static const uint8_t k_hello_early[] = {22, 20, 23};

/* Did connection i's first send hold exactly these records? */
static void expect_first_send(int i, const uint8_t *types, size_t count)
{
    assert_int_equal(g_first.count[i], count);
    assert_memory_equal(g_first.types[i], types, count);
}

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
    /* the full handshake's first write: the ClientHello alone; the resumed
     * one's: ClientHello, ChangeCipherSpec and the early data, in one send */
    expect_first_send(0, k_hello, sizeof k_hello);
    expect_first_send(1, k_hello_early, sizeof k_hello_early);
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
    expect_first_send(1, k_hello_early, sizeof k_hello_early);
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
    expect_first_send(1, k_hello, sizeof k_hello);
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

/* The second of two keyed posts, against a server that misbehaves on its
 * connection (early_data 3 or 4) after the early data left: an unknown
 * outcome, never "not sent", with the cause in info.failure. */
static void expect_unknown_outcome(int server_early, two_posts_t *r)
{
    run_two(server_early, true, true, AP_TLS_1_3, r);
    assert_int_equal(r->st[1], AP_ERR_OUTCOME_UNKNOWN);
    assert_int_not_equal(r->failure, AP_OK);
    assert_non_null(strstr(r->error, "may or may not have arrived"));
    assert_int_equal(r->seen.conn[1].offered, 1);
    assert_int_not_equal(r->seen.conn[1].handshake, 0);
}

/* The server read the alert as early data and processed it, then ended the
 * connection before answering: the outcome is unknown, not "not sent". */
static void test_lost_after_accepted_early_data_is_an_unknown_outcome(void **state)
{
    two_posts_t r;

    (void)state;
    expect_unknown_outcome(3, &r);
    assert_int_equal(r.early[1], AP_EARLY_DATA_ACCEPTED); /* the handshake completed */
    assert_int_equal(r.seen.conn[1].early, 1); /* the server had the alert */
    assert_int_equal(r.seen.conn[1].posted, 1);
}

/* The first flight, early data included, reached the server, which closed
 * without a word: the handshake failed, and whether the server took the
 * alert is unknown to the client, so it says so. */
static void test_handshake_failing_after_early_data_left_is_an_unknown_outcome(void **state)
{
    two_posts_t r;

    (void)state;
    expect_unknown_outcome(4, &r);
    assert_int_equal(r.early[1], AP_EARLY_DATA_UNANSWERED);
    assert_int_equal(r.seen.conn[1].early, 1); /* a protected record in the first flight */
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
        cmocka_unit_test(test_lost_after_accepted_early_data_is_an_unknown_outcome),
        cmocka_unit_test(test_handshake_failing_after_early_data_left_is_an_unknown_outcome),
        cmocka_unit_test(test_tls12_session_no_early_data),
#else
        cmocka_unit_test(test_early_data_not_built),
#endif
        cmocka_unit_test(test_default_config_has_early_data_off),
    };

    tls_test_main_setup(argc, argv, "test_tls_early");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
