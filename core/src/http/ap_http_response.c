/*
 * The HTTP/1.1 response parser: a byte-at-a-time state machine.
 *
 * It never holds a line: each byte moves the state on, and only the little
 * that must be remembered (a header name up to the size of token[], one
 * element of a Connection or Transfer-Encoding list, a number being read) is
 * kept. That makes the result independent of how the stream was split into
 * reads, bounds the state to sizeof(ap_http_parser_t), and lets body bytes be
 * handed out in place.
 *
 * It is strict where leniency has been used to smuggle or split responses
 * (bare CR or LF, obs-fold, whitespace before ':', conflicting framing) and
 * bounded everywhere a server could otherwise keep the client reading
 * meta-data: the status line and headers of all interim and final heads
 * together, and the chunk extensions and trailers of a chunked body together,
 * get AP_HTTP_MAX_HEAD_BYTES and AP_HTTP_MAX_HEADERS each.
 */
#include "alertpost/ap_http.h"

#include <string.h>

enum {
    /* Head states (also used for trailers); bytes in them are counted. */
    AP_S_HTTP_NAME = 0,  /* matching "HTTP/", token_len bytes so far */
    AP_S_MAJOR,
    AP_S_DOT,
    AP_S_MINOR,
    AP_S_SP_CODE,
    AP_S_CODE,           /* token_len digits read */
    AP_S_SP_REASON,      /* a SP, or CR when the reason is left out */
    AP_S_REASON,
    AP_S_STATUS_LF,
    AP_S_LINE_START,
    AP_S_NAME,
    AP_S_VALUE_OWS,
    AP_S_VALUE,
    AP_S_VALUE_LF,
    AP_S_HEAD_END_LF,
    /* Body states. */
    AP_S_CHUNK_SIZE,     /* token_len hex digits read into remaining */
    AP_S_CHUNK_BWS,
    AP_S_CHUNK_EXT,
    AP_S_CHUNK_SIZE_LF,
    AP_S_CHUNK_DATA,
    AP_S_CHUNK_DATA_CR,
    AP_S_CHUNK_DATA_LF,
    AP_S_BODY_LENGTH,
    AP_S_BODY_CLOSE,
    AP_S_DONE,
    AP_S_ERROR
};

enum {
    AP_H_OTHER = 0,
    AP_H_CONTENT_LENGTH,
    AP_H_TRANSFER_ENCODING,
    AP_H_CONNECTION,
    AP_H_RETRY_AFTER
};

/* 16 hex digits already reach 2^64 - 1; more could only overflow. */
#define AP_CHUNK_SIZE_MAX_DIGITS 16u

static char ap_lower(uint8_t c)
{
    if (c >= 'A' && c <= 'Z') {
        c = (uint8_t)(c - 'A' + 'a');
    }
    return (char)c;
}

static bool ap_is_ws(uint8_t c)
{
    return c == ' ' || c == '\t';
}

/* RFC 9110 tchar. */
static bool ap_is_tchar(uint8_t c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
        return true;
    }
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*':
    case '+': case '-': case '.': case '^': case '_': case '`': case '|':
    case '~':
        return true;
    default:
        return false;
    }
}

/* Field values and reason phrases: HTAB, SP, VCHAR and obs-text. */
static bool ap_is_text(uint8_t c)
{
    return c == '\t' || (c >= 0x20u && c != 0x7Fu);
}

static int ap_hex_value(uint8_t c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

static void ap_token_reset(ap_http_parser_t *p)
{
    p->token_len = 0;
    p->elem_space = false;
    p->elem_bad = false;
}

/* Stores a lower-cased byte while there is room; token_len keeps counting
 * past it so that an over-long token never compares equal to anything. */
static void ap_token_push(ap_http_parser_t *p, uint8_t c)
{
    if (p->token_len < sizeof(p->token)) {
        p->token[p->token_len] = ap_lower(c);
    }
    p->token_len++;
}

static bool ap_token_is(const ap_http_parser_t *p, const char *s)
{
    size_t n = strlen(s);
    return !p->elem_bad && p->token_len == n && memcmp(p->token, s, n) == 0;
}

/* One byte of a list element: OWS around it is dropped, anything else that
 * is not a token byte (including inner whitespace) marks it bad. */
static void ap_elem_byte(ap_http_parser_t *p, uint8_t c)
{
    if (ap_is_ws(c)) {
        if (p->token_len > 0) {
            p->elem_space = true;
        }
        return;
    }
    if (p->elem_space || !ap_is_tchar(c)) {
        p->elem_bad = true;
    }
    ap_token_push(p, c);
}

static void ap_connection_elem_end(ap_http_parser_t *p)
{
    if (ap_token_is(p, "keep-alive")) {
        p->conn_keep_alive = true;
    } else if (p->elem_bad || ap_token_is(p, "close")) {
        /* An option we cannot read might have been meant as "close"; not
         * reusing the connection is the choice that cannot go wrong. */
        p->conn_close = true;
    }
    ap_token_reset(p);
}

/* Keeps the value as it came; one byte past the capacity marks it too long,
 * because a cut date or number would be read as a different one. */
static void ap_retry_after_byte(ap_http_parser_t *p, uint8_t c)
{
    if (p->retry_after_len < AP_RETRY_AFTER_SIZE - 1u) {
        p->retry_after[p->retry_after_len] = (char)c;
        p->retry_after[p->retry_after_len + 1u] = '\0';
        p->retry_after_len++;
    } else {
        p->retry_after_len = AP_RETRY_AFTER_SIZE;
    }
}

static void ap_retry_after_end(ap_http_parser_t *p)
{
    size_t n = p->retry_after_len;

    if (p->retry_after_seen || n >= AP_RETRY_AFTER_SIZE) {
        /* A repeated field is a list, which Retry-After does not allow:
         * honouring either value would be a guess. */
        p->retry_after[0] = '\0';
        p->retry_after_seen = true;
        return;
    }
    while (n > 0 && ap_is_ws((uint8_t)p->retry_after[n - 1u])) {
        n--;
    }
    p->retry_after[n] = '\0';
    p->retry_after_seen = true;
}

static bool ap_value_byte(ap_http_parser_t *p, uint8_t c)
{
    switch (p->header_id) {
    case AP_H_RETRY_AFTER:
        if (!p->retry_after_seen) {
            ap_retry_after_byte(p, c);
        }
        return true;
    case AP_H_CONTENT_LENGTH:
        if (c >= '0' && c <= '9') {
            uint64_t d = (uint64_t)(c - '0');
            if (p->elem_space || p->remaining > (UINT64_MAX - d) / 10u) {
                return false;
            }
            p->remaining = p->remaining * 10u + d;
            p->token_len++;
            return true;
        }
        /* Only trailing OWS: a list ("5, 5"), a sign or a unit is refused. */
        if (ap_is_ws(c)) {
            p->elem_space = true;
            return true;
        }
        return false;
    case AP_H_TRANSFER_ENCODING:
        /* Only "chunked" alone is supported, so a list is already an error. */
        if (c == ',') {
            return false;
        }
        ap_elem_byte(p, c);
        return true;
    case AP_H_CONNECTION:
        if (c == ',') {
            ap_connection_elem_end(p);
        } else {
            ap_elem_byte(p, c);
        }
        return true;
    default:
        return true;
    }
}

static bool ap_value_end(ap_http_parser_t *p)
{
    switch (p->header_id) {
    case AP_H_CONTENT_LENGTH:
        if (p->token_len == 0) {
            return false;
        }
        /* A repeat is harmless only when it agrees with the first. */
        if (p->has_content_length && p->content_length != p->remaining) {
            return false;
        }
        p->has_content_length = true;
        p->content_length = p->remaining;
        p->remaining = 0;
        return true;
    case AP_H_TRANSFER_ENCODING:
        /* A second field would apply chunked twice. */
        if (p->chunked || !ap_token_is(p, "chunked")) {
            return false;
        }
        p->chunked = true;
        return true;
    case AP_H_CONNECTION:
        ap_connection_elem_end(p);
        return true;
    case AP_H_RETRY_AFTER:
        ap_retry_after_end(p);
        return true;
    default:
        return true;
    }
}

static void ap_identify_header(ap_http_parser_t *p)
{
    p->header_id = AP_H_OTHER;
    /* Framing fields in trailers are not to be acted on (RFC 9110 6.5.1). */
    if (!p->in_trailers) {
        if (ap_token_is(p, "content-length")) {
            p->header_id = AP_H_CONTENT_LENGTH;
        } else if (ap_token_is(p, "transfer-encoding")) {
            p->header_id = AP_H_TRANSFER_ENCODING;
        } else if (ap_token_is(p, "connection")) {
            p->header_id = AP_H_CONNECTION;
        } else if (ap_token_is(p, "retry-after")) {
            p->header_id = AP_H_RETRY_AFTER;
            p->retry_after_len = 0;
            if (!p->retry_after_seen) {
                p->retry_after[0] = '\0';
            }
        }
    }
    ap_token_reset(p);
    p->remaining = 0;
}

/* Everything a response's head sets, so that the fields of an interim 1xx
 * response do not carry over into the final one. */
static void ap_reset_response(ap_http_parser_t *p)
{
    p->status_code = 0;
    p->chunked = false;
    p->has_content_length = false;
    p->content_length = 0;
    p->version_minor = 0;
    p->conn_close = false;
    p->conn_keep_alive = false;
    p->retry_after[0] = '\0';
    p->retry_after_seen = false;
    p->retry_after_len = 0;
    p->header_id = AP_H_OTHER;
    p->remaining = 0;
    ap_token_reset(p);
}

static bool ap_head_end(ap_http_parser_t *p)
{
    bool delimited = true;

    if (p->in_trailers) {
        p->state = AP_S_DONE;
        return true;
    }
    if (p->status_code < 200) {
        if (p->status_code == 101) {
            return false; /* nothing here speaks another protocol */
        }
        /* Interim responses have no body. Their bytes and fields stay
         * counted, so a stream of 1xx heads still meets the head bound. */
        ap_reset_response(p);
        p->state = AP_S_HTTP_NAME;
        return true;
    }
    /* Either could be the true framing; guessing is how responses get
     * split (RFC 9112 6.3). */
    if (p->chunked && p->has_content_length) {
        return false;
    }
    p->head_done = true;
    if (p->status_code == 204 || p->status_code == 304) {
        p->state = AP_S_DONE;
    } else if (p->chunked) {
        p->state = AP_S_CHUNK_SIZE;
        p->remaining = 0;
        ap_token_reset(p);
        /* From here head_bytes and header_count budget the extensions and
         * trailers of the chunked body. */
        p->head_bytes = 0;
        p->header_count = 0;
    } else if (p->has_content_length) {
        p->remaining = p->content_length;
        p->state = (p->remaining == 0) ? AP_S_DONE : AP_S_BODY_LENGTH;
    } else {
        p->state = AP_S_BODY_CLOSE;
        delimited = false;
    }

    if (!delimited) {
        p->keep_alive = false;
    } else if (p->version_minor == 1) {
        p->keep_alive = !p->conn_close;
    } else {
        /* HTTP/1.0 keeps the connection only when asked to, and never after
         * a Transfer-Encoding it is not supposed to send (RFC 9112 6.1). */
        p->keep_alive = p->conn_keep_alive && !p->conn_close && !p->chunked;
    }
    return true;
}

/* One byte in the chunk-size line past the digits, or in a trailer. */
static bool ap_count_meta(ap_http_parser_t *p)
{
    p->head_bytes++;
    return p->head_bytes <= AP_HTTP_MAX_HEAD_BYTES;
}

static bool ap_step_status(ap_http_parser_t *p, uint8_t c)
{
    static const char http_name[] = "HTTP/";

    switch (p->state) {
    case AP_S_HTTP_NAME:
        if ((char)c != http_name[p->token_len]) {
            return false;
        }
        p->token_len++;
        if (p->token_len == sizeof(http_name) - 1) {
            p->state = AP_S_MAJOR;
        }
        return true;
    case AP_S_MAJOR:
        p->state = AP_S_DOT;
        return c == '1';
    case AP_S_DOT:
        p->state = AP_S_MINOR;
        return c == '.';
    case AP_S_MINOR:
        if (c != '0' && c != '1') {
            return false;
        }
        p->version_minor = (uint8_t)(c - '0');
        p->state = AP_S_SP_CODE;
        return true;
    case AP_S_SP_CODE:
        p->state = AP_S_CODE;
        p->status_code = 0;
        p->token_len = 0;
        return c == ' ';
    case AP_S_CODE:
        if (c < '0' || c > '9') {
            return false;
        }
        p->status_code = p->status_code * 10 + (c - '0');
        p->token_len++;
        if (p->token_len == 3) {
            if (p->status_code < 100) {
                return false;
            }
            p->state = AP_S_SP_REASON;
        }
        return true;
    case AP_S_SP_REASON:
        if (c == '\r') {
            p->state = AP_S_STATUS_LF;
            return true;
        }
        p->state = AP_S_REASON;
        return c == ' ';
    case AP_S_REASON:
        if (c == '\r') {
            p->state = AP_S_STATUS_LF;
            return true;
        }
        return ap_is_text(c);
    default: /* AP_S_STATUS_LF */
        p->state = AP_S_LINE_START;
        return c == '\n';
    }
}

static bool ap_step_header(ap_http_parser_t *p, uint8_t c)
{
    switch (p->state) {
    case AP_S_LINE_START:
        if (c == '\r') {
            p->state = AP_S_HEAD_END_LF;
            return true;
        }
        /* Leading whitespace here is obs-fold (or junk before the first
         * field); both are refused, as RFC 9112 5.2 allows. */
        if (!ap_is_tchar(c)) {
            return false;
        }
        p->header_count++;
        if (p->header_count > AP_HTTP_MAX_HEADERS) {
            return false;
        }
        ap_token_reset(p);
        ap_token_push(p, c);
        p->state = AP_S_NAME;
        return true;
    case AP_S_NAME:
        if (c == ':') {
            ap_identify_header(p);
            p->state = AP_S_VALUE_OWS;
            return true;
        }
        ap_token_push(p, c);
        return ap_is_tchar(c);
    case AP_S_VALUE_OWS:
    case AP_S_VALUE:
        if (c == '\r') {
            p->state = AP_S_VALUE_LF;
            return ap_value_end(p);
        }
        if (!ap_is_text(c)) {
            return false;
        }
        if (p->state == AP_S_VALUE_OWS) {
            if (ap_is_ws(c)) {
                return true;
            }
            p->state = AP_S_VALUE;
        }
        return ap_value_byte(p, c);
    case AP_S_VALUE_LF:
        p->state = AP_S_LINE_START;
        return c == '\n';
    default: /* AP_S_HEAD_END_LF */
        if (c != '\n') {
            return false;
        }
        return ap_head_end(p);
    }
}

static bool ap_step_chunk(ap_http_parser_t *p, uint8_t c)
{
    switch (p->state) {
    case AP_S_CHUNK_SIZE: {
        int v = ap_hex_value(c);
        if (v >= 0) {
            if (p->token_len == AP_CHUNK_SIZE_MAX_DIGITS) {
                return false;
            }
            p->remaining = (p->remaining << 4) | (uint64_t)v;
            p->token_len++;
            return true;
        }
        if (p->token_len == 0) {
            return false;
        }
        if (c == '\r') {
            p->state = AP_S_CHUNK_SIZE_LF;
            return true;
        }
        if (c == ';') {
            p->state = AP_S_CHUNK_EXT;
        } else if (ap_is_ws(c)) {
            p->state = AP_S_CHUNK_BWS;
        } else {
            return false;
        }
        return ap_count_meta(p);
    }
    case AP_S_CHUNK_BWS:
        if (c == ';') {
            p->state = AP_S_CHUNK_EXT;
        } else if (!ap_is_ws(c)) {
            return false;
        }
        return ap_count_meta(p);
    case AP_S_CHUNK_EXT:
        /* Extensions mean nothing to alertpost; they are only bounded and
         * kept free of control bytes. */
        if (c == '\r') {
            p->state = AP_S_CHUNK_SIZE_LF;
            return true;
        }
        return ap_is_text(c) && ap_count_meta(p);
    case AP_S_CHUNK_SIZE_LF:
        if (c != '\n') {
            return false;
        }
        if (p->remaining == 0) {
            p->in_trailers = true;
            p->state = AP_S_LINE_START;
        } else {
            p->state = AP_S_CHUNK_DATA;
        }
        return true;
    case AP_S_CHUNK_DATA_CR:
        p->state = AP_S_CHUNK_DATA_LF;
        return c == '\r';
    default: /* AP_S_CHUNK_DATA_LF */
        p->state = AP_S_CHUNK_SIZE;
        p->remaining = 0;
        p->token_len = 0;
        return c == '\n';
    }
}

static bool ap_step(ap_http_parser_t *p, uint8_t c)
{
    if (p->state <= AP_S_HEAD_END_LF) {
        p->head_bytes++;
        if (p->head_bytes > AP_HTTP_MAX_HEAD_BYTES) {
            return false;
        }
        if (p->state < AP_S_LINE_START) {
            return ap_step_status(p, c);
        }
        return ap_step_header(p, c);
    }
    return ap_step_chunk(p, c);
}

void ap_http_parser_init(ap_http_parser_t *p)
{
    if (p == NULL) {
        return;
    }
    memset(p, 0, sizeof(*p));
    p->state = AP_S_HTTP_NAME;
    ap_reset_response(p);
}

ap_status_t ap_http_parser_feed(ap_http_parser_t *p, const uint8_t *data,
                                size_t len, size_t *consumed,
                                const uint8_t **body, size_t *body_len)
{
    size_t i = 0;

    if (p == NULL || consumed == NULL || body == NULL || body_len == NULL ||
        (data == NULL && len != 0)) {
        return AP_ERR_BAD_ARG;
    }
    *consumed = 0;
    *body = NULL;
    *body_len = 0;

    for (;;) {
        if (p->state == AP_S_DONE) {
            *consumed = i;
            return AP_OK;
        }
        if (p->state == AP_S_ERROR) {
            *consumed = i;
            return AP_ERR_HTTP_RESPONSE;
        }
        if (i == len) {
            *consumed = i;
            return AP_ERR_NEED_MORE;
        }
        if (p->state == AP_S_BODY_LENGTH || p->state == AP_S_CHUNK_DATA ||
            p->state == AP_S_BODY_CLOSE) {
            size_t n = len - i;

            if (p->state != AP_S_BODY_CLOSE) {
                if ((uint64_t)n > p->remaining) {
                    n = (size_t)p->remaining;
                }
                p->remaining -= n;
                if (p->remaining == 0) {
                    p->state = (p->state == AP_S_BODY_LENGTH) ? AP_S_DONE
                                                              : AP_S_CHUNK_DATA_CR;
                }
            }
            p->body_received += n;
            *body = data + i;
            *body_len = n;
            *consumed = i + n;
            /* The last bytes of a length-delimited body come with AP_OK, so
             * a caller never waits for input that will not come. */
            return (p->state == AP_S_DONE) ? AP_OK : AP_ERR_NEED_MORE;
        }
        if (!ap_step(p, data[i])) {
            p->state = AP_S_ERROR;
            *consumed = i;
            return AP_ERR_HTTP_RESPONSE;
        }
        i++;
    }
}

ap_status_t ap_http_parser_eof(ap_http_parser_t *p, bool clean_close)
{
    if (p == NULL) {
        return AP_ERR_BAD_ARG;
    }
    if (p->state == AP_S_DONE) {
        return AP_OK;
    }
    /* Without close_notify a close-delimited body may have been cut short
     * by anyone on the path, so it cannot count as complete. */
    if (p->state == AP_S_BODY_CLOSE && clean_close) {
        p->state = AP_S_DONE;
        return AP_OK;
    }
    return AP_ERR_TRUNCATED;
}
