/*
 * Shared between the files of the flash log (ap_store_flash_*.c) and nobody
 * else: the on-flash layout, and the helpers that read and write it.
 *
 * Layout, every field little-endian, every part starting on a prog_size
 * boundary so that each can be programmed on its own:
 *
 *   sector:  header (20 bytes: magic, seq, sector_size, prog_size, CRC-32)
 *            retired flag unit | handover flag unit | records...
 *   record:  header (24 bytes: magic, kind, pad, len, seq, origin, data CRC,
 *            header CRC-32) | removed flag unit | dead flag unit | data
 *
 * A flag is set when its unit reads as anything but erased: a program cut
 * short that wrote any byte of it counts as done, one that wrote none as not
 * done, and either outcome is one the callers accept.
 */
#ifndef AP_STORE_FLASH_INTERNAL_H
#define AP_STORE_FLASH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "alertpost/ap_store_flash.h"

#if AP_STORE_FLASH_BUF_SIZE < 64u || (AP_STORE_FLASH_BUF_SIZE % 32u) != 0u
#error "AP_STORE_FLASH_BUF_SIZE must be a multiple of 32, at least 64"
#endif

#define AP_FL_SECTOR_HDR_LEN 20u
#define AP_FL_RECORD_HDR_LEN 24u

/** A record as appended, and records copied out of a sector being retired:
 * a copy of a dead record is born dead, a copy of a live one live. */
#define AP_FL_KIND_RECORD 1u
#define AP_FL_KIND_COPY_DEAD 2u
#define AP_FL_KIND_COPY_LIVE 3u

typedef struct ap_fl_sector {
    int valid;           /* header intact and written for this geometry */
    int retired;
    int handover;        /* the next sector in the ring is being erased */
    uint32_t seq;
} ap_fl_sector_t;

typedef struct ap_fl_rec {
    uint32_t addr;       /* of the header, from the start of the device */
    uint32_t kind;
    uint32_t len;
    uint32_t seq;
    uint32_t origin;     /* a copy: sequence number of the sector copied from
                          * (recovery does not need it; a person reading a
                          * dump of the device does) */
    uint32_t data_crc;
    uint32_t footprint;
    int removed;
    int dead;            /* dead flag set, or a copy of a dead record */
} ap_fl_rec_t;

/** A position in the log: a record offset within a sector. */
typedef struct ap_fl_cursor {
    uint32_t sector;
    uint32_t off;
} ap_fl_cursor_t;

/* ap_store_flash_format.c: layout, CRC, device access. */
#include "alertpost/ap_crc32.h" /* the records' and sectors' check value */
uint32_t ap_fl_round(const ap_store_flash_t *fl, uint32_t n);
ap_status_t ap_fl_setup(ap_store_flash_t *fl, const ap_blockdev_t *dev);
ap_status_t ap_fl_read(ap_store_flash_t *fl, uint32_t addr, uint8_t *buf, size_t len);
ap_status_t ap_fl_prog(ap_store_flash_t *fl, uint32_t addr, const uint8_t *buf, size_t len);
ap_status_t ap_fl_erase(ap_store_flash_t *fl, uint32_t sector);
ap_status_t ap_fl_flag_set(ap_store_flash_t *fl, uint32_t addr);
ap_status_t ap_fl_sector_load(ap_store_flash_t *fl, uint32_t sector, ap_fl_sector_t *out);
ap_status_t ap_fl_sector_open(ap_store_flash_t *fl, uint32_t sector, uint32_t seq);
ap_status_t ap_fl_rec_load(ap_store_flash_t *fl, uint32_t addr, ap_fl_rec_t *out);
ap_status_t ap_fl_rec_write_header(ap_store_flash_t *fl, uint32_t addr, const ap_fl_rec_t *r);
ap_status_t ap_fl_rec_check(ap_store_flash_t *fl, const ap_fl_rec_t *r);

/* ap_store_flash_scan.c: walking the log, recovery. */
ap_status_t ap_fl_cursor_next(ap_store_flash_t *fl, ap_fl_cursor_t *c, ap_fl_rec_t *r);
ap_status_t ap_fl_find(ap_store_flash_t *fl, int dead, size_t index, ap_fl_rec_t *out);

/** Ranks change when a record leaves a part or is copied. */
static inline void ap_fl_forget_hint(ap_store_flash_t *fl)
{
    fl->hint_part = -1;
}
ap_status_t ap_fl_census(ap_store_flash_t *fl, uint32_t sector, size_t *live,
                         size_t *dead, uint32_t *bytes);
ap_status_t ap_fl_settle_tail(ap_store_flash_t *fl);
ap_status_t ap_fl_recover(ap_store_flash_t *fl);

/* ap_store_flash_append.c */
ap_status_t ap_fl_append(void *ctx, const uint8_t *rec, size_t len);

static inline uint32_t ap_fl_sector_of(const ap_store_flash_t *fl, uint32_t addr)
{
    return addr / fl->sector_size;
}

static inline uint32_t ap_fl_next_sector(const ap_store_flash_t *fl, uint32_t sector)
{
    return (sector + 1u) % fl->sector_count;
}

/** Address of a record's removed flag; its dead flag is one unit further. */
static inline uint32_t ap_fl_removed_flag(const ap_store_flash_t *fl, uint32_t rec_addr)
{
    return rec_addr + ap_fl_round(fl, AP_FL_RECORD_HDR_LEN);
}

static inline uint32_t ap_fl_dead_flag(const ap_store_flash_t *fl, uint32_t rec_addr)
{
    return ap_fl_removed_flag(fl, rec_addr) + fl->prog_size;
}

#endif /* AP_STORE_FLASH_INTERNAL_H */
