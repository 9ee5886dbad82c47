/* The CRC-32 that guards each queue record against torn and flipped bytes. */
#include "ap_queue_internal.h"

uint32_t ap_queue_crc32(uint32_t crc, const uint8_t *data, size_t len)
{
    size_t i;

    /* Bitwise rather than a 1 KiB table: records are small and a device's
     * flash is not. */
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
