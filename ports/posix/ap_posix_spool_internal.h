/*
 * Shared between the spool's files: its error text and the per-part index
 * (ap_posix_spool_index.c). Not part of the port's API.
 */
#ifndef ALERTPOST_AP_POSIX_SPOOL_INTERNAL_H
#define ALERTPOST_AP_POSIX_SPOOL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "alertpost/ap_posix_spool.h"

/* Sets the one-line error text and returns st. */
#ifdef __GNUC__
ap_status_t ap_posix_spool_fail(ap_posix_spool_t *sp, ap_status_t st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#else
ap_status_t ap_posix_spool_fail(ap_posix_spool_t *sp, ap_status_t st, const char *fmt, ...);
#endif

/* ENOSPC and EDQUOT: AP_ERR_STORE_FULL; anything else: AP_ERR_STORE_IO. */
ap_status_t ap_posix_spool_errno_status(int err);

/* Appends a slot at the tail; AP_ERR_STORE_FULL (with a message) without memory. */
ap_status_t ap_posix_spool_index_push(ap_posix_spool_t *sp, ap_posix_spool_index_t *idx,
                                      uint64_t seq, uint64_t file_len);

/* Makes room for one push, so a later push cannot fail. */
ap_status_t ap_posix_spool_index_reserve(ap_posix_spool_t *sp, ap_posix_spool_index_t *idx);

/* Slot i (0 = oldest); i < idx->len. */
ap_posix_spool_slot_t *ap_posix_spool_index_at(ap_posix_spool_index_t *idx, size_t i);

/* Drops slot i, keeping the order of the others. */
void ap_posix_spool_index_remove(ap_posix_spool_index_t *idx, size_t i);

/* Orders the slots by sequence number (after a directory scan). */
void ap_posix_spool_index_sort(ap_posix_spool_index_t *idx);

void ap_posix_spool_index_free(ap_posix_spool_index_t *idx);

#endif /* ALERTPOST_AP_POSIX_SPOOL_INTERNAL_H */
