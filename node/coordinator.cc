#include "node/coordinator.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "common/token.h"
#include "node/forward_op.h"
#include "node/hinted_handoff.h"
#include "node/read_op.h"
#include "node/write_op.h"

namespace ringkv {
namespace {

bool Contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

Status NotReady(const Placement& placement, uint32_t needed) {
  return Status::Unavailable(
      fmt::format("{}node {} has not settled its view of the ring yet (it does not know every "
                  "member's tokens); another node may serve the request",
                  kNotReadyPrefix, placement.self()),
      needed, 0);
}

void PlanStandIns(const Placement& placement, bool self_hints, std::string_view key,
                  ReplicaPlan* plan) {
  // A replica gets at most one stand-in, so at most that many nodes past the list are wanted: the
  // walk asks for twice the list first (enough unless nodes past it are down), and the whole ring
  // only when that falls short, so a sloppy write does not walk every vnode of a large ring.
  const size_t want = plan->replicas.size();
  std::vector<std::string> candidates;
  for (size_t n = 2 * want;; n = kRingNodesMax) {
    const std::vector<std::string> walk = placement.PreferenceList(TokenOf(key), n);
    candidates.clear();
    for (size_t i = want; i < walk.size() && candidates.size() < want; ++i) {
      const std::string& node = walk[i];
      const bool self = node == placement.self();
      if ((self && self_hints) || (!self && placement.IsUp(node))) candidates.push_back(node);
    }
    if (candidates.size() == want || walk.size() < n || n == kRingNodesMax) break;
  }
  size_t next = 0;
  for (const auto& owner : plan->replicas) {
    if (Contains(plan->up, owner) || next == candidates.size()) continue;
    plan->fallbacks.push_back({candidates[next++], owner});
  }
  plan->spare_stand_ins.assign(candidates.begin() + static_cast<ptrdiff_t>(next), candidates.end());
}

Coordinator::Coordinator(KvService* local, PeerTransport* peers, const Placement* placement,
                         Timers* timers, const Clock* clock, const KeyspaceCatalog* keyspaces,
                         CoordinatorOptions options)
    : local_(local),
      peers_(peers),
      placement_(placement),
      timers_(timers),
      clock_(clock),
      keyspaces_(keyspaces),
      options_(options) {}

Result<Coordinator::Plan> Coordinator::MakePlan(std::string_view keyspace, std::string_view key,
                                                const RequestOptions& options, bool write) {
  auto def = keyspaces_->Find(keyspace);
  if (!def.ok()) return def.status();
  if (Status s = KvService::ValidateKey(key); !s.ok()) return s;
  Plan plan;
  plan.replicas = placement_->PreferenceList(TokenOf(key), def->replication_factor);
  plan.needed = RequiredReplicas(options.consistency, options.explicit_count, plan.replicas.size());
  if (plan.needed > def->replication_factor) {
    return Status::InvalidArgument(
        fmt::format("the request needs {} replicas but keyspace '{}' has replication factor {}",
                    plan.needed, def->name, def->replication_factor));
  }
  if (!placement_->MembershipSettled()) {
    ++stats_.unavailable;
    return NotReady(*placement_, static_cast<uint32_t>(plan.needed));
  }
  if (placement_->Departed()) {
    ++stats_.unavailable;
    return Status::Unavailable(fmt::format("{}node {} has left the cluster; another node may "
                                           "serve the request",
                                           kNotReadyPrefix, placement_->self()),
                               static_cast<uint32_t>(plan.needed), 0);
  }
  for (const auto& node : plan.replicas) {
    if (node == placement_->self() || placement_->IsUp(node)) plan.up.push_back(node);
  }
  if (write) {
    for (auto& node : placement_->PendingReplicas(TokenOf(key), def->replication_factor)) {
      if (std::find(plan.replicas.begin(), plan.replicas.end(), node) == plan.replicas.end()) {
        plan.pending.push_back(std::move(node));
      }
    }
  }
  const bool sloppy = options.quorum == QuorumMode::kSloppy ||
                      (options.quorum == QuorumMode::kDefault && def->sloppy);
  if (write && sloppy) {
    plan.sloppy = true;
    PlanStandIns(*placement_, hints_ != nullptr, key, &plan);
  }
  const int64_t timeout_ms =
      options.timeout_ms > 0 ? options.timeout_ms : options_.default_timeout_ms;
  plan.deadline_us = clock_->MonoUs() + timeout_ms * 1000;
  // Pending replicas (a range moving) raise what a write needs by their number, and count when up.
  size_t pending_up = 0;
  for (const auto& node : plan.pending) {
    if (node == placement_->self() || placement_->IsUp(node)) ++pending_up;
  }
  const size_t needed_with_pending = plan.needed + plan.pending.size();
  if (write && sloppy && plan.up.size() + plan.fallbacks.size() + pending_up >= needed_with_pending) {
    return plan;
  }
  const size_t stand_ins = plan.fallbacks.size();
  plan.fallbacks.clear();  // too few to count: the write is refused, or met by ANY's hints
  plan.spare_stand_ins.clear();
  plan.sloppy = false;
  if (write && plan.up.empty() && hints_ != nullptr &&
      options.consistency == Consistency::kAny && options.explicit_count == 0) {
    bool hintable = true;
    for (const auto& node : plan.replicas) {
      hintable = hintable && node != placement_->self() && hints_->CanHint(node, key.size()).ok();
    }
    if (hintable) {
      plan.hints_count = true;
      return plan;
    }
  }
  if (plan.up.size() + pending_up < needed_with_pending) {
    ++stats_.unavailable;
    const std::string level =
        options.explicit_count
            ? fmt::format("{} replicas", options.explicit_count)
            : std::string(ConsistencyName(options.consistency == Consistency::kDefault
                                              ? Consistency::kQuorum
                                              : options.consistency));
    return Status::Unavailable(
        fmt::format("cannot achieve {}: too few of the key's {} replicas {}are up{}", level,
                    plan.replicas.size(), sloppy && write ? "and their stand-ins " : "",
                    plan.pending.empty()
                        ? ""
                        : fmt::format(" (with {} pending replica(s) while its range moves)",
                                      plan.pending.size())),
        static_cast<uint32_t>(needed_with_pending),
        static_cast<uint32_t>(plan.up.size() + stand_ins + pending_up));
  }
  return plan;
}

OpEnv Coordinator::Env() {
  return OpEnv{local_, peers_, placement_, timers_, clock_, &options_, &stats_, hints_};
}

// ---- reads ----------------------------------------------------------------------------------

Tracer Coordinator::StartTrace(const RequestOptions& options, std::string_view what,
                               std::string_view keyspace, std::string_view key) {
  if (!options.trace) return Tracer();
  Tracer tr = Tracer::Start(clock_, placement_->self());
  const std::string level =
      options.explicit_count
          ? fmt::format("{}={}", what == "get" ? "R" : "W", options.explicit_count)
          : std::string(ConsistencyName(options.consistency == Consistency::kDefault
                                            ? Consistency::kQuorum
                                            : options.consistency));
  tr.Event("", fmt::format("{} received: keyspace {}, key of {} bytes (token {}), consistency {}",
                           what, keyspace.empty() ? kDefaultKeyspace : keyspace, key.size(),
                           TokenOf(key), level));
  return tr;
}

void Coordinator::TracePlan(Tracer tr, const Plan& plan, std::string_view what) {
  if (!tr) return;
  std::string replicas, up, fallbacks;
  for (const auto& n : plan.replicas) replicas += (replicas.empty() ? "" : ", ") + n;
  for (const auto& n : plan.up) up += (up.empty() ? "" : ", ") + n;
  for (const auto& f : plan.fallbacks) {
    fallbacks += fmt::format("{}{} for {}", fallbacks.empty() ? "" : ", ", f.node, f.owner);
  }
  tr.Event("", fmt::format("replicas [{}], up [{}]{}: {} needed for the {}", replicas, up,
                           fallbacks.empty() ? "" : fmt::format(", fallbacks [{}]", fallbacks),
                           plan.needed, what));
}

void Coordinator::Get(std::string_view keyspace, std::string_view key,
                      const RequestOptions& options, ReadDone done) {
  Read(keyspace, key, options, StartTrace(options, "get", keyspace, key), false, std::move(done));
}

void Coordinator::Read(std::string_view keyspace, std::string_view key,
                       const RequestOptions& options, Tracer tr, bool before_delete,
                       ReadDone done) {
  ++stats_.reads;
  auto plan = MakePlan(keyspace, key, options);
  if (!plan.ok()) {
    if (tr) tr.Event("", fmt::format("failed: {}", plan.status().ToString()));
    return done(plan.status());
  }
  TracePlan(tr, plan.value(), "read");
  auto op =
      std::make_shared<ReadOp>(Env(), std::move(plan).value(), std::string(keyspace),
                               std::string(key), std::move(tr), before_delete, std::move(done));
  op->Start();
}

// ---- writes ---------------------------------------------------------------------------------

void Coordinator::Put(std::string_view keyspace, std::string_view key, std::string_view value,
                      std::string_view context, uint32_t ttl_s, const RequestOptions& options,
                      bool forwarded, WriteDone done) {
  ForwardedWrite w;
  w.keyspace.assign(keyspace);
  w.key.assign(key);
  w.value.assign(value);
  w.context.assign(context);
  w.ttl_s = ttl_s;
  w.options = options;
  Tracer tr = StartTrace(options, forwarded ? "forwarded put" : "put", keyspace, key);
  Write(std::move(w), forwarded, std::move(tr), std::move(done));
}

void Coordinator::Del(std::string_view keyspace, std::string_view key, std::string_view context,
                      const RequestOptions& options, bool forwarded, WriteDone done) {
  ForwardedWrite w;
  w.keyspace.assign(keyspace);
  w.key.assign(key);
  w.context.assign(context);
  w.is_delete = true;
  w.options = options;
  Tracer tr = StartTrace(options, forwarded ? "forwarded del" : "del", keyspace, key);
  if (!context.empty() || forwarded) {
    Write(std::move(w), forwarded, std::move(tr), std::move(done));
    return;
  }
  // A blind delete removes what the replicas hold, not just what this node has seen: read at the
  // same consistency first, then delete what that read saw.
  if (tr) tr.Event("", "no context: reading first, to delete what the replicas hold");
  Read(keyspace, key, options, tr, true,
       [this, tr, w = std::move(w), done = std::move(done)](Result<ReadReply> r) mutable {
         if (!r.ok()) return done(r.status());
         w.context = std::move(r->context);
         Write(std::move(w), false, std::move(tr), std::move(done));
       });
}

void Coordinator::Write(ForwardedWrite write, bool forwarded, Tracer tr, WriteDone done) {
  ++stats_.writes;
  auto plan = MakePlan(write.keyspace, write.key, write.options, true);
  if (!plan.ok()) {
    if (tr) tr.Event("", fmt::format("failed: {}", plan.status().ToString()));
    return done(plan.status());
  }
  TracePlan(tr, plan.value(), "write");
  // With no replica up to forward to (ANY's hints, or sloppy quorum's stand-ins), this node
  // coordinates though it is no replica.
  if (forwarded || plan->up.empty() || Contains(plan->replicas, placement_->self())) {
    std::make_shared<WriteOp>(Env(), std::move(write), std::move(plan).value(), std::move(tr),
                              std::move(done))
        ->Start();
    return;
  }
  // Not a replica: hand the write to the first replica that is up.
  ++stats_.forwarded;
  std::make_shared<ForwardOp>(Env(), std::move(write), std::move(plan).value(), std::move(tr),
                              std::move(done))
      ->Start();
}

}  // namespace ringkv
