# Fixes alertpost's build applies to an Mbed TLS tree it compiles (never to
# the tree itself, and never to an installed Mbed TLS or a target of yours):
# each is for one upstream bug, only in the versions that have it, written
# here, and announced at configure time. The fixed file is a copy in the
# build tree, compiled in place of the original.

# ap_mbedtls_fix_tls12_pss(TARGET SOURCE_DIR VERSION SRCS_VAR)
# Mbed-TLS/mbedtls#10668 (3.6.0 to 3.6.6; fixed upstream in 3.6.7): a TLS
# 1.2 server that signs its ServerKeyExchange with RSA-PSS, as OpenSSL does
# when the client offers it, is refused. cmake/mbedtls/tls12_pss_rsae.inc
# says what the fix accepts.
function(ap_mbedtls_fix_tls12_pss target source_dir version srcs_var)
  if(version VERSION_LESS 3.6.0 OR version VERSION_GREATER_EQUAL 3.6.7)
    return()
  endif()
  set(_orig "${source_dir}/library/ssl_tls12_client.c")
  set(_check "    if (!mbedtls_ssl_sig_alg_is_supported(ssl, sig_alg)) {")
  set(_anchor "MBEDTLS_CHECK_RETURN_CRITICAL\nstatic int ssl_parse_signature_algorithm(")
  file(READ "${_orig}" _text)
  string(FIND "${_text}" "${_check}" _at_check)
  string(FIND "${_text}" "${_anchor}" _at_anchor)
  if(_at_check EQUAL -1 OR _at_anchor EQUAL -1)
    message(WARNING "${target}: ${_orig} is not laid out as Mbed TLS ${version}'s: the TLS 1.2 "
                    "RSA-PSS fix (#10668) is not applied, and such servers are refused.")
    return()
  endif()
  file(READ "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/mbedtls/tls12_pss_rsae.inc" _helper)
  string(REPLACE "${_check}"
         "    if (!mbedtls_ssl_sig_alg_is_supported(ssl, sig_alg) &&\n        !ap_tls12_accepts_pss_rsae(sig_alg)) {"
         _text "${_text}")
  string(REPLACE "${_anchor}" "${_helper}${_anchor}" _text "${_text}")
  set(_dir "${CMAKE_CURRENT_BINARY_DIR}/ap-mbedtls-fixes/${target}")
  file(WRITE "${_dir}/ssl_tls12_client.c.new" "${_text}")
  file(COPY_FILE "${_dir}/ssl_tls12_client.c.new" "${_dir}/ssl_tls12_client.c" ONLY_IF_DIFFERENT)
  set(_srcs ${${srcs_var}})
  list(REMOVE_ITEM _srcs "${_orig}")
  list(APPEND _srcs "${_dir}/ssl_tls12_client.c")
  set(${srcs_var} ${_srcs} PARENT_SCOPE)
  message(STATUS "${target}: Mbed TLS ${version} built with the TLS 1.2 RSA-PSS fix (#10668)")
endfunction()
