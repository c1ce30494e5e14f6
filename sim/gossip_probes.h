// What the gossip scale benchmark (sim/gossip_scale.cc) observes in a GossipNet from outside,
// without touching gossip/: who knows a fact yet, and how irregularly heartbeats arrive.
//
// Both are fed by the caller with the index of each node whose view may have changed
// (GossipNet::on_view_changed). Thread safety: none. The net must outlive them.
#ifndef RINGKV_SIM_GOSSIP_PROBES_H_
#define RINGKV_SIM_GOSSIP_PROBES_H_

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/gossip_net.h"

namespace ringkv::sim {

// How many running nodes satisfy `holds` (checked on every node at construction, then on the
// nodes whose view changed; a node that held once counts from then on).
class Watch {
 public:
  Watch(GossipNet* net, std::function<bool(gossip::Gossiper&)> holds);
  void Recheck(size_t i);
  size_t count() const { return count_; }

 private:
  GossipNet* net_;
  std::function<bool(gossip::Gossiper&)> holds_;
  std::vector<bool> ok_;
  size_t count_ = 0;
};

// The gaps between arrivals of a newer heartbeat of each member at a few observer nodes: the
// intervals their phi detectors (gossip/phi_detector.h) are fed, seen from outside.
class GapSampler {
 public:
  // REQUIRES: every observer < net->size().
  GapSampler(GossipNet* net, const std::vector<size_t>& observers);
  void Seen(size_t i);
  std::vector<int64_t> Take() { return std::move(gaps_us_); }

 private:
  struct Last {
    uint64_t heartbeat = 0;
    int64_t at_us = -1;  // -1: no arrival seen yet, so the next is not a gap
  };
  GossipNet* net_;
  std::vector<int> slot_;  // per node: its index in last_, or -1 if not an observer
  std::vector<std::unordered_map<std::string, Last>> last_;
  std::vector<int64_t> gaps_us_;
};

}  // namespace ringkv::sim

#endif  // RINGKV_SIM_GOSSIP_PROBES_H_
