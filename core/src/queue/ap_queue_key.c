/*
 * Idempotency-Key generation. A random UUID needs no device identity and no
 * clock, and 122 random bits make a collision between two alerts a server
 * keeps keys for practically impossible; the key is made once, at enqueue,
 * and stored with the alert so that every attempt carries the same one.
 */
#include "alertpost/ap_queue.h"

#include <string.h>

ap_status_t ap_queue_key_generate(const ap_platform_t *platform, char key[AP_QUEUE_KEY_SIZE])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t raw[16];
    size_t i;
    size_t o = 0;

    if (platform == NULL || platform->entropy == NULL || key == NULL) {
        return AP_ERR_BAD_ARG;
    }
    if (platform->entropy(platform->ctx, raw, sizeof(raw)) != AP_OK) {
        return AP_ERR_ENTROPY;
    }
    raw[6] = (uint8_t)((raw[6] & 0x0Fu) | 0x40u); /* version 4 (RFC 9562 5.4) */
    raw[8] = (uint8_t)((raw[8] & 0x3Fu) | 0x80u); /* variant 10 */

    key[o++] = '"';
    for (i = 0; i < sizeof(raw); i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            key[o++] = '-';
        }
        key[o++] = hex[raw[i] >> 4];
        key[o++] = hex[raw[i] & 0x0Fu];
    }
    key[o++] = '"';
    key[o] = '\0';
    memset(raw, 0, sizeof(raw));
    return AP_OK;
}
