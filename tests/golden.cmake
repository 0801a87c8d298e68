# Runs `bitsim ARGS` in WORKDIR and compares stdout with the GOLDEN file byte for byte. On a
# difference the actual output is kept in the build folder (CTest runs this script there), never
# next to the golden file.
separate_arguments(arg_list UNIX_COMMAND "${ARGS}")
execute_process(COMMAND ${BITSIM} ${arg_list} WORKING_DIRECTORY ${WORKDIR}
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "bitsim ${ARGS} exited with ${rc}:\n${err}")
endif()
get_filename_component(golden_name ${GOLDEN} NAME)
set(actual ${CMAKE_CURRENT_BINARY_DIR}/golden-actual/${golden_name})
file(READ ${GOLDEN} expected)
if(NOT out STREQUAL expected)
  file(WRITE ${actual} "${out}")
  execute_process(COMMAND diff -u ${GOLDEN} ${actual} OUTPUT_VARIABLE d)
  message(FATAL_ERROR "output of bitsim ${ARGS} differs from ${GOLDEN} (actual in ${actual}; "
                      "regenerate with tools/regen-golden if the change is intended):\n${d}")
endif()
file(REMOVE ${actual})
