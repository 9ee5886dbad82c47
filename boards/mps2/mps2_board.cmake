# The MPS2 board table, CMake side. Include it before any target is
# created (at the top of a firmware build) with AP_BOARD set to one of
# mps2-an385, mps2-an386, mps2-an500. It sets
#   AP_MPS2_BOARD_DIR     the board's folder (board.c, memory.ld, board.cmake)
#   AP_MPS2_CPU_FLAGS     -mcpu/-mthumb/-mfloat-abi for every object
#   AP_MPS2_QEMU_MACHINE  the qemu-system-arm -M value
# and adds the CPU flags to compilation and linking from the including
# directory down, so every library of the image (lwIP, Mbed TLS, the core)
# is built for the same CPU and ABI.
include_guard(GLOBAL)

set(AP_MPS2_BOARDS mps2-an385 mps2-an386 mps2-an500)
set(AP_BOARD "mps2-an385" CACHE STRING "MPS2 board to build for (${AP_MPS2_BOARDS})")
set_property(CACHE AP_BOARD PROPERTY STRINGS ${AP_MPS2_BOARDS})
if(NOT AP_BOARD IN_LIST AP_MPS2_BOARDS)
  message(FATAL_ERROR "AP_BOARD='${AP_BOARD}' is not an MPS2 board; choose one of ${AP_MPS2_BOARDS}")
endif()

string(REPLACE "mps2-" "" _ap_mps2_short "${AP_BOARD}")
set(AP_MPS2_BOARD_DIR "${CMAKE_CURRENT_LIST_DIR}/${_ap_mps2_short}")
include("${AP_MPS2_BOARD_DIR}/board.cmake")

add_compile_options(${AP_MPS2_CPU_FLAGS})
# Debug information costs no flash (it is not loaded) and lets the footprint
# target name the source of every symbol, also after link-time optimisation.
add_compile_options(-g)
add_link_options(${AP_MPS2_CPU_FLAGS})

# Link-time optimisation of the whole image (lwIP, Mbed TLS, the core and
# the board in one optimisation unit): about 10 KiB less flash for
# alert_poster, which needs it to fit 128 KiB. Functions only newlib or
# assembly call are marked "used" in the board for it. OFF gives per-
# component numbers in the footprint target (with LTO the map file can no
# longer tell which library a function came from) at the cost of the flash.
option(AP_MPS2_LTO "Link-time optimisation of the MPS2 firmware" ON)
if(AP_MPS2_LTO)
  cmake_policy(SET CMP0069 NEW)
  set(CMAKE_INTERPROCEDURAL_OPTIMIZATION ON)
  # Objects carry machine code too ("fat"), so the footprint target can link
  # the same image without LTO and read RAM per component from its map.
  add_compile_options(-ffat-lto-objects)
  # The whole image in one partition: GCC then merges identical functions
  # and propagates constants across all of it (0.5 KiB less flash than the
  # default partitioning; the link takes a second longer).
  add_link_options(-flto-partition=one)
endif()

# The firmware profile, one set of sizes for the whole image:
#   full  Mbed TLS's standard 16 KiB input records and a 32 KiB pool
#   lean  alerts over TLS 1.2 to a server with an ECDSA P-256 chain: no
#         TLS 1.3, no RSA, no mutual TLS; 4 KiB input records (the client
#         asks servers for small ones with max_fragment_length;
#         cmake/mbedtls/mps2-3.6-lean.h says which servers honour it), an
#         18 KiB pool, and the queue in RAM (AP_MPS2_STORE below)
# Both read their DER trust anchors in place from flash (common/anchors.h).
# Every library of the image sees AP_MPS2_PROFILE_LEAN; the top level picks
# the Mbed TLS configuration by it.
# ap_mps2_choice(<var> <doc> <default> <choice>...): a cache string that
# must be one of the choices, the default first.
function(ap_mps2_choice var doc)
  set(_choices ${ARGN})
  list(GET _choices 0 _default)
  set(${var} "${_default}" CACHE STRING "${doc} (${_choices})")
  set_property(CACHE ${var} PROPERTY STRINGS ${_choices})
  if(NOT ${var} IN_LIST _choices)
    message(FATAL_ERROR "${var}='${${var}}': choose one of ${_choices}")
  endif()
endfunction()

ap_mps2_choice(AP_MPS2_PROFILE "MPS2 firmware profile" full lean)
if(AP_MPS2_PROFILE STREQUAL "lean")
  add_compile_definitions(AP_MPS2_PROFILE_LEAN=1)
endif()

# Where alert_poster's delivery queue keeps its alerts (apps/alert_store.h):
#   flash  the core's flash log over the board's flash (a host file through
#          semihosting): alerts outlive a reset; the full profile's default
#   ram    the core's RAM ring, 2 KiB: an alert that cannot be sent now
#          waits for the next attempt, and what is left when the run ends is
#          reported as not delivered; for a device with no flash to spare
#          (4.1 KiB less flash), the lean profile's default
if(AP_MPS2_PROFILE STREQUAL "lean")
  ap_mps2_choice(AP_MPS2_STORE "Store of the MPS2 firmware's delivery queue" ram flash)
else()
  ap_mps2_choice(AP_MPS2_STORE "Store of the MPS2 firmware's delivery queue" flash ram)
endif()

# Mutual TLS in the firmware (the device identity of common/identity.h, the
# core's client certificates): OFF leaves both out, about 5.7 KiB of flash
# and 0.6 KiB of RAM, for a device whose servers never ask for a client
# certificate (boards/mps2/ap_mps2_config.h turns the define into the core's
# AP_CLIENT_IDENTITY). Every library of the image sees it. The lean profile
# has none: a server that requires a client certificate refuses it (exit 13).
if(AP_MPS2_PROFILE STREQUAL "lean")
  if(AP_MPS2_CLIENT_IDENTITY)
    message(STATUS "mps2: the lean profile has no mutual TLS: AP_MPS2_CLIENT_IDENTITY set OFF")
  endif()
  set(AP_MPS2_CLIENT_IDENTITY OFF CACHE BOOL
      "Mutual TLS (a device certificate and key) in the MPS2 firmware" FORCE)
else()
  option(AP_MPS2_CLIENT_IDENTITY "Mutual TLS (a device certificate and key) in the MPS2 firmware" ON)
endif()
if(NOT AP_MPS2_CLIENT_IDENTITY)
  add_compile_definitions(AP_MPS2_CLIENT_IDENTITY=0)
endif()

# Session resumption across the firmware's connections (the core's
# resume_sessions): TLS 1.2 session tickets and IDs, TLS 1.3 tickets with a
# fresh ECDHE share. OFF by default: it costs flash the full profile does
# not have under its 128 KiB budget (boards/mps2/README.md gives the cost).
option(AP_MPS2_RESUMPTION "TLS session resumption in the MPS2 firmware (session tickets)" OFF)
if(AP_MPS2_RESUMPTION)
  add_compile_definitions(AP_MPS2_RESUMPTION=1)
endif()

# The Mbed TLS pool's high-water mark in the firmware's closing report
# (MBEDTLS_MEMORY_DEBUG): for sizing the pool, not for a product image.
# OFF saves 0.7 KiB of flash; the stack and heap lines stay.
option(AP_MPS2_POOL_STATS "Report the Mbed TLS pool's high-water mark (MBEDTLS_MEMORY_DEBUG)" OFF)
if(AP_MPS2_POOL_STATS)
  add_compile_definitions(AP_MPS2_POOL_STATS=1)
endif()
