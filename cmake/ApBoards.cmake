# The firmware, built from the host build: each MPS2 board is its own cross
# build tree (ExternalProject, with cmake/arm-none-eabi.cmake) under
# <build>/boards/<board>, and its QEMU suite runs as one host test,
# boards.<board>.qemu (label qemu), that runs `ctest -L qemu` in that tree.
# Skipped, with a message, where the cross compiler or QEMU is missing.
include(ExternalProject)

set(ALERTPOST_BOARDS "mps2-an385;mps2-an386" CACHE STRING
    "MPS2 boards the host build also cross-builds and tests under QEMU ('' for none)")

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
  foreach(board IN LISTS ALERTPOST_BOARDS)
    set(_bin "${CMAKE_BINARY_DIR}/boards/${board}")
    ExternalProject_Add(firmware-${board}
      SOURCE_DIR "${PROJECT_SOURCE_DIR}"
      BINARY_DIR "${_bin}"
      CMAKE_GENERATOR "${CMAKE_GENERATOR}"
      CMAKE_ARGS
        "-DCMAKE_TOOLCHAIN_FILE=${PROJECT_SOURCE_DIR}/cmake/arm-none-eabi.cmake"
        "-DAP_BOARD=${board}"
        "-DALERTPOST_MBEDTLS3_SOURCE_DIR=${ALERTPOST_MBEDTLS3_SOURCE_DIR}"
        "-DALERTPOST_LWIP_SOURCE_DIR=${ALERTPOST_LWIP_SOURCE_DIR}"
      BUILD_ALWAYS ON
      INSTALL_COMMAND ""
      TEST_COMMAND "")
    add_test(NAME boards.${board}.qemu
      COMMAND ${CMAKE_CTEST_COMMAND} --test-dir "${_bin}" -L qemu -j2 --output-on-failure
              --timeout 240)
    set_tests_properties(boards.${board}.qemu PROPERTIES LABELS "qemu;boards" TIMEOUT 900)
  endforeach()
endfunction()
