#include "gossip/phi_detector.h"

#include <gtest/gtest.h>

namespace ringkv::gossip {
namespace {

TEST(PhiDetector, GrowsWithSilenceAndCrossesTheThresholdAfterAFewMeanIntervals) {
  PhiOptions options;
  PhiDetector d(&options);
  EXPECT_EQ(d.Phi(5'000'000), 0);  // nothing heard yet: no opinion
  int64_t t = 0;
  for (int i = 0; i < 50; ++i) d.Arrival(t += (i % 2 ? 800'000 : 1'200'000));
  EXPECT_NEAR(d.mean_us(), 1'000'000, 10'000);
  EXPECT_LT(d.Phi(t + 1'000'000), 1.0);
  EXPECT_LT(d.Phi(t + 3'000'000), options.threshold) << "within the 700 ms floor's tolerance";
  EXPECT_GT(d.Phi(t + 6'000'000), options.threshold);
  double last = 0;
  for (int64_t s = 0; s <= 6'000'000; s += 100'000) {
    EXPECT_GE(d.Phi(t + s), last);
    last = d.Phi(t + s);
  }
}

TEST(PhiDetector, ResetForgetsTheIntervalsAndForgiveRestartsTheSilence) {
  PhiOptions options;
  PhiDetector d(&options);
  int64_t t = 0;
  for (int i = 0; i < 20; ++i) d.Arrival(t += 100'000);  // very frequent beats
  EXPECT_GT(d.Phi(t + 5'000'000), options.threshold);
  d.Forgive(t + 5'000'000);
  EXPECT_LT(d.Phi(t + 5'000'000), 1.0);
  d.Reset(t);
  EXPECT_NEAR(d.mean_us(), options.first_interval_us, 1);
  EXPECT_LT(d.Phi(t + 4'000'000), options.threshold) << "a new member gets a 2 s interval's benefit";
}

}  // namespace
}  // namespace ringkv::gossip
