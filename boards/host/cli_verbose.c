/*
 * The -v trace, in curl's shape: "*" lines say what happened, "> " lines
 * are the request head as sent (credentials masked), "< " lines the
 * response head as received. Everything from the network is escaped.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "cli.h"

static void peer_address(const ap_posix_conn_t *conn, char *buf, size_t size)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    (void)snprintf(buf, size, "?");
    if (conn == NULL || conn->fd < 0 ||
        getpeername(conn->fd, (struct sockaddr *)&ss, &len) != 0) {
        return;
    }
    if (ss.ss_family == AF_INET) {
        (void)inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, buf, (socklen_t)size);
    } else if (ss.ss_family == AF_INET6) {
        (void)inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, buf,
                        (socklen_t)size);
    }
}

static void connection_lines(const cli_trace_t *t)
{
    const ap_client_info_t *i = ap_client_info(t->client);
    char addr[64];
    ap_url_t url;

    if (i->reused_connection) {
        fputs("* Re-using the kept-alive connection\n", stderr);
        return;
    }
    if (ap_url_parse(t->o->url, &url) != AP_OK) {
        return;
    }
    peer_address(t->conn, addr, sizeof(addr));
    fprintf(stderr, "* Connected to %s (%s) port %u in %u ms\n", url.host, addr,
            (unsigned)url.port, (unsigned)i->connect_ms);
    fprintf(stderr, "* %s, %s, %s%s; handshake %u ms\n", ap_tls_version_str(i->tls_version),
            i->ciphersuite, ap_tls_library_version(), i->resumed ? ", resumed" : "",
            (unsigned)i->handshake_ms);
    if (i->early_data != AP_EARLY_DATA_OFF) {
        fprintf(stderr, "* Early data: %s\n", ap_early_data_str(i->early_data));
    }
}

/* One head line, escaped; the value of a credential header masked. */
static void head_line(char prefix, const char *line, size_t len)
{
    static const char *const secret[] = {"authorization:", "proxy-authorization:"};
    char copy[1024];
    size_t i;

    if (len >= sizeof(copy)) {
        len = sizeof(copy) - 1;
    }
    memcpy(copy, line, len);
    copy[len] = '\0';
    for (i = 0; i < sizeof(secret) / sizeof(secret[0]); i++) {
        size_t n = strlen(secret[i]);

        if (len >= n && strncasecmp(copy, secret[i], n) == 0) {
            fprintf(stderr, "%c %.*s <masked>\n", prefix, (int)(n - 1), copy);
            return;
        }
    }
    fprintf(stderr, "%c %s\n", prefix, cli_escaped(copy));
}

static void request_head(const cli_trace_t *t, const uint8_t *data, size_t len)
{
    const char *p = (const char *)data;
    const char *end = p + len;

    connection_lines(t);
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *stop = (eol != NULL) ? eol : end;

        if (stop > p && stop[-1] == '\r') {
            stop--;
        }
        if (stop > p) {
            head_line('>', p, (size_t)(stop - p));
        }
        p = (eol != NULL) ? eol + 1 : end;
    }
}

static void response_bytes(cli_trace_t *t, const uint8_t *data, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        char ch = (char)data[i];

        if (ch == '\n') {
            size_t n = t->line_len;

            if (n > 0 && t->line[n - 1] == '\r') {
                n--;
            }
            if (n > 0) {
                head_line('<', t->line, n);
            }
            t->line_len = 0;
        } else if (t->line_len < sizeof(t->line) - 1) {
            t->line[t->line_len++] = ch;
        }
    }
}

void cli_trace_hook(void *ctx, ap_trace_kind_t kind, const uint8_t *data, size_t len)
{
    cli_trace_t *t = ctx;

    if (kind == AP_TRACE_REQUEST_HEAD) {
        t->line_len = 0;
        request_head(t, data, len);
    } else if (kind == AP_TRACE_PEER_CERT || kind == AP_TRACE_CLIENT_CERT) {
        char text[1024];
        size_t n = len < sizeof(text) - 1 ? len : sizeof(text) - 1;

        memcpy(text, data, n);
        text[n] = '\0';
        if (kind == AP_TRACE_PEER_CERT) {
            fprintf(stderr, "* Server certificate: %s\n", cli_escaped(text));
            fprintf(stderr, "* Client certificate requested by the server: %s\n",
                    ap_client_info(t->client)->client_cert_requested ? "yes" : "no");
        } else {
            fprintf(stderr, "* Client certificate sent: %s\n", cli_escaped(text));
        }
    } else {
        response_bytes(t, data, len);
    }
}

void cli_verbose_result(const cli_options_t *o, const ap_client_t *c,
                        const ap_response_t *resp)
{
    const ap_client_info_t *i = ap_client_info(c);

    if (!o->verbose) {
        return;
    }
    if (i->stale_connections > 0) {
        fprintf(stderr, "* %u kept-alive connection(s) found closed or answered 408 by the "
                        "server; replaced before the alert was processed (no re-send)\n",
                i->stale_connections);
    }
    if (i->tls_version != 0) {
        fprintf(stderr, "* %s: HTTP %d, %llu body bytes, %u ms in all\n",
                i->reused_connection ? "connection reused" : "new connection",
                resp->status_code, (unsigned long long)resp->body_total, (unsigned)i->total_ms);
    }
}
