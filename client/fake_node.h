// A fake ringkv node for client tests: an Asio acceptor on 127.0.0.1 (port chosen by the kernel)
// that speaks the handshake and hands every request to the test, which answers when and how it
// likes -- in any order, late, never, or by dropping the connection.
//
// `ring` requests are answered by the node itself, never passed to the handler: from
// Options::ring when set (so that several fake nodes can describe one cluster), else with an
// empty ring, which makes the client route by its contact points as before it knew rings.
//
// Thread safety: the FakeNode runs its own I/O thread. The handler runs on it; Conn::Send and
// Conn::Close may be called from any thread. Counters are atomic.
// Lifetime: a Conn may outlive its FakeNode (tests often keep them in state captured by the
// handler); after the node is destroyed, Send and Close do nothing.
#ifndef RINGKV_CLIENT_FAKE_NODE_H_
#define RINGKV_CLIENT_FAKE_NODE_H_

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "proto/frame.h"
#include "proto/ringkv.capnp.h"

namespace ringkv::fake {

// A request as the fake node saw it, copied out of its frame.
struct FakeRequest {
  uint64_t id = 0;
  wire::Frame::Which kind = wire::Frame::GET;
  std::string keyspace, key, value, context;
  uint32_t timeout_ms = 0, ttl_s = 0;
  wire::Consistency consistency = wire::Consistency::DEFAULT;
  uint8_t r = 0, w = 0;
  // createKeyspace (its name is in `keyspace`).
  uint32_t replication_factor = 0;
  bool if_not_exists = false, propagated = false;
};

// A ring answer.
struct FakeMember {
  std::string name;
  std::string address;  // "127.0.0.1:<port>"
  std::vector<int64_t> tokens;
  bool up = true;
  uint64_t host_id = 0;
  std::string status;  // RingMember.status: "" (as from an older node), NORMAL, JOINING, ...
};

struct FakeRing {
  std::vector<FakeMember> members;
  std::vector<std::pair<std::string, uint32_t>> keyspaces = {{"default", 3}};
  std::string self;
  bool unsettled = false;  // answer as a node that has not settled its ring
};

class FakeNode {
 public:
  class Conn;
  struct Loop;
  using Handler = std::function<void(const std::shared_ptr<Conn>&, const FakeRequest&)>;

  struct Options {
    std::string cluster_name = "test";
    std::string node_name = "fake";
    uint32_t in_flight_max = 128;
    // Set: answer the hello with this error and close.
    std::optional<wire::ErrorCode> refuse_handshake;
    // Answers `ring` requests; called on the node's I/O thread. Unset: an empty ring.
    std::function<FakeRing()> ring;
    // Answer `ring` as a node that predates it does: a connection-level protocol error, then close.
    bool ring_unsupported = false;
  };

  FakeNode(Options options, Handler handler);
  explicit FakeNode(Handler handler) : FakeNode(Options{}, std::move(handler)) {}
  // Closes every connection and the acceptor, then joins the I/O thread.
  ~FakeNode();
  FakeNode(const FakeNode&) = delete;
  FakeNode& operator=(const FakeNode&) = delete;

  std::string address() const;  // "127.0.0.1:<port>"
  int connections() const { return connections_->load(); }  // accepted so far
  int requests() const { return requests_->load(); }  // received so far (not hellos, not rings)
  int ring_requests() const { return ring_requests_->load(); }

 private:
  void Accept();

  const Options options_;
  Handler handler_;
  std::shared_ptr<Loop> loop_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::vector<std::weak_ptr<Conn>> conns_;  // loop thread only
  std::shared_ptr<std::atomic<int>> connections_, requests_, ring_requests_;
  uint16_t port_ = 0;
};

// The event loop shared by a FakeNode and its connections, so that a Conn kept by a test never
// outlives the io_context its socket belongs to.
struct FakeNode::Loop {
  boost::asio::io_context io;
  std::thread thread;
};

class FakeNode::Conn : public std::enable_shared_from_this<Conn> {
 public:
  Conn(std::shared_ptr<Loop> loop, const Options& options, Handler handler,
       std::shared_ptr<std::atomic<int>> requests, std::shared_ptr<std::atomic<int>> ring_requests);
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // Queues `frame` (bytes from one of the *Frame helpers below) for writing. Any thread.
  void Send(std::string frame);
  // Drops the connection without a goodbye. Any thread.
  void Close();

  // Loop thread only.
  boost::asio::ip::tcp::socket& socket() { return socket_; }
  void Start();
  void CloseNow();

 private:
  void Read();
  void Handle(proto::DecodedFrame& frame);
  void AnswerRing(uint64_t id);
  void Write();

  std::shared_ptr<Loop> loop_;  // first member: destroyed after the socket
  const Options options_;
  Handler handler_;
  std::shared_ptr<std::atomic<int>> requests_, ring_requests_;
  boost::asio::ip::tcp::socket socket_;
  proto::FrameDecoder decoder_;
  std::vector<uint8_t> buffer_ = std::vector<uint8_t>(64 * 1024);
  bool hello_done_ = false;
  std::deque<std::string> out_;
  bool writing_ = false;
  bool close_when_written_ = false;
};

// Answers, as frame bytes.
std::string GetResultFrame(uint64_t id, const std::vector<std::string>& values,
                           const std::string& context = "ctx");
std::string PutResultFrame(uint64_t id, const std::string& context, uint32_t siblings = 1);
std::string DelResultFrame(uint64_t id);
std::string InfoResultFrame(uint64_t id, const std::string& node_name);
std::string RingResultFrame(uint64_t id, const FakeRing& ring);
std::string CreateKeyspaceResultFrame(uint64_t id, bool created);
std::string ErrorFrame(uint64_t id, wire::ErrorCode code, const std::string& message,
                       uint32_t needed = 0, uint32_t alive = 0, bool in_doubt = false);

// A port on 127.0.0.1 where nothing listens (bound, read, then released), so connecting to it is
// refused at once.
uint16_t RefusedPort();

// Requests gathered by a handler, for the test thread to wait on.
class Inbox {
 public:
  void Add(const std::shared_ptr<FakeNode::Conn>& conn, const FakeRequest& request);
  // Waits until at least n requests arrived, at most `timeout_ms`. Returns whether they did.
  bool WaitFor(size_t n, int timeout_ms = 10000);
  std::vector<std::pair<std::shared_ptr<FakeNode::Conn>, FakeRequest>> Take();
  size_t size();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<std::shared_ptr<FakeNode::Conn>, FakeRequest>> items_;
};

}  // namespace ringkv::fake

#endif  // RINGKV_CLIENT_FAKE_NODE_H_
