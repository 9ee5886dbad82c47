/*
 * The extensions of one certificate, read from its DER by alertpost itself.
 *
 * Mbed TLS 2.28 and 3.6 parse subjectAltName, keyUsage and extendedKeyUsage
 * differently (2.28 has no iPAddress SAN) and do not parse nameConstraints at
 * all, so the rules (ap_x509_rules.c) read every extension they judge from
 * here: the same bytes give the same answer on both lines. Pure: no TLS
 * library, no allocation; the spans point into the caller's certificate.
 * Internal to the core; fuzzed by tests/fuzz/fuzz_x509_ext.c.
 */
#ifndef ALERTPOST_AP_X509_EXT_H
#define ALERTPOST_AP_X509_EXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls/ap_der.h"

/* GeneralName kinds (the context tag number, RFC 5280 4.2.1.6). */
enum {
    AP_GN_OTHER = 0,
    AP_GN_EMAIL = 1,
    AP_GN_DNS = 2,
    AP_GN_X400 = 3,
    AP_GN_DIRECTORY = 4,
    AP_GN_EDI = 5,
    AP_GN_URI = 6,
    AP_GN_IP = 7,
    AP_GN_RID = 8
};

/* keyUsage bits, numbered as in RFC 5280 (bit 0 = digitalSignature). */
#define AP_KU_DIGITAL_SIGNATURE (1u << 0)
#define AP_KU_KEY_CERT_SIGN (1u << 5)

/* Why an extension block was refused: a fixed phrase for the refusal text. */
typedef enum ap_x509_ext_error {
    AP_X509_EXT_OK = 0,
    AP_X509_EXT_MALFORMED,          /* the DER is broken */
    AP_X509_EXT_DUPLICATE,          /* an extension appears twice */
    AP_X509_EXT_CRITICAL_UNKNOWN,   /* a critical extension alertpost does not know */
    AP_X509_EXT_BAD_SAN,            /* subjectAltName does not parse */
    AP_X509_EXT_BAD_NAME_CONSTRAINTS,
    AP_X509_EXT_BAD_EKU,
    AP_X509_EXT_BAD_KEY_USAGE,
    AP_X509_EXT_BAD_BASIC_CONSTRAINTS
} ap_x509_ext_error_t;

typedef struct ap_x509_exts {
    ap_der_t san;           /* the GeneralName elements of subjectAltName */
    ap_der_t nc_permitted;  /* GeneralSubtree elements; empty if absent */
    ap_der_t nc_excluded;
    uint32_t ku;            /* AP_KU_* bits */
    int version;            /* 1, 2 or 3 */
    bool has_san;
    bool has_nc;
    bool nc_critical;
    bool has_eku;
    bool eku_server_auth;
    bool eku_any;
    bool has_ku;
    bool has_bc;
    bool ca;
} ap_x509_exts_t;

/* Read the version and extensions of a whole certificate (DER). */
ap_x509_ext_error_t ap_x509_exts_parse(const uint8_t *der, size_t len, ap_x509_exts_t *out);

/* Check one nameConstraints extension value (the DER inside the OCTET STRING):
 * AP_X509_EXT_OK or AP_X509_EXT_BAD_NAME_CONSTRAINTS. Fills *out's nc spans. */
ap_x509_ext_error_t ap_x509_nc_parse(const uint8_t *value, size_t len, ap_x509_exts_t *out);

/* Check one subjectAltName value; fills out->san. */
ap_x509_ext_error_t ap_x509_san_parse(const uint8_t *value, size_t len, ap_x509_exts_t *out);

/* The next GeneralName of a list: its kind (AP_GN_*) and contents. False at
 * the end of the list. The list was checked when it was parsed. */
bool ap_x509_next_name(ap_der_t *list, unsigned *kind, ap_der_t *value);

/* The next GeneralSubtree's base name. False at the end. */
bool ap_x509_next_subtree(ap_der_t *subtrees, unsigned *kind, ap_der_t *value);

/* A phrase for an error ("it has an unknown critical extension"). */
const char *ap_x509_ext_error_str(ap_x509_ext_error_t e);

#endif /* ALERTPOST_AP_X509_EXT_H */
