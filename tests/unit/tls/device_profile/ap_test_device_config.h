/*
 * The core options of a device that keeps its key in PSA and its trust
 * anchors as DER in flash (the MPS2 firmware's, boards/mps2/ap_mps2_config.h),
 * for the host tests of test_tls_device_profile.c: no private-key bytes, no
 * PEM trust stores; and the lean firmware's request for 1 KiB records
 * (max_fragment_length), which OpenSSL answers in TLS 1.3 too.
 */
#ifndef AP_TEST_DEVICE_CONFIG_H
#define AP_TEST_DEVICE_CONFIG_H

#define AP_CLIENT_KEY_BYTES 0
#define AP_ANCHORS_PEM 0
#define AP_TLS_MAX_FRAGMENT_LEN 1024

#endif /* AP_TEST_DEVICE_CONFIG_H */
