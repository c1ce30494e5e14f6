// SimCluster: n ringkv nodes in one process, wired to a virtual network (DESIGN.md §2). Each node
// runs the production KvService and Coordinator over a SimStorage, a SimClock and SimTimers;
// messages between nodes are closures delivered by the network after a random delay, unless the
// link is cut (partitions of any shape, one-way too), the message is lost, or the destination is
// down. Messages may also be duplicated and, through random delays, reordered.
//
// With anti-entropy on, each node also holds AaeTrees and AntiEntropy (node/aae_trees.h,
// node/anti_entropy.h), built per start as kvnode builds them: the trees from the node's disk, the
// exchanges over the virtual network (SimTransport is the AaeTransport too).
//
// Thread safety: none.
#ifndef RINGKV_SIM_SIM_CLUSTER_H_
#define RINGKV_SIM_SIM_CLUSTER_H_

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "node/aae_trees.h"
#include "node/anti_entropy.h"
#include "node/cluster_view.h"
#include "node/coordinator.h"
#include "node/hinted_handoff.h"
#include "node/keyspaces.h"
#include "node/kv_service.h"
#include "node/log.h"
#include "ring/ring.h"
#include "sim/sim_hint_store.h"
#include "sim/sim_storage.h"
#include "sim/world.h"

namespace ringkv::sim {

class SimNode;

struct NetworkFaults {
  double loss = 0;          // probability a message is dropped
  double duplicate = 0;     // probability a message is delivered twice
  int64_t delay_min_us = 100;
  int64_t delay_max_us = 3000;
};

struct SimOptions {
  size_t nodes = 5;
  uint32_t replication_factor = 3;
  size_t vnodes = 8;
  int64_t request_timeout_ms = 200;
  bool blocking_read_repair = false;
  bool read_repair = true;  // false: reads repair nothing (kvnode --read-repair off)
  // Hinted handoff on every node (node/hinted_handoff.h), with these options; tick_when_idle is
  // forced off, so a healed cluster quiesces once its hints are delivered.
  bool hinted_handoff = true;
  HintedHandoffOptions hints;
  // Anti-entropy on every node; scheduled rounds every anti_entropy_interval_ms (0: only on
  // demand, AntiEntropy::Repair). In membership mode the trees are refreshed every second once
  // the node's view is settled, as kvnode does (the ring changes).
  bool anti_entropy = false;
  int64_t anti_entropy_interval_ms = 0;
  // Membership mode (sim/sim_membership.h): when set, a node's Placement (and anti-entropy's
  // view) is the ClusterView this returns for it at each start (owned by the caller, alive while
  // the node is up) instead of the cluster's static ring and oracle detector; and the
  // constructor starts no node.
  std::function<const ClusterView*(SimNode*)> placement;
};

class SimCluster;
class SimTransport;

class SimNode {
 public:
  SimNode(SimCluster* cluster, std::string name);
  ~SimNode();

  const std::string& name() const { return name_; }
  bool up() const { return up_; }
  uint64_t incarnation() const { return incarnation_; }
  Coordinator* coordinator() { return coordinator_.get(); }
  KvService* kv() { return kv_.get(); }
  SimTransport* transport() { return transport_.get(); }
  SimClock* clock() { return &clock_; }
  SimStorage* storage() { return &storage_; }
  SimHintStore* hint_store() { return &hint_store_; }
  Timers* timers() { return timers_.get(); }  // null while down
  HintedHandoff* handoff() { return handoff_.get(); }  // null while down or when disabled
  // Null while down or with anti-entropy off.
  AaeTrees* trees() { return trees_.get(); }
  AntiEntropy* anti_entropy() { return anti_entropy_.get(); }
  // Keys repaired by this node's AntiEntropy instances already discarded (by a crash, or by
  // StopAntiEntropyRounds): what the scheduled rounds repaired during the faults.
  uint64_t rounds_keys_repaired() const { return rounds_keys_repaired_; }
  // Virtual times at which this node crashed.
  const std::vector<int64_t>& crashes() const { return crashes_; }

  // Starts a new incarnation on the same disk, with the same actor (see SimNode::Start).
  void Start();
  // Kills the process: unsynced writes, timers, and requests in flight are gone.
  void Crash();
  // Ends the scheduled anti-entropy rounds of this incarnation (a round in progress is dropped);
  // Repair still works. For the heal: rounds rearm forever, and the world must quiesce.
  void StopAntiEntropyRounds();

 private:
  class NodePlacement;
  void BuildAaeView();
  // Membership mode: AaeTrees::Refresh now and every second after, while the view is settled.
  void RefreshTrees();
  // AntiEntropy with scheduled rounds every `interval_ms` (0: none), replacing any before.
  void StartAntiEntropy(int64_t interval_ms);

  SimCluster* const cluster_;
  const std::string name_;
  SimClock clock_;
  SimStorage storage_;
  SimHintStore hint_store_;
  std::vector<int64_t> crashes_;
  bool up_ = false;
  uint64_t incarnation_ = 0;
  std::unique_ptr<SimTimers> timers_;
  std::unique_ptr<NodePlacement> placement_;
  const Placement* placement_in_use_ = nullptr;
  const ClusterView* view_ = nullptr;  // membership mode: the caller's
  std::unique_ptr<KvService> kv_;
  std::unique_ptr<SimTransport> transport_;
  std::unique_ptr<HintedHandoff> handoff_;
  std::unique_ptr<Coordinator> coordinator_;
  std::unique_ptr<Logger> log_;
  // Static ring: AntiEntropy's view of the cluster (it asks a ClusterView for addresses and
  // liveness): every member at its name, always believed up (a down or cut-off peer's exchange
  // times out on the network). The ring never changes, so it is built once, at the first start.
  std::unique_ptr<ClusterView> aae_view_;
  std::unique_ptr<AaeTrees> trees_;
  std::unique_ptr<AntiEntropy> anti_entropy_;
  uint64_t rounds_keys_repaired_ = 0;
};

class SimCluster {
 public:
  SimCluster(World* world, SimOptions options);

  World* world() { return world_; }
  const SimOptions& options() const { return options_; }
  const KeyspaceCatalog* keyspaces() const { return &keyspaces_; }
  KeyspaceCatalog* mutable_keyspaces() { return &keyspaces_; }
  NetworkFaults& faults() { return faults_; }

  size_t size() const { return nodes_.size(); }
  SimNode* node(size_t i) { return nodes_[i].get(); }
  SimNode* node(const std::string& name);
  // A node outside the static ring, not started (membership mode: a joiner).
  SimNode* AddNode(const std::string& name);
  std::vector<std::string> PreferenceList(Token token, size_t n) const;
  const Ring& ring() const { return ring_; }

  // Links. Cut(a, b) drops messages from a to b only.
  void Cut(const std::string& from, const std::string& to) { cut_.insert({from, to}); }
  void Partition(const std::vector<std::string>& side_a, const std::vector<std::string>& side_b);
  void HealAll() { cut_.clear(); }
  bool IsCut(const std::string& from, const std::string& to) const {
    return cut_.count({from, to}) > 0;
  }

  // Failure-detector mistakes: until `until_us` (virtual), `observer` believes `subject` up (a
  // dead or unreachable node believed alive) or down (a live one believed dead), whatever the
  // truth. Cleared by ClearMisjudgements (and by heal).
  void Misjudge(const std::string& observer, const std::string& subject, bool believed_up,
                int64_t until_us) {
    misjudged_[{observer, subject}] = {believed_up, until_us};
  }
  void ClearMisjudgements() { misjudged_.clear(); }
  // What `observer`'s failure detector says of `subject`: a perfect detector but for cut links
  // (a node cannot see a peer across a cut, so one-way partitions make it believe the peer down)
  // and the mistakes above.
  bool BelievesUp(const std::string& observer, const std::string& subject) const;

  // Delivers `deliver` to node `to` after a network delay, unless the link is cut, the message is
  // lost, or `to` is down (or has restarted, when `to_incarnation` is non-zero) on arrival.
  // `may_duplicate`: the message may be delivered twice. False for a message that is not
  // idempotent and that the real transport never resends (a forwarded client write: TCP does not
  // duplicate, and a forward that timed out is reported in doubt, not retried).
  void Send(const std::string& from, const std::string& to, uint64_t to_incarnation,
            std::function<void(SimNode*)> deliver, bool may_duplicate = true);

 private:
  World* const world_;
  const SimOptions options_;
  KeyspaceCatalog keyspaces_;
  NetworkFaults faults_;
  std::vector<std::unique_ptr<SimNode>> nodes_;
  Ring ring_;
  std::set<std::pair<std::string, std::string>> cut_;
  std::map<std::pair<std::string, std::string>, std::pair<bool, int64_t>> misjudged_;
};

}  // namespace ringkv::sim

#endif  // RINGKV_SIM_SIM_CLUSTER_H_
