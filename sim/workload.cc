#include "sim/workload.h"

#include <fmt/format.h>

#include <algorithm>

namespace ringkv::sim {
namespace {

// What a get is the first half of.
enum Then : int { kJustRead = 0, kThenPut = 1, kThenDelete = 2 };

// Outcomes by what an error promises: only an error raised before anything was applied is a
// failure. A timeout, or an error from a disk that may hold part of the write, leaves it in doubt.
Op::Outcome OutcomeOf(const Status& s) {
  switch (s.code()) {
    case Code::kUnavailable:
    case Code::kInvalidArgument:
    case Code::kTooManySiblings:
    case Code::kOverloaded:
    case Code::kNotFound:
      return Op::Outcome::kFail;
    default:
      return Op::Outcome::kInfo;
  }
}

}  // namespace

Workload::Workload(SimCluster* cluster, WorkloadOptions options)
    : cluster_(cluster), options_(std::move(options)) {}

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

std::string Workload::PickKey() {
  World* w = cluster_->world();
  const bool hot = w->Chance(options_.p_hot);
  const int64_t hi = static_cast<int64_t>(hot ? options_.hot_keys : options_.keys) - 1;
  return fmt::format("key{}", w->Uniform(0, hi));
}

RequestOptions Workload::PickLevel(const std::vector<Level>& levels, size_t* needed) {
  const Level& l =
      levels[static_cast<size_t>(cluster_->world()->Uniform(0, static_cast<int64_t>(levels.size()) - 1))];
  RequestOptions options;
  options.consistency = l.consistency;
  options.explicit_count = l.explicit_count;
  *needed = RequiredReplicas(l.consistency, l.explicit_count, cluster_->options().replication_factor);
  // ANY promises no replica: with none up, durable hints alone meet it (node/write_op.h), and a
  // read sees the write only once they are delivered. So an ANY write never pairs strictly.
  if (l.consistency == Consistency::kAny && l.explicit_count == 0) *needed = 0;
  return options;
}

size_t Workload::Invoke(Op op, SimNode* node) {
  op.node = node->name();
  op.invoke_us = cluster_->world()->now_us();
  history_.push_back(std::move(op));
  return history_.size() - 1;
}

void Workload::Complete(size_t index, Op::Outcome outcome, Status error) {
  Op& op = history_[index];
  if (op.outcome != Op::Outcome::kPending) return;
  op.outcome = outcome;
  op.error = std::move(error);
  op.complete_us = cluster_->world()->now_us();
  SimNode* node = cluster_->node(op.node);
  op.complete_wall_us = node->clock()->NowUs();
}

void Workload::ContinueLater(size_t client, size_t remaining) {
  World* w = cluster_->world();
  w->After(w->Uniform(options_.think_min_us, options_.think_max_us),
           [this, client, remaining] { NextOp(client, remaining - 1); });
}

std::shared_ptr<bool> Workload::GiveUpLater(size_t index, size_t client, size_t remaining) {
  auto settled = std::make_shared<bool>(false);
  const int64_t client_timeout_us = cluster_->options().request_timeout_ms * 1000 * 4;
  cluster_->world()->After(client_timeout_us, [this, index, settled, client, remaining] {
    if (*settled) return;
    *settled = true;
    Complete(index, Op::Outcome::kInfo, Status::Timeout("client gave up", true));
    ContinueLater(client, remaining);
  });
  return settled;
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
  const std::string key = PickKey();
  double roll = std::uniform_real_distribution<double>(0, 1)(world->rng());
  auto take = [&roll](double p) {
    roll -= p;
    return roll < 0;
  };
  if (take(options_.p_blind_put)) return Write(client, remaining, node, Op::Kind::kPut, key, "");
  if (take(options_.p_blind_delete)) return Write(client, remaining, node, Op::Kind::kDel, key, "");
  if (take(options_.p_scan)) return Scan(client, remaining, node);
  if (take(options_.p_rmw_put)) return Get(client, remaining, node, key, kThenPut);
  if (take(options_.p_delete)) return Get(client, remaining, node, key, kThenDelete);
  Get(client, remaining, node, key, kJustRead);
}

void Workload::Get(size_t client, size_t remaining, SimNode* node, const std::string& key,
                   int then) {
  Op op;
  op.kind = Op::Kind::kGet;
  op.client = client;
  op.key = key;
  const RequestOptions options = PickLevel(options_.read_levels, &op.needed);
  const size_t index = Invoke(std::move(op), node);
  auto settled = GiveUpLater(index, client, remaining);
  const std::string node_name = node->name();
  node->coordinator()->Get(
      kSimKeyspace, key, options,
      [this, index, settled, client, remaining, then, key, node_name](Result<ReadReply> r) {
        if (*settled) return;
        *settled = true;
        if (!r.ok()) {
          Complete(index, OutcomeOf(r.status()), r.status());
          return ContinueLater(client, remaining);
        }
        history_[index].read = r.value();
        Complete(index, Op::Outcome::kOk, Status::Ok());
        SimNode* again = cluster_->node(node_name);
        if (then == kJustRead && remaining > 1 &&
            cluster_->world()->Chance(options_.p_reread)) {
          // At once, through another node: where monotonic reads would break, if they do.
          SimNode* other = PickNode();
          if (other != nullptr) return Get(client, remaining - 1, other, key, kJustRead);
        }
        if (then == kJustRead || again == nullptr || !again->up()) {
          return ContinueLater(client, remaining);
        }
        Write(client, remaining, again, then == kThenDelete ? Op::Kind::kDel : Op::Kind::kPut,
              key, r->context);
      });
}

void Workload::Write(size_t client, size_t remaining, SimNode* node, Op::Kind kind,
                     const std::string& key, std::string context) {
  World* w = cluster_->world();
  Op op;
  op.kind = kind;
  op.client = client;
  op.key = key;
  op.blind = context.empty();
  op.context_used = context;
  if (kind == Op::Kind::kPut) {
    op.value = fmt::format("v{}", next_value_++);
    if (w->Chance(options_.p_ttl)) op.ttl_s = static_cast<uint32_t>(w->Uniform(1, options_.ttl_s_max));
  }
  RequestOptions options = PickLevel(options_.write_levels, &op.needed);
  // Drawn only when sloppy writes are on, so the seeds without them replay as before.
  if (options_.p_sloppy > 0 && w->Chance(options_.p_sloppy)) {
    options.quorum = QuorumMode::kSloppy;
    op.sloppy = true;
  }
  const std::string value = op.value;
  const uint32_t ttl_s = op.ttl_s;
  const size_t index = Invoke(std::move(op), node);
  auto settled = GiveUpLater(index, client, remaining);
  auto done = [this, index, settled, client, remaining, value](Result<WriteReply> r) {
    if (*settled) return;
    *settled = true;
    if (r.ok()) {
      Op& op = history_[index];
      op.dot = r->dot;
      op.fallback_acks = r->fallback_acks;
      op.needed -= std::min<size_t>(op.needed, r->fallback_acks);
      for (const auto& s : r->object.siblings()) {
        if (s.dot == r->dot) op.expires_at_us = s.expires_at_us;
      }
      Complete(index, Op::Outcome::kOk, Status::Ok());
    } else {
      Complete(index, OutcomeOf(r.status()), r.status());
    }
    ContinueLater(client, remaining);
  };
  if (kind == Op::Kind::kPut) {
    node->coordinator()->Put(kSimKeyspace, key, value, context, ttl_s, options, false, done);
  } else {
    node->coordinator()->Del(kSimKeyspace, key, context, options, false, done);
  }
}

std::vector<size_t> Workload::ProbeWrites() {
  std::vector<size_t> out;
  const auto all = keys();
  for (size_t k = 0; k < all.size(); ++k) {
    SimNode* node = cluster_->node(k % cluster_->size());
    Op op;
    op.kind = Op::Kind::kPut;
    op.client = options_.clients;  // a client of its own
    op.key = all[k];
    op.blind = true;
    op.value = fmt::format("probe{}", next_value_++);
    op.needed = 1;
    RequestOptions one;
    one.consistency = Consistency::kOne;
    const std::string value = op.value;
    const size_t index = Invoke(std::move(op), node);
    out.push_back(index);
    node->coordinator()->Put(kSimKeyspace, all[k], value, "", 0, one, false,
                             [this, index](Result<WriteReply> r) {
                               if (r.ok()) history_[index].dot = r->dot;
                               Complete(index, r.ok() ? Op::Outcome::kOk : OutcomeOf(r.status()),
                                        r.ok() ? Status::Ok() : r.status());
                             });
  }
  return out;
}

void Workload::ProbeReads() {
  const auto all = keys();
  for (size_t k = 0; k < all.size(); ++k) {
    SimNode* node = cluster_->node(k % cluster_->size());
    Op op;
    op.kind = Op::Kind::kGet;
    op.client = options_.clients + 1;  // a client of its own, one read per key
    op.key = all[k];
    op.needed = cluster_->options().replication_factor;
    RequestOptions all_replicas;
    all_replicas.consistency = Consistency::kAll;
    const size_t index = Invoke(std::move(op), node);
    node->coordinator()->Get(kSimKeyspace, all[k], all_replicas,
                             [this, index](Result<ReadReply> r) {
                               if (r.ok()) history_[index].read = r.value();
                               Complete(index, r.ok() ? Op::Outcome::kOk : OutcomeOf(r.status()),
                                        r.ok() ? Status::Ok() : r.status());
                             });
  }
}

void Workload::Scan(size_t client, size_t remaining, SimNode* node) {
  Op op;
  op.kind = Op::Kind::kScan;
  op.client = client;
  const RequestOptions options = PickLevel(options_.read_levels, &op.needed);
  const size_t index = Invoke(std::move(op), node);
  auto settled = GiveUpLater(index, client, remaining);
  ScanSpec spec;
  spec.keyspace = std::string(kSimKeyspace);
  // The whole ring (start == end), in small pages so that paging is exercised.
  spec.limit = static_cast<uint32_t>(cluster_->world()->Uniform(2, 8));
  ScanPage(index, settled, client, remaining, options, spec);
}

void Workload::ScanPage(size_t index, std::shared_ptr<bool> settled, size_t client,
                        size_t remaining, RequestOptions options, ScanSpec spec) {
  SimNode* node = cluster_->node(history_[index].node);
  if (node == nullptr || !node->up()) return;  // the client's timeout settles it
  node->coordinator()->Scan(spec, options, [=, this](Result<ScanReply> r) mutable {
    if (*settled) return;
    if (!r.ok()) {
      *settled = true;
      Complete(index, OutcomeOf(r.status()), r.status());
      return ContinueLater(client, remaining);
    }
    auto& out = history_[index].scan;
    for (auto& e : r->entries) out.push_back(std::move(e));
    if (r->more && !out.empty()) {
      spec.has_after = true;
      spec.after_token = out.back().token;
      spec.after_key = out.back().key;
      return ScanPage(index, settled, client, remaining, options, spec);
    }
    *settled = true;
    Complete(index, Op::Outcome::kOk, Status::Ok());
    ContinueLater(client, remaining);
  });
}

}  // namespace ringkv::sim
