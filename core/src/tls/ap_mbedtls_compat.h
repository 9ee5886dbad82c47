/*
 * The one place where Mbed TLS 2.28 and 3.6 differ for alertpost.
 *
 * Everything version-specific the TLS glue needs is a small static function
 * here; ap_tls_mbedtls.c itself is written once, against these names.
 */
#ifndef ALERTPOST_AP_MBEDTLS_COMPAT_H
#define ALERTPOST_AP_MBEDTLS_COMPAT_H

#include <stdbool.h>
#include <stdint.h>

#include "alertpost/ap_config.h"
#include "mbedtls/version.h"
#if MBEDTLS_VERSION_MAJOR >= 3
#include "mbedtls/build_info.h"
#include "psa/crypto.h"
#else
#if !defined(MBEDTLS_CONFIG_FILE)
#include "mbedtls/config.h"
#else
#include MBEDTLS_CONFIG_FILE
#endif
#endif

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/pem.h"
#include "mbedtls/pk.h"
#include "mbedtls/sha256.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"

#include "alertpost/ap_tls_policy.h"

#if MBEDTLS_VERSION_MAJOR != 2 && MBEDTLS_VERSION_MAJOR != 3
#error "alertpost supports Mbed TLS 2.28.x and 3.6.x"
#endif
#if MBEDTLS_VERSION_MAJOR == 2 && MBEDTLS_VERSION_MINOR < 28
#error "alertpost needs Mbed TLS 2.28 or later on the 2.x line"
#endif

/* Error code of "the server chose a version outside the configured range". */
#if MBEDTLS_VERSION_MAJOR >= 3
#define AP_MBEDTLS_ERR_VERSION MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION
#else
#define AP_MBEDTLS_ERR_VERSION MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION
#endif

/* "The server could not use the certificate": what the handshake returns when
 * Mbed TLS's own key-usage check fails after verification. */
#if MBEDTLS_VERSION_MAJOR >= 3
#define AP_MBEDTLS_ERR_BAD_CERT MBEDTLS_ERR_SSL_BAD_CERTIFICATE
#else
#define AP_MBEDTLS_ERR_BAD_CERT MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE
#endif

/* TLS 1.3's certificate_required alert (RFC 8446), which 2.28 does not name. */
#define AP_TLS_ALERT_CERTIFICATE_REQUIRED 116

/** Highest TLS version this Mbed TLS build can negotiate as a client. */
static inline ap_tls_version_t ap_compat_highest_built(void)
{
#if defined(MBEDTLS_SSL_PROTO_TLS1_3)
    return AP_TLS_1_3;
#else
    return AP_TLS_1_2;
#endif
}

/**
 * Configure the version range. 2.28 speaks (major, minor) pairs, where TLS
 * 1.2 is (3, 3); 3.6 speaks the wire value. Returns 0 or -1 (unsupported).
 */
static inline int ap_compat_set_versions(mbedtls_ssl_config *conf,
                                         ap_tls_version_t min,
                                         ap_tls_version_t max)
{
#if MBEDTLS_VERSION_MAJOR >= 3
    mbedtls_ssl_conf_min_tls_version(conf, (mbedtls_ssl_protocol_version)min);
    mbedtls_ssl_conf_max_tls_version(conf, (mbedtls_ssl_protocol_version)max);
    return 0;
#else
    if (max > AP_TLS_1_2) {
        return -1; /* 2.28 has no production TLS 1.3 */
    }
    mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 (int)(min & 0xFFu));
    mbedtls_ssl_conf_max_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 (int)(max & 0xFFu));
    return 0;
#endif
}

/**
 * Signature algorithms, in the order the server should prefer them: ECDSA on
 * P-256/P-384 and RSA with SHA-256 or stronger; no SHA-1, no MD5, no P-521
 * (outside the X.509 profile, so a server could not use it anyway).
 *
 * Mbed TLS 3.6.0 to 3.6.6 built for TLS 1.2 and 1.3 offer RSA-PSS first
 * (TLS 1.3 needs it), but their TLS 1.2 code refuses an RSA-PSS
 * ServerKeyExchange (#10668; the build fixes the trees it compiles, see
 * cmake/ApMbedTLSFixes.cmake, but not an installed Mbed TLS): an OpenSSL
 * server that negotiates TLS 1.2 with an RSA key honours that order, signs
 * with PSS, and the handshake dies with illegal_parameter. Listing
 * PKCS#1 v1.5 before PSS makes a TLS 1.2 server pick PKCS#1, while a TLS 1.3
 * server, for which PKCS#1 is not allowed in CertificateVerify, still picks
 * PSS. 2.28 names hashes, not schemes, and offers no PSS in TLS 1.2.
 */
static inline void ap_compat_set_sig_algs(mbedtls_ssl_config *conf)
{
#if MBEDTLS_VERSION_MAJOR >= 3
    static const uint16_t order[] = {
        MBEDTLS_TLS1_3_SIG_ECDSA_SECP256R1_SHA256,
        MBEDTLS_TLS1_3_SIG_ECDSA_SECP384R1_SHA384,
        MBEDTLS_TLS1_3_SIG_RSA_PKCS1_SHA256,
        MBEDTLS_TLS1_3_SIG_RSA_PKCS1_SHA384,
        MBEDTLS_TLS1_3_SIG_RSA_PKCS1_SHA512,
        MBEDTLS_TLS1_3_SIG_RSA_PSS_RSAE_SHA256,
        MBEDTLS_TLS1_3_SIG_RSA_PSS_RSAE_SHA384,
        MBEDTLS_TLS1_3_SIG_RSA_PSS_RSAE_SHA512,
        MBEDTLS_TLS1_3_SIG_NONE,
    };
    mbedtls_ssl_conf_sig_algs(conf, order);
#else
    static const int hashes[] = {
        MBEDTLS_MD_SHA256,
        MBEDTLS_MD_SHA384,
        MBEDTLS_MD_SHA512,
        MBEDTLS_MD_NONE,
    };
    mbedtls_ssl_conf_sig_hashes(conf, hashes);
#endif
}

/**
 * Key-exchange groups: x25519, secp256r1, secp384r1, nothing under 256 bits.
 * 3.6 skips the ones a build lacks by itself; 2.28 is given only built ones.
 */
static inline void ap_compat_set_groups(mbedtls_ssl_config *conf)
{
#if MBEDTLS_VERSION_MAJOR >= 3
    static const uint16_t groups[] = {
        MBEDTLS_SSL_IANA_TLS_GROUP_X25519,
        MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1,
        MBEDTLS_SSL_IANA_TLS_GROUP_SECP384R1,
        MBEDTLS_SSL_IANA_TLS_GROUP_NONE,
    };
    mbedtls_ssl_conf_groups(conf, groups);
#else
    static const mbedtls_ecp_group_id curves[] = {
#if defined(MBEDTLS_ECP_DP_CURVE25519_ENABLED)
        MBEDTLS_ECP_DP_CURVE25519,
#endif
#if defined(MBEDTLS_ECP_DP_SECP256R1_ENABLED)
        MBEDTLS_ECP_DP_SECP256R1,
#endif
#if defined(MBEDTLS_ECP_DP_SECP384R1_ENABLED)
        MBEDTLS_ECP_DP_SECP384R1,
#endif
        MBEDTLS_ECP_DP_NONE,
    };
    mbedtls_ssl_conf_curves(conf, curves);
#endif
}

#if defined(MBEDTLS_PEM_PARSE_C)
/** The DER that mbedtls_pem_read_buffer() decoded (2.28 has no accessor). */
static inline const unsigned char *ap_compat_pem_der(mbedtls_pem_context *pem, size_t *len)
{
#if MBEDTLS_VERSION_MAJOR >= 3
    return mbedtls_pem_get_buffer(pem, len);
#else
    *len = pem->buflen;
    return pem->buf;
#endif
}
#endif

/** Asks for AP_TLS_MAX_FRAGMENT_LEN (RFC 6066) in TLS 1.2; 0 when it is 0. */
static inline int ap_compat_conf_max_fragment(mbedtls_ssl_config *conf)
{
#if AP_TLS_MAX_FRAGMENT_LEN == 0
    (void)conf;
    return 0;
#elif !defined(MBEDTLS_SSL_MAX_FRAGMENT_LENGTH)
#error "AP_TLS_MAX_FRAGMENT_LEN needs MBEDTLS_SSL_MAX_FRAGMENT_LENGTH in the Mbed TLS configuration"
#else
    /* RFC 6066's codes: 1 to 4 for 2^9 to 2^12 bytes, on both lines. */
    unsigned char code = MBEDTLS_SSL_MAX_FRAG_LEN_4096;

    if (AP_TLS_MAX_FRAGMENT_LEN == 512) {
        code = MBEDTLS_SSL_MAX_FRAG_LEN_512;
    } else if (AP_TLS_MAX_FRAGMENT_LEN == 1024) {
        code = MBEDTLS_SSL_MAX_FRAG_LEN_1024;
    } else if (AP_TLS_MAX_FRAGMENT_LEN == 2048) {
        code = MBEDTLS_SSL_MAX_FRAG_LEN_2048;
    }
    return mbedtls_ssl_conf_max_frag_len(conf, code);
#endif
}

/** The version the handshake negotiated, as a wire value. */
static inline ap_tls_version_t ap_compat_negotiated(const mbedtls_ssl_context *ssl)
{
#if MBEDTLS_VERSION_MAJOR >= 3
    return (ap_tls_version_t)mbedtls_ssl_get_version_number(ssl);
#else
    return (ap_tls_version_t)(0x0300u | (unsigned)ssl->minor_ver);
#endif
}

/**
 * The description byte of the fatal alert that ended the handshake, read
 * right after Mbed TLS returned MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE. 3.6
 * offers no accessor for it, so its private field is read here, and only here.
 */
static inline int ap_compat_last_alert(const mbedtls_ssl_context *ssl)
{
#if MBEDTLS_VERSION_MAJOR >= 3
    const unsigned char *msg = ssl->MBEDTLS_PRIVATE(in_msg);
#else
    const unsigned char *msg = ssl->in_msg;
#endif
    return msg != NULL ? msg[1] : -1;
}

/** SHA-256 in one call (2.28 names it _ret). Returns 0 on success. */
static inline int ap_compat_sha256(const unsigned char *in, size_t len,
                                   unsigned char out[32])
{
#if MBEDTLS_VERSION_MAJOR >= 3
    return mbedtls_sha256(in, len, out, 0);
#else
    return mbedtls_sha256_ret(in, len, out, 0);
#endif
}

/** 3.x needs PSA initialised before any TLS 1.3 handshake. */
static inline int ap_compat_crypto_init(void)
{
#if MBEDTLS_VERSION_MAJOR >= 3 && defined(MBEDTLS_PSA_CRYPTO_C)
    return psa_crypto_init() == PSA_SUCCESS ? 0 : -1;
#else
    return 0;
#endif
}

/**
 * Ask for no session tickets: nothing keeps a session yet, and a TLS 1.2
 * NewSessionTicket from nginx is 666 bytes down the wire for nothing. TLS
 * 1.2: no session_ticket extension, so none is sent. TLS 1.3: ephemeral key
 * exchange only, no PSK offered; a server may still send tickets (nginx
 * with OpenSSL sends two), which Mbed TLS reads and drops.
 */
static inline void ap_compat_no_session_tickets(mbedtls_ssl_config *conf)
{
#if defined(MBEDTLS_SSL_SESSION_TICKETS) && defined(MBEDTLS_SSL_CLI_C)
    mbedtls_ssl_conf_session_tickets(conf, MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
#endif
#if MBEDTLS_VERSION_MAJOR >= 3 && defined(MBEDTLS_SSL_PROTO_TLS1_3)
    mbedtls_ssl_conf_tls13_key_exchange_modes(conf, MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL);
#else
    (void)conf;
#endif
}

/* Resumption is built where the client can keep tickets (Mbed TLS with
 * session tickets: the hosts; the firmware configurations have none and
 * keep one full handshake per connection). */
#if defined(MBEDTLS_SSL_SESSION_TICKETS) && defined(MBEDTLS_SSL_CLI_C)
#define AP_TLS_RESUMPTION 1
#else
#define AP_TLS_RESUMPTION 0
#endif

#if AP_TLS_RESUMPTION
/**
 * Ask for tickets, for a client that keeps them. TLS 1.2: the session_ticket
 * extension (session IDs need nothing). TLS 1.3: a NewSessionTicket is
 * handed to the caller (MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET), and a
 * ticket is offered only with a fresh (EC)DHE share, never as pure PSK, so
 * a resumed connection keeps forward secrecy.
 */
static inline void ap_compat_session_tickets(mbedtls_ssl_config *conf)
{
    mbedtls_ssl_conf_session_tickets(conf, MBEDTLS_SSL_SESSION_TICKETS_ENABLED);
#if MBEDTLS_VERSION_MAJOR >= 3 && defined(MBEDTLS_SSL_PROTO_TLS1_3)
    mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(
        conf, MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
    mbedtls_ssl_conf_tls13_key_exchange_modes(
        conf, MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ALL);
#endif
}

/**
 * What a client's session says of its own life: *lifetime the ticket's
 * lifetime (TLS 1.3) or lifetime hint (TLS 1.2; 0: unspecified), 0 without
 * a ticket; true when it holds a ticket, false for a TLS 1.2 session ID.
 * Neither line has an accessor (3.6 keeps both fields private): read here,
 * and only here.
 */
static inline bool ap_compat_session_ticket(const mbedtls_ssl_session *s, uint32_t *lifetime)
{
#if MBEDTLS_VERSION_MAJOR >= 3
    size_t len = s->MBEDTLS_PRIVATE(ticket_len);

    *lifetime = len > 0 ? s->MBEDTLS_PRIVATE(ticket_lifetime) : 0;
#else
    size_t len = s->ticket_len;

    *lifetime = len > 0 ? s->ticket_lifetime : 0;
#endif
    return len > 0;
}
#endif

/* TLS 1.3 0-RTT early data is built where Mbed TLS has it for a client that
 * keeps tickets: 3.6 with MBEDTLS_SSL_EARLY_DATA (the host configuration
 * sets it). 2.28 has no TLS 1.3 early data at all. */
#if AP_TLS_RESUMPTION && MBEDTLS_VERSION_MAJOR >= 3 && defined(MBEDTLS_SSL_EARLY_DATA) && \
    defined(MBEDTLS_SSL_PROTO_TLS1_3)
#define AP_TLS_EARLY_DATA 1
#else
#define AP_TLS_EARLY_DATA 0
#endif

#if AP_TLS_EARLY_DATA
/** Announce early data in the next ClientHello (when its ticket allows it), or not. */
static inline void ap_compat_early_data(mbedtls_ssl_config *conf, int on)
{
    mbedtls_ssl_conf_early_data(conf, on ? MBEDTLS_SSL_EARLY_DATA_ENABLED
                                         : MBEDTLS_SSL_EARLY_DATA_DISABLED);
}

/**
 * How many bytes of early data a kept session allows: the max_early_data_size
 * of a TLS 1.3 ticket whose server granted early data, else 0. 3.6 offers no
 * accessor for a session's version, ticket flags or that size, so its
 * private fields are read here, and only here.
 */
static inline uint32_t ap_compat_ticket_early_limit(const mbedtls_ssl_session *s)
{
    if (s->MBEDTLS_PRIVATE(tls_version) != MBEDTLS_SSL_VERSION_TLS1_3 ||
        (s->MBEDTLS_PRIVATE(ticket_flags) & MBEDTLS_SSL_TLS1_3_TICKET_ALLOW_EARLY_DATA) == 0) {
        return 0;
    }
    return s->MBEDTLS_PRIVATE(max_early_data_size);
}

/** Is the kept session a TLS 1.3 one (a ticket that could carry early data)? */
static inline int ap_compat_session_is_tls13(const mbedtls_ssl_session *s)
{
    return s->MBEDTLS_PRIVATE(tls_version) == MBEDTLS_SSL_VERSION_TLS1_3;
}
#endif

/** Parse a private key; 3.6 wants a random generator (for blinding). */
static inline int ap_compat_parse_key(mbedtls_pk_context *pk, const unsigned char *key,
                                      size_t key_len, const unsigned char *pwd,
                                      size_t pwd_len, mbedtls_ctr_drbg_context *drbg)
{
#if MBEDTLS_VERSION_MAJOR >= 3
    return mbedtls_pk_parse_key(pk, key, key_len, pwd, pwd_len, mbedtls_ctr_drbg_random, drbg);
#else
    (void)drbg;
    return mbedtls_pk_parse_key(pk, key, key_len, pwd, pwd_len);
#endif
}

/** Does the private key prv belong to the public key pub? 0 if it does. */
static inline int ap_compat_check_pair(const mbedtls_pk_context *pub,
                                       const mbedtls_pk_context *prv,
                                       mbedtls_ctr_drbg_context *drbg)
{
#if MBEDTLS_VERSION_MAJOR >= 3
    return mbedtls_pk_check_pair(pub, prv, mbedtls_ctr_drbg_random, drbg);
#else
    (void)drbg;
    return mbedtls_pk_check_pair(pub, prv);
#endif
}

/** A PSA key identifier as an opaque pk context: 0, or -1 where this build
 *  has no opaque keys (2.28, or 3.6 without MBEDTLS_USE_PSA_CRYPTO). */
static inline int ap_compat_setup_opaque(mbedtls_pk_context *pk, uint32_t key_id)
{
#if MBEDTLS_VERSION_MAJOR >= 3 && defined(MBEDTLS_USE_PSA_CRYPTO)
    return mbedtls_pk_setup_opaque(pk, mbedtls_svc_key_id_make(0, (psa_key_id_t)key_id));
#else
    (void)pk;
    (void)key_id;
    return -1;
#endif
}

#endif /* ALERTPOST_AP_MBEDTLS_COMPAT_H */
