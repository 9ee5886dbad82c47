/**
 * @file ap_crc32.h
 * @brief CRC-32 (IEEE 802.3, reflected; the check value zlib's crc32() and
 * PNG use), written once for every record format: the queue's records, the
 * flash log and the spool directory.
 */
#ifndef ALERTPOST_AP_CRC32_H
#define ALERTPOST_AP_CRC32_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Continue a CRC-32 over len more bytes.
 * @param crc 0 to start, or the result of the previous call.
 * @param data may be NULL when len is 0.
 * @return the CRC-32 of everything so far ("123456789" gives 0xCBF43926).
 */
uint32_t ap_crc32(uint32_t crc, const uint8_t *data, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* ALERTPOST_AP_CRC32_H */
