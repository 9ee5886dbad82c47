/*
 * The RAM store: each part is a byte ring of records, each a 4-byte
 * little-endian length followed by its bytes, either of which may wrap
 * around the end of the buffer. A ring rather than a list of fixed slots, so
 * that many small alerts and the odd large one share the same bytes.
 */
#include "alertpost/ap_store_ram.h"

#include <string.h>

static void ap_ram_ring_init(ap_store_ram_ring_t *r, uint8_t *buf, size_t size)
{
    r->buf = buf;
    r->size = size;
    r->head = 0;
    r->used = 0;
    r->count = 0;
}

static size_t ap_ram_wrap(const ap_store_ram_ring_t *r, size_t off)
{
    return off >= r->size ? off - r->size : off;
}

static void ap_ram_copy_in(ap_store_ram_ring_t *r, size_t off, const uint8_t *src, size_t n)
{
    size_t first = r->size - off < n ? r->size - off : n;

    if (n == 0) {
        return;
    }

    memcpy(r->buf + off, src, first);
    memcpy(r->buf, src + first, n - first);
}

static void ap_ram_copy_out(const ap_store_ram_ring_t *r, size_t off, uint8_t *dst, size_t n)
{
    size_t first = r->size - off < n ? r->size - off : n;

    if (n == 0) {
        return;
    }

    memcpy(dst, r->buf + off, first);
    memcpy(dst + first, r->buf, n - first);
}

static size_t ap_ram_len_at(const ap_store_ram_ring_t *r, size_t off)
{
    uint8_t b[AP_STORE_RAM_RECORD_OVERHEAD];

    ap_ram_copy_out(r, off, b, sizeof(b));
    return (size_t)b[0] | ((size_t)b[1] << 8) | ((size_t)b[2] << 16) | ((size_t)b[3] << 24);
}

static ap_status_t ap_ram_push(ap_store_ram_ring_t *r, const uint8_t *rec, size_t len)
{
    uint8_t b[AP_STORE_RAM_RECORD_OVERHEAD];
    size_t tail;

    if (len > r->size || r->size - len < AP_STORE_RAM_RECORD_OVERHEAD || len > 0xFFFFFFFFu) {
        return AP_ERR_TOO_LARGE;
    }
    if (r->size - r->used < len + AP_STORE_RAM_RECORD_OVERHEAD) {
        return AP_ERR_STORE_FULL;
    }
    b[0] = (uint8_t)len;
    b[1] = (uint8_t)(len >> 8);
    b[2] = (uint8_t)(len >> 16);
    b[3] = (uint8_t)(len >> 24);
    tail = ap_ram_wrap(r, r->head + r->used);
    ap_ram_copy_in(r, tail, b, sizeof(b));
    ap_ram_copy_in(r, ap_ram_wrap(r, tail + sizeof(b)), rec, len);
    r->used += len + sizeof(b);
    r->count++;
    return AP_OK;
}

/* Offset of the length of the record at index (index < count). */
static size_t ap_ram_offset(const ap_store_ram_ring_t *r, size_t index)
{
    size_t off = r->head;

    while (index-- > 0) {
        off = ap_ram_wrap(r, off + AP_STORE_RAM_RECORD_OVERHEAD + ap_ram_len_at(r, off));
    }
    return off;
}

static void ap_ram_pop(ap_store_ram_ring_t *r)
{
    size_t n = AP_STORE_RAM_RECORD_OVERHEAD + ap_ram_len_at(r, r->head);

    r->head = ap_ram_wrap(r, r->head + n);
    r->used -= n;
    r->count--;
    if (r->count == 0) {
        r->head = 0; /* a fresh start keeps the next record in one piece */
    }
}

static ap_status_t ap_ram_append(void *ctx, const uint8_t *rec, size_t len)
{
    ap_store_ram_t *ram = ctx;

    if (ram == NULL || rec == NULL || len == 0) {
        return AP_ERR_BAD_ARG;
    }
    return ap_ram_push(&ram->live, rec, len);
}

static ap_status_t ap_ram_read(void *ctx, ap_store_part_t part, size_t index, uint8_t *buf,
                               size_t size, size_t *len)
{
    ap_store_ram_t *ram = ctx;
    const ap_store_ram_ring_t *r;
    size_t off;
    size_t n;

    if (ram == NULL || len == NULL || buf == NULL ||
        (part != AP_STORE_LIVE && part != AP_STORE_DEAD)) {
        return AP_ERR_BAD_ARG;
    }
    r = part == AP_STORE_LIVE ? &ram->live : &ram->dead;
    if (index >= r->count) {
        return AP_ERR_STORE_EMPTY;
    }
    off = ap_ram_offset(r, index);
    n = ap_ram_len_at(r, off);
    *len = n;
    if (n > size) {
        return AP_ERR_NO_SPACE;
    }
    ap_ram_copy_out(r, ap_ram_wrap(r, off + AP_STORE_RAM_RECORD_OVERHEAD), buf, n);
    return AP_OK;
}

static ap_status_t ap_ram_remove_oldest(void *ctx)
{
    ap_store_ram_t *ram = ctx;

    if (ram == NULL) {
        return AP_ERR_BAD_ARG;
    }
    if (ram->live.count == 0) {
        return AP_ERR_STORE_EMPTY;
    }
    ap_ram_pop(&ram->live);
    return AP_OK;
}

static ap_status_t ap_ram_dead_letter(void *ctx)
{
    ap_store_ram_t *ram = ctx;
    ap_store_ram_ring_t *live;
    size_t n;
    size_t tail;
    size_t src;

    if (ram == NULL) {
        return AP_ERR_BAD_ARG;
    }
    live = &ram->live;
    if (live->count == 0) {
        return AP_ERR_STORE_EMPTY;
    }
    n = ap_ram_len_at(live, live->head);
    if (n > ram->dead.size ||
        ram->dead.size - ram->dead.used < n + AP_STORE_RAM_RECORD_OVERHEAD) {
        return AP_ERR_STORE_FULL;
    }
    /* Byte by byte from one ring to the other: no scratch buffer as large as
     * a record is needed, and the live copy goes only once the dead one is
     * whole. */
    tail = ap_ram_wrap(&ram->dead, ram->dead.head + ram->dead.used);
    src = live->head;
    for (size_t i = 0; i < n + AP_STORE_RAM_RECORD_OVERHEAD; i++) {
        ram->dead.buf[ap_ram_wrap(&ram->dead, tail + i)] = live->buf[ap_ram_wrap(live, src + i)];
    }
    ram->dead.used += n + AP_STORE_RAM_RECORD_OVERHEAD;
    ram->dead.count++;
    ap_ram_pop(live);
    return AP_OK;
}

static ap_status_t ap_ram_count(void *ctx, ap_store_part_t part, size_t *count)
{
    const ap_store_ram_t *ram = ctx;

    if (ram == NULL || count == NULL || (part != AP_STORE_LIVE && part != AP_STORE_DEAD)) {
        return AP_ERR_BAD_ARG;
    }
    *count = part == AP_STORE_LIVE ? ram->live.count : ram->dead.count;
    return AP_OK;
}

ap_status_t ap_store_ram_init(ap_store_ram_t *ram, uint8_t *buf, size_t size, size_t dead_size,
                              ap_store_t *store)
{
    size_t live_size;

    if (ram == NULL || buf == NULL || store == NULL || dead_size > size) {
        return AP_ERR_BAD_ARG;
    }
    live_size = size - dead_size;
    if (live_size <= AP_STORE_RAM_RECORD_OVERHEAD ||
        (dead_size > 0 && dead_size <= AP_STORE_RAM_RECORD_OVERHEAD)) {
        return AP_ERR_BAD_ARG;
    }
    ap_ram_ring_init(&ram->live, buf, live_size);
    ap_ram_ring_init(&ram->dead, buf + live_size, dead_size);
    memset(store, 0, sizeof(*store));
    store->ctx = ram;
    store->append = ap_ram_append;
    store->read = ap_ram_read;
    store->remove_oldest = ap_ram_remove_oldest;
    store->dead_letter = dead_size > 0 ? ap_ram_dead_letter : NULL;
    store->count = ap_ram_count;
    return AP_OK;
}
