# ap_warnings(target): the project's warning set, as errors. Applied to every
# target the project writes; never to third-party sources.
#
# The warnings are errors unless ALERTPOST_WERROR is OFF: it defaults to ON
# for the project's own builds and to OFF where another project adds this
# one, whose compiler may be newer and warn about more than ours did.
include_guard(GLOBAL)

function(ap_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wformat=2 -Wvla -Wcast-qual -Wundef)
  if(NOT DEFINED ALERTPOST_WERROR OR ALERTPOST_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
