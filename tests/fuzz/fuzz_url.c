/*
 * Fuzz target for the URL parser.
 *
 * A URL that is accepted must yield a host, port and target that are safe
 * to use as they are: the host in the allowed alphabet and bound, the target
 * origin-form without a byte that could break the request line, a path that
 * points into the input. It must also survive a round trip (rebuilt from its
 * parts it parses to the same parts) and be accepted by the request head
 * writer, which is where those parts go next. A violation aborts.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertpost/ap_http.h"
#include "alertpost/ap_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ap_fuzz_require(bool ok)
{
    if (!ok) {
        abort();
    }
}

static void ap_fuzz_check_host(const ap_url_t *u)
{
    size_t len = strlen(u->host);
    size_t i;

    ap_fuzz_require(len >= 1 && len <= AP_MAX_HOST_LEN);
    ap_fuzz_require(u->host_is_ipv6 == (strchr(u->host, ':') != NULL));
    for (i = 0; i < len; i++) {
        char c = u->host[i];
        bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '.' ||
                  c == '-' || (u->host_is_ipv6 && c == ':');
        ap_fuzz_require(ok);
        if (u->host_is_ipv6) {
            ap_fuzz_require(c == ':' || c == '.' || (c >= '0' && c <= '9') ||
                            (c >= 'a' && c <= 'f'));
        }
    }
}

static void ap_fuzz_check_path(const ap_url_t *u, const char *url, size_t url_len)
{
    size_t i;

    ap_fuzz_require(u->path != NULL && u->path_len >= 1 && u->path[0] == '/');
    if (!(u->path_len == 1 && (u->path < url || u->path >= url + url_len))) {
        ap_fuzz_require(u->path > url && u->path + u->path_len <= url + url_len);
    }
    for (i = 0; i < u->path_len; i++) {
        unsigned char c = (unsigned char)u->path[i];
        ap_fuzz_require(c > 0x20u && c < 0x7Fu && c != '#');
    }
}

static void ap_fuzz_round_trip(const ap_url_t *u)
{
    size_t size = 32 + AP_MAX_HOST_LEN + u->path_len;
    char *again = malloc(size);
    ap_url_t v;
    int n;

    ap_fuzz_require(again != NULL);
    n = snprintf(again, size, u->host_is_ipv6 ? "https://[%s]:%u%.*s" : "https://%s:%u%.*s",
                 u->host, (unsigned)u->port, (int)u->path_len, u->path);
    ap_fuzz_require(n > 0 && (size_t)n < size);
    ap_fuzz_require(ap_url_parse(again, &v) == AP_OK);
    ap_fuzz_require(strcmp(u->host, v.host) == 0);
    ap_fuzz_require(u->host_is_ipv6 == v.host_is_ipv6 && u->port == v.port);
    ap_fuzz_require(u->path_len == v.path_len && memcmp(u->path, v.path, u->path_len) == 0);
    free(again);
}

static void ap_fuzz_write_head(const ap_url_t *u)
{
    size_t size = 256 + AP_MAX_HOST_LEN + u->path_len;
    uint8_t *buf = malloc(size);
    ap_http_request_head_t h;
    size_t out_len = 0;

    ap_fuzz_require(buf != NULL);
    memset(&h, 0, sizeof(h));
    h.host = u->host;
    h.port = u->port;
    h.path = u->path;
    h.path_len = u->path_len;
    h.content_length = 2;
    ap_fuzz_require(ap_http_write_head(&h, buf, size, &out_len) == AP_OK);
    ap_fuzz_require(out_len > 4 && memcmp(buf + out_len - 4, "\r\n\r\n", 4) == 0);
    /* The target is the only thing between "POST " and " HTTP/1.1". */
    ap_fuzz_require(memcmp(buf, "POST ", 5) == 0 &&
                    memcmp(buf + 5, u->path, u->path_len) == 0 &&
                    memcmp(buf + 5 + u->path_len, " HTTP/1.1\r\n", 11) == 0);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *url = malloc(size + 1);
    ap_url_t u;
    ap_status_t st;

    ap_fuzz_require(url != NULL);
    if (size > 0) {
        memcpy(url, data, size);
    }
    url[size] = '\0';

    st = ap_url_parse(url, &u);
    ap_fuzz_require(st == AP_OK || st == AP_ERR_URL);
    if (st == AP_OK) {
        ap_fuzz_require(u.port >= 1);
        ap_fuzz_check_host(&u);
        ap_fuzz_check_path(&u, url, strlen(url));
        ap_fuzz_round_trip(&u);
        ap_fuzz_write_head(&u);
    }
    free(url);
    return 0;
}
