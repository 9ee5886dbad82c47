/*
 * TLS version policy and the server-version sniffer. Pure: no TLS library.
 */
#include "alertpost/ap_tls_policy.h"

#include <string.h>

enum {
    REC_ALERT = 21,
    REC_HANDSHAKE = 22,
    HS_SERVER_HELLO = 2,
    EXT_SUPPORTED_VERSIONS = 43
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

static void sniff_finish(ap_tls_sniff_t *s)
{
    s->hello_version = (s->selected != 0) ? s->selected : s->legacy;
    s->done = true;
}

/* One byte of the ServerHello message at offset s->off (0 = handshake type).
 * Layout: type(1) length(3) legacy_version(2) random(32) session_id(1+n)
 * cipher_suite(2) compression(1) [extensions length(2) extensions]. */
static void hello_byte(ap_tls_sniff_t *s, uint8_t b)
{
    uint32_t off = s->off++;

    s->acc = (s->acc << 8) | b;
    if (off == 0 && b != HS_SERVER_HELLO) {
        s->done = true;
    } else if (off == 3) {
        s->msg_end = 3 + (s->acc & 0xFFFFFFu);
    } else if (off == 5) {
        s->legacy = (uint16_t)s->acc;
        if (s->legacy != AP_TLS_1_2) {
            sniff_finish(s); /* only a 1.2 legacy_version can hide TLS 1.3 */
            return;
        }
    } else if (off == 38) {
        s->next_ext = 39 + b + 3; /* where the extensions length stands */
    } else if (off > 38 && off == s->next_ext + 1 && s->ext_end == 0) {
        s->ext_end = off + (s->acc & 0xFFFFu);
        s->next_ext = off + 1;
    } else if (s->ext_end != 0 && off == s->next_ext + 3) {
        s->ext_type = (uint16_t)(s->acc >> 16);
        s->next_ext = off + 1 + (s->acc & 0xFFFFu);
        if (s->ext_type == EXT_SUPPORTED_VERSIONS && s->next_ext != off + 3) {
            s->ext_type = 0; /* a ServerHello's supported_versions is exactly 2 bytes */
        }
    } else if (s->ext_end != 0 && s->ext_type == EXT_SUPPORTED_VERSIONS &&
               off + 1 == s->next_ext) {
        s->selected = (uint16_t)s->acc;
        s->ext_type = 0;
    }
    if (off > 3 && (off >= s->msg_end || (s->ext_end != 0 && off >= s->ext_end))) {
        sniff_finish(s);
    }
}

/* The first record's header decides what the stream is; later records are
 * followed only while the ServerHello continues in them. */
static void record_header(ap_tls_sniff_t *s)
{
    const uint8_t *h = s->rec_hdr;
    bool first = s->first_type == 0;

    s->rec_left = (uint16_t)((h[3] << 8) | h[4]);
    if (first) {
        s->first_type = h[0];
        s->record_version = (ap_tls_version_t)((h[1] << 8) | h[2]);
    }
    if (h[0] != REC_HANDSHAKE && !(first && h[0] == REC_ALERT)) {
        s->done = true;
    }
}

static void sniff_byte(ap_tls_sniff_t *s, uint8_t b)
{
    if (s->rec_have < sizeof(s->rec_hdr)) {
        if (s->rec_have == 0 && (b < 20 || b > 24)) {
            s->done = true; /* not TLS at all: nothing to learn */
            return;
        }
        s->rec_hdr[s->rec_have++] = b;
        if (s->rec_have == sizeof(s->rec_hdr)) {
            record_header(s);
        }
        return;
    }
    if (s->rec_left == 0) {
        s->rec_have = 0; /* an empty record: read the next header */
        sniff_byte(s, b);
        return;
    }
    s->rec_left--;
    if (s->rec_left == 0) {
        s->rec_have = 0;
    }
    if (s->first_type == REC_ALERT) {
        s->alert_level = (s->off == 0) ? b : s->alert_level;
        if (s->off++ == 1) {
            s->alert_desc = b;
            s->done = true;
        }
        return;
    }
    hello_byte(s, b);
}

void ap_tls_sniff_feed(ap_tls_sniff_t *s, const uint8_t *data, size_t len)
{
    size_t i;

    if (s == NULL || data == NULL) {
        return;
    }
    for (i = 0; i < len && !s->done; i++) {
        sniff_byte(s, data[i]);
    }
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
