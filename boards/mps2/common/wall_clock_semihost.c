/*
 * The wall clock from the debug host (AP_MPS2_TIME=semihost, the default):
 * QEMU answers SYS_TIME with its host's clock, which is trusted as the
 * network and the entropy are. There is nothing to synchronise.
 */
#include <stdio.h>

#include "mps2.h"
#include "wall_clock.h"

bool ap_mps2_wall_clock_init(const char *server)
{
    (void)server;
    printf("time: from the host's clock (semihosting SYS_TIME)\n");
    return true;
}

bool ap_mps2_wall_clock_sync(void (*step)(void *ctx), void *ctx, uint32_t wait_ms)
{
    (void)step;
    (void)ctx;
    (void)wait_ms;
    return ap_mps2_wall_time() >= 0;
}

bool ap_mps2_wall_clock_needs_network(void)
{
    return false;
}

int64_t ap_mps2_wall_time(void)
{
    int64_t t = ap_mps2_semihost_time();

    return t < 0 ? -1 : t;
}
