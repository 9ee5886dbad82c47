/*
 * The CONNECT tunnel: a transport over another transport.
 *
 * Why the response head is read one byte at a time: a proxy may put the
 * first bytes of the tunnel (the origin's TLS records, once the client has
 * sent its hello; or anything a misbehaving proxy sends early) in the same
 * segment as its head. Reading ahead would take them from the stream, and
 * the inner transport has no way to push them back. A head is a few hundred
 * bytes, once per connection, so the cost is a few hundred recv calls.
 *
 * Every step shares one deadline, the connect timeout, so a proxy that
 * trickles its answer cannot stretch it.
 */
#define _POSIX_C_SOURCE 200809L

#include "alertpost/ap_posix_proxy.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Longest request: two copies of "[host]:65535", the Basic header, fixed text. */
#define AP_PROXY_TARGET_SIZE (AP_POSIX_PROXY_HOST_SIZE + 8u)
#define AP_PROXY_REQUEST_SIZE (2u * AP_PROXY_TARGET_SIZE + AP_POSIX_PROXY_AUTH_SIZE + 96u)
/* What is kept of the status line for the message: the rest is only counted. */
#define AP_PROXY_STATUS_LINE_KEEP 96u
#define AP_PROXY_REASON_SHOWN 48u

typedef struct {
    uint64_t start_ns;
    uint64_t limit_ns;
} proxy_deadline_t;

/* What the head reader learnt. */
typedef struct {
    char line[AP_PROXY_STATUS_LINE_KEEP]; /* the status line, CR/LF removed */
    size_t line_len;
    int code;
    char reason[AP_PROXY_REASON_SHOWN + 1u];
    char status_text[AP_PROXY_REASON_SHOWN + 8u];
} proxy_head_t;

static uint64_t monotonic_ns(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        return 0;
    }
    return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

/* What is left, in whole milliseconds rounded up (0 only when none is). */
static uint32_t remaining_ms(const proxy_deadline_t *dl)
{
    uint64_t elapsed = monotonic_ns() - dl->start_ns;
    uint64_t left;

    if (elapsed >= dl->limit_ns) {
        return 0;
    }
    left = (dl->limit_ns - elapsed + UINT64_C(999999)) / UINT64_C(1000000);
    return left > UINT32_MAX ? UINT32_MAX : (uint32_t)left;
}

#ifdef __GNUC__
static void set_detail(ap_posix_proxy_t *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#endif

static void set_detail(ap_posix_proxy_t *p, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    /* Both names are bounded (255 bytes each) and the buffer holds them
     * with every message below; truncation would only shorten the text. */
    (void)vsnprintf(p->detail, sizeof p->detail, fmt, ap);
    va_end(ap);
}

static const char *inner_detail(const ap_posix_proxy_t *p)
{
    const char *d = NULL;

    if (p->inner->describe != NULL) {
        d = p->inner->describe(p->inner->ctx);
    }
    return (d != NULL && d[0] != '\0') ? d : "no detail from the transport";
}

/* host:port, with brackets around an IPv6 literal. */
static void format_target(char *out, size_t out_size, const char *host, uint16_t port)
{
    if (strchr(host, ':') != NULL) {
        (void)snprintf(out, out_size, "[%s]:%u", host, (unsigned)port);
    } else {
        (void)snprintf(out, out_size, "%s:%u", host, (unsigned)port);
    }
}

/* The target goes into the request line unescaped, so only the characters
 * of a DNS name or an address literal may pass: no blank, CR, LF or '@'. */
static bool target_host_ok(const char *host)
{
    size_t i;

    if (host == NULL || host[0] == '\0') {
        return false;
    }
    for (i = 0; host[i] != '\0'; i++) {
        unsigned char ch = (unsigned char)host[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
                  ch == ':';

        if (!ok || i + 1u >= AP_POSIX_PROXY_HOST_SIZE) {
            return false;
        }
    }
    return true;
}

static size_t base64_encode(const uint8_t *in, size_t len, char *out)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    size_t i;

    for (i = 0; i + 2u < len; i += 3u) {
        uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1u] << 8) | in[i + 2u];

        out[o++] = alphabet[(v >> 18) & 63u];
        out[o++] = alphabet[(v >> 12) & 63u];
        out[o++] = alphabet[(v >> 6) & 63u];
        out[o++] = alphabet[v & 63u];
    }
    if (i < len) {
        uint32_t v = (uint32_t)in[i] << 16;

        if (i + 1u < len) {
            v |= (uint32_t)in[i + 1u] << 8;
        }
        out[o++] = alphabet[(v >> 18) & 63u];
        out[o++] = alphabet[(v >> 12) & 63u];
        if (i + 1u < len) {
            out[o++] = alphabet[(v >> 6) & 63u];
        } else {
            out[o++] = '=';
        }
        out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}

static ap_status_t send_all(ap_posix_proxy_t *p, const char *proxy_name,
                            const uint8_t *buf, size_t len, const proxy_deadline_t *dl,
                            uint32_t timeout_ms)
{
    size_t sent = 0;

    while (sent < len) {
        uint32_t left = remaining_ms(dl);
        int32_t n;

        if (left == 0) {
            n = AP_ERR_TIMEOUT;
        } else {
            n = p->inner->send(p->inner->ctx, buf + sent, len - sent, left);
        }
        if (n > 0) {
            sent += (size_t)n;
            continue;
        }
        if (n == AP_ERR_TIMEOUT) {
            set_detail(p, "proxy %s did not take the CONNECT request within %lu ms",
                       proxy_name, (unsigned long)timeout_ms);
            return AP_ERR_TIMEOUT;
        }
        set_detail(p, "sending the CONNECT request to proxy %s failed: %s", proxy_name,
                   inner_detail(p));
        return AP_ERR_IO;
    }
    return AP_OK;
}

/* "HTTP/1.x NNN reason": the code, and the reason made printable. */
static bool parse_status_line(proxy_head_t *h)
{
    const char *s = h->line;
    size_t i;
    size_t r = 0;

    if (h->line_len < 12u || strncmp(s, "HTTP/1.", 7) != 0 || s[7] < '0' || s[7] > '9' ||
        s[8] != ' ') {
        return false;
    }
    for (i = 9; i < 12u; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
    }
    if (h->line_len > 12u && s[12] != ' ') {
        return false;
    }
    h->code = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
    for (i = 13; i < h->line_len && r < AP_PROXY_REASON_SHOWN; i++) {
        char ch = s[i];

        if (ch < 0x20 || ch >= 0x7f) {
            ch = '?';
        }
        h->reason[r++] = ch;
    }
    h->reason[r] = '\0';
    /* "NNN reason", or "NNN" alone when the proxy gave no reason. */
    (void)snprintf(h->status_text, sizeof h->status_text, "%d%s%s", h->code,
                   r > 0 ? " " : "", h->reason);
    return true;
}

static ap_status_t head_not_http(ap_posix_proxy_t *p, const char *proxy_name)
{
    set_detail(p, "proxy %s answered the CONNECT with something that is not HTTP; "
                  "check that it is an HTTP proxy and its port is right",
               proxy_name);
    return AP_ERR_CONNECT;
}

static ap_status_t head_recv_failed(ap_posix_proxy_t *p, const char *proxy_name,
                                    int32_t n, size_t got, uint32_t timeout_ms)
{
    if (n == AP_ERR_TIMEOUT) {
        set_detail(p, "proxy %s did not answer the CONNECT within %lu ms", proxy_name,
                   (unsigned long)timeout_ms);
        return AP_ERR_TIMEOUT;
    }
    if (n == AP_ERR_CLOSED) {
        set_detail(p, "proxy %s closed the connection %s", proxy_name,
                   got == 0 ? "without answering the CONNECT"
                            : "in the middle of its answer to the CONNECT");
        return AP_ERR_CONNECT;
    }
    set_detail(p, "reading proxy %s's answer to the CONNECT failed: %s", proxy_name,
               inner_detail(p));
    return AP_ERR_IO;
}

/*
 * Read the head up to and including its empty line, and not a byte more.
 * Lines may end in CRLF or a bare LF; any other control byte, or a first
 * line that does not start like a status line, is "not HTTP" at once, so a
 * TLS server or an SSH daemon behind the proxy port fails fast.
 */
static ap_status_t read_head(ap_posix_proxy_t *p, const char *proxy_name,
                             const proxy_deadline_t *dl, uint32_t timeout_ms,
                             proxy_head_t *h)
{
    static const char prefix[] = "HTTP/";
    size_t total = 0;
    size_t line_len = 0;   /* of the current line, CR excluded */
    bool in_status = true;
    bool after_cr = false;

    memset(h, 0, sizeof *h);
    for (;;) {
        uint8_t ch;
        uint32_t left = remaining_ms(dl);
        int32_t n = (left == 0) ? AP_ERR_TIMEOUT : p->inner->recv(p->inner->ctx, &ch, 1, left);

        if (n != 1) {
            return head_recv_failed(p, proxy_name, n, total, timeout_ms);
        }
        if (++total > AP_POSIX_PROXY_HEAD_MAX) {
            set_detail(p, "proxy %s's answer to the CONNECT is longer than %u bytes",
                       proxy_name, (unsigned)AP_POSIX_PROXY_HEAD_MAX);
            return AP_ERR_CONNECT;
        }
        if (ch == '\n') {
            if (in_status) {
                if (!parse_status_line(h)) {
                    return head_not_http(p, proxy_name);
                }
                in_status = false;
            } else if (line_len == 0) {
                return AP_OK;
            }
            line_len = 0;
            after_cr = false;
            continue;
        }
        if (after_cr || (ch < 0x20 && ch != '\t' && ch != '\r') || ch == 0x7f) {
            return head_not_http(p, proxy_name);
        }
        if (ch == '\r') {
            after_cr = true;
            continue;
        }
        if (in_status) {
            if (line_len < sizeof prefix - 1u && ch != (uint8_t)prefix[line_len]) {
                return head_not_http(p, proxy_name);
            }
            if (h->line_len + 1u < sizeof h->line) {
                h->line[h->line_len++] = (char)ch;
            }
        }
        line_len++;
    }
}

static ap_status_t judge_status(ap_posix_proxy_t *p, const char *proxy_name,
                                const char *target, const proxy_head_t *h)
{
    if (h->code >= 200 && h->code <= 299) {
        return AP_OK;
    }
    /* 401 too: tinyproxy answers wrong credentials with 401, not 407. */
    if (h->code == 407 || h->code == 401) {
        if (p->auth[0] != '\0') {
            set_detail(p, "proxy %s rejected the credentials (%d); check --proxy-user",
                       proxy_name, h->code);
        } else {
            set_detail(p, "proxy %s requires authentication (%d); use --proxy-user",
                       proxy_name, h->code);
        }
    } else if (h->code == 403) {
        set_detail(p, "proxy %s refused the tunnel to %s (403 Forbidden)", proxy_name,
                   target);
    } else if (h->code >= 500 && h->code <= 599) {
        set_detail(p, "proxy %s could not open the tunnel to %s (%s)", proxy_name, target,
                   h->status_text);
    } else {
        set_detail(p, "proxy %s answered the CONNECT to %s with %s; a tunnel needs 2xx",
                   proxy_name, target, h->status_text);
    }
    return AP_ERR_CONNECT;
}

static size_t build_request(const ap_posix_proxy_t *p, const char *target, char *out,
                            size_t out_size)
{
    int n;

    if (p->auth[0] != '\0') {
        n = snprintf(out, out_size,
                     "CONNECT %s HTTP/1.1\r\nHost: %s\r\n"
                     "Proxy-Authorization: Basic %s\r\n\r\n",
                     target, target, p->auth);
    } else {
        n = snprintf(out, out_size, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target,
                     target);
    }
    return (n < 0 || (size_t)n >= out_size) ? 0 : (size_t)n;
}

/* volatile: a plain memset before the object dies may be optimised out. */
static void wipe(void *buf, size_t len)
{
    volatile unsigned char *b = buf;
    size_t i;

    for (i = 0; i < len; i++) {
        b[i] = 0;
    }
}

static void proxy_close(void *ctx)
{
    ap_posix_proxy_t *p = ctx;

    /* The detail stays: the core reads describe() around close(). */
    if (p != NULL && p->inner != NULL) {
        p->inner->close(p->inner->ctx);
        p->tunnel_open = false;
    }
}

static ap_status_t proxy_connect(void *ctx, const char *host, uint16_t port,
                                 uint32_t timeout_ms)
{
    ap_posix_proxy_t *p = ctx;
    char proxy_name[AP_PROXY_TARGET_SIZE];
    char target[AP_PROXY_TARGET_SIZE];
    char request[AP_PROXY_REQUEST_SIZE];
    proxy_deadline_t dl;
    proxy_head_t head;
    size_t request_len;
    ap_status_t st = AP_ERR_CONNECT;

    if (p == NULL || p->inner == NULL) {
        return AP_ERR_BAD_ARG;
    }
    proxy_close(p);
    p->detail[0] = '\0';
    format_target(proxy_name, sizeof proxy_name, p->host, p->port);
    if (!target_host_ok(host) || port == 0) {
        set_detail(p, "no valid host to ask proxy %s for", proxy_name);
        return AP_ERR_BAD_ARG;
    }
    format_target(target, sizeof target, host, port);
    request_len = build_request(p, target, request, sizeof request);
    if (request_len == 0) {
        set_detail(p, "the CONNECT request for %s does not fit", target);
        return AP_ERR_BAD_ARG;
    }

    dl.start_ns = monotonic_ns();
    dl.limit_ns = (uint64_t)timeout_ms * UINT64_C(1000000);
    st = p->inner->connect(p->inner->ctx, p->host, p->port, timeout_ms);
    if (st != AP_OK) {
        set_detail(p, "cannot reach proxy %s: %s", proxy_name, inner_detail(p));
        p->inner->close(p->inner->ctx);
        return st;
    }
    st = send_all(p, proxy_name, (const uint8_t *)request, request_len, &dl, timeout_ms);
    if (st == AP_OK) {
        st = read_head(p, proxy_name, &dl, timeout_ms, &head);
    }
    if (st == AP_OK) {
        st = judge_status(p, proxy_name, target, &head);
    }
    /* The request may carry the encoded credentials: not left on the stack. */
    wipe(request, sizeof request);
    if (st != AP_OK) {
        p->inner->close(p->inner->ctx);
        return st;
    }
    p->tunnel_open = true;
    return AP_OK;
}

static int32_t proxy_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    ap_posix_proxy_t *p = ctx;

    if (p == NULL || p->inner == NULL) {
        return AP_ERR_BAD_ARG;
    }
    if (!p->tunnel_open) {
        set_detail(p, "send before the tunnel through the proxy is open");
        return AP_ERR_IO;
    }
    return p->inner->send(p->inner->ctx, buf, len, timeout_ms);
}

static int32_t proxy_recv(void *ctx, uint8_t *buf, size_t size, uint32_t timeout_ms)
{
    ap_posix_proxy_t *p = ctx;

    if (p == NULL || p->inner == NULL) {
        return AP_ERR_BAD_ARG;
    }
    if (!p->tunnel_open) {
        set_detail(p, "receive before the tunnel through the proxy is open");
        return AP_ERR_IO;
    }
    return p->inner->recv(p->inner->ctx, buf, size, timeout_ms);
}

/* Once the tunnel is open its failures are the inner transport's to tell. */
static const char *proxy_describe(void *ctx)
{
    const ap_posix_proxy_t *p = ctx;

    if (p == NULL) {
        return "";
    }
    if (p->detail[0] != '\0' || p->inner == NULL || p->inner->describe == NULL) {
        return p->detail;
    }
    {
        const char *d = p->inner->describe(p->inner->ctx);

        return d != NULL ? d : "";
    }
}

static ap_status_t store_credentials(ap_posix_proxy_t *p, const char *credentials)
{
    size_t len;
    size_t i;

    if (credentials == NULL || credentials[0] == '\0') {
        return AP_OK;
    }
    len = strlen(credentials);
    if (len >= AP_POSIX_PROXY_CREDENTIALS_SIZE) {
        return AP_ERR_NO_SPACE;
    }
    /* RFC 7617: the user-id ends at the first colon and neither part may
     * hold a control character. */
    if (credentials[0] == ':' || strchr(credentials, ':') == NULL) {
        return AP_ERR_BAD_ARG;
    }
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)credentials[i];

        if (ch < 0x20 || ch == 0x7f) {
            return AP_ERR_BAD_ARG;
        }
    }
    (void)base64_encode((const uint8_t *)credentials, len, p->auth);
    return AP_OK;
}

ap_status_t ap_posix_proxy_init(ap_transport_t *transport, ap_posix_proxy_t *proxy,
                                const ap_transport_t *inner, const char *host,
                                uint16_t port, const char *credentials)
{
    ap_status_t st;

    if (transport == NULL || proxy == NULL) {
        return AP_ERR_BAD_ARG;
    }
    memset(proxy, 0, sizeof *proxy);
    if (inner == NULL || inner->connect == NULL || inner->send == NULL ||
        inner->recv == NULL || inner->close == NULL || host == NULL || host[0] == '\0' ||
        port == 0) {
        return AP_ERR_BAD_ARG;
    }
    if (strlen(host) >= sizeof proxy->host) {
        return AP_ERR_NO_SPACE;
    }
    st = store_credentials(proxy, credentials);
    if (st != AP_OK) {
        memset(proxy, 0, sizeof *proxy);
        return st;
    }
    proxy->inner = inner;
    (void)snprintf(proxy->host, sizeof proxy->host, "%s", host);
    proxy->port = port;
    transport->ctx = proxy;
    transport->connect = proxy_connect;
    transport->send = proxy_send;
    transport->recv = proxy_recv;
    transport->close = proxy_close;
    transport->describe = proxy_describe;
    return AP_OK;
}

void ap_posix_proxy_clear(ap_posix_proxy_t *proxy)
{
    if (proxy == NULL) {
        return;
    }
    proxy_close(proxy);
    wipe(proxy, sizeof *proxy);
}
