// Simulation tests: the production coordinator and replica code on a virtual network, under
// seeded random fault schedules, checked against the replication invariants.
//
// Replay one seed exactly:   RINGKV_SIM_SEED=1234 build/sim/sim_test --gtest_filter='*Faults*'
// Run more seeds:            RINGKV_SIM_SEEDS=5000 build/sim/sim_test
// Start elsewhere:           RINGKV_SIM_FIRST_SEED=50000 RINGKV_SIM_SEEDS=5000 build/sim/sim_test
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "sim/checker.h"
#include "sim/faults.h"
#include "sim/workload.h"

namespace ringkv::sim {
namespace {

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v ? std::strtoull(v, nullptr, 10) : fallback;
}

// The consistency settings a seed runs under, by seed: every level and explicit R / W meet the
// faults, both read-repair modes too.
enum class Profile { kQuorum, kMixed, kR1W1, kOneAll };
constexpr Profile kProfiles[] = {Profile::kQuorum, Profile::kMixed, Profile::kR1W1,
                                 Profile::kOneAll};
const char* ProfileName(Profile p) {
  switch (p) {
    case Profile::kQuorum: return "quorum";
    case Profile::kMixed: return "mixed";
    case Profile::kR1W1: return "r1w1";
    case Profile::kOneAll: return "one/all";
  }
  return "?";
}

void SetLevels(Profile p, uint64_t seed, WorkloadOptions* wo) {
  using C = Consistency;
  switch (p) {
    case Profile::kQuorum:
      wo->read_levels = wo->write_levels = {{C::kQuorum, 0}};
      break;
    case Profile::kMixed:
      wo->read_levels = {{C::kOne, 0}, {C::kTwo, 0}, {C::kQuorum, 0}, {C::kAll, 0},
                         {C::kQuorum, 2}, {C::kOne, 3}};
      wo->write_levels = {{C::kOne, 0}, {C::kAny, 0}, {C::kTwo, 0}, {C::kQuorum, 0},
                          {C::kThree, 0}, {C::kQuorum, 1}, {C::kOne, 2}};
      break;
    case Profile::kR1W1:  // staleness expected: counted, not failed
      wo->read_levels = wo->write_levels = {{C::kOne, 0}};
      break;
    case Profile::kOneAll:  // R + W = N + 1 either way round
      if (seed % 8 < 4) {
        wo->read_levels = {{C::kOne, 0}};
        wo->write_levels = {{C::kAll, 0}};
      } else {
        wo->read_levels = {{C::kAll, 0}};
        wo->write_levels = {{C::kOne, 0}};
      }
      break;
  }
}

struct SeedResult {
  CheckReport report;
  Profile profile = Profile::kQuorum;
  size_t ops = 0, ok = 0, failed = 0, in_doubt = 0;
  uint64_t hints_stored = 0, hints_delivered = 0;
  size_t sloppy_writes = 0, stand_in_writes = 0;  // asked sloppy; acknowledged in part by stand-ins
  bool anti_entropy = false;  // anti-entropy converged the replicas (else reads at ALL)
  bool anti_entropy_only = false;  // read repair and hinted handoff were off
  std::string idle_node;  // ran no repair at the end (RepairWithAntiEntropy)
  uint64_t round_repairs = 0, repair_keys = 0;  // keys repaired by rounds; by the final repair
};

// Anti-entropy by seed, in blocks of 16 seeds (so it crosses every other setting): half the blocks
// converge the healed cluster by reads at ALL (read repair) as before anti-entropy existed; the
// other half by one anti-entropy repair on every node (sim/faults.h), in four kinds: the repair
// alone; scheduled rounds every 50-250 virtual ms during the faults too; and either of those with
// read repair and hinted handoff off, so that only anti-entropy can bring a replica what it
// missed. In every other block of 128 seeds one node (by seed) runs no final repair: that catches
// a repair that copies one way only (sim/faults.h). Reads at ALL in every seed would leave
// anti-entropy little to find; so would anti-entropy in every seed for read repair, whose planted
// bugs the final replica check catches.
void SetAntiEntropy(uint64_t seed, SimOptions* options, SeedResult* result) {
  if ((seed / 16) % 2 == 0) return;
  options->anti_entropy = result->anti_entropy = true;
  const uint64_t kind = (seed / 32) % 4;
  if (kind % 2 == 1) options->anti_entropy_interval_ms = 50 + static_cast<int64_t>(seed % 5) * 50;
  if (kind >= 2) {
    options->read_repair = options->hinted_handoff = false;
    result->anti_entropy_only = true;
  }
  if ((seed / 128) % 2 == 1) result->idle_node = fmt::format("n{}", 1 + seed % options->nodes);
}

SeedResult RunSeed(uint64_t seed, bool faults) {
  World world(seed);
  SimOptions options;
  options.blocking_read_repair = (seed / 4) % 2 == 1;
  // Hint replay by seed: tick, batch size, and a throttle tight enough to spread the replay of a
  // run's hints over many ticks (sim hints are ~100 bytes).
  options.hints.tick_ms = 20 + static_cast<int64_t>(seed % 5) * 40;
  options.hints.batch_hints_max = 1 + seed % 8;
  if (seed % 3 == 0) options.hints.throughput_kb_per_s = options.hints.total_throughput_kb_per_s = 2;
  SeedResult result;
  SetAntiEntropy(seed, &options, &result);
  SimCluster cluster(&world, options);
  WorkloadOptions wo;
  result.profile = kProfiles[seed % 4];
  SetLevels(result.profile, seed, &wo);
  // Every other block of eight seeds: half the writes ask for sloppy quorum.
  // (Stand-ins hold hints: not without hinted handoff.)
  if ((seed / 8) % 2 == 1 && options.hinted_handoff) wo.p_sloppy = 0.5;
  Workload workload(&cluster, wo);
  FaultSchedule schedule(&cluster);
  if (faults) schedule.Start();
  workload.Start();
  // Bounded in virtual time: far more than the workload needs.
  while (!workload.done() && world.now_us() < 600'000'000) world.RunUntil(world.now_us() + 10'000);
  schedule.Stop();
  auto probe_violations = HealAndRepair(&cluster, &workload, result.idle_node);
  CheckOptions co;
  co.replication_factor = options.replication_factor;
  co.blocking_read_repair = options.blocking_read_repair && options.read_repair;
  result.report = CheckHistory(&cluster, workload.history(), workload.keys(), co);
  for (auto& v : probe_violations) result.report.violations.push_back(std::move(v));
  for (size_t i = 0; i < cluster.size(); ++i) {
    result.round_repairs += cluster.node(i)->rounds_keys_repaired();
    if (AntiEntropy* ae = cluster.node(i)->anti_entropy()) {
      result.repair_keys += ae->report().keys_repaired;
    }
    if (HintedHandoff* h = cluster.node(i)->handoff()) {
      result.hints_stored += h->stats().stored;
      result.hints_delivered += h->stats().delivered;
    }
  }
  if (!workload.done()) result.report.violations.push_back("workload did not finish");
  for (const auto& op : workload.history()) {
    ++result.ops;
    result.ok += op.outcome == Op::Outcome::kOk;
    result.failed += op.outcome == Op::Outcome::kFail;
    result.in_doubt += op.outcome == Op::Outcome::kInfo;
    result.sloppy_writes += op.sloppy;
    result.stand_in_writes += op.outcome == Op::Outcome::kOk && op.fallback_acks > 0;
  }
  return result;
}

// The randomized test. Stops at the first seed with a violation (the mutation script reads the
// "caught" line it prints).
TEST(SimTest, InvariantsHoldUnderRandomFaults) {
  const uint64_t only = EnvOr("RINGKV_SIM_SEED", 0);
  const uint64_t seeds = only ? 1 : EnvOr("RINGKV_SIM_SEEDS", 500);
  const uint64_t first = EnvOr("RINGKV_SIM_FIRST_SEED", 1000);
  const auto start = std::chrono::steady_clock::now();
  size_t ops = 0, ok = 0, failed = 0, in_doubt = 0, reads = 0, strict_pairs = 0;
  uint64_t hints_stored = 0, hints_delivered = 0;
  uint64_t ae_seeds = 0, ae_only_seeds = 0, round_repairs = 0, repair_keys = 0;
  uint64_t repair_keys_only = 0;
  size_t stale[4] = {0, 0, 0, 0}, non_monotonic = 0, sloppy_writes = 0, stand_in_writes = 0;
  for (uint64_t i = 0; i < seeds; ++i) {
    const uint64_t seed = only ? only : first + i;
    auto r = RunSeed(seed, true);
    ops += r.ops;
    ok += r.ok;
    failed += r.failed;
    in_doubt += r.in_doubt;
    hints_stored += r.hints_stored;
    hints_delivered += r.hints_delivered;
    sloppy_writes += r.sloppy_writes;
    stand_in_writes += r.stand_in_writes;
    ae_seeds += r.anti_entropy;
    ae_only_seeds += r.anti_entropy_only;
    round_repairs += r.round_repairs;
    repair_keys += r.repair_keys;
    if (r.anti_entropy_only) repair_keys_only += r.repair_keys;
    reads += r.report.reads_checked;
    strict_pairs += r.report.strict_pairs;
    stale[static_cast<int>(r.profile)] += r.report.stale_reads;
    non_monotonic += r.report.non_monotonic;
    if (!r.report.violations.empty()) {
      std::string all;
      for (size_t v = 0; v < r.report.violations.size() && v < 20; ++v) {
        all += "\n  " + r.report.violations[v];
      }
      std::printf("sim: caught at seed %llu after %llu seed(s)\n",
                  static_cast<unsigned long long>(seed), static_cast<unsigned long long>(i + 1));
      FAIL() << "seed " << seed << " (" << ProfileName(r.profile) << "): "
             << r.report.violations.size() << " violation(s):" << all
             << "\nreplay: RINGKV_SIM_SEED=" << seed
             << " build/sim/sim_test --gtest_filter='SimTest.InvariantsHoldUnderRandomFaults'";
    }
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("sim: %llu seeds, %zu ops (%zu ok, %zu failed, %zu in doubt), %zu reads checked, "
              "%zu strict (read, earlier write) pairs; counted, not failed: %zu stale reads under "
              "r1w1, %zu under mixed, %zu non-monotonic; hints: %llu stored, %llu delivered "
              "(stats of the last incarnations); sloppy quorum: %zu writes asked, %zu "
              "acknowledged in part by stand-ins; anti-entropy: %llu seeds (%llu without read "
              "repair and hints), keys repaired: %llu by rounds during the faults, %llu by the "
              "final repair (%llu of them without read repair and hints); %.2f s = %.0f "
              "seeds/minute\n",
              static_cast<unsigned long long>(seeds), ops, ok, failed, in_doubt, reads,
              strict_pairs, stale[static_cast<int>(Profile::kR1W1)],
              stale[static_cast<int>(Profile::kMixed)], non_monotonic,
              static_cast<unsigned long long>(hints_stored),
              static_cast<unsigned long long>(hints_delivered), sloppy_writes, stand_in_writes,
              static_cast<unsigned long long>(ae_seeds),
              static_cast<unsigned long long>(ae_only_seeds),
              static_cast<unsigned long long>(round_repairs),
              static_cast<unsigned long long>(repair_keys),
              static_cast<unsigned long long>(repair_keys_only), secs,
              secs > 0 ? seeds / secs * 60 : 0.0);
  if (only) return;
  // The faults must bite, or the test proves nothing: some requests fail or end in doubt, and
  // most still succeed; and R1W1 must show the staleness it allows, or the checker is blind.
  EXPECT_GT(failed + in_doubt, 0u);
  EXPECT_GT(ok, ops / 2);
  if (seeds >= 100) {
    EXPECT_GT(stale[static_cast<int>(Profile::kR1W1)], 0u);
    // Replicas miss writes under these faults, so hints must be stored and replayed.
    EXPECT_GT(hints_delivered, 0u);
    // Anti-entropy must find work, or its invariant judges nothing: the rounds during the faults,
    // and the final repair where nothing else carried missed writes.
    EXPECT_GT(round_repairs, 0u);
    EXPECT_GT(repair_keys_only, 0u);
  }
}

TEST(SimTest, NoFaultsNoFailures) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    auto r = RunSeed(seed, false);
    EXPECT_TRUE(r.report.violations.empty()) << "seed " << seed << ": " << r.report.violations.front();
    // Without faults only levels that ask for more replicas than exist could fail; none here.
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
  options.hinted_handoff = false;  // read repair alone: a hint would carry v2 to c as well
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

bool HoldsValue(SimNode* n, const std::string& key, const std::string& value, size_t* siblings) {
  bool found = false;
  n->kv()->ReplicaRead(kSimKeyspace, key, [&](Result<ReplicaReadReply> r) {
    if (!r.ok() || !r->found) return;
    if (siblings) *siblings = r->object.siblings().size();
    for (const auto& s : r->object.siblings()) found |= s.value == value;
  });
  return found;
}

// k = v written at QUORUM through the key's first replica while it is cut off from the third,
// which misses it; then the link heals. Returns whether the write was acknowledged.
bool PutMissingTheThirdReplica(World* world, SimCluster* cluster) {
  RequestOptions quorum;
  quorum.consistency = Consistency::kQuorum;
  const auto replicas = cluster->PreferenceList(TokenOf("k"), 3);
  cluster->Partition({replicas[0]}, {replicas[2]});
  bool acknowledged = false;
  cluster->node(replicas[0])->coordinator()->Put(
      "sim", "k", "v", "", 0, quorum, false,
      [&](Result<WriteReply> r) { acknowledged = r.ok(); });
  world->RunUntil(world->now_us() + 1'000'000);
  const bool missed = !HoldsValue(cluster->node(replicas[2]), "k", "v", nullptr);
  cluster->HealAll();
  return acknowledged && missed;
}

// A replica cut off from the coordinator misses a QUORUM write; once the link heals, the hint
// carries the write to it, with no read and no repair, and is deleted.
TEST(SimTest, HintCarriesAMissedWriteOnceTheReplicaIsBack) {
  World world(5);
  SimCluster cluster(&world, SimOptions{});
  const auto replicas = cluster.PreferenceList(TokenOf("k"), 3);
  SimNode* a = cluster.node(replicas[0]);
  SimNode* c = cluster.node(replicas[2]);
  ASSERT_TRUE(PutMissingTheThirdReplica(&world, &cluster));
  EXPECT_EQ(a->handoff()->stats().pending, 1u);
  world.RunToQuiescence();
  size_t siblings = 0;
  EXPECT_TRUE(HoldsValue(c, "k", "v", &siblings));
  EXPECT_EQ(siblings, 1u);
  EXPECT_EQ(a->handoff()->stats().pending, 0u);
  EXPECT_EQ(a->handoff()->stats().delivered, 1u);
}

// Without read repair and hinted handoff, a replica cut off during a write gets it from
// anti-entropy alone: the idle-node repair of the randomized test (sim/faults.h) converges it,
// where no repair leaves it missing.
TEST(SimTest, AntiEntropyAloneRepairsAMissedWrite) {
  World world(5);
  SimOptions options;
  options.anti_entropy = true;
  options.read_repair = options.hinted_handoff = false;
  SimCluster cluster(&world, options);
  const auto replicas = cluster.PreferenceList(TokenOf("k"), 3);
  SimNode* a = cluster.node(replicas[0]);
  SimNode* c = cluster.node(replicas[2]);
  ASSERT_TRUE(PutMissingTheThirdReplica(&world, &cluster));
  world.RunToQuiescence();
  ASSERT_FALSE(HoldsValue(c, "k", "v", nullptr));  // nothing but anti-entropy would bring it
  const auto violations = RepairWithAntiEntropy(&cluster, {"k"}, replicas[1]);
  EXPECT_TRUE(violations.empty()) << violations.front();
  EXPECT_TRUE(HoldsValue(c, "k", "v", nullptr));
  EXPECT_GE(a->anti_entropy()->report().keys_repaired + c->anti_entropy()->report().keys_repaired,
            1u);
}

// ANY with every replica of the key down: a node outside the preference list takes the write,
// answers once its hints are durable, and delivers them when the replicas return.
TEST(SimTest, AnyWithEveryReplicaDownIsHintedAndDelivered) {
  World world(9);
  SimCluster cluster(&world, SimOptions{});
  const auto replicas = cluster.PreferenceList(TokenOf("k"), 3);
  SimNode* outsider = nullptr;
  for (size_t i = 0; i < cluster.size(); ++i) {
    SimNode* n = cluster.node(i);
    if (std::find(replicas.begin(), replicas.end(), n->name()) == replicas.end()) outsider = n;
  }
  ASSERT_NE(outsider, nullptr);
  for (const auto& r : replicas) cluster.node(r)->Crash();
  RequestOptions any, one;
  any.consistency = Consistency::kAny;
  one.consistency = Consistency::kOne;
  std::optional<Result<WriteReply>> w;
  outsider->coordinator()->Put("sim", "k", "v", "", 0, one, false,
                               [&](Result<WriteReply> r) { w = r; });
  ASSERT_TRUE(w && !w->ok());
  EXPECT_EQ(w->status().code(), Code::kUnavailable);
  w.reset();
  outsider->coordinator()->Put("sim", "k", "v", "", 0, any, false,
                               [&](Result<WriteReply> r) { w = r; });
  world.RunUntil(world.now_us() + 1'000'000);
  ASSERT_TRUE(w && w->ok()) << w->status().ToString();
  EXPECT_EQ(outsider->handoff()->stats().stored, 3u);
  for (const auto& r : replicas) cluster.node(r)->Start();
  world.RunToQuiescence();
  for (const auto& r : replicas) {
    size_t siblings = 0;
    EXPECT_TRUE(HoldsValue(cluster.node(r), "k", "v", &siblings)) << r;
    EXPECT_EQ(siblings, 1u) << r;
  }
  EXPECT_EQ(outsider->handoff()->stats().pending, 0u);
}

}  // namespace
}  // namespace ringkv::sim
