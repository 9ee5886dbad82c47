/*
 * The wall clock from the network (AP_MPS2_TIME=sntp), for a board with no
 * clock that keeps time across a power cut: lwIP's SNTP client
 * (src/apps/sntp/sntp.c, options in lwip/lwipopts.h) asks the server DHCP
 * named (option 42), or the configured one, and hands each answer to the
 * hook below; the policy of board_time.h decides whether the board takes
 * it. Until one is taken the time is unknown, so the core refuses TLS.
 *
 * SNTP is unauthenticated: an answer is believed because it comes from the
 * configured (or DHCP-named) server's address and port 123 and echoes the
 * request's transmit timestamp (SNTP_CHECK_RESPONSE 2, which makes that
 * timestamp a nonce: its low bits are random, below). The policy limits
 * what a forged answer can do: no date before the build, none past 20
 * years after it, no step back.
 */
#include <inttypes.h>
#include <stdio.h>

#include "board_time.h"
#include "mps2.h"
#include "wall_clock.h"

#include "lwip/apps/sntp.h"
#include "lwip/ip_addr.h"

#ifndef AP_MPS2_BUILD_TIME
#error "AP_MPS2_BUILD_TIME (seconds since 1970, the firmware's build time) is set by boards/mps2/CMakeLists.txt"
#endif
#ifndef AP_MPS2_SNTP_SERVER
#define AP_MPS2_SNTP_SERVER ""
#endif

/* Polls after an answer (lwipopts.h, SNTP_UPDATE_DELAY). */
#define SNTP_POLL_SET_MS   3600000u
#define SNTP_POLL_UNSET_MS 60000u

static ap_board_time_t g_time;
static bool g_answered; /* an answer arrived, accepted or not */
static bool g_configured;
static ip_addr_t g_server;

bool ap_mps2_wall_clock_init(const char *server)
{
    char floor[24];
    char ceiling[24];

    ap_board_time_init(&g_time, (int64_t)AP_MPS2_BUILD_TIME);
    printf("time: sntp; build time %s, answers accepted from then until %s\n",
           ap_board_time_format((int64_t)AP_MPS2_BUILD_TIME, floor, sizeof floor),
           ap_board_time_format((int64_t)AP_MPS2_BUILD_TIME + AP_BOARD_TIME_HORIZON_S,
                                ceiling, sizeof ceiling));
    if (server == NULL || server[0] == '\0') {
        server = AP_MPS2_SNTP_SERVER;
    }
    if (server[0] != '\0') {
        if (!ipaddr_aton(server, &g_server)) {
            printf("time: NTP server \"%s\" is not an IPv4 address\n", server);
            return false;
        }
        g_configured = true;
        return true;
    }
    /* Must be set before the lease arrives: lwIP reads option 42 only then. */
    sntp_servermode_dhcp(1);
    return true;
}

bool ap_mps2_wall_clock_sync(void (*step)(void *ctx), void *ctx, uint32_t wait_ms)
{
    char addr[IPADDR_STRLEN_MAX];
    const ip_addr_t *server;
    uint32_t t0;

    if (g_configured) {
        sntp_setserver(0, &g_server);
    }
    server = sntp_getserver(0);
    if (server == NULL || ip_addr_isany(server)) {
        printf("time: no NTP server: DHCP named none (option 42) and none is configured "
               "(ntp= or AP_MPS2_SNTP_SERVER); the time stays unknown, so TLS is refused\n");
        return false;
    }
    printf("time: asking NTP server %s (%s)\n", ipaddr_ntoa_r(server, addr, (int)sizeof addr),
           g_configured ? "configured" : "from DHCP");
    sntp_setoperatingmode(SNTP_OPMODE_POLL);
    sntp_init();
    t0 = ap_mps2_now_ms();
    while (!g_answered && ap_mps2_now_ms() - t0 < wait_ms) {
        step(ctx);
    }
    if (!g_answered) {
        printf("time: no answer from %s in %" PRIu32 " ms; the time stays unknown until one "
               "is accepted\n", addr, wait_ms);
    }
    return ap_mps2_wall_time() >= 0;
}

bool ap_mps2_wall_clock_needs_network(void)
{
    return true;
}

int64_t ap_mps2_wall_time(void)
{
    return ap_board_time_now(&g_time, ap_mps2_now_ms());
}

/* lwIP's SNTP_SET_SYSTEM_TIME_US: one answer that passed lwIP's checks. */
void ap_mps2_sntp_set_time(uint32_t sec, uint32_t usec)
{
    char when[24];
    char why[160];

    (void)ap_board_time_offer(&g_time, (int64_t)sec, usec, ap_mps2_now_ms(), why, sizeof why);
    g_answered = true;
    printf("time: sntp answer %" PRIu32 " (%s) %s\n", sec,
           ap_board_time_format((int64_t)sec, when, sizeof when), why);
}

/* lwIP's SNTP_UPDATE_DELAY, read after each answer was handed over. */
uint32_t ap_mps2_sntp_update_delay_ms(void)
{
    return ap_mps2_wall_time() >= 0 ? SNTP_POLL_SET_MS : SNTP_POLL_UNSET_MS;
}

/* lwIP's SNTP_GET_SYSTEM_TIME: the request's transmit timestamp, which the
 * answer must echo. Unknown time reads as 1970; the random microseconds
 * make the echo something an off-path sender cannot guess. */
void ap_mps2_sntp_get_time(uint32_t *sec, uint32_t *usec)
{
    int64_t ms = ap_board_time_now_ms(&g_time, ap_mps2_now_ms());

    if (ms < 0) {
        *sec = 0;
        *usec = ap_mps2_rand32() % 1000000u;
        return;
    }
    *sec = (uint32_t)(ms / 1000);
    *usec = (uint32_t)(ms % 1000) * 1000u + ap_mps2_rand32() % 1000u;
}
