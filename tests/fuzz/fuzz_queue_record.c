/*
 * Fuzz target for the queue's record decoder.
 *
 * Each input is decoded twice: as it is, and with its last four bytes
 * replaced by the right CRC, so that mutations get past the CRC and reach
 * the field checks behind it. A record that is accepted must describe only
 * bytes inside the input, with every field as the encoder would have
 * written it, and the encoding is canonical: encoding the decoded alert
 * again must give back the input byte for byte. A violation aborts.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alertpost/ap_queue.h"
#include "ap_queue_internal.h"
#include "http/ap_http_chars.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ap_fuzz_require(bool ok)
{
    if (!ok) {
        abort();
    }
}

static bool ap_fuzz_inside(const void *p, size_t n, const uint8_t *rec, size_t len)
{
    const uint8_t *b = p;
    return b >= rec && n <= len && b - rec <= (ptrdiff_t)(len - n);
}

static void ap_fuzz_check_string(const char *s, const uint8_t *rec, size_t len)
{
    size_t n = strlen(s);

    ap_fuzz_require(ap_fuzz_inside(s, n + 1, rec, len));
    ap_fuzz_require(ap_http_is_field_value(s));
}

static void ap_fuzz_check(const ap_queue_record_t *r, const uint8_t *rec, size_t len)
{
    size_t i;

    ap_fuzz_check_string(r->key, rec, len);
    ap_fuzz_require(ap_queue_is_key(r->key));
    if (r->content_type != NULL) {
        ap_fuzz_check_string(r->content_type, rec, len);
        ap_fuzz_require(r->content_type[0] != '\0');
    }
    ap_fuzz_require(r->header_count <= AP_QUEUE_MAX_HEADERS);
    for (i = 0; i < r->header_count; i++) {
        const ap_header_t *h = &r->headers[i];
        ap_fuzz_check_string(h->name, rec, len);
        ap_fuzz_check_string(h->value, rec, len);
        ap_fuzz_require(ap_http_is_token(h->name));
        ap_fuzz_require(!ap_queue_is_owned_name(h->name));
    }
    ap_fuzz_require((r->body == NULL) == (r->body_len == 0));
    if (r->body != NULL) {
        ap_fuzz_require(ap_fuzz_inside(r->body, r->body_len, rec, len));
    }
}

static void ap_fuzz_round_trip(const ap_queue_record_t *r, const uint8_t *rec, size_t len)
{
    ap_request_t a;
    uint8_t *again = malloc(len);
    size_t n = 0;

    ap_fuzz_require(again != NULL);
    memset(&a, 0, sizeof(a));
    a.content_type = r->content_type;
    a.headers = r->headers;
    a.header_count = r->header_count;
    a.body = r->body;
    a.body_len = r->body_len;
    ap_fuzz_require(ap_queue_record_encode(&a, r->key, again, len, &n) == AP_OK);
    ap_fuzz_require(n == len && memcmp(again, rec, len) == 0);
    free(again);
}

static void ap_fuzz_decode(const uint8_t *rec, size_t len)
{
    ap_queue_record_t r;
    ap_status_t st = ap_queue_record_decode(rec, len, &r);

    ap_fuzz_require(st == AP_OK || st == AP_ERR_STORE_CORRUPT);
    if (st == AP_OK) {
        ap_fuzz_check(&r, rec, len);
        ap_fuzz_round_trip(&r, rec, len);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *sealed;
    uint32_t crc;

    ap_fuzz_decode(data, size);
    if (size < 4) {
        return 0;
    }
    /* An exactly sized copy, so that an over-read shows under ASan. */
    sealed = malloc(size);
    ap_fuzz_require(sealed != NULL);
    memcpy(sealed, data, size);
    crc = ap_crc32(0, sealed, size - 4);
    sealed[size - 4] = (uint8_t)crc;
    sealed[size - 3] = (uint8_t)(crc >> 8);
    sealed[size - 2] = (uint8_t)(crc >> 16);
    sealed[size - 1] = (uint8_t)(crc >> 24);
    ap_fuzz_decode(sealed, size);
    free(sealed);
    return 0;
}
