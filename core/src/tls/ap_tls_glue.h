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

/* What a saved session is bound to besides host, port and TLS range
 * (ap_session.h): SHA-256 of the anchors, of the pins, of the identity
 * certificate (zeros for no pins, no identity), and of the suffix list
 * when the session's server matched its host only by a wildcard. */
typedef struct ap_tls_binding {
    uint8_t anchors[32];
    uint8_t suffixes[32];
    uint8_t pins[32];
    uint8_t identity[32];
    bool policy_ready;     /* anchors and pins digested (at the first save or load) */
    bool suffixes_ready;   /* the suffix list digested (only a wildcard session needs it) */
} ap_tls_binding_t;

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
    size_t hold_base;         /* where they start in it: after a 0-RTT request */
    bool hold_first;          /* hold the first flight too (0-RTT, ap_tls_early.c) */
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
#if AP_TLS_EARLY_DATA
    size_t early_written;     /* request bytes Mbed TLS took as early data */
#endif
#if AP_TLS_RESUMPTION
    mbedtls_ssl_session saved; /* the last session with this server (ap_tls_session.c) */
    bool saved_valid;
    int64_t saved_at;          /* wall time its session began; AP_WALL_TIME_UNKNOWN */
    uint32_t saved_life;       /* seconds after saved_at it may be offered */
    ap_tls_binding_t binding;  /* this client's policy, for saved sessions */
    bool verified_wildcard;    /* this connection's server matched only by a wildcard */
    bool saved_wildcard;       /* ... and the kept session's server */
    /* the session came from a handshake of this client (ap_tls_session_keep()),
     * under its own policy: only such a ticket may carry early data */
    bool saved_here;
#endif
} ap_tls_t;

static inline ap_tls_t *ap_tls_of(ap_client_t *c)
{
    return (ap_tls_t *)(void *)c->tls.bytes;
}

/* Send the handshake bytes held in the work buffer; 0, or Mbed TLS's error. */
int ap_tls_flush_flight(ap_client_t *c);

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

#if AP_TLS_RESUMPTION
/* ---- saved sessions (ap_tls_session_store.c) ---- */

/* Compute t->binding from the configuration (during set-up: the identity's
 * bytes are readable only then). */
void ap_tls_session_bind(ap_client_t *c, ap_tls_t *t);

/* Seconds a session may be offered after it began: from its ticket's
 * lifetime, or AP_SESSION_ID_LIFETIME_S (ap_session.h). */
uint32_t ap_tls_session_lifetime(const mbedtls_ssl_session *s, ap_tls_version_t version);

/* Is the kept session past its lifetime (or of unknown age) at now? */
bool ap_tls_session_expired(const ap_tls_t *t, int64_t now);
#endif

/* ---- 0-RTT early data (ap_tls_early.c); where not built, arm says so ---- */

/* Before a handshake, after ap_tls_session_offer(): offer early data when
 * c->early_len > 0 and the kept ticket allows that much, else offer none
 * (Mbed TLS would otherwise announce early data for every resumption);
 * sets c->info.early_data to why not. True: offered, call
 * ap_tls_early_send() before the rest of the handshake. */
bool ap_tls_early_arm(ap_client_t *c, ap_tls_t *t);

/* Start the handshake and send the request as early data, in one flight
 * with the ClientHello. 0, or Mbed TLS's error (the handshake failed). */
int ap_tls_early_send(ap_client_t *c, ap_tls_t *t);

/* After a handshake that completed: accepted or rejected, into
 * c->info.early_data and c->early_accepted. */
void ap_tls_early_outcome(ap_client_t *c, ap_tls_t *t);

#endif /* ALERTPOST_AP_TLS_GLUE_H */
