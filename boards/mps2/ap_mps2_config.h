/*
 * alertpost's compile-time options for the MPS2 firmware (read first by
 * ap_config.h through AP_CONFIG_FILE; every option left out keeps its
 * documented default).
 */
#ifndef AP_MPS2_CONFIG_H
#define AP_MPS2_CONFIG_H

/* The Mbed TLS contexts of the firmware configurations need about 1.86 KiB
 * (3.6) and 1.45 KiB (2.28), of which the client identity (the device
 * certificate's head and key context, for mutual TLS) is 584 and 352 bytes;
 * the default of 8 KiB is sized for host builds with everything enabled.
 * The TLS glue refuses to compile if this is short. */
#define AP_TLS_CONTEXT_SIZE 1864

/* The firmware prints no -v trace: leave the certificate's names unformatted. */
#define AP_TRACE_CERT_NAMES 0

#endif /* AP_MPS2_CONFIG_H */
