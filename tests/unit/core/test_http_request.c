/* ap_http_write_head(): the exact bytes of the head, and what it refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "alertpost/ap_http.h"

#define GUARD 0xEEu

static ap_http_request_head_t base_head(void)
{
    ap_http_request_head_t h;

    memset(&h, 0, sizeof(h));
    h.host = "example.com";
    h.port = 443;
    h.path = "/alerts";
    h.path_len = 7;
    h.content_length = 17;
    h.keep_alive = true;
    return h;
}

/* Writes into a buffer with guard bytes after buf_size and checks both the
 * head and that nothing past buf_size was touched. */
static void expect_head(const ap_http_request_head_t *h, const char *expected)
{
    uint8_t buf[1024];
    size_t out_len = 0;
    size_t want = strlen(expected);
    size_t i;

    memset(buf, GUARD, sizeof(buf));
    assert_int_equal(ap_http_write_head(h, buf, want, &out_len), AP_OK);
    assert_int_equal(out_len, want);
    assert_memory_equal(buf, expected, want);
    for (i = want; i < sizeof(buf); i++) {
        assert_int_equal(buf[i], GUARD);
    }
}

static void test_minimal_head(void **state)
{
    ap_http_request_head_t h = base_head();

    (void)state;
    expect_head(&h,
                "POST /alerts HTTP/1.1\r\n"
                "Host: example.com\r\n"
                "User-Agent: " AP_USER_AGENT "\r\n"
                "Content-Type: application/json\r\n"
                "Content-Length: 17\r\n"
                "\r\n");
}

static void test_close_port_and_extras(void **state)
{
    static const ap_header_t extra[] = {
        { "Authorization", "Bearer abc.def" },
        { "X-Empty", "" },
        { "X-Tab", "a\tb" },
    };
    ap_http_request_head_t h = base_head();

    (void)state;
    h.port = 8443;
    h.path = "/a/b?x=1&y=2#ignored";
    h.path_len = 12;
    h.content_type = "text/plain; charset=utf-8";
    h.user_agent = "probe/2";
    h.headers = extra;
    h.header_count = 3;
    h.content_length = 0;
    h.keep_alive = false;
    expect_head(&h,
                "POST /a/b?x=1&y=2 HTTP/1.1\r\n"
                "Host: example.com:8443\r\n"
                "User-Agent: probe/2\r\n"
                "Content-Type: text/plain; charset=utf-8\r\n"
                "Content-Length: 0\r\n"
                "Authorization: Bearer abc.def\r\n"
                "X-Empty: \r\n"
                "X-Tab: a\tb\r\n"
                "Connection: close\r\n"
                "\r\n");
}

static void test_ipv6_host_is_bracketed(void **state)
{
    ap_http_request_head_t h = base_head();

    (void)state;
    if (sizeof(size_t) < 8) {
        skip(); /* the expected Content-Length is 2^64 - 1 */
    }
    h.host = "::1";
    h.path = "/";
    h.path_len = 1;
    h.port = 4443;
    h.content_length = (size_t)-1;
    expect_head(&h,
                "POST / HTTP/1.1\r\n"
                "Host: [::1]:4443\r\n"
                "User-Agent: " AP_USER_AGENT "\r\n"
                "Content-Type: application/json\r\n"
                "Content-Length: " "18446744073709551615\r\n"
                "\r\n");
}

static void test_ipv6_default_port(void **state)
{
    ap_http_request_head_t h = base_head();

    (void)state;
    h.host = "fe80::1";
    h.content_length = 1;
    expect_head(&h,
                "POST /alerts HTTP/1.1\r\n"
                "Host: [fe80::1]\r\n"
                "User-Agent: " AP_USER_AGENT "\r\n"
                "Content-Type: application/json\r\n"
                "Content-Length: 1\r\n"
                "\r\n");
}

/* Every buffer shorter than the head gives AP_ERR_NO_SPACE and never writes
 * past its size. */
static void test_every_short_buffer(void **state)
{
    static const ap_header_t extra[] = { { "X-A", "1" } };
    ap_http_request_head_t h = base_head();
    uint8_t buf[512];
    size_t full = 0;
    size_t size;

    (void)state;
    h.headers = extra;
    h.header_count = 1;
    h.keep_alive = false;
    assert_int_equal(ap_http_write_head(&h, buf, sizeof(buf), &full), AP_OK);
    for (size = 0; size < full; size++) {
        size_t out_len = 12345;
        size_t i;

        memset(buf, GUARD, sizeof(buf));
        assert_int_equal(ap_http_write_head(&h, buf, size, &out_len), AP_ERR_NO_SPACE);
        assert_int_equal(out_len, 12345);
        for (i = size; i < sizeof(buf); i++) {
            assert_int_equal(buf[i], GUARD);
        }
    }
    assert_int_equal(ap_http_write_head(&h, buf, full, &size), AP_OK);
    assert_int_equal(size, full);
}

static void expect_bad(const ap_http_request_head_t *h)
{
    uint8_t buf[1024];
    size_t out_len = 0;

    memset(buf, GUARD, sizeof(buf));
    assert_int_equal(ap_http_write_head(h, buf, sizeof(buf), &out_len), AP_ERR_BAD_ARG);
    /* Refused before writing anything. */
    assert_int_equal(buf[0], GUARD);
}

static void test_null_arguments(void **state)
{
    ap_http_request_head_t h = base_head();
    uint8_t buf[256];
    size_t out_len;

    (void)state;
    assert_int_equal(ap_http_write_head(NULL, buf, sizeof(buf), &out_len), AP_ERR_BAD_ARG);
    assert_int_equal(ap_http_write_head(&h, NULL, sizeof(buf), &out_len), AP_ERR_BAD_ARG);
    assert_int_equal(ap_http_write_head(&h, buf, sizeof(buf), NULL), AP_ERR_BAD_ARG);
    h.host = NULL;
    expect_bad(&h);
    h = base_head();
    h.path = NULL;
    expect_bad(&h);
    h = base_head();
    h.header_count = 1; /* headers is NULL */
    expect_bad(&h);
}

static void test_bad_path_or_host(void **state)
{
    static const char *const paths[] = { "", "alerts", "/a b", "/a\r\nX: y",
                                         "/\x7f", "/\x80", "?q" };
    static const char *const hosts[] = { "", "exa mple.com", "example.com\r\nX: y",
                                         "[::1]", "a/b", "a@b", "example.com\x80" };
    ap_http_request_head_t h;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        h = base_head();
        h.path = paths[i];
        h.path_len = strlen(paths[i]);
        expect_bad(&h);
    }
    /* A NUL inside path_len. */
    h = base_head();
    h.path = "/a\0b";
    h.path_len = 4;
    expect_bad(&h);
    for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        h = base_head();
        h.host = hosts[i];
        expect_bad(&h);
    }
}

static void test_bad_values(void **state)
{
    static const char *const values[] = { "a\rb", "a\nb", "a\r\nX-Injected: 1",
                                          "\x01", "a\x1f", "\x7f" };
    ap_http_request_head_t h;
    ap_header_t extra;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        h = base_head();
        h.content_type = values[i];
        expect_bad(&h);
        h = base_head();
        h.user_agent = values[i];
        expect_bad(&h);
        h = base_head();
        extra.name = "X-Ok";
        extra.value = values[i];
        h.headers = &extra;
        h.header_count = 1;
        expect_bad(&h);
    }
    h = base_head();
    extra.name = "X-Ok";
    extra.value = NULL;
    h.headers = &extra;
    h.header_count = 1;
    expect_bad(&h);
}

static void test_bad_names(void **state)
{
    static const char *const names[] = { "", "X Y", "X:Y", "X-A:", "X\r\nY",
                                         "(x)", "x\"", "x/y", "x\x80", "x@y" };
    ap_http_request_head_t h;
    ap_header_t extra;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        h = base_head();
        extra.name = names[i];
        extra.value = "v";
        h.headers = &extra;
        h.header_count = 1;
        expect_bad(&h);
    }
    h = base_head();
    extra.name = NULL;
    extra.value = "v";
    h.headers = &extra;
    h.header_count = 1;
    expect_bad(&h);
}

static void test_token_punctuation_is_accepted(void **state)
{
    static const ap_header_t extra[] = { { "!#$%&'*+-.^_`|~09azAZ", "v" } };
    ap_http_request_head_t h = base_head();

    (void)state;
    h.headers = extra;
    h.header_count = 1;
    expect_head(&h,
                "POST /alerts HTTP/1.1\r\n"
                "Host: example.com\r\n"
                "User-Agent: " AP_USER_AGENT "\r\n"
                "Content-Type: application/json\r\n"
                "Content-Length: 17\r\n"
                "!#$%&'*+-.^_`|~09azAZ: v\r\n"
                "\r\n");
}

static void test_reserved_names(void **state)
{
    static const char *const names[] = { "Host", "host", "HOST", "Content-Length",
                                         "content-LENGTH", "Transfer-Encoding",
                                         "transfer-encoding", "Connection",
                                         "CONNECTION" };
    ap_http_request_head_t h;
    ap_header_t extra[2];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        h = base_head();
        extra[0].name = "X-Fine";
        extra[0].value = "1";
        extra[1].name = names[i];
        extra[1].value = "x";
        h.headers = extra;
        h.header_count = 2;
        expect_bad(&h);
    }
    /* Prefixes and extensions of reserved names are ordinary names. */
    h = base_head();
    extra[0].name = "Hosts";
    extra[0].value = "1";
    extra[1].name = "Connectio";
    extra[1].value = "2";
    h.headers = extra;
    h.header_count = 2;
    h.content_length = 3;
    expect_head(&h,
                "POST /alerts HTTP/1.1\r\n"
                "Host: example.com\r\n"
                "User-Agent: " AP_USER_AGENT "\r\n"
                "Content-Type: application/json\r\n"
                "Content-Length: 3\r\n"
                "Hosts: 1\r\n"
                "Connectio: 2\r\n"
                "\r\n");
}

static void test_extra_header_replaces_a_default(void **state)
{
    static const ap_header_t extras[] = {{"user-agent", "probe/2"},
                                         {"Content-Type", "text/plain"}};
    ap_http_request_head_t h = base_head();

    (void)state;
    h.user_agent = "ignored/1";
    h.headers = extras;
    h.header_count = 2;
    expect_head(&h,
                "POST /alerts HTTP/1.1\r\n"
                "Host: example.com\r\n"
                "Content-Length: 17\r\n"
                "user-agent: probe/2\r\n"
                "Content-Type: text/plain\r\n"
                "\r\n");
}

static void test_header_problems_are_named(void **state)
{
    (void)state;
    assert_null(ap_http_header_problem("X-Device", "d1 \t \x80"));
    assert_non_null(strstr(ap_http_header_problem("", "v"), "empty"));
    assert_non_null(strstr(ap_http_header_problem("X Device", "v"), "not an HTTP token"));
    assert_non_null(strstr(ap_http_header_problem("host", "v"), "Host itself"));
    assert_non_null(strstr(ap_http_header_problem("Content-Length", "1"), "Content-Length"));
    assert_non_null(strstr(ap_http_header_problem("Transfer-Encoding", "chunked"),
                           "Transfer-Encoding"));
    assert_non_null(strstr(ap_http_header_problem("CONNECTION", "close"), "connection"));
    assert_non_null(strstr(ap_http_header_problem("X-A", "a\r\nX-B: b"), "control character"));
    assert_non_null(strstr(ap_http_header_problem("X-A", "a\x7f"), "control character"));
    assert_non_null(ap_http_header_problem(NULL, "v"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal_head),
        cmocka_unit_test(test_close_port_and_extras),
        cmocka_unit_test(test_ipv6_host_is_bracketed),
        cmocka_unit_test(test_ipv6_default_port),
        cmocka_unit_test(test_every_short_buffer),
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_bad_path_or_host),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_bad_names),
        cmocka_unit_test(test_token_punctuation_is_accepted),
        cmocka_unit_test(test_reserved_names),
        cmocka_unit_test(test_extra_header_replaces_a_default),
        cmocka_unit_test(test_header_problems_are_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
