/*
 * Fuzz target for the trust-store scanner (core/src/tls/ap_anchor_scan.c).
 *
 * The input is a whole trust store, PEM or DER as ap_anchor_iter_init()
 * decides. Whatever it holds, the walk must stay inside it and end; every
 * span it reports must lie within the input; a framing it accepts must put
 * the subject inside the certificate; Name equality must be reflexive and
 * symmetric on every subject found. A violation aborts.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tls/ap_anchor_scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ap_fuzz_require(bool ok)
{
    if (!ok) {
        abort();
    }
}

/* The subject of the certificate at der (len bytes), if its framing holds. */
static bool subject_of(const uint8_t *der, size_t len, const uint8_t **subj, size_t *subj_len)
{
    ap_anchor_shape_t s;

    if (ap_anchor_shape(der, len, &s) != AP_ANCHOR_SHAPE_OK) {
        return false;
    }
    ap_fuzz_require(s.subject_off < len && s.subject_len <= len - s.subject_off);
    ap_fuzz_require(s.tbs_end <= s.cert_len && s.subject_off + s.subject_len <= s.tbs_end);
    if (s.cert_len <= len) {
        (void)ap_anchor_tail_ok(der + s.tbs_end, len - s.tbs_end, &s);
    }
    *subj = der + s.subject_off;
    *subj_len = s.subject_len;
    return true;
}

static void check_names(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    int ab = ap_anchor_name_equal(a, a_len, b, b_len);
    int ba = ap_anchor_name_equal(b, b_len, a, a_len);
    int aa = ap_anchor_name_equal(a, a_len, a, a_len);

    ap_fuzz_require(ab >= -1 && ab <= 1 && ba >= -1 && ba <= 1);
    ap_fuzz_require(aa != 0);
    if (ab >= 0 && ba >= 0) {
        ap_fuzz_require(ab == ba);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t der[8192];
    static uint8_t first[8192];
    size_t first_len = 0;
    ap_anchor_iter_t it;
    ap_anchor_ref_t ref;
    unsigned steps = 0;

    ap_anchor_iter_init(&it, data, size);
    while (ap_anchor_next(&it, &ref) == AP_ANCHOR_NEXT_OK) {
        const uint8_t *p = ref.der;
        size_t len = ref.der_len;
        const uint8_t *subj;
        size_t subj_len;

        ap_fuzz_require(++steps <= size);
        if (p != NULL) {
            ap_fuzz_require(p >= data && len <= size && p + len <= data + size && len > 0);
        } else {
            const char *b = ref.b64;
            bool bad = false;

            ap_fuzz_require(ref.b64 >= (const char *)data && ref.b64_end >= ref.b64 &&
                            ref.b64_end <= (const char *)data + size);
            len = ap_anchor_b64_decode(&b, ref.b64_end, der, sizeof der, &bad);
            ap_fuzz_require(len <= sizeof der && b >= ref.b64 && b <= ref.b64_end);
            (void)ap_anchor_b64_length_is(ref.b64, ref.b64_end, len);
            p = der;
        }
        if (!subject_of(p, len, &subj, &subj_len)) {
            continue;
        }
        if (first_len == 0) {
            memcpy(first, subj, subj_len);
            first_len = subj_len;
        }
        check_names(first, first_len, subj, subj_len);
    }
    return 0;
}
