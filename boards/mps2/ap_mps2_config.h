/*
 * alertpost's compile-time options for the MPS2 firmware (read first by
 * ap_config.h through AP_CONFIG_FILE; every option left out keeps its
 * documented default).
 */
#ifndef AP_MPS2_CONFIG_H
#define AP_MPS2_CONFIG_H

/*
 * Mutual TLS (the device certificate and key of common/identity.h): on
 * unless the build says AP_MPS2_CLIENT_IDENTITY=0 (the CMake option
 * AP_MPS2_CLIENT_IDENTITY OFF), for a device whose servers never ask for a
 * client certificate; that saves about 5.7 KiB of flash (boards/mps2/README.md).
 */
#if defined(AP_MPS2_CLIENT_IDENTITY) && AP_MPS2_CLIENT_IDENTITY == 0
#define AP_CLIENT_IDENTITY 0
#else
#define AP_CLIENT_IDENTITY 1
#endif

/* On Mbed TLS 3.6 with its own configuration the device key goes into PSA
 * at boot (common/identity_key.c), and the core gets a key id, never key
 * bytes: the build says so with AP_MPS2_KEY_IN_PSA=1 (the top-level
 * CMakeLists.txt), and the core leaves out its key parsing. 2.28 has no PSA
 * and parses the key bytes. */
#if defined(AP_MPS2_KEY_IN_PSA) && AP_MPS2_KEY_IN_PSA
#define AP_CLIENT_KEY_BYTES 0
#endif

/* The trust anchors are DER in a flash region, read in place
 * (common/anchors.h): the core needs no PEM reader. */
#define AP_ANCHORS_PEM 0

/* The Mbed TLS contexts of the firmware configurations need about 1.86 KiB
 * (3.6) and 1.45 KiB (2.28), of which the client identity (the device
 * certificate's head and key context, for mutual TLS) is 584 and 352 bytes;
 * the default of 8 KiB is sized for host builds with everything enabled.
 * The TLS glue refuses to compile if this is short. */
#if AP_CLIENT_IDENTITY
#define AP_MPS2_TLS_CONTEXT_BASE 1864
#else
#define AP_MPS2_TLS_CONTEXT_BASE 1280
#endif
/* Session resumption (AP_MPS2_RESUMPTION) keeps the last session, 412
 * bytes on 3.6 and 116 on 2.28 (the ticket itself lives in the pool). */
#if defined(AP_MPS2_RESUMPTION) && AP_MPS2_RESUMPTION
#define AP_TLS_CONTEXT_SIZE (AP_MPS2_TLS_CONTEXT_BASE + 412)
#else
#define AP_TLS_CONTEXT_SIZE AP_MPS2_TLS_CONTEXT_BASE
#endif

/* The lean profile (AP_MPS2_PROFILE=lean) reads records of at most 4 KiB
 * (cmake/mbedtls/mps2-3.6-lean.h): ask TLS 1.2 servers for smaller ones.
 * 1024, not 4096: the request binds both directions, so Mbed TLS refuses
 * one above its output buffer (MBEDTLS_SSL_OUT_CONTENT_LEN, 1 KiB), and
 * raising that to 4 KiB would cost 3 KiB of the pool for an alert of a few
 * hundred bytes (tried: a TLS 1.2 post then ran out of an 18-20 KiB pool);
 * 1 KiB records cost the server 2% more framing, and Mbed TLS 3.6 joins a
 * handshake message split over them. */
#if defined(AP_MPS2_PROFILE_LEAN) && AP_MPS2_PROFILE_LEAN
#define AP_TLS_MAX_FRAGMENT_LEN 1024
#endif

/* The firmware prints no -v trace: leave the certificate's names unformatted. */
#define AP_TRACE_CERT_NAMES 0

/* Error texts keep the host and the cause and drop the advice on what to do
 * (ap_config.h): the console line says what failed, the manual what to try. */
#define AP_ERROR_HINTS 0

/* The firmware's queue posts one alert at a time: no state is kept for
 * alerts in flight behind the oldest (ap_queue.h's in_flight). */
#define AP_QUEUE_MAX_IN_FLIGHT 1

#endif /* AP_MPS2_CONFIG_H */
