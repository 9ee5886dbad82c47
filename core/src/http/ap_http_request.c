/*
 * ap_http_write_head(): the POST request head.
 *
 * Everything is validated before a byte is written, so a refused argument
 * never leaves half a head behind, and every append is bounds-checked so an
 * undersized buffer costs AP_ERR_NO_SPACE, never a byte past buf_size.
 */
#include "alertpost/ap_http.h"

#include <string.h>

#include "http/ap_http_chars.h"

typedef struct ap_writer {
    uint8_t *buf;
    size_t size;
    size_t len;
    bool overflow;
} ap_writer_t;

static void ap_w_bytes(ap_writer_t *w, const void *src, size_t n)
{
    if (w->overflow || n > w->size - w->len) {
        w->overflow = true;
        return;
    }
    memcpy(w->buf + w->len, src, n);
    w->len += n;
}

static void ap_w_str(ap_writer_t *w, const char *s)
{
    ap_w_bytes(w, s, strlen(s));
}

static void ap_w_uint(ap_writer_t *w, uint64_t v)
{
    char digits[20]; /* 2^64 - 1 has 20 decimal digits */
    size_t n = sizeof(digits);

    do {
        digits[--n] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v != 0);
    ap_w_bytes(w, digits + n, sizeof(digits) - n);
}

static void ap_w_field(ap_writer_t *w, const char *name, const char *value)
{
    ap_w_str(w, name);
    ap_w_bytes(w, ": ", 2);
    ap_w_str(w, value);
    ap_w_bytes(w, "\r\n", 2);
}

/* The fields the writer owns: a second copy from the caller would make the
 * message framing or its target ambiguous. */
static const char *ap_reserved_reason(const char *name)
{
    static const struct {
        const char *lower;
        const char *why;
    } reserved[] = {
        {"host", "alertpost writes Host itself, from the URL"},
        {"content-length", "alertpost writes Content-Length itself, from the body"},
        {"transfer-encoding", "alertpost frames the body with Content-Length; "
                              "Transfer-Encoding would contradict it"},
        {"connection", "alertpost manages the connection (keep-alive) itself"},
    };
    size_t i;

    for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
        if (ap_http_name_is(name, reserved[i].lower)) {
            return reserved[i].why;
        }
    }
    return NULL;
}

const char *ap_http_header_problem(const char *name, const char *value)
{
    const char *reserved;

    if (name == NULL || value == NULL) {
        return "a header needs a name and a value";
    }
    if (name[0] == '\0') {
        return "the header name is empty";
    }
    if (!ap_http_is_token(name)) {
        return "the header name is not an HTTP token (RFC 9110: letters, digits and "
               "!#$%&'*+-.^_`|~ only; no spaces)";
    }
    reserved = ap_reserved_reason(name);
    if (reserved != NULL) {
        return reserved;
    }
    if (!ap_http_is_field_value(value)) {
        return "the header value holds a control character (CR, LF, NUL or another), "
               "which could end the header early and inject another";
    }
    return NULL;
}

/* Does the caller replace a default field (User-Agent, Content-Type)? */
static bool ap_has_header(const ap_http_request_head_t *head, const char *lower)
{
    size_t i;

    for (i = 0; i < head->header_count; i++) {
        if (ap_http_name_is(head->headers[i].name, lower)) {
            return true;
        }
    }
    return false;
}

/* The host comes from ap_url_parse(): a DNS name or an address literal. The
 * set is kept that narrow so nothing but a host can end up in Host:. */
static bool ap_is_host(const char *s)
{
    if (*s == '\0') {
        return false;
    }
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                  (c >= 'A' && c <= 'Z') || c == '.' || c == '-' ||
                  c == ':' || c == '_';
        if (!ok) {
            return false;
        }
    }
    return true;
}

static bool ap_is_target(const char *path, size_t len)
{
    size_t i;

    if (len == 0 || path[0] != '/') {
        return false;
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)path[i];
        if (c <= 0x20u || c >= 0x7Fu) {
            return false;
        }
    }
    return true;
}

static ap_status_t ap_check_head(const ap_http_request_head_t *head)
{
    size_t i;

    if (head->host == NULL || head->path == NULL ||
        (head->headers == NULL && head->header_count != 0)) {
        return AP_ERR_BAD_ARG;
    }
    if (!ap_is_host(head->host) || !ap_is_target(head->path, head->path_len)) {
        return AP_ERR_BAD_ARG;
    }
    if ((head->content_type != NULL && !ap_http_is_field_value(head->content_type)) ||
        (head->user_agent != NULL && !ap_http_is_field_value(head->user_agent))) {
        return AP_ERR_BAD_ARG;
    }
    for (i = 0; i < head->header_count; i++) {
        const ap_header_t *h = &head->headers[i];

        if (ap_http_header_problem(h->name, h->value) != NULL) {
            return AP_ERR_BAD_ARG;
        }
    }
    return AP_OK;
}

ap_status_t ap_http_write_head(const ap_http_request_head_t *head,
                               uint8_t *buf, size_t buf_size, size_t *out_len)
{
    ap_writer_t w;
    ap_status_t st;
    size_t i;

    if (head == NULL || buf == NULL || out_len == NULL) {
        return AP_ERR_BAD_ARG;
    }
    st = ap_check_head(head);
    if (st != AP_OK) {
        return st;
    }

    w.buf = buf;
    w.size = buf_size;
    w.len = 0;
    w.overflow = false;

    ap_w_str(&w, "POST ");
    ap_w_bytes(&w, head->path, head->path_len);
    ap_w_str(&w, " HTTP/1.1\r\nHost: ");
    if (strchr(head->host, ':') != NULL) {
        ap_w_bytes(&w, "[", 1);
        ap_w_str(&w, head->host);
        ap_w_bytes(&w, "]", 1);
    } else {
        ap_w_str(&w, head->host);
    }
    if (head->port != 443u) {
        ap_w_bytes(&w, ":", 1);
        ap_w_uint(&w, head->port);
    }
    ap_w_bytes(&w, "\r\n", 2);
    /* An extra header of the same name replaces a default, as curl's -H does:
     * a second User-Agent or Content-Type would be ambiguous. */
    if (!ap_has_header(head, "user-agent")) {
        ap_w_field(&w, "User-Agent",
                   head->user_agent != NULL ? head->user_agent : AP_USER_AGENT);
    }
    if (!ap_has_header(head, "content-type")) {
        ap_w_field(&w, "Content-Type",
                   head->content_type != NULL ? head->content_type : "application/json");
    }
    ap_w_str(&w, "Content-Length: ");
    ap_w_uint(&w, (uint64_t)head->content_length);
    ap_w_bytes(&w, "\r\n", 2);
    for (i = 0; i < head->header_count; i++) {
        ap_w_field(&w, head->headers[i].name, head->headers[i].value);
    }
    if (!head->keep_alive) {
        ap_w_str(&w, "Connection: close\r\n");
    }
    ap_w_bytes(&w, "\r\n", 2);

    if (w.overflow) {
        return AP_ERR_NO_SPACE;
    }
    *out_len = w.len;
    return AP_OK;
}
