/*
 * alertpost's full Mbed TLS 3.6 configuration for the MPS2 firmware
 * (boards/mps2), used as MBEDTLS_CONFIG_FILE (ap_add_mbedtls with
 * AP_FULL_CONFIG): nothing of the library's default configuration applies,
 * so every feature the firmware carries is named here, and nothing else.
 *
 * The firmware is a TLS client that posts one alert: TLS 1.2 and 1.3 (3.6
 * has no TLS 1.0/1.1), ECDHE on P-256, ECDSA P-256 and RSA (PKCS#1 v1.5 and
 * PSS, up to 4096 bits) server certificates, AES-GCM, DER trust anchors.
 * Each feature costs flash on a device whose budget is 128 KiB for
 * everything, so what one server and its CA do not need is left out: X25519,
 * P-384 and P-521, ChaCha20-Poly1305, SHA-224 and SHA-512, Mbed TLS's error
 * texts. A device whose server uses one of those turns it back on here (the
 * footprint section of README.md gives each one's cost).
 */
#ifndef AP_MBEDTLS_MPS2_36_H
#define AP_MBEDTLS_MPS2_36_H

/* ---- system ---------------------------------------------------------- */

/* Inline assembly for the bignum multiply loops: Thumb-2 has UMULL/UMAAL
 * (v7E-M) and it roughly halves the ECDHE time on a Cortex-M3/M4. */
#define MBEDTLS_HAVE_ASM

/* Certificate dates are NOT checked by Mbed TLS here (no
 * MBEDTLS_HAVE_TIME_DATE): the core checks them against the platform's wall
 * clock in its verify callback, and fails when the clock is unknown. Mbed
 * TLS's own clock only serves session resumption (ticket ages and
 * lifetimes), so only AP_MPS2_RESUMPTION has it: time() reaches the host
 * clock through semihosting (newlib's gettimeofday), mbedtls_ms_time() the
 * board clock. Without it, a TLS 1.2 ClientHello's random is all random
 * bytes (no leading time), as RFC 8446 advises anyway. */
#if defined(AP_MPS2_RESUMPTION) && AP_MPS2_RESUMPTION
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_PLATFORM_MS_TIME_ALT
#endif

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
 * hands to mbedtls_memory_buffer_alloc_init(). With AP_MPS2_POOL_STATS (the
 * CMake option of that name) MBEDTLS_MEMORY_DEBUG keeps the high-water mark
 * (mbedtls_memory_buffer_alloc_max_get()) the firmware then reports, for
 * sizing the pool on a real device; 0.7 KiB of flash otherwise saved.
 */
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C
#if defined(AP_MPS2_POOL_STATS) && AP_MPS2_POOL_STATS
#define MBEDTLS_MEMORY_DEBUG
#endif
/* Until the pool is handed over, an allocation fails instead of reaching
 * newlib's malloc(), which is then not linked at all (0.6 KiB of flash).
 * The two functions are the board's (common/mbedtls_hooks.c). */
#define AP_MPS2_MBEDTLS_ALLOC_UNSET
#include <stddef.h>
void *ap_mps2_mbedtls_calloc_unset(size_t n, size_t size);
void ap_mps2_mbedtls_free_unset(void *ptr);
#define MBEDTLS_PLATFORM_STD_CALLOC ap_mps2_mbedtls_calloc_unset
#define MBEDTLS_PLATFORM_STD_FREE   ap_mps2_mbedtls_free_unset

/* No MBEDTLS_ERROR_C: its texts are 12.9 KiB, a tenth of the flash budget.
 * The client's last-error line still says what failed and carries the Mbed
 * TLS code (e.g. "Mbed TLS error -0x6600"), which the host tool or the
 * library's error.h turns into text. */

/* ---- symmetric crypto and hashes ------------------------------------- */

#define MBEDTLS_AES_C
/* Smaller AES tables (ROM instead of RAM, one table instead of four). */
#define MBEDTLS_AES_ROM_TABLES
#define MBEDTLS_AES_FEWER_TABLES
/* GCM only runs the block cipher forwards: no decryption tables or code. */
#define MBEDTLS_BLOCK_CIPHER_NO_DECRYPT
#define MBEDTLS_GCM_C
/* No MBEDTLS_CIPHER_C: TLS protects its records through PSA's AEAD, which
 * calls GCM directly, and GCM then runs AES through the small block-cipher
 * layer (MBEDTLS_BLOCK_CIPHER_C, which the library turns on by itself). */

/* SHA-256 for the handshake and certificates, SHA-384 for the AES-256-GCM
 * suites and SHA-384 signatures. The smaller (rolled-loop) variants cost a
 * little speed, which a handshake of a few hundred milliseconds does not
 * notice. */
#define MBEDTLS_MD_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA256_SMALLER
#define MBEDTLS_SHA384_C
#define MBEDTLS_SHA512_SMALLER
/* No MBEDTLS_HKDF_C: the TLS 1.3 key schedule runs HKDF through PSA
 * (PSA_WANT_ALG_HKDF_* in mps2-3.6-psa.h). */

/* ---- public-key crypto ------------------------------------------------ */

/*
 * P-256 (ECDHE and ECDSA) is p256-m's, through PSA: a small constant-time
 * implementation of that one curve, a quarter of the size of the library's
 * generic ECP code, which is then not built (MBEDTLS_ECP_C, MBEDTLS_ECDH_C
 * and MBEDTLS_ECDSA_C stay off; mps2-3.6-psa.h asks for P-256 and the
 * driver provides it). p256-m lives in the library's 3rdparty/ folder,
 * which boards/mps2 compiles in through AP_MBEDTLS_EXTRA_SOURCES. It needs
 * TLS 1.2 and X.509 to use PSA as well (MBEDTLS_USE_PSA_CRYPTO).
 */
#define MBEDTLS_PSA_CRYPTO_CONFIG
#define MBEDTLS_PSA_CRYPTO_CONFIG_FILE "mps2-3.6-psa.h"
#define MBEDTLS_USE_PSA_CRYPTO
#define MBEDTLS_PSA_P256M_DRIVER_ENABLED
/* None of the library's own curve code: in 3.6 that leaves TLS 1.2's
 * premaster-secret buffer at 1 byte (Mbed-TLS/mbedtls#10757), which the
 * build fixes in its copy of ssl.h (cmake/ApMbedTLSFixes.cmake); the
 * workaround before, MBEDTLS_PK_PARSE_EC_COMPRESSED with the P-256 curve
 * data, cost 1.5 KiB of flash. */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_RSA_NO_CRT
/* Largest bignum: RSA-4096 keys (CA roots still use them). Several stack
 * buffers are this size. */
#define MBEDTLS_MPI_MAX_SIZE 512
/* RSA-PSS: the only RSA signatures TLS 1.3 allows. MBEDTLS_PKCS1_V21 alone
 * is not enough: it makes the client offer rsa_pss_rsae_* (the core lists
 * them), but TLS 1.3's CertificateVerify passes the PSS parameters to the
 * verifier only under MBEDTLS_X509_RSASSA_PSS_SUPPORT; without it every
 * RSA-PSS signature is rejected and the client sends decrypt_error. */
#define MBEDTLS_PKCS1_V21
#define MBEDTLS_X509_RSASSA_PSS_SUPPORT

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
/* No human-readable certificate dumps (mbedtls_x509_crt_info and friends):
 * the client reports failures by verification flag, not by dumping. */
#define MBEDTLS_X509_REMOVE_INFO
/* The trust store is parsed lazily: only the anchors whose subject is the
 * issuer Mbed TLS looks for (core/src/tls/ap_tls_anchors.c). */
#define MBEDTLS_X509_TRUSTED_CERTIFICATE_CALLBACK

/* TLS 1.3 and the PSA-based parts of TLS 1.2 go through the PSA API. */
#define MBEDTLS_PSA_CRYPTO_C
/* Only the client's own ephemeral keys live in PSA, a few at a time. */
#define MBEDTLS_PSA_KEY_SLOT_COUNT 8

/* ---- TLS ---------------------------------------------------------------- */

#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_PROTO_TLS1_3
/* No MBEDTLS_SSL_TLS1_3_COMPATIBILITY_MODE: the middlebox-compatibility
 * dance (fake session id, ChangeCipherSpec records) is for networks whose
 * middleboxes break TLS 1.3 otherwise; servers accept the plain handshake.
 * Turn it on for a device behind such a box. */
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
/*
 * The library's default suite list: only what this build can negotiate of
 * the suites the core allows (k_allowed_suites in
 * core/src/tls/ap_tls_mbedtls.c, which sets its own list on every
 * connection anyway). Without it Mbed TLS keeps a list of every suite it
 * knows, 0.7 KiB of flash, and a copy of it in RAM.
 */
#define MBEDTLS_SSL_CIPHERSUITES                          \
    MBEDTLS_TLS1_3_AES_128_GCM_SHA256,                    \
    MBEDTLS_TLS1_3_AES_256_GCM_SHA384,                    \
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,      \
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,      \
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,        \
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
/* Mbed TLS 3.6's TLS 1.3 requires it (check_config.h); the core itself
 * reads the peer's certificates in its verify callback (pins, dates, its
 * X.509 rules). */
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE
/* Session tickets only with AP_MPS2_RESUMPTION (the CMake option of that
 * name, boards/mps2/mps2_board.cmake): the core then keeps its server's
 * last session and offers it on the next connection, a TLS 1.3 ticket only
 * with a fresh ECDHE share (PSK_EPHEMERAL, never pure PSK). Without it a
 * TLS 1.3 server still sends tickets after the handshake, which 3.6 reads
 * and drops (the tls13 and rsa QEMU cases get tickets from the sink). */
#if defined(AP_MPS2_RESUMPTION) && AP_MPS2_RESUMPTION
#define MBEDTLS_SSL_SESSION_TICKETS
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED
#endif

/*
 * Record buffers. The server may send full 16 KiB records (a client cannot
 * make a common server send less: few support max_fragment_length, and
 * Python's ssl, the test sink, offers no way to honour it), so the input
 * buffer keeps the standard size. What the firmware sends is its
 * ClientHello (under 400 bytes; a session ticket adds its own size, a few
 * hundred bytes from common servers) and one alert, which Mbed TLS splits
 * into records of this size if it is longer. Each byte here is a byte of
 * the pool.
 */
#define MBEDTLS_SSL_IN_CONTENT_LEN 16384
#define MBEDTLS_SSL_OUT_CONTENT_LEN 1024

/* TLS 1.3 records unpadded, as on the host (cmake/mbedtls/host-3.6.h says why). */
#define MBEDTLS_SSL_CID_TLS1_3_PADDING_GRANULARITY 1

#endif /* AP_MBEDTLS_MPS2_36_H */
