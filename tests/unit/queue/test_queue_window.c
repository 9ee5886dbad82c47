/*
 * The queue with several alerts in flight, over the RAM store, a fake clock
 * and a fake pipeline whose answers follow a script, in the order the
 * requests were written: what goes out in one step, what an early close
 * leaves to re-send (and that those re-sends are counted and reported), and
 * that an alert answered 2xx behind a failed oldest one is not sent again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "alertpost/ap_queue.h"
#include "alertpost/ap_store_ram.h"

static uint32_t fake_now;
static uint8_t entropy_counter;

static uint32_t now_ms(void *ctx)
{
    (void)ctx;
    return fake_now;
}

static ap_status_t entropy(void *ctx, uint8_t *buf, size_t len)
{
    size_t i;

    (void)ctx;
    for (i = 0; i < len; i++) {
        buf[i] = ++entropy_counter;
    }
    return AP_OK;
}

static const ap_platform_t platform = { NULL, now_ms, NULL, entropy };

/* ---- the fake pipeline: sends recorded, answers scripted by send order ---- */

typedef struct answer {
    ap_status_t status;
    int http;
} answer_t;

#define MAX_SENDS 32

static const answer_t *script;
static size_t script_len;
static char sent_keys[MAX_SENDS][AP_QUEUE_KEY_SIZE];
static char sent_bodies[MAX_SENDS][16];
static size_t sends;
static size_t receives;
static size_t posts;  /* the one-at-a-time post function: must not be used */

static ap_status_t fake_send(void *ctx, const ap_request_t *req)
{
    assert_ptr_equal(ctx, &sends);
    assert_true(sends < MAX_SENDS);
    assert_string_equal(req->headers[0].name, "Idempotency-Key");
    (void)snprintf(sent_keys[sends], sizeof(sent_keys[0]), "%s", req->headers[0].value);
    (void)snprintf(sent_bodies[sends], sizeof(sent_bodies[0]), "%.*s", (int)req->body_len,
                   (const char *)req->body);
    sends++;
    return AP_OK;
}

static ap_status_t fake_receive(void *ctx, ap_response_t *resp)
{
    answer_t a = { AP_OK, 200 };

    assert_ptr_equal(ctx, &sends);
    assert_true(receives < sends); /* only what is in flight is answered */
    if (receives < script_len) {
        a = script[receives];
    }
    receives++;
    resp->status_code = a.http;
    return a.status;
}

static ap_status_t fake_post(void *ctx, const ap_request_t *req, ap_response_t *resp)
{
    (void)ctx;
    (void)req;
    (void)resp;
    posts++;
    return AP_ERR_IO;
}

/* ---- events ---------------------------------------------------------------- */

static size_t resend_events;
static size_t attempt_events;
static size_t delivered_events;
static char resent_keys[MAX_SENDS][AP_QUEUE_KEY_SIZE];

static void on_event(void *ctx, const ap_queue_event_t *ev)
{
    (void)ctx;
    if (ev->kind == AP_QUEUE_EV_RESEND) {
        (void)snprintf(resent_keys[resend_events++], sizeof(resent_keys[0]), "%s", ev->key);
    } else if (ev->kind == AP_QUEUE_EV_ATTEMPT) {
        attempt_events++;
    } else if (ev->kind == AP_QUEUE_EV_DELIVERED) {
        delivered_events++;
    }
}

/* ---- fixture --------------------------------------------------------------- */

static ap_store_ram_t ram;
static ap_store_t store;
static uint8_t ram_buf[4096];
static uint8_t record_buf[512];
static ap_queue_t q;
static char keys[8][AP_QUEUE_KEY_SIZE];

static void start(uint32_t in_flight, size_t alerts, const answer_t *answers, size_t count)
{
    ap_queue_config_t cfg;
    size_t i;

    fake_now = 0xFFFFFC00u;
    entropy_counter = 0;
    script = answers;
    script_len = count;
    sends = receives = posts = 0;
    resend_events = attempt_events = delivered_events = 0;
    assert_int_equal(ap_store_ram_init(&ram, ram_buf, sizeof(ram_buf), 0, &store), AP_OK);
    ap_queue_config_defaults(&cfg);
    assert_int_equal(cfg.in_flight, 1);
    cfg.store = &store;
    cfg.platform = &platform;
    cfg.post = fake_post;
    cfg.in_flight = in_flight;
    cfg.send = fake_send;
    cfg.receive = fake_receive;
    cfg.pipe_ctx = &sends;
    cfg.record_buf = record_buf;
    cfg.record_buf_size = sizeof(record_buf);
    cfg.on_event = on_event;
    assert_int_equal(ap_queue_init(&q, &cfg), AP_OK);
    for (i = 0; i < alerts; i++) {
        char body[16];
        ap_request_t alert;

        (void)snprintf(body, sizeof(body), "alert %u", (unsigned)i + 1u);
        memset(&alert, 0, sizeof(alert));
        alert.body = (const uint8_t *)body;
        alert.body_len = strlen(body);
        assert_int_equal(ap_queue_enqueue(&q, &alert, keys[i]), AP_OK);
    }
}

static void assert_live(size_t want)
{
    size_t live = 99;
    size_t dead = 99;

    assert_int_equal(ap_queue_pending(&q, &live, &dead), AP_OK);
    assert_int_equal(live, want);
}

static void test_one_step_sends_the_window(void **state)
{
    size_t i;

    (void)state;
    start(4, 6, NULL, 0);
    assert_int_equal(ap_queue_step(&q, NULL), AP_OK);
    assert_int_equal(sends, 4); /* the oldest and three behind it */
    assert_int_equal(receives, 4);
    assert_int_equal(attempt_events, 4);
    for (i = 0; i < 4; i++) {
        char body[16];

        (void)snprintf(body, sizeof(body), "alert %u", (unsigned)i + 1u);
        assert_string_equal(sent_keys[i], keys[i]);
        assert_string_equal(sent_bodies[i], body);
    }
    /* those answered 2xx behind the oldest leave one by one, unsent */
    for (i = 0; i < 3; i++) {
        assert_int_equal(ap_queue_step(&q, NULL), AP_OK);
        assert_int_equal(sends, 4);
    }
    assert_live(2);
    assert_int_equal(ap_queue_step(&q, NULL), AP_OK); /* alerts 5 and 6 */
    assert_int_equal(sends, 6);
    assert_int_equal(ap_queue_step(&q, NULL), AP_OK);
    assert_int_equal(ap_queue_step(&q, NULL), AP_ERR_STORE_EMPTY);
    assert_int_equal(ap_queue_counters(&q)->delivered, 6);
    assert_int_equal(delivered_events, 6);
    assert_int_equal(ap_queue_counters(&q)->resent, 0);
    assert_int_equal(posts, 0);
}

/* The server answers two and closes: the other three are re-sent, with
 * their keys, counted and reported; nothing is delivered twice. */
static void test_early_close_resends_are_counted(void **state)
{
    static const answer_t answers[] = {
        { AP_OK, 200 }, { AP_OK, 200 }, { AP_ERR_UNANSWERED, 0 }, { AP_ERR_UNANSWERED, 0 },
        { AP_ERR_UNANSWERED, 0 }, { AP_OK, 200 }, { AP_OK, 201 }, { AP_OK, 200 } };
    size_t i;

    (void)state;
    start(5, 5, answers, sizeof(answers) / sizeof(answers[0]));
    assert_int_equal(ap_queue_step(&q, NULL), AP_OK);
    assert_int_equal(sends, 5);
    assert_int_equal(ap_queue_step(&q, NULL), AP_OK); /* alert 2, unsent */
    assert_int_equal(sends, 5);
    assert_int_equal(ap_queue_step(&q, NULL), AP_OK); /* 3, 4, 5 again */
    assert_int_equal(sends, 8);
    for (i = 0; i < 3; i++) {
        assert_string_equal(sent_keys[5 + i], keys[2 + i]);
        assert_string_equal(resent_keys[i], keys[2 + i]);
    }
    assert_int_equal(resend_events, 3);
    assert_int_equal(ap_queue_counters(&q)->resent, 3);
    assert_int_equal(ap_queue_counters(&q)->retried, 3);
    assert_int_equal(ap_queue_step(&q, NULL), AP_OK);
    assert_int_equal(ap_queue_step(&q, NULL), AP_OK);
    assert_int_equal(ap_queue_step(&q, NULL), AP_ERR_STORE_EMPTY);
    assert_int_equal(ap_queue_counters(&q)->delivered, 5);
    assert_int_equal(sends, 8);
}

/* The oldest is answered 503 and backs off; the two behind it were
 * delivered: after the backoff only the oldest goes out again. */
static void test_delivered_behind_a_failed_oldest_is_not_resent(void **state)
{
    static const answer_t answers[] = {
        { AP_ERR_HTTP_STATUS, 503 }, { AP_OK, 200 }, { AP_OK, 204 }, { AP_OK, 200 } };
    (void)state;
    start(3, 3, answers, sizeof(answers) / sizeof(answers[0]));
    assert_int_equal(ap_queue_step(&q, NULL), AP_ERR_QUEUE_BACKOFF);
    assert_int_equal(sends, 3);
    assert_live(3);
    fake_now += AP_DEFAULT_BACKOFF_BASE_MS + 1u; /* the first backoff is at most the base */
    assert_int_equal(ap_queue_step(&q, NULL), AP_OK);
    assert_int_equal(sends, 4); /* the oldest alone */
    assert_string_equal(sent_keys[3], keys[0]);
    assert_int_equal(ap_queue_step(&q, NULL), AP_OK);
    assert_int_equal(ap_queue_step(&q, NULL), AP_OK);
    assert_int_equal(ap_queue_last_http_status(&q), 204);
    assert_int_equal(ap_queue_step(&q, NULL), AP_ERR_STORE_EMPTY);
    assert_int_equal(sends, 4);
    assert_int_equal(ap_queue_counters(&q)->delivered, 3);
    assert_int_equal(ap_queue_counters(&q)->retried, 1);
    assert_int_equal(ap_queue_counters(&q)->resent, 0);
}

static void test_window_settings_are_checked(void **state)
{
    ap_queue_config_t cfg;

    (void)state;
    start(2, 0, NULL, 0);
    cfg = q.cfg;
    cfg.send = NULL;
    assert_int_equal(ap_queue_init(&q, &cfg), AP_ERR_BAD_ARG);
    cfg = q.cfg;
    cfg.in_flight = AP_QUEUE_MAX_IN_FLIGHT + 1u;
    assert_int_equal(ap_queue_init(&q, &cfg), AP_ERR_BAD_ARG);
    cfg.in_flight = AP_QUEUE_MAX_IN_FLIGHT;
    assert_int_equal(ap_queue_init(&q, &cfg), AP_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_step_sends_the_window),
        cmocka_unit_test(test_early_close_resends_are_counted),
        cmocka_unit_test(test_delivered_behind_a_failed_oldest_is_not_resent),
        cmocka_unit_test(test_window_settings_are_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
