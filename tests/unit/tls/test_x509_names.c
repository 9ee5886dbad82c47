/*
 * The pure halves of the certificate rules, on DER built here byte by byte:
 * the DER reader's bounds, host parsing, public suffixes, host matching and
 * name constraints (core/src/tls/ap_der.c, ap_x509_names.c, ap_x509_ext.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "tls/ap_der.h"
#include "tls/ap_x509_ext.h"
#include "tls/ap_x509_names.h"

/* ---- a tiny DER writer for the tests ---- */

typedef struct buf {
    uint8_t b[512];
    size_t n;
} buf_t;

static void put_tlv(buf_t *out, uint8_t tag, const void *v, size_t len)
{
    assert_true(len < 256 && out->n + len + 3 <= sizeof(out->b));
    out->b[out->n++] = tag;
    if (len >= 0x80) {
        out->b[out->n++] = 0x81;
    }
    out->b[out->n++] = (uint8_t)len;
    if (len > 0) {
        memcpy(&out->b[out->n], v, len);
    }
    out->n += len;
}

static void put_dns(buf_t *out, uint8_t tag, const char *name)
{
    put_tlv(out, tag, name, strlen(name));
}

/* SEQUENCE { inner } */
static void wrap(buf_t *out, uint8_t tag, const buf_t *inner)
{
    put_tlv(out, tag, inner->b, inner->n);
}

/* A subjectAltName value with the names already in *names. */
static void san_of(ap_x509_exts_t *e, buf_t *value, const buf_t *names)
{
    memset(value, 0, sizeof(*value));
    wrap(value, AP_DER_SEQUENCE, names);
    memset(e, 0, sizeof(*e));
    assert_int_equal(ap_x509_san_parse(value->b, value->n, e), AP_X509_EXT_OK);
}

/* A GeneralSubtree around one base name. */
static void subtree(buf_t *list, uint8_t tag, const void *v, size_t len)
{
    buf_t one = {{0}, 0};

    put_tlv(&one, tag, v, len);
    wrap(list, AP_DER_SEQUENCE, &one);
}

static void nc_of(ap_x509_exts_t *e, buf_t *value, const buf_t *permitted, const buf_t *excluded)
{
    buf_t inner = {{0}, 0};

    if (permitted != NULL) {
        wrap(&inner, 0xA0, permitted);
    }
    if (excluded != NULL) {
        wrap(&inner, 0xA1, excluded);
    }
    memset(value, 0, sizeof(*value));
    wrap(value, AP_DER_SEQUENCE, &inner);
    memset(e, 0, sizeof(*e));
    assert_int_equal(ap_x509_nc_parse(value->b, value->n, e), AP_X509_EXT_OK);
}

/* ---- the DER reader ---- */

static void test_der_lengths_are_bounded_and_minimal(void **state)
{
    static const uint8_t short_form[] = {0x04, 0x02, 0xAA, 0xBB};
    static const uint8_t long_form[] = {0x04, 0x81, 0x80};
    static const uint8_t not_minimal[] = {0x04, 0x81, 0x02, 0xAA, 0xBB};
    static const uint8_t leading_zero[] = {0x04, 0x82, 0x00, 0x80};
    static const uint8_t indefinite[] = {0x30, 0x80, 0x00, 0x00};
    static const uint8_t too_long[] = {0x04, 0x05, 0xAA};
    static const uint8_t huge[] = {0x04, 0x84, 0xFF, 0xFF, 0xFF, 0xFF, 0x00};
    static const uint8_t multi_tag[] = {0x1F, 0x81, 0x01, 0x00};
    ap_der_t d;
    ap_der_t v;
    uint8_t tag;

    (void)state;
    d = ap_der_span(short_form, sizeof(short_form));
    assert_true(ap_der_next(&d, &tag, &v));
    assert_int_equal(tag, 0x04);
    assert_int_equal(ap_der_left(&v), 2);
    assert_int_equal(ap_der_left(&d), 0);

    d = ap_der_span(long_form, sizeof(long_form));
    assert_false(ap_der_next(&d, &tag, &v)); /* says 128 bytes, has none */
    assert_ptr_equal(d.p, long_form);        /* and nothing moved */

    d = ap_der_span(not_minimal, sizeof(not_minimal));
    assert_false(ap_der_next(&d, &tag, &v));
    d = ap_der_span(leading_zero, sizeof(leading_zero));
    assert_false(ap_der_next(&d, &tag, &v));
    d = ap_der_span(indefinite, sizeof(indefinite));
    assert_false(ap_der_next(&d, &tag, &v));
    d = ap_der_span(too_long, sizeof(too_long));
    assert_false(ap_der_next(&d, &tag, &v));
    d = ap_der_span(huge, sizeof(huge));
    assert_false(ap_der_next(&d, &tag, &v));
    d = ap_der_span(multi_tag, sizeof(multi_tag));
    assert_false(ap_der_next(&d, &tag, &v));
}

static void test_der_expect_moves_only_on_a_match(void **state)
{
    static const uint8_t two[] = {0xA1, 0x01, 0x00, 0xA0, 0x00};
    ap_der_t d = ap_der_span(two, sizeof(two));
    ap_der_t v = ap_der_span(NULL, 0);

    (void)state;
    assert_false(ap_der_expect(&d, 0xA0, &v));
    assert_ptr_equal(d.p, two);
    assert_null(v.p); /* untouched: a later use of it cannot see the wrong element */
    assert_true(ap_der_expect(&d, 0xA1, &v));
    assert_int_equal(ap_der_left(&v), 1);
    assert_true(ap_der_expect(&d, 0xA0, &v));
    assert_int_equal(ap_der_left(&d), 0);
}

/* ---- hosts ---- */

static void test_host_parsing(void **state)
{
    static const uint8_t v6_one[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static const uint8_t v6_doc[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                       0, 0, 0, 0, 0, 0, 0x12, 0x34};
    static const uint8_t v6_mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    static const char *const bad_ips[] = {"1:2:3:4:5:6:7:8:9", ":::", "1::2::3", "1:", ":1",
                                          "12345::", "::1.2.3", "g::1"};
    ap_x509_host_t h;
    size_t i;

    (void)state;
    assert_true(ap_x509_host_parse("192.0.2.1", &h));
    assert_true(h.is_ip);
    assert_int_equal(h.ip_len, 4);
    assert_int_equal(h.ip[0], 192);
    assert_int_equal(h.ip[3], 1);
    assert_true(ap_x509_host_parse("::1", &h));
    assert_int_equal(h.ip_len, 16);
    assert_memory_equal(h.ip, v6_one, 16);
    assert_true(ap_x509_host_parse("2001:DB8::1234", &h));
    assert_memory_equal(h.ip, v6_doc, 16);
    assert_true(ap_x509_host_parse("::ffff:192.0.2.1", &h));
    assert_memory_equal(h.ip, v6_mapped, 16);
    assert_true(ap_x509_host_parse("0:0:0:0:0:0:0:1", &h));
    assert_memory_equal(h.ip, v6_one, 16);
    for (i = 0; i < sizeof(bad_ips) / sizeof(bad_ips[0]); i++) {
        assert_false(ap_x509_host_parse(bad_ips[i], &h));
    }
    /* Not an address: a DNS name, even when it looks numeric. */
    assert_true(ap_x509_host_parse("256.1.1.1", &h));
    assert_false(h.is_ip);
    assert_true(ap_x509_host_parse("1.2.3", &h));
    assert_false(h.is_ip);
    assert_true(ap_x509_host_parse("example.test.", &h));
    assert_int_equal(h.dns_len, strlen("example.test"));
    assert_false(ap_x509_host_parse("", &h));
}

static void test_public_suffixes(void **state)
{
    static const char list[] = "// comment\n\ncom\nco.uk\n*.ck\n!www.ck\nfoo.bar trailing words\r\n";
    ap_x509_psl_t psl = {list, sizeof(list) - 1};

    (void)state;
    assert_true(ap_x509_is_public_suffix("com", 3, NULL));
    assert_true(ap_x509_is_public_suffix("anything", 8, NULL));
    assert_true(ap_x509_is_public_suffix("co.uk", 5, NULL));
    assert_true(ap_x509_is_public_suffix("CO.UK", 5, NULL));
    assert_false(ap_x509_is_public_suffix("example.com", 11, NULL));
    assert_false(ap_x509_is_public_suffix("foo.bar", 7, NULL));
    assert_true(ap_x509_is_public_suffix("foo.bar", 7, &psl));
    assert_true(ap_x509_is_public_suffix("any.ck", 6, &psl));
    assert_false(ap_x509_is_public_suffix("www.ck", 6, &psl));
    assert_false(ap_x509_is_public_suffix("a.any.ck", 8, &psl));
    assert_false(ap_x509_is_public_suffix("comment", 7, &psl) &&
                 ap_x509_is_public_suffix("x.comment", 9, &psl));
}

static ap_x509_match_t match(const buf_t *names, const char *host, const ap_x509_psl_t *psl)
{
    ap_x509_exts_t e;
    ap_x509_host_t h;
    buf_t value;

    san_of(&e, &value, names);
    assert_true(ap_x509_host_parse(host, &h));
    return ap_x509_match_host(&e.san, &h, psl);
}

static void test_host_matching(void **state)
{
    static const uint8_t lo[4] = {127, 0, 0, 1};
    static const char list[] = "example.test\n";
    ap_x509_psl_t psl = {list, sizeof(list) - 1};
    buf_t names = {{0}, 0};

    (void)state;
    put_dns(&names, 0x82, "Host.Example.Test");
    put_dns(&names, 0x82, "*.wild.example.test");
    put_dns(&names, 0x82, "*.co.uk");
    put_dns(&names, 0x82, "127.0.0.2");
    put_dns(&names, 0x82, "f*.part.example.test");
    put_tlv(&names, 0x87, lo, sizeof(lo));
    put_dns(&names, 0x81, "mail@example.test");

    assert_int_equal(match(&names, "host.example.test", NULL), AP_X509_MATCH);
    assert_int_equal(match(&names, "a.wild.example.test", NULL), AP_X509_MATCH);
    assert_int_equal(match(&names, "wild.example.test", NULL), AP_X509_NO_MATCH);
    assert_int_equal(match(&names, "a.b.wild.example.test", NULL), AP_X509_NO_MATCH);
    assert_int_equal(match(&names, "x.co.uk", NULL), AP_X509_MATCH_WILDCARD_PUBLIC_SUFFIX);
    assert_int_equal(match(&names, "foo.part.example.test", NULL), AP_X509_NO_MATCH);
    assert_int_equal(match(&names, "127.0.0.1", NULL), AP_X509_MATCH);
    assert_int_equal(match(&names, "127.0.0.2", NULL), AP_X509_MATCH_DNS_FOR_IP);
    assert_int_equal(match(&names, "::ffff:127.0.0.1", NULL), AP_X509_NO_MATCH);
    assert_int_equal(match(&names, "example.test", NULL), AP_X509_NO_MATCH);

    /* A list-supplied suffix refuses a wildcard directly above it. */
    memset(&names, 0, sizeof(names));
    put_dns(&names, 0x82, "*.example.test");
    assert_int_equal(match(&names, "a.example.test", NULL), AP_X509_MATCH);
    assert_int_equal(match(&names, "a.example.test", &psl), AP_X509_MATCH_WILDCARD_PUBLIC_SUFFIX);
}

static bool by_wildcard(const buf_t *names, const char *host)
{
    ap_x509_exts_t e;
    ap_x509_host_t h;
    buf_t value;

    san_of(&e, &value, names);
    assert_true(ap_x509_host_parse(host, &h));
    return ap_x509_match_by_wildcard(&e.san, &h);
}

/* Only a host matched through a wildcard depends on the suffix list. */
static void test_match_by_wildcard(void **state)
{
    static const uint8_t lo[4] = {127, 0, 0, 1};
    buf_t names = {{0}, 0};

    (void)state;
    put_dns(&names, 0x82, "*.example.test");
    put_dns(&names, 0x82, "listed.example.test");
    put_dns(&names, 0x82, "*.co.uk");
    put_tlv(&names, 0x87, lo, sizeof(lo));

    assert_true(by_wildcard(&names, "a.example.test"));
    assert_true(by_wildcard(&names, "x.co.uk")); /* refused, but by the list's say */
    assert_false(by_wildcard(&names, "listed.example.test")); /* listed, and matched */
    assert_false(by_wildcard(&names, "LISTED.example.test"));
    assert_false(by_wildcard(&names, "a.b.example.test"));    /* no match at all */
    assert_false(by_wildcard(&names, "127.0.0.1"));
}

static void test_san_parsing_refuses_bad_names(void **state)
{
    static const uint8_t five[5] = {1, 2, 3, 4, 5};
    ap_x509_exts_t e;
    buf_t names = {{0}, 0};
    buf_t value = {{0}, 0};

    (void)state;
    put_tlv(&names, 0x87, five, sizeof(five)); /* an address of 5 bytes */
    wrap(&value, AP_DER_SEQUENCE, &names);
    assert_int_equal(ap_x509_san_parse(value.b, value.n, &e), AP_X509_EXT_BAD_SAN);

    memset(&names, 0, sizeof(names));
    memset(&value, 0, sizeof(value));
    put_dns(&names, 0x82, "sp ace.test"); /* outside IA5 graphic characters */
    wrap(&value, AP_DER_SEQUENCE, &names);
    assert_int_equal(ap_x509_san_parse(value.b, value.n, &e), AP_X509_EXT_BAD_SAN);

    memset(&value, 0, sizeof(value));
    put_tlv(&value, AP_DER_SEQUENCE, NULL, 0); /* no names at all */
    assert_int_equal(ap_x509_san_parse(value.b, value.n, &e), AP_X509_EXT_BAD_SAN);
}

/* ---- name constraints ---- */

static ap_x509_nc_result_t judge(const ap_x509_exts_t *ca, const buf_t *leaf_names)
{
    ap_x509_exts_t leaf;
    buf_t value;
    unsigned kind;
    ap_der_t bad;

    san_of(&leaf, &value, leaf_names);
    return ap_x509_nc_check(ca, &leaf.san, &kind, &bad);
}

static void test_dns_constraints(void **state)
{
    ap_x509_exts_t ca;
    buf_t value;
    buf_t permitted = {{0}, 0};
    buf_t a = {{0}, 0};
    buf_t b = {{0}, 0};
    buf_t c = {{0}, 0};
    buf_t d = {{0}, 0};

    (void)state;
    subtree(&permitted, 0x82, ".sub.test", 9);   /* only names under sub.test */
    subtree(&permitted, 0x82, "whole.test", 10); /* whole.test and under */
    nc_of(&ca, &value, &permitted, NULL);

    put_dns(&a, 0x82, "x.sub.test");
    put_dns(&a, 0x82, "whole.test");
    put_dns(&a, 0x82, "deep.x.WHOLE.test");
    assert_int_equal(judge(&ca, &a), AP_X509_NC_OK);
    put_dns(&b, 0x82, "sub.test");
    assert_int_equal(judge(&ca, &b), AP_X509_NC_NOT_PERMITTED);
    put_dns(&c, 0x82, "notwhole.test"); /* a suffix, but not at a label boundary */
    assert_int_equal(judge(&ca, &c), AP_X509_NC_NOT_PERMITTED);
    /* DNS constraints say nothing about addresses. */
    put_tlv(&d, 0x87, "\x0a\x00\x00\x01", 4);
    assert_int_equal(judge(&ca, &d), AP_X509_NC_OK);
}

static void test_excluded_and_wildcards(void **state)
{
    ap_x509_exts_t ca;
    buf_t value;
    buf_t excluded = {{0}, 0};
    buf_t a = {{0}, 0};
    buf_t b = {{0}, 0};
    buf_t c = {{0}, 0};

    (void)state;
    subtree(&excluded, 0x82, "bad.example.test", 16);
    subtree(&excluded, 0x82, ".deep.other.test", 16);
    nc_of(&ca, &value, NULL, &excluded);

    put_dns(&a, 0x82, "*.example.test"); /* would cover bad.example.test */
    assert_int_equal(judge(&ca, &a), AP_X509_NC_EXCLUDED);
    put_dns(&b, 0x82, "*.other.test"); /* covers deep.other.test, not names under it */
    put_dns(&b, 0x82, "good.example.test");
    assert_int_equal(judge(&ca, &b), AP_X509_NC_OK);
    put_dns(&c, 0x82, "x.bad.example.test");
    assert_int_equal(judge(&ca, &c), AP_X509_NC_EXCLUDED);
}

static void test_ip_constraints(void **state)
{
    static const uint8_t net10[8] = {10, 0, 0, 0, 255, 0, 0, 0};
    static const uint8_t v6doc[32] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                      0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t holes[8] = {10, 0, 0, 0, 255, 0, 255, 0};
    ap_x509_exts_t ca;
    buf_t value;
    buf_t permitted = {{0}, 0};
    buf_t in = {{0}, 0};
    buf_t out = {{0}, 0};
    buf_t v6in = {{0}, 0};
    buf_t bad = {{0}, 0};
    buf_t inner = {{0}, 0};

    (void)state;
    subtree(&permitted, 0x87, net10, sizeof(net10));
    subtree(&permitted, 0x87, v6doc, sizeof(v6doc));
    nc_of(&ca, &value, &permitted, NULL);
    put_tlv(&in, 0x87, "\x0a\x01\x02\x03", 4);
    assert_int_equal(judge(&ca, &in), AP_X509_NC_OK);
    put_tlv(&out, 0x87, "\x7f\x00\x00\x01", 4);
    assert_int_equal(judge(&ca, &out), AP_X509_NC_NOT_PERMITTED);
    put_tlv(&v6in, 0x87, "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01", 16);
    assert_int_equal(judge(&ca, &v6in), AP_X509_NC_OK);

    /* A mask with holes is no CIDR prefix: the extension is refused. */
    subtree(&bad, 0x87, holes, sizeof(holes));
    wrap(&inner, 0xA0, &bad);
    memset(&value, 0, sizeof(value));
    wrap(&value, AP_DER_SEQUENCE, &inner);
    assert_int_equal(ap_x509_nc_parse(value.b, value.n, &ca), AP_X509_EXT_BAD_NAME_CONSTRAINTS);
}

static void test_constraint_types_not_checked(void **state)
{
    ap_x509_exts_t ca;
    buf_t value;
    buf_t permitted = {{0}, 0};
    buf_t with_mail = {{0}, 0};
    buf_t without = {{0}, 0};
    buf_t empty = {{0}, 0};

    (void)state;
    subtree(&permitted, 0x81, "example.test", 12); /* rfc822Name */
    nc_of(&ca, &value, &permitted, NULL);
    put_dns(&with_mail, 0x81, "a@example.test");
    assert_int_equal(judge(&ca, &with_mail), AP_X509_NC_UNCHECKABLE);
    put_dns(&without, 0x82, "host.test");
    assert_int_equal(judge(&ca, &without), AP_X509_NC_OK);

    /* RFC 5280: at least one of permitted and excluded. */
    memset(&value, 0, sizeof(value));
    wrap(&value, AP_DER_SEQUENCE, &empty);
    assert_int_equal(ap_x509_nc_parse(value.b, value.n, &ca), AP_X509_EXT_BAD_NAME_CONSTRAINTS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_der_lengths_are_bounded_and_minimal),
        cmocka_unit_test(test_der_expect_moves_only_on_a_match),
        cmocka_unit_test(test_host_parsing),
        cmocka_unit_test(test_public_suffixes),
        cmocka_unit_test(test_host_matching),
        cmocka_unit_test(test_match_by_wildcard),
        cmocka_unit_test(test_san_parsing_refuses_bad_names),
        cmocka_unit_test(test_dns_constraints),
        cmocka_unit_test(test_excluded_and_wildcards),
        cmocka_unit_test(test_ip_constraints),
        cmocka_unit_test(test_constraint_types_not_checked),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
