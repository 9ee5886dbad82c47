/**
 * @file ap_posix_proxy.h
 * @brief HTTP CONNECT proxies for the POSIX port: a tunnelling transport,
 * the proxy URL parser and curl's no_proxy rules.
 *
 * The tunnel is a transport (ap_transport.h) that wraps another one,
 * normally the POSIX TCP transport. Its connect() opens the inner transport
 * to the proxy, asks for a tunnel with `CONNECT host:port HTTP/1.1` and, once
 * the proxy answers 2xx, passes send, recv and close straight through. TLS
 * therefore runs end to end inside the tunnel and the core verifies the
 * origin's name as it always does; the core never learns there is a proxy.
 *
 * Only plain-HTTP proxies are supported (the hop to the proxy is not itself
 * TLS); the parser refuses https:// and SOCKS proxy URLs with a reason.
 *
 * Everything here is caller-owned and fixed-size; the sizes are below.
 *
 * Use, with the URL's host and the environment as curl reads them:
 * @code
 *   ap_posix_proxy_url_t purl;
 *   const char *why;
 *
 *   if (!ap_posix_proxy_bypassed(getenv("no_proxy"), url_host) &&
 *       ap_posix_proxy_url_parse(proxy_url, &purl, &why) == AP_OK) {
 *       ap_posix_transport_init(&tcp, &conn);
 *       ap_posix_proxy_init(&tunnel, &proxy, &tcp, purl.host, purl.port,
 *                           proxy_user != NULL ? proxy_user : purl.credentials);
 *       cfg.transport = &tunnel;        // the core sees just a transport
 *   }
 *   ...
 *   ap_posix_proxy_clear(&proxy);       // wipes the encoded credentials
 * @endcode
 */
#ifndef ALERTPOST_AP_POSIX_PROXY_H
#define ALERTPOST_AP_POSIX_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alertpost/ap_status.h"
#include "alertpost/ap_transport.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The proxy port when the URL names none (curl's default too). */
#define AP_POSIX_PROXY_DEFAULT_PORT 1080u

/** Capacity of a host name (proxy or target), NUL included: 255 bytes. */
#define AP_POSIX_PROXY_HOST_SIZE 256u

/** Capacity of "user:password", NUL included: 255 bytes. */
#define AP_POSIX_PROXY_CREDENTIALS_SIZE 256u

/** Capacity of the base64 form of the longest credentials, NUL included. */
#define AP_POSIX_PROXY_AUTH_SIZE \
    (((AP_POSIX_PROXY_CREDENTIALS_SIZE - 1u + 2u) / 3u) * 4u + 1u)

/**
 * Longest proxy response head accepted, status line and headers together.
 * A proxy's answer to CONNECT is a status line and a few headers; anything
 * longer is not a proxy worth waiting for.
 */
#define AP_POSIX_PROXY_HEAD_MAX 8192u

/** Capacity of the text describe() returns, NUL included. */
#define AP_POSIX_PROXY_DETAIL_SIZE 384u

/** A parsed proxy URL. */
typedef struct ap_posix_proxy_url {
    /** Name or address literal; an IPv6 address without its brackets. */
    char host[AP_POSIX_PROXY_HOST_SIZE];
    uint16_t port;
    /** True when the URL carried user[:password]@. */
    bool has_credentials;
    /** "user:password", percent-decoded; "" when has_credentials is false. */
    char credentials[AP_POSIX_PROXY_CREDENTIALS_SIZE];
} ap_posix_proxy_url_t;

/**
 * State of one tunnel. Caller-owned; treat as opaque. It holds the encoded
 * credentials: clear it with ap_posix_proxy_clear() when done.
 */
typedef struct ap_posix_proxy {
    const ap_transport_t *inner;
    char host[AP_POSIX_PROXY_HOST_SIZE];
    uint16_t port;
    char auth[AP_POSIX_PROXY_AUTH_SIZE];    /* base64 of user:password, or "" */
    bool tunnel_open;
    char detail[AP_POSIX_PROXY_DETAIL_SIZE];
} ap_posix_proxy_t;

/**
 * @brief Parse a proxy URL as curl reads it: `[http://][user[:password]@]host[:port][/]`.
 *
 * No scheme means http. The host is a name or an address literal (IPv6 in
 * brackets). The port defaults to AP_POSIX_PROXY_DEFAULT_PORT. user and
 * password are percent-decoded; a user without a password gets an empty one.
 *
 * @param url    NUL-terminated proxy URL.
 * @param out    Filled on AP_OK; unspecified otherwise.
 * @param reason Optional (may be NULL). On AP_ERR_URL, a static English phrase
 *               saying what is wrong ("the port is not a number from 1 to
 *               65535"). It never quotes the URL, so it never leaks a password.
 * @return AP_OK;
 *         AP_ERR_BAD_ARG (url or out is NULL);
 *         AP_ERR_URL (malformed, an unsupported scheme such as https:// or
 *         socks5://, or a part longer than its capacity; see reason).
 */
ap_status_t ap_posix_proxy_url_parse(const char *url, ap_posix_proxy_url_t *out,
                                     const char **reason);

/**
 * @brief Whether host bypasses the proxy under a no_proxy list, with curl's
 * meaning.
 *
 * The list is comma-separated; blanks around entries are ignored. An entry
 * `*` matches every host. Otherwise, for a host name, an entry matches the
 * name itself or any name below it (`example.com` and `.example.com` both
 * match `example.com` and `www.example.com`, not `badexample.com`),
 * case-insensitively and ignoring one trailing dot on either side. For an
 * IPv4 or IPv6 address literal (brackets allowed), entries are compared as
 * addresses, and `addr/bits` is a CIDR prefix. Names are never resolved, so
 * a name never matches an address entry, nor an address a name entry.
 * Entries and hosts longer than 255 bytes match nothing but `*`.
 *
 * @param no_proxy The list (the no_proxy variable); NULL or "" bypasses nothing.
 * @param host     The URL's host; NULL or "" is never bypassed.
 * @return true when the host must be reached directly.
 */
bool ap_posix_proxy_bypassed(const char *no_proxy, const char *host);

/**
 * @brief Fill transport with a CONNECT tunnel through host:port over inner.
 *
 * inner stays the caller's and must outlive the tunnel; the tunnel calls its
 * connect (to the proxy), send, recv, close and describe. credentials are
 * copied (base64-encoded) into proxy; the string itself is not kept.
 *
 * The tunnel's connect(target, port, timeout_ms), all within timeout_ms:
 * connects inner to the proxy; sends `CONNECT target:port HTTP/1.1` with Host
 * and, when credentials were given, `Proxy-Authorization: Basic`; reads the
 * response head one byte at a time, so that not a byte of what follows it
 * (the origin's TLS records) is taken from the stream; and on a 2xx becomes
 * transparent. Its returns, beyond those of ap_transport.h's connect:
 *   AP_ERR_DNS       the proxy's name did not resolve;
 *   AP_ERR_CONNECT   the proxy is unreachable or refused TCP; it refused the
 *                    tunnel (403), wants or rejected credentials (407, or
 *                    401 as tinyproxy sends for wrong ones),
 *                    answered another non-2xx status, closed before
 *                    answering, or answered something that is not HTTP or
 *                    longer than AP_POSIX_PROXY_HEAD_MAX;
 *   AP_ERR_TIMEOUT   the proxy or its answer did not come within timeout_ms;
 *   AP_ERR_IO        the connection to the proxy failed mid-exchange;
 *   AP_ERR_BAD_ARG   the target is empty, too long or not a host.
 * describe() names the proxy and the cause in each case, and never the
 * credentials. send and recv before a tunnel is open give AP_ERR_IO.
 *
 * @param transport   Filled with the tunnel's functions over proxy.
 * @param proxy       Caller-owned state.
 * @param inner       The transport to the proxy (all of connect, send, recv
 *                    and close set).
 * @param host        The proxy's name or address (IPv6 without brackets).
 * @param port        The proxy's port, 1 to 65535.
 * @param credentials "user:password" for Basic authentication, or NULL or ""
 *                    for none. The user part may not be empty.
 * @return AP_OK;
 *         AP_ERR_BAD_ARG (a NULL pointer, an incomplete inner transport,
 *         port 0, an empty host, credentials without ':' or with a control
 *         character);
 *         AP_ERR_NO_SPACE (host or credentials longer than their capacity).
 *         On failure transport is left unset and the proxy state cleared.
 */
ap_status_t ap_posix_proxy_init(ap_transport_t *transport, ap_posix_proxy_t *proxy,
                                const ap_transport_t *inner, const char *host,
                                uint16_t port, const char *credentials);

/**
 * @brief Close the tunnel (and inner) and wipe proxy, credentials included.
 * Safe on a proxy never initialised by ap_posix_proxy_init() only if it was
 * zeroed; safe to call twice.
 */
void ap_posix_proxy_clear(ap_posix_proxy_t *proxy);

#ifdef __cplusplus
}
#endif

#endif /* ALERTPOST_AP_POSIX_PROXY_H */
