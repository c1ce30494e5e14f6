#include "common/version.h"
#include <gtest/gtest.h>
namespace ringkv { namespace {
TEST(VersionTest, Placeholder) { VersionVector v; v.Set(1, 2); EXPECT_EQ(v.Get(1), 2u); }
}}
