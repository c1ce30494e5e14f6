#include "sim/sim_cluster.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <cstdlib>

#include "ring/tokens.h"

#include "sim/sim_transport.h"

namespace ringkv::sim {

// The node's view of the ring and of who is up: SimCluster::BelievesUp.
class SimNode::NodePlacement final : public Placement {
 public:
  NodePlacement(SimCluster* cluster, const std::string* self) : cluster_(cluster), self_(self) {}
  const std::string& self() const override { return *self_; }
  std::vector<std::string> PreferenceList(Token token, size_t n) const override {
    return cluster_->PreferenceList(token, n);
  }
  bool IsUp(const std::string& node) const override { return cluster_->BelievesUp(*self_, node); }
  const Ring& ring() const override { return cluster_->ring(); }

 private:
  SimCluster* const cluster_;
  const std::string* const self_;
};

SimNode::SimNode(SimCluster* cluster, std::string name)
    : cluster_(cluster), name_(std::move(name)), clock_(cluster->world()),
      storage_(cluster->world()), hint_store_(cluster->world(), &storage_.faults()) {}

SimNode::~SimNode() = default;

void SimNode::Start() {
  ++incarnation_;
  up_ = true;
  timers_ = std::make_unique<SimTimers>(cluster_->world());
  if (cluster_->options().placement) {
    view_ = cluster_->options().placement(this);
    placement_in_use_ = view_;
  } else {
    placement_ = std::make_unique<NodePlacement>(cluster_, &name_);
    placement_in_use_ = placement_.get();
  }
  // One actor for the node's whole life, kept across crashes: SimStorage acknowledges a write only
  // once it is durable, as kvnode's --sync batch and always do, so a crash loses no dot the node
  // exposed and kvnode keeps its actor too (node/identity.h).
  const uint64_t actor = std::hash<std::string>{}(name_);
  kv_ = std::make_unique<KvService>(&storage_, &clock_, actor, KvServiceOptions{},
                                    cluster_->keyspaces());
  transport_ = std::make_unique<SimTransport>(cluster_, this, timers_.get());
  CoordinatorOptions options;
  options.default_timeout_ms = cluster_->options().request_timeout_ms;
  options.blocking_read_repair = cluster_->options().blocking_read_repair;
  options.read_repair = cluster_->options().read_repair;
  coordinator_ = std::make_unique<Coordinator>(kv_.get(), transport_.get(), placement_in_use_,
                                               timers_.get(), &clock_, cluster_->keyspaces(),
                                               options);
  if (cluster_->options().hinted_handoff) {
    HintedHandoffOptions hints = cluster_->options().hints;
    hints.tick_when_idle = false;
    hints.replication_factor = [keyspaces = cluster_->keyspaces()](std::string_view ks) {
      auto def = keyspaces->Find(ks);
      return def.ok() ? def->replication_factor : 0u;
    };
    hints.apply_locally = [kv = kv_.get()](std::string_view ks, std::string_view key,
                                           const VersionedObject& object,
                                           std::function<void(Status)> done) {
      kv->ReplicaWrite(ks, key, object, std::move(done));
    };
    handoff_ = std::make_unique<HintedHandoff>(&hint_store_, transport_.get(), placement_in_use_,
                                               timers_.get(), &clock_, nullptr, hints);
    coordinator_->SetHintedHandoff(handoff_.get());
    handoff_->Start();
  }
  if (cluster_->options().anti_entropy) {
    // RINGKV_SIM_LOG=info shows the nodes' logs (a replayed seed's story).
    LogLevel level = LogLevel::kError;
    if (const char* env = std::getenv("RINGKV_SIM_LOG"); env != nullptr) ParseLogLevel(env, &level);
    log_ = std::make_unique<Logger>(name_, level, &clock_);
    if (view_ == nullptr && !aae_view_) BuildAaeView();
    // A small tree (16 branches of 8 leaves) for a run's 16 keys, and exchanges that ask a few
    // branches and segments at a time, so every step of an exchange runs in more than one round.
    AaeTreesOptions trees;
    trees.shape = TreeShape{16, 8};
    trees.build_page_objects = 4;
    trees_ = std::make_unique<AaeTrees>(placement_in_use_, cluster_->keyspaces(), &storage_,
                                        kv_.get(), timers_.get(), log_.get(), trees);
    kv_->set_observer(trees_.get());
    // Built from this disk by a paged scan.
    if (view_ == nullptr) {
      trees_->Refresh();
    } else {
      RefreshTrees();
    }
    StartAntiEntropy(cluster_->options().anti_entropy_interval_ms);
  }
}

void SimNode::BuildAaeView() {
  std::vector<MemberInfo> members;
  for (const Member& m : cluster_->ring().Members()) {
    members.push_back(MemberInfo{m.name, m.name, std::hash<std::string>{}(m.name), m.tokens,
                                 gossip::MemberStatus::kNormal});
  }
  auto self = std::find_if(members.begin(), members.end(),
                           [&](const MemberInfo& m) { return m.name == name_; });
  aae_view_ = std::make_unique<ClusterView>(*self);
  for (const MemberInfo& m : members) {
    if (m.name != name_) (void)aae_view_->Learn(m);  // the static ring: no collisions
  }
}

void SimNode::RefreshTrees() {
  if (view_->settled()) trees_->Refresh();  // cheap when neither ring nor keyspaces changed
  timers_->After(1'000'000, [this] { RefreshTrees(); });
}

void SimNode::StartAntiEntropy(int64_t interval_ms) {
  AntiEntropyOptions options;
  options.interval_ms = interval_ms;
  options.request_timeout_ms = cluster_->options().request_timeout_ms;
  options.exchange.branches_per_request_max = 2;
  options.exchange.segments_per_request_max = 4;
  if (anti_entropy_) rounds_keys_repaired_ += anti_entropy_->stats().keys_repaired;
  anti_entropy_ = std::make_unique<AntiEntropy>(
      view_ ? view_ : aae_view_.get(), trees_.get(), kv_.get(), transport_.get(), transport_.get(),
      timers_.get(), &clock_, cluster_->keyspaces(), log_.get(), options);
  anti_entropy_->Start();
}

void SimNode::StopAntiEntropyRounds() {
  if (anti_entropy_) StartAntiEntropy(0);
}

void SimNode::Crash() {
  up_ = false;
  crashes_.push_back(cluster_->world()->now_us());
  storage_.Crash();
  hint_store_.Crash();
  timers_->CancelAll();
  // Order: what holds callbacks into others goes first.
  if (anti_entropy_) rounds_keys_repaired_ += anti_entropy_->stats().keys_repaired;
  anti_entropy_.reset();
  coordinator_.reset();
  handoff_.reset();
  transport_.reset();
  kv_.reset();
  trees_.reset();
  log_.reset();
  placement_.reset();
  placement_in_use_ = nullptr;
  view_ = nullptr;
  timers_.reset();
}

SimCluster::SimCluster(World* world, SimOptions options) : world_(world), options_(options) {
  (void)keyspaces_.Create("sim", options.replication_factor);
  // Random tokens: the invariants do not depend on balance, and the balanced allocator (tested in
  // ring/) would cost more per seed than the rest of the run.
  std::vector<Member> members;
  for (size_t i = 0; i < options.nodes; ++i) {
    nodes_.push_back(std::make_unique<SimNode>(this, fmt::format("n{}", i + 1)));
    auto tokens = RandomTokens(ring_, nodes_.back()->name(), static_cast<uint32_t>(options.vnodes),
                               world->rng()());
    assert(tokens.ok());
    members.push_back(Member{nodes_.back()->name(), std::move(tokens).value()});
    auto ring = Ring::Build(members);
    assert(ring.ok());
    ring_ = std::move(ring).value();
  }
  if (!options_.placement) {
    for (auto& n : nodes_) n->Start();
  }
}

SimNode* SimCluster::AddNode(const std::string& name) {
  nodes_.push_back(std::make_unique<SimNode>(this, name));
  return nodes_.back().get();
}

bool SimCluster::BelievesUp(const std::string& observer, const std::string& subject) const {
  auto it = misjudged_.find({observer, subject});
  if (it != misjudged_.end() && world_->now_us() < it->second.second) return it->second.first;
  for (const auto& n : nodes_) {
    if (n->name() == subject) return n->up() && !IsCut(observer, subject);
  }
  return false;
}

SimNode* SimCluster::node(const std::string& name) {
  for (auto& n : nodes_) {
    if (n->name() == name) return n.get();
  }
  return nullptr;
}

std::vector<std::string> SimCluster::PreferenceList(Token token, size_t n) const {
  return ring_.PreferenceList(token, static_cast<uint32_t>(n));
}

void SimCluster::Partition(const std::vector<std::string>& side_a,
                           const std::vector<std::string>& side_b) {
  for (const auto& a : side_a) {
    for (const auto& b : side_b) {
      Cut(a, b);
      Cut(b, a);
    }
  }
}

void SimCluster::Send(const std::string& from, const std::string& to, uint64_t to_incarnation,
                      std::function<void(SimNode*)> deliver, bool may_duplicate) {
  if (IsCut(from, to) || world_->Chance(faults_.loss)) return;
  const int copies = may_duplicate && world_->Chance(faults_.duplicate) ? 2 : 1;
  auto shared = std::make_shared<std::function<void(SimNode*)>>(std::move(deliver));
  for (int i = 0; i < copies; ++i) {
    world_->After(world_->Uniform(faults_.delay_min_us, faults_.delay_max_us),
                  [this, to, to_incarnation, shared] {
                    SimNode* target = node(to);
                    if (target == nullptr || !target->up()) return;
                    if (to_incarnation != 0 && target->incarnation() != to_incarnation) return;
                    (*shared)(target);
                  });
  }
}

}  // namespace ringkv::sim
