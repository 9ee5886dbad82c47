# ap_add_mbedtls(TARGET SOURCE_DIR MAJOR USER_CONFIG)
#
# Builds Mbed TLS from a source tree as one static library, compiling every
# library/*.c with the tree's default configuration overlaid by USER_CONFIG
# (MBEDTLS_USER_CONFIG_FILE, read after the defaults) or, for boards, a full
# configuration of the project's (pass it with AP_FULL_CONFIG set).
# Mbed TLS's own build system is not used: this one works unchanged for the
# host and for cross builds, and needs no Python or Perl.
#
# Optional inputs, read when the function is called (unset: nothing added,
# so builds that do not set them are unchanged):
#   AP_MBEDTLS_EXTRA_SOURCES       further .c files compiled into the same
#                                  library with the same configuration,
#                                  e.g. a driver from the tree's 3rdparty/
#                                  (absolute, or relative to SOURCE_DIR)
#   AP_MBEDTLS_EXTRA_INCLUDE_DIRS  include directories those files need
#                                  (private to the library; same rule)
include(GNUInstallDirs)
include("${CMAKE_CURRENT_LIST_DIR}/ApMbedTLSFixes.cmake")
set(AP_MBEDTLS_INSTALL_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}/alertpost-mbedtls")

function(ap_add_mbedtls target source_dir major user_config)
  if(NOT EXISTS "${source_dir}/library/ssl_tls.c")
    message(FATAL_ERROR
      "No Mbed TLS source tree at '${source_dir}'. Run cmake/setup.sh (as root) "
      "to fetch it, or point -D${target}_SOURCE_DIR / ALERTPOST_MBEDTLS*_SOURCE_DIR at one.")
  endif()
  if(major EQUAL 3)
    set(_hdr "${source_dir}/include/mbedtls/build_info.h")
  else()
    set(_hdr "${source_dir}/include/mbedtls/version.h")
  endif()
  file(STRINGS "${_hdr}" _ver REGEX "^#define MBEDTLS_VERSION_STRING ")
  string(REGEX MATCH "\"([0-9.]+)\"" _m "${_ver}")
  set(_found "${CMAKE_MATCH_1}")
  if(NOT _found MATCHES "^${major}\\.")
    message(FATAL_ERROR "${source_dir} holds Mbed TLS ${_found}, expected ${major}.x")
  endif()
  message(STATUS "${target}: Mbed TLS ${_found} from ${source_dir}")

  file(GLOB _srcs "${source_dir}/library/*.c")
  if(major EQUAL 3)
    ap_mbedtls_fix_tls12_pss(${target} "${source_dir}" "${_found}" _srcs)
    ap_mbedtls_fix_tls13_mfl(${target} "${source_dir}" "${_found}" _srcs)
    ap_mbedtls_fix_tls12_groups(${target} "${source_dir}" "${_found}" _srcs)
    if(AP_MBEDTLS_RSA_PUBLIC_ONLY)
      ap_mbedtls_fix_rsa_public_only(${target} "${source_dir}" "${_found}" _srcs)
    endif()
    if(AP_MBEDTLS_NO_PK_SIGN)
      ap_mbedtls_fix_no_pk_sign(${target} "${source_dir}" "${_found}" _srcs)
    endif()
  endif()
  foreach(_extra IN LISTS AP_MBEDTLS_EXTRA_SOURCES)
    get_filename_component(_extra "${_extra}" ABSOLUTE BASE_DIR "${source_dir}")
    if(NOT EXISTS "${_extra}")
      message(FATAL_ERROR "AP_MBEDTLS_EXTRA_SOURCES: no file '${_extra}'")
    endif()
    list(APPEND _srcs "${_extra}")
  endforeach()
  add_library(${target} STATIC ${_srcs})
  foreach(_extra IN LISTS AP_MBEDTLS_EXTRA_INCLUDE_DIRS)
    get_filename_component(_extra "${_extra}" ABSOLUTE BASE_DIR "${source_dir}")
    target_include_directories(${target} PRIVATE "${_extra}")
  endforeach()
  # A fixed public header (ApMbedTLSFixes.cmake) comes before the tree's.
  if(major EQUAL 3)
    ap_mbedtls_fix_premaster(${target} "${source_dir}" "${_found}" _fixed_include)
    if(_fixed_include)
      target_include_directories(${target} SYSTEM BEFORE PUBLIC
        "$<BUILD_INTERFACE:${_fixed_include}>")
    endif()
  endif()
  # Installed (ApInstall.cmake), the headers and the configuration share one
  # private folder, so they cannot shadow another Mbed TLS's.
  target_include_directories(${target} SYSTEM PUBLIC
    "$<BUILD_INTERFACE:${source_dir}/include>"
    "$<INSTALL_INTERFACE:${AP_MBEDTLS_INSTALL_INCLUDEDIR}>")
  target_include_directories(${target} PRIVATE "${source_dir}/library")
  get_filename_component(_cfg_dir "${user_config}" DIRECTORY)
  get_filename_component(_cfg_name "${user_config}" NAME)
  target_include_directories(${target} PUBLIC "$<BUILD_INTERFACE:${_cfg_dir}>")
  if(AP_FULL_CONFIG)
    target_compile_definitions(${target} PUBLIC "MBEDTLS_CONFIG_FILE=\"${_cfg_name}\"")
  else()
    target_compile_definitions(${target} PUBLIC "MBEDTLS_USER_CONFIG_FILE=\"${_cfg_name}\"")
  endif()
  # Third-party code: its own warnings are not ours to gate the build on.
  target_compile_options(${target} PRIVATE -w)
  set_target_properties(${target} PROPERTIES
    AP_MBEDTLS_VERSION "${_found}" AP_MBEDTLS_MAJOR "${major}"
    AP_MBEDTLS_SOURCE_DIR "${source_dir}" AP_MBEDTLS_CONFIG_DIR "${_cfg_dir}"
    C_CLANG_TIDY "" POSITION_INDEPENDENT_CODE OFF)
endfunction()

# ap_select_mbedtls(): sets AP_MBEDTLS_FOR_CORE to the Mbed TLS target the
# core (alertpost::core) is built against, the first of:
#   1. ALERTPOST_MBEDTLS_TARGET  a target the including project made (its own
#                                Mbed TLS 3.6 or 2.28, with its configuration)
#   2. ALERTPOST_FIND_MBEDTLS    an installed Mbed TLS 3.6, found with
#                                find_package(MbedTLS 3.6 CONFIG): MbedTLS::mbedtls
#   3. ap_mbedtls3, built here from ALERTPOST_MBEDTLS3_SOURCE_DIR with
#      ALERTPOST_MBEDTLS_CONFIG (a full configuration) if set, else
#      cmake/mbedtls/host-3.6.h over the defaults for a host, or
#      cmake/mbedtls/mps2-3.6.h for a cross build (which then needs
#      mbedtls_hardware_poll() and mbedtls_ms_time() from the firmware, as
#      boards/mps2/common/mbedtls_hooks.c gives them).
# AP_MBEDTLS_BUILT_HERE says whether it is case 3 (only then can the install
# carry it).
function(ap_select_mbedtls)
  set(AP_MBEDTLS_BUILT_HERE OFF PARENT_SCOPE)
  if(ALERTPOST_MBEDTLS_TARGET)
    if(NOT TARGET "${ALERTPOST_MBEDTLS_TARGET}")
      message(FATAL_ERROR
        "ALERTPOST_MBEDTLS_TARGET='${ALERTPOST_MBEDTLS_TARGET}' is not a target: create your "
        "Mbed TLS target before adding alertpost, or leave the variable empty to build Mbed TLS here.")
    endif()
    message(STATUS "alertpost: the core uses your Mbed TLS target ${ALERTPOST_MBEDTLS_TARGET}")
    set(AP_MBEDTLS_FOR_CORE "${ALERTPOST_MBEDTLS_TARGET}" PARENT_SCOPE)
  elseif(ALERTPOST_FIND_MBEDTLS)
    find_package(MbedTLS 3.6 CONFIG)
    if(NOT MbedTLS_FOUND OR NOT TARGET MbedTLS::mbedtls)
      message(FATAL_ERROR
        "ALERTPOST_FIND_MBEDTLS is ON but no Mbed TLS 3.6 CMake package (MbedTLSConfig.cmake "
        "with MbedTLS::mbedtls) was found: add its prefix to CMAKE_PREFIX_PATH, or turn the "
        "option off to build Mbed TLS from ALERTPOST_MBEDTLS3_SOURCE_DIR.")
    endif()
    message(STATUS "alertpost: the core uses the installed Mbed TLS ${MbedTLS_VERSION} (${MbedTLS_DIR})")
    set(AP_MBEDTLS_FOR_CORE MbedTLS::mbedtls PARENT_SCOPE)
  else()
    if(ALERTPOST_MBEDTLS_CONFIG)
      set(_cfg "${ALERTPOST_MBEDTLS_CONFIG}")
    elseif(CMAKE_CROSSCOMPILING)
      set(_cfg "${PROJECT_SOURCE_DIR}/cmake/mbedtls/mps2-3.6.h")
    endif()
    if(_cfg)
      if(NOT EXISTS "${_cfg}")
        message(FATAL_ERROR "ALERTPOST_MBEDTLS_CONFIG: no file '${_cfg}'")
      endif()
      # A full configuration may enable p256-m (3.6's P-256 driver outside
      # library/); without MBEDTLS_PSA_P256M_DRIVER_ENABLED it compiles to nothing.
      set(AP_FULL_CONFIG ON)
      set(AP_MBEDTLS_EXTRA_SOURCES
          3rdparty/p256-m/p256-m_driver_entrypoints.c 3rdparty/p256-m/p256-m/p256-m.c)
      set(AP_MBEDTLS_EXTRA_INCLUDE_DIRS 3rdparty/p256-m 3rdparty/p256-m/p256-m)
    else()
      set(_cfg "${PROJECT_SOURCE_DIR}/cmake/mbedtls/host-3.6.h")
    endif()
    ap_add_mbedtls(ap_mbedtls3 "${ALERTPOST_MBEDTLS3_SOURCE_DIR}" 3 "${_cfg}")
    set(AP_MBEDTLS_FOR_CORE ap_mbedtls3 PARENT_SCOPE)
    set(AP_MBEDTLS_BUILT_HERE ON PARENT_SCOPE)
  endif()
endfunction()
