#include "sim/checker.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace ringkv::sim {
namespace {

// Clock skew the fault schedule may give any two nodes, in wall time: how far apart two nodes'
// judgements of a TTL's expiry can be.
constexpr int64_t kSkewSpreadMaxUs = 4'000'000;

bool IsWrite(const Op& op) { return op.kind == Op::Kind::kPut || op.kind == Op::Kind::kDel; }
bool Applied(const Op& op) { return op.outcome == Op::Outcome::kOk; }
bool MayHaveApplied(const Op& op) { return op.outcome != Op::Outcome::kFail; }

// What one read saw of one key: a get, or one key of a scan (found = false: the scan skipped it).
struct Observation {
  const Op* op = nullptr;
  const std::vector<Sibling>* siblings = nullptr;
  VersionVector context;
};

class Checker {
 public:
  Checker(const std::vector<Op>& history, const CheckOptions& options)
      : history_(history), options_(options) {
    for (const auto& op : history_) {
      if (op.kind == Op::Kind::kPut) put_by_value_[op.value] = &op;
      if (IsWrite(op)) {
        writes_[op.key].push_back(&op);
        auto ctx = VersionVector::DecodeContext(op.context_used);
        supersedes_[&op] = ctx.ok() ? ctx.value() : VersionVector();
        if (Applied(op)) dot_[&op] = op.dot;
      }
    }
    // A write in doubt has a dot if any read returned its value.
    for (const auto& op : history_) {
      if (op.kind == Op::Kind::kGet && Applied(op)) LearnDots(op.read.siblings);
      if (op.kind == Op::Kind::kScan && Applied(op)) {
        for (const auto& e : op.scan) LearnDots(e.siblings);
      }
    }
  }

  CheckReport Run(SimCluster* cluster, const std::vector<std::string>& keys) {
    cluster_ = cluster;
    for (const auto& op : history_) {
      if (op.error.code() == Code::kInternal || op.error.code() == Code::kCorruption) {
        Violation("{} on {} via {} ended in {}", KindName(op), op.key, op.node,
                  op.error.ToString());
      }
      if (!Applied(op)) continue;
      if (op.kind == Op::Kind::kGet) CheckGet(op);
      if (op.kind == Op::Kind::kScan) CheckScan(op, keys);
    }
    CheckSessions();
    for (const auto& key : keys) CheckFinal(cluster, key);
    return std::move(report_);
  }

 private:
  template <typename... Args>
  void Violation(fmt::format_string<Args...> format, Args&&... args) {
    report_.violations.push_back(fmt::format(format, std::forward<Args>(args)...));
  }
  static const char* KindName(const Op& op) {
    switch (op.kind) {
      case Op::Kind::kGet: return "get";
      case Op::Kind::kPut: return "put";
      case Op::Kind::kDel: return "del";
      case Op::Kind::kScan: return "scan";
    }
    return "?";
  }
  bool Strict(const Op& read, const Op& write) const {
    return read.needed + write.needed > options_.replication_factor;
  }
  // A stale read: a violation where the pair's setting promises better, else counted.
  template <typename... Args>
  void Stale(bool strict, fmt::format_string<Args...> format, Args&&... args) {
    if (strict) {
      report_.violations.push_back(fmt::format(format, std::forward<Args>(args)...));
    } else {
      ++report_.stale_reads;
    }
  }

  void LearnDots(const std::vector<Sibling>& siblings) {
    for (const auto& s : siblings) {
      auto it = put_by_value_.find(s.value);
      if (it != put_by_value_.end() && !dot_.count(it->second)) dot_[it->second] = s.dot;
    }
  }
  const Dot* DotOf(const Op* op) const {
    auto it = dot_.find(op);
    return it == dot_.end() ? nullptr : &it->second;
  }
  // The value may have expired by wall time `wall_us` on some node's clock.
  static bool MayHaveExpired(const Op& put, int64_t wall_us) {
    return put.ttl_s > 0 && (put.expires_at_us == 0 || put.expires_at_us <= wall_us + kSkewSpreadMaxUs);
  }
  // Some write other than `x` that may have been applied superseded x's dot, and (when `seen` is
  // given) the reader saw that write: its dot is covered, or unknown. A blind delete supersedes
  // whatever it may have read: any write begun before it completed.
  bool SupersededBy(const Op& x, const Dot& d, const VersionVector* seen) const {
    for (const Op* y : writes_.at(x.key)) {
      if (y == &x || !MayHaveApplied(*y)) continue;
      const bool covers = y->blind && y->kind == Op::Kind::kDel
                              ? (y->complete_us < 0 || x.invoke_us < y->complete_us)
                              : supersedes_.at(y).Covers(d);
      if (!covers) continue;
      if (seen == nullptr) return true;
      const Dot* yd = DotOf(y);
      if (yd == nullptr || seen->Covers(*yd)) return true;
    }
    return false;
  }

  void CheckGet(const Op& op) {
    auto ctx = VersionVector::DecodeContext(op.read.context);
    if (!ctx.ok()) return Violation("get {} via {} returned a malformed context", op.key, op.node);
    if (op.read.found != !op.read.siblings.empty()) {
      Violation("get {} via {}: found={} with {} siblings", op.key, op.node, op.read.found,
                op.read.siblings.size());
    }
    CheckRead(op, op.key, op.read.siblings, ctx.value());
  }

  void CheckRead(const Op& op, const std::string& key, const std::vector<Sibling>& siblings,
                 const VersionVector& context) {
    ++report_.reads_checked;
    eval_wall_min_ = cluster_->node(op.node)->clock()->MinWallBetween(op.invoke_us, op.complete_us);
    if (op.kind == Op::Kind::kGet) gets_by_client_key_[{op.client, key}].push_back({&op, context});
    std::set<std::string> returned;
    for (const auto& s : siblings) {
      returned.insert(s.value);
      CheckSibling(op, key, s, context);
    }
    // No false siblings: none returned beside one whose write had seen it.
    for (const auto& a : siblings) {
      auto it = put_by_value_.find(a.value);
      if (it == put_by_value_.end()) continue;
      for (const auto& b : siblings) {
        if (&a != &b && supersedes_.at(it->second).Covers(b.dot)) {
          Violation("false sibling: {} via {} at {}us returned {} beside {}, whose write had seen it",
                    key, op.node, op.invoke_us, b.value, a.value);
        }
      }
    }
    auto wit = writes_.find(key);
    if (wit == writes_.end()) return;
    for (const Op* x : wit->second) {
      const Dot* d = DotOf(x);
      if (d == nullptr) continue;
      // Every write acknowledged before the read began is covered by its context.
      if (Applied(*x) && x->complete_us < op.invoke_us) {
        if (Strict(op, *x)) ++report_.strict_pairs;
        if (!context.Covers(*d)) {
          Stale(Strict(op, *x),
                "stale read: {} {} via {} (R={}) at {}us missed {} {} (W={}, dot {:x}:{}) "
                "acknowledged at {}us",
                KindName(op), key, op.node, op.needed, op.invoke_us, KindName(*x),
                x->kind == Op::Kind::kPut ? x->value : "(delete)", x->needed, d->actor, d->counter,
                x->complete_us);
        }
      }
      // None dropped: a covered put's value is returned unless what superseded it was seen too.
      if (x->kind == Op::Kind::kPut && context.Covers(*d) && !returned.count(x->value) &&
          !MayHaveExpired(*x, op.complete_wall_us) && !SupersededBy(*x, *d, &context)) {
        Violation("dropped sibling: {} {} via {} at {}us covers {} (dot {:x}:{}) but returned "
                  "neither it nor anything that superseded it",
                  KindName(op), key, op.node, op.invoke_us, x->value, d->actor, d->counter);
      }
    }
  }

  void CheckSibling(const Op& op, const std::string& key, const Sibling& s,
                    const VersionVector& context) {
    auto it = put_by_value_.find(s.value);
    if (it == put_by_value_.end()) {
      return Violation("{} {} via {} returned a value never written: '{}'", KindName(op), key,
                       op.node, s.value.substr(0, 40));
    }
    const Op& w = *it->second;
    if (w.key != key) {
      Violation("{} {} via {} returned {}, written to {}", KindName(op), key, op.node, w.value,
                w.key);
    }
    if (w.outcome == Op::Outcome::kFail) {
      Violation("{} {} via {} returned {}, whose write failed ({})", KindName(op), key, op.node,
                w.value, w.error.ToString());
    }
    if (Applied(w) && !(s.dot == w.dot)) {
      Violation("{} {} returned {} with dot {:x}:{}, written as {:x}:{}", KindName(op), key,
                w.value, s.dot.actor, s.dot.counter, w.dot.actor, w.dot.counter);
    }
    if (s.expires_at_us != 0 && s.expires_at_us <= eval_wall_min_) {
      Violation("{} {} via {} at wall {} or later returned {} which expired at {}", KindName(op),
                key, op.node, eval_wall_min_, w.value, s.expires_at_us);
    }
    if (!context.Covers(s.dot)) {
      Violation("{} {} via {}: the context does not cover returned sibling {}", KindName(op), key,
                op.node, w.value);
    }
    // Not superseded by a write acknowledged before the read began.
    for (const Op* y : writes_.at(key)) {
      if (y == &w || !Applied(*y) || y->complete_us >= op.invoke_us) continue;
      if (supersedes_.at(y).Covers(s.dot)) {
        Stale(Strict(op, *y),
              "superseded value read: {} {} via {} (R={}) at {}us returned {} although {} (W={}) "
              "superseding it was acknowledged at {}us",
              KindName(op), key, op.node, op.needed, op.invoke_us, w.value,
              y->kind == Op::Kind::kPut ? y->value : "a delete", y->needed, y->complete_us);
      }
    }
  }

  void CheckScan(const Op& op, const std::vector<std::string>& keys) {
    std::set<std::string> seen;
    for (const auto& e : op.scan) {
      if (!seen.insert(e.key).second) Violation("scan via {} returned {} twice", op.node, e.key);
      if (e.siblings.empty()) Violation("scan via {} returned {} with no live sibling", op.node, e.key);
      auto ctx = VersionVector::DecodeContext(e.context);
      if (!ctx.ok()) {
        Violation("scan via {} returned a malformed context for {}", op.node, e.key);
        continue;
      }
      if (writes_.count(e.key) == 0) {
        Violation("scan via {} returned key {} that was never written", op.node, e.key);
        continue;
      }
      CheckRead(op, e.key, e.siblings, ctx.value());
    }
    // Keys it skipped: none may hold an acknowledged, unsuperseded, unexpired value.
    for (const auto& key : keys) {
      if (seen.count(key) || writes_.count(key) == 0) continue;
      for (const Op* x : writes_.at(key)) {
        const Dot* d = DotOf(x);
        if (x->kind != Op::Kind::kPut || !Applied(*x) || x->complete_us >= op.invoke_us ||
            d == nullptr || MayHaveExpired(*x, op.complete_wall_us) || SupersededBy(*x, *d, nullptr)) {
          continue;
        }
        Stale(Strict(op, *x), "scan via {} (R={}) at {}us skipped {}, which holds {} (W={}) "
              "acknowledged at {}us", op.node, op.needed, op.invoke_us, key, x->value, x->needed,
              x->complete_us);
      }
    }
  }

  // Monotonic reads: one client's successive gets of a key never go back.
  void CheckSessions() {
    for (const auto& [client_key, reads] : gets_by_client_key_) {
      for (size_t i = 1; i < reads.size(); ++i) {
        const auto& [a, ca] = reads[i - 1];
        const auto& [b, cb] = reads[i];
        if (cb.Descends(ca)) continue;
        if (options_.blocking_read_repair && a->needed + b->needed > options_.replication_factor) {
          Violation("non-monotonic reads: client {} read {} via {} at {}us, then via {} at {}us "
                    "a context that does not descend it",
                    client_key.first, client_key.second, a->node, a->invoke_us, b->node,
                    b->invoke_us);
        } else {
          ++report_.non_monotonic;
        }
      }
    }
  }

  void CheckFinal(SimCluster* cluster, const std::string& key) {
    const auto replicas = cluster->PreferenceList(TokenOf(key), options_.replication_factor);
    std::optional<VersionedObject> first;
    for (const auto& name : replicas) {
      VersionedObject object;
      cluster->node(name)->kv()->ReplicaRead(kSimKeyspace, key, [&](Result<ReplicaReadReply> r) {
        if (r.ok()) object = std::move(r->object);
      });
      if (!first) {
        first = object;
      } else if (!(object == *first)) {
        Violation("replicas disagree on {} after heal and repair ({} vs {})", key, replicas.front(),
                  name);
      }
    }
    if (!first || writes_.count(key) == 0) return;
    int64_t wall_max = 0;
    for (size_t i = 0; i < cluster->size(); ++i) {
      wall_max = std::max(wall_max, cluster->node(i)->clock()->NowUs());
    }
    std::set<std::string> present;
    for (const auto& s : first->siblings()) {
      if (s.tombstone) continue;
      present.insert(s.value);
      auto it = put_by_value_.find(s.value);
      if (it == put_by_value_.end() || it->second->key != key) {
        Violation("{} holds a value never written to it: '{}'", key, s.value.substr(0, 40));
        continue;
      }
      for (const Op* y : writes_.at(key)) {
        if (y != it->second && Applied(*y) && supersedes_.at(y).Covers(s.dot)) {
          Violation("{} still holds {} after {} superseding it was acknowledged at {}us", key,
                    s.value, y->kind == Op::Kind::kPut ? y->value : "a delete", y->complete_us);
        }
      }
    }
    for (const Op* x : writes_.at(key)) {
      const Dot* d = DotOf(x);
      if (!Applied(*x) || d == nullptr) continue;
      if (!first->clock().Covers(*d)) {
        Violation("lost {}: {} {} (dot {:x}:{}) acknowledged at {}us is not in the replicas' clock",
                  KindName(*x), key, x->kind == Op::Kind::kPut ? x->value : "(delete)", d->actor,
                  d->counter, x->complete_us);
        continue;
      }
      if (x->kind != Op::Kind::kPut || present.count(x->value) ||
          MayHaveExpired(*x, wall_max) || SupersededBy(*x, *d, nullptr)) {
        continue;
      }
      Violation("lost write: {} = {} (dot {:x}:{}) acknowledged at {}us, superseded by nothing, "
                "is gone",
                key, x->value, d->actor, d->counter, x->complete_us);
    }
  }

  const std::vector<Op>& history_;
  const CheckOptions options_;
  SimCluster* cluster_ = nullptr;
  int64_t eval_wall_min_ = 0;  // the read being judged: its coordinator's lowest wall time
  CheckReport report_;
  std::map<std::string, const Op*> put_by_value_;
  std::map<std::string, std::vector<const Op*>> writes_;
  std::map<const Op*, VersionVector> supersedes_;
  std::map<const Op*, Dot> dot_;
  std::map<std::pair<size_t, std::string>, std::vector<std::pair<const Op*, VersionVector>>>
      gets_by_client_key_;
};

}  // namespace

CheckReport CheckHistory(SimCluster* cluster, const std::vector<Op>& history,
                         const std::vector<std::string>& keys, const CheckOptions& options) {
  return Checker(history, options).Run(cluster, keys);
}

std::vector<std::string> CheckHintedReplication(SimCluster* c, const std::vector<Op>& history) {
  auto kind_name = [](const Op& op) { return op.kind == Op::Kind::kPut ? "put" : "del"; };
  std::vector<std::string> violations;
  const int64_t crash_window_us = 4 * c->options().request_timeout_ms * 1000;
  std::map<uint64_t, SimNode*> by_actor;  // SimNode::Start: the actor is the hash of the name
  for (size_t i = 0; i < c->size(); ++i) {
    by_actor[std::hash<std::string>{}(c->node(i)->name())] = c->node(i);
  }
  for (const Op& op : history) {
    if (!IsWrite(op) || !Applied(op)) continue;
    auto coordinator = by_actor.find(op.dot.actor);
    if (coordinator == by_actor.end()) {
      violations.push_back(fmt::format("{} of {} acknowledged with a dot of no node", kind_name(op),
                                       op.key));
      continue;
    }
    bool crashed = false;
    for (int64_t at : coordinator->second->crashes()) {
      crashed = crashed || (at >= op.invoke_us && at <= op.invoke_us + crash_window_us);
    }
    if (crashed) continue;
    for (const auto& name : c->PreferenceList(TokenOf(op.key), c->options().replication_factor)) {
      bool holds = false;
      c->node(name)->kv()->ReplicaRead(kSimKeyspace, op.key, [&](Result<ReplicaReadReply> r) {
        holds = r.ok() && r->found && r->object.clock().Covers(op.dot);
      });
      if (holds) continue;
      bool lost = false;
      for (size_t i = 0; i < c->size() && !lost; ++i) {
        for (const auto& l : c->node(i)->hint_store()->lost()) {
          if (l.target == name && l.key == op.key && l.clock.Covers(op.dot)) {
            lost = true;
            break;
          }
        }
      }
      if (lost) continue;
      violations.push_back(fmt::format(
          "hinted handoff: {} of {} (dot {}:{}) acknowledged at t={} us via {}, coordinated by {}, "
          "is not on replica {} after the heal and the replay of every hint (no repair yet)",
          kind_name(op), op.key, op.dot.actor, op.dot.counter, op.invoke_us, op.node,
          coordinator->second->name(), name));
    }
  }
  return violations;
}

}  // namespace ringkv::sim
