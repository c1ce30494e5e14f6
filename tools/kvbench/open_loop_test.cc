#include "tools/kvbench/open_loop.h"

#include <gtest/gtest.h>

namespace ringkv::bench {
namespace {

TEST(OpenLoopScheduleTest, IntendedTimesAreEvenlySpacedFromTheStart) {
  const OpenLoopSchedule s(1'000'000, 1000.0);  // one per millisecond
  EXPECT_EQ(s.IntendedNs(0), 1'000'000u);
  EXPECT_EQ(s.IntendedNs(1), 2'000'000u);
  EXPECT_EQ(s.IntendedNs(1000), 1'001'000'000u);
}

TEST(OpenLoopScheduleTest, NoDriftOverManyOperations) {
  // 3 per microsecond does not divide evenly: rounding must not accumulate.
  const OpenLoopSchedule s(0, 3e6);
  EXPECT_EQ(s.IntendedNs(3'000'000'000ULL), 1'000'000'000'000ULL);
  EXPECT_EQ(s.IntendedNs(1), 333u);
  EXPECT_EQ(s.IntendedNs(2), 667u);
}

TEST(OpenLoopScheduleTest, DueByCountsOperationsWhoseTimeHasCome) {
  const OpenLoopSchedule s(100, 1e6);  // one per microsecond from t=100 ns
  EXPECT_EQ(s.DueBy(0), 0u);
  EXPECT_EQ(s.DueBy(99), 0u);
  EXPECT_EQ(s.DueBy(100), 1u);   // operation 0 is due at its start
  EXPECT_EQ(s.DueBy(1099), 1u);
  EXPECT_EQ(s.DueBy(1100), 2u);
  for (uint64_t t = 0; t < 50'000; t += 77) {
    const uint64_t n = s.DueBy(t);
    if (n > 0) {
      EXPECT_LE(s.IntendedNs(n - 1), t);
    }
    EXPECT_GT(s.IntendedNs(n), t);
  }
}

// The point of the open loop: an operation sent late (behind a stall) is charged from its
// intended start, so a 100 ms stall shows up in every operation it held back.
TEST(OpenLoopScheduleTest, LatencyCountsFromTheIntendedStart) {
  const OpenLoopSchedule s(0, 1000.0);
  // Operations 0..99 were all due during a stall that ended at 100 ms; each completed 50 us after.
  for (uint64_t i = 0; i < 100; ++i) {
    const uint64_t done = 100'000'000 + 50'000;
    EXPECT_EQ(s.LatencyNs(i, done), done - i * 1'000'000);
  }
  EXPECT_EQ(s.LatencyNs(5, 1), 0u);  // completed before its time: clamped, never negative
}

}  // namespace
}  // namespace ringkv::bench
