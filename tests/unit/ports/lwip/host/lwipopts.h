/*
 * lwIP options for the host unit test of ports/lwip: NO_SYS=1 and the raw
 * API, like the boards, with the loopback netif (127.0.0.1, ::1) so that
 * client and server run in one process over the real TCP code.
 */
#ifndef AP_TEST_LWIPOPTS_H
#define AP_TEST_LWIPOPTS_H

#define NO_SYS                      1
#define SYS_LIGHTWEIGHT_PROT        0
#define LWIP_SOCKET                 0
#define LWIP_NETCONN                0

#define LWIP_IPV4                   1
#define LWIP_IPV6                   1
#define LWIP_TCP                    1
#define LWIP_UDP                    1
#define LWIP_DNS                    1
#define LWIP_DHCP                   0
#define LWIP_IPV6_DHCP6             0
#define LWIP_ARP                    0
/* 64-bit pointers do not fit in the IPv6 fragment header lwIP reuses. */
#define IPV6_FRAG_COPYHEADER        1

/* The loopback netif, polled by the test (netif_poll_all). */
#define LWIP_HAVE_LOOPIF            1
#define LWIP_NETIF_LOOPBACK         1
#define LWIP_LOOPBACK_MAX_PBUFS     0

/* Pools and heap on malloc, so that AddressSanitizer sees every pbuf and
 * PCB the port touches; the statistics still count them, which is how the
 * test finds leaks. */
#define MEM_LIBC_MALLOC             1
#define MEMP_MEM_MALLOC             1
#define MEM_ALIGNMENT               8

#define LWIP_STATS                  1
#define MEM_STATS                   1
#define MEMP_STATS                  1
#define LWIP_STATS_DISPLAY          0

/* A small send buffer, so that a 100 kB send takes many short writes. */
#define TCP_MSS                     1460
#define TCP_SND_BUF                 (4 * TCP_MSS)
#define TCP_SND_QUEUELEN            (4 * TCP_SND_BUF / TCP_MSS)
#define TCP_WND                     (4 * TCP_MSS)
#define LWIP_WND_SCALE              0

/* A name that resolves without a query (the ERR_OK path of
 * dns_gethostbyname); others are asked of the test's DNS responder. */
#define DNS_LOCAL_HOSTLIST          1
#define DNS_LOCAL_HOSTLIST_IS_DYNAMIC 0
#define DNS_LOCAL_HOSTLIST_INIT \
    { DNS_LOCAL_HOSTLIST_ELEM("local.alertpost.test", IPADDR4_INIT_BYTES(127, 0, 0, 1)) }

#endif /* AP_TEST_LWIPOPTS_H */
