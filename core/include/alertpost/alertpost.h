/**
 * @file alertpost.h
 * @brief The alert poster: HTTPS POST over a TLS floor of 1.2, with
 * verification that cannot be switched off.
 *
 * Usage:
 *   ap_client_t client;                 // caller-owned; no allocation here
 *   ap_client_config_t cfg;
 *   ap_client_config_defaults(&cfg);
 *   cfg.url = "https://alerts.example.net/v1/alerts";
 *   cfg.transport = &my_transport; cfg.platform = &my_platform;
 *   cfg.ca_pem = anchors; cfg.ca_pem_len = anchors_len;  // PEM with NUL, or DER
 *   if (ap_client_init(&client, &cfg) == AP_OK) {
 *       ap_request_t req = { .body = json, .body_len = json_len };
 *       ap_response_t resp = { 0 };
 *       ap_status_t st = ap_post(&client, &req, &resp);
 *       if (st != AP_OK) puts(ap_client_error(&client));
 *   }
 *   ap_client_free(&client);
 *
 * Ownership: every pointer in the config (URL, anchors, pins, transport,
 * platform, work buffer) MUST stay valid until ap_client_free(). Request and
 * response buffers are only used during the ap_post() call.
 *
 * Thread safety: none; one client is used by one thread at a time. Separate
 * clients are independent.
 */
#ifndef ALERTPOST_ALERTPOST_H
#define ALERTPOST_ALERTPOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alertpost/ap_config.h"
#include "alertpost/ap_http.h"
#include "alertpost/ap_identity.h"
#include "alertpost/ap_platform.h"
#include "alertpost/ap_status.h"
#include "alertpost/ap_tls_policy.h"
#include "alertpost/ap_transport.h"
#include "alertpost/ap_url.h"
#include "alertpost/ap_version.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What an ap_client_config_t trace hook is handed. */
typedef enum ap_trace_kind {
    AP_TRACE_REQUEST_HEAD = 1, /**< the request head as written, CRLFs included */
    AP_TRACE_RESPONSE_HEAD = 2, /**< response head bytes as read (1xx heads included) */
    /** after a handshake: "subject ...; issuer ...; expires YYYY-MM-DD" of the
     *  server's certificate (builds with AP_TRACE_CERT_NAMES) */
    AP_TRACE_PEER_CERT = 3,
    /** after a handshake in which this client sent its certificate:
     *  "subject ...; expires YYYY-MM-DD" of it (builds with AP_TRACE_CERT_NAMES) */
    AP_TRACE_CLIENT_CERT = 4
} ap_trace_kind_t;

/**
 * Whether a post's request went out as TLS 1.3 0-RTT early data
 * (cfg.early_data), and if not, why not. Early data rides in the client's
 * first flight, before the handshake completes, encrypted under the kept
 * ticket's key: it is not forward secret and a network attacker can replay
 * it, which is why it is offered only for a request that carries an
 * Idempotency-Key (a server that honours the key processes a replay once).
 */
typedef enum ap_early_data {
    AP_EARLY_DATA_OFF = 0,        /**< not offered: cfg.early_data is false */
    AP_EARLY_DATA_NOT_BUILT,      /**< not offered: this Mbed TLS has no 0-RTT (2.28) */
    AP_EARLY_DATA_NO_KEY,         /**< not offered: the request has no Idempotency-Key */
    AP_EARLY_DATA_KEPT_ALIVE,     /**< not offered: a kept-alive connection, no handshake */
    AP_EARLY_DATA_NO_TICKET,      /**< not offered: no TLS 1.3 ticket kept (a full handshake,
                                       or a TLS 1.2 session) */
    AP_EARLY_DATA_NOT_ALLOWED,    /**< not offered: the server's ticket allows no early data */
    AP_EARLY_DATA_TOO_LARGE,      /**< not offered: the request exceeds the ticket's early-data
                                       limit, or is not whole in the work buffer */
    AP_EARLY_DATA_NOT_RESUMED,    /**< not offered: the ticket was not usable (expired) */
    /** not offered: the server answered the first attempt's early data with 425 Too
     *  Early (RFC 8470: not processed), and this retry sent the request after the
     *  handshake, once */
    AP_EARLY_DATA_TOO_EARLY,
    /** not offered: the connection failed before its handshake */
    AP_EARLY_DATA_NOT_REACHED,
    /** not offered: a pipelined request (ap_pipeline.h), written after the handshake */
    AP_EARLY_DATA_PIPELINED,
    /** offered, and the handshake failed before the server said whether it took it */
    AP_EARLY_DATA_UNANSWERED,
    /** offered, and the server processed it: the request left with the first flight */
    AP_EARLY_DATA_ACCEPTED,
    /** offered and refused by the server, which discarded it unread: the request
     *  was then sent once after the handshake (no re-send, no duplicate) */
    AP_EARLY_DATA_REJECTED
} ap_early_data_t;

/** @brief "accepted", "rejected by the server", or "not offered (why)". */
const char *ap_early_data_str(ap_early_data_t early);

/** A SHA-256 hash of a server's DER SubjectPublicKeyInfo. */
typedef struct ap_spki_pin {
    uint8_t sha256[32];
} ap_spki_pin_t;

typedef struct ap_client_config {
    const char *url;              /**< https://host[:port]/path; required */
    /**
     * Where to connect instead of the URL's host (an address or another
     * name), as curl's --resolve; the certificate is still verified against
     * the URL's host, which is also sent as SNI. NULL: the URL's host.
     */
    const char *connect_host;
    const ap_transport_t *transport;  /**< required */
    const ap_platform_t *platform;    /**< required; entropy MUST be set */

    /**
     * Trust anchors: PEM (including its terminating NUL in ca_pem_len), or
     * DER: one certificate or several back to back (NUL bytes after the
     * last are ignored), e.g. as they sit in flash. Required: there is no
     * "verify none". Never copied: ap_client_init() checks every
     * certificate's framing and parses none of them; a handshake (or
     * ap_check_chain()) parses only those whose subject is the issuer it
     * looks for (DER in place, PEM from a decoded copy freed at once), when
     * Mbed TLS is built with MBEDTLS_X509_TRUSTED_CERTIFICATE_CALLBACK (the
     * project's configurations are). Without it, all are parsed at init.
     */
    const uint8_t *ca_pem;
    size_t ca_pem_len;

    /**
     * Optional: this device's certificate and key, for servers that require
     * a client certificate (mutual TLS); see ap_identity.h. NULL: none.
     */
    const ap_identity_t *identity;

    /**
     * Optional: the Public Suffix List as text (publicsuffix.org's format,
     * e.g. Debian's /usr/share/publicsuffix/public_suffix_list.dat), so
     * that a wildcard directly above any suffix it lists (*.github.io) is
     * refused, not only above the built-in ones (single labels and common
     * registries such as co.uk). NULL: the built-in rules only. Read during
     * each verification: it MUST stay valid until ap_client_free().
     */
    const char *public_suffixes;
    size_t public_suffixes_len;

    /** Optional SHA-256 SPKI pins; the leaf must match one. */
    const ap_spki_pin_t *pins;
    size_t pin_count;

    ap_tls_version_t tls_min;     /**< AP_TLS_VERSION_DEFAULT: TLS 1.2 */
    ap_tls_version_t tls_max;     /**< AP_TLS_VERSION_DEFAULT: highest built */

    /** TCP connect and TLS handshake together; 0: AP_DEFAULT_CONNECT_TIMEOUT_MS */
    uint32_t connect_timeout_ms;
    uint32_t io_timeout_ms;       /**< each send/recv; 0: AP_DEFAULT_IO_TIMEOUT_MS */
    uint32_t deadline_ms;         /**< one whole post; 0: AP_DEFAULT_DEADLINE_MS */

    const char *user_agent;       /**< NULL: AP_USER_AGENT */
    bool keep_alive;              /**< reuse the connection between posts */
    /**
     * Keep the server's last TLS session (TLS 1.2 session ID or ticket, TLS
     * 1.3 ticket with a fresh key exchange) and resume it on the next
     * connection; true in ap_client_config_defaults(). False: no ticket is
     * asked for, and every connection has a full handshake. To keep the
     * session across restarts, see ap_session.h.
     */
    bool resume_sessions;
    /**
     * Send a request that carries an Idempotency-Key header as TLS 1.3
     * 0-RTT early data on a resumed connection, when the kept ticket allows
     * it (and its early-data limit holds the whole request, which MUST then
     * fit in work_buf). Needs resume_sessions. False in
     * ap_client_config_defaults(): replayed early data is harmless only if
     * the server honours the key, which the caller knows and the library
     * cannot. Never offered on a full handshake, never without a key; a
     * server that refuses it gets the request after the handshake, once.
     * Builds without TLS 1.3 early data (Mbed TLS 2.28) ignore it.
     */
    bool early_data;

    /**
     * Scratch for the request head and for response reading. Its size bounds
     * the request head (headers), not the body. 1024 bytes is ample for a
     * handful of headers.
     */
    uint8_t *work_buf;
    size_t work_buf_size;

    /**
     * Optional: called with the raw request head each time one is written,
     * and with response head bytes as they are parsed, for a verbose trace.
     * It sees credentials sent in headers: masking them is the hook's job.
     * It MUST NOT call back into the client.
     */
    void (*trace)(void *ctx, ap_trace_kind_t kind, const uint8_t *data, size_t len);
    void *trace_ctx;
} ap_client_config_t;

typedef struct ap_request {
    const char *content_type;     /**< NULL: application/json */
    const ap_header_t *headers;   /**< extra headers, NULL if none */
    size_t header_count;
    const uint8_t *body;
    size_t body_len;
} ap_request_t;

typedef struct ap_response {
    int status_code;              /**< out: 0 until a status line arrived */
    uint8_t *body;                /**< in: where to keep the body; may be NULL */
    size_t body_size;             /**< in: capacity of body */
    size_t body_len;              /**< out: bytes kept (at most body_size) */
    uint64_t body_total;          /**< out: bytes the server sent in its body */
    /**
     * out: the response's Retry-After value, "" if none (see
     * ap_http_parser_t.retry_after); the queue honours it on 429 and 503.
     */
    char retry_after[AP_RETRY_AFTER_SIZE];
    /**
     * Optional: every piece of the response body as it arrives, whole and
     * unchanged, whatever body_size is (a client streaming it to a file).
     * Pieces of a response that later fails are delivered too. It MUST NOT
     * call back into the client.
     */
    void (*on_body)(void *ctx, const uint8_t *data, size_t len);
    void *on_body_ctx;
} ap_response_t;

/** What the last post negotiated and how long its steps took. */
typedef struct ap_client_info {
    ap_tls_version_t tls_version;  /**< negotiated; 0 if no handshake */
    const char *ciphersuite;       /**< name; "" if no handshake */
    ap_tls_version_t server_version; /**< what the server revealed; 0 if unknown */
    bool reused_connection;        /**< the post went over a kept-alive connection */
    /**
     * Kept-alive connections this post found unusable and replaced by a new
     * one: closed by the server, with unsolicited bytes waiting (an idle
     * 408), failed before any byte of the alert left, or answered 408; and
     * connections whose early data was answered 425 Too Early. The alert
     * was not processed on them, so the new connection is no re-send.
     */
    unsigned stale_connections;
    /**
     * With AP_ERR_OUTCOME_UNKNOWN: what ended the exchange (AP_ERR_TIMEOUT,
     * AP_ERR_CLOSED, AP_ERR_IO, AP_ERR_TRUNCATED, AP_ERR_HTTP_RESPONSE or
     * AP_ERR_TLS). AP_OK after any other result.
     */
    ap_status_t failure;
    /** the server asked for a client certificate in the last handshake */
    bool client_cert_requested;
    /** this client's certificate went out in answer (cfg.identity set) */
    bool client_cert_sent;
    /** the last handshake resumed a kept session (no server certificate) */
    bool resumed;
    /** after ap_client_init() failed: which part of cfg.identity was refused */
    ap_identity_fault_t identity_fault;
    /** whether the request went as 0-RTT early data, or why not (ap_early_data_t) */
    ap_early_data_t early_data;
    uint32_t connect_ms;           /**< TCP connect */
    uint32_t handshake_ms;         /**< TLS handshake */
    uint32_t total_ms;             /**< the whole post */
} ap_client_info_t;

/**
 * The client. Caller-owned, opaque: touch it only through these functions.
 * Its TLS storage is sized by AP_TLS_CONTEXT_SIZE (see ap_config.h).
 */
typedef struct ap_client {
    ap_client_config_t cfg;
    ap_url_t url;
    ap_tls_version_t tls_min, tls_max;
    bool initialised;
    bool connected;
    ap_client_info_t info;
    char error[AP_ERROR_TEXT_SIZE];
    /* the current post's clock, read by the TLS BIO shim */
    uint32_t post_start_ms;
    uint32_t post_limit_ms;
    /* the current phase's own bound: connect and handshake together share
     * connect_timeout_ms (as curl's --connect-timeout); 0 limit = none */
    uint32_t phase_start_ms;
    uint32_t phase_limit_ms;
    int32_t last_io;              /* last transport failure the shim saw */
    uint32_t step_ms;             /* bound on each transport call of this phase */
    bool polling;                 /* transport calls poll (timeout 0) */
    uint32_t wire_sent;           /* bytes the transport took since the request began */
    ap_tls_sniff_t sniff;         /* what the server's first bytes revealed */
    /* 0-RTT (tls/ap_tls_early.c): the request bytes composed at the start
     * of work_buf for early data (0: none offered); of them, those the
     * server accepted as early data (the client loop writes only the
     * rest); whether early data left before a handshake that then failed
     * (so the outcome is unknown) */
    size_t early_len;
    size_t early_accepted;
    bool early_out;
    union {
        uint8_t bytes[AP_TLS_CONTEXT_SIZE];
        long double align_ld;
        uint64_t align_u64;
        void *align_ptr;
    } tls;
} ap_client_t;

/** @brief Fill cfg with zeros, keep_alive and resume_sessions true, and the documented defaults. */
void ap_client_config_defaults(ap_client_config_t *cfg);

/**
 * @brief Validate the configuration, parse the URL, check the trust anchors'
 * framing (see ca_pem), seed the DRBG and set up TLS. Does not connect.
 *
 * @return AP_OK;
 *         AP_ERR_BAD_ARG: NULL client/config/transport/platform/work buffer, or
 *           a TLS range outside policy (ap_tls_policy_resolve());
 *         AP_ERR_URL: the URL did not parse (ap_url_parse());
 *         AP_ERR_ENTROPY: no entropy function, or it failed;
 *         AP_ERR_TLS_SETUP: no trust anchors, an anchor whose framing is
 *           broken (its base64 or DER; the error names its place), or, on a
 *           build without the trusted-CA callback, none that parses; too
 *           many pins, or Mbed TLS refused the configuration; an identity
 *           whose certificate or key does not parse, whose passphrase is
 *           missing or wrong, whose key does not match its certificate, or
 *           whose key form this Mbed TLS build cannot use.
 *         On error the client needs no ap_client_free() but tolerates one.
 */
ap_status_t ap_client_init(ap_client_t *client, const ap_client_config_t *cfg);

/**
 * @brief POST one alert and wait for the whole response.
 *
 * Connects (or reuses a kept-alive connection), completes a TLS handshake
 * within the policy, verifies the chain, dates, host name and pins, sends the
 * request, and reads the response to its end. AP_OK means the server answered
 * 2xx and the response arrived in full: only then is the alert delivered.
 * On any other status the alert MUST be treated as not delivered.
 *
 * Connection reuse never sends an alert twice. Before a kept-alive
 * connection carries a request it is polled without blocking; if the server
 * has closed it or sent something unasked (an idle 408), it is replaced by a
 * new connection before any byte of the alert is written. It is also
 * replaced, once, if it fails before any byte of the request left, or if
 * the server answers the request on it with 408 (it says it did not process
 * it). Likewise, a request sent as 0-RTT early data (cfg.early_data) that the
 * server answers 425 Too Early (RFC 8470: it did not process it) is sent
 * once more, on a new connection, without early data. Once any byte of the request has been written, a failure without a
 * complete response is AP_ERR_OUTCOME_UNKNOWN: the alert may or may not have
 * arrived, and ap_post() does not send it again. info.failure names what
 * ended the exchange. Re-sending is the caller's decision (the queue,
 * ap_queue.h, re-sends with the same Idempotency-Key and counts it).
 *
 * @return AP_OK; AP_ERR_BAD_ARG; AP_ERR_NO_SPACE (head over work_buf_size);
 *         AP_ERR_DNS; AP_ERR_CONNECT; AP_ERR_TLS_VERSION; AP_ERR_TLS_CERT;
 *         AP_ERR_TLS_PIN; AP_ERR_TLS_CLIENT_CERT; AP_ERR_TLS (these before
 *         any byte of the alert was sent);
 *         AP_ERR_TIMEOUT, AP_ERR_IO, AP_ERR_CLOSED, AP_ERR_TLS when the
 *           connection, handshake or first write failed with nothing of the
 *           request sent (the alert was not delivered);
 *         AP_ERR_HTTP_STATUS (a complete answer that is not 2xx:
 *           resp->status_code holds it; not delivered);
 *         AP_ERR_TLS_CLIENT_CERT also for a complete 400, 403, 495 or 496
 *           from a server that asked for a client certificate in the
 *           handshake when none is configured (nginx's ssl_verify_client);
 *           and after the handshake, when a TLS 1.3 server refuses this
 *           device's certificate (its alert arrives on the first read): the
 *           server ended the handshake, so the alert was not processed;
 *         AP_ERR_OUTCOME_UNKNOWN (the request was sent, at least in part, and
 *           no complete response came; info.failure says why). With
 *           cfg.early_data this includes a handshake that failed after the
 *           request left as 0-RTT early data (info.failure: the handshake's
 *           status): the server may have processed it.
 *         After any error the connection is closed; ap_client_error() says
 *         what failed, against which host, and what to do.
 */
ap_status_t ap_post(ap_client_t *client, const ap_request_t *req,
                    ap_response_t *resp);

/**
 * @brief Would a post with this client accept this server chain? Offline:
 * nothing connects. The chain (leaf first, then intermediates) is verified
 * by the very function the handshake uses: the anchors, the X.509 profile
 * and rules, the URL's host name, the pins, and the dates at the
 * platform's wall time (give the client a platform whose clock says the
 * moment to judge, e.g. the CLI's --at).
 * @param chain PEM (its terminating NUL counted in chain_len) or DER.
 * @return AP_OK accepted; AP_ERR_TLS_CERT or AP_ERR_TLS_PIN refused, with
 *         the reason in ap_client_error(); AP_ERR_TLS_SETUP the chain cannot
 *         be read (no certificate in it); AP_ERR_BAD_ARG a NULL or empty
 *         argument, or a client that is not initialised.
 */
ap_status_t ap_check_chain(ap_client_t *c, const uint8_t *chain, size_t chain_len);

/** @brief One line for a person about the last failure; "" after success. */
const char *ap_client_error(const ap_client_t *client);

/** @brief What the last post negotiated and its timings. */
const ap_client_info_t *ap_client_info(const ap_client_t *client);

/**
 * @brief Send close_notify and close the connection, if one is open. It
 * waits up to AP_CLOSE_LINGER_MS for the server's own close_notify or end of
 * stream first, so that nothing is left unread (which would make the TCP
 * stack answer with a reset, logged by servers as an error).
 */
void ap_client_close(ap_client_t *client);

/** @brief Close, free Mbed TLS state and zero the client. Safe twice. */
void ap_client_free(ap_client_t *client);

/** The highest TLS version the linked Mbed TLS was built with. */
ap_tls_version_t ap_tls_highest_built(void);

/** The linked Mbed TLS version, e.g. "Mbed TLS 3.6.6". */
const char *ap_tls_library_version(void);

#ifdef __cplusplus
}
#endif

#endif /* ALERTPOST_ALERTPOST_H */
