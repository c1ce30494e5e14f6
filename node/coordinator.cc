#include "node/coordinator.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <set>

#include "common/token.h"

namespace ringkv {
namespace {

bool Contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

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
                                                const RequestOptions& options) {
  auto def = keyspaces_->Find(keyspace);
  if (!def.ok()) return def.status();
  if (Status s = KvService::ValidateKey(key); !s.ok()) return s;
  Plan plan;
  plan.replicas = placement_->PreferenceList(TokenOf(key), def->replication_factor);
  plan.needed = RequiredReplicas(options.consistency, options.explicit_count, plan.replicas.size());
  if (plan.needed > def->replication_factor) {
    return Status::InvalidArgument(fmt::format(
        "the request needs {} replicas but keyspace '{}' has replication factor {}", plan.needed,
        def->name, def->replication_factor));
  }
  for (const auto& node : plan.replicas) {
    if (node == placement_->self() || placement_->IsUp(node)) plan.up.push_back(node);
  }
  if (plan.up.size() < plan.needed) {
    ++stats_.unavailable;
    const std::string level =
        options.explicit_count ? fmt::format("{} replicas", options.explicit_count)
                               : std::string(ConsistencyName(options.consistency == Consistency::kDefault
                                                                 ? Consistency::kQuorum
                                                                 : options.consistency));
    return Status::Unavailable(fmt::format("cannot achieve {}: too few of the key's {} replicas "
                                           "are up",
                                           level, plan.replicas.size()),
                               static_cast<uint32_t>(plan.needed),
                               static_cast<uint32_t>(plan.up.size()));
  }
  const int64_t timeout_ms = options.timeout_ms > 0 ? options.timeout_ms : options_.default_timeout_ms;
  plan.deadline_us = clock_->MonoUs() + timeout_ms * 1000;
  return plan;
}

// ---- reads ----------------------------------------------------------------------------------

void Coordinator::Get(std::string_view keyspace, std::string_view key,
                      const RequestOptions& options, ReadDone done) {
  ++stats_.reads;
  auto plan = MakePlan(keyspace, key, options);
  if (!plan.ok()) return done(plan.status());

  struct State {
    Plan plan;
    std::string keyspace, key;
    ReadDone done;
    std::vector<std::pair<std::string, PeerTransport::ReadReply>> replies;
    size_t failures = 0;
    bool saw_timeout = false;
    bool answered = false;   // the outcome is decided (the answer may wait for repairs)
    bool repaired = false;
    std::set<std::string> repaired_nodes;  // already sent the merge (blocking repair)
    Timers::TimerId timer = 0;
  };
  auto st = std::make_shared<State>();
  st->plan = std::move(plan).value();
  st->keyspace.assign(keyspace);
  st->key.assign(key);
  st->done = std::move(done);

  auto merge_replies = [](const State& s) {
    VersionedObject merged;
    for (const auto& [node, reply] : s.replies) {
      if (reply.found) merged = VersionedObject::Merge(merged, reply.object);
    }
    return merged;
  };
  // Sends the merge to every replica that answered with less. Runs once, when every replica has
  // answered or the deadline has passed.
  auto repair = [this, st, merge_replies] {
    if (st->repaired) return;
    st->repaired = true;
    const VersionedObject merged = merge_replies(*st);
    if (merged.empty()) return;
    for (const auto& [node, reply] : st->replies) {
      if (reply.found && reply.object == merged) continue;
      if (st->repaired_nodes.count(node) > 0) continue;
      ++stats_.read_repairs;
      if (node == placement_->self()) {
        local_->ReplicaWrite(st->keyspace, st->key, merged, [](Status) {});
      } else {
        peers_->ReplicaWrite(node, st->keyspace, st->key, merged,
                             clock_->MonoUs() + options_.default_timeout_ms * 1000,
                             [](Status) {});
      }
    }
  };
  auto answer = [this, st, merge_replies] {
    st->answered = true;
    const VersionedObject merged = merge_replies(*st);
    ReadReply reply;
    reply.siblings = merged.Live(clock_->NowUs());
    reply.found = !reply.siblings.empty();
    reply.context = merged.clock().EncodeContext();
    std::vector<std::string> stale;
    if (options_.blocking_read_repair && !merged.empty()) {
      for (const auto& [node, r] : st->replies) {
        if (!r.found || !(r.object == merged)) stale.push_back(node);
      }
    }
    if (stale.empty()) return st->done(std::move(reply));
    // Monotonic reads: every replica that answered holds the merge before the client sees it, so
    // a later read at the same R cannot go back. The deadline still applies.
    auto pending = std::make_shared<size_t>(stale.size());
    auto failed = std::make_shared<bool>(false);
    auto finish = [this, st, pending, failed, reply = std::move(reply)](Status s) mutable {
      if (!s.ok()) *failed = true;
      if (--*pending > 0) return;
      timers_->Cancel(st->timer);
      if (*failed) {
        ++stats_.timeouts;
        return st->done(Status::Timeout("read repair before answering did not complete", false));
      }
      st->done(std::move(reply));
    };
    const int64_t deadline = st->plan.deadline_us;
    for (const auto& node : stale) {
      st->repaired_nodes.insert(node);
      ++stats_.read_repairs;
      if (node == placement_->self()) {
        local_->ReplicaWrite(st->keyspace, st->key, merged, finish);
      } else {
        peers_->ReplicaWrite(node, st->keyspace, st->key, merged, deadline, finish);
      }
    }
  };
  auto on_reply = [this, st, answer, repair](const std::string& node,
                                             Result<PeerTransport::ReadReply> r) {
    if (r.ok()) {
      st->replies.emplace_back(node, std::move(r).value());
    } else {
      ++st->failures;
      st->saw_timeout |= r.status().code() == Code::kTimeout;
    }
    const size_t asked = st->plan.up.size();
    if (!st->answered && st->replies.size() >= st->plan.needed) {
      answer();
    } else if (!st->answered && asked - st->failures < st->plan.needed) {
      st->answered = true;
      const size_t alive = asked - st->failures;
      if (st->saw_timeout) {
        ++stats_.timeouts;
        st->done(Status::Timeout(fmt::format("{} of {} replicas answered", st->replies.size(),
                                             st->plan.needed),
                                 false));
      } else {
        ++stats_.unavailable;
        st->done(Status::Unavailable(fmt::format("{} replicas needed, {} answered",
                                                 st->plan.needed, alive),
                                     static_cast<uint32_t>(st->plan.needed),
                                     static_cast<uint32_t>(alive)));
      }
    }
    if (st->replies.size() + st->failures == asked) {
      timers_->Cancel(st->timer);
      repair();
    }
  };

  st->timer = timers_->After(st->plan.deadline_us - clock_->MonoUs(), [this, st, repair] {
    if (!st->answered) {
      st->answered = true;
      ++stats_.timeouts;
      st->done(Status::Timeout(
          fmt::format("{} of {} replicas answered by the deadline", st->replies.size(),
                      st->plan.needed),
          false));
    }
    repair();
  });

  for (const auto& node : st->plan.up) {
    if (node == placement_->self()) {
      local_->ReplicaRead(st->keyspace, st->key, [on_reply, node](Result<ReplicaReadReply> r) {
        on_reply(node, std::move(r));
      });
    } else {
      peers_->ReplicaRead(node, st->keyspace, st->key, st->plan.deadline_us,
                          [on_reply, node](Result<PeerTransport::ReadReply> r) {
                            on_reply(node, std::move(r));
                          });
    }
  }
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
  Write(std::move(w), forwarded, std::move(done));
}

void Coordinator::Del(std::string_view keyspace, std::string_view key, std::string_view context,
                      const RequestOptions& options, bool forwarded, WriteDone done) {
  ForwardedWrite w;
  w.keyspace.assign(keyspace);
  w.key.assign(key);
  w.context.assign(context);
  w.is_delete = true;
  w.options = options;
  if (!context.empty() || forwarded) {
    Write(std::move(w), forwarded, std::move(done));
    return;
  }
  // A blind delete removes what the replicas hold, not just what this node has seen: read at the
  // same consistency first, then delete what that read saw.
  Get(keyspace, key, options,
      [this, w = std::move(w), done = std::move(done)](Result<ReadReply> r) mutable {
        if (!r.ok()) return done(r.status());
        w.context = std::move(r->context);
        Write(std::move(w), false, std::move(done));
      });
}

void Coordinator::Write(ForwardedWrite write, bool forwarded, WriteDone done) {
  ++stats_.writes;
  auto plan = MakePlan(write.keyspace, write.key, write.options);
  if (!plan.ok()) return done(plan.status());
  if (forwarded || Contains(plan->replicas, placement_->self())) {
    CoordinateWrite(std::move(write), std::move(plan).value(), std::move(done));
    return;
  }
  // Not a replica: hand the write to the first replica that is up.
  ++stats_.forwarded;
  auto f = std::make_shared<Forward>();
  f->write = std::move(write);
  f->plan = std::move(plan).value();
  f->done = std::move(done);
  ForwardNext(std::move(f));
}

void Coordinator::ForwardNext(std::shared_ptr<Forward> f) {
  const std::string target = f->plan.up[f->next++];
  peers_->ForwardWrite(target, f->write, f->plan.deadline_us, [this, f](Result<WriteReply> r) {
    // A replica that could not be reached at all never saw the write: the next may take it.
    if (!r.ok() && r.status().code() == Code::kUnavailable && f->next < f->plan.up.size()) {
      ForwardNext(f);
      return;
    }
    f->done(std::move(r));
  });
}

void Coordinator::CoordinateWrite(ForwardedWrite write, Plan plan, WriteDone done) {
  struct State {
    ForwardedWrite write;
    Plan plan;
    WriteDone done;
    WriteReply reply;
    size_t acks = 0, failures = 0, pending = 0;
    bool answered = false;
    Timers::TimerId timer = 0;
  };
  auto st = std::make_shared<State>();
  st->write = std::move(write);
  st->plan = std::move(plan);
  st->done = std::move(done);
  const bool self_counts = Contains(st->plan.replicas, placement_->self());

  auto settle = [this, st] {
    if (st->answered) return;
    if (st->acks >= st->plan.needed) {
      st->answered = true;
      timers_->Cancel(st->timer);
      st->done(st->reply);
    } else if (st->acks + st->pending < st->plan.needed) {
      st->answered = true;
      timers_->Cancel(st->timer);
      ++stats_.timeouts;
      st->done(Status::Timeout(
          fmt::format("only {} of {} replicas acknowledged the write ({} failed); it may have "
                      "been applied",
                      st->acks, st->plan.needed, st->failures),
          true));
    }
  };
  st->timer = timers_->After(st->plan.deadline_us - clock_->MonoUs(), [this, st] {
    if (st->answered) return;
    st->answered = true;
    ++stats_.timeouts;
    st->done(Status::Timeout(fmt::format("{} of {} replicas acknowledged by the deadline; the "
                                         "write may have been applied",
                                         st->acks, st->plan.needed),
                             true));
  });

  auto local_done = [this, st, self_counts, settle](Result<WriteReply> r) {
    if (!r.ok()) {
      // Nothing left this node: the write was not applied anywhere.
      if (!st->answered) {
        st->answered = true;
        timers_->Cancel(st->timer);
        st->done(r.status());
      }
      return;
    }
    st->reply = std::move(r).value();
    if (self_counts) ++st->acks;
    for (const auto& node : st->plan.up) {
      if (node == placement_->self()) continue;
      ++st->pending;
      peers_->ReplicaWrite(node, st->write.keyspace, st->write.key, st->reply.object,
                           st->plan.deadline_us, [st, settle](Status s) {
                             --st->pending;
                             if (s.ok()) {
                               ++st->acks;
                             } else {
                               ++st->failures;
                             }
                             settle();
                           });
    }
    settle();
  };
  const auto& w = st->write;
  if (w.is_delete) {
    local_->Del(w.keyspace, w.key, w.context, std::move(local_done));
  } else {
    local_->Put(w.keyspace, w.key, w.value, w.context, w.ttl_s, std::move(local_done));
  }
}

}  // namespace ringkv
