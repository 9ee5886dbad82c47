/*
 * Character classes for a record's fields, and its CRC. A record comes back
 * from a store that may have been edited by hand or torn by a crash, so the
 * decoder checks every field with these before the bytes reach a request.
 */
#include "ap_queue_internal.h"

#include <string.h>

#include "alertpost/ap_queue.h"

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

static bool ap_queue_is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
        return true;
    }
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", (int)c) != NULL;
}

bool ap_queue_is_token(const char *s, size_t n)
{
    size_t i;

    if (n == 0) {
        return false;
    }
    for (i = 0; i < n; i++) {
        if (!ap_queue_is_tchar((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

bool ap_queue_is_field_value(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20u && c != '\t') || c == 0x7Fu) {
            return false;
        }
    }
    return true;
}

static bool ap_queue_name_is(const char *name, size_t n, const char *lower)
{
    size_t i;

    if (strlen(lower) != n) {
        return false;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c >= 'A' && c <= 'Z') {
            c = (unsigned char)(c - 'A' + 'a');
        }
        if (c != (unsigned char)lower[i]) {
            return false;
        }
    }
    return true;
}

bool ap_queue_is_owned_name(const char *name, size_t n)
{
    static const char *const owned[] = {
        "idempotency-key", "content-type", "host", "content-length",
        "transfer-encoding", "connection"
    };
    size_t i;

    for (i = 0; i < sizeof(owned) / sizeof(owned[0]); i++) {
        if (ap_queue_name_is(name, n, owned[i])) {
            return true;
        }
    }
    return false;
}

bool ap_queue_is_key(const char *s, size_t n)
{
    size_t i;

    if (n < 3 || n > AP_QUEUE_KEY_SIZE - 1u || s[0] != '"' || s[n - 1u] != '"') {
        return false;
    }
    /* RFC 8941 sf-string without escapes: printable ASCII but DQUOTE and "\". */
    for (i = 1; i + 1u < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20u || c > 0x7Eu || c == '"' || c == '\\') {
            return false;
        }
    }
    return true;
}
