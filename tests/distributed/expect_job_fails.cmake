# Runs COMMAND (|-separated: mpirun and its arguments) and passes when the job ends on its own
# within 60 s with a non-zero status, mpirun naming the rank that died with its status (3, what
# the test's dying rank exits with): a dead rank must end an MPI job, not hang it.
string(REPLACE "|" ";" command "${COMMAND}")
execute_process(COMMAND ${command} TIMEOUT 60 RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(rc MATCHES "timeout")
  message(FATAL_ERROR "the job hung after a rank died (stopped after 60 s):\n${out}")
endif()
if(rc EQUAL 0)
  message(FATAL_ERROR "the job succeeded although a rank died:\n${out}")
endif()
if(NOT out MATCHES "exited with non-zero status" OR NOT out MATCHES "Exit code: +3")
  message(FATAL_ERROR "the job failed, but not because the rank died (status ${rc}):\n${out}")
endif()
message(STATUS "the job ended with status ${rc}")
