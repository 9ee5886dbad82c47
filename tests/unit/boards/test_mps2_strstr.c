/*
 * The firmware's strstr (boards/mps2/common/strstr.c), built for the host
 * as mps2_strstr and checked against the host C library's on the cases
 * that differ between a plain search and a wrong one: empty needle and
 * haystack, a match at either end, a partial match just before the real
 * one, a needle longer than the haystack, and the PEM marker Mbed TLS
 * looks for.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

char *mps2_strstr(const char *haystack, const char *needle);

static void same(const char *h, const char *n)
{
    const char *want = strstr(h, n);
    const char *got = mps2_strstr(h, n);

    assert_ptr_equal(got, want);
}

static void test_matches_the_c_library(void **state)
{
    static const char pem[] = "garbage\n-----BEGIN CERTIFICATE-----\nMIIB...\n";

    (void)state;
    same("", "");
    same("abc", "");
    same("", "a");
    same("abc", "abc");
    same("abc", "abcd");
    same("xxabc", "abc");
    same("abcxx", "abc");
    same("aaab", "aab");
    same("ababac", "abac");
    same("abc", "d");
    same(pem, "-----BEGIN CERTIFICATE-----");
    same(pem, "-----END CERTIFICATE-----");
    assert_ptr_equal(mps2_strstr(pem, "-----BEGIN"), pem + 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_the_c_library),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
