# ap_warnings(target): the project's warning set, as errors. Applied to every
# target the project writes; never to third-party sources.
function(ap_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wformat=2 -Wvla -Wcast-qual -Wundef)
endfunction()
