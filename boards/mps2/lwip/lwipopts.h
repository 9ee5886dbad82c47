/*
 * lwIP options for the MPS2 boards: bare metal (NO_SYS=1, raw API only),
 * IPv4 with DHCP and DNS, TCP sized for one TLS client connection at a time.
 * Everything not set here keeps lwIP's default from lwip/opt.h.
 *
 * RAM is the budget that decides these numbers (64 KiB for the whole
 * firmware while it posts). The receive side does not need to hold a TLS
 * record: Mbed TLS copies the record into its own 16 KiB input buffer as it
 * arrives, and the lwIP transport only opens the window (tcp_recved) for
 * what it handed over, so lwIP holds at most one window of data, whatever
 * the record size. A small window costs throughput, not correctness.
 *
 * Works with lwIP 2.1.x and 2.2.x.
 */
#ifndef AP_MPS2_LWIPOPTS_H
#define AP_MPS2_LWIPOPTS_H

/* 1 when the board's wall clock is SNTP (AP_MPS2_TIME=sntp; the build
 * defines it for lwIP and everything built against it). */
#ifndef AP_MPS2_TIME_SNTP
#define AP_MPS2_TIME_SNTP           0
#endif

/* ---- System ------------------------------------------------------------ */

/* No RTOS: the application's main loop calls ap_mps2_lan9118_poll() and
 * sys_check_timeouts(); lwIP is never entered from an interrupt, so it
 * needs no locking. */
#define NO_SYS                      1
#define SYS_LIGHTWEIGHT_PROT        0
#define LWIP_NETCONN                0
#define LWIP_SOCKET                 0

/* ---- Memory -----------------------------------------------------------
 * lwIP allocates only from its own static pools and heap (no malloc). */

/* Cortex-M loads words only from 4-byte-aligned addresses reliably (LDM,
 * LDRD fault when unaligned). */
#define MEM_ALIGNMENT               4

/* lwIP's heap holds PBUF_RAM buffers: everything tcp_write() copies
 * (TCP_SND_BUF, 2920 B, at most, as two full segments with their headers,
 * about 3.1 KiB), bare ACKs, and the outgoing DHCP/DNS/ARP packets (under
 * 700 B each). 5 KiB holds a full send buffer and a DHCP renewal at once. */
#define MEM_SIZE                    (5 * 1024)

/* Received frames: the driver copies each into a chain from this pool.
 * Each buffer holds a full-size frame (PBUF_POOL_BUFSIZE is derived from
 * TCP_MSS, about 1.5 KiB), so 4 buffers cover the receive window of 2
 * segments plus one ARP/DHCP frame and one spare. A frame that finds the
 * pool empty is dropped by the driver and TCP sends it again. */
#define PBUF_POOL_SIZE              4

/* pbufs that only reference data (PBUF_ROM/REF): few are used with
 * tcp_write(..., TCP_WRITE_FLAG_COPY). */
#define MEMP_NUM_PBUF               4

/* One TLS client connection, and one left in TIME_WAIT by the previous
 * post (lwIP reuses the oldest TIME_WAIT pcb when it runs out). No
 * listening sockets are needed, but lwIP requires at least one. */
#define MEMP_NUM_TCP_PCB            2
#define MEMP_NUM_TCP_PCB_LISTEN     1

/* DHCP uses one UDP pcb, and the SNTP client (AP_MPS2_TIME=sntp) one; DNS
 * would take one more (it is off, below). */
#define MEMP_NUM_UDP_PCB            2

/* Queued TCP segments: must cover TCP_SND_QUEUELEN (below). */
#define MEMP_NUM_TCP_SEG            8

/* lwIP's own timers plus the LAN9118 driver's link-state timer and one for
 * the application, and the SNTP client's poll (AP_MPS2_TIME=sntp). */
#define MEMP_NUM_SYS_TIMEOUT        (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 2 + AP_MPS2_TIME_SNTP)

/* Addresses to resolve at once: the peer or gateway, and the DHCP server. */
#define ARP_TABLE_SIZE              2
/* While an address resolves, lwIP keeps the latest packet for it (not a
 * queue): the client's first packet to a peer is its SYN, which TCP
 * resends anyway. */
#define ARP_QUEUEING                0

/* ---- Protocols --------------------------------------------------------- */

#define LWIP_IPV4                   1
#define LWIP_IPV6                   0
#define LWIP_ARP                    1
#define LWIP_ETHERNET               1
/* No ICMP: the board answers no ping and sends no port-unreachable; lwIP's
 * TCP does not act on incoming ICMP errors anyway (a dead server shows as a
 * connect timeout or a reset either way). */
#define LWIP_ICMP                   0
#define LWIP_RAW                    0
#define LWIP_UDP                    1
#define LWIP_TCP                    1
#define LWIP_IGMP                   0
#define LWIP_AUTOIP                 0
/* Nothing this client sends exceeds the MTU (TCP segments are cut to the
 * MSS, DHCP and DNS queries are small) and nothing it needs arrives
 * fragmented (TCP segments follow the advertised MSS, DHCP and DNS answers
 * fit in 576 bytes), so the fragmentation code is left out. */
#define IP_REASSEMBLY               0
#define IP_FRAG                     0

/* One interface: lets lwIP drop its interface lookups. */
#define LWIP_SINGLE_NETIF           1
/* No status or link callbacks: the firmware waits for dhcp_supplied_address(),
 * and lwIP tells DHCP of a link change without them. */
#define LWIP_NETIF_STATUS_CALLBACK  0
#define LWIP_NETIF_LINK_CALLBACK    0

/* DHCP against QEMU's user-mode network (or any LAN). The address
 * conflict probe before using a lease (lwIP 2.2: ACD, 2.1: ARP check)
 * costs several seconds per boot; QEMU's user network holds exactly one
 * guest, so there is nothing to conflict with. A board on a shared LAN
 * would turn it back on. */
#define LWIP_DHCP                   1
#define LWIP_DHCP_DOES_ACD_CHECK    0
#define DHCP_DOES_ARP_CHECK         0

/* No DNS: QEMU's restricted user network hands out no DNS server, and the
 * firmware connects to the guestfwd address by IP (connect_host), so the
 * resolver was 2.3 KiB of flash that could never run. The lwIP port then
 * answers a host name with AP_ERR_DNS. A board on a real LAN turns it on
 * (servers come from DHCP; DNS_TABLE_SIZE 1 is enough for one sink). */
#define LWIP_DNS                    0

/* Local ports and DHCP ids come from LWIP_RAND() (arch/cc.h), which
 * reads the host's entropy; start local ports at a random point too. */
#define LWIP_RANDOMIZE_INITIAL_LOCAL_PORTS 1

/* ---- SNTP (AP_MPS2_TIME=sntp only) ---------------------------------------
 * The board's wall clock from lwIP's SNTP client (src/apps/sntp, built into
 * the image only for this choice); the hooks are in
 * common/wall_clock_sntp.c, which applies the board's time policy. */
#if AP_MPS2_TIME_SNTP
#include <stdint.h>
void ap_mps2_sntp_set_time(uint32_t sec, uint32_t usec);
void ap_mps2_sntp_get_time(uint32_t *sec, uint32_t *usec);

/* The server from DHCP option 42 (SNTP_GET_SERVERS_FROM_DHCP follows it)
 * unless one is configured; one server, by address (no DNS). */
#define LWIP_DHCP_GET_NTP_SRV       1
#define LWIP_DHCP_MAX_NTP_SERVERS   1
#define SNTP_SERVER_DNS             0
/* Ask at once: the board has no time until the answer, and TLS waits on
 * it. lwIP's default waits a random 0-5 s, which spreads a fleet that
 * boots together; the DHCP exchange before already spreads them a little. */
#define SNTP_STARTUP_DELAY          0
/* Take an answer only from the server's address and port, and only if it
 * echoes the request's transmit timestamp (a nonce, see the hook). */
#define SNTP_CHECK_RESPONSE         2
#define SNTP_SET_SYSTEM_TIME_US(sec, us) ap_mps2_sntp_set_time((sec), (us))
#define SNTP_GET_SYSTEM_TIME(sec, us)    ap_mps2_sntp_get_time(&(sec), &(us))
/* The next request after an answer: an hour once the clock is set (lwIP's
 * default, far inside the 49-day wrap of the board counter the clock runs
 * on between answers), a minute while none was accepted: to lwIP a refused
 * answer is a good one, and it would wait the hour. Both keep RFC 4330's
 * 15 s minimum, which lwIP checks only on a constant, hence the
 * suppression. Without an answer lwIP retries from 15 s, doubling up to
 * 150 s (its defaults). */
uint32_t ap_mps2_sntp_update_delay_ms(void);
#define SNTP_UPDATE_DELAY           ap_mps2_sntp_update_delay_ms()
#define SNTP_SUPPRESS_DELAY_CHECK   1
#endif

/* ---- TCP ---------------------------------------------------------------
 * Sized for one TLS client: a TLS record is at most 16 KiB + overhead, but
 * the TLS layer reads it in pieces, so a small window suffices. */

/* Full Ethernet segments (1500 - 20 IP - 20 TCP): a smaller MSS would save
 * no memory (the window is what is held) and cost more segments. */
#define TCP_MSS                     1460
/* The one netif is Ethernet, whose MTU (1500) already fits TCP_MSS: no
 * per-segment check of the outgoing netif's MTU (88 bytes of flash). The
 * peer's MSS option still bounds what is sent. */
#define TCP_CALCULATE_EFF_SEND_MSS  0

/* Receive window: 2 segments (2920 B), the least lwIP accepts with a full
 * MSS. A 16 KiB record arrives in 6 windows. Must not exceed what
 * PBUF_POOL can hold (4 buffers above). */
#define TCP_WND                     (2 * TCP_MSS)

/* Send buffer: 2 segments, the least lwIP accepts. The ClientHello and the
 * request (each under 1 KiB) go out in one segment; a larger write waits
 * for ACKs, which the transport does. */
#define TCP_SND_BUF                 (2 * TCP_MSS)
#define TCP_SND_QUEUELEN            8
/* No over-allocated segments to fill with a later write: the client writes
 * a record at a time, and the code that fills them is left out. */
#define TCP_OVERSIZE                0

/* With a window of two segments there is little to reorder: a lost segment
 * is resent with the one after it, so out-of-order segments are not kept. */
#define TCP_QUEUE_OOSEQ             0

#define LWIP_TCP_KEEPALIVE          0
#define LWIP_TCP_TIMESTAMPS         0
#define LWIP_ALTCP                  0

/* ---- Checksums ---------------------------------------------------------
 * The LAN9118 computes none (QEMU's model has no offload at all), so lwIP
 * generates and checks every checksum in software: the defaults. */

/* ---- Statistics and debugging ----------------------------------------- */

#define LWIP_STATS                  0
/* lwIP's assertions follow the C library's assert(): on in Debug builds,
 * where a failed one ends the run with the board's assert status
 * (arch/cc.h), and off where NDEBUG is set (MinSizeRel, Release), where
 * their messages and file names would cost 11 KiB of flash. The argument
 * checks lwIP makes with LWIP_ERROR stay in either way. */
#ifdef NDEBUG
#define LWIP_NOASSERT               1
#endif
/* LWIP_DEBUG is tested with #ifdef: leave it undefined to keep it off. */

#endif /* AP_MPS2_LWIPOPTS_H */
