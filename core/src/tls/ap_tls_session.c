/*
 * Session resumption: the client keeps the last session its server gave it
 * and offers it on the next connection, which then skips the certificate
 * exchange (and, in TLS 1.3, the server's signature).
 *
 * Why this is safe: a session lives in one client, whose URL, anchors, pins
 * and version range never change, so it is never offered under another
 * policy; it is dropped as soon as a handshake fails; a resumed connection
 * still has its version checked by the glue; TLS 1.3 tickets are offered
 * only with a fresh key exchange (ap_compat_session_tickets). A server that
 * refuses the session makes the handshake a full one, verified as usual.
 *
 * Ticket lifetime: Mbed TLS 3.6 built with MBEDTLS_HAVE_TIME (the hosts)
 * stops offering a TLS 1.3 ticket older than the lifetime the server gave;
 * a TLS 1.2 ticket or session ID carries no lifetime for the client, and a
 * server that has forgotten it simply answers with a full handshake.
 */
#include "tls/ap_tls_glue.h"

#if AP_TLS_RESUMPTION

void ap_tls_session_configure(ap_client_t *c, ap_tls_t *t)
{
    mbedtls_ssl_session_init(&t->saved);
    t->saved_valid = false;
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
    /* Refused (a ticket of a suite this build lacks): a full handshake. */
    if (mbedtls_ssl_set_session(&t->ssl, &t->saved) != 0) {
        ap_tls_session_drop(t);
    }
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
