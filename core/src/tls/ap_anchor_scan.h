/*
 * Reading a trust store without parsing it: where each certificate is, its
 * framing, and where its subject Name is, in PEM text or in a concatenation
 * of DER certificates. Pure: no TLS library, no allocation, nothing copied
 * except the base64 a caller asks to decode. ap_tls_anchors.c builds the
 * lazily parsed trust store on it. Internal to the core.
 *
 * The lengths are read as leniently as Mbed TLS reads them (long forms of
 * one to four octets, minimal or not), so nothing that Mbed TLS would parse
 * is called malformed here: "malformed" means no certificate parser could
 * make a certificate of it.
 */
#ifndef ALERTPOST_AP_ANCHOR_SCAN_H
#define ALERTPOST_AP_ANCHOR_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where one certificate of the store is. */
typedef struct ap_anchor_ref {
    const uint8_t *der;   /* a DER store: the certificate, der_len bytes */
    size_t der_len;
    const char *b64;      /* a PEM store: its base64 text, [b64, b64_end) */
    const char *b64_end;
} ap_anchor_ref_t;

/* A walk over a store, one certificate after the other. */
typedef struct ap_anchor_iter {
    const uint8_t *buf;
    size_t len;
    size_t pos;
    bool pem;
} ap_anchor_iter_t;

typedef enum ap_anchor_next {
    AP_ANCHOR_NEXT_OK = 0,
    AP_ANCHOR_NEXT_END,  /* no certificate left */
    AP_ANCHOR_NEXT_BAD   /* a BEGIN without its END, or DER that frames no certificate */
} ap_anchor_next_t;

/* What a certificate's framing says, as offsets into its DER. */
typedef struct ap_anchor_shape {
    size_t cert_len;     /* the whole Certificate, header included */
    size_t tbs_end;      /* where signatureAlgorithm starts */
    size_t subject_off;  /* the subject Name, header included */
    size_t subject_len;
} ap_anchor_shape_t;

typedef enum ap_anchor_shape_result {
    AP_ANCHOR_SHAPE_OK = 0,
    AP_ANCHOR_SHAPE_SHORT,  /* the subject ends past the bytes given: give more */
    AP_ANCHOR_SHAPE_BAD
} ap_anchor_shape_result_t;

/* A store is PEM when its last byte is the NUL and it holds a
 * "-----BEGIN CERTIFICATE-----" line (as Mbed TLS decides); otherwise it is
 * DER: one certificate, or several back to back, optionally followed by NUL
 * bytes only. */
void ap_anchor_iter_init(ap_anchor_iter_t *it, const uint8_t *buf, size_t len);

/* The next certificate. In a PEM store, text outside BEGIN/END CERTIFICATE
 * blocks is skipped, as Mbed TLS skips it. */
ap_anchor_next_t ap_anchor_next(ap_anchor_iter_t *it, ap_anchor_ref_t *ref);

/* Decode base64 from *p (up to end), whole 4-character groups, whitespace
 * skipped, into out (at most size bytes; a group that would not fit is left
 * for the next call). *p moves past what was decoded. Returns the bytes
 * written; *bad is set on a character outside the alphabet, misplaced
 * padding, or a group cut short by the end. Not constant-time, on purpose:
 * trust anchors are public data, and this decoder is several times cheaper
 * than Mbed TLS's, which is constant-time for keys. */
size_t ap_anchor_b64_decode(const char **p, const char *end, uint8_t *out, size_t size,
                            bool *bad);

/* Does the base64 text [b64, end) hold exactly the digits of der_len bytes,
 * padding included? Counted, not decoded; line breaks (LF or CRLF) are the
 * only whitespace it expects: false says "not shown", and a full decode
 * must then decide. */
bool ap_anchor_b64_length_is(const char *b64, const char *end, size_t der_len);

/* The framing of the Certificate whose first `have` bytes are at der, down
 * to the end of its subject: Certificate and TBSCertificate SEQUENCEs, the
 * optional [0] version, serialNumber, signature, issuer, validity and
 * subject, each inside its parent. */
ap_anchor_shape_result_t ap_anchor_shape(const uint8_t *der, size_t have, ap_anchor_shape_t *s);

/* The rest of the framing: at tail (the bytes at s->tbs_end, `have` of them,
 * at least the two headers), a signatureAlgorithm SEQUENCE and a signature
 * BIT STRING that end exactly at s->cert_len. */
bool ap_anchor_tail_ok(const uint8_t *tail, size_t have, const ap_anchor_shape_t *s);

/* Are two X.509 Names (DER, header included) equal by the rules Mbed TLS's
 * chain builder uses to match an issuer to a subject: the same RDNs in the
 * same order and sets, the same attribute types, and values of the same
 * type and bytes, except that UTF8String and PrintableString values also
 * match each other ignoring ASCII case. 1: equal; 0: not; -1: one of them
 * does not parse (a caller that must not miss a match treats it as 1). */
int ap_anchor_name_equal(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len);

#endif /* ALERTPOST_AP_ANCHOR_SCAN_H */
