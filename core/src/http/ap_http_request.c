/*
 * ap_http_write_head(): the POST request head.
 *
 * Everything is validated before a byte is written, so a refused argument
 * never leaves half a head behind, and every append is bounds-checked so an
 * undersized buffer costs AP_ERR_NO_SPACE, never a byte past buf_size.
 */
#include "alertpost/ap_http.h"

#include <string.h>

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

/* RFC 9110 tchar. */
static bool ap_is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
        return true;
    }
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", (int)c) != NULL;
}

static bool ap_is_token(const char *s)
{
    if (*s == '\0') {
        return false;
    }
    for (; *s != '\0'; s++) {
        if (!ap_is_tchar((unsigned char)*s)) {
            return false;
        }
    }
    return true;
}

/* A field value may hold HTAB, SP, visible ASCII and obs-text; any other
 * control byte could end the line early and inject a header of its own. */
static bool ap_is_field_value(const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c < 0x20u && c != '\t') || c == 0x7Fu) {
            return false;
        }
    }
    return true;
}

static unsigned char ap_lower(char c)
{
    unsigned char u = (unsigned char)c;
    if (u >= 'A' && u <= 'Z') {
        u = (unsigned char)(u - 'A' + 'a');
    }
    return u;
}

/* ASCII case-insensitive equality; lower is already lower case. */
static bool ap_name_equal(const char *name, const char *lower)
{
    for (; *name != '\0' && *lower != '\0'; name++, lower++) {
        if (ap_lower(*name) != (unsigned char)*lower) {
            return false;
        }
    }
    return *name == *lower;
}

/* The fields the writer owns: a second copy from the caller would make the
 * message framing or its target ambiguous. */
static bool ap_is_reserved(const char *name)
{
    static const char *const reserved[] = {
        "host", "content-length", "transfer-encoding", "connection"
    };
    size_t i;

    for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
        if (ap_name_equal(name, reserved[i])) {
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
    if ((head->content_type != NULL && !ap_is_field_value(head->content_type)) ||
        (head->user_agent != NULL && !ap_is_field_value(head->user_agent))) {
        return AP_ERR_BAD_ARG;
    }
    for (i = 0; i < head->header_count; i++) {
        const ap_header_t *h = &head->headers[i];
        if (h->name == NULL || h->value == NULL || !ap_is_token(h->name) ||
            !ap_is_field_value(h->value) || ap_is_reserved(h->name)) {
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
    ap_w_field(&w, "User-Agent",
               head->user_agent != NULL ? head->user_agent : AP_USER_AGENT);
    ap_w_field(&w, "Content-Type",
               head->content_type != NULL ? head->content_type : "application/json");
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
