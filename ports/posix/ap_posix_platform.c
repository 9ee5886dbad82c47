/*
 * POSIX platform services: a monotonic millisecond clock, the wall clock and
 * the kernel's CSPRNG. None keeps state, so the platform's ctx is NULL.
 */
#define _POSIX_C_SOURCE 200809L

#include "alertpost/ap_posix.h"

#include <errno.h>
#include <sys/random.h>
#include <sys/types.h>
#include <time.h>

/* getrandom() only returns short for requests above 256 bytes or when a
 * signal arrives; this bounds the retries should something keep
 * interrupting it, so a broken source fails instead of spinning. */
#define AP_POSIX_ENTROPY_MAX_TRIES 64u

static uint32_t posix_now_ms(void *ctx)
{
    struct timespec ts;
    uint64_t ms;

    (void)ctx;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        return 0;
    }
    ms = (uint64_t)ts.tv_sec * UINT64_C(1000) +
         (uint64_t)ts.tv_nsec / UINT64_C(1000000);
    /* Truncation is the documented wrap at 2^32. */
    return (uint32_t)ms;
}

static int64_t posix_wall_time(void *ctx)
{
    time_t now;

    (void)ctx;
    now = time(NULL);
    /* A clock set before 1970 is no more use for certificate dates than
     * none at all. */
    if (now < 0) { /* also (time_t)-1, time()'s failure */
        return AP_WALL_TIME_UNKNOWN;
    }
    return (int64_t)now;
}

static ap_status_t posix_entropy(void *ctx, uint8_t *buf, size_t len)
{
    size_t filled = 0;
    unsigned tries = 0;

    (void)ctx;
    if (buf == NULL && len > 0) {
        return AP_ERR_ENTROPY;
    }
    while (filled < len) {
        ssize_t n;

        if (tries++ >= AP_POSIX_ENTROPY_MAX_TRIES) {
            return AP_ERR_ENTROPY;
        }
        /* Flags 0: block until the kernel pool is seeded once (only ever at
         * early boot), never read an unseeded pool. */
        n = getrandom(buf + filled, len - filled, 0);
        if (n > 0) {
            filled += (size_t)n;
        } else if (n < 0 && errno != EINTR) {
            return AP_ERR_ENTROPY;
        }
    }
    return AP_OK;
}

void ap_posix_platform_init(ap_platform_t *platform)
{
    if (platform == NULL) {
        return;
    }
    platform->ctx = NULL;
    platform->now_ms = posix_now_ms;
    platform->wall_time = posix_wall_time;
    platform->entropy = posix_entropy;
}
