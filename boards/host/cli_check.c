/*
 * --check-chain CHAIN.pem [--at TIME] URL: would a post to URL accept this
 * server chain, at TIME (default now)? Nothing connects; the library's
 * ap_check_chain() runs the handshake's own verification. For operators
 * about to rotate a fleet's server certificate.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#include "alertpost/ap_utc.h"

/* The platform the check runs on: the POSIX one, with the wall clock set
 * to the moment to judge. */
typedef struct check_platform {
    ap_platform_t posix;
    int64_t at;
    unsigned char *suffixes;    /* the Public Suffix List, as for a post */
    size_t suffixes_len;
} check_platform_t;

static check_platform_t g_check;

static int64_t check_wall_time(void *ctx)
{
    (void)ctx;
    return g_check.at;
}

static uint32_t check_now_ms(void *ctx)
{
    (void)ctx;
    return g_check.posix.now_ms(g_check.posix.ctx);
}

static ap_status_t check_entropy(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    return g_check.posix.entropy(g_check.posix.ctx, buf, len);
}

/* n decimal digits at s, into *out. */
static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    int i;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* RFC 3339 in UTC, to the second: 2026-01-01T00:00:00Z (and nothing else). */
bool cli_parse_rfc3339(const char *text, int64_t *out)
{
    int y = 0;
    int mo = 0;
    int d = 0;
    int h = 0;
    int mi = 0;
    int sec = 0;

    if (strlen(text) != 20 || text[4] != '-' || text[7] != '-' ||
        (text[10] != 'T' && text[10] != 't') || text[13] != ':' || text[16] != ':' ||
        (text[19] != 'Z' && text[19] != 'z') || !digits(text, 4, &y) ||
        !digits(text + 5, 2, &mo) || !digits(text + 8, 2, &d) || !digits(text + 11, 2, &h) ||
        !digits(text + 14, 2, &mi) || !digits(text + 17, 2, &sec) || y < 1970 ||
        !ap_utc_valid_date(y, mo, d) || h > 23 || mi > 59 || sec > 60) {
        return false;
    }
    *out = ap_utc_seconds(y, mo, d, h, mi, sec);
    return true;
}

static int check_with(const cli_options_t *o, ap_client_t *client, unsigned char *anchors,
                      size_t anchors_len, const unsigned char *chain, size_t chain_len)
{
    static uint8_t work[CLI_WORK_BUF];
    ap_spki_pin_t pins[AP_MAX_PINS];
    ap_posix_conn_t conn;
    ap_transport_t transport;
    ap_platform_t platform = {NULL, check_now_ms, check_wall_time, check_entropy};
    ap_client_config_t cfg;
    ap_status_t st;

    ap_posix_transport_init(&transport, &conn); /* never connected */
    ap_client_config_defaults(&cfg);
    cfg.url = o->url;
    cfg.transport = &transport;
    cfg.platform = &platform;
    cfg.ca_pem = anchors;
    cfg.ca_pem_len = anchors_len + 1;
    cfg.tls_min = o->tls_min;
    cfg.tls_max = o->tls_max;
    cfg.work_buf = work;
    cfg.work_buf_size = sizeof(work);
    cfg.public_suffixes = (const char *)g_check.suffixes;
    cfg.public_suffixes_len = g_check.suffixes_len;
    if (o->pins != NULL) {
        int rc = cli_parse_pins(o->pins, pins, AP_MAX_PINS, &cfg.pin_count);

        if (rc != CLI_CONTINUE) {
            return rc;
        }
        cfg.pins = pins;
    }
    st = ap_client_init(client, &cfg);
    if (st == AP_OK) {
        st = ap_check_chain(client, chain, chain_len + 1);
    }
    if (st == AP_OK) {
        printf("accepted: a post to %s would accept this chain\n", o->url);
        return CLI_EXIT_DELIVERED;
    }
    if (st == AP_ERR_TLS_SETUP || st == AP_ERR_BAD_ARG || st == AP_ERR_URL) {
        cli_usage_error("%s", ap_client_error(client));
        return CLI_EXIT_USAGE;
    }
    cli_error(o, "%s", ap_client_error(client));
    return cli_exit_for(st, client);
}

int cli_check_chain(const cli_options_t *o)
{
    unsigned char *anchors;
    unsigned char *chain;
    size_t anchors_len = 0;
    size_t chain_len = 0;
    ap_client_t *client;
    int rc;

    ap_posix_platform_init(&g_check.posix);
    g_check.at = o->at_set ? o->at : g_check.posix.wall_time(g_check.posix.ctx);
    chain = cli_read_all(o->check_chain, CLI_MAX_ANCHORS, &chain_len);
    if (chain == NULL) {
        cli_usage_error("cannot read the chain %s: %s", cli_escaped(o->check_chain),
                        strerror(errno));
        return CLI_EXIT_USAGE;
    }
    g_check.suffixes = cli_read_suffixes(o, &g_check.suffixes_len, &rc);
    if (rc != CLI_CONTINUE) {
        free(chain);
        return rc;
    }
    anchors = cli_read_all(o->cacert, CLI_MAX_ANCHORS, &anchors_len);
    if (anchors == NULL) {
        cli_usage_error("cannot read the trust anchors %s (from %s): %s",
                        cli_escaped(o->cacert), o->cacert_source, strerror(errno));
        free(chain);
        free(g_check.suffixes);
        return CLI_EXIT_USAGE;
    }
    client = calloc(1, sizeof(*client));
    rc = (client == NULL) ? CLI_EXIT_USAGE
                          : check_with(o, client, anchors, anchors_len, chain, chain_len);
    if (client != NULL) {
        ap_client_free(client);
    }
    free(client);
    free(anchors);
    free(chain);
    free(g_check.suffixes);
    g_check.suffixes = NULL;
    return rc;
}
