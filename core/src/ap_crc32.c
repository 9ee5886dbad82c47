/*
 * CRC-32, bitwise rather than from a 1 KiB table: the records it checks are
 * small, and a device's flash is not large.
 */
#include "alertpost/ap_crc32.h"

uint32_t ap_crc32(uint32_t crc, const uint8_t *data, size_t len)
{
    size_t i;

    crc = ~crc;
    for (i = 0; i < len; i++) {
        unsigned bit;

        crc ^= data[i];
        for (bit = 0; bit < 8u; bit++) {
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
        }
    }
    return ~crc;
}
