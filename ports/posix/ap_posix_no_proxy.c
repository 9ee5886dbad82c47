/*
 * no_proxy with curl's meaning, so that an operator's environment means the
 * same to alertpost as to the curl they already use: suffix matching on
 * label boundaries for names, literal (or CIDR) comparison for addresses,
 * and never a DNS lookup. The one liberty taken: `*` counts as an entry
 * anywhere in the list (curl honours it only as the whole value), since a
 * list such as "localhost,*" can only mean everything.
 */
#define _POSIX_C_SOURCE 200809L

#include "alertpost/ap_posix_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

/* Longest entry or host compared; anything longer matches nothing. */
#define AP_NO_PROXY_ITEM_SIZE 256u

typedef struct {
    bool comparable;     /* false: too long to compare with anything but '*' */
    int family;          /* AF_INET, AF_INET6, or 0 for a name */
    unsigned char addr[16];
} host_addr_t;

static bool is_blank(char ch)
{
    return ch == ' ' || ch == '\t';
}

static char lower(char ch)
{
    if (ch >= 'A' && ch <= 'Z') {
        return (char)(ch - 'A' + 'a');
    }
    return ch;
}

static bool equal_nocase(const char *a, const char *b, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (lower(a[i]) != lower(b[i])) {
            return false;
        }
    }
    return true;
}

/* Copy s[0..len) without surrounding brackets into out; false if too long. */
static bool copy_unbracketed(const char *s, size_t len, char *out)
{
    if (len >= 2u && s[0] == '[' && s[len - 1u] == ']') {
        s++;
        len -= 2u;
    }
    if (len >= AP_NO_PROXY_ITEM_SIZE) {
        return false;
    }
    memcpy(out, s, len);
    out[len] = '\0';
    return true;
}

static int parse_address(const char *text, unsigned char addr[16])
{
    if (inet_pton(AF_INET, text, addr) == 1) {
        return AF_INET;
    }
    if (inet_pton(AF_INET6, text, addr) == 1) {
        return AF_INET6;
    }
    return 0;
}

static bool prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
    unsigned whole = bits / 8u;
    unsigned rest = bits % 8u;

    if (memcmp(a, b, whole) != 0) {
        return false;
    }
    if (rest != 0) {
        unsigned char mask = (unsigned char)(0xffu << (8u - rest));

        return (a[whole] & mask) == (b[whole] & mask);
    }
    return true;
}

/* An address entry, "addr" or "addr/bits", against an address host. */
static bool address_entry_matches(const char *entry, size_t len, const host_addr_t *host)
{
    char text[AP_NO_PROXY_ITEM_SIZE];
    unsigned char addr[16];
    const char *slash = memchr(entry, '/', len);
    size_t addr_len = slash != NULL ? (size_t)(slash - entry) : len;
    unsigned max_bits = host->family == AF_INET ? 32u : 128u;
    unsigned bits = max_bits;

    if (slash != NULL) {
        size_t i;

        bits = 0;
        if (slash + 1 == entry + len) {
            return false;
        }
        for (i = addr_len + 1u; i < len; i++) {
            if (entry[i] < '0' || entry[i] > '9' || bits > max_bits) {
                return false;
            }
            bits = bits * 10u + (unsigned)(entry[i] - '0');
        }
        if (bits > max_bits) {
            return false;
        }
    }
    if (!copy_unbracketed(entry, addr_len, text) ||
        parse_address(text, addr) != host->family) {
        return false;
    }
    return prefix_equal(addr, host->addr, bits);
}

/* A name entry: the name itself, or a name that ends in "." + entry. */
static bool name_entry_matches(const char *entry, size_t len, const char *host,
                               size_t host_len)
{
    if (len > 0 && entry[len - 1u] == '.') {
        len--;
    }
    if (len > 0 && entry[0] == '.') {
        entry++;
        len--;
    }
    if (len == 0 || len > host_len) {
        return false;
    }
    if (len < host_len && host[host_len - len - 1u] != '.') {
        return false;
    }
    return equal_nocase(entry, host + host_len - len, len);
}

static bool entry_matches(const char *entry, size_t len, const char *host,
                          size_t host_len, const host_addr_t *addr)
{
    if (len == 1u && entry[0] == '*') {
        return true;
    }
    if (!addr->comparable) {
        return false;
    }
    if (addr->family != 0) {
        return address_entry_matches(entry, len, addr);
    }
    return name_entry_matches(entry, len, host, host_len);
}

bool ap_posix_proxy_bypassed(const char *no_proxy, const char *host)
{
    char name[AP_NO_PROXY_ITEM_SIZE];
    host_addr_t addr;
    size_t name_len;
    const char *p;

    if (no_proxy == NULL || host == NULL || host[0] == '\0') {
        return false;
    }
    memset(&addr, 0, sizeof addr);
    addr.comparable = copy_unbracketed(host, strlen(host), name);
    if (!addr.comparable) {
        name[0] = '\0';
    }
    addr.family = parse_address(name, addr.addr);
    name_len = strlen(name);
    if (addr.family == 0 && name_len > 0 && name[name_len - 1u] == '.') {
        name[--name_len] = '\0';
    }

    for (p = no_proxy; *p != '\0';) {
        const char *start;
        const char *end;

        while (is_blank(*p) || *p == ',') {
            p++;
        }
        start = p;
        while (*p != '\0' && *p != ',') {
            p++;
        }
        end = p;
        while (end > start && is_blank(end[-1])) {
            end--;
        }
        if (end > start && entry_matches(start, (size_t)(end - start), name, name_len, &addr)) {
            return true;
        }
    }
    return false;
}
