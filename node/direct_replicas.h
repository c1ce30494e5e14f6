// DirectReplicas: in-process replicas n1, n2, n3 of one 3-node ring (N = 3: each replicates every
// key) for unit tests of anti-entropy and tombstone collection. Each has its own storage, service,
// trees, AntiEntropy and TombstoneCollector; replica reads and writes and anti-entropy requests
// between them go straight into the other's objects. A test builds the ones it needs; a replica
// a test did not build is "down" to the others (ClusterView::SetAlive).
//
// Thread safety: none.
#ifndef RINGKV_NODE_DIRECT_REPLICAS_H_
#define RINGKV_NODE_DIRECT_REPLICAS_H_

#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "node/aae_trees.h"
#include "node/anti_entropy.h"
#include "node/manual_timers.h"
#include "node/random_member.h"
#include "node/tombstone_gc.h"
#include "node/unused_peers.h"
#include "storage/memory_storage.h"

namespace ringkv {

struct DirectReplica;
using ReplicaDirectory = std::map<std::string, DirectReplica*>;  // by address

// Replica reads and writes straight into the other replica's KvService.
class DirectPeers final : public UnusedPeers {
 public:
  explicit DirectPeers(ReplicaDirectory* dir) : dir_(dir) {}
  void ReplicaWrite(const std::string& peer, std::string_view keyspace, std::string_view key,
                    const VersionedObject& object, int64_t, WriteDone done) override;
  void ReplicaRead(const std::string& peer, std::string_view keyspace, std::string_view key,
                   int64_t, ReadDone done) override;

 private:
  ReplicaDirectory* dir_;
};

class DirectAae final : public AaeTransport {
 public:
  explicit DirectAae(ReplicaDirectory* dir) : dir_(dir) {}
  void AskAae(const std::string& address, const std::string& keyspace, const TokenRange& range,
              const AaeRequest& request, int64_t,
              std::function<void(Result<AaeAnswer>)> done) override;

 private:
  ReplicaDirectory* dir_;
};

struct DirectReplica {
  DirectReplica(const std::string& name, uint64_t actor, ReplicaDirectory* dir,
                ManualTimers* timers, ManualClock* clock,
                AntiEntropyOptions ae_options = {0, 1000, {}})
      : view(RandomMember(name, gossip::MemberStatus::kNormal, name + ":7000")),
        service(&storage, clock, actor, {}, &keyspaces),
        log(name, LogLevel::kWarn, clock),
        trees(&view, &keyspaces, &storage, &service, timers, &log, TreesOptions()),
        peers(dir),
        aae(dir),
        anti_entropy(&view, &trees, &service, &peers, &aae, timers, clock, &keyspaces, &log,
                     ae_options),
        gc(&view, &service, &storage, &peers, &keyspaces, timers, clock, &log,
           [this] {
             ++renewals;
             service.set_actor(service.actor() + 100);
             return Status::Ok();
           },
           TombstoneGcOptions{ae_options.gc_grace_s, 0, 1000, /*in_flight_ms=*/1000}) {
    for (const char* n : {"n1", "n2", "n3"}) {
      if (n != name) {
        EXPECT_TRUE(
            view.Learn(RandomMember(n, gossip::MemberStatus::kNormal, std::string(n) + ":7000"))
                .ok());
      }
    }
    service.set_observer(&trees);
    (*dir)[name + ":7000"] = this;
  }
  static AaeTreesOptions TreesOptions() {
    AaeTreesOptions o;
    o.shape = TreeShape{16, 16};
    return o;
  }
  // A put or delete coordinated by this replica alone: the object as stored.
  VersionedObject Put(const std::string& key, const std::string& value,
                      const std::string& context = "") {
    std::optional<VersionedObject> stored;
    service.Put("", key, value, context, 0, [&](Result<WriteReply> r) {
      ASSERT_TRUE(r.ok());
      stored = r->object;
    });
    storage.RunCompletions();
    return stored.value_or(VersionedObject{});
  }
  VersionedObject Del(const std::string& key) {
    std::optional<VersionedObject> stored;
    service.Del("", key, "", [&](Result<WriteReply> r) {
      ASSERT_TRUE(r.ok());
      stored = r->object;
    });
    storage.RunCompletions();
    return stored.value_or(VersionedObject{});
  }
  // `object` merged into this replica's copy, as a coordinator's fan-out or a repair sends it.
  void Store(const std::string& key, const VersionedObject& object) {
    service.ReplicaWrite("", key, object, [](Status s) { ASSERT_TRUE(s.ok()); });
    storage.RunCompletions();
  }
  // Runs this replica's AntiEntropy::Repair to its end, the other replicas' storage and the
  // timers answering as it goes.
  void RunRepair(ManualTimers* timers, const std::vector<DirectReplica*>& others) {
    ASSERT_TRUE(anti_entropy.Repair("").ok());
    for (int i = 0; i < 100'000 && anti_entropy.running(); ++i) {
      storage.RunCompletions();
      for (DirectReplica* other : others) other->storage.RunCompletions();
      timers->FireAll();
    }
    ASSERT_FALSE(anti_entropy.running());
  }
  // Everything this replica stores, by key.
  std::map<std::string, VersionedObject> Contents() {
    std::map<std::string, VersionedObject> out;
    EXPECT_TRUE(storage
                    .Scan(kDefaultKeyspace, std::numeric_limits<Token>::min(),
                          std::numeric_limits<Token>::max(),
                          [&](std::string_view key, Token, const VersionedObject& o) {
                            out.emplace(std::string(key), o);
                            return true;
                          })
                    .ok());
    return out;
  }

  MemoryStorage storage;
  KeyspaceCatalog keyspaces;
  ClusterView view;
  KvService service;
  Logger log;
  AaeTrees trees;
  DirectPeers peers;
  DirectAae aae;
  AntiEntropy anti_entropy;
  TombstoneCollector gc;
  int renewals = 0;
};

inline void DirectPeers::ReplicaWrite(const std::string& peer, std::string_view keyspace,
                                      std::string_view key, const VersionedObject& object,
                                      int64_t, WriteDone done) {
  DirectReplica* to = (*dir_)[peer + ":7000"];
  to->service.ReplicaWrite(keyspace, key, object, std::move(done));
  to->storage.RunCompletions();
}

inline void DirectPeers::ReplicaRead(const std::string& peer, std::string_view keyspace,
                                     std::string_view key, int64_t, ReadDone done) {
  (*dir_)[peer + ":7000"]->service.ReplicaRead(keyspace, key, std::move(done));
}

inline void DirectAae::AskAae(const std::string& address, const std::string& keyspace,
                              const TokenRange& range, const AaeRequest& request, int64_t,
                              std::function<void(Result<AaeAnswer>)> done) {
  done((*dir_)[address]->trees.Answer(keyspace, range, request));
}

}  // namespace ringkv

#endif  // RINGKV_NODE_DIRECT_REPLICAS_H_
