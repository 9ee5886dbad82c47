/*
 * Fuzz target for the response parser.
 *
 * Input: one control byte, then the response. The response is parsed three
 * ways: whole, cut in two at a point chosen by the control byte, and in
 * pieces whose size the control byte also picks. Each piece is copied into
 * a heap block of exactly its size so that a read past it is caught. All
 * three must agree on everything the caller can see (the parser is meant to
 * be independent of how the stream was split), and every call must keep the
 * feed contract. A violation aborts.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alertpost/ap_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct ap_fuzz_run {
    ap_status_t status;
    size_t consumed;
    uint8_t *body;          /* room for len bytes: a body is never longer */
    size_t body_len;
    ap_http_parser_t parser;
    ap_status_t eof_clean;
    ap_status_t eof_unclean;
} ap_fuzz_run_t;

static void ap_fuzz_require(bool ok)
{
    if (!ok) {
        abort();
    }
}

static void ap_fuzz_piece(ap_fuzz_run_t *r, const uint8_t *src, size_t n)
{
    ap_http_parser_t *p = &r->parser;
    uint8_t *piece = malloc(n > 0 ? n : 1);
    size_t off = 0;

    ap_fuzz_require(piece != NULL);
    if (n > 0) {
        memcpy(piece, src, n);
    }
    do {
        size_t consumed = (size_t)-1;
        size_t body_len = (size_t)-1;
        const uint8_t *body = piece;
        ap_status_t st = ap_http_parser_feed(p, piece + off, n - off, &consumed,
                                             &body, &body_len);

        ap_fuzz_require(st == AP_OK || st == AP_ERR_NEED_MORE ||
                        st == AP_ERR_HTTP_RESPONSE);
        ap_fuzz_require(consumed <= n - off);
        if (body_len > 0) {
            ap_fuzz_require(st != AP_ERR_HTTP_RESPONSE);
            ap_fuzz_require(body >= piece + off && body + body_len == piece + off + consumed);
            memcpy(r->body + r->body_len, body, body_len);
            r->body_len += body_len;
        } else {
            ap_fuzz_require(body == NULL);
        }
        if (st == AP_ERR_NEED_MORE && off < n) {
            ap_fuzz_require(consumed > 0);
        }
        if (st == AP_OK) {
            ap_fuzz_require(p->head_done);
        }
        if (p->head_done) {
            ap_fuzz_require(p->status_code >= 200 && p->status_code <= 999);
            ap_fuzz_require(!(p->chunked && p->has_content_length));
            if (p->has_content_length) {
                ap_fuzz_require(p->body_received <= p->content_length);
            }
            if (p->status_code == 204 || p->status_code == 304) {
                ap_fuzz_require(p->body_received == 0);
            }
        } else {
            ap_fuzz_require(p->body_received == 0);
        }
        ap_fuzz_require(p->body_received == r->body_len);
        off += consumed;
        r->consumed += consumed;
        r->status = st;
    } while (r->status == AP_ERR_NEED_MORE && off < n);
    free(piece);
}

/* Feeds [0, cut) at once, then the rest in pieces of step bytes. */
static void ap_fuzz_run(ap_fuzz_run_t *r, const uint8_t *msg, size_t len, size_t cut,
                        size_t step)
{
    size_t at;
    ap_http_parser_t copy;

    r->status = AP_ERR_NEED_MORE;
    r->consumed = 0;
    r->body_len = 0;
    ap_http_parser_init(&r->parser);

    ap_fuzz_piece(r, msg, cut);
    for (at = cut; r->status == AP_ERR_NEED_MORE && at < len; at += step) {
        size_t n = (len - at < step) ? len - at : step;
        ap_fuzz_piece(r, msg + at, n);
    }
    if (r->status == AP_ERR_NEED_MORE) {
        ap_fuzz_require(r->consumed == len);
    }

    copy = r->parser;
    r->eof_unclean = ap_http_parser_eof(&copy, false);
    copy = r->parser;
    r->eof_clean = ap_http_parser_eof(&copy, true);
    if (r->status == AP_OK) {
        ap_fuzz_require(r->eof_clean == AP_OK && r->eof_unclean == AP_OK);
    } else {
        /* Only a clean close can complete an incomplete response. */
        ap_fuzz_require(r->eof_unclean == AP_ERR_TRUNCATED);
        if (r->eof_clean == AP_OK) {
            ap_fuzz_require(r->status == AP_ERR_NEED_MORE && r->parser.head_done &&
                            !r->parser.keep_alive && !r->parser.chunked &&
                            !r->parser.has_content_length);
        }
    }
}

static void ap_fuzz_same(const ap_fuzz_run_t *a, const ap_fuzz_run_t *b)
{
    const ap_http_parser_t *p = &a->parser;
    const ap_http_parser_t *q = &b->parser;

    ap_fuzz_require(a->status == b->status);
    ap_fuzz_require(a->body_len == b->body_len);
    ap_fuzz_require(memcmp(a->body, b->body, a->body_len) == 0);
    ap_fuzz_require(a->eof_clean == b->eof_clean && a->eof_unclean == b->eof_unclean);
    ap_fuzz_require(p->head_done == q->head_done);
    /* Even where an error stops the parse depends on the bytes alone. */
    ap_fuzz_require(a->consumed == b->consumed);
    if (p->head_done) {
        ap_fuzz_require(p->status_code == q->status_code);
        ap_fuzz_require(p->keep_alive == q->keep_alive);
        ap_fuzz_require(p->chunked == q->chunked);
        ap_fuzz_require(p->has_content_length == q->has_content_length);
        ap_fuzz_require(!p->has_content_length || p->content_length == q->content_length);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ap_fuzz_run_t runs[3];
    const uint8_t *msg;
    size_t len;
    size_t cut;
    size_t step;
    size_t i;

    if (size < 1) {
        return 0;
    }
    msg = data + 1;
    len = size - 1;
    cut = (size_t)data[0] * len / 255u;
    step = (size_t)(data[0] & 0x0Fu) + 1u;

    for (i = 0; i < 3; i++) {
        runs[i].body = malloc(len > 0 ? len : 1);
        ap_fuzz_require(runs[i].body != NULL);
    }
    ap_fuzz_run(&runs[0], msg, len, len, 1);
    ap_fuzz_run(&runs[1], msg, len, cut, len > 0 ? len : 1);
    ap_fuzz_run(&runs[2], msg, len, 0, step);
    ap_fuzz_same(&runs[0], &runs[1]);
    ap_fuzz_same(&runs[0], &runs[2]);
    for (i = 0; i < 3; i++) {
        free(runs[i].body);
        runs[i].body = NULL;
    }
    return 0;
}
