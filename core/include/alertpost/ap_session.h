/**
 * @file ap_session.h
 * @brief Keep a client's TLS session across restarts: export the session
 * the client holds into a caller's buffer, and give it back to a new client.
 *
 * A client resumes its server's last session by itself while it runs
 * (cfg.resume_sessions). These two functions let that session outlive the
 * process or a reboot: save it after a post, store it (a file, flash), load
 * it into the next client before its first post. The first handshake of
 * that client is then a resumed one.
 *
 * Binding. A saved session is bound to what it was verified under: the
 * URL's host and port, the trust anchors (their bytes), the SPKI pins, the
 * TLS version range, the client identity (its certificate bytes, or none)
 * and, when its server matched the host only by a wildcard, the public
 * suffix list (which then decided; a server listed by its own name passes
 * under any list, so its session survives a new one). Loading it into a client
 * whose configuration differs in any of these is refused
 * (AP_ERR_SESSION_FOREIGN, ap_client_error() says which): a session that a
 * server proved itself for under one policy is never used to skip the
 * certificate checks of another. A resumed connection still has its
 * version checked against the floor and the range.
 *
 * Lifetime. The blob records the wall-clock time its session began and how
 * long it may be offered: a TLS 1.3 ticket for the lifetime its server gave
 * (at most 7 days, RFC 8446); a TLS 1.2 ticket for its lifetime hint (at
 * most 7 days), or AP_SESSION_ID_LIFETIME_S when the hint is 0
 * ("unspecified"); a TLS 1.2 session ID for AP_SESSION_ID_LIFETIME_S. A
 * resumed TLS 1.2 session keeps the time it began. Past that, or when the
 * wall clock is unknown or earlier than the time the session began (beyond
 * AP_SESSION_CLOCK_SKEW_S), load refuses it (AP_ERR_SESSION_EXPIRED), and a
 * running client stops offering it. Mbed TLS 3.6 built with
 * MBEDTLS_HAVE_TIME also checks a TLS 1.3 ticket's age against its
 * lifetime itself.
 *
 * Secrecy. The blob holds the session's master secret (TLS 1.2) or
 * resumption secret (TLS 1.3): whoever reads it can decrypt the resumed
 * connection's traffic if they also captured it. Store it where only this
 * device's software can read it (the CLI writes its file with mode 0600).
 * It carries a CRC-32 against corruption, not a MAC: it is as trustworthy
 * as the place it was stored.
 *
 * Format (for a reader with a hex dump; integers big-endian): "APS" and
 * format 1; host length (1) and host; port (2); TLS minimum and maximum
 * (2 + 2); the trust digest (SHA-256 of the anchors' digest and, for a
 * wildcard match, of the suffix list's digest with '*'), SHA-256 of the pins, and
 * of the identity certificate (32 each; zeros for no pins, no identity);
 * start time (8, signed seconds since 1970); lifetime (4, seconds); the
 * Mbed TLS session's length (2) and mbedtls_ssl_session_save()'s bytes
 * (which name the Mbed TLS version and build options, so another build's
 * blob is refused); CRC-32 of all the above (4).
 */
#ifndef ALERTPOST_AP_SESSION_H
#define ALERTPOST_AP_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "alertpost/alertpost.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Export the session the client holds (from its last handshake, or
 * the newest TLS 1.3 ticket since) into buf.
 *
 * Call it after a post, when no post is in progress. The session stays
 * with the client, which goes on resuming it.
 *
 * @param buf where the blob goes; may be NULL when buf_size is 0.
 * @param out_len out: the blob's length; with AP_ERR_NO_SPACE, the size
 *        it needs (AP_SESSION_BLOB_SIZE holds a session whose server's leaf
 *        certificate is under 2 KiB).
 * @return AP_OK;
 *         AP_ERR_BAD_ARG: NULL client or out_len, NULL buf with a size, or a
 *           client that is not initialised;
 *         AP_ERR_NO_SPACE: buf_size is smaller than *out_len;
 *         AP_ERR_SESSION_NONE: the client holds no session: no handshake
 *           yet, the last one failed, the server gave no session (a TLS 1.3
 *           server that sent no ticket), resume_sessions is off, or this
 *           Mbed TLS build keeps no sessions (no MBEDTLS_SSL_SESSION_TICKETS);
 *         AP_ERR_TLS: Mbed TLS failed to serialise the session.
 */
ap_status_t ap_client_session_save(ap_client_t *client, uint8_t *buf, size_t buf_size,
                                   size_t *out_len);

/**
 * @brief Give the client a saved session to offer on its next handshake.
 *
 * Call it after ap_client_init() and before the post that should resume;
 * the session replaces any the client held. The blob is copied: the
 * caller may wipe it on return. On any refusal the client holds no session
 * and the next handshake is a full one; ap_client_error() says why.
 *
 * @return AP_OK: the next handshake offers the session (the server may
 *           still decline it and run a full handshake, verified as usual);
 *         AP_ERR_BAD_ARG: NULL client, NULL blob, a client that is not
 *           initialised, resume_sessions off, or a build that keeps no
 *           sessions;
 *         AP_ERR_SESSION_CORRUPT: not a saved session, truncated, bytes
 *           changed (CRC-32), a lifetime over 7 days (never written so), or
 *           Mbed TLS refused its part (another Mbed TLS version or build
 *           options);
 *         AP_ERR_SESSION_FOREIGN: saved for another host or port, or under
 *           other trust anchors, another suffix list (a wildcard match
 *           only), other pins, another TLS
 *           range or another client identity;
 *         AP_ERR_SESSION_EXPIRED: past its lifetime, or its age cannot be
 *           known (the wall clock is unknown, or is earlier than the time
 *           the session began, or that time is before 1970).
 */
ap_status_t ap_client_session_load(ap_client_t *client, const uint8_t *blob, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* ALERTPOST_AP_SESSION_H */
