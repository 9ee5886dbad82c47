/*
 * strstr() for the firmware, in place of newlib's. Its name is the C
 * library's contract (Mbed TLS finds "-----BEGIN CERTIFICATE-----" with it
 * in the trust anchors), hence no ap_ prefix; linked before libc, it is the
 * one every caller gets, as the board's printf family is.
 *
 * Why not newlib's: it brings the Two-Way algorithm, about 1 KiB of flash,
 * to search a few kilobytes of PEM once per boot. This is the plain search:
 * at worst haystack length times needle length byte compares, which for a
 * 4 KiB anchor file and a 27-byte marker is well under a millisecond.
 */
#include <stdint.h>
#include <string.h>

char *strstr(const char *haystack, const char *needle)
{
    const char *h;

    if (*needle == '\0') {
        return (char *)(uintptr_t)haystack;
    }
    for (h = haystack; *h != '\0'; h++) {
        size_t i = 0;

        while (needle[i] != '\0' && h[i] == needle[i]) {
            i++;
        }
        if (needle[i] == '\0') {
            /* The C signature drops the const; the caller's string is theirs. */
            return (char *)(uintptr_t)h;
        }
    }
    return NULL;
}
