/*
 * alertpost's full Mbed TLS 3.6 configuration for the MPS2 firmware
 * (boards/mps2), used as MBEDTLS_CONFIG_FILE (ap_add_mbedtls with
 * AP_FULL_CONFIG): nothing of the library's default configuration applies,
 * so every feature the firmware carries is named here, and nothing else.
 *
 * The firmware is a TLS client that posts one alert: TLS 1.2 and 1.3 (3.6
 * has no TLS 1.0/1.1), ECDHE on P-256 or X25519, ECDSA and RSA server
 * certificates, AES-GCM and ChaCha20-Poly1305, PEM trust anchors.
 */
#ifndef AP_MBEDTLS_MPS2_36_H
#define AP_MBEDTLS_MPS2_36_H

/* ---- system ---------------------------------------------------------- */

/* Inline assembly for the bignum multiply loops: Thumb-2 has UMULL/UMAAL
 * (v7E-M) and it roughly halves the ECDHE time on a Cortex-M3/M4. */
#define MBEDTLS_HAVE_ASM

/* time() reaches the host clock through semihosting (newlib's
 * gettimeofday); Mbed TLS uses it, and mbedtls_ms_time(), for TLS 1.3
 * ticket ages. Certificate
 * dates are NOT checked by Mbed TLS here (no MBEDTLS_HAVE_TIME_DATE): the
 * core checks them against the platform's wall clock in its verify
 * callback, and fails when the clock is unknown. */
#define MBEDTLS_HAVE_TIME
/* Milliseconds from the board clock (mbedtls_ms_time() in the board). */
#define MBEDTLS_PLATFORM_MS_TIME_ALT

/* No /dev/urandom or getrandom() on the target. */
#define MBEDTLS_NO_PLATFORM_ENTROPY

/*
 * Entropy: mbedtls_hardware_poll(), implemented by the board from the same
 * source as its ap_platform_t entropy (the host's /dev/urandom through
 * semihosting). PSA (needed by TLS 1.3) then runs its own CTR_DRBG seeded
 * from the entropy module, so the slow semihosting channel is only used to
 * seed and reseed, not for every random byte as MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG
 * would. A failing poll makes psa_crypto_init() fail, which the core
 * reports as AP_ERR_ENTROPY: there is no weak fallback.
 */
#define MBEDTLS_ENTROPY_HARDWARE_ALT
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_CTR_DRBG_C

/*
 * Every allocation of Mbed TLS comes from one static pool the firmware
 * hands to mbedtls_memory_buffer_alloc_init(); MBEDTLS_MEMORY_DEBUG keeps
 * the high-water mark (mbedtls_memory_buffer_alloc_max_get()) the firmware
 * reports, for sizing the pool on a real device.
 */
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C
#define MBEDTLS_MEMORY_DEBUG

/* Error texts for the client's last-error line; worth their flash on a
 * device whose only diagnostic is a log line. */
#define MBEDTLS_ERROR_C

/* ---- symmetric crypto and hashes ------------------------------------- */

#define MBEDTLS_AES_C
/* Smaller AES tables (ROM instead of RAM, one table instead of four). */
#define MBEDTLS_AES_ROM_TABLES
#define MBEDTLS_AES_FEWER_TABLES
#define MBEDTLS_GCM_C
#define MBEDTLS_CHACHA20_C
#define MBEDTLS_POLY1305_C
#define MBEDTLS_CHACHAPOLY_C
#define MBEDTLS_CIPHER_C

#define MBEDTLS_MD_C
#define MBEDTLS_SHA224_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA384_C
#define MBEDTLS_SHA512_C
/* TLS 1.3 key schedule. */
#define MBEDTLS_HKDF_C

/* ---- public-key crypto ------------------------------------------------ */

#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
/* RSA-PSS: the only RSA signatures TLS 1.3 allows. */
#define MBEDTLS_PKCS1_V21

#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_OID_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C

/* TLS 1.3 and the PSA-based parts of TLS 1.2 go through the PSA API. */
#define MBEDTLS_PSA_CRYPTO_C
/* Only the client's own ephemeral keys live in PSA, a few at a time. */
#define MBEDTLS_PSA_KEY_SLOT_COUNT 8

/* ---- TLS ---------------------------------------------------------------- */

#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_PROTO_TLS1_3
#define MBEDTLS_SSL_TLS1_3_COMPATIBILITY_MODE
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
/* SPKI pinning reads the peer's certificate after the handshake. */
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE
/* A TLS 1.3 server sends tickets after the handshake; taking them is the
 * tested path of the core (MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET). */
#define MBEDTLS_SSL_SESSION_TICKETS

/*
 * Record buffers. The server may send full 16 KiB records (a client cannot
 * make a common server send less: few support max_fragment_length), so the
 * input buffer keeps the standard size. What the firmware sends (its
 * ClientHello, one alert) fits in 4 KiB records.
 */
#define MBEDTLS_SSL_IN_CONTENT_LEN 16384
#define MBEDTLS_SSL_OUT_CONTENT_LEN 4096

#endif /* AP_MBEDTLS_MPS2_36_H */
