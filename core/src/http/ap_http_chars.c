/* RFC 9110 character classes, shared by every codec of the core. */
#include "http/ap_http_chars.h"

bool ap_http_is_tchar(unsigned char c)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    size_t i;

    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
        return true;
    }
    for (i = 0; i < sizeof(extra) - 1; i++) {
        if ((unsigned char)extra[i] == c) {
            return true;
        }
    }
    return false;
}

unsigned char ap_http_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

bool ap_http_is_token(const char *s)
{
    if (*s == '\0') {
        return false;
    }
    for (; *s != '\0'; s++) {
        if (!ap_http_is_tchar((unsigned char)*s)) {
            return false;
        }
    }
    return true;
}

bool ap_http_is_field_value(const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if ((c < 0x20u && c != '\t') || c == 0x7Fu) {
            return false;
        }
    }
    return true;
}

bool ap_http_name_is(const char *name, const char *lower)
{
    for (; *name != '\0' && *lower != '\0'; name++, lower++) {
        if (ap_http_lower((unsigned char)*name) != (unsigned char)*lower) {
            return false;
        }
    }
    return *name == *lower;
}
