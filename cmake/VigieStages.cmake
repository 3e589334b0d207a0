# The stages of gateway/ (DESIGN.md "Stages and folders"): one folder and one
# library each. vigie_stage() records which stages a stage may use; the
# configure step then refuses any #include "gateway/<stage>/..." in a stage's
# library sources that names a stage it does not link (directly or through
# its dependencies), and any gateway/ include from classifiers/ or lists/.
# An upstream dependency therefore fails the build before anything compiles.

set_property(GLOBAL PROPERTY VIGIE_STAGES "")

# vigie_stage(NAME SOURCES a.cc ... STAGES lower_stage ... LIBS other_targets ...
#             [PRIVATE_LIBS ...] [FOLDERS gateway_folder ...] [INTERFACE])
# FOLDERS: gateway/ folders outside the data path (gateway/report) whose
# library the stage links in LIBS and may include.
function(vigie_stage name)
  cmake_parse_arguments(S "INTERFACE" "" "SOURCES;STAGES;LIBS;PRIVATE_LIBS;FOLDERS" ${ARGN})
  set(target vigie_${name})
  set(deps "")
  foreach(s ${S_STAGES})
    list(APPEND deps vigie_${s})
  endforeach()
  if(S_INTERFACE)
    add_library(${target} INTERFACE)
    target_include_directories(${target} INTERFACE ${CMAKE_SOURCE_DIR})
    target_link_libraries(${target} INTERFACE ${deps} ${S_LIBS})
  else()
    add_library(${target} STATIC ${S_SOURCES})
    target_include_directories(${target} PUBLIC ${CMAKE_SOURCE_DIR})
    target_link_libraries(${target} PUBLIC ${deps} ${S_LIBS} PRIVATE ${S_PRIVATE_LIBS})
  endif()
  # The stages this one may include: itself, its direct stages and theirs.
  set(allowed ${name})
  foreach(s ${S_STAGES})
    get_property(sub GLOBAL PROPERTY VIGIE_STAGE_ALLOWED_${s})
    list(APPEND allowed ${s} ${sub})
  endforeach()
  list(REMOVE_DUPLICATES allowed)
  set_property(GLOBAL PROPERTY VIGIE_STAGE_ALLOWED_${name} "${allowed}")
  list(APPEND allowed ${S_FOLDERS})
  set_property(GLOBAL APPEND PROPERTY VIGIE_STAGES ${name})
  _vigie_check_includes(${CMAKE_CURRENT_SOURCE_DIR} "${allowed}" "stage ${name}")
endfunction()

# Fails the configure step if a non-test source under `dir` includes a
# gateway/<stage>/ header whose stage is not in `allowed`.
function(_vigie_check_includes dir allowed what)
  file(GLOB files ${dir}/*.h ${dir}/*.cc)
  foreach(f ${files})
    if(f MATCHES "_test\\.cc$")
      continue()  # tests may drive later stages end to end
    endif()
    file(STRINGS ${f} lines REGEX "^#include \"gateway/")
    foreach(l ${lines})
      string(REGEX MATCH "gateway/([a-z_]+)/" _ "${l}")
      set(stage ${CMAKE_MATCH_1})
      if(stage STREQUAL "testing" OR stage STREQUAL "")
        continue()
      endif()
      list(FIND allowed ${stage} idx)
      if(idx EQUAL -1)
        file(RELATIVE_PATH rel ${CMAKE_SOURCE_DIR} ${f})
        message(FATAL_ERROR "${rel}: ${l}: ${what} may use only [${allowed}]; "
                            "'${stage}' comes later in the data path (DESIGN.md)")
      endif()
    endforeach()
  endforeach()
endfunction()

# classifiers/ and lists/ know nothing of gateway/.
function(vigie_check_independent dir)
  file(GLOB_RECURSE files ${dir}/*.h ${dir}/*.cc)
  foreach(f ${files})
    file(STRINGS ${f} lines REGEX "^#include \"gateway/")
    if(lines)
      file(RELATIVE_PATH rel ${CMAKE_SOURCE_DIR} ${f})
      message(FATAL_ERROR "${rel}: ${lines}: ${dir} must not depend on gateway/")
    endif()
  endforeach()
endfunction()
