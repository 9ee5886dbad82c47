/* ap_status_str(): one distinct phrase per status, "unknown status" beyond. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "alertpost/ap_status.h"

#define FIRST_STATUS AP_OK
#define LAST_STATUS AP_ERR_NOT_SENT

static void test_every_status_has_distinct_phrase(void **state)
{
    int a;
    int b;

    (void)state;
    for (a = (int)FIRST_STATUS; a >= (int)LAST_STATUS; a--) {
        const char *s = ap_status_str((ap_status_t)a);
        assert_non_null(s);
        assert_true(strlen(s) > 0);
        assert_string_not_equal(s, "unknown status");
        for (b = a - 1; b >= (int)LAST_STATUS; b--) {
            assert_string_not_equal(s, ap_status_str((ap_status_t)b));
        }
    }
}

static void test_known_phrases(void **state)
{
    (void)state;
    assert_string_equal(ap_status_str(AP_OK), "ok");
    assert_string_equal(ap_status_str(AP_ERR_TLS_VERSION), "TLS version outside policy");
    assert_string_equal(ap_status_str(AP_ERR_TRUNCATED), "response truncated");
}

static void test_unknown_values(void **state)
{
    (void)state;
    assert_string_equal(ap_status_str((ap_status_t)1), "unknown status");
    assert_string_equal(ap_status_str((ap_status_t)((int)LAST_STATUS - 1)), "unknown status");
    assert_string_equal(ap_status_str((ap_status_t)-1000), "unknown status");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_status_has_distinct_phrase),
        cmocka_unit_test(test_known_phrases),
        cmocka_unit_test(test_unknown_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
