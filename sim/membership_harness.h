// The membership mode's harness (sim/sim_membership.h): one seed's cluster, schedule, faults and
// checks. Private to sim_membership.cc (the schedule) and membership_checks.cc (the end-of-run
// checks); RunMembershipSim is its only user.
//
// Thread safety: none (the simulator is single-threaded).
#ifndef RINGKV_SIM_MEMBERSHIP_HARNESS_H_
#define RINGKV_SIM_MEMBERSHIP_HARNESS_H_

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "node/bootstrap.h"
#include "node/cleanup.h"
#include "node/cluster_view.h"
#include "node/decommission.h"
#include "node/log.h"
#include "node/membership.h"
#include "node/replica_restore.h"
#include "sim/sim_cluster.h"
#include "sim/sim_membership.h"
#include "sim/world.h"

namespace ringkv::sim::membership_internal {

inline constexpr char kKeyspace[] = "sim";
inline constexpr size_t kVnodes = 8;
inline constexpr int64_t kTickUs = 250'000;  // the schedule's director
// Bootstrap's record of the ranges it finished (node/bootstrap.cc), one StreamTask::Id a line.
inline constexpr char kJoinRangesDoneMeta[] = "join_ranges_done";

// One node's membership machinery, built per start as kvnode builds it.
struct MNode {
  SimNode* sim = nullptr;
  std::unique_ptr<Logger> log;
  std::unique_ptr<ClusterView> view;
  std::unique_ptr<MembershipTransport> gossip;
  std::unique_ptr<ReplicaRestore> restore;
  std::unique_ptr<Membership> membership;
  std::unique_ptr<Bootstrap> bootstrap;
  std::unique_ptr<Decommission> decommission;
  std::unique_ptr<Cleanup> cleanup;
  bool live = false;
};

class Harness {
 public:
  explicit Harness(const MembershipSimOptions& options);
  MembershipSimResult Run();

  // The node's machinery, or null when it is down (crashed, left) or unknown.
  MNode* Live(const std::string& name) {
    auto it = nodes_.find(name);
    return it == nodes_.end() || !it->second.live ? nullptr : &it->second;
  }

 private:
  enum class Op { kJoin, kDecommission, kRemove };

  // `generation` > 1: a restart (gossip must see a newer generation), seeded by what the node
  // saved of the cluster.
  void StartNode(const std::string& name, std::vector<Token> tokens, bool joining,
                 int64_t generation = 1);
  // The joiner's restart from its disk, as kvnode starts (OpenClusterStart): its saved tokens,
  // a new generation, and a Bootstrap that resumes the ranges not yet done.
  void RestartJoiner(const std::string& name);
  void StopNode(const std::string& name);
  // The faults of options_ (sim/membership_faults.h), when a step starts.
  void OnStepStarted();
  bool QuietForNextStep();
  void CountFalseConvictions();
  void Cut();
  void Heal();
  void MaybeKillJoiner();
  void Note(std::string note) { notes_ += (notes_.empty() ? " [" : "; ") + std::move(note); }
  void StepCompleted(const std::string& what);
  std::vector<std::string> LiveNames() const;
  std::string Pick(const std::vector<std::string>& names) {
    return names[world_.Uniform(0, static_cast<int64_t>(names.size()) - 1)];
  }
  void Write();
  void Read();
  void Direct();
  bool StepDone();
  bool Settled(std::string* why);
  // `kvctl cleanup` on every live node, as an operator runs it once the movements are over; the
  // checks once every one is done.
  void CleanUpThenCheck(int attempts_left);
  void Check();
  // `kvctl repair sim` on every live node, again where an exchange failed or the repair was
  // refused (trees still building), every tick; then CheckRepaired.
  void RepairThenCheck(int attempts_left);
  // After the repair, every owner of every acknowledged key holds it: the copies that went with a
  // stopped node (missing_hint_lost) included, since other owners hold them. Then ReadAll.
  void CheckRepaired();
  // Every acknowledged write reads at ALL through every live node; the run ends 8 s later.
  void ReadAll();
  void Violation(std::string what) {
    if (result_.violations.size() < 20) result_.violations.push_back(std::move(what));
  }

  const MembershipSimOptions options_;
  World world_;
  SimCluster cluster_;
  std::map<std::string, MNode> nodes_;
  std::vector<std::string> seeds_;
  struct Acked {
    std::string key, value, via;
    int64_t at_ms;
  };
  std::vector<Acked> acked_;
  // "target\0key" of every hint held by a node when it crashed or left (StopNode), and when each
  // node stopped (virtual ms).
  std::set<std::string> hints_lost_;
  std::map<std::string, int64_t> stopped_at_ms_;
  // Whether an owner's missing copy of `a` went with a stopped node: a hint it held for the
  // owner, or a write it coordinated and had not finished (its replica writes or hints still
  // outstanding, within the request timeout) when it stopped.
  bool LostWithANode(const std::string& owner, const Acked& a) const;
  MembershipSimResult result_;
  std::vector<Op> steps_;
  size_t step_ = 0;
  bool step_started_ = false;
  bool remove_sent_ = false;
  std::string target_, operator_;
  int64_t join_at_us_ = 0;
  std::string notes_;  // the faults of the step in progress, for result_.schedule
  bool cut_active_ = false;
  World::TaskId heal_task_ = 0;
  bool joiner_killed_ = false;
  size_t kill_at_ranges_ = 0;  // drawn once the joiner's stream has planned its ranges
  bool writing_ = true;
  bool finished_ = false;
  std::set<std::string> repaired_;  // live nodes whose final repair is done
  uint64_t next_key_ = 0;
};

// Whether `value` is among the live siblings.
inline bool HasValue(const std::vector<Sibling>& siblings, const std::string& value) {
  return std::any_of(siblings.begin(), siblings.end(),
                     [&](const Sibling& s) { return !s.tombstone && s.value == value; });
}

}  // namespace ringkv::sim::membership_internal

#endif  // RINGKV_SIM_MEMBERSHIP_HARNESS_H_
