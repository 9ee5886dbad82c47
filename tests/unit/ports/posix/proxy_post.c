/*
 * One alert posted through an HTTP proxy with the library (core client over
 * the CONNECT tunnel over the POSIX transport), for test_posix_tinyproxy.py.
 * It exists because the CLI's proxy options are wired elsewhere; this keeps
 * the tunnel's test against a real proxy independent of them.
 *
 *   proxy_post --url URL --connect ADDR --proxy HOST:PORT [--proxy-user U:P]
 *              --cacert FILE --body TEXT
 *
 * Prints "code <ap_status_t>", "status <ap_status_str>" and "error
 * <ap_client_error>" (when not
 * delivered) on stdout; exits 0 when delivered, 1 when not, 2 on bad usage.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertpost/alertpost.h"
#include "alertpost/ap_posix.h"
#include "alertpost/ap_posix_proxy.h"

#define PP_CA_MAX (256u * 1024u)

typedef struct {
    const char *url;
    const char *connect;
    const char *proxy;
    const char *proxy_user;
    const char *cacert;
    const char *body;
} pp_args_t;

static int parse_args(int argc, char **argv, pp_args_t *a)
{
    int i;

    memset(a, 0, sizeof *a);
    for (i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i];
        const char *v = argv[i + 1];

        if (strcmp(k, "--url") == 0) {
            a->url = v;
        } else if (strcmp(k, "--connect") == 0) {
            a->connect = v;
        } else if (strcmp(k, "--proxy") == 0) {
            a->proxy = v;
        } else if (strcmp(k, "--proxy-user") == 0) {
            a->proxy_user = v;
        } else if (strcmp(k, "--cacert") == 0) {
            a->cacert = v;
        } else if (strcmp(k, "--body") == 0) {
            a->body = v;
        } else {
            return -1;
        }
    }
    return (i == argc && a->url && a->proxy && a->cacert && a->body) ? 0 : -1;
}

/* The whole file plus a NUL, as the core wants PEM. */
static size_t read_ca(const char *path, uint8_t *buf, size_t size)
{
    FILE *f = fopen(path, "rb");
    size_t n;

    if (f == NULL) {
        return 0;
    }
    n = fread(buf, 1, size - 1u, f);
    (void)fclose(f);
    buf[n] = '\0';
    return n + 1u;
}

int main(int argc, char **argv)
{
    static uint8_t ca[PP_CA_MAX];
    static uint8_t work[2048];
    static uint8_t body_buf[1024];
    pp_args_t a;
    ap_posix_proxy_url_t purl;
    const char *why = "";
    ap_posix_conn_t conn;
    ap_transport_t tcp;
    ap_posix_proxy_t proxy;
    ap_transport_t tunnel;
    ap_platform_t platform;
    ap_client_config_t cfg;
    ap_client_t client;
    ap_request_t req;
    ap_response_t resp;
    ap_status_t st;
    size_t ca_len;

    if (parse_args(argc, argv, &a) != 0) {
        fprintf(stderr, "usage: proxy_post --url URL [--connect ADDR] --proxy URL "
                        "[--proxy-user U:P] --cacert FILE --body TEXT\n");
        return 2;
    }
    ca_len = read_ca(a.cacert, ca, sizeof ca);
    if (ca_len == 0) {
        fprintf(stderr, "proxy_post: cannot read %s\n", a.cacert);
        return 2;
    }
    if (ap_posix_proxy_url_parse(a.proxy, &purl, &why) != AP_OK) {
        fprintf(stderr, "proxy_post: bad proxy URL: %s\n", why);
        return 2;
    }
    ap_posix_transport_init(&tcp, &conn);
    st = ap_posix_proxy_init(&tunnel, &proxy, &tcp, purl.host, purl.port,
                             a.proxy_user != NULL ? a.proxy_user : purl.credentials);
    if (st != AP_OK) {
        fprintf(stderr, "proxy_post: proxy setup: %s\n", ap_status_str(st));
        return 2;
    }
    ap_posix_platform_init(&platform);
    ap_client_config_defaults(&cfg);
    cfg.url = a.url;
    cfg.connect_host = a.connect;
    cfg.transport = &tunnel;
    cfg.platform = &platform;
    cfg.ca_pem = ca;
    cfg.ca_pem_len = ca_len;
    cfg.work_buf = work;
    cfg.work_buf_size = sizeof work;
    cfg.connect_timeout_ms = 5000;
    cfg.keep_alive = false;

    memset(&req, 0, sizeof req);
    req.body = (const uint8_t *)a.body;
    req.body_len = strlen(a.body);
    memset(&resp, 0, sizeof resp);
    resp.body = body_buf;
    resp.body_size = sizeof body_buf;

    st = ap_client_init(&client, &cfg);
    if (st == AP_OK) {
        st = ap_post(&client, &req, &resp);
    }
    printf("code %d\nstatus %s\n", (int)st, ap_status_str(st));
    if (st == AP_OK) {
        const ap_client_info_t *info = ap_client_info(&client);

        /* connect_ms is TCP to the proxy plus the CONNECT exchange. */
        printf("timing connect %u ms, handshake %u ms\n", (unsigned)info->connect_ms,
               (unsigned)info->handshake_ms);
    }
    if (st != AP_OK) {
        printf("error %s\n", ap_client_error(&client));
    }
    ap_client_free(&client);
    ap_posix_proxy_clear(&proxy);
    return st == AP_OK ? 0 : 1;
}
