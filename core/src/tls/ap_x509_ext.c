/*
 * Certificate extensions read from DER (see ap_x509_ext.h).
 *
 * Strict by design: an extension that does not parse, appears twice, or is
 * critical and unknown refuses the certificate, as RFC 5280 requires and as
 * Go's crypto/x509 and rustls-webpki do. Names inside subjectAltName and
 * nameConstraints are checked here once, so the matching code can trust them.
 */
#include "tls/ap_x509_ext.h"

#include <string.h>

/* id-ce arcs (2.5.29.x) that alertpost reads or accepts as critical. */
enum {
    CE_SKI = 14,
    CE_KEY_USAGE = 15,
    CE_SAN = 17,
    CE_BASIC_CONSTRAINTS = 19,
    CE_NAME_CONSTRAINTS = 30,
    CE_POLICIES = 32,
    CE_AKI = 35,
    CE_EKU = 37
};

static const uint8_t k_eku_server_auth[] = {0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01};
static const uint8_t k_eku_any[] = {0x55, 0x1D, 0x25, 0x00};

const char *ap_x509_ext_error_str(ap_x509_ext_error_t e)
{
    switch (e) {
    case AP_X509_EXT_OK: return "no error";
    case AP_X509_EXT_DUPLICATE: return "an extension appears twice";
    case AP_X509_EXT_CRITICAL_UNKNOWN: return "it has an unknown critical extension";
    case AP_X509_EXT_BAD_SAN: return "bad subjectAltName";
    case AP_X509_EXT_BAD_NAME_CONSTRAINTS: return "bad nameConstraints";
    case AP_X509_EXT_BAD_EKU: return "bad extendedKeyUsage";
    case AP_X509_EXT_BAD_KEY_USAGE: return "bad keyUsage";
    case AP_X509_EXT_BAD_BASIC_CONSTRAINTS: return "bad basicConstraints";
    default: return "malformed DER";
    }
}

/* A GeneralName's tag is context-specific, number 0..8. */
static bool name_tag(uint8_t tag, unsigned *kind)
{
    if ((tag & 0xC0u) != AP_DER_CONTEXT || (tag & 0x1Fu) > AP_GN_RID) {
        return false;
    }
    *kind = tag & 0x1Fu;
    return true;
}

static bool dns_chars_ok(const ap_der_t *v)
{
    const uint8_t *p;

    for (p = v->p; p < v->end; p++) {
        if (*p < 0x21 || *p > 0x7E) {
            return false;
        }
    }
    return true;
}

/* A mask is valid only as ones followed by zeros (a CIDR prefix). */
static bool mask_contiguous(const uint8_t *m, size_t n)
{
    bool zeros = false;
    size_t i;
    unsigned bit;

    for (i = 0; i < n; i++) {
        for (bit = 0x80u; bit != 0; bit >>= 1) {
            bool one = (m[i] & bit) != 0;

            if (one && zeros) {
                return false;
            }
            zeros = zeros || !one;
        }
    }
    return true;
}

bool ap_x509_next_name(ap_der_t *list, unsigned *kind, ap_der_t *value)
{
    uint8_t tag;

    return ap_der_next(list, &tag, value) && name_tag(tag, kind);
}

bool ap_x509_next_subtree(ap_der_t *subtrees, unsigned *kind, ap_der_t *value)
{
    ap_der_t sub;

    return ap_der_expect(subtrees, AP_DER_SEQUENCE, &sub) && ap_x509_next_name(&sub, kind, value);
}

ap_x509_ext_error_t ap_x509_san_parse(const uint8_t *value, size_t len, ap_x509_exts_t *out)
{
    ap_der_t d = ap_der_span(value, len);
    ap_der_t names;
    ap_der_t it;
    ap_der_t v;
    unsigned kind;

    if (!ap_der_expect(&d, AP_DER_SEQUENCE, &names) || ap_der_left(&d) != 0 ||
        ap_der_left(&names) == 0) {
        return AP_X509_EXT_BAD_SAN;
    }
    it = names;
    while (ap_der_left(&it) > 0) {
        if (!ap_x509_next_name(&it, &kind, &v)) {
            return AP_X509_EXT_BAD_SAN;
        }
        if (kind == AP_GN_DNS && (ap_der_left(&v) == 0 || !dns_chars_ok(&v))) {
            return AP_X509_EXT_BAD_SAN;
        }
        if (kind == AP_GN_IP && ap_der_left(&v) != 4 && ap_der_left(&v) != 16) {
            return AP_X509_EXT_BAD_SAN;
        }
    }
    out->has_san = true;
    out->san = names;
    return AP_X509_EXT_OK;
}

/* GeneralSubtrees: each a SEQUENCE { base, [0] minimum, [1] maximum }, where
 * RFC 5280 says minimum is 0 and maximum absent; anything else is refused. */
static bool subtrees_ok(ap_der_t list)
{
    ap_der_t sub;
    ap_der_t v;
    unsigned kind;

    if (ap_der_left(&list) == 0) {
        return false;
    }
    while (ap_der_left(&list) > 0) {
        if (!ap_der_expect(&list, AP_DER_SEQUENCE, &sub) || !ap_x509_next_name(&sub, &kind, &v) ||
            ap_der_left(&sub) != 0) {
            return false;
        }
        if (kind == AP_GN_DNS && !dns_chars_ok(&v)) {
            return false;
        }
        if (kind == AP_GN_IP) {
            size_t n = ap_der_left(&v);

            if ((n != 8 && n != 32) || !mask_contiguous(v.p + n / 2, n / 2)) {
                return false;
            }
        }
    }
    return true;
}

ap_x509_ext_error_t ap_x509_nc_parse(const uint8_t *value, size_t len, ap_x509_exts_t *out)
{
    ap_der_t d = ap_der_span(value, len);
    ap_der_t nc;
    ap_der_t permitted = ap_der_span(NULL, 0);
    ap_der_t excluded = ap_der_span(NULL, 0);
    bool any = false;

    if (!ap_der_expect(&d, AP_DER_SEQUENCE, &nc) || ap_der_left(&d) != 0) {
        return AP_X509_EXT_BAD_NAME_CONSTRAINTS;
    }
    if (ap_der_expect(&nc, AP_DER_TAGGED_0, &permitted)) {
        if (!subtrees_ok(permitted)) {
            return AP_X509_EXT_BAD_NAME_CONSTRAINTS;
        }
        any = true;
    }
    if (ap_der_expect(&nc, AP_DER_TAGGED_1, &excluded)) {
        if (!subtrees_ok(excluded)) {
            return AP_X509_EXT_BAD_NAME_CONSTRAINTS;
        }
        any = true;
    }
    if (!any || ap_der_left(&nc) != 0) {
        return AP_X509_EXT_BAD_NAME_CONSTRAINTS; /* RFC 5280: at least one, nothing else */
    }
    out->has_nc = true;
    out->nc_permitted = permitted;
    out->nc_excluded = excluded;
    return AP_X509_EXT_OK;
}

static ap_x509_ext_error_t eku_parse(ap_der_t v, ap_x509_exts_t *out)
{
    ap_der_t list;
    ap_der_t oid;

    if (!ap_der_expect(&v, AP_DER_SEQUENCE, &list) || ap_der_left(&v) != 0 ||
        ap_der_left(&list) == 0) {
        return AP_X509_EXT_BAD_EKU;
    }
    while (ap_der_left(&list) > 0) {
        if (!ap_der_expect(&list, AP_DER_OID, &oid) || ap_der_left(&oid) == 0) {
            return AP_X509_EXT_BAD_EKU;
        }
        out->eku_server_auth = out->eku_server_auth ||
                               ap_der_equals(&oid, k_eku_server_auth, sizeof(k_eku_server_auth));
        out->eku_any = out->eku_any || ap_der_equals(&oid, k_eku_any, sizeof(k_eku_any));
    }
    out->has_eku = true;
    return AP_X509_EXT_OK;
}

/* KeyUsage ::= BIT STRING; bit 0 is the high bit of the first octet. The
 * rules read bits 0 to 7 only (decipherOnly, bit 8, matters to none). */
static ap_x509_ext_error_t ku_parse(ap_der_t v, ap_x509_exts_t *out)
{
    ap_der_t bits;
    size_t n;
    unsigned b;

    if (!ap_der_expect(&v, AP_DER_BIT_STRING, &bits) || ap_der_left(&v) != 0) {
        return AP_X509_EXT_BAD_KEY_USAGE;
    }
    n = ap_der_left(&bits);
    if (n < 1 || n > 3 || bits.p[0] > 7 || (n == 1 && bits.p[0] != 0)) {
        return AP_X509_EXT_BAD_KEY_USAGE;
    }
    out->ku = 0;
    for (b = 0; n > 1 && b < 8; b++) {
        if (bits.p[1] & (0x80u >> b)) {
            out->ku |= 1u << b;
        }
    }
    out->has_ku = true;
    return AP_X509_EXT_OK;
}

/* BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLen INTEGER OPTIONAL } */
static ap_x509_ext_error_t bc_parse(ap_der_t v, ap_x509_exts_t *out)
{
    ap_der_t seq;
    ap_der_t b;
    ap_der_t pathlen;

    if (!ap_der_expect(&v, AP_DER_SEQUENCE, &seq) || ap_der_left(&v) != 0) {
        return AP_X509_EXT_BAD_BASIC_CONSTRAINTS;
    }
    out->ca = false;
    if (ap_der_expect(&seq, AP_DER_BOOLEAN, &b)) {
        if (ap_der_left(&b) != 1 || (b.p[0] != 0 && b.p[0] != 0xFF)) {
            return AP_X509_EXT_BAD_BASIC_CONSTRAINTS;
        }
        out->ca = b.p[0] == 0xFF;
    }
    if (ap_der_expect(&seq, AP_DER_INTEGER, &pathlen) && ap_der_left(&pathlen) == 0) {
        return AP_X509_EXT_BAD_BASIC_CONSTRAINTS;
    }
    if (ap_der_left(&seq) != 0) {
        return AP_X509_EXT_BAD_BASIC_CONSTRAINTS;
    }
    out->has_bc = true;
    return AP_X509_EXT_OK;
}

/* The id-ce arc of an OID 2.5.29.x, or -1 for any other OID. */
static int ce_arc(const ap_der_t *oid)
{
    if (ap_der_left(oid) == 3 && oid->p[0] == 0x55 && oid->p[1] == 0x1D && oid->p[2] < 0x80) {
        return oid->p[2];
    }
    return -1;
}

static ap_x509_ext_error_t one_extension(ap_der_t ext, ap_x509_exts_t *out, uint32_t *seen)
{
    ap_der_t oid;
    ap_der_t crit;
    ap_der_t value;
    bool critical = false;
    int arc;

    if (!ap_der_expect(&ext, AP_DER_OID, &oid)) {
        return AP_X509_EXT_MALFORMED;
    }
    if (ap_der_expect(&ext, AP_DER_BOOLEAN, &crit)) {
        /* DER encodes FALSE by omission, but old roots in system bundles
         * spell it out, and Mbed TLS accepts them: so does this reader. */
        if (ap_der_left(&crit) != 1 || (crit.p[0] != 0xFF && crit.p[0] != 0)) {
            return AP_X509_EXT_MALFORMED;
        }
        critical = crit.p[0] == 0xFF;
    }
    if (!ap_der_expect(&ext, AP_DER_OCTET_STRING, &value) || ap_der_left(&ext) != 0) {
        return AP_X509_EXT_MALFORMED;
    }
    arc = ce_arc(&oid);
    if (arc >= CE_SKI && arc <= CE_EKU) {
        /* Duplicates of the extensions read here (a 32-bit set: no 64-bit
         * shifts on a Cortex-M). Mbed TLS refuses duplicates of the others. */
        uint32_t bit = (uint32_t)1 << (unsigned)(arc - CE_SKI);

        if (*seen & bit) {
            return AP_X509_EXT_DUPLICATE;
        }
        *seen |= bit;
    }
    switch (arc) {
    case CE_SAN:
        return ap_x509_san_parse(value.p, ap_der_left(&value), out);
    case CE_NAME_CONSTRAINTS:
        out->nc_critical = critical;
        return ap_x509_nc_parse(value.p, ap_der_left(&value), out);
    case CE_EKU:
        return eku_parse(value, out);
    case CE_KEY_USAGE:
        return ku_parse(value, out);
    case CE_BASIC_CONSTRAINTS:
        return bc_parse(value, out);
    case CE_SKI:
    case CE_AKI:
    case CE_POLICIES:
        return AP_X509_EXT_OK; /* Mbed TLS judges these; known, so may be critical */
    default:
        return critical ? AP_X509_EXT_CRITICAL_UNKNOWN : AP_X509_EXT_OK;
    }
}

/* Skip TBSCertificate's fields up to its extensions; version into out. */
static bool tbs_to_extensions(ap_der_t *tbs, ap_x509_exts_t *out, ap_der_t *exts)
{
    ap_der_t v;
    ap_der_t ver;
    uint8_t tag;
    int i;

    out->version = 1;
    if (ap_der_expect(tbs, AP_DER_TAGGED_0, &v)) {
        if (!ap_der_expect(&v, AP_DER_INTEGER, &ver) || ap_der_left(&ver) != 1 ||
            ver.p[0] > 2 || ap_der_left(&v) != 0) {
            return false;
        }
        out->version = ver.p[0] + 1;
    }
    /* serial, signature, issuer, validity, subject, subjectPublicKeyInfo */
    for (i = 0; i < 6; i++) {
        if (!ap_der_next(tbs, &tag, &v)) {
            return false;
        }
    }
    (void)ap_der_expect(tbs, AP_DER_CONTEXT | 1, &v); /* issuerUniqueID */
    (void)ap_der_expect(tbs, AP_DER_CONTEXT | 2, &v); /* subjectUniqueID */
    *exts = ap_der_span(NULL, 0);
    if (ap_der_expect(tbs, AP_DER_TAGGED_3, &v)) {
        if (!ap_der_expect(&v, AP_DER_SEQUENCE, exts) || ap_der_left(&v) != 0 ||
            ap_der_left(exts) == 0) {
            return false;
        }
    }
    return ap_der_left(tbs) == 0;
}

ap_x509_ext_error_t ap_x509_exts_parse(const uint8_t *der, size_t len, ap_x509_exts_t *out)
{
    ap_der_t d = ap_der_span(der, len);
    ap_der_t cert;
    ap_der_t tbs;
    ap_der_t exts;
    ap_der_t ext;
    uint32_t seen = 0;

    if (out == NULL) {
        return AP_X509_EXT_MALFORMED;
    }
    memset(out, 0, sizeof(*out));
    if (der == NULL || !ap_der_expect(&d, AP_DER_SEQUENCE, &cert) ||
        !ap_der_expect(&cert, AP_DER_SEQUENCE, &tbs) || !tbs_to_extensions(&tbs, out, &exts)) {
        return AP_X509_EXT_MALFORMED;
    }
    if (out->version < 3 && ap_der_left(&exts) != 0) {
        return AP_X509_EXT_MALFORMED; /* extensions exist only in v3 */
    }
    while (ap_der_left(&exts) > 0) {
        if (!ap_der_expect(&exts, AP_DER_SEQUENCE, &ext)) {
            return AP_X509_EXT_MALFORMED;
        }
        ap_x509_ext_error_t e = one_extension(ext, out, &seen);

        if (e != AP_X509_EXT_OK) {
            return e;
        }
    }
    return AP_X509_EXT_OK;
}
