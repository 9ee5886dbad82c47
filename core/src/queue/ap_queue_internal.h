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

/* A header name the queue or the request writer sets itself. */
bool ap_queue_is_owned_name(const char *name);

/* A key as ap_queue_key_generate() writes it: a quoted sf-string of 1 to
 * AP_QUEUE_KEY_SIZE - 3 printable ASCII bytes with no quote or backslash. */
bool ap_queue_is_key(const char *s);

#endif /* ALERTPOST_AP_QUEUE_INTERNAL_H */
