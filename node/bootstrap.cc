#include "node/bootstrap.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <sstream>

#include "node/cluster_state_store.h"
#include "ring/ownership_diff.h"
#include "ring/tokens.h"

namespace ringkv {

namespace {
constexpr std::string_view kDoneRangesKey = "join_ranges_done";
}  // namespace

using gossip::MemberStatus;

std::string Bootstrap::Task::Id() const {
  return fmt::format("{} {} {}", keyspace, range.start, range.end);
}

Bootstrap::Bootstrap(ClusterView* view, Membership* membership, KvService* service,
                     PeerTransport* peers, Timers* timers, const Clock* clock,
                     const KeyspaceCatalog* keyspaces, Storage* storage, Logger* log,
                     BootstrapOptions options, std::vector<Token> tokens)
    : view_(view),
      membership_(membership),
      service_(service),
      peers_(peers),
      timers_(timers),
      clock_(clock),
      keyspaces_(keyspaces),
      storage_(storage),
      log_(log),
      options_(options),
      tokens_(std::move(tokens)) {
  if (auto saved = storage_->GetMeta(kDoneRangesKey); saved.ok()) {
    std::istringstream in(saved.value());
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty()) done_ranges_.insert(line);
    }
  }
}

void Bootstrap::Retry(std::function<void()> fn) {
  timers_->After(options_.retry_ms * 1000, std::move(fn));
}

void Bootstrap::Start() {
  progress_.state = "waiting";
  TryAnnounce();
}

void Bootstrap::TryAnnounce() {
  if (!view_->settled() || view_->ring().empty()) {
    return Retry([this] { TryAnnounce(); });
  }
  std::string others;
  for (const auto& name : view_->Moving()) {
    if (name != view_->self()) others += (others.empty() ? "" : ", ") + name;
  }
  if (!others.empty()) {
    if (waiting_for_ != others) {
      RINGKV_LOG(log_, kInfo, "join: waiting for the range movement in flight ({}) to finish; "
                 "movements are serialised", others);
      waiting_for_ = others;
    }
    return Retry([this] { TryAnnounce(); });
  }
  if (tokens_.empty()) {
    AllocationOptions allocation;
    allocation.tokens = options_.tokens;
    allocation.replication_factor = options_.allocation_replication_factor;
    allocation.seed = options_.seed;
    auto tokens = AllocateTokens(view_->ring(), view_->self(), allocation);
    if (!tokens.ok()) {
      RINGKV_LOG(log_, kError, "join: cannot allocate tokens: {}; retrying",
                 tokens.status().ToString());
      return Retry([this] { TryAnnounce(); });
    }
    tokens_ = tokens.value();
    std::string text;
    for (Token t : tokens_) text += fmt::format("{} ", t);
    if (Status s = storage_->PutMeta("tokens", text); !s.ok()) {
      RINGKV_LOG(log_, kError, "join: cannot save tokens: {}; retrying", s.ToString());
      tokens_.clear();
      return Retry([this] { TryAnnounce(); });
    }
  }
  if (Status s = SaveJoinState(storage_, "streaming"); !s.ok()) {
    RINGKV_LOG(log_, kError, "join: cannot save its state: {}; retrying", s.ToString());
    return Retry([this] { TryAnnounce(); });
  }
  progress_.state = "announcing";
  membership_->SetSelf(MemberStatus::kJoining, tokens_);
  RINGKV_LOG(log_, kInfo, "join: JOINING with {} tokens; streaming starts in {} ms, once every "
             "coordinator has heard", tokens_.size(), options_.ring_delay_ms);
  timers_->After(options_.ring_delay_ms * 1000, [this] { PlanStreams(); });
}

void Bootstrap::PlanStreams() {
  tasks_.clear();
  for (const auto& [name, def] : keyspaces_->all()) {
    for (const auto& change :
         OwnershipDiff(view_->ring(), view_->future_ring(), def.replication_factor)) {
      if (std::find(change.gained.begin(), change.gained.end(), view_->self()) ==
          change.gained.end()) {
        continue;
      }
      for (const auto& part : change.range.Unwrap()) {
        Task task{name, part, change.old_replicas};
        if (done_ranges_.count(task.Id()) == 0) tasks_.push_back(std::move(task));
      }
    }
  }
  progress_.state = "streaming";
  progress_.ranges_total = tasks_.size() + done_ranges_.size();
  progress_.ranges_done = done_ranges_.size();
  RINGKV_LOG(log_, kInfo, "join: {} range(s) to stream ({} done by an earlier run)",
             tasks_.size(), done_ranges_.size());
  next_ = 0;
  NextTask();
}

void Bootstrap::NextTask() {
  if (next_ >= tasks_.size()) return Finish();
  Page(0, false, 0, {});
}

void Bootstrap::Page(size_t source, bool has_after, Token after_token, std::string after_key) {
  const Task& task = tasks_[next_];
  if (source >= task.sources.size()) {
    RINGKV_LOG(log_, kWarn, "join: no replica of {} answered; retrying", task.Id());
    return Retry([this, has_after, after_token, after_key] {
      Page(0, has_after, after_token, after_key);
    });
  }
  const std::string& from = task.sources[source];
  if (from == view_->self() || !view_->IsUp(from)) {
    return Page(source + 1, has_after, after_token, std::move(after_key));
  }
  progress_.current = fmt::format("{} from {}", task.Id(), from);
  ScanSpec spec;
  spec.keyspace = task.keyspace;
  spec.start_token = task.range.start;
  spec.end_token = task.range.end;
  spec.has_after = has_after;
  spec.after_token = after_token;
  spec.after_key = after_key;
  spec.limit = options_.page_entries;
  const int64_t started_us = clock_->MonoUs();
  peers_->ReplicaScan(
      from, spec, started_us + options_.page_timeout_ms * 1000,
      [this, source, has_after, after_token, after_key, started_us](Result<ReplicaScanReply> r) {
        if (!r.ok()) {
          RINGKV_LOG(log_, kInfo, "join: streaming {} from {} failed: {}", tasks_[next_].Id(),
                     tasks_[next_].sources[source], r.status().ToString());
          return Page(source + 1, has_after, after_token, after_key);
        }
        auto reply = std::make_shared<ReplicaScanReply>(std::move(r).value());
        auto outstanding = std::make_shared<size_t>(reply->entries.size() + 1);
        auto failed = std::make_shared<bool>(false);
        uint64_t bytes = 0;
        for (const auto& e : reply->entries) {
          bytes += e.key.size() + 16 * e.object.clock().size();
          for (const auto& sibling : e.object.siblings()) bytes += sibling.value.size() + 32;
        }
        progress_.keys += reply->entries.size();
        progress_.bytes += bytes;
        auto next = [this, reply, outstanding, failed, source, has_after, after_token, after_key,
                     started_us, bytes] {
          if (--*outstanding > 0) return;
          if (*failed) {  // a local write failed: take the page again
            return Retry([this, source, has_after, after_token, after_key] {
              Page(source, has_after, after_token, after_key);
            });
          }
          // Throttle: this page may not have taken less than its bytes allow.
          int64_t wait_us = 0;
          if (options_.stream_bytes_per_s > 0) {
            const int64_t min_us = static_cast<int64_t>(
                static_cast<double>(bytes) * 1e6 / options_.stream_bytes_per_s);
            wait_us = std::max<int64_t>(0, min_us - (clock_->MonoUs() - started_us));
          }
          auto go_on = [this, reply, source] {
            if (!reply->more || reply->entries.empty()) return TaskDone();
            const auto& last = reply->entries.back();
            Page(source, true, last.token, last.key);
          };
          if (wait_us > 0) {
            timers_->After(wait_us, go_on);
          } else {
            go_on();
          }
        };
        for (const auto& e : reply->entries) {
          service_->ReplicaWrite(tasks_[next_].keyspace, e.key, e.object,
                                 [next, failed, this](Status s) {
                                   if (!s.ok()) {
                                     *failed = true;
                                     RINGKV_LOG(log_, kWarn, "join: storing a streamed key "
                                                "failed: {}", s.ToString());
                                   }
                                   next();
                                 });
        }
        next();
      });
}

void Bootstrap::TaskDone() {
  done_ranges_.insert(tasks_[next_].Id());
  std::string text;
  for (const auto& id : done_ranges_) text += id + "\n";
  if (Status s = storage_->PutMeta(kDoneRangesKey, text); !s.ok()) {
    RINGKV_LOG(log_, kWarn, "join: cannot save its progress: {}", s.ToString());
  }
  ++progress_.ranges_done;
  ++next_;
  NextTask();
}

void Bootstrap::Finish() {
  if (Status s = SaveJoinState(storage_, "done"); !s.ok()) {
    RINGKV_LOG(log_, kError, "join: cannot save its state: {}; retrying", s.ToString());
    return Retry([this] { Finish(); });
  }
  (void)storage_->PutMeta(kDoneRangesKey, "");
  progress_.state = "done";
  progress_.current.clear();
  RINGKV_LOG(log_, kInfo, "join: streamed {} key(s), {} byte(s) in {} range(s); now NORMAL",
             progress_.keys, progress_.bytes, progress_.ranges_done);
  membership_->SetSelf(MemberStatus::kNormal, tokens_);
}

}  // namespace ringkv
