/*
 * The flash log on a host file (file_blockdev.h), as a board backs it with a
 * file through semihosting: what one run stores, the next run reads back,
 * after the file was closed and opened again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "alertpost/ap_store_flash.h"
#include "file_blockdev.h"

static const char *image_path;

static const ap_blockdev_geometry_t geometry = { 1024, 4, 4, 1, 0xFF };

static void record(int id, uint8_t *buf, size_t *len)
{
    size_t i;

    *len = 10u + (size_t)id * 9u;
    for (i = 0; i < *len; i++) {
        buf[i] = (uint8_t)(id + (int)i * 3);
    }
}

static void test_records_persist_across_runs(void **state)
{
    file_blockdev_t b;
    ap_store_flash_t fl;
    ap_store_t st;
    uint8_t want[128];
    uint8_t got[128];
    size_t want_len;
    size_t len;
    size_t n;
    int id;

    (void)state;
    remove(image_path);
    assert_int_equal(file_blockdev_open(&b, image_path, &geometry), 0);
    assert_int_equal(ap_store_flash_init(&fl, &b.dev, &st), AP_OK);
    for (id = 0; id < 6; id++) {
        record(id, want, &want_len);
        assert_int_equal(st.append(st.ctx, want, want_len), AP_OK);
    }
    assert_int_equal(st.remove_oldest(st.ctx), AP_OK);   /* 0 delivered */
    assert_int_equal(st.dead_letter(st.ctx), AP_OK);     /* 1 refused */
    file_blockdev_close(&b);

    /* The next run: a fresh state over the same file. */
    memset(&fl, 0, sizeof(fl));
    assert_int_equal(file_blockdev_open(&b, image_path, &geometry), 0);
    assert_int_equal(ap_store_flash_init(&fl, &b.dev, &st), AP_OK);
    assert_int_equal(st.count(st.ctx, AP_STORE_LIVE, &n), AP_OK);
    assert_int_equal(n, 4);
    for (id = 2; id < 6; id++) {
        record(id, want, &want_len);
        assert_int_equal(st.read(st.ctx, AP_STORE_LIVE, (size_t)id - 2u, got, sizeof(got), &len),
                         AP_OK);
        assert_int_equal(len, want_len);
        assert_memory_equal(got, want, len);
    }
    assert_int_equal(st.count(st.ctx, AP_STORE_DEAD, &n), AP_OK);
    assert_int_equal(n, 1);
    record(1, want, &want_len);
    assert_int_equal(st.read(st.ctx, AP_STORE_DEAD, 0, got, sizeof(got), &len), AP_OK);
    assert_int_equal(len, want_len);
    assert_memory_equal(got, want, len);
    file_blockdev_close(&b);
    remove(image_path);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_records_persist_across_runs),
    };

    if (argc != 2) {
        fprintf(stderr, "usage: %s IMAGE_PATH (a file the test may create and delete)\n",
                argv[0]);
        return 2;
    }
    image_path = argv[1];
    return cmocka_run_group_tests(tests, NULL, NULL);
}
