/*
 * Semihosting: requests to the debug host, which under QEMU is QEMU itself.
 * On M-profile the request is "bkpt 0xab" with the operation in r0 and a
 * pointer to its parameter block in r1; the result comes back in r0.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mps2.h"
#include "mps2_internal.h"

/* ADP_Stopped_ApplicationExit: the "normal exit" reason of SYS_EXIT. */
#define AP_SH_ADP_APPLICATION_EXIT 0x20026u
/* ADP_Stopped_RunTimeErrorUnknown: any other end, for plain SYS_EXIT. */
#define AP_SH_ADP_RUNTIME_ERROR 0x20023u

uint32_t ap_mps2_semihost_call(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;

    /* "memory": the host reads and writes the blocks r1 points to. */
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

int32_t ap_mps2_semihost_open(const char *path, uint32_t mode)
{
    uint32_t block[3];

    block[0] = (uint32_t)(uintptr_t)path;
    block[1] = mode;
    block[2] = (uint32_t)strlen(path);
    return (int32_t)ap_mps2_semihost_call(AP_MPS2_SH_SYS_OPEN, block);
}

int32_t ap_mps2_semihost_read(int32_t handle, void *buf, size_t len)
{
    uint32_t block[3];
    uint32_t not_read;

    block[0] = (uint32_t)handle;
    block[1] = (uint32_t)(uintptr_t)buf;
    block[2] = (uint32_t)len;
    /* SYS_READ answers with the number of bytes it did NOT read. */
    not_read = ap_mps2_semihost_call(AP_MPS2_SH_SYS_READ, block);
    if (not_read > len) {
        return -1;
    }
    return (int32_t)(len - not_read);
}

int ap_mps2_semihost_write(int32_t handle, const void *buf, size_t len)
{
    uint32_t block[3];

    block[0] = (uint32_t)handle;
    block[1] = (uint32_t)(uintptr_t)buf;
    block[2] = (uint32_t)len;
    /* SYS_WRITE, like SYS_READ, answers with the bytes it did NOT move. */
    return ap_mps2_semihost_call(AP_MPS2_SH_SYS_WRITE, block) == 0 ? 0 : -1;
}

int ap_mps2_semihost_seek(int32_t handle, uint32_t pos)
{
    uint32_t block[2];

    block[0] = (uint32_t)handle;
    block[1] = pos;
    return ap_mps2_semihost_call(AP_MPS2_SH_SYS_SEEK, block) == 0 ? 0 : -1;
}

int32_t ap_mps2_semihost_flen(int32_t handle)
{
    uint32_t block[1];

    block[0] = (uint32_t)handle;
    return (int32_t)ap_mps2_semihost_call(AP_MPS2_SH_SYS_FLEN, block);
}

void ap_mps2_semihost_close(int32_t handle)
{
    uint32_t block[1];

    block[0] = (uint32_t)handle;
    (void)ap_mps2_semihost_call(AP_MPS2_SH_SYS_CLOSE, block);
}

int ap_mps2_semihost_cmdline(char *buf, size_t size)
{
    uint32_t block[2];

    if (buf == NULL || size == 0) {
        return -1;
    }
    buf[0] = '\0';
    block[0] = (uint32_t)(uintptr_t)buf;
    block[1] = (uint32_t)size;
    /* The host answers 0 and writes the line's length back into block[1];
     * a line longer than the buffer is an error, not a truncation. */
    if (ap_mps2_semihost_call(AP_MPS2_SH_SYS_GET_CMDLINE, block) != 0 ||
        block[1] >= size) {
        buf[0] = '\0';
        return -1;
    }
    buf[block[1]] = '\0';
    return 0;
}

int ap_mps2_semihost_read_file(const char *path, void *buf, size_t size,
                               size_t *len)
{
    int32_t handle;
    int32_t flen;
    int rc = -1;

    *len = 0;
    handle = ap_mps2_semihost_open(path, 1u /* "rb" */);
    if (handle < 0) {
        return -1;
    }
    flen = ap_mps2_semihost_flen(handle);
    if (flen >= 0 && (size_t)flen > size) {
        rc = -2;
    } else if (flen >= 0 && ap_mps2_semihost_read(handle, buf, (size_t)flen) == flen) {
        *len = (size_t)flen;
        rc = 0;
    }
    ap_mps2_semihost_close(handle);
    return rc;
}

int64_t ap_mps2_semihost_time(void)
{
    uint32_t t = ap_mps2_semihost_call(AP_MPS2_SH_SYS_TIME, NULL);

    /* The 32-bit answer is unsigned seconds; all ones means failure. */
    if (t == UINT32_MAX) {
        return -1;
    }
    return (int64_t)t;
}

int32_t ap_mps2_semihost_clock_cs(void)
{
    return (int32_t)ap_mps2_semihost_call(AP_MPS2_SH_SYS_CLOCK, NULL);
}

void ap_mps2_semihost_exit(int status)
{
    uint32_t block[2];

    /*
     * On AArch32, SYS_EXIT carries no status, only "success" or "error";
     * SYS_EXIT_EXTENDED (semihosting v2) carries the status itself, and QEMU
     * exits with it. Try that first and fall back if the host returns.
     */
    block[0] = AP_SH_ADP_APPLICATION_EXIT;
    block[1] = (uint32_t)status;
    (void)ap_mps2_semihost_call(AP_MPS2_SH_SYS_EXIT_EXTENDED, block);
    (void)ap_mps2_semihost_call(AP_MPS2_SH_SYS_EXIT,
                                (const void *)(uintptr_t)(status == 0
                                    ? AP_SH_ADP_APPLICATION_EXIT
                                    : AP_SH_ADP_RUNTIME_ERROR));
}
