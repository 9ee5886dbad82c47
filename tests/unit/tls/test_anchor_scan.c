/*
 * The trust-store scanner (core/src/tls/ap_anchor_scan.c) on bytes built
 * here: base64 decoding and its refusals, the framing of a certificate down
 * to its subject, the walk over PEM and DER stores, and X.509 Name equality
 * by Mbed TLS's rules (UTF8String and PrintableString alike, ASCII case
 * ignored; every other string type byte for byte).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "tls/ap_anchor_scan.h"

/* ---- building DER ---- */

typedef struct buf {
    uint8_t b[2048];
    size_t n;
} buf_t;

/* Append tag, length and content (short or two-byte long form). */
static void put(buf_t *o, uint8_t tag, const void *content, size_t len)
{
    o->b[o->n++] = tag;
    if (len < 128) {
        o->b[o->n++] = (uint8_t)len;
    } else {
        o->b[o->n++] = 0x82;
        o->b[o->n++] = (uint8_t)(len >> 8);
        o->b[o->n++] = (uint8_t)len;
    }
    memcpy(o->b + o->n, content, len);
    o->n += len;
}

static void put_buf(buf_t *o, uint8_t tag, const buf_t *inner)
{
    put(o, tag, inner->b, inner->n);
}

/* One AttributeTypeAndValue: SEQUENCE { OID 2.5.4.<type>, value } */
static void put_atav(buf_t *out, uint8_t type, uint8_t string_tag, const char *value)
{
    uint8_t oid[3] = {0x55, 0x04, type};
    buf_t atav = {{0}, 0};

    put(&atav, 0x06, oid, 3);
    put(&atav, string_tag, value, strlen(value));
    put_buf(out, 0x30, &atav);
}

/* One RDN of one attribute: SET { AttributeTypeAndValue } */
static void put_rdn(buf_t *name, uint8_t type, uint8_t string_tag, const char *value)
{
    buf_t set = {{0}, 0};

    put_atav(&set, type, string_tag, value);
    put_buf(name, 0x31, &set);
}

enum { UTF8 = 0x0C, PRINTABLE = 0x13, IA5 = 0x16, C = 6, O = 10, CN = 3 };

static void name2(buf_t *out, uint8_t t1, const char *v1, uint8_t t2, const char *v2)
{
    buf_t rdns = {{0}, 0};

    put_rdn(&rdns, C, t1, v1);
    put_rdn(&rdns, O, t2, v2);
    out->n = 0;
    put_buf(out, 0x30, &rdns);
}

/* A certificate's framing (no real key or signature: the scanner reads
 * only the framing), subject "C=US, O=<o>". */
static void fake_cert(buf_t *out, const char *o)
{
    static const uint8_t version[] = {0x02, 0x01, 0x02};
    static const uint8_t serial[] = {0x01, 0x02, 0x03};
    static const uint8_t ecdsa_sha256[] = {0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02};
    static const uint8_t sig[] = {0x00, 0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01};
    buf_t tbs = {{0}, 0};
    buf_t body = {{0}, 0};
    buf_t alg = {{0}, 0};
    buf_t validity = {{0}, 0};
    buf_t name = {{0}, 0};
    buf_t spki = {{0}, 0};

    put(&alg, 0x06, ecdsa_sha256, sizeof ecdsa_sha256);
    put(&validity, 0x17, "260101000000Z", 13);
    put(&validity, 0x17, "270101000000Z", 13);
    put(&spki, 0x30, alg.b, alg.n); /* stands in for the key: not read */
    name2(&name, PRINTABLE, "US", UTF8, o);
    put(&tbs, 0xA0, version, sizeof version);
    put(&tbs, 0x02, serial, sizeof serial);
    put_buf(&tbs, 0x30, &alg);
    memcpy(tbs.b + tbs.n, name.b, name.n); /* issuer = subject */
    tbs.n += name.n;
    put_buf(&tbs, 0x30, &validity);
    memcpy(tbs.b + tbs.n, name.b, name.n);
    tbs.n += name.n;
    put_buf(&tbs, 0x30, &spki);
    put_buf(&body, 0x30, &tbs);
    put_buf(&body, 0x30, &alg);
    put(&body, 0x03, sig, sizeof sig);
    out->n = 0;
    put_buf(out, 0x30, &body);
}

/* Base64 of der, in lines of 64, as PEM has it. */
static size_t b64(const uint8_t *der, size_t len, char *out)
{
    static const char k[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i;
    size_t n = 0;
    size_t col = 0;

    for (i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)der[i] << 16;
        size_t left = len - i;

        v |= left > 1 ? (uint32_t)der[i + 1] << 8 : 0;
        v |= left > 2 ? der[i + 2] : 0;
        out[n++] = k[(v >> 18) & 63];
        out[n++] = k[(v >> 12) & 63];
        out[n++] = left > 1 ? k[(v >> 6) & 63] : '=';
        out[n++] = left > 2 ? k[v & 63] : '=';
        if ((col += 4) == 64) {
            out[n++] = '\n';
            col = 0;
        }
    }
    out[n++] = '\n';
    out[n] = '\0';
    return n;
}

/* ---- base64 ---- */

static size_t decode(const char *text, uint8_t *out, size_t size, bool *bad, size_t *used)
{
    const char *p = text;
    size_t n;

    *bad = false;
    n = ap_anchor_b64_decode(&p, text + strlen(text), out, size, bad);
    if (used != NULL) {
        *used = (size_t)(p - text);
    }
    return n;
}

static void test_base64(void **state)
{
    uint8_t out[16];
    bool bad;
    size_t used;

    (void)state;
    assert_int_equal(decode("TWFu\nTWE=\n", out, sizeof out, &bad, NULL), 5);
    assert_false(bad);
    assert_memory_equal(out, "ManMa", 5);
    assert_int_equal(decode(" TQ==\r\n", out, sizeof out, &bad, NULL), 1);
    assert_false(bad);
    assert_int_equal(out[0], 'M');
    /* a group that does not fit waits for the next call */
    assert_int_equal(decode("TWFuTWFu", out, 4, &bad, &used), 3);
    assert_false(bad);
    assert_int_equal(used, 4);
    /* refusals: outside the alphabet, misplaced padding, cut short, data after '=' */
    (void)decode("TW!u", out, sizeof out, &bad, NULL);
    assert_true(bad);
    (void)decode("T=Fu", out, sizeof out, &bad, NULL);
    assert_true(bad);
    (void)decode("TQ=a", out, sizeof out, &bad, NULL);
    assert_true(bad);
    (void)decode("TWFuTW", out, sizeof out, &bad, NULL);
    assert_true(bad);
    (void)decode("TQ==TWFu", out, sizeof out, &bad, NULL);
    assert_true(bad);
    (void)decode("TWFu\x80", out, sizeof out, &bad, NULL);
    assert_true(bad);
}

/* ---- framing ---- */

static void test_shape(void **state)
{
    buf_t cert;
    buf_t name;
    ap_anchor_shape_t s;
    char text[4096];
    size_t len;

    (void)state;
    fake_cert(&cert, "Example Anchors");
    name2(&name, PRINTABLE, "US", UTF8, "Example Anchors");
    assert_int_equal(ap_anchor_shape(cert.b, cert.n, &s), AP_ANCHOR_SHAPE_OK);
    assert_int_equal(s.cert_len, cert.n);
    assert_int_equal(s.subject_len, name.n);
    assert_memory_equal(cert.b + s.subject_off, name.b, name.n);
    assert_true(ap_anchor_tail_ok(cert.b + s.tbs_end, cert.n - s.tbs_end, &s));
    /* the subject's last byte missing: more is needed, nothing is wrong */
    assert_int_equal(ap_anchor_shape(cert.b, s.subject_off + s.subject_len - 1, &s),
                     AP_ANCHOR_SHAPE_SHORT);
    assert_int_equal(ap_anchor_shape(cert.b, 1, &s), AP_ANCHOR_SHAPE_SHORT);
    /* a signature that ends before the certificate does */
    assert_int_equal(ap_anchor_shape(cert.b, cert.n, &s), AP_ANCHOR_SHAPE_OK);
    cert.b[cert.n - 10]--; /* the BIT STRING's length */
    assert_false(ap_anchor_tail_ok(cert.b + s.tbs_end, cert.n - s.tbs_end, &s));
    cert.b[cert.n - 10]++;
    /* a TBSCertificate longer than its Certificate */
    cert.b[5] = 0x7F;
    assert_int_equal(ap_anchor_shape(cert.b, cert.n, &s), AP_ANCHOR_SHAPE_BAD);
    /* not a SEQUENCE at all */
    assert_int_equal(ap_anchor_shape((const uint8_t *)"\x04\x01x", 3, &s), AP_ANCHOR_SHAPE_BAD);

    /* the base64 length against the DER length */
    fake_cert(&cert, "Example Anchors");
    len = b64(cert.b, cert.n, text);
    assert_true(ap_anchor_b64_length_is(text, text + len, cert.n));
    assert_false(ap_anchor_b64_length_is(text, text + len, cert.n - 1));
    assert_false(ap_anchor_b64_length_is(text, text + len, cert.n + 1));
    assert_false(ap_anchor_b64_length_is(text + 4, text + len, cert.n));
}

/* ---- the store walk ---- */

static void test_der_store(void **state)
{
    buf_t a;
    buf_t b;
    uint8_t store[4096];
    size_t n;
    ap_anchor_iter_t it;
    ap_anchor_ref_t ref;

    (void)state;
    fake_cert(&a, "First");
    fake_cert(&b, "Second");
    memcpy(store, a.b, a.n);
    memcpy(store + a.n, b.b, b.n);
    n = a.n + b.n;
    memset(store + n, 0, 3); /* NUL padding, as a flash image may have */
    ap_anchor_iter_init(&it, store, n + 3);
    assert_false(it.pem);
    assert_int_equal(ap_anchor_next(&it, &ref), AP_ANCHOR_NEXT_OK);
    assert_ptr_equal(ref.der, store);
    assert_int_equal(ref.der_len, a.n);
    assert_int_equal(ap_anchor_next(&it, &ref), AP_ANCHOR_NEXT_OK);
    assert_ptr_equal(ref.der, store + a.n);
    assert_int_equal(ap_anchor_next(&it, &ref), AP_ANCHOR_NEXT_END);
    /* one byte that is not padding after them */
    store[n + 1] = 0x30;
    ap_anchor_iter_init(&it, store, n + 3);
    assert_int_equal(ap_anchor_next(&it, &ref), AP_ANCHOR_NEXT_OK);
    assert_int_equal(ap_anchor_next(&it, &ref), AP_ANCHOR_NEXT_OK);
    assert_int_equal(ap_anchor_next(&it, &ref), AP_ANCHOR_NEXT_BAD);
    /* the second cut short */
    ap_anchor_iter_init(&it, store, n - 1);
    assert_int_equal(ap_anchor_next(&it, &ref), AP_ANCHOR_NEXT_OK);
    assert_int_equal(ap_anchor_next(&it, &ref), AP_ANCHOR_NEXT_BAD);
}

static void test_pem_store(void **state)
{
    static const char store[] =
        "a comment before\n"
        "-----BEGIN CERTIFICATE-----\nTWFu\n-----END CERTIFICATE-----\n"
        "text between\n"
        "-----BEGIN TRUSTED CERTIFICATE-----\nTWFu\n-----END TRUSTED CERTIFICATE-----\n"
        "-----BEGIN CERTIFICATE-----\nTWE=\n-----END CERTIFICATE-----\n";
    static const char cut[] = "-----BEGIN CERTIFICATE-----\nTWFu\n-----END CERT";
    ap_anchor_iter_t it;
    ap_anchor_ref_t ref;

    (void)state;
    ap_anchor_iter_init(&it, (const uint8_t *)store, sizeof store);
    assert_true(it.pem);
    assert_int_equal(ap_anchor_next(&it, &ref), AP_ANCHOR_NEXT_OK);
    assert_null(ref.der);
    assert_int_equal(ref.b64_end - ref.b64, 6);
    assert_memory_equal(ref.b64, "\nTWFu\n", 6);
    /* the TRUSTED CERTIFICATE block is not one of Mbed TLS's: skipped */
    assert_int_equal(ap_anchor_next(&it, &ref), AP_ANCHOR_NEXT_OK);
    assert_memory_equal(ref.b64, "\nTWE=\n", 6);
    assert_int_equal(ap_anchor_next(&it, &ref), AP_ANCHOR_NEXT_END);
    /* without its NUL counted, the same text is not PEM */
    ap_anchor_iter_init(&it, (const uint8_t *)store, sizeof store - 1);
    assert_false(it.pem);
    ap_anchor_iter_init(&it, (const uint8_t *)cut, sizeof cut);
    assert_int_equal(ap_anchor_next(&it, &ref), AP_ANCHOR_NEXT_BAD);
}

/* ---- names ---- */

static int names_equal(const buf_t *a, const buf_t *b)
{
    return ap_anchor_name_equal(a->b, a->n, b->b, b->n);
}

static void test_name_rules(void **state)
{
    buf_t a;
    buf_t b;
    buf_t rdns = {{0}, 0};

    (void)state;
    name2(&a, PRINTABLE, "US", UTF8, "Acme Roots");
    name2(&b, PRINTABLE, "US", UTF8, "Acme Roots");
    assert_int_equal(names_equal(&a, &b), 1);
    /* PrintableString and UTF8String, ASCII case ignored: the same name */
    name2(&b, UTF8, "us", PRINTABLE, "ACME ROOTS");
    assert_int_equal(names_equal(&a, &b), 1);
    /* other string types: the same bytes and type only */
    name2(&a, PRINTABLE, "US", IA5, "acme");
    name2(&b, PRINTABLE, "US", IA5, "ACME");
    assert_int_equal(names_equal(&a, &b), 0);
    name2(&b, PRINTABLE, "US", UTF8, "acme");
    assert_int_equal(names_equal(&a, &b), 0);
    name2(&b, PRINTABLE, "US", IA5, "acme");
    assert_int_equal(names_equal(&a, &b), 1);
    /* only ASCII letters fold: UTF-8 e-acute against E-acute differ */
    name2(&a, PRINTABLE, "US", UTF8, "\xC3\xA9");
    name2(&b, PRINTABLE, "US", UTF8, "\xC3\x89");
    assert_int_equal(names_equal(&a, &b), 0);
    /* a different value length, a different order, one RDN more */
    name2(&a, PRINTABLE, "US", UTF8, "Acme");
    name2(&b, PRINTABLE, "US", UTF8, "Acme ");
    assert_int_equal(names_equal(&a, &b), 0);
    put_rdn(&rdns, O, UTF8, "Acme");
    put_rdn(&rdns, C, PRINTABLE, "US");
    b.n = 0;
    put_buf(&b, 0x30, &rdns);
    assert_int_equal(names_equal(&a, &b), 0);
    {
        /* one RDN more; and the same two attributes in one multi-valued RDN */
        buf_t longer = {{0}, 0};
        buf_t r2 = {{0}, 0};
        buf_t atavs = {{0}, 0};
        buf_t set = {{0}, 0};
        buf_t one = {{0}, 0};

        put_rdn(&r2, C, PRINTABLE, "US");
        put_rdn(&r2, O, UTF8, "Acme");
        put_rdn(&r2, CN, UTF8, "x");
        put_buf(&longer, 0x30, &r2);
        assert_int_equal(names_equal(&a, &longer), 0);
        assert_int_equal(names_equal(&longer, &a), 0);
        /* SET { C=US, O=Acme } against SET { C=US }, SET { O=Acme } */
        put_atav(&atavs, C, PRINTABLE, "US");
        put_atav(&atavs, O, UTF8, "Acme");
        put_buf(&set, 0x31, &atavs);
        put_buf(&one, 0x30, &set);
        assert_int_equal(names_equal(&a, &one), 0);
        assert_int_equal(names_equal(&one, &one), 1);
    }
    /* a name cut short cannot be judged */
    assert_int_equal(ap_anchor_name_equal(a.b, a.n - 1, b.b, b.n), -1);
    assert_int_equal(ap_anchor_name_equal(NULL, 0, b.b, b.n), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_shape),
        cmocka_unit_test(test_der_store),
        cmocka_unit_test(test_pem_store),
        cmocka_unit_test(test_name_rules),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
