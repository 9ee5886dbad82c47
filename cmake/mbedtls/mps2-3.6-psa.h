/*
 * The PSA Crypto half of the MPS2 firmware's Mbed TLS 3.6 configuration
 * (MBEDTLS_PSA_CRYPTO_CONFIG_FILE of cmake/mbedtls/mps2-3.6.h): the
 * mechanisms the TLS client asks PSA for, and nothing else. Mbed TLS turns
 * on the built-in code each one needs unless a driver provides it; P-256
 * (ECDH, ECDSA and its keys) comes from the p256-m driver, so the library's
 * own elliptic-curve code is not built at all.
 *
 * A mechanism missing here is missing from TLS as well (TLS 1.3 and, with
 * MBEDTLS_USE_PSA_CRYPTO, TLS 1.2 and X.509 do all their cryptography
 * through PSA), so a change here is a change of what the firmware can
 * negotiate or verify.
 */
#ifndef AP_MBEDTLS_MPS2_36_PSA_H
#define AP_MBEDTLS_MPS2_36_PSA_H

/* Hashes: SHA-256 (handshakes, certificates, pins) and SHA-384 (the
 * AES-256-GCM suites, SHA-384 signatures). */
#define PSA_WANT_ALG_SHA_256                    1
#define PSA_WANT_ALG_SHA_384                    1

/* Record protection. */
#define PSA_WANT_KEY_TYPE_AES                   1
#define PSA_WANT_ALG_GCM                        1

/* Key schedules: the TLS 1.2 PRF, and HKDF for TLS 1.3, both over HMAC. */
#define PSA_WANT_ALG_HMAC                       1
#define PSA_WANT_KEY_TYPE_HMAC                  1
#define PSA_WANT_KEY_TYPE_DERIVE                1
#define PSA_WANT_ALG_TLS12_PRF                  1
#define PSA_WANT_ALG_HKDF_EXTRACT               1
#define PSA_WANT_ALG_HKDF_EXPAND                1

/* ECDHE on P-256 and ECDSA P-256 signatures (randomised ECDSA only:
 * p256-m has no deterministic variant). Key pairs are generated (ECDHE)
 * and imported (the device key), never exported: no KEY_PAIR_EXPORT. */
#define PSA_WANT_ECC_SECP_R1_256                1
#define PSA_WANT_ALG_ECDH                       1
#define PSA_WANT_ALG_ECDSA                      1
#define PSA_WANT_KEY_TYPE_ECC_PUBLIC_KEY        1
#define PSA_WANT_KEY_TYPE_ECC_KEY_PAIR_BASIC    1
#define PSA_WANT_KEY_TYPE_ECC_KEY_PAIR_IMPORT   1
#define PSA_WANT_KEY_TYPE_ECC_KEY_PAIR_GENERATE 1

/* RSA signature checks (PKCS#1 v1.5 for TLS 1.2 and certificates, PSS for
 * TLS 1.3). Public keys only: the client holds no RSA key, so none of the
 * private-key code (key parsing, CRT, prime generation) is built. */
#define PSA_WANT_KEY_TYPE_RSA_PUBLIC_KEY        1
#define PSA_WANT_ALG_RSA_PKCS1V15_SIGN          1
#define PSA_WANT_ALG_RSA_PSS                    1

#endif /* AP_MBEDTLS_MPS2_36_PSA_H */
