#include "node/hinted_handoff.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "common/token.h"

namespace ringkv {

HintedHandoff::HintedHandoff(HintStore* store, PeerTransport* peers, const Placement* placement,
                             Timers* timers, const Clock* clock, Logger* log,
                             HintedHandoffOptions options)
    : store_(store),
      peers_(peers),
      placement_(placement),
      timers_(timers),
      clock_(clock),
      log_(log),
      options_(options),
      alive_(std::make_shared<HintedHandoff*>(this)) {
  total_bucket_.refilled_us = clock_->MonoUs();
  // Full at start: a burst of one second's worth.
  total_bucket_.tokens = static_cast<double>(options_.total_throughput_kb_per_s) * 1024;
}

HintedHandoff::~HintedHandoff() {
  if (tick_ != 0) timers_->Cancel(tick_);
}

void HintedHandoff::Start() {
  if (tick_ != 0) return;
  std::weak_ptr<HintedHandoff*> weak = alive_;
  tick_ = timers_->After(options_.tick_ms * 1000, [weak] {
    auto self = weak.lock();
    if (!self) return;
    HintedHandoff* hh = *self;
    hh->tick_ = 0;
    hh->Tick();
    if (hh->options_.tick_when_idle || !hh->in_flight_.empty() || !hh->store_->Stats().empty()) {
      hh->Start();
    }
  });
}

void HintedHandoff::Observe(const std::string& target) {
  if (target == placement_->self()) return;
  if (placement_->IsUp(target)) {
    down_since_us_.erase(target);
    repair_logged_.erase(target);
    return;
  }
  const int64_t now = clock_->MonoUs();
  down_since_us_.emplace(target, now);
  if (PastWindow(target) && repair_logged_.insert(target).second) {
    ++stats_.needs_repair;
    if (log_ != nullptr) {
      RINGKV_LOG(log_, kWarn,
                 "hints: {} has been down for more than the hint window ({} s); no more hints "
                 "are stored for it: it needs a repair when it returns",
                 target, options_.max_hint_window_s);
    }
  }
}

bool HintedHandoff::PastWindow(const std::string& target) const {
  auto it = down_since_us_.find(target);
  return it != down_since_us_.end() &&
         clock_->MonoUs() - it->second > options_.max_hint_window_s * 1'000'000;
}

Status HintedHandoff::CanHint(const std::string& target, size_t bytes) {
  Observe(target);
  if (!placement_->IsMember(target)) {
    return Status::InvalidArgument(fmt::format("no hint for {}: not a member of the ring", target));
  }
  if (PastWindow(target)) {
    return Status::Unavailable(
        fmt::format("no hint for {}: down for longer than the hint window", target), 1, 0);
  }
  const auto all = store_->Stats();
  uint64_t total = 0;
  for (const auto& [name, s] : all) total += s.bytes;
  auto it = all.find(target);
  const uint64_t mine = it == all.end() ? 0 : it->second.bytes;
  if (mine + bytes > options_.max_hints_bytes_per_target ||
      total + bytes > options_.max_hints_bytes) {
    return Status::Overloaded(fmt::format("no hint for {}: the hint store is full", target));
  }
  return Status::Ok();
}

void HintedHandoff::Store(const std::string& target, std::string_view keyspace,
                          std::string_view key, const VersionedObject& object,
                          std::function<void(Status)> done) {
  const int64_t stored_at_us = clock_->NowUs();
  std::string record = EncodeHintRecord(stored_at_us, keyspace, key, object);
  if (Status s = CanHint(target, record.size()); !s.ok()) {
    switch (s.code()) {
      case Code::kInvalidArgument:
        ++stats_.dropped_not_member;
        break;
      case Code::kUnavailable:
        ++stats_.dropped_window;
        break;
      default:
        ++stats_.dropped_cap;
        break;
    }
    return done(std::move(s));
  }
  std::weak_ptr<HintedHandoff*> weak = alive_;
  store_->AddRecord(target, stored_at_us, std::move(record),
                    [weak, done = std::move(done)](Status s) {
                      auto self = weak.lock();
                      if (!self) return;
                      if (s.ok()) {
                        ++(*self)->stats_.stored;
                        (*self)->Start();  // a no-op when the tick is armed
                      } else {
                        ++(*self)->stats_.dropped_io;
                      }
                      done(std::move(s));
                    });
}

Result<uint64_t> HintedHandoff::Truncate(const std::string& target) {
  return store_->Truncate(target);
}

HintStats HintedHandoff::stats() const {
  HintStats s = stats_;
  s.corrupt_skipped = store_->corrupt_skipped();
  for (const auto& [name, t] : store_->Stats()) {
    s.pending += t.count;
    s.pending_bytes += t.bytes;
  }
  return s;
}

void HintedHandoff::Refill(Bucket* b, uint64_t kb_per_s) {
  const int64_t now = clock_->MonoUs();
  const double rate = static_cast<double>(kb_per_s) * 1024;  // bytes per second
  b->tokens = std::min(rate, b->tokens + rate * static_cast<double>(now - b->refilled_us) / 1e6);
  b->refilled_us = now;
}

void HintedHandoff::Tick() {
  for (const auto& node : placement_->ring().nodes()) Observe(node);
  Refill(&total_bucket_, options_.total_throughput_kb_per_s);
  for (const auto& [target, s] : store_->Stats()) {
    if (in_flight_.size() >= options_.max_targets_in_flight) break;
    if (in_flight_.count(target) > 0 || target == placement_->self()) continue;
    if (!placement_->IsMember(target)) {
      // Only once this node knows the whole ring: a member not learnt yet is not a former one.
      if (!placement_->MembershipSettled()) continue;
      if (options_.replication_factor && options_.apply_locally) {
        Rehome(target);
        continue;
      }
      auto n = store_->Truncate(target);
      if (n.ok()) stats_.dropped_not_member += n.value();
      if (log_ != nullptr) {
        RINGKV_LOG(log_, kInfo, "hints: dropped {} hint(s) for {}, no longer a member", s.count,
                   target);
      }
      continue;
    }
    if (!placement_->IsUp(target)) continue;
    SendBatch(target);
  }
}

void HintedHandoff::SendBatch(const std::string& target) {
  auto [bucket_it, fresh] = buckets_.try_emplace(target);
  Bucket& bucket = bucket_it->second;
  if (fresh) {
    bucket.refilled_us = clock_->MonoUs();
    bucket.tokens = static_cast<double>(options_.throughput_kb_per_s) * 1024;
  }
  Refill(&bucket, options_.throughput_kb_per_s);
  Refill(&total_bucket_, options_.total_throughput_kb_per_s);
  // Paid after the fact (the buckets may go negative), so a hint larger than a bucket still goes.
  if (bucket.tokens <= 0 || total_bucket_.tokens <= 0) return;
  std::vector<Hint> batch =
      store_->Oldest(target, options_.batch_hints_max, options_.batch_bytes_max);
  // The grace period, on this node's wall clock: a hint older than it may carry a write past a
  // delete anti-entropy has collected, or undo one.
  const int64_t now_wall = clock_->NowUs();
  std::vector<Hint> live;
  for (Hint& h : batch) {
    if (now_wall - h.stored_at_us > options_.gc_grace_s * 1'000'000) {
      (void)store_->Remove(target, h.id);
      ++stats_.dropped_expired;
    } else if (options_.keyspace_exists && !options_.keyspace_exists(h.keyspace)) {
      (void)store_->Remove(target, h.id);
      ++stats_.dropped_no_keyspace;
    } else {
      live.push_back(std::move(h));
    }
  }
  if (live.empty()) return;
  double bytes = 0;
  for (const Hint& h : live) bytes += static_cast<double>(h.bytes);
  bucket.tokens -= bytes;
  total_bucket_.tokens -= bytes;
  in_flight_.insert(target);

  std::vector<Delivery> deliveries;
  for (Hint& h : live) {
    // While the key's range moves (the target leaving, say), the nodes gaining it get the hint
    // too: a leaving node that receives it after pushing that range would leave without it.
    std::vector<std::string> to = {target};
    if (options_.replication_factor) {
      const uint32_t rf = options_.replication_factor(h.keyspace);
      for (auto& node : placement_->PendingReplicas(TokenOf(h.key), rf)) {
        if (node != target && node != placement_->self()) to.push_back(std::move(node));
      }
    }
    deliveries.push_back(Delivery{std::move(h), std::move(to)});
  }
  Send(target, std::move(deliveries), &HintStats::delivered,
       [this, target](bool all) { OnBatchDone(target, all); });
}

void HintedHandoff::Rehome(const std::string& target) {
  std::vector<Hint> batch =
      store_->Oldest(target, options_.batch_hints_max, options_.batch_bytes_max);
  if (batch.empty()) return;
  in_flight_.insert(target);
  std::vector<Delivery> deliveries;
  for (Hint& h : batch) {
    const uint32_t rf = options_.replication_factor(h.keyspace);
    if (rf == 0) {  // its keyspace is gone: nobody takes it
      (void)store_->Remove(target, h.id);
      ++stats_.dropped_no_keyspace;
      continue;
    }
    auto replicas = placement_->PreferenceList(TokenOf(h.key), rf);
    deliveries.push_back(Delivery{std::move(h), std::move(replicas)});
  }
  Send(target, std::move(deliveries), &HintStats::rehomed,
       [this, target](bool) { in_flight_.erase(target); });
}

void HintedHandoff::Send(const std::string& target, std::vector<Delivery> deliveries,
                         uint64_t HintStats::*counter, std::function<void(bool all)> done) {
  struct Batch {
    size_t outstanding = 1;  // the loop below holds one until it ends
    bool all = true;
    std::function<void(bool)> done;
  };
  auto state = std::make_shared<Batch>();
  state->done = std::move(done);
  std::weak_ptr<HintedHandoff*> weak = alive_;
  auto finish = [weak, state] {
    if (--state->outstanding == 0 && weak.lock()) state->done(state->all);
  };
  const int64_t deadline = clock_->MonoUs() + options_.delivery_timeout_ms * 1000;
  for (const Delivery& d : deliveries) {
    const Hint& h = d.hint;
    auto acks_needed = std::make_shared<size_t>(d.to.size());
    for (const auto& node : d.to) {
      ++state->outstanding;
      auto on_done = [weak, state, finish, target, counter, acks_needed, id = h.id](Status s) {
        if (auto self = weak.lock()) {
          HintedHandoff* hh = *self;
          if (!s.ok()) {
            ++hh->stats_.delivery_failures;
            state->all = false;
          } else if (--*acks_needed == 0) {
            // Stored durably everywhere it must be: only now may it go.
            (void)hh->store_->Remove(target, id);
            ++(hh->stats_.*counter);
          }
        }
        finish();
      };
      if (node == placement_->self()) {
        options_.apply_locally(h.keyspace, h.key, h.object, std::move(on_done));
      } else if (node == target || placement_->IsUp(node)) {
        peers_->ReplicaWrite(node, h.keyspace, h.key, h.object, deadline, std::move(on_done));
      } else {
        on_done(Status::Unavailable(fmt::format("{} is down", node), 1, 0));
      }
    }
  }
  finish();
}

struct HintedHandoff::HandOffState {
  std::vector<std::string> targets;
  size_t next = 0;
  uint64_t handed = 0, kept = 0;
  std::function<void(uint64_t, uint64_t)> done;
};

void HintedHandoff::HandOff(std::function<void(uint64_t handed, uint64_t kept)> done) {
  auto state = std::make_shared<HandOffState>();
  for (const auto& [target, s] : store_->Stats()) state->targets.push_back(target);
  state->done = std::move(done);
  HandOffNext(std::move(state));
}

void HintedHandoff::HandOffNext(std::shared_ptr<HandOffState> state) {
  if (state->next >= state->targets.size()) {
    if (log_ != nullptr && state->handed + state->kept > 0) {
      RINGKV_LOG(log_, kInfo, "hints: handed {} hint(s) to other nodes before leaving; {} kept",
                 state->handed, state->kept);
    }
    return state->done(state->handed, state->kept);
  }
  const std::string target = state->targets[state->next];
  std::vector<Hint> batch =
      store_->Oldest(target, options_.batch_hints_max, options_.batch_bytes_max);
  if (batch.empty()) {
    ++state->next;
    return HandOffNext(std::move(state));
  }
  struct Batch {
    size_t outstanding = 1;  // the loop below holds one until it ends
    bool all = true;
  };
  auto b = std::make_shared<Batch>();
  std::weak_ptr<HintedHandoff*> weak = alive_;
  auto finish = [weak, b, state, target] {
    if (--b->outstanding > 0) return;
    auto self = weak.lock();
    if (!self) return;
    if (!b->all) {  // what is left for this target stays here
      state->kept += (*self)->store_->Stats()[target].count;
      ++state->next;
    }
    (*self)->HandOffNext(state);
  };
  const int64_t deadline = clock_->MonoUs() + options_.delivery_timeout_ms * 1000;
  for (const Hint& h : batch) {
    std::string to;
    for (const auto& node : placement_->PreferenceList(TokenOf(h.key), placement_->ring().node_count())) {
      if (node != placement_->self() && node != target && placement_->IsUp(node)) {
        to = node;
        break;
      }
    }
    if (to.empty()) {
      b->all = false;
      continue;
    }
    ++b->outstanding;
    peers_->FallbackWrite(to, target, h.keyspace, h.key, h.object, deadline,
                          [weak, b, state, finish, target, id = h.id](Status s) {
                            if (auto self = weak.lock(); self && s.ok()) {
                              (void)(*self)->store_->Remove(target, id);
                              ++state->handed;
                            } else {
                              b->all = false;
                            }
                            finish();
                          });
  }
  finish();
}

void HintedHandoff::OnBatchDone(const std::string& target, bool all_delivered) {
  in_flight_.erase(target);
  // A batch that went through: the next at once, while the target is up and the buckets allow.
  // One that did not: wait for the next tick.
  if (all_delivered && placement_->IsUp(target)) SendBatch(target);
}

}  // namespace ringkv
