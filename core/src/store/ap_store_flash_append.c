/*
 * Appending to the flash log, taking the next sector of the ring into use,
 * and relocating the records that still count out of the oldest sector when
 * the reserve sector is the only one left.
 *
 * Power-cut order, step by step (see ap_store_flash_scan.c for how each
 * leftover is read back):
 * - append: header, then data. A cut leaves a torn header (the sector is
 *   closed), or a valid header with torn data (marked removed on boot), or
 *   the whole record (present, though not acknowledged).
 * - taking sector n+1: set n's handover flag, erase n+1, write its header.
 *   Until the header is written, n+1 is ignored whatever it holds.
 * - relocation: take the reserve sector, copy each live or dead record of
 *   the oldest sector into it, then set the oldest sector's retired flag.
 *   Until that flag is set the originals count, and recovery retires the
 *   sector holding the copies instead.
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

/* Copy the records of sector old (the tail) that are not removed into the
 * fresh head, then retire old. The copies keep their sequence numbers, by
 * which both parts are ordered, so no order changes. */
static ap_status_t relocate(ap_store_flash_t *fl, uint32_t old, uint32_t old_seq)
{
    uint32_t off = fl->data_start;
    uint32_t head_base = fl->head * fl->sector_size;
    ap_fl_rec_t r;
    ap_status_t st = AP_ERR_STORE_EMPTY;

    ap_fl_forget_hint(fl);
    while (off < fl->sector_size) {
        st = ap_fl_rec_load(fl, old * fl->sector_size + off, &r);
        if (st != AP_OK) {
            break;
        }
        off += r.footprint;
        if (r.removed) {
            continue;
        }
        r.kind = r.dead ? AP_FL_KIND_COPY_DEAD : AP_FL_KIND_COPY_LIVE;
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

/* Worth relocating the tail into the reserve? Yes if the new record then
 * fits beside its copies, or if the sector after it holds nothing (the
 * tail's records were all that kept the sectors behind it from being
 * reused). Otherwise the store is full: no erase is spent for nothing. */
static ap_status_t worth_moving(ap_store_flash_t *fl, uint32_t footprint, int *fits,
                                size_t *records)
{
    uint32_t capacity = fl->sector_size - fl->data_start;
    uint32_t behind = ap_fl_next_sector(fl, fl->tail);
    size_t live;
    size_t dead;
    uint32_t bytes;
    ap_status_t st = ap_fl_census(fl, fl->tail, &live, &dead, &bytes);

    *fits = bytes <= capacity - footprint;
    *records = live + dead;
    if (st != AP_OK || *fits) {
        return st;
    }
    if (behind == fl->head) {
        return AP_ERR_STORE_FULL;
    }
    st = ap_fl_census(fl, behind, &live, &dead, &bytes);
    if (st == AP_OK && live + dead != 0u) {
        st = AP_ERR_STORE_FULL;
    }
    return st;
}

/* Make room for footprint bytes in the head, or say the store is full
 * (having changed nothing). */
static ap_status_t make_room(ap_store_flash_t *fl, uint32_t footprint)
{
    uint32_t round;

    for (round = 0; round < fl->sector_count; round++) {
        uint32_t used = (fl->head + fl->sector_count - fl->tail) % fl->sector_count + 1u;
        uint32_t tail = fl->tail;
        uint32_t tail_seq = fl->head_seq - (used - 1u);
        size_t records;
        int fits;
        ap_status_t st;

        if (used + 2u <= fl->sector_count) {
            return take_next_sector(fl);
        }
        if (used + 1u != fl->sector_count) {
            return AP_ERR_STORE_FULL;
        }
        /* Only the reserve is left: copy the tail's records that still
         * count into it and let the tail go. */
        st = worth_moving(fl, footprint, &fits, &records);
        if (st == AP_OK) {
            st = take_next_sector(fl);
        }
        if (st == AP_OK && records != 0u) {
            /* (A tail with no record left at all was let go by the take.) */
            st = relocate(fl, tail, tail_seq);
        }
        if (st != AP_OK || fits) {
            return st;
        }
    }
    return AP_ERR_STORE_FULL;
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
    r.data_crc = ap_crc32(0, rec, len);
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
    fl->live_count++;
    return AP_OK;
}
