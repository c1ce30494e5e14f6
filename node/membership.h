// Membership: static membership from seeds (issue 3; gossip replaces it later, DESIGN.md §5).
//
// Every period the node asks each seed, and each member it has learnt, for its ring answer: the
// members it knows (name, address, host id, tokens) and the keyspaces. Each answer teaches this
// node members and keyspaces it did not know, so a node started with a partial seed list still
// finds everyone a seed knows. An answer also says its sender is up; a failed exchange says it is
// down (the peer transport reports lost connections faster still).
//
// Sans-IO: the exchange goes through MembershipTransport; time through Timers.
//
// Thread safety: none; owned by the node's loop. Pointers must outlive the Membership.
#ifndef RINGKV_NODE_MEMBERSHIP_H_
#define RINGKV_NODE_MEMBERSHIP_H_

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "node/cluster_view.h"
#include "node/effects.h"
#include "node/keyspaces.h"
#include "node/log.h"

namespace ringkv {

struct RingAnswer {
  std::string self;  // the answering node's name
  std::vector<std::pair<MemberInfo, bool>> members;  // with its view of who is up
  std::vector<KeyspaceDef> keyspaces;
  std::vector<std::pair<std::string, int64_t>> dropped;  // keyspace name, when it was dropped
};

// The exchanges membership needs, addressed by HOST:PORT (a seed's name is not known before it
// answers). Each answers exactly once, on the loop.
class MembershipTransport {
 public:
  virtual ~MembershipTransport() = default;
  virtual void FetchRing(const std::string& address, int64_t timeout_ms,
                         std::function<void(Result<RingAnswer>)> done) = 0;
  virtual void PushKeyspace(const std::string& address, const KeyspaceDef& keyspace,
                            int64_t timeout_ms, std::function<void(Status)> done) = 0;
  virtual void PushDrop(const std::string& address, const std::string& keyspace,
                        int64_t dropped_us, int64_t timeout_ms,
                        std::function<void(Status)> done) = 0;
};

struct MembershipOptions {
  std::vector<std::string> seeds;  // HOST:PORT; this node's own address may be among them
  int64_t period_ms = 1000;
  int64_t timeout_ms = 800;
  // The node serves (ClusterView::settled) once it knows every seed's tokens (from the seed, or
  // from another member's answer), or after this long without (a seed down since the cluster
  // first formed must not keep it from serving).
  int64_t settle_timeout_ms = 10'000;
};

class Membership {
 public:
  // `on_member` runs for every member learnt or changed (to tell the peer transport its address);
  // `on_keyspace` for every keyspace learnt (to persist it).
  Membership(ClusterView* view, KeyspaceCatalog* keyspaces, MembershipTransport* transport,
             Timers* timers, Logger* log, MembershipOptions options,
             std::function<void(const MemberInfo&)> on_member,
             std::function<void(const KeyspaceDef&)> on_keyspace);

  // Starts the periodic exchange (the first round at once).
  void Start();
  // Creates a keyspace here and, unless `propagated` (a peer passing it on), tells every member.
  // Answers once it exists here. keyspace.created_us must be set (the creating node's clock).
  Status CreateKeyspace(const KeyspaceDef& keyspace, bool if_not_exists, bool propagated,
                        bool* created);
  // Takes a keyspace definition from a peer or a ring answer; ignored if dropped after it was
  // created.
  void LearnKeyspace(const KeyspaceDef& keyspace);
  // Drops a keyspace here (on_drop deletes its data) and, unless `propagated`, tells every
  // member. A drop older than the keyspace's creation is ignored; `default` cannot be dropped.
  Status DropKeyspace(const std::string& name, bool if_exists, int64_t dropped_us,
                      bool propagated, bool* dropped);
  // Runs for every keyspace dropped here (to persist the drop and delete the data).
  void SetDropCallback(std::function<void(const std::string&, int64_t)> fn) {
    on_drop_ = std::move(fn);
  }

  // The ring answer this node gives.
  RingAnswer Answer() const;

 private:
  void Round();
  void Absorb(const std::string& address, const RingAnswer& answer);
  void Settle(const char* why);
  std::vector<std::string> Targets() const;

  ClusterView* const view_;
  KeyspaceCatalog* const keyspaces_;
  MembershipTransport* const transport_;
  Timers* const timers_;
  Logger* const log_;
  const MembershipOptions options_;
  std::function<void(const MemberInfo&)> on_member_;
  std::function<void(const KeyspaceDef&)> on_keyspace_;
  std::function<void(const std::string&, int64_t)> on_drop_;
  std::set<std::string> seeds_unheard_;  // seeds (not this node) whose tokens are not known yet
};

}  // namespace ringkv

#endif  // RINGKV_NODE_MEMBERSHIP_H_
