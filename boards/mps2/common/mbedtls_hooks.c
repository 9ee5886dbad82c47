/*
 * The functions Mbed TLS expects from the board, as configured by
 * cmake/mbedtls/mps2-3.6.h. Their names are Mbed TLS's, not the
 * project's: the library calls them.
 *
 * - mbedtls_hardware_poll (MBEDTLS_ENTROPY_HARDWARE_ALT): the board's one
 *   entropy source, the host's /dev/urandom through semihosting (see
 *   ap_mps2_entropy_read() in mps2.h for why that is acceptable under QEMU
 *   only). PSA's random generator, which TLS 1.3 uses, is seeded from here.
 * - mbedtls_ms_time (MBEDTLS_PLATFORM_MS_TIME_ALT): the board clock, for
 *   TLS 1.3 ticket ages.
 */
#include <stddef.h>

#include "mbedtls/platform_time.h"
#include "mps2.h"

/* Mbed TLS declares it in a private header of its library folder. */
int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len,
                          size_t *olen);

int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len,
                          size_t *olen)
{
    (void)data;
    *olen = 0;
    if (ap_mps2_entropy_read(output, len) != 0) {
        /* MBEDTLS_ERR_ENTROPY_SOURCE_FAILED: nothing gathered. */
        return -0x003C;
    }
    *olen = len;
    return 0;
}

mbedtls_ms_time_t mbedtls_ms_time(void)
{
    /* Wraps after 49.7 days; ticket ages are far shorter than that. */
    return (mbedtls_ms_time_t)ap_mps2_now_ms();
}
