# Passes when SRC compiles as written (the control, with the test build's warnings as errors)
# and fails to compile with FROST_EXPECT_COMPILE_ERROR defined, printing every one of FRAGMENTS
# (regular expressions). Both compiles are syntax checks: no code is generated. PCH: the
# precompiled-header flags, |-separated (tests/compile_fail/CMakeLists.txt), or empty; EXTRA:
# more flags (an optional dependency's include directories), |-separated, or empty.
string(REPLACE "|" ";" pch "${PCH}")
string(REPLACE "|" ";" extra "${EXTRA}")
execute_process(COMMAND ${CXX} -std=c++20 -fsyntax-only -Wall -Wextra -Wpedantic -Werror ${pch} -I${INC} ${extra} ${SRC}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${SRC} as written (the control) does not compile:\n${out}")
endif()
execute_process(COMMAND ${CXX} -std=c++20 -fsyntax-only ${pch} -I${INC} ${extra} -DFROST_EXPECT_COMPILE_ERROR ${SRC}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(rc EQUAL 0)
  message(FATAL_ERROR "${SRC} compiled; a compile error was expected")
endif()
foreach(f IN LISTS FRAGMENTS)
  if(NOT out MATCHES "${f}")
    message(FATAL_ERROR "missing /${f}/ in the compiler output:\n${out}")
  endif()
endforeach()
