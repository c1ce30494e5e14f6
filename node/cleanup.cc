#include "node/cleanup.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace ringkv {

using gossip::MemberStatus;

Cleanup::Cleanup(const ClusterView* view, KvService* service, const KeyspaceCatalog* keyspaces,
                 Timers* timers, const Clock* clock, Logger* log,
                 std::function<Status()> renew_actor)
    : view_(view),
      service_(service),
      keyspaces_(keyspaces),
      timers_(timers),
      clock_(clock),
      log_(log),
      renew_actor_(std::move(renew_actor)) {
  progress_.what = "cleanup";
}

Status Cleanup::Allowed() const {
  const MemberInfo& me = view_->members().at(view_->self());
  if (me.status != MemberStatus::kNormal) {
    return Status::InvalidArgument(fmt::format("this node is {}; only a NORMAL node cleans up",
                                               gossip::StatusName(me.status)));
  }
  if (!view_->settled()) return Status::InvalidArgument("not ready: the ring is not settled yet");
  if (Status s = view_->RefuseWhileMoving("clean up"); !s.ok()) return s;
  for (const auto& [name, m] : view_->members()) {
    if (gossip::InRing(m.status) && !view_->IsUp(name)) {
      return Status::InvalidArgument(fmt::format(
          "{} is down; clean up when every member of the ring is up (this node's picture of "
          "the ring must be fresh)",
          name));
    }
  }
  return Status::Ok();
}

Status Cleanup::Start(const std::string& keyspace) {
  if (running_) return Status::InvalidArgument("a cleanup is already running on this node");
  if (!keyspace.empty()) {
    if (Status s = keyspaces_->Find(keyspace).status(); !s.ok()) return s;
  }
  if (Status s = Allowed(); !s.ok()) return s;
  todo_.clear();
  for (const auto& [name, def] : keyspaces_->all()) {
    if (keyspace.empty() || name == keyspace) todo_.push_back(name);
  }
  if (Status s = renew_actor_(); !s.ok()) {
    return Status::Internal(fmt::format("cannot take a new actor: {}", s.ToString()));
  }
  running_ = true;
  next_ = 0;
  examined_ = 0;
  started_us_ = clock_->MonoUs();
  elapsed_ms_ = 0;
  const std::string what = progress_.what;
  progress_ = StreamProgress{};
  progress_.what = what;
  progress_.state = "cleaning";
  progress_.ranges_total = todo_.size();
  RINGKV_LOG(log_, kInfo, "cleanup: {} keyspace(s) to clean", todo_.size());
  Page(false, 0, {});
  return Status::Ok();
}

bool Cleanup::Keep(uint32_t replication_factor, Token token) const {
  const auto owners = view_->PreferenceList(token, replication_factor);
  if (std::find(owners.begin(), owners.end(), view_->self()) != owners.end()) return true;
  const auto pending = view_->PendingReplicas(token, replication_factor);
  return std::find(pending.begin(), pending.end(), view_->self()) != pending.end();
}

void Cleanup::Page(bool has_after, Token after_token, std::string after_key) {
  if (next_ >= todo_.size()) return End("done");
  if (Status s = Allowed(); !s.ok()) return End("stopped: " + s.message());
  const std::string& keyspace = todo_[next_];
  auto def = keyspaces_->Find(keyspace);
  if (!def.ok()) {  // dropped meanwhile: its purge erases it all
    ++progress_.ranges_done;
    ++next_;
    return Page(false, 0, {});
  }
  progress_.current = keyspace;
  ScanSpec spec;
  spec.keyspace = keyspace;
  spec.start_token = std::numeric_limits<Token>::min();
  spec.end_token = std::numeric_limits<Token>::max();
  spec.has_after = has_after;
  spec.after_token = after_token;
  spec.after_key = std::move(after_key);
  const uint32_t rf = def->replication_factor;
  service_->EraseUnowned(
      spec, [this, rf](Token token) { return Keep(rf, token); },
      [this](Result<KvService::ErasePage> page) {
        if (!page.ok()) return End("stopped: " + page.status().ToString());
        examined_ += page->examined;
        progress_.keys += page->erased;
        progress_.bytes += page->bytes;
        if (page->more) {
          // Through the loop, so requests waiting behind this page run before the next.
          return (void)timers_->After(0, [this, token = page->last_token,
                                          key = page->last_key] { Page(true, token, key); });
        }
        ++progress_.ranges_done;
        ++next_;
        timers_->After(0, [this] { Page(false, 0, {}); });
      });
}

void Cleanup::End(const std::string& state) {
  running_ = false;
  progress_.state = state;
  progress_.current.clear();
  elapsed_ms_ = (clock_->MonoUs() - started_us_) / 1000;
  log_->Log(state == "done" ? LogLevel::kInfo : LogLevel::kWarn,
             "cleanup {}: examined {} object(s), erased {} ({} bytes) in {} ms", state, examined_,
             progress_.keys, progress_.bytes, elapsed_ms_);
}

}  // namespace ringkv
