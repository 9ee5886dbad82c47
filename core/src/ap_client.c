/*
 * The client loop: connect, handshake, send one request, read one response.
 * The only code in the core that moves bytes; it does so through the TLS
 * glue (ap_client_internal.h), which does so through ap_transport_t.
 */
#include <stdio.h>
#include <string.h>

#include "ap_client_internal.h"
#include "http/ap_http_chars.h"

enum { AP_MIN_WORK_BUF = 256 };

void ap_client_config_defaults(ap_client_config_t *cfg)
{
    if (cfg != NULL) {
        memset(cfg, 0, sizeof(*cfg));
        cfg->keep_alive = true;
        cfg->resume_sessions = true;
    }
}

void ap_client_set_error(ap_client_t *c, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(c->error, sizeof(c->error), fmt, ap);
    va_end(ap);
}

static uint32_t now_ms(const ap_client_t *c)
{
    return c->cfg.platform->now_ms(c->cfg.platform->ctx);
}

/* What is left of a bound that began at start; 0 once it has passed. */
static uint32_t time_left(const ap_client_t *c, uint32_t start, uint32_t limit)
{
    uint32_t elapsed = now_ms(c) - start; /* wrap-safe */

    return (elapsed >= limit) ? 0u : limit - elapsed;
}

uint32_t ap_client_step_budget(const ap_client_t *c, uint32_t step_ms)
{
    uint32_t left = time_left(c, c->post_start_ms, c->post_limit_ms);

    if (c->phase_limit_ms != 0) {
        uint32_t phase = time_left(c, c->phase_start_ms, c->phase_limit_ms);

        left = (phase < left) ? phase : left;
    }
    return (step_ms < left) ? step_ms : left;
}

bool ap_client_io_timeout(const ap_client_t *c, uint32_t *timeout_ms)
{
    uint32_t budget = ap_client_step_budget(c, c->polling ? 1u : c->step_ms);

    if (budget == 0) {
        return false;
    }
    *timeout_ms = c->polling ? 0u : budget;
    return true;
}

static bool transport_complete(const ap_transport_t *t)
{
    return t != NULL && t->connect != NULL && t->send != NULL && t->recv != NULL &&
           t->close != NULL;
}

ap_status_t ap_client_init(ap_client_t *c, const ap_client_config_t *cfg)
{
    ap_status_t st;

    if (c == NULL) {
        return AP_ERR_BAD_ARG;
    }
    memset(c, 0, sizeof(*c));
    if (cfg == NULL || cfg->url == NULL || !transport_complete(cfg->transport) ||
        cfg->platform == NULL || cfg->platform->now_ms == NULL ||
        cfg->platform->wall_time == NULL) {
        ap_client_set_error(c, "incomplete client configuration: a URL, a transport and "
                               "a platform with clocks are required");
        return AP_ERR_BAD_ARG;
    }
    if (cfg->work_buf == NULL || cfg->work_buf_size < AP_MIN_WORK_BUF) {
        ap_client_set_error(c, "the work buffer must be at least %u bytes",
                            (unsigned)AP_MIN_WORK_BUF);
        return AP_ERR_BAD_ARG;
    }
    if (cfg->platform->entropy == NULL) {
        ap_client_set_error(c, "no entropy source: refusing to start TLS without one");
        return AP_ERR_ENTROPY;
    }
    c->cfg = *cfg;
    if (c->cfg.connect_timeout_ms == 0) {
        c->cfg.connect_timeout_ms = AP_DEFAULT_CONNECT_TIMEOUT_MS;
    }
    if (c->cfg.io_timeout_ms == 0) {
        c->cfg.io_timeout_ms = AP_DEFAULT_IO_TIMEOUT_MS;
    }
    if (c->cfg.deadline_ms == 0) {
        c->cfg.deadline_ms = AP_DEFAULT_DEADLINE_MS;
    }
    if (ap_url_parse(cfg->url, &c->url) != AP_OK) {
        ap_client_set_error(c, "not a URL alertpost can post to: '%.120s' (expected "
                               "https://host[:port]/path)", cfg->url);
        return AP_ERR_URL;
    }
    if (ap_tls_policy_resolve(cfg->tls_min, cfg->tls_max, ap_tls_highest_built(),
                              &c->tls_min, &c->tls_max) != AP_OK) {
        ap_client_set_error(c, "TLS range not allowed: the floor is %s, and this build "
                               "reaches at most %s",
                            ap_tls_version_str(AP_TLS_FLOOR),
                            ap_tls_version_str(ap_tls_highest_built()));
        return AP_ERR_BAD_ARG;
    }
    if (cfg->ca_pem == NULL || cfg->ca_pem_len == 0) {
        ap_client_set_error(c, "no trust anchors given: certificate verification "
                               "cannot be switched off");
        return AP_ERR_TLS_SETUP;
    }
    if ((cfg->pin_count > 0 && cfg->pins == NULL) || cfg->pin_count > AP_MAX_PINS) {
        ap_client_set_error(c, "between 0 and %u SPKI pins may be given", (unsigned)AP_MAX_PINS);
        return AP_ERR_TLS_SETUP;
    }
    st = ap_tls_setup(c);
    if (st != AP_OK) {
        ap_tls_free(c);
        return st;
    }
    c->info.ciphersuite = "";
    c->initialised = true;
    return AP_OK;
}

/* How a connection ends. */
typedef enum close_mode {
    CLOSE_ABORT,          /* failed or already ended: close at once */
    CLOSE_CLIENT_FIRST,   /* we end it: close_notify, then wait for the server's */
    CLOSE_SERVER_FIRST    /* the server announced its close: collect it, then ours */
} close_mode_t;

/* Read what the server still sends, until its close_notify or end of stream,
 * for at most AP_CLOSE_LINGER_MS (and never past the post's deadline).
 * Leaving it unread would make the TCP stack answer with a reset. */
static void linger_for_close(ap_client_t *c)
{
    uint32_t t0 = now_ms(c);
    uint32_t saved_step = c->step_ms;
    bool had_error = c->error[0] != '\0';
    uint32_t elapsed;

    while ((elapsed = now_ms(c) - t0) < AP_CLOSE_LINGER_MS) {
        int32_t n;

        c->step_ms = AP_CLOSE_LINGER_MS - elapsed;
        n = ap_tls_read(c, c->cfg.work_buf, c->cfg.work_buf_size);
        if (n <= 0) {
            break;
        }
    }
    c->step_ms = saved_step;
    if (!had_error) {
        c->error[0] = '\0'; /* a failure while closing is no failure of the post */
    }
}

static void drop_connection(ap_client_t *c, close_mode_t mode)
{
    if (!c->connected) {
        return;
    }
    if (mode == CLOSE_SERVER_FIRST) {
        linger_for_close(c);
    }
    ap_tls_end(c, mode != CLOSE_ABORT);
    if (mode == CLOSE_CLIENT_FIRST) {
        linger_for_close(c);
    }
    c->cfg.transport->close(c->cfg.transport->ctx);
    c->connected = false;
}

static const char *transport_detail(const ap_client_t *c)
{
    const ap_transport_t *t = c->cfg.transport;
    const char *d = (t->describe != NULL) ? t->describe(t->ctx) : NULL;

    return (d != NULL) ? d : "";
}

static ap_status_t open_connection(ap_client_t *c)
{
    const ap_transport_t *t = c->cfg.transport;
    const char *host = (c->cfg.connect_host != NULL) ? c->cfg.connect_host : c->url.host;
    uint32_t budget = ap_client_step_budget(c, c->cfg.connect_timeout_ms);
    uint32_t t0 = now_ms(c);
    ap_status_t st;

    if (budget == 0) {
        ap_client_set_error(c, "the post's deadline passed before connecting to %s", host);
        return AP_ERR_TIMEOUT;
    }
    c->phase_start_ms = t0;
    c->phase_limit_ms = c->cfg.connect_timeout_ms;
    st = t->connect(t->ctx, host, c->url.port, budget);
    c->info.connect_ms = now_ms(c) - t0;
    if (st != AP_OK) {
        const char *detail = transport_detail(c);

        c->phase_limit_ms = 0;
        t->close(t->ctx);
        switch (st) {
        case AP_ERR_DNS:
            ap_client_set_error(c, "cannot resolve %s%s%s." AP_HINT(" Check the host name."), host,
                                detail[0] ? ": " : "", detail);
            break;
        case AP_ERR_TIMEOUT:
            ap_client_set_error(c, "timed out connecting to %s port %u after %u ms."
                                   AP_HINT(" Is the server up and reachable?"),
                                host, (unsigned)c->url.port, (unsigned)c->info.connect_ms);
            break;
        case AP_ERR_CONNECT:
            ap_client_set_error(c, "cannot connect to %s port %u%s%s." AP_HINT(" Is the server up?"),
                                host, (unsigned)c->url.port, detail[0] ? ": " : "", detail);
            break;
        default:
            st = AP_ERR_IO;
            ap_client_set_error(c, "cannot connect to %s port %u%s%s", host,
                                (unsigned)c->url.port, detail[0] ? ": " : "", detail);
            break;
        }
        return st;
    }
    c->connected = true;
    t0 = now_ms(c);
    st = ap_tls_handshake(c); /* its steps are bounded by what connect left */
    c->info.handshake_ms = now_ms(c) - t0;
    c->phase_limit_ms = 0;
    if (st != AP_OK) {
        drop_connection(c, CLOSE_ABORT);
    }
    return st;
}

static ap_status_t write_all(ap_client_t *c, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        int32_t n = ap_tls_write(c, buf, len);

        if (n <= 0) {
            return (n == 0) ? AP_ERR_IO : (ap_status_t)n;
        }
        buf += n;
        len -= (size_t)n;
    }
    return AP_OK;
}

static void trace(const ap_client_t *c, ap_trace_kind_t kind, const uint8_t *data, size_t len)
{
    if (c->cfg.trace != NULL && len > 0) {
        c->cfg.trace(c->cfg.trace_ctx, kind, data, len);
    }
}

static void keep_body(ap_response_t *resp, const uint8_t *body, size_t len)
{
    size_t room = resp->body_size - resp->body_len;

    if (resp->on_body != NULL) {
        resp->on_body(resp->on_body_ctx, body, len);
    }
    if (resp->body != NULL && room > 0) {
        memcpy(resp->body + resp->body_len, body, (len < room) ? len : room);
        resp->body_len += (len < room) ? len : room;
    }
    resp->body_total += len;
}

/* Feed bytes of a response to the parser, tracing its head and keeping its
 * body; *used says how many it took (bytes after a complete response are
 * left). AP_ERR_NEED_MORE while the response goes on. */
ap_status_t ap_client_feed_response(ap_client_t *c, ap_http_parser_t *p, ap_response_t *resp,
                                    const uint8_t *buf, size_t n, size_t *used_out)
{
    ap_status_t st = AP_ERR_NEED_MORE;
    size_t off = 0;

    while (off < n) {
        const uint8_t *body = NULL;
        size_t body_len = 0;
        size_t used = 0;

        bool in_head = !p->head_done;

        st = ap_http_parser_feed(p, buf + off, n - off, &used, &body, &body_len);
        if (in_head) {
            /* the head part of what was consumed: up to the first body byte */
            trace(c, AP_TRACE_RESPONSE_HEAD, buf + off,
                  (body_len > 0) ? (size_t)(body - (buf + off)) : used);
        }
        off += used;
        if (body_len > 0) {
            keep_body(resp, body, body_len);
        }
        if (p->head_done) {
            resp->status_code = p->status_code;
            (void)memcpy(resp->retry_after, p->retry_after, sizeof(resp->retry_after));
        }
        if (st != AP_ERR_NEED_MORE) {
            break;
        }
        if (used == 0) {
            st = AP_ERR_HTTP_RESPONSE; /* a parser that stalls is a bug; fail safe */
            break;
        }
    }
    *used_out = off;
    return st;
}

/* Read until the response is complete. *leftover: the stream must not be
 * reused (it ended, or holds bytes beyond the response). */
static ap_status_t read_response(ap_client_t *c, ap_http_parser_t *p, ap_response_t *resp,
                                 bool *leftover)
{
    uint8_t *buf = c->cfg.work_buf;
    ap_status_t st = AP_ERR_NEED_MORE;
    bool any_response = false;

    ap_http_parser_init(p);
    while (st == AP_ERR_NEED_MORE) {
        int32_t n = ap_tls_read(c, buf, c->cfg.work_buf_size);
        size_t off = 0;

        if (n == AP_ERR_CLOSED || n == AP_ERR_TRUNCATED) {
            st = ap_http_parser_eof(p, n == AP_ERR_CLOSED);
            if (st != AP_OK && !any_response) {
                st = AP_ERR_CLOSED; /* no answer at all, rather than a cut one */
            }
            *leftover = true; /* the stream is over: never reuse it */
            break;
        }
        if (n <= 0) {
            st = (n == 0) ? AP_ERR_IO : (ap_status_t)n;
            break;
        }
        any_response = true;
        st = ap_client_feed_response(c, p, resp, buf, (size_t)n, &off);
        if (st == AP_OK && off < (size_t)n) {
            *leftover = true; /* bytes after the response: not a stream to reuse */
        }
    }
    return st;
}

/* A failure with nothing of the request sent: the alert was not delivered. */
static ap_status_t describe_unsent(ap_client_t *c, ap_status_t st)
{
    const char *host = c->url.host;
    const char *detail = transport_detail(c);

    switch (st) {
    case AP_ERR_NO_SPACE:
        ap_client_set_error(c, "the request head does not fit in the %lu-byte work buffer",
                            (unsigned long)c->cfg.work_buf_size);
        break;
    case AP_ERR_BAD_ARG:
        ap_client_set_error(c, "a request header is invalid (a reserved name, a control "
                               "character, or a name that is not an HTTP token)");
        break;
    case AP_ERR_TLS:
    case AP_ERR_TLS_CLIENT_CERT:
        if (c->error[0] != '\0') {
            break; /* the TLS glue already said what failed */
        }
        /* fall through */
    default:
        ap_client_set_error(c, "the connection to %s failed before any byte of the alert "
                               "was sent (%s)%s%s; it was not delivered",
                            host, ap_status_str(st), detail[0] ? ": " : "", detail);
        break;
    }
    return st;
}

/* snprintf through a va_list: texts are cut to fit by design, so the
 * compiler's truncation analysis of each call adds nothing. */
static void format_into(char *buf, size_t size, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void format_into(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(buf, size, fmt, ap);
    va_end(ap);
}

/* What ended an exchange after (some of) the request went out, in words. */
static void describe_cause(ap_client_t *c, ap_status_t st, const ap_response_t *resp,
                           char *buf, size_t size)
{
    const char *host = c->url.host;
    const char *detail = transport_detail(c);

    switch (st) {
    case AP_ERR_TIMEOUT:
        format_into(buf, size, "timed out waiting for %s (post deadline %u ms, step %u ms)",
                       host, (unsigned)c->cfg.deadline_ms, (unsigned)c->cfg.io_timeout_ms);
        break;
    case AP_ERR_TRUNCATED:
        format_into(buf, size, "the response from %s was cut short (after %lu body bytes, "
                                  "status %d)",
                       host, (unsigned long)resp->body_total, resp->status_code);
        break;
    case AP_ERR_CLOSED:
        format_into(buf, size, "%s closed the connection without answering", host);
        break;
    case AP_ERR_HTTP_RESPONSE:
        format_into(buf, size, "%s sent an invalid HTTP/1.1 response (or one over "
                                  "alertpost's bounds)", host);
        break;
    case AP_ERR_TLS:
        if (c->error[0] != '\0') {
            format_into(buf, size, "%s", c->error); /* the glue's own words */
            break;
        }
        /* fall through */
    default:
        format_into(buf, size, "the connection to %s failed (%s)%s%s", host,
                       ap_status_str(st), detail[0] ? ": " : "", detail);
        break;
    }
}

/* A failure after some of the request went out: nobody knows whether the
 * server took the alert. Never re-sent here; the caller decides. */
static ap_status_t describe_unknown(ap_client_t *c, ap_status_t st, const ap_response_t *resp)
{
    char cause[AP_ERROR_TEXT_SIZE];

    describe_cause(c, st, resp, cause, sizeof(cause));
    ap_client_set_error(c, "%s after the alert was sent: it may or may not have arrived, "
                           "and it was not re-sent", cause);
    c->info.failure = st;
    return AP_ERR_OUTCOME_UNKNOWN;
}

static void head_for(const ap_client_t *c, const ap_request_t *req, ap_http_request_head_t *head)
{
    memset(head, 0, sizeof(*head));
    head->host = c->url.host;
    head->port = c->url.port;
    head->path = c->url.path;
    head->path_len = c->url.path_len;
    head->content_type = req->content_type;
    head->user_agent = c->cfg.user_agent;
    head->headers = req->headers;
    head->header_count = req->header_count;
    head->content_length = req->body_len;
    head->keep_alive = c->cfg.keep_alive;
}

/* The request in the work buffer: its head (*head_len bytes), followed by
 * the body where it fits (then *len covers both; else *len == *head_len). */
static ap_status_t compose(ap_client_t *c, const ap_request_t *req, size_t *head_len,
                           size_t *len)
{
    ap_http_request_head_t head;
    ap_status_t st;

    head_for(c, req, &head);
    st = ap_http_write_head(&head, c->cfg.work_buf, c->cfg.work_buf_size, head_len);
    *len = *head_len;
    if (st == AP_OK && req->body_len > 0 && req->body_len <= c->cfg.work_buf_size - *head_len) {
        memcpy(c->cfg.work_buf + *head_len, req->body, req->body_len);
        *len += req->body_len;
    }
    return st;
}

ap_status_t ap_client_compose_into(ap_client_t *c, const ap_request_t *req, uint8_t *buf,
                                   size_t size, size_t *len)
{
    ap_http_request_head_t head;
    size_t head_len = 0;
    /* the head obeys the work buffer's bound here too, as in ap_post() */
    size_t head_room = (size < c->cfg.work_buf_size) ? size : c->cfg.work_buf_size;
    ap_status_t st;

    head_for(c, req, &head);
    st = ap_http_write_head(&head, buf, head_room, &head_len);
    if (st == AP_OK && req->body_len > size - head_len) {
        st = AP_ERR_NO_SPACE;
    }
    if (st == AP_OK) {
        if (req->body_len > 0) {
            memcpy(buf + head_len, req->body, req->body_len);
        }
        trace(c, AP_TRACE_REQUEST_HEAD, buf, head_len);
        *len = head_len + req->body_len;
    }
    return st;
}

/* Write one request (head and body) over the open connection, less what
 * the server accepted as 0-RTT early data. c->wire_sent says afterwards how
 * much of it left. */
ap_status_t ap_client_send_request(ap_client_t *c, const ap_request_t *req)
{
    size_t head_len = 0;
    size_t len = 0;
    ap_status_t st;

    st = compose(c, req, &head_len, &len);
    /* what the server accepted as 0-RTT early data has left already */
    c->wire_sent = (uint32_t)c->early_accepted;
    if (st == AP_OK) {
        trace(c, AP_TRACE_REQUEST_HEAD, c->cfg.work_buf, head_len);
        /* head and body in one TLS record and one send, where they fit */
        st = write_all(c, c->cfg.work_buf + c->early_accepted, len - c->early_accepted);
        if (st == AP_OK && len == head_len && req->body_len > 0) {
            st = write_all(c, req->body, req->body_len);
        }
    }
    return st;
}

/* One request and its response over the open connection. c->wire_sent says
 * afterwards whether any byte of it left. */
static ap_status_t exchange(ap_client_t *c, const ap_request_t *req, ap_response_t *resp)
{
    ap_http_parser_t parser;
    bool leftover = false;
    ap_status_t st;

    st = ap_client_send_request(c, req);
    if (st == AP_OK) {
        st = read_response(c, &parser, resp, &leftover);
    }
    if (st != AP_OK) {
        return st;
    }
    if (leftover) {
        drop_connection(c, CLOSE_ABORT); /* the stream is over, or has more than it should */
    } else if (!(parser.keep_alive && c->cfg.keep_alive)) {
        drop_connection(c, CLOSE_SERVER_FIRST);
    }
    if (resp->status_code < 200 || resp->status_code > 299) {
        return AP_ERR_HTTP_STATUS;
    }
    return AP_OK;
}

/* 0-RTT (tls/ap_tls_early.c): with cfg.early_data, a request that carries
 * an Idempotency-Key is composed whole in the work buffer before the
 * handshake, which may send it as early data; the glue then says how much
 * of it the server accepted, and exchange() writes the rest. */
static void early_prepare(ap_client_t *c, const ap_request_t *req, bool reused)
{
    size_t head_len = 0;
    size_t len = 0;
    bool keyed = false;
    size_t i;

    c->early_len = 0;
    c->early_accepted = 0;
    c->early_out = false;
    for (i = 0; i < req->header_count; i++) {
        keyed = keyed || (ap_http_name_is(req->headers[i].name, "idempotency-key") &&
                          req->headers[i].value != NULL && req->headers[i].value[0] != '\0');
    }
    if (!c->cfg.early_data) {
        c->info.early_data = AP_EARLY_DATA_OFF;
    } else if (!keyed) {
        c->info.early_data = AP_EARLY_DATA_NO_KEY;
    } else if (reused) {
        c->info.early_data = AP_EARLY_DATA_KEPT_ALIVE;
    } else if (compose(c, req, &head_len, &len) != AP_OK || len != head_len + req->body_len) {
        c->info.early_data = AP_EARLY_DATA_TOO_LARGE; /* a failed head fails again later */
    } else {
        c->early_len = len; /* the handshake decides (ap_tls_early_arm) */
        c->info.early_data = AP_EARLY_DATA_NOT_REACHED;
    }
}

/* Before a kept-alive connection carries a request: poll it without
 * blocking. A closed one, or one with unsolicited bytes waiting (an idle
 * 408), is dropped before any byte of the alert is written. */
static bool still_usable(ap_client_t *c)
{
    ap_status_t st;

    c->polling = true;
    st = ap_tls_poll(c);
    c->polling = false;
    if (st == AP_OK) {
        return true;
    }
    c->error[0] = '\0';
    drop_connection(c, CLOSE_ABORT);
    c->info.stale_connections++;
    return false;
}

static void reset_response(ap_response_t *resp)
{
    resp->status_code = 0;
    resp->retry_after[0] = '\0';
    resp->body_len = 0;
    resp->body_total = 0;
}

/* Nothing of an earlier connection may describe a new one. */
static void reset_connection_info(ap_client_t *c)
{
    c->info.tls_version = 0;
    c->info.server_version = 0;
    c->info.ciphersuite = "";
    c->info.connect_ms = 0;
    c->info.handshake_ms = 0;
}

/* May the failed attempt be made again on a new connection? Only when it
 * cannot be a re-send: nothing of the request left over a reused connection
 * that turned out dead, or the server answered 408 on it (it says it did not
 * process the request), or 425 Too Early to a request it accepted as early
 * data (RFC 8470: not processed; the retry sends none). */
static bool safe_to_retry(const ap_client_t *c, ap_status_t st, const ap_response_t *resp,
                          bool reused)
{
    if (st == AP_ERR_HTTP_STATUS && resp->status_code == 425 &&
        c->info.early_data == AP_EARLY_DATA_ACCEPTED) {
        return true;
    }
    if (!reused) {
        return false;
    }
    if (st == AP_ERR_HTTP_STATUS) {
        return resp->status_code == 408;
    }
    return c->wire_sent == 0 &&
           (st == AP_ERR_CLOSED || st == AP_ERR_IO || st == AP_ERR_TRUNCATED);
}

/* A complete answer that is not 2xx. Servers that verify client
 * certificates in HTTP rather than in TLS (nginx's ssl_verify_client) ask
 * for one in the handshake, complete it without, and answer 400: that is
 * the missing certificate, reported as such. */
static ap_status_t describe_status(ap_client_t *c, const ap_response_t *resp)
{
    int code = resp->status_code;
    bool refusal_code = code == 400 || code == 403 || code == 495 || code == 496;

    if (refusal_code && c->info.client_cert_requested && !c->info.client_cert_sent) {
        ap_client_set_error(c, "%s requires a client certificate: it asked for one during the "
                               "TLS handshake, none is configured, and it answered %d. The "
                               "alert was not delivered.", c->url.host, code);
        return AP_ERR_TLS_CLIENT_CERT;
    }
    ap_client_set_error(c, "%s answered %d: the alert was not accepted%s", c->url.host, code,
                        refusal_code && c->info.client_cert_sent
                            ? AP_HINT(" (it had asked for this device's certificate: some "
                                      "servers, nginx among them, answer 400 to one they "
                                      "cannot verify)")
                            : "");
    return AP_ERR_HTTP_STATUS;
}

void ap_client_begin_call(ap_client_t *c)
{
    c->error[0] = '\0';
    c->post_start_ms = now_ms(c);
    c->post_limit_ms = c->cfg.deadline_ms;
    c->step_ms = c->cfg.io_timeout_ms;
    c->info.stale_connections = 0;
    c->info.failure = AP_OK;
}

ap_status_t ap_post(ap_client_t *c, const ap_request_t *req, ap_response_t *resp)
{
    ap_status_t st = AP_ERR_IO;
    bool too_early = false; /* the last attempt's early data met 425 Too Early */
    int attempt;

    if (c == NULL || !c->initialised || req == NULL || resp == NULL ||
        (req->body == NULL && req->body_len > 0) ||
        (req->headers == NULL && req->header_count > 0)) {
        return AP_ERR_BAD_ARG;
    }
    ap_client_begin_call(c);
    reset_response(resp);

    for (attempt = 0; attempt < 2; attempt++) {
        bool reused = c->connected && still_usable(c);

        c->info.reused_connection = reused;
        early_prepare(c, req, reused);
        if (too_early) {
            c->early_len = 0; /* after 425 Too Early: the same request, without */
            c->info.early_data = AP_EARLY_DATA_TOO_EARLY;
        }
        if (!reused) {
            reset_connection_info(c);
            st = open_connection(c);
            if (st != AP_OK) {
                /* the alert left as early data: the server may have taken it */
                st = c->early_out ? describe_unknown(c, st, resp) : st;
                break;
            }
        }
        st = exchange(c, req, resp);
        if (st == AP_OK) {
            break;
        }
        if (st != AP_ERR_HTTP_STATUS) {
            drop_connection(c, CLOSE_ABORT);
        }
        if (attempt > 0 || !safe_to_retry(c, st, resp, reused)) {
            /* a refused client certificate ends the handshake on the
             * server's side: it never read the request (TLS 1.3) */
            if (st != AP_ERR_HTTP_STATUS) {
                st = (c->wire_sent > 0 && st != AP_ERR_TLS_CLIENT_CERT)
                         ? describe_unknown(c, st, resp)
                         : describe_unsent(c, st);
            }
            break;
        }
        drop_connection(c, CLOSE_ABORT);
        c->info.stale_connections++;
        c->error[0] = '\0';
        too_early = st == AP_ERR_HTTP_STATUS && resp->status_code == 425;
        reset_response(resp);
    }
    if (st == AP_ERR_HTTP_STATUS) {
        st = describe_status(c, resp);
    }
    c->info.total_ms = now_ms(c) - c->post_start_ms;
    return st;
}

/* ---- Seams for the pipeline (ap_pipeline.c) ------------------------------ */

ap_status_t ap_client_connect(ap_client_t *c)
{
    bool reused = c->connected && still_usable(c);

    /* A pipelined request never goes as early data: the pipeline writes
     * each one itself, after the handshake. Nothing of an earlier post's
     * 0-RTT attempt may reach this handshake. */
    c->early_len = 0;
    c->early_accepted = 0;
    c->early_out = false;
    c->info.early_data = c->cfg.early_data ? AP_EARLY_DATA_PIPELINED : AP_EARLY_DATA_OFF;
    c->info.reused_connection = reused;
    if (reused) {
        return AP_OK;
    }
    reset_connection_info(c);
    return open_connection(c);
}

void ap_client_drop(ap_client_t *c, bool server_first)
{
    drop_connection(c, server_first ? CLOSE_SERVER_FIRST : CLOSE_ABORT);
}

ap_status_t ap_client_unsent(ap_client_t *c, ap_status_t st)
{
    return describe_unsent(c, st);
}

ap_status_t ap_client_unknown(ap_client_t *c, ap_status_t st, const ap_response_t *resp)
{
    return describe_unknown(c, st, resp);
}

ap_status_t ap_client_not_2xx(ap_client_t *c, const ap_response_t *resp)
{
    return describe_status(c, resp);
}

void ap_client_reset_response(ap_response_t *resp)
{
    reset_response(resp);
}

void ap_client_end_call(ap_client_t *c)
{
    c->info.total_ms = now_ms(c) - c->post_start_ms;
}

ap_status_t ap_check_chain(ap_client_t *c, const uint8_t *chain, size_t chain_len)
{
    if (c == NULL || !c->initialised || chain == NULL || chain_len == 0) {
        return AP_ERR_BAD_ARG;
    }
    c->error[0] = '\0';
    return ap_tls_check_chain(c, chain, chain_len);
}

const char *ap_client_error(const ap_client_t *c)
{
    return (c != NULL) ? c->error : "";
}

const ap_client_info_t *ap_client_info(const ap_client_t *c)
{
    return (c != NULL) ? &c->info : NULL;
}

void ap_client_close(ap_client_t *c)
{
    if (c != NULL && c->initialised && c->connected) {
        /* close_notify gets a fresh, short budget of its own */
        c->post_start_ms = now_ms(c);
        c->post_limit_ms = c->cfg.io_timeout_ms;
        c->step_ms = c->cfg.io_timeout_ms;
        drop_connection(c, CLOSE_CLIENT_FIRST);
    }
}

void ap_client_free(ap_client_t *c)
{
    if (c == NULL) {
        return;
    }
    if (c->initialised) {
        ap_client_close(c);
        ap_tls_free(c);
    }
    memset(c, 0, sizeof(*c));
}
