/*
 * UTC calendar arithmetic (ap_utc.h) against fixed dates and against the host
 * C library's gmtime_r(), which the core may not use but a test may.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <time.h>

#include "alertpost/ap_utc.h"

static void test_known_dates(void **state)
{
    (void)state;
    assert_int_equal(ap_utc_days(1970, 1, 1), 0);
    assert_int_equal(ap_utc_days(1969, 12, 31), -1);
    assert_int_equal(ap_utc_days(2000, 2, 29), 11016);
    assert_int_equal(ap_utc_days(2000, 3, 1), 11017);
    assert_int_equal(ap_utc_days(2100, 3, 1) - ap_utc_days(2100, 2, 28), 1); /* no leap */
    assert_int_equal(ap_utc_days(1, 1, 1), -719162);
    assert_int_equal(ap_utc_seconds(2026, 1, 1, 0, 0, 0), INT64_C(1767225600));
    assert_int_equal(ap_utc_seconds(2038, 1, 19, 3, 14, 8), INT64_C(2147483648));
}

static void test_valid_dates(void **state)
{
    (void)state;
    assert_true(ap_utc_valid_date(2024, 2, 29));
    assert_false(ap_utc_valid_date(2023, 2, 29));
    assert_false(ap_utc_valid_date(1900, 2, 29));
    assert_true(ap_utc_valid_date(2000, 2, 29));
    assert_false(ap_utc_valid_date(2026, 4, 31));
    assert_true(ap_utc_valid_date(2026, 12, 31));
    assert_false(ap_utc_valid_date(2026, 0, 1));
    assert_false(ap_utc_valid_date(2026, 13, 1));
    assert_false(ap_utc_valid_date(2026, 1, 0));
}

/* Every day from 1900 to 2400 both ways, and as gmtime_r() sees it. */
static void test_round_trip_matches_gmtime(void **state)
{
    int64_t first = ap_utc_days(1900, 1, 1);
    int64_t last = ap_utc_days(2400, 12, 31);
    int64_t days;

    (void)state;
    for (days = first; days <= last; days++) {
        int64_t y;
        int m;
        int d;
        time_t t = (time_t)(days * 86400);
        struct tm tm;

        ap_utc_date(days, &y, &m, &d);
        assert_int_equal(ap_utc_days(y, m, d), days);
        assert_true(ap_utc_valid_date(y, m, d));
        assert_non_null(gmtime_r(&t, &tm));
        assert_int_equal(y, tm.tm_year + 1900);
        assert_int_equal(m, tm.tm_mon + 1);
        assert_int_equal(d, tm.tm_mday);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_dates),
        cmocka_unit_test(test_valid_dates),
        cmocka_unit_test(test_round_trip_matches_gmtime),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
