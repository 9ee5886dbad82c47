/*
 * lwIP port glue for the MPS2 boards (arm-none-eabi-gcc, newlib-nano):
 * byte order, diagnostics and random numbers. Feature options live apart,
 * in lwipopts.h.
 */
#ifndef AP_MPS2_LWIP_ARCH_CC_H
#define AP_MPS2_LWIP_ARCH_CC_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "mps2.h"

/* Cortex-M runs little-endian on these boards (and GCC says so). */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define BYTE_ORDER BIG_ENDIAN
#else
#define BYTE_ORDER LITTLE_ENDIAN
#endif

/* Diagnostics go to the console UART through newlib's printf. */
#define LWIP_PLATFORM_DIAG(x) \
    do {                      \
        printf x;             \
    } while (0)

/* A failed lwIP assertion ends the run with the board's assert status,
 * so a test sees a distinct failure instead of a hang. */
#define LWIP_PLATFORM_ASSERT(x)                                           \
    do {                                                                  \
        printf("lwip assertion \"%s\" failed at %s:%d\n", (x), __FILE__,  \
               __LINE__);                                                 \
        ap_mps2_exit(AP_MPS2_EXIT_ASSERT);                                \
    } while (0)

/* Random numbers for DHCP/DNS ids and port choice: the host's entropy
 * through semihosting (see ap_mps2_entropy_read() in mps2.h); the program
 * ends if it is unavailable, never falls back to rand(). */
#define LWIP_RAND() ((u32_t)ap_mps2_rand32())

/* lwIP's own character tests (ASCII only, which is all it parses) rather
 * than <ctype.h>: newlib's table and locale lookup cost flash for nothing
 * else in the image uses. */
#define LWIP_NO_CTYPE_H 1

#endif /* AP_MPS2_LWIP_ARCH_CC_H */
