# cmake -DCTEST=<ctest> -DDIR=<firmware build tree> -P ApBoardSuite.cmake
#
# Runs one firmware variant's QEMU suite (ctest -L qemu in its tree) for
# the host test boards.<variant>.qemu. ctest itself exits 0 when tests were
# skipped, which would report a suite that did not run (the SNTP cases
# without root, say) as passed; so a suite that passed with any test
# skipped prints the marker line below, which the host test takes as
# skipped (SKIP_REGULAR_EXPRESSION). A failure is a failure either way:
# the marker is printed only when every test that ran passed.
execute_process(
  COMMAND "${CTEST}" --test-dir "${DIR}" -L qemu -j2 --output-on-failure --timeout 240
  RESULT_VARIABLE _rc
  OUTPUT_VARIABLE _out
  ERROR_VARIABLE _out)
message("${_out}")
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "QEMU suite in ${DIR} failed (ctest exit ${_rc})")
endif()
if(_out MATCHES "\\(Skipped\\)")
  message("AP_BOARD_SUITE_SKIPPED: some QEMU tests in ${DIR} did not run (see above)")
endif()
