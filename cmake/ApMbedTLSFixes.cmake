# Fixes alertpost's build applies to an Mbed TLS tree it compiles (never to
# the tree itself, and never to an installed Mbed TLS or a target of yours):
# each is for one upstream bug, only in the versions that have it, written
# here, and announced at configure time. The fixed file is a copy in the
# build tree, compiled in place of the original.

# _ap_mbedtls_fix_use(TARGET VERSION FILE TEXT_VAR WHAT SRCS_VAR): writes
# the fixed text of FILE (the variable TEXT_VAR, passed by name so that its
# backslashes stay as they are) into the build tree, only when it changed
# (so nothing rebuilds for nothing), puts it in FILE's place in the list
# SRCS_VAR of the caller, and announces WHAT.
function(_ap_mbedtls_fix_use target version file text_var what srcs_var)
  get_filename_component(_name "${file}" NAME)
  set(_dir "${CMAKE_CURRENT_BINARY_DIR}/ap-mbedtls-fixes/${target}")
  file(WRITE "${_dir}/${_name}.new" "${${text_var}}")
  file(COPY_FILE "${_dir}/${_name}.new" "${_dir}/${_name}" ONLY_IF_DIFFERENT)
  set(_srcs ${${srcs_var}})
  list(REMOVE_ITEM _srcs "${file}")
  list(APPEND _srcs "${_dir}/${_name}")
  set(${srcs_var} ${_srcs} PARENT_SCOPE)
  message(STATUS "${target}: Mbed TLS ${version} built with the ${what}")
endfunction()

# _ap_mbedtls_fix_after(TARGET VERSION SRCS_VAR NAME ANCHOR INSERT_VAR WHAT
#                       UNFIXED): inserts the text of the variable INSERT_VAR
# (by name, like TEXT_VAR above) after the first ANCHOR in the copy of
# library/NAME that SRCS_VAR compiles (the original, or an earlier fix's
# copy) and compiles the result instead. Without ANCHOR, the file is left as
# it is, with a warning that the WHAT is not applied, followed by UNFIXED
# (what then goes wrong).
function(_ap_mbedtls_fix_after target version srcs_var name anchor insert_var what unfixed)
  set(_files ${${srcs_var}})
  list(FILTER _files INCLUDE REGEX "/${name}$")
  list(GET _files 0 _file)
  file(READ "${_file}" _text)
  string(FIND "${_text}" "${anchor}" _at)
  if(_at EQUAL -1)
    message(WARNING "${target}: ${_file} is not laid out as Mbed TLS ${version}'s: the ${what} "
                    "is not applied${unfixed}")
    return()
  endif()
  string(REPLACE "${anchor}" "${anchor}${${insert_var}}" _text "${_text}")
  _ap_mbedtls_fix_use(${target} ${version} "${_file}" _text "${what}" ${srcs_var})
  set(${srcs_var} ${${srcs_var}} PARENT_SCOPE)
endfunction()


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
  _ap_mbedtls_fix_use(${target} ${version} "${_orig}" _text "TLS 1.2 RSA-PSS fix (#10668)"
                      ${srcs_var})
  set(${srcs_var} ${${srcs_var}} PARENT_SCOPE)
endfunction()

# ap_mbedtls_fix_tls13_mfl(TARGET SOURCE_DIR VERSION SRCS_VAR)
# Mbed TLS 3.6 (checked up to 3.6.6): a client configured with
# max_fragment_length (mbedtls_ssl_conf_max_frag_len) that offers TLS 1.2
# and 1.3 sends the extension in its ClientHello but does not count it
# among the extensions it sent, so when a TLS 1.3 server answers it in
# EncryptedExtensions, as RFC 8446 allows and OpenSSL does, the client
# takes it for unsolicited and aborts (MBEDTLS_ERR_SSL_UNSUPPORTED_EXTENSION,
# -0x7500). The fix counts it as sent. The answer is then accepted and not
# otherwise used: the server's records can only be smaller than the
# client's buffer, and the client's own are limited by its configured value.
# Applied to the ssl_tls12_client.c the build compiles (the original or the
# copy an earlier fix made), only where the extension is written unmarked.
function(ap_mbedtls_fix_tls13_mfl target source_dir version srcs_var)
  if(version VERSION_LESS 3.0.0)
    return()
  endif()
  set(_mfl_files ${${srcs_var}})
  list(FILTER _mfl_files INCLUDE REGEX "/ssl_tls12_client\\.c$")
  list(GET _mfl_files 0 _file)
  set(_anchor "    *p++ = ssl->conf->mfl_code;\n\n    *olen = 5;\n")
  file(READ "${_file}" _text)
  string(FIND "${_text}" "${_anchor}" _at)
  string(FIND "${_text}" "set_hs_sent_ext_mask(ssl, MBEDTLS_TLS_EXT_MAX_FRAGMENT_LENGTH)" _done)
  if(_at EQUAL -1 OR NOT _done EQUAL -1)
    if(_at EQUAL -1 AND _done EQUAL -1)
      message(WARNING "${target}: ${_file} is not laid out as Mbed TLS ${version}'s: the TLS 1.3 "
                      "max_fragment_length fix is not applied; with AP_TLS_MAX_FRAGMENT_LEN set, "
                      "TLS 1.3 servers that answer it are refused.")
    endif()
    return()
  endif()
  string(REPLACE "${_anchor}"
         "    *p++ = ssl->conf->mfl_code;\n\n#if defined(MBEDTLS_SSL_PROTO_TLS1_3)\n    /* alertpost: count it as sent, so a TLS 1.3 server's answer is accepted. */\n    mbedtls_ssl_tls13_set_hs_sent_ext_mask(ssl, MBEDTLS_TLS_EXT_MAX_FRAGMENT_LENGTH);\n#endif\n    *olen = 5;\n"
         _text "${_text}")
  _ap_mbedtls_fix_use(${target} ${version} "${_file}" _text "TLS 1.3 max_fragment_length fix"
                      ${srcs_var})
  set(${srcs_var} ${${srcs_var}} PARENT_SCOPE)
endfunction()

# ap_mbedtls_fix_tls12_groups(TARGET SOURCE_DIR VERSION SRCS_VAR)
# Mbed TLS 3.6 (checked up to 3.6.6): a TLS 1.2 client whose elliptic
# curves all come from PSA (no MBEDTLS_ECDH_C or MBEDTLS_ECDSA_C: the
# firmware's p256-m) does not define MBEDTLS_SSL_TLS1_2_SOME_ECC
# (config_adjust_ssl.h), so it writes no supported_groups extension. A
# client that also offers TLS 1.3 writes it for 1.3, which hid the bug; one
# with TLS 1.2 only (the lean firmware) offers ECDHE suites without naming
# a group, and OpenSSL servers answer "no shared cipher" (handshake_failure).
# In the build's copy of ssl_client.c, the only file that reads the macro,
# it is defined for such a build after the headers (skipped when the macro
# is already defined).
function(ap_mbedtls_fix_tls12_groups target source_dir version srcs_var)
  if(version VERSION_LESS 3.6.0)
    return()
  endif()
  set(_define "
/* alertpost: a TLS 1.2 client with PSA curves only names its groups too. */
#if defined(MBEDTLS_SSL_PROTO_TLS1_2) && defined(MBEDTLS_USE_PSA_CRYPTO) && \\
    (defined(PSA_WANT_ALG_ECDH) || defined(PSA_WANT_ALG_ECDSA)) && \\
    !defined(MBEDTLS_SSL_TLS1_2_SOME_ECC)
#define MBEDTLS_SSL_TLS1_2_SOME_ECC
#endif
")
  _ap_mbedtls_fix_after(${target} ${version} ${srcs_var} ssl_client.c
                        "#include \"ssl_debug_helpers.h\"\n" _define
                        "TLS 1.2 supported_groups fix"
                        "; a TLS 1.2-only build with PSA curves only names no group to the server.")
  set(${srcs_var} ${${srcs_var}} PARENT_SCOPE)
endfunction()

# ap_mbedtls_fix_premaster(TARGET SOURCE_DIR VERSION INCLUDE_VAR)
# Mbed-TLS/mbedtls#10757 (3.6, checked up to 3.6.6): TLS 1.2 sizes its
# premaster-secret buffer (MBEDTLS_PREMASTER_SIZE, include/mbedtls/ssl.h)
# from the built-in elliptic-curve code's largest curve only. A build whose
# curves all come from PSA drivers (the firmware's p256-m) has none, the
# buffer is 1 byte, and every TLS 1.2 ECDHE handshake fails
# (MBEDTLS_ERR_SSL_HW_ACCEL_FAILED, -0x7F80). The fix adds PSA's largest
# key-agreement output to the buffer's union. The header is public, so the
# fixed copy goes in a folder the target puts before the tree's include
# folder, for itself and its users alike (the core sees the same header).
# Sets INCLUDE_VAR to that folder, or to "" where the fix does not apply.
function(ap_mbedtls_fix_premaster target source_dir version include_var)
  set(${include_var} "" PARENT_SCOPE)
  if(version VERSION_LESS 3.6.0)
    return()
  endif()
  set(_orig "${source_dir}/include/mbedtls/ssl.h")
  set(_anchor "    unsigned char _pms_ecdh[MBEDTLS_ECP_MAX_BYTES];    /* RFC 4492 5.10 */\n")
  file(READ "${_orig}" _text)
  string(FIND "${_text}" "${_anchor}" _at)
  string(FIND "${_text}" "PSA_RAW_KEY_AGREEMENT_OUTPUT_MAX_SIZE" _done)
  if(_at EQUAL -1 OR NOT _done EQUAL -1)
    if(_at EQUAL -1 AND _done EQUAL -1)
      message(WARNING "${target}: ${_orig} is not laid out as Mbed TLS ${version}'s: the TLS 1.2 "
                      "premaster fix (#10757) is not applied; a build without built-in curves "
                      "then fails every TLS 1.2 ECDHE handshake.")
    endif()
    return()
  endif()
  string(REPLACE "${_anchor}"
         "${_anchor}#if defined(MBEDTLS_USE_PSA_CRYPTO)\n    /* alertpost: PSA's curves too (Mbed-TLS/mbedtls#10757). */\n    unsigned char _pms_ecdh_psa[PSA_RAW_KEY_AGREEMENT_OUTPUT_MAX_SIZE];\n#endif\n"
         _text "${_text}")
  set(_dir "${CMAKE_CURRENT_BINARY_DIR}/ap-mbedtls-fixes/${target}-include")
  file(WRITE "${_dir}/mbedtls/ssl.h.new" "${_text}")
  file(COPY_FILE "${_dir}/mbedtls/ssl.h.new" "${_dir}/mbedtls/ssl.h" ONLY_IF_DIFFERENT)
  set(${include_var} "${_dir}" PARENT_SCOPE)
  message(STATUS "${target}: Mbed TLS ${version} built with the TLS 1.2 premaster fix (#10757)")
endfunction()

# ap_mbedtls_fix_rsa_public_only(TARGET SOURCE_DIR VERSION SRCS_VAR)
# Not an upstream bug but a size fix, for a build whose configuration
# verifies RSA signatures and holds no RSA private key (the MPS2 firmware:
# its device key is P-256 in PSA; the caller says so with
# AP_MBEDTLS_RSA_PUBLIC_ONLY). Mbed TLS has no option for that: the pk RSA
# table (sign, decrypt, pair check), PSA's RSA driver (sign, key-pair
# import and export) and the key parser reach the private-key code, about
# 6 KiB, and every RSA public key passes through mbedtls_rsa_complete(),
# which can deduce a private key's parts (factoring, modular inversion:
# 2 KiB more). In the build's copies of those four files the private-key
# operations, and RSA encryption (the suites are ECDHE only), are macros
# that fail as unsupported (cmake/mbedtls/rsa_public_only.inc, included
# after each file's headers); in rsa.c's copy the deductions are
# (rsa_public_only_complete.inc). That code is then no longer linked. An RSA client key is then refused when
# it is parsed; RSA signature verification is untouched (the QEMU cases rsa
# and rsa12).
function(ap_mbedtls_fix_rsa_public_only target source_dir version srcs_var)
  if(version VERSION_LESS 3.6.0)
    return()
  endif()
  file(READ "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/mbedtls/rsa_public_only.inc" _pk_macros)
  file(READ "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/mbedtls/rsa_public_only_complete.inc"
       _rsa_macros)
  set(_srcs ${${srcs_var}})
  foreach(_name pk.c pk_wrap.c pkparse.c psa_crypto_rsa.c rsa.c)
    # rsa.c defines the functions the other files' macros shadow: it gets
    # its own, for the deductions of mbedtls_rsa_complete().
    if(_name STREQUAL "rsa.c")
      set(_macros "${_rsa_macros}")
    else()
      set(_macros "${_pk_macros}")
    endif()
    set(_files ${_srcs})
    list(FILTER _files INCLUDE REGEX "/${_name}$")
    list(GET _files 0 _file)
    file(READ "${_file}" _text)
    # After the last #include of the file's head, where every prototype the
    # macros shadow has been declared.
    string(FIND "${_text}" "\n#include " _at REVERSE)
    if(_at EQUAL -1)
      message(WARNING "${target}: ${_file} has no #include: the RSA public-only size fix is "
                      "not applied to it")
      continue()
    endif()
    math(EXPR _line "${_at} + 1")
    string(SUBSTRING "${_text}" ${_line} -1 _rest)
    string(FIND "${_rest}" "\n" _len)
    math(EXPR _cut "${_line} + ${_len} + 1")
    # That #include may sit in a conditional (pkparse.c's last one is under
    # MBEDTLS_PKCS12_C, which is off): the macros go after its #endif, or
    # they would vanish with it.
    string(SUBSTRING "${_text}" ${_cut} -1 _rest)
    while(_rest MATCHES "^#endif[^\n]*\n")
      string(LENGTH "${CMAKE_MATCH_0}" _len)
      math(EXPR _cut "${_cut} + ${_len}")
      string(SUBSTRING "${_text}" ${_cut} -1 _rest)
    endwhile()
    string(SUBSTRING "${_text}" 0 ${_cut} _head)
    string(SUBSTRING "${_text}" ${_cut} -1 _body)
    set(_text "${_head}${_macros}${_body}")
    _ap_mbedtls_fix_use(${target} ${version} "${_file}" _text
                        "RSA public-only size fix in ${_name}" _srcs)
  endforeach()
  set(${srcs_var} ${_srcs} PARENT_SCOPE)
endfunction()

# ap_mbedtls_fix_no_pk_sign(TARGET SOURCE_DIR VERSION SRCS_VAR)
# A size fix like the one above, for a build that holds no private key at
# all (the lean MPS2 firmware: no mutual TLS; the caller says so with
# AP_MBEDTLS_NO_PK_SIGN). Mbed TLS links ECDSA signing into every client
# that verifies ECDSA: pk's EC tables point at their signers, which reach
# psa_sign_hash() and the signature's DER encoding (about 1 KiB), although
# only a client certificate's CertificateVerify would call them. In the
# build's copy of pk_wrap.c, MBEDTLS_PK_CAN_ECDSA_SIGN is undefined after
# the headers, so the tables have no signer: mbedtls_pk_sign() then fails
# with MBEDTLS_ERR_PK_TYPE_MISMATCH, which such a build never reaches (the
# core refuses a client identity at set-up). Verification is untouched.
function(ap_mbedtls_fix_no_pk_sign target source_dir version srcs_var)
  if(version VERSION_LESS 3.6.0)
    return()
  endif()
  set(_undef "\n/* alertpost: no private key in this build, so no signer in pk's tables. */\n#undef MBEDTLS_PK_CAN_ECDSA_SIGN\n")
  _ap_mbedtls_fix_after(${target} ${version} ${srcs_var} pk_wrap.c "#include <string.h>\n"
                        _undef "no-signing size fix in pk_wrap.c" ".")
  set(${srcs_var} ${${srcs_var}} PARENT_SCOPE)
endfunction()
