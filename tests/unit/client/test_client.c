/*
 * The client loop over a scripted transport: what it sends, byte for byte,
 * and how it treats every way a response can arrive, stall or break.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "alertpost/alertpost.h"
#include "fake_transport.h"

extern ap_status_t plain_tls_handshake_result;
extern unsigned plain_tls_handshakes;
extern unsigned plain_tls_notifies;
extern uint32_t plain_tls_handshake_budget;
extern bool plain_tls_take_early;
extern unsigned plain_tls_early_sent;

static const char k_body[] = "{\"device\":\"d1\",\"seq\":7}";
static const char k_expected_request[] =
    "POST /v1/alerts?x=1 HTTP/1.1\r\n"
    "Host: alerts.example:8443\r\n"
    "User-Agent: " AP_USER_AGENT "\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 23\r\n"
    "\r\n"
    "{\"device\":\"d1\",\"seq\":7}";
static const char k_ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

typedef struct fixture {
    fake_net_t net;
    ap_transport_t transport;
    ap_platform_t platform;
    ap_client_config_t cfg;
    ap_client_t client;
    uint8_t work[512];
    uint8_t keep[64];
    ap_response_t resp;
} fixture_t;

static fixture_t fx;

static void setup_with(const fake_event_t *events, size_t count)
{
    memset(&fx, 0, sizeof(fx));
    plain_tls_handshake_result = AP_OK;
    plain_tls_handshakes = 0;
    plain_tls_notifies = 0;
    plain_tls_take_early = false;
    plain_tls_early_sent = 0;
    fake_net_init(&fx.net, events, count);
    fake_transport_bind(&fx.transport, &fx.net);
    fake_platform_bind(&fx.platform, &fx.net);
    fake_client_config(&fx.cfg, "https://Alerts.Example:8443/v1/alerts?x=1#frag", &fx.transport, &fx.platform, fx.work,
                       sizeof(fx.work));
    fx.resp.body = fx.keep;
    fx.resp.body_size = sizeof(fx.keep);
}

static ap_status_t post(void)
{
    ap_request_t req;

    memset(&req, 0, sizeof(req));
    req.body = (const uint8_t *)k_body;
    req.body_len = strlen(k_body);
    return ap_post(&fx.client, &req, &fx.resp);
}

#define SETUP(ev) setup_with((ev), sizeof(ev) / sizeof((ev)[0]))

/* The request went out and no complete answer came: the outcome is unknown,
 * the cause is kept, and the request was sent exactly `times` times. */
static void assert_unknown(ap_status_t st, ap_status_t cause, size_t times)
{
    assert_int_equal(st, AP_ERR_OUTCOME_UNKNOWN);
    assert_int_equal(ap_client_info(&fx.client)->failure, cause);
    assert_non_null(strstr(ap_client_error(&fx.client), "may or may not have arrived"));
    assert_int_equal(fx.net.sent_len, times * strlen(k_expected_request));
}

static void test_delivers_and_sends_exact_bytes(void **state)
{
    static const fake_event_t ev[] = {{FAKE_BYTES, k_ok, false, false}};

    (void)state;
    SETUP(ev);
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
    assert_int_equal(post(), AP_OK);
    assert_int_equal(fx.resp.status_code, 200);
    assert_int_equal(fx.resp.body_len, 2);
    assert_memory_equal(fx.resp.body, "ok", 2);
    assert_int_equal(fx.net.sent_len, strlen(k_expected_request));
    assert_memory_equal(fx.net.sent, k_expected_request, fx.net.sent_len);
    assert_string_equal(ap_client_error(&fx.client), "");
    ap_client_free(&fx.client);
    assert_int_equal(plain_tls_notifies, 1); /* close_notify on the way out */
    assert_int_equal(fx.net.closes, 1);
}

static void test_short_writes_and_one_byte_reads(void **state)
{
    static const fake_event_t ev[] = {{FAKE_BYTES, k_ok, false, false}};

    (void)state;
    SETUP(ev);
    fx.net.send_max = 3;
    fx.net.chunk = 1;
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
    assert_int_equal(post(), AP_OK);
    assert_memory_equal(fx.net.sent, k_expected_request, strlen(k_expected_request));
    assert_int_equal(fx.net.sent_len, strlen(k_expected_request));
    assert_memory_equal(fx.resp.body, "ok", 2);
    ap_client_free(&fx.client);
}

static void test_response_split_at_every_point(void **state)
{
    static const char resp[] =
        "HTTP/1.1 100 Continue\r\n\r\n"
        "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
    size_t cut;

    (void)state;
    for (cut = 1; cut < sizeof(resp) - 1; cut++) {
        static char first[sizeof(resp)];
        static char second[sizeof(resp)];
        fake_event_t ev[2];

        memcpy(first, resp, cut);
        first[cut] = '\0';
        strcpy(second, resp + cut);
        ev[0] = (fake_event_t){FAKE_BYTES, first, false, false};
        ev[1] = (fake_event_t){FAKE_BYTES, second, false, false};
        setup_with(ev, 2);
        assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
        assert_int_equal(post(), AP_OK);
        assert_int_equal(fx.resp.status_code, 201);
        assert_int_equal(fx.resp.body_len, 5);
        assert_memory_equal(fx.resp.body, "abcde", 5);
        ap_client_free(&fx.client);
    }
}

static void test_non_2xx_is_not_delivered(void **state)
{
    static const fake_event_t ev[] = {
        {FAKE_BYTES, "HTTP/1.1 503 Busy\r\nContent-Length: 4\r\n\r\nbusy", false, false}};

    (void)state;
    SETUP(ev);
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
    assert_int_equal(post(), AP_ERR_HTTP_STATUS);
    assert_int_equal(fx.resp.status_code, 503);
    assert_memory_equal(fx.resp.body, "busy", 4);
    assert_non_null(strstr(ap_client_error(&fx.client), "503"));
    assert_non_null(strstr(ap_client_error(&fx.client), "alerts.example"));
    ap_client_free(&fx.client);
}

/* Retry-After reaches the caller with the status, and a response without one
 * leaves nothing of an earlier value. */
static void test_retry_after_reaches_the_response(void **state)
{
    static const fake_event_t busy[] = {
        {FAKE_BYTES, "HTTP/1.1 503 Busy\r\nRetry-After: 120\r\nContent-Length: 0\r\n\r\n",
         false, false}};
    static const fake_event_t ok[] = {{FAKE_BYTES, k_ok, false, false}};
    static const fake_event_t gone[] = {{FAKE_FIN, NULL, false, false}};

    (void)state;
    SETUP(busy);
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
    assert_int_equal(post(), AP_ERR_HTTP_STATUS);
    assert_int_equal(fx.resp.status_code, 503);
    assert_string_equal(fx.resp.retry_after, "120");
    ap_client_free(&fx.client);

    SETUP(ok);
    (void)strcpy(fx.resp.retry_after, "stale");
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
    assert_int_equal(post(), AP_OK);
    assert_string_equal(fx.resp.retry_after, "");
    ap_client_free(&fx.client);

    /* No response head at all: still nothing stale. */
    SETUP(gone);
    (void)strcpy(fx.resp.retry_after, "stale");
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
    assert_int_not_equal(post(), AP_OK);
    assert_string_equal(fx.resp.retry_after, "");
    ap_client_free(&fx.client);
}

static void test_truncated_by_fin_is_not_delivered(void **state)
{
    static const fake_event_t ev[] = {
        {FAKE_BYTES, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", false, false},
        {FAKE_FIN, NULL, false, false}};

    (void)state;
    SETUP(ev);
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
    assert_unknown(post(), AP_ERR_TRUNCATED, 1);
    assert_non_null(strstr(ap_client_error(&fx.client), "cut short"));
    ap_client_free(&fx.client);
}

static void test_truncated_even_with_close_notify(void **state)
{
    static const fake_event_t ev[] = {
        {FAKE_BYTES, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", false, false},
        {FAKE_CLOSE_NOTIFY, NULL, false, false}};

    (void)state;
    SETUP(ev);
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
    assert_unknown(post(), AP_ERR_TRUNCATED, 1);
    ap_client_free(&fx.client);
}

static void test_close_delimited_needs_close_notify(void **state)
{
    static const fake_event_t clean[] = {
        {FAKE_BYTES, "HTTP/1.1 200 OK\r\n\r\nall of it", false, false},
        {FAKE_CLOSE_NOTIFY, NULL, false, false}};
    static const fake_event_t bare[] = {
        {FAKE_BYTES, "HTTP/1.1 200 OK\r\n\r\nall of it", false, false},
        {FAKE_FIN, NULL, false, false}};

    (void)state;
    SETUP(clean);
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
    assert_int_equal(post(), AP_OK);
    assert_memory_equal(fx.resp.body, "all of it", 9);
    ap_client_free(&fx.client);

    SETUP(bare);
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
    assert_unknown(post(), AP_ERR_TRUNCATED, 1);
    ap_client_free(&fx.client);
}

static void test_reset_mid_response(void **state)
{
    static const fake_event_t ev[] = {
        {FAKE_BYTES, "HTTP/1.1 200 OK\r\nContent-", false, false}, {FAKE_RESET, NULL, false, false}};

    (void)state;
    SETUP(ev);
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
    assert_unknown(post(), AP_ERR_IO, 1);
    assert_int_equal(fx.net.open, false);
    ap_client_free(&fx.client);
}

static void test_garbage_response(void **state)
{
    static const fake_event_t ev[] = {{FAKE_BYTES, "SSH-2.0-OpenSSH_9.2\r\n", false, false}};

    (void)state;
    SETUP(ev);
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
    assert_unknown(post(), AP_ERR_HTTP_RESPONSE, 1);
    assert_non_null(strstr(ap_client_error(&fx.client), "invalid HTTP/1.1 response"));
    ap_client_free(&fx.client);
}

static void test_step_timeout_and_deadline(void **state)
{
    static const fake_event_t ev[] = {{FAKE_TIMEOUT, NULL, false, false}};
    uint32_t start;

    (void)state;
    SETUP(ev);
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
    start = fx.net.clock_ms;
    assert_unknown(post(), AP_ERR_TIMEOUT, 1);
    assert_int_equal(fx.net.last_recv_timeout, 1000);
    /* one step timeout, well inside the deadline, ends the post */
    assert_true((uint32_t)(fx.net.clock_ms - start) >= 1000);
    assert_true((uint32_t)(fx.net.clock_ms - start) < 5000);
    ap_client_free(&fx.client);
}

static void test_deadline_bounds_a_trickling_server(void **state)
{
    static const fake_event_t ev[] = {
        {FAKE_BYTES, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", false, false}};
    uint32_t start;

    (void)state;
    SETUP(ev);
    fx.net.chunk = 1;
    fx.net.tick_per_call = 100; /* 100 ms a byte: the head alone takes > 3 s */
    fx.cfg.deadline_ms = 3000;
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
    start = fx.net.clock_ms;
    assert_unknown(post(), AP_ERR_TIMEOUT, 1);
    assert_true((uint32_t)(fx.net.clock_ms - start) <= 3000 + 1000);
    ap_client_free(&fx.client);
}

static void test_keep_alive_reuses_the_connection(void **state)
{
    static const fake_event_t ev[] = {{FAKE_BYTES, k_ok, false, false}, {FAKE_BYTES, k_ok, false, false}};

    (void)state;
    SETUP(ev);
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
    assert_int_equal(post(), AP_OK);
    assert_false(ap_client_info(&fx.client)->reused_connection);
    assert_int_equal(post(), AP_OK);
    assert_true(ap_client_info(&fx.client)->reused_connection);
    assert_int_equal(fx.net.connects, 1);
    assert_int_equal(plain_tls_handshakes, 1);
    assert_int_equal(fx.net.sent_len, 2 * strlen(k_expected_request));
    ap_client_free(&fx.client);
}

static void test_connection_close_is_honoured(void **state)
{
    static const fake_event_t ev[] = {
        {FAKE_BYTES, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", false, false},
        {FAKE_BYTES, k_ok, true, false}};

    (void)state;
    SETUP(ev);
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
    assert_int_equal(post(), AP_OK);
    assert_int_equal(fx.net.open, false);
    assert_int_equal(post(), AP_OK);
    assert_int_equal(fx.net.connects, 2);
    ap_client_free(&fx.client);
}

static void test_closed_idle_connection_is_replaced_before_sending(void **state)
{
    static const fake_event_t ev[] = {
        {FAKE_BYTES, k_ok, false, false},
        {FAKE_FIN, NULL, false, true},   /* the server dropped the idle connection */
        {FAKE_BYTES, k_ok, true, false}}; /* the new connection answers */

    (void)state;
    SETUP(ev);
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
    assert_int_equal(post(), AP_OK);
    assert_int_equal(post(), AP_OK);
    assert_int_equal(fx.net.connects, 2);
    /* the poll saw the close before the request: it went out once per post,
     * and nothing of post 2 was sent on the dead connection */
    assert_int_equal(fx.net.sent_len, 2 * strlen(k_expected_request));
    assert_int_equal(fx.net.sent_at_close, strlen(k_expected_request));
    assert_true(fx.net.polls >= 1);
    assert_false(ap_client_info(&fx.client)->reused_connection);
    assert_int_equal(ap_client_info(&fx.client)->stale_connections, 1);
    ap_client_free(&fx.client);
}

/* 0-RTT seen from the loop (the stand-in accepts what it is offered): a
 * keyed post with early_data on. */
static ap_status_t post_keyed(void)
{
    static const ap_header_t key = {"Idempotency-Key", "k-1"};
    ap_request_t req;

    memset(&req, 0, sizeof(req));
    req.headers = &key;
    req.header_count = 1;
    req.body = (const uint8_t *)k_body;
    req.body_len = strlen(k_body);
    return ap_post(&fx.client, &req, &fx.resp);
}

/* A client with early_data on or off, over a server that takes what it is
 * offered as early data; initialised. */
static void setup_early(const fake_event_t *events, size_t count, bool early_data)
{
    setup_with(events, count);
    fx.cfg.early_data = early_data;
    plain_tls_take_early = true;
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
}

#define SETUP_EARLY(ev, on) setup_early((ev), sizeof(ev) / sizeof((ev)[0]), (on))

/* How many requests the server got: "POST " at the start of a line. */
static unsigned requests_sent(void)
{
    unsigned n = 0;
    size_t i;

    for (i = 0; i + 5 <= fx.net.sent_len; i++) {
        n += (i == 0 || fx.net.sent[i - 1] == '\n' || fx.net.sent[i - 1] == '}') &&
             memcmp(fx.net.sent + i, "POST ", 5) == 0;
    }
    return n;
}

static void test_early_data_is_not_written_again(void **state)
{
    static const fake_event_t ev[] = {{FAKE_BYTES, k_ok, false, false}};

    (void)state;
    SETUP_EARLY(ev, true);
    assert_int_equal(post_keyed(), AP_OK);
    assert_int_equal(plain_tls_early_sent, 1);
    assert_int_equal(requests_sent(), 1); /* in the early data, and only there */
    assert_int_equal(ap_client_info(&fx.client)->early_data, AP_EARLY_DATA_ACCEPTED);
    ap_client_free(&fx.client);
}

static void test_no_key_is_never_offered(void **state)
{
    static const fake_event_t ev[] = {{FAKE_BYTES, k_ok, false, false}};

    (void)state;
    SETUP_EARLY(ev, true);
    assert_int_equal(post(), AP_OK);
    assert_int_equal(plain_tls_early_sent, 0);
    assert_int_equal(ap_client_info(&fx.client)->early_data, AP_EARLY_DATA_NO_KEY);
    assert_int_equal(fx.net.sent_len, strlen(k_expected_request));
    ap_client_free(&fx.client);
}

static void test_too_early_is_sent_again_without_early_data(void **state)
{
    static const fake_event_t ev[] = {
        {FAKE_BYTES, "HTTP/1.1 425 Too Early\r\nContent-Length: 0\r\n\r\n", false, false},
        {FAKE_BYTES, k_ok, true, false}};

    (void)state;
    SETUP_EARLY(ev, true);
    assert_int_equal(post_keyed(), AP_OK);
    assert_int_equal(fx.net.connects, 2);
    assert_int_equal(plain_tls_early_sent, 1); /* the retry offered none */
    assert_int_equal(requests_sent(), 2);
    assert_int_equal(ap_client_info(&fx.client)->early_data, AP_EARLY_DATA_TOO_EARLY);
    assert_int_equal(ap_client_info(&fx.client)->stale_connections, 1);
    ap_client_free(&fx.client);
}

static void test_too_early_without_early_data_is_an_answer(void **state)
{
    static const fake_event_t ev[] = {
        {FAKE_BYTES, "HTTP/1.1 425 Too Early\r\nContent-Length: 0\r\n\r\n", false, false},
        {FAKE_BYTES, k_ok, true, false}};

    (void)state;
    SETUP_EARLY(ev, false);
    assert_int_equal(post_keyed(), AP_ERR_HTTP_STATUS); /* early_data off: not retried */
    assert_int_equal(fx.resp.status_code, 425);
    assert_int_equal(fx.net.connects, 1);
    assert_int_equal(requests_sent(), 1);
    ap_client_free(&fx.client);
}

static void test_idle_408_is_not_read_as_the_answer(void **state)
{
    static const fake_event_t ev[] = {
        {FAKE_BYTES, k_ok, false, false},
        {FAKE_BYTES, "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
                     "Content-Length: 0\r\n\r\n", false, true}, /* sent while idle */
        {FAKE_FIN, NULL, false, true},
        {FAKE_BYTES, k_ok, true, false}};

    (void)state;
    SETUP(ev);
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
    assert_int_equal(post(), AP_OK);
    assert_int_equal(post(), AP_OK);
    assert_int_equal(fx.resp.status_code, 200);
    assert_int_equal(fx.net.connects, 2);
    assert_int_equal(fx.net.sent_len, 2 * strlen(k_expected_request));
    assert_int_equal(fx.net.sent_at_close, strlen(k_expected_request));
    assert_int_equal(ap_client_info(&fx.client)->stale_connections, 1);
    ap_client_free(&fx.client);
}

static void test_408_answer_on_a_reused_connection_is_retried_once(void **state)
{
    static const fake_event_t ev[] = {
        {FAKE_BYTES, k_ok, false, false},
        /* arrives only after the request: the server says it did not process it */
        {FAKE_BYTES, "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n", false, false},
        {FAKE_BYTES, k_ok, true, false}};

    (void)state;
    SETUP(ev);
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
    assert_int_equal(post(), AP_OK);
    assert_int_equal(post(), AP_OK);
    assert_int_equal(fx.net.connects, 2);
    assert_int_equal(fx.net.sent_len, 3 * strlen(k_expected_request));
    assert_int_equal(ap_client_info(&fx.client)->stale_connections, 1);
    ap_client_free(&fx.client);
}

static void test_408_on_a_fresh_connection_is_an_answer(void **state)
{
    static const fake_event_t ev[] = {
        {FAKE_BYTES, "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n", false, false},
        {FAKE_BYTES, k_ok, true, false}};

    (void)state;
    SETUP(ev);
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
    assert_int_equal(post(), AP_ERR_HTTP_STATUS);
    assert_int_equal(fx.resp.status_code, 408);
    assert_int_equal(fx.net.connects, 1);
    ap_client_free(&fx.client);
}

static void test_close_after_request_is_unknown_never_resent(void **state)
{
    static const fake_event_t ev[] = {
        {FAKE_BYTES, k_ok, false, false},
        {FAKE_FIN, NULL, false, false},   /* read the request, then closed unanswered */
        {FAKE_BYTES, k_ok, true, false}};

    (void)state;
    SETUP(ev);
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
    assert_int_equal(post(), AP_OK);
    assert_unknown(post(), AP_ERR_CLOSED, 2);
    assert_int_equal(fx.net.connects, 1);
    assert_true(ap_client_info(&fx.client)->reused_connection);
    assert_non_null(strstr(ap_client_error(&fx.client), "without answering"));
    ap_client_free(&fx.client);
}

static void test_server_close_notify_is_read_before_closing(void **state)
{
    static const fake_event_t ev[] = {
        {FAKE_BYTES, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", false, false},
        {FAKE_CLOSE_NOTIFY, NULL, false, false}};

    (void)state;
    SETUP(ev);
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
    assert_int_equal(post(), AP_OK);
    assert_string_equal(ap_client_error(&fx.client), "");
    /* the close was collected by a short read, then ours sent */
    assert_true(fx.net.last_recv_timeout > 0 && fx.net.last_recv_timeout <= AP_CLOSE_LINGER_MS);
    assert_true(fx.net.last_close_clean);
    assert_int_equal(plain_tls_notifies, 1);
    assert_int_equal(fx.net.open, false);
    ap_client_free(&fx.client);
}

static void test_client_close_waits_briefly_for_the_server(void **state)
{
    static const fake_event_t ev[] = {
        {FAKE_BYTES, k_ok, false, false}, {FAKE_CLOSE_NOTIFY, NULL, false, false}};

    (void)state;
    SETUP(ev);
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
    assert_int_equal(post(), AP_OK);
    assert_true(fx.net.open);
    ap_client_close(&fx.client);
    assert_int_equal(plain_tls_notifies, 1);
    assert_true(fx.net.last_close_clean); /* the server's close_notify was read */
    assert_true(fx.net.last_recv_timeout <= AP_CLOSE_LINGER_MS);
    assert_false(fx.net.open);
    ap_client_free(&fx.client);
}

static void test_no_retry_once_the_response_began(void **state)
{
    static const fake_event_t ev[] = {
        {FAKE_BYTES, k_ok, false, false},
        {FAKE_BYTES, "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab", false, false},
        {FAKE_FIN, NULL, false, false},
        {FAKE_BYTES, k_ok, true, false}};

    (void)state;
    SETUP(ev);
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
    assert_int_equal(post(), AP_OK);
    assert_unknown(post(), AP_ERR_TRUNCATED, 2);
    assert_int_equal(fx.net.connects, 1);
    ap_client_free(&fx.client);
}

static void test_no_retry_on_a_fresh_connection(void **state)
{
    static const fake_event_t ev[] = {{FAKE_FIN, NULL, false, false}, {FAKE_BYTES, k_ok, true, false}};

    (void)state;
    SETUP(ev);
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
    assert_unknown(post(), AP_ERR_CLOSED, 1);
    assert_int_equal(fx.net.connects, 1);
    assert_non_null(strstr(ap_client_error(&fx.client), "without answering"));
    ap_client_free(&fx.client);
}

static void test_a_failed_reconnect_reports_no_stale_tls_info(void **state)
{
    static const fake_event_t ev[] = {
        {FAKE_BYTES, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", false, false}};

    (void)state;
    SETUP(ev);
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
    assert_int_equal(post(), AP_OK);
    assert_int_equal(ap_client_info(&fx.client)->tls_version, AP_TLS_1_3);
    fx.net.connect_result = AP_ERR_CONNECT;
    assert_int_equal(post(), AP_ERR_CONNECT);
    assert_int_equal(ap_client_info(&fx.client)->tls_version, 0);
    assert_string_equal(ap_client_info(&fx.client)->ciphersuite, "");
    ap_client_free(&fx.client);
}

static void test_connect_failures_are_named(void **state)
{
    static const fake_event_t ev[] = {{FAKE_BYTES, k_ok, false, false}};
    static const ap_status_t results[] = {AP_ERR_DNS, AP_ERR_CONNECT, AP_ERR_TIMEOUT};
    size_t i;

    (void)state;
    for (i = 0; i < 3; i++) {
        SETUP(ev);
        fx.net.connect_result = results[i];
        assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
        assert_int_equal(post(), results[i]);
        assert_int_equal(fx.net.sent_len, 0);
        assert_non_null(strstr(ap_client_error(&fx.client), "alerts.example"));
        assert_int_equal(plain_tls_handshakes, 0);
        ap_client_free(&fx.client);
    }
}

static void test_handshake_refusal_sends_nothing(void **state)
{
    static const fake_event_t ev[] = {{FAKE_BYTES, k_ok, false, false}};

    (void)state;
    SETUP(ev);
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
    plain_tls_handshake_result = AP_ERR_TLS_VERSION;
    assert_int_equal(post(), AP_ERR_TLS_VERSION);
    assert_int_equal(fx.net.sent_len, 0);
    assert_int_equal(fx.net.open, false);
    ap_client_free(&fx.client);
}

static void test_send_failure(void **state)
{
    static const fake_event_t ev[] = {{FAKE_BYTES, k_ok, false, false}};

    (void)state;
    SETUP(ev);
    fx.net.send_fail = AP_ERR_IO;
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
    assert_int_equal(post(), AP_ERR_IO); /* nothing left: known not delivered */
    assert_int_equal(ap_client_info(&fx.client)->failure, AP_OK);
    assert_non_null(strstr(ap_client_error(&fx.client), "before any byte"));
    ap_client_free(&fx.client);
}

static void test_init_refuses_what_policy_forbids(void **state)
{
    static const fake_event_t ev[] = {{FAKE_BYTES, k_ok, false, false}};

    (void)state;
    SETUP(ev);
    fx.cfg.tls_min = AP_TLS_1_0;
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_ERR_BAD_ARG);
    assert_non_null(strstr(ap_client_error(&fx.client), "floor is TLS 1.2"));

    SETUP(ev);
    fx.cfg.tls_max = AP_TLS_1_1;
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_ERR_BAD_ARG);

    SETUP(ev);
    fx.cfg.url = "http://alerts.example/";
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_ERR_URL);

    SETUP(ev);
    fx.cfg.ca_pem = NULL;
    fx.cfg.ca_pem_len = 0;
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_ERR_TLS_SETUP);
    assert_non_null(strstr(ap_client_error(&fx.client), "cannot be switched off"));

    SETUP(ev);
    fx.platform.entropy = NULL;
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_ERR_ENTROPY);

    SETUP(ev);
    fx.cfg.work_buf_size = 16;
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_ERR_BAD_ARG);

    SETUP(ev);
    fx.cfg.pin_count = AP_MAX_PINS + 1;
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_ERR_TLS_SETUP);
    assert_int_equal(fx.net.connects, 0);
}

static void test_header_injection_is_refused(void **state)
{
    static const fake_event_t ev[] = {{FAKE_BYTES, k_ok, false, false}};
    static const ap_header_t evil[] = {{"X-Device", "d1\r\nX-Injected: 1"}};
    ap_request_t req;

    (void)state;
    SETUP(ev);
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
    memset(&req, 0, sizeof(req));
    req.headers = evil;
    req.header_count = 1;
    assert_int_equal(ap_post(&fx.client, &req, &fx.resp), AP_ERR_BAD_ARG);
    assert_int_equal(fx.net.sent_len, 0);
    ap_client_free(&fx.client);
}

typedef struct captured {
    char request[1024];
    size_t request_len;
    char response[1024];
    size_t response_len;
    char body[256];
    size_t body_len;
} captured_t;

static void capture(char *dst, size_t *len, size_t size, const uint8_t *data, size_t n)
{
    assert_true(*len + n <= size);
    memcpy(dst + *len, data, n);
    *len += n;
}

static void on_trace(void *ctx, ap_trace_kind_t kind, const uint8_t *data, size_t len)
{
    captured_t *cap = ctx;

    if (kind == AP_TRACE_REQUEST_HEAD) {
        capture(cap->request, &cap->request_len, sizeof(cap->request), data, len);
    } else {
        assert_int_equal(kind, AP_TRACE_RESPONSE_HEAD);
        capture(cap->response, &cap->response_len, sizeof(cap->response), data, len);
    }
}

static void on_body(void *ctx, const uint8_t *data, size_t len)
{
    captured_t *cap = ctx;

    capture(cap->body, &cap->body_len, sizeof(cap->body), data, len);
}

static void test_trace_and_streamed_body(void **state)
{
    static const char head[] = "HTTP/1.1 100 Continue\r\n\r\n"
                               "HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n";
    static const char body[] = "0123456789abcdefghijklmnopqrstuvwxyzABCD";
    static char all[sizeof(head) + sizeof(body)];
    static captured_t cap;
    fake_event_t ev[1];
    size_t chunk;

    (void)state;
    strcpy(all, head);
    strcat(all, body);
    ev[0] = (fake_event_t){FAKE_BYTES, all, false, false};
    for (chunk = 1; chunk <= 64; chunk += 7) {
        memset(&cap, 0, sizeof(cap));
        setup_with(ev, 1);
        fx.net.chunk = chunk;
        fx.cfg.trace = on_trace;
        fx.cfg.trace_ctx = &cap;
        fx.resp.on_body = on_body;
        fx.resp.on_body_ctx = &cap;
        fx.resp.body_size = 8; /* keeps 8; the hook sees all 40 */
        assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
        assert_int_equal(post(), AP_OK);
        assert_int_equal(cap.request_len, strlen(k_expected_request) - strlen(k_body));
        assert_memory_equal(cap.request, k_expected_request, cap.request_len);
        assert_int_equal(cap.response_len, strlen(head));
        assert_memory_equal(cap.response, head, cap.response_len);
        assert_int_equal(cap.body_len, 40);
        assert_memory_equal(cap.body, body, 40);
        assert_int_equal(fx.resp.body_len, 8);
        ap_client_free(&fx.client);
    }
}

/* The longest texts, with a host of AP_MAX_HOST_LEN characters, arrive whole. */
static void test_longest_errors_are_whole(void **state)
{
    static const fake_event_t cut[] = {
        {FAKE_BYTES, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", false, false},
        {FAKE_FIN, NULL, false, false}};
    static char url[AP_MAX_HOST_LEN + 32];
    char host[AP_MAX_HOST_LEN + 1];
    size_t i;
    const char *err;

    (void)state;
    for (i = 0; i < AP_MAX_HOST_LEN; i++) {
        host[i] = (i % 50 == 49) ? '.' : 'h';
    }
    host[AP_MAX_HOST_LEN] = '\0';
    (void)snprintf(url, sizeof(url), "https://%s:8443/a", host);

    SETUP(cut);
    fx.cfg.url = url;
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
    assert_int_equal(post(), AP_ERR_OUTCOME_UNKNOWN);
    err = ap_client_error(&fx.client);
    assert_non_null(strstr(err, host));
    assert_true(strlen(err) > strlen("and it was not re-sent"));
    assert_string_equal(err + strlen(err) - strlen("and it was not re-sent"),
                        "and it was not re-sent");
    ap_client_free(&fx.client);

    SETUP(cut);
    fx.cfg.url = url;
    fx.net.connect_result = AP_ERR_CONNECT;
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
    assert_int_equal(post(), AP_ERR_CONNECT);
    err = ap_client_error(&fx.client);
    assert_string_equal(err + strlen(err) - strlen("Is the server up?"), "Is the server up?");
    ap_client_free(&fx.client);
}

static void test_connect_timeout_bounds_the_handshake_too(void **state)
{
    static const fake_event_t ev[] = {{FAKE_BYTES, k_ok, false, false}};

    (void)state;
    SETUP(ev);
    fx.cfg.connect_timeout_ms = 1500;
    fx.cfg.io_timeout_ms = 4000;
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
    assert_int_equal(post(), AP_OK);
    assert_true(plain_tls_handshake_budget <= 1500);
    assert_true(plain_tls_handshake_budget > 0);
    /* the request and response steps get the I/O timeout again */
    assert_int_equal(fx.net.last_recv_timeout, 4000);
    ap_client_free(&fx.client);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delivers_and_sends_exact_bytes),
        cmocka_unit_test(test_short_writes_and_one_byte_reads),
        cmocka_unit_test(test_response_split_at_every_point),
        cmocka_unit_test(test_non_2xx_is_not_delivered),
        cmocka_unit_test(test_retry_after_reaches_the_response),
        cmocka_unit_test(test_truncated_by_fin_is_not_delivered),
        cmocka_unit_test(test_truncated_even_with_close_notify),
        cmocka_unit_test(test_close_delimited_needs_close_notify),
        cmocka_unit_test(test_reset_mid_response),
        cmocka_unit_test(test_garbage_response),
        cmocka_unit_test(test_step_timeout_and_deadline),
        cmocka_unit_test(test_deadline_bounds_a_trickling_server),
        cmocka_unit_test(test_keep_alive_reuses_the_connection),
        cmocka_unit_test(test_connection_close_is_honoured),
        cmocka_unit_test(test_closed_idle_connection_is_replaced_before_sending),
        cmocka_unit_test(test_idle_408_is_not_read_as_the_answer),
        cmocka_unit_test(test_408_answer_on_a_reused_connection_is_retried_once),
        cmocka_unit_test(test_408_on_a_fresh_connection_is_an_answer),
        cmocka_unit_test(test_close_after_request_is_unknown_never_resent),
        cmocka_unit_test(test_server_close_notify_is_read_before_closing),
        cmocka_unit_test(test_client_close_waits_briefly_for_the_server),
        cmocka_unit_test(test_no_retry_once_the_response_began),
        cmocka_unit_test(test_no_retry_on_a_fresh_connection),
        cmocka_unit_test(test_a_failed_reconnect_reports_no_stale_tls_info),
        cmocka_unit_test(test_connect_failures_are_named),
        cmocka_unit_test(test_handshake_refusal_sends_nothing),
        cmocka_unit_test(test_send_failure),
        cmocka_unit_test(test_init_refuses_what_policy_forbids),
        cmocka_unit_test(test_header_injection_is_refused),
        cmocka_unit_test(test_trace_and_streamed_body),
        cmocka_unit_test(test_longest_errors_are_whole),
        cmocka_unit_test(test_connect_timeout_bounds_the_handshake_too),
        cmocka_unit_test(test_early_data_is_not_written_again),
        cmocka_unit_test(test_no_key_is_never_offered),
        cmocka_unit_test(test_too_early_is_sent_again_without_early_data),
        cmocka_unit_test(test_too_early_without_early_data_is_an_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
