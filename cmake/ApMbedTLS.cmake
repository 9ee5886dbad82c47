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
  target_include_directories(${target} SYSTEM PUBLIC "${source_dir}/include")
  target_include_directories(${target} PRIVATE "${source_dir}/library")
  get_filename_component(_cfg_dir "${user_config}" DIRECTORY)
  get_filename_component(_cfg_name "${user_config}" NAME)
  target_include_directories(${target} PUBLIC "${_cfg_dir}")
  if(AP_FULL_CONFIG)
    target_compile_definitions(${target} PUBLIC "MBEDTLS_CONFIG_FILE=\"${_cfg_name}\"")
  else()
    target_compile_definitions(${target} PUBLIC "MBEDTLS_USER_CONFIG_FILE=\"${_cfg_name}\"")
  endif()
  # Third-party code: its own warnings are not ours to gate the build on.
  target_compile_options(${target} PRIVATE -w)
  set_target_properties(${target} PROPERTIES
    AP_MBEDTLS_VERSION "${_found}" AP_MBEDTLS_MAJOR "${major}"
    C_CLANG_TIDY "" POSITION_INDEPENDENT_CODE OFF)
endfunction()
