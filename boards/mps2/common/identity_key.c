/*
 * The device key, made into something the TLS stack can sign with but the
 * firmware no longer holds (identity.h, ap_mps2_identity_seal_key()).
 *
 * On Mbed TLS 3.6 the key goes into PSA once at boot, sign-only and not
 * exportable: from then on nothing in the firmware can read it back, not a
 * bug in the HTTP code, not a debug print. PSA is handed the 32-byte
 * private value where it lies in the identity sector, so the firmware makes
 * no copy of it in RAM; PSA's own copy sits in its key slot, which is wiped
 * when the key is destroyed. The key bytes stay in the identity sector, as
 * on any device that keeps its key in flash: a product with a secure
 * element or an encrypted key store imports from there instead (or keeps
 * the key there, behind a PSA driver); the handle the core gets is the same.
 */
#include "mbedtls/version.h"
#if MBEDTLS_VERSION_MAJOR >= 3
#include "mbedtls/build_info.h"
#endif

#include "identity.h"

#if MBEDTLS_VERSION_MAJOR >= 3 && defined(MBEDTLS_USE_PSA_CRYPTO)


#include "mbedtls/asn1.h"
#include "mbedtls/oid.h"
#include "psa/crypto.h"

#define P256_PRIVATE_LEN 32u
#define TAG_SEQUENCE     (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)
#define TAG_SEC1_PARAMS  (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0)

/*
 * The private value of the SEC1 ECPrivateKey (RFC 5915) at *p: version 1,
 * a 32-byte OCTET STRING, and [0] parameters that, when present, name
 * P-256 (the optional public key after them is not needed: PSA derives it).
 */
static int sec1_private(unsigned char *p, const unsigned char *end, const uint8_t **d)
{
    size_t len = 0;
    int version = 0;
    mbedtls_asn1_buf curve;

    if (mbedtls_asn1_get_tag(&p, end, &len, TAG_SEQUENCE) != 0) {
        return -1;
    }
    end = p + len;
    if (mbedtls_asn1_get_int(&p, end, &version) != 0 || version != 1 ||
        mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_OCTET_STRING) != 0 ||
        len != P256_PRIVATE_LEN) {
        return -1;
    }
    *d = p;
    p += len;
    if (p < end && *p == TAG_SEC1_PARAMS) {
        if (mbedtls_asn1_get_tag(&p, end, &len, TAG_SEC1_PARAMS) != 0 ||
            mbedtls_asn1_get_tag(&p, end, &curve.len, MBEDTLS_ASN1_OID) != 0) {
            return -1;
        }
        curve.p = p;
        if (MBEDTLS_OID_CMP(MBEDTLS_OID_EC_GRP_SECP256R1, &curve) != 0) {
            return -1;
        }
    }
    return 0;
}

/*
 * The 32-byte private value of a P-256 key in DER, PKCS#8 (RFC 5208, an
 * unencrypted PrivateKeyInfo for id-ecPublicKey on prime256v1, around a
 * SEC1 key) or bare SEC1, as a pointer into der: nothing is copied. Read
 * here rather than with mbedtls_pk_parse_key() and
 * mbedtls_pk_import_into_psa(), which bring 2.7 KiB of flash (most of it
 * for RSA keys this firmware never holds) to find these 32 bytes.
 */
static int p256_private_value(const uint8_t *der, size_t der_len, const uint8_t **d)
{
    /* The ASN.1 reader takes a non-const cursor; it only reads. */
    unsigned char *p = (unsigned char *)(uintptr_t)der;
    const unsigned char *end = p + der_len;
    size_t len = 0;
    int version = -1;
    mbedtls_asn1_buf alg;
    mbedtls_asn1_buf curve;

    if (mbedtls_asn1_get_tag(&p, end, &len, TAG_SEQUENCE) != 0 || p + len != end) {
        return -1;
    }
    if (mbedtls_asn1_get_int(&p, end, &version) != 0) {
        return -1;
    }
    if (version == 1) {
        return sec1_private((unsigned char *)(uintptr_t)der, end, d);
    }
    if (version != 0 || mbedtls_asn1_get_alg(&p, end, &alg, &curve) != 0 ||
        MBEDTLS_OID_CMP(MBEDTLS_OID_EC_ALG_UNRESTRICTED, &alg) != 0 ||
        curve.tag != MBEDTLS_ASN1_OID ||
        MBEDTLS_OID_CMP(MBEDTLS_OID_EC_GRP_SECP256R1, &curve) != 0 ||
        mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_OCTET_STRING) != 0) {
        return -1;
    }
    return sec1_private(p, p + len, d);
}

ap_status_t ap_mps2_identity_seal_key(ap_identity_t *id, const char **why)
{
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    mbedtls_svc_key_id_t key_id = MBEDTLS_SVC_KEY_ID_INIT;
    const uint8_t *d = NULL;
    psa_status_t ps;

    *why = "";
    if (id->key == NULL) {
        return AP_OK;
    }
    if (p256_private_value(id->key, id->key_len, &d) != 0) {
        *why = "the identity's key is not an unencrypted P-256 key in DER (PKCS#8 or SEC1)";
        return AP_ERR_TLS_SETUP;
    }
    if (psa_crypto_init() != PSA_SUCCESS) {
        *why = "PSA Crypto did not start (its random generator found no entropy)";
        return AP_ERR_ENTROPY;
    }
    /* Sign-hash only, ECDSA of any hash (TLS 1.2 and 1.3 may sign SHA-256
     * or SHA-384 digests); no EXPORT, no COPY; volatile: gone at reset. */
    psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&attr, 256);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_SIGN_HASH);
    psa_set_key_algorithm(&attr, PSA_ALG_ECDSA(PSA_ALG_ANY_HASH));
    psa_set_key_lifetime(&attr, PSA_KEY_LIFETIME_VOLATILE);
    ps = psa_import_key(&attr, d, P256_PRIVATE_LEN, &key_id);
    psa_reset_key_attributes(&attr);
    if (ps != PSA_SUCCESS) {
        *why = ps == PSA_ERROR_INSUFFICIENT_MEMORY
                   ? "PSA has no free key slot for the identity's key"
                   : "PSA refused the identity's key (not a valid P-256 private value)";
        return AP_ERR_TLS_SETUP;
    }
    id->key = NULL;
    id->key_len = 0;
    id->psa_key_id = MBEDTLS_SVC_KEY_ID_GET_KEY_ID(key_id);
    return AP_OK;
}

#else /* Mbed TLS 2.28: no PSA; the core parses the key bytes itself. */

ap_status_t ap_mps2_identity_seal_key(ap_identity_t *id, const char **why)
{
    (void)id;
    *why = "";
    return AP_OK;
}

#endif
