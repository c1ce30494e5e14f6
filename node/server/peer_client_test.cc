// PeerClient against real in-process nodes (Server + KvService + LevelDbStorage) and against a
// scripted fake peer for what a real node will not do on cue (answer out of order, stay silent,
// vanish mid-request). Everything runs on the test thread's io_context; waits are loops bounded by
// deadlines that stop as soon as the awaited thing happens. All traffic stays on 127.0.0.1.
//
// AsioTimers is tested here too: it is the PeerClient's clock of deadlines.
#include "node/server/peer_client.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <optional>
#include <random>

#include "node/server/asio_timers.h"
#include "node/kv_service.h"
#include "node/server/server.h"
#include "node/testing/run_io.h"
#include "storage/leveldb_storage.h"

namespace ringkv {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;

constexpr char kSecret[] = "peer-test-secret";

uint16_t RandomPort(std::mt19937* rng) { return static_cast<uint16_t>(20000 + (*rng)() % 12000); }

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// What a call was answered with, and how many times.
template <typename T>
struct Outcome {
  int count = 0;
  std::optional<T> value;
  int64_t at_us = 0;  // SystemClock::MonoUs when answered
  const Status& status() const {
    if constexpr (std::is_same_v<T, Status>) {
      return *value;
    } else {
      return value->status();
    }
  }
};
using WriteOutcome = Outcome<Status>;
using ReadOutcome = Outcome<Result<PeerTransport::ReadReply>>;
using ForwardOutcome = Outcome<Result<WriteReply>>;

template <typename T>
std::function<void(T)> Into(std::shared_ptr<Outcome<T>> out) {
  return [out](T v) {
    ++out->count;
    out->value.emplace(std::move(v));
    out->at_us = SystemClock().MonoUs();
  };
}

// ---- a scripted peer ------------------------------------------------------------------------

// Listens on 127.0.0.1, answers the hello as node `name` (unless kSilent), records requests and
// answers them as its mode says. Its handlers hold its state by shared_ptr, so destroying it with
// handlers pending is safe.
class FakePeer {
 public:
  enum class Mode {
    kSilent,      // reads everything, answers nothing, not even the hello
    kHold,        // answers the hello; keeps requests until AnswerHeld()
    kAnswer,      // answers every request at once
    kCloseAfter,  // answers the hello; closes the connection once close_after requests came
  };

  FakePeer(asio::io_context* io, std::mt19937* rng, std::string name, Mode mode,
           uint32_t in_flight_max = 128)
      : impl_(std::make_shared<Impl>(io, std::move(name), mode, in_flight_max)) {
    impl_->Listen(rng);
  }
  ~FakePeer() { impl_->Stop(); }

  std::string address() const { return fmt::format("127.0.0.1:{}", impl_->port); }
  void set_mode(Mode mode) { impl_->mode = mode; }
  void set_close_after(size_t n) { impl_->close_after = n; }
  size_t accepted() const { return impl_->accepted; }
  size_t received() const { return impl_->received; }
  size_t held() const { return impl_->held.size(); }
  // Answers every held request, the newest first.
  void AnswerHeld() { impl_->AnswerHeld(); }
  void CloseConnections() { impl_->CloseConnections(); }
  const std::string& remote_ip() const { return impl_->remote_ip; }
  const std::string& secret_seen() const { return impl_->secret_seen; }
  // The last put or del received.
  bool forwarded() const { return impl_->forwarded; }
  wire::Consistency consistency() const { return impl_->consistency; }
  uint8_t w() const { return impl_->w; }
  uint32_t timeout_ms() const { return impl_->timeout_ms; }

 private:
  struct Conn {
    explicit Conn(tcp::socket s) : socket(std::move(s)) {}
    tcp::socket socket;
    proto::FrameDecoder decoder;
    std::array<uint8_t, 64 * 1024> buf;
    bool hello_seen = false;
    bool silent = false;
  };
  struct Held {
    std::shared_ptr<Conn> conn;
    uint64_t id;
    wire::Frame::Which which;
  };

  struct Impl : std::enable_shared_from_this<Impl> {
    Impl(asio::io_context* io, std::string name, Mode mode, uint32_t in_flight_max)
        : acceptor(*io), name(std::move(name)), mode(mode), in_flight_max(in_flight_max) {}

    void Listen(std::mt19937* rng) {
      for (int attempt = 0; attempt < 200; ++attempt) {
        boost::system::error_code ec;
        tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), RandomPort(rng));
        acceptor.open(endpoint.protocol(), ec);
        if (!ec) acceptor.bind(endpoint, ec);
        if (!ec) acceptor.listen(64, ec);
        if (!ec) break;
        acceptor.close(ec);
      }
      ASSERT_TRUE(acceptor.is_open()) << "no free port in [20000, 32000)";
      port = acceptor.local_endpoint().port();
      Accept();
    }

    void Accept() {
      acceptor.async_accept(
          [self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
            if (self->stopped || ec) return;
            ++self->accepted;
            boost::system::error_code ignored;
            self->remote_ip = socket.remote_endpoint(ignored).address().to_string();
            auto conn = std::make_shared<Conn>(std::move(socket));
            self->conns.push_back(conn);
            self->Read(conn);
            self->Accept();
          });
    }

    void Read(const std::shared_ptr<Conn>& conn) {
      conn->socket.async_read_some(
          asio::buffer(conn->buf),
          [self = shared_from_this(), conn](boost::system::error_code ec, size_t n) {
            if (self->stopped || ec) return;
            conn->decoder.Feed(conn->buf.data(), n);
            for (;;) {
              std::unique_ptr<proto::DecodedFrame> frame;
              std::string error;
              const auto r = conn->decoder.Next(&frame, &error);
              ASSERT_NE(r, proto::FrameDecoder::Result::kError) << error;
              if (r == proto::FrameDecoder::Result::kNeedMore) break;
              self->Handle(conn, frame->root());
              if (!conn->socket.is_open()) return;
            }
            self->Read(conn);
          });
    }

    void Handle(const std::shared_ptr<Conn>& conn, wire::Frame::Reader frame) {
      if (!conn->hello_seen) {
        conn->hello_seen = true;
        EXPECT_TRUE(frame.isHello());
        auto secret = frame.getHello().getSecret();
        secret_seen.assign(reinterpret_cast<const char*>(secret.begin()), secret.size());
        if (mode == Mode::kSilent) {
          conn->silent = true;
          return;
        }
        capnp::MallocMessageBuilder m;
        auto out = m.initRoot<wire::Frame>();
        out.setRequestId(frame.getRequestId());
        auto ok = out.initHelloOk();
        ok.setProtocolVersion(wire::PROTOCOL_VERSION);
        ok.setNodeName(name);
        ok.setClusterName("ringkv");
        ok.setFrameBytesMax(20u << 20);
        ok.setInFlightMax(in_flight_max);
        Send(conn, m);
        return;
      }
      if (conn->silent) return;
      ++received;
      if (frame.isPut()) {
        forwarded = frame.getPut().getForwarded();
        consistency = frame.getPut().getConsistency();
        w = frame.getPut().getW();
        timeout_ms = frame.getPut().getTimeoutMs();
      } else if (frame.isDel()) {
        forwarded = frame.getDel().getForwarded();
        timeout_ms = frame.getDel().getTimeoutMs();
      }
      Held h{conn, frame.getRequestId(), frame.which()};
      switch (mode) {
        case Mode::kAnswer:
          Answer(h);
          break;
        case Mode::kCloseAfter:
          held.push_back(h);
          if (received >= close_after) {
            boost::system::error_code ignored;
            conn->socket.close(ignored);
          }
          break;
        case Mode::kSilent:
        case Mode::kHold:
          held.push_back(h);
          break;
      }
    }

    void Answer(const Held& h) {
      capnp::MallocMessageBuilder m;
      auto out = m.initRoot<wire::Frame>();
      out.setRequestId(h.id);
      switch (h.which) {
        case wire::Frame::REPLICA_WRITE:
          out.initReplicaWriteResult();
          break;
        case wire::Frame::REPLICA_READ:
          out.initReplicaReadResult().setFound(false);
          break;
        case wire::Frame::PUT: {
          auto put = out.initPutResult();
          put.setContext(capnp::Data::Reader(reinterpret_cast<const kj::byte*>("ctx"), 3));
          put.setSiblings(1);
          break;
        }
        case wire::Frame::DEL:
          out.initDelResult();
          break;
        default:
          ADD_FAILURE() << "unexpected request kind " << static_cast<int>(h.which);
      }
      Send(h.conn, m);
    }

    void AnswerHeld() {
      auto all = std::move(held);
      held.clear();
      for (auto it = all.rbegin(); it != all.rend(); ++it) Answer(*it);
    }

    // Small frames on loopback: a blocking write does not wait on the (same-thread) reader.
    static void Send(const std::shared_ptr<Conn>& conn, capnp::MessageBuilder& m) {
      auto words = proto::EncodeFrame(m);
      boost::system::error_code ignored;
      asio::write(conn->socket, asio::buffer(words.asBytes().begin(), words.asBytes().size()),
                  ignored);
    }

    void CloseConnections() {
      boost::system::error_code ignored;
      for (auto& c : conns) c->socket.close(ignored);
      conns.clear();
      held.clear();
    }

    void Stop() {
      stopped = true;
      boost::system::error_code ignored;
      acceptor.close(ignored);
      CloseConnections();
    }

    tcp::acceptor acceptor;
    const std::string name;
    Mode mode;
    const uint32_t in_flight_max;
    uint16_t port = 0;
    size_t close_after = 1;
    bool stopped = false;
    size_t accepted = 0, received = 0;
    std::vector<std::shared_ptr<Conn>> conns;
    std::vector<Held> held;
    std::string remote_ip, secret_seen;
    bool forwarded = false;
    wire::Consistency consistency = wire::Consistency::DEFAULT;
    uint8_t w = 0;
    uint32_t timeout_ms = 0;
  };

  std::shared_ptr<Impl> impl_;
};

// ---- the fixture ----------------------------------------------------------------------------

// A real node, in process, on the test's loop.
struct TestNode {
  std::filesystem::path dir;
  std::unique_ptr<LevelDbStorage> storage;
  std::unique_ptr<KvService> service;
  std::unique_ptr<Server> server;
  std::string address() const { return fmt::format("127.0.0.1:{}", server->port()); }
};

class PeerClientTest : public ::testing::Test {
 protected:
  void TearDown() override {
    client_.reset();
    for (auto& node : nodes_) node->server->CloseAll();
    for (auto& node : nodes_) node->storage->Drain();
    io_.restart();
    io_.poll();
    for (auto& node : nodes_) {
      node->server.reset();
      node->service.reset();
      node->storage.reset();
      std::filesystem::remove_all(node->dir);
    }
  }

  TestNode* StartNode(const std::string& name, const std::string& secret = kSecret,
                      const std::function<void(ServerOptions*)>& tweak = nullptr) {
    auto node = std::make_unique<TestNode>();
    node->dir = std::filesystem::temp_directory_path() /
                fmt::format("ringkv-peer-test-{}-{}-{}", ::getpid(), name, rng_());
    std::filesystem::remove_all(node->dir);
    std::filesystem::create_directories(node->dir);
    LevelDbOptions db;
    db.path = (node->dir / "db").string();
    db.sync_mode = SyncMode::kPeriodic;  // acknowledged once written to the OS: fast tests
    auto storage = LevelDbStorage::Open(
        db, [this](std::function<void()> task) { asio::post(io_, std::move(task)); });
    if (!storage.ok()) {
      ADD_FAILURE() << storage.status().ToString();
      return nullptr;
    }
    node->storage = std::move(storage).value();
    node->service = std::make_unique<KvService>(node->storage.get(), &clock_, 0xa0 + nodes_.size());
    for (int attempt = 0; attempt < 200 && !node->server; ++attempt) {
      ServerOptions options;
      options.node_name = name;
      options.cluster_secret = secret;
      options.listen_host = "127.0.0.1";
      options.listen_port = RandomPort(&rng_);
      if (tweak) tweak(&options);
      node->server = std::make_unique<Server>(&io_, node->service.get(), node->storage.get(),
                                              &clock_, &log_, options);
      if (!node->server->Start().ok()) node->server.reset();  // port taken: another one
    }
    if (!node->server) {
      ADD_FAILURE() << "no free port in [20000, 32000)";
      return nullptr;
    }
    nodes_.push_back(std::move(node));
    return nodes_.back().get();
  }

  PeerClientOptions Options() const {
    PeerClientOptions o;
    o.self_name = "self";
    o.cluster_secret = kSecret;
    o.bind_host = "127.0.0.1";
    return o;
  }
  PeerClient* MakeClient(PeerClientOptions options) {
    client_ = std::make_unique<PeerClient>(&io_, &clock_, &log_, std::move(options));
    return client_.get();
  }
  PeerClient* MakeClient() { return MakeClient(Options()); }

  // Runs the loop until `done` holds; false if `timeout_ms` passed first.
  bool RunUntil(const std::function<bool()>& done, int64_t timeout_ms = 5000) {
    return testing::RunIoUntil(io_, done, timeout_ms);
  }
  // Runs the loop for `ms`: to show that nothing (more) happens in that time.
  void RunFor(int64_t ms) {
    bool fired = false;
    asio::steady_timer t(io_, milliseconds(ms));
    t.async_wait([&](boost::system::error_code) { fired = true; });
    ASSERT_TRUE(RunUntil([&] { return fired; }, ms + 5000));
  }

  int64_t In(int64_t ms) const { return clock_.MonoUs() + ms * 1000; }

  VersionedObject Object(const std::string& value) const {
    VersionedObject o;
    Sibling s;
    s.value = value;
    s.timestamp_us = clock_.NowUs();
    EXPECT_TRUE(o.ApplyWrite(VersionVector(), 0x77, s, clock_.NowUs()).ok());
    return o;
  }

  std::shared_ptr<WriteOutcome> Write(const std::string& peer, const std::string& key,
                                      const std::string& value, int64_t deadline_us) {
    auto out = std::make_shared<WriteOutcome>();
    client_->ReplicaWrite(peer, "", key, Object(value), deadline_us, Into(out));
    return out;
  }
  std::shared_ptr<ReadOutcome> Read(const std::string& peer, const std::string& key,
                                    int64_t deadline_us) {
    auto out = std::make_shared<ReadOutcome>();
    client_->ReplicaRead(peer, "", key, deadline_us, Into(out));
    return out;
  }
  std::shared_ptr<ForwardOutcome> Forward(const std::string& peer, ForwardedWrite w,
                                          int64_t deadline_us) {
    auto out = std::make_shared<ForwardOutcome>();
    client_->ForwardWrite(peer, w, deadline_us, Into(out));
    return out;
  }
  static ForwardedWrite Put(const std::string& key, const std::string& value) {
    ForwardedWrite w;
    w.key = key;
    w.value = value;
    return w;
  }

  // Declared first: destroyed last, after everything that posts to it or waits on it.
  asio::io_context io_{1};
  SystemClock clock_;
  Logger log_{"peer-test", LogLevel::kWarn, &clock_};
  std::mt19937 rng_{std::random_device{}()};
  std::vector<std::unique_ptr<TestNode>> nodes_;
  std::unique_ptr<PeerClient> client_;
};

// ---- AsioTimers -----------------------------------------------------------------------------

TEST_F(PeerClientTest, TimersRunInDelayOrderAndCancelledOnesNever) {
  AsioTimers timers(&io_);
  std::vector<std::string> ran;
  const auto a = timers.After(30'000, [&] { ran.push_back("a"); });
  const auto b = timers.After(10'000, [&] { ran.push_back("b"); });
  const auto c = timers.After(20'000, [&] { ran.push_back("c"); });
  EXPECT_TRUE(a != b && b != c && a != c);
  EXPECT_EQ(timers.pending(), 3u);
  timers.Cancel(c);
  timers.Cancel(c);          // twice: no-op
  timers.Cancel(a + b + c);  // unknown: no-op
  ASSERT_TRUE(RunUntil([&] { return ran.size() == 2; }));
  EXPECT_EQ(ran, (std::vector<std::string>{"b", "a"}));
  timers.Cancel(a);  // already ran: no-op
  EXPECT_EQ(timers.pending(), 0u);
  RunFor(30);
  EXPECT_EQ(ran.size(), 2u);
}

TEST_F(PeerClientTest, TimersNeverRunInsideAfterAndMayRescheduleFromACallback) {
  AsioTimers timers(&io_);
  int runs = 0;
  Timers::TimerId self_id = 0;
  self_id = timers.After(-5, [&] {
    ++runs;
    timers.Cancel(self_id);  // cancelling itself while running: no-op
    if (runs < 3) self_id = timers.After(0, [&] { ++runs; });
  });
  EXPECT_EQ(runs, 0) << "a zero or negative delay still waits for the loop";
  ASSERT_TRUE(RunUntil([&] { return runs == 2; }));
  EXPECT_EQ(timers.pending(), 0u);
}

TEST_F(PeerClientTest, DestroyedTimersRunNothingEvenWhenAlreadyExpired) {
  auto timers = std::make_unique<AsioTimers>(&io_);
  int runs = 0;
  // Both expire at once; the first destroys the timers while the second's completion may already
  // be queued with success.
  timers->After(0, [&] {
    ++runs;
    timers.reset();
  });
  timers->After(0, [&] { ++runs; });
  timers->After(5'000, [&] { ++runs; });
  ASSERT_TRUE(RunUntil([&] { return runs >= 1; }));
  RunFor(30);
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(timers, nullptr);
}

// ---- PeerClient against real nodes ----------------------------------------------------------

TEST_F(PeerClientTest, ReplicaWriteThenReadRoundTrip) {
  TestNode* n1 = StartNode("n1");
  ASSERT_NE(n1, nullptr);
  PeerClient* client = MakeClient();
  client->SetPeerAddress("n1", n1->address());

  const VersionedObject object = Object("hello");
  auto w = std::make_shared<WriteOutcome>();
  client->ReplicaWrite("n1", "", "doc:1", object, In(5000), Into(w));
  EXPECT_EQ(w->count, 0) << "never answered inside the call";
  ASSERT_TRUE(RunUntil([&] { return w->count > 0; }));
  ASSERT_TRUE(w->status().ok()) << w->status().ToString();
  EXPECT_TRUE(client->Connected("n1"));

  auto r = Read("n1", "doc:1", In(5000));
  ASSERT_TRUE(RunUntil([&] { return r->count > 0; }));
  ASSERT_TRUE(r->status().ok()) << r->status().ToString();
  EXPECT_TRUE(r->value->value().found);
  EXPECT_EQ(r->value->value().object, object);
  RunFor(20);
  EXPECT_EQ(w->count, 1);
  EXPECT_EQ(r->count, 1);
  EXPECT_EQ(client->stats().connect_attempts, 1u);
}

TEST_F(PeerClientTest, ReplicaReadOfMissingKeyIsNotFound) {
  TestNode* n1 = StartNode("n1");
  ASSERT_NE(n1, nullptr);
  MakeClient()->SetPeerAddress("n1", n1->address());
  auto r = Read("n1", "never-written", In(5000));
  ASSERT_TRUE(RunUntil([&] { return r->count > 0; }));
  ASSERT_TRUE(r->status().ok()) << r->status().ToString();
  EXPECT_FALSE(r->value->value().found);
  EXPECT_TRUE(r->value->value().object.empty());
}

TEST_F(PeerClientTest, ForwardedPutIsAnsweredWithAContextAndLands) {
  TestNode* n1 = StartNode("n1");
  ASSERT_NE(n1, nullptr);
  MakeClient()->SetPeerAddress("n1", n1->address());
  auto put = Forward("n1", Put("doc:7", "forwarded value"), In(5000));
  ASSERT_TRUE(RunUntil([&] { return put->count > 0; }));
  ASSERT_TRUE(put->status().ok()) << put->status().ToString();
  EXPECT_FALSE(put->value->value().context.empty());
  EXPECT_EQ(put->value->value().siblings, 1u);

  auto r = Read("n1", "doc:7", In(5000));
  ASSERT_TRUE(RunUntil([&] { return r->count > 0; }));
  ASSERT_TRUE(r->status().ok()) << r->status().ToString();
  auto live = r->value->value().object.Live(clock_.NowUs());
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].value, "forwarded value");

  ForwardedWrite del;
  del.key = "doc:7";
  del.context = put->value->value().context;
  del.is_delete = true;
  auto d = Forward("n1", del, In(5000));
  ASSERT_TRUE(RunUntil([&] { return d->count > 0; }));
  ASSERT_TRUE(d->status().ok()) << d->status().ToString();
  auto after = Read("n1", "doc:7", In(5000));
  ASSERT_TRUE(RunUntil([&] { return after->count > 0; }));
  ASSERT_TRUE(after->status().ok());
  EXPECT_TRUE(after->value->value().object.Live(clock_.NowUs()).empty());
}

TEST_F(PeerClientTest, ManyRequestsInFlightAreEachAnsweredOnce) {
  TestNode* n1 = StartNode("n1");
  ASSERT_NE(n1, nullptr);
  MakeClient()->SetPeerAddress("n1", n1->address());
  constexpr int kRequests = 300;
  std::vector<std::shared_ptr<WriteOutcome>> writes;
  std::vector<std::shared_ptr<ReadOutcome>> reads;
  for (int i = 0; i < kRequests; ++i) {
    writes.push_back(Write("n1", fmt::format("k{}", i), fmt::format("v{}", i), In(10'000)));
    reads.push_back(Read("n1", fmt::format("other{}", i), In(10'000)));
  }
  auto all_answered = [&] {
    for (int i = 0; i < kRequests; ++i) {
      if (writes[i]->count == 0 || reads[i]->count == 0) return false;
    }
    return true;
  };
  ASSERT_TRUE(RunUntil(all_answered, 20'000));
  RunFor(20);
  for (int i = 0; i < kRequests; ++i) {
    EXPECT_EQ(writes[i]->count, 1);
    EXPECT_EQ(reads[i]->count, 1);
    EXPECT_TRUE(writes[i]->status().ok()) << writes[i]->status().ToString();
    EXPECT_TRUE(reads[i]->status().ok()) << reads[i]->status().ToString();
  }
  // Every write landed under its own key: answers were not crossed.
  std::vector<std::shared_ptr<ReadOutcome>> checks;
  for (int i = 0; i < kRequests; ++i)
    checks.push_back(Read("n1", fmt::format("k{}", i), In(10'000)));
  ASSERT_TRUE(RunUntil(
      [&] {
        for (auto& c : checks)
          if (c->count == 0) return false;
        return true;
      },
      20'000));
  for (int i = 0; i < kRequests; ++i) {
    ASSERT_TRUE(checks[i]->status().ok());
    auto live = checks[i]->value->value().object.Live(clock_.NowUs());
    ASSERT_EQ(live.size(), 1u);
    EXPECT_EQ(live[0].value, fmt::format("v{}", i));
  }
  EXPECT_EQ(client_->stats().connect_attempts, 1u);
}

TEST_F(PeerClientTest, WindowFollowsThePeersInFlightLimit) {
  // The node answers requests beyond 4 in flight with kOverloaded; the client must not send them.
  TestNode* n1 = StartNode("n1", kSecret, [](ServerOptions* o) { o->in_flight_max = 4; });
  ASSERT_NE(n1, nullptr);
  MakeClient()->SetPeerAddress("n1", n1->address());
  std::vector<std::shared_ptr<WriteOutcome>> writes;
  for (int i = 0; i < 100; ++i)
    writes.push_back(Write("n1", fmt::format("k{}", i), "v", In(10'000)));
  ASSERT_TRUE(RunUntil(
      [&] {
        for (auto& w : writes)
          if (w->count == 0) return false;
        return true;
      },
      20'000));
  for (auto& w : writes) EXPECT_TRUE(w->status().ok()) << w->status().ToString();
}

TEST_F(PeerClientTest, WrongSecretIsUnauthorizedThenBacksOff) {
  TestNode* n1 = StartNode("n1", "the right secret");
  ASSERT_NE(n1, nullptr);
  PeerClientOptions options = Options();
  options.cluster_secret = "a wrong secret";
  options.backoff_initial_ms = 10'000;  // the second call surely falls inside it
  MakeClient(options)->SetPeerAddress("n1", n1->address());
  auto w = Write("n1", "k", "v", In(5000));
  auto r = Read("n1", "k", In(5000));
  ASSERT_TRUE(RunUntil([&] { return w->count > 0 && r->count > 0; }));
  EXPECT_EQ(w->status().code(), Code::kUnauthorized) << w->status().ToString();
  EXPECT_EQ(r->status().code(), Code::kUnauthorized) << r->status().ToString();
  EXPECT_FALSE(client_->Connected("n1"));

  auto again = Write("n1", "k", "v", In(5000));
  ASSERT_TRUE(RunUntil([&] { return again->count > 0; }));
  EXPECT_EQ(again->status().code(), Code::kUnavailable) << again->status().ToString();
  EXPECT_TRUE(Contains(again->status().message(), "no connection to n1"));
  EXPECT_TRUE(Contains(again->status().message(), "secret")) << again->status().message();
  EXPECT_EQ(client_->stats().connect_attempts, 1u);
}

TEST_F(PeerClientTest, PeerNotListeningFailsFastAndIsRetriedOnlyAfterTheBackoff) {
  // A bound socket that does not listen: connects to it are refused, and nobody else takes it.
  tcp::acceptor closed(io_);
  for (int attempt = 0; attempt < 200 && !closed.is_open(); ++attempt) {
    boost::system::error_code ec;
    tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), RandomPort(&rng_));
    closed.open(endpoint.protocol(), ec);
    if (!ec) closed.bind(endpoint, ec);
    if (ec) closed.close(ec);
  }
  ASSERT_TRUE(closed.is_open());
  PeerClientOptions options = Options();
  options.backoff_initial_ms = 100;
  MakeClient(options)->SetPeerAddress("n1",
                                      fmt::format("127.0.0.1:{}", closed.local_endpoint().port()));

  const int64_t start_us = clock_.MonoUs();
  auto w = Write("n1", "k", "v", In(10'000));
  ASSERT_TRUE(RunUntil([&] { return w->count > 0; }));
  EXPECT_EQ(w->status().code(), Code::kUnavailable) << w->status().ToString();
  EXPECT_LT(w->at_us - start_us, 1'000'000) << "well under the 10 s deadline";
  EXPECT_EQ(client_->stats().connect_attempts, 1u);

  // Within the backoff: answered without a connect attempt.
  auto r = Read("n1", "k", In(10'000));
  ASSERT_TRUE(RunUntil([&] { return r->count > 0; }));
  EXPECT_EQ(r->status().code(), Code::kUnavailable);
  EXPECT_TRUE(Contains(r->status().message(), "no connection to n1")) << r->status().message();
  EXPECT_EQ(client_->stats().connect_attempts, 1u);

  // After it: tried again, no sooner than 100 ms after the failure.
  int64_t second_attempt_us = 0;
  std::vector<std::shared_ptr<ReadOutcome>> probes;
  while (client_->stats().connect_attempts < 2) {
    ASSERT_LT(probes.size(), 1000u);
    probes.push_back(Read("n1", "k", In(10'000)));
    second_attempt_us = clock_.MonoUs();
    ASSERT_TRUE(RunUntil([&] { return probes.back()->count > 0; }));
    if (client_->stats().connect_attempts < 2) RunFor(5);
  }
  // The failure was recorded an instant before the first answer was delivered.
  EXPECT_GE(second_attempt_us - w->at_us, 90'000);
  ASSERT_TRUE(RunUntil([&] {
    for (auto& p : probes)
      if (p->count == 0) return false;
    return true;
  }));
  for (auto& p : probes) {
    EXPECT_EQ(p->count, 1);
    EXPECT_EQ(p->status().code(), Code::kUnavailable);
  }
  EXPECT_EQ(client_->stats().connect_failures, 2u);
}

TEST_F(PeerClientTest, PeerStateFiresUpThenDown) {
  TestNode* n1 = StartNode("n1");
  ASSERT_NE(n1, nullptr);
  PeerClient* client = MakeClient();
  std::vector<std::pair<std::string, bool>> events;
  client->SetPeerStateCallback(
      [&](const std::string& node, bool up) { events.emplace_back(node, up); });
  client->SetPeerAddress("n1", n1->address());
  EXPECT_FALSE(client->Connected("n1"));
  auto r = Read("n1", "k", In(5000));
  ASSERT_TRUE(RunUntil([&] { return r->count > 0; }));
  ASSERT_EQ(events, (std::vector<std::pair<std::string, bool>>{{"n1", true}}));
  EXPECT_TRUE(client->Connected("n1"));

  n1->server->CloseAll();
  ASSERT_TRUE(RunUntil([&] { return events.size() == 2; }));
  EXPECT_EQ(events[1], (std::pair<std::string, bool>{"n1", false}));
  EXPECT_FALSE(client->Connected("n1"));
}

TEST_F(PeerClientTest, NodeClosingWithRequestsInFlightLeavesWritesInDoubt) {
  TestNode* n1 = StartNode("n1");
  ASSERT_NE(n1, nullptr);
  MakeClient()->SetPeerAddress("n1", n1->address());
  auto warm = Read("n1", "k", In(5000));
  ASSERT_TRUE(RunUntil([&] { return warm->count > 0 && client_->Connected("n1"); }));

  // Both go out in one gathered write on the loop's next turn, before the node (on this same
  // thread) can read them. Then the node goes away.
  const int64_t deadline = In(5000);
  auto w = Write("n1", "k", "v", deadline);
  auto r = Read("n1", "k", deadline);
  EXPECT_EQ(client_->stats().requests_sent, 1u) << "sent on a later turn, not inside the call";
  ASSERT_TRUE(RunUntil([&] { return client_->stats().requests_sent == 3; }));
  EXPECT_EQ(w->count + r->count, 0);
  n1->server->CloseAll();
  ASSERT_TRUE(RunUntil([&] { return w->count > 0 && r->count > 0; }));
  EXPECT_EQ(w->status().code(), Code::kTimeout) << w->status().ToString();
  EXPECT_TRUE(w->status().in_doubt());
  EXPECT_EQ(r->status().code(), Code::kUnavailable) << r->status().ToString();
  EXPECT_FALSE(r->status().in_doubt());
  EXPECT_LT(w->at_us, deadline) << "answered when the connection went, not at the deadline";
}

TEST_F(PeerClientTest, FrameLargerThanThePeerAcceptsFailsAloneAndKeepsTheConnection) {
  TestNode* n1 =
      StartNode("n1", kSecret, [](ServerOptions* o) { o->limits.frame_bytes_max = 64 << 10; });
  ASSERT_NE(n1, nullptr);
  MakeClient()->SetPeerAddress("n1", n1->address());
  const std::string big(100 << 10, 'x');
  // Made before the handshake names the limit, then after.
  auto before = Write("n1", "big", big, In(5000));
  auto small = Write("n1", "small", "v", In(5000));
  ASSERT_TRUE(RunUntil([&] { return before->count > 0 && small->count > 0; }));
  EXPECT_EQ(before->status().code(), Code::kInvalidArgument) << before->status().ToString();
  EXPECT_TRUE(small->status().ok()) << small->status().ToString();
  auto after = Write("n1", "big", big, In(5000));
  auto small2 = Write("n1", "small", "v2", In(5000));
  ASSERT_TRUE(RunUntil([&] { return after->count > 0 && small2->count > 0; }));
  EXPECT_EQ(after->status().code(), Code::kInvalidArgument) << after->status().ToString();
  EXPECT_TRUE(small2->status().ok()) << small2->status().ToString();
  EXPECT_EQ(client_->stats().connect_attempts, 1u);
}

TEST_F(PeerClientTest, ANodeOfAnotherNameAtTheAddressIsNotUsed) {
  TestNode* n1 = StartNode("n1");
  ASSERT_NE(n1, nullptr);
  MakeClient()->SetPeerAddress("n9", n1->address());
  auto w = Write("n9", "k", "v", In(5000));
  ASSERT_TRUE(RunUntil([&] { return w->count > 0; }));
  EXPECT_EQ(w->status().code(), Code::kUnavailable);
  EXPECT_TRUE(Contains(w->status().message(), "answers as node 'n1'")) << w->status().message();
  EXPECT_FALSE(client_->Connected("n9"));
}

// ---- PeerClient against the scripted peer ---------------------------------------------------

TEST_F(PeerClientTest, AnswersAreMatchedByIdInAnyOrder) {
  FakePeer fake(&io_, &rng_, "n2", FakePeer::Mode::kHold);
  MakeClient()->SetPeerAddress("n2", fake.address());
  std::vector<int> order;  // which call was answered, in answer order
  std::vector<int> counts(20, 0);
  std::vector<Status> statuses(20);
  for (int i = 0; i < 20; ++i) {
    auto note = [&, i](const Status& s) {
      order.push_back(i);
      ++counts[i];
      statuses[i] = s;
    };
    switch (i % 4) {
      case 0:
        client_->ReplicaWrite("n2", "", "k", Object("v"), In(5000), [note](Status s) { note(s); });
        break;
      case 1:
        client_->ReplicaRead("n2", "", "k", In(5000),
                             [note](Result<PeerTransport::ReadReply> r) { note(r.status()); });
        break;
      case 2:
        client_->ForwardWrite("n2", Put("k", "v"), In(5000), [note](Result<WriteReply> r) {
          if (r.ok()) {
            EXPECT_EQ(r->context, "ctx");
          }
          note(r.status());
        });
        break;
      case 3: {
        ForwardedWrite del;
        del.key = "k";
        del.is_delete = true;
        client_->ForwardWrite("n2", del, In(5000),
                              [note](Result<WriteReply> r) { note(r.status()); });
        break;
      }
    }
  }
  ASSERT_TRUE(RunUntil([&] { return fake.held() == 20; }));
  EXPECT_TRUE(order.empty());
  fake.AnswerHeld();  // newest first
  ASSERT_TRUE(RunUntil([&] { return order.size() == 20; }));
  RunFor(20);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(counts[i], 1) << i;
    EXPECT_TRUE(statuses[i].ok()) << i << ": " << statuses[i].ToString();
    EXPECT_EQ(order[i], 19 - i);
  }
  EXPECT_EQ(fake.secret_seen(), kSecret);
}

TEST_F(PeerClientTest, ForwardedWritesCarryTheFlagConsistencyAndTimeLeft) {
  FakePeer fake(&io_, &rng_, "n2", FakePeer::Mode::kAnswer);
  MakeClient()->SetPeerAddress("n2", fake.address());
  ForwardedWrite put = Put("k", "v");
  put.options.consistency = Consistency::kAll;
  put.options.explicit_count = 2;
  auto a = Forward("n2", put, In(1000));
  ASSERT_TRUE(RunUntil([&] { return a->count > 0; }));
  ASSERT_TRUE(a->status().ok()) << a->status().ToString();
  EXPECT_TRUE(fake.forwarded());
  EXPECT_EQ(fake.consistency(), wire::Consistency::ALL);
  EXPECT_EQ(fake.w(), 2);
  EXPECT_GT(fake.timeout_ms(), 500u);
  EXPECT_LT(fake.timeout_ms(), 1000u) << "less than the time left, so its answer gets back";

  ForwardedWrite del;
  del.key = "k";
  del.is_delete = true;
  del.options.timeout_ms = 300;
  auto d = Forward("n2", del, In(5000));
  ASSERT_TRUE(RunUntil([&] { return d->count > 0; }));
  ASSERT_TRUE(d->status().ok()) << d->status().ToString();
  EXPECT_TRUE(fake.forwarded());
  EXPECT_EQ(fake.timeout_ms(), 300u);
}

TEST_F(PeerClientTest, DeadlineOnASilentPeerIsATimeoutInDoubtForWritesAndLateAnswersAreIgnored) {
  FakePeer fake(&io_, &rng_, "n2", FakePeer::Mode::kHold);
  MakeClient()->SetPeerAddress("n2", fake.address());
  const int64_t deadline = In(200);
  auto w = Write("n2", "k", "v", deadline);
  auto r = Read("n2", "k", deadline);
  auto f = Forward("n2", Put("k", "v"), deadline);
  ASSERT_TRUE(RunUntil([&] { return w->count > 0 && r->count > 0 && f->count > 0; }));
  EXPECT_EQ(fake.held(), 3u) << "all three were sent";
  for (const Status* s : {&w->status(), &f->status()}) {
    EXPECT_EQ(s->code(), Code::kTimeout) << s->ToString();
    EXPECT_TRUE(s->in_doubt());
  }
  EXPECT_EQ(r->status().code(), Code::kTimeout) << r->status().ToString();
  EXPECT_FALSE(r->status().in_doubt());
  EXPECT_GE(w->at_us, deadline);
  EXPECT_GE(r->at_us, deadline);

  fake.AnswerHeld();
  ASSERT_TRUE(RunUntil([&] { return client_->stats().late_answers == 3; }));
  EXPECT_EQ(w->count, 1);
  EXPECT_EQ(r->count, 1);
  EXPECT_EQ(f->count, 1);
  // The connection is still good.
  fake.set_mode(FakePeer::Mode::kAnswer);
  auto ok = Write("n2", "k", "v", In(5000));
  ASSERT_TRUE(RunUntil([&] { return ok->count > 0; }));
  EXPECT_TRUE(ok->status().ok()) << ok->status().ToString();
  EXPECT_EQ(fake.accepted(), 1u);
}

TEST_F(PeerClientTest, SlotsHeldByAbandonedRequestsAreRecoveredByReconnecting) {
  FakePeer fake(&io_, &rng_, "n2", FakePeer::Mode::kHold, /*in_flight_max=*/2);
  MakeClient()->SetPeerAddress("n2", fake.address());
  auto r1 = Read("n2", "a", In(100));
  auto r2 = Read("n2", "b", In(100));
  ASSERT_TRUE(RunUntil([&] { return r1->count > 0 && r2->count > 0; }));
  EXPECT_EQ(r1->status().code(), Code::kTimeout);
  // Both peer slots still hold the abandoned reads, which the peer never answers.
  fake.set_mode(FakePeer::Mode::kAnswer);
  auto r3 = Read("n2", "c", In(5000));
  ASSERT_TRUE(RunUntil([&] { return r3->count > 0; }));
  EXPECT_TRUE(r3->status().ok()) << r3->status().ToString();
  EXPECT_EQ(fake.accepted(), 2u);
}

TEST_F(PeerClientTest, HandshakeNeverAnsweredTimesOutTheConnectAttempt) {
  FakePeer fake(&io_, &rng_, "n2", FakePeer::Mode::kSilent);
  PeerClientOptions options = Options();
  options.connect_timeout_ms = 300;
  MakeClient(options)->SetPeerAddress("n2", fake.address());
  const int64_t start_us = clock_.MonoUs();
  auto early = Write("n2", "k", "v", In(50));     // its deadline comes before the connect timeout
  auto late = Write("n2", "k", "v", In(10'000));  // the connect timeout comes first
  ASSERT_TRUE(RunUntil([&] { return early->count > 0 && late->count > 0; }));
  EXPECT_EQ(early->status().code(), Code::kTimeout) << early->status().ToString();
  EXPECT_FALSE(early->status().in_doubt()) << "never sent";
  EXPECT_EQ(late->status().code(), Code::kUnavailable) << late->status().ToString();
  EXPECT_TRUE(Contains(late->status().message(), "connect timeout")) << late->status().message();
  EXPECT_GE(late->at_us - start_us, 300'000);
  EXPECT_LT(late->at_us - start_us, 5'000'000);
}

TEST_F(PeerClientTest, PeerVanishingMidRequestLeavesWritesInDoubt) {
  FakePeer fake(&io_, &rng_, "n2", FakePeer::Mode::kCloseAfter);
  fake.set_close_after(3);
  PeerClient* client = MakeClient();
  std::vector<std::pair<std::string, bool>> events;
  client->SetPeerStateCallback(
      [&](const std::string& node, bool up) { events.emplace_back(node, up); });
  client->SetPeerAddress("n2", fake.address());
  const int64_t deadline = In(5000);
  auto w = Write("n2", "k", "v", deadline);
  auto r = Read("n2", "k", deadline);
  auto f = Forward("n2", Put("k", "v"), deadline);
  ASSERT_TRUE(RunUntil([&] { return w->count > 0 && r->count > 0 && f->count > 0; }));
  EXPECT_EQ(fake.received(), 3u);
  EXPECT_EQ(w->status().code(), Code::kTimeout) << w->status().ToString();
  EXPECT_TRUE(w->status().in_doubt());
  EXPECT_EQ(f->status().code(), Code::kTimeout) << f->status().ToString();
  EXPECT_TRUE(f->status().in_doubt());
  EXPECT_EQ(r->status().code(), Code::kUnavailable) << r->status().ToString();
  EXPECT_LT(w->at_us, deadline) << "at the loss, not at the deadline";
  EXPECT_EQ(events, (std::vector<std::pair<std::string, bool>>{{"n2", true}, {"n2", false}}));
  EXPECT_EQ(client->stats().connections_lost, 1u);
}

TEST_F(PeerClientTest, ANewAddressClosesTheOldConnection) {
  FakePeer old_place(&io_, &rng_, "n2", FakePeer::Mode::kHold);
  FakePeer new_place(&io_, &rng_, "n2", FakePeer::Mode::kAnswer);
  PeerClient* client = MakeClient();
  client->SetPeerAddress("n2", old_place.address());
  auto w = Write("n2", "k", "v", In(5000));
  ASSERT_TRUE(RunUntil([&] { return old_place.held() == 1; }));
  client->SetPeerAddress("n2", old_place.address());  // the same: nothing happens
  EXPECT_TRUE(client->Connected("n2"));
  client->SetPeerAddress("n2", new_place.address());
  EXPECT_FALSE(client->Connected("n2"));
  EXPECT_EQ(w->count, 0) << "answered on the loop, not inside SetPeerAddress";
  ASSERT_TRUE(RunUntil([&] { return w->count > 0; }));
  EXPECT_EQ(w->status().code(), Code::kTimeout);
  EXPECT_TRUE(w->status().in_doubt());
  auto w2 = Write("n2", "k", "v", In(5000));
  ASSERT_TRUE(RunUntil([&] { return w2->count > 0; }));
  EXPECT_TRUE(w2->status().ok()) << w2->status().ToString();
  EXPECT_EQ(new_place.accepted(), 1u);
}

TEST_F(PeerClientTest, UnknownPeersAndUnusableAddressesFailOnTheLoop) {
  PeerClient* client = MakeClient();
  client->SetPeerAddress("bad", "localhost:7000");  // a name, not an IP address
  client->SetPeerAddress("noport", "127.0.0.1");
  auto unknown = Write("nobody", "k", "v", In(5000));
  auto bad = Read("bad", "k", In(5000));
  auto noport = Read("noport", "k", In(5000));
  EXPECT_EQ(unknown->count + bad->count + noport->count, 0);
  ASSERT_TRUE(RunUntil([&] { return unknown->count && bad->count && noport->count; }));
  EXPECT_EQ(unknown->status().code(), Code::kUnavailable);
  EXPECT_TRUE(Contains(unknown->status().message(), "no address known for peer nobody"));
  EXPECT_EQ(bad->status().code(), Code::kUnavailable);
  EXPECT_TRUE(Contains(bad->status().message(), "localhost")) << bad->status().message();
  EXPECT_EQ(noport->status().code(), Code::kUnavailable);
  EXPECT_EQ(client->stats().connect_attempts, 0u);
}

TEST_F(PeerClientTest, PendingCallsAndQueuedBytesAreBounded) {
  FakePeer fake(&io_, &rng_, "n2", FakePeer::Mode::kSilent);  // requests wait for the handshake
  PeerClientOptions options = Options();
  options.in_flight_max = 2;
  options.queued_bytes_max = 4096;
  MakeClient(options)->SetPeerAddress("n2", fake.address());
  auto a = Write("n2", "a", std::string(3000, 'a'), In(5000));
  auto b = Write("n2", "b", std::string(3000, 'b'), In(5000));  // 6000 bytes would wait
  auto c = Read("n2", "c", In(5000));
  auto d = Read("n2", "d", In(5000));  // a third pending call
  ASSERT_TRUE(RunUntil([&] { return b->count > 0 && d->count > 0; }));
  EXPECT_EQ(b->status().code(), Code::kOverloaded) << b->status().ToString();
  EXPECT_EQ(d->status().code(), Code::kOverloaded) << d->status().ToString();
  EXPECT_EQ(a->count, 0);
  EXPECT_EQ(c->count, 0);
}

TEST_F(PeerClientTest, OutgoingSocketsBindToTheBindHost) {
  FakePeer fake(&io_, &rng_, "n2", FakePeer::Mode::kAnswer);
  MakeClient()->SetPeerAddress("n2", fake.address());
  auto w = Write("n2", "k", "v", In(5000));
  ASSERT_TRUE(RunUntil([&] { return w->count > 0; }));
  EXPECT_TRUE(w->status().ok()) << w->status().ToString();
  EXPECT_EQ(fake.remote_ip(), "127.0.0.1");

  client_.reset();
  PeerClientOptions options = Options();
  options.bind_host = "not-an-ip";
  MakeClient(options)->SetPeerAddress("n2", fake.address());
  auto bad = Write("n2", "k", "v", In(5000));
  ASSERT_TRUE(RunUntil([&] { return bad->count > 0; }));
  EXPECT_EQ(bad->status().code(), Code::kUnavailable) << bad->status().ToString();
  EXPECT_EQ(fake.accepted(), 1u);
}

TEST_F(PeerClientTest, DestroyingTheClientAnswersEveryPendingCallOnceBeforeReturning) {
  FakePeer holding(&io_, &rng_, "n2", FakePeer::Mode::kHold);
  FakePeer silent(&io_, &rng_, "n3", FakePeer::Mode::kSilent);
  PeerClient* client = MakeClient();
  client->SetPeerAddress("n2", holding.address());
  client->SetPeerAddress("n3", silent.address());
  auto sent_write = Write("n2", "k", "v", In(10'000));
  auto sent_read = Read("n2", "k", In(10'000));
  auto sent_forward = Forward("n2", Put("k", "v"), In(10'000));
  auto connecting = Write("n3", "k", "v", In(10'000));
  ASSERT_TRUE(RunUntil([&] { return holding.held() == 3 && silent.accepted() == 1; }));
  auto unknown = Read("nobody", "k", In(10'000));  // its failure is decided, not yet delivered
  // A callback that makes a new call while the client is being destroyed is answered too.
  auto reentrant = std::make_shared<ReadOutcome>();
  auto chained = std::make_shared<WriteOutcome>();
  client->ReplicaWrite("n2", "", "k2", Object("v"), In(10'000), [&, chained](Status s) {
    Into(chained)(s);
    client->ReplicaRead("n2", "", "k2", In(10'000), Into(reentrant));
  });

  client_.reset();
  for (const Status* s : {&sent_write->status(), &connecting->status(), &chained->status()}) {
    EXPECT_EQ(s->code(), Code::kUnavailable);
    EXPECT_EQ(s->message(), "shutting down");
  }
  EXPECT_EQ(sent_read->status().code(), Code::kUnavailable);
  EXPECT_EQ(sent_forward->status().code(), Code::kUnavailable);
  EXPECT_TRUE(Contains(unknown->status().message(), "no address known")) << "its own failure";
  EXPECT_EQ(reentrant->count, 1);
  EXPECT_EQ(reentrant->status().message(), "shutting down");

  holding.AnswerHeld();  // answers nobody waits for any more
  RunFor(50);
  for (int count : {sent_write->count, sent_read->count, sent_forward->count, connecting->count,
                    unknown->count, chained->count, reentrant->count}) {
    EXPECT_EQ(count, 1);
  }
}

}  // namespace
}  // namespace ringkv
