#include "sim/gossip_net.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <limits>
#include <set>

#include "sim/gossip_wire_size.h"

namespace ringkv::sim {

namespace {

constexpr int64_t kGeneration = 1'765'000'000'000'000;  // any positive start time

}  // namespace

GossipNet::GossipNet(GossipNetOptions options) : options_(options), rng_(options.seed) {
  assert(options_.delay_min_us >= 0 && options_.delay_min_us <= options_.delay_max_us);
  assert(options_.gossip.interval_us > 0 && options_.tick_jitter_us >= 0);
}

size_t GossipNet::NewNode() {
  const size_t i = nodes_.size();
  Node node;
  node.name = fmt::format("n{:04}", i);
  gossip::MemberState state;
  state.address = fmt::format("10.{}.{}.{}:7000", i / 65536, (i / 256) % 256, i % 256);
  state.host_id = 1000 + i;
  std::set<Token> tokens;
  std::uniform_int_distribution<Token> token(std::numeric_limits<Token>::min() + 1,
                                             std::numeric_limits<Token>::max());
  while (tokens.size() < options_.tokens_per_node) tokens.insert(token(rng_));
  state.tokens.assign(tokens.begin(), tokens.end());
  node.gossiper =
      std::make_unique<gossip::Gossiper>(node.name, kGeneration, state, rng_(), options_.gossip);
  node.phase_us = std::uniform_int_distribution<int64_t>(0, options_.gossip.interval_us - 1)(rng_);
  // The first tick falls within the coming interval.
  node.next_round_us = now_us_ - now_us_ % options_.gossip.interval_us;
  if (node.next_round_us + node.phase_us <= now_us_)
    node.next_round_us += options_.gossip.interval_us;
  by_address_.emplace(state.address, i);
  if (seeds_.size() < options_.seed_count) seeds_.push_back(state.address);
  nodes_.push_back(std::move(node));
  traffic_.emplace_back();
  ScheduleTick(i);
  return i;
}

size_t GossipNet::AddConverged(size_t n) {
  const size_t first = nodes_.size();
  for (size_t k = 0; k < n; ++k) NewNode();
  std::vector<gossip::Endpoint> all;
  for (size_t i = first; i < nodes_.size(); ++i) all.push_back(node(i).self_endpoint());
  for (size_t i = first; i < nodes_.size(); ++i) {
    node(i).Restore(all, now_us_);  // skips its own
    Drain(i);
  }
  return first;
}

size_t GossipNet::AddJoiner() { return NewNode(); }

void GossipNet::Stop(size_t i) { nodes_[i].running = false; }

void GossipNet::ScheduleTick(size_t i) {
  Node& node = nodes_[i];
  const int64_t jitter = std::uniform_int_distribution<int64_t>(0, options_.tick_jitter_us)(rng_);
  Message m{
      node.next_round_us + node.phase_us + jitter, order_++, Kind::kTick, i, i, 0, {}, {}, {}};
  node.next_round_us += options_.gossip.interval_us;
  queue_.push(std::move(m));
}

void GossipNet::Send(Message m) {
  m.at_us = now_us_ + std::uniform_int_distribution<int64_t>(options_.delay_min_us,
                                                             options_.delay_max_us)(rng_);
  m.order = order_++;
  traffic_[m.from].bytes_sent += m.bytes;
  ++traffic_[m.from].messages_sent;
  queue_.push(std::move(m));
}

void GossipNet::Drain(size_t i) {
  for (const gossip::Event& e : node(i).TakeEvents()) {
    if (on_event) on_event(i, now_us_, e);
  }
}

void GossipNet::Handle(const Message& m) {
  if (!nodes_[m.to].running) return;  // lost: nobody answers at that address
  if (m.kind != Kind::kTick) {
    traffic_[m.to].bytes_received += m.bytes;
    ++traffic_[m.to].messages_received;
  }
  gossip::Gossiper& g = node(m.to);
  switch (m.kind) {
    case Kind::kTick: {
      ScheduleTick(m.to);
      if (nodes_[m.to].first_tick_us < 0) nodes_[m.to].first_tick_us = now_us_;
      auto round = g.Tick(now_us_, seeds_);
      auto syn = std::make_shared<const gossip::Syn>(std::move(round.syn));
      const size_t bytes = WireBytes(*syn);
      for (const std::string& address : round.addresses) {
        const size_t to = by_address_.at(address);
        Send(Message{0, 0, Kind::kSyn, m.to, to, bytes, syn, {}, {}});
      }
      break;
    }
    case Kind::kSyn: {
      auto ack = std::make_shared<const gossip::Ack>(g.OnSyn(*m.syn, now_us_));
      Send(Message{0, 0, Kind::kAck, m.to, m.from, WireBytes(*ack), {}, ack, {}});
      break;
    }
    case Kind::kAck: {
      auto ack2 = std::make_shared<const gossip::Ack2>(g.OnAck(*m.ack, now_us_));
      if (!ack2->states.empty() || !ack2->heartbeats.empty()) {
        Send(Message{0, 0, Kind::kAck2, m.to, m.from, WireBytes(*ack2), {}, {}, ack2});
      }
      if (on_view_changed) on_view_changed(m.to);
      break;
    }
    case Kind::kAck2:
      g.OnAck2(*m.ack2, now_us_);
      if (on_view_changed) on_view_changed(m.to);
      break;
  }
  Drain(m.to);
}

void GossipNet::RunUntil(int64_t until_us) {
  RunUntil(until_us, [] { return false; });
}

bool GossipNet::RunUntil(int64_t until_us, const std::function<bool()>& done) {
  while (!queue_.empty() && queue_.top().at_us <= until_us) {
    if (done()) return true;
    Message m = queue_.top();
    queue_.pop();
    assert(m.at_us >= now_us_);
    now_us_ = m.at_us;
    Handle(m);
  }
  if (done()) return true;
  now_us_ = std::max(now_us_, until_us);
  return false;
}

void GossipNet::ResetTraffic() { std::fill(traffic_.begin(), traffic_.end(), Traffic{}); }

}  // namespace ringkv::sim
