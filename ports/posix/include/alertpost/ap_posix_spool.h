/**
 * @file ap_posix_spool.h
 * @brief A store (ap_store.h) over a spool directory: one file per record.
 *
 * Layout of a spool directory DIR:
 *
 *     DIR/00000000000000000042.rec   a live record (sequence number 42)
 *     DIR/.lock                      held with flock() while a process has it open
 *     DIR/.tmp-00000000000000000043  a record being written (never acknowledged)
 *     DIR/.dead/<same names>         the dead-letter part
 *     DIR/.corrupt/<name>            files that failed their check, set aside
 *
 * Only records are visible regular files; names the spool did not write are
 * left alone and ignored. File names sort in enqueue order: the sequence
 * number is 20 zero-padded decimal digits, and the next one is derived at
 * open from the largest in the live and dead parts, so the order survives
 * restarts.
 *
 * Each record file is a 16-byte header of the spool's own (magic "APSP",
 * format version, payload length, CRC-32 of the payload) and the record.
 * The header catches what the queue's own check cannot tell apart from a
 * bad alert: a file cut short, a hand edit, a file from something else.
 *
 * Durability: append() writes a temporary dot-file, fsyncs it, renames it
 * into place and fsyncs the directory before it returns AP_OK, so a kill -9
 * or a crash of the machine at any instant loses no acknowledged record
 * (given a disk that honours fsync). Temporary files left by a crash were
 * never acknowledged: open removes them. remove_oldest() and dead_letter()
 * fsync the directories too, so a delivered record does not come back after
 * a power cut. One departure from ap_store.h: when that fsync fails,
 * remove_oldest() answers AP_ERR_STORE_IO although the file is already
 * unlinked (index 0 is then the next record); only a power cut before the
 * disk catches up could bring it back, as a harmless duplicate.
 *
 * Exclusion: open takes an exclusive flock() on DIR/.lock (and writes its
 * process id there) for as long as the spool is open, so two processes never
 * deliver from one spool at once. flock() is advisory and, on some network
 * file systems, local to one machine: keep a spool on a local disk.
 *
 * Unlike the core, this port allocates: an index of the records in each
 * part (16 bytes per record) on the heap, freed by ap_posix_spool_close().
 * Not thread-safe: one spool handle is used by one thread at a time.
 */
#ifndef ALERTPOST_AP_POSIX_SPOOL_H
#define ALERTPOST_AP_POSIX_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "alertpost/ap_store.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Capacity of the one-line error text, NUL included. */
#define AP_POSIX_SPOOL_ERROR_SIZE 384u
/** Capacity of the stored directory path, NUL included. */
#define AP_POSIX_SPOOL_PATH_SIZE 256u
/** Capacity of a record file name ("<20 digits>.rec"), NUL included. */
#define AP_POSIX_SPOOL_NAME_SIZE 32u
/** Bytes of the spool's header in front of every record. */
#define AP_POSIX_SPOOL_HEADER_LEN 16u
/**
 * The largest record the spool writes or believes a header about. Alerts
 * are small; the bound keeps a damaged length field from asking for a
 * gigabyte. Override with -DAP_POSIX_SPOOL_MAX_RECORD_LEN=n.
 */
#ifndef AP_POSIX_SPOOL_MAX_RECORD_LEN
#define AP_POSIX_SPOOL_MAX_RECORD_LEN 16777216u /* 16 MiB */
#endif

/** Settings for ap_posix_spool_open(). Zero means "no limit" / "no". */
typedef struct ap_posix_spool_config {
    /** The spool directory. Required; shorter than AP_POSIX_SPOOL_PATH_SIZE. */
    const char *path;
    /**
     * Create the directory (the last component only, mode 0700) if it does
     * not exist. Off by default: a mistyped path should be an error, not a
     * new empty spool that nobody delivers.
     */
    int create;
    /** Most live records held at once; 0 = no limit. */
    size_t max_records;
    /** Most bytes of live record files (headers included); 0 = no limit. */
    uint64_t max_bytes;
    /** Most records in the dead-letter part; 0 = no limit. */
    size_t max_dead_records;
} ap_posix_spool_config_t;

/** One slot of a part's index (internal; in the header for sizeof only). */
typedef struct ap_posix_spool_slot {
    uint64_t seq;       /* the file's sequence number */
    uint64_t file_len;  /* bytes of the file when indexed */
} ap_posix_spool_slot_t;

/** One part's index, oldest first (internal). */
typedef struct ap_posix_spool_index {
    ap_posix_spool_slot_t *slots;  /* heap; slots[head .. head+len) are live */
    size_t head;
    size_t len;
    size_t cap;
    uint64_t bytes;                /* sum of file_len */
} ap_posix_spool_index_t;

/** An open spool. Caller-owned; treat the fields as private. */
typedef struct ap_posix_spool {
    int dir_fd;        /* -1 when closed */
    int dead_fd;
    int corrupt_fd;
    int lock_fd;
    uint64_t next_seq;
    ap_posix_spool_index_t live;
    ap_posix_spool_index_t dead;
    size_t max_records;
    uint64_t max_bytes;
    size_t max_dead_records;
    long busy_pid;     /* after a refused open: the lock holder, -1 unknown, 0 none */
    char path[AP_POSIX_SPOOL_PATH_SIZE];
    char error[AP_POSIX_SPOOL_ERROR_SIZE];
} ap_posix_spool_t;

/** What ap_posix_spool_entry() tells about one record, without sending it. */
typedef struct ap_posix_spool_entry {
    /** File name inside the part's folder ("00000000000000000042.rec"). */
    char name[AP_POSIX_SPOOL_NAME_SIZE];
    /** Its sequence number (enqueue order). */
    uint64_t seq;
    /** Bytes of the file, header included. */
    uint64_t file_len;
    /** Bytes of the record (0 when the header is unreadable). */
    size_t record_len;
    /** 1 when header, length and CRC-32 check; 0 when a read would set it aside. */
    int intact;
} ap_posix_spool_entry_t;

/**
 * @brief Open (lock, scan, clean up) a spool directory.
 *
 * Creates DIR/.dead and DIR/.corrupt if missing, removes leftover temporary
 * files, and indexes the records of both parts. Records are not checked
 * here; read() checks each one before handing it out.
 *
 * @param sp   Caller-owned handle; on any result, ap_posix_spool_error()
 *             explains a failure, and ap_posix_spool_close() is safe.
 * @param cfg  Path and limits; the path is copied.
 * @return AP_OK (the spool is locked by this process until close);
 *         AP_ERR_BAD_ARG (NULL, no path, or a path too long);
 *         AP_ERR_STORE_IO (the directory is missing and create is off, is
 *         not a directory, cannot be written, or is busy: another process
 *         holds its lock, see ap_posix_spool_busy_pid(); or no memory
 *         for the index).
 */
ap_status_t ap_posix_spool_open(ap_posix_spool_t *sp, const ap_posix_spool_config_t *cfg);

/**
 * @brief Release the lock, close the directory and free the index.
 * Safe on a handle whose open failed, and twice.
 */
void ap_posix_spool_close(ap_posix_spool_t *sp);

/**
 * @brief Fill store with the spool's functions over sp (which must stay
 * open while store is used). Every status the store returns is the one its
 * contract in ap_store.h lists; ENOSPC and EDQUOT are AP_ERR_STORE_FULL,
 * other system errors AP_ERR_STORE_IO.
 */
void ap_posix_spool_store(ap_store_t *store, ap_posix_spool_t *sp);

/**
 * @brief The last failure as one line naming the path and the cause ("" if
 * none). Also set, with the status AP_ERR_STORE_CORRUPT, when a record was
 * set aside: it names where it went. Never NULL.
 */
const char *ap_posix_spool_error(const ap_posix_spool_t *sp);

/**
 * @brief After ap_posix_spool_open() failed because the spool is busy: the
 * process id written by the holder of the lock (-1 if it could not be read).
 * @return 0 when the last open was not refused for that reason.
 */
long ap_posix_spool_busy_pid(const ap_posix_spool_t *sp);

/**
 * @brief Describe the record at index (0 = oldest) of a part, for listing.
 * Reads and checks the file but changes nothing: a corrupt record is
 * reported with intact = 0 and left where it is.
 * @return AP_OK with *entry set; AP_ERR_STORE_EMPTY (no record at index);
 *         AP_ERR_STORE_IO (the file cannot be read); AP_ERR_BAD_ARG.
 */
ap_status_t ap_posix_spool_entry(ap_posix_spool_t *sp, ap_store_part_t part, size_t index,
                                 ap_posix_spool_entry_t *entry);

#ifdef __cplusplus
}
#endif

#endif /* ALERTPOST_AP_POSIX_SPOOL_H */
