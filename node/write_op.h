// WriteOp: one write (put or delete) coordinated by this node (DESIGN.md §4). The node writes
// locally first, which issues the new dot, then sends the stored object to every other replica
// that is up, and answers once W replicas (itself included, when it is one) hold it. With hinted
// handoff (OpEnv::hints), every replica that did not get the write (not sent: believed down; or
// failed, or timed out) gets a hint of the stored object once its outcome is known, before or
// after the answer: under strict quorum hints do not count toward W. Under ANY with no replica up
// (plan.hints_count) the hints are the write: it answers once every hint has settled and at least
// W are durable.
//
// States (state_), and what moves each on:
//
//   kLocalWrite          OnLocalDone(ok): FanOut() -> kFanOut
//                        OnLocalDone(error): a plain failure, applied nowhere -> kDone
//                        OnDeadline: in doubt -> kLocalWriteTimedOut
//   kFanOut              W acks (ANY by hints: every hint settled, W durable): Answer()
//                          -> kAnswered
//                        W out of reach, or OnDeadline: in doubt -> kAnswered
//   kLocalWriteTimedOut  OnLocalDone(ok): FanOut() all the same -> kAnswered
//                        OnLocalDone(error) -> kDone
//   kAnswered            no replica left to send to, to hear from or to hint -> kDone
//
// Sloppy quorum (plan.fallbacks): each stand-in is an entry of replicas_ after the preference
// list's, sent the write as a hint for its owner (OpEnv::FallbackWrite) in the fan-out; its
// acknowledgement counts toward W like a replica's. A replica that fails before the answer takes
// the next of plan.spare_stand_ins, if any is left, as its stand-in (then kFailed, not hinted
// from here unless that stand-in fails too). The owner (kDown) is then hinted by its
// stand-in: once the stand-in acknowledges, the owner is kHinted; should the stand-in fail, this
// node stores the owner's hint itself (counting toward nothing).
//
// Each replica's outcome is kept in replicas_, not in counters, so what the write reached is known
// replica by replica:
//
//   kUnsent -> kPending (sent) -> kAcked
//                              -> kFailed -> kHinting -> kHinted    (a hint durably stored)
//   kDown (never sent) ------------------>            -> kUnhinted  (refused, failed, or no hints)
//
// A replica leaves kFailed / kDown for kHinting only once the local write has succeeded (there is
// an object to hint); when the local write fails, nothing was applied and nothing is hinted.
//
// Thread safety: none; the node's loop. Ownership: see node/coordinator_op.h.
#ifndef RINGKV_NODE_WRITE_OP_H_
#define RINGKV_NODE_WRITE_OP_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "node/coordinator_op.h"
#include "node/requests.h"
#include "node/trace.h"

namespace ringkv {

class WriteOp : public std::enable_shared_from_this<WriteOp> {
 public:
  using Done = std::function<void(Result<WriteReply>)>;

  // `plan.up` may lack this node: a write forwarded here by a node whose view of the ring differs
  // is still coordinated here, but the local copy does not count towards W.
  WriteOp(const OpEnv& env, ForwardedWrite write, ReplicaPlan plan, Tracer tr, Done done);

  // Arms the deadline and writes locally. REQUIRES: owned by a shared_ptr. `done` may run before
  // Start returns.
  void Start();

 private:
  enum class State { kLocalWrite, kFanOut, kLocalWriteTimedOut, kAnswered, kDone };

  // A replica of the key: those of plan_.replicas, in its order. This node's entry is pending
  // during the local write; another's is unsent until the fan-out, then pending until it answers;
  // one not in plan_.up is kDown and is never sent the write.
  enum class Ack { kUnsent, kPending, kAcked, kFailed, kDown, kHinting, kHinted, kUnhinted };
  static constexpr size_t kNone = static_cast<size_t>(-1);
  struct Replica {
    std::string node;
    Ack ack = Ack::kUnsent;
    bool failed = false;  // sent, and answered with an error (whatever its hint became)
    std::string owner;    // a stand-in (sloppy quorum): the replica whose hint it stores
    size_t stand_in = kNone;  // a replica that is down: the index of its stand-in, if it has one
  };

  // Transitions.
  void OnLocalDone(Result<WriteReply> r);
  void FanOut();
  void SendToPending();
  void SendToPendingOnce(const std::string& node, int attempts_left);
  static constexpr int kPendingAttempts = 3;
  void HintPending(const std::string& node);
  void OnReplicaAck(size_t replica, Status s);
  // Sends the write to stand-in i (an entry with an owner) as a hint for its owner.
  void SendToStandIn(size_t i);
  // A stand-in's answer: the owner is hinted by it, or, should it have failed, from here.
  void OnStandInAck(size_t stand_in, Status s);
  void OnDeadline();
  // Hands replica i (failed or down) to hinted handoff; it ends kHinted or kUnhinted.
  void StoreHint(size_t replica);
  void OnHintDone(size_t replica, Status s);
  // While fanning out: answers at W acks, or in doubt once W is out of reach.
  void Settle();
  void Answer();
  // Hands a failure to the client, with the trace's last event.
  void Fail(Status s);
  // kAnswered -> kDone once no replica is still to be sent to or awaited.
  void DoneOnceNoneOut();

  // Decisions.
  // Acknowledgements, pending replicas' included (ReplicaPlan::pending), against what is needed.
  size_t Acks() const { return Count(Ack::kAcked) + pending_acked_; }
  size_t Needed() const { return plan_.needed + plan_.PendingNeeded(); }
  bool EnoughAcks() const { return Acks() >= Needed(); }
  // The object the replicas and hints get: reply_'s until the answer moves it, then kept_.
  const VersionedObject& Object() const { return kept_ ? *kept_ : reply_.object; }
  bool CannotReachW() const { return Acks() + Count(Ack::kPending) + pending_out_ < Needed(); }
  size_t Count(Ack a) const;
  size_t StandInAcks() const;

  const OpEnv env_;
  const ForwardedWrite write_;
  const ReplicaPlan plan_;
  const Tracer tr_;
  Done done_;
  State state_ = State::kLocalWrite;
  std::vector<Replica> replicas_;
  size_t self_ = kNone;  // this node's index in replicas_, when it is a replica
  WriteReply reply_;  // the local write's answer: its object is what the replicas receive
  std::optional<VersionedObject> kept_;  // a copy for hints still to store after the answer
  Timers::TimerId timer_ = 0;
  size_t next_spare_ = 0;
  size_t pending_acked_ = 0;  // pending replicas that acknowledged (this node's local copy too)
  size_t pending_out_ = 0;    // pending replicas still being sent to  // the next of plan_.spare_stand_ins to take a failed replica's place
};

}  // namespace ringkv

#endif  // RINGKV_NODE_WRITE_OP_H_
