/*
 * One spool record file: its name, its header, writing it atomically and
 * reading it back with every check. Internal to the spool (ap_posix_spool.c);
 * the directory, the lock and the indexes are not this file's business.
 */
#ifndef ALERTPOST_AP_POSIX_SPOOL_FILE_H
#define ALERTPOST_AP_POSIX_SPOOL_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "alertpost/ap_posix_spool.h"

/* Prefix of a record being written; such a file was never acknowledged. */
#define AP_POSIX_SPOOL_TMP_PREFIX ".tmp-"

typedef enum ap_posix_spool_file_result {
    AP_POSIX_SPOOL_FILE_OK = 0,
    AP_POSIX_SPOOL_FILE_GONE,       /* no such file (removed by someone else) */
    AP_POSIX_SPOOL_FILE_CORRUPT,    /* failed a check; why says which */
    AP_POSIX_SPOOL_FILE_SHORT_BUF,  /* intact header, the record does not fit buf */
    AP_POSIX_SPOOL_FILE_IO          /* a system call failed; errno in *err */
} ap_posix_spool_file_result_t;

/* What a read found, for the caller's message. */
typedef struct ap_posix_spool_file_info {
    uint64_t file_len;     /* bytes of the file (0 if not reached) */
    size_t record_len;     /* from the header (0 if not reached) */
    int err;               /* errno for AP_POSIX_SPOOL_FILE_IO */
    char why[128];         /* for AP_POSIX_SPOOL_FILE_CORRUPT */
} ap_posix_spool_file_info_t;


/* fsync(fd), again after EINTR; 0 or the errno (errno is left set too). A
 * directory's descriptor makes the entries created or removed in it durable. */
int ap_posix_spool_fsync(int fd);

/* "<20 digits>.rec" for seq, into name[AP_POSIX_SPOOL_NAME_SIZE]. */
void ap_posix_spool_name(char *name, uint64_t seq);

/* 1 and *seq set when name is exactly a record name the spool writes. */
int ap_posix_spool_parse_name(const char *name, uint64_t *seq);

/*
 * Write rec as record seq in dir_fd: temporary dot-file, write, fsync,
 * rename, fsync of the directory. Returns 0, or an errno with *step naming
 * the call that failed; on failure nothing of the record is left behind.
 */
int ap_posix_spool_write_file(int dir_fd, uint64_t seq, const uint8_t *rec, size_t len,
                              const char **step);

/*
 * Read and check the record file name in dir_fd. With buf != NULL the record
 * is copied into buf (size bytes); with buf == NULL it is only checked.
 */
ap_posix_spool_file_result_t ap_posix_spool_read_file(int dir_fd, const char *name,
                                                      uint8_t *buf, size_t size,
                                                      ap_posix_spool_file_info_t *info);

#endif /* ALERTPOST_AP_POSIX_SPOOL_FILE_H */
