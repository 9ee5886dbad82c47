/*
 * The lwIP transport: ap_transport.h over the raw TCP API (NO_SYS=1).
 *
 * lwIP reports everything through callbacks that run inside the stack (from
 * the poll hook). The callbacks only record what happened in the conn; the
 * transport functions poll until the record says they can return, or until
 * their deadline. No callback ever calls back into lwIP, so none can free
 * what the stack is still using.
 */
#include "alertpost/ap_lwip.h"

#include <string.h>

#include "lwip/opt.h"
#include "lwip/err.h"
#include "lwip/ip_addr.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"
#if LWIP_DNS
#include "lwip/dns.h"
#endif

#if !NO_SYS
#error "ports/lwip calls the raw API from the caller's thread: it needs NO_SYS=1"
#endif
#if !LWIP_TCP
#error "ports/lwip needs LWIP_TCP=1"
#endif

#define AP_LWIP_F_CONNECTED 0x01u /* handshake done, pcb usable */
#define AP_LWIP_F_FIN       0x02u /* the peer sent FIN */
#define AP_LWIP_F_ERROR     0x04u /* err callback ran: lwIP freed the pcb */
#define AP_LWIP_F_DNS_DONE  0x08u /* the DNS callback ran */
#define AP_LWIP_F_DNS_FOUND 0x10u /* ... with an address (in conn->addr) */

/* tcp_write() and tcp_recved() take a u16_t length. */
#define AP_LWIP_U16_MAX 0xFFFFu

/*
 * lwIP cannot cancel a DNS query, and its callback may run long after the
 * connect() that started it gave up, when that conn may be gone or reused.
 * So the callback is registered without an argument and finds its conn here,
 * set only while a connect() waits. One waiter is enough: a NO_SYS system
 * has one thread, and the poll hook may not call the transport.
 */
#if LWIP_DNS
static ap_lwip_conn_t *ap_lwip_dns_waiter;
static const char *ap_lwip_dns_name;
#endif

/* ---- the detail text, without snprintf (heavy, and newlib may malloc) --- */

static size_t ap_lwip_put(char *dst, size_t at, const char *s)
{
    while (*s != '\0' && at + 1u < AP_LWIP_DETAIL_SIZE) {
        dst[at++] = *s++;
    }
    dst[at] = '\0';
    return at;
}

static size_t ap_lwip_put_u32(char *dst, size_t at, uint32_t v)
{
    char digits[11];
    size_t n = sizeof digits - 1u;

    digits[n] = '\0';
    do {
        digits[--n] = (char)('0' + (v % 10u));
        v /= 10u;
    } while (v != 0u);
    return ap_lwip_put(dst, at, &digits[n]);
}

static void ap_lwip_detail(ap_lwip_conn_t *conn, const char *a, const char *b,
                           const char *c)
{
    size_t at = ap_lwip_put(conn->detail, 0, a);

    at = ap_lwip_put(conn->detail, at, b);
    (void)ap_lwip_put(conn->detail, at, c);
}

static void ap_lwip_detail_timeout(ap_lwip_conn_t *conn, const char *what,
                                   uint32_t timeout_ms)
{
    size_t at = ap_lwip_put(conn->detail, 0, what);

    at = ap_lwip_put(conn->detail, at, " timed out after ");
    at = ap_lwip_put_u32(conn->detail, at, timeout_ms);
    (void)ap_lwip_put(conn->detail, at, " ms");
}

static void ap_lwip_detail_err(ap_lwip_conn_t *conn, err_t err)
{
    const char *phrase;

    conn->last_err = (int8_t)err;
    switch (err) {
    case ERR_RST: phrase = "connection reset by peer"; break;
    case ERR_ABRT: phrase = "connection aborted by lwIP"; break;
    case ERR_CLSD: phrase = "connection closed"; break;
    case ERR_CONN: phrase = "not connected"; break;
    case ERR_MEM: phrase = "out of memory in lwIP"; break;
    case ERR_BUF: phrase = "out of buffers in lwIP"; break;
    case ERR_RTE: phrase = "no route to host"; break;
    case ERR_TIMEOUT: phrase = "timed out in lwIP"; break;
    case ERR_USE: phrase = "address in use"; break;
    case ERR_ISCONN: phrase = "already connected"; break;
    default: {
        size_t at = ap_lwip_put(conn->detail, 0, "lwIP error ");

        if (err < 0) {
            at = ap_lwip_put(conn->detail, at, "-");
        }
        (void)ap_lwip_put_u32(conn->detail, at,
                              (uint32_t)(err < 0 ? -(int)err : (int)err));
        return;
    }
    }
    ap_lwip_detail(conn, phrase, "", "");
}

/* ---- waiting ------------------------------------------------------------ */

static int ap_lwip_expired(uint32_t start, uint32_t timeout_ms)
{
    return (uint32_t)(sys_now() - start) >= timeout_ms;
}

static void ap_lwip_drive(const ap_lwip_conn_t *conn)
{
    if (conn->poll != NULL) {
        conn->poll(conn->poll_ctx);
    }
}

/* ---- lwIP callbacks: record only ----------------------------------------- */

static err_t ap_lwip_on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    ap_lwip_conn_t *conn = (ap_lwip_conn_t *)arg;

    LWIP_UNUSED_ARG(pcb);
    LWIP_UNUSED_ARG(err); /* always ERR_OK: failures go to the err callback */
    if (conn != NULL) {
        conn->flags |= AP_LWIP_F_CONNECTED;
    }
    return ERR_OK;
}

static err_t ap_lwip_on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p,
                             err_t err)
{
    ap_lwip_conn_t *conn = (ap_lwip_conn_t *)arg;

    LWIP_UNUSED_ARG(pcb);
    if (p == NULL) {
        if (conn != NULL) {
            conn->flags |= AP_LWIP_F_FIN;
        }
        return ERR_OK;
    }
    if (conn == NULL || err != ERR_OK) {
        /* Not for a live conn (or a stack error lwIP never reports here in
         * 2.x): taking it and dropping it is what tcp_recv_null does. */
        pbuf_free(p);
        return ERR_OK;
    }
    /* The queue is bounded by the receive window: the window only reopens
     * (tcp_recved) for what recv() handed out. Only per-pbuf len and next
     * are used below; the head's u16_t tot_len may wrap with a scaled
     * window and is never read. */
    if (conn->rx == NULL) {
        conn->rx = p;
        conn->rx_off = 0;
    } else {
        pbuf_cat(conn->rx, p);
    }
    return ERR_OK;
}

static void ap_lwip_on_err(void *arg, err_t err)
{
    ap_lwip_conn_t *conn = (ap_lwip_conn_t *)arg;

    if (conn != NULL) {
        conn->pcb = NULL; /* already freed by lwIP */
        conn->flags |= AP_LWIP_F_ERROR;
        conn->last_err = (int8_t)err;
    }
}

#if LWIP_DNS
static int ap_lwip_same_name(const char *a, const char *b)
{
    for (;; ++a, ++b) {
        char ca = *a;
        char cb = *b;

        if (ca >= 'A' && ca <= 'Z') {
            ca = (char)(ca - 'A' + 'a');
        }
        if (cb >= 'A' && cb <= 'Z') {
            cb = (char)(cb - 'A' + 'a');
        }
        if (ca != cb) {
            return 0;
        }
        if (ca == '\0') {
            return 1;
        }
    }
}

static void ap_lwip_on_dns(const char *name, const ip_addr_t *ipaddr, void *arg)
{
    ap_lwip_conn_t *conn = ap_lwip_dns_waiter;

    LWIP_UNUSED_ARG(arg);
    if (conn == NULL || name == NULL || !ap_lwip_same_name(name, ap_lwip_dns_name)) {
        return; /* the answer to a connect() that already gave up */
    }
    if (ipaddr != NULL) {
        ip_addr_copy(conn->addr, *ipaddr);
        conn->flags |= AP_LWIP_F_DNS_FOUND;
    }
    conn->flags |= AP_LWIP_F_DNS_DONE;
}
#endif

/* ---- the transport ------------------------------------------------------- */

static void ap_lwip_close(void *ctx)
{
    ap_lwip_conn_t *conn = (ap_lwip_conn_t *)ctx;
    struct tcp_pcb *pcb;

    if (conn == NULL) {
        return;
    }
    pcb = conn->pcb;
    conn->pcb = NULL;
    if (pcb != NULL) {
        /* Detach first: tcp_abort() calls the err callback, and a closing pcb
         * lingers in lwIP (FIN_WAIT, TIME_WAIT) after conn is reused. With
         * no recv callback lwIP drops late data itself. */
        tcp_arg(pcb, NULL);
        tcp_recv(pcb, NULL);
        tcp_err(pcb, NULL);
        if ((conn->flags & AP_LWIP_F_CONNECTED) == 0u || tcp_close(pcb) != ERR_OK) {
            tcp_abort(pcb);
        }
    }
    if (conn->rx != NULL) {
        pbuf_free(conn->rx);
        conn->rx = NULL;
    }
    conn->rx_off = 0;
    conn->flags = 0;
}

static ap_status_t ap_lwip_resolve(ap_lwip_conn_t *conn, const char *host,
                                   uint32_t start, uint32_t timeout_ms)
{
#if LWIP_DNS
    err_t err;
#endif

    if (ipaddr_aton(host, &conn->addr)) {
        return AP_OK;
    }
#if LWIP_DNS
    err = dns_gethostbyname(host, &conn->addr, ap_lwip_on_dns, NULL);
    if (err == ERR_OK) {
        return AP_OK; /* cached, or in the local host list */
    }
    if (err != ERR_INPROGRESS) {
        /* ERR_VAL: no DNS server set; ERR_ARG: name too long or empty;
         * ERR_MEM: no free DNS table entry. */
        ap_lwip_detail(conn, "cannot look up '", host,
                       err == ERR_VAL ? "': no DNS server set"
                                      : "': name invalid or DNS table full");
        return AP_ERR_DNS;
    }
    conn->flags &= (uint8_t)~(AP_LWIP_F_DNS_DONE | AP_LWIP_F_DNS_FOUND);
    ap_lwip_dns_waiter = conn;
    ap_lwip_dns_name = host;
    for (;;) {
        if ((conn->flags & AP_LWIP_F_DNS_DONE) != 0u) {
            ap_lwip_dns_waiter = NULL;
            if ((conn->flags & AP_LWIP_F_DNS_FOUND) != 0u) {
                return AP_OK;
            }
            ap_lwip_detail(conn, "no DNS answer for '", host, "'");
            return AP_ERR_DNS;
        }
        if (ap_lwip_expired(start, timeout_ms)) {
            ap_lwip_dns_waiter = NULL;
            ap_lwip_detail_timeout(conn, "DNS lookup", timeout_ms);
            return AP_ERR_TIMEOUT;
        }
        ap_lwip_drive(conn);
    }
#else
    LWIP_UNUSED_ARG(start);
    LWIP_UNUSED_ARG(timeout_ms);
    ap_lwip_detail(conn, "'", host, "' is not an address (no DNS in this build)");
    return AP_ERR_DNS;
#endif
}

static ap_status_t ap_lwip_connect(void *ctx, const char *host, uint16_t port,
                                   uint32_t timeout_ms)
{
    ap_lwip_conn_t *conn = (ap_lwip_conn_t *)ctx;
    uint32_t start = sys_now();
    ap_status_t status;
    struct tcp_pcb *pcb;
    err_t err;

    if (conn == NULL || host == NULL) {
        return AP_ERR_BAD_ARG;
    }
    ap_lwip_close(conn);
    conn->detail[0] = '\0';
    conn->last_err = (int8_t)ERR_OK;

    status = ap_lwip_resolve(conn, host, start, timeout_ms);
    if (status != AP_OK) {
        return status;
    }

    pcb = tcp_new_ip_type((u8_t)IP_GET_TYPE(&conn->addr));
    if (pcb == NULL) {
        ap_lwip_detail(conn, "no free TCP PCB in lwIP", "", "");
        return AP_ERR_IO;
    }
    conn->pcb = pcb;
    /* The core writes whole TLS records and then waits for an answer, so
     * Nagle only adds a round trip; and in lwIP a Nagle-held segment also
     * holds back a due ACK, which can stall both ends until a retransmit. */
    tcp_nagle_disable(pcb);
    tcp_arg(pcb, conn);
    tcp_recv(pcb, ap_lwip_on_recv);
    tcp_err(pcb, ap_lwip_on_err);
    err = tcp_connect(pcb, &conn->addr, port, ap_lwip_on_connected);
    if (err != ERR_OK) {
        ap_lwip_close(conn);
        ap_lwip_detail_err(conn, err);
        return err == ERR_RTE ? AP_ERR_CONNECT : AP_ERR_IO;
    }

    for (;;) {
        if ((conn->flags & AP_LWIP_F_CONNECTED) != 0u) {
            return AP_OK;
        }
        if ((conn->flags & AP_LWIP_F_ERROR) != 0u) {
            err = (err_t)conn->last_err;
            ap_lwip_close(conn);
            if (err == ERR_RST) {
                ap_lwip_detail(conn, "connection refused", "", "");
                conn->last_err = (int8_t)err;
            } else if (err == ERR_ABRT) {
                /* lwIP aborts a handshake whose SYN retries ran out. */
                ap_lwip_detail(conn, "no answer to the connection request", "", "");
                conn->last_err = (int8_t)err;
            } else {
                ap_lwip_detail_err(conn, err);
            }
            return AP_ERR_CONNECT;
        }
        if (ap_lwip_expired(start, timeout_ms)) {
            ap_lwip_close(conn);
            ap_lwip_detail_timeout(conn, "connect", timeout_ms);
            return AP_ERR_TIMEOUT;
        }
        ap_lwip_drive(conn);
    }
}

/* Why a connection is unusable; AP_OK while it is. */
static ap_status_t ap_lwip_broken(ap_lwip_conn_t *conn)
{
    if ((conn->flags & AP_LWIP_F_ERROR) != 0u) {
        ap_lwip_detail_err(conn, (err_t)conn->last_err);
        return AP_ERR_IO;
    }
    if ((conn->flags & AP_LWIP_F_CONNECTED) == 0u || conn->pcb == NULL) {
        ap_lwip_detail(conn, "not connected", "", "");
        return AP_ERR_IO;
    }
    return AP_OK;
}

static int32_t ap_lwip_send(void *ctx, const uint8_t *buf, size_t len,
                            uint32_t timeout_ms)
{
    ap_lwip_conn_t *conn = (ap_lwip_conn_t *)ctx;
    uint32_t start = sys_now();

    if (conn == NULL || (buf == NULL && len > 0u)) {
        return AP_ERR_BAD_ARG;
    }
    if (len == 0u) {
        return 0;
    }
    for (;;) {
        ap_status_t status = ap_lwip_broken(conn);
        size_t space;

        if (status != AP_OK) {
            return status;
        }
        space = tcp_sndbuf(conn->pcb);
        if (space > 0u && tcp_sndqueuelen(conn->pcb) < TCP_SND_QUEUELEN) {
            size_t n = len < space ? len : space;

            if (n > AP_LWIP_U16_MAX) {
                n = AP_LWIP_U16_MAX;
            }
            for (;;) {
                err_t err = tcp_write(conn->pcb, buf, (u16_t)n, TCP_WRITE_FLAG_COPY);

                if (err == ERR_OK) {
                    /* An output error leaves the data queued for the
                     * retransmission timer; it is not this call's failure. */
                    (void)tcp_output(conn->pcb);
                    return (int32_t)n;
                }
                if (err != ERR_MEM) {
                    ap_lwip_detail_err(conn, err);
                    return AP_ERR_IO;
                }
                /* Too many segments for the queue or no pbufs: try less,
                 * then wait for acknowledgements to free some. */
                if (n <= TCP_MSS) {
                    break;
                }
                n /= 2u;
            }
            (void)tcp_output(conn->pcb);
        }
        if (ap_lwip_expired(start, timeout_ms)) {
            ap_lwip_detail_timeout(conn, "send", timeout_ms);
            return AP_ERR_TIMEOUT;
        }
        ap_lwip_drive(conn);
    }
}

/* Copies queued data out, frees what is used up, reopens the window. */
static size_t ap_lwip_take(ap_lwip_conn_t *conn, uint8_t *buf, size_t size)
{
    size_t copied = 0;

    while (copied < size && conn->rx != NULL) {
        struct pbuf *head = conn->rx;
        size_t n = (size_t)head->len - conn->rx_off;

        if (n > size - copied) {
            n = size - copied;
        }
        if (n > 0u) {
            memcpy(buf + copied, (const uint8_t *)head->payload + conn->rx_off, n);
        }
        copied += n;
        conn->rx_off += n;
        if (conn->rx_off == head->len) {
            struct pbuf *rest = head->next;

            /* Keep the rest alive while the head is freed: freeing a pbuf
             * also drops the chain's reference to its successor. */
            if (rest != NULL) {
                pbuf_ref(rest);
            }
            pbuf_free(head);
            conn->rx = rest;
            conn->rx_off = 0;
        }
    }
    if (conn->pcb != NULL) {
        size_t left = copied;

        while (left > 0u) {
            size_t chunk = left < AP_LWIP_U16_MAX ? left : AP_LWIP_U16_MAX;

            tcp_recved(conn->pcb, (u16_t)chunk);
            left -= chunk;
        }
    }
    return copied;
}

static int32_t ap_lwip_recv(void *ctx, uint8_t *buf, size_t size,
                            uint32_t timeout_ms)
{
    ap_lwip_conn_t *conn = (ap_lwip_conn_t *)ctx;
    uint32_t start = sys_now();
    int polled = 0;

    if (conn == NULL || (buf == NULL && size > 0u)) {
        return AP_ERR_BAD_ARG;
    }
    if (size == 0u) {
        return 0;
    }
    if (size > (size_t)INT32_MAX) {
        size = (size_t)INT32_MAX;
    }
    for (;;) {
        if (conn->rx != NULL) {
            size_t n = ap_lwip_take(conn, buf, size);

            if (n > 0u) {
                return (int32_t)n;
            }
            continue; /* only empty pbufs were queued; they are gone now */
        }
        if ((conn->flags & AP_LWIP_F_ERROR) == 0u &&
            (conn->flags & AP_LWIP_F_FIN) != 0u) {
            ap_lwip_detail(conn, "connection closed by peer", "", "");
            return AP_ERR_CLOSED;
        }
        {
            ap_status_t status = ap_lwip_broken(conn);

            if (status != AP_OK) {
                return status;
            }
        }
        /* A poll (timeout 0) drives the stack once first, so that what has
         * reached the interface is seen without waiting for it. */
        if (ap_lwip_expired(start, timeout_ms) && (timeout_ms > 0u || polled)) {
            ap_lwip_detail_timeout(conn, "receive", timeout_ms);
            return AP_ERR_TIMEOUT;
        }
        ap_lwip_drive(conn);
        polled = 1;
    }
}

static const char *ap_lwip_describe(void *ctx)
{
    const ap_lwip_conn_t *conn = (const ap_lwip_conn_t *)ctx;

    return conn != NULL ? conn->detail : "";
}

void ap_lwip_transport_init(ap_transport_t *transport, ap_lwip_conn_t *conn,
                            ap_lwip_poll_fn poll, void *poll_ctx)
{
    if (transport == NULL || conn == NULL) {
        return;
    }
    memset(conn, 0, sizeof *conn);
    conn->poll = poll;
    conn->poll_ctx = poll_ctx;
    transport->ctx = conn;
    transport->connect = ap_lwip_connect;
    transport->send = ap_lwip_send;
    transport->recv = ap_lwip_recv;
    transport->close = ap_lwip_close;
    transport->describe = ap_lwip_describe;
}
