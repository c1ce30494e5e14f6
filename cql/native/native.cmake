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
