/*
 * What the queue's files share and nothing outside core/src/queue needs: the
 * CRC that guards a record and the checks a record's key and header names
 * must pass. Character classes are RFC 9110's, from http/ap_http_chars.h, so
 * that a record that decodes can always be sent by the request writer.
 */
#ifndef ALERTPOST_AP_QUEUE_INTERNAL_H
#define ALERTPOST_AP_QUEUE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alertpost/ap_crc32.h" /* the records' check value */
#include "alertpost/ap_queue.h"

/* A header name the queue or the request writer sets itself. */
bool ap_queue_is_owned_name(const char *name);

/* A key as ap_queue_key_generate() writes it: a quoted sf-string of 1 to
 * AP_QUEUE_KEY_SIZE - 3 printable ASCII bytes with no quote or backslash. */
bool ap_queue_is_key(const char *s);

/* ---- the queue's state machine (ap_queue.c) and its window (ap_queue_window.c) ---- */

/* Report an event about slot, the alert at index in the live part. */
void ap_queue_emit_for(const ap_queue_t *q, const ap_queue_slot_t *slot, size_t index,
                       ap_queue_event_kind_t kind, ap_status_t status, uint32_t delay_ms,
                       bool from_retry_after);

/* The request for a decoded record (its key first); headers live in q. */
void ap_queue_request(ap_queue_t *q, const ap_queue_record_t *rec, ap_request_t *req);

/* The oldest alert is now the one with key: take over the state an earlier
 * step kept for it behind the oldest, or start afresh. */
void ap_queue_adopt(ap_queue_t *q, const char *key);

/* The store is empty: nothing behind the oldest either. */
void ap_queue_forget_behind(ap_queue_t *q);

/* With in_flight > 1: send req (the oldest alert's, already counted) and up
 * to in_flight - 1 alerts behind it, read every answer in order, note what
 * happened to those behind, and return the oldest one's result in resp. */
ap_status_t ap_queue_post_window(ap_queue_t *q, const ap_request_t *req,
                                 ap_response_t *resp);

#endif /* ALERTPOST_AP_QUEUE_INTERNAL_H */
