/**
 * @file ap_posix.h
 * @brief The POSIX port: TCP over BSD sockets, clock_gettime, getrandom.
 */
#ifndef ALERTPOST_AP_POSIX_H
#define ALERTPOST_AP_POSIX_H

#include "alertpost/ap_platform.h"
#include "alertpost/ap_transport.h"

#ifdef __cplusplus
extern "C" {
#endif

/** State of one POSIX connection. Caller-owned; treat as opaque. */
typedef struct ap_posix_conn {
    int fd;                 /* -1 when closed */
    int last_errno;         /* errno or EAI_* code of the last failure */
    char detail[96];        /* what describe() returns */
} ap_posix_conn_t;

/**
 * @brief Fill transport with the POSIX functions over conn.
 * Resolves with getaddrinfo (IPv4 and IPv6, every address tried in turn
 * within the timeout), connects non-blocking, waits with poll, and never
 * raises SIGPIPE. A name (not an address literal) is looked up on a short-
 * lived helper thread, so that the connect timeout bounds the lookup too;
 * the port therefore links with the platform's threads library.
 */
void ap_posix_transport_init(ap_transport_t *transport, ap_posix_conn_t *conn);

/**
 * @brief Fill platform with clock_gettime(CLOCK_MONOTONIC), time() and
 * getrandom().
 */
void ap_posix_platform_init(ap_platform_t *platform);

#ifdef __cplusplus
}
#endif

#endif /* ALERTPOST_AP_POSIX_H */
