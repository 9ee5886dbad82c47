/**
 * @file ap_status.h
 * @brief The one status type that every alertpost function returns.
 *
 * AP_OK is zero; every failure is a distinct negative value, so a status can
 * travel in the same int32_t as a byte count (see ap_transport.h). Platform
 * and Mbed TLS error codes never cross into this enum: they are translated
 * where they arise and, where they help a person, quoted in the client's
 * last-error text instead.
 */
#ifndef ALERTPOST_AP_STATUS_H
#define ALERTPOST_AP_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ap_status {
    AP_OK = 0,
    /** A NULL pointer, a zero-sized buffer or a setting outside its range. */
    AP_ERR_BAD_ARG = -1,
    /** The URL is malformed, not https, or names what alertpost cannot post to. */
    AP_ERR_URL = -2,
    /** A caller-owned buffer is too small for what must be written into it. */
    AP_ERR_NO_SPACE = -3,
    /** The host name could not be resolved. */
    AP_ERR_DNS = -4,
    /** The TCP connection was refused or the network is unreachable. */
    AP_ERR_CONNECT = -5,
    /** A connect, send or receive step, or the whole post, ran past its time. */
    AP_ERR_TIMEOUT = -6,
    /** The connection failed mid-stream (reset, broken pipe, stack error). */
    AP_ERR_IO = -7,
    /** The peer closed the connection (an orderly end of stream). */
    AP_ERR_CLOSED = -8,
    /** The server offers no TLS version within the policy (floor TLS 1.2). */
    AP_ERR_TLS_VERSION = -9,
    /** The certificate chain, its dates or the host name did not verify. */
    AP_ERR_TLS_CERT = -10,
    /** The server's public key matched none of the configured SPKI pins. */
    AP_ERR_TLS_PIN = -11,
    /** Any other TLS failure: no shared cipher suite, bad record, alert. */
    AP_ERR_TLS = -12,
    /** The trust anchors, pins or TLS settings given to the client are unusable. */
    AP_ERR_TLS_SETUP = -13,
    /** No entropy source, or it failed: TLS is not started without one. */
    AP_ERR_ENTROPY = -14,
    /** The server answered in full, with a status other than 2xx. */
    AP_ERR_HTTP_STATUS = -15,
    /** The server's response is not valid HTTP/1.1 or exceeds a bound. */
    AP_ERR_HTTP_RESPONSE = -16,
    /** The response ended before its declared end (with or without close_notify). */
    AP_ERR_TRUNCATED = -17,
    /** The parser needs more bytes (internal to the codecs; never returned by ap_post). */
    AP_ERR_NEED_MORE = -18,
    /**
     * Some or all of the request was written, but no complete response came
     * back: the alert may or may not have arrived. ap_post() never re-sends
     * such an alert by itself; the queue, whose alerts carry an
     * Idempotency-Key, re-sends it and counts the re-send.
     */
    AP_ERR_OUTCOME_UNKNOWN = -19,
    /** The store has no room for this record now (nothing was evicted). */
    AP_ERR_STORE_FULL = -20,
    /** The store's medium failed (a read, write, fsync or erase error). */
    AP_ERR_STORE_IO = -21,
    /** The store holds no record at that position. */
    AP_ERR_STORE_EMPTY = -22,
    /** A stored record failed its integrity check; it was set aside, not used. */
    AP_ERR_STORE_CORRUPT = -23,
    /** The queue has alerts, but none is due yet (backing off). */
    AP_ERR_QUEUE_BACKOFF = -24,
    /** The record can never fit in this store or buffer, however empty it is. */
    AP_ERR_TOO_LARGE = -25,
    /**
     * The server requires a client certificate and none is configured, or it
     * refused the one this client sent.
     */
    AP_ERR_TLS_CLIENT_CERT = -26,
    /** The client holds no TLS session to save (ap_session.h). */
    AP_ERR_SESSION_NONE = -27,
    /** A saved session is not one, is truncated, damaged or from another build. */
    AP_ERR_SESSION_CORRUPT = -28,
    /** A saved session belongs to another host, port, or policy (anchors, pins, TLS range, identity). */
    AP_ERR_SESSION_FOREIGN = -29,
    /** A saved session is past its lifetime, or its age cannot be known. */
    AP_ERR_SESSION_EXPIRED = -30,
    /**
     * A pipelined request (ap_pipeline.h) was written in full, and the
     * connection ended before any byte of its response came: the server
     * closed early. Not delivered. A server that announced the close
     * (Connection: close on an earlier response) did not process it (RFC
     * 9112, 9.6); after a bare end of stream it may have. Re-send it on a new
     * connection with the same Idempotency-Key, and count the re-send.
     */
    AP_ERR_UNANSWERED = -31,
    /**
     * A pipelined request was not written: the connection was already ending
     * (the server announced its close, or it failed) with requests in flight,
     * or it failed before any byte of the request left. Nothing of it
     * reached the server; sending it on a new connection is no re-send.
     */
    AP_ERR_NOT_SENT = -32
} ap_status_t;

/**
 * @brief A short, stable English phrase for a status ("TLS version outside
 * policy"). Never NULL: unknown values give "unknown status".
 */
const char *ap_status_str(ap_status_t status);

#ifdef __cplusplus
}
#endif

#endif /* ALERTPOST_AP_STATUS_H */
