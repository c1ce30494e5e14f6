// PeerClient: the node's outgoing connections to the other nodes of its cluster, the production
// binding of PeerTransport (node/effects.h) over Boost.Asio TCP and the wire protocol
// (proto/wire.md). The simulator binds PeerTransport to its virtual network instead.
//
// One connection per peer, opened on the first request for it and kept while it works. It starts
// with a peer hello (role peer, the cluster secret, this node's name) and checks the answer: same
// protocol version, same cluster, and the node name it expected at that address. Requests are
// multiplexed on it under request ids and matched with their answers in whatever order they come.
//
// Every call is answered exactly once, on the loop, and never from inside the call itself (a
// failure known at once is delivered on a later turn of the loop), so a caller may issue several
// calls before it looks at any answer:
//   - the peer's answer, or the peer's error as a Status of the same code (needed / alive /
//     in_doubt carried over);
//   - kTimeout when the deadline passes first. in_doubt is set for a write (ReplicaWrite,
//     ForwardWrite) that was sent, since the peer may have applied it; never for a read, nor for a
//     write still waiting to be sent. A late answer is ignored;
//   - kUnavailable when there is no connection: the peer has no known address, a connect attempt
//     failed or is in backoff, or the connection was lost before the request was sent. A read
//     whose connection is lost after sending is kUnavailable too;
//   - kTimeout with in_doubt when the connection is lost after a write was sent;
//   - kUnauthorized / kProtocol when the peer refused the handshake for that reason (requests
//     that were waiting for that connection);
//   - kOverloaded when the peer already has options.in_flight_max calls pending or
//     options.queued_bytes_max bytes waiting to be written;
//   - kInvalidArgument when a request frame is larger than the peer accepts (its helloOk
//     frameBytesMax); sending it would make the peer close the connection under everyone else;
//   - kUnavailable "shutting down" for every call still pending when the PeerClient is destroyed.
//
// Reconnects: a peer whose connect attempt fails (refused, no answer within connect_timeout_ms,
// handshake refused) is not tried again until a backoff has passed: backoff_initial_ms, doubling
// per consecutive failure up to backoff_max_ms, reset by a successful handshake. Requests during
// the backoff fail at once with kUnavailable "no connection to <peer>", which lets the
// coordinator fail fast or pick another replica instead of waiting for its deadline. A connection
// that was up and is lost is retried on the next request without waiting.
//
// Flow control: at most min(in_flight_max, the peer's helloOk inFlightMax) requests are on the
// wire at once; the rest wait, in order, for answers. A request whose deadline passed after it
// was sent keeps its slot until the peer answers it (the peer still counts it); when every slot is
// held by such abandoned requests the connection is replaced.
//
// Outgoing sockets are bound to options.bind_host (the node's own listen address) before they
// connect, so nodes sharing one network namespace under distinct 127.0.0.x addresses can be
// partitioned by address (DESIGN.md §8).
//
// Thread safety: none. Construct, call and destroy on the io_context's single thread; every
// callback (answers, on_peer_state) runs there. A callback may call any method except the
// destructor.
#ifndef RINGKV_NODE_SERVER_PEER_CLIENT_H_
#define RINGKV_NODE_SERVER_PEER_CLIENT_H_

// Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility> (DESIGN.md §9).
#include <utility>

#include <boost/asio.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "common/clock.h"
#include "common/limits.h"
#include "node/server/asio_timers.h"
#include "node/effects.h"
#include "node/log.h"
#include "proto/frame.h"

namespace ringkv {

struct PeerClientOptions {
  std::string self_name;  // this node's name, sent in the hello
  std::string cluster_name = "ringkv";
  std::string cluster_secret;  // sent in the hello; peers refuse a wrong one
  // IP address outgoing sockets bind to before connecting (DESIGN.md §8). Empty: the OS picks.
  // Not an IP address: every connect attempt fails (and is logged).
  std::string bind_host;
  // Limits on frames received from peers. A replicaRead answer carries a key's whole object, so
  // the default admits the default object bound (kObjectBytesMaxDefault) plus the envelope.
  proto::FrameLimits limits = {.frame_bytes_max = kObjectBytesMaxDefault + (1u << 20)};
  // From the start of a connect attempt to the peer's helloOk.
  int64_t connect_timeout_ms = 1000;
  // Calls pending per peer (waiting to be sent or awaiting an answer) before kOverloaded.
  uint32_t in_flight_max = 1024;
  // Request bytes per peer waiting to be written before kOverloaded. One request larger than
  // this is still accepted when nothing else is waiting.
  size_t queued_bytes_max = size_t{64} << 20;
  int64_t backoff_initial_ms = 50;
  int64_t backoff_max_ms = 2000;
};

struct PeerClientStats {
  uint64_t connect_attempts = 0;
  uint64_t connect_failures = 0;  // refused, timed out or handshake refused
  uint64_t connections_lost = 0;  // were up, then closed
  uint64_t requests_sent = 0;
  uint64_t timeouts = 0;
  uint64_t late_answers = 0;  // answers that came after their deadline, ignored
};

class PeerClient final : public PeerTransport {
 public:
  // `io`, `clock` and `log` must outlive the PeerClient. Deadlines given to the calls are in
  // clock->MonoUs() time.
  PeerClient(boost::asio::io_context* io, const Clock* clock, Logger* log,
             PeerClientOptions options);
  // Answers every pending call (kUnavailable "shutting down", or the failure already decided for
  // it) before it returns, closes every connection, and fires no on_peer_state. No callback runs
  // afterwards.
  ~PeerClient() override;
  PeerClient(const PeerClient&) = delete;
  PeerClient& operator=(const PeerClient&) = delete;

  // Where `node` listens, as "IP:PORT" ("[v6]:PORT" for IPv6); membership calls it whenever it
  // learns or changes. A different address closes the node's current connection: its calls fail
  // as on a lost connection. An unusable address is logged, and calls to the node then fail with
  // kUnavailable naming it.
  void SetPeerAddress(const std::string& node, const std::string& host_port);

  // True while a handshaken connection to `node` is open.
  bool Connected(const std::string& node) const;

  // Called with (node, true) when a connection to `node` completes its handshake and (node, false)
  // when such a connection is lost or closed. Failed connect attempts fire nothing. For the
  // failure detector.
  using PeerStateFn = std::function<void(const std::string& node, bool up)>;
  void SetPeerStateCallback(PeerStateFn fn) { on_peer_state_ = std::move(fn); }

  const PeerClientStats& stats() const { return stats_; }

  // PeerTransport.
  void ReplicaWrite(const std::string& peer, std::string_view keyspace, std::string_view key,
                    const VersionedObject& object, int64_t deadline_us, WriteDone done) override;
  void FallbackWrite(const std::string& peer, const std::string& owner, std::string_view keyspace,
                     std::string_view key, const VersionedObject& object, int64_t deadline_us,
                     WriteDone done) override;
  void ReplicaRead(const std::string& peer, std::string_view keyspace, std::string_view key,
                   int64_t deadline_us, ReadDone done) override;
  // Sent as a put (or del) with forwarded set. timeoutMs tells the receiving coordinator the time
  // left to the deadline less a margin, so its own timeout answer (which says what it knows) gets
  // back before ours fires; write.options.timeout_ms, when set, caps it. The reply's `object` is
  // empty: the wire carries only the context and the sibling count.
  void ForwardWrite(const std::string& peer, const ForwardedWrite& write, int64_t deadline_us,
                    ForwardDone done) override;
  void ReplicaScan(const std::string& peer, const ScanSpec& spec, int64_t deadline_us,
                   ScanDone done) override;

 private:
  struct Call;
  struct Peer;
  class Link;
  enum class Kind { kReplicaWrite, kReplicaRead, kForwardPut, kForwardDel, kReplicaScan };

  using AnyDone = std::variant<WriteDone, ReadDone, ForwardDone, ScanDone>;
  // Builds the request's frame under `id`. `payload_bytes`: about how many bytes of blobs `fill`
  // sets (keys, values, objects), to size the frame's builder.
  using FrameFn = std::function<void(wire::Frame::Builder frame)>;
  void Submit(const std::string& peer_name, Kind kind, AnyDone done, int64_t deadline_us,
              size_t payload_bytes, const FrameFn& fill);

  // Removes a pending call from every structure that knows it and cancels its timer; null when
  // it was answered already.
  std::unique_ptr<Call> Take(uint64_t id);
  // Answers a taken call with a failure now.
  static void Deliver(Call& call, const Status& status);
  // Answers a call with `status` on a later turn of the loop. For failures found while the caller
  // is still inside a call of ours.
  void DeliverLater(std::unique_ptr<Call> call, Status status);
  void OnDeadline(uint64_t id);
  // Deadlines: one timer, armed for the earliest pending call's deadline, instead of one timer per
  // call (each cost allocations and, once answered, a cancelled handler's run). Answered calls'
  // entries stay in the heap until they come up; CompactDeadlines drops them when they pile up.
  void AddDeadline(uint64_t id, int64_t at_us);
  void ArmSweep(int64_t at_us);
  void Sweep();
  void CompactDeadlines();

  void Connect(Peer* peer);
  void OnConnected(const std::shared_ptr<Link>& link, const boost::system::error_code& ec);
  void Read(const std::shared_ptr<Link>& link);
  void OnRead(const std::shared_ptr<Link>& link, const boost::system::error_code& ec, size_t n);
  void OnHandshake(const std::shared_ptr<Link>& link, wire::Frame::Reader frame);
  void OnAnswer(const std::shared_ptr<Link>& link, wire::Frame::Reader frame);
  // Sends what waits, as far as the window allows, when no write is active.
  void Pump(Peer* peer);
  // Pumps on a later turn of the loop, so that the calls made in this turn (the replica writes of
  // every put read from one client buffer) go out in one gathered write, not one write each.
  void PumpLater(const std::shared_ptr<Link>& link);
  void OnWritten(const std::shared_ptr<Link>& link, const boost::system::error_code& ec);
  enum class CloseKind {
    kConnectFailed,  // never completed the handshake: backoff, waiting calls get `why`
    kLost,           // was up: sent calls fail by the in-doubt rules, waiting ones kUnavailable
    kReplace,        // only abandoned requests on it: waiting calls move to a new connection
  };
  // Closes `link` and answers its calls (later, when `defer`, since a caller is inside a call).
  // `link` is taken by value: callers pass peer->link, which Close resets.
  void Close(std::shared_ptr<Link> link, CloseKind kind, const Status& why, bool defer);

  boost::asio::io_context* const io_;
  const Clock* const clock_;
  Logger* const log_;
  const PeerClientOptions options_;
  boost::asio::ip::address bind_address_;
  bool bind_ok_ = true;
  std::unordered_map<std::string, std::unique_ptr<Peer>> peers_;
  std::unordered_map<uint64_t, std::unique_ptr<Call>> calls_;
  uint64_t next_id_ = 1;  // request ids, hello ids included; never 0, never reused
  PeerStateFn on_peer_state_;
  PeerClientStats stats_;
  bool shutting_down_ = false;
  struct Deadline {
    int64_t at_us;
    uint64_t id;
  };
  struct LaterFirst {
    bool operator()(const Deadline& a, const Deadline& b) const { return a.at_us > b.at_us; }
  };
  std::priority_queue<Deadline, std::vector<Deadline>, LaterFirst> deadlines_;
  Timers::TimerId sweep_timer_ = 0;  // 0: none armed
  int64_t sweep_at_us_ = 0;          // the deadline sweep_timer_ is armed for
  // Declared last: destroyed first, so no deadline or deferred answer fires into a half-destroyed
  // PeerClient.
  AsioTimers timers_;
};

}  // namespace ringkv

#endif  // RINGKV_NODE_SERVER_PEER_CLIENT_H_
