/*
 * alertpost's certificate rules, on top of Mbed TLS's chain verification.
 *
 * Mbed TLS builds and verifies the path (signatures, dates via the glue's
 * clock, the profile below); these rules then judge that verified path the
 * way the web PKI does, identically on Mbed TLS 2.28 and 3.6:
 *
 *  - names: the host is matched only against subjectAltName (never the
 *    subject CN): a DNS host against dNSName, an address against iPAddress as
 *    bytes; wildcards per ap_x509_names.h;
 *  - nameConstraints (DNS and IP, permitted and excluded) of every CA in the
 *    path, the trust anchor included, critical or not, applied to every
 *    dNSName and iPAddress of the leaf. A constraint on a name type alertpost
 *    does not check (email, URI, directoryName, ...) refuses a leaf that
 *    carries a name of that type, rather than ignoring it;
 *  - the leaf: not a CA (basicConstraints), no keyCertSign, digitalSignature
 *    if keyUsage is present (every allowed suite signs), serverAuth if
 *    extendedKeyUsage is present (anyExtendedKeyUsage alone is refused);
 *  - a leaf WITHOUT extendedKeyUsage is accepted: RFC 5280 reads absence as
 *    "any purpose", private IoT PKIs issue such leaves, and Go and
 *    rustls-webpki accept them too; the CA/Browser Forum's requirement binds
 *    public CAs, whose leaves all carry serverAuth anyway;
 *  - version 1 or 2 certificates only as the trust anchor;
 *  - extensions that do not parse, appear twice or are critical and unknown
 *    refuse the certificate.
 *
 * The handshake's verify callback and the offline checker both call
 * ap_x509_check_path(), so they cannot disagree. Internal to the core: the
 * public checker API wraps it without exposing Mbed TLS types.
 */
#ifndef ALERTPOST_AP_X509_RULES_H
#define ALERTPOST_AP_X509_RULES_H

#include <stddef.h>

#include "alertpost/ap_status.h"
#include "tls/ap_mbedtls_compat.h"
#include "tls/ap_x509_names.h"

/* Longest path judged: leaf, Mbed TLS's maximum of intermediates, anchor. */
#define AP_X509_MAX_PATH (MBEDTLS_X509_MAX_INTERMEDIATE_CA + 2)

/* Room a refusal reason needs (truncated beyond). */
#define AP_X509_REASON_SIZE 384

/*
 * The X.509 profile of both lines: SHA-256, SHA-384 or SHA-512 signatures
 * (no SHA-1, no MD5), RSA of at least 2048 bits, ECDSA on P-256 or P-384.
 */
const mbedtls_x509_crt_profile *ap_x509_profile(void);

/**
 * Judge a verified path by the rules above.
 *
 * @param path     path[0] is the leaf, path[count - 1] the top (the trust
 *                 anchor when the path verified).
 * @param count    1 to AP_X509_MAX_PATH.
 * @param anchors  the trust anchors; the top is treated as an anchor (v1
 *                 allowed) only when it is byte-identical to one of them.
 * @param host     the host of the URL (lower case, IPv6 without brackets).
 * @param psl      the Public Suffix List text, or NULL (built-in rules only).
 * @param why      receives the reason for a refusal, as one clause that names
 *                 the certificate, the cause and what to do.
 * @param why_size capacity of why (AP_X509_REASON_SIZE is enough).
 * @return AP_OK: the path satisfies every rule;
 *         AP_ERR_TLS_CERT: a rule refused it (reason in why);
 *         AP_ERR_BAD_ARG: NULL pointers, count out of range, empty host.
 */
ap_status_t ap_x509_check_path(const mbedtls_x509_crt *const *path, size_t count,
                               const mbedtls_x509_crt *anchors, const char *host,
                               const ap_x509_psl_t *psl, char *why, size_t why_size);

/**
 * Whether a leaf that ap_x509_check_path() accepted for host matched it only
 * by a wildcard: then the public suffix list took part in the verdict.
 * True also when the leaf or host cannot be read (the stricter answer).
 */
bool ap_x509_leaf_by_wildcard(const mbedtls_x509_crt *leaf, const char *host);

/**
 * Load trust anchors from PEM (NUL counted in len, as Mbed TLS wants) or one
 * DER certificate. An anchor whose critical nameConstraints parse is loaded
 * (Mbed TLS alone refuses it; the constraints are then enforced by
 * ap_x509_check_path()); any other critical extension Mbed TLS does not know
 * still refuses that anchor. Both lines use
 * mbedtls_x509_crt_parse_der_with_ext_cb(), which 2.28 and 3.6 both have, so
 * there is no difference between them here.
 *
 * @param chain   initialised list to append to.
 * @param failed  receives how many certificates could not be loaded.
 * @return the number of certificates loaded (0: none), or a negative Mbed TLS
 *         error when the PEM itself is broken.
 */
int ap_x509_load_anchors(mbedtls_x509_crt *chain, const unsigned char *buf, size_t len,
                         int *failed);

/* The extension callback used for anchors (exposed for the fuzz target). */
int ap_x509_anchor_ext_cb(void *ctx, mbedtls_x509_crt const *crt, mbedtls_x509_buf const *oid,
                          int critical, const unsigned char *p, const unsigned char *end);

#endif /* ALERTPOST_AP_X509_RULES_H */
