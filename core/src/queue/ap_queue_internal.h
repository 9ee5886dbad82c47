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

/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32()): crc is 0 to start, or
 * the result of the previous call to continue. */
uint32_t ap_queue_crc32(uint32_t crc, const uint8_t *data, size_t len);

/* A header name the queue or the request writer sets itself. */
bool ap_queue_is_owned_name(const char *name);

/* A key as ap_queue_key_generate() writes it: a quoted sf-string of 1 to
 * AP_QUEUE_KEY_SIZE - 3 printable ASCII bytes with no quote or backslash. */
bool ap_queue_is_key(const char *s);

#endif /* ALERTPOST_AP_QUEUE_INTERNAL_H */
