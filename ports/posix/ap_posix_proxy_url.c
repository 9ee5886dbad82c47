/*
 * The proxy URL, as curl reads --proxy and https_proxy: an optional http://
 * scheme, optional percent-encoded credentials, a host and an optional port.
 *
 * Each refusal has its own reason, and no reason quotes the input: a proxy
 * URL often carries a password, and error texts end up in logs.
 */
#define _POSIX_C_SOURCE 200809L

#include "alertpost/ap_posix_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static bool is_alnum(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

static char lower(char ch)
{
    if (ch >= 'A' && ch <= 'Z') {
        return (char)(ch - 'A' + 'a');
    }
    return ch;
}

static bool prefix_nocase(const char *s, size_t len, const char *word)
{
    size_t i;

    if (strlen(word) != len) {
        return false;
    }
    for (i = 0; i < len; i++) {
        if (lower(s[i]) != word[i]) {
            return false;
        }
    }
    return true;
}

static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }
    ch = lower(ch);
    return (ch >= 'a' && ch <= 'f') ? ch - 'a' + 10 : -1;
}

/* Percent-decode s[0..len) onto out at *pos. */
static const char *decode_part(const char *s, size_t len, char *out, size_t out_size,
                               size_t *pos)
{
    size_t i;

    for (i = 0; i < len; i++) {
        char ch = s[i];

        if (ch == '%') {
            int hi = (i + 2u < len) ? hex_value(s[i + 1u]) : -1;
            int lo = (hi >= 0) ? hex_value(s[i + 2u]) : -1;

            if (lo < 0) {
                return "a '%' in the credentials is not followed by two hex digits";
            }
            ch = (char)(hi * 16 + lo);
            i += 2u;
        }
        if ((unsigned char)ch < 0x20 || ch == 0x7f) {
            return "the credentials contain a control character";
        }
        if (*pos + 1u >= out_size) {
            return "the credentials are longer than 255 bytes";
        }
        out[(*pos)++] = ch;
    }
    out[*pos] = '\0';
    return NULL;
}

/* user[:password], the user non-empty; the password may be absent (curl
 * sends an empty one then). */
static const char *parse_userinfo(const char *s, size_t len, ap_posix_proxy_url_t *out)
{
    const char *colon = memchr(s, ':', len);
    size_t user_len = colon != NULL ? (size_t)(colon - s) : len;
    size_t pos = 0;
    const char *why;

    if (user_len == 0) {
        return "the user name before '@' is empty";
    }
    why = decode_part(s, user_len, out->credentials, sizeof out->credentials, &pos);
    if (why == NULL && strchr(out->credentials, ':') != NULL) {
        why = "the user name contains ':' (a %3A); Basic authentication cannot carry it";
    }
    if (why == NULL && pos + 1u >= sizeof out->credentials) {
        why = "the credentials are longer than 255 bytes";
    }
    if (why != NULL) {
        return why;
    }
    out->credentials[pos++] = ':';
    out->credentials[pos] = '\0';
    if (colon != NULL) {
        why = decode_part(colon + 1, len - user_len - 1u, out->credentials,
                          sizeof out->credentials, &pos);
    }
    out->has_credentials = (why == NULL);
    return why;
}

static const char *parse_host(const char *s, size_t len, ap_posix_proxy_url_t *out,
                              size_t *used)
{
    size_t i;

    if (len > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        size_t inner;
        struct in6_addr addr;

        if (close == NULL) {
            return "the '[' of an IPv6 address has no ']'";
        }
        inner = (size_t)(close - s) - 1u;
        if (inner == 0 || inner >= sizeof out->host) {
            return "the brackets hold no IPv6 address";
        }
        memcpy(out->host, s + 1, inner);
        out->host[inner] = '\0';
        if (inet_pton(AF_INET6, out->host, &addr) != 1) {
            return "the brackets hold no IPv6 address (zone identifiers are not supported)";
        }
        *used = inner + 2u;
        return NULL;
    }
    for (i = 0; i < len && s[i] != ':'; i++) {
        if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '.' && s[i] != '_') {
            return "the host contains a character not allowed in a host name";
        }
    }
    if (i == 0) {
        return "the proxy URL names no host";
    }
    if (i >= sizeof out->host) {
        return "the host name is longer than 255 bytes";
    }
    memcpy(out->host, s, i);
    out->host[i] = '\0';
    *used = i;
    return NULL;
}

static const char *parse_port(const char *s, size_t len, uint16_t *port)
{
    unsigned long v = 0;
    size_t i;

    if (len == 0) {
        *port = (uint16_t)AP_POSIX_PROXY_DEFAULT_PORT;
        return NULL;
    }
    if (s[0] != ':' || len == 1u) {
        return "a ':' after the host must be followed by a port number";
    }
    for (i = 1; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return "the port is not a number from 1 to 65535";
        }
        v = v * 10u + (unsigned long)(s[i] - '0');
        if (v > 65535u) {
            return "the port is not a number from 1 to 65535";
        }
    }
    if (v == 0) {
        return "the port is not a number from 1 to 65535";
    }
    *port = (uint16_t)v;
    return NULL;
}

static const char *parse_scheme(const char *url, const char **rest)
{
    const char *sep = strstr(url, "://");
    size_t len;

    *rest = url;
    if (sep == NULL) {
        return NULL; /* curl: no scheme means http */
    }
    len = (size_t)(sep - url);
    *rest = sep + 3;
    if (prefix_nocase(url, len, "http")) {
        return NULL;
    }
    if (prefix_nocase(url, len, "https")) {
        return "https:// proxies (TLS to the proxy) are not supported; use an http:// "
               "proxy URL (the alert is still TLS end to end)";
    }
    if (prefix_nocase(url, len, "socks4") || prefix_nocase(url, len, "socks4a") ||
        prefix_nocase(url, len, "socks5") || prefix_nocase(url, len, "socks5h")) {
        return "SOCKS proxies are not supported; use an http:// proxy URL";
    }
    return "the scheme is not http:// (the only proxy scheme supported)";
}

static const char *parse_url(const char *url, ap_posix_proxy_url_t *out)
{
    const char *rest;
    const char *at;
    size_t auth_len;
    size_t host_used = 0;
    size_t i;
    const char *why;

    for (i = 0; url[i] != '\0'; i++) {
        if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f) {
            return "the proxy URL contains a blank or a control character";
        }
    }
    why = parse_scheme(url, &rest);
    if (why != NULL) {
        return why;
    }
    auth_len = strcspn(rest, "/?#");
    if (rest[auth_len] != '\0' && strcmp(rest + auth_len, "/") != 0) {
        return "a proxy URL has no path, query or fragment (at most a final '/')";
    }
    /* The last '@': a password with an unencoded '@' still parses, as in curl. */
    at = NULL;
    for (i = 0; i < auth_len; i++) {
        if (rest[i] == '@') {
            at = rest + i;
        }
    }
    if (at != NULL) {
        why = parse_userinfo(rest, (size_t)(at - rest), out);
        if (why != NULL) {
            return why;
        }
        auth_len -= (size_t)(at + 1 - rest);
        rest = at + 1;
    }
    why = parse_host(rest, auth_len, out, &host_used);
    if (why != NULL) {
        return why;
    }
    return parse_port(rest + host_used, auth_len - host_used, &out->port);
}

ap_status_t ap_posix_proxy_url_parse(const char *url, ap_posix_proxy_url_t *out,
                                     const char **reason)
{
    const char *why;

    if (reason != NULL) {
        *reason = "";
    }
    if (url == NULL || out == NULL) {
        return AP_ERR_BAD_ARG;
    }
    memset(out, 0, sizeof *out);
    why = parse_url(url, out);
    if (why != NULL) {
        memset(out, 0, sizeof *out);
        if (reason != NULL) {
            *reason = why;
        }
        return AP_ERR_URL;
    }
    return AP_OK;
}
