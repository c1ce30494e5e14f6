#include "tools/kvbench/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace ringkv::bench {
namespace {

TEST(LatencyHistogramTest, BucketsCoverEveryValueWithinOnePercent) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 200'000; ++i) {
    const uint64_t v = rng() >> (rng() % 64);
    if (v > LatencyHistogram::kMaxValue) continue;
    const int b = LatencyHistogram::BucketOf(v);
    ASSERT_GE(b, 0);
    ASSERT_LT(b, LatencyHistogram::kBuckets);
    const uint64_t upper = LatencyHistogram::BucketUpper(b);
    ASSERT_GE(upper, v) << v;
    // The bucket's upper bound overstates by less than 1/128 of the value.
    ASSERT_LE(upper - v, v / LatencyHistogram::kSubBuckets) << v;
    if (b > 0) {
      ASSERT_LT(LatencyHistogram::BucketUpper(b - 1), v) << v;
    }
  }
}

TEST(LatencyHistogramTest, BucketsAreContiguousAndIncreasing) {
  for (int b = 1; b < LatencyHistogram::kBuckets; ++b) {
    const uint64_t lower = LatencyHistogram::BucketUpper(b - 1) + 1;
    ASSERT_EQ(LatencyHistogram::BucketOf(lower), b);
    ASSERT_EQ(LatencyHistogram::BucketOf(LatencyHistogram::BucketUpper(b)), b);
  }
  EXPECT_EQ(LatencyHistogram::BucketOf(LatencyHistogram::kMaxValue),
            LatencyHistogram::kBuckets - 1);
}

TEST(LatencyHistogramTest, PercentilesMatchSortedSamples) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(11.0, 1.2);  // ~60 us median, a long tail
  std::vector<uint64_t> samples;
  LatencyHistogram h;
  for (int i = 0; i < 100'000; ++i) {
    const auto v = static_cast<uint64_t>(dist(rng));
    samples.push_back(v);
    h.Record(v);
  }
  std::sort(samples.begin(), samples.end());
  for (double p : {1.0, 50.0, 90.0, 99.0, 99.9, 99.99}) {
    const size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * samples.size()));
    const uint64_t exact = samples[rank - 1];
    const uint64_t got = h.Percentile(p);
    EXPECT_GE(got, exact) << p;
    EXPECT_LE(static_cast<double>(got), exact * 1.008 + 1) << p;
  }
  EXPECT_EQ(h.Percentile(100), samples.back());
  EXPECT_EQ(h.max(), samples.back());
  EXPECT_EQ(h.min(), samples.front());
  EXPECT_EQ(h.count(), samples.size());
}

TEST(LatencyHistogramTest, MergeEqualsRecordingEverything) {
  LatencyHistogram a, b, both;
  for (uint64_t v = 1; v < 100'000; v += 37) {
    (v % 2 ? a : b).Record(v * 13);
    both.Record(v * 13);
  }
  a.Merge(b);
  EXPECT_EQ(a.count(), both.count());
  for (double p : {10.0, 50.0, 99.0, 99.9}) EXPECT_EQ(a.Percentile(p), both.Percentile(p));
  EXPECT_EQ(a.max(), both.max());
  EXPECT_EQ(a.min(), both.min());
  EXPECT_DOUBLE_EQ(a.Mean(), both.Mean());
}

TEST(LatencyHistogramTest, EmptyAndClamped) {
  LatencyHistogram h;
  EXPECT_EQ(h.Percentile(99), 0u);
  EXPECT_EQ(h.min(), 0u);
  h.Record(UINT64_MAX);
  EXPECT_EQ(h.clamped(), 1u);
  EXPECT_EQ(h.max(), LatencyHistogram::kMaxValue);
  EXPECT_EQ(h.Percentile(50), LatencyHistogram::kMaxValue);
}

TEST(LatencyHistogramTest, SmallValuesAreExact) {
  LatencyHistogram h;
  for (uint64_t v = 0; v < 128; ++v) h.Record(v);
  EXPECT_EQ(h.Percentile(50), 63u);
  EXPECT_EQ(h.Percentile(100), 127u);
}

}  // namespace
}  // namespace ringkv::bench
