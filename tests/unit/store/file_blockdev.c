/* The file-backed block device of file_blockdev.h. */
#include "file_blockdev.h"

#include <string.h>

static int seek_to(FILE *f, uint32_t addr)
{
    return fseek(f, (long)addr, SEEK_SET);
}

static uint32_t device_size(const file_blockdev_t *b)
{
    return b->dev.geometry.sector_size * b->dev.geometry.sector_count;
}

static ap_status_t fb_read(void *ctx, uint32_t addr, uint8_t *buf, size_t len)
{
    file_blockdev_t *b = ctx;

    if (addr > device_size(b) || len > device_size(b) - addr) {
        return AP_ERR_BAD_ARG;
    }
    if (seek_to(b->file, addr) != 0 || fread(buf, 1, len, b->file) != len) {
        return AP_ERR_STORE_IO;
    }
    return AP_OK;
}

static ap_status_t fb_program(void *ctx, uint32_t addr, const uint8_t *buf, size_t len)
{
    file_blockdev_t *b = ctx;
    uint8_t old[256];
    size_t done;

    if (addr % b->dev.geometry.prog_size != 0u || len % b->dev.geometry.prog_size != 0u) {
        return AP_ERR_BAD_ARG;
    }
    /* Refuse, as flash would misbehave, a program over bytes not erased. */
    for (done = 0; done < len; done += sizeof(old)) {
        size_t n = len - done < sizeof(old) ? len - done : sizeof(old);
        size_t i;
        ap_status_t st = fb_read(ctx, addr + (uint32_t)done, old, n);

        if (st != AP_OK) {
            return st;
        }
        for (i = 0; i < n; i++) {
            if (old[i] != b->dev.geometry.erased_value) {
                return AP_ERR_BAD_ARG;
            }
        }
    }
    if (seek_to(b->file, addr) != 0 || fwrite(buf, 1, len, b->file) != len ||
        fflush(b->file) != 0) {
        return AP_ERR_STORE_IO;
    }
    return AP_OK;
}

static ap_status_t fb_erase(void *ctx, uint32_t sector)
{
    file_blockdev_t *b = ctx;
    uint8_t blank[256];
    uint32_t done;

    if (sector >= b->dev.geometry.sector_count) {
        return AP_ERR_BAD_ARG;
    }
    memset(blank, b->dev.geometry.erased_value, sizeof(blank));
    if (seek_to(b->file, sector * b->dev.geometry.sector_size) != 0) {
        return AP_ERR_STORE_IO;
    }
    for (done = 0; done < b->dev.geometry.sector_size; done += (uint32_t)sizeof(blank)) {
        uint32_t n = b->dev.geometry.sector_size - done;

        n = n < sizeof(blank) ? n : (uint32_t)sizeof(blank);
        if (fwrite(blank, 1, n, b->file) != n) {
            return AP_ERR_STORE_IO;
        }
    }
    return fflush(b->file) == 0 ? AP_OK : AP_ERR_STORE_IO;
}

int file_blockdev_open(file_blockdev_t *b, const char *path,
                       const ap_blockdev_geometry_t *geometry)
{
    uint32_t s;

    memset(b, 0, sizeof(*b));
    b->dev.ctx = b;
    b->dev.geometry = *geometry;
    b->dev.read = fb_read;
    b->dev.program = fb_program;
    b->dev.erase = fb_erase;
    b->file = fopen(path, "r+b");
    if (b->file != NULL && (fseek(b->file, 0, SEEK_END) != 0 ||
                            ftell(b->file) != (long)device_size(b))) {
        fclose(b->file);
        b->file = NULL;
    }
    if (b->file == NULL) {
        b->file = fopen(path, "w+b");
        if (b->file == NULL) {
            return -1;
        }
        for (s = 0; s < geometry->sector_count; s++) {
            if (fb_erase(b, s) != AP_OK) {
                file_blockdev_close(b);
                return -1;
            }
        }
    }
    return 0;
}

void file_blockdev_close(file_blockdev_t *b)
{
    if (b->file != NULL) {
        fclose(b->file);
        b->file = NULL;
    }
}
