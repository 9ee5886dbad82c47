/*
 * The flash log's contract over a simulated flash (sim_flash.h): order,
 * reading at an index, the dead part, a full store, a record too large,
 * persistence across re-initialisation, a record gone bad, device errors,
 * wear spread, and recovery from garbage.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "alertpost/ap_store_flash.h"
#include "sim_flash.h"

static sim_flash_t flash;
static ap_store_flash_t fl;
static ap_store_t st;

static size_t rec_len(int id)
{
    return 1u + (size_t)((id * 29) % 47);
}

static void rec_fill(int id, uint8_t *buf)
{
    size_t i;

    for (i = 0; i < rec_len(id); i++) {
        buf[i] = (uint8_t)(id * 17 + (int)i);
    }
}

static ap_status_t append_id(int id)
{
    uint8_t buf[64];

    rec_fill(id, buf);
    return st.append(st.ctx, buf, rec_len(id));
}

static void assert_record(ap_store_part_t part, size_t index, int id)
{
    uint8_t got[64];
    uint8_t want[64];
    size_t len = 0;

    assert_int_equal(st.read(st.ctx, part, index, got, sizeof(got), &len), AP_OK);
    rec_fill(id, want);
    assert_int_equal(len, rec_len(id));
    assert_memory_equal(got, want, len);
}

static size_t count(ap_store_part_t part)
{
    size_t n = 999;

    assert_int_equal(st.count(st.ctx, part, &n), AP_OK);
    return n;
}

static void boot(void)
{
    assert_int_equal(ap_store_flash_init(&fl, &flash.dev, &st), AP_OK);
}

static int setup_small(void **state)
{
    (void)state;
    sim_flash_init(&flash, 256, 4, 8, 4, 0xFF);
    boot();
    return 0;
}

static void test_blank_flash_is_formatted_empty(void **state)
{
    uint8_t buf[8];
    size_t len = 0;

    (void)state;
    assert_int_equal(count(AP_STORE_LIVE), 0);
    assert_int_equal(count(AP_STORE_DEAD), 0);
    assert_int_equal(st.read(st.ctx, AP_STORE_LIVE, 0, buf, sizeof(buf), &len),
                     AP_ERR_STORE_EMPTY);
    assert_int_equal(st.read(st.ctx, AP_STORE_DEAD, 0, buf, sizeof(buf), &len),
                     AP_ERR_STORE_EMPTY);
    assert_int_equal(st.remove_oldest(st.ctx), AP_ERR_STORE_EMPTY);
    assert_int_equal(st.dead_letter(st.ctx), AP_ERR_STORE_EMPTY);
    assert_int_equal(flash.erases, 1); /* one sector taken into use, no more */
}

static void test_order_and_read_at_index(void **state)
{
    uint8_t small[2];
    size_t len = 0;
    int id;

    (void)state;
    for (id = 0; id < 8; id++) {
        assert_int_equal(append_id(id), AP_OK);
    }
    assert_int_equal(count(AP_STORE_LIVE), 8);
    for (id = 7; id >= 0; id--) {
        assert_record(AP_STORE_LIVE, (size_t)id, id);
    }
    assert_int_equal(st.read(st.ctx, AP_STORE_LIVE, 8, small, sizeof(small), &len),
                     AP_ERR_STORE_EMPTY);
    assert_int_equal(st.read(st.ctx, AP_STORE_LIVE, 1, small, sizeof(small), &len),
                     AP_ERR_NO_SPACE);
    assert_int_equal(len, rec_len(1));
    assert_int_equal(st.remove_oldest(st.ctx), AP_OK);
    assert_int_equal(st.remove_oldest(st.ctx), AP_OK);
    assert_int_equal(count(AP_STORE_LIVE), 6);
    assert_record(AP_STORE_LIVE, 0, 2);
    assert_record(AP_STORE_LIVE, 5, 7);
}

static void test_survives_reinit(void **state)
{
    int id;

    (void)state;
    for (id = 0; id < 6; id++) {
        assert_int_equal(append_id(id), AP_OK);
    }
    assert_int_equal(st.remove_oldest(st.ctx), AP_OK);
    assert_int_equal(st.dead_letter(st.ctx), AP_OK);
    boot();
    assert_int_equal(count(AP_STORE_LIVE), 4);
    assert_int_equal(count(AP_STORE_DEAD), 1);
    assert_record(AP_STORE_LIVE, 0, 2);
    assert_record(AP_STORE_LIVE, 3, 5);
    assert_record(AP_STORE_DEAD, 0, 1);
    assert_int_equal(append_id(6), AP_OK);
    assert_record(AP_STORE_LIVE, 4, 6);
}

static void test_full_store_refuses_and_evicts_nothing(void **state)
{
    uint32_t used = 0;
    long erases;
    int id = 0;
    int i;

    (void)state;
    while (append_id(id) == AP_OK) {
        id++;
        assert_true(id < 100);
    }
    /* One sector stays in reserve; the other three are filled. */
    for (i = 0; i < id; i++) {
        used += ap_store_flash_footprint(&flash.dev, rec_len(i));
    }
    assert_true(used > 2u * (256u - fl.data_start));
    erases = flash.erases;
    for (i = 0; i < 3; i++) {
        assert_int_equal(append_id(id), AP_ERR_STORE_FULL);
    }
    assert_int_equal(flash.erases, erases);
    assert_int_equal(count(AP_STORE_LIVE), (size_t)id);
    for (i = 0; i < id; i++) {
        assert_record(AP_STORE_LIVE, (size_t)i, i);
    }
    boot();
    assert_int_equal(count(AP_STORE_LIVE), (size_t)id);
    assert_int_equal(append_id(id), AP_ERR_STORE_FULL);
    /* Room comes back once the oldest sector's records are delivered. */
    for (i = 0; i < id; i++) {
        assert_int_equal(st.remove_oldest(st.ctx), AP_OK);
        if (append_id(500) == AP_OK) {
            break;
        }
    }
    assert_true(i < id);
    assert_record(AP_STORE_LIVE, count(AP_STORE_LIVE) - 1u, 500);
}

static void test_too_large_and_bad_args(void **state)
{
    uint8_t big[256];
    size_t max = ap_store_flash_max_record(&flash.dev);
    size_t len;

    (void)state;
    memset(big, 0x5A, sizeof(big));
    assert_true(max > 0u && max < sizeof(big));
    assert_int_equal(st.append(st.ctx, big, max + 1u), AP_ERR_TOO_LARGE);
    assert_int_equal(count(AP_STORE_LIVE), 0);
    assert_int_equal(st.append(st.ctx, big, max), AP_OK);
    assert_int_equal(st.read(st.ctx, AP_STORE_LIVE, 0, big, sizeof(big), &len), AP_OK);
    assert_int_equal(len, max);
    assert_int_equal(st.append(st.ctx, big, 0), AP_ERR_BAD_ARG);
    assert_int_equal(st.append(st.ctx, NULL, 4), AP_ERR_BAD_ARG);
    assert_int_equal(st.read(st.ctx, AP_STORE_LIVE, 0, big, sizeof(big), NULL), AP_ERR_BAD_ARG);
    assert_int_equal(st.read(st.ctx, (ap_store_part_t)7, 0, big, sizeof(big), &len),
                     AP_ERR_BAD_ARG);
    assert_int_equal(st.count(st.ctx, AP_STORE_LIVE, NULL), AP_ERR_BAD_ARG);
    assert_int_equal(count(AP_STORE_LIVE), 1);
}

static void test_geometry_checked(void **state)
{
    ap_blockdev_t dev = flash.dev;
    ap_store_flash_t f2;
    ap_store_t s2;

    (void)state;
    assert_int_equal(ap_store_flash_init(NULL, &dev, &s2), AP_ERR_BAD_ARG);
    dev.geometry.sector_count = 1;
    assert_int_equal(ap_store_flash_init(&f2, &dev, &s2), AP_ERR_BAD_ARG);
    dev = flash.dev;
    dev.geometry.prog_size = 12;
    assert_int_equal(ap_store_flash_init(&f2, &dev, &s2), AP_ERR_BAD_ARG);
    dev = flash.dev;
    dev.geometry.prog_size = AP_STORE_FLASH_PROG_MAX * 2u;
    assert_int_equal(ap_store_flash_init(&f2, &dev, &s2), AP_ERR_BAD_ARG);
    dev = flash.dev;
    dev.geometry.read_size = 16;
    assert_int_equal(ap_store_flash_init(&f2, &dev, &s2), AP_ERR_BAD_ARG);
    dev = flash.dev;
    dev.geometry.sector_size = 64; /* no room for a sector header and a record */
    assert_int_equal(ap_store_flash_init(&f2, &dev, &s2), AP_ERR_BAD_ARG);
    dev = flash.dev;
    dev.erase = NULL;
    assert_int_equal(ap_store_flash_init(&f2, &dev, &s2), AP_ERR_BAD_ARG);
    assert_int_equal(ap_store_flash_max_record(&dev), ap_store_flash_max_record(&flash.dev));
    assert_int_equal(flash.ops, 2); /* only the first format (erase, header) wrote */
}

static void test_dead_part_keeps_order_through_relocation(void **state)
{
    int id = 0;
    int dead_ids[3];
    int round;
    size_t i;

    (void)state;
    /* Three records dead-lettered early, then enough traffic that the
     * sectors holding them must be reclaimed, so they are copied forward. */
    for (i = 0; i < 3; i++) {
        assert_int_equal(append_id(id), AP_OK);
        assert_int_equal(append_id(id + 1), AP_OK);
        assert_int_equal(st.dead_letter(st.ctx), AP_OK);
        dead_ids[i] = id;
        assert_int_equal(st.remove_oldest(st.ctx), AP_OK);
        id += 2;
    }
    for (round = 0; round < 60; round++) {
        assert_int_equal(append_id(id++), AP_OK);
        assert_int_equal(st.remove_oldest(st.ctx), AP_OK);
    }
    for (i = 0; i < 4; i++) {
        assert_true(flash.erase_count[i] >= 3u);
    }
    assert_int_equal(count(AP_STORE_DEAD), 3);
    assert_int_equal(count(AP_STORE_LIVE), 0);
    for (i = 0; i < 3; i++) {
        assert_record(AP_STORE_DEAD, i, dead_ids[i]);
    }
    boot();
    assert_int_equal(count(AP_STORE_DEAD), 3);
    for (i = 0; i < 3; i++) {
        assert_record(AP_STORE_DEAD, i, dead_ids[i]);
    }
    assert_int_equal(flash.violations, 0);
}

static void test_dead_part_full_of_dead_is_full_not_churn(void **state)
{
    long erases;
    int id = 0;

    (void)state;
    while (append_id(id) == AP_OK) {
        assert_int_equal(st.dead_letter(st.ctx), AP_OK);
        id++;
        assert_true(id < 100);
    }
    erases = flash.erases;
    assert_int_equal(append_id(id), AP_ERR_STORE_FULL);
    assert_int_equal(flash.erases, erases);
    assert_int_equal(count(AP_STORE_DEAD), (size_t)id);
    assert_record(AP_STORE_DEAD, 0, 0);
    assert_record(AP_STORE_DEAD, (size_t)id - 1u, id - 1);
}

static void test_wear_is_spread(void **state)
{
    uint32_t lo = UINT32_MAX;
    uint32_t hi = 0;
    uint32_t s;
    int id;

    (void)state;
    sim_flash_init(&flash, 256, 8, 8, 4, 0xFF);
    boot();
    for (id = 0; id < 2000; id++) {
        assert_int_equal(append_id(id), AP_OK);
        if (id < 3) { /* dead records that must be carried round the ring */
            assert_int_equal(st.dead_letter(st.ctx), AP_OK);
        } else if (id % 3 != 0) { /* a backlog that comes and goes */
            assert_int_equal(st.remove_oldest(st.ctx), AP_OK);
        }
        if (count(AP_STORE_LIVE) > 12u) {
            while (count(AP_STORE_LIVE) > 2u) {
                assert_int_equal(st.remove_oldest(st.ctx), AP_OK);
            }
        }
    }
    for (s = 0; s < 8; s++) {
        lo = flash.erase_count[s] < lo ? flash.erase_count[s] : lo;
        hi = flash.erase_count[s] > hi ? flash.erase_count[s] : hi;
    }
    print_message("erases per sector after 2000 records: %u..%u\n", (unsigned)lo, (unsigned)hi);
    assert_true(lo >= 50u);
    assert_true(hi - lo <= 1u);
    assert_int_equal(count(AP_STORE_DEAD), 3);
    assert_record(AP_STORE_DEAD, 0, 0);
    assert_record(AP_STORE_DEAD, 2, 2);
    assert_int_equal(flash.violations, 0);
}

static void test_corrupt_record_is_set_aside(void **state)
{
    uint8_t buf[64];
    size_t len;
    uint32_t data;

    (void)state;
    assert_int_equal(append_id(0), AP_OK);
    assert_int_equal(append_id(1), AP_OK);
    assert_int_equal(append_id(2), AP_OK);
    /* Rot one data bit of record 1 behind the store's back. */
    data = fl.data_start + ap_store_flash_footprint(&flash.dev, rec_len(0)) +
           (ap_store_flash_footprint(&flash.dev, 1) - 8u);
    flash.mem[flash.dev.geometry.sector_size * fl.head + data] ^= 0x01u;
    assert_record(AP_STORE_LIVE, 0, 0);
    assert_int_equal(st.read(st.ctx, AP_STORE_LIVE, 1, buf, sizeof(buf), &len),
                     AP_ERR_STORE_CORRUPT);
    assert_record(AP_STORE_LIVE, 1, 2);
    assert_int_equal(count(AP_STORE_LIVE), 2);
    assert_int_equal(count(AP_STORE_DEAD), 1);
    assert_int_equal(st.read(st.ctx, AP_STORE_DEAD, 0, buf, sizeof(buf), &len),
                     AP_ERR_STORE_CORRUPT);
    boot();
    assert_int_equal(count(AP_STORE_LIVE), 2);
    assert_int_equal(count(AP_STORE_DEAD), 1);
    assert_record(AP_STORE_LIVE, 1, 2);
}

static void test_device_error_needs_reinit(void **state)
{
    uint8_t buf[64];
    size_t len;

    (void)state;
    assert_int_equal(append_id(0), AP_OK);
    flash.fail_reads = 1;
    assert_int_equal(st.read(st.ctx, AP_STORE_LIVE, 0, buf, sizeof(buf), &len),
                     AP_ERR_STORE_IO);
    assert_int_equal(ap_store_flash_init(&fl, &flash.dev, &st), AP_ERR_STORE_IO);
    flash.fail_reads = 0;
    assert_int_equal(append_id(1), AP_ERR_STORE_IO);
    assert_int_equal(st.count(st.ctx, AP_STORE_LIVE, &len), AP_ERR_STORE_IO);
    boot();
    assert_int_equal(count(AP_STORE_LIVE), 1);
    assert_record(AP_STORE_LIVE, 0, 0);
}

/* Random bytes everywhere, and random bytes over a formatted log: recovery
 * must come up (formatting or not), every call must answer with a status of
 * its contract, and nothing may be programmed against the device rules. */
static void test_recovers_from_garbage(void **state)
{
    uint32_t rng = 12345u;
    int trial;

    (void)state;
    for (trial = 0; trial < 300; trial++) {
        uint32_t i;
        uint32_t n = trial % 2 == 0 ? flash.size : 1u + trial % 40u;
        int op;

        sim_flash_init(&flash, 256, 4, 8, 4, 0xFF);
        if (trial % 2 != 0) {
            boot();
            for (op = 0; op < 6; op++) {
                assert_int_equal(append_id(op), AP_OK);
                if (op % 3 == 0) {
                    assert_int_equal(st.dead_letter(st.ctx), AP_OK);
                }
            }
        }
        for (i = 0; i < n; i++) {
            rng = rng * 1103515245u + 12345u;
            flash.mem[trial % 2 == 0 ? i : (rng >> 8) % flash.size] = (uint8_t)(rng >> 16);
        }
        for (i = 0; i < flash.size; i++) { /* garbage is not erased */
            flash.written[i] = flash.mem[i] != 0xFF;
        }
        if (ap_store_flash_init(&fl, &flash.dev, &st) != AP_OK) {
            fail_msg("trial %d: recovery failed", trial);
        }
        for (op = 0; op < 40; op++) {
            uint8_t buf[64];
            size_t len = 0;
            ap_status_t s;

            switch (op % 4) {
            case 0:
                s = append_id(op);
                assert_true(s == AP_OK || s == AP_ERR_STORE_FULL);
                break;
            case 1:
                s = st.read(st.ctx, (ap_store_part_t)(op % 8 == 1), (size_t)op % 5, buf,
                            sizeof(buf), &len);
                assert_true(s == AP_OK || s == AP_ERR_STORE_EMPTY ||
                            s == AP_ERR_STORE_CORRUPT || s == AP_ERR_NO_SPACE);
                break;
            case 2:
                s = st.dead_letter(st.ctx);
                assert_true(s == AP_OK || s == AP_ERR_STORE_EMPTY);
                break;
            default:
                s = st.remove_oldest(st.ctx);
                assert_true(s == AP_OK || s == AP_ERR_STORE_EMPTY);
                break;
            }
        }
        if (flash.violations != 0) {
            fail_msg("trial %d: %d calls broke the device rules", trial, flash.violations);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_blank_flash_is_formatted_empty, setup_small),
        cmocka_unit_test_setup(test_order_and_read_at_index, setup_small),
        cmocka_unit_test_setup(test_survives_reinit, setup_small),
        cmocka_unit_test_setup(test_full_store_refuses_and_evicts_nothing, setup_small),
        cmocka_unit_test_setup(test_too_large_and_bad_args, setup_small),
        cmocka_unit_test_setup(test_geometry_checked, setup_small),
        cmocka_unit_test_setup(test_dead_part_keeps_order_through_relocation, setup_small),
        cmocka_unit_test_setup(test_dead_part_full_of_dead_is_full_not_churn, setup_small),
        cmocka_unit_test_setup(test_wear_is_spread, setup_small),
        cmocka_unit_test_setup(test_corrupt_record_is_set_aside, setup_small),
        cmocka_unit_test_setup(test_device_error_needs_reinit, setup_small),
        cmocka_unit_test_setup(test_recovers_from_garbage, setup_small),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
