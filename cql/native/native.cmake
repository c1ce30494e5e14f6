# ringkv_cql_native: the CQL binary protocol v4 (frames, messages, values on the wire) and the
# conversation that serves it over a cql::Session. See cql/native/README.md.
add_library(ringkv_cql_native_codec STATIC
  ${CMAKE_CURRENT_SOURCE_DIR}/native/frame.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/native/messages.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/native/types.cc)
target_include_directories(ringkv_cql_native_codec PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(ringkv_cql_native_codec PUBLIC ringkv_cql_lang PRIVATE fmt::fmt)

ringkv_test(cql_native_codec_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/native/codec_test.cc
  LIBS ringkv_cql_native_codec)

if(RINGKV_FUZZ)
  add_executable(cql_native_fuzz ${CMAKE_CURRENT_SOURCE_DIR}/native/native_fuzz.cc)
  target_compile_options(cql_native_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(cql_native_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(cql_native_fuzz PRIVATE ringkv_cql_native_codec)
endif()

# The conversation: requests carried out by a cql::Session, system tables, prepared statements.
add_library(ringkv_cql_native STATIC
  ${CMAKE_CURRENT_SOURCE_DIR}/native/auth.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/native/conversation.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/native/prepared.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/native/system_tables.cc)
target_include_directories(ringkv_cql_native PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(ringkv_cql_native PUBLIC ringkv_cql_native_codec ringkv_cql PRIVATE fmt::fmt)

# End to end with a real Cassandra driver: Debian's python3-cassandra (scripts/install-deps.sh)
# against three kvnode processes on 127.0.0.1. Debian's interpreter, not one first on PATH
# (pyenv and the like), is the one that has the package.
find_program(RINGKV_DEBIAN_PYTHON python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(RINGKV_DEBIAN_PYTHON)
  add_test(NAME cql_driver_test
           COMMAND ${RINGKV_DEBIAN_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/native/driver_test.py
                   $<TARGET_FILE:kvnode>)
  set_tests_properties(cql_driver_test PROPERTIES LABELS e2e TIMEOUT 300)
endif()

ringkv_test(cql_native_conversation_test
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/native/conversation_test.cc
  LIBS ringkv_cql_native ringkv_testing)
