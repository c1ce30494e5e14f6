#include "node/write_op.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <utility>

#include "node/coordinator.h"
#include "node/hinted_handoff.h"

namespace ringkv {

WriteOp::WriteOp(const OpEnv& env, ForwardedWrite write, ReplicaPlan plan, Tracer tr, Done done)
    : env_(env),
      write_(std::move(write)),
      plan_(std::move(plan)),
      tr_(std::move(tr)),
      done_(std::move(done)) {
  // This node is in plan_.up exactly when it is in the preference list (MakePlan counts itself
  // up), so its local write counts towards W exactly then.
  // Never reallocated afterwards (spare stand-ins are appended while sends are in progress).
  replicas_.reserve(plan_.replicas.size() + plan_.fallbacks.size() +
                    plan_.spare_stand_ins.size());
  self_ = kNone;
  for (size_t i = 0; i < plan_.replicas.size(); ++i) {
    const std::string& node = plan_.replicas[i];
    const bool up = std::find(plan_.up.begin(), plan_.up.end(), node) != plan_.up.end();
    replicas_.push_back(Replica{node, up ? Ack::kUnsent : Ack::kDown, false, {}, kNone});
    if (up && env_.IsSelf(node)) self_ = i;
  }
  for (const ReplicaPlan::Fallback& f : plan_.fallbacks) {
    auto owner = std::find_if(replicas_.begin(), replicas_.end(),
                              [&](const Replica& r) { return r.node == f.owner; });
    assert(owner != replicas_.end() && owner->ack == Ack::kDown);
    owner->stand_in = replicas_.size();
    replicas_.push_back(Replica{f.node, Ack::kUnsent, false, f.owner, kNone});
  }
}

void OpEnv::FallbackWrite(const std::string& node, const std::string& owner,
                          std::string_view keyspace, std::string_view key,
                          const VersionedObject& object, int64_t deadline_us,
                          PeerTransport::WriteDone done) const {
  if (IsSelf(node)) {
    // PlanStandIns picks this node only when it has hinted handoff.
    hints->Store(owner, keyspace, key, object, std::move(done));
  } else {
    peers->FallbackWrite(node, owner, keyspace, key, object, deadline_us, std::move(done));
  }
}

void WriteOp::Start() {
  timer_ = env_.timers->After(plan_.deadline_us - env_.clock->MonoUs(),
                              [self = shared_from_this()] { self->OnDeadline(); });
  if (tr_) tr_.Asked(env_.placement->self());
  if (self_ < replicas_.size()) replicas_[self_].ack = Ack::kPending;
  auto done = [self = shared_from_this()](Result<WriteReply> r) {
    self->OnLocalDone(std::move(r));
  };
  const ForwardedWrite& w = write_;
  if (w.is_delete) {
    env_.local->Del(w.keyspace, w.key, w.context, std::move(done));
  } else {
    env_.local->Put(w.keyspace, w.key, w.value, w.context, w.ttl_s, std::move(done));
  }
}

void WriteOp::OnLocalDone(Result<WriteReply> r) {
  assert(state_ == State::kLocalWrite || state_ == State::kLocalWriteTimedOut);
  const bool self_counts = self_ < replicas_.size();
  if (!r.ok()) {
    if (self_counts) replicas_[self_].ack = Ack::kFailed;
    // Nothing left this node: the write was applied nowhere, so it failed, not in doubt.
    const bool answered = state_ == State::kLocalWriteTimedOut;
    state_ = State::kDone;
    if (!answered) {
      env_.timers->Cancel(timer_);
      Fail(r.status());
    }
    return;
  }
  reply_ = std::move(r).value();
  if (tr_) {
    tr_.Answered(env_.placement->self());
    tr_.Event("", fmt::format("stored locally{}: {} live sibling(s), clock {}",
                              self_counts ? "" : " (this node is no replica of the key)",
                              reply_.siblings, ShortClock(reply_.object.clock())));
  }
  if (self_counts) replicas_[self_].ack = Ack::kAcked;
  const auto& pending = plan_.pending;
  if (std::find(pending.begin(), pending.end(), env_.placement->self()) != pending.end()) {
    ++pending_acked_;  // a pending replica coordinating: its local copy is on the future ring
  }
  // Past the deadline the client was told the write is in doubt; it still goes to the replicas,
  // which is what in doubt allows.
  state_ = state_ == State::kLocalWrite ? State::kFanOut : State::kAnswered;
  FanOut();
  SendToPending();
  // A replica with a stand-in is hinted by it (OnStandInAck).
  for (size_t i = 0; i < replicas_.size(); ++i) {
    if (replicas_[i].ack == Ack::kDown && replicas_[i].stand_in == kNone) StoreHint(i);
  }
  Settle();
  DoneOnceNoneOut();
}

void WriteOp::FanOut() {
  for (size_t i = 0; i < replicas_.size(); ++i) {
    // Not self (pending), not kDown, nor a spare stand-in already sent for a replica that failed
    // at once (OnReplicaAck appends those as it goes).
    if (i == self_ || replicas_[i].ack != Ack::kUnsent) continue;
    // Marked as each is sent: a transport that answers at once (the peer client shutting down)
    // has Settle() count only what was sent so far.
    // TODO(bug): so it may answer in doubt before the rest are sent, and an Answer() there moves
    // reply_ from under the later sends. Unreachable while transports answer on a later turn.
    if (!replicas_[i].owner.empty()) {
      SendToStandIn(i);
      continue;
    }
    replicas_[i].ack = Ack::kPending;
    const std::string& node = replicas_[i].node;
    if (tr_) {
      tr_.Asked(node);
      tr_.Event(node, fmt::format("sent to {}", node));
    }
    env_.peers->ReplicaWrite(
        node, write_.keyspace, write_.key, Object(), plan_.deadline_us,
        [self = shared_from_this(), i](Status s) { self->OnReplicaAck(i, std::move(s)); });
  }
}

void WriteOp::SendToPending() {
  for (const auto& node : plan_.pending) {
    if (node == env_.placement->self()) continue;  // stored locally already
    if (tr_) tr_.Event(node, fmt::format("sent to {} (pending replica: the range is moving to it)", node));
    ++pending_out_;
    SendToPendingOnce(node, kPendingAttempts);
  }
}

void WriteOp::SendToPendingOnce(const std::string& node, int attempts_left) {
  // Its answer counts toward Needed() (ReplicaPlan::pending). A write that reaches the stream's
  // source after the stream read that part of the range reaches the gainer only through this
  // message: so a failed send is tried again (the merge is idempotent) while the request's
  // deadline allows.
  // Each attempt gets its share of the time left, so a lost message leaves time for another.
  const int64_t now_us = env_.clock->MonoUs();
  const int64_t attempt_deadline_us =
      now_us + std::max<int64_t>(0, plan_.deadline_us - now_us) / attempts_left;
  env_.peers->ReplicaWrite(
      node, write_.keyspace, write_.key, Object(), attempt_deadline_us,
      [self = shared_from_this(), node, attempts_left](Status s) {
        if (!s.ok() && attempts_left > 1 &&
            self->env_.clock->MonoUs() < self->plan_.deadline_us) {
          return self->SendToPendingOnce(node, attempts_left - 1);
        }
        --self->pending_out_;
        if (s.ok()) {
          ++self->pending_acked_;
          if (self->tr_ && self->state_ == State::kFanOut) {
            self->tr_.Answered(node);
            self->tr_.Event(node, fmt::format("{} (pending) acknowledged", node));
          }
        } else {
          self->HintPending(node);
        }
        self->Settle();
      });
}

void WriteOp::HintPending(const std::string& node) {
  // The last attempt failed: the gainer is down or cut off. If its stream already passed the key
  // (or a killed join resumes past it), this write reaches it only as a hint (which counts for
  // nothing).
  if (env_.hints == nullptr) return;
  if (tr_ && state_ == State::kFanOut) tr_.Event(node, fmt::format("hinting pending {}", node));
  env_.hints->Store(node, write_.keyspace, write_.key, Object(), [](Status) {});
}

void WriteOp::OnReplicaAck(size_t i, Status s) {
  assert(replicas_[i].ack == Ack::kPending);
  assert(state_ == State::kFanOut || state_ == State::kAnswered);
  replicas_[i].ack = s.ok() ? Ack::kAcked : Ack::kFailed;
  replicas_[i].failed = !s.ok();
  // After the answer the trace has been handed over, or the outcome was a failure, whose trace
  // nobody sees.
  if (tr_ && state_ == State::kFanOut) {
    const std::string& node = replicas_[i].node;
    if (s.ok()) {
      tr_.Answered(node);
      tr_.Event(node, fmt::format("{} acknowledged", node));
    } else {
      tr_.Event(node, fmt::format("{} failed: {}", node, s.ToString()));
    }
  }
  // Sloppy quorum, before the answer: a spare stand-in takes the failed replica's place (so a
  // replica the failure detector has not yet seen die costs no availability); else, or after the
  // answer, a hint from here.
  if (!s.ok()) {
    if (state_ == State::kFanOut && next_spare_ < plan_.spare_stand_ins.size()) {
      const size_t j = replicas_.size();
      replicas_[i].stand_in = j;
      replicas_.push_back(Replica{plan_.spare_stand_ins[next_spare_++], Ack::kUnsent, false,
                                  replicas_[i].node, kNone});
      SendToStandIn(j);
    } else {
      StoreHint(i);
    }
  }
  Settle();
  DoneOnceNoneOut();
}

void WriteOp::SendToStandIn(size_t i) {
  replicas_[i].ack = Ack::kPending;
  const std::string& node = replicas_[i].node;
  if (tr_) {
    tr_.Asked(node);
    tr_.Event(node, fmt::format("sent to {} (fallback for {})", node, replicas_[i].owner));
  }
  env_.FallbackWrite(
      node, replicas_[i].owner, write_.keyspace, write_.key, Object(), plan_.deadline_us,
      [self = shared_from_this(), i](Status s) { self->OnStandInAck(i, std::move(s)); });
}

void WriteOp::OnStandInAck(size_t i, Status s) {
  assert(replicas_[i].ack == Ack::kPending && !replicas_[i].owner.empty());
  assert(state_ == State::kFanOut || state_ == State::kAnswered);
  Replica& stand_in = replicas_[i];
  stand_in.ack = s.ok() ? Ack::kAcked : Ack::kFailed;
  stand_in.failed = !s.ok();
  const size_t owner = static_cast<size_t>(
      std::find_if(replicas_.begin(), replicas_.end(),
                   [&](const Replica& r) { return r.stand_in == i; }) -
      replicas_.begin());
  if (tr_ && state_ == State::kFanOut) {
    if (s.ok()) {
      tr_.Answered(stand_in.node);
      tr_.Event(stand_in.node, fmt::format("{} (fallback) stored a hint for {}", stand_in.node,
                                           stand_in.owner));
    } else {
      tr_.Event(stand_in.node, fmt::format("{} (fallback for {}) failed: {}", stand_in.node,
                                           stand_in.owner, s.ToString()));
    }
  }
  if (s.ok()) {
    replicas_[owner].ack = Ack::kHinted;
  } else {
    StoreHint(owner);
  }
  Settle();
  DoneOnceNoneOut();
}

void WriteOp::StoreHint(size_t i) {
  assert(replicas_[i].ack == Ack::kFailed || replicas_[i].ack == Ack::kDown);
  if (env_.hints == nullptr) {
    replicas_[i].ack = Ack::kUnhinted;
    return;
  }
  replicas_[i].ack = Ack::kHinting;
  env_.hints->Store(replicas_[i].node, write_.keyspace, write_.key, Object(),
                    [self = shared_from_this(), i](Status s) { self->OnHintDone(i, std::move(s)); });
}

void WriteOp::OnHintDone(size_t i, Status s) {
  assert(replicas_[i].ack == Ack::kHinting);
  replicas_[i].ack = s.ok() ? Ack::kHinted : Ack::kUnhinted;
  if (tr_ && state_ == State::kFanOut) {
    const std::string& node = replicas_[i].node;
    tr_.Event(node, s.ok() ? fmt::format("hint stored for {}", node)
                           : fmt::format("no hint for {}: {}", node, s.ToString()));
  }
  Settle();
  DoneOnceNoneOut();
}

void WriteOp::OnDeadline() {
  // Answering cancels the timer; so does a local write that failed.
  assert(state_ == State::kLocalWrite || state_ == State::kFanOut);
  state_ = state_ == State::kLocalWrite ? State::kLocalWriteTimedOut : State::kAnswered;
  ++env_.stats->timeouts;
  Fail(Status::Timeout(fmt::format("{} of {} replicas acknowledged by the deadline; the "
                                   "write may have been applied",
                                   Acks(), Needed()),
                       true));
}

void WriteOp::Settle() {
  if (state_ != State::kFanOut) return;
  if (plan_.hints_count) {
    // ANY with no replica up: the hints are the write. Every one settles first.
    if (Count(Ack::kHinting) > 0) return;
    if (Count(Ack::kHinted) >= plan_.needed) return Answer();
    // Stored here, but hinted to none of the replicas: in doubt, as a write that reached no
    // replica but may still (a later read of a changed ring, a forwarded copy) be seen.
    state_ = State::kAnswered;
    env_.timers->Cancel(timer_);
    ++env_.stats->timeouts;
    Fail(Status::Timeout(fmt::format("no hint for any of the {} replicas could be stored; the "
                                     "write may have been applied",
                                     replicas_.size()),
                         true));
    return;
  }
  if (EnoughAcks()) return Answer();
  if (CannotReachW()) {
    // Some replicas failed, but any of them may have applied it: in doubt, not failed.
    state_ = State::kAnswered;
    env_.timers->Cancel(timer_);
    ++env_.stats->timeouts;
    Fail(Status::Timeout(
        fmt::format("only {} of {} replicas acknowledged the write ({} failed); it may have "
                    "been applied",
                    Acks(), Needed(),
                    std::count_if(replicas_.begin(), replicas_.end(),
                                  [](const Replica& r) { return r.failed; })),
        true));
  }
}

void WriteOp::Answer() {
  state_ = State::kAnswered;
  env_.timers->Cancel(timer_);
  if (tr_) {
    tr_.SetSiblings(reply_.siblings);
    const size_t stand_ins = StandInAcks();
    tr_.Event("", fmt::format("answered: {} of {} acknowledgements{}, {} live sibling(s)",
                              Acks(), Needed(),
                              stand_ins ? fmt::format(" ({} from fallbacks)", stand_ins) : "",
                              reply_.siblings));
    reply_.trace = tr_.Finish();
  }
  reply_.fallback_acks = static_cast<uint32_t>(StandInAcks());
  // Nothing reads the reply after the answer (the replica writes were encoded when sent), so it
  // moves: copying it copied the whole stored object per put. Only hints still to be stored (a
  // replica not yet answered) and a pending replica's retries (SendToPendingOnce, while a range
  // moves) need a copy.
  if ((env_.hints != nullptr && Count(Ack::kPending) + Count(Ack::kUnsent) > 0) ||
      !plan_.pending.empty()) {
    kept_ = reply_.object;
  }
  done_(std::move(reply_));
}

void WriteOp::Fail(Status s) {
  if (tr_) tr_.Event("", fmt::format("failed: {}", s.ToString()));
  done_(std::move(s));
}

void WriteOp::DoneOnceNoneOut() {
  // kUnsent too: an ack that comes at once, inside FanOut(), is not the last.
  if (state_ == State::kAnswered &&
      Count(Ack::kPending) + Count(Ack::kUnsent) + Count(Ack::kHinting) == 0) {
    state_ = State::kDone;
  }
}

size_t WriteOp::StandInAcks() const {
  size_t n = 0;
  for (const Replica& r : replicas_) n += !r.owner.empty() && r.ack == Ack::kAcked;
  return n;
}

size_t WriteOp::Count(Ack a) const {
  size_t n = 0;
  for (const Replica& r : replicas_) n += r.ack == a;
  return n;
}

}  // namespace ringkv
