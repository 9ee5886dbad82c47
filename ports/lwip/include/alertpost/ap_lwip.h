/**
 * @file ap_lwip.h
 * @brief The lwIP port: TCP over lwIP's raw API, for NO_SYS=1 (bare metal).
 *
 * lwIP's raw API is callback driven and never blocks; the core expects calls
 * that wait up to a timeout. The port bridges the two by polling: while a
 * call waits it runs a board-supplied hook that drives the stack (reads
 * frames from the MAC, calls sys_check_timeouts()), and re-checks what the
 * callbacks have recorded. Deadlines are measured with lwIP's sys_now().
 *
 * Nothing is allocated by the port: the connection state lives in a
 * caller-owned ap_lwip_conn_t; the TCP PCB and the received pbufs come from
 * lwIP's own pools and are returned to them by close().
 *
 * Only one connect() may wait on a DNS answer at a time, which the single
 * thread of a NO_SYS system guarantees unless the poll hook itself calls
 * into the transport (it MUST NOT).
 */
#ifndef ALERTPOST_AP_LWIP_H
#define ALERTPOST_AP_LWIP_H

#include <stddef.h>
#include <stdint.h>

#include "alertpost/ap_transport.h"
#include "lwip/ip_addr.h"

#ifdef __cplusplus
extern "C" {
#endif

struct tcp_pcb;
struct pbuf;

/**
 * Drives the stack once while a transport call waits: feed received frames
 * to lwIP (netif->input), call sys_check_timeouts(), and let sys_now()
 * advance. It MUST return (it is called in a loop until a deadline) and MUST
 * NOT call the transport.
 */
typedef void (*ap_lwip_poll_fn)(void *poll_ctx);

/** Size of the text describe() returns, including its NUL. */
#define AP_LWIP_DETAIL_SIZE 128u

/**
 * State of one lwIP connection. Caller-owned; treat as opaque. It must stay
 * at the same address from connect() until close().
 */
typedef struct ap_lwip_conn {
    struct tcp_pcb *pcb;     /* NULL when closed, or once lwIP freed it */
    struct pbuf *rx;         /* received data not yet handed out, in order */
    size_t rx_off;           /* bytes of rx (its first pbuf) already handed out */
    uint8_t flags;           /* AP_LWIP_F_* in ap_lwip_transport.c */
    int8_t last_err;         /* lwIP err_t of the last failure; ERR_OK if none */
    ip_addr_t addr;          /* the address connect() resolved */
    ap_lwip_poll_fn poll;
    void *poll_ctx;
    char detail[AP_LWIP_DETAIL_SIZE]; /* what describe() returns */
} ap_lwip_conn_t;

/**
 * @brief Fill transport with the lwIP functions over conn, and set conn to
 * the closed state. Calls nothing in lwIP.
 *
 * The functions behave as ap_transport.h requires, with these specifics:
 * - connect() takes an IPv4 literal (and an IPv6 literal where LWIP_IPV6) or
 *   a name resolved with dns_gethostbyname(). It returns AP_ERR_DNS when the
 *   name does not resolve (also when no DNS server is set, or the build has
 *   LWIP_DNS 0), AP_ERR_CONNECT when the peer refuses (RST), no route exists
 *   or the stack gives up on the handshake, AP_ERR_TIMEOUT when the deadline
 *   passes first (the half-open PCB is aborted), AP_ERR_IO when lwIP has no
 *   free PCB, and AP_ERR_BAD_ARG for a NULL host. A conn that is open is
 *   closed first. Nagle's algorithm is off on the connection.
 * - send() queues at most what fits in the send buffer now (a short write is
 *   normal) and returns the count queued; AP_ERR_TIMEOUT if nothing could be
 *   queued before the deadline; AP_ERR_IO after a reset or stack error, or
 *   when not connected; AP_ERR_BAD_ARG for a NULL buf with len > 0; 0 only
 *   for len 0.
 * - recv() hands out received data first, even after the peer ended or reset
 *   the connection; then AP_ERR_CLOSED (FIN, repeatable), AP_ERR_IO (reset,
 *   stack error, not connected) or AP_ERR_TIMEOUT. AP_ERR_BAD_ARG for a NULL
 *   buf with size > 0; 0 only for size 0.
 * - close() sends FIN (or RST when unread data is discarded, as sockets do)
 *   and frees the queued pbufs; safe on a closed conn.
 * - describe() gives a phrase such as "connection reset by peer".
 *
 * A timeout of 0 checks once without waiting. poll may be NULL only where
 * the stack is driven from interrupts and sys_now() advances by itself.
 *
 * @param transport filled in; must not be NULL.
 * @param conn the connection state; must not be NULL.
 * @param poll the hook run while a call waits (see ap_lwip_poll_fn).
 * @param poll_ctx passed to poll.
 */
void ap_lwip_transport_init(ap_transport_t *transport, ap_lwip_conn_t *conn,
                            ap_lwip_poll_fn poll, void *poll_ctx);

#ifdef __cplusplus
}
#endif

#endif /* ALERTPOST_AP_LWIP_H */
