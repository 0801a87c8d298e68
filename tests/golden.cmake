# Runs `bitsim ARGS` in WORKDIR and compares stdout with the GOLDEN file byte for byte.
separate_arguments(arg_list UNIX_COMMAND "${ARGS}")
execute_process(COMMAND ${BITSIM} ${arg_list} WORKING_DIRECTORY ${WORKDIR}
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "bitsim ${ARGS} exited with ${rc}:\n${err}")
endif()
file(READ ${GOLDEN} expected)
if(NOT out STREQUAL expected)
  file(WRITE ${GOLDEN}.actual "${out}")
  execute_process(COMMAND diff -u ${GOLDEN} ${GOLDEN}.actual OUTPUT_VARIABLE d)
  message(FATAL_ERROR "output of bitsim ${ARGS} differs from ${GOLDEN} (actual in ${GOLDEN}.actual; "
                      "regenerate with tools/regen-golden if the change is intended):\n${d}")
endif()
