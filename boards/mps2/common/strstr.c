/*
 * strstr() for the firmware, in place of newlib's. Its name is the C
 * library's contract (the core looks for "-----BEGIN CERTIFICATE-----" with
 * it in trust anchors that end in a NUL, to tell PEM from DER), hence no
 * ap_ prefix; linked before libc, it is the one every caller gets, as the
 * board's printf family is.
 *
 * Why not newlib's: it brings the Two-Way algorithm, about 1 KiB of flash,
 * for a search of a few kilobytes at most, once per boot. This is the plain
 * search: at worst haystack length times needle length byte compares, which
 * for 4 KiB and a 27-byte marker is well under a millisecond.
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
