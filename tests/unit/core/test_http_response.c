/*
 * The response parser. Every valid response is fed whole, cut in two at
 * every position, and byte by byte, and must give the same status, body and
 * keep-alive each time; every proper prefix of it must end in
 * AP_ERR_TRUNCATED. Hostile responses must be refused however they are cut.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "alertpost/ap_http.h"

#define BODY_MAX AP_HTTP_MAX_HEAD_BYTES

typedef struct outcome {
    ap_status_t status;     /* of the last feed */
    size_t consumed;        /* over all feeds */
    uint8_t body[BODY_MAX];
    size_t body_len;
} outcome_t;

static void outcome_init(outcome_t *o)
{
    o->status = AP_ERR_NEED_MORE;
    o->consumed = 0;
    o->body_len = 0;
}

/* Feeds one piece, copied into a heap block of exactly its size so that
 * AddressSanitizer reports any read past it, until the parser has taken it
 * all or stops. Checks the feed contract on every call. */
static void feed_piece(ap_http_parser_t *p, const uint8_t *src, size_t n, outcome_t *o)
{
    uint8_t *piece = malloc(n > 0 ? n : 1);
    size_t off = 0;

    assert_non_null(piece);
    if (n > 0) {
        memcpy(piece, src, n);
    }
    do {
        size_t consumed = (size_t)-1;
        size_t body_len = (size_t)-1;
        const uint8_t *body = piece;
        ap_status_t st = ap_http_parser_feed(p, piece + off, n - off, &consumed, &body, &body_len);

        assert_true(consumed <= n - off);
        if (body_len > 0) {
            /* The body is the tail of what this call consumed. */
            assert_ptr_equal(body + body_len, piece + off + consumed);
            assert_true(o->body_len + body_len <= BODY_MAX);
            memcpy(o->body + o->body_len, body, body_len);
            o->body_len += body_len;
        } else {
            assert_null(body);
        }
        if (st == AP_ERR_NEED_MORE && off < n) {
            assert_true(consumed > 0);
        }
        off += consumed;
        o->consumed += consumed;
        o->status = st;
    } while (o->status == AP_ERR_NEED_MORE && off < n);
    free(piece);
}

static void feed_cut(ap_http_parser_t *p, const uint8_t *data, size_t len, size_t cut, outcome_t *o)
{
    outcome_init(o);
    feed_piece(p, data, cut, o);
    if (o->status == AP_ERR_NEED_MORE) {
        feed_piece(p, data + cut, len - cut, o);
    }
}

static void feed_bytewise(ap_http_parser_t *p, const uint8_t *data, size_t len, outcome_t *o)
{
    size_t i;

    outcome_init(o);
    for (i = 0; i < len && o->status == AP_ERR_NEED_MORE; i++) {
        feed_piece(p, data + i, 1, o);
    }
}

/* ---- valid responses ---------------------------------------------------- */

/* Fields in the order a case reads, not the tightest packing. */
typedef struct good_case { /* NOLINT(clang-analyzer-optin.performance.Padding) */
    const char *raw;
    size_t extra;        /* trailing bytes of a next response: not consumed */
    int status_code;
    const char *body;
    bool keep_alive;
    bool by_close;       /* completed only by a clean close */
} good_case_t;

static const good_case_t good_cases[] = {
    { "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 0, 200, "hello", true, false },
    { "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0, 200, "", true, false },
    { "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 0, 201, "hello world", true, false },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding:\t Chunked \t\r\n\r\n"
      "A;name=val\r\n0123456789\r\n000b \t ; x=\"q \\\" r\"\r\nabcdefghijk\r\n"
      "0;last\r\nX-Trailer: t\r\nX-Other: u\r\n\r\n", 0, 200, "0123456789abcdefghijk", true, false },
    { "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close", 0, 200,
      "until close", false, true },
    { "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\nclose wins", 0, 200,
      "close wins", false, true },
    { "HTTP/1.0 200 OK\r\n\r\nbody", 0, 200, "body", false, true },
    { "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok", 0, 200,
      "ok", true, false },
    { "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 0, 200, "ok", false, false },
    { "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"
      "2\r\nok\r\n0\r\n\r\n", 0, 200, "ok", false, false },
    { "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx", 0, 200, "x",
      false, false },
    { "HTTP/1.1 200 OK\r\nConnection: Upgrade, CLOSE\r\nContent-Length: 1\r\n\r\nx", 0, 200,
      "x", false, false },
    { "HTTP/1.1 200 OK\r\nConnection: keep-alive , ,foo\r\nContent-Length: 1\r\n\r\nx", 0,
      200, "x", true, false },
    /* An option that is not a token cannot be trusted not to mean close. */
    { "HTTP/1.1 200 OK\r\nConnection: keep alive\r\nContent-Length: 1\r\n\r\nx", 0, 200,
      "x", false, false },
    { "HTTP/1.1 200 OK\r\nConnection: \"x\"\r\nContent-Length: 1\r\n\r\nx", 0, 200,
      "x", false, false },
    { "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nConnection: close\r\n"
      "Content-Length: 1\r\n\r\nx", 0, 200, "x", false, false },
    { "HTTP/1.1 204 No Content\r\nX: y\r\n\r\nHTTP/1.1", 8, 204, "", true, false },
    { "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", 0, 304, "", true, false },
    { "HTTP/1.0 204 No Content\r\nConnection: keep-alive\r\n\r\n", 0, 204, "", true, false },
    { "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", 0,
      200, "hi", true, false },
    { "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\nConnection: close\r\n"
      "Content-Length: 9\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nhi", 0, 202, "hi", true, false },
    { "HTTP/1.1 200 \r\nContent-Length: 1\r\n\r\nx", 0, 200, "x", true, false },
    { "HTTP/1.1 200\r\nContent-Length: 1\r\n\r\nx", 0, 200, "x", true, false },
    { "HTTP/1.1 500 Internal \xe9rror\t!\r\nContent-Length: 3\r\n\r\nbad", 0, 500, "bad",
      true, false },
    { "HTTP/1.1 999 Whatever\r\nContent-Length: 0\r\n\r\n", 0, 999, "", true, false },
    { "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 0, 200, "abc",
      true, false },
    { "HTTP/1.1 200 OK\r\ncontent-length: \t 3 \t\r\n\r\nabc", 0, 200, "abc", true, false },
    { "HTTP/1.1 200 OK\r\nContent-Length: 0003\r\n\r\nabc", 0, 200, "abc", true, false },
    { "HTTP/1.1 200 OK\r\nX-A:\r\nX-B: \t v\xff\x80 \r\nX-C:x:y\r\n"
      "X-A-Very-Long-Header-Name-Well-Over-Forty-Bytes-Long: 1\r\n"
      "Content-Length-Not: 7\r\nTransfer-Encoding-X: gzip\r\n"
      "!#$%&'*+-.^_`|~: tchar\r\n"
      "Content-Length: 2\r\n\r\nok", 0, 200, "ok", true, false },
    { "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 200 OK\r\n", 17, 200, "hello",
      true, false },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\nnext", 4, 200,
      "a", true, false },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 0, 200, "", true,
      false },
    /* Framing fields in trailers are not acted on. */
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n"
      "Transfer-Encoding: gzip\r\nContent-Length: x\r\nConnection: close\r\n\r\n", 0, 200,
      "ok", true, false },
};

static void check_outcome(const good_case_t *c, const ap_http_parser_t *p, const outcome_t *o)
{
    size_t len = strlen(c->raw);
    size_t body_len = strlen(c->body);

    assert_int_equal(o->status, c->by_close ? AP_ERR_NEED_MORE : AP_OK);
    assert_int_equal(o->consumed, len - c->extra);
    assert_true(p->head_done);
    assert_int_equal(p->status_code, c->status_code);
    assert_int_equal(p->keep_alive, c->keep_alive);
    assert_int_equal(o->body_len, body_len);
    assert_memory_equal(o->body, c->body, body_len);
    assert_int_equal(p->body_received, body_len);
    if (p->has_content_length && !p->chunked) {
        assert_true(p->body_received <= p->content_length);
    }
}

static void check_end(const good_case_t *c, ap_http_parser_t *p)
{
    ap_http_parser_t copy = *p;

    if (c->by_close) {
        assert_int_equal(ap_http_parser_eof(&copy, false), AP_ERR_TRUNCATED);
        assert_int_equal(ap_http_parser_eof(p, true), AP_OK);
    }
    /* Once complete, an end of stream is no loss, clean or not. */
    copy = *p;
    assert_int_equal(ap_http_parser_eof(&copy, false), AP_OK);
    assert_int_equal(ap_http_parser_eof(p, true), AP_OK);
}

static void test_good_every_split(void **state)
{
    static outcome_t o;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++) {
        const good_case_t *c = &good_cases[i];
        const uint8_t *raw = (const uint8_t *)c->raw;
        size_t len = strlen(c->raw);
        size_t cut;
        ap_http_parser_t p;

        for (cut = 0; cut <= len; cut++) {
            ap_http_parser_init(&p);
            feed_cut(&p, raw, len, cut, &o);
            check_outcome(c, &p, &o);
            check_end(c, &p);
        }
        ap_http_parser_init(&p);
        feed_bytewise(&p, raw, len, &o);
        check_outcome(c, &p, &o);
        check_end(c, &p);
    }
}

/* Every proper prefix of a response: more is needed, and an end of stream
 * there is a truncation, except past the head of a close-delimited body
 * when the close is clean. */
static void test_good_truncated_everywhere(void **state)
{
    static outcome_t o;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++) {
        const good_case_t *c = &good_cases[i];
        const uint8_t *raw = (const uint8_t *)c->raw;
        size_t len = strlen(c->raw) - c->extra;
        size_t head_len = (size_t)(strstr(c->raw, "\r\n\r\n") - c->raw) + 4;
        size_t k;

        for (k = 0; k < len + (c->by_close ? 1u : 0u); k++) {
            ap_http_parser_t p;
            ap_http_parser_t copy;

            ap_http_parser_init(&p);
            feed_cut(&p, raw, k, k, &o);
            assert_int_equal(o.status, AP_ERR_NEED_MORE);
            assert_int_equal(o.consumed, k);
            copy = p;
            assert_int_equal(ap_http_parser_eof(&copy, false), AP_ERR_TRUNCATED);
            if (c->by_close && k >= head_len) {
                assert_int_equal(ap_http_parser_eof(&p, true), AP_OK);
                assert_int_equal(o.body_len, k - head_len);
            } else {
                assert_int_equal(ap_http_parser_eof(&p, true), AP_ERR_TRUNCATED);
            }
        }
    }
}

static void test_body_comes_with_ok(void **state)
{
    static const char raw[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloX";
    ap_http_parser_t p;
    size_t consumed;
    const uint8_t *body;
    size_t body_len;

    (void)state;
    ap_http_parser_init(&p);
    assert_int_equal(ap_http_parser_feed(&p, (const uint8_t *)raw, sizeof(raw) - 1,
                                         &consumed, &body, &body_len), AP_OK);
    assert_int_equal(consumed, sizeof(raw) - 2);
    assert_int_equal(body_len, 5);
    assert_memory_equal(body, "hello", 5);
    assert_true(p.has_content_length);
    assert_int_equal(p.content_length, 5);
    assert_false(p.chunked);
    /* Complete: further input is left alone. */
    assert_int_equal(ap_http_parser_feed(&p, (const uint8_t *)"X", 1, &consumed, &body,
                                         &body_len), AP_OK);
    assert_int_equal(consumed, 0);
    assert_int_equal(body_len, 0);
}

static void test_huge_chunk_streams(void **state)
{
    static const char raw[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "FFFFFFFFFFFFFFFF\r\nabc";
    ap_http_parser_t p;
    outcome_t o;

    (void)state;
    ap_http_parser_init(&p);
    feed_cut(&p, (const uint8_t *)raw, sizeof(raw) - 1, 0, &o);
    assert_int_equal(o.status, AP_ERR_NEED_MORE);
    assert_true(p.chunked);
    assert_false(p.has_content_length);
    assert_int_equal(o.body_len, 3);
    assert_int_equal(p.body_received, 3);
    assert_int_equal(ap_http_parser_eof(&p, true), AP_ERR_TRUNCATED);
}

static void test_bad_arguments(void **state)
{
    ap_http_parser_t p;
    size_t consumed;
    const uint8_t *body;
    size_t body_len;
    const uint8_t x = 'H';

    (void)state;
    ap_http_parser_init(&p);
    ap_http_parser_init(NULL);
    assert_int_equal(ap_http_parser_feed(NULL, &x, 1, &consumed, &body, &body_len), AP_ERR_BAD_ARG);
    assert_int_equal(ap_http_parser_feed(&p, NULL, 1, &consumed, &body, &body_len), AP_ERR_BAD_ARG);
    assert_int_equal(ap_http_parser_feed(&p, &x, 1, NULL, &body, &body_len), AP_ERR_BAD_ARG);
    assert_int_equal(ap_http_parser_feed(&p, &x, 1, &consumed, NULL, &body_len), AP_ERR_BAD_ARG);
    assert_int_equal(ap_http_parser_feed(&p, &x, 1, &consumed, &body, NULL), AP_ERR_BAD_ARG);
    assert_int_equal(ap_http_parser_eof(NULL, true), AP_ERR_BAD_ARG);
    /* No input at all: nothing consumed, and an end here is a truncation. */
    assert_int_equal(ap_http_parser_feed(&p, NULL, 0, &consumed, &body, &body_len),
                     AP_ERR_NEED_MORE);
    assert_int_equal(consumed, 0);
    assert_int_equal(ap_http_parser_eof(&p, true), AP_ERR_TRUNCATED);
    assert_false(p.head_done);
}

/* ---- hostile responses -------------------------------------------------- */

static void expect_refused(const uint8_t *raw, size_t len, bool every_split)
{
    static outcome_t o;
    ap_http_parser_t p;
    size_t consumed;
    const uint8_t *body;
    size_t body_len;
    size_t cut;

    ap_http_parser_init(&p);
    feed_cut(&p, raw, len, len, &o);
    assert_int_equal(o.status, AP_ERR_HTTP_RESPONSE);
    /* The error sticks, and an end after it is no completion. */
    assert_int_equal(ap_http_parser_feed(&p, raw, len, &consumed, &body, &body_len),
                     AP_ERR_HTTP_RESPONSE);
    assert_int_equal(ap_http_parser_eof(&p, true), AP_ERR_TRUNCATED);

    ap_http_parser_init(&p);
    feed_bytewise(&p, raw, len, &o);
    assert_int_equal(o.status, AP_ERR_HTTP_RESPONSE);

    for (cut = 0; every_split && cut <= len; cut++) {
        ap_http_parser_init(&p);
        feed_cut(&p, raw, len, cut, &o);
        assert_int_equal(o.status, AP_ERR_HTTP_RESPONSE);
    }
}

typedef struct bad_case {
    const char *raw;
    size_t len;
} bad_case_t;

#define BAD(s) { s, sizeof(s) - 1 }
#define HEAD "HTTP/1.1 200 OK\r\n"
#define CHUNKED HEAD "Transfer-Encoding: chunked\r\n\r\n"

static const bad_case_t bad_cases[] = {
    /* Line endings. */
    BAD("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n"),
    BAD(HEAD "Content-Length: 0\n\r\n"),
    BAD(HEAD "Content-Length: 0\r\n\n"),
    BAD(HEAD "Content-Length: 0\r\n\r\r\n"),
    BAD("HTTP/1.1 200 OK\rX: y\r\n\r\n"),
    BAD(HEAD "X: a\rb\r\nContent-Length: 0\r\n\r\n"),
    BAD(HEAD "X: a\r\r\nContent-Length: 0\r\n\r\n"),
    /* Folding, whitespace and names. */
    BAD(HEAD "X: a\r\n b\r\nContent-Length: 0\r\n\r\n"),
    BAD(HEAD "X: a\r\n\tb\r\nContent-Length: 0\r\n\r\n"),
    BAD(HEAD " X: a\r\nContent-Length: 0\r\n\r\n"),
    BAD(HEAD "Content-Length : 0\r\n\r\n"),
    BAD(HEAD "Content-Length\t: 0\r\n\r\n"),
    BAD(HEAD "X Y: z\r\nContent-Length: 0\r\n\r\n"),
    BAD(HEAD ": x\r\nContent-Length: 0\r\n\r\n"),
    BAD(HEAD "Content-Length 0\r\n\r\n"),
    BAD(HEAD "X(y): z\r\nContent-Length: 0\r\n\r\n"),
    BAD(HEAD "X\x80: z\r\nContent-Length: 0\r\n\r\n"),
    BAD(HEAD "X: a\x01" "b\r\nContent-Length: 0\r\n\r\n"),
    BAD(HEAD "X: \x7f\r\nContent-Length: 0\r\n\r\n"),
    BAD(HEAD "X: a\0b\r\nContent-Length: 0\r\n\r\n"),
    BAD(HEAD "X: \x1b[31m\r\nContent-Length: 0\r\n\r\n"),
    /* Status lines. */
    BAD("HTTP/1.2 200 OK\r\n\r\n"),
    BAD("HTTP/2 200 OK\r\n\r\n"),
    BAD("HTTP/2.0 200 OK\r\n\r\n"),
    BAD("HTTP/0.9 200 OK\r\n\r\n"),
    BAD("http/1.1 200 OK\r\n\r\n"),
    BAD("HTTP/1.1 20 OK\r\n\r\n"),
    BAD("HTTP/1.1 2000 OK\r\n\r\n"),
    BAD("HTTP/1.1 099 Low\r\n\r\n"),
    BAD("HTTP/1.1 000 Zero\r\n\r\n"),
    BAD("HTTP/1.1  200 OK\r\n\r\n"),
    BAD("HTTP/1.1 200OK\r\n\r\n"),
    BAD("HTTP/1.1 2x0 OK\r\n\r\n"),
    BAD("HTTP/1.1\t200 OK\r\n\r\n"),
    BAD("HTTP/1.1 200 O\x01K\r\n\r\n"),
    BAD("HTTP/1.1 200 O\x7fK\r\n\r\n"),
    BAD("ICY 200 OK\r\n\r\n"),
    BAD(" HTTP/1.1 200 OK\r\n\r\n"),
    BAD("\r\nHTTP/1.1 200 OK\r\n\r\n"),
    BAD("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"),
    BAD("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching\r\n\r\n"),
    BAD("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\n"),
    /* Content-Length. */
    BAD(HEAD "Content-Length: -1\r\n\r\n"),
    BAD(HEAD "Content-Length: +5\r\n\r\nhello"),
    BAD(HEAD "Content-Length: 5a\r\n\r\nhello"),
    BAD(HEAD "Content-Length: 0x5\r\n\r\nhello"),
    BAD(HEAD "Content-Length:\r\n\r\n"),
    BAD(HEAD "Content-Length:   \r\n\r\n"),
    BAD(HEAD "Content-Length: 5 5\r\n\r\nhello"),
    BAD(HEAD "Content-Length: 5, 5\r\n\r\nhello"),
    BAD(HEAD "Content-Length: 5,5\r\n\r\nhello"),
    BAD(HEAD "Content-Length: 18446744073709551616\r\n\r\n"),
    BAD(HEAD "Content-Length: 99999999999999999999999\r\n\r\n"),
    BAD(HEAD "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello"),
    BAD(HEAD "Content-Length: 5\r\nContent-Length: 05x\r\n\r\nhello"),
    BAD(HEAD "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    BAD(HEAD "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"),
    BAD("HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n"),
    /* Transfer-Encoding. */
    BAD(HEAD "Transfer-Encoding: gzip\r\n\r\n"),
    BAD(HEAD "Transfer-Encoding: identity\r\n\r\n"),
    BAD(HEAD "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"),
    BAD(HEAD "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n"),
    BAD(HEAD "Transfer-Encoding: chunked,\r\n\r\n0\r\n\r\n"),
    BAD(HEAD "Transfer-Encoding: chunked chunked\r\n\r\n0\r\n\r\n"),
    BAD(HEAD "Transfer-Encoding: chunkedx\r\n\r\n0\r\n\r\n"),
    BAD(HEAD "Transfer-Encoding: chunk\r\n\r\n0\r\n\r\n"),
    BAD(HEAD "Transfer-Encoding: \"chunked\"\r\n\r\n0\r\n\r\n"),
    BAD(HEAD "Transfer-Encoding:\r\n\r\n"),
    BAD(HEAD "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    /* Chunk framing. */
    BAD(CHUNKED "Z\r\n"),
    BAD(CHUNKED "\r\n"),
    BAD(CHUNKED "-1\r\n"),
    BAD(CHUNKED " 5\r\nhello\r\n0\r\n\r\n"),
    BAD(CHUNKED "0x5\r\nhello\r\n0\r\n\r\n"),
    BAD(CHUNKED "10000000000000000\r\n"),
    BAD(CHUNKED "00000000000000005\r\nhello\r\n"),
    BAD(CHUNKED "5\nhello\r\n0\r\n\r\n"),
    BAD(CHUNKED "5\rhello\r\n0\r\n\r\n"),
    BAD(CHUNKED "5\r\nhelloX\r\n0\r\n\r\n"),
    BAD(CHUNKED "5\r\nhelloX\n0\r\n\r\n"),
    BAD(CHUNKED "5\r\nhello\n0\r\n\r\n"),
    BAD(CHUNKED "5\r\nhello\r\r\n0\r\n\r\n"),
    BAD(CHUNKED "5 x\r\nhello\r\n0\r\n\r\n"),
    BAD(CHUNKED "5 \r\nhello\r\n0\r\n\r\n"),
    BAD(CHUNKED "5;a\x01\r\nhello\r\n0\r\n\r\n"),
    BAD(CHUNKED "5;a\nhello\r\n0\r\n\r\n"),
    BAD(CHUNKED "5\r\nhello\r\n0\r\nX: y\r\n folded\r\n\r\n"),
    BAD(CHUNKED "5\r\nhello\r\n0\r\nX : y\r\n\r\n"),
    BAD(CHUNKED "5\r\nhello\r\n0\r\nX: y\n\r\n"),
    BAD(CHUNKED "5\r\nhello\r\n0\r\n\n"),
};

static void test_bad_cases(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        expect_refused((const uint8_t *)bad_cases[i].raw, bad_cases[i].len, true);
    }
}

/* Copies s into a byte buffer at *len; the buffer holds a raw response,
 * which is why it is not NUL-terminated. */
static void put(uint8_t *buf, size_t size, size_t *len, const char *s)
{
    size_t n = strlen(s);

    assert_true(n <= size - *len);
    memcpy(buf + *len, s, n); /* NOLINT(bugprone-not-null-terminated-result) */
    *len += n;
}

/* Builds a head of exactly total bytes: status line, Content-Length: 0,
 * one padding field, and the empty line. */
static size_t build_head_of(uint8_t *buf, size_t size, size_t total)
{
    static const char start[] = HEAD "Content-Length: 0\r\nX-Pad: ";
    static const char end[] = "\r\n\r\n";
    size_t fixed = sizeof(start) - 1 + sizeof(end) - 1;

    assert_true(total > fixed && total <= size);
    memcpy(buf, start, sizeof(start) - 1);
    memset(buf + sizeof(start) - 1, 'p', total - fixed);
    memcpy(buf + total - (sizeof(end) - 1), end, sizeof(end) - 1);
    return total;
}

static void test_head_byte_bound(void **state)
{
    static uint8_t buf[AP_HTTP_MAX_HEAD_BYTES + 16];
    static outcome_t o;
    ap_http_parser_t p;
    size_t len;

    (void)state;
    len = build_head_of(buf, sizeof(buf), AP_HTTP_MAX_HEAD_BYTES);
    ap_http_parser_init(&p);
    feed_cut(&p, buf, len, len / 2, &o);
    assert_int_equal(o.status, AP_OK);
    assert_int_equal(p.status_code, 200);

    len = build_head_of(buf, sizeof(buf), AP_HTTP_MAX_HEAD_BYTES + 1);
    expect_refused(buf, len, false);
}

/* A server that never ends its head is stopped at the bound, not read on. */
static void test_endless_head(void **state)
{
    static uint8_t buf[AP_HTTP_MAX_HEAD_BYTES * 2];
    static outcome_t o;
    ap_http_parser_t p;

    (void)state;
    memcpy(buf, HEAD, sizeof(HEAD) - 1);
    memset(buf + sizeof(HEAD) - 1, 'a', sizeof(buf) - (sizeof(HEAD) - 1));
    ap_http_parser_init(&p);
    feed_cut(&p, buf, sizeof(buf), sizeof(buf), &o);
    assert_int_equal(o.status, AP_ERR_HTTP_RESPONSE);
    assert_int_equal(o.consumed, AP_HTTP_MAX_HEAD_BYTES);
}

static size_t build_fields(uint8_t *buf, size_t size, const char *first, size_t count,
                           const char *last)
{
    size_t len = 0;
    size_t i;

    put(buf, size, &len, first);
    for (i = 0; i < count; i++) {
        put(buf, size, &len, "X-F: v\r\n");
    }
    put(buf, size, &len, last);
    return len;
}

static void test_header_count_bound(void **state)
{
    static uint8_t buf[AP_HTTP_MAX_HEADERS * 16 + 256];
    static outcome_t o;
    ap_http_parser_t p;
    size_t len;

    (void)state;
    /* Content-Length is one of the fields. */
    len = build_fields(buf, sizeof(buf), HEAD "Content-Length: 0\r\n",
                       AP_HTTP_MAX_HEADERS - 1, "\r\n");
    ap_http_parser_init(&p);
    feed_cut(&p, buf, len, 0, &o);
    assert_int_equal(o.status, AP_OK);

    len = build_fields(buf, sizeof(buf), HEAD "Content-Length: 0\r\n", AP_HTTP_MAX_HEADERS,
                       "\r\n");
    expect_refused(buf, len, false);
}

static void test_trailer_bounds(void **state)
{
    static uint8_t buf[AP_HTTP_MAX_HEAD_BYTES * 2];
    static outcome_t o;
    ap_http_parser_t p;
    size_t len;

    (void)state;
    len = build_fields(buf, sizeof(buf), CHUNKED "1\r\na\r\n0\r\n", AP_HTTP_MAX_HEADERS,
                       "\r\n");
    ap_http_parser_init(&p);
    feed_cut(&p, buf, len, 0, &o);
    assert_int_equal(o.status, AP_OK);
    assert_int_equal(o.body_len, 1);

    len = build_fields(buf, sizeof(buf), CHUNKED "1\r\na\r\n0\r\n", AP_HTTP_MAX_HEADERS + 1,
                       "\r\n");
    expect_refused(buf, len, false);

    /* One long trailer field past the byte bound. */
    len = build_fields(buf, sizeof(buf), CHUNKED "0\r\nX-Long: ", 0, "");
    memset(buf + len, 'v', AP_HTTP_MAX_HEAD_BYTES);
    len += AP_HTTP_MAX_HEAD_BYTES;
    put(buf, sizeof(buf), &len, "\r\n\r\n");
    expect_refused(buf, len, false);
}

static void test_chunk_extension_bound(void **state)
{
    static uint8_t buf[AP_HTTP_MAX_HEAD_BYTES * 5];
    static outcome_t o;
    static const char start[] = CHUNKED;
    ap_http_parser_t p;
    size_t len = sizeof(start) - 1;
    size_t n = 0;

    (void)state;
    /* Extensions on many chunks add up: "1;e\r\na\r\n" carries two bytes
     * of extension each. */
    memcpy(buf, start, len);
    while (n * 2 <= AP_HTTP_MAX_HEAD_BYTES) {
        put(buf, sizeof(buf), &len, "1;e\r\na\r\n");
        n++;
    }
    put(buf, sizeof(buf), &len, "0\r\n\r\n");
    expect_refused(buf, len, false);

    /* Just within the bound it is fine: the extensions and the empty line
     * that ends the trailers share the budget, to the byte. */
    len = sizeof(start) - 1;
    for (n = 0; n < AP_HTTP_MAX_HEAD_BYTES / 2 - 1; n++) {
        put(buf, sizeof(buf), &len, "1;e\r\na\r\n");
    }
    put(buf, sizeof(buf), &len, "0\r\n\r\n");
    ap_http_parser_init(&p);
    feed_cut(&p, buf, len, 0, &o);
    assert_int_equal(o.status, AP_OK);
    assert_int_equal(o.body_len, AP_HTTP_MAX_HEAD_BYTES / 2 - 1);
}

/* Interim responses share the head bound, so an endless stream of them
 * ends in an error rather than an endless read. */
static void test_interim_flood(void **state)
{
    static const char interim[] = "HTTP/1.1 100 Continue\r\n\r\n";
    static uint8_t buf[AP_HTTP_MAX_HEAD_BYTES * 2];
    size_t len = 0;

    (void)state;
    while (len + sizeof(interim) - 1 <= sizeof(buf)) {
        memcpy(buf + len, interim, sizeof(interim) - 1);
        len += sizeof(interim) - 1;
    }
    expect_refused(buf, len, false);
}

/* ---- Retry-After capture ------------------------------------------------ */

typedef struct retry_after_case {
    const char *raw;
    const char *value;   /* what the parser must keep */
} retry_after_case_t;

static const retry_after_case_t retry_after_cases[] = {
    { "HTTP/1.1 503 x\r\nRetry-After: 120\r\nContent-Length: 0\r\n\r\n", "120" },
    { "HTTP/1.1 429 x\r\nretry-AFTER:\t 7 \t\r\nContent-Length: 0\r\n\r\n", "7" },
    { "HTTP/1.1 503 x\r\nRetry-After: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
      "Content-Length: 0\r\n\r\n", "Sun, 06 Nov 1994 08:49:37 GMT" },
    { "HTTP/1.1 503 x\r\nRetry-After: Wednesday, 09-Nov-94 08:49:37 GMT\r\n"
      "Content-Length: 0\r\n\r\n", "Wednesday, 09-Nov-94 08:49:37 GMT" },
    /* Kept as sent; whether it makes sense is the queue's question. */
    { "HTTP/1.1 503 x\r\nRetry-After: soon, please\r\nContent-Length: 0\r\n\r\n",
      "soon, please" },
    { "HTTP/1.1 503 x\r\nContent-Length: 0\r\n\r\n", "" },
    { "HTTP/1.1 503 x\r\nRetry-After:\r\nContent-Length: 0\r\n\r\n", "" },
    /* Two values: neither is trusted. */
    { "HTTP/1.1 503 x\r\nRetry-After: 1\r\nRetry-After: 2\r\nContent-Length: 0\r\n\r\n",
      "" },
    /* 39 bytes fit, 40 do not: a cut value would be another value. */
    { "HTTP/1.1 503 x\r\nRetry-After: 123456789012345678901234567890123456789\r\n"
      "Content-Length: 0\r\n\r\n", "123456789012345678901234567890123456789" },
    { "HTTP/1.1 503 x\r\nRetry-After: 1234567890123456789012345678901234567890\r\n"
      "Content-Length: 0\r\n\r\n", "" },
    /* An interim response's field does not carry into the final one. */
    { "HTTP/1.1 103 Early\r\nRetry-After: 5\r\n\r\n"
      "HTTP/1.1 503 x\r\nContent-Length: 0\r\n\r\n", "" },
    /* Nor does a trailer's. */
    { "HTTP/1.1 503 x\r\nRetry-After: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0\r\nRetry-After: 9\r\n\r\n", "3" },
    { "HTTP/1.1 503 x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0\r\nRetry-After: 9\r\n\r\n", "" },
    { "HTTP/1.1 503 x\r\nRetry-After-Not: 4\r\nX-Retry-After: 4\r\n"
      "Content-Length: 0\r\n\r\n", "" },
};

static void test_retry_after_captured(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(retry_after_cases) / sizeof(retry_after_cases[0]); i++) {
        const retry_after_case_t *c = &retry_after_cases[i];
        const uint8_t *raw = (const uint8_t *)c->raw;
        size_t len = strlen(c->raw);
        size_t cut;
        ap_http_parser_t p;
        outcome_t o;

        for (cut = 0; cut <= len; cut++) {
            ap_http_parser_init(&p);
            feed_cut(&p, raw, len, cut, &o);
            assert_int_equal(o.status, AP_OK);
            assert_string_equal(p.retry_after, c->value);
        }
        ap_http_parser_init(&p);
        feed_bytewise(&p, raw, len, &o);
        assert_int_equal(o.status, AP_OK);
        assert_string_equal(p.retry_after, c->value);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_every_split),
        cmocka_unit_test(test_good_truncated_everywhere),
        cmocka_unit_test(test_body_comes_with_ok),
        cmocka_unit_test(test_huge_chunk_streams),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_bad_cases),
        cmocka_unit_test(test_head_byte_bound),
        cmocka_unit_test(test_endless_head),
        cmocka_unit_test(test_header_count_bound),
        cmocka_unit_test(test_trailer_bounds),
        cmocka_unit_test(test_chunk_extension_bound),
        cmocka_unit_test(test_interim_flood),
        cmocka_unit_test(test_retry_after_captured),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
