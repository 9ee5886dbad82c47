/*
 * The PSA crypto configuration of the lean MPS2 firmware: the full one
 * (mps2-3.6-psa.h) without RSA and without TLS 1.3's HKDF: the lean
 * profile verifies ECDSA P-256 chains only, over TLS 1.2 only
 * (mps2-3.6-lean.h).
 */
#ifndef AP_MBEDTLS_MPS2_36_LEAN_PSA_H
#define AP_MBEDTLS_MPS2_36_LEAN_PSA_H

#include "mps2-3.6-psa.h"

#undef PSA_WANT_KEY_TYPE_RSA_PUBLIC_KEY
#undef PSA_WANT_ALG_RSA_PKCS1V15_SIGN
#undef PSA_WANT_ALG_RSA_PSS
/* SHA-256 only (mps2-3.6-lean.h: the AES-128-GCM suites). */
#undef PSA_WANT_ALG_SHA_384
/* TLS 1.2 only: its PRF, not TLS 1.3's key schedule. */
#undef PSA_WANT_ALG_HKDF_EXTRACT
#undef PSA_WANT_ALG_HKDF_EXPAND

#endif /* AP_MBEDTLS_MPS2_36_LEAN_PSA_H */
