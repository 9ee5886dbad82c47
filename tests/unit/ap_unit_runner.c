/*
 * Honest counts for the cmocka executables.
 *
 * cmocka's skip() marks a case skipped, yet the executable still exits 0,
 * so ctest would count a test that did not run as Passed. ap_unit_test()
 * links every unit test with -Wl,--wrap for _cmocka_run_group_tests and
 * _skip, which lands the calls here:
 *
 *  - a group with a skipped case and no failure returns 77, which ctest
 *    reports as SKIPPED (SKIP_RETURN_CODE 77); any failure returns 1;
 *  - with AP_UNIT_CASE=<name> in the environment only the case of that
 *    name runs (ap_unit_test(... SPLIT) registers every case of an
 *    executable as its own ctest test this way, so one case that cannot run
 *    on a machine is one skipped test, not a whole executable); a name that
 *    matches no case of the group fails, so a renamed case cannot turn into
 *    a test that runs nothing.
 *
 * Test code is unchanged: it calls cmocka_run_group_tests() and skip() as
 * cmocka documents them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AP_UNIT_SKIP_STATUS 77

/* --wrap's names are fixed by the linker: __wrap_<symbol>, __real_<symbol>. */
/* NOLINTBEGIN(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
int __real__cmocka_run_group_tests(const char *group_name, const struct CMUnitTest *tests,
                                   size_t count, CMFixtureFunction group_setup,
                                   CMFixtureFunction group_teardown);
int __wrap__cmocka_run_group_tests(const char *group_name, const struct CMUnitTest *tests,
                                   size_t count, CMFixtureFunction group_setup,
                                   CMFixtureFunction group_teardown);
void __real__skip(const char *file, int line);
void __wrap__skip(const char *file, int line);

static unsigned ap_unit_skipped;

void __wrap__skip(const char *file, int line)
{
    ap_unit_skipped++;
    __real__skip(file, line);
}

int __wrap__cmocka_run_group_tests(const char *group_name, const struct CMUnitTest *tests,
                                   size_t count, CMFixtureFunction group_setup,
                                   CMFixtureFunction group_teardown)
{
    const char *only = getenv("AP_UNIT_CASE");
    int failed;

    ap_unit_skipped = 0;
    if (only != NULL && only[0] != '\0') {
        size_t i;

        for (i = 0; i < count && strcmp(tests[i].name, only) != 0; i++) {
        }
        if (i == count) {
            (void)fprintf(stderr,
                          "AP_UNIT_CASE=%s: no such case in group %s; the case was renamed "
                          "or removed, so configure the build again to update the tests\n",
                          only, group_name);
            return 1;
        }
        failed = __real__cmocka_run_group_tests(group_name, &tests[i], 1, group_setup,
                                                group_teardown);
    } else {
        failed = __real__cmocka_run_group_tests(group_name, tests, count, group_setup,
                                                group_teardown);
    }
    if (failed != 0) {
        /* cmocka returns the number of failures: 77 of them must not read
         * as a skip. */
        return 1;
    }
    if (ap_unit_skipped > 0) {
        (void)fprintf(stderr, "%u case(s) skipped: reporting the test as skipped (exit %d)\n",
                      ap_unit_skipped, AP_UNIT_SKIP_STATUS);
        return AP_UNIT_SKIP_STATUS;
    }
    return 0;
}
/* NOLINTEND(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
