// End-to-end: a real kvnode fed bad input over raw TCP on 127.0.0.1. Every case gets a clear error
// or a closed connection, the node stays up, and other clients are unaffected.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "node/testing/node_process.h"
#include "node/testing/raw_connection.h"

namespace ringkv::testing {
namespace {

using std::chrono::milliseconds;

capnp::Data::Reader AsData(std::string_view s) {
  return {reinterpret_cast<const kj::byte*>(s.data()), s.size()};
}

class KvnodeWireTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(
        (std::filesystem::temp_directory_path() /
         ("ringkv-wire-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}())))
            .string());
    NodeProcessOptions options;
    options.data_dir = *dir_ + "/n1";
    options.sync = "always";
    options.extra_args = {"--handshake-timeout-ms", "300", "--frame-timeout-ms", "300",
                          "--in-flight-max",        "4",   "--value-bytes-max",  "4096"};
    node_ = new NodeProcess(options);
    Status s = node_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  static void TearDownTestSuite() {
    delete node_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  void TearDown() override {
    // After every bad input: the node is up and a well-behaved client is served.
    ASSERT_TRUE(node_->running());
    auto good = Connected();
    ExpectServed(good.get(), 77);
  }

  // Sends an info request and expects its answer: the connection (and the node) still serve.
  static void ExpectServed(RawConnection* c, uint64_t id) {
    capnp::MallocMessageBuilder m;
    auto frame = m.initRoot<wire::Frame>();
    frame.setRequestId(id);
    frame.initInfo();
    ASSERT_TRUE(c->Send(m).ok());
    auto reply = c->ReadFrame();
    ASSERT_TRUE(reply.ok()) << reply.status().ToString() << "\n" << node_->log();
    EXPECT_EQ(reply.value()->root().which(), wire::Frame::INFO_RESULT);
    EXPECT_EQ(reply.value()->root().getRequestId(), id);
  }

  static std::unique_ptr<RawConnection> Raw() {
    auto c = RawConnection::Connect(node_->port());
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return std::move(c).value();
  }
  static std::unique_ptr<RawConnection> Connected() {
    auto c = Raw();
    Status s = c->Handshake();
    EXPECT_TRUE(s.ok()) << s.ToString();
    return c;
  }
  // Expects a connection-level error whose message contains `needle`, then a close.
  static void ExpectConnectionError(RawConnection* c, wire::ErrorCode code, std::string_view needle) {
    auto reply = c->ReadFrame();
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    auto root = reply.value()->root();
    ASSERT_EQ(root.which(), wire::Frame::ERROR);
    EXPECT_EQ(root.getRequestId(), 0u);
    EXPECT_EQ(root.getError().getCode(), code);
    std::string message = root.getError().getMessage();
    EXPECT_NE(message.find(needle), std::string::npos) << message;
    EXPECT_TRUE(c->WaitClosed());
  }
  static void SendPut(RawConnection* c, uint64_t id, std::string_view key, std::string_view value) {
    capnp::MallocMessageBuilder m;
    auto frame = m.initRoot<wire::Frame>();
    frame.setRequestId(id);
    auto put = frame.initPut();
    put.setKey(AsData(key));
    put.setValue(AsData(value));
    ASSERT_TRUE(c->Send(m).ok());
  }

  static std::string* dir_;
  static NodeProcess* node_;
};
std::string* KvnodeWireTest::dir_ = nullptr;
NodeProcess* KvnodeWireTest::node_ = nullptr;

TEST_F(KvnodeWireTest, GarbageBytesGetAProtocolErrorAndAClose) {
  auto c = Raw();
  ASSERT_TRUE(c->SendBytes(std::string("\xff\xff\xff\x7fGET / HTTP/1.1\r\n\r\n", 22)).ok());
  ExpectConnectionError(c.get(), wire::ErrorCode::PROTOCOL, "segments");
}

TEST_F(KvnodeWireTest, OversizedFrameIsRefusedFromItsHeaderAlone) {
  auto c = Connected();
  // One segment claiming 1 GiB; the body is never sent.
  const uint32_t header[2] = {0, (1u << 30) / 8};
  ASSERT_TRUE(c->SendBytes(std::string_view(reinterpret_cast<const char*>(header), 8)).ok());
  ExpectConnectionError(c.get(), wire::ErrorCode::PROTOCOL, "exceeds the maximum");
}

TEST_F(KvnodeWireTest, HalfWrittenFrameIsDroppedAfterTheTimeoutWhileOthersAreServed) {
  auto stalled = Connected();
  SendPut(stalled.get(), 5, "k", "v");
  capnp::MallocMessageBuilder m;
  auto frame = m.initRoot<wire::Frame>();
  frame.setRequestId(6);
  frame.initPut().setKey(AsData("half"));
  const std::string bytes = proto::EncodeFrameBytes(m);
  ASSERT_TRUE(stalled->SendBytes(bytes.substr(0, bytes.size() / 2)).ok());
  // A second client is served while the first stalls.
  auto other = Connected();
  SendPut(other.get(), 9, "other", "fine");
  auto answer = other->ReadFrame();
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(answer.value()->root().which(), wire::Frame::PUT_RESULT);
  auto first = stalled->ReadFrame();  // the complete put before the half frame is answered
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first.value()->root().getRequestId(), 5u);
  ExpectConnectionError(stalled.get(), wire::ErrorCode::PROTOCOL, "incomplete frame");
}

TEST_F(KvnodeWireTest, SilentClientIsDisconnectedAfterTheHandshakeTimeout) {
  auto c = Raw();
  ExpectConnectionError(c.get(), wire::ErrorCode::PROTOCOL, "no handshake");
}

TEST_F(KvnodeWireTest, RequestBeforeHelloIsAProtocolError) {
  auto c = Raw();
  SendPut(c.get(), 1, "k", "v");
  ExpectConnectionError(c.get(), wire::ErrorCode::PROTOCOL, "first message must be hello");
}

TEST_F(KvnodeWireTest, WrongProtocolVersionAndWrongClusterAreRefused) {
  {
    auto c = Raw();
    capnp::MallocMessageBuilder m;
    auto hello = m.initRoot<wire::Frame>().initHello();
    hello.setProtocolVersion(wire::PROTOCOL_VERSION + 1);
    ASSERT_TRUE(c->Send(m).ok());
    ExpectConnectionError(c.get(), wire::ErrorCode::PROTOCOL, "not supported");
  }
  auto c = Raw();
  EXPECT_FALSE(c->Handshake("some-other-cluster").ok());
}

TEST_F(KvnodeWireTest, TooManyRequestsInFlightAreAnsweredOverloaded) {
  auto c = Connected();
  constexpr int kRequests = 40;
  std::string burst;
  for (int i = 1; i <= kRequests; ++i) {
    capnp::MallocMessageBuilder m;
    auto put = m.initRoot<wire::Frame>();
    put.setRequestId(static_cast<uint64_t>(i));
    auto p = put.initPut();
    const std::string key = "burst" + std::to_string(i);
    p.setKey(AsData(key));
    p.setValue(AsData("v"));
    burst += proto::EncodeFrameBytes(m);
  }
  ASSERT_TRUE(c->SendBytes(burst).ok());
  int ok = 0, overloaded = 0;
  std::set<uint64_t> ids;
  for (int i = 0; i < kRequests; ++i) {
    auto reply = c->ReadFrame();
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    auto root = reply.value()->root();
    ids.insert(root.getRequestId());
    if (root.which() == wire::Frame::PUT_RESULT) ++ok;
    if (root.which() == wire::Frame::ERROR) {
      EXPECT_EQ(root.getError().getCode(), wire::ErrorCode::OVERLOADED);
      ++overloaded;
    }
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kRequests)) << "every request answered exactly once";
  EXPECT_EQ(ok + overloaded, kRequests);
  EXPECT_GE(ok, 4);
  EXPECT_GE(overloaded, 1) << "the burst exceeded --in-flight-max 4";
}

TEST_F(KvnodeWireTest, OversizedKeyAndValueGetInvalidArgument) {
  auto c = Connected();
  SendPut(c.get(), 1, std::string(64 * 1024 + 1, 'k'), "v");
  SendPut(c.get(), 2, "k", std::string(4097, 'v'));
  for (int i = 0; i < 2; ++i) {
    auto reply = c->ReadFrame();
    ASSERT_TRUE(reply.ok());
    auto root = reply.value()->root();
    ASSERT_EQ(root.which(), wire::Frame::ERROR);
    EXPECT_EQ(root.getError().getCode(), wire::ErrorCode::INVALID_ARGUMENT);
    std::string message = root.getError().getMessage();
    EXPECT_NE(message.find("exceeds the maximum"), std::string::npos) << message;
  }
}

TEST_F(KvnodeWireTest, SelfReferentialPointerHitsTheNestingLimit) {
  auto c = Connected();
  // One segment of one word: a struct pointer with offset -1 (to itself), no data, one pointer.
  const uint32_t words[4] = {0, 1, 0xfffffffcu, 0x00010000u};
  ASSERT_TRUE(c->SendBytes(std::string_view(reinterpret_cast<const char*>(words), 16)).ok());
  ExpectConnectionError(c.get(), wire::ErrorCode::PROTOCOL, "malformed frame");
}

TEST_F(KvnodeWireTest, UnknownRequestKindIsRefusedAloneAndTheConnectionStays) {
  auto c = Connected();
  capnp::MallocMessageBuilder m;
  auto frame = m.initRoot<wire::Frame>();
  frame.setRequestId(5);
  frame.initInfo();
  std::string bytes = proto::EncodeFrameBytes(m);
  // Frame's union tag is bits 64-80 of its data section: after the segment table (8 bytes), the
  // root pointer (8) and requestId (8). 99 is a request kind from some future protocol.
  ASSERT_EQ(static_cast<uint8_t>(bytes[24]), static_cast<uint8_t>(wire::Frame::INFO));
  bytes[24] = 99;
  bytes[25] = 0;
  ASSERT_TRUE(c->SendBytes(bytes).ok());
  auto reply = c->ReadFrame();
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  auto root = reply.value()->root();
  ASSERT_EQ(root.which(), wire::Frame::ERROR);
  EXPECT_EQ(root.getRequestId(), 5u);
  EXPECT_EQ(root.getError().getCode(), wire::ErrorCode::INVALID_ARGUMENT);
  ExpectServed(c.get(), 6);
}

TEST_F(KvnodeWireTest, AnAnswerSentAsARequestIsAProtocolError) {
  auto c = Connected();
  capnp::MallocMessageBuilder m;
  auto frame = m.initRoot<wire::Frame>();
  frame.setRequestId(8);
  frame.initGetResult().setFound(true);
  ASSERT_TRUE(c->Send(m).ok());
  ExpectConnectionError(c.get(), wire::ErrorCode::PROTOCOL, "sent as a request");
}

TEST_F(KvnodeWireTest, ReplicaMessagesFromAClientAreUnauthorized) {
  auto c = Connected();
  capnp::MallocMessageBuilder m;
  auto frame = m.initRoot<wire::Frame>();
  frame.setRequestId(3);
  frame.initReplicaRead().setKey(AsData("k"));
  ASSERT_TRUE(c->Send(m).ok());
  auto reply = c->ReadFrame();
  ASSERT_TRUE(reply.ok());
  ASSERT_EQ(reply.value()->root().which(), wire::Frame::ERROR);
  EXPECT_EQ(reply.value()->root().getError().getCode(), wire::ErrorCode::UNAUTHORIZED);
}

}  // namespace
}  // namespace ringkv::testing
