#include "node/forward_op.h"

#include <fmt/format.h>

#include <cassert>
#include <utility>

#include "node/hinted_handoff.h"
#include "node/write_op.h"

namespace ringkv {

ForwardOp::ForwardOp(const OpEnv& env, ForwardedWrite write, ReplicaPlan plan, Tracer tr, Done done)
    : env_(env),
      write_(std::move(write)),
      plan_(std::move(plan)),
      tr_(std::move(tr)),
      done_(std::move(done)) {
  assert(!plan_.up.empty());
}

void ForwardOp::SendToNext() {
  const size_t i = next_++;
  const std::string& target = plan_.up[i];
  // The remote coordinator's trace is appended with its times shifted by when it was sent.
  const int64_t sent_at_us = tr_.elapsed_us();
  if (tr_) tr_.Event(target, fmt::format("not a replica of the key: forwarded to {}", target));
  env_.peers->ForwardWrite(target, write_, plan_.deadline_us,
                           [self = shared_from_this(), i, sent_at_us](Result<WriteReply> r) {
                             self->OnReply(i, sent_at_us, std::move(r));
                           });
}

void ForwardOp::OnReply(size_t i, int64_t sent_at_us, Result<WriteReply> r) {
  const std::string& target = plan_.up[i];
  if (TryNext(r)) {
    if (tr_) tr_.Event(target, fmt::format("{} unreachable: {}", target, r.status().ToString()));
    return SendToNext();
  }
  if (!r.ok() && r.status().code() == Code::kUnavailable && HintsInstead()) {
    // No replica saw the write, and ANY is met by hints: coordinate it here after all.
    if (tr_) tr_.Event("", "no replica reachable; consistency ANY: hinting it from here");
    ReplicaPlan plan = plan_;
    plan.up.clear();
    plan.hints_count = true;
    std::make_shared<WriteOp>(env_, write_, std::move(plan), tr_, std::move(done_))->Start();
    return;
  }
  if (!r.ok() && r.status().code() == Code::kUnavailable && plan_.sloppy) {
    // No replica saw the write: under sloppy quorum stand-ins may still take it, for every
    // replica now. Coordinated here if there are enough of them; else the answer stands.
    ReplicaPlan plan = plan_;
    plan.up.clear();
    plan.fallbacks.clear();
    PlanStandIns(*env_.placement, env_.hints != nullptr, write_.key, &plan);
    if (plan.fallbacks.size() >= plan.needed) {
      if (tr_) tr_.Event("", "no replica reachable; sloppy quorum: coordinating it here");
      std::make_shared<WriteOp>(env_, write_, std::move(plan), tr_, std::move(done_))->Start();
      return;
    }
  }
  if (tr_) {
    if (r.ok() && r->trace) {
      tr_.Append(*r->trace, target, sent_at_us);
    } else if (!r.ok()) {
      tr_.Event(target, fmt::format("{} failed: {}", target, r.status().ToString()));
    }
    if (r.ok()) {
      tr_.Event("", fmt::format("answered: {} live sibling(s)", r->siblings));
      r->trace = tr_.Finish();
    }
  }
  done_(std::move(r));
}

bool ForwardOp::HintsInstead() const {
  if (env_.hints == nullptr || write_.options.consistency != Consistency::kAny ||
      write_.options.explicit_count != 0) {
    return false;
  }
  for (const auto& node : plan_.replicas) {
    if (env_.IsSelf(node) || !env_.hints->CanHint(node, write_.key.size()).ok()) return false;
  }
  return true;
}

}  // namespace ringkv
