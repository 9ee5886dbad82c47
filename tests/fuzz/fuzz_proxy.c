/*
 * Fuzz target for the proxy code in the POSIX port: the input is, in turn,
 * a proxy URL, a no_proxy list with a host, and a proxy's answer to CONNECT
 * (fed to the tunnel through an in-memory transport that hands over as
 * many bytes as are asked for). A violation of what each promises aborts:
 *   - an accepted URL has a host, a port and credentials that the tunnel
 *     accepts as they are, with no byte that could break a request;
 *   - "*" bypasses every host, and a list means the same with a trailing comma;
 *   - the tunnel sends exactly the CONNECT request; it opens only on a 2xx
 *     status line and then has taken the head and not one byte more; on a
 *     failure describe() says something, within its buffer.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alertpost/ap_posix_proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define AP_FUZZ_TEXT_MAX 1024u

static void ap_fuzz_require(bool ok)
{
    if (!ok) {
        abort();
    }
}

/* ---- an in-memory transport: the input is what the proxy says ----------- */

typedef struct {
    const uint8_t *in;
    size_t in_len;
    size_t in_pos;
    size_t read_size;   /* at most this many bytes per recv */
    uint8_t sent[2048];
    size_t sent_len;
} ap_fuzz_peer_t;

static ap_status_t peer_connect(void *ctx, const char *host, uint16_t port, uint32_t ms)
{
    (void)ctx;
    (void)host;
    (void)port;
    (void)ms;
    return AP_OK;
}

static int32_t peer_send(void *ctx, const uint8_t *buf, size_t len, uint32_t ms)
{
    ap_fuzz_peer_t *p = ctx;
    size_t room = sizeof p->sent - p->sent_len;
    size_t n = len < room ? len : room;

    (void)ms;
    if (n == 0) {
        return AP_ERR_IO;
    }
    memcpy(p->sent + p->sent_len, buf, n);
    p->sent_len += n;
    return (int32_t)n;
}

static int32_t peer_recv(void *ctx, uint8_t *buf, size_t size, uint32_t ms)
{
    ap_fuzz_peer_t *p = ctx;
    size_t left = p->in_len - p->in_pos;
    size_t n = size < p->read_size ? size : p->read_size;

    (void)ms;
    if (left == 0) {
        return AP_ERR_CLOSED;
    }
    if (n > left) {
        n = left;
    }
    memcpy(buf, p->in + p->in_pos, n);
    p->in_pos += n;
    return (int32_t)n;
}

static void peer_close(void *ctx)
{
    (void)ctx;
}

/* ---- the three parts ----------------------------------------------------- */

static void ap_fuzz_url(const char *text)
{
    ap_posix_proxy_url_t u;
    const char *why = NULL;
    ap_transport_t inner = { NULL, peer_connect, peer_send, peer_recv, peer_close, NULL };
    ap_transport_t t;
    ap_posix_proxy_t proxy;
    size_t i;

    if (ap_posix_proxy_url_parse(text, &u, &why) != AP_OK) {
        ap_fuzz_require(why != NULL && why[0] != '\0');
        ap_fuzz_require(!u.has_credentials && u.credentials[0] == '\0');
        return;
    }
    ap_fuzz_require(u.host[0] != '\0' && u.port != 0);
    for (i = 0; u.host[i] != '\0'; i++) {
        ap_fuzz_require((unsigned char)u.host[i] > 0x20 && u.host[i] != 0x7f &&
                        u.host[i] != '@' && u.host[i] != '/' && u.host[i] != '[');
    }
    ap_fuzz_require(u.has_credentials == (u.credentials[0] != '\0'));
    if (u.has_credentials) {
        ap_fuzz_require(u.credentials[0] != ':' && strchr(u.credentials, ':') != NULL);
    }
    ap_fuzz_require(ap_posix_proxy_init(&t, &proxy, &inner, u.host, u.port,
                                        u.has_credentials ? u.credentials : NULL) == AP_OK);
}

static void ap_fuzz_bypass(const char *text)
{
    char list[AP_FUZZ_TEXT_MAX + 2u];
    const char *nl = strchr(text, '\n');
    const char *host = nl != NULL ? nl + 1 : "example.com";
    size_t list_len = nl != NULL ? (size_t)(nl - text) : strlen(text);
    bool bypassed;

    memcpy(list, text, list_len);
    list[list_len] = '\0';
    bypassed = ap_posix_proxy_bypassed(list, host);
    ap_fuzz_require(ap_posix_proxy_bypassed("*", host) == (host[0] != '\0'));
    list[list_len] = ',';
    list[list_len + 1u] = '\0';
    ap_fuzz_require(ap_posix_proxy_bypassed(list, host) == bypassed);
}

/* Where the head ends: just after the first empty line, or 0 for none. */
static size_t ap_fuzz_head_end(const uint8_t *d, size_t n)
{
    size_t i;

    for (i = 1; i < n; i++) {
        if (d[i] == '\n' && (d[i - 1u] == '\n' || (i >= 2u && d[i - 1u] == '\r' &&
                                                    d[i - 2u] == '\n'))) {
            return i + 1u;
        }
    }
    return 0;
}

static void ap_fuzz_answer(const uint8_t *data, size_t size, size_t read_size)
{
    static const char want[] = "CONNECT origin.test:443 HTTP/1.1\r\nHost: origin.test:443\r\n\r\n";
    ap_fuzz_peer_t peer;
    ap_transport_t inner = { &peer, peer_connect, peer_send, peer_recv, peer_close, NULL };
    ap_transport_t t;
    ap_posix_proxy_t proxy;
    ap_status_t st;
    const char *d;

    memset(&peer, 0, sizeof peer);
    peer.in = data;
    peer.in_len = size;
    peer.read_size = read_size;
    ap_fuzz_require(ap_posix_proxy_init(&t, &proxy, &inner, "proxy.test", 3128, NULL) == AP_OK);
    st = t.connect(t.ctx, "origin.test", 443, 1000);
    ap_fuzz_require(peer.sent_len == sizeof want - 1u &&
                    memcmp(peer.sent, want, sizeof want - 1u) == 0);
    d = t.describe(t.ctx);
    ap_fuzz_require(d != NULL && memchr(d, '\0', AP_POSIX_PROXY_DETAIL_SIZE) != NULL);
    if (st == AP_OK) {
        size_t end = ap_fuzz_head_end(data, size);

        ap_fuzz_require(size >= 12u && memcmp(data, "HTTP/1.", 7) == 0 && data[9] == '2');
        ap_fuzz_require(end != 0 && peer.in_pos == end && end <= AP_POSIX_PROXY_HEAD_MAX);
    } else {
        ap_fuzz_require(st == AP_ERR_CONNECT || st == AP_ERR_TIMEOUT || st == AP_ERR_IO);
        ap_fuzz_require(d[0] != '\0');
        ap_fuzz_require(peer.in_pos <= size);
    }
    ap_posix_proxy_clear(&proxy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[AP_FUZZ_TEXT_MAX + 1u];
    size_t len = size < AP_FUZZ_TEXT_MAX ? size : AP_FUZZ_TEXT_MAX;

    memcpy(text, data, len);
    text[len] = '\0';
    ap_fuzz_url(text);
    ap_fuzz_bypass(text);
    /* The peer hands over all it is asked for: reading ahead would show. */
    ap_fuzz_answer(data, size, SIZE_MAX);
    return 0;
}
