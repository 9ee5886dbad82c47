/*
 * The trust store (see ap_tls_anchors.h): framing checked at init, anchors
 * parsed only when Mbed TLS asks for the issuer they may be.
 */
#include "tls/ap_tls_anchors.h"

#include <stdio.h>
#include <string.h>

#include "tls/ap_anchor_scan.h"
#include "tls/ap_x509_rules.h"

#include "mbedtls/platform.h"

/* Room for the start of a PEM anchor, decoded, in which to find its
 * subject: the subjects of the roots in Debian's bundle end by byte 489.
 * One that ends later is a candidate for every issuer (parsed, and then
 * judged by Mbed TLS itself), so this bounds only the speed. */
#define AP_ANCHOR_PREFIX 576

void ap_tls_anchors_init(ap_tls_anchors_t *a)
{
    memset(a, 0, sizeof(*a));
#if !AP_TLS_ANCHORS_LAZY
    mbedtls_x509_crt_init(&a->chain);
#endif
}

#if AP_ANCHORS_PEM
/* A PEM anchor's DER, in a buffer from Mbed TLS's allocator that the caller
 * frees with mbedtls_free(). NULL when out of memory; *bad when the base64
 * does not decode. */
static uint8_t *pem_decode(const ap_anchor_ref_t *ref, size_t *len, bool *bad)
{
    size_t size = (size_t)(ref->b64_end - ref->b64) / 4 * 3 + 3;
    uint8_t *der = mbedtls_calloc(1, size);
    const char *p = ref->b64;

    *bad = false;
    *len = 0;
    if (der != NULL) {
        *len = ap_anchor_b64_decode(&p, ref->b64_end, der, size, bad);
        *bad = *bad || p != ref->b64_end;
    }
    return der;
}
#endif

static bool der_framed(const uint8_t *der, size_t len)
{
    ap_anchor_shape_t s;

    return ap_anchor_shape(der, len, &s) == AP_ANCHOR_SHAPE_OK && s.cert_len == len &&
           ap_anchor_tail_ok(der + s.tbs_end, len - s.tbs_end, &s);
}

#if AP_ANCHORS_PEM
/* The start of a PEM anchor decoded into head (AP_ANCHOR_PREFIX bytes): how
 * much in *have, and its framing down to the subject. */
static ap_anchor_shape_result_t pem_head(const ap_anchor_ref_t *ref, uint8_t *head, size_t *have,
                                         ap_anchor_shape_t *s)
{
    const char *p = ref->b64;
    bool bad = false;
    ap_anchor_shape_result_t r;
    size_t got;

    /* 96 bytes at a time, until the subject has been decoded: in Debian's
     * bundle subjects end between bytes 148 and 489, at 275 on average. */
    *have = 0;
    do {
        size_t room = AP_ANCHOR_PREFIX - *have;

        got = ap_anchor_b64_decode(&p, ref->b64_end, head + *have, room < 96 ? room : 96, &bad);
        *have += got;
        r = bad ? AP_ANCHOR_SHAPE_BAD : ap_anchor_shape(head, *have, s);
    } while (r == AP_ANCHOR_SHAPE_SHORT && got > 0 && p != ref->b64_end);
    return r;
}

/*
 * Is this anchor a whole certificate's framing? 0: yes; 1: no; -1: out of
 * memory to decode it. A DER anchor is walked whole. A PEM anchor is
 * decoded down to its subject and its base64 counted against the length its
 * DER declares, which costs a tenth of decoding it all; only when that
 * cannot tell (spaces in the text, a subject past the prefix) is it decoded
 * whole. A digit outside the alphabet past the subject is then found when
 * the anchor is parsed, and the anchor skipped, as one that does not parse.
 */
static int check_pem_framing(const ap_anchor_ref_t *ref)
{
    uint8_t head[AP_ANCHOR_PREFIX];
    ap_anchor_shape_t s;
    size_t have;
    uint8_t *der;
    size_t len;
    bool bad;
    bool ok;
    ap_anchor_shape_result_t r;

    r = pem_head(ref, head, &have, &s);
    if (r == AP_ANCHOR_SHAPE_BAD) {
        return 1;
    }
    if (r == AP_ANCHOR_SHAPE_OK && ap_anchor_b64_length_is(ref->b64, ref->b64_end, s.cert_len)) {
        return 0;
    }
    der = pem_decode(ref, &len, &bad);
    if (der == NULL) {
        return -1;
    }
    ok = !bad && der_framed(der, len);
    mbedtls_free(der);
    return ok ? 0 : 1;
}

/* A PEM anchor's DER, decoded, appended to list (as parse_anchor). */
static int parse_pem_anchor(mbedtls_x509_crt *list, const ap_anchor_ref_t *ref)
{
    uint8_t *der;
    size_t len;
    bool bad;
    int ret;

    der = pem_decode(ref, &len, &bad);
    if (der == NULL) {
        return MBEDTLS_ERR_X509_ALLOC_FAILED;
    }
    ret = bad ? MBEDTLS_ERR_X509_INVALID_FORMAT
              : mbedtls_x509_crt_parse_der_with_ext_cb(list, der, len, 1,
                                                       ap_x509_anchor_ext_cb, NULL);
    mbedtls_free(der);
    return ret;
}
#endif /* AP_ANCHORS_PEM */

static int check_framing(const ap_anchor_ref_t *ref)
{
    if (ref->der != NULL) {
        return der_framed(ref->der, ref->der_len) ? 0 : 1;
    }
#if AP_ANCHORS_PEM
    return check_pem_framing(ref);
#else
    return 1; /* no PEM scanned: unreachable */
#endif
}

/* Append the anchor to list: an Mbed TLS result (0: parsed). A DER anchor
 * is parsed in place, a PEM one from a decoded copy. */
static int parse_anchor(mbedtls_x509_crt *list, const ap_anchor_ref_t *ref)
{
    if (ref->der != NULL) {
        return mbedtls_x509_crt_parse_der_with_ext_cb(list, ref->der, ref->der_len, 0,
                                                      ap_x509_anchor_ext_cb, NULL);
    }
#if AP_ANCHORS_PEM
    return parse_pem_anchor(list, ref);
#else
    return MBEDTLS_ERR_X509_INVALID_FORMAT; /* no PEM scanned: unreachable */
#endif
}

/* why = the reason for refusing the store: "certificate N of them <clause>",
 * or the clause alone when n is 0. */
static ap_status_t refuse(char *why, size_t size, size_t n, const char *clause)
{
    if (n > 0) {
        (void)snprintf(why, size, "certificate %u of them %s", (unsigned)n, clause);
    } else {
        (void)snprintf(why, size, "%s", clause);
    }
    return AP_ERR_TLS_SETUP;
}

#if !AP_TLS_ANCHORS_LAZY
/* The eager build: every anchor parsed now. */
static ap_status_t parse_all(ap_tls_anchors_t *a, char *why, size_t why_size)
{
    ap_anchor_iter_t it;
    ap_anchor_ref_t ref;
    size_t n = 0;
    size_t loaded = 0;

    ap_anchor_iter_init(&it, a->src, a->src_len);
    while (ap_anchor_next(&it, &ref) == AP_ANCHOR_NEXT_OK) {
        int ret = parse_anchor(&a->chain, &ref);

        n++;
        if (ret == MBEDTLS_ERR_X509_ALLOC_FAILED) {
            return refuse(why, why_size, n, "cannot be parsed: out of memory");
        }
        loaded += (ret == 0) ? 1u : 0u;
    }
    return loaded > 0 ? AP_OK : refuse(why, why_size, 0, "none of its certificates parses");
}
#endif

ap_status_t ap_tls_anchors_load(ap_tls_anchors_t *a, const uint8_t *buf, size_t len, char *why,
                                size_t why_size)
{
    ap_anchor_iter_t it;
    ap_anchor_ref_t ref;
    ap_anchor_next_t next;

    a->src = buf;
    a->src_len = len;
    a->count = 0;
    ap_anchor_iter_init(&it, buf, len);
    while ((next = ap_anchor_next(&it, &ref)) == AP_ANCHOR_NEXT_OK) {
        int r = check_framing(&ref);

        a->count++;
        if (r != 0) {
            return refuse(why, why_size, a->count,
                          r < 0 ? "cannot be read: out of memory"
                                : "is malformed: its base64 or its DER framing is broken");
        }
    }
    if (next == AP_ANCHOR_NEXT_BAD) {
#if !AP_ANCHORS_PEM
        /* The likeliest mistake with a DER-only build: say it, not "malformed". */
        if (a->count == 0 && len >= 10 && memcmp(buf, "-----BEGIN", 10) == 0) {
            return refuse(why, why_size, 0, "are PEM; this build reads DER only "
                                            "(AP_ANCHORS_PEM 0)");
        }
#endif
        return refuse(why, why_size, a->count + 1,
                      "is malformed: cut short, or bytes that are no certificate");
    }
    if (a->count == 0) {
        return refuse(why, why_size, 0, "no certificate in it");
    }
#if AP_TLS_ANCHORS_LAZY
    return AP_OK;
#else
    return parse_all(a, why, why_size);
#endif
}

#if AP_TLS_ANCHORS_LAZY
/* Could this anchor have issued a certificate with that issuer Name? Its
 * subject must equal it; an anchor whose subject cannot be found in the
 * decoded prefix is kept (Mbed TLS then decides). */
static bool may_issue(const ap_anchor_ref_t *ref, const mbedtls_x509_buf *issuer)
{
#if AP_ANCHORS_PEM
    uint8_t head[AP_ANCHOR_PREFIX];
#endif
    const uint8_t *der = ref->der;
    size_t have = ref->der_len;
    ap_anchor_shape_t s;
    ap_anchor_shape_result_t r;

#if AP_ANCHORS_PEM
    if (der == NULL) {
        r = pem_head(ref, head, &have, &s);
        der = head;
    } else
#endif
    {
        r = ap_anchor_shape(der, have, &s);
    }
    if (r != AP_ANCHOR_SHAPE_OK) {
        return r == AP_ANCHOR_SHAPE_SHORT;
    }
    return ap_anchor_name_equal(issuer->p, issuer->len, der + s.subject_off, s.subject_len) != 0;
}

static void drop(mbedtls_x509_crt *list)
{
    if (list != NULL) {
        mbedtls_x509_crt_free(list);
        mbedtls_free(list);
    }
}

/* Mbed TLS's trusted-CA callback: the anchors that may have issued child,
 * parsed into a list that Mbed TLS owns (and frees with mbedtls_free) from
 * here on. Non-zero only when out of memory, which fails the verification
 * rather than pass for "no such anchor". */
static int ca_cb(void *ctx, mbedtls_x509_crt const *child, mbedtls_x509_crt **candidates)
{
    ap_tls_anchors_t *a = ctx;
    mbedtls_x509_crt *list = NULL;
    ap_anchor_iter_t it;
    ap_anchor_ref_t ref;
    size_t n = 0;

    *candidates = NULL;
    a->seen = NULL;
    ap_anchor_iter_init(&it, a->src, a->src_len);
    while (ap_anchor_next(&it, &ref) == AP_ANCHOR_NEXT_OK) {
        int ret;

        n++;
        if (!may_issue(&ref, &child->issuer_raw)) {
            continue;
        }
        if (list == NULL) {
            list = mbedtls_calloc(1, sizeof(*list));
            if (list == NULL) {
                return MBEDTLS_ERR_X509_ALLOC_FAILED;
            }
            mbedtls_x509_crt_init(list);
        }
        ret = parse_anchor(list, &ref);
        if (ret == MBEDTLS_ERR_X509_ALLOC_FAILED) {
            drop(list);
            return ret;
        }
        if (ret != 0) {
            a->unusable = n;
            a->unusable_ret = ret;
        }
    }
    if (list != NULL && list->version == 0) {
        drop(list); /* matched, but none of them parses */
        list = NULL;
    }
    *candidates = list;
    a->seen = list;
    return 0;
}
#endif

void ap_tls_anchors_conf(ap_tls_anchors_t *a, mbedtls_ssl_config *conf)
{
#if AP_TLS_ANCHORS_LAZY
    mbedtls_ssl_conf_ca_cb(conf, ca_cb, a);
#else
    mbedtls_ssl_conf_ca_chain(conf, &a->chain, NULL);
#endif
}

int ap_tls_anchors_verify(ap_tls_anchors_t *a, mbedtls_x509_crt *crt,
                          const mbedtls_x509_crt_profile *profile, const char *host,
                          uint32_t *flags,
                          int (*f_vrfy)(void *, mbedtls_x509_crt *, int, uint32_t *),
                          void *p_vrfy)
{
#if AP_TLS_ANCHORS_LAZY
    return mbedtls_x509_crt_verify_with_ca_cb(crt, ca_cb, a, profile, host, flags, f_vrfy,
                                              p_vrfy);
#else
    return mbedtls_x509_crt_verify_with_profile(crt, &a->chain, NULL, profile, host, flags,
                                                f_vrfy, p_vrfy);
#endif
}

const mbedtls_x509_crt *ap_tls_anchors_seen(const ap_tls_anchors_t *a)
{
#if AP_TLS_ANCHORS_LAZY
    return a->seen;
#else
    return &a->chain;
#endif
}

void ap_tls_anchors_leaf_check(const ap_tls_anchors_t *a, const mbedtls_x509_crt *leaf,
                               uint32_t *flags)
{
#if AP_TLS_ANCHORS_LAZY
    const mbedtls_x509_crt *c;

    if ((*flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) == 0 ||
        ap_anchor_name_equal(leaf->issuer_raw.p, leaf->issuer_raw.len, leaf->subject_raw.p,
                             leaf->subject_raw.len) != 1) {
        return;
    }
    /* Its issuer is its subject, so the candidates for it hold every anchor
     * that could be the same certificate. */
    for (c = a->seen; c != NULL && c->raw.p != NULL; c = c->next) {
        if (c->raw.len == leaf->raw.len && memcmp(c->raw.p, leaf->raw.p, c->raw.len) == 0) {
            *flags &= ~(uint32_t)MBEDTLS_X509_BADCERT_NOT_TRUSTED;
            return;
        }
    }
#else
    (void)a;
    (void)leaf;
    (void)flags; /* Mbed TLS itself trusts such a leaf when it has the chain */
#endif
}

void ap_tls_anchors_reset(ap_tls_anchors_t *a)
{
#if AP_TLS_ANCHORS_LAZY
    a->seen = NULL;
    a->unusable = 0;
    a->unusable_ret = 0;
#else
    (void)a;
#endif
}

size_t ap_tls_anchors_unusable(const ap_tls_anchors_t *a, int *ret)
{
#if AP_TLS_ANCHORS_LAZY
    *ret = a->unusable_ret;
    return a->unusable;
#else
    (void)a;
    *ret = 0;
    return 0;
#endif
}

void ap_tls_anchors_free(ap_tls_anchors_t *a)
{
#if !AP_TLS_ANCHORS_LAZY
    mbedtls_x509_crt_free(&a->chain);
#endif
    memset(a, 0, sizeof(*a));
}
