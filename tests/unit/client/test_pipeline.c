/*
 * The pipeline over a scripted transport: answers matched to requests in
 * order, and every way a pipelined connection can end early handed back
 * request by request (unanswered, not sent, cut short), with nothing sent
 * twice by the pipeline itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "alertpost/alertpost.h"
#include "alertpost/ap_pipeline.h"
#include "fake_transport.h"

#define OK_A "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"
#define OK_B "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"
#define OK_C "HTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nc"
#define OK_CLOSE "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nz"

typedef struct fixture {
    fake_net_t net;
    ap_transport_t transport;
    ap_platform_t platform;
    ap_client_config_t cfg;
    ap_client_t client;
    ap_pipeline_t pl;
    uint8_t work[512];
    uint8_t keep[64];
    ap_response_t resp;
    char keys[AP_PIPELINE_MAX + 2][16];
    ap_header_t headers[AP_PIPELINE_MAX + 2][1];
    unsigned sent_requests;
} fixture_t;

static fixture_t fx;

static void setup_with(const fake_event_t *events, size_t count)
{
    memset(&fx, 0, sizeof(fx));
    fake_net_init(&fx.net, events, count);
    fake_transport_bind(&fx.transport, &fx.net);
    fake_platform_bind(&fx.platform, &fx.net);
    fake_client_config(&fx.cfg, "https://alerts.example/v1/alerts", &fx.transport, &fx.platform, fx.work,
                       sizeof(fx.work));
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
    assert_int_equal(ap_pipeline_init(&fx.pl, &fx.client), AP_OK);
}

#define SETUP(ev) setup_with((ev), sizeof(ev) / sizeof((ev)[0]))

/* Send request number i (its key is "k<i>", its body "alert <i>"). */
static ap_status_t send_nr(unsigned i)
{
    static char body[AP_PIPELINE_MAX + 2][16];
    ap_request_t req;

    (void)snprintf(fx.keys[i], sizeof(fx.keys[i]), "\"k%u\"", i);
    (void)snprintf(body[i], sizeof(body[i]), "alert %u", i);
    fx.headers[i][0].name = "Idempotency-Key";
    fx.headers[i][0].value = fx.keys[i];
    memset(&req, 0, sizeof(req));
    req.headers = fx.headers[i];
    req.header_count = 1;
    req.body = (const uint8_t *)body[i];
    req.body_len = strlen(body[i]);
    return ap_pipeline_send(&fx.pl, &req);
}

static ap_status_t receive(void)
{
    fx.resp.body = fx.keep;
    fx.resp.body_size = sizeof(fx.keep);
    return ap_pipeline_receive(&fx.pl, &fx.resp);
}

/* How many request heads went out, and that key i came before key i + 1. */
static unsigned requests_on_wire(void)
{
    unsigned count = 0;
    const char *at = fx.net.sent;

    fx.net.sent[fx.net.sent_len < sizeof(fx.net.sent) ? fx.net.sent_len
                                                       : sizeof(fx.net.sent) - 1] = '\0';
    while ((at = strstr(at, "POST /v1/alerts HTTP/1.1\r\n")) != NULL) {
        count++;
        at++;
    }
    return count;
}

static const char *key_on_wire(unsigned i)
{
    char line[40];

    (void)snprintf(line, sizeof(line), "Idempotency-Key: \"k%u\"\r\n", i);
    (void)requests_on_wire(); /* terminates the record */
    return strstr(fx.net.sent, line);
}

/* A send refused without a byte of it written. */
static void assert_not_sent(unsigned i)
{
    size_t before = fx.net.sent_len;

    assert_int_equal(send_nr(i), AP_ERR_NOT_SENT);
    assert_int_equal(fx.net.sent_len, before);
}

static void assert_body(const char *expected)
{
    assert_int_equal(fx.resp.body_len, strlen(expected));
    assert_memory_equal(fx.resp.body, expected, strlen(expected));
}

static void test_answers_match_requests_in_order(void **state)
{
    /* all three answers in one burst, handed out 7 bytes at a time, so that
     * reads straddle answers */
    static const fake_event_t ev[] = {{FAKE_BYTES, OK_A OK_B OK_C, false, false}};
    unsigned i;

    (void)state;
    SETUP(ev);
    fx.net.chunk = 7;
    for (i = 1; i <= 3; i++) {
        assert_int_equal(send_nr(i), AP_OK);
    }
    assert_int_equal(ap_pipeline_in_flight(&fx.pl), 3);
    assert_int_equal(fx.net.sent_len, 0); /* gathered, not yet written */
    assert_int_equal(receive(), AP_OK);
    assert_int_equal(requests_on_wire(), 3); /* all written before any answer was read */
    assert_int_equal(fx.net.sends, 1);
    assert_body("a");
    assert_int_equal(receive(), AP_OK);
    assert_body("b");
    assert_int_equal(receive(), AP_OK);
    assert_int_equal(fx.resp.status_code, 201);
    assert_body("c");
    assert_int_equal(ap_pipeline_in_flight(&fx.pl), 0);
    assert_int_equal(fx.net.connects, 1);
    assert_true(key_on_wire(1) < key_on_wire(2));
    assert_true(key_on_wire(2) < key_on_wire(3));
    assert_int_equal(receive(), AP_ERR_BAD_ARG); /* nothing in flight */
    ap_client_free(&fx.client);
}

/* The window slides: a new request goes out after each answer, all on the
 * one connection. */
static void test_sliding_window_on_one_connection(void **state)
{
    static const fake_event_t ev[] = {{FAKE_BYTES, OK_A, false, false},
                                      {FAKE_BYTES, OK_B, false, false},
                                      {FAKE_BYTES, OK_C, false, false}};

    (void)state;
    SETUP(ev);
    assert_int_equal(send_nr(1), AP_OK);
    assert_int_equal(send_nr(2), AP_OK);
    assert_int_equal(receive(), AP_OK);
    assert_body("a");
    assert_int_equal(send_nr(3), AP_OK);
    assert_int_equal(ap_pipeline_in_flight(&fx.pl), 2);
    assert_int_equal(receive(), AP_OK);
    assert_body("b");
    assert_int_equal(receive(), AP_OK);
    assert_body("c");
    assert_int_equal(fx.net.connects, 1);
    assert_int_equal(requests_on_wire(), 3);
    ap_client_free(&fx.client);
}

/* Connection: close on the second answer: the later two are unanswered, a
 * send meanwhile writes nothing, and once they are drained a new connection
 * takes the next request. */
static void test_announced_close_after_two(void **state)
{
    static const fake_event_t ev[] = {{FAKE_BYTES, OK_A OK_CLOSE, false, false},
                                      {FAKE_FIN, NULL, false, false},
                                      {FAKE_BYTES, OK_B, true, false}};
    unsigned i;

    (void)state;
    SETUP(ev);
    for (i = 1; i <= 4; i++) {
        assert_int_equal(send_nr(i), AP_OK);
    }
    assert_int_equal(receive(), AP_OK);
    assert_false(ap_pipeline_closing(&fx.pl));
    assert_int_equal(receive(), AP_OK);
    assert_body("z");
    assert_true(ap_pipeline_closing(&fx.pl));

    assert_not_sent(5);
    assert_int_equal(ap_pipeline_in_flight(&fx.pl), 2);

    assert_int_equal(receive(), AP_ERR_UNANSWERED);
    assert_int_equal(ap_client_info(&fx.client)->failure, AP_ERR_CLOSED);
    assert_non_null(strstr(ap_client_error(&fx.client), "did not process it"));
    assert_int_equal(fx.resp.status_code, 0);
    assert_int_equal(receive(), AP_ERR_UNANSWERED);
    assert_false(ap_pipeline_closing(&fx.pl));
    assert_int_equal(fx.net.connects, 1);

    /* the caller's re-send, on a new connection */
    assert_int_equal(send_nr(3), AP_OK);
    assert_int_equal(fx.net.connects, 2);
    assert_int_equal(receive(), AP_OK);
    assert_body("b");
    assert_int_equal(requests_on_wire(), 5); /* 4, then the one the caller re-sent */
    ap_client_free(&fx.client);
}

/* A bare end of stream after one answer, with no close announced. */
static void test_end_of_stream_after_one(void **state)
{
    static const fake_event_t ev[] = {{FAKE_BYTES, OK_A, false, false},
                                      {FAKE_FIN, NULL, false, false}};

    (void)state;
    SETUP(ev);
    assert_int_equal(send_nr(1), AP_OK);
    assert_int_equal(send_nr(2), AP_OK);
    assert_int_equal(send_nr(3), AP_OK);
    assert_int_equal(receive(), AP_OK);
    assert_int_equal(receive(), AP_ERR_UNANSWERED);
    assert_int_equal(ap_client_info(&fx.client)->failure, AP_ERR_CLOSED);
    assert_null(strstr(ap_client_error(&fx.client), "did not process it"));
    assert_int_equal(receive(), AP_ERR_UNANSWERED);
    assert_int_equal(fx.net.closes, 1);
    assert_int_equal(requests_on_wire(), 3);
    ap_client_free(&fx.client);
}

/* A 503 in the middle is that request's answer only; the next is still
 * answered on the same connection. */
static void test_5xx_in_the_middle(void **state)
{
    static const fake_event_t ev[] = {
        {FAKE_BYTES, OK_A "HTTP/1.1 503 Busy\r\nRetry-After: 5\r\nContent-Length: 4\r\n\r\nbusy" OK_C,
         false, false}};

    (void)state;
    SETUP(ev);
    assert_int_equal(send_nr(1), AP_OK);
    assert_int_equal(send_nr(2), AP_OK);
    assert_int_equal(send_nr(3), AP_OK);
    assert_int_equal(receive(), AP_OK);
    assert_int_equal(receive(), AP_ERR_HTTP_STATUS);
    assert_int_equal(fx.resp.status_code, 503);
    assert_string_equal(fx.resp.retry_after, "5");
    assert_body("busy");
    assert_int_equal(receive(), AP_OK);
    assert_body("c");
    assert_int_equal(fx.net.connects, 1);
    ap_client_free(&fx.client);
}

/* A 408 with Connection: close in the middle: the requests behind it are
 * unanswered, not lost. */
static void test_408_in_the_middle(void **state)
{
    static const fake_event_t ev[] = {
        {FAKE_BYTES, OK_A "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
                     "Content-Length: 0\r\n\r\n", false, false},
        {FAKE_FIN, NULL, false, false}};

    (void)state;
    SETUP(ev);
    assert_int_equal(send_nr(1), AP_OK);
    assert_int_equal(send_nr(2), AP_OK);
    assert_int_equal(send_nr(3), AP_OK);
    assert_int_equal(receive(), AP_OK);
    assert_int_equal(receive(), AP_ERR_HTTP_STATUS);
    assert_int_equal(fx.resp.status_code, 408);
    assert_int_equal(receive(), AP_ERR_UNANSWERED);
    assert_int_equal(requests_on_wire(), 3); /* nothing sent again by the pipeline */
    ap_client_free(&fx.client);
}

/* An answer cut short: its outcome is unknown; the one behind is unanswered. */
static void test_truncated_answer(void **state)
{
    static const fake_event_t ev[] = {
        {FAKE_BYTES, OK_A "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", false, false},
        {FAKE_FIN, NULL, false, false}};

    (void)state;
    SETUP(ev);
    assert_int_equal(send_nr(1), AP_OK);
    assert_int_equal(send_nr(2), AP_OK);
    assert_int_equal(send_nr(3), AP_OK);
    assert_int_equal(receive(), AP_OK);
    assert_int_equal(receive(), AP_ERR_OUTCOME_UNKNOWN);
    assert_int_equal(ap_client_info(&fx.client)->failure, AP_ERR_TRUNCATED);
    assert_non_null(strstr(ap_client_error(&fx.client), "may or may not have arrived"));
    assert_int_equal(fx.resp.status_code, 200);
    assert_int_equal(receive(), AP_ERR_UNANSWERED);
    assert_int_equal(ap_pipeline_in_flight(&fx.pl), 0);
    ap_client_free(&fx.client);
}

/* A server that goes silent: the oldest times out (outcome unknown), the
 * rest are unanswered, and no read waits past its step. */
static void test_timeout_on_the_oldest(void **state)
{
    static const fake_event_t ev[] = {{FAKE_TIMEOUT, NULL, false, false}};

    (void)state;
    SETUP(ev);
    assert_int_equal(send_nr(1), AP_OK);
    assert_int_equal(send_nr(2), AP_OK);
    assert_int_equal(receive(), AP_ERR_OUTCOME_UNKNOWN);
    assert_int_equal(ap_client_info(&fx.client)->failure, AP_ERR_TIMEOUT);
    assert_int_equal(fx.net.last_recv_timeout, 1000);
    assert_int_equal(receive(), AP_ERR_UNANSWERED);
    assert_int_equal(ap_client_info(&fx.client)->failure, AP_ERR_TIMEOUT);
    ap_client_free(&fx.client);
}

static void test_only_requests_with_a_key(void **state)
{
    static const fake_event_t ev[] = {{FAKE_BYTES, OK_A, false, false}};
    static const ap_header_t other[] = {{"X-Key", "\"k\""}};
    ap_request_t req;

    (void)state;
    SETUP(ev);
    memset(&req, 0, sizeof(req));
    req.body = (const uint8_t *)"x";
    req.body_len = 1;
    assert_int_equal(ap_pipeline_send(&fx.pl, &req), AP_ERR_BAD_ARG);
    req.headers = other;
    req.header_count = 1;
    assert_int_equal(ap_pipeline_send(&fx.pl, &req), AP_ERR_BAD_ARG);
    assert_non_null(strstr(ap_client_error(&fx.client), "Idempotency-Key"));
    assert_int_equal(fx.net.connects, 0);
    assert_int_equal(fx.net.sent_len, 0);
    assert_int_equal(ap_pipeline_in_flight(&fx.pl), 0);
    ap_client_free(&fx.client);
}

static void test_window_is_bounded(void **state)
{
    static const fake_event_t ev[] = {{FAKE_BYTES, OK_A, false, false}};
    size_t sent_before;
    unsigned i;

    (void)state;
    SETUP(ev);
    for (i = 1; i <= AP_PIPELINE_MAX; i++) {
        assert_int_equal(send_nr(i), AP_OK);
    }
    sent_before = fx.net.sent_len;
    assert_int_equal(send_nr(AP_PIPELINE_MAX + 1), AP_ERR_NO_SPACE);
    assert_int_equal(fx.net.sent_len, sent_before);
    assert_int_equal(ap_pipeline_in_flight(&fx.pl), AP_PIPELINE_MAX);
    ap_client_free(&fx.client);
}

/* A write that fails with part of the request out: its outcome is unknown,
 * and the connection takes nothing more; the answer to the request before
 * it still counts. */
static void test_write_failure_midway(void **state)
{
    static const fake_event_t ev[] = {{FAKE_BYTES, OK_A, false, false}};

    (void)state;
    SETUP(ev);
    assert_int_equal(send_nr(1), AP_OK);
    assert_int_equal(ap_pipeline_flush(&fx.pl), AP_OK);
    fx.net.send_limit = fx.net.sent_len + 10;
    assert_int_equal(send_nr(2), AP_OK); /* gathered */
    assert_int_equal(ap_pipeline_flush(&fx.pl), AP_ERR_IO);
    assert_int_equal(ap_client_info(&fx.client)->failure, AP_ERR_IO);
    assert_int_equal(ap_pipeline_in_flight(&fx.pl), 2);
    assert_true(ap_pipeline_closing(&fx.pl));
    assert_not_sent(3);
    assert_int_equal(receive(), AP_OK);
    assert_body("a");
    assert_int_equal(receive(), AP_ERR_OUTCOME_UNKNOWN);
    assert_int_equal(ap_client_info(&fx.client)->failure, AP_ERR_IO);
    assert_non_null(strstr(ap_client_error(&fx.client), "may or may not have arrived"));
    assert_false(ap_pipeline_closing(&fx.pl));
    ap_client_free(&fx.client);
}

/* One write of three gathered requests breaks inside the second: the first
 * was written whole (its answer counts), the second's outcome is unknown,
 * nothing of the third left. */
static void test_write_breaks_inside_a_window(void **state)
{
    static const fake_event_t ev[] = {{FAKE_BYTES, OK_A, false, false},
                                      {FAKE_BYTES, OK_B, false, false}};
    size_t one;

    (void)state;
    SETUP(ev);
    assert_int_equal(send_nr(1), AP_OK);
    assert_int_equal(receive(), AP_OK);
    one = fx.net.sent_len; /* requests 2 to 4 are as long as the first */
    assert_int_equal(send_nr(2), AP_OK);
    assert_int_equal(send_nr(3), AP_OK);
    assert_int_equal(send_nr(4), AP_OK);
    fx.net.send_limit = 2 * one + 10;
    assert_int_equal(receive(), AP_OK); /* the write fails, the first of it is answered */
    assert_body("b");
    assert_int_equal(fx.net.sent_len, 2 * one + 10);
    assert_int_equal(receive(), AP_ERR_OUTCOME_UNKNOWN);
    assert_int_equal(ap_client_info(&fx.client)->failure, AP_ERR_IO);
    assert_int_equal(receive(), AP_ERR_NOT_SENT);
    assert_int_equal(ap_client_info(&fx.client)->failure, AP_ERR_IO);
    assert_non_null(strstr(ap_client_error(&fx.client), "was not sent"));
    assert_int_equal(ap_pipeline_in_flight(&fx.pl), 0);
    assert_int_equal(fx.net.connects, 1);
    ap_client_free(&fx.client);
}

/* A write that fails before any byte of the request left, with another in
 * flight: not sent, and said so. */
static void test_write_failure_before_any_byte(void **state)
{
    static const fake_event_t ev[] = {{FAKE_BYTES, OK_A, false, false}};
    size_t before;

    (void)state;
    SETUP(ev);
    assert_int_equal(send_nr(1), AP_OK);
    assert_int_equal(ap_pipeline_flush(&fx.pl), AP_OK);
    before = fx.net.sent_len;
    fx.net.send_fail = AP_ERR_IO;
    assert_int_equal(send_nr(2), AP_OK); /* gathered */
    assert_int_equal(ap_pipeline_flush(&fx.pl), AP_ERR_IO);
    assert_int_equal(ap_pipeline_in_flight(&fx.pl), 2);
    fx.net.send_fail = AP_OK;
    assert_int_equal(receive(), AP_OK);
    assert_int_equal(receive(), AP_ERR_NOT_SENT);
    assert_int_equal(ap_client_info(&fx.client)->failure, AP_ERR_IO);
    assert_non_null(strstr(ap_client_error(&fx.client), "was not sent"));
    assert_int_equal(fx.net.sent_len, before);
    ap_client_free(&fx.client);
}

/* The first write on a new connection fails before any byte left: the
 * oldest request gets what ap_post() would return, the others not sent. */
static void test_first_write_fails_before_any_byte(void **state)
{
    static const fake_event_t ev[] = {{FAKE_BYTES, OK_A, false, false}};

    (void)state;
    SETUP(ev);
    fx.net.send_fail = AP_ERR_IO;
    assert_int_equal(send_nr(1), AP_OK);
    assert_int_equal(send_nr(2), AP_OK);
    assert_int_equal(receive(), AP_ERR_IO);
    assert_non_null(strstr(ap_client_error(&fx.client), "before any byte of the alert was sent"));
    assert_int_equal(receive(), AP_ERR_NOT_SENT);
    assert_int_equal(ap_client_info(&fx.client)->failure, AP_ERR_IO);
    assert_int_equal(fx.net.sent_len, 0);
    assert_int_equal(fx.net.connects, 1); /* a new connection is not replaced */
    ap_client_free(&fx.client);
}

/* A kept-alive connection that passed its poll but is dead at the first
 * write, before any byte left: replaced once, and the gathered requests go
 * out whole on the new one (none can be a re-send). */
static void test_stale_connection_replaced_at_first_write(void **state)
{
    static const fake_event_t ev[] = {{FAKE_BYTES, OK_A, false, false},
                                      {FAKE_BYTES, OK_B OK_C, true, false}};

    (void)state;
    SETUP(ev);
    assert_int_equal(send_nr(1), AP_OK);
    assert_int_equal(receive(), AP_OK);
    fx.net.send_fail = AP_ERR_IO;
    fx.net.send_fail_times = 1;
    assert_int_equal(send_nr(2), AP_OK);
    assert_true(ap_client_info(&fx.client)->reused_connection);
    assert_int_equal(send_nr(3), AP_OK);
    assert_int_equal(receive(), AP_OK);
    assert_body("b");
    assert_int_equal(ap_client_info(&fx.client)->stale_connections, 1);
    assert_int_equal(fx.net.connects, 2);
    assert_int_equal(receive(), AP_OK);
    assert_body("c");
    assert_int_equal(requests_on_wire(), 3); /* the failed write took nothing */
    assert_true(key_on_wire(2) < key_on_wire(3));
    ap_client_free(&fx.client);
}

#define OK_A4 OK_A OK_A OK_A OK_A

/* A window of sixteen short alerts leaves in one send (one TLS record on a
 * real connection), and their answers, in one burst, are all read. */
static void test_window_leaves_in_one_send(void **state)
{
    static const fake_event_t ev[] = {{FAKE_BYTES, OK_A4 OK_A4 OK_A4 OK_A4, false, false}};
    unsigned i;

    (void)state;
    SETUP(ev);
    for (i = 1; i <= 16; i++) {
        assert_int_equal(send_nr(i), AP_OK);
    }
    assert_int_equal(fx.net.sends, 0);
    assert_int_equal(ap_pipeline_gathered(&fx.pl), 16);
    for (i = 1; i <= 16; i++) {
        assert_int_equal(receive(), AP_OK);
        assert_body("a");
    }
    assert_int_equal(fx.net.sends, 1);
    assert_int_equal(ap_pipeline_gathered(&fx.pl), 0);
    assert_int_equal(requests_on_wire(), 16);
    for (i = 1; i < 16; i++) {
        assert_true(key_on_wire(i) < key_on_wire(i + 1));
    }
    assert_int_equal(ap_pipeline_in_flight(&fx.pl), 0);
    ap_client_free(&fx.client);
}

/* A sliding window: answers that have already arrived are read without
 * writing what was gathered meanwhile; once a read would wait, the gathered
 * requests leave together. */
static void test_requests_gather_while_answers_come(void **state)
{
    static const fake_event_t ev[] = {{FAKE_BYTES, OK_A, false, false},
                                      {FAKE_BYTES, OK_B, false, true}, /* already there */
                                      {FAKE_BYTES, OK_C, false, false},
                                      {FAKE_BYTES, OK_A, false, false}};

    (void)state;
    SETUP(ev);
    assert_int_equal(send_nr(1), AP_OK);
    assert_int_equal(send_nr(2), AP_OK);
    assert_int_equal(receive(), AP_OK);
    assert_body("a");
    assert_int_equal(fx.net.sends, 1);
    assert_int_equal(send_nr(3), AP_OK);
    assert_int_equal(receive(), AP_OK); /* it had arrived: request 3 waits */
    assert_body("b");
    assert_int_equal(fx.net.sends, 1);
    assert_int_equal(requests_on_wire(), 2);
    assert_int_equal(send_nr(4), AP_OK);
    assert_int_equal(receive(), AP_OK); /* nothing had arrived: 3 and 4 leave */
    assert_body("c");
    assert_int_equal(fx.net.sends, 2);
    assert_int_equal(requests_on_wire(), 4);
    assert_int_equal(receive(), AP_OK);
    assert_body("a");
    assert_true(key_on_wire(3) < key_on_wire(4));
    ap_client_free(&fx.client);
}

/* The stream ends while requests are still gathered: those written are
 * unanswered, those gathered were not sent, and nothing more is written. */
static void test_end_of_stream_with_requests_gathered(void **state)
{
    static const fake_event_t ev[] = {{FAKE_BYTES, OK_A, false, true},
                                      {FAKE_FIN, NULL, false, true}};
    size_t written;

    (void)state;
    SETUP(ev);
    assert_int_equal(send_nr(1), AP_OK);
    assert_int_equal(send_nr(2), AP_OK);
    assert_int_equal(ap_pipeline_flush(&fx.pl), AP_OK);
    written = fx.net.sent_len;
    assert_int_equal(send_nr(3), AP_OK);
    assert_int_equal(send_nr(4), AP_OK);
    assert_int_equal(receive(), AP_OK);
    assert_int_equal(receive(), AP_ERR_UNANSWERED);
    assert_int_equal(ap_client_info(&fx.client)->failure, AP_ERR_CLOSED);
    assert_true(ap_pipeline_closing(&fx.pl));
    assert_int_equal(receive(), AP_ERR_NOT_SENT);
    assert_int_equal(ap_client_info(&fx.client)->failure, AP_ERR_CLOSED);
    assert_non_null(strstr(ap_client_error(&fx.client), "was not sent"));
    assert_int_equal(receive(), AP_ERR_NOT_SENT);
    assert_int_equal(fx.net.sent_len, written);
    assert_int_equal(fx.net.sends, 1);
    assert_int_equal(requests_on_wire(), 2);
    assert_null(key_on_wire(3));
    assert_false(ap_pipeline_closing(&fx.pl));
    ap_client_free(&fx.client);
}

/* Connection: close announced while a request is gathered: it was not sent. */
static void test_announced_close_with_a_request_gathered(void **state)
{
    static const fake_event_t ev[] = {{FAKE_BYTES, OK_A OK_CLOSE, false, true},
                                      {FAKE_FIN, NULL, false, true}};

    (void)state;
    SETUP(ev);
    assert_int_equal(send_nr(1), AP_OK);
    assert_int_equal(send_nr(2), AP_OK);
    assert_int_equal(ap_pipeline_flush(&fx.pl), AP_OK);
    assert_int_equal(send_nr(3), AP_OK);
    assert_int_equal(receive(), AP_OK);
    assert_int_equal(receive(), AP_OK);
    assert_body("z");
    assert_int_equal(receive(), AP_ERR_NOT_SENT);
    assert_non_null(strstr(ap_client_error(&fx.client), "announced its close"));
    assert_int_equal(requests_on_wire(), 2);
    assert_int_equal(fx.net.closes, 1);
    ap_client_free(&fx.client);
}

/* A request larger than the output buffer: what was gathered goes first,
 * then it is written on its own, and both are answered in order. */
static void test_large_request_written_alone(void **state)
{
    static const fake_event_t ev[] = {{FAKE_BYTES, OK_A OK_B, false, false}};
    static uint8_t big[AP_PIPELINE_WRITE_SIZE];
    static const ap_header_t key[] = {{"Idempotency-Key", "\"kbig\""}};
    ap_request_t req;

    (void)state;
    SETUP(ev);
    memset(big, 'x', sizeof(big));
    memset(&req, 0, sizeof(req));
    req.headers = key;
    req.header_count = 1;
    req.body = big;
    req.body_len = sizeof(big);
    assert_int_equal(send_nr(1), AP_OK);
    assert_int_equal(fx.net.sends, 0);
    assert_int_equal(ap_pipeline_send(&fx.pl, &req), AP_OK);
    assert_int_equal(fx.net.sends, 3); /* the gathered one; then its head, its body */
    assert_true(fx.net.sent_len > sizeof(big));
    assert_int_equal(receive(), AP_OK);
    assert_body("a");
    assert_int_equal(receive(), AP_OK);
    assert_body("b");
    assert_int_equal(requests_on_wire(), 2);
    assert_true(key_on_wire(1) < strstr(fx.net.sent, "\"kbig\""));
    ap_client_free(&fx.client);
}

/* Bytes after the last answer: nobody asked for them, so the connection is
 * not reused. */
static void test_unasked_bytes_end_the_connection(void **state)
{
    static const fake_event_t ev[] = {{FAKE_BYTES, OK_A "HTTP/1.1 200 OK\r\n", false, false},
                                      {FAKE_BYTES, OK_B, true, false}};

    (void)state;
    SETUP(ev);
    assert_int_equal(send_nr(1), AP_OK);
    assert_int_equal(receive(), AP_OK);
    assert_int_equal(fx.net.closes, 1);
    assert_int_equal(send_nr(2), AP_OK);
    assert_int_equal(fx.net.connects, 2);
    assert_int_equal(receive(), AP_OK);
    assert_body("b");
    ap_client_free(&fx.client);
}

static void test_needs_keep_alive(void **state)
{
    static const fake_event_t ev[] = {{FAKE_BYTES, OK_A, false, false}};

    (void)state;
    SETUP(ev);
    ap_client_free(&fx.client);
    fx.cfg.keep_alive = false;
    assert_int_equal(ap_client_init(&fx.client, &fx.cfg), AP_OK);
    assert_int_equal(ap_pipeline_init(&fx.pl, &fx.client), AP_ERR_BAD_ARG);
    assert_non_null(strstr(ap_client_error(&fx.client), "keep_alive"));
    assert_int_equal(ap_pipeline_init(NULL, &fx.client), AP_ERR_BAD_ARG);
    ap_client_free(&fx.client);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answers_match_requests_in_order),
        cmocka_unit_test(test_sliding_window_on_one_connection),
        cmocka_unit_test(test_announced_close_after_two),
        cmocka_unit_test(test_end_of_stream_after_one),
        cmocka_unit_test(test_5xx_in_the_middle),
        cmocka_unit_test(test_408_in_the_middle),
        cmocka_unit_test(test_truncated_answer),
        cmocka_unit_test(test_timeout_on_the_oldest),
        cmocka_unit_test(test_only_requests_with_a_key),
        cmocka_unit_test(test_window_is_bounded),
        cmocka_unit_test(test_write_failure_midway),
        cmocka_unit_test(test_write_failure_before_any_byte),
        cmocka_unit_test(test_write_breaks_inside_a_window),
        cmocka_unit_test(test_first_write_fails_before_any_byte),
        cmocka_unit_test(test_stale_connection_replaced_at_first_write),
        cmocka_unit_test(test_window_leaves_in_one_send),
        cmocka_unit_test(test_requests_gather_while_answers_come),
        cmocka_unit_test(test_end_of_stream_with_requests_gathered),
        cmocka_unit_test(test_announced_close_with_a_request_gathered),
        cmocka_unit_test(test_large_request_written_alone),
        cmocka_unit_test(test_unasked_bytes_end_the_connection),
        cmocka_unit_test(test_needs_keep_alive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
