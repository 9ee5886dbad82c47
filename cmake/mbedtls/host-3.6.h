/*
 * alertpost's overlay on Mbed TLS 3.6's default configuration for Linux hosts
 * (read after mbedtls_config.h as MBEDTLS_USER_CONFIG_FILE).
 *
 * The defaults already build TLS 1.2 and TLS 1.3, X.509 with the peer's chain
 * kept for SPKI pinning, ECDHE, AES-GCM and ChaCha20-Poly1305. 3.6 has no TLS
 * 1.0/1.1 at all. What alertpost changes:
 */

/* Certificate dates are checked against the system clock. */
#ifndef MBEDTLS_HAVE_TIME_DATE
#define MBEDTLS_HAVE_TIME_DATE
#endif

/* Renegotiation is never wanted by a client that posts and leaves. */
#undef MBEDTLS_SSL_RENEGOTIATION

/* Older session-resumption helpers the client does not use yet. */
#undef MBEDTLS_SSL_DTLS_HELLO_VERIFY
#undef MBEDTLS_SSL_DTLS_ANTI_REPLAY
#undef MBEDTLS_SSL_DTLS_CLIENT_PORT_REUSE
#undef MBEDTLS_SSL_DTLS_CONNECTION_ID
#undef MBEDTLS_SSL_PROTO_DTLS

/* TLS 1.2 and X.509 do their cryptography through PSA too, as TLS 1.3
 * does: what lets a client key be an opaque PSA key (ap_identity.h
 * psa_key_id), persistent in the PSA store or backed by a driver, used
 * without its material ever leaving the key store. */
#ifndef MBEDTLS_USE_PSA_CRYPTO
#define MBEDTLS_USE_PSA_CRYPTO
#endif

/* TLS 1.3 records are not padded (the default pads to 16 bytes): padding
 * hides a record's length, which an alert of a known shape does not need
 * hidden, and costs up to 15 bytes per record on links paid by the byte. */
#undef MBEDTLS_SSL_CID_TLS1_3_PADDING_GRANULARITY
#define MBEDTLS_SSL_CID_TLS1_3_PADDING_GRANULARITY 1

/* TLS 1.3 0-RTT early data: a resumed post whose request carries an
 * Idempotency-Key may send it in the first flight (cfg.early_data). The
 * client sends it only when asked; the test servers of the unit tests
 * accept it with the same build. */
#ifndef MBEDTLS_SSL_EARLY_DATA
#define MBEDTLS_SSL_EARLY_DATA
#endif

/* The trust store is parsed lazily: only the anchors whose subject is the
 * issuer Mbed TLS looks for (core/src/tls/ap_tls_anchors.c). */
#ifndef MBEDTLS_X509_TRUSTED_CERTIFICATE_CALLBACK
#define MBEDTLS_X509_TRUSTED_CERTIFICATE_CALLBACK
#endif
