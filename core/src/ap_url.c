/*
 * ap_url_parse(): "https://host[:port][/path][?query][#fragment]".
 *
 * Deliberately narrower than RFC 3986: alertpost posts to a configured
 * endpoint, so anything unusual in that string is far more likely a mistake
 * (or an attempt to smuggle bytes into the request line) than a need. Every
 * byte is checked once up front; the pieces are then cut out by position.
 */
#include "alertpost/ap_url.h"

#include <string.h>

static const char ap_url_root[] = "/";

static char ap_url_lower(char c)
{
    if (c >= 'A' && c <= 'Z') {
        return (char)(c - 'A' + 'a');
    }
    return c;
}

static int ap_url_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int ap_url_is_hex(char c)
{
    char l = ap_url_lower(c);
    return ap_url_is_digit(c) || (l >= 'a' && l <= 'f');
}

/* Dotted-quad only: four decimal parts of 0..255. Leading zeros are refused
 * because some resolvers read "010" as octal, and the address connected to
 * must be the one the certificate is checked against. */
static int ap_url_is_ipv4(const char *s, size_t len)
{
    size_t i = 0;
    int parts = 0;

    while (parts < 4) {
        size_t start = i;
        unsigned value = 0;

        while (i < len && ap_url_is_digit(s[i]) && i - start < 3) {
            value = value * 10u + (unsigned)(s[i] - '0');
            i++;
        }
        if (i == start || value > 255u || (i - start > 1 && s[start] == '0')) {
            return 0;
        }
        parts++;
        if (parts < 4) {
            if (i >= len || s[i] != '.') {
                return 0;
            }
            i++;
        }
    }
    return i == len;
}

/* RFC 4291 text form: up to eight groups of 1..4 hex digits, at most one
 * "::", optionally ending in a dotted quad that stands for two groups. A zone
 * id ("%eth0") never reaches here: '%' is refused in the authority. */
static int ap_url_is_ipv6(const char *s, size_t len)
{
    size_t i = 0;
    int groups = 0;
    int compressed = 0;

    if (len < 2) {
        return 0;
    }
    if (s[0] == ':') {
        if (s[1] != ':') {
            return 0;
        }
        compressed = 1;
        i = 2;
        if (i == len) {
            return 1; /* "::" */
        }
    }
    for (;;) {
        size_t start = i;

        while (i < len && ap_url_is_hex(s[i]) && i - start < 4) {
            i++;
        }
        if (i < len && s[i] == '.') {
            /* The rest must be a dotted quad starting at this group. */
            if (groups > 6 || !ap_url_is_ipv4(s + start, len - start)) {
                return 0;
            }
            groups += 2;
            break;
        }
        if (i == start) {
            return 0;
        }
        groups++;
        if (i == len) {
            break;
        }
        if (s[i] != ':' || groups >= 8) {
            return 0;
        }
        i++;
        if (i < len && s[i] == ':') {
            if (compressed) {
                return 0;
            }
            compressed = 1;
            i++;
            if (i == len) {
                break;
            }
        } else if (i == len) {
            return 0; /* a single trailing ':' */
        }
    }
    return compressed ? groups <= 7 : groups == 8;
}

/* A DNS name in LDH form: labels of 1..63 letters, digits and hyphens, not
 * starting or ending with a hyphen. A trailing root dot is refused: the same
 * string goes into SNI and the certificate name check, where it would not
 * match. A name whose last label is all digits can only be meant as an IPv4
 * address, so it must be a valid one. */
static int ap_url_is_dns_name(const char *s, size_t len)
{
    size_t i = 0;
    int last_all_digits = 1;

    while (i < len) {
        size_t start = i;
        int all_digits = 1;

        while (i < len && s[i] != '.') {
            char c = ap_url_lower(s[i]);
            if (!ap_url_is_digit(c)) {
                all_digits = 0;
                if (!((c >= 'a' && c <= 'z') || c == '-')) {
                    return 0;
                }
            }
            i++;
        }
        if (i == start || i - start > 63 || s[start] == '-' || s[i - 1] == '-') {
            return 0;
        }
        last_all_digits = all_digits;
        if (i < len) {
            i++; /* the dot */
            if (i == len) {
                return 0; /* trailing dot */
            }
        }
    }
    if (len == 0) {
        return 0;
    }
    return last_all_digits ? ap_url_is_ipv4(s, len) : 1;
}

static ap_status_t ap_url_fail(const char **why, const char *reason)
{
    *why = reason;
    return AP_ERR_URL;
}

static ap_status_t ap_url_parse_port(const char *s, size_t len, uint16_t *port,
                                     const char **why)
{
    uint32_t value = 0;
    size_t i;

    if (len == 0) {
        return ap_url_fail(why, "a ':' with no port number after it");
    }
    for (i = 0; i < len; i++) {
        if (!ap_url_is_digit(s[i])) {
            return ap_url_fail(why, "the port is not a decimal number");
        }
        value = value * 10u + (uint32_t)(s[i] - '0');
        if (value > 65535u) {
            return ap_url_fail(why, "the port is out of range (1 to 65535)");
        }
    }
    if (value == 0) {
        return ap_url_fail(why, "the port is out of range (1 to 65535)");
    }
    *port = (uint16_t)value;
    return AP_OK;
}

static void ap_url_copy_lower(char *dst, const char *src, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++) {
        dst[i] = ap_url_lower(src[i]);
    }
    dst[len] = '\0';
}

static ap_status_t ap_url_parse_why(const char *url, ap_url_t *out, const char **why)
{
    static const char scheme[] = "https://";
    const size_t scheme_len = sizeof(scheme) - 1;
    const char *auth;
    const char *host;
    const char *port_str = NULL;
    size_t total;
    size_t auth_len;
    size_t host_len;
    size_t port_len = 0;
    size_t path_end;
    size_t i;
    bool is_ipv6 = false;


    /* Spaces, control bytes, DEL and non-ASCII are refused anywhere: none
     * may reach the request line, and in the host they have no meaning. */
    total = strlen(url);
    for (i = 0; i < total; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20u || c >= 0x7Fu) {
            return ap_url_fail(why, "it holds a space, a control character or a non-ASCII "
                                    "byte (percent-encode them in the path)");
        }
    }

    for (i = 0; i < scheme_len; i++) {
        if (i >= total || ap_url_lower(url[i]) != scheme[i]) {
            bool plain = total >= 7 && ap_url_lower(url[0]) == 'h' && ap_url_lower(url[1]) == 't' &&
                         ap_url_lower(url[2]) == 't' && ap_url_lower(url[3]) == 'p' &&
                         url[4] == ':';
            return ap_url_fail(why, plain ? "it is http://: alerts are posted over https:// only"
                                          : "it does not start with https://");
        }
    }

    auth = url + scheme_len;
    auth_len = strcspn(auth, "/?#");
    /* User info would be sent nowhere (no Basic auth over the URL) and
     * "https://trusted@evil" is a classic way to mislead a reader. Percent
     * encoding in a host would need decoding to compare with a certificate. */
    for (i = 0; i < auth_len; i++) {
        if (auth[i] == '@') {
            return ap_url_fail(why, "user info (user@host) is not allowed: credentials do "
                                    "not belong in the URL");
        }
        if (auth[i] == '%') {
            return ap_url_fail(why, "percent-encoding is not allowed in the host");
        }
    }

    host = auth;
    if (auth_len > 0 && auth[0] == '[') {
        const char *close = memchr(auth, ']', auth_len);
        size_t after;

        if (close == NULL) {
            return ap_url_fail(why, "an IPv6 address in '[' is not closed with ']'");
        }
        host = auth + 1;
        host_len = (size_t)(close - host);
        after = (size_t)(close - auth) + 1;
        if (after < auth_len) {
            if (auth[after] != ':') {
                return ap_url_fail(why, "only ':PORT' may follow the ']' of an IPv6 address");
            }
            port_str = auth + after + 1;
            port_len = auth_len - after - 1;
        }
        if (!ap_url_is_ipv6(host, host_len)) {
            return ap_url_fail(why, "not a valid IPv6 address between '[' and ']'");
        }
        is_ipv6 = true;
    } else {
        const char *colon = memchr(auth, ':', auth_len);

        host_len = auth_len;
        if (colon != NULL) {
            host_len = (size_t)(colon - auth);
            port_str = colon + 1;
            port_len = auth_len - host_len - 1;
        }
        if (host_len == 0) {
            return ap_url_fail(why, "there is no host after https://");
        }
        if (!ap_url_is_dns_name(host, host_len)) {
            /* Also covers a ']' or a second ':' in an unbracketed host. */
            return ap_url_fail(why, "the host is not a valid name or address (an IPv6 "
                                    "address goes in brackets)");
        }
    }
    if (host_len == 0) {
        return ap_url_fail(why, "there is no host after https://");
    }
    if (host_len > AP_MAX_HOST_LEN) {
        return ap_url_fail(why, "the host is longer than 253 characters");
    }

    out->port = 443;
    if (port_str != NULL &&
        ap_url_parse_port(port_str, port_len, &out->port, why) != AP_OK) {
        return AP_ERR_URL;
    }

    ap_url_copy_lower(out->host, host, host_len);
    out->host_is_ipv6 = is_ipv6;

    /* The request target is the rest up to the fragment. A query with no
     * path ("https://h?q") would need a '/' put in front of it, which cannot
     * be done while pointing into the caller's string, so it is refused. */
    path_end = strcspn(auth + auth_len, "#");
    if (path_end == 0) {
        out->path = ap_url_root;
        out->path_len = 1;
    } else if (auth[auth_len] != '/') {
        return ap_url_fail(why, "a query needs a path before it (https://host/?query)");
    } else {
        out->path = auth + auth_len;
        out->path_len = path_end;
    }
    return AP_OK;
}

ap_status_t ap_url_parse(const char *url, ap_url_t *out)
{
    const char *why = NULL;

    if (url == NULL || out == NULL) {
        return AP_ERR_BAD_ARG;
    }
    return ap_url_parse_why(url, out, &why);
}

const char *ap_url_problem(const char *url)
{
    ap_url_t scratch;
    const char *why = NULL;

    if (url == NULL) {
        return "no URL given";
    }
    return ap_url_parse_why(url, &scratch, &why) == AP_OK ? NULL : why;
}
