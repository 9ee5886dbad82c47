/*
 * The trust store scanner (see ap_anchor_scan.h). Every offset is checked
 * against what is left before it is used, so a hostile length cannot step
 * out of the buffer, whatever size_t is on the target.
 */
#include "tls/ap_anchor_scan.h"

#include <string.h>

#include "alertpost/ap_config.h"

#if AP_ANCHORS_PEM
static const char k_begin[] = "-----BEGIN CERTIFICATE-----";
static const char k_end[] = "-----END CERTIFICATE-----";
#endif

/* ---- walking the store ---- */

void ap_anchor_iter_init(ap_anchor_iter_t *it, const uint8_t *buf, size_t len)
{
    it->buf = buf;
    it->len = (buf != NULL) ? len : 0;
    it->pos = 0;
#if AP_ANCHORS_PEM
    it->pem = it->len > 0 && buf[it->len - 1] == '\0' &&
              strstr((const char *)buf, k_begin) != NULL;
#else
    it->pem = false; /* DER only: PEM text frames no certificate */
#endif
}

/* One TLV header at p (have bytes): tag, header length, value length.
 * 0: read; 1: more bytes are needed; -1: not a definite length of at most
 * four octets. */
static int tlv(const uint8_t *p, size_t have, uint8_t *tag, size_t *hdr, size_t *len)
{
    size_t n;
    size_t v = 0;
    size_t i;

    if (have < 2) {
        return 1;
    }
    *tag = p[0];
    if ((p[1] & 0x80u) == 0) {
        *hdr = 2;
        *len = p[1];
        return 0;
    }
    n = p[1] & 0x7Fu;
    if (n == 0 || n > 4) {
        return -1;
    }
    if (have < 2 + n) {
        return 1;
    }
    for (i = 0; i < n; i++) {
        v = (v << 8) | p[2 + i];
    }
    *hdr = 2 + n;
    *len = v;
    return 0;
}

static ap_anchor_next_t next_der(ap_anchor_iter_t *it, ap_anchor_ref_t *ref)
{
    const uint8_t *p = it->buf + it->pos;
    size_t left = it->len - it->pos;
    uint8_t tag;
    size_t hdr;
    size_t len;
    size_t i;

    for (i = 0; i < left && p[i] == 0; i++) {
    }
    if (i == left) {
        it->pos = it->len; /* only NUL padding left */
        return AP_ANCHOR_NEXT_END;
    }
    if (tlv(p, left, &tag, &hdr, &len) != 0 || tag != 0x30u || len > left - hdr) {
        return AP_ANCHOR_NEXT_BAD;
    }
    ref->der = p;
    ref->der_len = hdr + len;
    it->pos += hdr + len;
    return AP_ANCHOR_NEXT_OK;
}

#if AP_ANCHORS_PEM
static ap_anchor_next_t next_pem(ap_anchor_iter_t *it, ap_anchor_ref_t *ref)
{
    const char *at = strstr((const char *)it->buf + it->pos, k_begin);
    const char *stop;

    if (at == NULL) {
        it->pos = it->len;
        return AP_ANCHOR_NEXT_END;
    }
    at += sizeof(k_begin) - 1;
    stop = strstr(at, k_end);
    if (stop == NULL) {
        return AP_ANCHOR_NEXT_BAD;
    }
    ref->der = NULL;
    ref->der_len = 0;
    ref->b64 = at;
    ref->b64_end = stop;
    it->pos = (size_t)(stop - (const char *)it->buf) + sizeof(k_end) - 1;
    return AP_ANCHOR_NEXT_OK;
}
#endif

ap_anchor_next_t ap_anchor_next(ap_anchor_iter_t *it, ap_anchor_ref_t *ref)
{
    memset(ref, 0, sizeof(*ref));
    if (it->pos >= it->len) {
        return AP_ANCHOR_NEXT_END;
    }
#if AP_ANCHORS_PEM
    if (it->pem) {
        return next_pem(it, ref);
    }
#endif
    return next_der(it, ref);
}

#if AP_ANCHORS_PEM
/* ---- base64 ---- */

/* 0..63: a digit; 64: whitespace; 65: '='; 255: anything else. A table of
 * every byte: the decoder's inner loop is four loads and no branch. */
static const uint8_t k_b64[256] = {
    255, 255, 255, 255, 255, 255, 255, 255, 255,  64,  64, 255, 255,  64, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
     64, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,  62, 255, 255, 255,  63,
     52,  53,  54,  55,  56,  57,  58,  59,  60,  61, 255, 255, 255,  65, 255, 255,
    255,   0,   1,   2,   3,   4,   5,   6,   7,   8,   9,  10,  11,  12,  13,  14,
     15,  16,  17,  18,  19,  20,  21,  22,  23,  24,  25, 255, 255, 255, 255, 255,
    255,  26,  27,  28,  29,  30,  31,  32,  33,  34,  35,  36,  37,  38,  39,  40,
     41,  42,  43,  44,  45,  46,  47,  48,  49,  50,  51, 255, 255, 255, 255, 255,
    /* 128 to 255: none is base64 */
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
};

static uint8_t b64_value(unsigned char c)
{
    return k_b64[c];
}

/* The next group of four symbols from *p, whitespace skipped: the bytes it
 * stands for in out, their count (1 to 3) returned; 0 at the end of the
 * input; -1 on bad input. *p moves past the group. */
static int b64_group(const char **p, const char *end, uint8_t out[3])
{
    const char *s = *p;
    uint8_t v[4];
    unsigned n = 0;
    unsigned pad = 0;

    while (n < 4 && s < end) {
        uint8_t x = b64_value((unsigned char)*s++);

        if (x == 64) {
            continue;
        }
        if (x == 255 || (x < 64 && pad > 0) || (x == 65 && n < 2)) {
            return -1;
        }
        pad += (x == 65) ? 1u : 0u;
        v[n++] = (x == 65) ? 0 : x;
    }
    if (n == 0) {
        return 0;
    }
    if (n < 4) {
        return -1;
    }
    out[0] = (uint8_t)((v[0] << 2) | (v[1] >> 4));
    out[1] = (uint8_t)((v[1] << 4) | (v[2] >> 2));
    out[2] = (uint8_t)((v[2] << 6) | v[3]);
    *p = s;
    return 3 - (int)pad;
}

size_t ap_anchor_b64_decode(const char **p, const char *end, uint8_t *out, size_t size,
                            bool *bad)
{
    const char *s = *p;
    size_t n = 0;

    for (;;) {
        uint8_t g[3];
        const char *mark;
        int got;

        /* The common case, four digits in a row, without the per-symbol checks. */
        while (end - s >= 4 && size - n >= 3) {
            uint32_t v;
            uint8_t a;
            uint8_t b;
            uint8_t c;
            uint8_t d;

            if (s[0] == '\n') {
                s++; /* a line break between groups: PEM's every 64 characters */
                continue;
            }
            a = b64_value((unsigned char)s[0]);
            b = b64_value((unsigned char)s[1]);
            c = b64_value((unsigned char)s[2]);
            d = b64_value((unsigned char)s[3]);
            if (((a | b | c | d) & 0xC0u) != 0) {
                break;
            }
            v = ((uint32_t)a << 18) | ((uint32_t)b << 12) | ((uint32_t)c << 6) | d;
            out[n] = (uint8_t)(v >> 16);
            out[n + 1] = (uint8_t)(v >> 8);
            out[n + 2] = (uint8_t)v;
            n += 3;
            s += 4;
        }
        mark = s;
        got = b64_group(&s, end, g);
        if (got <= 0 || (size_t)got > size - n) {
            *bad = *bad || got < 0;
            *p = (got <= 0) ? (got == 0 ? end : s) : mark;
            return n;
        }
        memcpy(out + n, g, (size_t)got);
        n += (size_t)got;
        if (got < 3) {
            /* padding ends the data: only whitespace may follow */
            got = b64_group(&s, end, g);
            *bad = *bad || got != 0;
            *p = end;
            return n;
        }
    }
}

bool ap_anchor_b64_length_is(const char *b64, const char *end, size_t der_len)
{
    size_t breaks = 0;
    size_t pad = (3 - der_len % 3) % 3;
    const char *p = b64;
    const char *last = end;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));

        if (nl == NULL) {
            break;
        }
        breaks += (nl > b64 && nl[-1] == '\r') ? 2u : 1u;
        p = nl + 1;
    }
    if (der_len > (SIZE_MAX - 2) / 4 || (size_t)(end - b64) - breaks != (der_len + 2) / 3 * 4) {
        return false;
    }
    while (last > b64 && (last[-1] == '\n' || last[-1] == '\r')) {
        last--;
    }
    /* exactly `pad` '=' at the end, and a digit before them */
    for (; pad > 0; pad--) {
        if (last <= b64 || *--last != '=') {
            return false;
        }
    }
    return last > b64 && last[-1] != '=';
}
#endif /* AP_ANCHORS_PEM */

/* ---- framing ---- */

/* Step over one element at *off within [.., limit), which must have tag
 * want (0: any): its offset, header length and total length go to *el. */
typedef struct element {
    size_t at;
    size_t hdr;
    size_t total;
} element_t;

static ap_anchor_shape_result_t step(const uint8_t *der, size_t have, size_t *off, size_t limit,
                                     uint8_t want, element_t *el)
{
    uint8_t tag;
    size_t len;
    int r;

    if (*off >= limit) {
        return AP_ANCHOR_SHAPE_BAD;
    }
    r = tlv(der + *off, (have > *off ? have - *off : 0), &tag, &el->hdr, &len);
    if (r != 0) {
        return r > 0 ? AP_ANCHOR_SHAPE_SHORT : AP_ANCHOR_SHAPE_BAD;
    }
    if ((want != 0 && tag != want) || el->hdr > limit - *off || len > limit - *off - el->hdr) {
        return AP_ANCHOR_SHAPE_BAD;
    }
    el->at = *off;
    el->total = el->hdr + len;
    *off += el->total;
    return AP_ANCHOR_SHAPE_OK;
}

ap_anchor_shape_result_t ap_anchor_shape(const uint8_t *der, size_t have, ap_anchor_shape_t *s)
{
    /* serialNumber, signature, issuer, validity, subject */
    static const uint8_t k_fields[5] = {0x02, 0x30, 0x30, 0x30, 0x30};
    element_t el;
    size_t off = 0;
    size_t i;
    ap_anchor_shape_result_t r = step(der, have, &off, SIZE_MAX, 0x30u, &el);

    if (r != AP_ANCHOR_SHAPE_OK) {
        return r;
    }
    s->cert_len = el.total;
    off = el.hdr;
    r = step(der, have, &off, s->cert_len, 0x30u, &el); /* TBSCertificate */
    if (r != AP_ANCHOR_SHAPE_OK) {
        return r;
    }
    s->tbs_end = off;
    off = el.at + el.hdr;
    if (off >= have) {
        return AP_ANCHOR_SHAPE_SHORT;
    }
    if (der[off] == 0xA0u) {
        r = step(der, have, &off, s->tbs_end, 0xA0u, &el); /* version */
    }
    for (i = 0; i < sizeof(k_fields) && r == AP_ANCHOR_SHAPE_OK; i++) {
        r = step(der, have, &off, s->tbs_end, k_fields[i], &el);
    }
    if (r != AP_ANCHOR_SHAPE_OK) {
        return r;
    }
    s->subject_off = el.at;
    s->subject_len = el.total;
    return off <= have ? AP_ANCHOR_SHAPE_OK : AP_ANCHOR_SHAPE_SHORT;
}

bool ap_anchor_tail_ok(const uint8_t *tail, size_t have, const ap_anchor_shape_t *s)
{
    size_t left = s->cert_len - s->tbs_end;
    size_t off = 0;
    element_t el;

    if (have > left) {
        have = left;
    }
    /* signatureAlgorithm whole; of the signature only its header need be given */
    if (step(tail, have, &off, left, 0x30u, &el) != AP_ANCHOR_SHAPE_OK || off > have) {
        return false;
    }
    return step(tail, have, &off, left, 0x03u, &el) == AP_ANCHOR_SHAPE_OK && off == left;
}

/* ---- names ---- */

static bool is_text(uint8_t tag)
{
    return tag == 0x0Cu || tag == 0x13u; /* UTF8String, PrintableString */
}

static bool same_value(uint8_t ta, const uint8_t *a, uint8_t tb, const uint8_t *b, size_t len)
{
    size_t i;

    if (ta == tb && memcmp(a, b, len) == 0) {
        return true;
    }
    if (!is_text(ta) || !is_text(tb)) {
        return false;
    }
    for (i = 0; i < len; i++) {
        uint8_t x = a[i];
        uint8_t y = b[i];

        x = (x >= 'A' && x <= 'Z') ? (uint8_t)(x + 32) : x;
        y = (y >= 'A' && y <= 'Z') ? (uint8_t)(y + 32) : y;
        if (x != y) {
            return false;
        }
    }
    return true;
}

/* A span [p, end) and the element read from it. */
typedef struct span {
    const uint8_t *p;
    const uint8_t *end;
} span_t;

/* The next element of *s, which must have tag want: its value in *v.
 * 0: read; -1: malformed. */
static int take(span_t *s, uint8_t want, span_t *v, uint8_t *tag_out)
{
    uint8_t tag;
    size_t hdr;
    size_t len;
    size_t have = (size_t)(s->end - s->p);

    if (tlv(s->p, have, &tag, &hdr, &len) != 0 || hdr > have || len > have - hdr ||
        (want != 0 && tag != want)) {
        return -1;
    }
    v->p = s->p + hdr;
    v->end = v->p + len;
    s->p = v->end;
    if (tag_out != NULL) {
        *tag_out = tag;
    }
    return 0;
}

/* One AttributeTypeAndValue of each: 1 the same, 0 not, -1 malformed. */
static int atav_equal(span_t *sa, span_t *sb)
{
    span_t a;
    span_t b;
    span_t oa;
    span_t ob;
    span_t va;
    span_t vb;
    uint8_t ta;
    uint8_t tb;

    if (take(sa, 0x30u, &a, NULL) != 0 || take(sb, 0x30u, &b, NULL) != 0 ||
        take(&a, 0x06u, &oa, NULL) != 0 || take(&b, 0x06u, &ob, NULL) != 0 ||
        take(&a, 0, &va, &ta) != 0 || take(&b, 0, &vb, &tb) != 0 || a.p != a.end ||
        b.p != b.end) {
        return -1;
    }
    if (oa.end - oa.p != ob.end - ob.p || memcmp(oa.p, ob.p, (size_t)(oa.end - oa.p)) != 0 ||
        va.end - va.p != vb.end - vb.p) {
        return 0;
    }
    return same_value(ta, va.p, tb, vb.p, (size_t)(va.end - va.p)) ? 1 : 0;
}

int ap_anchor_name_equal(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    span_t sa;
    span_t sb;
    span_t na;
    span_t nb;

    if (a == NULL || b == NULL) {
        return -1;
    }
    sa.p = a;
    sa.end = a + a_len;
    sb.p = b;
    sb.end = b + b_len;
    if (take(&sa, 0x30u, &na, NULL) != 0 || take(&sb, 0x30u, &nb, NULL) != 0) {
        return -1;
    }
    /* RDN by RDN, in lockstep, as Mbed TLS compares its parsed lists: the
     * first difference decides, whatever follows it. */
    while (na.p < na.end && nb.p < nb.end) {
        span_t ra;
        span_t rb;

        if (take(&na, 0x31u, &ra, NULL) != 0 || take(&nb, 0x31u, &rb, NULL) != 0) {
            return -1;
        }
        while (ra.p < ra.end && rb.p < rb.end) {
            int r = atav_equal(&ra, &rb);

            if (r <= 0) {
                return r;
            }
        }
        if (ra.p != ra.end || rb.p != rb.end) {
            return 0; /* sets of different sizes */
        }
    }
    return (na.p != na.end || nb.p != nb.end) ? 0 : 1;
}
