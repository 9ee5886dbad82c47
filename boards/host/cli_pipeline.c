/*
 * --lines --pipeline N: up to N alerts in flight on one connection, answers
 * matched in order (ap_pipeline.h). Each line gets an Idempotency-Key, made
 * as the queue makes one, so that a server seeing an alert twice can tell.
 *
 * When the server closes early (Connection: close after K answers, or the
 * end of the stream), the alerts it left unanswered are sent again on a new
 * connection, in their order, counted and reported: the count is the most
 * duplicates the server can have seen. A connection that ends early without
 * delivering a single alert ends the run, so that a server closing every
 * connection at once cannot hold it in a loop. Any other failure stops the
 * run as --lines does without pipelining; the alerts already in flight
 * behind the failed one are still answered and reported.
 *
 * The pipeline gathers the alerts sent between two reads and writes them
 * together (ap_pipeline.h); the alerts gathered are written before the run
 * waits for its next input line, so that a slow producer (tail -f) never
 * holds an alert back.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alertpost/ap_pipeline.h"
#include "alertpost/ap_queue.h"
#include "cli.h"

/* One line on its way: waiting to be sent (again), or in flight. */
typedef struct cli_pending {
    char *body;
    size_t len;
    unsigned long line;
    char key[AP_QUEUE_KEY_SIZE];
    bool in_flight;
    bool written;               /* went out before and got no answer */
} cli_pending_t;

/* Entropy for the keys, drawn from the run's platform a pool at a time (one
 * system call per 64 keys rather than one per line); each byte serves once. */
typedef struct cli_key_pool {
    const ap_platform_t *platform;
    uint8_t bytes[1024];
    size_t used;
} cli_key_pool_t;

typedef struct cli_pipe {
    const cli_options_t *o;
    ap_client_t *client;
    ap_platform_t platform;     /* the key pool's entropy, for the keys */
    cli_key_pool_t pool;
    ap_pipeline_t pl;
    ap_header_t headers[CLI_MAX_HEADERS + 2];
    size_t header_count;        /* the run's own; the key goes after them */
    cli_pending_t pending[AP_PIPELINE_MAX];   /* in line order */
    size_t count;
    cli_lines_t in;
    bool input_done;
    bool stopped;               /* a line failed: nothing more is sent */
    int rc;                     /* the first failure's exit code */
    char failure[AP_ERROR_TEXT_SIZE + 80];  /* and what it was, said at the end */
    unsigned long delivered;
    unsigned long resent;
    unsigned long connections;
    unsigned long conn_delivered;   /* on the current connection */
    unsigned long delivered_before; /* delivered when the failed line failed */
    unsigned long after_failure;    /* in flight behind the failed line: delivered */
    unsigned long failed_after;     /* ... and not */
} cli_pipe_t;

static ap_status_t pool_entropy(void *ctx, uint8_t *buf, size_t len)
{
    cli_key_pool_t *k = ctx;

    if (len > sizeof(k->bytes)) {
        return AP_ERR_ENTROPY;
    }
    if (sizeof(k->bytes) - k->used < len) {
        ap_status_t st = k->platform->entropy(k->platform->ctx, k->bytes, sizeof(k->bytes));

        if (st != AP_OK) {
            return st;
        }
        k->used = 0;
    }
    memcpy(buf, k->bytes + k->used, len);
    memset(k->bytes + k->used, 0, len); /* each byte serves one key only */
    k->used += len;
    return AP_OK;
}

/* Would reading the next line wait? The reader's buffer answers without a
 * system call when it holds the line; stdin is polled only when it does not. */
static bool input_would_wait(const cli_lines_t *in)
{
    struct pollfd pfd;

    if (cli_line_ready(in)) {
        return false;
    }
    pfd.fd = STDIN_FILENO;
    pfd.events = POLLIN;
    pfd.revents = 0;
    return poll(&pfd, 1, 0) != 1;
}

/* Take lines until the window is full; each gets its key now. */
static int fill(cli_pipe_t *p)
{
    while (!p->stopped && !p->input_done && p->count < p->o->pipeline) {
        cli_pending_t *e = &p->pending[p->count];

        if (ap_pipeline_gathered(&p->pl) > 0 && input_would_wait(&p->in)) {
            /* a failed write is told by the receives of the alerts it held */
            (void)ap_pipeline_flush(&p->pl);
        }
        if (!cli_next_line(&p->in)) {
            p->input_done = true;
            break;
        }
        memset(e, 0, sizeof(*e));
        e->body = malloc(p->in.len);
        if (e->body == NULL) {
            cli_error(p->o, "out of memory");
            return CLI_EXIT_USAGE;
        }
        memcpy(e->body, p->in.line, p->in.len);
        e->len = p->in.len;
        e->line = p->in.number;
        if (ap_queue_key_generate(&p->platform, e->key) != AP_OK) {
            free(e->body);
            cli_error(p->o, "no Idempotency-Key could be made for line %lu: the entropy "
                            "source failed", e->line);
            return CLI_EXIT_TLS_OTHER;
        }
        p->count++;
    }
    return CLI_CONTINUE;
}

static void drop(cli_pipe_t *p, size_t i)
{
    free(p->pending[i].body);
    memmove(&p->pending[i], &p->pending[i + 1], (p->count - i - 1) * sizeof(p->pending[0]));
    p->count--;
}

/* Left unanswered because the server ended the connection: send it again. */
static bool early_close(ap_status_t st, const ap_client_t *c)
{
    ap_status_t why = ap_client_info(c)->failure;

    return st == AP_ERR_UNANSWERED || st == AP_ERR_NOT_SENT ||
           (st == AP_ERR_OUTCOME_UNKNOWN &&
            (why == AP_ERR_CLOSED || why == AP_ERR_TRUNCATED || why == AP_ERR_IO));
}

static void fail(cli_pipe_t *p, size_t i, ap_status_t st)
{
    const cli_pending_t *e = &p->pending[i];

    if (!p->stopped) {
        /* said once the alerts in flight behind it are settled: one line */
        p->stopped = true;
        p->rc = cli_exit_for(st, p->client);
        (void)snprintf(p->failure, sizeof(p->failure), "line %lu %s: %s", e->line,
                       st == AP_ERR_OUTCOME_UNKNOWN ? "was sent, outcome unknown"
                                                    : "not delivered",
                       ap_client_error(p->client));
        p->delivered_before = p->delivered;
    } else {
        p->failed_after++;
        if (p->o->verbose) {
            fprintf(stderr, "* alert %s (line %lu): not delivered (%s)\n", e->key, e->line,
                    ap_status_str(st));
        }
    }
    drop(p, i);
}

static ap_status_t send_one(cli_pipe_t *p, cli_pending_t *e)
{
    ap_request_t req;

    p->headers[p->header_count].name = AP_QUEUE_KEY_HEADER;
    p->headers[p->header_count].value = e->key;
    memset(&req, 0, sizeof(req));
    req.headers = p->headers;
    req.header_count = p->header_count + 1;
    req.body = (const uint8_t *)e->body;
    req.body_len = e->len;
    return ap_pipeline_send(&p->pl, &req);
}

/* Send the waiting lines, in order, while the window and connection allow. */
static void send_waiting(cli_pipe_t *p)
{
    size_t i;

    for (i = 0; i < p->count && !p->stopped; i++) {
        cli_pending_t *e = &p->pending[i];
        bool fresh = ap_pipeline_in_flight(&p->pl) == 0;
        ap_status_t st;

        if (e->in_flight) {
            continue;
        }
        if (ap_pipeline_closing(&p->pl)) {
            return;
        }
        if (fresh) {
            p->conn_delivered = 0;
        }
        st = send_one(p, e);
        if (fresh && ap_client_info(p->client)->tls_version != 0 &&
            !ap_client_info(p->client)->reused_connection) {
            p->connections++;
        }
        if (st == AP_OK) {
            e->in_flight = true;
            if (e->written) {
                p->resent++;
                if (p->o->verbose) {
                    fprintf(stderr, "* alert %s (line %lu): re-sent on a new connection\n",
                            e->key, e->line);
                }
            }
            continue;
        }
        if (early_close(st, p->client) && (!fresh || st == AP_ERR_NOT_SENT)) {
            e->written = e->written || st == AP_ERR_OUTCOME_UNKNOWN;
            return; /* the rest waits for the answers in flight */
        }
        fail(p, i, st);
        return;
    }
}

/* The oldest alert in flight: its answer, or why none came. */
static void receive_one(cli_pipe_t *p)
{
    ap_response_t resp;
    size_t i = 0;
    ap_status_t st;

    while (i < p->count && !p->pending[i].in_flight) {
        i++;
    }
    if (i == p->count) {
        return;
    }
    memset(&resp, 0, sizeof(resp));
    st = ap_pipeline_receive(&p->pl, &resp);
    p->pending[i].in_flight = false;
    if (resp.status_code != 0) {
        cli_verbose_result(p->o, p->client, &resp);
    }
    cli_write_out(p->o, p->client, &resp, p->pending[i].len, cli_exit_for(st, p->client));
    if (st == AP_OK) {
        if (p->o->verbose) {
            fprintf(stderr, "* alert %s (line %lu): delivered (HTTP %d)\n", p->pending[i].key,
                    p->pending[i].line, resp.status_code);
        }
        p->delivered++;
        p->conn_delivered++;
        p->after_failure += p->stopped ? 1u : 0u;
        drop(p, i);
    } else if (!p->stopped && early_close(st, p->client) && p->conn_delivered > 0) {
        /* sent again once the rest are in; a re-send if any of it went out */
        p->pending[i].written = p->pending[i].written || st != AP_ERR_NOT_SENT;
    } else {
        fail(p, i, st);
    }
}

static void report(cli_pipe_t *p)
{
    const cli_options_t *o = p->o;

    if (p->resent > 0) {
        cli_error(o, "%lu re-sent after the server closed the connection early (the same "
                     "Idempotency-Key each time)", p->resent);
    }
    if (p->stopped) {
        unsigned long behind = p->after_failure + p->failed_after;
        char in_flight[96] = "";

        if (behind > 0) {
            (void)snprintf(in_flight, sizeof(in_flight), "; of the %lu later line(s) already "
                           "in flight, %lu delivered and %lu not", behind, p->after_failure,
                           p->failed_after);
        }
        cli_error(o, "%s; %lu earlier alert(s) delivered%s; later lines not sent", p->failure,
                  p->delivered_before, in_flight);
    }
    if (o->verbose) {
        fprintf(stderr, "* %lu alert(s) delivered over %lu connection(s), up to %u in flight\n",
                p->delivered, p->connections, o->pipeline);
    }
}

static int run(cli_pipe_t *p)
{
    int rc = CLI_CONTINUE;

    while (rc == CLI_CONTINUE) {
        rc = fill(p);
        if (rc != CLI_CONTINUE) {
            break;
        }
        if (!p->stopped) {
            send_waiting(p);
        }
        if (ap_pipeline_in_flight(&p->pl) == 0 && (p->stopped || p->count == 0)) {
            break;
        }
        receive_one(p);
    }
    while (p->count > 0) {
        drop(p, 0);
    }
    report(p);
    if (rc != CLI_CONTINUE) {
        return rc;
    }
    return p->stopped ? p->rc : CLI_EXIT_DELIVERED;
}

int cli_pipeline_lines(const cli_options_t *o, ap_client_t *client,
                       const ap_platform_t *platform, const ap_header_t *headers,
                       size_t header_count)
{
    cli_pipe_t *p = calloc(1, sizeof(*p));
    int rc;

    if (p == NULL) {
        cli_error(o, "out of memory");
        return CLI_EXIT_USAGE;
    }
    p->o = o;
    p->client = client;
    p->pool.platform = platform;
    p->pool.used = sizeof(p->pool.bytes); /* drawn at the first key */
    p->platform.ctx = &p->pool; /* for keys only: no clocks */
    p->platform.entropy = pool_entropy;
    memcpy(p->headers, headers, header_count * sizeof(headers[0]));
    p->header_count = header_count;
    if (ap_pipeline_init(&p->pl, client) != AP_OK) {
        cli_error(o, "%s", ap_client_error(client));
        free(p);
        return CLI_EXIT_USAGE;
    }
    rc = run(p);
    cli_lines_free(&p->in);
    free(p);
    return rc;
}
