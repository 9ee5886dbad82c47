/*
 * What the pieces of the TLS glue share (the connection in ap_tls_mbedtls.c,
 * the client identity in ap_tls_identity.c). Not installed; the client loop
 * sees none of this, only ap_client_internal.h.
 */
#ifndef ALERTPOST_AP_TLS_GLUE_H
#define ALERTPOST_AP_TLS_GLUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ap_client_internal.h"
#include "tls/ap_mbedtls_compat.h"
#include "tls/ap_tls_anchors.h"
#include "tls/ap_x509_rules.h"

#include "mbedtls/pk.h"

/* The handshake records this client sent, as the record walker in
 * ap_tls_mbedtls.c saw them go out: how the glue learns, on both Mbed TLS
 * lines and without their private fields, whether the server asked for a
 * client certificate (a plaintext Certificate in TLS 1.2; in TLS 1.3 more
 * than the lone encrypted Finished). */
typedef struct ap_tls_out_records {
    uint8_t hdr[6];          /* record header and first body byte */
    uint8_t hdr_have;
    uint16_t body_left;      /* bytes of the current record still to come */
    uint8_t encrypted;       /* TLS 1.3 protected records during the handshake */
    bool ccs;                /* ChangeCipherSpec went out: records after it are protected */
    bool certificate;        /* a plaintext handshake Certificate went out */
} ap_tls_out_records_t;

/* This device's identity as Mbed TLS holds it (ap_identity.h). */
typedef struct ap_tls_identity {
    mbedtls_x509_crt chain;
    mbedtls_pk_context key;
    bool loaded;
} ap_tls_identity_t;

typedef struct ap_tls {
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    ap_tls_anchors_t anchors;   /* the trust store (ap_tls_anchors.c) */
    mbedtls_ctr_drbg_context drbg;
#if AP_CLIENT_IDENTITY
    ap_tls_identity_t identity;
#endif
    ap_tls_out_records_t out;
    size_t held;              /* handshake bytes held in the work buffer, unsent */
    bool read_any;            /* application data arrived on this connection */
    int suites[16];
    uint32_t chain_flags;     /* every flag the verify callback saw */
    const mbedtls_x509_crt *path[AP_X509_MAX_PATH]; /* the verified path, by depth */
    size_t path_len;
    bool rule_refused;        /* ap_x509_check_path() refused; the reason is the error text */
    bool handshake_done;      /* the current connection's handshake completed */
    bool pin_mismatch;
    bool time_unknown;
    bool ssl_ready;           /* mbedtls_ssl_setup() succeeded */
    bool session_used;        /* a handshake ran since the last reset */
#if AP_TLS_RESUMPTION
    mbedtls_ssl_session saved; /* the last session with this server (ap_tls_session.c) */
    bool saved_valid;
#endif
} ap_tls_t;

static inline ap_tls_t *ap_tls_of(ap_client_t *c)
{
    return (ap_tls_t *)(void *)c->tls.bytes;
}

/* An Mbed TLS error in words: "text (Mbed TLS -0xXXXX)". */
void ap_tls_describe(int ret, char *buf, size_t size);

/* "subject <DN>; [issuer <DN>; ]expires YYYY-MM-DD hh:mm:ss UTC" of crt;
 * the length written (cut to fit; buf is always terminated). */
size_t ap_tls_describe_cert(const mbedtls_x509_crt *crt, bool with_issuer, char *buf,
                            size_t size);

#if AP_CLIENT_IDENTITY
/* Parse cfg.identity (if any) into t->identity and give it to conf.
 * AP_OK; AP_ERR_TLS_SETUP with the error text set. */
ap_status_t ap_tls_identity_setup(ap_client_t *c, ap_tls_t *t);

/* Release what ap_tls_identity_setup() parsed. The key material is zeroed
 * by Mbed TLS's own free functions. */
void ap_tls_identity_free(ap_tls_identity_t *id);
#endif

/* ---- session resumption (ap_tls_session.c); no-ops where not built ---- */

/* Ask for tickets when cfg.resume_sessions is set, else for none. */
void ap_tls_session_configure(ap_client_t *c, ap_tls_t *t);

/* Before a handshake: offer the kept session, if any. */
void ap_tls_session_offer(ap_client_t *c, ap_tls_t *t);

/* After a handshake that completed and passed every check: keep the
 * session Mbed TLS holds (a TLS 1.2 session, or the newest TLS 1.3 ticket
 * when called on MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET). */
void ap_tls_session_keep(ap_client_t *c, ap_tls_t *t);

/* Forget the kept session: after a failed handshake and in ap_tls_free(). */
void ap_tls_session_drop(ap_tls_t *t);

#endif /* ALERTPOST_AP_TLS_GLUE_H */
