/*
 * Fuzz target for nameConstraints parsing and checking
 * (core/src/tls/ap_x509_ext.c, ap_x509_names.c).
 *
 * Input: two bytes (big-endian) giving the length n of a nameConstraints
 * extension value, those n bytes, then a subjectAltName value for the leaf.
 * An accepted extension must iterate cleanly, hold only CIDR masks for
 * addresses, and judging any accepted leaf against it must give one of the
 * defined outcomes, naming a leaf name (inside the input) when it refuses.
 * A violation aborts.
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

static void ap_fuzz_check_subtrees(const uint8_t *data, size_t size, ap_der_t list)
{
    ap_der_t v;
    unsigned kind;

    while (ap_der_left(&list) > 0) {
        ap_fuzz_require(ap_x509_next_subtree(&list, &kind, &v));
        ap_fuzz_require(v.p >= data && v.end <= data + size);
        if (kind == AP_GN_IP) {
            ap_fuzz_require(ap_der_left(&v) == 8 || ap_der_left(&v) == 32);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ap_x509_exts_t ca;
    ap_x509_exts_t leaf;
    ap_x509_nc_result_t r;
    ap_der_t bad;
    unsigned kind;
    size_t n;

    if (size < 2) {
        return 0;
    }
    n = ((size_t)data[0] << 8) | data[1];
    if (n > size - 2) {
        n = size - 2;
    }
    if (ap_x509_nc_parse(data + 2, n, &ca) != AP_X509_EXT_OK) {
        return 0;
    }
    ap_fuzz_require(ca.has_nc);
    ap_fuzz_require(ap_der_left(&ca.nc_permitted) + ap_der_left(&ca.nc_excluded) > 0);
    ap_fuzz_check_subtrees(data, size, ca.nc_permitted);
    ap_fuzz_check_subtrees(data, size, ca.nc_excluded);
    if (ap_x509_san_parse(data + 2 + n, size - 2 - n, &leaf) != AP_X509_EXT_OK) {
        return 0;
    }
    r = ap_x509_nc_check(&ca, &leaf.san, &kind, &bad);
    ap_fuzz_require(r == AP_X509_NC_OK || r == AP_X509_NC_NOT_PERMITTED ||
                    r == AP_X509_NC_EXCLUDED || r == AP_X509_NC_UNCHECKABLE);
    if (r == AP_X509_NC_OK) {
        ap_fuzz_require(bad.p == NULL);
    } else {
        ap_fuzz_require(bad.p >= leaf.san.p && bad.end <= leaf.san.end);
    }
    return 0;
}
