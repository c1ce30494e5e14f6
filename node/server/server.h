// Server: the Boost.Asio TCP transport of a node. It accepts connections, decodes frames with the
// limits of DESIGN.md §6, checks the handshake, hands requests to the KvService and writes the
// answers back, out of order, under each request's id.
//
// Every peer is untrusted: a malformed frame, a frame over the limit, a wrong first message or a
// protocol version mismatch gets an error frame (request id 0) and the connection is closed; too
// many requests in flight on one connection get kOverloaded answers; a client that connects and
// sends nothing, or stops halfway through a frame, is disconnected after a timeout. Nothing a peer
// sends affects other connections.
//
// Thread safety: all of it runs on the io_context's single thread, with the KvService.
#ifndef RINGKV_NODE_SERVER_SERVER_H_
#define RINGKV_NODE_SERVER_SERVER_H_

// Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility> (DESIGN.md §9).
#include <utility>
#include <boost/asio.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>

#include "common/clock.h"
#include "node/aae_transport.h"
#include "node/coordinator.h"
#include "node/hinted_handoff.h"
#include "node/kv_service.h"
#include "node/membership.h"
#include "node/metrics.h"
#include "node/log.h"
#include "proto/frame.h"
#include "storage/storage.h"

namespace ringkv {

struct ServerOptions {
  std::string node_name;
  std::string cluster_name = "ringkv";
  std::string cluster_secret;  // peers must present it; empty: peer connections are refused
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 7000;
  std::string data_dir;        // for info
  std::string sync_mode;       // for info
  uint64_t host_id = 0;        // for info
  uint32_t vnodes = 0;         // for info: tokens this node holds
  std::string http_address;    // for info: where /metrics is served; empty: nowhere
  proto::FrameLimits limits;              // for clients
  size_t peer_frame_bytes_max = 0;        // after a peer's handshake; 0: as limits
  uint32_t in_flight_max = 128;          // per connection
  uint32_t connections_max = 1024;
  int64_t handshake_timeout_ms = 10'000; // from accept to hello
  int64_t frame_timeout_ms = 30'000;     // a partly received frame that makes no progress
  size_t output_bytes_max = 64u << 20;   // answers queued for a slow reader before reads pause
};

class Connection;

class Server {
 public:
  // All pointers must outlive the server.
  Server(boost::asio::io_context* io, KvService* service, Storage* storage, const Clock* clock,
         Logger* log, ServerOptions options);
  ~Server();

  // Makes this server a cluster node: client requests go through the coordinator, and ring and
  // keyspace requests to membership. Without it, requests go straight to the KvService (a
  // standalone replica, as in tests). Both must outlive the server.
  // `keyspaces` (may be null) gives Info its schema version.
  void AttachCluster(Coordinator* coordinator, Membership* membership,
                     const KeyspaceCatalog* keyspaces = nullptr) {
    coordinator_ = coordinator;
    membership_ = membership;
    keyspaces_ = keyspaces;
  }

  // Pending hints for Info answers and TruncateHints (kvctl hints). Null: hinted handoff is off.
  // Must outlive the server.
  void AttachHints(HintedHandoff* hints) { hints_ = hints; }

  // Records client request latencies, errors and requests in flight. Must outlive the server.
  void SetMetrics(NodeMetrics* metrics) { metrics_ = metrics; }

  // Runs with the peer's node name whenever a peer completes a handshake: proof it is up, which
  // the failure detector may take before its own next probe.
  void SetPeerSeenCallback(std::function<void(const std::string&)> fn) {
    on_peer_seen_ = std::move(fn);
  }

  // Answers admin requests (node administration, kvctl): command, argument, and a callback to
  // run once with the JSON answer. Without one they are refused.
  using AdminFn = std::function<void(const std::string&, const std::string&,
                                     std::function<void(Result<std::string>)>)>;
  void SetAdminHandler(AdminFn fn) { admin_ = std::move(fn); }

  // Answers anti-entropy requests from peers (the aae frame; node/server/aae_wire.h). Without
  // one they are refused: InvalidArgument "anti-entropy is off on NODE_NAME".
  void SetAaeHandler(AaeAnswerFn fn) { aae_ = std::move(fn); }

  // Binds and starts accepting.
  [[nodiscard]] Status Start();
  // Stops accepting; each connection finishes the requests it has in flight, flushes their answers
  // and closes. `done` runs when the last connection has closed.
  void Shutdown(std::function<void()> done);
  // Closes every connection now.
  void CloseAll();

  uint16_t port() const { return port_; }
  size_t connections() const { return connections_.size(); }
  // Strangers refused: hellos as a peer with a wrong cluster secret or name, and peer-only
  // messages (gossip, replica writes) on a connection that did not prove itself a peer.
  uint64_t strangers_refused() const { return strangers_refused_; }

 private:
  friend class Connection;
  void Accept();
  void Forget(Connection* connection);

  boost::asio::io_context* const io_;
  KvService* const service_;
  Coordinator* coordinator_ = nullptr;
  Membership* membership_ = nullptr;
  const KeyspaceCatalog* keyspaces_ = nullptr;
  HintedHandoff* hints_ = nullptr;
  NodeMetrics* metrics_ = nullptr;
  std::function<void(const std::string&)> on_peer_seen_;
  AdminFn admin_;
  AaeAnswerFn aae_;
  Storage* const storage_;
  const Clock* const clock_;
  Logger* const log_;
  const ServerOptions options_;
  const int64_t started_us_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::unordered_set<std::shared_ptr<Connection>> connections_;
  uint64_t strangers_refused_ = 0;
  bool shutting_down_ = false;
  std::function<void()> shutdown_done_;
};

}  // namespace ringkv

#endif  // RINGKV_NODE_SERVER_SERVER_H_
