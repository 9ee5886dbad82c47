/**
 * @file ap_url.h
 * @brief Parsing the https:// URL an alert is posted to. Pure; no I/O.
 */
#ifndef ALERTPOST_AP_URL_H
#define ALERTPOST_AP_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alertpost/ap_config.h"
#include "alertpost/ap_status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ap_url {
    /** Host, NUL-terminated, lower-cased; an IPv6 literal without brackets. */
    char host[AP_MAX_HOST_LEN + 1];
    /** True when host is an IPv6 literal (it is bracketed again in Host:). */
    bool host_is_ipv6;
    /** Port; 443 when the URL names none. */
    uint16_t port;
    /**
     * Origin-form request target ("/path?query"), pointing into the string
     * given to ap_url_parse() (or at a static "/" when the URL has no path):
     * valid as long as that string is. Not NUL-terminated: use path_len.
     */
    const char *path;
    size_t path_len;
} ap_url_t;

/**
 * @brief Parse "https://host[:port][/path][?query][#fragment]".
 *
 * Accepts DNS names, IPv4 literals and bracketed IPv6 literals. The scheme is
 * case-insensitive; the fragment is dropped (it is never sent).
 *
 * @param url  NUL-terminated URL; MUST outlive the use of out->path.
 * @param out  filled on AP_OK; unspecified otherwise.
 * @return AP_OK; AP_ERR_BAD_ARG (a NULL argument); AP_ERR_URL (not https,
 *         user info, empty or invalid host, host longer than
 *         AP_MAX_HOST_LEN, port not in 1..65535, spaces or control bytes).
 */
ap_status_t ap_url_parse(const char *url, ap_url_t *out);

/**
 * @brief Why ap_url_parse() refuses url, in a short phrase for a person
 * ("the port is out of range (1 to 65535)"), or NULL when it accepts it.
 * The phrase is static; it never quotes the URL (the caller may, escaped).
 */
const char *ap_url_problem(const char *url);

#ifdef __cplusplus
}
#endif

#endif /* ALERTPOST_AP_URL_H */
