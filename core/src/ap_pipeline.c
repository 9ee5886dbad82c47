/*
 * HTTP/1.1 pipelining over the client loop's parts (ap_client_internal.h).
 *
 * Requests are gathered in the pipeline's output buffer and written
 * together: when the next one does not fit, before a read would have to
 * wait for the server (ap_pipeline_receive), or on ap_pipeline_flush(). A
 * window of short alerts so leaves as one TLS record and one send, which is
 * what pipelining saves on a fast link. Answers are read in order through a
 * read buffer of the pipeline's own: one read may hold the end of one answer
 * and the start of the next.
 *
 * The one rule that keeps the promises: once the connection ends or fails,
 * nothing more is written on it, and every request still in flight is
 * handed back, oldest first, with how far it got (still in the buffer: not
 * sent; written but unanswered; written in part or answer cut short:
 * outcome unknown). Nothing is sent again here: whether a request goes out
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

size_t ap_pipeline_gathered(const ap_pipeline_t *p)
{
    return (p != NULL) ? p->buffered : 0;
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

/* The requests still in the output buffer will never be written. */
static void abandon_buffered(ap_pipeline_t *p, ap_status_t why)
{
    if (p->buffered > 0) {
        p->unsent += p->buffered;
        p->buffered = 0;
        p->tx_len = 0;
        p->write_failure = why;
    }
}

/* No more answers can come on this connection: close it, and say why. */
static void end_connection(ap_pipeline_t *p, ap_status_t why, bool server_first)
{
    abandon_buffered(p, why);
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
    p->buffered = 0;
    p->unknown = 0;
    p->unsent = 0;
    p->first_unsent = false;
    p->tx_len = 0;
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

/* Write a request too large for the output buffer on its own (what was
 * gathered before it has been written); one fresh connection when a reused
 * one turns out dead before any byte left (no request can be a re-send
 * then). */
static ap_status_t write_direct(ap_pipeline_t *p, const ap_request_t *req)
{
    ap_client_t *c = p->client;
    ap_status_t st = AP_ERR_IO;
    int attempt;

    for (attempt = 0; attempt < 2; attempt++) {
        bool fresh = p->in_flight == 0;

        if (fresh && attempt > 0) {
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
            p->write_failure = st;
            return ap_client_unknown(c, st, &none);
        }
        if (!fresh) {
            p->closing = true;
            p->write_failure = st;
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

/* Where buffered request i begins in tx. */
static size_t tx_start(const ap_pipeline_t *p, size_t i)
{
    return (i == 0) ? 0 : p->tx_end[i - 1];
}

/* A write of the buffer failed after `done` of its bytes were taken
 * (`moved`: some bytes of the failed write itself left, in a TLS record the
 * server cannot have read whole). Each buffered request is then written
 * (all of it was taken), unknown (some of it may have left) or unsent;
 * they are so handed back, in order, by ap_pipeline_receive(). */
static void settle_failed_write(ap_pipeline_t *p, size_t done, bool moved, ap_status_t why)
{
    bool nothing_before = p->in_flight == p->buffered; /* no earlier request written */
    size_t written = 0;
    size_t unknown = 0;
    size_t i;

    for (i = 0; i < p->buffered; i++) {
        if (p->tx_end[i] <= done) {
            written++;
        } else if (moved || tx_start(p, i) < done) {
            unknown++;
        }
    }
    p->unknown = unknown;
    p->unsent = p->buffered - written - unknown;
    p->first_unsent = nothing_before && written == 0 && unknown == 0;
    p->write_failure = why;
    p->buffered = 0;
    p->tx_len = 0;
    p->closing = true; /* answers to what was written may still come */
}

/* Write the buffer once; AP_OK, or the failure with *done and *moved. */
static ap_status_t write_buffer(ap_pipeline_t *p, size_t *done, bool *moved)
{
    ap_client_t *c = p->client;

    *done = 0;
    *moved = false;
    c->wire_sent = 0;
    while (*done < p->tx_len) {
        uint32_t before = c->wire_sent;
        int32_t n = ap_tls_write(c, p->tx + *done, p->tx_len - *done);

        if (n <= 0) {
            ap_status_t st = (n == 0) ? AP_ERR_IO : (ap_status_t)n;

            /* a refused client certificate: the server read nothing */
            *moved = c->wire_sent != before && st != AP_ERR_TLS_CLIENT_CERT;
            return st;
        }
        *done += (size_t)n;
    }
    return AP_OK;
}

/* Write what the buffer holds. A reused connection that turns out dead
 * before any byte of the first write on it left is replaced once, as
 * ap_post() does: nothing in flight can be a re-send then. */
static ap_status_t flush_tx(ap_pipeline_t *p)
{
    ap_client_t *c = p->client;
    size_t done = 0;
    bool moved = false;
    ap_status_t st;

    if (p->buffered == 0) {
        return AP_OK;
    }
    st = write_buffer(p, &done, &moved);
    if (st != AP_OK && done == 0 && !moved && p->in_flight == p->buffered &&
        c->info.reused_connection) {
        ap_client_drop(c, false);
        c->info.stale_connections++;
        c->error[0] = '\0';
        st = ap_client_connect(c);
        if (st == AP_OK) {
            st = write_buffer(p, &done, &moved);
        }
    }
    if (st != AP_OK) {
        settle_failed_write(p, done, moved, st);
        return st;
    }
    p->buffered = 0;
    p->tx_len = 0;
    return AP_OK;
}

/* Gather the request in the buffer, writing what it holds first when it
 * does not fit; a request larger than the buffer is written on its own. */
static ap_status_t add_request(ap_pipeline_t *p, const ap_request_t *req)
{
    ap_client_t *c = p->client;
    size_t len = 0;
    ap_status_t st;

    st = ap_client_compose_into(c, req, p->tx + p->tx_len, sizeof(p->tx) - p->tx_len, &len);
    if (st == AP_ERR_NO_SPACE && p->buffered > 0) {
        st = flush_tx(p);
        if (st != AP_OK) {
            return refuse_unsent(p, st);
        }
        st = ap_client_compose_into(c, req, p->tx, sizeof(p->tx), &len);
    }
    if (st == AP_ERR_NO_SPACE) {
        return write_direct(p, req);
    }
    if (st != AP_OK) {
        return ap_client_unsent(c, st); /* the head: nothing was written */
    }
    p->tx_len += len;
    p->tx_end[p->buffered++] = p->tx_len;
    return AP_OK;
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
        st = ap_client_connect(c);
        if (st != AP_OK) {
            ap_client_end_call(c);
            return st;
        }
    } else if (p->closing) {
        return refuse_unsent(p, p->ended != AP_OK           ? p->ended
                                : p->write_failure != AP_OK ? p->write_failure
                                                            : AP_ERR_CLOSED);
    }
    st = add_request(p, req);
    if (st == AP_OK) {
        p->in_flight++;
    }
    ap_client_end_call(c);
    return st;
}

ap_status_t ap_pipeline_flush(ap_pipeline_t *p)
{
    ap_status_t st;

    if (p == NULL || p->client == NULL) {
        return AP_ERR_BAD_ARG;
    }
    ap_client_begin_call(p->client);
    st = flush_tx(p);
    if (st != AP_OK) {
        p->client->info.failure = st;
    }
    ap_client_end_call(p->client);
    return st;
}

/* Nothing of the oldest request was written. The first request of a
 * connection that failed before any of them left gets what ap_post()
 * returns then (a refused client certificate, a close, a timeout). */
static ap_status_t not_written(ap_pipeline_t *p)
{
    ap_client_t *c = p->client;
    bool first = p->first_unsent;

    p->unsent--;
    p->first_unsent = false;
    if (first) {
        return ap_client_unsent(c, p->write_failure);
    }
    return refuse_unsent(p, p->ended != AP_OK ? p->ended : p->write_failure);
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

/* Read what has arrived. With requests still gathered, look first without
 * waiting: while answers keep coming, the requests that follow gather (and
 * later leave together); before a read would wait, they are written, since
 * the server may be waiting for them. */
static int32_t read_more(ap_pipeline_t *p)
{
    ap_client_t *c = p->client;

    if (p->buffered > 0) {
        int32_t n;

        c->polling = true;
        n = ap_tls_read(c, p->rx, sizeof(p->rx));
        c->polling = false;
        if (n != AP_ERR_TIMEOUT) {
            return n;
        }
        c->error[0] = '\0';
        if (flush_tx(p) != AP_OK) {
            /* said with the requests it held; the answers written may still come */
            c->error[0] = '\0';
        }
    }
    return ap_tls_read(c, p->rx, sizeof(p->rx));
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
            int32_t n = read_more(p);

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
    if (p->in_flight == p->buffered && flush_tx(p) != AP_OK &&
        p->in_flight > p->unsent + p->unknown) {
        c->error[0] = '\0'; /* the oldest left whole: the failure is the others' */
    }
    p->in_flight--;
    if (p->in_flight < p->unsent) {
        st = not_written(p);
    } else if (p->in_flight < p->unsent + p->unknown) {
        p->unknown--;
        st = ap_client_unknown(c, p->write_failure, resp);
    } else if (p->ended != AP_OK) {
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
