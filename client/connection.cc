#include "client/connection.h"

#include <fmt/format.h>
#include <kj/exception.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <cassert>
#include <span>
#include <string>
#include <utility>

#include "client/codec.h"

namespace ringkv::client_internal {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// The node gets a little less than what is left of the request's deadline, so that when it gives
// up it can still tell us why (a timeout in doubt, with what it knows) before the client gives up
// on its own and knows less.
uint32_t NodeTimeoutMs(std::chrono::steady_clock::duration remaining) {
  using std::chrono::milliseconds;
  const auto left = std::chrono::duration_cast<milliseconds>(remaining);
  const auto margin = std::min(left / 10, milliseconds(100));
  const int64_t ms = (left - margin).count();
  return static_cast<uint32_t>(std::clamp<int64_t>(ms, 1, UINT32_MAX));
}

}  // namespace

Connection::Connection(asio::io_context& io, size_t index, HostPort address,
                       const ClientOptions& options, Listener* listener)
    : io_(io),
      index_(index),
      address_(std::move(address)),
      options_(options),
      listener_(listener),
      resolver_(io),
      socket_(io),
      connect_timer_(io),
      read_buffer_(kReadChunkBytes) {}

Error Connection::Fail(ErrorCode code, std::string_view what) const {
  return Error(code, fmt::format("{}: {}", address_.ToString(), what));
}

void Connection::Submit(const std::shared_ptr<Request>& request) {
  assert(request->stage == Request::Stage::kIdle && !request->done);
  if (state_ == State::kClosed) {
    listener_->OnAttemptFailed(request, Fail(ErrorCode::kDisconnected, "connection closed"), false);
    return;
  }
  if (waiting_live_ >= kQueuedRequestsMax) {
    listener_->OnAttemptFailed(
        request,
        Fail(ErrorCode::kOverloaded,
             fmt::format("{} requests already queued in the client", kQueuedRequestsMax)),
        false);
    return;
  }
  request->connection = this;
  request->stage = Request::Stage::kQueued;
  waiting_.push_back(request);
  ++waiting_live_;
  if (state_ == State::kIdle) {
    Start();
  } else {
    Pump();
  }
}

void Connection::Start() {
  state_ = State::kConnecting;
  auto self = shared_from_this();
  // One timer covers name resolution, the TCP connect and the handshake: the caller asked for a
  // bound on how long it takes to get a usable connection, whichever step stalls.
  connect_timer_.expires_after(options_.connect_timeout);
  connect_timer_.async_wait([self](const boost::system::error_code& ec) {
    if (ec || self->state_ == State::kReady || self->state_ == State::kClosed) return;
    self->Close(self->Fail(ErrorCode::kDisconnected,
                           fmt::format("no usable connection within the connect timeout of {} ms",
                                       self->options_.connect_timeout.count())));
  });
  resolver_.async_resolve(address_.host, std::to_string(address_.port),
                          tcp::resolver::numeric_service,
                          [self](const boost::system::error_code& ec,
                                 const tcp::resolver::results_type& endpoints) {
                            self->OnResolved(ec, endpoints);
                          });
}

void Connection::OnResolved(const boost::system::error_code& ec,
                            const tcp::resolver::results_type& endpoints) {
  if (state_ == State::kClosed) return;
  if (ec) {
    Close(Fail(ErrorCode::kDisconnected, "cannot resolve the host: " + ec.message()));
    return;
  }
  auto self = shared_from_this();
  asio::async_connect(socket_, endpoints,
                      [self](const boost::system::error_code& ec, const tcp::endpoint&) {
                        self->OnConnected(ec);
                      });
}

void Connection::OnConnected(const boost::system::error_code& ec) {
  if (state_ == State::kClosed) return;
  if (ec) {
    Close(Fail(ErrorCode::kDisconnected, "cannot connect: " + ec.message()));
    return;
  }
  boost::system::error_code ignored;
  // Requests are small and latency-bound; Nagle would hold them back behind unacknowledged ones.
  socket_.set_option(tcp::no_delay(true), ignored);
  state_ = State::kHandshaking;

  proto::FrameBuilder message(options_.cluster_name.size() + options_.client_name.size());
  hello_id_ = next_wire_id_++;
  BuildHello(message.initRoot<wire::Frame>(), hello_id_, options_.cluster_name,
             options_.client_name);
  auto frame = std::make_shared<const kj::Array<capnp::word>>(proto::EncodeFrame(message));
  writing_.push_back(frame);
  write_active_ = true;
  auto self = shared_from_this();
  asio::async_write(socket_, asio::buffer(frame->asBytes().begin(), frame->asBytes().size()),
                    [self](const boost::system::error_code& ec, size_t) { self->OnWritten(ec); });
  Read();
}

void Connection::Read() {
  auto self = shared_from_this();
  socket_.async_read_some(asio::buffer(read_buffer_),
                          [self](const boost::system::error_code& ec, size_t n) {
                            self->OnRead(ec, n);
                          });
}

void Connection::OnRead(const boost::system::error_code& ec, size_t n) {
  if (state_ == State::kClosed) return;
  if (ec) {
    Close(Fail(ErrorCode::kDisconnected, ec == asio::error::eof
                                             ? "the node closed the connection"
                                             : "read failed: " + ec.message()));
    return;
  }
  decoder_.Feed(read_buffer_.data(), n);
  for (;;) {
    std::unique_ptr<proto::DecodedFrame> frame;
    std::string error;
    const auto result = decoder_.Next(&frame, &error);
    if (result == proto::FrameDecoder::Result::kNeedMore) break;
    if (result == proto::FrameDecoder::Result::kError) {
      Close(Fail(ErrorCode::kProtocol, error));
      return;
    }
    try {
      HandleFrame(std::move(frame));
    } catch (const kj::Exception& e) {
      // The decoder validated the frame, so this means a bug; the stream is still not trustworthy.
      Close(Fail(ErrorCode::kProtocol, e.getDescription().cStr()));
    }
    if (state_ == State::kClosed) return;
  }
  Read();
}

void Connection::HandleFrame(std::unique_ptr<proto::DecodedFrame> frame) {
  if (state_ == State::kHandshaking) {
    HandleHandshake(frame->root());
  } else {
    HandleAnswer(std::move(frame));
  }
}

void Connection::HandleHandshake(wire::Frame::Reader frame) {
  if (frame.isError()) {
    const Error e = ErrorFromWire(frame.getError());
    Close(Fail(e.code(), "the node refused the handshake: " + e.message()));
    return;
  }
  if (!frame.isHelloOk() || frame.getRequestId() != hello_id_) {
    Close(Fail(ErrorCode::kProtocol, "the node did not answer the handshake with helloOk"));
    return;
  }
  auto ok = frame.getHelloOk();
  if (ok.getProtocolVersion() != wire::PROTOCOL_VERSION) {
    Close(Fail(ErrorCode::kProtocol,
               fmt::format("the node speaks protocol version {}, this client {}",
                           ok.getProtocolVersion(), wire::PROTOCOL_VERSION)));
    return;
  }
  // The node checks the cluster name too; checking it again here keeps a misconfigured node from
  // silently serving a client that asked for another cluster.
  const std::string_view cluster(ok.getClusterName().cStr(), ok.getClusterName().size());
  if (!options_.cluster_name.empty() && cluster != options_.cluster_name) {
    Close(Fail(ErrorCode::kUnauthorized,
               fmt::format("the node belongs to cluster '{}', not '{}'", cluster,
                           options_.cluster_name)));
    return;
  }
  in_flight_max_ = std::max<size_t>(1, options_.in_flight_max);
  if (ok.getInFlightMax() > 0) in_flight_max_ = std::min<size_t>(in_flight_max_, ok.getInFlightMax());
  frame_bytes_max_ = ok.getFrameBytesMax();
  state_ = State::kReady;
  connect_timer_.cancel();
  listener_->OnReady(this);
  Pump();
}

void Connection::HandleAnswer(std::unique_ptr<proto::DecodedFrame> frame) {
  auto root = frame->root();
  const uint64_t id = root.getRequestId();
  if (id == 0 && root.isError()) {
    // A connection-level error; the node closes the connection after it.
    const Error e = ErrorFromWire(root.getError());
    Close(Fail(e.code(), "the node dropped the connection: " + e.message()));
    return;
  }
  auto it = in_flight_.find(id);
  // Not an id we are waiting for: nothing to match it with. Dropping it keeps one confused answer
  // from failing every other request on the connection.
  if (it == in_flight_.end()) return;
  std::shared_ptr<Request> request = std::move(it->second);
  in_flight_.erase(it);
  if (request == nullptr) {
    --orphans_;  // a late answer to an abandoned request frees its slot
  } else {
    request->stage = Request::Stage::kIdle;
    request->connection = nullptr;
    listener_->OnAnswer(request, std::move(frame));
  }
  Pump();
}

void Connection::Abandon(Request* request) {
  assert(request->connection == this);
  switch (request->stage) {
    case Request::Stage::kQueued:
      --waiting_live_;  // its entry in waiting_ is skipped later
      break;
    case Request::Stage::kWriteQueued:
      in_flight_.erase(request->wire_id);  // never sent: the slot is free again
      break;
    case Request::Stage::kWritten:
      in_flight_[request->wire_id] = nullptr;
      ++orphans_;
      break;
    case Request::Stage::kIdle:
      break;
  }
  request->stage = Request::Stage::kIdle;
  request->connection = nullptr;
  if (orphans_ > 0 && orphans_ >= in_flight_max_) {
    // Every slot is held by a request nobody waits for: the node is stuck or lost them. A new
    // connection is the only way to get slots back; nothing live is in flight to lose.
    Close(Fail(ErrorCode::kDisconnected,
               "every request in flight passed its deadline unanswered; reconnecting"));
    return;
  }
  Pump();
}

void Connection::Pump() {
  if (state_ != State::kReady) return;
  const auto now = std::chrono::steady_clock::now();
  while (!waiting_.empty() && in_flight_.size() < in_flight_max_ && state_ == State::kReady) {
    std::shared_ptr<Request> request = std::move(waiting_.front());
    waiting_.pop_front();
    if (request->done || request->connection != this ||
        request->stage != Request::Stage::kQueued) {
      continue;  // abandoned while it waited
    }
    --waiting_live_;
    request->wire_id = next_wire_id_++;
    auto root = request->message.getRoot<wire::Frame>();
    SetAttempt(root, request->wire_id, NodeTimeoutMs(request->deadline - now));
    request->frame =
        std::make_shared<const kj::Array<capnp::word>>(proto::EncodeFrame(request->message));
    const size_t bytes = request->frame->size() * sizeof(capnp::word);
    if (frame_bytes_max_ > 0 && bytes > frame_bytes_max_) {
      request->stage = Request::Stage::kIdle;
      request->connection = nullptr;
      listener_->OnAttemptFailed(
          request,
          Fail(ErrorCode::kInvalidArgument,
               fmt::format("the {} frame of {} bytes exceeds the node's limit of {} bytes",
                           request->what, bytes, frame_bytes_max_)),
          false);
      continue;
    }
    request->stage = Request::Stage::kWriteQueued;
    in_flight_[request->wire_id] = request;
    write_queue_.push_back(std::move(request));
  }
  WriteLater();
}

void Connection::WriteLater() {
  if (write_active_ || write_posted_ || write_queue_.empty()) return;
  write_posted_ = true;
  asio::post(io_, [self = shared_from_this()] {
    self->write_posted_ = false;
    self->Write();
  });
}

void Connection::Write() {
  if (write_active_ || state_ != State::kReady) return;
  // Kept with its capacity across writes and passed as a span, which the write operation copies
  // instead of a vector: no allocation per write.
  std::vector<asio::const_buffer>& buffers = gather_;
  buffers.clear();
  size_t bytes = 0;
  while (!write_queue_.empty() && writing_.size() < kWriteBatchFramesMax &&
         bytes < kWriteBatchBytesMax) {
    std::shared_ptr<Request> request = std::move(write_queue_.front());
    write_queue_.pop_front();
    if (request->done || request->connection != this ||
        request->stage != Request::Stage::kWriteQueued) {
      continue;  // abandoned before its turn
    }
    // From here on the node may see the request: a write that fails now is in doubt.
    request->stage = Request::Stage::kWritten;
    request->ever_sent = true;
    auto frame_bytes = request->frame->asBytes();
    buffers.emplace_back(frame_bytes.begin(), frame_bytes.size());
    bytes += frame_bytes.size();
    // The write holds the bytes from here; the request lets go of them so a large value is not
    // kept twice while the answer is awaited. A later attempt encodes afresh.
    writing_.push_back(std::move(request->frame));
  }
  if (writing_.empty()) return;
  write_active_ = true;
  auto self = shared_from_this();
  asio::async_write(socket_, std::span<const asio::const_buffer>(buffers),
                    [self](const boost::system::error_code& ec, size_t) { self->OnWritten(ec); });
}

void Connection::OnWritten(const boost::system::error_code& ec) {
  write_active_ = false;
  writing_.clear();
  if (state_ == State::kClosed) return;
  if (ec) {
    Close(Fail(ErrorCode::kDisconnected, "write failed: " + ec.message()));
    return;
  }
  Write();
}

void Connection::Close(const Error& why) {
  if (state_ == State::kClosed) return;
  auto self = shared_from_this();  // the listener may drop its reference in OnClosed
  state_ = State::kClosed;
  boost::system::error_code ignored;
  connect_timer_.cancel();
  resolver_.cancel();
  socket_.close(ignored);

  std::vector<std::pair<std::shared_ptr<Request>, bool>> failed;
  for (auto& [id, request] : in_flight_) {
    if (request != nullptr) failed.emplace_back(request, request->stage == Request::Stage::kWritten);
  }
  // Oldest first, so that retries keep roughly the order the caller issued them in.
  std::sort(failed.begin(), failed.end(),
            [](const auto& a, const auto& b) { return a.first->wire_id < b.first->wire_id; });
  for (auto& request : waiting_) {
    if (!request->done && request->connection == this &&
        request->stage == Request::Stage::kQueued) {
      failed.emplace_back(request, false);
    }
  }
  waiting_.clear();
  write_queue_.clear();
  in_flight_.clear();
  waiting_live_ = 0;
  orphans_ = 0;
  for (auto& [request, sent] : failed) {
    request->stage = Request::Stage::kIdle;
    request->connection = nullptr;
  }
  listener_->OnClosed(this, why);
  for (auto& [request, sent] : failed) listener_->OnAttemptFailed(request, why, sent);
}

}  // namespace ringkv::client_internal
