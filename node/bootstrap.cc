#include "node/bootstrap.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <sstream>

#include "node/cluster_state_store.h"
#include "node/identity.h"
#include "ring/ownership_diff.h"
#include "ring/tokens.h"

namespace ringkv {

namespace {
constexpr std::string_view kDoneRangesKey = "join_ranges_done";
}  // namespace

using gossip::MemberStatus;

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
      tokens_(std::move(tokens)),
      streamer_(view, service, peers, timers, clock, log, options.stream, &progress_) {
  progress_.what = "join";
  if (auto saved = storage_->GetMeta(kDoneRangesKey); saved.ok()) {
    std::istringstream in(saved.value());
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty()) done_ranges_.insert(line);
    }
  }
}

void Bootstrap::Retry(std::function<void()> fn) {
  timers_->After(options_.stream.retry_ms * 1000, std::move(fn));
}

void Bootstrap::Start() {
  progress_.state = "waiting";
  TryAnnounce();
}

void Bootstrap::TryAnnounce() {
  if (!view_->settled() || view_->ring().empty()) {
    if (view_->settled() && waiting_for_ != "seeds") {
      RINGKV_LOG(log_, kWarn, "join: no member of the cluster is known yet; a joining node waits "
                 "until one of its --seeds answers");
      waiting_for_ = "seeds";
    }
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
    if (Status s = SaveTokens(storage_, tokens_); !s.ok()) {
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
      // From the replica that loses the range first (Cassandra's consistent range movement): a
      // write acknowledged by W old replicas is on it, or on W - 1 of the ones that stay, so
      // either way W of the new replicas hold it once this stream is done. Another old replica
      // only when it does not answer.
      std::vector<std::string> sources = change.lost;
      for (const auto& node : change.old_replicas) {
        if (std::find(sources.begin(), sources.end(), node) == sources.end()) sources.push_back(node);
      }
      for (const auto& part : change.range.Unwrap()) {
        StreamTask task{name, part, sources, ""};
        if (done_ranges_.count(task.Id()) == 0) tasks_.push_back(std::move(task));
      }
    }
  }
  progress_.state = "streaming";
  progress_.ranges_total = tasks_.size() + done_ranges_.size();
  progress_.ranges_done = done_ranges_.size();
  RINGKV_LOG(log_, kInfo, "join: {} range(s) to stream ({} done by an earlier run)",
             tasks_.size(), done_ranges_.size());
  streamer_.Run(
      std::move(tasks_), [this](const StreamTask& task) { RangeDone(task); },
      [this] { Finish(); });
}

void Bootstrap::RangeDone(const StreamTask& task) {
  done_ranges_.insert(task.Id());
  std::string text;
  for (const auto& id : done_ranges_) text += id + "\n";
  if (Status s = storage_->PutMeta(kDoneRangesKey, text); !s.ok()) {
    RINGKV_LOG(log_, kWarn, "join: cannot save its progress: {}", s.ToString());
  }
}

void Bootstrap::Finish() {
  // NORMAL changes every key's replicas at once. A member cut off from this node would not hear
  // it and would go on reading the old replicas, which miss what the new ones took meanwhile
  // (membership sim, partitions, seed 7002): so the node turns NORMAL only while it reaches
  // every member, and the news spreads to all within a few gossip rounds.
  for (const auto& [name, m] : view_->members()) {
    if (name == view_->self() || gossip::Gone(m.status) || view_->IsUp(name)) continue;
    if (waiting_for_ != name) {
      RINGKV_LOG(log_, kInfo, "join: streamed; waiting for {} to be reachable before turning NORMAL",
                 name);
      waiting_for_ = name;
    }
    progress_.state = "waiting for " + name;
    return Retry([this] { Finish(); });
  }
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
