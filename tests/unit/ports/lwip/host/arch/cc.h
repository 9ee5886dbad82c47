/* lwIP's compiler and platform glue for the host unit test. */
#ifndef AP_TEST_LWIP_ARCH_CC_H
#define AP_TEST_LWIP_ARCH_CC_H

#include <stdio.h>
#include <stdlib.h>

#define LWIP_PLATFORM_DIAG(x) do { printf x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) \
    do { fprintf(stderr, "lwIP assertion \"%s\" failed at %s:%d\n", x, \
                 __FILE__, __LINE__); abort(); } while (0)

/* Ports, ISNs and DNS ids; the test needs no strength, only variety. */
#define LWIP_RAND() ((u32_t)rand())

#endif /* AP_TEST_LWIP_ARCH_CC_H */
