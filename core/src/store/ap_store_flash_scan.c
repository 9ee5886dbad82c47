/*
 * Walking the flash log, and recovery on boot.
 *
 * Recovery trusts only what a completed operation leaves behind:
 * - the newest sector (highest sequence number, not retired) is the head;
 *   the log is the run of sectors before it in the ring whose sequence
 *   numbers count down by one, up to the first retired or invalid one;
 * - if the head's handover flag is set, the sector after it was being
 *   erased: whatever it holds (a half-erased old sector may still look
 *   valid) is not part of the log;
 * - in the head, a record header that is neither erased nor valid was torn:
 *   the sector is closed, since nothing after it can be located;
 * - the last record of the head, if its data fails its CRC, was torn and
 *   never acknowledged: it is marked removed;
 * - every sector in use, with the oldest right after the head, means a
 *   relocation into the reserve was cut before the oldest sector was
 *   retired: the originals count, and the head, which holds only the
 *   copies, is retired instead (see ap_fl_recover()).
 */
#include <string.h>

#include "ap_store_flash_internal.h"

/* The record at off in sector, or AP_ERR_STORE_EMPTY where the sector's
 * records end (erased space, a torn header, or the head's append point). */
static ap_status_t rec_in_sector(ap_store_flash_t *fl, uint32_t sector, uint32_t off,
                                 ap_fl_rec_t *r)
{
    ap_status_t st;

    if (off >= fl->sector_size || (sector == fl->head && off >= fl->head_off)) {
        return AP_ERR_STORE_EMPTY;
    }
    st = ap_fl_rec_load(fl, sector * fl->sector_size + off, r);
    return st == AP_ERR_STORE_CORRUPT ? AP_ERR_STORE_EMPTY : st;
}

ap_status_t ap_fl_cursor_next(ap_store_flash_t *fl, ap_fl_cursor_t *c, ap_fl_rec_t *r)
{
    uint32_t hops;

    for (hops = 0; hops <= fl->sector_count; hops++) {
        ap_status_t st = rec_in_sector(fl, c->sector, c->off, r);

        if (st == AP_OK) {
            c->off += r->footprint;
            return AP_OK;
        }
        if (st != AP_ERR_STORE_EMPTY || c->sector == fl->head) {
            return st;
        }
        c->sector = ap_fl_next_sector(fl, c->sector);
        c->off = fl->data_start;
    }
    return AP_ERR_STORE_EMPTY;
}

ap_status_t ap_fl_find(ap_store_flash_t *fl, int dead, size_t index, ap_fl_rec_t *out)
{
    uint32_t floor = 0;
    size_t rank = 0;

    /* Ranked by sequence number, not position: relocation copies records
     * out of the oldest sector past newer ones. One pass per rank from the
     * last record found, so reading in order costs one pass per record. */
    if (fl->hint_part == dead && fl->hint_index <= index) {
        if (fl->hint_index == index) {
            ap_status_t st = ap_fl_rec_load(fl, fl->hint_addr, out);

            return st == AP_OK ? AP_OK : AP_ERR_STORE_IO;
        }
        rank = fl->hint_index + 1u;
        floor = fl->hint_seq;
    }
    for (; rank <= index; rank++) {
        ap_fl_cursor_t c;
        ap_fl_rec_t r;
        ap_status_t st;
        int found = 0;

        c.sector = fl->tail;
        c.off = fl->data_start;
        while ((st = ap_fl_cursor_next(fl, &c, &r)) == AP_OK) {
            if (!r.removed && (r.dead != 0) == (dead != 0) && (rank == 0u || r.seq > floor) &&
                (!found || r.seq < out->seq)) {
                *out = r;
                found = 1;
            }
        }
        if (st != AP_ERR_STORE_EMPTY) {
            return st;
        }
        if (!found) {
            return AP_ERR_STORE_EMPTY;
        }
        floor = out->seq;
    }
    fl->hint_part = dead;
    fl->hint_index = index;
    fl->hint_seq = out->seq;
    fl->hint_addr = out->addr;
    return AP_OK;
}

ap_status_t ap_fl_census(ap_store_flash_t *fl, uint32_t sector, size_t *live,
                         size_t *dead, uint32_t *bytes)
{
    uint32_t off = fl->data_start;
    ap_fl_rec_t r;
    ap_status_t st;

    *live = 0;
    *dead = 0;
    *bytes = 0;
    while ((st = rec_in_sector(fl, sector, off, &r)) == AP_OK) {
        off += r.footprint;
        if (r.removed) {
            continue;
        }
        if (r.dead) {
            (*dead)++;
        } else {
            (*live)++;
        }
        *bytes += r.footprint;
    }
    return st == AP_ERR_STORE_EMPTY ? AP_OK : st;
}

ap_status_t ap_fl_settle_tail(ap_store_flash_t *fl)
{
    while (fl->tail != fl->head) {
        size_t live;
        size_t dead;
        uint32_t bytes;
        ap_status_t st = ap_fl_census(fl, fl->tail, &live, &dead, &bytes);

        if (st != AP_OK) {
            return st;
        }
        if (live != 0u || dead != 0u) {
            break;
        }
        /* All removed: free, to be erased when the ring comes round. */
        fl->tail = ap_fl_next_sector(fl, fl->tail);
    }
    return AP_OK;
}

/* Pick the head; a device with no sector of ours is formatted. */
static ap_status_t find_head(ap_store_flash_t *fl, ap_fl_sector_t *head)
{
    uint32_t s;
    uint32_t top_seq = 0;
    uint32_t top = 0;
    int found = 0;
    int any = 0;

    for (s = 0; s < fl->sector_count; s++) {
        ap_fl_sector_t sec;
        ap_status_t st = ap_fl_sector_load(fl, s, &sec);

        if (st != AP_OK) {
            return st;
        }
        if (sec.valid && (!any || sec.seq > top_seq)) {
            top_seq = sec.seq;
            top = s;
            any = 1;
        }
        if (sec.valid && !sec.retired && (!found || sec.seq > head->seq)) {
            *head = sec;
            fl->head = s;
            found = 1;
        }
    }
    if (!found) {
        /* Blank (or only retired sectors): start after the newest one, so
         * that the ring keeps turning and no sequence number comes back. */
        fl->head = any ? ap_fl_next_sector(fl, top) : 0u;
        memset(head, 0, sizeof(*head));
        head->seq = top_seq + 1u;
        return ap_fl_sector_open(fl, fl->head, head->seq);
    }
    return AP_OK;
}

/* AP_OK if len bytes at addr all read erased, AP_ERR_STORE_CORRUPT if not. */
static ap_status_t check_erased(ap_store_flash_t *fl, uint32_t addr, uint32_t len)
{
    uint32_t done = 0;

    while (done < len) {
        uint32_t chunk = len - done;
        uint32_t i;
        ap_status_t st;

        if (chunk > AP_STORE_FLASH_BUF_SIZE) {
            chunk = AP_STORE_FLASH_BUF_SIZE;
        }
        st = ap_fl_read(fl, addr + done, fl->buf, chunk);
        if (st != AP_OK) {
            return st;
        }
        for (i = 0; i < chunk; i++) {
            if (fl->buf[i] != fl->dev->geometry.erased_value) {
                return AP_ERR_STORE_CORRUPT;
            }
        }
        done += chunk;
    }
    return AP_OK;
}

/* Where appending resumes in the head; a torn data tail is marked removed. */
static ap_status_t scan_head(ap_store_flash_t *fl)
{
    uint32_t off = fl->data_start;
    ap_fl_rec_t r;
    ap_fl_rec_t last;
    int have_last = 0;
    ap_status_t st = AP_ERR_STORE_EMPTY;

    memset(&last, 0, sizeof(last));
    fl->head_off = fl->sector_size; /* no bound while scanning the head */
    while (off < fl->sector_size) {
        st = ap_fl_rec_load(fl, fl->head * fl->sector_size + off, &r);
        if (st != AP_OK) {
            break;
        }
        last = r;
        have_last = 1;
        off += r.footprint;
    }
    if (st == AP_ERR_STORE_IO) {
        return st;
    }
    fl->head_off = st == AP_ERR_STORE_CORRUPT ? fl->sector_size : off;
    st = check_erased(fl, fl->head * fl->sector_size + fl->head_off,
                      fl->sector_size - fl->head_off);
    if (st == AP_ERR_STORE_CORRUPT) {
        /* Something was written past the last record (a program torn in
         * an order other than first byte first, or a stray write): never
         * program over it; the next append takes a fresh sector. */
        fl->head_off = fl->sector_size;
    } else if (st != AP_OK) {
        return st;
    }
    if (have_last && !last.removed) {
        st = ap_fl_rec_check(fl, &last);
        if (st == AP_ERR_STORE_CORRUPT) {
            st = ap_fl_flag_set(fl, ap_fl_removed_flag(fl, last.addr));
        }
    }
    return st == AP_ERR_STORE_IO ? st : AP_OK;
}

/* Count live and dead records from the oldest sector of the run on. */
static ap_status_t census_run(ap_store_flash_t *fl, uint32_t run_len)
{
    ap_fl_cursor_t c;
    ap_fl_rec_t r;
    ap_status_t st;
    int have_tail = 0;

    c.sector = (fl->head + fl->sector_count - (run_len - 1u)) % fl->sector_count;
    c.off = fl->data_start;
    fl->tail = fl->head;
    fl->next_rec_seq = 1;
    fl->live_count = 0;
    fl->dead_count = 0;
    while ((st = ap_fl_cursor_next(fl, &c, &r)) == AP_OK) {
        if (r.seq >= fl->next_rec_seq) {
            fl->next_rec_seq = r.seq + 1u;
        }
        if (r.removed) {
            continue;
        }
        if (r.dead) {
            fl->dead_count++;
        } else {
            fl->live_count++;
        }
        if (!have_tail) {
            fl->tail = ap_fl_sector_of(fl, r.addr);
            have_tail = 1;
        }
    }
    return st == AP_ERR_STORE_EMPTY ? AP_OK : st;
}

static ap_status_t recover_once(ap_store_flash_t *fl)
{
    ap_fl_sector_t head;
    uint32_t run_len = 1;
    uint32_t k;
    ap_status_t st = find_head(fl, &head);

    if (st != AP_OK) {
        return st;
    }
    fl->head_seq = head.seq;
    for (k = 1; k < fl->sector_count; k++) {
        ap_fl_sector_t sec;

        if (k == fl->sector_count - 1u && head.handover) {
            break;
        }
        st = ap_fl_sector_load(fl, (fl->head + fl->sector_count - k) % fl->sector_count, &sec);
        if (st != AP_OK) {
            return st;
        }
        if (!sec.valid || sec.retired || sec.seq != head.seq - k) {
            break;
        }
        run_len++;
    }
    st = scan_head(fl);
    if (st != AP_OK) {
        return st;
    }
    return census_run(fl, run_len);
}

ap_status_t ap_fl_recover(ap_store_flash_t *fl)
{
    ap_status_t st = recover_once(fl);

    /* Every sector in use, the oldest right after the head: only a
     * relocation into the reserve does that, and it was cut before the
     * oldest sector was retired. The head then holds nothing but copies
     * (dropped above). Retiring it gives the reserve back, with its
     * predecessor's handover flag already set; the relocation is redone
     * when space is next needed. Without this the store would stay full. */
    if (st == AP_OK && fl->tail != fl->head && ap_fl_next_sector(fl, fl->head) == fl->tail) {
        st = ap_fl_flag_set(fl, fl->head * fl->sector_size + ap_fl_round(fl, AP_FL_SECTOR_HDR_LEN));
        if (st == AP_OK) {
            st = recover_once(fl);
        }
    }
    return st;
}
