/*
 * Entropy from the HOST, read through semihosting. See the warning on
 * ap_mps2_entropy_read() in mps2.h: this is this board's decision under
 * QEMU, where the host kernel is the only strong source there is; it is not
 * a hardware generator and has no weak fallback.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mps2.h"
#include "mps2_internal.h"

#define AP_ENTROPY_PATH "/dev/urandom"
#define AP_SH_MODE_RB   1u /* "rb" in the semihosting mode table */

/* A read that returns short this many times in a row counts as failed. */
#define AP_ENTROPY_MAX_SHORT_READS 8

/* Opened once and kept: lwIP asks for a few bytes at a time. */
static int32_t g_entropy_handle = -1;

int ap_mps2_entropy_read(uint8_t *buf, size_t len)
{
    size_t done = 0;
    int short_reads = 0;

    if (buf == NULL) {
        return -1;
    }
    if (g_entropy_handle < 0) {
        g_entropy_handle = ap_mps2_semihost_open(AP_ENTROPY_PATH, AP_SH_MODE_RB);
        if (g_entropy_handle < 0) {
            memset(buf, 0, len);
            return -1;
        }
    }
    while (done < len) {
        int32_t n = ap_mps2_semihost_read(g_entropy_handle, buf + done, len - done);

        if (n <= 0) {
            if (n < 0 || ++short_reads >= AP_ENTROPY_MAX_SHORT_READS) {
                ap_mps2_semihost_close(g_entropy_handle);
                g_entropy_handle = -1;
                memset(buf, 0, len);
                return -1;
            }
            continue;
        }
        done += (size_t)n;
    }
    return 0;
}

uint32_t ap_mps2_rand32(void)
{
    uint8_t b[4];

    if (ap_mps2_entropy_read(b, sizeof b) != 0) {
        printf("entropy: cannot read host " AP_ENTROPY_PATH
               " through semihosting\n");
        ap_mps2_exit(AP_MPS2_EXIT_ENTROPY);
    }
    return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) |
           ((uint32_t)b[3] << 24);
}
