/**
 * @file ap_pipeline.h
 * @brief HTTP/1.1 pipelining: several alerts in flight on one kept-alive
 * connection, their answers matched in order.
 *
 * Usage (a sliding window of up to `window` requests):
 *   ap_pipeline_t pl;                      // caller-owned; no allocation
 *   ap_pipeline_init(&pl, &client);
 *   while (alerts left or ap_pipeline_in_flight(&pl) > 0) {
 *       while (alerts left && ap_pipeline_in_flight(&pl) < window &&
 *              !ap_pipeline_closing(&pl))
 *           ap_pipeline_send(&pl, &next_alert);      // remember it, in order
 *       st = ap_pipeline_receive(&pl, &resp);        // the oldest one's answer
 *   }
 *
 * Contract. Only a request that carries an Idempotency-Key header may be
 * pipelined: a request a server may have to see twice must be one it can
 * recognise. Each ap_pipeline_receive() gives the result of the oldest
 * request whose ap_pipeline_send() returned AP_OK, so that the i-th receive
 * answers the i-th accepted send. An alert is delivered only when its
 * receive returns AP_OK (a complete 2xx response). The pipeline never sends
 * a request again by itself: when the server closes early (Connection: close
 * on an answer while later requests are in flight, or the end of the stream),
 * every request written and not answered comes back as AP_ERR_UNANSWERED and
 * every request refused because the connection was ending, or still
 * gathered and never written, as AP_ERR_NOT_SENT, and the caller decides
 * whether to send it again on a new connection (an unanswered one counts as
 * a re-send).
 *
 * Gathering. An accepted request is composed into the pipeline's output
 * buffer (AP_PIPELINE_WRITE_SIZE) and written with the others there, in one
 * TLS record and one send where they fit: when the next request does not
 * fit, when ap_pipeline_receive() would otherwise wait for an answer, or on
 * ap_pipeline_flush(). ap_pipeline_receive() first reads what has arrived
 * without waiting, so that while answers keep coming the requests that
 * follow them gather. A request larger than the buffer is written at once
 * on its own, after what was gathered. A write that fails is reported by
 * the receives of the requests it carried: each one's outcome is exact
 * (written whole: its answer, or AP_ERR_UNANSWERED; written in part:
 * AP_ERR_OUTCOME_UNKNOWN; nothing of it written: AP_ERR_NOT_SENT).
 *
 * Deadlock. Requests are written with blocking writes and answers are read
 * only by ap_pipeline_receive(), which writes the gathered requests before
 * it waits; while the client writes, the server may be
 * writing answers that nobody reads yet. That cannot block both sides as
 * long as the window's requests and answers fit in the two sockets' buffers
 * (tens of kilobytes on every TCP stack, including lwIP's defaults for a few
 * segments): the window is at most AP_PIPELINE_MAX requests, each alert is
 * small (a head that fits work_buf and a short body), and so are the
 * answers. Beyond that bound a write times out after io_timeout_ms rather
 * than hanging. A caller with large bodies keeps the window small.
 *
 * Timing: each send and each receive is one call with its own deadline_ms,
 * and each of its transport steps is bounded by io_timeout_ms.
 *
 * The client MUST NOT be used for ap_post() while requests are in flight.
 */
#ifndef ALERTPOST_AP_PIPELINE_H
#define ALERTPOST_AP_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alertpost/alertpost.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The pipeline over one client. Caller-owned, opaque. */
typedef struct ap_pipeline {
    ap_client_t *client;
    /* Accepted and not yet received, oldest first: written ones, then either
     * the `buffered` ones still in tx, or, after a failed write, the
     * `unknown` ones (written in part) and the `unsent` ones. */
    size_t in_flight;
    size_t buffered;
    size_t unknown;
    size_t unsent;
    bool first_unsent;          /* the oldest unsent failed the connection's first write */
    ap_status_t write_failure;  /* why the write failed */
    bool closing;           /* this connection takes no more requests */
    bool announced;         /* the server said Connection: close */
    ap_status_t ended;      /* AP_OK while answers can come; else why they cannot */
    size_t tx_len;          /* gathered bytes: tx[0..tx_len) */
    size_t tx_end[AP_PIPELINE_MAX]; /* where each buffered request ends in tx */
    size_t rx_off;          /* unread bytes of rx: rx[rx_off..rx_len) */
    size_t rx_len;
    uint8_t tx[AP_PIPELINE_WRITE_SIZE];
    uint8_t rx[AP_PIPELINE_READ_SIZE];
} ap_pipeline_t;

/**
 * @brief Bind a pipeline to an initialised client.
 * @return AP_OK; AP_ERR_BAD_ARG: NULL, a client not initialised, or one
 *         configured without keep_alive (every request would end its
 *         connection).
 */
ap_status_t ap_pipeline_init(ap_pipeline_t *p, ap_client_t *client);

/**
 * @brief Put one request in flight on the pipeline's connection, without
 * waiting for its answer: it is gathered in the output buffer (which is
 * written first when it cannot take the request), or written at once when
 * it is larger than the buffer. With nothing in flight, the kept-alive
 * connection is polled first and replaced if it is unusable, as ap_post()
 * does, or a new one is opened. A reused connection that fails before any
 * byte of its first write left is replaced once.
 *
 * The request's buffers are used only during the call.
 *
 * @return AP_OK: in flight, gathered or written (its answer comes from a
 *           later ap_pipeline_receive(), in order, which also says what
 *           became of it if a later write of the buffer fails);
 *         AP_ERR_BAD_ARG: NULL, or a request without an Idempotency-Key
 *           header (ap_client_error() says so);
 *         AP_ERR_NO_SPACE: AP_PIPELINE_MAX requests are in flight (receive
 *           one first), or the head does not fit in work_buf;
 *         AP_ERR_NOT_SENT: with other requests in flight, nothing of this
 *           one was written: the connection is ending (ap_pipeline_closing()),
 *           or it failed before any byte of this request left, or writing
 *           the buffer to make room failed (info.failure says how);
 *         AP_ERR_OUTCOME_UNKNOWN: part of it was written, then the write
 *           failed (info.failure); it is not in flight, and no further
 *           request is taken on this connection;
 *         with nothing else in flight and nothing written, what ap_post()
 *           returns then: AP_ERR_DNS, AP_ERR_CONNECT, AP_ERR_TIMEOUT, AP_ERR_IO,
 *           AP_ERR_CLOSED, AP_ERR_TLS_VERSION, AP_ERR_TLS_CERT,
 *           AP_ERR_TLS_PIN, AP_ERR_TLS_CLIENT_CERT, AP_ERR_TLS.
 *         Only AP_OK puts the request in flight.
 */
ap_status_t ap_pipeline_send(ap_pipeline_t *p, const ap_request_t *req);

/**
 * @brief Wait for the answer to the oldest request in flight and read it
 * whole. resp is filled as ap_post() fills it.
 *
 * @return AP_OK: a complete 2xx answer: delivered;
 *         AP_ERR_HTTP_STATUS: a complete answer that is not 2xx (also 408 and
 *           5xx in the middle of a pipeline: the requests behind it are
 *           still answered, unless the server closes);
 *         AP_ERR_TLS_CLIENT_CERT: a complete 400, 403, 495 or 496 from a
 *           server that asked for a client certificate none was given for;
 *         AP_ERR_UNANSWERED: written whole, and the connection ended before
 *           any byte of this answer: the server announced its close on an
 *           earlier answer, or the stream ended (info.failure: AP_ERR_CLOSED),
 *           or it failed while an earlier answer was being read
 *           (info.failure: that failure); not delivered;
 *         AP_ERR_NOT_SENT: nothing of this request was written: it was still
 *           gathered when the connection ended (info.failure: why), or the
 *           write of the buffer failed before any of it left (info.failure:
 *           the write's failure); not delivered;
 *         AP_ERR_TIMEOUT, AP_ERR_IO, AP_ERR_CLOSED, AP_ERR_TLS,
 *           AP_ERR_TLS_CLIENT_CERT: the same, for the oldest request of a
 *           connection whose first write failed before any byte left (what
 *           ap_post() returns then);
 *         AP_ERR_OUTCOME_UNKNOWN: part of the answer came and then the stream
 *           ended or failed (AP_ERR_TRUNCATED), the answer was invalid
 *           (AP_ERR_HTTP_RESPONSE), or the wait for it timed out or the
 *           connection failed (AP_ERR_TIMEOUT, AP_ERR_IO, AP_ERR_TLS), or
 *           the write of the buffer failed with part of this request out
 *           (that failure), as info.failure says; the requests behind it are
 *           then unanswered or not sent;
 *         AP_ERR_BAD_ARG: NULL, or nothing in flight.
 *         Any status but AP_ERR_BAD_ARG takes the request out of flight.
 */
ap_status_t ap_pipeline_receive(ap_pipeline_t *p, ap_response_t *resp);

/**
 * @brief Write the gathered requests now (ap_pipeline_receive() does so
 * before it waits; a caller that waits for something else first calls this).
 *
 * @return AP_OK: nothing is left gathered (written, or there was nothing);
 *         AP_ERR_BAD_ARG: NULL;
 *         AP_ERR_TIMEOUT, AP_ERR_IO, AP_ERR_CLOSED, AP_ERR_TLS,
 *           AP_ERR_TLS_CLIENT_CERT: the write failed (also info.failure);
 *           the requests stay in flight and their receives say what became
 *           of each; the connection takes no more requests.
 */
ap_status_t ap_pipeline_flush(ap_pipeline_t *p);

/**
 * @brief Requests gathered and not yet written; 0 for NULL. A caller about
 * to wait for something other than the server (its input, a timer) while
 * this is not 0 calls ap_pipeline_flush() first, or they wait with it.
 */
size_t ap_pipeline_gathered(const ap_pipeline_t *p);

/** @brief Requests accepted (gathered or written) and not yet received; 0 for NULL. */
size_t ap_pipeline_in_flight(const ap_pipeline_t *p);

/**
 * @brief Does the current connection take no more requests (the server
 * announced its close, or it ended or failed) while some are still in flight?
 * Then ap_pipeline_send() answers AP_ERR_NOT_SENT until every request in
 * flight has been received; after that it opens a new connection.
 */
bool ap_pipeline_closing(const ap_pipeline_t *p);

#ifdef __cplusplus
}
#endif

#endif /* ALERTPOST_AP_PIPELINE_H */
