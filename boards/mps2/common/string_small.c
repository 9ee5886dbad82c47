/*
 * strcmp(), strncmp(), strchr(), strcpy(), memchr() and strcspn() for the
 * firmware, in place of newlib's, for the reason strstr.c gives: newlib's
 * are unrolled word-at-a-time versions, 1.2 KiB of flash together, for
 * strings of a few dozen bytes (option names, header names, host names)
 * compared a few times per post. These are the plain byte loops. Their
 * names are the C library's contract, hence no ap_ prefix; linked before
 * libc, they are the ones every caller gets. memcpy(), memmove() and
 * memset() stay newlib's: Mbed TLS moves whole records with them, and a
 * compiler may turn a plain copy loop back into a call to them.
 */
#include <stdint.h>
#include <string.h>

int strcmp(const char *a, const char *b)
{
    while (*a != '\0' && *a == *b) {
        a++;
        b++;
    }
    return (int)(unsigned char)*a - (int)(unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n > 0; n--, a++, b++) {
        if (*a != *b || *a == '\0') {
            return (int)(unsigned char)*a - (int)(unsigned char)*b;
        }
    }
    return 0;
}

char *strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c) {
            /* The C signature drops the const; the caller's string is theirs. */
            return (char *)(uintptr_t)s;
        }
        if (*s == '\0') {
            return NULL;
        }
    }
}

char *strcpy(char *dst, const char *src)
{
    char *d = dst;

    while ((*d++ = *src++) != '\0') {
    }
    return dst;
}

void *memchr(const void *s, int c, size_t n)
{
    const unsigned char *p = s;

    for (; n > 0; n--, p++) {
        if (*p == (unsigned char)c) {
            return (void *)(uintptr_t)p;
        }
    }
    return NULL;
}

size_t strcspn(const char *s, const char *reject)
{
    size_t n = 0;

    for (; s[n] != '\0'; n++) {
        const char *r;

        for (r = reject; *r != '\0'; r++) {
            if (*r == s[n]) {
                return n;
            }
        }
    }
    return n;
}
