# Stands in for a test whose tool is missing, so that the test shows up in
# ctest's count instead of vanishing: skipped on a developer's machine, failed
# in CI (env CI=true), where cmake/setup.sh installs every tool and a missing
# one means the setup is broken. Used through ap_missing_tool_test()
# (tests/CMakeLists.txt).
#
#   cmake -DTOOL=<program> -DWHAT=<what cannot run> -P missing_tool.cmake
#
# The skip is reported by the output (SKIP_REGULAR_EXPRESSION "SKIPPED: "),
# which the failure text must therefore never contain.
string(TOLOWER "$ENV{CI}" _ap_ci)
if(_ap_ci MATCHES "^(true|1|yes|on)$")
  message(FATAL_ERROR
    "CI=$ENV{CI}: ${TOOL} is missing, so ${WHAT} cannot run. In CI that is a failure: "
    "cmake/setup.sh installs ${TOOL}; check that it ran and succeeded.")
endif()
message("SKIPPED: ${TOOL} is missing, so ${WHAT} cannot run. "
        "Run cmake/setup.sh (or install ${TOOL}) and configure again.")
