# Writes OUT (a header defining SAMSA_COMMIT) from `git describe`, touching it only when the
# commit changes: `samsa --version`, `samsa-sim --version` and samsa-sim's replay lines name the
# commit they were built from. Run by the top-level CMakeLists.txt (target samsa_version).
execute_process(COMMAND git describe --always --dirty --abbrev=12 WORKING_DIRECTORY ${SRC}
                OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR commit STREQUAL "")
  set(commit "unknown")
endif()
set(text "#pragma once\n#define SAMSA_COMMIT \"${commit}\"\n")
if(EXISTS ${OUT})
  file(READ ${OUT} old)
endif()
if(NOT "${old}" STREQUAL "${text}")
  file(WRITE ${OUT} "${text}")
endif()
