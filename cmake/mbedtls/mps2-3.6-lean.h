/*
 * The lean Mbed TLS 3.6 configuration of the MPS2 firmware
 * (AP_MPS2_PROFILE=lean): the full one (mps2-3.6.h) with a 4 KiB input
 * record buffer instead of 16 KiB, what makes a server send records that
 * fit in it, and ECDSA P-256 certificates only. The lean device posts to a
 * modern server with an ECDSA chain: TLS 1.2 and 1.3 as in the full
 * profile, the ECDHE-ECDSA suites only, no RSA (keys, signatures, bignum;
 * about 23 KiB of flash). A server with only an RSA certificate answers the
 * hello, which offers no RSA signature, with handshake_failure (the QEMU
 * cases qemu_alert_rsa and rsa12 of the lean suite).
 *
 * TLS 1.2 stays although every such server speaks TLS 1.3 (another 6.7 KiB):
 * Mbed TLS 3.6 writes max_fragment_length only in its TLS 1.2 ClientHello
 * code, so a TLS 1.3-only client could ask OpenSSL servers, which lack
 * record_size_limit, for no smaller records.
 *
 * A record larger than the buffer cannot be read. The client therefore asks
 * for smaller ones, before it knows the version: with max_fragment_length
 * (RFC 6066), asked by the core from AP_TLS_MAX_FRAGMENT_LEN, which
 * boards/mps2/ap_mps2_config.h sets to 1024 for this profile (and says why
 * not 4096), and with record_size_limit (RFC 8449), which 3.6 offers as a
 * client with MBEDTLS_SSL_RECORD_SIZE_LIMIT: its ClientHello carries the
 * input buffer's size, and it obeys the server's value. OpenSSL servers
 * (nginx, Python's ssl) honour max_fragment_length in TLS 1.2 and 1.3 and do
 * not implement record_size_limit; GnuTLS and Mbed TLS servers honour
 * record_size_limit. A TLS 1.3 answer to max_fragment_length needs the
 * build's fix (cmake/ApMbedTLSFixes.cmake, ap_mbedtls_fix_tls13_mfl), or
 * 3.6.6 aborts the handshake. A server that ignores both sends a record
 * that does not fit, and the handshake ends with Mbed TLS error -0x7100
 * before any of it is read (the QEMU case qemu_alert_ignoremfl). Whole
 * handshake messages must fit as well (Mbed TLS reassembles a fragmented
 * one in this buffer): a server certificate chain of at most about 4 KiB
 * (qemu_alert_bigchain).
 */
#ifndef AP_MBEDTLS_MPS2_36_LEAN_H
#define AP_MBEDTLS_MPS2_36_LEAN_H

#include "mps2-3.6.h"

#undef MBEDTLS_SSL_IN_CONTENT_LEN
#define MBEDTLS_SSL_IN_CONTENT_LEN 4096
#define MBEDTLS_SSL_MAX_FRAGMENT_LENGTH
#define MBEDTLS_SSL_RECORD_SIZE_LIMIT

/* ECDSA only: no ECDHE-RSA key exchange or suites in TLS 1.2. And AES-128
 * only, with SHA-256: TLS_AES_128_GCM_SHA256 (TLS 1.3's mandatory suite)
 * and ECDHE-ECDSA-AES128-GCM-SHA256, which every server with a P-256
 * certificate offers; no SHA-384 or SHA-512, so no AES-256-GCM suites and
 * no SHA-384 signatures (a P-256 chain signs with SHA-256). Still AEAD
 * only, with 128-bit security like P-256 itself. */
#undef MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#undef MBEDTLS_SSL_CIPHERSUITES
#define MBEDTLS_SSL_CIPHERSUITES                          \
    MBEDTLS_TLS1_3_AES_128_GCM_SHA256,                    \
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
#undef MBEDTLS_SHA384_C
#undef MBEDTLS_SHA512_SMALLER

/* No RSA keys or signatures, hence no bignum either (the P-256 arithmetic
 * is p256-m's); PSA without RSA (mps2-3.6-lean-psa.h). */
#undef MBEDTLS_RSA_C
#undef MBEDTLS_PKCS1_V15
#undef MBEDTLS_PKCS1_V21
#undef MBEDTLS_RSA_NO_CRT
#undef MBEDTLS_X509_RSASSA_PSS_SUPPORT
#undef MBEDTLS_BIGNUM_C
#undef MBEDTLS_MPI_MAX_SIZE
#undef MBEDTLS_PSA_CRYPTO_CONFIG_FILE
#define MBEDTLS_PSA_CRYPTO_CONFIG_FILE "mps2-3.6-lean-psa.h"

#endif /* AP_MBEDTLS_MPS2_36_LEAN_H */
