// Simulation tests: the production coordinator and replica code on a virtual network, under
// seeded random fault schedules, checked against the replication invariants.
//
// Replay one seed exactly:   RINGKV_SIM_SEED=1234 build/sim/sim_test --gtest_filter='*Faults*'
// Run more seeds:            RINGKV_SIM_SEEDS=5000 build/sim/sim_test
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>

#include "sim/workload.h"

namespace ringkv::sim {
namespace {

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v ? std::strtoull(v, nullptr, 10) : fallback;
}

std::vector<std::string> Names(SimCluster* c) {
  std::vector<std::string> out;
  for (size_t i = 0; i < c->size(); ++i) out.push_back(c->node(i)->name());
  return out;
}

// Injects a fault every few virtual milliseconds while the workload runs: partitions of random
// shape (one-way too), crashes and restarts, message loss, duplication, delay and clock skew.
void ScheduleFaults(SimCluster* c, const bool* stop) {
  World* w = c->world();
  auto step = std::make_shared<std::function<void()>>();
  *step = [c, w, stop, step] {
    if (*stop) return;
    const auto names = Names(c);
    switch (w->Uniform(0, 7)) {
      case 0: {  // a random two-sided partition
        std::vector<std::string> a, b;
        for (const auto& n : names) (w->Chance(0.5) ? a : b).push_back(n);
        c->Partition(a, b);
        break;
      }
      case 1:  // a one-way cut
        c->Cut(names[static_cast<size_t>(w->Uniform(0, static_cast<int64_t>(names.size()) - 1))],
               names[static_cast<size_t>(w->Uniform(0, static_cast<int64_t>(names.size()) - 1))]);
        break;
      case 2:
      case 3:
        c->HealAll();
        break;
      case 4: {  // crash a node, restart it later
        SimNode* n = c->node(static_cast<size_t>(w->Uniform(0, static_cast<int64_t>(c->size()) - 1)));
        if (n->up()) {
          n->Crash();
          w->After(w->Uniform(5'000, 80'000), [n] {
            if (!n->up()) n->Start();
          });
        }
        break;
      }
      case 5:
        c->faults().loss = w->Chance(0.5) ? 0.0 : 0.05;
        c->faults().duplicate = w->Chance(0.5) ? 0.0 : 0.05;
        break;
      case 6:
        c->faults().delay_max_us = w->Chance(0.5) ? 3'000 : 60'000;
        break;
      case 7:
        c->node(static_cast<size_t>(w->Uniform(0, static_cast<int64_t>(c->size()) - 1)))
            ->clock()
            ->set_skew_us(w->Uniform(-2'000'000, 2'000'000));
        break;
    }
    w->After(w->Uniform(2'000, 30'000), *step);
  };
  w->After(w->Uniform(0, 5'000), *step);
}

// Heals everything, restarts the dead, reads every key at ALL to trigger read repair, and lets
// the repairs land.
void HealAndRepair(SimCluster* c, const std::vector<std::string>& keys) {
  World* w = c->world();
  c->HealAll();
  c->faults() = NetworkFaults{};
  for (size_t i = 0; i < c->size(); ++i) {
    if (!c->node(i)->up()) c->node(i)->Start();
  }
  w->RunToQuiescence();
  RequestOptions all;
  all.consistency = Consistency::kAll;
  for (const auto& key : keys) {
    c->node(0)->coordinator()->Get("sim", key, all, [](Result<ReadReply>) {});
  }
  w->RunToQuiescence();
}

struct SeedResult {
  std::vector<std::string> violations;
  size_t ops = 0, ok = 0, failed = 0, in_doubt = 0;
};

SeedResult RunSeed(uint64_t seed, bool faults) {
  World world(seed);
  SimOptions options;
  options.blocking_read_repair = seed % 2 == 1;  // both read-repair modes meet the faults
  SimCluster cluster(&world, options);
  WorkloadOptions wo;
  wo.request.consistency = Consistency::kQuorum;
  Workload workload(&cluster, wo);
  bool stop = false;
  if (faults) ScheduleFaults(&cluster, &stop);
  workload.Start();
  // Bounded in virtual time: far more than the workload needs.
  while (!workload.done() && world.now_us() < 600'000'000) world.RunUntil(world.now_us() + 10'000);
  stop = true;
  HealAndRepair(&cluster, workload.keys());
  SeedResult result;
  result.violations = CheckHistory(&cluster, workload.history(), workload.keys(), "sim");
  if (!workload.done()) result.violations.push_back("workload did not finish");
  for (const auto& op : workload.history()) {
    ++result.ops;
    result.ok += op.outcome == Op::Outcome::kOk;
    result.failed += op.outcome == Op::Outcome::kFail;
    result.in_doubt += op.outcome == Op::Outcome::kInfo;
  }
  return result;
}

TEST(SimTest, QuorumInvariantsHoldUnderRandomFaults) {
  const uint64_t only = EnvOr("RINGKV_SIM_SEED", 0);
  const uint64_t seeds = only ? 1 : EnvOr("RINGKV_SIM_SEEDS", 500);
  const auto start = std::chrono::steady_clock::now();
  size_t ops = 0, ok = 0, failed = 0, in_doubt = 0;
  for (uint64_t i = 0; i < seeds; ++i) {
    const uint64_t seed = only ? only : 1000 + i;
    auto r = RunSeed(seed, true);
    ops += r.ops;
    ok += r.ok;
    failed += r.failed;
    in_doubt += r.in_doubt;
    if (!r.violations.empty()) {
      std::string all;
      for (const auto& v : r.violations) all += "\n  " + v;
      FAIL() << "seed " << seed << ": " << r.violations.size() << " violation(s):" << all
             << "\nreplay: RINGKV_SIM_SEED=" << seed
             << " build/sim/sim_test --gtest_filter='SimTest.QuorumInvariantsHoldUnderRandomFaults'";
    }
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("sim: %llu seeds, %zu ops (%zu ok, %zu failed, %zu in doubt) in %.2f s = %.0f "
              "seeds/minute\n",
              static_cast<unsigned long long>(seeds), ops, ok, failed, in_doubt, secs,
              secs > 0 ? seeds / secs * 60 : 0.0);
  // The faults must bite, or the test proves nothing: some requests fail or end in doubt, and
  // most still succeed.
  EXPECT_GT(failed + in_doubt, 0u);
  EXPECT_GT(ok, ops / 2);
}

TEST(SimTest, NoFaultsNoFailures) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    auto r = RunSeed(seed, false);
    EXPECT_TRUE(r.violations.empty()) << "seed " << seed << ": " << r.violations.front();
    EXPECT_EQ(r.failed + r.in_doubt, 0u) << "seed " << seed;
  }
}

// Read-modify-write with the context, one client at a time: never a second sibling.
TEST(SimTest, ReadModifyWriteNeverCreatesFalseSiblings) {
  World world(7);
  SimCluster cluster(&world, SimOptions{});
  RequestOptions quorum;
  quorum.consistency = Consistency::kQuorum;
  for (int i = 0; i < 50; ++i) {
    SimNode* node = cluster.node(static_cast<size_t>(i) % cluster.size());
    std::optional<Result<ReadReply>> read;
    node->coordinator()->Get("sim", "counter", quorum, [&](Result<ReadReply> r) { read = r; });
    world.RunToQuiescence();
    ASSERT_TRUE(read && read->ok());
    EXPECT_LE(read->value().siblings.size(), 1u) << "false sibling after write " << i;
    std::optional<Result<WriteReply>> wrote;
    node->coordinator()->Put("sim", "counter", std::to_string(i), read->value().context, 0,
                             quorum, false, [&](Result<WriteReply> r) { wrote = r; });
    world.RunToQuiescence();
    ASSERT_TRUE(wrote && wrote->ok()) << wrote->status().ToString();
    EXPECT_EQ(wrote->value().siblings, 1u);
  }
}

// Two blind writes from different coordinators: both survive as siblings; a write with the
// merged context collapses them.
TEST(SimTest, ConcurrentBlindWritesBecomeSiblings) {
  World world(11);
  SimCluster cluster(&world, SimOptions{});
  RequestOptions quorum;
  quorum.consistency = Consistency::kQuorum;
  int acked = 0;
  cluster.node(0)->coordinator()->Put("sim", "k", "left", "", 0, quorum, false,
                                      [&](Result<WriteReply> r) { acked += r.ok(); });
  cluster.node(3)->coordinator()->Put("sim", "k", "right", "", 0, quorum, false,
                                      [&](Result<WriteReply> r) { acked += r.ok(); });
  world.RunToQuiescence();
  ASSERT_EQ(acked, 2);
  std::optional<Result<ReadReply>> read;
  cluster.node(1)->coordinator()->Get("sim", "k", quorum, [&](Result<ReadReply> r) { read = r; });
  world.RunToQuiescence();
  ASSERT_TRUE(read && read->ok());
  std::set<std::string> values;
  for (const auto& s : read->value().siblings) values.insert(s.value);
  EXPECT_EQ(values, (std::set<std::string>{"left", "right"}));

  std::optional<Result<WriteReply>> merged;
  cluster.node(2)->coordinator()->Put("sim", "k", "both", read->value().context, 0, quorum, false,
                                      [&](Result<WriteReply> r) { merged = r; });
  world.RunToQuiescence();
  ASSERT_TRUE(merged && merged->ok());
  read.reset();
  cluster.node(4)->coordinator()->Get("sim", "k", quorum, [&](Result<ReadReply> r) { read = r; });
  world.RunToQuiescence();
  ASSERT_EQ(read->value().siblings.size(), 1u);
  EXPECT_EQ(read->value().siblings[0].value, "both");
}

// With two of a key's three replicas down, QUORUM fails at once with UNAVAILABLE (2 needed,
// 1 alive) while ONE still answers.
TEST(SimTest, QuorumUnavailableFastOneStillWorks) {
  World world(3);
  SimCluster cluster(&world, SimOptions{});
  RequestOptions quorum, one;
  quorum.consistency = Consistency::kQuorum;
  one.consistency = Consistency::kOne;
  std::optional<Result<WriteReply>> wrote;
  cluster.node(0)->coordinator()->Put("sim", "k", "v", "", 0, quorum, false,
                                      [&](Result<WriteReply> r) { wrote = r; });
  world.RunToQuiescence();
  ASSERT_TRUE(wrote && wrote->ok());
  const auto replicas = cluster.PreferenceList(TokenOf("k"), 3);
  cluster.node(replicas[1])->Crash();
  cluster.node(replicas[2])->Crash();
  std::optional<Result<ReadReply>> read;
  const int64_t before = world.now_us();
  cluster.node(replicas[0])->coordinator()->Get("sim", "k", quorum,
                                                [&](Result<ReadReply> r) { read = r; });
  ASSERT_TRUE(read.has_value()) << "UNAVAILABLE must be immediate, not after a timeout";
  EXPECT_EQ(world.now_us(), before);
  ASSERT_FALSE(read->ok());
  EXPECT_EQ(read->status().code(), Code::kUnavailable);
  EXPECT_EQ(read->status().needed(), 2u);
  EXPECT_EQ(read->status().alive(), 1u);
  read.reset();
  cluster.node(replicas[0])->coordinator()->Get("sim", "k", one,
                                                [&](Result<ReadReply> r) { read = r; });
  world.RunToQuiescence();
  ASSERT_TRUE(read && read->ok());
  ASSERT_EQ(read->value().siblings.size(), 1u);
  EXPECT_EQ(read->value().siblings[0].value, "v");
}

// A replica misses a write (its link from the coordinator is cut). A QUORUM read coordinated by
// that replica merges its stale copy with a fresh one. With blocking read repair the stale
// replica holds the merge when the answer arrives; with the default, asynchronous repair, not yet.
void ReadRepairTiming(bool blocking, bool* repaired_when_answered) {
  World world(21);
  SimOptions options;
  options.blocking_read_repair = blocking;
  SimCluster cluster(&world, options);
  RequestOptions all, quorum;
  all.consistency = Consistency::kAll;
  quorum.consistency = Consistency::kQuorum;
  const auto replicas = cluster.PreferenceList(TokenOf("k"), 3);
  SimNode* a = cluster.node(replicas[0]);
  SimNode* c = cluster.node(replicas[2]);
  std::optional<Result<WriteReply>> w;
  a->coordinator()->Put("sim", "k", "v1", "", 0, all, false, [&](Result<WriteReply> r) { w = r; });
  world.RunToQuiescence();
  ASSERT_TRUE(w && w->ok());
  cluster.Cut(a->name(), c->name());
  w.reset();
  a->coordinator()->Put("sim", "k", "v2", "", 0, quorum, false,
                        [&](Result<WriteReply> r) { w = r; });
  world.RunToQuiescence();
  ASSERT_TRUE(w && w->ok()) << w->status().ToString();
  cluster.HealAll();
  // c's disk, directly: while a write's completion runs, KvService still holds the key.
  auto holds_v2 = [&] {
    auto r = c->storage()->Get(EncodeStorageKey("sim", TokenOf("k"), "k"));
    bool found = false;
    if (r.ok()) {
      for (const auto& s : r->siblings()) found |= s.value == "v2";
    }
    return found;
  };
  ASSERT_FALSE(holds_v2()) << "the cut kept v2 from c";
  std::optional<bool> at_answer;
  // R = 3 so that c's own stale copy is surely among the answers.
  c->coordinator()->Get("sim", "k", all, [&](Result<ReadReply> r) {
    ASSERT_TRUE(r.ok());
    at_answer = holds_v2();
  });
  world.RunToQuiescence();
  ASSERT_TRUE(at_answer.has_value());
  *repaired_when_answered = *at_answer;
  EXPECT_TRUE(holds_v2()) << "repaired in the end either way";
}

TEST(SimTest, BlockingReadRepairRepairsBeforeAnswering) {
  bool repaired = false;
  ReadRepairTiming(/*blocking=*/true, &repaired);
  EXPECT_TRUE(repaired);
  ReadRepairTiming(/*blocking=*/false, &repaired);
  EXPECT_FALSE(repaired) << "asynchronous repair lands after the answer";
}

}  // namespace
}  // namespace ringkv::sim
