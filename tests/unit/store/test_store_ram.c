/*
 * The RAM ring store: records come back byte for byte and oldest first, also
 * when they wrap around the end of the ring; full and too-large are told
 * apart and change nothing; the dead-letter part keeps what is moved there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "alertpost/ap_store_ram.h"

static ap_store_ram_t ram;
static ap_store_t st;
static uint8_t buf[256];

static void make(size_t size, size_t dead)
{
    assert_int_equal(ap_store_ram_init(&ram, buf, size, dead, &st), AP_OK);
}

static void fill(uint8_t *rec, size_t len, uint8_t seed)
{
    size_t i;

    for (i = 0; i < len; i++) {
        rec[i] = (uint8_t)(seed + i * 7u);
    }
}

static void expect_record(ap_store_part_t part, size_t index, size_t len, uint8_t seed)
{
    uint8_t want[256];
    uint8_t got[256];
    size_t n = 0;

    fill(want, len, seed);
    assert_int_equal(st.read(st.ctx, part, index, got, sizeof(got), &n), AP_OK);
    assert_int_equal(n, len);
    assert_memory_equal(got, want, len);
}

static size_t count(ap_store_part_t part)
{
    size_t n = 99;
    assert_int_equal(st.count(st.ctx, part, &n), AP_OK);
    return n;
}

static void append(size_t len, uint8_t seed)
{
    uint8_t rec[256];

    fill(rec, len, seed);
    assert_int_equal(st.append(st.ctx, rec, len), AP_OK);
}

static void test_fifo_with_wrap(void **state)
{
    size_t round;

    (void)state;
    make(100, 0);
    assert_null(st.dead_letter);
    /* Records of 30 bytes (34 with their length) in a 100-byte ring: the
     * third of every round wraps, at a different offset each time. */
    for (round = 0; round < 20; round++) {
        append(30, (uint8_t)round);
        append(30, (uint8_t)(round + 100));
        expect_record(AP_STORE_LIVE, 0, 30, (uint8_t)round);
        expect_record(AP_STORE_LIVE, 1, 30, (uint8_t)(round + 100));
        assert_int_equal(st.remove_oldest(st.ctx), AP_OK);
        expect_record(AP_STORE_LIVE, 0, 30, (uint8_t)(round + 100));
        append((round % 5) + 1, (uint8_t)(round + 50));
        expect_record(AP_STORE_LIVE, 1, (round % 5) + 1, (uint8_t)(round + 50));
        assert_int_equal(st.remove_oldest(st.ctx), AP_OK);
        assert_int_equal(st.remove_oldest(st.ctx), AP_OK);
        assert_int_equal(count(AP_STORE_LIVE), 0);
        /* Keep one record across rounds so that the head moves on. */
        append(11, (uint8_t)(round + 200));
        assert_int_equal(st.remove_oldest(st.ctx), AP_OK);
    }
    assert_int_equal(st.remove_oldest(st.ctx), AP_ERR_STORE_EMPTY);
}

static void test_full_and_too_large(void **state)
{
    uint8_t rec[100];
    uint8_t small[8];
    size_t n = 0;

    (void)state;
    make(100, 0);
    memset(rec, 1, sizeof(rec));
    /* Can never fit: 97 + 4 > 100. */
    assert_int_equal(st.append(st.ctx, rec, 97), AP_ERR_TOO_LARGE);
    assert_int_equal(st.append(st.ctx, rec, 96), AP_OK); /* exactly full */
    assert_int_equal(st.append(st.ctx, rec, 1), AP_ERR_STORE_FULL);
    assert_int_equal(count(AP_STORE_LIVE), 1);
    /* A buffer too small: told the size, nothing lost. */
    assert_int_equal(st.read(st.ctx, AP_STORE_LIVE, 0, small, sizeof(small), &n),
                     AP_ERR_NO_SPACE);
    assert_int_equal(n, 96);
    assert_int_equal(st.read(st.ctx, AP_STORE_LIVE, 1, small, sizeof(small), &n),
                     AP_ERR_STORE_EMPTY);
    assert_int_equal(st.remove_oldest(st.ctx), AP_OK);
    assert_int_equal(st.append(st.ctx, rec, 96), AP_OK);
    assert_int_equal(st.append(st.ctx, rec, 0), AP_ERR_BAD_ARG);
    assert_int_equal(st.append(st.ctx, NULL, 1), AP_ERR_BAD_ARG);
}

static void test_dead_letter_part(void **state)
{
    (void)state;
    make(200, 60);
    append(20, 1);
    append(40, 2);
    append(25, 3);
    assert_non_null(st.dead_letter);
    assert_int_equal(st.dead_letter(st.ctx), AP_OK);
    assert_int_equal(count(AP_STORE_LIVE), 2);
    assert_int_equal(count(AP_STORE_DEAD), 1);
    expect_record(AP_STORE_DEAD, 0, 20, 1);
    expect_record(AP_STORE_LIVE, 0, 40, 2);
    /* 44 more bytes do not fit in the 36 left: it stays live. */
    assert_int_equal(st.dead_letter(st.ctx), AP_ERR_STORE_FULL);
    assert_int_equal(count(AP_STORE_LIVE), 2);
    expect_record(AP_STORE_LIVE, 0, 40, 2);
    assert_int_equal(st.remove_oldest(st.ctx), AP_OK);
    assert_int_equal(st.dead_letter(st.ctx), AP_OK);
    expect_record(AP_STORE_DEAD, 1, 25, 3);
    assert_int_equal(count(AP_STORE_DEAD), 2);
    assert_int_equal(st.dead_letter(st.ctx), AP_ERR_STORE_EMPTY);
    /* The dead part is separate: a full live part leaves it alone. */
    {
        uint8_t rec[136];
        memset(rec, 9, sizeof(rec));
        assert_int_equal(st.append(st.ctx, rec, 136), AP_OK);
        expect_record(AP_STORE_DEAD, 0, 20, 1);
    }
}

static void test_init_refusals(void **state)
{
    (void)state;
    assert_int_equal(ap_store_ram_init(NULL, buf, 100, 0, &st), AP_ERR_BAD_ARG);
    assert_int_equal(ap_store_ram_init(&ram, NULL, 100, 0, &st), AP_ERR_BAD_ARG);
    assert_int_equal(ap_store_ram_init(&ram, buf, 100, 0, NULL), AP_ERR_BAD_ARG);
    assert_int_equal(ap_store_ram_init(&ram, buf, 100, 101, &st), AP_ERR_BAD_ARG);
    assert_int_equal(ap_store_ram_init(&ram, buf, 100, 97, &st), AP_ERR_BAD_ARG);
    assert_int_equal(ap_store_ram_init(&ram, buf, 100, 4, &st), AP_ERR_BAD_ARG);
    assert_int_equal(ap_store_ram_init(&ram, buf, 4, 0, &st), AP_ERR_BAD_ARG);
    make(100, 0);
    assert_int_equal(st.count(st.ctx, (ap_store_part_t)7, &(size_t){ 0 }), AP_ERR_BAD_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo_with_wrap),
        cmocka_unit_test(test_full_and_too_large),
        cmocka_unit_test(test_dead_letter_part),
        cmocka_unit_test(test_init_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
