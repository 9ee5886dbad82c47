/*
 * One spool record file (see ap_posix_spool_file.h).
 *
 * The header is little-endian and fixed at 16 bytes:
 *   0  "APSP"  magic: the file was written by this spool
 *   4  1       format version
 *   5  0 0 0   reserved, zero (a set bit means damage or a newer format)
 *   8  u32     record length; the file must be exactly 16 + this long
 *  12  u32     CRC-32 of the record
 * The exact-size rule catches a file cut short by a crash of a writer that
 * did not rename atomically (an older version, a copy) and one appended to;
 * the CRC catches edits inside it.
 */
#define _POSIX_C_SOURCE 200809L

#include "ap_posix_spool_file.h"

#include "alertpost/ap_crc32.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define NAME_DIGITS 20u
#define NAME_SUFFIX ".rec"
#define FORMAT_VERSION 1u
/* Not an errno: read_all()'s "the file is shorter than it said". */
#define ENDED_EARLY (-1)

static const uint8_t k_magic[4] = {'A', 'P', 'S', 'P'};

static void put_u32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_u32le(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

void ap_posix_spool_name(char *name, uint64_t seq)
{
    (void)snprintf(name, AP_POSIX_SPOOL_NAME_SIZE, "%020" PRIu64 NAME_SUFFIX, seq);
}

int ap_posix_spool_parse_name(const char *name, uint64_t *seq)
{
    uint64_t v = 0;
    size_t i;

    if (strlen(name) != NAME_DIGITS + sizeof NAME_SUFFIX - 1u ||
        strcmp(name + NAME_DIGITS, NAME_SUFFIX) != 0) {
        return 0;
    }
    for (i = 0; i < NAME_DIGITS; i++) {
        unsigned d = (unsigned)(name[i] - '0');

        if (d > 9u || v > (UINT64_MAX - d) / 10u) {
            return 0;
        }
        v = v * 10u + d;
    }
    *seq = v;
    return 1;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads exactly len bytes at off; ENDED_EARLY if the file ends first. */
static int read_all(int fd, uint8_t *p, size_t len, off_t off)
{
    while (len > 0) {
        ssize_t n = pread(fd, p, len, off);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno;
        }
        if (n == 0) {
            return ENDED_EARLY;
        }
        p += n;
        off += n;
        len -= (size_t)n;
    }
    return 0;
}

int ap_posix_spool_fsync(int fd)
{
    int rc;

    do {
        rc = fsync(fd);
    } while (rc != 0 && errno == EINTR);
    return rc == 0 ? 0 : errno;
}

/* The temporary file: created, filled and made durable, still invisible. */
static int write_temp(int dir_fd, const char *tmp, const uint8_t *rec, size_t len,
                      const char **step)
{
    uint8_t head[AP_POSIX_SPOOL_HEADER_LEN] = {0};
    int fd;
    int err;

    memcpy(head, k_magic, sizeof k_magic);
    head[4] = FORMAT_VERSION;
    put_u32le(head + 8, (uint32_t)len);
    put_u32le(head + 12, ap_crc32(0, rec, len));

    /* O_TRUNC: a leftover of the same name was never acknowledged. */
    fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        *step = "creating a temporary file";
        return errno;
    }
    *step = "writing";
    err = write_all(fd, head, sizeof head);
    if (err == 0) {
        err = write_all(fd, rec, len);
    }
    if (err == 0) {
        *step = "fsync of the record";
        err = ap_posix_spool_fsync(fd);
    }
    if (close(fd) != 0 && err == 0) {
        *step = "closing the record";
        err = errno;
    }
    return err;
}

int ap_posix_spool_write_file(int dir_fd, uint64_t seq, const uint8_t *rec, size_t len,
                              const char **step)
{
    char name[AP_POSIX_SPOOL_NAME_SIZE];
    char tmp[AP_POSIX_SPOOL_NAME_SIZE + sizeof AP_POSIX_SPOOL_TMP_PREFIX];
    int err;

    ap_posix_spool_name(name, seq);
    (void)snprintf(tmp, sizeof tmp, AP_POSIX_SPOOL_TMP_PREFIX "%020" PRIu64, seq);

    err = write_temp(dir_fd, tmp, rec, len, step);
    if (err == 0 && renameat(dir_fd, tmp, dir_fd, name) != 0) {
        *step = "renaming the record into place";
        err = errno;
    }
    if (err != 0) {
        (void)unlinkat(dir_fd, tmp, 0);
        return err;
    }
    /* Until the directory is synced the rename itself may not survive a
     * power cut, so the record is not acknowledged before this. */
    err = ap_posix_spool_fsync(dir_fd);
    if (err != 0) {
        *step = "fsync of the spool directory";
        (void)unlinkat(dir_fd, name, 0);
    }
    return err;
}

#ifdef __GNUC__
static ap_posix_spool_file_result_t corrupt(ap_posix_spool_file_info_t *info, const char *fmt,
                                            ...) __attribute__((format(printf, 2, 3)));
#endif

static ap_posix_spool_file_result_t corrupt(ap_posix_spool_file_info_t *info, const char *fmt,
                                            ...)
{
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(info->why, sizeof info->why, fmt, ap);
    va_end(ap);
    return AP_POSIX_SPOOL_FILE_CORRUPT;
}

static ap_posix_spool_file_result_t io_error(ap_posix_spool_file_info_t *info, int err)
{
    info->err = err;
    return AP_POSIX_SPOOL_FILE_IO;
}

static ap_posix_spool_file_result_t check_header(const uint8_t *head,
                                                 ap_posix_spool_file_info_t *info)
{
    uint64_t len = get_u32le(head + 8);

    if (memcmp(head, k_magic, sizeof k_magic) != 0) {
        return corrupt(info, "no spool header: not written by this spool");
    }
    if (head[4] != FORMAT_VERSION || head[5] != 0 || head[6] != 0 || head[7] != 0) {
        return corrupt(info, "header version/flags %u/%06" PRIx32 " unknown", (unsigned)head[4],
                       get_u32le(head + 4) >> 8);
    }
    if (len == 0 || len > AP_POSIX_SPOOL_MAX_RECORD_LEN) {
        return corrupt(info, "header declares %" PRIu64 " bytes, outside 1..%u", len,
                       (unsigned)AP_POSIX_SPOOL_MAX_RECORD_LEN);
    }
    if (info->file_len != AP_POSIX_SPOOL_HEADER_LEN + len) {
        return corrupt(info, "%" PRIu64 " bytes long, its header declares %" PRIu64
                             " (cut short or appended to)",
                       info->file_len, (uint64_t)AP_POSIX_SPOOL_HEADER_LEN + len);
    }
    info->record_len = (size_t)len;
    return AP_POSIX_SPOOL_FILE_OK;
}

/* Reads the record into buf, or through a small bounce buffer to check it. */
static int crc_of_body(int fd, uint8_t *buf, size_t len, uint32_t *crc)
{
    uint8_t chunk[4096] = {0};
    size_t done = 0;

    *crc = 0;
    while (done < len) {
        uint8_t *dst = buf != NULL ? buf + done : chunk;
        size_t n = len - done;
        int err;

        if (buf == NULL && n > sizeof chunk) {
            n = sizeof chunk;
        }
        err = read_all(fd, dst, n, (off_t)(AP_POSIX_SPOOL_HEADER_LEN + done));
        if (err != 0) {
            return err;
        }
        *crc = ap_crc32(*crc, dst, n);
        done += n;
    }
    return 0;
}

static ap_posix_spool_file_result_t read_open(int fd, uint8_t *buf, size_t size,
                                              ap_posix_spool_file_info_t *info)
{
    uint8_t head[AP_POSIX_SPOOL_HEADER_LEN];
    struct stat st;
    ap_posix_spool_file_result_t r;
    uint32_t crc;
    int err;

    if (fstat(fd, &st) != 0) {
        return io_error(info, errno);
    }
    if (!S_ISREG(st.st_mode)) {
        return corrupt(info, "not a regular file");
    }
    info->file_len = (uint64_t)st.st_size;
    if (info->file_len < AP_POSIX_SPOOL_HEADER_LEN) {
        return corrupt(info, "%" PRIu64 " bytes long, shorter than the %u-byte header",
                       info->file_len, (unsigned)AP_POSIX_SPOOL_HEADER_LEN);
    }
    err = read_all(fd, head, sizeof head, 0);
    if (err != 0) {
        return err == ENDED_EARLY ? corrupt(info, "shrank while read")
                              : io_error(info, err);
    }
    r = check_header(head, info);
    if (r != AP_POSIX_SPOOL_FILE_OK) {
        return r;
    }
    if (buf != NULL && size < info->record_len) {
        return AP_POSIX_SPOOL_FILE_SHORT_BUF;
    }
    err = crc_of_body(fd, buf, info->record_len, &crc);
    if (err != 0) {
        return err == ENDED_EARLY ? corrupt(info, "shrank while read")
                              : io_error(info, err);
    }
    if (crc != get_u32le(head + 12)) {
        return corrupt(info, "CRC-32 %08" PRIx32 " does not match its header's %08" PRIx32,
                       crc, get_u32le(head + 12));
    }
    return AP_POSIX_SPOOL_FILE_OK;
}

ap_posix_spool_file_result_t ap_posix_spool_read_file(int dir_fd, const char *name,
                                                      uint8_t *buf, size_t size,
                                                      ap_posix_spool_file_info_t *info)
{
    ap_posix_spool_file_result_t r;
    int fd;

    memset(info, 0, sizeof *info);
    /* O_NOFOLLOW: a symbolic link is not a record the spool wrote; O_NONBLOCK:
     * a FIFO planted under a record's name must not hang the open. */
    fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT) {
            return AP_POSIX_SPOOL_FILE_GONE;
        }
        if (errno == ELOOP) {
            return corrupt(info, "a symbolic link, not a record");
        }
        return io_error(info, errno);
    }
    r = read_open(fd, buf, size, info);
    (void)close(fd);
    return r;
}
