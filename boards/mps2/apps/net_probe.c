/*
 * net_probe: network bring-up check for the MPS2 boards under QEMU.
 *
 * Reports the board and the LAN9118's ID_REV, checks the board's platform
 * services (host date and entropy through semihosting), brings the interface
 * up, takes a DHCP lease from QEMU's user-mode network, opens a raw-API TCP
 * connection to the host sink QEMU forwards from 10.0.2.100:4433 (guestfwd),
 * sends one line and prints the line that comes back. The program's exit status (QEMU's
 * exit status, through semihosting) says how far it got: 0 only when a reply
 * line arrived. Every wait is bounded, and the whole run by PROBE_TOTAL_MS.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lan9118.h"
#include "mps2.h"
#include "platform.h"
#include "wall_clock.h"

#include "lwip/dhcp.h"
#include "lwip/dns.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#define PROBE_SINK_ADDR "10.0.2.100"
#define PROBE_SINK_PORT 4433u
#define PROBE_MESSAGE   "hello from mps2\n"

/* QEMU's DHCP answers at once; 15 s leaves room for a slow, loaded host. */
#define PROBE_DHCP_MS    15000u
#define PROBE_CONNECT_MS 10000u
#define PROBE_REPLY_MS   10000u
#define PROBE_TOTAL_MS   40000u
/* After close, keep polling briefly so the FIN and its ACK get through. */
#define PROBE_LINGER_MS  300u

/* Exit statuses: which step failed. */
enum {
    PROBE_EXIT_OK = 0,
    PROBE_EXIT_NIC = 2,     /* the LAN9118 did not come up */
    PROBE_EXIT_DHCP = 3,    /* no lease in time */
    PROBE_EXIT_CONNECT = 4, /* the TCP connection failed or timed out */
    PROBE_EXIT_SEND = 5,    /* the message could not be queued */
    PROBE_EXIT_REPLY = 6,   /* no complete reply line */
    PROBE_EXIT_PLATFORM = 7 /* no host time or entropy */
};

/* 2020-01-01T00:00:00Z: a host clock earlier than this is not believable. */
#define PROBE_MIN_WALL_TIME INT64_C(1577836800)

typedef struct probe {
    struct tcp_pcb *pcb;
    bool connected;
    bool closed;   /* the peer sent FIN */
    err_t error;   /* from the error callback; ERR_OK if none */
    char line[128];
    size_t line_len;
    bool line_done;
} probe_t;

static probe_t g_probe;
static ap_mps2_lan9118_t g_eth = {
    .mac = AP_MPS2_LAN9118_DEFAULT_MAC,
};
static struct netif g_netif;
static uint32_t g_start_ms;

static void net_step(void)
{
    (void)ap_mps2_lan9118_poll(&g_netif);
    sys_check_timeouts();
}

/* Runs the network until done() holds or limit_ms passes (also bounded by
 * the overall budget). Returns whether done() held. */
static bool run_until(bool (*done)(void), uint32_t limit_ms)
{
    uint32_t t0 = ap_mps2_now_ms();

    for (;;) {
        net_step();
        if (done()) {
            return true;
        }
        if (ap_mps2_now_ms() - t0 >= limit_ms ||
            ap_mps2_now_ms() - g_start_ms >= PROBE_TOTAL_MS) {
            return false;
        }
    }
}

static bool have_lease(void)
{
    return dhcp_supplied_address(&g_netif) != 0;
}

static bool connect_settled(void)
{
    return g_probe.connected || g_probe.error != ERR_OK;
}

static bool reply_settled(void)
{
    return g_probe.line_done || g_probe.closed || g_probe.error != ERR_OK;
}

static bool never(void)
{
    return false;
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    probe_t *pr = (probe_t *)arg;

    (void)pcb;
    if (err != ERR_OK) {
        pr->error = err;
    } else {
        pr->connected = true;
    }
    return ERR_OK;
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    probe_t *pr = (probe_t *)arg;
    const struct pbuf *q;

    if (p == NULL) {
        pr->closed = true;
        return ERR_OK;
    }
    if (err != ERR_OK) {
        pbuf_free(p);
        return err;
    }
    for (q = p; q != NULL && !pr->line_done; q = q->next) {
        const char *data = (const char *)q->payload;
        u16_t i;

        for (i = 0; i < q->len && !pr->line_done; i++) {
            if (data[i] == '\n') {
                pr->line_done = true;
            } else if (pr->line_len + 1u < sizeof pr->line) {
                pr->line[pr->line_len++] = data[i];
            }
        }
    }
    pr->line[pr->line_len] = '\0';
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

static void on_error(void *arg, err_t err)
{
    probe_t *pr = (probe_t *)arg;

    /* lwIP has already freed the pcb. */
    pr->pcb = NULL;
    pr->error = err;
}

static void print_ip(const char *label, const ip4_addr_t *a)
{
    char buf[IP4ADDR_STRLEN_MAX];

    printf("%s %s", label, ip4addr_ntoa_r(a, buf, (int)sizeof buf));
}

static void report_resources(void)
{
    /* Fewer ticks than milliseconds: the emulator dropped SysTick
     * interrupts (the clock itself does not depend on them). */
    printf("net_probe: ran %" PRIu32 " ms, %" PRIu32 " SysTick interrupts\n",
           ap_mps2_now_ms() - g_start_ms, ap_mps2_tick_count());
    printf("net_probe: stack high water %u of %u bytes, heap %u of %u bytes, %u requests "
           "refused\n",
           (unsigned)ap_mps2_stack_high_water(), (unsigned)ap_mps2_stack_size(),
           (unsigned)ap_mps2_heap_used(), (unsigned)ap_mps2_heap_size(),
           (unsigned)ap_mps2_heap_refused());
    printf("lan9118: rx %" PRIu32 " (errors %" PRIu32 ", dropped %" PRIu32
           "), tx %" PRIu32 " (errors %" PRIu32 ", busy %" PRIu32 ")\n",
           g_eth.rx_frames, g_eth.rx_errors, g_eth.rx_dropped, g_eth.tx_frames,
           g_eth.tx_errors, g_eth.tx_busy);
}

/*
 * The board's platform services as the core will use them: the host's
 * date (unless the build takes it from SNTP), and entropy that is not
 * constant (two reads must differ; a fixed or all-zero source fails).
 */
static bool check_platform(void)
{
    ap_platform_t pf = ap_mps2_platform();
    uint8_t a[16];
    uint8_t b[16];
    int64_t now = pf.wall_time(pf.ctx);

    if (now == AP_WALL_TIME_UNKNOWN && ap_mps2_wall_clock_needs_network()) {
        /* An SNTP build (AP_MPS2_TIME=sntp): no time before an answer, and
         * the probe asks no server; alert_poster's suite tests that clock. */
        printf("platform: wall clock from SNTP, unknown until a server answers\n");
    } else if (now == AP_WALL_TIME_UNKNOWN || now < PROBE_MIN_WALL_TIME) {
        printf("platform: host time unavailable (%ld)\n", (long)now);
        return false;
    } else {
        /* newlib-nano's printf has no %lld; unsigned long lasts until 2106. */
        printf("platform: host time %lu s since 1970\n", (unsigned long)now);
        /* time() reaches the same clock through newlib's gettimeofday. */
        if ((int64_t)time(NULL) - now > 2 || now - (int64_t)time(NULL) > 2) {
            printf("platform: time() disagrees with the host clock\n");
            return false;
        }
    }
    if (pf.entropy(pf.ctx, a, sizeof a) != AP_OK ||
        pf.entropy(pf.ctx, b, sizeof b) != AP_OK) {
        printf("platform: entropy unavailable\n");
        return false;
    }
    if (memcmp(a, b, sizeof a) == 0) {
        printf("platform: entropy repeats itself\n");
        return false;
    }
    printf("platform: entropy %u bytes from the host, %02x%02x%02x%02x...\n",
           (unsigned)(sizeof a + sizeof b), a[0], a[1], a[2], a[3]);
    return true;
}

static int finish(int status, const char *why)
{
    if (g_probe.pcb != NULL) {
        tcp_arg(g_probe.pcb, NULL);
        tcp_recv(g_probe.pcb, NULL);
        tcp_err(g_probe.pcb, NULL);
        if (tcp_close(g_probe.pcb) != ERR_OK) {
            tcp_abort(g_probe.pcb);
        }
        g_probe.pcb = NULL;
        (void)run_until(never, PROBE_LINGER_MS);
    }
    report_resources();
    printf("net_probe: %s (exit %d)\n", why, status);
    return status;
}

int main(void)
{
    ip4_addr_t sink;
    err_t err;

    g_start_ms = ap_mps2_now_ms();
    g_eth.base = ap_mps2_board.lan9118_base;

    printf("net_probe: board %s (%s)\n", ap_mps2_board.name, ap_mps2_board.cpu);
    printf("lan9118: ID_REV 0x%08" PRIx32 " at 0x%08lx\n",
           ap_mps2_lan9118_read_id(g_eth.base), (unsigned long)g_eth.base);

    if (!check_platform()) {
        return finish(PROBE_EXIT_PLATFORM, "platform services missing");
    }

    lwip_init();
    if (netif_add(&g_netif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4, &g_eth,
                  ap_mps2_lan9118_init, ethernet_input) == NULL) {
        return finish(PROBE_EXIT_NIC, "LAN9118 init failed");
    }
    netif_set_default(&g_netif);
    netif_set_up(&g_netif);
    printf("lan9118: mac %02x:%02x:%02x:%02x:%02x:%02x, link %s\n",
           g_netif.hwaddr[0], g_netif.hwaddr[1], g_netif.hwaddr[2],
           g_netif.hwaddr[3], g_netif.hwaddr[4], g_netif.hwaddr[5],
           netif_is_link_up(&g_netif) ? "up" : "down");

    if (dhcp_start(&g_netif) != ERR_OK) {
        return finish(PROBE_EXIT_DHCP, "dhcp_start failed");
    }
    if (!run_until(have_lease, PROBE_DHCP_MS)) {
        return finish(PROBE_EXIT_DHCP, "no DHCP lease");
    }
    print_ip("dhcp: address", netif_ip4_addr(&g_netif));
    print_ip(" netmask", netif_ip4_netmask(&g_netif));
    print_ip(" gateway", netif_ip4_gw(&g_netif));
#if LWIP_DNS
    print_ip(" dns", ip_2_ip4(dns_getserver(0)));
#else
    /* The board builds lwIP without a resolver (lwipopts.h says why). */
    printf(" dns (no resolver)");
#endif
    printf(" after %" PRIu32 " ms\n", ap_mps2_now_ms() - g_start_ms);

    (void)ip4addr_aton(PROBE_SINK_ADDR, &sink);
    g_probe.pcb = tcp_new();
    if (g_probe.pcb == NULL) {
        return finish(PROBE_EXIT_CONNECT, "tcp_new failed");
    }
    tcp_arg(g_probe.pcb, &g_probe);
    tcp_recv(g_probe.pcb, on_recv);
    tcp_err(g_probe.pcb, on_error);
    {
        ip_addr_t dst;

        ip_addr_copy_from_ip4(dst, sink);
        err = tcp_connect(g_probe.pcb, &dst, PROBE_SINK_PORT, on_connected);
    }
    if (err != ERR_OK) {
        printf("tcp: connect error %d\n", (int)err);
        return finish(PROBE_EXIT_CONNECT, "tcp_connect failed");
    }
    if (!run_until(connect_settled, PROBE_CONNECT_MS) || !g_probe.connected) {
        printf("tcp: error %d\n", (int)g_probe.error);
        return finish(PROBE_EXIT_CONNECT, "no connection to " PROBE_SINK_ADDR);
    }
    printf("tcp: connected to %s:%u\n", PROBE_SINK_ADDR, PROBE_SINK_PORT);

    err = tcp_write(g_probe.pcb, PROBE_MESSAGE, (u16_t)strlen(PROBE_MESSAGE),
                    TCP_WRITE_FLAG_COPY);
    if (err == ERR_OK) {
        err = tcp_output(g_probe.pcb);
    }
    if (err != ERR_OK) {
        printf("tcp: write error %d\n", (int)err);
        return finish(PROBE_EXIT_SEND, "send failed");
    }
    printf("tcp: sent %u bytes\n", (unsigned)strlen(PROBE_MESSAGE));

    if (!run_until(reply_settled, PROBE_REPLY_MS) || !g_probe.line_done) {
        printf("tcp: closed %d, error %d, partial \"%s\"\n", (int)g_probe.closed,
               (int)g_probe.error, g_probe.line);
        return finish(PROBE_EXIT_REPLY, "no reply line");
    }
    printf("reply: %s\n", g_probe.line);
    return finish(PROBE_EXIT_OK, "ok");
}
