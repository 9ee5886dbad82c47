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
 * every request refused because the connection was ending as
 * AP_ERR_NOT_SENT, and the caller decides whether to send it again on a new
 * connection (an unanswered one counts as a re-send).
 *
 * Deadlock. Requests are written with blocking writes and answers are read
 * only by ap_pipeline_receive(); while the client writes, the server may be
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
    size_t in_flight;       /* written in full, not yet received */
    bool closing;           /* this connection takes no more requests */
    bool announced;         /* the server said Connection: close */
    ap_status_t ended;      /* AP_OK while answers can come; else why they cannot */
    size_t rx_off;          /* unread bytes of rx: rx[rx_off..rx_len) */
    size_t rx_len;
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
 * @brief Write one request on the pipeline's connection, without waiting for
 * its answer. With nothing in flight, the kept-alive connection is polled
 * first and replaced if it is unusable, as ap_post() does, or a new one is
 * opened. A connection that fails before any byte of the request left, when
 * nothing else is in flight on it, is replaced once.
 *
 * The request's buffers are used only during the call.
 *
 * @return AP_OK: written in full and in flight (its answer comes from a later
 *           ap_pipeline_receive(), in order);
 *         AP_ERR_BAD_ARG: NULL, or a request without an Idempotency-Key
 *           header (ap_client_error() says so);
 *         AP_ERR_NO_SPACE: AP_PIPELINE_MAX requests are in flight (receive
 *           one first), or the head does not fit in work_buf;
 *         AP_ERR_NOT_SENT: with other requests in flight, nothing of this
 *           one was written: the connection is ending (ap_pipeline_closing()),
 *           or it failed before any byte of this request left (info.failure
 *           says how);
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
 *         AP_ERR_UNANSWERED: the connection ended before any byte of this
 *           answer: the server announced its close on an earlier answer, or
 *           the stream ended (info.failure: AP_ERR_CLOSED), or it failed
 *           while an earlier answer was being read (info.failure: that
 *           failure); not delivered;
 *         AP_ERR_OUTCOME_UNKNOWN: part of the answer came and then the stream
 *           ended or failed (AP_ERR_TRUNCATED), the answer was invalid
 *           (AP_ERR_HTTP_RESPONSE), or the wait for it timed out or the
 *           connection failed (AP_ERR_TIMEOUT, AP_ERR_IO, AP_ERR_TLS), as
 *           info.failure says; the requests behind it are then unanswered;
 *         AP_ERR_BAD_ARG: NULL, or nothing in flight.
 *         Any status but AP_ERR_BAD_ARG takes the request out of flight.
 */
ap_status_t ap_pipeline_receive(ap_pipeline_t *p, ap_response_t *resp);

/** @brief Requests written and not yet received; 0 for NULL. */
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
