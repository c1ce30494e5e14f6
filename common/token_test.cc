#include "common/token.h"
#include <gtest/gtest.h>
namespace ringkv { namespace {
TEST(TokenTest, CassandraGoldenVectors) {
  EXPECT_EQ(TokenOf("doc1"), 5607192412168825486LL);
  EXPECT_EQ(TokenOf("123456789012345678"), -1519150012378291793LL);
}
}}
