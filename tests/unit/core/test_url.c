/* ap_url_parse(): what is accepted, what it becomes, and what is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "alertpost/ap_url.h"

typedef struct good_case {
    const char *url;
    const char *host;
    bool is_ipv6;
    uint16_t port;
    const char *path;
} good_case_t;

static const good_case_t good_cases[] = {
    { "https://example.com", "example.com", false, 443, "/" },
    { "https://example.com/", "example.com", false, 443, "/" },
    { "HTTPS://Example.COM/Alerts", "example.com", false, 443, "/Alerts" },
    { "hTtPs://a.b-c.d9/x", "a.b-c.d9", false, 443, "/x" },
    { "https://example.com:8443/hook", "example.com", false, 8443, "/hook" },
    { "https://example.com:1", "example.com", false, 1, "/" },
    { "https://example.com:65535/", "example.com", false, 65535, "/" },
    { "https://example.com:00443/", "example.com", false, 443, "/" },
    { "https://example.com/a/b?x=1&y=2", "example.com", false, 443, "/a/b?x=1&y=2" },
    { "https://example.com/a?x=1#frag", "example.com", false, 443, "/a?x=1" },
    { "https://example.com#frag", "example.com", false, 443, "/" },
    { "https://example.com/#", "example.com", false, 443, "/" },
    { "https://example.com/p%20q", "example.com", false, 443, "/p%20q" },
    { "https://localhost:4443/", "localhost", false, 4443, "/" },
    { "https://127.0.0.1:8443/x", "127.0.0.1", false, 8443, "/x" },
    { "https://0.0.0.0", "0.0.0.0", false, 443, "/" },
    { "https://255.255.255.255/", "255.255.255.255", false, 443, "/" },
    { "https://1host.example/", "1host.example", false, 443, "/" },
    { "https://123.example/", "123.example", false, 443, "/" },
    { "https://[::1]:8443/x", "::1", true, 8443, "/x" },
    { "https://[::1]", "::1", true, 443, "/" },
    { "https://[::]/", "::", true, 443, "/" },
    { "https://[FE80::1:2]/", "fe80::1:2", true, 443, "/" },
    { "https://[2001:db8:0:0:0:0:0:1]/", "2001:db8:0:0:0:0:0:1", true, 443, "/" },
    { "https://[1:2:3:4:5:6:7::]/", "1:2:3:4:5:6:7::", true, 443, "/" },
    { "https://[::2:3:4:5:6:7:8]/", "::2:3:4:5:6:7:8", true, 443, "/" },
    { "https://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1", true, 443, "/" },
    { "https://[1:2:3:4:5:6:1.2.3.4]/", "1:2:3:4:5:6:1.2.3.4", true, 443, "/" },
    { "https://[64:ff9b::192.0.2.1]:9/", "64:ff9b::192.0.2.1", true, 9, "/" },
};

static const char *const bad_urls[] = {
    "",
    "https",
    "https:",
    "https:/",
    "https://",
    "http://example.com/",
    "ftp://example.com/",
    "https:example.com",
    "https:/example.com",
    " https://example.com/",
    "https://example.com /",
    "https://example.com/a b",
    "https://example.com/a\tb",
    "https://example.com/a\r\nb",
    "https://example.com/\x7f",
    "https://example.com/\xc3\xa9",
    "https://ex\xc3\xa9mple.com/",
    "https://example.com/#a b",
    "https://user@example.com/",
    "https://user:pw@example.com/",
    "https://example.com@evil.example/",
    "https://:443/",
    "https:///path",
    "https://?q",
    "https://#f",
    "https://example.com:/",
    "https://example.com:",
    "https://example.com:0/",
    "https://example.com:65536/",
    "https://example.com:99999999999999999999/",
    "https://example.com:-1/",
    "https://example.com:+443/",
    "https://example.com:44a/",
    "https://example.com:443:443/",
    "https://example.com?q=1",
    "https://ex%61mple.com/",
    "https://exa_mple.com/",
    "https://exa!mple.com/",
    "https://-example.com/",
    "https://example-.com/",
    "https://example..com/",
    "https://.example.com/",
    "https://example.com./",
    "https://example.com\\@evil/",
    "https://1.2.3/",
    "https://1.2.3.4.5/",
    "https://256.1.1.1/",
    "https://01.2.3.4/",
    "https://1.2.3.04/",
    "https://1234.1.1.1/",
    "https://foo.123/",
    "https://12345/",
    "https://::1/",
    "https://[::1/",
    "https://::1]/",
    "https://[]/",
    "https://[::1]x/",
    "https://[::1]:/",
    "https://[::1]:0/",
    "https://[::1%25eth0]/",
    "https://[fe80::1%eth0]/",
    "https://[example.com]/",
    "https://[1.2.3.4]/",
    "https://[:1]/",
    "https://[1:]/",
    "https://[:::]/",
    "https://[1:::2]/",
    "https://[1::2::3]/",
    "https://[12345::]/",
    "https://[1:2:3:4:5:6:7:8:9]/",
    "https://[1:2:3:4:5:6:7]/",
    "https://[1:2:3:4:5:6:7:8::]/",
    "https://[::1:2:3:4:5:6:7:8]/",
    "https://[1:2:3:4:5:6:7:1.2.3.4]/",
    "https://[::1.2.3]/",
    "https://[::256.1.1.1]/",
    "https://[::g]/",
    "https://[v1.x]/",
    "https://[[::1]]/",
};

static void test_good_urls(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++) {
        const good_case_t *c = &good_cases[i];
        ap_url_t u;

        memset(&u, 0xA5, sizeof(u));
        if (ap_url_parse(c->url, &u) != AP_OK) {
            fail_msg("refused: %s", c->url);
        }
        assert_string_equal(u.host, c->host);
        assert_int_equal(u.host_is_ipv6, c->is_ipv6);
        assert_int_equal(u.port, c->port);
        assert_int_equal(u.path_len, strlen(c->path));
        assert_memory_equal(u.path, c->path, u.path_len);
    }
}

static void test_bad_urls(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++) {
        ap_url_t u;

        if (ap_url_parse(bad_urls[i], &u) != AP_ERR_URL) {
            fail_msg("not refused with AP_ERR_URL: %s", bad_urls[i]);
        }
    }
}

static void test_path_points_into_input(void **state)
{
    static const char url[] = "https://example.com:8443/a/b?c#d";
    ap_url_t u;

    (void)state;
    assert_int_equal(ap_url_parse(url, &u), AP_OK);
    assert_ptr_equal(u.path, url + 24);
    assert_int_equal(u.path_len, 6);
}

static void test_no_path_gives_root(void **state)
{
    ap_url_t u;

    (void)state;
    assert_int_equal(ap_url_parse("https://example.com", &u), AP_OK);
    assert_int_equal(u.path_len, 1);
    assert_int_equal(u.path[0], '/');
}

static void test_null_arguments(void **state)
{
    ap_url_t u;

    (void)state;
    assert_int_equal(ap_url_parse(NULL, &u), AP_ERR_BAD_ARG);
    assert_int_equal(ap_url_parse("https://example.com/", NULL), AP_ERR_BAD_ARG);
}

/* Builds "https://<label>.<label>...<tail>/" of exactly host_len bytes. */
static void make_host_url(char *url, size_t url_size, size_t host_len)
{
    char host[AP_MAX_HOST_LEN + 8];
    size_t i;

    assert_true(host_len < sizeof(host));
    for (i = 0; i < host_len; i++) {
        host[i] = ((i + 1) % 50 == 0) ? '.' : 'a';
    }
    host[host_len] = '\0';
    assert_true(host[host_len - 1] != '.');
    (void)snprintf(url, url_size, "https://%s/", host);
}

static void test_host_length_bound(void **state)
{
    char url[AP_MAX_HOST_LEN + 32];
    ap_url_t u;

    (void)state;
    make_host_url(url, sizeof(url), AP_MAX_HOST_LEN);
    assert_int_equal(ap_url_parse(url, &u), AP_OK);
    assert_int_equal(strlen(u.host), AP_MAX_HOST_LEN);

    make_host_url(url, sizeof(url), AP_MAX_HOST_LEN + 1);
    assert_int_equal(ap_url_parse(url, &u), AP_ERR_URL);
}

static void test_label_length_bound(void **state)
{
    char url[128];
    char label[70];
    ap_url_t u;

    (void)state;
    memset(label, 'x', 63);
    label[63] = '\0';
    (void)snprintf(url, sizeof(url), "https://%s.example/", label);
    assert_int_equal(ap_url_parse(url, &u), AP_OK);

    memset(label, 'x', 64);
    label[64] = '\0';
    (void)snprintf(url, sizeof(url), "https://%s.example/", label);
    assert_int_equal(ap_url_parse(url, &u), AP_ERR_URL);
}

/* Every single control byte, wherever it sits, is refused. */
static void test_control_bytes_anywhere(void **state)
{
    static const char base[] = "https://example.com:8443/p?q#f";
    char url[sizeof(base) + 1];
    size_t pos;
    int c;

    (void)state;
    for (pos = 0; pos < sizeof(base) - 1; pos++) {
        for (c = 1; c <= 0x20; c++) {
            ap_url_t u;

            memcpy(url, base, pos);
            url[pos] = (char)c;
            memcpy(url + pos + 1, base + pos, sizeof(base) - pos);
            assert_int_equal(ap_url_parse(url, &u), AP_ERR_URL);
        }
    }
}

static void test_each_problem_is_named(void **state)
{
    static const struct {
        const char *url;
        const char *phrase;
    } cases[] = {
        {"http://example.com/a", "http://"},
        {"ftp://example.com/a", "does not start with https://"},
        {"https://", "no host"},
        {"https://:8443/a", "no host"},
        {"https://user:pw@example.com/", "user info"},
        {"https://exa%6dple.com/", "percent-encoding"},
        {"https://example.com:0/", "out of range"},
        {"https://example.com:65536/", "out of range"},
        {"https://example.com:/", "no port number"},
        {"https://example.com:44x/", "not a decimal number"},
        {"https://[::1/", "not closed"},
        {"https://[::1]x/", "':PORT'"},
        {"https://[not:v6]/", "IPv6"},
        {"https://exa mple.com/", "space"},
        {"https://bad_host!/", "not a valid name"},
        {"https://example.com?q=1", "query needs a path"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *why = ap_url_problem(cases[i].url);
        ap_url_t u;

        assert_int_equal(ap_url_parse(cases[i].url, &u), AP_ERR_URL);
        assert_non_null(why);
        if (strstr(why, cases[i].phrase) == NULL) {
            fail_msg("%s: '%s' lacks '%s'", cases[i].url, why, cases[i].phrase);
        }
    }
    assert_null(ap_url_problem("https://example.com:8443/v1?x=1#f"));
    assert_non_null(ap_url_problem(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_urls),
        cmocka_unit_test(test_bad_urls),
        cmocka_unit_test(test_path_points_into_input),
        cmocka_unit_test(test_no_path_gives_root),
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_host_length_bound),
        cmocka_unit_test(test_label_length_bound),
        cmocka_unit_test(test_control_bytes_anywhere),
        cmocka_unit_test(test_each_problem_is_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
