/*
 * Fuzz target for subjectAltName parsing and host matching
 * (core/src/tls/ap_x509_ext.c, ap_x509_names.c).
 *
 * The input is one subjectAltName extension value. Whatever it holds, the
 * parser must stay inside it; an accepted list must iterate to its end with
 * every dNSName printable and every iPAddress 4 or 16 bytes, and matching it
 * against DNS and address hosts must give one of the defined answers. A
 * violation aborts.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "tls/ap_x509_ext.h"
#include "tls/ap_x509_names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ap_fuzz_require(bool ok)
{
    if (!ok) {
        abort();
    }
}

static void ap_fuzz_check_list(const uint8_t *data, size_t size, ap_der_t list)
{
    ap_der_t v;
    unsigned kind;
    const uint8_t *p;

    ap_fuzz_require(list.p >= data && list.end <= data + size);
    while (ap_der_left(&list) > 0) {
        ap_fuzz_require(ap_x509_next_name(&list, &kind, &v));
        ap_fuzz_require(v.p >= data && v.end <= data + size);
        if (kind == AP_GN_DNS) {
            for (p = v.p; p < v.end; p++) {
                ap_fuzz_require(*p > 0x20 && *p < 0x7F);
            }
        }
        if (kind == AP_GN_IP) {
            ap_fuzz_require(ap_der_left(&v) == 4 || ap_der_left(&v) == 16);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const hosts[] = {"localhost", "a.example.test", "x.co.uk", "127.0.0.1",
                                        "::1"};
    static const char psl_text[] = "example.test\n*.wild.test\n!ok.wild.test\n";
    ap_x509_psl_t psl = {psl_text, sizeof(psl_text) - 1};
    ap_x509_exts_t e;
    ap_x509_host_t h;
    size_t i;

    if (ap_x509_san_parse(data, size, &e) != AP_X509_EXT_OK) {
        return 0;
    }
    ap_fuzz_require(e.has_san);
    ap_fuzz_check_list(data, size, e.san);
    for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        ap_x509_match_t m;

        ap_fuzz_require(ap_x509_host_parse(hosts[i], &h));
        m = ap_x509_match_host(&e.san, &h, (i & 1u) ? &psl : NULL);
        ap_fuzz_require(m == AP_X509_MATCH || m == AP_X509_NO_MATCH ||
                        m == AP_X509_MATCH_WILDCARD_PUBLIC_SUFFIX ||
                        m == AP_X509_MATCH_DNS_FOR_IP);
        ap_fuzz_require(!(h.is_ip && m == AP_X509_MATCH_WILDCARD_PUBLIC_SUFFIX));
    }
    return 0;
}
