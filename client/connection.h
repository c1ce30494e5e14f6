// One TCP connection from the client to one node: connect (with a timeout), handshake, then many
// requests multiplexed by request id, at most in_flight_max of them outstanding, the rest queued.
//
// A Connection never retries and never completes a request: it reports each answer or failed
// attempt to its Listener (the Client), which decides. Once closed, it stays closed; the Client
// makes a new one for the next attempt.
//
// Thread safety: none. Every method and every handler runs on the client's I/O thread.
// Lifetime: held by shared_ptr (the Client's table and its own pending handlers). The Listener
// must outlive every handler, which the Client ensures by joining the I/O thread before it dies.
#ifndef RINGKV_CLIENT_CONNECTION_H_
#define RINGKV_CLIENT_CONNECTION_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <unordered_map>
#include <vector>

#include "client/address.h"
#include "client/request.h"
#include "proto/frame.h"
#include "ringkv/client.h"

namespace ringkv::client_internal {

// Requests that may wait on one connection beyond those in flight. Past it, new ones fail fast
// with kOverloaded rather than pile up until their deadlines.
inline constexpr size_t kQueuedRequestsMax = 64 * 1024;
// One socket write gathers at most this many frames / bytes, so a burst of small requests costs
// one system call without one huge value delaying everything behind it indefinitely.
inline constexpr size_t kWriteBatchFramesMax = 64;
inline constexpr size_t kWriteBatchBytesMax = 4u << 20;
inline constexpr size_t kReadChunkBytes = 64 * 1024;
// Largest answer accepted from a node. A get returns every live sibling, so its answer can be many
// values long (up to kSiblingsMax of them): the request-sized default of proto::FrameLimits would
// turn two concurrent 16 MiB writes into an unreadable key. Still bounded, because a node is a
// peer across a network boundary.
inline constexpr size_t kAnswerBytesMax = 256u << 20;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // The node answered `request` (with a result or an `error` frame). The connection has let go
    // of it.
    virtual void OnAnswer(const std::shared_ptr<Request>& request,
                          std::unique_ptr<proto::DecodedFrame> frame) = 0;
    // This attempt of `request` failed without an answer. `sent`: its bytes were handed to the
    // socket, so the node may have acted on it.
    virtual void OnAttemptFailed(const std::shared_ptr<Request>& request, const Error& error,
                                 bool sent) = 0;
    // The handshake completed: the node is reachable and speaks our protocol.
    virtual void OnReady(Connection* connection) = 0;
    // The connection closed. Called once, before OnAttemptFailed for the requests it held.
    virtual void OnClosed(Connection* connection, const Error& error) = 0;
  };

  // `index` is the listener's name for the node (the client's endpoint number). `options` and
  // `listener` must outlive the connection. Does nothing until the first Submit.
  Connection(boost::asio::io_context& io, size_t index, HostPort address,
             const ClientOptions& options, Listener* listener);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Takes an attempt of `request`: connects first if needed, then sends it when a slot is free.
  // May report OnAttemptFailed before returning (closed connection, full queue).
  // REQUIRES: request->stage == kIdle, !request->done.
  void Submit(const std::shared_ptr<Request>& request);

  // `request` completed elsewhere (deadline, cancellation): forget it. If it was already written,
  // its in-flight slot stays taken until the node answers or the connection closes, because the
  // node still counts it against its own in-flight limit.
  // REQUIRES: request->connection == this.
  void Abandon(Request* request);

  // Closes the socket and fails every attempt it holds with `why`. Idempotent.
  void Close(const Error& why);

  size_t index() const { return index_; }
  const HostPort& address() const { return address_; }
  bool closed() const { return state_ == State::kClosed; }

 private:
  enum class State : uint8_t { kIdle, kConnecting, kHandshaking, kReady, kClosed };

  void Start();
  void OnResolved(const boost::system::error_code& ec,
                  const boost::asio::ip::tcp::resolver::results_type& endpoints);
  void OnConnected(const boost::system::error_code& ec);
  void Read();
  void OnRead(const boost::system::error_code& ec, size_t n);
  void HandleFrame(std::unique_ptr<proto::DecodedFrame> frame);
  void HandleHandshake(wire::Frame::Reader frame);
  void HandleAnswer(std::unique_ptr<proto::DecodedFrame> frame);
  // Moves queued requests into free in-flight slots and starts a write.
  void Pump();
  // Starts a gathered write on a later turn of the loop, so the requests queued in this turn go
  // out in one write call.
  void WriteLater();
  void Write();
  void OnWritten(const boost::system::error_code& ec);
  // An Error of `code` whose message names this node.
  Error Fail(ErrorCode code, std::string_view what) const;

  boost::asio::io_context& io_;
  const size_t index_;
  const HostPort address_;
  const ClientOptions& options_;
  Listener* const listener_;

  State state_ = State::kIdle;
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer connect_timer_;
  proto::FrameDecoder decoder_{proto::FrameLimits{.frame_bytes_max = kAnswerBytesMax}};
  std::vector<uint8_t> read_buffer_;

  uint64_t next_wire_id_ = 1;  // ids are per connection; 0 is reserved for connection errors
  uint64_t hello_id_ = 0;
  // Negotiated in the handshake: the smaller of ours and the node's.
  size_t in_flight_max_ = 1;
  size_t frame_bytes_max_ = 0;

  // Requests waiting for a slot. Entries whose request completed meanwhile are skipped lazily
  // (Abandon is O(1)); waiting_live_ counts the others.
  std::deque<std::shared_ptr<Request>> waiting_;
  size_t waiting_live_ = 0;
  // Requests holding a slot, by wire id. A null entry is an orphan: written, then abandoned; it
  // holds its slot until the node answers.
  std::unordered_map<uint64_t, std::shared_ptr<Request>> in_flight_;
  size_t orphans_ = 0;
  // Slot holders whose bytes are not yet handed to the socket (lazily skipped like waiting_).
  std::deque<std::shared_ptr<Request>> write_queue_;
  // The frames of the write in progress, kept alive until its handler runs.
  std::vector<std::shared_ptr<const kj::Array<capnp::word>>> writing_;
  std::vector<boost::asio::const_buffer> gather_;  // the active write's buffers (Write)
  bool write_active_ = false;
  bool write_posted_ = false;  // a Write is posted to the loop (WriteLater)
};

}  // namespace ringkv::client_internal

#endif  // RINGKV_CLIENT_CONNECTION_H_
