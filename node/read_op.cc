#include "node/read_op.h"

#include <fmt/format.h>

#include <cassert>
#include <utility>

#include "node/coordinator.h"

namespace ringkv {
namespace {

std::string Describe(const std::string& node, const ReplicaReadReply& r, int64_t now_us) {
  if (!r.found) return fmt::format("{} answered: not found", node);
  const size_t live = r.object.Live(now_us).size();
  return fmt::format("{} answered: {} sibling(s), {} live, clock {}", node,
                     r.object.siblings().size(), live, ShortClock(r.object.clock()));
}

}  // namespace

ReadOp::ReadOp(const OpEnv& env, ReplicaPlan plan, std::string keyspace, std::string key, Tracer tr,
               bool before_delete, Done done)
    : env_(env),
      plan_(std::move(plan)),
      keyspace_(std::move(keyspace)),
      key_(std::move(key)),
      tr_(std::move(tr)),
      before_delete_(before_delete),
      done_(std::move(done)),
      replicas_(plan_.up.size()) {}

void ReadOp::Start() {
  // Armed first: the local replica may answer inside the loop below, and settling the read
  // cancels the timer.
  timer_ = env_.timers->After(plan_.deadline_us - env_.clock->MonoUs(),
                              [self = shared_from_this()] { self->OnDeadline(); });
  for (size_t i = 0; i < plan_.up.size(); ++i) {
    const std::string& node = plan_.up[i];
    if (tr_) {
      tr_.Asked(node);
      tr_.Event(node, fmt::format("asked {}", node));
    }
    env_.ReplicaRead(node, keyspace_, key_, plan_.deadline_us,
                     [self = shared_from_this(), i](Result<ReplicaReadReply> r) {
                       self->OnReply(i, std::move(r));
                     });
  }
}

void ReadOp::OnReply(size_t i, Result<ReplicaReadReply> r) {
  const std::string& node = plan_.up[i];
  Replica& replica = replicas_[i];
  // The transport answers each call exactly once.
  assert(replica.state == ReplicaState::kWaiting || replica.state == ReplicaState::kGivenUp);
  const bool waited = replica.state == ReplicaState::kWaiting;
  if (r.ok()) {
    if (tr_) {
      tr_.Answered(node);
      tr_.Event(node, Describe(node, r.value(), env_.clock->NowUs()));
    }
    if (waited) {
      replica.state = ReplicaState::kAnswered;
      answers_.push_back(ReplicaAnswer{i, std::move(r).value()});
    }
  } else {
    if (tr_) tr_.Event(node, fmt::format("{} failed: {}", node, r.status().ToString()));
    if (waited) {
      replica.state =
          r.status().code() == Code::kTimeout ? ReplicaState::kTimedOut : ReplicaState::kFailed;
    }
  }
  // Given up at the deadline: the outcome and the repair were decided then.
  if (!waited) return;
  if (state_ == State::kGathering) {
    if (EnoughAnswers()) {
      Answer();
    } else if (CannotReachR()) {
      FailOutOfReach();
    }
  }
  if (Settled()) {
    env_.timers->Cancel(timer_);
    Repair();
  }
}

void ReadOp::OnDeadline() {
  // Settling cancels the timer; only a read with no replica to ask (an empty ring) is settled
  // from the start, and waits for the deadline like any other.
  assert(!Settled() || plan_.up.empty());
  if (state_ == State::kGathering) {
    ++env_.stats->timeouts;
    Fail(Status::Timeout(
        fmt::format("{} of {} replicas answered by the deadline", answers_.size(), plan_.needed),
        false));
  } else if (tr_) {
    tr_.Event("", "deadline: replicas that had not answered are not repaired");
  }
  for (Replica& replica : replicas_) {
    if (replica.state == ReplicaState::kWaiting) replica.state = ReplicaState::kGivenUp;
  }
  Repair();
}

void ReadOp::Answer() {
  assert(state_ == State::kGathering);
  const VersionedObject merged = Merge();
  ReadReply reply;
  reply.siblings = merged.Live(env_.clock->NowUs());
  reply.found = !reply.siblings.empty();
  reply.context = merged.clock().EncodeContext();
  reply.agreed = answers_.size() == plan_.replicas.size() &&
                 std::all_of(answers_.begin(), answers_.end(), [&](const ReplicaAnswer& a) {
                   return a.reply.found == answers_[0].reply.found &&
                          a.reply.object == answers_[0].reply.object;
                 });
  if (tr_) {
    tr_.SetSiblings(static_cast<uint32_t>(reply.siblings.size()));
    tr_.Event("", fmt::format("merged {} answer(s): {} live sibling(s), clock {}", answers_.size(),
                              reply.siblings.size(), ShortClock(merged.clock())));
  }
  if (env_.options->blocking_read_repair && env_.options->read_repair) {
    const std::vector<size_t> stale = StaleAnswers(merged);
    if (!stale.empty()) return RepairBeforeAnswer(std::move(reply), merged, stale);
  }
  if (tr_) {
    state_ = State::kHeldForTrace;
    held_ = std::move(reply);
    return;
  }
  state_ = State::kAnswered;
  Deliver(std::move(reply));
}

void ReadOp::FailOutOfReach() {
  // A replica that timed out may still hold the key: the read is late, not impossible.
  const size_t alive = plan_.up.size() - Failed();
  if (Count(ReplicaState::kTimedOut) > 0) {
    ++env_.stats->timeouts;
    Fail(Status::Timeout(fmt::format("{} of {} replicas answered", answers_.size(), plan_.needed),
                         false));
  } else {
    ++env_.stats->unavailable;
    Fail(Status::Unavailable(fmt::format("{} replicas needed, {} answered", plan_.needed, alive),
                             static_cast<uint32_t>(plan_.needed), static_cast<uint32_t>(alive)));
  }
}

void ReadOp::Fail(Status s) {
  assert(state_ == State::kGathering);
  state_ = State::kAnswered;
  Deliver(std::move(s));
}

void ReadOp::RepairBeforeAnswer(ReadReply reply, const VersionedObject& merged,
                                const std::vector<size_t>& stale) {
  // Monotonic reads: every replica that answered holds the merge before the client sees it, so a
  // later read at the same R cannot go back. The deadline still applies.
  state_ = State::kRepairingBeforeAnswer;
  held_ = std::move(reply);
  repair_writes_waiting_ = stale.size();
  for (size_t i : stale) {
    const std::string& node = plan_.up[i];
    replicas_[i].repaired_before_answer = true;
    ++env_.stats->read_repairs;
    if (tr_) {
      tr_.Repaired(node);
      tr_.Event(node, fmt::format("read repair (blocking) sent to {}", node));
    }
    env_.ReplicaWrite(
        node, keyspace_, key_, merged, plan_.deadline_us,
        [self = shared_from_this()](Status s) { self->OnRepairBeforeAnswerDone(std::move(s)); });
  }
}

void ReadOp::OnRepairBeforeAnswerDone(Status s) {
  assert(state_ == State::kRepairingBeforeAnswer || state_ == State::kAwaitingRepairWrites);
  assert(repair_writes_waiting_ > 0);
  if (!s.ok()) ++repair_writes_failed_;
  if (--repair_writes_waiting_ > 0) return;
  // The outcome is decided. Replicas still out are repaired once they have all answered (the
  // transport answers every call by its deadline), not when the deadline passes.
  env_.timers->Cancel(timer_);
  state_ = state_ == State::kAwaitingRepairWrites ? State::kDone : State::kAnswered;
  if (repair_writes_failed_ > 0) {
    ++env_.stats->timeouts;
    return Deliver(Status::Timeout("read repair before answering did not complete", false));
  }
  Deliver(std::move(held_));
}

void ReadOp::Repair() {
  assert(Settled());
  const VersionedObject merged = Merge();
  if (!merged.empty() && env_.options->read_repair) {
    for (const ReplicaAnswer& a : answers_) {
      if (a.reply.found && a.reply.object == merged) continue;
      if (replicas_[a.replica].repaired_before_answer) continue;
      const std::string& node = plan_.up[a.replica];
      ++env_.stats->read_repairs;
      if (tr_) {
        tr_.Repaired(node);
        tr_.Event(node, fmt::format("read repair sent to {}: clock {}", node,
                                    ShortClock(merged.clock())));
      }
      // Nothing waits for these: a repair that fails is left to the next read or anti-entropy.
      env_.ReplicaWrite(node, keyspace_, key_, merged,
                        env_.clock->MonoUs() + env_.options->default_timeout_ms * 1000,
                        [](Status) {});
    }
  }
  switch (state_) {
    case State::kHeldForTrace:
      state_ = State::kDone;
      if (tr_.repaired_count() == 0) tr_.Event("", "no read repair needed");
      Deliver(std::move(held_));
      break;
    case State::kAnswered:
      state_ = State::kDone;
      break;
    case State::kRepairingBeforeAnswer:
      state_ = State::kAwaitingRepairWrites;  // OnRepairBeforeAnswerDone answers
      break;
    case State::kGathering:
    case State::kAwaitingRepairWrites:
    case State::kDone:
      assert(false && "a read settles only once it is decided, and only once");
  }
}

void ReadOp::Deliver(Result<ReadReply> r) {
  if (tr_) {
    if (r.ok()) {
      tr_.Event("", fmt::format("{}: {} live sibling(s)",
                                before_delete_ ? "read before the delete done" : "answered",
                                r->siblings.size()));
      r->trace = tr_.Finish();
    } else {
      tr_.Event("", fmt::format("failed: {}", r.status().ToString()));
    }
  }
  done_(std::move(r));
}

size_t ReadOp::Count(ReplicaState s) const {
  size_t n = 0;
  for (const Replica& replica : replicas_) n += replica.state == s;
  return n;
}

VersionedObject ReadOp::Merge() const {
  VersionedObject merged;
  for (const ReplicaAnswer& a : answers_) {
    if (a.reply.found) merged = VersionedObject::Merge(merged, a.reply.object);
  }
  return merged;
}

std::vector<size_t> ReadOp::StaleAnswers(const VersionedObject& merged) const {
  std::vector<size_t> stale;
  if (merged.empty()) return stale;
  for (const ReplicaAnswer& a : answers_) {
    if (!a.reply.found || !(a.reply.object == merged)) stale.push_back(a.replica);
  }
  return stale;
}

}  // namespace ringkv
