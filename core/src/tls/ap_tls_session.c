/*
 * Session resumption: the client keeps the last session its server gave it
 * and offers it on the next connection, which then skips the certificate
 * exchange (and, in TLS 1.3, the server's signature).
 *
 * Why this is safe: a session lives in one client, whose URL, anchors, pins
 * and version range never change, so it is never offered under another
 * policy (a session saved and loaded into another client carries that
 * policy with it, ap_tls_session_store.c); it is dropped as soon as a
 * handshake fails; a resumed connection still has its version checked by
 * the glue; TLS 1.3 tickets are offered only with a fresh key exchange
 * (ap_compat_session_tickets). A server that refuses the session makes the
 * handshake a full one, verified as usual.
 *
 * Lifetime: each kept session records the wall time it began and how long
 * it may be offered (ap_session.h); past that it is dropped, not offered.
 * Mbed TLS 3.6 built with MBEDTLS_HAVE_TIME (the hosts) also stops offering
 * a TLS 1.3 ticket older than the lifetime the server gave, on its own
 * monotonic clock, which does not survive a reboot: the wall time does.
 */
#include "tls/ap_tls_glue.h"

#if AP_TLS_RESUMPTION

void ap_tls_session_configure(ap_client_t *c, ap_tls_t *t)
{
    mbedtls_ssl_session_init(&t->saved);
    t->saved_valid = false;
    ap_tls_session_bind(c, t);
    if (c->cfg.resume_sessions) {
        ap_compat_session_tickets(&t->conf);
    } else {
        ap_compat_no_session_tickets(&t->conf);
    }
}

void ap_tls_session_offer(ap_client_t *c, ap_tls_t *t)
{
    if (!c->cfg.resume_sessions || !t->saved_valid) {
        return;
    }
    if (ap_tls_session_expired(t, c->cfg.platform->wall_time(c->cfg.platform->ctx))) {
        ap_tls_session_drop(t);
        return;
    }
    /* Refused (a ticket of a suite this build lacks): a full handshake. */
    if (mbedtls_ssl_set_session(&t->ssl, &t->saved) != 0) {
        ap_tls_session_drop(t);
    }
}

/* When the session just taken began, and for how long it may be offered.
 * A resumed TLS 1.2 handshake continues the session it resumed (a server
 * counts its cache time from the full handshake), so its start stays; a
 * TLS 1.3 ticket, and every full handshake, begins now. */
static void note_start(ap_client_t *c, ap_tls_t *t)
{
    ap_tls_version_t v = ap_compat_negotiated(&t->ssl);

    if (c->info.resumed && v == AP_TLS_1_2 && t->saved_valid) {
        return;
    }
    t->saved_at = c->cfg.platform->wall_time(c->cfg.platform->ctx);
    t->saved_life = ap_tls_session_lifetime(&t->saved, v);
}

void ap_tls_session_keep(ap_client_t *c, ap_tls_t *t)
{
    int ret;

    if (!c->cfg.resume_sessions) {
        return;
    }
    /* Each session is exported once: a TLS 1.3 handshake has nothing to
     * give until a ticket arrives, and a resumed TLS 1.2 one without a new
     * ticket keeps the session already held. Those answers leave it. */
    ret = mbedtls_ssl_get_session(&t->ssl, &t->saved);
    if (ret == 0) {
        note_start(c, t);
        if (!c->info.resumed) { /* a resumed one keeps its first server's match */
            t->saved_wildcard = t->verified_wildcard;
        }
        t->saved_valid = true;
        t->saved_here = true;
    } else if (ret != MBEDTLS_ERR_SSL_FEATURE_UNAVAILABLE) {
        ap_tls_session_drop(t); /* a half-copied session is no session */
    }
}

void ap_tls_session_drop(ap_tls_t *t)
{
    mbedtls_ssl_session_free(&t->saved); /* zeroes it; the ticket too */
    mbedtls_ssl_session_init(&t->saved);
    t->saved_valid = false;
    t->saved_here = false;
    t->saved_wildcard = false;
}

#else /* no session tickets in this Mbed TLS build: nothing is resumed */

void ap_tls_session_configure(ap_client_t *c, ap_tls_t *t)
{
    (void)c;
    ap_compat_no_session_tickets(&t->conf);
}

void ap_tls_session_offer(ap_client_t *c, ap_tls_t *t)
{
    (void)c;
    (void)t;
}

void ap_tls_session_keep(ap_client_t *c, ap_tls_t *t)
{
    (void)c;
    (void)t;
}

void ap_tls_session_drop(ap_tls_t *t)
{
    (void)t;
}

#endif
