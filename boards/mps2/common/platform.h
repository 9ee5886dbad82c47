/**
 * @file platform.h
 * @brief The MPS2 board's platform services in the form the alertpost core
 * takes them (ap_platform_t).
 */
#ifndef AP_MPS2_PLATFORM_H
#define AP_MPS2_PLATFORM_H

#include "alertpost/ap_platform.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * The board's platform for ap_client_init():
 *  - now_ms: the board clock (ap_mps2_now_ms());
 *  - wall_time: the board's wall clock (wall_clock.h: the host's through
 *    semihosting, or SNTP, as the build chose), AP_WALL_TIME_UNKNOWN while
 *    it is not known;
 *  - entropy: the host's /dev/urandom through semihosting (see the warning
 *    on ap_mps2_entropy_read() in mps2.h), AP_ERR_ENTROPY when it fails.
 * ctx is NULL: the board's state is global.
 */
ap_platform_t ap_mps2_platform(void);

#ifdef __cplusplus
}
#endif

#endif /* AP_MPS2_PLATFORM_H */
