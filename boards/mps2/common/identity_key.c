/*
 * The device key, made into something the TLS stack can sign with but the
 * firmware no longer holds (identity.h, ap_mps2_identity_seal_key()).
 *
 * On Mbed TLS 3.6 the key goes into PSA once at boot, sign-only and not
 * exportable: from then on nothing in the firmware can read it back, not a
 * bug in the HTTP code, not a debug print. The key bytes themselves stay in
 * the identity sector, as on any device that keeps its key in flash; the
 * copies made in RAM while parsing are wiped by Mbed TLS when the parsed
 * context is freed (its own PSA copy is destroyed, and a key slot is
 * zeroised on destruction). A product with a secure element or an
 * encrypted key store would import from there instead; the handle the core
 * gets is the same.
 */
#include "mbedtls/version.h"
#if MBEDTLS_VERSION_MAJOR >= 3
#include "mbedtls/build_info.h"
#endif

#include "identity.h"

#if MBEDTLS_VERSION_MAJOR >= 3 && defined(MBEDTLS_USE_PSA_CRYPTO)

#include "mbedtls/pk.h"
#include "mbedtls/psa_util.h"
#include "psa/crypto.h"

/* Parses the key and imports it into PSA with only what signing needs. */
static ap_status_t import_key(mbedtls_pk_context *pk, const ap_identity_t *id,
                              mbedtls_svc_key_id_t *key_id, const char **why)
{
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    ap_status_t st = AP_ERR_TLS_SETUP;

    if (mbedtls_pk_parse_key(pk, id->key, id->key_len, NULL, 0, mbedtls_psa_get_random,
                             MBEDTLS_PSA_RANDOM_STATE) != 0) {
        *why = "the identity's key does not parse (an unencrypted key, DER or PEM, is expected)";
    } else if (mbedtls_pk_get_type(pk) != MBEDTLS_PK_ECKEY || mbedtls_pk_get_bitlen(pk) != 256u) {
        /* P-256 is the only curve this build signs with (p256-m). */
        *why = "the identity's key is not a P-256 key";
    } else if (mbedtls_pk_get_psa_attributes(pk, PSA_KEY_USAGE_SIGN_HASH, &attr) != 0) {
        *why = "the identity's key cannot be described to PSA";
    } else {
        /* What get_psa_attributes adds (VERIFY, EXPORT, COPY) is dropped;
         * ECDSA of any hash, since TLS 1.2 and 1.3 may sign SHA-256 or
         * SHA-384 digests. */
        psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_SIGN_HASH);
        psa_set_key_algorithm(&attr, PSA_ALG_ECDSA(PSA_ALG_ANY_HASH));
        psa_set_key_lifetime(&attr, PSA_KEY_LIFETIME_VOLATILE);
        if (mbedtls_pk_import_into_psa(pk, &attr, key_id) == 0) {
            st = AP_OK;
        } else {
            *why = "PSA refused the identity's key (no free key slot?)";
        }
    }
    psa_reset_key_attributes(&attr);
    return st;
}

ap_status_t ap_mps2_identity_seal_key(ap_identity_t *id, const char **why)
{
    mbedtls_pk_context pk;
    mbedtls_svc_key_id_t key_id = MBEDTLS_SVC_KEY_ID_INIT;
    ap_status_t st;

    *why = "";
    if (id->key == NULL) {
        return AP_OK;
    }
    if (psa_crypto_init() != PSA_SUCCESS) {
        *why = "PSA Crypto did not start (its random generator found no entropy)";
        return AP_ERR_ENTROPY;
    }
    mbedtls_pk_init(&pk);
    st = import_key(&pk, id, &key_id, why);
    /* Destroys the parse's own PSA copy of the key: its slot is wiped. */
    mbedtls_pk_free(&pk);
    if (st == AP_OK) {
        id->key = NULL;
        id->key_len = 0;
        id->psa_key_id = MBEDTLS_SVC_KEY_ID_GET_KEY_ID(key_id);
    }
    return st;
}

#else /* Mbed TLS 2.28: no PSA; the core parses the key bytes itself. */

ap_status_t ap_mps2_identity_seal_key(ap_identity_t *id, const char **why)
{
    (void)id;
    *why = "";
    return AP_OK;
}

#endif
