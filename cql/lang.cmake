# ringkv_cql_lang: CQL-lite values, lexer, parser, literal typing and statement splitting. No
# dependency on the client library's code: only its headers, because session.h (CqlError,
# CqlResult, Session::SplitStatements) includes ringkv/client.h.
add_library(ringkv_cql_lang STATIC
  ${CMAKE_CURRENT_SOURCE_DIR}/civil_time.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/value.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/lexer.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/parser.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/parser_dml.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/parser_ddl.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/term_convert.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/split.cc)
target_include_directories(ringkv_cql_lang PUBLIC ${PROJECT_SOURCE_DIR}/client/include)
target_link_libraries(ringkv_cql_lang PUBLIC fmt::fmt)

ringkv_test(cql_value_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/value_test.cc LIBS ringkv_cql_lang)
ringkv_test(cql_lexer_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/lexer_test.cc LIBS ringkv_cql_lang)
ringkv_test(cql_parser_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/parser_test.cc LIBS ringkv_cql_lang)

if(RINGKV_FUZZ AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/parser_fuzz.cc)
  add_executable(cql_parser_fuzz ${CMAKE_CURRENT_SOURCE_DIR}/parser_fuzz.cc)
  target_compile_options(cql_parser_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(cql_parser_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(cql_parser_fuzz PRIVATE ringkv_cql_lang)
endif()
