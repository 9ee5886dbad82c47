/*
 * RFC 9110 character classes and ASCII case folding, written once for the
 * request writer, the response parser, the URL parser and the queue's record
 * check, so that "what is a token" cannot differ between them. Internal to
 * the core; not installed.
 */
#ifndef ALERTPOST_AP_HTTP_CHARS_H
#define ALERTPOST_AP_HTTP_CHARS_H

#include <stdbool.h>
#include <stddef.h>

/* tchar: ALPHA / DIGIT / "!#$%&'*+-.^_`|~" */
bool ap_http_is_tchar(unsigned char c);

/* ASCII lower case; every other byte unchanged. */
unsigned char ap_http_lower(unsigned char c);

/* A non-empty run of tchar, NUL-terminated. */
bool ap_http_is_token(const char *s);

/* A field value a client may send: HTAB, SP, visible ASCII and obs-text;
 * no CR, LF, NUL, other control byte or DEL. */
bool ap_http_is_field_value(const char *s);

/* ASCII case-insensitive equality of name with lower, which is lower case. */
bool ap_http_name_is(const char *name, const char *lower);

#endif /* ALERTPOST_AP_HTTP_CHARS_H */
