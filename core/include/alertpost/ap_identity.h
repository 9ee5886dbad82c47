/**
 * @file ap_identity.h
 * @brief This device's identity for mutual TLS: a certificate chain and the
 * private key that goes with it.
 *
 * The key takes one of three forms, exactly one of which is set:
 *  - key bytes (PEM or DER, encrypted PEM with a passphrase), parsed once at
 *    ap_client_init() into the TLS library's own storage;
 *  - a PSA key identifier (Mbed TLS 3.6 built with MBEDTLS_USE_PSA_CRYPTO):
 *    an opaque key, persistent in the PSA store or imported at boot, that
 *    alertpost only ever asks to sign; it never reads the key material, so
 *    the key may be (and should be) non-exportable;
 *  - a signing callback (ap_signer_t), the nearest equivalent on Mbed TLS
 *    2.28, where a secure element or HSM holds an RSA key: alertpost hands
 *    it a digest and gets a PKCS#1 v1.5 signature back.
 *
 * Contract:
 *  - The certificate and the key are used only after the server's own
 *    chain, dates and host name have verified: in TLS 1.2 the client's
 *    Certificate follows the server's, which is checked as it arrives; in
 *    TLS 1.3 it follows the server's Finished. A server that fails
 *    verification never sees this device's certificate, and the key never
 *    signs for it.
 *  - Nothing of the key is ever logged, traced or copied into an error text:
 *    errors name the certificate (its subject), never the key; the trace
 *    (AP_TRACE_CLIENT_CERT) shows the certificate's subject and expiry.
 *  - The certificate, key and passphrase bytes are read only during
 *    ap_client_init(): the caller may wipe them once it returns. The signer
 *    (and what its ctx points to) MUST stay valid until ap_client_free().
 */
#ifndef ALERTPOST_AP_IDENTITY_H
#define ALERTPOST_AP_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "alertpost/ap_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The hash a signer is asked to sign the digest of. */
typedef enum ap_sign_hash {
    AP_SIGN_SHA256 = 1,
    AP_SIGN_SHA384 = 2,
    AP_SIGN_SHA512 = 3
} ap_sign_hash_t;

/**
 * A private RSA key held elsewhere (secure element, HSM, TPM), signing
 * through a callback. Mbed TLS 2.28 only (on 3.6, use a PSA key id, which a
 * PSA driver can back with the same hardware). TLS 1.2 only, PKCS#1 v1.5.
 */
typedef struct ap_signer {
    /** The RSA modulus size in bytes: the length of every signature. */
    size_t sig_len;
    /**
     * Sign digest (digest_len bytes of the hash named by hash) with the
     * key: PKCS#1 v1.5, DigestInfo included, exactly sig_len bytes into
     * sig. Called during handshakes, from the thread calling ap_post().
     * @return AP_OK, or any error (the handshake then fails, AP_ERR_TLS).
     */
    ap_status_t (*sign)(void *ctx, ap_sign_hash_t hash, const uint8_t *digest,
                        size_t digest_len, uint8_t *sig, size_t sig_len);
    void *ctx;
} ap_signer_t;

/** This device's certificate chain and key. */
typedef struct ap_identity {
    /**
     * The chain, leaf first, then the intermediates the server may need:
     * PEM (its terminating NUL counted in cert_len) or one DER certificate.
     */
    const uint8_t *cert;
    size_t cert_len;
    /**
     * The private key: PEM (NUL counted) or DER; PKCS#8, SEC1 (EC) or
     * PKCS#1 (RSA). NULL when psa_key_id or signer is set.
     */
    const uint8_t *key;
    size_t key_len;
    /** Passphrase of an encrypted PEM key (NUL-terminated); NULL if none. */
    const char *key_pass;
    /**
     * Mbed TLS 3.6: the PSA key identifier (psa_key_id_t) of an opaque key
     * allowed to sign (PSA_KEY_USAGE_SIGN_HASH, with ECDSA or RSA PKCS#1 /
     * PSS as its algorithm). 0: none. The PSA key store (persistent keys)
     * is the application's to set up; alertpost calls psa_crypto_init().
     */
    uint32_t psa_key_id;
    /** Mbed TLS 2.28: a signing callback for an RSA key. NULL: none. */
    const ap_signer_t *signer;
} ap_identity_t;

/**
 * Which part of cfg.identity made ap_client_init() fail with
 * AP_ERR_TLS_SETUP (ap_client_info_t.identity_fault), so that a caller can
 * name the file at fault without reading the error text.
 */
typedef enum ap_identity_fault {
    AP_IDENTITY_FAULT_NONE = 0,  /**< the identity was not the cause */
    AP_IDENTITY_FAULT_CERT = 1,  /**< the certificate chain: missing, unreadable, no clientAuth */
    /** the key: unreadable, encrypted without (or with a wrong) passphrase,
     *  a form this build lacks, or not the certificate's key */
    AP_IDENTITY_FAULT_KEY = 2
} ap_identity_fault_t;

#ifdef __cplusplus
}
#endif

#endif /* ALERTPOST_AP_IDENTITY_H */
