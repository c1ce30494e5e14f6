#include "tools/kvbench/key_chooser.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <vector>

namespace ringkv::bench {
namespace {

// The shape of the zipfian: the frequency of rank r is proportional to 1 / (r+1)^theta.
TEST(KeyChooserTest, ZipfianRanksFollowThePowerLaw) {
  const uint64_t n = 10'000;
  const double theta = 0.99;
  auto table = std::make_shared<ZipfianTable>(n, theta);
  KeyChooser chooser(n, table, 42);
  const int draws = 2'000'000;
  std::vector<uint64_t> counts(n, 0);
  for (int i = 0; i < draws; ++i) {
    const uint64_t r = chooser.NextRank();
    ASSERT_LT(r, n);
    ++counts[r];
  }
  // Rank 0 and 1 are exact in Gray's method: p(r) = 1 / ((r+1)^theta * zeta(n)).
  for (uint64_t r : {0, 1}) {
    const double expected = draws / (std::pow(r + 1.0, theta) * table->zetan);
    EXPECT_NEAR(counts[r], expected, 5 * std::sqrt(expected)) << r;
  }
  // Further ranks are approximated; check the ratio of whole decades, which the approximation
  // keeps within a few percent: ranks [10, 100) against [100, 1000).
  auto sum = [&](uint64_t lo, uint64_t hi) {
    double s = 0;
    for (uint64_t r = lo; r < hi; ++r) s += counts[r];
    return s;
  };
  auto ideal = [&](uint64_t lo, uint64_t hi) {
    double s = 0;
    for (uint64_t r = lo; r < hi; ++r) s += 1.0 / std::pow(r + 1.0, theta);
    return s;
  };
  const double got = sum(10, 100) / sum(100, 1000);
  const double want = ideal(10, 100) / ideal(100, 1000);
  EXPECT_NEAR(got, want, 0.1 * want);
  // Heavy head: the top 1% of ranks take far more than 1% of draws (about half at theta 0.99).
  EXPECT_GT(sum(0, n / 100) / draws, 0.4);
}

TEST(KeyChooserTest, UniformCoversTheRangeEvenly) {
  const uint64_t n = 100;
  KeyChooser chooser(n, nullptr, 3);
  std::vector<int> counts(n, 0);
  const int draws = 200'000;
  for (int i = 0; i < draws; ++i) ++counts[chooser.Next()];
  for (int c : counts) EXPECT_NEAR(c, draws / n, 5 * std::sqrt(draws / n));
}

TEST(KeyChooserTest, ScrambledZipfianSpreadsHotKeys) {
  const uint64_t n = 1'000'000;
  KeyChooser chooser(n, std::make_shared<ZipfianTable>(n, 0.99), 5);
  std::map<uint64_t, int> counts;
  for (int i = 0; i < 100'000; ++i) ++counts[chooser.Next()];
  // The hottest key is not key 0: the ranks are hashed over the range.
  uint64_t hottest = 0;
  int best = 0;
  for (auto [k, c] : counts) {
    ASSERT_LT(k, n);
    if (c > best) {
      best = c;
      hottest = k;
    }
  }
  EXPECT_EQ(hottest, Fnv1a64(0) % n);
}

TEST(KeyChooserTest, SeedsRepeat) {
  KeyChooser a(1000, nullptr, 9), b(1000, nullptr, 9);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.Next(), b.Next());
}

TEST(KeyChooserTest, KeysAreFixedWidth) {
  EXPECT_EQ(FormatKey(0, 16), "k000000000000000");
  EXPECT_EQ(FormatKey(123456, 16), "k000000000123456");
  EXPECT_EQ(FormatKey(99, 3), "k99");
  EXPECT_TRUE(KeyBytesFit(1'000'000, 7));   // largest index 999999: 6 digits + "k"
  EXPECT_FALSE(KeyBytesFit(1'000'001, 7));  // 1000000: 7 digits
  std::set<std::string> distinct;
  for (uint64_t i = 0; i < 1000; ++i) distinct.insert(FormatKey(i, 8));
  EXPECT_EQ(distinct.size(), 1000u);
}

}  // namespace
}  // namespace ringkv::bench
