/*
 * The retry policy as pure functions: the classification table, the bounds
 * and spread of full-jitter backoff, and Retry-After in every form RFC 9110
 * makes a recipient accept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "alertpost/ap_queue.h"

/* 1994-11-06 08:49:37 UTC, RFC 9110's example instant. */
#define EXAMPLE_T INT64_C(784111777)

static void test_classify_statuses(void **state)
{
    static const ap_status_t again[] = {
        AP_ERR_DNS, AP_ERR_CONNECT, AP_ERR_TIMEOUT, AP_ERR_IO, AP_ERR_CLOSED,
        AP_ERR_TRUNCATED, AP_ERR_OUTCOME_UNKNOWN, AP_ERR_UNANSWERED, AP_ERR_NOT_SENT,
    };
    static const ap_status_t stop[] = {
        AP_ERR_TLS_VERSION, AP_ERR_TLS_CERT, AP_ERR_TLS_PIN, AP_ERR_TLS_CLIENT_CERT,
        AP_ERR_TLS_SETUP, AP_ERR_TLS, AP_ERR_ENTROPY, AP_ERR_HTTP_RESPONSE, AP_ERR_NO_SPACE,
        AP_ERR_BAD_ARG, AP_ERR_URL,
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(again) / sizeof(again[0]); i++) {
        assert_int_equal(ap_retry_classify(again[i], 0), AP_RETRY_AGAIN);
    }
    for (i = 0; i < sizeof(stop) / sizeof(stop[0]); i++) {
        assert_int_equal(ap_retry_classify(stop[i], 0), AP_RETRY_STOP);
    }
    assert_int_equal(ap_retry_classify(AP_OK, 200), AP_RETRY_DELIVERED);
    assert_int_equal(ap_retry_classify(AP_OK, 204), AP_RETRY_DELIVERED);
    assert_int_equal(ap_retry_classify(AP_OK, 299), AP_RETRY_DELIVERED);
    /* "OK" without a 2xx is not a delivery, whoever says so. */
    assert_int_equal(ap_retry_classify(AP_OK, 0), AP_RETRY_STOP);
    assert_int_equal(ap_retry_classify(AP_OK, 503), AP_RETRY_STOP);
    assert_int_equal(ap_retry_classify(AP_ERR_HTTP_STATUS, 200), AP_RETRY_STOP);
}

static void test_classify_http_codes(void **state)
{
    static const int again[] = { 408, 425, 429, 500, 502, 503, 504 };
    static const int dead[] = { 400, 413, 415, 422 };
    static const int stop[] = { 301, 302, 304, 401, 403, 404, 405, 406, 409, 410, 411, 412,
                                414, 417, 421, 426, 428, 431, 451, 499, 501, 505, 511, 599 };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(again) / sizeof(again[0]); i++) {
        assert_int_equal(ap_retry_classify(AP_ERR_HTTP_STATUS, again[i]), AP_RETRY_AGAIN);
    }
    for (i = 0; i < sizeof(dead) / sizeof(dead[0]); i++) {
        assert_int_equal(ap_retry_classify(AP_ERR_HTTP_STATUS, dead[i]), AP_RETRY_DEAD_LETTER);
    }
    for (i = 0; i < sizeof(stop) / sizeof(stop[0]); i++) {
        assert_int_equal(ap_retry_classify(AP_ERR_HTTP_STATUS, stop[i]), AP_RETRY_STOP);
    }
}

static void test_backoff_bounds(void **state)
{
    (void)state;
    assert_int_equal(ap_retry_backoff_ms(1000, 60000, 0, UINT32_MAX), 0);
    /* The top of the range: base * 2^(failures-1), up to the cap. */
    assert_int_equal(ap_retry_backoff_ms(1000, 60000, 1, UINT32_MAX), 1000);
    assert_int_equal(ap_retry_backoff_ms(1000, 60000, 2, UINT32_MAX), 2000);
    assert_int_equal(ap_retry_backoff_ms(1000, 60000, 3, UINT32_MAX), 4000);
    assert_int_equal(ap_retry_backoff_ms(1000, 60000, 6, UINT32_MAX), 32000);
    /* 64 s is over the cap: the range is [0, 60000]. */
    assert_int_equal(ap_retry_backoff_ms(1000, 60000, 7, UINT32_MAX), 60000);
    assert_int_equal(ap_retry_backoff_ms(1000, 60000, 8, UINT32_MAX), 60000);
    /* No overflow however many failures, and with the largest settings. */
    assert_int_equal(ap_retry_backoff_ms(1000, 60000, UINT32_MAX, UINT32_MAX), 60000);
    assert_int_equal(ap_retry_backoff_ms(0x7FFFFFFFu, 0x7FFFFFFFu, 40, UINT32_MAX), 0x7FFFFFFFu);
    /* The middle, and the bottom: full jitter reaches 0. */
    assert_int_equal(ap_retry_backoff_ms(1000, 60000, 1, 0x80000000u), 500);
    assert_int_equal(ap_retry_backoff_ms(1000, 60000, 7, 0x80000000u), 30000);
    assert_int_equal(ap_retry_backoff_ms(1000, 60000, 5, 0), 0);
    assert_int_equal(ap_retry_backoff_ms(1000, 60000, 5, 268000), 0);
}

static void test_backoff_jitter_spread(void **state)
{
    uint64_t x = 0x243F6A8885A308D3ull;
    uint32_t lo = UINT32_MAX;
    uint32_t hi = 0;
    uint32_t buckets[8] = { 0 };
    int i;

    (void)state;
    for (i = 0; i < 8000; i++) {
        uint32_t d;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        d = ap_retry_backoff_ms(500, 100000, 4, (uint32_t)(x >> 16));
        assert_true(d <= 4000);
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
        buckets[d * 8u / 4001u]++;
    }
    /* The whole range is used, roughly evenly (each eighth gets 1000 +- 20%). */
    assert_true(lo < 50 && hi > 3950);
    for (i = 0; i < 8; i++) {
        assert_in_range(buckets[i], 800, 1200);
    }
}

static uint32_t parse_ok(const char *v, int64_t wall)
{
    uint32_t d = 12345;

    assert_true(ap_retry_after_parse(v, wall, &d));
    return d;
}

static void test_retry_after_seconds(void **state)
{
    uint32_t d = 7;

    (void)state;
    assert_int_equal(parse_ok("0", AP_WALL_TIME_UNKNOWN), 0);
    assert_int_equal(parse_ok("120", AP_WALL_TIME_UNKNOWN), 120);
    assert_int_equal(parse_ok("000042", EXAMPLE_T), 42);
    assert_int_equal(parse_ok("4294967295", 0), UINT32_MAX);
    assert_int_equal(parse_ok("99999999999999999999999", 0), UINT32_MAX);
    assert_false(ap_retry_after_parse("", 0, &d));
    assert_false(ap_retry_after_parse("-1", 0, &d));
    assert_false(ap_retry_after_parse("+5", 0, &d));
    assert_false(ap_retry_after_parse("1.5", 0, &d));
    assert_false(ap_retry_after_parse("12a", 0, &d));
    assert_false(ap_retry_after_parse("12 ", 0, &d));
    assert_false(ap_retry_after_parse(NULL, 0, &d));
    assert_false(ap_retry_after_parse("5", 0, NULL));
    assert_int_equal(d, 7);
}

static void test_retry_after_dates(void **state)
{
    (void)state;
    /* The three forms of the same instant, 100 s before it. */
    assert_int_equal(parse_ok("Sun, 06 Nov 1994 08:49:37 GMT", EXAMPLE_T - 100), 100);
    assert_int_equal(parse_ok("Sunday, 06-Nov-94 08:49:37 GMT", EXAMPLE_T - 100), 100);
    assert_int_equal(parse_ok("Sun Nov  6 08:49:37 1994", EXAMPLE_T - 100), 100);
    /* The weekday is not checked against the date. */
    assert_int_equal(parse_ok("Mon, 06 Nov 1994 08:49:37 GMT", EXAMPLE_T), 0);
    /* In the past: no wait. */
    assert_int_equal(parse_ok("Sun, 06 Nov 1994 08:49:37 GMT", EXAMPLE_T + 5000), 0);
    /* Leap day, month ends, a leap second. */
    assert_int_equal(parse_ok("Tue, 29 Feb 2000 00:00:00 GMT", INT64_C(951782400) - 1), 1);
    assert_int_equal(parse_ok("Fri, 31 Dec 1999 23:59:60 GMT", INT64_C(946684800) - 60), 60);
    assert_int_equal(parse_ok("Thu Jan  1 00:00:10 1970", 0), 10);
    assert_int_equal(parse_ok("Thu Jan 01 00:00:10 1970", 0), 10);
    /* Far ahead saturates rather than wraps. */
    assert_int_equal(parse_ok("Fri, 31 Dec 9999 23:59:59 GMT", 0), UINT32_MAX);
}

static void test_retry_after_two_digit_year(void **state)
{
    int64_t jan_2026 = INT64_C(1767225600);

    (void)state;
    /* "69" in 2026 is 2069 (43 years ahead), "77" is 1977 (51 would be too far). */
    assert_int_equal(parse_ok("Tuesday, 01-Jan-69 00:00:00 GMT", INT64_C(3124224000) - 9), 9);
    assert_true(parse_ok("Tuesday, 01-Jan-69 00:00:00 GMT", jan_2026) > 1000000000u);
    assert_int_equal(parse_ok("Saturday, 01-Jan-77 00:00:00 GMT", jan_2026), 0);
    assert_int_equal(parse_ok("Thursday, 01-Jan-26 00:00:10 GMT", jan_2026), 10);
}

static void test_retry_after_refused(void **state)
{
    static const char *const bad[] = {
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Nov 1994 08:49:37 GMT ",
        "Sun, 06 Nov 1994 08:49:37",
        "sun, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 nov 1994 08:49:37 GMT",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun,  06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 94 08:49:37 GMT",
        "Sun, 31 Nov 1994 08:49:37 GMT",
        "Sun, 29 Feb 1900 08:49:37 GMT",
        "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 06 Nov 1994 08:49:61 GMT",
        "Sun, 06 Nov 0000 08:49:37 GMT",
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sunday, 06 Nov 94 08:49:37 GMT",
        "Sun, 06-Nov-94 08:49:37 GMT",
        "Sunday 06-Nov-94 08:49:37 GMT",
        "Sun Nov 6 08:49:37 1994",
        "Sun Nov  6 08:49:37 94",
        "Sun Nov  6 08:49:37 1994 GMT",
        "Sun Nov   6 08:49:37 1994",
        "Sun,Nov  6 08:49:37 1994",
        "Sunny, 06-Nov-94 08:49:37 GMT",
        "Funday, 06-Nov-94 08:49:37 GMT",
        "soon",
        " 5",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint32_t d = 7;
        if (ap_retry_after_parse(bad[i], EXAMPLE_T, &d)) {
            fail_msg("accepted \"%s\"", bad[i]);
        }
        assert_int_equal(d, 7);
    }
}

static void test_retry_after_date_needs_wall_clock(void **state)
{
    uint32_t d = 7;

    (void)state;
    assert_false(ap_retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", AP_WALL_TIME_UNKNOWN, &d));
    assert_false(ap_retry_after_parse("Sunday, 06-Nov-94 08:49:37 GMT", AP_WALL_TIME_UNKNOWN, &d));
    assert_false(ap_retry_after_parse("Sun Nov  6 08:49:37 1994", AP_WALL_TIME_UNKNOWN, &d));
    assert_int_equal(d, 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify_statuses),
        cmocka_unit_test(test_classify_http_codes),
        cmocka_unit_test(test_backoff_bounds),
        cmocka_unit_test(test_backoff_jitter_spread),
        cmocka_unit_test(test_retry_after_seconds),
        cmocka_unit_test(test_retry_after_dates),
        cmocka_unit_test(test_retry_after_two_digit_year),
        cmocka_unit_test(test_retry_after_refused),
        cmocka_unit_test(test_retry_after_date_needs_wall_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
