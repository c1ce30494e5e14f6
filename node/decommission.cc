#include "node/decommission.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <set>

#include "ring/ownership_diff.h"

namespace ringkv {

using gossip::MemberStatus;

Decommission::Decommission(ClusterView* view, Membership* membership, KvService* service,
                           PeerTransport* peers, Timers* timers, const Clock* clock,
                           const KeyspaceCatalog* keyspaces, Logger* log,
                           DecommissionOptions options, std::function<void()> on_left)
    : view_(view),
      membership_(membership),
      service_(service),
      peers_(peers),
      timers_(timers),
      clock_(clock),
      keyspaces_(keyspaces),
      log_(log),
      options_(options),
      on_left_(std::move(on_left)) {
  progress_.what = "decommission";
}

Status Decommission::Start() {
  if (running_) return Status::InvalidArgument("this node is already leaving");
  const MemberInfo& me = view_->members().at(view_->self());
  if (me.status != MemberStatus::kNormal) {
    return Status::InvalidArgument(fmt::format(
        "this node is {}; only a NORMAL node can leave", gossip::StatusName(me.status)));
  }
  if (!view_->settled()) return Status::InvalidArgument("not ready: the ring is not settled yet");
  // Movements are serialised.
  if (Status s = view_->RefuseWhileMoving("decommission"); !s.ok()) return s;
  const size_t remaining = view_->node_count() - 1;
  for (const auto& [name, def] : keyspaces_->all()) {
    if (def.replication_factor > remaining) {
      return Status::InvalidArgument(fmt::format(
          "keyspace '{}' has replication factor {}, and only {} node(s) would remain", name,
          def.replication_factor, remaining));
    }
  }
  // Every node that gains a range must be up to take it.
  MemberInfo leaving = me;
  leaving.status = MemberStatus::kLeaving;
  std::vector<Member> future_members;
  for (const auto& [name, m] : view_->members()) {
    if (name != view_->self() && gossip::InRing(m.status)) future_members.push_back({name, m.tokens});
  }
  auto future = Ring::Build(std::move(future_members));
  if (!future.ok()) return future.status();
  std::set<std::string> gainers;
  for (const auto& [name, def] : keyspaces_->all()) {
    for (const auto& change : OwnershipDiff(view_->ring(), future.value(), def.replication_factor)) {
      gainers.insert(change.gained.begin(), change.gained.end());
    }
  }
  for (const auto& g : gainers) {
    if (!view_->IsUp(g)) {
      // Not Unavailable: a client may take an UNAVAILABLE request to another node, and this
      // one is about this node only.
      return Status::InvalidArgument(
          fmt::format("{} would take some of this node's ranges but is down", g));
    }
  }
  running_ = true;
  progress_.state = "announcing";
  membership_->SetSelf(MemberStatus::kLeaving, me.tokens);
  RINGKV_LOG(log_, kInfo, "decommission: LEAVING; streaming to the new owners in {} ms",
             options_.ring_delay_ms);
  timers_->After(options_.ring_delay_ms * 1000, [this] { Plan(); });
  return Status::Ok();
}

void Decommission::Plan() {
  pushes_.clear();
  for (const auto& [name, def] : keyspaces_->all()) {
    for (const auto& change :
         OwnershipDiff(view_->ring(), view_->future_ring(), def.replication_factor)) {
      if (std::find(change.lost.begin(), change.lost.end(), view_->self()) == change.lost.end()) {
        continue;
      }
      for (const auto& part : change.range.Unwrap()) {
        for (const auto& to : change.gained) pushes_.push_back(Push{name, part, to});
      }
    }
  }
  progress_.state = "streaming";
  progress_.ranges_total = pushes_.size();
  RINGKV_LOG(log_, kInfo, "decommission: {} range transfer(s) to make", pushes_.size());
  next_ = 0;
  Next();
}

void Decommission::Next() {
  if (next_ >= pushes_.size()) return Finish();
  SendPage(false, 0, {});
}

void Decommission::SendPage(bool has_after, Token after_token, std::string after_key) {
  const Push& push = pushes_[next_];
  progress_.current = fmt::format("{} {} {} to {}", push.keyspace, push.range.start,
                                  push.range.end, push.to);
  const ScanSpec spec = StreamPageSpec(push.keyspace, push.range, has_after, after_token,
                                       after_key, options_.stream.page_entries);
  Result<ReplicaScanReply> page = Status::Internal("no answer");
  service_->ReplicaScan(spec, [&page](Result<ReplicaScanReply> r) { page = std::move(r); });
  if (!page.ok()) {
    RINGKV_LOG(log_, kWarn, "decommission: reading {} failed: {}", progress_.current,
               page.status().ToString());
    return (void)timers_->After(options_.stream.retry_ms * 1000,
                                [this, has_after, after_token, after_key] {
                                  SendPage(has_after, after_token, after_key);
                                });
  }
  auto reply = std::make_shared<ReplicaScanReply>(std::move(page).value());
  std::vector<size_t> all(reply->entries.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  SendEntries(std::move(reply), std::move(all), clock_->MonoUs());
}

void Decommission::SendEntries(std::shared_ptr<ReplicaScanReply> reply, std::vector<size_t> which,
                               int64_t started_us) {
  const Push& push = pushes_[next_];
  // Sent one by one, answered one by one: only the writes that fail are sent again, so a lossy
  // link slows a page down instead of making it start over forever.
  auto outstanding = std::make_shared<size_t>(which.size() + 1);
  auto failed = std::make_shared<std::vector<size_t>>();
  auto last_error = std::make_shared<Status>(Status::Ok());
  auto after = [this, reply, outstanding, failed, last_error, started_us] {
    if (--*outstanding > 0) return;
    if (!failed->empty()) {
      RINGKV_LOG(log_, kInfo, "decommission: {} of a page to {} failed ({}); again in {} ms",
                 failed->size(), pushes_[next_].to, last_error->ToString(),
                 options_.stream.retry_ms);
      return (void)timers_->After(options_.stream.retry_ms * 1000,
                                  [this, reply, failed, started_us] {
                                    SendEntries(reply, std::move(*failed), started_us);
                                  });
    }
    uint64_t bytes = 0;
    for (const auto& e : reply->entries) bytes += StreamBytes(e.key, e.object);
    progress_.keys += reply->entries.size();
    progress_.bytes += bytes;
    const int64_t wait_us =
        StreamThrottleUs(bytes, options_.stream.bytes_per_s, clock_->MonoUs() - started_us);
    timers_->After(wait_us, [this, reply] {
      if (!reply->more || reply->entries.empty()) {
        ++progress_.ranges_done;
        ++next_;
        return Next();
      }
      SendPage(true, reply->entries.back().token, reply->entries.back().key);
    });
  };
  const int64_t deadline_us = clock_->MonoUs() + options_.stream.write_timeout_ms * 1000;
  for (size_t i : which) {
    const auto& e = reply->entries[i];
    peers_->ReplicaWrite(push.to, push.keyspace, e.key, e.object, deadline_us,
                         [after, failed, last_error, i](Status s) {
                           if (!s.ok()) {
                             failed->push_back(i);
                             *last_error = s;
                           }
                           after();
                         });
  }
  after();
}

void Decommission::Finish() {
  progress_.state = "done";
  progress_.current.clear();
  RINGKV_LOG(log_, kInfo, "decommission: sent {} key(s), {} byte(s); now LEFT", progress_.keys,
             progress_.bytes);
  membership_->SetSelf(MemberStatus::kLeft, view_->members().at(view_->self()).tokens);
  timers_->After(2 * options_.period_ms * 1000, [this] {
    if (!options_.hand_off_hints) return on_left_();
    progress_.state = "handing off hints";
    options_.hand_off_hints([this] {
      progress_.state = "done";
      on_left_();
    });
  });
}

}  // namespace ringkv
