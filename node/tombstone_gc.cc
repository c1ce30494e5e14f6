#include "node/tombstone_gc.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "aae/version_hash.h"

namespace ringkv {

bool DeadPastGrace(const VersionedObject& object, int64_t now_us, int64_t grace_us) {
  if (object.siblings().empty()) return false;
  int64_t died_us = std::numeric_limits<int64_t>::min();
  for (const auto& s : object.siblings()) {
    if (s.tombstone) {
      died_us = std::max(died_us, s.timestamp_us);
    } else if (s.expires_at_us != 0 && s.expires_at_us <= now_us) {
      died_us = std::max(died_us, s.expires_at_us);
    } else {
      return false;  // live
    }
  }
  return died_us <= now_us - grace_us;
}

TombstoneCollector::TombstoneCollector(const ClusterView* view, KvService* service,
                                       Storage* storage, PeerTransport* peers,
                                       const KeyspaceCatalog* keyspaces, Timers* timers,
                                       const Clock* clock, Logger* log,
                                       std::function<Status()> renew_actor,
                                       TombstoneGcOptions options)
    : view_(view),
      service_(service),
      storage_(storage),
      peers_(peers),
      keyspaces_(keyspaces),
      timers_(timers),
      clock_(clock),
      log_(log),
      renew_actor_(std::move(renew_actor)),
      options_(options),
      alive_(std::make_shared<TombstoneCollector*>(this)) {}

TombstoneCollector::~TombstoneCollector() { alive_.reset(); }

void TombstoneCollector::Start() {
  if (options_.interval_ms <= 0) return;
  std::weak_ptr<TombstoneCollector*> weak = alive_;
  timers_->After(options_.interval_ms * 1000, [weak] {
    if (auto self = weak.lock()) {
      (*self)->Start();  // the next one
      (*self)->Walk();
    }
  });
}

Status TombstoneCollector::Allowed() const {
  const MemberInfo& me = view_->members().at(view_->self());
  if (me.status != gossip::MemberStatus::kNormal) {
    return Status::InvalidArgument(
        fmt::format("this node is {}", gossip::StatusName(me.status)));
  }
  if (!view_->settled()) return Status::InvalidArgument("the ring is not settled yet");
  return view_->RefuseWhileMoving("collect tombstones");
}

void TombstoneCollector::Walk() {
  if (walking_ || !Allowed().ok()) return;
  todo_.clear();
  for (const auto& [name, def] : keyspaces_->all()) todo_.push_back(name);
  walking_ = true;
  next_ = 0;
  walk_ = TombstoneGcStats{};
  ++stats_.walks;
  Page(false, 0, {});
}

void TombstoneCollector::Page(bool has_after, Token after_token, std::string after_key) {
  if (next_ >= todo_.size()) return End("");
  if (Status s = Allowed(); !s.ok()) return End(s.message());
  auto def = keyspaces_->Find(todo_[next_]);
  if (!def.ok()) {  // dropped meanwhile
    ++next_;
    return Page(false, 0, {});
  }
  replication_factor_ = def->replication_factor;
  const int64_t now_us = clock_->NowUs();
  const int64_t grace_us = options_.grace_s * 1'000'000 + options_.in_flight_ms * 1000;
  auto dead = std::make_shared<std::vector<Dead>>();
  size_t examined = 0;
  bool more = false;
  Token last_token = 0;
  std::string last_key;
  Status s = ScanAfter(storage_, todo_[next_], std::numeric_limits<Token>::min(),
                       std::numeric_limits<Token>::max(), has_after, after_token,
                       std::move(after_key),
                       [&](std::string_view key, Token token, const VersionedObject& object) {
                         if (examined >= kPurgeBatchKeys) {
                           more = true;
                           return false;
                         }
                         ++examined;
                         last_token = token;
                         last_key.assign(key);
                         if (DeadPastGrace(object, now_us, grace_us)) {
                           dead->push_back(
                               Dead{std::string(key), token, VersionHash(object), object.clock()});
                         }
                         return true;
                       });
  if (!s.ok()) return End(s.ToString());
  stats_.examined += examined;
  walk_.examined += examined;
  stats_.dead += dead->size();
  walk_.dead += dead->size();
  std::weak_ptr<TombstoneCollector*> weak = alive_;
  Check(dead, 0, [weak, more, last_token, last_key] {
    auto self = weak.lock();
    if (!self) return;
    TombstoneCollector* gc = *self;
    if (more) return gc->Page(true, last_token, last_key);
    ++gc->next_;
    gc->Page(false, 0, {});
  });
}

void TombstoneCollector::Check(std::shared_ptr<std::vector<Dead>> dead, size_t i,
                               std::function<void()> then) {
  if (!walking_) return;  // ended meanwhile (End): answers still in flight find it stopped
  if (i >= dead->size()) return then();
  if (Status s = Allowed(); !s.ok()) return End(s.message());
  std::weak_ptr<TombstoneCollector*> weak = alive_;
  // The next one through the loop: requests waiting behind this walk run in between.
  auto next = [weak, dead, i, then](bool kept) {
    auto self = weak.lock();
    if (!self) return;
    TombstoneCollector* gc = *self;
    if (kept) {
      ++gc->stats_.kept;
      ++gc->walk_.kept;
    }
    gc->timers_->After(0, [weak, dead, i, then] {
      if (auto again = weak.lock()) (*again)->Check(dead, i + 1, then);
    });
  };
  const Dead& d = (*dead)[i];
  const auto replicas = view_->PreferenceList(d.token, replication_factor_);
  if (std::find(replicas.begin(), replicas.end(), view_->self()) == replicas.end()) {
    return next(false);  // not a replica of it any more: `kvctl cleanup` erases such copies
  }
  std::vector<std::string> others;
  for (const auto& r : replicas) {
    if (r == view_->self()) continue;
    if (!view_->IsUp(r)) return next(true);
    others.push_back(r);
  }
  struct Asking {
    size_t waiting = 0;
    bool agree = true;
  };
  auto asking = std::make_shared<Asking>(Asking{others.size() + 1, true});
  auto answered = [this, weak, asking, dead, i, next] {
    if (--asking->waiting > 0 || !weak.lock()) return;
    if (!asking->agree) return next(true);
    Erase((*dead)[i], [next](bool erased) { next(!erased); });
  };
  const int64_t deadline_us = clock_->MonoUs() + options_.request_timeout_ms * 1000;
  for (const auto& peer : others) {
    peers_->ReplicaRead(peer, todo_[next_], d.key, deadline_us,
                        [asking, answered, hash = d.version_hash](Result<ReplicaReadReply> r) {
                          if (!r.ok() || (r->found && VersionHash(r->object) != hash)) {
                            asking->agree = false;
                          }
                          answered();
                        });
  }
  answered();
}

void TombstoneCollector::Erase(const Dead& d, std::function<void(bool erased)> then) {
  if (d.clock.Get(service_->actor()) > 0) {
    if (Status s = renew_actor_(); !s.ok()) {
      RINGKV_LOG(log_, kWarn, "tombstone collection: cannot take a new actor: {}", s.ToString());
      return then(false);
    }
  }
  std::weak_ptr<TombstoneCollector*> weak = alive_;
  service_->EraseIfUnchanged(todo_[next_], d.key, d.version_hash,
                             [weak, then = std::move(then)](Result<bool> erased) {
                               auto self = weak.lock();
                               if (!self) return;
                               if (!erased.ok()) {
                                 RINGKV_LOG((*self)->log_, kWarn, "tombstone collection: {}",
                                            erased.status().ToString());
                                 return then(false);
                               }
                               if (erased.value()) {
                                 ++(*self)->stats_.collected;
                                 ++(*self)->walk_.collected;
                               }
                               then(erased.value());
                             });
}

void TombstoneCollector::End(const std::string& why) {
  walking_ = false;
  if (!why.empty()) {
    RINGKV_LOG(log_, kInfo, "tombstone collection stopped: {}", why);
  } else if (walk_.dead > 0) {
    RINGKV_LOG(log_, kInfo,
               "tombstone collection: {} object(s) examined, {} dead past the grace period, {} "
               "collected, {} kept until every replica holds the same",
               walk_.examined, walk_.dead, walk_.collected, walk_.kept);
  }
}

}  // namespace ringkv
