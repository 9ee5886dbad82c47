/**
 * @file flash_file.h
 * @brief A block device (ap_blockdev_t) backed by a file on the host,
 * reached through semihosting, so that the flash log persists across QEMU
 * runs.
 *
 * THIS IS A DECISION OF THIS BOARD UNDER QEMU. The MPS2 images have no
 * flash the firmware may write (QEMU loads the image into SSRAM and forgets
 * it at exit), so the "flash" is a host file of AP_MPS2_FLASH_SECTOR_COUNT
 * sectors of AP_MPS2_FLASH_SECTOR_SIZE bytes. On real hardware semihosting
 * reaches a debugger or nothing: a product replaces this file with its
 * flash driver behind the same ap_blockdev_t.
 *
 * Flash rules are enforced here, so that the flash log cannot come to rely
 * on what a file allows and a real part does not:
 * - a program must be aligned to AP_MPS2_FLASH_PROG_SIZE, stay inside one
 *   sector, and cover only bytes that read erased (0xFF);
 * - a program unit may be programmed once between erases: a bitmap in RAM
 *   remembers which units were (at open, every unit holding a byte that is
 *   not erased counts as programmed);
 * - erase writes a whole sector of 0xFF.
 * Every call writes through to the host file (semihosting SYS_WRITE is a
 * host write(2)), so when QEMU is killed, completed calls survive.
 */
#ifndef AP_MPS2_FLASH_FILE_H
#define AP_MPS2_FLASH_FILE_H

#include <stdint.h>

#include "alertpost/ap_blockdev.h"
#include "alertpost/ap_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Erasable sector: 4 KiB, as most NOR parts. */
#define AP_MPS2_FLASH_SECTOR_SIZE 4096u
/** Sectors in the file: 32 KiB, one of them the flash log's reserve. */
#define AP_MPS2_FLASH_SECTOR_COUNT 8u
/** Program unit (a flash word with ECC on many MCUs). */
#define AP_MPS2_FLASH_PROG_SIZE 8u
/** The file's size in bytes. */
#define AP_MPS2_FLASH_SIZE (AP_MPS2_FLASH_SECTOR_SIZE * AP_MPS2_FLASH_SECTOR_COUNT)

#define AP_MPS2_FLASH_UNITS (AP_MPS2_FLASH_SIZE / AP_MPS2_FLASH_PROG_SIZE)

/** One open flash file. Caller-owned (static); fields are private. */
typedef struct ap_mps2_flash_file {
    ap_blockdev_t dev;    /**< give &dev to ap_store_flash_init() */
    int32_t handle;       /* semihosting file handle; -1 when closed */
    uint8_t programmed[AP_MPS2_FLASH_UNITS / 8u];
} ap_mps2_flash_file_t;

/**
 * @brief Open the host file at path (relative paths start at QEMU's working
 * directory) as the block device ff->dev.
 *
 * A missing file is created and erased. A file shorter than
 * AP_MPS2_FLASH_SIZE (a first erase cut short) is completed with erased
 * bytes. A longer file is refused rather than cut: it is not this board's
 * flash, and its contents are not ours to destroy.
 *
 * @param why out: a short cause for the console on failure.
 * @return AP_OK; AP_ERR_BAD_ARG (a NULL argument); AP_ERR_TOO_LARGE (the
 *         file is larger than AP_MPS2_FLASH_SIZE); AP_ERR_STORE_IO (the
 *         host could not open, create, read or write it).
 */
ap_status_t ap_mps2_flash_file_open(ap_mps2_flash_file_t *ff, const char *path,
                                    const char **why);

/** @brief Close the host file. Calling it again does nothing. */
void ap_mps2_flash_file_close(ap_mps2_flash_file_t *ff);

#ifdef __cplusplus
}
#endif

#endif /* AP_MPS2_FLASH_FILE_H */
