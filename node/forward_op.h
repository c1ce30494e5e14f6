// ForwardOp: a write that reached a node outside the key's preference list, handed to a replica
// that is up, which coordinates it (DESIGN.md §4: a put is coordinated by a node of the list).
//
// It tries plan.up in order. Only a replica that could not be reached at all (kUnavailable) is
// passed over for the next: that one never saw the write. Any other outcome, a timeout above all
// (the write is in doubt there), is the answer; so is kUnavailable from the last replica, unless
// the write is at ANY with hinted handoff on: then no replica saw it, and it is coordinated here
// after all, met by hints (a WriteOp with plan.hints_count, as Coordinator::MakePlan plans it when
// it already believes every replica down). Likewise a sloppy write (plan.sloppy) is coordinated
// here, with a stand-in for every replica, when enough nodes past the preference list are up.
//
// Its state is the replica being tried (next_ - 1); it answers exactly once.
//
// Thread safety: none; the node's loop. Ownership: see node/coordinator_op.h.
#ifndef RINGKV_NODE_FORWARD_OP_H_
#define RINGKV_NODE_FORWARD_OP_H_

#include <functional>
#include <memory>
#include <string>

#include "node/coordinator_op.h"
#include "node/requests.h"
#include "node/trace.h"

namespace ringkv {

class ForwardOp : public std::enable_shared_from_this<ForwardOp> {
 public:
  using Done = std::function<void(Result<WriteReply>)>;

  // REQUIRES: plan.up is not empty (MakePlan fails when fewer than W are up, and W >= 1).
  ForwardOp(const OpEnv& env, ForwardedWrite write, ReplicaPlan plan, Tracer tr, Done done);

  // Sends the write to the first replica that is up. REQUIRES: owned by a shared_ptr.
  void Start() { SendToNext(); }

 private:
  void SendToNext();
  // The answer of plan_.up[i], which was sent the write at `sent_at_us` of the trace's time.
  void OnReply(size_t i, int64_t sent_at_us, Result<WriteReply> r);
  // The target never saw the write, and another replica is left to try.
  bool TryNext(const Result<WriteReply>& r) const {
    return !r.ok() && r.status().code() == Code::kUnavailable && next_ < plan_.up.size();
  }

  // kUnavailable from every replica: whether ANY may be met by hints from here instead.
  bool HintsInstead() const;

  const OpEnv env_;
  const ForwardedWrite write_;
  const ReplicaPlan plan_;
  const Tracer tr_;
  Done done_;
  size_t next_ = 0;  // index into plan_.up of the next replica to try
};

}  // namespace ringkv

#endif  // RINGKV_NODE_FORWARD_OP_H_
