/*
 * The certificate rules (core/src/tls/ap_x509_rules.c) on certificates that
 * openssl made at test time (x509_pki.py), on the Mbed TLS line this binary
 * was built against: test_x509_rules_mbedtls3 and _mbedtls2 are this file.
 *
 * Each case builds the path the way the handshake does, with Mbed TLS's
 * verification under alertpost's profile and a verify callback that hands the
 * path to ap_x509_check_path() at depth 0, then asserts the verdict and the
 * words of the reason.
 *
 * usage: test_x509_rules PKI_DIR
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/ap_x509_rules.h"

static const char *g_pki;

typedef struct judged {
    const mbedtls_x509_crt *path[AP_X509_MAX_PATH];
    size_t len;
    const mbedtls_x509_crt *anchors;
    const char *host;
    ap_status_t st;
    uint32_t flags;
    char why[AP_X509_REASON_SIZE];
} judged_t;

static void pki_path(char *out, size_t size, const char *name)
{
    (void)snprintf(out, size, "%s/%s.pem", g_pki, name);
}

static void load_file(mbedtls_x509_crt *crt, const char *name)
{
    char path[512];

    pki_path(path, sizeof(path), name);
    assert_int_equal(mbedtls_x509_crt_parse_file(crt, path), 0);
}

/* The whole file, NUL-terminated (counted in *len, as PEM parsing wants). */
static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long n;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    (void)fclose(f);
    *len = (size_t)n + 1;
    return buf;
}

static void load_anchor(mbedtls_x509_crt *anchors, const char *name)
{
    char path[512];
    size_t len;
    unsigned char *pem;
    int failed = -1;

    pki_path(path, sizeof(path), name);
    pem = read_file(path, &len);
    assert_int_equal(ap_x509_load_anchors(anchors, pem, len, &failed), 1);
    assert_int_equal(failed, 0);
    free(pem);
}

/* The same steps as the glue's verify callback. */
static int collect(void *p, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    judged_t *j = p;

    assert_true(depth >= 0 && depth < AP_X509_MAX_PATH);
    j->path[depth] = crt;
    if ((size_t)depth + 1 > j->len) {
        j->len = (size_t)depth + 1;
    }
    if (depth == 0) {
        j->st = ap_x509_check_path(j->path, j->len, j->anchors, j->host, NULL, j->why,
                                   sizeof(j->why));
    }
    (void)flags;
    return 0;
}

/* Verify leaf (+ intermediate) against anchor for host. */
static void judge(judged_t *j, const char *leaf, const char *inter, const char *anchor,
                  const char *host)
{
    mbedtls_x509_crt chain;
    mbedtls_x509_crt anchors;

    memset(j, 0, sizeof(*j));
    j->st = AP_ERR_BAD_ARG; /* stays so if the callback never reached the leaf */
    j->host = host;
    mbedtls_x509_crt_init(&chain);
    mbedtls_x509_crt_init(&anchors);
    load_file(&chain, leaf);
    if (inter != NULL) {
        load_file(&chain, inter);
    }
    load_anchor(&anchors, anchor);
    j->anchors = &anchors;
    (void)mbedtls_x509_crt_verify_with_profile(&chain, &anchors, NULL, ap_x509_profile(), NULL,
                                               &j->flags, collect, j);
    mbedtls_x509_crt_free(&chain);
    mbedtls_x509_crt_free(&anchors);
}

static void expect_ok(const char *leaf, const char *inter, const char *anchor, const char *host)
{
    judged_t j;

    judge(&j, leaf, inter, anchor, host);
    if (j.st != AP_OK || j.flags != 0) {
        print_error("%s for %s: status %d flags 0x%x: %s\n", leaf, host, j.st,
                    (unsigned)j.flags, j.why);
    }
    assert_int_equal(j.flags, 0);
    assert_int_equal(j.st, AP_OK);
}

static void expect_refused(const char *leaf, const char *inter, const char *anchor,
                           const char *host, const char *words)
{
    judged_t j;

    judge(&j, leaf, inter, anchor, host);
    assert_int_equal(j.flags, 0); /* the chain itself verified: the rule refused */
    assert_int_equal(j.st, AP_ERR_TLS_CERT);
    if (strstr(j.why, words) == NULL) {
        print_error("%s for %s: reason \"%s\" lacks \"%s\"\n", leaf, host, j.why, words);
        fail();
    }
}

static void test_names_are_subject_alt_names_only(void **state)
{
    (void)state;
    expect_ok("good", "inter", "root", "localhost");
    expect_ok("good", "inter", "root", "127.0.0.1");
    expect_ok("good", "inter", "root", "::1");
    expect_ok("good", "inter", "root", "0:0:0:0:0:0:0:1");
    expect_refused("good", "inter", "root", "127.0.0.2", "is not for 127.0.0.2: it has no iPAddress SAN");
    expect_refused("good", "inter", "root", "other.test", "is not for other.test: it has no DNS SAN");
    expect_refused("nosan", "inter", "root", "localhost", "no subjectAltName");
    expect_refused("nosan", "inter", "root", "localhost", "no common-name fallback");
    expect_refused("dns-for-ip", "inter", "root", "127.0.0.1", "as a DNS name, not as an IP");
}

static void test_wildcards(void **state)
{
    (void)state;
    expect_ok("wild", "inter", "root", "a.example.test");
    expect_refused("wild", "inter", "root", "a.b.example.test", "no DNS SAN");
    expect_refused("wild", "inter", "root", "example.test", "no DNS SAN");
    expect_refused("wild-couk", "inter", "root", "shop.co.uk", "public suffix");
    expect_refused("wild-com", "inter", "root", "example.com", "public suffix");
    expect_refused("wild-partial", "inter", "root", "foo.example.test", "no DNS SAN");
}

static void test_leaf_usage(void **state)
{
    (void)state;
    expect_refused("ca-leaf", "inter", "root", "localhost", "is a CA (basicConstraints CA:TRUE)");
    expect_refused("keycertsign", "inter", "root", "localhost", "keyCertSign");
    expect_refused("eku-client", "inter", "root", "localhost", "without serverAuth");
    expect_refused("eku-any", "inter", "root", "localhost", "anyExtendedKeyUsage alone");
    /* Documented: no EKU means any purpose (private PKIs), as in Go and webpki. */
    expect_ok("no-eku", "inter", "root", "localhost");
}

static void test_version_1_only_as_anchor(void **state)
{
    (void)state;
    expect_ok("good-v1-root", NULL, "root-v1", "localhost");
    expect_refused("v1-leaf", "inter", "root", "localhost", "version 1 or 2");
}

static void test_name_constraints_of_intermediates(void **state)
{
    (void)state;
    expect_ok("nc-ok", "inter-nc", "root", "host.allowed.example.test");
    /* The case: non-critical constraints that Mbed TLS ignores. */
    expect_refused("nc-bad", "inter-nc", "root", "localhost", "does not permit localhost");
    /* Every name of the leaf is judged, not only the one that matched. */
    expect_refused("excl-ip", "inter-excl", "root", "localhost", "excludes 127.0.0.1");
    expect_refused("excl-ip", "inter-excl", "root", "127.0.0.1", "excludes 127.0.0.1");
    /* *.example.test would cover the excluded bad.example.test. */
    expect_refused("excl-wild", "inter-excl", "root", "a.example.test", "excludes *.example.test");
}

static void test_name_constraints_of_the_anchor(void **state)
{
    (void)state;
    expect_ok("anchor-nc-ok", NULL, "root-nc", "x.allowed.example.test");
    expect_ok("anchor-nc-ok", NULL, "root-nc", "10.1.2.3");
    expect_refused("anchor-nc-bad", NULL, "root-nc", "localhost", "does not permit localhost");
    expect_refused("anchor-nc-ip", NULL, "root-nc", "x.allowed.example.test",
                   "does not permit 127.0.0.1");
}

static void test_anchor_with_critical_constraints_loads(void **state)
{
    mbedtls_x509_crt plain;
    char path[512];

    (void)state;
    /* Mbed TLS alone refuses it; ap_x509_load_anchors (load_anchor) takes it. */
    mbedtls_x509_crt_init(&plain);
    pki_path(path, sizeof(path), "root-nc");
    assert_int_not_equal(mbedtls_x509_crt_parse_file(&plain, path), 0);
    mbedtls_x509_crt_free(&plain);
    expect_ok("anchor-nc-ok", NULL, "root-nc", "x.allowed.example.test");
}

static void test_anchor_bundle_counts_failures(void **state)
{
    static const char junk[] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    mbedtls_x509_crt anchors;
    char path[512];
    unsigned char *root;
    unsigned char *bundle;
    size_t len;
    int failed = -1;

    (void)state;
    pki_path(path, sizeof(path), "root");
    root = read_file(path, &len);
    bundle = malloc(len + sizeof(junk));
    assert_non_null(bundle);
    memcpy(bundle, junk, sizeof(junk) - 1);
    memcpy(bundle + sizeof(junk) - 1, root, len);
    mbedtls_x509_crt_init(&anchors);
    assert_int_equal(ap_x509_load_anchors(&anchors, bundle, len + sizeof(junk) - 1, &failed), 1);
    assert_int_equal(failed, 1);
    assert_int_equal(anchors.version, 3);
    mbedtls_x509_crt_free(&anchors);
    free(bundle);
    free(root);
}

static void test_server_sent_critical_constraints_do_not_parse(void **state)
{
    mbedtls_x509_crt crt;
    char path[512];

    (void)state;
    /* What the handshake then reports as an unparsable certificate (exit 5). */
    mbedtls_x509_crt_init(&crt);
    pki_path(path, sizeof(path), "inter-nc-crit");
    assert_int_not_equal(mbedtls_x509_crt_parse_file(&crt, path), 0);
    mbedtls_x509_crt_free(&crt);
}

static int accept_every_extension(void *ctx, mbedtls_x509_crt const *crt,
                                  mbedtls_x509_buf const *oid, int critical,
                                  const unsigned char *p, const unsigned char *end)
{
    (void)ctx;
    (void)crt;
    (void)oid;
    (void)critical;
    (void)p;
    (void)end;
    return 0;
}

static void test_critical_unknown_extension(void **state)
{
    mbedtls_x509_crt crt;
    const mbedtls_x509_crt *path[1];
    char file[512];
    char why[AP_X509_REASON_SIZE];
    unsigned char *der;
    size_t len;

    (void)state;
    mbedtls_x509_crt_init(&crt);
    pki_path(file, sizeof(file), "crit-unknown");
    assert_int_not_equal(mbedtls_x509_crt_parse_file(&crt, file), 0);
    mbedtls_x509_crt_free(&crt);

    /* Even where a parser let it through, the rules refuse it. */
    (void)snprintf(file, sizeof(file), "%s/crit-unknown.der", g_pki);
    der = read_file(file, &len);
    mbedtls_x509_crt_init(&crt);
    assert_int_equal(mbedtls_x509_crt_parse_der_with_ext_cb(&crt, der, len - 1, 1,
                                                            accept_every_extension, NULL), 0);
    path[0] = &crt;
    assert_int_equal(ap_x509_check_path(path, 1, NULL, "localhost", NULL, why, sizeof(why)),
                     AP_ERR_TLS_CERT);
    assert_non_null(strstr(why, "unknown critical extension"));
    mbedtls_x509_crt_free(&crt);
    free(der);

    /* The anchor callback accepts nameConstraints only. */
    assert_int_not_equal(ap_x509_anchor_ext_cb(NULL, NULL, NULL, 1, NULL, NULL), 0);
    assert_int_equal(ap_x509_anchor_ext_cb(NULL, NULL, NULL, 0, NULL, NULL), 0);
}

static void expect_flags(const char *leaf, uint32_t flag)
{
    judged_t j;

    judge(&j, leaf, "inter", "root", "localhost");
    if ((j.flags & flag) == 0) {
        print_error("%s: flags 0x%x lack 0x%x\n", leaf, (unsigned)j.flags, (unsigned)flag);
        fail();
    }
}

static void test_profile(void **state)
{
    (void)state;
    expect_ok("rsa-good", "inter", "root", "localhost");
    expect_ok("p384", "inter", "root", "localhost");
    expect_flags("rsa1024", MBEDTLS_X509_BADCERT_BAD_KEY);
    expect_flags("sha1", MBEDTLS_X509_BADCERT_BAD_MD);
}

static void test_bad_arguments(void **state)
{
    char why[8];
    const mbedtls_x509_crt *path[1] = {NULL};

    (void)state;
    assert_int_equal(ap_x509_check_path(NULL, 1, NULL, "h", NULL, why, sizeof(why)),
                     AP_ERR_BAD_ARG);
    assert_int_equal(ap_x509_check_path(path, 1, NULL, "h", NULL, why, sizeof(why)),
                     AP_ERR_BAD_ARG);
    assert_int_equal(ap_x509_check_path(path, 0, NULL, "h", NULL, why, sizeof(why)),
                     AP_ERR_BAD_ARG);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_are_subject_alt_names_only),
        cmocka_unit_test(test_wildcards),
        cmocka_unit_test(test_leaf_usage),
        cmocka_unit_test(test_version_1_only_as_anchor),
        cmocka_unit_test(test_name_constraints_of_intermediates),
        cmocka_unit_test(test_name_constraints_of_the_anchor),
        cmocka_unit_test(test_anchor_with_critical_constraints_loads),
        cmocka_unit_test(test_anchor_bundle_counts_failures),
        cmocka_unit_test(test_server_sent_critical_constraints_do_not_parse),
        cmocka_unit_test(test_critical_unknown_extension),
        cmocka_unit_test(test_profile),
        cmocka_unit_test(test_bad_arguments),
    };

    if (argc != 2) {
        fprintf(stderr, "usage: %s PKI_DIR\n", argv[0]);
        return 2;
    }
    g_pki = argv[1];
#if MBEDTLS_VERSION_MAJOR >= 3 && defined(MBEDTLS_PSA_CRYPTO_C)
    if (psa_crypto_init() != PSA_SUCCESS) {
        return 2;
    }
#endif
    return cmocka_run_group_tests(tests, NULL, NULL);
}
