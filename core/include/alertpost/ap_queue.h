/**
 * @file ap_queue.h
 * @brief The delivery queue: alerts kept in a store until a server has
 * answered 2xx, retried with backoff, sent oldest first.
 *
 * Contract: at-least-once delivery, with duplicates made harmless and
 * visible. Each alert gets an Idempotency-Key when it is enqueued
 * (draft-ietf-httpapi-idempotency-key-header); the key is stored with the
 * alert and sent unchanged on every attempt, also after a restart, so that a
 * server can drop a duplicate. An alert leaves the live part of its store
 * only after a complete 2xx response. An attempt whose outcome is unknown
 * (AP_ERR_OUTCOME_UNKNOWN: the request was written, no answer came) is sent
 * again, counted as a re-send and reported through the event callback.
 *
 * Three parts, each usable on its own:
 * - the record codec: an alert to and from the bytes a store keeps;
 * - the retry policy: pure functions classifying a post's result and
 *   computing backoff and Retry-After delays;
 * - the queue: a state machine over a store, a clock and a post function.
 *   It never sleeps and never allocates; ap_queue_step() makes at most one
 *   attempt and says how long to wait before the next.
 *
 * Thread safety: none; one queue is used by one thread at a time.
 */
#ifndef ALERTPOST_AP_QUEUE_H
#define ALERTPOST_AP_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alertpost/alertpost.h"
#include "alertpost/ap_config.h"
#include "alertpost/ap_platform.h"
#include "alertpost/ap_status.h"
#include "alertpost/ap_store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Idempotency-Key ------------------------------------------------------ */

/** The header an alert's key travels in. */
#define AP_QUEUE_KEY_HEADER "Idempotency-Key"

/**
 * Capacity of a key with its NUL: a UUIDv4 in lower-case hex, written as a
 * structured-field string (RFC 8941), quotes included:
 * "\"8c1f0e52-3b7a-4d0e-9f2a-6b1c2d3e4f50\"" is 38 bytes.
 */
#define AP_QUEUE_KEY_SIZE 39

/**
 * @brief Make a new key: a random (version 4) UUID from 16 bytes of the
 * platform's entropy, as a quoted structured-field string.
 * @param key out: AP_QUEUE_KEY_SIZE bytes, NUL-terminated on success.
 * @return AP_OK; AP_ERR_BAD_ARG (NULL argument or no entropy function);
 *         AP_ERR_ENTROPY (the source failed: no key is made up without it).
 */
ap_status_t ap_queue_key_generate(const ap_platform_t *platform, char key[AP_QUEUE_KEY_SIZE]);

/* ---- Record codec --------------------------------------------------------- */

/** Version byte of the records this build writes and reads. */
#define AP_QUEUE_RECORD_VERSION 1u

/** Longest content type, and longest extra header name, in a record. */
#define AP_QUEUE_MAX_SHORT_LEN 255u

/** Longest extra header value in a record. */
#define AP_QUEUE_MAX_VALUE_LEN 4096u

/** Longest body in a record (the format's length field is 32 bits). */
#define AP_QUEUE_MAX_BODY_LEN 0xFFFFFFF0u

/**
 * A record decoded in place: every pointer points into the record buffer
 * given to ap_queue_record_decode(), whose strings carry their NUL, so the
 * view is valid exactly as long as that buffer is left unchanged.
 */
typedef struct ap_queue_record {
    const char *key;            /**< the Idempotency-Key, quotes included */
    const char *content_type;   /**< NULL: the request writer's default */
    ap_header_t headers[AP_QUEUE_MAX_HEADERS > 0 ? AP_QUEUE_MAX_HEADERS : 1];
    size_t header_count;        /**< extra headers, without the key */
    const uint8_t *body;        /**< NULL when body_len is 0 */
    size_t body_len;
} ap_queue_record_t;

/**
 * @brief The size of the record an alert becomes, without writing it.
 * @return AP_OK with *len set; AP_ERR_BAD_ARG: as ap_queue_record_encode();
 *         AP_ERR_TOO_LARGE: a field over its AP_QUEUE_MAX_* bound.
 */
ap_status_t ap_queue_record_size(const ap_request_t *alert, size_t *len);

/**
 * @brief Write an alert and its key as one record: a version byte, the
 * fields with their lengths, and a CRC-32 over all of it.
 *
 * The alert is checked as the request writer would check it, so that a
 * record that was accepted can always be sent: header names are tokens,
 * values have no control bytes, and no header names one the queue or the
 * writer owns (Idempotency-Key, Host, Content-Length, Transfer-Encoding,
 * Connection). An extra Content-Type replaces content_type when sent, as
 * the writer's defaults are replaced.
 *
 * @param alert content type, extra headers and body; body MAY be NULL when
 *        body_len is 0.
 * @param key a key from ap_queue_key_generate().
 * @return AP_OK with *out_len set; AP_ERR_BAD_ARG: a NULL pointer, more than
 *         AP_QUEUE_MAX_HEADERS headers, or a field as described above;
 *         AP_ERR_TOO_LARGE: a field over its AP_QUEUE_MAX_* bound;
 *         AP_ERR_NO_SPACE: the record does not fit in buf_size
 *         (ap_queue_record_size() says how large it is).
 */
ap_status_t ap_queue_record_encode(const ap_request_t *alert, const char *key, uint8_t *buf,
                                   size_t buf_size, size_t *out_len);

/**
 * @brief Check a record in full and describe it in place.
 *
 * Nothing in the record is trusted: the version, every length against the
 * bytes that are there, the CRC, the key's form, each header name and value
 * as ap_queue_record_encode() checks them, and the absence of trailing bytes.
 *
 * @return AP_OK with *out filled; AP_ERR_STORE_CORRUPT: the record fails any
 *         of these checks (*out is then unspecified); AP_ERR_BAD_ARG: NULL.
 */
ap_status_t ap_queue_record_decode(const uint8_t *rec, size_t len, ap_queue_record_t *out);

/* ---- Retry policy (pure) -------------------------------------------------- */

/** What to do after one attempt. */
typedef enum ap_retry_class {
    /** Delivered: a complete 2xx response. */
    AP_RETRY_DELIVERED = 0,
    /**
     * Try this alert again later: the network, the server's load or an
     * unknown outcome (DNS, connect, timeouts, resets, closes, truncated
     * responses, AP_ERR_OUTCOME_UNKNOWN, a pipeline's AP_ERR_UNANSWERED and
     * AP_ERR_NOT_SENT, 408, 425, 429, 500, 502, 503, 504).
     */
    AP_RETRY_AGAIN,
    /**
     * The server refused this alert for good (400, 413, 415, 422): move it to
     * the dead-letter part and go on with the next.
     */
    AP_RETRY_DEAD_LETTER,
    /**
     * The configuration or the server is wrong for every alert (401, 403,
     * 404, other 4xx and 3xx, TLS refusals, unusable settings, an invalid
     * response): stop the flush and keep every alert.
     */
    AP_RETRY_STOP
} ap_retry_class_t;

/**
 * @brief Classify the result of one post.
 * @param status what the post function returned.
 * @param http_status resp->status_code (used with AP_ERR_HTTP_STATUS).
 */
ap_retry_class_t ap_retry_classify(ap_status_t status, int http_status);

/**
 * @brief Exponential backoff with full jitter: a delay drawn uniformly from
 * [0, min(cap_ms, base_ms * 2^(failures - 1))].
 * @param failures failed attempts so far for this alert (1 after the first).
 * @param random a uniformly random 32-bit value (the caller draws it).
 * @return the delay in milliseconds; 0 when failures is 0.
 */
uint32_t ap_retry_backoff_ms(uint32_t base_ms, uint32_t cap_ms, uint32_t failures,
                             uint32_t random);

/**
 * @brief Read a Retry-After value (RFC 9110 10.2.3): delta-seconds, or an
 * HTTP-date in the preferred IMF-fixdate form or either of the two obsolete
 * forms (RFC 850, asctime) a recipient must accept.
 * @param value the field value, NUL-terminated, without surrounding spaces.
 * @param wall_now the platform's wall time; with AP_WALL_TIME_UNKNOWN a date
 *        cannot be turned into a delay and is ignored.
 * @param delay_s out: seconds to wait; a date in the past gives 0; values
 *        beyond UINT32_MAX saturate.
 * @return true with *delay_s set; false when the value is malformed, or is
 *         a date and the wall time is unknown.
 */
bool ap_retry_after_parse(const char *value, int64_t wall_now, uint32_t *delay_s);

/* ---- The queue ------------------------------------------------------------ */

/**
 * Posts one request and fills resp, as ap_post() does; resp->body is NULL.
 * The result is classified by ap_retry_classify().
 */
typedef ap_status_t (*ap_queue_post_fn)(void *ctx, const ap_request_t *req,
                                        ap_response_t *resp);

/**
 * @brief The post function over an ap_client_t: ctx is the client. Built
 * with the client (not in the pure codec library).
 */
ap_status_t ap_queue_post_client(void *ctx, const ap_request_t *req, ap_response_t *resp);

/**
 * With several alerts in flight (ap_queue_config_t.in_flight > 1): write one
 * request without waiting for its answer, as ap_pipeline_send() does; only
 * AP_OK puts it in flight, and AP_ERR_NOT_SENT says nothing of it went out.
 */
typedef ap_status_t (*ap_queue_send_fn)(void *ctx, const ap_request_t *req);

/**
 * The answer to the oldest request in flight, as ap_pipeline_receive() gives
 * it (AP_ERR_UNANSWERED after an early close); resp->body is NULL.
 */
typedef ap_status_t (*ap_queue_receive_fn)(void *ctx, ap_response_t *resp);

/** @brief ap_pipeline_send() as an ap_queue_send_fn: ctx is an ap_pipeline_t. */
ap_status_t ap_queue_send_pipeline(void *ctx, const ap_request_t *req);

/** @brief ap_pipeline_receive() as an ap_queue_receive_fn: ctx is an ap_pipeline_t. */
ap_status_t ap_queue_receive_pipeline(void *ctx, ap_response_t *resp);

/** What the queue reports as it works, for -v lines and a summary. */
typedef enum ap_queue_event_kind {
    AP_QUEUE_EV_ATTEMPT = 0,    /**< about to post (first try or a retry) */
    AP_QUEUE_EV_RESEND,         /**< about to post again after an unknown outcome */
    AP_QUEUE_EV_DELIVERED,      /**< 2xx: removed from the store */
    AP_QUEUE_EV_RETRY,          /**< failed; next attempt after delay_ms */
    AP_QUEUE_EV_DEAD_LETTER,    /**< refused for good; moved to the dead part */
    AP_QUEUE_EV_STOPPED,        /**< the flush stops; every alert is kept */
    AP_QUEUE_EV_CORRUPT         /**< a record failed its check and was set aside */
} ap_queue_event_kind_t;

/** One event. Pointers are valid only during the callback. */
typedef struct ap_queue_event {
    ap_queue_event_kind_t kind;
    const char *key;            /**< the alert's key; NULL for AP_QUEUE_EV_CORRUPT */
    size_t index;               /**< position in the live part (0: oldest); with
                                     in_flight > 1, the alerts behind the oldest have
                                     ATTEMPT and RESEND events of their own */
    uint32_t attempt;           /**< 1 for the first attempt of this run */
    ap_status_t status;         /**< the attempt's result (RETRY, DEAD_LETTER, STOPPED,
                                     CORRUPT); AP_OK otherwise */
    int http_status;            /**< the response's status code; 0 if none */
    uint32_t delay_ms;          /**< RETRY: wait before the next attempt */
    bool from_retry_after;      /**< RETRY: delay_ms came from Retry-After */
} ap_queue_event_t;

/**
 * Called from inside ap_queue_step(). It MUST NOT call back into the same
 * queue (an enqueue would overwrite the record being sent).
 */
typedef void (*ap_queue_event_fn)(void *ctx, const ap_queue_event_t *event);

typedef struct ap_queue_config {
    const ap_store_t *store;        /**< required */
    const ap_platform_t *platform;  /**< required: now_ms and entropy; wall_time MAY be
                                         NULL (Retry-After dates are then ignored) */
    ap_queue_post_fn post;          /**< required */
    void *post_ctx;
    uint32_t backoff_base_ms;       /**< >= 1; default AP_DEFAULT_BACKOFF_BASE_MS */
    uint32_t backoff_cap_ms;        /**< >= base, < 2^31; default AP_DEFAULT_BACKOFF_CAP_MS */
    uint32_t retry_after_cap_ms;    /**< < 2^31; default AP_DEFAULT_RETRY_AFTER_CAP_MS */
    /**
     * Attempts per alert before the flush stops with the last failure,
     * keeping the alert; 0: unlimited. curl's --retry N is N + 1.
     */
    uint32_t max_attempts;
    /**
     * No retry is scheduled once this long has passed since the alert's
     * first attempt (curl's --retry-max-time); 0: unlimited.
     */
    uint32_t retry_max_ms;
    /**
     * Alerts in flight at once: 1 (the default) posts the oldest alone, through
     * post. 2 to AP_QUEUE_MAX_IN_FLIGHT: a step writes the oldest and up to
     * in_flight - 1 alerts behind it through send (one connection, HTTP/1.1
     * pipelining) and then reads every answer through receive, in order. An
     * alert behind the oldest that is answered 2xx is removed once it is the
     * oldest, without being sent again; one left unanswered (the server closed
     * early) or with an unknown outcome is counted as a re-send when it goes
     * out again. Ordering changes: a server may see later alerts before an
     * earlier one is retried.
     */
    uint32_t in_flight;
    ap_queue_send_fn send;          /**< required with in_flight > 1 */
    ap_queue_receive_fn receive;    /**< required with in_flight > 1 */
    void *pipe_ctx;
    /** Scratch for one record; its size bounds the largest alert. */
    uint8_t *record_buf;
    size_t record_buf_size;
    ap_queue_event_fn on_event;     /**< optional */
    void *event_ctx;
} ap_queue_config_t;

/** Counts since ap_queue_init(). */
typedef struct ap_queue_counters {
    uint32_t queued;         /**< alerts enqueued */
    uint32_t delivered;      /**< alerts answered 2xx and removed */
    uint32_t retried;        /**< attempts after an alert's first in this run */
    uint32_t resent;         /**< of those, attempts after an unknown outcome */
    uint32_t dead_lettered;  /**< alerts moved to the dead-letter part */
    uint32_t corrupt;        /**< records that failed a check and were set aside */
} ap_queue_counters_t;

/*
 * Delivery state of one alert in flight: the oldest alert's, and with
 * in_flight > 1 those of the alerts behind it, found again by key.
 */
typedef struct ap_queue_slot {
    bool active;                 /* key names the alert this state is about */
    bool resend;                 /* the next attempt may duplicate an earlier one */
    bool waiting;                /* a retry is scheduled */
    bool delivered;              /* answered 2xx behind the oldest: remove, do not send */
    int answer;                  /* that answer's status code */
    char key[AP_QUEUE_KEY_SIZE];
    uint32_t attempts;           /* attempts in this run */
    uint32_t first_ms;           /* when the first of them began */
    uint32_t wait_start_ms;      /* when the backoff began */
    uint32_t wait_ms;            /* its length */
} ap_queue_slot_t;

/** The queue. Caller-owned, opaque: touch it only through these functions. */
typedef struct ap_queue {
    ap_queue_config_t cfg;
    bool initialised;
    ap_queue_counters_t counters;
    ap_queue_slot_t slot;
#if AP_QUEUE_MAX_IN_FLIGHT > 1
    /* with in_flight > 1: the alerts behind the oldest, by key */
    ap_queue_slot_t behind[AP_QUEUE_MAX_IN_FLIGHT - 1];
#endif
    ap_status_t last_status;
    int last_http_status;
    ap_header_t req_headers[AP_QUEUE_MAX_HEADERS + 1];
} ap_queue_t;

/** @brief Fill cfg with zeros and the documented defaults. */
void ap_queue_config_defaults(ap_queue_config_t *cfg);

/**
 * @brief Check the configuration and start with zero counters. The store
 * may already hold alerts (from before a restart): they keep their keys.
 * Every pointer in cfg MUST stay valid while the queue is used.
 * @return AP_OK; AP_ERR_BAD_ARG: a NULL queue, config, store (or one of its
 *         required functions), platform, now_ms, entropy, post or record
 *         buffer, a delay setting outside its documented range, or
 *         in_flight over AP_QUEUE_MAX_IN_FLIGHT or above 1 without send and
 *         receive.
 */
ap_status_t ap_queue_init(ap_queue_t *q, const ap_queue_config_t *cfg);

/**
 * @brief Give the queue a new alert: make its key, encode it and append it
 * to the store. The alert's buffers are not used after the call.
 * @param key_out optional: AP_QUEUE_KEY_SIZE bytes, receives the key.
 * @return AP_OK: stored as durably as the store promises;
 *         AP_ERR_BAD_ARG: a NULL argument, or an alert the codec refuses
 *           (ap_queue_record_encode());
 *         AP_ERR_TOO_LARGE: larger than record_buf_size, a codec bound or
 *           the whole store;
 *         AP_ERR_STORE_FULL: no room now (nothing was evicted);
 *         AP_ERR_STORE_IO; AP_ERR_ENTROPY (no key could be made).
 *         On any error nothing was stored.
 */
ap_status_t ap_queue_enqueue(ap_queue_t *q, const ap_request_t *alert,
                             char key_out[AP_QUEUE_KEY_SIZE]);

/**
 * @brief Make at most one attempt, for the oldest alert, if it is due (with
 * in_flight > 1: and for up to in_flight - 1 alerts behind it, on the same
 * connection). Never sleeps.
 *
 * A record that fails its check is set aside (the store's own check, or
 * the codec's: then it is moved to the dead-letter part), counted and
 * reported, and the next one is taken, all in the same call.
 *
 * @param wait_ms optional out: with AP_ERR_QUEUE_BACKOFF, milliseconds until
 *        the oldest alert is due; 0 otherwise.
 * @return AP_OK: one alert left the live part, delivered or dead-lettered
 *           (the counters and events say which); call again;
 *         AP_ERR_STORE_EMPTY: nothing is queued;
 *         AP_ERR_QUEUE_BACKOFF: the oldest alert is not due yet;
 *         a stop status: the flush should stop, every alert is kept.
 *           It is the attempt's own status (AP_ERR_HTTP_STATUS, see
 *           ap_queue_last_http_status(); AP_ERR_TLS_CERT; ...) for a
 *           failure about the configuration or the server, or for a retryable
 *           one once max_attempts or retry_max_ms is spent;
 *           AP_ERR_NO_SPACE: the oldest record is larger than record_buf;
 *           AP_ERR_STORE_FULL: a refused alert could not be dead-lettered
 *           for want of room (a store with no dead-letter part stops with
 *           the attempt's own status instead);
 *           AP_ERR_STORE_CORRUPT: a record failed its check and the store
 *           could not set it aside;
 *           AP_ERR_STORE_IO: the store failed (a delivered alert that could
 *           not be removed is sent again, as a counted re-send);
 *           AP_ERR_BAD_ARG: q is NULL or not initialised.
 *         A call after a stop starts that alert's attempts afresh.
 */
ap_status_t ap_queue_step(ap_queue_t *q, uint32_t *wait_ms);

/** @brief The counters; NULL for a NULL queue. */
const ap_queue_counters_t *ap_queue_counters(const ap_queue_t *q);

/** @brief The HTTP status of the last attempt's response; 0 if none came. */
int ap_queue_last_http_status(const ap_queue_t *q);

/**
 * @brief How many alerts wait in the live part and rest in the dead part.
 * @return AP_OK; AP_ERR_STORE_IO; AP_ERR_BAD_ARG.
 */
ap_status_t ap_queue_pending(const ap_queue_t *q, size_t *live, size_t *dead);

#ifdef __cplusplus
}
#endif

#endif /* ALERTPOST_AP_QUEUE_H */
