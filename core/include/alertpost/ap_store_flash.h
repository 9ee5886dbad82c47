/**
 * @file ap_store_flash.h
 * @brief An ap_store_t over a block device (ap_blockdev.h): a log of records
 * that survives a power cut at any instant.
 *
 * How it works, so that a reader can judge what survives:
 * - The device is a ring of sectors. Each in-use sector starts with a header
 *   (magic, a sequence number that grows by one per sector taken into use,
 *   the geometry) and two flag units: "retired" and "next sector being
 *   erased". Records are appended in the newest sector; when it is full the
 *   next sector in the ring is erased and taken. Sectors are only ever
 *   erased in ring order, so wear is spread evenly.
 * - A record is a header (length, sequence number, CRC-32 of the data, its
 *   own CRC-32), two flag units (removed, dead) and the data. Removing or
 *   dead-lettering a record programs its flag unit; nothing is rewritten.
 * - Space is reclaimed a sector at a time: a sector whose records are all
 *   removed is free. One sector is kept in reserve; when the log would need
 *   it, the records of the oldest sector that still count (live or dead)
 *   are copied into it, keeping their sequence numbers, and the oldest
 *   sector is retired. That is done only when it gains room (the new record
 *   fits beside the copies, or free sectors behind the oldest one come
 *   back); otherwise append answers AP_ERR_STORE_FULL, having changed and
 *   evicted nothing. So records can use about (sector_count - 1) sectors,
 *   less what the last record of each sector leaves unused.
 * - ap_store_flash_init() scans the device and recovers: it skips a torn
 *   record header (closing that sector), marks a record whose data was torn
 *   as removed, and when a relocation was cut before the oldest sector was
 *   retired, retires the sector holding the copies instead (the originals
 *   count, and the reserve is back). A blank device is formatted.
 *
 * What a power cut leaves, per operation:
 * - append: before its last program completes, the record is absent after
 *   recovery, or present in full; once it has returned AP_OK, present.
 * - remove_oldest: the record is still live, or removed (then the queue
 *   delivers it once more, which its Idempotency-Key makes harmless).
 * - dead_letter: the record is still live, or dead; never both, never gone.
 * - relocation and sector erases: every record as before, once, in order.
 *
 * Ordering: both parts in append order. Records are ranked by sequence
 * number, since relocation moves the oldest sector's records past newer
 * ones; reading index 0, or index i + 1 after index i, costs one pass over
 * the record headers of the sectors in use.
 *
 * After any AP_ERR_STORE_IO the in-memory view may no longer match the
 * device: every later call answers AP_ERR_STORE_IO until
 * ap_store_flash_init() has recovered it again, just as after a power cut,
 * and with the same outcomes as a cut at that step (an append that failed
 * this way may turn out present, in full, after recovery).
 *
 * Limits: sequence numbers are 32 bits and are not expected to wrap (one per
 * record and one per sector erase). A dead record that fails its CRC
 * answers AP_ERR_STORE_CORRUPT at its index each time it is read: it is
 * already set aside, and is never deleted silently.
 */
#ifndef ALERTPOST_AP_STORE_FLASH_H
#define ALERTPOST_AP_STORE_FLASH_H

#include <stddef.h>
#include <stdint.h>

#include "alertpost/ap_blockdev.h"
#include "alertpost/ap_status.h"
#include "alertpost/ap_store.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Bytes of scratch the store keeps in its state struct for headers, flags
 * and copies. The device's prog_size may be at most a quarter of it.
 */
#ifndef AP_STORE_FLASH_BUF_SIZE
#define AP_STORE_FLASH_BUF_SIZE 128u
#endif

/** The largest prog_size the flash log supports (STM32H7 flash words: 32). */
#define AP_STORE_FLASH_PROG_MAX (AP_STORE_FLASH_BUF_SIZE / 4u)

/**
 * The state of one flash log. The caller owns it (static or on a long-lived
 * stack) and never touches its fields: they are here only so that its size
 * is known at compile time.
 */
typedef struct ap_store_flash {
    const ap_blockdev_t *dev;
    uint32_t sector_size;
    uint32_t sector_count;
    uint32_t prog_size;
    uint32_t data_start;   /* offset of the first record in a sector */
    uint32_t rec_hdr_size; /* record header plus its two flag units */
    uint32_t head;         /* sector records are appended to */
    uint32_t head_seq;
    uint32_t head_off;     /* where the next record goes in head */
    uint32_t tail;         /* oldest sector holding a live or dead record */
    uint32_t next_rec_seq;
    size_t live_count;
    size_t dead_count;
    size_t hint_index;     /* the last record found by rank, so that reading */
    uint32_t hint_seq;     /* index i + 1 after index i costs one pass */
    uint32_t hint_addr;
    int hint_part;         /* -1: no hint */
    int broken;            /* a device error left memory and flash apart */
    uint8_t buf[AP_STORE_FLASH_BUF_SIZE];
} ap_store_flash_t;

/**
 * @brief Bytes a record of rec_len bytes occupies on this device (header,
 * flags and data, each rounded up to prog_size).
 * @param dev       the device (its geometry is read; no I/O).
 * @param rec_len   a record length.
 * @return the footprint in bytes; 0 if rec_len is 0 or larger than a
 *         sector, or the geometry is unusable (see ap_store_flash_init()).
 */
uint32_t ap_store_flash_footprint(const ap_blockdev_t *dev, size_t rec_len);

/**
 * @brief The largest record that fits in one sector of this device.
 * @param dev the device (its geometry is read; no I/O).
 * @return the length in bytes, or 0 if the geometry is unusable.
 */
size_t ap_store_flash_max_record(const ap_blockdev_t *dev);

/**
 * @brief Scan the device, recover from any power cut, and fill store with
 * the flash log's functions over fl. Recovery only programs flags (formatting
 * a blank device erases one sector); a cut during it is recovered by the
 * next call. Call it again (on the same fl) to recover after AP_ERR_STORE_IO.
 * @param fl    state owned by the caller; valid while store is used.
 * @param dev   the device; it must outlive fl. Its geometry must have
 *              sector_count >= 2, prog_size a power of two no larger than
 *              AP_STORE_FLASH_PROG_MAX, read_size a power of two dividing
 *              prog_size, sector_size a multiple of prog_size with room for
 *              the sector header and at least one record of 1 byte, and the
 *              whole device within 4 GiB.
 * @param store filled with the functions and ctx = fl.
 * @return AP_OK; AP_ERR_BAD_ARG (a NULL, a missing function, or a geometry
 *         outside the above); AP_ERR_STORE_IO (the device failed; run it
 *         again once it works).
 */
ap_status_t ap_store_flash_init(ap_store_flash_t *fl, const ap_blockdev_t *dev,
                                ap_store_t *store);

#ifdef __cplusplus
}
#endif

#endif /* ALERTPOST_AP_STORE_FLASH_H */
