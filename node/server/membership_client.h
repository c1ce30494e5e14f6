// MembershipClient: MembershipTransport over Boost.Asio. Each exchange is one short connection:
// connect, hello as a peer (with the cluster secret), one request, its answer, close, all under one
// deadline. Membership talks to each peer once a period, so a pooled connection would save little
// and a fresh one also proves the peer still accepts connections.
//
// Gossip uses the same short connections: one Syn and its Ack, then (if the peer asked for
// anything) a second for the Ack2. A node gossips with two or three peers a second, so the
// connection set-up costs little, and each exchange doubles as a probe that the peer still
// accepts connections.
//
// Thread safety: the io_context's thread only. Exchanges still running when the client is
// destroyed are abandoned: their callbacks never run.
#ifndef RINGKV_NODE_SERVER_MEMBERSHIP_CLIENT_H_
#define RINGKV_NODE_SERVER_MEMBERSHIP_CLIENT_H_

// Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility> (DESIGN.md §9).
#include <utility>
#include <boost/asio.hpp>

#include <memory>
#include <string>

#include "node/membership.h"
#include "proto/ringkv.capnp.h"

namespace ringkv {

struct MembershipClientOptions {
  std::string node_name;
  std::string cluster_name;
  std::string cluster_secret;
  std::string bind_host;  // outgoing sockets bind to this address (the node's listen IP)
};

class MembershipClient final : public MembershipTransport {
 public:
  MembershipClient(boost::asio::io_context* io, MembershipClientOptions options);
  ~MembershipClient() override;

  void GossipSyn(const std::string& address, const gossip::Syn& syn, int64_t timeout_ms,
                 std::function<void(Result<gossip::Ack>)> done) override;
  void GossipAck2(const std::string& address, const gossip::Ack2& ack2, int64_t timeout_ms,
                  std::function<void(Status)> done) override;
  void FetchRing(const std::string& address, int64_t timeout_ms,
                 std::function<void(Result<RingAnswer>)> done) override;

  // One exchange of any kind, for the protocols that ride on these short connections (gossip,
  // the ring, anti-entropy: node/server/aae_wire.h). `fill` builds the request frame (its request
  // id is set). `parse` reads the answer frame; an error frame never reaches it but comes back as
  // the peer's Status (StatusFromWire), and a kj::Exception it throws as kProtocol. `done` runs
  // once, on the loop: parse's Status, or why there is no answer (unreachable, refused, timed out).
  using FillFn = std::function<void(wire::Frame::Builder)>;
  using ParseFn = std::function<Status(wire::Frame::Reader)>;
  void Ask(const std::string& address, int64_t timeout_ms, const FillFn& fill, ParseFn parse,
           std::function<void(Status)> done);

  // Bytes of gossip's frames (Syn and Ack2, and their answers), sent and received; connection
  // set-up (the hello) not counted.
  struct Traffic {
    uint64_t gossip_sent = 0, gossip_received = 0;
  };
  const Traffic& traffic() const { return traffic_; }

 private:
  class Exchange;
  boost::asio::io_context* const io_;
  const MembershipClientOptions options_;
  // Cleared on destruction so abandoned exchanges know not to call back.
  std::shared_ptr<bool> alive_;
  Traffic traffic_;
};

}  // namespace ringkv

#endif  // RINGKV_NODE_SERVER_MEMBERSHIP_CLIENT_H_
