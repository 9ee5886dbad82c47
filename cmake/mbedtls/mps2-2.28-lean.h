/*
 * The lean Mbed TLS 2.28 configuration of the MPS2 firmware
 * (AP_MPS2_PROFILE=lean): the full one (mps2-2.28.h) with a 4 KiB input
 * record buffer, max_fragment_length (RFC 6066) for the core to ask for
 * 1024-byte records (AP_TLS_MAX_FRAGMENT_LEN in boards/mps2/ap_mps2_config.h).
 * mps2-3.6-lean.h says which servers honour it and what one that ignores it
 * does to this client.
 */
#ifndef AP_MBEDTLS_MPS2_228_LEAN_H
#define AP_MBEDTLS_MPS2_228_LEAN_H

#include "mps2-2.28.h"

#undef MBEDTLS_SSL_IN_CONTENT_LEN
#define MBEDTLS_SSL_IN_CONTENT_LEN 4096
#define MBEDTLS_SSL_MAX_FRAGMENT_LENGTH

#endif /* AP_MBEDTLS_MPS2_228_LEAN_H */
