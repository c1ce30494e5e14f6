#include "client/fake_node.h"

#include <capnp/message.h>
#include <fmt/format.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <future>

namespace ringkv::fake {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

std::string FromData(capnp::Data::Reader d) {
  return std::string(reinterpret_cast<const char*>(d.begin()), d.size());
}

capnp::Data::Reader AsData(const std::string& s) {
  return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(s.data()), s.size());
}

FakeRequest Parse(wire::Frame::Reader f) {
  FakeRequest r;
  r.id = f.getRequestId();
  r.kind = f.which();
  switch (f.which()) {
    case wire::Frame::GET: {
      auto g = f.getGet();
      r.keyspace = g.getKeyspace();
      r.key = FromData(g.getKey());
      r.consistency = g.getConsistency();
      r.r = g.getR();
      r.timeout_ms = g.getTimeoutMs();
      break;
    }
    case wire::Frame::PUT: {
      auto p = f.getPut();
      r.keyspace = p.getKeyspace();
      r.key = FromData(p.getKey());
      r.value = FromData(p.getValue());
      r.context = FromData(p.getContext());
      r.ttl_s = p.getTtlS();
      r.consistency = p.getConsistency();
      r.w = p.getW();
      r.timeout_ms = p.getTimeoutMs();
      break;
    }
    case wire::Frame::CREATE_KEYSPACE: {
      auto c = f.getCreateKeyspace();
      r.keyspace = c.getName();
      r.replication_factor = c.getReplicationFactor();
      r.if_not_exists = c.getIfNotExists();
      r.propagated = c.getPropagated();
      break;
    }
    case wire::Frame::DEL: {
      auto d = f.getDel();
      r.keyspace = d.getKeyspace();
      r.key = FromData(d.getKey());
      r.context = FromData(d.getContext());
      r.consistency = d.getConsistency();
      r.w = d.getW();
      r.timeout_ms = d.getTimeoutMs();
      break;
    }
    default:
      break;
  }
  return r;
}

template <typename Fill>
std::string Frame(uint64_t id, Fill fill) {
  capnp::MallocMessageBuilder message;
  auto frame = message.initRoot<wire::Frame>();
  frame.setRequestId(id);
  fill(frame);
  return proto::EncodeFrameBytes(message);
}

}  // namespace

// ---- FakeNode ----

FakeNode::FakeNode(Options options, Handler handler)
    : options_(std::move(options)),
      handler_(std::move(handler)),
      loop_(std::make_shared<Loop>()),
      acceptor_(loop_->io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
      connections_(std::make_shared<std::atomic<int>>(0)),
      requests_(std::make_shared<std::atomic<int>>(0)),
      ring_requests_(std::make_shared<std::atomic<int>>(0)) {
  port_ = acceptor_.local_endpoint().port();
  Accept();
  // No work guard: the pending accept keeps the loop alive, and once the destructor cancels every
  // operation the loop drains and run() returns, leaving no handler queued.
  loop_->thread = std::thread([loop = loop_.get()] { loop->io.run(); });
}

FakeNode::~FakeNode() {
  asio::post(loop_->io, [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    for (auto& weak : conns_) {
      if (auto conn = weak.lock()) conn->CloseNow();
    }
  });
  loop_->thread.join();
}

std::string FakeNode::address() const { return fmt::format("127.0.0.1:{}", port_); }

void FakeNode::Accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec) return;
    ++*connections_;
    auto conn = std::make_shared<Conn>(loop_, options_, handler_, requests_, ring_requests_);
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    conn->socket() = std::move(socket);
    conns_.push_back(conn);
    conn->Start();
    Accept();
  });
}

// ---- Conn ----

FakeNode::Conn::Conn(std::shared_ptr<Loop> loop, const Options& options, Handler handler,
                     std::shared_ptr<std::atomic<int>> requests,
                     std::shared_ptr<std::atomic<int>> ring_requests)
    : loop_(std::move(loop)),
      options_(options),
      handler_(std::move(handler)),
      requests_(std::move(requests)),
      ring_requests_(std::move(ring_requests)),
      socket_(loop_->io) {}

void FakeNode::Conn::Send(std::string frame) {
  asio::post(loop_->io, [weak = weak_from_this(), frame = std::move(frame)]() mutable {
    auto self = weak.lock();
    if (self == nullptr || !self->socket_.is_open()) return;
    self->out_.push_back(std::move(frame));
    self->Write();
  });
}

void FakeNode::Conn::Close() {
  asio::post(loop_->io, [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->CloseNow();
  });
}

void FakeNode::Conn::CloseNow() {
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

void FakeNode::Conn::Start() { Read(); }

void FakeNode::Conn::Read() {
  socket_.async_read_some(asio::buffer(buffer_), [self = shared_from_this()](
                                                     const boost::system::error_code& ec, size_t n) {
    if (ec) return;
    self->decoder_.Feed(self->buffer_.data(), n);
    for (;;) {
      std::unique_ptr<proto::DecodedFrame> frame;
      std::string error;
      auto result = self->decoder_.Next(&frame, &error);
      if (result == proto::FrameDecoder::Result::kNeedMore) break;
      if (result == proto::FrameDecoder::Result::kError) {
        self->CloseNow();
        return;
      }
      self->Handle(*frame);
      if (!self->socket_.is_open()) return;
    }
    self->Read();
  });
}

void FakeNode::Conn::Handle(proto::DecodedFrame& decoded) {
  auto frame = decoded.root();
  if (!hello_done_) {
    if (!frame.isHello()) {
      CloseNow();
      return;
    }
    hello_done_ = true;
    const uint64_t id = frame.getRequestId();
    if (options_.refuse_handshake) {
      out_.push_back(ErrorFrame(id, *options_.refuse_handshake, "refused by the fake node"));
      Write();
      return;  // the client is expected to close
    }
    out_.push_back(Frame(id, [&](wire::Frame::Builder f) {
      auto ok = f.initHelloOk();
      ok.setProtocolVersion(wire::PROTOCOL_VERSION);
      ok.setNodeName(options_.node_name);
      ok.setClusterName(options_.cluster_name);
      ok.setFrameBytesMax(20u << 20);
      ok.setInFlightMax(options_.in_flight_max);
    }));
    Write();
    return;
  }
  if (frame.isRing()) {
    ++*ring_requests_;
    AnswerRing(frame.getRequestId());
    return;
  }
  ++*requests_;
  handler_(shared_from_this(), Parse(frame));
}

void FakeNode::Conn::AnswerRing(uint64_t id) {
  if (options_.ring_unsupported) {
    // What server.cc does with a message kind it does not know: fail the connection, then close.
    out_.push_back(
        ErrorFrame(0, wire::ErrorCode::PROTOCOL, "unexpected message kind 16 from a requester"));
    close_when_written_ = true;
    Write();
    return;
  }
  FakeRing ring;
  if (options_.ring) {
    ring = options_.ring();
  } else {
    ring.self = options_.node_name;
  }
  out_.push_back(RingResultFrame(id, ring));
  Write();
}

void FakeNode::Conn::Write() {
  if (!writing_ && out_.empty() && close_when_written_) CloseNow();
  if (writing_ || out_.empty() || !socket_.is_open()) return;
  writing_ = true;
  asio::async_write(socket_, asio::buffer(out_.front()),
                    [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                      self->writing_ = false;
                      self->out_.pop_front();
                      if (ec) return;
                      self->Write();
                    });
}

// ---- Frames ----

std::string GetResultFrame(uint64_t id, const std::vector<std::string>& values,
                           const std::string& context) {
  return Frame(id, [&](wire::Frame::Builder f) {
    auto g = f.initGetResult();
    g.setFound(!values.empty());
    g.setContext(AsData(context));
    auto siblings = g.initSiblings(static_cast<unsigned>(values.size()));
    for (size_t i = 0; i < values.size(); ++i) {
      auto s = siblings[static_cast<unsigned>(i)];
      s.setValue(AsData(values[i]));
      s.getDot().setActor(7);
      s.getDot().setCounter(i + 1);
      s.setTimestampUs(1'700'000'000'000'000 + static_cast<int64_t>(i));
    }
  });
}

std::string PutResultFrame(uint64_t id, const std::string& context, uint32_t siblings) {
  return Frame(id, [&](wire::Frame::Builder f) {
    auto p = f.initPutResult();
    p.setContext(AsData(context));
    p.setSiblings(siblings);
  });
}

std::string DelResultFrame(uint64_t id) {
  return Frame(id, [](wire::Frame::Builder f) { f.initDelResult(); });
}

std::string InfoResultFrame(uint64_t id, const std::string& node_name) {
  return Frame(id, [&](wire::Frame::Builder f) {
    auto i = f.initInfoResult();
    i.setNodeName(node_name);
    i.setClusterName("test");
    i.setProtocolVersion(wire::PROTOCOL_VERSION);
    i.setUptimeS(42);
  });
}

std::string RingResultFrame(uint64_t id, const FakeRing& ring) {
  return Frame(id, [&](wire::Frame::Builder f) {
    auto r = f.initRingResult();
    r.setSelf(ring.self);
    r.setUnsettled(ring.unsettled);
    auto members = r.initMembers(static_cast<unsigned>(ring.members.size()));
    for (size_t i = 0; i < ring.members.size(); ++i) {
      const FakeMember& m = ring.members[i];
      auto out = members[static_cast<unsigned>(i)];
      out.setUp(m.up);
      out.setStatus(m.status);
      auto d = out.initDescription();
      d.setNodeName(m.name);
      d.setAddress(m.address);
      d.setHostId(m.host_id);
      auto tokens = d.initTokens(static_cast<unsigned>(m.tokens.size()));
      for (size_t t = 0; t < m.tokens.size(); ++t)
        tokens.set(static_cast<unsigned>(t), m.tokens[t]);
    }
    auto keyspaces = r.initKeyspaces(static_cast<unsigned>(ring.keyspaces.size()));
    for (size_t i = 0; i < ring.keyspaces.size(); ++i) {
      keyspaces[static_cast<unsigned>(i)].setName(ring.keyspaces[i].first);
      keyspaces[static_cast<unsigned>(i)].setReplicationFactor(ring.keyspaces[i].second);
    }
  });
}

std::string CreateKeyspaceResultFrame(uint64_t id, bool created) {
  return Frame(id,
               [&](wire::Frame::Builder f) { f.initCreateKeyspaceResult().setCreated(created); });
}

std::string ErrorFrame(uint64_t id, wire::ErrorCode code, const std::string& message,
                       uint32_t needed, uint32_t alive, bool in_doubt) {
  return Frame(id, [&](wire::Frame::Builder f) {
    auto e = f.initError();
    e.setCode(code);
    e.setMessage(message);
    e.setNeeded(needed);
    e.setAlive(alive);
    e.setInDoubt(in_doubt);
  });
}

uint16_t RefusedPort() {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();  // closed when the acceptor goes out of scope
}

// ---- Inbox ----

void Inbox::Add(const std::shared_ptr<FakeNode::Conn>& conn, const FakeRequest& request) {
  std::lock_guard lock(mu_);
  items_.emplace_back(conn, request);
  cv_.notify_all();
}

bool Inbox::WaitFor(size_t n, int timeout_ms) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                      [&] { return items_.size() >= n; });
}

std::vector<std::pair<std::shared_ptr<FakeNode::Conn>, FakeRequest>> Inbox::Take() {
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::shared_ptr<FakeNode::Conn>, FakeRequest>> out;
  out.swap(items_);
  return out;
}

size_t Inbox::size() {
  std::lock_guard lock(mu_);
  return items_.size();
}

}  // namespace ringkv::fake
