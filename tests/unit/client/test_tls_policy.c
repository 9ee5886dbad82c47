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

/* A ServerHello: legacy_version 1.2, a 32-byte session id, TLS_AES_128_GCM_SHA256,
 * then the extensions given (type, length, data...). */
static size_t make_hello(uint8_t *out, const uint8_t *exts, size_t exts_len)
{
    size_t body = 2 + 32 + 1 + 32 + 2 + 1 + 2 + exts_len;
    size_t n = 0;
    size_t i;

    out[n++] = 0x16;
    out[n++] = 0x03;
    out[n++] = 0x03;
    out[n++] = (uint8_t)((body + 4) >> 8);
    out[n++] = (uint8_t)(body + 4);
    out[n++] = 0x02;
    out[n++] = 0x00;
    out[n++] = (uint8_t)(body >> 8);
    out[n++] = (uint8_t)body;
    out[n++] = 0x03;
    out[n++] = 0x03;
    for (i = 0; i < 32; i++) {
        out[n++] = (uint8_t)(0xA0 + i); /* random */
    }
    out[n++] = 32;
    for (i = 0; i < 32; i++) {
        out[n++] = (uint8_t)i; /* session id */
    }
    out[n++] = 0x13;
    out[n++] = 0x01;
    out[n++] = 0x00;
    out[n++] = (uint8_t)(exts_len >> 8);
    out[n++] = (uint8_t)exts_len;
    memcpy(&out[n], exts, exts_len);
    return n + exts_len;
}

/* key_share (x25519, 32 bytes) then supported_versions = TLS 1.3. */
static const uint8_t k_tls13_exts[] = {
    0x00, 0x33, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
    0x00, 0x2b, 0x00, 0x02, 0x03, 0x04};

static void test_sniff_tls13_reads_supported_versions(void **state)
{
    uint8_t hello[256];
    size_t len = make_hello(hello, k_tls13_exts, sizeof(k_tls13_exts));
    ap_tls_sniff_t s;
    size_t cut;
    size_t i;

    (void)state;
    for (cut = 0; cut <= len; cut++) {
        ap_tls_sniff_init(&s);
        ap_tls_sniff_feed(&s, hello, cut);
        ap_tls_sniff_feed(&s, hello + cut, len - cut);
        assert_int_equal(s.hello_version, AP_TLS_1_3);
        assert_int_equal(s.record_version, AP_TLS_1_2);
        assert_int_equal(ap_tls_sniff_server_version(&s), AP_TLS_1_3);
    }
    ap_tls_sniff_init(&s);
    for (i = 0; i < len; i++) {
        ap_tls_sniff_feed(&s, &hello[i], 1);
    }
    assert_int_equal(s.hello_version, AP_TLS_1_3);
}

static void test_sniff_tls12_hello_with_extensions(void **state)
{
    /* renegotiation_info, then extended_master_secret: no supported_versions */
    static const uint8_t exts[] = {0xff, 0x01, 0x00, 0x01, 0x00, 0x00, 0x17, 0x00, 0x00};
    uint8_t hello[256];
    size_t len = make_hello(hello, exts, sizeof(exts));
    ap_tls_sniff_t s;

    (void)state;
    ap_tls_sniff_init(&s);
    ap_tls_sniff_feed(&s, hello, len);
    assert_int_equal(s.hello_version, AP_TLS_1_2);

    /* The version is not known until the ServerHello has ended. */
    ap_tls_sniff_init(&s);
    ap_tls_sniff_feed(&s, hello, len - 1);
    assert_int_equal(s.hello_version, 0);
    ap_tls_sniff_feed(&s, hello + len - 1, 1);
    assert_int_equal(s.hello_version, AP_TLS_1_2);
}

static void test_sniff_tls13_hello_across_records(void **state)
{
    uint8_t hello[256];
    uint8_t two[300];
    size_t len = make_hello(hello, k_tls13_exts, sizeof(k_tls13_exts));
    size_t first = 40; /* handshake bytes in the first record */
    size_t rest = len - 5 - first;
    ap_tls_sniff_t s;

    (void)state;
    memcpy(two, hello, 5 + first);
    two[3] = (uint8_t)(first >> 8);
    two[4] = (uint8_t)first;
    two[5 + first] = 0x16;
    two[6 + first] = 0x03;
    two[7 + first] = 0x03;
    two[8 + first] = (uint8_t)(rest >> 8);
    two[9 + first] = (uint8_t)rest;
    memcpy(&two[10 + first], hello + 5 + first, rest);
    ap_tls_sniff_init(&s);
    ap_tls_sniff_feed(&s, two, len + 5);
    assert_int_equal(s.hello_version, AP_TLS_1_3);
}

static void test_sniff_stalled_tls13_hello_is_not_tls12(void **state)
{
    uint8_t hello[256];
    size_t len = make_hello(hello, k_tls13_exts, sizeof(k_tls13_exts));
    ap_tls_sniff_t s;

    (void)state;
    ap_tls_sniff_init(&s);
    ap_tls_sniff_feed(&s, hello, len - 3); /* stalls inside supported_versions */
    assert_int_equal(s.hello_version, 0);
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
        cmocka_unit_test(test_sniff_tls13_reads_supported_versions),
        cmocka_unit_test(test_sniff_tls12_hello_with_extensions),
        cmocka_unit_test(test_sniff_tls13_hello_across_records),
        cmocka_unit_test(test_sniff_stalled_tls13_hello_is_not_tls12),
        cmocka_unit_test(test_sniff_alert),
        cmocka_unit_test(test_sniff_only_the_first_record),
        cmocka_unit_test(test_sniff_not_tls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
