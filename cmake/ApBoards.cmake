# The firmware, built from the host build: each firmware variant is its own
# cross build tree (ExternalProject, with cmake/arm-none-eabi.cmake) under
# <build>/boards/<variant>, and its QEMU suite runs as one host test,
# boards.<variant>.qemu (labels qemu, boards), that runs `ctest -L qemu` in
# that tree (cmake/ApBoardSuite.cmake: skipped if any of its tests was). Skipped, with a message, where the cross compiler or QEMU is
# missing.
#
# ALERTPOST_BOARDS is a list of variants, each
#
#   <board>[:<option>]...
#
# <board> is an MPS2 board of boards/mps2/mps2_board.cmake (mps2-an385,
# mps2-an386, mps2-an500). With no option a variant is the default firmware:
# Mbed TLS 3.6 (ALERTPOST_MBEDTLS3_SOURCE_DIR, cmake/mbedtls/mps2-3.6.h) and
# lwIP from ALERTPOST_LWIP_SOURCE_DIR (2.2). Options change one part:
#
#   mbedtls2   Mbed TLS 2.28 (ALERTPOST_MBEDTLS2_SOURCE_DIR,
#              cmake/mbedtls/mps2-2.28.h): TLS 1.2 only, for fleets on 2.28
#   lwip21     lwIP 2.1 (ALERTPOST_LWIP21_SOURCE_DIR)
#   lean       the lean profile (AP_MPS2_PROFILE=lean; Mbed TLS 3.6 only): TLS 1.2
#              only, ECDSA P-256 chains only (no RSA), no mutual TLS, 4 KiB
#              input records asked for with max_fragment_length, a smaller
#              pool, the delivery queue in RAM (AP_MPS2_STORE=ram), DER
#              trust anchors in flash
#   resume     session resumption across connections (AP_MPS2_RESUMPTION=ON:
#              session tickets), with its QEMU cases resume12 and resume13
#   sntp       the wall clock from SNTP instead of semihosting
#              (AP_MPS2_TIME=sntp); its QEMU suite is the SNTP cases of
#              tests/qemu/sntp_case.py (TAP in a network namespace), not
#              the alert and queue cases, which need the host's clock
#
# A variant's name, used for its folder, its ExternalProject target
# (firmware-<name>) and its test, is the entry with each ':' turned into '-':
# "mps2-an385:mbedtls2" builds in <build>/boards/mps2-an385-mbedtls2 and is
# tested by boards.mps2-an385-mbedtls2.qemu. A plain board keeps its own name
# (<build>/boards/mps2-an385/alert_poster.elf is what the demo runs). A
# variant whose source tree is set to '' is skipped with a message.
#
# The default set covers every board once and each option once, on an385
# (sntp also with lwip21, whose SNTP client is older code);
# each variant costs about 15 s of cross build (the first time) and 10 s of
# QEMU tests, which keeps the QEMU part of the test workflow under two
# minutes on two cores. Example, everything:
#   -DALERTPOST_BOARDS="mps2-an385;mps2-an386;mps2-an500;mps2-an385:mbedtls2;mps2-an500:mbedtls2;mps2-an385:lwip21;mps2-an385:mbedtls2:lwip21"
include(ExternalProject)

set(_ap_boards_default
    "mps2-an385;mps2-an386;mps2-an500;mps2-an385:mbedtls2;mps2-an385:lwip21;mps2-an385:sntp;mps2-an385:lwip21:sntp;mps2-an385:lean;mps2-an385:resume")
# A tree configured earlier follows a new default unless its ALERTPOST_BOARDS
# was changed (trees from before variants had "mps2-an385;mps2-an386").
if(NOT DEFINED AP_BOARDS_LAST_DEFAULT)
  set(AP_BOARDS_LAST_DEFAULT "mps2-an385;mps2-an386")
endif()
# (A value given with -D on the command line has no type yet: it is kept.)
if(DEFINED CACHE{ALERTPOST_BOARDS})
  get_property(_ap_boards_type CACHE ALERTPOST_BOARDS PROPERTY TYPE)
  if(_ap_boards_type STREQUAL "STRING" AND "${ALERTPOST_BOARDS}" STREQUAL "${AP_BOARDS_LAST_DEFAULT}")
    set_property(CACHE ALERTPOST_BOARDS PROPERTY VALUE "${_ap_boards_default}")
  endif()
endif()
set(AP_BOARDS_LAST_DEFAULT "${_ap_boards_default}" CACHE INTERNAL "ALERTPOST_BOARDS's default")
set(ALERTPOST_BOARDS "${_ap_boards_default}" CACHE STRING
    "MPS2 firmware variants (<board>[:mbedtls2][:lwip21][:sntp][:lean][:resume]) the host build also cross-builds and tests under QEMU ('' for none)")

# ap_board_variant(<entry> <name-var> <board-var> <args-var>): parses one
# ALERTPOST_BOARDS entry into its name, board and the cross build's cache
# arguments; <name-var> is left empty when the variant must be skipped.
function(ap_board_variant entry name_var board_var args_var)
  string(REPLACE ":" ";" _parts "${entry}")
  list(POP_FRONT _parts _board)
  string(REPLACE "mps2-" "" _short "${_board}")
  if(NOT _board MATCHES "^mps2-" OR NOT EXISTS "${PROJECT_SOURCE_DIR}/boards/mps2/${_short}/board.cmake")
    message(FATAL_ERROR
      "ALERTPOST_BOARDS: '${entry}' does not start with an MPS2 board of boards/mps2/ (mps2-an385, ...)")
  endif()
  set(_mbedtls 3)
  set(_time semihost)
  set(_profile full)
  set(_resume OFF)
  set(_lwip "${ALERTPOST_LWIP_SOURCE_DIR}")
  set(_skip "")
  foreach(_opt IN LISTS _parts)
    if(_opt STREQUAL "mbedtls2")
      set(_mbedtls 2)
      if(NOT ALERTPOST_MBEDTLS2_SOURCE_DIR)
        set(_skip "ALERTPOST_MBEDTLS2_SOURCE_DIR is ''")
      endif()
    elseif(_opt STREQUAL "lwip21")
      set(_lwip "${ALERTPOST_LWIP21_SOURCE_DIR}")
      if(NOT ALERTPOST_LWIP21_SOURCE_DIR)
        set(_skip "ALERTPOST_LWIP21_SOURCE_DIR is ''")
      endif()
    elseif(_opt STREQUAL "sntp")
      set(_time sntp)
    elseif(_opt STREQUAL "lean")
      set(_profile lean)
    elseif(_opt STREQUAL "resume")
      set(_resume ON)
    else()
      message(FATAL_ERROR
        "ALERTPOST_BOARDS: '${entry}' has option '${_opt}'; the options are mbedtls2, lwip21, sntp, lean and resume")
    endif()
  endforeach()
  string(REPLACE ":" "-" _name "${entry}")
  if(_skip)
    message(STATUS "boards: ${_name} skipped (${_skip})")
    set(_name "")
  endif()
  set(${name_var} "${_name}" PARENT_SCOPE)
  set(${board_var} "${_board}" PARENT_SCOPE)
  set(${args_var}
    "-DAP_BOARD=${_board}"
    "-DALERTPOST_FIRMWARE_MBEDTLS=${_mbedtls}"
    "-DALERTPOST_MBEDTLS3_SOURCE_DIR=${ALERTPOST_MBEDTLS3_SOURCE_DIR}"
    "-DALERTPOST_MBEDTLS2_SOURCE_DIR=${ALERTPOST_MBEDTLS2_SOURCE_DIR}"
    "-DALERTPOST_LWIP_SOURCE_DIR=${_lwip}"
    "-DAP_MPS2_TIME=${_time}"
    "-DAP_MPS2_PROFILE=${_profile}"
    "-DAP_MPS2_RESUMPTION=${_resume}"
    PARENT_SCOPE)
endfunction()

function(ap_add_boards)
  if(NOT ALERTPOST_BOARDS)
    return()
  endif()
  find_program(AP_ARM_GCC arm-none-eabi-gcc)
  find_program(AP_QEMU_ARM qemu-system-arm)
  if(NOT AP_ARM_GCC OR NOT AP_QEMU_ARM)
    message(STATUS "boards: skipped (need arm-none-eabi-gcc and qemu-system-arm; run cmake/setup.sh)")
    return()
  endif()
  set(_seen "")
  foreach(entry IN LISTS ALERTPOST_BOARDS)
    if(entry STREQUAL "")
      continue()
    endif()
    ap_board_variant("${entry}" _name _board _args)
    if(NOT _name)
      continue()
    endif()
    if(_name IN_LIST _seen)
      message(FATAL_ERROR "ALERTPOST_BOARDS: variant '${_name}' is listed twice")
    endif()
    list(APPEND _seen "${_name}")
    set(_bin "${CMAKE_BINARY_DIR}/boards/${_name}")
    ExternalProject_Add(firmware-${_name}
      SOURCE_DIR "${PROJECT_SOURCE_DIR}"
      BINARY_DIR "${_bin}"
      CMAKE_GENERATOR "${CMAKE_GENERATOR}"
      CMAKE_ARGS
        "-DCMAKE_TOOLCHAIN_FILE=${PROJECT_SOURCE_DIR}/cmake/arm-none-eabi.cmake"
        ${_args}
      BUILD_ALWAYS ON
      INSTALL_COMMAND ""
      TEST_COMMAND "")
    # Through ApBoardSuite.cmake, so a suite with skipped tests is reported
    # skipped rather than passed.
    add_test(NAME boards.${_name}.qemu
      COMMAND ${CMAKE_COMMAND} "-DCTEST=${CMAKE_CTEST_COMMAND}" "-DDIR=${_bin}"
              -P "${PROJECT_SOURCE_DIR}/cmake/ApBoardSuite.cmake")
    set_tests_properties(boards.${_name}.qemu PROPERTIES LABELS "qemu;boards" TIMEOUT 900
      SKIP_REGULAR_EXPRESSION "AP_BOARD_SUITE_SKIPPED")
  endforeach()
endfunction()
