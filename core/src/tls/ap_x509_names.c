/*
 * Host and name-constraint matching (see ap_x509_names.h).
 *
 * DNS names compare case-insensitively in ASCII only: SAN dNSNames are
 * A-labels, and anything else was refused when the extension was parsed.
 * Addresses compare as bytes, never as text, so "127.0.0.1" written as a
 * dNSName matches nothing.
 */
#include "tls/ap_x509_names.h"

#include <string.h>

/* Second-level public suffixes known without a list (see the header), as one
 * string of space-separated names: no pointer table to spend flash on. */
static const char k_suffixes[] =
    "co.uk org.uk ac.uk gov.uk com.au net.au org.au co.nz co.jp co.kr com.cn com.br co.in "
    "co.za com.tw";

/* ASCII lower case, on unsigned bytes (no sign questions for 8-bit input). */
static unsigned char fold(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') ? (unsigned char)(ch | 0x20u) : ch;
}

static bool same_text(const char *a, const char *b, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (fold((unsigned char)a[i]) != fold((unsigned char)b[i])) {
            return false;
        }
    }
    return true;
}

static bool equal_names(const char *a, size_t alen, const char *b, size_t blen)
{
    return alen == blen && same_text(a, b, alen);
}

/* ---- host parsing ---- */

static bool parse_ipv4(const char *s, size_t len, uint8_t out[4])
{
    size_t i = 0;
    int part;

    for (part = 0; part < 4; part++) {
        unsigned v = 0;
        size_t digits = 0;

        while (i < len && s[i] >= '0' && s[i] <= '9' && digits < 4) {
            v = v * 10u + (unsigned)(s[i] - '0');
            i++;
            digits++;
        }
        if (digits == 0 || digits > 3 || v > 255) {
            return false;
        }
        out[part] = (uint8_t)v;
        if (part < 3) {
            if (i >= len || s[i] != '.') {
                return false;
            }
            i++;
        }
    }
    return i == len;
}

static int hex_value(char c)
{
    unsigned char ch = fold((unsigned char)c);

    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }
    return (ch >= 'a' && ch <= 'f') ? ch - 'a' + 10 : -1;
}

/* RFC 4291 text form, with "::" and a trailing dotted quad. */
static bool parse_ipv6(const char *s, size_t len, uint8_t out[16])
{
    uint8_t words[16];
    size_t n = 0;       /* bytes written to words */
    size_t gap = 16;    /* where "::" stands; 16 = none */
    size_t i = 0;

    if (len >= 2 && s[0] == ':' && s[1] == ':') {
        gap = 0;
        i = 2;
    }
    while (i < len) {
        unsigned v = 0;
        size_t start = i;
        int h;

        while (i < len && (h = hex_value(s[i])) >= 0 && i - start < 4) {
            v = (v << 4) | (unsigned)h;
            i++;
        }
        if (i < len && s[i] == '.' && n <= 12) {
            if (!parse_ipv4(&s[start], len - start, &words[n])) {
                return false;
            }
            n += 4;
            break; /* the dotted quad ends the address */
        }
        if (i == start || n > 14) {
            return false;
        }
        words[n++] = (uint8_t)(v >> 8);
        words[n++] = (uint8_t)v;
        if (i == len) {
            break;
        }
        if (s[i] != ':') {
            return false;
        }
        i++;
        if (i < len && s[i] == ':') {
            if (gap != 16) {
                return false;
            }
            gap = n;
            i++;
        } else if (i == len) {
            return false; /* a trailing single colon */
        }
    }
    if (gap == 16) {
        if (n != 16) {
            return false;
        }
        memcpy(out, words, 16);
        return true;
    }
    if (n > 14) {
        return false; /* "::" must stand for at least one group */
    }
    memset(out, 0, 16);
    memcpy(out, words, gap);
    memcpy(out + 16 - (n - gap), words + gap, n - gap);
    return true;
}

bool ap_x509_host_parse(const char *host, ap_x509_host_t *out)
{
    size_t len;

    if (host == NULL || out == NULL) {
        return false;
    }
    memset(out, 0, sizeof(*out));
    len = strlen(host);
    if (len > 0 && host[len - 1] == '.') {
        len--; /* an absolute name is the same name */
    }
    if (len == 0 || len > 253) {
        return false;
    }
    if (parse_ipv4(host, len, out->ip)) {
        out->is_ip = true;
        out->ip_len = 4;
    } else if (memchr(host, ':', len) != NULL) {
        if (!parse_ipv6(host, len, out->ip)) {
            return false;
        }
        out->is_ip = true;
        out->ip_len = 16;
    }
    out->dns = host;
    out->dns_len = len;
    return true;
}

/* ---- public suffixes ---- */

/* One line of the list, trimmed at the first white space (the list's rule). */
static size_t rule_length(const char *line, size_t left)
{
    size_t n = 0;

    while (n < left && line[n] != '\n' && line[n] != '\r' && line[n] != ' ' && line[n] != '\t') {
        n++;
    }
    return n;
}

static bool psl_says_suffix(const char *name, size_t len, const ap_x509_psl_t *psl)
{
    const char *p = psl->text;
    const char *end = psl->text + psl->len;
    const char *dot = memchr(name, '.', len);
    bool rule = false;

    while (p < end) {
        size_t n = rule_length(p, (size_t)(end - p));
        const char *next = memchr(p, '\n', (size_t)(end - p));

        if (n >= 2 && p[0] == '/' && p[1] == '/') {
            n = 0; /* a comment */
        }
        if (n > 0 && p[0] == '!' && equal_names(p + 1, n - 1, name, len)) {
            return false; /* an exception outranks every rule */
        }
        if (equal_names(p, n, name, len)) {
            rule = true;
        }
        if (n > 2 && p[0] == '*' && p[1] == '.' && dot != NULL &&
            equal_names(p + 2, n - 2, dot + 1, len - (size_t)(dot + 1 - name))) {
            rule = true;
        }
        p = (next != NULL) ? next + 1 : end;
    }
    return rule;
}

bool ap_x509_is_public_suffix(const char *name, size_t len, const ap_x509_psl_t *psl)
{
    const char *p;
    size_t n;

    if (name == NULL || len == 0 || memchr(name, '.', len) == NULL) {
        return true; /* a single label is a TLD */
    }
    for (p = k_suffixes; *p != '\0'; p += n + (p[n] == ' ')) {
        n = strcspn(p, " ");
        if (equal_names(p, n, name, len)) {
            return true;
        }
    }
    return psl != NULL && psl->text != NULL && psl_says_suffix(name, len, psl);
}

/* ---- host matching ---- */

/* *.rest against the host: the wildcard is the whole leftmost label and
 * stands for exactly one non-empty label. */
static ap_x509_match_t wildcard_match(const char *pat, size_t plen, const ap_x509_host_t *h,
                                      const ap_x509_psl_t *psl)
{
    const char *rest = pat + 2;
    size_t rlen = plen - 2;
    const char *hdot = memchr(h->dns, '.', h->dns_len);
    size_t hrest;

    if (memchr(rest, '*', rlen) != NULL || hdot == NULL || hdot == h->dns) {
        return AP_X509_NO_MATCH;
    }
    hrest = h->dns_len - (size_t)(hdot + 1 - h->dns);
    if (!equal_names(rest, rlen, hdot + 1, hrest)) {
        return AP_X509_NO_MATCH;
    }
    return ap_x509_is_public_suffix(rest, rlen, psl) ? AP_X509_MATCH_WILDCARD_PUBLIC_SUFFIX
                                                     : AP_X509_MATCH;
}

static ap_x509_match_t dns_match(const ap_der_t *v, const ap_x509_host_t *h,
                                 const ap_x509_psl_t *psl)
{
    const char *pat = (const char *)v->p;
    size_t plen = ap_der_left(v);

    if (plen > 2 && pat[0] == '*' && pat[1] == '.') {
        return wildcard_match(pat, plen, h, psl);
    }
    if (memchr(pat, '*', plen) != NULL) {
        return AP_X509_NO_MATCH; /* partial-label wildcards (f*.example) never match */
    }
    return equal_names(pat, plen, h->dns, h->dns_len) ? AP_X509_MATCH : AP_X509_NO_MATCH;
}

ap_x509_match_t ap_x509_match_host(const ap_der_t *san, const ap_x509_host_t *host,
                                   const ap_x509_psl_t *psl)
{
    ap_der_t it = *san;
    ap_der_t v;
    unsigned kind;
    ap_x509_match_t best = AP_X509_NO_MATCH;

    while (ap_x509_next_name(&it, &kind, &v)) {
        if (host->is_ip && kind == AP_GN_IP) {
            if (ap_der_equals(&v, host->ip, host->ip_len)) {
                return AP_X509_MATCH;
            }
        } else if (host->is_ip && kind == AP_GN_DNS) {
            if (equal_names((const char *)v.p, ap_der_left(&v), host->dns, host->dns_len)) {
                best = AP_X509_MATCH_DNS_FOR_IP;
            }
        } else if (!host->is_ip && kind == AP_GN_DNS) {
            ap_x509_match_t m = dns_match(&v, host, psl);

            if (m == AP_X509_MATCH) {
                return m;
            }
            if (m != AP_X509_NO_MATCH) {
                best = m;
            }
        }
    }
    return best;
}

bool ap_x509_match_by_wildcard(const ap_der_t *san, const ap_x509_host_t *host)
{
    ap_der_t it = *san;
    ap_der_t v;
    unsigned kind;
    bool wildcard = false;

    if (host->is_ip) {
        return false; /* addresses match as bytes, never by a pattern */
    }
    while (ap_x509_next_name(&it, &kind, &v)) {
        const char *pat = (const char *)v.p;
        size_t plen = ap_der_left(&v);

        if (kind != AP_GN_DNS || dns_match(&v, host, NULL) == AP_X509_NO_MATCH) {
            continue;
        }
        if (plen > 2 && pat[0] == '*') {
            wildcard = true;
        } else {
            return false; /* the host itself is listed */
        }
    }
    return wildcard;
}

/* ---- name constraints ---- */

/* RFC 5280 4.2.1.10 as practised: "example.com" covers itself and every name
 * under it, ".example.com" only names under it, "" everything. */
static bool dns_within(const ap_der_t *name, const ap_der_t *base)
{
    const char *n = (const char *)name->p;
    const char *b = (const char *)base->p;
    size_t nlen = ap_der_left(name);
    size_t blen = ap_der_left(base);

    if (blen == 0) {
        return true;
    }
    if (b[0] == '.') {
        return nlen > blen && same_text(n + nlen - blen, b, blen);
    }
    if (nlen == blen) {
        return same_text(n, b, blen);
    }
    return nlen > blen && n[nlen - blen - 1] == '.' && same_text(n + nlen - blen, b, blen);
}

/* Could *.Z stand for a name that the excluded base covers? Besides the plain
 * case (Z under the base), the base may be one label under Z: "*.example.com"
 * covers "bad.example.com". */
static bool wildcard_hits_excluded(const ap_der_t *name, const ap_der_t *base)
{
    const char *n = (const char *)name->p;
    const char *b = (const char *)base->p;
    size_t nlen = ap_der_left(name);
    size_t blen = ap_der_left(base);
    const char *bdot;
    size_t brest;

    if (dns_within(name, base)) {
        return true;
    }
    if (nlen < 3 || n[0] != '*' || n[1] != '.' || blen == 0 || b[0] == '.') {
        return false;
    }
    bdot = memchr(b, '.', blen);
    if (bdot == NULL || bdot == b) {
        return false;
    }
    brest = blen - (size_t)(bdot + 1 - b);
    return equal_names(bdot + 1, brest, n + 2, nlen - 2);
}

static bool ip_within(const ap_der_t *ip, const ap_der_t *base)
{
    size_t n = ap_der_left(ip);
    size_t i;

    if (ap_der_left(base) != 2 * n) {
        return false; /* an IPv4 constraint says nothing about IPv6, and back */
    }
    for (i = 0; i < n; i++) {
        uint8_t mask = base->p[n + i];

        if ((ip->p[i] & mask) != (base->p[i] & mask)) {
            return false;
        }
    }
    return true;
}

static bool name_within(unsigned kind, const ap_der_t *name, const ap_der_t *base, bool excluded)
{
    if (kind == AP_GN_DNS) {
        return excluded ? wildcard_hits_excluded(name, base) : dns_within(name, base);
    }
    return ip_within(name, base);
}

/* Kinds (bit per AP_GN_*) present in a list of subtrees. */
static unsigned subtree_kinds(ap_der_t list)
{
    unsigned kinds = 0;
    unsigned kind;
    ap_der_t v;

    while (ap_x509_next_subtree(&list, &kind, &v)) {
        kinds |= 1u << kind;
    }
    return kinds;
}

static bool any_within(ap_der_t list, unsigned kind, const ap_der_t *name, bool excluded)
{
    unsigned k;
    ap_der_t v;

    while (ap_x509_next_subtree(&list, &k, &v)) {
        if (k == kind && name_within(kind, name, &v, excluded)) {
            return true;
        }
    }
    return false;
}

ap_x509_nc_result_t ap_x509_nc_check(const ap_x509_exts_t *ca, const ap_der_t *leaf_san,
                                     unsigned *offending_kind, ap_der_t *offending)
{
    unsigned permitted_kinds;
    unsigned constrained;
    ap_der_t it = *leaf_san;
    ap_der_t v;
    unsigned kind;

    *offending = ap_der_span(NULL, 0);
    *offending_kind = 0;
    if (!ca->has_nc) {
        return AP_X509_NC_OK;
    }
    permitted_kinds = subtree_kinds(ca->nc_permitted);
    constrained = permitted_kinds | subtree_kinds(ca->nc_excluded);
    while (ap_x509_next_name(&it, &kind, &v)) {
        *offending = v;
        *offending_kind = kind;
        if (kind != AP_GN_DNS && kind != AP_GN_IP) {
            if (constrained & (1u << kind)) {
                return AP_X509_NC_UNCHECKABLE;
            }
            continue;
        }
        if (any_within(ca->nc_excluded, kind, &v, true)) {
            return AP_X509_NC_EXCLUDED;
        }
        if ((permitted_kinds & (1u << kind)) && !any_within(ca->nc_permitted, kind, &v, false)) {
            return AP_X509_NC_NOT_PERMITTED;
        }
    }
    *offending = ap_der_span(NULL, 0);
    return AP_X509_NC_OK;
}
