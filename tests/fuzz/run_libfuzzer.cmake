# One bounded libFuzzer run of a fuzz target, as a test:
#
#   cmake -DEXE=<fuzz_x> -DCORPUS=<tests/fuzz/corpus/x> -DWORK=<dir>
#         -DSECONDS=<n> [-DDICT=<x.dict>] -P run_libfuzzer.cmake
#
# The committed corpus is copied into WORK first: libFuzzer adds every new
# input it finds to its corpus directory, and the source tree must not
# change under a test. Any failure (crash, sanitizer report, leak, an input
# that takes over 10 s, out of memory) fails the test and names the input,
# which libFuzzer saved under WORK/artifacts/.
foreach(_v EXE CORPUS WORK SECONDS)
  if(NOT DEFINED ${_v})
    message(FATAL_ERROR "run_libfuzzer.cmake: -D${_v}=... is required")
  endif()
endforeach()
if(NOT EXISTS "${EXE}")
  message(FATAL_ERROR "${EXE} was not built: build the target fuzz-libfuzzer first")
endif()

file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}/corpus" "${WORK}/artifacts")
file(GLOB _seeds "${CORPUS}/*")
if(NOT _seeds)
  message(FATAL_ERROR "${CORPUS} holds no seed inputs: commit at least one")
endif()
file(COPY ${_seeds} DESTINATION "${WORK}/corpus")

set(_args -max_total_time=${SECONDS} -timeout=10 -rss_limit_mb=2048
          -error_exitcode=1 -timeout_exitcode=1 -print_final_stats=1
          "-artifact_prefix=${WORK}/artifacts/")
if(DICT)
  list(APPEND _args "-dict=${DICT}")
endif()
message("${EXE} ${_args} ${WORK}/corpus")
execute_process(COMMAND "${EXE}" ${_args} "${WORK}/corpus" RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  get_filename_component(_name "${EXE}" NAME)
  get_filename_component(_corpus_name "${CORPUS}" NAME)
  file(GLOB _found "${WORK}/artifacts/*")
  message(FATAL_ERROR
    "${_name} failed (exit ${_rc}) on: ${_found}\n"
    "Reproduce with: ${EXE} <that file>. Once the parser is fixed, add the file to "
    "tests/fuzz/corpus/${_corpus_name}/ so that every build replays it "
    "(fuzz_${_corpus_name}_smoke).")
endif()
