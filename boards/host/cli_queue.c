/*
 * Delivery through the queue, for --spool DIR and --retry N: every alert
 * gets an Idempotency-Key, waits in a store (the spool directory, or RAM
 * with --retry alone) until a complete 2xx answer, and is retried with
 * backoff. Re-sends after an unknown outcome are counted and named.
 *
 * Credentials are not kept in the spool: Authorization, Proxy-Authorization
 * and Cookie headers come from the command line that flushes, each time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "alertpost/ap_pipeline.h"
#include "alertpost/ap_queue.h"
#include "alertpost/ap_store_ram.h"
#include "cli.h"

enum { CLI_MAX_CREDENTIALS = 4, CLI_RECORD_BUF = CLI_MAX_BODY + 65536 };

typedef struct cli_queue_run {
    const cli_options_t *o;
    ap_client_t *client;
    ap_pipeline_t pipeline;     /* --pipeline N: N alerts in flight */
    ap_queue_t queue;
    ap_store_t store;
    ap_posix_spool_t spool;
    bool spool_open;
    ap_store_ram_t ram;
    uint8_t *ram_buf;
    uint8_t *record_buf;
    ap_header_t credentials[CLI_MAX_CREDENTIALS];
    size_t credential_count;
    ap_header_t post_headers[AP_QUEUE_MAX_HEADERS + 1 + CLI_MAX_CREDENTIALS];
    char last_key[AP_QUEUE_KEY_SIZE];
    bool progress;              /* a progress line is shown (stderr is a terminal) */
    struct timespec progress_at;
} cli_queue_run_t;

bool cli_uses_queue(const cli_options_t *o)
{
    return o->spool != NULL || o->retry >= 0;
}

static bool is_credential(const char *name)
{
    return strcasecmp(name, "Authorization") == 0 ||
           strcasecmp(name, "Proxy-Authorization") == 0 || strcasecmp(name, "Cookie") == 0;
}

/* The queue's request plus this run's credentials. */
static void with_credentials(cli_queue_run_t *r, const ap_request_t *req, ap_request_t *full)
{
    size_t n = 0;
    size_t i;

    *full = *req;
    for (i = 0; i < req->header_count; i++) {
        r->post_headers[n++] = req->headers[i];
    }
    for (i = 0; i < r->credential_count; i++) {
        r->post_headers[n++] = r->credentials[i];
    }
    full->headers = n ? r->post_headers : NULL;
    full->header_count = n;
}

static ap_status_t post_with_credentials(void *ctx, const ap_request_t *req, ap_response_t *resp)
{
    cli_queue_run_t *r = ctx;
    ap_request_t full;

    with_credentials(r, req, &full);
    return ap_post(r->client, &full, resp);
}

/* --pipeline N: the same, with several in flight on one connection. */
static ap_status_t send_with_credentials(void *ctx, const ap_request_t *req)
{
    cli_queue_run_t *r = ctx;
    ap_request_t full;

    with_credentials(r, req, &full);
    return ap_pipeline_send(&r->pipeline, &full);
}

static ap_status_t receive_answer(void *ctx, ap_response_t *resp)
{
    return ap_pipeline_receive(&((cli_queue_run_t *)ctx)->pipeline, resp);
}

static void progress(cli_queue_run_t *r, bool last)
{
    const ap_queue_counters_t *c = ap_queue_counters(&r->queue);
    struct timespec now;
    size_t live = 0;
    size_t dead = 0;

    if (!r->progress) {
        return;
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!last && (now.tv_sec - r->progress_at.tv_sec) * 1000 +
                         (now.tv_nsec - r->progress_at.tv_nsec) / 1000000 < 200) {
        return;
    }
    r->progress_at = now;
    (void)ap_queue_pending(&r->queue, &live, &dead);
    fprintf(stderr, "\ralertpost: %lu delivered, %zu waiting, %lu retried   %s",
            (unsigned long)c->delivered, live, (unsigned long)c->retried, last ? "\n" : "");
}

static void on_event(void *ctx, const ap_queue_event_t *ev)
{
    cli_queue_run_t *r = ctx;
    const cli_options_t *o = r->o;

    if (ev->key != NULL) {
        (void)snprintf(r->last_key, sizeof(r->last_key), "%s", ev->key);
    }
    switch (ev->kind) {
    case AP_QUEUE_EV_RESEND:
        /* always named: the server may now see this alert twice (same key) */
        cli_error(o, "re-sending alert %s (attempt %u): the previous attempt's outcome is "
                     "unknown%s", ev->key, (unsigned)ev->attempt,
                  o->pipeline > 1 ? " (or it was left unanswered by an early close)" : "");
        break;
    case AP_QUEUE_EV_CORRUPT:
        cli_error(o, "a spooled record failed its check and was set aside: %s",
                  r->spool_open ? ap_posix_spool_error(&r->spool) : ap_status_str(ev->status));
        break;
    case AP_QUEUE_EV_DEAD_LETTER:
        cli_error(o, "alert %s was refused for good (HTTP %d) and moved to the dead-letter part",
                  ev->key, ev->http_status);
        break;
    default:
        break;
    }
    if (!o->verbose) {
        progress(r, false);
        return;
    }
    if (ev->kind == AP_QUEUE_EV_ATTEMPT) {
        fprintf(stderr, "* alert %s: attempt %u\n", ev->key, (unsigned)ev->attempt);
    } else if (ev->kind == AP_QUEUE_EV_DELIVERED) {
        fprintf(stderr, "* alert %s: delivered (HTTP %d)\n", ev->key, ev->http_status);
    } else if (ev->kind == AP_QUEUE_EV_RETRY) {
        fprintf(stderr, "* alert %s: %s (HTTP %d); retry in %u ms%s\n", ev->key,
                ap_status_str(ev->status), ev->http_status, (unsigned)ev->delay_ms,
                ev->from_retry_after ? " (Retry-After)" : "");
    } else if (ev->kind == AP_QUEUE_EV_STOPPED) {
        fprintf(stderr, "* alert %s: stopped (%s)\n", ev->key, ap_status_str(ev->status));
    }
}

static int setup_store(cli_queue_run_t *r)
{
    const cli_options_t *o = r->o;

    if (o->spool != NULL) {
        int rc = cli_spool_open(o, &r->spool, &r->store);

        r->spool_open = (rc == CLI_CONTINUE);
        return rc;
    }
    /* --retry without --spool: the alerts of this run wait in RAM */
    r->ram_buf = malloc((size_t)CLI_RECORD_BUF * 2u);
    if (r->ram_buf == NULL ||
        ap_store_ram_init(&r->ram, r->ram_buf, (size_t)CLI_RECORD_BUF * 2u, 0, &r->store) !=
            AP_OK) {
        cli_error(o, "out of memory for the retry queue");
        return CLI_EXIT_USAGE;
    }
    return CLI_CONTINUE;
}

static int setup_queue(cli_queue_run_t *r, const ap_platform_t *platform)
{
    const cli_options_t *o = r->o;
    ap_queue_config_t cfg;

    r->record_buf = malloc(CLI_RECORD_BUF);
    if (r->record_buf == NULL) {
        cli_error(o, "out of memory for the queue");
        return CLI_EXIT_USAGE;
    }
    ap_queue_config_defaults(&cfg);
    cfg.store = &r->store;
    cfg.platform = platform;
    cfg.post = post_with_credentials;
    cfg.post_ctx = r;
    cfg.max_attempts = (o->retry > 0) ? (uint32_t)o->retry + 1u : 1u;
    cfg.retry_max_ms = (uint32_t)(o->retry_max_time_s * 1000.0 + 0.5);
    if (o->retry_delay_s > 0) {
        /* curl's fixed --retry-delay, as the range the full jitter draws from */
        uint32_t ms = (uint32_t)(o->retry_delay_s * 1000.0 + 0.5);

        cfg.backoff_base_ms = ms > 0 ? ms : 1u;
        cfg.backoff_cap_ms = cfg.backoff_base_ms;
    }
    if (o->pipeline > 1) {
        if (ap_pipeline_init(&r->pipeline, r->client) != AP_OK) {
            cli_error(o, "%s", ap_client_error(r->client));
            return CLI_EXIT_USAGE;
        }
        cfg.in_flight = o->pipeline;
        cfg.send = send_with_credentials;
        cfg.receive = receive_answer;
        cfg.pipe_ctx = r;
    }
    cfg.record_buf = r->record_buf;
    cfg.record_buf_size = CLI_RECORD_BUF;
    cfg.on_event = on_event;
    cfg.event_ctx = r;
    if (ap_queue_init(&r->queue, &cfg) != AP_OK) {
        cli_error(o, "the delivery queue could not start");
        return CLI_EXIT_USAGE;
    }
    r->progress = !o->silent && isatty(STDERR_FILENO);
    return CLI_CONTINUE;
}

/* Keep one alert; credentials are left out of the record (see the top). */
static int enqueue(cli_queue_run_t *r, const uint8_t *body, size_t len, const ap_header_t *headers,
                   size_t header_count, unsigned long line)
{
    ap_header_t kept[CLI_MAX_HEADERS + 1];
    ap_request_t alert;
    char key[AP_QUEUE_KEY_SIZE];
    size_t n = 0;
    size_t i;
    ap_status_t st;

    for (i = 0; i < header_count; i++) {
        if (!is_credential(headers[i].name)) {
            kept[n++] = headers[i];
        }
    }
    memset(&alert, 0, sizeof(alert));
    alert.headers = n ? kept : NULL;
    alert.header_count = n;
    alert.body = body;
    alert.body_len = len;
    st = ap_queue_enqueue(&r->queue, &alert, key);
    if (st != AP_OK) {
        cli_error(r->o, "%s%.0lu not kept: %s%s%s", line ? "line " : "the alert", line,
                  st == AP_ERR_STORE_FULL ? "the spool is full (nothing was evicted)"
                  : st == AP_ERR_TOO_LARGE ? "it is larger than the store can ever hold"
                  : st == AP_ERR_BAD_ARG  ? "the queue refuses its headers (more than it keeps, "
                                            "or an Idempotency-Key: the queue makes that itself)"
                                          : ap_status_str(st),
                  r->spool_open ? "; " : "", r->spool_open ? ap_posix_spool_error(&r->spool) : "");
        return (st == AP_ERR_STORE_FULL || st == AP_ERR_STORE_IO || st == AP_ERR_TOO_LARGE)
                   ? CLI_EXIT_KEPT : CLI_EXIT_USAGE;
    }
    if (r->o->verbose) {
        fprintf(stderr, "* alert %s: kept in the %s\n", key, r->spool_open ? "spool" : "queue");
    }
    return CLI_CONTINUE;
}

static void sleep_ms(uint32_t ms)
{
    struct timespec ts;

    ts.tv_sec = (time_t)(ms / 1000u);
    ts.tv_nsec = (long)(ms % 1000u) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Deliver until the queue is empty or stops. wait: sleep through backoffs
 * (false: return at the first one, to take the next line of input). */
static ap_status_t flush(cli_queue_run_t *r, bool wait)
{
    for (;;) {
        uint32_t wait_ms = 0;
        ap_status_t st = ap_queue_step(&r->queue, &wait_ms);

        if (st == AP_OK) {
            continue;
        }
        if (st == AP_ERR_QUEUE_BACKOFF && wait) {
            progress(r, false);
            sleep_ms(wait_ms);
            continue;
        }
        return st;
    }
}

static int finish(cli_queue_run_t *r, ap_status_t st)
{
    const cli_options_t *o = r->o;
    const ap_queue_counters_t *c = ap_queue_counters(&r->queue);
    size_t live = 0;
    size_t dead = 0;

    progress(r, true);
    (void)ap_queue_pending(&r->queue, &live, &dead);
    if (o->verbose || c->retried > 0 || c->dead_lettered > 0 || live > 0) {
        cli_error(o, "%lu delivered, %lu retried (%lu re-sent after an unknown outcome), %lu "
                     "dead-lettered; %zu waiting%s%s",
                  (unsigned long)c->delivered, (unsigned long)c->retried,
                  (unsigned long)c->resent, (unsigned long)c->dead_lettered, live,
                  live > 0 ? ": " : "", live > 0 ? ap_client_error(r->client) : "");
    }
    if (st == AP_ERR_STORE_EMPTY && c->dead_lettered == 0) {
        return CLI_EXIT_DELIVERED;
    }
    if (o->spool != NULL) {
        return CLI_EXIT_KEPT;
    }
    if (st == AP_ERR_STORE_EMPTY) {
        return CLI_EXIT_HTTP; /* dead-lettered in RAM: refused by the server */
    }
    return cli_exit_for(st, r->client);
}

/* --lines through the queue: each line is kept, then delivered as far as it
 * can be without waiting; at the end of input the rest is delivered. */
static ap_status_t lines(cli_queue_run_t *r, const ap_header_t *headers, size_t header_count,
                         int *rc)
{
    cli_lines_t in = {0};
    ap_status_t st = AP_ERR_STORE_EMPTY;
    bool stopped = false;

    while (cli_next_line(&in)) {
        *rc = enqueue(r, (const uint8_t *)in.line, in.len, headers, header_count, in.number);
        if (*rc != CLI_CONTINUE) {
            break;
        }
        if (stopped) {
            continue; /* with a spool, the rest of the input is still kept */
        }
        /* With a spool, input is kept while earlier alerts back off; in RAM,
         * each line is settled before the next is read, as without --retry. */
        st = flush(r, r->o->spool == NULL);
        if (st != AP_ERR_STORE_EMPTY && st != AP_ERR_QUEUE_BACKOFF) {
            stopped = true;
            if (r->o->spool == NULL) {
                cli_error(r->o, "line %lu not delivered; later lines not read", in.number);
                break;
            }
        }
    }
    cli_lines_free(&in);
    return st;
}

static int deliver(cli_queue_run_t *r, const uint8_t *body, size_t body_len,
                   const ap_header_t *headers, size_t header_count)
{
    const cli_options_t *o = r->o;
    ap_status_t st = AP_ERR_STORE_EMPTY;
    int rc = CLI_CONTINUE;
    size_t i;

    for (i = 0; i < header_count && r->credential_count < CLI_MAX_CREDENTIALS; i++) {
        if (is_credential(headers[i].name)) {
            r->credentials[r->credential_count++] = headers[i];
        }
    }
    if (o->lines) {
        st = lines(r, headers, header_count, &rc);
    } else if (!o->flush) {
        rc = enqueue(r, body, body_len, headers, header_count, 0);
    }
    if (rc != CLI_CONTINUE) {
        (void)finish(r, st);
        return rc;
    }
    if (st == AP_ERR_STORE_EMPTY || st == AP_ERR_QUEUE_BACKOFF) {
        st = flush(r, true);
    }
    return finish(r, st);
}

int cli_queue_deliver(const cli_options_t *o, ap_client_t *client, const ap_platform_t *platform,
                      const uint8_t *body, size_t body_len, const ap_header_t *headers,
                      size_t header_count)
{
    cli_queue_run_t *r = calloc(1, sizeof(*r));
    int rc;

    if (r == NULL) {
        cli_error(o, "out of memory");
        return CLI_EXIT_USAGE;
    }
    r->o = o;
    r->client = client;
    rc = setup_store(r);
    if (rc == CLI_CONTINUE) {
        rc = setup_queue(r, platform);
    }
    if (rc == CLI_CONTINUE) {
        rc = deliver(r, body, body_len, headers, header_count);
    }
    if (r->spool_open) {
        ap_posix_spool_close(&r->spool);
    }
    free(r->record_buf);
    free(r->ram_buf);
    free(r);
    return rc;
}
