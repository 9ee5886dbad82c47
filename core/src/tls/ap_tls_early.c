/*
 * TLS 1.3 0-RTT early data: a resumed post sends its request in the first
 * flight, with the ClientHello, instead of one round trip later.
 *
 * When: cfg.early_data, a request with an Idempotency-Key (the client loop
 * checks both and composes the request whole at the start of the work
 * buffer), a kept TLS 1.3 ticket whose server granted early data, and a
 * request within that ticket's max_early_data_size. Early data is not
 * forward secret and can be replayed by the network; the key makes a
 * replay harmless at a server that honours it. The ticket must come from a
 * handshake of this client (t->saved_here), whose URL, anchors, pins and
 * version range never change (ap_tls_session.c), or from a saved session
 * bound to that same policy (ap_tls_session_store.c checks the binding), so
 * early data never goes under another policy; a session set otherwise
 * (mbedtls_ssl_set_session() by a test) is not used for it. The
 * handshake that follows is the usual one: the version is checked, and a
 * server that answers with a full handshake has its chain verified.
 *
 * Exactness: the server either accepts the early data (and processes the
 * request once), or rejects it and discards it unread; the client then
 * sends the request after the handshake, once. If the handshake fails
 * after early data left, nobody knows whether the server processed it:
 * the post's outcome is unknown (AP_ERR_OUTCOME_UNKNOWN), never "not sent".
 *
 * Mbed TLS announces early data in every resumed ClientHello once it is
 * enabled in the configuration, so it is enabled for one handshake at a
 * time, only when it will be used.
 */
#include <string.h>

#include "tls/ap_tls_glue.h"

#if AP_TLS_EARLY_DATA

bool ap_tls_early_arm(ap_client_t *c, ap_tls_t *t)
{
    uint32_t limit;

    ap_compat_early_data(&t->conf, 0);
    t->early_written = 0;
    if (c->early_len == 0) {
        return false; /* the client loop has said why (off, no key, kept alive) */
    }
    /* only a ticket kept by this client, or loaded under its very policy */
    if (!t->saved_valid || !t->saved_here || !ap_compat_session_is_tls13(&t->saved)) {
        c->info.early_data = AP_EARLY_DATA_NO_TICKET;
        return false;
    }
    limit = ap_compat_ticket_early_limit(&t->saved);
    if (limit == 0) {
        c->info.early_data = AP_EARLY_DATA_NOT_ALLOWED;
        return false;
    }
    if (c->early_len > limit) {
        c->info.early_data = AP_EARLY_DATA_TOO_LARGE; /* all of it, or none of it */
        return false;
    }
    ap_compat_early_data(&t->conf, 1);
    c->info.early_data = AP_EARLY_DATA_UNANSWERED; /* until the handshake says */
    return true;
}

int ap_tls_early_send(ap_client_t *c, ap_tls_t *t)
{
    int ret;
    int flushed;

    /* The ClientHello (and compatibility-mode ChangeCipherSpec) are held
     * after the request, which Mbed TLS encrypts from the work buffer; the
     * early data record joins them and all leave in one send. */
    t->hold_base = c->early_len;
    t->hold_first = true;
    ret = mbedtls_ssl_write_early_data(&t->ssl, c->cfg.work_buf, c->early_len);
    t->hold_first = false;
    flushed = ap_tls_flush_flight(c);
    t->hold_base = 0;
    /* Records of the first flight answer nothing the server asked: the
     * record walker counts the second flight only (cert_requested()). */
    memset(&t->out, 0, sizeof(t->out));
    if (ret == MBEDTLS_ERR_SSL_CANNOT_WRITE_EARLY_DATA) {
        /* Mbed TLS did not resume (an expired ticket): a full handshake */
        c->info.early_data = AP_EARLY_DATA_NOT_RESUMED;
        return flushed;
    }
    if (ret < 0) {
        return ret;
    }
    if (flushed == 0) {
        /* The whole flight left: the server may process the request. A
         * flight cut short ends before the end of its last record, the
         * early data, which no server can then decrypt. */
        t->early_written = (size_t)ret;
        c->early_out = true;
    }
    return flushed;
}

void ap_tls_early_outcome(ap_client_t *c, ap_tls_t *t)
{
    if (t->early_written == 0) {
        return;
    }
    if (mbedtls_ssl_get_early_data_status(&t->ssl) == MBEDTLS_SSL_EARLY_DATA_STATUS_ACCEPTED) {
        c->info.early_data = AP_EARLY_DATA_ACCEPTED;
        c->early_accepted = t->early_written;
        if (t->out.encrypted > 0) {
            t->out.encrypted--; /* the EndOfEarlyData record, not a certificate */
        }
    } else {
        c->info.early_data = AP_EARLY_DATA_REJECTED; /* discarded unread by the server */
        c->early_accepted = 0;
        c->early_out = false; /* so nothing of the alert has been processed */
    }
}

#else /* no TLS 1.3 early data in this Mbed TLS build (2.28, or not configured) */

bool ap_tls_early_arm(ap_client_t *c, ap_tls_t *t)
{
    (void)t;
    if (c->cfg.early_data) {
        c->info.early_data = AP_EARLY_DATA_NOT_BUILT;
    }
    c->early_len = 0;
    return false;
}

int ap_tls_early_send(ap_client_t *c, ap_tls_t *t)
{
    (void)c;
    (void)t;
    return 0;
}

void ap_tls_early_outcome(ap_client_t *c, ap_tls_t *t)
{
    (void)c;
    (void)t;
}

#endif
