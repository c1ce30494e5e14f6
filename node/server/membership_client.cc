#include "node/server/membership_client.h"

#include <capnp/message.h>
#include <fmt/format.h>
#include <kj/exception.h>

#include <array>

#include "node/server/gossip_wire.h"
#include "node/server/wire_convert.h"
#include "proto/frame.h"

namespace ringkv {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

std::string_view View(capnp::Text::Reader t) { return {t.cStr(), t.size()}; }

bool SplitAddress(const std::string& address, std::string* host, uint16_t* port) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) return false;
  *host = address.substr(0, colon);
  try {
    const int p = std::stoi(address.substr(colon + 1));
    if (p <= 0 || p > 65535) return false;
    *port = static_cast<uint16_t>(p);
  } catch (...) {
    return false;
  }
  return true;
}

}  // namespace

// One exchange: connect, hello, request, answer. Holds itself alive through its handlers.
class MembershipClient::Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  using OnFrame = std::function<Status(wire::Frame::Reader)>;  // the answer to the request
  using OnDone = std::function<void(Status)>;

  Exchange(asio::io_context* io, const MembershipClientOptions& options,
           std::shared_ptr<bool> alive)
      : socket_(*io), timer_(*io), options_(options), alive_(std::move(alive)) {}

  void Run(const std::string& address, int64_t timeout_ms, std::string request, OnFrame on_frame,
           OnDone done) {
    request_ = std::move(request);
    on_frame_ = std::move(on_frame);
    done_ = std::move(done);
    std::string host;
    uint16_t port = 0;
    boost::system::error_code ec;
    if (!SplitAddress(address, &host, &port)) {
      return Finish(Status::InvalidArgument(fmt::format("bad peer address '{}'", address)));
    }
    auto ip = asio::ip::make_address(host, ec);
    if (ec) return Finish(Status::InvalidArgument(fmt::format("bad peer address '{}'", address)));
    timer_.expires_after(std::chrono::milliseconds(timeout_ms));
    timer_.async_wait([self = shared_from_this(), address](boost::system::error_code tec) {
      if (!tec) self->Finish(Status::Timeout(fmt::format("no answer from {}", address), false));
    });
    socket_.open(ip.is_v4() ? tcp::v4() : tcp::v6(), ec);
    if (!ec && !options_.bind_host.empty()) {
      auto local = asio::ip::make_address(options_.bind_host, ec);
      if (!ec) socket_.bind(tcp::endpoint(local, 0), ec);
    }
    if (ec) return Finish(Status::IoError(ec.message()));
    socket_.async_connect(tcp::endpoint(ip, port),
                          [self = shared_from_this(), address](boost::system::error_code cec) {
                            if (cec) {
                              return self->Finish(Status::Unavailable(
                                  fmt::format("cannot connect to {}: {}", address, cec.message()),
                                  0, 0));
                            }
                            self->Send();
                          });
  }

 private:
  void Send() {
    proto::FrameBuilder m;
    auto frame = m.initRoot<wire::Frame>();
    frame.setRequestId(1);
    auto hello = frame.initHello();
    hello.setProtocolVersion(wire::PROTOCOL_VERSION);
    hello.setRole(wire::Role::PEER);
    hello.setClusterName(options_.cluster_name);
    hello.setNodeName(options_.node_name);
    hello.setSecret(capnp::Data::Reader(
        reinterpret_cast<const kj::byte*>(options_.cluster_secret.data()),
        options_.cluster_secret.size()));
    out_ = proto::EncodeFrameBytes(m) + request_;
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this()](boost::system::error_code ec, size_t) {
                        if (ec) return self->Finish(Status::IoError(ec.message()));
                        self->Read();
                      });
  }

  void Read() {
    socket_.async_read_some(asio::buffer(buf_), [self = shared_from_this()](
                                                    boost::system::error_code ec, size_t n) {
      if (ec) return self->Finish(Status::IoError(fmt::format("peer closed: {}", ec.message())));
      self->decoder_.Feed(self->buf_.data(), n);
      while (true) {
        std::unique_ptr<proto::DecodedFrame> frame;
        std::string error;
        auto r = self->decoder_.Next(&frame, &error);
        if (r == proto::FrameDecoder::Result::kNeedMore) break;
        if (r == proto::FrameDecoder::Result::kError) return self->Finish(Status::Protocol(error));
        auto root = frame->root();
        if (root.which() == wire::Frame::HELLO_OK) continue;
        if (root.which() == wire::Frame::ERROR) return self->Finish(StatusFromWire(root.getError(), ""));
        try {
          return self->Finish(self->on_frame_(root));
        } catch (const kj::Exception& e) {
          return self->Finish(Status::Protocol(e.getDescription().cStr()));
        }
      }
      self->Read();
    });
  }

  void Finish(Status status) {
    if (finished_) return;
    finished_ = true;
    boost::system::error_code ec;
    timer_.cancel();
    socket_.close(ec);
    if (*alive_) done_(std::move(status));
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  const MembershipClientOptions options_;  // a copy: the client may go first
  std::shared_ptr<bool> alive_;
  std::string request_, out_;
  OnFrame on_frame_;
  OnDone done_;
  proto::FrameDecoder decoder_;
  std::array<uint8_t, 16384> buf_;
  bool finished_ = false;
};

MembershipClient::MembershipClient(asio::io_context* io, MembershipClientOptions options)
    : io_(io), options_(std::move(options)), alive_(std::make_shared<bool>(true)) {}

MembershipClient::~MembershipClient() { *alive_ = false; }

void MembershipClient::Ask(const std::string& address, int64_t timeout_ms, const FillFn& fill,
                           ParseFn parse, std::function<void(Status)> done) {
  proto::FrameBuilder m;
  auto frame = m.initRoot<wire::Frame>();
  frame.setRequestId(2);  // the hello is 1
  fill(frame);
  const bool gossip = frame.which() == wire::Frame::GOSSIP_SYN ||
                      frame.which() == wire::Frame::GOSSIP_ACK2;
  std::string request = proto::EncodeFrameBytes(m);
  if (gossip) {
    traffic_.gossip_sent += request.size();
    parse = [this, parse = std::move(parse)](wire::Frame::Reader f) {
      traffic_.gossip_received += f.totalSize().wordCount * sizeof(capnp::word);
      return parse(f);
    };
  }
  auto exchange = std::make_shared<Exchange>(io_, options_, alive_);
  exchange->Run(address, timeout_ms, std::move(request), std::move(parse), std::move(done));
}

void MembershipClient::GossipSyn(const std::string& address, const gossip::Syn& syn,
                                 int64_t timeout_ms,
                                 std::function<void(Result<gossip::Ack>)> done) {
  auto ack = std::make_shared<gossip::Ack>();
  Ask(
      address, timeout_ms,
      [&syn](wire::Frame::Builder f) { FillGossipSyn(f.initGossipSyn(), syn); },
      [ack](wire::Frame::Reader f) -> Status {
        if (f.which() != wire::Frame::GOSSIP_ACK) return Status::Protocol("expected gossipAck");
        auto read = ReadGossipAck(f.getGossipAck());
        if (!read.ok()) return read.status();
        *ack = std::move(read.value());
        return Status::Ok();
      },
      [ack, done = std::move(done)](Status s) {
        if (!s.ok()) return done(s);
        done(std::move(*ack));
      });
}

void MembershipClient::GossipAck2(const std::string& address, const gossip::Ack2& ack2,
                                  int64_t timeout_ms, std::function<void(Status)> done) {
  Ask(
      address, timeout_ms,
      [&ack2](wire::Frame::Builder f) { FillGossipAck2(f.initGossipAck2(), ack2); },
      [](wire::Frame::Reader f) -> Status {
        return f.which() == wire::Frame::GOSSIP_ACK2_RESULT
                   ? Status::Ok()
                   : Status::Protocol("expected gossipAck2Result");
      },
      std::move(done));
}

void MembershipClient::FetchRing(const std::string& address, int64_t timeout_ms,
                                 std::function<void(Result<RingAnswer>)> done) {
  auto answer = std::make_shared<RingAnswer>();
  Ask(
      address, timeout_ms, [](wire::Frame::Builder f) { f.initRing(); },
      [answer](wire::Frame::Reader f) -> Status {
        if (f.which() != wire::Frame::RING_RESULT) return Status::Protocol("expected ringResult");
        auto r = f.getRingResult();
        answer->self.assign(View(r.getSelf()));
        for (auto member : r.getMembers()) {
          auto d = member.getDescription();
          MemberInfo info;
          info.name.assign(View(d.getNodeName()));
          info.address.assign(View(d.getAddress()));
          info.host_id = d.getHostId();
          for (auto t : d.getTokens()) info.tokens.push_back(t);
          if (member.hasStatus()) (void)gossip::ParseStatus(View(member.getStatus()), &info.status);
          answer->members.emplace_back(std::move(info), member.getUp());
        }
        for (auto ks : r.getKeyspaces()) {
          answer->keyspaces.push_back(KeyspaceDef{std::string(View(ks.getName())),
                                                  ks.getReplicationFactor(), ks.getCreatedUs(),
                                                  ks.getSloppy()});
        }
        for (auto d : r.getDropped()) {
          answer->dropped.emplace_back(std::string(View(d.getName())), d.getDroppedUs());
        }
        return Status::Ok();
      },
      [answer, done = std::move(done)](Status s) {
        if (!s.ok()) return done(s);
        done(std::move(*answer));
      });
}

}  // namespace ringkv
