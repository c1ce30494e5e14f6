// RawConnection: a blocking TCP connection that sends arbitrary bytes and reads frames, for tests
// that play a misbehaving peer. Every read has a deadline.
#ifndef RINGKV_NODE_TESTING_RAW_CONNECTION_H_
#define RINGKV_NODE_TESTING_RAW_CONNECTION_H_

#include <capnp/message.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/status.h"
#include "proto/frame.h"

namespace ringkv::testing {

class RawConnection {
 public:
  ~RawConnection();
  static Result<std::unique_ptr<RawConnection>> Connect(uint16_t port);

  Status SendBytes(std::string_view bytes);
  Status Send(capnp::MessageBuilder& message);
  // Sends hello as a client and expects helloOk.
  Status Handshake(std::string_view cluster_name = "");
  // Sends a hello (as a peer presenting `peer_secret`, or a client without one) and returns the
  // node's answer, whatever it is.
  Result<std::unique_ptr<proto::DecodedFrame>> Hello(std::string_view cluster_name,
                                                     std::optional<std::string_view> peer_secret);

  // The next frame; Timeout if none arrives in time; IoError("closed") when the peer closed.
  Result<std::unique_ptr<proto::DecodedFrame>> ReadFrame(
      std::chrono::milliseconds timeout = std::chrono::milliseconds(10'000));
  // True once the peer has closed the connection (reads EOF within the timeout, discarding data).
  bool WaitClosed(std::chrono::milliseconds timeout = std::chrono::milliseconds(10'000));

 private:
  explicit RawConnection(int fd) : fd_(fd) {}
  int fd_;
  proto::FrameDecoder decoder_{proto::FrameLimits{64u << 20, 512, 64}};
};

}  // namespace ringkv::testing

#endif  // RINGKV_NODE_TESTING_RAW_CONNECTION_H_
