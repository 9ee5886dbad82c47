/*
 * The flash log's ap_store_t: reading, removing and dead-lettering records
 * (oldest first by sequence number, see ap_fl_find()), and the table
 * itself. A state change programs one flag unit of the record (see
 * ap_store_flash_internal.h); nothing already written is rewritten.
 */
#include <string.h>

#include "ap_store_flash_internal.h"

static ap_status_t read_data(ap_store_flash_t *fl, const ap_fl_rec_t *r, uint8_t *buf)
{
    uint32_t data = r->addr + fl->rec_hdr_size;
    uint32_t whole = r->len & ~(fl->prog_size - 1u);
    ap_status_t st = AP_OK;

    if (whole != 0u) {
        st = ap_fl_read(fl, data, buf, whole);
    }
    if (st == AP_OK && whole != r->len) {
        st = ap_fl_read(fl, data + whole, fl->buf, fl->prog_size);
        if (st == AP_OK) {
            memcpy(buf + whole, fl->buf, r->len - whole);
        }
    }
    if (st != AP_OK) {
        return st;
    }
    return ap_crc32(0, buf, r->len) == r->data_crc ? AP_OK : AP_ERR_STORE_CORRUPT;
}

/* A live record that fails its CRC goes to the dead part, where a person
 * can find it; the live indices close up over it. */
static ap_status_t set_aside(ap_store_flash_t *fl, const ap_fl_rec_t *r)
{
    ap_status_t st = ap_fl_flag_set(fl, ap_fl_dead_flag(fl, r->addr));

    ap_fl_forget_hint(fl);
    if (st != AP_OK) {
        return st;
    }
    fl->live_count--;
    fl->dead_count++;
    return AP_ERR_STORE_CORRUPT;
}

static ap_status_t fl_read(void *ctx, ap_store_part_t part, size_t index, uint8_t *buf,
                           size_t size, size_t *len)
{
    ap_store_flash_t *fl = ctx;
    ap_fl_rec_t r;
    ap_status_t st;

    if (fl == NULL || len == NULL || (buf == NULL && size != 0u) ||
        (part != AP_STORE_LIVE && part != AP_STORE_DEAD)) {
        return AP_ERR_BAD_ARG;
    }
    if (fl->broken) {
        return AP_ERR_STORE_IO;
    }
    if (index >= (part == AP_STORE_LIVE ? fl->live_count : fl->dead_count)) {
        return AP_ERR_STORE_EMPTY;
    }
    st = ap_fl_find(fl, part == AP_STORE_DEAD, index, &r);
    if (st != AP_OK) {
        /* The count promised a record there: flash and memory disagree. */
        fl->broken = 1;
        return AP_ERR_STORE_IO;
    }
    *len = r.len;
    if (size < r.len || buf == NULL) {
        return AP_ERR_NO_SPACE;
    }
    st = read_data(fl, &r, buf);
    if (st == AP_ERR_STORE_CORRUPT && part == AP_STORE_LIVE) {
        return set_aside(fl, &r);
    }
    return st;
}

/* Program one flag of the oldest live record; a tail sector left with
 * nothing in it is let go. */
static ap_status_t retire_oldest(ap_store_flash_t *fl, int dead)
{
    ap_fl_rec_t r;
    ap_status_t st;

    if (fl->broken) {
        return AP_ERR_STORE_IO;
    }
    if (fl->live_count == 0u) {
        return AP_ERR_STORE_EMPTY;
    }
    st = ap_fl_find(fl, 0, 0, &r);
    ap_fl_forget_hint(fl);
    if (st == AP_OK) {
        st = ap_fl_flag_set(fl, dead ? ap_fl_dead_flag(fl, r.addr)
                                     : ap_fl_removed_flag(fl, r.addr));
    }
    if (st == AP_OK) {
        fl->live_count--;
        fl->dead_count += dead ? 1u : 0u;
        if (!dead && ap_fl_sector_of(fl, r.addr) == fl->tail) {
            st = ap_fl_settle_tail(fl);
        }
    }
    if (st != AP_OK) {
        /* The count says there is a live record: not finding it, or any
         * device error, means memory and flash no longer agree. */
        fl->broken = 1;
        return AP_ERR_STORE_IO;
    }
    return AP_OK;
}

static ap_status_t fl_remove_oldest(void *ctx)
{
    return ctx == NULL ? AP_ERR_BAD_ARG : retire_oldest(ctx, 0);
}

static ap_status_t fl_dead_letter(void *ctx)
{
    return ctx == NULL ? AP_ERR_BAD_ARG : retire_oldest(ctx, 1);
}

static ap_status_t fl_count(void *ctx, ap_store_part_t part, size_t *count)
{
    const ap_store_flash_t *fl = ctx;

    if (fl == NULL || count == NULL || (part != AP_STORE_LIVE && part != AP_STORE_DEAD)) {
        return AP_ERR_BAD_ARG;
    }
    if (fl->broken) {
        return AP_ERR_STORE_IO;
    }
    *count = part == AP_STORE_LIVE ? fl->live_count : fl->dead_count;
    return AP_OK;
}

uint32_t ap_store_flash_footprint(const ap_blockdev_t *dev, size_t rec_len)
{
    ap_store_flash_t fl;

    if (dev == NULL || ap_fl_setup(&fl, dev) != AP_OK || rec_len == 0u ||
        rec_len > fl.sector_size) {
        return 0;
    }
    return fl.rec_hdr_size + ap_fl_round(&fl, (uint32_t)rec_len);
}

size_t ap_store_flash_max_record(const ap_blockdev_t *dev)
{
    ap_store_flash_t fl;

    if (dev == NULL || ap_fl_setup(&fl, dev) != AP_OK) {
        return 0;
    }
    return fl.sector_size - fl.data_start - fl.rec_hdr_size;
}

ap_status_t ap_store_flash_init(ap_store_flash_t *fl, const ap_blockdev_t *dev,
                                ap_store_t *store)
{
    ap_status_t st;

    if (fl == NULL || dev == NULL || store == NULL || dev->read == NULL ||
        dev->program == NULL || dev->erase == NULL) {
        return AP_ERR_BAD_ARG;
    }
    st = ap_fl_setup(fl, dev);
    if (st != AP_OK) {
        return st;
    }
    st = ap_fl_recover(fl);
    if (st != AP_OK) {
        fl->broken = 1;
        return AP_ERR_STORE_IO;
    }
    memset(store, 0, sizeof(*store));
    store->ctx = fl;
    store->append = ap_fl_append;
    store->read = fl_read;
    store->remove_oldest = fl_remove_oldest;
    store->dead_letter = fl_dead_letter;
    store->count = fl_count;
    return AP_OK;
}
