/*
 * The lazily parsed trust store (core/src/tls/ap_tls_anchors.c) on a real
 * handshake: a Mbed TLS server on loopback (tls_test_harness.c) serving a
 * chain under one root of a store of many, given as PEM and as DER.
 *
 * What it asserts: the store finds the one root among decoys whose names
 * differ only in their last RDN, whether it comes first or last; a root
 * with the right subject and the wrong key does not verify, and the right
 * one after it still does; a root whose name matches only by Mbed TLS's
 * case and string-type rules is found; a store with no issuer refuses with
 * the words it always used, and names an anchor that had the issuer's name
 * but did not parse; a malformed certificate anywhere in the store
 * refuses ap_client_init(), naming its place; a self-signed server
 * certificate that is itself an anchor verifies, as Mbed TLS's chain
 * verification trusts it; the offline checker agrees. Every refusal leaves
 * the server without a request.
 *
 * usage: test_tls_anchors ANCHORS_DIR (tests/unit/tls/anchors_pki.py)
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertpost/alertpost.h"

#include "tls_test_harness.h"

#include "mbedtls/base64.h"

/* A store assembled from files of the anchors directory. */
typedef struct store {
    unsigned char *buf;
    size_t len;
} store_t;

static void store_add(store_t *s, const char *name)
{
    size_t len = 0;
    unsigned char *part = tls_test_read(name, &len);

    s->buf = realloc(s->buf, s->len + len);
    assert_non_null(s->buf);
    memcpy(s->buf + s->len, part, len - 1); /* without the NUL */
    s->len += len - 1;
    free(part);
}

/* Terminate a PEM store: the NUL counted, as the core wants PEM. */
static void store_pem_end(store_t *s)
{
    s->buf = realloc(s->buf, s->len + 1);
    assert_non_null(s->buf);
    s->buf[s->len++] = '\0';
}

/* The PEM store made a concatenation of DER certificates, with Mbed TLS's
 * base64 decoder (not the store's, and without parsing: a certificate
 * Mbed TLS cannot parse stays in). */
static void store_to_der(store_t *s)
{
    unsigned char *der = malloc(s->len);
    char *digits = malloc(s->len);
    const char *p = (const char *)s->buf;
    size_t n = 0;

    assert_non_null(der);
    assert_non_null(digits);
    while ((p = strstr(p, "-----BEGIN CERTIFICATE-----")) != NULL) {
        const char *end = strstr(p, "-----END CERTIFICATE-----");
        size_t k = 0;
        size_t got = 0;

        assert_non_null(end);
        for (p += 27; p < end; p++) {
            if (*p != '\n' && *p != '\r') {
                digits[k++] = *p;
            }
        }
        assert_int_equal(mbedtls_base64_decode(der + n, s->len - n, &got,
                                               (const unsigned char *)digits, k), 0);
        n += got;
    }
    free(digits);
    free(s->buf);
    s->buf = der;
    s->len = n;
}

static void store_free(store_t *s)
{
    free(s->buf);
    s->buf = NULL;
    s->len = 0;
}

/* A PEM store of the files named, in that order (NULL-terminated). */
static void store_pem(store_t *s, const char *const *names)
{
    memset(s, 0, sizeof(*s));
    for (; *names != NULL; names++) {
        store_add(s, *names);
    }
    store_pem_end(s);
}

/* One post to a server with chain, the store as the client's anchors. */
static ap_status_t post_with(const store_t *s, const char *chain, tls_test_seen_t *seen,
                             char *error, size_t error_size)
{
    tls_test_server_opts_t o = {0, NULL, chain, NULL, 0, 0};
    tls_test_server_t srv;
    tls_test_client_t cl;
    ap_status_t st;

    tls_test_server_start(&srv, &o);
    tls_test_client_config(&cl, srv.port);
    cl.cfg.ca_pem = s->buf;
    cl.cfg.ca_pem_len = s->len;
    st = tls_test_client_post(&cl);
    (void)snprintf(error, error_size, "%s", ap_client_error(&cl.c));
    tls_test_server_finish(&srv, seen);
    tls_test_client_done(&cl);
    return st;
}

static void expect_delivered(const store_t *s, const char *chain)
{
    tls_test_seen_t seen;
    char error[512];

    assert_int_equal(post_with(s, chain, &seen, error, sizeof error), AP_OK);
    assert_int_equal(seen.handshake, 0);
    assert_non_null(strstr(seen.request, "POST /glue HTTP/1.1\r\n"));
}

static void expect_untrusted(const store_t *s)
{
    tls_test_seen_t seen;
    char error[512];

    assert_int_equal(post_with(s, "chain.pem", &seen, error, sizeof error), AP_ERR_TLS_CERT);
    assert_non_null(strstr(error, "does not lead to a trusted root"));
    assert_string_equal(seen.request, "");
}

/* Both forms of the same store deliver (or refuse) alike. */
static void expect_delivered_pem_and_der(const char *const *names, const char *chain)
{
    store_t s;

    store_pem(&s, names);
    expect_delivered(&s, chain);
    store_to_der(&s);
    expect_delivered(&s, chain);
    store_free(&s);
}

static void test_one_root_among_many(void **state)
{
    static const char *const last[] = {"decoys.pem", "root.pem", NULL};
    static const char *const first[] = {"root.pem", "decoys.pem", NULL};

    (void)state;
    expect_delivered_pem_and_der(last, "chain.pem");
    expect_delivered_pem_and_der(first, "chain.pem");
}

static void test_no_issuer_in_the_store(void **state)
{
    static const char *const decoys[] = {"decoys.pem", NULL};
    static const char *const wrong_key[] = {"decoys.pem", "twin.pem", NULL};
    const char *const *cases[] = {decoys, wrong_key};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        store_t s;

        store_pem(&s, cases[i]);
        expect_untrusted(&s);
        store_to_der(&s);
        expect_untrusted(&s);
        store_free(&s);
    }
}

static void test_same_subject_other_key_first(void **state)
{
    static const char *const twins[] = {"twin.pem", "decoys.pem", "root.pem", NULL};

    (void)state;
    expect_delivered_pem_and_der(twins, "chain.pem");
}

static void test_name_matched_by_mbedtls_rules(void **state)
{
    /* casefold.pem: root.pem's key, its name in capitals and PrintableString */
    static const char *const names[] = {"decoys.pem", "casefold.pem", NULL};

    (void)state;
    expect_delivered_pem_and_der(names, "chain.pem");
}

static void test_issuer_that_does_not_parse_is_named(void **state)
{
    static const char *const alone[] = {"decoys.pem", "critical.pem", NULL};
    static const char *const with_root[] = {"critical.pem", "decoys.pem", "root.pem", NULL};
    tls_test_seen_t seen;
    char error[512];
    store_t s;

    (void)state;
    /* accepted at init (it frames), skipped when parsed, named in the refusal */
    store_pem(&s, alone);
    assert_int_equal(post_with(&s, "chain.pem", &seen, error, sizeof error), AP_ERR_TLS_CERT);
    assert_non_null(strstr(error, "does not lead to a trusted root"));
    assert_non_null(strstr(error, "Trust anchor 41 has the issuer's name but cannot be parsed"));
    assert_string_equal(seen.request, "");
    store_free(&s);
    /* the good root after it still verifies */
    expect_delivered_pem_and_der(with_root, "chain.pem");
}

static void test_self_signed_leaf_as_its_own_anchor(void **state)
{
    static const char *const names[] = {"decoys.pem", "selfsigned.pem", NULL};
    static const char *const without[] = {"decoys.pem", NULL};
    tls_test_seen_t seen;
    char error[512];
    store_t s;

    (void)state;
    expect_delivered_pem_and_der(names, "selfsigned.pem");
    store_pem(&s, without);
    assert_int_equal(post_with(&s, "selfsigned.pem", &seen, error, sizeof error),
                     AP_ERR_TLS_CERT);
    assert_string_equal(seen.request, "");
    store_free(&s);
}

/* ap_client_init() with the store: its status and error text. */
static ap_status_t init_with(const store_t *s, char *error, size_t error_size)
{
    tls_test_client_t cl;
    ap_status_t st;

    tls_test_client_config(&cl, 443);
    cl.cfg.ca_pem = s->buf;
    cl.cfg.ca_pem_len = s->len;
    st = ap_client_init(&cl.c, &cl.cfg);
    (void)snprintf(error, error_size, "%s", ap_client_error(&cl.c));
    tls_test_client_done(&cl);
    return st;
}

static void expect_refused_at_init(const store_t *s, const char *words)
{
    char error[512];

    assert_int_equal(init_with(s, error, sizeof error), AP_ERR_TLS_SETUP);
    if (strstr(error, words) == NULL) {
        print_error("error: %s\nexpected: %s\n", error, words);
    }
    assert_non_null(strstr(error, words));
}

/* Offset of the n-th (1-based) BEGIN line's base64 in a PEM store. */
static size_t nth_base64(const store_t *s, int n)
{
    const char *p = (const char *)s->buf;

    for (; n > 0; n--) {
        p = strstr(p, "-----BEGIN CERTIFICATE-----\n");
        assert_non_null(p);
        p += 28;
    }
    return (size_t)(p - (const char *)s->buf);
}

static void test_malformed_anchor_refused_at_init(void **state)
{
    static const char *const names[] = {"root.pem", "twin.pem", "decoys.pem", NULL};
    char error[512];
    store_t s;
    size_t at;
    size_t good_len;

    (void)state;
    store_pem(&s, names);
    assert_int_equal(init_with(&s, error, sizeof error), AP_OK);

    /* A character outside base64 in the second certificate. */
    at = nth_base64(&s, 2);
    s.buf[at + 5] = '!';
    expect_refused_at_init(&s, "certificate 2 of them is malformed");
    store_free(&s);

    /* A line of the third certificate's base64 missing: its length no
     * longer matches its DER, though every character is valid. */
    store_pem(&s, names);
    at = nth_base64(&s, 3) + 65 * 4;
    memmove(s.buf + at, s.buf + at + 65, s.len - at - 65);
    s.len -= 65;
    expect_refused_at_init(&s, "certificate 3 of them is malformed");
    store_free(&s);

    /* A BEGIN line without its END. */
    store_pem(&s, names);
    s.len--;
    store_add(&s, "root.pem");
    s.len -= 30; /* cuts "-----END CERTIFICATE-----\n" and a bit */
    store_pem_end(&s);
    expect_refused_at_init(&s, "is malformed");
    store_free(&s);

    /* DER: the last certificate cut short; then bytes after the last one. */
    store_pem(&s, names);
    store_to_der(&s);
    good_len = s.len;
    s.len -= 10;
    expect_refused_at_init(&s, "of them is malformed");
    s.len = good_len;
    s.buf = realloc(s.buf, s.len + 4);
    assert_non_null(s.buf);
    memcpy(s.buf + s.len, "\x30\x82\x01", 3);
    s.len += 3;
    expect_refused_at_init(&s, "certificate 43 of them is malformed");
    /* NUL padding after the last certificate is not a certificate: accepted */
    memset(s.buf + good_len, 0, 3);
    assert_int_equal(init_with(&s, error, sizeof error), AP_OK);
    store_free(&s);

    /* Nothing that is a certificate at all. */
    s.buf = (unsigned char *)strdup("no anchors here");
    assert_non_null(s.buf);
    s.len = strlen((const char *)s.buf) + 1;
    expect_refused_at_init(&s, "could not be used");
    store_free(&s);
}

/* ap_check_chain() with the store: the handshake's verification, offline. */
static ap_status_t check_with(const char *const *names, bool der, const char *chain_file)
{
    tls_test_client_t cl;
    size_t len = 0;
    unsigned char *chain = tls_test_read(chain_file, &len);
    store_t s;
    ap_status_t st;

    store_pem(&s, names);
    if (der) {
        store_to_der(&s);
    }
    tls_test_client_config(&cl, 443);
    cl.cfg.ca_pem = s.buf;
    cl.cfg.ca_pem_len = s.len;
    assert_int_equal(ap_client_init(&cl.c, &cl.cfg), AP_OK);
    st = ap_check_chain(&cl.c, chain, len);
    if (st != AP_OK) {
        assert_non_null(strstr(ap_client_error(&cl.c), "does not lead to a trusted root"));
    }
    tls_test_client_done(&cl);
    store_free(&s);
    free(chain);
    return st;
}

static void test_offline_checker_agrees(void **state)
{
    static const char *const good[] = {"decoys.pem", "twin.pem", "root.pem", NULL};
    static const char *const bad[] = {"decoys.pem", "twin.pem", NULL};

    (void)state;
    assert_int_equal(check_with(good, false, "chain.pem"), AP_OK);
    assert_int_equal(check_with(good, true, "chain.pem"), AP_OK);
    assert_int_equal(check_with(bad, false, "chain.pem"), AP_ERR_TLS_CERT);
    assert_int_equal(check_with(bad, true, "chain.pem"), AP_ERR_TLS_CERT);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_root_among_many),
        cmocka_unit_test(test_no_issuer_in_the_store),
        cmocka_unit_test(test_same_subject_other_key_first),
        cmocka_unit_test(test_name_matched_by_mbedtls_rules),
        cmocka_unit_test(test_issuer_that_does_not_parse_is_named),
        cmocka_unit_test(test_self_signed_leaf_as_its_own_anchor),
        cmocka_unit_test(test_malformed_anchor_refused_at_init),
        cmocka_unit_test(test_offline_checker_agrees),
    };

    if (argc != 2) {
        fprintf(stderr, "usage: %s ANCHORS_DIR\n", argv[0]);
        return 2;
    }
    tls_test_server_pki(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
