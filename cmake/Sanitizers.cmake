# Sanitizer and fuzzing builds (docs/building.md, "Sanitizers and fuzzing";
# scripts/test-sanitizers.sh drives both in CI).
#
#   HETMAP_SANITIZE  sanitizers every target is compiled and linked with, as -fsanitize takes
#                    them: "address,undefined" (ASan + UBSan) or "thread" (TSan); empty: none.
#                    Any report aborts the program (-fno-sanitize-recover=all), so a test or a
#                    fuzzer run fails on it instead of printing and going on.
#   HETMAP_FUZZ      libFuzzer targets in tests/fuzz (clang only). Every target but the test
#                    suites is also compiled with -fsanitize=fuzzer-no-link (coverage feedback,
#                    no main), so one build runs both the test suite and the fuzzers.
set(HETMAP_SANITIZE "" CACHE STRING "Sanitizers for every target (address,undefined | thread | empty: none)")
option(HETMAP_FUZZ "Build the libFuzzer targets in tests/fuzz (clang only)" OFF)

# The code of a target, by the folder that declares it: the test suites (tests/) and the
# command line (apps/) only check and parse, the libraries do the work.
set(_hetmap_in_tests "$<STREQUAL:$<TARGET_PROPERTY:SOURCE_DIR>,${PROJECT_SOURCE_DIR}/tests>")
set(_hetmap_in_apps "$<STREQUAL:$<TARGET_PROPERTY:SOURCE_DIR>,${PROJECT_SOURCE_DIR}/apps>")

if(HETMAP_SANITIZE)
  if(HETMAP_SANITIZE MATCHES "thread" AND HETMAP_SANITIZE MATCHES "address")
    message(FATAL_ERROR "HETMAP_SANITIZE: thread and address cannot be combined")
  endif()
  add_compile_options(-fsanitize=${HETMAP_SANITIZE} -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${HETMAP_SANITIZE})
  # Instrumented code at -O1 compiles in about twice the time of -O0; the test suites and the
  # command line spend next to no time running, so they are compiled at -O0 (a later -O wins),
  # and the libraries, where the tests spend it, keep the build type's level.
  add_compile_options("$<$<OR:${_hetmap_in_tests},${_hetmap_in_apps}>:-O0>")
endif()

if(HETMAP_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "HETMAP_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++ "
                        "(Debian: clang libclang-rt-14-dev)")
  endif()
  # Coverage feedback for what the fuzzers reach: everything but the test suites.
  add_compile_options("$<$<NOT:${_hetmap_in_tests}>:-fsanitize=fuzzer-no-link>")
endif()
