#include "sim/workload.h"

#include <fmt/format.h>

#include <map>

namespace ringkv::sim {
namespace {

constexpr std::string_view kKeyspace = "sim";

Dot DotOfValue(const VersionedObject& object, const std::string& value) {
  for (const auto& s : object.siblings()) {
    if (s.value == value) return s.dot;
  }
  return Dot{};
}

}  // namespace

Workload::Workload(SimCluster* cluster, WorkloadOptions options)
    : cluster_(cluster), options_(options) {}

std::vector<std::string> Workload::keys() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < options_.keys; ++i) out.push_back(fmt::format("key{}", i));
  return out;
}

void Workload::Start() {
  for (size_t c = 0; c < options_.clients; ++c) {
    cluster_->world()->After(cluster_->world()->Uniform(0, 1000),
                             [this, c] { NextOp(c, options_.ops_per_client); });
  }
}

SimNode* Workload::PickNode() {
  std::vector<SimNode*> up;
  for (size_t i = 0; i < cluster_->size(); ++i) {
    if (cluster_->node(i)->up()) up.push_back(cluster_->node(i));
  }
  if (up.empty()) return nullptr;
  return up[static_cast<size_t>(cluster_->world()->Uniform(0, static_cast<int64_t>(up.size()) - 1))];
}

size_t Workload::Invoke(Op op) {
  op.invoke_us = cluster_->world()->now_us();
  history_.push_back(std::move(op));
  return history_.size() - 1;
}

void Workload::Complete(size_t index, Op::Outcome outcome, Status error) {
  Op& op = history_[index];
  if (op.outcome != Op::Outcome::kPending) return;  // the client's own timeout came first
  op.outcome = outcome;
  op.error = std::move(error);
  op.complete_us = cluster_->world()->now_us();
}

void Workload::NextOp(size_t client, size_t remaining) {
  World* world = cluster_->world();
  if (remaining == 0) {
    ++finished_clients_;
    return;
  }
  SimNode* node = PickNode();
  if (node == nullptr) {
    world->After(10'000, [this, client, remaining] { NextOp(client, remaining); });
    return;
  }
  auto continue_later = [this, client, remaining] {
    cluster_->world()->After(cluster_->world()->Uniform(100, 5000),
                             [this, client, remaining] { NextOp(client, remaining - 1); });
  };
  const std::string key =
      fmt::format("key{}", world->Uniform(0, static_cast<int64_t>(options_.keys) - 1));
  // A client gives up on a coordinator that died with its request: the op stays in doubt.
  const int64_t client_timeout_us = cluster_->options().request_timeout_ms * 1000 * 4;
  const double roll = std::uniform_real_distribution<double>(0, 1)(world->rng());

  auto write = [this, continue_later, client_timeout_us](SimNode* node, Op::Kind kind,
                                                         std::string key, std::string context) {
    Op op;
    op.kind = kind;
    op.key = key;
    op.node = node->name();
    op.context_used = context;
    if (kind == Op::Kind::kPut) op.value = fmt::format("v{}", next_value_++);
    const std::string value = op.value;
    const size_t index = Invoke(std::move(op));
    auto settled = std::make_shared<bool>(false);
    auto done = [this, index, settled, continue_later, value](Result<WriteReply> r) {
      if (*settled) return;
      *settled = true;
      if (r.ok()) {
        history_[index].dot = DotOfValue(r->object, value);
        Complete(index, Op::Outcome::kOk, Status::Ok());
      } else {
        const bool in_doubt = r.status().code() == Code::kTimeout;
        Complete(index, in_doubt ? Op::Outcome::kInfo : Op::Outcome::kFail, r.status());
      }
      continue_later();
    };
    cluster_->world()->After(client_timeout_us, [this, index, settled, continue_later] {
      if (*settled) return;
      *settled = true;
      Complete(index, Op::Outcome::kInfo, Status::Timeout("client gave up", true));
      continue_later();
    });
    if (kind == Op::Kind::kPut) {
      node->coordinator()->Put(kKeyspace, key, value, context, 0, options_.request, false, done);
    } else {
      node->coordinator()->Del(kKeyspace, key, context, options_.request, false, done);
    }
  };

  if (roll < options_.p_blind_put) {
    write(node, Op::Kind::kPut, key, "");
    return;
  }
  // A read, alone or as the first half of a read-modify-write or a delete.
  const bool then_write = roll >= options_.p_blind_put + options_.p_get;
  const bool then_delete = roll < options_.p_blind_put + options_.p_get + options_.p_delete &&
                           roll >= options_.p_blind_put + options_.p_get;
  Op op;
  op.kind = Op::Kind::kGet;
  op.key = key;
  op.node = node->name();
  const size_t index = Invoke(std::move(op));
  auto settled = std::make_shared<bool>(false);
  const std::string node_name = node->name();
  cluster_->world()->After(client_timeout_us, [this, index, settled, continue_later] {
    if (*settled) return;
    *settled = true;
    Complete(index, Op::Outcome::kInfo, Status::Timeout("client gave up", false));
    continue_later();
  });
  node->coordinator()->Get(
      kKeyspace, key, options_.request,
      [this, index, settled, continue_later, write, then_write, then_delete, key,
       node_name](Result<ReadReply> r) {
        if (*settled) return;
        *settled = true;
        if (!r.ok()) {
          Complete(index, r.status().code() == Code::kTimeout ? Op::Outcome::kInfo
                                                              : Op::Outcome::kFail,
                   r.status());
          continue_later();
          return;
        }
        history_[index].read = r.value();
        Complete(index, Op::Outcome::kOk, Status::Ok());
        SimNode* again = cluster_->node(node_name);
        if (then_write && again != nullptr && again->up()) {
          write(again, then_delete ? Op::Kind::kDel : Op::Kind::kPut, key, r->context);
        } else {
          continue_later();
        }
      });
}

std::vector<std::string> CheckHistory(SimCluster* cluster, const std::vector<Op>& history,
                                      const std::vector<std::string>& keys,
                                      const std::string& keyspace) {
  std::vector<std::string> violations;
  std::map<std::string, const Op*> put_by_value;
  for (const auto& op : history) {
    if (op.kind == Op::Kind::kPut) put_by_value[op.value] = &op;
  }
  auto context_of = [](const Op& op) {
    auto vv = VersionVector::DecodeContext(op.context_used);
    return vv.ok() ? vv.value() : VersionVector();
  };

  // 1 and 2.
  for (const auto& read : history) {
    if (read.kind != Op::Kind::kGet || read.outcome != Op::Outcome::kOk) continue;
    auto seen = VersionVector::DecodeContext(read.read.context);
    if (!seen.ok()) {
      violations.push_back(fmt::format("read of {} returned a malformed context", read.key));
      continue;
    }
    for (const auto& w : history) {
      if (w.kind != Op::Kind::kPut || w.outcome != Op::Outcome::kOk || w.key != read.key) continue;
      if (w.complete_us < read.invoke_us && !seen->Covers(w.dot)) {
        violations.push_back(fmt::format(
            "stale read: {} at {}us (via {}) did not see {} acknowledged at {}us (dot {}:{})",
            read.key, read.invoke_us, read.node, w.value, w.complete_us, w.dot.actor,
            w.dot.counter));
      }
    }
    const auto& sibs = read.read.siblings;
    for (size_t i = 0; i < sibs.size(); ++i) {
      for (size_t j = 0; j < sibs.size(); ++j) {
        if (i == j) continue;
        auto it = put_by_value.find(sibs[i].value);
        if (it == put_by_value.end()) continue;
        if (context_of(*it->second).Covers(sibs[j].dot)) {
          violations.push_back(fmt::format("false sibling in a read of {}: {} was written with a "
                                           "context covering {}",
                                           read.key, sibs[i].value, sibs[j].value));
        }
      }
    }
  }

  // 3 and 4, on the healed and repaired cluster.
  for (const auto& key : keys) {
    const auto replicas = cluster->PreferenceList(TokenOf(key), cluster->options().replication_factor);
    std::optional<VersionedObject> first;
    for (const auto& name : replicas) {
      VersionedObject object;
      cluster->node(name)->kv()->ReplicaRead(keyspace, key, [&](Result<ReplicaReadReply> r) {
        if (r.ok()) object = std::move(r->object);
      });
      if (!first) {
        first = object;
      } else if (!(object == *first)) {
        violations.push_back(fmt::format("replicas disagree on {} after repair ({} vs {})", key,
                                         replicas.front(), name));
      }
    }
    if (!first) continue;
    for (const auto& w : history) {
      if (w.kind != Op::Kind::kPut || w.outcome != Op::Outcome::kOk || w.key != key) continue;
      bool superseded = false;
      for (const auto& x : history) {
        // A write that failed outright was applied nowhere; one in doubt may have been.
        if (x.key == key && x.kind != Op::Kind::kGet && x.outcome != Op::Outcome::kFail &&
            &x != &w && context_of(x).Covers(w.dot)) {
          superseded = true;
          break;
        }
      }
      if (superseded) continue;
      bool present = false;
      for (const auto& s : first->siblings()) present |= s.value == w.value;
      if (!present) {
        violations.push_back(fmt::format("lost write: {} = {} (dot {}:{}) acknowledged at {}us, "
                                         "superseded by nothing, is gone",
                                         key, w.value, w.dot.actor, w.dot.counter, w.complete_us));
      }
    }
  }
  return violations;
}

}  // namespace ringkv::sim
