/*
 * The semihosting file calls of boards/mps2/common/mps2_internal.h over the
 * host's stdio, so that the board's flash file runs in a unit test. Modes
 * are the specification's indices into fopen's mode strings. A test can
 * make the next write fail part-way, as a host error would.
 */
#include <stdio.h>

#include "fake_semihost.h"
#include "mps2_internal.h"

#define FAKE_HANDLES 4

static FILE *g_files[FAKE_HANDLES];
static long g_fail_write_after = -1;

static const char *const k_modes[] = {"r", "rb", "r+", "r+b", "w", "wb", "w+", "w+b"};

void fake_semihost_fail_next_write(long keep)
{
    g_fail_write_after = keep;
}

int32_t ap_mps2_semihost_open(const char *path, uint32_t mode)
{
    int32_t h;

    if (mode >= sizeof k_modes / sizeof k_modes[0]) {
        return -1;
    }
    for (h = 0; h < FAKE_HANDLES; h++) {
        if (g_files[h] == NULL) {
            g_files[h] = fopen(path, k_modes[mode]);
            return g_files[h] != NULL ? h : -1;
        }
    }
    return -1;
}

static FILE *file_of(int32_t handle)
{
    return handle >= 0 && handle < FAKE_HANDLES ? g_files[handle] : NULL;
}

int32_t ap_mps2_semihost_read(int32_t handle, void *buf, size_t len)
{
    FILE *f = file_of(handle);

    return f != NULL ? (int32_t)fread(buf, 1, len, f) : -1;
}

int ap_mps2_semihost_write(int32_t handle, const void *buf, size_t len)
{
    FILE *f = file_of(handle);
    size_t n = len;

    if (f == NULL) {
        return -1;
    }
    if (g_fail_write_after >= 0) {
        n = (size_t)g_fail_write_after < len ? (size_t)g_fail_write_after : len;
        g_fail_write_after = -1;
        (void)fwrite(buf, 1, n, f);
        (void)fflush(f);
        return -1;
    }
    return fwrite(buf, 1, n, f) == len && fflush(f) == 0 ? 0 : -1;
}

int ap_mps2_semihost_seek(int32_t handle, uint32_t pos)
{
    FILE *f = file_of(handle);

    return f != NULL && fseek(f, (long)pos, SEEK_SET) == 0 ? 0 : -1;
}

int32_t ap_mps2_semihost_flen(int32_t handle)
{
    FILE *f = file_of(handle);
    long len;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0) {
        return -1;
    }
    len = ftell(f);
    return len >= 0 ? (int32_t)len : -1;
}

void ap_mps2_semihost_close(int32_t handle)
{
    FILE *f = file_of(handle);

    if (f != NULL) {
        (void)fclose(f);
        g_files[handle] = NULL;
    }
}

int fake_semihost_open_handles(void)
{
    int n = 0;
    int h;

    for (h = 0; h < FAKE_HANDLES; h++) {
        n += g_files[h] != NULL;
    }
    return n;
}
