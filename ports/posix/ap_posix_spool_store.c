/*
 * The ap_store_t table over an open spool, and the read-only listing.
 *
 * Every change is made on disk first and in the index after, and each one is
 * durable (the directories fsynced) before it returns AP_OK: a record that
 * was delivered must not come back after a power cut, since the queue would
 * then send it again without knowing.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ap_posix_spool_file.h"
#include "ap_posix_spool_internal.h"

/* Attempts at a free name in .corrupt/ before giving up. */
#define ASIDE_TRIES 1000u

static int part_ok(ap_store_part_t part)
{
    return part == AP_STORE_LIVE || part == AP_STORE_DEAD;
}

static ap_posix_spool_index_t *part_index(ap_posix_spool_t *sp, ap_store_part_t part)
{
    return part == AP_STORE_DEAD ? &sp->dead : &sp->live;
}

static int part_fd(const ap_posix_spool_t *sp, ap_store_part_t part)
{
    return part == AP_STORE_DEAD ? sp->dead_fd : sp->dir_fd;
}

static const char *part_label(ap_store_part_t part)
{
    return part == AP_STORE_DEAD ? "/.dead" : "";
}

static ap_status_t spool_append(void *ctx, const uint8_t *rec, size_t len)
{
    ap_posix_spool_t *sp = ctx;
    uint64_t file_len = (uint64_t)len + AP_POSIX_SPOOL_HEADER_LEN;
    const char *step = "";
    ap_status_t st;
    int err;

    if (sp == NULL || sp->dir_fd < 0 || rec == NULL || len == 0) {
        return AP_ERR_BAD_ARG;
    }
    if (len > AP_POSIX_SPOOL_MAX_RECORD_LEN) {
        return ap_posix_spool_fail(sp, AP_ERR_TOO_LARGE,
                                   "record of %zu bytes is larger than spool %s takes (%u bytes "
                                   "per record): send it without the spool",
                                   len, sp->path, (unsigned)AP_POSIX_SPOOL_MAX_RECORD_LEN);
    }
    if (sp->max_bytes != 0 && file_len > sp->max_bytes) {
        return ap_posix_spool_fail(sp, AP_ERR_TOO_LARGE,
                                   "record of %zu bytes can never fit in spool %s (limit %llu "
                                   "bytes, a %u-byte header included): raise the limit",
                                   len, sp->path, (unsigned long long)sp->max_bytes,
                                   (unsigned)AP_POSIX_SPOOL_HEADER_LEN);
    }
    if (sp->max_records != 0 && sp->live.len >= sp->max_records) {
        return ap_posix_spool_fail(sp, AP_ERR_STORE_FULL,
                                   "spool %s is full: it holds %zu records, its limit; deliver "
                                   "or raise the limit",
                                   sp->path, sp->live.len);
    }
    if (sp->max_bytes != 0 && sp->live.bytes + file_len > sp->max_bytes) {
        return ap_posix_spool_fail(sp, AP_ERR_STORE_FULL,
                                   "spool %s is full: %llu of %llu bytes used, %llu more needed; "
                                   "deliver or raise the limit",
                                   sp->path, (unsigned long long)sp->live.bytes,
                                   (unsigned long long)sp->max_bytes,
                                   (unsigned long long)file_len);
    }
    if (sp->next_seq == UINT64_MAX) {
        return ap_posix_spool_fail(sp, AP_ERR_STORE_FULL,
                                   "spool %s has used every sequence number: deliver it and "
                                   "start a new spool",
                                   sp->path);
    }
    /* Memory first: once the file is in place, indexing it cannot fail. */
    st = ap_posix_spool_index_reserve(sp, &sp->live);
    if (st != AP_OK) {
        return st;
    }
    err = ap_posix_spool_write_file(sp->dir_fd, sp->next_seq, rec, len, &step);
    if (err != 0) {
        return ap_posix_spool_fail(sp, ap_posix_spool_errno_status(err),
                                   "cannot store a record in spool %s (%s): %s", sp->path, step,
                                   strerror(err));
    }
    (void)ap_posix_spool_index_push(sp, &sp->live, sp->next_seq, file_len);
    sp->next_seq++;
    return AP_OK;
}

/* A free name in .corrupt/: the file's own, or with a counter if taken. */
static int aside_name(const ap_posix_spool_t *sp, const char *name, char *out, size_t size)
{
    struct stat st;
    unsigned i;

    (void)snprintf(out, size, "%s", name);
    for (i = 1; i <= ASIDE_TRIES; i++) {
        if (fstatat(sp->corrupt_fd, out, &st, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT) {
            return 1;
        }
        (void)snprintf(out, size, "%s.%u", name, i);
    }
    return 0;
}

/* Moves a record that failed its check to .corrupt/, and says so. */
static ap_status_t set_aside(ap_posix_spool_t *sp, ap_store_part_t part, size_t index,
                             const char *name, const char *why)
{
    char target[AP_POSIX_SPOOL_NAME_SIZE + 8u];
    int fd = part_fd(sp, part);

    if (!aside_name(sp, name, target, sizeof target)) {
        return ap_posix_spool_fail(sp, AP_ERR_STORE_IO,
                                   "record %s%s/%s is corrupt (%s), and %s/.corrupt has no free "
                                   "name for it: empty that folder",
                                   sp->path, part_label(part), name, why, sp->path);
    }
    if (renameat(fd, name, sp->corrupt_fd, target) != 0) {
        return ap_posix_spool_fail(sp, AP_ERR_STORE_IO,
                                   "record %s%s/%s is corrupt (%s) and cannot be moved to "
                                   "%s/.corrupt: %s",
                                   sp->path, part_label(part), name, why, sp->path,
                                   strerror(errno));
    }
    /* A failed sync is no loss: after a power cut the file is back in the
     * part it came from, fails its check again and is moved again. */
    (void)ap_posix_spool_fsync(sp->corrupt_fd);
    (void)ap_posix_spool_fsync(fd);
    ap_posix_spool_index_remove(part_index(sp, part), index);
    return ap_posix_spool_fail(sp, AP_ERR_STORE_CORRUPT,
                               "record %s%s/%s is corrupt (%s): moved to %s/.corrupt/%s for "
                               "inspection; the records after it are unaffected",
                               sp->path, part_label(part), name, why, sp->path, target);
}

static ap_status_t spool_read(void *ctx, ap_store_part_t part, size_t index, uint8_t *buf,
                              size_t size, size_t *len)
{
    ap_posix_spool_t *sp = ctx;
    ap_posix_spool_index_t *idx;

    if (sp == NULL || sp->dir_fd < 0 || len == NULL || !part_ok(part) ||
        (buf == NULL && size != 0)) {
        return AP_ERR_BAD_ARG;
    }
    idx = part_index(sp, part);
    /* Bounded: each turn either returns or drops one slot. */
    while (index < idx->len) {
        char name[AP_POSIX_SPOOL_NAME_SIZE];
        ap_posix_spool_file_info_t info;
        ap_posix_spool_file_result_t r;
        uint8_t none;

        ap_posix_spool_name(name, ap_posix_spool_index_at(idx, index)->seq);
        /* A zero-sized buf still asks for the length: pass a real pointer. */
        r = ap_posix_spool_read_file(part_fd(sp, part), name, buf != NULL ? buf : &none, size,
                                     &info);
        switch (r) {
        case AP_POSIX_SPOOL_FILE_OK:
            *len = info.record_len;
            return AP_OK;
        case AP_POSIX_SPOOL_FILE_SHORT_BUF:
            *len = info.record_len;
            return AP_ERR_NO_SPACE;
        case AP_POSIX_SPOOL_FILE_CORRUPT:
            return set_aside(sp, part, index, name, info.why);
        case AP_POSIX_SPOOL_FILE_GONE:
            /* Removed behind the spool's back: nothing left to deliver. */
            ap_posix_spool_index_remove(idx, index);
            break;
        default:
            return ap_posix_spool_fail(sp, AP_ERR_STORE_IO, "cannot read record %s%s/%s: %s",
                                       sp->path, part_label(part), name, strerror(info.err));
        }
    }
    return AP_ERR_STORE_EMPTY;
}

static ap_status_t spool_remove_oldest(void *ctx)
{
    ap_posix_spool_t *sp = ctx;
    char name[AP_POSIX_SPOOL_NAME_SIZE];

    if (sp == NULL || sp->dir_fd < 0) {
        return AP_ERR_BAD_ARG;
    }
    if (sp->live.len == 0) {
        return AP_ERR_STORE_EMPTY;
    }
    ap_posix_spool_name(name, ap_posix_spool_index_at(&sp->live, 0)->seq);
    if (unlinkat(sp->dir_fd, name, 0) != 0 && errno != ENOENT) {
        return ap_posix_spool_fail(sp, AP_ERR_STORE_IO,
                                   "cannot remove delivered record %s/%s: %s; it stays queued",
                                   sp->path, name, strerror(errno));
    }
    ap_posix_spool_index_remove(&sp->live, 0);
    if (ap_posix_spool_fsync(sp->dir_fd) != 0) {
        /* The unlink stands; only a power cut could bring the file back,
         * and then the Idempotency-Key makes the second delivery harmless. */
        return ap_posix_spool_fail(sp, AP_ERR_STORE_IO,
                                   "removed delivered record %s/%s, but fsync of the directory "
                                   "failed (%s): after a power cut it may be sent again",
                                   sp->path, name, strerror(errno));
    }
    return AP_OK;
}

static ap_status_t spool_dead_letter(void *ctx)
{
    ap_posix_spool_t *sp = ctx;
    char name[AP_POSIX_SPOOL_NAME_SIZE];
    ap_posix_spool_slot_t slot;
    ap_status_t st;

    if (sp == NULL || sp->dir_fd < 0) {
        return AP_ERR_BAD_ARG;
    }
    if (sp->live.len == 0) {
        return AP_ERR_STORE_EMPTY;
    }
    if (sp->max_dead_records != 0 && sp->dead.len >= sp->max_dead_records) {
        return ap_posix_spool_fail(sp, AP_ERR_STORE_FULL,
                                   "dead-letter part %s/.dead is full (%zu records, its limit): "
                                   "inspect and empty it; the record stays queued",
                                   sp->path, sp->dead.len);
    }
    st = ap_posix_spool_index_reserve(sp, &sp->dead);
    if (st != AP_OK) {
        return st;
    }
    slot = *ap_posix_spool_index_at(&sp->live, 0);
    ap_posix_spool_name(name, slot.seq);
    if (renameat(sp->dir_fd, name, sp->dead_fd, name) != 0) {
        if (errno == ENOENT) {
            /* Removed behind the spool's back: there is nothing to keep. */
            ap_posix_spool_index_remove(&sp->live, 0);
            return ap_posix_spool_fail(sp, AP_ERR_STORE_IO,
                                       "record %s/%s vanished before it could be moved to the "
                                       "dead-letter part (removed by another program)",
                                       sp->path, name);
        }
        return ap_posix_spool_fail(sp, ap_posix_spool_errno_status(errno),
                                   "cannot move record %s/%s to the dead-letter part: %s; it "
                                   "stays queued",
                                   sp->path, name, strerror(errno));
    }
    ap_posix_spool_index_remove(&sp->live, 0);
    (void)ap_posix_spool_index_push(sp, &sp->dead, slot.seq, slot.file_len);
    /* The new entry first: a power cut between the two syncs must not lose
     * the record from both folders. */
    if (ap_posix_spool_fsync(sp->dead_fd) != 0 || ap_posix_spool_fsync(sp->dir_fd) != 0) {
        return ap_posix_spool_fail(sp, AP_ERR_STORE_IO,
                                   "moved record %s/%s to .dead, but fsync failed (%s): after a "
                                   "power cut it may be queued again",
                                   sp->path, name, strerror(errno));
    }
    return AP_OK;
}

static ap_status_t spool_count(void *ctx, ap_store_part_t part, size_t *count)
{
    ap_posix_spool_t *sp = ctx;

    if (sp == NULL || sp->dir_fd < 0 || count == NULL || !part_ok(part)) {
        return AP_ERR_BAD_ARG;
    }
    *count = part_index(sp, part)->len;
    return AP_OK;
}

void ap_posix_spool_store(ap_store_t *store, ap_posix_spool_t *sp)
{
    store->ctx = sp;
    store->append = spool_append;
    store->read = spool_read;
    store->remove_oldest = spool_remove_oldest;
    store->dead_letter = spool_dead_letter;
    store->count = spool_count;
}

ap_status_t ap_posix_spool_entry(ap_posix_spool_t *sp, ap_store_part_t part, size_t index,
                                 ap_posix_spool_entry_t *entry)
{
    ap_posix_spool_file_info_t info;
    ap_posix_spool_file_result_t r;
    ap_posix_spool_index_t *idx;

    if (sp == NULL || sp->dir_fd < 0 || entry == NULL || !part_ok(part)) {
        return AP_ERR_BAD_ARG;
    }
    idx = part_index(sp, part);
    if (index >= idx->len) {
        return AP_ERR_STORE_EMPTY;
    }
    memset(entry, 0, sizeof *entry);
    entry->seq = ap_posix_spool_index_at(idx, index)->seq;
    ap_posix_spool_name(entry->name, entry->seq);
    r = ap_posix_spool_read_file(part_fd(sp, part), entry->name, NULL, 0, &info);
    if (r == AP_POSIX_SPOOL_FILE_GONE) {
        return ap_posix_spool_fail(sp, AP_ERR_STORE_IO,
                                   "record %s%s/%s was removed by another program", sp->path,
                                   part_label(part), entry->name);
    }
    if (r == AP_POSIX_SPOOL_FILE_IO) {
        return ap_posix_spool_fail(sp, AP_ERR_STORE_IO, "cannot read record %s%s/%s: %s",
                                   sp->path, part_label(part), entry->name, strerror(info.err));
    }
    entry->file_len = info.file_len;
    entry->record_len = info.record_len;
    entry->intact = r == AP_POSIX_SPOOL_FILE_OK;
    return AP_OK;
}
