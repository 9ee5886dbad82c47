/**
 * @file identity.h
 * @brief This device's certificate and key for mutual TLS, provisioned in
 * the identity region: the last 4 KiB sector of the board's code flash
 * (__ap_identity_start in common/mps2.ld), apart from the image.
 *
 * A device is provisioned once, at the factory, with its own certificate
 * and key; the firmware image is the same on every device. So the identity
 * is not linked into the image but written into its own flash sector by the
 * programming station, as a small length-prefixed record. Under QEMU the
 * "station" is the command line: -device
 * loader,file=identity.bin,addr=<__ap_identity_start>,force-raw=on loads a
 * file the test writes into that address (SSRAM standing in for flash), so
 * a test gives each run a fresh identity without rebuilding the image.
 *
 * The record, little-endian:
 *   offset  size      field
 *   0       4         magic "APID"
 *   4       2         layout version: 1
 *   6       2         0 (reserved)
 *   8       4         cert_len
 *   12      4         key_len
 *   16      cert_len  the certificate chain, leaf first: one DER certificate,
 *                     or PEM with its terminating NUL counted
 *   16+c    key_len   the private key, P-256, unencrypted DER: PKCS#8 or
 *                     SEC1 (RFC 5915)
 *   16+c+k  4         CRC-32 (ap_crc32.h) of every byte before it
 * A region whose first four bytes are all 0xFF (erased) or all 0x00 (never
 * written; QEMU's memory before any load) holds no identity: the device then
 * posts without a client certificate.
 */
#ifndef AP_MPS2_IDENTITY_H
#define AP_MPS2_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "alertpost/ap_identity.h"
#include "alertpost/ap_status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AP_MPS2_IDENTITY_MAGIC   "APID"
#define AP_MPS2_IDENTITY_VERSION 1u
#define AP_MPS2_IDENTITY_HEAD    16u /* bytes before the certificate */

/** What the identity region holds. */
typedef enum ap_mps2_identity_found {
    AP_MPS2_IDENTITY_CORRUPT = -1, /**< a record that does not check */
    AP_MPS2_IDENTITY_NONE = 0,     /**< erased or never written */
    AP_MPS2_IDENTITY_FOUND = 1     /**< a record whose CRC checks */
} ap_mps2_identity_found_t;

/** The identity region: its address, and its size in *size. */
const uint8_t *ap_mps2_identity_region(size_t *size);

/**
 * Reads the record in region (size bytes). With AP_MPS2_IDENTITY_FOUND,
 * id->cert and id->key point into region (nothing is copied) and the other
 * fields of id are zero; otherwise id is all zero, and with
 * AP_MPS2_IDENTITY_CORRUPT *why says what is wrong (a static string).
 */
ap_mps2_identity_found_t ap_mps2_identity_parse(const uint8_t *region, size_t size,
                                                ap_identity_t *id, const char **why);

/**
 * Makes the key of id (key bytes from ap_mps2_identity_parse()) usable
 * without the firmware keeping them.
 *
 * Mbed TLS 3.6 (MBEDTLS_USE_PSA_CRYPTO): imports the P-256 key into PSA as
 * a volatile key that may only sign hashes, with ECDSA of any hash, and is
 * never exportable, straight from the region (no copy in RAM but PSA's key
 * slot); id->key becomes NULL and id->psa_key_id the new key. Calls
 * psa_crypto_init(), so the Mbed TLS allocator must be set up before.
 * Mbed TLS 2.28 (no PSA): does nothing; the core parses the key bytes into
 * its own context at ap_client_init().
 *
 * @return AP_OK; AP_ERR_ENTROPY: PSA could not start (no entropy);
 *         AP_ERR_TLS_SETUP: the key is not an unencrypted P-256 key in DER,
 *         or PSA refused it; *why says which (a static string).
 */
ap_status_t ap_mps2_identity_seal_key(ap_identity_t *id, const char **why);

#ifdef __cplusplus
}
#endif

#endif /* AP_MPS2_IDENTITY_H */
