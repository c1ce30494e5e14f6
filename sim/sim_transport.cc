#include "sim/sim_transport.h"

#include "sim/sim_cluster.h"

namespace ringkv::sim {

SimTransport::SimTransport(SimCluster* cluster, SimNode* self, Timers* timers)
    : cluster_(cluster), self_(self), timers_(timers) {}

uint64_t SimTransport::Register(Done done, int64_t deadline_us, bool in_doubt_on_timeout) {
  const uint64_t id = next_id_++;
  Pending& p = pending_[id];
  p.done = std::move(done);
  const int64_t delay = deadline_us - self_->clock()->MonoUs();
  p.timer = timers_->After(delay, [this, id, in_doubt_on_timeout] {
    Done d;
    if (!Take(id, &d)) return;
    const Status timeout = Status::Timeout("no answer from the peer by the deadline",
                                           in_doubt_on_timeout);
    std::visit([&](auto& fn) { fn(timeout); }, d);
  });
  return id;
}

bool SimTransport::Take(uint64_t id, Done* done) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return false;
  timers_->Cancel(it->second.timer);
  *done = std::move(it->second.done);
  pending_.erase(it);
  return true;
}

template <typename Reply>
void SimTransport::Answer(uint64_t id, Reply reply) {
  Done d;
  if (!Take(id, &d)) return;
  std::visit(
      [&](auto& fn) {
        using Fn = std::decay_t<decltype(fn)>;
        if constexpr (std::is_invocable_v<Fn, Reply>) fn(std::move(reply));
      },
      d);
}

void SimTransport::ReplicaWrite(const std::string& peer, std::string_view keyspace,
                                std::string_view key, const VersionedObject& object,
                                int64_t deadline_us, WriteDone done) {
  FallbackWrite(peer, std::string(), keyspace, key, object, deadline_us, std::move(done));
}

void SimTransport::FallbackWrite(const std::string& peer, const std::string& owner,
                                 std::string_view keyspace, std::string_view key,
                                 const VersionedObject& object, int64_t deadline_us,
                                 WriteDone done) {
  const uint64_t id = Register(std::move(done), deadline_us, true);
  const std::string origin = self_->name();
  const uint64_t origin_inc = self_->incarnation();
  SimCluster* cluster = cluster_;
  cluster_->Send(origin, peer, 0,
                 [cluster, origin, origin_inc, id, peer, owner, ks = std::string(keyspace),
                  k = std::string(key), object](SimNode* target) {
                   auto answer = [=](Status s) {
                     cluster->Send(peer, origin, origin_inc, [id, s](SimNode* back) {
                       back->transport()->Answer(id, s);
                     });
                   };
                   // One message for both, as kvnode's: a replica write, or (an owner named) a
                   // hint stored by a stand-in, which must have hinted handoff.
                   if (owner.empty()) return target->kv()->ReplicaWrite(ks, k, object, answer);
                   if (target->handoff() == nullptr) {
                     return answer(Status(Code::kUnavailable, "hinted handoff is off on this node"));
                   }
                   target->handoff()->Store(owner, ks, k, object, answer);
                 });
}

void SimTransport::ReplicaRead(const std::string& peer, std::string_view keyspace,
                               std::string_view key, int64_t deadline_us, ReadDone done) {
  const uint64_t id = Register(std::move(done), deadline_us, false);
  const std::string origin = self_->name();
  const uint64_t origin_inc = self_->incarnation();
  SimCluster* cluster = cluster_;
  cluster_->Send(
      origin, peer, 0,
      [cluster, origin, origin_inc, id, peer, ks = std::string(keyspace),
       k = std::string(key)](SimNode* target) {
        target->kv()->ReplicaRead(ks, k, [=](Result<ReadReply> reply) {
          cluster->Send(peer, origin, origin_inc, [id, reply](SimNode* back) {
            back->transport()->Answer(id, reply);
          });
        });
      });
}

void SimTransport::ForwardWrite(const std::string& peer, const ForwardedWrite& write,
                                int64_t deadline_us, ForwardDone done) {
  const uint64_t id = Register(std::move(done), deadline_us, true);
  const std::string origin = self_->name();
  const uint64_t origin_inc = self_->incarnation();
  SimCluster* cluster = cluster_;
  cluster_->Send(origin, peer, 0, [cluster, origin, origin_inc, id, peer, write](SimNode* target) {
    auto reply = [=](Result<WriteReply> r) {
      cluster->Send(peer, origin, origin_inc, [id, r](SimNode* back) {
        back->transport()->Answer(id, r);
      });
    };
    if (write.is_delete) {
      target->coordinator()->Del(write.keyspace, write.key, write.context, write.options, true,
                                 reply);
    } else {
      target->coordinator()->Put(write.keyspace, write.key, write.value, write.context,
                                 write.ttl_s, write.options, true, reply);
    }
  }, /*may_duplicate=*/false);
}

void SimTransport::ReplicaScan(const std::string& peer, const ScanSpec& spec, int64_t deadline_us,
                               ScanDone done) {
  const uint64_t id = Register(std::move(done), deadline_us, false);
  const std::string origin = self_->name();
  const uint64_t origin_inc = self_->incarnation();
  SimCluster* cluster = cluster_;
  cluster_->Send(origin, peer, 0, [cluster, origin, origin_inc, id, peer, spec](SimNode* target) {
    target->kv()->ReplicaScan(spec, [=](Result<ReplicaScanReply> reply) {
      cluster->Send(peer, origin, origin_inc, [id, reply](SimNode* back) {
        back->transport()->Answer(id, reply);
      });
    });
  });
}

void SimTransport::AskAae(const std::string& address, const std::string& keyspace,
                          const TokenRange& range, const AaeRequest& request, int64_t timeout_ms,
                          AaeDone done) {
  const uint64_t id =
      Register(std::move(done), self_->clock()->MonoUs() + timeout_ms * 1000, false);
  const std::string origin = self_->name();
  const uint64_t origin_inc = self_->incarnation();
  SimCluster* cluster = cluster_;
  cluster_->Send(origin, address, 0, [cluster, origin, origin_inc, id, address, keyspace, range,
                                      request](SimNode* target) {
    Result<AaeAnswer> answer =
        target->trees() == nullptr
            ? Result<AaeAnswer>(Status::Unavailable("anti-entropy is off on this node", 1, 0))
            : target->trees()->Answer(keyspace, range, request);
    cluster->Send(address, origin, origin_inc, [id, answer](SimNode* back) {
      back->transport()->Answer(id, answer);
    });
  });
}

}  // namespace ringkv::sim
