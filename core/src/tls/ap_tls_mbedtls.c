/*
 * TLS glue over Mbed TLS (2.28 or 3.6; differences live in ap_mbedtls_compat.h).
 *
 * Policy here is not optional: the version floor, verification of the chain,
 * the dates and the host name, and the cipher-suite allowlist are set on every
 * configuration, and nothing in the API can unset them.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "alertpost/ap_utc.h"
#include "tls/ap_tls_glue.h"

#include "mbedtls/net_sockets.h" /* only for its error codes, never its I/O */
#if defined(MBEDTLS_ERROR_C)
#include "mbedtls/error.h"
#endif

/* If this line fails to compile, raise AP_TLS_CONTEXT_SIZE (ap_config.h):
 * the Mbed TLS contexts of this build do not fit in ap_client_t. */
typedef char ap_tls_context_size_too_small[(sizeof(ap_tls_t) <= AP_TLS_CONTEXT_SIZE) ? 1 : -1];

/* The allowlist: forward-secret ECDHE with AEAD for TLS 1.2, and the TLS 1.3
 * suites. No static RSA, CBC, RC4, 3DES or NULL: a server that offers only
 * those is refused. Ids that this Mbed TLS does not build are skipped. */
static const int k_allowed_suites[] = {
#if defined(MBEDTLS_TLS1_3_AES_128_GCM_SHA256)
    MBEDTLS_TLS1_3_AES_128_GCM_SHA256,
    MBEDTLS_TLS1_3_AES_256_GCM_SHA384,
    MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,
#endif
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
};

const char *ap_tls_library_name(void)
{
    return "Mbed TLS " MBEDTLS_VERSION_STRING;
}

ap_tls_version_t ap_tls_highest_built(void)
{
    return ap_compat_highest_built();
}

const char *ap_tls_library_version(void)
{
    return ap_tls_library_name();
}

/* ---- the BIO shim: the one translation point between ap_transport_t and
 * Mbed TLS's conventions (0 = end of stream, negative = error) ---- */

/* Time one BIO call may take: the phase's step timeout, cut to what is left
 * of the post's deadline (0 while polling). false: the deadline has passed
 * (recorded as a timeout). */
static bool bio_budget(ap_client_t *c, uint32_t *timeout_ms)
{
    if (!ap_client_io_timeout(c, timeout_ms)) {
        c->last_io = AP_ERR_TIMEOUT;
        return false;
    }
    return true;
}

/* A transport result in Mbed TLS's terms. The transport's own status is kept
 * in c->last_io, so the failure can be named precisely afterwards. Only recv
 * may report the end of the stream (0 to Mbed TLS); a send never returns 0,
 * which Mbed TLS would not treat as a failure. */
static int bio_translate(ap_client_t *c, int32_t n, bool receiving)
{
    if (n > 0) {
        return (int)n;
    }
    c->last_io = (n == 0) ? AP_ERR_IO : n; /* 0 breaks the contract: a failure */
    if (n == AP_ERR_TIMEOUT) {
        return MBEDTLS_ERR_SSL_TIMEOUT;
    }
    if (receiving) {
        return (n == AP_ERR_CLOSED) ? 0 : MBEDTLS_ERR_NET_RECV_FAILED;
    }
    return MBEDTLS_ERR_NET_SEND_FAILED;
}

/* One record's header (and its first body byte) has gone out during the
 * handshake. Before ChangeCipherSpec, a handshake record starting with type
 * 11 is the client's Certificate (TLS 1.2: the server asked for one); a TLS
 * 1.3 client sends its whole second flight as protected records. */
static void out_record_seen(ap_tls_out_records_t *o)
{
    if (o->hdr[0] == 20) {
        o->ccs = true;
    } else if (o->hdr[0] == 23 && o->encrypted < UINT8_MAX) {
        o->encrypted++;
    } else if (o->hdr[0] == 22 && !o->ccs && o->hdr[5] == 11) {
        o->certificate = true;
    }
}

/* Follow the record framing of the bytes the transport took, however the
 * sends split them. */
static void watch_out_records(ap_tls_out_records_t *o, const uint8_t *p, size_t n)
{
    while (n > 0) {
        size_t take;

        if (o->hdr_have < 6 && !(o->hdr_have == 5 && o->body_left == 0)) {
            o->hdr[o->hdr_have++] = *p++;
            n--;
            if (o->hdr_have == 5) {
                o->body_left = (uint16_t)((o->hdr[3] << 8) | o->hdr[4]);
            }
            if (o->hdr_have == 6) {
                out_record_seen(o);
                o->body_left--;
            }
            if (o->hdr_have >= 5 && o->body_left == 0) {
                o->hdr_have = 0; /* an empty record, or one of a single byte */
            }
            continue;
        }
        take = n < o->body_left ? n : o->body_left;
        p += take;
        n -= take;
        o->body_left = (uint16_t)(o->body_left - take);
        if (o->body_left == 0) {
            o->hdr_have = 0;
        }
    }
}

/* Send everything held back (see bio_send); 0, or Mbed TLS's error. */
int ap_tls_flush_flight(ap_client_t *c)
{
    ap_tls_t *t = ap_tls_of(c);
    const ap_transport_t *tr = c->cfg.transport;
    size_t off = 0;

    while (off < t->held) {
        uint32_t budget;
        int32_t n;

        if (!bio_budget(c, &budget)) {
            return MBEDTLS_ERR_SSL_TIMEOUT;
        }
        n = tr->send(tr->ctx, c->cfg.work_buf + t->hold_base + off, t->held - off, budget);
        if (n <= 0) {
            t->held = 0;
            return bio_translate(c, n, false);
        }
        c->wire_sent += (uint32_t)n;
        off += (size_t)n;
    }
    t->held = 0;
    return 0;
}

/*
 * Once the server has answered, handshake records are held in the work
 * buffer (free until the request is written) and go out together when the
 * client next waits for the server, or when the handshake ends: one flight,
 * one send. A server
 * that refuses the client's certificate then has the whole flight before it
 * answers, and the client never meets a reset half-way through its own
 * flight, which would hide the server's alert. A record that does not fit
 * is sent at once, after what is held.
 */
static int bio_send(void *p, const unsigned char *buf, size_t len)
{
    ap_client_t *c = p;
    ap_tls_t *t = ap_tls_of(c);
    const ap_transport_t *tr = c->cfg.transport;
    uint32_t budget;
    int32_t n;
    int ret;

    /* The ClientHello goes out at once, alone in its flight: a server that
     * is not there then meets it as it always did (a reset, not a close).
     * With 0-RTT it is held too, so that the early data joins it
     * (ap_tls_early.c); held bytes then follow the request in the work
     * buffer, which Mbed TLS has yet to encrypt. */
    if (!t->handshake_done && (c->sniff.first_type != 0 || t->hold_first)) {
        if (len <= c->cfg.work_buf_size - t->hold_base - t->held) {
            watch_out_records(&t->out, buf, len);
            memcpy(c->cfg.work_buf + t->hold_base + t->held, buf, len);
            t->held += len;
            return (int)len;
        }
        if ((ret = ap_tls_flush_flight(c)) != 0) {
            return ret;
        }
    }
    if (!bio_budget(c, &budget)) {
        return MBEDTLS_ERR_SSL_TIMEOUT;
    }
    n = tr->send(tr->ctx, buf, len > (size_t)INT_MAX ? (size_t)INT_MAX : len, budget);
    if (n > 0) {
        c->wire_sent += (uint32_t)n; /* the client's "did any byte leave?" */
        if (!t->handshake_done) {
            watch_out_records(&t->out, buf, (size_t)n); /* what left, once */
        }
    }
    return bio_translate(c, n, false);
}

static int bio_recv(void *p, unsigned char *buf, size_t len)
{
    ap_client_t *c = p;
    const ap_transport_t *tr = c->cfg.transport;
    uint32_t budget;
    int32_t n;
    int ret;

    if ((ret = ap_tls_flush_flight(c)) != 0) {
        return ret;
    }
    if (!bio_budget(c, &budget)) {
        return MBEDTLS_ERR_SSL_TIMEOUT;
    }
    n = tr->recv(tr->ctx, buf, len > (size_t)INT_MAX ? (size_t)INT_MAX : len, budget);
    if (n > 0) {
        ap_tls_sniff_feed(&c->sniff, buf, (size_t)n);
    }
    if (c->polling && n == AP_ERR_TIMEOUT) {
        c->last_io = n;
        return MBEDTLS_ERR_SSL_WANT_READ; /* nothing yet: Mbed TLS's non-blocking answer */
    }
    return bio_translate(c, n, true);
}

/* ---- verification additions: dates from the injected clock, SPKI pins ---- */

static int64_t x509_seconds(const mbedtls_x509_time *t)
{
    return ap_utc_seconds(t->year, t->mon, t->day, t->hour, t->min, t->sec);
}

static bool leaf_matches_a_pin(const ap_client_t *c, const mbedtls_x509_crt *crt)
{
    unsigned char digest[32];
    size_t i;

    if (ap_compat_sha256(crt->pk_raw.p, crt->pk_raw.len, digest) != 0) {
        return false;
    }
    for (i = 0; i < c->cfg.pin_count; i++) {
        if (memcmp(digest, c->cfg.pins[i].sha256, sizeof(digest)) == 0) {
            return true;
        }
    }
    return false;
}

/* A rule refused the path: the reason becomes the error text right away, so
 * the context keeps no copy of it; refuse_certificate() leaves it in place. */
static void refuse_by_rule(ap_client_t *c, uint32_t *flags, const char *why)
{
    ap_tls_of(c)->rule_refused = true;
    *flags |= MBEDTLS_X509_BADCERT_OTHER;
    ap_client_set_error(c, "certificate refused for %s: %s. Nothing was sent.", c->url.host,
                        why);
}

static int verify_cb(void *p, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    ap_client_t *c = p;
    ap_tls_t *t = ap_tls_of(c);
    int64_t now = c->cfg.platform->wall_time(c->cfg.platform->ctx);

    /* Mbed TLS checks dates itself only when built with a clock; this check
     * uses the platform's clock on every build, so no build skips dates. */
    if (now == AP_WALL_TIME_UNKNOWN) {
        t->time_unknown = true;
        *flags |= MBEDTLS_X509_BADCERT_OTHER;
    } else {
        if (now < x509_seconds(&crt->valid_from)) {
            *flags |= MBEDTLS_X509_BADCERT_FUTURE;
        }
        if (now > x509_seconds(&crt->valid_to)) {
            *flags |= MBEDTLS_X509_BADCERT_EXPIRED;
        }
    }
    if (depth == 0 && t->path_len == 0) {
        ap_tls_anchors_leaf_check(&t->anchors, crt, flags); /* the path is the leaf alone */
    }
    if (depth == 0 && c->cfg.pin_count > 0 && !leaf_matches_a_pin(c, crt)) {
        t->pin_mismatch = true;
        *flags |= MBEDTLS_X509_BADCERT_OTHER;
    }
    /* Mbed TLS calls this from the top of the path down to the leaf, so the
     * whole path is known when depth 0 arrives. */
    if (depth >= 0 && depth < AP_X509_MAX_PATH) {
        t->path[depth] = crt;
        if ((size_t)depth + 1 > t->path_len) {
            t->path_len = (size_t)depth + 1;
        }
    } else {
        refuse_by_rule(c, flags, "the chain is longer than alertpost accepts");
    }
    if (depth == 0) {
        /* alertpost matches the host itself (SAN only, addresses as bytes),
         * identically on both lines; Mbed TLS's own check falls back to the CN. */
        *flags &= ~(uint32_t)MBEDTLS_X509_BADCERT_CN_MISMATCH;
        if (!t->rule_refused) {
            ap_x509_psl_t psl = {c->cfg.public_suffixes, c->cfg.public_suffixes_len};
            char why[AP_X509_REASON_SIZE];

            if (ap_x509_check_path(t->path, t->path_len, ap_tls_anchors_seen(&t->anchors),
                                   c->url.host, psl.text != NULL ? &psl : NULL, why,
                                   sizeof(why)) != AP_OK) {
                refuse_by_rule(c, flags, why);
            }
#if AP_TLS_RESUMPTION
            t->verified_wildcard = ap_x509_leaf_by_wildcard(crt, c->url.host);
#endif
        }
    }
    t->chain_flags |= *flags;
    return 0;
}

static int drbg_entropy(void *p, unsigned char *out, size_t len)
{
    const ap_client_t *c = p;
    const ap_platform_t *pf = c->cfg.platform;

    return pf->entropy(pf->ctx, out, len) == AP_OK
               ? 0
               : MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
}

/* ---- set-up ---- */

void ap_tls_describe(int ret, char *buf, size_t size)
{
#if defined(MBEDTLS_ERROR_C)
    char text[96];

    mbedtls_strerror(ret, text, sizeof(text));
    (void)snprintf(buf, size, "%s (Mbed TLS -0x%04X)", text, (unsigned)-ret);
#else
    (void)snprintf(buf, size, "Mbed TLS error -0x%04X", (unsigned)-ret);
#endif
}

ap_status_t ap_tls_setup(ap_client_t *c)
{
    static const unsigned char personalisation[] = "alertpost";
    ap_tls_t *t = ap_tls_of(c);
    size_t n = 0;
    size_t i;
    int ret;
    char why[160];

    memset(t, 0, sizeof(*t));
    mbedtls_ssl_init(&t->ssl);
    mbedtls_ssl_config_init(&t->conf);
    ap_tls_anchors_init(&t->anchors);
    mbedtls_ctr_drbg_init(&t->drbg);

    if (ap_compat_crypto_init() != 0) {
        ap_client_set_error(c, "the crypto library failed to start (PSA); no entropy?");
        return AP_ERR_ENTROPY;
    }
    ret = mbedtls_ctr_drbg_seed(&t->drbg, drbg_entropy, c,
                                personalisation, sizeof(personalisation) - 1);
    if (ret != 0) {
        ap_client_set_error(c, "the entropy source failed: refusing to start TLS without it");
        return AP_ERR_ENTROPY;
    }

    if (ap_tls_anchors_load(&t->anchors, c->cfg.ca_pem, c->cfg.ca_pem_len, why, sizeof(why)) !=
        AP_OK) {
        ap_client_set_error(c, "the trust anchors could not be used: %s", why);
        return AP_ERR_TLS_SETUP;
    }

    ret = mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_CLIENT,
                                      MBEDTLS_SSL_TRANSPORT_STREAM,
                                      MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret != 0 || ap_compat_set_versions(&t->conf, c->tls_min, c->tls_max) != 0) {
        ap_client_set_error(c, "Mbed TLS refused the TLS configuration");
        return AP_ERR_TLS_SETUP;
    }
    mbedtls_ssl_conf_authmode(&t->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    ap_tls_anchors_conf(&t->anchors, &t->conf);
    mbedtls_ssl_conf_cert_profile(&t->conf, ap_x509_profile());
    ap_compat_set_groups(&t->conf);
    mbedtls_ssl_conf_rng(&t->conf, mbedtls_ctr_drbg_random, &t->drbg);
    mbedtls_ssl_conf_verify(&t->conf, verify_cb, c);
    ap_compat_set_sig_algs(&t->conf);
    ap_tls_session_configure(c, t);
    if (ap_compat_conf_max_fragment(&t->conf) != 0) {
        ap_client_set_error(c, "Mbed TLS refused max_fragment_length %u "
                               "(AP_TLS_MAX_FRAGMENT_LEN)", (unsigned)AP_TLS_MAX_FRAGMENT_LEN);
        return AP_ERR_TLS_SETUP;
    }

    for (i = 0; i < sizeof(k_allowed_suites) / sizeof(k_allowed_suites[0]); i++) {
        if (mbedtls_ssl_ciphersuite_from_id(k_allowed_suites[i]) != NULL) {
            t->suites[n++] = k_allowed_suites[i];
        }
    }
    t->suites[n] = 0;
    if (n == 0) {
        ap_client_set_error(c, "this Mbed TLS build has none of the allowed cipher suites");
        return AP_ERR_TLS_SETUP;
    }
    mbedtls_ssl_conf_ciphersuites(&t->conf, t->suites);

#if AP_CLIENT_IDENTITY
    if (ap_tls_identity_setup(c, t) != AP_OK) {
        return AP_ERR_TLS_SETUP;
    }
#else
    if (c->cfg.identity != NULL) {
        ap_client_set_error(c, "this build has no client certificates (AP_CLIENT_IDENTITY 0)");
        return AP_ERR_TLS_SETUP;
    }
#endif

    ret = mbedtls_ssl_setup(&t->ssl, &t->conf);
    if (ret != 0) {
        ap_tls_describe(ret, why, sizeof(why));
        ap_client_set_error(c, "TLS set-up failed: %s", why);
        return AP_ERR_TLS_SETUP;
    }
    t->ssl_ready = true;
    return AP_OK;
}

void ap_tls_free(ap_client_t *c)
{
    ap_tls_t *t = ap_tls_of(c);

    ap_tls_session_drop(t);
    mbedtls_ssl_free(&t->ssl);
    mbedtls_ssl_config_free(&t->conf);
#if AP_CLIENT_IDENTITY
    ap_tls_identity_free(&t->identity);
#endif
    ap_tls_anchors_free(&t->anchors);
    mbedtls_ctr_drbg_free(&t->drbg);
    memset(t, 0, sizeof(*t));
}

/* ---- handshake and its failures, in words ---- */

static const char *alert_name(int desc)
{
    switch (desc) {
    case 40: return "handshake_failure";
    case 42: return "bad_certificate";
    case 43: return "unsupported_certificate";
    case 44: return "certificate_revoked";
    case 45: return "certificate_expired";
    case 46: return "certificate_unknown";
    case 47: return "illegal_parameter";
    case 48: return "unknown_ca";
    case 49: return "access_denied";
    case 51: return "decrypt_error";
    case 70: return "protocol_version";
    case 71: return "insufficient_security";
    case 80: return "internal_error";
    case 112: return "unrecognized_name";
    case 116: return "certificate_required";
    default: return "alert";
    }
}

static void policy_range(const ap_client_t *c, char *buf, size_t size)
{
    if (c->tls_min == c->tls_max) {
        (void)snprintf(buf, size, "%s only", ap_tls_version_str(c->tls_min));
    } else {
        (void)snprintf(buf, size, "%s to %s", ap_tls_version_str(c->tls_min),
                       ap_tls_version_str(c->tls_max));
    }
}

/* Whose limit refused the version: the server's, this client's tls_min or
 * tls_max, or the ceiling of the Mbed TLS this was built with. */
static void whose_limit(const ap_client_t *c, ap_tls_version_t seen, char *buf, size_t size)
{
    ap_tls_version_t built = ap_tls_highest_built();
    bool server_too_old = seen != 0 && seen < AP_TLS_FLOOR;

    if (!server_too_old && c->tls_min > AP_TLS_FLOOR && (seen == 0 || seen < c->tls_min)) {
        (void)snprintf(buf, size, "The limit is this client's minimum, %s"
                                  AP_HINT(" (tls_min, the CLI's --tls-min)")
                                  ": the server offers only older versions.",
                       ap_tls_version_str(c->tls_min));
    } else if (!server_too_old && c->tls_max < built) {
        (void)snprintf(buf, size, "The limit may be this client's maximum, %s"
                                  AP_HINT(" (tls_max, the CLI's --tls-max)")
                                  ": the server may require a newer version.",
                       ap_tls_version_str(c->tls_max));
    } else if (!server_too_old && built < AP_TLS_1_3) {
        (void)snprintf(buf, size, "The limit may be this build's ceiling, %s (%s): the server "
                                  "may require TLS 1.3.",
                       ap_tls_version_str(built), ap_tls_library_name());
    } else {
        (void)snprintf(buf, size, "The limit is the server's: enable TLS 1.2 or newer on it.");
    }
}

static ap_status_t refuse_version(ap_client_t *c, int alert)
{
    const char *host = c->url.host;
    ap_tls_version_t seen = ap_tls_sniff_server_version(&c->sniff);
    char range[48];
    char limit[200];

    policy_range(c, range, sizeof(range));
    whose_limit(c, seen, limit, sizeof(limit));
    c->info.server_version = seen;
    if (c->sniff.hello_version != 0) {
        ap_client_set_error(c,
            "TLS version refused: %s chose %s, outside the policy (%s; floor %s). "
            "Nothing was sent. %s",
            host, ap_tls_version_str(seen), range, ap_tls_version_str(AP_TLS_FLOOR), limit);
    } else if (seen != 0 && seen < AP_TLS_FLOOR) {
        ap_client_set_error(c,
            "TLS version refused: %s offers no version in the policy (%s; floor %s): "
            "it answered in a %s record with a %s alert. Nothing was sent. %s",
            host, range, ap_tls_version_str(AP_TLS_FLOOR), ap_tls_version_str(seen),
            alert_name(alert), limit);
    } else {
        ap_client_set_error(c,
            "TLS version refused: %s offers no version in the policy (%s; floor %s)%s%s%s. "
            "Nothing was sent. %s",
            host, range, ap_tls_version_str(AP_TLS_FLOOR), alert >= 0 ? ": it sent a " : "",
            alert >= 0 ? alert_name(alert) : "", alert >= 0 ? " alert" : "", limit);
    }
    return AP_ERR_TLS_VERSION;
}

/* Flags the X.509 profile sets, in words. */
static const char *weak_algorithm(uint32_t f)
{
    if (f & MBEDTLS_X509_BADCERT_BAD_MD) {
        return "is signed with a hash below SHA-256";
    }
    if (f & MBEDTLS_X509_BADCERT_BAD_PK) {
        return "has a key type other than RSA or ECDSA";
    }
    if (f & MBEDTLS_X509_BADCERT_BAD_KEY) {
        return "has an RSA key under 2048 bits or a curve other than P-256/P-384";
    }
    return NULL;
}

/* " Trust anchor N has the issuer's name but cannot be parsed: ...", when
 * the store had one (ap_tls_anchors.h), else "". */
static void unusable_anchor(ap_tls_t *t, char *buf, size_t size)
{
    int ret = 0;
    size_t n = ap_tls_anchors_unusable(&t->anchors, &ret);
    char why[120];

    buf[0] = '\0';
    if (n > 0) {
        ap_tls_describe(ret, why, sizeof(why));
        (void)snprintf(buf, size, " Trust anchor %u has the issuer's name but cannot be "
                                  "parsed: %s.", (unsigned)n, why);
    }
}

/* The refusal in words, from every flag the chain collected. */
static ap_status_t refuse_certificate_flags(ap_client_t *c, uint32_t f)
{
    ap_tls_t *t = ap_tls_of(c);
    const char *host = c->url.host;
    const char *weak = weak_algorithm(f);

    if (t->pin_mismatch && !t->rule_refused && (f & ~(uint32_t)MBEDTLS_X509_BADCERT_OTHER) == 0) {
        ap_client_set_error(c,
            "certificate refused: the public key of %s matches none of the %u pinned "
            "keys. Nothing was sent." AP_HINT(" Check the pins against the server's key."),
            host, (unsigned)c->cfg.pin_count);
        return AP_ERR_TLS_PIN;
    }
    if (t->time_unknown) {
        ap_client_set_error(c,
            "certificate refused: the dates of %s's certificate cannot be checked "
            "because this device does not know the time." AP_HINT(" Set the clock first."), host);
    } else if (f & MBEDTLS_X509_BADCERT_EXPIRED) {
        ap_client_set_error(c,
            "certificate refused: a certificate in %s's chain has expired. "
            "Nothing was sent." AP_HINT(" Renew the server's certificate."), host);
    } else if (f & MBEDTLS_X509_BADCERT_FUTURE) {
        ap_client_set_error(c,
            "certificate refused: a certificate in %s's chain is not valid yet. "
            "Nothing was sent." AP_HINT(" Check the server's certificate and this clock."), host);
    } else if (weak != NULL) {
        ap_client_set_error(c,
            "certificate refused: a certificate in %s's chain %s (weak algorithm). "
            "Nothing was sent.", host, weak);
    } else if (f & MBEDTLS_X509_BADCERT_NOT_TRUSTED) {
        char note[224];

        unusable_anchor(t, note, sizeof(note));
        ap_client_set_error(c,
            "certificate refused: %s's chain does not lead to a trusted root "
            "(self-signed, unknown issuer, or a missing intermediate). Nothing was "
            "sent." AP_HINT(" Check the server's chain and the trust anchors.") "%s",
            host, note);
    } else if (t->rule_refused) {
        /* refuse_by_rule() has set the error text */
    } else {
        /* Mbed TLS's own usage check for the suite lands here too; the rules
         * refuse every usage it would (keyUsage, extendedKeyUsage) first. */
        ap_client_set_error(c,
            "certificate refused: %s's certificate failed verification (flags 0x%08lX). "
            "Nothing was sent.", host, (unsigned long)f);
    }
    return AP_ERR_TLS_CERT;
}

static ap_status_t refuse_certificate(ap_client_t *c)
{
    return refuse_certificate_flags(c, ap_tls_of(c)->chain_flags |
                                           mbedtls_ssl_get_verify_result(&ap_tls_of(c)->ssl));
}

/* An error from parsing a certificate the server sent (X.509 or public-key
 * parsing), as opposed to verifying it. */
static bool is_certificate_parse_error(int ret)
{
    unsigned high = (unsigned)(-ret) & 0xFF80u;

    if (ret >= 0 || ret == MBEDTLS_ERR_X509_ALLOC_FAILED || ret == MBEDTLS_ERR_PK_ALLOC_FAILED) {
        return false;
    }
    return (high >= 0x2080u && high <= 0x2980u) || (high >= 0x3880u && high <= 0x3F00u);
}

static ap_status_t refuse_unparsable(ap_client_t *c, int ret)
{
    char why[160];

    ap_tls_describe(ret, why, sizeof(why));
    ap_client_set_error(c,
        "certificate refused: a certificate %s sent cannot be parsed (%s): malformed, "
        "or with a critical extension Mbed TLS lacks. Nothing was sent.", c->url.host, why);
    return AP_ERR_TLS_CERT;
}

/* Did the server ask for a client certificate in this handshake (so far)? */
static bool cert_requested(const ap_tls_t *t)
{
    return t->out.certificate || t->out.encrypted >= 2;
}

/* The alerts a server sends about a client certificate, or a failed
 * handshake right after it got one (RFC 8446 6.2, RFC 5246 7.2.2). */
static bool is_certificate_alert(int alert)
{
    return alert == MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE || (alert >= 41 && alert <= 46) ||
           alert == 48 || alert == 49 || alert == 51 || alert == AP_TLS_ALERT_CERTIFICATE_REQUIRED;
}

#if AP_CLIENT_IDENTITY
/* Only a build with client certificates has one for a server to refuse
 * (without, a configured identity is refused at setup). */
static void say_client_cert_refused(ap_client_t *c, int alert)
{
    char subject[200];

    (void)ap_tls_describe_cert(&ap_tls_of(c)->identity.chain, false, subject, sizeof(subject));
    if (alert >= 0) {
        ap_client_set_error(c,
            "%s refused this device's certificate (%s): it answered with the alert %s (%d). "
            "Nothing was delivered."
            AP_HINT(" Check that the server trusts the CA that issued it, and its dates."), c->url.host, subject, alert_name(alert), alert);
    } else {
        ap_client_set_error(c,
            "%s refused this device's certificate (%s): it ended the connection on "
            "receiving it, with no alert this client can read. Nothing was delivered."
            AP_HINT(" Check that the server trusts the CA that issued it, and its dates."),
            c->url.host, subject);
    }
}
#endif

/*
 * A server that requires a client certificate and got none, or refused the
 * one it got. TLS 1.3 says the first with certificate_required; TLS 1.2
 * servers send handshake_failure (or just close) after an empty Certificate.
 * A refusal is an alert about the certificate (or a close) once the server
 * has asked for one. In TLS 1.3 both arrive after the client's side of the
 * handshake is done, on the first read. True when ret is such an end; the
 * error text is then set.
 */
static bool refused_for_client_cert(ap_client_t *c, int ret)
{
    ap_tls_t *t = ap_tls_of(c);
    int alert = (ret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) ? ap_compat_last_alert(&t->ssl) : -1;
    bool closed = alert < 0 && (c->last_io == AP_ERR_CLOSED || c->last_io == AP_ERR_IO ||
                                ret == MBEDTLS_ERR_SSL_CONN_EOF ||
                                ret == MBEDTLS_ERR_SSL_INVALID_MAC);

    if (alert != AP_TLS_ALERT_CERTIFICATE_REQUIRED &&
        !(cert_requested(t) && (is_certificate_alert(alert) || closed))) {
        return false;
    }
#if AP_CLIENT_IDENTITY
    if (c->cfg.identity != NULL) {
        say_client_cert_refused(c, alert);
        return true;
    }
#endif
    ap_client_set_error(c,
        "TLS handshake with %s failed: the server requires a client certificate and "
        "none is configured. Nothing was sent.", c->url.host);
    return true;
}

static ap_status_t classify_handshake_failure(ap_client_t *c, int ret)
{
    const char *host = c->url.host;
    const ap_transport_t *tr = c->cfg.transport;
    const char *detail = (tr->describe != NULL) ? tr->describe(tr->ctx) : "";
    ap_tls_version_t seen = ap_tls_sniff_server_version(&c->sniff);
    int alert = -1;
    char why[160];

    c->info.server_version = seen;
    if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED || ap_tls_of(c)->rule_refused ||
        (ret == AP_MBEDTLS_ERR_BAD_CERT && mbedtls_ssl_get_verify_result(&ap_tls_of(c)->ssl) != 0)) {
        return refuse_certificate(c);
    }
    if (is_certificate_parse_error(ret)) {
        return refuse_unparsable(c, ret);
    }
    if (refused_for_client_cert(c, ret)) {
        return AP_ERR_TLS_CLIENT_CERT;
    }
    if (ret == AP_MBEDTLS_ERR_VERSION ||
        (c->sniff.hello_version != 0 && c->sniff.hello_version < c->tls_min)) {
        return refuse_version(c, -1);
    }
    if (ret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) {
        alert = ap_compat_last_alert(&ap_tls_of(c)->ssl);
        /* protocol_version names the problem outright; a handshake_failure
         * or insufficient_security sent in a record older than TLS 1.2 means
         * the server settled on an old version before it found nothing it
         * could agree to. */
        /* A hello that offered TLS 1.3 alone and was answered with
         * handshake_failure before any ServerHello: the server has no TLS 1.3
         * (it found none of the TLS 1.3 suites it could use). */
        bool tls13_only_refused = c->tls_min >= AP_TLS_1_3 && c->sniff.hello_version == 0 &&
                                  c->sniff.first_type == 21 &&
                                  alert == MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE;

        if (alert == MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION || tls13_only_refused ||
            ((alert == MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE || alert == 71) &&
             seen != 0 && seen < AP_TLS_FLOOR)) {
            return refuse_version(c, alert);
        }
        ap_client_set_error(c,
            "TLS handshake with %s failed: the server sent a %s alert (%d). Nothing "
            "was sent." AP_HINT(" It may offer no cipher suite alertpost allows (ECDHE with AES-GCM "
            "or ChaCha20-Poly1305)."), host, alert_name(alert), alert);
        return AP_ERR_TLS;
    }
    if (c->last_io == AP_ERR_TIMEOUT) {
        ap_client_set_error(c, "timed out during the TLS handshake with %s", host);
        return AP_ERR_TIMEOUT;
    }
    if (c->last_io == AP_ERR_IO) {
        ap_client_set_error(c, "the connection to %s failed during the TLS handshake%s%s",
                            host, detail[0] ? ": " : "", detail);
        return AP_ERR_IO;
    }
    if (c->last_io == AP_ERR_CLOSED) {
        ap_client_set_error(c,
            "%s closed the connection during the TLS handshake. Nothing was sent."
            AP_HINT(" Is it a TLS server on that port?"), host);
        return AP_ERR_TLS;
    }
    ap_tls_describe(ret, why, sizeof(why));
#if MBEDTLS_VERSION_MAJOR >= 3
    if (ret == MBEDTLS_ERR_SSL_ILLEGAL_PARAMETER && c->sniff.hello_version == AP_TLS_1_2 &&
        c->tls_max > AP_TLS_1_2) {
        /* Mbed TLS 3.6.0 to 3.6.6 refuse an RSA-PSS ServerKeyExchange in TLS
         * 1.2 (#10668) unless built with cmake/ApMbedTLSFixes.cmake, which an
         * installed Mbed TLS is not; say what works around it. */
        ap_client_set_error(c,
            "TLS handshake with %s failed: %s. Nothing was sent."
            AP_HINT(" If the server has an RSA key and prefers RSA-PSS, this Mbed TLS cannot "
                    "verify that in TLS 1.2: limit the client to TLS 1.2 (tls_max) or build "
                    "against Mbed TLS 3.6.7 or later."),
            host, why);
        return AP_ERR_TLS;
    }
#endif
    ap_client_set_error(c, "TLS handshake with %s failed: %s. Nothing was sent.", host, why);
    return AP_ERR_TLS;
}

size_t ap_tls_describe_cert(const mbedtls_x509_crt *crt, bool with_issuer, char *buf,
                            size_t size)
{
    size_t n = 0;
    int m;

    if (size == 0) {
        return 0;
    }
    buf[0] = '\0';
#if AP_TRACE_CERT_NAMES
    m = snprintf(buf, size, "subject ");
    n = (m > 0 && (size_t)m < size) ? (size_t)m : 0;
    m = mbedtls_x509_dn_gets(buf + n, size - n, &crt->subject);
    n += (m > 0) ? (size_t)m : 0;
    if (with_issuer && n < size) {
        m = snprintf(buf + n, size - n, "; issuer ");
        n += (m > 0) ? (size_t)m : 0;
        if (n < size) {
            m = mbedtls_x509_dn_gets(buf + n, size - n, &crt->issuer);
            n += (m > 0) ? (size_t)m : 0;
        }
    }
#else
    (void)with_issuer;
#endif
    if (n < size) {
        m = snprintf(buf + n, size - n, "%sexpires %04d-%02d-%02d %02d:%02d:%02d UTC",
                     n > 0 ? "; " : "", crt->valid_to.year, crt->valid_to.mon,
                     crt->valid_to.day, crt->valid_to.hour, crt->valid_to.min,
                     crt->valid_to.sec);
        n += (m > 0) ? (size_t)m : 0;
    }
    return n < size ? n : strlen(buf);
}

/* For a -v trace: who the verified server certificate names, and until
 * when; and this device's certificate when it went out. Formatted into the
 * work buffer, which is free between requests. */
static void trace_certificates(ap_client_t *c)
{
#if AP_TRACE_CERT_NAMES
    const mbedtls_x509_crt *crt = mbedtls_ssl_get_peer_cert(&ap_tls_of(c)->ssl);
    char *buf = (char *)c->cfg.work_buf;
    size_t size = c->cfg.work_buf_size;
    size_t n;

    if (c->cfg.trace == NULL || size < 64) {
        return;
    }
    if (crt != NULL) {
        n = ap_tls_describe_cert(crt, true, buf, size);
        c->cfg.trace(c->cfg.trace_ctx, AP_TRACE_PEER_CERT, (const uint8_t *)buf, n);
    }
#if AP_CLIENT_IDENTITY
    if (c->info.client_cert_sent) {
        n = ap_tls_describe_cert(&ap_tls_of(c)->identity.chain, false, buf, size);
        c->cfg.trace(c->cfg.trace_ctx, AP_TRACE_CLIENT_CERT, (const uint8_t *)buf, n);
    }
#endif
#else
    (void)c;
#endif
}

/* What one verification collects, cleared before each. */
static void reset_verification(ap_tls_t *t)
{
    t->chain_flags = 0;
    t->path_len = 0;
    t->rule_refused = false;
    t->pin_mismatch = false;
    t->time_unknown = false;
#if AP_TLS_RESUMPTION
    t->verified_wildcard = true; /* until a leaf is seen: the stricter binding */
#endif
    ap_tls_anchors_reset(&t->anchors);
}

ap_status_t ap_tls_check_chain(ap_client_t *c, const uint8_t *chain, size_t len)
{
    ap_tls_t *t = ap_tls_of(c);
    mbedtls_x509_crt crt;
    uint32_t flags = 0;
    int ret;
    char why[160];

    mbedtls_x509_crt_init(&crt);
    ret = mbedtls_x509_crt_parse(&crt, chain, len);
    if (ret < 0 || crt.version == 0) {
        if (ret < 0) {
            ap_tls_describe(ret, why, sizeof(why));
        } else {
            (void)snprintf(why, sizeof(why), "no certificate in it");
        }
        ap_client_set_error(c, "the chain could not be read: %s", why);
        mbedtls_x509_crt_free(&crt);
        return AP_ERR_TLS_SETUP;
    }
    if (ret > 0) {
        ap_client_set_error(c, "certificate refused for %s: %d certificate(s) of the chain "
                               "cannot be parsed (an unknown critical extension, or an "
                               "encoding Mbed TLS refuses)", c->url.host, ret);
        mbedtls_x509_crt_free(&crt);
        return AP_ERR_TLS_CERT;
    }
    /* The handshake's own verification: the same profile, anchors, host
     * name and verify callback (dates, pins, alertpost's X.509 rules). */
    reset_verification(t);
    ret = ap_tls_anchors_verify(&t->anchors, &crt, ap_x509_profile(), c->url.host, &flags,
                                verify_cb, c);
    t->chain_flags |= flags;
    mbedtls_x509_crt_free(&crt);
    if (ret == 0 && t->chain_flags == 0 && !t->rule_refused) {
        return AP_OK;
    }
    return refuse_certificate_flags(c, t->chain_flags);
}

ap_status_t ap_tls_handshake(ap_client_t *c)
{
    ap_tls_t *t = ap_tls_of(c);
    ap_tls_version_t got;
    int ret;

    if (!t->ssl_ready) {
        return AP_ERR_BAD_ARG;
    }
    if (t->session_used) {
        (void)mbedtls_ssl_session_reset(&t->ssl);
    }
    t->session_used = true;
    reset_verification(t);
    memset(&t->out, 0, sizeof(t->out));
    t->handshake_done = false;
    c->info.client_cert_requested = false;
    c->info.client_cert_sent = false;
    c->info.resumed = false;
    c->last_io = AP_OK;
    ap_tls_sniff_init(&c->sniff);

    /* Always set, also for an address: it is what the certificate is checked
     * against, and it is sent as SNI where SNI may carry it. */
    ret = mbedtls_ssl_set_hostname(&t->ssl, c->url.host);
    if (ret != 0) {
        ap_client_set_error(c, "the host name %s was refused by the TLS library", c->url.host);
        return AP_ERR_TLS_SETUP;
    }
    mbedtls_ssl_set_bio(&t->ssl, c, bio_send, bio_recv, NULL);
    ap_tls_session_offer(c, t);

    t->held = 0;
    t->hold_base = 0;
    ret = ap_tls_early_arm(c, t) ? ap_tls_early_send(c, t) : 0;
    if (ret == 0) {
        do {
            ret = mbedtls_ssl_handshake(&t->ssl);
        } while (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE);
    }
    {
        /* the client's last flight; after a failure, its alert if any */
        int flushed = ap_tls_flush_flight(c);

        ret = (ret == 0) ? flushed : ret;
    }
    if (ret == 0) {
        ap_tls_early_outcome(c, t); /* before cert_requested(): EndOfEarlyData */
    }
    t->handshake_done = true;
    t->read_any = false;
    c->info.client_cert_requested = cert_requested(t);
    c->info.client_cert_sent = c->info.client_cert_requested && c->cfg.identity != NULL;
    if (ret != 0) {
        ap_tls_session_drop(t); /* refused, or not verified: never offered again */
        return classify_handshake_failure(c, ret);
    }
    got = ap_compat_negotiated(&t->ssl);
    c->info.tls_version = got;
    c->info.server_version = got;
    c->info.ciphersuite = mbedtls_ssl_get_ciphersuite(&t->ssl);
    /* Cannot happen with the range configured above; checked all the same,
     * because this is the promise the whole library exists to keep. */
    if (got < AP_TLS_FLOOR || got < c->tls_min || got > c->tls_max) {
        ap_tls_session_drop(t);
        return refuse_version(c, -1);
    }
    /* With verification required, a full handshake always runs the verify
     * callback on the server's chain; only a resumed one (TLS 1.2 session
     * or TLS 1.3 ticket) has no Certificate to verify. Both lines, public
     * behaviour only. */
    c->info.resumed = t->path_len == 0;
    ap_tls_session_keep(c, t);
    trace_certificates(c);
    return AP_OK;
}

/* ---- records ---- */

/* TLS 1.3: a server that requires a client certificate, or refuses the one
 * it got, says so after the client's Finished, so on the first read; it
 * ended the handshake there and never read the request. Only an alert
 * counts here: a reset after a handshake is a reset. */
static bool refused_after_handshake(ap_client_t *c, int ret)
{
    ap_tls_t *t = ap_tls_of(c);
    int alert;

    if (c->info.tls_version < AP_TLS_1_3) {
        return false;
    }
    /* Mbed TLS servers send that alert under their handshake keys, which
     * the client has already replaced: it cannot be read, only recognised
     * as the first record after a handshake in which a certificate was
     * asked for. */
    if (ret == MBEDTLS_ERR_SSL_INVALID_MAC && !t->read_any && cert_requested(t)) {
        return refused_for_client_cert(c, ret);
    }
    if (ret != MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) {
        return false;
    }
    alert = ap_compat_last_alert(&t->ssl);
    return (alert == AP_TLS_ALERT_CERTIFICATE_REQUIRED ||
            (cert_requested(t) && is_certificate_alert(alert))) &&
           refused_for_client_cert(c, ret);
}

static int32_t io_failure(ap_client_t *c, int ret, const char *what)
{
    char why[160];

    if (refused_after_handshake(c, ret)) {
        return AP_ERR_TLS_CLIENT_CERT;
    }
    if (c->last_io == AP_ERR_TIMEOUT || ret == MBEDTLS_ERR_SSL_TIMEOUT) {
        return AP_ERR_TIMEOUT;
    }
    if (c->last_io == AP_ERR_IO) {
        return AP_ERR_IO;
    }
    ap_tls_describe(ret, why, sizeof(why));
    ap_client_set_error(c, "TLS %s with %s failed: %s", what, c->url.host, why);
    return AP_ERR_TLS;
}

/* The first write after a TLS 1.3 handshake in which the server asked for a
 * certificate failed: the server may have refused the certificate and
 * closed, its alert still waiting unread ahead of the reset. Read it, so
 * the refusal is named the same way whichever of the two the client met
 * first. */
static int pending_alert(ap_client_t *c, int ret)
{
    ap_tls_t *t = ap_tls_of(c);
    unsigned char scrap[1];
    int r;

    if (c->info.tls_version < AP_TLS_1_3 || !cert_requested(t)) {
        return ret;
    }
    c->last_io = AP_OK;
    r = mbedtls_ssl_read(&t->ssl, scrap, sizeof(scrap));
    return (r == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE || r == MBEDTLS_ERR_SSL_INVALID_MAC) ? r
                                                                                    : ret;
}

int32_t ap_tls_write(ap_client_t *c, const uint8_t *buf, size_t len)
{
    ap_tls_t *t = ap_tls_of(c);
    int ret;

    c->last_io = AP_OK;
    do {
        ret = mbedtls_ssl_write(&t->ssl, buf, len);
    } while (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE);
    if (ret > 0) {
        return (int32_t)ret;
    }
    if (c->last_io == AP_ERR_CLOSED || c->last_io == AP_ERR_IO) {
        int32_t io = c->last_io;

        ret = pending_alert(c, ret);
        if (!refused_after_handshake(c, ret)) {
            c->last_io = io;
            return io == AP_ERR_CLOSED ? AP_ERR_CLOSED : io_failure(c, ret, "write");
        }
        return AP_ERR_TLS_CLIENT_CERT;
    }
    return io_failure(c, ret, "write");
}

int32_t ap_tls_read(ap_client_t *c, uint8_t *buf, size_t size)
{
    ap_tls_t *t = ap_tls_of(c);
    int ret;

    c->last_io = AP_OK;
    for (;;) {
        ret = mbedtls_ssl_read(&t->ssl, buf, size);
        if (ret > 0) {
            t->read_any = true;
            return (int32_t)ret;
        }
        if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE
#if defined(MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
            || ret == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET
#endif
        ) {
            uint32_t left;

#if defined(MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
            if (ret == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) {
                ap_tls_session_keep(c, t); /* the newest ticket replaces the last */
            }
#endif

            /* A post-handshake message was consumed, or a poll found nothing;
             * the deadline still binds, and a poll never waits. */
            if (c->polling || !ap_client_io_timeout(c, &left)) {
                return AP_ERR_TIMEOUT;
            }
            continue;
        }
        if (ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
            return AP_ERR_CLOSED;
        }
        if (ret == 0 || ret == MBEDTLS_ERR_SSL_CONN_EOF || c->last_io == AP_ERR_CLOSED) {
            return AP_ERR_TRUNCATED;
        }
        return io_failure(c, ret, "read");
    }
}

ap_status_t ap_tls_poll(ap_client_t *c)
{
    ap_tls_t *t = ap_tls_of(c);
    uint8_t scrap[1];
    int32_t n;

    if (!t->ssl_ready) {
        return AP_ERR_BAD_ARG;
    }
    if (mbedtls_ssl_get_bytes_avail(&t->ssl) > 0) {
        return AP_ERR_HTTP_RESPONSE; /* decrypted and waiting: nobody asked for it */
    }
    /* ap_tls_read() consumes session tickets and answers AP_ERR_TIMEOUT when
     * the poll found no whole record. A record only partly arrived stays
     * buffered in Mbed TLS: it is completed by the next read, which then sees
     * it as the answer to the next request (the 408 case the client handles). */
    n = ap_tls_read(c, scrap, sizeof(scrap));
    if (n > 0) {
        return AP_ERR_HTTP_RESPONSE;
    }
    if (n == AP_ERR_TIMEOUT) {
        return AP_OK;
    }
    if (n == AP_ERR_CLOSED || n == AP_ERR_TRUNCATED) {
        return AP_ERR_CLOSED;
    }
    return (ap_status_t)n;
}

void ap_tls_end(ap_client_t *c, bool notify)
{
    ap_tls_t *t = ap_tls_of(c);

    if (t->ssl_ready && notify) {
        /* WANT_WRITE after a short write: one retry suffices for an alert
         * record of a few bytes; a failure only means the peer is gone. */
        if (mbedtls_ssl_close_notify(&t->ssl) == MBEDTLS_ERR_SSL_WANT_WRITE) {
            (void)mbedtls_ssl_close_notify(&t->ssl);
        }
    }
}
