# The build's proof that the replication core and the simulator are sans-IO (DESIGN.md §1, §2;
# the rule is stated at the top of node/CMakeLists.txt). Run by CTest as `sans_io_check`:
#
#   cmake -DSOURCE_DIR=<repo> -DBINARY_DIR=<build> -DSIM_TEST=<path of sim_test>
#         -DLINKS=<build>/sans_io_links.txt -P scripts/check_sans_io.cmake
#
# Fails, naming the offender, if
#   (a) the sim_test binary loads a Boost, LevelDB, Snappy or Cap'n Proto (capnp, kj) library (ldd);
#   (b) a source file of the core's folders includes a Boost, LevelDB, Snappy or Cap'n Proto header,
#       or any repository header outside the core (node/server/, node/testing/, the LevelDB engine,
#       proto/, client/, ...), which could pull one in. The core's folders: common/, ring/, aae/, gossip/, storage/
#       except leveldb_storage.* and leveldb_hint_store.* (their tests too), node/ except node/server/
#       and node/testing/, sim/;
#   (c) a core or simulator target links such a library: the link closure of ringkv_core,
#       ringkv_storage, ringkv_sim and ringkv_aae, written by the top-level CMakeLists.txt at configure time
#       (LINKS), and the link command the build system generated for sim_test (Ninja's build.ninja
#       or the Makefiles' link.txt).
cmake_minimum_required(VERSION 3.20)

foreach(var SOURCE_DIR BINARY_DIR SIM_TEST LINKS)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_sans_io.cmake: -D${var}=... is required")
  endif()
endforeach()

set(errors "")
# Library names that are the world: matched against lower-cased file names, link items and targets.
set(world_lib "boost|leveldb|snappy|capnp|libkj|-lkj|::kj")

# (a) What sim_test loads at run time.
if(NOT EXISTS "${SIM_TEST}")
  list(APPEND errors "(a) ${SIM_TEST} does not exist: build the tree before running the check")
else()
  execute_process(COMMAND ldd "${SIM_TEST}" OUTPUT_VARIABLE ldd_out ERROR_VARIABLE ldd_err
                  RESULT_VARIABLE ldd_rc)
  if(NOT ldd_rc EQUAL 0)
    list(APPEND errors "(a) ldd ${SIM_TEST} failed: ${ldd_err}")
  endif()
  string(REPLACE "\n" ";" ldd_lines "${ldd_out}")
  foreach(line IN LISTS ldd_lines)
    string(STRIP "${line}" line)
    string(TOLOWER "${line}" lower)
    if(lower MATCHES "lib(boost|leveldb|snappy|capnp|kj)")
      list(APPEND errors "(a) sim_test loads a library of the world: ${line}")
    endif()
  endforeach()
endif()

# (b) What the core's sources include.
set(core_files "")
foreach(dir common ring aae gossip storage node sim)
  file(GLOB_RECURSE found RELATIVE "${SOURCE_DIR}" "${SOURCE_DIR}/${dir}/*.h"
       "${SOURCE_DIR}/${dir}/*.hpp" "${SOURCE_DIR}/${dir}/*.cc" "${SOURCE_DIR}/${dir}/*.cpp")
  list(APPEND core_files ${found})
endforeach()
list(FILTER core_files EXCLUDE REGEX "^node/(server|testing)/|^storage/leveldb_(storage|hint_store)")
list(LENGTH core_files core_file_count)
if(core_file_count LESS 20)
  list(APPEND errors "(b) only ${core_file_count} core sources found under ${SOURCE_DIR}: wrong SOURCE_DIR?")
endif()
foreach(file IN LISTS core_files)
  file(STRINGS "${SOURCE_DIR}/${file}" includes REGEX "^[ \t]*#[ \t]*include")
  foreach(line IN LISTS includes)
    if(line MATCHES "#[ \t]*include[ \t]*<([^>]*)>")
      string(TOLOWER "${CMAKE_MATCH_1}" header)
      if(header MATCHES "^(boost|leveldb|snappy|capnp|kj)[/.]")
        list(APPEND errors "(b) ${file} includes a header of the world: ${line}")
      endif()
    elseif(line MATCHES "#[ \t]*include[ \t]*\"([^\"]*)\"")
      set(header "${CMAKE_MATCH_1}")
      if(NOT header MATCHES "^(common|ring|aae|gossip|storage|node|sim)/"
         OR header MATCHES "^(node/server|node/testing)/|^storage/leveldb_(storage|hint_store)|\\.capnp\\.h$")
        list(APPEND errors "(b) ${file} includes a header outside the core: ${line}")
      endif()
    endif()
  endforeach()
endforeach()

# (c) What the core and simulator targets link, as CMake knows it...
if(NOT EXISTS "${LINKS}")
  list(APPEND errors "(c) ${LINKS} does not exist: reconfigure the build")
else()
  file(STRINGS "${LINKS}" chains)
  foreach(chain IN LISTS chains)
    string(REGEX REPLACE "^.* -> " "" last "${chain}")
    string(TOLOWER "${last}" lower)
    if(lower MATCHES "${world_lib}")
      list(APPEND errors "(c) a core target links a library of the world: ${chain}")
    endif()
  endforeach()
endif()

# ...and sim_test's link command as the build system wrote it.
file(RELATIVE_PATH sim_rel "${BINARY_DIR}" "${SIM_TEST}")
set(link_line "")
if(EXISTS "${BINARY_DIR}/build.ninja")
  file(READ "${BINARY_DIR}/build.ninja" ninja)
  # "build sim/sim_test <byproducts...>: CXX_EXECUTABLE_LINKER__sim_test_<config> ..." and its
  # indented variables, LINK_FLAGS and LINK_LIBRARIES among them.
  string(REGEX REPLACE "([][+.*()^$?|\\\\])" "\\\\\\1" sim_rel_re "${sim_rel}")
  string(REGEX MATCH "\nbuild ${sim_rel_re}[ :][^\n]*EXECUTABLE_LINKER[^\n]*(\n  [^\n]*)*"
         block "${ninja}")
  if(NOT block MATCHES "\n  LINK_LIBRARIES = ")
    list(APPEND errors "(c) no link statement with LINK_LIBRARIES for ${sim_rel} in build.ninja")
  endif()
  string(REGEX MATCHALL "\n  (LINK_FLAGS|LINK_LIBRARIES) = [^\n]*" link_line "${block}")
else()
  file(GLOB_RECURSE link_txt "${BINARY_DIR}/*/sim_test.dir/link.txt")
  if(link_txt)
    list(GET link_txt 0 link_txt)
    file(READ "${link_txt}" link_line)
  else()
    list(APPEND errors "(c) neither build.ninja nor sim_test.dir/link.txt found in ${BINARY_DIR}")
  endif()
endif()
string(REGEX REPLACE "[ \t\n]+" ";" link_items "${link_line}")
foreach(item IN LISTS link_items)
  string(TOLOWER "${item}" lower)
  if(lower MATCHES "${world_lib}")
    list(APPEND errors "(c) sim_test's link command names a library of the world: ${item}")
  endif()
endforeach()

if(errors)
  list(JOIN errors "\n  " report)
  message(FATAL_ERROR "the core or the simulator reaches the world (see node/CMakeLists.txt):\n"
                      "  ${report}")
endif()
message(STATUS "sans-IO: sim_test loads no Boost/LevelDB/Snappy/Cap'n Proto library; "
               "${core_file_count} core sources include only core headers; "
               "ringkv_core, ringkv_storage, ringkv_sim and ringkv_aae link none of them")
