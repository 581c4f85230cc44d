# Fails if SRC compiles with FROST_EXPECT_COMPILE_ERROR defined, or if any of FRAGMENTS (regular
# expressions) is missing from the compiler's output.
execute_process(COMMAND ${CXX} -std=c++20 -fsyntax-only -I${INC} -DFROST_EXPECT_COMPILE_ERROR ${SRC}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(rc EQUAL 0)
  message(FATAL_ERROR "${SRC} compiled; a compile error was expected")
endif()
foreach(f IN LISTS FRAGMENTS)
  if(NOT out MATCHES "${f}")
    message(FATAL_ERROR "missing /${f}/ in the compiler output:\n${out}")
  endif()
endforeach()
