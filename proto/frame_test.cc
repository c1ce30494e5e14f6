#include "proto/frame.h"
#include <gtest/gtest.h>
namespace ringkv::proto { namespace {
TEST(FrameTest, Placeholder) {}
}}
