/**
 * @file ap_transport.h
 * @brief The transport the core posts over: a byte stream with timeouts.
 *
 * The core never performs I/O itself. A port (ports/posix, ports/lwip) fills
 * an ap_transport_t with four functions over its own opaque context. Every
 * call is bounded by the timeout the core passes; a port MUST NOT block longer.
 *
 * Return contract of send and recv (disjoint outcomes, no zero that means two
 * things):
 *   > 0              bytes moved (possibly fewer than asked: a short write/read);
 *   AP_ERR_TIMEOUT   nothing moved before timeout_ms elapsed;
 *   AP_ERR_CLOSED    the peer ended the stream in order (FIN); recv only;
 *   AP_ERR_IO        the connection failed (reset, broken pipe, stack error).
 * They never return 0 when len/size > 0. Mbed TLS's own conventions are
 * translated from this contract in exactly one place: the BIO shim in
 * core/src/tls/.
 *
 * A recv with timeout_ms == 0 is a poll and MUST NOT block: it returns bytes
 * that have already arrived, AP_ERR_CLOSED or AP_ERR_IO if the end or a
 * failure is already known, and AP_ERR_TIMEOUT otherwise. A port with a
 * stack to drive (lwIP's NO_SYS mode) processes what is pending once before
 * it answers. The core polls a kept-alive connection this way before it
 * writes the next request on it, so that a server's unsolicited answer (an
 * idle 408) or its end of stream is seen before any byte of the alert is sent.
 */
#ifndef ALERTPOST_AP_TRANSPORT_H
#define ALERTPOST_AP_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "alertpost/ap_status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ap_transport {
    /** The port's own state; the core only passes it back. */
    void *ctx;

    /**
     * Open a TCP connection to host:port. host is a DNS name or an address
     * literal (IPv6 without brackets), NUL-terminated.
     * @return AP_OK; AP_ERR_DNS (name did not resolve); AP_ERR_CONNECT
     *         (refused, unreachable); AP_ERR_TIMEOUT; AP_ERR_IO.
     */
    ap_status_t (*connect)(void *ctx, const char *host, uint16_t port,
                           uint32_t timeout_ms);

    /** Send up to len bytes. @return see the file comment. */
    int32_t (*send)(void *ctx, const uint8_t *buf, size_t len,
                    uint32_t timeout_ms);

    /** Receive up to size bytes. @return see the file comment. */
    int32_t (*recv)(void *ctx, uint8_t *buf, size_t size, uint32_t timeout_ms);

    /** Close the connection, if open. Always safe to call, also twice. */
    void (*close)(void *ctx);

    /**
     * Optional (may be NULL): a short phrase on the last failure, for the
     * error text ("connection refused", "no address for host"). Never NULL
     * when the function exists; "" when there is nothing to say.
     */
    const char *(*describe)(void *ctx);
} ap_transport_t;

#ifdef __cplusplus
}
#endif

#endif /* ALERTPOST_AP_TRANSPORT_H */
