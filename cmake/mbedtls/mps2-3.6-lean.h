/*
 * The lean Mbed TLS 3.6 configuration of the MPS2 firmware
 * (AP_MPS2_PROFILE=lean): the full one (mps2-3.6.h) with a 4 KiB input
 * record buffer instead of 16 KiB, what makes a server send records that
 * fit in it, ECDSA P-256 certificates only, and TLS 1.2 only.
 *
 * The lean device posts to a server with an ECDSA chain: the
 * ECDHE-ECDSA-AES128-GCM-SHA256 suite with the extended master secret, no
 * RSA (keys, signatures, bignum; about 23 KiB of flash). A server with only
 * an RSA certificate answers the hello, which offers no RSA signature, with
 * handshake_failure (the QEMU case qemu_alert_rsa12 of the lean suite).
 *
 * TLS 1.2 only, not 1.2 and 1.3 as in the full profile: TLS 1.3 costs 11.1
 * KiB of flash here (its handshake, key schedule and HKDF), more than the
 * lean budget leaves, and a TLS 1.3-only image (6.4 KiB less than both)
 * could ask OpenSSL servers, which lack record_size_limit, for no smaller
 * records: Mbed TLS 3.6 writes max_fragment_length only in its TLS 1.2
 * ClientHello code. TLS 1.2 is the policy's floor, so nothing weaker is
 * offered; a server that speaks only TLS 1.3 is refused with the version
 * refusal, "the limit is this client's maximum, TLS 1.2" (the QEMU cases
 * qemu_alert_tls13 and rsa of the lean suite).
 *
 * A record larger than the buffer cannot be read. The client therefore asks
 * for smaller ones with max_fragment_length (RFC 6066), asked by the core
 * from AP_TLS_MAX_FRAGMENT_LEN, which boards/mps2/ap_mps2_config.h sets to
 * 1024 for this profile (and says why not 4096). OpenSSL servers (nginx,
 * Python's ssl) honour it. A server that ignores it sends a record that
 * does not fit, and the handshake ends with Mbed TLS error -0x7100 before
 * any of it is read (the QEMU case qemu_alert_ignoremfl). Whole handshake
 * messages must fit as well (Mbed TLS 3.6 reassembles a fragmented one in
 * this buffer): a server certificate chain of at most about 4 KiB
 * (qemu_alert_bigchain).
 */
#ifndef AP_MBEDTLS_MPS2_36_LEAN_H
#define AP_MBEDTLS_MPS2_36_LEAN_H

#include "mps2-3.6.h"

#undef MBEDTLS_SSL_IN_CONTENT_LEN
#define MBEDTLS_SSL_IN_CONTENT_LEN 4096
#define MBEDTLS_SSL_MAX_FRAGMENT_LENGTH

/* TLS 1.2 only (above). */
#undef MBEDTLS_SSL_PROTO_TLS1_3
#undef MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED

/* ECDSA only: no ECDHE-RSA key exchange or suites. And AES-128 only, with
 * SHA-256: ECDHE-ECDSA-AES128-GCM-SHA256, which every server with a P-256
 * certificate offers; no SHA-384 or SHA-512, so no AES-256-GCM suites and
 * no SHA-384 signatures (a P-256 chain signs with SHA-256). Still AEAD
 * only, with 128-bit security like P-256 itself. */
#undef MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#undef MBEDTLS_SSL_CIPHERSUITES
#define MBEDTLS_SSL_CIPHERSUITES MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
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
