/*
 * The queue's state machine over a fake clock (started just below the
 * 32-bit wrap), scripted entropy, a post function that plays a script of
 * results and records every request, and the RAM store, wrapped so that any
 * of its functions can be made to fail.
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

/* ---- fake platform ------------------------------------------------------- */

#define CLOCK_START 0xFFFFFC00u /* wraps 1024 ms into every test */

static uint32_t fake_now;
static int64_t fake_wall;
static int entropy_mode;      /* 0: a counter stream; 1: all 0xFF; 2: all 0; 3: fail */
static uint8_t entropy_counter;

static uint32_t fake_now_ms(void *ctx)
{
    (void)ctx;
    return fake_now;
}

static int64_t fake_wall_time(void *ctx)
{
    (void)ctx;
    return fake_wall;
}

static ap_status_t fake_entropy(void *ctx, uint8_t *buf, size_t len)
{
    size_t i;

    (void)ctx;
    if (entropy_mode == 3) {
        return AP_ERR_ENTROPY;
    }
    for (i = 0; i < len; i++) {
        buf[i] = entropy_mode == 1 ? 0xFF : entropy_mode == 2 ? 0 : ++entropy_counter;
    }
    return AP_OK;
}

static const ap_platform_t platform = { NULL, fake_now_ms, fake_wall_time, fake_entropy };

/* ---- scripted post function ---------------------------------------------- */

typedef struct step_script {
    ap_status_t status;
    int http;
    const char *retry_after;
} step_script_t;

#define MAX_POSTS 64

typedef struct posted {
    char key[AP_QUEUE_KEY_SIZE];
    char body[64];
    char content_type[64];
    size_t header_count;
    char last_header[64];
} posted_t;

static const step_script_t *script;
static size_t script_len;
static size_t post_count;
static posted_t posts[MAX_POSTS];

static ap_status_t fake_post(void *ctx, const ap_request_t *req, ap_response_t *resp)
{
    posted_t *p;
    step_script_t r = { AP_OK, 200, NULL };

    assert_ptr_equal(ctx, &post_count);
    assert_true(post_count < MAX_POSTS);
    assert_null(resp->body);
    p = &posts[post_count];
    /* The key is always the first header, in its own field. */
    assert_true(req->header_count >= 1);
    assert_string_equal(req->headers[0].name, "Idempotency-Key");
    (void)snprintf(p->key, sizeof(p->key), "%s", req->headers[0].value);
    (void)snprintf(p->body, sizeof(p->body), "%.*s", (int)req->body_len, (const char *)req->body);
    (void)snprintf(p->content_type, sizeof(p->content_type), "%s",
                   req->content_type != NULL ? req->content_type : "(default)");
    p->header_count = req->header_count;
    (void)snprintf(p->last_header, sizeof(p->last_header), "%s: %s",
                   req->headers[req->header_count - 1].name,
                   req->headers[req->header_count - 1].value);
    if (post_count < script_len) {
        r = script[post_count];
    }
    post_count++;
    resp->status_code = r.http;
    if (r.retry_after != NULL) {
        (void)snprintf(resp->retry_after, sizeof(resp->retry_after), "%s", r.retry_after);
    }
    return r.status;
}

/* ---- a store that fails on demand ---------------------------------------- */

static ap_store_ram_t ram;
static ap_store_t ram_store;
static uint8_t ram_buf[2048];

static struct {
    ap_status_t append, remove, dead, count;
    int corrupt_reads;  /* reads that set the record aside and answer CORRUPT */
} fail;

static ap_status_t ff_append(void *ctx, const uint8_t *rec, size_t len)
{
    (void)ctx;
    return fail.append != AP_OK ? fail.append : ram_store.append(ram_store.ctx, rec, len);
}

static ap_status_t ff_read(void *ctx, ap_store_part_t part, size_t index, uint8_t *buf,
                           size_t size, size_t *len)
{
    (void)ctx;
    if (fail.corrupt_reads > 0 && part == AP_STORE_LIVE) {
        fail.corrupt_reads--;
        assert_int_equal(ram_store.dead_letter(ram_store.ctx), AP_OK);
        return AP_ERR_STORE_CORRUPT;
    }
    return ram_store.read(ram_store.ctx, part, index, buf, size, len);
}

static ap_status_t ff_remove(void *ctx)
{
    (void)ctx;
    return fail.remove != AP_OK ? fail.remove : ram_store.remove_oldest(ram_store.ctx);
}

static ap_status_t ff_dead(void *ctx)
{
    (void)ctx;
    return fail.dead != AP_OK ? fail.dead : ram_store.dead_letter(ram_store.ctx);
}

static ap_status_t ff_count(void *ctx, ap_store_part_t part, size_t *count)
{
    (void)ctx;
    return fail.count != AP_OK ? fail.count : ram_store.count(ram_store.ctx, part, count);
}

static const ap_store_t flaky_store = { NULL, ff_append, ff_read, ff_remove, ff_dead, ff_count };

/* ---- events -------------------------------------------------------------- */

#define MAX_EVENTS 128

typedef struct seen_event {
    ap_queue_event_kind_t kind;
    char key[AP_QUEUE_KEY_SIZE];
    uint32_t attempt;
    ap_status_t status;
    int http;
    uint32_t delay_ms;
    bool from_retry_after;
} seen_event_t;

static seen_event_t events[MAX_EVENTS];
static size_t event_count;

static void record_event(void *ctx, const ap_queue_event_t *ev)
{
    seen_event_t *e;

    assert_ptr_equal(ctx, &event_count);
    assert_true(event_count < MAX_EVENTS);
    e = &events[event_count++];
    e->kind = ev->kind;
    (void)snprintf(e->key, sizeof(e->key), "%s", ev->key != NULL ? ev->key : "");
    e->attempt = ev->attempt;
    e->status = ev->status;
    e->http = ev->http_status;
    e->delay_ms = ev->delay_ms;
    e->from_retry_after = ev->from_retry_after;
}

static size_t events_of(ap_queue_event_kind_t kind)
{
    size_t i;
    size_t n = 0;

    for (i = 0; i < event_count; i++) {
        n += events[i].kind == kind;
    }
    return n;
}

static const seen_event_t *last_event(void)
{
    assert_true(event_count > 0);
    return &events[event_count - 1];
}

/* ---- fixture ------------------------------------------------------------- */

static ap_queue_t queue;
static ap_queue_config_t cfg;
static uint8_t record_buf[256];

static void setup_store(size_t size, size_t dead_size)
{
    assert_true(size <= sizeof(ram_buf));
    assert_int_equal(ap_store_ram_init(&ram, ram_buf, size, dead_size, &ram_store), AP_OK);
}

static void start_queue(void)
{
    assert_int_equal(ap_queue_init(&queue, &cfg), AP_OK);
}

static int setup(void **state)
{
    (void)state;
    fake_now = CLOCK_START;
    fake_wall = AP_WALL_TIME_UNKNOWN;
    entropy_mode = 1; /* the top of every jitter range: delays are exact */
    entropy_counter = 0;
    script = NULL;
    script_len = 0;
    post_count = 0;
    event_count = 0;
    memset(&fail, 0, sizeof(fail));
    setup_store(sizeof(ram_buf), 512);
    ap_queue_config_defaults(&cfg);
    cfg.store = &flaky_store;
    cfg.platform = &platform;
    cfg.post = fake_post;
    cfg.post_ctx = &post_count;
    cfg.backoff_base_ms = 100;
    cfg.backoff_cap_ms = 1000;
    cfg.retry_after_cap_ms = 60000;
    cfg.record_buf = record_buf;
    cfg.record_buf_size = sizeof(record_buf);
    cfg.on_event = record_event;
    cfg.event_ctx = &event_count;
    start_queue();
    return 0;
}

#define SCRIPT(...)                                                    \
    do {                                                               \
        static const step_script_t s_[] = { __VA_ARGS__ };            \
        script = s_;                                                   \
        script_len = sizeof(s_) / sizeof(s_[0]);                       \
    } while (0)

static void enqueue_body(const char *body, char key[AP_QUEUE_KEY_SIZE])
{
    ap_request_t a;

    memset(&a, 0, sizeof(a));
    a.body = (const uint8_t *)body;
    a.body_len = strlen(body);
    assert_int_equal(ap_queue_enqueue(&queue, &a, key), AP_OK);
}

static size_t live_count(void)
{
    size_t n = 99;
    assert_int_equal(ram_store.count(ram_store.ctx, AP_STORE_LIVE, &n), AP_OK);
    return n;
}

static size_t dead_count(void)
{
    size_t n = 99;
    assert_int_equal(ram_store.count(ram_store.ctx, AP_STORE_DEAD, &n), AP_OK);
    return n;
}

/* Steps until due, checking the wait it announces, then makes the attempt. */
static ap_status_t step_after(uint32_t expect_wait)
{
    uint32_t wait = 12345;

    if (expect_wait > 0) {
        size_t before = post_count;
        assert_int_equal(ap_queue_step(&queue, &wait), AP_ERR_QUEUE_BACKOFF);
        assert_int_equal(wait, expect_wait);
        fake_now += expect_wait - 1;
        assert_int_equal(ap_queue_step(&queue, &wait), AP_ERR_QUEUE_BACKOFF);
        assert_int_equal(wait, 1);
        assert_int_equal(post_count, before); /* nothing sent while backing off */
        fake_now += 1;
    }
    return ap_queue_step(&queue, &wait);
}

/* ---- tests --------------------------------------------------------------- */

static void test_delivers_oldest_first(void **state)
{
    static const ap_header_t hdr[] = { { "Authorization", "Bearer t" } };
    char k1[AP_QUEUE_KEY_SIZE];
    char k2[AP_QUEUE_KEY_SIZE];
    char k3[AP_QUEUE_KEY_SIZE];
    ap_request_t a;
    uint32_t wait = 7;

    (void)state;
    entropy_mode = 0;
    enqueue_body("first", k1);
    memset(&a, 0, sizeof(a));
    a.content_type = "text/plain";
    a.headers = hdr;
    a.header_count = 1;
    a.body = (const uint8_t *)"second";
    a.body_len = 6;
    assert_int_equal(ap_queue_enqueue(&queue, &a, k2), AP_OK);
    enqueue_body("third", k3);
    assert_string_not_equal(k1, k2);
    assert_string_not_equal(k2, k3);
    assert_int_equal(live_count(), 3);

    assert_int_equal(ap_queue_step(&queue, &wait), AP_OK);
    assert_int_equal(wait, 0);
    assert_int_equal(ap_queue_step(&queue, &wait), AP_OK);
    assert_int_equal(ap_queue_step(&queue, &wait), AP_OK);
    assert_int_equal(ap_queue_step(&queue, &wait), AP_ERR_STORE_EMPTY);

    assert_int_equal(post_count, 3);
    assert_string_equal(posts[0].body, "first");
    assert_string_equal(posts[0].key, k1);
    assert_string_equal(posts[0].content_type, "(default)");
    assert_int_equal(posts[0].header_count, 1);
    assert_string_equal(posts[1].body, "second");
    assert_string_equal(posts[1].key, k2);
    assert_string_equal(posts[1].content_type, "text/plain");
    assert_int_equal(posts[1].header_count, 2);
    assert_string_equal(posts[1].last_header, "Authorization: Bearer t");
    assert_string_equal(posts[2].body, "third");
    assert_string_equal(posts[2].key, k3);
    assert_int_equal(live_count(), 0);

    assert_int_equal(ap_queue_counters(&queue)->queued, 3);
    assert_int_equal(ap_queue_counters(&queue)->delivered, 3);
    assert_int_equal(ap_queue_counters(&queue)->retried, 0);
    assert_int_equal(events_of(AP_QUEUE_EV_ATTEMPT), 3);
    assert_int_equal(events_of(AP_QUEUE_EV_DELIVERED), 3);
    assert_string_equal(last_event()->key, k3);
}

static void test_retries_keep_order_and_key(void **state)
{
    char k1[AP_QUEUE_KEY_SIZE];
    char k2[AP_QUEUE_KEY_SIZE];

    (void)state;
    SCRIPT({ AP_ERR_CONNECT, 0, NULL }, { AP_ERR_HTTP_STATUS, 503, NULL },
           { AP_ERR_TIMEOUT, 0, NULL });
    entropy_mode = 0;
    enqueue_body("a", k1);
    enqueue_body("b", k2);
    entropy_mode = 1;

    assert_int_equal(ap_queue_step(&queue, NULL), AP_ERR_QUEUE_BACKOFF);
    assert_int_equal(step_after(100), AP_ERR_QUEUE_BACKOFF);
    assert_int_equal(step_after(200), AP_ERR_QUEUE_BACKOFF);
    assert_int_equal(step_after(400), AP_OK);
    assert_int_equal(ap_queue_step(&queue, NULL), AP_OK);
    assert_int_equal(post_count, 5);
    /* The first alert four times with one key, and only then the second. */
    assert_string_equal(posts[0].key, k1);
    assert_string_equal(posts[1].key, k1);
    assert_string_equal(posts[2].key, k1);
    assert_string_equal(posts[3].key, k1);
    assert_string_equal(posts[3].body, "a");
    assert_string_equal(posts[4].key, k2);
    assert_int_equal(ap_queue_counters(&queue)->retried, 3);
    assert_int_equal(ap_queue_counters(&queue)->resent, 0);
    assert_int_equal(events_of(AP_QUEUE_EV_RETRY), 3);
    assert_int_equal(events[1].kind, AP_QUEUE_EV_RETRY);
    assert_int_equal(events[1].status, AP_ERR_CONNECT);
    assert_int_equal(events[1].delay_ms, 100);
    assert_int_equal(events[1].attempt, 1);
    assert_int_equal(events[3].status, AP_ERR_HTTP_STATUS);
    assert_int_equal(events[3].http, 503);
}

static void test_key_survives_reinit(void **state)
{
    char k1[AP_QUEUE_KEY_SIZE];

    (void)state;
    SCRIPT({ AP_ERR_IO, 0, NULL });
    enqueue_body("kept", k1);
    assert_int_equal(ap_queue_step(&queue, NULL), AP_ERR_QUEUE_BACKOFF);
    /* A restart: a new queue over the same store contents. */
    memset(&queue, 0xA5, sizeof(queue));
    start_queue();
    assert_int_equal(ap_queue_step(&queue, NULL), AP_OK);
    assert_int_equal(post_count, 2);
    assert_string_equal(posts[0].key, k1);
    assert_string_equal(posts[1].key, k1);
    assert_string_equal(posts[1].body, "kept");
    /* The new run starts its count afresh: attempt 1, not a retry. */
    assert_int_equal(ap_queue_counters(&queue)->retried, 0);
    assert_int_equal(ap_queue_counters(&queue)->delivered, 1);
}

static void test_backoff_doubles_to_cap_across_clock_wrap(void **state)
{
    static const uint32_t expect[] = { 100, 200, 400, 800, 1000, 1000 };
    size_t i;

    (void)state;
    SCRIPT({ AP_ERR_CLOSED, 0, NULL }, { AP_ERR_CLOSED, 0, NULL }, { AP_ERR_CLOSED, 0, NULL },
           { AP_ERR_CLOSED, 0, NULL }, { AP_ERR_CLOSED, 0, NULL }, { AP_ERR_CLOSED, 0, NULL });
    enqueue_body("x", NULL);
    assert_int_equal(ap_queue_step(&queue, NULL), AP_ERR_QUEUE_BACKOFF);
    for (i = 0; i < 6; i++) {
        assert_int_equal(last_event()->delay_ms, expect[i]);
        assert_false(last_event()->from_retry_after);
        assert_int_equal(step_after(expect[i]), i < 5 ? AP_ERR_QUEUE_BACKOFF : AP_OK);
    }
    /* The clock wrapped 1024 ms in; 3500 ms of backoff straddled it. */
    assert_true(fake_now < CLOCK_START);
    assert_int_equal(post_count, 7);
}

static void test_full_jitter_range(void **state)
{
    (void)state;
    SCRIPT({ AP_ERR_CLOSED, 0, NULL }, { AP_ERR_CLOSED, 0, NULL }, { AP_ERR_CLOSED, 0, NULL },
           { AP_ERR_CLOSED, 0, NULL });
    enqueue_body("x", NULL);
    /* The bottom of the range: no wait at all. */
    entropy_mode = 2;
    assert_int_equal(ap_queue_step(&queue, NULL), AP_ERR_QUEUE_BACKOFF);
    assert_int_equal(last_event()->delay_ms, 0);
    assert_int_equal(ap_queue_step(&queue, NULL), AP_ERR_QUEUE_BACKOFF);
    assert_int_equal(post_count, 2);
    /* Other values: inside [0, 400] for the third failure. */
    entropy_mode = 0;
    assert_int_equal(ap_queue_step(&queue, NULL), AP_ERR_QUEUE_BACKOFF);
    assert_true(last_event()->delay_ms <= 400);
    assert_true(last_event()->delay_ms > 0);
    /* Without entropy the longest wait of the range is taken. */
    fake_now += 400;
    entropy_mode = 3;
    assert_int_equal(ap_queue_step(&queue, NULL), AP_ERR_QUEUE_BACKOFF);
    assert_int_equal(post_count, 4);
    assert_int_equal(last_event()->delay_ms, 800);
}

static void test_retry_after_honoured_and_capped(void **state)
{
    (void)state;
    cfg.retry_after_cap_ms = 30000;
    start_queue();
    fake_wall = INT64_C(784111777) - 20; /* 20 s before RFC 9110's example date */
    SCRIPT({ AP_ERR_HTTP_STATUS, 503, "5" },
           { AP_ERR_HTTP_STATUS, 429, "7200" },
           { AP_ERR_HTTP_STATUS, 503, "Sun, 06 Nov 1994 08:49:37 GMT" },
           { AP_ERR_HTTP_STATUS, 429, "Sunday, 06-Nov-94 08:49:37 GMT" },
           { AP_ERR_HTTP_STATUS, 500, "3" },          /* only 429 and 503 */
           { AP_ERR_HTTP_STATUS, 503, "later" },      /* unreadable: backoff */
           { AP_ERR_HTTP_STATUS, 503, "0" });
    enqueue_body("x", NULL);

    assert_int_equal(ap_queue_step(&queue, NULL), AP_ERR_QUEUE_BACKOFF);
    assert_int_equal(last_event()->delay_ms, 5000);
    assert_true(last_event()->from_retry_after);
    assert_int_equal(step_after(5000), AP_ERR_QUEUE_BACKOFF);
    assert_int_equal(last_event()->delay_ms, 30000); /* 2 h asked, the cap honoured */
    assert_true(last_event()->from_retry_after);
    assert_int_equal(step_after(30000), AP_ERR_QUEUE_BACKOFF);
    assert_int_equal(last_event()->delay_ms, 20000);
    assert_true(last_event()->from_retry_after);
    fake_wall += 10;
    assert_int_equal(step_after(20000), AP_ERR_QUEUE_BACKOFF);
    assert_int_equal(last_event()->delay_ms, 10000);
    assert_int_equal(step_after(10000), AP_ERR_QUEUE_BACKOFF);
    assert_false(last_event()->from_retry_after);
    assert_int_equal(last_event()->delay_ms, 1000); /* fifth failure, at the cap */
    assert_int_equal(step_after(1000), AP_ERR_QUEUE_BACKOFF);
    assert_false(last_event()->from_retry_after);
    assert_int_equal(step_after(1000), AP_ERR_QUEUE_BACKOFF);
    assert_true(last_event()->from_retry_after);
    assert_int_equal(last_event()->delay_ms, 0);
    assert_int_equal(ap_queue_step(&queue, NULL), AP_OK);
    assert_int_equal(post_count, 8);
}

static void test_retry_after_date_without_wall_clock(void **state)
{
    (void)state;
    SCRIPT({ AP_ERR_HTTP_STATUS, 503, "Sun, 06 Nov 1994 08:49:37 GMT" },
           { AP_ERR_HTTP_STATUS, 503, "Sun Nov  6 08:49:37 1994" });
    enqueue_body("x", NULL);
    assert_int_equal(ap_queue_step(&queue, NULL), AP_ERR_QUEUE_BACKOFF);
    assert_false(last_event()->from_retry_after);
    assert_int_equal(last_event()->delay_ms, 100);
    /* A platform with no wall clock at all is the same. */
    {
        static const ap_platform_t no_wall = { NULL, fake_now_ms, NULL, fake_entropy };
        cfg.platform = &no_wall;
        start_queue();
    }
    assert_int_equal(ap_queue_step(&queue, NULL), AP_ERR_QUEUE_BACKOFF);
    assert_false(last_event()->from_retry_after);
    assert_int_equal(last_event()->delay_ms, 100);
}

static void test_refused_alert_is_dead_lettered(void **state)
{
    char k1[AP_QUEUE_KEY_SIZE];
    uint8_t rec[256];
    size_t len = 0;
    ap_queue_record_t r;

    (void)state;
    SCRIPT({ AP_ERR_HTTP_STATUS, 422, NULL }, { AP_ERR_HTTP_STATUS, 400, NULL },
           { AP_OK, 201, NULL });
    entropy_mode = 0;
    enqueue_body("bad", k1);
    enqueue_body("also bad", NULL);
    enqueue_body("good", NULL);
    assert_int_equal(ap_queue_step(&queue, NULL), AP_OK);
    assert_int_equal(last_event()->kind, AP_QUEUE_EV_DEAD_LETTER);
    assert_int_equal(last_event()->http, 422);
    assert_string_equal(last_event()->key, k1);
    assert_int_equal(ap_queue_step(&queue, NULL), AP_OK);
    assert_int_equal(ap_queue_step(&queue, NULL), AP_OK);
    assert_int_equal(last_event()->kind, AP_QUEUE_EV_DELIVERED);
    assert_int_equal(ap_queue_step(&queue, NULL), AP_ERR_STORE_EMPTY);
    assert_int_equal(live_count(), 0);
    assert_int_equal(dead_count(), 2);
    assert_int_equal(ap_queue_counters(&queue)->dead_lettered, 2);
    assert_int_equal(ap_queue_counters(&queue)->delivered, 1);
    /* The dead part holds the alert itself, key and all, oldest first. */
    assert_int_equal(ram_store.read(ram_store.ctx, AP_STORE_DEAD, 0, rec, sizeof(rec), &len),
                     AP_OK);
    assert_int_equal(ap_queue_record_decode(rec, len, &r), AP_OK);
    assert_string_equal(r.key, k1);
    assert_memory_equal(r.body, "bad", 3);
    {
        size_t live = 9;
        size_t dead = 9;
        assert_int_equal(ap_queue_pending(&queue, &live, &dead), AP_OK);
        assert_int_equal(live, 0);
        assert_int_equal(dead, 2);
    }
}

static void test_config_failure_keeps_backlog(void **state)
{
    static const step_script_t stops[] = {
        { AP_ERR_HTTP_STATUS, 401, NULL }, { AP_ERR_HTTP_STATUS, 403, NULL },
        { AP_ERR_HTTP_STATUS, 404, NULL }, { AP_ERR_TLS_CERT, 0, NULL },
        { AP_ERR_TLS_VERSION, 0, NULL }, { AP_ERR_TLS_PIN, 0, NULL },
        { AP_ERR_TLS_CLIENT_CERT, 0, NULL }, { AP_ERR_TLS_SETUP, 0, NULL },
    };
    size_t i;

    (void)state;
    enqueue_body("1", NULL);
    enqueue_body("2", NULL);
    enqueue_body("3", NULL);
    for (i = 0; i < sizeof(stops) / sizeof(stops[0]); i++) {
        uint32_t wait = 5;
        script = &stops[i];
        script_len = 1;
        post_count = 0;
        assert_int_equal(ap_queue_step(&queue, &wait), stops[i].status);
        assert_int_equal(wait, 0);
        assert_int_equal(ap_queue_last_http_status(&queue), stops[i].http);
        assert_int_equal(last_event()->kind, AP_QUEUE_EV_STOPPED);
        assert_int_equal(last_event()->status, stops[i].status);
        /* A bad token must not dead-letter the backlog. */
        assert_int_equal(live_count(), 3);
        assert_int_equal(dead_count(), 0);
    }
    /* Once fixed, the next step delivers at once, the oldest first. */
    script_len = 0;
    post_count = 0;
    assert_int_equal(ap_queue_step(&queue, NULL), AP_OK);
    assert_string_equal(posts[0].body, "1");
    assert_int_equal(ap_queue_counters(&queue)->dead_lettered, 0);
    assert_int_equal(ap_queue_counters(&queue)->retried, 0);
}

static void test_refused_without_dead_part_stops(void **state)
{
    (void)state;
    setup_store(1024, 0);
    assert_null(ram_store.dead_letter);
    {
        static ap_store_t no_dead;
        no_dead = flaky_store;
        no_dead.dead_letter = NULL;
        cfg.store = &no_dead;
        start_queue();
    }
    SCRIPT({ AP_ERR_HTTP_STATUS, 400, NULL });
    enqueue_body("x", NULL);
    assert_int_equal(ap_queue_step(&queue, NULL), AP_ERR_HTTP_STATUS);
    assert_int_equal(live_count(), 1);
    assert_int_equal(ap_queue_counters(&queue)->dead_lettered, 0);
}

static void test_refused_with_dead_part_full_stops(void **state)
{
    (void)state;
    SCRIPT({ AP_ERR_HTTP_STATUS, 413, NULL });
    fail.dead = AP_ERR_STORE_FULL;
    enqueue_body("x", NULL);
    assert_int_equal(ap_queue_step(&queue, NULL), AP_ERR_STORE_FULL);
    assert_int_equal(live_count(), 1);
    assert_int_equal(dead_count(), 0);
    assert_int_equal(ap_queue_counters(&queue)->dead_lettered, 0);
    assert_int_equal(last_event()->kind, AP_QUEUE_EV_STOPPED);
}

static void test_max_attempts(void **state)
{
    (void)state;
    cfg.max_attempts = 3; /* curl's --retry 2 */
    start_queue();
    SCRIPT({ AP_ERR_DNS, 0, NULL }, { AP_ERR_DNS, 0, NULL }, { AP_ERR_DNS, 0, NULL });
    enqueue_body("x", NULL);
    assert_int_equal(ap_queue_step(&queue, NULL), AP_ERR_QUEUE_BACKOFF);
    assert_int_equal(step_after(100), AP_ERR_QUEUE_BACKOFF);
    assert_int_equal(step_after(200), AP_ERR_DNS);
    assert_int_equal(post_count, 3);
    assert_int_equal(last_event()->kind, AP_QUEUE_EV_STOPPED);
    assert_int_equal(live_count(), 1);
    assert_int_equal(ap_queue_counters(&queue)->retried, 2);
    /* Called again, it starts afresh (the script is spent: 200 OK). */
    assert_int_equal(ap_queue_step(&queue, NULL), AP_OK);
    assert_int_equal(last_event()->attempt, 1);
}

static void test_retry_max_time(void **state)
{
    (void)state;
    cfg.retry_max_ms = 250;
    start_queue();
    SCRIPT({ AP_ERR_TIMEOUT, 0, NULL }, { AP_ERR_TIMEOUT, 0, NULL }, { AP_ERR_TIMEOUT, 0, NULL });
    enqueue_body("x", NULL);
    assert_int_equal(ap_queue_step(&queue, NULL), AP_ERR_QUEUE_BACKOFF);
    assert_int_equal(step_after(100), AP_ERR_QUEUE_BACKOFF);
    /* 300 ms after the first attempt: no further retry is scheduled. */
    assert_int_equal(step_after(200), AP_ERR_TIMEOUT);
    assert_int_equal(post_count, 3);
    assert_int_equal(live_count(), 1);
}

static void test_unknown_outcome_is_resent_and_counted(void **state)
{
    char k1[AP_QUEUE_KEY_SIZE];

    (void)state;
    SCRIPT({ AP_ERR_OUTCOME_UNKNOWN, 0, NULL }, { AP_ERR_CONNECT, 0, NULL },
           { AP_ERR_OUTCOME_UNKNOWN, 0, NULL }, { AP_OK, 200, NULL });
    enqueue_body("maybe", k1);
    assert_int_equal(ap_queue_step(&queue, NULL), AP_ERR_QUEUE_BACKOFF);
    assert_int_equal(last_event()->status, AP_ERR_OUTCOME_UNKNOWN);
    assert_int_equal(step_after(100), AP_ERR_QUEUE_BACKOFF);
    assert_int_equal(step_after(200), AP_ERR_QUEUE_BACKOFF);
    assert_int_equal(step_after(400), AP_OK);
    /* Two unknown outcomes, each followed by one more attempt: two re-sends,
     * each announced, each with the same key. */
    assert_int_equal(ap_queue_counters(&queue)->resent, 2);
    assert_int_equal(ap_queue_counters(&queue)->retried, 3);
    assert_int_equal(events_of(AP_QUEUE_EV_RESEND), 2);
    assert_int_equal(events_of(AP_QUEUE_EV_ATTEMPT), 2);
    assert_int_equal(events[2].kind, AP_QUEUE_EV_RESEND);
    assert_string_equal(events[2].key, k1);
    assert_int_equal(events[2].attempt, 2);
    assert_int_equal(post_count, 4);
    assert_string_equal(posts[3].key, k1);
}

static void test_unremovable_delivery_is_a_counted_resend(void **state)
{
    (void)state;
    enqueue_body("x", NULL);
    fail.remove = AP_ERR_STORE_IO;
    assert_int_equal(ap_queue_step(&queue, NULL), AP_ERR_STORE_IO);
    assert_int_equal(live_count(), 1);
    assert_int_equal(ap_queue_counters(&queue)->delivered, 0);
    fail.remove = AP_OK;
    assert_int_equal(ap_queue_step(&queue, NULL), AP_OK);
    assert_int_equal(ap_queue_counters(&queue)->resent, 1);
    assert_int_equal(ap_queue_counters(&queue)->delivered, 1);
    assert_int_equal(post_count, 2);
    assert_string_equal(posts[0].key, posts[1].key);
}

static void test_full_store_is_reported_not_evicted(void **state)
{
    char first[AP_QUEUE_KEY_SIZE];
    ap_status_t st = AP_OK;
    size_t stored = 0;
    size_t i;

    (void)state;
    setup_store(400, 100); /* 300 live bytes: a few small records */
    enqueue_body("oldest", first);
    stored = 1;
    for (i = 0; i < 20 && st == AP_OK; i++) {
        st = ap_queue_enqueue(&queue, &(ap_request_t){ .body = (const uint8_t *)"more",
                                                       .body_len = 4 }, NULL);
        stored += st == AP_OK;
    }
    assert_int_equal(st, AP_ERR_STORE_FULL);
    assert_true(stored >= 2);
    assert_int_equal(live_count(), stored);
    assert_int_equal(ap_queue_counters(&queue)->queued, stored);
    /* Nothing was evicted: the oldest is still first. */
    assert_int_equal(ap_queue_step(&queue, NULL), AP_OK);
    assert_string_equal(posts[0].key, first);
    /* And there is room again. */
    enqueue_body("after", NULL);
    assert_int_equal(live_count(), stored);
}

static void test_too_large_alert(void **state)
{
    static char big[300];
    ap_request_t a;

    (void)state;
    memset(big, 'b', sizeof(big) - 1);
    memset(&a, 0, sizeof(a));
    a.body = (const uint8_t *)big;
    a.body_len = strlen(big); /* more than the 256-byte record buffer */
    assert_int_equal(ap_queue_enqueue(&queue, &a, NULL), AP_ERR_TOO_LARGE);
    /* Fits the record buffer, but not the whole (empty) store. */
    setup_store(200, 0);
    a.body_len = 180;
    assert_int_equal(ap_queue_enqueue(&queue, &a, NULL), AP_ERR_TOO_LARGE);
    assert_int_equal(live_count(), 0);
    assert_int_equal(ap_queue_counters(&queue)->queued, 0);
    /* An alert the codec refuses is refused here too, and not stored. */
    a.body_len = 1;
    a.content_type = "bad\r\ntype";
    assert_int_equal(ap_queue_enqueue(&queue, &a, NULL), AP_ERR_BAD_ARG);
    assert_int_equal(live_count(), 0);
}

static void test_enqueue_failures_store_nothing(void **state)
{
    ap_request_t a = { NULL, NULL, 0, (const uint8_t *)"x", 1 };

    (void)state;
    fail.append = AP_ERR_STORE_IO;
    assert_int_equal(ap_queue_enqueue(&queue, &a, NULL), AP_ERR_STORE_IO);
    fail.append = AP_OK;
    entropy_mode = 3;
    assert_int_equal(ap_queue_enqueue(&queue, &a, NULL), AP_ERR_ENTROPY);
    assert_int_equal(live_count(), 0);
    assert_int_equal(ap_queue_counters(&queue)->queued, 0);
    assert_int_equal(ap_queue_enqueue(NULL, &a, NULL), AP_ERR_BAD_ARG);
    assert_int_equal(ap_queue_enqueue(&queue, NULL, NULL), AP_ERR_BAD_ARG);
}

static void test_corrupt_records_are_set_aside(void **state)
{
    uint8_t *p;

    (void)state;
    enqueue_body("one", NULL);
    enqueue_body("two", NULL);
    enqueue_body("three", NULL);
    /* The store's own check fails on the first: it set it aside. */
    fail.corrupt_reads = 1;
    assert_int_equal(ap_queue_step(&queue, NULL), AP_OK);
    assert_string_equal(posts[0].body, "two");
    assert_int_equal(events[0].kind, AP_QUEUE_EV_CORRUPT);
    assert_int_equal(dead_count(), 1);
    /* The RAM ring has no check: the codec's CRC catches a flipped byte of
     * "three" and the queue moves it to the dead part itself. */
    p = memchr(ram_buf, 't', 1536);
    while (p != NULL && memcmp(p, "three", 5) != 0) {
        p = memchr(p + 1, 't', (size_t)(ram_buf + 1536 - (p + 1)));
    }
    assert_non_null(p);
    p[1] ^= 0x01;
    enqueue_body("four", NULL);
    assert_int_equal(ap_queue_step(&queue, NULL), AP_OK);
    assert_string_equal(posts[1].body, "four");
    assert_int_equal(ap_queue_counters(&queue)->corrupt, 2);
    assert_int_equal(ap_queue_counters(&queue)->delivered, 2);
    assert_int_equal(ap_queue_counters(&queue)->dead_lettered, 0);
    assert_int_equal(dead_count(), 2);
    assert_int_equal(events_of(AP_QUEUE_EV_CORRUPT), 2);
    /* A store that can set nothing aside stops the flush. */
    enqueue_body("five", NULL);
    fail.corrupt_reads = 0;
    p = memchr(ram_buf, 'f', 1536);
    while (p != NULL && memcmp(p, "five", 4) != 0) {
        p = memchr(p + 1, 'f', (size_t)(ram_buf + 1536 - (p + 1)));
    }
    assert_non_null(p);
    p[0] ^= 0x20;
    fail.dead = AP_ERR_STORE_FULL;
    assert_int_equal(ap_queue_step(&queue, NULL), AP_ERR_STORE_CORRUPT);
    assert_int_equal(live_count(), 1);
}

static void test_record_larger_than_buffer_stops(void **state)
{
    static uint8_t small[64];
    char big[100];

    (void)state;
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    enqueue_body(big, NULL);
    cfg.record_buf = small;
    cfg.record_buf_size = sizeof(small);
    start_queue();
    assert_int_equal(ap_queue_step(&queue, NULL), AP_ERR_NO_SPACE);
    assert_int_equal(live_count(), 1);
    assert_int_equal(post_count, 0);
}

static void test_pending_reports_store_io(void **state)
{
    (void)state;
    enqueue_body("x", NULL);
    fail.count = AP_ERR_STORE_IO;
    {
        size_t live;
        size_t dead;
        assert_int_equal(ap_queue_pending(&queue, &live, &dead), AP_ERR_STORE_IO);
    }
}

static void test_init_refuses_bad_config(void **state)
{
    ap_queue_config_t c;
    ap_store_t s = flaky_store;

    (void)state;
    assert_int_equal(ap_queue_init(NULL, &cfg), AP_ERR_BAD_ARG);
    assert_int_equal(ap_queue_init(&queue, NULL), AP_ERR_BAD_ARG);
#define REFUSED(change)                                               \
    do {                                                              \
        c = cfg;                                                      \
        change;                                                       \
        assert_int_equal(ap_queue_init(&queue, &c), AP_ERR_BAD_ARG);  \
    } while (0)
    REFUSED(c.store = NULL);
    REFUSED(s.read = NULL; c.store = &s);
    REFUSED(c.platform = NULL);
    REFUSED(c.post = NULL);
    REFUSED(c.record_buf = NULL);
    REFUSED(c.record_buf_size = 0);
    REFUSED(c.backoff_base_ms = 0);
    REFUSED(c.backoff_cap_ms = 50);
    REFUSED(c.backoff_cap_ms = 0x80000000u);
    REFUSED(c.retry_after_cap_ms = 0x80000000u);
#undef REFUSED
    assert_int_equal(ap_queue_step(NULL, NULL), AP_ERR_BAD_ARG);
    memset(&queue, 0, sizeof(queue));
    assert_int_equal(ap_queue_step(&queue, NULL), AP_ERR_BAD_ARG);
    ap_queue_config_defaults(&c);
    assert_int_equal(c.backoff_base_ms, AP_DEFAULT_BACKOFF_BASE_MS);
    assert_int_equal(c.backoff_cap_ms, AP_DEFAULT_BACKOFF_CAP_MS);
    assert_int_equal(c.retry_after_cap_ms, AP_DEFAULT_RETRY_AFTER_CAP_MS);
    assert_int_equal(c.max_attempts, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_delivers_oldest_first, setup),
        cmocka_unit_test_setup(test_retries_keep_order_and_key, setup),
        cmocka_unit_test_setup(test_key_survives_reinit, setup),
        cmocka_unit_test_setup(test_backoff_doubles_to_cap_across_clock_wrap, setup),
        cmocka_unit_test_setup(test_full_jitter_range, setup),
        cmocka_unit_test_setup(test_retry_after_honoured_and_capped, setup),
        cmocka_unit_test_setup(test_retry_after_date_without_wall_clock, setup),
        cmocka_unit_test_setup(test_refused_alert_is_dead_lettered, setup),
        cmocka_unit_test_setup(test_config_failure_keeps_backlog, setup),
        cmocka_unit_test_setup(test_refused_without_dead_part_stops, setup),
        cmocka_unit_test_setup(test_refused_with_dead_part_full_stops, setup),
        cmocka_unit_test_setup(test_max_attempts, setup),
        cmocka_unit_test_setup(test_retry_max_time, setup),
        cmocka_unit_test_setup(test_unknown_outcome_is_resent_and_counted, setup),
        cmocka_unit_test_setup(test_unremovable_delivery_is_a_counted_resend, setup),
        cmocka_unit_test_setup(test_full_store_is_reported_not_evicted, setup),
        cmocka_unit_test_setup(test_too_large_alert, setup),
        cmocka_unit_test_setup(test_enqueue_failures_store_nothing, setup),
        cmocka_unit_test_setup(test_corrupt_records_are_set_aside, setup),
        cmocka_unit_test_setup(test_record_larger_than_buffer_stops, setup),
        cmocka_unit_test_setup(test_pending_reports_store_io, setup),
        cmocka_unit_test_setup(test_init_refuses_bad_config, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
