/*
 * lwIP options for the MPS2 boards: bare metal (NO_SYS=1, raw API only),
 * IPv4 with DHCP and DNS, TCP sized for one TLS client connection at a time.
 * Everything not set here keeps lwIP's default from lwip/opt.h.
 *
 * Works with lwIP 2.1.x and 2.2.x.
 */
#ifndef AP_MPS2_LWIPOPTS_H
#define AP_MPS2_LWIPOPTS_H

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
 * (TCP_SND_BUF at most), outgoing DHCP/DNS/ARP packets, and reassembly
 * slack. 16 KiB fits a full send buffer (5840 B) plus headers and
 * control traffic twice over. */
#define MEM_SIZE                    (16 * 1024)

/* Received frames: the driver copies each into a chain from this pool.
 * Each buffer holds a full-size frame (PBUF_POOL_BUFSIZE is derived from
 * TCP_MSS), so 12 buffers (about 18 KiB) cover a full receive window of
 * 4 segments plus ARP/DHCP/DNS traffic and out-of-order segments. */
#define PBUF_POOL_SIZE              12

/* pbufs that only reference data (PBUF_ROM/REF): few are used with
 * tcp_write(..., TCP_WRITE_FLAG_COPY). */
#define MEMP_NUM_PBUF               8

/* One TLS client connection, plus sockets left in TIME_WAIT from earlier
 * posts and one spare. No listening sockets are needed, but lwIP requires
 * at least one. */
#define MEMP_NUM_TCP_PCB            4
#define MEMP_NUM_TCP_PCB_LISTEN     1

/* DHCP and DNS each use one UDP pcb; one spare. */
#define MEMP_NUM_UDP_PCB            3

/* Queued TCP segments: must cover TCP_SND_QUEUELEN (below) and the
 * out-of-order segments kept on receive. */
#define MEMP_NUM_TCP_SEG            24

/* lwIP's own timers plus the LAN9118 driver's link-state timer and one for
 * the application. */
#define MEMP_NUM_SYS_TIMEOUT        (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 2)

/* Addresses to resolve at once: one at a time, plus the gateway and DNS
 * server. */
#define ARP_TABLE_SIZE              4
#define ARP_QUEUEING                1
#define MEMP_NUM_ARP_QUEUE          4

/* ---- Protocols --------------------------------------------------------- */

#define LWIP_IPV4                   1
#define LWIP_IPV6                   0
#define LWIP_ARP                    1
#define LWIP_ETHERNET               1
#define LWIP_ICMP                   1
#define LWIP_RAW                    0
#define LWIP_UDP                    1
#define LWIP_TCP                    1
#define LWIP_IGMP                   0
#define LWIP_AUTOIP                 0
#define IP_REASSEMBLY               1
#define IP_FRAG                     1

/* One interface: lets lwIP drop its interface lookups. */
#define LWIP_SINGLE_NETIF           1
#define LWIP_NETIF_STATUS_CALLBACK  1
#define LWIP_NETIF_LINK_CALLBACK    1

/* DHCP against QEMU's user-mode network (or any LAN). The address
 * conflict probe before using a lease (lwIP 2.2: ACD, 2.1: ARP check)
 * costs several seconds per boot; QEMU's user network holds exactly one
 * guest, so there is nothing to conflict with. A board on a shared LAN
 * would turn it back on. */
#define LWIP_DHCP                   1
#define LWIP_DHCP_DOES_ACD_CHECK    0
#define DHCP_DOES_ARP_CHECK         0

/* DNS: servers come from DHCP; two outstanding names at most. */
#define LWIP_DNS                    1
#define DNS_TABLE_SIZE              2
#define DNS_MAX_NAME_LENGTH         128

/* Local ports and DNS/DHCP ids come from LWIP_RAND() (arch/cc.h), which
 * reads the host's entropy; start local ports at a random point too. */
#define LWIP_RANDOMIZE_INITIAL_LOCAL_PORTS 1

/* ---- TCP ---------------------------------------------------------------
 * Sized for one TLS client: a TLS record is at most 16 KiB + overhead, but
 * the TLS layer reads it in pieces, so a few segments of window suffice. */

/* Full Ethernet segments (1500 - 20 IP - 20 TCP). */
#define TCP_MSS                     1460

/* Receive window: 4 segments (5840 B). Must not exceed what PBUF_POOL can
 * hold (12 buffers above). */
#define TCP_WND                     (4 * TCP_MSS)

/* Send buffer: 4 segments, so a TLS handshake flight or one request record
 * goes out without waiting for ACKs. */
#define TCP_SND_BUF                 (4 * TCP_MSS)
#define TCP_SND_QUEUELEN            ((4 * (TCP_SND_BUF) + (TCP_MSS - 1)) / (TCP_MSS))

/* Keep out-of-order segments, bounded, so one lost segment does not force
 * the whole window to be resent. */
#define TCP_QUEUE_OOSEQ             1
#define TCP_OOSEQ_MAX_PBUFS         4

#define LWIP_TCP_KEEPALIVE          0
#define LWIP_TCP_TIMESTAMPS         0
#define LWIP_ALTCP                  0

/* ---- Checksums ---------------------------------------------------------
 * The LAN9118 computes none (QEMU's model has no offload at all), so lwIP
 * generates and checks every checksum in software: the defaults. */

/* ---- Statistics and debugging ----------------------------------------- */

#define LWIP_STATS                  0
/* LWIP_DEBUG is tested with #ifdef: leave it undefined to keep it off. */

#endif /* AP_MPS2_LWIPOPTS_H */
