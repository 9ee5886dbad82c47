/*
 * Internal seam between the client loop (ap_client.c) and the TLS glue
 * (tls/ap_tls_mbedtls.c). Not installed; not part of the API.
 *
 * The unit tests of the client loop link a plaintext stand-in for these
 * functions (tests/unit/client/), so the loop's handling of short writes,
 * timeouts, resets and truncated responses is tested byte by byte. Production
 * builds link only the Mbed TLS glue: there is no switch to turn TLS off.
 */
#ifndef ALERTPOST_AP_CLIENT_INTERNAL_H
#define ALERTPOST_AP_CLIENT_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alertpost/alertpost.h"

/* Parse anchors, seed the DRBG, build the TLS configuration.
 * AP_OK, AP_ERR_ENTROPY, AP_ERR_TLS_SETUP, AP_ERR_BAD_ARG; fills the error. */
ap_status_t ap_tls_setup(ap_client_t *c);

/* Handshake over the connected transport, with verification and the version
 * policy. AP_OK or AP_ERR_TLS_VERSION/_CERT/_PIN, AP_ERR_TLS, AP_ERR_TIMEOUT,
 * AP_ERR_IO, AP_ERR_CLOSED; fills the error text and c->info. */
ap_status_t ap_tls_handshake(ap_client_t *c);

/* > 0 bytes written; AP_ERR_TIMEOUT, AP_ERR_IO, AP_ERR_CLOSED, AP_ERR_TLS. */
int32_t ap_tls_write(ap_client_t *c, const uint8_t *buf, size_t len);

/* > 0 bytes read; AP_ERR_CLOSED (close_notify: an authenticated end);
 * AP_ERR_TRUNCATED (the transport ended without close_notify);
 * AP_ERR_TIMEOUT, AP_ERR_IO, AP_ERR_TLS. */
int32_t ap_tls_read(ap_client_t *c, uint8_t *buf, size_t size);

/* Verify a server chain (PEM with its NUL counted, or DER; leaf first) as a
 * handshake would, without connecting: AP_OK; AP_ERR_TLS_CERT, AP_ERR_TLS_PIN
 * (with the reason in the error text); AP_ERR_TLS_SETUP (unreadable). */
ap_status_t ap_tls_check_chain(ap_client_t *c, const uint8_t *chain, size_t len);

/* Without blocking (c->polling is set around it), tell whether the idle
 * connection can carry a request: AP_OK nothing has arrived; AP_ERR_CLOSED
 * the server ended it (close_notify or end of stream); AP_ERR_HTTP_RESPONSE
 * it sent bytes nobody asked for (an idle 408); AP_ERR_IO or AP_ERR_TLS it
 * failed. TLS post-handshake messages (session tickets) are consumed and do
 * not count as unsolicited bytes. */
ap_status_t ap_tls_poll(ap_client_t *c);

/* End the TLS session, sending close_notify when notify. Reading may go on
 * afterwards (to collect the server's own close_notify); the session is reset
 * by the next handshake. The transport is closed by the caller. */
void ap_tls_end(ap_client_t *c, bool notify);

/* Release everything ap_tls_setup() built. Safe on a failed setup. */
void ap_tls_free(ap_client_t *c);

/* Version of the TLS library, e.g. "Mbed TLS 3.6.6". */
const char *ap_tls_library_name(void);

/* Time left for one I/O step: min(step_ms, what remains of the post's
 * deadline); 0 when the deadline has passed. */
uint32_t ap_client_step_budget(const ap_client_t *c, uint32_t step_ms);

/* The timeout for the next transport call of the current phase (c->step_ms,
 * cut to the deadline). false: the deadline has passed, make no call. true
 * with *timeout_ms, which is 0 while the client polls (c->polling). */
bool ap_client_io_timeout(const ap_client_t *c, uint32_t *timeout_ms);

/* Replace the client's error text (printf-style, truncated to fit). */
void ap_client_set_error(ap_client_t *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ---- The client loop's parts, for the pipeline (ap_pipeline.c) ---- */

/* Start a call's clock (deadline_ms from now, io_timeout_ms per step) and
 * clear its error, failure and stale count. */
void ap_client_begin_call(ap_client_t *c);

/* Set info.total_ms from the call's start. */
void ap_client_end_call(ap_client_t *c);

/* Reuse the kept-alive connection if a poll finds it usable (it MUST carry
 * no request in flight: waiting bytes count as unsolicited), else connect
 * and handshake. AP_OK or what ap_post() returns before sending. */
ap_status_t ap_client_connect(ap_client_t *c);

/* Write one request, head and body; c->wire_sent says how much left.
 * AP_OK; AP_ERR_NO_SPACE, AP_ERR_BAD_ARG (the head); AP_ERR_TIMEOUT,
 * AP_ERR_IO, AP_ERR_CLOSED, AP_ERR_TLS (the write). */
ap_status_t ap_client_send_request(ap_client_t *c, const ap_request_t *req);

/* Compose one request, head and body, into buf (the pipeline's output
 * buffer), tracing its head; nothing is written. AP_OK with *len;
 * AP_ERR_NO_SPACE: it does not fit in size, or its head not in work_buf
 * (nothing traced); AP_ERR_BAD_ARG: a header is invalid. */
ap_status_t ap_client_compose_into(ap_client_t *c, const ap_request_t *req, uint8_t *buf,
                                   size_t size, size_t *len);

/* Feed n bytes of a response to p, tracing its head and keeping its body in
 * resp; *used: bytes taken (the rest belongs to what follows a complete
 * response). AP_ERR_NEED_MORE, AP_OK (complete), AP_ERR_HTTP_RESPONSE. */
ap_status_t ap_client_feed_response(ap_client_t *c, ap_http_parser_t *p, ap_response_t *resp,
                                    const uint8_t *buf, size_t n, size_t *used);

/* Close the connection: at once, or after collecting the server's close
 * (server_first: it announced Connection: close). No-op when not connected. */
void ap_client_drop(ap_client_t *c, bool server_first);

/* The error texts and statuses of ap_post(): nothing of the request sent
 * (returns st); sent without a complete answer (sets info.failure, returns
 * AP_ERR_OUTCOME_UNKNOWN); a complete non-2xx answer (AP_ERR_HTTP_STATUS or
 * AP_ERR_TLS_CLIENT_CERT). */
ap_status_t ap_client_unsent(ap_client_t *c, ap_status_t st);
ap_status_t ap_client_unknown(ap_client_t *c, ap_status_t st, const ap_response_t *resp);
ap_status_t ap_client_not_2xx(ap_client_t *c, const ap_response_t *resp);

/* Clear a response's outputs (status, Retry-After, body counts). */
void ap_client_reset_response(ap_response_t *resp);

#endif /* ALERTPOST_AP_CLIENT_INTERNAL_H */
