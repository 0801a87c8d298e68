# Runs `bitsim ARGS_A` and `bitsim ARGS_B` in WORKDIR: both must exit 0, print EXPECT, and print the
# same stdout once every match of the regex IGNORE (e.g. the data set's name) is taken out.
foreach(side A B)
  separate_arguments(arg_list UNIX_COMMAND "${ARGS_${side}}")
  execute_process(COMMAND ${BITSIM} ${arg_list} WORKING_DIRECTORY ${WORKDIR}
                  OUTPUT_VARIABLE out_${side} ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "bitsim ${ARGS_${side}} exited with ${rc}:\n${err}")
  endif()
  string(FIND "${out_${side}}" "${EXPECT}" pos)
  if(pos EQUAL -1)
    message(FATAL_ERROR "bitsim ${ARGS_${side}}: expected '${EXPECT}' in\n${out_${side}}")
  endif()
  string(REGEX REPLACE "${IGNORE}" "" kept_${side} "${out_${side}}")
endforeach()
if(NOT kept_A STREQUAL kept_B)
  message(FATAL_ERROR "bitsim ${ARGS_A}\n${out_A}\ndiffers from bitsim ${ARGS_B}\n${out_B}")
endif()
