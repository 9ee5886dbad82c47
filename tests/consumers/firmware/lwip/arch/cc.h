/* The product's lwIP port header: little-endian Cortex-M, diagnostics
 * dropped, assertions stop the CPU (a debugger shows where). */
#ifndef SENSOR_LWIP_ARCH_CC_H
#define SENSOR_LWIP_ARCH_CC_H

#include <stdint.h>
#include <stdlib.h>

#define BYTE_ORDER LITTLE_ENDIAN
#define LWIP_PLATFORM_DIAG(x) do { } while (0)
#define LWIP_PLATFORM_ASSERT(x) do { (void)(x); for (;;) { } } while (0)

uint32_t sensor_rand32(void);
#define LWIP_RAND() ((u32_t)sensor_rand32())

#endif /* SENSOR_LWIP_ARCH_CC_H */
