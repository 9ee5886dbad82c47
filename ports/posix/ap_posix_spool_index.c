/*
 * The in-memory index of one spool part: sequence numbers oldest first, as a
 * window [head, head + len) over a heap array. Removing the oldest (the
 * common case, once per delivered alert) only moves head; the array is
 * compacted when it needs to grow, so a long flush costs no memmove per
 * record.
 */
#include <stdlib.h>
#include <string.h>

#include "ap_posix_spool_internal.h"

#define FIRST_CAP 64u

ap_status_t ap_posix_spool_index_reserve(ap_posix_spool_t *sp, ap_posix_spool_index_t *idx)
{
    ap_posix_spool_slot_t *grown;
    size_t cap;

    if (idx->head + idx->len < idx->cap) {
        return AP_OK;
    }
    if (idx->head > 0) {
        memmove(idx->slots, idx->slots + idx->head, idx->len * sizeof *idx->slots);
        idx->head = 0;
        if (idx->len < idx->cap) {
            return AP_OK;
        }
    }
    cap = idx->cap == 0 ? FIRST_CAP : idx->cap * 2u;
    grown = cap > idx->cap && cap <= SIZE_MAX / sizeof *grown
                ? realloc(idx->slots, cap * sizeof *grown)
                : NULL;
    if (grown == NULL) {
        return ap_posix_spool_fail(sp, AP_ERR_STORE_FULL,
                                   "spool %s: no memory to index %zu more records", sp->path,
                                   cap - idx->cap);
    }
    idx->slots = grown;
    idx->cap = cap;
    return AP_OK;
}

ap_status_t ap_posix_spool_index_push(ap_posix_spool_t *sp, ap_posix_spool_index_t *idx,
                                      uint64_t seq, uint64_t file_len)
{
    ap_status_t st = ap_posix_spool_index_reserve(sp, idx);

    if (st != AP_OK) {
        return st;
    }
    idx->slots[idx->head + idx->len].seq = seq;
    idx->slots[idx->head + idx->len].file_len = file_len;
    idx->len++;
    idx->bytes += file_len;
    return AP_OK;
}

ap_posix_spool_slot_t *ap_posix_spool_index_at(ap_posix_spool_index_t *idx, size_t i)
{
    return &idx->slots[idx->head + i];
}

void ap_posix_spool_index_remove(ap_posix_spool_index_t *idx, size_t i)
{
    ap_posix_spool_slot_t *s = ap_posix_spool_index_at(idx, i);

    idx->bytes -= s->file_len;
    if (i == 0) {
        idx->head++;
    } else {
        memmove(s, s + 1, (idx->len - i - 1u) * sizeof *s);
    }
    idx->len--;
    if (idx->len == 0) {
        idx->head = 0;
    }
}

static int by_seq(const void *a, const void *b)
{
    uint64_t x = ((const ap_posix_spool_slot_t *)a)->seq;
    uint64_t y = ((const ap_posix_spool_slot_t *)b)->seq;

    return (x > y) - (x < y);
}

void ap_posix_spool_index_sort(ap_posix_spool_index_t *idx)
{
    if (idx->len > 1u) {
        qsort(idx->slots + idx->head, idx->len, sizeof *idx->slots, by_seq);
    }
}

void ap_posix_spool_index_free(ap_posix_spool_index_t *idx)
{
    free(idx->slots);
    memset(idx, 0, sizeof *idx);
}
