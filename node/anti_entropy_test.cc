// AntiEntropy between two in-process replicas: an exchange finds exactly the keys on which they
// differ (missing on either side, newer on either side, concurrent, deleted) and repairs both
// ways through the versions, after which their trees and their data are identical; a replica that
// is down is a counted failure, and a second repair finds nothing to do.
#include "node/anti_entropy.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <map>

#include "node/direct_replicas.h"

namespace ringkv {
namespace {

using Replica = DirectReplica;

class AntiEntropyTest : public ::testing::Test {
 protected:
  AntiEntropyTest() : n1_("n1", 1, &dir_, &timers_, &clock_), n2_("n2", 2, &dir_, &timers_, &clock_) {
    // n3 is a replica of every range (3 nodes, N = 3) but down: its exchanges fail, counted.
    n1_.view.SetAlive("n3", false);
    n2_.view.SetAlive("n3", false);
  }
  void Build() {
    n1_.trees.Refresh();
    n2_.trees.Refresh();
    for (int i = 0; i < 100; ++i) timers_.FireAll();
    ASSERT_TRUE(n1_.trees.Ready("default") && n2_.trees.Ready("default"));
  }
  void RunRepair() { n1_.RunRepair(&timers_, {&n2_}); }
  Fingerprint FingerprintFrom(Replica& r) {
    std::optional<Result<Fingerprint>> out;
    r.anti_entropy.FingerprintOf("default", [&](Result<Fingerprint> f) { out = f; });
    EXPECT_TRUE(out && out->ok());
    return out && out->ok() ? out->value() : Fingerprint{};
  }
  std::map<Token, uint64_t> Roots(Replica& r) {
    std::map<Token, uint64_t> out;
    for (const auto& range : r.trees.Ranges("default")) out[range.range.end] = range.root;
    return out;
  }

  ManualClock clock_;
  ManualTimers timers_;
  ReplicaDirectory dir_;
  Replica n1_, n2_;
};

TEST_F(AntiEntropyTest, RepairsExactlyTheDifferencesBothWays) {
  for (int i = 0; i < 400; ++i) {
    const std::string key = fmt::format("doc-{}", i);
    n2_.Store(key, n1_.Put(key, "v1"));
  }
  Build();
  ASSERT_EQ(Roots(n1_), Roots(n2_));
  size_t differing = 0;
  for (int i = 0; i < 40; ++i, ++differing) n1_.Put(fmt::format("only-n1-{}", i), "a");
  for (int i = 0; i < 30; ++i, ++differing) n2_.Put(fmt::format("only-n2-{}", i), "b");
  for (int i = 0; i < 20; ++i, ++differing) {
    const auto ctx = n1_.Contents().at(fmt::format("doc-{}", i)).clock().EncodeContext();
    n1_.Put(fmt::format("doc-{}", i), "newer-on-n1", ctx);
  }
  for (int i = 100; i < 110; ++i, ++differing) {  // concurrent: siblings once merged
    n1_.Put(fmt::format("doc-{}", i), "x1");
    n2_.Put(fmt::format("doc-{}", i), "x2");
  }
  for (int i = 200; i < 205; ++i, ++differing) {  // deleted on n2 only
    n2_.Del(fmt::format("doc-{}", i));
  }
  ASSERT_NE(Roots(n1_), Roots(n2_));
  const Fingerprint before = FingerprintFrom(n1_);
  EXPECT_NE(before.hash, FingerprintFrom(n2_).hash);

  RunRepair();
  const RepairReport& r = n1_.anti_entropy.report();
  EXPECT_EQ(r.state, "done");
  EXPECT_EQ(r.keys_differing, differing);
  EXPECT_EQ(r.keys_repaired, differing);
  const size_t ranges = n1_.trees.Ranges("default").size();
  EXPECT_EQ(r.ranges_total, 2 * ranges) << "each range with n2 and with n3";
  EXPECT_EQ(r.failures, ranges) << "n3 is down";
  EXPECT_NE(r.last_error.find("n3 is down"), std::string::npos) << r.last_error;
  EXPECT_GT(r.bytes, 0u);

  EXPECT_EQ(Roots(n1_), Roots(n2_));
  EXPECT_EQ(n1_.Contents(), n2_.Contents());
  const auto merged = n1_.Contents().at("doc-105");
  // Blind puts (no context) on each side: v1, x1 and x2 are all concurrent.
  EXPECT_EQ(merged.Live(clock_.NowUs()).size(), 3u) << "concurrent values became siblings";
  EXPECT_TRUE(n1_.Contents().at("doc-201").Live(clock_.NowUs()).empty()) << "the delete won";
  EXPECT_EQ(n2_.Contents().at("doc-3").Live(clock_.NowUs()).front().value, "newer-on-n1");

  // kvctl merkle: per range, n1's and n2's roots (equal), and n3 down.
  std::optional<Result<std::vector<RangeRoots>>> roots;
  n1_.anti_entropy.Roots("default", [&](Result<std::vector<RangeRoots>> r) { roots = r; });
  ASSERT_TRUE(roots && roots->ok());
  ASSERT_EQ(roots->value().size(), ranges);
  for (const auto& rr : roots->value()) {
    ASSERT_EQ(rr.roots.size(), 3u);
    const auto n1 = std::find(rr.replicas.begin(), rr.replicas.end(), "n1") - rr.replicas.begin();
    const auto n2 = std::find(rr.replicas.begin(), rr.replicas.end(), "n2") - rr.replicas.begin();
    const auto n3 = std::find(rr.replicas.begin(), rr.replicas.end(), "n3") - rr.replicas.begin();
    EXPECT_EQ(rr.roots[n1], rr.roots[n2]);
    EXPECT_NE(rr.roots[n3].find("n3 is down"), std::string::npos) << rr.roots[n3];
    EXPECT_EQ(rr.converged_us, 0) << "n3 never agreed";
  }
  // kvctl fingerprint: equal through either replica once they converged.
  const Fingerprint after = FingerprintFrom(n1_);
  EXPECT_EQ(after.ranges_missing, 0u);
  EXPECT_EQ(after.hash, FingerprintFrom(n2_).hash);
  EXPECT_NE(after.hash, before.hash);

  // Nothing differs now: every exchange with n2 agrees at its root.
  RunRepair();
  EXPECT_EQ(n1_.anti_entropy.report().keys_differing, 0u);
  EXPECT_EQ(n1_.anti_entropy.report().ranges_agreed, ranges);
  for (const auto& range : n1_.trees.Ranges("default")) {
    EXPECT_EQ(range.agreed_us.count("n2"), 1u);
  }
}

TEST_F(AntiEntropyTest, RefusedWhileTheTreesBuildOrARepairRuns) {
  n1_.Put("k", "v");
  EXPECT_EQ(n1_.anti_entropy.Repair("").code(), Code::kUnavailable) << "trees not built";
  EXPECT_FALSE(n1_.anti_entropy.Repair("no_such").ok());
  Build();
  ASSERT_TRUE(n1_.anti_entropy.Repair("").ok());
  EXPECT_EQ(n1_.anti_entropy.Repair("").code(), Code::kInvalidArgument) << "one at a time";
}

TEST(PaceDelayTest, WaitsUntilTheBytesSentFitTheRate) {
  EXPECT_EQ(PaceDelayUs(1000, 0, 0), 0) << "no limit";
  EXPECT_EQ(PaceDelayUs(1000, 0, 1000), 1'000'000);
  EXPECT_EQ(PaceDelayUs(1000, 400'000, 1000), 600'000);
  EXPECT_EQ(PaceDelayUs(1000, 2'000'000, 1000), 0) << "behind the rate already";
}

// A scheduled round waits between its steps so that its bytes average at most the rate: its last
// wait is the time its bytes take at that rate (the manual clock stands still). A repair does not
// wait.
TEST(AntiEntropyPaceTest, ARoundKeepsToItsRateAndARepairRunsAtFullSpeed) {
  for (const bool round : {true, false}) {
    ManualClock clock;
    ManualTimers timers;
    ReplicaDirectory dir;
    AntiEntropyOptions options{round ? 1'000 : 0, 1000, {}};
    options.round_bytes_per_s = 1000;
    DirectReplica n1("n1", 1, &dir, &timers, &clock, options);
    DirectReplica n2("n2", 2, &dir, &timers, &clock, options);
    n1.view.SetAlive("n3", false);
    for (int i = 0; i < 200; ++i) n1.Put(fmt::format("doc-{}", i), "v");
    n1.trees.Refresh();
    n2.trees.Refresh();
    for (int i = 0; i < 100; ++i) timers.FireAll();
    if (!round) {
      n1.RunRepair(&timers, {&n2});
      EXPECT_GT(n1.anti_entropy.report().keys_repaired, 0u);
      EXPECT_EQ(timers.longest_us(), 0);
      continue;
    }
    n1.anti_entropy.Start();
    for (int i = 0; i < 100'000 && n1.anti_entropy.report().state != "done"; ++i) {
      n1.storage.RunCompletions();
      n2.storage.RunCompletions();
      timers.FireAll();
    }
    const RepairReport& r = n1.anti_entropy.report();
    ASSERT_EQ(r.state, "done");
    EXPECT_GT(r.keys_repaired, 0u);
    EXPECT_GT(PaceDelayUs(r.bytes, 0, 1000), 1'000'000) << "longer than the interval";
    EXPECT_EQ(timers.longest_us(), PaceDelayUs(r.bytes, 0, 1000));
  }
}

}  // namespace
}  // namespace ringkv
