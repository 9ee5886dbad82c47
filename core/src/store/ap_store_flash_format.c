/*
 * The flash log's on-flash format (checked with ap_crc32.h): encoding of
 * sector and record headers, flags, and the only calls into the block device. Every device
 * failure passes through here, so that it marks the store broken in one
 * place (see ap_store_flash.h: memory and flash may disagree after it).
 */
#include <string.h>

#include "ap_store_flash_internal.h"

#define AP_FL_SECTOR_MAGIC 0x4C465041u /* "APFL" */
#define AP_FL_RECORD_MAGIC 0x5241u     /* "AR" */

uint32_t ap_fl_round(const ap_store_flash_t *fl, uint32_t n)
{
    return (n + fl->prog_size - 1u) & ~(fl->prog_size - 1u);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static int is_pow2(uint32_t v)
{
    return v != 0u && (v & (v - 1u)) == 0u;
}

static int is_erased(const ap_store_flash_t *fl, const uint8_t *p, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (p[i] != fl->dev->geometry.erased_value) {
            return 0;
        }
    }
    return 1;
}

ap_status_t ap_fl_setup(ap_store_flash_t *fl, const ap_blockdev_t *dev)
{
    const ap_blockdev_geometry_t *g = &dev->geometry;
    uint32_t sec_hdr;
    uint32_t min_record;

    if (g->sector_count < 2u || !is_pow2(g->prog_size) ||
        g->prog_size > AP_STORE_FLASH_PROG_MAX || !is_pow2(g->read_size) ||
        g->read_size > g->prog_size || g->sector_size == 0u ||
        g->sector_size % g->prog_size != 0u ||
        g->sector_size > UINT32_MAX / g->sector_count) {
        return AP_ERR_BAD_ARG;
    }
    memset(fl, 0, sizeof(*fl));
    fl->hint_part = -1;
    fl->dev = dev;
    fl->sector_size = g->sector_size;
    fl->sector_count = g->sector_count;
    fl->prog_size = g->prog_size;
    sec_hdr = ap_fl_round(fl, AP_FL_SECTOR_HDR_LEN) + 2u * g->prog_size;
    fl->rec_hdr_size = ap_fl_round(fl, AP_FL_RECORD_HDR_LEN) + 2u * g->prog_size;
    min_record = fl->rec_hdr_size + g->prog_size;
    if (g->sector_size < sec_hdr || g->sector_size - sec_hdr < min_record) {
        return AP_ERR_BAD_ARG;
    }
    fl->data_start = sec_hdr;
    return AP_OK;
}

ap_status_t ap_fl_read(ap_store_flash_t *fl, uint32_t addr, uint8_t *buf, size_t len)
{
    if (fl->dev->read(fl->dev->ctx, addr, buf, len) != AP_OK) {
        fl->broken = 1;
        return AP_ERR_STORE_IO;
    }
    return AP_OK;
}

ap_status_t ap_fl_prog(ap_store_flash_t *fl, uint32_t addr, const uint8_t *buf, size_t len)
{
    if (fl->dev->program(fl->dev->ctx, addr, buf, len) != AP_OK) {
        fl->broken = 1;
        return AP_ERR_STORE_IO;
    }
    return AP_OK;
}

ap_status_t ap_fl_erase(ap_store_flash_t *fl, uint32_t sector)
{
    if (fl->dev->erase(fl->dev->ctx, sector) != AP_OK) {
        fl->broken = 1;
        return AP_ERR_STORE_IO;
    }
    return AP_OK;
}

ap_status_t ap_fl_flag_set(ap_store_flash_t *fl, uint32_t addr)
{
    ap_status_t st = ap_fl_read(fl, addr, fl->buf, fl->prog_size);

    /* Program a unit only while it still reads erased: never twice. */
    if (st != AP_OK || !is_erased(fl, fl->buf, fl->prog_size)) {
        return st;
    }
    memset(fl->buf, (uint8_t)~fl->dev->geometry.erased_value, fl->prog_size);
    return ap_fl_prog(fl, addr, fl->buf, fl->prog_size);
}

ap_status_t ap_fl_sector_load(ap_store_flash_t *fl, uint32_t sector, ap_fl_sector_t *out)
{
    uint32_t hdr = ap_fl_round(fl, AP_FL_SECTOR_HDR_LEN);
    const uint8_t *b = fl->buf;
    ap_status_t st = ap_fl_read(fl, sector * fl->sector_size, fl->buf, fl->data_start);

    memset(out, 0, sizeof(*out));
    if (st != AP_OK) {
        return st;
    }
    out->valid = get32(b) == AP_FL_SECTOR_MAGIC && get32(b + 8) == fl->sector_size &&
                 get32(b + 12) == fl->prog_size && get32(b + 16) == ap_crc32(0, b, 16);
    out->seq = get32(b + 4);
    out->retired = !is_erased(fl, b + hdr, fl->prog_size);
    out->handover = !is_erased(fl, b + hdr + fl->prog_size, fl->prog_size);
    return AP_OK;
}

ap_status_t ap_fl_sector_open(ap_store_flash_t *fl, uint32_t sector, uint32_t seq)
{
    uint32_t hdr = ap_fl_round(fl, AP_FL_SECTOR_HDR_LEN);
    ap_status_t st = ap_fl_erase(fl, sector);

    /* Erase first, header last: a sector whose header reads valid has been
     * erased in full since, so everything after the header is ours. */
    if (st != AP_OK) {
        return st;
    }
    memset(fl->buf, fl->dev->geometry.erased_value, hdr);
    put32(fl->buf, AP_FL_SECTOR_MAGIC);
    put32(fl->buf + 4, seq);
    put32(fl->buf + 8, fl->sector_size);
    put32(fl->buf + 12, fl->prog_size);
    put32(fl->buf + 16, ap_crc32(0, fl->buf, 16));
    return ap_fl_prog(fl, sector * fl->sector_size, fl->buf, hdr);
}

ap_status_t ap_fl_rec_load(ap_store_flash_t *fl, uint32_t addr, ap_fl_rec_t *out)
{
    uint32_t hdr = ap_fl_round(fl, AP_FL_RECORD_HDR_LEN);
    uint32_t room = fl->sector_size - addr % fl->sector_size;
    const uint8_t *b = fl->buf;
    ap_status_t st;

    memset(out, 0, sizeof(*out));
    if (room < fl->rec_hdr_size) {
        return AP_ERR_STORE_EMPTY;
    }
    st = ap_fl_read(fl, addr, fl->buf, fl->rec_hdr_size);
    if (st != AP_OK) {
        return st;
    }
    if (is_erased(fl, b, fl->rec_hdr_size)) {
        return AP_ERR_STORE_EMPTY;
    }
    out->addr = addr;
    out->kind = b[2];
    out->len = get32(b + 4);
    out->seq = get32(b + 8);
    out->origin = get32(b + 12);
    out->data_crc = get32(b + 16);
    if (b[0] != (uint8_t)AP_FL_RECORD_MAGIC || b[1] != (uint8_t)(AP_FL_RECORD_MAGIC >> 8) ||
        get32(b + 20) != ap_crc32(0, b, 20) ||
        out->kind < AP_FL_KIND_RECORD || out->kind > AP_FL_KIND_COPY_LIVE ||
        out->len == 0u || out->len > room - fl->rec_hdr_size) {
        /* A torn header, or one that is not ours: its length cannot be
         * trusted, so nothing after it in this sector can be found. */
        return AP_ERR_STORE_CORRUPT;
    }
    out->footprint = fl->rec_hdr_size + ap_fl_round(fl, out->len);
    out->removed = !is_erased(fl, b + hdr, fl->prog_size);
    out->dead = out->kind == AP_FL_KIND_COPY_DEAD ||
                !is_erased(fl, b + hdr + fl->prog_size, fl->prog_size);
    return AP_OK;
}

ap_status_t ap_fl_rec_write_header(ap_store_flash_t *fl, uint32_t addr, const ap_fl_rec_t *r)
{
    uint32_t hdr = ap_fl_round(fl, AP_FL_RECORD_HDR_LEN);

    memset(fl->buf, fl->dev->geometry.erased_value, hdr);
    fl->buf[0] = (uint8_t)AP_FL_RECORD_MAGIC;
    fl->buf[1] = (uint8_t)(AP_FL_RECORD_MAGIC >> 8);
    fl->buf[2] = (uint8_t)r->kind;
    fl->buf[3] = 0;
    put32(fl->buf + 4, r->len);
    put32(fl->buf + 8, r->seq);
    put32(fl->buf + 12, r->origin);
    put32(fl->buf + 16, r->data_crc);
    put32(fl->buf + 20, ap_crc32(0, fl->buf, 20));
    return ap_fl_prog(fl, addr, fl->buf, hdr);
}

ap_status_t ap_fl_rec_check(ap_store_flash_t *fl, const ap_fl_rec_t *r)
{
    uint32_t data = r->addr + fl->rec_hdr_size;
    uint32_t done = 0;
    uint32_t crc = 0;

    while (done < r->len) {
        uint32_t chunk = ap_fl_round(fl, r->len) - done;
        uint32_t used = r->len - done;
        ap_status_t st;

        if (chunk > AP_STORE_FLASH_BUF_SIZE) {
            chunk = AP_STORE_FLASH_BUF_SIZE;
        }
        if (used > chunk) {
            used = chunk;
        }
        st = ap_fl_read(fl, data + done, fl->buf, chunk);
        if (st != AP_OK) {
            return st;
        }
        crc = ap_crc32(crc, fl->buf, used);
        done += chunk;
    }
    return crc == r->data_crc ? AP_OK : AP_ERR_STORE_CORRUPT;
}
