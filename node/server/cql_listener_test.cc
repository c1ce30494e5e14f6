// The CQL listener in this process, over one kvnode: the deadlines it holds connections to (a
// connection that never completes STARTUP, one stalled halfway through a frame) and that an
// idle started connection is kept. Raw sockets on 127.0.0.1; every wait has a deadline.
#include "node/server/cql_listener.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>

#include "common/clock.h"
#include "cql/native/frame.h"
#include "node/testing/node_process.h"

namespace ringkv {
namespace {

using ringkv::testing::NodeProcess;
using ringkv::testing::NodeProcessOptions;

// A blocking socket to 127.0.0.1:port whose reads give up after `timeout_ms`.
int Connect(uint16_t port, int timeout_ms) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

// What a read finds: "closed" (EOF), "timeout", or the bytes read.
std::string ReadSome(int fd) {
  char buf[4096];
  const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
  if (n == 0) return "closed";
  if (n < 0) return "timeout";
  return std::string(buf, static_cast<size_t>(n));
}

std::string Startup() {
  cql::native::BodyWriter body;
  body.StringMap({{"CQL_VERSION", "3.0.0"}});
  cql::native::FrameHeader h;
  h.opcode = static_cast<uint8_t>(cql::native::Opcode::kStartup);
  h.length = static_cast<uint32_t>(body.body().size());
  std::string frame;
  cql::native::EncodeHeader(h, &frame);
  return frame + body.body();
}

std::string Frame(cql::native::Opcode opcode, const std::string& body, int16_t stream) {
  cql::native::FrameHeader h;
  h.opcode = static_cast<uint8_t>(opcode);
  h.stream = stream;
  h.length = static_cast<uint32_t>(body.size());
  std::string frame;
  cql::native::EncodeHeader(h, &frame);
  return frame + body;
}

// Reads whole frames until `count` have arrived; their opcodes by stream.
std::map<int16_t, uint8_t> ReadFrames(int fd, size_t count) {
  std::map<int16_t, uint8_t> out;
  std::string in;
  while (out.size() < count) {
    const std::string got = ReadSome(fd);
    if (got == "closed" || got == "timeout") break;
    in += got;
    while (in.size() >= cql::native::kHeaderBytes) {
      const size_t length = cql::native::GetBe(in.data() + 5, 4);
      if (in.size() < cql::native::kHeaderBytes + length) break;
      out[static_cast<int16_t>(cql::native::GetBe(in.data() + 2, 2))] = static_cast<uint8_t>(in[4]);
      in.erase(0, cql::native::kHeaderBytes + length);
    }
  }
  return out;
}

class CqlListenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ringkv::testing::TempDir("cql-listener");
    NodeProcessOptions options;
    options.data_dir = dir_ + "/n1";
    node_ = std::make_unique<NodeProcess>(options);
    ASSERT_TRUE(node_->Start().ok()) << node_->log();
    CqlListenerOptions cql;
    cql.port = 0;
    cql.node_address = node_->address();
    cql.startup_timeout_ms = 300;
    cql.frame_timeout_ms = 300;
    // Room for fewer bytes than one frame: the listener must still take the largest frame,
    // and frames that wait must be taken once answers drain.
    cql.limits.body_bytes_max = 256 << 10;
    cql.requests_queued_bytes_max = 1;
    listener_ = std::make_unique<CqlListener>(&log_, cql);
    ASSERT_TRUE(listener_->Start().ok());
  }
  void TearDown() override {
    listener_.reset();
    node_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string dir_;
  SystemClock clock_{0};
  Logger log_{"test", LogLevel::kWarn, &clock_};
  std::unique_ptr<NodeProcess> node_;
  std::unique_ptr<CqlListener> listener_;
};

TEST_F(CqlListenerTest, SilentConnectionIsClosedAfterTheStartupDeadline) {
  const auto start = std::chrono::steady_clock::now();
  const int fd = Connect(listener_->port(), 10'000);
  EXPECT_EQ(ReadSome(fd), "closed");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  ::close(fd);
}

TEST_F(CqlListenerTest, StalledFrameIsClosedButIdleConnectionIsKept) {
  const int stalled = Connect(listener_->port(), 10'000);
  const int idle = Connect(listener_->port(), 1'000);
  const std::string startup = Startup();
  for (int fd : {stalled, idle}) {
    ASSERT_EQ(::send(fd, startup.data(), startup.size(), 0), static_cast<ssize_t>(startup.size()));
    const std::string ready = ReadSome(fd);
    ASSERT_GE(ready.size(), cql::native::kHeaderBytes);
    EXPECT_EQ(ready[4], static_cast<char>(cql::native::Opcode::kReady));
  }
  // Half a header, then nothing: closed at the frame deadline.
  ASSERT_EQ(::send(stalled, startup.data(), 5, 0), 5);
  EXPECT_EQ(ReadSome(stalled), "closed");
  // Idle between frames: still open when the read gives up after a second (> 300 ms).
  EXPECT_EQ(ReadSome(idle), "timeout");
  ::close(stalled);
  ::close(idle);
}

TEST_F(CqlListenerTest, FramesLargerThanTheQueuedByteLimitAreStillServed) {
  const int fd = Connect(listener_->port(), 10'000);
  std::string stream = Startup();
  // Three ~200 KiB queries pipelined: each alone fills the connection's byte allowance.
  for (int16_t i = 1; i <= 3; ++i) {
    cql::native::BodyWriter q;
    q.LongString("SELECT * FROM system.local WHERE key = '" + std::string(200 << 10, 'x') + "'");
    q.Short(1);  // ONE
    q.Byte(0);
    stream += Frame(cql::native::Opcode::kQuery, q.body(), i);
  }
  ASSERT_EQ(::send(fd, stream.data(), stream.size(), 0), static_cast<ssize_t>(stream.size()));
  const auto answers = ReadFrames(fd, 4);
  ASSERT_EQ(answers.size(), 4u);
  EXPECT_EQ(answers.at(0), static_cast<uint8_t>(cql::native::Opcode::kReady));
  for (int16_t i = 1; i <= 3; ++i) {
    EXPECT_EQ(answers.at(i), static_cast<uint8_t>(cql::native::Opcode::kResult)) << i;
  }
  ::close(fd);
}

}  // namespace
}  // namespace ringkv
