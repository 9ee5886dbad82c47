/*
 * The queue with several alerts in flight (ap_queue_config_t.in_flight > 1).
 *
 * A step sends the oldest alert and the ones behind it on one connection,
 * then reads every answer in order. Only the oldest alert's answer moves the
 * store (remove, dead-letter, back off), exactly as with one in flight: the
 * store removes only its oldest record, and a failed oldest alert must keep
 * its place. What happened to each alert behind it is noted in its slot,
 * kept by key: answered 2xx (removed, unsent, once it is the oldest), or left
 * unanswered or with an unknown outcome (its next attempt is a counted
 * re-send). Any other answer behind the oldest is simply tried again later,
 * as the oldest, where the retry rules judge it.
 *
 * Built without the window when AP_QUEUE_MAX_IN_FLIGHT is 1: the queue then
 * holds no state for alerts behind the oldest.
 */
#include <string.h>

#include "ap_queue_internal.h"

static void start_afresh(ap_queue_t *q, const char *key)
{
    memset(&q->slot, 0, sizeof(q->slot));
    q->slot.active = true;
    (void)memcpy(q->slot.key, key, strlen(key) + 1u);
}

#if AP_QUEUE_MAX_IN_FLIGHT > 1

void ap_queue_forget_behind(ap_queue_t *q)
{
    memset(q->behind, 0, sizeof(q->behind));
}

static ap_queue_slot_t *find_behind(ap_queue_t *q, const char *key)
{
    size_t i;

    for (i = 0; i < q->cfg.in_flight - 1u; i++) {
        if (q->behind[i].active && strcmp(q->behind[i].key, key) == 0) {
            return &q->behind[i];
        }
    }
    return NULL;
}

void ap_queue_adopt(ap_queue_t *q, const char *key)
{
    ap_queue_slot_t *kept = (q->cfg.in_flight > 1) ? find_behind(q, key) : NULL;

    if (kept != NULL) {
        q->slot = *kept;
        memset(kept, 0, sizeof(*kept));
        return;
    }
    start_afresh(q, key);
}

/* The slot for the alert at index i (>= 1) behind the oldest: the one kept
 * for its key, or a fresh one. next[] holds the new order. */
static ap_queue_slot_t *slot_for(ap_queue_t *q, ap_queue_slot_t *next, size_t i,
                                 const char *key)
{
    ap_queue_slot_t *kept = find_behind(q, key);
    ap_queue_slot_t *s = &next[i - 1u];

    if (kept != NULL) {
        *s = *kept;
    } else {
        memset(s, 0, sizeof(*s));
        s->active = true;
        (void)memcpy(s->key, key, strlen(key) + 1u);
    }
    return s;
}

/* Write the alert at index i behind the oldest; true if it is in flight. */
static bool send_behind(ap_queue_t *q, ap_queue_slot_t *s, size_t i, const ap_queue_record_t *rec)
{
    ap_request_t req;
    ap_status_t st;

    ap_queue_request(q, rec, &req);
    st = q->cfg.send(q->cfg.pipe_ctx, &req);
    if (st != AP_OK) {
        /* part of it may have gone out: its next attempt may duplicate it */
        s->resend = s->resend || st == AP_ERR_OUTCOME_UNKNOWN;
        return false;
    }
    s->attempts++;
    if (s->attempts == 1) {
        s->first_ms = q->cfg.platform->now_ms(q->cfg.platform->ctx);
    } else {
        q->counters.retried++;
    }
    ap_queue_emit_for(q, s, i, s->resend ? AP_QUEUE_EV_RESEND : AP_QUEUE_EV_ATTEMPT, AP_OK, 0,
                      false);
    if (s->resend) {
        s->resend = false;
        q->counters.resent++;
    }
    return true;
}

/* Send the alerts behind the oldest; says which indices went out. */
static size_t fill(ap_queue_t *q, ap_queue_slot_t *next, size_t *sent)
{
    const ap_store_t *st = q->cfg.store;
    size_t live = 0;
    size_t n = 0;
    size_t i;

    if (st->count(st->ctx, AP_STORE_LIVE, &live) != AP_OK) {
        return 0;
    }
    for (i = 1; i < live && i < q->cfg.in_flight; i++) {
        ap_queue_record_t rec;
        ap_queue_slot_t *s;
        size_t len = 0;

        if (st->read(st->ctx, AP_STORE_LIVE, i, q->cfg.record_buf, q->cfg.record_buf_size,
                     &len) != AP_OK || len > q->cfg.record_buf_size ||
            ap_queue_record_decode(q->cfg.record_buf, len, &rec) != AP_OK) {
            break; /* judged when it is the oldest */
        }
        s = slot_for(q, next, i, rec.key);
        if (s->delivered) {
            continue;
        }
        if (!send_behind(q, s, i, &rec)) {
            break;
        }
        sent[n++] = i;
    }
    return n;
}

ap_status_t ap_queue_post_window(ap_queue_t *q, const ap_request_t *req, ap_response_t *resp)
{
    ap_queue_slot_t next[AP_QUEUE_MAX_IN_FLIGHT - 1];
    size_t sent[AP_QUEUE_MAX_IN_FLIGHT];
    size_t n;
    size_t k;
    ap_status_t st = q->cfg.send(q->cfg.pipe_ctx, req);

    if (st != AP_OK) {
        return st;
    }
    memset(next, 0, sizeof(next));
    n = fill(q, next, sent);
    st = q->cfg.receive(q->cfg.pipe_ctx, resp);
    for (k = 0; k < n; k++) {
        ap_response_t behind;
        ap_status_t r;
        ap_queue_slot_t *s = &next[sent[k] - 1u];

        memset(&behind, 0, sizeof(behind));
        r = q->cfg.receive(q->cfg.pipe_ctx, &behind);
        if (ap_retry_classify(r, behind.status_code) == AP_RETRY_DELIVERED) {
            s->delivered = true;
            s->answer = behind.status_code;
        } else if (r == AP_ERR_UNANSWERED || r == AP_ERR_OUTCOME_UNKNOWN) {
            s->resend = true;
        }
    }
    (void)memcpy(q->behind, next, sizeof(next));
    return st;
}

#else /* AP_QUEUE_MAX_IN_FLIGHT == 1: ap_queue_init() refuses in_flight > 1 */

void ap_queue_forget_behind(ap_queue_t *q)
{
    (void)q;
}

void ap_queue_adopt(ap_queue_t *q, const char *key)
{
    start_afresh(q, key);
}

ap_status_t ap_queue_post_window(ap_queue_t *q, const ap_request_t *req, ap_response_t *resp)
{
    (void)q;
    (void)req;
    (void)resp;
    return AP_ERR_BAD_ARG;
}

#endif
