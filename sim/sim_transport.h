// SimTransport: PeerTransport and AaeTransport over the simulated network. Each call becomes a
// message to the peer's current incarnation; the answer comes back as another message to this
// incarnation. A deadline timer answers kTimeout (in doubt for writes) if nothing returns in time.
// An anti-entropy question is addressed by the peer's name (the sim's member address) and answered
// by the peer's trees (AaeTrees::Answer), as kvnode's AAE listener answers.
#ifndef RINGKV_SIM_SIM_TRANSPORT_H_
#define RINGKV_SIM_SIM_TRANSPORT_H_

#include <map>
#include <variant>

#include "node/aae_transport.h"
#include "node/effects.h"
#include "sim/world.h"

namespace ringkv::sim {

class SimCluster;
class SimNode;

class SimTransport final : public PeerTransport, public AaeTransport {
 public:
  // `self` must outlive the transport; its incarnation tags answers.
  SimTransport(SimCluster* cluster, SimNode* self, Timers* timers);
  // Requests still pending are dropped unanswered: their node has crashed.
  ~SimTransport() override = default;

  void ReplicaWrite(const std::string& peer, std::string_view keyspace, std::string_view key,
                    const VersionedObject& object, int64_t deadline_us, WriteDone done) override;
  void FallbackWrite(const std::string& peer, const std::string& owner, std::string_view keyspace,
                     std::string_view key, const VersionedObject& object, int64_t deadline_us,
                     WriteDone done) override;
  void ReplicaRead(const std::string& peer, std::string_view keyspace, std::string_view key,
                   int64_t deadline_us, ReadDone done) override;
  void ForwardWrite(const std::string& peer, const ForwardedWrite& write, int64_t deadline_us,
                    ForwardDone done) override;
  void ReplicaScan(const std::string& peer, const ScanSpec& spec, int64_t deadline_us,
                   ScanDone done) override;
  using AaeDone = std::function<void(Result<AaeAnswer>)>;
  void AskAae(const std::string& address, const std::string& keyspace, const TokenRange& range,
              const AaeRequest& request, int64_t timeout_ms, AaeDone done) override;

 private:
  using Done = std::variant<WriteDone, ReadDone, ForwardDone, ScanDone, AaeDone>;
  struct Pending {
    Done done;
    Timers::TimerId timer = 0;
  };
  uint64_t Register(Done done, int64_t deadline_us, bool in_doubt_on_timeout);
  // Takes the pending call, if it is still pending (a duplicate or late answer is ignored).
  bool Take(uint64_t id, Done* done);
  template <typename Reply>
  void Answer(uint64_t id, Reply reply);

  SimCluster* const cluster_;
  SimNode* const self_;
  Timers* const timers_;
  std::map<uint64_t, Pending> pending_;
  uint64_t next_id_ = 1;
};

}  // namespace ringkv::sim

#endif  // RINGKV_SIM_SIM_TRANSPORT_H_
