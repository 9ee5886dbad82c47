/*
 * HTTP/1.1 pipelining over the client loop's parts (ap_client_internal.h).
 *
 * Requests are written as they are given and answers are read in order,
 * through a read buffer of the pipeline's own: one read may hold the end of
 * one answer and the start of the next, and the client's work buffer is
 * overwritten by every request head written in between.
 *
 * The one rule that keeps the promises: once the connection ends or fails,
 * nothing more is written on it, and every request still in flight is
 * handed back, oldest first, with how far it got (written but unanswered;
 * answer cut short). Nothing is sent again here: whether a request goes out
 * a second time, and how that is counted, is the caller's decision.
 */
#include <string.h>

#include "alertpost/ap_pipeline.h"
#include "ap_client_internal.h"
#include "http/ap_http_chars.h"

ap_status_t ap_pipeline_init(ap_pipeline_t *p, ap_client_t *client)
{
    if (p == NULL || client == NULL || !client->initialised) {
        return AP_ERR_BAD_ARG;
    }
    memset(p, 0, sizeof(*p));
    p->client = client;
    p->ended = AP_OK;
    if (!client->cfg.keep_alive) {
        ap_client_set_error(client, "pipelining needs a kept-alive connection "
                                    "(keep_alive is off)");
        return AP_ERR_BAD_ARG;
    }
    return AP_OK;
}

size_t ap_pipeline_in_flight(const ap_pipeline_t *p)
{
    return (p != NULL) ? p->in_flight : 0;
}

bool ap_pipeline_closing(const ap_pipeline_t *p)
{
    return p != NULL && p->closing && p->in_flight > 0;
}

/* A request a server can recognise when it sees it twice. */
static bool has_key(const ap_request_t *req)
{
    size_t i;

    for (i = 0; i < req->header_count; i++) {
        const ap_header_t *h = &req->headers[i];

        if (h->name != NULL && ap_http_name_is(h->name, "idempotency-key") &&
            h->value != NULL && h->value[0] != '\0') {
            return true;
        }
    }
    return false;
}

/* No more answers can come on this connection: close it, and say why. */
static void end_connection(ap_pipeline_t *p, ap_status_t why, bool server_first)
{
    ap_client_drop(p->client, server_first);
    p->ended = why;
    p->closing = true;
    p->rx_off = 0;
    p->rx_len = 0;
}

/* With nothing in flight, a new send starts on a usable connection. */
static void start_over(ap_pipeline_t *p)
{
    if (p->closing) {
        ap_client_drop(p->client, false);
    }
    p->closing = false;
    p->announced = false;
    p->ended = AP_OK;
    p->rx_off = 0;
    p->rx_len = 0;
}

static ap_status_t refuse_unsent(ap_pipeline_t *p, ap_status_t cause)
{
    ap_client_t *c = p->client;

    c->info.failure = cause;
    ap_client_set_error(c, "the connection to %s %s before this request was written: it "
                           "was not sent; send it on a new connection",
                        c->url.host,
                        p->announced ? "announced its close" : "ended or failed");
    return AP_ERR_NOT_SENT;
}

/* Connect if needed and write; one fresh connection when a reused one
 * turns out dead before any byte left (no request can be a re-send then). */
static ap_status_t connect_and_write(ap_pipeline_t *p, const ap_request_t *req)
{
    ap_client_t *c = p->client;
    ap_status_t st = AP_ERR_IO;
    int attempt;

    for (attempt = 0; attempt < 2; attempt++) {
        bool fresh = p->in_flight == 0;

        if (fresh) {
            st = ap_client_connect(c);
            if (st != AP_OK) {
                return st;
            }
        }
        st = ap_client_send_request(c, req);
        if (st == AP_OK) {
            return st;
        }
        if (st == AP_ERR_NO_SPACE || st == AP_ERR_BAD_ARG) {
            return ap_client_unsent(c, st); /* the head: nothing was written */
        }
        if (c->wire_sent > 0) {
            ap_response_t none;

            memset(&none, 0, sizeof(none));
            p->closing = true; /* answers to earlier requests may still come */
            return ap_client_unknown(c, st, &none);
        }
        if (!fresh) {
            p->closing = true;
            return refuse_unsent(p, st);
        }
        ap_client_drop(c, false);
        if (attempt > 0 || !c->info.reused_connection) {
            break;
        }
        c->info.stale_connections++;
        c->error[0] = '\0';
    }
    return ap_client_unsent(c, st);
}

ap_status_t ap_pipeline_send(ap_pipeline_t *p, const ap_request_t *req)
{
    ap_client_t *c;
    ap_status_t st;

    if (p == NULL || p->client == NULL || req == NULL ||
        (req->body == NULL && req->body_len > 0) ||
        (req->headers == NULL && req->header_count > 0)) {
        return AP_ERR_BAD_ARG;
    }
    c = p->client;
    ap_client_begin_call(c);
    if (!has_key(req)) {
        ap_client_set_error(c, "only a request with an Idempotency-Key header may be "
                               "pipelined: a server may see it twice after an early close");
        return AP_ERR_BAD_ARG;
    }
    if (p->in_flight >= AP_PIPELINE_MAX) {
        ap_client_set_error(c, "%u requests are in flight, the most a pipeline holds "
                               "(AP_PIPELINE_MAX): receive one first",
                            (unsigned)AP_PIPELINE_MAX);
        return AP_ERR_NO_SPACE;
    }
    if (p->in_flight == 0) {
        start_over(p);
    } else if (p->closing) {
        return refuse_unsent(p, p->ended != AP_OK ? p->ended : AP_ERR_CLOSED);
    }
    st = connect_and_write(p, req);
    if (st == AP_OK) {
        p->in_flight++;
    }
    ap_client_end_call(c);
    return st;
}

/* The oldest request's answer can no longer come. */
static ap_status_t unanswered(ap_pipeline_t *p)
{
    ap_client_t *c = p->client;

    c->info.failure = p->ended;
    ap_client_set_error(c, "%s %s before answering this pipelined request: it was not "
                           "delivered%s; send it again on a new connection",
                        c->url.host,
                        p->announced ? "closed the connection as it had announced"
                        : p->ended == AP_ERR_CLOSED ? "closed the connection"
                                                    : "failed on an earlier answer",
                        p->announced ? " (the server did not process it)" : "");
    return AP_ERR_UNANSWERED;
}

/* Read until the oldest answer is complete, or the stream ends or fails. */
static ap_status_t read_answer(ap_pipeline_t *p, ap_http_parser_t *parser, ap_response_t *resp)
{
    ap_client_t *c = p->client;
    bool any = false;

    ap_http_parser_init(parser);
    for (;;) {
        size_t used = 0;
        ap_status_t st;

        if (p->rx_off == p->rx_len) {
            int32_t n = ap_tls_read(c, p->rx, sizeof(p->rx));

            if (n == AP_ERR_CLOSED || n == AP_ERR_TRUNCATED) {
                st = ap_http_parser_eof(parser, n == AP_ERR_CLOSED);
                end_connection(p, AP_ERR_CLOSED, false);
                if (st == AP_OK) {
                    return AP_OK; /* an answer delimited by the close itself */
                }
                return any ? ap_client_unknown(c, AP_ERR_TRUNCATED, resp) : unanswered(p);
            }
            if (n <= 0) {
                st = (n == 0) ? AP_ERR_IO : (ap_status_t)n;
                end_connection(p, st, false);
                return ap_client_unknown(c, st, resp);
            }
            p->rx_off = 0;
            p->rx_len = (size_t)n;
        }
        any = true;
        st = ap_client_feed_response(c, parser, resp, p->rx + p->rx_off, p->rx_len - p->rx_off,
                                     &used);
        p->rx_off += used;
        if (st == AP_OK) {
            return AP_OK;
        }
        if (st != AP_ERR_NEED_MORE) {
            end_connection(p, st, false);
            return ap_client_unknown(c, st, resp);
        }
    }
}

ap_status_t ap_pipeline_receive(ap_pipeline_t *p, ap_response_t *resp)
{
    ap_http_parser_t parser;
    ap_client_t *c;
    ap_status_t st;

    if (p == NULL || p->client == NULL || resp == NULL) {
        return AP_ERR_BAD_ARG;
    }
    c = p->client;
    ap_client_begin_call(c);
    ap_client_reset_response(resp);
    if (p->in_flight == 0) {
        ap_client_set_error(c, "no pipelined request is in flight");
        return AP_ERR_BAD_ARG;
    }
    p->in_flight--;
    if (p->ended != AP_OK) {
        st = unanswered(p);
    } else {
        st = read_answer(p, &parser, resp);
        if (st == AP_OK && p->ended == AP_OK && !parser.keep_alive) {
            /* it takes no request after this one (RFC 9112, 9.6) */
            p->announced = true;
            end_connection(p, AP_ERR_CLOSED, true);
        }
        if (st == AP_OK && (resp->status_code < 200 || resp->status_code > 299)) {
            st = ap_client_not_2xx(c, resp);
        }
    }
    if (p->in_flight == 0 && p->ended == AP_OK && p->rx_off < p->rx_len) {
        end_connection(p, AP_ERR_HTTP_RESPONSE, false); /* more than was asked for */
        c->info.stale_connections++;
    }
    ap_client_end_call(c);
    return st;
}
