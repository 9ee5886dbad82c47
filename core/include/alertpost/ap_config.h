/**
 * @file ap_config.h
 * @brief Compile-time options, each with its default and the reason for it.
 *
 * To change one, define it in a header of your own and build with
 * -DAP_CONFIG_FILE='"my_alertpost_config.h"' (the lwIP opts.h pattern): that
 * header is read first, and every option below only fills in what it left out.
 * Per-call settings (URL, timeouts, TLS range, trust anchors) are not here but
 * in ap_client_config_t, at run time.
 */
#ifndef ALERTPOST_AP_CONFIG_H
#define ALERTPOST_AP_CONFIG_H

#ifdef AP_CONFIG_FILE
#include AP_CONFIG_FILE
#endif

/** Longest host name accepted in a URL (RFC 1035 limit for a DNS name). */
#ifndef AP_MAX_HOST_LEN
#define AP_MAX_HOST_LEN 253
#endif

/**
 * Bound on a response's status line plus headers (and on chunked trailers).
 * A server that sends more is answered with AP_ERR_HTTP_RESPONSE rather than
 * being allowed to keep the client reading.
 */
#ifndef AP_HTTP_MAX_HEAD_BYTES
#define AP_HTTP_MAX_HEAD_BYTES 8192
#endif

/** Bound on the number of header fields in one response. */
#ifndef AP_HTTP_MAX_HEADERS
#define AP_HTTP_MAX_HEADERS 64
#endif

/** Sent as User-Agent unless the caller gives its own. */
#ifndef AP_USER_AGENT
#define AP_USER_AGENT "alertpost/0.1"
#endif

/** Most SHA-256 SPKI pins one client holds (room for current, next, backup). */
#ifndef AP_MAX_PINS
#define AP_MAX_PINS 4
#endif

/**
 * Size of the client's last-error text, including its NUL. The longest text
 * names a host of AP_MAX_HOST_LEN characters, the Mbed TLS reason and what
 * to do; 768 holds it whole (a unit test checks the longest). A board may
 * lower it and accept texts cut at the end.
 */
#ifndef AP_ERROR_TEXT_SIZE
#define AP_ERROR_TEXT_SIZE 768
#endif

/**
 * Bytes reserved inside ap_client_t for the Mbed TLS contexts (SSL context
 * and configuration, trust anchors' head, DRBG, entropy). The TLS glue checks
 * at compile time that they fit and names this option if they do not; a board
 * with a lean Mbed TLS configuration can lower it.
 */
#ifndef AP_TLS_CONTEXT_SIZE
#define AP_TLS_CONTEXT_SIZE 8192
#endif

/**
 * The largest record the client asks the server to send, as TLS 1.2's
 * max_fragment_length (RFC 6066): 512, 1024, 2048 or 4096 bytes, or 0 to
 * ask for nothing (the default). For a device whose Mbed TLS input buffer
 * (MBEDTLS_SSL_IN_CONTENT_LEN) is smaller than the standard 16 KiB: a
 * server that honours it (OpenSSL's, and so nginx and Python's ssl) then
 * sends records that fit; one that ignores it sends a record the client
 * cannot take, and the connection fails with AP_ERR_TLS or, after the
 * request, AP_ERR_OUTCOME_UNKNOWN. TLS 1.3 has no such request in Mbed TLS;
 * its equivalent, record_size_limit (RFC 8449), is Mbed TLS's own option
 * MBEDTLS_SSL_RECORD_SIZE_LIMIT (3.6), which offers the input buffer's size.
 * Needs MBEDTLS_SSL_MAX_FRAGMENT_LENGTH in the Mbed TLS configuration, and
 * binds both directions: Mbed TLS refuses (AP_ERR_TLS_SETUP at
 * ap_client_init()) a length above either of its record buffers
 * (MBEDTLS_SSL_IN_CONTENT_LEN, MBEDTLS_SSL_OUT_CONTENT_LEN).
 */
#ifndef AP_TLS_MAX_FRAGMENT_LEN
#define AP_TLS_MAX_FRAGMENT_LEN 0
#endif

/**
 * 1: the client can present a certificate (ap_identity.h, mutual TLS). 0
 * leaves the identity's Mbed TLS contexts out of ap_client_t on a device
 * that never needs one; a configured identity is then AP_ERR_TLS_SETUP.
 */
#ifndef AP_CLIENT_IDENTITY
#define AP_CLIENT_IDENTITY 1
#endif

/** Connect timeout when the caller leaves it at 0. */
#ifndef AP_DEFAULT_CONNECT_TIMEOUT_MS
#define AP_DEFAULT_CONNECT_TIMEOUT_MS 10000u
#endif

/** Bound on each send or receive step when the caller leaves it at 0. */
#ifndef AP_DEFAULT_IO_TIMEOUT_MS
#define AP_DEFAULT_IO_TIMEOUT_MS 10000u
#endif

/** Bound on one whole post (connect, handshake, request, response) when left at 0. */
#ifndef AP_DEFAULT_DEADLINE_MS
#define AP_DEFAULT_DEADLINE_MS 30000u
#endif

/**
 * Most extra headers one queued alert carries (besides its Idempotency-Key).
 * Each costs sizeof(ap_header_t) in ap_queue_t and in a decoded record, so a
 * device that sends none can set it to 0. At most 255 (the record format
 * counts them in one byte).
 */
#ifndef AP_QUEUE_MAX_HEADERS
#define AP_QUEUE_MAX_HEADERS 8
#endif

/**
 * Backoff before the first retry, when the caller leaves the queue's setting
 * at its default: one second, doubled on each further failure.
 */
#ifndef AP_DEFAULT_BACKOFF_BASE_MS
#define AP_DEFAULT_BACKOFF_BASE_MS 1000u
#endif

/** Longest backoff between two attempts: five minutes, so that a device
 * notices a recovered server within minutes, not hours. */
#ifndef AP_DEFAULT_BACKOFF_CAP_MS
#define AP_DEFAULT_BACKOFF_CAP_MS 300000u
#endif

/** Longest Retry-After honoured: one hour. A server asking for more (or a
 * date far ahead, or a wrong wall clock) would otherwise park the queue. */
#ifndef AP_DEFAULT_RETRY_AFTER_CAP_MS
#define AP_DEFAULT_RETRY_AFTER_CAP_MS 3600000u
#endif

/**
 * 1: a trace hook (ap_client_config_t.trace) is told the server
 * certificate's subject, issuer and expiry after each handshake. 0 saves
 * the flash of Mbed TLS's name formatting on a device that never traces.
 */
#ifndef AP_TRACE_CERT_NAMES
#define AP_TRACE_CERT_NAMES 1
#endif

/**
 * How long closing a connection waits for the server's close_notify or end of
 * stream after sending its own. Short: the server has already answered; this
 * only keeps its last bytes from being left unread.
 */
#ifndef AP_CLOSE_LINGER_MS
#define AP_CLOSE_LINGER_MS 250u
#endif

#include "alertpost/ap_config_check.h"

#endif /* ALERTPOST_AP_CONFIG_H */
