#include "node/server/cql_listener.h"

// Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility> (DESIGN.md §9).
#include <fmt/format.h>
#include <boost/asio.hpp>
#include <utility>

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>

#include "cql/native/conversation.h"
#include "node/server/acceptor.h"
#include "ringkv/client.h"

namespace ringkv {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using cql::CqlResult;
using cql::native::ClusterSnapshot;
using cql::native::Conversation;
using cql::native::FrameHeader;
using cql::native::HeaderCheck;
using cql::native::kHeaderBytes;

namespace {

constexpr size_t kReadChunkBytes = 64 * 1024;
// The system tables are read by every driver connection (a control connection reads
// system.local and system.peers together): the ring behind them is fetched at most this often.
constexpr auto kSnapshotMaxAge = std::chrono::seconds(1);
// How often the ring is compared with the last look, for STATUS_CHANGE / TOPOLOGY_CHANGE.
constexpr auto kRingWatchPeriod = std::chrono::seconds(1);

int32_t PortOf(const std::string& address) {
  const auto colon = address.rfind(':');
  return colon == std::string::npos ? 0 : std::atoi(address.c_str() + colon + 1);
}

}  // namespace

class CqlConnection;

class CqlListener::Impl {
 public:
  Impl(Logger* log, CqlListenerOptions options)
      : log_(log),
        options_(std::move(options)),
        client_(ClientOptionsFor(options_)),
        pool_(options_.workers),
        acceptor_(io_) {}

  static ClientOptions ClientOptionsFor(const CqlListenerOptions& o) {
    ClientOptions c;
    c.contact_points = {o.node_address};
    c.client_name = "cql-listener";
    return c;
  }

  Status Start();
  void Close();
  void Stop();
  void Accept();
  void Forget(CqlConnection* c);
  void Broadcast(uint8_t kind, const std::string& event);
  // Every kRingWatchPeriod, the ring as this node sees it, turned into STATUS_CHANGE and
  // TOPOLOGY_CHANGE events for the connections that registered for them.
  void WatchRing();
  void OnRing(const RingInfo& ring);
  CqlResult<ClusterSnapshot> Snapshot();

  Logger* const log_;
  const CqlListenerOptions options_;
  // Destroyed last: sessions and in-flight statements use it until the pool is joined.
  Client client_;
  cql::native::PreparedCache prepared_;
  std::atomic<uint64_t> schema_generation_{0};
  asio::io_context io_{1};
  asio::thread_pool pool_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  int32_t port_offset_ = 0;
  std::thread io_thread_;
  bool stopped_ = false;
  std::unordered_set<std::shared_ptr<CqlConnection>> connections_;  // io thread only
  asio::steady_timer watch_timer_{io_};
  bool watching_ = false;  // a Ring request in flight (io thread)
  bool closed_ = false;    // io thread: Close() ran; the watch stops
  struct Seen {
    std::string address;  // ringkv HOST:PORT
    bool up = false;
  };
  std::optional<std::map<std::string, Seen>> seen_;  // io thread: the ring at the last watch

  std::mutex snapshot_mu_;
  std::optional<ClusterSnapshot> snapshot_;  // GUARDED_BY(snapshot_mu_)
  std::chrono::steady_clock::time_point snapshot_at_;
};

// One driver connection. Socket, buffers and counters belong to the I/O thread; the
// conversation's requests run on the worker pool (see Dispatch).
class CqlConnection : public std::enable_shared_from_this<CqlConnection> {
 public:
  CqlConnection(CqlListener::Impl* owner, tcp::socket socket)
      : owner_(owner),
        socket_(std::move(socket)),
        strand_(asio::make_strand(owner->pool_.get_executor())),
        conversation_(cql::native::ConversationContext{
            &owner->client_, &owner->prepared_, [owner] { return owner->Snapshot(); },
            owner->options_.limits,
            owner->options_.credentials ? &*owner->options_.credentials : nullptr,
            &owner->schema_generation_, owner->options_.tombstone_grace_s}),
        timer_(owner->io_) {
    boost::system::error_code ec;
    socket_.set_option(tcp::no_delay(true), ec);
  }

  void Start() {
    Read();
    ArmTimer();
  }

  // An EVENT of kind `kind`, if the connection registered for it.
  void SendEvent(uint8_t kind, const std::string& frame) {
    if (registered_events_ & kind) Send(frame, false);
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    timer_.cancel();
    owner_->Forget(this);
  }

 private:
  void Read() {
    if (reading_ || closed_ || refused_ || Full()) return;
    reading_ = true;
    socket_.async_read_some(asio::buffer(chunk_),
                            [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                              self->reading_ = false;
                              if (ec) {
                                self->Close();
                                return;
                              }
                              self->in_.append(self->chunk_.data(), n);
                              self->progress_at_ = std::chrono::steady_clock::now();
                              self->Dispatch();
                              self->Read();
                              self->ArmTimer();
                            });
  }

  // The deadline the connection is held to now: STARTUP (and authentication) within
  // startup_timeout_ms of the accept; then a frame once begun must progress within
  // frame_timeout_ms; none while idle between frames. Re-armed on every read and answer.
  void ArmTimer() {
    using std::chrono::milliseconds;
    if (closed_) return;
    std::optional<std::chrono::steady_clock::time_point> deadline;
    const char* why = "";
    if (!ready_) {
      deadline = accepted_at_ + milliseconds(owner_->options_.startup_timeout_ms);
      why = "did not complete STARTUP";
    } else if (!in_.empty() && queued_ == 0) {
      // (With answers owed, a paused read is this side's doing, not a stall of the client's.)
      deadline = progress_at_ + milliseconds(owner_->options_.frame_timeout_ms);
      why = "stalled in the middle of a frame";
    }
    if (!deadline) {
      timer_.cancel();
      return;
    }
    timer_.expires_at(*deadline);
    timer_.async_wait([self = shared_from_this(), why](boost::system::error_code ec) {
      if (ec || self->closed_) return;  // re-armed or closed meanwhile
      RINGKV_LOG(self->owner_->log_, kInfo, "cql: closing a connection that {}", why);
      self->Close();
    });
  }

  // Hands every complete frame in the buffer to the workers (statements) or the strand (the
  // rest), in arrival order.
  // Whether the connection holds as many requests (or request bytes, bodies handed to workers
  // plus what is buffered) as it may: reads pause, and frames wait in the buffer.
  bool Full() const {
    // One frame of the largest size (and a read's worth past it) always fits.
    const size_t bytes_max =
        std::max<size_t>(owner_->options_.requests_queued_bytes_max,
                         size_t{owner_->options_.limits.body_bytes_max} + 2 * kReadChunkBytes);
    return queued_ >= owner_->options_.requests_queued_max ||
           queued_bytes_ + in_.size() >= bytes_max;
  }

  void Dispatch() {
    while (!refused_ && !in_.empty() && queued_ < owner_->options_.requests_queued_max) {
      // v1 and v2 headers take 8 bytes, not 9: enough to refuse them (the 9th byte, which
      // DecodeHeader reads, does not matter for a refusal).
      const bool old_version = (static_cast<uint8_t>(in_[0]) & 0x7f) <= 2;
      const size_t header_bytes = old_version ? kHeaderBytes - 1 : kHeaderBytes;
      if (in_.size() < header_bytes) return;
      FrameHeader h;
      std::string head = in_.substr(0, kHeaderBytes);
      head.resize(kHeaderBytes, '\0');
      const HeaderCheck check = cql::native::DecodeHeader(head, owner_->options_.limits, &h);
      if (check != HeaderCheck::kOk) {
        // Nothing after a bad header can be framed: answer, then close.
        refused_ = true;
        in_.clear();
        Send(Conversation::Refuse(check, h, owner_->options_.limits), /*close_after=*/true);
        return;
      }
      if (in_.size() - kHeaderBytes < h.length) return;  // the rest of the frame is coming
      if (!in_flight_.insert(h.stream).second) {
        // Two answers under one stream id would be ambiguous to the driver: its bookkeeping is
        // broken, so the connection ends here.
        refused_ = true;
        in_.clear();
        Send(cql::native::EncodeResponse(
                 h.stream, cql::native::Opcode::kError, 0,
                 cql::native::ErrorBody(cql::native::ErrorCode::kProtocol,
                                        fmt::format("stream id {} is already in use by a request "
                                                    "in flight",
                                                    h.stream))),
             /*close_after=*/true);
        return;
      }
      std::string body = in_.substr(kHeaderBytes, h.length);
      in_.erase(0, kHeaderBytes + h.length);
      ++queued_;
      queued_bytes_ += h.length;
      auto run = [self = shared_from_this(), h, body = std::move(body)] {
        std::string event;
        std::string response = self->conversation_.Handle(h, body, &event);
        const uint8_t registered = self->conversation_.registered_events();
        const bool ready = self->conversation_.ready();
        asio::post(self->owner_->io_, [self, h, registered, ready, response = std::move(response),
                                       event = std::move(event)]() mutable {
          --self->queued_;
          self->queued_bytes_ -= h.length;
          self->ready_ = self->ready_ || ready;
          self->in_flight_.erase(h.stream);
          self->registered_events_ = registered;
          self->Send(std::move(response), false);
          self->ArmTimer();
          if (!event.empty()) self->owner_->Broadcast(cql::native::kEventSchema, event);
          if (!Conversation::IsStatement(h.opcode)) --self->control_queued_;
          self->Dispatch();  // frames that waited for room
          self->Read();
        });
      };
      // Statements run in parallel on the pool, each on its own Session; the rest (STARTUP,
      // AUTH_RESPONSE, REGISTER, OPTIONS) in order on the strand, and statements that arrive
      // while one of those waits queue behind it, so a pipelined STARTUP + QUERY keeps its order.
      if (Conversation::IsStatement(h.opcode) && control_queued_ == 0) {
        asio::post(owner_->pool_, std::move(run));
      } else {
        if (!Conversation::IsStatement(h.opcode)) ++control_queued_;
        asio::post(strand_, std::move(run));
      }
    }
  }

  void Send(std::string frame, bool close_after) {
    if (closed_) return;
    close_after_write_ = close_after_write_ || close_after;
    out_.push_back(std::move(frame));
    Flush();
  }

  void Flush() {
    if (writing_ || closed_) return;
    if (out_.empty()) {
      if (close_after_write_) Close();
      return;
    }
    writing_ = true;
    asio::async_write(socket_, asio::buffer(out_.front()),
                      [self = shared_from_this()](boost::system::error_code ec, size_t) {
                        self->writing_ = false;
                        if (ec) {
                          self->Close();
                          return;
                        }
                        self->out_.pop_front();
                        self->Flush();
                      });
  }

  CqlListener::Impl* const owner_;
  tcp::socket socket_;
  asio::strand<asio::thread_pool::executor_type> strand_;
  Conversation conversation_;  // thread-safe as Conversation::Handle says
  std::array<char, kReadChunkBytes> chunk_;
  std::string in_;
  std::deque<std::string> out_;
  size_t queued_ = 0;                      // requests handed to the workers and not yet answered
  size_t control_queued_ = 0;              // of which not statements (see Dispatch)
  size_t queued_bytes_ = 0;                // their bodies' bytes
  std::unordered_set<int16_t> in_flight_;  // their stream ids
  uint8_t registered_events_ = 0;          // the conversation's, as of its last answer
  bool ready_ = false;                     // the conversation's, as of its last answer
  asio::steady_timer timer_;               // the startup and stalled-frame deadlines
  const std::chrono::steady_clock::time_point accepted_at_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point progress_at_ = accepted_at_;  // bytes last arrived
  bool reading_ = false, writing_ = false, closed_ = false;
  bool refused_ = false, close_after_write_ = false;
};

Status CqlListener::Impl::Start() {
  if (Status s = OpenAcceptor(&acceptor_, options_.host, options_.port, " for CQL"); !s.ok()) {
    return s;
  }
  port_ = acceptor_.local_endpoint().port();
  port_offset_ = static_cast<int32_t>(port_) - PortOf(options_.node_address);
  Accept();
  WatchRing();
  io_thread_ = std::thread([this] {
    auto guard = asio::make_work_guard(io_);
    io_.run();
  });
  return Status::Ok();
}

void CqlListener::Impl::Accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec != asio::error::operation_aborted) {
        RINGKV_LOG(log_, kWarn, "cql: accept failed: {}", ec.message());
        Accept();
      }
      return;
    }
    if (connections_.size() >= options_.connections_max) {
      RINGKV_LOG(log_, kWarn, "cql: {} connections open, refusing another", connections_.size());
      boost::system::error_code ignored;
      socket.close(ignored);
    } else {
      auto c = std::make_shared<CqlConnection>(this, std::move(socket));
      connections_.insert(c);
      c->Start();
    }
    Accept();
  });
}

void CqlListener::Impl::Forget(CqlConnection* c) {
  for (auto it = connections_.begin(); it != connections_.end(); ++it) {
    if (it->get() == c) {
      connections_.erase(it);
      return;
    }
  }
}

void CqlListener::Impl::Broadcast(uint8_t kind, const std::string& event) {
  auto open = connections_;  // a failed send closes (and forgets) a connection
  for (const auto& c : open) c->SendEvent(kind, event);
}

void CqlListener::Impl::WatchRing() {
  if (closed_) return;
  watch_timer_.expires_after(kRingWatchPeriod);
  watch_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;  // closing
    // Looked at whether or not anyone listens: a connection that registers gets every change
    // after it registered, even one this node noticed before the listener's first look.
    if (!watching_) {
      watching_ = true;
      asio::post(pool_, [this] {
        auto ring = client_.Ring();  // blocks: on a worker, never on the I/O thread
        asio::post(io_, [this, ring = std::move(ring)] {
          watching_ = false;
          if (ring.ok()) OnRing(ring.value());
        });
      });
    }
    WatchRing();
  });
}

void CqlListener::Impl::OnRing(const RingInfo& ring) {
  std::map<std::string, Seen> now;
  for (const RingMemberInfo& m : ring.members) now[m.name] = Seen{m.address, m.up};
  // Before the first look nothing is known: every member is new then, and one already down is
  // also reported down (a node killed before that look must still be heard of as down).
  const std::map<std::string, Seen> before = seen_.value_or(std::map<std::string, Seen>{});
  seen_ = now;
  auto send = [this](uint8_t kind, std::string_view type, std::string_view change,
                     const std::string& address) {
    const auto colon = address.rfind(':');
    in_addr ip{};
    if (colon == std::string::npos ||
        inet_pton(AF_INET, address.substr(0, colon).c_str(), &ip) != 1) {
      return;  // not an IPv4 address: no [inet] to send
    }
    const std::string ipv4(reinterpret_cast<const char*>(&ip), 4);
    const int32_t port = PortOf(address) + port_offset_;
    Broadcast(kind,
              cql::native::EncodeResponse(-1, cql::native::Opcode::kEvent, 0,
                                          cql::native::NodeEventBody(type, change, ipv4, port)));
  };
  for (const auto& [name, s] : now) {
    auto it = before.find(name);
    if (it == before.end()) {
      send(cql::native::kEventTopology, "TOPOLOGY_CHANGE", "NEW_NODE", s.address);
      if (!s.up) send(cql::native::kEventStatus, "STATUS_CHANGE", "DOWN", s.address);
    } else if (it->second.up != s.up) {
      send(cql::native::kEventStatus, "STATUS_CHANGE", s.up ? "UP" : "DOWN", s.address);
    }
  }
  for (const auto& [name, s] : before) {
    if (now.count(name) == 0) {
      send(cql::native::kEventTopology, "TOPOLOGY_CHANGE", "REMOVED_NODE", s.address);
    }
  }
}

void CqlListener::Impl::Close() {
  asio::post(io_, [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
    closed_ = true;
    watch_timer_.cancel();
    auto open = connections_;
    for (const auto& c : open) c->Close();
  });
}

void CqlListener::Impl::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (io_thread_.joinable()) {
    Close();
    asio::post(io_, [this] { io_.stop(); });
    io_thread_.join();
  }
  // Statements running now finish (each is bounded by the client's request timeout) before the
  // client they use goes away.
  pool_.join();
  connections_.clear();
}

CqlResult<ClusterSnapshot> CqlListener::Impl::Snapshot() {
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  const auto now = std::chrono::steady_clock::now();
  if (snapshot_ && now - snapshot_at_ < kSnapshotMaxAge) return *snapshot_;
  auto ring = client_.Ring();
  // Not ready (the node has not settled its ring yet): the partial picture already served is
  // better than none.
  if (!ring.ok() && snapshot_) return *snapshot_;
  if (!ring.ok()) {
    cql::CqlError e;
    e.kind = cql::ErrorKind::kServer;
    e.message = "cannot read the ring: " + ring.error().ToString();
    return e;
  }
  snapshot_ = cql::native::SnapshotFromRing(ring.value(), options_.cluster_name, port_offset_);
  // A ring the node has not settled lists only the members it heard of so far: served, but not
  // kept, so the next query (a driver reading system.peers) asks again.
  snapshot_at_ = ring->settled ? now : std::chrono::steady_clock::time_point{};
  return *snapshot_;
}

CqlListener::CqlListener(Logger* log, CqlListenerOptions options)
    : impl_(std::make_unique<Impl>(log, std::move(options))) {}

CqlListener::~CqlListener() { Stop(); }

Status CqlListener::Start() { return impl_->Start(); }
void CqlListener::Close() { impl_->Close(); }
void CqlListener::Stop() { impl_->Stop(); }
uint16_t CqlListener::port() const { return impl_->port_; }

}  // namespace ringkv
