// Router: where each request goes. It holds the endpoint table -- the contact points first, then
// every other address learnt from the ring -- with what the client has seen of each endpoint's
// health, and the ring the client routes by; it turns a request into the endpoints to try, best
// first.
//
// An endpoint is healthy unless the ring says its node is down, a connection to it failed within
// the last kSuspectFor (a node's failure detector may take seconds to notice what a refused
// connection shows at once), or it said within the last kNotReadyFor that it is not ready to
// serve. Unhealthy endpoints are still tried, after the healthy ones: the cluster's view or ours
// may be stale, and trying costs only a failed connection.
//
// Membership: the ring's NORMAL and LEAVING members are the replicas; a JOINING member is not a
// replica yet but may coordinate (and serves as a contact); a LEFT or REMOVED member is departed:
// never routed to. A contact point the ring says departed is tried only when no other endpoint is
// left to try (a contact point the answer does not name may be an alias of a member, so it is
// kept).
//
// Endpoint numbers are stable for the Router's life (the client indexes its connections by them).
// The table only grows, up to kEndpointsMax; ring members past it are reached through others.
//
// Thread safety: none; the client's I/O thread owns it. Time is passed in.
#ifndef RINGKV_CLIENT_ROUTER_H_
#define RINGKV_CLIENT_ROUTER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "client/address.h"
#include "client/ring_snapshot.h"
#include "common/token.h"

namespace ringkv::client_internal {

class Router {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kSuspectFor{5000};
  // A node that is not ready has not settled its ring: that takes about a gossip round or two.
  static constexpr std::chrono::milliseconds kNotReadyFor{1000};
  static constexpr size_t kEndpointsMax = 2 * kRingNodesMax;

  // Repeated contact points share one endpoint.
  explicit Router(const std::vector<HostPort>& contacts);

  size_t size() const { return endpoints_.size(); }
  size_t contact_count() const { return contact_count_; }
  const HostPort& address(uint32_t endpoint) const { return endpoints_[endpoint].address; }

  // Routes by `ring` from now on (null: by the contact points only), adding endpoints for the
  // addresses of its members.
  void Install(std::shared_ptr<const RingSnapshot> ring);
  const std::shared_ptr<const RingSnapshot>& ring() const { return ring_; }

  // A connection to `endpoint` failed (or closed): suspect it, and if it was the contact point
  // tried first, try another first from now on.
  void OnConnectionFailed(uint32_t endpoint, Clock::time_point now);
  // A connection to `endpoint` completed its handshake.
  void OnConnected(uint32_t endpoint);
  // The node at `endpoint` refused a request as not ready ("not ready: ..."): try others first
  // for a moment.
  void OnNotReady(uint32_t endpoint, Clock::time_point now);

  // Whether `endpoint` is worth trying first (see the top of this file): neither RingDown nor
  // Avoided.
  bool Healthy(uint32_t endpoint, Clock::time_point now) const;
  // Whether the installed ring says the node at `endpoint` is down: one node's failure detector
  // thinks so, which under a partition says on which side of it that node is.
  bool RingDown(uint32_t endpoint) const { return endpoints_[endpoint].ring_down; }
  // Whether the client itself has reason to skip `endpoint`: a connection to it failed recently,
  // it said it is not ready, or the ring says it left.
  bool Avoided(uint32_t endpoint, Clock::time_point now) const;

  // The endpoints for a request on `token` in `keyspace`, at most `length_max`, each once: the
  // key's replicas that are healthy, in preference-list order; then the other healthy owners in
  // ring order from the key, then the healthy joining members (any node can coordinate or
  // forward, so a key whose replicas the client cannot reach is still served); then the unhealthy
  // replicas and owners; then the contact points not listed yet. Without a ring, or with an empty
  // one: ContactRoute(false, ...).
  std::vector<uint32_t> KeyRoute(Token token, std::string_view keyspace, size_t length_max,
                                 Clock::time_point now) const;
  // The contact points, from the one preferred, healthy ones first; then, with `with_members`,
  // the healthy members not listed yet, owners then joining ones (so that the ring can still be
  // learnt when every contact point is gone). Departed contact points come last, and only when
  // nothing else is listed. At most `length_max`, each once.
  std::vector<uint32_t> ContactRoute(bool with_members, size_t length_max,
                                     Clock::time_point now) const;
  // The one endpoint of `address` (added if new): for requests to a named node (Client::InfoOf).
  // Empty when the table is full.
  std::vector<uint32_t> AddressRoute(const HostPort& address);

 private:
  struct Endpoint {
    HostPort address;
    bool ring_down = false;             // the installed ring says its node is down
    bool departed = false;              // the installed ring says its node left or was removed
    Clock::time_point suspect_until{};  // a connection failed recently
  };

  // The endpoint of `address`, added if new; nullopt once the table is full.
  std::optional<uint32_t> EndpointOf(const HostPort& address);

  std::vector<Endpoint> endpoints_;
  std::unordered_map<std::string, uint32_t> by_address_;  // HostPort::ToString() -> endpoint
  size_t contact_count_ = 0;                              // endpoints [0, contact_count_)
  size_t preferred_ = 0;                                  // the contact point tried first
  std::shared_ptr<const RingSnapshot> ring_;
  std::vector<std::optional<uint32_t>> node_endpoint_;  // by ring node index
  // Members that are neither owners nor departed (joining), by name.
  std::vector<uint32_t> joining_endpoints_;
};

}  // namespace ringkv::client_internal

#endif  // RINGKV_CLIENT_ROUTER_H_
