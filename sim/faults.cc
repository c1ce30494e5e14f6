#include "sim/faults.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <functional>

#include "sim/checker.h"
#include "sim/workload.h"

namespace ringkv::sim {

SimNode* FaultSchedule::RandomNode() {
  World* w = cluster_->world();
  return cluster_->node(static_cast<size_t>(w->Uniform(0, static_cast<int64_t>(cluster_->size()) - 1)));
}

void FaultSchedule::Start() {
  auto stopped = stopped_;
  cluster_->world()->After(cluster_->world()->Uniform(0, 5'000), [this, stopped] {
    if (!*stopped) Step();
  });
}

void FaultSchedule::Step() {
  World* w = cluster_->world();
  switch (w->Uniform(0, 10)) {
    case 0: {  // a random two-sided partition
      std::vector<std::string> a, b;
      for (size_t i = 0; i < cluster_->size(); ++i) {
        (w->Chance(0.5) ? a : b).push_back(cluster_->node(i)->name());
      }
      cluster_->Partition(a, b);
      break;
    }
    case 1:  // a one-way cut
      cluster_->Cut(RandomNode()->name(), RandomNode()->name());
      break;
    case 2:
    case 3:
      cluster_->HealAll();
      break;
    case 4: {  // crash a node, restart it later
      SimNode* n = RandomNode();
      if (n->up()) {
        n->Crash();
        w->After(w->Uniform(5'000, 80'000), [n] {
          if (!n->up()) n->Start();
        });
      }
      break;
    }
    case 5:
      cluster_->faults().loss = w->Chance(0.5) ? 0.0 : 0.05;
      cluster_->faults().duplicate = w->Chance(0.5) ? 0.0 : 0.05;
      break;
    case 6:
      cluster_->faults().delay_max_us = w->Chance(0.5) ? 3'000 : 60'000;
      break;
    case 7:
      RandomNode()->clock()->set_skew_us(w->Uniform(-2'000'000, 2'000'000));
      break;
    case 8: {  // a bad disk for a while: failing writes or fsyncs, or a slow one
      SimNode* n = RandomNode();
      DiskFaults& d = n->storage()->faults();
      d = DiskFaults{};
      switch (w->Uniform(0, 2)) {
        case 0: d.write_error = 0.3; break;
        case 1: d.fsync_error = 0.3; break;
        case 2: d.latency_max_us = 80'000; break;
      }
      w->After(w->Uniform(10'000, 100'000), [n] { n->storage()->faults() = DiskFaults{}; });
      break;
    }
    case 9:
    case 10: {  // a failure-detector mistake, for a while
      SimNode* observer = RandomNode();
      SimNode* subject = RandomNode();
      if (observer == subject) break;
      // Mostly the truth inverted: a live node believed down, a dead one believed up.
      const bool believed_up = w->Chance(0.8) ? !subject->up() : subject->up();
      cluster_->Misjudge(observer->name(), subject->name(), believed_up,
                         w->now_us() + w->Uniform(5'000, 150'000));
      break;
    }
  }
  auto stopped = stopped_;
  w->After(w->Uniform(2'000, 30'000), [this, stopped] {
    if (!*stopped) Step();
  });
}

std::vector<std::string> RepairWithAntiEntropy(SimCluster* c, const std::vector<std::string>& keys,
                                               const std::string& idle_node) {
  std::vector<std::string> violations;
  for (size_t i = 0; i < c->size(); ++i) {
    SimNode* n = c->node(i);
    if (n->name() == idle_node) continue;
    if (Status s = n->anti_entropy()->Repair(std::string(kSimKeyspace)); !s.ok()) {
      violations.push_back(fmt::format(
          "anti-entropy repair on {} refused in the healed cluster: {}", n->name(), s.ToString()));
    }
  }
  c->world()->RunToQuiescence();
  for (size_t i = 0; i < c->size(); ++i) {
    SimNode* n = c->node(i);
    const RepairReport& r = n->anti_entropy()->report();
    if (n->name() != idle_node && (n->anti_entropy()->running() || r.failures > 0)) {
      violations.push_back(fmt::format("anti-entropy repair on {} in the healed cluster: {}, {} "
                                       "of {} exchanges failed (last: {})",
                                       n->name(), r.state, r.failures, r.ranges_total,
                                       r.last_error));
    }
  }
  for (const auto& key : keys) {
    const auto owners = c->PreferenceList(TokenOf(key), c->options().replication_factor);
    std::vector<VersionedObject> held;  // empty: nothing stored
    for (const auto& name : owners) {
      held.emplace_back();
      c->node(name)->kv()->ReplicaRead(kSimKeyspace, key, [&](Result<ReplicaReadReply> r) {
        if (r.ok() && r->found) held.back() = std::move(r->object);
      });
    }
    if (std::adjacent_find(held.begin(), held.end(), std::not_equal_to<>()) != held.end()) {
      std::string all;
      for (size_t i = 0; i < owners.size(); ++i) {
        std::vector<std::string> siblings;
        for (const auto& sib : held[i].siblings()) {
          siblings.push_back(sib.tombstone ? "(deleted)" : sib.value);
        }
        all += fmt::format(" {} holds [{}];", owners[i], fmt::join(siblings, ", "));
      }
      violations.push_back(fmt::format("after heal and one anti-entropy repair the replicas of {} "
                                       "differ:{}",
                                       key, all));
    }
  }
  return violations;
}

std::vector<std::string> HealAndRepair(SimCluster* c, Workload* workload,
                                       const std::string& idle_node) {
  World* w = c->world();
  c->HealAll();
  c->ClearMisjudgements();
  c->faults() = NetworkFaults{};
  for (size_t i = 0; i < c->size(); ++i) {
    SimNode* n = c->node(i);
    n->storage()->faults() = DiskFaults{};
    n->clock()->set_skew_us(0);
    if (!n->up()) n->Start();
    n->StopAntiEntropyRounds();
  }
  // Hints drain (the handoff ticks while any is pending), and nothing else repairs: judged before
  // the probe writes, which carry the coordinators' merged objects to every replica.
  w->RunToQuiescence();
  std::vector<std::string> violations;
  if (c->options().hinted_handoff) violations = CheckHintedReplication(c, workload->history());
  if (c->options().anti_entropy) {
    for (auto& v : RepairWithAntiEntropy(c, workload->keys(), idle_node)) {
      violations.push_back(std::move(v));
    }
  }

  const auto probes = workload->ProbeWrites();
  w->RunToQuiescence();
  for (size_t index : probes) {
    const Op& op = workload->history()[index];
    if (op.outcome != Op::Outcome::kOk) {
      violations.push_back(fmt::format("probe write of {} via {} in the healed cluster ended {}",
                                       op.key, op.node, op.error.ToString()));
      continue;
    }
    for (const auto& name : c->PreferenceList(TokenOf(op.key), c->options().replication_factor)) {
      bool holds = false;
      c->node(name)->kv()->ReplicaRead(kSimKeyspace, op.key, [&](Result<ReplicaReadReply> r) {
        holds = r.ok() && r->found && r->object.clock().Covers(op.dot);
      });
      if (!holds) {
        violations.push_back(fmt::format("under-replicated: {} = {} written via {} in the healed "
                                         "cluster never reached replica {}",
                                         op.key, op.value, op.node, name));
      }
    }
  }

  if (c->options().anti_entropy) {
    workload->ProbeReads();  // judged by the checker, as every read of the history
  } else {
    RequestOptions all;
    all.consistency = Consistency::kAll;
    for (const auto& key : workload->keys()) {
      c->node(0)->coordinator()->Get(kSimKeyspace, key, all, [](Result<ReadReply>) {});
    }
  }
  w->RunToQuiescence();
  return violations;
}

}  // namespace ringkv::sim
