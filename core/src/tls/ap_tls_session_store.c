/*
 * Saved sessions (ap_session.h): the kept session as bytes a caller can
 * store, bound to the host, port and policy it was verified under.
 *
 * Why the binding is checked before Mbed TLS sees a byte of the blob: a
 * session skips the certificate checks, so it is only as good as the
 * policy that admitted its server. A blob of another policy is refused
 * whole, and so is one whose bytes changed (CRC-32) or that Mbed TLS does
 * not recognise as its own build's. The format is in ap_session.h.
 */
#include <string.h>

#include "alertpost/ap_crc32.h"
#include "alertpost/ap_session.h"
#include "tls/ap_tls_glue.h"

#if AP_TLS_RESUMPTION

#define MAGIC_LEN 4u
static const uint8_t k_magic[MAGIC_LEN] = {'A', 'P', 'S', 1u};

/* Lifetimes over RFC 8446's seven days are cut to it. */
#define MAX_LIFETIME_S (7u * 24u * 3600u)

/* The fixed fields between the host and the Mbed TLS session: port, TLS
 * range, three digests, start time, lifetime, session length. */
#define FIXED_LEN (2u + 4u + 3u * 32u + 8u + 4u + 2u)
#define CRC_LEN 4u

/* ---- the binding ---- */

static void digest_or_zeros(const uint8_t *in, size_t len, uint8_t out[32])
{
    memset(out, 0, 32);
    if (in != NULL && len > 0 && ap_compat_sha256(in, len, out) != 0) {
        memset(out, 0xFF, 32); /* matches no real digest, nor "none" */
    }
}

void ap_tls_session_bind(ap_client_t *c, ap_tls_t *t)
{
    const ap_client_config_t *cfg = &c->cfg;

    /* The identity's bytes are only readable during set-up (the CLI wipes
     * its key file's copy after init). The rest waits for a save or load:
     * digesting a system bundle and the suffix list costs more than a
     * resumed handshake, and a client that saves nothing never needs it. */
    digest_or_zeros(cfg->identity != NULL ? cfg->identity->cert : NULL,
                    cfg->identity != NULL ? cfg->identity->cert_len : 0, t->binding.identity);
    t->binding.policy_ready = false;
    t->binding.suffixes_ready = false;
}

/* The anchors and pins, digested once per client, when a session is first
 * saved or loaded (they stay valid until ap_client_free(), alertpost.h). */
static void bind_policy(ap_client_t *c, ap_tls_t *t)
{
    const ap_client_config_t *cfg = &c->cfg;

    if (t->binding.policy_ready) {
        return;
    }
    digest_or_zeros(cfg->ca_pem, cfg->ca_pem_len, t->binding.anchors);
    digest_or_zeros(cfg->pins != NULL ? cfg->pins[0].sha256 : NULL,
                    cfg->pin_count * sizeof(ap_spki_pin_t), t->binding.pins);
    t->binding.policy_ready = true;
}

/* The blob's trust field: the anchors, and the suffix list only when the
 * server matched its host by a wildcard. A server listed by its own name
 * passes whatever the list says, so such a session survives a new list;
 * and the list (Debian's is 230 KB) is digested only when it matters. The
 * wildcard part is never all zeros: a wildcard session made without a list
 * is not taken for an exact one. */
static void trust_of(ap_client_t *c, ap_tls_t *t, bool wildcard, uint8_t out[32])
{
    const ap_client_config_t *cfg = &c->cfg;
    uint8_t both[64];

    memcpy(both, t->binding.anchors, 32);
    memset(both + 32, 0, 32);
    if (wildcard) {
        uint8_t list[33];

        if (!t->binding.suffixes_ready) {
            digest_or_zeros((const uint8_t *)cfg->public_suffixes, cfg->public_suffixes_len,
                            t->binding.suffixes);
            t->binding.suffixes_ready = true;
        }
        memcpy(list, t->binding.suffixes, 32);
        list[32] = '*';
        digest_or_zeros(list, sizeof list, both + 32);
    }
    digest_or_zeros(both, sizeof both, out);
}

/* ---- lifetime ---- */

uint32_t ap_tls_session_lifetime(const mbedtls_ssl_session *s, ap_tls_version_t version)
{
    uint32_t life = 0;
    bool ticket = ap_compat_session_ticket(s, &life);

    /* A TLS 1.3 lifetime of 0 means "do not resume"; in TLS 1.2 it means
     * "unspecified", like a session ID's, which has no lifetime at all. */
    if (version != AP_TLS_1_3 && (!ticket || life == 0)) {
        life = AP_SESSION_ID_LIFETIME_S;
    }
    return life > MAX_LIFETIME_S ? MAX_LIFETIME_S : life;
}

static bool expired_at(int64_t start, uint32_t life, int64_t now)
{
    /* Both are seconds since 1970: a negative one is unknown (and keeps the
     * subtraction below from overflowing, whatever a blob says). */
    if (now < 0 || start < 0 || start > now + AP_SESSION_CLOCK_SKEW_S) {
        return true; /* an age that cannot be known is no valid age */
    }
    return now - start >= (int64_t)life;
}

bool ap_tls_session_expired(const ap_tls_t *t, int64_t now)
{
    return expired_at(t->saved_at, t->saved_life, now);
}

/* ---- big-endian fields ---- */

static uint8_t *put_be(uint8_t *p, uint64_t v, unsigned bytes)
{
    unsigned i;

    for (i = 0; i < bytes; i++) {
        p[i] = (uint8_t)(v >> (8u * (bytes - 1u - i)));
    }
    return p + bytes;
}

static uint64_t get_be(const uint8_t **p, unsigned bytes)
{
    uint64_t v = 0;
    unsigned i;

    for (i = 0; i < bytes; i++) {
        v = (v << 8) | (*p)[i];
    }
    *p += bytes;
    return v;
}

/* ---- save ---- */

/* Everything before the Mbed TLS session; returns where that goes. */
static uint8_t *put_header(const ap_client_t *c, const ap_tls_t *t, const uint8_t trust[32],
                           uint8_t *p, size_t session_len)
{
    size_t host_len = strlen(c->url.host);

    memcpy(p, k_magic, MAGIC_LEN);
    p += MAGIC_LEN;
    *p++ = (uint8_t)host_len;
    memcpy(p, c->url.host, host_len);
    p += host_len;
    p = put_be(p, c->url.port, 2);
    p = put_be(p, c->tls_min, 2);
    p = put_be(p, c->tls_max, 2);
    memcpy(p, trust, 32);
    memcpy(p + 32, t->binding.pins, 32);
    memcpy(p + 64, t->binding.identity, 32);
    p = put_be(p + 96, (uint64_t)t->saved_at, 8);
    p = put_be(p, t->saved_life, 4);
    return put_be(p, session_len, 2);
}

ap_status_t ap_client_session_save(ap_client_t *c, uint8_t *buf, size_t buf_size,
                                   size_t *out_len)
{
    ap_tls_t *t;
    size_t head;
    size_t session_len = 0;
    uint8_t trust[32];
    int ret;

    if (c == NULL || out_len == NULL || (buf == NULL && buf_size > 0) || !c->initialised) {
        return AP_ERR_BAD_ARG;
    }
    t = ap_tls_of(c);
    *out_len = 0;
    if (!c->cfg.resume_sessions || !t->saved_valid) {
        return AP_ERR_SESSION_NONE;
    }
    bind_policy(c, t);
    trust_of(c, t, t->saved_wildcard, trust);
    head = MAGIC_LEN + 1u + strlen(c->url.host) + FIXED_LEN;
    ret = mbedtls_ssl_session_save(&t->saved, NULL, 0, &session_len);
    if (ret != MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL || session_len > 0xFFFFu) {
        return AP_ERR_TLS;
    }
    *out_len = head + session_len + CRC_LEN;
    if (buf == NULL || buf_size < *out_len) {
        return AP_ERR_NO_SPACE;
    }
    if (mbedtls_ssl_session_save(&t->saved, put_header(c, t, trust, buf, session_len), session_len,
                                 &session_len) != 0) {
        memset(buf, 0, *out_len); /* no half-written secret left behind */
        *out_len = 0;
        return AP_ERR_TLS;
    }
    (void)put_be(buf + head + session_len, ap_crc32(0, buf, head + session_len), 4);
    return AP_OK;
}

/* ---- load ---- */

typedef struct blob_view {
    const uint8_t *host;
    size_t host_len;
    uint16_t port;
    uint16_t tls_min, tls_max;
    const uint8_t *trust, *pins, *identity;
    int64_t start;
    uint32_t life;
    const uint8_t *session;
    size_t session_len;
} blob_view_t;

/* The blob's fields, once its frame and CRC hold. false: corrupt. */
static bool parse_blob(const uint8_t *b, size_t len, blob_view_t *v)
{
    const uint8_t *p = b + MAGIC_LEN;

    if (len < MAGIC_LEN + 1u + FIXED_LEN + CRC_LEN || memcmp(b, k_magic, MAGIC_LEN) != 0) {
        return false;
    }
    v->host_len = *p++;
    if (len < MAGIC_LEN + 1u + v->host_len + FIXED_LEN + CRC_LEN) {
        return false;
    }
    v->host = p;
    p += v->host_len;
    v->port = (uint16_t)get_be(&p, 2);
    v->tls_min = (uint16_t)get_be(&p, 2);
    v->tls_max = (uint16_t)get_be(&p, 2);
    v->trust = p;
    v->pins = p + 32;
    v->identity = p + 64;
    p += 96;
    v->start = (int64_t)get_be(&p, 8);
    v->life = (uint32_t)get_be(&p, 4);
    if (v->life > MAX_LIFETIME_S) {
        return false; /* never written so: not a blob of this format */
    }
    v->session_len = (size_t)get_be(&p, 2);
    v->session = p;
    if ((size_t)(p - b) + v->session_len + CRC_LEN != len) {
        return false;
    }
    p += v->session_len;
    return get_be(&p, 4) == ap_crc32(0, b, len - CRC_LEN);
}

/* Does the blob's trust field match this client's, for an exact or a
 * wildcard session? *wildcard says which. */
static bool trust_matches(ap_client_t *c, ap_tls_t *t, const uint8_t *trust, bool *wildcard)
{
    uint8_t mine[32];

    *wildcard = false;
    trust_of(c, t, false, mine);
    if (memcmp(trust, mine, 32) == 0) {
        return true;
    }
    *wildcard = true;
    trust_of(c, t, true, mine);
    return memcmp(trust, mine, 32) == 0;
}

/* Which part of the binding differs; NULL if none. */
static const char *foreign_part(ap_client_t *c, ap_tls_t *t, const blob_view_t *v,
                                bool *wildcard)
{
    if (v->host_len != strlen(c->url.host) || memcmp(v->host, c->url.host, v->host_len) != 0) {
        return "another host";
    }
    if (v->port != c->url.port) {
        return "another port";
    }
    if (v->tls_min != c->tls_min || v->tls_max != c->tls_max) {
        return "another TLS version range";
    }
    if (!trust_matches(c, t, v->trust, wildcard)) {
        return "other trust anchors or public suffix list";
    }
    if (memcmp(v->pins, t->binding.pins, 32) != 0) {
        return "other public key pins";
    }
    if (memcmp(v->identity, t->binding.identity, 32) != 0) {
        return "another client identity";
    }
    return NULL;
}

/* The binding and the age of a framed blob. */
static ap_status_t judge(ap_client_t *c, ap_tls_t *t, const blob_view_t *v, bool *wildcard)
{
    const char *part = foreign_part(c, t, v, wildcard);

    if (part != NULL) {
        ap_client_set_error(c, "saved session refused for %s: it was made for %s, and is "
                            "only resumed under the policy that verified its server",
                            c->url.host, part);
        return AP_ERR_SESSION_FOREIGN;
    }
    if (expired_at(v->start, v->life, c->cfg.platform->wall_time(c->cfg.platform->ctx))) {
        ap_client_set_error(c, "saved session refused for %s: past its lifetime of %lu s, or "
                            "its age is unknown (check the wall clock)",
                            c->url.host, (unsigned long)v->life);
        return AP_ERR_SESSION_EXPIRED;
    }
    return AP_OK;
}

ap_status_t ap_client_session_load(ap_client_t *c, const uint8_t *blob, size_t len)
{
    ap_tls_t *t;
    blob_view_t v;
    ap_status_t st;
    bool wildcard = true;

    if (c == NULL || blob == NULL || !c->initialised || !c->cfg.resume_sessions) {
        return AP_ERR_BAD_ARG;
    }
    t = ap_tls_of(c);
    ap_tls_session_drop(t);
    if (!parse_blob(blob, len, &v)) {
        ap_client_set_error(c, "saved session refused for %s: not a saved session, truncated "
                            "or damaged", c->url.host);
        return AP_ERR_SESSION_CORRUPT;
    }
    bind_policy(c, t);
    st = judge(c, t, &v, &wildcard);
    if (st != AP_OK) {
        return st;
    }
    if (mbedtls_ssl_session_load(&t->saved, v.session, v.session_len) != 0) {
        ap_tls_session_drop(t); /* whatever it half-filled */
        ap_client_set_error(c, "saved session refused for %s: made by another Mbed TLS "
                            "version or build (" MBEDTLS_VERSION_STRING " here)", c->url.host);
        return AP_ERR_SESSION_CORRUPT;
    }
    t->saved_at = v.start;
    t->saved_life = v.life;
    t->saved_valid = true;
    t->saved_wildcard = wildcard;
    /* judge() found the blob bound to this client's host, port, anchors,
     * pins, TLS range and identity: it was made under this very policy, as
     * a session this client kept itself, so its ticket may carry early
     * data too (ap_tls_early.c) */
    t->saved_here = true;
    c->error[0] = '\0';
    return AP_OK;
}

#else /* no session tickets in this Mbed TLS build: nothing to save or load */

ap_status_t ap_client_session_save(ap_client_t *c, uint8_t *buf, size_t buf_size,
                                   size_t *out_len)
{
    if (c == NULL || out_len == NULL || (buf == NULL && buf_size > 0) || !c->initialised) {
        return AP_ERR_BAD_ARG;
    }
    *out_len = 0;
    return AP_ERR_SESSION_NONE;
}

ap_status_t ap_client_session_load(ap_client_t *c, const uint8_t *blob, size_t len)
{
    (void)len;
    if (c != NULL && blob != NULL && c->initialised) {
        ap_client_set_error(c, "this build keeps no TLS sessions (no MBEDTLS_SSL_SESSION_TICKETS)");
    }
    return AP_ERR_BAD_ARG;
}

#endif
