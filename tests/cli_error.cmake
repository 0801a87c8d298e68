# Runs `bitsim ARGS` in WORKDIR; expects exit code EXPECT_CODE and EXPECT_MESSAGE within stderr.
separate_arguments(arg_list UNIX_COMMAND "${ARGS}")
execute_process(COMMAND ${BITSIM} ${arg_list} WORKING_DIRECTORY ${WORKDIR}
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc STREQUAL "${EXPECT_CODE}")
  message(FATAL_ERROR "bitsim ${ARGS}: expected exit code ${EXPECT_CODE}, got ${rc}\nstdout:\n${out}\nstderr:\n${err}")
endif()
string(FIND "${err}${out}" "${EXPECT_MESSAGE}" pos)
if(pos EQUAL -1)
  message(FATAL_ERROR "bitsim ${ARGS}: expected the message\n  ${EXPECT_MESSAGE}\ngot\n${err}${out}")
endif()
