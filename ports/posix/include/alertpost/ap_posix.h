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

/** Bytes one recv() system call may read ahead of what the caller asked. */
#define AP_POSIX_READAHEAD 4096u

/** State of one POSIX connection. Caller-owned; treat as opaque. */
typedef struct ap_posix_conn {
    int fd;                 /* -1 when closed */
    int last_errno;         /* errno or EAI_* code of the last failure */
    char detail[96];        /* what describe() returns */
    size_t ahead_pos;       /* next byte of ahead[] to hand out */
    size_t ahead_len;       /* bytes read into ahead[]; empty when pos == len */
    uint8_t ahead[AP_POSIX_READAHEAD];
} ap_posix_conn_t;

/**
 * @brief Fill transport with the POSIX functions over conn.
 * Resolves with getaddrinfo (IPv4 and IPv6, every address tried in turn
 * within the timeout), connects non-blocking, waits with poll, and never
 * raises SIGPIPE. A name (not an address literal) is looked up on a short-
 * lived helper thread, so that the connect timeout bounds the lookup too;
 * the port therefore links with the platform's threads library.
 * A receive asking for fewer than AP_POSIX_READAHEAD bytes reads up to that
 * many into conn and hands the rest out on later receives without a system
 * call (a TLS record header, then its body, from one recv()). The contract
 * of ap_transport.h holds unchanged: buffered bytes are what a zero-timeout
 * receive returns, and an end or failure is reported only after them.
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
