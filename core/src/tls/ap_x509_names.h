/*
 * Host names, addresses and name constraints, judged as the web PKI does
 * (RFC 6125 and RFC 5280, as Go's crypto/x509 and rustls-webpki read them).
 * Pure: works on DER spans from ap_x509_ext.h; no TLS library, no allocation.
 *
 * Public suffixes: a wildcard whose rest is a public suffix (*.com, *.co.uk)
 * would cover names of unrelated owners, so it never matches. What counts as
 * a public suffix:
 *  - any single label (every TLD): always, on every build;
 *  - a compiled-in list of the second-level suffixes most registries use
 *    (co.uk, com.au, ...): always, so firmware without a file system is safe
 *    against the common cases;
 *  - when the caller supplies one, the text of the Public Suffix List
 *    (Debian's publicsuffix package, /usr/share/publicsuffix/
 *    public_suffix_list.dat), rules, wildcard rules and exceptions included.
 * Internal to the core.
 */
#ifndef ALERTPOST_AP_X509_NAMES_H
#define ALERTPOST_AP_X509_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls/ap_der.h"
#include "tls/ap_x509_ext.h"

/* A host as the certificate must match it: an address or a DNS name. */
typedef struct ap_x509_host {
    bool is_ip;
    uint8_t ip[16];
    size_t ip_len;      /* 4 or 16 when is_ip */
    const char *dns;    /* the caller's string, without a trailing dot */
    size_t dns_len;
} ap_x509_host_t;

/* The Public Suffix List as text (the caller keeps it); NULL for none. */
typedef struct ap_x509_psl {
    const char *text;
    size_t len;
} ap_x509_psl_t;

/* How a certificate's names relate to the host. */
typedef enum ap_x509_match {
    AP_X509_MATCH = 0,
    AP_X509_NO_MATCH,
    AP_X509_MATCH_WILDCARD_PUBLIC_SUFFIX, /* only a *.<public suffix> would match */
    AP_X509_MATCH_DNS_FOR_IP              /* the address appears only as a dNSName */
} ap_x509_match_t;

/* Outcome of one CA's nameConstraints for the leaf's names. */
typedef enum ap_x509_nc_result {
    AP_X509_NC_OK = 0,
    AP_X509_NC_NOT_PERMITTED,
    AP_X509_NC_EXCLUDED,
    AP_X509_NC_UNCHECKABLE  /* constrains a name type the leaf uses that alertpost does not check */
} ap_x509_nc_result_t;

/* Parse "192.0.2.1", "2001:db8::1" or a DNS name. False for an empty or
 * over-long host. The host string must outlive *out. */
bool ap_x509_host_parse(const char *host, ap_x509_host_t *out);

/* True when name[0..len) is a public suffix (see the file comment). */
bool ap_x509_is_public_suffix(const char *name, size_t len, const ap_x509_psl_t *psl);

/* Match the host against a subjectAltName list (checked by ap_x509_san_parse). */
ap_x509_match_t ap_x509_match_host(const ap_der_t *san, const ap_x509_host_t *host,
                                   const ap_x509_psl_t *psl);

/* True when the host matches the SAN list only through a wildcard, so that
 * whether it matches at all depends on the public suffixes (a saved
 * session's binding, ap_tls_session_store.c). False for an address, a host
 * listed by name, or no match. */
bool ap_x509_match_by_wildcard(const ap_der_t *san, const ap_x509_host_t *host);

/* Judge every dNSName and iPAddress in the leaf's SAN list against one CA's
 * constraints. *offending gets the name that failed (empty when none). */
ap_x509_nc_result_t ap_x509_nc_check(const ap_x509_exts_t *ca, const ap_der_t *leaf_san,
                                     unsigned *offending_kind, ap_der_t *offending);

#endif /* ALERTPOST_AP_X509_NAMES_H */
