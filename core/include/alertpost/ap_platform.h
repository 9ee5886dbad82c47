/**
 * @file ap_platform.h
 * @brief Platform services the core needs, injected by the port or board.
 *
 * Time and entropy are explicit decisions of whoever builds a device: the core
 * has no fallback. A NULL entropy function makes ap_client_init() fail with
 * AP_ERR_ENTROPY; a wall clock that answers "unknown" makes every certificate
 * check fail (dates cannot be verified), never silently pass.
 */
#ifndef ALERTPOST_AP_PLATFORM_H
#define ALERTPOST_AP_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#include "alertpost/ap_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Returned by wall_time when the device does not know the date. */
#define AP_WALL_TIME_UNKNOWN INT64_C(-1)

typedef struct ap_platform {
    /** The platform's own state; passed back to each function. */
    void *ctx;

    /**
     * Milliseconds from an arbitrary origin, monotonic; it MAY wrap at 2^32.
     * The core only ever compares differences (now - start >= limit).
     */
    uint32_t (*now_ms)(void *ctx);

    /** Seconds since 1970-01-01 UTC, or AP_WALL_TIME_UNKNOWN. */
    int64_t (*wall_time)(void *ctx);

    /**
     * Fill buf with len bytes from a cryptographically strong source.
     * @return AP_OK, or AP_ERR_ENTROPY if the source failed.
     */
    ap_status_t (*entropy)(void *ctx, uint8_t *buf, size_t len);
} ap_platform_t;

#ifdef __cplusplus
}
#endif

#endif /* ALERTPOST_AP_PLATFORM_H */
