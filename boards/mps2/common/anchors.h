/**
 * @file anchors.h
 * @brief The trust-anchor region: the CA certificates this device trusts,
 * in flash, read in place.
 *
 * The sector before the identity region (__ap_anchors_start in
 * common/mps2.ld, 4 KiB) holds DER certificates back to back, each a
 * SEQUENCE with a definite length, then blank bytes (erased flash, 0xFF,
 * or QEMU's memory before any load, 0x00). Like the identity it is data
 * written apart from the image, so one image serves every fleet; under QEMU
 * the test loads it with -device loader (force-raw=on) at the address the
 * ELF gives, and makes a fresh PKI for every run.
 *
 * Read in place: the core takes the span as DER (ap_client_config_t's
 * ca_pem, ca_pem_len), so no byte of it is copied to RAM and no PEM parser
 * is needed (the firmware's Mbed TLS configurations leave it out).
 */
#ifndef AP_MPS2_ANCHORS_H
#define AP_MPS2_ANCHORS_H

#include <stddef.h>
#include <stdint.h>

/**
 * The region's certificates.
 *
 * @param[out] len   bytes of the DER certificates at the region's start;
 *                   0 when the region is blank or its first byte starts no
 *                   certificate.
 * @param[out] count how many certificates those bytes hold.
 * @return the region's first byte (also when *len is 0, for messages).
 */
const uint8_t *ap_mps2_anchors(size_t *len, size_t *count);

#endif /* AP_MPS2_ANCHORS_H */
