# ringkv_cql: the Session that carries CQL-lite statements out over the client library
# (schema records, the partition layout, reads, writes, DDL). See cql/README.md.

# The partition codec and merge rules alone: pure, no client, testable on their own.
add_library(ringkv_cql_partition STATIC ${CMAKE_CURRENT_SOURCE_DIR}/partition.cc)
target_include_directories(ringkv_cql_partition PUBLIC ${PROJECT_SOURCE_DIR})

add_library(ringkv_cql STATIC
  ${CMAKE_CURRENT_SOURCE_DIR}/schema.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/session.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/exec_ddl.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/schema_agreement.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/exec_write.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/exec_select.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/keys.cc)
target_include_directories(ringkv_cql PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(ringkv_cql
  PUBLIC ringkv_cql_lang ringkv_client ringkv_cql_partition
  PRIVATE fmt::fmt nlohmann_json::nlohmann_json)

ringkv_test(partition_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/partition_test.cc
  LIBS ringkv_cql_partition)
ringkv_test(schema_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/schema_test.cc LIBS ringkv_cql)
ringkv_test(schema_agreement_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/schema_agreement_test.cc
  LIBS ringkv_cql)
ringkv_test(session_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/session_test.cc
  LIBS ringkv_cql ringkv_testing fmt::fmt)
