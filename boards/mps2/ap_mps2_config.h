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

/* The Mbed TLS contexts of the firmware configurations need about 1.86 KiB
 * (3.6) and 1.45 KiB (2.28), of which the client identity (the device
 * certificate's head and key context, for mutual TLS) is 584 and 352 bytes;
 * the default of 8 KiB is sized for host builds with everything enabled.
 * The TLS glue refuses to compile if this is short. */
#if AP_CLIENT_IDENTITY
#define AP_TLS_CONTEXT_SIZE 1864
#else
#define AP_TLS_CONTEXT_SIZE 1280
#endif

/* The firmware prints no -v trace: leave the certificate's names unformatted. */
#define AP_TRACE_CERT_NAMES 0

/* The firmware's queue posts one alert at a time: no state is kept for
 * alerts in flight behind the oldest (ap_queue.h's in_flight). */
#define AP_QUEUE_MAX_IN_FLIGHT 1

#endif /* AP_MPS2_CONFIG_H */
