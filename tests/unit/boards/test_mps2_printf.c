/*
 * The firmware's own printf family (boards/mps2/common/printf.c), built for
 * the host under other names and checked against the host C library's
 * snprintf, which is the reference for every format the project uses.
 * The console it writes to is captured here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int mps2_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int mps2_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ap_mps2_console_write(const char *buf, size_t len);

static char g_console[4096];
static size_t g_console_len;

void ap_mps2_console_write(const char *buf, size_t len)
{
    if (len > sizeof g_console - g_console_len) {
        len = sizeof g_console - g_console_len;
    }
    memcpy(g_console + g_console_len, buf, len);
    g_console_len += len;
}

/* Format with both and compare text and return value. */
#define SAME(...)                                                          \
    do {                                                                   \
        char want[256];                                                    \
        char got[256];                                                     \
        int wn = snprintf(want, sizeof want, __VA_ARGS__);                \
        int gn = mps2_snprintf(got, sizeof got, __VA_ARGS__);             \
        assert_string_equal(got, want);                                    \
        assert_int_equal(gn, wn);                                          \
    } while (0)

static void test_integers(void **state)
{
    (void)state;
    SAME("%d %i %u", -42, 17, 4000000000u);
    SAME("%x %X %08lX %02X", 0xbeefu, 0xbeefu, 0xDEADBEEFul, 7u);
    SAME("%ld %lu %lld %llu", -1234567890L, 4294967295ul, -9000000000000LL, 18446744073709551615ull);
    SAME("%zu %hhu %hd", (size_t)123456, (unsigned char)250, (short)-300);
    SAME("%" PRIu32 " %" PRId32 " %" PRIx32, (uint32_t)4294967295u, (int32_t)-2147483647 - 1,
         (uint32_t)0xabcdef01u);
    SAME("%d %d %u", 0, -0, 0u);
    SAME("[%5d] [%-5d] [%05d]", 42, 42, -42);
    SAME("[%*d] [%-*d]", 6, -3, 6, -3);
    SAME("[%.3d] [%8.3d] [%.0d]", 7, -7, 0);
}

static void test_strings_and_chars(void **state)
{
    (void)state;
    SAME("%s|%s", "alert", "");
    SAME("[%10s] [%-10s]", "left", "right");
    SAME("[%.3s] [%.*s] [%.120s]", "truncated", 2, "ab-cd", "short");
    SAME("%c%c%c %%", 'o', 'k', '!');
    SAME("certificate refused: %s's chain (flags 0x%08lX)", "localhost", 0x8ul);
}

static void test_truncation_and_sizes(void **state)
{
    char buf[8];
    int n;

    (void)state;
    memset(buf, 'x', sizeof buf);
    n = mps2_snprintf(buf, sizeof buf, "%s-%d", "abcdef", 12345);
    assert_int_equal(n, 12);            /* what it would have written */
    assert_string_equal(buf, "abcdef-"); /* cut, and NUL-terminated */
    memset(buf, 'x', sizeof buf);
    assert_int_equal(mps2_snprintf(buf, 0, "%d", 99), 2);
    assert_int_equal(buf[0], 'x');       /* size 0 writes nothing */
    assert_int_equal(mps2_snprintf(buf, 1, "%d", 99), 2);
    assert_int_equal(buf[0], '\0');
}

static void test_printf_goes_to_the_console(void **state)
{
    (void)state;
    g_console_len = 0;
    assert_int_equal(mps2_printf("alert_poster: delivered seq=%lu status=%d\n", 7ul, 200), 41);
    assert_int_equal(g_console_len, 41);
    assert_memory_equal(g_console, "alert_poster: delivered seq=7 status=200\n", 41);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_strings_and_chars),
        cmocka_unit_test(test_truncation_and_sizes),
        cmocka_unit_test(test_printf_goes_to_the_console),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
