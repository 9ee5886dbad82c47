/*
 * The POSIX platform services: the clock moves forward by what really
 * passed, the wall clock is today's, and entropy differs call to call.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <time.h>

#include "alertpost/ap_posix.h"

/* 2020-01-01T00:00:00Z: no host running these tests is set earlier. */
#define T_YEAR_2020 INT64_C(1577836800)

static void t_sleep_ms(unsigned ms)
{
    struct timespec ts;

    ts.tv_sec = (time_t)(ms / 1000u);
    ts.tv_nsec = (long)(ms % 1000u) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int t_all_equal(const uint8_t *buf, size_t len, uint8_t value)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (buf[i] != value) {
            return 0;
        }
    }
    return 1;
}

static void test_init_fills_every_function(void **state)
{
    ap_platform_t p;

    (void)state;
    memset(&p, 0, sizeof p);
    ap_posix_platform_init(&p);
    assert_non_null(p.now_ms);
    assert_non_null(p.wall_time);
    assert_non_null(p.entropy);
    assert_null(p.ctx);
    ap_posix_platform_init(NULL); /* must not crash */
}

static void test_now_ms_is_monotonic_and_tracks_sleep(void **state)
{
    ap_platform_t p;
    uint32_t prev;
    uint32_t start;
    uint32_t elapsed;
    int i;

    (void)state;
    ap_posix_platform_init(&p);
    prev = p.now_ms(p.ctx);
    for (i = 0; i < 100000; i++) {
        uint32_t now = p.now_ms(p.ctx);

        /* Wrap-safe: a step backwards shows up as a huge difference. */
        assert_true(now - prev < UINT32_C(60000) /* a descheduled process may stall, never go back */);
        prev = now;
    }

    start = p.now_ms(p.ctx);
    t_sleep_ms(120);
    elapsed = p.now_ms(p.ctx) - start;
    assert_true(elapsed >= 119u); /* ms truncation of both readings */
    assert_true(elapsed < 10000u);
}

static void test_wall_time_is_plausible(void **state)
{
    ap_platform_t p;
    int64_t now;
    int64_t ref;

    (void)state;
    ap_posix_platform_init(&p);
    now = p.wall_time(p.ctx);
    ref = (int64_t)time(NULL);
    assert_true(now != AP_WALL_TIME_UNKNOWN);
    assert_true(now > T_YEAR_2020);
    assert_true(now - ref <= 1 && ref - now <= 1);
}

static void test_entropy_differs_between_calls(void **state)
{
    ap_platform_t p;
    uint8_t a[32];
    uint8_t b[32];

    (void)state;
    ap_posix_platform_init(&p);
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    assert_int_equal(p.entropy(p.ctx, a, sizeof a), AP_OK);
    assert_int_equal(p.entropy(p.ctx, b, sizeof b), AP_OK);
    assert_memory_not_equal(a, b, sizeof a);
    assert_false(t_all_equal(a, sizeof a, 0));
    assert_false(t_all_equal(b, sizeof b, 0));
}

/* Above 256 bytes getrandom() may return short; the whole buffer must
 * still be filled. A zero tail after a sentinel fill would show a gap. */
static void test_entropy_fills_large_buffers(void **state)
{
    static uint8_t big[1 << 20];
    ap_platform_t p;
    size_t i;
    size_t zeros_in_tail = 0;

    (void)state;
    ap_posix_platform_init(&p);
    memset(big, 0, sizeof big);
    assert_int_equal(p.entropy(p.ctx, big, sizeof big), AP_OK);
    for (i = sizeof big - 4096; i < sizeof big; i++) {
        zeros_in_tail += big[i] == 0;
    }
    /* 4096 random bytes hold ~16 zeros; an unfilled tail holds 4096. */
    assert_true(zeros_in_tail < 200u);
}

static void test_entropy_edge_cases(void **state)
{
    ap_platform_t p;
    uint8_t one = 0;

    (void)state;
    ap_posix_platform_init(&p);
    assert_int_equal(p.entropy(p.ctx, &one, 0), AP_OK);
    assert_int_equal(p.entropy(p.ctx, NULL, 0), AP_OK);
    assert_int_equal(p.entropy(p.ctx, NULL, 16), AP_ERR_ENTROPY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_fills_every_function),
        cmocka_unit_test(test_now_ms_is_monotonic_and_tracks_sleep),
        cmocka_unit_test(test_wall_time_is_plausible),
        cmocka_unit_test(test_entropy_differs_between_calls),
        cmocka_unit_test(test_entropy_fills_large_buffers),
        cmocka_unit_test(test_entropy_edge_cases),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
