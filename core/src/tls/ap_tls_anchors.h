/*
 * The trust store: cfg.ca_pem as Mbed TLS verifies against it.
 *
 * A system bundle holds about 150 roots, of which one verifies a given
 * server; parsing them all at ap_client_init() costs more than the rest of
 * a post. So where Mbed TLS has the trusted-CA callback
 * (MBEDTLS_X509_TRUSTED_CERTIFICATE_CALLBACK, 2.28 and 3.6), the store is
 * read lazily:
 *
 *  - at init, every certificate's framing is checked (ap_anchor_scan.h:
 *    base64, the Certificate and TBSCertificate down to the subject, the
 *    signature after it, nothing left over); one that fails refuses the
 *    whole store, naming its place. Nothing is parsed, copied or kept but
 *    the caller's pointer;
 *  - when Mbed TLS looks for the issuer of a certificate, the anchors whose
 *    subject equals that issuer (Mbed TLS's own name rules) are parsed, in
 *    store order, and handed over; Mbed TLS frees them when that
 *    verification ends. A DER store is parsed in place (the caller keeps it
 *    until ap_client_free(), as the config requires), a PEM anchor is
 *    decoded into a buffer from Mbed TLS's allocator for the parse and freed
 *    right after. An anchor that then does not parse (an unknown critical
 *    extension, say) is skipped, as the eager loader always skipped it.
 *
 * Mbed TLS finds the parent among those candidates exactly as it would
 * among all anchors, with one difference the store mends: with a callback,
 * Mbed TLS no longer accepts a self-signed server certificate that is
 * itself one of the anchors (its "locally trusted end entity"); the verify
 * callback calls ap_tls_anchors_leaf_check() to give the same verdict.
 *
 * Without the callback in the Mbed TLS build, every anchor is parsed at
 * init, as before (the framing check runs first all the same).
 */
#ifndef ALERTPOST_AP_TLS_ANCHORS_H
#define ALERTPOST_AP_TLS_ANCHORS_H

#include <stddef.h>
#include <stdint.h>

#include "alertpost/ap_status.h"
#include "tls/ap_mbedtls_compat.h"

#if defined(MBEDTLS_X509_TRUSTED_CERTIFICATE_CALLBACK)
#define AP_TLS_ANCHORS_LAZY 1
#else
#define AP_TLS_ANCHORS_LAZY 0
#endif

typedef struct ap_tls_anchors {
    const uint8_t *src;   /* the caller's store, never copied */
    size_t src_len;
    size_t count;         /* certificates in it */
#if AP_TLS_ANCHORS_LAZY
    /* The candidates the callback last handed to Mbed TLS: valid only
     * during the verification that asked for them (its verify callback
     * included), which frees them. */
    const mbedtls_x509_crt *seen;
    /* An anchor with the name looked for that Mbed TLS did not parse, in
     * the current verification: its place (1-based; 0: none) and why. */
    size_t unusable;
    int unusable_ret;
#else
    mbedtls_x509_crt chain; /* every anchor, parsed at init */
#endif
} ap_tls_anchors_t;

void ap_tls_anchors_init(ap_tls_anchors_t *a);

/**
 * Take the store (PEM with its NUL counted in len, or DER certificates back
 * to back) and check it as described above.
 * @return AP_OK;
 *         AP_ERR_TLS_SETUP: no certificate in it, a certificate whose
 *           framing is broken, or (eager build) none that parses; the
 *           reason, one clause, in why.
 */
ap_status_t ap_tls_anchors_load(ap_tls_anchors_t *a, const uint8_t *buf, size_t len, char *why,
                                size_t why_size);

/* Give the store to a TLS configuration (the callback, or the chain). */
void ap_tls_anchors_conf(ap_tls_anchors_t *a, mbedtls_ssl_config *conf);

/* mbedtls_x509_crt_verify_with_profile() of crt against the store, as the
 * handshake verifies: for the offline checker. */
int ap_tls_anchors_verify(ap_tls_anchors_t *a, mbedtls_x509_crt *crt,
                          const mbedtls_x509_crt_profile *profile, const char *host,
                          uint32_t *flags,
                          int (*f_vrfy)(void *, mbedtls_x509_crt *, int, uint32_t *),
                          void *p_vrfy);

/* The anchors the current verification has seen (the whole chain in an
 * eager build): what the X.509 rules compare the top of the path with. */
const mbedtls_x509_crt *ap_tls_anchors_seen(const ap_tls_anchors_t *a);

/* From the verify callback, for the server's certificate when the path is
 * that certificate alone: when it is self-issued and byte for byte one of
 * the anchors, clear the "not trusted" flag, as Mbed TLS does without a
 * callback. */
void ap_tls_anchors_leaf_check(const ap_tls_anchors_t *a, const mbedtls_x509_crt *leaf,
                               uint32_t *flags);

/* Before each verification: forget what the last one saw. */
void ap_tls_anchors_reset(ap_tls_anchors_t *a);

/* After a verification that found no trusted root: the place (1-based) of
 * an anchor that had the issuer's name but did not parse, its Mbed TLS
 * error in *ret; 0 when there was none (always 0 in an eager build, where
 * such an anchor was skipped at init). */
size_t ap_tls_anchors_unusable(const ap_tls_anchors_t *a, int *ret);

void ap_tls_anchors_free(ap_tls_anchors_t *a);

#endif /* ALERTPOST_AP_TLS_ANCHORS_H */
