// Hinted handoff on a real three-node cluster (keyspace "default", N = 3, so every node is a
// replica of every key), through the client library; pending hints read from each node's /metrics
// (ringkv_hints_pending{target="..."}) and `kvctl hints`. Every wait polls a deadline.
//
//   - n3 SIGKILLed, 5,000 keys written at QUORUM through n1 and n2: they hold 5,000 hints for n3
//     between them; n3 restarted: the hints drain to zero, and n3 alone (n1 and n2 killed, a ONE
//     read coordinated by n3 can only be answered by its own replica) holds every key, each with
//     exactly one sibling;
//   - the same with the hint holder SIGKILLed mid-replay and restarted: replay resumes, nothing
//     lost, nothing duplicated;
//   - a node down past --max-hint-window-s gets no more hints (dropped, counted, logged once);
//   - kvctl hints lists them, kvctl hints truncate TARGET deletes them;
//   - ANY with the key's only replica down (a keyspace with N = 1): accepted by another node, as a
//     hint, and delivered once the replica returns.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <future>
#include <string>
#include <vector>

#include "node/testing/admin_calls.h"
#include "node/testing/test_cluster.h"
#include "ringkv/client.h"

namespace ringkv::testing {
namespace {

using std::chrono::milliseconds;

// The value of one sample ("name{labels}") on node i's /metrics; -1 when absent or unreachable.
double Metric(TestCluster* c, size_t i, const std::string& sample) {
  return ::ringkv::testing::Metric(c->ExtraPort(i), sample);
}

// Hints node i holds for `target`; 0 when it has none (the sample is absent), -1 when unreachable.
double PendingFor(TestCluster* c, size_t i, const std::string& target) {
  const double total = Metric(c, i, "ringkv_hints_pending");
  if (total < 0) return -1;
  const double v = Metric(c, i, fmt::format("ringkv_hints_pending{{target=\"{}\"}}", target));
  return v < 0 ? 0 : v;
}

std::unique_ptr<Client> ClientOf(const std::vector<std::string>& contacts, bool token_aware) {
  ClientOptions o;
  o.contact_points = contacts;
  o.token_aware = token_aware;
  o.request_timeout = milliseconds(10'000);
  return std::make_unique<Client>(o);
}

class KvnodeHintsTest : public ::testing::Test {
 protected:
  void SetUp() override { Start("4096"); }
  void Start(const std::string& hint_kb_per_s, std::vector<std::string> more_args = {}) {
    cluster_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
    dir_ = TempDir("hints");
    TestClusterOptions options;
    options.dir = dir_;
    options.extra_args = {"--http", "127.0.0.1:{port}", "--hint-throughput-kb-per-s",
                          hint_kb_per_s, "--request-timeout-ms", "3000"};
    for (auto& a : more_args) options.extra_args.push_back(std::move(a));
    cluster_ = std::make_unique<TestCluster>(options);
    Status s = cluster_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString() << cluster_->Logs();
  }
  // Reads every key "key:<i>" (i < n) at ONE from node i alone (the others must be down), and
  // checks it holds exactly one sibling, "value:<i>".
  void ExpectHeldAlone(size_t node, int n) {
    auto alone = ClientOf({cluster_->node(node).address()}, false);
    ReadOptions one;
    one.consistency = Consistency::kOne;
    for (int start = 0; start < n; start += 100) {
      std::vector<std::future<Expected<GetResult>>> batch;
      const int end = std::min(n, start + 100);
      for (int i = start; i < end; ++i) batch.push_back(alone->GetAsync(fmt::format("key:{}", i), one));
      for (int i = start; i < end; ++i) {
        auto r = batch[static_cast<size_t>(i - start)].get();
        ASSERT_TRUE(r.ok()) << "key:" << i << ": " << r.error().ToString() << cluster_->Logs();
        ASSERT_EQ(r->siblings.size(), 1u) << "key:" << i;
        EXPECT_EQ(r->siblings[0].value, fmt::format("value:{}", i));
      }
    }
  }
  // Puts "key:<i>" = "value:<i>" for i < n at QUORUM through `contacts`.
  void WriteKeys(const std::vector<std::string>& contacts, bool token_aware, int n) {
    auto client = ClientOf(contacts, token_aware);
    WriteOptions quorum;
    quorum.consistency = Consistency::kQuorum;
    for (int start = 0; start < n; start += 100) {
      std::vector<std::future<Expected<PutResult>>> batch;
      const int end = std::min(n, start + 100);
      for (int i = start; i < end; ++i) {
        batch.push_back(client->PutAsync(fmt::format("key:{}", i), fmt::format("value:{}", i), quorum));
      }
      for (auto& f : batch) {
        auto r = f.get();
        ASSERT_TRUE(r.ok()) << r.error().ToString() << cluster_->Logs();
      }
    }
  }
  void TearDown() override {
    cluster_.reset();
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }
  std::string dir_;
  std::unique_ptr<TestCluster> cluster_;
};

TEST_F(KvnodeHintsTest, HintsForAKilledNodeDrainOnceItIsBackAndItHoldsEveryKey) {
  constexpr int kKeys = 5000;  // the figure
  TestCluster* c = cluster_.get();
  c->node(2).Kill();
  ASSERT_NO_FATAL_FAILURE(WriteKeys({c->node(0).address(), c->node(1).address()}, true, kKeys));
  // One hint per write for n3, at whichever of n1 and n2 coordinated it.
  ASSERT_TRUE(PollUntil(milliseconds(30'000), [&] {
    return PendingFor(c, 0, "n3") + PendingFor(c, 1, "n3") == kKeys;
  })) << "pending for n3: " << PendingFor(c, 0, "n3") << " + " << PendingFor(c, 1, "n3")
      << c->Logs();
  // kvctl hints says the same.
  auto listed = RunCommand({NodeProcess::KvctlPath(), "hints", "--host",
                            c->node(0).address() + "," + c->node(1).address(), "--format", "json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  uint64_t listed_for_n3 = 0;
  for (const auto& row : nlohmann::json::parse(listed.out)) {
    if (row.at("target") == "n3") listed_for_n3 += row.at("count").get<uint64_t>();
  }
  EXPECT_EQ(listed_for_n3, static_cast<uint64_t>(kKeys)) << listed.out;

  ASSERT_TRUE(c->node(2).Start().ok()) << c->Logs();
  ASSERT_TRUE(PollUntil(milliseconds(60'000), [&] {
    return PendingFor(c, 0, "n3") == 0 && PendingFor(c, 1, "n3") == 0;
  })) << "pending for n3: " << PendingFor(c, 0, "n3") << " + " << PendingFor(c, 1, "n3")
      << c->Logs();
  EXPECT_EQ(Metric(c, 0, "ringkv_hints_delivered_total") +
                Metric(c, 1, "ringkv_hints_delivered_total"),
            kKeys);

  // n3 alone: its peers are gone, so a ONE read it coordinates is answered by its own replica.
  c->node(0).Kill();
  c->node(1).Kill();
  ExpectHeldAlone(2, kKeys);
}

// The node holding the hints is SIGKILLed in the middle of their (throttled) replay and restarted:
// replay resumes where it stopped, nothing is lost, and hints delivered twice (their deletion lost
// in the kill) make no extra sibling.
TEST_F(KvnodeHintsTest, ReplayResumesAfterTheHolderIsKilledMidway) {
  constexpr int kKeys = 1500;
  Start("16");  // KiB/s: the replay of ~1500 hints of ~100 bytes takes several seconds
  TestCluster* c = cluster_.get();
  c->node(2).Kill();
  // Through n1 alone (not token-aware): n1 coordinates every write, so it holds every hint.
  ASSERT_NO_FATAL_FAILURE(WriteKeys({c->node(0).address()}, false, kKeys));
  ASSERT_TRUE(PollUntil(milliseconds(30'000), [&] { return PendingFor(c, 0, "n3") == kKeys; }))
      << PendingFor(c, 0, "n3") << c->Logs();
  ASSERT_TRUE(c->node(2).Start().ok()) << c->Logs();
  double at_kill = 0;
  ASSERT_TRUE(PollUntil(milliseconds(30'000), [&] {
    at_kill = PendingFor(c, 0, "n3");
    return at_kill >= 0 && at_kill < kKeys;
  })) << c->Logs();
  c->node(0).Kill();
  ASSERT_GT(at_kill, 0) << "the replay finished before the kill; slow it down";
  ASSERT_TRUE(c->node(0).Start().ok()) << c->Logs();
  const double after_restart = PendingFor(c, 0, "n3");
  EXPECT_GT(after_restart, 0) << "the hints not yet delivered survive the kill";
  EXPECT_LT(after_restart, kKeys) << "the hints delivered before the kill are gone";
  ASSERT_TRUE(PollUntil(milliseconds(60'000), [&] { return PendingFor(c, 0, "n3") == 0; }))
      << PendingFor(c, 0, "n3") << c->Logs();
  c->node(0).Kill();
  c->node(1).Kill();
  ExpectHeldAlone(2, kKeys);
}

// A node down for longer than --max-hint-window-s gets no more hints: they are dropped and counted,
// and the holder logs once that the node needs a repair.
TEST_F(KvnodeHintsTest, NoHintsForANodeDownPastTheWindow) {
  Start("4096", {"--max-hint-window-s", "1"});
  TestCluster* c = cluster_.get();
  c->node(2).Kill();
  // Through n1 alone: once it has seen n3 down for more than a second, its writes leave no hint.
  ASSERT_TRUE(PollUntil(milliseconds(30'000), [&] {
    return Metric(c, 0, "ringkv_hints_needs_repair_total") == 1;
  })) << c->Logs();
  ASSERT_NO_FATAL_FAILURE(WriteKeys({c->node(0).address()}, false, 50));
  EXPECT_EQ(PendingFor(c, 0, "n3"), 0);
  EXPECT_EQ(Metric(c, 0, "ringkv_hints_dropped_total{reason=\"window\"}"), 50);
  EXPECT_NE(c->node(0).log().find("n3 has been down for more than the hint window"),
            std::string::npos)
      << c->node(0).log();
}

// kvctl hints lists a holder's hints as a table; kvctl hints truncate deletes them.
TEST_F(KvnodeHintsTest, KvctlListsAndTruncatesHints) {
  TestCluster* c = cluster_.get();
  c->node(2).Kill();
  ASSERT_NO_FATAL_FAILURE(WriteKeys({c->node(0).address()}, false, 20));
  ASSERT_TRUE(PollUntil(milliseconds(30'000), [&] { return PendingFor(c, 0, "n3") == 20; }))
      << c->Logs();
  const std::string kvctl = NodeProcess::KvctlPath();
  auto listed = RunCommand({kvctl, "hints", "--host", c->node(0).address()});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("NODE"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("n3"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find(" 20 "), std::string::npos) << listed.out;
  auto truncated = RunCommand(
      {kvctl, "hints", "truncate", "n3", "--host", c->node(0).address(), "--format", "json"});
  ASSERT_EQ(truncated.exit_code, 0) << truncated.err << truncated.out;
  auto json = nlohmann::json::parse(truncated.out);
  ASSERT_EQ(json.size(), 1u) << truncated.out;
  EXPECT_EQ(json[0].at("removed").get<uint64_t>(), 20u);
  EXPECT_EQ(PendingFor(c, 0, "n3"), 0);
  listed = RunCommand({kvctl, "hints", "--host", c->node(0).address()});
  EXPECT_EQ(listed.out, "no pending hints\n");
}

TEST_F(KvnodeHintsTest, AnyWithTheOnlyReplicaDownIsHintedAndDelivered) {
  TestCluster* c = cluster_.get();
  auto client = ClientOf({c->node(0).address()}, false);
  auto created = client->CreateKeyspace("single", 1);
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  std::string key;
  for (int i = 0; i < 1000 && key.empty(); ++i) {
    auto e = client->Endpoints(fmt::format("k{}", i), "single");
    ASSERT_TRUE(e.ok()) << e.error().ToString();
    if (e->size() == 1 && e.value()[0] == "n3") key = fmt::format("k{}", i);
  }
  ASSERT_FALSE(key.empty());
  c->node(2).Kill();
  WriteOptions any, one;
  any.keyspace = one.keyspace = "single";
  any.consistency = Consistency::kAny;
  one.consistency = Consistency::kOne;
  // ONE needs the replica; n1 must notice it is gone first (a write sent to it would end in
  // doubt), and then answers UNAVAILABLE at once.
  ASSERT_TRUE(PollUntil(milliseconds(20'000), [&] {
    auto r = client->Put(key, "one", one);
    return !r.ok() && r.error().code() == ErrorCode::kUnavailable;
  }));
  auto put = client->Put(key, "any", any);
  ASSERT_TRUE(put.ok()) << put.error().ToString() << c->Logs();
  EXPECT_EQ(PendingFor(c, 0, "n3"), 1);

  ASSERT_TRUE(c->node(2).Start().ok()) << c->Logs();
  ASSERT_TRUE(PollUntil(milliseconds(30'000), [&] { return PendingFor(c, 0, "n3") == 0; }))
      << c->Logs();
  c->node(0).Kill();
  c->node(1).Kill();
  auto alone = ClientOf({c->node(2).address()}, false);
  ReadOptions read;
  read.keyspace = "single";
  read.consistency = Consistency::kOne;
  auto got = alone->Get(key, read);
  ASSERT_TRUE(got.ok()) << got.error().ToString() << c->Logs();
  ASSERT_EQ(got->siblings.size(), 1u);
  EXPECT_EQ(got->siblings[0].value, "any");
}

}  // namespace
}  // namespace ringkv::testing
