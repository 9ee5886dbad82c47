/*
 * TLS version policy and the server-version sniffer. Pure: no TLS library.
 */
#include "alertpost/ap_tls_policy.h"

#include <string.h>

enum {
    REC_ALERT = 21,
    REC_HANDSHAKE = 22,
    HS_SERVER_HELLO = 2,
    /* type(1) version(2) length(2) | hs type(1) hs length(3) version(2) */
    SNIFF_BYTES = 11
};

static int is_known(ap_tls_version_t v)
{
    return v == AP_TLS_1_2 || v == AP_TLS_1_3;
}

ap_status_t ap_tls_policy_resolve(ap_tls_version_t want_min,
                                  ap_tls_version_t want_max,
                                  ap_tls_version_t highest_built,
                                  ap_tls_version_t *out_min,
                                  ap_tls_version_t *out_max)
{
    ap_tls_version_t lo = want_min;
    ap_tls_version_t hi = want_max;

    if (out_min == NULL || out_max == NULL || !is_known(highest_built)) {
        return AP_ERR_BAD_ARG;
    }
    if (lo == AP_TLS_VERSION_DEFAULT) {
        lo = AP_TLS_FLOOR;
    }
    if (hi == AP_TLS_VERSION_DEFAULT) {
        hi = highest_built;
    }
    /* Below the floor is refused outright, not raised silently: a caller
     * asking for TLS 1.0 has a misunderstanding worth surfacing. */
    if (lo < AP_TLS_FLOOR || !is_known(lo) || !is_known(hi)) {
        return AP_ERR_BAD_ARG;
    }
    if (hi > highest_built || lo > hi) {
        return AP_ERR_BAD_ARG;
    }
    *out_min = lo;
    *out_max = hi;
    return AP_OK;
}

const char *ap_tls_version_str(ap_tls_version_t version)
{
    switch (version) {
    case AP_TLS_SSL_3_0:
        return "SSL 3.0";
    case AP_TLS_1_0:
        return "TLS 1.0";
    case AP_TLS_1_1:
        return "TLS 1.1";
    case AP_TLS_1_2:
        return "TLS 1.2";
    case AP_TLS_1_3:
        return "TLS 1.3";
    default:
        return "an unknown version";
    }
}

void ap_tls_sniff_init(ap_tls_sniff_t *s)
{
    if (s != NULL) {
        memset(s, 0, sizeof(*s));
    }
}

static void sniff_decide(ap_tls_sniff_t *s)
{
    const uint8_t *h = s->hdr;

    if (s->have >= 1 && (h[0] < 20 || h[0] > 24)) {
        s->done = true; /* not TLS at all: nothing to learn */
        return;
    }
    if (s->have < 5) {
        return;
    }
    s->first_type = h[0];
    s->record_version = (ap_tls_version_t)((h[1] << 8) | h[2]);
    if (h[0] == REC_ALERT) {
        if (s->have >= 7) {
            s->alert_level = h[5];
            s->alert_desc = h[6];
            s->done = true;
        }
        return;
    }
    if (h[0] != REC_HANDSHAKE) {
        s->done = true;
        return;
    }
    if (s->have >= 6 && h[5] != HS_SERVER_HELLO) {
        s->done = true;
        return;
    }
    if (s->have >= SNIFF_BYTES) {
        s->hello_version = (ap_tls_version_t)((h[9] << 8) | h[10]);
        s->done = true;
    }
}

void ap_tls_sniff_feed(ap_tls_sniff_t *s, const uint8_t *data, size_t len)
{
    size_t take;

    if (s == NULL || data == NULL || s->done) {
        return;
    }
    take = (size_t)SNIFF_BYTES - s->have;
    if (take > len) {
        take = len;
    }
    memcpy(&s->hdr[s->have], data, take);
    s->have = (uint8_t)(s->have + take);
    sniff_decide(s);
}

ap_tls_version_t ap_tls_sniff_server_version(const ap_tls_sniff_t *s)
{
    if (s == NULL) {
        return 0;
    }
    if (s->hello_version != 0) {
        return s->hello_version;
    }
    if (s->first_type == REC_ALERT || s->first_type == REC_HANDSHAKE) {
        return s->record_version;
    }
    return 0;
}
