/*
 * Posting: the client over the POSIX port, one alert (-d, --json) or one per
 * stdin line (--lines, over one kept-alive connection), and the exit code
 * for what happened.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "cli.h"

/* Everything one run holds; freed in one place. */
typedef struct cli_run_state {
    ap_posix_conn_t conn;
    ap_transport_t transport;
    ap_platform_t platform;
    ap_client_config_t cfg;
    ap_client_t *client;
    ap_spki_pin_t pins[AP_MAX_PINS];
    ap_header_t headers[CLI_MAX_HEADERS + 1];
    size_t header_count;
    unsigned char *anchors;
    unsigned char *suffixes;    /* the Public Suffix List, or NULL */
    size_t suffixes_len;
    unsigned char *cert;        /* --cert's file */
    unsigned char *key;         /* --key's file (or --cert's), wiped once parsed */
    size_t key_len;
    ap_identity_t identity;
    unsigned char *body;
    size_t body_len;
    cli_output_t out;
    cli_trace_t trace;
    cli_proxy_t proxy;
    cli_sessions_t sessions;
    uint8_t work[CLI_WORK_BUF];
} cli_run_state_t;

int cli_exit_for(ap_status_t st, const ap_client_t *c)
{
    bool secured = ap_client_info(c)->tls_version != 0;

    switch (st) {
    case AP_OK:
        return CLI_EXIT_DELIVERED;
    case AP_ERR_BAD_ARG:
    case AP_ERR_URL:
    case AP_ERR_NO_SPACE:
    case AP_ERR_TLS_SETUP:
        return CLI_EXIT_USAGE;
    case AP_ERR_DNS:
    case AP_ERR_CONNECT:
        return CLI_EXIT_CONNECT;
    case AP_ERR_TIMEOUT:
    case AP_ERR_IO:
    case AP_ERR_CLOSED:
        return secured ? CLI_EXIT_HTTP : CLI_EXIT_CONNECT;
    case AP_ERR_TLS_VERSION:
        return CLI_EXIT_TLS_VERSION;
    case AP_ERR_TLS_CERT:
    case AP_ERR_TLS_PIN:
        return CLI_EXIT_TLS_CERT;
    case AP_ERR_TLS:
    case AP_ERR_TLS_CLIENT_CERT:
    case AP_ERR_ENTROPY:
        return CLI_EXIT_TLS_OTHER;
    case AP_ERR_OUTCOME_UNKNOWN: /* sent, unanswered: an HTTP exchange that failed */
    default:
        return CLI_EXIT_HTTP;
    }
}

/* PEM is given with its NUL counted, DER without (the library tells them
 * apart by that). */
static size_t pem_or_der_len(const unsigned char *buf, size_t len)
{
    return strstr((const char *)buf, "-----BEGIN ") != NULL ? len + 1 : len;
}

/* --cert and --key: read here, parsed and checked by ap_client_init(). */
static int load_identity(const cli_options_t *o, cli_run_state_t *r)
{
    const char *key_file = o->key != NULL ? o->key : o->cert;
    size_t len = 0;

    r->cert = cli_read_all(o->cert, CLI_MAX_ANCHORS, &len);
    if (r->cert == NULL) {
        cli_usage_error("cannot read the client certificate %s (--cert): %s%s",
                        cli_escaped(o->cert), strerror(errno),
                        strchr(o->cert, ':') != NULL ? " (give a passphrase with --pass)" : "");
        return CLI_EXIT_USAGE;
    }
    r->identity.cert = r->cert;
    r->identity.cert_len = pem_or_der_len(r->cert, len);
    r->key = cli_read_all(key_file, CLI_MAX_ANCHORS, &len);
    if (r->key == NULL) {
        cli_usage_error("cannot read the client key %s (%s): %s", cli_escaped(key_file),
                        o->key != NULL ? "--key" : "in --cert's file", strerror(errno));
        return CLI_EXIT_USAGE;
    }
    r->key_len = len;
    r->identity.key = r->key;
    r->identity.key_len = pem_or_der_len(r->key, len);
    r->identity.key_pass = o->pass;
    return CLI_CONTINUE;
}

/* The key is parsed: its bytes are not kept in this process's memory. */
static void forget_key(cli_run_state_t *r)
{
    if (r->key != NULL) {
        volatile unsigned char *p = r->key;
        size_t i;

        for (i = 0; i < r->key_len; i++) {
            p[i] = 0;
        }
        free(r->key);
        r->key = NULL;
    }
}

static int load_inputs(const cli_options_t *o, cli_run_state_t *r, size_t *anchors_len)
{
    if (o->data != NULL) {
        if (o->data[0] == '@') {
            r->body = cli_read_all(o->data + 1, CLI_MAX_BODY, &r->body_len);
            if (r->body == NULL) {
                cli_usage_error("cannot read the alert body from %s: %s",
                                cli_escaped(o->data + 1), strerror(errno));
                return CLI_EXIT_USAGE;
            }
        } else {
            r->body = (unsigned char *)strdup(o->data);
            r->body_len = strlen(o->data);
        }
    }
    if (o->cert != NULL && load_identity(o, r) != CLI_CONTINUE) {
        return CLI_EXIT_USAGE;
    }
    {
        int rc;

        r->suffixes = cli_read_suffixes(o, &r->suffixes_len, &rc);
        if (rc != CLI_CONTINUE) {
            return rc;
        }
    }
    r->anchors = cli_read_all(o->cacert, CLI_MAX_ANCHORS, anchors_len);
    if (r->anchors == NULL) {
        cli_usage_error("cannot read the trust anchors %s (from %s): %s",
                        cli_escaped(o->cacert), o->cacert_source, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    return CLI_CONTINUE;
}

/* The request headers: -H, -u/--oauth2-bearer, and --json's two. */
static void request_headers(const cli_options_t *o, cli_run_state_t *r)
{
    memcpy(r->headers, o->headers, o->header_count * sizeof(o->headers[0]));
    r->header_count = o->header_count;
    if (o->json) {
        /* Content-Type: application/json is the default already; Accept is
         * added unless -H gave one (an -H of the same name wins, as in curl) */
        bool has_accept = false;
        size_t i;

        for (i = 0; i < o->header_count; i++) {
            has_accept = has_accept || strcasecmp(o->headers[i].name, "Accept") == 0;
        }
        if (!has_accept) {
            r->headers[r->header_count].name = "Accept";
            r->headers[r->header_count++].value = "application/json";
        }
    }
}

static bool has_idempotency_key(const cli_options_t *o)
{
    size_t i;

    for (i = 0; i < o->header_count; i++) {
        if (strcasecmp(o->headers[i].name, "Idempotency-Key") == 0 && o->headers[i].value[0]) {
            return true;
        }
    }
    return false;
}

static int configure(const cli_options_t *o, cli_run_state_t *r, size_t anchors_len)
{
    ap_client_config_t *cfg = &r->cfg;
    ap_url_t url;

    ap_posix_transport_init(&r->transport, &r->conn);
    ap_posix_platform_init(&r->platform);
    ap_client_config_defaults(cfg);
    cfg->url = o->url;
    cfg->transport = &r->transport;
    cfg->platform = &r->platform;
    cfg->ca_pem = r->anchors;
    cfg->ca_pem_len = anchors_len + 1; /* PEM parsing wants the NUL counted */
    cfg->tls_min = o->tls_min;
    cfg->tls_max = o->tls_max;
    cfg->user_agent = o->user_agent;
    cfg->work_buf = r->work;
    cfg->work_buf_size = sizeof(r->work);
    cfg->identity = (r->cert != NULL) ? &r->identity : NULL;
    /* One post in a process keeps no session for a later one: ask for no
     * tickets then. --lines and the queue may reconnect, and resume; with
     * --ssl-sessions, the next run does. */
    cfg->resume_sessions = o->lines || cli_uses_queue(o) || o->ssl_sessions != NULL;
    /* A resumed post may go as 0-RTT early data when its alert carries an
     * Idempotency-Key (-H, or the queue's own), so a replay is harmless. */
    cfg->early_data = cfg->resume_sessions && !o->no_early_data &&
                      (has_idempotency_key(o) || cli_uses_queue(o));
    cfg->public_suffixes = (const char *)r->suffixes;
    cfg->public_suffixes_len = r->suffixes_len;
    if (o->connect_timeout_s > 0) {
        cfg->connect_timeout_ms = (uint32_t)(o->connect_timeout_s * 1000.0 + 0.5);
    }
    if (o->max_time_s > 0) {
        cfg->deadline_ms = (uint32_t)(o->max_time_s * 1000.0 + 0.5);
        cfg->io_timeout_ms = cfg->deadline_ms;
    }
    if (o->pins != NULL) {
        int rc = cli_parse_pins(o->pins, r->pins, AP_MAX_PINS, &cfg->pin_count);

        if (rc != CLI_CONTINUE) {
            return rc;
        }
        cfg->pins = r->pins;
    }
    if (ap_url_parse(o->url, &url) == AP_OK) {
        int rc = cli_proxy_setup(o, &url, &r->transport, &r->proxy);

        if (rc != CLI_CONTINUE) {
            return rc;
        }
        if (r->proxy.used) {
            cfg->transport = &r->proxy.tunnel;
            /* the proxy resolves the origin's name, as with curl */
        } else {
            cfg->connect_host = cli_connect_host(o, &url);
        }
    }
    if (o->verbose) {
        r->trace.o = o;
        r->trace.conn = &r->conn;
        cfg->trace = cli_trace_hook;
        cfg->trace_ctx = &r->trace;
        fprintf(stderr, "* Trust anchors: %s (from %s)\n", cli_escaped(o->cacert),
                o->cacert_source);
        fprintf(stderr, "* Public suffixes: %s\n",
                cli_escaped(cli_suffixes_source(o, r->suffixes != NULL)));
    }
    request_headers(o, r);
    return CLI_CONTINUE;
}

static int post_one(const cli_options_t *o, cli_run_state_t *r, const uint8_t *body,
                    size_t len, ap_status_t *status)
{
    ap_request_t req;
    ap_response_t resp;
    int rc;

    memset(&req, 0, sizeof(req));
    memset(&resp, 0, sizeof(resp));
    req.headers = r->header_count ? r->headers : NULL;
    req.header_count = r->header_count;
    req.body = body;
    req.body_len = len;
    if (!o->lines) {
        resp.on_body = cli_output_body;
        resp.on_body_ctx = &r->out;
    }
    *status = ap_post(r->client, &req, &resp);
    rc = cli_exit_for(*status, r->client);
    cli_verbose_result(o, r->client, &resp);
    if (*status != AP_OK && !o->lines) {
        if (r->proxy.used && ap_client_info(r->client)->tls_version == 0 &&
            (*status == AP_ERR_CONNECT || *status == AP_ERR_DNS || *status == AP_ERR_TIMEOUT)) {
            /* the tunnel failed: the proxy's own words, not "is the server up?" */
            cli_error(o, "%s", r->proxy.tunnel.describe(r->proxy.tunnel.ctx));
        } else {
            cli_error(o, "%s", ap_client_error(r->client)); /* --lines says it with the line */
        }
    }
    cli_write_out(o, r->client, &resp, len, rc);
    return rc;
}

static int post_lines(const cli_options_t *o, cli_run_state_t *r)
{
    cli_lines_t in = {0};
    unsigned long posted = 0;
    int rc = CLI_EXIT_DELIVERED;
    ap_status_t st = AP_OK;

    while (cli_next_line(&in)) {
        rc = post_one(o, r, (const uint8_t *)in.line, in.len, &st);
        if (rc != CLI_EXIT_DELIVERED) {
            /* Stop at the first failure so the order of alerts is kept: the
             * operator resumes from this line. Nothing after it was sent. */
            cli_error(o, "line %lu %s: %s; %lu earlier alert(s) delivered; later lines not "
                         "sent", in.number,
                      st == AP_ERR_OUTCOME_UNKNOWN ? "was sent, outcome unknown"
                                                   : "not delivered",
                      ap_client_error(r->client), posted);
            break;
        }
        posted++;
    }
    cli_lines_free(&in);
    if (o->verbose && rc == CLI_EXIT_DELIVERED) {
        fprintf(stderr, "* %lu alert(s) delivered\n", posted);
    }
    return rc;
}

static int deliver(const cli_options_t *o, cli_run_state_t *r)
{
    ap_status_t st;

    if (cli_uses_queue(o)) {
        return cli_queue_deliver(o, r->client, &r->platform, r->body, r->body_len, r->headers,
                                 r->header_count);
    }
    if (o->lines && o->pipeline > 0) {
        return cli_pipeline_lines(o, r->client, &r->platform, r->headers, r->header_count);
    }
    return o->lines ? post_lines(o, r) : post_one(o, r, r->body, r->body_len, &st);
}

static int run_with(const cli_options_t *o, cli_run_state_t *r)
{
    size_t anchors_len = 0;
    ap_status_t st;
    int rc = load_inputs(o, r, &anchors_len);

    if (rc == CLI_CONTINUE) {
        rc = configure(o, r, anchors_len);
    }
    if (rc == CLI_CONTINUE) {
        rc = cli_output_open(&r->out, o);
    }
    if (rc != CLI_CONTINUE) {
        return rc;
    }
    r->client = calloc(1, sizeof(*r->client));
    if (r->client == NULL) {
        cli_usage_error("out of memory");
        return CLI_EXIT_USAGE;
    }
    r->trace.client = r->client;
    st = ap_client_init(r->client, &r->cfg);
    forget_key(r);
    if (st != AP_OK) {
        const char *e = ap_client_error(r->client);
        ap_identity_fault_t fault = ap_client_info(r->client)->identity_fault;
        bool about_key = fault == AP_IDENTITY_FAULT_KEY && o->key != NULL;

        if (o->cert != NULL && fault != AP_IDENTITY_FAULT_NONE) {
            /* the library's words, and which file they are about */
            cli_error(o, "%s (%s %s)", e, about_key ? "--key" : "--cert",
                      cli_escaped(about_key ? o->key : o->cert));
        } else {
            cli_error(o, "%s", ap_client_error(r->client));
        }
        rc = cli_exit_for(st, r->client);
    } else {
        if (o->ssl_sessions != NULL) {
            cli_sessions_load(o, &r->sessions, r->client);
        }
        rc = deliver(o, r);
        if (o->ssl_sessions != NULL) {
            cli_sessions_store(o, &r->sessions, r->client);
        }
    }
    cli_sessions_free(&r->sessions);
    ap_client_free(r->client);
    ap_posix_proxy_clear(&r->proxy.proxy);
    cli_output_close(&r->out, o);
    return rc;
}

int cli_run(const cli_options_t *o)
{
    cli_run_state_t *r = calloc(1, sizeof(*r));
    int rc;

    if (r == NULL) {
        cli_usage_error("out of memory");
        return CLI_EXIT_USAGE;
    }
    rc = run_with(o, r);
    free(r->client);
    free(r->body);
    free(r->anchors);
    free(r->suffixes);
    free(r->cert);
    forget_key(r);
    free(r);
    return rc;
}
