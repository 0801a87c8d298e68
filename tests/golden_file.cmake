# Runs `bitsim ARGS --out OUTDIR` in WORKDIR and compares the file FILE it writes there with the
# GOLDEN file byte for byte (a summary table the report writes as CSV). On a difference the actual
# file is kept in the build folder, never next to the golden file.
separate_arguments(arg_list UNIX_COMMAND "${ARGS}")
file(REMOVE_RECURSE ${OUTDIR})
execute_process(COMMAND ${BITSIM} ${arg_list} --out ${OUTDIR} WORKING_DIRECTORY ${WORKDIR}
                OUTPUT_QUIET ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "bitsim ${ARGS} --out ${OUTDIR} exited with ${rc}:\n${err}")
endif()
file(READ ${OUTDIR}/${FILE} out)
file(READ ${GOLDEN} expected)
if(NOT out STREQUAL expected)
  execute_process(COMMAND diff -u ${GOLDEN} ${OUTDIR}/${FILE} OUTPUT_VARIABLE d)
  message(FATAL_ERROR "${FILE} of bitsim ${ARGS} differs from ${GOLDEN} (actual in ${OUTDIR}/${FILE}; "
                      "regenerate with tools/regen-golden if the change is intended):\n${d}")
endif()
file(REMOVE_RECURSE ${OUTDIR})
