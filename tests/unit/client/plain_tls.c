/*
 * A plaintext stand-in for the TLS seam (core/src/ap_client_internal.h),
 * linked only into the client-loop unit tests. It passes bytes straight to
 * the transport so the tests can assert exactly what the loop sent and how
 * it treats every way a response can arrive or fail. A clean close of the
 * scripted transport stands for close_notify, a bare one for a TCP FIN.
 */
#include "ap_client_internal.h"
#include "fake_transport.h"

ap_status_t plain_tls_handshake_result = AP_OK;
unsigned plain_tls_handshakes;
unsigned plain_tls_notifies;
uint32_t plain_tls_handshake_budget; /* what a handshake step could wait */
/* Take what the loop offers as 0-RTT early data (c->early_len bytes at the
 * start of the work buffer) during the handshake, as an accepting server
 * would, and count the handshakes that did. */
bool plain_tls_take_early;
unsigned plain_tls_early_sent;

ap_status_t ap_tls_setup(ap_client_t *c)
{
    (void)c;
    return AP_OK;
}

ap_status_t ap_tls_handshake(ap_client_t *c)
{
    plain_tls_handshakes++;
    plain_tls_handshake_budget = ap_client_step_budget(c, c->cfg.io_timeout_ms);
    if (plain_tls_handshake_result != AP_OK) {
        ap_client_set_error(c, "scripted handshake failure");
        return plain_tls_handshake_result;
    }
    c->info.tls_version = AP_TLS_1_3;
    c->info.ciphersuite = "PLAIN";
    if (plain_tls_take_early && c->early_len > 0) {
        const ap_transport_t *t = c->cfg.transport;

        if (t->send(t->ctx, c->cfg.work_buf, c->early_len, 1000) != (int32_t)c->early_len) {
            return AP_ERR_IO;
        }
        plain_tls_early_sent++;
        c->early_accepted = c->early_len;
        c->info.early_data = AP_EARLY_DATA_ACCEPTED;
    }
    return AP_OK;
}

int32_t ap_tls_write(ap_client_t *c, const uint8_t *buf, size_t len)
{
    const ap_transport_t *t = c->cfg.transport;
    uint32_t budget;
    int32_t n;

    if (!ap_client_io_timeout(c, &budget)) {
        return AP_ERR_TIMEOUT;
    }
    n = t->send(t->ctx, buf, len, budget);
    if (n > 0) {
        c->wire_sent += (uint32_t)n; /* as the BIO shim counts it */
    }
    return n;
}

int32_t ap_tls_read(ap_client_t *c, uint8_t *buf, size_t size)
{
    const ap_transport_t *t = c->cfg.transport;
    uint32_t budget;
    int32_t n;

    if (!ap_client_io_timeout(c, &budget)) {
        return AP_ERR_TIMEOUT;
    }
    n = t->recv(t->ctx, buf, size, budget);
    if (n == AP_ERR_CLOSED) {
        return ((fake_net_t *)t->ctx)->last_close_clean ? AP_ERR_CLOSED : AP_ERR_TRUNCATED;
    }
    return n;
}

ap_status_t ap_tls_check_chain(ap_client_t *c, const uint8_t *chain, size_t len)
{
    (void)chain;
    (void)len;
    ap_client_set_error(c, "the plaintext stand-in verifies no chain");
    return AP_ERR_TLS_SETUP;
}

ap_status_t ap_tls_poll(ap_client_t *c)
{
    uint8_t scrap[1];
    int32_t n = ap_tls_read(c, scrap, sizeof(scrap));

    if (n > 0) {
        return AP_ERR_HTTP_RESPONSE;
    }
    if (n == AP_ERR_TIMEOUT) {
        return AP_OK;
    }
    return (n == AP_ERR_CLOSED || n == AP_ERR_TRUNCATED) ? AP_ERR_CLOSED : (ap_status_t)n;
}

void ap_tls_end(ap_client_t *c, bool notify)
{
    (void)c;
    if (notify) {
        plain_tls_notifies++;
    }
}

void ap_tls_free(ap_client_t *c)
{
    (void)c;
}

const char *ap_tls_library_name(void)
{
    return "plaintext stand-in";
}

const char *ap_tls_library_version(void)
{
    return "plaintext stand-in";
}

ap_tls_version_t ap_tls_highest_built(void)
{
    return AP_TLS_1_3;
}
