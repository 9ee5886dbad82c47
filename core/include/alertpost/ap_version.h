/**
 * @file ap_version.h
 * @brief The library's version, known at compile time.
 *
 * This header is the one place the version is written: the top-level
 * CMakeLists.txt reads AP_VERSION_STRING from it for project(VERSION), so
 * the CMake package, the pkg-config file and a program built against the
 * headers always agree. Change all four lines together.
 */
#ifndef ALERTPOST_AP_VERSION_H
#define ALERTPOST_AP_VERSION_H

#define AP_VERSION_MAJOR 0 /**< incompatible API changes */
#define AP_VERSION_MINOR 1 /**< additions (while MAJOR is 0, also changes) */
#define AP_VERSION_PATCH 0 /**< fixes */
#define AP_VERSION_STRING "0.1.0" /**< "MAJOR.MINOR.PATCH" */

#endif /* ALERTPOST_AP_VERSION_H */
