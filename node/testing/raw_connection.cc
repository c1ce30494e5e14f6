#include "node/testing/raw_connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

namespace ringkv::testing {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

RawConnection::~RawConnection() { ::close(fd_); }

Result<std::unique_ptr<RawConnection>> RawConnection::Connect(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::IoError(std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // 127.0.0.1 only
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int e = errno;
    ::close(fd);
    return Status::IoError(fmt::format("connect 127.0.0.1:{}: {}", port, std::strerror(e)));
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return std::unique_ptr<RawConnection>(new RawConnection(fd));
}

Status RawConnection::SendBytes(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IoError(std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status RawConnection::Send(capnp::MessageBuilder& message) {
  return SendBytes(proto::EncodeFrameBytes(message));
}

Status RawConnection::Handshake(std::string_view cluster_name) {
  auto reply = Hello(cluster_name, std::nullopt);
  if (!reply.ok()) return reply.status();
  if (reply.value()->root().which() != wire::Frame::HELLO_OK) {
    return Status::Protocol("handshake refused");
  }
  return Status::Ok();
}

Result<std::unique_ptr<proto::DecodedFrame>> RawConnection::Hello(
    std::string_view cluster_name, std::optional<std::string_view> peer_secret) {
  capnp::MallocMessageBuilder m;
  auto frame = m.initRoot<wire::Frame>();
  frame.setRequestId(1);
  auto hello = frame.initHello();
  hello.setProtocolVersion(wire::PROTOCOL_VERSION);
  hello.setRole(peer_secret ? wire::Role::PEER : wire::Role::CLIENT);
  hello.setClusterName(std::string(cluster_name));
  hello.setNodeName("raw-test");
  if (peer_secret) {
    hello.setSecret(capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(peer_secret->data()),
                                        peer_secret->size()));
  }
  if (Status s = Send(m); !s.ok()) return s;
  return ReadFrame(milliseconds(2000));
}

Result<std::unique_ptr<proto::DecodedFrame>> RawConnection::ReadFrame(milliseconds timeout) {
  const auto deadline = steady_clock::now() + timeout;
  while (true) {
    std::unique_ptr<proto::DecodedFrame> frame;
    std::string error;
    switch (decoder_.Next(&frame, &error)) {
      case proto::FrameDecoder::Result::kFrame: return frame;
      case proto::FrameDecoder::Result::kError: return Status::Protocol(error);
      case proto::FrameDecoder::Result::kNeedMore: break;
    }
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now());
    if (left.count() <= 0) return Status::Timeout("no frame in time", false);
    pollfd p{fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno != EINTR) return Status::IoError(std::strerror(errno));
    if (r <= 0) continue;
    uint8_t buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n == 0) return Status::IoError("closed");
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IoError(std::strerror(errno));
    }
    decoder_.Feed(buf, static_cast<size_t>(n));
  }
}

bool RawConnection::WaitClosed(milliseconds timeout) {
  const auto deadline = steady_clock::now() + timeout;
  while (true) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r <= 0) continue;
    uint8_t buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
  }
}

}  // namespace ringkv::testing
