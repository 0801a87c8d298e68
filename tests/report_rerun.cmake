# Output folders reproduce themselves: `bitsim sweep SPEC --out D` writes D/sweep.csv, the plots,
# index.html and D/study.yaml with the inputs copied; rerunning `bitsim sweep D/study.yaml` gives
# the same CSV byte for byte. Also: a second --out into the same folder refuses without --force.
set(dir ${OUTDIR})
string(REPLACE "," ";" FILES "${FILES}")
file(REMOVE_RECURSE ${dir})
execute_process(COMMAND ${BITSIM} ${CMD} ${WORKDIR}/tests/data/study/small.yaml --out ${dir}
                OUTPUT_QUIET ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "bitsim ${CMD} --out failed (${rc}):\n${err}")
endif()
foreach(f ${FILES} index.html study.yaml inputs/hardware-0.yaml inputs/workload-0.yaml)
  if(NOT EXISTS ${dir}/${f})
    message(FATAL_ERROR "${dir}/${f} was not written")
  endif()
endforeach()
file(READ ${dir}/${CSV} first)
execute_process(COMMAND ${BITSIM} ${CMD} ${dir}/study.yaml --csv OUTPUT_VARIABLE again ERROR_VARIABLE err
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT first STREQUAL again)
  message(FATAL_ERROR "rerunning ${dir}/study.yaml did not reproduce ${CSV} (${rc}):\n${err}")
endif()
execute_process(COMMAND ${BITSIM} ${CMD} ${WORKDIR}/tests/data/study/small.yaml --out ${dir}
                OUTPUT_QUIET ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 1 OR NOT err MATCHES "exists \\(pass --force to replace it\\)")
  message(FATAL_ERROR "a second --out into ${dir} should refuse without --force (${rc}):\n${err}")
endif()
file(REMOVE_RECURSE ${dir})
