// Gossiper: one node's side of gossip membership (DESIGN.md §5), as a pure state machine.
//
// It holds what this node knows of every member (gossip/state.h), merges what peers tell it, and
// runs a phi-accrual failure detector per member over the arrivals of their heartbeats. It never
// sends, waits or logs: the caller ticks it once per interval with the time, sends the Syn the
// tick returns to the addresses it names, hands it the answers, and reads the events it produced.
// That is how kvnode (node/membership.cc over TCP) and the simulator (in virtual time, at 1000
// nodes) run the same code.
//
// Each round (Tick):
//   - bump this node's heartbeat;
//   - gossip with one random member believed alive; then, with probability down/(alive+1), with
//     one believed down (so a returning node is noticed); then, if the first was not a seed, with
//     probability seeds/(members), with a random seed (so partitions of the gossip graph heal);
//   - re-judge every member: alive while phi < threshold.
// A node that finds its own tick late by more than `pause_guard_us` (its loop stalled, a GC-like
// pause, SIGSTOP) forgives everyone's silence for that round rather than convicting the whole
// cluster for its own pause (Cassandra does the same).
//
// What is refused (with an event saying why, and nothing changed): an endpoint out of its limits
// (gossip/state.h Validate), a new member past kMembersMax, a member claiming the host id of
// another live member, a state about this node itself that is not its own (except a REMOVED
// verdict from removenode, which is reported as kSelfRemoved). Stale copies (a lower generation,
// or an older version) are ignored as gossip's ordinary business.
//
// Thread safety: none; owned by the node's loop.
#ifndef RINGKV_GOSSIP_GOSSIPER_H_
#define RINGKV_GOSSIP_GOSSIPER_H_

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "common/status.h"
#include "gossip/phi_detector.h"
#include "gossip/state.h"

namespace ringkv::gossip {

struct GossipOptions {
  int64_t interval_us = 1'000'000;
  // Live members gossiped with each round. Two rather than Cassandra's one: with one, the
  // heartbeats a node hears of a peer arrive so irregularly (gaps of 3-4 s in a 5-node cluster)
  // that phi either convicts live nodes or takes 7 s to convict a dead one; with two, every
  // member hears of every other about once a round. Bytes per node grow by the same factor.
  size_t fanout = 2;
  PhiOptions phi;
  int64_t pause_guard_us = 2'000'000;   // a tick later than interval + this: the node stalled
  int64_t gone_expiry_us = 3LL * 24 * 3600 * 1'000'000;  // LEFT / REMOVED states kept this long
};

struct Event {
  enum class Kind {
    kChanged,      // a member's state is new or changed (also: a new generation)
    kAlive,        // the failure detector now believes it alive
    kDead,         // ... dead
    kRefused,      // a state from a peer was refused: `detail` says why
    kSelfRemoved,  // the cluster says this node was removed (removenode)
    kSelfTaken,    // another node (another host id) held this node's name first and has not left
    kExpired,      // a LEFT / REMOVED member forgotten after gone_expiry_us
  };
  Kind kind;
  std::string name;
  std::string detail;
};

class Gossiper {
 public:
  // REQUIRES: Validate({self, generation, ...}) is ok.
  Gossiper(std::string self, int64_t generation, MemberState state, uint64_t seed,
           GossipOptions options);

  const std::string& self() const { return self_; }
  const Endpoint& self_endpoint() const { return endpoints_.at(self_); }

  // Changes this node's own state; each change bumps its version so it spreads.
  void SetState(const MemberState& state);
  // removenode: declares the member `name` REMOVED on its behalf. REQUIRES the caller checked it
  // is believed dead. Its version jumps far ahead so its own stale copies never win over it.
  Status MarkRemoved(const std::string& name);
  // Seeds the map with what this node knew before it restarted (persisted). Those members count
  // as alive until the detector says otherwise, so the node serves its last ring at once.
  void Restore(const std::vector<Endpoint>& endpoints, int64_t now_us);

  struct Round {
    Syn syn;
    std::vector<std::string> addresses;  // send the Syn to each
  };
  // One round. `seeds` are HOST:PORT addresses (this node's own is skipped).
  Round Tick(int64_t now_us, const std::vector<std::string>& seeds);
  // Re-judges every member now, between rounds (the node calls it a few times a second, so a
  // silent member is convicted when phi crosses the threshold, not at the next round).
  void Check(int64_t now_us) { Judge(now_us); }
  // A Syn of this node's digests now, outside a round: for spreading a change of its own state
  // at once (the node announces a schema change to every live member). No heartbeat, no judging.
  Syn MakeSyn() const;
  // Answers a peer's Syn.
  Ack OnSyn(const Syn& syn, int64_t now_us);
  // Takes the answer to our Syn; returns what the peer asked for (send it unless empty).
  Ack2 OnAck(const Ack& ack, int64_t now_us);
  void OnAck2(const Ack2& ack2, int64_t now_us);

  // Events since the last call, in order.
  std::vector<Event> TakeEvents() { return std::move(events_); }

  const std::map<std::string, Endpoint>& endpoints() const { return endpoints_; }
  bool IsAlive(const std::string& name) const;
  double Phi(const std::string& name, int64_t now_us) const;
  uint64_t rounds() const { return rounds_; }

 private:
  struct Peer {
    PhiDetector detector;
    bool alive = true;
    int64_t gone_since_us = -1;  // when it was seen LEFT / REMOVED
  };

  Digest DigestOf(const Endpoint& e) const {
    return {e.name, e.generation, e.version, e.heartbeat, e.state.host_id};
  }
  void Apply(const Endpoint& e, int64_t now_us);
  void ApplyHeartbeat(const Digest& d, int64_t now_us);
  void Beat(const std::string& name, int64_t now_us);
  void Judge(int64_t now_us);
  void Emit(Event::Kind kind, const std::string& name, std::string detail = {});
  // What to send for a peer whose digest of the member is `theirs`.
  void Offer(const Endpoint& mine, const Digest& theirs, std::vector<Endpoint>* states,
             std::vector<Digest>* heartbeats) const;

  const std::string self_;
  const GossipOptions options_;
  std::mt19937_64 rng_;
  std::map<std::string, Endpoint> endpoints_;
  std::map<std::string, Peer> peers_;  // every member but self
  std::vector<Event> events_;
  int64_t last_tick_us_ = -1;
  uint64_t rounds_ = 0;
};

}  // namespace ringkv::gossip

#endif  // RINGKV_GOSSIP_GOSSIPER_H_
