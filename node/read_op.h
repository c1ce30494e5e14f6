// ReadOp: one coordinated read (Coordinator::Get, and the read before a blind delete), from
// asking the replicas to repairing those that answered with less than the merge (DESIGN.md §4).
//
// States (state_), and what moves each on:
//
//   kGathering              R answers: Answer() -> kAnswered,
//                             or kHeldForTrace when traced,
//                             or kRepairingBeforeAnswer with blocking repair and stale answers
//                           R out of reach, or the deadline: Fail() -> kAnswered
//   kHeldForTrace           Repair(), then the held answer -> kDone
//   kAnswered               Repair() -> kDone
//   kRepairingBeforeAnswer  the repair writes answered, then the answer -> kAnswered
//                           Repair() -> kAwaitingRepairWrites
//   kAwaitingRepairWrites   the repair writes answered, then the answer -> kDone
//
// A read answers at R answers but repairs once every replica asked has settled: answered,
// failed, or been given up at the deadline (OnDeadline). Repair() runs exactly then, once, and
// sends the merge of every answer to each replica that answered with less, except those that
// blocking read repair already sent it to. A traced read holds its answer until then, so that
// the trace can say what the repair did.
//
// Thread safety: none; the node's loop. Ownership: see node/coordinator_op.h.
#ifndef RINGKV_NODE_READ_OP_H_
#define RINGKV_NODE_READ_OP_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "node/coordinator_op.h"
#include "node/requests.h"
#include "node/trace.h"

namespace ringkv {

class ReadOp : public std::enable_shared_from_this<ReadOp> {
 public:
  using Done = std::function<void(Result<ReadReply>)>;

  // `before_delete`: the read of a blind delete, which only changes the trace's wording.
  ReadOp(const OpEnv& env, ReplicaPlan plan, std::string keyspace, std::string key, Tracer tr,
         bool before_delete, Done done);

  // Arms the deadline and asks every replica that is up. REQUIRES: owned by a shared_ptr.
  // `done` may run before Start returns (the local replica can answer at once).
  void Start();

 private:
  enum class State {
    kGathering,              // fewer than R answers; nothing decided
    kRepairingBeforeAnswer,  // blocking repair writes out; replicas may still be out
    kAwaitingRepairWrites,   // as above, with every replica settled and Repair() done
    kHeldForTrace,           // traced: the answer is ready and waits for Repair()
    kAnswered,               // the client has the outcome; Repair() is still to come
    kDone,                   // answered and repaired; a late answer is only traced
  };

  // One replica asked: replicas_[i] is plan_.up[i]. kGivenUp: it had not answered by the
  // deadline; a later answer is only traced.
  enum class ReplicaState { kWaiting, kAnswered, kFailed, kTimedOut, kGivenUp };
  struct Replica {
    ReplicaState state = ReplicaState::kWaiting;
    bool repaired_before_answer = false;  // sent the merge by blocking read repair
  };
  // An answer, in arrival order: the merge takes them in that order, as do repairs.
  struct ReplicaAnswer {
    size_t replica;  // index into replicas_ and plan_.up
    ReplicaReadReply reply;
  };

  // Transitions.
  void OnReply(size_t replica, Result<ReplicaReadReply> r);
  void OnDeadline();
  // R answers: merges them, then answers, holds the answer for the trace, or repairs first.
  void Answer();
  // Too many replicas failed for R: a timeout if one of them timed out, else unavailable.
  void FailOutOfReach();
  void Fail(Status s);
  void RepairBeforeAnswer(ReadReply reply, const VersionedObject& merged,
                          const std::vector<size_t>& stale);
  void OnRepairBeforeAnswerDone(Status s);
  void Repair();
  // Hands the outcome to the client, with the trace as it stands.
  void Deliver(Result<ReadReply> r);

  // Decisions.
  bool EnoughAnswers() const { return answers_.size() >= plan_.needed; }
  bool CannotReachR() const { return plan_.up.size() - Failed() < plan_.needed; }
  // No replica is still awaited: each answered, failed, or was given up at the deadline.
  bool Settled() const { return Count(ReplicaState::kWaiting) == 0; }
  size_t Failed() const { return Count(ReplicaState::kFailed) + Count(ReplicaState::kTimedOut); }
  size_t Count(ReplicaState s) const;

  VersionedObject Merge() const;
  // Answers (by replica index) that lack something of `merged`: blocking read repair's targets.
  std::vector<size_t> StaleAnswers(const VersionedObject& merged) const;

  const OpEnv env_;
  const ReplicaPlan plan_;
  const std::string keyspace_, key_;
  const Tracer tr_;
  const bool before_delete_;
  Done done_;
  State state_ = State::kGathering;
  std::vector<Replica> replicas_;
  std::vector<ReplicaAnswer> answers_;
  // The answer while it waits: for Repair() (kHeldForTrace) or for the blocking repair writes
  // (kRepairingBeforeAnswer, kAwaitingRepairWrites).
  ReadReply held_;
  size_t repair_writes_waiting_ = 0, repair_writes_failed_ = 0;  // blocking repair
  Timers::TimerId timer_ = 0;
};

}  // namespace ringkv

#endif  // RINGKV_NODE_READ_OP_H_
