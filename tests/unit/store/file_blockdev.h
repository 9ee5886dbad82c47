/*
 * A block device on a host file, as a board without flash to spare (the
 * MPS2 boards under QEMU, through semihosting) would supply one: the file
 * is the device's image, sector after sector. It follows the ap_blockdev.h
 * rules (a program over bytes that do not read erased is refused), so a log
 * written on it is the same as one written on flash.
 */
#ifndef FILE_BLOCKDEV_H
#define FILE_BLOCKDEV_H

#include <stdio.h>

#include "alertpost/ap_blockdev.h"

typedef struct file_blockdev {
    ap_blockdev_t dev;
    FILE *file;
} file_blockdev_t;

/**
 * Open path as a device of this geometry, creating it erased if it does not
 * exist or has another size. Returns 0, or -1 if the file cannot be opened.
 */
int file_blockdev_open(file_blockdev_t *b, const char *path,
                       const ap_blockdev_geometry_t *geometry);

void file_blockdev_close(file_blockdev_t *b);

#endif /* FILE_BLOCKDEV_H */
