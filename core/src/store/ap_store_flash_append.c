/*
 * Appending to the flash log, taking the next sector of the ring into use,
 * and relocating dead records out of the oldest sector when the reserve
 * sector is the only one left.
 *
 * Power-cut order, step by step (see ap_store_flash_scan.c for how each
 * leftover is read back):
 * - append: header, then data. A cut leaves a torn header (the sector is
 *   closed), or a valid header with torn data (marked removed on boot), or
 *   the whole record (present, though not acknowledged).
 * - taking sector n+1: set n's handover flag, erase n+1, write its header.
 *   Until the header is written, n+1 is ignored whatever it holds.
 * - relocation: take the reserve sector, copy each dead record of the
 *   oldest sector into it, then set the oldest sector's retired flag. Until
 *   that flag is set the originals count and the copies are dropped.
 */
#include <string.h>

#include "ap_store_flash_internal.h"

/* Erase the next sector of the ring and make it the head. */
static ap_status_t take_next_sector(ap_store_flash_t *fl)
{
    uint32_t next = ap_fl_next_sector(fl, fl->head);
    uint32_t handover = fl->head * fl->sector_size + ap_fl_round(fl, AP_FL_SECTOR_HDR_LEN) +
                        fl->prog_size;
    ap_status_t st = ap_fl_flag_set(fl, handover);

    if (st == AP_OK) {
        st = ap_fl_sector_open(fl, next, fl->head_seq + 1u);
    }
    if (st != AP_OK) {
        return st;
    }
    fl->head = next;
    fl->head_seq++;
    fl->head_off = fl->data_start;
    return ap_fl_settle_tail(fl);
}

/* Copy the data of src into the record at dst (header already written). */
static ap_status_t copy_data(ap_store_flash_t *fl, const ap_fl_rec_t *src, uint32_t dst)
{
    uint32_t total = ap_fl_round(fl, src->len);
    uint32_t done = 0;

    while (done < total) {
        uint32_t left = total - done;
        uint32_t chunk = left < AP_STORE_FLASH_BUF_SIZE ? left : AP_STORE_FLASH_BUF_SIZE;
        ap_status_t st = ap_fl_read(fl, src->addr + fl->rec_hdr_size + done, fl->buf, chunk);

        if (st == AP_OK) {
            st = ap_fl_prog(fl, dst + fl->rec_hdr_size + done, fl->buf, chunk);
        }
        if (st != AP_OK) {
            return st;
        }
        done += chunk;
    }
    return AP_OK;
}

/* Copy the dead records of sector old (the tail) into the fresh head, then
 * retire old. The copies keep their sequence numbers, so the dead part's order
 * does not change. */
static ap_status_t relocate(ap_store_flash_t *fl, uint32_t old, uint32_t old_seq)
{
    uint32_t off = fl->data_start;
    uint32_t head_base = fl->head * fl->sector_size;
    ap_fl_rec_t r;
    ap_status_t st = AP_ERR_STORE_EMPTY;

    while (off < fl->sector_size) {
        st = ap_fl_rec_load(fl, old * fl->sector_size + off, &r);
        if (st != AP_OK) {
            break;
        }
        off += r.footprint;
        if (r.removed || !r.dead) {
            continue;
        }
        r.kind = AP_FL_KIND_RELOCATED;
        r.origin = old_seq;
        st = ap_fl_rec_write_header(fl, head_base + fl->head_off, &r);
        if (st == AP_OK) {
            st = copy_data(fl, &r, head_base + fl->head_off);
        }
        if (st != AP_OK) {
            return st;
        }
        fl->head_off += r.footprint;
    }
    if (st == AP_ERR_STORE_IO) {
        return st;
    }
    st = ap_fl_flag_set(fl, old * fl->sector_size + ap_fl_round(fl, AP_FL_SECTOR_HDR_LEN));
    if (st != AP_OK) {
        return st;
    }
    fl->tail = ap_fl_next_sector(fl, old);
    return ap_fl_settle_tail(fl);
}

/* Make room for footprint bytes in the head, or say the store is full. */
static ap_status_t make_room(ap_store_flash_t *fl, uint32_t footprint)
{
    uint32_t used = (fl->head + fl->sector_count - fl->tail) % fl->sector_count + 1u;
    uint32_t capacity = fl->sector_size - fl->data_start;
    uint32_t tail = fl->tail;
    uint32_t tail_seq = fl->head_seq - (used - 1u);
    size_t live;
    size_t dead;
    uint32_t dead_bytes;
    ap_status_t st;

    if (used + 2u <= fl->sector_count) {
        return take_next_sector(fl);
    }
    if (used + 1u != fl->sector_count) {
        return AP_ERR_STORE_FULL;
    }
    /* Only the reserve is left: usable only if it lets the tail go, and
     * only if the record then fits beside the tail's dead records, so that
     * a full store does not churn through erases. */
    st = ap_fl_census(fl, fl->tail, &live, &dead, &dead_bytes);
    if (st != AP_OK) {
        return st;
    }
    if (live != 0u || dead_bytes > capacity - footprint) {
        return AP_ERR_STORE_FULL;
    }
    st = take_next_sector(fl);
    if (st == AP_OK && dead != 0u) {
        /* A tail with no record left at all was let go by the take. */
        st = relocate(fl, tail, tail_seq);
    }
    return st;
}

static ap_status_t write_record(ap_store_flash_t *fl, uint32_t addr, const uint8_t *rec,
                                size_t len)
{
    uint32_t whole = (uint32_t)len & ~(fl->prog_size - 1u);
    uint32_t rest = (uint32_t)len - whole;
    ap_fl_rec_t r;
    ap_status_t st;

    memset(&r, 0, sizeof(r));
    r.kind = AP_FL_KIND_RECORD;
    r.len = (uint32_t)len;
    r.seq = fl->next_rec_seq;
    r.origin = UINT32_MAX;
    r.data_crc = ap_fl_crc32(0, rec, len);
    st = ap_fl_rec_write_header(fl, addr, &r);
    if (st == AP_OK && whole != 0u) {
        st = ap_fl_prog(fl, addr + fl->rec_hdr_size, rec, whole);
    }
    if (st == AP_OK && rest != 0u) {
        memset(fl->buf, fl->dev->geometry.erased_value, fl->prog_size);
        memcpy(fl->buf, rec + whole, rest);
        st = ap_fl_prog(fl, addr + fl->rec_hdr_size + whole, fl->buf, fl->prog_size);
    }
    return st;
}

ap_status_t ap_fl_append(void *ctx, const uint8_t *rec, size_t len)
{
    ap_store_flash_t *fl = ctx;
    uint32_t footprint;
    uint32_t addr;
    ap_status_t st;

    if (fl == NULL || rec == NULL || len == 0u) {
        return AP_ERR_BAD_ARG;
    }
    if (fl->broken) {
        return AP_ERR_STORE_IO;
    }
    if (len > fl->sector_size - fl->data_start - fl->rec_hdr_size) {
        return AP_ERR_TOO_LARGE;
    }
    footprint = fl->rec_hdr_size + ap_fl_round(fl, (uint32_t)len);
    if (footprint > fl->sector_size - fl->head_off) {
        st = make_room(fl, footprint);
        if (st != AP_OK) {
            return st;
        }
    }
    addr = fl->head * fl->sector_size + fl->head_off;
    st = write_record(fl, addr, rec, len);
    if (st != AP_OK) {
        return st;
    }
    fl->head_off += footprint;
    fl->next_rec_seq++;
    if (fl->live_count++ == 0u) {
        fl->oldest = addr;
    }
    return AP_OK;
}
