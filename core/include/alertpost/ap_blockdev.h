/**
 * @file ap_blockdev.h
 * @brief A block device as the core sees it: read, program, erase, with the
 * geometry declared up front.
 *
 * The flash log (ap_store_flash.h) is written against this table only, so
 * the same code runs over on-chip NOR flash, a SPI flash, a file on a host
 * (the MPS2 boards reach one through semihosting) or the simulated flash of
 * the tests. A board fills an ap_blockdev_t over its own opaque context.
 *
 * The rules a device MUST follow, and that the flash log relies on:
 * - Erase sets every byte of one sector to erased_value.
 * - Program moves bits away from the erased state only: the flash log never
 *   programs a byte that does not read as erased_value, and never programs
 *   the same prog_size unit twice between erases, so devices that forbid a
 *   second program of a unit (flash with ECC words) are fine.
 * - Program addresses and lengths are multiples of prog_size; read addresses
 *   and lengths are multiples of read_size. No call crosses the end of the
 *   device. A program never crosses a sector boundary.
 * - When a call returns AP_OK its effect is complete and will read back
 *   (for a file: written through; for SPI flash: the busy bit has cleared).
 *
 * What a power cut MAY leave, and what the flash log is built to survive:
 * - a program cut short: any subset of the bytes of that one call written,
 *   the others still erased (a torn write);
 * - an erase cut short: any mix of erased and old bytes in that one sector;
 * - nothing else: other sectors and earlier completed calls are intact.
 * A device that can corrupt data outside the operation in progress (some
 * NAND, or NOR whose erase can disturb a neighbouring sector) is outside
 * this contract.
 *
 * How a board supplies one (the board decides, the core never learns which):
 * - on-chip or SPI NOR flash: a region of whole sectors set aside in the
 *   linker script or partition table; read by memcpy or a read command,
 *   program and erase by the vendor's driver, each waiting for completion;
 * - a host file (the MPS2 boards under QEMU, through semihosting SYS_OPEN,
 *   SYS_SEEK, SYS_READ, SYS_WRITE): the file is the image, erased_value
 *   0xFF; erase writes a sector of 0xFF, program checks that the bytes read
 *   erased and writes them; the log then persists across QEMU runs.
 *   tests/unit/store/file_blockdev.c is that device over stdio;
 * - no medium at all: use the RAM store instead.
 * Declare the real prog_size (the smallest unit the part can program once
 * between erases) rather than 1, or the log will program a unit twice.
 */
#ifndef ALERTPOST_AP_BLOCKDEV_H
#define ALERTPOST_AP_BLOCKDEV_H

#include <stddef.h>
#include <stdint.h>

#include "alertpost/ap_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The shape of a device: fixed for its lifetime. */
typedef struct ap_blockdev_geometry {
    /** Bytes per erasable sector; a multiple of prog_size. */
    uint32_t sector_size;
    /** Number of sectors; the device spans sector_size * sector_count bytes. */
    uint32_t sector_count;
    /** Program granularity and alignment in bytes (a power of two). */
    uint32_t prog_size;
    /** Read granularity and alignment in bytes (a power of two, <= prog_size). */
    uint32_t read_size;
    /** The value of every byte after an erase (0xFF on NOR flash). */
    uint8_t erased_value;
} ap_blockdev_geometry_t;

typedef struct ap_blockdev {
    /** The device's own state; passed back to each function. */
    void *ctx;

    /** Declared once, before the first call; never changes. */
    ap_blockdev_geometry_t geometry;

    /**
     * Read len bytes at byte address addr into buf.
     * @return AP_OK (buf holds what the device holds); AP_ERR_BAD_ARG
     *         (misaligned, or past the end); AP_ERR_STORE_IO (the medium failed).
     */
    ap_status_t (*read)(void *ctx, uint32_t addr, uint8_t *buf, size_t len);

    /**
     * Program len bytes from buf at byte address addr. The target bytes MUST
     * be erased (see the file comment); the device MAY refuse otherwise.
     * @return AP_OK (written, will read back); AP_ERR_BAD_ARG (misaligned,
     *         past the end, across a sector, or over bytes that are not
     *         erased); AP_ERR_STORE_IO (failed: any subset of the bytes may
     *         have been written).
     */
    ap_status_t (*program)(void *ctx, uint32_t addr, const uint8_t *buf, size_t len);

    /**
     * Erase sector number sector (0 .. sector_count - 1).
     * @return AP_OK (every byte reads erased_value); AP_ERR_BAD_ARG (no such
     *         sector); AP_ERR_STORE_IO (failed: the sector holds any mix of
     *         erased and old bytes).
     */
    ap_status_t (*erase)(void *ctx, uint32_t sector);
} ap_blockdev_t;

#ifdef __cplusplus
}
#endif

#endif /* ALERTPOST_AP_BLOCKDEV_H */
