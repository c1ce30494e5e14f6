// GossipNet: n gossip::Gossipers on a virtual network in virtual time, for the scale benchmark
// (sim/gossip_scale.cc). One thread, one seeded generator: a run replays exactly from its seed.
//
// Time is a queue of events ordered by (virtual time, insertion order):
//   - each node ticks once per interval at its own phase (uniform within the interval, drawn when
//     it starts) plus a jitter drawn anew each round, so rounds are not in lockstep;
//   - every message (Syn, Ack, Ack2) takes a delay drawn uniformly from [delay_min_us,
//     delay_max_us], so exchanges overlap and interleave as they do over TCP;
//   - a stopped node neither ticks nor answers; messages to it are counted as sent and dropped.
// Each message is counted in bytes (sim/gossip_wire_size.h) on its sender when sent and on its
// receiver when delivered to a running node.
//
// Thread safety: none.
#ifndef RINGKV_SIM_GOSSIP_NET_H_
#define RINGKV_SIM_GOSSIP_NET_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "gossip/gossiper.h"

namespace ringkv::sim {

struct GossipNetOptions {
  uint64_t seed = 1;
  int64_t delay_min_us = 1'000;
  int64_t delay_max_us = 20'000;
  int64_t tick_jitter_us = 20'000;  // added to a node's phase, drawn anew each round
  size_t seed_count = 3;            // nodes 0 .. seed_count-1 are every node's seeds
  uint32_t tokens_per_node = 16;    // kDefaultTokensPerNode: only full states carry them
  gossip::GossipOptions gossip;
};

class GossipNet {
 public:
  explicit GossipNet(GossipNetOptions options);

  // Starts n nodes that already know each other (as a cluster restarted from its persisted
  // states: Gossiper::Restore), ticking from now. Returns the index of the first.
  size_t AddConverged(size_t n);
  // Starts one node that knows only the seeds. Returns its index.
  size_t AddJoiner();
  void Stop(size_t i);
  bool running(size_t i) const { return nodes_[i].running; }
  // When node i first ticked (sent its first Syn); -1 before.
  int64_t first_tick_us(size_t i) const { return nodes_[i].first_tick_us; }

  // Runs every event up to and including virtual time `until_us`.
  void RunUntil(int64_t until_us);
  // Runs until `done()` or `until_us`, checking after each event; returns whether done.
  bool RunUntil(int64_t until_us, const std::function<bool()>& done);
  int64_t now_us() const { return now_us_; }

  size_t size() const { return nodes_.size(); }
  gossip::Gossiper& node(size_t i) { return *nodes_[i].gossiper; }
  const std::string& name(size_t i) const { return nodes_[i].name; }
  std::mt19937_64& rng() { return rng_; }
  int64_t interval_us() const { return options_.gossip.interval_us; }

  // Called with every gossip event as its node produces it, and with the index of every node whose
  // view may have changed (after it handled an Ack or Ack2).
  std::function<void(size_t node, int64_t at_us, const gossip::Event&)> on_event;
  std::function<void(size_t node)> on_view_changed;

  struct Traffic {
    uint64_t bytes_sent = 0, bytes_received = 0;
    uint64_t messages_sent = 0, messages_received = 0;
  };
  // Per node, since the start or the last ResetTraffic.
  const std::vector<Traffic>& traffic() const { return traffic_; }
  void ResetTraffic();

 private:
  enum class Kind { kTick, kSyn, kAck, kAck2 };
  struct Message {
    int64_t at_us;
    uint64_t order;
    Kind kind;
    size_t from, to;                         // for kTick: the node ticking (both)
    size_t bytes;                            // on the wire (sim/gossip_wire_size.h); 0 for kTick
    std::shared_ptr<const gossip::Syn> syn;  // one Syn goes to several peers
    std::shared_ptr<const gossip::Ack> ack;
    std::shared_ptr<const gossip::Ack2> ack2;
  };
  struct Later {
    bool operator()(const Message& a, const Message& b) const {
      return a.at_us != b.at_us ? a.at_us > b.at_us : a.order > b.order;
    }
  };
  struct Node {
    std::string name;
    std::unique_ptr<gossip::Gossiper> gossiper;
    int64_t phase_us = 0;
    int64_t next_round_us = 0;  // the round whose tick is queued, without phase and jitter
    int64_t first_tick_us = -1;
    bool running = true;
  };

  size_t NewNode();
  void ScheduleTick(size_t i);
  void Send(Message m);
  void Handle(const Message& m);
  void Drain(size_t i);

  const GossipNetOptions options_;
  std::mt19937_64 rng_;
  std::vector<Node> nodes_;
  std::vector<Traffic> traffic_;
  std::unordered_map<std::string, size_t> by_address_;
  std::vector<std::string> seeds_;
  std::priority_queue<Message, std::vector<Message>, Later> queue_;
  uint64_t order_ = 0;
  int64_t now_us_ = 0;
};

}  // namespace ringkv::sim

#endif  // RINGKV_SIM_GOSSIP_NET_H_
