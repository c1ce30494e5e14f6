// End-to-end: a real kvnode on 127.0.0.1, driven through kvctl and through the client library.
// Binary values go in both ways, the node restarts (cleanly and by SIGKILL), and everything
// acknowledged reads back.
#include <gtest/gtest.h>
#include <fmt/format.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "node/testing/node_process.h"
#include "node/testing/test_cluster.h"
#include "ringkv/client.h"

namespace ringkv::testing {
namespace {

using std::chrono::milliseconds;

std::string KvctlPath() { return NodeProcess::KvctlPath(); }

// Every byte value, and then some.
std::string BinaryValue(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string v(n, '\0');
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<char>(i < 256 ? i : rng());
  return v;
}

class KvnodeE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir("e2e");
    NodeProcessOptions options;
    options.data_dir = dir_ + "/n1";
    node_ = std::make_unique<NodeProcess>(options);
    Status s = node_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  void TearDown() override {
    node_.reset();
    std::filesystem::remove_all(dir_);
  }

  CommandResult Kvctl(std::vector<std::string> args, const std::string& stdin_data = "") {
    std::vector<std::string> argv = {KvctlPath(), "--host", node_->address()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, stdin_data);
  }
  std::unique_ptr<Client> NewClient() {
    ClientOptions options;
    options.contact_points = {node_->address()};
    return std::make_unique<Client>(options);
  }

  std::string dir_;
  std::unique_ptr<NodeProcess> node_;
};

TEST_F(KvnodeE2eTest, KvctlBinaryValuesSurviveARestart) {
  const std::string value = BinaryValue(100'000, 1);
  auto put = Kvctl({"put", "bin:1", "--value-file", "-"}, value);
  ASSERT_EQ(put.exit_code, 0) << put.err;
  auto got = Kvctl({"get", "bin:1"});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_TRUE(got.out == value) << "kvctl get must print the exact bytes (" << got.out.size()
                                << " vs " << value.size() << ")";

  ASSERT_EQ(node_->Terminate(), 0) << node_->log();
  ASSERT_TRUE(node_->Start().ok());
  got = Kvctl({"get", "bin:1"});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_TRUE(got.out == value);
  EXPECT_NE(node_->log().find("stopped cleanly"), std::string::npos);
}

TEST_F(KvnodeE2eTest, KvctlExitCodesAndJson) {
  auto missing = Kvctl({"get", "no-such-key"});
  EXPECT_EQ(missing.exit_code, 3) << missing.out << missing.err;
  auto usage = Kvctl({"put", "only-a-key"});
  EXPECT_EQ(usage.exit_code, 2) << usage.err;
  auto bad_flag = Kvctl({"get", "k", "--no-such-flag"});
  EXPECT_EQ(bad_flag.exit_code, 2);
  auto too_big = Kvctl({"put", std::string(64 * 1024 + 1, 'k'), "v"});
  EXPECT_EQ(too_big.exit_code, 1) << too_big.err;
  EXPECT_NE(too_big.err.find("exceeds"), std::string::npos) << too_big.err;

  ASSERT_EQ(Kvctl({"put", "j", "one"}).exit_code, 0);
  ASSERT_EQ(Kvctl({"put", "j", "two"}).exit_code, 0);
  auto json = Kvctl({"--format", "json", "get", "j"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_NE(json.out.find("\"found\""), std::string::npos) << json.out;
  EXPECT_NE(json.out.find("\"siblings\""), std::string::npos) << json.out;
  EXPECT_NE(json.out.find("\"context\""), std::string::npos) << json.out;
  EXPECT_NE(json.out.find("b25l"), std::string::npos) << "base64 of 'one': " << json.out;
  EXPECT_NE(json.out.find("dHdv"), std::string::npos) << "base64 of 'two': " << json.out;

  auto info = Kvctl({"--format", "json", "info"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_NE(info.out.find("\"n1\""), std::string::npos) << info.out;

  node_->Kill();
  auto down = Kvctl({"--timeout-ms", "2000", "get", "j"});
  EXPECT_EQ(down.exit_code, 4) << "no reachable node is 'unavailable': " << down.err;
  EXPECT_NE(down.err.find("cannot connect"), std::string::npos) << down.err;
}

TEST_F(KvnodeE2eTest, ClientSiblingsContextAndDelete) {
  auto client = NewClient();
  ASSERT_TRUE(client->Put("doc", "a").ok());
  ASSERT_TRUE(client->Put("doc", "b").ok());
  auto got = client->Get("doc");
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  ASSERT_EQ(got->siblings.size(), 2u) << "two blind writes are siblings";

  WriteOptions with_context;
  with_context.context = got->context;
  ASSERT_TRUE(client->Put("doc", "resolved", with_context).ok());
  got = client->Get("doc");
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->siblings.size(), 1u);
  EXPECT_EQ(got->siblings[0].value, "resolved");

  with_context.context = got->context;
  ASSERT_TRUE(client->Del("doc", with_context).ok());
  got = client->Get("doc");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->found);

  WriteOptions bad;
  bad.context = "not a context";
  auto rejected = client->Put("doc", "x", bad);
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(KvnodeE2eTest, ClientBinaryValuesAsyncAndAfterRestart) {
  std::vector<std::string> values;
  {
    auto client = NewClient();
    std::vector<std::future<Expected<PutResult>>> puts;
    for (int i = 0; i < 64; ++i) {
      values.push_back(BinaryValue(1 + i * 997, static_cast<uint32_t>(i)));
      puts.push_back(client->PutAsync("async:" + std::to_string(i), values.back()));
    }
    for (auto& f : puts) {
      auto r = f.get();
      ASSERT_TRUE(r.ok()) << r.error().ToString();
    }
  }
  ASSERT_EQ(node_->Terminate(), 0);
  ASSERT_TRUE(node_->Start().ok());
  auto client = NewClient();
  for (int i = 0; i < 64; ++i) {
    auto got = client->Get("async:" + std::to_string(i));
    ASSERT_TRUE(got.ok()) << got.error().ToString();
    ASSERT_TRUE(got->found);
    EXPECT_TRUE(got->siblings.at(0).value == values[static_cast<size_t>(i)]) << i;
  }
}

TEST_F(KvnodeE2eTest, TtlValueReadsAsAbsentAfterExpiry) {
  auto client = NewClient();
  WriteOptions ttl;
  ttl.ttl_s = 1;
  ASSERT_TRUE(client->Put("ephemeral", "soon gone", ttl).ok());
  auto got = client->Get("ephemeral");
  ASSERT_TRUE(got.ok() && got->found);
  ASSERT_GT(got->siblings[0].expires_at_us, 0);
  // Poll until it expires, with a deadline well past the TTL.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool expired = false;
  while (!expired && std::chrono::steady_clock::now() < deadline) {
    auto r = client->Get("ephemeral");
    ASSERT_TRUE(r.ok());
    expired = !r->found;
    if (!expired) std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_TRUE(expired);
}

TEST(KvnodeFlagsTest, ConfigFileAndClockOffsetAreHonoured) {
  const std::string dir = TempDir("flags");
  std::filesystem::create_directories(dir);
  {
    std::ofstream config(dir + "/kvnode.conf");
    config << "# flags as key = value\n"
           << "cluster-name = \"pipeline-prod\"\n"
           << "clock-offset-ms = 3600000\n"
           << "sync = \"always\"\n";
  }
  NodeProcessOptions options;
  options.data_dir = dir + "/n1";
  options.sync = "always";
  options.extra_args = {"--config", dir + "/kvnode.conf"};
  NodeProcess node(options);
  ASSERT_TRUE(node.Start().ok()) << node.log();

  ClientOptions client_options;
  client_options.contact_points = {node.address()};
  client_options.cluster_name = "pipeline-prod";  // refused unless the config file took effect
  Client client(client_options);
  auto info = client.Info();
  ASSERT_TRUE(info.ok()) << info.error().ToString();
  EXPECT_EQ(info->cluster_name, "pipeline-prod");
  EXPECT_EQ(info->sync_mode, "always");

  ASSERT_TRUE(client.Put("skewed", "v").ok());
  auto got = client.Get("skewed");
  ASSERT_TRUE(got.ok() && got->found);
  const int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const int64_t skew_us = got->siblings[0].timestamp_us - now_us;
  EXPECT_GT(skew_us, 3'500'000'000LL) << "the write's timestamp carries the hour of offset";
  EXPECT_LT(skew_us, 3'700'000'000LL);
  node.Kill();
  std::filesystem::remove_all(dir);
}

TEST(KvnodeFlagsTest, BadFlagsExitWithUsageErrors) {
  auto missing = RunCommand({NodeProcess::KvnodePath(), "--name", "x"});
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
  auto bad_sync = RunCommand({NodeProcess::KvnodePath(), "--name", "x", "--data", "/tmp/unused",
                              "--sync", "sometimes"});
  EXPECT_EQ(bad_sync.exit_code, 1);
  EXPECT_NE(bad_sync.err.find("--sync must be"), std::string::npos) << bad_sync.err;
  auto bad_listen = RunCommand({NodeProcess::KvnodePath(), "--name", "x", "--data", "/tmp/unused",
                                "--listen", "nonsense"});
  EXPECT_NE(bad_listen.exit_code, 0);
  EXPECT_NE(bad_listen.err.find("HOST:PORT"), std::string::npos) << bad_listen.err;
}

// A port on 127.0.0.1 where nothing listens: bound by the kernel's choice, then released.
uint16_t UnusedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  close(fd);
  return ntohs(addr.sin_port);
}

// A node that does not know its whole ring yet (a seed it names has not answered) refuses
// requests saying "not ready: ", as UNAVAILABLE (exit code 4), and the client library takes such
// a request to another node; once the node settles (after its settle timeout), it serves.
TEST(KvnodeNotReadyTest, UnsettledNodeSaysSoAndTheClientGoesElsewhere) {
  const std::string dir = TempDir("notready");
  NodeProcessOptions ready_options;
  ready_options.name = "r1";
  ready_options.data_dir = dir + "/r1";
  NodeProcess ready(ready_options);  // no seeds: settled from the start
  ASSERT_TRUE(ready.Start().ok()) << ready.log();
  NodeProcessOptions options;
  options.name = "n1";
  options.data_dir = dir + "/n1";
  options.port = UnusedPort();
  // A founding node (its own address among its seeds) whose other seed never answers. (A node
  // not in its seeds would be a joiner, which waits for a seed however long it takes.)
  options.extra_args = {"--seeds", fmt::format("127.0.0.1:{},127.0.0.1:{}", options.port,
                                               UnusedPort())};
  NodeProcess node(options);
  ASSERT_TRUE(node.Start().ok()) << node.log();

  auto refused = RunCommand({NodeProcess::KvctlPath(), "--host", node.address(), "--format",
                             "json", "put", "k", "v"});
  EXPECT_EQ(refused.exit_code, 4) << refused.out << refused.err;
  EXPECT_NE(refused.out.find("\"message\":\"not ready: node n1 "), std::string::npos)
      << refused.out;

  ClientOptions client_options;
  client_options.contact_points = {node.address(), ready.address()};
  client_options.token_aware = false;  // the contact points in order: n1 first
  Client client(client_options);
  auto put = client.Put("k", "v");
  ASSERT_TRUE(put.ok()) << put.error().ToString();
  ClientOptions ready_only;
  ready_only.contact_points = {ready.address()};
  auto got = Client(ready_only).Get("k");
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_TRUE(got->found) << "the put went to the node that was ready";

  // Settled (it stops waiting for the silent seed): served.
  EXPECT_TRUE(PollUntil(milliseconds(30'000), [&] {
    return RunCommand({NodeProcess::KvctlPath(), "--host", node.address(), "put", "k", "v"})
               .exit_code == 0;
  })) << node.log();
  node.Kill();
  ready.Kill();
  std::filesystem::remove_all(dir);
}

// SIGKILL mid-load: every write acknowledged under a durable sync mode is there after restart.
class KvnodeDurabilityTest : public ::testing::TestWithParam<std::string> {};

TEST_P(KvnodeDurabilityTest, AcknowledgedWritesSurviveSigkill) {
  const std::string dir = TempDir("durability-" + GetParam());
  NodeProcessOptions options;
  options.data_dir = dir + "/n1";
  options.sync = GetParam();
  NodeProcess node(options);
  ASSERT_TRUE(node.Start().ok());

  ClientOptions client_options;
  client_options.contact_points = {node.address()};
  client_options.request_timeout = milliseconds(5000);
  auto client = std::make_unique<Client>(client_options);
  auto before = client->Info();
  ASSERT_TRUE(before.ok()) << before.error().ToString();

  constexpr int kWriters = 8;
  constexpr size_t kAckedBeforeKill = 400;
  std::atomic<size_t> acked_total{0};
  std::vector<std::vector<std::string>> acked(kWriters);
  std::vector<bool> ended_by_error(kWriters, false);
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      // Bounded: the node dies long before this many writes.
      for (int i = 0; i < 200'000; ++i) {
        const std::string key = fmt::format("w{}-{}", w, i);
        auto r = client->Put(key, key + "-payload");
        if (!r.ok()) {
          ended_by_error[static_cast<size_t>(w)] = true;
          return;
        }
        acked[static_cast<size_t>(w)].push_back(key);
        ++acked_total;
      }
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (acked_total < kAckedBeforeKill && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(2));
  }
  node.Kill();  // SIGKILL with writers mid-flight
  for (auto& t : writers) t.join();
  client.reset();
  ASSERT_GE(acked_total.load(), kAckedBeforeKill) << node.log();
  for (int w = 0; w < kWriters; ++w) EXPECT_TRUE(ended_by_error[static_cast<size_t>(w)]);

  ASSERT_TRUE(node.Start().ok()) << node.log();
  EXPECT_NE(node.log().find("did not shut down cleanly"), std::string::npos);
  client = std::make_unique<Client>(client_options);
  // Every write this sync mode exposed was fsynced first, so the node keeps its actor
  // (node/identity.h): a new one per crash would fill keys' clocks.
  auto after = client->Info();
  ASSERT_TRUE(after.ok()) << after.error().ToString();
  EXPECT_EQ(after->actor, before->actor) << node.log();
  EXPECT_NE(node.log().find("keeping actor"), std::string::npos) << node.log();
  size_t checked = 0;
  for (const auto& keys : acked) {
    for (const auto& key : keys) {
      auto got = client->Get(key);
      ASSERT_TRUE(got.ok()) << key << ": " << got.error().ToString();
      ASSERT_TRUE(got->found) << "acknowledged write " << key << " lost after SIGKILL";
      ASSERT_EQ(got->siblings.at(0).value, key + "-payload");
      ++checked;
    }
  }
  EXPECT_EQ(checked, acked_total.load());
  RecordProperty("acknowledged_writes_checked", static_cast<int>(checked));
  client.reset();
  node.Kill();
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(DurableSyncModes, KvnodeDurabilityTest,
                         ::testing::Values("always", "batch"),
                         [](const auto& info) { return info.param; });

// Under --sync periodic a write is acknowledged before its fsync, so a crash may have lost one the
// node had exposed: after SIGKILL it writes as a new actor, and says why (node/identity.h).
TEST(KvnodePeriodicTest, SigkillUnderPeriodicTakesANewActor) {
  const std::string dir = TempDir("periodic-actor");
  NodeProcessOptions options;
  options.data_dir = dir + "/n1";
  options.sync = "periodic";
  NodeProcess node(options);
  ASSERT_TRUE(node.Start().ok());
  ClientOptions client_options;
  client_options.contact_points = {node.address()};
  auto client = std::make_unique<Client>(client_options);
  auto before = client->Info();
  ASSERT_TRUE(before.ok()) << before.error().ToString();
  ASSERT_TRUE(client->Put("k", "v").ok());
  client.reset();
  node.Kill();

  ASSERT_TRUE(node.Start().ok()) << node.log();
  client = std::make_unique<Client>(client_options);
  auto after = client->Info();
  ASSERT_TRUE(after.ok()) << after.error().ToString();
  EXPECT_NE(after->actor, before->actor);
  EXPECT_NE(node.log().find("writing as a new actor"), std::string::npos) << node.log();
  client.reset();
  node.Kill();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ringkv::testing
