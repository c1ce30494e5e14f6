// SimMembershipTransport: node/membership.h's MembershipTransport over the simulator's virtual
// network, for the membership mode (sim/sim_membership.h). Addresses are node names.
//
// Thread safety: none (the simulator is single-threaded).
#ifndef RINGKV_SIM_SIM_GOSSIP_TRANSPORT_H_
#define RINGKV_SIM_SIM_GOSSIP_TRANSPORT_H_

#include <functional>
#include <memory>
#include <string>

#include "node/membership.h"
#include "sim/sim_cluster.h"

namespace ringkv::sim {

// MembershipTransport over the virtual network: the request is a message to the peer (addresses
// are node names), its answer a message back to this incarnation; a timer answers Timeout if
// neither comes back in time (lost, cut, or the peer is down).
class SimMembershipTransport final : public MembershipTransport {
 public:
  // `find`: the Membership of a node that is up, or null.
  SimMembershipTransport(SimCluster* cluster, SimNode* self,
                         std::function<Membership*(const std::string&)> find)
      : cluster_(cluster), self_(self), find_(std::move(find)) {}

  void GossipSyn(const std::string& address, const gossip::Syn& syn, int64_t timeout_ms,
                 std::function<void(Result<gossip::Ack>)> done) override {
    Call<Result<gossip::Ack>>(
        address, timeout_ms,
        [syn](Membership* to) -> Result<gossip::Ack> { return to->OnSyn(syn); },
        std::move(done));
  }
  void GossipAck2(const std::string& address, const gossip::Ack2& ack2, int64_t timeout_ms,
                  std::function<void(Status)> done) override {
    Call<Status>(
        address, timeout_ms,
        [ack2](Membership* to) {
          to->OnAck2(ack2);
          return Status::Ok();
        },
        std::move(done));
  }
  void FetchRing(const std::string& address, int64_t timeout_ms,
                 std::function<void(Result<RingAnswer>)> done) override {
    Call<Result<RingAnswer>>(
        address, timeout_ms,
        [](Membership* to) -> Result<RingAnswer> { return to->Answer(); }, std::move(done));
  }

 private:
  template <typename R>
  void Call(const std::string& to, int64_t timeout_ms, std::function<R(Membership*)> serve,
            std::function<void(R)> done);

  SimCluster* const cluster_;
  SimNode* const self_;
  const std::function<Membership*(const std::string&)> find_;
};

template <typename R>
void SimMembershipTransport::Call(const std::string& to, int64_t timeout_ms,
                                  std::function<R(Membership*)> serve, std::function<void(R)> done) {
  struct Once {
    std::function<void(R)> done;
    Timers::TimerId timer = 0;
  };
  auto once = std::make_shared<Once>();
  once->done = std::move(done);
  Timers* timers = self_->timers();
  once->timer = timers->After(timeout_ms * 1000, [once] {
    if (!once->done) return;
    auto d = std::move(once->done);
    once->done = nullptr;
    d(Status::Timeout("sim: no gossip answer", false));
  });
  SimCluster* cluster = cluster_;
  auto find = find_;
  const std::string from = self_->name();
  const uint64_t incarnation = self_->incarnation();
  cluster->Send(from, to, 0, [=](SimNode* target) {
    Membership* node = find(target->name());
    if (node == nullptr) return;
    R answer = serve(node);
    cluster->Send(target->name(), from, incarnation, [once, timers, answer](SimNode*) {
      if (!once->done) return;
      timers->Cancel(once->timer);
      auto d = std::move(once->done);
      once->done = nullptr;
      d(answer);
    });
  });
}

}  // namespace ringkv::sim

#endif  // RINGKV_SIM_SIM_GOSSIP_TRANSPORT_H_
