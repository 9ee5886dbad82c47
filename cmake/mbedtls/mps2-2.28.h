/*
 * alertpost's full Mbed TLS 2.28 configuration for the MPS2 firmware
 * (boards/mps2), for fleets still on the 2.28 LTS line. Used as
 * MBEDTLS_CONFIG_FILE (ap_add_mbedtls with AP_FULL_CONFIG), so nothing of
 * the library's default config.h applies: every feature the firmware
 * carries is named here, and nothing else.
 *
 * The firmware is a TLS client that posts one alert. 2.28 has no production
 * TLS 1.3, so this build speaks TLS 1.2 only; unlike the 2.28 host build it
 * does not compile TLS 1.0/1.1 in at all (the core's runtime floor would
 * refuse them anyway; here there is nothing to refuse with). ECDHE on P-256
 * or P-384, ECDSA and RSA server certificates, AES-GCM, DER trust anchors.
 */
#ifndef AP_MBEDTLS_MPS2_228_H
#define AP_MBEDTLS_MPS2_228_H

/* ---- system ---------------------------------------------------------- */

/* Inline assembly for the bignum multiply loops (Thumb-2 UMULL/UMAAL). */
#define MBEDTLS_HAVE_ASM

/*
 * No MBEDTLS_HAVE_TIME / MBEDTLS_HAVE_TIME_DATE: a TLS 1.2 client without
 * session tickets or a session cache has no use for the clock, and the
 * certificate dates are checked by the core against the platform's wall
 * clock in its verify callback (which fails when the clock is unknown).
 */

/* No /dev/urandom or getrandom() on the target. */
#define MBEDTLS_NO_PLATFORM_ENTROPY
/*
 * The board's entropy hook (mbedtls_hardware_poll() in
 * boards/mps2/common/mbedtls_hooks.c) is declared available, but with no
 * MBEDTLS_ENTROPY_C nothing in this build calls it: 2.28 has no PSA random
 * generator to seed, and the core seeds its CTR_DRBG straight from the
 * platform's entropy (ap_platform_t), failing with AP_ERR_ENTROPY when that
 * fails. The entropy module would be flash with no caller.
 */
#define MBEDTLS_ENTROPY_HARDWARE_ALT
#define MBEDTLS_CTR_DRBG_C

/*
 * Every allocation of Mbed TLS comes from one static pool the firmware
 * hands to mbedtls_memory_buffer_alloc_init(); with AP_MPS2_POOL_STATS,
 * MBEDTLS_MEMORY_DEBUG keeps the high-water mark the firmware reports.
 */
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C
#if defined(AP_MPS2_POOL_STATS) && AP_MPS2_POOL_STATS
#define MBEDTLS_MEMORY_DEBUG
#endif

/* Error texts for the client's last-error line. */
#define MBEDTLS_ERROR_C

/* ---- symmetric crypto and hashes ------------------------------------- */

#define MBEDTLS_AES_C
/* Smaller AES tables (ROM instead of RAM, one table instead of four). */
#define MBEDTLS_AES_ROM_TABLES
#define MBEDTLS_AES_FEWER_TABLES
#define MBEDTLS_GCM_C
#define MBEDTLS_CIPHER_C

#define MBEDTLS_MD_C
/* SHA-256 (and -224), and SHA-512 for SHA-384: the GCM-SHA384 suites, P-384
 * signatures and the certificate signatures of the chain. */
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA512_C

/* ---- public-key crypto ------------------------------------------------ */

#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
/* RSA to verify an RSA server's ServerKeyExchange and certificates signed
 * with RSA; TLS 1.2 in 2.28 signs with PKCS#1 v1.5 only. */
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15

#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_OID_C
/* No MBEDTLS_PEM_PARSE_C nor MBEDTLS_BASE64_C: the trust anchors are DER in
 * flash (boards/mps2/common/anchors.h), the identity's certificate and key
 * DER in its region; PEM would cost 1.9 KiB of flash for nothing. */
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_CHECK_KEY_USAGE
#define MBEDTLS_X509_CHECK_EXTENDED_KEY_USAGE
/* The trust store is parsed lazily: only the anchors whose subject is the
 * issuer Mbed TLS looks for (core/src/tls/ap_tls_anchors.c). */
#define MBEDTLS_X509_TRUSTED_CERTIFICATE_CALLBACK

/* ---- TLS ---------------------------------------------------------------- */

#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
/* SPKI pinning reads the peer's certificate after the handshake. */
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE
/* Session tickets only with AP_MPS2_RESUMPTION, as in mps2-3.6.h. */
#if defined(AP_MPS2_RESUMPTION) && AP_MPS2_RESUMPTION
#define MBEDTLS_SSL_SESSION_TICKETS
#endif

/*
 * Record buffers, as in mps2-3.6.h. The server may send full 16 KiB
 * records, so the input buffer keeps the standard size. What the firmware
 * sends is its ClientHello (a few hundred bytes) and one alert, which Mbed
 * TLS splits into records of this size if it is longer; each byte here is a
 * byte of the pool.
 */
#define MBEDTLS_SSL_IN_CONTENT_LEN 16384
#define MBEDTLS_SSL_OUT_CONTENT_LEN 1024

/* TLS 1.0/1.1 stay out of this build, whatever a compiler flag says. */
#if defined(MBEDTLS_SSL_PROTO_SSL3) || defined(MBEDTLS_SSL_PROTO_TLS1) || \
    defined(MBEDTLS_SSL_PROTO_TLS1_1)
#error "the 2.28 firmware must not compile SSL 3.0, TLS 1.0 or TLS 1.1 in"
#endif

/* A hand-made full configuration is checked like the default one. */
#include "mbedtls/check_config.h"

#endif /* AP_MBEDTLS_MPS2_228_H */
