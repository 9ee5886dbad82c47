/*
 * The identity record of identity.h. Strict on purpose: a device that
 * finds a damaged record must say so and refuse, not post without the
 * certificate its server expects (nor with half of one).
 */
#include <string.h>

#include "alertpost/ap_crc32.h"
#include "identity.h"

/* From common/mps2.ld: the region's first byte, and its size as an address. */
extern const uint8_t __ap_identity_start[];
extern const uint8_t __ap_identity_size[];

#define ID_CRC_SIZE 4u

const uint8_t *ap_mps2_identity_region(size_t *size)
{
    *size = (size_t)(uintptr_t)__ap_identity_size;
    return __ap_identity_start;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* Erased flash, or memory nothing was ever loaded into. */
static int blank(const uint8_t *p)
{
    return (p[0] == 0xFFu && p[1] == 0xFFu && p[2] == 0xFFu && p[3] == 0xFFu) ||
           (p[0] == 0u && p[1] == 0u && p[2] == 0u && p[3] == 0u);
}

ap_mps2_identity_found_t ap_mps2_identity_parse(const uint8_t *region, size_t size,
                                                ap_identity_t *id, const char **why)
{
    uint32_t cert_len;
    uint32_t key_len;
    size_t body;

    memset(id, 0, sizeof *id);
    *why = "";
    if (size < AP_MPS2_IDENTITY_HEAD + ID_CRC_SIZE || blank(region)) {
        return AP_MPS2_IDENTITY_NONE;
    }
    if (memcmp(region, AP_MPS2_IDENTITY_MAGIC, 4) != 0) {
        *why = "the identity region holds something that is not an identity record";
        return AP_MPS2_IDENTITY_CORRUPT;
    }
    if (region[4] != AP_MPS2_IDENTITY_VERSION || region[5] != 0u || region[6] != 0u ||
        region[7] != 0u) {
        *why = "the identity record has a layout version this firmware does not know";
        return AP_MPS2_IDENTITY_CORRUPT;
    }
    cert_len = le32(region + 8);
    key_len = le32(region + 12);
    /* Each length alone is checked first, so that their sum cannot wrap. */
    body = size - AP_MPS2_IDENTITY_HEAD - ID_CRC_SIZE;
    if (cert_len == 0u || key_len == 0u || cert_len > body || key_len > body - cert_len) {
        *why = "the identity record's lengths do not fit the region (or one is zero)";
        return AP_MPS2_IDENTITY_CORRUPT;
    }
    body = AP_MPS2_IDENTITY_HEAD + cert_len + key_len;
    if (ap_crc32(0, region, body) != le32(region + body)) {
        *why = "the identity record fails its CRC: the sector is damaged or was cut short";
        return AP_MPS2_IDENTITY_CORRUPT;
    }
    id->cert = region + AP_MPS2_IDENTITY_HEAD;
    id->cert_len = cert_len;
    id->key = id->cert + cert_len;
    id->key_len = key_len;
    return AP_MPS2_IDENTITY_FOUND;
}
