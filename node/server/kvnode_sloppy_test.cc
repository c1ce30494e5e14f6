// Sloppy quorum on a real four-node cluster (n1..n4, keyspaces with N = 3), through kvctl and the
// client library. Every wait polls a deadline.
//
//   - keyspace "feat" made sloppy with `kvctl keyspace create --sloppy`, "plain" strict; n3 and n4
//     SIGKILLed; for keys whose replicas include both of them, a QUORUM write:
//       * to "plain" is UNAVAILABLE at once (needed 2, alive 1), and so is one to "feat" that asks
//         for --strict;
//       * to "feat" succeeds: the replica still up and a stand-in (the one node past the
//         preference list) acknowledge it, the stand-in holding it as a hint for its owner;
//         `kvctl put --trace` names the stand-in;
//   - n3 and n4 restarted: every hint drains, and n3 alone holds every key, with one sibling.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "node/testing/http_get.h"
#include "node/testing/test_cluster.h"
#include "ringkv/client.h"

namespace ringkv::testing {
namespace {

using std::chrono::milliseconds;

// The sum of a metric's samples named exactly `sample` over the nodes `nodes`; -1 if any node did
// not answer.
double MetricSum(TestCluster* c, const std::vector<size_t>& nodes, const std::string& sample) {
  double sum = 0;
  for (size_t i : nodes) {
    const std::string body = HttpGetBody(c->ExtraPort(i), "/metrics");
    if (body.empty()) return -1;
    std::istringstream in(body);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(sample + " ", 0) == 0) sum += std::stod(line.substr(sample.size() + 1));
    }
  }
  return sum;
}

std::unique_ptr<Client> ClientOf(const std::vector<std::string>& contacts) {
  ClientOptions o;
  o.contact_points = contacts;
  o.token_aware = false;
  o.request_timeout = milliseconds(10'000);
  return std::make_unique<Client>(o);
}

class KvnodeSloppyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir("sloppy");
    TestClusterOptions options;
    options.nodes = 4;
    options.dir = dir_;
    options.extra_args = {"--http", "127.0.0.1:{port}", "--request-timeout-ms", "3000"};
    cluster_ = std::make_unique<TestCluster>(options);
    Status s = cluster_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString() << cluster_->Logs();
  }
  void TearDown() override {
    cluster_.reset();
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }
  CommandResult Kvctl(std::vector<std::string> args) {
    args.insert(args.begin(), NodeProcess::KvctlPath());
    args.insert(args.end(), {"--host", cluster_->node(0).address()});
    return RunCommand(args);
  }
  // Whether node i's failure detector believes every node of `down` down.
  bool BelievesDown(size_t i, const std::vector<std::string>& down) {
    auto ring = ClientOf({cluster_->node(i).address()})->Ring();
    if (!ring.ok()) return false;
    for (const auto& m : ring->members) {
      if (std::find(down.begin(), down.end(), m.name) != down.end() && m.up) return false;
    }
    return true;
  }

  std::string dir_;
  std::unique_ptr<TestCluster> cluster_;
};

TEST_F(KvnodeSloppyTest, TwoOfThreeReplicasDownSloppyWritesAtQuorumWhereStrictIsUnavailable) {
  TestCluster* c = cluster_.get();
  auto made = Kvctl({"keyspace", "create", "feat", "--rf", "3", "--sloppy"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  EXPECT_EQ(made.out, "created keyspace feat (replication factor 3, sloppy quorum)\n");
  auto client = ClientOf({c->node(0).address(), c->node(1).address()});
  ASSERT_TRUE(client->CreateKeyspace("plain", 3).ok());
  auto listed = Kvctl({"keyspace", "list", "--format", "json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  for (const auto& k : nlohmann::json::parse(listed.out).at("keyspaces")) {
    EXPECT_EQ(k.at("quorum"), k.at("name") == "feat" ? "sloppy" : "strict") << listed.out;
  }

  // Keys both of whose replicas n3 and n4 are: QUORUM can count only one replica for them.
  std::vector<std::string> keys;
  for (int i = 0; keys.size() < 200 && i < 10'000; ++i) {
    const std::string key = fmt::format("doc:{}", i);
    auto replicas = client->Endpoints(key, "feat");
    ASSERT_TRUE(replicas.ok()) << replicas.error().ToString();
    auto has = [&](const char* n) {
      return std::find(replicas->begin(), replicas->end(), n) != replicas->end();
    };
    if (has("n3") && has("n4")) keys.push_back(key);
  }
  ASSERT_EQ(keys.size(), 200u);

  c->node(2).Kill();
  c->node(3).Kill();
  ASSERT_TRUE(PollUntil(milliseconds(30'000), [&] {
    return BelievesDown(0, {"n3", "n4"}) && BelievesDown(1, {"n3", "n4"});
  })) << c->Logs();

  WriteOptions quorum;
  quorum.consistency = Consistency::kQuorum;
  quorum.keyspace = "plain";
  auto strict = client->Put(keys[0], "v", quorum);
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.error().code(), ErrorCode::kUnavailable) << strict.error().ToString();
  auto asked_strict = Kvctl({"put", keys[0], "v", "--keyspace", "feat", "--cl", "quorum",
                             "--strict"});
  EXPECT_EQ(asked_strict.exit_code, 4) << asked_strict.out << asked_strict.err;

  quorum.keyspace = "feat";
  for (size_t i = 0; i + 1 < keys.size(); ++i) {
    auto r = client->Put(keys[i], "value of " + keys[i], quorum);
    ASSERT_TRUE(r.ok()) << keys[i] << ": " << r.error().ToString() << c->Logs();
    EXPECT_EQ(r->fallback_acks, 1u) << keys[i];
  }
  // The last through kvctl, the keyspace's default mode, traced.
  auto traced = Kvctl({"put", keys.back(), "value of " + keys.back(), "--keyspace", "feat",
                       "--cl", "quorum", "--trace"});
  ASSERT_EQ(traced.exit_code, 0) << traced.err;
  EXPECT_NE(traced.out.find(" fallbacks=1"), std::string::npos) << traced.out;
  EXPECT_NE(traced.out.find("(fallback for n"), std::string::npos) << traced.out;

  // Back: every hint (for n3 and n4, at the stand-ins and the coordinators) is delivered.
  ASSERT_TRUE(c->node(2).Start().ok()) << c->Logs();
  ASSERT_TRUE(c->node(3).Start().ok()) << c->Logs();
  ASSERT_TRUE(PollUntil(milliseconds(60'000), [&] {
    return MetricSum(c, {0, 1, 2, 3}, "ringkv_hints_pending") == 0;
  })) << MetricSum(c, {0, 1, 2, 3}, "ringkv_hints_pending") << c->Logs();
  EXPECT_GE(MetricSum(c, {0, 1}, "ringkv_hints_delivered_total"), 2.0 * keys.size());

  // n3 alone: its peers are gone, so a ONE read it coordinates is answered by its own replica.
  c->node(0).Kill();
  c->node(1).Kill();
  c->node(3).Kill();
  auto alone = ClientOf({c->node(2).address()});
  ReadOptions one;
  one.consistency = Consistency::kOne;
  one.keyspace = "feat";
  for (const auto& key : keys) {
    auto r = alone->Get(key, one);
    ASSERT_TRUE(r.ok()) << key << ": " << r.error().ToString() << c->Logs();
    ASSERT_EQ(r->siblings.size(), 1u) << key;
    EXPECT_EQ(r->siblings[0].value, "value of " + key);
  }
}

}  // namespace
}  // namespace ringkv::testing
