/*
 * The certificate rules (see ap_x509_rules.h): one function that the
 * handshake and the offline checker share. Every fact is read from the
 * certificates' own DER (ap_x509_ext.c), never from fields that Mbed TLS 2.28
 * and 3.6 fill differently; Mbed TLS contributes the path and the subject
 * names used in the reasons.
 */
#include "tls/ap_x509_rules.h"

#include "alertpost/ap_config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mbedtls/oid.h"
#include "mbedtls/pem.h"

/* A function, not an exported object: no data symbol crosses the API. */
const mbedtls_x509_crt_profile *ap_x509_profile(void)
{
    static const mbedtls_x509_crt_profile profile = {
        MBEDTLS_X509_ID_FLAG(MBEDTLS_MD_SHA256) | MBEDTLS_X509_ID_FLAG(MBEDTLS_MD_SHA384) |
            MBEDTLS_X509_ID_FLAG(MBEDTLS_MD_SHA512),
        MBEDTLS_X509_ID_FLAG(MBEDTLS_PK_RSA) | MBEDTLS_X509_ID_FLAG(MBEDTLS_PK_ECKEY) |
            MBEDTLS_X509_ID_FLAG(MBEDTLS_PK_ECDSA) | MBEDTLS_X509_ID_FLAG(MBEDTLS_PK_RSASSA_PSS),
        MBEDTLS_X509_ID_FLAG(MBEDTLS_ECP_DP_SECP256R1) |
            MBEDTLS_X509_ID_FLAG(MBEDTLS_ECP_DP_SECP384R1),
        2048,
    };

    return &profile;
}

/* Which certificate a reason is about, by its place in the path. Subject
 * names are left out: printing them costs firmware flash, and the place is
 * enough to find the certificate in the server's chain. */
static void describe(size_t index, char *buf, size_t size)
{
    if (index == 0) {
        (void)snprintf(buf, size, "the server's certificate");
    } else {
        (void)snprintf(buf, size, "CA certificate %u of the path", (unsigned)index);
    }
}

static bool is_anchor(const mbedtls_x509_crt *crt, const mbedtls_x509_crt *anchors)
{
    const mbedtls_x509_crt *a;

    for (a = anchors; a != NULL && a->raw.p != NULL; a = a->next) {
        if (a->raw.len == crt->raw.len && memcmp(a->raw.p, crt->raw.p, a->raw.len) == 0) {
            return true;
        }
    }
    return false;
}

/* why = "<who> <cause>", with the cause formatted from fmt. */
static ap_status_t refuse(char *why, size_t size, const char *who, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static ap_status_t refuse(char *why, size_t size, const char *who, const char *fmt, ...)
{
    char cause[AP_X509_REASON_SIZE];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(cause, sizeof(cause), fmt, ap);
    va_end(ap);
    (void)snprintf(why, size, "%s %s", who, cause);
    return AP_ERR_TLS_CERT;
}

static ap_status_t check_leaf(const ap_x509_exts_t *e, char *why, size_t size, const char *who)
{
    if (e->has_bc && e->ca) {
        return refuse(why, size, who, "is a CA (basicConstraints CA:TRUE)");
    }
    if (e->has_ku && (e->ku & AP_KU_KEY_CERT_SIGN) != 0) {
        return refuse(why, size, who, "has keyUsage keyCertSign, for CAs only");
    }
    if (e->has_ku && (e->ku & AP_KU_DIGITAL_SIGNATURE) == 0) {
        return refuse(why, size, who, "has a keyUsage without digitalSignature");
    }
    if (e->has_eku && !e->eku_server_auth) {
        return refuse(why, size, who, "has an extendedKeyUsage without serverAuth%s",
                      e->eku_any ? " (anyExtendedKeyUsage alone)" : "");
    }
    if (!e->has_san) {
        return refuse(why, size, who, "has no subjectAltName (no common-name fallback)");
    }
    return AP_OK;
}

static ap_status_t check_names(const ap_x509_exts_t *e, const ap_x509_host_t *h,
                               const ap_x509_psl_t *psl, char *why, size_t size, const char *who)
{
    char host[AP_MAX_HOST_LEN + 1]; /* the URL's host, already checked: quoted whole */

    (void)snprintf(host, sizeof(host), "%.*s",
                   (int)(h->dns_len < AP_MAX_HOST_LEN ? h->dns_len : AP_MAX_HOST_LEN), h->dns);
    switch (ap_x509_match_host(&e->san, h, psl)) {
    case AP_X509_MATCH:
        return AP_OK;
    case AP_X509_MATCH_DNS_FOR_IP:
        return refuse(why, size, who, "lists %s as a DNS name, not as an IP address SAN", host);
    case AP_X509_MATCH_WILDCARD_PUBLIC_SUFFIX:
        return refuse(why, size, who, "matches %s only by a wildcard above a public suffix",
                      host);
    default:
        return refuse(why, size, who, h->is_ip
                      ? "is not for %s: it has no iPAddress SAN for it"
                      : "is not for %s: it has no DNS SAN for it",
                      host);
    }
}

static ap_status_t check_constraints(const ap_x509_exts_t *ca, const ap_x509_exts_t *leaf,
                                     char *why, size_t size, const char *who)
{
    unsigned kind;
    ap_der_t name;
    char text[80];
    ap_x509_nc_result_t r = ap_x509_nc_check(ca, &leaf->san, &kind, &name);

    if (r == AP_X509_NC_OK) {
        return AP_OK;
    }
    if (kind == AP_GN_IP && ap_der_left(&name) == 4) {
        (void)snprintf(text, sizeof(text), "%u.%u.%u.%u", name.p[0], name.p[1], name.p[2],
                       name.p[3]);
    } else if (kind == AP_GN_DNS) {
        size_t n = ap_der_left(&name);

        size_t i;

        (void)snprintf(text, sizeof(text), "%.*s", (int)(n < 79 ? n : 79), (const char *)name.p);
        for (i = 0; text[i] != '\0'; i++) {
            /* the certificate's bytes: nothing that could drive a terminal */
            if ((unsigned char)text[i] < 0x20u || (unsigned char)text[i] >= 0x7Fu) {
                text[i] = '?';
            }
        }
    } else {
        (void)snprintf(text, sizeof(text), "%s", kind == AP_GN_IP ? "an IPv6 SAN" : "a SAN");
    }
    switch (r) {
    case AP_X509_NC_EXCLUDED:
        return refuse(why, size, who, "excludes %s by its name constraints", text);
    case AP_X509_NC_NOT_PERMITTED:
        return refuse(why, size, who, "does not permit %s by its name constraints", text);
    default:
        return refuse(why, size, who, "constrains %s, a type alertpost does not check", text);
    }
}

/* Extensions of every certificate; version 1/2 only at the top, as an anchor. */
static ap_status_t read_path(const mbedtls_x509_crt *const *path, size_t count,
                             const mbedtls_x509_crt *anchors, ap_x509_exts_t *exts,
                             char *why, size_t size)
{
    char who[40];
    size_t i;

    for (i = 0; i < count; i++) {
        ap_x509_ext_error_t e = ap_x509_exts_parse(path[i]->raw.p, path[i]->raw.len, &exts[i]);

        if (e != AP_X509_EXT_OK) {
            describe(i, who, sizeof(who));
            return refuse(why, size, who, "is unusable: %s", ap_x509_ext_error_str(e));
        }
        if (exts[i].version < 3 && !(i + 1 == count && i > 0 && is_anchor(path[i], anchors))) {
            describe(i, who, sizeof(who));
            return refuse(why, size, who, "is X.509 version 1 or 2 (only anchors may be)");
        }
    }
    return AP_OK;
}

ap_status_t ap_x509_check_path(const mbedtls_x509_crt *const *path, size_t count,
                               const mbedtls_x509_crt *anchors, const char *host,
                               const ap_x509_psl_t *psl, char *why, size_t why_size)
{
    ap_x509_exts_t exts[AP_X509_MAX_PATH];
    ap_x509_host_t h;
    char who[40];
    ap_status_t st;
    size_t i;

    if (path == NULL || count == 0 || count > AP_X509_MAX_PATH || why == NULL ||
        why_size == 0 || !ap_x509_host_parse(host, &h)) {
        return AP_ERR_BAD_ARG;
    }
    for (i = 0; i < count; i++) {
        if (path[i] == NULL) {
            return AP_ERR_BAD_ARG;
        }
    }
    why[0] = '\0';
    st = read_path(path, count, anchors, exts, why, why_size);
    if (st != AP_OK) {
        return st;
    }
    describe(0, who, sizeof(who));
    st = check_leaf(&exts[0], why, why_size, who);
    if (st == AP_OK) {
        st = check_names(&exts[0], &h, psl, why, why_size, who);
    }
    for (i = 1; i < count && st == AP_OK; i++) {
        describe(i, who, sizeof(who));
        st = check_constraints(&exts[i], &exts[0], why, why_size, who);
    }
    return st;
}

bool ap_x509_leaf_by_wildcard(const mbedtls_x509_crt *leaf, const char *host)
{
    ap_x509_exts_t e;
    ap_x509_host_t h;

    if (leaf == NULL || !ap_x509_host_parse(host, &h) ||
        ap_x509_exts_parse(leaf->raw.p, leaf->raw.len, &e) != AP_X509_EXT_OK) {
        return true; /* unknown: the stricter binding */
    }
    return ap_x509_match_by_wildcard(&e.san, &h);
}

/* ---- trust anchors ---- */

int ap_x509_anchor_ext_cb(void *ctx, mbedtls_x509_crt const *crt, mbedtls_x509_buf const *oid,
                          int critical, const unsigned char *p, const unsigned char *end)
{
    static const uint8_t k_nc_oid[] = {0x55, 0x1D, 0x1E};
    ap_x509_exts_t scratch;

    (void)ctx;
    (void)crt;
    if (oid != NULL && oid->len == sizeof(k_nc_oid) && memcmp(oid->p, k_nc_oid, 3) == 0 &&
        p != NULL && end >= p) {
        /* Known to alertpost: accepted only if it parses, critical or not. */
        return ap_x509_nc_parse(p, (size_t)(end - p), &scratch) == AP_X509_EXT_OK
                   ? 0
                   : MBEDTLS_ERR_X509_INVALID_EXTENSIONS;
    }
    return critical ? MBEDTLS_ERR_X509_INVALID_EXTENSIONS : 0;
}

static int load_der(mbedtls_x509_crt *chain, const unsigned char *der, size_t len)
{
    return mbedtls_x509_crt_parse_der_with_ext_cb(chain, der, len, 1, ap_x509_anchor_ext_cb,
                                                  NULL);
}

int ap_x509_load_anchors(mbedtls_x509_crt *chain, const unsigned char *buf, size_t len,
                         int *failed)
{
    static const char begin[] = "-----BEGIN CERTIFICATE-----";
    const char *at;
    int loaded = 0;

    *failed = 0;
    if (chain == NULL || buf == NULL || len == 0) {
        return 0;
    }
    if (buf[len - 1] != '\0' || strstr((const char *)buf, begin) == NULL) {
        if (load_der(chain, buf, len) == 0) {
            return 1;
        }
        *failed = 1;
        return 0;
    }
#if defined(MBEDTLS_PEM_PARSE_C)
    at = strstr((const char *)buf, begin);
    while (at != NULL) {
        mbedtls_pem_context pem;
        size_t used = 0;
        int ret;

        mbedtls_pem_init(&pem);
        ret = mbedtls_pem_read_buffer(&pem, begin, "-----END CERTIFICATE-----",
                                      (const unsigned char *)at, NULL, 0, &used);
        if (ret == 0) {
            size_t der_len = 0;
            const unsigned char *der = ap_compat_pem_der(&pem, &der_len);

            if (load_der(chain, der, der_len) == 0) {
                loaded++;
            } else {
                (*failed)++;
            }
        } else if (ret == MBEDTLS_ERR_PEM_NO_HEADER_FOOTER_PRESENT) {
            mbedtls_pem_free(&pem);
            break;
        } else {
            (*failed)++;
            used = sizeof(begin) - 1; /* step past this header and look for the next */
        }
        mbedtls_pem_free(&pem);
        at = strstr(at + (used > 0 ? used : 1), begin);
    }
#else
    /* A build without PEM (the MPS2 firmware: DER anchors in flash) cannot
     * read these: one failure, so the caller says none parses. */
    (void)at;
    *failed = 1;
#endif
    return loaded;
}
