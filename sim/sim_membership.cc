#include "sim/sim_membership.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>

#include "common/token.h"
#include "node/bootstrap.h"
#include "node/cluster_state_store.h"
#include "node/cluster_view.h"
#include "node/decommission.h"
#include "node/log.h"
#include "node/membership.h"
#include "node/replica_restore.h"
#include "sim/membership_faults.h"
#include "sim/membership_harness.h"
#include "sim/sim_cluster.h"
#include "sim/sim_gossip_transport.h"
#include "sim/sim_transport.h"
#include "storage/storage.h"
#include "sim/world.h"

namespace ringkv::sim {
namespace membership_internal {

SimOptions ClusterOptions(const MembershipSimOptions& o, std::map<std::string, MNode>* nodes) {
  SimOptions s;
  s.nodes = o.nodes;
  s.replication_factor = o.replication_factor;
  s.vnodes = kVnodes;
  s.hinted_handoff = o.hinted_handoff;
  s.placement = [nodes](SimNode* n) -> const ClusterView* {
    return (*nodes)[n->name()].view.get();
  };
  s.anti_entropy = true;
  return s;
}

Harness::Harness(const MembershipSimOptions& options)
    : options_(options), world_(options.seed),
      cluster_(&world_, ClusterOptions(options, &nodes_)) {
  for (size_t i = 0; i < cluster_.size(); ++i) seeds_.push_back(cluster_.node(i)->name());
  // Founding nodes: NORMAL with the static ring's tokens, every one a seed (as a new cluster's
  // nodes are started together).
  for (const Member& m : cluster_.ring().Members()) StartNode(m.name, m.tokens, false);
  steps_ = {Op::kJoin, Op::kDecommission, Op::kRemove};
  if (world_.Chance(0.5)) std::swap(steps_[1], steps_[2]);
  join_at_us_ = world_.now_us() + world_.Uniform(3'000'000, 8'000'000);
  if (options_.clock_skew_ms > 0) {
    result_.schedule = "clocks " + SkewClocks(&world_, &cluster_, seeds_, options_.clock_skew_ms) +
                       "; ";
  }
}

void Harness::StartNode(const std::string& name, std::vector<Token> tokens, bool joining,
                        int64_t generation) {
  MNode& m = nodes_[name];
  if (cluster_.node(name) == nullptr) {
    cluster_.AddNode(name);
    if (options_.clock_skew_ms > 0) {
      Note("clock " + SkewClocks(&world_, &cluster_, {name}, options_.clock_skew_ms));
    }
  }
  m.sim = cluster_.node(name);
  const uint64_t host_id = std::hash<std::string>{}(name);
  // RINGKV_SIM_LOG=info shows the nodes' logs (a replayed seed's story).
  LogLevel level = LogLevel::kError;
  if (const char* env = std::getenv("RINGKV_SIM_LOG"); env != nullptr) ParseLogLevel(env, &level);
  m.log = std::make_unique<Logger>(name, level, m.sim->clock());
  // A resumed join announces the tokens it took before (empty for a fresh one).
  const std::vector<Token> saved_tokens = joining ? tokens : std::vector<Token>{};
  m.view = std::make_unique<ClusterView>(MemberInfo{
      name, name, host_id, std::move(tokens),
      joining ? gossip::MemberStatus::kJoining : gossip::MemberStatus::kNormal});
  m.sim->Start();
  m.live = true;
  m.gossip = std::make_unique<SimMembershipTransport>(&cluster_, m.sim, [this](const std::string& n) {
    MNode* node = Live(n);
    return node == nullptr ? nullptr : node->membership.get();
  });
  StreamOptions stream;
  const KeyspaceCatalog* keyspaces = cluster_.keyspaces();
  m.restore = std::make_unique<ReplicaRestore>(m.view.get(), m.sim->kv(), m.sim->transport(),
                                               m.sim->timers(), m.sim->clock(), keyspaces,
                                               m.sim->storage(), m.log.get(), stream,
                                               options_.restore_ring_delay_ms);
  MembershipOptions mo;
  mo.seeds = seeds_;
  mo.generation = generation;
  mo.rng_seed = (host_id ^ options_.seed) + static_cast<uint64_t>(generation - 1);
  Membership::Callbacks cb;
  cb.on_member = [](const MemberInfo&) {};
  cb.on_keyspace = [](const KeyspaceDef&) {};
  SimStorage* disk = m.sim->storage();
  cb.on_save = [disk](const std::vector<gossip::Endpoint>& all) {
    (void)SaveEndpoints(disk, all);  // MemoryStorage's metadata: cannot fail
  };
  cb.on_removed = [this, name] { world_.After(0, [this, name] { StopNode(name); }); };
  ReplicaRestore* restore = m.restore.get();
  cb.on_member_removed = [restore](const std::string& gone, const Ring& before) {
    restore->OnRemoved(gone, before);
  };
  // One catalog for the whole cluster (SimCluster's): nobody creates or drops a keyspace here.
  m.membership = std::make_unique<Membership>(m.view.get(), cluster_.mutable_keyspaces(),
                                              m.gossip.get(), m.sim->timers(), m.sim->clock(),
                                              m.log.get(), mo, std::move(cb));
  if (generation > 1) {
    auto saved = LoadEndpoints(disk);
    if (saved.ok()) m.membership->Restore(saved.value());
  }
  if (joining) {
    BootstrapOptions bo;
    bo.tokens = kVnodes;
    bo.allocation_replication_factor = options_.replication_factor;
    bo.seed = host_id;
    bo.stream = stream;
    m.bootstrap = std::make_unique<Bootstrap>(m.view.get(), m.membership.get(), m.sim->kv(),
                                              m.sim->transport(), m.sim->timers(), m.sim->clock(),
                                              keyspaces, m.sim->storage(), m.log.get(), bo,
                                              saved_tokens);
  }
  DecommissionOptions d;
  d.stream = stream;
  d.hand_off_hints = [sim = m.sim](std::function<void()> then) {
    if (sim->handoff() == nullptr) return then();
    sim->handoff()->HandOff([then = std::move(then)](uint64_t, uint64_t) { then(); });
  };
  m.decommission = std::make_unique<Decommission>(
      m.view.get(), m.membership.get(), m.sim->kv(), m.sim->transport(), m.sim->timers(),
      m.sim->clock(), keyspaces, m.log.get(), d, [this, name] {
        world_.After(0, [this, name] {
          ++result_.leaves;
          StopNode(name);
        });
      });
  m.membership->Start();
  if (m.bootstrap) m.bootstrap->Start();
}

// A crash, or the end of a node that left: what holds callbacks into others goes first.
void Harness::StopNode(const std::string& name) {
  MNode& m = nodes_[name];
  if (!m.live) return;
  m.live = false;
  m.decommission.reset();
  m.bootstrap.reset();
  m.membership.reset();
  m.restore.reset();
  m.gossip.reset();
  stopped_at_ms_[name] = world_.now_us() / 1000;
  for (const auto& [target, stats] : m.sim->hint_store()->Stats()) {
    for (const Hint& h : m.sim->hint_store()->Oldest(target, SIZE_MAX, SIZE_MAX)) {
      hints_lost_.insert(target + '\0' + h.key);
    }
  }
  m.sim->Crash();  // the coordinator goes before the view it routes by
  m.view.reset();
}

std::vector<std::string> Harness::LiveNames() const {
  std::vector<std::string> names;
  for (const auto& [name, m] : nodes_) {
    if (m.live) names.push_back(name);
  }
  return names;
}

void Harness::Write() {
  if (!writing_) return;
  world_.After(options_.write_every_ms * 1000, [this] { Write(); });
  MNode* m = Live(Pick(LiveNames()));
  if (m == nullptr || !m->view->settled()) return;
  const uint64_t i = next_key_++;
  std::string key = fmt::format("k{}", i), value = fmt::format("v{}-{}", i, options_.seed);
  ++result_.writes;
  RequestOptions ro;
  ro.consistency = Consistency::kQuorum;
  m->sim->coordinator()->Put(kKeyspace, key, value, "", 0, ro, false,
                             [this, key, value, via = m->sim->name()](Result<WriteReply> r) {
                               if (r.ok()) {
                                 acked_.push_back({key, value, via, world_.now_us() / 1000});
                               }
                             });
}

// A QUORUM read of an acknowledged key through a random live node, during the schedule.
void Harness::Read() {
  if (!writing_) return;
  world_.After(options_.write_every_ms * 4000, [this] { Read(); });
  if (acked_.empty()) return;
  const Acked& a = acked_[world_.Uniform(0, static_cast<int64_t>(acked_.size()) - 1)];
  const std::string key = a.key, value = a.value;
  const std::string via = Pick(LiveNames());
  MNode* m = Live(via);
  if (m == nullptr || !m->view->settled()) return;
  ++result_.reads;
  RequestOptions ro;
  ro.consistency = Consistency::kQuorum;
  const int64_t at_ms = world_.now_us() / 1000;
  m->sim->coordinator()->Get(kKeyspace, key, ro,
                             [this, key, value, via, at_ms](Result<ReadReply> r) {
                               if (r.ok() && !HasValue(r.value().siblings, value)) {
                                 Violation(fmt::format("QUORUM read of acknowledged {} through {} "
                                                       "at {} ms did not find it",
                                                       key, via, at_ms));
                               }
                             });
}

std::string RingKey(const Ring& ring) {
  std::string key;
  for (const auto& v : ring.vnodes()) key += fmt::format("{}@{} ", ring.nodes()[v.node], v.token);
  return key;
}

// Every live node settled, agreeing on the ring, no movement in flight, no stream running.
bool Harness::Settled(std::string* why) {
  std::string ring;
  for (const std::string& name : LiveNames()) {
    MNode& m = nodes_[name];
    if (!m.view->settled()) return *why = name + " not settled", false;
    if (!m.view->Moving().empty()) return *why = name + " sees a movement", false;
    const std::string key = RingKey(m.view->ring());
    if (ring.empty()) ring = key;
    if (key != ring) return *why = name + " has another ring", false;
    const std::string& restoring = m.restore->progress().state;
    if (restoring == "streaming" || restoring == "waiting") return *why = name + " restores", false;
    if (m.bootstrap && m.bootstrap->progress().state != "done") {
      return *why = name + " bootstraps", false;
    }
  }
  return true;
}

bool Harness::StepDone() {
  std::string why;
  const Op op = steps_[step_];
  if (op == Op::kJoin) {
    if (!step_started_) {
      if (world_.now_us() < join_at_us_) return false;
      target_ = fmt::format("n{}", nodes_.size() + 1);
      StartNode(target_, {}, true);
      step_started_ = true;
      return false;
    }
    if (!Settled(&why) || !nodes_[LiveNames().front()].view->ring().Contains(target_)) return false;
    ++result_.joins;
    StepCompleted("join " + target_);
    return true;
  }
  if (op == Op::kDecommission) {
    if (!step_started_) {
      target_ = Pick(LiveNames());
      Status s = nodes_[target_].decommission->Start();
      step_started_ = s.ok();  // refused while a view still sees a movement: tried again
      return false;
    }
    if (Live(target_) != nullptr || !Settled(&why)) return false;
    StepCompleted("decommission " + target_);
    return true;
  }
  if (!step_started_) {  // kRemove
    target_ = Pick(LiveNames());
    StopNode(target_);
    const auto live = LiveNames();
    operator_ = Pick(live);
    step_started_ = true;
    remove_sent_ = false;
    return false;
  }
  if (!remove_sent_) {
    MNode* op_node = Live(operator_);
    if (op_node->view->IsAlive(target_)) return false;  // not convicted yet
    remove_sent_ = op_node->membership->Remove(target_).ok();
    return false;
  }
  if (!Settled(&why) || nodes_[LiveNames().front()].view->ring().Contains(target_)) return false;
  ++result_.removes;
  StepCompleted("removenode " + target_);
  return true;
}

void Harness::StepCompleted(const std::string& what) {
  if (step_ > 0) result_.schedule += ", ";
  result_.schedule += what + (notes_.empty() ? "" : notes_ + "]");
  notes_.clear();
}

void Harness::OnStepStarted() {
  if (options_.clock_skew_ms > 0) {  // a clock stepped mid-schedule
    Note("clock " + SkewClocks(&world_, &cluster_, {Pick(LiveNames())}, options_.clock_skew_ms));
  }
  if (options_.partitions && world_.Chance(0.75)) {
    // Only while this step is in progress, and one cut at a time.
    world_.After(world_.Uniform(0, 4'000'000), [this, step = step_] {
      if (step_ == step && !cut_active_) Cut();
    });
  }
  if (options_.kill_joiner && steps_[step_] == Op::kJoin) MaybeKillJoiner();
}

void Harness::Cut() {
  const auto live = LiveNames();
  if (live.size() < 2) return;
  NetworkCut cut = NetworkCut::Draw(&world_, live);
  cut.hold_us = world_.Uniform(2'000'000, 20'000'000);
  cut.Apply(&cluster_);
  cut_active_ = true;
  ++result_.cuts;
  Note(fmt::format("{} at {:.1f} s", cut.Describe(), static_cast<double>(world_.now_us()) / 1e6));
  heal_task_ = world_.After(cut.hold_us, [this] { Heal(); });
}

void Harness::Heal() {
  cluster_.HealAll();
  cut_active_ = false;
}

// Polled while the join runs: once the joiner's stream has done a seeded share of its ranges,
// it is crashed (what its disk had not made durable is lost) and restarted some seconds later.
void Harness::MaybeKillJoiner() {
  if (joiner_killed_ || step_ >= steps_.size() || steps_[step_] != Op::kJoin) return;
  MNode* joiner = Live(target_);
  const StreamProgress* p = joiner != nullptr && joiner->bootstrap != nullptr
                                ? &joiner->bootstrap->progress()
                                : nullptr;
  if (p != nullptr && p->state == "streaming" && kill_at_ranges_ == 0 && p->ranges_total >= 2) {
    kill_at_ranges_ = static_cast<size_t>(
        world_.Uniform(1, static_cast<int64_t>(p->ranges_total) - 1));
  }
  if (p == nullptr || p->state != "streaming" || kill_at_ranges_ == 0 ||
      p->ranges_done < kill_at_ranges_) {
    // Every millisecond while it streams (a whole stream may take 0.2 s), else every 20 ms.
    world_.After(kill_at_ranges_ == 0 ? 20'000 : 1'000, [this] { MaybeKillJoiner(); });
    return;
  }
  joiner_killed_ = true;
  const int64_t down_us = world_.Uniform(1'000'000, 10'000'000);
  Note(fmt::format("{} killed at {}/{} ranges, down {:.1f} s", target_, p->ranges_done,
                   p->ranges_total, static_cast<double>(down_us) / 1e6));
  const std::string name = target_;
  StopNode(name);
  world_.After(down_us, [this, name] { RestartJoiner(name); });
}

void Harness::RestartJoiner(const std::string& name) {
  SimStorage* disk = cluster_.node(name)->storage();
  auto start = OpenClusterStart(disk, name, /*founding=*/false, std::hash<std::string>{}(name),
                                kVnodes, cluster_.node(name)->clock()->NowUs(), "sim:" + name);
  if (!start.ok()) return Violation("the joiner cannot restart: " + start.status().ToString());
  if (!start->joining || start->tokens.empty()) {
    Violation(fmt::format("the joiner restarted {} with {} saved tokens, not resuming its join",
                          start->joining ? "joining" : "NORMAL", start->tokens.size()));
  }
  // What the killed run recorded as streamed, which the restarted Bootstrap must skip.
  if (auto done = disk->GetMeta(kJoinRangesDoneMeta); done.ok()) {
    result_.ranges_resumed += static_cast<size_t>(
        std::count(done.value().begin(), done.value().end(), '\n'));
  }
  ++result_.joiner_restarts;
  StartNode(name, start->tokens, start->joining, start->generation);
}

// With partitions, a step starts only once the last one's cut has healed and every live node's
// hints are delivered: a cut is confined to its step. Otherwise a cut still open when the
// removenode step crashes its node can lose the only hint of a write that missed the cut-off
// replica, leaving one copy, which only anti-entropy could repair (sim/README.md).
bool Harness::QuietForNextStep() {
  if (!options_.partitions || step_started_ || step_ == 0) return true;
  if (cut_active_) return false;
  for (const std::string& name : LiveNames()) {
    if (!nodes_[name].sim->hint_store()->Stats().empty()) return false;
  }
  return true;
}

// Without cuts, loss or a killed node, every live node can hear every other: a live node's
// detector holding another live one dead is wrong (a skewed clock must not cause it).

void Harness::Direct() {
  CountFalseConvictions();
  bool done = false;
  if (step_ < steps_.size() && QuietForNextStep()) {
    const bool started = step_started_;
    done = StepDone();
    if (!started && step_started_) OnStepStarted();
  }
  if (done) {
    ++step_;
    step_started_ = false;
    if (step_ == steps_.size()) {
      writing_ = false;
      result_.settled_at_ms = world_.now_us() / 1000;
      cluster_.faults().loss = 0;
      if (cut_active_) {  // the last step settled during a cut: the checks run healed
        world_.Cancel(heal_task_);
        Heal();
      }
      // Let the last writes and hints land, then check.
      world_.After(10'000'000, [this] { CleanUpThenCheck(40); });
      return;
    }
  }
  if (step_ < steps_.size()) world_.After(kTickUs, [this] { Direct(); });
}




MembershipSimResult Harness::Run() {
  cluster_.faults().loss = options_.loss;
  world_.After(2'000'000, [this] { Write(); });
  world_.After(3'000'000, [this] { Read(); });
  world_.After(kTickUs, [this] { Direct(); });
  const int64_t deadline = world_.now_us() + options_.deadline_s * 1'000'000;
  while (!finished_ && world_.now_us() < deadline) world_.RunUntil(world_.now_us() + 1'000'000);
  if (!finished_) {
    std::string why;
    Settled(&why);
    Violation(fmt::format("the schedule did not finish in {} s (step {}, {}: {})",
                          options_.deadline_s, step_, target_, why));
  }
  result_.acked = acked_.size();
  // Down every node before the machinery goes (the gossip timers hold callbacks into it).
  for (const std::string& name : LiveNames()) StopNode(name);
  return result_;
}

}  // namespace membership_internal

MembershipSimResult RunMembershipSim(const MembershipSimOptions& options) {
  membership_internal::Harness harness(options);
  return harness.Run();
}

}  // namespace ringkv::sim
