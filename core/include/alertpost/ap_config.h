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

/**
 * 1: an identity's key may be given as bytes (ap_identity_t.key: PEM or
 * DER, parsed by Mbed TLS). 0 takes only a PSA key id or a signer and
 * refuses key bytes with AP_ERR_TLS_SETUP, leaving Mbed TLS's private-key
 * parser out of a device that seals its key into PSA (0.7 KiB of flash in
 * the MPS2 firmware).
 */
#ifndef AP_CLIENT_KEY_BYTES
#define AP_CLIENT_KEY_BYTES 1
#endif

/**
 * 1: a trust store (ap_client_config_t's anchors) may be PEM text as well as
 * DER. 0 reads DER only (one certificate or several back to back) and
 * leaves the base64 decoder out, for a device whose anchors are DER in
 * flash (1.4 KiB of flash in the MPS2 firmware); PEM text is then refused
 * with AP_ERR_TLS_SETUP: "... are PEM; this build reads DER only
 * (AP_ANCHORS_PEM 0)".
 */
#ifndef AP_ANCHORS_PEM
#define AP_ANCHORS_PEM 1
#endif

/**
 * How long a saved TLS 1.2 session ID (or a ticket whose lifetime hint is
 * 0, "unspecified") is offered after its session began: 24 hours, the upper
 * bound RFC 5246 (F.1.4) suggests. Servers usually forget sooner (nginx and
 * OpenSSL after 5 minutes by default); offering a forgotten one costs its
 * 32 bytes and leads to a full handshake.
 */
#ifndef AP_SESSION_ID_LIFETIME_S
#define AP_SESSION_ID_LIFETIME_S 86400u
#endif

/**
 * How far the wall clock may be behind a saved session's start time (a
 * clock corrected backwards between save and load) before the session's
 * age counts as unknown and it is refused.
 */
#ifndef AP_SESSION_CLOCK_SKEW_S
#define AP_SESSION_CLOCK_SKEW_S 60
#endif

/**
 * A buffer for ap_client_session_save() that holds a session whose
 * server's leaf certificate is under 2 KiB (Mbed TLS keeps it with the
 * session, MBEDTLS_SSL_KEEP_PEER_CERTIFICATE) and the longest host name.
 */
#ifndef AP_SESSION_BLOB_SIZE
#define AP_SESSION_BLOB_SIZE 3072u
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
 * 1: an error text (ap_client_error()) ends with advice on what to do
 * ("Check the host name.", "Renew the server's certificate."). 0 drops the
 * advice and keeps the rest: the host, the cause, and whether anything was
 * sent. For small images whose operator reads the cause from the status and
 * the log (0.8 KiB of flash in the MPS2 firmware).
 */
#ifndef AP_ERROR_HINTS
#define AP_ERROR_HINTS 1
#endif

/** The advice part of an error text: @p text where AP_ERROR_HINTS is 1, ""
 * where it is 0. Only for string literals joined to the rest of a format. */
#if AP_ERROR_HINTS
#define AP_HINT(text) text
#else
#define AP_HINT(text) ""
#endif

/**
 * How long closing a connection waits for the server's close_notify or end of
 * stream after sending its own. Short: the server has already answered; this
 * only keeps its last bytes from being left unread.
 */
#ifndef AP_CLOSE_LINGER_MS
#define AP_CLOSE_LINGER_MS 250u
#endif

/**
 * Most requests one pipelined connection (ap_pipeline.h) keeps in flight.
 * Each costs a few bytes in ap_pipeline_t; the bound is what keeps a
 * pipeline free of deadlock: the window's requests and their answers must
 * fit in the sockets' buffers while both sides write (see ap_pipeline.h).
 */
#ifndef AP_PIPELINE_MAX
#define AP_PIPELINE_MAX 16
#endif

/**
 * Bytes an ap_pipeline_t reads at a time and keeps between responses: the
 * part of a read beyond one response belongs to the next one. 4 KiB takes
 * a TLS record holding a dozen short answers in one read; a record larger
 * than this is read in parts.
 */
#ifndef AP_PIPELINE_READ_SIZE
#define AP_PIPELINE_READ_SIZE 4096
#endif

/**
 * Bytes of requests an ap_pipeline_t gathers before writing them together:
 * one TLS record and one transport send for a whole window of short alerts
 * rather than one of each per alert. 16 KiB is the most one TLS record
 * carries. A request larger than this is written on its own. Both buffers
 * live in ap_pipeline_t: a device that pipelines with little RAM lowers
 * them (a device that posts one alert at a time has no ap_pipeline_t).
 */
#ifndef AP_PIPELINE_WRITE_SIZE
#define AP_PIPELINE_WRITE_SIZE 16384
#endif

/**
 * Most alerts the delivery queue keeps in flight at once
 * (ap_queue_config_t.in_flight), at most AP_PIPELINE_MAX. Each one beyond
 * the first costs a slot of state (about 70 bytes) in ap_queue_t; 1 leaves
 * pipelining out of the queue on a device that posts one alert at a time.
 */
#ifndef AP_QUEUE_MAX_IN_FLIGHT
#define AP_QUEUE_MAX_IN_FLIGHT AP_PIPELINE_MAX
#endif

#include "alertpost/ap_config_check.h"

#endif /* ALERTPOST_AP_CONFIG_H */
