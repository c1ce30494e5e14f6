// Joins, decommissions and removenodes in the simulator with the production membership code
// (sim/sim_membership.h): each seed grows a 4-node cluster to 5, then decommissions one node and
// crashes and removes another (in the order the seed picks) under a QUORUM writer, and checks that
// no acknowledged write is lost and that every key's owners on the settled ring hold it. The
// fault tests add one fault each to that schedule: a joiner killed mid-stream, skewed clocks, and
// (disabled, see there) network cuts.
//
// RINGKV_SIM_SEED=<seed> replays one seed; RINGKV_SIM_SEEDS sets how many (default 60).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "sim/sim_membership.h"

namespace ringkv::sim {
namespace {

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

// Runs a block of seeds of `base` (its seed is replaced), failing on the first violation.
void RunSeeds(const char* label, MembershipSimOptions base, uint64_t default_seeds,
              uint64_t first_default) {
  const uint64_t only = EnvOr("RINGKV_SIM_SEED", 0);
  const uint64_t seeds = only ? 1 : EnvOr("RINGKV_SIM_SEEDS", default_seeds);
  const uint64_t first = EnvOr("RINGKV_SIM_FIRST_SEED", first_default);
  const auto start = std::chrono::steady_clock::now();
  size_t writes = 0, acked = 0, reads = 0, joins = 0, leaves = 0, removes = 0, orphans = 0;
  size_t hint_lost = 0, ae_repaired = 0;
  size_t copies = 0, missing = 0, cuts = 0, restarts = 0, resumed = 0;
  for (uint64_t i = 0; i < seeds; ++i) {
    MembershipSimOptions options = base;
    options.seed = only ? only : first + i;
    const MembershipSimResult r = RunMembershipSim(options);
    writes += r.writes;
    acked += r.acked;
    reads += r.reads;
    joins += r.joins;
    leaves += r.leaves;
    removes += r.removes;
    orphans += r.orphans;
    copies += r.copies_checked;
    missing += r.missing_owner_copies;
    hint_lost += r.missing_hint_lost;
    ae_repaired += r.anti_entropy_keys_repaired;
    cuts += r.cuts;
    restarts += r.joiner_restarts;
    resumed += r.ranges_resumed;
    if (only) {
      std::printf("membership sim %s: seed %llu: %s; settled at %lld ms; %zu writes, %zu acked, "
                  "%zu orphans\n", label, static_cast<unsigned long long>(options.seed),
                  r.schedule.c_str(), static_cast<long long>(r.settled_at_ms), r.writes, r.acked,
                  r.orphans);
    }
    if (!r.violations.empty()) {
      std::string all;
      for (const auto& v : r.violations) all += "\n  " + v;
      std::printf("sim: caught at seed %llu after %llu seed(s)\n",
                  static_cast<unsigned long long>(options.seed),
                  static_cast<unsigned long long>(i + 1));
      FAIL() << "seed " << options.seed << " (" << r.schedule << "): " << r.violations.size()
             << " violation(s):" << all << "\nreplay: RINGKV_SIM_SEED=" << options.seed
             << " build/sim/membership_sim_test";
    }
    // The schedule must have run whole, or the invariants were checked on nothing.
    ASSERT_EQ(r.joins, 1u) << "seed " << options.seed;
    ASSERT_EQ(r.leaves, 1u) << "seed " << options.seed;
    ASSERT_EQ(r.removes, 1u) << "seed " << options.seed;
    ASSERT_GT(r.acked, 100u) << "seed " << options.seed;
    if (base.kill_joiner) {  // killed midway, and resumed what it had streamed
      ASSERT_EQ(r.joiner_restarts, 1u) << "seed " << options.seed << ": " << r.schedule;
      ASSERT_GT(r.ranges_resumed, 0u) << "seed " << options.seed << ": " << r.schedule;
    }
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("membership sim %s: %llu seeds, %zu writes (%zu acked), %zu reads during the "
              "schedule, %zu joins, %zu decommissions, %zu removenodes; %zu owner copies checked; "
              "%zu orphan copies left after cleanup%s; %zu keys repaired by the final "
              "anti-entropy repair; %.2f s = %.0f seeds/minute\n",
              label, static_cast<unsigned long long>(seeds), writes, acked, reads, joins, leaves,
              removes, copies, orphans,
              base.owners_strict && missing == 0
                  ? ""
                  : fmt::format(", {} owner copies missing ({} lost with a stopped node: its "
                                "hint, or its unfinished write)", missing, hint_lost).c_str(),
              ae_repaired, secs, secs > 0 ? seeds / secs * 60 : 0.0);
  if (base.partitions || base.kill_joiner) {
    std::printf("membership sim %s: %zu network cuts, %zu joiner restarts resuming %zu ranges\n",
                label, cuts, restarts, resumed);
  }
}

MembershipSimOptions Nodes(size_t nodes, double loss = 0, bool owners_strict = true) {
  MembershipSimOptions options;
  options.nodes = nodes;
  options.loss = loss;
  options.owners_strict = owners_strict;
  return options;
}

// 4 -> 5 -> 3 nodes: at the end every node owns every key (N=3), so no orphan is possible.
TEST(MembershipSimTest, JoinDecommissionRemovenode) { RunSeeds("4 nodes", Nodes(4), 60, 1); }

// 5 -> 6 -> 4 nodes: the settled ring leaves some keys off some nodes (orphans show up).
TEST(MembershipSimTest, FiveNodes) { RunSeeds("5 nodes", Nodes(5), 40, 3000); }

// Messages lost at 0.1% while the schedule runs (at 2% a decommission's pages of a few hundred
// replica writes, each page needing every write answered, practically never get through: see
// sim/README.md). No acknowledged write may be lost; an owner missing a key is counted, not
// failed: a lost write to a pending replica is not hinted, and nothing repairs it yet.
// Strict since pending-replica writes are retried (WriteOp::SendToPendingOnce): before, seed 5001
// lost an owner copy here (53 in 200 seeds).
TEST(MembershipSimTest, WithLoss) { RunSeeds("4 nodes, 0.1% loss", Nodes(4, 0.001), 30, 5000); }
// Decommission pages resend only their failed writes: whole-page retries stalled here (seed 1
// was still LEAVING after 600 virtual seconds).
TEST(MembershipSimTest, WithTwoPercentLoss) {
  RunSeeds("4 nodes, 2% loss", Nodes(4, 0.02, /*owners_strict=*/false), 10, 1);
}

// A network cut (split, one link, one way) during most steps, healed 2-20 s later. It found the
// gaps sim/README.md lists under "partitions" (closed since).
TEST(MembershipSimTest, Partitions) {
  MembershipSimOptions options = Nodes(5);
  options.partitions = true;
  RunSeeds("5 nodes, partitions", options, 30, 7000);
}

// The joiner is crashed midway through its stream and restarted from its disk: the join resumes.
TEST(MembershipSimTest, KilledJoiner) {
  MembershipSimOptions options = Nodes(4);
  options.kill_joiner = true;
  RunSeeds("4 nodes, killed joiner", options, 30, 8000);
}

// Wall clocks up to 10 s apart (one stepped as each step starts): the failure detector and every
// timer run on monotonic time, so nobody is convicted or stalls for it.
TEST(MembershipSimTest, ClockSkew) {
  MembershipSimOptions options = Nodes(4);
  options.clock_skew_ms = 5000;
  RunSeeds("4 nodes, clock skew", options, 20, 9000);
}

// The owners check can fail: without ReplicaRestore's ring delay, a survivor copies the removed
// node's ranges before every coordinator has heard, and writes placed on the old replicas in
// that window miss it (seed 2 shows it).
TEST(MembershipSimTest, OwnersCheckCatchesRestoreWithoutRingDelay) {
  size_t caught = 0;
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    MembershipSimOptions options;
    options.seed = seed;
    options.restore_ring_delay_ms = 0;
    const MembershipSimResult r = RunMembershipSim(options);
    for (const auto& v : r.violations) caught += v.find("does not hold") != std::string::npos;
  }
  std::printf("membership sim: restore without ring delay: %zu owner copies missing in 10 seeds\n",
              caught);
  EXPECT_GT(caught, 0u);
}

}  // namespace
}  // namespace ringkv::sim
