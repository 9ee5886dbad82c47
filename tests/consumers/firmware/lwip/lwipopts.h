/* The product's lwIP options: bare metal (NO_SYS), raw API, IPv4 with DHCP
 * and DNS, one TCP connection at a time. */
#ifndef SENSOR_LWIPOPTS_H
#define SENSOR_LWIPOPTS_H

#define NO_SYS                      1
#define SYS_LIGHTWEIGHT_PROT        0
#define LWIP_NETCONN                0
#define LWIP_SOCKET                 0
#define MEM_ALIGNMENT               4
#define MEM_SIZE                    (6 * 1024)
#define PBUF_POOL_SIZE              6
#define MEMP_NUM_TCP_PCB            2
#define LWIP_IPV4                   1
#define LWIP_IPV6                   0
#define LWIP_ARP                    1
#define LWIP_ETHERNET               1
#define LWIP_TCP                    1
#define LWIP_UDP                    1
#define LWIP_DHCP                   1
#define LWIP_DNS                    1
#define TCP_MSS                     1460
#define TCP_WND                     (2 * TCP_MSS)
#define TCP_SND_BUF                 (2 * TCP_MSS)
#define LWIP_STATS                  0

#endif /* SENSOR_LWIPOPTS_H */
