#include "client/router.h"

#include <algorithm>
#include <cassert>
#include <utility>

namespace ringkv::client_internal {
namespace {

// Routes hold a handful of endpoints (retries + 1), so a linear check beats a set.
bool Listed(const std::vector<uint32_t>& route, uint32_t endpoint) {
  return std::find(route.begin(), route.end(), endpoint) != route.end();
}

}  // namespace

Router::Router(const std::vector<HostPort>& contacts) {
  for (const HostPort& contact : contacts) EndpointOf(contact);
  contact_count_ = endpoints_.size();
}

std::optional<uint32_t> Router::EndpointOf(const HostPort& address) {
  std::string key = address.ToString();
  auto it = by_address_.find(key);
  if (it != by_address_.end()) return it->second;
  if (endpoints_.size() >= kEndpointsMax) return std::nullopt;
  const auto index = static_cast<uint32_t>(endpoints_.size());
  endpoints_.push_back(Endpoint{address});
  by_address_.emplace(std::move(key), index);
  return index;
}

std::vector<uint32_t> Router::AddressRoute(const HostPort& address) {
  auto endpoint = EndpointOf(address);
  if (!endpoint) return {};
  return {*endpoint};
}

void Router::Install(std::shared_ptr<const RingSnapshot> ring) {
  ring_ = std::move(ring);
  node_endpoint_.clear();
  joining_endpoints_.clear();
  for (Endpoint& e : endpoints_) {
    e.ring_down = false;
    e.departed = false;
  }
  if (ring_ == nullptr) return;
  // TODO(limit): endpoints of members that left stay in the table (with their idle connections)
  // until the client is destroyed; the table's bound caps what that can cost.
  // Departed members first: a live member at the same address (a node started again in its
  // place) clears the mark.
  for (const auto& member : ring_->members) {
    if (!member.endpoint || !member.departed()) continue;
    auto endpoint = EndpointOf(*member.endpoint);
    if (endpoint) endpoints_[*endpoint].departed = true;
  }
  for (const auto& member : ring_->members) {
    if (!member.endpoint || member.departed()) continue;
    auto endpoint = EndpointOf(*member.endpoint);
    if (!endpoint) continue;
    endpoints_[*endpoint].departed = false;
    if (!member.up) endpoints_[*endpoint].ring_down = true;
    if (!member.owner()) joining_endpoints_.push_back(*endpoint);
  }
  node_endpoint_.resize(ring_->ring.node_count());
  for (size_t node = 0; node < node_endpoint_.size(); ++node) {
    const auto& member = ring_->members[ring_->member_of_node[node]];
    if (member.endpoint) node_endpoint_[node] = EndpointOf(*member.endpoint);
  }
}

void Router::OnConnectionFailed(uint32_t endpoint, Clock::time_point now) {
  assert(endpoint < endpoints_.size());
  endpoints_[endpoint].suspect_until = now + kSuspectFor;
  if (endpoint == preferred_ && contact_count_ > 0) preferred_ = (preferred_ + 1) % contact_count_;
}

void Router::OnConnected(uint32_t endpoint) {
  assert(endpoint < endpoints_.size());
  endpoints_[endpoint].suspect_until = {};
}

void Router::OnNotReady(uint32_t endpoint, Clock::time_point now) {
  assert(endpoint < endpoints_.size());
  Endpoint& e = endpoints_[endpoint];
  e.suspect_until = std::max(e.suspect_until, now + kNotReadyFor);
}

bool Router::Healthy(uint32_t endpoint, Clock::time_point now) const {
  return !RingDown(endpoint) && !Avoided(endpoint, now);
}

bool Router::Avoided(uint32_t endpoint, Clock::time_point now) const {
  const Endpoint& e = endpoints_[endpoint];
  return e.departed || now < e.suspect_until;
}

std::vector<uint32_t> Router::ContactRoute(bool with_members, size_t length_max,
                                           Clock::time_point now) const {
  std::vector<uint32_t> route;
  const auto add = [&](uint32_t endpoint) {
    if (route.size() < length_max && !Listed(route, endpoint)) route.push_back(endpoint);
  };
  for (const bool healthy : {true, false}) {
    for (size_t i = 0; i < contact_count_; ++i) {
      const auto endpoint = static_cast<uint32_t>((preferred_ + i) % contact_count_);
      if (!endpoints_[endpoint].departed && Healthy(endpoint, now) == healthy) add(endpoint);
    }
  }
  if (with_members) {
    for (const auto& endpoint : node_endpoint_) {
      if (endpoint && Healthy(*endpoint, now)) add(*endpoint);
    }
    for (uint32_t endpoint : joining_endpoints_) {
      if (Healthy(endpoint, now)) add(endpoint);
    }
  }
  if (route.empty()) {  // every contact point left: still try them rather than nothing
    for (size_t i = 0; i < contact_count_; ++i) {
      add(static_cast<uint32_t>((preferred_ + i) % contact_count_));
    }
  }
  return route;
}

std::vector<uint32_t> Router::KeyRoute(Token token, std::string_view keyspace, size_t length_max,
                                       Clock::time_point now) const {
  if (ring_ == nullptr || ring_->ring.empty()) return ContactRoute(false, length_max, now);
  const ringkv::Ring& ring = ring_->ring;
  const uint32_t rf = ring_->RoutingReplicationFactor(keyspace);
  // Walk only as far as a route can reach: the replicas and as many nodes again as there are
  // attempts, so that the route holds other nodes even when every replica is unhealthy.
  const auto walk_length =
      static_cast<uint32_t>(std::min<size_t>(ring.node_count(), size_t{rf} + length_max));
  std::vector<uint32_t> walk;
  ring.PreferenceIndices(token, walk_length, &walk);

  std::vector<uint32_t> route;
  const auto add = [&](uint32_t endpoint) {
    if (route.size() < length_max && !Listed(route, endpoint)) route.push_back(endpoint);
  };
  const auto add_walk = [&](size_t from, size_t to, bool healthy) {
    for (size_t i = from; i < std::min(to, walk.size()); ++i) {
      const auto& endpoint = node_endpoint_[walk[i]];
      if (endpoint && Healthy(*endpoint, now) == healthy) add(*endpoint);
    }
  };
  add_walk(0, rf, true);            // healthy replicas, in preference order
  add_walk(rf, walk.size(), true);  // healthy owners, which can coordinate or forward
  for (uint32_t endpoint : joining_endpoints_) {  // healthy joining members, which can too
    if (Healthy(endpoint, now)) add(endpoint);
  }
  add_walk(0, rf, false);  // then the unhealthy ones: our view or the cluster's may be stale
  add_walk(rf, walk.size(), false);
  for (uint32_t endpoint : ContactRoute(false, length_max, now)) add(endpoint);
  return route;
}

}  // namespace ringkv::client_internal
