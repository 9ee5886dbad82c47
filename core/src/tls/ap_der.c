/*
 * Bounded DER reader (see ap_der.h). Lengths are checked against what is left
 * before any pointer moves, so a hostile length can never step out of the
 * enclosing buffer, whatever size_t is on the target.
 */
#include "tls/ap_der.h"

#include <string.h>

ap_der_t ap_der_span(const uint8_t *p, size_t len)
{
    ap_der_t d;

    d.p = p;
    d.end = (p != NULL) ? p + len : NULL;
    return d;
}

size_t ap_der_left(const ap_der_t *d)
{
    return (d->p != NULL && d->end > d->p) ? (size_t)(d->end - d->p) : 0;
}

/* The length octets at d->p (after the tag): short form, or long form with
 * 1 to 4 octets, minimal as DER requires. */
static bool read_length(const uint8_t **pp, const uint8_t *end, size_t *len)
{
    const uint8_t *p = *pp;
    size_t n;
    size_t v = 0;
    size_t i;

    if (p >= end) {
        return false;
    }
    if ((*p & 0x80u) == 0) {
        *len = *p;
        *pp = p + 1;
        return true;
    }
    n = *p & 0x7Fu;
    p++;
    if (n == 0 || n > 4 || (size_t)(end - p) < n || p[0] == 0) {
        return false; /* indefinite, too long, truncated or not minimal */
    }
    for (i = 0; i < n; i++) {
        v = (v << 8) | p[i];
    }
    if (v < 0x80u) {
        return false; /* long form for a short length: not DER */
    }
    *len = v;
    *pp = p + n;
    return true;
}

bool ap_der_next(ap_der_t *d, uint8_t *tag, ap_der_t *value)
{
    const uint8_t *p = d->p;
    size_t len;

    if (ap_der_left(d) < 2) {
        return false;
    }
    if ((p[0] & 0x1Fu) == 0x1Fu) {
        return false; /* multi-byte tag: nothing in a certificate uses one */
    }
    *tag = p[0];
    p++;
    if (!read_length(&p, d->end, &len) || (size_t)(d->end - p) < len) {
        return false;
    }
    value->p = p;
    value->end = p + len;
    d->p = p + len;
    return true;
}

bool ap_der_expect(ap_der_t *d, uint8_t want, ap_der_t *value)
{
    ap_der_t rest = *d;
    ap_der_t v;
    uint8_t tag;

    /* Nothing moves, and *value is untouched, unless the tag is the one wanted. */
    if (!ap_der_next(&rest, &tag, &v) || tag != want) {
        return false;
    }
    *d = rest;
    *value = v;
    return true;
}

bool ap_der_equals(const ap_der_t *d, const uint8_t *bytes, size_t len)
{
    return ap_der_left(d) == len && (len == 0 || memcmp(d->p, bytes, len) == 0);
}
