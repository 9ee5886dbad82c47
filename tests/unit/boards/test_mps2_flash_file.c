/*
 * The MPS2 board's semihosted flash file (boards/mps2/common/flash_file.c),
 * over a host file through fake_semihost.c: the flash rules it enforces,
 * what it makes of a missing, short or long file, and the flash log running
 * on it across a close and an open, as across two QEMU runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "alertpost/ap_store_flash.h"
#include "fake_semihost.h"
#include "flash_file.h"

static const char *g_path;

static long file_size(void)
{
    FILE *f = fopen(g_path, "rb");
    long n;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    fclose(f);
    return n;
}

static void write_file(const uint8_t *data, size_t len)
{
    FILE *f = fopen(g_path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void read_file(uint8_t *data, size_t len)
{
    FILE *f = fopen(g_path, "rb");

    assert_non_null(f);
    assert_int_equal(fread(data, 1, len, f), len);
    fclose(f);
}

static int fresh(void **state)
{
    (void)state;
    (void)remove(g_path);
    return 0;
}

static void open_ok(ap_mps2_flash_file_t *ff)
{
    const char *why = NULL;

    assert_int_equal(ap_mps2_flash_file_open(ff, g_path, &why), AP_OK);
}

static void test_missing_file_is_created_erased(void **state)
{
    static ap_mps2_flash_file_t ff;
    static uint8_t image[AP_MPS2_FLASH_SIZE];
    size_t i;

    (void)state;
    open_ok(&ff);
    assert_int_equal(ff.dev.geometry.sector_size, 4096u);
    assert_int_equal(ff.dev.geometry.sector_count, 8u);
    assert_int_equal(ff.dev.geometry.prog_size, 8u);
    assert_int_equal(ff.dev.geometry.erased_value, 0xFF);
    ap_mps2_flash_file_close(&ff);
    assert_int_equal(fake_semihost_open_handles(), 0);
    assert_int_equal(file_size(), (long)AP_MPS2_FLASH_SIZE);
    read_file(image, sizeof image);
    for (i = 0; i < sizeof image; i++) {
        assert_int_equal(image[i], 0xFF);
    }
}

static void test_program_reads_back_and_persists(void **state)
{
    static ap_mps2_flash_file_t ff;
    const uint8_t data[16] = "sixteen bytes!!";
    uint8_t back[16];

    (void)state;
    open_ok(&ff);
    assert_int_equal(ff.dev.program(ff.dev.ctx, 4096u + 64u, data, sizeof data), AP_OK);
    assert_int_equal(ff.dev.read(ff.dev.ctx, 4096u + 64u, back, sizeof back), AP_OK);
    assert_memory_equal(back, data, sizeof data);
    ap_mps2_flash_file_close(&ff);
    open_ok(&ff);
    memset(back, 0, sizeof back);
    assert_int_equal(ff.dev.read(ff.dev.ctx, 4096u + 64u, back, sizeof back), AP_OK);
    assert_memory_equal(back, data, sizeof data);
    ap_mps2_flash_file_close(&ff);
}

static void test_flash_rules_are_enforced(void **state)
{
    static ap_mps2_flash_file_t ff;
    const uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint8_t blank[8];
    uint8_t cross[16];

    (void)state;
    memset(blank, 0xFF, sizeof blank);
    memset(cross, 0x11, sizeof cross);
    open_ok(&ff);
    /* misaligned address, misaligned length, across a sector, past the end */
    assert_int_equal(ff.dev.program(ff.dev.ctx, 4u, data, 8u), AP_ERR_BAD_ARG);
    assert_int_equal(ff.dev.program(ff.dev.ctx, 8u, data, 4u), AP_ERR_BAD_ARG);
    assert_int_equal(ff.dev.program(ff.dev.ctx, 4096u - 8u, cross, sizeof cross),
                     AP_ERR_BAD_ARG);
    assert_int_equal(ff.dev.program(ff.dev.ctx, AP_MPS2_FLASH_SIZE, data, 8u), AP_ERR_BAD_ARG);
    assert_int_equal(ff.dev.erase(ff.dev.ctx, AP_MPS2_FLASH_SECTOR_COUNT), AP_ERR_BAD_ARG);
    /* A unit programmed with erased-looking bytes is still used up. */
    assert_int_equal(ff.dev.program(ff.dev.ctx, 0u, blank, sizeof blank), AP_OK);
    assert_int_equal(ff.dev.program(ff.dev.ctx, 0u, data, sizeof data), AP_ERR_BAD_ARG);
    assert_int_equal(ff.dev.program(ff.dev.ctx, 8u, data, sizeof data), AP_OK);
    assert_int_equal(ff.dev.program(ff.dev.ctx, 8u, data, sizeof data), AP_ERR_BAD_ARG);
    /* After an erase both units take a program again. */
    assert_int_equal(ff.dev.erase(ff.dev.ctx, 0u), AP_OK);
    assert_int_equal(ff.dev.program(ff.dev.ctx, 0u, data, sizeof data), AP_OK);
    assert_int_equal(ff.dev.program(ff.dev.ctx, 8u, data, sizeof data), AP_OK);
    ap_mps2_flash_file_close(&ff);
    /* The next boot learns from the file which units hold data. */
    open_ok(&ff);
    assert_int_equal(ff.dev.program(ff.dev.ctx, 8u, data, sizeof data), AP_ERR_BAD_ARG);
    assert_int_equal(ff.dev.program(ff.dev.ctx, 16u, data, sizeof data), AP_OK);
    ap_mps2_flash_file_close(&ff);
}

static void test_failed_write_uses_the_unit_up(void **state)
{
    static ap_mps2_flash_file_t ff;
    const uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8};

    (void)state;
    open_ok(&ff);
    fake_semihost_fail_next_write(3);
    assert_int_equal(ff.dev.program(ff.dev.ctx, 32u, data, sizeof data), AP_ERR_STORE_IO);
    /* As a cut program on flash: the unit must be erased before reuse. */
    assert_int_equal(ff.dev.program(ff.dev.ctx, 32u, data, sizeof data), AP_ERR_BAD_ARG);
    ap_mps2_flash_file_close(&ff);
}

static void test_short_file_is_completed_long_file_refused(void **state)
{
    static ap_mps2_flash_file_t ff;
    static uint8_t image[AP_MPS2_FLASH_SIZE + 8u];
    const char *why = NULL;
    size_t i;

    (void)state;
    memset(image, 0xA5, 5000u);
    write_file(image, 5000u);
    open_ok(&ff);
    ap_mps2_flash_file_close(&ff);
    assert_int_equal(file_size(), (long)AP_MPS2_FLASH_SIZE);
    read_file(image, AP_MPS2_FLASH_SIZE);
    for (i = 0; i < AP_MPS2_FLASH_SIZE; i++) {
        assert_int_equal(image[i], i < 5000u ? 0xA5 : 0xFF);
    }

    memset(image, 0x5A, sizeof image);
    write_file(image, sizeof image);
    assert_int_equal(ap_mps2_flash_file_open(&ff, g_path, &why), AP_ERR_TOO_LARGE);
    assert_non_null(why);
    assert_non_null(strstr(why, "larger"));
    assert_int_equal(fake_semihost_open_handles(), 0);
    assert_int_equal(file_size(), (long)sizeof image);
}

static void test_unopenable_path_says_why(void **state)
{
    static ap_mps2_flash_file_t ff;
    const char *why = NULL;

    (void)state;
    assert_int_equal(ap_mps2_flash_file_open(&ff, "/nonexistent-dir/flash.bin", &why),
                     AP_ERR_STORE_IO);
    assert_non_null(strstr(why, "cannot open or create"));
    assert_int_equal(ap_mps2_flash_file_open(NULL, g_path, &why), AP_ERR_BAD_ARG);
}

/* The flash log on the board's device, across a close and an open. */
static void test_flash_log_survives_reopen(void **state)
{
    static ap_mps2_flash_file_t ff;
    static ap_store_flash_t log;
    ap_store_t store;
    uint8_t rec[300];
    uint8_t back[300];
    size_t len = 0;
    size_t count = 0;
    unsigned i;

    (void)state;
    for (i = 0; i < sizeof rec; i++) {
        rec[i] = (uint8_t)(i * 7u);
    }
    open_ok(&ff);
    assert_int_equal(ap_store_flash_init(&log, &ff.dev, &store), AP_OK);
    for (i = 0; i < 40u; i++) { /* enough to fill several sectors */
        rec[0] = (uint8_t)i;
        assert_int_equal(store.append(store.ctx, rec, sizeof rec), AP_OK);
    }
    assert_int_equal(store.remove_oldest(store.ctx), AP_OK);
    ap_mps2_flash_file_close(&ff);

    open_ok(&ff);
    assert_int_equal(ap_store_flash_init(&log, &ff.dev, &store), AP_OK);
    assert_int_equal(store.count(store.ctx, AP_STORE_LIVE, &count), AP_OK);
    assert_int_equal(count, 39u);
    assert_int_equal(store.read(store.ctx, AP_STORE_LIVE, 0, back, sizeof back, &len), AP_OK);
    assert_int_equal(len, sizeof rec);
    rec[0] = 1u;
    assert_memory_equal(back, rec, sizeof rec);
    ap_mps2_flash_file_close(&ff);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_missing_file_is_created_erased, fresh),
        cmocka_unit_test_setup(test_program_reads_back_and_persists, fresh),
        cmocka_unit_test_setup(test_flash_rules_are_enforced, fresh),
        cmocka_unit_test_setup(test_failed_write_uses_the_unit_up, fresh),
        cmocka_unit_test_setup(test_short_file_is_completed_long_file_refused, fresh),
        cmocka_unit_test_setup(test_unopenable_path_says_why, fresh),
        cmocka_unit_test_setup(test_flash_log_survives_reopen, fresh),
    };

    if (argc < 2) {
        fprintf(stderr, "usage: %s FLASH_FILE_PATH\n", argv[0]);
        return 2;
    }
    g_path = argv[1];
    return cmocka_run_group_tests(tests, NULL, NULL);
}
