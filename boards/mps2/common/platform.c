/*
 * Adapts the board services to the core's ap_platform_t.
 */
#include <stddef.h>
#include <stdint.h>

#include "mps2.h"
#include "platform.h"
#include "wall_clock.h"

static uint32_t platform_now_ms(void *ctx)
{
    (void)ctx;
    return ap_mps2_now_ms();
}

static int64_t platform_wall_time(void *ctx)
{
    int64_t t;

    (void)ctx;
    t = ap_mps2_wall_time();
    return t < 0 ? AP_WALL_TIME_UNKNOWN : t;
}

static ap_status_t platform_entropy(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    return ap_mps2_entropy_read(buf, len) == 0 ? AP_OK : AP_ERR_ENTROPY;
}

ap_platform_t ap_mps2_platform(void)
{
    ap_platform_t p;

    p.ctx = NULL;
    p.now_ms = platform_now_ms;
    p.wall_time = platform_wall_time;
    p.entropy = platform_entropy;
    return p;
}
