/**
 * @file ap_store.h
 * @brief Where queued alerts wait: a FIFO of opaque records with a
 * dead-letter part, over RAM, a spool directory or a flash log.
 *
 * The queue (ap_queue.h) encodes each alert into one record (its own format,
 * with its own check value) and hands the bytes to a store. A store only
 * keeps records in the order they were appended; it never looks inside them.
 * Every backend implements the same table, so the queue's tests run over a
 * RAM ring and a fake, and a board picks its medium at build time.
 *
 * Ordering contract: records are read and removed oldest first. Index 0 is
 * the oldest live record; index i the i-th after it (several may be read
 * before the first is removed, for pipelining). Removing or dead-lettering
 * always takes the oldest.
 *
 * Durability contract: append() returns AP_OK only once the record will
 * survive what the backend promises to survive (RAM: nothing; spool: a crash
 * of the process or the machine, given a disk that honours fsync; flash log:
 * a power cut at any instant). Until remove_oldest() returns AP_OK, a record
 * is still there after a restart: a crash in between delivers it again, which
 * the record's Idempotency-Key makes harmless.
 *
 * Nothing is ever evicted to make room: a full store answers
 * AP_ERR_STORE_FULL and the caller decides.
 */
#ifndef ALERTPOST_AP_STORE_H
#define ALERTPOST_AP_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "alertpost/ap_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The two parts of a store. */
typedef enum ap_store_part {
    AP_STORE_LIVE = 0,  /**< waiting for delivery, oldest first */
    AP_STORE_DEAD = 1   /**< refused by the server for good; kept for a person */
} ap_store_part_t;

typedef struct ap_store {
    /** The backend's own state; passed back to each function. */
    void *ctx;

    /**
     * Append one record at the tail of the live part.
     * @return AP_OK (durable as the backend promises); AP_ERR_BAD_ARG (NULL,
     *         or len 0); AP_ERR_TOO_LARGE (can never fit, even when empty);
     *         AP_ERR_STORE_FULL (no room now); AP_ERR_STORE_IO.
     *         On any error the store is as it was before the call.
     */
    ap_status_t (*append)(void *ctx, const uint8_t *rec, size_t len);

    /**
     * Copy the record at index (0 = oldest) of a part into buf.
     * @return AP_OK with *len set; AP_ERR_STORE_EMPTY (no record at index);
     *         AP_ERR_NO_SPACE (buf too small; *len says how large it is);
     *         AP_ERR_STORE_CORRUPT (the record failed the backend's own check:
     *         it has been set aside where a person can find it, and the next
     *         call at the same index sees the record after it);
     *         AP_ERR_STORE_IO; AP_ERR_BAD_ARG.
     */
    ap_status_t (*read)(void *ctx, ap_store_part_t part, size_t index, uint8_t *buf,
                        size_t size, size_t *len);

    /**
     * Remove the oldest live record: it was delivered.
     * @return AP_OK; AP_ERR_STORE_EMPTY; AP_ERR_STORE_IO (it is still there).
     */
    ap_status_t (*remove_oldest)(void *ctx);

    /**
     * Move the oldest live record to the dead-letter part, where it is kept
     * and counted. MAY be NULL for a backend with no dead-letter part: the
     * queue then stops at such an alert instead of dropping it.
     * @return AP_OK; AP_ERR_STORE_EMPTY; AP_ERR_STORE_FULL (no room in the dead
     *         part: the record stays live); AP_ERR_STORE_IO.
     */
    ap_status_t (*dead_letter)(void *ctx);

    /**
     * How many records a part holds now.
     * @return AP_OK with *count set; AP_ERR_STORE_IO; AP_ERR_BAD_ARG.
     */
    ap_status_t (*count)(void *ctx, ap_store_part_t part, size_t *count);
} ap_store_t;

#ifdef __cplusplus
}
#endif

#endif /* ALERTPOST_AP_STORE_H */
