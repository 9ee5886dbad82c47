/*
 * The trust-anchor region of anchors.h. Only the framing is read here (each
 * certificate's outer SEQUENCE and its length); the TLS library parses the
 * certificates, and refuses one that does not parse.
 */
#include "anchors.h"

/* From common/mps2.ld: the region's first byte, and its size as an address. */
extern const uint8_t __ap_anchors_start[];
extern const uint8_t __ap_anchors_size[];

/* The length of the DER SEQUENCE at p (header included), 0 if there is none
 * or it runs past left bytes. Certificates are 128 bytes to 64 KiB: one or
 * two length bytes. */
static size_t der_sequence_len(const uint8_t *p, size_t left)
{
    size_t head;
    size_t body;

    if (left < 4u || p[0] != 0x30u) {
        return 0;
    }
    if (p[1] == 0x81u) {
        head = 3u;
        body = p[2];
    } else if (p[1] == 0x82u) {
        head = 4u;
        body = (size_t)p[2] << 8 | p[3];
    } else {
        return 0;
    }
    return body <= left - head ? head + body : 0u;
}

const uint8_t *ap_mps2_anchors(size_t *len, size_t *count)
{
    size_t size = (size_t)(uintptr_t)__ap_anchors_size;
    size_t at = 0;
    size_t n;

    *count = 0;
    while ((n = der_sequence_len(__ap_anchors_start + at, size - at)) != 0u) {
        at += n;
        (*count)++;
    }
    *len = at;
    return __ap_anchors_start;
}
