/*
 * The functions Mbed TLS expects from the board, as configured by
 * cmake/mbedtls/mps2-3.6.h or mps2-2.28.h. Their names are Mbed TLS's, not
 * the project's: the library calls them.
 *
 * - mbedtls_hardware_poll (MBEDTLS_ENTROPY_HARDWARE_ALT): the board's one
 *   entropy source, the host's /dev/urandom through semihosting (see
 *   ap_mps2_entropy_read() in mps2.h for why that is acceptable under QEMU
 *   only). With 3.6, PSA's random generator, which TLS 1.3 uses, is seeded
 *   from here; the 2.28 build has no caller for it (its config says why).
 * - mbedtls_ms_time (MBEDTLS_PLATFORM_MS_TIME_ALT, 3.x only): the board
 *   clock, for TLS 1.3 ticket ages.
 * - ap_mps2_mbedtls_calloc_unset/free_unset (MBEDTLS_PLATFORM_STD_CALLOC and
 *   _FREE, 3.6 only): the allocator before mbedtls_memory_buffer_alloc_init()
 *   installs the pool's. Nothing may allocate then, so it refuses.
 */
#include <stddef.h>

/* Pulls in the configuration for both lines (build_info.h on 3.x,
 * config.h or MBEDTLS_CONFIG_FILE on 2.28). */
#include "mbedtls/version.h"
#include "mps2.h"

#if defined(MBEDTLS_ENTROPY_HARDWARE_ALT)
/* The same prototype on 2.28 and 3.6; 3.6 declares it in a private header
 * of its library folder, so it is declared here for both. */
int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len,
                          size_t *olen);

int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len,
                          size_t *olen)
{
    (void)data;
    *olen = 0;
    if (ap_mps2_entropy_read(output, len) != 0) {
        /* MBEDTLS_ERR_ENTROPY_SOURCE_FAILED (the same on both lines):
         * nothing gathered. */
        return -0x003C;
    }
    *olen = len;
    return 0;
}
#endif

#if defined(MBEDTLS_PLATFORM_MS_TIME_ALT)
#include "mbedtls/platform_time.h"

mbedtls_ms_time_t mbedtls_ms_time(void)
{
    /* Wraps after 49.7 days; ticket ages are far shorter than that. */
    return (mbedtls_ms_time_t)ap_mps2_now_ms();
}
#endif

#if defined(AP_MPS2_MBEDTLS_ALLOC_UNSET)
void *ap_mps2_mbedtls_calloc_unset(size_t n, size_t size)
{
    (void)n;
    (void)size;
    return NULL;
}

void ap_mps2_mbedtls_free_unset(void *ptr)
{
    /* Only NULL can come here: nothing was ever allocated by this pair. */
    (void)ptr;
}
#endif
