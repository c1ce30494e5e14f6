#include "node/server/peer_client.h"

#include <capnp/message.h>
#include <fmt/format.h>
#include <kj/exception.h>

#include <algorithm>
#include <cassert>
#include <chrono>
#include <optional>
#include <set>
#include <span>
#include <unordered_set>
#include <vector>

#include "node/server/wire_convert.h"
#include "storage/object_codec.h"

namespace ringkv {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kReadChunkBytes = 64 * 1024;
// One gathered write takes at most this many frames or (beyond its first frame) bytes, so a burst
// of requests does not make one write call unbounded.
constexpr size_t kWriteGatherFramesMax = 64;
constexpr size_t kWriteGatherBytesMax = 4u << 20;
// A forwarded write's receiving coordinator gets the time left less a tenth of it, at most this
// much less: enough for its timeout answer to travel back before our own deadline fires.
constexpr int64_t kForwardMarginMsMax = 100;

std::string_view View(capnp::Data::Reader d) {
  return {reinterpret_cast<const char*>(d.begin()), d.size()};
}
std::string_view View(capnp::Text::Reader t) { return {t.cStr(), t.size()}; }
capnp::Data::Reader AsData(std::string_view s) {
  return {reinterpret_cast<const kj::byte*>(s.data()), s.size()};
}
// Text must be NUL-terminated, which a string_view need not be.
capnp::Text::Reader AsText(const std::string& s) { return {s.c_str(), s.size()}; }

// The two enums list the same modes in the same order.
wire::QuorumMode ToWire(QuorumMode q) { return static_cast<wire::QuorumMode>(q); }

wire::Consistency ToWire(Consistency c) {
  switch (c) {
    case Consistency::kDefault:
      return wire::Consistency::DEFAULT;
    case Consistency::kOne:
      return wire::Consistency::ONE;
    case Consistency::kTwo:
      return wire::Consistency::TWO;
    case Consistency::kThree:
      return wire::Consistency::THREE;
    case Consistency::kQuorum:
      return wire::Consistency::QUORUM;
    case Consistency::kAll:
      return wire::Consistency::ALL;
    case Consistency::kAny:
      return wire::Consistency::ANY;
  }
  return wire::Consistency::DEFAULT;
}

Status NoConnection(std::string message) { return Status::Unavailable(std::move(message), 0, 0); }

// "IP:PORT" or "[IPv6]:PORT".
Status ParseEndpoint(const std::string& s, tcp::endpoint* out) {
  const auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0) return Status::InvalidArgument("not IP:PORT");
  std::string host = s.substr(0, colon);
  const std::string port = s.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) < 1 ||
      std::stoi(port) > 65535) {
    return Status::InvalidArgument(fmt::format("'{}' is not a port", port));
  }
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) return Status::InvalidArgument(fmt::format("'{}' is not an IP address", host));
  *out = tcp::endpoint(address, static_cast<uint16_t>(std::stoi(port)));
  return Status::Ok();
}

}  // namespace

// One call from the time it is made until it is answered.
struct PeerClient::Call {
  uint64_t id = 0;  // its request id on the wire
  Kind kind = Kind::kReplicaRead;
  AnyDone done;
  // Set while the call counts against its peer (pending, waiting, queued bytes); cleared by Take.
  Peer* peer = nullptr;
  kj::Array<capnp::word> frame;  // until handed to a write
  size_t bytes = 0;
  int64_t deadline_us = 0;
  Timers::TimerId timer = 0;      // the deferred answer (DeliverLater)
  bool sent = false;              // handed to a write: the peer may have seen it
  std::optional<Status> decided;  // a failure waiting for its turn on the loop (DeliverLater)

  bool is_write() const { return kind != Kind::kReplicaRead && kind != Kind::kReplicaScan; }
};

struct PeerClient::Peer {
  std::string name;
  std::string address;                    // as membership gave it
  std::optional<tcp::endpoint> endpoint;  // unset: the address did not parse
  std::string address_error;
  std::shared_ptr<Link> link;  // the current connection, if any
  std::set<uint64_t> waiting;  // ids of calls not yet sent, oldest first
  size_t pending = 0;          // calls not yet answered: waiting and sent
  size_t queued_bytes = 0;     // frames waiting, plus those being written
  int64_t retry_at_us = 0;     // no connect attempt before this (Clock::MonoUs)
  int64_t backoff_ms = 0;      // the backoff after the last failure; 0: none
  std::string last_failure;
};

// A connection to a peer. Its asio handlers hold it by shared_ptr and reach `owner` and `peer`
// only while it is not closed: closing happens before either could go away.
class PeerClient::Link {
 public:
  enum class State { kConnecting, kReady, kClosed };  // kConnecting covers the handshake

  Link(asio::io_context& io, PeerClient* owner, Peer* peer, const proto::FrameLimits& limits)
      : owner(owner),
        peer(peer),
        socket(io),
        connect_timer(io),
        decoder(limits),
        read_buf(kReadChunkBytes) {}

  PeerClient* const owner;
  Peer* const peer;
  tcp::socket socket;
  asio::steady_timer connect_timer;
  proto::FrameDecoder decoder;
  std::vector<uint8_t> read_buf;
  State state = State::kConnecting;
  uint64_t hello_id = 0;
  // Sent and not yet answered by the peer, abandoned ones included: each holds a peer slot.
  std::unordered_set<uint64_t> outstanding;
  size_t abandoned = 0;          // of `outstanding`: calls already answered with kTimeout
  size_t window = 1;             // requests on the wire at most
  uint64_t frame_bytes_max = 0;  // the peer's; 0: it named none
  std::vector<kj::Array<capnp::word>> writing;  // owned by the active write
  std::vector<asio::const_buffer> gather;        // the active write's buffers (Pump)
  size_t writing_bytes = 0;  // request bytes in `writing` (the hello is not counted)
  bool write_active = false;
  bool pump_posted = false;  // a Pump is posted to the loop (PumpLater)
};

PeerClient::PeerClient(asio::io_context* io, const Clock* clock, Logger* log,
                       PeerClientOptions options)
    : io_(io), clock_(clock), log_(log), options_(std::move(options)), timers_(io) {
  if (!options_.bind_host.empty()) {
    boost::system::error_code ec;
    bind_address_ = asio::ip::make_address(options_.bind_host, ec);
    if (ec) {
      bind_ok_ = false;
      RINGKV_LOG(log_, kError, "peer connections: bind address '{}' is not an IP address",
                 options_.bind_host);
    }
  }
}

PeerClient::~PeerClient() {
  shutting_down_ = true;
  for (auto& [name, peer] : peers_) {
    if (!peer->link) continue;
    auto& link = *peer->link;
    link.state = Link::State::kClosed;
    boost::system::error_code ignored;
    link.socket.close(ignored);
    link.connect_timer.cancel();
    peer->link = nullptr;
  }
  // A callback run here that makes a new call is answered inside that call (Submit), so this
  // loop ends.
  std::vector<uint64_t> ids;
  for (const auto& [id, call] : calls_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  for (uint64_t id : ids) {
    auto call = Take(id);
    if (!call) continue;
    Deliver(*call, call->decided ? *call->decided : NoConnection("shutting down"));
  }
  assert(calls_.empty());
}

void PeerClient::SetPeerAddress(const std::string& node, const std::string& host_port) {
  auto [it, inserted] = peers_.try_emplace(node);
  if (inserted) {
    it->second = std::make_unique<Peer>();
    it->second->name = node;
  } else if (it->second->address == host_port) {
    return;
  }
  Peer* peer = it->second.get();
  const std::string old = peer->address;
  peer->address = host_port;
  tcp::endpoint endpoint;
  if (Status s = ParseEndpoint(host_port, &endpoint); s.ok()) {
    peer->endpoint = endpoint;
    peer->address_error.clear();
  } else {
    peer->endpoint.reset();
    peer->address_error = fmt::format("address '{}': {}", host_port, s.message());
    RINGKV_LOG(log_, kWarn, "peer {}: unusable {}", node, peer->address_error);
  }
  // A new address deserves an attempt now, whatever the old one's failures were.
  peer->backoff_ms = 0;
  peer->retry_at_us = 0;
  if (peer->link) {
    RINGKV_LOG(log_, kInfo, "peer {} moved from {} to {}; closing the old connection", node, old,
               host_port);
    Close(peer->link, CloseKind::kLost,
          NoConnection(fmt::format("the address of {} changed to {}", node, host_port)),
          /*defer=*/true);
  }
}

bool PeerClient::Connected(const std::string& node) const {
  auto it = peers_.find(node);
  return it != peers_.end() && it->second->link && it->second->link->state == Link::State::kReady;
}

// ---- calls ----------------------------------------------------------------------------------

void PeerClient::ReplicaWrite(const std::string& peer, std::string_view keyspace,
                              std::string_view key, const VersionedObject& object,
                              int64_t deadline_us, WriteDone done) {
  FallbackWrite(peer, std::string(), keyspace, key, object, deadline_us, std::move(done));
}

void PeerClient::FallbackWrite(const std::string& peer, const std::string& owner,
                               std::string_view keyspace, std::string_view key,
                               const VersionedObject& object, int64_t deadline_us,
                               WriteDone done) {
  // One message for both: a ReplicaWrite naming the owner it is a hint for, when it is one.
  const std::string ks(keyspace);
  const std::string encoded = EncodeObject(object);
  Submit(peer, Kind::kReplicaWrite, std::move(done), deadline_us,
         ks.size() + key.size() + encoded.size() + owner.size(), [&](wire::Frame::Builder f) {
           auto req = f.initReplicaWrite();
           req.setKeyspace(AsText(ks));
           req.setKey(AsData(key));
           req.setObject(AsData(encoded));
           if (!owner.empty()) req.setHintFor(AsText(owner));
         });
}

void PeerClient::ReplicaRead(const std::string& peer, std::string_view keyspace,
                             std::string_view key, int64_t deadline_us, ReadDone done) {
  const std::string ks(keyspace);
  Submit(peer, Kind::kReplicaRead, std::move(done), deadline_us, ks.size() + key.size(),
         [&](wire::Frame::Builder f) {
    auto req = f.initReplicaRead();
    req.setKeyspace(AsText(ks));
    req.setKey(AsData(key));
  });
}

void PeerClient::ForwardWrite(const std::string& peer, const ForwardedWrite& write,
                              int64_t deadline_us, ForwardDone done) {
  const int64_t left_ms = std::max<int64_t>((deadline_us - clock_->MonoUs()) / 1000, 0);
  int64_t timeout_ms = left_ms - std::min(left_ms / 10, kForwardMarginMsMax);
  if (write.options.timeout_ms > 0) timeout_ms = std::min(timeout_ms, write.options.timeout_ms);
  const auto wire_timeout_ms =
      static_cast<uint32_t>(std::clamp<int64_t>(timeout_ms, 1, UINT32_MAX));
  const Kind kind = write.is_delete ? Kind::kForwardDel : Kind::kForwardPut;
  const size_t payload_bytes =
      write.keyspace.size() + write.key.size() + write.value.size() + write.context.size();
  Submit(peer, kind, std::move(done), deadline_us, payload_bytes, [&](wire::Frame::Builder f) {
    if (write.is_delete) {
      auto req = f.initDel();
      req.setKeyspace(AsText(write.keyspace));
      req.setKey(AsData(write.key));
      req.setContext(AsData(write.context));
      req.setConsistency(ToWire(write.options.consistency));
      req.setW(write.options.explicit_count);
      req.setTimeoutMs(wire_timeout_ms);
      req.setForwarded(true);
      req.setTrace(write.options.trace);
      req.setQuorum(ToWire(write.options.quorum));
    } else {
      auto req = f.initPut();
      req.setKeyspace(AsText(write.keyspace));
      req.setKey(AsData(write.key));
      req.setValue(AsData(write.value));
      req.setContext(AsData(write.context));
      req.setTtlS(write.ttl_s);
      req.setConsistency(ToWire(write.options.consistency));
      req.setW(write.options.explicit_count);
      req.setTimeoutMs(wire_timeout_ms);
      req.setForwarded(true);
      req.setTrace(write.options.trace);
      req.setQuorum(ToWire(write.options.quorum));
    }
  });
}

void PeerClient::ReplicaScan(const std::string& peer, const ScanSpec& spec, int64_t deadline_us,
                             ScanDone done) {
  Submit(peer, Kind::kReplicaScan, std::move(done), deadline_us,
         spec.keyspace.size() + spec.key_prefix.size() + spec.after_key.size(),
         [&](wire::Frame::Builder f) { FillReplicaScan(f.initReplicaScan(), spec); });
}

void PeerClient::Submit(const std::string& peer_name, Kind kind, AnyDone done, int64_t deadline_us,
                        size_t payload_bytes, const FrameFn& fill) {
  auto call = std::make_unique<Call>();
  call->id = next_id_++;
  call->kind = kind;
  call->done = std::move(done);
  if (shutting_down_) {
    // Only a callback run by the destructor gets here; nothing would deliver a later answer.
    Deliver(*call, NoConnection("shutting down"));
    return;
  }
  auto it = peers_.find(peer_name);
  if (it == peers_.end()) {
    return DeliverLater(std::move(call),
                        NoConnection(fmt::format("no address known for peer {}", peer_name)));
  }
  Peer* peer = it->second.get();
  if (!peer->endpoint) {
    return DeliverLater(std::move(call), NoConnection(fmt::format("peer {} has no usable {}",
                                                                  peer_name, peer->address_error)));
  }
  const int64_t now_us = clock_->MonoUs();
  if (deadline_us <= now_us) {
    return DeliverLater(std::move(call),
                        Status::Timeout(fmt::format("the deadline passed before the request to "
                                                    "{} was sent",
                                                    peer_name),
                                        false));
  }
  if (peer->pending >= options_.in_flight_max) {
    return DeliverLater(std::move(call),
                        Status::Overloaded(fmt::format("{} requests already pending for peer {}",
                                                       peer->pending, peer_name)));
  }
  if (!peer->link && now_us < peer->retry_at_us) {
    return DeliverLater(
        std::move(call),
        NoConnection(fmt::format("no connection to {} (last attempt: {}; next in {} ms)", peer_name,
                                 peer->last_failure, (peer->retry_at_us - now_us + 999) / 1000)));
  }

  proto::FrameBuilder message(payload_bytes);
  auto root = message.initRoot<wire::Frame>();
  root.setRequestId(call->id);
  fill(root);
  call->frame = proto::EncodeFrame(message);
  call->bytes = call->frame.size() * sizeof(capnp::word);
  if (peer->queued_bytes > 0 && peer->queued_bytes + call->bytes > options_.queued_bytes_max) {
    return DeliverLater(
        std::move(call),
        Status::Overloaded(fmt::format("{} bytes already waiting to be sent to peer {} (max {})",
                                       peer->queued_bytes, peer_name, options_.queued_bytes_max)));
  }
  const Link* link = peer->link.get();
  if (link && link->state == Link::State::kReady && link->frame_bytes_max > 0 &&
      call->bytes > link->frame_bytes_max) {
    Status too_large = Status::InvalidArgument(
        fmt::format("a request of {} bytes exceeds peer {}'s frame limit of {} bytes", call->bytes,
                    peer_name, link->frame_bytes_max));
    return DeliverLater(std::move(call), std::move(too_large));
  }

  const uint64_t id = call->id;
  call->peer = peer;
  call->deadline_us = deadline_us;
  AddDeadline(id, deadline_us);
  peer->waiting.insert(id);
  ++peer->pending;
  peer->queued_bytes += call->bytes;
  calls_.emplace(id, std::move(call));
  if (!peer->link) {
    Connect(peer);
  } else {
    PumpLater(peer->link);
  }
}

void PeerClient::PumpLater(const std::shared_ptr<Link>& link) {
  if (link->pump_posted || link->write_active) return;  // the write's completion pumps
  link->pump_posted = true;
  asio::post(*io_, [link] {
    link->pump_posted = false;
    if (link->state != Link::State::kClosed) link->owner->Pump(link->peer);
  });
}

std::unique_ptr<PeerClient::Call> PeerClient::Take(uint64_t id) {
  auto it = calls_.find(id);
  if (it == calls_.end()) return nullptr;
  std::unique_ptr<Call> call = std::move(it->second);
  calls_.erase(it);
  if (call->timer != 0) timers_.Cancel(call->timer);
  call->timer = 0;
  if (Peer* peer = call->peer) {
    assert(peer->pending > 0);
    --peer->pending;
    if (!call->sent) {
      peer->waiting.erase(id);
      assert(peer->queued_bytes >= call->bytes);
      peer->queued_bytes -= call->bytes;
    }
    call->peer = nullptr;
  }
  return call;
}

void PeerClient::Deliver(Call& call, const Status& status) {
  assert(!status.ok());
  // Result<T> converts from a Status, so each kind of callback takes the failure as it is.
  std::visit([&](auto& fn) { fn(status); }, call.done);
}

void PeerClient::DeliverLater(std::unique_ptr<Call> call, Status status) {
  assert(call->peer == nullptr && call->timer == 0);
  const uint64_t id = call->id;
  call->frame = nullptr;
  call->decided = std::move(status);
  call->timer = timers_.After(0, [this, id] {
    auto c = Take(id);
    if (c) Deliver(*c, *c->decided);
  });
  calls_.emplace(id, std::move(call));
}

void PeerClient::AddDeadline(uint64_t id, int64_t at_us) {
  if (deadlines_.size() >= 2 * calls_.size() + 1024) CompactDeadlines();
  deadlines_.push(Deadline{at_us, id});
  if (sweep_timer_ == 0 || at_us < sweep_at_us_) ArmSweep(at_us);
}

void PeerClient::ArmSweep(int64_t at_us) {
  if (sweep_timer_ != 0) timers_.Cancel(sweep_timer_);
  sweep_at_us_ = at_us;
  sweep_timer_ = timers_.After(at_us - clock_->MonoUs(), [this] {
    sweep_timer_ = 0;
    Sweep();
  });
}

void PeerClient::Sweep() {
  // Due: every deadline up to the one the timer was armed for, and any the clock says has passed.
  const int64_t due_us = std::max(sweep_at_us_, clock_->MonoUs());
  while (!deadlines_.empty() && deadlines_.top().at_us <= due_us) {
    const uint64_t id = deadlines_.top().id;
    deadlines_.pop();
    auto it = calls_.find(id);
    // Answered already, or a failure waiting for its turn (DeliverLater): nothing to time out.
    if (it == calls_.end() || it->second->peer == nullptr) continue;
    OnDeadline(id);  // its callback may make calls, which add deadlines
  }
  if (!deadlines_.empty() && (sweep_timer_ == 0 || deadlines_.top().at_us < sweep_at_us_)) {
    ArmSweep(deadlines_.top().at_us);
  }
}

void PeerClient::CompactDeadlines() {
  std::vector<Deadline> live;
  live.reserve(calls_.size());
  for (const auto& [id, call] : calls_) {
    if (call->peer != nullptr) live.push_back(Deadline{call->deadline_us, id});
  }
  // The armed timer may now be early for what is left; its Sweep finds nothing due and re-arms.
  deadlines_ = decltype(deadlines_)(LaterFirst(), std::move(live));
}

void PeerClient::OnDeadline(uint64_t id) {
  auto it = calls_.find(id);
  if (it == calls_.end()) return;
  Peer* peer = it->second->peer;
  assert(peer != nullptr);
  auto call = Take(id);
  ++stats_.timeouts;
  Status status;
  if (call->sent) {
    // Sent calls are failed when their connection closes, so it is still this one, and the peer
    // still holds a slot for the request until it answers.
    assert(peer->link && peer->link->outstanding.count(id) == 1);
    ++peer->link->abandoned;
    status =
        Status::Timeout(fmt::format("no answer from {} by the deadline{}", peer->name,
                                    call->is_write() ? "; the write may have been applied" : ""),
                        call->is_write());
  } else {
    const bool connecting = peer->link && peer->link->state == Link::State::kConnecting;
    status = Status::Timeout(
        fmt::format("the request to {} was not sent by the deadline ({})", peer->name,
                    connecting ? "still connecting" : "waiting for a slot"),
        false);
  }
  Pump(peer);
  Deliver(*call, status);
}

// ---- connections ----------------------------------------------------------------------------

void PeerClient::Connect(Peer* peer) {
  assert(!peer->link && peer->endpoint);
  ++stats_.connect_attempts;
  auto link = std::make_shared<Link>(*io_, this, peer, options_.limits);
  peer->link = link;
  link->hello_id = next_id_++;

  link->connect_timer.expires_after(std::chrono::milliseconds(options_.connect_timeout_ms));
  link->connect_timer.async_wait([link](const boost::system::error_code& ec) {
    if (ec || link->state != Link::State::kConnecting) return;
    link->owner->Close(
        link, CloseKind::kConnectFailed,
        NoConnection(fmt::format("no connection to {} at {} within the connect timeout of {} ms",
                                 link->peer->name, link->peer->address,
                                 link->owner->options_.connect_timeout_ms)),
        false);
  });

  boost::system::error_code ec;
  const tcp::endpoint& endpoint = *peer->endpoint;
  link->socket.open(endpoint.protocol(), ec);
  if (!ec && !options_.bind_host.empty()) {
    if (!bind_ok_) {
      ec = asio::error::invalid_argument;
    } else {
      link->socket.bind(tcp::endpoint(bind_address_, 0), ec);
    }
    if (ec) {
      RINGKV_LOG(log_, kWarn, "peer {}: cannot bind an outgoing socket to '{}': {}", peer->name,
                 options_.bind_host, ec.message());
    }
  }
  if (ec) {
    // Reported from the loop: the caller that made us connect is still inside Submit.
    asio::post(*io_, [link, ec] {
      if (link->state != Link::State::kClosed) link->owner->OnConnected(link, ec);
    });
    return;
  }
  link->socket.async_connect(endpoint, [link](const boost::system::error_code& ec) {
    if (link->state != Link::State::kClosed) link->owner->OnConnected(link, ec);
  });
}

void PeerClient::OnConnected(const std::shared_ptr<Link>& link,
                             const boost::system::error_code& ec) {
  Peer* peer = link->peer;
  if (ec) {
    Close(link, CloseKind::kConnectFailed,
          NoConnection(fmt::format("cannot connect to {} at {}: {}", peer->name, peer->address,
                                   ec.message())),
          false);
    return;
  }
  boost::system::error_code ignored;
  // Requests are small and latency-bound; Nagle would hold them back behind unacknowledged ones.
  link->socket.set_option(tcp::no_delay(true), ignored);

  proto::FrameBuilder message(options_.cluster_name.size() + options_.self_name.size() +
                              options_.cluster_secret.size());
  auto root = message.initRoot<wire::Frame>();
  root.setRequestId(link->hello_id);
  auto hello = root.initHello();
  hello.setProtocolVersion(wire::PROTOCOL_VERSION);
  hello.setRole(wire::Role::PEER);
  hello.setClusterName(AsText(options_.cluster_name));
  hello.setNodeName(AsText(options_.self_name));
  hello.setSecret(AsData(options_.cluster_secret));
  link->writing.push_back(proto::EncodeFrame(message));
  link->write_active = true;
  auto bytes = link->writing.back().asBytes();
  asio::async_write(link->socket, asio::buffer(bytes.begin(), bytes.size()),
                    [link](const boost::system::error_code& ec, size_t) {
                      if (link->state != Link::State::kClosed) link->owner->OnWritten(link, ec);
                    });
  Read(link);
}

void PeerClient::Read(const std::shared_ptr<Link>& link) {
  link->socket.async_read_some(asio::buffer(link->read_buf),
                               [link](const boost::system::error_code& ec, size_t n) {
                                 if (link->state != Link::State::kClosed) {
                                   link->owner->OnRead(link, ec, n);
                                 }
                               });
}

void PeerClient::OnRead(const std::shared_ptr<Link>& link, const boost::system::error_code& ec,
                        size_t n) {
  Peer* peer = link->peer;
  auto failed = [&] {
    return link->state == Link::State::kReady ? CloseKind::kLost : CloseKind::kConnectFailed;
  };
  if (ec) {
    Close(link, failed(),
          NoConnection(ec == asio::error::eof
                           ? fmt::format("{} closed the connection", peer->name)
                           : fmt::format("reading from {} failed: {}", peer->name, ec.message())),
          false);
    return;
  }
  link->decoder.Feed(link->read_buf.data(), n);
  // Answers may start calls or close this connection (a callback may move the peer), so the
  // state is checked before each frame.
  while (link->state != Link::State::kClosed) {
    std::unique_ptr<proto::DecodedFrame> frame;
    std::string error;
    const auto result = link->decoder.Next(&frame, &error);
    if (result == proto::FrameDecoder::Result::kNeedMore) break;
    if (result == proto::FrameDecoder::Result::kError) {
      Close(link, failed(),
            Status::Protocol(fmt::format("bad frame from {}: {}", peer->name, error)), false);
      return;
    }
    try {
      if (link->state == Link::State::kConnecting) {
        OnHandshake(link, frame->root());
      } else {
        OnAnswer(link, frame->root());
      }
    } catch (const kj::Exception& e) {
      // The decoder validated the frame, so this is a bug; the stream cannot be trusted further.
      Close(link, failed(),
            Status::Protocol(fmt::format("cannot read a frame from {}: {}", peer->name,
                                         e.getDescription().cStr())),
            false);
      return;
    }
  }
  if (link->state != Link::State::kClosed) Read(link);
}

void PeerClient::OnHandshake(const std::shared_ptr<Link>& link, wire::Frame::Reader frame) {
  Peer* peer = link->peer;
  auto refuse = [&](Status why) { Close(link, CloseKind::kConnectFailed, why, false); };
  if (frame.isError()) {
    return refuse(StatusFromWire(frame.getError(), fmt::format("{} refused the handshake", peer->name)));
  }
  if (!frame.isHelloOk() || frame.getRequestId() != link->hello_id) {
    return refuse(
        Status::Protocol(fmt::format("{} did not answer the hello with helloOk", peer->name)));
  }
  auto ok = frame.getHelloOk();
  if (ok.getProtocolVersion() != wire::PROTOCOL_VERSION) {
    return refuse(
        Status::Protocol(fmt::format("{} speaks protocol version {}, this node {}", peer->name,
                                     ok.getProtocolVersion(), wire::PROTOCOL_VERSION)));
  }
  if (View(ok.getClusterName()) != options_.cluster_name) {
    return refuse(
        Status(Code::kUnauthorized, fmt::format("{} belongs to cluster '{}', not '{}'", peer->name,
                                                View(ok.getClusterName()), options_.cluster_name)));
  }
  // Requests meant for one node must not land on another that took over its address.
  if (View(ok.getNodeName()) != peer->name) {
    return refuse(NoConnection(fmt::format("{} answers as node '{}', not '{}'", peer->address,
                                           View(ok.getNodeName()), peer->name)));
  }
  link->window = std::max<size_t>(1, options_.in_flight_max);
  if (ok.getInFlightMax() > 0) link->window = std::min<size_t>(link->window, ok.getInFlightMax());
  link->frame_bytes_max = ok.getFrameBytesMax();
  link->state = Link::State::kReady;
  link->connect_timer.cancel();
  peer->backoff_ms = 0;
  peer->retry_at_us = 0;
  peer->last_failure.clear();
  RINGKV_LOG(log_, kInfo, "connected to peer {} at {}", peer->name, peer->address);
  Pump(peer);
  if (on_peer_state_) {
    auto fn = on_peer_state_;  // the callback may replace itself
    fn(peer->name, true);
  }
}

void PeerClient::OnAnswer(const std::shared_ptr<Link>& link, wire::Frame::Reader frame) {
  Peer* peer = link->peer;
  const uint64_t id = frame.getRequestId();
  if (id == 0 && frame.isError()) {
    Close(link, CloseKind::kLost,
          StatusFromWire(frame.getError(), fmt::format("{} dropped the connection", peer->name)), false);
    return;
  }
  if (link->outstanding.erase(id) == 0) {
    // Nothing sent under that id: nothing to match it with. Dropping it keeps one confused answer
    // from failing every other request on the connection.
    RINGKV_LOG(log_, kDebug, "peer {} answered request id {}, which is not pending", peer->name,
               id);
    return;
  }
  auto call = Take(id);
  if (!call) {
    // Answered kTimeout already; the peer's slot is free again.
    assert(link->abandoned > 0);
    --link->abandoned;
    ++stats_.late_answers;
    Pump(peer);
    return;
  }
  Pump(peer);
  if (frame.isError()) {
    Deliver(*call, StatusFromWire(frame.getError(), peer->name));
    return;
  }
  auto mismatch = [&](const char* expected) {
    Deliver(*call,
            Status::Protocol(fmt::format("{} answered with message kind {}, not {}", peer->name,
                                         static_cast<int>(frame.which()), expected)));
  };
  switch (call->kind) {
    case Kind::kReplicaWrite:
      if (!frame.isReplicaWriteResult()) return mismatch("replicaWriteResult");
      std::get<WriteDone>(call->done)(Status::Ok());
      return;
    case Kind::kReplicaRead: {
      if (!frame.isReplicaReadResult()) return mismatch("replicaReadResult");
      auto result = frame.getReplicaReadResult();
      PeerTransport::ReadReply reply;
      reply.found = result.getFound();
      if (reply.found) {
        auto object = DecodeObject(View(result.getObject()));
        if (!object.ok()) {
          Deliver(*call,
                  Status::Corruption(fmt::format("{} sent an object that does not decode: {}",
                                                 peer->name, object.status().message())));
          return;
        }
        reply.object = std::move(object).value();
      }
      std::get<ReadDone>(call->done)(std::move(reply));
      return;
    }
    case Kind::kForwardPut: {
      if (!frame.isPutResult()) return mismatch("putResult");
      auto result = frame.getPutResult();
      WriteReply reply;
      reply.context.assign(View(result.getContext()));
      reply.siblings = result.getSiblings();
      reply.fallback_acks = result.getFallbackAcks();
      if (result.hasTrace()) reply.trace = ReadTrace(result.getTrace());
      std::get<ForwardDone>(call->done)(std::move(reply));
      return;
    }
    case Kind::kForwardDel: {
      if (!frame.isDelResult()) return mismatch("delResult");
      WriteReply reply;
      auto result = frame.getDelResult();
      reply.fallback_acks = result.getFallbackAcks();
      if (result.hasTrace()) reply.trace = ReadTrace(result.getTrace());
      std::get<ForwardDone>(call->done)(std::move(reply));
      return;
    }
    case Kind::kReplicaScan: {
      if (!frame.isReplicaScanResult()) return mismatch("replicaScanResult");
      auto reply = ReadReplicaScanResult(frame.getReplicaScanResult());
      if (!reply.ok()) {
        Deliver(*call, Status::Corruption(fmt::format("{}: {}", peer->name,
                                                      reply.status().message())));
        return;
      }
      std::get<ScanDone>(call->done)(std::move(reply));
      return;
    }
  }
}

void PeerClient::Pump(Peer* peer) {
  const std::shared_ptr<Link> link = peer->link;
  if (!link || link->state != Link::State::kReady || link->write_active) return;
  if (!peer->waiting.empty() && link->outstanding.size() >= link->window &&
      link->abandoned == link->outstanding.size()) {
    // Every slot is held by a request nobody waits for any more: the peer lost them or is stuck.
    // Only a new connection gets the slots back, and no live request is on this one to lose.
    RINGKV_LOG(log_, kInfo,
               "peer {}: all {} requests in flight passed their deadline "
               "unanswered; reconnecting",
               peer->name, link->outstanding.size());
    Close(link, CloseKind::kReplace, NoConnection("replaced"), false);
    // on_peer_state, run by Close, may have made a call that connected already.
    if (!peer->link) Connect(peer);
    return;
  }
  // Kept with its capacity across writes and passed as a span, which the write operation copies
  // instead of a vector: no allocation per write.
  std::vector<asio::const_buffer>& buffers = link->gather;
  buffers.clear();
  size_t bytes = 0;
  while (!peer->waiting.empty() && link->outstanding.size() < link->window &&
         link->writing.size() < kWriteGatherFramesMax && bytes < kWriteGatherBytesMax) {
    const uint64_t id = *peer->waiting.begin();
    Call* call = calls_.at(id).get();
    if (link->frame_bytes_max > 0 && call->bytes > link->frame_bytes_max) {
      // Known only now that the handshake named the peer's limit.
      Status too_large = Status::InvalidArgument(
          fmt::format("a request of {} bytes exceeds peer {}'s frame limit of {} bytes",
                      call->bytes, peer->name, link->frame_bytes_max));
      DeliverLater(Take(id), std::move(too_large));
      continue;
    }
    peer->waiting.erase(peer->waiting.begin());
    // From here on the peer may see the request: a write that fails now is in doubt.
    call->sent = true;
    link->outstanding.insert(id);
    auto frame_bytes = call->frame.asBytes();
    buffers.emplace_back(frame_bytes.begin(), frame_bytes.size());
    bytes += call->bytes;
    // Still counted in peer->queued_bytes until the write completes.
    link->writing_bytes += call->bytes;
    link->writing.push_back(std::move(call->frame));
    ++stats_.requests_sent;
  }
  if (link->writing.empty()) return;
  link->write_active = true;
  asio::async_write(link->socket, std::span<const asio::const_buffer>(buffers),
                    [link](const boost::system::error_code& ec, size_t) {
    if (link->state != Link::State::kClosed) link->owner->OnWritten(link, ec);
  });
}

void PeerClient::OnWritten(const std::shared_ptr<Link>& link, const boost::system::error_code& ec) {
  Peer* peer = link->peer;
  link->write_active = false;
  link->writing.clear();
  peer->queued_bytes -= link->writing_bytes;
  link->writing_bytes = 0;
  if (ec) {
    Close(link, link->state == Link::State::kReady ? CloseKind::kLost : CloseKind::kConnectFailed,
          NoConnection(fmt::format("writing to {} failed: {}", peer->name, ec.message())), false);
    return;
  }
  Pump(peer);
}

void PeerClient::Close(std::shared_ptr<Link> link, CloseKind kind, const Status& why, bool defer) {
  if (link->state == Link::State::kClosed) return;
  Peer* peer = link->peer;
  const bool was_up = link->state == Link::State::kReady;
  link->state = Link::State::kClosed;
  boost::system::error_code ignored;
  link->socket.close(ignored);
  link->connect_timer.cancel();
  // The aborted write's handler will not reach the peer; its frames stay with the link until then.
  peer->queued_bytes -= link->writing_bytes;
  link->writing_bytes = 0;
  if (peer->link == link) peer->link = nullptr;

  // Everything is settled before any callback runs: a callback may make calls to this peer.
  std::vector<std::pair<std::unique_ptr<Call>, Status>> failed;
  std::vector<uint64_t> sent(link->outstanding.begin(), link->outstanding.end());
  std::sort(sent.begin(), sent.end());
  link->outstanding.clear();
  link->abandoned = 0;
  for (uint64_t id : sent) {
    auto call = Take(id);
    if (!call) continue;  // abandoned
    Status status =
        call->is_write()
            ? Status::Timeout(fmt::format("connection to {} lost after the write was sent ({}); "
                                          "it may have been applied",
                                          peer->name, why.message()),
                              true)
            : NoConnection(fmt::format("connection to {} lost before the answer ({})", peer->name,
                                       why.message()));
    failed.emplace_back(std::move(call), std::move(status));
  }
  if (kind != CloseKind::kReplace) {
    const std::vector<uint64_t> waiting(peer->waiting.begin(), peer->waiting.end());
    for (uint64_t id : waiting) {
      auto call = Take(id);
      Status status = kind == CloseKind::kConnectFailed
                          ? why
                          : NoConnection(fmt::format("connection to {} lost before the request "
                                                     "was sent ({})",
                                                     peer->name, why.message()));
      failed.emplace_back(std::move(call), std::move(status));
    }
  }
  if (kind == CloseKind::kConnectFailed) {
    ++stats_.connect_failures;
    const bool first = peer->backoff_ms == 0;
    peer->backoff_ms = first ? options_.backoff_initial_ms
                             : std::min(peer->backoff_ms * 2, options_.backoff_max_ms);
    peer->retry_at_us = clock_->MonoUs() + peer->backoff_ms * 1000;
    peer->last_failure = why.message();
    if (first) {
      RINGKV_LOG(log_, kInfo, "peer {}: {}; retrying no sooner than in {} ms", peer->name,
                 why.message(), peer->backoff_ms);
    } else {
      RINGKV_LOG(log_, kDebug, "peer {}: {}; next attempt in {} ms", peer->name, why.message(),
                 peer->backoff_ms);
    }
  }
  if (was_up) {
    ++stats_.connections_lost;
    if (kind != CloseKind::kReplace) {
      RINGKV_LOG(log_, kInfo, "connection to peer {} closed: {}", peer->name, why.message());
    }
    if (on_peer_state_ && !shutting_down_) {
      auto fn = on_peer_state_;  // the callback may replace itself
      fn(peer->name, false);
    }
  }
  for (auto& [call, status] : failed) {
    if (defer) {
      DeliverLater(std::move(call), std::move(status));
    } else {
      Deliver(*call, status);
    }
  }
}

}  // namespace ringkv
