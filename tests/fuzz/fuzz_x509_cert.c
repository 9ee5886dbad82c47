/*
 * Fuzz target for a whole certificate as alertpost reads it: Mbed TLS 3.6's
 * parser with the trust-anchor extension callback (ap_x509_anchor_ext_cb),
 * alertpost's own extension reader (ap_x509_exts_parse) on the same bytes,
 * and, for a certificate that parses, the rules (ap_x509_check_path) with it
 * as leaf and anchor at once.
 *
 * Whatever the input, nothing may read outside it, the rules must answer
 * AP_OK or AP_ERR_TLS_CERT with a NUL-terminated reason, and a certificate
 * that alertpost's reader refuses must never pass the rules. A violation
 * aborts.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tls/ap_x509_rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ap_fuzz_require(bool ok)
{
    if (!ok) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const hosts[] = {"localhost", "127.0.0.1", "a.example.test"};
    static bool psa_ready;
    mbedtls_x509_crt crt;
    const mbedtls_x509_crt *path[1];
    ap_x509_exts_t e;
    ap_x509_ext_error_t ext;
    char why[AP_X509_REASON_SIZE];
    size_t i;

    if (!psa_ready) {
        ap_fuzz_require(ap_compat_crypto_init() == 0);
        psa_ready = true;
    }
    ext = ap_x509_exts_parse(data, size, &e);
    mbedtls_x509_crt_init(&crt);
    if (mbedtls_x509_crt_parse_der_with_ext_cb(&crt, data, size, 1, ap_x509_anchor_ext_cb,
                                               NULL) == 0) {
        path[0] = &crt;
        for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
            ap_status_t st;

            memset(why, 'x', sizeof(why));
            st = ap_x509_check_path(path, 1, &crt, hosts[i], NULL, why, sizeof(why));
            ap_fuzz_require(st == AP_OK || st == AP_ERR_TLS_CERT);
            ap_fuzz_require(memchr(why, '\0', sizeof(why)) != NULL);
            ap_fuzz_require(st != AP_OK || ext == AP_X509_EXT_OK);
        }
    }
    mbedtls_x509_crt_free(&crt);
    return 0;
}
