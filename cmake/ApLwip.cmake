# ap_add_lwip(TARGET SOURCE_DIR OPTS_DIR ARCH_DIR)
#
# Builds lwIP's core (IPv4, IPv6, TCP, UDP, DHCP, DNS, ARP, Ethernet) from a
# source tree as one static library, for a NO_SYS=1 (bare metal, raw API)
# configuration. OPTS_DIR holds the build's lwipopts.h; ARCH_DIR holds arch/cc.h
# (and arch/sys_arch.h where needed). Works for lwIP 2.1.x and 2.2.x trees.
function(ap_add_lwip target source_dir opts_dir arch_dir)
  if(NOT EXISTS "${source_dir}/src/core/tcp.c")
    message(FATAL_ERROR
      "No lwIP source tree at '${source_dir}'. Run cmake/setup.sh (as root) "
      "to fetch it, or point ALERTPOST_LWIP_SOURCE_DIR at one.")
  endif()
  file(GLOB _core "${source_dir}/src/core/*.c")
  file(GLOB _ipv4 "${source_dir}/src/core/ipv4/*.c")
  file(GLOB _ipv6 "${source_dir}/src/core/ipv6/*.c")
  add_library(${target} STATIC ${_core} ${_ipv4} ${_ipv6}
    "${source_dir}/src/netif/ethernet.c")
  target_include_directories(${target} SYSTEM PUBLIC
    "${source_dir}/src/include" "${opts_dir}" "${arch_dir}")
  target_compile_options(${target} PRIVATE -w)
  set_target_properties(${target} PROPERTIES C_CLANG_TIDY "")
endfunction()
