#include "sim/gossip_probes.h"

#include <cassert>

namespace ringkv::sim {

Watch::Watch(GossipNet* net, std::function<bool(gossip::Gossiper&)> holds)
    : net_(net), holds_(std::move(holds)), ok_(net->size(), false) {
  for (size_t i = 0; i < net_->size(); ++i) Recheck(i);
}

void Watch::Recheck(size_t i) {
  if (i < ok_.size() && !ok_[i] && net_->running(i) && holds_(net_->node(i))) {
    ok_[i] = true;
    ++count_;
  }
}

GapSampler::GapSampler(GossipNet* net, const std::vector<size_t>& observers)
    : net_(net), slot_(net->size(), -1) {
  for (size_t i : observers) {
    assert(i < slot_.size());
    if (slot_[i] >= 0) continue;
    slot_[i] = static_cast<int>(last_.size());
    auto& last = last_.emplace_back();
    for (const auto& [name, e] : net_->node(i).endpoints()) last[name].heartbeat = e.heartbeat;
  }
}

void GapSampler::Seen(size_t i) {
  if (i >= slot_.size() || slot_[i] < 0) return;
  auto& last = last_[slot_[i]];
  gossip::Gossiper& g = net_->node(i);
  for (const auto& [name, e] : g.endpoints()) {
    if (name == g.self()) continue;
    Last& l = last[name];
    if (e.heartbeat <= l.heartbeat) continue;
    if (l.at_us >= 0) gaps_us_.push_back(net_->now_us() - l.at_us);
    l.heartbeat = e.heartbeat;
    l.at_us = net_->now_us();
  }
}

}  // namespace ringkv::sim
