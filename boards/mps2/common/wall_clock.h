/**
 * @file wall_clock.h
 * @brief Where the board's wall clock comes from: an explicit choice of the
 * build, AP_MPS2_TIME (boards/mps2/README.md, "Board time").
 *
 *  - semihost (the default; wall_clock_semihost.c): the host's clock
 *    through semihosting SYS_TIME. Only where a debug host (QEMU) answers.
 *  - sntp (wall_clock_sntp.c): lwIP's SNTP client, from the server DHCP
 *    names (option 42) or a configured one, under the policy of
 *    board_time.h; unknown until an answer is accepted.
 *
 * The platform's wall_time (platform.c) and newlib's time() (syscalls.c)
 * both read ap_mps2_wall_time(), so nothing in the image sees another
 * clock; in particular no HTTP Date header is ever taken as the time.
 */
#ifndef AP_MPS2_WALL_CLOCK_H
#define AP_MPS2_WALL_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Before the network comes up (before dhcp_start()): says on the console
 * where time will come from. server, if not NULL, is an IPv4 address that
 * overrides the build's AP_MPS2_SNTP_SERVER; without either, the SNTP
 * client takes the server DHCP names. The semihost clock ignores server.
 * @return false if server is given but not an IPv4 address.
 */
bool ap_mps2_wall_clock_init(const char *server);

/**
 * After the network is up: starts the SNTP client and runs step(ctx) (the
 * network) until its first answer was accepted or refused, or wait_ms
 * passed. The client keeps polling afterwards from lwIP's timers.
 * @return true if the wall clock is known now.
 */
bool ap_mps2_wall_clock_sync(void (*step)(void *ctx), void *ctx, uint32_t wait_ms);

/**
 * True if the clock needs the network (sntp): it is unknown at boot until
 * ap_mps2_wall_clock_sync() got an answer. False for the semihost clock,
 * which is known from reset.
 */
bool ap_mps2_wall_clock_needs_network(void);

/** Seconds since 1970-01-01 UTC, or -1 while the time is unknown. */
int64_t ap_mps2_wall_time(void);

#ifdef __cplusplus
}
#endif

#endif /* AP_MPS2_WALL_CLOCK_H */
