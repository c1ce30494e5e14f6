// Anti-entropy's wire: every request and answer kind through Fill and Read, malformed frames
// refused, and AaeClient against a real in-process Server on 127.0.0.1 whose handler answers from
// a TictacTree. Waits are loops bounded by deadlines that stop as soon as the awaited thing
// happens.
#include "node/server/aae_wire.h"

#include <capnp/message.h>
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <random>
#include <thread>

#include "aae/aae_testing.h"
#include "common/limits.h"
#include "node/kv_service.h"
#include "node/log.h"
#include "node/server/server.h"
#include "node/server/wire_convert.h"
#include "node/testing/raw_connection.h"
#include "node/testing/run_io.h"
#include "proto/frame.h"
#include "storage/memory_storage.h"

namespace ringkv {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;

constexpr char kSecret[] = "aae-test-secret";
constexpr char kKeyspace[] = "ks";
const TokenRange kRange{-1000, 5000};
const TreeShape kShape{16, 8};

// ---- Fill and Read ----------------------------------------------------------------------------

AaeCall RoundTrip(const std::string& keyspace, const TokenRange& range, const AaeRequest& request) {
  capnp::MallocMessageBuilder m;
  auto out = m.initRoot<wire::AaeRequest>();
  FillAaeRequest(out, keyspace, range, request);
  auto read = ReadAaeRequest(out.asReader());
  EXPECT_TRUE(read.ok()) << read.status().ToString();
  return read.ok() ? std::move(read).value() : AaeCall{};
}

AaeAnswer RoundTrip(const AaeAnswer& answer) {
  capnp::MallocMessageBuilder m;
  auto out = m.initRoot<wire::AaeResult>();
  FillAaeResult(out, answer);
  auto read = ReadAaeResult(out.asReader());
  EXPECT_TRUE(read.ok()) << read.status().ToString();
  return read.ok() ? std::move(read).value() : AaeAnswer{};
}

// The ids of a request other than a root request.
std::vector<uint32_t> Ids(const AaeRequest& r) {
  if (const auto* b = std::get_if<BranchesRequest>(&r)) return b->branches;
  if (const auto* l = std::get_if<LeavesRequest>(&r)) return l->branches;
  if (const auto* k = std::get_if<KeysRequest>(&r)) return k->segments;
  return {};
}

// Requests and answers have no operator==: compared through their kind and contents.
void ExpectSameRequest(const AaeRequest& got, const AaeRequest& want) {
  ASSERT_EQ(got.index(), want.index());
  if (const auto* root = std::get_if<RootRequest>(&want)) {
    EXPECT_EQ(std::get<RootRequest>(got).shape, root->shape);
  }
  EXPECT_EQ(Ids(got), Ids(want));
}

void ExpectSameAnswer(const AaeAnswer& got, const AaeAnswer& want) {
  ASSERT_EQ(got.index(), want.index());
  if (const auto* root = std::get_if<RootAnswer>(&want)) {
    EXPECT_EQ(std::get<RootAnswer>(got).shape, root->shape);
    EXPECT_EQ(std::get<RootAnswer>(got).root, root->root);
  } else if (const auto* b = std::get_if<BranchesAnswer>(&want)) {
    EXPECT_EQ(std::get<BranchesAnswer>(got).hashes, b->hashes);
  } else if (const auto* l = std::get_if<LeavesAnswer>(&want)) {
    EXPECT_EQ(std::get<LeavesAnswer>(got).hashes, l->hashes);
  } else {
    EXPECT_EQ(std::get<KeysAnswer>(got).keys, std::get<KeysAnswer>(want).keys);
  }
}

TEST(AaeWireTest, EveryRequestKindRoundTrips) {
  const std::vector<AaeRequest> requests = {
      RootRequest{TreeShape{1024, 256}},
      BranchesRequest{{0, 3, 1023}},
      LeavesRequest{{7}},
      KeysRequest{{1, 2, 70000, kSegmentsMax - 1}},
      BranchesRequest{},  // empty lists travel too
  };
  for (const AaeRequest& request : requests) {
    const AaeCall call = RoundTrip("events", TokenRange{kTokenMax, kTokenMin + 1}, request);
    EXPECT_EQ(call.keyspace, "events");
    EXPECT_EQ(call.range, (TokenRange{kTokenMax, kTokenMin + 1}));
    ExpectSameRequest(call.request, request);
  }
}

TEST(AaeWireTest, EveryAnswerKindRoundTrips) {
  const std::vector<AaeAnswer> answers = {
      RootAnswer{TreeShape{64, 32}, 0xfedcba9876543210},
      BranchesAnswer{{0, 1, ~uint64_t{0}}},
      LeavesAnswer{{5, 6, 7, 8}},
      KeysAnswer{{{"a", 1}, {std::string("\0bin\xff", 5), 2}, {std::string(kKeyBytesMax, 'k'), 3}}},
      KeysAnswer{},
  };
  for (const AaeAnswer& answer : answers) ExpectSameAnswer(RoundTrip(answer), answer);
}

TEST(AaeWireTest, MalformedRequestsAreRefused) {
  auto expect_refused = [](const std::function<void(wire::AaeRequest::Builder)>& spoil,
                           std::string_view what) {
    capnp::MallocMessageBuilder m;
    auto out = m.initRoot<wire::AaeRequest>();
    FillAaeRequest(out, kKeyspace, kRange, BranchesRequest{{1, 2}});
    spoil(out);
    auto read = ReadAaeRequest(out.asReader());
    ASSERT_FALSE(read.ok()) << what;
    EXPECT_EQ(read.status().code(), Code::kInvalidArgument) << what;
    EXPECT_NE(read.status().message().find(what), std::string::npos) << read.status().ToString();
  };
  expect_refused([](auto r) { r.setKind(static_cast<wire::AaeKind>(9)); }, "unknown request kind");
  expect_refused([](auto r) { r.initIds(kAaeIdsMax + 1); }, "ids in one request");
  expect_refused([](auto r) { r.setKeyspace(std::string(kKeyspaceNameBytesMax + 1, 'k')); },
                 "keyspace name");
}

TEST(AaeWireTest, MalformedAnswersAreRefused) {
  auto expect_refused = [](const std::function<void(wire::AaeResult::Builder)>& spoil,
                           std::string_view what) {
    capnp::MallocMessageBuilder m;
    auto out = m.initRoot<wire::AaeResult>();
    FillAaeResult(out, KeysAnswer{{{"a", 1}}});
    spoil(out);
    auto read = ReadAaeResult(out.asReader());
    ASSERT_FALSE(read.ok()) << what;
    EXPECT_EQ(read.status().code(), Code::kProtocol) << what;
    EXPECT_NE(read.status().message().find(what), std::string::npos) << read.status().ToString();
  };
  expect_refused([](auto r) { r.setKind(static_cast<wire::AaeKind>(4)); }, "unknown answer kind");
  expect_refused([](auto r) { r.initHashes(kAaeHashesMax + 1); }, "hashes in one answer");
  const std::string long_key(kKeyBytesMax + 1, 'x');
  expect_refused([&](auto r) { r.getKeys()[0].setKey(WireData(long_key)); }, "a key of 65537");
  expect_refused([](auto r) { r.getKeys()[0].setKey(WireData("")); }, "a key of 0 bytes");
}

TEST(AaeWireTest, NoHandlerMeansAntiEntropyIsOff) {
  capnp::MallocMessageBuilder m;
  auto out = m.initRoot<wire::AaeRequest>();
  FillAaeRequest(out, kKeyspace, kRange, RootRequest{kShape});
  auto answer = AnswerAae(nullptr, "n2", out.asReader());
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(answer.status().message(), "anti-entropy is off on n2");
}

// ---- over real sockets ------------------------------------------------------------------------

// The replica of kRange of kKeyspace the server answers for; any other range is refused.
Result<AaeAnswer> AnswerFor(const aae_testing::Replica& replica, const std::string& keyspace,
                            const TokenRange& range, const AaeRequest& request) {
  if (keyspace != kKeyspace || range != kRange) {
    return Status::InvalidArgument("not a range this node replicates: " + range.ToString());
  }
  return replica.Answer(request);
}

class AaeWireServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.node_name = "answerer";
    options.cluster_secret = kSecret;
    options.listen_host = "127.0.0.1";
    options.listen_port = 0;  // any free port
    server_ = std::make_unique<Server>(&io_, &service_, &storage_, &clock_, &log_, options);
    ASSERT_TRUE(server_->Start().ok());
    server_->SetAaeHandler(
        [this](const std::string& keyspace, const TokenRange& range, const AaeRequest& request) {
          return AnswerFor(replica_, keyspace, range, request);
        });
    client_ = std::make_unique<MembershipClient>(&io_, ClientOptions(kSecret));
    aae_ = std::make_unique<AaeClient>(client_.get());
  }

  void TearDown() override {
    aae_.reset();
    client_.reset();
    server_->CloseAll();
    io_.restart();
    io_.poll();
    server_.reset();
  }

  static MembershipClientOptions ClientOptions(const std::string& secret) {
    MembershipClientOptions o;
    o.node_name = "asker";
    o.cluster_name = "ringkv";
    o.cluster_secret = secret;
    o.bind_host = "127.0.0.1";
    return o;
  }

  std::string address() const { return "127.0.0.1:" + std::to_string(server_->port()); }

  // Runs the loop until `done` holds; false if `timeout_ms` passed first.
  bool RunUntil(const std::function<bool()>& done, int64_t timeout_ms = 5000) {
    return testing::RunIoUntil(io_, done, timeout_ms);
  }

  Result<AaeAnswer> Ask(AaeTransport* transport, const AaeRequest& request,
                        const TokenRange& range = kRange) {
    std::optional<Result<AaeAnswer>> got;
    int calls = 0;
    transport->AskAae(address(), kKeyspace, range, request, 5000, [&](Result<AaeAnswer> r) {
      ++calls;
      got.emplace(std::move(r));
    });
    EXPECT_TRUE(RunUntil([&] { return got.has_value(); }));
    EXPECT_EQ(calls, 1);
    if (!got) return Status::Timeout("no answer within the test's deadline", false);
    return std::move(*got);
  }

  asio::io_context io_;
  SystemClock clock_;
  Logger log_{"aae-wire-test", LogLevel::kWarn, &clock_};
  MemoryStorage storage_;
  KvService service_{&storage_, &clock_, 0xa1};
  std::mt19937_64 rng_{12};
  const aae_testing::Replica replica_{aae_testing::RandomKeys(300, rng_), kShape};
  std::unique_ptr<Server> server_;
  std::unique_ptr<MembershipClient> client_;
  std::unique_ptr<AaeClient> aae_;
};

TEST_F(AaeWireServerTest, EveryKindIsAnsweredAsTheReplicaWould) {
  // Segments that hold keys, so the keys answer is not empty.
  std::vector<uint32_t> segments;
  for (const auto& [key, version] : replica_.keys) {
    segments.push_back(SegmentOf(kShape, replica_.tree.range(), TokenOf(key)));
  }
  std::sort(segments.begin(), segments.end());
  segments.erase(std::unique(segments.begin(), segments.end()), segments.end());
  segments.resize(5);

  const std::vector<AaeRequest> requests = {
      RootRequest{kShape},
      BranchesRequest{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}},
      LeavesRequest{{2, 9}},
      KeysRequest{segments},
  };
  for (const AaeRequest& request : requests) {
    SCOPED_TRACE(request.index());
    auto want = replica_.Answer(request);
    ASSERT_TRUE(want.ok()) << want.status().ToString();
    auto got = Ask(aae_.get(), request);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ExpectSameAnswer(got.value(), want.value());
  }
  EXPECT_FALSE(std::get<KeysAnswer>(Ask(aae_.get(), KeysRequest{segments}).value()).keys.empty());
  EXPECT_NE(std::get<RootAnswer>(Ask(aae_.get(), RootRequest{kShape}).value()).root, 0u);
}

TEST_F(AaeWireServerTest, HandlerErrorsComeBackAsThePeersStatus) {
  auto other_range = Ask(aae_.get(), RootRequest{kShape}, TokenRange{0, 10});
  ASSERT_FALSE(other_range.ok());
  EXPECT_EQ(other_range.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(other_range.status().message(), "not a range this node replicates: (0, 10]");

  // aae's own validation, run by the handler: a tree of another shape.
  auto other_shape = Ask(aae_.get(), RootRequest{TreeShape{32, 8}});
  ASSERT_FALSE(other_shape.ok());
  EXPECT_EQ(other_shape.status().code(), Code::kInvalidArgument);

  server_->SetAaeHandler([](const std::string&, const TokenRange&, const AaeRequest&) {
    return Result<AaeAnswer>(Status::Unavailable("trees still building", 3, 1));
  });
  auto building = Ask(aae_.get(), RootRequest{kShape});
  ASSERT_FALSE(building.ok());
  EXPECT_EQ(building.status().code(), Code::kUnavailable);
  EXPECT_EQ(building.status().message(), "trees still building");
  EXPECT_EQ(building.status().needed(), 3u);
  EXPECT_EQ(building.status().alive(), 1u);

  server_->SetAaeHandler(nullptr);
  auto off = Ask(aae_.get(), RootRequest{kShape});
  ASSERT_FALSE(off.ok());
  EXPECT_EQ(off.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(off.status().message(), "anti-entropy is off on answerer");
}

TEST_F(AaeWireServerTest, AnAnswerOfAnotherKindIsAProtocolError) {
  server_->SetAaeHandler([](const std::string&, const TokenRange&, const AaeRequest&) {
    return Result<AaeAnswer>(AaeAnswer{BranchesAnswer{{1, 2}}});
  });
  auto got = Ask(aae_.get(), RootRequest{kShape});
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Code::kProtocol);
  EXPECT_EQ(got.status().message(), "anti-entropy: asked for root, answered branches");
}

TEST_F(AaeWireServerTest, AnAskerWithAWrongSecretIsRefused) {
  MembershipClient stranger(&io_, ClientOptions("not-the-secret"));
  AaeClient aae(&stranger);
  auto got = Ask(&aae, RootRequest{kShape});
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Code::kUnauthorized) << got.status().ToString();
  EXPECT_EQ(server_->strangers_refused(), 1u);
}

TEST_F(AaeWireServerTest, AClientConnectionSendingTheFrameIsRefusedUnauthorized) {
  // RawConnection blocks: the server's loop runs on its own thread meanwhile, and the test reads
  // the server's counter only once that thread has stopped.
  auto work = asio::make_work_guard(io_);
  std::thread loop([this] { io_.run(); });
  Status sent;
  Result<std::unique_ptr<proto::DecodedFrame>> reply = Status::Internal("not read");
  {
    auto raw = testing::RawConnection::Connect(server_->port());
    ASSERT_TRUE(raw.ok()) << raw.status().ToString();
    sent = raw.value()->Handshake();
    if (sent.ok()) {
      proto::FrameBuilder m;
      auto frame = m.initRoot<wire::Frame>();
      frame.setRequestId(7);
      FillAaeRequest(frame.initAae(), kKeyspace, kRange, RootRequest{kShape});
      sent = raw.value()->Send(m);
    }
    if (sent.ok()) reply = raw.value()->ReadFrame();
  }
  work.reset();
  io_.stop();
  loop.join();

  ASSERT_TRUE(sent.ok()) << sent.ToString();
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  auto root = reply.value()->root();
  EXPECT_EQ(root.getRequestId(), 7u);
  ASSERT_EQ(root.which(), wire::Frame::ERROR);
  EXPECT_EQ(root.getError().getCode(), wire::ErrorCode::UNAUTHORIZED);
  EXPECT_EQ(server_->strangers_refused(), 1u);
}

}  // namespace
}  // namespace ringkv
