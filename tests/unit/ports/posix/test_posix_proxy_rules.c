/*
 * The proxy URL parser and the no_proxy rules: pure functions, checked
 * against tables of curl's behaviour, every refusal with its own reason.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "alertpost/ap_posix_proxy.h"

/* ---- no_proxy ---------------------------------------------------------- */

typedef struct {
    const char *no_proxy;
    const char *host;
    bool bypassed;
} bypass_case_t;

static const bypass_case_t bypass_cases[] = {
    /* nothing set */
    { NULL, "example.com", false },
    { "", "example.com", false },
    { " , ,", "example.com", false },
    { "example.com", NULL, false },
    { "example.com", "", false },
    /* '*' */
    { "*", "example.com", true },
    { "*", "127.0.0.1", true },
    { "*", "::1", true },
    { " * ", "example.com", true },
    { "localhost,*", "example.com", true },
    { "*.example.com", "www.example.com", false }, /* not a glob, as in curl */
    /* names: exact and domain suffix on a label boundary */
    { "example.com", "example.com", true },
    { "example.com", "www.example.com", true },
    { "example.com", "a.b.example.com", true },
    { "example.com", "badexample.com", false },
    { "example.com", "example.com.evil.net", false },
    { "example.com", "com", false },
    { ".example.com", "example.com", true },
    { ".example.com", "www.example.com", true },
    { ".example.com", "badexample.com", false },
    { "www.example.com", "example.com", false },
    /* case and trailing dots */
    { "EXAMPLE.com", "www.Example.COM", true },
    { "example.com.", "www.example.com", true },
    { "example.com", "www.example.com.", true },
    { ".", "example.com", false },
    /* lists and blanks */
    { "a.test,example.com", "example.com", true },
    { "a.test, example.com ", "x.example.com", true },
    { "\texample.com\t,b.test", "example.com", true },
    { "a.test,,b.test", "b.test", true },
    { "a.test,b.test", "c.test", false },
    { "a.test b.test", "b.test", false }, /* blanks do not separate entries */
    /* IPv4 literal, exact and CIDR */
    { "127.0.0.1", "127.0.0.1", true },
    { "127.0.0.1", "127.0.0.2", false },
    { "127.0.0.0/8", "127.1.2.3", true },
    { "10.0.0.0/8", "11.0.0.1", false },
    { "192.168.1.0/24", "192.168.1.200", true },
    { "192.168.1.0/24", "192.168.2.1", false },
    { "192.168.1.128/25", "192.168.1.127", false },
    { "0.0.0.0/0", "8.8.8.8", true },
    { "10.0.0.1/33", "10.0.0.1", false },
    { "10.0.0.1/", "10.0.0.1", false },
    { "10.0.0.1/x", "10.0.0.1", false },
    /* addresses are never suffixes of each other, nor names */
    { "0.0.1", "127.0.0.1", false },
    { "localhost", "127.0.0.1", false },
    { "127.0.0.1", "localhost", false },
    /* IPv6, with or without brackets on either side */
    { "::1", "::1", true },
    { "[::1]", "::1", true },
    { "::1", "[::1]", true },
    { "::1", "::2", false },
    { "0:0:0:0:0:0:0:1", "::1", true },
    { "fd00::/8", "fd12:3456::1", true },
    { "fd00::/8", "fe80::1", false },
    { "[fd00::]/32", "fd00:1::1", false },
    { "[fd00::]/16", "fd00::9", true },
    { "::1", "127.0.0.1", false },
    { "127.0.0.1", "::ffff:127.0.0.1", false },
};

static void test_bypass_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof bypass_cases / sizeof bypass_cases[0]; i++) {
        const bypass_case_t *c = &bypass_cases[i];
        bool got = ap_posix_proxy_bypassed(c->no_proxy, c->host);

        if (got != c->bypassed) {
            print_error("no_proxy \"%s\", host \"%s\": expected %s\n",
                        c->no_proxy ? c->no_proxy : "(null)", c->host ? c->host : "(null)",
                        c->bypassed ? "bypassed" : "proxied");
        }
        assert_int_equal(got, c->bypassed);
    }
}

static void test_bypass_overlong_entry_matches_nothing(void **state)
{
    char list[600];
    char host[300];

    (void)state;
    memset(host, 'a', sizeof host - 1u);
    host[sizeof host - 1u] = '\0';
    assert_false(ap_posix_proxy_bypassed(host, host));
    /* ... but '*' still means every host. */
    assert_true(ap_posix_proxy_bypassed("*", host));
    assert_true(ap_posix_proxy_bypassed("a.test, *", host));
    memset(list, 'b', sizeof list - 1u);
    list[sizeof list - 1u] = '\0';
    assert_false(ap_posix_proxy_bypassed(list, "b.test"));
    memcpy(list + 400, ",b.test", 8);
    assert_true(ap_posix_proxy_bypassed(list, "b.test"));
}

/* ---- proxy URLs -------------------------------------------------------- */

typedef struct {
    const char *url;
    const char *host;
    uint16_t port;
    const char *credentials; /* NULL: none */
} url_ok_t;

static const url_ok_t url_ok[] = {
    { "http://proxy.test:3128", "proxy.test", 3128, NULL },
    { "http://proxy.test:3128/", "proxy.test", 3128, NULL },
    { "HTTP://Proxy.Test:8080", "Proxy.Test", 8080, NULL },
    { "http://proxy.test", "proxy.test", 1080, NULL },
    { "proxy.test", "proxy.test", 1080, NULL },
    { "proxy.test:8888", "proxy.test", 8888, NULL },
    { "127.0.0.1:3128", "127.0.0.1", 3128, NULL },
    { "http://[::1]:3128", "::1", 3128, NULL },
    { "http://[fd00::1]", "fd00::1", 1080, NULL },
    { "http://u:p@proxy.test:1", "proxy.test", 1, "u:p" },
    { "http://user@proxy.test:65535", "proxy.test", 65535, "user:" },
    { "http://user:@proxy.test", "proxy.test", 1080, "user:" },
    { "http://us%65r:p%40ss%3Aw@proxy.test", "proxy.test", 1080, "user:p@ss:w" },
    { "http://user:p@ss@proxy.test", "proxy.test", 1080, "user:p@ss" },
    { "user:secret@[::1]:8080", "::1", 8080, "user:secret" },
};

static void test_url_parses(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof url_ok / sizeof url_ok[0]; i++) {
        ap_posix_proxy_url_t u;
        const char *why = NULL;
        ap_status_t st = ap_posix_proxy_url_parse(url_ok[i].url, &u, &why);

        if (st != AP_OK) {
            print_error("%s: %s\n", url_ok[i].url, why);
        }
        assert_int_equal(st, AP_OK);
        assert_string_equal(u.host, url_ok[i].host);
        assert_int_equal(u.port, url_ok[i].port);
        assert_int_equal(u.has_credentials, url_ok[i].credentials != NULL);
        assert_string_equal(u.credentials,
                            url_ok[i].credentials != NULL ? url_ok[i].credentials : "");
    }
}

typedef struct {
    const char *url;
    const char *reason_part; /* a phrase the reason must contain */
} url_bad_t;

static const url_bad_t url_bad[] = {
    { "", "names no host" },
    { "http://", "names no host" },
    { "http://:3128", "names no host" },
    { "https://proxy.test:3128", "https:// proxies" },
    { "HTTPS://proxy.test", "https:// proxies" },
    { "socks5://proxy.test:1080", "SOCKS" },
    { "socks5h://proxy.test", "SOCKS" },
    { "socks4a://proxy.test", "SOCKS" },
    { "ftp://proxy.test", "scheme is not http://" },
    { "http://proxy.test:0", "port is not a number" },
    { "http://proxy.test:65536", "port is not a number" },
    { "http://proxy.test:99999999999999999999", "port is not a number" },
    { "http://proxy.test:31a", "port is not a number" },
    { "http://proxy.test:", "followed by a port" },
    { "http://proxy.test/path", "no path" },
    { "http://proxy.test?x=1", "no path" },
    { "http://proxy.test#frag", "no path" },
    { "http://proxy test", "blank or a control" },
    { "http://proxy.test\r\n", "blank or a control" },
    { "http://[::1", "has no ']'" },
    { "http://[]:80", "no IPv6 address" },
    { "http://[1.2.3.4]:80", "no IPv6 address" },
    { "http://[fe80::1%25eth0]:80", "zone identifiers" },
    { "http://[::1]x", "followed by a port" },
    { "http://pro*xy.test", "not allowed in a host name" },
    { "http://@proxy.test", "user name before '@' is empty" },
    { "http://:pass@proxy.test", "user name before '@' is empty" },
    { "http://us%3Aer:p@proxy.test", "contains ':'" },
    { "http://user:p%4@proxy.test", "two hex digits" },
    { "http://user:p%zz@proxy.test", "two hex digits" },
    { "http://user:p%00@proxy.test", "control character" },
    { "http://user:%0d%0aX@proxy.test", "control character" },
};

static void test_url_refusals_say_why(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof url_bad / sizeof url_bad[0]; i++) {
        ap_posix_proxy_url_t u;
        const char *why = NULL;
        ap_status_t st = ap_posix_proxy_url_parse(url_bad[i].url, &u, &why);

        if (st != AP_ERR_URL || why == NULL || strstr(why, url_bad[i].reason_part) == NULL) {
            print_error("%s: status %d, reason \"%s\", wanted \"%s\"\n", url_bad[i].url,
                        (int)st, why ? why : "(null)", url_bad[i].reason_part);
        }
        assert_int_equal(st, AP_ERR_URL);
        assert_non_null(strstr(why, url_bad[i].reason_part));
        /* Nothing half-parsed is left behind, credentials least of all. */
        assert_string_equal(u.credentials, "");
        assert_false(u.has_credentials);
    }
}

static void test_url_overlong_parts(void **state)
{
    char url[700];
    ap_posix_proxy_url_t u;
    const char *why = NULL;

    (void)state;
    /* A host of 255 bytes fits; 256 does not. */
    memcpy(url, "http://", 7);
    memset(url + 7, 'h', 255);
    url[7 + 255] = '\0';
    assert_int_equal(ap_posix_proxy_url_parse(url, &u, &why), AP_OK);
    assert_int_equal(strlen(u.host), 255);
    url[7 + 255] = 'h';
    url[7 + 256] = '\0';
    assert_int_equal(ap_posix_proxy_url_parse(url, &u, &why), AP_ERR_URL);
    assert_non_null(strstr(why, "longer than 255"));

    /* Credentials of 255 bytes fit ("u:" + 253); one more does not. */
    memcpy(url, "http://u:", 9);
    memset(url + 9, 'p', 253);
    memcpy(url + 9 + 253, "@proxy.test", 12);
    assert_int_equal(ap_posix_proxy_url_parse(url, &u, &why), AP_OK);
    assert_int_equal(strlen(u.credentials), 255);
    memset(url + 9, 'p', 254);
    memcpy(url + 9 + 254, "@proxy.test", 12);
    assert_int_equal(ap_posix_proxy_url_parse(url, &u, &why), AP_ERR_URL);
    assert_non_null(strstr(why, "longer than 255"));
}

static void test_url_reason_never_quotes_the_password(void **state)
{
    ap_posix_proxy_url_t u;
    const char *why = NULL;

    (void)state;
    assert_int_equal(ap_posix_proxy_url_parse("http://user:hunter2@proxy.test:0", &u, &why),
                     AP_ERR_URL);
    assert_null(strstr(why, "hunter2"));
    assert_string_equal(u.credentials, "");
}

static void test_url_bad_args(void **state)
{
    ap_posix_proxy_url_t u;
    const char *why = "unchanged";

    (void)state;
    assert_int_equal(ap_posix_proxy_url_parse(NULL, &u, &why), AP_ERR_BAD_ARG);
    assert_int_equal(ap_posix_proxy_url_parse("proxy.test", NULL, NULL), AP_ERR_BAD_ARG);
    assert_int_equal(ap_posix_proxy_url_parse("proxy.test", &u, NULL), AP_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bypass_table),
        cmocka_unit_test(test_bypass_overlong_entry_matches_nothing),
        cmocka_unit_test(test_url_parses),
        cmocka_unit_test(test_url_refusals_say_why),
        cmocka_unit_test(test_url_overlong_parts),
        cmocka_unit_test(test_url_reason_never_quotes_the_password),
        cmocka_unit_test(test_url_bad_args),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
