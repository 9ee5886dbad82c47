# cmake --install: the headers, the libraries, the CLI and its man page, a
# CMake package (find_package(alertpost CONFIG) from any prefix: the package
# finds itself relative to its own folder) and a pkg-config file.
#
# Installed targets, in the alertpost:: namespace (the same names as in a
# build that adds this project with add_subdirectory()):
#   alertpost::codec       URL, HTTP and TLS-policy codecs (libalertpost_codec.a)
#   alertpost::core        the client loop and TLS glue (libalertpost_core.a)
#                          with its Mbed TLS
#   alertpost::port_posix  the POSIX transport and platform (libalertpost_port_posix.a)
#   alertpost::posix       both of the above: what a Linux program links
#   alertpost::mbedtls     the Mbed TLS 3.6 built here (libalertpost_mbedtls.a,
#                          headers in include/alertpost-mbedtls), when it was
#                          built here; an installed Mbed TLS
#                          (ALERTPOST_FIND_MBEDTLS) is found again by the package.
#
# The Mbed TLS copy keeps Mbed TLS's own symbol names: a program that also
# links another Mbed TLS must build alertpost against that one instead
# (ALERTPOST_FIND_MBEDTLS or ALERTPOST_MBEDTLS_TARGET).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

if(NOT AP_MBEDTLS_BUILT_HERE AND NOT ALERTPOST_FIND_MBEDTLS)
  message(FATAL_ERROR
    "ALERTPOST_INSTALL is ON, but the core is built against your Mbed TLS target "
    "'${ALERTPOST_MBEDTLS_TARGET}', which an installed package can neither carry nor find. "
    "Set ALERTPOST_INSTALL=OFF, or install your Mbed TLS and use ALERTPOST_FIND_MBEDTLS=ON.")
endif()

set(_ap_cmake_dir "${CMAKE_INSTALL_LIBDIR}/cmake/alertpost")
set(_ap_targets ap_core_codec ap_core_mbedtls3)
# The file names say whose they are; the build tree keeps the ap_* targets.
set_target_properties(ap_core_codec PROPERTIES OUTPUT_NAME alertpost_codec EXPORT_NAME codec)
set_target_properties(ap_core_mbedtls3 PROPERTIES OUTPUT_NAME alertpost_core EXPORT_NAME core)
set(_ap_pc_libs "-lalertpost_core -lalertpost_codec")
set(AP_PACKAGE_HAS_POSIX OFF)
if(TARGET ap_port_posix)
  # Hosts only: a cross build installs the core for your own port.
  set(AP_PACKAGE_HAS_POSIX ON)
  set_target_properties(ap_port_posix PROPERTIES OUTPUT_NAME alertpost_port_posix EXPORT_NAME port_posix)
  set_target_properties(ap_posix PROPERTIES EXPORT_NAME posix)
  list(APPEND _ap_targets ap_port_posix ap_posix)
  set(_ap_pc_libs "-lalertpost_port_posix ${_ap_pc_libs}")
endif()
if(AP_MBEDTLS_BUILT_HERE)
  set_target_properties(ap_mbedtls3 PROPERTIES OUTPUT_NAME alertpost_mbedtls EXPORT_NAME mbedtls)
  list(APPEND _ap_targets ap_mbedtls3)
  string(APPEND _ap_pc_libs " -lalertpost_mbedtls")
  get_target_property(_ap_mbedtls_src ap_mbedtls3 AP_MBEDTLS_SOURCE_DIR)
  get_target_property(_ap_mbedtls_cfg ap_mbedtls3 AP_MBEDTLS_CONFIG_DIR)
  install(DIRECTORY "${_ap_mbedtls_src}/include/" "${_ap_mbedtls_cfg}/"
          DESTINATION "${AP_MBEDTLS_INSTALL_INCLUDEDIR}"
          COMPONENT alertpost_devel FILES_MATCHING PATTERN "*.h")
  set(_ap_pc_requires "")
else()
  # find_package(MbedTLS) gave it: pkg-config finds Mbed TLS's own .pc files
  # (all three named, as a static mbedtls.pc lists the other two as private).
  set(_ap_pc_requires "Requires: mbedtls mbedx509 mbedcrypto")
endif()
if(AP_PACKAGE_HAS_POSIX)
  string(APPEND _ap_pc_libs " -pthread")
endif()

# A sanitized build's libraries need the sanitizer runtimes in every program
# that links them: the targets say so, instead of failing at the user's link.
set(_ap_san "")
if(ALERTPOST_SANITIZE)
  set(_ap_san "-fsanitize=address,undefined")
  target_link_options(ap_core_codec INTERFACE "$<INSTALL_INTERFACE:${_ap_san}>")
  string(APPEND _ap_pc_libs " ${_ap_san}")
endif()

install(TARGETS ${_ap_targets} EXPORT alertpostTargets
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT alertpost_devel
  INCLUDES DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
set(_ap_header_dirs "${PROJECT_SOURCE_DIR}/core/include/alertpost")
if(AP_PACKAGE_HAS_POSIX)
  list(APPEND _ap_header_dirs "${PROJECT_SOURCE_DIR}/ports/posix/include/alertpost")
endif()
install(DIRECTORY ${_ap_header_dirs} DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
        COMPONENT alertpost_devel FILES_MATCHING PATTERN "*.h")
install(EXPORT alertpostTargets NAMESPACE alertpost::
        DESTINATION "${_ap_cmake_dir}" COMPONENT alertpost_devel)

configure_package_config_file("${CMAKE_CURRENT_LIST_DIR}/alertpostConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/alertpostConfig.cmake"
  INSTALL_DESTINATION "${_ap_cmake_dir}")
# 0.x: a new minor version may change the API.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/alertpostConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/alertpostConfig.cmake"
              "${PROJECT_BINARY_DIR}/alertpostConfigVersion.cmake"
        DESTINATION "${_ap_cmake_dir}" COMPONENT alertpost_devel)

file(RELATIVE_PATH _ap_pc_up "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
string(REGEX REPLACE "/$" "" _ap_pc_up "${_ap_pc_up}")
configure_file("${CMAKE_CURRENT_LIST_DIR}/alertpost.pc.in" "${PROJECT_BINARY_DIR}/alertpost.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/alertpost.pc"
        DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig" COMPONENT alertpost_devel)

if(TARGET alertpost)
  install(TARGETS alertpost RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT alertpost_cli)
endif()
# The CLI's man page: installed once boards/host/alertpost.1 exists.
install(FILES "${PROJECT_SOURCE_DIR}/boards/host/alertpost.1"
        DESTINATION "${CMAKE_INSTALL_MANDIR}/man1" COMPONENT alertpost_cli OPTIONAL)
