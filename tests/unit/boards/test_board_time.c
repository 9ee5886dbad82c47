/*
 * The board's time policy (boards/mps2/common/board_time.c) on the host:
 * unknown until an answer is accepted; answers before the build time or
 * past the 20-year horizon refused with a reason; the clock never goes
 * back (a small step back held, a large one refused); the clock runs on
 * the counter across its 2^32 wrap; and the RFC 3339 formatting against
 * the host's gmtime().
 */
/* gmtime_r(), the reference for the formatting. */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "board_time.h"

/* 2026-01-01T00:00:00Z, a build time. */
#define BUILD INT64_C(1767225600)
#define DAY   INT64_C(86400)

static void test_unknown_until_accepted(void **state)
{
    ap_board_time_t t;

    (void)state;
    ap_board_time_init(&t, BUILD);
    assert_true(ap_board_time_now(&t, 0) == AP_BOARD_TIME_UNKNOWN);
    assert_true(ap_board_time_now(&t, 123456) == AP_BOARD_TIME_UNKNOWN);
    assert_true(ap_board_time_now_ms(&t, 1) == AP_BOARD_TIME_UNKNOWN);
}

static void test_first_answer_sets_and_runs(void **state)
{
    ap_board_time_t t;
    char why[160];

    (void)state;
    ap_board_time_init(&t, BUILD);
    assert_int_equal(ap_board_time_offer(&t, BUILD + 10 * DAY, 250000, 1000, why, sizeof why),
                     AP_BOARD_TIME_SET);
    assert_non_null(strstr(why, "accepted"));
    assert_true(ap_board_time_now(&t, 1000) == BUILD + 10 * DAY);
    assert_true(ap_board_time_now_ms(&t, 1000) == (BUILD + 10 * DAY) * 1000 + 250);
    /* 1.75 s of counter later: 2.0 s past the whole second. */
    assert_true(ap_board_time_now_ms(&t, 2750) == (BUILD + 10 * DAY) * 1000 + 2000);
    assert_true(ap_board_time_now(&t, 2750) == BUILD + 10 * DAY + 2);
    assert_int_equal(t.accepted, 1);
    assert_int_equal(t.refused, 0);
}

static void test_before_build_time_refused(void **state)
{
    ap_board_time_t t;
    char why[160];

    (void)state;
    ap_board_time_init(&t, BUILD);
    assert_int_equal(ap_board_time_offer(&t, BUILD - 1, 999999, 5, why, sizeof why),
                     AP_BOARD_TIME_TOO_EARLY);
    assert_non_null(strstr(why, "earlier than the firmware's build time 2026-01-01T00:00:00Z"));
    assert_int_equal(ap_board_time_offer(&t, 0, 0, 5, why, sizeof why), AP_BOARD_TIME_TOO_EARLY);
    assert_int_equal(ap_board_time_offer(&t, INT64_MIN, 0, 5, why, sizeof why),
                     AP_BOARD_TIME_TOO_EARLY);
    assert_true(ap_board_time_now(&t, 10) == AP_BOARD_TIME_UNKNOWN);
    assert_int_equal(t.refused, 3);
    /* The build time itself is the first time accepted. */
    assert_int_equal(ap_board_time_offer(&t, BUILD, 0, 5, NULL, 0), AP_BOARD_TIME_SET);
}

static void test_past_horizon_refused(void **state)
{
    ap_board_time_t t;
    char why[160];
    const int64_t ceiling = BUILD + AP_BOARD_TIME_HORIZON_S;

    (void)state;
    ap_board_time_init(&t, BUILD);
    assert_int_equal(ap_board_time_offer(&t, ceiling, 0, 5, why, sizeof why),
                     AP_BOARD_TIME_TOO_LATE);
    assert_non_null(strstr(why, "later than 2046-01-01T"));
    assert_non_null(strstr(why, "20 years after the firmware's build time"));
    assert_int_equal(ap_board_time_offer(&t, INT64_MAX, 0, 5, NULL, 0), AP_BOARD_TIME_TOO_LATE);
    assert_true(ap_board_time_now(&t, 10) == AP_BOARD_TIME_UNKNOWN);
    assert_int_equal(ap_board_time_offer(&t, ceiling - 1, 0, 5, NULL, 0), AP_BOARD_TIME_SET);
    /* Also once set: a later answer past the horizon does not move the clock. */
    assert_int_equal(ap_board_time_offer(&t, ceiling + DAY, 0, 6, NULL, 0),
                     AP_BOARD_TIME_TOO_LATE);
    assert_true(ap_board_time_now(&t, 5) == ceiling - 1);
}

static void test_forward_step(void **state)
{
    ap_board_time_t t;
    char why[160];

    (void)state;
    ap_board_time_init(&t, BUILD);
    (void)ap_board_time_offer(&t, BUILD + DAY, 0, 0, NULL, 0);
    assert_int_equal(ap_board_time_offer(&t, BUILD + DAY + 100, 0, 10000, why, sizeof why),
                     AP_BOARD_TIME_STEPPED);
    assert_non_null(strstr(why, "90000 ms forward"));
    assert_true(ap_board_time_now(&t, 10000) == BUILD + DAY + 100);
    assert_true(ap_board_time_now(&t, 11000) == BUILD + DAY + 101);
}

static void test_small_step_back_held(void **state)
{
    ap_board_time_t t;
    char why[160];
    int64_t before;

    (void)state;
    ap_board_time_init(&t, BUILD);
    (void)ap_board_time_offer(&t, BUILD + DAY, 0, 0, NULL, 0);
    /* The counter ran 60 s, the server says only 50 s passed. */
    before = ap_board_time_now_ms(&t, 60000);
    assert_int_equal(ap_board_time_offer(&t, BUILD + DAY + 50, 0, 60000, why, sizeof why),
                     AP_BOARD_TIME_HELD);
    assert_non_null(strstr(why, "10000 ms behind"));
    /* Held: the clock stands still, never less than it said... */
    assert_true(ap_board_time_now_ms(&t, 60000) == before);
    assert_true(ap_board_time_now_ms(&t, 65000) == before);
    assert_true(ap_board_time_now_ms(&t, 70000) == before);
    /* ...and runs on from the answer once it has caught up. */
    assert_true(ap_board_time_now_ms(&t, 71000) == before + 1000);
    assert_true(ap_board_time_now(&t, 80000) == BUILD + DAY + 70);
    assert_int_equal(t.accepted, 2);
}

static void test_large_step_back_refused(void **state)
{
    ap_board_time_t t;
    char why[200];

    (void)state;
    ap_board_time_init(&t, BUILD);
    (void)ap_board_time_offer(&t, BUILD + DAY, 0, 0, NULL, 0);
    assert_int_equal(ap_board_time_offer(&t, BUILD + DAY - 301, 0, 0, why, sizeof why),
                     AP_BOARD_TIME_BACKWARDS);
    assert_non_null(strstr(why, "301 s behind the clock"));
    assert_non_null(strstr(why, "never goes back"));
    /* The clock keeps its time and keeps running on the counter. */
    assert_true(ap_board_time_now(&t, 0) == BUILD + DAY);
    assert_true(ap_board_time_now(&t, 5000) == BUILD + DAY + 5);
    assert_int_equal(t.refused, 1);
    /* Exactly the hold bound behind is still held. */
    assert_int_equal(ap_board_time_offer(&t, BUILD + DAY + 5 - 300, 0, 5000, NULL, 0),
                     AP_BOARD_TIME_HELD);
}

static void test_counter_wrap(void **state)
{
    ap_board_time_t t;
    const uint32_t near_wrap = UINT32_MAX - 999u;

    (void)state;
    ap_board_time_init(&t, BUILD);
    (void)ap_board_time_offer(&t, BUILD + DAY, 0, near_wrap, NULL, 0);
    /* 1000 ms to the wrap, then 4000 ms past it: 5 s. */
    assert_true(ap_board_time_now(&t, 4000u) == BUILD + DAY + 5);
    /* Called about every 40 days, the clock follows many wraps. */
    {
        uint32_t tick = 4000u;
        int i;

        for (i = 0; i < 10; i++) {
            tick += 40u * 86400u * 1000u;
            (void)ap_board_time_now(&t, tick);
        }
        assert_true(ap_board_time_now(&t, tick) == BUILD + DAY + 5 + 400 * DAY);
    }
}

static void test_verdict_accepted(void **state)
{
    (void)state;
    assert_true(ap_board_time_verdict_accepted(AP_BOARD_TIME_SET));
    assert_true(ap_board_time_verdict_accepted(AP_BOARD_TIME_STEPPED));
    assert_true(ap_board_time_verdict_accepted(AP_BOARD_TIME_HELD));
    assert_false(ap_board_time_verdict_accepted(AP_BOARD_TIME_TOO_EARLY));
    assert_false(ap_board_time_verdict_accepted(AP_BOARD_TIME_TOO_LATE));
    assert_false(ap_board_time_verdict_accepted(AP_BOARD_TIME_BACKWARDS));
}

static void same_as_gmtime(int64_t sec)
{
    char want[32];
    char got[32];
    time_t tt = (time_t)sec;
    struct tm tm;

    assert_non_null(gmtime_r(&tt, &tm));
    assert_true(strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0);
    assert_string_equal(ap_board_time_format(sec, got, sizeof got), want);
}

static void test_format_matches_gmtime(void **state)
{
    char buf[32];
    int64_t s;

    (void)state;
    same_as_gmtime(0);
    same_as_gmtime(BUILD);
    same_as_gmtime(951782400);            /* 2000-02-29 */
    same_as_gmtime(4107542399);           /* 2100-02-28T23:59:59 */
    same_as_gmtime(4107542400);           /* 2100-03-01: not a leap year */
    same_as_gmtime(INT64_C(253402300799)); /* 9999-12-31T23:59:59 */
    for (s = 0; s < INT64_C(4300000000); s += INT64_C(86399) * 37) {
        same_as_gmtime(s);
    }
    assert_string_equal(ap_board_time_format(-1, buf, sizeof buf), "?");
    assert_string_equal(buf, "");
    assert_string_equal(ap_board_time_format(INT64_C(253402300800), buf, sizeof buf), "?");
    assert_string_equal(ap_board_time_format(BUILD, buf, 20), "?");
    assert_string_equal(ap_board_time_format(BUILD, buf, 21), "2026-01-01T00:00:00Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_until_accepted),
        cmocka_unit_test(test_first_answer_sets_and_runs),
        cmocka_unit_test(test_before_build_time_refused),
        cmocka_unit_test(test_past_horizon_refused),
        cmocka_unit_test(test_forward_step),
        cmocka_unit_test(test_small_step_back_held),
        cmocka_unit_test(test_large_step_back_refused),
        cmocka_unit_test(test_counter_wrap),
        cmocka_unit_test(test_verdict_accepted),
        cmocka_unit_test(test_format_matches_gmtime),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
