/*
 * The semihosted flash file of flash_file.h. The host file could take any
 * write; the checks here make it behave as NOR flash, so a flash log that
 * works over it also works over a real part.
 */
#include <stdbool.h>
#include <string.h>

#include "flash_file.h"
#include "mps2_internal.h"

#define FF_ERASED 0xFFu
/* Stack chunk for erase and for reads at open: small against the 64 KiB stack. */
#define FF_CHUNK 256u

/* Semihosting open modes (the specification's index into fopen's modes). */
#define FF_MODE_READ_UPDATE   3u /* "r+b": must exist */
#define FF_MODE_CREATE_UPDATE 7u /* "w+b": created empty */

static bool unit_programmed(const ap_mps2_flash_file_t *ff, uint32_t unit)
{
    return (ff->programmed[unit / 8u] & (1u << (unit % 8u))) != 0u;
}

static void mark_unit(ap_mps2_flash_file_t *ff, uint32_t unit, bool programmed)
{
    if (programmed) {
        ff->programmed[unit / 8u] |= (uint8_t)(1u << (unit % 8u));
    } else {
        ff->programmed[unit / 8u] &= (uint8_t)~(1u << (unit % 8u));
    }
}

static ap_status_t ff_read(void *ctx, uint32_t addr, uint8_t *buf, size_t len)
{
    ap_mps2_flash_file_t *ff = ctx;

    if (addr > AP_MPS2_FLASH_SIZE || len > AP_MPS2_FLASH_SIZE - addr) {
        return AP_ERR_BAD_ARG;
    }
    if (len == 0u) {
        return AP_OK;
    }
    if (ff->handle < 0 || ap_mps2_semihost_seek(ff->handle, addr) != 0 ||
        ap_mps2_semihost_read(ff->handle, buf, len) != (int32_t)len) {
        return AP_ERR_STORE_IO;
    }
    return AP_OK;
}

/* The target range as flash would see it: every unit never programmed
 * since its erase, and every byte reading erased. */
static ap_status_t check_erased(ap_mps2_flash_file_t *ff, uint32_t addr, size_t len)
{
    uint8_t old[AP_MPS2_FLASH_PROG_SIZE];
    uint32_t at;

    for (at = addr; at < addr + len; at += AP_MPS2_FLASH_PROG_SIZE) {
        size_t i;
        ap_status_t st;

        if (unit_programmed(ff, at / AP_MPS2_FLASH_PROG_SIZE)) {
            return AP_ERR_BAD_ARG;
        }
        st = ff_read(ff, at, old, sizeof old);
        if (st != AP_OK) {
            return st;
        }
        for (i = 0; i < sizeof old; i++) {
            if (old[i] != FF_ERASED) {
                return AP_ERR_BAD_ARG;
            }
        }
    }
    return AP_OK;
}

static ap_status_t ff_program(void *ctx, uint32_t addr, const uint8_t *buf, size_t len)
{
    ap_mps2_flash_file_t *ff = ctx;
    uint32_t at;
    ap_status_t st;

    if (addr % AP_MPS2_FLASH_PROG_SIZE != 0u || len % AP_MPS2_FLASH_PROG_SIZE != 0u ||
        len == 0u || addr >= AP_MPS2_FLASH_SIZE || len > AP_MPS2_FLASH_SIZE - addr ||
        addr / AP_MPS2_FLASH_SECTOR_SIZE != (addr + len - 1u) / AP_MPS2_FLASH_SECTOR_SIZE) {
        return AP_ERR_BAD_ARG;
    }
    st = check_erased(ff, addr, len);
    if (st != AP_OK) {
        return st;
    }
    /* Marked before the write: a write that fails part-way has still used
     * the units up, as a cut program does on flash. */
    for (at = addr; at < addr + len; at += AP_MPS2_FLASH_PROG_SIZE) {
        mark_unit(ff, at / AP_MPS2_FLASH_PROG_SIZE, true);
    }
    if (ap_mps2_semihost_seek(ff->handle, addr) != 0 ||
        ap_mps2_semihost_write(ff->handle, buf, len) != 0) {
        return AP_ERR_STORE_IO;
    }
    return AP_OK;
}

/* Writes erased bytes over [from, to): an erase, or the completion of a
 * file whose first erase was cut short. */
static ap_status_t write_erased(ap_mps2_flash_file_t *ff, uint32_t from, uint32_t to)
{
    uint8_t blank[FF_CHUNK];

    memset(blank, FF_ERASED, sizeof blank);
    if (ap_mps2_semihost_seek(ff->handle, from) != 0) {
        return AP_ERR_STORE_IO;
    }
    while (from < to) {
        uint32_t n = to - from < FF_CHUNK ? to - from : FF_CHUNK;

        if (ap_mps2_semihost_write(ff->handle, blank, n) != 0) {
            return AP_ERR_STORE_IO;
        }
        from += n;
    }
    return AP_OK;
}

static ap_status_t ff_erase(void *ctx, uint32_t sector)
{
    ap_mps2_flash_file_t *ff = ctx;
    uint32_t first = sector * AP_MPS2_FLASH_SECTOR_SIZE;
    uint32_t unit;

    if (sector >= AP_MPS2_FLASH_SECTOR_COUNT) {
        return AP_ERR_BAD_ARG;
    }
    if (ff->handle < 0) {
        return AP_ERR_STORE_IO;
    }
    /* Cleared first: a cut erase leaves any mix of erased and old bytes,
     * and the flash log erases such a sector again before it programs. */
    for (unit = first / AP_MPS2_FLASH_PROG_SIZE;
         unit < (first + AP_MPS2_FLASH_SECTOR_SIZE) / AP_MPS2_FLASH_PROG_SIZE; unit++) {
        mark_unit(ff, unit, false);
    }
    return write_erased(ff, first, first + AP_MPS2_FLASH_SECTOR_SIZE);
}

/* Every unit holding a byte that is not erased was programmed before this
 * boot; the bitmap starts from what the file shows. */
static ap_status_t learn_programmed(ap_mps2_flash_file_t *ff)
{
    uint8_t chunk[FF_CHUNK];
    uint32_t addr;

    for (addr = 0; addr < AP_MPS2_FLASH_SIZE; addr += FF_CHUNK) {
        uint32_t i;
        ap_status_t st = ff_read(ff, addr, chunk, sizeof chunk);

        if (st != AP_OK) {
            return st;
        }
        for (i = 0; i < FF_CHUNK; i++) {
            if (chunk[i] != FF_ERASED) {
                mark_unit(ff, (addr + i) / AP_MPS2_FLASH_PROG_SIZE, true);
            }
        }
    }
    return AP_OK;
}

ap_status_t ap_mps2_flash_file_open(ap_mps2_flash_file_t *ff, const char *path,
                                    const char **why)
{
    int32_t flen;
    ap_status_t st;

    if (ff == NULL || path == NULL || why == NULL) {
        return AP_ERR_BAD_ARG;
    }
    memset(ff, 0, sizeof *ff);
    ff->dev.ctx = ff;
    ff->dev.geometry.sector_size = AP_MPS2_FLASH_SECTOR_SIZE;
    ff->dev.geometry.sector_count = AP_MPS2_FLASH_SECTOR_COUNT;
    ff->dev.geometry.prog_size = AP_MPS2_FLASH_PROG_SIZE;
    ff->dev.geometry.read_size = 1u;
    ff->dev.geometry.erased_value = FF_ERASED;
    ff->dev.read = ff_read;
    ff->dev.program = ff_program;
    ff->dev.erase = ff_erase;
    ff->handle = ap_mps2_semihost_open(path, FF_MODE_READ_UPDATE);
    if (ff->handle < 0) {
        ff->handle = ap_mps2_semihost_open(path, FF_MODE_CREATE_UPDATE);
    }
    if (ff->handle < 0) {
        *why = "the host cannot open or create it (check the directory and permissions)";
        return AP_ERR_STORE_IO;
    }
    flen = ap_mps2_semihost_flen(ff->handle);
    if (flen < 0) {
        *why = "the host cannot tell its length";
        st = AP_ERR_STORE_IO;
    } else if ((uint32_t)flen > AP_MPS2_FLASH_SIZE) {
        *why = "it is larger than this board's flash; move it away or name another file";
        st = AP_ERR_TOO_LARGE;
    } else {
        *why = "the host cannot read or write it";
        st = write_erased(ff, (uint32_t)flen, AP_MPS2_FLASH_SIZE);
        if (st == AP_OK) {
            st = learn_programmed(ff);
        }
    }
    if (st != AP_OK) {
        ap_mps2_flash_file_close(ff);
    }
    return st;
}

void ap_mps2_flash_file_close(ap_mps2_flash_file_t *ff)
{
    if (ff != NULL && ff->handle >= 0) {
        ap_mps2_semihost_close(ff->handle);
        ff->handle = -1;
    }
}
