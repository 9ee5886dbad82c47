/**
 * @file ap_store_ram.h
 * @brief A store (ap_store.h) in a RAM buffer the caller owns: two rings,
 * one for live records and one for the dead-letter part.
 *
 * For devices with no flash to spare. It survives nothing: a reset or a
 * power cut loses every record in it, and its records carry no check of
 * their own (the queue's record CRC catches a corrupted one). It never
 * allocates and never evicts: a full ring answers AP_ERR_STORE_FULL.
 *
 * Each record costs its length plus AP_STORE_RAM_RECORD_OVERHEAD bytes.
 */
#ifndef ALERTPOST_AP_STORE_RAM_H
#define ALERTPOST_AP_STORE_RAM_H

#include <stddef.h>
#include <stdint.h>

#include "alertpost/ap_status.h"
#include "alertpost/ap_store.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Bytes a ring spends on each record besides the record itself. */
#define AP_STORE_RAM_RECORD_OVERHEAD 4u

/** One ring. Private: use the ap_store_t functions. */
typedef struct ap_store_ram_ring {
    uint8_t *buf;
    size_t size;
    size_t head;     /* offset of the oldest record's length */
    size_t used;     /* bytes holding records */
    size_t count;    /* records */
} ap_store_ram_ring_t;

/** The store's state. Caller-owned; it must outlive the ap_store_t. */
typedef struct ap_store_ram {
    ap_store_ram_ring_t live;
    ap_store_ram_ring_t dead;
} ap_store_ram_t;

/**
 * @brief Make an empty store over buf: the first size - dead_size bytes for
 * live records, the last dead_size for dead-lettered ones.
 *
 * @param dead_size 0: no dead-letter part (store->dead_letter is NULL, and
 *        the queue stops at an alert a server refuses instead of dropping it).
 * @param store out: the function table, with ctx = ram.
 * @return AP_OK; AP_ERR_BAD_ARG: a NULL pointer, dead_size over size, or a
 *         live part (or a non-empty dead part) too small for one byte of
 *         record.
 */
ap_status_t ap_store_ram_init(ap_store_ram_t *ram, uint8_t *buf, size_t size, size_t dead_size,
                              ap_store_t *store);

#ifdef __cplusplus
}
#endif

#endif /* ALERTPOST_AP_STORE_RAM_H */
