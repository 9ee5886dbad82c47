/*
 * The delivery queue's state machine.
 *
 * All it remembers between calls is one slot: which alert it is working on
 * (by key, so that a store changed behind its back, or a restart, starts that
 * alert afresh rather than mixing up two), how many attempts it had and when
 * it is due. Everything else lives in the store, so a crash loses no more
 * than the count of attempts. A step never sleeps: it answers how long to
 * wait, and the caller decides how (a CLI sleeps, a firmware loop does other
 * work).
 *
 * Ordering: only the oldest alert is attempted, and the next one only once
 * it has left the live part, so alerts arrive in the order they were queued
 * (a server sees a retried alert before any later one). With in_flight > 1
 * the alerts behind the oldest go out with it (ap_queue_window.c), and this
 * file only learns the oldest one's answer.
 */
#include "alertpost/ap_queue.h"
#include "ap_queue_internal.h"

#include <string.h>

/* Bound on records set aside in one step, so that a store that keeps
 * answering "corrupt" cannot hold the caller in a loop. */
#define AP_QUEUE_MAX_SKIPS 16u

/* Delays are compared as 32-bit differences (now - start >= delay), which
 * is exact while a delay stays below half the clock's range. */
#define AP_QUEUE_MAX_DELAY_MS 0x7FFFFFFFu

void ap_queue_config_defaults(ap_queue_config_t *cfg)
{
    if (cfg == NULL) {
        return;
    }
    memset(cfg, 0, sizeof(*cfg));
    cfg->backoff_base_ms = AP_DEFAULT_BACKOFF_BASE_MS;
    cfg->backoff_cap_ms = AP_DEFAULT_BACKOFF_CAP_MS;
    cfg->retry_after_cap_ms = AP_DEFAULT_RETRY_AFTER_CAP_MS;
    cfg->in_flight = 1;
}

static bool ap_queue_config_ok(const ap_queue_config_t *cfg)
{
    const ap_store_t *s = cfg->store;
    const ap_platform_t *pf = cfg->platform;

    return s != NULL && s->append != NULL && s->read != NULL && s->remove_oldest != NULL &&
           s->count != NULL && pf != NULL && pf->now_ms != NULL && pf->entropy != NULL &&
           cfg->post != NULL && cfg->record_buf != NULL && cfg->record_buf_size > 0 &&
           cfg->backoff_base_ms >= 1 && cfg->backoff_cap_ms >= cfg->backoff_base_ms &&
           cfg->backoff_cap_ms <= AP_QUEUE_MAX_DELAY_MS &&
           cfg->retry_after_cap_ms <= AP_QUEUE_MAX_DELAY_MS &&
           cfg->in_flight <= AP_QUEUE_MAX_IN_FLIGHT &&
           (cfg->in_flight <= 1 || (cfg->send != NULL && cfg->receive != NULL));
}

ap_status_t ap_queue_init(ap_queue_t *q, const ap_queue_config_t *cfg)
{
    if (q == NULL || cfg == NULL || !ap_queue_config_ok(cfg)) {
        return AP_ERR_BAD_ARG;
    }
    memset(q, 0, sizeof(*q));
    q->cfg = *cfg;
    if (q->cfg.in_flight == 0) {
        q->cfg.in_flight = 1;
    }
    q->last_status = AP_OK;
    q->initialised = true;
    return AP_OK;
}

static uint32_t ap_queue_now(const ap_queue_t *q)
{
    return q->cfg.platform->now_ms(q->cfg.platform->ctx);
}

ap_status_t ap_queue_enqueue(ap_queue_t *q, const ap_request_t *alert,
                             char key_out[AP_QUEUE_KEY_SIZE])
{
    char key[AP_QUEUE_KEY_SIZE];
    size_t len = 0;
    ap_status_t st;

    if (q == NULL || !q->initialised || alert == NULL) {
        return AP_ERR_BAD_ARG;
    }
    st = ap_queue_key_generate(q->cfg.platform, key);
    if (st != AP_OK) {
        return st;
    }
    st = ap_queue_record_encode(alert, key, q->cfg.record_buf, q->cfg.record_buf_size, &len);
    if (st == AP_ERR_NO_SPACE) {
        /* The scratch buffer bounds every record this queue can send. */
        return AP_ERR_TOO_LARGE;
    }
    if (st != AP_OK) {
        return st;
    }
    st = q->cfg.store->append(q->cfg.store->ctx, q->cfg.record_buf, len);
    if (st != AP_OK) {
        return st;
    }
    q->counters.queued++;
    if (key_out != NULL) {
        memcpy(key_out, key, sizeof(key));
    }
    return AP_OK;
}

void ap_queue_emit_for(const ap_queue_t *q, const ap_queue_slot_t *slot, size_t index,
                       ap_queue_event_kind_t kind, ap_status_t status, uint32_t delay_ms,
                       bool from_retry_after)
{
    ap_queue_event_t ev;

    if (q->cfg.on_event == NULL) {
        return;
    }
    memset(&ev, 0, sizeof(ev));
    ev.kind = kind;
    ev.key = (kind == AP_QUEUE_EV_CORRUPT) ? NULL : slot->key;
    ev.index = index;
    ev.attempt = slot->attempts;
    ev.status = status;
    ev.http_status = (kind == AP_QUEUE_EV_CORRUPT) ? 0 : q->last_http_status;
    ev.delay_ms = delay_ms;
    ev.from_retry_after = from_retry_after;
    q->cfg.on_event(q->cfg.event_ctx, &ev);
}

static void ap_queue_emit(const ap_queue_t *q, ap_queue_event_kind_t kind, ap_status_t status,
                          uint32_t delay_ms, bool from_retry_after)
{
    ap_queue_emit_for(q, &q->slot, 0, kind, status, delay_ms, from_retry_after);
}

static void ap_queue_slot_reset(ap_queue_slot_t *slot)
{
    memset(slot, 0, sizeof(*slot));
}

/* A record the store returned intact but the codec refused (the RAM ring has
 * no check of its own): set it aside in the dead part, where a person can
 * look at it, rather than delete it or stall every alert behind it. */
static ap_status_t ap_queue_set_aside(ap_queue_t *q)
{
    const ap_store_t *s = q->cfg.store;

    q->counters.corrupt++;
    ap_queue_emit(q, AP_QUEUE_EV_CORRUPT, AP_ERR_STORE_CORRUPT, 0, false);
    if (s->dead_letter == NULL || s->dead_letter(s->ctx) != AP_OK) {
        return AP_ERR_STORE_CORRUPT;
    }
    ap_queue_slot_reset(&q->slot);
    return AP_OK;
}

/* Reads and decodes the oldest live record into record_buf. */
static ap_status_t ap_queue_load(ap_queue_t *q, ap_queue_record_t *rec)
{
    const ap_store_t *s = q->cfg.store;
    unsigned skips;

    for (skips = 0; skips < AP_QUEUE_MAX_SKIPS; skips++) {
        size_t len = 0;
        ap_status_t st = s->read(s->ctx, AP_STORE_LIVE, 0, q->cfg.record_buf,
                                 q->cfg.record_buf_size, &len);

        if (st == AP_ERR_STORE_CORRUPT) {
            /* The store has already moved it aside. */
            q->counters.corrupt++;
            ap_queue_emit(q, AP_QUEUE_EV_CORRUPT, st, 0, false);
            continue;
        }
        if (st != AP_OK) {
            return st;
        }
        if (len > q->cfg.record_buf_size) {
            return AP_ERR_STORE_IO; /* a store outside its contract */
        }
        if (ap_queue_record_decode(q->cfg.record_buf, len, rec) == AP_OK) {
            return AP_OK;
        }
        st = ap_queue_set_aside(q);
        if (st != AP_OK) {
            return st;
        }
    }
    return AP_ERR_STORE_CORRUPT;
}

/* The request for a decoded record: its key first, then its own headers. */
void ap_queue_request(ap_queue_t *q, const ap_queue_record_t *rec, ap_request_t *req)
{
    size_t i;

    q->req_headers[0].name = AP_QUEUE_KEY_HEADER;
    q->req_headers[0].value = rec->key;
    for (i = 0; i < rec->header_count; i++) {
        q->req_headers[i + 1u] = rec->headers[i];
    }
    memset(req, 0, sizeof(*req));
    req->content_type = rec->content_type;
    req->headers = q->req_headers;
    req->header_count = rec->header_count + 1u;
    req->body = rec->body;
    req->body_len = rec->body_len;
}

static ap_status_t ap_queue_stop(ap_queue_t *q, ap_status_t st)
{
    /* A post function outside its contract must not be read as "delivered",
     * "empty" or "backing off" by the caller. */
    if (st == AP_OK) {
        st = AP_ERR_HTTP_STATUS;
    } else if (st == AP_ERR_STORE_EMPTY || st == AP_ERR_QUEUE_BACKOFF) {
        st = AP_ERR_BAD_ARG;
    }
    ap_queue_emit(q, AP_QUEUE_EV_STOPPED, st, 0, false);
    /* The next step starts this alert afresh: the caller chose to go on. */
    q->slot.attempts = 0;
    q->slot.waiting = false;
    return st;
}

static ap_status_t ap_queue_delivered(ap_queue_t *q)
{
    const ap_store_t *s = q->cfg.store;
    ap_status_t st = s->remove_oldest(s->ctx);

    if (st != AP_OK) {
        /* It stays and will be sent again: a duplicate the key makes
         * harmless, counted as a re-send so that it is not a silent one. */
        q->slot.resend = true;
        return ap_queue_stop(q, st == AP_ERR_STORE_EMPTY ? AP_ERR_STORE_IO : st);
    }
    q->counters.delivered++;
    ap_queue_emit(q, AP_QUEUE_EV_DELIVERED, AP_OK, 0, false);
    ap_queue_slot_reset(&q->slot);
    return AP_OK;
}

static ap_status_t ap_queue_dead_letter(ap_queue_t *q, ap_status_t cause)
{
    const ap_store_t *s = q->cfg.store;
    ap_status_t st;

    if (s->dead_letter == NULL) {
        /* No dead part: stopping keeps the alert, dropping it would not. */
        return ap_queue_stop(q, cause);
    }
    st = s->dead_letter(s->ctx);
    if (st != AP_OK) {
        return ap_queue_stop(q, st == AP_ERR_STORE_EMPTY ? AP_ERR_STORE_IO : st);
    }
    q->counters.dead_lettered++;
    ap_queue_emit(q, AP_QUEUE_EV_DEAD_LETTER, cause, 0, false);
    ap_queue_slot_reset(&q->slot);
    return AP_OK;
}

/* The server's Retry-After on 429 and 503, capped; false: use the backoff. */
static bool ap_queue_retry_after(const ap_queue_t *q, const ap_response_t *resp,
                                 uint32_t *delay_ms)
{
    const ap_platform_t *pf = q->cfg.platform;
    int64_t wall = pf->wall_time != NULL ? pf->wall_time(pf->ctx) : AP_WALL_TIME_UNKNOWN;
    uint32_t secs = 0;
    uint64_t ms;

    if ((resp->status_code != 429 && resp->status_code != 503) ||
        !ap_retry_after_parse(resp->retry_after, wall, &secs)) {
        return false;
    }
    ms = (uint64_t)secs * 1000u;
    *delay_ms = ms > q->cfg.retry_after_cap_ms ? q->cfg.retry_after_cap_ms : (uint32_t)ms;
    return true;
}

static ap_status_t ap_queue_schedule(ap_queue_t *q, ap_status_t cause, const ap_response_t *resp)
{
    ap_queue_slot_t *slot = &q->slot;
    uint32_t now = ap_queue_now(q);
    uint32_t delay = 0;
    bool from_retry_after;

    if (cause == AP_ERR_OUTCOME_UNKNOWN || cause == AP_ERR_UNANSWERED) {
        slot->resend = true;
    }
    if ((q->cfg.max_attempts != 0 && slot->attempts >= q->cfg.max_attempts) ||
        (q->cfg.retry_max_ms != 0 && now - slot->first_ms >= q->cfg.retry_max_ms)) {
        return ap_queue_stop(q, cause);
    }
    from_retry_after = ap_queue_retry_after(q, resp, &delay);
    if (!from_retry_after) {
        uint8_t r[4];
        uint32_t random = UINT32_MAX; /* no entropy: the longest wait is the safe one */

        if (q->cfg.platform->entropy(q->cfg.platform->ctx, r, sizeof(r)) == AP_OK) {
            random = (uint32_t)r[0] | ((uint32_t)r[1] << 8) | ((uint32_t)r[2] << 16) |
                     ((uint32_t)r[3] << 24);
        }
        delay = ap_retry_backoff_ms(q->cfg.backoff_base_ms, q->cfg.backoff_cap_ms,
                                    slot->attempts, random);
    }
    slot->waiting = true;
    slot->wait_start_ms = now;
    slot->wait_ms = delay;
    ap_queue_emit(q, AP_QUEUE_EV_RETRY, cause, delay, from_retry_after);
    return AP_ERR_QUEUE_BACKOFF;
}

/* Starts an attempt on the slot's alert: counts it and says so. */
static void ap_queue_begin_attempt(ap_queue_t *q)
{
    ap_queue_slot_t *slot = &q->slot;
    ap_queue_event_kind_t kind = AP_QUEUE_EV_ATTEMPT;

    slot->waiting = false;
    slot->attempts++;
    if (slot->attempts == 1) {
        slot->first_ms = ap_queue_now(q);
    } else {
        q->counters.retried++;
    }
    if (slot->resend) {
        /* One re-send per unknown outcome: that is the most duplicates the
         * server can have seen of it. */
        slot->resend = false;
        q->counters.resent++;
        kind = AP_QUEUE_EV_RESEND;
    }
    q->last_http_status = 0;
    ap_queue_emit(q, kind, AP_OK, 0, false);
}

ap_status_t ap_queue_step(ap_queue_t *q, uint32_t *wait_ms)
{
    ap_queue_slot_t *slot;
    ap_queue_record_t rec;
    ap_request_t req;
    ap_response_t resp;
    ap_status_t st;

    if (wait_ms != NULL) {
        *wait_ms = 0;
    }
    if (q == NULL || !q->initialised) {
        return AP_ERR_BAD_ARG;
    }
    slot = &q->slot;
    if (slot->waiting) {
        uint32_t elapsed = ap_queue_now(q) - slot->wait_start_ms;
        if (elapsed < slot->wait_ms) {
            if (wait_ms != NULL) {
                *wait_ms = slot->wait_ms - elapsed;
            }
            return AP_ERR_QUEUE_BACKOFF;
        }
    }
    st = ap_queue_load(q, &rec);
    if (st != AP_OK) {
        if (st == AP_ERR_STORE_EMPTY) {
            ap_queue_slot_reset(slot);
            ap_queue_forget_behind(q);
        }
        return st;
    }
    if (!slot->active || strcmp(slot->key, rec.key) != 0) {
        ap_queue_adopt(q, rec.key);
    }
    if (slot->delivered) {
        q->last_http_status = slot->answer;
        return ap_queue_delivered(q); /* answered 2xx while behind: not sent again */
    }
    ap_queue_begin_attempt(q);

    ap_queue_request(q, &rec, &req);
    memset(&resp, 0, sizeof(resp));
    if (q->cfg.in_flight > 1) {
        st = ap_queue_post_window(q, &req, &resp); /* record_buf is reused in there */
    } else {
        st = q->cfg.post(q->cfg.post_ctx, &req, &resp);
    }
    resp.retry_after[sizeof(resp.retry_after) - 1u] = '\0';
    q->last_status = st;
    q->last_http_status = resp.status_code;

    switch (ap_retry_classify(st, resp.status_code)) {
    case AP_RETRY_DELIVERED:
        return ap_queue_delivered(q);
    case AP_RETRY_DEAD_LETTER:
        return ap_queue_dead_letter(q, st);
    case AP_RETRY_AGAIN:
        return ap_queue_schedule(q, st, &resp);
    default:
        return ap_queue_stop(q, st);
    }
}

const ap_queue_counters_t *ap_queue_counters(const ap_queue_t *q)
{
    return q != NULL ? &q->counters : NULL;
}

int ap_queue_last_http_status(const ap_queue_t *q)
{
    return q != NULL ? q->last_http_status : 0;
}

ap_status_t ap_queue_pending(const ap_queue_t *q, size_t *live, size_t *dead)
{
    const ap_store_t *s;
    ap_status_t st;

    if (q == NULL || !q->initialised || live == NULL || dead == NULL) {
        return AP_ERR_BAD_ARG;
    }
    s = q->cfg.store;
    st = s->count(s->ctx, AP_STORE_LIVE, live);
    if (st != AP_OK) {
        return st;
    }
    return s->count(s->ctx, AP_STORE_DEAD, dead);
}
