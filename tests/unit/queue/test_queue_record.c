/*
 * The record codec and the Idempotency-Key: what goes in comes out byte for
 * byte; every single-byte change, every truncation and every field the
 * encoder would refuse is refused by the decoder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "alertpost/ap_queue.h"
#include "ap_queue_internal.h"

#define KEY "\"0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b\""

static const ap_header_t two_headers[] = {
    { "Authorization", "Bearer abc.def" },
    { "X-Site", "plant 7\tline 2 \xc3\xa9" },
};

static ap_request_t sample_alert(void)
{
    ap_request_t a;

    memset(&a, 0, sizeof(a));
    a.content_type = "application/json; charset=utf-8";
    a.headers = two_headers;
    a.header_count = 2;
    a.body = (const uint8_t *)"{\"t\":1}";
    a.body_len = 7;
    return a;
}

static size_t encode(const ap_request_t *a, uint8_t *buf, size_t size)
{
    size_t len = 0;
    size_t predicted = 0;

    assert_int_equal(ap_queue_record_encode(a, KEY, buf, size, &len), AP_OK);
    assert_int_equal(ap_queue_record_size(a, &predicted), AP_OK);
    assert_int_equal(predicted, len); /* a full-length key: the size is exact */
    return len;
}

/* Decodes from an exactly sized heap copy, so that ASan sees any over-read. */
static ap_status_t decode_copy(const uint8_t *rec, size_t len, ap_queue_record_t *out,
                               uint8_t **copy)
{
    *copy = malloc(len > 0 ? len : 1);
    assert_non_null(*copy);
    if (len > 0) {
        memcpy(*copy, rec, len);
    }
    return ap_queue_record_decode(*copy, len, out);
}

static void test_crc32_check_value(void **state)
{
    (void)state;
    /* The CRC-32/ISO-HDLC check value, and continuation over two calls. */
    assert_int_equal(ap_crc32(0, (const uint8_t *)"123456789", 9), 0xCBF43926u);
    assert_int_equal(ap_crc32(ap_crc32(0, (const uint8_t *)"1234", 4),
                                    (const uint8_t *)"56789", 5),
                     0xCBF43926u);
    assert_int_equal(ap_crc32(0, NULL, 0), 0u);
}

static void test_round_trip(void **state)
{
    uint8_t buf[512];
    ap_request_t a = sample_alert();
    ap_queue_record_t r;
    uint8_t *copy;
    size_t len;

    (void)state;
    len = encode(&a, buf, sizeof(buf));
    assert_int_equal(buf[0], AP_QUEUE_RECORD_VERSION);
    assert_int_equal(decode_copy(buf, len, &r, &copy), AP_OK);
    assert_string_equal(r.key, KEY);
    assert_string_equal(r.content_type, a.content_type);
    assert_int_equal(r.header_count, 2);
    assert_string_equal(r.headers[0].name, "Authorization");
    assert_string_equal(r.headers[0].value, "Bearer abc.def");
    assert_string_equal(r.headers[1].name, "X-Site");
    assert_string_equal(r.headers[1].value, two_headers[1].value);
    assert_int_equal(r.body_len, 7);
    assert_memory_equal(r.body, "{\"t\":1}", 7);
    /* In place: the view points into the record. */
    assert_true((const uint8_t *)r.key > copy && r.body < copy + len);
    free(copy);
}

static void test_round_trip_minimal_and_binary(void **state)
{
    uint8_t buf[512];
    uint8_t body[256];
    ap_request_t a;
    ap_queue_record_t r;
    uint8_t *copy;
    size_t len;
    size_t i;

    (void)state;
    memset(&a, 0, sizeof(a));
    len = encode(&a, buf, sizeof(buf));
    assert_int_equal(decode_copy(buf, len, &r, &copy), AP_OK);
    assert_null(r.content_type);
    assert_int_equal(r.header_count, 0);
    assert_null(r.body);
    assert_int_equal(r.body_len, 0);
    free(copy);

    /* A body is bytes: NULs and every other value survive. */
    for (i = 0; i < sizeof(body); i++) {
        body[i] = (uint8_t)i;
    }
    a.body = body;
    a.body_len = sizeof(body);
    len = encode(&a, buf, sizeof(buf));
    assert_int_equal(decode_copy(buf, len, &r, &copy), AP_OK);
    assert_int_equal(r.body_len, sizeof(body));
    assert_memory_equal(r.body, body, sizeof(body));
    free(copy);
}

static void test_every_flip_and_cut_refused(void **state)
{
    uint8_t buf[512];
    ap_request_t a = sample_alert();
    ap_queue_record_t r;
    uint8_t *copy;
    size_t len;
    size_t i;
    unsigned bit;

    (void)state;
    len = encode(&a, buf, sizeof(buf));
    for (i = 0; i < len; i++) {
        for (bit = 0; bit < 8; bit++) {
            buf[i] ^= (uint8_t)(1u << bit);
            assert_int_equal(decode_copy(buf, len, &r, &copy), AP_ERR_STORE_CORRUPT);
            free(copy);
            buf[i] ^= (uint8_t)(1u << bit);
        }
    }
    for (i = 0; i < len; i++) {
        assert_int_equal(decode_copy(buf, i, &r, &copy), AP_ERR_STORE_CORRUPT);
        free(copy);
    }
    assert_int_equal(decode_copy(buf, len, &r, &copy), AP_OK);
    free(copy);
}

/* Rewrites the CRC after an edit, so that only the field checks stand. */
static void reseal(uint8_t *rec, size_t len)
{
    uint32_t crc = ap_crc32(0, rec, len - 4);

    rec[len - 4] = (uint8_t)crc;
    rec[len - 3] = (uint8_t)(crc >> 8);
    rec[len - 2] = (uint8_t)(crc >> 16);
    rec[len - 1] = (uint8_t)(crc >> 24);
}

static void expect_refused_after(uint8_t *rec, size_t len, size_t at, uint8_t value)
{
    uint8_t saved = rec[at];
    ap_queue_record_t r;
    uint8_t *copy;

    rec[at] = value;
    reseal(rec, len);
    if (decode_copy(rec, len, &r, &copy) != AP_ERR_STORE_CORRUPT) {
        free(copy);
        fail_msg("accepted byte 0x%02x at offset %zu", value, at);
    }
    free(copy);
    rec[at] = saved;
    reseal(rec, len);
}

static void test_resealed_bad_fields_refused(void **state)
{
    uint8_t buf[512];
    ap_request_t a = sample_alert();
    size_t len;
    size_t key_at = 3;            /* version, count, key length */
    size_t ct_len_at = key_at + 38 + 1;
    size_t ct_at = ct_len_at + 1;
    size_t name_at = ct_at + strlen(a.content_type) + 1 + 1;
    size_t value_at = name_at + strlen("Authorization") + 1 + 2;

    (void)state;
    len = encode(&a, buf, sizeof(buf));
    assert_int_equal(buf[ct_len_at], strlen(a.content_type));
    assert_memory_equal(buf + name_at, "Authorization", 13);
    assert_memory_equal(buf + value_at, "Bearer", 6);

    expect_refused_after(buf, len, 0, 2);                       /* a future version */
    expect_refused_after(buf, len, 1, AP_QUEUE_MAX_HEADERS + 1); /* too many headers */
    expect_refused_after(buf, len, 1, 3);                       /* more than present */
    expect_refused_after(buf, len, 1, 1);                       /* fewer: bytes left over */
    expect_refused_after(buf, len, 2, 37);                      /* key length off */
    expect_refused_after(buf, len, key_at, 'x');                /* key not quoted */
    expect_refused_after(buf, len, key_at + 5, '\\');           /* not an sf-string */
    expect_refused_after(buf, len, key_at + 5, 0);              /* NUL inside */
    expect_refused_after(buf, len, ct_at + 3, '\n');            /* CTL in a value */
    expect_refused_after(buf, len, ct_at + 3, 0x7F);
    expect_refused_after(buf, len, name_at + 2, ' ');           /* name not a token */
    expect_refused_after(buf, len, name_at + 2, ':');
    expect_refused_after(buf, len, value_at + 2, '\r');
    expect_refused_after(buf, len, value_at - 2, 0xFF);         /* value length past end */
    expect_refused_after(buf, len, len - 4 - 7 - 4, 8);         /* body length past end */
    expect_refused_after(buf, len, len - 4 - 7 - 4, 6);         /* a byte left over */
}

static void test_owned_header_names_refused(void **state)
{
    static const char *const names[] = {
        "Idempotency-Key", "idempotency-KEY", "HOST", "Content-Length", "Transfer-Encoding",
        "Connection"
    };
    uint8_t buf[512];
    ap_request_t a;
    ap_header_t h;
    size_t len;
    size_t i;

    (void)state;
    memset(&a, 0, sizeof(a));
    a.headers = &h;
    a.header_count = 1;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        h.name = names[i];
        h.value = "x";
        assert_int_equal(ap_queue_record_encode(&a, KEY, buf, sizeof(buf), &len), AP_ERR_BAD_ARG);
    }
    /* Near misses are ordinary headers; so are the defaults an extra header
     * replaces in the request writer. */
    h.name = "Idempotency-Keys";
    assert_int_equal(ap_queue_record_encode(&a, KEY, buf, sizeof(buf), &len), AP_OK);
    h.name = "Content-Type";
    assert_int_equal(ap_queue_record_encode(&a, KEY, buf, sizeof(buf), &len), AP_OK);
    h.name = "User-Agent";
    assert_int_equal(ap_queue_record_encode(&a, KEY, buf, sizeof(buf), &len), AP_OK);
    /* And the decoder refuses an owned name that was written in anyway: a
     * same-length name, then its first letter changed and the CRC redone. */
    h.name = "Xdempotency-Key";
    assert_int_equal(ap_queue_record_encode(&a, KEY, buf, sizeof(buf), &len), AP_OK);
    {
        size_t name_at = 3 + 38 + 1 + 1 + 1 + 1;
        ap_queue_record_t r;
        uint8_t *copy;

        assert_memory_equal(buf + name_at, "Xdempotency-Key", 15);
        assert_int_equal(decode_copy(buf, len, &r, &copy), AP_OK);
        free(copy);
        buf[name_at] = 'i';
        reseal(buf, len);
        assert_int_equal(decode_copy(buf, len, &r, &copy), AP_ERR_STORE_CORRUPT);
        free(copy);
    }
}

static void test_encode_refusals(void **state)
{
    static char long_value[AP_QUEUE_MAX_VALUE_LEN + 2];
    uint8_t buf[512];
    ap_request_t a = sample_alert();
    ap_header_t h = { "X-A", "ok" };
    ap_header_t many[AP_QUEUE_MAX_HEADERS + 1];
    size_t len = 0;
    size_t need = 0;
    size_t i;

    (void)state;
    assert_int_equal(ap_queue_record_encode(NULL, KEY, buf, sizeof(buf), &len), AP_ERR_BAD_ARG);
    assert_int_equal(ap_queue_record_encode(&a, NULL, buf, sizeof(buf), &len), AP_ERR_BAD_ARG);
    assert_int_equal(ap_queue_record_encode(&a, "no-quotes", buf, sizeof(buf), &len),
                     AP_ERR_BAD_ARG);
    assert_int_equal(ap_queue_record_encode(&a, KEY, NULL, sizeof(buf), &len), AP_ERR_BAD_ARG);

    /* One byte short of the record: no space, and the size says why. */
    assert_int_equal(ap_queue_record_size(&a, &need), AP_OK);
    assert_int_equal(ap_queue_record_encode(&a, KEY, buf, need - 1, &len), AP_ERR_NO_SPACE);
    assert_int_equal(ap_queue_record_encode(&a, KEY, buf, need, &len), AP_OK);

    a = sample_alert();
    a.body = NULL;
    assert_int_equal(ap_queue_record_encode(&a, KEY, buf, sizeof(buf), &len), AP_ERR_BAD_ARG);

    a = sample_alert();
    a.content_type = "text/plain\r\nX-Injected: 1";
    assert_int_equal(ap_queue_record_encode(&a, KEY, buf, sizeof(buf), &len), AP_ERR_BAD_ARG);

    a = sample_alert();
    a.headers = &h;
    a.header_count = 1;
    h.name = "X A";
    assert_int_equal(ap_queue_record_encode(&a, KEY, buf, sizeof(buf), &len), AP_ERR_BAD_ARG);
    h.name = "";
    assert_int_equal(ap_queue_record_encode(&a, KEY, buf, sizeof(buf), &len), AP_ERR_BAD_ARG);
    h.name = "X-A";
    h.value = "a\nb";
    assert_int_equal(ap_queue_record_encode(&a, KEY, buf, sizeof(buf), &len), AP_ERR_BAD_ARG);
    h.value = NULL;
    assert_int_equal(ap_queue_record_encode(&a, KEY, buf, sizeof(buf), &len), AP_ERR_BAD_ARG);

    memset(long_value, 'v', sizeof(long_value) - 1);
    h.value = long_value;
    assert_int_equal(ap_queue_record_size(&a, &need), AP_ERR_TOO_LARGE);

    for (i = 0; i < AP_QUEUE_MAX_HEADERS + 1; i++) {
        many[i].name = "X-N";
        many[i].value = "1";
    }
    a.headers = many;
    a.header_count = AP_QUEUE_MAX_HEADERS + 1;
    assert_int_equal(ap_queue_record_encode(&a, KEY, buf, sizeof(buf), &len), AP_ERR_BAD_ARG);
    a.header_count = AP_QUEUE_MAX_HEADERS;
    assert_int_equal(ap_queue_record_encode(&a, KEY, buf, sizeof(buf), &len), AP_OK);
}

/* ---- keys ---------------------------------------------------------------- */

static uint8_t entropy_fill;
static int entropy_fail;

static ap_status_t fake_entropy(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    if (entropy_fail) {
        return AP_ERR_ENTROPY;
    }
    memset(buf, entropy_fill, len);
    return AP_OK;
}

static void test_key_is_quoted_uuid_v4(void **state)
{
    ap_platform_t pf;
    char key[AP_QUEUE_KEY_SIZE];

    (void)state;
    memset(&pf, 0, sizeof(pf));
    pf.entropy = fake_entropy;
    entropy_fail = 0;

    entropy_fill = 0xFF;
    assert_int_equal(ap_queue_key_generate(&pf, key), AP_OK);
    /* Version nibble 4 and variant bits 10 forced over the random bytes. */
    assert_string_equal(key, "\"ffffffff-ffff-4fff-bfff-ffffffffffff\"");
    entropy_fill = 0x00;
    assert_int_equal(ap_queue_key_generate(&pf, key), AP_OK);
    assert_string_equal(key, "\"00000000-0000-4000-8000-000000000000\"");
    assert_int_equal(strlen(key), AP_QUEUE_KEY_SIZE - 1);
    assert_true(ap_queue_is_key(key));

    entropy_fail = 1;
    memset(key, 'z', sizeof(key));
    assert_int_equal(ap_queue_key_generate(&pf, key), AP_ERR_ENTROPY);
    pf.entropy = NULL;
    assert_int_equal(ap_queue_key_generate(&pf, key), AP_ERR_BAD_ARG);
    assert_int_equal(ap_queue_key_generate(NULL, key), AP_ERR_BAD_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32_check_value),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_round_trip_minimal_and_binary),
        cmocka_unit_test(test_every_flip_and_cut_refused),
        cmocka_unit_test(test_resealed_bad_fields_refused),
        cmocka_unit_test(test_owned_header_names_refused),
        cmocka_unit_test(test_encode_refusals),
        cmocka_unit_test(test_key_is_quoted_uuid_v4),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
