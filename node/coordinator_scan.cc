// Coordinator::Scan: a token range read at a consistency level.
//
// The range is cut into sub-ranges whose keys share one replica set (adjacent vnode ranges with
// the same replicas are joined), walked clockwise from the range's start. For each sub-range the
// coordinator asks R of its replicas that are up for their objects after the cursor, merges them
// key by key (VersionedObject::Merge, as a read does) and keeps the keys with a live sibling.
//
// Paging is where care is needed: a replica answers at most a page. When some replica's page was
// full, a key after the last key of that page may exist on that replica without having been
// returned, so only keys up to the smallest "last key" among the full pages are complete; the
// cursor moves there and the sub-range is asked again. A replica whose page was not full has sent
// everything it holds in the sub-range.
//
// Not done (yet): read repair of the replicas that answered with less; scans are read-only.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>
#include <utility>

#include "common/limits.h"
#include "node/coordinator.h"
#include "ring/token_range.h"

namespace ringkv {
namespace {

// Entries per answer to the client, and the bytes of live values in one answer (the first entry
// always goes, whatever its size).
constexpr uint32_t kScanLimitMax = 1000;
constexpr size_t kScanBytesMax = 8u << 20;
// A replica page never asks for fewer, so that deleted keys do not cost one round each.
constexpr uint32_t kReplicaPageMin = 64;

struct Position {
  Token token = 0;
  std::string key;
  friend bool operator<(const Position& a, const Position& b) {
    return a.token != b.token ? a.token < b.token : a.key < b.key;
  }
  friend bool operator<=(const Position& a, const Position& b) { return !(b < a); }
};

struct SubRange {
  TokenRange range;                   // non-wrapping
  std::vector<std::string> replicas;  // preference order
};

// The pieces of (start, end] in clockwise order from start, non-wrapping. start == end: the whole
// ring, from the smallest token.
std::vector<TokenRange> Pieces(Token start, Token end) {
  if (start == end) return {TokenRange{kTokenMin, kTokenMax}};
  if (start < end) return {TokenRange{start, end}};
  std::vector<TokenRange> out;
  if (start != kTokenMax) out.push_back({start, kTokenMax});
  if (end != kTokenMin) out.push_back({kTokenMin, end});
  return out;
}

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// One scan request from start to answer. Held by shared_ptr by the callbacks it has pending, so
// it lives exactly as long as something can still reach it.
class ScanRun : public std::enable_shared_from_this<ScanRun> {
 public:
  struct Env {
    KvService* local;
    PeerTransport* peers;
    const Placement* placement;
    Timers* timers;
    const Clock* clock;
    CoordinatorStats* stats;
  };

  ScanRun(Env env, ScanSpec spec, RequestOptions options, uint32_t rf, int64_t deadline_us,
          Coordinator::ScanDone done)
      : env_(env),
        spec_(std::move(spec)),
        options_(options),
        rf_(rf),
        deadline_us_(deadline_us),
        done_(std::move(done)) {
    limit_ = spec_.limit == 0 ? kScanLimitMax : std::min(spec_.limit, kScanLimitMax);
  }

  // Cuts the range into sub-ranges and finds where to resume. Fails on a cursor outside it.
  Status Prepare(const Ring& ring) {
    const auto& vnodes = ring.vnodes();
    for (const TokenRange& piece : Pieces(spec_.start_token, spec_.end_token)) {
      auto it = std::upper_bound(vnodes.begin(), vnodes.end(), piece.start,
                                 [](Token t, const Ring::VNode& v) { return t < v.token; });
      Token from = piece.start;
      while (true) {
        const bool last = it == vnodes.end() || it->token >= piece.end;
        const Token to = last ? piece.end : it->token;
        auto replicas = env_.placement->PreferenceList(to, rf_);
        if (!subs_.empty() && subs_.back().range.end == from &&
            Sorted(subs_.back().replicas) == Sorted(replicas)) {
          subs_.back().range.end = to;
        } else {
          subs_.push_back(SubRange{TokenRange{from, to}, std::move(replicas)});
        }
        if (last) break;
        from = to;
        ++it;
      }
    }
    if (spec_.has_after) {
      size_t i = 0;
      while (i < subs_.size() && !subs_[i].range.Contains(spec_.after_token)) ++i;
      if (i == subs_.size()) {
        return Status::InvalidArgument(
            fmt::format("resume token {} is outside the scanned range", spec_.after_token));
      }
      index_ = i;
      has_cursor_ = true;
      cursor_ = Position{spec_.after_token, spec_.after_key};
    }
    return Status::Ok();
  }

  void Fail(Status s) { Finish(std::move(s)); }

  void Start() {
    auto self = shared_from_this();
    timer_ = env_.timers->After(deadline_us_ - env_.clock->MonoUs(), [self] {
      self->Finish(Status::Timeout(
          fmt::format("the scan did not complete by the deadline ({} keys gathered)",
                      self->out_.entries.size()),
          false));
    });
    Step();
  }

 private:
  struct Round {
    std::vector<std::string> spare;  // up replicas not asked yet
    size_t waiting = 0;
    std::vector<ReplicaScanReply> replies;
  };

  void Finish(Result<ScanReply> r) {
    if (finished_) return;
    finished_ = true;
    env_.timers->Cancel(timer_);
    if (!r.ok() && r.status().code() == Code::kUnavailable) ++env_.stats->unavailable;
    if (!r.ok() && r.status().code() == Code::kTimeout) ++env_.stats->timeouts;
    auto done = std::move(done_);
    done(std::move(r));
  }

  bool Full() const { return out_.entries.size() >= limit_ || bytes_ >= kScanBytesMax; }

  // One round: ask R replicas of the current sub-range for a page after the cursor.
  void Step() {
    if (finished_) return;
    if (Full()) {
      out_.more = true;
      return Finish(std::move(out_));
    }
    if (index_ == subs_.size()) return Finish(std::move(out_));
    const SubRange& sub = subs_[index_];
    const size_t needed =
        RequiredReplicas(options_.consistency, options_.explicit_count, sub.replicas.size());
    if (needed > rf_) {
      return Finish(Status::InvalidArgument(
          fmt::format("the scan needs {} replicas but keyspace '{}' has replication factor {}",
                      needed, spec_.keyspace, rf_)));
    }
    std::vector<std::string> up;
    for (const auto& n : sub.replicas) {
      if (n == env_.placement->self()) {
        up.insert(up.begin(), n);  // the local copy is the cheapest
      } else if (env_.placement->IsUp(n)) {
        up.push_back(n);
      }
    }
    if (up.size() < needed) {
      return Finish(Status::Unavailable(
          fmt::format("cannot scan {}: {} replicas needed, {} of its {} are up",
                      sub.range.ToString(), needed, up.size(), sub.replicas.size()),
          static_cast<uint32_t>(needed), static_cast<uint32_t>(up.size())));
    }
    page_ = ScanSpec{};
    page_.keyspace = spec_.keyspace;
    page_.start_token = sub.range.start;
    page_.end_token = sub.range.end;
    page_.key_prefix = spec_.key_prefix;
    page_.has_after = has_cursor_;
    page_.after_token = cursor_.token;
    page_.after_key = cursor_.key;
    page_.limit = std::clamp<uint32_t>(limit_ - static_cast<uint32_t>(out_.entries.size()),
                                       kReplicaPageMin, kScanLimitMax);
    auto round = std::make_shared<Round>();
    round->spare.assign(up.begin() + static_cast<std::ptrdiff_t>(needed), up.end());
    round->waiting = needed;
    for (size_t i = 0; i < needed; ++i) Ask(round, up[i]);
  }

  void Ask(const std::shared_ptr<Round>& round, const std::string& node) {
    auto self = shared_from_this();
    auto on_reply = [self, round, node](Result<ReplicaScanReply> r) {
      self->OnReply(round, node, std::move(r));
    };
    if (node == env_.placement->self()) {
      env_.local->ReplicaScan(page_, std::move(on_reply));
    } else {
      ++env_.stats->replica_scans_sent;
      env_.peers->ReplicaScan(node, page_, deadline_us_, std::move(on_reply));
    }
  }

  void OnReply(const std::shared_ptr<Round>& round, const std::string& node,
               Result<ReplicaScanReply> r) {
    if (finished_) return;
    if (r.ok()) {
      round->replies.push_back(std::move(r).value());
      if (--round->waiting == 0) Merge(*round);
      return;
    }
    if (!round->spare.empty()) {
      const std::string next = round->spare.front();
      round->spare.erase(round->spare.begin());
      return Ask(round, next);
    }
    const Code code = r.status().code() == Code::kTimeout ? Code::kTimeout : Code::kUnavailable;
    Status failure = code == Code::kTimeout
                         ? Status::Timeout(fmt::format("replica {} did not answer the scan: {}",
                                                       node, r.status().message()),
                                           false)
                         : Status::Unavailable(fmt::format("replica {} could not be scanned: {}",
                                                           node, r.status().message()),
                                               0, 0);
    if (r.status().code() == Code::kInvalidArgument) failure = r.status();
    Finish(std::move(failure));
  }

  // Merges a round's pages and emits the complete keys with a live sibling.
  void Merge(Round& round) {
    std::map<Position, VersionedObject> merged;
    bool bounded = false;
    Position boundary;
    for (auto& reply : round.replies) {
      if (reply.more && !reply.entries.empty()) {
        Position last{reply.entries.back().token, reply.entries.back().key};
        if (!bounded || last < boundary) boundary = last;
        bounded = true;
      }
      for (auto& e : reply.entries) {
        auto& slot = merged[Position{e.token, std::move(e.key)}];
        slot = VersionedObject::Merge(slot, e.object);
      }
    }
    const int64_t now_us = env_.clock->NowUs();
    for (auto& [pos, object] : merged) {
      if (bounded && boundary < pos) break;
      has_cursor_ = true;
      cursor_ = pos;
      auto live = object.Live(now_us);
      if (live.empty()) continue;
      ScanReplyEntry entry;
      entry.key = pos.key;
      entry.token = pos.token;
      for (const auto& s : live) bytes_ += s.value.size();
      entry.siblings = std::move(live);
      entry.context = object.clock().EncodeContext();
      out_.entries.push_back(std::move(entry));
      if (Full()) {
        out_.more = true;
        return Finish(std::move(out_));
      }
    }
    if (bounded) {
      has_cursor_ = true;
      cursor_ = boundary;
    } else {
      ++index_;
      has_cursor_ = false;
      cursor_ = Position{};
    }
    Step();
  }

  const Env env_;
  const ScanSpec spec_;
  const RequestOptions options_;
  const uint32_t rf_;
  const int64_t deadline_us_;
  Coordinator::ScanDone done_;
  uint32_t limit_ = 0;
  std::vector<SubRange> subs_;
  size_t index_ = 0;         // the sub-range being read
  bool has_cursor_ = false;  // resume after cursor_ within subs_[index_]
  Position cursor_;
  ScanSpec page_;            // the current round's request
  ScanReply out_;
  size_t bytes_ = 0;
  bool finished_ = false;
  Timers::TimerId timer_ = 0;
};

}  // namespace

void Coordinator::Scan(const ScanSpec& spec, const RequestOptions& options, ScanDone done) {
  ++stats_.scans;
  auto def = keyspaces_->Find(spec.keyspace);
  if (!def.ok()) return done(def.status());
  if (spec.key_prefix.size() > kKeyBytesMax || spec.after_key.size() > kKeyBytesMax) {
    return done(Status::InvalidArgument("scan prefix or resume key longer than a key may be"));
  }
  if (!placement_->MembershipSettled()) {
    ++stats_.unavailable;
    return done(NotReady(*placement_, 1));
  }
  const Ring& ring = placement_->ring();
  if (ring.empty()) return done(Status::Unavailable("the ring is empty", 1, 0));
  ScanSpec normalized = spec;
  normalized.keyspace = def->name;
  const int64_t timeout_ms =
      options.timeout_ms > 0 ? options.timeout_ms : options_.default_timeout_ms;
  auto run = std::make_shared<ScanRun>(
      ScanRun::Env{local_, peers_, placement_, timers_, clock_, &stats_}, std::move(normalized),
      options, def->replication_factor, clock_->MonoUs() + timeout_ms * 1000, std::move(done));
  if (Status s = run->Prepare(ring); !s.ok()) {
    // `done` moved into the run; a failed Prepare answers through it.
    return run->Fail(std::move(s));
  }
  run->Start();
}

}  // namespace ringkv
