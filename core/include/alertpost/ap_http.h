/**
 * @file ap_http.h
 * @brief HTTP/1.1 codecs: the POST request head writer and the response
 * parser. Pure functions on caller buffers; no I/O, no allocation. The client
 * loop (ap_client.c) is the only caller that moves bytes.
 */
#ifndef ALERTPOST_AP_HTTP_H
#define ALERTPOST_AP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alertpost/ap_config.h"
#include "alertpost/ap_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Capacity for a response's Retry-After value, with its NUL. The longest
 * form RFC 9110 defines ("Wednesday, 09-Nov-94 08:49:37 GMT") is 33 bytes;
 * a delta-seconds value that needs more is beyond any cap worth honouring.
 */
#define AP_RETRY_AFTER_SIZE 40

/** One extra request header, both strings NUL-terminated. */
typedef struct ap_header {
    const char *name;
    const char *value;
} ap_header_t;

/** Everything the request head is made of. The body is sent separately. */
typedef struct ap_http_request_head {
    const char *host;          /**< URL host; an IPv6 literal without brackets */
    uint16_t port;             /**< written into Host: unless it is 443 */
    const char *path;          /**< origin-form target, not NUL-terminated */
    size_t path_len;
    const char *content_type;  /**< NULL: "application/json" */
    const char *user_agent;    /**< NULL: AP_USER_AGENT */
    const ap_header_t *headers;/**< extra headers, may be NULL if count is 0 */
    size_t header_count;
    size_t content_length;     /**< length of the body that follows */
    bool keep_alive;           /**< false: "Connection: close" is sent */
} ap_http_request_head_t;

/**
 * @brief Why an extra request header would be refused, in a phrase for a
 * person, or NULL when it may be sent. The rules ap_http_write_head()
 * applies, so a caller can check every header before any connection.
 */
const char *ap_http_header_problem(const char *name, const char *value);

/**
 * @brief Write "POST path HTTP/1.1" and its header block, ending in CRLFCRLF.
 *
 * Writes Host, User-Agent, Content-Type, Content-Length, the extra headers in
 * order, and Connection: close when keep_alive is false. An extra
 * User-Agent or Content-Type header replaces the default one (and the
 * user_agent and content_type fields) instead of adding a second.
 *
 * @return AP_OK with *out_len set;
 *         AP_ERR_BAD_ARG: a NULL pointer, an empty path or one not starting
 *           with '/', or an extra header that ap_http_header_problem()
 *           refuses (a name that is not an HTTP token, a control byte in a
 *           value, or one of the fields the writer owns: Host,
 *           Content-Length, Transfer-Encoding, Connection);
 *         AP_ERR_NO_SPACE: the head does not fit in buf_size (buf is then
 *           left in an unspecified state).
 */
ap_status_t ap_http_write_head(const ap_http_request_head_t *head,
                               uint8_t *buf, size_t buf_size, size_t *out_len);

/** Response parser state. Fields marked "out" are valid once head_done. */
typedef struct ap_http_parser {
    /* out: what the caller may read */
    int status_code;           /**< out: 100..999, from the final status line */
    bool head_done;            /**< out: the final (non-1xx) head is parsed */
    bool keep_alive;           /**< out: the connection may carry another request */
    bool chunked;              /**< out: Transfer-Encoding: chunked */
    bool has_content_length;   /**< out */
    uint64_t content_length;   /**< out: when has_content_length */
    uint64_t body_received;    /**< out: body bytes handed out so far */
    /**
     * out: the final head's Retry-After value without surrounding
     * whitespace, NUL-terminated; "" when there was none, when it was
     * repeated (two values: neither can be trusted) or when it did not fit.
     * Not interpreted here: ap_retry_after_parse() (ap_queue.h) does that.
     */
    char retry_after[AP_RETRY_AFTER_SIZE];

    /* private: the state machine; do not touch */
    uint8_t state;
    uint8_t version_minor;
    uint8_t header_id;         /* framing field whose value is being read */
    bool conn_close;
    bool conn_keep_alive;
    bool in_trailers;
    bool elem_space;           /* whitespace ended the current value element */
    bool elem_bad;             /* the current value element is not a token */
    bool retry_after_seen;     /* a Retry-After field came in this head */
    uint8_t retry_after_len;   /* bytes kept so far; past the size: too long */
    uint16_t header_count;
    uint32_t head_bytes;       /* head bytes; in a chunked body, extensions + trailers */
    uint32_t token_len;
    uint64_t remaining;        /* body bytes left in message or chunk; a number being read */
    char token[40];
} ap_http_parser_t;

/** @brief Reset p to expect a new response. */
void ap_http_parser_init(ap_http_parser_t *p);

/**
 * @brief Feed received bytes to the parser.
 *
 * Consumes a prefix of data and reports it in *consumed. It stops early when
 * it has body bytes to hand out: *body then points into data and *body_len
 * is how many (0 when none). The caller calls again with the rest. Interim 1xx
 * responses are skipped. Every call with len > 0 consumes at least one byte
 * unless it returns AP_OK or an error.
 *
 * @return AP_ERR_NEED_MORE: all is well, the response is not yet complete;
 *         AP_OK: the response is complete; bytes after it are not consumed
 *           (the last body bytes MAY come with this status: *body_len is
 *           to be read after AP_OK as after AP_ERR_NEED_MORE);
 *         AP_ERR_HTTP_RESPONSE: malformed status line or header, bad or
 *           conflicting Content-Length, an unsupported Transfer-Encoding, a
 *           bad chunk size, a head over AP_HTTP_MAX_HEAD_BYTES or more than
 *           AP_HTTP_MAX_HEADERS fields, or a 101 Switching Protocols;
 *         AP_ERR_BAD_ARG: a NULL pointer.
 */
ap_status_t ap_http_parser_feed(ap_http_parser_t *p, const uint8_t *data,
                                size_t len, size_t *consumed,
                                const uint8_t **body, size_t *body_len);

/**
 * @brief The stream ended. clean_close tells whether the end was
 * authenticated (a TLS close_notify) rather than a bare TCP close.
 *
 * @return AP_OK if this end completes the response: only a body delimited by
 *         the close itself, with clean_close true;
 *         AP_ERR_TRUNCATED otherwise (the response had not ended);
 *         AP_ERR_BAD_ARG: p is NULL.
 */
ap_status_t ap_http_parser_eof(ap_http_parser_t *p, bool clean_close);

#ifdef __cplusplus
}
#endif

#endif /* ALERTPOST_AP_HTTP_H */
