/*
 * The version policy (a floor, not a pin) and the sniffer that names the
 * version a server chose from its first bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "alertpost/ap_tls_policy.h"

static void test_defaults_are_floor_to_highest(void **state)
{
    ap_tls_version_t lo = 0;
    ap_tls_version_t hi = 0;

    (void)state;
    assert_int_equal(ap_tls_policy_resolve(0, 0, AP_TLS_1_3, &lo, &hi), AP_OK);
    assert_int_equal(lo, AP_TLS_1_2);
    assert_int_equal(hi, AP_TLS_1_3);
    assert_int_equal(ap_tls_policy_resolve(0, 0, AP_TLS_1_2, &lo, &hi), AP_OK);
    assert_int_equal(lo, AP_TLS_1_2);
    assert_int_equal(hi, AP_TLS_1_2);
}

static void test_explicit_ranges(void **state)
{
    ap_tls_version_t lo = 0;
    ap_tls_version_t hi = 0;

    (void)state;
    assert_int_equal(ap_tls_policy_resolve(AP_TLS_1_3, 0, AP_TLS_1_3, &lo, &hi), AP_OK);
    assert_int_equal(lo, AP_TLS_1_3);
    assert_int_equal(hi, AP_TLS_1_3);
    assert_int_equal(ap_tls_policy_resolve(0, AP_TLS_1_2, AP_TLS_1_3, &lo, &hi), AP_OK);
    assert_int_equal(lo, AP_TLS_1_2);
    assert_int_equal(hi, AP_TLS_1_2);
}

static void test_below_the_floor_is_refused(void **state)
{
    static const ap_tls_version_t old[] = {AP_TLS_SSL_3_0, AP_TLS_1_0, AP_TLS_1_1, 0x0200, 1};
    ap_tls_version_t lo = 0x1111;
    ap_tls_version_t hi = 0x2222;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(old) / sizeof(old[0]); i++) {
        assert_int_equal(ap_tls_policy_resolve(old[i], 0, AP_TLS_1_3, &lo, &hi), AP_ERR_BAD_ARG);
        assert_int_equal(ap_tls_policy_resolve(0, old[i], AP_TLS_1_3, &lo, &hi), AP_ERR_BAD_ARG);
    }
    /* outputs untouched on refusal */
    assert_int_equal(lo, 0x1111);
    assert_int_equal(hi, 0x2222);
}

static void test_impossible_ranges_are_refused(void **state)
{
    ap_tls_version_t lo;
    ap_tls_version_t hi;

    (void)state;
    assert_int_equal(ap_tls_policy_resolve(AP_TLS_1_3, AP_TLS_1_2, AP_TLS_1_3, &lo, &hi),
                     AP_ERR_BAD_ARG);
    assert_int_equal(ap_tls_policy_resolve(AP_TLS_1_3, 0, AP_TLS_1_2, &lo, &hi), AP_ERR_BAD_ARG);
    assert_int_equal(ap_tls_policy_resolve(0, AP_TLS_1_3, AP_TLS_1_2, &lo, &hi), AP_ERR_BAD_ARG);
    assert_int_equal(ap_tls_policy_resolve(0, 0x0305, AP_TLS_1_3, &lo, &hi), AP_ERR_BAD_ARG);
    assert_int_equal(ap_tls_policy_resolve(0, 0, AP_TLS_1_3, NULL, &hi), AP_ERR_BAD_ARG);
}

static void test_version_names(void **state)
{
    (void)state;
    assert_string_equal(ap_tls_version_str(AP_TLS_1_0), "TLS 1.0");
    assert_string_equal(ap_tls_version_str(AP_TLS_1_1), "TLS 1.1");
    assert_string_equal(ap_tls_version_str(AP_TLS_1_2), "TLS 1.2");
    assert_string_equal(ap_tls_version_str(AP_TLS_1_3), "TLS 1.3");
    assert_string_equal(ap_tls_version_str(AP_TLS_SSL_3_0), "SSL 3.0");
    assert_string_equal(ap_tls_version_str(0x7F1C), "an unknown version");
}

/* A TLS 1.0 ServerHello's first bytes: record header, handshake header, version. */
static const uint8_t k_hello_tls10[] = {0x16, 0x03, 0x01, 0x00, 0x31, 0x02, 0x00, 0x00, 0x2d,
                                        0x03, 0x01, 0xAA, 0xBB};

static void test_sniff_server_hello_whole_and_split(void **state)
{
    ap_tls_sniff_t s;
    size_t cut;

    (void)state;
    for (cut = 0; cut <= sizeof(k_hello_tls10); cut++) {
        ap_tls_sniff_init(&s);
        ap_tls_sniff_feed(&s, k_hello_tls10, cut);
        ap_tls_sniff_feed(&s, k_hello_tls10 + cut, sizeof(k_hello_tls10) - cut);
        assert_int_equal(s.hello_version, AP_TLS_1_0);
        assert_int_equal(s.record_version, AP_TLS_1_0);
        assert_int_equal(ap_tls_sniff_server_version(&s), AP_TLS_1_0);
    }
}

static void test_sniff_byte_by_byte(void **state)
{
    ap_tls_sniff_t s;
    size_t i;

    (void)state;
    ap_tls_sniff_init(&s);
    for (i = 0; i < sizeof(k_hello_tls10); i++) {
        ap_tls_sniff_feed(&s, &k_hello_tls10[i], 1);
    }
    assert_int_equal(ap_tls_sniff_server_version(&s), AP_TLS_1_0);
}

static void test_sniff_alert(void **state)
{
    static const uint8_t alert[] = {0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46};
    ap_tls_sniff_t s;

    (void)state;
    ap_tls_sniff_init(&s);
    ap_tls_sniff_feed(&s, alert, sizeof(alert));
    assert_int_equal(s.first_type, 21);
    assert_int_equal(s.alert_level, 2);
    assert_int_equal(s.alert_desc, 70);
    assert_int_equal(s.hello_version, 0);
    assert_int_equal(ap_tls_sniff_server_version(&s), AP_TLS_1_0);
}

static void test_sniff_only_the_first_record(void **state)
{
    static const uint8_t hello12[] = {0x16, 0x03, 0x03, 0x00, 0x31, 0x02, 0x00, 0x00, 0x2d,
                                      0x03, 0x03};
    ap_tls_sniff_t s;

    (void)state;
    ap_tls_sniff_init(&s);
    ap_tls_sniff_feed(&s, hello12, sizeof(hello12));
    ap_tls_sniff_feed(&s, k_hello_tls10, sizeof(k_hello_tls10)); /* ignored */
    assert_int_equal(ap_tls_sniff_server_version(&s), AP_TLS_1_2);
}

static void test_sniff_not_tls(void **state)
{
    static const uint8_t http[] = "HTTP/1.1 400 Bad Request\r\n";
    static const uint8_t appdata[] = {0x17, 0x03, 0x03, 0x00, 0x10};
    ap_tls_sniff_t s;

    (void)state;
    ap_tls_sniff_init(&s);
    ap_tls_sniff_feed(&s, http, sizeof(http) - 1);
    assert_int_equal(ap_tls_sniff_server_version(&s), 0);

    ap_tls_sniff_init(&s);
    ap_tls_sniff_feed(&s, appdata, sizeof(appdata));
    assert_int_equal(ap_tls_sniff_server_version(&s), 0);

    ap_tls_sniff_init(&s);
    ap_tls_sniff_feed(&s, k_hello_tls10, 3); /* too few bytes to say */
    assert_int_equal(ap_tls_sniff_server_version(&s), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_are_floor_to_highest),
        cmocka_unit_test(test_explicit_ranges),
        cmocka_unit_test(test_below_the_floor_is_refused),
        cmocka_unit_test(test_impossible_ranges_are_refused),
        cmocka_unit_test(test_version_names),
        cmocka_unit_test(test_sniff_server_hello_whole_and_split),
        cmocka_unit_test(test_sniff_byte_by_byte),
        cmocka_unit_test(test_sniff_alert),
        cmocka_unit_test(test_sniff_only_the_first_record),
        cmocka_unit_test(test_sniff_not_tls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
