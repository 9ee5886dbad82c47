/*
 * A bounded DER reader: just enough of X.690 to walk a certificate's
 * extensions, which Mbed TLS 2.28 and 3.6 expose differently or not at all.
 *
 * Every read is checked against the end of its enclosing value; nothing is
 * copied and nothing is allocated. Only single-byte tags and definite lengths
 * of up to four bytes are accepted: certificates need no more, and a reader
 * that accepts less has less to get wrong. Internal to the core.
 */
#ifndef ALERTPOST_AP_DER_H
#define ALERTPOST_AP_DER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A span of DER: [p, end). An empty span has p == end. */
typedef struct ap_der {
    const uint8_t *p;
    const uint8_t *end;
} ap_der_t;

/* DER tags alertpost reads. */
enum {
    AP_DER_BOOLEAN = 0x01,
    AP_DER_INTEGER = 0x02,
    AP_DER_BIT_STRING = 0x03,
    AP_DER_OCTET_STRING = 0x04,
    AP_DER_OID = 0x06,
    AP_DER_SEQUENCE = 0x30,
    AP_DER_CONTEXT = 0x80,     /* class bits of a context-specific tag */
    AP_DER_CONSTRUCTED = 0x20,
    AP_DER_TAGGED_0 = 0xA0,    /* [0] constructed: version, permittedSubtrees */
    AP_DER_TAGGED_1 = 0xA1,    /* [1] constructed: excludedSubtrees */
    AP_DER_TAGGED_3 = 0xA3     /* [3] constructed: extensions */
};

/* A span over len bytes at p. */
ap_der_t ap_der_span(const uint8_t *p, size_t len);

/* Bytes left in the span. */
size_t ap_der_left(const ap_der_t *d);

/* Read the next element of *d: its tag into *tag and its contents into *value;
 * *d moves past it. False (nothing moved) on a malformed or truncated element. */
bool ap_der_next(ap_der_t *d, uint8_t *tag, ap_der_t *value);

/* The next element, which must have tag `want`. False otherwise, and then
 * neither *d nor *value changes. */
bool ap_der_expect(ap_der_t *d, uint8_t want, ap_der_t *value);

/* True when the span holds exactly the bytes oid[0..oid_len). */
bool ap_der_equals(const ap_der_t *d, const uint8_t *bytes, size_t len);

#endif /* ALERTPOST_AP_DER_H */
