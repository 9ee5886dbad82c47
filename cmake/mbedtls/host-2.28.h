/*
 * alertpost's overlay on Mbed TLS 2.28's default configuration for Linux hosts
 * (read after config.h as MBEDTLS_USER_CONFIG_FILE).
 *
 * Deliberately left as the defaults have it: TLS 1.0 and 1.1 (with the CBC
 * suites they need) stay compiled in. That is the configuration legacy fleets
 * ship, and the one in which a client that never sets a minimum version
 * negotiates TLS 1.0. alertpost's runtime floor is what must refuse them; the
 * integration tests show both on this same build.
 */

#ifndef MBEDTLS_SSL_PROTO_TLS1
#error "the 2.28 host build is meant to keep TLS 1.0 compiled in"
#endif

#undef MBEDTLS_SSL_RENEGOTIATION
#undef MBEDTLS_SSL_PROTO_DTLS
#undef MBEDTLS_SSL_DTLS_HELLO_VERIFY
#undef MBEDTLS_SSL_DTLS_ANTI_REPLAY
#undef MBEDTLS_SSL_DTLS_CLIENT_PORT_REUSE
#undef MBEDTLS_SSL_DTLS_BADMAC_LIMIT

/* The trust store is parsed lazily: only the anchors whose subject is the
 * issuer Mbed TLS looks for (core/src/tls/ap_tls_anchors.c). */
#ifndef MBEDTLS_X509_TRUSTED_CERTIFICATE_CALLBACK
#define MBEDTLS_X509_TRUSTED_CERTIFICATE_CALLBACK
#endif
