/*
 * The record codec: one alert as the bytes a store keeps.
 *
 *   u8  version (AP_QUEUE_RECORD_VERSION)
 *   u8  extra header count
 *   u8  key length, key, NUL
 *   u8  content type length (0: the default), content type, NUL
 *   per header: u8 name length, name, NUL, u16 value length, value, NUL
 *   u32 body length, body
 *   u32 CRC-32 of every byte before it
 *
 * Integers are little-endian. Strings keep their NUL so that a decoded record
 * is used in place, with no copy and no allocation; the decoder checks that
 * each NUL is where its length says and that no other byte is NUL. A store
 * may have been torn by a power cut or edited by hand, so the decoder trusts
 * nothing: it walks the lengths against the bytes present, then the CRC,
 * then the field rules the encoder applied.
 */
#include "alertpost/ap_queue.h"

#include <string.h>

#include "ap_queue_internal.h"
#include "http/ap_http_chars.h"

/* Fixed bytes: version, count, key and content type lengths and NULs, body
 * length, CRC. */
#define AP_REC_FIXED (1u + 1u + 2u + 2u + 4u + 4u)
/* Per header: name length and NUL, value length and NUL. */
#define AP_REC_PER_HEADER (2u + 3u)

static bool ap_rec_header_ok(const ap_header_t *h)
{
    return h->name != NULL && h->value != NULL && ap_http_is_token(h->name) &&
           !ap_queue_is_owned_name(h->name) && ap_http_is_field_value(h->value);
}

static ap_status_t ap_rec_check_alert(const ap_request_t *alert, size_t *len)
{
    size_t total = AP_REC_FIXED + (AP_QUEUE_KEY_SIZE - 1u);
    size_t i;

    if (alert == NULL || len == NULL || (alert->body == NULL && alert->body_len > 0) ||
        (alert->headers == NULL && alert->header_count > 0) ||
        alert->header_count > AP_QUEUE_MAX_HEADERS) {
        return AP_ERR_BAD_ARG;
    }
    if (alert->content_type != NULL) {
        size_t n = strlen(alert->content_type);
        if (n > AP_QUEUE_MAX_SHORT_LEN) {
            return AP_ERR_TOO_LARGE;
        }
        if (!ap_http_is_field_value(alert->content_type)) {
            return AP_ERR_BAD_ARG;
        }
        total += n;
    }
    for (i = 0; i < alert->header_count; i++) {
        const ap_header_t *h = &alert->headers[i];
        if (!ap_rec_header_ok(h)) {
            return AP_ERR_BAD_ARG;
        }
        if (strlen(h->name) > AP_QUEUE_MAX_SHORT_LEN || strlen(h->value) > AP_QUEUE_MAX_VALUE_LEN) {
            return AP_ERR_TOO_LARGE;
        }
        total += AP_REC_PER_HEADER + strlen(h->name) + strlen(h->value);
    }
    if (alert->body_len > AP_QUEUE_MAX_BODY_LEN || alert->body_len > SIZE_MAX - total) {
        return AP_ERR_TOO_LARGE;
    }
    *len = total + alert->body_len;
    return AP_OK;
}

ap_status_t ap_queue_record_size(const ap_request_t *alert, size_t *len)
{
    return ap_rec_check_alert(alert, len);
}

/* A writer that cannot overrun: ap_rec_check_alert() sized the record, and
 * the caller checked it against the buffer. */
typedef struct ap_rec_writer {
    uint8_t *p;
} ap_rec_writer_t;

static void ap_rec_put(ap_rec_writer_t *w, const void *src, size_t n)
{
    if (n > 0) {
        memcpy(w->p, src, n);
        w->p += n;
    }
}

static void ap_rec_put_le(ap_rec_writer_t *w, uint32_t v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        *w->p++ = (uint8_t)(v >> (8u * i));
    }
}

/* A string with its length in width bytes before it and its NUL after. */
static void ap_rec_put_str(ap_rec_writer_t *w, const char *s, size_t width)
{
    size_t n = s != NULL ? strlen(s) : 0;

    ap_rec_put_le(w, (uint32_t)n, width);
    ap_rec_put(w, s, n);
    *w->p++ = 0;
}

ap_status_t ap_queue_record_encode(const ap_request_t *alert, const char *key, uint8_t *buf,
                                   size_t buf_size, size_t *out_len)
{
    ap_rec_writer_t w;
    size_t len = 0;
    size_t i;
    ap_status_t st;

    if (key == NULL || buf == NULL || out_len == NULL || !ap_queue_is_key(key)) {
        return AP_ERR_BAD_ARG;
    }
    st = ap_rec_check_alert(alert, &len);
    if (st != AP_OK) {
        return st;
    }
    /* The size assumed a key of full length; a shorter one uses less. */
    len -= (AP_QUEUE_KEY_SIZE - 1u) - strlen(key);
    if (len > buf_size) {
        return AP_ERR_NO_SPACE;
    }
    w.p = buf;
    *w.p++ = AP_QUEUE_RECORD_VERSION;
    *w.p++ = (uint8_t)alert->header_count;
    ap_rec_put_str(&w, key, 1);
    ap_rec_put_str(&w, alert->content_type, 1);
    for (i = 0; i < alert->header_count; i++) {
        ap_rec_put_str(&w, alert->headers[i].name, 1);
        ap_rec_put_str(&w, alert->headers[i].value, 2);
    }
    ap_rec_put_le(&w, (uint32_t)alert->body_len, 4);
    ap_rec_put(&w, alert->body, alert->body_len);
    ap_rec_put_le(&w, ap_crc32(0, buf, (size_t)(w.p - buf)), 4);
    *out_len = (size_t)(w.p - buf);
    return AP_OK;
}

/* ---- decoding ------------------------------------------------------------ */

typedef struct ap_rec_reader {
    const uint8_t *p;
    size_t left;
} ap_rec_reader_t;

static bool ap_rec_get_le(ap_rec_reader_t *r, size_t n, uint32_t *v)
{
    size_t i;

    if (r->left < n) {
        return false;
    }
    *v = 0;
    for (i = 0; i < n; i++) {
        *v |= (uint32_t)r->p[i] << (8u * i);
    }
    r->p += n;
    r->left -= n;
    return true;
}

/* A length-prefixed string whose NUL must be exactly at its end, so that the
 * string functions below see exactly the bytes its length declares. */
static bool ap_rec_get_str(ap_rec_reader_t *r, size_t width, const char **s, size_t *n)
{
    uint32_t len;

    if (!ap_rec_get_le(r, width, &len) || r->left < (size_t)len + 1u || r->p[len] != 0 ||
        memchr(r->p, 0, len) != NULL) {
        return false;
    }
    *s = (const char *)r->p;
    *n = len;
    r->p += (size_t)len + 1u;
    r->left -= (size_t)len + 1u;
    return true;
}

static bool ap_rec_get_headers(ap_rec_reader_t *r, ap_queue_record_t *out)
{
    size_t i;

    for (i = 0; i < out->header_count; i++) {
        const char *name;
        const char *value;
        size_t name_len;
        size_t value_len;

        if (!ap_rec_get_str(r, 1, &name, &name_len) || !ap_http_is_token(name) ||
            ap_queue_is_owned_name(name) || !ap_rec_get_str(r, 2, &value, &value_len) ||
            value_len > AP_QUEUE_MAX_VALUE_LEN || !ap_http_is_field_value(value)) {
            return false;
        }
        out->headers[i].name = name;
        out->headers[i].value = value;
    }
    return true;
}

static bool ap_rec_get_all(ap_rec_reader_t *r, ap_queue_record_t *out)
{
    const char *s;
    size_t n;
    uint32_t v;

    if (!ap_rec_get_le(r, 1, &v) || v != AP_QUEUE_RECORD_VERSION) {
        return false;
    }
    if (!ap_rec_get_le(r, 1, &v) || v > AP_QUEUE_MAX_HEADERS) {
        return false;
    }
    out->header_count = v;
    if (!ap_rec_get_str(r, 1, &s, &n) || !ap_queue_is_key(s)) {
        return false;
    }
    out->key = s;
    if (!ap_rec_get_str(r, 1, &s, &n) || !ap_http_is_field_value(s)) {
        return false;
    }
    out->content_type = n > 0 ? s : NULL;
    if (!ap_rec_get_headers(r, out) || !ap_rec_get_le(r, 4, &v) || r->left < v) {
        return false;
    }
    out->body_len = v;
    out->body = v > 0 ? r->p : NULL;
    r->p += v;
    r->left -= v;
    return true;
}

ap_status_t ap_queue_record_decode(const uint8_t *rec, size_t len, ap_queue_record_t *out)
{
    ap_rec_reader_t r;
    uint32_t crc;

    if (rec == NULL || out == NULL) {
        return AP_ERR_BAD_ARG;
    }
    /* The CRC first: a record torn or flipped anywhere fails here, before
     * any field of it is believed. */
    if (len < AP_REC_FIXED) {
        return AP_ERR_STORE_CORRUPT;
    }
    r.p = rec + len - 4u;
    r.left = 4;
    (void)ap_rec_get_le(&r, 4, &crc);
    if (crc != ap_crc32(0, rec, len - 4u)) {
        return AP_ERR_STORE_CORRUPT;
    }
    r.p = rec;
    r.left = len - 4u;
    memset(out, 0, sizeof(*out));
    /* Lengths that point past the CRC, or bytes left over after the body,
     * are refused even when the CRC matches (a record forged or written by
     * a different build). */
    if (!ap_rec_get_all(&r, out) || r.left != 0) {
        return AP_ERR_STORE_CORRUPT;
    }
    return AP_OK;
}
